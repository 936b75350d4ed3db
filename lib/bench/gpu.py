"""The stacked trainer on a GPU, end to end: does it run, does it equal the networks trained alone,
and how many paper-size networks does it train in the wall time of one.

``python -m lib.bench.gpu`` prints ONE JSON line (progress on stderr) with three sections:

- ``equality``: S members of :func:`lib.core.ensemble.train_ensemble` against each trained alone
  by :func:`lib.core.train.train`, on the same device, after ``EQUALITY_STEPS`` Adam steps: the
  largest parameter and loss differences, judged by the CPU test's tolerance
  (``tests/test_ensemble.py``: rtol 1e-4, atol 1e-5).
- ``devices``: one network trained on the CPU and on the device, same config: how far apart
  they end. Each device draws the network noise from its own generator (torch's CPU and CUDA
  generators give different numbers for one seed), so the two are different draws of the same
  experiment, not a rounding apart; the shipped artifacts were all trained on CPUs.
- ``throughput``: training in its steady state (batches generated, noise, steps; the fixed
  costs of building and evaluating apart), a single network against ensembles of S members:
  network-steps per second and the ratio to one network (the issue's goal: at least 20
  paper-size networks in the wall time of 2, a ratio >= 10), with each member drawing its own
  task (the book's networks) and, on a GPU, with one task sequence shared (:data:`VARIANTS`);
  and the host's time per member-step to draw a batch (``host_batch_ms_per_member_step``),
  which an ensemble pays S times a step. ``docs/performance.md`` records a run on an H200.

Every config is the paper profile's E1 network (Yang et al.'s 20 tasks, N = 256, B = 64, Yang's
protocol) cut to a few steps, with training continued to the step budget (no stop at
criterion). On a machine without CUDA it runs on the CPU (the test runs it tiny, to keep the
code path alive where CI has no GPU).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from lib.core import tasks as yang_tasks
from lib.core.ensemble import train_ensemble
from lib.core.seeds import STREAM_NOISE, step_seed, torch_generator
from lib.core.train import (
    History,
    TrainConfig,
    TrainResult,
    default_device,
    train,
    training_batch,
)

PAPER_N = 256
"""The paper profile's network size (Yang et al.'s)."""

EQUALITY_MEMBERS = 3
EQUALITY_STEPS = 20
RTOL, ATOL = 1e-4, 1e-5
"""The CPU test's tolerance for an ensemble member against its network trained alone."""

THROUGHPUT_SIZES = (1, 2, 20, 64)
"""Ensemble sizes timed (1: the plain single-network trainer, the reference)."""
THROUGHPUT_STEPS = 60
SHORT_STEPS = 10
"""Steps of the two timed runs per size; their difference is the steady-state cost."""
EVAL_TRIALS = 16
"""Evaluation trials per task of the timed runs (their one evaluation is a small, fixed cost)."""

GOAL_RATIO = 10.0
"""The issue's goal: 20 paper-size networks in the wall time of 2."""


def paper_config(
    n_rec: int = PAPER_N, steps: int = THROUGHPUT_STEPS, seed: int = 0, schedule_seed=None
) -> TrainConfig:
    """The paper profile's E1 ``exc`` network at ``n_rec`` cut to ``steps`` steps, evaluated once
    at the end (``EVAL_TRIALS`` per task), never stopping early; with ``schedule_seed`` its task
    sequence is one that networks of every seed share."""
    return TrainConfig(
        mechanism="exc",
        tasks=tuple(yang_tasks.TASKS),
        n_rec=n_rec,
        seed=seed,
        max_steps=steps,
        eval_every=steps,
        eval_trials=EVAL_TRIALS,
        stop_at_criterion=False,
        schedule_seed=schedule_seed,
    )


