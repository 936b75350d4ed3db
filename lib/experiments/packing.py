"""E3: task packing -- how many tasks each context pathway fits into a network of N units (C3).

A *packing grid* trains networks of N units (``n_recs``) on the first K tasks (``n_tasks_list``)
of one fixed task order (``task_order``), for each pathway (``variants``, labels of
:data:`lib.experiments.battery.VARIANTS`) and seed. Everything else -- budget, evaluation,
curriculum, sampling, learning rate, batch -- is E1's protocol at the same profile
(:func:`lib.experiments.battery.battery_spec`), so a packing network whose (N, tasks) are E1's
*is* E1's network: same :class:`~lib.core.train.TrainConfig`, same ``network`` artifact, loaded
and not retrained (at ``quick``: K = 6, N = 64 are E1's conflict6 networks; at ``smoke``: K = 2,
N = 24). Seeds share their initial shared weights across variants (the model draws them first,
identically for every mechanism), so variants are compared paired over seeds.

Arms (``backbones``):

* **P1, ``trained``**: joint training, every parameter learned (E1's protocol). The question:
  the largest K at which every task ends at criterion (the *capacity* at N), per pathway.
* **P2(a), ``frozen_random``**: the shared weights (W_in, W_rec, b, W_out, b_out) stay at their
  random initialisation and each task is learned through its own modulation parameters only
  (``TrainConfig.trainable = "modulation"``). Which pathways can learn tasks at all this way,
  and how many. ``none`` has no modulation parameters, so it is not trained in this arm (it
  would be the untrained network). Its grid is its own (``frozen_n_recs``,
  ``frozen_n_tasks_list``; smaller at ``quick``).

Still to come (written here so that the design is fixed before any of it is run):

* **P2(b), pretrained backbone**: the shared weights of a P1 network trained jointly on the first
  K0 tasks of the order (its artifact, same N, variant and seed) are frozen; K - K0 *new* tasks
  are then learned through new per-task modulation parameters only (``trainable =
  "modulation"``, new tasks' modulation drawn as at initialisation, the K0 old tasks' kept).
  Measured: how many new tasks each pathway adds to a fixed, trained network (all new tasks at
  criterion, old ones unchanged by construction). Needs a ``TrainConfig`` field naming the
  backbone artifact to start from (an optional field, so existing keys do not change).
* **P3, sequential packing**: tasks are added one at a time in the task order. Stage 1 trains
  every parameter on task 1; stage k = 2..K trains task k alone (no replay), either with the
  shared weights frozen (modulation only: old tasks cannot be forgotten, the question is whether
  the new one can be learned) or trainable (the question is forgetting). After every stage all
  tasks so far are evaluated; measured: the number of tasks at criterion after each stage and
  the largest k with tasks 1..k all at criterion. Needs a staged trainer in ``lib.core`` (one
  ``train`` call per stage from the previous stage's state, context dimension K fixed up front).

Jobs run through :func:`lib.experiments.sweep.run_sweep` (``backend`` ``"local"``: a process
pool; ``"ray"``: a local Ray instance or a cluster at ``address``) with the plan of
:mod:`lib.experiments.plan` printed first (a plan over 30 min stops unless ``allow_long``). The
result is one table, a row per network (:func:`network_row`).

``python scripts/packing.py --profile quick --dry-run`` prints the plan of a profile (measured
step costs, nothing trained); without ``--dry-run`` it trains what is missing (:func:`main`).
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Hashable

import numpy as np
import pandas as pd

from lib import artifacts
from lib.core.checks import fail
from lib.core.params import (ALLOW_LONG, PROFILES, Param, _fail, choice, int_in, parse_list,
                             resolve, subset, task_set)
from lib.core.tasks import TASK_SETS
from lib.core.train import TrainConfig, build_model
from lib.experiments import plan, sweep
from lib.experiments.battery import VARIANTS, BatterySpec, battery_spec

BACKBONES: dict[str, str] = {"trained": "all", "frozen_random": "modulation"}
"""Arms of the packing grid -> the ``TrainConfig.trainable`` of their networks: P1 joint
training, P2(a) shared weights frozen at their random initialisation."""

GRID_PARAMS: dict[str, tuple[str, str]] = {"trained": ("n_recs", "n_tasks_list"),
                                           "frozen_random": ("frozen_n_recs",
                                                             "frozen_n_tasks_list")}
"""The parameters that give each arm's N and K."""

