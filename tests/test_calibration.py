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
        differ = {
            f for f in TrainConfig.__dataclass_fields__ if getattr(cfg, f) != getattr(yang, f)
        }
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
    cfg = TrainConfig(
        mechanism=mech,
        tasks=("fdgo", "contextdm1"),
        n_rec=4,
        seed=seed,
        max_steps=2 * len(perfs),
        eval_every=2,
    )
    h = History(
        cfg.tasks,
        steps=[2 * i for i in range(len(perfs))],
        trials=[128 * i for i in range(len(perfs))],
        loss=[np.nan] * len(perfs),
        perf=perfs,
    )
    return TrainResult(cfg, ModulatedRNN(mech, 4, 2), h)


def test_tables_and_sentences_on_a_known_study():
    study = {
        ("exc_bias", "yang", 0): _fake([[0, 0], [0.95, 0.5], [0.95, 0.6]]),
        ("exc_bias", "yang", 1): _fake([[0, 0], [0.5, 0.5], [0.92, 0.7]], seed=1),
        ("exc_bias", "easy", 0): _fake([[0, 0], [0.95, 0.91], [0.95, 0.95]]),
        ("exc_bias", "easy", 1): _fake([[0, 0], [0.91, 0.5], [0.95, 0.93]], seed=1),
    }
    table = calibration_analysis.ttc_table(study)
    assert table.loc[("exc_bias", "yang"), "Go"] == "0k (2/2)"  # median of 128 and 256 trials
    assert table.loc[("exc_bias", "yang"), "Ctx DM 1"] == "-- (0/2)"
    assert table.loc[("exc_bias", "easy"), "all tasks (seeds)"] == "2/2"
    scores = calibration_analysis.arm_scores(study, "contextdm1").set_index("arm")
    assert scores.loc["easy", "reached"] == 2 and scores.loc["easy", "median trials"] == 192
    assert np.isnan(scores.loc["yang", "median trials"])
    text = calibration_analysis.study_summary(study)
    assert (
        "**Ctx DM 1**: 1 of 2 arms bring every seed to criterion; fastest `exc_bias`/`easy`" in text
    )
    trials, perf = calibration_analysis.task_curves(study, "exc_bias", "easy", "contextdm1")
    np.testing.assert_array_equal(trials, [0, 128, 256])
    np.testing.assert_allclose(perf[:, -1], [0.95, 0.93])


def test_curves_figure_has_one_line_style_per_arm():
    from matplotlib.figure import Figure

    from lib.plots import calibration as calibration_plots

    study = {
        ("exc_bias", "yang", 0): _fake([[0, 0], [0.5, 0.5]]),
        ("exc_bias", "easy", 0): _fake([[0, 0], [0.9, 0.9]], arm="easy"),
    }
    fig = calibration_plots.curves(study, "exc_bias", ("fdgo", "contextdm1"), ["yang", "easy"])
    assert isinstance(fig, Figure)
    styles = {
        (ln.get_color(), ln.get_linestyle()) for ln in fig.axes[0].lines if ln.get_linewidth() > 1.5
    }
    assert len(styles) == 2
    assert len(set(calibration_plots.ARM_STYLE.values())) == len(
        calibration_plots.ARM_STYLE
    )  # every arm its colour


def test_full_battery_budget_is_the_first_evaluation_with_enough_tasks_at_once():
    # task 0 reaches criterion at 128 trials and stays; task 1 only at 256 and drops after
    res = _fake([[0.1, 0.1], [0.95, 0.5], [0.95, 0.92], [0.95, 0.4]])
    trials, count = calibration_analysis.tasks_at_criterion(res)
    np.testing.assert_array_equal(count, [0, 1, 2, 1])
    assert calibration_analysis.trials_to_n_tasks(res, 1) == 128
    assert (
        calibration_analysis.trials_to_n_tasks(res, 2) == 256
    )  # both at once, though not at the end
    assert np.isnan(calibration_analysis.trials_to_n_tasks(res, 2, criterion=0.96))
    other = _fake([[0.1, 0.1], [0.5, 0.5], [0.6, 0.7], [0.95, 0.91]], mech="syn_prepost")
    study = {("exc_bias", "easy_lr", 0): res, ("syn_prepost", "easy_lr", 0): other}
    table = calibration_analysis.full_battery_table(study, n_tasks=2).set_index("mechanism")
    assert table.loc["exc_bias", "trials to 2 of 2"] == "256"
    assert table.loc["syn_prepost", "trials to 2 of 2"] == "384"
    assert table.loc["exc_bias", "at criterion (end)"] == 1
    assert table.loc["exc_bias", "at criterion (best)"] == 2
    assert table.loc["syn_prepost", "never at criterion (best perf.)"] == "none"
    text = calibration_analysis.full_battery_text(study, planned=3, n_tasks=2)
    assert text.startswith("2 of 3 planned networks trained (the others are not trained yet")
    assert "by 384 trials (6 steps of 64), the smallest budget that sufficed" in text
    missed = calibration_analysis.full_battery_text(
        {("exc_bias", "easy_lr", 0): res}, planned=1, n_tasks=2, criterion=0.96
    )
    assert "0 of 1 reached 2 tasks at criterion" in missed and "the best network had 0" in missed
    assert "None of the 4 networks" in calibration_analysis.full_battery_text({}, planned=4)


def test_trained_networks_lists_only_finished_artifacts(tmp_path, monkeypatch):
    from lib import artifacts
    from lib.experiments.calibration import trained_networks
    from lib.experiments.runner import network_payload

    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    spec = CalibrationSpec(
        tasks=("fdgo", "contextdm1"),
        n_rec=4,
        max_steps=2,
        eval_every=1,
        eval_trials=8,
        seeds=2,
        mechanisms=("exc_bias",),
        arms=("easy_lr",),
    )
    assert trained_networks(spec) == {}
    finished = spec.config("exc_bias", "easy_lr", 1)
    fake = _fake([[0.0, 0.0]])
    fake = TrainResult(finished, ModulatedRNN("exc_bias", 4, 2), fake.history)
    artifacts.save("network", finished.to_dict(), network_payload(fake))
    got = trained_networks(spec)
    assert list(got) == [("exc_bias", "easy_lr", 1)]
    assert got[("exc_bias", "easy_lr", 1)].config == finished


def test_tasks_learned_figure_draws_one_line_per_network_and_the_bar():
    from lib.plots import calibration as calibration_plots

    study = {
        (128, "exc_bias", 0): _fake([[0, 0], [0.95, 0.5]]),
        (64, "exc_bias", 0): _fake([[0, 0], [0.95, 0.95]]),
    }
    fig = calibration_plots.tasks_learned(study, n_tasks=2)
    ax = fig.axes[0]
    assert len(ax.lines) == 3  # two networks and the dotted bar
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [0, 2])
    assert ax.lines[2].get_linestyle() == ":" and ax.lines[2].get_ydata()[0] == 2
