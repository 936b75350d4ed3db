"""Public entry point of the dynamics tools: ``lib.dynamics.fixed_points(model, u, c, ...)`` and
friends, re-exported from the layered modules that implement them (:mod:`lib.core.dynamics`:
fixed points, Jacobians, continuation along context mixtures, operating points, flow change;
:mod:`lib.core.statespace`: PCA, participation ratio, principal angles, task variance, unit
clustering, fractional task variance). It imports from ``lib.core`` only, so it sits in the core
layer.

    >>> from lib.dynamics import fixed_points
    >>> fps = fixed_points(model, u, c, n_init=128, seed=0)   # u (n_in,), c (K,)
    >>> fps.points, fps.speeds, fps.eigenvalues, fps.stable     # (P, N), (P,), (P, N), (P,)
"""

from __future__ import annotations

from lib.core.dynamics import (
    Continuation,
    FixedPoints,
    Frozen,
    continuation,
    fixed_points,
    flow_change,
    freeze,
    operating_point,
)
from lib.core.statespace import (
    cluster_units,
    fractional_task_variance,
    participation_ratio,
    pca,
    principal_angles,
    task_variance,
)

__all__ = [
    "Continuation",
    "FixedPoints",
    "Frozen",
    "continuation",
    "fixed_points",
    "flow_change",
    "freeze",
    "operating_point",
    "cluster_units",
    "fractional_task_variance",
    "participation_ratio",
    "pca",
    "principal_angles",
    "task_variance",
]
