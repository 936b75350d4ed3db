"""The plan of a run, printed before anything is trained or computed, and the long-run stop.

A plan says, for each phase (e.g. E1's networks, E2's probes): how many artifacts it needs, how
many are present (shipped or cached, verified with :func:`lib.artifacts.has`), how many must be
made, and an estimate of the wall time. The estimate is measured on this machine, not guessed:
a few real training steps of each kind of network (its N, mechanism, rank, tasks and batch size,
one torch thread, as in a worker) are timed after one warm-up step, and one evaluation on a few
tasks; a network then costs at most ``max_steps`` steps plus one evaluation every
``eval_every`` steps, a probe of E2 its number of forward passes. Jobs run in ``workers``
processes, so the sum is divided by the number that really run at once (``workers``, the number
of jobs, and on a CPU the number of cores). Training stops early once every task is at
criterion, so the real time is usually shorter: the estimate is the budget's.

Measured costs are kept in a per-machine file (:func:`cost_cache_path`, keyed by the kind of
network and :func:`machine_signature`: library versions, CPU, device), so only the first plan on
a machine pays for the timing (a few seconds per kind; each is announced on stderr).

A plan whose estimate exceeds :data:`LONG_RUN_S` stops with :class:`PlanTooLong` before any work
unless the caller allows it (``allow_long=True`` in a chapter, ``-p allow_long True`` through
papermill, ``--yes`` for ``python -m lib.experiments``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable

import numpy as np
import torch

from lib import artifacts
from lib.core import tasks as yang_tasks
from lib.core.train import (
    History,
    TrainConfig,
    build_model,
    default_device,
    evaluate,
    evaluation_batches,
    make_optimizer,
    train_step,
    trainable_parameters,
)

LONG_RUN_S = 30 * 60
"""A plan estimated to take longer than this (seconds) needs an explicit go-ahead."""

TIMED_STEPS = 4
"""Training steps timed per kind of network (after one warm-up step)."""

EVAL_SAMPLE_TASKS = 3
"""Tasks whose evaluation forward pass is timed (the cost is scaled to every task)."""

SWITCHES = (
    "allow_long=True in a chapter (papermill: -p allow_long True), "
    "or --yes for python -m lib.experiments"
)
"""How to allow a long run, as said in messages."""


@dataclass(frozen=True)
class Cost:
    """Measured seconds of one network kind: a training step, one evaluation on every task, and
    building the evaluation trials once per job."""

    step_s: float
    eval_s: float
    setup_s: float


_COSTS: dict[tuple, Cost] = {}
"""Measured costs in this process, by :func:`cost_key` (the measurement takes a few seconds)."""

COST_CACHE_VERSION = 2
"""Part of every disk-cache key: bump it when the trainer's speed changes (2: the fused
recurrence), so that costs measured with older code are measured again."""

COST_CACHE_FILE = "step-costs.json"


def cache_dir() -> Path:
    """The per-machine cache directory: ``$BOOK_CACHE``, by default
    ``~/.cache/modulation-book``."""
    return Path(os.environ.get("BOOK_CACHE") or Path.home() / ".cache" / "modulation-book")


def cost_cache_path() -> Path:
    """The per-machine cache of measured step costs, ``cache_dir() / step-costs.json``."""
    return cache_dir() / COST_CACHE_FILE


def machine_signature() -> dict:
    """What a measured cost depends on besides the network: library versions, the CPU (model,
    cores, the instruction set torch dispatches to) and the device training runs on."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu
            )
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "device": str(default_device()),
        "version": COST_CACHE_VERSION,
    }


def _disk_key(key: Any) -> str:
    return json.dumps({"machine": machine_signature(), "key": key}, sort_keys=True)


def _finite_numbers(v: Any, n: int) -> bool:
    return (
        isinstance(v, list)
        and len(v) == n
        and all(isinstance(x, (int, float)) and math.isfinite(x) for x in v)
    )


