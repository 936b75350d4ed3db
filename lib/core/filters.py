"""Modulation filters: how a pathway's modulation state follows the task cue (E5's time courses,
:mod:`lib.experiments.timescales`), and the cue histories with which a network is *trained* under
a filter ("the filter in the loop", ``TrainConfig.train_filter_exc`` / ``train_filter_syn``).

One implementation for both: E5's sequences and training call the same :func:`fast_filter`,
:func:`slow_filter` and :class:`ModulationState`.

**Modes** (:data:`MODES`). A pathway receives a modulation state m (K,) that follows the cue
c = e_k of the task cued on each trial:

* ``instant``: m = c (E1's setting);
* ``fast``: within a trial, step by step, m(t+1) = m(t) + (c - m(t)) r_fast with
  r_fast = dt / tau_fast (dt = ``lib.core.tasks.DT`` = 20 ms per step, tau_fast in ms), carried
  across trial boundaries; closed form m(t) = c + (m(0) - c)(1 - r_fast)^t. The network receives
  m(t) at step t, so at the first step after a switch it receives the previous cue;
* ``slow``: constant within a trial, updated between trials, m_{n+1} = m_n + (c_n - m_n) r_slow
  with r_slow = 1 / tau_slow (tau_slow in trials): trial n receives m_n, built from the cues of
  the trials before it.

A state starts at the fixed point of its first cue (m = e_{first cue}), where every filter stays.

**Training under a filter** (:func:`filtered_training_contexts`). A filter-trained step on task k
gives each trial b of its batch a history of earlier cues h_{b,0}, ..., h_{b,H-1} (oldest first,
:func:`draw_cue_history`), a Markov chain run backwards from the trial's own cue: each earlier
cue equals the one after it with probability 1 - p, and is another task of the set, uniformly,
with probability p = :data:`TRAIN_SWITCH_PROB` (a switch). Each pathway's state starts at the
fixed point of h_{b,0}, is filtered through the history trials (each lasting the batch's own T
steps) and then gives the trial's context, exactly as :class:`ModulationState` does on one of
E5's sequences:

* ``instant``: e_k, (B, K) (the control: today's one-hot training);
* ``fast``: (T, B, K), m_b(t) = e_k + (m_b(0) - e_k)(1 - r_fast)^t with m_b(0) the state the
  history left (with H = 1, exactly the previous cue e_{h_{b,0}});
* ``slow``: (B, K), m_b = (1 - r_slow)^H e_{h_{b,0}} + sum_{j<H} r_slow (1 - r_slow)^{H-1-j}
  e_{h_{b,j}}: not one-hot after a switch.

A trial whose history is all k (no switch) gets exactly e_k in every mode. The hybrid's two
pathways filter the *same* history, each with its own mode. The target stays task k's.

The history is long enough that what it leaves out no longer matters (:func:`history_length`):
H = 1 without a slow pathway (the fast state a trial leaves is the cue to within
(1 - r_fast)^T, e.g. 0.8^T < 1e-4 for T >= 42 steps at tau_fast = 100 ms), and with one the
smallest H at which the weight (1 - r_slow)^H of every older cue in m is at most
:data:`HISTORY_TOLERANCE` (H = 17 at E5's tau_slow = 4 trials).
"""

from __future__ import annotations

import math

import numpy as np

from lib.core.checks import check_choice, check_number, check_positive_int, fail
from lib.core.tasks import DT

MODES = ("instant", "fast", "slow")
"""How a pathway's modulation state follows the cue (module docstring)."""

TAU_FAST_MS = 100.0
"""E5's fast time constant (ms; ``TIMESCALES_PARAMS["tau_fast"]`` at every profile): the network's
own time constant tau_net = dt / alpha = 100 ms."""
TAU_SLOW_TRIALS = 4.0
"""E5's slow time constant (trials; ``TIMESCALES_PARAMS["tau_slow"]`` at every profile)."""

TRAIN_SWITCH_PROB = 0.25
"""Probability that a trial's previous cue is another task (a switch) in filter training.

Chosen as the pooled cue-change rate of the sequences E5 tests a network on, per trial
transition: at the quick profile (block 12 x 6 blocks: 5 switches in 71 transitions;
interleaved 48 trials, each task drawn with probability 1/2: 23.5 expected switches in 47; the
two error sequences of 2 + 5 trials: 2 cue changes in 6 transitions each) (5 + 23.5 + 4) /
(71 + 47 + 12) = 0.25, and the same at the paper profile (58.5 / 234). The interleaved rate 0.5
alone would train almost only on switch trials, where the slow state carries little of the
current cue (under the slow filter trial n does not see its own cue), while the blocked rate
1/12 alone would rarely show a switch. ``tests/test_train_filters.py`` recomputes the pooled
rate from E5's quick spec."""

