"""Speed benchmark: trial generation, training step, and how close the step is to matmul speed.

``python -m lib.bench [--threads 1] [--quick]`` prints ONE JSON line on stdout (progress goes to
stderr). The numbers back the speed claims of the book and ``docs/performance.md`` (which also
records the reference measurements and the levers tried), and feed the targets
(:data:`TARGETS`), which the JSON reports as booleans. Headline keys: ``train_speedup_vs_single``,
``train_flop_fraction``, ``roofline_fraction``, ``one_hot_overhead``, ``lowrank_mixed_overhead``,
``gen_speedup_vs_neurogym``, ``ensemble_speedup_cpu`` (``_gpu`` with CUDA).

What is measured (float32, CPU, ``torch.set_num_threads(threads)``; section 4 sets its own):

1. **Trial generation.** Wall time of ``lib.core.tasks.make_batch(task, 64, seed, noise=False)`` for
   each of the 20 tasks, cycling through 64 fixed seeds (Yang's timing is drawn per batch, so the
   length T varies from batch to batch; ``T_mean`` is its mean over those seeds). The reference is
   neurogym's ``yang19`` ``Dataset`` (dt = 20 ms, batch 64) with ``seq_len = round(T_mean)``, so
   both sides produce the same B x T steps per call; ``speedup = t_neurogym / t_ours`` per batch
   is the comparison the target uses. neurogym concatenates its own (shorter or longer) trials, so
   its *own* trial rate is also given: steps/s divided by the mean trial length of its env
   (``env.new_trial()``); ``speedup_trial_equiv`` compares it with ours.
   ``noise=True`` (Yang's input noise drawn in numpy) is timed too, for reference only: training
   calls ``make_batch(noise=False)`` and the model draws the same N(0, INPUT_NOISE^2) input noise
   with ``torch.randn`` (about 3x cheaper than numpy's ``standard_normal``).
2. **Training step.** ``zero_grad(set_to_none=True)`` + forward (``noise=True``, as in training)
   + :func:`lib.core.metrics.masked_mse` + backward + ``Adam(fused=True)``, B = 64, T = 100, K = 20
   contexts, for N in {64, 128, 256} and every mechanism of :data:`lib.core.model.MECHANISMS`
   (``syn_lowrank`` and ``hybrid`` at rank 1, plus ``syn_lowrank`` at rank 2), with
   - ``one_hot``: c = e_0 for the whole batch (Yang's one-task batches, how training runs), and
   - ``mixed``: per-trial two-task mixtures c_b = (1 - l_b) e_0 + l_b e_1, l_b ~ U(0, 1): one pair
     of tasks per batch (as in the ambiguity probes), so two tasks are active.
   ``ratio_to_none`` divides by the ``none`` step at the same N (``none`` ignores c, so it is timed
   once per N and serves both context kinds).
3. **Roofline.** Model FLOPs count only the matmuls, as docs/performance.md does:
   3 x 2 B T (N^2 + n_in N + n_out N) per step (forward + two backward GEMMs each), see
   :func:`step_flops`. The achieved GFLOP/s of the ``none`` step is compared with torch's own rate
   for the step's critical GEMM, ``torch.mm`` of (64 x N) @ (N x N) with ``out=``, at the same
   thread count: ``roofline_fraction`` (N = 256).
4. **Ensembles** (:mod:`lib.core.ensemble`). Network-steps per second of training steps as
   ``lib.core.train`` runs them (zero_grad + forward with noise from a per-step generator +
   masked MSE + backward + elementwise clipping + fused Adam; ``exc`` networks, N = 64, B = 64,
   T = 100, one-hot contexts, fixed data: batch generation, a per-network cost either way, is
   section 1) in the current layout -- one single-network process per core, one thread each,
   all running at once -- against ensembles (``ensemble_step``: S members as one stacked model):
   one S-member ensemble per one-thread worker on every core (S in 2, 4, 8), and one ensemble
   using every core's thread (S in 8, 16). The workers are spawned processes; in each layout they
   build and warm up their step, then run it together for a fixed window, counting steps; the
   layouts take turns (round-robin over the repetitions) and the median rate is kept.
   ``ensemble_speedup_cpu`` = best ensemble layout / current layout, both from this run. With
   CUDA, the same steps on the GPU (N = 256, S in 20, 64) against one network there.

5. **The builder's training path** (``train_path``). Network-steps per second of
   ``lib.core.train``'s step exactly as ``python -m lib.experiments`` runs it (batch generation
   on the quick protocol's task mix conflict6, N = 64, B = 64, noise, one-hot context, masked MSE,
   backward, clipping, fused Adam; the fused recurrence :class:`lib.core.model.LeakyRecurrence`)
   in the builder's layout, one one-thread worker process per core
   (``lib.experiments.runner.run_jobs``), against the same step with the plain autograd loop
   (``ModulatedRNN.fused = False``) in the same layout: ``train_speedup_vs_single``. The same
   step in one process with a thread per core is reported beside them. ``train_flop_fraction``:
   the builder's matmul FLOP rate per core, counted analytically (:func:`step_flops` at each
   step's own T), over the rate of ``torch.mm`` (64 x N) @ (N x N) run by one-thread workers on
   every core in the same run. ``profile`` splits one step's time (torch.profiler self CPU
   time, one thread) into matmul, noise draws, element-wise ops, autograd bookkeeping and the
   rest (Python, batch generation), for both recurrences (:func:`profile_step`).

Method: every callable is warmed up, then its inner loop count is
calibrated so that one repetition lasts >= ``min_rep_s`` (0.3 s); the result is the median over
``reps`` (5) repetitions, timed with ``time.perf_counter``. Repetitions of the configurations
compared with each other (one task's three generators; all mechanisms and the matmul at one N)
are interleaved round-robin, so a change in machine load hits base and variant alike. The box
is shared: each measurement also reports the CPU share used by *other* processes during its
repetitions (from /proc/stat minus this process's CPU time); a careful reference run discards
repetitions above 3 %, this script only reports the share (and the load average before/after), so
treat numbers taken under load as noisy. Targets are judged on wall time; the same statistics
from this process's CPU time
(``time.process_time``: ``cpu_ms_per_step``, ``cpu_ratio_to_none``, ``*_cpu_time``) are given
beside them because, at one thread, they ignore the time other processes hold the core and so
keep ratios meaningful on a loaded box (they still include cache and memory-bandwidth
contention; with several threads CPU time sums over threads).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import platform
import queue
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lib.core import tasks as T
from lib.core.ensemble import StackedRNN, ensemble_step
from lib.core.metrics import masked_mse
from lib.core.model import MECHANISMS, ModulatedRNN
from lib.core.seeds import STREAM_NOISE, one_hot, step_seed, torch_generator
from lib.core.train import (History, TrainConfig, build_model, make_optimizer, optimise_on_batch,
                            trainable_parameters, training_batch, training_context)

BATCH = 64
STEPS = 100
N_CONTEXTS = 20
SIZES = (64, 128, 256)
QUICK_SIZES = (16,)
QUICK_TASKS = ("fdgo", "dm1")
SEED_CYCLE = 64  # seeds 0..63 cycled by the generator benchmark
WARMUP = 3

NEUROGYM_ID = {  # our (Yang's) task name -> neurogym's yang19 env id
    "fdgo": "yang19.go-v0", "reactgo": "yang19.rtgo-v0", "delaygo": "yang19.dlygo-v0",
    "fdanti": "yang19.anti-v0", "reactanti": "yang19.rtanti-v0", "delayanti": "yang19.dlyanti-v0",
    "dm1": "yang19.dm1-v0", "dm2": "yang19.dm2-v0",
    "contextdm1": "yang19.ctxdm1-v0", "contextdm2": "yang19.ctxdm2-v0",
    "multidm": "yang19.multidm-v0", "delaydm1": "yang19.dlydm1-v0", "delaydm2": "yang19.dlydm2-v0",
    "contextdelaydm1": "yang19.ctxdlydm1-v0", "contextdelaydm2": "yang19.ctxdlydm2-v0",
    "multidelaydm": "yang19.multidlydm-v0", "dmsgo": "yang19.dms-v0", "dmsnogo": "yang19.dnms-v0",
    "dmcgo": "yang19.dmc-v0", "dmcnogo": "yang19.dnmc-v0",
}

# (label, mechanism, rank): the step variants timed at every N
VARIANTS: tuple[tuple[str, str, int], ...] = tuple(
    (m, m, 1) for m in MECHANISMS) + (("syn_lowrank_r2", "syn_lowrank", 2),)
LOWRANK = ("syn_lowrank", "syn_lowrank_r2", "hybrid")

# Ensembles (section 4)
ENSEMBLE_MECHANISM = "exc"
ENSEMBLE_N = 64                  # CPU comparison size
ENSEMBLE_SIZES = (2, 4, 8)       # members of the ensemble of each one-thread worker
ENSEMBLE_ALL_CORES = (8, 16)     # members of one ensemble using a thread on every core
ENSEMBLE_WINDOW_S = 2.0          # seconds each layout runs per repetition
ENSEMBLE_REPS = 3
ENSEMBLE_GPU_N = 256
ENSEMBLE_GPU_SIZES = (20, 64)
QUICK_ENSEMBLE = {"n_rec": 16, "steps": 20, "sizes": (2,), "all_cores": (4,), "window_s": 0.05,
                  "reps": 1, "gpu_n": 16, "gpu_sizes": (4,)}
LR, GRAD_CLIP = 1e-3, 1.0        # lib.core.train's defaults

# The builder's training path (section 5)
TRAIN_MECHANISM = "exc"
TRAIN_TASK_SET = "conflict6"     # the quick protocol's task mix
TRAIN_N = 64
QUICK_TRAIN = {"n_rec": 16, "window_s": 0.05, "reps": 1, "profile_steps": 2}
WORKER_TIMEOUT_S = 600           # a worker silent this long is taken as hung

TARGETS = {
    "gen_speedup_vs_neurogym_min": 15.0,  # every task >= 15x neurogym (per batch, equal B x T)
    "roofline_fraction_min": 0.6,         # base step >= 0.6 of the (64 x N) @ (N x N) rate, N=256
    "one_hot_ratio_max": 1.1,             # every pathway, one-hot contexts, every N
    "lowrank_mixed_ratio_max": 1.5,       # syn_lowrank (rank 1 and 2), hybrid with mixtures
    "syn_mask_mixed_ratio_max": 3.0,      # syn_mask with two-task mixtures
    "ensemble_speedup_cpu_min": 1.25,     # best ensemble layout vs one network per core, N=64
    "train_speedup_min": 2.0,             # builder's path vs plain trainer, N=64, all cores
    "train_flop_fraction_min": 0.5,       # builder's matmul FLOP/s over torch.mm's, per core
}


def step_flops(n_rec: int, batch: int = BATCH, steps: int = STEPS, n_in: int = T.N_INPUT,
               n_out: int = T.N_OUTPUT) -> int:
    """Matmul FLOPs of one training step, 3 x 2 B T (N^2 + n_in N + n_out N).

    Recurrent, input and readout GEMMs, each counted once forward and twice backward (gradient
    w.r.t. its input and its weight); elementwise work, the optimizer and modulation are ignored.
    """
    return 3 * 2 * batch * steps * (n_rec * n_rec + n_in * n_rec + n_out * n_rec)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------
class CpuMeter:
    """CPU share used by other processes between :meth:`start` and :meth:`stop`.

    share = (busy CPU seconds of the machine - this process's CPU seconds) / (wall x cores),
    busy from the first line of /proc/stat (steal counted as busy: another guest took it).
    None where /proc/stat is unreadable.
    """

    _TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self) -> None:
        self._cores = os.cpu_count() or 1
        self._start: tuple[float, float, float] | None = None

    @classmethod
    def _busy_s(cls) -> float | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        guest = sum(fields[8:10]) if len(fields) > 9 else 0  # already inside user/nice
        return (sum(fields) - idle - guest) / cls._TICK

    def start(self) -> None:
        self._start = (self._busy_s(), time.process_time(), time.perf_counter())

    def stop(self) -> float | None:
        busy0, own0, wall0 = self._start
        busy1, own1, wall1 = self._busy_s(), time.process_time(), time.perf_counter()
        if busy0 is None or busy1 is None or wall1 <= wall0:
            return None
        others = (busy1 - busy0) - (own1 - own0)
        return min(max(others / ((wall1 - wall0) * self._cores), 0.0), 1.0)


@dataclass(frozen=True)
class Timing:
    """Medians over the repetitions of wall seconds and of this process's CPU seconds per call,
    and of the others' CPU share during them."""

    seconds: float
    cpu_seconds: float
    calls_per_rep: int
    others_cpu_share: float | None


def _calibrate(fn: Callable[[], object], min_rep_s: float) -> int:
    """Calls per repetition so that one repetition lasts >= ``min_rep_s``: double a timed loop
    until it lasts a quarter of that, then extrapolate."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_rep_s / 4 or n >= 1 << 20:
            return max(1, math.ceil(n * min_rep_s / max(elapsed, 1e-9)))
        n *= 2


def time_interleaved(fns: dict[str, Callable[[], object]], reps: int, min_rep_s: float,
                     warmup: int = WARMUP, progress: str = "") -> dict[str, Timing]:
    """Time each callable: ``warmup`` calls, calibration, then ``reps`` repetitions of
    >= ``min_rep_s`` each, the callables taking turns (round-robin) so that load changes
    affect them alike. Returns the median seconds per call for each name."""
    counts = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        counts[name] = _calibrate(fn, min_rep_s)
    per_call: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    shares: dict[str, list[float]] = {name: [] for name in fns}
    meter = CpuMeter()
    for rep in range(reps):
        for name, fn in fns.items():
            n = counts[name]
            meter.start()
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                fn()
            per_call[name].append((time.perf_counter() - t0) / n)
            cpu[name].append((time.process_time() - c0) / n)
            share = meter.stop()
            if share is not None:
                shares[name].append(share)
        if progress:
            _log(f"{progress} rep {rep + 1}/{reps}")
    return {name: Timing(statistics.median(per_call[name]), statistics.median(cpu[name]),
                         counts[name],
                         statistics.median(shares[name]) if shares[name] else None)
            for name in fns}


def _log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# 1. Trial generation
# ---------------------------------------------------------------------------------------------
def _ours(task: str, noise: bool) -> Callable[[], object]:
    """One ``make_batch`` call per invocation, cycling through seeds 0..SEED_CYCLE-1."""
    seeds = itertools.cycle(range(SEED_CYCLE))
    return lambda: T.make_batch(task, BATCH, next(seeds), noise=noise)


def _mean_length(task: str) -> float:
    """Mean T of our batches over the seed cycle (the batch length the comparison equalises)."""
    return float(np.mean([T.make_batch(task, BATCH, s, noise=False).conditions.tdim
                          for s in range(SEED_CYCLE)]))


def _import_neurogym():
    """neurogym (a dev dependency), or the reason it cannot be used."""
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            import neurogym
        return neurogym, None
    except Exception as err:  # noqa: BLE001 -- any import failure means: no reference
        return None, f"neurogym not importable ({type(err).__name__}: {err})"


def _neurogym_dataset(ngym, task: str, seq_len: int):
    """neurogym's Dataset for ``task`` at dt = 20 ms, batch 64, ``seq_len`` steps per call."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        ds = ngym.Dataset(NEUROGYM_ID[task], env_kwargs={"dt": T.DT}, batch_size=BATCH,
                          seq_len=seq_len)
        ds.seed(0)
    return ds


