"""Section 5 of :mod:`lib.bench`: the builder's training path, its FLOP rate, where its time goes.

Network-steps per second of
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
"""

from __future__ import annotations

import statistics
import time

import torch

from lib.bench.ensembles import ENSEMBLE_REPS, ENSEMBLE_WINDOW_S
from lib.bench.harness import BATCH, STEPS, WARMUP, usable_cores
from lib.bench.steps import TRAIN_MECHANISM, TRAIN_TASK_SET, make_trainer_step
from lib.bench.workers import run_layouts

TRAIN_N = 64
QUICK_TRAIN = {"n_rec": 16, "window_s": 0.05, "reps": 1, "profile_steps": 2}


def bench_train_throughput(
    n_rec: int = TRAIN_N, window_s: float = ENSEMBLE_WINDOW_S, reps: int = ENSEMBLE_REPS
) -> dict:
    """Network-steps/s of the builder's path (:func:`make_trainer_step` with the fused
    recurrence, one one-thread process per core, as ``lib.experiments.runner.run_jobs`` runs
    them) against the plain single-network trainer (the autograd loop) in the same layout, and
    the builder's step in one process with a thread per core; and the builder's matmul FLOP
    rate per core against ``torch.mm`` (64 x N) @ (N x N) run in the same layout, same run."""
    cores = usable_cores()
    layouts = [
        ("plain_1thread", 1, 1, cores),
        ("builder_1thread", 1, 1, cores),
        (f"builder_1x{cores}threads", 1, cores, 1),
        ("matmul_1thread", 1, 1, cores),
    ]
    kinds = {
        "plain_1thread": "trainer_plain",
        "builder_1thread": "trainer",
        f"builder_1x{cores}threads": "trainer",
        "matmul_1thread": "matmul",
    }
    rates, cpu_ms = run_layouts(layouts, kinds, n_rec, STEPS, window_s, reps, "train path")
    med = {name: statistics.median(v) for name, v in rates.items()}
    plain, builder = med["plain_1thread"], med["builder_1thread"]
    flops, mm = med["builder_1thread_flops"], med["matmul_1thread"]
    table = {
        name: {
            "network_steps_per_s": med[name],
            "cpu_ms_per_network_step": statistics.median(cpu_ms[name]),
            "ratio_to_plain": med[name] / plain,
        }
        for name, *_ in layouts
        if name != "matmul_1thread"
    }
    return {
        "mechanism": TRAIN_MECHANISM,
        "task_set": TRAIN_TASK_SET,
        "n_rec": n_rec,
        "batch_size": BATCH,
        "cores": cores,
        "window_s": window_s,
        "repetitions": reps,
        "layouts": table,
        "train_speedup_vs_single": builder / plain,
        "builder_matmul_gflops_per_core": flops / 1e9,
        "matmul_gflops_per_core": mm / 1e9,
        "train_flop_fraction": flops / mm,
        "comparison": "network-steps/s summed over workers running at once, medians over "
        "repetitions taken round-robin; builder = lib.core.train's step with the "
        "fused recurrence (the default), plain = the same step with the autograd "
        "loop (ModulatedRNN.fused = False), both one one-thread process per core. "
        "FLOPs: step_flops at each step's T, per core, over the (64 x N) @ (N x N) "
        "torch.mm rate of one-thread workers on every core",
    }


PROFILE_CATEGORIES = {
    "matmul": (
        "aten::mm",
        "aten::addmm",
        "aten::addmm_",
        "aten::bmm",
        "aten::baddbmm",
        "aten::baddbmm_",
    ),
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
    return {
        "n_rec": n_rec,
        "fused": fused,
        "steps": steps,
        "ms_per_step_profiled": 1e3 * wall / steps,
        "ms_per_step": {k: 1e3 * v / steps for k, v in split.items()},
        "fraction": {k: v / wall for k, v in split.items()},
    }