HISTORY_TOLERANCE = 0.01
"""The largest weight the cues older than a slow state's history may have had in it
(:func:`history_length`)."""

MAX_HISTORY = 10_000
"""Upper bound on a history's length (tau_slow up to 1000 trials needs 4,603)."""


def fast_rate(tau_fast: float) -> float:
    """r_fast = dt / tau_fast: the fraction of the gap to the cue closed per step (tau_fast in ms,
    >= dt = :data:`lib.core.tasks.DT`)."""
    tau = check_number(
        "tau_fast",
        tau_fast,
        DT,
        math.inf,
        f"a time constant in ms, finite and >= {DT}",
        open_high=True,
    )
    return DT / tau


def slow_rate(tau_slow: float) -> float:
    """r_slow = 1 / tau_slow: the fraction of the gap to the cue closed per trial (tau_slow in
    trials, >= 1)."""
    tau = check_number(
        "tau_slow",
        tau_slow,
        1.0,
        math.inf,
        "a time constant in trials, finite and >= 1",
        open_high=True,
    )
    return 1.0 / tau


def fast_filter(
    m0: np.ndarray, cue: np.ndarray, n_steps: int, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """The fast modulation over one trial of ``n_steps`` steps: the state the network receives
    at each step (n_steps, ...) and the state after the last step (...), for
    m(t+1) = m(t) + (cue - m(t)) * rate from m(0) = m0, i.e. m(t) = cue + (m0 - cue)(1 - rate)^t
    (computed in that closed form, so a state at the cue stays exactly at it). ``m0`` and ``cue``
    are (K,) or, for a batch of trials, (B, K) (float64)."""
    m0, cue = np.asarray(m0, np.float64), np.asarray(cue, np.float64)
    gap = m0 - cue
    decay = (1.0 - rate) ** np.arange(n_steps + 1)
    traj = cue + gap * decay.reshape((-1,) + (1,) * gap.ndim)
    return traj[:-1], traj[-1]


def slow_filter(m: np.ndarray, cue: np.ndarray, rate: float) -> np.ndarray:
    """The slow modulation after one more trial with ``cue``: m + (cue - m) * rate ((K,) or
    (B, K), float64)."""
    m, cue = np.asarray(m, np.float64), np.asarray(cue, np.float64)
    return m + (cue - m) * rate


class ModulationState:
    """The modulation state m of one pathway under one of :data:`MODES`, started at the fixed
    point of ``first_cue``: a task index (state (K,)) or one per trial of a batch ((B,) ints,
    state (B, K)). ``fast_rate`` = dt / tau_fast per step, ``slow_rate`` = 1 / tau_slow per
    trial (:func:`fast_rate`, :func:`slow_rate`)."""

    def __init__(
        self, mode: str, first_cue, n_tasks: int, fast_rate: float, slow_rate: float
    ) -> None:
        check_choice("mode", mode, MODES)
        self.mode, self.K = mode, n_tasks
        self.fast_rate, self.slow_rate = fast_rate, slow_rate
        self.m = self._eye(first_cue)

    def _eye(self, k) -> np.ndarray:
        """e_k (K,) for a task index, (B, K) for (B,) indices."""
        return np.eye(self.K)[k]

    def trial(self, cue, n_steps: int) -> np.ndarray:
        """The context this pathway receives on a trial of ``n_steps`` steps cued ``cue`` (an
        index, or (B,) indices): (K,) or (B, K) when constant over the trial, (n_steps, K) or
        (n_steps, B, K) otherwise; advances the state."""
        c = self._eye(cue)
        if self.mode == "instant":
            return c
        if self.mode == "slow":
            now, self.m = self.m, slow_filter(self.m, c, self.slow_rate)
            return now
        traj, self.m = fast_filter(self.m, c, n_steps, self.fast_rate)
        return traj[0] if (traj == traj[0]).all() else traj


def history_length(slow_rate: float | None) -> int:
    """H, the earlier trials a filter-trained trial's history holds: 1 without a slow pathway
    (``slow_rate`` None), else the smallest H >= 1 with (1 - slow_rate)^H <= HISTORY_TOLERANCE
    (1 for slow_rate = 1, where the state is the previous cue)."""
    if slow_rate is None or slow_rate >= 1.0:
        return 1
    check_number("slow_rate", slow_rate, 0.0, 1.0, "a rate in (0, 1]", open_low=True)
    n = math.ceil(math.log(HISTORY_TOLERANCE) / math.log1p(-slow_rate) - 1e-12)
    return min(max(n, 1), MAX_HISTORY)


def draw_cue_history(
    k: int,
    n_tasks: int,
    batch_size: int,
    length: int,
    rng: np.random.Generator,
    switch_prob: float = TRAIN_SWITCH_PROB,
) -> np.ndarray:
    """The earlier cues (B, H) of each trial of a batch on task ``k``, oldest first (column
    H - 1 is the previous trial's cue): going back from the trial's own cue, each cue is the one
    after it with probability 1 - ``switch_prob`` and otherwise one of the other K - 1 tasks,
    uniformly. Draws, in this order, from ``rng``: U(0, 1) (B, H) for the switches, then
    integers (B, H) in [0, K - 1) for the other task (both always drawn, so the numbers do not
    depend on the outcome)."""
    check_positive_int("batch_size", batch_size)
    check_positive_int("length", length)
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, (int, np.integer)) or n_tasks < 2:
        fail("n_tasks", n_tasks, "an integer >= 2 (a switch needs another task)")
    if not 0 <= k < n_tasks:
        fail("k", k, f"a task index in [0, {n_tasks})")
    check_number("switch_prob", switch_prob, 0.0, 1.0, "a probability in [0, 1]")
    switch = rng.random((batch_size, length)) < switch_prob
    other = rng.integers(0, n_tasks - 1, (batch_size, length))
    out = np.empty((batch_size, length), np.int64)
    after: np.ndarray = np.full(batch_size, k, np.int64)
    for j in range(length - 1, -1, -1):
        o = other[:, j]
        after = np.where(switch[:, j], o + (o >= after), after)  # o skips the task after it
        out[:, j] = after
    return out


