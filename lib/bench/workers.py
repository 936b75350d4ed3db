"""Worker processes of :mod:`lib.bench`: layouts of one-thread (or many-thread) processes that run
a step together for a fixed window, the layouts taking turns over the repetitions. Used by the
ensemble benchmark and the builder's training path (sections 4 and 5).
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
import time
import traceback
from collections.abc import Callable

import torch

from lib.bench.harness import BATCH, WARMUP, log
from lib.bench.steps import make_ensemble_step, make_matmul, make_network_step, make_trainer_step

WORKER_TIMEOUT_S = 600  # a worker silent this long is taken as hung


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
    raise ValueError(
        f"kind={kind!r} is not allowed; expected network, ensemble, trainer, "
        "trainer_plain or matmul"
    )


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
            raise RuntimeError(
                f"an ensemble benchmark worker was silent for {WORKER_TIMEOUT_S} s"
            ) from None
        if msg[0] == "error":
            raise RuntimeError(f"ensemble benchmark worker failed:\n{msg[1]}")
        out.append(msg)
    return out


def run_layouts(
    layouts: list[tuple],
    kinds: dict[str, str],
    n_rec: int,
    steps: int,
    window_s: float,
    reps: int,
    label: str,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run each layout (name, members per worker, threads per worker, workers) of worker
    ``kinds[name]`` together for ``window_s``, round-robin over ``reps`` repetitions, in spawned
    processes. Returns, per layout and repetition, network-steps/s summed over the workers (for
    ``matmul``: FLOP/s per worker) and CPU ms per network-step."""
    cores = max(n for *_, n in layouts)
    ctx = multiprocessing.get_context("spawn")  # no fork of a process with thread pools
    commands = [ctx.Queue() for _ in range(cores)]
    results = ctx.Queue()
    workers = [ctx.Process(target=_layout_worker, args=(q, results), daemon=True) for q in commands]
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
                    cpu_ms[name].append(
                        1e3 * sum(c for *_, c, _ in done) / sum(calls for _, calls, *_ in done)
                    )
                    continue
                rates[name].append(sum(members * calls / wall for _, calls, wall, *_ in done))
                net_steps = sum(members * calls for _, calls, *_ in done)
                cpu_ms[name].append(1e3 * sum(cpu for *_, cpu, _ in done) / net_steps)
                if kinds[name] == "trainer":  # the builder's matmul FLOP/s per worker
                    rates.setdefault(f"{name}_flops", []).append(
                        sum(f / wall for _, _, wall, _, f in done) / n_workers
                    )
            log(f"{label} rep {rep + 1}/{reps}")
    finally:
        for q in commands:
            q.put(("stop",))
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.terminate()
    return rates, cpu_ms
