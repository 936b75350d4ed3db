"""E5, first part: modulation states with their own time constants (lib.experiments.timescales),
the costs and the C5 verdict on time-scales (lib.analysis.timescales).

Known answers: the filters' step responses; instant modulation reproduces E1's evaluation; a
pathway a network lacks (and the context-blind ``none``) costs nothing; planted costs and planted
verdicts come back; bad parameters are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib import artifacts
from lib.analysis import timescales as timescales_analysis
from lib.core import tasks as yang_tasks
from lib.core.seeds import EVAL_NOISE_OFFSET, STREAM_EVAL, step_seed
from lib.core.train import (
    History,
    TrainConfig,
    TrainResult,
    build_model,
    evaluate,
    evaluation_batches,
)
from lib.experiments import battery, chapter_params
from lib.experiments import timescales
from lib.experiments.runner import load_or_train

TINY = timescales.TimescalesSpec(
    tau_fast=100.0, tau_slow=4.0, block=3, n_blocks=3, n_interleaved=6, draws=4, error_after=3
)


def tiny_result(mechanism: str, clean: float = 1.0, **changes) -> TrainResult:
    """An untrained network of ``mechanism`` whose history says every task is learned (so the
    analysis keeps its pairs)."""
    cfg = TrainConfig(
        **(
            {
                "mechanism": mechanism,
                "tasks": ("fdgo", "fdanti"),
                "n_rec": 8,
                "seed": 3,
                "max_steps": 1,
                "eval_trials": 8,
                "mod_init_std": 1.0,
            }
            | changes
        )
    )
    hist = History(cfg.tasks)
    hist.record(0, cfg.batch_size, 0.0, [clean] * len(cfg.tasks))
    return TrainResult(cfg, build_model(cfg).eval(), hist)


# ---------------------------------------------------------------------------- filters
@pytest.mark.parametrize("tau", [20.0, 100.0, 250.0])
def test_fast_filter_step_response(tau):
    rate = yang_tasks.DT / tau
    traj, end = timescales.fast_filter(np.zeros(2), np.array([1.0, 0.0]), 40, rate)
    n = np.arange(40)
    np.testing.assert_allclose(traj[:, 0], 1 - (1 - rate) ** n, rtol=0, atol=1e-12)
    np.testing.assert_allclose(end[0], 1 - (1 - rate) ** 40, atol=1e-12)
    assert (traj[:, 1] == 0).all()
    # the same as iterating m(t+1) = m(t) + (c - m(t)) dt / tau
    m, it = 0.0, []
    for _ in range(40):
        it.append(m)
        m += (1.0 - m) * rate
    np.testing.assert_allclose(traj[:, 0], it, atol=1e-12)


def test_fast_state_is_carried_across_trials():
    spec = timescales.TimescalesSpec(100.0, 4.0, 3, 3, 6, 4, 3)
    mod = timescales.Modulation("fast", 0, 2, spec)
    first = mod.trial(1, 5)  # 5 steps toward task 1
    second = mod.trial(1, 5)  # 5 more: the state continues where it stopped
    n = np.arange(10)
    np.testing.assert_allclose(np.concatenate([first, second])[:, 1], 1 - 0.8**n, atol=1e-12)
    # at the cue the state stays exactly there, and a constant context comes back as (K,)
    assert timescales.Modulation("fast", 1, 2, spec).trial(1, 7).shape == (2,)


@pytest.mark.parametrize("tau", [1.0, 4.0, 10.0])
def test_slow_filter_after_n_trials(tau):
    spec = timescales.TimescalesSpec(100.0, tau, 3, 3, 6, 4, 3)
    mod = timescales.Modulation("slow", 0, 2, spec)
    got = [mod.trial(1, 50) for _ in range(12)]
    for n, c in enumerate(got):  # trial n after the switch has seen n trials of the new cue
        np.testing.assert_allclose(c[1], 1 - (1 - 1 / tau) ** n, atol=1e-12)
        np.testing.assert_allclose(c.sum(), 1.0, atol=1e-12)
        assert c.shape == (2,)  # constant within the trial


def test_instant_is_the_cue():
    mod = timescales.Modulation("instant", 0, 3, TINY)
    np.testing.assert_array_equal(mod.trial(2, 9), [0, 0, 1])


# ---------------------------------------------------------------------------- the network
def test_instant_sequence_reproduces_evaluate():
    """Instant modulation on E1's evaluation trials, with their noise seeds, gives exactly
    lib.core.train.evaluate's per-task performance."""
    res = tiny_result("hybrid", mod_init_std=None, eval_trials=16)
    cfg = res.config
    batches = evaluation_batches(cfg)
    trials = [(x, y_loc) for x, _, _, y_loc in batches]
    seeds = [step_seed(cfg.seed, STREAM_EVAL, EVAL_NOISE_OFFSET + k) for k in range(2)]
    out = timescales.run_sequence(
        res.model, trials, {"i": (("instant", "instant"), [0, 1])}, seeds, TINY
    )
    np.testing.assert_array_equal(out["i"], evaluate(res.model, cfg, batches))