def _read_cache(path: Path, n: int) -> dict:
    """A cache file's entries {key: [n finite numbers]}; an unreadable or malformed file counts
    as empty, and malformed entries are dropped (both are rewritten at the next store)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if _finite_numbers(v, n)}


def _store(path: Path, n: int, key: Any, values: list[float]) -> None:
    """Add one entry to a cache file (atomically; a cache that cannot be written is skipped:
    the value is then computed again next time)."""
    entries = _read_cache(path, n)
    entries[_disk_key(key)] = values
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries))
        os.replace(tmp, path)


def machine_cached(name: str, key: Any, compute: Callable[[], float]) -> float:
    """``compute()``, a number that depends on ``key`` (JSON-able) and on this machine's
    libraries and CPU only, kept in ``cache_dir() / {name}.json`` so that later processes on
    this machine read it instead (e.g. the initial context drive the equalised arm's keys need;
    its ``key`` must include the behaviour version of what it computes)."""
    path = cache_dir() / f"{name}.json"
    hit = _read_cache(path, 1).get(_disk_key(key))
    if hit is not None:
        return hit[0]
    value = float(compute())
    _store(path, 1, key, [value])
    return value


def _cached_cost(key: tuple) -> Cost | None:
    entry = _read_cache(cost_cache_path(), 3).get(_disk_key(list(key)))
    return None if entry is None or min(entry) < 0 else Cost(*entry)


def _store_cost(key: tuple, cost: Cost) -> None:
    _store(cost_cache_path(), 3, list(key), [cost.step_s, cost.eval_s, cost.setup_s])


def cost_key(config: TrainConfig) -> tuple:
    """What the time of a step depends on (not the seed, budget or learning rate)."""
    return (
        config.mechanism,
        config.n_rec,
        config.rank,
        tuple(config.tasks),
        config.batch_size,
        config.trainable,
        config.eval_trials,
        config.activation,
        str(default_device()),
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_cost(config: TrainConfig) -> Cost:
    """Time :data:`TIMED_STEPS` training steps (after one warm-up) and one evaluation of a
    network of ``config``'s kind, with one torch thread (as a worker runs). Cached per kind, in
    this process and on disk (:func:`cost_cache_path`, keyed by the kind and
    :func:`machine_signature`), so a second plan on this machine measures nothing; each new
    measurement is announced on stderr."""
    key = cost_key(config)
    if key in _COSTS:
        return _COSTS[key]
    cached = _cached_cost(key)
    if cached is not None:
        _COSTS[key] = cached
        return cached
    print(
        f"plan: timing {config.mechanism} N={config.n_rec} K={len(config.tasks)} "
        f"({TIMED_STEPS} steps and an evaluation; cached in {cost_cache_path()}) ...",
        file=sys.stderr,
        flush=True,
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        device = default_device()
        model = build_model(config).to(device)
        params = trainable_parameters(model, config.trainable)
        optimizer = make_optimizer(params, config.lr, device)
        K = len(config.tasks)
        history = History(config.tasks, perf=[[0.5] * K])  # what sampling="error" reads

        def step(s: int) -> None:
            train_step(model, optimizer, params, config, s, history, device)

        step(0)
        _sync(device)
        t0 = time.perf_counter()
        for s in range(1, TIMED_STEPS + 1):
            step(s)
        _sync(device)
        step_s = (time.perf_counter() - t0) / TIMED_STEPS
        sample = config.tasks[:: max(1, math.ceil(K / EVAL_SAMPLE_TASKS))][:EVAL_SAMPLE_TASKS]
        t0 = time.perf_counter()
        batches = evaluation_batches(config.replace(tasks=sample), device)
        setup_s = (time.perf_counter() - t0) * K / len(sample)
        t0 = time.perf_counter()
        evaluate(model, config, batches)  # the contexts of the first tasks: same cost
        _sync(device)
        eval_s = (time.perf_counter() - t0) * K / len(sample)
    finally:
        torch.set_num_threads(threads)
    _COSTS[key] = Cost(step_s, eval_s, setup_s)
    _store_cost(key, _COSTS[key])
    return _COSTS[key]


def train_seconds(config: TrainConfig) -> float:
    """Estimated seconds to train one network of ``config`` to its full budget."""
    c = measure_cost(config)
    n_evals = math.ceil(config.max_steps / config.eval_every) + 1
    return config.max_steps * c.step_s + n_evals * c.eval_s + c.setup_s


def _epochs(task: str) -> dict:
    return yang_tasks.sample_conditions(task, 1, 0).epochs  # the names are the same on every draw


def probe_forwards(tasks: tuple[str, ...], probe: Any) -> int:
    """Forward passes (each on one task's evaluation trials) of
    :func:`lib.experiments.ambiguity.probe_network` on a network of ``tasks``: both tasks of
    every pair at every mixture weight, and each task of a pair once switched mid-trial (tasks
    with a stimulus epoch); frozen and fresh noise, dilution and scale at every level; missing,
    go only and clean context once per task, delay removed once per task with a delay."""
    n = len(tasks)
    pairs = n * (n - 1) // 2
    switchable = sum("stim1" in _epochs(t) for t in tasks)
    delayed = sum(any(e.startswith("delay") for e in _epochs(t)) for t in tasks)
    per_task = 2 * len(probe.noise_levels) + len(probe.dilutions) + len(probe.scales) + 3
    return 2 * pairs * len(probe.lambdas) + (n - 1) * switchable + n * per_task + delayed


def probe_seconds(config: TrainConfig, probe: Any) -> float:
    """Estimated seconds to probe one network of ``config`` with a ``ProbeSpec``."""
    c = measure_cost(config)
    K = len(config.tasks)
    return probe_forwards(config.tasks, probe) * c.eval_s / K + c.setup_s


def fmt_duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3 h 20 min``, ``4.5 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        h, m = divmod(round(seconds / 60), 60)
        return f"{h} h {m} min"
    return f"{seconds / 86400:.1f} days"


def parallelism(workers: int, n_jobs: int) -> int:
    """How many jobs really run at once: workers, jobs, and on a CPU the cores."""
    n = min(workers, n_jobs)
    if default_device().type == "cpu":
        n = min(n, os.cpu_count() or 1)
    return max(1, n)


@dataclass
class Part:
    """One phase of a plan: ``needed`` artifacts of ``kind``, ``present`` of them verified on
    disk, ``todo`` the keys of the jobs to run (estimated ``job_s`` seconds each)."""

    label: str
    kind: str
    needed: int
    present: int
    todo: list[Hashable]
    job_s: list[float]
    workers: int
    note: str = ""

    @property
    def to_make(self) -> int:
        return len(self.todo)

    @property
    def wall_s(self) -> float:
        """Estimated wall time: the jobs spread over the workers (never less than the longest)."""
        if not self.job_s:
            return 0.0
        return max(sum(self.job_s) / parallelism(self.workers, len(self.job_s)), max(self.job_s))

    def text(self) -> str:
        line = (
            f"- {self.label}: {self.needed} {self.kind} artifacts needed, {self.present} "
            f"present (shipped or cached), {self.to_make} to make"
        )
        if self.todo:
            per_job = sum(self.job_s) / len(self.job_s)
            line += (
                f"; about {fmt_duration(self.wall_s)} ({fmt_duration(per_job)} per job "
                f"on average, {parallelism(self.workers, self.to_make)} at once)"
            )
        return line + (f"\n  {self.note}" if self.note and self.todo else "")


@dataclass
class Plan:
    """The phases of a run, in the order they run."""

    parts: list[Part] = field(default_factory=list)

    @property
    def needed(self) -> int:
        return sum(p.needed for p in self.parts)

    @property
    def present(self) -> int:
        return sum(p.present for p in self.parts)

    @property
    def to_make(self) -> int:
        return sum(p.to_make for p in self.parts)

    @property
    def wall_s(self) -> float:
        return sum(p.wall_s for p in self.parts)

    @property
    def too_long(self) -> bool:
        return self.wall_s > LONG_RUN_S

    def text(self) -> str:
        head = (
            f"Plan: {self.needed} artifacts needed, {self.present} present, {self.to_make} to make"
        )
        if self.to_make:
            head += (
                f"; estimated wall time up to {fmt_duration(self.wall_s)} on this machine "
                f"(measured step costs x step budgets; training stops early at criterion)"
            )
        return "\n".join([head, *(p.text() for p in self.parts)])


class PlanTooLong(RuntimeError):
    """A plan's estimate exceeds :data:`LONG_RUN_S` and the long run was not allowed.

    ``reason`` says so with the estimate and the switch that allows it; the message adds the
    plan."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.reason = (
            f"this run would take up to {fmt_duration(plan.wall_s)} on this machine, more than "
            f"the {fmt_duration(LONG_RUN_S)} limit (lib.experiments.plan.LONG_RUN_S); nothing "
            f"was trained or computed. To run it anyway set {SWITCHES}. Artifacts already "
            f"made are kept and an interrupted run resumes"
        )
        super().__init__(f"{self.reason}.\n{plan.text()}")


