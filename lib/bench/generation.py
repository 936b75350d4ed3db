"""Section 1 of :mod:`lib.bench`: trial generation, ours against neurogym's.

Wall time of ``lib.core.tasks.make_batch(task, 64, seed, noise=False)`` for
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
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import warnings
from collections.abc import Callable

import numpy as np

from lib.bench.harness import BATCH, time_interleaved
from lib.core import tasks as yang_tasks

QUICK_TASKS = ("fdgo", "dm1")
SEED_CYCLE = 64  # seeds 0..63 cycled by the generator benchmark

NEUROGYM_ID = {  # our (Yang's) task name -> neurogym's yang19 env id
    "fdgo": "yang19.go-v0",
    "reactgo": "yang19.rtgo-v0",
    "delaygo": "yang19.dlygo-v0",
    "fdanti": "yang19.anti-v0",
    "reactanti": "yang19.rtanti-v0",
    "delayanti": "yang19.dlyanti-v0",
    "dm1": "yang19.dm1-v0",
    "dm2": "yang19.dm2-v0",
    "contextdm1": "yang19.ctxdm1-v0",
    "contextdm2": "yang19.ctxdm2-v0",
    "multidm": "yang19.multidm-v0",
    "delaydm1": "yang19.dlydm1-v0",
    "delaydm2": "yang19.dlydm2-v0",
    "contextdelaydm1": "yang19.ctxdlydm1-v0",
    "contextdelaydm2": "yang19.ctxdlydm2-v0",
    "multidelaydm": "yang19.multidlydm-v0",
    "dmsgo": "yang19.dms-v0",
    "dmsnogo": "yang19.dnms-v0",
    "dmcgo": "yang19.dmc-v0",
    "dmcnogo": "yang19.dnmc-v0",
}


def _ours(task: str, noise: bool) -> Callable[[], object]:
    """One ``make_batch`` call per invocation, cycling through seeds 0..SEED_CYCLE-1."""
    seeds = itertools.cycle(range(SEED_CYCLE))
    return lambda: yang_tasks.make_batch(task, BATCH, next(seeds), noise=noise)


def _mean_length(task: str) -> float:
    """Mean T of our batches over the seed cycle (the batch length the comparison equalises)."""
    return float(
        np.mean(
            [
                yang_tasks.make_batch(task, BATCH, s, noise=False).conditions.tdim
                for s in range(SEED_CYCLE)
            ]
        )
    )


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
        ds = ngym.Dataset(
            NEUROGYM_ID[task], env_kwargs={"dt": yang_tasks.DT}, batch_size=BATCH, seq_len=seq_len
        )
        ds.seed(0)
    return ds


def _neurogym_trial_length(ngym, task: str, n: int = 256) -> float:
    """Mean length (steps) of neurogym's own trials of ``task`` at dt = 20 ms."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
        warnings.simplefilter("ignore")
        env = ngym.make(NEUROGYM_ID[task], dt=yang_tasks.DT)
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
        row = {
            "T_mean": t_mean,
            "ours_ms_per_batch": 1e3 * ours,
            "ours_cpu_ms_per_batch": 1e3 * res["ours"].cpu_seconds,
            "ours_trials_per_s": BATCH / ours,
            "ours_noise_ms_per_batch": 1e3 * noisy,
            "ours_noise_trials_per_s": BATCH / noisy,
            "neurogym_id": NEUROGYM_ID[task],
            "neurogym_seq_len": seq_len,
            "neurogym_ms_per_batch": None,
            "neurogym_cpu_ms_per_batch": None,
            "neurogym_steps_per_s": None,
            "neurogym_mean_trial_steps": None,
            "neurogym_trial_equiv_per_s": None,
            "speedup_per_batch": None,
            "speedup_per_batch_cpu_time": None,
            "speedup_trial_equiv": None,
            "others_cpu_share": res["ours"].others_cpu_share,
        }
        if ngym is not None:
            ng = res["neurogym"].seconds
            length = _neurogym_trial_length(ngym, task)
            steps_per_s = BATCH * seq_len / ng
            ng_cpu = res["neurogym"].cpu_seconds
            row.update(
                neurogym_ms_per_batch=1e3 * ng,
                neurogym_cpu_ms_per_batch=1e3 * ng_cpu,
                neurogym_steps_per_s=steps_per_s,
                neurogym_mean_trial_steps=length,
                neurogym_trial_equiv_per_s=steps_per_s / length,
                speedup_per_batch=ng / ours,
                speedup_per_batch_cpu_time=ng_cpu / res["ours"].cpu_seconds,
                speedup_trial_equiv=(BATCH / ours) / (steps_per_s / length),
            )
        per_task[task] = row
    worst, worst_cpu = (
        _min_task(per_task, key) for key in ("speedup_per_batch", "speedup_per_batch_cpu_time")
    )
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
        "gen_speedup_vs_neurogym": worst[0],
        "gen_speedup_worst_task": worst[1],
        "gen_speedup_vs_neurogym_cpu_time": worst_cpu[0],
        "gen_speedup_worst_task_cpu_time": worst_cpu[1],
        "tasks": per_task,
    }
