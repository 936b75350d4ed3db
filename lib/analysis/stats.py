"""Statistics over seeds: means with t intervals, and paired differences.

Every comparison in the book is across independently seeded networks (the unit of replication),
so intervals are Student-t intervals over seeds: ``mean +/- t_{0.975, n-1} * sd / sqrt(n)``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    """Two-sided 95% Student-t quantile for ``df`` degrees of freedom (normal beyond 30)."""
    if df < 1:
        return math.nan
    return _T975[df - 1] if df <= len(_T975) else 1.960


def mean_ci(values, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and 95% half-width over ``axis``, ignoring nans (half-width nan for n < 2)."""
    v = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    n = np.sum(~np.isnan(v), axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan slices give nan, as intended
        mean = np.nanmean(v, axis=0)
        sd = np.nanstd(v, axis=0, ddof=1)
        tq = np.reshape([t975(int(k) - 1) for k in np.ravel(n)], np.shape(n))
        return mean, tq * sd / np.sqrt(n)


def difference(a, b) -> dict[str, float]:
    """Mean difference a - b over seeds with its 95% interval (Welch-style, unpaired)."""
    a = np.asarray(a, float)[~np.isnan(np.asarray(a, float))]
    b = np.asarray(b, float)[~np.isnan(np.asarray(b, float))]
    if len(a) < 2 or len(b) < 2:
        return {"diff": float(np.mean(a) - np.mean(b)) if len(a) and len(b) else math.nan,
                "lo": math.nan, "hi": math.nan, "n_a": len(a), "n_b": len(b)}
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else 1
    d = float(a.mean() - b.mean())
    half = t975(max(1, int(df))) * se
    return {"diff": d, "lo": d - half, "hi": d + half, "n_a": len(a), "n_b": len(b)}
