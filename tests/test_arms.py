"""E1's training arms and controls: which networks each arm trains, equalised initial drive,
clear errors."""

from __future__ import annotations

import pytest

from lib.experiments import battery
from lib.experiments.manifest import manifest

SPEC = battery.battery_spec("smoke", task_set=["fdgo", "fdanti"], n_seeds=2)


@pytest.mark.slow
def test_arms_change_only_what_they_name():
    for (lab, seed), cfg in SPEC.arm_configs("mixtures").items():
        assert cfg == SPEC.config(lab, seed).replace(train_mix=battery.TRAIN_MIX)
    eq = SPEC.arm_configs("equalised")
    assert set(eq) == {(l, s) for l in battery.ARM_VARIANTS["equalised"] for s in range(2)}
    assert eq[battery.EQUALISE_TO, 0] == SPEC.config(battery.EQUALISE_TO, 0)  # the reference
    for lab in ("syn_prepost", "syn_lowrank_r1"):
        cfg = eq[lab, 1]
        assert cfg.mod_init_std is not None and cfg.mod_init_std != battery.default_scale(
            SPEC.config(lab, 1)
        )
        assert cfg.replace(mod_init_std=None) == SPEC.config(lab, 1)
        assert eq[lab, 0].mod_init_std == cfg.mod_init_std  # one scale per variant


@pytest.mark.slow
def test_equalised_networks_start_with_the_reference_drive():
    table = battery.equalisation_table(SPEC)
    ref = table.loc[battery.EQUALISE_TO, "initial drive (E1)"]
    eq = table["initial drive (equalised)"]
    assert (abs(eq / ref - 1) < 0.05).all(), table  # two significant digits of scale: ~2%
    # before equalising, the low-rank pathway starts an order of magnitude weaker
    assert table.loc["syn_lowrank_r1", "initial drive (E1)"] < ref / 5


def test_arm_errors_name_the_arm_and_what_is_allowed():
    with pytest.raises(ValueError, match="arm='frozen' is not allowed; expected one of standard"):
        SPEC.arm_configs("frozen")
    with pytest.raises(ValueError, match="label='hybrid' is not trained in arm 'mixtures'"):
        SPEC.config("hybrid", 0, "mixtures")


def test_controls_are_variants_outside_the_main_figures():
    assert set(battery.CONTROLS) <= set(battery.VARIANTS)
    assert not set(battery.CONTROLS) & set(SPEC.main_variants)
    assert set(SPEC.main_variants) | set(battery.CONTROLS) == set(SPEC.variants)


@pytest.mark.slow
def test_the_artifact_builder_trains_each_arm_network_once():
    jobs = manifest("smoke").network_jobs()
    arms = battery.other_arm_configs(battery.battery_spec("smoke"))
    configs = list(jobs.values())
    assert len(configs) == len(set(configs))  # no network twice
    assert set(arms.values()) <= set(configs)  # every arm network is built
    assert ("arm", "equalised", battery.EQUALISE_TO, 0) not in jobs  # it is E1's network


def test_equalised_scales_come_from_shipped_drives_without_measuring(monkeypatch):
    # the initial drives are shipped 'drive' artifacts: planning the equalised arm measures
    # nothing, so every machine derives the same scales (and artifact keys) at once
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    monkeypatch.setattr(battery, "measure_initial_drive", _refuse)
    battery.stored_initial_drive.cache_clear()
    for profile in ("smoke", "quick", "paper"):
        eq = battery.battery_spec(profile).arm_configs("equalised")
        assert all(c.mod_init_std for (lab, _), c in eq.items() if lab != battery.EQUALISE_TO)
    battery.stored_initial_drive.cache_clear()


def _refuse(config):
    raise AssertionError(f"measured the drive of {config.mechanism} instead of loading it")
