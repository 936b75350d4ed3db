"""The network's anatomy: per-task budgets of the context pathways, and what a mixed context does.

Read-outs of :class:`lib.core.model.ModulatedRNN` for the model chapter (figures in
:mod:`lib.plots.model`):

- :func:`budget_table`: modulation parameters per task of every mechanism (and rank) at several
  N, from ``ModulatedRNN.params_per_task()``, with the groups of mechanisms whose budgets are
  equal at every N (the matched comparisons of the book).
- :func:`init_equivalence`: how far every mechanism starts from ``none`` (default initial
  modulation, and ``mod_init_std=0``, where all must coincide).
- :func:`rule_input_equivalence`: the bias pathway with g = 1 is Yang's rule input.
- :func:`mixture_path`: along ``c(l) = (1 - l) e_i + l e_j`` the effective gain g, bias beta and
  recurrent matrix W(c) (``ModulatedRNN.effective``): distance from their value at ``e_i`` and
  distance from the straight chord between the two endpoints.
- :func:`mixture_outputs`: one trial run under the whole range of mixtures at once (one batch,
  one context per trial).
- :func:`time_varying`: a context that switches from ``e_i`` to ``e_j`` mid-trial, given as a
  (T, B, K) tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from lib.core import tasks as yang_tasks
from lib.core.metrics import popvec
from lib.core.model import MECHANISMS, ModulatedRNN

RANKED = frozenset({"syn_lowrank", "hybrid"})
"""Mechanisms whose budget depends on the rank R."""

FORMULAS = {
    "none": "0",
    "exc_bias": "N",
    "exc_gain": "N",
    "exc": "2N",
    "syn_prepost": "2N",
    "syn_lowrank": "2NR",
    "syn_mask": "N²",
    "hybrid": "2N + 2NR",
    "exc_gain_rec": "N",
    "syn_prepost_in": "2N",
}
"""Per-task budget of each mechanism as a formula (the table of :mod:`lib.core.model`)."""

_TABLE_ORDER = (
    "none",
    "exc_bias",
    "exc_gain",
    "exc",
    "syn_prepost",
    "syn_lowrank",
    "syn_mask",
    "hybrid",
    "exc_gain_rec",
    "syn_prepost_in",
)
# E1's order (lib.experiments.VARIANTS): excitability, synaptic, both, then the two controls

QUANTITIES = ("gain", "bias", "W")
"""What :meth:`ModulatedRNN.effective` returns: g (N,), beta (N,), W(c) (N, N)."""


def label(mechanism: str, rank: int) -> str:
    """The E1 label of a mechanism and rank (``syn_lowrank_r1``, ``hybrid``, ``hybrid_r2``...)."""
    if mechanism == "syn_lowrank":
        return f"syn_lowrank_r{rank}"
    if mechanism == "hybrid" and rank != 1:
        return f"hybrid_r{rank}"
    return mechanism


def _check_sizes(name: str, values) -> tuple[int, ...]:
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ValueError(f"{name}={values!r}: expected a non-empty list of positive ints")
    return values


def budget_table(
    ns: Sequence[int] = (32, 64, 128, 256), ranks: Sequence[int] = (1, 2)
) -> pd.DataFrame:
    """Modulation parameters per task, one row per mechanism (and rank for the ranked ones).

    Columns: ``per task`` (the formula), ``N = n`` for each n in ``ns`` (counted by
    ``params_per_task()`` of a freshly built network), and ``matched with``: the other rows whose
    budget equals this row's at every N (empty if none; ``none`` is never matched).
    """
    ns, ranks = _check_sizes("ns", ns), _check_sizes("ranks", ranks)
    rows = []
    for mech in _TABLE_ORDER:
        for R in ranks if mech in RANKED else (1,):
            counts = {f"N = {n}": ModulatedRNN(mech, n, 1, rank=R).params_per_task() for n in ns}
            rows.append(
                {
                    "variant": label(mech, R),
                    "mechanism": mech,
                    "R": str(R) if mech in RANKED else "",
                    "per task": FORMULAS[mech],
                    **counts,
                }
            )
    df = pd.DataFrame(rows).set_index("variant")
    cols = [f"N = {n}" for n in ns]
    key = df[cols].apply(tuple, axis=1)
    df["matched with"] = [
        ", ".join(v for v in df.index[(key == key[lab]) & (df.index != lab)])
        if df.at[lab, cols[0]]
        else ""
        for lab in df.index
    ]
    return df


@torch.no_grad()
def init_equivalence(
    n_rec: int, tasks: Sequence[str], rank: int = 1, seed: int = 0, trial_seed: int = 0
) -> pd.DataFrame:
    """How far each mechanism is from ``none`` at initialisation: max |y - y_none| and
    max |r - r_none|, noise off, at the default initial modulation and at ``mod_init_std=0``.

    The networks are built with the same ``seed`` (so the same shared weights) and run on one
    trial of each task in ``tasks`` (noise-free inputs) under a random non-negative context per
    trial (rows of a Dirichlet draw, so neither one-hot nor zero), the same for every network.
    Zero in the ``mod_init_std = 0`` columns means the shared weights are drawn identically for
    every mechanism and zero modulation parameters modulate nothing.
    """
    tasks = tuple(tasks)
    rng = np.random.default_rng(trial_seed)
    K = len(tasks)
    inputs = [
        (
            torch.from_numpy(yang_tasks.make_batch(t, 1, rng, noise=False).x),
            torch.as_tensor(rng.dirichlet(np.ones(K))[None], dtype=torch.float32),
        )
        for t in tasks
    ]

    def run(mech: str, std: float | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        net = ModulatedRNN(mech, n_rec, K, rank=rank, seed=seed, mod_init_std=std)
        return [net(x, c, noise=False) for x, c in inputs]

    def gap(a, b, i: int) -> float:
        return max(float((o[i] - n[i]).abs().max()) for o, n in zip(a, b))

    ref = run("none", None)
    rows = []
    for mech in MECHANISMS:
        default, zero = run(mech, None), run(mech, 0.0)
        rows.append(
            {
                "mechanism": mech,
                "max |y - y_none| (default init)": gap(default, ref, 0),
                "max |r - r_none| (default init)": gap(default, ref, 1),
                "max |y - y_none| (mod_init_std = 0)": gap(zero, ref, 0),
                "max |r - r_none| (mod_init_std = 0)": gap(zero, ref, 1),
            }
        )
    return pd.DataFrame(rows).set_index("mechanism")


@torch.no_grad()
def rule_input_equivalence(
    n_rec: int, tasks: Sequence[str], seed: int = 0, trial_seed: int = 0
) -> float:
    """Max |y_bias - y_rule| over one trial of each task: an ``exc_bias`` network with random B
    and context e_k against Yang's architecture, a ``none`` network with K extra inputs (rule
    units, one-hot e_k) whose input columns are B^T and the same other weights, noise off.

    Zero up to float rounding shows that beta(e_k) = B e_k added after the gain g = 1 is exactly
    Yang's rule input W_in,rule e_k.
    """
    tasks = tuple(tasks)
    K = len(tasks)
    net = ModulatedRNN("exc_bias", n_rec, K, seed=seed)
    net.B.copy_(torch.randn(K, n_rec, generator=torch.Generator().manual_seed(seed + 1)))
    yang = ModulatedRNN("none", n_rec, K, n_in=net.n_in + K, seed=seed)
    yang.W_in.copy_(torch.cat([net.W_in, net.B.T], dim=1))
    for name in ("W_rec", "b", "W_out", "b_out"):
        getattr(yang, name).copy_(getattr(net, name))
    rng = np.random.default_rng(trial_seed)
    worst = 0.0
    for k, task in enumerate(tasks):
        x = torch.from_numpy(yang_tasks.make_batch(task, 1, rng, noise=False).x)
        e = _unit(K, k)
        rule = e.expand(x.shape[0], 1, K)
        y, _ = net(x, e[None], noise=False)
        y_rule, _ = yang(torch.cat([x, rule], dim=-1), e[None], noise=False)
        worst = max(worst, float((y - y_rule).abs().max()))
    return worst


def _unit(K: int, k: int) -> torch.Tensor:
    if not 0 <= k < K:
        raise ValueError(f"task index {k!r} is out of range for K = {K} contexts")
    return torch.eye(K)[k]


def _check_ls(ls) -> np.ndarray:
    ls = np.asarray(ls, dtype=float)
    if ls.ndim != 1 or not len(ls) or not np.isfinite(ls).all():
        raise ValueError(f"ls={ls!r}: expected a non-empty 1-d list of finite mixture weights")
    return ls


@torch.no_grad()
def mixture_path(model: ModulatedRNN, i: int, j: int, ls: Sequence[float]) -> pd.DataFrame:
    """How the effective modulation moves along ``c(l) = (1 - l) e_i + l e_j``.

    For each l and each quantity q in :data:`QUANTITIES` (from ``model.effective(c(l))``):
    ``distance`` = |q(l) - q(0)| (Euclidean; Frobenius for W), ``span`` = |q(1) - q(0)|,
    ``relative`` = distance / span and ``off_chord`` = |q(l) - ((1 - l) q(0) + l q(1))| / span:
    zero for every l when q is affine in c (bias, mask, low-rank), nonzero when it is not (the
    softplus gain, the bilinear pre/post product). Both are nan where the mechanism leaves q
    unchanged (span 0).
    """
    ls = _check_ls(ls)
    ei, ej = _unit(model.n_tasks, i), _unit(model.n_tasks, j)
    q0, q1 = model.effective(ei), model.effective(ej)
    rows = []
    for l in ls:
        ql = model.effective((1 - l) * ei + l * ej)
        for name, a, b, q in zip(QUANTITIES, q0, q1, ql):
            span = float(torch.linalg.norm(b - a))
            dist = float(torch.linalg.norm(q - a))
            chord = float(torch.linalg.norm(q - ((1 - l) * a + l * b)))
            ok = span > 1e-12 * max(1.0, float(torch.linalg.norm(a)))
            rows.append(
                {
                    "l": float(l),
                    "quantity": name,
                    "distance": dist,
                    "span": span,
                    "relative": dist / span if ok else np.nan,
                    "off_chord": chord / span if ok else np.nan,
                }
            )
    return pd.DataFrame(rows)


@torch.no_grad()
def mixture_outputs(
    model: ModulatedRNN,
    batch: yang_tasks.Batch,
    i: int,
    j: int,
    ls: Sequence[float],
    trial: int = 0,
    task_j: str | None = None,
) -> dict:
    """One trial of ``batch`` run under every mixture ``c(l) = (1 - l) e_i + l e_j`` at once.

    The trial is repeated L = len(ls) times in one batch with one context per copy (a per-trial
    (L, K) context: the batched mixed-context path of the model), noise off. Returns ``ls``;
    ``y`` (L, T, 33) outputs; ``fixation`` (L,) and ``angle`` (L,) at the last step (output 0 and
    the population-vector angle of outputs 1-32); ``target`` the angle the trial asks for (-1:
    fixate); ``target_j`` the angle task ``task_j`` would ask for on the same trial where that is
    defined and is a response (``lib.core.tasks.target_under``: its conflict partner), else
    None.
    """
    ls = _check_ls(ls)
    ei, ej = _unit(model.n_tasks, i), _unit(model.n_tasks, j)
    x = torch.from_numpy(batch.x[:, trial : trial + 1]).expand(-1, len(ls), -1)
    c = torch.stack([(1 - l) * ei + l * ej for l in ls.tolist()])
    y, _ = model(x, c, noise=False)
    y = y.permute(1, 0, 2).numpy()
    target = float(batch.y_loc[-1, trial])
    other = yang_tasks.target_under(batch.conditions, task_j) if task_j is not None else None
    target_j = float(other[trial]) if other is not None and other[trial] >= 0 else None
    return {
        "ls": ls,
        "y": y,
        "fixation": y[:, -1, 0],
        "angle": popvec(y[:, -1, 1:]),
        "target": target,
        "target_j": target_j,
    }


@torch.no_grad()
def time_varying(
    model: ModulatedRNN, batch: yang_tasks.Batch, i: int, j: int, t_switch: int, trial: int = 0
) -> dict:
    """A mid-trial context switch, and two consistency checks of the (T, B, K) context path.

    One trial is run as a batch of two with a (T, 2, K) context: copy 0 gets ``e_i`` at every
    step, copy 1 gets ``e_i`` before ``t_switch`` and ``e_j`` from it on; the trial is also run
    with the constant contexts ``e_i`` and ``e_j`` given as (B, K). Returns the three outputs
    ``y_switch``, ``y_i``, ``y_j`` (T, 33), their population-vector angles ``angle_switch``,
    ``angle_i``, ``angle_j`` (T,), ``t_switch``, and ``max_diff_constant`` =
    max |copy 0 - y_i| (the time-varying path against the shared-context path) and
    ``max_diff_before`` = max |copy 1 - y_i| before the switch (causality).
    """
    x = torch.from_numpy(batch.x[:, trial : trial + 1])
    Tn = x.shape[0]
    if not 0 < t_switch < Tn:
        raise ValueError(f"t_switch={t_switch!r}: must lie inside the trial, 0 < t_switch < {Tn}")
    ei, ej = _unit(model.n_tasks, i), _unit(model.n_tasks, j)
    c = ei.repeat(Tn, 2, 1)
    c[t_switch:, 1] = ej
    y, _ = model(x.expand(-1, 2, -1), c, noise=False)
    y_i, _ = model(x, ei[None], noise=False)
    y_j, _ = model(x, ej[None], noise=False)
    out = {"y_switch": y[:, 1].numpy(), "y_i": y_i[:, 0].numpy(), "y_j": y_j[:, 0].numpy()}
    return {
        **out,
        **{"angle_" + k[2:]: popvec(v[:, 1:]) for k, v in out.items()},
        "t_switch": t_switch,
        "max_diff_constant": float((y[:, 0] - y_i[:, 0]).abs().max()),
        "max_diff_before": float((y[:t_switch, 1] - y_i[:t_switch, 0]).abs().max()),
    }


__all__ = [
    "RANKED",
    "FORMULAS",
    "QUANTITIES",
    "label",
    "budget_table",
    "init_equivalence",
    "rule_input_equivalence",
    "mixture_path",
    "mixture_outputs",
    "time_varying",
]
