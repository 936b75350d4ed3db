"""The plan of a run, printed before anything is trained or computed, and the long-run stop.

A plan says, for each phase (e.g. E1's networks, E2's probes): how many artifacts it needs, how
many are present (shipped or cached, verified with :func:`lib.artifacts.has`), how many must be
made, and an estimate of the wall time. The estimate is measured on this machine, not guessed. A
network then costs at most ``max_steps`` steps plus one evaluation every ``eval_every`` steps, a
probe of E2 its number of forward passes. Jobs run in ``workers`` processes, so the sum is
divided by the number that really run at once (``workers``, the number of jobs, and on a CPU the
number of cores). Training stops early once every task is at criterion, so the real time is
usually shorter: the estimate is the budget's.

**The cost model.** A training step renders one batch of B trials of one task and runs forward
and backward through its T time steps; an evaluation runs every task's ``eval_trials`` trials
forward. Per time step the work (the recurrence's B x N x N products, the input and readout
products, the element-wise cell, rendering the inputs) does not depend on which task the batch
is of: the task context is one task's (a (B, K) one-hot, applied once per trial) and K enters
only through products done once per trial and the optimizer's K x N modulation entries. So, for
one *family* of networks (everything that sets a step's cost but the tasks: mechanism, N, rank,
trainable parameters, batch size, activation, device; :func:`family_key`):

    step_s(tasks) = step_fixed_s + step_per_t_s * T_train,   T_train = sum_k w_k E[T_k]
    eval_s(tasks) = sum_k E[T_k] * (eval_per_t_s + eval_per_trial_t_s * eval_trials)
    setup_s(tasks) = render_per_trial_t_s * eval_trials * sum_k E[T_k]

with E[T_k] the mean trial length of task k in time steps (:func:`expected_trial_steps`), w_k
the task's training weight (:meth:`lib.core.train.TrainConfig.task_weights`). The five
coefficients of a family (:class:`StepModel`) are measured once, on the network of the first
config of that family met, with one torch thread (as in a worker; on a CPU in the thread's CPU
time, which other processes sharing the machine do not inflate), after a warm-up step and
evaluation at full length: a training step on a batch of the battery's longest task and on
the same batch cut to half its length (two points of the affine law in T, the rendering of the
batch timed apart and added per time step), the evaluation forward pass on
:data:`EVAL_TIMED_TRIALS` trials and on a quarter of them (two points of the affine law in
trials). Every other kind of the family (other task sets, other K, other seeds or budgets) is
interpolated: a paper-profile plan with 261 kinds of network times only their 39 families.
``tests/test_plan.py`` checks an interpolated step cost against training steps timed on that
kind.

Measured coefficients are kept in a per-machine file (:func:`cost_cache_path`, keyed by the
family and :func:`machine_signature`: library versions, CPU, device), so only the first plan on
a machine pays for the timing (under a second per family at N = 256; each is announced on
stderr, with a count and the seconds spent so far).

A plan whose estimate exceeds :data:`LONG_RUN_S` stops with :class:`PlanTooLong` before any work
unless the caller allows it (``allow_long=True`` in a chapter, ``-p allow_long True`` through
papermill, ``--yes`` for ``python -m lib.experiments``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
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
from lib.core.seeds import STREAM_NOISE, step_seed, torch_generator
from lib.core.train import (
    TrainConfig,
    build_model,
    default_device,
    evaluate,
    make_optimizer,
    optimise_on_batch,
    trainable_parameters,
    training_contexts,
)

LONG_RUN_S = 30 * 60
"""A plan estimated to take longer than this (seconds) needs an explicit go-ahead."""

EVAL_TIMED_TRIALS = 64
"""Trials of the longest evaluation forward pass timed per family (and a quarter of them: the
two points of the affine law in trials, extrapolated to ``eval_trials``)."""

TRIAL_LENGTH_DRAWS = 64
"""Trial timings drawn per task for :func:`expected_trial_steps` (their s.d. is about 30 time
steps, so the mean is known to about 4)."""

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
"""Costs of network kinds in this process, by :func:`cost_key`."""

_MODELS: dict[tuple, "StepModel"] = {}
"""Measured step models in this process, by :func:`family_key`."""

_TIMING = {"families": 0, "seconds": 0.0}
"""Families timed by this process and the seconds spent timing them (for the progress lines)."""

COST_CACHE_VERSION = 2
"""Part of every disk-cache key: bump it when the trainer's speed changes (2: the fused
recurrence), so that costs measured with older code are measured again. (The per-family step
models, five numbers under a family key, cannot be confused with the per-kind costs of earlier
code, three numbers under a kind key.)"""

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


@functools.lru_cache(maxsize=None)
def expected_trial_steps(task: str) -> float:
    """The mean length in time steps (dt = 20 ms) of a trial of ``task``: the mean ``tdim`` of
    :data:`TRIAL_LENGTH_DRAWS` batches' timings (:func:`lib.core.tasks.sample_conditions`, a fixed
    seed). A batch shares one timing, so this is also a training batch's mean T."""
    rng = np.random.default_rng(0)
    draws = [yang_tasks.sample_conditions(task, 1, rng).tdim for _ in range(TRIAL_LENGTH_DRAWS)]
    return float(np.mean(draws))


