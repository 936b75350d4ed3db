"""Named random streams: every stream id is distinct, and a draw depends only on its key."""

from __future__ import annotations

import numpy as np
import torch

from lib.core import seeds


def test_stream_ids_are_distinct():
    ids = {name: value for name, value in vars(seeds).items() if name.startswith("STREAM_")}
    assert len(ids) >= 7 and len(set(ids.values())) == len(ids), ids


def test_draws_depend_only_on_seed_stream_and_index():
    a = torch.randn(4, generator=seeds.torch_generator(seeds.step_seed(3, seeds.STREAM_NOISE, 9)))
    b = torch.randn(4, generator=seeds.torch_generator(seeds.step_seed(3, seeds.STREAM_NOISE, 9)))
    c = torch.randn(4, generator=seeds.torch_generator(seeds.step_seed(3, seeds.STREAM_PROBE, 9)))
    assert torch.equal(a, b) and not torch.equal(a, c)
    np.testing.assert_array_equal(seeds.one_hot(1, 3, 2).numpy(), [[0, 1, 0], [0, 1, 0]])
