"""E2: robustness of trained networks to ambiguous, noisy, scaled, missing or mistimed context.

Every probe evaluates a network trained on clean one-hot contexts on its fixed evaluation trials
(``lib.core.train.evaluation_batches``) with a corrupted context ``c``; performance is Yang's
(:func:`lib.core.metrics.performance`). The probes (SPEC §5 E2), with ``e_i`` the one-hot context of
the task whose trials are shown and K the number of tasks:

* mixture    ``c = (1 - l) e_i + l e_j``, l in [0, 1], on trials of task i and of task j;
* noise      ``c = e_i + s eta``, eta ~ N(0, I) frozen per trial (B, K) or fresh per step (T, B, K);
* dilution   ``c = (1 - eps) e_i + eps 1/K``;
* scale      ``c = k e_i``;
* missing    ``c = 0``;
* timed (the context changes within a trial, at the epochs of the task generator,
  :func:`probe_windows`): *delay removed* ``c = 0`` during the delay epoch(s), ``e_i`` elsewhere
  (tasks with a delay only, nan elsewhere); *go only* ``c = 0`` before the go epoch, ``e_i``
  from it; *mid-trial switch* ``e_i`` until the stimulus offset (the middle of the stimulus
  epoch where the stimulus stays on), ``e_j`` after it.

Every trial's outcome (:data:`OUTCOMES`) compares its last-step response with task i's answer and
with the answer of i's conflict partner j on the same trial (``lib.core.tasks.target_under``).

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

from lib.core import tasks as yang_tasks
from lib.core.checks import fail
from lib.core.metrics import TOLERANCE, mean_perf, performance
from lib.core.params import Param, float_in, int_in, resolve
from lib.core.seeds import STREAM_EVAL, STREAM_PROBE, one_hot, step_seed, torch_generator
from lib.core.train import (
    SMALL_WORK_THREADS,
    TrainConfig,
    TrainResult,
    evaluation_batches,
    torch_threads,
)
from lib.core.types import Networks
from lib.experiments import plan
from lib.experiments.runner import NetworkResult

PANEL = (
    ("fdgo", "fdanti"),
    ("delaygo", "delayanti"),
    ("contextdm1", "contextdm2"),
    ("dmsgo", "dmsnogo"),
)
"""The fixed panel of task pairs (Go/Anti, DlyGo/DlyAnti, CtxDM1/CtxDM2, DMS/DNMS)."""

OUTCOMES = ("correct", "collapse", "switch", "blend")
"""Per-trial outcome at the last step, judged as Yang's performance (fixation output > 1/2 =
fixating; a response is at an angle if its population vector is within ``TOLERANCE`` = 0.2 pi):

* ``correct``: task i's answer;
* ``switch``: not correct, but the answer of i's conflict partner j on the same trial
  (``lib.core.tasks.target_under``): the opposite angle (Go/Anti), the choice on the other
  modality (Ctx DM 1/2), the opposite go/no-go (DMS/DNMS; there fixating on a go trial *is* the
  partner's answer, so it counts as switch, not collapse);
* ``collapse``: neither, fixating where a response was due;
* ``blend``: any other wrong response (elsewhere on the ring, or a response where fixation was due
  and the partner does not respond there either).

Where j is not i's partner (no answer of j is defined on i's trials) ``switch`` and ``blend`` are
nan (undefined, not 0); ``1 - correct - collapse`` is the wrong responses then."""


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
        return cls(
            _grid(0, 1, p.n_lambda),
            _grid(0, p.max_noise, p.n_noise),
            _grid(0, 1, p.n_dilution),
            _grid(0, p.max_scale, p.n_scale),
        )

    @classmethod
    def from_profile(cls, profile: str | None = None, **overrides) -> "ProbeSpec":
        return cls.from_params(resolve(PROBE_PARAMS, profile, **overrides))


CONFLICT_PAIRS: tuple[tuple[str, str], ...] = tuple(
    (a, b)
    for a, b in yang_tasks.COUNTERPARTS.items()
    if list(yang_tasks.COUNTERPARTS).index(a) < list(yang_tasks.COUNTERPARTS).index(b)
)
"""Every conflict pair of the battery (:data:`lib.core.tasks.COUNTERPARTS`): Go/Anti, RT Go/RT
Anti, Dly Go/Dly Anti, Ctx DM 1/2, Ctx Dly DM 1/2, DMS/DNMS, DMC/DNMC; E2's pair set at the scale
of the whole battery (:class:`PairProbeSpec`)."""


@dataclass(frozen=True)
class PairProbeSpec(ProbeSpec):
    """A :class:`ProbeSpec` whose mixtures and mid-trial switches are probed on those of the
    task pairs ``pairs`` that the network was trained on (every pair of the network's tasks
    without it: the 190 pairs of 20 tasks cost ~27 times the 7 conflict pairs). The per-task
    probes are unchanged. Its artifact key holds the pairs, so probes of a pair set never
    collide with :class:`ProbeSpec` ones."""

    pairs: tuple[tuple[str, str], ...] = CONFLICT_PAIRS

    def __post_init__(self):
        pairs = tuple(tuple(p) for p in self.pairs)
        if not pairs or any(
            len(p) != 2 or p[0] == p[1] or any(t not in yang_tasks.TASKS for t in p) for p in pairs
        ):
            fail(
                "pairs",
                self.pairs,
                "a non-empty tuple of pairs of two different task names of lib.core.tasks.TASKS",
            )
        object.__setattr__(self, "pairs", pairs)

    @classmethod
    def of(cls, probe: ProbeSpec, pairs=CONFLICT_PAIRS) -> "PairProbeSpec":
        """``probe``'s grids on the task pairs ``pairs``."""
        return cls(probe.lambdas, probe.noise_levels, probe.dilutions, probe.scales, tuple(pairs))


