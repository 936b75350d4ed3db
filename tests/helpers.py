"""Plain helpers shared by test modules (importable at collection time, unlike fixtures)."""

from __future__ import annotations

from lib.core.train import TrainConfig, train

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


def early_stopping_config(base: TrainConfig) -> TrainConfig:
    """``base`` with a criterion its seed first reaches at an evaluation after step 0 and before
    its budget (read off a run of ``base`` that never stops), so that its run stops there."""
    never = train(base.replace(criterion=1.0), progress=False)
    worst = [min(p) for p in never.history.perf]
    for i in range(1, len(worst) - 1):
        if worst[i] > max(worst[:i]):
            return never.config.replace(criterion=worst[i])
    raise AssertionError(f"no evaluation after step 0 beats the earlier ones: {worst}")
