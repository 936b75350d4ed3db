"""E2: robustness of trained networks to ambiguous, noisy, scaled, missing or late context.

Every probe evaluates a network trained on clean one-hot contexts on its fixed evaluation trials
(``lib.core.train.evaluation_batches``) with a corrupted context ``c``; performance is Yang's
(:func:`lib.core.metrics.performance`). The probes (SPEC §5 E2), with ``e_i`` the one-hot context of
the task whose trials are shown and K the number of tasks:

* mixture    ``c = (1 - l) e_i + l e_j``, l in [0, 1], on trials of task i and of task j;
* noise      ``c = e_i + s eta``, eta ~ N(0, I) frozen per trial (B, K) or fresh per step (T, B, K);
* dilution   ``c = (1 - eps) e_i + eps 1/K``;
* scale      ``c = k e_i``;
* missing    ``c = 0``; late: ``c = 0`` before the first stimulus onset, ``e_i`` from it on.

Summaries of a mixture curve, for the task with the larger weight ("dominant", l < 1/2):
``auc`` = mean over l in [0, 1/2) of perf(l) / perf(0) (1 = unaffected by the intruding context)
and ``l_leave`` = the smallest l at which performance leaves criterion (linear interpolation;
1/2 if it never does before the contexts are tied). Both need the task at criterion when clean.
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lib import artifacts
from lib.core.metrics import mean_perf, performance
from lib.core.params import Param, float_in, int_in, resolve
from lib.core.statespace import stim_onset
from lib.core.seeds import STREAM_PROBE, one_hot, step_seed, torch_generator
from lib.core.train import TrainResult, evaluation_batches
from lib.experiments import plan
from lib.experiments.runner import load_or_train, run_jobs

PANEL = (("fdgo", "fdanti"), ("delaygo", "delayanti"), ("contextdm1", "contextdm2"),
         ("dmsgo", "dmsnogo"))
"""The fixed panel of task pairs (Go/Anti, DlyGo/DlyAnti, CtxDM1/CtxDM2, DMS/DNMS)."""

OUTCOMES = ("correct", "collapse", "wrong")
"""Per-trial outcome at the last step: correct; fixating where a response was due (collapse);
responding in the wrong place or where fixation was due (a switch to the other task or a
blend)."""


def _grid(lo: float, hi: float, n: int) -> tuple[float, ...]:
    return tuple(float(v) for v in np.round(np.linspace(lo, hi, n), 6))


@dataclass(frozen=True)
class ProbeSpec:
    """The grids of every probe."""

    lambdas: tuple[float, ...]
    noise_levels: tuple[float, ...]
    dilutions: tuple[float, ...]
    scales: tuple[float, ...]

    @classmethod
    def from_params(cls, p) -> "ProbeSpec":
        """From validated parameters (``lib.experiments.chapter_params("ambiguity", ...)``)."""
        return cls(_grid(0, 1, p.n_lambda), _grid(0, p.max_noise, p.n_noise),
                   _grid(0, 1, p.n_dilution), _grid(0, p.max_scale, p.n_scale))

    @classmethod
    def from_profile(cls, profile: str | None = None, **overrides) -> "ProbeSpec":
        return cls.from_params(resolve(PROBE_PARAMS, profile, **overrides))


def panel_pairs(tasks) -> list[tuple[str, str]]:
    """The ``PANEL`` pairs present in a task set (else its first two tasks)."""
    pairs = [(a, b) for a, b in PANEL if a in tasks and b in tasks]
    return pairs or [(tasks[0], tasks[1])]


PROBE_PARAMS: dict[str, Param] = {
    "n_lambda": Param(int_in(3, 101), 5, 11, 21, "mixture weights l on [0, 1]"),
    "n_noise": Param(int_in(2, 51), 3, 6, 11, "context-noise levels on [0, max_noise]"),
    "max_noise": Param(float_in(0.01, 10), 1.0, 1.0, 1.0, "largest context-noise s.d."),
    "n_dilution": Param(int_in(2, 51), 3, 6, 11, "dilution levels on [0, 1]"),
    "n_scale": Param(int_in(3, 51), 3, 9, 17, "context scales on [0, max_scale]"),
    "max_scale": Param(float_in(0.1, 10), 2.0, 2.0, 2.0, "largest context scale k"),
}


def pairs_of(tasks: tuple[str, ...]) -> list[tuple[int, int]]:
    """All unordered task pairs (i < j) as index pairs."""
    return list(itertools.combinations(range(len(tasks)), 2))


def outcomes(y_hat: torch.Tensor, y_loc: np.ndarray) -> np.ndarray:
    """Fractions of trials per ``OUTCOMES`` category, shape (3,)."""
    with np.errstate(invalid="ignore", divide="ignore"):  # see lib.core.metrics.mean_perf
        correct = performance(y_hat, y_loc).astype(bool)
    fixating = (y_hat[-1, :, 0] > 0.5).cpu().numpy()
    collapse = ~correct & fixating & (np.asarray(y_loc)[-1] >= 0)
    wrong = ~correct & ~collapse
    return np.array([correct.mean(), collapse.mean(), wrong.mean()])


class _Prober:
    """Runs one network on its evaluation trials with arbitrary contexts.

    Every probe of a task uses the same network noise (common random numbers), so differences
    between probes are due to the context alone and a zero corruption reproduces clean
    performance exactly.
    """

    def __init__(self, result: TrainResult):
        self.result, self.cfg = result, result.config
        self.model = result.model.eval()
        self.batches = evaluation_batches(self.cfg)
        self.K = len(self.cfg.tasks)

    def eye(self, k: int, B: int) -> torch.Tensor:
        return one_hot(k, self.K, B)

    @torch.no_grad()
    def run(self, k: int, c: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        x, _, _, y_loc = self.batches[k]
        gen = torch_generator(step_seed(self.cfg.seed, STREAM_PROBE, k), x.device)
        y_hat, _ = self.model(x, c, noise=True, generator=gen)
        return y_hat, y_loc

    def perf(self, k: int, c: torch.Tensor) -> float:
        return mean_perf(*self.run(k, c))


def probe_network(result: TrainResult, spec: ProbeSpec) -> dict:
    """Every E2 probe on one network; arrays indexed by (level, task) or (pair, l)."""
    P = _Prober(result)
    K, tasks = P.K, P.cfg.tasks
    B = P.cfg.eval_trials
    pairs = pairs_of(tasks)
    lam = np.array(spec.lambdas)
    mix_i = np.zeros((len(pairs), len(lam)))
    mix_j = np.zeros_like(mix_i)
    out_i = np.zeros((len(pairs), len(lam), 3))
    out_j = np.zeros_like(out_i)
    for p, (i, j) in enumerate(pairs):
        for a, l in enumerate(lam):
            c = (1 - l) * P.eye(i, B) + l * P.eye(j, B)
            for k, perf_arr, out_arr in ((i, mix_i, out_i), (j, mix_j, out_j)):
                y_hat, y_loc = P.run(k, c)
                perf_arr[p, a] = mean_perf(y_hat, y_loc)
                out_arr[p, a] = outcomes(y_hat, y_loc)
    gen = torch.Generator().manual_seed(P.cfg.seed)
    eta_frozen = torch.randn(B, K, generator=gen)
    noise_frozen = np.array([[P.perf(k, P.eye(k, B) + s * eta_frozen) for k in range(K)]
                             for s in spec.noise_levels])
    noise_fresh = np.zeros_like(noise_frozen)
    for k in range(K):
        T_k = P.batches[k][0].shape[0]
        eta = torch.randn(T_k, B, K, generator=gen)
        for a, s in enumerate(spec.noise_levels):
            noise_fresh[a, k] = P.perf(k, P.eye(k, B) + s * eta)
    dilution = np.array([[P.perf(k, (1 - e) * P.eye(k, B) + e / K) for k in range(K)]
                         for e in spec.dilutions])
    scale = np.array([[P.perf(k, s * P.eye(k, B)) for k in range(K)] for s in spec.scales])
    missing = np.array([P.perf(k, torch.zeros(B, K)) for k in range(K)])
    late = np.zeros(K)
    for k in range(K):
        x = P.batches[k][0]
        onset = stim_onset(x)
        c = P.eye(k, B).expand(x.shape[0], B, K).clone()
        c[:onset] = 0.0
        late[k] = P.perf(k, c)
    clean = np.array([P.perf(k, P.eye(k, B)) for k in range(K)])
    return {"tasks": list(tasks), "pairs": [list(q) for q in pairs], "spec": asdict(spec),
            "clean": clean, "mix_i": mix_i, "mix_j": mix_j, "out_i": out_i, "out_j": out_j,
            "noise_frozen": noise_frozen, "noise_fresh": noise_fresh, "dilution": dilution,
            "scale": scale, "missing": missing, "late": late}


def ordered_curves(res: dict) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Mixture curves of the dominant task for every ordered pair (a, b): (labels, l, perf).

    ``perf[q, m]`` = performance of task a at intruder weight ``l[m]`` (l < 1/2): for (i, j) it
    is ``mix_i`` at l, for (j, i) it is ``mix_j`` at 1 - l.
    """
    lam = np.asarray(res["spec"]["lambdas"])
    lo = lam < 0.5 - 1e-9
    labels, rows = [], []
    for p, (i, j) in enumerate(res["pairs"]):
        labels.append((res["tasks"][i], res["tasks"][j]))
        rows.append(res["mix_i"][p][lo])
        labels.append((res["tasks"][j], res["tasks"][i]))
        rows.append(res["mix_j"][p][::-1][lo])
    return labels, lam[lo], np.array(rows)


