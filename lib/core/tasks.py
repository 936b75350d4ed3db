"""Yang et al. (2019) task battery: vectorised trial generation in two steps, sample and render.

A faithful NumPy re-implementation of ``task.py`` of Yang, Joglekar, Song, Newsome & Wang (2019),
``mode='random'``, ``loss_type='lsq'``, dt = 20 ms, for the 20 tasks of ``rules_dict['all']``.

**Sample.** One sampler per task (the registry :data:`SAMPLERS`: each name bound to its family's
function, ``_fdgo_``, ``_dm_``, ... with the task's arguments) draws a batch of explicit conditions
(:class:`Conditions`): the timing is shared by the whole batch (so every trial has ``tdim`` steps),
as in Yang; angles, strengths, coherences and match flags are drawn per trial; stimulus modalities
are drawn per batch (Go/Anti families, per stimulus in DMS/DMC) exactly where Yang draws them. The
conditions are the list of Yang's ``Trial.add`` calls (:class:`Event`) plus the cost-mask arguments
and the epochs.

**Render.** :func:`render` turns any conditions into tensors (time-major, ``T = tdim``, ``B``
trials):

- ``x`` (T, B, 65): channel 0 fixation input (1 on each ``fix_in`` window), channels ``1+32(m-1) ..
  32m`` ring ``m`` in {1, 2}; a ``stim`` event at angle ``theta`` with strength ``s`` adds
  ``s * 0.8 * exp(-d_k^2 / 2)`` to unit k on its window, with
  ``d_k = dist(theta, 2 pi k / 32) / (pi / 8)`` and ``dist`` the periodic distance; stimuli add up.
- ``y`` (T, B, 33): baseline 0.05; output 0 is set to 0.8 on each ``fix_out`` window; an ``out``
  event adds ``s * 0.8 * exp(-d_k^2 / 2)`` to outputs 1..32 on its window (peak 0.85).
- ``y_loc`` (T, B): the response angle (rad) on ``out`` windows, -1 where the network should fixate.
- ``c_mask`` (T, B, 33): Yang's cost mask, 0 on ``[0, 5)`` (the first 100 ms), 1 on
  ``[5, pre_off)``, 0 on ``[pre_off, post_on)`` (100 ms grace after the response cue), 5 on
  ``[post_on, T)``; the pre window wins where they overlap; column 0 (fixation) doubled.

Event windows are half-open step ranges ``[on, off)`` (Python slice semantics of Yang's
``x[on:off]``); an empty window (``off <= on``, e.g. ``off = 0``) adds nothing. Rendering is
vectorised over trials (no Python loop over trials anywhere): the trial is cut into the few
segments between window boundaries, one (B, channels) row is built per segment, and the rows are
repeated over time. Rendering the conditions of a fixture record (:func:`conditions_from_yang`)
reproduces Yang's tensors on channels 0-64 bit for bit.

Yang's rule units (inputs 65-84) are not part of ``x``: task context reaches the model through the
context pathways of ``lib.core.model`` instead.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping
from typing import cast
from dataclasses import dataclass, field
from functools import lru_cache, partial
from math import prod, sqrt

import numpy as np

# ---------------------------------------------------------------------------------------------
# Constants (Yang's hp: n_eachring = 32, dt = 20 ms, tau = 100 ms, sigma_x = 0.01)
# ---------------------------------------------------------------------------------------------
N_RING = 32
N_INPUT = 1 + 2 * N_RING  # 65: fixation + two modality rings (no rule units)
N_OUTPUT = 1 + N_RING  # 33: fixation + response ring
DT = 20  # ms per step
ALPHA = 0.2  # dt / tau
INPUT_NOISE = 0.01 * sqrt(2 / ALPHA)  # s.d. of Yang's input noise per step, ~0.0316

TASKS: tuple[str, ...] = (
    "fdgo",
    "reactgo",
    "delaygo",
    "fdanti",
    "reactanti",
    "delayanti",
    "dm1",
    "dm2",
    "contextdm1",
    "contextdm2",
    "multidm",
    "delaydm1",
    "delaydm2",
    "contextdelaydm1",
    "contextdelaydm2",
    "multidelaydm",
    "dmsgo",
    "dmsnogo",
    "dmcgo",
    "dmcnogo",
)
TASK_SETS: dict[str, tuple[str, ...]] = {
    "all": TASKS,
    "core8": (
        "fdgo",
        "fdanti",
        "delaygo",
        "delayanti",
        "contextdm1",
        "contextdm2",
        "dmsgo",
        "dmsnogo",
    ),
    # three conflict pairs (same stimuli, opposite or context-gated answers): the quick book
    "conflict6": ("fdgo", "fdanti", "delaygo", "delayanti", "contextdm1", "contextdm2"),
}
DISPLAY_NAMES: dict[str, str] = {  # Yang's rule_name
    "fdgo": "Go",
    "reactgo": "RT Go",
    "delaygo": "Dly Go",
    "fdanti": "Anti",
    "reactanti": "RT Anti",
    "delayanti": "Dly Anti",
    "dm1": "DM 1",
    "dm2": "DM 2",
    "contextdm1": "Ctx DM 1",
    "contextdm2": "Ctx DM 2",
    "multidm": "MultSen DM",
    "delaydm1": "Dly DM 1",
    "delaydm2": "Dly DM 2",
    "contextdelaydm1": "Ctx Dly DM 1",
    "contextdelaydm2": "Ctx Dly DM 2",
    "multidelaydm": "MultSen Dly DM",
    "dmsgo": "DMS",
    "dmsnogo": "DNMS",
    "dmcgo": "DMC",
    "dmcnogo": "DNMC",
}
EVENT_KINDS = ("fix_in", "stim", "fix_out", "out")

DM_COHERENCES = (0.01, 0.02, 0.04, 0.08)  # dm1/2, contextdm1/2, multidm (Yang, easy_task=False)
EASY_COHERENCE_FACTOR = 10  # Yang's easy_task=True multiplies the DM coherences by 10
EASY_DM_COHERENCES = tuple(EASY_COHERENCE_FACTOR * c for c in DM_COHERENCES)
EASY_TASKS = ("dm1", "dm2", "contextdm1", "contextdm2", "multidm")  # the tasks easy_task changes
DELAYDM_COHERENCES = (0.08, 0.16, 0.32)  # delaydm1/2, contextdelaydm1/2, multidelaydm
DMC_ANGLES = tuple(np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9]) * np.pi)

_PREF = np.arange(0, 2 * np.pi, 2 * np.pi / N_RING)  # preferred angles, exactly as Yang builds them
_PRE_ON = int(100 / DT)  # the cost mask never checks the first 100 ms
_GRACE = int(100 / DT)  # steps between the response cue and the checked response
_RESPONSE = int(500 / DT)  # response epoch length of most tasks
_FIX_DOUBLE = np.array([2.0] + [1.0] * N_RING, np.float32)  # cost-mask column weights


def ring_bump(locs: np.ndarray, strengths: np.ndarray | float = 1.0) -> np.ndarray:
    """Yang's ring code ``s * 0.8 * exp(-d^2 / 2)``, d = periodic distance / (pi / 8).

    ``locs`` (B,) angles in rad, ``strengths`` (B,) or scalar -> (B, 32) float64, computed with the
    same operations as Yang's ``add_x_loc`` so that the rendered inputs match his to the last bit.
    """
    d = np.abs(np.asarray(locs, dtype=np.float64)[:, None] - _PREF)
    dist = np.minimum(d, 2 * np.pi - d)
    dist /= np.pi / 8
    dist *= dist
    dist *= -0.5  # exact, so exp's argument equals Yang's -dist**2/2 bit for bit
    return 0.8 * np.exp(dist) * np.asarray(strengths, dtype=np.float64).reshape(-1, 1)


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Event:
    """One of Yang's ``Trial.add`` calls, with every argument expanded to a per-trial array.

    - ``kind``: ``fix_in`` (fixation input), ``stim`` (ring input), ``fix_out`` (fixation target),
      ``out`` (response target and ``y_loc``).
    - ``ons``, ``offs`` (B,) int64: window ``[on, off)`` in steps; Yang's ``None`` is resolved to 0
      (from the start) and ``tdim`` (to the end).
    - ``strengths`` (B,) float64: bump amplitude factor (Yang's default 1; the decision stimuli
      carry their evidence here).
    - ``locs`` (B,) float64 rad, for ``stim`` and ``out`` (None otherwise); ``mods`` (B,) int64 in
      {1, 2}, the ring of a ``stim`` (None otherwise).

    Sampled events may share (read-only) arrays with each other and with other batches.
    """

    kind: str
    ons: np.ndarray
    offs: np.ndarray
    strengths: np.ndarray
    locs: np.ndarray | None = None
    mods: np.ndarray | None = None

    def angles(self) -> np.ndarray:
        """``locs``, which every ``stim`` and ``out`` event has (ValueError for the others)."""
        if self.locs is None:
            raise ValueError(f"a {self.kind} event has no locs")
        return self.locs

    def rings(self) -> np.ndarray:
        """``mods``, which every ``stim`` event has (ValueError for the others)."""
        if self.mods is None:
            raise ValueError(f"a {self.kind} event has no mods")
        return self.mods


@dataclass(frozen=True, eq=False)
class Conditions:
    """Explicit conditions of one batch of one task: everything :func:`render` needs.

    - ``task``: the task name; ``tdim``: trial length in steps (shared by the batch).
    - ``events``: Yang's ``Trial.add`` calls in order (later ``fix_in``/``fix_out``/``y_loc`` writes
      overwrite, ``stim``/``out`` bumps add).
    - ``pre_offs``, ``post_ons`` (B,) int64: the arguments of Yang's ``add_c_mask``.
    - ``epochs``: Yang's named epochs in his order, ``name -> (on, off)`` steps, ``None`` = trial
      start / end.
    """

    task: str
    tdim: int
    events: tuple[Event, ...]
    pre_offs: np.ndarray
    post_ons: np.ndarray
    epochs: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return len(self.pre_offs)

    def __post_init__(self):
        """Cheap structural checks (values are checked, vectorised, by :func:`render`)."""
        B = len(self.pre_offs)
        if self.tdim < 1:
            raise ValueError(f"tdim={self.tdim!r} must be a positive number of steps")
        if len(self.post_ons) != B:
            raise ValueError(f"post_ons has {len(self.post_ons)} trials, pre_offs {B}")
        for e in self.events:
            if e.kind not in EVENT_KINDS:
                raise ValueError(f"event kind {e.kind!r} is not one of {EVENT_KINDS}")
            for name in ("ons", "offs", "strengths", "locs", "mods"):
                a = getattr(e, name)
                if a is None and name in ("ons", "offs", "strengths"):
                    raise ValueError(f"{e.kind} event: {name} is required")
                if a is not None and not isinstance(a, np.ndarray):
                    raise ValueError(
                        f"{e.kind} event: {name} must be a numpy array, got {type(a).__name__}"
                    )
                if a is not None and a.shape != (B,):
                    raise ValueError(f"{e.kind} event: {name} has shape {a.shape}, expected ({B},)")
            if e.kind in ("stim", "out") and e.locs is None:
                raise ValueError(f"a {e.kind} event needs locs")
            if e.kind == "stim" and e.mods is None:
                raise ValueError("a stim event needs mods (1 or 2 per trial)")


@lru_cache(maxsize=512)
def _const(B: int, value: int | float, dtype: type) -> np.ndarray:
    """A read-only (B,) array filled with ``value``: the batch-shared arguments of the sampled
    events, cached because allocating them is a sizeable part of sampling a batch."""
    a: np.ndarray = np.full(B, value, dtype=dtype)
    a.flags.writeable = False
    return a


def _event(
    kind: str, B: int, tdim: int, locs=None, ons=None, offs=None, strengths=None, mods=None
) -> Event:
    """An :class:`Event` from Yang-style arguments (scalars broadcast to the batch, None
    resolved)."""
    return Event(
        kind,
        _const(B, 0 if ons is None else int(ons), np.int64),
        _const(B, tdim if offs is None else int(offs), np.int64),
        _const(B, 1.0, np.float64) if strengths is None else strengths,
        locs,
        None if mods is None else _const(B, int(mods), np.int64),
    )


def _conditions(task: str, tdim: int, events: list[Event], pre_off, post_on, epochs) -> Conditions:
    B = len(events[0].ons)
    return Conditions(
        task,
        int(tdim),
        tuple(events),
        _const(B, int(pre_off), np.int64),
        _const(B, int(post_on), np.int64),
        epochs,
    )


# ---------------------------------------------------------------------------------------------
# Samplers: one family function per Yang family, one function per task (Yang's names)
# ---------------------------------------------------------------------------------------------
def _steps(ms: float) -> int:
    """Yang's ``int(ms / dt)`` (truncation)."""
    return int(ms / DT)


