"""The site x operation factorial: contrasts on planted cell means, composition, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.analysis import ambiguity as ambiguity_analysis
from lib.analysis import factorial
from lib.experiments import ambiguity
from lib.experiments import battery
from lib.analysis.verdicts import C2_MEASURES, RULES, rule_fingerprint

BASE = RULES["C2.noise_fresh"]
GOLDEN_DERIVED = ["e8cfcc05d32ad36a", "c86d906f19e95ea6", "eb1676bb75a7f8c3"]
"""Fingerprints of the contrast rules derived from BASE (change the derivation deliberately:
update these and say why in the commit)."""
SEEDS = range(8)
TASKS = ["fdgo", "fdanti", "delaygo"]


def _values(effects: dict[tuple[str, str], float], noise: float = 0.01, seed: int = 0) -> dict:
    """A seed x task table per cell variant: 0.5 + the cell's planted effect + small noise."""
    rng = np.random.default_rng(seed)
    return {
        variant: pd.DataFrame(
            0.5 + effects.get(cell, 0.0) + noise * rng.standard_normal((len(SEEDS), len(TASKS))),
            index=list(SEEDS),
            columns=TASKS,
        )
        for cell, variant in factorial.CELLS.items()
    }


def _verdicts(comps) -> dict[str, str]:
    return {c.rule.name.rsplit(".", 1)[-1]: c.verdict for c in comps}


def test_a_pure_site_effect_is_found_as_site_only():
    values = _values({("neuron", "additive"): 0.2, ("neuron", "multiplicative"): 0.2})
    comps = factorial.factorial_comparisons(values, BASE)
    assert _verdicts(comps) == {
        "site": "differ",
        "operation": "equivalent",
        "interaction": "equivalent",
    }
    site = comps[0]
    assert site.label == "neuron − synapse" and site.mean == pytest.approx(0.2, abs=0.02)
    assert "*where* modulation acts" in factorial.factorial_text(comps, "fresh noise")


def test_no_effect_anywhere_reads_as_equivalence_not_as_absence_of_evidence():
    comps = factorial.factorial_comparisons(_values({}), BASE)
    assert set(_verdicts(comps).values()) == {"equivalent"}
    text = factorial.factorial_text(comps, "fresh noise")
    assert "both *equivalent*" in text and f"±{BASE.sesoi:g}" in text
    noisy = factorial.factorial_comparisons(_values({}, noise=0.5), BASE)
    assert "differ" not in _verdicts(noisy).values()
    assert "equivalent" not in factorial.factorial_text(noisy, "fresh noise").split("\n")[-1] or (
        "the rest inconclusive" in factorial.factorial_text(noisy, "fresh noise")
    )


def test_an_operation_effect_is_not_read_as_a_site_effect():
    # the additive bias alone is different: what E4 found; a bias-vs-synapse comparison alone
    # would call it a site difference
    values = _values({("neuron", "additive"): 0.3})
    v = _verdicts(factorial.factorial_comparisons(values, BASE))
    assert v["operation"] == "differ" and v["interaction"] == "differ"
    a, b = factorial.contrast_sides(values, "interaction")
    np.testing.assert_allclose((a - b).mean(axis=1).mean(), 0.3, atol=0.02)


def test_contrasts_use_only_units_every_cell_measured():
    values = _values({})
    values["syn_prepost"].loc[3, "fdgo"] = np.nan  # one seed did not learn Go
    assert factorial.common_cell_units(values) == ["fdanti", "delaygo"]
    a, b = factorial.contrast_sides(values, "site")
    assert list(a.columns) == ["fdanti", "delaygo"] and list(a.index) == list(SEEDS)


def test_no_difference_with_three_seeds_is_inconclusive_not_equivalent():
    values = {k: v.loc[:2] for k, v in _values({}).items()}
    comps = factorial.factorial_comparisons(values, BASE)
    assert {c.verdict for c in comps} == {"inconclusive"}  # exact TOST floor 1/8 > 0.05


def test_derived_rules_follow_their_base_and_are_guarded():
    rules = factorial.factorial_rules(BASE)
    assert set(rules) == {"site", "operation", "interaction"}
    for r in rules.values():
        assert (r.claim, r.version, r.sesoi, r.unit) == (
            BASE.claim,
            BASE.version,
            BASE.sesoi,
            BASE.unit,
        )
        assert r.family == f"factorial.{BASE.name}" and r.name not in RULES
    # the derivation itself: a change of titles, families or text must be deliberate
    assert [rule_fingerprint(r) for r in rules.values()] == GOLDEN_DERIVED


def test_bad_input_is_named():
    values = _values({})
    with pytest.raises(ValueError, match=r"missing the variant\(s\) \['exc_gain'\]"):
        factorial.factorial_comparisons({k: v for k, v in values.items() if k != "exc_gain"}, BASE)
    with pytest.raises(ValueError, match="contrast: got 'size'"):
        factorial.contrast_sides(values, "size")
    with pytest.raises(TypeError, match=r"values\['exc_bias'\]: got list"):
        factorial.contrast_sides(values | {"exc_bias": [1, 2]}, "site")


def test_cells_table_names_the_design():
    t = factorial.cells_table()
    assert len(t) == 4 and set(t.site) == set(factorial.SITES)
    assert t.set_index("variant").loc["syn_prepost", "parameters per task"] == "2N"


