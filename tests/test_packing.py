"""E3, task packing: the grid's networks are E1's where they coincide, bad parameters are named,
the smoke sweep is shipped (a second run trains nothing), and the analysis gives known answers
on constructed tables (capacity, Holm over the matched family, the C3 verdict and its 'not
tested' rule)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from types import SimpleNamespace

from lib import artifacts
from lib.analysis import packing as packing_analysis
from lib.analysis import verdicts
from lib.analysis.stats import holm, paired
from lib.core import train
from lib.core.tasks import TASK_SETS
from lib.core.train import TrainConfig, build_model
from lib.experiments import battery, chapter_params, packing, sweep
from lib.plots import packing as packing_plots


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
                rows.append(
                    {
                        "backbone": backbone,
                        "variant": v,
                        "N": n,
                        "K": k,
                        "seed": s,
                        "params_per_task": 0 if v == "none" else 2 * n,
                        "n_at_criterion": at,
                        "all_at_criterion": ok,
                    }
                )
    return pd.DataFrame(rows)


def planted(exc, pre, low, ns=(16, 32)) -> dict:
    return {
        (v, n): list(c)
        for n in ns
        for v, c in (
            ("exc", exc),
            ("syn_prepost", pre),
            ("syn_lowrank_r1", low),
            ("none", [0] * len(exc)),
        )
    }


TEN = 10
"""Seeds enough for Holm over the 8 comparisons of two N: 8 x 2/2^10 = 0.016 < 0.05."""


def test_capacity_known_answer():
    t = synth({("exc", 16): [6, 4, 2, 0], ("syn_prepost", 16): [2, 2, 2, 2]})
    cap = packing_analysis.capacity(t)
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
    assert packing_analysis.capacity(t).per_seed.capacity.tolist() == [6]


def test_capacity_needs_the_table_columns():
    with pytest.raises(ValueError, match="n_at_criterion"):
        packing_analysis.capacity(
            pd.DataFrame({"variant": ["exc"], "N": [16], "K": [2], "seed": [0]})
        )


def test_planted_difference_is_supported_with_its_direction():
    t = synth(planted(exc=[6] * TEN, pre=[2, 2, 4, 2, 2] * 2, low=[2, 2, 2, 4, 2] * 2))
    v = packing_analysis.verdict_c3(t)
    assert v["verdict"] == "supported" and v["direction"] == "exc"
    assert v["tested_N"] == [16, 32] == v["differing_N"]
    assert ("none", 16) in v["not_tested_cells"]
    text = packing_analysis.c3_markdown(v, t)
    assert "**C3 — supported.**" in text and packing_analysis.C3_RULE in text
    assert "packs more" in text
    rev = synth(planted(exc=[2, 2, 4, 2, 2] * 2, pre=[6] * TEN, low=[6] * TEN))
    assert packing_analysis.verdict_c3(rev)["direction"] == "synaptic"
    assert packing_analysis.verdict_c3(rev)["verdict"] == "supported"


def test_no_difference_is_not_supported_only_when_shown_equivalent():
    same = [4, 2, 6, 4, 2] * 2
    v = packing_analysis.verdict_c3(synth(planted(exc=same, pre=same, low=same)))
    assert v["verdict"] == "not supported" and v["direction"] is None
    assert v["tested_N"] == [16, 32] and v["differing_N"] == []
    assert (v["comparisons"].verdict == "equivalent").all()
    # the same with 4 seeds: TOST's one-sided floor 1/16 cannot reach 0.05 -> inconclusive,
    # never "not supported"
    v4 = packing_analysis.verdict_c3(synth(planted(exc=same[:4], pre=same[:4], low=same[:4])))
    assert v4["verdict"] == "inconclusive"
    assert "cannot say yet" in packing_analysis.c3_markdown(v4)


def test_difference_at_one_size_or_both_ways_is_partly_supported():
    same = [4, 2, 6, 4, 2] * 2
    caps = planted(exc=same, pre=same, low=same)
    caps |= {
        ("exc", 32): [6] * TEN,
        ("syn_prepost", 32): [2] * TEN,
        ("syn_lowrank_r1", 32): [2] * TEN,
    }
    v = packing_analysis.verdict_c3(synth(caps))
    assert v["verdict"] == "partly supported" and v["differing_N"] == [32]
    both = planted(exc=[6] * TEN, pre=[2] * TEN, low=[2] * TEN)
    both |= {
        ("exc", 32): [2] * TEN,
        ("syn_prepost", 32): [6] * TEN,
        ("syn_lowrank_r1", 32): [6] * TEN,
    }
    v = packing_analysis.verdict_c3(synth(both))
    assert v["verdict"] == "partly supported" and v["direction"] == "mixed"
    assert v["differing_N"] == [16, 32]


def test_nothing_learned_is_not_tested():
    v = packing_analysis.verdict_c3(synth(planted(exc=[0] * 4, pre=[0] * 4, low=[0] * 4)))
    assert v["verdict"] == "not tested" and v["tested_N"] == []
    assert v["comparisons"].p.isna().all() and not v["comparisons"].differs.any()
    assert "Nothing here bears on the title" in packing_analysis.c3_markdown(v)


def test_an_untested_cell_leaves_its_comparisons_out_of_the_family():
    caps = planted(exc=[6] * TEN, pre=[2] * TEN, low=[0] * TEN)  # syn_lowrank_r1 never learned
    v = packing_analysis.verdict_c3(synth(caps))
    cmp = v["comparisons"]
    low = cmp[cmp.b == "syn_lowrank_r1"]
    assert not low.tested.any() and low.p.isna().all() and low.p_holm.isna().all()
    assert (low.verdict == "not tested").all()
    tested = cmp[cmp.tested]  # 4 comparisons: Holm over 4, not 8
    assert np.allclose(tested.p_holm, holm(tested.p.to_numpy()))
    assert v["verdict"] == "supported"  # every compared pair differs at every tested N


def test_holm_runs_over_every_comparison_of_exact_p():
    caps = {
        ("exc", 16): [4, 4, 4, 6, 4, 6],
        ("syn_prepost", 16): [2] * 6,
        ("syn_lowrank_r1", 16): [2] * 6,
    }
    t = synth(caps, below=0)
    cmp = packing_analysis.comparisons(t)
    assert len(cmp) == 4 and cmp.tested.all()
    assert np.allclose(cmp.p_holm, holm(cmp.p.to_numpy()))
    first = cmp[(cmp.b == "syn_prepost") & (cmp.measure == "capacity")].iloc[0]
    assert first["diff"] == pytest.approx(np.mean([2, 2, 2, 4, 2, 4]))
    assert first.p == pytest.approx(2 / 2**6)  # every seed positive: the exact floor
    assert first.p < 0.05 <= first.p_holm and not first.differs  # Holm over 4: 0.125
    assert packing_analysis.verdict_c3(t)["verdict"] == "inconclusive"


def test_a_zero_variance_difference_is_never_p_zero():
    # every one of 3 seeds differs by exactly 2 (E3's quick grid): the exact p is 0.25
    caps = planted(exc=[6] * 3, pre=[4] * 3, low=[4] * 3, ns=(64,))
    v = packing_analysis.verdict_c3(synth(caps))
    cmp = v["comparisons"]
    assert (cmp.p == 0.25).all() and not cmp.differs.any()
    text = packing_analysis.c3_markdown(v)
    assert "p = 0 " not in text and "p = 0." not in text.replace("p = 0.25", "")
    assert "smallest attainable p is 0.25" in text and v["verdict"] == "inconclusive"


@pytest.mark.slow
def test_texts_quote_the_numbers():
    t = pd.concat(
        [
            synth(planted(exc=[6, 6, 4, 6], pre=[2] * 4, low=[2] * 4)),
            synth(
                {("exc", 64): [2, 0, 0, 2], ("syn_prepost", 64): [0] * 4},
                ks=(2, 6),
                backbone="frozen_random",
            ),
        ]
    )
    cap = packing_analysis.capacity(t)
    assert "`exc` 5.5 ± 1.6" in packing_analysis.capacity_text(cap)
    assert "K = 6 tasks are trained together" in packing_analysis.at_criterion_text(cap)
    efficiency = packing_analysis.efficiency_text(cap)
    assert "`exc` (32, 64 per task at N = 16, 32): 176, 352" in efficiency
    frozen = packing_analysis.frozen_text(cap)
    assert "`exc` learned the smallest task set (K = 2) at N = 64" in frozen
    assert "`syn_prepost` learned no task set" in frozen and "1 of 2 pathways" in frozen
    for arm in ("trained", "frozen_random"):
        for fig in (
            packing_plots.at_criterion_vs_k(cap, arm),
            packing_plots.capacity_vs_n(cap, arm),
            packing_plots.capacity_vs_params(cap, arm),
        ):
            assert isinstance(fig, Figure)


def test_an_arm_left_out_is_said_and_not_tested():
    t = synth(
        {("exc", 64): [2, 0], ("syn_prepost", 64): [0, 0]}, ks=(2, 6), backbone="frozen_random"
    )
    cap = packing_analysis.capacity(t)
    v = packing_analysis.verdict_c3(t)
    assert v["verdict"] == "not tested" and len(v["comparisons"]) == 0
    assert "no matched pair was trained" in packing_analysis.c3_markdown(v, t)
    for text in (
        packing_analysis.at_criterion_text(cap),
        packing_analysis.capacity_text(cap),
        packing_analysis.efficiency_text(cap),
    ):
        assert text == "*(no networks in this arm)*"
    for draw in (
        packing_plots.at_criterion_vs_k,
        packing_plots.capacity_vs_n,
        packing_plots.capacity_vs_params,
    ):
        assert isinstance(draw(cap), Figure)


def _tuned(at_criterion: dict, n_rec=64, budget=12_000, late=()) -> dict:
    """Fake tuned test networks {(variant, seed): result}: seed s of a variant has
    ``at_criterion[variant][s]`` of the six conflict tasks at criterion at ``budget`` steps;
    the seeds in ``late`` reach every task only after it (the control must read the budget)."""
    tasks = TASK_SETS["conflict6"]
    out = {}
    for v, counts in at_criterion.items():
        cfg = TrainConfig(mechanism="exc", n_rec=n_rec, tasks=tasks)
        for s, n_at in enumerate(counts):
            h = train.History(tasks)
            perf = [0.99] * n_at + [0.5] * (len(tasks) - n_at)
            h.record(budget, 64, 0.1, perf)
            if (v, s) in late:
                h.record(budget + 250, 64, 0.1, [0.99] * len(tasks))
            out[v, s] = SimpleNamespace(config=cfg, history=h)
    return out


def test_protocol_control_finds_a_difference_that_is_the_protocols():
    nine = 9
    caps = {
        ("exc", 64): [6] * nine,
        ("syn_prepost", 64): [6] * nine,
        ("syn_lowrank_r1", 64): [4] * nine,  # K = 6 fails with 5 of 6 at criterion
    }
    table = synth(caps)
    late = {("syn_lowrank_r1", s) for s in range(3)}
    tuned = _tuned(
        {"exc": [6] * 10, "syn_prepost": [6] * 10, "syn_lowrank_r1": [6] * 10}, late=late
    )
    # the three late seeds are at 3 of 6 at the budget, 6 only after it
    for s in range(3):
        tuned["syn_lowrank_r1", s].history.perf[0] = [0.99] * 3 + [0.5] * 3
    ctrl = packing_analysis.protocol_control(table, tuned, 12_000, TASK_SETS["conflict6"])
    assert (ctrl.N, ctrl.K, ctrl.budget) == (64, 6, 12_000)
    vals = ctrl.values.set_index(["protocol", "variant"])
    assert vals.loc[("common", "syn_lowrank_r1"), "mean"] == 5
    assert vals.loc[("own", "syn_lowrank_r1"), "mean"] == pytest.approx((3 * 3 + 7 * 6) / 10)
    assert vals.loc[("own", "exc"), "n"] == 10
    common = {(c.a, c.b): c for c in ctrl.comps["common"]}
    assert common["exc", "syn_lowrank_r1"].verdict == "differ"
    assert common["exc", "syn_lowrank_r1"].p_holm == pytest.approx(2 * 2 / 2**9)
    flipped, kept = packing_analysis.control_changes(ctrl)
    assert flipped == [("exc", "syn_lowrank_r1")] and kept == []
    text = packing_analysis.protocol_control_text(ctrl)
    assert "`exc` − `syn_lowrank_r1` differs at N = 64 under E1's common protocol" in text
    assert "but not under each pathway's own" in text
    # a tuned network of another size or task set is no P1 cell: no control
    assert (
        packing_analysis.protocol_control(
            table, _tuned({"exc": [6]}, n_rec=48), 12_000, TASK_SETS["conflict6"]
        )
        is None
    )
    assert "not available" in packing_analysis.protocol_control_text(None, "why")


def test_title_consistency_compares_the_hybrid_where_it_was_trained():
    caps = planted(exc=[6] * 4, pre=[2] * 4, low=[2] * 4) | {
        ("hybrid", 16): [6, 6, 4, 6],
        ("hybrid", 32): [6] * 4,
    }
    t = synth(caps)
    text = packing_analysis.title_consistency(packing_analysis.verdict_c3(t), t)
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
                "network", e1.config(label, seed).to_dict()
            )
    smoke = packing.packing_spec("smoke")
    assert smoke.config("trained", "exc", 24, 2, 1) == battery.battery_spec("smoke").config(
        "exc", 1
    )


def test_grid_keys_arms_and_protocol():
    spec = packing.packing_spec("quick")
    assert spec.task_order == TASK_SETS["conflict6"]
    assert (spec.n_recs, spec.n_tasks_list, spec.n_seeds) == ((16, 32, 64), (2, 4, 6), 3)
    trained, frozen = spec.configs("trained"), spec.configs("frozen_random")
    assert spec.variants == packing.MATCHED_VARIANTS  # quick: none left out (fails K >= 2)
    assert len(trained) == 3 * 3 * 3 * 9  # variants x N x K x P1 seeds (the power analysis)
    assert {k[1] for k in frozen} == {"exc", "syn_prepost", "syn_lowrank_r1"}
    assert {k[3] for k in frozen} == {6}  # the K that P2(b) is paired with
    cfg = frozen["frozen_random", "exc", 64, 6, 0]
    assert cfg.trainable == "modulation" and cfg.tasks == TASK_SETS["conflict6"]
    smoke = packing.packing_spec("smoke")
    assert "none" in smoke.variants and "none" not in {
        k[1] for k in smoke.configs("frozen_random")
    }  # none has no modulation parameters
    proto = battery.battery_spec("quick")
    assert (
        cfg.max_steps,
        cfg.eval_every,
        cfg.eval_trials,
        cfg.easy_steps,
        cfg.lr,
        cfg.sampling,
        cfg.batch_size,
    ) == (
        proto.max_steps,
        proto.eval_every,
        proto.eval_trials,
        proto.easy_steps,
        proto.lr,
        proto.sampling,
        proto.batch_size,
    )
    paper = packing.packing_spec("paper")
    assert paper.task_order == TASK_SETS["all"] and max(paper.n_tasks_list) == 20


def test_p1_seeds_apply_to_joint_training_only():
    spec = packing.packing_spec("smoke", n_seeds=2, p1_n_seeds=4)
    keys = spec.configs()
    assert {k[4] for k in keys if k[0] == "trained"} == {0, 1, 2, 3}
    assert {k[4] for k in keys if k[0] != "trained"} == {0, 1}
    assert "4 seeds per cell in P1 (C3's verdict), 2 in the other arms" in packing.describe(
        spec, "smoke"
    )
    only_p1 = packing.packing_spec("smoke", backbones=["trained"], n_seeds=2, p1_n_seeds=4)
    assert "4 seeds per cell." in packing.describe(only_p1, "smoke")
    # the hybrid keeps the profile's n_seeds: C5 pairs it with its parts on common seeds
    hybrid = packing.hybrid_packing_spec("smoke", n_seeds=2, p1_n_seeds=4)
    assert hybrid.n_seeds_of("trained") == 4
    assert packing.hybrid_packing_spec("quick").n_seeds_of("trained") == (
        packing.packing_spec("quick").n_seeds
    )


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_p1_seeds_come_from_the_power_analysis(profile):
    """P1 has the seeds at which C3's exact tests can pass Holm over its whole family (two pairs
    x two measures x N): the floor of the power analysis."""
    spec = packing.packing_spec(profile)
    family = len(packing_analysis.PAIRS) * len(packing_analysis.MEASURES) * len(spec.n_recs)
    need = verdicts.power_seeds(0.0, 1.0, m=family)
    assert spec.n_seeds_of("trained") >= need
    assert need == {"quick": 9, "paper": 10}[profile]


def test_p1_seeds_below_the_other_arms_are_a_clear_error():
    with pytest.raises(ValueError, match=r"p1_n_seeds.*at least n_seeds = 3"):
        packing.packing_spec("quick", p1_n_seeds=2)
    with pytest.raises(ValueError, match=r"p1_n_seeds"):
        packing.packing_spec("quick", p1_n_seeds=0)


@pytest.mark.parametrize(
    "value, want",
    [("16,32", (16, 32)), ("[32, 16]", (16, 32)), ([64], (64,)), (64, (64,)), ("[16]", (16,))],
)
def test_integer_lists_in_every_form(value, want):
    assert chapter_params("packing", "smoke", n_recs=value).n_recs == want


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"n_recs": [2, 16]},
            "n_recs=[2, 16] is not allowed; expected a list of distinct ints in [4, 4096]",
        ),
        ({"n_recs": "16,x"}, "n_recs='16,x' is not allowed; expected a list of distinct ints"),
        (
            {"n_tasks_list": [2, 8]},
            "n_tasks_list=(2, 8) is not allowed; expected numbers of tasks K "
            "in [1, 6]: task_order has 6 tasks",
        ),
        (
            {"task_order": ["fdgo", "fdanti"], "frozen_n_tasks_list": [2]},
            "n_tasks_list=(2, 3) is not allowed; expected numbers of tasks K in [1, 2]",
        ),
        ({"frozen_n_tasks_list": [2, 7]}, "frozen_n_tasks_list=(2, 7) is not allowed"),
        (
            {"variants": ["exc", "syn_fancy"]},
            "variants=['exc', 'syn_fancy'] is not allowed; expected "
            "a non-empty list of distinct names from none, ",
        ),
        (
            {"variants": ["none"]},
            "variants=('none',) is not allowed; expected at least one pathway "
            "with modulation parameters",
        ),
        ({"backbones": ["replayed"]}, "backbones=['replayed'] is not allowed"),
        (
            {"n_pretrain": 2},
            "n_pretrain=2 is not allowed; expected fewer tasks than every K of "
            "p2b_n_tasks_list [2, 3] (K = 2 is not above it)",
        ),
        ({"n_pretrain": 3, "p2b_n_tasks_list": "4, 3"}, "n_pretrain=3 is not allowed"),
        (
            {"p3_modes": ["replay"]},
            "p3_modes=['replay'] is not allowed; expected a non-empty list "
            "of distinct names from modulation, finetune",
        ),
        ({"p3_n_tasks": 7}, "p3_n_tasks=7 is not allowed; expected numbers of tasks K in [1, 6]"),
        ({"p3_n_tasks": 1}, "p3_n_tasks=1 is not allowed; expected an int in [2, 20]"),
        ({"p3_max_steps": 0}, "p3_max_steps=0 is not allowed"),
        (
            {"p2b_n_tasks_list": [2, 9]},
            "p2b_n_tasks_list=(2, 9) is not allowed; expected numbers of tasks K in [1, 6]",
        ),
        (
            {
                "variants": ["none"],
                "backbones": ["trained", "sequential"],
                "p3_modes": ["modulation"],
            },
            "expected at least one pathway with modulation parameters (not only 'none') when "
            "backbones includes 'sequential'",
        ),
        ({"address": "nowhere"}, "address='nowhere' is not allowed; expected None"),
        ({"address": "auto"}, "address='auto' is not allowed; expected None with backend='local'"),
        ({"backend": "slurm"}, "backend='slurm' is not allowed; expected one of 'local', 'ray'"),
    ],
)
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
    payload = {"history": {"steps": [0, 40], "perf": [[0, 0, 0], [0.95, 0.5, 0.9]], "wall_s": 1.5}}
    row = packing.network_row(("trained", "exc", 16, 3, 0), cfg.to_dict(), payload)
    assert row["n_at_criterion"] == 2 and not row["all_at_criterion"]
    assert row["params_per_task"] == build_model(cfg).params_per_task() == 32
    assert row["total_mod_params"] == 96 and row["perf:fdanti"] == 0.5 and row["steps"] == 40


# ---------------------------------------------------------------- the sweep


@pytest.mark.slow
def test_smoke_sweep_is_shipped_and_trains_nothing(monkeypatch, capsys):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    monkeypatch.delenv("BOOK_ARTIFACTS", raising=False)
    spec = packing.packing_spec("smoke")
    table = packing.run_packing(spec, progress=False)
    assert len(table) == len(spec.configs()) == 104
    assert list(zip(table.backbone, table.variant, table.N, table.K, table.seed)) == list(
        spec.configs()
    )
    assert (table.n_at_criterion <= table.K).all()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    monkeypatch.delenv("BOOK_NO_TRAIN", raising=False)
    return tmp_path


@pytest.mark.slow
def test_sweep_trains_once_then_loads(store, monkeypatch, capsys):
    proto = battery.battery_spec("smoke", max_steps=4, eval_every=2, easy_steps=0)
    spec = packing.PackingSpec(
        TASK_SETS["conflict6"],
        (8,),
        (1, 2),
        ("none", "exc"),
        1,
        proto,
        ("trained", "frozen_random"),
        (8,),
        (2,),
    )
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
    assert "Plan:" not in capsys.readouterr().out  # nothing to make: no plan on the page
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


@pytest.mark.slow
def test_dry_run_plan_counts_every_arm(store):
    spec = packing.packing_spec("smoke")
    p = packing.packing_plan(spec, 2)
    assert [part.needed for part in p.parts] == [32, 12, 6, 12, 12, 18] and p.to_make == 92
    assert "E3 P1, joint training" in p.text() and "E3 P2(a), frozen random backbone" in p.text()
    assert "E3 P2(b), frozen pretrained backbone" in p.text()
    assert "3 stages, one after the other" in p.text()
    assert isinstance(
        TrainConfig.from_dict(spec.config("trained", "exc", 16, 2, 0).to_dict()), TrainConfig
    )


def test_command_line_dry_run_prints_the_plan(capsys):
    assert packing.main(["--profile", "smoke", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "**Profile `smoke`**" in out and "Plan: 92 artifacts needed" in out


# ---------------------------------------------------------------- P2(b) and P3: lineage in lib.core

from lib.core.ensemble import train_ensemble  # noqa: E402
from lib.experiments.runner import JobsFailed  # noqa: E402

SHARED = ("W_in", "W_rec", "b", "W_out", "b_out")


def tiny(mechanism="exc", tasks=("fdgo",), **changes) -> TrainConfig:
    base = dict(n_rec=8, seed=3, max_steps=4, batch_size=8, eval_every=2, eval_trials=8)
    return TrainConfig(mechanism=mechanism, tasks=tasks, **(base | changes))


def _same(a, b) -> bool:
    return bool(torch.equal(a, b))


import torch  # noqa: E402


@pytest.mark.parametrize("mechanism", ["exc", "syn_prepost", "syn_lowrank", "hybrid"])
def test_child_of_a_pretrained_parent_is_the_fresh_network_but_its_shared_weights(mechanism):
    parent_cfg = tiny(mechanism)
    parent = train.train(parent_cfg, progress=False)
    pstate = parent.model.state_dict()
    child_cfg = tiny(
        mechanism,
        ("fdgo", "fdanti", "delaygo"),
        trainable="modulation",
        init_from=parent_cfg,
        inherit="shared",
    )
    fresh = build_model(child_cfg).state_dict()
    child = train.inherit_weights(build_model(child_cfg), child_cfg, pstate).state_dict()
    assert set(child) == set(fresh)
    for name, value in child.items():
        if name in SHARED:
            assert _same(value, pstate[name]) and not _same(value, fresh[name]), name
        else:  # every task's modulation as a fresh network of this config draws it
            assert _same(value, fresh[name]), name
    # inherit="all": the parent's task keeps its modulation row, the new tasks' rows are fresh
    all_cfg = child_cfg.replace(inherit="all")
    kept = train.inherit_weights(build_model(all_cfg), all_cfg, pstate).state_dict()
    for name in set(kept) - set(SHARED):
        assert _same(kept[name][0], pstate[name][0]), name
        assert _same(kept[name][1:], fresh[name][1:]), name


def test_frozen_shared_weights_do_not_move_and_the_parent_is_checked():
    parent_cfg = tiny("exc")
    parent = train.train(parent_cfg, progress=False)
    cfg = tiny(
        "exc", ("fdgo", "fdanti"), trainable="modulation", init_from=parent_cfg, inherit="shared"
    )
    res = train.train(cfg, progress=False, init_state=parent.model.state_dict())
    state, pstate = res.model.state_dict(), parent.model.state_dict()
    for name in SHARED:
        assert _same(state[name], pstate[name]), name
    fresh = build_model(cfg).state_dict()
    assert not _same(state["G"], fresh["G"]) and not _same(state["B"], fresh["B"])
    with pytest.raises(ValueError, match="pass them as init_state"):
        train.train(cfg, progress=False)
    with pytest.raises(ValueError, match="init_state is given but config.init_from is None"):
        train.train(parent_cfg, progress=False, init_state=pstate)
    other = train.train(tiny("exc", n_rec=6), progress=False).model.state_dict()
    with pytest.raises(
        ValueError, match="init_state: not the weights of a network of config.init_from"
    ):
        train.train(cfg, progress=False, init_state=other)


def test_a_stage_trains_only_its_task_yet_evaluates_every_task():
    parent_cfg = tiny("exc", max_steps=6)
    parent = train.train(parent_cfg, progress=False)
    stage = tiny(
        "exc",
        ("fdgo", "fdanti"),
        trainable="modulation",
        init_from=parent_cfg,
        train_tasks=("fdanti",),
        sampling="error",
    )
    hist = train.History(stage.tasks, perf=[[0.1, 0.95]], steps=[0])
    assert {train.training_batch(stage, s, hist)[0] for s in range(40)} == {1}
    assert stage.task_weights([0.1, 0.95]).tolist() == [0.0, 1.0]
    res = train.train(stage, progress=False, init_state=parent.model.state_dict())
    perf = res.history.perf_array()
    assert perf.shape == (len(res.history.steps), 2)
    state, pstate = res.model.state_dict(), parent.model.state_dict()
    for name in ("G", "B"):  # the old task's modulation row gets exactly no update
        assert _same(state[name][0], pstate[name][0]) and not _same(state[name][1], pstate[name][0])
    # shared weights and task 1's parameters unchanged: task 1 performs exactly as after stage 1
    assert (perf[:, 0] == parent.history.perf[-1][0]).all()
    # the stopping rule looks at the trained task only
    done = train.History(stage.tasks, perf=[[0.0, 0.95]], steps=[0])
    assert train.at_criterion(done, stage) and not train.at_criterion(
        done, stage.replace(train_tasks=None)
    )


def test_lineage_fields_at_their_defaults_leave_to_dict_unchanged():
    keys = {
        "mechanism",
        "tasks",
        "n_rec",
        "rank",
        "seed",
        "max_steps",
        "batch_size",
        "lr",
        "eval_every",
        "eval_trials",
        "criterion",
        "stop_at_criterion",
        "ctxdm_weight",
        "activation",
        "w_rec_init",
        "trainable",
    }
    assert set(TrainConfig("exc").to_dict()) == keys
    e1 = battery.battery_spec("quick").config("exc", 0)
    assert not {"init_from", "inherit", "train_tasks"} & set(e1.to_dict())
    child = tiny("exc", ("fdgo", "fdanti"), init_from=tiny("exc"), train_tasks=["fdanti"])
    d = child.to_dict()
    assert d["init_from"] == tiny("exc").to_dict() and d["train_tasks"] == ["fdanti"]
    assert "inherit" not in d and TrainConfig.from_dict(d) == child
    assert hash(child) == hash(TrainConfig.from_dict(d)) and child.depth == 1
    grand = tiny("exc", ("fdgo", "fdanti", "delaygo"), init_from=d)
    assert grand.depth == 2 and grand.init_from == child
    assert artifacts.artifact_key("network", grand.to_dict()) != artifacts.artifact_key(
        "network", grand.replace(init_from=tiny("exc", ("fdgo", "fdanti"))).to_dict()
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"init_from": tiny("syn_prepost")},
            "init_from: the parent network's mechanism is 'syn_prepost', this network's 'exc'",
        ),
        ({"init_from": tiny("exc", n_rec=16)}, "the parent network's n_rec is 16"),
        (
            {"init_from": tiny("exc", ("delayanti",))},
            "the parent network's tasks ['delayanti'] are not among this network's tasks",
        ),
        (
            {"init_from": {"mechanism": "exc", "n_rec": "x"}},
            "init_from: not the config of a network",
        ),
        ({"init_from": 3}, "init_from: expected None, a TrainConfig or its to_dict(), got a int"),
        (
            {"inherit": "shared"},
            "inherit='shared' says what to take from a parent network, but init_from is None",
        ),
        ({"init_from": tiny("exc"), "inherit": "some"}, "inherit='some' is not allowed"),
        (
            {"train_tasks": ["delaygo"]},
            "train_tasks=['delaygo'] is not allowed; expected None or a "
            "non-empty list of distinct names from tasks=['fdgo', "
            "'fdanti']",
        ),
        ({"train_tasks": []}, "train_tasks=[] is not allowed"),
        ({"train_tasks": "fdgo"}, "train_tasks='fdgo' is not allowed"),
    ],
)
def test_bad_lineage_is_named(changes, message):
    with pytest.raises(ValueError) as err:
        tiny("exc", ("fdgo", "fdanti"), **changes)
    assert message in str(err.value)


def test_an_ensemble_does_not_start_from_a_parent():
    cfg = tiny("exc", ("fdgo", "fdanti"), init_from=tiny("exc"))
    with pytest.raises(
        ValueError, match="configs\\[0\\].init_from=.* an ensemble starts from fresh weights"
    ):
        train_ensemble([cfg, cfg.replace(seed=4)], progress=False)


# ---------------------------------------------------------------- P2(b) and P3 in the grid


def test_pretrained_and_sequential_configs():
    spec = packing.packing_spec("quick")
    assert (spec.n_pretrain, spec.p2b_n_tasks_list, spec.p3_n_recs, spec.p3_n_tasks) == (
        2,
        (6,),
        (64,),
        4,
    )
    child = spec.config("pretrained", "exc", 64, 6, 1)
    backbone = spec.config("pretrain", "exc", 64, 2, 1)
    assert backbone == spec.config("trained", "exc", 64, 2, 1)  # a P1 network, trained once
    assert child.init_from == backbone and child.inherit == "shared"
    assert child.replace(init_from=None, inherit="all") == spec.config(
        "frozen_random", "exc", 64, 6, 1
    )
    steps, easy = spec.stage_steps
    assert (steps, easy) == (spec.p3_max_steps, round(3000 * steps / 12000))
    for arm, trainable in (("seq_modulation", "modulation"), ("seq_finetune", "all")):
        first = spec.config(arm, "exc", 64, 1, 0)
        assert first == spec.config("trained", "exc", 64, 1, 0).replace(
            max_steps=steps, easy_steps=easy
        )
        for k in (2, 3, 4):
            stage = spec.config(arm, "exc", 64, k, 0)
            assert stage.tasks == spec.task_order[:k] and stage.trainable == trainable
            assert stage.train_tasks == (spec.task_order[k - 1],) and stage.inherit == "all"
            assert stage.init_from == spec.config(arm, "exc", 64, k - 1, 0)
            assert stage.depth == k - 1 and stage.max_steps == steps
    smoke = packing.packing_spec("smoke")  # quick has no none
    assert "none" not in smoke.labels("seq_modulation") and "none" in smoke.labels("seq_finetune")
    with pytest.raises(ValueError, match="label='none' is not allowed"):
        spec.config("seq_modulation", "none", 64, 2, 0)
    with pytest.raises(
        ValueError,
        match="n_tasks=2 is not allowed; expected more tasks than the backbone's n_pretrain = 2",
    ):
        spec.config("pretrained", "exc", 64, 2, 0)
    keys = spec.configs()
    assert {k[0] for k in keys} == {
        "trained",
        "frozen_random",
        "pretrain",
        "pretrained",
        "seq_modulation",
        "seq_finetune",
    }


def _chain_spec(**changes) -> packing.PackingSpec:
    proto = battery.battery_spec("smoke", max_steps=4, eval_every=2, easy_steps=0)
    kw = dict(
        task_order=TASK_SETS["conflict6"],
        n_recs=(8,),
        n_tasks_list=(2,),
        variants=("none", "exc"),
        n_seeds=1,
        protocol=proto,
        backbones=("pretrained", "sequential"),
        frozen_n_recs=(8,),
        frozen_n_tasks_list=(2,),
        n_pretrain=1,
        p2b_n_tasks_list=(2,),
        p3_n_recs=(8,),
        p3_n_tasks=3,
    )
    return packing.PackingSpec(**(kw | changes))


@pytest.fixture
def spies(monkeypatch):
    calls = {"fresh": [], "child": []}
    fresh, child = sweep.train, packing.train

    def spy_fresh(config, *a, **kw):
        calls["fresh"].append(config)
        return fresh(config, *a, **kw)

    def spy_child(config, *a, **kw):
        calls["child"].append(config)
        return child(config, *a, **kw)

    monkeypatch.setattr(sweep, "train", spy_fresh)
    monkeypatch.setattr(packing, "train", spy_child)
    return calls


@pytest.mark.slow
def test_chains_train_in_rounds_once_then_load(store, spies, capsys):
    spec = _chain_spec()
    # depth 0: the backbone = P3's stage 1 of exc (one network), stage 1 of none; depth 1: the
    # P2(b) network and three stage-2 networks; depth 2: three stage-3 networks
    table = packing.run_packing(spec, workers=1, progress=False)
    out = capsys.readouterr().out
    assert "Plan: 9 artifacts needed, 0 present, 9 to make" in out
    assert len(spies["fresh"]) == 2 and len(spies["child"]) == 7
    assert [c.depth for c in spies["child"]] == [1] * 4 + [2] * 3
    assert len(table) == len(spec.configs()) == 11
    again = packing.run_packing(spec, workers=1, progress=False)
    assert len(spies["fresh"]) == 2 and len(spies["child"]) == 7
    pd.testing.assert_frame_equal(table.drop(columns="wall_s"), again.drop(columns="wall_s"))
    # the P2(b) network's shared weights are its backbone's; stage 3 keeps stage 2's old rows
    load = lambda cfg: artifacts.load("network", cfg.to_dict())["state_dict"]  # noqa: E731
    child, parent = (
        load(spec.config("pretrained", "exc", 8, 2, 0)),
        load(spec.config("pretrain", "exc", 8, 1, 0)),
    )
    assert all(_same(child[n], parent[n]) for n in SHARED)
    s3, s2 = (load(spec.config("seq_modulation", "exc", 8, k, 0)) for k in (3, 2))
    assert _same(s3["G"][:2], s2["G"]) and all(_same(s3[n], s2[n]) for n in SHARED)
    row = table[(table.backbone == "seq_modulation") & (table.K == 3)].iloc[0]
    assert row.trained_tasks == "delaygo" and row.parent_K == 2
    assert row.tasks == "fdgo,fdanti,delaygo"
    fg = packing_analysis.forgetting(table)
    mod = fg.per_seed[fg.per_seed.backbone == "seq_modulation"]
    assert (mod.forgetting.dropna() == 0).all() and len(mod) == 3
    assert (
        "the largest change of an earlier task's performance over all stages and seeds is 0"
        in packing_analysis.forgetting_text(fg)
    )
    # the single-network entry point loads the same networks
    res = packing.load_or_train_chain(spec.config("seq_finetune", "none", 8, 3, 0))
    assert len(spies["fresh"]) == 2 and len(spies["child"]) == 7
    assert res.config.depth == 2


@pytest.mark.slow
def test_an_interrupted_chain_resumes_at_its_last_finished_stage(store, spies, monkeypatch):
    spec = _chain_spec(
        backbones=("sequential",), variants=("exc",), p3_modes=("finetune",), p3_n_tasks=4
    )
    real = spies["child"]
    broken = packing.train

    def crash_at_stage_3(config, *a, **kw):
        if config.depth == 2:
            raise RuntimeError("killed")
        return broken(config, *a, **kw)

    monkeypatch.setattr(packing, "train", crash_at_stage_3)
    with pytest.raises(JobsFailed) as err:
        packing.run_packing(spec, workers=1, progress=False)
    msg = str(err.value)
    assert "('seq_finetune', 'exc', 8, 3, 0): RuntimeError: killed" in msg
    assert "('seq_finetune', 'exc', 8, 4, 0): not trained: its parent network" in msg
    for k, present in ((1, True), (2, True), (3, False), (4, False)):
        assert (
            artifacts.has("network", spec.config("seq_finetune", "exc", 8, k, 0).to_dict())
            == present
        )
    monkeypatch.setattr(packing, "train", broken)
    n_fresh, n_child = len(spies["fresh"]), len(real)
    table = packing.run_packing(spec, workers=1, progress=False)
    assert len(spies["fresh"]) == n_fresh  # stage 1 loaded
    assert [c.depth for c in real[n_child:]] == [2, 3]  # stage 2 loaded; 3 and 4 trained
    assert list(table.K) == [1, 2, 3, 4]


def test_network_row_of_a_stage():
    spec = _chain_spec()
    cfg = spec.config("seq_finetune", "exc", 8, 2, 0)
    payload = {
        "history": {
            "steps": [0, 2, 4],
            "trials": [0, 128, 256],
            "perf": [[0.95, 0.0], [0.2, 0.5], [0.1, 0.93]],
            "wall_s": 1.0,
        }
    }
    row = packing.network_row(("seq_finetune", "exc", 8, 2, 0), cfg.to_dict(), payload)
    assert row["trials_to_criterion"] == 256 and row["parent_K"] == 1  # task 2 only counts
    assert row["trained_tasks"] == "fdanti" and row["n_at_criterion"] == 1
    assert row["perf:fdgo"] == 0.1 and row["tasks"] == "fdgo,fdanti"


# ---------------------------------------------------------------- P2(b) and P3 analyses


def seq_table() -> pd.DataFrame:
    """Two seeds of one fine-tuning chain over tasks a, b, c (as fdgo, fdanti, delaygo):
    performance on each task after each stage."""
    order = ["fdgo", "fdanti", "delaygo"]
    perf = {
        0: {1: [1.0], 2: [0.5, 1.0], 3: [0.2, 0.6, 0.9]},
        1: {1: [0.9], 2: [0.7, 0.95], 3: [0.4, 0.8, 1.0]},
    }
    rows = []
    for s, stages in perf.items():
        for k, p in stages.items():
            at = [x >= 0.9 for x in p]
            rows.append(
                {
                    "backbone": "seq_finetune",
                    "variant": "exc",
                    "N": 8,
                    "K": k,
                    "seed": s,
                    "tasks": ",".join(order[:k]),
                    "n_at_criterion": sum(at),
                    "all_at_criterion": all(at),
                }
                | {f"perf:{t}": x for t, x in zip(order, p)}
            )
    return pd.DataFrame(rows)


def test_forgetting_on_constructed_histories():
    fg = packing_analysis.forgetting(seq_table())
    ps = fg.per_seed.set_index(["seed", "stage"])
    assert ps.loc[(0, 2), "forgetting"] == pytest.approx(0.5)
    assert ps.loc[(0, 3), "forgetting"] == pytest.approx(((1 - 0.2) + (1 - 0.6)) / 2)
    assert ps.loc[(0, 3), "earlier"] == pytest.approx(0.4) and ps.loc[(0, 3), "task"] == "delaygo"
    assert ps.loc[(1, 3), "forgetting"] == pytest.approx(((0.9 - 0.4) + (0.95 - 0.8)) / 2)
    assert np.isnan(ps.loc[(0, 1), "forgetting"]) and np.isnan(ps.loc[(0, 1), "earlier"])
    assert ps.loc[(1, 2), "earlier_at_criterion"] == 0 and ps.loc[(1, 3), "n_at_criterion"] == 1
    s = fg.summary.set_index("stage")
    assert s.loc[3, "forgetting"] == pytest.approx((0.6 + 0.325) / 2)
    assert s.loc[3, "forgetting_hw"] == pytest.approx(
        12.706 * np.std([0.6, 0.325], ddof=1) / np.sqrt(2), rel=1e-3
    )
    c = fg.curves[fg.curves.task == "fdgo"].set_index("stage")
    assert c.perf.tolist() == pytest.approx([0.95, 0.6, 0.3]) and (c.n == 2).all()
    h = fg.held.iloc[0]
    assert h.held == 1 and h.stages == 3  # seed 0: stage 1 only; seed 1: stage 1 too
    text = packing_analysis.forgetting_text(fg)
    assert "*fine-tuning*, N = 8, after stage 3 (delaygo)" in text
    assert "forgetting 0.46 ± 1.75" in text
    for fig in (packing_plots.forgetting_curves(fg), packing_plots.stage_summary(fg)):
        assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="column 'tasks' is missing"):
        packing_analysis.forgetting(seq_table().drop(columns="tasks"))
    empty = packing_analysis.forgetting(synth({("exc", 16): [2]}))
    assert packing_analysis.forgetting_text(empty) == "*(the sequential arm was not run)*"


def test_pretrained_against_random_is_paired_over_seeds():
    pre = synth(
        {("exc", 64): [6, 6, 4], ("syn_prepost", 64): [2, 0, 0]},
        ks=(6,),
        backbone="pretrained",
        below=3,
    )
    rnd = synth(
        {("exc", 64): [2, 0, 0], ("syn_prepost", 64): [2, 0, 0]},
        ks=(6,),
        backbone="frozen_random",
        below=1,
    )
    bb = synth(
        {("exc", 64): [2, 2, 0], ("syn_prepost", 64): [2, 2, 2]}, ks=(2,), backbone="pretrain"
    )
    pre["parent_K"] = 2
    pre["trials_to_criterion"] = [1000.0, 3000.0, np.nan, np.nan, np.nan, np.nan]
    t = pd.concat([pre, rnd, bb], ignore_index=True)
    cmp = packing_analysis.pretrained_vs_random(t).set_index("variant")
    e = cmp.loc["exc"]
    assert e.pretrained == pytest.approx((6 + 6 + 3) / 3) and e.random == pytest.approx(1.0)
    assert e["diff"] == pytest.approx(4.0) and e.pairs == 3
    assert e.p == pytest.approx(paired({0: 6, 1: 6, 2: 3}, {0: 1, 1: 1, 2: 1})["p"])
    assert e.all_pretrained == pytest.approx(2 / 3) and e.backbone_learned == pytest.approx(2 / 3)
    assert e.ttc_pretrained == 2000 and e.ttc_pretrained_n == 2
    assert cmp.loc["syn_prepost", "diff"] == pytest.approx(2.0)  # 3 vs 1 tasks in every seed
    assert np.allclose(cmp.p_holm, holm(cmp.p.to_numpy()))
    text = packing_analysis.pretrained_text(packing_analysis.pretrained_vs_random(t))
    assert "first 2 tasks" in text and "`exc` 5.0 ± 4.3 (random backbone 1.0 ± 0.0" in text
    assert "Every task learned in at least one seed: `exc`; never: `syn_prepost`." in text
    assert "`exc` 2,000 trials at N = 64, K = 6 (2 of 3 seeds)" in text
    pretrained = packing_analysis.pretrained_vs_random(t)
    assert isinstance(packing_plots.pretrained_vs_random(t, pretrained), Figure)
    unrun = packing_analysis.pretrained_vs_random(synth({("exc", 16): [2]}))
    assert packing_analysis.pretrained_text(unrun) == "*(the pretrained-backbone arm was not run)*"