def _pick(rng: np.random.Generator, values) -> float:
    """One value drawn uniformly from ``values`` (a per-batch choice, Yang's
    ``rng.choice(values)``)."""
    return values[rng.integers(len(values))]


def _picks(rng: np.random.Generator, values, B: int) -> np.ndarray:
    """(B,) values drawn uniformly and independently from ``values`` (a per-trial choice)."""
    return np.asarray(values)[rng.integers(len(values), size=B)]


def _signs(rng: np.random.Generator, B: int) -> np.ndarray:
    """(B,) random signs +-1 with p = 1/2."""
    return 1 - 2 * rng.integers(2, size=B)


def _two_locs(rng: np.random.Generator, B: int) -> tuple[np.ndarray, np.ndarray]:
    """Two stimulus angles separated by U(0.5 pi, 1.5 pi) in a random direction (Yang's DM
    tasks)."""
    dist = rng.uniform(0.5 * np.pi, 1.5 * np.pi, B) * _signs(rng, B)
    loc1 = rng.uniform(0, 2 * np.pi, B)
    return loc1, (loc1 + dist) % (2 * np.pi)


def _genstim(rng: np.random.Generator, B: int, cohs) -> tuple[np.ndarray, np.ndarray]:
    """Strengths ``mean +- coh * sign``, mean ~ U(0.8, 1.2) (Yang's ``contextdm_genstim``)."""
    mean = rng.uniform(0.8, 1.2, B)
    coh = _picks(rng, cohs, B)
    sign = _signs(rng, B)
    return mean + coh * sign, mean - coh * sign


