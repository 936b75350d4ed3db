"""Sweeps: a grid of configs, one job and one artifact each, on a process pool or a Ray cluster.

A sweep is a set of JSON-able config dicts (:func:`grid` builds the cartesian product of named
axes) and a module-level function ``fn(config) -> payload`` that computes one artifact's payload
(a trained network, an evaluation, any picklable result) from its config alone.
:func:`run_sweep` runs the jobs whose artifacts are missing, with a progress bar over jobs, and
returns one table (a ``pandas.DataFrame``, one row per config, in the configs' order) that
chapters plot.

* **Artifacts are saved by the driver** (the calling process), with
  :func:`lib.artifacts.save` as soon as each job returns: workers only compute, so the nodes of a
  cluster need no shared disk, and an interrupted sweep keeps every job that had finished. Run
  the same sweep again and it resumes: jobs whose verified artifact exists are loaded, not run
  (``force=True`` runs them all again). ``$BOOK_NO_TRAIN=1`` (``make test``, CI) computes
  nothing: a missing artifact is an error naming its configs.
* **A failing job does not stop the others**: after every job has run, the failures are raised
  together as :class:`~lib.experiments.runner.JobsFailed`, each with its key, the last line of
  its traceback and its config; every finished job's artifact is saved.
* **Backends** (``backend=``): ``"local"`` (default) is a pool of ``workers`` spawned processes
  with one torch thread each, as :func:`lib.experiments.runner.run_jobs`; ``"ray"`` runs each job
  as a Ray core task (one CPU each, ``gpus_per_job`` GPUs) on a local Ray instance of ``workers``
  CPUs, or on a running cluster when given its ``address`` (see the README: ``ray start --head``
  on one node, ``ray start --address=...`` on the others). Both give the same table.
* **Devices**: nothing here picks one. A job that trains or evaluates networks uses
  :func:`lib.core.train.default_device`: ``$BOOK_DEVICE`` if set, else CUDA when present, else
  the CPU. On a GPU node, ``backend="local"`` runs ``workers`` processes that share the GPU;
  ``backend="ray"`` with ``gpus_per_job=0.25`` runs four jobs per GPU and lets Ray place them
  (with ``gpus_per_job=0`` a Ray task still sees every GPU of its node). ``$BOOK_DEVICE`` set in
  the driver is passed on to every Ray task (e.g. ``BOOK_DEVICE=cpu`` for CPU-only jobs on GPU
  nodes).

Ray is imported only when ``backend="ray"`` is asked for (it is a dependency of the ``dev``
extra), so the rest of ``lib`` runs without it.
"""

from __future__ import annotations

import itertools
import logging
import math
import numbers
import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from lib import artifacts
from lib.core.checks import check_choice, check_number, check_positive_int, fail
from lib.core.train import TrainConfig, train
from lib.experiments.runner import JobsFailed, call_job, network_payload, report_job

BACKENDS = ("local", "ray")
"""Where the jobs of a sweep run: a local process pool, or Ray core tasks."""

DEVICE_ENV = "BOOK_DEVICE"
"""The variable :func:`lib.core.train.default_device` reads; passed on to Ray tasks when set."""


def grid(**axes: Sequence) -> list[dict]:
    """The cartesian product of named axes, as config dicts in a fixed order (the first axis
    varies slowest): ``grid(n_rec=[32, 64], seed=range(3))`` gives six dicts, ``{"n_rec": 32,
    "seed": 0}``, ``{"n_rec": 32, "seed": 1}``, ... Each axis is a non-empty list, tuple or range
    of values; a fixed field is a one-element list."""
    for name, values in axes.items():
        if not isinstance(values, (list, tuple, range)) or len(values) == 0:
            fail(
                name,
                values,
                "a non-empty list, tuple or range of values (a fixed value is a one-element list)",
            )
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*axes.values())]


def train_network(config: dict) -> dict:
    """A sweep job that trains one network: ``config`` is a ``TrainConfig.to_dict()``, the
    payload what a ``network`` artifact stores (weights and learning curves). So
    ``run_sweep("network", train_network, {k: c.to_dict() for k, c in configs.items()})`` makes
    the very artifacts that :func:`lib.experiments.runner.load_or_train`, the chapters and
    ``python -m lib.experiments`` load (same kind, same config, same key)."""
    return network_payload(train(TrainConfig.from_dict(config), progress=False))


