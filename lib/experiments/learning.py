"""E5 (claim C5), second part: two learning speeds. A hybrid network that already knows some
tasks learns one more, through its excitability parameters, its synaptic ones, both, or every
parameter; how many trials each route needs, and what the old tasks lose.

**Networks.** The *parent* is E1's hybrid (gain and bias, 2N per task, plus a rank-1 low-rank
term, 2N per task) of the profile, trained jointly on the first ``n_old`` = K0 tasks of E1's task
set (E1's protocol: budget, curriculum, sampling, stopping at criterion). Its *children* are
networks of the first K0 + 1 tasks that start from it (``TrainConfig.init_from``,
``inherit="all"``: the shared weights and the K0 old tasks' modulation rows; the new task's rows
drawn fresh, as a fresh network's) and train on the new task alone (``train_tasks``, no replay),
stopping once it is at criterion or after ``new_max_steps`` steps (E1's easy-coherence curriculum
at the same fraction of the budget; the optimizer starts fresh). One child per *route*
(:data:`ROUTES`), i.e. per ``TrainConfig.trainable``:

* ``exc``: the new task's excitability rows only (``exc_only``: g, beta of the new task);
* ``syn``: the new task's synaptic rows only (``syn_only``: U, V of the new task);
* ``both``: both pathways' rows of the new task (``modulation``);
* ``all``: every parameter, shared weights included (``all``; E3's P3 fine-tuning).

The new task's rows of a pathway a route does not train keep their random initial values (as
every pathway starts, and as in E1's hybrids trained with one pathway frozen).

The first three cannot change an old task's network at all: the shared weights are frozen and
the old rows receive exactly zero gradient (Adam moves nothing that has had no gradient). Their
interference is therefore zero by construction, which the table checks (old-task performance
before and after, on the same evaluation trials); ``all`` is the route that can interfere.
The *speed* of a route is its trials to criterion on the new task (the trials of the first
evaluation at which the new task is at criterion; censored at the budget where it never is).

Seeds are E1's; a seed's four children share their parent and their new rows' initial values
(the fresh draw of the child's own config does not depend on ``trainable``), so routes are
compared paired over seeds.

Networks are ``network`` artifacts trained in rounds of chain depth
(:func:`lib.experiments.packing.run_chains`): the parents, then the children.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.core.checks import fail
from lib.core.params import Param, int_in, resolve, subset
from lib.core.train import TrainConfig
from lib.experiments import plan
from lib.experiments.battery import BATTERY_PARAMS, BatterySpec
from lib.experiments.packing import chain_part, run_chains

NETWORK = "hybrid"
"""The E1 variant that has both pathways (the only one where the routes differ)."""

ROUTES: dict[str, str] = {"exc": "exc_only", "syn": "syn_only", "both": "modulation", "all": "all"}
"""Route -> the child's ``TrainConfig.trainable``."""

ROUTE_NAMES: dict[str, str] = {
    "exc": "excitability rows",
    "syn": "synaptic rows",
    "both": "both pathways' rows",
    "all": "every parameter",
}

MAX_OLD = 19
"""At most 19 old tasks (the battery has 20)."""

LEARNING_PARAMS: dict[str, Param] = {
    "n_old": Param(
        int_in(1, MAX_OLD),
        1,
        3,
        19,
        "tasks the hybrid learns first, jointly (the first n_old of task_set); "
        "the next task of task_set is the new one",
    ),
    "routes": Param(
        subset(tuple(ROUTES)),
        tuple(ROUTES),
        tuple(ROUTES),
        tuple(ROUTES),
        "how the new task is learned: 'exc' (excitability rows), 'syn' (synaptic "
        "rows), 'both', 'all' (every parameter)",
    ),
    "new_max_steps": Param(
        int_in(1, 10_000_000),
        40,
        2000,
        20_000,
        "step budget of learning the new task (E1's curriculum fraction)",
    ),
}
"""E5's learning-speed parameters (part of the ``timescales`` chapter schema)."""