def _fdgo_(task: str, B: int, rng: np.random.Generator, anti: bool) -> Conditions:
    """Go / Anti: stimulus on at U(300, 700) ms and stays on; fixation off U(500, 1500) ms later.

    The response is the stimulus angle (+ pi for Anti); one ring for the whole batch.
    """
    locs = rng.uniform(0, 2 * np.pi, B)
    mod = _pick(rng, (1, 2))
    stim_on = _steps(rng.uniform(300, 700))
    fix_off = stim_on + _steps(rng.uniform(500, 1500))
    tdim = fix_off + _RESPONSE
    resp = (locs + np.pi) % (2 * np.pi) if anti else locs
    ev = [
        _event("fix_in", B, tdim, offs=fix_off),
        _event("stim", B, tdim, locs, ons=stim_on, mods=mod),
        _event("fix_out", B, tdim, offs=fix_off),
        _event("out", B, tdim, resp, ons=fix_off),
    ]
    return _conditions(
        task,
        tdim,
        ev,
        fix_off,
        fix_off + _GRACE,
        {"fix1": (None, stim_on), "stim1": (stim_on, fix_off), "go1": (fix_off, None)},
    )


def _reactgo_(task: str, B: int, rng: np.random.Generator, anti: bool) -> Conditions:
    """RT Go / RT Anti: fixation input on throughout; respond at stimulus onset U(500, 2500) ms."""
    stim_on = _steps(rng.uniform(500, 2500))
    tdim = stim_on + _RESPONSE
    locs = rng.uniform(0, 2 * np.pi, B)
    mod = _pick(rng, (1, 2))
    resp = (locs + np.pi) % (2 * np.pi) if anti else locs
    ev = [
        _event("fix_in", B, tdim),
        _event("stim", B, tdim, locs, ons=stim_on, mods=mod),
        _event("fix_out", B, tdim, offs=stim_on),
        _event("out", B, tdim, resp, ons=stim_on),
    ]
    return _conditions(
        task, tdim, ev, stim_on, stim_on + _GRACE, {"fix1": (None, stim_on), "go1": (stim_on, None)}
    )


def _delaygo_(task: str, B: int, rng: np.random.Generator, anti: bool) -> Conditions:
    """Dly Go / Dly Anti: stimulus on {300,500,700} ms for {200,400,600} ms, delay
    {200,400,800,1600}."""
    locs = rng.uniform(0, 2 * np.pi, B)
    stim_on = _steps(_pick(rng, (300, 500, 700)))
    stim_off = stim_on + _steps(_pick(rng, (200, 400, 600)))
    fix_off = stim_off + _steps(_pick(rng, (200, 400, 800, 1600)))
    tdim = fix_off + _RESPONSE
    mod = _pick(rng, (1, 2))
    resp = (locs + np.pi) % (2 * np.pi) if anti else locs
    ev = [
        _event("fix_in", B, tdim, offs=fix_off),
        _event("stim", B, tdim, locs, ons=stim_on, offs=stim_off, mods=mod),
        _event("fix_out", B, tdim, offs=fix_off),
        _event("out", B, tdim, resp, ons=fix_off),
    ]
    return _conditions(
        task,
        tdim,
        ev,
        fix_off,
        fix_off + _GRACE,
        {
            "fix1": (None, stim_on),
            "stim1": (stim_on, stim_off),
            "delay1": (stim_off, fix_off),
            "go1": (fix_off, None),
        },
    )


def _choose(s1: np.ndarray, s2: np.ndarray, loc1: np.ndarray, loc2: np.ndarray) -> np.ndarray:
    """Target of a comparison: the location of the stronger stimulus (Yang: ``s1 > s2``)."""
    return np.where(s1 > s2, loc1, loc2)


def _dm_(task: str, B: int, rng: np.random.Generator, mod: int, cohs=DM_COHERENCES) -> Conditions:
    """DM 1 / DM 2: two simultaneous stimuli on ring ``mod``, go to the stronger one.

    Coherence in {0.01, 0.02, 0.04, 0.08}; stimulus on U(100, 400) ms for {400, 800, 1600} ms, then
    the response (the fixation goes off at stimulus offset).
    """
    loc1, loc2 = _two_locs(rng, B)
    s1, s2 = _genstim(rng, B, cohs)
    stim_on = _steps(rng.uniform(100, 400))
    fix_off = stim_on + _steps(_pick(rng, (400, 800, 1600)))
    tdim = fix_off + _RESPONSE
    ev = [
        _event("fix_in", B, tdim, offs=fix_off),
        _event("stim", B, tdim, loc1, ons=stim_on, offs=fix_off, strengths=s1, mods=mod),
        _event("stim", B, tdim, loc2, ons=stim_on, offs=fix_off, strengths=s2, mods=mod),
        _event("fix_out", B, tdim, offs=fix_off),
        _event("out", B, tdim, _choose(s1, s2, loc1, loc2), ons=fix_off),
    ]
    return _conditions(
        task,
        tdim,
        ev,
        fix_off,
        fix_off + _GRACE,
        {"fix1": (None, stim_on), "stim1": (stim_on, fix_off), "go1": (fix_off, None)},
    )


