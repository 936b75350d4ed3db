"""E4 at scale (lib.experiments.clustering, lib.analysis.clustering, lib.plots.clustering): Yang's
task-variance clustering finds planted clusters, orders them as Yang does, is cached per network,
compares two pathways on their common tasks through the verdict engine, draws legible figures,
and rejects bad input with errors naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib import artifacts
from lib import plots
from lib.analysis import clustering as clustering_analysis
from lib.analysis import verdicts
from lib.core.train import train
from lib.experiments import clustering as ce
from lib.experiments.runner import network_payload
from lib.plots.clustering import plot_clusters, plot_tv_heatmaps
from helpers import tiny_config

SMALL = ce.ClusteringSpec(max_k=8, n_init=5)
"""A spec that keeps the planted tests fast (k = 2..8)."""


def planted_tv(
    n_groups: int, per_group: int = 12, K: int = 8, n_silent: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A (K, N) task-variance matrix whose units come in ``n_groups`` groups, group g varying
    on its own task set (task g, and less on task g + n_groups, mod K) with a little noise, plus
    ``n_silent`` units below Yang's threshold; returns (tv, group of each unit, -1 for the
    silent)."""
    rng = np.random.default_rng(seed)
    cols, groups = [], []
    for g in range(n_groups):
        profile = np.full(K, 0.02)
        profile[g % K], profile[(g + n_groups) % K] = 1.0, 0.7
        for _ in range(per_group):
            cols.append(profile * rng.uniform(0.5, 2.0) + rng.uniform(0, 0.03, K))
            groups.append(g)
    for _ in range(n_silent):
        cols.append(np.full(K, 1e-5))
        groups.append(-1)
    return np.array(cols).T, np.array(groups)


def planted_result(n_groups: int, seed: int, perf=None, K: int = 8) -> dict:
    """What analyse_network returns, for a planted TV (no network)."""
    tv, _ = planted_tv(n_groups, K=K, seed=seed)
    final = np.ones(K) if perf is None else np.asarray(perf, float)
    return {
        "tasks": [f"t{k}" for k in range(K)],
        "spec": {"max_k": SMALL.max_k, "n_init": SMALL.n_init},
        "mechanism": "planted",
        "seed": seed,
        "final_perf": final,
        "learned": final >= ce.CRITERION,
        "task_variance": tv,
        **ce.cluster_tv(tv, SMALL, seed),
    }


# ----------------------------------------------------------------------------- clustering


@pytest.mark.parametrize("n_groups", [3, 5])
def test_planted_clusters_are_found(n_groups):
    tv, groups = planted_tv(n_groups)
    out = ce.cluster_tv(tv, SMALL, seed=0)
    assert out["k"] == n_groups
    np.testing.assert_array_equal(out["active"], np.flatnonzero(groups >= 0))
    assert out["fraction_active"] == pytest.approx((groups >= 0).mean())
    # the clusters are the planted groups (up to renaming)
    found = out["labels"]
    planted = groups[groups >= 0]
    for g in range(n_groups):
        assert len(set(found[planted == g])) == 1
    assert len(set(found)) == n_groups
    assert out["silhouette"] > 0.8 and out["silhouette"] == max(out["silhouettes"].values())
    np.testing.assert_array_equal(out["sizes"], np.bincount(found))
    # profiles are normalised to each unit's maximum
    np.testing.assert_allclose(out["profiles"].max(1), 1.0)


@pytest.mark.parametrize("n_groups", [3, 5])
def test_ward_finds_the_planted_clusters_too(n_groups):
    tv, groups = planted_tv(n_groups, seed=1)
    out = ce.cluster_tv(tv, SMALL, seed=0, method="ward")
    assert out["k"] == n_groups
    planted = groups[groups >= 0]
    assert all(len(set(out["labels"][planted == g])) == 1 for g in range(n_groups))
    with pytest.raises(ValueError, match="method='dbscan'"):
        ce.cluster_tv(tv, SMALL, seed=0, method="dbscan")


def test_clusters_are_ordered_by_preferred_task():
    tv, groups = planted_tv(3)  # group g prefers task g (and g + 3)
    out = ce.cluster_tv(tv, SMALL, seed=3)
    planted = groups[groups >= 0]
    for g in range(3):
        assert set(out["labels"][planted == g]) == {g}
    np.testing.assert_array_equal(out["preferred"], [0, 1, 2])
    assert (np.diff(out["labels"][out["order"]]) >= 0).all()  # units sorted by cluster
    prof, lbl = clustering_analysis.sorted_profiles(out)
    assert (np.diff(lbl) >= 0).all() and prof.shape == (len(lbl), 8)
    assert (prof[lbl == 0].argmax(1) == 0).all()  # the first cluster's units prefer task 0


