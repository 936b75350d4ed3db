"""The full battery (``full`` profile): its parameters, its networks shared with the calibration,
complete sets only, and its analyses on the shipped smoke networks."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from lib.analysis import full_battery as full_analysis
from lib.analysis import verdicts
from lib.analysis.ambiguity import AT_SCALE_MEASURES
from lib.analysis.factorial import CONTRASTS
from lib.core.tasks import TASKS
from lib.experiments import chapter_params, full_battery
from lib.experiments.calibration import FULL_SPECS
from lib.plots import full_battery as full_plots


def test_full_profile_is_the_full_battery_chapters_only() -> None:
    assert full_battery.full_spec("full") == full_battery.full_spec("quick")
    spec = full_battery.full_spec("full")
    assert spec.battery.tasks == tuple(TASKS) and spec.battery.n_rec == 128
    with pytest.raises(ValueError, match="profile='full'.*10_full_battery"):
        chapter_params("battery", "full")
    with pytest.raises(ValueError, match="n_seeds"):
        chapter_params("full_battery", "full", n_seeds=0)


def test_e1_and_e3_at_scale_are_the_calibration_networks() -> None:
    # the calibration's networks are E1's and E3's: same configs, so same artifact keys
    spec = full_battery.full_spec("full")
    for n in (128, 64):
        for mech in ("exc_bias", "syn_prepost"):
            for seed in range(2):
                cal = FULL_SPECS[n].config(mech, "easy_lr", seed)
                assert spec.size_configs()[n, mech, seed] == cal
                if n == spec.battery.n_rec:
                    assert spec.e1_configs()[mech, seed] == cal
    jobs = spec.jobs()
    assert len(set(jobs.values())) == len(jobs)  # every network once
    assert not any(k[0] == "E3" and k[1] == 128 for k in jobs)


def test_only_complete_sets_are_shown() -> None:
    spec = full_battery.full_spec("smoke")
    spec = dataclasses.replace(spec, battery=dataclasses.replace(spec.battery, n_seeds=2))
    nets = {("exc_bias", 0): 1, ("exc_bias", 1): 1, ("hybrid", 0): 1}
    assert full_battery.complete_variants(nets, spec) == ["exc_bias"]
    sizes = {(8, v, s): 1 for v in spec.size_variants for s in range(spec.size_seeds)}
    sizes[16, spec.size_variants[0], 0] = 1
    assert full_battery.complete_sizes(sizes, spec) == [8]
    text = full_analysis.missing_text(nets, spec)
    assert "`hybrid` (1 of 2 seeds)" in text and "`exc_bias`" not in text


def test_analyses_on_the_shipped_smoke_battery() -> None:
    spec = full_battery.full_spec("smoke")
    nets, size_nets = full_battery.full_networks(spec)
    assert full_battery.complete_variants(nets, spec) == list(spec.battery.variants)
    summary = full_analysis.learned_summary(nets, spec)
    assert list(summary.index) == list(spec.battery.variants)
    counts = full_analysis.final_counts(nets)
    # known answer: a count is the number of tasks whose last evaluation is at criterion
    for key, res in nets.items():
        row = counts[counts["key"] == key].iloc[0]
        assert row["at criterion (end)"] == int((res.history.perf_array()[-1] >= 0.9).sum())
    table = full_analysis.size_table(size_nets, spec)
    assert sorted(table["N"].unique()) == sorted(spec.sizes)
    per_task = table["modulation params per task"]
    assert (per_task > 0).all()
    v = full_analysis.scale_verdict_c1(nets, spec)
    assert v["verdict"] in ("supported", "partly supported", "not supported", "inconclusive")
    assert all(c.n_seeds == 2 for c in v["comparisons"])


def test_a_diverged_network_counts_and_is_named() -> None:
    spec = full_battery.full_spec("smoke")
    _, size_nets = full_battery.full_networks(spec)
    key = (min(spec.sizes), spec.size_variants[1], 0)
    assert "non-finite" not in full_analysis.size_text(size_nets, spec)
    diverged = dataclasses.replace(size_nets[key].history, diverged_at=1000)
    size_nets = size_nets | {key: dataclasses.replace(size_nets[key], history=diverged)}
    table = full_analysis.size_table(size_nets, spec)
    assert table["diverged at step"].notna().sum() == 1  # it stays in the table, flagged
    text = full_analysis.size_text(size_nets, spec)
    assert f"`{key[1]}` seed 0 at N = {key[0]}: its training loss became non-finite" in text


def test_the_factorial_at_scale_waits_for_all_four_cells() -> None:
    spec = full_battery.full_spec("smoke")
    res = full_analysis.scale_results(spec)
    measures = [verdicts.C2_MEASURES[m][0] for m in AT_SCALE_MEASURES]
    assert list(res.factorial) == measures  # every cell is complete at smoke
    for comps in res.factorial.values():
        assert [c.rule.name.rsplit(".", 1)[-1] for c in comps] == list(CONTRASTS)
    without = {k: v for k, v in res.probes.items() if k[0] != "syn_lowrank_r1"}
    assert full_analysis.factorial_at_scale(without) == {}


def test_c3_at_scale_is_exploratory_and_paired() -> None:
    rule = full_analysis.C3_SCALE_RULE
    assert rule.exploratory and rule.claim == "C3"
    spec = full_battery.full_spec("smoke")
    _, size_nets = full_battery.full_networks(spec)
    comps = full_analysis.c3_at_scale(size_nets, spec)
    assert len(comps) == 1 and comps[0].verdict != "differ"


def test_side_by_side() -> None:
    df = full_analysis.side_by_side(
        {"C1": "supported", "C2": "inconclusive"}, {"C1": "supported", "C2": "not tested"}
    )
    assert isinstance(df, pd.DataFrame)
    assert df.loc["C1", "holds at scale"] == "yes" and df.loc["C2", "holds at scale"] == "open"
    mixed = full_analysis.side_by_side(
        {"C1": "supported", "C2": "inconclusive", "C4": "not supported"},
        {"C1": "partly supported", "C2": "inconclusive", "C4": "not supported"},
    )
    assert list(mixed["holds at scale"]) == ["no", "open", "yes"]


def test_figures_show_one_line_per_network_and_two_size_panels() -> None:
    spec = full_battery.full_spec("smoke")
    nets, size_nets = full_battery.full_networks(spec)
    fig = full_plots.tasks_learned_curves(nets, ["exc_bias", "hybrid"])
    assert len(fig.axes[0].lines) == 2 * spec.battery.n_seeds + 1  # + the bar of 18 tasks
    fig = full_plots.tasks_vs_size(full_analysis.size_table(size_nets, spec))
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xlim()[0] < min(spec.sizes) < max(spec.sizes) < fig.axes[0].get_xlim()[1]


def test_scale_pairs_and_verdicts_follow_the_quick_aggregation() -> None:
    assert full_analysis.scale_pairs(["none", "exc_bias", "syn_prepost", "hybrid"]) == [
        ("exc_bias", "syn_prepost")
    ]
    c1 = {"verdict": "supported"}
    c2 = {("a", "b"): {"verdict": "partly supported"}, ("a", "c"): {"verdict": "inconclusive"}}
    c4 = {("a", "b"): {"verdict": "alike"}, ("a", "c"): {"verdict": "alike"}}
    v = full_analysis.scale_verdicts(c1, c2, c4)
    assert v["C1"] == "supported" and v["C2"] == "partly supported"
    assert v["C4"] == "not supported" and v["C3"].startswith("not tested")
    assert full_analysis.scale_verdicts(c1, {}, {})["C2"] == "not tested"
    spec = full_battery.full_spec("full")
    table = full_analysis.side_by_side({"C3": "inconclusive"}, {"C3": v["C3"]}, spec, "quick")
    assert table.loc["C3", "holds at scale"] == "open"
    assert "full battery (20 tasks, N = 128)" in table.columns
