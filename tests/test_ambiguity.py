"""E2 probes and the E1/E2 summaries and verdicts, on known inputs and on a tiny network."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lib.experiments import ambiguity
from lib.experiments import lesions
from lib.experiments.runner import network_payload
from lib import artifacts
from lib.analysis import ambiguity as ambiguity_analysis
from lib.analysis import battery as battery_analysis
from lib.analysis import verdicts
from lib.core import tasks as yang_tasks
from lib.core.train import History, TrainConfig, TrainResult, build_model, train

LAM = [0.0, 0.25, 0.5, 0.75, 1.0]


def fake_probe(mix_i, mix_j, clean=(1.0, 1.0), tasks=("a", "b")) -> dict:
    out = np.tile([0.5, 0.1, 0.3, 0.1], (1, len(LAM), 1))
    return {
        "tasks": list(tasks),
        "pairs": [[0, 1]],
        "clean": np.array(clean),
        "spec": {"lambdas": LAM, "noise_levels": [0, 1], "dilutions": [0, 1], "scales": [0, 1, 2]},
        "mix_i": np.array([mix_i]),
        "mix_j": np.array([mix_j]),
        "out_i": out.copy(),
        "out_j": out.copy(),
        "congruent": np.zeros((1, 2)),
        "noise_frozen": np.ones((2, 2)),
        "noise_fresh": np.ones((2, 2)),
        "dilution": np.ones((2, 2)),
        "scale": np.ones((3, 2)),
        "missing": np.zeros(2),
        "delay_removed": np.array([np.nan, 0.5]),
        "go_only": np.ones(2),
        "mid_switch": np.array([[[0.2, 0.1, 0.6, 0.1], [0.7, 0.1, 0.1, 0.1]]]),
    }


def test_robustness_on_known_curves():
    res = fake_probe([1, 1, 0.5, 0, 0], [0, 0, 0.5, 0.8, 1])
    rob = ambiguity.robustness(res, 0.9)
    assert rob["labels"] == [("a", "b"), ("b", "a")]
    np.testing.assert_allclose(rob["auc"], [1.0, 0.9])
    np.testing.assert_allclose(rob["l_leave"], [0.5, 0.125])


def test_robustness_is_nan_for_unlearned_tasks():
    rob = ambiguity.robustness(fake_probe([0.5, 0.5, 0.5, 0, 0], [0, 0, 0.5, 1, 1]), 0.9)
    assert np.isnan(rob["auc"][0]) and np.isnan(rob["l_leave"][0])
    assert rob["l_leave"][1] == 0.5


def bump(ang: float) -> torch.Tensor:
    ring = 2 * np.pi * np.arange(32) / 32
    return torch.tensor(
        0.8 * np.exp(-((np.angle(np.exp(1j * (ring - ang))) / (np.pi / 8)) ** 2) / 2),
        dtype=torch.float32,
    )


def test_outcome_categories():
    """correct / collapse / switch (the partner's answer) / blend (anything else)."""
    yang_tasks, B = 3, 5
    y_hat = torch.full((yang_tasks, B, 33), 0.05)
    y_loc = np.full((yang_tasks, B), 1.0)
    y_loc[:, 4] = -1
    other = np.array([1.0 + np.pi] * 4 + [2.0])  # the partner's answer (e.g. Anti's)
    y_hat[-1, 0, 0] = 0.9  # fixates where a response is due -> collapse
    y_hat[-1, 1, 1:] = bump(1.0)  # task i's answer -> correct
    y_hat[-1, 2, 1:] = bump(1.0 + np.pi)  # the partner's answer -> switch
    y_hat[-1, 3, 1:] = bump(1.0 + np.pi / 2)  # neither -> blend
    y_hat[-1, 4, 0] = 0.9  # fixates where fixation is due -> correct
    np.testing.assert_allclose(ambiguity.outcomes(y_hat, y_loc, other), [0.4, 0.2, 0.2, 0.2])
    # no partner answer defined: switch and blend undefined (nan), not 0
    frac = ambiguity.outcomes(y_hat, y_loc)
    np.testing.assert_allclose(frac[:2], [0.4, 0.2])
    assert np.isnan(frac[2:]).all()
    with pytest.raises(ValueError, match="one answer per trial"):
        ambiguity.outcomes(y_hat, y_loc, other[:2])


def test_a_network_answering_the_partner_task_scores_as_switch():
    """Outputs that are exactly the rendered targets of the partner task (same seed, so the
    same stimuli) score as switch on every trial whose two answers differ; a network that
    fixates on DMS go trials gives DNMS's answer there (switch, not collapse)."""
    for task in ("fdgo", "delayanti", "contextdm1", "dmsgo"):
        partner = yang_tasks.COUNTERPARTS[task]
        own = yang_tasks.make_batch(task, 32, 4, noise=False)
        theirs = yang_tasks.make_batch(partner, 32, 4, noise=False)
        y_hat = torch.from_numpy(theirs.y)  # a perfect network of the partner task
        other = yang_tasks.target_under(own.conditions, partner)
        frac = ambiguity.outcomes(y_hat, own.y_loc, other)
        differ = ~ambiguity.same_answer(own.y_loc[-1], other)
        np.testing.assert_allclose(frac, [1 - differ.mean(), 0, differ.mean(), 0], atol=1e-12)
        assert differ.mean() > 0.3
        mine = ambiguity.outcomes(torch.from_numpy(own.y), own.y_loc, other)
        np.testing.assert_allclose(mine, [1, 0, 0, 0])


def test_target_under_on_hand_built_conditions():
    B, tdim = 2, 10
    one = lambda v, dt=np.int64: np.full(B, v, dt)  # noqa: E731
    stim = lambda locs, mod, s=1.0, on=2, off=6: yang_tasks.Event(  # noqa: E731
        "stim",
        one(on),
        one(off),
        np.asarray(s, float) * np.ones(B),
        np.array(locs, float),
        one(mod),
    )
    out = yang_tasks.Event("out", one(6), one(tdim), np.ones(B), np.array([0.5, 4.0]))

    def cond(task, *events):
        return yang_tasks.Conditions(
            task, tdim, (*events, out), one(6), one(8), {"stim1": (2, 6), "go1": (6, None)}
        )

    go = cond("fdgo", stim([0.5, 4.0], 1))
    np.testing.assert_allclose(yang_tasks.target_under(go, "fdgo"), [0.5, 4.0])
    np.testing.assert_allclose(yang_tasks.target_under(go, "fdanti"), [0.5 + np.pi, 4.0 - np.pi])
    assert yang_tasks.target_under(go, "contextdm1") is None  # no answer of Ctx DM 1 on Go trials
    assert yang_tasks.target_under(go, "delayanti") is None
    # Ctx DM: stimulus 1 at 1.0, stimulus 2 at 3.0; ring 1 favours 1 (trial 0) / 2 (trial 1),
    # ring 2 the opposite
    ctx = cond(
        "contextdm1",
        stim([1.0, 1.0], 1, [1.2, 0.8]),
        stim([3.0, 3.0], 1, [0.8, 1.2]),
        stim([1.0, 1.0], 2, [0.8, 1.2]),
        stim([3.0, 3.0], 2, [1.2, 0.8]),
    )
    np.testing.assert_allclose(yang_tasks.target_under(ctx, "contextdm1"), [1.0, 3.0])
    np.testing.assert_allclose(yang_tasks.target_under(ctx, "contextdm2"), [3.0, 1.0])
    # DMS: trial 0 a match, trial 1 not; DNMS answers the opposite go/no-go
    dms = cond("dmsgo", stim([2.0, 2.0], 1, on=1, off=3), stim([2.0, 5.0], 2, on=6, off=tdim))
    np.testing.assert_allclose(yang_tasks.target_under(dms, "dmsgo"), [2.0, -1.0])
    np.testing.assert_allclose(yang_tasks.target_under(dms, "dmsnogo"), [-1.0, 5.0])
    with pytest.raises(ValueError, match="not a Yang"):
        yang_tasks.target_under(go, "fdgoo")
    with pytest.raises(ValueError, match="Conditions instance"):
        yang_tasks.target_under("fdgo", "fdanti")


@pytest.mark.parametrize("task", sorted(yang_tasks.COUNTERPARTS))
def test_target_under_matches_the_rendered_targets(task):
    """Own answer = rendered y_loc[-1]; the partner's answer on the same seed's trials = the
    partner's rendered y_loc[-1] (the two samplers make the same draws)."""
    partner = yang_tasks.COUNTERPARTS[task]
    c = yang_tasks.sample_conditions(task, 64, 11)
    c_partner = yang_tasks.sample_conditions(partner, 64, 11)
    np.testing.assert_array_equal(
        yang_tasks.target_under(c, task).astype(np.float32), yang_tasks.render(c).y_loc[-1]
    )
    np.testing.assert_array_equal(
        yang_tasks.target_under(c, partner).astype(np.float32),
        yang_tasks.render(c_partner).y_loc[-1],
    )
    assert yang_tasks.COUNTERPARTS[partner] == task


def test_probe_windows_follow_the_generator_epochs():
    w = ambiguity.probe_windows(yang_tasks.sample_conditions("delaygo", 4, 0))
    ep = yang_tasks.sample_conditions("delaygo", 4, 0).epochs
    assert w["delay"] == [ep["delay1"]] and w["go"] == ep["go1"][0]
    assert w["switch"] == ep["stim1"][1]  # the stimulus goes off: switch at its offset
    ep = yang_tasks.sample_conditions("fdgo", 4, 0).epochs
    w = ambiguity.probe_windows(yang_tasks.sample_conditions("fdgo", 4, 0))
    assert w["delay"] == [] and w["switch"] == (ep["stim1"][0] + ep["stim1"][1]) // 2
    assert ambiguity.probe_windows(yang_tasks.sample_conditions("reactgo", 4, 0))["switch"] is None
    conditions = yang_tasks.sample_conditions("contextdelaydm1", 4, 0)
    assert len(ambiguity.probe_windows(conditions)["delay"]) == 2
    with pytest.raises(ValueError, match="Conditions instance"):
        ambiguity.probe_windows({"epochs": {}})


def test_piecewise_context_validates_its_pieces():
    base = torch.eye(2)[:1].expand(3, 2)
    c = ambiguity.piecewise_context(5, base, [(1, 3, torch.zeros(3, 2))])
    assert c.shape == (5, 3, 2) and c[1:3].abs().sum() == 0 and (c[0] == base).all()
    for bad, msg in (
        ([(3, 1, torch.zeros(3, 2))], "0 <= on <= off"),
        ([(0, 9, torch.zeros(3, 2))], "0 <= on <= off"),
        ([(0, 1, torch.zeros(2, 2))], "expected"),
        ([(0, 1)], "on, off, value"),
    ):
        with pytest.raises(ValueError, match=msg):
            ambiguity.piecewise_context(5, base, bad)
    with pytest.raises(ValueError, match="positive int"):
        ambiguity.piecewise_context(0, base)
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        ambiguity.piecewise_context(5, torch.zeros(2))


def synthetic_probes(auc_exc: float, auc_syn: float, seeds: int = 3) -> dict:
    probes = {}
    rng = np.random.default_rng(0)
    for lab, auc in (
        ("exc", auc_exc),
        ("syn_lowrank_r1", auc_syn),
        ("syn_prepost", auc_syn),
        ("hybrid", auc_exc),
        ("syn_lowrank_r2", auc_syn),
    ):
        for s in range(seeds):
            v = auc + 0.01 * rng.standard_normal()
            probes[lab, s] = fake_probe([1, 2 * v - 1, 0.5, 0, 0], [0, 0, 0.5, 2 * v - 1, 1])
    return probes


ENOUGH = 12
"""Seeds enough for C2's Holm family of 27 tested comparisons: 27 x 2/2^12 = 0.013 < 0.05."""


def test_verdict_c2_detects_a_difference_and_its_absence():
    assert ambiguity.robustness(synthetic_probes(0.9, 0.9)["exc", 0], 0.9)["auc"].shape == (2,)
    differ = ambiguity_analysis.verdict_c2(synthetic_probes(0.97, 0.80, ENOUGH))
    assert differ["verdict"] == "supported" and set(differ["pairs"].values()) == {"differs"}
    same = ambiguity_analysis.verdict_c2(synthetic_probes(0.9, 0.9, ENOUGH))
    assert same["verdict"] == "not supported"  # every comparison shown equivalent (TOST)
    assert {c.a for c in same["comparisons"]} == {"exc", "hybrid"}
    assert all(c.verdict in ("equivalent", "not tested") for c in same["comparisons"])
    # the same with 3 seeds: nothing can be shown either way -> inconclusive, never "not
    # supported"
    assert ambiguity_analysis.verdict_c2(synthetic_probes(0.9, 0.9))["verdict"] == "inconclusive"
    assert ambiguity_analysis.verdict_c2(synthetic_probes(0.97, 0.80))["verdict"] == "inconclusive"
    unlearned = {
        k: fake_probe([0.5] * 5, [0.5] * 5, clean=(0.5, 0.5)) for k in synthetic_probes(0.9, 0.9)
    }
    assert ambiguity_analysis.verdict_c2(unlearned)["verdict"] == "not tested"


def test_c2_family_holds_every_probe_with_conflict_pairs_apart():
    probes = {}
    for lab in ("exc", "syn_prepost"):
        for s in range(3):
            probes[lab, s] = fake_probe(
                [1, 1, 0.5, 0, 0], [0, 0, 0.5, 1, 1], tasks=("fdgo", "fdanti")
            )
    comps = ambiguity_analysis.c2_comparisons(probes)
    assert {c.rule.name for c in comps} == {f"C2.{m}" for m in verdicts.C2_MEASURES}
    conflict = next(c for c in comps if c.rule.name == "C2.mixture_auc.conflict")
    other = next(c for c in comps if c.rule.name == "C2.mixture_auc.other")
    assert conflict.n_units == 2 and not other.tested  # Go/Anti is a conflict pair
    assert {c.rule.family for c in comps} == {"C2"}
    scores = ambiguity_analysis.probe_scores(probes["exc", 0], "noise_fresh")
    np.testing.assert_allclose(scores, [1.0, 1.0])  # the clean level (0) is left out
    with pytest.raises(ValueError, match="measure"):
        ambiguity_analysis.probe_scores(probes["exc", 0], "bogus")
    with pytest.raises(ValueError, match="scoring"):
        ambiguity_analysis.probe_scores(probes["exc", 0], "scale", scoring="median")


def fake_nets(perf_by_label: dict, seeds: int = 3) -> dict:
    """Networks whose final performance on (Go, Anti) is given per label (one value for both
    tasks, or a pair)."""
    nets = {}
    for lab, p in perf_by_label.items():
        mech = {"syn_lowrank_r1": "syn_lowrank"}.get(lab, lab)
        p_go, p_anti = p if isinstance(p, tuple) else (p, p)
        for s in range(seeds):
            cfg = TrainConfig(mechanism=mech, tasks=("fdgo", "fdanti"), n_rec=8, seed=s)
            h = History(
                cfg.tasks,
                steps=[0, 1],
                trials=[0, 64],
                loss=[np.nan, 1.0],
                perf=[[0, 0], [p_go + 0.001 * s, p_anti]],
            )
            nets[lab, s] = TrainResult(cfg, build_model(cfg), h)
    return nets


@pytest.mark.parametrize(
    "perf, seeds, verdict",
    [
        ({"exc": 0.95, "syn_lowrank_r1": 0.97}, 6, "supported"),
        ({"exc": 0.95, "exc_gain": 0.5, "syn_lowrank_r1": (0.95, 0.7)}, 6, "partly supported"),
        ({"exc": 0.95, "syn_lowrank_r1": 0.5}, 8, "not supported"),  # syn equivalent to none
        ({"exc": 0.95, "syn_lowrank_r1": 0.97}, 3, "inconclusive"),  # floor 0.25: cannot differ
        ({"exc": 0.95, "syn_lowrank_r1": 0.5}, 3, "inconclusive"),
    ],
)  # nor be shown equivalent
def test_verdict_c1(perf, seeds, verdict):
    """Every context-carrying variant against `none` on the tasks that need context
    (lib.analysis.battery.C1_RULE), through the engine; a pair of values is per task."""
    out = battery_analysis.verdict_c1(fake_nets({"none": 0.5, **perf}, seeds))
    assert out["verdict"] == verdict
    assert out["tasks"] == ["fdgo", "fdanti"]
    assert {c.a for c in out["comparisons"]} == set(perf)
    assert all(c.b == "none" and c.n_seeds == seeds for c in out["comparisons"])
    md = battery_analysis.c1_markdown(
        out, SimpleNamespace(tasks=("fdgo", "fdanti"), n_rec=8, n_seeds=seeds, max_steps=1)
    )
    assert battery_analysis.C1_RULE in md and out["verdict"] in md and "p = 0 " not in md


def test_c1_is_not_tested_when_none_needs_no_context():
    out = battery_analysis.verdict_c1(fake_nets({"none": 0.95, "exc": 0.95, "syn_mask": 0.95}, 6))
    assert out["verdict"] == "not tested" and "solves every task" in out["why"]
    assert "not tested" in battery_analysis.c1_markdown(out, None)


def test_c1_leaves_out_tasks_that_need_no_context():
    out = battery_analysis.verdict_c1(
        fake_nets({"none": (0.95, 0.5), "exc": 0.95, "syn_mask": 0.95}, 6)
    )
    assert out["tasks"] == ["fdanti"] and out["verdict"] == "supported"
    assert all(c.units == ["fdanti"] for c in out["comparisons"])
    table = battery_analysis.summary_table(fake_nets({"none": 0.5, "exc": 0.95}), ["none", "exc"])
    assert table.loc["exc", "params/task"] == 16


def test_c1_multiverse_reports_every_specification():
    nets = fake_nets({"none": 0.5, "exc": 0.95, "syn_lowrank_r1": 0.97}, 6)
    mv = battery_analysis.c1_multiverse(nets)
    claim = mv[mv.comparison == "claim"]
    assert len(claim) == 3 * 2 * 2 and claim["main"].sum() == 1
    assert verdicts.agreement(mv, "claim") == (12, 12)


@pytest.mark.slow
def test_probe_network_on_a_tiny_network(monkeypatch, tmp_path):
    cfg = TrainConfig(
        mechanism="hybrid",
        tasks=("fdgo", "fdanti", "delaygo"),
        n_rec=16,
        max_steps=5,
        eval_every=5,
        eval_trials=16,
        batch_size=16,
    )
    res = train(cfg, progress=False)
    spec = ambiguity.ProbeSpec(
        lambdas=(0.0, 0.5, 1.0), noise_levels=(0.0, 0.5), dilutions=(0.0, 1.0), scales=(0.0, 1.0)
    )
    out = ambiguity.probe_network(res, spec)
    assert out["mix_i"].shape == (3, 3) and out["out_i"].shape == (3, 3, 4)
    np.testing.assert_allclose(out["out_i"][0].sum(-1), 1.0)  # Go/Anti: partners
    assert np.isnan(out["out_i"][1:, :, 2:]).all()  # Go/Dly Go, Anti/Dly Go: no partner answer
    np.testing.assert_allclose(out["out_i"][:, :, :2].sum(-1) <= 1, True)
    np.testing.assert_allclose(out["congruent"][0], 0.0)  # pro/anti answers always differ
    assert np.isnan(out["congruent"][1:]).all()
    for key in ("noise_frozen", "noise_fresh", "dilution"):
        assert out[key].shape == (2, 3)
        np.testing.assert_allclose(out[key][0], out["clean"])  # zero corruption = clean
    np.testing.assert_allclose(out["scale"][1], out["clean"])
    np.testing.assert_allclose(out["mix_i"][:, 0], out["clean"][[0, 0, 1]])
    # the delay probe exists only for the task with a delay
    assert np.isnan(out["delay_removed"][:2]).all() and np.isfinite(out["delay_removed"][2])
    assert out["go_only"].shape == (3,) and out["mid_switch"].shape == (3, 2, 4)
    # zero corruption in each timed probe reproduces clean exactly (common random numbers)
    prober = ambiguity.Prober(res)
    for k in range(3):
        w = ambiguity.probe_windows(prober.conditions[k])
        assert prober.go_only(k, onset=0) == out["clean"][k]
        assert prober.delay_removed(k, windows=[(w["go"], w["go"])]) == out["clean"][k]
        assert prober.mid_switch(k, k)[0] == out["clean"][k]  # switching to its own context
        T_k = prober.trials[k][0].shape[0]
        assert (
            prober.mid_switch(k, 1 - min(k, 1), at=T_k)[0] == out["clean"][k]
        )  # switch at the end
    ex = ambiguity.example(res, "fdgo", "fdanti", 0.5)
    assert ex["y_hat"].shape[1] == 33 and ex["outcome"] in ambiguity.OUTCOMES
    assert ex["target_j"] == pytest.approx((ex["target_i"] + np.pi) % (2 * np.pi))
    assert ambiguity.example(res, "fdgo", "delaygo", 0.5)["target_j"] is None
    for pathway in ("exc", "syn"):
        for mode in ("zero", "mean"):
            assert lesions.pathway_ablation(res, pathway, mode).shape == (3,)
    les = lesions.lesion_map(res, 0.25)
    assert les["targeted"].shape == (3, 3) and les["intact"].shape == (3,)
    assert les["random"].shape == (3,)
    again = lesions.lesion_map(res, 0.25)  # the random control is seeded: same numbers
    np.testing.assert_array_equal(again["random"], les["random"])
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))  # the summary caches its lesion maps,
    monkeypatch.setenv("BOOK_NO_TRAIN", "0")  # computed from the saved network
    artifacts.save("network", cfg.to_dict(), network_payload(res))
    maps, table = battery_analysis.lesion_summary(
        {("hybrid", 0): res, ("hybrid", 1): res}, ["hybrid"], 0.25
    )
    np.testing.assert_allclose(maps["hybrid"], les["intact"][None, :] - les["targeted"])
    assert table.loc["hybrid", "seeds"] == 2