def _largest_differences(a: TrainResult, b: TrainResult) -> dict:
    """Largest absolute and relative parameter differences, the loss difference, and whether all
    lie within (:data:`RTOL`, :data:`ATOL`) as ``torch.testing.assert_close`` judges them."""
    abs_diff, rel_diff, close = 0.0, 0.0, True
    want = b.model.state_dict()
    for name, value in a.model.state_dict().items():
        ref = want[name].to(value.device)
        d = (value - ref).abs()
        abs_diff = max(abs_diff, float(d.max()))
        rel_diff = max(rel_diff, float((d / ref.abs().clamp_min(1e-12)).max()))
        close &= bool(torch.allclose(value, ref, rtol=RTOL, atol=ATOL))
    loss_a = torch.tensor(a.history.loss, dtype=torch.float64)
    loss_b = torch.tensor(b.history.loss, dtype=torch.float64)
    close &= bool(torch.allclose(loss_a, loss_b, rtol=RTOL, atol=ATOL, equal_nan=True))
    return {
        "max_abs_param_diff": abs_diff,
        "max_rel_param_diff": rel_diff,
        "max_abs_loss_diff": float((loss_a - loss_b).abs().nan_to_num(0.0).max()),
        "within_tolerance": close,
    }


def check_equality(
    device, n_rec: int = PAPER_N, members: int = EQUALITY_MEMBERS, steps: int = EQUALITY_STEPS
) -> dict:
    """Ensemble members against the same networks trained alone, all on ``device``."""
    configs = [paper_config(n_rec, steps, seed=s) for s in range(members)]
    stacked = train_ensemble(configs, progress=False, device=device)
    alone = [train(c, progress=False, device=device) for c in configs]
    rows = [_largest_differences(m, a) for m, a in zip(stacked, alone)]
    return {
        "members": members,
        "steps": steps,
        "n_rec": n_rec,
        "rtol": RTOL,
        "atol": ATOL,
        "per_member": rows,
        "all_within_tolerance": all(r["within_tolerance"] for r in rows),
    }


def compare_devices(device, n_rec: int = PAPER_N, steps: int = EQUALITY_STEPS) -> dict:
    """One network trained on the CPU and on ``device``: their final loss and how far apart."""
    config = paper_config(n_rec, steps)
    cpu = train(config, progress=False, device="cpu")
    dev = train(config, progress=False, device=device)
    return {
        "device": str(device),
        "steps": steps,
        "final_loss_cpu": cpu.history.loss[-1],
        "final_loss_device": dev.history.loss[-1],
        **_largest_differences(dev, cpu),
        "why": "each device draws the network noise from its own generator",
    }