def _modality_strengths(rng: np.random.Generator, B: int, attend: int | str, cohs):
    """Per-ring strengths (s1_m1, s2_m1, s1_m2, s2_m2) and the compared pair (Yang's ctx/multi DM).

    Ctx DM (attend 1 or 2): each ring draws its own mean, coherence and sign; the attended ring
    decides. Multi DM (attend 'both'): one pair (s1, s2) is split between the rings,
    ``s_m1,2 = s (1 +- u / 2)``, u ~ U(0.2, 0.8) with a random sign; the ring sum (2 s) decides.
    (Yang draws u and its sign from the global, unseeded ``np.random``; we use ``rng``.)
    """
    if attend in (1, 2):
        s1m1, s2m1 = _genstim(rng, B, cohs)
        s1m2, s2m2 = _genstim(rng, B, cohs)
        return (s1m1, s2m1, s1m2, s2m2), ((s1m1, s2m1) if attend == 1 else (s1m2, s2m2))
    s1, s2 = _genstim(rng, B, cohs)
    d1 = s1 * rng.uniform(0.2, 0.8, B) * _signs(rng, B)
    d2 = s2 * rng.uniform(0.2, 0.8, B) * _signs(rng, B)
    s1m1, s1m2 = s1 + d1 / 2, s1 - d1 / 2
    s2m1, s2m2 = s2 + d2 / 2, s2 - d2 / 2
    return (s1m1, s2m1, s1m2, s2m2), (s1m1 + s1m2, s2m1 + s2m2)


def _contextdm_(
    task: str, B: int, rng: np.random.Generator, attend: int | str, cohs=DM_COHERENCES
) -> Conditions:
    """Ctx DM 1/2, MultSen DM: the two stimuli appear on both rings at once; timing as DM."""
    loc1, loc2 = _two_locs(rng, B)
    (s1m1, s2m1, s1m2, s2m2), (c1, c2) = _modality_strengths(rng, B, attend, cohs)
    stim_on = _steps(rng.uniform(100, 400))
    fix_off = stim_on + _steps(_pick(rng, (400, 800, 1600)))
    tdim = fix_off + _RESPONSE
    w = {"ons": stim_on, "offs": fix_off}
    ev = [
        _event("fix_in", B, tdim, offs=fix_off),
        _event("stim", B, tdim, loc1, strengths=s1m1, mods=1, **w),
        _event("stim", B, tdim, loc2, strengths=s2m1, mods=1, **w),
        _event("stim", B, tdim, loc1, strengths=s1m2, mods=2, **w),
        _event("stim", B, tdim, loc2, strengths=s2m2, mods=2, **w),
        _event("fix_out", B, tdim, offs=fix_off),
        _event("out", B, tdim, _choose(c1, c2, loc1, loc2), ons=fix_off),
    ]
    return _conditions(
        task,
        tdim,
        ev,
        fix_off,
        fix_off + _GRACE,
        {"fix1": (None, stim_on), "stim1": (stim_on, fix_off), "go1": (fix_off, None)},
    )


def _delaydm_timing(rng: np.random.Generator):
    """Stim 1 on {200,400,600} ms for {200,400,600}; delay {200,400,800,1600}; stim 2 for
    {200,400,600}; fixation off U(100, 300) ms after stim 2; 500 ms response."""
    on1 = _steps(_pick(rng, (200, 400, 600)))
    off1 = on1 + _steps(_pick(rng, (200, 400, 600)))
    on2 = off1 + _steps(_pick(rng, (200, 400, 800, 1600)))
    off2 = on2 + _steps(_pick(rng, (200, 400, 600)))
    fix_off = off2 + _steps(rng.uniform(100, 300))
    epochs = {
        "fix1": (None, on1),
        "stim1": (on1, off1),
        "delay1": (off1, on2),
        "stim2": (on2, off2),
        "delay2": (off2, fix_off),
        "go1": (fix_off, None),
    }
    return on1, off1, on2, off2, fix_off, fix_off + _RESPONSE, epochs


def _delaydm_(task: str, B: int, rng: np.random.Generator, mod: int) -> Conditions:
    """Dly DM 1/2: two stimuli on ring ``mod`` separated by a delay; coherence
    {0.08, 0.16, 0.32}."""
    loc1, loc2 = _two_locs(rng, B)
    s1, s2 = _genstim(rng, B, DELAYDM_COHERENCES)
    on1, off1, on2, off2, fix_off, tdim, epochs = _delaydm_timing(rng)
    ev = [
        _event("fix_in", B, tdim, offs=fix_off),
        _event("stim", B, tdim, loc1, ons=on1, offs=off1, strengths=s1, mods=mod),
        _event("stim", B, tdim, loc2, ons=on2, offs=off2, strengths=s2, mods=mod),
        _event("fix_out", B, tdim, offs=fix_off),
        _event("out", B, tdim, _choose(s1, s2, loc1, loc2), ons=fix_off),
    ]
    return _conditions(task, tdim, ev, fix_off, fix_off + _GRACE, epochs)


def _contextdelaydm_(task: str, B: int, rng: np.random.Generator, attend: int | str) -> Conditions:
    """Ctx Dly DM 1/2, MultSen Dly DM: as Dly DM with both rings (strengths as Ctx/Multi DM)."""
    loc1, loc2 = _two_locs(rng, B)
    (s1m1, s2m1, s1m2, s2m2), (c1, c2) = _modality_strengths(rng, B, attend, DELAYDM_COHERENCES)
    on1, off1, on2, off2, fix_off, tdim, epochs = _delaydm_timing(rng)
    ev = [
        _event("fix_in", B, tdim, offs=fix_off),
        _event("stim", B, tdim, loc1, ons=on1, offs=off1, strengths=s1m1, mods=1),
        _event("stim", B, tdim, loc2, ons=on2, offs=off2, strengths=s2m1, mods=1),
        _event("stim", B, tdim, loc1, ons=on1, offs=off1, strengths=s1m2, mods=2),
        _event("stim", B, tdim, loc2, ons=on2, offs=off2, strengths=s2m2, mods=2),
        _event("fix_out", B, tdim, offs=fix_off),
        _event("out", B, tdim, _choose(c1, c2, loc1, loc2), ons=fix_off),
    ]
    return _conditions(task, tdim, ev, fix_off, fix_off + _GRACE, epochs)


