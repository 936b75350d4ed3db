"""E5's learning part (lib.experiments.learning, lib.analysis.learning) and the synergy analysis
(lib.analysis.synergy): routes train exactly their parameters, frozen routes cannot interfere,
the comparisons give the planted answers, bad input is named (C5's verdict and synergy on planted
data: tests/test_c4c5_verdicts.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lib.analysis import learning as learning_analysis
from lib.analysis import synergy
from lib.core.params import float_list
from lib.core.train import TrainConfig, build_model, train, trainable_parameters
from lib.experiments import chapter_params
from lib.experiments import learning
from lib.experiments import timescales
from lib.experiments.packing import load_or_train_chain

TINY = dict(
    tasks=("fdgo", "fdanti"),
    n_rec=12,
    max_steps=3,
    eval_every=3,
    eval_trials=8,
    batch_size=4,
    stop_at_criterion=False,
)


@pytest.mark.parametrize("trainable, pathway", [("exc_only", "exc"), ("syn_only", "syn")])
def test_a_route_moves_its_own_pathway_only(trainable, pathway):
    cfg = TrainConfig(mechanism="hybrid", trainable=trainable, **TINY)
    before = {k: v.clone() for k, v in build_model(cfg).state_dict().items()}
    after = train(cfg, progress=False).model.state_dict()
    own = {"exc": {"B", "G"}, "syn": {"U", "V"}}[pathway]
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert moved == own


def test_a_route_the_mechanism_lacks_is_a_clear_error():
    model = build_model(TrainConfig(mechanism="exc", **TINY))
    with pytest.raises(ValueError, match="syn_only.*'exc' has no 'syn' parameters"):
        trainable_parameters(model, "syn_only")
    with pytest.raises(ValueError, match="trainable"):
        TrainConfig(mechanism="hybrid", trainable="fast_only", **TINY)


def test_children_start_from_the_parent_and_learn_the_next_task_alone():
    spec = learning.LearningSpec.from_profile("quick")
    assert spec.old_tasks == ("fdgo", "fdanti", "delaygo") and spec.new_task == "delayanti"
    for route, trainable in learning.ROUTES.items():
        child = spec.child(route, 2)
        assert child.init_from == spec.parent(2) and child.trainable == trainable
        assert child.tasks == spec.old_tasks + ("delayanti",) and child.train_tasks == (
            "delayanti",
        )
        assert child.max_steps == 2000 and child.easy_steps == 500  # E1's curriculum fraction
    assert spec.parent(2).mechanism == "hybrid" and spec.parent(2).trainable == "all"
    assert len(spec.configs()) == 6 * 5


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("n_old", 2, r"\[1, 1\]"),
        ("n_old", 0, "int"),
        ("routes", ["exc", "fast"], "exc"),
        ("new_max_steps", 0, "1"),
    ],
)
def test_bad_learning_parameters_are_named(field, value, allowed):
    with pytest.raises(ValueError, match=rf"{field}.*{allowed}"):
        learning.LearningSpec.from_profile("smoke", **{field: value})


def test_frozen_routes_leave_the_old_tasks_exactly_as_they_were():
    # the shipped smoke networks: parent and children are evaluated on the same trials
    spec = learning.LearningSpec.from_profile("smoke")
    table = learning.run_learning(spec, workers=1, progress=False)
    parent = table[table.route == "parent"].set_index("seed")["perf:fdgo"]
    for _, r in table[table.route.isin(["exc", "syn", "both"])].iterrows():
        assert r["perf:fdgo"] == parent[r.seed]
    state = load_or_train_chain(spec.child("exc", 0)).model.state_dict()
    shared = load_or_train_chain(spec.parent(0)).model.state_dict()
    for name in ("W_in", "W_rec", "b", "W_out", "b_out"):
        assert torch.equal(state[name], shared[name])
    for name in ("B", "G", "U", "V"):  # the old task's rows
        assert torch.equal(state[name][:1], shared[name][:1])


def _table(
    log2: dict[str, list[float]],
    reached: dict[str, list[bool]] | None = None,
    parents_ok=None,
    loss_all: float = 0.1,
) -> pd.DataFrame:
    n = len(next(iter(log2.values())))
    ok = parents_ok or [True] * n
    rows = [
        {"route": "parent", "seed": s, "old_after": 0.95, "old_all_at_criterion": ok[s]}
        for s in range(n)
    ]
    for r, vals in log2.items():
        hit = (reached or {}).get(r, [True] * n)
        rows += [
            {
                "route": r,
                "seed": s,
                "old_after": 0.95 - (loss_all if r == "all" else 0.0),
                "old_all_at_criterion": True,
                "new_perf": 0.93,
                "reached": hit[s],
                "trials_to_criterion": 2.0**x if hit[s] else np.nan,
                "budget_trials": 2.0**16,
            }
            for s, x in enumerate(vals)
        ]
    return pd.DataFrame(rows)


def test_learning_comparisons_find_the_planted_speeds():
    """8 seeds (Holm over the family of four can reach 0.05): exc faster than syn in every seed,
    both as fast as exc, every parameter interferes by 0.1 + seed noise."""
    exc = [10, 10.4, 10.9, 10.1, 10.6, 10.3, 10.2, 10.8]
    t = _table(
        {
            "exc": exc,
            "syn": [x + 2 + 0.1 * i for i, x in enumerate(exc)],
            "both": exc,
            "all": [9.8] * 8,
        }
    )
    t.loc[t.route == "all", "old_after"] -= np.linspace(0, 0.02, 8)
    comps = learning_analysis.learning_comparisons(t)
    by = {(c.rule.name, c.a, c.b): c for c in comps}
    speed = by["C5.learning.rmst", "exc", "syn"]
    assert speed.units == ["new task"] and speed.n_seeds == 8
    assert speed.mean == pytest.approx(
        np.mean([2.0**x - 2.0 ** (x + 2 + 0.1 * i) for i, x in enumerate(exc)])
    )
    assert speed.verdict == "differ"
    inter = by["C5.learning.interference", "all", "both"]
    assert inter.mean == pytest.approx(0.11) and inter.verdict == "differ"
    parts = learning_analysis.learning_parts(comps)
    assert parts["speeds"] == "exc faster" and parts["synergy"] == "not faster than both"
    text = learning_analysis.learning_text(comps)
    assert "exc faster" in text and "p = 0 " not in text
    swapped = learning_analysis.learning_parts(
        learning_analysis.learning_comparisons(_table({"exc": [12] * 8, "syn": exc}))
    )
    assert swapped["speeds"] == "syn faster" and swapped["synergy"] == "not tested"


def test_a_route_that_never_reached_criterion_is_censored_at_its_budget():
    t = _table({"exc": [10, 11, 12], "syn": [10, 11, 12]}, reached={"syn": [True, False, True]})
    kids = learning_analysis.children(t)
    assert kids.loc[(kids.route == "syn") & (kids.seed == 1), "log2_trials"].item() == 16
    assert learning_analysis.restricted_times(kids, "syn")["new task"].tolist() == [
        2.0**10,
        2.0**16,
        2.0**12,
    ]
    summary = learning_analysis.route_summary(t).set_index("route")
    assert summary.loc["syn", "reached"] == 2 and summary.loc["exc", "reached"] == 3
    km = learning_analysis.km_table(t)
    text = learning_analysis.km_text(km)
    assert "`syn` 2 of 3 seeds" in text and "`exc` 3 of 3 seeds" in text
    assert km[km.route == "syn"].rmst.iloc[0] == pytest.approx(np.mean([2.0**10, 2.0**16, 2.0**12]))


def test_seeds_whose_parent_did_not_learn_are_left_out():
    t = _table({"exc": [10, 11, 12], "syn": [12, 13, 14]}, parents_ok=[True, False, False])
    assert learning_analysis.learned_seeds(t) == [0]
    comps = learning_analysis.learning_comparisons(t)
    assert all(c.verdict == "not tested" for c in comps)
    assert learning_analysis.learning_parts(comps)["speeds"] == "not tested"


def test_tau_fast_checks_parameter_and_specs():
    check = float_list(20, 10_000)
    assert check("tau_fast_checks", "300, 1000") == (300.0, 1000.0)
    assert check("tau_fast_checks", []) == ()
    for bad in ([10], [300, 300], "x", [True]):
        with pytest.raises(ValueError, match="tau_fast_checks.*distinct numbers in"):
            check("tau_fast_checks", bad)
    P = chapter_params("timescales", "quick")
    assert P.tau_fast_checks == (300.0, 1000.0)
    specs = timescales.tau_fast_specs(timescales.TimescalesSpec.from_params(P), P.tau_fast_checks)
    assert list(specs) == [100.0, 300.0, 1000.0]
    assert {s.tau_fast for s in specs.values()} == {100.0, 300.0, 1000.0}
    assert specs[300.0].tau_slow == P.tau_slow
    main = specs[100.0]
    assert timescales.labels_at(main, 100.0) == timescales.NETWORK_LABELS
    assert timescales.labels_at(main, 300.0) == timescales.SENSITIVITY_LABELS == ("hybrid",)


def test_capacity_synergy_compares_the_hybrid_with_each_part_on_common_sizes():
    caps = {"hybrid": [6, 6, 6, 6], "exc": [6, 4, 6, 6], "syn_lowrank_r1": [2, 2, 2, 2]}
    rows = [
        {
            "backbone": "trained",
            "variant": v,
            "N": 32,
            "K": k,
            "seed": s,
            "n_at_criterion": k if k <= c else k - 1,
            "all_at_criterion": k <= c,
        }
        for v, cs in caps.items()
        for s, c in enumerate(cs)
        for k in (2, 4, 6)
    ]
    table = pd.DataFrame(rows)
    assert synergy.capacity_values(table, "hybrid").columns.tolist() == ["N = 32"]
    comps = synergy.synergy_comparisons(None, None, None, table)
    by = {c.b: c for c in comps}
    assert by["exc"].mean == 0.5 and by["syn_lowrank_r1"].mean == 4.0
    assert by["syn_lowrank_r1"].p == 0.125  # 4 seeds, all +4: the exact floor
    assert by["syn_lowrank_r1"].verdict == "inconclusive"  # Holm over 2: 0.25
    assert synergy.measure_synergy(comps)["C5.synergy.capacity"] == "inconclusive"


def test_the_km_figure_draws_one_curve_per_route_and_marks_the_censored():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lib import plots
    from lib.plots import timescales as timescales_plots

    t = _table(
        {"exc": [10, 11, 12], "syn": [10, 11, 12], "both": [9, 9, 9]},
        reached={"syn": [True, False, False], "both": [True, True, True]},
    )
    km = learning_analysis.km_table(t)
    assert learning_analysis.km_censored(km) == {"exc": (0, 3), "syn": (2, 3), "both": (0, 3)}
    text = learning_analysis.km_text(km)
    assert "fastest under `both`" in text and "slowest under `syn`" in text
    fig = timescales_plots.km_curves(km)
    ax = fig.axes[0]
    steps = [ln for ln in ax.lines if ln.get_drawstyle() == "steps-post"]
    assert len(steps) == 3  # one survival curve per route
    syn = steps[
        [ln.get_color() for ln in steps].index(timescales_plots.ROUTE_STYLES["syn"]["color"])
    ]
    # S(t) = 1, 2/3 after the one seed at 2^10 trials, held to the budget (2^16)
    np.testing.assert_allclose(syn.get_ydata(), [1, 2 / 3, 2 / 3])
    np.testing.assert_allclose(syn.get_xdata(), np.array([0, 2**10, 2**16]) / 1000)
    ticks = [ln for ln in ax.lines if ln.get_marker() == "|" and len(ln.get_xdata())]
    assert len(ticks) == 1 and ticks[0].get_xdata()[0] == 2**16 / 1000  # only syn is censored
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert "syn (2 of 3 censored)" in legend and "exc (0 of 3 censored)" in legend
    assert not plots.legibility(fig).problems()
    plt.close(fig)
    empty = learning_analysis.km_text(learning_analysis.km_table(t[t.route == "parent"]))
    assert empty.startswith("*No learned parent")