ARM_NAMES: dict[str, str] = {"trained": "P1, joint training",
                             "frozen_random": "P2(a), frozen random backbone"}

PACKING_VARIANTS = ("none", "exc", "syn_prepost", "syn_lowrank_r1")
"""The default pathways: the matched-budget set (2N modulation parameters per task each) and the
context-blind floor ``none``."""


def int_list(lo: int, hi: int):
    """A checker: one or more distinct ints in [lo, hi], returned sorted; a list, or text
    (``'[16, 32]'``, ``16,32``) as papermill's ``-p`` hands it over."""
    def check(name: str, v: Any) -> tuple[int, ...]:
        items = parse_list(v) if isinstance(v, str) else v
        if isinstance(items, (int, np.integer)) and not isinstance(items, bool):
            items = [items]  # papermill's -p n_recs 64
        values: list = []
        if isinstance(items, (list, tuple, range)):
            for item in items:
                if isinstance(item, str) and item.strip().lstrip("-").isdigit():
                    item = int(item)
                values.append(item)
        if (not isinstance(items, (list, tuple, range)) or not values
                or any(isinstance(x, bool) or not isinstance(x, (int, np.integer))
                       or not lo <= x <= hi for x in values)
                or len(set(values)) != len(values)):
            _fail(name, v, f"a list of distinct ints in [{lo}, {hi}], e.g. [{lo}, {hi}]; through "
                           f"papermill -p {name} '[{lo}, {hi}]', -p {name} {lo},{hi} or "
                           f"-y '{name}: [{lo}, {hi}]'")
        return tuple(sorted(int(x) for x in values))
    return check


def ray_address(name: str, v: Any) -> str | None:
    """None (a local Ray instance when ``backend="ray"``), ``"auto"`` or ``"host:port"``."""
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none")):
        return None
    if not isinstance(v, str) or (v.strip() != "auto" and ":" not in v.strip()):
        _fail(name, v, "None (start a local Ray instance), 'auto' (the cluster this node has "
                       "joined) or the 'host:port' that `ray start --head` prints")
    return v.strip()


MAX_K = len(TASK_SETS["all"])

# Integer lists are given as text, the form papermill's -p hands over (as E6's gallery_lambdas):
# a list default would make them list parameters of task names (tests/test_plan.py).
PACKING_PARAMS: dict[str, Param] = {
    "task_order": Param(task_set, "conflict6", "conflict6", "all",
                        "fixed task order: a network of K tasks learns its first K"),
    "n_recs": Param(int_list(4, 4096), "16, 24", "16, 32, 64", "32, 64, 128, 256",
                    "network sizes N of joint training (P1)"),
    "n_tasks_list": Param(int_list(1, MAX_K), "2, 3", "2, 4, 6", "2, 4, 8, 12, 16, 20",
                          "numbers of tasks K of joint training (P1), at most len(task_order)"),
    "variants": Param(subset(tuple(VARIANTS)), PACKING_VARIANTS, PACKING_VARIANTS,
                      PACKING_VARIANTS, "pathways (labels of lib.experiments.battery.VARIANTS)"),
    "n_seeds": Param(int_in(1, 100), 2, 3, 5, "seeds per cell (shared initial weights)"),
    "backbones": Param(subset(tuple(BACKBONES)), tuple(BACKBONES), tuple(BACKBONES),
                       tuple(BACKBONES), "arms: 'trained' (P1) and 'frozen_random' (P2a)"),
    "frozen_n_recs": Param(int_list(4, 4096), "24", "64", "64, 256",
                           "network sizes N of the frozen random backbone (P2a)"),
    "frozen_n_tasks_list": Param(int_list(1, MAX_K), "2, 3", "2, 6", "2, 8, 20",
                                 "numbers of tasks K of the frozen random backbone (P2a)"),
    "backend": Param(choice(sweep.BACKENDS), "local", "local", "local",
                     "where jobs run: 'local' (process pool) or 'ray'"),
    "address": Param(ray_address, None, None, None,
                     "Ray cluster 'host:port' or 'auto' (backend 'ray'); None: a local instance"),
    "workers": Param(int_in(1, 256), 2, 2, os.cpu_count() or 1,
                     "parallel training processes (or CPUs of a local Ray instance)"),
    "allow_long": ALLOW_LONG,
}
"""E3's chapter parameters (registered as ``"packing"`` in ``CHAPTER_SCHEMAS``)."""