def _timed(fn, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


VARIANTS = {"own schedules": {}, "shared schedule": {"schedule_seed": 0}}
"""The layouts timed: each member drawing its own task each step (the book's networks; an
ensemble pads every step to its longest member's trial) and one task sequence shared by all
members (no padding; other networks than the book's, for whoever plans a GPU run to weigh)."""

VARIANT_SIZES = {"shared schedule": (1, 20, 64)}
"""Ensemble sizes at which each layout other than the book's is timed, those asked for among
them (1: that layout's own single-network reference); the book's layout is timed at every size
asked for."""


def time_layout(
    device,
    n_rec: int = PAPER_N,
    sizes=THROUGHPUT_SIZES,
    steps: int = THROUGHPUT_STEPS,
    short_steps: int = SHORT_STEPS,
    schedule_seed=None,
) -> dict:
    """Network-steps per second of training in its steady state: :func:`train` for one network
    (size 1), :func:`train_ensemble` for S members. Each size runs ``short_steps`` and ``steps``
    steps (after a warm-up run of its own, for kernels and the allocator); the difference of the
    two wall times is the cost of ``steps - short_steps`` steps, batches and noise included, free
    of the fixed costs both runs share (building the models, the evaluations at the first and
    last step), which are reported apart (``fixed_s``). ``schedule_seed``: one task sequence for
    every member."""
    if not 0 < short_steps < steps:
        raise ValueError(f"short_steps: got {short_steps}; allowed: 1 to steps - 1 = {steps - 1}")
    if sizes[0] != 1:
        raise ValueError(f"sizes: got {sizes}; the first must be 1 (the reference)")
    table = {}
    for S in sizes:
        print(f"[gpu bench] S = {S}: {short_steps} and {steps} steps", file=sys.stderr, flush=True)

        def run(n_steps: int, S: int = S) -> None:
            configs = [paper_config(n_rec, n_steps, s, schedule_seed) for s in range(S)]
            if S == 1:
                train(configs[0], progress=False, device=device)
            else:
                train_ensemble(configs, progress=False, device=device)

        _timed(lambda: run(2), device)
        short = _timed(lambda: run(short_steps), device)
        long = _timed(lambda: run(steps), device)
        per_step = max(long - short, 1e-9) / (steps - short_steps)
        table[S] = {
            "s_per_step": per_step,
            "network_steps_per_s": S / per_step,
            "fixed_s": short - short_steps * per_step,
        }
    single = table[1]["network_steps_per_s"]
    for row in table.values():
        row["ratio_to_single"] = row["network_steps_per_s"] / single
    best = max(table, key=lambda S: table[S]["ratio_to_single"])
    return {
        "sizes": {str(S): row for S, row in table.items()},
        "best_members": best,
        "best_ratio_to_single": table[best]["ratio_to_single"],
    }


def time_throughput(
    device,
    n_rec: int = PAPER_N,
    sizes=THROUGHPUT_SIZES,
    steps: int = THROUGHPUT_STEPS,
    short_steps: int = SHORT_STEPS,
    variants=tuple(VARIANTS),
) -> dict:
    """:func:`time_layout` of each layout of ``variants`` (:data:`VARIANTS`; the book's own,
    "own schedules", at ``sizes``, the others at theirs, :data:`VARIANT_SIZES`, cut to the sizes
    of ``sizes``); the goal is judged on the book's layout."""
    layouts = {}
    for name in variants:
        mine = tuple(S for S in VARIANT_SIZES.get(name, sizes) if S in sizes)
        print(f"[gpu bench] layout: {name}", file=sys.stderr, flush=True)
        layouts[name] = time_layout(device, n_rec, mine, steps, short_steps, **VARIANTS[name])
    book = layouts["own schedules"]
    return {
        "n_rec": n_rec,
        "steps": [short_steps, steps],
        "layouts": layouts,
        "best_members": book["best_members"],
        "best_ratio_to_single": book["best_ratio_to_single"],
        "goal_ratio": GOAL_RATIO,
        "goal_met": book["best_ratio_to_single"] >= GOAL_RATIO,
    }


def host_batch_ms(n_rec: int = PAPER_N, n: int = 50) -> float:
    """Milliseconds of host time per member-step to draw a training batch and its noise
    generator (what :func:`train_ensemble` does on the CPU for every member every step)."""
    config = paper_config(n_rec)
    history = History(config.tasks)
    start = time.perf_counter()
    for step in range(n):
        training_batch(config, step, history, "cpu")
        torch_generator(step_seed(config.seed, STREAM_NOISE, step), "cpu")
    return 1e3 * (time.perf_counter() - start) / n


def run(
    device=None,
    n_rec: int = PAPER_N,
    sizes=THROUGHPUT_SIZES,
    steps: int = THROUGHPUT_STEPS,
    equality_steps: int = EQUALITY_STEPS,
) -> dict:
    """Every section of the module docstring on ``device`` (default: CUDA where present)."""
    device = torch.device(device) if device is not None else default_device()
    out = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
    }
    print("[gpu bench] equality of members and networks alone", file=sys.stderr, flush=True)
    out["equality"] = check_equality(device, n_rec, steps=equality_steps)
    if device.type != "cpu":
        print("[gpu bench] one network on the CPU and on the device", file=sys.stderr, flush=True)
        out["devices"] = compare_devices(device, n_rec, equality_steps)
    variants = tuple(VARIANTS) if device.type == "cuda" else ("own schedules",)
    out["throughput"] = time_throughput(
        device, n_rec, sizes, steps, min(SHORT_STEPS, steps - 1), variants
    )
    out["host_batch_ms_per_member_step"] = host_batch_ms(n_rec)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="torch device (default: CUDA if present)")
    parser.add_argument("--n-rec", type=int, default=PAPER_N, help="network size (default 256)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(THROUGHPUT_SIZES))
    parser.add_argument("--steps", type=int, default=THROUGHPUT_STEPS, help="timed steps")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f"--steps: got {args.steps}; allowed: at least 2")
    if args.sizes[0] != 1 or any(s < 1 for s in args.sizes):
        parser.error(f"--sizes: got {args.sizes}; the first must be 1 (the reference), all >= 1")
    print(json.dumps(run(args.device, args.n_rec, tuple(args.sizes), args.steps)))


if __name__ == "__main__":
    main()
