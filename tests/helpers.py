"""Plain helpers shared by test modules (importable at collection time, unlike fixtures)."""

from __future__ import annotations

from lib.core.train import TrainConfig

TINY_RUN = {
    "n_rec": 8,
    "seed": 0,
    "max_steps": 4,
    "batch_size": 8,
    "eval_every": 2,
    "eval_trials": 8,
}
"""A training run that takes well under a second: N = 8, 4 steps of 8 trials."""


def tiny_config(
    mechanism: str = "exc", tasks: tuple[str, ...] = ("fdgo", "fdanti"), **changes
) -> TrainConfig:
    """A :class:`TrainConfig` of :data:`TINY_RUN` with ``changes`` applied."""
    return TrainConfig(mechanism=mechanism, tasks=tasks, **(TINY_RUN | changes))
