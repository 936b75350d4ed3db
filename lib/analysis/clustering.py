"""E4 at the scale of the whole battery: what Yang et al.'s (2019) task-variance clustering of units
says per pathway, and whether the clusters differ between two pathways (through the verdict
engine, :mod:`lib.analysis.verdicts`).

Inputs: ``results[(label, seed)] -> dict`` (:func:`lib.experiments.clustering.analyse_network`):
each network's task variance TV (K, N) and its clustering on all K tasks.

**Common tasks.** Two pathways are compared on the tasks that every network of both learned
(final performance at criterion): each network's units are clustered again on the TV of those
tasks only (the same clustering, :func:`lib.experiments.clustering.cluster_tv`, same spec and
seed), so both sides are scored on the same task composition; a task one network never learned
would give it a profile the other lacks. When every network learned every task this is the
stored clustering.

**Measures** (per network, on the common tasks): the number of clusters k chosen by the
silhouette; the best mean silhouette (how well separated the clusters are); the tasks a cluster
serves, mean over clusters (a cluster serves a task when its units' mean normalised TV on it is
at least :data:`SHARE_LEVEL`; fewer tasks per cluster: more task-specific units).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lib.analysis import verdicts
from lib.analysis.common import CRITERION
from lib.analysis.stats import fmt, mean_ci
from lib.core.checks import fail
from lib.experiments.clustering import METHODS, ClusteringSpec, cluster_tv

SHARE_LEVEL = 0.5
"""A cluster serves a task when its units' mean normalised TV on that task is at least this (half
of the units' own maximum; the level of :func:`lib.analysis.dynamics.cluster_table`)."""

MEASURES: dict[str, tuple[str, float, str]] = {
    # measure: (text with its unit, SESOI, why)
    "k": (
        "unit clusters k (by silhouette)",
        2.0,
        "two clusters: k is a whole number picked by the argmax of a silhouette curve whose "
        "neighbouring k often score within a few hundredths, so a difference of one cluster is "
        "within the measure's step; two is the smallest change of the units' organisation it "
        "resolves",
    ),
    "silhouette": (
        "best mean silhouette",
        0.05,
        "a twentieth of the silhouette's range for a clustering with structure (0 to 1): the "
        "size of the change between neighbouring k on one network's curve, below which two "
        "networks' clusters are equally well separated",
    ),
    "tasks_per_cluster": (
        "tasks served per cluster",
        1.0,
        "one task: the measure counts tasks",
    ),
}
"""The clustering measures compared between pathways: (text, SESOI in the measure's unit, its
reason). Chosen from each measure's scale, not from the pathways' values."""

_SEEN = (
    "Written before any pathway's clustering at 20 tasks was compared; one network's k had been "
    "seen while timing the analysis (exc_bias N = 128 seed 0: k = 15, silhouette 0.22, 125 of "
    "128 units active). After the four shipped networks' comparison was computed, the unit's "
    "name was changed from 'network' to 'task set' (the set of common tasks clustered); the "
    "measures, SESOIs and decision rule were not changed"
)

CLUSTER_RULES: dict[str, verdicts.Rule] = {
    m: verdicts.register(
        verdicts.Rule(
            name=f"C4.clusters.{m}",
            claim="C4",
            version=1,
            family="C4.clusters",
            measure=text,
            unit="task set",
            higher_is_better=True,
            sesoi=sesoi,
            sesoi_reason=reason + ". Neither direction is 'better': a − b is shown as it is.",
            preregistered=True,
            seen=_SEEN,
        )
    )
    for m, (text, sesoi, reason) in MEASURES.items()
}
"""One rule per clustering measure, the three one Holm family."""

CLUSTER_RULE = (
    "Two pathways' unit clusters are compared on the tasks every network of both learned: the "
    "number of clusters k, the best mean silhouette and the tasks served per cluster, each "
    "paired over seeds (exact sign-flip p, Holm over the three; equivalence by TOST within the "
    "SESOI: 2 clusters, 0.05 silhouette, 1 task). The clusters **differ** if any measure "
    "differs, are **alike** if all three are equivalent, and the comparison is "
    "**inconclusive** otherwise (**not tested** without a common task or two paired seeds)."
)
"""How :func:`clustering_verdict` decides; printed with the verdict."""