def test_summary_and_overview_count_verdicts_per_contrast():
    by = {
        "site only": factorial.factorial_comparisons(
            _values({("neuron", "additive"): 0.2, ("neuron", "multiplicative"): 0.2}), BASE
        ),
        "nothing": factorial.factorial_comparisons(_values({}), BASE),
    }
    table = factorial.factorial_summary(by)
    assert table.loc["site only", "site"].startswith("differ (+0.")
    assert table.loc["nothing", "site"].startswith("equivalent")
    text = factorial.factorial_overview(by)
    assert "site main effect (neuron − synapse) differs on 1, is equivalent on 1" in text
    assert "where the interaction differs" not in text  # no crossed measure, no caveat
    crossed = {
        "crossed": factorial.factorial_comparisons(_values({("neuron", "additive"): 0.4}), BASE)
    }
    text = factorial.factorial_overview(by | crossed)
    assert "On the 1 measure(s) where the interaction differs (crossed)" in text
    assert "not computed" in factorial.factorial_overview({})


def test_c2_factorial_on_the_shipped_smoke_probes():
    nets = battery.run_battery(battery.battery_spec("smoke"), progress=False)
    probes = ambiguity.run_ambiguity(
        battery.variant_networks(nets), profile="smoke", progress=False
    )
    by = ambiguity_analysis.c2_factorial(probes)
    assert len(by) == len(C2_MEASURES) and all(len(c) == 3 for c in by.values())
    without = {k: v for k, v in probes.items() if k[0] != "exc_gain"}
    assert ambiguity_analysis.c2_factorial(without) == {}


def test_an_excluded_cell_leaves_only_the_simple_effects_between_kept_cells():
    values = _values({("neuron", "multiplicative"): 0.2})
    excluded = ("syn_lowrank_r1",)
    kept = {k: v for k, v in values.items() if k not in excluded}
    comps = factorial.design_comparisons(kept, BASE, excluded)
    # the synapse-additive cell is gone: site only at the multiplicative operation, operation
    # only at the neuron; no main effect, no interaction
    assert _verdicts(comps) == {"site_at_multiplicative": "differ", "operation_at_neuron": "differ"}
    by = {factorial.contrast_name(c): c for c in comps}
    assert by["site_at_multiplicative"].label == "exc_gain − syn_prepost"
    assert by["site_at_multiplicative"].mean == pytest.approx(0.2, abs=0.02)
    assert by["operation_at_neuron"].mean == pytest.approx(-0.2, abs=0.02)
    assert {c.rule.family for c in comps} == {f"factorial.{BASE.name}"}
    assert all(c.p_holm >= c.p for c in comps)  # one Holm family of two
    text = factorial.factorial_text(comps, "fresh noise")
    assert "main effects are not tested" in text and "site at the multiplicative" in text
    # nothing excluded: the full factorial (here followed up: see the next test)
    full = factorial.design_comparisons(values, BASE)
    assert [factorial.contrast_name(c) for c in full][:3] == list(factorial.CONTRASTS)
    # both neuron cells excluded: only the operation at the synapse is left
    rest = factorial.design_comparisons(values, BASE, ("exc_bias", "exc_gain"))
    assert [factorial.contrast_name(c) for c in rest] == ["operation_at_synapse"]


def test_an_interaction_that_differs_is_followed_by_exploratory_simple_effects():
    # one cell apart (neuron, multiplicative): the operation's effect depends on the site
    crossed = factorial.design_comparisons(_values({("neuron", "multiplicative"): 0.2}), BASE)
    main = [c for c in crossed if not factorial.is_follow_up(c)]
    follow = [c for c in crossed if factorial.is_follow_up(c)]
    assert _verdicts(main)["interaction"] == "differ"
    assert [factorial.contrast_name(c) for c in follow] == list(factorial.SIMPLE_EFFECTS)
    assert all(c.rule.exploratory for c in follow) and not any(c.rule.exploratory for c in main)
    assert {c.rule.family for c in follow} == {f"factorial.{BASE.name}.follow_up"}
    assert _verdicts(follow) == {
        "site_at_additive": "equivalent",
        "site_at_multiplicative": "differ",
        "operation_at_neuron": "differ",
        "operation_at_synapse": "equivalent",
    }
    text = factorial.factorial_text(crossed, "fresh noise")
    assert "simple effects follow (exploratory)" in text and "main effects are not" not in text
    overview = factorial.factorial_overview({"fresh noise": crossed})
    assert "site at the multiplicative operation (exc_gain − syn_prepost) (exploratory" in overview
    # parallel effects (site only): the interaction does not differ, nothing follows
    parallel = factorial.design_comparisons(
        _values({("neuron", "additive"): 0.2, ("neuron", "multiplicative"): 0.2}), BASE
    )
    assert not any(factorial.is_follow_up(c) for c in parallel)


def test_the_change_table_says_which_verdicts_moved():
    before = {"m": factorial.factorial_comparisons(_values({}), BASE)}
    after = {
        "m": factorial.factorial_comparisons(
            _values({("neuron", "additive"): 0.2, ("neuron", "multiplicative"): 0.2}), BASE
        )
    }
    table = factorial.change_table({"E1": before, "tuned": after, "third": {}})
    site = table.loc[("m", factorial.TITLES["site"])]
    assert site["E1"].startswith("equivalent") and site["tuned"].startswith("differ (+0.")
    assert "8 seeds" in site["tuned"] and site["verdict changed"] == "yes"
    assert table.loc[("m", factorial.TITLES["operation"]), "verdict changed"] == "no"
    assert (table["third"] == "not tested").all()  # a build without the contrast
    with pytest.raises(ValueError, match="at least two"):
        factorial.change_table({"E1": before})
