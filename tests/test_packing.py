"""E3, task packing: the grid's networks are E1's where they coincide, bad parameters are named,
the smoke sweep is shipped (a second run trains nothing), and the analysis gives known answers
on constructed tables (capacity, Holm over the matched family, the C3 verdict and its 'not
tested' rule)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lib import artifacts  # noqa: E402
from lib.analysis import packing as A  # noqa: E402
from lib.analysis.stats import holm, paired  # noqa: E402
from lib.core.tasks import TASK_SETS  # noqa: E402
from lib.core.train import TrainConfig, build_model  # noqa: E402
from lib.experiments import battery, chapter_params, packing, sweep  # noqa: E402
from lib.plots import packing as plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ---------------------------------------------------------------- constructed tables

def synth(caps: dict, ks=(2, 4, 6), backbone="trained", below=None) -> pd.DataFrame:
    """A packing table whose seed s of (variant, N) has every task at criterion exactly at the
    K <= caps[variant, N][s] (so its capacity is that number, or the largest K below it), and
    ``below`` tasks at criterion (default K - 1) at the other K."""
    rows = []
    for (v, n), seeds in caps.items():
        for s, c in enumerate(seeds):
            for k in ks:
                ok = k <= c
                at = k if ok else (k - 1 if below is None else below)
                rows.append({"backbone": backbone, "variant": v, "N": n, "K": k, "seed": s,
                             "params_per_task": 0 if v == "none" else 2 * n,
                             "n_at_criterion": at, "all_at_criterion": ok})
    return pd.DataFrame(rows)


def planted(exc, pre, low, ns=(16, 32)) -> dict:
    return {(v, n): list(c) for n in ns for v, c in
            (("exc", exc), ("syn_prepost", pre), ("syn_lowrank_r1", low), ("none", [0] * 4))}


def test_capacity_known_answer():
    t = synth({("exc", 16): [6, 4, 2, 0], ("syn_prepost", 16): [2, 2, 2, 2]})
    cap = A.capacity(t)
    per = cap.per_seed.set_index(["variant", "seed"])
    assert per.loc[("exc", 0), "capacity"] == 6 and per.loc[("exc", 3), "capacity"] == 0
    assert list(per.loc["exc"].learned_min_K) == [True, True, True, False]
    assert list(per.loc["exc"].at_largest_K) == [6, 5, 5, 5]
    s = cap.summary.set_index("variant")
    assert s.loc["exc", "capacity"] == pytest.approx(3.0)
    sd = np.std([6, 4, 2, 0], ddof=1)
    assert s.loc["exc", "capacity_hw"] == pytest.approx(3.182 * sd / 2)  # t_{0.975, 3}
    assert s.loc["syn_prepost", "capacity"] == 2 and s.loc["syn_prepost", "capacity_hw"] == 0
    assert s.loc["exc", "tested"] and s.loc["exc", "n"] == 4
    assert (s.min_K == 2).all() and (s.largest_K == 6).all()
    by_k = cap.by_k.set_index(["variant", "K"])
    assert by_k.loc[("exc", 4), "at_criterion"] == pytest.approx((4 + 4 + 3 + 3) / 4)
    assert by_k.loc[("exc", 4), "all_frac"] == 0.5 and by_k.loc[("exc", 2), "n"] == 4


def test_capacity_is_the_largest_k_at_criterion_even_past_a_failure():
    t = synth({("exc", 16): [2]})
    t.loc[t.K == 6, ["all_at_criterion", "n_at_criterion"]] = [True, 6]  # K=4 fails, K=6 not
    assert A.capacity(t).per_seed.capacity.tolist() == [6]


def test_capacity_needs_the_table_columns():
    with pytest.raises(ValueError, match="n_at_criterion"):
        A.capacity(pd.DataFrame({"variant": ["exc"], "N": [16], "K": [2], "seed": [0]}))


def test_planted_difference_is_supported_with_its_direction():
    t = synth(planted(exc=[6, 6, 6, 6], pre=[2, 2, 4, 2], low=[2, 2, 2, 4]))
    v = A.verdict_c3(t)
    assert v["verdict"] == "supported" and v["direction"] == "exc"
    assert v["tested_N"] == [16, 32] == v["differing_N"]
    assert ("none", 16) in v["not_tested_cells"]
    text = A.c3_markdown(v, t)
    assert "**C3 — supported.**" in text and A.C3_RULE in text and "packs more" in text
    rev = synth(planted(exc=[2, 2, 4, 2], pre=[6, 6, 6, 6], low=[6, 6, 6, 6]))
    assert A.verdict_c3(rev)["direction"] == "synaptic"
    assert A.verdict_c3(rev)["verdict"] == "supported"


def test_no_difference_is_not_supported():
    same = [4, 2, 6, 4]
    v = A.verdict_c3(synth(planted(exc=same, pre=same, low=same)))
    assert v["verdict"] == "not supported" and v["direction"] is None
    assert v["tested_N"] == [16, 32] and v["differing_N"] == []


def test_difference_at_one_size_or_both_ways_is_partly_supported():
    caps = planted(exc=[4, 2, 6, 4], pre=[4, 2, 6, 4], low=[4, 2, 6, 4])
    caps |= {("exc", 32): [6] * 4, ("syn_prepost", 32): [2] * 4, ("syn_lowrank_r1", 32): [2] * 4}
    v = A.verdict_c3(synth(caps))
    assert v["verdict"] == "partly supported" and v["differing_N"] == [32]
    both = planted(exc=[6] * 4, pre=[2] * 4, low=[2] * 4)
    both |= {("exc", 32): [2] * 4, ("syn_prepost", 32): [6] * 4, ("syn_lowrank_r1", 32): [6] * 4}
    v = A.verdict_c3(synth(both))
    assert v["verdict"] == "partly supported" and v["direction"] == "mixed"
    assert v["differing_N"] == [16, 32]


def test_nothing_learned_is_not_tested():
    v = A.verdict_c3(synth(planted(exc=[0] * 4, pre=[0] * 4, low=[0] * 4)))
    assert v["verdict"] == "not tested" and v["tested_N"] == []
    assert v["comparisons"].p.isna().all() and not v["comparisons"].differs.any()
    assert "Nothing here bears on the title" in A.c3_markdown(v)


def test_an_untested_cell_leaves_its_comparisons_out_of_the_family():
    caps = planted(exc=[6] * 4, pre=[2] * 4, low=[0] * 4)  # syn_lowrank_r1 never learned
    v = A.verdict_c3(synth(caps))
    cmp = v["comparisons"]
    low = cmp[cmp.b == "syn_lowrank_r1"]
    assert not low.tested.any() and low.p.isna().all() and low.p_holm.isna().all()
    assert v["verdict"] == "supported"  # every compared pair differs at every tested N


def test_holm_runs_over_every_comparison():
    # exc - syn_prepost on capacity: raw p = 0.015 alone, 0.062 after Holm over the four
    caps = {("exc", 16): [4, 4, 4, 6], ("syn_prepost", 16): [2, 2, 2, 2],
            ("syn_lowrank_r1", 16): [2, 2, 2, 2]}
    t = synth(caps, below=0)
    cmp = A.comparisons(t)
    assert len(cmp) == 4 and cmp.tested.all()
    assert np.allclose(cmp.p_holm, holm(cmp.p.to_numpy()))
    per = A.capacity(t).per_seed
    a = dict(zip(per[per.variant == "exc"].seed, per[per.variant == "exc"].capacity))
    b = dict(zip(per[per.variant == "syn_prepost"].seed,
                 per[per.variant == "syn_prepost"].capacity))
    first = cmp[(cmp.b == "syn_prepost") & (cmp.measure == "capacity")].iloc[0]
    assert first.p == pytest.approx(paired(a, b)["p"]) and first["diff"] == pytest.approx(2.5)
    assert first.p < 0.05 <= first.p_holm and not first.differs  # Holm made it non-significant
    assert A.verdict_c3(t)["verdict"] == "not supported"


def test_texts_quote_the_numbers():
    t = pd.concat([synth(planted(exc=[6, 6, 4, 6], pre=[2] * 4, low=[2] * 4)),
                   synth({("exc", 64): [2, 0, 0, 2], ("syn_prepost", 64): [0] * 4},
                         ks=(2, 6), backbone="frozen_random")])
    cap = A.capacity(t)
    assert "`exc` 5.5 ± 1.6" in A.capacity_text(cap)
    assert "K = 6 tasks are trained together" in A.at_criterion_text(cap)
    assert "`exc` (32, 64 per task at N = 16, 32): 176, 352" in A.efficiency_text(cap)
    frozen = A.frozen_text(cap)
    assert "`exc` learned the smallest task set (K = 2) at N = 64" in frozen
    assert "`syn_prepost` learned no task set" in frozen and "1 of 2 pathways" in frozen
    for arm in ("trained", "frozen_random"):
        for fig in (plots.at_criterion_vs_k(cap, arm), plots.capacity_vs_n(cap, arm),
                    plots.capacity_vs_params(cap, arm)):
            assert isinstance(fig, Figure)


def test_an_arm_left_out_is_said_and_not_tested():
    t = synth({("exc", 64): [2, 0], ("syn_prepost", 64): [0, 0]}, ks=(2, 6),
              backbone="frozen_random")
    cap = A.capacity(t)
    v = A.verdict_c3(t)
    assert v["verdict"] == "not tested" and len(v["comparisons"]) == 0
    assert "no matched pair was trained" in A.c3_markdown(v, t)
    for text in (A.at_criterion_text(cap), A.capacity_text(cap), A.efficiency_text(cap)):
        assert text == "*(no networks in this arm)*"
    for draw in (plots.at_criterion_vs_k, plots.capacity_vs_n, plots.capacity_vs_params):
        assert isinstance(draw(cap), Figure)


def test_title_consistency_compares_the_hybrid_where_it_was_trained():
    caps = planted(exc=[6] * 4, pre=[2] * 4, low=[2] * 4) | {("hybrid", 16): [6, 6, 4, 6],
                                                           ("hybrid", 32): [6] * 4}
    t = synth(caps)
    text = A.title_consistency(A.verdict_c3(t), t)
    assert "`hybrid` 5.5 ± 1.6 vs `exc` 6.0 ± 0.0" in text


# ---------------------------------------------------------------- the grid and its parameters

def test_quick_networks_at_e1_size_are_e1_networks():
    spec = packing.packing_spec("quick")
    e1 = battery.battery_spec("quick")
    for label in ("none", "exc", "syn_prepost", "syn_lowrank_r1"):
        for seed in range(spec.n_seeds):
            cfg = spec.config("trained", label, 64, 6, seed)
            assert cfg == e1.config(label, seed)
            assert artifacts.artifact_key("network", cfg.to_dict()) == artifacts.artifact_key(
                "network", e1.config(label, seed).to_dict())
    smoke = packing.packing_spec("smoke")
    assert smoke.config("trained", "exc", 24, 2, 1) == battery.battery_spec("smoke").config(
        "exc", 1)


def test_grid_keys_arms_and_protocol():
    spec = packing.packing_spec("quick")
    assert spec.task_order == TASK_SETS["conflict6"]
    assert (spec.n_recs, spec.n_tasks_list, spec.n_seeds) == ((16, 32, 64), (2, 4, 6), 3)
    trained, frozen = spec.configs("trained"), spec.configs("frozen_random")
    assert len(trained) == 3 * 3 * 4 * 3
    assert {k[1] for k in frozen} == {"exc", "syn_prepost", "syn_lowrank_r1"}  # none: no params
    cfg = frozen["frozen_random", "exc", 64, 2, 0]
    assert cfg.trainable == "modulation" and cfg.tasks == ("fdgo", "fdanti")
    proto = battery.battery_spec("quick")
    assert (cfg.max_steps, cfg.eval_every, cfg.eval_trials, cfg.easy_steps, cfg.lr,
            cfg.sampling, cfg.batch_size) == (proto.max_steps, proto.eval_every,
                                              proto.eval_trials, proto.easy_steps, proto.lr,
                                              proto.sampling, proto.batch_size)
    paper = packing.packing_spec("paper")
    assert paper.task_order == TASK_SETS["all"] and max(paper.n_tasks_list) == 20


@pytest.mark.parametrize("value, want", [("16,32", (16, 32)), ("[32, 16]", (16, 32)),
                                         ([64], (64,)), (64, (64,)), ("[16]", (16,))])
def test_integer_lists_in_every_form(value, want):
    assert chapter_params("packing", "smoke", n_recs=value).n_recs == want


@pytest.mark.parametrize("overrides, message", [
    ({"n_recs": [2, 16]}, "n_recs=[2, 16] is not allowed; expected a list of distinct ints in "
                          "[4, 4096]"),
    ({"n_recs": "16,x"}, "n_recs='16,x' is not allowed; expected a list of distinct ints"),
    ({"n_tasks_list": [2, 8]}, "n_tasks_list=(2, 8) is not allowed; expected numbers of tasks K "
                               "in [1, 6]: task_order has 6 tasks"),
    ({"task_order": ["fdgo", "fdanti"], "frozen_n_tasks_list": [2]},
     "n_tasks_list=(2, 3) is not allowed; expected numbers of tasks K in [1, 2]"),
    ({"frozen_n_tasks_list": [2, 7]}, "frozen_n_tasks_list=(2, 7) is not allowed"),
    ({"variants": ["exc", "syn_fancy"]}, "variants=['exc', 'syn_fancy'] is not allowed; expected "
                                         "a non-empty list of distinct names from none, "),
    ({"variants": ["none"]}, "variants=('none',) is not allowed; expected at least one pathway "
                             "with modulation parameters"),
    ({"backbones": ["pretrained"]}, "backbones=['pretrained'] is not allowed"),
    ({"address": "nowhere"}, "address='nowhere' is not allowed; expected None"),
    ({"address": "auto"}, "address='auto' is not allowed; expected None with "
                          "backend='local'"),
    ({"backend": "slurm"}, "backend='slurm' is not allowed; expected one of 'local', 'ray'"),
])
def test_bad_parameters_are_named(overrides, message):
    with pytest.raises(ValueError) as err:
        packing.packing_spec("smoke", **overrides)
    assert message in str(err.value)


def test_ray_address_is_accepted_with_the_ray_backend():
    spec_params = chapter_params("packing", "smoke", backend="ray", address="10.0.0.1:6379")
    assert spec_params.address == "10.0.0.1:6379"
    packing.PackingSpec.from_params(spec_params)


def test_network_row_counts_the_tasks_at_criterion():
    cfg = packing.packing_spec("smoke").config("trained", "exc", 16, 3, 0)
    payload = {"history": {"steps": [0, 40], "perf": [[0, 0, 0], [0.95, 0.5, 0.9]],
                           "wall_s": 1.5}}
    row = packing.network_row(("trained", "exc", 16, 3, 0), cfg.to_dict(), payload)
    assert row["n_at_criterion"] == 2 and not row["all_at_criterion"]
    assert row["params_per_task"] == build_model(cfg).params_per_task() == 32
    assert row["total_mod_params"] == 96 and row["perf:fdanti"] == 0.5 and row["steps"] == 40


# ---------------------------------------------------------------- the sweep

def test_smoke_sweep_is_shipped_and_trains_nothing(monkeypatch, capsys):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    monkeypatch.delenv("BOOK_ARTIFACTS", raising=False)
    spec = packing.packing_spec("smoke")
    table = packing.run_packing(spec, progress=False)
    assert len(table) == len(spec.configs()) == 44
    assert list(zip(table.backbone, table.variant, table.N, table.K, table.seed)) == list(
        spec.configs())
    assert (table.n_at_criterion <= table.K).all()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    monkeypatch.delenv("BOOK_NO_TRAIN", raising=False)
    return tmp_path


def test_sweep_trains_once_then_loads(store, monkeypatch, capsys):
    proto = battery.battery_spec("smoke", max_steps=4, eval_every=2, easy_steps=0)
    spec = packing.PackingSpec(TASK_SETS["conflict6"], (8,), (1, 2), ("none", "exc"), 1, proto,
                               ("trained", "frozen_random"), (8,), (2,))
    calls = []
    real = sweep.train

    def spy(config, *args, **kwargs):
        calls.append(config)
        return real(config, *args, **kwargs)

    monkeypatch.setattr(sweep, "train", spy)
    first = packing.run_packing(spec, workers=1, progress=False)
    out = capsys.readouterr().out
    assert "Plan: 5 artifacts needed, 0 present, 5 to make" in out and "P2(a)" in out
    assert len(calls) == 5 and len(first) == 5
    again = packing.run_packing(spec, workers=1, progress=False)
    assert len(calls) == 5  # nothing trained the second time
    assert "5 present, 0 to make" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first.drop(columns="wall_s"), again.drop(columns="wall_s"))
    frozen = first[first.backbone == "frozen_random"].iloc[0]
    cfg = spec.config("frozen_random", "exc", 8, 2, 0)
    state = artifacts.load("network", cfg.to_dict())["state_dict"]
    init = build_model(cfg).state_dict()
    for name in ("W_in", "W_rec", "W_out", "b", "b_out"):  # shared weights stayed as drawn
        assert (state[name] == init[name]).all(), name
    assert not (state["G"] == init["G"]).all()
    assert frozen.params_per_task == 16


def test_plan_too_long_stops_before_training(store, monkeypatch):
    monkeypatch.setattr(packing.plan, "LONG_RUN_S", 0.0)
    proto = battery.battery_spec("smoke", max_steps=4, eval_every=2, easy_steps=0)
    spec = packing.PackingSpec(TASK_SETS["conflict6"], (8,), (2,), ("exc",), 1, proto)
    with pytest.raises(packing.plan.PlanTooLong):
        packing.run_packing(spec, workers=1, progress=False)
    assert not list(store.rglob("*.pt"))


def test_missing_network_with_no_train_is_named(store, monkeypatch):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    proto = battery.battery_spec("smoke", max_steps=4, eval_every=2, easy_steps=0)
    spec = packing.PackingSpec(TASK_SETS["conflict6"], (8,), (2,), ("exc",), 1, proto)
    with pytest.raises(artifacts.ArtifactError, match="1 of 1 network artifact"):
        packing.run_packing(spec, workers=1, progress=False)


def test_dry_run_plan_counts_every_arm(store):
    spec = packing.packing_spec("smoke")
    p = packing.packing_plan(spec, 2)
    assert [part.needed for part in p.parts] == [32, 12] and p.to_make == 44
    assert "E3 P1, joint training" in p.text() and "E3 P2(a), frozen random backbone" in p.text()
    assert isinstance(TrainConfig.from_dict(spec.config("trained", "exc", 16, 2, 0).to_dict()),
                      TrainConfig)


def test_command_line_dry_run_prints_the_plan(capsys):
    assert packing.main(["--profile", "smoke", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "**Profile `smoke`**" in out and "Plan: 44 artifacts needed" in out
