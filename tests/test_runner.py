"""lib.experiments.runner: jobs in a process pool (failures reported, the rest kept), networks as
artifacts, and seed groups trained as ensembles giving the same networks as single training."""

from __future__ import annotations

import pytest
import torch

from lib import artifacts
from lib.core.train import TrainConfig
from lib.experiments import runner
from helpers import tiny_config
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
    for k in configs:
        assert ens[k].history.steps == single[k].history.steps
        for name, p in single[k].model.state_dict().items():
            torch.testing.assert_close(ens[k].model.state_dict()[name], p, **TRAINED_WEIGHTS)
    again = runner.run_configs(configs, workers=1, progress=False, ensemble=True)  # all loaded
    assert again["hybrid", 2].history.perf == ens["hybrid", 2].history.perf
