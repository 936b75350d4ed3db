"""The fair-tuning protocol: tuning seeds disjoint from test seeds, the grid's configs, and the
choice rule on planted grids."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from lib import artifacts
from lib.analysis import tuning as tuning_analysis
from lib.experiments import battery, tuning


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
    assert "1000, 1001" in text and ("Not run yet" in text) == ("smoke" not in tuning.SHIPPED_GRIDS)


@pytest.mark.parametrize("profile", ["smoke", "quick"])
def test_shipped_grids_are_complete_and_others_absent(profile, monkeypatch, tmp_path) -> None:
    spec = tuning.tuning_spec(profile)
    standard = [
        spec.config(v, lr, "standard", s)
        for v in spec.variants
        for lr in spec.lrs
        for s in spec.seeds
    ]
    present = [artifacts.has("network", c.to_dict()) for c in standard]
    assert all(present) if profile in tuning.SHIPPED_GRIDS else not any(present)