def robustness(res: dict, criterion: float = 0.9) -> dict[str, np.ndarray]:
    """``auc`` and ``l_leave`` (see module doc) per ordered pair; nan where not learned."""
    labels, lam, perf = ordered_curves(res)
    clean = perf[:, 0]
    ok = clean >= criterion
    auc = np.where(ok, np.trapezoid(perf, lam, axis=1) / (lam[-1] - lam[0]) / np.maximum(clean, 1e-9)
                   if len(lam) > 1 else 1.0, np.nan)
    l_leave = np.full(len(labels), np.nan)
    for q in np.flatnonzero(ok):
        below = np.flatnonzero(perf[q] < criterion)
        if not below.size:
            l_leave[q] = 0.5
        else:
            m = below[0]
            p0, p1 = perf[q, m - 1], perf[q, m]
            l_leave[q] = lam[m - 1] + (lam[m] - lam[m - 1]) * (p0 - criterion) / (p0 - p1)
    return {"labels": labels, "auc": auc, "l_leave": l_leave}


def _probe_job(job: tuple) -> None:
    net_cfg, spec = job
    probe_artifact(load_or_train(net_cfg, progress=False), spec)


def probe_artifact(result: TrainResult, spec: ProbeSpec) -> dict:
    """The probes of one network, loaded from its artifact or computed and saved."""
    return artifacts.load_or_compute("ambiguity", probe_key(result.config, spec),
                                     lambda: probe_network(result, spec))


