"""E4 at the scale of the whole battery: Yang et al.'s (2019) task-variance clustering of units,
computed once per trained network and cached as a ``clustering`` artifact
(:class:`lib.experiments.runner.NetworkResult`).

For every network, on its fixed evaluation trials with noise off (``lib.core.statespace``, which
follows Yang's ``variance.py`` and ``clustering.py``):

    TV(k, i) = mean over t >= t_k of  Var_trials r_i(t)          (K, N)

with t_k the end of task k's first fixation epoch (the stimulus onset): the stimulus, delay and
response epochs together, as Yang's rule-wise variance does (``h[trial.epochs['fix1'][1]:]``),
over the ``eval_trials`` conditions of the task's evaluation batch. Units whose summed TV is at
most :data:`lib.core.statespace.ACTIVE_TV` (Yang's 1e-3) are left out; each remaining unit's TV
is divided by its maximum over tasks, and the units are clustered by k-means (best of ``n_init``
k-means++ runs) for every k in 2..``max_k`` (Yang: ``range(2, 30)``, ``n_init=20``), the k with
the best mean silhouette kept.

Clusters are then ordered as Yang orders them (consistent across networks): by their preferred
task, the task with the largest summed normalised TV over the cluster's units (ties: larger
cluster first), and the units by cluster (:func:`order_clusters`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from lib.core import statespace
from lib.core.checks import check_positive_int, fail
from lib.core.train import TrainConfig, TrainResult, evaluation_batches
from lib.core.types import Networks
from lib.experiments import plan
from lib.experiments.runner import NetworkResult

CRITERION = 0.9
"""Yang's criterion: a task is learned when its final performance reaches it."""
N_INIT = 20
"""Yang's k-means restarts per k."""
CLUSTER_SECONDS_N128_K20 = 1.0
"""Measured single-core seconds of the clustering itself (k = 2..29, 20 restarts each) of the
~125 active units of an N = 128 network on 20 tasks; it grows about as N^2 (silhouettes)."""


@dataclass(frozen=True)
class ClusteringSpec:
    """What :func:`analyse_network` computes: the largest k tried and the k-means restarts per
    k (Yang's: 29 and 20)."""

    max_k: int = statespace.MAX_CLUSTERS
    n_init: int = N_INIT

    def __post_init__(self):
        check_positive_int("n_init", self.n_init)
        if isinstance(self.max_k, bool) or not isinstance(self.max_k, int) or self.max_k < 2:
            fail("max_k", self.max_k, "a whole number of clusters >= 2")


