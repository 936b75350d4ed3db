"""E2 probes and the E1/E2 summaries and verdicts, on known inputs and on a tiny network."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lib.experiments import ambiguity as amb
from lib.analysis import claims as analysis
from lib.core.train import History, TrainConfig, TrainResult, build_model, train

LAM = [0.0, 0.25, 0.5, 0.75, 1.0]


def fake_probe(mix_i, mix_j, clean=(1.0, 1.0)) -> dict:
    return {"tasks": ["a", "b"], "pairs": [[0, 1]], "clean": np.array(clean),
            "spec": {"lambdas": LAM, "noise_levels": [0, 1], "dilutions": [0, 1],
                     "scales": [0, 1, 2]},
            "mix_i": np.array([mix_i]), "mix_j": np.array([mix_j]),
            "noise_frozen": np.ones((2, 2)), "noise_fresh": np.ones((2, 2)),
            "dilution": np.ones((2, 2)), "scale": np.ones((3, 2)), "missing": np.zeros(2),
            "late": np.ones(2)}


def test_robustness_on_known_curves():
    res = fake_probe([1, 1, .5, 0, 0], [0, 0, .5, .8, 1])
    rob = amb.robustness(res, 0.9)
    assert rob["labels"] == [("a", "b"), ("b", "a")]
    np.testing.assert_allclose(rob["auc"], [1.0, 0.9])
    np.testing.assert_allclose(rob["l_leave"], [0.5, 0.125])


def test_robustness_is_nan_for_unlearned_tasks():
    rob = amb.robustness(fake_probe([0.5, 0.5, 0.5, 0, 0], [0, 0, .5, 1, 1]), 0.9)
    assert np.isnan(rob["auc"][0]) and np.isnan(rob["l_leave"][0])
    assert rob["l_leave"][1] == 0.5


def test_outcome_categories():
    T, B = 3, 4
    y_hat = torch.full((T, B, 33), 0.05)
    y_loc = np.full((T, B), 1.0)
    y_loc[:, 3] = -1
    y_hat[-1, 0, 0] = 0.9  # fixates where a response is due -> collapse
    ring = 2 * np.pi * np.arange(32) / 32
    for b, ang in ((1, 1.0), (2, 1.0 + np.pi)):  # correct; wrong place
        y_hat[-1, b, 1:] = torch.tensor(0.8 * np.exp(-(np.angle(np.exp(1j * (ring - ang))) /
                                                       (np.pi / 8)) ** 2 / 2))
    y_hat[-1, 3, 0] = 0.9  # fixates where fixation is due -> correct
    np.testing.assert_allclose(amb.outcomes(y_hat, y_loc), [0.5, 0.25, 0.25])


def synthetic_probes(auc_exc: float, auc_syn: float, seeds: int = 3) -> dict:
    probes = {}
    rng = np.random.default_rng(0)
    for lab, auc in (("exc", auc_exc), ("syn_lowrank_r1", auc_syn), ("syn_prepost", auc_syn),
                     ("hybrid", auc_exc), ("syn_lowrank_r2", auc_syn)):
        for s in range(seeds):
            v = auc + 0.01 * rng.standard_normal()
            probes[lab, s] = fake_probe([1, 2 * v - 1, .5, 0, 0], [0, 0, .5, 2 * v - 1, 1])
    return probes


def test_verdict_c2_detects_a_difference_and_its_absence():
    assert amb.robustness(synthetic_probes(0.9, 0.9)["exc", 0], 0.9)["auc"].shape == (2,)
    assert analysis.verdict_c2(synthetic_probes(0.97, 0.80))["verdict"] == "supported"
    same = analysis.verdict_c2(synthetic_probes(0.9, 0.9))
    assert same["verdict"] == "not supported"
    assert {c["a"] for c in same["comparisons"]} == {"exc", "hybrid"}
    unlearned = {k: fake_probe([0.5] * 5, [0.5] * 5) for k in synthetic_probes(0.9, 0.9)}
    assert analysis.verdict_c2(unlearned)["verdict"].startswith("not tested")


def fake_nets(perf_by_label: dict, seeds: int = 3) -> dict:
    """Networks whose final performance on (Go, Anti) is given per label (one value for both
    tasks, or a pair)."""
    nets = {}
    for lab, p in perf_by_label.items():
        mech = {"syn_lowrank_r1": "syn_lowrank"}.get(lab, lab)
        p_go, p_anti = p if isinstance(p, tuple) else (p, p)
        for s in range(seeds):
            cfg = TrainConfig(mechanism=mech, tasks=("fdgo", "fdanti"), n_rec=8, seed=s)
            h = History(cfg.tasks, steps=[0, 1], trials=[0, 64], loss=[np.nan, 1.0],
                        perf=[[0, 0], [p_go + 0.001 * s, p_anti]])
            nets[lab, s] = TrainResult(cfg, build_model(cfg), h)
    return nets


@pytest.mark.parametrize("exc, syn, verdict", [(0.95, 0.97, "supported"),
                                               ((0.95, 0.95), (0.95, 0.7), "partly supported"),
                                               (0.95, 0.7, "not supported"),
                                               (0.5, 0.6, "not tested")])
def test_verdict_c1(exc, syn, verdict):
    """Judged task by task (lib.analysis.claims.C1_RULE); a pair of values is per task."""
    out = analysis.verdict_c1(fake_nets({"none": 0.5, "exc": exc, "syn_lowrank_r1": syn}))
    assert out["verdict"] == verdict
    if verdict != "not tested":
        assert out["n_tested"] >= 1 and out["families"]["excitability"]["solved"] >= 1
    else:
        assert out["not_tested"] == ["Go", "Anti"]
    md = analysis.c1_markdown(out, SimpleNamespace(tasks=("fdgo", "fdanti"), n_rec=8, n_seeds=3,
                                                   max_steps=1))
    assert analysis.C1_RULE in md and out["verdict"] in md


def test_c1_leaves_out_tasks_that_need_no_context():
    out = analysis.verdict_c1(fake_nets({"none": (0.95, 0.5), "exc": 0.95, "syn_mask": 0.95}))
    assert list(out["tasks"]["status"]) == ["no context needed", "tested"]
    assert out["n_tested"] == 1 and out["verdict"] == "supported"
    table = analysis.summary_table(fake_nets({"none": 0.5, "exc": 0.95}), ["none", "exc"])
    assert table.loc["exc", "params/task"] == 16


def test_probe_network_on_a_tiny_network():
    cfg = TrainConfig(mechanism="hybrid", tasks=("fdgo", "fdanti", "delaygo"), n_rec=16,
                      max_steps=5, eval_every=5, eval_trials=16, batch_size=16)
    res = train(cfg, progress=False)
    spec = amb.ProbeSpec(lambdas=(0.0, 0.5, 1.0), noise_levels=(0.0, 0.5),
                         dilutions=(0.0, 1.0), scales=(0.0, 1.0))
    out = amb.probe_network(res, spec)
    assert out["mix_i"].shape == (3, 3) and out["out_i"].shape == (3, 3, 3)
    np.testing.assert_allclose(out["out_i"].sum(-1), 1.0)
    for key in ("noise_frozen", "noise_fresh", "dilution"):
        assert out[key].shape == (2, 3)
        np.testing.assert_allclose(out[key][0], out["clean"])  # zero corruption = clean
    np.testing.assert_allclose(out["scale"][1], out["clean"])
    np.testing.assert_allclose(out["mix_i"][:, 0], out["clean"][[0, 0, 1]])
    ex = amb.example(res, "fdgo", "fdanti", 0.5)
    assert ex["y_hat"].shape[1] == 33 and ex["outcome"] in amb.OUTCOMES
    for pathway in ("exc", "syn"):
        for mode in ("zero", "mean"):
            assert analysis.pathway_ablation(res, pathway, mode).shape == (3,)
    les = analysis.lesion_map(res, 0.25)
    assert les["targeted"].shape == (3, 3) and les["intact"].shape == (3,)
    assert les["random"].shape == (3,)
    again = analysis.lesion_map(res, 0.25)  # the random control is seeded: same numbers
    np.testing.assert_array_equal(again["random"], les["random"])
    maps, table = analysis.lesion_summary({("hybrid", 0): res, ("hybrid", 1): res}, ["hybrid"],
                                          0.25)
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
    silenced = analysis.lesioned(model, np.arange(8))
    y, _ = silenced(x, c, noise=False)
    torch.testing.assert_close(y, torch.sigmoid(model.b_out).expand_as(y))
    y_full, _ = model(x, c, noise=False)
    assert not torch.allclose(y_full, y)
    partial = analysis.lesioned(model, np.array([0, 3]))
    assert partial.W_rec[:, [0, 3]].abs().sum() == 0 and model.W_rec[:, [0, 3]].abs().sum() > 0


def test_verdict_c2_is_paired_over_seeds():
    """Seeds differ a lot from each other but every seed's exc beats its syn by 0.05: an
    unpaired comparison would miss it, the paired one (Holm over the matched pairs) does not."""
    probes = {}
    for s, base in enumerate((0.95, 0.75, 0.85, 0.65)):
        for lab, v in (("exc", base), ("syn_lowrank_r1", base - 0.05), ("syn_prepost", base - 0.05),
                       ("hybrid", base), ("syn_lowrank_r2", base - 0.05)):
            probes[lab, s] = fake_probe([1, 2 * v - 1, .5, 0, 0], [0, 0, .5, 2 * v - 1, 1])
    out = analysis.verdict_c2(probes)
    assert out["verdict"] == "supported"
    assert all(c["n"] == 4 and c["p_holm"] >= c["p"] for c in out["comparisons"])
    assert "Holm" in analysis.c2_markdown(out, SimpleNamespace(tasks=("a", "b"), n_rec=8,
                                                               n_seeds=4))


def test_relative_to_clean_scores_only_learned_tasks():
    res = {"clean": np.array([1.0, 0.0, 0.95]),
           "noise": np.array([[1.0, 0.0, 0.95], [0.5, 0.0, 0.475]])}
    np.testing.assert_allclose(analysis.relative_to_clean(res, "noise"), [1.0, 0.5])
    res["clean"] = np.zeros(3)
    assert np.isnan(analysis.relative_to_clean(res, "noise")).all()


def test_verdict_c2_scores_both_sides_on_common_pairs():
    """syn never learned task b: the pair (b, a) is left out for exc too, so exc's fragility on
    b does not count against it; on the common pair (a, b) both are equal: no difference."""
    probes = {}
    for s in range(3):
        for lab in ("exc", "hybrid"):
            # (a, b): robust; (b, a): fragile (performance falls at once)
            probes[lab, s] = fake_probe([1, 1, 1, 0, 0], [0, 0, 0, 0.2, 1 - 0.001 * s])
        for lab in ("syn_lowrank_r1", "syn_prepost", "syn_lowrank_r2"):
            probes[lab, s] = fake_probe([1, 1, 1, 0, 0], [0, 0, 0, 0, 0.5],
                                        clean=(1.0, 0.5))  # b never learned
    out = analysis.verdict_c2(probes)
    assert all(c["pairs"] == 1 for c in out["comparisons"])
    assert all(abs(c["diff"]) < 1e-12 for c in out["comparisons"])
    assert out["verdict"] == "not supported"