def probe_key(net_config, spec: ProbeSpec) -> dict:
    """The artifact config of the probes of one network."""
    return {"network": net_config.to_dict(), "probe": asdict(spec)}


def run_ambiguity(nets: dict, profile: str | None = None, workers: int = 1,
                  force: bool = False, probe: ProbeSpec | None = None,
                  progress: bool = True, allow_long: bool = False) -> dict:
    """E2 on the given networks {(label, seed): TrainResult} (the caller picks which, e.g. the E1
    variants without the ablations): {(label, seed): probe results}, cached as artifacts.

    If probes must be computed, their plan is printed first; a plan longer than
    :data:`lib.experiments.plan.LONG_RUN_S` raises ``PlanTooLong`` before any probe unless
    ``allow_long``."""
    probe = probe or ProbeSpec.from_profile(profile)
    if force:
        for res in nets.values():
            artifacts.paths("ambiguity", probe_key(res.config, probe))[0].unlink(missing_ok=True)
    todo = {k: (res.config, probe) for k, res in nets.items()
            if not artifacts.has("ambiguity", probe_key(res.config, probe))}
    if todo and not artifacts.no_train():
        configs = {k: res.config for k, res in nets.items()}
        keys = {k: probe_key(c, probe) for k, c in configs.items()}
        plan.require(plan.Plan([plan.probe_part(configs, probe, keys, workers,
                                                todo=list(todo))]), allow_long)
    run_jobs(_probe_job, todo, workers, desc="probing networks", progress=progress)
    return {k: probe_artifact(res, probe) for k, res in nets.items()}


ANTI_PAIRS = {("fdgo", "fdanti"), ("delaygo", "delayanti"), ("reactgo", "reactanti")}
"""Pairs whose two answers on the same stimulus are opposite angles."""


@torch.no_grad()
def example(result: TrainResult, task_i: str, task_j: str, l: float = 0.5,
            trial: int = 0) -> dict:
    """One trial of ``task_i`` under ``c = (1-l) e_i + l e_j``: outputs (T, 33), the angle task i
    asks for, the angle task j would ask for on the same stimulus (pro/anti pairs only, else
    None) and the trial's outcome (one of ``OUTCOMES``)."""
    P = _Prober(result)
    i, j = P.cfg.tasks.index(task_i), P.cfg.tasks.index(task_j)
    B = P.cfg.eval_trials
    y_hat, y_loc = P.run(i, (1 - l) * P.eye(i, B) + l * P.eye(j, B))
    target_i = float(np.asarray(y_loc)[-1, trial])
    target_j = ((target_i + np.pi) % (2 * np.pi)
                if (task_i, task_j) in ANTI_PAIRS and target_i >= 0 else None)
    one = y_hat[:, trial:trial + 1]
    frac = outcomes(one, np.asarray(y_loc)[:, trial:trial + 1])
    return {"y_hat": one[:, 0].numpy(), "target_i": target_i, "target_j": target_j,
            "outcome": OUTCOMES[int(np.argmax(frac))]}