def _labels(results: dict) -> list:
    return list(dict.fromkeys(lab for lab, _ in results))


def _check_results(results: dict) -> None:
    if not isinstance(results, dict) or not all(
        isinstance(k, tuple) and len(k) == 2 and isinstance(v, dict) and "task_variance" in v
        for k, v in results.items()
    ):
        fail(
            "results",
            type(results).__name__,
            "a dict {(label, seed): lib.experiments.clustering.analyse_network's dict}",
        )


def _runs(results: dict, label: str) -> list[tuple[int, dict]]:
    return sorted(((s, r) for (lab, s), r in results.items() if lab == label), key=lambda x: x[0])


def common_tasks(results: dict, labels, criterion: float = CRITERION) -> list[str]:
    """The tasks at ``criterion`` in every network of ``labels`` (in the first network's
    order); [] when a label has no network."""
    _check_results(results)
    if isinstance(criterion, bool) or not isinstance(criterion, (int, float)):
        fail("criterion", criterion, "a performance level in (0, 1]")
    if not 0 < criterion <= 1:
        fail("criterion", criterion, "a performance level in (0, 1]")
    runs = [r for lab in labels for _, r in _runs(results, lab)]
    if not runs or any(not _runs(results, lab) for lab in labels):
        return []
    return [
        t
        for t in runs[0]["tasks"]
        if all(t in r["tasks"] and r["final_perf"][r["tasks"].index(t)] >= criterion for r in runs)
    ]


def sorted_profiles(res: dict) -> tuple[np.ndarray, np.ndarray]:
    """One network's normalised TV, units sorted by cluster (Yang's Fig. 2 matrix): (profiles
    (n_active, K), each unit's cluster (n_active,), non-decreasing)."""
    order = np.asarray(res["order"], int)
    return np.asarray(res["profiles"])[order], np.asarray(res["labels"])[order]


def tasks_per_cluster(
    profiles: np.ndarray, labels: np.ndarray, share_level: float = SHARE_LEVEL
) -> float:
    """Mean over clusters of the tasks each serves: tasks whose normalised TV averaged over the
    cluster's units is >= ``share_level``. ``profiles`` (n_units, K), ``labels`` (n_units,);
    nan without units."""
    labels = np.asarray(labels)
    if not len(labels):
        return math.nan
    return float(
        np.mean([(profiles[labels == c].mean(0) >= share_level).sum() for c in np.unique(labels)])
    )


def network_measures(res: dict, tasks=None, method: str = "kmeans") -> dict[str, float]:
    """One network's measures (:data:`MEASURES`) and its fraction of active units, its units
    clustered on ``tasks`` (default: all its tasks, the stored clustering; else clustered again
    with the stored spec and the network's seed) by ``method`` (Yang's "kmeans", stored, or
    "ward": :func:`lib.experiments.clustering.ward_units`, the specification check's)."""
    own = list(res["tasks"])
    tasks = own if tasks is None else list(tasks)
    missing = [t for t in tasks if t not in own]
    if missing or not tasks:
        fail("tasks", tasks, f"a non-empty list of the network's tasks; not among them: {missing}")
    if tasks == own and method == "kmeans":
        cl = res
    else:
        rows = [own.index(t) for t in tasks]
        spec = ClusteringSpec(**res["spec"])
        cl = cluster_tv(np.asarray(res["task_variance"])[rows], spec, int(res["seed"]), method)
    return {
        "k": float(cl["k"]),
        "silhouette": float(cl["silhouette"]),
        "tasks_per_cluster": tasks_per_cluster(cl["profiles"], cl["labels"]),
        "fraction_active": float(cl["fraction_active"]),
    }


