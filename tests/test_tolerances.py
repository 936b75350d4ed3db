"""The tolerances of tests/tolerances.py bite: for each kind of comparison, a planted change of
the computation's input (larger than the tolerance, far smaller than any change of method) fails
it, and where cheap, a change at the level of float32 rounding passes it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.core import statespace
from lib.core import tasks as yang_tasks
from lib.core.train import TrainConfig, train
from lib.experiments import battery
from lib.experiments import dynamics as dynamics_experiment
from helpers import tiny_config
from tolerances import ANALYSIS, FLOAT32_EPS, RENDERED_TRIALS, TRAINED_WEIGHTS, assert_tree_close

PLANTED = 1e-3  # relative size of the planted change: 10x the loosest tolerance here


def planted_task_variance(seed: int = 0) -> np.ndarray:
    """Task variances (K = 4 tasks, 30 units) of three planted unit clusters, with spread."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.0, 0.2, 0.1, 0.6], [0.1, 1.0, 0.7, 0.2], [0.5, 0.4, 1.0, 0.1]])
    return (centres[rng.integers(0, 3, 30)] * rng.uniform(0.6, 1.4, (30, 4))).T


def test_analysis_tolerance_passes_float32_rounding_and_fails_a_real_change():
    tv = planted_task_variance()
    base = statespace.cluster_units(tv)
    rounded = statespace.cluster_units(tv.astype(np.float32).astype(np.float64))
    assert_tree_close(rounded, base, ANALYSIS)
    moved = tv * (1 + PLANTED * np.random.default_rng(1).standard_normal(tv.shape))
    with pytest.raises(AssertionError):
        assert_tree_close(statespace.cluster_units(moved), base, ANALYSIS)


@pytest.mark.slow
def test_analysis_tolerance_fails_a_network_changed_by_one_part_in_a_thousand():
    """E4's whole analysis of the shipped smoke network exc/0, weights scaled by 1 + 1e-3."""
    spec = battery.battery_spec("smoke")
    net = battery.variant_networks(battery.run_battery(spec, progress=False))["exc", 0]
    dspec = dynamics_experiment.DynamicsSpec.from_profile("smoke")
    shipped = dynamics_experiment.run_dynamics({("exc", 0): net}, dspec, progress=False)
    changed = copy.deepcopy(net)
    with torch.no_grad():
        changed.model.W_rec.mul_(1 + PLANTED)
    with pytest.raises(AssertionError):
        assert_tree_close(
            dynamics_experiment.analyse_network(changed, dspec), shipped["exc", 0], ANALYSIS
        )


def _tiny_run(**changes) -> TrainConfig:
    return tiny_config("hybrid", **({"max_steps": 20, "eval_every": 10} | changes))


def _weights(cfg: TrainConfig, threads: int) -> dict[str, torch.Tensor]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return train(cfg, progress=False).model.state_dict()
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_trained_weights_tolerance_passes_other_threads_and_fails_another_learning_rate():
    base = _weights(_tiny_run(), 1)
    for name, w in _weights(_tiny_run(), 2).items():
        torch.testing.assert_close(w, base[name], **TRAINED_WEIGHTS)
    nudged = _weights(_tiny_run(lr=_tiny_run().lr * (1 + PLANTED)), 1)
    with pytest.raises(AssertionError):
        for name, w in nudged.items():
            torch.testing.assert_close(w, base[name], **TRAINED_WEIGHTS)


def test_rendered_trials_tolerance_fails_a_stimulus_moved_by_1e4_rad():
    fixtures = Path(__file__).resolve().parent / "fixtures" / "yang2019"
    record = json.loads((fixtures / "fdgo_seed1.json").read_text())
    reference = np.load(fixtures / "fdgo_seed1.npz")["x"][..., : yang_tasks.N_INPUT]
    np.testing.assert_allclose(
        yang_tasks.render(yang_tasks.conditions_from_yang(record)).x, reference, **RENDERED_TRIALS
    )
    stim = next(e for e in record["events"] if e["type"] == "stim")
    stim["locs"] = [loc + 1e-4 for loc in stim["locs"]]
    moved = yang_tasks.render(yang_tasks.conditions_from_yang(record)).x
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(moved, reference, **RENDERED_TRIALS)


def test_tolerances_are_above_float32_rounding():
    for tol in (ANALYSIS, TRAINED_WEIGHTS):
        assert tol["rtol"] > 100 * FLOAT32_EPS
    assert RENDERED_TRIALS["atol"] > FLOAT32_EPS
