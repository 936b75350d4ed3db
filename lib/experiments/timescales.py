"""E5 (claim C5), first part: modulation as a dynamical variable. Switch costs and brief context
errors of E1's trained networks when each pathway's modulation follows the cue with its own time
constant. Nothing is trained here: the networks are E1's, evaluated on sequences of trials.

**Model.** In E1 a pathway receives the task cue c directly. Here each pathway p in {exc, syn}
receives its own *modulation state* m_p, which follows the cue c = e_k of the task being cued
with one of three time courses (:data:`MODES`):

* ``instant``: m = c (E1's setting, the reference);
* ``fast``: within a trial, step by step, m(t+1) = m(t) + (c(t) - m(t)) dt / tau_fast, with
  dt = ``lib.core.tasks.DT`` = 20 ms per step (the network's own time constant is
  tau_net = dt / alpha = 100 ms), carried across trial boundaries: a switch costs the first
  steps of the new trial. The network receives m(t) at step t, so it receives the old cue at the
  first step after a switch;
* ``slow``: constant within a trial, updated between trials as a low-pass of the cues over
  trials, m_{n+1} = m_n + (c_n - m_n) / tau_slow (tau_slow in trials): trial n receives m_n,
  built from the cues of the trials before it.

Every sequence starts at the fixed point of its filters (m = the first trial's cue), so the first
block is at steady state. The network's own state resets between trials (Yang et al.'s trials are
independent); only the modulation states carry over. The hybrid's exc pathway (gain and bias)
receives m_exc as its context ``c`` and its synaptic pathway m_syn as ``syn_context``
(:meth:`lib.core.model.ModulatedRNN.forward`); a pathway a network lacks ignores its state.

**Assignments** (:data:`ASSIGNMENTS`): the hybrid under (exc fast, syn slow), (exc slow, syn
fast), both fast, both slow, both instant; single-pathway networks (``exc`` and
``syn_lowrank_r1``, the matched 2N budget) under fast, slow and instant modulation (the uniform
assignments; a split is the same as a uniform one for a network with one pathway).

**Sequences**, one per conflict pair (i, j) of the task set (the E2 panel pairs,
:func:`lib.experiments.ambiguity.panel_pairs`), so that every switch goes between two tasks that
see the same stimuli but ask for different answers:

* ``blocked``: ``n_blocks`` blocks of ``block`` trials alternating i, j, i, ...;
* ``interleaved``: ``n_interleaved`` trials, each task drawn at random (i or j, equally likely)
  from a seeded stream;
* ``error`` (the brief context error): for each task t of the pair, within a block of t, one
  lead trial, one trial whose *cue* is the partner's (the task itself unchanged), then
  ``error_after`` trials of t cued correctly.

The batch dimension holds ``draws`` independent condition draws of the same sequence (so the
trials of one position share their task and length). Trial conditions and network noise are
drawn from :data:`lib.core.seeds.STREAM_TIMESCALES` (:func:`draw_index`), the same for every
assignment (common random numbers): differences between assignments are due to the modulation
alone. The **reference** of every trial is the same trial with the modulation at its fixed point
for the true task (m = e_task for both pathways: the steady state that every filter reaches
under a constant cue), so a cost per trial is ``reference - performance`` on identical trials
and noise. On the blocked and interleaved sequences the reference is the instant assignment.

Performance is Yang's (:func:`lib.core.metrics.performance`), per trial the mean over the draws.

The filters themselves (:func:`fast_filter`, :func:`slow_filter`, the state of :class:`Modulation`)
are :mod:`lib.core.filters`, shared with training under a filter.

**Trained under the filter** (issue 19, "the filter in the loop"). The networks above were
trained with the instant cue and are tested under filtered modulation. :data:`TRAINED_UNDER`
names networks of the same labels trained under the assignments they are tested with
(``TrainConfig.train_filter_exc`` / ``train_filter_syn``, :mod:`lib.core.filters`: each training
trial's context is the state its pathway's filter leaves after a random history of earlier cues,
switching with probability ``lib.core.filters.TRAIN_SWITCH_PROB`` = 0.25, E5's pooled switch
rate): the hybrid under each split assignment, ``exc`` and ``syn_lowrank_r1`` under their fast
and their slow filter. :func:`filter_trained_configs` / :func:`filter_trained_networks` give them,
keyed (``"<label>@<assignment>"``, seed); E1's network of the label and seed is the
instant-trained control, probed on the same sequences (:func:`probe_network` draws them from the
seed, not from the training). Each is probed (:func:`run_filter_trained`) under the assignment
it was trained for and under ``both_instant`` (:func:`trained_spec`); the smoke profile ships
them, another profile trains them on request (``python -m lib.experiments --profile quick
--filter-trained``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lib.core import tasks as yang_tasks
from lib.core.checks import check_number, fail
from lib.core import filters
from lib.core.filters import MODES, ModulationState, fast_filter, slow_filter
from lib.core.metrics import mean_perf
from lib.core.model import PATHWAYS, mechanism_pathways
from lib.core.params import Param, float_in, float_list, int_in, resolve, subset
from lib.core.seeds import STREAM_TIMESCALES, step_seed, torch_generator
from lib.core.train import TrainResult
from lib.core.types import Networks
from lib.experiments import plan
from lib.experiments.ambiguity import panel_pairs
from lib.experiments.battery import BatterySpec
from lib.experiments.runner import NetworkResult, run_configs, shipped_networks

DT_MS = yang_tasks.DT
"""Milliseconds per step of the task generator: the fast filter's step."""


