"""E5 trained under the filter (issue 19): the filter-trained networks against E1's
instant-trained controls, both tested under the filter (lib.experiments.timescales,
lib.analysis.timescales, lib.plots.timescales, the smoke build and chapter 07's section).

Known answers: a filter-trained network with no cost against a control with a planted cost gives
the planted difference, seed by seed; a network that is not trained gives "not trained yet";
only conflict pairs both networks learned enter; the shipped smoke networks and probes load
without computing and run on the control's sequences; chapter 07 at quick says the networks are
not trained yet."""

from __future__ import annotations

import numpy as np
import pytest

from lib.analysis import timescales as timescales_analysis
from lib.analysis.timescales import NOT_TRAINED, trained_under_comparisons
from lib.experiments import manifest, timescales
from lib.experiments.__main__ import build_plan
from lib.plots import timescales as timescales_plots

SWITCH_COST = {0: 0.30, 1: 0.35, 2: 0.40, 3: 0.45, 4: 0.50, 5: 0.55}
"""The control's planted switch cost per seed (6 seeds: the exact floor 2/64 is below 0.05)."""
ERROR_DROP = (0.7, 0.2, 0.1, 0.0)
"""The control's planted loss on the error trial and the 3 after it (error cost 1.0)."""


def planted(assignment: str, switch: float, error: bool, clean=(1.0, 1.0, 1.0, 1.0)) -> dict:
    """Probe results of one network under ``assignment`` (and both_instant, no cost): two
    conflict pairs, a switch cost ``switch`` on the first trial after every switch and, if
    ``error``, :data:`ERROR_DROP` around the error trial; the second pair carries a cost of 0.9
    everywhere (it enters only where both networks learned it)."""
    block, n_blocks = 3, 3
    seq = timescales.blocked_schedule(0, 1, block, n_blocks)
    since = timescales.since_switch(seq)
    ref = np.full((2, len(seq)), 0.95)
    perf = ref.copy()
    perf[0, since == 0] -= switch
    perf[1] -= 0.9
    inter = np.array([0, 1, 1, 0])
    iref = np.full((2, 4), 0.9)
    eref = np.full((2, 2, 6), 0.95)
    eperf = eref.copy()
    if error:
        eperf[0, :, 1:5] -= ERROR_DROP
    eperf[1] -= 0.9
    return {
        "tasks": ["fdgo", "fdanti", "delaygo", "delayanti"],
        "pairs": [[0, 1], [2, 3]],
        "clean": np.array(clean),
        "spec": {"block": block},
        "assignments": [assignment, "both_instant"],
        "blocked": {
            "since": np.array([since, since]),
            "reference": ref,
            "perf": {assignment: perf, "both_instant": ref.copy()},
        },
        "interleaved": {
            "since": np.array([timescales.since_switch(inter)] * 2),
            "reference": iref,
            "perf": {assignment: iref.copy(), "both_instant": iref.copy()},
        },
        "error": {"reference": eref, "perf": {assignment: eperf, "both_instant": eref.copy()}},
    }


def planted_pair(trained_seeds=tuple(SWITCH_COST)) -> tuple[dict, dict]:
    """``exc`` trained under both_slow with no cost (in ``trained_seeds``) and its control with
    :data:`SWITCH_COST` and :data:`ERROR_DROP` under both_slow; nothing trained under both_fast.
    The control learned only the first pair, the filter-trained network both."""
    trained = {("exc@both_slow", s): planted("both_slow", 0.0, error=False) for s in trained_seeds}
    control = {
        ("exc", s): planted("both_slow", c, error=True, clean=(1.0, 1.0, 1.0, 0.2))
        for s, c in SWITCH_COST.items()
    }
    return trained, control


def by_cost(comps, cost: str, assignment: str):
    rule = timescales_analysis.TRAINED_RULES[cost]
    return next(c for c in comps if c.rule is rule and c.spec["assignment"] == assignment)


def test_zero_cost_against_planted_cost_gives_the_planted_difference():
    trained, control = planted_pair()
    comps = trained_under_comparisons(trained, control)
    assert len(comps) == 2 * 2  # exc under both_fast and both_slow, two costs each
    sw = by_cost(comps, "switch", "both_slow")
    assert sw.diffs == pytest.approx({s: -c for s, c in SWITCH_COST.items()})
    assert sw.mean == pytest.approx(-np.mean(list(SWITCH_COST.values())))
    assert sw.units == ["Go / Anti"] and sw.n_seeds == 6  # the pair the control never learned
    assert sw.verdict == "differ" and sw.p == pytest.approx(2 / 2**6)
    assert sw.spec["cost_trained"] == 0 and sw.spec["cost_control"] == pytest.approx(0.425)
    er = by_cost(comps, "error_total", "both_slow")
    assert er.mean == pytest.approx(-sum(ERROR_DROP)) and er.verdict == "differ"
    table = timescales_analysis.trained_under_table(comps)
    assert len(table) == 2 * 6 and set(table.cost) == set(timescales_analysis.COSTS)
    np.testing.assert_allclose(
        table[table.cost == "switch"].sort_values("seed").control, list(SWITCH_COST.values())
    )
    assert (table.trained == 0).all()
    text = timescales_analysis.trained_under_text(comps)
    assert "training under the filter removes the cost in 2" in text
    assert "filter-trained 0.000, instant-trained 0.425" in text
    assert "instant-trained 1.000" in text
    assert "2 of 4 comparisons wait for networks not trained yet" in text


