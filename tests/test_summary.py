"""The results-at-a-glance table (lib.analysis.summary) at profile smoke, its forest plot, the
conclusions page's power, equivalence and specification tables, and the hybrid ablation's
computed interpretation (lib.analysis.battery.ablation_text)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.analysis import battery as battery_analysis
from lib.analysis import factorial, provenance, summary, synergy
from lib.analysis import tuning as tuning_analysis
from lib.analysis import verdicts
from lib.plots import verdicts as verdicts_plots
from lib import artifacts
from lib.experiments import battery, tuning
from lib.experiments.manifest import manifest

REPO = Path(__file__).resolve().parents[1]
BASE = verdicts.RULES["C2.noise_fresh"]


def planted_cells(effects: dict, seeds: int = 8) -> dict:
    """A seed x task table per factorial cell's variant: 0.5 + the cell's planted effect + small
    noise."""
    rng = np.random.default_rng(0)
    return {
        variant: pd.DataFrame(
            0.5 + effects.get(cell, 0.0) + 0.01 * rng.standard_normal((seeds, 3)),
            columns=["fdgo", "fdanti", "delaygo"],
        )
        for cell, variant in factorial.CELLS.items()
    }


@pytest.fixture(scope="module")
def table():
    return summary.claims_table("smoke")


def test_one_row_per_claim_with_an_allowed_verdict(table):
    assert list(table.index) == ["C1", "C2", "C3", "C4", "C5"]
    assert set(table["verdict"]) <= set(summary.VERDICTS)
    for c in table.index:
        assert table.loc[c, "key numbers"].strip()
        assert table.loc[c, "chapter"], c
    assert table.attrs["profile"] == "smoke"


def test_links_point_at_chapters_of_the_book(table):
    toc = (REPO / "_toc.yml").read_text()
    for c, row in table.iterrows():
        if not row["chapter"]:
            continue
        assert (REPO / "book" / f"{row['chapter']}.ipynb").is_file(), row["chapter"]
        assert f"book/{row['chapter']}" in toc
    html = summary.claims_html(table)
    assert html.count("<a href=") == (table["chapter"] != "").sum() == 5
    assert '<a href="03_battery.html">' in html and "<code>" in html


def _bars(exc_removed: float, syn_removed: float, frozen: float = 1.0) -> dict:
    intact = np.full((3, 2), 0.98)
    return {
        "intact": intact,
        "exc removed (zero)": np.full((3, 2), exc_removed),
        "exc removed (mean)": np.full((3, 2), exc_removed),
        "syn removed (zero)": np.full((3, 2), syn_removed),
        "syn removed (mean)": np.full((3, 2), syn_removed),
        "exc frozen in training": np.full((3, 2), frozen),
        "syn frozen in training": np.full((3, 2), frozen),
    }


@pytest.mark.parametrize(
    "exc, syn, meaning",
    [
        (0.1, 0.97, "relies on its excitability pathway"),
        (0.97, 0.1, "relies on its synaptic pathway"),
        (0.1, 0.1, "division of labour"),
        (0.97, 0.97, "redundant, not complementary"),
    ],
)
def test_ablation_text_follows_the_numbers(exc, syn, meaning):
    text = battery_analysis.ablation_text(_bars(exc, syn), ("fdgo", "fdanti"))
    assert meaning in text and "C5" in text
    assert "not a limit of the unused one" in text  # both frozen hybrids learn every task
    text = battery_analysis.ablation_text(_bars(exc, syn, frozen=0.5), ("fdgo", "fdanti"))
    assert "not a limit" not in text


MAX_CELL_WORDS = 65
"""A results-table cell stays short (about 60 words)."""


def test_cells_are_short_and_never_print_a_zero_p(table):
    for c, row in table.iterrows():
        assert len(row["key numbers"].split()) <= MAX_CELL_WORDS, c
        assert "p = 0 " not in row["key numbers"] and "p = 0," not in row["key numbers"]
        assert row["verdict"] != "not supported" or c  # allowed, but only from equivalence


def test_forest_rows_hold_every_deciding_comparison(table):
    comps = summary.deciding(table)
    assert comps and all(not c.rule.exploratory for c in comps)
    assert {c.rule.claim for c in comps} <= set(table.index)
    rows = verdicts.forest_rows(comps)
    assert len(rows) == len(comps)
    fig = verdicts_plots.forest(rows)
    assert fig.get_figwidth() == verdicts_plots.WIDTH_IN
    with pytest.raises(ValueError, match="columns"):
        verdicts_plots.forest(pd.DataFrame({"claim": ["C1"]}))


def test_profile_line_gives_the_seeds_each_claim_used(table):
    line = summary.profile_line(table)
    for c, n in table.attrs["seeds"].items():
        assert f"{c} {n}" in line


def test_power_and_equivalence_tables(table):
    power = summary.power_table(table)
    assert list(power.index) == list(table.index)
    assert (power["adequately powered"] <= power["comparisons tested"]).all()
    eq = summary.equivalence_table(table)
    assert list(eq.columns) == ["claim", "measures", "bound (±)", "why this size"]
    assert (eq["claim"] == "C2").sum() == 1  # one bound for all of C2's probes
    assert eq["why this size"].str.len().min() > 10


def test_conclusions_say_what_each_verdict_means_for_the_paper(table):
    assert set(summary.RELATION) == set(summary.VERDICTS)
    out = summary.conclusions_table(table)
    for c, row in out.iterrows():
        assert row["relation to the paper"] == summary.RELATION[row["verdict"]]
        assert row["departures"] == summary.DEPARTURES[c]
    html = summary.claims_html(out)
    assert "<th" in html and "relation to the paper" in html and "departures" in html
    assert "relation to the paper" not in summary.claims_html(table)  # results page unchanged


def test_limitations_follow_the_profile(table):
    lines = summary.limitations(table)
    spec = table.attrs["spec"]
    assert any(f"Only {len(spec.tasks)} of the battery's 20 tasks" in l for l in lines)
    assert any("smallest p is 2/2^n" in l and "inconclusive" in l for l in lines)
    (protocol,) = [l for l in lines if "fair-tuning grid" in l]
    profile = table.attrs["profile"]
    if not tuning.SHIPPED_GRIDS.get(profile):
        assert "has not yet chosen" in protocol
    elif not tuning.SHIPPED_TUNED.get(profile):
        assert "still training" in protocol and "shipped)" in protocol
    else:
        assert "re-derives C1, C2 and C4 by their own rules" in protocol
        pending = [v for v in tuning.TUNED_VARIANTS if v not in tuning.SHIPPED_TUNED[profile]]
        assert any(f"`{pending[-1]}`" in l for l in lines if "Still in tuning" in l) or not pending


def test_specification_table_has_a_row_per_checked_claim(table):
    runs = summary.load_runs("smoke")
    df = summary.specification_table(table, runs)
    assert list(df.index) == ["C1", "C2", "C3", "C4", "C5"]
    # C5's row is synergy.c5_multiverse on the same learning and packing tables as its verdict
    mv = synergy.c5_multiverse(table.attrs["learn"], table.attrs["joint"])
    assert df.loc["C5", "main verdict"] == mv.loc[mv["main"], "verdict"].iloc[0]
    scored = mv[mv.verdict != "not tested"]
    assert df.loc["C5", "not scorable"] == len(mv) - len(scored)
    assert df.loc["C5", "agree"].endswith(f" of {len(scored)}")
    assert set(df["main verdict"]) <= {*summary.VERDICTS, "–"}
    assert df["agree"].str.match(r"^\d+ of \d+$").all()


def test_reproducibility_tables():
    env = provenance.environment()
    assert (
        env.loc["torch", "version"].startswith("2.")
        and "network" in env.loc["behaviour versions", "version"]
    )
    prof = provenance.profiles_table(battery.BATTERY_PARAMS, ["n_rec", "n_seeds"])
    assert list(prof.columns) == ["smoke", "quick", "paper", "meaning"]
    assert prof.loc["n_rec", "paper"] == "256"


def test_the_compute_table_counts_every_shipped_network_once_per_group():
    m = manifest("smoke")
    groups = m.shipped_groups()
    assert set(groups) == {
        "E1 (chapters 03, 04, 06, 08)",
        "E1's training arms (chapter 04)",
        "E3 packing (chapter 05)",
        "E5 learning (chapter 07)",
        "E5 filter-trained (chapter 07)",
        "calibration study (training appendix)",
        "fair-tuning grid (training appendix)",
        "tuned test seeds (chapters 03, 04, 06)",
        "C1's floor for the tuned seeds, `none` (conclusions)",
    }
    grid_spec = tuning.shipped_grid_spec("smoke")
    # exc's equalised initialisation is its standard one: one network, counted once
    assert len(groups["fair-tuning grid (training appendix)"]) == grid_spec.size
    assert len(grid_spec.configs()) > grid_spec.size

    # both of E3's grids: the joint one (C3) and the hybrid's (C5)
    def keys(spec):
        return {artifacts.artifact_key("network", c.to_dict()) for c in spec.configs().values()}

    joint, hybrid = m.packing
    e3 = keys(joint) | keys(hybrid)
    assert set(groups["E3 packing (chapter 05)"]) == e3
    assert keys(joint) < e3  # the hybrid's grid (C5) adds its own networks
    compute = provenance.shipped_compute("smoke")
    assert list(compute.index) == list(groups)
    assert compute.loc["E3 packing (chapter 05)", "count"] == len(e3)
    assert (compute["count"] > 0).all() and (compute["training, one thread (min)"] >= 0).all()


def test_c3_text_states_the_floor_with_three_seeds():
    # every seed of exc packs all 6 tasks at N = 32, the synaptic pathways only the first 2
    caps = {"exc": 6, "syn_prepost": 2, "syn_lowrank_r1": 2}
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
        for v, c in caps.items()
        for s in range(3)
        for k in (2, 4, 6)
    ]
    v = summary.packing_analysis.verdict_c3(pd.DataFrame(rows))
    assert v["verdict"] == "inconclusive"  # +4 in every seed, but 3 seeds cannot reach 0.05
    text = summary.c3_text(v)
    assert "4 comparisons at N = 32" in text and "+4.0 [+4.0, +4.0]" in text
    assert "With 3 seeds (smallest p 0.25)" in text and "8 seeds needed" in text  # 2/2^8 < 0.05/4
    assert len(text.split()) <= MAX_CELL_WORDS


def test_the_protocol_table_sets_site_contrasts_under_both_protocols(table):
    runs = summary.load_runs("smoke")
    rows, text = summary.protocol_table(table, runs, summary.load_tuned(table, runs))
    # at smoke the tuned seeds are shipped; nothing learns, so the rule excludes every variant
    assert rows is not None and list(rows.columns) == list(tuning_analysis.PROTOCOLS)
    claims = {m.split(":")[0] for m in rows.index}
    assert claims == {"C1", "C2", "C4"}
    assert (rows[tuning_analysis.PROTOCOLS[1]] == "not tested").all()
    assert "*own protocols*: 0 differ, 0 equivalent, 0 inconclusive of 0 site contrasts" in text
    assert "Excluded by the learning rule: `exc_bias`" in text and "decides nothing" in text
    # a run that departs from the profile's settings is not compared with the profile's seeds
    other = summary.Runs(
        runs.params, dataclasses.replace(runs.spec, n_rec=8), runs.nets, runs.probes
    )
    assert summary.protocol_table(table, other, summary.load_tuned(table, other))[0] is None


def test_the_claims_re_derived_on_the_tuned_seeds_use_the_headline_rules(table):
    runs = summary.load_runs("smoke")
    tuned = summary.load_tuned(table, runs)
    own = summary.tuned_claims(table, runs, tuned)
    assert list(own.index) == list(summary.RE_DERIVED)
    assert (own[summary.COMMON] == table.loc[list(summary.RE_DERIVED), "verdict"]).all()
    # at smoke nothing learns, so the learning rule excludes every tuned variant
    assert set(tuned.excluded) == set(tuned.spec.variants)
    assert (own[summary.OWN] == "not tested").all() and (own["seeds (own)"] == 0).all()
    # the smoke test seeds train at E1's budget, so their floor is E1's `none` itself
    assert set(tuned.floor) == {("none", s) for s in range(tuned.spec.n_seeds)}
    assert (
        own.attrs["floor"]
        == "`none` trained beside the test seeds, at their budget of 40 steps (2 seeds)"
    )
    assert "* C1's context-blind floor: `none` trained beside" in summary.tuned_claims_text(own)
    # known answer: re-derived on E1's own networks, the rules give the headline's verdicts
    mine = lambda d: {k: v for k, v in d.items() if k[0] in tuned.spec.variants}  # noqa: E731
    e1 = summary.TunedRuns(
        tuned.spec, "", mine(runs.nets), (), mine(runs.probes), mine(table.attrs["dyn"])
    )
    again = summary.tuned_claims(table, runs, e1)
    assert again.attrs["floor"].startswith("E1's own `none` (2 seeds, E1's budget of 40 steps)")
    assert again["same verdict"].all()
    assert (again["common seeds decide"] == own["common seeds decide"]).all()
    assert (again["seeds (own)"] == [table.attrs["seeds"][c] for c in summary.RE_DERIVED]).all()


def test_a_verdict_that_changes_with_the_protocol_is_said_in_the_headline(table):
    own = pd.DataFrame(
        {
            summary.COMMON: ["supported", table.loc["C4", "verdict"]],
            summary.OWN: ["supported", "not supported"],
            "seeds (common)": [6, 6],
            "seeds (own)": [6, 10],
            "same verdict": [True, False],
            "common seeds decide": [True, True],
            "key numbers (own protocols)": ["7 of 7 beat none.", "Not supported: equivalent."],
        },
        index=pd.Index(["C1", "C4"], name="claim"),
    )
    out = summary.conclusions_table(table, own)
    assert out.loc["C4", "key numbers"].endswith(
        "Under each pathway's own protocol (10 seeds) the verdict is not supported "
        "(section on protocols below)."
    )
    assert out.loc["C1", "key numbers"] == table.loc["C1", "key numbers"]
    text = summary.tuned_claims_text(own)
    assert text.startswith("* **C1**: 7 of 7 beat none.\n* **C4**: Not supported: equivalent.")
    assert "C1 keeps its verdict under each pathway's own protocol." in text
    common = table.loc["C4", "verdict"]
    assert (
        f"C4 is *{common}* under E1's common protocol (6 seeds) and *not supported* under each "
        "pathway's own (10 seeds): the verdict depends on the training protocol." in text
    )
    # where the common build's seeds could not decide, the change is not put on the protocol
    own["common seeds decide"] = False
    text = summary.tuned_claims_text(own)
    assert "the verdict depends on the training protocol" not in text
    assert "may come from the seeds as much as from the protocol" in text
    assert summary.tuned_claims_text(None) == ""


def test_the_site_table_keeps_only_site_contrasts_and_names_them():
    planted = planted_cells({("neuron", "additive"): 0.2, ("neuron", "multiplicative"): 0.2})
    full = factorial.factorial_comparisons(planted, BASE)
    simple = factorial.design_comparisons(
        {k: v for k, v in planted.items() if k != "exc_gain"}, BASE, ("exc_gain",)
    )
    builds = {"a": {"m": full}, "b": {"m": simple}}
    rows = summary.site_table(builds)
    assert rows.loc["m", "a"].startswith("main effect: differ (+0.")
    assert rows.loc["m", "b"].startswith("at additive: differ (+0.")  # no operation contrast
    assert "operation" not in rows.loc["m", "b"]
    text = summary.site_text(builds, ("exc_gain",), "")
    assert "*a*: 1 differ, 0 equivalent, 0 inconclusive of 1 site contrasts" in text
    assert "opposite signs" not in text
    # the same measure, the site effect reversed in a third build: its direction is not claimed
    reversed_cells = planted_cells(
        {("synapse", "additive"): 0.2, ("synapse", "multiplicative"): 0.2}
    )
    builds["c"] = {"m": factorial.factorial_comparisons(reversed_cells, BASE)}
    text = summary.site_text(builds, ("exc_gain",), "")
    assert "On 1 measure(s) (m) the site effect differs with opposite signs" in text


def test_a_site_effect_that_reverses_with_the_operation_claims_no_direction():
    # neuron ahead at the multiplicative operation, synapse ahead at the additive one
    crossed = planted_cells({("neuron", "multiplicative"): 0.2, ("synapse", "additive"): 0.2})
    comps = factorial.design_comparisons(crossed, BASE)
    rows = summary.site_table({"own": {"m": comps}})
    assert "at additive (exploratory): differ (-0." in rows.loc["m", "own"]
    assert "at multiplicative (exploratory): differ (+0." in rows.loc["m", "own"]
    text = summary.site_text({"own": {"m": comps}}, (), "")
    assert "*own*: 0 differ, 1 equivalent, 0 inconclusive of 1 site contrasts" in text
    assert "site at each operation: 2 differ of 2" in text
    assert "Under *own*, on 1 measure(s) (m) the site effect differs with opposite signs" in text
