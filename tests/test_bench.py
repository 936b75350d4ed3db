"""lib.bench: the quick run prints one well-formed JSON line; the FLOP count is the notes' formula.

No assertion is made on speed (the box is shared; timings are noisy).
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lib import bench
from lib.bench import generation, gpu
from lib.core import tasks as yang_tasks

ROOT = Path(__file__).resolve().parents[1]


def test_step_flops_matches_a_hand_count():
    # 3 GEMMs x 2 FLOP x B T (N^2 + n_in N + n_out N) (docs/performance.md), by hand for 53
    # inputs, 17 outputs, B = 64, T = 100, N = 256: 6 x 6400 x (65536 + 13568 + 4352)
    assert bench.step_flops(256, batch=64, steps=100, n_in=53, n_out=17) == 3_204_710_400
    assert bench.step_flops(1, batch=1, steps=1, n_in=0, n_out=0) == 6  # 3 GEMMs x 2 FLOP


def test_step_flops_is_what_torch_counts_for_a_recurrent_step():
    """The formula against torch's own FLOP counter on the three GEMMs of an RNN, forward and
    backward (inputs, state and weights all need gradients, as the formula assumes)."""
    from torch.utils.flop_counter import FlopCounterMode

    steps, batch, n_rec, n_in, n_out = 3, 4, 5, 6, 7
    x = torch.randn(steps, batch, n_in, requires_grad=True)
    h = torch.zeros(batch, n_rec, requires_grad=True)
    w_rec = torch.randn(n_rec, n_rec, requires_grad=True)
    w_in = torch.randn(n_rec, n_in, requires_grad=True)
    w_out = torch.randn(n_out, n_rec, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        outputs = []
        for t in range(steps):
            h = h @ w_rec.T + x[t] @ w_in.T
            outputs.append(h @ w_out.T)
        torch.stack(outputs).sum().backward()
    assert counter.get_total_flops() == bench.step_flops(
        n_rec, batch=batch, steps=steps, n_in=n_in, n_out=n_out
    )


def test_step_flops_defaults_are_this_model():
    assert bench.step_flops(64) == bench.step_flops(
        64, batch=64, steps=100, n_in=yang_tasks.N_INPUT, n_out=yang_tasks.N_OUTPUT
    )
    assert (yang_tasks.N_INPUT, yang_tasks.N_OUTPUT) == (65, 33)  # 1 + 2 x 32 in, 1 + 32 out


@pytest.fixture(scope="module")
def quick() -> dict:
    """The quick run's JSON (about 1.5 min: every section at tiny sizes, worker processes)."""
    proc = subprocess.run(
        [sys.executable, "-m", "lib.bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout[-3000:]
    return json.loads(lines[0])


def _positive(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


@pytest.mark.slow
def test_quick_has_the_required_keys(quick):
    for key in (
        "train_speedup_vs_single",
        "train_flop_fraction",
        "one_hot_overhead",
        "lowrank_mixed_overhead",
        "train_path",
        "gen_speedup_vs_neurogym",
        "roofline_fraction",
        "ensemble_speedup_cpu",
        "ensemble_speedup_gpu",
        "targets",
        "machine",
        "load_avg_before",
        "load_avg_after",
        "method",
        "generation",
        "training",
        "roofline",
        "ensembles",
    ):
        assert key in quick
    assert quick["quick"] is True and quick["machine"]["threads"] == 1
    assert set(quick["targets"]) == {
        "gen_15x_neurogym_every_task",
        "base_step_0.6_matmul_rate",
        "one_hot_within_1.1x",
        "lowrank_mixed_within_1.5x",
        "syn_mask_mixed_within_3x",
        "ensemble_1.25x_cpu",
        "train_speedup_2x",
        "train_flop_fraction_0.5",
    }
    for t in quick["targets"].values():
        assert {"target", "value", "met"} <= set(t) and t["met"] in (True, False, None)
    assert "noise=False" in quick["generation"]["training_noise"]


@pytest.mark.slow
def test_quick_timings_are_positive_and_finite(quick):
    gen = quick["generation"]
    assert set(gen["tasks"]) == set(bench.QUICK_TASKS)
    for row in gen["tasks"].values():
        for key in ("T_mean", "ours_ms_per_batch", "ours_trials_per_s", "ours_noise_ms_per_batch"):
            assert _positive(row[key]), key
        if gen["neurogym_unavailable"] is None:
            assert _positive(row["neurogym_ms_per_batch"]) and _positive(row["speedup_per_batch"])
        else:
            assert row["neurogym_ms_per_batch"] is None and gen["gen_speedup_vs_neurogym"] is None
    labels = {label for label, _, _ in bench.VARIANTS}
    for n in map(str, bench.QUICK_SIZES):
        for kind in ("one_hot", "mixed"):
            ms = quick["training"]["ms_per_step"][n][kind]
            assert set(ms) == labels
            assert all(_positive(v) for v in ms.values())
            for table in ("ratio_to_none", "cpu_ms_per_step", "cpu_ratio_to_none"):
                cells = quick["training"][table][n][kind]
                assert set(cells) == labels and all(_positive(v) for v in cells.values())
        assert _positive(quick["training"]["matmul_64xN_NxN"][n]["gflops"])
    assert _positive(quick["roofline_fraction"])
    assert _positive(quick["roofline"]["achieved_gflops"])


@pytest.mark.slow
def test_quick_train_path_is_consistent(quick):
    path = quick["train_path"]
    rows = path["layouts"]
    assert {"plain_1thread", "builder_1thread"} <= set(rows)
    assert all(_positive(r["network_steps_per_s"]) for r in rows.values())
    assert quick["train_speedup_vs_single"] == pytest.approx(
        rows["builder_1thread"]["network_steps_per_s"]
        / rows["plain_1thread"]["network_steps_per_s"],
        rel=1e-3,
    )
    assert quick["train_flop_fraction"] == pytest.approx(
        path["builder_matmul_gflops_per_core"] / path["matmul_gflops_per_core"], rel=1e-2
    )
    for kind in ("builder", "plain"):
        split = path["profile"][kind]["fraction"]
        assert set(split) == {"matmul", "noise", "element_wise", "autograd", "python_and_other"}
        # the fractions are printed to 4 significant digits: their sum may exceed 1 by the
        # rounding of five numbers (at most 5 x 5e-5)
        assert all(v >= 0 for v in split.values()) and sum(split.values()) <= 1.0 + 2.5e-4


def test_trainer_step_counts_the_flops_of_its_own_batch():
    """The builder's step (the fused recurrence) returns step_flops at its batch's length."""
    step = bench.make_trainer_step(8)
    flops = step()
    steps, rem = divmod(flops, bench.step_flops(8, steps=1))
    assert rem == 0 and 10 <= steps <= 400  # a batch of the quick task mix: T in steps of dt


def test_profile_split_adds_up():
    prof = bench.profile_step(8, fused=True, steps=2)
    total = sum(prof["ms_per_step"].values())
    assert total == pytest.approx(prof["ms_per_step_profiled"], rel=1e-6)
    assert prof["ms_per_step"]["matmul"] > 0 and prof["ms_per_step"]["noise"] > 0


@pytest.mark.slow
def test_quick_ensemble_rates_are_positive(quick):
    ens = quick["ensembles"]
    assert _positive(quick["ensemble_speedup_cpu"])
    assert quick["ensemble_speedup_cpu"] == ens["layouts"][ens["best_layout"]]["ratio_to_separate"]
    assert "separate_1thread" in ens["layouts"] and len(ens["layouts"]) >= 2
    for row in ens["layouts"].values():
        for key in (
            "network_steps_per_s",
            "cpu_ms_per_network_step",
            "ratio_to_separate",
            "ratio_to_separate_cpu_time",
        ):
            assert _positive(row[key]), key
    assert ens["layouts"]["separate_1thread"]["ratio_to_separate"] == 1.0
    if ens["gpu"] is None:  # no CUDA here
        assert quick["ensemble_speedup_gpu"] is None
    else:
        assert _positive(quick["ensemble_speedup_gpu"])
        assert all(_positive(r["network_steps_per_s"]) for r in ens["gpu"]["layouts"].values())


def test_generation_without_neurogym_reports_null_with_reason(monkeypatch):
    monkeypatch.setattr(
        generation, "_import_neurogym", lambda: (None, "neurogym not importable (test)")
    )
    gen = bench.bench_generation(("fdgo",), reps=1, min_rep_s=0.005)
    assert gen["gen_speedup_vs_neurogym"] is None and gen["gen_speedup_worst_task"] is None
    assert gen["neurogym_unavailable"] == "neurogym not importable (test)"
    row = gen["tasks"]["fdgo"]
    assert row["speedup_per_batch"] is None and row["speedup_per_batch_cpu_time"] is None
    assert _positive(row["ours_trials_per_s"]) and _positive(row["ours_cpu_ms_per_batch"])


def test_the_gpu_check_runs_tiny_on_the_cpu_and_judges_equality():
    """lib.bench.gpu's code path (equality of members and networks alone, throughput) runs where
    CI has no GPU; a member equals its network alone within the ensemble test's tolerance."""
    out = gpu.run("cpu", n_rec=8, sizes=(1, 2), steps=2, equality_steps=3)
    assert out["device"] == "cpu" and "devices" not in out  # the CPU is compared with itself
    eq = out["equality"]
    assert eq["all_within_tolerance"] and len(eq["per_member"]) == gpu.EQUALITY_MEMBERS
    assert all(r["max_abs_param_diff"] < gpu.ATOL for r in eq["per_member"])
    tp = out["throughput"]
    assert list(tp["layouts"]) == ["own schedules"]  # the CUDA-only layouts are not timed
    sizes = tp["layouts"]["own schedules"]["sizes"]
    assert set(sizes) == {"1", "2"} and sizes["1"]["ratio_to_single"] == 1.0
    assert all(r["network_steps_per_s"] > 0 for r in sizes.values())
    assert all(math.isfinite(r["fixed_s"]) for r in sizes.values())
    assert out["host_batch_ms_per_member_step"] > 0
    assert tp["goal_met"] == (tp["best_ratio_to_single"] >= gpu.GOAL_RATIO)


def test_the_gpu_check_refuses_sizes_without_the_single_reference(capsys):
    with pytest.raises(SystemExit):
        gpu.main(["--sizes", "2", "20"])
    assert "--sizes: got [2, 20]; the first must be 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="short_steps: got 5; allowed: 1 to steps - 1 = 4"):
        gpu.time_throughput("cpu", n_rec=8, sizes=(1,), steps=5, short_steps=5)
    with pytest.raises(ValueError, match=r"sizes: got \(2,\); the first must be 1"):
        gpu.time_layout("cpu", n_rec=8, sizes=(2,), steps=3, short_steps=1)