def _match_events(B: int, tdim: int, loc1, loc2, on1, off1, on2, mod1, mod2, go: np.ndarray):
    """Sample / test events of the match tasks: respond to the test where ``go``, else keep
    fixating.

    Fixation input stays on throughout; the test stays on to the end. A no-go trial keeps the
    fixation target to the end (``fix_out`` off = tdim) and has an empty response window (off = 0).
    """
    return [
        _event("fix_in", B, tdim),
        _event("stim", B, tdim, loc1, ons=on1, offs=off1, mods=mod1),
        _event("stim", B, tdim, loc2, ons=on2, mods=mod2),
        Event(
            "fix_out", _const(B, 0, np.int64), np.where(go, on2, tdim), _const(B, 1.0, np.float64)
        ),
        Event(
            "out",
            _const(B, int(on2), np.int64),
            np.where(go, tdim, 0),
            _const(B, 1.0, np.float64),
            loc2,
        ),
    ]


def _dms_(task: str, B: int, rng: np.random.Generator, nogo_on_match: bool) -> Conditions:
    """DMS / DNMS: match with p = 0.5; a non-match test is U(pi/9, 17 pi/9) away in a random
    direction.

    Sample on {200,400,600} ms for {200,400,600}, delay {200,400,800,1600}, test for 500 ms to the
    end; sample and test rings are drawn independently per batch. DMS goes on match, DNMS on
    non-match.
    """
    mod1, mod2 = _pick(rng, (1, 2)), _pick(rng, (1, 2))
    match = rng.integers(2, size=B)
    dist = rng.uniform(np.pi / 9, np.pi * 17.0 / 9.0, B) * _signs(rng, B)
    loc1 = rng.uniform(0, 2 * np.pi, B)
    loc2 = (loc1 + dist * (1 - match)) % (2 * np.pi)
    on1 = _steps(_pick(rng, (200, 400, 600)))
    off1 = on1 + _steps(_pick(rng, (200, 400, 600)))
    on2 = off1 + _steps(_pick(rng, (200, 400, 800, 1600)))
    tdim = on2 + _RESPONSE
    go = match != nogo_on_match
    ev = _match_events(B, tdim, loc1, loc2, on1, off1, on2, mod1, mod2, go)
    return _conditions(
        task,
        tdim,
        ev,
        on2,
        on2 + _GRACE,
        {"fix1": (None, on1), "stim1": (on1, off1), "delay1": (off1, on2), "go1": (on2, None)},
    )


def _dmc_(task: str, B: int, rng: np.random.Generator, nogo_on_match: bool) -> Conditions:
    """DMC / DNMC: angles from {0.1, 0.3, ..., 1.9} pi, category = angle < pi; test lasts
    {200,400,600}.

    Otherwise as DMS (match = same category, p = 0.5 since both angles are drawn independently).
    """
    mod1, mod2 = _pick(rng, (1, 2)), _pick(rng, (1, 2))
    loc1 = _picks(rng, DMC_ANGLES, B)
    loc2 = _picks(rng, DMC_ANGLES, B)
    on1 = _steps(_pick(rng, (200, 400, 600)))
    off1 = on1 + _steps(_pick(rng, (200, 400, 600)))
    on2 = off1 + _steps(_pick(rng, (200, 400, 800, 1600)))
    tdim = on2 + _steps(_pick(rng, (200, 400, 600)))
    match = (loc1 < np.pi) == (loc2 < np.pi)
    go = match != nogo_on_match
    ev = _match_events(B, tdim, loc1, loc2, on1, off1, on2, mod1, mod2, go)
    return _conditions(
        task,
        tdim,
        ev,
        on2,
        on2 + _GRACE,
        {"fix1": (None, on1), "stim1": (on1, off1), "delay1": (off1, on2), "go1": (on2, None)},
    )


Sampler = Callable[[int, np.random.Generator], Conditions]

SAMPLERS: dict[str, Sampler] = {  # Yang's rule name -> sampler of one batch (B, rng)
    "fdgo": partial(_fdgo_, "fdgo", anti=False),
    "reactgo": partial(_reactgo_, "reactgo", anti=False),
    "delaygo": partial(_delaygo_, "delaygo", anti=False),
    "fdanti": partial(_fdgo_, "fdanti", anti=True),
    "reactanti": partial(_reactgo_, "reactanti", anti=True),
    "delayanti": partial(_delaygo_, "delayanti", anti=True),
    "dm1": partial(_dm_, "dm1", mod=1),
    "dm2": partial(_dm_, "dm2", mod=2),
    "contextdm1": partial(_contextdm_, "contextdm1", attend=1),
    "contextdm2": partial(_contextdm_, "contextdm2", attend=2),
    "multidm": partial(_contextdm_, "multidm", attend="both"),
    "delaydm1": partial(_delaydm_, "delaydm1", mod=1),
    "delaydm2": partial(_delaydm_, "delaydm2", mod=2),
    "contextdelaydm1": partial(_contextdelaydm_, "contextdelaydm1", attend=1),
    "contextdelaydm2": partial(_contextdelaydm_, "contextdelaydm2", attend=2),
    "multidelaydm": partial(_contextdelaydm_, "multidelaydm", attend="both"),
    "dmsgo": partial(_dms_, "dmsgo", nogo_on_match=False),
    "dmsnogo": partial(_dms_, "dmsnogo", nogo_on_match=True),
    "dmcgo": partial(_dmc_, "dmcgo", nogo_on_match=False),
    "dmcnogo": partial(_dmc_, "dmcnogo", nogo_on_match=True),
}
"""The task registry, in the order of :data:`TASKS` (a test checks both name the same tasks)."""

EASY_SAMPLERS: dict[str, Sampler] = {  # Yang's easy_task=True: DM coherences x10
    name: partial(cast(Callable[..., Conditions], SAMPLERS[name]), cohs=EASY_DM_COHERENCES)
    for name in EASY_TASKS
}