def test_silenced_units_reach_nothing():
    cfg = TrainConfig(mechanism="hybrid", tasks=("fdgo", "fdanti"), n_rec=8)
    model = build_model(cfg)
    with torch.no_grad():
        for p in model.modulation_parameters():
            p.normal_()
    x = torch.randn(5, 3, 65)
    c = torch.softmax(torch.randn(3, 2), dim=1)
    silenced = lesions.lesioned(model, np.arange(8))
    y, _ = silenced(x, c, noise=False)
    torch.testing.assert_close(y, torch.sigmoid(model.b_out).expand_as(y))
    y_full, _ = model(x, c, noise=False)
    assert not torch.allclose(y_full, y)
    partial = lesions.lesioned(model, np.array([0, 3]))
    assert partial.W_rec[:, [0, 3]].abs().sum() == 0 and model.W_rec[:, [0, 3]].abs().sum() > 0


def test_verdict_c2_is_paired_over_seeds():
    """Seeds differ a lot from each other but every seed's exc beats its syn by 0.05: an
    unpaired comparison would miss it, the paired one (Holm over the family) does not."""
    probes = {}
    for s, base in enumerate((0.95, 0.75, 0.85, 0.65) * 3):
        for lab, v in (
            ("exc", base),
            ("syn_lowrank_r1", base - 0.05),
            ("syn_prepost", base - 0.05),
            ("hybrid", base),
            ("syn_lowrank_r2", base - 0.05),
        ):
            probes[lab, s] = fake_probe([1, 2 * v - 1, 0.5, 0, 0], [0, 0, 0.5, 2 * v - 1, 1])
    out = ambiguity_analysis.verdict_c2(probes)
    assert out["verdict"] == "supported"
    tested = [c for c in out["comparisons"] if c.tested]
    assert all(c.n_seeds == 12 and c.p_holm >= c.p for c in tested)
    md = ambiguity_analysis.c2_markdown(out, SimpleNamespace(tasks=("a", "b"), n_rec=8, n_seeds=12))
    assert "Holm" in md and ambiguity_analysis.C2_RULE in md