@dataclass(frozen=True)
class LearningSpec:
    """Which networks E5's learning part trains (module docstring); validated on creation."""

    protocol: BatterySpec
    n_old: int
    routes: tuple[str, ...] = tuple(ROUTES)
    new_max_steps: int = 2000

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))
        subset(tuple(ROUTES))("routes", list(self.routes))
        int_in(1, 10_000_000)("new_max_steps", self.new_max_steps)
        n = len(self.protocol.tasks)
        if (
            isinstance(self.n_old, bool)
            or not isinstance(self.n_old, (int, np.integer))
            or not 1 <= self.n_old < n
        ):
            fail(
                "n_old",
                self.n_old,
                f"an integer in [1, {n - 1}] (the task set has {n} tasks: "
                "at least one old and one new)",
            )

    @classmethod
    def from_params(cls, p) -> "LearningSpec":
        """From validated ``timescales`` chapter parameters."""
        return cls(BatterySpec.from_params(p), p.n_old, tuple(p.routes), p.new_max_steps)

    @classmethod
    def from_profile(cls, profile: str | None = None, **overrides) -> "LearningSpec":
        return cls.from_params(resolve(BATTERY_PARAMS | LEARNING_PARAMS, profile, **overrides))

    @property
    def old_tasks(self) -> tuple[str, ...]:
        return tuple(self.protocol.tasks[: self.n_old])

    @property
    def new_task(self) -> str:
        return self.protocol.tasks[self.n_old]

    def parent(self, seed: int) -> TrainConfig:
        """E1's hybrid of ``seed`` on the old tasks."""
        return self.protocol.config(NETWORK, seed).replace(tasks=self.old_tasks)

    def child(self, route: str, seed: int) -> TrainConfig:
        """The network that learns the new task by ``route`` from ``parent(seed)``."""
        if route not in ROUTES:
            fail("route", route, "one of " + ", ".join(map(repr, ROUTES)))
        proto = self.protocol
        easy = round(proto.easy_steps * self.new_max_steps / proto.max_steps)
        return self.parent(seed).replace(
            tasks=self.old_tasks + (self.new_task,),
            init_from=self.parent(seed),
            inherit="all",
            train_tasks=(self.new_task,),
            trainable=ROUTES[route],
            max_steps=self.new_max_steps,
            easy_steps=easy,
        )

    def configs(self) -> dict[tuple, TrainConfig]:
        """Every network, keyed (route, seed); route ``"parent"`` for the parents."""
        seeds = range(self.protocol.n_seeds)
        return {("parent", s): self.parent(s) for s in seeds} | {
            (r, s): self.child(r, s) for r in self.routes for s in seeds
        }


def learning_row(key: Hashable, config: dict, payload: dict) -> dict:
    """A row per network: route, seed; for a child, the new task's trials to criterion (NaN if
    never at criterion), whether it got there, its final performance, and the old tasks' final
    performance (``old_after``: mean over old tasks; ``perf:<task>`` each); for a parent, the
    old tasks' final performance (``old_after``) and whether it learned them all."""
    route, seed = key
    cfg = TrainConfig.from_dict(config)
    hist = payload["history"]
    perf = np.asarray(hist["perf"], float).reshape(len(hist["perf"]), len(cfg.tasks))
    trials = hist.get("trials") or [s * cfg.batch_size for s in hist["steps"]]
    old = perf[-1, :-1] if cfg.init_from is not None else perf[-1]
    row = {
        "route": route,
        "seed": seed,
        "steps": int(hist["steps"][-1]),
        "old_after": float(old.mean()),
        "old_all_at_criterion": bool((old >= cfg.criterion).all()),
    }
    row |= {f"perf:{t}": float(p) for t, p in zip(cfg.tasks, perf[-1])}
    if cfg.init_from is not None:
        new = perf[:, -1]
        hit = np.flatnonzero(new >= cfg.criterion)
        row |= {
            "new_perf": float(new[-1]),
            "reached": bool(hit.size),
            "trials_to_criterion": float(trials[hit[0]]) if hit.size else np.nan,
            "budget_trials": float(cfg.max_steps * cfg.batch_size),
        }
    return row


def learning_plan(
    spec: LearningSpec, workers: int = 2, force: bool = False, todo: list | None = None
) -> plan.Plan:
    """The plan: the parents (fresh networks) and the children (one round after them)."""
    configs = spec.configs()
    parents = {k: c for k, c in configs.items() if k[0] == "parent"}
    children = {k: c for k, c in configs.items() if k[0] != "parent"}

    def pick(part: dict) -> list | None:
        return None if todo is None else [k for k in todo if k in part]

    return plan.Plan(
        [
            plan.network_part(
                parents,
                workers,
                force,
                todo=pick(parents),
                label=f"E5 parents: {NETWORK} on the first {spec.n_old} tasks",
            ),
            chain_part(
                f"E5 new task ({spec.new_task}) by route",
                children,
                workers,
                force,
                pick(children),
                "a round after the parents",
            ),
        ]
    )


def run_learning(
    spec: LearningSpec,
    workers: int = 2,
    backend: str = "local",
    address: str | None = None,
    allow_long: bool = False,
    progress: bool = True,
    force: bool = False,
) -> pd.DataFrame:
    """Every network of ``spec``, loaded or trained (the plan first; on a process pool or Ray,
    as :func:`lib.experiments.packing.run_chains`); the table of :func:`learning_row`, a row per
    network."""
    return run_chains(
        spec.configs(),
        learning_row,
        lambda todo: learning_plan(spec, workers, force, todo),
        workers,
        backend,
        address,
        allow_long,
        progress,
        force,
    )


__all__ = [
    "NETWORK",
    "ROUTES",
    "ROUTE_NAMES",
    "LEARNING_PARAMS",
    "LearningSpec",
    "learning_row",
    "learning_plan",
    "run_learning",
]