def _scalar(value: Any) -> tuple[bool, Any]:
    """``(True, value as a plain Python scalar)`` for None, bools, numbers, strings and 0-d
    arrays or tensors; ``(False, None)`` for anything else (lists, dicts, arrays)."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return (True, value.item()) if value.ndim == 0 else (False, None)
    if isinstance(value, np.generic):
        return True, value.item()
    if value is None or isinstance(value, (bool, str, numbers.Number)):
        return True, value
    return False, None


def _scalars(fields: Mapping) -> dict:
    out = {}
    for name, value in fields.items():
        ok, plain = _scalar(value)
        if ok:
            out[name] = plain
    return out


def default_row(key: Hashable, config: Mapping, payload: Any) -> dict:
    """A sweep's table row: the config's scalar fields, then the payload's (a dict payload's
    scalar fields, or a scalar payload as ``value``). Lists, arrays and nested dicts are left
    out; pass ``row=`` to :func:`run_sweep` to keep or derive others. A field in both the config
    and the payload is an error (a column would silently hide the other)."""
    row = _scalars(config)
    if isinstance(payload, Mapping):
        more = _scalars(payload)
    else:
        ok, plain = _scalar(payload)
        more = {"value": plain} if ok else {}
    both = sorted(set(row) & set(more))
    if both:
        raise ValueError(
            f"row of {key!r}: field(s) {both} are in both the config and the "
            "payload; pass row=... to run_sweep to name the columns"
        )
    return row | more


def _check_address(backend: str, address: Any) -> None:
    if address is None:
        return
    if backend != "ray":
        fail(
            "address",
            address,
            f"None with backend={backend!r} (an address is the Ray cluster of backend='ray')",
        )
    if not isinstance(address, str) or (address != "auto" and ":" not in address.strip()):
        fail(
            "address",
            address,
            "None (start a local Ray instance), 'auto' (the cluster this "
            "node has joined) or the 'host:port' that `ray start --head` "
            "prints",
        )


def _jobs(configs: Mapping[Hashable, Mapping] | Sequence[Mapping]) -> dict[Hashable, dict]:
    jobs = dict(configs) if isinstance(configs, Mapping) else dict(enumerate(configs))
    for key, config in jobs.items():
        try:
            if not isinstance(config, Mapping):
                raise TypeError
            artifacts.canonical(dict(config))
        except (TypeError, ValueError):
            fail(
                f"configs[{key!r}]",
                config,
                "a dict of JSON-able fields (numbers, strings, "
                "bools, None, lists and dicts of them)",
            )
        jobs[key] = dict(config)
    return jobs


def run_sweep(
    kind: str,
    fn: Callable[[dict], Any],
    configs: Mapping[Hashable, Mapping] | Sequence[Mapping],
    *,
    row: Callable[[Hashable, dict, Any], dict] = default_row,
    backend: str = "local",
    address: str | None = None,
    workers: int = 2,
    gpus_per_job: float = 0.0,
    progress: bool = True,
    force: bool = False,
    directory: Path | None = None,
) -> pd.DataFrame:
    """Run ``fn`` on every config whose ``kind`` artifact is missing; return the sweep's table.

    Parameters
    ----------
    kind : the artifacts' kind (their folder under ``directory``, default
        :func:`lib.artifacts.artifact_dir`: ``artifacts/`` or ``$BOOK_ARTIFACTS``).
    fn : a module-level function (it is pickled to the workers) computing one payload from one
        config. It should need nothing but its config: on a cluster it runs on a node that may
        not have the driver's artifacts.
    configs : key -> config dict (JSON-able), or a list of config dicts (keys: their positions),
        e.g. :func:`grid`'s.
    row : ``row(key, config, payload) -> dict``, one table row (default :func:`default_row`);
        called in the driver on each payload as read back from its verified artifact.
    backend : ``"local"`` (a process pool) or ``"ray"`` (Ray core tasks).
    address : ``backend="ray"`` only: a running Ray cluster (``"host:port"`` or ``"auto"``);
        None starts a local instance of ``workers`` CPUs for this call and stops it after. A Ray
        that this process has already initialised is used as it is, and left running.
    workers : processes of the local pool, or CPUs of the local Ray instance (a cluster's own
        CPUs decide there). ``workers=1`` runs the jobs one by one in this process.
    gpus_per_job : ``backend="ray"`` only: GPUs each task reserves (0.25: four jobs per GPU).
    progress : show a progress bar over the jobs that run.
    force : run every job again (their artifacts are overwritten), not only the missing ones.
    directory : where artifacts are read and saved (default: :func:`lib.artifacts.artifact_dir`).

    Returns a DataFrame with one row per config, in the order of ``configs`` (whatever the
    backend and the order in which jobs finished). Raises ``ValueError`` for a bad parameter
    (before anything runs), :class:`lib.artifacts.ArtifactError` if ``$BOOK_NO_TRAIN=1`` and an
    artifact is missing, and :class:`~lib.experiments.runner.JobsFailed` after every job has run
    if any failed (the others are saved; running the sweep again runs only the failed ones).
    """
    check_choice("backend", backend, BACKENDS)
    workers = check_positive_int("workers", workers)
    _check_address(backend, address)
    if check_number("gpus_per_job", gpus_per_job, 0, math.inf, "a number >= 0") and (
        backend != "ray"
    ):
        fail(
            "gpus_per_job",
            gpus_per_job,
            f"0 with backend={backend!r} (each job uses the device "
            "lib.core.train.default_device picks; GPU "
            "reservations are for backend='ray')",
        )
    jobs = _jobs(configs)
    todo = (
        dict(jobs)
        if force
        else {k: c for k, c in jobs.items() if not artifacts.has(kind, c, directory)}
    )
    if todo and artifacts.no_train():
        shown = "; ".join(f"{k!r}: {c}" for k, c in list(todo.items())[:5])
        more = f" (and {len(todo) - 5} more)" if len(todo) > 5 else ""
        raise artifacts.ArtifactError(
            f"{len(todo)} of {len(jobs)} {kind} artifact(s) missing; ${artifacts.NO_TRAIN_ENV}=1 "
            f"forbids computing them here (run the sweep without it). Missing: {shown}{more}"
        )

    failures: dict[Hashable, str] = {}
    bar = tqdm(
        total=len(todo),
        desc=f"{kind} on {backend} ({len(todo)} of {len(jobs)} to run)",
        disable=not progress,
    )

    def done(key: Hashable, result: tuple[Any, list[str], str | None]) -> None:
        payload, msgs, error = result
        report_job(key, msgs, error, failures)
        if error is None:
            try:
                artifacts.save(kind, todo[key], payload, directory)
            except Exception:  # noqa: BLE001 -- e.g. an unpicklable payload: that job failed
                failures[key] = traceback.format_exc()
        bar.update(1)

    try:
        if todo and backend == "local":
            _run_local(fn, todo, done, workers)
        elif todo:
            _run_ray(fn, todo, done, workers, address, gpus_per_job)
    finally:
        bar.close()
    if failures:
        raise JobsFailed(failures, {k: jobs[k] for k in failures})
    return pd.DataFrame([row(k, c, artifacts.load(kind, c, directory)) for k, c in jobs.items()])


def _crashed() -> tuple[None, list[str], str]:
    """The result of a job whose worker died (the traceback of the driver's error)."""
    return None, [], traceback.format_exc()


def _run_local(fn: Callable, todo: dict, done: Callable, workers: int) -> None:
    """Process pool of ``workers`` spawned processes (or this process for one worker or job)."""
    if workers == 1 or len(todo) == 1:
        threads = torch.get_num_threads()
        try:
            for key, config in todo.items():
                done(key, call_job(fn, config))
        finally:
            torch.set_num_threads(threads)
        return
    ctx = torch.multiprocessing.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx)
    try:
        futures = {ex.submit(call_job, fn, config): key for key, config in todo.items()}
        for f in as_completed(futures):
            try:
                result = f.result()
            except Exception:  # noqa: BLE001 -- a worker died: this job failed, the rest go on
                result = _crashed()
            done(futures.pop(f), result)
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)  # interrupted: finished jobs are saved
        raise
    ex.shutdown()


