"""lib.experiments.sweep: a grid of jobs on a process pool or Ray gives one table, the same on
both backends; finished jobs are skipped, an interrupted or failed sweep resumes where it
stopped, a failing job is named with its config and loses no finished one, $BOOK_NO_TRAIN=1
computes nothing, bad parameters are named.

Ray starts twice in this module (a few seconds each): once inside run_sweep (the default path,
which must stop what it started) and once in the module fixture ``ray_instance``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import ray
import ray.cloudpickle
import torch

from lib import artifacts
from lib.core.train import TrainConfig, train
from lib.experiments import runner, sweep
from lib.experiments.runner import JobsFailed

# Ray's workers cannot import this module (pytest put tests/ on this process's sys.path only),
# so its job function travels by value; lib's own functions travel by reference as usual.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

KIND = "sweep_test"


def _job(config: dict) -> dict:
    """A tiny deterministic torch computation seeded from the config (milliseconds). Leaves one
    marker file per call in ``config["calls"]``; fails while ``config["fail_unless"]`` (a path)
    does not exist."""
    calls = Path(config["calls"])
    calls.mkdir(exist_ok=True)
    (calls / f"{config['seed']}.{os.getpid()}.{time.perf_counter_ns()}").touch()
    if config.get("fail_unless") and not Path(config["fail_unless"]).exists():
        raise ValueError(f"job {config['seed']} asked to fail")
    g = torch.Generator().manual_seed(config["seed"])
    w = torch.randn(config["n"], config["n"], generator=g)
    y = torch.tanh(w @ torch.randn(config["n"], generator=g))
    return {"mean": y.mean(), "norm": float(y.norm()), "threads": torch.get_num_threads(), "y": y}


def calls(folder: Path) -> dict[int, int]:
    """Seed -> number of calls of :func:`_job` recorded in ``folder``."""
    out: dict[int, int] = {}
    for marker in folder.glob("*.*.*") if folder.exists() else []:
        seed = int(marker.name.split(".")[0])
        out[seed] = out.get(seed, 0) + 1
    return out


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the tests that share it (run_sweep uses it and leaves it)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def configs(tmp_path: Path, seeds=range(5), **fixed) -> list[dict]:
    return sweep.grid(
        seed=list(seeds),
        n=[6],
        calls=[str(tmp_path / "calls")],
        **{k: [v] for k, v in fixed.items()},
    )


def test_grid_is_the_cartesian_product_in_order():
    assert sweep.grid(a=[1, 2], b=("x", "y"), c=range(1)) == [
        {"a": 1, "b": "x", "c": 0},
        {"a": 1, "b": "y", "c": 0},
        {"a": 2, "b": "x", "c": 0},
        {"a": 2, "b": "y", "c": 0},
    ]
    with pytest.raises(ValueError, match=r"b=3 is not allowed; expected a non-empty list"):
        sweep.grid(a=[1], b=3)
    with pytest.raises(ValueError, match=r"a=\[\] is not allowed"):
        sweep.grid(a=[])


def test_default_row_keeps_scalars_and_refuses_clashes():
    row = sweep.default_row(
        0,
        {"seed": 1, "tasks": ["a"], "name": "x"},
        {"acc": torch.tensor(0.5), "curve": torch.ones(3), "n": 2},
    )
    assert row == {"seed": 1, "name": "x", "acc": 0.5, "n": 2}
    assert sweep.default_row(0, {"seed": 1}, 3.0) == {"seed": 1, "value": 3.0}
    with pytest.raises(ValueError, match=r"\['seed'\] are in both the config and the payload"):
        sweep.default_row(0, {"seed": 1}, {"seed": 2})


def test_finished_jobs_are_skipped_and_force_reruns_them(store, tmp_path):
    grid = configs(tmp_path)
    threads = torch.get_num_threads()
    table = sweep.run_sweep(KIND, _job, grid, workers=1, progress=False)
    assert torch.get_num_threads() == threads  # the one-thread jobs ran here; restored after
    assert list(table.columns) == ["seed", "n", "calls", "mean", "norm", "threads"]
    assert list(table.seed) == [0, 1, 2, 3, 4] and set(table.threads) == {1}
    assert calls(tmp_path / "calls") == {s: 1 for s in range(5)}
    for c in grid:
        direct = _job(c | {"calls": str(tmp_path / "direct")})
        assert torch.equal(artifacts.load(KIND, c)["y"], direct["y"])
    again = sweep.run_sweep(KIND, _job, grid, workers=1, progress=False)
    pd.testing.assert_frame_equal(again, table)
    assert calls(tmp_path / "calls") == {s: 1 for s in range(5)}  # nothing ran again
    sweep.run_sweep(KIND, _job, grid, workers=1, progress=False, force=True)
    assert calls(tmp_path / "calls") == {s: 2 for s in range(5)}


def test_an_interrupted_sweep_resumes(store, tmp_path):
    grid = configs(tmp_path)
    sweep.run_sweep(KIND, _job, grid[:2], workers=1, progress=False)  # stopped after two jobs
    table = sweep.run_sweep(
        KIND, _job, {f"job{i}": c for i, c in enumerate(grid)}, workers=1, progress=False
    )
    assert calls(tmp_path / "calls") == {s: 1 for s in range(5)}
    assert list(table.seed) == [0, 1, 2, 3, 4]


@pytest.mark.slow
@pytest.mark.ray
def test_both_backends_give_the_same_table(store, tmp_path):
    """The default Ray path: run_sweep starts a local instance and stops it afterwards."""
    grid = configs(tmp_path, seeds=range(6))
    was_running = ray.is_initialized()
    t0 = time.perf_counter()
    local = sweep.run_sweep(
        KIND, _job, grid, workers=2, progress=False, directory=tmp_path / "local"
    )
    t1 = time.perf_counter()
    on_ray = sweep.run_sweep(
        KIND, _job, grid, backend="ray", workers=2, progress=False, directory=tmp_path / "ray"
    )
    t2 = time.perf_counter()
    print(f"local pool {t1 - t0:.1f} s, ray {t2 - t1:.1f} s")
    assert ray.is_initialized() == was_running  # a Ray it started is stopped
    pd.testing.assert_frame_equal(on_ray, local)
    assert list(local.seed) == list(range(6)) and set(local.threads) == {1}
    assert calls(tmp_path / "calls") == {s: 2 for s in range(6)}
    for c in grid:
        assert torch.equal(
            artifacts.load(KIND, c, tmp_path / "ray")["y"],
            artifacts.load(KIND, c, tmp_path / "local")["y"],
        )
    assert not (store / KIND).exists()  # directory= was used, not $BOOK_ARTIFACTS


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", pytest.param("ray", marks=pytest.mark.ray)])
def test_a_failing_job_is_named_with_its_config_and_loses_no_other(
    store, tmp_path, backend, request
):
    if backend == "ray":
        request.getfixturevalue("ray_instance")
    flag = tmp_path / "flag"
    grid = configs(tmp_path, seeds=range(4))
    grid[2]["fail_unless"] = str(flag)
    with pytest.raises(
        JobsFailed,
        match=r"(?s)- 2: ValueError: job 2 asked to fail\n"
        r"  config: \{'seed': 2, .*'fail_unless'",
    ) as err:
        sweep.run_sweep(KIND, _job, grid, backend=backend, workers=2, progress=False)
    assert list(err.value.failures) == [2] and err.value.configs[2] == grid[2]
    assert [artifacts.has(KIND, c) for c in grid] == [True, True, False, True]
    flag.touch()  # the cause is fixed: the rerun runs the failed job only
    table = sweep.run_sweep(KIND, _job, grid, backend=backend, workers=2, progress=False)
    assert calls(tmp_path / "calls") == {0: 1, 1: 1, 2: 2, 3: 1}
    assert list(table.seed) == [0, 1, 2, 3] and table.fail_unless.iloc[2] == str(flag)
    if backend == "ray":
        assert ray.is_initialized()  # the fixture's instance is left running


def test_no_train_computes_nothing_and_names_what_is_missing(store, tmp_path, monkeypatch):
    grid = configs(tmp_path, seeds=range(3))
    sweep.run_sweep(KIND, _job, grid[:2], workers=1, progress=False)
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    with pytest.raises(
        artifacts.ArtifactError,
        match=r"1 of 3 sweep_test artifact\(s\) missing; \$BOOK_NO_TRAIN=1 forbids "
        r"computing them here .*Missing: 2: \{'seed': 2",
    ):
        sweep.run_sweep(KIND, _job, grid, workers=1, progress=False)
    assert calls(tmp_path / "calls") == {0: 1, 1: 1}
    assert len(sweep.run_sweep(KIND, _job, grid[:2], workers=1, progress=False)) == 2


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"backend": "dask"}, r"backend='dask' is not allowed; expected one of 'local', 'ray'"),
        ({"workers": 0}, r"workers=0 is not allowed; expected a positive integer"),
        ({"workers": 1.5}, r"workers=1.5 is not allowed"),
        (
            {"address": "10.0.0.1:6379"},
            r"address='10.0.0.1:6379' is not allowed; expected None "
            r"with backend='local'",
        ),
        (
            {"backend": "ray", "address": "head-node"},
            r"address='head-node' is not allowed; "
            r"expected None \(start a local Ray",
        ),
        ({"backend": "ray", "gpus_per_job": -1}, r"gpus_per_job=-1 is not allowed"),
        ({"gpus_per_job": 1}, r"gpus_per_job=1 is not allowed; expected 0 with backend='local'"),
    ],
)
def test_bad_parameters_are_named_before_anything_runs(store, tmp_path, kw, message):
    with pytest.raises(ValueError, match=message):
        sweep.run_sweep(KIND, _job, configs(tmp_path), progress=False, **kw)
    assert calls(tmp_path / "calls") == {}


def test_a_config_that_is_not_json_is_named(store, tmp_path):
    with pytest.raises(ValueError, match=r"configs\['b'\]=.* expected a dict of JSON-able"):
        sweep.run_sweep(KIND, _job, {"a": {"seed": 0}, "b": {"seed": object()}}, progress=False)


def test_train_network_makes_the_artifacts_load_or_train_loads(store, monkeypatch):
    config = TrainConfig(
        mechanism="exc",
        tasks=("fdgo", "fdanti"),
        n_rec=8,
        seed=3,
        max_steps=4,
        batch_size=8,
        eval_every=2,
        eval_trials=8,
    )
    table = sweep.run_sweep(
        "network", sweep.train_network, {"net": config.to_dict()}, workers=1, progress=False
    )
    assert table[["mechanism", "n_rec", "seed"]].to_dict("records") == [
        {"mechanism": "exc", "n_rec": 8, "seed": 3}
    ]
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")  # loaded, not trained again
    loaded = runner.load_or_train(config, progress=False)
    direct = train(config, progress=False)
    assert loaded.history.steps == direct.history.steps
    for name, p in direct.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], p)