def timed_task() -> str:
    """The battery's task with the longest mean trial (:func:`expected_trial_steps`): the
    batches a family is timed on (cut to half its length for the second point), so that every
    task set's mean length lies between the two points."""
    return max(yang_tasks.TASKS, key=expected_trial_steps)


@dataclass(frozen=True)
class StepModel:
    """The measured cost coefficients of one family of networks (module docstring: the cost
    model), in seconds: a training step on a batch of T time steps takes ``step_fixed_s +
    step_per_t_s * T``; evaluating one task of T time steps on ``n`` trials takes ``T *
    (eval_per_t_s + eval_per_trial_t_s * n)``; rendering its trials ``render_per_trial_t_s * n *
    T``."""

    step_fixed_s: float
    step_per_t_s: float
    eval_per_t_s: float
    eval_per_trial_t_s: float
    render_per_trial_t_s: float

    def cost(self, config: TrainConfig) -> Cost:
        """The :class:`Cost` of a network kind of this family (``config``'s tasks, K, batch
        size and evaluation trials): T_train = sum_k w_k E[T_k] with the weights of a step
        (:meth:`TrainConfig.task_weights` at performance 0.5, what the timing's history says),
        and sum_k E[T_k] for an evaluation of every task."""
        lengths = np.array([expected_trial_steps(t) for t in config.tasks])
        weights = config.task_weights([0.5] * len(config.tasks))
        t_train = float(weights @ lengths)
        n = config.eval_trials
        return Cost(
            step_s=self.step_fixed_s + self.step_per_t_s * t_train,
            eval_s=float(lengths.sum()) * (self.eval_per_t_s + self.eval_per_trial_t_s * n),
            setup_s=self.render_per_trial_t_s * n * float(lengths.sum()),
        )


def _cached_model(key: tuple) -> StepModel | None:
    n = len(dataclasses.fields(StepModel))
    entry = _read_cache(cost_cache_path(), n).get(_disk_key(list(key)))
    return None if entry is None or min(entry) < 0 else StepModel(*entry)


def _store_model(key: tuple, model: StepModel) -> None:
    values = list(dataclasses.astuple(model))
    _store(cost_cache_path(), len(values), list(key), values)


def family_key(config: TrainConfig) -> tuple:
    """What the cost model's coefficients depend on: everything that sets a step's cost but
    the tasks (not the seed, budget or learning rate either). A mixture-trained network
    (``train_mix``) shares its family: its second active task adds one rank-R product per time
    step to a low-rank pathway, within the timing's noise. A network trained under a filter
    (``TrainConfig.filtered``) is a family of its own per pair of filter modes: it draws a cue
    history per trial and, under a fast filter, a context per time step (measured 1.2-1.45x an
    instant step); the one-hot families keep their keys."""
    key = (
        config.mechanism,
        config.n_rec,
        config.rank,
        config.batch_size,
        config.trainable,
        config.activation,
        str(default_device()),
    )
    if config.filtered:
        key += (("filters", config.train_filter_exc, config.train_filter_syn),)
    return key


def cost_key(config: TrainConfig) -> tuple:
    """What the time of a step, an evaluation and its setup depend on: the family and the
    tasks, their training weights and the evaluation trials."""
    return (
        *family_key(config),
        tuple(config.tasks),
        config.train_tasks,
        config.sampling,
        config.ctxdm_weight,
        config.eval_trials,
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, Any]:
    """(seconds ``fn()`` took, what it returned): on a CPU the CPU time of this thread (one
    torch thread computes in it), which other processes sharing the machine do not inflate;
    on a GPU the wall time to the device's synchronisation."""
    clock = time.thread_time if device.type == "cpu" else time.perf_counter
    _sync(device)
    t0 = clock()
    out = fn()
    _sync(device)
    return clock() - t0, out


def affine_fit(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float]:
    """(intercept, slope) of the line through two timings, both >= 0; where timing noise
    makes the line fall (or the intercept negative) the cost is taken proportional to x."""
    slope = (y2 - y1) / (x2 - x1) if x2 != x1 else -1.0
    intercept = y1 - slope * x1
    if slope < 0 or intercept < 0:
        return 0.0, (y1 + y2) / (x1 + x2)
    return intercept, slope