def _sampler(task: str, easy: bool) -> Sampler:
    if not isinstance(easy, (bool, np.bool_)):
        raise ValueError(f"easy={easy!r} must be a bool")
    return EASY_SAMPLERS.get(task, SAMPLERS[task]) if easy else SAMPLERS[task]


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
def _check_task(task) -> str:
    if not isinstance(task, str) or task not in SAMPLERS:
        raise ValueError(
            f"task={task!r} is not a Yang et al. (2019) task; allowed: {', '.join(TASKS)}"
        )
    return task


def _check_batch_size(batch_size) -> int:
    if (
        isinstance(batch_size, (bool, np.bool_))
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size={batch_size!r} must be a positive int")
    return int(batch_size)


def _as_generator(seed, name: str = "seed") -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(f"{name}={seed!r} must be a non-negative int or a numpy.random.Generator")


def sample_conditions(
    task: str, batch_size: int, rng: np.random.Generator | int, easy: bool = False
) -> Conditions:
    """Draw the explicit conditions of one batch of ``task`` (Yang's ``mode='random'``).

    ``easy=True`` is Yang's ``easy_task`` switch: the coherences of the DM tasks
    (:data:`EASY_TASKS`) are multiplied by :data:`EASY_COHERENCE_FACTOR`; other tasks are unchanged.

    ``rng`` is a ``numpy.random.Generator`` (or a non-negative int seed). The draws follow Yang's
    distributions, not his random stream (Yang used ``RandomState``).
    """
    sampler = _sampler(_check_task(task), easy)
    return sampler(_check_batch_size(batch_size), _as_generator(rng, "rng"))


# ---------------------------------------------------------------------------------------------
# Answers under a rule: what a task, or its conflict partner, requires on given trials
# ---------------------------------------------------------------------------------------------
COUNTERPARTS: dict[str, str] = {
    **{
        a: b
        for p in (
            ("fdgo", "fdanti"),
            ("reactgo", "reactanti"),
            ("delaygo", "delayanti"),
            ("contextdm1", "contextdm2"),
            ("contextdelaydm1", "contextdelaydm2"),
            ("dmsgo", "dmsnogo"),
            ("dmcgo", "dmcnogo"),
        )
        for a, b in (p, p[::-1])
    },
}
"""Conflict partners: tasks drawn by the same sampler family with the same draws (so the same
stimuli on the same seed) whose answers differ by rule alone: pro vs anti (the opposite angle),
attend ring 1 vs ring 2 (the choice made on the other modality), go vs no-go on a match (the
opposite go/no-go). Other pairs have no answer defined on each other's trials."""


def _stims(c: Conditions) -> list[Event]:
    return [e for e in c.events if e.kind == "stim"]


def _pro_anti(c: Conditions, anti: bool) -> np.ndarray:
    stims = _stims(c)
    if len(stims) != 1:
        raise ValueError(f"{c.task}: a Go/Anti trial has one stimulus, got {len(stims)}")
    locs = stims[0].angles()
    return (locs + np.pi) % (2 * np.pi) if anti else np.array(locs, dtype=np.float64)


def _attend(c: Conditions, ring: int) -> np.ndarray:
    on_ring = [e for e in _stims(c) if bool((e.rings() == ring).all())]
    if len(on_ring) != 2:
        raise ValueError(f"{c.task}: ring {ring} should carry two stimuli, has {len(on_ring)}")
    first, second = on_ring  # Yang's order: stimulus 1 (loc1) then stimulus 2 (loc2)
    return _choose(first.strengths, second.strengths, first.angles(), second.angles()).astype(
        np.float64
    )


def _go_nogo(c: Conditions, category: bool, nogo_on_match: bool) -> np.ndarray:
    stims = _stims(c)
    if len(stims) != 2:
        raise ValueError(
            f"{c.task}: a match trial has a sample and a test, got {len(stims)} stimuli"
        )
    sample, test = stims[0].angles(), stims[1].angles()
    if category:  # DMC: same category = same side of pi
        match = (sample < np.pi) == (test < np.pi)
    else:  # DMS: same angle (periodic distance)
        d = np.abs(sample - test) % (2 * np.pi)
        match = np.minimum(d, 2 * np.pi - d) < 1e-9
    go = match != nogo_on_match
    return np.where(go, test, -1.0).astype(np.float64)


_RULES: dict[str, Callable[[Conditions], np.ndarray]] = {
    "fdgo": partial(_pro_anti, anti=False),
    "fdanti": partial(_pro_anti, anti=True),
    "reactgo": partial(_pro_anti, anti=False),
    "reactanti": partial(_pro_anti, anti=True),
    "delaygo": partial(_pro_anti, anti=False),
    "delayanti": partial(_pro_anti, anti=True),
    "contextdm1": partial(_attend, ring=1),
    "contextdm2": partial(_attend, ring=2),
    "contextdelaydm1": partial(_attend, ring=1),
    "contextdelaydm2": partial(_attend, ring=2),
    "dmsgo": partial(_go_nogo, category=False, nogo_on_match=False),
    "dmsnogo": partial(_go_nogo, category=False, nogo_on_match=True),
    "dmcgo": partial(_go_nogo, category=True, nogo_on_match=False),
    "dmcnogo": partial(_go_nogo, category=True, nogo_on_match=True),
}


def target_under(conditions: Conditions, rule: str) -> np.ndarray | None:
    """The answer that task ``rule`` requires at the last step of the trials of ``conditions``:
    (B,) angles in rad, -1 where it requires fixation (what :func:`lib.core.metrics.performance`
    judges), derived from the trials' stimuli, not from rendered inputs.

    ``rule`` may be ``conditions.task`` itself (then this equals the rendered ``y_loc[-1]``) or
    its conflict partner (:data:`COUNTERPARTS`): on Go trials Anti's answer is the opposite
    angle; on Ctx DM 1 trials Ctx DM 2's answer is the stronger stimulus on ring 2; on DMS trials
    DNMS's answer is the opposite go/no-go (the test's angle where DMS fixates, fixation where
    DMS responds). Returns None where the answer is not defined (any other task, or tasks with no
    partner); raises ValueError for a name that is not a task.
    """
    if not isinstance(conditions, Conditions):
        raise ValueError(
            f"conditions must be a Conditions instance, got {type(conditions).__name__}"
        )
    rule, task = _check_task(rule), conditions.task
    if task not in _RULES or rule not in (task, COUNTERPARTS.get(task)):
        return None
    return _RULES[rule](conditions)


# ---------------------------------------------------------------------------------------------
# Render
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Batch:
    """One rendered batch (time-major, float32 numpy).

    ``x`` (T, B, 65) inputs, ``y`` (T, B, 33) targets, ``y_loc`` (T, B) response angle in rad
    (-1 = fixate), ``c_mask`` (T, B, 33) cost mask, ``conditions`` the :class:`Conditions` rendered,
    ``epochs`` Yang's named epochs ``name -> (on, off)`` in steps (``None`` = start / end). The four
    arrays are C-contiguous views of one buffer (see :func:`_expand`).
    """

    task: str
    x: np.ndarray
    y: np.ndarray
    y_loc: np.ndarray
    c_mask: np.ndarray
    conditions: Conditions
    epochs: dict[str, tuple[int | None, int | None]]

    def to_torch(self, device=None):
        """``(x, y, c_mask)`` as float32 torch tensors on ``device`` (CPU ones share memory)."""
        import torch  # local: sampling and rendering need only numpy

        return tuple(torch.from_numpy(a).to(device) for a in (self.x, self.y, self.c_mask))


def _segments(c: Conditions, ons: np.ndarray, offs: np.ndarray, shared: np.ndarray) -> list[int]:
    """Start steps of the segments of ``[0, T)`` on which no window, nor the cost mask, changes.

    ``ons``, ``offs`` (E, B): the event windows; ``shared`` (E,): whether event e's window is the
    same in every trial. Every window boundary (of any trial) and the cost-mask steps 5, pre_off,
    post_on are breaks, so each trial's inputs, targets and mask are constant on a segment. Yang's
    sampled timing is shared by the batch, so there are few segments (<= 9); at most T in any case.
    """
    breaks = {0, _PRE_ON, *ons[shared, 0].tolist(), *offs[shared, 0].tolist()}
    if not shared.all():
        breaks.update(np.unique(np.concatenate((ons[~shared], offs[~shared]))).tolist())
    for a in (c.pre_offs, c.post_ons):
        breaks.update(a[:1].tolist() if (a == a[0]).all() else np.unique(a).tolist())
    if min(breaks) < 0:
        raise ValueError(
            f"{c.task}: negative on/off steps are not allowed (Yang's slices would wrap)"
        )
    return sorted(t for t in breaks if t < c.tdim)


def _add(rows_arr: np.ndarray, rows, lo: int, vals: np.ndarray) -> None:
    """``rows_arr[rows, :, lo:lo + C] += vals`` for vals (B, C) float64: the sum is rounded to
    float32 once per event, exactly as Yang's in-place adds."""
    view = rows_arr[:, :, lo : lo + vals.shape[1]]
    if isinstance(rows, slice):
        view[rows] += vals
    else:
        np.add(view, vals, out=view, where=rows[:, :, None])


def _set(rows_arr: np.ndarray, rows, value) -> None:
    """``rows_arr[rows] = value`` on (K, B) rows, value scalar or (B,)."""
    if isinstance(rows, slice):
        rows_arr[rows] = value
    else:
        np.copyto(rows_arr, np.broadcast_to(value, rows_arr.shape), where=rows, casting="same_kind")


def _expand(rows: tuple[np.ndarray, ...], starts: np.ndarray, T: int) -> list[np.ndarray]:
    """Repeat each (K, B, ...) row array over the segment lengths -> (T, B, ...) float32 arrays.

    All outputs are contiguous views of ONE allocation: freed multi-MB blocks are handed back to the
    OS by glibc until its mmap threshold has adapted, and with several blocks per batch that costs
    hundreds of page faults per batch (measured ~2 ms per batch in this project's VM); one block
    keeps the heap reusable.
    """
    idx = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, T)))  # (T,) segment of step t
    sizes = [T * prod(r.shape[1:]) for r in rows]
    buf = np.empty(sum(sizes), np.float32)
    out, at = [], 0
    for r, n in zip(rows, sizes):
        view = buf[at : at + n].reshape((T,) + r.shape[1:])
        np.take(r, idx, axis=0, out=view, mode="clip")  # mode='clip': unbuffered
        out.append(view)
        at += n
    return out