def test_a_missing_network_is_not_trained_rather_than_a_crash():
    trained, control = planted_pair()
    comps = trained_under_comparisons({}, control)
    assert [c.verdict for c in comps] == ["not tested"] * 4
    assert all(c.note == NOT_TRAINED for c in comps)
    assert timescales_analysis.trained_under_table(comps).empty
    fig = timescales_plots.trained_under(timescales_analysis.trained_under_table(comps))
    assert len(fig.axes) == 2
    text = timescales_analysis.trained_under_text(comps)
    assert "No comparison could be scored" in text and "4 of 4 comparisons wait" in text
    line = timescales_analysis.trained_under_missing_text(0, 24, "python -m lib.experiments x")
    assert (
        "0 of the 24" in line
        and "not trained yet" in line
        and "`python -m lib.experiments x`" in line
    )
    assert "none of this run's networks" in timescales_analysis.trained_under_missing_text(0, 0, "")


def test_equal_costs_are_equivalent_and_a_seed_without_a_learned_pair_drops_out():
    trained, control = planted_pair()
    same = {k: planted("both_slow", SWITCH_COST[k[1]], error=True) for k in trained}
    comps = trained_under_comparisons(same, control)
    sw = by_cost(comps, "switch", "both_slow")
    assert sw.mean == pytest.approx(0) and sw.verdict == "equivalent"
    assert "not an artifact of the untrained condition" in timescales_analysis.trained_under_text(
        comps
    )
    # a filter-trained seed that learned nothing: no pair is learned in every seed
    same["exc@both_slow", 0]["clean"] = np.zeros(4)
    sw = by_cost(trained_under_comparisons(same, control), "switch", "both_slow")
    assert sw.verdict == "not tested" and sw.n_units == 0


def test_the_control_must_have_been_probed_under_the_assignment():
    trained, control = planted_pair()
    for res in control.values():
        res["assignments"] = ["both_instant"]
    sw = by_cost(trained_under_comparisons(trained, control), "switch", "both_slow")
    assert sw.verdict == "not tested" and "control not probed under both_slow" in sw.note


def test_figure_has_one_row_per_network_and_assignment_and_is_legible():
    from lib import plots

    comps = trained_under_comparisons(*planted_pair())
    fig = timescales_plots.trained_under(timescales_analysis.trained_under_table(comps))
    left = fig.axes[0]
    assert [t.get_text() for t in left.get_yticklabels()] == ["exc\ntrained both slow"]
    assert len(left.lines) >= 3 * 6  # per seed: a joining line and two markers
    # every network and assignment trained under: six rows
    trained, control = {}, {}
    for lab, assigned in timescales.TRAINED_UNDER.items():
        for a in assigned:
            for s, c in SWITCH_COST.items():
                trained[timescales.trained_label(lab, a), s] = planted(a, 0.0, error=False)
                res = control.setdefault((lab, s), planted(a, c, error=True))
                for part in ("blocked", "interleaved", "error"):
                    res[part]["perf"][a] = planted(a, c, error=True)[part]["perf"][a]
                res["assignments"] = [*assigned, "both_instant"]
    comps = trained_under_comparisons(trained, control)
    # 6 seeds, Holm over the 6 comparisons of each cost: 6 x 2/64 > 0.05, nothing can differ
    assert all(c.p == pytest.approx(2 / 2**6) and c.verdict == "inconclusive" for c in comps)
    text = timescales_analysis.trained_under_text(comps)
    assert "undecided in 12" in text and "no difference can reach p < 0.05" in text
    fig = timescales_plots.trained_under(timescales_analysis.trained_under_table(comps))
    assert len(fig.axes[0].get_yticklabels()) == 6
    assert not plots.legibility(fig).problems()


def test_trained_spec_keeps_the_assignment_and_instant():
    spec = timescales.TimescalesSpec.from_profile("smoke")
    t = timescales.trained_spec(spec, "exc_fast_syn_slow")
    assert t.assignments == ("exc_fast_syn_slow", "both_instant") and t.draws == spec.draws
    assert timescales.trained_spec(spec, "both_instant").assignments == ("both_instant",)
    with pytest.raises(ValueError, match="assignment"):
        timescales.trained_spec(spec, "sideways")