ASSIGNMENTS: dict[str, tuple[str, str]] = {
    "exc_fast_syn_slow": ("fast", "slow"),
    "exc_slow_syn_fast": ("slow", "fast"),
    "both_fast": ("fast", "fast"),
    "both_slow": ("slow", "slow"),
    "both_instant": ("instant", "instant"),
}
"""Assignment -> (mode of the excitability pathway, mode of the synaptic pathway)."""

ASSIGNMENT_NAMES: dict[str, str] = {
    "exc_fast_syn_slow": "exc fast · syn slow",
    "exc_slow_syn_fast": "exc slow · syn fast",
    "both_fast": "both fast",
    "both_slow": "both slow",
    "both_instant": "both instant",
}
"""How the book names each assignment."""

SPLIT = ("exc_fast_syn_slow", "exc_slow_syn_fast")
"""The hybrid's split time-scales (C5's candidates)."""
UNIFORM = ("both_fast", "both_slow", "both_instant")
"""The assignments that give both pathways the same time course (the only ones a network with
a single pathway gets)."""

NETWORK_LABELS = ("hybrid", "exc", "syn_lowrank_r1")
"""E1's networks probed: the hybrid (both pathways) and each pathway alone at the matched 2N
budget."""

SENSITIVITY_LABELS = ("hybrid",)
"""The networks probed again at each ``tau_fast_checks`` value: the C5 rule compares the
hybrid's assignments only."""

SCHEDULE_CODES = {"blocked": 0, "interleaved": 1, "error_i": 2, "error_j": 3}
"""Schedule part of :func:`draw_index` (the error sequences of the pair's first and second
task)."""
WHAT = {"conditions": 0, "noise": 1, "schedule": 2}
"""Kind-of-draw part of :func:`draw_index`."""
MAX_TRIALS = 1_000_000
MAX_PAIRS = 1_000

TIMESCALES_PARAMS: dict[str, Param] = {
    "tau_fast": Param(
        float_in(DT_MS, 10_000),
        100.0,
        100.0,
        100.0,
        f"time constant of fast modulation, ms (>= one step, {DT_MS} ms; the "
        "network's own tau is 100 ms)",
    ),
    "tau_slow": Param(
        float_in(1, 1000), 4.0, 4.0, 4.0, "time constant of slow modulation, in trials (>= 1)"
    ),
    "block": Param(int_in(1, 1000), 3, 12, 16, "trials per block of the blocked schedule"),
    "n_blocks": Param(
        int_in(2, 1000), 3, 6, 8, "blocks per conflict pair (alternating its two tasks)"
    ),
    "n_interleaved": Param(
        int_in(2, 100_000), 8, 48, 96, "trials per conflict pair of the interleaved schedule"
    ),
    "draws": Param(
        int_in(1, 65_536),
        8,
        64,
        256,
        "independent condition draws of each trial position (the batch)",
    ),
    "error_after": Param(
        int_in(3, 100), 3, 5, 5, "trials followed after a brief context error (the cost uses 3)"
    ),
    "assignments": Param(
        subset(tuple(ASSIGNMENTS)),
        tuple(ASSIGNMENTS),
        tuple(ASSIGNMENTS),
        tuple(ASSIGNMENTS),
        "time-constant assignments (exc, syn) probed: " + ", ".join(ASSIGNMENTS),
    ),
    "tau_fast_checks": Param(
        float_list(DT_MS, 10_000),
        "300",
        "300, 1000",
        "300, 1000",
        "further fast time constants (ms) the probes are rerun at, to see "
        "whether the verdict depends on tau_fast; [] for none",
    ),
}


