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
- :mod:`~lib.analysis.factorial`: the site x operation factorial of the four single-pathway
  cells (where modulation acts vs how), for any measure.
- :mod:`~lib.analysis.tuning`: the fair-tuning grid read out, and the protocol its rule chooses.
- :mod:`~lib.analysis.clustering`: Yang et al.'s unit clusters (E4 at the scale of the battery).
- :mod:`~lib.analysis.full_battery`: the full battery (E1, E2, E3, E4 on 20 tasks at N = 128)
  and its verdicts at scale.
- :mod:`~lib.analysis.stats`: intervals and paired comparisons.
"""