def order_clusters(profiles: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Yang's ordering of a clustering of ``profiles`` (n_units, K) with ``labels`` (n_units,):
    clusters renumbered 0..k-1 by their preferred task (argmax over tasks of the summed profile of
    the cluster's units; ties: larger cluster first, then old label), and the unit order (n_units,)
    that sorts units by new label (stable). Returns (new labels (n_units,), order (n_units,))."""
    profiles, labels = np.asarray(profiles, float), np.asarray(labels)
    if profiles.ndim != 2 or labels.shape != (len(profiles),):
        fail(
            "labels",
            getattr(labels, "shape", labels),
            f"one label per row of profiles {profiles.shape}",
        )
    ids = np.unique(labels)
    prefs = [int(np.argmax(profiles[labels == c].sum(0))) for c in ids]
    sizes = [int((labels == c).sum()) for c in ids]
    rank = sorted(range(len(ids)), key=lambda q: (prefs[q], -sizes[q], ids[q]))
    new = np.empty_like(labels)
    for r, q in enumerate(rank):
        new[labels == ids[q]] = r
    return new, np.argsort(new, kind="stable")


METHODS = ("kmeans", "ward")
"""How :func:`cluster_tv` clusters: Yang's k-means (the artifacts'), or Ward's agglomerative
clustering (scipy), the specification check's alternative."""


def ward_units(tv: np.ndarray, max_k: int = statespace.MAX_CLUSTERS) -> dict:
    """:func:`lib.core.statespace.cluster_units` with Ward's agglomerative clustering in place of
    k-means (one linkage of the normalised profiles, cut at k clusters for k = 2..max_k; the k
    with the best silhouette). Deterministic. Same keys as ``cluster_units``."""
    active, prof = statespace.normalised_tv(tv)
    scores, fits = {}, {}
    if len(active) >= 3:
        tree = linkage(prof, method="ward")
        for k in range(2, min(max_k, len(active) - 1) + 1):
            labels = fcluster(tree, k, criterion="maxclust") - 1
            if len(np.unique(labels)) < 2:
                continue
            scores[k], fits[k] = statespace.silhouette(prof, labels), labels
    if not scores:
        labels, k = np.zeros(len(active), int), 1
    else:
        k = max(scores, key=lambda q: (scores[q], -q))
        labels = fits[k]
    return {"active": active, "profiles": prof, "labels": labels, "k": k, "silhouettes": scores}


def cluster_tv(tv: np.ndarray, spec: ClusteringSpec, seed: int, method: str = "kmeans") -> dict:
    """Yang's clustering of a task-variance matrix ``tv`` (K, N) (see the module docstring),
    ordered by :func:`order_clusters`; ``method`` "ward" clusters by :func:`ward_units` instead
    (``spec.n_init`` and ``seed`` then unused).

    Returns ``active`` (indices of the active units, (n_active,)), ``profiles`` (n_active, K:
    TV / the unit's max over tasks), ``labels`` (n_active,: 0..k-1 in Yang's order), ``order``
    (n_active,: positions in ``active`` sorted by cluster), ``k``, ``silhouette`` (the best mean
    silhouette; nan when k = 1), ``silhouettes`` {k: score}, ``sizes`` (k,: units per cluster),
    ``preferred`` (k,: each cluster's preferred task index) and ``fraction_active``
    (n_active / N)."""
    tv = np.asarray(tv, float)
    if tv.ndim != 2 or not np.isfinite(tv).all() or (tv < 0).any():
        fail("tv", getattr(tv, "shape", tv), "a finite, non-negative (K tasks, N units) array")
    if method not in METHODS:
        fail("method", method, " or ".join(map(repr, METHODS)))
    cl = (
        statespace.cluster_units(tv, max_k=spec.max_k, n_init=spec.n_init, seed=seed)
        if method == "kmeans"
        else ward_units(tv, spec.max_k)
    )
    labels, order = order_clusters(cl["profiles"], cl["labels"])
    k = int(cl["k"])
    prof = cl["profiles"]
    return {
        "active": np.asarray(cl["active"]),
        "profiles": prof,
        "labels": labels,
        "order": order,
        "k": k,
        "silhouette": float(cl["silhouettes"][k]) if k in cl["silhouettes"] else float("nan"),
        "silhouettes": {int(q): float(s) for q, s in cl["silhouettes"].items()},
        "sizes": np.bincount(labels, minlength=k) if len(labels) else np.zeros(0, int),
        "preferred": np.array(
            [int(np.argmax(prof[labels == c].sum(0))) for c in range(k)] if len(labels) else [],
            int,
        ),
        "fraction_active": len(cl["active"]) / tv.shape[1],
    }


def analyse_network(result: TrainResult, spec: ClusteringSpec) -> dict:
    """Yang's task variance and unit clustering of one network: ``tasks``, ``spec`` (``spec``
    as a dict), ``mechanism``,
    ``seed``, ``final_perf`` (K,), ``learned`` (K,: final_perf >= :data:`CRITERION`),
    ``task_variance`` (K, N; rates are dimensionless firing rates, TV their squared units), and
    every entry of :func:`cluster_tv` (k-means seeded by the network's seed)."""
    cfg = result.config
    tv = statespace.task_variance(result.model.eval(), evaluation_batches(cfg))
    final = np.asarray(result.history.perf_array()[-1], float)
    return {
        "tasks": list(cfg.tasks),
        "spec": asdict(spec),
        "mechanism": cfg.mechanism,
        "seed": cfg.seed,
        "final_perf": final,
        "learned": final >= CRITERION,
        "task_variance": tv,
        **cluster_tv(tv, spec, cfg.seed),
    }


CLUSTERING = NetworkResult("clustering", "clustering", f"{__name__}.analyse_network")
"""E4's task-variance clustering as per-network artifacts."""
clustering_key = CLUSTERING.key
clustering_artifact = CLUSTERING.artifact


def clustering_seconds(net_config: TrainConfig, spec: ClusteringSpec) -> float:
    """Estimated single-core seconds of :func:`analyse_network` on a network of ``net_config``:
    one noise-free evaluation pass over every task (the rates), building the trials, and the
    clustering (:data:`CLUSTER_SECONDS_N128_K20`, scaled by N^2, the k range and restarts)."""
    c = plan.measure_cost(net_config)
    scale = (net_config.n_rec / 128) ** 2 * (spec.max_k - 1) / 28 * spec.n_init / N_INIT
    return c.eval_s + c.setup_s + CLUSTER_SECONDS_N128_K20 * scale


def clustering_part(
    nets: dict,
    spec: ClusteringSpec,
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "E4 task-variance clustering",
) -> plan.Part:
    """The plan part of the clustering of ``nets`` {key: TrainResult or TrainConfig}."""
    return CLUSTERING.part(
        nets,
        spec,
        clustering_seconds,
        f"k = 2..{spec.max_k} by silhouette, {spec.n_init} k-means restarts per k",
        label,
        workers,
        force,
        todo,
    )


def run_clustering(
    nets: Networks,
    spec: ClusteringSpec = ClusteringSpec(),
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """The clustering of the given networks {(label, seed): TrainResult}: {(label, seed):
    :func:`analyse_network`'s dict}, cached as artifacts. When anything must be computed its
    plan is printed first; a plan longer than :data:`lib.experiments.plan.LONG_RUN_S` stops
    before any work unless ``allow_long``."""
    if not isinstance(spec, ClusteringSpec):
        fail("spec", spec, "a lib.experiments.clustering.ClusteringSpec")
    return CLUSTERING.run(
        nets,
        spec,
        lambda todo: clustering_part(nets, spec, workers, todo=todo),
        workers,
        force,
        progress,
        allow_long,
        desc="clustering units",
    )


__all__ = [
    "CRITERION",
    "N_INIT",
    "ClusteringSpec",
    "METHODS",
    "ward_units",
    "order_clusters",
    "cluster_tv",
    "analyse_network",
    "clustering_key",
    "clustering_artifact",
    "clustering_seconds",
    "clustering_part",
    "run_clustering",
]