def _neurogym_trial_length(ngym, task: str, n: int = 256) -> float:
    """Mean length (steps) of neurogym's own trials of ``task`` at dt = 20 ms."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        env = ngym.make(NEUROGYM_ID[task], dt=T.DT)
        env.seed(0)
        lengths = []
        for _ in range(n):
            env.new_trial()
            lengths.append(env.ob.shape[0])
    return float(np.mean(lengths))


def _min_task(per_task: dict, key: str) -> tuple[float | None, str | None]:
    """Smallest ``per_task[task][key]`` and its task; (None, None) without a reference."""
    cells = [(row[key], task) for task, row in per_task.items() if row[key] is not None]
    return min(cells) if cells else (None, None)


def bench_generation(tasks: tuple[str, ...], reps: int, min_rep_s: float) -> dict:
    """Per-task generation rates of ours (noise off / on) and neurogym's Dataset."""
    ngym, reason = _import_neurogym()
    per_task = {}
    for task in tasks:
        t_mean = _mean_length(task)
        seq_len = max(1, round(t_mean))
        fns = {"ours": _ours(task, False), "ours_noise": _ours(task, True)}
        if ngym is not None:
            fns["neurogym"] = _neurogym_dataset(ngym, task, seq_len)
        res = time_interleaved(fns, reps, min_rep_s, progress=f"generation {task}")
        ours, noisy = res["ours"].seconds, res["ours_noise"].seconds
        row = {"T_mean": t_mean, "ours_ms_per_batch": 1e3 * ours,
               "ours_cpu_ms_per_batch": 1e3 * res["ours"].cpu_seconds,
               "ours_trials_per_s": BATCH / ours,
               "ours_noise_ms_per_batch": 1e3 * noisy,
               "ours_noise_trials_per_s": BATCH / noisy,
               "neurogym_id": NEUROGYM_ID[task], "neurogym_seq_len": seq_len,
               "neurogym_ms_per_batch": None, "neurogym_cpu_ms_per_batch": None,
               "neurogym_steps_per_s": None, "neurogym_mean_trial_steps": None,
               "neurogym_trial_equiv_per_s": None, "speedup_per_batch": None,
               "speedup_per_batch_cpu_time": None, "speedup_trial_equiv": None,
               "others_cpu_share": res["ours"].others_cpu_share}
        if ngym is not None:
            ng = res["neurogym"].seconds
            length = _neurogym_trial_length(ngym, task)
            steps_per_s = BATCH * seq_len / ng
            ng_cpu = res["neurogym"].cpu_seconds
            row.update(neurogym_ms_per_batch=1e3 * ng, neurogym_cpu_ms_per_batch=1e3 * ng_cpu,
                       neurogym_steps_per_s=steps_per_s, neurogym_mean_trial_steps=length,
                       neurogym_trial_equiv_per_s=steps_per_s / length,
                       speedup_per_batch=ng / ours,
                       speedup_per_batch_cpu_time=ng_cpu / res["ours"].cpu_seconds,
                       speedup_trial_equiv=(BATCH / ours) / (steps_per_s / length))
        per_task[task] = row
    worst, worst_cpu = (_min_task(per_task, key)
                        for key in ("speedup_per_batch", "speedup_per_batch_cpu_time"))
    return {
        "batch_size": BATCH,
        "comparison": "speedup_per_batch = t_neurogym / t_ours per call at equal B x T "
                      "(neurogym seq_len = round(T_mean) of our batches); used by the target. "
                      "speedup_trial_equiv = our trials/s over neurogym's steps/s divided by "
                      "its mean trial length (trial-equivalents), for reference.",
        "training_noise": "training calls make_batch(noise=False) and ModulatedRNN.forward("
                          "noise=True) adds the same N(0, INPUT_NOISE^2) input noise with "
                          "torch.randn inside the model; ours_noise_* (Yang's noise drawn in "
                          "numpy) is reported for reference only",
        "neurogym_version": getattr(ngym, "__version__", None) if ngym else None,
        "neurogym_unavailable": reason,
        "gen_speedup_vs_neurogym": worst[0], "gen_speedup_worst_task": worst[1],
        "gen_speedup_vs_neurogym_cpu_time": worst_cpu[0],
        "gen_speedup_worst_task_cpu_time": worst_cpu[1],
        "tasks": per_task,
    }


