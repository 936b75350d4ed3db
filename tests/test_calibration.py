"""The calibration study: its specs, and the analysis on a fake study with known answers."""
from __future__ import annotations

import numpy as np

from lib.analysis import calibration as calibration_analysis
from lib.core.model import ModulatedRNN
from lib.core.train import History, TrainConfig, TrainResult
from lib.experiments import battery
from lib.experiments.calibration import ARMS, SPECS, CalibrationSpec


def test_every_arm_changes_what_it_says_and_nothing_else():
    spec = CalibrationSpec()
    yang = spec.config("exc_bias", "yang", 0)
    for arm, changes in ARMS.items():
        cfg = spec.config("exc_bias", arm, 0)
        differ = {f for f in TrainConfig.__dataclass_fields__
                  if getattr(cfg, f) != getattr(yang, f)}
        assert differ == set(changes), arm
    assert spec.config("exc_bias", "easy", 0).easy_steps == spec.easy_steps


def test_quick_profile_protocol_is_an_arm_of_the_study_and_shares_its_networks():
    quick = battery.battery_spec("quick")
    cfg = quick.config("exc_bias", 0)
    arm = calibration_analysis.matching_arm(cfg)
    assert arm in SPECS["quick"].arms
    assert SPECS["quick"].config("exc_bias", arm, 0) == cfg  # the same artifact
    assert calibration_analysis.matching_arm(TrainConfig(mechanism="exc")) == "yang"


def _fake(perfs: list[list[float]], mech="exc_bias", arm="yang", seed=0) -> TrainResult:
    cfg = TrainConfig(mechanism=mech, tasks=("fdgo", "contextdm1"), n_rec=4, seed=seed,
                      max_steps=2 * len(perfs), eval_every=2)
    h = History(cfg.tasks, steps=[2 * i for i in range(len(perfs))],
                trials=[128 * i for i in range(len(perfs))], loss=[np.nan] * len(perfs),
                perf=perfs)
    return TrainResult(cfg, ModulatedRNN(mech, 4, 2), h)


def test_tables_and_sentences_on_a_known_study():
    study = {("exc_bias", "yang", 0): _fake([[0, 0], [0.95, 0.5], [0.95, 0.6]]),
             ("exc_bias", "yang", 1): _fake([[0, 0], [0.5, 0.5], [0.92, 0.7]], seed=1),
             ("exc_bias", "easy", 0): _fake([[0, 0], [0.95, 0.91], [0.95, 0.95]]),
             ("exc_bias", "easy", 1): _fake([[0, 0], [0.91, 0.5], [0.95, 0.93]], seed=1)}
    table = calibration_analysis.ttc_table(study)
    assert table.loc[("exc_bias", "yang"), "Go"] == "0k (2/2)"  # median of 128 and 256 trials
    assert table.loc[("exc_bias", "yang"), "Ctx DM 1"] == "-- (0/2)"
    assert table.loc[("exc_bias", "easy"), "all tasks (seeds)"] == "2/2"
    scores = calibration_analysis.arm_scores(study, "contextdm1").set_index("arm")
    assert scores.loc["easy", "reached"] == 2 and scores.loc["easy", "median trials"] == 192
    assert np.isnan(scores.loc["yang", "median trials"])
    text = calibration_analysis.study_summary(study)
    assert ("**Ctx DM 1**: 1 of 2 arms bring every seed to criterion; fastest `exc_bias`/`easy`"
            in text)
    trials, perf = calibration_analysis.task_curves(study, "exc_bias", "easy", "contextdm1")
    np.testing.assert_array_equal(trials, [0, 128, 256])
    np.testing.assert_allclose(perf[:, -1], [0.95, 0.93])


def test_curves_figure_has_one_line_style_per_arm():
    from matplotlib.figure import Figure

    from lib.plots import calibration as calibration_plots
    study = {("exc_bias", "yang", 0): _fake([[0, 0], [0.5, 0.5]]),
             ("exc_bias", "easy", 0): _fake([[0, 0], [0.9, 0.9]], arm="easy")}
    fig = calibration_plots.curves(study, "exc_bias", ("fdgo", "contextdm1"), ["yang", "easy"])
    assert isinstance(fig, Figure)
    styles = {(ln.get_color(), ln.get_linestyle()) for ln in fig.axes[0].lines
              if ln.get_linewidth() > 1.5}
    assert len(styles) == 2
    assert len(set(calibration_plots.ARM_STYLE.values())) == len(
        calibration_plots.ARM_STYLE
    )  # every arm its colour
