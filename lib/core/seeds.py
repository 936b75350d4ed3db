"""Named random streams: every random draw in ``lib`` is a function of (seed, stream, index).

A batch, the network noise of a training step, an evaluation set or a probe's noise is drawn
from ``numpy.random.SeedSequence([seed, stream, index])``, never from a generator shared with
other work. So a run resumed from a checkpoint, one member of an ensemble and a single run draw
the same numbers, and adding a probe never shifts another one's noise.
"""

from __future__ import annotations

import numpy as np
import torch

STREAM_BATCH = 1  # training batches (task drawn, trial conditions), index = step
STREAM_NOISE = 2  # network noise of a training step, index = step
STREAM_EVAL = 3  # evaluation trials (index = task) and their noise (index = 10_000 + task)
STREAM_PROBE = 4  # noise of E2's probes, index = task
STREAM_SCHEDULE = 5  # the task of each training step when a schedule is shared, index = step
STREAM_LESION = 6  # the random units of a control lesion, index = 0
STREAM_ABLATION = 7  # network noise of the hybrid's pathway ablations, index = task
STREAM_MIX = 8  # the distractor task and its weight of a mixture-trained step, index = step
STREAM_TIMESCALES = 9  # E5's trial sequences: schedules, trial conditions and network noise,
# index = lib.experiments.timescales.draw_index(schedule, pair, trial, what)
STREAM_CUES = 10  # the earlier cues (switches and tasks) of a filter-trained step's trials,
# index = step (lib.core.filters.draw_cue_history)
EVAL_NOISE_OFFSET = 10_000


def step_seed(seed: int, stream: int, step: int) -> np.random.SeedSequence:
    """The seed of draw ``step`` of random ``stream`` for a network of seed ``seed``."""
    return np.random.SeedSequence([seed, stream, step])


def torch_generator(seq: np.random.SeedSequence, device=None) -> torch.Generator:
    """A torch.Generator on ``device`` seeded from a SeedSequence (63 bits of its state)."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    return g


def one_hot(k: int, n_tasks: int, batch_size: int, device=None) -> torch.Tensor:
    """Context ``e_k`` for a whole batch, shape (B, K)."""
    c = torch.zeros(batch_size, n_tasks, device=device)
    c[:, k] = 1.0
    return c


__all__ = [
    "STREAM_BATCH",
    "STREAM_NOISE",
    "STREAM_EVAL",
    "STREAM_PROBE",
    "STREAM_SCHEDULE",
    "STREAM_LESION",
    "STREAM_ABLATION",
    "STREAM_MIX",
    "STREAM_TIMESCALES",
    "STREAM_CUES",
    "EVAL_NOISE_OFFSET",
    "step_seed",
    "torch_generator",
    "one_hot",
]