def filter_history(
    mode: str,
    k: int,
    history: np.ndarray,
    n_tasks: int,
    n_steps: int,
    fast_rate: float,
    slow_rate: float,
) -> np.ndarray:
    """The context one pathway gives each trial of a batch on task ``k`` after its cue
    ``history`` (B, H) (oldest first; each earlier trial ``n_steps`` long): the state starts at
    the fixed point of the oldest cue, runs through the history and then through the trial
    (module docstring). (B, K) for ``instant`` and ``slow`` and for a ``fast`` batch without any
    switch, (n_steps, B, K) for ``fast`` otherwise; float64."""
    history = np.asarray(history)
    state = ModulationState(mode, history[:, 0], n_tasks, fast_rate, slow_rate)
    if mode != "instant":
        for j in range(history.shape[1]):
            state.trial(history[:, j], n_steps)
    return state.trial(np.full(history.shape[0], k), n_steps)


def filtered_training_contexts(
    modes: dict[str, str],
    k: int,
    n_tasks: int,
    batch_size: int,
    n_steps: int,
    tau_fast: float,
    tau_slow: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The context of each pathway {pathway: mode} for one filter-trained step on task ``k``:
    one cue history per trial (:func:`draw_cue_history`, H = :func:`history_length`, drawn from
    ``rng`` even when every mode is ``instant``), filtered by each pathway's own mode
    (:func:`filter_history`). Returns {pathway: (B, K) or (n_steps, B, K)} (float64)."""
    for pathway, mode in modes.items():
        check_choice(f"modes[{pathway!r}]", mode, MODES)
    r_fast, r_slow = fast_rate(tau_fast), slow_rate(tau_slow)
    length = history_length(r_slow if "slow" in modes.values() else None)
    history = draw_cue_history(k, n_tasks, batch_size, length, rng)
    return {
        pathway: filter_history(mode, k, history, n_tasks, n_steps, r_fast, r_slow)
        for pathway, mode in modes.items()
    }


__all__ = [
    "MODES",
    "TAU_FAST_MS",
    "TAU_SLOW_TRIALS",
    "TRAIN_SWITCH_PROB",
    "HISTORY_TOLERANCE",
    "MAX_HISTORY",
    "fast_rate",
    "slow_rate",
    "fast_filter",
    "slow_filter",
    "ModulationState",
    "history_length",
    "draw_cue_history",
    "filter_history",
    "filtered_training_contexts",
]
