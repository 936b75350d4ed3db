"""The steps the benchmarks of :mod:`lib.bench` time: a training step on fixed data, one network's
and an ensemble's step as ``lib.core.train`` / ``lib.core.ensemble`` take them, the builder's step
on the quick task mix, and the critical GEMM. Each ``make_*`` returns a callable of no argument
that runs one step (``make_trainer_step``'s returns its matmul FLOPs,
:func:`lib.bench.harness.step_flops`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from lib.bench.harness import BATCH, N_CONTEXTS, STEPS, step_flops
from lib.core import tasks as yang_tasks
from lib.core.ensemble import StackedRNN, ensemble_step
from lib.core.metrics import masked_mse
from lib.core.model import ModulatedRNN
from lib.core.seeds import STREAM_NOISE, one_hot, step_seed, torch_generator
from lib.core.train import (
    History,
    TrainConfig,
    build_model,
    make_optimizer,
    optimise_on_batch,
    trainable_parameters,
    training_batch,
    training_context,
)

ENSEMBLE_MECHANISM = "exc"  # the mechanism of the ensemble benchmark (section 4)
LR, GRAD_CLIP = 1e-3, 1.0  # lib.core.train's defaults
TRAIN_MECHANISM = "exc"  # the builder's training path (section 5)
TRAIN_TASK_SET = "conflict6"  # the quick protocol's task mix


def _contexts(kind: str, gen: torch.Generator) -> torch.Tensor:
    """(B, K) contexts: ``one_hot`` e_0 for all trials, or ``mixed`` (1 - l_b) e_0 + l_b e_1."""
    c = torch.zeros(BATCH, N_CONTEXTS)
    if kind == "one_hot":
        c[:, 0] = 1.0
    else:
        lam = torch.rand(BATCH, generator=gen)
        c[:, 0], c[:, 1] = 1.0 - lam, lam
    return c


def make_step(
    mechanism: str, n_rec: int, rank: int, context: str, steps: int = STEPS
) -> Callable[[], None]:
    """One training step as in ``lib.core.train``: zero_grad, forward with network noise, masked
    MSE, backward, fused Adam, on fixed random data of shape (steps, 64, 65)."""
    gen = torch.Generator().manual_seed(0)
    model = ModulatedRNN(mechanism, n_rec, N_CONTEXTS, rank=rank, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    x = torch.rand(steps, BATCH, yang_tasks.N_INPUT, generator=gen)
    y = torch.rand(steps, BATCH, yang_tasks.N_OUTPUT, generator=gen)
    c_mask = torch.ones(steps, BATCH, yang_tasks.N_OUTPUT)
    c = _contexts(context, gen)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        y_hat, _ = model(x, c, noise=True, generator=gen)
        masked_mse(y_hat, y, c_mask).backward()
        opt.step()

    return step


def make_matmul(n_rec: int) -> Callable[[], torch.Tensor]:
    """``torch.mm`` (64 x N) @ (N x N) with ``out=``: the per-step GEMM, at torch's own rate."""
    a, b = torch.randn(BATCH, n_rec), torch.randn(n_rec, n_rec)
    out = torch.empty(BATCH, n_rec)
    return lambda: torch.mm(a, b, out=out)


def _fixed_batch(steps: int, gen: torch.Generator, device) -> tuple[torch.Tensor, ...]:
    """One (x, y, c_mask) of shape (steps, 64, .) of random data (the values do not matter)."""
    x = torch.rand(steps, BATCH, yang_tasks.N_INPUT, generator=gen).to(device)
    y = torch.rand(steps, BATCH, yang_tasks.N_OUTPUT, generator=gen).to(device)
    return x, y, torch.ones(steps, BATCH, yang_tasks.N_OUTPUT, device=device)


def make_network_step(n_rec: int, steps: int = STEPS, device="cpu") -> Callable[[], None]:
    """One training step of one network as ``lib.core.train.train`` takes it: a per-step noise
    generator and :func:`lib.core.train.optimise_on_batch` (forward with noise, one-hot context,
    masked MSE, backward, elementwise clipping, fused Adam), on a fixed batch."""
    device = torch.device(device)
    model = ModulatedRNN(ENSEMBLE_MECHANISM, n_rec, N_CONTEXTS, seed=0).to(device)
    params = list(model.parameters())
    opt = make_optimizer(params, LR, device)
    x, y, c_mask = _fixed_batch(steps, torch.Generator().manual_seed(0), device)
    c = one_hot(0, N_CONTEXTS, BATCH, device)
    counter = itertools.count()

    def step() -> None:
        gen = torch_generator(step_seed(0, STREAM_NOISE, next(counter)), device)
        optimise_on_batch(model, opt, params, x, y, c_mask, c, gen, GRAD_CLIP)

    return step


def make_ensemble_step(
    members: int, n_rec: int, steps: int = STEPS, device="cpu"
) -> Callable[[], None]:
    """One training step of an ensemble of ``members`` networks as
    ``lib.core.ensemble.train_ensemble`` takes it: per-member generators and batches,
    ``ensemble_step``. The losses stay on the device, as in training."""
    device = torch.device(device)
    net = StackedRNN.from_models(
        [
            ModulatedRNN(ENSEMBLE_MECHANISM, n_rec, N_CONTEXTS, seed=m).to(device)
            for m in range(members)
        ]
    )
    opt = make_optimizer(net.trainable, LR, device)
    gen = torch.Generator().manual_seed(0)
    batches = [(0, *_fixed_batch(steps, gen, device)) for _ in range(members)]
    counter = itertools.count()

    def step() -> None:
        i = next(counter)
        gens = [torch_generator(step_seed(m, STREAM_NOISE, i), device) for m in range(members)]
        ensemble_step(net, opt, batches, gens, GRAD_CLIP)

    return step


def make_trainer_step(
    n_rec: int, fused: bool = True, mechanism: str = TRAIN_MECHANISM
) -> Callable[[], int]:
    """One step of ``lib.core.train.train`` on the quick protocol's task mix (conflict6, batch
    64, Yang's sampling, one-hot contexts): the step's batch generated by
    :func:`lib.core.train.training_batch`, its noise generator and context, then
    :func:`lib.core.train.optimise_on_batch`, i.e. exactly :func:`lib.core.train.train_step`;
    ``fused`` picks the recurrence (``ModulatedRNN.fused``). Returns the step's matmul FLOPs,
    :func:`step_flops` at its length T."""
    config = TrainConfig(
        mechanism, tasks=yang_tasks.TASK_SETS[TRAIN_TASK_SET], n_rec=n_rec, batch_size=BATCH
    )
    device = torch.device("cpu")
    model = build_model(config)
    model.fused = fused
    params = trainable_parameters(model, config.trainable)
    opt = make_optimizer(params, config.lr, device)
    history = History(config.tasks)
    counter = itertools.count()

    def step() -> int:
        s = next(counter)
        k, x, y, c_mask = training_batch(config, s, history, device)
        gen = torch_generator(step_seed(config.seed, STREAM_NOISE, s), device)
        c = training_context(config, k, s, device)
        optimise_on_batch(model, opt, params, x, y, c_mask, c, gen, config.grad_clip)
        return step_flops(n_rec, steps=x.shape[0])

    return step
