"""State-space measures of a network's activity (claim C4): PCA, participation ratio, principal
angles, Yang et al.'s task variance, unit clustering, fractional task variance, and how strongly
a context moves the units' input (:func:`context_drive`).

Every function takes plain arrays (or a model and its evaluation batches) and returns arrays, so
each is tested on a case with a known answer (``tests/test_statespace.py``). Shapes: T steps,
B trials, N units, K tasks, D PCs.

Yang et al. (2019, ``analysis/variance.py``, ``clustering.py``):

    TV_i(task) = mean over t >= end of fix1 of  Var_trials r_i(t)      (noise off)
    units kept: sum_task TV_i > 1e-3; each unit's TV normalised by its maximum over tasks;
    k-means (n_init restarts) for k = 2..29, k with the best silhouette score;
    FTV_i(A, B) = (TV_i(A) - TV_i(B)) / (TV_i(A) + TV_i(B))    in [-1, 1].

Yang's test mode holds each task's timing fixed and sweeps a grid of conditions. Here each task's
evaluation batch (one timing per batch, ``eval_trials`` conditions drawn at random, noise off)
plays that role: the same condition space, sampled at random rather than on a grid.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.cluster.vq import kmeans2

from lib.core.checks import check_positive_int
from lib.core.dynamics import freeze
from lib.core.model import ModulatedRNN
from lib.core.seeds import one_hot

ACTIVE_TV = 1e-3
"""Yang's threshold: a unit whose summed task variance is below it is left out of clustering."""
MAX_CLUSTERS = 29
"""Yang's largest k tried (k = 2..29)."""
RING_ON = 0.05
"""A ring input above this counts as a stimulus being on (inputs are 0 or bumps of height >= ~0.3;
``noise=False`` batches have no input noise)."""


def stim_onset(x: torch.Tensor) -> int:
    """First step at which any ring input is on, for x (T, B, n_in) (trials of a batch share their
    timing); 0 if none is. This is the end of Yang's ``fix1`` epoch."""
    on = (x[:, :, 1:].abs() > RING_ON).any(dim=2).any(dim=1).nonzero()
    return int(on[0]) if len(on) else 0


@torch.no_grad()
def task_rates(model: ModulatedRNN, batches) -> list[torch.Tensor]:
    """Noise-free rates (T_k, B, N) of every task k on its own batch with context e_k;
    ``batches[k] = (x, ...)`` as from :func:`lib.core.train.evaluation_batches`."""
    K = len(batches)
    return [
        model(b[0], one_hot(k, K, b[0].shape[1], b[0].device), noise=False)[1]
        for k, b in enumerate(batches)
    ]


@torch.no_grad()
def task_variance(model: ModulatedRNN, batches, rates=None) -> np.ndarray:
    """Yang's task variance (K, N): per unit, the variance of its rate across trials (noise off),
    averaged over time from the end of the first fixation epoch (see the module docstring).
    ``rates``: :func:`task_rates` of ``model`` on ``batches`` if the caller has them already."""
    out = []
    for (x, *_), r in zip(batches, task_rates(model, batches) if rates is None else rates):
        out.append(r[stim_onset(x) :].var(dim=1).mean(dim=0).cpu().numpy())
    return np.array(out)


CONTEXT_DRIVE_SAMPLES = 2048
"""Visited (state, input) samples per task at which :func:`context_drive` is measured."""


@torch.no_grad()
def context_drive(model: ModulatedRNN, batches, seed: int = 0, rates=None) -> np.ndarray:
    """How strongly each task's context moves the units' input, per task (K,).

    At the states r_t and inputs u_t that task k's trials visit (noise off, context e_k), the
    RMS over samples and units of dz = z(r, u; e_k) - z(r, u; c = 0): the change of every unit's
    pre-activation that the context causes. In the units of the current, so it is comparable
    across pathways (a gain, a bias, a change of weights) and between a network at
    initialisation and after training. ``rates``: :func:`task_rates` of ``model`` on
    ``batches`` if the caller has them already."""
    K = len(batches)
    rng = np.random.default_rng(seed)
    eye, zero = torch.eye(K, dtype=torch.float64), torch.zeros(K, dtype=torch.float64)
    out = np.empty(K)
    rates = task_rates(model, batches) if rates is None else rates
    for k, ((x, *_), r) in enumerate(zip(batches, rates)):
        states = r[:-1].reshape(-1, r.shape[-1]).double()  # the state after step t is driven
        inputs = x[1:].reshape(-1, x.shape[-1]).double()  # by the input of step t + 1
        pick = rng.choice(len(states), min(CONTEXT_DRIVE_SAMPLES, len(states)), replace=False)
        dz = freeze(model, inputs[pick], eye[k]).z(states[pick]) - freeze(
            model, inputs[pick], zero
        ).z(states[pick])
        out[k] = float(dz.pow(2).mean().sqrt())
    return out


def pca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of samples X (S, N) from the eigendecomposition of their covariance: (mean (N,),
    components (N, N) as columns, variances (N,) descending). Signs are fixed so each component's
    largest-magnitude entry is positive."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(0)
    Xc = X - mean
    var, comps = np.linalg.eigh(Xc.T @ Xc / max(len(X) - 1, 1))  # (N, N): cheap for S >> N
    var, comps = np.clip(var[::-1], 0.0, None), comps[:, ::-1]
    signs = np.sign(comps[np.abs(comps).argmax(0), np.arange(comps.shape[1])])
    return mean, comps * np.where(signs == 0, 1.0, signs), var


