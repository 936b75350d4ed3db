"""What every claim's analysis shares: the criterion, the pathway families and matched pairs
fixed before looking, and per-seed readers of E1's networks.

Inputs are the E1 networks ``nets[(label, seed)] -> lib.core.train.TrainResult``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CRITERION = 0.9
"""A task is at criterion when its performance is at least this (Yang et al.'s)."""

ALPHA = 0.05
"""Significance level of every verdict (after Holm within the rule's family)."""

EXC_FAMILY = ("exc_bias", "exc_gain", "exc")
SYN_FAMILY = ("syn_prepost", "syn_lowrank_r1", "syn_lowrank_r2", "syn_mask")
MATCHED = (("exc", "syn_lowrank_r1"), ("exc", "syn_prepost"), ("hybrid", "syn_lowrank_r2"))
"""Pairs at equal per-task budgets: 2N vs 2N (additive low rank and multiplicative rank-1) and
4N vs 4N."""

FAMILIES: dict[str, tuple[str, ...]] = {"excitability": EXC_FAMILY, "synaptic": SYN_FAMILY}
"""The two pathway families (C1 judges each)."""


def seeds_of(nets: dict, label: str) -> list[int]:
    return sorted(s for (lab, s) in nets if lab == label)


def final_perf(nets: dict, label: str) -> np.ndarray:
    """Final performance (S, K) of a label's networks."""
    return np.array([nets[label, s].history.perf_array()[-1] for s in seeds_of(nets, label)])


def budget(nets: dict, label: str) -> int:
    """Per-task modulation parameters of a label's networks."""
    return nets[label, seeds_of(nets, label)[0]].model.params_per_task()


def mean_perf_by_seed(nets: dict, label: str) -> dict[int, float]:
    """Seed -> mean final performance over tasks."""
    return {s: float(nets[label, s].history.perf_array()[-1].mean()) for s in seeds_of(nets, label)}


def perf_table(nets: dict, label: str, criterion: float | None = None) -> pd.DataFrame:
    """A label's final performance as a seed x task table (the verdict engine's input); with
    ``criterion``, 1.0 where the task is at criterion and 0.0 where not."""
    seeds = seeds_of(nets, label)
    tasks = list(nets[label, seeds[0]].config.tasks) if seeds else []
    fp = final_perf(nets, label) if seeds else np.zeros((0, 0))
    if criterion is not None:
        fp = (fp >= criterion).astype(float)
    return pd.DataFrame(fp, index=seeds, columns=tasks)


__all__ = [
    "ALPHA",
    "CRITERION",
    "EXC_FAMILY",
    "SYN_FAMILY",
    "MATCHED",
    "FAMILIES",
    "seeds_of",
    "final_perf",
    "budget",
    "mean_perf_by_seed",
    "perf_table",
]