def _part(
    label: str,
    kind: str,
    keys: dict[Hashable, dict],
    cost: Callable[[Hashable], float],
    workers: int,
    force: bool,
    todo: list | None,
    note: str,
) -> Part:
    if todo is None:
        missing = [k for k, cfg in keys.items() if not artifacts.has(kind, cfg)]
        todo = list(keys) if force else missing
        present = len(keys) - len(missing)
    else:
        present = len(keys) - len(todo)
    return Part(label, kind, len(keys), present, list(todo), [cost(k) for k in todo], workers, note)


def artifact_part(
    label: str,
    kind: str,
    keys: dict[Hashable, dict],
    cost: Callable[[Hashable], float],
    workers: int,
    force: bool = False,
    todo: list | None = None,
    note: str = "",
) -> Part:
    """A part making one ``kind`` artifact per key (``keys``: their artifact configs; ``cost``:
    estimated single-worker seconds of one key; ``todo``: keys already known to be missing)."""
    return _part(label, kind, keys, cost, workers, force, todo, note)


def network_part(
    configs: dict[Hashable, TrainConfig],
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "networks",
) -> Part:
    """The networks of ``configs`` (``todo``: keys already known to be missing; ``force``:
    every one is made again)."""
    budgets = sorted({(c.max_steps, c.eval_every) for c in configs.values()})
    note = "budget per network: " + "; ".join(
        f"{s:,} steps + {math.ceil(s / e) + 1} evaluations" for s, e in budgets[:3]
    )
    return _part(
        label,
        "network",
        {k: c.to_dict() for k, c in configs.items()},
        lambda k: train_seconds(configs[k]),
        workers,
        force,
        todo,
        note,
    )


