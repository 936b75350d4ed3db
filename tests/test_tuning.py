"""The fair-tuning protocol: tuning seeds disjoint from test seeds, the grid's configs, and the
choice rule on planted grids."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np

import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from lib import artifacts, plots
from lib.analysis import ambiguity as ambiguity_analysis
from lib.analysis import tuning as tuning_analysis
from lib.analysis import verdicts
from lib.experiments import ambiguity, battery, tuning
from lib.experiments import dynamics as dynamics_experiment
from lib.experiments.manifest import manifest
from lib.plots import tuning as tuning_plots


@pytest.fixture
def spec(monkeypatch, tmp_path) -> tuning.TuningSpec:
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path))  # initial drives measured afresh, here
    return tuning.tuning_spec("smoke")


def test_tuning_seeds_never_meet_test_seeds(spec) -> None:
    largest_test_seed = 100  # BATTERY_PARAMS["n_seeds"] allows at most 100 (checked below)
    assert min(spec.seeds) >= largest_test_seed
    assert spec.seeds == (tuning.TUNING_SEED_START, tuning.TUNING_SEED_START + 1)
    with pytest.raises(ValueError, match="n_seeds"):
        tuning.TuningSpec(dataclasses.replace(spec.battery, n_seeds=2000))
    with pytest.raises(ValueError, match="inits"):
        tuning.TuningSpec(spec.battery, inits=("bigger",))
    with pytest.raises(ValueError, match="n_seeds"):
        battery.battery_spec("smoke", n_seeds=101)


def test_grid_configs(spec) -> None:
    spec = dataclasses.replace(spec, variants=("exc", "syn_prepost"))
    configs = spec.configs()
    assert len(configs) == 2 * len(tuning.TUNING_LRS) * len(tuning.TUNING_INITS) * 2
    for (label, lr, init, seed), cfg in configs.items():
        assert cfg.lr == lr and cfg.seed == seed
        e1 = spec.battery.config(label, seed)
        assert cfg.replace(lr=e1.lr, mod_init_std=e1.mod_init_std) == e1  # only lr and scale move
    std = configs["syn_prepost", 1e-3, "standard", 1000].mod_init_std
    eq = configs["syn_prepost", 1e-3, "equalised", 1000].mod_init_std
    assert std is None and eq is not None and eq > 0
    # the reference pathway is its own equalised version
    assert configs["exc", 1e-3, "equalised", 1000] == configs["exc", 1e-3, "standard", 1000]


def _grid(rows):
    return pd.DataFrame(
        rows, columns=["variant", "lr", "init", "seed", "learned every task", "trials to all tasks"]
    )


def test_the_rule_prefers_learning_then_speed_then_the_smaller_lr_then_standard() -> None:
    grid = _grid(
        [
            # a: 2e-3 learns in both seeds, 1e-3 in one -> 2e-3
            ("a", 1e-3, "standard", 0, True, 100.0),
            ("a", 1e-3, "standard", 1, False, 900.0),
            ("a", 2e-3, "standard", 0, True, 500.0),
            ("a", 2e-3, "standard", 1, True, 600.0),
            # b: both learn everywhere; equalised is faster -> equalised
            ("b", 1e-3, "standard", 0, True, 500.0),
            ("b", 1e-3, "equalised", 0, True, 300.0),
            # c: a full tie -> the smaller lr, then standard
            ("c", 4e-3, "standard", 0, True, 300.0),
            ("c", 1e-3, "equalised", 0, True, 300.0),
            ("c", 1e-3, "standard", 0, True, 300.0),
        ]
    )
    chosen = tuning_analysis.choose_protocol(grid)
    assert chosen.loc["a", "lr"] == 2e-3 and chosen.loc["a", "learned"] == 1.0
    assert chosen.loc["b", "init"] == "equalised"
    assert (chosen.loc["c", "lr"], chosen.loc["c", "init"]) == (1e-3, "standard")
    assert "never used for a verdict" in tuning.TUNING_RULE


def test_the_appendix_states_the_grid_and_whether_it_ran(spec) -> None:
    text = tuning_analysis.design_text(spec, "smoke")
    assert f"({spec.size} networks at `smoke`)" in text and tuning.TUNING_RULE in text
    assert "1000, 1001" in text and "`exc`'s equalised scale is its standard one" in text
    assert "The grid's networks are shipped;" in text and "Not run yet" not in text
    # exc's equalised network is its standard one: 3 lrs x 2 seeds once, the others twice
    assert spec.size == (2 * (len(spec.variants) - 1) + 1) * len(spec.lrs) * len(spec.seeds)


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_shipped_grids_are_complete_and_others_absent(profile, monkeypatch, tmp_path) -> None:
    spec = tuning.tuning_spec(profile)
    shipped = tuning.SHIPPED_GRIDS.get(profile, ())
    for v in spec.variants:
        present = [
            artifacts.has("network", spec.config(v, lr, "standard", s).to_dict())
            for lr in spec.lrs
            for s in spec.seeds
        ]
        # a grid still training may be partly shipped (each network is committed as it
        # lands); the appendix then says how far it is and chooses nothing for it
        assert all(present) if v in shipped else not all(present), v
    part = tuning.shipped_grid_spec(profile)
    assert part is not None and part.variants == shipped


def test_a_partly_shipped_grid_chooses_nothing(spec, monkeypatch) -> None:
    text = tuning_analysis.design_text(spec, "full", shipped=7)  # no full grid is shipped
    assert f"7 of the {spec.size} grid networks of `exc_bias`" in text
    assert "no protocol has been chosen for them" in text
    # a profile whose second stage is still training (as quick was)
    monkeypatch.setitem(tuning_analysis.SHIPPED_GRIDS, "quick", tuning.FIRST_STAGE)
    staged = tuning_analysis.design_text(spec, "quick", shipped=5)
    first = ", ".join(f"`{v}`" for v in tuning.FIRST_STAGE)
    assert f"The grid's networks of {first} are shipped" in staged
    rest = ", ".join(f"`{v}`" for v in tuning.TUNED_VARIANTS[5:])
    assert f"5 of the 54 grid networks of {rest}" in staged  # 30 of stage 2, 24 of stage 3


def _planted_grid(spec) -> pd.DataFrame:
    """Every protocol of the grid for two variants: `a` learns best under E1's protocol, `b`
    only under the largest learning rate with the equalised scale (in one of two seeds)."""
    rows = []
    for lr in spec.lrs:
        for init in spec.inits:
            for s in spec.seeds:
                e1 = lr == spec.battery.lr and init == "standard"
                rows.append(("a", lr, init, s, True, 1000.0 if e1 else 2000.0))
                b_learns = lr == max(spec.lrs) and init == "equalised" and s == spec.seeds[0]
                rows.append(("b", lr, init, s, b_learns, 3000.0 if b_learns else 9000.0))
    return _grid(rows)


def test_the_choice_is_read_against_e1s_protocol(spec) -> None:
    protocols = tuning_analysis.protocol_table(_planted_grid(spec))
    chosen = tuning_analysis.choose_protocol(_planted_grid(spec))
    table = tuning_analysis.choice_table(chosen, protocols, spec)
    assert table.loc["a", "E1 protocol chosen"] and not table.loc["b", "E1 protocol chosen"]
    assert (table.loc["b", "chosen lr"], table.loc["b", "chosen init"]) == (
        max(spec.lrs),
        "equalised",
    )
    assert table.loc["b", "learned (chosen)"] == 0.5 and table.loc["b", "learned (E1)"] == 0.0
    text = tuning_analysis.choice_text(table, spec)
    assert "the choice for 1 of 2 variants: `a`" in text
    assert f"`b`: the rule chooses learning rate {max(spec.lrs):g} with the equalised" in text
    assert "Below 90% of tuning seeds" in text and "next stage" in text


def test_the_grid_figure_outlines_each_choice(spec) -> None:
    grid = _planted_grid(spec)
    fig = tuning_plots.grid_heatmap(
        tuning_analysis.protocol_table(grid), tuning_analysis.choose_protocol(grid)
    )
    ax = fig.axes[0]
    outlined = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(outlined) == 2  # one chosen protocol per variant
    assert len(ax.get_xticks()) == len(spec.lrs) * len(spec.inits)
    assert not plots.legibility(fig).problems()


@pytest.mark.parametrize("profile", tuning.SHIPPED_GRIDS)
def test_the_recorded_choice_is_the_rules_choice_on_the_shipped_grid(profile) -> None:
    spec = tuning.shipped_grid_spec(profile)
    nets = tuning.grid_networks(spec)
    assert tuning.grid_complete(nets, spec)
    chosen = tuning_analysis.choose_protocol(tuning_analysis.grid_table(nets))
    computed = {v: (r["lr"], r["init"]) for v, r in chosen.iterrows()}
    assert computed == tuning.CHOSEN_PROTOCOLS[profile]


def test_tuned_networks_are_e1s_test_seeds_under_each_chosen_protocol(monkeypatch) -> None:
    tuned = tuning.tuned_spec("quick")
    configs = tuned.configs()
    chosen = tuning.CHOSEN_PROTOCOLS["quick"]
    assert tuned.variants == tuple(v for v in tuning.TUNED_VARIANTS if v in chosen)
    assert len(configs) == len(chosen) * tuning.TEST_SEEDS["quick"] >= 50
    for (v, seed), cfg in configs.items():
        lr, init = tuning.CHOSEN_PROTOCOLS["quick"][v]
        grid_run = tuned.tuning.config(v, lr, init, seed)  # the grid's protocol, a test seed
        assert cfg == grid_run.replace(max_steps=tuning.TEST_BUDGETS["quick"])
        assert tuned.smaller_budget()[v, seed] == grid_run  # what carries over when it stopped
        e1 = tuned.tuning.battery.config(v, seed)
        assert seed < tuning.TUNING_SEED_START and cfg.lr == lr
        assert cfg.replace(lr=e1.lr, mod_init_std=e1.mod_init_std, max_steps=e1.max_steps) == e1
    assert tuning.tuned_spec("paper") is None  # no grid has chosen there
    with pytest.raises(ValueError, match="label: got 'none'"):
        tuned.config("none", 0)
    with pytest.raises(ValueError, match="n_seeds=0"):
        dataclasses.replace(tuned, n_seeds=0)
    with pytest.raises(ValueError, match="max_steps=100: .* allowed: None or >= 12000"):
        dataclasses.replace(tuned, max_steps=100)
    assert tuning.tuned_spec("smoke").smaller_budget() == {}  # E1's budget: nothing carries


def test_the_budget_table_counts_learning_at_both_budgets(monkeypatch) -> None:
    spec = dataclasses.replace(
        tuning.tuned_spec("quick"), protocols=(("exc_gain", 4e-3, "standard"),), n_seeds=10
    )
    small = {("exc_gain", s): _fake_result(s not in (4, 6), 500.0) for s in range(10)}
    large = dict(small) | {("exc_gain", 4): _fake_result(True, 900.0)}
    for k in small:
        small[k].history.steps = [0, 100]
    large["exc_gain", 4].history.steps = [0, 100, 200]  # trained again, and learned
    large["exc_gain", 6] = _fake_result(False, 900.0)
    large["exc_gain", 6].history.steps = [0, 100, 200]  # trained again, did not
    monkeypatch.setattr(tuning_analysis, "shipped_networks", lambda configs: small)
    table = tuning_analysis.budget_table(large, spec)
    assert table.loc["exc_gain"].tolist() == [8, 9, 2]
    text = tuning_analysis.budget_text(table, spec)
    assert "At E1's budget of 12,000 steps, 2 of the 10 test seeds had not learned" in text
    assert "trained again: 2 of 10" in text and "`exc_gain` 8 -> 9 of 10" in text
    assert "trained at 24,000 steps from the start" not in text
    # a variant tuned after the budget was raised has no run at the smaller one
    later = dataclasses.replace(spec, protocols=(*spec.protocols, ("syn_mask", 4e-3, "standard")))
    table = tuning_analysis.budget_table(large, later)
    assert list(table.index) == ["exc_gain"]
    text = tuning_analysis.budget_text(table, later)
    assert "trained at 24,000 steps from the start: `syn_mask`." in text
    monkeypatch.setattr(tuning_analysis, "shipped_networks", lambda configs: {})
    assert tuning_analysis.budget_table(large, spec).empty  # the smaller budget not shipped


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_shipped_tuned_seeds_are_complete(profile) -> None:
    spec = tuning.tuned_spec(profile)
    shipped = tuning.SHIPPED_TUNED.get(profile, ())
    for v in spec.variants:
        present = [
            artifacts.has("network", spec.config(v, s).to_dict()) for s in range(spec.n_seeds)
        ]
        # still training: partly shipped (each network committed as it lands), never all
        assert all(present) if v in shipped else not all(present), v
    analysed = tuning.tuned_spec(profile, shipped=True)
    assert analysed.variants == tuple(v for v in spec.variants if v in shipped)


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_a_shipped_tuned_variant_ships_its_probes_and_dynamics(profile) -> None:
    """What the chapters and the provenance appendix read of the variants of SHIPPED_TUNED (a
    variant still training may have networks but no probes yet: it is not read)."""
    m = manifest(profile)
    spec = tuning.tuned_spec(profile, shipped=True)
    for cfg in spec.configs().values():
        assert artifacts.has("ambiguity", ambiguity.PROBES.key(cfg, m.probe)), cfg.mechanism
        assert artifacts.has("dynamics", dynamics_experiment.DYNAMICS.key(cfg, m.dynamics))


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_c1s_floor_is_nones_at_the_test_seeds_budget_and_ships_whole(profile) -> None:
    """C1's floor for the tuned seeds: E1's ``none`` at every test seed, trained at their budget
    (E1's own networks where that is E1's budget); a profile of SHIPPED_FLOORS ships all of it,
    and the manifest trains it with the rest."""
    spec = tuning.tuned_spec(profile)
    floor = spec.floor_configs()
    assert list(floor) == [(tuning.FLOOR, s) for s in range(spec.n_seeds)]
    e1 = battery.battery_spec(profile)
    for (_, s), cfg in floor.items():
        assert cfg == e1.config(tuning.FLOOR, s).replace(max_steps=spec.budget)
    same_budget = spec.budget == e1.max_steps
    assert same_budget == (profile == "smoke")
    jobs = manifest(profile).network_jobs()
    assert set(floor.values()) <= set(jobs.values())
    assert any(k[0] == "floor" for k in jobs) != same_budget  # E1's own where the budget is
    nets = tuning.floor_networks(spec, profile)
    if profile in tuning.SHIPPED_FLOORS:
        assert set(nets) == set(floor)
    else:
        assert nets == {}


def _fake_result(learned: bool, trials_to_all: float, max_steps: int = 100):
    """A TrainResult's stand-in: final performance per task and first trials at criterion."""
    history = SimpleNamespace(
        wall_s=360.0,
        perf_array=lambda: np.array([[0.5, 0.5], [0.95, 0.95 if learned else 0.6]]),
        trials_to_criterion=lambda criterion: [
            trials_to_all / 2,
            trials_to_all if learned else np.nan,
        ],
    )
    return SimpleNamespace(
        history=history, config=SimpleNamespace(max_steps=max_steps, batch_size=10)
    )