def test_context_blind_network_has_no_switch_or_error_cost():
    out = timescales.probe_network(tiny_result("none"), TINY)
    table = timescales_analysis.measure_table({("none", 0): out})
    assert set(table.assignment) == {"both_fast", "both_slow", "both_instant"}
    for m in ("switch", "switch_interleaved", "error", "error_after"):
        assert (table[m] == 0).all(), (m, table[m].tolist())
    assert (table["recovery"] == 0).all()


def test_a_missing_pathway_costs_nothing():
    """A synaptic-only network (context through W_rec alone) with its synaptic pathway instant:
    whatever the excitability state does, per-trial performance is the reference's, exactly."""
    res = tiny_result("syn_lowrank")
    seq = timescales.blocked_schedule(0, 1, 3, 3)
    trials = list(timescales.sequence_trials(res.config, seq, "blocked", 0, 4))
    seeds = timescales.sequence_noise(res.config, "blocked", 0, len(seq))
    runs = {
        "ref": (("instant", "instant"), seq),
        "exc slow": (("slow", "instant"), seq),
        "exc fast": (("fast", "instant"), seq),
        "syn slow": (("instant", "slow"), seq),
    }
    perf = timescales.run_sequence(res.model, trials, runs, seeds, TINY)
    outputs = timescales.run_sequence(
        res.model, trials, runs, seeds, TINY, score=lambda y_hat, _: float(y_hat.double().sum())
    )
    for name in ("exc slow", "exc fast"):
        np.testing.assert_array_equal(perf[name], perf["ref"])
        np.testing.assert_array_equal(outputs[name], outputs["ref"])  # the outputs themselves
    # while a slow synaptic state changes the outputs on the trials after a switch, only there
    moved = outputs["syn slow"] != outputs["ref"]
    np.testing.assert_array_equal(moved, timescales.since_switch(seq) >= 0)