def render(
    conditions: Conditions, noise: bool = False, rng: np.random.Generator | int | None = None
) -> Batch:
    """Render explicit conditions into a :class:`Batch` (shapes and values in the module docstring).

    Vectorised over trials by segments: each of the K segments of constant content
    (:func:`_segments`) gets one row per trial, built by applying the events in Yang's order to the
    rows they cover (a slice of rows when the batch shares the window, else a (K, B) mask), so that
    overlapping bumps are summed and rounded to float32 as in his code; the rows are then repeated
    over their segment lengths. With ``noise=True`` adds i.i.d. N(0, INPUT_NOISE^2) to all 65 input
    channels at every step (Yang's input noise sigma_x sqrt(2 / alpha)), drawn from ``rng``
    (required then).
    """
    if not isinstance(conditions, Conditions):
        raise ValueError(
            f"conditions must be a Conditions instance, got {type(conditions).__name__}"
        )
    c, events = conditions, conditions.events
    T, B = c.tdim, c.batch_size
    ons = np.array([e.ons for e in events], np.int64).reshape(-1, B)  # (E, B)
    offs = np.array([e.offs for e in events], np.int64).reshape(-1, B)
    shared = ((ons == ons[:, :1]) & (offs == offs[:, :1])).all(axis=1)
    start_list = _segments(c, ons, offs, shared)
    starts, K = np.array(start_list), len(start_list)
    k_on = [bisect_left(start_list, t) for t in ons[:, 0].tolist()]  # first row of a shared window
    k_off = [bisect_left(start_list, t) for t in offs[:, 0].tolist()]
    # One bump computation per distinct locs array (stim and out events often share them).
    distinct = {id(e.locs): e.angles() for e in events if e.kind in ("stim", "out")}
    loc_index = {key: u for u, key in enumerate(distinct)}
    unit = (
        ring_bump(np.concatenate(list(distinct.values()))).reshape(-1, B, N_RING)
        if distinct
        else np.zeros((0, B, N_RING))
    )
    xr = np.zeros((K, B, N_INPUT), np.float32)
    yr = np.full((K, B, N_OUTPUT), 0.05, np.float32)
    lr = np.full((K, B), -1.0, np.float32)
    for i, e in enumerate(events):
        rows: slice | np.ndarray
        if shared[i]:
            rows = slice(k_on[i], k_off[i])
        else:
            s = starts[:, None]
            rows = (e.ons <= s) & (s < e.offs)
        if e.kind == "fix_in":
            _set(xr[:, :, 0], rows, 1.0)
        elif e.kind == "fix_out":
            _set(yr[:, :, 0], rows, 0.8)
        elif e.kind == "stim":
            bump = unit[loc_index[id(e.locs)]] * e.strengths[:, None]
            mods = e.rings()
            m = int(mods[0])
            if m in (1, 2) and (mods == m).all():
                _add(xr, rows, 1 + (m - 1) * N_RING, bump)
            else:  # per-trial rings: zero bumps leave the other trials unchanged
                if not np.isin(mods, (1, 2)).all():
                    raise ValueError(f"{c.task}: stim mods must be 1 or 2, got {np.unique(mods)}")
                for lo, sel in ((1, mods == 1), (1 + N_RING, mods == 2)):
                    _add(xr, rows, lo, np.where(sel[:, None], bump, 0.0))
        else:  # out
            _add(yr, rows, 1, unit[loc_index[id(e.locs)]] * e.strengths[:, None])
            _set(lr, rows, e.angles())
    s = starts[:, None]
    w = np.where((s >= _PRE_ON) & (s < c.pre_offs), 1.0, np.where(s >= c.post_ons, 5.0, 0.0))
    cr = np.empty((K, B, N_OUTPUT), np.float32)
    np.multiply(w[:, :, None], _FIX_DOUBLE, out=cr)  # (K, B, 33), fixation column doubled
    x, y, y_loc, c_mask = _expand((xr, yr, lr, cr), starts, T)
    if noise:
        if rng is None:
            raise ValueError(
                "rng=None: render(noise=True) needs a numpy.random.Generator or int seed"
            )
        draws = _as_generator(rng, "rng").standard_normal(x.shape, np.float32)
        x += np.float32(INPUT_NOISE) * draws
    return Batch(c.task, x, y, y_loc, c_mask, c, dict(c.epochs))