def _has_modulation(label: str) -> bool:
    return VARIANTS[label][0] != "none"


@dataclass(frozen=True)
class PackingSpec:
    """E3's grid at one size: which networks, on which tasks; ``protocol`` is E1's spec of the
    same profile, whose training settings every packing network uses."""

    task_order: tuple[str, ...]
    n_recs: tuple[int, ...]
    n_tasks_list: tuple[int, ...]
    variants: tuple[str, ...]
    n_seeds: int
    protocol: BatterySpec
    backbones: tuple[str, ...] = ("trained",)
    frozen_n_recs: tuple[int, ...] = ()
    frozen_n_tasks_list: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("task_order", "n_recs", "n_tasks_list", "variants", "backbones",
                     "frozen_n_recs", "frozen_n_tasks_list"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        task_set("task_order", list(self.task_order))
        subset(tuple(VARIANTS))("variants", list(self.variants))
        subset(tuple(BACKBONES))("backbones", list(self.backbones))
        int_in(1, 100)("n_seeds", self.n_seeds)
        n = len(self.task_order)
        for arm in self.backbones:
            n_name, k_name = GRID_PARAMS[arm]
            int_list(4, 4096)(n_name, list(self.n_recs_of(arm)))
            ks = int_list(1, MAX_K)(k_name, list(self.n_tasks_of(arm)))
            if max(ks) > n:
                fail(k_name, ks, f"numbers of tasks K in [1, {n}]: task_order has {n} tasks "
                                 f"({', '.join(self.task_order)}); lengthen task_order or drop "
                                 f"K = {', '.join(str(k) for k in ks if k > n)}")
        if "frozen_random" in self.backbones and not self.labels("frozen_random"):
            fail("variants", self.variants, "at least one pathway with modulation parameters "
                                            "(not only 'none') when backbones includes "
                                            "'frozen_random'")

    @classmethod
    def from_params(cls, p: SimpleNamespace) -> "PackingSpec":
        """The spec of validated chapter parameters (``chapter_params("packing", ...)``), with
        the cross-parameter checks (K against the task order, the Ray address against the
        backend) that a single parameter cannot make."""
        check_backend(p.backend, p.address)
        return cls(tuple(p.task_order), tuple(p.n_recs), tuple(p.n_tasks_list),
                   tuple(p.variants), p.n_seeds, battery_spec(p.profile), tuple(p.backbones),
                   tuple(p.frozen_n_recs), tuple(p.frozen_n_tasks_list))

    def n_recs_of(self, backbone: str) -> tuple[int, ...]:
        return self.n_recs if backbone == "trained" else self.frozen_n_recs

    def n_tasks_of(self, backbone: str) -> tuple[int, ...]:
        return self.n_tasks_list if backbone == "trained" else self.frozen_n_tasks_list

    def labels(self, backbone: str) -> tuple[str, ...]:
        """The variants an arm trains (the frozen backbone skips pathways without modulation)."""
        return self.variants if backbone == "trained" else tuple(
            v for v in self.variants if _has_modulation(v))

    def config(self, backbone: str, label: str, n_rec: int, n_tasks: int,
               seed: int) -> TrainConfig:
        """One network: E1's config of (label, seed) at this profile, on the first ``n_tasks``
        tasks of the order, with ``n_rec`` units and the arm's trainable parameters."""
        if backbone not in BACKBONES:
            fail("backbone", backbone, "one of " + ", ".join(map(repr, BACKBONES)))
        if backbone != "trained" and not _has_modulation(label):
            fail("label", label, f"a pathway with modulation parameters in arm {backbone!r}")
        return self.protocol.config(label, seed).replace(
            tasks=self.task_order[:n_tasks], n_rec=n_rec, trainable=BACKBONES[backbone])

    def configs(self, backbone: str | None = None) -> dict[tuple, TrainConfig]:
        """Every network of the spec (or of one arm), keyed (backbone, variant, N, K, seed)."""
        arms = self.backbones if backbone is None else (backbone,)
        return {(arm, lab, n, k, s): self.config(arm, lab, n, k, s)
                for arm in arms for lab in self.labels(arm) for n in self.n_recs_of(arm)
                for k in self.n_tasks_of(arm) for s in range(self.n_seeds)}


def check_backend(backend: str, address: str | None) -> None:
    """An address only with ``backend="ray"`` (checked before anything runs)."""
    choice(sweep.BACKENDS)("backend", backend)
    if address is not None and backend != "ray":
        fail("address", address, f"None with backend={backend!r} (an address is the Ray "
                                 "cluster of backend='ray')")


def packing_spec(profile: str | None = None, **overrides) -> PackingSpec:
    """The E3 spec of a profile, with validated overrides."""
    return PackingSpec.from_params(resolve(PACKING_PARAMS, profile, **overrides))


@functools.lru_cache(maxsize=None)
def _params_per_task(mechanism: str, n_rec: int, rank: int, n_tasks: int) -> int:
    cfg = TrainConfig(mechanism=mechanism, n_rec=n_rec, rank=rank,
                      tasks=TASK_SETS["all"][:n_tasks])
    return build_model(cfg).params_per_task()


def network_row(key: Hashable, config: dict, payload: dict) -> dict:
    """A row of E3's table (a sweep's ``row``): the network's arm, variant, N, K and seed; its
    per-task modulation parameters (``model.params_per_task()``) and their total over its K
    tasks; the steps it trained and its wall time; its final performance per task
    (``perf:<task>``), mean and min over tasks, the number of tasks at criterion and whether
    every task is."""
    backbone, variant, n_rec, n_tasks, seed = key
    cfg = TrainConfig.from_dict(config)
    hist = payload["history"]
    final = np.asarray(hist["perf"][-1], float)
    ppt = _params_per_task(cfg.mechanism, cfg.n_rec, cfg.rank, len(cfg.tasks))
    at = final >= cfg.criterion
    row = {"backbone": backbone, "variant": variant, "N": n_rec, "K": n_tasks, "seed": seed,
           "params_per_task": ppt, "total_mod_params": ppt * n_tasks,
           "steps": int(hist["steps"][-1]), "wall_s": float(hist.get("wall_s", np.nan)),
           "mean_perf": float(final.mean()), "min_perf": float(final.min()),
           "n_at_criterion": int(at.sum()), "all_at_criterion": bool(at.all())}
    row |= {f"perf:{t}": float(p) for t, p in zip(cfg.tasks, final)}
    return row


def packing_plan(spec: PackingSpec, workers: int = 2, force: bool = False,
                 todo: list | None = None) -> plan.Plan:
    """The plan of a spec (one part per arm): networks needed, present, to make, and the wall
    time estimated from training steps timed on this machine (nothing is trained: this is the
    dry run). ``todo``: keys already known to be missing."""
    parts = []
    for arm in spec.backbones:
        configs = spec.configs(arm)
        arm_todo = None if todo is None else [k for k in todo if k in configs]
        parts.append(plan.network_part(configs, workers, force, todo=arm_todo,
                                       label=f"E3 {ARM_NAMES[arm]}"))
    return plan.Plan(parts)


def run_packing(spec: PackingSpec, workers: int = 2, backend: str = "local",
                address: str | None = None, allow_long: bool = False, progress: bool = True,
                force: bool = False) -> pd.DataFrame:
    """Every network of ``spec``, loaded or trained; returns E3's table (a row per network,
    :func:`network_row`, in the order of :meth:`PackingSpec.configs`).

    The plan is printed first (:func:`packing_plan`); one over
    :data:`lib.experiments.plan.LONG_RUN_S` stops with
    :class:`~lib.experiments.plan.PlanTooLong` before any training unless ``allow_long``.
    Networks already present -- E1's among them -- are loaded, not retrained
    (:func:`lib.experiments.sweep.run_sweep`; ``force`` retrains all). With
    ``$BOOK_NO_TRAIN=1`` a missing network is an error naming its config."""
    check_backend(backend, address)
    configs = spec.configs()
    todo = [k for k, c in configs.items() if force or not artifacts.has("network", c.to_dict())]
    if not (todo and artifacts.no_train()):  # else run_sweep names what is missing
        p = packing_plan(spec, workers, force, todo=todo)
        if todo:
            plan.require(p, allow_long)
        else:
            print(p.text(), flush=True)
    return sweep.run_sweep("network", sweep.train_network,
                           {k: c.to_dict() for k, c in configs.items()}, row=network_row,
                           backend=backend, address=address, workers=workers,
                           progress=progress, force=force)


def describe(spec: PackingSpec, profile: str) -> str:
    """What a run trains, in one paragraph (printed at the top of E3)."""
    proto = spec.protocol
    arms = []
    for arm in spec.backbones:
        n_nets = len(spec.configs(arm))
        arms.append(f"{ARM_NAMES[arm]}: N ∈ {{{', '.join(map(str, spec.n_recs_of(arm)))}}}, "
                    f"K ∈ {{{', '.join(map(str, spec.n_tasks_of(arm)))}}}, variants "
                    f"{', '.join(f'`{v}`' for v in spec.labels(arm))} ({n_nets} networks)")
    return (f"**Profile `{profile}`**: task order {', '.join(spec.task_order)} (a network of K "
            f"tasks learns the first K); {spec.n_seeds} seeds per cell. "
            + "; ".join(arms) + ". "
            f"Training as E1 at this profile: budget {proto.max_steps:,} steps of "
            f"{proto.batch_size} trials, stopping once every task is at criterion; evaluation "
            f"every {proto.eval_every} steps on {proto.eval_trials} trials per task; "
            f"learning rate {proto.lr:g}; "
            + (f"the first {proto.easy_steps:,} steps on easy coherences; " if proto.easy_steps
               else "no easy-coherence curriculum; ")
            + f"task sampling '{proto.sampling}'.")


def main(argv: list[str] | None = None) -> int:
    """``python scripts/packing.py``: E3's plan (``--dry-run``) or its networks."""
    ap = argparse.ArgumentParser(prog="python scripts/packing.py",
                                 description="E3's packing networks: the plan, or training them")
    ap.add_argument("--profile", choices=PROFILES, default="quick")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--backend", choices=sweep.BACKENDS, default="local")
    ap.add_argument("--address", default=None, help="Ray cluster (backend ray)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    ap.add_argument("--yes", action="store_true", help="go ahead even if the plan is long")
    args = ap.parse_args(argv)
    p = resolve(PACKING_PARAMS, args.profile, backend=args.backend, address=args.address,
                **({"workers": args.workers} if args.workers else {}))
    spec = PackingSpec.from_params(p)
    print(describe(spec, args.profile), flush=True)
    if args.dry_run:
        print(packing_plan(spec, p.workers).text(), flush=True)
        return 0
    try:
        table = run_packing(spec, p.workers, p.backend, p.address, allow_long=args.yes)
    except plan.PlanTooLong as err:
        print(f"\nStopped: {err.reason}.", file=sys.stderr, flush=True)
        return 2
    print(f"{len(table)} networks; {int(table.all_at_criterion.sum())} with every task at "
          "criterion", flush=True)
    return 0


__all__ = ["BACKBONES", "PACKING_PARAMS", "PACKING_VARIANTS", "PackingSpec", "packing_spec",
           "network_row", "packing_plan", "run_packing", "describe", "check_backend", "main"]