def participation_ratio(X: np.ndarray) -> float:
    """PR = (sum lambda)^2 / sum lambda^2 of the covariance eigenvalues of samples X (S, N):
    1 for activity on a line, N for isotropic activity; 0 for no variance at all."""
    var = pca(X)[2]
    total = (var**2).sum()
    return float(var.sum() ** 2 / total) if total > 0 else 0.0


def n_components(var: np.ndarray, fraction: float = 0.9) -> int:
    """Fewest leading PCs whose variances (descending) explain ``fraction`` of the total."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction={fraction!r} is not allowed; expected 0 < fraction <= 1")
    cum = np.cumsum(var) / max(var.sum(), 1e-300)
    return min(int(np.searchsorted(cum, fraction - 1e-12)) + 1, len(var))


def principal_angles(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Principal angles (radians, ascending) between span(A) and span(B), A (N, p), B (N, q):
    arccos of the singular values of Qa^T Qb (Björck & Golub 1973); min(p, q) angles."""
    qa, _ = np.linalg.qr(np.asarray(A, dtype=np.float64))
    qb, _ = np.linalg.qr(np.asarray(B, dtype=np.float64))
    s = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.sort(np.arccos(np.clip(s, -1.0, 1.0)))


def normalised_tv(tv: np.ndarray, threshold: float = ACTIVE_TV) -> tuple[np.ndarray, np.ndarray]:
    """Yang's unit selection and normalisation of a task-variance matrix tv (K, N): the indices of
    the active units (summed TV > threshold) and their profiles (n_active, K), each divided by
    its maximum over tasks."""
    tv = np.asarray(tv, dtype=np.float64)
    active = np.flatnonzero(tv.sum(0) > threshold)
    prof = tv[:, active].T
    return active, prof / prof.max(1, keepdims=True)


def silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette score (Rousseeuw 1987) of a clustering of samples X (S, d), Euclidean:
    s_i = (b_i - a_i) / max(a_i, b_i), a_i the mean distance to its own cluster, b_i the smallest
    mean distance to another cluster; s_i = 0 for a sample alone in its cluster. Needs at least
    two clusters."""
    labels = np.asarray(labels)
    ids = np.unique(labels)
    if len(ids) < 2:
        raise ValueError("silhouette: needs at least 2 clusters")
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    member = labels[:, None] == ids[None, :]  # (S, C)
    sums = D @ member  # (S, C) distance sums
    sizes = member.sum(0)
    own = member.argmax(1)
    own_size = sizes[own]
    a = sums[np.arange(len(X)), own] / np.maximum(own_size - 1, 1)
    other = np.where(member, np.inf, sums / sizes[None, :])
    b = other.min(1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


def kmeans(X: np.ndarray, k: int, n_init: int = 20, seed: int = 0) -> tuple[np.ndarray, float]:
    """Best of ``n_init`` k-means++ runs (scipy ``kmeans2``) by inertia: (labels (S,), inertia).
    Seeded: the same X, k and seed give the same labels."""
    check_positive_int("k", k)
    check_positive_int("n_init", n_init)
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(seed)
    best: np.ndarray | None = None
    best_inertia = np.inf
    for _ in range(n_init):
        centres, labels = kmeans2(X, k, minit="++", seed=rng)
        inertia = float(((X - centres[labels]) ** 2).sum())
        if inertia < best_inertia - 1e-12:
            best, best_inertia = labels, inertia
    if best is None:  # every run's inertia was nan
        raise ValueError("kmeans: X has non-finite values")
    return best, best_inertia


def cluster_units(
    tv: np.ndarray, max_k: int = MAX_CLUSTERS, n_init: int = 20, seed: int = 0
) -> dict:
    """Yang's clustering of units by their normalised task-variance profiles (see the module
    docstring): k in 2..min(max_k, n_active - 1) chosen by the best silhouette.

    Returns ``active`` (unit indices), ``profiles`` (n_active, K), ``labels`` (n_active,),
    ``k``, ``silhouettes`` {k: score}; ``k`` = 1 and labels all 0 when fewer than 3 units are
    active (no k >= 2 can be scored)."""
    active, prof = normalised_tv(tv)
    ks = range(2, min(max_k, len(active) - 1) + 1)
    scores, fits = {}, {}
    for k in ks:
        labels, _ = kmeans(prof, k, n_init, seed)
        if len(np.unique(labels)) < 2:
            continue
        scores[k], fits[k] = silhouette(prof, labels), labels
    if not scores:
        return {
            "active": active,
            "profiles": prof,
            "labels": np.zeros(len(active), int),
            "k": 1,
            "silhouettes": {},
        }
    k = max(scores, key=lambda q: (scores[q], -q))
    return {"active": active, "profiles": prof, "labels": fits[k], "k": k, "silhouettes": scores}


def fractional_task_variance(
    tv: np.ndarray, a: int, b: int, threshold: float = ACTIVE_TV
) -> np.ndarray:
    """FTV of every unit active on tasks a or b: (TV_a - TV_b) / (TV_a + TV_b) in [-1, 1];
    units with TV_a + TV_b <= threshold are left out (their ratio is noise)."""
    tv = np.asarray(tv, dtype=np.float64)
    s = tv[a] + tv[b]
    keep = s > threshold
    return (tv[a, keep] - tv[b, keep]) / s[keep]


__all__ = [
    "ACTIVE_TV",
    "MAX_CLUSTERS",
    "CONTEXT_DRIVE_SAMPLES",
    "stim_onset",
    "task_rates",
    "task_variance",
    "context_drive",
    "pca",
    "participation_ratio",
    "n_components",
    "principal_angles",
    "normalised_tv",
    "silhouette",
    "kmeans",
    "cluster_units",
    "fractional_task_variance",
]
