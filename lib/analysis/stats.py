"""Statistics over seeds: means with t intervals, paired differences, and Holm's correction.

Every comparison in the book is across independently seeded networks (the unit of replication),
so intervals are Student-t intervals over seeds: ``mean +/- t_{0.975, n-1} * sd / sqrt(n)``.
Networks of the same seed share their initial shared weights and training trials across
variants, so variants are compared *paired*: per-seed differences d_s = a_s - b_s, their mean,
its t interval, a two-sided one-sample t test, and the standardised effect d_z = mean / sd. A
family of comparisons chosen in advance is corrected with Holm's step-down procedure.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats as _scipy_stats

_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


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


def paired(a: dict, b: dict, exact: bool = False) -> dict[str, float]:
    """Paired comparison of two variants over the seeds both have.

    ``a``, ``b``: seed -> value (nan values are dropped with their pair). Returns the mean
    difference a - b with its 95% t interval (``lo``, ``hi``), the two-sided p value of a
    one-sample t test on the differences, the effect size ``dz`` (mean / sd of the
    differences) and ``n`` (pairs). With fewer than two pairs the interval, p and dz are nan.
    ``exact``: also ``p_exact``, the exact sign-flip p of the same differences
    (:func:`sign_flip_p`), for discrete measures where the t test's assumptions fail. With zero
    spread (every difference equal) the t test has no p: ``p`` is then the exact sign-flip p.
    """
    seeds = sorted(s for s in set(a) & set(b) if np.isfinite(a[s]) and np.isfinite(b[s]))
    d = np.array([a[s] - b[s] for s in seeds], float)
    n = len(d)
    extra = {"p_exact": sign_flip_p(d)} if exact else {}
    if n < 2:
        mean = float(d.mean()) if n else math.nan
        return {
            "diff": mean,
            "lo": math.nan,
            "hi": math.nan,
            "p": math.nan,
            "dz": math.nan,
            "n": n,
            **extra,
        }
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    half = t975(n - 1) * sd / math.sqrt(n)
    if sd == 0:  # the t test is undefined: the exact sign-flip p instead (never 0)
        p = sign_flip_p(d)
        dz = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        t = mean / (sd / math.sqrt(n))
        p = float(2 * _scipy_stats.t.sf(abs(t), n - 1))
        dz = mean / sd
    return {"diff": mean, "lo": mean - half, "hi": mean + half, "p": p, "dz": dz, "n": n, **extra}


MAX_EXACT_N = 16
"""Largest number of pairs :func:`sign_flip_p` enumerates exactly (2^16 sign patterns); beyond
it the p is estimated from :data:`MONTE_CARLO_PATTERNS` random sign patterns."""

MONTE_CARLO_PATTERNS = 100_000
"""Random sign patterns drawn beyond :data:`MAX_EXACT_N` (seeded: the p is reproducible)."""

MONTE_CARLO_SEED = 20240801
"""Seed of the Monte Carlo sign patterns."""

ALTERNATIVES = ("two-sided", "greater", "less")
_TOLERANCE = 1e-12  # float rounding: a pattern whose mean equals the observed one counts


def sign_flip_p(diffs, alternative: str = "two-sided") -> float:
    """p of the paired sign-flip (randomisation) test of "the differences are symmetric about 0".

    Under that null each of the 2^n assignments of signs to the n finite differences d_i is
    equally likely; with m(s) = (1/n) sum_i s_i |d_i| the mean of sign pattern s,
    ``two-sided``: p = #{s : |m(s)| >= |mean(d)|} / 2^n; ``greater``: #{s : m(s) >= mean(d)} /
    2^n; ``less``: #{s : m(s) <= mean(d)} / 2^n (the observed pattern is one of them, so p > 0).
    Exact for n <= :data:`MAX_EXACT_N`; beyond, (1 + hits) / (1 + draws) over
    :data:`MONTE_CARLO_PATTERNS` seeded random patterns. It needs no normality, stays valid for
    discrete measures and for zero variance; its smallest value is :func:`min_p` (two-sided
    2 / 2^n: 0.25 for 3 pairs). All-zero differences give 1 (two-sided); nan with no pair.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative: got {alternative!r}; allowed: {', '.join(ALTERNATIVES)}")
    d = np.asarray([x for x in np.ravel(np.asarray(diffs, float)) if np.isfinite(x)], float)
    n = len(d)
    if n == 0:
        return math.nan
    if n <= MAX_EXACT_N:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # (2^n, n) of +-1
    else:
        rng = np.random.default_rng(MONTE_CARLO_SEED)
        signs = rng.choice(np.array([-1, 1]), size=(MONTE_CARLO_PATTERNS, n))
    means = signs @ np.abs(d) / n
    observed = d.mean()
    if alternative == "two-sided":
        hits = np.abs(means) >= abs(observed) - _TOLERANCE
    elif alternative == "greater":
        hits = means >= observed - _TOLERANCE
    else:
        hits = means <= observed + _TOLERANCE
    if n <= MAX_EXACT_N:
        return float(np.mean(hits))
    return float((1 + hits.sum()) / (1 + len(hits)))


def min_p(n: int, alternative: str = "two-sided") -> float:
    """Smallest p the sign-flip test can give with n pairs: 2 / 2^n two-sided (1 when n = 0),
    1 / 2^n one-sided. n = 3: 0.25; n = 6: 0.03125."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative: got {alternative!r}; allowed: {', '.join(ALTERNATIVES)}")
    if int(n) != n or n < 0:
        raise ValueError(f"n: got {n!r}; allowed: an integer >= 0 (number of pairs)")
    return min(1.0, (2.0 if alternative == "two-sided" else 1.0) / 2 ** int(n))


def fmt(m: float, h: float, n: int | None = None, digits: int = 2) -> str:
    """``m ± h`` (``±``: 95% t interval over n seeds), ``m`` alone for one seed, ``–`` for none."""
    if not np.isfinite(m):
        return "–"
    s = f"{m:.{digits}f} ± {h:.{digits}f}" if np.isfinite(h) else f"{m:.{digits}f}"
    return s if n is None else f"{s} (n={n})"


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p values (same order as given; nan stays nan and does not
    count as a comparison). Reject at level alpha where the adjusted p is below alpha."""
    p = np.asarray(pvalues, float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = len(idx)
    running = 0.0
    for rank, i in enumerate(idx[np.argsort(p[idx], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