def measure_values(
    results: dict, label: str, measure: str, tasks=None, method: str = "kmeans"
) -> pd.DataFrame:
    """The verdict engine's input for one label: a (seeds x 1) table of ``measure`` on
    ``tasks`` (one column, "common tasks": the unit is the task set every network is clustered
    on), clustered by ``method`` (:func:`network_measures`)."""
    if measure not in MEASURES:
        fail("measure", measure, "one of " + ", ".join(MEASURES))
    runs = _runs(results, label)
    return pd.DataFrame(
        {"common tasks": [network_measures(r, tasks, method)[measure] for _, r in runs]},
        index=pd.Index([s for s, _ in runs], name="seed"),
        dtype=float,
    )


def clustering_comparisons(
    results: dict, a: str, b: str, criterion: float = CRITERION, method: str = "kmeans"
) -> list[verdicts.Comparison]:
    """The three comparisons a − b (:data:`CLUSTER_RULES`) on the tasks every network of both
    learned (:func:`common_tasks`), decided together (Holm over the family); units clustered by
    ``method`` (Yang's "kmeans"; "ward" for the specification check). Each carries
    ``spec = {"tasks": number of common tasks}``."""
    _check_results(results)
    present = _labels(results)
    for name, lab in (("a", a), ("b", b)):
        if lab not in present:
            fail(name, lab, "a label of results: " + ", ".join(map(str, present)))
    if a == b:
        fail("b", b, f"a label other than a = {a!r}")
    tasks = common_tasks(results, (a, b), criterion)
    comps = []
    for m in MEASURES:
        if tasks:
            va, vb = (measure_values(results, lab, m, tasks, method) for lab in (a, b))
        else:  # nothing in common: no value (the engine says "not tested")
            va = vb = pd.DataFrame({"common tasks": []}, dtype=float)
        c = verdicts.compare(va, vb, CLUSTER_RULES[m], a, b)
        c.spec = {"tasks": len(tasks)}
        comps.append(c)
    return verdicts.decide(comps)


def clustering_verdict(
    results: dict, a: str, b: str, criterion: float = CRITERION, method: str = "kmeans"
) -> dict:
    """Whether the unit clusters of pathways a and b differ, by :data:`CLUSTER_RULE`:
    ``verdict`` ("differ", "alike", "inconclusive", "not tested"), ``comparisons`` (decided),
    ``tasks`` (the common tasks). ``method``: see :func:`clustering_comparisons`."""
    comps = clustering_comparisons(results, a, b, criterion, method)
    tested = [c for c in comps if c.tested]
    if not tested:
        verdict = "not tested"
    elif any(c.verdict == "differ" for c in tested):
        verdict = "differ"
    elif len(tested) == len(comps) and all(c.verdict == "equivalent" for c in tested):
        verdict = "alike"
    else:
        verdict = "inconclusive"
    return {
        "verdict": verdict,
        "comparisons": comps,
        "tasks": common_tasks(results, (a, b), criterion),
    }


MULTIVERSE_CRITERIA = (CRITERION, 0.85, 0.95)
"""The criteria of the specification check (which tasks count as learned, so which are common),
the rule's first."""


def clustering_multiverse(results: dict, a: str, b: str) -> pd.DataFrame:
    """:func:`clustering_verdict` under every specification
    (:func:`lib.analysis.verdicts.multiverse`): criterion (:data:`MULTIVERSE_CRITERIA`) x
    clustering method (Yang's k-means, the rule's; Ward's agglomerative clustering). Cost: each
    network is clustered again where the common tasks are not all its tasks, or by Ward (~1 s
    per network and specification at N = 128, K = 20: ~16 s for two pathways of two seeds)."""
    return verdicts.multiverse(
        lambda criterion, method: clustering_verdict(results, a, b, criterion, method),
        {
            "criterion": list(MULTIVERSE_CRITERIA),
            "method": list(METHODS),
        },
    )