def test_order_clusters_known_answer():
    prof = np.array([[0, 1.0], [0, 1.0], [1.0, 0], [1.0, 0], [1.0, 0.2]])
    labels = np.array([5, 5, 7, 7, 7])  # cluster 5 prefers task 1, cluster 7 task 0
    new, order = ce.order_clusters(prof, labels)
    np.testing.assert_array_equal(new, [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(order, [2, 3, 4, 0, 1])


def test_bad_inputs_raise_naming_the_parameter():
    with pytest.raises(ValueError, match="max_k"):
        ce.ClusteringSpec(max_k=1)
    with pytest.raises(ValueError, match="n_init"):
        ce.ClusteringSpec(n_init=0)
    with pytest.raises(ValueError, match="tv"):
        ce.cluster_tv(-np.ones((3, 5)), SMALL, 0)
    with pytest.raises(ValueError, match="tv"):
        ce.cluster_tv(np.ones(5), SMALL, 0)
    with pytest.raises(ValueError, match="labels"):
        ce.order_clusters(np.ones((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="spec"):
        ce.run_clustering({}, spec={"max_k": 5})
    results = {("a", 0): planted_result(3, 0), ("b", 0): planted_result(3, 0)}
    with pytest.raises(ValueError, match="a='c'"):
        clustering_analysis.clustering_comparisons(results, "c", "b")
    with pytest.raises(ValueError, match="b='a'"):
        clustering_analysis.clustering_comparisons(results, "a", "a")
    with pytest.raises(ValueError, match="results"):
        clustering_analysis.clustering_table({"a": 1})
    with pytest.raises(ValueError, match="tasks"):
        clustering_analysis.network_measures(results["a", 0], ["t0", "nope"])
    with pytest.raises(ValueError, match="criterion=1.5"):
        clustering_analysis.clustering_verdict(results, "a", "b", criterion=1.5)
    with pytest.raises(ValueError, match="measure"):
        clustering_analysis.measure_values(results, "a", "entropy")
    with pytest.raises(ValueError, match="max_cols"):
        plot_tv_heatmaps(results, max_cols=5)


# ----------------------------------------------------------------------------- the cached kind


@pytest.fixture(scope="module")
def tiny_net():
    torch.set_num_threads(1)
    return train(
        tiny_config("exc", ("fdgo", "fdanti", "delaygo"), n_rec=16, eval_trials=16),
        progress=False,
    )


def test_cached_result_is_the_direct_computation(tiny_net, store, monkeypatch):
    artifacts.save("network", tiny_net.config.to_dict(), network_payload(tiny_net))
    nets = {("exc", 0): tiny_net}
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    with pytest.raises(Exception, match="clustering"):
        ce.run_clustering(nets, SMALL, progress=False)
    monkeypatch.setenv("BOOK_NO_TRAIN", "0")
    out = ce.run_clustering(nets, SMALL, progress=False)["exc", 0]
    assert artifacts.has("clustering", ce.clustering_key(tiny_net.config, SMALL))
    direct = ce.analyse_network(tiny_net, SMALL)
    np.testing.assert_array_equal(out["task_variance"], direct["task_variance"])
    np.testing.assert_array_equal(out["labels"], direct["labels"])
    assert out["k"] == direct["k"] and out["tasks"] == ["fdgo", "fdanti", "delaygo"]
    assert out["task_variance"].shape == (3, 16)
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")  # now cached: read, not computed
    again = ce.run_clustering(nets, SMALL, progress=False)["exc", 0]
    np.testing.assert_array_equal(again["profiles"], out["profiles"])
    # the plan part names the kind and one network
    part = ce.clustering_part(nets, SMALL, workers=1)
    assert part.kind == "clustering"


# ----------------------------------------------------------------------------- comparisons


def test_comparison_finds_a_planted_difference_in_k():
    seeds = range(8)  # 8 paired seeds: the exact floor 2/2^8 survives Holm over three
    results = {("few", s): planted_result(3, s) for s in seeds}
    results |= {("many", s): planted_result(6, s) for s in seeds}
    v = clustering_analysis.clustering_verdict(results, "few", "many")
    k = next(c for c in v["comparisons"] if c.rule.name == "C4.clusters.k")
    assert k.mean == pytest.approx(-3.0) and k.verdict == "differ"
    assert v["verdict"] == "differ" and len(v["tasks"]) == 8
    assert "differ" in clustering_analysis.clustering_text(v)
    same = clustering_analysis.clustering_verdict(
        {
            **{("x", s): planted_result(4, s) for s in seeds},
            **{("y", s): planted_result(4, s) for s in seeds},
        },
        "x",
        "y",
    )
    k_same = next(c for c in same["comparisons"] if c.rule.name == "C4.clusters.k")
    assert k_same.mean == 0 and k_same.verdict == "equivalent"


def test_specification_check_and_texts():
    results = {("a", s): planted_result(3, s) for s in range(3)}
    results |= {("b", s): planted_result(5, s) for s in range(3)}
    mv = clustering_analysis.clustering_multiverse(results, "a", "b")
    claim = mv[mv["comparison"] == "claim"]
    assert len(claim) == len(clustering_analysis.MULTIVERSE_CRITERIA) * len(ce.METHODS)
    assert claim["main"].sum() == 1  # criterion 0.9, k-means
    # planted clusters: Ward and k-means agree on every network's k
    k_rows = mv[mv["comparison"].str.startswith("C4.clusters.k")]
    assert set(k_rows["mean"]) == {-2.0}
    text = clustering_analysis.clustering_text(
        clustering_analysis.clustering_verdict(results, "a", "b"), mv
    )
    assert "Specification check" in text and "k-means or Ward" in text
    words = clustering_analysis.per_pathway_text(results)
    assert "`a` (seeds 0, 1, 2): k = 3, 3, 3" in words and "`b`" in words


def test_comparisons_use_the_common_tasks():
    perf = np.ones(8)
    perf[5] = 0.5  # one network of b did not learn task t5
    results = {("a", s): planted_result(3, s) for s in range(3)}
    results |= {("b", s): planted_result(3, s, perf=perf if s == 1 else None) for s in range(3)}
    tasks = clustering_analysis.common_tasks(results, ("a", "b"))
    assert tasks == [f"t{k}" for k in range(8) if k != 5]
    comps = clustering_analysis.clustering_comparisons(results, "a", "b")
    assert all(c.spec == {"tasks": 7} for c in comps)
    # every network is clustered again on the 7 common tasks
    r = results["a", 2]
    direct = ce.cluster_tv(np.delete(r["task_variance"], 5, axis=0), SMALL, 2)
    assert clustering_analysis.network_measures(r, tasks)["k"] == direct["k"]
    k = next(c for c in comps if c.rule.name == "C4.clusters.k")
    assert (
        k.diffs[2]
        == clustering_analysis.network_measures(r, tasks)["k"]
        - clustering_analysis.network_measures(results["b", 2], tasks)["k"]
    )
    # nothing in common: not tested
    none = {("a", 0): planted_result(3, 0, perf=np.zeros(8)), ("b", 0): planted_result(3, 0)}
    v = clustering_analysis.clustering_verdict(none, "a", "b")
    assert v["verdict"] == "not tested" and v["tasks"] == []


def test_rules_are_registered_with_reasons():
    for m in clustering_analysis.MEASURES:
        rule = verdicts.RULES[f"C4.clusters.{m}"]
        assert rule.family == "C4.clusters" and rule.sesoi > 0 and rule.sesoi_reason


def test_tables():
    results = {(lab, s): planted_result(n, s) for lab, n in (("a", 3), ("b", 5)) for s in range(2)}
    t = clustering_analysis.clustering_table(results)
    assert list(t["clusters k"]) == [3, 3, 5, 5]
    assert t["active units"].iloc[0] == "36 of 40"
    summary = clustering_analysis.clustering_summary(results)
    assert list(summary.index) == ["a", "b"] and summary.loc["a", "seeds"] == 2
    assert clustering_analysis.tasks_per_cluster(np.array([[1.0, 0.6, 0.1]]), np.array([0])) == 2.0


# ----------------------------------------------------------------------------- figures


def test_figures_are_legible():
    results = {
        (lab, s): planted_result(n, s, K=20)
        for lab, n in (
            ("exc_bias", 3),
            ("syn_prepost", 5),
            ("exc_gain", 4),
            ("hybrid", 6),
            ("none", 2),
        )
        for s in range(2)
    }
    fig = plot_tv_heatmaps(results, seed=1)
    leg = plots.legibility(fig)
    assert leg.panels_per_row <= 4 and not leg.problems(), leg.problems()
    fig = plot_clusters(results)
    assert not plots.legibility(fig).problems()
