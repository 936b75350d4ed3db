"""Training: Yang et al.'s protocol for a :class:`lib.core.model.ModulatedRNN` on a task set.

One task per batch (drawn with Yang's sampling weights: contextdm1/2 five times the others),
masked squared error (:func:`lib.core.metrics.masked_mse`), Adam, evaluation on every task every
``eval_every`` steps with Yang's performance (:func:`lib.core.metrics.performance`), stop when every
task is at criterion or the step budget is spent.

A network may start from another's weights (``TrainConfig.init_from``, the parent's config;
its weights are passed to :func:`train` as ``init_state``: loading them is the caller's business,
so this module does no artifact I/O) and may train on a subset of its tasks
(``TrainConfig.train_tasks``) while being evaluated on all of them: the two options with which
E3 pretrains a backbone and packs tasks one at a time (:mod:`lib.experiments.packing`).

Reproducibility is by construction: the batch, the task drawn and the network noise of step ``s``
depend only on ``(config.seed, s)``, never on what ran before, and a checkpoint stores the
weights, Adam's state and the history. An interrupted run resumed from its checkpoint therefore
gives the same final weights as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from lib.core import filters
from lib.core import tasks as yang_tasks
from lib.core.io import atomic_torch_save
from lib.core.metrics import masked_mse, performance
from lib.core.checks import check_choice, check_nonnegative_int, check_number, check_positive_int
from lib.core.model import MECHANISMS, ModulatedRNN, mechanism_pathways
from lib.core.seeds import (
    EVAL_NOISE_OFFSET,
    STREAM_BATCH,
    STREAM_CUES,
    STREAM_EVAL,
    STREAM_MIX,
    STREAM_NOISE,
    STREAM_SCHEDULE,
    one_hot,
    step_seed,
    torch_generator,
)

TRAINABLE = ("all", "modulation", "freeze_exc", "freeze_syn", "exc_only", "syn_only")
"""Which parameters Adam updates: everything; only the per-task modulation (shared weights
frozen, for packing); everything except the excitability / synaptic pathway (frozen at its random
initial values, not at zero modulation); or only the excitability / synaptic modulation (shared
weights and the other pathway frozen: E5's two learning routes of a new task)."""

SAMPLING = ("yang", "uniform", "error")
"""How the task of each step is drawn: ``yang`` (Yang et al.: Ctx DM 1/2 weighted
``ctxdm_weight`` x the others), ``uniform``, or ``error`` (in proportion to each task's error
``1 - perf`` at the last evaluation, floored at :data:`ERROR_FLOOR`; a standard multitask remedy
that gives slow tasks more batches)."""
ERROR_FLOOR = 0.05


# Fields added after the first artifacts were made: omitted from ``to_dict`` (and so from artifact
# keys) while they hold their default, so adding a field never changes an existing key. Changing
# one of these defaults changes behaviour: bump lib.core.behaviour.BEHAVIOUR["network"].
_OPTIONAL_FIELDS = (
    "grad_clip",
    "sampling",
    "easy_steps",
    "alpha",
    "sigma_rec",
    "sigma_x",
    "mod_init_std",
    "schedule_seed",
    "train_mix",
    "init_from",
    "inherit",
    "train_tasks",
    "train_filter_exc",
    "train_filter_syn",
    "train_tau_fast",
    "train_tau_slow",
)

INHERIT = ("all", "shared")
"""What a network that starts from another's weights (``TrainConfig.init_from``) takes from it:
``"all"``, the shared weights and the parent's tasks' modulation parameters; ``"shared"``, the
shared weights only (every task's modulation as a fresh network draws it)."""

_ARCHITECTURE = ("mechanism", "n_rec", "rank", "activation", "w_rec_init")
"""The fields a parent network (``init_from``) must share with its child."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained network (and so its artifact key).

    Sizes are in units of steps (one Adam update on one batch of ``batch_size`` trials) and
    trials; ``criterion`` is Yang's performance in [0, 1].

    Protocol options and Yang et al.'s settings (``train.py``, ``network.py``, ``task.py``):

    - ``grad_clip``: each gradient element is clipped to [-grad_clip, grad_clip] before Adam
      (Yang: 1.0, ``tf.clip_by_value``); ``None`` turns clipping off.
    - ``sampling`` / ``ctxdm_weight``: see :data:`SAMPLING` (Yang: ``"yang"``, weight 5).
    - ``easy_steps``: a coherence curriculum. The first ``easy_steps`` steps draw their trials with
      Yang's ``easy_task`` coherences (DM coherences x10); evaluation, and so the criterion, always
      uses the standard tasks (Yang: 0, no curriculum).
    - ``lr`` (Yang: 1e-3), ``batch_size`` (64), ``eval_trials`` (512 per task), ``criterion``.
      Yang stops only when every task's performance exceeds ``target_perf`` = 1.0, which never
      happens, so his runs spend the whole budget; ``stop_at_criterion`` stops once every task is
      at ``criterion`` (the book's definition of "learned").
    - ``alpha``, ``sigma_rec``, ``sigma_x``, ``mod_init_std``: the model's constants
      (:class:`lib.core.model.ModulatedRNN`; Yang: 0.2, 0.05, 0.01; ``None`` = 1/sqrt(n_in)).
    - ``schedule_seed``: ``None`` draws each step's task from the network's own stream (seeded by
      ``seed``); an int draws it from a schedule stream of that seed, so networks of different
      seeds see the same sequence of tasks (with ``sampling="error"`` the weights still follow
      each network's own errors) -- what an ensemble of seeds trained as one batch needs.
    - ``train_mix``: ambiguity-augmented training (Yang: 0, one-hot contexts). Each step's
      context is c = (1 - lam) e_k + lam e_j, with j drawn uniformly from the other tasks and
      lam ~ U(0, train_mix), while the target stays task k's (:func:`training_context`). Below
      0.5, so the trained task always has the larger weight.

    Training under a time-scale filter ("the filter in the loop", E5's modulation as part of
    training; all four fields are left out of ``to_dict`` at their defaults, which are today's
    one-hot training, the control):

    - ``train_filter_exc`` / ``train_filter_syn``: the mode (:data:`lib.core.filters.MODES`:
      ``"instant"``, ``"fast"``, ``"slow"``) of the excitability / synaptic pathway's modulation
      state during training. Each trial of a step on task k gets a random history of earlier
      cues (a switch from the previous cue with probability
      :data:`lib.core.filters.TRAIN_SWITCH_PROB`), and each pathway receives the state its
      filter leaves: fast, m(t) = e_k + (m(0) - e_k)(1 - dt/tau_fast)^t over the trial's steps
      (a (T, B, K) context), m(0) the previous cue's state; slow, the low-pass
      m = sum_j r (1 - r)^(H-1-j) e_{h_j} + (1 - r)^H e_{h_0} (r = 1/tau_slow) of the earlier
      cues, constant within the trial; instant, e_k (:func:`training_contexts`,
      :mod:`lib.core.filters`). The target stays task k's. A filter other than ``"instant"``
      needs the pathway (:func:`lib.core.model.mechanism_pathways`) and at least two tasks. The
      hybrid's pathways get their own states (``c`` and ``syn_context``) of one cue history;
      a network with one pathway receives that pathway's state as its context.
    - ``train_tau_fast`` (ms, >= dt = 20; default E5's 100) and ``train_tau_slow`` (trials,
      >= 1; default E5's 4): the time constants, to be changed only where a pathway uses that
      filter (one network, one key).

    Starting from another network, and training on some tasks only (E3's pretrained backbone and
    sequential packing; all three fields are left out of ``to_dict`` at their defaults, so no
    existing key changes):

    - ``init_from``: the config of the *parent* network whose weights this one starts from (a
      ``TrainConfig``, or its ``to_dict()``), ``None`` for a fresh network. The parent has the
      same architecture (mechanism, N, rank, activation, W_rec init) and a subset of the tasks,
      matched by name: task ``t`` of the parent is row ``tasks.index(t)`` of every modulation
      tensor here, so K may grow. The child is first drawn exactly as a fresh network of its own
      config (same seed, same stream), then overwritten with the parent's weights per
      ``inherit``; the parent's weights themselves reach :func:`train` as ``init_state``. The
      parent's config is part of this config, and so of its artifact key: the provenance of a
      chain of networks is exact.
    - ``inherit``: see :data:`INHERIT` (``"all"`` by default; only with ``init_from``).
    - ``train_tasks``: the tasks training steps are drawn from (a subset of ``tasks``, in any
      order); ``None``: all of them. The context stays K-dimensional, evaluation covers every
      task, and the stopping rule looks at the trained tasks only. With sampling weights w_k
      (:meth:`task_weights`), task k is drawn with probability w_k 1[k in train_tasks] / sum_j
      w_j 1[j in train_tasks]. The optimizer always starts fresh (Adam's moments at zero), so
      with ``trainable="modulation"`` the rows of tasks not trained get exactly zero updates.
    """

    mechanism: str
    tasks: tuple[str, ...] = yang_tasks.TASK_SETS["core8"]
    n_rec: int = 128
    rank: int = 1
    seed: int = 0
    max_steps: int = 10_000
    batch_size: int = 64
    lr: float = 1e-3
    eval_every: int = 250
    eval_trials: int = 128
    criterion: float = 0.9
    stop_at_criterion: bool = True
    ctxdm_weight: float = 5.0
    activation: str = "softplus"
    w_rec_init: str = "randortho"
    trainable: str = "all"
    grad_clip: float | None = 1.0
    sampling: str = "yang"
    easy_steps: int = 0
    alpha: float = 0.2
    sigma_rec: float = 0.05
    sigma_x: float = 0.01
    mod_init_std: float | None = None
    schedule_seed: int | None = None
    train_mix: float = 0.0
    init_from: "TrainConfig | None" = None
    inherit: str = "all"
    train_tasks: tuple[str, ...] | None = None
    train_filter_exc: str = "instant"
    train_filter_syn: str = "instant"
    train_tau_fast: float = filters.TAU_FAST_MS
    train_tau_slow: float = filters.TAU_SLOW_TRIALS

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        check_choice("mechanism", self.mechanism, MECHANISMS)
        check_choice("trainable", self.trainable, TRAINABLE)
        check_choice("sampling", self.sampling, SAMPLING)
        if not self.tasks:
            raise ValueError("tasks: must name at least one task, got ()")
        for name in self.tasks:
            check_choice("tasks", name, yang_tasks.TASKS)
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks: names must be unique, got {self.tasks}")
        for name in ("n_rec", "rank", "max_steps", "batch_size", "eval_every", "eval_trials"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative_int("seed", self.seed)
        check_nonnegative_int("easy_steps", self.easy_steps)
        if self.schedule_seed is not None:
            check_nonnegative_int("schedule_seed", self.schedule_seed)
        check_number("lr", self.lr, 0, 1, "a float in (0, 1)", open_low=True, open_high=True)
        check_number("criterion", self.criterion, 0, 1, "a number in (0, 1]", open_low=True)
        check_number(
            "ctxdm_weight",
            self.ctxdm_weight,
            0,
            float("inf"),
            "a number > 0",
            open_low=True,
            open_high=True,
        )
        check_number(
            "train_mix",
            self.train_mix,
            0,
            0.5,
            "a number in [0, 0.5) (a distractor's weight below the task's)",
            open_high=True,
        )
        if self.train_mix and len(self.tasks) < 2:
            raise ValueError(
                f"train_mix={self.train_mix!r} needs at least two tasks to mix, "
                f"got tasks={self.tasks}"
            )
        if self.grad_clip is not None:
            check_number(
                "grad_clip",
                self.grad_clip,
                0,
                float("inf"),
                "a number > 0, or None for no clipping",
                open_low=True,
                open_high=True,
            )
        self._check_lineage()
        self._check_filters()

    def _check_filters(self) -> None:
        """``train_filter_exc``, ``train_filter_syn``, ``train_tau_fast``, ``train_tau_slow``
        (see the class docstring)."""
        modes = self.filter_modes()
        for pathway, mode in modes.items():
            name = f"train_filter_{pathway}"
            check_choice(name, mode, filters.MODES)
            have = mechanism_pathways(self.mechanism)
            if mode != "instant" and pathway not in have:
                raise ValueError(
                    f"{name}={mode!r} is not allowed; expected 'instant': mechanism "
                    f"{self.mechanism!r} has no {pathway!r} pathway (its pathways: "
                    f"{', '.join(have) or 'none'})"
                )
        for name, mode, low, what in (
            ("train_tau_fast", "fast", yang_tasks.DT, f"a time constant in ms, >= {yang_tasks.DT}"),
            ("train_tau_slow", "slow", 1.0, "a time constant in trials, >= 1"),
        ):
            value = check_number(
                name, getattr(self, name), low, math.inf, what + " and finite", open_high=True
            )
            object.__setattr__(self, name, value)
            if value != _DEFAULTS[name] and mode not in modes.values():
                raise ValueError(
                    f"{name}={value!r} is not allowed; expected its default "
                    f"{_DEFAULTS[name]!r}: no pathway is trained with the {mode!r} filter "
                    f"(train_filter_exc={modes['exc']!r}, train_filter_syn={modes['syn']!r})"
                )
        if self.filtered:
            if len(self.tasks) < 2:
                raise ValueError(
                    f"train_filter_*={tuple(modes.values())!r} needs at least two tasks to "
                    f"switch between, got tasks={self.tasks}"
                )
            if self.train_mix:
                raise ValueError(
                    f"train_mix={self.train_mix!r} is not allowed with a training filter "
                    f"(train_filter_*={tuple(modes.values())!r}); expected 0: a network is "
                    "trained with mixtures or with filtered contexts, not both"
                )

    def filter_modes(self) -> dict[str, str]:
        """{pathway: training filter} for both pathways (``"instant"`` where not filtered)."""
        return {"exc": self.train_filter_exc, "syn": self.train_filter_syn}

    @property
    def filtered(self) -> bool:
        """Whether some pathway is trained under a filter (not the one-hot control)."""
        return any(mode != "instant" for mode in self.filter_modes().values())

    def _check_lineage(self) -> None:
        """``init_from``, ``inherit`` and ``train_tasks`` (see the class docstring)."""
        if self.init_from is not None and not isinstance(self.init_from, TrainConfig):
            if not isinstance(self.init_from, dict):
                raise ValueError(
                    f"init_from: expected None, a TrainConfig or its to_dict(), got "
                    f"a {type(self.init_from).__name__}"
                )
            try:
                parent = TrainConfig.from_dict(self.init_from)
            except (TypeError, ValueError) as err:
                raise ValueError(f"init_from: not the config of a network ({err})") from err
            object.__setattr__(self, "init_from", parent)
        check_choice("inherit", self.inherit, INHERIT)
        parent = self.init_from
        if parent is None and self.inherit != "all":
            raise ValueError(
                f"inherit={self.inherit!r} says what to take from a parent network, "
                "but init_from is None (a fresh network has no parent)"
            )
        if parent is not None:
            for name in _ARCHITECTURE:
                if getattr(parent, name) != getattr(self, name):
                    raise ValueError(
                        f"init_from: the parent network's {name} is {getattr(parent, name)!r}, "
                        f"this network's {getattr(self, name)!r}; a network starts only from "
                        f"the weights of one of the same architecture ({', '.join(_ARCHITECTURE)})"
                    )
            extra = [t for t in parent.tasks if t not in self.tasks]
            if extra:
                raise ValueError(
                    f"init_from: the parent network's tasks {list(extra)} are not "
                    f"among this network's tasks {list(self.tasks)} (its tasks "
                    "must be a subset, matched by name)"
                )
        if self.train_tasks is not None:
            if isinstance(self.train_tasks, str) or not hasattr(self.train_tasks, "__iter__"):
                raise ValueError(
                    f"train_tasks={self.train_tasks!r} is not allowed; expected None "
                    "or a non-empty list of this network's task names"
                )
            sub = tuple(self.train_tasks)
            object.__setattr__(self, "train_tasks", sub)
            if not sub or len(set(sub)) != len(sub) or any(t not in self.tasks for t in sub):
                raise ValueError(
                    f"train_tasks={list(sub)!r} is not allowed; expected None or a "
                    f"non-empty list of distinct names from tasks={list(self.tasks)}"
                )

    def to_dict(self) -> dict:
        """The config as a JSON-able dict; optional fields at their default are left out."""
        # one level only (every field is a scalar but these three, converted below): asdict
        # would copy the whole init_from chain at every level, quadratic in its depth
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["tasks"] = list(self.tasks)
        d["init_from"] = None if self.init_from is None else self.init_from.to_dict()
        d["train_tasks"] = None if self.train_tasks is None else list(self.train_tasks)
        for name in _OPTIONAL_FIELDS:
            if d[name] == _DEFAULTS[name]:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def task_weights(self, last_perf: np.ndarray | Sequence[float] | None = None) -> np.ndarray:
        """Sampling probability of each task for the next step (K,), see :data:`SAMPLING`.

        ``last_perf`` (K,) is the performance at the last evaluation (needed for ``"error"``).
        """
        w: np.ndarray
        if self.sampling == "uniform":
            w = np.ones(len(self.tasks))
        elif self.sampling == "yang":
            w = np.array(
                [
                    self.ctxdm_weight if t in ("contextdm1", "contextdm2") else 1.0
                    for t in self.tasks
                ]
            )
        else:
            if last_perf is None:
                raise ValueError("sampling='error' needs the last evaluation's performance")
            w = np.maximum(1.0 - np.asarray(last_perf, dtype=float), ERROR_FLOOR)
        if self.train_tasks is not None:
            w = w * self.trained_mask()
        return w / w.sum()

    def trained_mask(self) -> np.ndarray:
        """Whether each task (K,) is trained (in ``train_tasks``; all of them by default)."""
        if self.train_tasks is None:
            return np.ones(len(self.tasks), dtype=bool)
        return np.array([t in self.train_tasks for t in self.tasks])

    @property
    def depth(self) -> int:
        """How many ancestors the network has (0: a fresh network; k: the k-th of a chain)."""
        return 0 if self.init_from is None else 1 + self.init_from.depth


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


@dataclass
class History:
    """Learning curves: one row per evaluation.

    ``perf[i, k]``: performance on ``tasks[k]`` after ``steps[i]`` steps (``trials[i]`` trials).
    ``loss[i]``: mean training loss over the steps since the previous evaluation.
    ``diverged_at``: the evaluation step at which the mean training loss was NaN or infinite
    (training ended there, and the network is the one of the previous evaluation, the last
    row); ``None`` for a run that did not diverge.
    """

    tasks: tuple[str, ...]
    steps: list[int] = field(default_factory=list)
    trials: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    perf: list[list[float]] = field(default_factory=list)
    wall_s: float = 0.0
    diverged_at: int | None = None

    def perf_array(self) -> np.ndarray:
        """Performance as an array (n_evals, K)."""
        return np.asarray(self.perf, dtype=float).reshape(len(self.steps), len(self.tasks))

    def perf_at(self, step: int) -> np.ndarray:
        """(K,) performance per task after ``step`` steps: the evaluation at ``step``, or the
        run's last where it ended before ``step`` (the same run at any larger budget only if it
        stopped at criterion: :func:`same_run_at_budget`). :func:`train` evaluates at every
        multiple of ``eval_every`` and at its budget, and reads the budget only to stop, so the
        evaluation at ``step`` is where the same run at a budget of ``step`` steps ends; a step
        between two evaluations has no such reading (ValueError)."""
        if not self.steps:
            raise ValueError("perf_at: the history has no evaluation")
        if step >= self.steps[-1]:
            return self.perf_array()[-1]
        if step not in self.steps:
            raise ValueError(
                f"step: got {step}; allowed: an evaluation step of this history "
                f"({self.steps[0]}, {self.steps[1] if len(self.steps) > 1 else ''}, ..., "
                f"{self.steps[-1]}) or a step at or after its last"
            )
        return self.perf_array()[self.steps.index(step)]

    def trials_to_criterion(self, criterion: float) -> np.ndarray:
        """Trials at the first evaluation where each task reached ``criterion`` (nan: never)."""
        p = self.perf_array()
        out = np.full(len(self.tasks), np.nan)
        for k in range(len(self.tasks)):
            hit = np.flatnonzero(p[:, k] >= criterion)
            if hit.size:
                out[k] = self.trials[hit[0]]
        return out

    def record(
        self, step: int, batch_size: int, loss: float, perf, wall_s: float | None = None
    ) -> None:
        """Append one evaluation: after ``step`` steps of ``batch_size`` trials, the mean
        training loss since the previous one and the performance per task (K,); ``wall_s``
        (if given) is the training time so far."""
        self.steps.append(step)
        self.trials.append(step * batch_size)
        self.loss.append(loss)
        self.perf.append(np.asarray(perf, dtype=float).tolist())
        if wall_s is not None:
            self.wall_s = wall_s

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"tasks": list(self.tasks)}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(**(d | {"tasks": tuple(d["tasks"])}))


@dataclass
class TrainResult:
    """A trained network with the config that made it and its learning curves."""

    config: TrainConfig
    model: ModulatedRNN
    history: History

    @property
    def final_perf(self) -> dict[str, float]:
        return dict(zip(self.config.tasks, self.history.perf_array()[-1]))


def build_model(config: TrainConfig) -> ModulatedRNN:
    """The untrained network a config describes (shared weights drawn from ``config.seed``)."""
    return ModulatedRNN(
        config.mechanism,
        config.n_rec,
        len(config.tasks),
        rank=config.rank,
        activation=config.activation,
        w_rec_init=config.w_rec_init,
        seed=config.seed,
        alpha=config.alpha,
        sigma_rec=config.sigma_rec,
        sigma_x=config.sigma_x,
        mod_init_std=config.mod_init_std,
    )


SMALL_WORK_THREADS = 1
"""torch threads for small work on a saved network in the chapter's own process: rebuilding it
(:func:`load_model`), one example trial, the explorer's views. Such work is fastest on one
thread; on a busy 2-core machine two threads made the QR of the initial ``W_rec`` (64 x 64)
about 0.1-0.2 s against 0.1 ms (the larger part of loading a network) and a probe's forward
passes about 4x slower. Worker processes run on one thread anyway
(:func:`lib.experiments.runner.call_job`)."""


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the enclosed code with ``n`` torch threads, restoring the previous number after."""
    check_positive_int("n", n)
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def load_model(config: TrainConfig, state_dict: dict) -> ModulatedRNN:
    """The network ``config`` describes with the weights ``state_dict`` (a saved network), in
    eval mode; built under :data:`SMALL_WORK_THREADS` torch threads (the weights it starts from are
    discarded, so the thread count cannot change the result)."""
    with torch_threads(SMALL_WORK_THREADS):
        model = build_model(config)
    model.load_state_dict(state_dict)
    return model.eval()


@torch.no_grad()
def inherit_weights(model: ModulatedRNN, config: TrainConfig, init_state: dict) -> ModulatedRNN:
    """Overwrite ``model`` (a network of ``config`` as :func:`build_model` draws it) with its
    parent's weights, in place, per ``config.inherit``; returns ``model``.

    ``init_state`` is the ``state_dict`` of a network of ``config.init_from`` (checked: a
    ``ValueError`` if it is not). Copied: the shared weights W_in (N, n_in), W_rec (N, N),
    b (N,), W_out (n_out, N), b_out (n_out,); with ``inherit="all"`` also, for every modulation
    tensor P of shape (K, ...) (B, G, A, Bp (K, N); M (K, N, N); U, V (K, N, R)), the parent's
    rows: P[tasks.index(t)] = P_parent[i] for its i-th task t. Every other row keeps the value
    a fresh network draws, so a child with ``inherit="shared"`` is the fresh network with the
    parent's shared weights."""
    parent_cfg = config.init_from
    if parent_cfg is None:
        raise ValueError(
            "init_state is given but config.init_from is None: a fresh network "
            "starts from its own initialisation"
        )
    parent = build_model(parent_cfg)
    try:
        parent.load_state_dict(init_state)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise ValueError(
            f"init_state: not the weights of a network of config.init_from "
            f"({parent_cfg.mechanism}, N={parent_cfg.n_rec}, "
            f"K={len(parent_cfg.tasks)}): {err}"
        ) from err
    for mine, theirs in zip(model.shared_parameters(), parent.shared_parameters()):
        mine.copy_(theirs)
    if config.inherit == "all":
        rows = torch.tensor([config.tasks.index(t) for t in parent_cfg.tasks])
        for mine, theirs in zip(model.modulation_parameters(), parent.modulation_parameters()):
            mine[rows] = theirs
    return model


def trainable_parameters(model: ModulatedRNN, trainable: str) -> list[torch.nn.Parameter]:
    """The parameters Adam updates under a ``TRAINABLE`` option (see that constant)."""
    check_choice("trainable", trainable, TRAINABLE)
    if trainable == "all":
        return list(model.parameters())
    if trainable in ("modulation", "exc_only", "syn_only"):
        pathway = {"modulation": None, "exc_only": "exc", "syn_only": "syn"}[trainable]
        params = list(model.modulation_parameters(pathway))
        if not params:
            raise ValueError(
                f"trainable={trainable!r}: mechanism {model.mechanism!r} has no "
                + ("modulation" if pathway is None else f"{pathway!r}")
                + " parameters"
            )
        return params
    frozen = {
        id(p) for p in model.modulation_parameters("exc" if trainable == "freeze_exc" else "syn")
    }
    return [p for p in model.parameters() if id(p) not in frozen]


def evaluation_batches(
    config: TrainConfig, device=None
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, np.ndarray]]:
    """Fixed evaluation trials per task: (x, y, c_mask, y_loc) with ``eval_trials`` trials each."""
    out = []
    for k, task in enumerate(config.tasks):
        b = yang_tasks.make_batch(
            task,
            config.eval_trials,
            np.random.default_rng(step_seed(config.seed, STREAM_EVAL, k)),
            noise=False,
        )
        x, y, c_mask = b.to_torch(device)
        out.append((x, y, c_mask, b.y_loc))
    return out


