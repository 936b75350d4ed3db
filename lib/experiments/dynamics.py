"""E4: the dynamics each context pathway induces (claim C4), computed once per trained network and
cached as a ``dynamics`` artifact.

For every E1 network, on its fixed evaluation trials with noise off (``lib.core.statespace``,
``lib.core.dynamics``):

* per task: participation ratio of the activity from stimulus onset on, and the context drive
  (how strongly the task's context moves the units' input) of the trained network and of the same
  network at initialisation;
* Yang's task variance (K, N), its unit clusters (k by silhouette);
* per conflict pair (i, j) of :data:`lib.experiments.ambiguity.PANEL` in the task set:
  - a shared PCA of both tasks' activity, with a few trials of each projected on 3 PCs;
  - principal angles between the two tasks' subspaces (D PCs each, D explaining 90%);
  - the fractional task variance of every active unit;
  - the **operating point** under each context (where the network settles from rest under the
    fixation input) and its displacement between contexts, relative to the activity's spread;
  - the **flow change**: at the states and inputs both tasks visit, how much switching the context
    from e_i to e_j changes the velocity F(r) - r, split into a translation and a reshaping;
  - the effective connectivity diag(phi'(z) g) W(c) at each operating point, its eigenvalues, and
    its relative change between contexts (each at its own operating point, and both at task i's);
  - the fixed points along c(l) = (1 - l) e_i + l e_j (continuation) and the operating point at
    each l (where the network settles from rest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lib.core import dynamics
from lib.core import statespace
from lib.core.params import Param, int_in, resolve
from lib.core.train import TrainResult, build_model, evaluation_batches
from lib.core.types import Networks
from lib.experiments import plan
from lib.experiments.ambiguity import PANEL
from lib.experiments.runner import NetworkResult

CRITERION = 0.9
"""Yang's criterion: a task is learned when its final performance reaches it."""
N_PCS = 3
"""PCs of the shared state space drawn per pair."""
FLOW_STATES = 2048
"""Visited (state, input) samples at which the flow change is measured, per pair."""
VARIANCE_EXPLAINED = 0.9
"""Each task's subspace: the fewest PCs explaining this fraction of its variance."""

DYNAMICS_PARAMS: dict[str, Param] = {
    "n_lambda_fp": Param(
        int_in(2, 401), 5, 21, 41, "mixture weights l on [0, 1] of the fixed-point continuation"
    ),
    "fp_starts": Param(
        int_in(1, 4096),
        8,
        16,
        64,
        "random starting states per fixed-point search (plus as many visited)",
    ),
    "n_show": Param(int_in(1, 64), 4, 8, 8, "trials per task drawn in the state-space figure"),
}


@dataclass(frozen=True)
class DynamicsSpec:
    """What :func:`analyse_network` computes: the continuation's l grid, the starts per fixed-
    point search and the trials drawn per task."""

    lambdas: tuple[float, ...]
    n_starts: int
    n_show: int

    @classmethod
    def from_params(cls, p) -> "DynamicsSpec":
        lam = tuple(float(v) for v in np.round(np.linspace(0, 1, p.n_lambda_fp), 6))
        return cls(lam, p.fp_starts, p.n_show)

    @classmethod
    def from_profile(cls, profile: str | None = None, **overrides) -> "DynamicsSpec":
        return cls.from_params(resolve(DYNAMICS_PARAMS, profile, **overrides))


def conflict_pairs(tasks) -> list[tuple[int, int]]:
    """Index pairs (i, j) of the :data:`PANEL` pairs present in ``tasks``."""
    tasks = list(tasks)
    return [(tasks.index(a), tasks.index(b)) for a, b in PANEL if a in tasks and b in tasks]


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a))))


