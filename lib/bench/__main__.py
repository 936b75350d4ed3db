"""Speed benchmark: trial generation, training step, and how close the step is to matmul speed.

The command line of :mod:`lib.bench`: ``python -m lib.bench [--threads 1] [--quick]`` runs every
section and prints ONE JSON line on stdout (progress goes to stderr); see the package docstring
for what each section measures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

from lib.bench.ensembles import QUICK_ENSEMBLE, bench_ensembles_cpu, bench_ensembles_gpu
from lib.bench.generation import QUICK_TASKS, bench_generation
from lib.bench.harness import WARMUP
from lib.bench.targets import targets, worst_ratio
from lib.bench.train_path import QUICK_TRAIN, bench_train_throughput, profile_step
from lib.bench.training import LOWRANK, QUICK_SIZES, SIZES, VARIANTS, bench_training, roofline
from lib.core import tasks as yang_tasks


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
                    flags = [
                        fl
                        for fl in line.split(":", 1)[1].split()
                        if fl.startswith(("avx512f", "avx2", "fma"))
                    ]
                    break
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpu_flags": flags,
        "threads": threads,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl": torch.backends.mkl.is_available(),
        "mkldnn": torch.backends.mkldnn.is_available(),
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


def run(
    threads: int = 1, quick: bool = False, reps: int | None = None, min_rep_s: float | None = None
) -> dict:
    """Run every section and return the result (the JSON line's content)."""
    reps = reps if reps is not None else (2 if quick else 5)
    min_rep_s = min_rep_s if min_rep_s is not None else (0.02 if quick else 0.3)
    tasks = QUICK_TASKS if quick else yang_tasks.TASKS
    sizes = QUICK_SIZES if quick else SIZES
    torch.set_num_threads(threads)
    t0, load_before = time.perf_counter(), list(os.getloadavg())
    gen = bench_generation(tasks, reps, min_rep_s)
    training = bench_training(sizes, reps, min_rep_s)
    roof = roofline(training)
    if quick:
        q = QUICK_ENSEMBLE
        ensembles = bench_ensembles_cpu(
            q["n_rec"], q["steps"], q["sizes"], q["all_cores"], q["window_s"], q["reps"]
        )
        ensembles["gpu"] = bench_ensembles_gpu(
            q["gpu_n"], q["gpu_sizes"], q["steps"], reps, min_rep_s
        )
        q = QUICK_TRAIN
        train_path = bench_train_throughput(q["n_rec"], q["window_s"], q["reps"])
        profile = {
            kind: profile_step(q["n_rec"], kind == "builder", q["profile_steps"])
            for kind in ("builder", "plain")
        }
    else:
        ensembles = bench_ensembles_cpu()
        ensembles["gpu"] = bench_ensembles_gpu(reps=reps, min_rep_s=min_rep_s)
        train_path = bench_train_throughput()
        profile = {kind: profile_step(fused=kind == "builder") for kind in ("builder", "plain")}
    train_path["profile"] = profile
    return {
        "benchmark": "lib.bench",
        "quick": quick,
        "train_speedup_vs_single": train_path["train_speedup_vs_single"],
        "train_flop_fraction": train_path["train_flop_fraction"],
        "gen_speedup_vs_neurogym": gen["gen_speedup_vs_neurogym"],
        "roofline_fraction": roof["roofline_fraction"],
        "one_hot_overhead": worst_ratio(
            training, "one_hot", tuple(label for label, _, _ in VARIANTS[1:])
        )[0],
        "lowrank_mixed_overhead": worst_ratio(training, "mixed", LOWRANK)[0],
        "ensemble_speedup_cpu": ensembles["ensemble_speedup_cpu"],
        "ensemble_speedup_gpu": (
            ensembles["gpu"]["ensemble_speedup_gpu"] if ensembles["gpu"] else None
        ),
        "targets": targets(gen, training, roof, ensembles, train_path),
        "machine": machine_info(threads),
        "load_avg_before": load_before,
        "load_avg_after": list(os.getloadavg()),
        "wall_s": time.perf_counter() - t0,
        "method": {
            "timer": "time.perf_counter",
            "warmup_calls": WARMUP,
            "repetitions": reps,
            "min_rep_s": min_rep_s,
            "statistic": "median over repetitions of seconds per call",
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
        "generation": gen,
        "training": training,
        "roofline": roof,
        "ensembles": ensembles,
        "train_path": train_path,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lib.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the test")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5; quick 2)")
    parser.add_argument(
        "--min-rep-s",
        type=float,
        default=None,
        help="minimum seconds per repetition (default 0.3; quick 0.02)",
    )
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