# ---------------------------------------------------------------------------------------------
# 2. Training step
# ---------------------------------------------------------------------------------------------
def _contexts(kind: str, gen: torch.Generator) -> torch.Tensor:
    """(B, K) contexts: ``one_hot`` e_0 for all trials, or ``mixed`` (1 - l_b) e_0 + l_b e_1."""
    c = torch.zeros(BATCH, N_CONTEXTS)
    if kind == "one_hot":
        c[:, 0] = 1.0
    else:
        lam = torch.rand(BATCH, generator=gen)
        c[:, 0], c[:, 1] = 1.0 - lam, lam
    return c


def make_step(mechanism: str, n_rec: int, rank: int, context: str,
              steps: int = STEPS) -> Callable[[], None]:
    """One training step as in ``lib.core.train``: zero_grad, forward with network noise, masked MSE,
    backward, fused Adam, on fixed random data of shape (steps, 64, 65)."""
    gen = torch.Generator().manual_seed(0)
    model = ModulatedRNN(mechanism, n_rec, N_CONTEXTS, rank=rank, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    x = torch.rand(steps, BATCH, T.N_INPUT, generator=gen)
    y = torch.rand(steps, BATCH, T.N_OUTPUT, generator=gen)
    c_mask = torch.ones(steps, BATCH, T.N_OUTPUT)
    c = _contexts(context, gen)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        y_hat, _ = model(x, c, noise=True, generator=gen)
        masked_mse(y_hat, y, c_mask).backward()
        opt.step()

    return step


def make_matmul(n_rec: int) -> Callable[[], torch.Tensor]:
    """``torch.mm`` (64 x N) @ (N x N) with ``out=``: the per-step GEMM, at torch's own rate."""
    a, b = torch.randn(BATCH, n_rec), torch.randn(n_rec, n_rec)
    out = torch.empty(BATCH, n_rec)
    return lambda: torch.mm(a, b, out=out)


def bench_training(sizes: tuple[int, ...], reps: int, min_rep_s: float) -> dict:
    """ms per step and ratio to ``none`` for every variant, context kind and N; matmul rates."""
    tables: dict[str, dict] = {name: {} for name in ("ms", "ratio", "cpu_ms", "cpu_ratio")}
    share, mm = {}, {}
    for n in sizes:
        fns = {"none": make_step("none", n, 1, "one_hot")}
        for label, mech, rank in VARIANTS[1:]:
            for kind in ("one_hot", "mixed"):
                fns[f"{kind}/{label}"] = make_step(mech, n, rank, kind)
        fns["matmul"] = make_matmul(n)  # interleaved too: the roofline sees the same load
        res = time_interleaved(fns, reps, min_rep_s, progress=f"training N={n}")
        t_mm = res.pop("matmul")
        key = str(n)
        for name in tables:
            tables[name][key] = {kind: {} for kind in ("one_hot", "mixed")}
        for name, t in res.items():
            kinds, label = (("one_hot", "mixed"), "none") if name == "none" else \
                ((name.split("/")[0],), name.split("/")[1])
            for kind in kinds:
                tables["ms"][key][kind][label] = 1e3 * t.seconds
                tables["ratio"][key][kind][label] = t.seconds / res["none"].seconds
                tables["cpu_ms"][key][kind][label] = 1e3 * t.cpu_seconds
                tables["cpu_ratio"][key][kind][label] = t.cpu_seconds / res["none"].cpu_seconds
        shares = [t.others_cpu_share for t in res.values() if t.others_cpu_share is not None]
        share[key] = statistics.median(shares) if shares else None
        flop = 2 * BATCH * n * n
        mm[key] = {"ms": 1e3 * t_mm.seconds, "gflops": flop / t_mm.seconds / 1e9,
                   "gflops_cpu_time": flop / t_mm.cpu_seconds / 1e9}
        _log(f"N={n}: none {1e3 * res['none'].seconds:.1f} ms/step, "
             f"mm {mm[key]['gflops']:.0f} GFLOP/s")
    return {
        "batch_size": BATCH, "steps": STEPS, "n_contexts": N_CONTEXTS,
        "step": "zero_grad(set_to_none) + forward(noise=True) + masked_mse + backward + "
                "Adam(fused=True, lr=1e-3)",
        "contexts": {"one_hot": "c = e_0 for every trial (one task per batch, as in training)",
                     "mixed": "c_b = (1 - l_b) e_0 + l_b e_1, l_b ~ U(0, 1) per trial (one pair "
                              "of tasks per batch: two active tasks)"},
        "variants": {label: {"mechanism": m, "rank": r} for label, m, r in VARIANTS},
        "ms_per_step": tables["ms"], "ratio_to_none": tables["ratio"],
        "cpu_ms_per_step": tables["cpu_ms"], "cpu_ratio_to_none": tables["cpu_ratio"],
        "others_cpu_share": share, "matmul_64xN_NxN": mm,
    }


def roofline(training: dict) -> dict:
    """Achieved GFLOP/s of the ``none`` step vs the (64 x N) @ (N x N) matmul rate, largest N."""
    n = max(int(k) for k in training["ms_per_step"])
    key, flops = str(n), step_flops(n)
    achieved = flops / training["ms_per_step"][key]["one_hot"]["none"] / 1e6
    achieved_cpu = flops / training["cpu_ms_per_step"][key]["one_hot"]["none"] / 1e6
    mm = training["matmul_64xN_NxN"][key]
    return {"n_rec": n, "step_gflop": flops / 1e9,
            "base_ms_per_step": training["ms_per_step"][key]["one_hot"]["none"],
            "achieved_gflops": achieved, "matmul_gflops": mm["gflops"],
            "roofline_fraction": achieved / mm["gflops"],
            "roofline_fraction_cpu_time": achieved_cpu / mm["gflops_cpu_time"],
            "flop_count": "3 x 2 B T (N^2 + n_in N + n_out N), n_in = 65, n_out = 33"}


# ---------------------------------------------------------------------------------------------
# 4. Ensembles
# ---------------------------------------------------------------------------------------------
def _fixed_batch(steps: int, gen: torch.Generator, device) -> tuple[torch.Tensor, ...]:
    """One (x, y, c_mask) of shape (steps, 64, .) of random data (the values do not matter)."""
    x = torch.rand(steps, BATCH, T.N_INPUT, generator=gen).to(device)
    y = torch.rand(steps, BATCH, T.N_OUTPUT, generator=gen).to(device)
    return x, y, torch.ones(steps, BATCH, T.N_OUTPUT, device=device)


def make_network_step(n_rec: int, steps: int = STEPS, device="cpu") -> Callable[[], None]:
    """One training step of one network as ``lib.core.train.train`` takes it: a per-step noise
    generator and :func:`lib.core.train.optimise_on_batch` (forward with noise, one-hot context,
    masked MSE, backward, elementwise clipping, fused Adam), on a fixed batch."""
    device = torch.device(device)
    model = ModulatedRNN(ENSEMBLE_MECHANISM, n_rec, N_CONTEXTS, seed=0).to(device)
    params = list(model.parameters())
    opt = make_optimizer(params, LR, device)
    x, y, c_mask = _fixed_batch(steps, torch.Generator().manual_seed(0), device)
    c = one_hot(0, N_CONTEXTS, BATCH, device)
    counter = itertools.count()

    def step() -> None:
        gen = torch_generator(step_seed(0, STREAM_NOISE, next(counter)), device)
        optimise_on_batch(model, opt, params, x, y, c_mask, c, gen, GRAD_CLIP)

    return step


def make_ensemble_step(members: int, n_rec: int, steps: int = STEPS,
                       device="cpu") -> Callable[[], None]:
    """One training step of an ensemble of ``members`` networks as
    ``lib.core.ensemble.train_ensemble`` takes it: per-member generators and batches,
    ``ensemble_step``. The losses stay on the device, as in training."""
    device = torch.device(device)
    net = StackedRNN.from_models([ModulatedRNN(ENSEMBLE_MECHANISM, n_rec, N_CONTEXTS,
                                               seed=m).to(device) for m in range(members)])
    opt = make_optimizer(net.trainable, LR, device)
    gen = torch.Generator().manual_seed(0)
    batches = [(0, *_fixed_batch(steps, gen, device)) for _ in range(members)]
    counter = itertools.count()

    def step() -> None:
        i = next(counter)
        gens = [torch_generator(step_seed(m, STREAM_NOISE, i), device) for m in range(members)]
        ensemble_step(net, opt, batches, gens, GRAD_CLIP)

    return step


def _worker_step(kind: str, members: int, n_rec: int, steps: int) -> Callable[[], int | None]:
    """The callable a worker runs for a layout: ``network`` (:func:`make_network_step`),
    ``ensemble`` (:func:`make_ensemble_step`), ``trainer`` / ``trainer_plain``
    (:func:`make_trainer_step`, fused or autograd recurrence) or ``matmul``
    (:func:`make_matmul`); it returns the matmul FLOPs of a call where they are counted."""
    if kind == "network":
        return make_network_step(n_rec, steps)
    if kind == "ensemble":
        return make_ensemble_step(members, n_rec, steps)
    if kind in ("trainer", "trainer_plain"):
        return make_trainer_step(n_rec, fused=kind == "trainer")
    if kind == "matmul":
        mm, flops = make_matmul(n_rec), 2 * BATCH * n_rec * n_rec
        return lambda: (mm(), flops)[1]
    raise ValueError(f"kind={kind!r} is not allowed; expected network, ensemble, trainer, "
                     "trainer_plain or matmul")


def _layout_worker(commands, results) -> None:
    """Body of a benchmark worker process. Commands: ``("prepare", spec)`` builds (once per
    spec) and warms up the step of ``spec`` = (kind, members, n_rec, steps, threads) (see
    :func:`_worker_step`) and answers ``("ready",)``; ``("go", seconds)`` runs it for that long
    and answers ``("done", calls, wall_s, cpu_s, flops)``; ``("stop",)`` ends. Any error is
    answered ``("error", traceback)``."""
    sys.stdout = sys.stderr  # the parent's stdout carries its JSON line only
    built: dict[tuple, Callable[[], None]] = {}
    try:
        while True:
            cmd = commands.get()
            if cmd[0] == "stop":
                return
            kind, members, n_rec, steps, threads = cmd[1]
            torch.set_num_threads(threads)
            if cmd[1] not in built:
                built[cmd[1]] = _worker_step(kind, members, n_rec, steps)
                for _ in range(WARMUP):
                    built[cmd[1]]()
            fn = built[cmd[1]]
            fn()  # caches warm for this layout after another one ran
            results.put(("ready",))
            _, seconds = commands.get()
            calls, flops, c0, t0 = 0, 0, time.process_time(), time.perf_counter()
            while True:
                flops += fn() or 0
                calls += 1
                wall = time.perf_counter() - t0
                if wall >= seconds:
                    break
            results.put(("done", calls, wall, time.process_time() - c0, flops))
    except Exception:  # noqa: BLE001 -- reported to the parent, which raises it
        results.put(("error", traceback.format_exc()))


def _answers(results, n: int) -> list[tuple]:
    out = []
    for _ in range(n):
        try:
            msg = results.get(timeout=WORKER_TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError(f"an ensemble benchmark worker was silent for "
                               f"{WORKER_TIMEOUT_S} s") from None
        if msg[0] == "error":
            raise RuntimeError(f"ensemble benchmark worker failed:\n{msg[1]}")
        out.append(msg)
    return out


def _cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def bench_ensembles_cpu(n_rec: int = ENSEMBLE_N, steps: int = STEPS,
                        sizes: tuple[int, ...] = ENSEMBLE_SIZES,
                        all_cores: tuple[int, ...] = ENSEMBLE_ALL_CORES,
                        window_s: float = ENSEMBLE_WINDOW_S, reps: int = ENSEMBLE_REPS) -> dict:
    """Network-steps/s of the current layout (one one-thread single-network process per core)
    and of ensemble layouts, all in this run; ``ensemble_speedup_cpu`` = best / current."""
    cores = _cores()
    # (name, members per worker, threads per worker, workers)
    layouts = [("separate_1thread", 1, 1, cores)]
    layouts += [(f"ensemble{S}_1thread", S, 1, cores) for S in sizes]
    layouts += [(f"ensemble{S}_{cores}threads", S, cores, 1) for S in all_cores]
    kinds = {name: "network" if members == 1 else "ensemble" for name, members, *_ in layouts}
    rates, cpu_ms = _run_layouts(layouts, kinds, n_rec, steps, window_s, reps, "ensembles")
    return _layout_table(layouts, rates, cpu_ms, n_rec, steps, cores, window_s, reps)


def _run_layouts(layouts: list[tuple], kinds: dict[str, str], n_rec: int, steps: int,
                 window_s: float, reps: int, label: str
                 ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run each layout (name, members per worker, threads per worker, workers) of worker
    ``kinds[name]`` together for ``window_s``, round-robin over ``reps`` repetitions, in spawned
    processes. Returns, per layout and repetition, network-steps/s summed over the workers (for
    ``matmul``: FLOP/s per worker) and CPU ms per network-step."""
    cores = max(n for *_, n in layouts)
    ctx = multiprocessing.get_context("spawn")  # no fork of a process with thread pools
    commands = [ctx.Queue() for _ in range(cores)]
    results = ctx.Queue()
    workers = [ctx.Process(target=_layout_worker, args=(q, results), daemon=True)
               for q in commands]
    rates: dict[str, list[float]] = {name: [] for name, *_ in layouts}
    cpu_ms: dict[str, list[float]] = {name: [] for name, *_ in layouts}
    for w in workers:
        w.start()
    try:
        for rep in range(reps):
            for name, members, threads, n_workers in layouts:
                for q in commands[:n_workers]:
                    q.put(("prepare", (kinds[name], members, n_rec, steps, threads)))
                _answers(results, n_workers)
                for q in commands[:n_workers]:  # all start together
                    q.put(("go", window_s))
                done = _answers(results, n_workers)
                if kinds[name] == "matmul":
                    rates[name].append(sum(f / wall for _, _, wall, _, f in done) / n_workers)
                    cpu_ms[name].append(1e3 * sum(c for *_, c, _ in done)
                                        / sum(calls for _, calls, *_ in done))
                    continue
                rates[name].append(sum(members * calls / wall for _, calls, wall, *_ in done))
                net_steps = sum(members * calls for _, calls, *_ in done)
                cpu_ms[name].append(1e3 * sum(cpu for *_, cpu, _ in done) / net_steps)
                if kinds[name] == "trainer":  # the builder's matmul FLOP/s per worker
                    rates.setdefault(f"{name}_flops", []).append(
                        sum(f / wall for _, _, wall, _, f in done) / n_workers)
            _log(f"{label} rep {rep + 1}/{reps}")
    finally:
        for q in commands:
            q.put(("stop",))
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.terminate()
    return rates, cpu_ms


def _layout_table(layouts: list[tuple], rates: dict, cpu_ms: dict, n_rec: int, steps: int,
                  cores: int, window_s: float, reps: int) -> dict:
    """The ensemble section's result from :func:`_run_layouts`' measurements."""
    base, base_cpu = statistics.median(rates["separate_1thread"]), \
        statistics.median(cpu_ms["separate_1thread"])
    table = {}
    for name, members, threads, n_workers in layouts:
        rate, cpu = statistics.median(rates[name]), statistics.median(cpu_ms[name])
        table[name] = {"members_per_worker": members, "threads_per_worker": threads,
                       "workers": n_workers, "network_steps_per_s": rate,
                       "cpu_ms_per_network_step": cpu, "ratio_to_separate": rate / base,
                       "ratio_to_separate_cpu_time": base_cpu / cpu}
    ensembles = [name for name in table if name != "separate_1thread"]
    best = max(ensembles, key=lambda name: table[name]["ratio_to_separate"])
    best_cpu = max(ensembles, key=lambda name: table[name]["ratio_to_separate_cpu_time"])
    return {
        "mechanism": ENSEMBLE_MECHANISM, "n_rec": n_rec, "batch_size": BATCH, "steps": steps,
        "n_contexts": N_CONTEXTS, "cores": cores, "window_s": window_s, "repetitions": reps,
        "layouts": table, "best_layout": best,
        "ensemble_speedup_cpu": table[best]["ratio_to_separate"],
        "best_layout_cpu_time": best_cpu,
        "ensemble_speedup_cpu_time": table[best_cpu]["ratio_to_separate_cpu_time"],
        "load_avg_after": list(os.getloadavg()),
        "comparison": "network-steps/s summed over the workers running at once; "
                      "separate_1thread = the current layout (one single-network process per "
                      "core); ratio = layout / separate_1thread, medians over repetitions. "
                      "*_cpu_time: from the workers' CPU time per network-step (robust to "
                      "time-slicing by other processes, not to cache or memory contention)",
    }


def _synchronised(fn: Callable[[], None]) -> Callable[[], None]:
    def call() -> None:
        fn()
        torch.cuda.synchronize()

    return call


def bench_ensembles_gpu(n_rec: int = ENSEMBLE_GPU_N, sizes: tuple[int, ...] = ENSEMBLE_GPU_SIZES,
                        steps: int = STEPS, reps: int = 5, min_rep_s: float = 0.3) -> dict | None:
    """Network-steps/s of ensembles on the GPU against one network there; None without CUDA."""
    if not torch.cuda.is_available():
        return None
    fns = {"single": _synchronised(make_network_step(n_rec, steps, "cuda"))}
    for S in sizes:
        fns[f"ensemble{S}"] = _synchronised(make_ensemble_step(S, n_rec, steps, "cuda"))
    res = time_interleaved(fns, reps, min_rep_s, progress="ensembles on the GPU")
    single = 1.0 / res["single"].seconds
    table = {name: {"members": 1 if name == "single" else int(name[len("ensemble"):]),
                    "ms_per_step": 1e3 * t.seconds} for name, t in res.items()}
    for row in table.values():
        row["network_steps_per_s"] = row["members"] / (row["ms_per_step"] / 1e3)
        row["ratio_to_single"] = row["network_steps_per_s"] / single
    best = max(table, key=lambda name: table[name]["ratio_to_single"])
    return {"device": torch.cuda.get_device_name(), "n_rec": n_rec, "batch_size": BATCH,
            "steps": steps, "mechanism": ENSEMBLE_MECHANISM, "layouts": table,
            "best_layout": best, "ensemble_speedup_gpu": table[best]["ratio_to_single"],
            "timing": "each step followed by torch.cuda.synchronize()"}


# ---------------------------------------------------------------------------------------------
# 5. The builder's training path
# ---------------------------------------------------------------------------------------------
def make_trainer_step(n_rec: int, fused: bool = True,
                      mechanism: str = TRAIN_MECHANISM) -> Callable[[], int]:
    """One step of ``lib.core.train.train`` on the quick protocol's task mix (conflict6, batch
    64, Yang's sampling, one-hot contexts): the step's batch generated by
    :func:`lib.core.train.training_batch`, its noise generator and context, then
    :func:`lib.core.train.optimise_on_batch`, i.e. exactly :func:`lib.core.train.train_step`;
    ``fused`` picks the recurrence (``ModulatedRNN.fused``). Returns the step's matmul FLOPs,
    :func:`step_flops` at its length T."""
    config = TrainConfig(mechanism, tasks=T.TASK_SETS[TRAIN_TASK_SET], n_rec=n_rec,
                         batch_size=BATCH)
    device = torch.device("cpu")
    model = build_model(config)
    model.fused = fused
    params = trainable_parameters(model, config.trainable)
    opt = make_optimizer(params, config.lr, device)
    history = History(config.tasks)
    counter = itertools.count()

    def step() -> int:
        s = next(counter)
        k, x, y, c_mask = training_batch(config, s, history, device)
        gen = torch_generator(step_seed(config.seed, STREAM_NOISE, s), device)
        c = training_context(config, k, s, device)
        optimise_on_batch(model, opt, params, x, y, c_mask, c, gen, config.grad_clip)
        return step_flops(n_rec, steps=x.shape[0])

    return step


def bench_train_throughput(n_rec: int = TRAIN_N, window_s: float = ENSEMBLE_WINDOW_S,
                           reps: int = ENSEMBLE_REPS) -> dict:
    """Network-steps/s of the builder's path (:func:`make_trainer_step` with the fused
    recurrence, one one-thread process per core, as ``lib.experiments.runner.run_jobs`` runs
    them) against the plain single-network trainer (the autograd loop) in the same layout, and
    the builder's step in one process with a thread per core; and the builder's matmul FLOP
    rate per core against ``torch.mm`` (64 x N) @ (N x N) run in the same layout, same run."""
    cores = _cores()
    layouts = [("plain_1thread", 1, 1, cores), ("builder_1thread", 1, 1, cores),
               (f"builder_1x{cores}threads", 1, cores, 1), ("matmul_1thread", 1, 1, cores)]
    kinds = {"plain_1thread": "trainer_plain", "builder_1thread": "trainer",
             f"builder_1x{cores}threads": "trainer", "matmul_1thread": "matmul"}
    rates, cpu_ms = _run_layouts(layouts, kinds, n_rec, STEPS, window_s, reps, "train path")
    med = {name: statistics.median(v) for name, v in rates.items()}
    plain, builder = med["plain_1thread"], med["builder_1thread"]
    flops, mm = med["builder_1thread_flops"], med["matmul_1thread"]
    table = {name: {"network_steps_per_s": med[name],
                    "cpu_ms_per_network_step": statistics.median(cpu_ms[name]),
                    "ratio_to_plain": med[name] / plain}
             for name, *_ in layouts if name != "matmul_1thread"}
    return {
        "mechanism": TRAIN_MECHANISM, "task_set": TRAIN_TASK_SET, "n_rec": n_rec,
        "batch_size": BATCH, "cores": cores, "window_s": window_s, "repetitions": reps,
        "layouts": table, "train_speedup_vs_single": builder / plain,
        "builder_matmul_gflops_per_core": flops / 1e9,
        "matmul_gflops_per_core": mm / 1e9, "train_flop_fraction": flops / mm,
        "comparison": "network-steps/s summed over workers running at once, medians over "
                      "repetitions taken round-robin; builder = lib.core.train's step with the "
                      "fused recurrence (the default), plain = the same step with the autograd "
                      "loop (ModulatedRNN.fused = False), both one one-thread process per core. "
                      "FLOPs: step_flops at each step's T, per core, over the (64 x N) @ (N x N) "
                      "torch.mm rate of one-thread workers on every core",
    }


PROFILE_CATEGORIES = {
    "matmul": ("aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::baddbmm",
               "aten::baddbmm_"),
    "noise": ("aten::normal_",),
}
"""torch ops counted as matmul and noise by :func:`profile_step`; every other ``aten::`` op is
element-wise (or memory), ``autograd::`` and ``*Backward*`` nodes are autograd bookkeeping."""


def profile_step(n_rec: int = TRAIN_N, fused: bool = True, steps: int = 20) -> dict:
    """Where the time of the builder's step goes (one thread): ``torch.profiler`` self CPU time
    of ``steps`` steps of :func:`make_trainer_step` by category (matmul, noise, element-wise,
    autograd bookkeeping), and the rest of the wall time (Python: the trainer's own code, batch
    generation, dispatch outside ops). The profiler adds a few microseconds per op, so small ops
    (element-wise, bookkeeping) weigh more here than in an unprofiled run."""
    from torch.profiler import ProfilerActivity, profile

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        step = make_trainer_step(n_rec, fused)
        for _ in range(WARMUP):
            step()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            wall = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    split = dict.fromkeys(("matmul", "noise", "element_wise", "autograd"), 0.0)
    for event in prof.key_averages():
        name, self_s = event.key, event.self_cpu_time_total / 1e6
        if name in PROFILE_CATEGORIES["matmul"]:
            split["matmul"] += self_s
        elif name in PROFILE_CATEGORIES["noise"]:
            split["noise"] += self_s
        elif name.startswith("autograd::") or "Backward" in name:
            split["autograd"] += self_s
        elif name.startswith("aten::"):
            split["element_wise"] += self_s
    split["python_and_other"] = max(wall - sum(split.values()), 0.0)
    return {"n_rec": n_rec, "fused": fused, "steps": steps,
            "ms_per_step_profiled": 1e3 * wall / steps,
            "ms_per_step": {k: 1e3 * v / steps for k, v in split.items()},
            "fraction": {k: v / wall for k, v in split.items()}}


# ---------------------------------------------------------------------------------------------
# Targets, machine, main
# ---------------------------------------------------------------------------------------------
def _worst(training: dict, kind: str, labels: tuple[str, ...],
           table: str = "ratio_to_none") -> tuple[float, str]:
    """Largest ratio to ``none`` over N and ``labels``, with where it occurred."""
    cells = [(r[kind][label], f"{label}@N={n}") for n, r in training[table].items()
             for label in labels]
    return max(cells)


def _met(value: float | None, limit: float, at_least: bool) -> bool | None:
    return None if value is None else (value >= limit if at_least else value <= limit)


def _target(value: float | None, limit: float, at_least: bool, where: str | None = None,
            cpu: tuple[float, str] | None = None) -> dict:
    """A target as a dict; ``met`` judges the wall-clock ``value``. ``cpu``: the same statistic
    from CPU time (robust to time-slicing by other processes at 1 thread), for reference."""
    out = {"target": limit, "comparison": ">=" if at_least else "<=", "value": value,
           "met": _met(value, limit, at_least)}
    if where is not None:
        out["where"] = where
    if cpu is not None:
        out.update(value_cpu_time=cpu[0], where_cpu_time=cpu[1],
                   met_cpu_time=_met(cpu[0], limit, at_least))
    return out


def targets(gen: dict, training: dict, roof: dict, ensembles: dict, train_path: dict) -> dict:
    """The issue's targets as booleans (None where the reference is missing)."""
    pathways = tuple(label for label, _, _ in VARIANTS[1:])
    ratio_targets = {"one_hot_within_1.1x": ("one_hot", pathways, "one_hot_ratio_max"),
                     "lowrank_mixed_within_1.5x": ("mixed", LOWRANK, "lowrank_mixed_ratio_max"),
                     "syn_mask_mixed_within_3x": ("mixed", ("syn_mask",),
                                                  "syn_mask_mixed_ratio_max")}
    out = {
        "gen_15x_neurogym_every_task": _target(
            gen["gen_speedup_vs_neurogym"], TARGETS["gen_speedup_vs_neurogym_min"], True,
            gen["gen_speedup_worst_task"], (gen["gen_speedup_vs_neurogym_cpu_time"],
                                            gen["gen_speedup_worst_task_cpu_time"])),
        "base_step_0.6_matmul_rate": _target(
            roof["roofline_fraction"], TARGETS["roofline_fraction_min"], True,
            f"N={roof['n_rec']}", (roof["roofline_fraction_cpu_time"], f"N={roof['n_rec']}")),
    }
    for name, (kind, labels, limit) in ratio_targets.items():
        value, where = _worst(training, kind, labels)
        out[name] = _target(value, TARGETS[limit], False, where,
                            _worst(training, kind, labels, "cpu_ratio_to_none"))
    out["ensemble_1.25x_cpu"] = _target(
        ensembles["ensemble_speedup_cpu"], TARGETS["ensemble_speedup_cpu_min"], True,
        f"{ensembles['best_layout']}@N={ensembles['n_rec']}",
        (ensembles["ensemble_speedup_cpu_time"],
         f"{ensembles['best_layout_cpu_time']}@N={ensembles['n_rec']}"))
    where = f"N={train_path['n_rec']}, {train_path['cores']} one-thread workers"
    out["train_speedup_2x"] = _target(train_path["train_speedup_vs_single"],
                                      TARGETS["train_speedup_min"], True, where)
    out["train_flop_fraction_0.5"] = _target(train_path["train_flop_fraction"],
                                             TARGETS["train_flop_fraction_min"], True, where)
    return out


def machine_info(threads: int) -> dict:
    """CPU model, cores, library versions and the CPU flags torch's BLAS/oneDNN run with."""
    cpu = platform.processor() or None
    flags: list[str] = []
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu in (None, "", "x86_64"):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = [fl for fl in line.split(":", 1)[1].split()
                             if fl.startswith(("avx512f", "avx2", "fma"))]
                    break
    return {
        "cpu": cpu, "cpu_count": os.cpu_count(), "cpu_flags": flags, "threads": threads,
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available(),
        "ld_preload": os.environ.get("LD_PRELOAD") or None,
    }


def _clean(obj):
    """Round floats to 4 significant digits and replace non-finite ones by None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(f"{obj:.4g}") if math.isfinite(obj) else None
    return obj


def run(threads: int = 1, quick: bool = False, reps: int | None = None,
        min_rep_s: float | None = None) -> dict:
    """Run every section and return the result (the JSON line's content)."""
    reps = reps if reps is not None else (2 if quick else 5)
    min_rep_s = min_rep_s if min_rep_s is not None else (0.02 if quick else 0.3)
    tasks = QUICK_TASKS if quick else T.TASKS
    sizes = QUICK_SIZES if quick else SIZES
    torch.set_num_threads(threads)
    t0, load_before = time.perf_counter(), list(os.getloadavg())
    gen = bench_generation(tasks, reps, min_rep_s)
    training = bench_training(sizes, reps, min_rep_s)
    roof = roofline(training)
    if quick:
        q = QUICK_ENSEMBLE
        ensembles = bench_ensembles_cpu(q["n_rec"], q["steps"], q["sizes"], q["all_cores"],
                                        q["window_s"], q["reps"])
        ensembles["gpu"] = bench_ensembles_gpu(q["gpu_n"], q["gpu_sizes"], q["steps"], reps,
                                               min_rep_s)
        q = QUICK_TRAIN
        train_path = bench_train_throughput(q["n_rec"], q["window_s"], q["reps"])
        profile = {kind: profile_step(q["n_rec"], kind == "builder", q["profile_steps"])
                   for kind in ("builder", "plain")}
    else:
        ensembles = bench_ensembles_cpu()
        ensembles["gpu"] = bench_ensembles_gpu(reps=reps, min_rep_s=min_rep_s)
        train_path = bench_train_throughput()
        profile = {kind: profile_step(fused=kind == "builder") for kind in ("builder", "plain")}
    train_path["profile"] = profile
    return {
        "benchmark": "lib.bench", "quick": quick,
        "train_speedup_vs_single": train_path["train_speedup_vs_single"],
        "train_flop_fraction": train_path["train_flop_fraction"],
        "gen_speedup_vs_neurogym": gen["gen_speedup_vs_neurogym"],
        "roofline_fraction": roof["roofline_fraction"],
        "one_hot_overhead": _worst(training, "one_hot", tuple(l for l, _, _ in VARIANTS[1:]))[0],
        "lowrank_mixed_overhead": _worst(training, "mixed", LOWRANK)[0],
        "ensemble_speedup_cpu": ensembles["ensemble_speedup_cpu"],
        "ensemble_speedup_gpu": (ensembles["gpu"]["ensemble_speedup_gpu"]
                                 if ensembles["gpu"] else None),
        "targets": targets(gen, training, roof, ensembles, train_path),
        "machine": machine_info(threads),
        "load_avg_before": load_before, "load_avg_after": list(os.getloadavg()),
        "wall_s": time.perf_counter() - t0,
        "method": {
            "timer": "time.perf_counter", "warmup_calls": WARMUP, "repetitions": reps,
            "min_rep_s": min_rep_s, "statistic": "median over repetitions of seconds per call",
            "interleaved": "repetitions of one task's generators, and of all variants and the "
                           "matmul at one N, take turns round-robin",
            "others_cpu_share": "CPU share of other processes during the repetitions "
                                "(/proc/stat busy minus own CPU time); reported, not filtered "
                                "(a careful reference run discards those above 0.03)",
            "cpu_time": "time.process_time per call, median over repetitions: unaffected by "
                        "time-slicing at 1 thread; sums over threads otherwise",
            "targets_judged_on": "wall time (met); met_cpu_time for reference",
            "ensembles": "spawned worker processes run each layout together for a fixed "
                         "window; layouts take turns per repetition; median rate per layout",
        },
        "generation": gen, "training": training, "roofline": roof, "ensembles": ensembles,
        "train_path": train_path,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lib.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the test")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5; quick 2)")
    parser.add_argument("--min-rep-s", type=float, default=None,
                        help="minimum seconds per repetition (default 0.3; quick 0.02)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads={args.threads}: must be a positive integer")
    if args.reps is not None and args.reps < 1:
        parser.error(f"--reps={args.reps}: must be a positive integer")
    if args.min_rep_s is not None and not args.min_rep_s > 0:
        parser.error(f"--min-rep-s={args.min_rep_s}: must be > 0")
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON line only
        result = run(args.threads, args.quick, args.reps, args.min_rep_s)
    print(json.dumps(_clean(result), allow_nan=False), flush=True)


if __name__ == "__main__":
    main()
