"""Ensembles: S networks of one architecture, differing only in seed, trained as one batched model.

A training step is a long chain of small operations: T ~ 100 recurrent steps, each a (B, N) @ (N, N)
product, an activation and a leaky update, forward and backward. At N = 64 each op is a few
microseconds of arithmetic, comparable with PyTorch's per-op cost (dispatch, autograd), and a GPU
is mostly idle. Stacking S members along a leading dimension runs each recurrent op once for all
of them (``torch.baddbmm`` over (S, B, N) instead of ``torch.addmm`` over (B, N)), so that cost is
paid once per step rather than S times, and a GPU gets S times the work per launch. Work that is
already large (the input drive of all steps, the readout, the loss: one GEMM each per member) is
done per member, as the single model does it, which keeps it cache-sized.

Equivalence. :func:`train_ensemble` gives every member exactly what :func:`lib.core.train.train`
would give it alone, step for step:

- its batch ``training_batch(config_m, step, history_m)`` (own task k_m, trial conditions and
  length T_m; with ``sampling="error"`` from its own last evaluation),
- its network noise from ``torch_generator(step_seed(seed_m, STREAM_NOISE, step))``, drawn by
  the same function as the single model's (:func:`lib.core.model.input_drive`),
- its one-hot context e_{k_m}, under which every mechanism reduces to an effective gain
  g_m (N,), bias beta_m (N,) and recurrent matrix W_m (N, N) (``ModulatedRNN.effective``):

      g_m    = softplus(G[m, k_m] + g0)                     (1 without a gain pathway)
      beta_m = B[m, k_m]                                    (0 without a bias pathway)
      W_m    = W_rec[m]                                     none, exc_bias, exc_gain, exc
             = W_rec[m] * (1 + M[m, k_m])                   syn_mask
             = W_rec[m] + U[m, k_m] V[m, k_m]^T / N         syn_lowrank, hybrid
             = diag(1 + A[m, k_m]) W_rec[m] diag(1 + Bp[m, k_m])   syn_prepost

  built from the stacked parameters with autograd, so gradients reach the modulation rows of
  task k_m as through ``c @ G`` etc. in the single model (the other rows get zero),
- the same recurrence, with the gain folded into the rows of W_in, b and W_m as the single
  model does for a shared context (u~ = u + sqrt(2/a) sigma_x eta, phi = softplus or relu):

      z_t     = (g W_in) u~_t + (g b + beta + sqrt(2/a) sigma_rec xi_t) + (g W) r_t
      r_{t+1} = (1 - a) r_t + a phi(z_t),          y_t = sigmoid(W_out r_{t+1} + b_out),

  where members of different lengths are padded on the right to T = max_m T_m with zero drive:
  the recurrence is causal, so the padded steps never reach a member's first T_m outputs, and
  only those are read out,
- its own loss L_m = ``masked_mse`` on its own batch (mean over its T_m x B x 33 entries);
  minimising sum_m L_m gives each member exactly its own gradient (the members share nothing),
- elementwise gradient clipping and Adam with the same lr: Adam is elementwise, so one Adam over
  (S, ...) tensors is S Adams as long as all members have taken the same number of steps
  (they have: a member that reaches criterion is removed from the stack, with its Adam state
  exp_avg / exp_avg_sq, and never updated again).

The recurrence runs in :class:`lib.core.model.LeakyRecurrence` (time-major (T, S, B, N), one
``baddbmm`` per step, hand-written backward), as the single model's does in its (T, B, N) form.
Only floating-point summation order differs: the batched recurrent GEMM (``bmm``) against the
single model's ``mm``, and the effective-weight products (``bmm`` against ``einsum``). Results
therefore equal single training to float32 rounding amplified over the steps (measured ~1e-7
absolute after 20 steps; ``tests/test_ensemble.py`` states its tolerance), not bitwise.

Shapes: S members, B trials, T steps, N units, K tasks, R rank, n_in = 65, n_out = 33. Stacked
parameters carry a leading S: W_in (S, N, n_in), W_rec (S, N, N), b (S, N), W_out (S, n_out, N),
b_out (S, n_out), B, G, A, Bp (S, K, N), M (S, K, N, N), U, V (S, K, N, R).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

# Module reference, not names: evaluate / training_batch are looked up at call time, exactly the
# functions lib.core.train uses (a test that patches them there patches both trainers).
from lib.core import train
from lib.core.checks import fail
from lib.core.io import atomic_torch_save
from lib.core.metrics import masked_mse
from lib.core.model import (
    G0,
    GAIN_ON_RECURRENT,
    SYN_ON_INPUT,
    ModulatedRNN,
    input_drive,
    leaky_recurrence,
)
from lib.core.seeds import STREAM_NOISE, step_seed, torch_generator
from lib.core.train import History, TrainConfig, TrainResult

_MEMBER_FIELD = "seed"  # the one TrainConfig field in which members may differ


# ---------------------------------------------------------------------------------------------
# The stacked network
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    """The architecture constants every member shares (from its ModulatedRNN)."""

    mechanism: str
    n_rec: int
    n_out: int
    alpha: float
    sigma_rec: float
    sigma_x: float
    activation: str


class StackedRNN:
    """S :class:`~lib.core.model.ModulatedRNN` s of one architecture as stacked (S, ...) tensors,
    run with one-hot contexts (one task per member and batch).

    ``params[name]`` is the stack of the members' parameter ``name`` (the ModulatedRNN names:
    W_in, W_rec, b, W_out, b_out and the mechanism's B, G, M, U, V, A, Bp); the ones named in
    ``trainable_names`` require grad (leaves for an optimizer), the others are constants.
    """

    def __init__(self, spec: _Spec, params: dict[str, torch.Tensor], trainable_names: list[str]):
        self.spec = spec
        self.params = params
        self.trainable_names = list(trainable_names)
        self._phi = F.softplus if spec.activation == "softplus" else torch.relu
        self.fused = True
        """Run the recurrence with :class:`lib.core.model.LeakyRecurrence` (hand-written
        backward); ``False`` records the plain loop with autograd (the tests' reference)."""

    @classmethod
    def from_models(cls, models: list[ModulatedRNN], trainable: str = "all") -> "StackedRNN":
        """Stack the members' parameters (copies); ``trainable`` as in
        :func:`lib.core.train.trainable_parameters` (same ValueError where it has none)."""
        first = models[0]
        spec = _Spec(
            first.mechanism,
            first.n_rec,
            first.n_out,
            first.alpha,
            first.sigma_rec,
            first.sigma_x,
            first.activation,
        )
        train_ids = {id(p) for p in train.trainable_parameters(first, trainable)}
        names = [n for n, _ in first.named_parameters()]
        trainable_names = [n for n, p in first.named_parameters() if id(p) in train_ids]
        params = {}
        for name in names:
            stacked = torch.stack([dict(m.named_parameters())[name].detach() for m in models])
            params[name] = stacked.requires_grad_(name in trainable_names)
        return cls(spec, params, trainable_names)

    @property
    def size(self) -> int:
        """S, the number of members in the stack."""
        return self.params["W_rec"].shape[0]

    @property
    def trainable(self) -> list[torch.Tensor]:
        """The stacked tensors an optimizer updates, in ``trainable_names`` order."""
        return [self.params[n] for n in self.trainable_names]

    def select(self, keep: torch.Tensor) -> "StackedRNN":
        """A new stack of members ``keep`` (long indices, in that order); fresh leaf tensors."""
        params = {
            n: t.detach().index_select(0, keep).requires_grad_(t.requires_grad)
            for n, t in self.params.items()
        }
        return StackedRNN(self.spec, params, self.trainable_names)

    @torch.no_grad()
    def load_into(self, i: int, model: ModulatedRNN) -> ModulatedRNN:
        """Copy member ``i``'s parameters into ``model`` (in place) and return it."""
        for name, p in model.named_parameters():
            p.copy_(self.params[name][i])
        return model

    # ------------------------------------------------------------------ context -> weights
    def effective(
        self, ks: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
        """Gain g (S, N), bias beta (S, N) (None where the mechanism has none), recurrent
        matrix W (S, N, N) and input-synapse factor (S, N) (``syn_prepost_in`` only, else None)
        of member m under context e_{ks[m]} (ks: (S,) long); differentiable w.r.t. the stacked
        parameters. See the module docstring for the formulas; the controls as in
        ``ModulatedRNN.forward``: ``exc_gain_rec``'s gain goes into the rows of W only."""
        p = self.params
        rows = torch.arange(ks.shape[0], device=ks.device)

        def task_row(name: str) -> torch.Tensor:  # p[name][m, ks[m]] for every member m
            return p[name][rows, ks]

        g = F.softplus(task_row("G") + G0) if "G" in p else None
        beta = task_row("B") if "B" in p else None
        W = p["W_rec"]
        if "M" in p:
            W = W * (1.0 + task_row("M"))
        elif "U" in p:
            W = W + torch.bmm(task_row("U"), task_row("V").transpose(1, 2)) / self.spec.n_rec
        elif "A" in p:
            W = (1.0 + task_row("A")).unsqueeze(-1) * W * (1.0 + task_row("Bp")).unsqueeze(1)
        in_gain = None
        if self.spec.mechanism in GAIN_ON_RECURRENT:
            assert g is not None  # every mechanism in GAIN_ON_RECURRENT has a gain (G)
            W, g = g.unsqueeze(-1) * W, None
        if self.spec.mechanism in SYN_ON_INPUT:
            in_gain = 1.0 + task_row("A")
        return g, beta, W, in_gain

    # ------------------------------------------------------------------ forward
    def __call__(
        self,
        xs: list[torch.Tensor],
        ks: torch.Tensor,
        generators: list[torch.Generator] | None = None,
        noise: bool = True,
    ) -> list[torch.Tensor]:
        """Outputs y_hat_m (T_m, B, n_out) of each member m for its inputs xs[m] (T_m, B, n_in)
        under context e_{ks[m]}; with ``noise``, drawn from ``generators[m]``.

        Bulk work is done per member, exactly as ``ModulatedRNN.forward`` does it for a shared
        context (same ops, same order, same random draws): the input drive of all steps
        (T_m B, N), one GEMM with the folded gain, bias, beta and noise
        (:func:`lib.core.model.input_drive`, the single model's own function), and the
        readout. Only the recurrence, T small ops per step, is batched over members: the drives
        are padded with zeros to T = max T_m and stacked time-major (T, S, B, N), so each step is
        one ``baddbmm`` over contiguous (S, B, N) slices. Per-member views of stacked tensors come
        from ``unbind``, never indexing (whose backward would fill a zero (T, S, B, N) per member).
        """
        spec, p = self.spec, self.params
        S, B, N = len(xs), xs[0].shape[1], spec.n_rec
        lengths = [x.shape[0] for x in xs]
        T = max(lengths)
        g, beta, W, in_gain = self.effective(ks)
        w_in, bias = p["W_in"], p["b"]
        if in_gain is not None:
            w_in = in_gain.unsqueeze(-1) * w_in
        if g is not None:  # fold the gain into every weight feeding z, as the single model does
            w_in, bias, W = g.unsqueeze(-1) * w_in, g * bias, g.unsqueeze(-1) * W
        addend = bias if beta is None else bias + beta  # (S, N)
        drives = []
        for m, (x, w_in_m, add_m) in enumerate(zip(xs, w_in.unbind(0), addend.unbind(0))):
            # the caller gives the generators whenever it asks for noise
            generator = cast("list[torch.Generator]", generators)[m] if noise else None
            drive = input_drive(
                x,
                w_in_m,
                add_m,
                None,
                None,
                noise,
                generator,
                alpha=spec.alpha,
                sigma_x=spec.sigma_x,
                sigma_rec=spec.sigma_rec,
            )
            if x.shape[0] < T:  # right padding: steps after T_m never reach the first T_m outputs
                drive = torch.cat([drive, drive.new_zeros(T - x.shape[0], B, N)])
            drives.append(drive)
        if self.fused:
            rates = leaky_recurrence(torch.stack(drives, 1), W, spec.alpha, spec.activation)
        else:
            Wt, phi, a = W.transpose(1, 2), self._phi, spec.alpha
            r = drives[0].new_zeros(S, B, N)
            states = []
            for drive_t in torch.stack(drives, 1).unbind(0):  # (S, B, N) per step
                r = torch.lerp(r, phi(torch.baddbmm(drive_t, r, Wt)), a)
                states.append(r)
            rates = torch.stack(states)
        y_hats = []
        for T_m, r_m, w_out, b_out in zip(
            lengths, rates.unbind(1), p["W_out"].unbind(0), p["b_out"].unbind(0)
        ):
            if T_m < T:
                r_m = r_m.narrow(0, 0, T_m)
            y = torch.addmm(b_out, r_m.reshape(T_m * B, N), w_out.t()).sigmoid_()
            y_hats.append(y.view(T_m, B, spec.n_out))
        return y_hats


# ---------------------------------------------------------------------------------------------
# Loss and step
# ---------------------------------------------------------------------------------------------
Batch = tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]
"""One member's ``(k, x, y, c_mask)``, as :func:`lib.core.train.training_batch` returns it."""


def member_losses(y_hats: list[torch.Tensor], batches: list[Batch]) -> torch.Tensor:
    """Each member's ``masked_mse`` on its own batch, (S,): L_m = mean over its
    T_m x B x n_out entries of ((y_hat - y) c_mask)^2."""
    return torch.stack(
        [
            masked_mse(y_hat, y, c_mask)
            for y_hat, (_, _, y, c_mask) in zip(y_hats, batches, strict=True)
        ]
    )


def ensemble_step(
    net: StackedRNN,
    optimizer: torch.optim.Optimizer,
    batches: list[Batch],
    generators: list[torch.Generator],
    grad_clip: float | None,
) -> torch.Tensor:
    """One training step of every member: forward with noise, member losses, backward of their
    sum (so each member gets its own gradient), elementwise clipping, optimizer step. Returns
    the losses (S,), detached, on the device (not read back: no host-device synchronisation)."""
    device = batches[0][1].device
    ks = torch.tensor([k for k, _, _, _ in batches], dtype=torch.long, device=device)
    y_hats = net([x for _, x, _, _ in batches], ks, generators)
    losses = member_losses(y_hats, batches)
    optimizer.zero_grad(set_to_none=True)
    losses.sum().backward()
    train.clip_gradients(net.trainable, grad_clip)
    optimizer.step()
    return losses.detach()


def _select_optimizer(
    optimizer: torch.optim.Adam,
    old: StackedRNN,
    new: StackedRNN,
    keep: torch.Tensor,
    lr: float,
    device: torch.device,
) -> torch.optim.Adam:
    """Adam for the stack ``new`` = ``old.select(keep)``: per-member state (exp_avg,
    exp_avg_sq: leading dim S) sliced along dim 0, shared state (the step count) copied."""
    out = train.make_optimizer(new.trainable, lr, device)
    S = old.size
    for p_old, p_new in zip(old.trainable, new.trainable, strict=True):
        state = optimizer.state.get(p_old)
        if state:
            out.state[p_new] = {
                key: (v.index_select(0, keep) if v.dim() > 0 and v.shape[0] == S else v.clone())
                for key, v in state.items()
            }
    return out


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def check_members(configs) -> list[TrainConfig]:
    """``configs`` as a list of TrainConfigs that may differ only in (distinct) seeds;
    ValueError naming the first offending field otherwise."""
    if isinstance(configs, TrainConfig) or not hasattr(configs, "__len__") or not configs:
        fail("configs", configs, "a non-empty list of TrainConfig")
    configs = list(configs)
    for i, c in enumerate(configs):
        if not isinstance(c, TrainConfig):
            fail(f"configs[{i}]", c, "a TrainConfig")
    base = configs[0]
    if base.init_from is not None:
        fail(
            "configs[0].init_from",
            base.init_from.to_dict(),
            "None: an ensemble starts from "
            "fresh weights (train networks that start from another's one by one, "
            "lib.core.train.train(config, init_state=...))",
        )
    if base.train_mix:
        fail(
            "configs[0].train_mix",
            base.train_mix,
            "0: an ensemble trains on one-hot contexts (train mixture-trained networks one by one)",
        )
    if base.filtered:
        fail(
            "configs[0].train_filter_*",
            tuple(base.filter_modes().values()),
            "('instant', 'instant'): an ensemble trains on one-hot contexts, which reduce to "
            "effective weights per member (train filter-trained networks one by one)",
        )
    seeds: dict[int, int] = {}
    for i, c in enumerate(configs):
        for f in dataclasses.fields(TrainConfig):
            mine, theirs = getattr(c, f.name), getattr(base, f.name)
            if f.name != _MEMBER_FIELD and mine != theirs:
                fail(
                    f"configs[{i}].{f.name}",
                    mine,
                    f"{theirs!r} as in configs[0] (ensemble members may differ only in "
                    f"{_MEMBER_FIELD})",
                )
        if c.seed in seeds:
            fail(
                f"configs[{i}].seed",
                c.seed,
                f"a seed not already used (configs[{seeds[c.seed]}]"
                " has it; a repeated member would only duplicate it)",
            )
        seeds[c.seed] = i
    return configs


def train_ensemble(
    configs: list[TrainConfig],
    progress: bool = True,
    device=None,
    checkpoint: str | Path | None = None,
) -> list[TrainResult]:
    """Train S networks at once; returns, per config, what ``lib.core.train.train(config)`` would.

    ``configs`` may differ only in ``seed`` (see :func:`check_members`); with a shared
    ``schedule_seed`` all members draw the same task each step (no padding), without it each
    draws its own. Each member is evaluated every ``eval_every`` steps through
    ``lib.core.train.evaluate`` on its own ModulatedRNN, stops at criterion independently (it is
    then removed from the stack), and gets a ``History`` as in ``train`` (``wall_s``: time since
    the ensemble started until its last evaluation or the end).

    ``checkpoint``: as in ``train``: resume from it if it holds this ensemble (otherwise warn and
    start over), rewrite it atomically at every evaluation, remove it at the end; a run killed
    and resumed gives the same result as an uninterrupted one. A member whose loss becomes NaN or
    infinite (checked at evaluations only, so a GPU never waits) ends as in ``train``: it leaves
    the stack with the network of its previous evaluation and ``history.diverged_at`` set.
    """
    configs = check_members(configs)
    base, S = configs[0], len(configs)
    device = torch.device(device) if device is not None else train.default_device()

    def fresh() -> tuple:
        models = [train.build_model(c).to(device) for c in configs]
        net = StackedRNN.from_models(models, base.trainable)
        return (
            models,
            net,
            train.make_optimizer(net.trainable, base.lr, device),
            [History(c.tasks) for c in configs],
            list(range(S)),
            0,
            0.0,
        )

    # active: member indices still in the stack, in stack order
    models, net, optimizer, histories, active, start, elapsed = fresh()
    keys = [c.to_dict() for c in configs]
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        try:
            state = torch.load(ckpt, map_location=device, weights_only=False)
            if state["configs"] != keys:
                raise ValueError("it was written for another ensemble")
            for m, sd in state["finished"].items():
                models[m].load_state_dict(sd)
            net = StackedRNN(
                net.spec,
                {n: t.requires_grad_(n in net.trainable_names) for n, t in state["params"].items()},
                net.trainable_names,
            )
            optimizer = train.make_optimizer(net.trainable, base.lr, device)
            optimizer.load_state_dict(state["optimizer"])
            histories = [History.from_dict(h) for h in state["histories"]]
            active, start, elapsed = list(state["active"]), state["step"], state["elapsed"]
        except Exception as err:  # noqa: BLE001 -- any unreadable checkpoint means: start over
            warnings.warn(f"checkpoint {ckpt} not used ({err}); training from step 0")
            models, net, optimizer, histories, active, start, elapsed = fresh()

    for i, m in enumerate(active):  # each member's ModulatedRNN holds its latest evaluated weights
        net.load_into(i, models[m])
    eval_batches = {m: train.evaluation_batches(configs[m], device) for m in active}
    t0 = time.perf_counter() - elapsed

    def evaluate_active(step: int, mean_losses: list[float]) -> None:
        for i, m in enumerate(active):
            histories[m].record(
                step,
                base.batch_size,
                mean_losses[i],
                train.evaluate(net.load_into(i, models[m]), configs[m], eval_batches[m]),
                time.perf_counter() - t0,
            )

    def drop_finished() -> None:  # members at criterion leave the stack, with their Adam state
        drop_members([m for m in active if train.at_criterion(histories[m], configs[m])])

    def drop_members(leaving: list[int]) -> None:
        nonlocal net, optimizer, active
        keep = [i for i, m in enumerate(active) if m not in leaving]
        if len(keep) < len(active):
            index = torch.tensor(keep, dtype=torch.long, device=device)
            new = net.select(index)
            optimizer = _select_optimizer(optimizer, net, new, index, base.lr, device)
            net, active = new, [active[i] for i in keep]

    if start == 0 and not histories[0].steps:
        evaluate_active(0, [float("nan")] * len(active))
        drop_finished()
    bar = tqdm(
        total=base.max_steps,
        initial=start,
        disable=not progress,
        leave=False,
        desc=f"ensemble {base.mechanism} N={base.n_rec} x{S}",
    )
    bar.set_postfix(training=f"{len(active)}/{S}")
    # Losses are summed on the device per member and read once per evaluation (no host-device
    # synchronisation per step); finiteness is checked there, before any checkpoint.
    loss_sum = torch.zeros(len(active), device=device)
    n_losses = 0
    step = start
    while step < base.max_steps and active:
        batches = [train.training_batch(configs[m], step, histories[m], device) for m in active]
        gens = [
            torch_generator(step_seed(configs[m].seed, STREAM_NOISE, step), device) for m in active
        ]
        loss_sum += ensemble_step(net, optimizer, batches, gens, base.grad_clip)
        n_losses += 1
        step += 1
        bar.update(1)
        if step % base.eval_every == 0 or step == base.max_steps:
            mean_losses = [v / n_losses for v in loss_sum.tolist()]  # as train: sum / count
            diverged = [m for m, v in zip(active, mean_losses) if not math.isfinite(v)]
            for m in diverged:  # models[m] still holds the weights of its previous evaluation
                histories[m].diverged_at = step
                warnings.warn(
                    train.divergence_message(
                        configs[m], step, n_losses, mean_losses[active.index(m)]
                    )
                )
            mean_losses = [v for m, v in zip(active, mean_losses) if m not in diverged]
            drop_members(diverged)
            evaluate_active(step, mean_losses)
            drop_finished()
            loss_sum, n_losses = torch.zeros(len(active), device=device), 0
            bar.set_postfix(
                training=f"{len(active)}/{S}", loss=f"{sum(mean_losses) / len(mean_losses):.4f}"
            )
            if ckpt is not None and step < base.max_steps and active:
                atomic_torch_save(
                    {
                        "configs": keys,
                        "step": step,
                        "elapsed": time.perf_counter() - t0,
                        "active": active,
                        "params": {n: t.detach() for n, t in net.params.items()},
                        "optimizer": optimizer.state_dict(),
                        "histories": [h.to_dict() for h in histories],
                        "finished": {
                            m: models[m].state_dict() for m in range(S) if m not in active
                        },
                    },
                    ckpt,
                )
    bar.close()
    for i, m in enumerate(active):  # members that ran the whole budget
        net.load_into(i, models[m])
        histories[m].wall_s = time.perf_counter() - t0
    if ckpt is not None and ckpt.exists():
        ckpt.unlink()
    results = []
    for c, model, h in zip(configs, models, histories):
        model.eval()
        results.append(TrainResult(c, model.cpu(), h))
    return results


__all__ = [
    "StackedRNN",
    "Batch",
    "member_losses",
    "ensemble_step",
    "check_members",
    "train_ensemble",
]
