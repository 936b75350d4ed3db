"""E6, the live explorer: one trained E1 network under a mixed, noisy context, computed on demand.

For a network, a conflict pair (i, j) of tasks, a mixture weight ``lam`` and a context-noise s.d.
``noise``, the context given on every evaluation trial is (as E2's mixture and frozen-noise probes,
:mod:`lib.experiments.ambiguity`)

    c = (1 - lam) e_i + lam e_j + noise * eta,      eta ~ N(0, I) frozen per trial (B, K),

with eta E2's own draw (the first ``randn(B, K)`` of a generator seeded with the network's seed)
and the network noise of E2's probe stream (``STREAM_PROBE``, common random numbers), so that at
``noise = 0`` the performances are E2's mixture curves, at ``lam = 0`` E2's frozen-noise curve, and
at ``lam = 0, noise = 0`` E2's clean probe. (``lib.core.train.evaluate`` judges the same trials with
another noise draw, ``STREAM_EVAL``, so its numbers differ from these by that draw.)

:meth:`NetworkExplorer.explore` returns plain arrays: the output of one trial of task i over time,
the answers task i and task j ask for on it, both tasks' performance (Yang's metric) on their
evaluation trials, the trial's outcome fractions, and the trial's state trajectory in the first two
PCs of the pair's clean activity (both tasks, own contexts, noise off, from stimulus onset on: the
PCA of E4, :mod:`lib.experiments.dynamics`). What does not depend on ``lam`` or ``noise`` (the
trials, eta, the PCA, the trial under the pure contexts) is computed once per network and pair.
"""

from __future__ import annotations


import numpy as np
import torch

from lib.core import statespace
from lib.core.checks import fail
from lib.core.metrics import mean_perf
from lib.core.tasks import DISPLAY_NAMES
from lib.core.train import SMALL_WORK_THREADS, TrainResult, torch_threads
from lib.core.types import Networks
from lib.experiments.ambiguity import OUTCOMES, Prober, outcomes, panel_pairs

MAX_NOISE = 10.0
"""The largest context-noise s.d. accepted (E2's ``max_noise`` range)."""


def check_unit(name: str, value) -> float:
    """A number in [0, 1] (a mixture weight)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating, np.integer))
        or not 0 <= value <= 1
    ):
        fail(name, value, "a number in [0, 1]")
    return float(value)


def check_noise(name: str, value) -> float:
    """A context-noise s.d. in [0, :data:`MAX_NOISE`]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.floating, np.integer))
        or not 0 <= value <= MAX_NOISE
    ):
        fail(name, value, f"a number in [0, {MAX_NOISE:g}]")
    return float(value)


def check_pair(name: str, value, pairs) -> tuple[str, str]:
    """One of ``pairs`` (a list or tuple of two task names)."""
    pairs = [tuple(p) for p in pairs]
    pair = tuple(value) if isinstance(value, (list, tuple)) else None
    if pair not in pairs:
        fail(
            name,
            value,
            "one of the conflict pairs present: " + ", ".join(str(list(p)) for p in pairs),
        )
    return pair


