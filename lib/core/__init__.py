"""The core layer: the task battery, the network, its loss and metric, and training.

Nothing here imports from any other part of ``lib``; everything else builds on it:

    core  <-  artifacts (storage)  <-  experiments  <-  analysis  <-  plots  <-  chapters

- :mod:`~lib.core.tasks`: Yang et al.'s 20 tasks, sampled and rendered (and the task registry).
- :mod:`~lib.core.model`: the context-modulated leaky RNN and its context pathways.
- :mod:`~lib.core.metrics`: Yang's loss and performance.
- :mod:`~lib.core.train`: Yang's training protocol (with named options) and evaluation.
- :mod:`~lib.core.filters`: the time-scale filters of a pathway's modulation (E5's instant, fast
  and slow modes) and the cue histories of training under a filter.
- :mod:`~lib.core.seeds`: named random streams; :mod:`~lib.core.io`: atomic writes;
  :mod:`~lib.core.checks`: argument validation; :mod:`~lib.core.params`: chapter parameters and
  profiles; :mod:`~lib.core.behaviour`: behaviour versions; :mod:`~lib.core.reference`: Yang's
  reference trials and the tasks' condition tables.
"""