def probe_part(
    configs: dict[Hashable, TrainConfig],
    probe: Any,
    keys: dict[Hashable, dict],
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "E2 probes",
) -> Part:
    """E2's probes of the networks of ``configs``; ``keys`` are their ``ambiguity`` artifact
    configs (:func:`lib.experiments.ambiguity.probe_key`)."""
    task_sets = {tuple(c.tasks) for c in configs.values()}
    note = "forward passes per network: " + ", ".join(
        f"{probe_forwards(t, probe):,}" for t in sorted(task_sets)
    )
    return _part(
        label,
        "ambiguity",
        keys,
        lambda k: probe_seconds(configs[k], probe),
        workers,
        force,
        todo,
        note,
    )


def require(plan: Plan, allow_long: bool = False) -> Plan:
    """Print the plan if anything must be made; raise :class:`PlanTooLong` (before any work)
    if its estimate exceeds :data:`LONG_RUN_S` and ``allow_long`` is False."""
    if not plan.to_make:
        return plan
    print(plan.text(), flush=True)
    if plan.too_long:
        if not allow_long:
            raise PlanTooLong(plan)
        print(
            f"allow_long: going ahead with a run of up to {fmt_duration(plan.wall_s)}; "
            "the progress bar shows the ETA",
            flush=True,
        )
    return plan


__all__ = [
    "LONG_RUN_S",
    "Cost",
    "measure_cost",
    "cache_dir",
    "cost_cache_path",
    "machine_signature",
    "machine_cached",
    "train_seconds",
    "probe_seconds",
    "probe_forwards",
    "Part",
    "Plan",
    "PlanTooLong",
    "network_part",
    "probe_part",
    "require",
    "fmt_duration",
]