def test_relative_to_clean_scores_only_learned_tasks():
    res = {
        "clean": np.array([1.0, 0.0, 0.95]),
        "noise": np.array([[1.0, 0.0, 0.95], [0.5, 0.0, 0.475]]),
    }
    np.testing.assert_allclose(ambiguity_analysis.relative_to_clean(res, "noise"), [1.0, 0.5])
    res["clean"] = np.zeros(3)
    assert np.isnan(ambiguity_analysis.relative_to_clean(res, "noise")).all()


def test_verdict_c2_scores_both_sides_on_common_pairs():
    """syn never learned task b: the pair (b, a) is left out for exc too, so exc's fragility on
    b does not count against it; on the common pair (a, b) both are equal: no difference."""
    probes = {}
    for s in range(ENOUGH):
        for lab in ("exc", "hybrid"):
            # (a, b): robust; (b, a): fragile (performance falls at once)
            probes[lab, s] = fake_probe([1, 1, 1, 0, 0], [0, 0, 0, 0.2, 1 - 0.001 * s])
        for lab in ("syn_lowrank_r1", "syn_prepost", "syn_lowrank_r2"):
            probes[lab, s] = fake_probe(
                [1, 1, 1, 0, 0], [0, 0, 0, 0, 0.5], clean=(1.0, 0.5)
            )  # b never learned
    out = ambiguity_analysis.verdict_c2(probes)
    mixture = [c for c in out["comparisons"] if c.rule.name == "C2.mixture_auc.other"]
    assert all(c.units == ["a→b"] and abs(c.mean) < 1e-12 for c in mixture)
    assert out["verdict"] == "not supported"


