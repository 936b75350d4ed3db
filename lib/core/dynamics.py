"""Fixed points, Jacobians and context continuation of a trained network (claim C4).

With constant input u (n_in,), context c (K,) (synaptic context s, default c) and noise off, the
network is the discrete-time map (``lib.core.model``)

    F(r) = (1 - a) r + a phi(z(r)),    z(r) = g(c) * (W(s) r + W_in u + b) + beta(c)

on rates r (N,). A fixed point has F(r*) = r*; its speed is |F(r) - r| (0 at a fixed point,
in rate units per step). The Jacobian of the map is

    J(r) = (1 - a) I + a diag(phi'(z) g) W(s) = (1 - a) I + a E(r),

E = diag(phi'(z) g) W(s) being the *effective connectivity* (the recurrent weights as the units see
them at that operating point). A fixed point is stable when every eigenvalue of J has modulus < 1.

:func:`fixed_points` minimises q(r) = 1/2 |F(r) - r|^2 from many initial states at once (Adam,
then damped Newton steps on F(r) - r = 0), keeps the states whose speed is below ``tol`` and
merges those closer than ``merge_tol``: the method of Sussillo & Barak (2013), batched.
:func:`continuation` follows every fixed point along a context mixture
c(l) = (1 - l) c_from + l c_to by starting each l from the points of the previous one.
All computations run in float64 on the model's device.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from lib.core.checks import check_nonnegative_int, check_number
from lib.core.model import ModulatedRNN

SPEED_TOL = 1e-8
"""Largest speed |F(r) - r| of a state reported as a fixed point (Newton reaches ~1e-14)."""
MERGE_TOL = 1e-4
"""States whose RMS distance sqrt(|r - r'|^2 / N) is below this are the same fixed point."""
STABLE_MARGIN = 1e-9
"""A fixed point is stable when max |eigenvalue of J| < 1 - STABLE_MARGIN."""
ADAM_STEPS, ADAM_LR = 400, 0.02
NEWTON_STEPS = 50
RELAX_STEPS = 500
"""Steps of the map run from the random starts to reach the neighbourhood of stable points."""
SETTLE_STEPS = 2000
"""Steps from rest in :func:`operating_point` (40 s of network time at dt = 20 ms: enough for the
slowest stable modes of the trained networks, whose eigenvalues reach ~0.999)."""


@dataclass(frozen=True)
class Frozen:
    """The map F of one (u, c) in float64: z = gain * (r @ W^T + h) + beta (h = W_in u + b)."""

    W: torch.Tensor  # (N, N)
    h: torch.Tensor  # (N,), or (S, N): one input per state
    gain: torch.Tensor  # (N,)
    beta: torch.Tensor  # (N,)
    alpha: float
    activation: str

    @property
    def n(self) -> int:
        return self.W.shape[0]

    def z(self, r: torch.Tensor) -> torch.Tensor:
        """Pre-activation (P, N) of states r (P, N)."""
        return self.gain * (r @ self.W.T + self.h) + self.beta

    def phi(self, z: torch.Tensor) -> torch.Tensor:
        return F.softplus(z) if self.activation == "softplus" else torch.relu(z)

    def dphi(self, z: torch.Tensor) -> torch.Tensor:
        """phi'(z): the logistic for softplus, the step for relu."""
        return torch.sigmoid(z) if self.activation == "softplus" else (z > 0).to(z.dtype)

    def step(self, r: torch.Tensor) -> torch.Tensor:
        """F(r), (P, N)."""
        return torch.lerp(r, self.phi(self.z(r)), self.alpha)

    def velocity(self, r: torch.Tensor) -> torch.Tensor:
        """F(r) - r = a (phi(z) - r), (P, N)."""
        return self.alpha * (self.phi(self.z(r)) - r)

    def effective(self, r: torch.Tensor) -> torch.Tensor:
        """Effective connectivity E(r) = diag(phi'(z) g) W, (P, N, N)."""
        return (self.dphi(self.z(r)) * self.gain).unsqueeze(-1) * self.W

    def jacobian(self, r: torch.Tensor) -> torch.Tensor:
        """J(r) = (1 - a) I + a E(r), (P, N, N)."""
        eye = torch.eye(self.n, dtype=r.dtype, device=r.device)
        return (1.0 - self.alpha) * eye + self.alpha * self.effective(r)


def freeze(model: ModulatedRNN, u, c, syn_context=None) -> Frozen:
    """The noise-free map of ``model`` at constant input u (n_in,) and context c (K,) (synaptic
    context ``syn_context``, default c), in float64 on the model's device. With u (S, n_in) the
    map applies to S states at once, state s under input u[s] (h is then (S, N))."""
    device = model.W_rec.device
    u = torch.as_tensor(u, dtype=torch.float64, device=device)
    if u.shape[-1:] != (model.n_in,) or u.dim() > 2:
        raise ValueError(
            f"u: expected shape (n_in,) = ({model.n_in},) or (S, n_in), got {tuple(u.shape)}"
        )
    with torch.no_grad():
        m = copy.deepcopy(model).double()
        c = torch.as_tensor(c, dtype=torch.float64, device=device)
        s = (
            None
            if syn_context is None
            else torch.as_tensor(syn_context, dtype=torch.float64, device=device)
        )
        gain, beta, W = m.effective(c, s)
        h = u @ m.W_in.T + m.b
    return Frozen(W.detach(), h.detach(), gain.detach(), beta.detach(), m.alpha, m.activation)


@dataclass(frozen=True)
class FixedPoints:
    """Fixed points of one map: ``points`` (P, N), ``speeds`` (P,) = |F(r) - r|, ``eigenvalues``
    (P, N) complex of the map's Jacobian, sorted by decreasing modulus; P may be 0."""

    points: np.ndarray
    speeds: np.ndarray
    eigenvalues: np.ndarray

    @property
    def stable(self) -> np.ndarray:
        """(P,) bool: every eigenvalue inside the unit circle."""
        return self.spectral_radius < 1.0 - STABLE_MARGIN

    @property
    def spectral_radius(self) -> np.ndarray:
        """(P,) max |eigenvalue|."""
        return np.abs(self.eigenvalues[:, 0]) if len(self.points) else np.zeros(0)

    def __len__(self) -> int:
        return len(self.points)


def _rms(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """RMS distance sqrt(|a - b|^2 / N) between rows of a (P, N) and b (Q, N): (P, Q)."""
    return torch.cdist(a, b) / math.sqrt(a.shape[-1])


def solve(
    fmap: Frozen,
    starts: torch.Tensor,
    adam_steps: int = ADAM_STEPS,
    lr: float = ADAM_LR,
    newton_steps: int = NEWTON_STEPS,
    n_near: int = 0,
) -> torch.Tensor:
    """Minimise q(r) = 1/2 |F(r) - r|^2 from every row of ``starts`` (P, N): Adam (except for
    the first ``n_near`` rows, which start next to a fixed point already, as in a continuation),
    then Newton steps on F(r) - r = 0 for all rows, each halved (up to 10 times) until it lowers
    that row's speed, and kept only if it does. Returns the final states (P, N) (fixed points
    or slow points)."""
    near = starts[:n_near].detach().to(torch.float64)
    r = starts[n_near:].detach().clone().to(torch.float64).requires_grad_(True)
    opt = torch.optim.Adam([r], lr=lr)
    with torch.enable_grad():  # callers may run under no_grad
        for _ in range(adam_steps if len(r) else 0):
            opt.zero_grad()
            q = 0.5 * fmap.velocity(r).pow(2).sum()
            q.backward()
            opt.step()
    r = torch.cat([near, r.detach()])
    eye = torch.eye(fmap.n, dtype=r.dtype, device=r.device)
    for _ in range(newton_steps):
        v = fmap.velocity(r)
        speed = v.norm(dim=1)
        if float(speed.max()) < 1e-13:
            break
        # rows with a singular F - I (info != 0) take no step
        step, info = torch.linalg.solve_ex(fmap.alpha * (fmap.effective(r) - eye), -v)
        step = torch.where((info == 0).unsqueeze(1), step, torch.zeros_like(step))
        new, done, scale = r.clone(), torch.zeros(len(r), dtype=torch.bool, device=r.device), 1.0
        for _ in range(10):
            trial = r + scale * step
            better = (fmap.velocity(trial).norm(dim=1) < speed) & ~done
            new[better] = trial[better]
            done |= better
            if bool(done.all()):
                break
            scale *= 0.5
        r = new
    return r


def merge(states: torch.Tensor, speeds: torch.Tensor, tol: float = MERGE_TOL) -> torch.Tensor:
    """Indices of distinct states: greedy over increasing speed, a state is kept unless it lies
    within ``tol`` (RMS distance) of a state already kept."""
    order = torch.argsort(speeds)
    kept: list[int] = []
    for i in order.tolist():
        if not kept or float(_rms(states[i : i + 1], states[kept]).min()) >= tol:
            kept.append(i)
    return torch.as_tensor(kept, dtype=torch.long, device=states.device)


def describe_points(fmap: Frozen, points: torch.Tensor) -> FixedPoints:
    """Speeds and sorted Jacobian eigenvalues of ``points`` (P, N) under ``fmap``."""
    if len(points) == 0:
        N = fmap.n
        return FixedPoints(np.zeros((0, N)), np.zeros(0), np.zeros((0, N), complex))
    speeds = fmap.velocity(points).norm(dim=1)
    eig = torch.linalg.eigvals(fmap.jacobian(points))
    eig = torch.gather(eig, 1, torch.argsort(eig.abs(), dim=1, descending=True))
    return FixedPoints(points.cpu().numpy(), speeds.cpu().numpy(), eig.cpu().numpy())


def random_states(n: int, N: int, seed: int, device=None) -> torch.Tensor:
    """``n`` random rate vectors (n, N), softplus(N(0, 1)) per unit (typical softplus rates)."""
    gen = torch.Generator().manual_seed(int(seed))
    return F.softplus(torch.randn(n, N, generator=gen, dtype=torch.float64)).to(device)


def _check_solver(n_init: int, seed: int, tol: float, merge_tol: float, relax_steps: int) -> None:
    check_nonnegative_int("n_init", n_init)
    check_nonnegative_int("relax_steps", relax_steps)
    check_nonnegative_int("seed", seed)
    check_number("tol", tol, 0.0, math.inf, "a value > 0", open_low=True)
    check_number("merge_tol", merge_tol, 0.0, math.inf, "a value > 0", open_low=True)


def _starts(
    fmap: Frozen, n_init: int, seed: int, init, relax_steps: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(near, far) starting states: ``far`` = ``init`` (M, N) and ``n_init`` random states, for
    Adam then Newton (they find unstable points too); ``near`` = the same random states after
    ``relax_steps`` steps of the map itself, which sit next to stable points already (Newton
    only: Adam makes little progress along the slow directions of a nearly marginal point)."""
    device = fmap.W.device
    rand = random_states(n_init, fmap.n, seed, device)
    starts = [rand]
    if init is not None:
        init = torch.as_tensor(init, dtype=torch.float64, device=device)
        if init.dim() != 2 or init.shape[1] != fmap.n:
            raise ValueError(
                f"init: expected shape (M, N) with N = {fmap.n}, got {tuple(init.shape)}"
            )
        starts.insert(0, init)
    far = torch.cat(starts)
    if len(far) == 0:
        raise ValueError("n_init=0 and no init states: nothing to start from")
    near = far
    with torch.no_grad():
        for _ in range(relax_steps):
            near = fmap.step(near)
    return (near if relax_steps else far[:0]), far


def fixed_points(
    model: ModulatedRNN,
    u,
    c,
    n_init: int = 128,
    seed: int = 0,
    *,
    init=None,
    syn_context=None,
    tol: float = SPEED_TOL,
    merge_tol: float = MERGE_TOL,
    relax_steps: int = RELAX_STEPS,
) -> FixedPoints:
    """Fixed points of ``model`` at constant input u (n_in,) and context c (K,), noise off.

    Starts from ``init`` (M, N) if given (e.g. states visited by trials), ``n_init`` random
    states drawn from ``seed``, and these after ``relax_steps`` steps of the map; minimises
    |F(r) - r|^2 for all of them in one batch (:func:`solve`), keeps the states with speed < ``tol``
    and merges duplicates closer than ``merge_tol`` (RMS rate distance). Returns
    :class:`FixedPoints` (points (P, N), speeds (P,), eigenvalues of the map's Jacobian (P, N)
    complex)."""
    _check_solver(n_init, seed, tol, merge_tol, relax_steps)
    fmap = freeze(model, u, c, syn_context)
    if fmap.h.dim() != 1:
        raise ValueError("u: fixed points need one constant input, shape (n_in,)")
    near, far = _starts(fmap, n_init, seed, init, relax_steps)
    return _fixed_points_of(fmap, torch.cat([near, far]), tol, merge_tol, len(near))


def _fixed_points_of(
    fmap: Frozen, starts: torch.Tensor, tol: float, merge_tol: float, n_near: int = 0
) -> FixedPoints:
    """The distinct fixed points reached from ``starts``; the first ``n_near`` starts are fixed
    points of a nearby map or states next to stable points (see :func:`solve`)."""
    final = solve(fmap, starts, n_near=n_near)
    speeds = fmap.velocity(final).norm(dim=1)
    good = torch.nonzero(speeds < tol).flatten()
    kept = good[merge(final[good], speeds[good], merge_tol)] if len(good) else good
    return describe_points(fmap, final[kept])


def _mutual_nearest(a: torch.Tensor, b: torch.Tensor) -> list[tuple[int, int]]:
    """Pairs (p, q) with b[q] the nearest row of b to a[p] and a[p] the nearest row of a to
    b[q]; rows a (P, N), b (Q, N)."""
    if len(a) == 0 or len(b) == 0:
        return []
    d = _rms(a, b)
    to_b, to_a = d.argmin(1), d.argmin(0)
    return [(p, int(q)) for p, q in enumerate(to_b.tolist()) if int(to_a[q]) == p]


@dataclass(frozen=True)
class Continuation:
    """Fixed points along c(l) = (1 - l) c_from + l c_to.

    ``table``: one row per (l, fixed point): ``l``, ``track`` (the same point followed across l),
    ``speed``, ``radius`` (max |eigenvalue|), ``stable``; ``points`` (rows, N) in table order;
    ``events``: ``l``, ``track``, ``event`` in {"appears", "vanishes", "loses stability",
    "gains stability"} (an event at l is first seen at that l)."""

    table: pd.DataFrame
    points: np.ndarray
    events: pd.DataFrame


EVENTS = ("appears", "vanishes", "loses stability", "gains stability")


def continuation(
    model: ModulatedRNN,
    u,
    c_from,
    c_to,
    ls,
    n_init: int = 64,
    seed: int = 0,
    *,
    init=None,
    tol: float = SPEED_TOL,
    merge_tol: float = MERGE_TOL,
    relax_steps: int = RELAX_STEPS,
) -> Continuation:
    """Follow the fixed points of ``model`` at input u along the context mixture
    c(l) = (1 - l) c_from + l c_to for the increasing weights ``ls``.

    At each l the search starts from the previous l's fixed points (continuation: Newton from
    each) and from the same fresh states (``init`` and ``n_init`` random ones, as in
    :func:`fixed_points`). Tracks link a previous point p and a new point q that are each
    other's nearest neighbours; a previous point left unlinked ends its track ("vanishes": e.g.
    a stable point and a saddle annihilating, after which Newton from p lands on a distant
    branch that is nearer to another previous point), a new point left unlinked starts one
    ("appears", except at the first l). The l grid must be fine enough that points move less
    between successive l than the distance between distinct points.
    """
    _check_solver(n_init, seed, tol, merge_tol, relax_steps)
    ls = np.asarray(ls, dtype=np.float64)
    if ls.ndim != 1 or len(ls) == 0 or np.any(np.diff(ls) <= 0) or not np.all(np.isfinite(ls)):
        raise ValueError(
            f"ls={ls.tolist()!r} is not allowed; expected a non-empty increasing "
            "sequence of finite weights"
        )
    c_from = torch.as_tensor(c_from, dtype=torch.float64)
    c_to = torch.as_tensor(c_to, dtype=torch.float64)
    rows, pts, events = [], [], []
    prev_pts: torch.Tensor | None = None
    prev_tracks: list[int] = []
    prev_stable: np.ndarray = np.zeros(0, bool)
    next_track = 0
    for l in ls:
        fmap = freeze(model, u, (1 - l) * c_from + l * c_to)
        near, far = _starts(fmap, n_init, seed, init, relax_steps)
        if prev_pts is not None:
            near = torch.cat([prev_pts, near])
        fps = _fixed_points_of(fmap, torch.cat([near, far]), tol, merge_tol, len(near))
        points = torch.as_tensor(fps.points, dtype=torch.float64, device=fmap.W.device)
        tracks = [-1] * len(fps)
        if prev_pts is not None:
            for p, q in _mutual_nearest(prev_pts, points):
                tracks[q] = prev_tracks[p]
                if bool(prev_stable[p]) != bool(fps.stable[q]):
                    events.append(
                        (
                            l,
                            prev_tracks[p],
                            "loses stability" if prev_stable[p] else "gains stability",
                        )
                    )
            continued = {prev_tracks[p] for p, _ in _mutual_nearest(prev_pts, points)}
            events += [(l, t, "vanishes") for t in prev_tracks if t not in continued]
        for q in range(len(fps)):
            if tracks[q] < 0:
                tracks[q] = next_track
                next_track += 1
                if prev_pts is not None:
                    events.append((l, tracks[q], "appears"))
        for q in range(len(fps)):
            rows.append(
                {
                    "l": float(l),
                    "track": tracks[q],
                    "speed": float(fps.speeds[q]),
                    "radius": float(fps.spectral_radius[q]),
                    "stable": bool(fps.stable[q]),
                }
            )
        pts.append(fps.points)
        prev_pts, prev_tracks, prev_stable = points, tracks, fps.stable
    N = model.n_rec
    return Continuation(
        pd.DataFrame(rows, columns=["l", "track", "speed", "radius", "stable"]),
        np.concatenate(pts) if pts else np.zeros((0, N)),
        pd.DataFrame(events, columns=["l", "track", "event"]),
    )


def operating_point(
    fmap: Frozen, steps: int = SETTLE_STEPS, tol: float = SPEED_TOL
) -> tuple[np.ndarray, float]:
    """Where the network settles from rest: run the map ``steps`` steps from r = 0, then polish
    with Newton (:func:`solve`). Returns (r (N,), speed); the speed exceeds ``tol`` (and the
    state is not a fixed point) when the network does not settle (e.g. it oscillates)."""
    r = torch.zeros(1, fmap.n, dtype=torch.float64, device=fmap.W.device)
    with torch.no_grad():
        for _ in range(steps):
            r = fmap.step(r)
    r = solve(fmap, r, adam_steps=0, n_near=1)
    return r[0].cpu().numpy(), float(fmap.velocity(r).norm())


def flow_change(fmap_a: Frozen, fmap_b: Frozen, states) -> dict[str, float]:
    """How a change of context changes the flow at the same states (S, N) (and inputs: maps
    frozen with per-state inputs apply them row by row).

    dv(r) = v_b(r) - v_a(r), v = F(r) - r. Its mean over the states is a *translation* (what an
    additive input does where phi is linear); the rest *reshapes* the flow. Returns ``total``
    (mean |dv|^2 / N), ``translation`` (|mean dv|^2 / N), ``reshape_fraction`` =
    1 - translation / total (0: a pure shift, 1: a pure reshaping; nan when dv = 0)."""
    r = torch.as_tensor(states, dtype=torch.float64, device=fmap_a.W.device)
    with torch.no_grad():
        dv = fmap_b.velocity(r) - fmap_a.velocity(r)
    N = r.shape[1]
    total = float(dv.pow(2).sum(1).mean()) / N
    translation = float(dv.mean(0).pow(2).sum()) / N
    return {
        "total": total,
        "translation": translation,
        "reshape_fraction": 1.0 - translation / total if total > 1e-30 else float("nan"),
    }


__all__ = [
    "SPEED_TOL",
    "MERGE_TOL",
    "EVENTS",
    "Frozen",
    "freeze",
    "FixedPoints",
    "fixed_points",
    "solve",
    "merge",
    "describe_points",
    "random_states",
    "Continuation",
    "continuation",
    "operating_point",
    "flow_change",
]
