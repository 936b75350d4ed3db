"""Section 4 of :mod:`lib.bench`: ensembles (:mod:`lib.core.ensemble`) against one network per core.

Network-steps per second of training steps as
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
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable

import torch

from lib.bench.harness import BATCH, N_CONTEXTS, STEPS, usable_cores, time_interleaved
from lib.bench.steps import ENSEMBLE_MECHANISM, make_ensemble_step, make_network_step
from lib.bench.workers import run_layouts

ENSEMBLE_N = 64  # CPU comparison size
ENSEMBLE_SIZES = (2, 4, 8)  # members of the ensemble of each one-thread worker
ENSEMBLE_ALL_CORES = (8, 16)  # members of one ensemble using a thread on every core
ENSEMBLE_WINDOW_S = 2.0  # seconds each layout runs per repetition
ENSEMBLE_REPS = 3
ENSEMBLE_GPU_N = 256
ENSEMBLE_GPU_SIZES = (20, 64)
QUICK_ENSEMBLE = {
    "n_rec": 16,
    "steps": 20,
    "sizes": (2,),
    "all_cores": (4,),
    "window_s": 0.05,
    "reps": 1,
    "gpu_n": 16,
    "gpu_sizes": (4,),
}


def bench_ensembles_cpu(
    n_rec: int = ENSEMBLE_N,
    steps: int = STEPS,
    sizes: tuple[int, ...] = ENSEMBLE_SIZES,
    all_cores: tuple[int, ...] = ENSEMBLE_ALL_CORES,
    window_s: float = ENSEMBLE_WINDOW_S,
    reps: int = ENSEMBLE_REPS,
) -> dict:
    """Network-steps/s of the current layout (one one-thread single-network process per core)
    and of ensemble layouts, all in this run; ``ensemble_speedup_cpu`` = best / current."""
    cores = usable_cores()
    # (name, members per worker, threads per worker, workers)
    layouts = [("separate_1thread", 1, 1, cores)]
    layouts += [(f"ensemble{S}_1thread", S, 1, cores) for S in sizes]
    layouts += [(f"ensemble{S}_{cores}threads", S, cores, 1) for S in all_cores]
    kinds = {name: "network" if members == 1 else "ensemble" for name, members, *_ in layouts}
    rates, cpu_ms = run_layouts(layouts, kinds, n_rec, steps, window_s, reps, "ensembles")
    return _layout_table(layouts, rates, cpu_ms, n_rec, steps, cores, window_s, reps)


def _layout_table(
    layouts: list[tuple],
    rates: dict,
    cpu_ms: dict,
    n_rec: int,
    steps: int,
    cores: int,
    window_s: float,
    reps: int,
) -> dict:
    """The ensemble section's result from :func:`run_layouts`' measurements."""
    base, base_cpu = (
        statistics.median(rates["separate_1thread"]),
        statistics.median(cpu_ms["separate_1thread"]),
    )
    table = {}
    for name, members, threads, n_workers in layouts:
        rate, cpu = statistics.median(rates[name]), statistics.median(cpu_ms[name])
        table[name] = {
            "members_per_worker": members,
            "threads_per_worker": threads,
            "workers": n_workers,
            "network_steps_per_s": rate,
            "cpu_ms_per_network_step": cpu,
            "ratio_to_separate": rate / base,
            "ratio_to_separate_cpu_time": base_cpu / cpu,
        }
    ensembles = [name for name in table if name != "separate_1thread"]
    best = max(ensembles, key=lambda name: table[name]["ratio_to_separate"])
    best_cpu = max(ensembles, key=lambda name: table[name]["ratio_to_separate_cpu_time"])
    return {
        "mechanism": ENSEMBLE_MECHANISM,
        "n_rec": n_rec,
        "batch_size": BATCH,
        "steps": steps,
        "n_contexts": N_CONTEXTS,
        "cores": cores,
        "window_s": window_s,
        "repetitions": reps,
        "layouts": table,
        "best_layout": best,
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


def bench_ensembles_gpu(
    n_rec: int = ENSEMBLE_GPU_N,
    sizes: tuple[int, ...] = ENSEMBLE_GPU_SIZES,
    steps: int = STEPS,
    reps: int = 5,
    min_rep_s: float = 0.3,
) -> dict | None:
    """Network-steps/s of ensembles on the GPU against one network there; None without CUDA."""
    if not torch.cuda.is_available():
        return None
    fns = {"single": _synchronised(make_network_step(n_rec, steps, "cuda"))}
    for S in sizes:
        fns[f"ensemble{S}"] = _synchronised(make_ensemble_step(S, n_rec, steps, "cuda"))
    res = time_interleaved(fns, reps, min_rep_s, progress="ensembles on the GPU")
    single = 1.0 / res["single"].seconds
    table = {
        name: {
            "members": 1 if name == "single" else int(name[len("ensemble") :]),
            "ms_per_step": 1e3 * t.seconds,
        }
        for name, t in res.items()
    }
    for row in table.values():
        row["network_steps_per_s"] = row["members"] / (row["ms_per_step"] / 1e3)
        row["ratio_to_single"] = row["network_steps_per_s"] / single
    best = max(table, key=lambda name: table[name]["ratio_to_single"])
    return {
        "device": torch.cuda.get_device_name(),
        "n_rec": n_rec,
        "batch_size": BATCH,
        "steps": steps,
        "mechanism": ENSEMBLE_MECHANISM,
        "layouts": table,
        "best_layout": best,
        "ensemble_speedup_gpu": table[best]["ratio_to_single"],
        "timing": "each step followed by torch.cuda.synchronize()",
    }