def panel_probes(seeds: int = 3) -> dict:
    """Fake probes of two variants on (fdgo, fdanti): known l_leave per seed; variant 'syn'
    never learned Anti in seed 0."""
    probes = {}
    for s in range(seeds):
        probes["exc", s] = fake_probe(
            [1, 1, 0.5, 0, 0], [0, 0, 0.5, 0.8, 1], tasks=("fdgo", "fdanti")
        )
        probes["syn", s] = fake_probe(
            [1, 0.5, 0.4, 0, 0],
            [0, 0, 0.5, 0.5, 0.5] if s == 0 else [0, 0, 0.5, 0.8, 1],
            clean=(1.0, 0.5 if s == 0 else 1.0),
            tasks=("fdgo", "fdanti"),
        )
    return probes


def test_l_leave_by_pair_scores_only_learned_dominant_tasks():
    df = ambiguity_analysis.l_leave_by_pair(panel_probes(), ["exc", "syn"], [("fdgo", "fdanti")])
    row = df.set_index(["variant", "dominant"])
    assert row.loc[("exc", "Go"), "mean"] == pytest.approx(0.5)  # never leaves before the tie
    assert row.loc[("exc", "Anti"), "mean"] == pytest.approx(0.125)
    assert row.loc[("syn", "Go"), "mean"] == pytest.approx(0.25 * 0.1 / 0.5)
    assert row.loc[("syn", "Anti"), "n"] == 2 and row.loc[("syn", "Anti"), "seeds"] == 3
    assert row.loc[("exc", "Go"), "ci"] == pytest.approx(0.0)
    table = ambiguity_analysis.l_leave_table(df)
    assert table.shape == (2, 2) and "(n=2)" in table.loc["syn", "Anti (vs Go)"]
    assert "earliest `syn`" in ambiguity_analysis.l_leave_text(df)