def clustering_table(results: dict, labels=None) -> pd.DataFrame:
    """One row per network (variant, seed), each clustered on all its tasks: tasks learned
    (of K), active units (of N), clusters k, best silhouette, tasks per cluster, the largest
    cluster's share of the active units."""
    _check_results(results)
    rows = []
    for lab in _labels(results) if labels is None else labels:
        for s, r in _runs(results, lab):
            m = network_measures(r)
            sizes = np.asarray(r["sizes"])
            rows.append(
                {
                    "variant": lab,
                    "seed": s,
                    "tasks learned": f"{int(np.sum(r['learned']))} of {len(r['tasks'])}",
                    "active units": f"{len(r['active'])} of {np.shape(r['task_variance'])[1]}",
                    "clusters k": int(r["k"]),
                    "silhouette": round(m["silhouette"], 3),
                    "tasks per cluster": round(m["tasks_per_cluster"], 2),
                    "largest cluster": round(sizes.max() / sizes.sum(), 2)
                    if sizes.sum()
                    else math.nan,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "variant",
            "seed",
            "tasks learned",
            "active units",
            "clusters k",
            "silhouette",
            "tasks per cluster",
            "largest cluster",
        ],
    )


def clustering_summary(results: dict, labels=None) -> pd.DataFrame:
    """Per variant (mean ± 95% t half width over seeds, all tasks): clusters k, silhouette,
    tasks per cluster, fraction of units active; ``seeds``."""
    _check_results(results)
    rows = []
    for lab in _labels(results) if labels is None else labels:
        per = [network_measures(r) for _, r in _runs(results, lab)]
        row: dict = {"variant": lab, "seeds": len(per)}
        for key, name, digits in (
            ("k", "clusters k", 1),
            ("silhouette", "silhouette", 2),
            ("tasks_per_cluster", "tasks per cluster", 1),
            ("fraction_active", "active units", 2),
        ):
            v = np.array([p[key] for p in per], float)
            m, h = mean_ci(v) if len(v) else (math.nan, math.nan)
            row[name] = fmt(float(m), float(h), digits=digits)
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant") if rows else pd.DataFrame()


def clustering_text(v: dict, multiverse: pd.DataFrame | None = None) -> str:
    """:func:`clustering_verdict`'s result in words: the verdict, each comparison's sentence,
    the floor of the exact test where it binds, the specification check
    (:func:`clustering_multiverse`, if given) and the rule."""
    comps = v["comparisons"]
    head = comps[0].label if comps else ""
    lines = [
        f"**Unit clusters, {head}: {v['verdict']}** (on the {len(v['tasks'])} tasks every "
        "network of both learned)."
    ]
    lines += [f"- {c.text()}" for c in comps]
    floor = verdicts.floor_text(comps)
    if floor:
        lines.append(floor)
    if multiverse is not None and len(multiverse):
        lines.append(
            verdicts.agreement_text(
                multiverse, "criterion 0.85/0.9/0.95, k-means or Ward's agglomerative clustering"
            )
        )
    lines.append(f"Rule: {CLUSTER_RULE}")
    return "\n".join(lines)


def per_pathway_text(results: dict, labels=None) -> str:
    """Per variant, in words: each seed's number of clusters, best silhouette and active units
    (every network clustered on all its tasks)."""
    _check_results(results)
    parts = []
    for lab in _labels(results) if labels is None else labels:
        runs = _runs(results, lab)
        if not runs:
            continue
        ks = ", ".join(str(int(r["k"])) for _, r in runs)
        sil = ", ".join(f"{r['silhouette']:.2f}" for _, r in runs)
        act = ", ".join(f"{len(r['active'])}" for _, r in runs)
        seeds = ", ".join(str(s) for s, _ in runs)
        parts.append(
            f"`{lab}` (seed{'s' if len(runs) > 1 else ''} {seeds}): k = {ks}; silhouette "
            f"{sil}; active units {act} of {np.shape(runs[0][1]['task_variance'])[1]}"
        )
    return "Unit clusters per network, on all tasks: " + "; ".join(parts) + "."


__all__ = [
    "SHARE_LEVEL",
    "MEASURES",
    "CLUSTER_RULES",
    "CLUSTER_RULE",
    "common_tasks",
    "sorted_profiles",
    "tasks_per_cluster",
    "network_measures",
    "measure_values",
    "clustering_comparisons",
    "clustering_verdict",
    "MULTIVERSE_CRITERIA",
    "clustering_multiverse",
    "clustering_table",
    "clustering_summary",
    "clustering_text",
    "per_pathway_text",
]
