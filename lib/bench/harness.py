"""The timing harness shared by every benchmark of :mod:`lib.bench`, and the step's FLOP count.

Every callable is warmed up, then its inner loop count is calibrated so that one repetition lasts
>= ``min_rep_s`` (0.3 s); the result is the median over ``reps`` (5) repetitions, timed with
``time.perf_counter``. Repetitions of the configurations compared with each other (one task's three
generators; all mechanisms and the matmul at one N) are interleaved round-robin, so a change in
machine load hits base and variant alike. The box is shared: each measurement also reports the CPU
share used by *other* processes during its repetitions (from /proc/stat minus this process's CPU
time); a careful reference run discards repetitions above 3 %, the bench only reports the share
(and the load average before/after), so treat numbers taken under load as noisy. Targets are judged
on wall time; the same statistics from this process's CPU time (``time.process_time``:
``cpu_ms_per_step``, ``cpu_ratio_to_none``, ``*_cpu_time``) are given beside them because, at one
thread, they ignore the time other processes hold the core and so keep ratios meaningful on a
loaded box (they still include cache and memory-bandwidth contention; with several threads CPU time
sums over threads).
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from lib.core import tasks as yang_tasks

BATCH = 64
STEPS = 100
N_CONTEXTS = 20
WARMUP = 3


def step_flops(
    n_rec: int,
    batch: int = BATCH,
    steps: int = STEPS,
    n_in: int = yang_tasks.N_INPUT,
    n_out: int = yang_tasks.N_OUTPUT,
) -> int:
    """Matmul FLOPs of one training step, 3 x 2 B T (N^2 + n_in N + n_out N).

    Recurrent, input and readout GEMMs, each counted once forward and twice backward (gradient
    w.r.t. its input and its weight); elementwise work, the optimizer and modulation are ignored.
    """
    return 3 * 2 * batch * steps * (n_rec * n_rec + n_in * n_rec + n_out * n_rec)


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


def time_interleaved(
    fns: dict[str, Callable[[], object]],
    reps: int,
    min_rep_s: float,
    warmup: int = WARMUP,
    progress: str = "",
) -> dict[str, Timing]:
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
            log(f"{progress} rep {rep + 1}/{reps}")
    return {
        name: Timing(
            statistics.median(per_call[name]),
            statistics.median(cpu[name]),
            counts[name],
            statistics.median(shares[name]) if shares[name] else None,
        )
        for name in fns
    }


def log(msg: str) -> None:
    """One progress line on stderr (stdout carries the JSON line only)."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def usable_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
