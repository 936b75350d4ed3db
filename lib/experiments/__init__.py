"""Experiments: each module defines one experiment's specs and runs it, producing artifacts.

- :mod:`~lib.experiments.runner`: the process pool (written once) and trained networks as artifacts.
- :mod:`~lib.experiments.sweep`: a grid of jobs (one artifact each) on a process pool or Ray,
  one table back.
- :mod:`~lib.experiments.battery`: E1, every context pathway trained on a task set.
- :mod:`~lib.experiments.ambiguity`: E2, probes of the E1 networks with corrupted contexts.
- :mod:`~lib.experiments.packing`: E3, how many tasks each pathway packs into N units (joint
  training, frozen random backbone), a grid run as a sweep.
- :mod:`~lib.experiments.lesions`: E1's lesion maps and the hybrid's pathway ablations, per
  network.
- :mod:`~lib.experiments.dynamics`: E4, state space, task variance and fixed points of the E1
  networks.
- :mod:`~lib.experiments.timescales`: E5, modulation as a dynamical variable: switch costs and
  brief context errors of E1's networks when each pathway follows the cue with its own time
  constant.
- :mod:`~lib.experiments.learning`: E5, two learning speeds: a new task learned by a hybrid
  through its excitability rows, its synaptic rows, both, or every parameter.
- :mod:`~lib.experiments.calibration`: the training calibration study (appendix).
- :mod:`~lib.experiments.full_battery`: the ``full`` profile, E1 and E3 on Yang's 20 tasks at
  N = 128 (the full-battery chapter), with E4's clustering and E2's conflict-pair probes.
- :mod:`~lib.experiments.clustering`: Yang et al.'s task-variance clustering of units, per
  network.
- :mod:`~lib.experiments.tuning`: the fair-tuning grid (learning rate x modulation scale per
  pathway, on tuning seeds disjoint from the test seeds).
- :mod:`~lib.experiments.manifest`: every experiment's spec per profile, in one place (the CLI,
  the summary and the provenance page read it).
- :mod:`~lib.experiments.explorer`: E6, the live explorer's parameters (its views are computed
  on demand by :mod:`lib.analysis.explorer`, not stored).

``python -m lib.experiments`` rebuilds the artifacts the book ships. :func:`chapter_params` is
the registry of every chapter's parameters (imports point one way: core <- experiments).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from lib.core.checks import fail
from lib.core.params import MODEL_PARAMS, TASKS_PARAMS, Param, resolve
from lib.experiments.ambiguity import PROBE_PARAMS
from lib.experiments.battery import BATTERY_PARAMS
from lib.experiments.calibration import CALIBRATION_PARAMS
from lib.experiments.dynamics import DYNAMICS_PARAMS
from lib.experiments.explorer import EXPLORER_PARAMS
from lib.experiments.full_battery import FULL_PARAMS
from lib.experiments.learning import LEARNING_PARAMS
from lib.experiments.packing import PACKING_PARAMS
from lib.experiments.timescales import TIMESCALES_PARAMS

CHAPTER_SCHEMAS: dict[str, dict[str, Param]] = {
    "tasks": TASKS_PARAMS,
    "model": MODEL_PARAMS,
    "battery": BATTERY_PARAMS,
    "ambiguity": BATTERY_PARAMS | PROBE_PARAMS,
    "calibration": CALIBRATION_PARAMS,
    "dynamics": BATTERY_PARAMS | PROBE_PARAMS | DYNAMICS_PARAMS,
    "explorer": BATTERY_PARAMS | EXPLORER_PARAMS,
    "packing": PACKING_PARAMS,
    "timescales": BATTERY_PARAMS | TIMESCALES_PARAMS | LEARNING_PARAMS,
    "full_battery": FULL_PARAMS,
}
"""Chapter -> its parameter schema (``lib.core.params.Param`` per parameter)."""


def chapter_params(name: str, profile: str | None = None, **values: Any) -> SimpleNamespace:
    """Validated parameters of a book chapter (a key of :data:`CHAPTER_SCHEMAS`)."""
    if name not in CHAPTER_SCHEMAS:
        fail("chapter", name, "one of " + ", ".join(map(repr, CHAPTER_SCHEMAS)))
    return resolve(CHAPTER_SCHEMAS[name], profile, **values)


__all__ = ["CHAPTER_SCHEMAS", "chapter_params"]