@dataclass(frozen=True)
class TimescalesSpec:
    """What :func:`probe_network` runs (see the module docstring); validated on creation."""

    tau_fast: float
    tau_slow: float
    block: int
    n_blocks: int
    n_interleaved: int
    draws: int
    error_after: int
    assignments: tuple[str, ...] = tuple(ASSIGNMENTS)

    def __post_init__(self) -> None:
        check_number(
            "tau_fast",
            self.tau_fast,
            DT_MS,
            math.inf,
            f"a time constant in ms, finite and >= one step of the task generator "
            f"(dt = {DT_MS} ms)",
            open_high=True,
        )
        check_number(
            "tau_slow",
            self.tau_slow,
            1.0,
            math.inf,
            "a time constant in trials, finite and >= 1",
            open_high=True,
        )
        for name, low, what in (
            ("block", 1, "trials per block"),
            ("n_blocks", 2, "blocks (at least one switch)"),
            ("n_interleaved", 2, "trials"),
            ("draws", 1, "draws per trial"),
            ("error_after", 3, "trials after the error (the cost uses 3)"),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                fail(name, value, f"an integer >= {low} ({what})")
        if self.n_blocks * self.block >= MAX_TRIALS:
            fail("block", self.block, f"n_blocks * block < {MAX_TRIALS:,} (trials per sequence)")
        if self.n_interleaved >= MAX_TRIALS:
            fail("n_interleaved", self.n_interleaved, f"fewer than {MAX_TRIALS:,} trials")
        a = self.assignments
        if (
            isinstance(a, str)
            or not isinstance(a, Sequence)
            or not a
            or any(x not in ASSIGNMENTS for x in a)
            or len(set(a)) != len(a)
        ):
            fail(
                "assignments",
                a,
                "a non-empty list of distinct names from " + ", ".join(ASSIGNMENTS),
            )
        object.__setattr__(self, "tau_fast", float(self.tau_fast))
        object.__setattr__(self, "tau_slow", float(self.tau_slow))
        object.__setattr__(self, "assignments", tuple(a))

    @property
    def fast_rate(self) -> float:
        """dt / tau_fast: the fraction of the gap to the cue closed per step."""
        return filters.fast_rate(self.tau_fast)

    @property
    def slow_rate(self) -> float:
        """1 / tau_slow: the fraction of the gap to the cue closed per trial."""
        return filters.slow_rate(self.tau_slow)

    @classmethod
    def from_params(cls, p) -> "TimescalesSpec":
        """From validated parameters (``lib.experiments.chapter_params("timescales", ...)``)."""
        return cls(
            p.tau_fast,
            p.tau_slow,
            p.block,
            p.n_blocks,
            p.n_interleaved,
            p.draws,
            p.error_after,
            tuple(p.assignments),
        )

    @classmethod
    def from_profile(cls, profile: str | None = None, **overrides) -> "TimescalesSpec":
        return cls.from_params(resolve(TIMESCALES_PARAMS, profile, **overrides))


# ------------------------------------------------------------------------------ filters
# The filter equations and the state live in lib.core.filters (training under a filter uses the
# same ones); E5's state takes its rates from the spec.
class Modulation(ModulationState):
    """The modulation state of one pathway under one of :data:`MODES`, started at the fixed
    point of ``first_cue`` (a task index), at the spec's rates
    (:class:`lib.core.filters.ModulationState`)."""

    def __init__(self, mode: str, first_cue: int, n_tasks: int, spec: TimescalesSpec):
        super().__init__(mode, first_cue, n_tasks, spec.fast_rate, spec.slow_rate)
        self.spec = spec


def _context(m: np.ndarray, B: int) -> torch.Tensor:
    """A pathway's context for the model: (B, K) from (K,), (T, B, K) from (T, K)."""
    t = torch.as_tensor(m, dtype=torch.float32)
    return t.expand(B, -1) if t.dim() == 1 else t.unsqueeze(1).expand(-1, B, -1)


@torch.no_grad()
def run_sequence(
    model,
    trials: Sequence,
    runs: dict,
    noise_seeds: Sequence,
    spec: TimescalesSpec,
    score=mean_perf,
) -> dict[str, np.ndarray]:
    """Performance per trial (S,) of each run of one sequence of trials.

    ``trials``: S pairs (x (T_n, B, n_in) tensor, y_loc (T_n, B)), in order (any iterable; each
    trial is used once, for every run); ``runs``: name -> ((exc mode, syn mode), cues (S,)) — the
    task index cued on each trial; ``noise_seeds``: S ``SeedSequence``s of the network noise of
    each trial, the same for every run (common random numbers). Each run's modulation states
    start at the fixed point of its first cue. ``score(y_hat, y_loc) -> float`` reduces each
    trial's outputs (default: Yang's performance, mean over the draws)."""
    K = model.n_tasks
    states = {
        name: [Modulation(mode, int(cues[0]), K, spec) for mode in modes]
        for name, (modes, cues) in runs.items()
    }
    out = {name: [] for name in runs}
    for n, ((x, y_loc), seq) in enumerate(zip(trials, noise_seeds)):
        Tn, B = x.shape[0], x.shape[1]
        for name, (_, cues) in runs.items():
            exc, syn = (_context(s.trial(int(cues[n]), Tn), B) for s in states[name])
            gen = torch_generator(seq, x.device)
            y_hat, _ = model(x, exc, syn_context=syn, noise=True, generator=gen)
            out[name].append(score(y_hat, y_loc))
    return {name: np.array(v) for name, v in out.items()}


# ------------------------------------------------------------------------------ schedules
def draw_index(schedule: str, pair: int, trial: int, what: str) -> int:
    """The index in :data:`lib.core.seeds.STREAM_TIMESCALES` of one draw: the conditions or the
    network noise of trial ``trial`` of a schedule of conflict pair ``pair``, or the schedule's
    own task draws (``what="schedule"``, trial 0)."""
    if schedule not in SCHEDULE_CODES:
        fail("schedule", schedule, "one of " + ", ".join(map(repr, SCHEDULE_CODES)))
    if what not in WHAT:
        fail("what", what, "one of " + ", ".join(map(repr, WHAT)))
    if not 0 <= pair < MAX_PAIRS:
        fail("pair", pair, f"an index in [0, {MAX_PAIRS})")
    if not 0 <= trial < MAX_TRIALS:
        fail("trial", trial, f"an index in [0, {MAX_TRIALS})")
    return (
        (WHAT[what] * len(SCHEDULE_CODES) + SCHEDULE_CODES[schedule]) * MAX_PAIRS + pair
    ) * MAX_TRIALS + trial


def blocked_schedule(i: int, j: int, block: int, n_blocks: int) -> np.ndarray:
    """Task per trial: ``n_blocks`` blocks of ``block`` trials alternating i, j, i, ..."""
    return np.array([(i, j)[b % 2] for b in range(n_blocks) for _ in range(block)], np.int64)


def interleaved_schedule(i: int, j: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Task per trial: i or j, each with probability 1/2, drawn from ``rng``."""
    return np.where(rng.random(n) < 0.5, i, j).astype(np.int64)


def since_switch(tasks: np.ndarray) -> np.ndarray:
    """Trials since the last change of task (0 on the first trial after a switch); -1 before
    the first switch (the sequence starts at steady state)."""
    out = np.full(len(tasks), -1, np.int64)
    last = None
    for n in range(1, len(tasks)):
        if tasks[n] != tasks[n - 1]:
            last = n
        if last is not None:
            out[n] = n - last
    return out


def sequence_trials(cfg, tasks: np.ndarray, schedule: str, pair: int, draws: int):
    """The trials (x, y_loc) of a sequence of ``tasks`` (indices into ``cfg.tasks``), ``draws``
    condition draws per position from :data:`STREAM_TIMESCALES`; a generator, so that one trial
    at a time is in memory."""
    for n, k in enumerate(tasks):
        rng = np.random.default_rng(
            step_seed(cfg.seed, STREAM_TIMESCALES, draw_index(schedule, pair, n, "conditions"))
        )
        b = yang_tasks.render(yang_tasks.sample_conditions(cfg.tasks[int(k)], draws, rng))
        yield torch.from_numpy(b.x), b.y_loc


def sequence_noise(cfg, schedule: str, pair: int, n: int) -> list:
    """The seeds of the network noise of the ``n`` trials of a sequence (the same for every
    assignment: common random numbers)."""
    return [
        step_seed(cfg.seed, STREAM_TIMESCALES, draw_index(schedule, pair, t, "noise"))
        for t in range(n)
    ]


def assignments_for(mechanism: str, spec: TimescalesSpec) -> list[str]:
    """The spec's assignments that are distinct for a network of ``mechanism``: all of them for
    the hybrid (both pathways), the uniform ones otherwise."""
    if mechanism == "hybrid":
        return list(spec.assignments)
    return [a for a in spec.assignments if a in UNIFORM]


def _run_schedule(
    model,
    cfg,
    tasks: np.ndarray,
    cues: np.ndarray,
    schedule: str,
    pair: int,
    names: list[str],
    spec: TimescalesSpec,
) -> tuple[np.ndarray, dict]:
    """Reference and per-assignment performance on one sequence (tasks shown, cues given)."""
    runs = {"reference": (ASSIGNMENTS["both_instant"], tasks)}
    same = np.array_equal(tasks, cues)
    for name in names:
        if not (same and name == "both_instant"):  # that run is the reference itself
            runs[name] = (ASSIGNMENTS[name], cues)
    perf = run_sequence(
        model,
        sequence_trials(cfg, tasks, schedule, pair, spec.draws),
        runs,
        sequence_noise(cfg, schedule, pair, len(tasks)),
        spec,
    )
    ref = perf.pop("reference")
    if same and "both_instant" in names:
        perf["both_instant"] = ref.copy()
    return ref, {name: perf[name] for name in names}


@torch.no_grad()
def probe_network(result: TrainResult, spec: TimescalesSpec) -> dict:
    """Every sequence of one network (see the module docstring).

    Returns ``tasks``, ``pairs`` (index pairs), ``spec``, ``mechanism``, ``clean`` (E1's final
    performance per task, which decides what the network learned), ``assignments`` and per
    schedule: ``blocked`` / ``interleaved`` with ``task``, ``since`` (:func:`since_switch`),
    ``reference`` and ``perf`` {assignment: array}, each (P, S); ``error`` with ``task`` (P, 2),
    ``reference`` and ``perf`` {assignment: (P, 2, L)} (L = 2 + error_after; position 0 the lead
    trial, 1 the trial cued with the partner, then the trials after)."""
    cfg, model = result.config, result.model.eval()
    tasks = list(cfg.tasks)
    pairs = [(tasks.index(a), tasks.index(b)) for a, b in panel_pairs(tasks)]
    names = assignments_for(cfg.mechanism, spec)
    out = {
        "tasks": tasks,
        "pairs": [list(p) for p in pairs],
        "spec": asdict(spec),
        "mechanism": cfg.mechanism,
        "clean": result.history.perf_array()[-1],
        "assignments": names,
    }
    for schedule in ("blocked", "interleaved"):
        rows = {"task": [], "since": [], "reference": [], "perf": {a: [] for a in names}}
        for p, (i, j) in enumerate(pairs):
            if schedule == "blocked":
                seq = blocked_schedule(i, j, spec.block, spec.n_blocks)
            else:
                rng = np.random.default_rng(
                    step_seed(cfg.seed, STREAM_TIMESCALES, draw_index(schedule, p, 0, "schedule"))
                )
                seq = interleaved_schedule(i, j, spec.n_interleaved, rng)
            ref, perf = _run_schedule(model, cfg, seq, seq, schedule, p, names, spec)
            rows["task"].append(seq)
            rows["since"].append(since_switch(seq))
            rows["reference"].append(ref)
            for a in names:
                rows["perf"][a].append(perf[a])
        out[schedule] = {
            "task": np.array(rows["task"]),
            "since": np.array(rows["since"]),
            "reference": np.array(rows["reference"]),
            "perf": {a: np.array(v) for a, v in rows["perf"].items()},
        }
    L = 2 + spec.error_after
    err = {
        "task": np.array(pairs, np.int64),
        "reference": np.zeros((len(pairs), 2, L)),
        "perf": {a: np.zeros((len(pairs), 2, L)) for a in names},
    }
    for p, (i, j) in enumerate(pairs):
        for side, (t, partner) in enumerate(((i, j), (j, i))):
            seq = np.full(L, t, np.int64)
            cues = seq.copy()
            cues[1] = partner
            ref, perf = _run_schedule(
                model, cfg, seq, cues, ("error_i", "error_j")[side], p, names, spec
            )
            err["reference"][p, side] = ref
            for a in names:
                err["perf"][a][p, side] = perf[a]
    out["error"] = err
    return out


# ------------------------------------------------------------------------------ artifacts
TIMESCALES = NetworkResult("timescales", "timescales", f"{__name__}.probe_network")
"""E5's sequence probes as per-network artifacts (:class:`lib.experiments.runner.NetworkResult`)."""
timescales_key = TIMESCALES.key
timescales_artifact = TIMESCALES.artifact


def sequence_forwards(net_config, spec: TimescalesSpec) -> int:
    """Forward passes (each one trial position of ``draws`` trials) of :func:`probe_network`."""
    pairs = len(panel_pairs(list(net_config.tasks)))
    names = assignments_for(net_config.mechanism, spec)
    same = 1 + len([a for a in names if a != "both_instant"])  # reference + the others
    return pairs * (
        (spec.block * spec.n_blocks + spec.n_interleaved) * same
        + 2 * (2 + spec.error_after) * (1 + len(names))
    )


TIME_VARYING_FACTOR = 1.5
"""Measured cost of a forward pass with a time-varying context relative to a constant one (the
fast filter's trials take the model's general path), about 1.2-1.5 at N = 64."""


def timescales_seconds(net_config, spec: TimescalesSpec) -> float:
    """Estimated single-core seconds of :func:`probe_network` on a network of ``net_config``:
    its forward passes at the measured cost of an evaluation forward pass
    (:func:`lib.experiments.plan.measure_cost`), scaled to ``draws`` trials."""
    c = plan.measure_cost(net_config)
    per_forward = (
        c.eval_s
        / len(net_config.tasks)
        * max(spec.draws / net_config.eval_trials, 0.125)
        * TIME_VARYING_FACTOR
    )
    return 1.0 + sequence_forwards(net_config, spec) * per_forward


def tau_fast_specs(spec: TimescalesSpec, checks) -> dict[float, TimescalesSpec]:
    """The spec at its own ``tau_fast`` and at each of ``checks`` (ms), keyed by tau_fast, in
    increasing order (the sensitivity check of the verdict; at the checks only the
    :data:`SENSITIVITY_LABELS` networks are probed)."""
    return {
        t: dataclasses.replace(spec, tau_fast=t)
        for t in sorted({spec.tau_fast, *map(float, checks)})
    }


def labels_at(main: TimescalesSpec, tau: float) -> tuple[str, ...]:
    """The networks probed at ``tau``: every :data:`NETWORK_LABELS` at the ``main`` spec's own
    tau_fast, the :data:`SENSITIVITY_LABELS` at a sensitivity check."""
    return NETWORK_LABELS if float(tau) == main.tau_fast else SENSITIVITY_LABELS


def timescales_part(
    nets: Networks,
    spec: TimescalesSpec,
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "E5 sequences",
) -> plan.Part:
    """The plan part of E5's sequence probes of ``nets`` {key: TrainResult or TrainConfig}."""

    def note(configs: list) -> str:
        return "trial positions per network: " + ", ".join(
            sorted({f"{sequence_forwards(c, spec):,} ({c.mechanism})" for c in configs})
        )

    return TIMESCALES.part(nets, spec, timescales_seconds, note, label, workers, force, todo)


def run_timescales(
    nets: Networks,
    spec: TimescalesSpec,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """E5's sequence probes of the given networks {(label, seed): TrainResult}:
    {(label, seed): results}, cached as ``timescales`` artifacts. When anything must be computed
    its plan is printed first, and a plan longer than :data:`lib.experiments.plan.LONG_RUN_S`
    stops before any work unless ``allow_long``."""
    return TIMESCALES.run(
        nets,
        spec,
        lambda todo: timescales_part(nets, spec, workers, todo=todo),
        workers,
        force,
        progress,
        allow_long,
        desc="running trial sequences",
    )


def run_tau_fast(
    nets: Networks,
    spec: TimescalesSpec,
    checks,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict[float, dict]:
    """E5's sequence probes at ``spec``'s own tau_fast and at each of ``checks`` (ms), each on
    the networks of ``nets`` that :func:`labels_at` names for it: {tau_fast: {(label, seed):
    results}} in increasing tau_fast (:func:`run_timescales` for each)."""
    return {
        tau: run_timescales(
            {k: v for k, v in nets.items() if k[0] in labels_at(spec, tau)},
            spec_at,
            workers,
            force,
            progress,
            allow_long,
        )
        for tau, spec_at in tau_fast_specs(spec, checks).items()
    }


def e1_networks(
    spec: BatterySpec,
    labels: Sequence[str],
    workers: int = 2,
    progress: bool = True,
    allow_long: bool = False,
) -> Networks:
    """E1's networks of ``labels`` (variants or hybrid ablations) that the spec has, keyed
    (label, seed): loaded from their artifacts (trained, after the plan, where missing)."""
    configs = {
        (lab, s): spec.config(lab, s)
        for lab in labels
        if lab in spec.labels()
        for s in range(spec.n_seeds)
    }
    return run_configs(configs, workers=workers, progress=progress, allow_long=allow_long)


# ------------------------------------------------------------------ trained under the filter
TRAINED_UNDER: dict[str, tuple[str, ...]] = {
    "hybrid": SPLIT,
    "exc": ("both_fast", "both_slow"),
    "syn_lowrank_r1": ("both_fast", "both_slow"),
}
"""E5's networks trained under a filter ("the filter in the loop", issue 19): label -> the
assignments it is trained under, each then tested on the same sequences as E1's instant-trained
network of that label and seed, the control (``both_instant``). The hybrid is trained under
C5's split time-scales; a network with one pathway under its fast and its slow filter."""

TRAINED_SEP = "@"
"""Separator of a filter-trained network's label: ``"<E1 label>@<assignment>"``."""


def trained_label(label: str, assignment: str) -> str:
    """The label of E1's network ``label`` trained under ``assignment``
    (``"hybrid@exc_fast_syn_slow"``); E1's own label for ``both_instant`` (the control)."""
    if assignment not in ASSIGNMENTS:
        fail("assignment", assignment, "one of " + ", ".join(map(repr, ASSIGNMENTS)))
    return label if assignment == "both_instant" else f"{label}{TRAINED_SEP}{assignment}"


def split_trained_label(label: str) -> tuple[str, str]:
    """(E1 label, assignment) of a label made by :func:`trained_label`."""
    base, sep, assignment = label.partition(TRAINED_SEP)
    if not sep:
        return label, "both_instant"
    if assignment not in ASSIGNMENTS or not base:
        fail(
            "label",
            label,
            f"'<E1 label>{TRAINED_SEP}<assignment>' with an assignment from "
            + ", ".join(ASSIGNMENTS),
        )
    return base, assignment


def filter_trained_config(config, assignment: str, spec: TimescalesSpec):
    """``config`` (an E1 network's TrainConfig) trained under ``assignment``: each pathway the
    mechanism has (:func:`lib.core.model.mechanism_pathways`) gets the assignment's mode as its
    training filter (``TrainConfig.train_filter_exc`` / ``train_filter_syn``) at the spec's
    time constants (set only where a pathway uses that filter); ``both_instant`` gives
    ``config`` itself (the control). A split assignment of a network with one pathway is
    refused: it is one of the uniform ones (:func:`assignments_for`)."""
    if assignment not in ASSIGNMENTS:
        fail("assignment", assignment, "one of " + ", ".join(map(repr, ASSIGNMENTS)))
    have = mechanism_pathways(config.mechanism)
    if len(have) < len(PATHWAYS) and assignment not in UNIFORM:
        fail(
            "assignment",
            assignment,
            f"one of {', '.join(UNIFORM)} for mechanism {config.mechanism!r} (pathways: "
            f"{', '.join(have) or 'none'}; a split needs both)",
        )
    modes = dict(zip(PATHWAYS, ASSIGNMENTS[assignment]))
    changes: dict = {f"train_filter_{p}": modes[p] for p in have}
    used = {modes[p] for p in have}
    if "fast" in used:
        changes["train_tau_fast"] = spec.tau_fast
    if "slow" in used:
        changes["train_tau_slow"] = spec.tau_slow
    return config.replace(**changes)


def filter_trained_configs(
    battery: BatterySpec, spec: TimescalesSpec, labels: Sequence[str] = NETWORK_LABELS
) -> dict:
    """The configs of E5's filter-trained networks: for each of ``labels`` that the battery
    has and :data:`TRAINED_UNDER` names, each assignment it is trained under and each seed,
    keyed (:func:`trained_label`, seed). The controls are E1's networks, keyed (label, seed)
    (:func:`e1_networks`)."""
    return {
        (trained_label(lab, a), s): filter_trained_config(battery.config(lab, s), a, spec)
        for lab in labels
        if lab in battery.labels() and lab in TRAINED_UNDER
        for a in TRAINED_UNDER[lab]
        for s in range(battery.n_seeds)
    }


def filter_trained_networks(
    battery: BatterySpec,
    spec: TimescalesSpec,
    labels: Sequence[str] = NETWORK_LABELS,
    workers: int = 2,
    progress: bool = True,
    allow_long: bool = False,
) -> Networks:
    """E5's filter-trained networks (:func:`filter_trained_configs`), keyed
    (:func:`trained_label`, seed): loaded from their artifacts (trained, after the plan, where
    missing; with ``$BOOK_NO_TRAIN=1`` a missing one is an error). They train one by one (the
    stacked ensemble trains one-hot contexts only)."""
    return run_configs(
        filter_trained_configs(battery, spec, labels),
        workers=workers,
        progress=progress,
        allow_long=allow_long,
    )


def trained_spec(spec: TimescalesSpec, assignment: str) -> TimescalesSpec:
    """The spec a network trained under ``assignment`` is probed with: ``spec`` with only that
    assignment and ``both_instant`` (the latter costs only the error sequences: on the blocked
    and interleaved ones it is the reference itself). Trials, noise and schedules come from the
    network's seed (:func:`probe_network`), so they are those of the instant-trained control of
    that seed under the full ``spec``: common random numbers."""
    if assignment not in ASSIGNMENTS:
        fail("assignment", assignment, "one of " + ", ".join(map(repr, ASSIGNMENTS)))
    return dataclasses.replace(spec, assignments=tuple(dict.fromkeys((assignment, "both_instant"))))


def _by_assignment(nets: Networks) -> dict[str, Networks]:
    """Filter-trained networks {(trained label, seed): ...} grouped by the assignment each was
    trained under (:func:`split_trained_label`), in :data:`ASSIGNMENTS` order."""
    groups: dict[str, dict] = {a: {} for a in ASSIGNMENTS}
    for key, net in nets.items():
        groups[split_trained_label(key[0])[1]][key] = net
    return {a: g for a, g in groups.items() if g}


def filter_trained_parts(
    nets: Networks,
    spec: TimescalesSpec,
    workers: int,
    force: bool = False,
    label: str = "E5 sequences of the filter-trained networks",
) -> list[plan.Part]:
    """The plan parts of :func:`run_filter_trained`: one :func:`timescales_part` per assignment
    trained under, at its :func:`trained_spec`."""
    return [
        timescales_part(group, trained_spec(spec, a), workers, force, label=f"{label}, {a}")
        for a, group in _by_assignment(nets).items()
    ]


def run_filter_trained(
    nets: Networks,
    spec: TimescalesSpec,
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """E5's sequence probes of filter-trained networks {(trained label, seed): TrainResult}
    (:func:`filter_trained_networks`), each at :func:`trained_spec` of the assignment it was
    trained under: {(trained label, seed): results} (:func:`run_timescales`, cached as
    ``timescales`` artifacts)."""
    out: dict = {}
    for a, group in _by_assignment(nets).items():
        out |= run_timescales(group, trained_spec(spec, a), workers, force, progress, allow_long)
    return out


def shipped_filter_trained(
    battery: BatterySpec, spec: TimescalesSpec, labels: Sequence[str] = NETWORK_LABELS
) -> tuple[Networks, int]:
    """(the filter-trained networks of :func:`filter_trained_configs` that exist as artifacts,
    how many there should be): nothing is trained, so a profile that does not ship them gives
    ({}, n)."""
    configs = filter_trained_configs(battery, spec, labels)
    return shipped_networks(configs), len(configs)


__all__ = [
    "DT_MS",
    "MODES",
    "ASSIGNMENTS",
    "ASSIGNMENT_NAMES",
    "SPLIT",
    "UNIFORM",
    "NETWORK_LABELS",
    "SENSITIVITY_LABELS",
    "TIMESCALES_PARAMS",
    "TimescalesSpec",
    "fast_filter",
    "slow_filter",
    "Modulation",
    "run_sequence",
    "draw_index",
    "blocked_schedule",
    "interleaved_schedule",
    "since_switch",
    "sequence_trials",
    "sequence_noise",
    "assignments_for",
    "probe_network",
    "timescales_key",
    "timescales_artifact",
    "sequence_forwards",
    "timescales_seconds",
    "tau_fast_specs",
    "labels_at",
    "timescales_part",
    "run_timescales",
    "run_tau_fast",
    "e1_networks",
    "TRAINED_UNDER",
    "TRAINED_SEP",
    "trained_label",
    "split_trained_label",
    "filter_trained_config",
    "filter_trained_configs",
    "filter_trained_networks",
    "trained_spec",
    "filter_trained_parts",
    "run_filter_trained",
    "shipped_filter_trained",
]