def _run_ray(
    fn: Callable, todo: dict, done: Callable, workers: int, address: str | None, gpus_per_job: float
) -> None:
    """Ray core tasks, consumed as they complete (``ray.wait``)."""
    try:
        import ray  # optional at run time: only this backend needs it
    except ImportError as err:
        raise ImportError(
            "backend='ray' needs Ray, a dependency of the dev extra: "
            ".venv/bin/pip install -c requirements-lock.txt -e '.[dev]'"
        ) from err
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = not ray.is_initialized()
    if started and address:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    elif started:
        ray.init(
            num_cpus=workers,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    pending: list = []
    try:
        task = ray.remote(num_cpus=1, num_gpus=gpus_per_job)(call_job)
        if os.environ.get(DEVICE_ENV):
            task = task.options(runtime_env={"env_vars": {DEVICE_ENV: os.environ[DEVICE_ENV]}})
        keys = {task.remote(fn, config): key for key, config in todo.items()}
        pending = list(keys)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                try:
                    result = ray.get(ref)
                except Exception:  # noqa: BLE001 -- a worker or node died: this job failed
                    result = _crashed()
                done(keys.pop(ref), result)
    except BaseException:
        for ref in pending:  # interrupted: finished jobs are saved, the rest are called off
            try:
                ray.cancel(ref)
            except Exception:  # noqa: BLE001 -- best effort; shutdown below ends them anyway
                pass
        raise
    finally:
        if started:
            ray.shutdown()


__all__ = ["BACKENDS", "grid", "default_row", "run_sweep", "train_network"]