@torch.no_grad()
def evaluate(model: ModulatedRNN, config: TrainConfig, batches=None, context=None) -> np.ndarray:
    """Mean performance per task (K,), with network noise on (as in Yang's evaluation).

    ``context(k, x) -> c`` overrides the one-hot context of task ``k`` (for robustness tests);
    the noise seed is fixed, so repeated calls are identical.
    """
    device = next(model.parameters()).device
    batches = batches if batches is not None else evaluation_batches(config, device)
    perf = np.empty(len(batches))
    for k, (x, _, _, y_loc) in enumerate(batches):
        c = (
            context(k, x)
            if context is not None
            else one_hot(k, len(config.tasks), x.shape[1], x.device)
        )
        gen = torch_generator(step_seed(config.seed, STREAM_EVAL, EVAL_NOISE_OFFSET + k), x.device)
        y_hat, _ = model(x, c, noise=True, generator=gen)
        perf[k] = performance(y_hat, y_loc).mean()
    return perf


def _state(model, optimizer, step: int, history: History, config: TrainConfig) -> dict:
    return {
        "config": config.to_dict(),
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history.to_dict(),
    }


def train(
    config: TrainConfig,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    device: str | torch.device | None = None,
    init_state: dict | None = None,
) -> TrainResult:
    """Train a network; resume from ``checkpoint`` if it holds a run of the same config.

    The checkpoint is (re)written atomically at every evaluation and removed when training ends.
    A checkpoint of another config, or one that cannot be read, is reported and ignored.
    A run whose mean training loss becomes NaN or infinite ends at that evaluation: it returns
    the network of the previous evaluation (the last row of its history), sets
    ``history.diverged_at`` and warns. Divergence is an outcome of the protocol, reported with
    the network, not an error that loses the run.

    ``init_state``: the weights (``state_dict``) of the parent network ``config.init_from``,
    required exactly when that is set (:func:`inherit_weights` applies them before step 0).
    """
    device = torch.device(device) if device is not None else default_device()
    if config.init_from is not None and init_state is None:
        raise ValueError(
            f"config.init_from is set: this network starts from the weights of a "
            f"{config.init_from.mechanism} network on {list(config.init_from.tasks)};"
            " pass them as init_state (lib.experiments.packing loads them from the "
            "parent's network artifact)"
        )
    if init_state is not None and config.init_from is None:
        raise ValueError(
            "init_state is given but config.init_from is None: a fresh network "
            "starts from its own initialisation"
        )

    def fresh() -> tuple:
        model = build_model(config)
        if init_state is not None:
            inherit_weights(model, config, init_state)
        model = model.to(device)
        params = trainable_parameters(model, config.trainable)
        return model, params, make_optimizer(params, config.lr, device), History(config.tasks), 0

    model, params, optimizer, history, start = fresh()
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        try:
            state = torch.load(ckpt, map_location=device, weights_only=False)
            if state["config"] != config.to_dict():
                raise ValueError("it was written for another config")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            history = History.from_dict(state["history"])
            start = state["step"]
        except Exception as err:  # noqa: BLE001 -- any unreadable checkpoint means: start over
            warnings.warn(f"checkpoint {ckpt} not used ({err}); training from step 0")
            model, params, optimizer, history, start = fresh()  # nothing half-loaded survives

    eval_batches = evaluation_batches(config, device)
    last_evaluated = weights_copy(model)  # what a diverged run returns
    t0 = time.perf_counter() - history.wall_s
    if start == 0 and not history.steps:
        history.record(0, config.batch_size, float("nan"), evaluate(model, config, eval_batches))
    done = at_criterion(history, config)
    bar = tqdm(
        total=config.max_steps,
        initial=start,
        disable=not progress,
        leave=False,
        desc=f"{config.mechanism} N={config.n_rec} seed={config.seed}",
    )
    # Losses are summed on the device and read once per evaluation: no host-device
    # synchronisation per step on a GPU. Finiteness is checked there too, before any checkpoint.
    loss_sum = torch.zeros((), device=device)
    n_losses = 0
    step = start
    while step < config.max_steps and not done:
        loss = train_step(model, optimizer, params, config, step, history, device)
        loss_sum += loss
        n_losses += 1
        step += 1
        bar.update(1)
        if step % config.eval_every == 0 or step == config.max_steps:
            mean_loss = loss_sum.item() / n_losses
            if not math.isfinite(mean_loss):
                model.load_state_dict(last_evaluated)
                history.diverged_at = step
                warnings.warn(divergence_message(config, step, n_losses, mean_loss))
                break
            history.record(
                step,
                config.batch_size,
                mean_loss,
                evaluate(model, config, eval_batches),
                time.perf_counter() - t0,
            )
            loss_sum.zero_()
            n_losses = 0
            done = at_criterion(history, config)
            last_evaluated = weights_copy(model)
            bar.set_postfix(loss=f"{history.loss[-1]:.4f}", min_perf=f"{min(history.perf[-1]):.2f}")
            if ckpt is not None and step < config.max_steps and not done:
                atomic_torch_save(_state(model, optimizer, step, history, config), ckpt)
    bar.close()
    history.wall_s = time.perf_counter() - t0
    if ckpt is not None and ckpt.exists():
        ckpt.unlink()
    model.eval()
    return TrainResult(config, model.cpu(), history)