def make_batch(
    task: str,
    batch_size: int,
    seed: int | np.random.Generator,
    noise: bool = True,
    easy: bool = False,
) -> Batch:
    """Sample conditions of ``task`` and render them: :func:`sample_conditions` + :func:`render`.

    ``seed`` is a non-negative int or a ``numpy.random.Generator`` (then the same generator first
    draws the conditions and then, if ``noise``, the input noise).
    """
    task, batch_size = _check_task(task), _check_batch_size(batch_size)
    rng = _as_generator(seed)
    return render(_sampler(task, easy)(batch_size, rng), noise=noise, rng=rng)


# ---------------------------------------------------------------------------------------------
# Yang fixtures
# ---------------------------------------------------------------------------------------------
def _per_trial(v, B: int, default, dtype, name: str) -> np.ndarray:
    """A fixture field (scalar or list with None elements) as a (B,) array; ``default`` fills the
    None elements and stands for a missing field (for a field without a default use
    :func:`_optional_per_trial`)."""
    if v is None:
        if default is None:
            raise ValueError(f"{name} is missing")
        return np.full(B, default, dtype=dtype)
    if not isinstance(v, (list, tuple)):
        v = [v] * B
    if len(v) != B:
        raise ValueError(f"{name} has {len(v)} entries, expected batch_size={B}")
    if default is None and any(a is None for a in v):
        raise ValueError(f"{name} has None entries: {v!r}")
    return np.array([default if a is None else a for a in v], dtype=dtype)


def _optional_per_trial(v, B: int, dtype, name: str) -> np.ndarray | None:
    """A fixture field without a default: None when missing, else a (B,) array with no None."""
    return None if v is None else _per_trial(v, B, None, dtype, name)


def _epoch_bound(v, name: str) -> int | None:
    if isinstance(v, (list, tuple)):
        if len(set(v)) != 1:
            raise ValueError(
                f"epoch {name} has per-trial bounds {v!r}; Yang's random-mode timing "
                "is shared by the batch"
            )
        v = v[0]
    return None if v is None else int(v)


def conditions_from_yang(record: Mapping) -> Conditions:
    """Parse one fixture ``.json`` record (Yang's ``Trial.add`` calls) into :class:`Conditions`.

    Uses ``rule``, ``batch_size``, ``tdim``, ``dt`` (must be 20), ``events``, ``c_mask_args`` and
    ``epochs``; ``None`` ons/offs mean trial start/end, as in Yang's slices.
    """
    for key in ("rule", "batch_size", "tdim", "events", "c_mask_args", "epochs"):
        if key not in record:
            raise ValueError(f"record has no {key!r} field (fields: {sorted(record)})")
    task = _check_task(record["rule"])
    if record.get("dt", DT) != DT:
        raise ValueError(f"record dt={record['dt']!r}, this generator uses dt={DT} ms")
    B, T = _check_batch_size(record["batch_size"]), int(record["tdim"])
    events = []
    for i, ev in enumerate(record["events"]):
        kind = ev.get("type")
        if kind not in EVENT_KINDS:
            raise ValueError(f"event {i} has type {kind!r}; allowed: {EVENT_KINDS}")
        events.append(
            Event(
                kind,
                _per_trial(ev.get("ons"), B, 0, np.int64, f"event {i} ons"),
                _per_trial(ev.get("offs"), B, T, np.int64, f"event {i} offs"),
                _per_trial(ev.get("strengths"), B, 1.0, np.float64, f"event {i} strengths"),
                _optional_per_trial(ev.get("locs"), B, np.float64, f"event {i} locs"),
                _optional_per_trial(ev.get("mods"), B, np.int64, f"event {i} mods"),
            )
        )
    cm = record["c_mask_args"]
    if not {"pre_offs", "post_ons"} <= set(cm):
        raise ValueError(f"c_mask_args needs pre_offs and post_ons, has {sorted(cm)}")
    epochs = {
        name: (_epoch_bound(on, name), _epoch_bound(off, name))
        for name, (on, off) in record["epochs"].items()
    }
    return Conditions(
        task,
        T,
        tuple(events),
        _per_trial(cm["pre_offs"], B, T, np.int64, "pre_offs"),
        _per_trial(cm["post_ons"], B, 0, np.int64, "post_ons"),
        epochs,
    )