def test_outcome_tables_and_text():
    probes = panel_probes()
    df = ambiguity_analysis.outcome_table(probes, ["exc", "syn"], [("fdgo", "fdanti")], l=0.5)
    assert set(df["trials of"]) == {"Go", "Anti"}
    r = df.set_index(["variant", "trials of"])
    assert r.loc[("exc", "Go"), "switch"] == pytest.approx(0.3)
    assert r.loc[("syn", "Anti"), "n"] == 2
    with pytest.raises(ValueError, match="not on the probe's mixture grid"):
        ambiguity_analysis.outcome_table(probes, ["exc"], [("fdgo", "fdanti")], l=0.3)
    mid = ambiguity_analysis.mid_switch_table(probes, ["exc", "syn"], [("fdgo", "fdanti")])
    r = mid.set_index(["variant", "trials of"])
    assert r.loc[("exc", "Go"), "switch"] == pytest.approx(0.6)  # direction (i -> j)
    assert r.loc[("exc", "Anti"), "correct"] == pytest.approx(0.7)  # direction (j -> i)
    assert r.loc[("syn", "Go"), "n"] == 2  # both tasks must be learned
    assert "as Anti (switch) 0.60" in ambiguity_analysis.mid_switch_text(mid)
    assert "switch 0.30" in ambiguity_analysis.outcome_text(df, "At the tie")
    assert ambiguity_analysis.display_outcomes(df).shape[1] == 5


