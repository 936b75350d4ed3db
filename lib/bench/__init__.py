"""Speed benchmark: trial generation, training step, and how close the step is to matmul speed.

``python -m lib.bench [--threads 1] [--quick]`` (:mod:`lib.bench.__main__`) prints ONE JSON line on
stdout (progress goes to stderr). The numbers back the speed claims of the book and
``docs/performance.md`` (which also records the reference measurements and the levers tried), and
feed the targets (:data:`lib.bench.targets.TARGETS`), which the JSON reports as booleans. Headline
keys: ``train_speedup_vs_single``, ``train_flop_fraction``, ``roofline_fraction``,
``one_hot_overhead``, ``lowrank_mixed_overhead``, ``gen_speedup_vs_neurogym``,
``ensemble_speedup_cpu`` (``_gpu`` with CUDA).

One module per part (float32, CPU, ``torch.set_num_threads(threads)``; section 4 sets its own):

- :mod:`lib.bench.harness`: the timing harness (warm-up, calibration, medians over interleaved
  repetitions, the CPU share of other processes) and the matmul FLOP count :func:`step_flops`;
- :mod:`lib.bench.steps`: the steps that are timed (fixed-data training step, one network's and
  an ensemble's step, the builder's step, the critical GEMM);
- :mod:`lib.bench.workers`: layouts of worker processes running a step together;
- 1. :mod:`lib.bench.generation`: trial generation, ours against neurogym's ``yang19``;
- 2.-3. :mod:`lib.bench.training`: the training step of every mechanism and its roofline;
- 4. :mod:`lib.bench.ensembles`: ensembles against one network per core (and on the GPU);
- 5. :mod:`lib.bench.train_path`: the builder's training path and where its time goes;
- :mod:`lib.bench.targets`: the targets judged as booleans;
- :mod:`lib.bench.__main__`: the command line, which runs every section.

The names other code uses are re-exported here.
"""

from lib.bench.ensembles import bench_ensembles_cpu, bench_ensembles_gpu
from lib.bench.generation import NEUROGYM_ID, QUICK_TASKS, bench_generation
from lib.bench.harness import BATCH, N_CONTEXTS, STEPS, Timing, step_flops, time_interleaved
from lib.bench.steps import (
    make_ensemble_step,
    make_matmul,
    make_network_step,
    make_step,
    make_trainer_step,
)
from lib.bench.targets import TARGETS, targets
from lib.bench.train_path import bench_train_throughput, profile_step
from lib.bench.training import LOWRANK, QUICK_SIZES, SIZES, VARIANTS, bench_training, roofline

__all__ = [
    "BATCH",
    "LOWRANK",
    "NEUROGYM_ID",
    "N_CONTEXTS",
    "QUICK_SIZES",
    "QUICK_TASKS",
    "SIZES",
    "STEPS",
    "TARGETS",
    "VARIANTS",
    "Timing",
    "bench_ensembles_cpu",
    "bench_ensembles_gpu",
    "bench_generation",
    "bench_train_throughput",
    "bench_training",
    "make_ensemble_step",
    "make_matmul",
    "make_network_step",
    "make_step",
    "make_trainer_step",
    "profile_step",
    "roofline",
    "step_flops",
    "targets",
    "time_interleaved",
]