def test_probe_network_shapes_and_common_random_numbers():
    res = tiny_result("hybrid")
    out = timescales.probe_network(res, TINY)
    assert out["assignments"] == list(timescales.ASSIGNMENTS)
    b = out["blocked"]
    assert b["task"].shape == (1, 9) and b["reference"].shape == (1, 9)
    np.testing.assert_array_equal(b["task"][0], [0, 0, 0, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(b["since"][0], [-1, -1, -1, 0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(b["perf"]["both_instant"], b["reference"])
    assert out["interleaved"]["task"].shape == (1, 6)
    assert out["error"]["reference"].shape == (1, 2, 5)
    # the lead trial is at steady state under every assignment (same trial, same noise)
    for a in timescales.ASSIGNMENTS:
        np.testing.assert_array_equal(
            out["error"]["perf"][a][..., 0], out["error"]["reference"][..., 0]
        )
    # a second run draws the same trials and noise
    again = timescales.probe_network(res, TINY)
    np.testing.assert_array_equal(again["blocked"]["perf"]["both_slow"], b["perf"]["both_slow"])
    assert timescales.sequence_forwards(res.config, TINY) == 1 * ((9 + 6) * 5 + 2 * 5 * 6)


def test_single_pathway_networks_get_the_uniform_assignments():
    assert timescales.assignments_for("exc", TINY) == ["both_fast", "both_slow", "both_instant"]
    assert timescales.assignments_for("hybrid", TINY) == list(timescales.ASSIGNMENTS)


def test_schedules():
    np.testing.assert_array_equal(timescales.blocked_schedule(2, 5, 2, 3), [2, 2, 5, 5, 2, 2])
    np.testing.assert_array_equal(
        timescales.since_switch(np.array([1, 1, 2, 2, 2, 1, 2])), [-1, -1, 0, 1, 2, 0, 0]
    )
    a = timescales.interleaved_schedule(0, 1, 200, np.random.default_rng(1))
    b = timescales.interleaved_schedule(0, 1, 200, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert set(a) == {0, 1} and 60 < a.sum() < 140
    keys = {
        timescales.draw_index(s, p, n, w)
        for s in timescales.SCHEDULE_CODES
        for p in (0, 1, 999)
        for n in (0, 1, 999_999)
        for w in timescales.WHAT
    }
    assert len(keys) == len(timescales.SCHEDULE_CODES) * 3 * 3 * len(timescales.WHAT)


# ---------------------------------------------------------------------------- analysis
def planted(clean=(1.0, 1.0, 0.5, 0.5), block=4) -> dict:
    """Two pairs, the second not learned. Assignment "both_slow": switch cost 0.4 then 0.1 then
    0; error cost 0.7 then 0.2, 0.1, 0.0 (lingering mean 0.1); "both_fast": no cost at all."""
    n_blocks = 3
    seq = timescales.blocked_schedule(0, 1, block, n_blocks)
    since = timescales.since_switch(seq)
    ref = np.full((2, len(seq)), 0.95)
    slow = ref.copy()
    slow[:, since == 0] -= 0.4
    slow[:, since == 1] -= 0.1
    slow[1] = 0.0  # the unlearned pair: anything, it must not enter
    inter_seq = np.array([0, 1, 1, 0, 0, 0])
    inter_since = timescales.since_switch(inter_seq)
    iref = np.full((2, 6), 0.9)
    islow = iref - 0.3 * (inter_since == 0)
    eref = np.full((2, 2, 6), 0.95)
    eslow = eref.copy()
    eslow[0, :, 1:5] -= [0.7, 0.2, 0.1, 0.0]
    eslow[1] = 0.0
    return {
        "tasks": ["fdgo", "fdanti", "delaygo", "delayanti"],
        "pairs": [[0, 1], [2, 3]],
        "clean": np.array(clean),
        "spec": {"block": block},
        "assignments": ["both_fast", "both_slow"],
        "blocked": {
            "since": np.array([since, since]),
            "reference": ref,
            "perf": {"both_fast": ref.copy(), "both_slow": slow},
        },
        "interleaved": {
            "since": np.array([inter_since, inter_since]),
            "reference": iref,
            "perf": {"both_fast": iref.copy(), "both_slow": islow},
        },
        "error": {"reference": eref, "perf": {"both_fast": eref.copy(), "both_slow": eslow}},
    }


def test_analysis_returns_the_planted_costs():
    res = planted()
    np.testing.assert_array_equal(timescales_analysis.learned_pairs(res), [True, False])
    m = timescales_analysis.network_measures(res, "both_slow")
    assert m["pairs"] == 1
    assert m["switch"] == pytest.approx(0.4)
    assert m["recovery"] == 2 and not m["censored"]
    assert m["switch_interleaved"] == pytest.approx(0.3)
    assert m["error"] == pytest.approx(0.7)
    assert m["error_after"] == pytest.approx(0.1)
    assert "combined" not in m  # the costs are never added (issue 18)
    assert m["steady"] == pytest.approx(0.95)  # the first block and the last third of the others
    fast = timescales_analysis.network_measures(res, "both_fast")
    assert fast["switch"] == fast["error"] == 0 and fast["recovery"] == 0
    c = timescales_analysis.switch_curve(res, "both_slow")
    np.testing.assert_allclose(c["perf"], [0.55, 0.85, 0.95, 0.95])
    np.testing.assert_allclose(
        timescales_analysis.error_curve(res, "both_slow")["perf"],
        [0.95, 0.25, 0.75, 0.85, 0.95, 0.95],
    )


def test_no_recovery_within_the_block_is_censored():
    res = planted()
    res["blocked"]["perf"]["both_slow"][0, res["blocked"]["since"][0] >= 0] -= 0.5
    m = timescales_analysis.network_measures(res, "both_slow")
    assert m["recovery"] == 4 and m["censored"]


def test_unlearned_network_has_no_measures():
    m = timescales_analysis.network_measures(planted(clean=(0.5, 1.0, 1.0, 0.2)), "both_slow")
    assert m["pairs"] == 0 and np.isnan(m["error"]) and np.isnan(m["switch"])


def test_pair_costs_are_the_planted_costs_per_pair():
    res = planted()
    c = timescales_analysis.pair_costs(res, "both_slow")
    assert c["switch"][0] == pytest.approx(0.4) and np.isnan(c["switch"][1])
    # error trial 0.7 + the 3 trials after it (0.1 each): 1.0 lost to one wrong cue
    assert c["error_total"][0] == pytest.approx(0.7 + timescales_analysis.ERROR_WINDOW * 0.1)
    m = timescales_analysis.network_measures(res, "both_slow")
    assert c["error_total"][0] == pytest.approx(
        m["error"] + timescales_analysis.ERROR_WINDOW * m["error_after"]
    )
    values = timescales_analysis.cost_values(
        {("hybrid", 0): res, ("hybrid", 1): res}, "hybrid", "both_slow", "switch"
    )
    assert values.shape == (2, 2) and values.iloc[:, 1].isna().all()


def test_cost_table_holds_the_two_planted_costs_per_seed():
    results = {("hybrid", 0): planted(), ("hybrid", 1): planted(), ("exc", 0): planted()}
    results["exc", 1] = planted(clean=(0.5, 1.0, 1.0, 0.2))  # learned no pair
    costs = timescales_analysis.cost_table(results)
    assert len(costs) == 4 * 2 and list(costs.columns[-2:]) == ["switch", "error_total"]
    slow = costs[(costs.label == "hybrid") & (costs.assignment == "both_slow")]
    np.testing.assert_allclose(slow["switch"], [0.4, 0.4])  # the unlearned pair left out
    np.testing.assert_allclose(slow["error_total"], [1.0, 1.0])
    fast = costs[costs.assignment == "both_fast"].dropna()
    assert (fast[["switch", "error_total"]] == 0).all().all() and len(fast) == 3
    assert (
        costs[(costs.label == "exc") & (costs.seed == 1)][["switch", "error_total"]]
        .isna()
        .all()
        .all()
    )
    text = timescales_analysis.cost_text(costs, ["hybrid", "exc"])
    # both fast costs nothing on both: the one assignment cheapest on both costs
    assert text.count("the same assignment, both fast, is cheapest on both") == 2
    costs.loc[(costs.assignment == "both_slow") & (costs.label == "hybrid"), "error_total"] = -0.5
    text = timescales_analysis.cost_text(costs, ["hybrid", "exc"])
    assert "lowest error cost under both slow (-0.50 ± 0.00); no assignment is cheapest" in text
    none = timescales_analysis.cost_text(costs[costs.label == "nobody"], ["hybrid"])
    assert none.startswith("No network learned")


def test_the_cost_figure_shows_the_two_costs_apart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lib import plots
    from lib.plots import timescales as timescales_plots

    results = {("hybrid", s): planted() for s in range(3)} | {("exc", 0): planted()}
    costs = timescales_analysis.cost_table(results)
    fig = timescales_plots.separate_costs(costs, ["hybrid", "exc", "syn_lowrank_r1"])
    axes = np.array(fig.axes).reshape(2, 2)  # rows: the networks present; columns: the costs
    assert [a.get_title().split("\n")[0] for a in axes[0]] == ["switch cost", "error cost"]
    assert [a.get_ylabel() for a in axes[:, 0]] == ["hybrid", "exc"]
    # the hybrid's both-slow mean sits at the planted costs, one seed line per seed
    means = [[ln.get_xdata()[0] for ln in ax.lines if ln.get_marker() == "v"] for ax in axes[0]]
    assert means[0] == pytest.approx([0.4]) and means[1] == pytest.approx([1.0])
    assert sum(ln.get_color() == "0.7" for ln in axes[0, 0].lines) == 3
    assert not plots.legibility(fig).problems()
    plt.close(fig)


# ---------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("tau_fast", -5.0, "a time constant in ms"),
        ("tau_fast", 10.0, "dt = 20 ms"),
        ("tau_fast", float("inf"), "finite"),
        ("tau_slow", -1.0, "a time constant in trials"),
        ("tau_slow", 0.5, ">= 1"),
        ("block", 0, "an integer >= 1"),
        ("n_blocks", 1, "at least one switch"),
        ("draws", 0, "an integer >= 1"),
        ("error_after", 2, "the cost uses 3"),
        ("assignments", ("both_fast", "exc_medium"), "distinct names from exc_fast_syn_slow"),
        ("assignments", (), "a non-empty list"),
    ],
)
def test_bad_parameters_are_named(field, value, allowed):
    kw = dict(
        tau_fast=100.0, tau_slow=4.0, block=3, n_blocks=3, n_interleaved=6, draws=4, error_after=3
    ) | {field: value}
    with pytest.raises(ValueError) as err:
        timescales.TimescalesSpec(**kw)
    msg = str(err.value)
    assert msg.startswith(f"{field}={value!r} is not allowed; expected"), msg
    assert allowed in msg, msg


@pytest.mark.parametrize(
    "name, value",
    [("tau_fast", -1), ("tau_slow", 0), ("block", 0), ("assignments", "both_fast,nope")],
)
def test_chapter_parameters_are_checked(name, value):
    with pytest.raises(ValueError, match=f"^{name}=.* is not allowed; expected"):
        chapter_params("timescales", "smoke", **{name: value})


def test_unknown_mode_is_named():
    with pytest.raises(
        ValueError, match="mode='medium' is not allowed; expected one of 'instant', 'fast', 'slow'"
    ):
        timescales.Modulation("medium", 0, 2, TINY)


def test_profiles_give_valid_specs():
    for profile in ("smoke", "quick", "paper"):
        spec = timescales.TimescalesSpec.from_params(chapter_params("timescales", profile))
        assert spec.block * spec.n_blocks > spec.block


# ---------------------------------------------------------------------------- artifacts
def test_run_timescales_computes_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    monkeypatch.delenv("BOOK_NO_TRAIN", raising=False)
    cfg = TrainConfig(
        mechanism="hybrid",
        tasks=("fdgo", "fdanti"),
        n_rec=8,
        seed=3,
        max_steps=2,
        eval_every=1,
        eval_trials=8,
        batch_size=8,
    )
    nets = {("hybrid", 0): load_or_train(cfg, progress=False)}  # the jobs load it by config
    calls = []
    real = timescales.probe_network
    monkeypatch.setattr(timescales, "probe_network", lambda *a: calls.append(1) or real(*a))
    first = timescales.run_timescales(nets, TINY, progress=False)
    second = timescales.run_timescales(nets, TINY, progress=False)
    assert len(calls) == 1
    np.testing.assert_array_equal(
        first["hybrid", 0]["blocked"]["reference"], second["hybrid", 0]["blocked"]["reference"]
    )
    key = timescales.timescales_key(nets["hybrid", 0].config, TINY)
    assert artifacts.meta("timescales", key)["behaviour"] == {"network": 2, "timescales": 1}


def test_texts_carry_the_planted_numbers():
    results = {("hybrid", s): planted() for s in (0, 1)}
    summary = timescales_analysis.summary_table(timescales_analysis.measure_table(results))
    assert "both slow 0.40 ± 0.00" in timescales_analysis.switch_text(summary, ["hybrid"])
    assert "both slow 0.70 ± 0.00 on the error trial" in timescales_analysis.error_text(
        summary, ["hybrid"]
    )
    assert "1 of 2 network-pairs" not in timescales_analysis.coverage_text(results, ["hybrid"])
    assert "2 of 2 seeds learned" in timescales_analysis.coverage_text(results, ["hybrid"])


def test_ablation_link_says_which_pathway_carries_the_context():
    ones, zeros = np.ones((3, 4)), np.zeros((3, 4))
    bars = {"intact": ones, "exc removed (zero)": zeros, "syn removed (zero)": ones}
    assert "relies on its excitability pathway" in timescales_analysis.ablation_link_text(
        bars, pd.DataFrame()
    )
    bars = {"intact": ones, "exc removed (zero)": zeros, "syn removed (zero)": zeros}
    assert "division of labour" in timescales_analysis.ablation_link_text(bars, pd.DataFrame())
    bars = {"intact": zeros, "exc removed (zero)": zeros, "syn removed (zero)": zeros}
    assert "say nothing" in timescales_analysis.ablation_link_text(bars, pd.DataFrame())


def test_shipped_smoke_results_load_without_computing(monkeypatch):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    p = chapter_params("timescales", "smoke")
    spec = battery.BatterySpec.from_params(p)
    nets = timescales.e1_networks(spec, timescales.NETWORK_LABELS, progress=False)
    out = timescales.run_timescales(nets, timescales.TimescalesSpec.from_params(p), progress=False)
    assert set(out) == set(nets) and len(out) == len(timescales.NETWORK_LABELS) * spec.n_seeds