def test_relative_to_clean_leaves_out_undefined_probes():
    res = {"clean": np.array([1.0, 1.0, 0.5]), "delay": np.array([np.nan, 0.5, 0.0])}
    np.testing.assert_allclose(ambiguity_analysis.relative_to_clean(res, "delay"), [0.5])
    res["delay"] = np.array([np.nan, np.nan, 0.0])
    assert np.isnan(ambiguity_analysis.relative_to_clean(res, "delay")).all()


def test_robustness_table_columns_are_defined_from_code():
    probes = panel_probes()
    table = ambiguity_analysis.robustness_by_variant(probes, ["exc", "syn"])
    for col in ("auc", "l_leave", *ambiguity_analysis.SUMMARIES):
        assert col in table and col + " ±" in table and col + " n" in table
    assert table.loc["exc", "delay_removed"] == pytest.approx(0.5)  # Anti only (Go: nan)
    assert table.loc["exc", "missing"] == 0.0 and table.loc["exc", "go_only"] == 1.0
    md = ambiguity_analysis.summary_columns_markdown(probes["exc", 0]["spec"])
    for col in ("auc", "l_leave", *ambiguity_analysis.SUMMARIES):
        assert f"`{col}`" in md
    assert "noise levels {1}" in md and "scales {0, 2}" in md
    assert "`none`" not in ambiguity_analysis.corruption_text(table, probes["exc", 0]["spec"])


