"""The analysis layer: what the experiments' artifacts say.

- :mod:`~lib.analysis.claims`: E1/E2 summaries and the verdicts on claims C1 and C2.
- :mod:`~lib.analysis.ambiguity`: E2's descriptive tables (per-pair l_leave, correct / collapse /
  switch / blend fractions, mid-trial switches) and the sentences under its figures.
- :mod:`~lib.analysis.packing`: E3's packing capacity, matched comparisons, the verdict on C3
  and the sentences under its figures.
- :mod:`~lib.analysis.anatomy`: the model chapter's parameter budgets and equivalences.
- :mod:`~lib.analysis.calibration`: the training calibration study's tables.
- :mod:`~lib.analysis.stats`: intervals and paired comparisons.
"""
