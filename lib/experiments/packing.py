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

* **P2(b), ``pretrained``**: a frozen *pretrained* backbone. The backbone is a P1 network of
  the same N, pathway and seed trained jointly on the first ``n_pretrain`` = K0 tasks of the order
  (every parameter learned; arm ``pretrain`` of the table, E1's protocol, so at ``quick`` it is
  P1's network at K = K0). Its shared weights are then frozen and a network of K > K0 tasks
  (``p2b_n_tasks_list``) learns *every* task, old and new, through freshly drawn modulation
  parameters only (``TrainConfig(init_from=<backbone>, inherit="shared",
  trainable="modulation")``): the child is the fresh network of its own config -- the P2(a)
  network of the same (pathway, N, K, seed) -- except that W_in, W_rec, b, W_out, b_out are the
  backbone's. So P2(b) against P2(a) at the same (pathway, N, K) is paired over seeds and
  differs in nothing but whether the frozen shared weights were trained (why all K tasks are
  learned afresh: keeping the K0 tasks' trained modulation would make the two arms differ in
  more than the backbone). Its grid uses ``frozen_n_recs``. ``inherit="all"`` with
  ``train_tasks`` the new tasks trains only the new tasks' rows, should that question be asked.
* **P3, sequential packing**: tasks are added one at a time in the task order, up to
  ``p3_n_tasks`` stages, for each mode of ``p3_modes``. Stage 1 trains every parameter on task
  1 (the P1 network of K = 1, at the stage budget). Stage k = 2..K is a network of the first k
  tasks (context dimension k) that starts from stage k - 1 (``init_from``, ``inherit="all"``:
  shared weights and the k - 1 old tasks' modulation rows; task k's rows drawn fresh) and is
  trained on task k alone (``train_tasks=(task k,)``, no replay), stopping once task k is at
  criterion or after ``p3_max_steps`` steps (E1's easy-coherence curriculum kept at the same
  fraction of the budget). Modes: ``modulation`` (arm ``seq_modulation``) trains only the
  modulation parameters after stage 1 (the old tasks' rows get exactly zero updates, so nothing
  can be forgotten; the question is whether the new task can be learned on a backbone shaped by
  the earlier ones), ``finetune`` (``seq_finetune``) trains everything (the question is
  forgetting). Every stage is evaluated on all tasks so far, which gives the forgetting curves;
  ``none`` takes part in ``finetune`` only (it has no modulation parameters).

Networks and jobs. Every network of every arm is a ``network`` artifact keyed by its
:class:`~lib.core.train.TrainConfig`; a child's config contains its parent's (``init_from``), so a
chain's provenance is in its key. :func:`run_packing` trains in *rounds* by chain depth
(:attr:`TrainConfig.depth`): round 0 is every network that starts fresh (P1, P2(a), the P2(b)
backbones, P3's stage 1), round d every network whose parent is in round d - 1 (the P2(b)
networks and P3's stage 2; then stage 3, ...), each round one sweep over all chains. A child's
job (:func:`train_from_parent`) gets its parent's weights from the driver, which loads them from
the parent's verified artifact, so workers and cluster nodes need no artifacts. An interrupted
run resumes at the first missing stage of every chain; a failed network stops only its own
chain's later stages.

Jobs run through :func:`lib.experiments.sweep.run_sweep` (``backend`` ``"local"``: a process
pool; ``"ray"``: a local Ray instance or a cluster at ``address``) with the plan of
:mod:`lib.experiments.plan` printed first (a plan over 30 min stops unless ``allow_long``). The
result is one table, a row per network (:func:`network_row`), keyed (arm, variant, N, K, seed)
with K the stage for P3.

``python scripts/packing.py --profile quick --dry-run`` prints the plan of a profile (measured
step costs, nothing trained); without ``--dry-run`` it trains what is missing (:func:`main`).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any, Hashable, Mapping

import numpy as np
import pandas as pd

from lib import artifacts
from lib.core.checks import fail
from lib.core.params import (
    ALLOW_LONG,
    PROFILES,
    Param,
    choice,
    int_in,
    int_list,
    reject,
    resolve,
    subset,
    task_set,
)
from lib.core.tasks import TASK_SETS
from lib.core.train import TrainConfig, build_model, train
from lib.experiments import plan, sweep
from lib.experiments.battery import VARIANTS, BatterySpec, battery_spec
from lib.experiments.runner import JobsFailed, load_or_train, network_payload

BACKBONES: dict[str, tuple[str, ...]] = {
    "trained": ("trained",),
    "frozen_random": ("frozen_random",),
    "pretrained": ("pretrain", "pretrained"),
    "sequential": ("seq_modulation", "seq_finetune"),
}
"""The experiment's arms (values of the ``backbones`` parameter) -> the arms of the table they
add (its ``backbone`` column): P1, P2(a), P2(b) (its backbones and its networks) and P3 (one
arm per mode of ``p3_modes``)."""

TRAINABLE: dict[str, str] = {
    "trained": "all",
    "frozen_random": "modulation",
    "pretrain": "all",
    "pretrained": "modulation",
    "seq_modulation": "modulation",
    "seq_finetune": "all",
}
"""Table arm -> the ``TrainConfig.trainable`` of its networks (P3: from stage 2 on; stage 1
trains everything)."""

P3_MODES: dict[str, str] = {"modulation": "seq_modulation", "finetune": "seq_finetune"}
"""P3's modes -> their table arms."""

GRID_PARAMS: dict[str, tuple[str, str]] = {
    "trained": ("n_recs", "n_tasks_list"),
    "frozen_random": ("frozen_n_recs", "frozen_n_tasks_list"),
    "pretrain": ("frozen_n_recs", "n_pretrain"),
    "pretrained": ("frozen_n_recs", "p2b_n_tasks_list"),
    "seq_modulation": ("p3_n_recs", "p3_n_tasks"),
    "seq_finetune": ("p3_n_recs", "p3_n_tasks"),
}
"""The parameters that give each table arm's N and K."""

ARM_NAMES: dict[str, str] = {
    "trained": "P1, joint training",
    "frozen_random": "P2(a), frozen random backbone",
    "pretrain": "P2(b) backbones, joint training on the first tasks",
    "pretrained": "P2(b), frozen pretrained backbone",
    "seq_modulation": "P3, sequential, modulation only",
    "seq_finetune": "P3, sequential, fine-tuning",
}

MATCHED_VARIANTS = ("exc", "syn_prepost", "syn_lowrank_r1")
"""The matched-budget pathways: 2N modulation parameters per task each (C3's comparisons)."""

PACKING_VARIANTS = ("none",) + MATCHED_VARIANTS
"""The pathways of the smoke and paper profiles: the matched set and the context-blind floor
``none``. The quick profile trains the matched set only: ``none`` cannot tell Go from Anti, so it
fails every K >= 2 by construction (E1's ``none`` networks at N = 64, K = 6 show it), and its
full-budget runs would cost a third of the quick sweep."""


def ray_address(name: str, v: Any) -> str | None:
    """None (a local Ray instance when ``backend="ray"``), ``"auto"`` or ``"host:port"``."""
    if v is None or (isinstance(v, str) and v.strip().lower() in ("", "none")):
        return None
    if not isinstance(v, str) or (v.strip() != "auto" and ":" not in v.strip()):
        reject(
            name,
            v,
            "None (start a local Ray instance), 'auto' (the cluster this node has "
            "joined) or the 'host:port' that `ray start --head` prints",
        )
    return v.strip()


MAX_K = len(TASK_SETS["all"])

# Integer lists are given as text, the form papermill's -p hands over (as E6's gallery_lambdas):
# a list default would make them list parameters of task names (tests/test_plan.py).
PACKING_PARAMS: dict[str, Param] = {
    "task_order": Param(
        task_set,
        "conflict6",
        "conflict6",
        "all",
        "fixed task order: a network of K tasks learns its first K",
    ),
    "n_recs": Param(
        int_list(4, 4096),
        "16, 24",
        "16, 32, 64",
        "32, 64, 128, 256",
        "network sizes N of joint training (P1)",
    ),
    "n_tasks_list": Param(
        int_list(1, MAX_K),
        "2, 3",
        "2, 4, 6",
        "2, 4, 8, 12, 16, 20",
        "numbers of tasks K of joint training (P1), at most len(task_order)",
    ),
    "variants": Param(
        subset(tuple(VARIANTS)),
        PACKING_VARIANTS,
        MATCHED_VARIANTS,
        PACKING_VARIANTS,
        "pathways (labels of lib.experiments.battery.VARIANTS)",
    ),
    "n_seeds": Param(int_in(1, 100), 2, 3, 5, "seeds per cell (shared initial weights)"),
    "p1_n_seeds": Param(
        int_in(1, 100),
        2,
        9,
        10,
        "seeds per cell of joint training (P1), the arm C3's verdict reads; at least n_seeds",
    ),
    "backbones": Param(
        subset(tuple(BACKBONES)),
        tuple(BACKBONES),
        tuple(BACKBONES),
        tuple(BACKBONES),
        "arms: 'trained' (P1), 'frozen_random' (P2a), 'pretrained' (P2b), 'sequential' (P3)",
    ),
    "frozen_n_recs": Param(
        int_list(4, 4096),
        "24",
        "64",
        "64, 256",
        "network sizes N of the frozen backbones (P2a random, P2b pretrained)",
    ),
    "frozen_n_tasks_list": Param(
        int_list(1, MAX_K),
        "2, 3",
        "6",
        "2, 8, 20",
        "numbers of tasks K of the frozen random backbone (P2a)",
    ),
    "n_pretrain": Param(
        int_in(1, MAX_K - 1),
        1,
        2,
        6,
        "tasks K0 the P2(b) backbone learns jointly (the first K0 of the order)",
    ),
    "p2b_n_tasks_list": Param(
        int_list(2, MAX_K),
        "2, 3",
        "6",
        "8, 20",
        "numbers of tasks K (each > n_pretrain) learned through "
        "modulation on the pretrained backbone (P2b)",
    ),
    "p3_modes": Param(
        subset(tuple(P3_MODES)),
        tuple(P3_MODES),
        tuple(P3_MODES),
        tuple(P3_MODES),
        "P3's modes: 'modulation' (shared weights frozen after "
        "stage 1) and 'finetune' (everything trained)",
    ),
    "p3_n_recs": Param(
        int_list(4, 4096), "24", "64", "256", "network sizes N of sequential packing (P3)"
    ),
    "p3_n_tasks": Param(
        int_in(2, MAX_K), 3, 4, 20, "stages of sequential packing: tasks added one at a time (P3)"
    ),
    "p3_max_steps": Param(
        int_in(1, 10_000_000),
        40,
        2000,
        20_000,
        "step budget of each P3 stage (one task; E1's curriculum fraction)",
    ),
    "backend": Param(
        choice(sweep.BACKENDS),
        "local",
        "local",
        "local",
        "where jobs run: 'local' (process pool) or 'ray'",
    ),
    "address": Param(
        ray_address,
        None,
        None,
        None,
        "Ray cluster 'host:port' or 'auto' (backend 'ray'); None: a local instance",
    ),
    "workers": Param(
        int_in(1, 256),
        2,
        2,
        os.cpu_count() or 1,
        "parallel training processes (or CPUs of a local Ray instance)",
    ),
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
    n_pretrain: int = 1
    p2b_n_tasks_list: tuple[int, ...] = ()
    p3_modes: tuple[str, ...] = tuple(P3_MODES)
    p3_n_recs: tuple[int, ...] = ()
    p3_n_tasks: int = 2
    p3_max_steps: int | None = None
    p1_n_seeds: int | None = None
    """Seeds per cell of P1 (None: ``n_seeds``). C3's verdict compares pathways on P1's
    capacities paired over seeds with an exact sign-flip test, whose smallest p over n seeds is
    2 / 2^n: a Holm family of m comparisons can show a difference only when 2 / 2^n < 0.05 / m.
    C3's family is two pairs x two measures x len(n_recs) comparisons (12 at quick: n >= 9; 16
    at paper: n >= 10; ``tests/test_packing.py`` checks each profile against
    :func:`lib.analysis.verdicts.power_seeds`). The other arms (descriptive) keep ``n_seeds``."""

    def __post_init__(self) -> None:
        for name in (
            "task_order",
            "n_recs",
            "n_tasks_list",
            "variants",
            "backbones",
            "frozen_n_recs",
            "frozen_n_tasks_list",
            "p2b_n_tasks_list",
            "p3_modes",
            "p3_n_recs",
        ):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        task_set("task_order", list(self.task_order))
        subset(tuple(VARIANTS))("variants", list(self.variants))
        subset(tuple(BACKBONES))("backbones", list(self.backbones))
        subset(tuple(P3_MODES))("p3_modes", list(self.p3_modes))
        int_in(1, 100)("n_seeds", self.n_seeds)
        if self.p1_n_seeds is not None:
            int_in(1, 100)("p1_n_seeds", self.p1_n_seeds)
            if self.p1_n_seeds < self.n_seeds:
                fail(
                    "p1_n_seeds",
                    self.p1_n_seeds,
                    f"at least n_seeds = {self.n_seeds} (the other arms' seeds; P2(b)'s "
                    "backbones are P1 networks of those seeds)",
                )
        n = len(self.task_order)
        if "pretrained" in self.backbones:
            int_in(1, MAX_K - 1)("n_pretrain", self.n_pretrain)
        if "sequential" in self.backbones:
            int_in(2, MAX_K)("p3_n_tasks", self.p3_n_tasks)
            if self.p3_max_steps is not None:
                int_in(1, 10_000_000)("p3_max_steps", self.p3_max_steps)
        for arm in self.arms:
            n_name, k_name = GRID_PARAMS[arm]
            int_list(4, 4096)(n_name, list(self.n_recs_of(arm)))
            ks = int_list(1, MAX_K)(k_name, list(self.n_tasks_of(arm)))
            if max(ks) > n:
                value = getattr(self, k_name)
                fail(
                    k_name,
                    value,
                    f"numbers of tasks K in [1, {n}]: task_order has {n} tasks "
                    f"({', '.join(self.task_order)}); lengthen task_order or "
                    f"drop K = {', '.join(str(k) for k in ks if k > n)}",
                )
            if arm != "trained" and arm != "seq_finetune" and not self.labels(arm):
                fail(
                    "variants",
                    self.variants,
                    "at least one pathway with modulation "
                    "parameters (not only 'none') when backbones "
                    f"includes {self._backbone_of(arm)!r}",
                )
        if "pretrained" in self.backbones:
            low = [k for k in self.p2b_n_tasks_list if k <= self.n_pretrain]
            if low:
                fail(
                    "n_pretrain",
                    self.n_pretrain,
                    f"fewer tasks than every K of p2b_n_tasks_list {list(self.p2b_n_tasks_list)}"
                    f" (K = {', '.join(map(str, low))} is not above it): the backbone learns "
                    "the first n_pretrain tasks, a P2(b) network at least one task more",
                )

    @staticmethod
    def _backbone_of(arm: str) -> str:
        return next(b for b, arms in BACKBONES.items() if arm in arms)

    @property
    def arms(self) -> tuple[str, ...]:
        """The table arms this spec trains, in order (P3: one per mode of ``p3_modes``)."""
        out = []
        for b in self.backbones:
            if b == "sequential":
                out += [P3_MODES[m] for m in self.p3_modes]
            else:
                out += list(BACKBONES[b])
        return tuple(out)

    @property
    def stage_steps(self) -> tuple[int, int]:
        """(max_steps, easy_steps) of one P3 stage: ``p3_max_steps`` (E1's budget if None) and
        E1's easy-coherence curriculum at the same fraction of the budget."""
        proto = self.protocol
        steps = proto.max_steps if self.p3_max_steps is None else self.p3_max_steps
        return steps, round(proto.easy_steps * steps / proto.max_steps)

    @classmethod
    def from_params(cls, p: SimpleNamespace) -> "PackingSpec":
        """The spec of validated chapter parameters (``chapter_params("packing", ...)``), with
        the cross-parameter checks (K against the task order, the Ray address against the
        backend) that a single parameter cannot make."""
        check_backend(p.backend, p.address)
        return cls(
            tuple(p.task_order),
            tuple(p.n_recs),
            tuple(p.n_tasks_list),
            tuple(p.variants),
            p.n_seeds,
            battery_spec(p.profile),
            tuple(p.backbones),
            tuple(p.frozen_n_recs),
            tuple(p.frozen_n_tasks_list),
            p.n_pretrain,
            tuple(p.p2b_n_tasks_list),
            tuple(p.p3_modes),
            tuple(p.p3_n_recs),
            p.p3_n_tasks,
            p.p3_max_steps,
            p.p1_n_seeds,
        )

    def n_recs_of(self, arm: str) -> tuple[int, ...]:
        """The network sizes N of a table arm."""
        return {
            "trained": self.n_recs,
            "seq_modulation": self.p3_n_recs,
            "seq_finetune": self.p3_n_recs,
        }.get(arm, self.frozen_n_recs)

    def n_tasks_of(self, arm: str) -> tuple[int, ...]:
        """The numbers of tasks K of a table arm (P3: the stages 1..p3_n_tasks)."""
        return {
            "trained": self.n_tasks_list,
            "frozen_random": self.frozen_n_tasks_list,
            "pretrain": (self.n_pretrain,),
            "pretrained": self.p2b_n_tasks_list,
        }.get(arm, tuple(range(1, self.p3_n_tasks + 1)))

    def n_seeds_of(self, arm: str) -> int:
        """Seeds per cell of a table arm: ``p1_n_seeds`` in P1, ``n_seeds`` elsewhere (a P2(b)
        backbone is a P1 network of one of the first ``n_seeds`` seeds)."""
        if arm == "trained" and self.p1_n_seeds is not None:
            return self.p1_n_seeds
        return self.n_seeds

    def labels(self, arm: str) -> tuple[str, ...]:
        """The variants an arm trains: every variant in P1 and in P3's fine-tuning; only those
        with modulation parameters where the shared weights are frozen (P2, P3's modulation
        mode, and the P2(b) backbones, which exist for P2(b)'s networks)."""
        return (
            self.variants
            if arm in ("trained", "seq_finetune")
            else tuple(v for v in self.variants if _has_modulation(v))
        )

    def config(self, backbone: str, label: str, n_rec: int, n_tasks: int, seed: int) -> TrainConfig:
        """One network of a table arm (``backbone``): E1's config of (label, seed) at this
        profile, on the first ``n_tasks`` tasks of the order (P3: stage ``n_tasks``), with
        ``n_rec`` units, the arm's trainable parameters and, for P2(b) and P3's later stages,
        the parent it starts from (``init_from``, see the module docstring)."""
        if backbone not in TRAINABLE:
            fail("backbone", backbone, "one of " + ", ".join(map(repr, TRAINABLE)))
        if backbone not in ("trained", "seq_finetune") and not _has_modulation(label):
            fail("label", label, f"a pathway with modulation parameters in arm {backbone!r}")
        if backbone in ("trained", "frozen_random"):
            return self.protocol.config(label, seed).replace(
                tasks=self.task_order[:n_tasks], n_rec=n_rec, trainable=TRAINABLE[backbone]
            )
        if backbone == "pretrain":
            return self.config("trained", label, n_rec, self.n_pretrain, seed)
        if backbone == "pretrained":
            if n_tasks <= self.n_pretrain:
                fail(
                    "n_tasks",
                    n_tasks,
                    f"more tasks than the backbone's n_pretrain = {self.n_pretrain}",
                )
            return self.config("frozen_random", label, n_rec, n_tasks, seed).replace(
                init_from=self.config("pretrain", label, n_rec, self.n_pretrain, seed),
                inherit="shared",
            )
        steps, easy = self.stage_steps
        first = self.config("trained", label, n_rec, 1, seed).replace(
            max_steps=steps, easy_steps=easy
        )
        if n_tasks == 1:
            return first
        return first.replace(
            tasks=self.task_order[:n_tasks],
            trainable=TRAINABLE[backbone],
            init_from=self.config(backbone, label, n_rec, n_tasks - 1, seed),
            train_tasks=(self.task_order[n_tasks - 1],),
        )

    def configs(self, backbone: str | None = None) -> dict[tuple, TrainConfig]:
        """Every network of the spec (or of one table arm), keyed (arm, variant, N, K, seed)
        (K: P3's stage). Networks of different arms may be the same network (a P2(b) backbone
        that is a P1 network, P3's stage 1 in both modes): same config, one artifact."""
        arms = self.arms if backbone is None else (backbone,)
        return {
            (arm, lab, n, k, s): self.config(arm, lab, n, k, s)
            for arm in arms
            for lab in self.labels(arm)
            for n in self.n_recs_of(arm)
            for k in self.n_tasks_of(arm)
            for s in range(self.n_seeds_of(arm))
        }


def check_backend(backend: str, address: str | None) -> None:
    """An address only with ``backend="ray"`` (checked before anything runs)."""
    choice(sweep.BACKENDS)("backend", backend)
    if address is not None and backend != "ray":
        fail(
            "address",
            address,
            f"None with backend={backend!r} (an address is the Ray cluster of backend='ray')",
        )


def packing_spec(profile: str | None = None, **overrides) -> PackingSpec:
    """The E3 spec of a profile, with validated overrides."""
    return PackingSpec.from_params(resolve(PACKING_PARAMS, profile, **overrides))


@functools.lru_cache(maxsize=None)
def hybrid_packing_spec(profile: str | None = None, **overrides) -> PackingSpec:
    """E3's joint-training grid (P1) of a profile for the hybrid alone: C5's capacity synergy
    compares it, N by N and seed by seed, with its parts' P1 networks
    (:func:`lib.analysis.synergy.synergy_comparisons`). Not part of C3's verdict."""
    spec = packing_spec(profile, variants=["hybrid"], backbones=["trained"], **overrides)
    # the hybrid keeps the profile's n_seeds: C5 pairs it with its parts on the seeds both have
    return spec if "p1_n_seeds" in overrides else replace(spec, p1_n_seeds=spec.n_seeds)


def _params_per_task(mechanism: str, n_rec: int, rank: int, n_tasks: int) -> int:
    cfg = TrainConfig(mechanism=mechanism, n_rec=n_rec, rank=rank, tasks=TASK_SETS["all"][:n_tasks])
    return build_model(cfg).params_per_task()


def network_row(key: Hashable, config: dict, payload: dict) -> dict:
    """A row of E3's table (a sweep's ``row``): the network's arm, variant, N, K and seed, its
    artifact key (a network shared by arms has one); its per-task modulation parameters
    (``model.params_per_task()``) and their total over its K
    tasks; the steps it trained and its wall time; its final performance per task
    (``perf:<task>``), mean and min over tasks, the number of tasks at criterion and whether
    every task is."""
    backbone, variant, n_rec, n_tasks, seed = key
    cfg = TrainConfig.from_dict(config)
    hist = payload["history"]
    perf = np.asarray(hist["perf"], float).reshape(len(hist["perf"]), len(cfg.tasks))
    final = perf[-1]
    ppt = _params_per_task(cfg.mechanism, cfg.n_rec, cfg.rank, len(cfg.tasks))
    at = final >= cfg.criterion
    trained = cfg.trained_mask()
    hit = np.flatnonzero((perf[:, trained] >= cfg.criterion).all(1))
    trials = hist.get("trials") or [s * cfg.batch_size for s in hist["steps"]]
    row = {
        "backbone": backbone,
        "variant": variant,
        "N": n_rec,
        "K": n_tasks,
        "seed": seed,
        "artifact": artifacts.artifact_key("network", config),
        "params_per_task": ppt,
        "total_mod_params": ppt * n_tasks,
        "steps": int(hist["steps"][-1]),
        "wall_s": float(hist.get("wall_s", np.nan)),
        "mean_perf": float(final.mean()),
        "min_perf": float(final.min()),
        "n_at_criterion": int(at.sum()),
        "all_at_criterion": bool(at.all()),
        "tasks": ",".join(cfg.tasks),
        "trained_tasks": "all" if cfg.train_tasks is None else ",".join(cfg.train_tasks),
        "parent_K": 0 if cfg.init_from is None else len(cfg.init_from.tasks),
        "trials_to_criterion": float(trials[hit[0]]) if hit.size else np.nan,
    }
    row |= {f"perf:{t}": float(p) for t, p in zip(cfg.tasks, final)}
    return row


@dataclass
class StagedPart(plan.Part):
    """A plan part whose jobs run in rounds (``stages[i]``: the chain depth of ``todo[i]``):
    the rounds run one after the other, the jobs of a round in parallel, so the wall time is
    the sum over rounds of :class:`lib.experiments.plan.Part`'s estimate of each round."""

    stages: list[int] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        if not self.job_s:
            return 0.0
        if len(self.stages) != len(self.job_s):
            return super().wall_s
        total = 0.0
        for d in sorted(set(self.stages)):
            jobs = [s for s, st in zip(self.job_s, self.stages) if st == d]
            total += max(sum(jobs) / plan.parallelism(self.workers, len(jobs)), max(jobs))
        return total


def _unique(configs: Mapping[Hashable, TrainConfig]) -> dict[str, tuple[Hashable, TrainConfig]]:
    """Artifact key -> (first table key, config): every network once."""
    out: dict[str, tuple[Hashable, TrainConfig]] = {}
    for k, c in configs.items():
        out.setdefault(artifacts.artifact_key("network", c.to_dict()), (k, c))
    return out


def packing_plan(
    spec: PackingSpec, workers: int = 2, force: bool = False, todo: list | None = None
) -> plan.Plan:
    """The plan of a spec (one part per table arm): networks needed, present, to make, and the
    wall time estimated from training steps timed on this machine (nothing is trained: this is
    the dry run). A network shared by several arms is counted in the first; the parts of chained
    arms (P2(b), P3) add up their rounds (:class:`StagedPart`). ``todo``: keys already known to
    be missing."""
    parts, seen = [], set()
    for arm in spec.arms:
        configs = {}
        for akey, (k, c) in _unique(spec.configs(arm)).items():
            if akey not in seen:
                seen.add(akey)
                configs[k] = c
        if not configs:
            continue
        arm_todo = None if todo is None else [k for k in todo if k in configs]
        label = f"E3 {ARM_NAMES[arm]}"
        if not any(c.init_from is not None for c in configs.values()):
            parts.append(plan.network_part(configs, workers, force, todo=arm_todo, label=label))
            continue
        note = f"{spec.p3_n_tasks} stages, one after the other" if arm.startswith("seq_") else ""
        parts.append(chain_part(label, configs, workers, force, arm_todo, note))
    return plan.Plan(parts)


def chain_part(
    label: str,
    configs: Mapping[Hashable, TrainConfig],
    workers: int,
    force: bool = False,
    todo: list | None = None,
    note: str = "",
) -> StagedPart:
    """The plan part of networks that may start from a parent (``init_from``), run in rounds of
    chain depth. Each is timed as the fresh network of the same tasks (a step costs the same;
    the plan's timing draws steps from a sample of the tasks, which a lineage forbids)."""
    timing = {k: _timing_config(c) for k, c in configs.items()}
    note = "; ".join(
        filter(None, [plan.network_part(timing, workers, todo=[], label=label).note, note])
    )
    part = plan.artifact_part(
        label,
        "network",
        {k: c.to_dict() for k, c in configs.items()},
        lambda k: plan.train_seconds(timing[k]),
        workers,
        force,
        todo,
        note,
    )
    return StagedPart(
        **{f: getattr(part, f) for f in plan.Part.__dataclass_fields__},
        stages=[configs[k].depth for k in part.todo],
    )


def _timing_config(config: TrainConfig) -> TrainConfig:
    return config.replace(init_from=None, inherit="all", train_tasks=None)


def train_from_parent(config: dict, parents: Mapping[str, dict]) -> dict:
    """A sweep job that trains a network starting from its parent's weights: ``config`` is a
    ``TrainConfig.to_dict()`` with ``init_from``, ``parents`` maps artifact keys of parent
    networks to their ``state_dict`` (the driver loads them, so a worker needs no artifacts).
    The payload is a ``network`` artifact's, as :func:`lib.experiments.sweep.train_network`'s."""
    cfg = TrainConfig.from_dict(config)
    if cfg.init_from is None:
        fail(
            "config",
            config,
            "a config with init_from (a fresh network is "
            "lib.experiments.sweep.train_network's job)",
        )
    key = artifacts.artifact_key("network", cfg.init_from.to_dict())
    if key not in parents:
        raise KeyError(f"the weights of parent network {key} were not passed to this job")
    return network_payload(train(cfg, progress=False, init_state=parents[key]))


def load_or_train_chain(config: TrainConfig, progress: bool = False):
    """One network of any arm, loaded or trained, with its ancestors: a fresh network through
    :func:`lib.experiments.runner.load_or_train`; a child after its parent (recursively), from
    the parent's weights, checkpointed next to its artifact as ``load_or_train`` does. Returns a
    :class:`~lib.core.train.TrainResult`."""
    if config.init_from is None:
        return load_or_train(config, progress=progress)
    parent = load_or_train_chain(config.init_from, progress)
    cfg = config.to_dict()

    def compute() -> dict:
        ckpt = artifacts.paths("network", cfg)[0].with_suffix(".ckpt")
        return network_payload(
            train(config, checkpoint=ckpt, progress=progress, init_state=parent.model.state_dict())
        )

    artifacts.load_or_compute("network", cfg, compute)
    return load_or_train(config, progress=progress)  # now present: loaded


def network_results(configs: Mapping[Hashable, TrainConfig], progress: bool = False) -> dict:
    """Every distinct network of ``configs`` as a :class:`~lib.core.train.TrainResult`, keyed by
    its artifact key (a network shared by several keys appears once): loaded, or trained after
    its parent where missing (:func:`load_or_train_chain`)."""
    return {akey: load_or_train_chain(c, progress) for akey, (_, c) in _unique(configs).items()}


def run_packing(
    spec: PackingSpec,
    workers: int = 2,
    backend: str = "local",
    address: str | None = None,
    allow_long: bool = False,
    progress: bool = True,
    force: bool = False,
) -> pd.DataFrame:
    """Every network of ``spec``, loaded or trained; returns E3's table (a row per network,
    :func:`network_row`, in the order of :meth:`PackingSpec.configs`), by :func:`run_chains`
    with the plan of :func:`packing_plan`."""
    return run_chains(
        spec.configs(),
        network_row,
        lambda todo: packing_plan(spec, workers, force, todo=todo),
        workers,
        backend,
        address,
        allow_long,
        progress,
        force,
    )


def run_chains(
    configs: Mapping[Hashable, TrainConfig],
    row,
    plan_of,
    workers: int = 2,
    backend: str = "local",
    address: str | None = None,
    allow_long: bool = False,
    progress: bool = True,
    force: bool = False,
) -> pd.DataFrame:
    """Networks of ``configs`` {table key: TrainConfig}, fresh or chained (``init_from``),
    loaded or trained; returns the table of ``row(key, config, payload)`` per key, in order.

    What is missing is planned first (``plan_of(todo keys)``, a
    :class:`~lib.experiments.plan.Plan`); one over :data:`lib.experiments.plan.LONG_RUN_S`
    stops with :class:`~lib.experiments.plan.PlanTooLong` before any training unless
    ``allow_long``. Then the missing networks train in rounds of chain depth
    (:func:`_train_rounds`). Networks already present are loaded, not retrained
    (:func:`lib.experiments.sweep.run_sweep`; ``force`` retrains all). With
    ``$BOOK_NO_TRAIN=1`` a missing network is an error naming its config."""
    check_backend(backend, address)
    unique = _unique(configs)
    todo = {
        a: (k, c)
        for a, (k, c) in unique.items()
        if force or not artifacts.has("network", c.to_dict())
    }
    if not (todo and artifacts.no_train()):  # else run_sweep names what is missing
        if todo:  # the plan is printed only when something must be made (no log otherwise)
            plan.require(plan_of([k for k, _ in todo.values()]), allow_long)
        _train_rounds(todo, backend, address, workers, progress)
    return sweep.run_sweep(
        "network",
        sweep.train_network,
        {k: c.to_dict() for k, c in configs.items()},
        row=row,
        backend=backend,
        address=address,
        workers=workers,
        progress=progress,
    )


def _train_rounds(
    todo: dict[str, tuple[Hashable, TrainConfig]],
    backend: str,
    address: str | None,
    workers: int,
    progress: bool,
) -> None:
    """Train the networks of ``todo`` (artifact key -> (table key, config)) in rounds of chain
    depth, each round one sweep on the backend; a child's parent is made in an earlier round
    (or exists). A network whose job fails is reported after the last round
    (:class:`~lib.experiments.runner.JobsFailed`, with every failure) and its descendants are not
    trained; every other chain goes on."""
    failures: dict[Hashable, str] = {}
    skipped: set[Hashable] = set()
    failed: set[str] = set()  # artifact keys of networks that failed or were not trained
    for depth in sorted({c.depth for _, c in todo.values()}):
        batch: dict[Hashable, TrainConfig] = {}
        for akey, (k, c) in todo.items():
            if c.depth != depth:
                continue
            parent = (
                None
                if c.init_from is None
                else artifacts.artifact_key("network", c.init_from.to_dict())
            )
            if parent in failed:
                failed.add(akey)
                failures[k] = f"not trained: its parent network {parent} failed"
                skipped.add(k)
            else:
                batch[k] = c
        if not batch:
            continue
        if depth == 0:
            fn = sweep.train_network
        else:
            parents = {}
            for c in batch.values():
                pkey = artifacts.artifact_key("network", c.init_from.to_dict())
                if pkey not in parents:
                    parents[pkey] = artifacts.load("network", c.init_from.to_dict())["state_dict"]
            fn = functools.partial(train_from_parent, parents=parents)
        try:
            sweep.run_sweep(
                "network",
                fn,
                {k: c.to_dict() for k, c in batch.items()},
                row=lambda k, c, p: {},
                backend=backend,
                address=address,
                workers=workers,
                progress=progress,
                force=True,
            )
        except JobsFailed as err:
            failures.update(err.failures)
            failed.update(
                artifacts.artifact_key("network", batch[k].to_dict()) for k in err.failures
            )
    if failures:
        raise JobsFailed(
            failures,
            {k: c.to_dict() for k, c in todo.values() if k in failures and k not in skipped},
        )


def _seeds_text(spec: PackingSpec) -> str:
    p1 = spec.n_seeds_of("trained")
    if p1 == spec.n_seeds or "trained" not in spec.arms:
        return f"{spec.n_seeds} seeds per cell"
    if spec.arms == ("trained",):
        return f"{p1} seeds per cell"
    return f"{p1} seeds per cell in P1 (C3's verdict), {spec.n_seeds} in the other arms"


def describe(spec: PackingSpec, profile: str) -> str:
    """What a run trains, in one paragraph (printed at the top of E3)."""
    proto = spec.protocol
    arms = []
    for arm in spec.arms:
        n_nets = len(spec.configs(arm))
        ks = (
            f"stages 1–{spec.p3_n_tasks}"
            if arm.startswith("seq_")
            else f"K ∈ {{{', '.join(map(str, spec.n_tasks_of(arm)))}}}"
        )
        arms.append(
            f"{ARM_NAMES[arm]}: N ∈ {{{', '.join(map(str, spec.n_recs_of(arm)))}}}, "
            f"{ks}, variants "
            f"{', '.join(f'`{v}`' for v in spec.labels(arm))} ({n_nets} networks)"
        )
    if any(a.startswith("seq_") for a in spec.arms):
        steps, easy = spec.stage_steps
        arms.append(
            f"each P3 stage trains one task for at most {steps:,} steps"
            + (f" (the first {easy:,} on easy coherences)" if easy else "")
        )
    return (
        f"**Profile `{profile}`**: task order {', '.join(spec.task_order)} (a network of K "
        f"tasks learns the first K); {_seeds_text(spec)}. " + "; ".join(arms) + ". "
        f"Training as E1 at this profile: budget {proto.max_steps:,} steps of "
        f"{proto.batch_size} trials, stopping once every task is at criterion; evaluation "
        f"every {proto.eval_every} steps on {proto.eval_trials} trials per task; "
        f"learning rate {proto.lr:g}; "
        + (
            f"the first {proto.easy_steps:,} steps on easy coherences; "
            if proto.easy_steps
            else "no easy-coherence curriculum; "
        )
        + f"task sampling '{proto.sampling}'. Networks shared by arms are trained once."
    )


def main(argv: list[str] | None = None) -> int:
    """``python scripts/packing.py``: E3's plan (``--dry-run``) or its networks."""
    ap = argparse.ArgumentParser(
        prog="python scripts/packing.py",
        description="E3's packing networks: the plan, or training them",
    )
    ap.add_argument("--profile", choices=PROFILES, default="quick")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--backend", choices=sweep.BACKENDS, default="local")
    ap.add_argument("--address", default=None, help="Ray cluster (backend ray)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    ap.add_argument("--yes", action="store_true", help="go ahead even if the plan is long")
    args = ap.parse_args(argv)
    p = resolve(
        PACKING_PARAMS,
        args.profile,
        backend=args.backend,
        address=args.address,
        **({"workers": args.workers} if args.workers else {}),
    )
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
    print(
        f"{len(table)} networks; {int(table.all_at_criterion.sum())} with every task at criterion",
        flush=True,
    )
    return 0


__all__ = [
    "BACKBONES",
    "TRAINABLE",
    "P3_MODES",
    "ARM_NAMES",
    "PACKING_PARAMS",
    "MATCHED_VARIANTS",
    "PACKING_VARIANTS",
    "PackingSpec",
    "packing_spec",
    "network_row",
    "packing_plan",
    "chain_part",
    "run_chains",
    "network_results",
    "StagedPart",
    "hybrid_packing_spec",
    "train_from_parent",
    "load_or_train_chain",
    "run_packing",
    "describe",
    "check_backend",
    "main",
]
