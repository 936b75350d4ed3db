"""Sections 2 and 3 of :mod:`lib.bench`: the training step of every mechanism, and its roofline.

2. **Training step.** ``zero_grad(set_to_none=True)``, forward (``noise=True``, as in training),
:func:`lib.core.metrics.masked_mse`, backward and ``Adam(fused=True)``, B = 64, T = 100, K = 20
contexts, for N in {64, 128, 256} and every mechanism of :data:`lib.core.model.MECHANISMS`
(``syn_lowrank`` and ``hybrid`` at rank 1, plus ``syn_lowrank`` at rank 2), with

- ``one_hot``: c = e_0 for the whole batch (Yang's one-task batches, how training runs), and
- ``mixed``: per-trial two-task mixtures c_b = (1 - l_b) e_0 + l_b e_1, l_b ~ U(0, 1): one pair
  of tasks per batch (as in the ambiguity probes), so two tasks are active.

``ratio_to_none`` divides by the ``none`` step at the same N (``none`` ignores c, so it is timed
once per N and serves both context kinds).

3. **Roofline.** Model FLOPs count only the matmuls, as docs/performance.md does: 3 x 2 B T (N^2 +
n_in N + n_out N) per step (forward + two backward GEMMs each), see
:func:`lib.bench.harness.step_flops`. The achieved GFLOP/s of the ``none`` step is compared with
torch's own rate for the step's critical GEMM, ``torch.mm`` of (64 x N) @ (N x N) with ``out=``, at
the same thread count: ``roofline_fraction`` (N = 256).
"""

from __future__ import annotations

import statistics

from lib.bench.harness import BATCH, N_CONTEXTS, STEPS, log, step_flops, time_interleaved
from lib.bench.steps import make_matmul, make_step
from lib.core.model import MECHANISMS

SIZES = (64, 128, 256)
QUICK_SIZES = (16,)

# (label, mechanism, rank): the step variants timed at every N
VARIANTS: tuple[tuple[str, str, int], ...] = tuple((m, m, 1) for m in MECHANISMS) + (
    ("syn_lowrank_r2", "syn_lowrank", 2),
)
LOWRANK = ("syn_lowrank", "syn_lowrank_r2", "hybrid")


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
            kinds, label = (
                (("one_hot", "mixed"), "none")
                if name == "none"
                else ((name.split("/")[0],), name.split("/")[1])
            )
            for kind in kinds:
                tables["ms"][key][kind][label] = 1e3 * t.seconds
                tables["ratio"][key][kind][label] = t.seconds / res["none"].seconds
                tables["cpu_ms"][key][kind][label] = 1e3 * t.cpu_seconds
                tables["cpu_ratio"][key][kind][label] = t.cpu_seconds / res["none"].cpu_seconds
        shares = [t.others_cpu_share for t in res.values() if t.others_cpu_share is not None]
        share[key] = statistics.median(shares) if shares else None
        flop = 2 * BATCH * n * n
        mm[key] = {
            "ms": 1e3 * t_mm.seconds,
            "gflops": flop / t_mm.seconds / 1e9,
            "gflops_cpu_time": flop / t_mm.cpu_seconds / 1e9,
        }
        log(
            f"N={n}: none {1e3 * res['none'].seconds:.1f} ms/step, "
            f"mm {mm[key]['gflops']:.0f} GFLOP/s"
        )
    return {
        "batch_size": BATCH,
        "steps": STEPS,
        "n_contexts": N_CONTEXTS,
        "step": "zero_grad(set_to_none) + forward(noise=True) + masked_mse + backward + "
        "Adam(fused=True, lr=1e-3)",
        "contexts": {
            "one_hot": "c = e_0 for every trial (one task per batch, as in training)",
            "mixed": "c_b = (1 - l_b) e_0 + l_b e_1, l_b ~ U(0, 1) per trial (one pair "
            "of tasks per batch: two active tasks)",
        },
        "variants": {label: {"mechanism": m, "rank": r} for label, m, r in VARIANTS},
        "ms_per_step": tables["ms"],
        "ratio_to_none": tables["ratio"],
        "cpu_ms_per_step": tables["cpu_ms"],
        "cpu_ratio_to_none": tables["cpu_ratio"],
        "others_cpu_share": share,
        "matmul_64xN_NxN": mm,
    }


def roofline(training: dict) -> dict:
    """Achieved GFLOP/s of the ``none`` step vs the (64 x N) @ (N x N) matmul rate, largest N."""
    n = max(int(k) for k in training["ms_per_step"])
    key, flops = str(n), step_flops(n)
    achieved = flops / training["ms_per_step"][key]["one_hot"]["none"] / 1e6
    achieved_cpu = flops / training["cpu_ms_per_step"][key]["one_hot"]["none"] / 1e6
    mm = training["matmul_64xN_NxN"][key]
    return {
        "n_rec": n,
        "step_gflop": flops / 1e9,
        "base_ms_per_step": training["ms_per_step"][key]["one_hot"]["none"],
        "achieved_gflops": achieved,
        "matmul_gflops": mm["gflops"],
        "roofline_fraction": achieved / mm["gflops"],
        "roofline_fraction_cpu_time": achieved_cpu / mm["gflops_cpu_time"],
        "flop_count": "3 x 2 B T (N^2 + n_in N + n_out N), n_in = 65, n_out = 33",
    }
