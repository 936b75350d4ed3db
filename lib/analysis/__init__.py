"""The analysis layer: what the experiments' artifacts say.

- :mod:`~lib.analysis.verdicts`: the verdict engine (exact paired tests, TOST, Holm per rule
  family, power, specification checks) and the registry of every verdict rule.
- :mod:`~lib.analysis.common`: the criterion, alpha, pathway families, matched pairs and per-seed
  readers every claim shares.
- :mod:`~lib.analysis.battery`: E1's summaries, ablations, lesions and the verdict on C1.
- :mod:`~lib.analysis.ambiguity`: E2's robustness summaries, controls, arms, the verdict on C2, and
  its descriptive tables (per-pair l_leave, correct / collapse /
  switch / blend fractions, mid-trial switches) and the sentences under its figures.
- :mod:`~lib.analysis.packing`: E3's packing capacity, matched comparisons, the verdict on C3
  and the sentences under its figures.
- :mod:`~lib.analysis.anatomy`: the model chapter's parameter budgets and equivalences.
- :mod:`~lib.analysis.calibration`: the training calibration study's tables.
- :mod:`~lib.analysis.stats`: intervals and paired comparisons.
"""
