"""Sweeps on a real multi-node Ray cluster: a head and a worker node started as separate
processes (``ray start --head`` on the loopback address, then ``ray start --address``), the
driver connecting to it by ``address`` as the README tells a cluster user to do.

The in-process ``ray.init()`` of ``tests/test_sweep.py`` cannot show that jobs reach another
node's raylet, that a node without the driver's state can run them, or that the driver's
artifacts are what the cluster computed; this test does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lib import artifacts
from lib.core.train import TrainConfig
from lib.experiments import full_battery, sweep
from lib.experiments.runner import load_or_train

ray = pytest.importorskip("ray")
cloudpickle = pytest.importorskip("ray.cloudpickle")

pytestmark = [pytest.mark.slow, pytest.mark.ray]

cloudpickle.register_pickle_by_value(sys.modules[__name__])

RAY = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
NODE_START_TIMEOUT_S = 120
ADDRESS_FILE = Path("/tmp/ray/ray_current_cluster")
"""Where `ray start` records the running cluster's address (read by a later ray.init())."""
JOB_SECONDS = 1.0
"""How long each node-reporting job holds its CPU, so that one node cannot take every job."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _where(config: dict) -> dict:
    """A job that reports the node it ran on (and holds its CPU for a moment)."""
    time.sleep(JOB_SECONDS)
    return {"node": ray.get_runtime_context().get_node_id(), "job": config["index"]}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node and one worker node, 1 CPU each, on 127.0.0.1, as two ``ray start --block``
    processes (terminating them stops their nodes); yields the head's address."""
    if RAY is None:
        pytest.skip("the ray command is not installed")
    assert not ray.is_initialized(), "an in-process Ray is running; this test needs none"
    port = _free_port()
    address = f"127.0.0.1:{port}"
    # Token authentication off for this loopback-only cluster: `ray start --head` turns it on
    # when a token file exists (~/.ray/auth_token), while this process's ray.init() does not
    # read that file unless told to; a real cluster keeps it on (README).
    env = os.environ | {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    logs = tmp_path_factory.mktemp("ray-logs")
    # `ray start` records the cluster's address in /tmp/ray/ray_current_cluster; left behind,
    # it makes a later ray.init() (tests/test_sweep.py) try to join the dead cluster. It is
    # put back as it was at teardown.
    before = ADDRESS_FILE.read_text() if ADDRESS_FILE.exists() else None
    common = ["--num-cpus=1", "--num-gpus=0", "--block", "--disable-usage-stats"]
    head = subprocess.Popen(
        [
            RAY,
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--include-dashboard=false",
            *common,
        ],
        stdout=open(logs / "head.log", "w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    procs = [head]
    try:
        _wait_for_nodes(address, 1, env, logs)
        worker = subprocess.Popen(
            [RAY, "start", f"--address={address}", "--node-ip-address=127.0.0.1", *common],
            stdout=open(logs / "worker.log", "w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        procs.append(worker)
        _wait_for_nodes(address, 2, env, logs)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        if before is None:
            ADDRESS_FILE.unlink(missing_ok=True)
        else:
            ADDRESS_FILE.write_text(before)


def _wait_for_nodes(address: str, n: int, env: dict, logs: Path) -> None:
    """Poll the cluster (in a subprocess, so this process never holds a Ray connection) until
    ``n`` nodes are alive."""
    probe = (
        "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(sum(x['Alive'] for x in ray.nodes()))"
    )
    deadline = time.monotonic() + NODE_START_TIMEOUT_S
    while time.monotonic() < deadline:
        out = subprocess.run(
            [sys.executable, "-c", probe, address],
            capture_output=True,
            text=True,
            env=env,
            timeout=NODE_START_TIMEOUT_S,
        )
        if out.returncode == 0 and out.stdout.strip().splitlines()[-1:] == [str(n)]:
            return
        time.sleep(2)
    tails = {f.name: f.read_text()[-2000:] for f in logs.iterdir()}
    raise RuntimeError(
        f"the Ray cluster at {address} did not reach {n} alive node(s) within "
        f"{NODE_START_TIMEOUT_S} s; logs: {tails}"
    )


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv("BOOK_NO_TRAIN", raising=False)  # `make test` sets it
    monkeypatch.delenv("BOOK_DEVICE", raising=False)
    return tmp_path / "artifacts"


def test_jobs_run_on_both_nodes_of_the_cluster(cluster, store):
    table = sweep.run_sweep(
        "where",
        _where,
        [{"index": i} for i in range(6)],
        backend="ray",
        address=cluster,
        progress=False,
    )
    assert (table["index"] == table["job"]).all()  # each row is its own job's result
    assert table["node"].nunique() == 2, table


def test_networks_trained_on_the_cluster_equal_local_training(cluster, store, tmp_path):
    configs = {
        seed: TrainConfig(
            mechanism=mech,
            tasks=("fdgo", "fdanti"),
            n_rec=16,
            seed=seed,
            max_steps=30,
            eval_every=15,
            eval_trials=16,
        )
        for seed, mech in enumerate(("exc_bias", "syn_prepost"))
    }
    sweep.run_sweep(
        "network",
        sweep.train_network,
        {k: c.to_dict() for k, c in configs.items()},
        backend="ray",
        address=cluster,
        progress=False,
    )
    local = tmp_path / "local"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as every sweep job runs (runner.call_job): same reduction order
    try:
        for config in configs.values():
            load_or_train(config, directory=local, progress=False)
    finally:
        torch.set_num_threads(threads)
    for config in configs.values():
        assert artifacts.has("network", config.to_dict())  # saved by the driver
        on_cluster = load_or_train(config, progress=False)
        here = load_or_train(config, directory=local, progress=False)
        for name, value in here.model.state_dict().items():
            assert torch.equal(on_cluster.model.state_dict()[name], value), name
        cluster_curves, local_curves = on_cluster.history.to_dict(), here.history.to_dict()
        assert set(cluster_curves) == set(local_curves)
        for name in set(local_curves) - {"wall_s"}:  # wall time is where it ran, not what
            if name == "tasks":
                assert cluster_curves[name] == local_curves[name]
            else:  # numbers (NaN where not measured, equal as NaN)
                np.testing.assert_array_equal(
                    np.asarray(cluster_curves[name], dtype=float),
                    np.asarray(local_curves[name], dtype=float),
                    err_msg=name,
                )


def test_the_full_battery_trains_on_the_cluster(cluster, store):
    # the full profile's path (python -m lib.experiments --profile full --backend ray --address
    # ...), at smoke size and trimmed to a few networks: every one is trained as a Ray task on
    # the cluster and saved by the driver, then loaded, on all 20 tasks
    spec = full_battery.full_spec(
        "smoke", variants=["exc_bias", "syn_prepost"], n_seeds=1, sizes=[8], size_seeds=1
    )
    nets = full_battery.run_full(spec, backend="ray", address=cluster, progress=False)
    assert set(nets) == set(spec.jobs()) and len(nets) == 4
    for key, config in spec.jobs().items():
        assert artifacts.has("network", config.to_dict())
        assert len(nets[key].config.tasks) == 20