def test_smoke_and_quick_build_the_filter_trained_networks_and_paper_does_not():
    smoke, quick = manifest.manifest("smoke"), manifest.manifest("quick")
    paper = manifest.manifest("paper")
    assert smoke.filter_trained and quick.filter_trained and not paper.filter_trained
    per_seed = sum(len(v) for v in timescales.TRAINED_UNDER.values())
    assert len(smoke.filter_trained_configs()) == per_seed * smoke.battery.n_seeds
    assert len(quick.filter_trained_configs()) == per_seed * quick.battery.n_seeds
    assert manifest.filter_trained_command("paper").endswith("--profile paper --filter-trained")
    assert manifest.filter_trained_command("quick") == "python -m lib.experiments --profile quick"
    labels = [p.label for p in build_plan(("smoke",), with_packing=False).parts]
    assert "[smoke] E5 filter-trained networks" in labels
    assert sum("filter-trained networks," in l for l in labels) == 4  # one per assignment


def test_shipped_smoke_networks_and_probes_load_on_the_controls_sequences(monkeypatch):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    m = manifest.manifest("smoke")
    spec = m.e5_main()
    nets, need = timescales.shipped_filter_trained(m.battery, spec)
    assert len(nets) == need == len(m.filter_trained_configs())
    monkeypatch.setattr(timescales, "probe_network", lambda *a: pytest.fail("recomputed"))
    trained = timescales.run_filter_trained(nets, spec, progress=False)
    controls = timescales.e1_networks(m.battery, timescales.NETWORK_LABELS, progress=False)
    control = timescales.run_timescales(controls, spec, progress=False)
    for (lab, seed), res in trained.items():
        base, a = timescales.split_trained_label(lab)
        assert res["assignments"] == [a, "both_instant"]
        ctl = control[base, seed]
        for schedule in ("blocked", "interleaved"):  # common random numbers: same sequences
            np.testing.assert_array_equal(res[schedule]["task"], ctl[schedule]["task"])
    # at smoke no network learns a pair at Yang's criterion: nothing is scored
    comps = trained_under_comparisons(trained, control)
    assert len(comps) == 2 * len(m.filter_trained_configs()) // m.battery.n_seeds
    assert all(c.verdict == "not tested" and c.note != NOT_TRAINED for c in comps)
    # with every pair counted, the whole path gives numbers for every comparison
    scored = trained_under_comparisons(trained, control, criterion=0.0)
    assert all(c.n_seeds == m.battery.n_seeds and np.isfinite(c.mean) for c in scored)
    assert "Of 12 scored comparisons" in timescales_analysis.trained_under_text(scored)


def test_every_quick_filter_trained_network_and_probe_is_shipped(monkeypatch):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    m = manifest.manifest("quick")
    spec = m.e5_main()
    nets, need = timescales.shipped_filter_trained(m.battery, spec)
    assert len(nets) == need == 36
    monkeypatch.setattr(timescales, "probe_network", lambda *a: pytest.fail("recomputed"))
    trained = timescales.run_filter_trained(nets, spec, progress=False)
    assert set(trained) == set(nets)


@pytest.mark.slow
@pytest.mark.parametrize(
    "profile,said",
    [("smoke", "Does training under the filter"), ("quick", "Does training under the filter")],
)
def test_chapter_section_runs(profile, said, tmp_path, monkeypatch):
    import papermill as pm

    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    out = tmp_path / "07.ipynb"
    pm.execute_notebook(
        "book/07_timescales.ipynb",
        str(out),
        parameters={"profile": profile},
        kernel_name="python3",
        cwd="book",
        progress_bar=False,
    )
    text = out.read_text()
    assert said in text and "not trained yet" not in text


def test_the_planner_times_a_filter_trained_network_as_its_own_family(tmp_path, monkeypatch):
    from lib.core.train import TrainConfig, default_device
    from lib.experiments import plan

    monkeypatch.setenv("BOOK_CACHE", str(tmp_path))  # not the user's cache
    monkeypatch.setattr(plan, "_COSTS", {})
    monkeypatch.setattr(plan, "_MODELS", {})
    cfg = TrainConfig(
        mechanism="hybrid", tasks=("fdgo", "fdanti"), n_rec=8, max_steps=2, eval_trials=8
    )
    split = cfg.replace(train_filter_exc="fast", train_filter_syn="slow")
    one_hot = ("hybrid", 8, 1, cfg.batch_size, "all", cfg.activation, str(default_device()))
    assert plan.family_key(cfg) == one_hot  # the one-hot families keep their keys
    assert plan.family_key(split) == (*one_hot, ("filters", "fast", "slow"))
    assert plan.family_key(split) != plan.family_key(split.replace(train_filter_exc="slow"))
    timed = plan.measure_step_model(split)
    assert timed is not plan.measure_step_model(cfg) and timed.step_per_t_s > 0