def test_ambiguity_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from lib.plots import ambiguity as ambiguity_plots

    probes, labels, panel = panel_probes(), ["exc", "syn"], [("fdgo", "fdanti")]
    table = ambiguity_analysis.robustness_by_variant(probes, labels)
    figs = [
        ambiguity_plots.outcome_fractions(probes, labels, panel),
        ambiguity_plots.l_leave_pairs(ambiguity_analysis.l_leave_by_pair(probes, labels, panel)),
        ambiguity_plots.mid_switch(ambiguity_analysis.mid_switch_table(probes, labels, panel)),
        ambiguity_plots.timed_probes(table, labels),
        ambiguity_plots.corruption_curves(probes, labels),
        ambiguity_plots.mixture_panel(probes, labels, panel),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    plt.close("all")


def auc_probes(auc_by_label: dict, seeds: int = 4) -> dict:
    """Fake probes with a known mixture AUC per label (seed-to-seed spread shared by labels)."""
    probes = {}
    for lab, auc in auc_by_label.items():
        for s, base in enumerate((0.0, 0.04, -0.03, 0.02)[:seeds]):
            v = auc + base
            probes[lab, s] = fake_probe([1, 2 * v - 1, 0.5, 0, 0], [0, 0, 0.5, 2 * v - 1, 1])
    return probes


def test_control_comparisons_find_a_planted_difference_and_holm_over_all_tests():
    nets = fake_nets(
        {"exc_gain": 0.95, "exc_gain_rec": 0.95, "syn_prepost": 0.95, "syn_prepost_in": 0.95},
        seeds=4,
    )
    probes = auc_probes(
        {"exc_gain": 0.9, "exc_gain_rec": 0.9, "syn_prepost": 0.9, "syn_prepost_in": 0.8}
    )
    df = ambiguity_analysis.control_comparisons(nets, probes)
    assert list(df.control) == ["exc_gain_rec"] * 2 + ["syn_prepost_in"] * 2
    assert list(df.measure) == list(ambiguity_analysis.CONTROL_MEASURES) * 2
    planted = df[(df.control == "syn_prepost_in") & (df.measure == "mixture robustness")].iloc[0]
    assert planted["diff"] == pytest.approx(-0.1, abs=1e-9) and planted["n"] == 4
    # -0.1 in every one of 4 seeds: the exact p is 2/2^4 (never 0); Holm over 4 tests
    assert planted["p"] == pytest.approx(0.125) and planted["p_holm"] == pytest.approx(0.5)
    assert planted["verdict"] == "inconclusive" and not planted["differs"]
    assert planted["lo"] <= planted["diff"] <= planted["hi"]
    assert (df.p_holm.dropna() >= df.p.dropna()).all()
    md = ambiguity_analysis.control_markdown(df)
    assert "`syn_prepost_in` − `syn_prepost`" in md and "Holm" in md and "inconclusive" in md
    assert "p = 0 " not in md
    assert ambiguity_analysis.control_markdown(
        ambiguity_analysis.control_comparisons({}, {})
    ).startswith("*(")


def test_control_comparisons_call_equivalence_only_with_enough_seeds():
    labels = ("exc_gain", "exc_gain_rec", "syn_prepost", "syn_prepost_in")
    nets = fake_nets({k: 0.95 for k in labels}, seeds=12)
    probes = {}
    for lab in labels:
        for s in range(12):
            v = 0.9 + 0.01 * (s % 4)
            probes[lab, s] = fake_probe([1, 2 * v - 1, 0.5, 0, 0], [0, 0, 0.5, 2 * v - 1, 1])
    same = ambiguity_analysis.control_comparisons(nets, probes)
    assert (same["verdict"] == "equivalent").all()
    assert "not confounded" in ambiguity_analysis.control_markdown(same)


def test_arm_effects_pair_each_arm_network_with_its_standard_seed():
    standard = auc_probes({"exc": 0.8, "syn_prepost": 0.8, "syn_lowrank_r1": 0.8})
    arm = auc_probes({"exc": 0.95, "syn_prepost": 0.8, "syn_lowrank_r1": 0.8})
    eff = ambiguity_analysis.arm_effects(standard, arm, "mixtures")
    assert list(eff.variant) == ["exc", "syn_prepost", "syn_lowrank_r1"]
    exc = eff.set_index("variant").loc["exc"]
    assert exc["diff"] == pytest.approx(0.15) and exc["p"] == pytest.approx(0.125)  # exact
    assert not eff["differs"].any()  # 4 seeds: Holm over 3 cannot reach 0.05
    # the equalising reference is the same network in both arms: left out
    assert "exc" not in set(ambiguity_analysis.arm_effects(standard, arm, "equalised").variant)
    v_arm, v_std = ambiguity_analysis.verdict_c2(arm), ambiguity_analysis.verdict_c2(standard)
    assert v_arm["verdict"] == v_std["verdict"] == "inconclusive"  # 4 seeds: nothing decides
    md = ambiguity_analysis.arm_markdown("mixtures", v_arm, v_std, eff)
    assert "the conclusion is unchanged" in md and "0.4" in md and "inconclusive" in md
    untested = ambiguity_analysis.verdict_c2({})
    assert "cannot be compared" in ambiguity_analysis.arm_markdown(
        "mixtures", untested, v_std, eff[:0]
    )


def test_seed_aucs_score_every_network_on_one_common_set_of_pairs():
    probes = auc_probes({"exc": 0.9, "syn_prepost": 0.8})
    arm = {
        k: fake_probe([1, 1, 1, 0, 0], [0, 0, 0, 0, 0.5], clean=(1.0, 0.5))
        for k in auc_probes({"exc": 0.9})
    }  # task b never learned: pair (b, a) dropped
    df = ambiguity_analysis.seed_aucs({"standard": probes, "mixtures": arm}, ["exc", "syn_prepost"])
    assert set(df.pairs) == {1} and len(df) == 12
    assert df[df.arm == "mixtures"].auc.eq(1.0).all()
    assert set(df.variant) == {"exc", "syn_prepost"}