def _family_label(config: TrainConfig) -> str:
    extra = "" if config.rank == 1 else f" rank {config.rank}"
    extra += "" if config.trainable == "all" else f" trainable {config.trainable}"
    if config.filtered:
        extra += f" trained under exc {config.train_filter_exc}, syn {config.train_filter_syn}"
    return f"{config.mechanism} N={config.n_rec}{extra}"


def measure_step_model(config: TrainConfig) -> StepModel:
    """Measure the :class:`StepModel` of ``config``'s family (module docstring), with one torch
    thread (as a worker runs), on ``config``'s own network (its K) and batches of the longest
    task (:func:`timed_task`). Kept per family, in this process and on disk
    (:func:`cost_cache_path`, keyed by :func:`family_key` and :func:`machine_signature`), so a
    second plan on this machine measures nothing; each new measurement is announced on stderr
    with the families timed and seconds spent so far."""
    key = family_key(config)
    if key in _MODELS:
        return _MODELS[key]
    cached = _cached_model(key)
    if cached is not None:
        _MODELS[key] = cached
        return cached
    print(
        f"plan: timing step costs of {_family_label(config)} (family {_TIMING['families'] + 1}, "
        f"{_TIMING['seconds']:.0f} s of timing so far; cached in {cost_cache_path()}) ...",
        file=sys.stderr,
        flush=True,
    )
    t_start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        device = default_device()
        model = build_model(config).to(device)
        params = trainable_parameters(model, config.trainable)
        optimizer = make_optimizer(params, config.lr, device)
        task = timed_task()
        B = config.batch_size

        def render(n_trials: int, seed: int) -> yang_tasks.Batch:
            return yang_tasks.make_batch(task, n_trials, seed, noise=False)

        render_s, (x, y, c_mask) = _timed(lambda: render(B, 0).to_torch(device), device)
        T = x.shape[0]

        def train_on(t: int, step: int) -> None:  # the step's contexts as training draws them
            c, syn = training_contexts(config, 0, step, t, device)
            gen = torch_generator(step_seed(config.seed, STREAM_NOISE, step), device)
            optimise_on_batch(
                model, optimizer, params, x[:t], y[:t], c_mask[:t], c, gen, config.grad_clip, syn
            )

        train_on(T, 0)  # warm-up at full length: the first call allocates its buffers
        half = max(1, T // 2)
        step_long, _ = _timed(lambda: train_on(T, 1), device)
        step_half, _ = _timed(lambda: train_on(half, 2), device)
        step_fixed, step_per_t = affine_fit(half, step_half, T, step_long)

        n = EVAL_TIMED_TRIALS
        batch_s, (batch, (ex, ey, em)) = _timed(
            lambda: (b := render(n, 1), b.to_torch(device)), device
        )
        T_eval = ex.shape[0]

        def eval_on(trials: int, t: int) -> None:
            sub = (ex[:t, :trials], ey[:t, :trials], em[:t, :trials], batch.y_loc[:t, :trials])
            evaluate(model, config, [sub])  # task 0's context: every task costs the same

        eval_on(n, T_eval)
        eval_full, _ = _timed(lambda: eval_on(n, T_eval), device)
        eval_quarter, _ = _timed(lambda: eval_on(n // 4, T_eval), device)
        per_t = (eval_quarter / T_eval, eval_full / T_eval)  # seconds per time step
        eval_per_t, eval_per_trial_t = affine_fit(n // 4, per_t[0], n, per_t[1])
    finally:
        torch.set_num_threads(threads)
    result = StepModel(
        step_fixed_s=step_fixed,
        step_per_t_s=step_per_t + render_s / T,
        eval_per_t_s=eval_per_t,
        eval_per_trial_t_s=eval_per_trial_t,
        render_per_trial_t_s=batch_s / (n * T_eval),
    )
    _TIMING["families"] += 1
    _TIMING["seconds"] += time.perf_counter() - t_start
    _MODELS[key] = result
    _store_model(key, result)
    return result


def measure_cost(config: TrainConfig) -> Cost:
    """The seconds of a training step, an evaluation on every task and building the
    evaluation trials of a network of ``config``'s kind: its family's measured
    :class:`StepModel` (:func:`measure_step_model`) at ``config``'s tasks."""
    key = cost_key(config)
    if key not in _COSTS:
        _COSTS[key] = measure_step_model(config).cost(config)
    return _COSTS[key]


def train_seconds(config: TrainConfig) -> float:
    """Estimated seconds to train one network of ``config`` to its full budget."""
    c = measure_cost(config)
    n_evals = math.ceil(config.max_steps / config.eval_every) + 1
    return config.max_steps * c.step_s + n_evals * c.eval_s + c.setup_s


@functools.lru_cache(maxsize=None)
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
    "StepModel",
    "measure_cost",
    "measure_step_model",
    "expected_trial_steps",
    "timed_task",
    "family_key",
    "cost_key",
    "affine_fit",
    "cache_dir",
    "cost_cache_path",
    "machine_signature",
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