def check_trial(name: str, value, n: int) -> int:
    """An evaluation trial index in [0, n)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < n:
        fail(
            name,
            value,
            f"an integer from 0 to {n - 1} (the network has {n} evaluation trials per task)",
        )
    return int(value)


class NetworkExplorer:
    """One network's views, with what does not depend on ``lam`` or ``noise`` cached."""

    def __init__(self, result: TrainResult, shared: dict | None = None):
        self.result = result
        # E2's prober: the same trials and probe noise; ``shared`` lets the networks with the same
        # evaluation trials hold one copy of them (Prober's docstring)
        self.prober = Prober(result, shared)
        self.cfg = self.prober.cfg
        self.tasks = list(self.cfg.tasks)
        self.pairs = panel_pairs(self.tasks)
        B, K = self.cfg.eval_trials, self.prober.K
        # E2's frozen context noise: the first draw of this generator in probe_network
        self.eta = torch.randn(B, K, generator=torch.Generator().manual_seed(self.cfg.seed))
        self._pair_cache: dict[tuple[str, str], dict] = {}
        self._clean: dict[int, float] = {}

    def run(self, k: int, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Task k's evaluation trials under context ``c`` with E2's probe noise: outputs (T, B,
        33), rates (T, B, N), targets (T, B) (:meth:`Prober.run_with_rates`)."""
        return self.prober.run_with_rates(k, c)

    def context(self, i: int, j: int, lam: float, noise: float) -> torch.Tensor:
        """c = (1 - lam) e_i + lam e_j + noise * eta, (B, K)."""
        P = self.prober
        return (1 - lam) * P.eye(i) + lam * P.eye(j) + noise * self.eta

    def clean(self, k: int) -> float:
        """Task k's performance under its own context (E2's ``clean``)."""
        if k not in self._clean:
            self._clean[k] = mean_perf(*self.run(k, self.prober.eye(k))[::2])
        return self._clean[k]

    @torch.no_grad()
    def pair_state(self, pair: tuple[str, str]) -> dict:
        """Cached per pair: the PCA of the pair's clean activity (both tasks, own contexts, noise
        off, from stimulus onset on) and task i's trials under pure e_i and pure e_j projected
        on its first two PCs."""
        pair = check_pair("pair", pair, self.pairs)
        if pair not in self._pair_cache:
            with torch_threads(SMALL_WORK_THREADS):
                self._pair_cache[pair] = self._pair_state(pair)
        return self._pair_cache[pair]

    @torch.no_grad()
    def _pair_state(self, pair: tuple[str, str]) -> dict:
        """What :meth:`pair_state` caches, computed (noise-free PCA, pure-context runs)."""
        i, j = (self.tasks.index(t) for t in pair)
        P = self.prober
        X = []
        for k in (i, j):
            x = P.trials[k][0]
            r = P.model(x, P.eye(k), noise=False)[1]
            X.append(r[statespace.stim_onset(x) :].reshape(-1, r.shape[-1]).double().numpy())
        mean, comps, var = statespace.pca(np.concatenate(X))
        comps = comps[:, :2]

        def project(r: torch.Tensor) -> np.ndarray:
            return (r.double().numpy() - mean) @ comps

        return {
            "i": i,
            "j": j,
            "mean": mean,
            "comps": comps,
            "var_explained": var[:2] / max(var.sum(), 1e-300),
            "onset": statespace.stim_onset(P.trials[i][0]),
            "ref_i": project(self.run(i, P.eye(i))[1]),  # (T, B, 2)
            "ref_j": project(self.run(i, P.eye(j))[1]),
            "project": project,
        }

    @torch.no_grad()
    def explore(self, pair, lam: float, noise: float = 0.0, trial: int = 0) -> dict:
        """The three views for one setting (see the module docstring). Keys:

        ``pair``, ``lam``, ``noise``, ``trial``; ``y_hat`` (T, 33) the trial's outputs (column 0
        fixation); ``target_i``, ``target_j`` the answers of task i and of task j on it (rad, -1 =
        fixate; ``target_j`` None where undefined); ``outcome`` the trial's outcome (``OUTCOMES``
        or "wrong"); ``perf_i``, ``perf_j`` performance of task i on its trials and of task j on
        its trials under this c; ``clean_i``, ``clean_j`` the same under their own contexts;
        ``outcomes_i`` (4,) outcome fractions on task i's trials; ``traj`` (T, 2) the trial in the
        pair's PC plane, ``ref_i``, ``ref_j`` (T, 2) the same trial under pure e_i and pure e_j;
        ``var_explained`` (2,); ``onset`` the stimulus onset step.
        """
        lam, noise = check_unit("lam", lam), check_noise("noise", noise)
        trial = check_trial("trial", trial, self.cfg.eval_trials)
        with torch_threads(SMALL_WORK_THREADS):
            return self._explore(self.pair_state(pair), lam, noise, trial)

    @torch.no_grad()
    def _explore(self, state: dict, lam: float, noise: float, trial: int) -> dict:
        i, j = state["i"], state["j"]
        c = self.context(i, j, lam, noise)
        y_hat, rates, y_loc = self.run(i, c)
        y_hat_j, _, y_loc_j = self.run(j, c)
        other = self.prober.other(i, j)
        frac = outcomes(y_hat, y_loc, other)
        one = outcomes(
            y_hat[:, trial : trial + 1],
            np.asarray(y_loc)[:, trial : trial + 1],
            None if other is None else other[trial : trial + 1],
        )
        outcome = OUTCOMES[int(np.nanargmax(one))] if np.nanmax(one) > 0 else "wrong"
        return {
            "pair": (self.tasks[i], self.tasks[j]),
            "lam": lam,
            "noise": noise,
            "trial": trial,
            "y_hat": y_hat[:, trial].numpy(),
            "target_i": float(np.asarray(y_loc)[-1, trial]),
            "target_j": None if other is None else float(other[trial]),
            "outcome": outcome,
            "perf_i": mean_perf(y_hat, y_loc),
            "perf_j": mean_perf(y_hat_j, y_loc_j),
            "clean_i": self.clean(i),
            "clean_j": self.clean(j),
            "outcomes_i": frac,
            "traj": state["project"](rates[:, trial]),
            "ref_i": state["ref_i"][:, trial],
            "ref_j": state["ref_j"][:, trial],
            "var_explained": state["var_explained"],
            "onset": state["onset"],
        }


def explore(result: TrainResult, pair, lam: float, noise: float = 0.0, trial: int = 0) -> dict:
    """:meth:`NetworkExplorer.explore` on one network, nothing cached between calls."""
    return NetworkExplorer(result).explore(pair, lam, noise, trial)


class Views:
    """The views of a set of networks {(label, seed): TrainResult}, one cached
    :class:`NetworkExplorer` per network (built when first asked for)."""

    def __init__(self, nets: Networks):
        if not nets:
            fail("nets", nets, "at least one network {(label, seed): TrainResult}")
        self.nets = dict(nets)
        self.labels = list(dict.fromkeys(k[0] for k in self.nets))
        self.seeds = sorted({k[1] for k in self.nets})
        tasks = next(iter(self.nets.values())).config.tasks
        self.pairs = panel_pairs(tasks)
        self._cache: dict[tuple[str, int], NetworkExplorer] = {}
        self._trials: dict = {}  # evaluation trials shared by networks of one seed

    def network(self, label: str, seed: int) -> NetworkExplorer:
        if label not in self.labels:
            fail("variant", label, "one of " + ", ".join(map(repr, self.labels)))
        if (label, seed) not in self.nets:
            fail(
                "seed",
                seed,
                "one of "
                + ", ".join(str(s) for s in self.seeds if (label, s) in self.nets)
                + f" (for {label})",
            )
        if (label, seed) not in self._cache:
            self._cache[label, seed] = NetworkExplorer(self.nets[label, seed], self._trials)
        return self._cache[label, seed]

    def explore(
        self, label: str, seed: int, pair, lam: float, noise: float = 0.0, trial: int = 0
    ) -> dict:
        view = self.network(label, seed).explore(pair, lam, noise, trial)
        return {**view, "label": label, "seed": seed}

    def gallery(self, labels, seed: int, pair, lambdas, noise: float = 0.0, trial: int = 0) -> dict:
        """{(label, lam): view} for every label and mixture weight (the static page's grid)."""
        lambdas = [check_unit("gallery_lambdas", v) for v in lambdas]
        return {
            (lab, lam): self.explore(lab, seed, pair, lam, noise, trial)
            for lab in labels
            for lam in lambdas
        }


def chapter_choice(P, views: Views) -> tuple[tuple[str, str], int]:
    """The chapter's ``pair`` (None: the first conflict pair present) and ``seed_shown``, checked
    against the networks loaded (a bad one raises the house-style error naming it)."""
    pair = check_pair("pair", views.pairs[0] if P.pair is None else P.pair, views.pairs)
    if P.seed_shown not in views.seeds:
        fail("seed_shown", P.seed_shown, f"one of the run's seeds, 0 to {max(views.seeds)}")
    return pair, P.seed_shown


CRITERION = 0.9
"""Yang's criterion on performance."""


def gallery_text(views: dict) -> str:
    """The gallery's numbers in markdown: a table of task i's / task j's performance (each on
    its own trials, under the shown context) per pathway and λ, and which pathways hold each task
    at criterion under its own context (``clean_i``, ``clean_j``: every view has them, whatever
    λ the gallery shows) and at the tie λ = 1/2."""
    labels = list(dict.fromkeys(k[0] for k in views))
    lambdas = list(dict.fromkeys(k[1] for k in views))
    first = next(iter(views.values()))
    a, b = (DISPLAY_NAMES.get(t, t) for t in first["pair"])
    head = "| pathway | " + " | ".join(f"λ = {lam:g}" for lam in lambdas) + " |"
    rows = [head, "|---" * (len(lambdas) + 1) + "|"]
    for lab in labels:
        rows.append(
            f"| `{lab}` | "
            + " | ".join(
                f"{views[lab, lam]['perf_i']:.2f} / {views[lab, lam]['perf_j']:.2f}"
                for lam in lambdas
            )
            + " |"
        )

    def at(key: str, lam: float) -> str:
        ok = [f"`{lab}`" for lab in labels if views[lab, lam][key] >= CRITERION]
        return ", ".join(ok) if ok else "no pathway"

    own = lambdas[0]  # the own-context performance is the same in every view of a network

    said = [
        f"Cells: {a} / {b} performance (seed {first.get('seed')}, noise s.d. "
        f"{first['noise']:g}); criterion {CRITERION}."
    ]
    said.append(f"{a} at criterion under its own context (λ = 0): {at('clean_i', own)}.")
    said.append(f"{b} at criterion under its own context (λ = 1): {at('clean_j', own)}.")
    if 0.5 in lambdas:
        said.append(
            f"At the tie (λ = 0.5), {a} still at criterion: {at('perf_i', 0.5)}; "
            f"{b} already at criterion: {at('perf_j', 0.5)}."
        )
    return "\n".join(rows) + "\n\n" + " ".join(said)


__all__ = [
    "MAX_NOISE",
    "NetworkExplorer",
    "Views",
    "explore",
    "chapter_choice",
    "CRITERION",
    "gallery_text",
    "check_unit",
    "check_noise",
    "check_pair",
    "check_trial",
]
