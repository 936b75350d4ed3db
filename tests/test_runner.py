"""lib.experiments.runner: jobs in a process pool (failures reported, the rest kept), networks as
artifacts, and seed groups trained as ensembles giving the same networks as single training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lib import artifacts
from lib.core.train import TrainConfig
from lib.experiments import ambiguity, runner
from lib.experiments import dynamics as dynamics_experiment
from lib.experiments.manifest import manifest
from helpers import early_stopping_config, tiny_config
from tolerances import TRAINED_WEIGHTS


def tiny(seed: int, **kw) -> TrainConfig:
    """A tiny hybrid network of ``seed`` (6 steps, so that ensembles and single runs can drift)."""
    return tiny_config(
        **({"mechanism": "hybrid", "seed": seed, "max_steps": 6, "eval_every": 3} | kw)
    )


def _fails_on_two(x: int) -> None:
    if x == 2:
        raise ValueError("bad job 2")
    artifacts.save("job", {"x": x}, x)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_job_is_reported_and_the_others_are_kept(store, workers):
    with pytest.raises(runner.JobsFailed, match=r"\('b', 2\): ValueError: bad job 2") as err:
        runner.run_jobs(
            _fails_on_two, {("a", 1): 1, ("b", 2): 2, ("c", 3): 3}, workers, progress=False
        )
    assert list(err.value.failures) == [("b", 2)]
    assert artifacts.load("job", {"x": 1}) == 1 and artifacts.load("job", {"x": 3}) == 3


def test_seed_groups():
    cs = [tiny(0), tiny(1), tiny(0, mechanism="exc"), tiny(2)]
    groups = runner.seed_groups(cs)
    assert [[c.seed for c in g] for g in groups] == [[0, 1, 2], [0]]
    assert groups[1][0].mechanism == "exc"


def test_ensembles_make_the_networks_single_training_makes(store, tmp_path_factory):
    configs = {("hybrid", s): tiny(s) for s in range(3)} | {("exc", 0): tiny(0, mechanism="exc")}
    ens = runner.run_configs(configs, workers=1, progress=False, allow_long=True, ensemble=True)
    stamps = {k: artifacts.meta("network", c.to_dict()) for k, c in configs.items()}
    assert "ensemble" in stamps["hybrid", 1]["trained_by"]
    other = tmp_path_factory.mktemp("single")
    single = {
        k: runner.load_or_train(c, directory=other, progress=False) for k, c in configs.items()
    }
    # the stamps say on which device each was trained (the conftest keeps these on the CPU)
    assert {m["device"] for m in stamps.values()} == {"cpu"}
    assert artifacts.meta("network", configs["exc", 0].to_dict(), other)["device"] == "cpu"
    for k in configs:
        assert ens[k].history.steps == single[k].history.steps
        for name, p in single[k].model.state_dict().items():
            torch.testing.assert_close(ens[k].model.state_dict()[name], p, **TRAINED_WEIGHTS)
    again = runner.run_configs(configs, workers=1, progress=False, ensemble=True)  # all loaded
    assert again["hybrid", 2].history.perf == ens["hybrid", 2].history.perf


def stopping_run() -> TrainConfig:
    """A 12-step exc_bias config (N = 16) whose run stops at criterion before its budget."""
    return early_stopping_config(
        tiny(0, mechanism="exc_bias", n_rec=16, batch_size=16, eval_trials=16, max_steps=12)
    )


def test_runs_stopped_at_criterion_carry_over_to_a_larger_budget_untrained(store, monkeypatch):
    stops = stopping_run()
    uses_budget = stops.replace(seed=1, criterion=1.0)
    small = {"stops": stops, "uses budget": uses_budget}
    runner.run_configs(small, workers=1, progress=False, allow_long=True)
    large = {k: c.replace(max_steps=36) for k, c in small.items()}
    trained = []
    real = runner.train
    monkeypatch.setattr(runner, "train", lambda cfg, **kw: trained.append(cfg) or real(cfg, **kw))
    nets = runner.run_configs(large, workers=1, progress=False, smaller_budget=small)
    assert trained == [large["uses budget"]], "only the run that used its budget trains again"
    stamp = artifacts.meta("network", large["stops"].to_dict())
    assert stamp["same_run_as"] == artifacts.artifact_key("network", stops.to_dict())
    assert nets["stops"].config == large["stops"]
    assert nets["stops"].history.steps == runner.load_or_train(stops).history.steps
    assert nets["uses budget"].history.steps[-1] == 36


def same_payload(a, b) -> bool:
    """Equality of two artifact payloads (nested dicts, lists, arrays, tensors, frames)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_payload(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_payload(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, (np.ndarray, np.generic, float)):
        return np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return a.equals(b)
    return a == b


def test_the_analyses_of_a_carried_run_carry_over_and_equal_a_fresh_computation(store):
    stops = stopping_run()
    small, large = {"net": stops}, {"net": stops.replace(max_steps=36)}
    nets_small = runner.run_configs(small, workers=1, progress=False, allow_long=True)
    nets = runner.run_configs(large, workers=1, progress=False, smaller_budget=small)
    assert runner.carried_from(large["net"]) == stops  # read off the stamps
    assert runner.carried_from(stops) is None  # trained as itself
    m = manifest("smoke")
    ambiguity.run_ambiguity(nets_small, probe=m.probe, progress=False, allow_long=True)
    dynamics_experiment.run_dynamics(nets_small, m.dynamics, progress=False, allow_long=True)
    for result, spec in ((ambiguity.PROBES, m.probe), (dynamics_experiment.DYNAMICS, m.dynamics)):
        assert result.carry_over(nets, spec) == ["net"]
        carried = artifacts.load(result.kind, result.key(large["net"], spec))
        fresh = result._compute(nets["net"], spec)  # what computing it on the new key gives
        assert same_payload(carried, fresh), result.kind
        assert result.carry_over(nets, spec) == []  # present now: nothing to carry