def weights_copy(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of a model's ``state_dict`` (the weights of one evaluation)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def divergence_message(config: TrainConfig, step: int, n_losses: int, loss: float) -> str:
    """The warning of a run whose loss became ``loss`` in the ``n_losses`` steps before ``step``."""
    return (
        f"{config.mechanism} N={config.n_rec} seed={config.seed}: the training loss became "
        f"{loss} between steps {step - n_losses} and {step - 1}; training ends there and the "
        f"network is the one evaluated at step {step - n_losses} (history.diverged_at = {step})"
    )


def train_step(
    model: ModulatedRNN,
    optimizer: torch.optim.Optimizer,
    params: list[torch.nn.Parameter],
    config: TrainConfig,
    step: int,
    history: History,
    device=None,
) -> torch.Tensor:
    """One training step ``step``: its batch and network noise (:func:`training_batch`, the
    noise stream), Yang's loss, backward, gradient clipping, Adam. Returns the loss (a detached
    0-d tensor on the device; reading it would synchronise a GPU)."""
    k, x, y, c_mask = training_batch(config, step, history, device)
    gen = torch_generator(step_seed(config.seed, STREAM_NOISE, step), device)
    c, syn = training_contexts(config, k, step, x.shape[0], device)
    return optimise_on_batch(
        model, optimizer, params, x, y, c_mask, c, gen, config.grad_clip, syn_context=syn
    )


def optimise_on_batch(
    model: ModulatedRNN,
    optimizer: torch.optim.Optimizer,
    params: list[torch.nn.Parameter],
    x: torch.Tensor,
    y: torch.Tensor,
    c_mask: torch.Tensor,
    c: torch.Tensor,
    generator: torch.Generator,
    grad_clip: float | None,
    syn_context: torch.Tensor | None = None,
) -> torch.Tensor:
    """The update of one step on a given batch (x (T, B, n_in), y and c_mask (T, B, n_out),
    context c (B, K) or (T, B, K), and for the hybrid a separate ``syn_context`` of the same
    shapes, ``None``: c): forward with network noise from ``generator``, Yang's loss, backward,
    elementwise clipping, optimizer step. Returns the detached loss (0-d, on the device)."""
    y_hat, _ = model(x, c, syn_context=syn_context, noise=True, generator=generator)
    loss = masked_mse(y_hat, y, c_mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip_gradients(params, grad_clip)
    optimizer.step()
    return loss.detach()


def make_optimizer(
    params: Sequence[torch.Tensor], lr: float, device: torch.device
) -> torch.optim.Adam:
    """Adam at ``lr`` (the fused kernel where torch has one for the device): the optimizer of
    every trainer (single networks, ensembles) and of the plan's timing."""
    return torch.optim.Adam(params, lr=lr, fused=device.type in ("cpu", "cuda"))


def training_batch(
    config: TrainConfig, step: int, history: History, device=None
) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The task index and batch ``(k, x, y, c_mask)`` of training step ``step``.

    A function of ``(config, step)`` only (and, for ``sampling="error"``, of the last
    evaluation in ``history``), so a resumed run and every member of an ensemble draw exactly
    what a single uninterrupted run draws.
    """
    rng = np.random.default_rng(step_seed(config.seed, STREAM_BATCH, step))
    last = history.perf[-1] if history.perf else None
    weights = config.task_weights(last)
    if config.schedule_seed is None:  # the task is drawn from the network's own batch stream
        k = int(rng.choice(len(config.tasks), p=weights))
    else:  # from a schedule stream that networks of different seeds can share
        schedule = np.random.default_rng(step_seed(config.schedule_seed, STREAM_SCHEDULE, step))
        k = int(schedule.choice(len(config.tasks), p=weights))
    batch = yang_tasks.make_batch(
        config.tasks[k], config.batch_size, rng, noise=False, easy=step < config.easy_steps
    )
    return (k, *batch.to_torch(device))


def training_context(config: TrainConfig, k: int, step: int, device=None) -> torch.Tensor:
    """The context (B, K) of training step ``step`` on task ``k``: one-hot e_k, or with
    ``config.train_mix`` > 0 the mixture (1 - lam) e_k + lam e_j of one distractor j != k and
    weight lam ~ U(0, train_mix), both drawn from the step's own stream (:data:`STREAM_MIX`),
    the same for every trial of the batch."""
    K, B = len(config.tasks), config.batch_size
    c = one_hot(k, K, B, device)
    if config.train_mix:
        rng = np.random.default_rng(step_seed(config.seed, STREAM_MIX, step))
        j = int(rng.choice([i for i in range(K) if i != k]))
        lam = float(rng.uniform(0.0, config.train_mix))
        c = c * (1.0 - lam)
        c[:, j] = lam
    return c


def training_contexts(
    config: TrainConfig, k: int, step: int, n_steps: int, device=None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The contexts ``(c, syn_context)`` of training step ``step`` on task ``k`` with trials of
    ``n_steps`` steps: ``(training_context(...), None)`` without a training filter (today's
    contexts, bit for bit, nothing drawn from :data:`STREAM_CUES`); with one, each pathway's
    filtered state (:func:`lib.core.filters.filtered_training_contexts`: one cue history per
    trial drawn from the step's own stream :data:`STREAM_CUES`, (B, K) or (T, B, K), float32).
    The hybrid gets ``c`` = its excitability state and ``syn_context`` = its synaptic state; a
    network with one pathway gets that pathway's state as ``c`` (``syn_context`` None)."""
    if not config.filtered:
        return training_context(config, k, step, device), None
    have = mechanism_pathways(config.mechanism)
    modes = {p: m for p, m in config.filter_modes().items() if p in have}
    rng = np.random.default_rng(step_seed(config.seed, STREAM_CUES, step))
    states = filters.filtered_training_contexts(
        modes,
        k,
        len(config.tasks),
        config.batch_size,
        n_steps,
        config.train_tau_fast,
        config.train_tau_slow,
        rng,
    )
    out = {p: torch.as_tensor(m, dtype=torch.float32, device=device) for p, m in states.items()}
    if len(out) == 2:
        return out["exc"], out["syn"]
    return next(iter(out.values())), None


def clip_gradients(params: Sequence[torch.Tensor], clip: float | None) -> None:
    """Yang's ``tf.clip_by_value(grad, -clip, clip)`` on every gradient element (in place)."""
    if clip is None:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if grads:
        torch._foreach_clamp_min_(grads, -clip)
        torch._foreach_clamp_max_(grads, clip)


def at_criterion(history: History, config: TrainConfig) -> bool:
    """The stopping rule: every trained task (all of them unless ``config.train_tasks``) at
    criterion at the last evaluation (if the config stops there at all)."""
    if not config.stop_at_criterion:
        return False
    last = history.perf[-1]
    if config.train_tasks is not None:
        last = [p for p, on in zip(last, config.trained_mask()) if on]
    return min(last) >= config.criterion


def same_run_at_budget(result: TrainResult, config: TrainConfig) -> TrainResult | None:
    """``result`` as the run of ``config`` -- ``result.config`` with a larger ``max_steps`` --
    where that run is known without training it; None where it is not.

    :func:`train` indexes every batch, noise draw, curriculum phase and evaluation by the step
    and reads ``max_steps`` only to stop, so a run that stopped *at criterion* at step s before its
    own budget is step for step the run of any budget >= s (``tests/test_train.py`` trains both and
    compares). A run that used its whole budget, or diverged, would go on differently: None.
    """
    own = result.config
    if config.replace(max_steps=own.max_steps) != own:
        raise ValueError(
            "config must be result.config with another max_steps; they differ in "
            + ", ".join(
                k for k, v in config.to_dict().items() if k != "max_steps" and own.to_dict()[k] != v
            )
        )
    history = result.history
    stopped_early = (
        history.diverged_at is None
        and bool(history.steps)
        and history.steps[-1] < own.max_steps
        and at_criterion(history, own)
    )
    if not stopped_early or config.max_steps < history.steps[-1]:
        return None
    return TrainResult(config, result.model, history)


def default_device() -> torch.device:
    """``$BOOK_DEVICE`` if set (e.g. ``cpu`` to run many 1-thread CPU workers on a GPU node),
    else CUDA when present, else CPU: the same code runs on a laptop and a GPU node."""
    name = os.environ.get("BOOK_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"BOOK_DEVICE: {name!r} is not a torch device ({err})") from err


__all__ = [
    "same_run_at_budget",
    "SMALL_WORK_THREADS",
    "torch_threads",
    "load_model",
    "TrainConfig",
    "History",
    "TrainResult",
    "TRAINABLE",
    "INHERIT",
    "build_model",
    "inherit_weights",
    "train",
    "evaluate",
    "evaluation_batches",
    "trainable_parameters",
    "training_batch",
    "train_step",
    "training_context",
    "training_contexts",
    "optimise_on_batch",
    "make_optimizer",
    "at_criterion",
    "clip_gradients",
    "weights_copy",
    "divergence_message",
    "default_device",
    "SAMPLING",
]