def test_the_learning_rule_excludes_a_variant_below_ninety_percent() -> None:
    spec = dataclasses.replace(
        tuning.tuned_spec("smoke"),
        protocols=(("exc_bias", 1e-3, "standard"), ("syn_lowrank_r1", 4e-3, "equalised")),
        n_seeds=10,
    )
    nets = {("exc_bias", s): _fake_result(s != 0, 500.0) for s in range(10)}  # 9 of 10
    nets |= {("syn_lowrank_r1", s): _fake_result(s > 1, 700.0) for s in range(10)}  # 8 of 10
    table = tuning_analysis.test_seed_table(nets, spec)
    assert table.loc["exc_bias", "learned every task"] == 9 and table.loc["exc_bias", "passes"]
    assert table.loc["syn_lowrank_r1", "fraction"] == 0.8
    assert tuning_analysis.excluded_variants(table) == ("syn_lowrank_r1",)
    # a seed that never learned counts as the budget (100 steps x 10 trials) in the median
    assert table.loc["syn_lowrank_r1", "median trials to all tasks"] == 700.0
    text = tuning_analysis.test_seed_text(table, spec)
    assert "9 of 10 seeds learn every task (90%" in text
    assert "**excluded** by the learning rule" in text and "Excluded from the verdicts" in text
    assert "1000, 1001 are disjoint" in text
    assert "training them took 2.0 single-thread CPU-hours" in text  # 20 networks x 6 min


def test_a_choice_at_the_grids_largest_rate_is_flagged(spec) -> None:
    grid = _planted_grid(spec)  # `b` learns only at the largest rate
    protocols = tuning_analysis.protocol_table(grid)
    table = tuning_analysis.choice_table(tuning_analysis.choose_protocol(grid), protocols, spec)
    text = tuning_analysis.choice_text(table, spec)
    assert "the grid's largest for 1 of 2 variants (`b`)" in text
    assert "next stage" in text and "next stage" not in tuning_analysis.choice_text(
        table, spec, tuned_shipped=True
    )


def test_the_tuned_seeds_let_c2s_family_reach_holm():
    """The test seeds under each pathway's own protocol carry C2 re-derived on the conclusions
    page: its exact tests can pass Holm over the whole family (matched pairs x probe measures)
    only with the seeds of the power analysis's floor, and quick has them."""
    family = len(ambiguity_analysis.MATCHED) * len(verdicts.C2_MEASURES)
    need = verdicts.power_seeds(0.0, 1.0, m=family)
    assert (family, need) == (30, 11)
    assert tuning.TEST_SEEDS["quick"] >= need