def probe_pairs(spec: ProbeSpec, tasks) -> list[tuple[int, int]]:
    """The index pairs (i, j) of ``tasks`` whose mixtures ``spec`` probes: every pair
    (:func:`pairs_of`), or those of a :class:`PairProbeSpec`'s pairs whose two tasks are in
    ``tasks`` (at least one must be)."""
    tasks = list(tasks)
    if not isinstance(spec, PairProbeSpec):
        return pairs_of(tuple(tasks))
    out = [(tasks.index(a), tasks.index(b)) for a, b in spec.pairs if a in tasks and b in tasks]
    if not out:
        fail("pairs", spec.pairs, f"at least one pair of the network's tasks {tasks}")
    return out


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


def _answers(y_hat: torch.Tensor, target: np.ndarray) -> np.ndarray:
    """Per trial (B,) bool: does the last step give ``target`` (B,) (rad, -1 = fixate)?"""
    with np.errstate(invalid="ignore", divide="ignore"):  # see lib.core.metrics.mean_perf
        return performance(y_hat[-1:], np.asarray(target, np.float64)[None]).astype(bool)


def outcomes(y_hat: torch.Tensor, y_loc: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """Fractions of trials per ``OUTCOMES`` category, shape (4,); ``other`` (B,) is the answer of
    task i's conflict partner on the same trials (None: undefined, then switch and blend are
    nan)."""
    target = np.asarray(y_loc)[-1]
    correct = _answers(y_hat, target)
    fixating = (y_hat[-1, :, 0] > 0.5).cpu().numpy()
    if other is None:
        collapse = ~correct & fixating & (target >= 0)
        return np.array([correct.mean(), collapse.mean(), np.nan, np.nan])
    if np.shape(other) != target.shape:
        raise ValueError(
            f"other: expected shape {target.shape} (one answer per trial), got {np.shape(other)}"
        )
    switch = ~correct & _answers(y_hat, other)
    collapse = ~correct & ~switch & fixating & (target >= 0)
    blend = ~correct & ~switch & ~collapse
    return np.array([correct.mean(), collapse.mean(), switch.mean(), blend.mean()])


def same_answer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per trial: do two answers (rad, -1 = fixate) coincide (both fixate, or both respond within
    ``TOLERANCE``)? Where they do, a switch cannot be told from a correct response."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = np.abs(a - b) % (2 * np.pi)
    near = np.minimum(d, 2 * np.pi - d) < TOLERANCE
    return np.where((a < 0) | (b < 0), (a < 0) & (b < 0), near)


def evaluation_conditions(config) -> list[yang_tasks.Conditions]:
    """The conditions of the evaluation trials (``lib.core.train.evaluation_batches`` draws and
    renders them with the same generators; :class:`Prober` checks they agree)."""
    return [
        yang_tasks.sample_conditions(
            task, config.eval_trials, np.random.default_rng(step_seed(config.seed, STREAM_EVAL, k))
        )
        for k, task in enumerate(config.tasks)
    ]


def _bound(v: int | None, default: int) -> int:
    return default if v is None else int(v)


def probe_windows(conditions: yang_tasks.Conditions) -> dict:
    """The steps at which the timed probes change the context, from the generator's epochs:

    * ``delay``: the delay epochs ``[(on, off), ...]`` (Yang's ``delay1``, ``delay2``; [] if none);
    * ``go``: the first step of the go epoch (``go1``: fixation offset; test onset in the match
      tasks, whose fixation input stays on);
    * ``switch``: the stimulus offset (end of ``stim1``) if every stimulus shown during ``stim1``
      ends there, else (the stimulus stays on into the response) the middle of ``stim1``; None for
      a task without a ``stim1`` epoch (RT Go/Anti).
    """
    if not isinstance(conditions, yang_tasks.Conditions):
        raise ValueError(
            f"conditions must be a Conditions instance, got {type(conditions).__name__}"
        )
    ep, tdim = conditions.epochs, conditions.tdim
    if "go1" not in ep:
        raise ValueError(f"{conditions.task}: no go1 epoch in {sorted(ep)}")
    delay = [
        (_bound(on, 0), _bound(off, tdim))
        for name, (on, off) in ep.items()
        if name.startswith("delay")
    ]
    switch = None
    if "stim1" in ep:
        on, off = _bound(ep["stim1"][0], 0), _bound(ep["stim1"][1], tdim)
        during = [e for e in conditions.events if e.kind == "stim" and int(e.ons.min()) < off]
        stays = any(int(e.offs.max()) > off for e in during)
        switch = (on + off) // 2 if stays else off
    return {"delay": delay, "go": _bound(ep["go1"][0], 0), "switch": switch}


def piecewise_context(T_steps: int, base: torch.Tensor, pieces=()) -> torch.Tensor:
    """A time-varying context (T, B, K): ``base`` (B, K) at every step, replaced by ``value``
    (B, K) on each ``(on, off, value)`` of ``pieces`` (half-open steps, later pieces win)."""
    if isinstance(T_steps, bool) or not isinstance(T_steps, (int, np.integer)) or T_steps < 1:
        raise ValueError(f"T_steps={T_steps!r} must be a positive int")
    if not isinstance(base, torch.Tensor) or base.dim() != 2:
        raise ValueError(f"base must be a (B, K) tensor, got {getattr(base, 'shape', base)!r}")
    c = base.expand(T_steps, *base.shape).clone()
    for piece in pieces:
        if len(piece) != 3:
            raise ValueError(f"a piece is (on, off, value), got {piece!r}")
        on, off, value = piece
        if not (
            isinstance(on, (int, np.integer))
            and isinstance(off, (int, np.integer))
            and 0 <= on <= off <= T_steps
        ):
            raise ValueError(
                f"piece steps on={on!r}, off={off!r}: need ints with "
                f"0 <= on <= off <= T = {T_steps}"
            )
        if tuple(value.shape) != tuple(base.shape):
            raise ValueError(
                f"piece value has shape {tuple(value.shape)}, expected {tuple(base.shape)}"
            )
        c[on:off] = value
    return c


class Prober:
    """Runs one network on its evaluation trials under arbitrary contexts: E2's probes
    (:func:`probe_network`) and the live explorer's views (:mod:`lib.analysis.explorer`).

    Every probe of a task uses the same network noise (common random numbers: the generator of
    stream ``STREAM_PROBE`` and the task), so differences between probes are due to the context
    alone and a zero corruption reproduces clean performance exactly.

    Attributes: ``cfg`` (the network's :class:`TrainConfig`), ``model``, ``K`` (tasks),
    ``conditions`` (each task's evaluation conditions) and ``trials``: each task's inputs x
    (T, B, 65) and answers y_loc (T, B), the trials of :func:`lib.core.train.evaluation_batches`
    (their targets and loss masks are not kept). ``shared`` is a dict kept by the caller in which
    probers of networks with the same evaluation trials (seed, tasks, number) share them, so that
    many networks' probers hold one copy.
    """

    def __init__(self, result: TrainResult, shared: dict | None = None):
        self.result, self.cfg = result, result.config
        self.model = result.model.eval()
        self.conditions = evaluation_conditions(self.cfg)
        self.K = len(self.cfg.tasks)
        key = (self.cfg.seed, tuple(self.cfg.tasks), self.cfg.eval_trials)
        if shared is not None and key in shared:
            self.trials: list[tuple[torch.Tensor, np.ndarray]] = shared[key]
        else:
            self.trials = [(x, y_loc) for x, _, _, y_loc in evaluation_batches(self.cfg)]
            if shared is not None:
                shared[key] = self.trials
        for c, (x, y_loc) in zip(self.conditions, self.trials):
            own = yang_tasks.target_under(c, c.task)  # None: no rule-derived answer (DM tasks)
            if c.tdim != x.shape[0] or (
                own is not None
                and not np.array_equal(own.astype(np.float32), np.asarray(y_loc)[-1])
            ):
                raise RuntimeError(
                    f"{c.task}: the probe's trial conditions differ from the "
                    "evaluation trials (lib.core.train.evaluation_batches)"
                )

    def eye(self, k: int, B: int | None = None) -> torch.Tensor:
        """Task k's own context e_k for B trials (default: every evaluation trial), (B, K)."""
        return one_hot(k, self.K, self.cfg.eval_trials if B is None else B)

    def other(self, k: int, j: int) -> np.ndarray | None:
        """Task j's answer on task k's trials (None where undefined)."""
        return yang_tasks.target_under(self.conditions[k], self.cfg.tasks[j])

    @torch.no_grad()
    def run_with_rates(
        self, k: int, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Task k's evaluation trials under context ``c`` ((B, K), or (T, B, K) varying in
        time) with the probe noise: outputs (T, B, 33), rates (T, B, N), answers y_loc (T, B)."""
        x, y_loc = self.trials[k]
        gen = torch_generator(step_seed(self.cfg.seed, STREAM_PROBE, k), x.device)
        y_hat, rates = self.model(x, c, noise=True, generator=gen)
        return y_hat, rates, y_loc

    def run(self, k: int, c: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """:meth:`run_with_rates` without the rates: outputs (T, B, 33), answers (T, B)."""
        y_hat, _, y_loc = self.run_with_rates(k, c)
        return y_hat, y_loc

    def perf(self, k: int, c: torch.Tensor) -> float:
        """Task k's mean performance under context ``c`` (:meth:`run`)."""
        return mean_perf(*self.run(k, c))

    def timed(self, k: int, pieces) -> tuple[torch.Tensor, np.ndarray]:
        """Task k's trials with context ``e_k`` replaced on the ``(on, off, value)`` pieces."""
        return self.run(k, piecewise_context(self.trials[k][0].shape[0], self.eye(k), pieces))

    def delay_removed(self, k: int, windows=None) -> float:
        """Performance with c = 0 on the delay epochs (default: the task's own; nan if none)."""
        windows = probe_windows(self.conditions[k])["delay"] if windows is None else windows
        if not windows:
            return np.nan
        zero = torch.zeros_like(self.eye(k))
        return mean_perf(*self.timed(k, [(on, off, zero) for on, off in windows]))

    def go_only(self, k: int, onset: int | None = None) -> float:
        """Performance with c = 0 before ``onset`` (default: the go epoch), e_k from it."""
        onset = probe_windows(self.conditions[k])["go"] if onset is None else onset
        return mean_perf(*self.timed(k, [(0, onset, torch.zeros_like(self.eye(k)))]))

    def mid_switch(self, k: int, j: int, at: int | None = None) -> np.ndarray:
        """Outcomes (4,) of task k's trials with e_k until ``at`` (default: the stimulus offset,
        :func:`probe_windows`) and e_j from it on; nan where the task has no such time."""
        at = probe_windows(self.conditions[k])["switch"] if at is None else at
        if at is None:
            return np.full(len(OUTCOMES), np.nan)
        T_k = self.trials[k][0].shape[0]
        y_hat, y_loc = self.timed(k, [(at, T_k, self.eye(j))])
        return outcomes(y_hat, y_loc, self.other(k, j))


def probe_network(result: TrainResult, spec: ProbeSpec) -> dict:
    """Every E2 probe on one network; arrays indexed by (level, task) or (pair, l).

    ``out_i``/``out_j`` (pair, l, 4): outcomes (:data:`OUTCOMES`) of the mixture on task i's and
    task j's trials; ``congruent`` (pair, 2): the fraction of task i's (j's) trials on which the
    partner's answer is the task's own (there a switch looks correct; nan where undefined);
    ``delay_removed``, ``go_only`` (K,); ``mid_switch`` (pair, 2, 4): outcomes on task i's trials
    switched to e_j, and on task j's trials switched to e_i.
    """
    P = Prober(result)
    K, tasks = P.K, P.cfg.tasks
    B = P.cfg.eval_trials
    pairs = probe_pairs(spec, tasks)
    lam = np.array(spec.lambdas)
    n_out = len(OUTCOMES)
    mix_i = np.zeros((len(pairs), len(lam)))
    mix_j = np.zeros_like(mix_i)
    out_i = np.zeros((len(pairs), len(lam), n_out))
    out_j = np.zeros_like(out_i)
    congruent = np.full((len(pairs), 2), np.nan)
    mid_switch = np.zeros((len(pairs), 2, n_out))
    for p, (i, j) in enumerate(pairs):
        for side, (k, other) in enumerate(((i, j), (j, i))):
            answer = P.other(k, other)
            if answer is not None:
                own = np.asarray(P.trials[k][1])[-1]
                congruent[p, side] = same_answer(own, answer).mean()
            mid_switch[p, side] = P.mid_switch(k, other)
        for a, l in enumerate(lam):
            c = (1 - l) * P.eye(i, B) + l * P.eye(j, B)
            for k, other, perf_arr, out_arr in ((i, j, mix_i, out_i), (j, i, mix_j, out_j)):
                y_hat, y_loc = P.run(k, c)
                perf_arr[p, a] = mean_perf(y_hat, y_loc)
                out_arr[p, a] = outcomes(y_hat, y_loc, P.other(k, other))
    gen = torch.Generator().manual_seed(P.cfg.seed)
    eta_frozen = torch.randn(B, K, generator=gen)
    noise_frozen = np.array(
        [[P.perf(k, P.eye(k, B) + s * eta_frozen) for k in range(K)] for s in spec.noise_levels]
    )
    noise_fresh = np.zeros_like(noise_frozen)
    for k in range(K):
        T_k = P.trials[k][0].shape[0]
        eta = torch.randn(T_k, B, K, generator=gen)
        for a, s in enumerate(spec.noise_levels):
            noise_fresh[a, k] = P.perf(k, P.eye(k, B) + s * eta)
    dilution = np.array(
        [[P.perf(k, (1 - e) * P.eye(k, B) + e / K) for k in range(K)] for e in spec.dilutions]
    )
    scale = np.array([[P.perf(k, s * P.eye(k, B)) for k in range(K)] for s in spec.scales])
    missing = np.array([P.perf(k, torch.zeros(B, K)) for k in range(K)])
    delay_removed = np.array([P.delay_removed(k) for k in range(K)])
    go_only = np.array([P.go_only(k) for k in range(K)])
    clean = np.array([P.perf(k, P.eye(k, B)) for k in range(K)])
    return {
        "tasks": list(tasks),
        "pairs": [list(q) for q in pairs],
        "spec": asdict(spec),
        "clean": clean,
        "mix_i": mix_i,
        "mix_j": mix_j,
        "out_i": out_i,
        "out_j": out_j,
        "congruent": congruent,
        "noise_frozen": noise_frozen,
        "noise_fresh": noise_fresh,
        "dilution": dilution,
        "scale": scale,
        "missing": missing,
        "delay_removed": delay_removed,
        "go_only": go_only,
        "mid_switch": mid_switch,
    }


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
    auc = np.where(
        ok,
        np.trapezoid(perf, lam, axis=1) / (lam[-1] - lam[0]) / np.maximum(clean, 1e-9)
        if len(lam) > 1
        else 1.0,
        np.nan,
    )
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


PROBES = NetworkResult("ambiguity", "probe", f"{__name__}.probe_network")
"""E2's probes as per-network artifacts (:class:`lib.experiments.runner.NetworkResult`)."""
probe_key = PROBES.key
probe_artifact = PROBES.artifact


def run_ambiguity(
    nets: Networks,
    profile: str | None = None,
    workers: int = 1,
    force: bool = False,
    probe: ProbeSpec | None = None,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """E2 on the given networks {(label, seed): TrainResult} (the caller picks which, e.g. the E1
    variants without the ablations): {(label, seed): probe results}, cached as artifacts.

    If probes must be computed, their plan is printed first; a plan longer than
    :data:`lib.experiments.plan.LONG_RUN_S` raises ``PlanTooLong`` before any probe unless
    ``allow_long``."""
    probe = probe or ProbeSpec.from_profile(profile)
    configs = {k: res.config for k, res in nets.items()}
    keys = {k: probe_key(c, probe) for k, c in configs.items()}
    return PROBES.run(
        nets,
        probe,
        lambda todo: plan.probe_part(configs, probe, keys, workers, todo=todo),
        workers,
        force,
        progress,
        allow_long,
        desc="probing networks",
    )


def pair_probe_forwards(tasks, probe: PairProbeSpec) -> int:
    """Forward passes of :func:`probe_network` with a :class:`PairProbeSpec` on a network of
    ``tasks`` (an upper bound: a mid-trial switch and a delay probe counted for every task):
    both tasks of each probed pair at every mixture weight and switched mid-trial; the per-task
    probes as in :func:`lib.experiments.plan.probe_forwards`."""
    per_task = 2 * len(probe.noise_levels) + len(probe.dilutions) + len(probe.scales) + 4
    pairs = len(probe_pairs(probe, tasks))
    return 2 * pairs * (len(probe.lambdas) + 1) + len(tasks) * per_task


def conflict_probe_part(
    nets: dict,
    probe: PairProbeSpec,
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "E2 probes on the conflict pairs",
) -> plan.Part:
    """The plan part of the pair-set probes of ``nets`` {key: TrainResult or TrainConfig}."""

    def seconds(config: TrainConfig, probe: PairProbeSpec) -> float:
        cost = plan.measure_cost(config)
        forwards = pair_probe_forwards(config.tasks, probe)
        return forwards * cost.eval_s / len(config.tasks) + cost.setup_s

    return PROBES.part(
        nets,
        probe,
        seconds,
        f"{len(probe.pairs)} task pairs, {len(probe.lambdas)} mixture weights",
        label,
        workers,
        force,
        todo,
    )


def run_conflict_probes(
    nets: Networks,
    probe: PairProbeSpec,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """E2 with mixtures and switches on a pair set only (:class:`PairProbeSpec`; for networks
    of the whole battery, :data:`CONFLICT_PAIRS`): {(label, seed): probe results}, cached as
    ``ambiguity`` artifacts, planned and run as :func:`run_ambiguity`."""
    if not isinstance(probe, PairProbeSpec):
        fail("probe", probe, "a PairProbeSpec (PairProbeSpec.of(ProbeSpec..., pairs))")
    return PROBES.run(
        nets,
        probe,
        lambda todo: conflict_probe_part(nets, probe, workers, todo=todo),
        workers,
        force,
        progress,
        allow_long,
        desc="probing conflict pairs",
    )


@torch.no_grad()
def example(result: TrainResult, task_i: str, task_j: str, l: float = 0.5, trial: int = 0) -> dict:
    """One trial of ``task_i`` under ``c = (1-l) e_i + l e_j``: outputs (T, 33), the answer task i
    asks for, the answer task j would give on the same trial (``lib.core.tasks.target_under``;
    -1 = fixate, None where undefined) and the trial's outcome (one of ``OUTCOMES``, or "wrong"
    where task j has no answer defined on task i's trials and the response is neither correct nor a
    collapse). Run on :data:`lib.core.train.SMALL_WORK_THREADS` torch threads, as the probes'
    worker jobs are."""
    with torch_threads(SMALL_WORK_THREADS):
        P = Prober(result)
        i, j = P.cfg.tasks.index(task_i), P.cfg.tasks.index(task_j)
        y_hat, y_loc = P.run(i, (1 - l) * P.eye(i) + l * P.eye(j))
    other = P.other(i, j)
    target_i = float(np.asarray(y_loc)[-1, trial])
    one = y_hat[:, trial : trial + 1]
    frac = outcomes(
        one,
        np.asarray(y_loc)[:, trial : trial + 1],
        None if other is None else other[trial : trial + 1],
    )
    outcome = OUTCOMES[int(np.nanargmax(frac))] if np.nanmax(frac) > 0 else "wrong"
    return {
        "y_hat": one[:, 0].numpy(),
        "target_i": target_i,
        "target_j": None if other is None else float(other[trial]),
        "outcome": outcome,
    }


FULL_BATTERY_PROBE = PairProbeSpec(
    lambdas=_grid(0, 1, 11),
    noise_levels=_grid(0, 1.0, 3),
    dilutions=_grid(0, 1, 3),
    scales=_grid(0, 2.0, 5),
    pairs=CONFLICT_PAIRS,
)
"""E2's probes on networks of the whole battery: the quick profile's mixture grid (11 weights)
on the 7 conflict pairs, and coarser per-task grids (3 noise levels, 3 dilutions, 5 scales on the
quick profile's ranges) so that one N = 128 network of 20 tasks costs ~530 forward passes
(about 1.5 min on one core) instead of the ~4,600 of every pair on the quick grids."""