@torch.no_grad()
def analyse_network(result: TrainResult, spec: DynamicsSpec) -> dict:
    """Every E4 measure of one network (see the module docstring). Arrays are numpy; tasks are
    indexed as in ``result.config.tasks``."""
    cfg, model = result.config, result.model.eval()
    tasks, K = list(cfg.tasks), len(cfg.tasks)
    eye = torch.eye(K, dtype=torch.float64)
    batches = evaluation_batches(cfg)
    rates = statespace.task_rates(model, batches)
    onsets = [statespace.stim_onset(b[0]) for b in batches]
    after = [r[t0:].reshape(-1, r.shape[-1]).double().numpy() for r, t0 in zip(rates, onsets)]
    tv = statespace.task_variance(model, batches, rates)
    final = result.history.perf_array()[-1]
    out = {
        "tasks": tasks,
        "mechanism": cfg.mechanism,
        "final_perf": final,
        "context_drive": statespace.context_drive(model, batches, cfg.seed, rates),
        "context_drive_init": statespace.context_drive(build_model(cfg).eval(), batches, cfg.seed),
        "learned": final >= CRITERION,
        "pr": np.array([statespace.participation_ratio(X) for X in after]),
        "task_variance": tv,
        "clusters": statespace.cluster_units(tv, seed=cfg.seed),
        "pairs": {},
    }
    rng = np.random.default_rng(cfg.seed)
    for i, j in conflict_pairs(tasks):
        out["pairs"][tasks[i], tasks[j]] = _analyse_pair(
            model, spec, batches, rates, onsets, after, tv, i, j, eye, rng
        )
    return out


def _analyse_pair(
    model,
    spec: DynamicsSpec,
    batches,
    rates,
    onsets,
    after,
    tv,
    i: int,
    j: int,
    eye: torch.Tensor,
    rng: np.random.Generator,
) -> dict:
    X = np.concatenate([after[i], after[j]])
    mean, comps, _ = statespace.pca(X)
    show = {}
    for k in (i, j):
        r = rates[k][:, : spec.n_show].double().numpy()  # (T, n_show, N)
        show[k] = (r - mean) @ comps[:, :N_PCS]  # (T, n_show, 3)
    own = {k: statespace.pca(after[k]) for k in (i, j)}  # each task's own PCA
    d = min(
        max(statespace.n_components(own[k][2], VARIANCE_EXPLAINED) for k in (i, j)),
        model.n_rec // 2,
    )
    angles = statespace.principal_angles(own[i][1][:, :d], own[j][1][:, :d])

    # the flow change, at (state, input) samples that both tasks' trials visit
    states, inputs = [], []
    for k in (i, j):
        x, r = batches[k][0], rates[k]
        t0 = onsets[k]
        # r[t] is the state after step t; the velocity there is driven by the input of step t + 1
        states.append(r[t0:-1].reshape(-1, r.shape[-1]))
        inputs.append(x[t0 + 1 :].reshape(-1, x.shape[-1]))
    states, inputs = torch.cat(states).double(), torch.cat(inputs).double()
    pick = rng.choice(len(states), min(FLOW_STATES, len(states)), replace=False)
    flow = dynamics.flow_change(
        dynamics.freeze(model, inputs[pick], eye[i]),
        dynamics.freeze(model, inputs[pick], eye[j]),
        states[pick],
    )

    u_fix = batches[i][0][0, 0].double()  # fixation input only
    ops, spectra, speeds, maps, E = {}, {}, {}, {}, {}
    for k in (i, j):
        maps[k] = dynamics.freeze(model, u_fix, eye[k])
        ops[k], speeds[k] = dynamics.operating_point(maps[k])
        E[k] = maps[k].effective(torch.as_tensor(ops[k]).unsqueeze(0))[0]
        spectra[k] = torch.linalg.eigvals(E[k]).numpy()
    # change of the effective connectivity between contexts: each at its own operating point, and
    # both at task i's (which isolates what the context does to the weights and gains)
    norm_i = float(E[i].norm())
    E_j_at_i = maps[j].effective(torch.as_tensor(ops[i]).unsqueeze(0))[0]
    e_change = {
        "own": float((E[j] - E[i]).norm()) / norm_i,
        "common": float((E_j_at_i - E[i]).norm()) / norm_i,
    }
    spread = float(np.sqrt(X.var(0).mean()))
    displacement = _rms(ops[i] - ops[j]) / spread if spread > 0 else float("nan")

    # continuation along the mixture, started from visited states and random ones
    init = states[rng.choice(len(states), min(spec.n_starts, len(states)), replace=False)]
    cont = None
    track = np.full(len(spec.lambdas), np.nan)
    axis = ops[j] - ops[i]
    if model.mechanism != "none":
        cont = dynamics.continuation(
            model,
            u_fix,
            eye[i],
            eye[j],
            spec.lambdas,
            n_init=spec.n_starts,
            seed=int(rng.integers(2**31)),
            init=init,
        )
        if float(axis @ axis) > 0:
            for a, l in enumerate(spec.lambdas):
                o, speed = dynamics.operating_point(
                    dynamics.freeze(model, u_fix, (1 - l) * eye[i] + l * eye[j])
                )
                if speed < dynamics.SPEED_TOL:
                    track[a] = float((o - ops[i]) @ axis / (axis @ axis))
    return {
        "pcs": comps[:, :N_PCS],
        "pca_mean": mean,
        "show_i": show[i],
        "show_j": show[j],
        "angles": angles,
        "subspace_dim": d,
        "ftv": statespace.fractional_task_variance(tv, i, j),
        "flow": flow,
        "op_i": ops[i],
        "op_j": ops[j],
        "op_speed": (speeds[i], speeds[j]),
        "displacement": displacement,
        "spread": spread,
        "spectrum_i": spectra[i],
        "spectrum_j": spectra[j],
        "e_change": e_change,
        "continuation": None
        if cont is None
        else {"table": cont.table, "points": cont.points, "events": cont.events},
        "op_track": track,
    }


DYNAMICS = NetworkResult("dynamics", "dynamics", f"{__name__}.analyse_network")
"""E4's analyses as per-network artifacts (:class:`lib.experiments.runner.NetworkResult`)."""
dynamics_key = DYNAMICS.key
dynamics_artifact = DYNAMICS.artifact


SECONDS_PER_POINT_N64 = 0.5
"""Measured cost of one continuation step (one l of one pair) at N = 64 on one core, seconds;
it scales about as N^2 (the Jacobians and batched solves)."""


def dynamics_seconds(net_config, spec: DynamicsSpec) -> float:
    """Estimated single-core seconds of :func:`analyse_network` on a network of ``net_config``."""
    pairs = len(conflict_pairs(net_config.tasks))
    return 5.0 + pairs * len(spec.lambdas) * SECONDS_PER_POINT_N64 * (net_config.n_rec / 64) ** 2


def dynamics_part(
    nets: Networks,
    spec: DynamicsSpec,
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "E4 dynamics",
) -> plan.Part:
    """The plan part of E4's analyses of ``nets`` {key: TrainResult or TrainConfig}."""
    return DYNAMICS.part(
        nets,
        spec,
        dynamics_seconds,
        f"{len(spec.lambdas)} mixture weights per conflict pair",
        label,
        workers,
        force,
        todo,
    )


def run_dynamics(
    nets: Networks,
    spec: DynamicsSpec,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """E4 on the given networks {(label, seed): TrainResult}: {(label, seed): analyses}, cached
    as artifacts. When anything must be computed its plan is printed first, and a plan longer
    than :data:`lib.experiments.plan.LONG_RUN_S` stops before any work unless ``allow_long``."""
    return DYNAMICS.run(
        nets,
        spec,
        lambda todo: dynamics_part(nets, spec, workers, todo=todo),
        workers,
        force,
        progress,
        allow_long,
        desc="analysing dynamics",
    )


__all__ = [
    "DYNAMICS_PARAMS",
    "DynamicsSpec",
    "CRITERION",
    "conflict_pairs",
    "analyse_network",
    "dynamics_key",
    "dynamics_artifact",
    "dynamics_seconds",
    "dynamics_part",
    "run_dynamics",
]
