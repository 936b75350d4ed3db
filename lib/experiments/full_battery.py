"""The full battery (the ``full`` profile): Yang et al.'s 20 tasks at the size this machine trains.

Every verdict of the quick profile rests on six tasks at N = 64. The full battery asks what
changes when the pathways pack all 20 tasks of Yang et al. (2019):

- **E1 at scale**: the context pathways of the site x operation factorial (``exc_bias`` neuron /
  additive, ``exc_gain`` neuron / multiplicative, ``syn_lowrank_r1`` synapse / additive,
  ``syn_prepost`` synapse / multiplicative), the ``hybrid`` and the context-blind ``none``, at
  N = 128 on all 20 tasks, with the protocol the full-battery calibration found sufficient
  (:data:`lib.experiments.calibration.FULL_SPECS`: a 3,000-step coherence curriculum,
  learning rate 2e-3, Yang's sampling, up to 64,000 steps of 64 trials, stopped once every task
  is at criterion). These configs are exactly the calibration's, so its networks are E1's.
- **E3 at scale**: tasks at criterion when all 20 are trained jointly, against N
  (:attr:`FullSpec.sizes`), for the pathways of :attr:`FullSpec.size_variants`. K = 20 exceeds
  what a small N holds, so capacity is not capped by the task grid as it is at quick.

Every network is an ordinary ``network`` artifact. Training them costs hours on two cores
(``python -m lib.experiments --profile full --dry-run`` prints the plan), so the chapter loads
what has been shipped and shows only *complete* sets (every seed of a variant);
:func:`shipped_networks` never trains.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from types import SimpleNamespace

from lib.core.params import ALLOW_LONG, Param, flag, float_in, int_in, int_list, resolve, subset
from lib.core.tasks import TASKS
from lib.core.train import TrainConfig
from lib.core.types import NetworkKey, Networks
from lib.experiments import plan, sweep
from lib.experiments.ambiguity import FULL_BATTERY_PROBE, conflict_probe_part, run_conflict_probes
from lib.experiments.clustering import ClusteringSpec, clustering_part, run_clustering
from lib.experiments.battery import VARIANTS, BatterySpec
from lib.experiments.runner import run_configs, shipped_networks

FULL_VARIANTS = ("none", "exc_bias", "exc_gain", "syn_lowrank_r1", "syn_prepost", "hybrid")
"""E1 at scale: the four site x operation cells, the hybrid and the context-blind floor."""

SIZE_VARIANTS = ("exc_bias", "syn_prepost")
"""E3 at scale: Yang's rule input and the synaptic pathway of the calibration."""

FULL_PARAMS: dict[str, Param] = {
    "n_rec": Param(int_in(4, 4096), 16, 128, 256, "recurrent units N of E1 at scale", full=128),
    "n_seeds": Param(int_in(1, 100), 2, 3, 5, "networks per variant (E1 at scale)", full=3),
    "variants": Param(
        subset(tuple(VARIANTS)),
        FULL_VARIANTS,
        FULL_VARIANTS,
        FULL_VARIANTS,
        "E1 variants on all 20 tasks (labels of lib.experiments.VARIANTS)",
        full=FULL_VARIANTS,
    ),
    "max_steps": Param(
        int_in(1, 10_000_000),
        40,
        64_000,
        156_250,
        "training budget in steps of 64 trials (stopped once every task is at criterion)",
        full=64_000,
    ),
    "eval_every": Param(
        int_in(1, 100_000), 20, 1_000, 1_000, "steps between evaluations", full=1_000
    ),
    "eval_trials": Param(
        int_in(8, 100_000), 32, 256, 512, "evaluation trials per task (Yang: 512)", full=256
    ),
    "easy_steps": Param(
        int_in(0, 10_000_000),
        20,
        3_000,
        3_000,
        "steps trained on Yang's easy_task coherences first (Yang: 0)",
        full=3_000,
    ),
    "lr": Param(
        float_in(1e-6, 0.1), 2e-3, 2e-3, 2e-3, "Adam learning rate (Yang: 0.001)", full=2e-3
    ),
    "sizes": Param(
        int_list(4, 4096),
        "8, 16",
        "32, 64, 128",
        "64, 128, 256",
        "E3 at scale: the network sizes N trained on all 20 tasks jointly",
        full="32, 64, 128",
    ),
    "size_variants": Param(
        subset(tuple(VARIANTS)),
        SIZE_VARIANTS,
        SIZE_VARIANTS,
        SIZE_VARIANTS,
        "E3 at scale: the pathways trained at every size",
        full=SIZE_VARIANTS,
    ),
    "size_seeds": Param(
        int_in(1, 100), 2, 2, 3, "E3 at scale: networks per pathway and size", full=2
    ),
    "workers": Param(
        int_in(1, 256),
        2,
        2,
        os.cpu_count() or 1,
        "parallel training processes if networks must be trained",
        full=2,
    ),
    "train_missing": Param(
        flag,
        False,
        False,
        False,
        "train the networks not shipped (after printing the plan); False: show what is shipped",
        full=False,
    ),
    "allow_long": replace(ALLOW_LONG, full=ALLOW_LONG.quick),
}
"""The full-battery chapter's parameters. Its ``quick`` values are the ``full`` profile's (the
battery at N = 128 that this machine trains and the repository ships); ``paper`` is Yang's size
(N = 256, 5 seeds, not shipped); ``smoke`` is a tiny 20-task battery for the tests."""


@dataclass(frozen=True)
class FullSpec:
    """The full battery at one profile: E1 at scale (``battery``) and E3's sizes."""

    battery: BatterySpec
    sizes: tuple[int, ...]
    size_variants: tuple[str, ...]
    size_seeds: int

    @classmethod
    def from_params(cls, p: SimpleNamespace) -> "FullSpec":
        battery = BatterySpec(
            tasks=tuple(TASKS),
            n_rec=p.n_rec,
            n_seeds=p.n_seeds,
            max_steps=p.max_steps,
            eval_every=p.eval_every,
            eval_trials=p.eval_trials,
            variants=tuple(p.variants),
            easy_steps=p.easy_steps,
            lr=p.lr,
        )
        return cls(battery, tuple(p.sizes), tuple(p.size_variants), p.size_seeds)

    def e1_configs(self) -> dict[NetworkKey, TrainConfig]:
        """E1 at scale, keyed (label, seed) (no hybrid ablations)."""
        return self.battery.configs(ablations=False)

    def size_configs(self) -> dict[tuple[int, str, int], TrainConfig]:
        """E3 at scale, keyed (N, label, seed); at ``battery.n_rec`` they are E1's networks."""
        return {
            (n, label, seed): replace(self.battery, n_rec=n).config(label, seed)
            for n in self.sizes
            for label in self.size_variants
            for seed in range(self.size_seeds)
        }

    def jobs(self) -> dict[tuple, TrainConfig]:
        """Every network of the profile once: ("E1", label, seed), then ("E3", N, label, seed)
        for the sizes' networks that are not E1's."""
        e1 = self.e1_configs()
        out: dict[tuple, TrainConfig] = {("E1", *k): c for k, c in e1.items()}
        shared = set(e1.values())
        out |= {("E3", *k): c for k, c in self.size_configs().items() if c not in shared}
        return out


def full_spec(profile: str | None = None, **overrides) -> FullSpec:
    """The full battery of a profile (``quick`` and ``full`` are the same), with validated
    overrides."""
    return FullSpec.from_params(resolve(FULL_PARAMS, profile, **overrides))


def complete_variants(nets: Networks, spec: FullSpec) -> list[str]:
    """The spec's variants whose every seed is among ``nets`` (keyed (label, seed)): the sets
    the chapter shows and judges."""
    seeds = range(spec.battery.n_seeds)
    return [v for v in spec.battery.variants if all((v, s) in nets for s in seeds)]


def complete_sizes(nets: dict, spec: FullSpec) -> list[int]:
    """The sizes at which every pathway of ``size_variants`` has every seed among ``nets``
    (keyed (N, label, seed))."""
    return [
        n
        for n in spec.sizes
        if all((n, v, s) in nets for v in spec.size_variants for s in range(spec.size_seeds))
    ]


CLUSTERING = ClusteringSpec()
"""E4 at scale: Yang et al.'s task-variance clustering (k-means, k by silhouette)."""


def analysed(configs: dict) -> dict:
    """The networks E2 and E4 analyse at scale: every context-carrying one (``none`` has no
    context to corrupt, and its clusters are not compared)."""
    return {k: c for k, c in configs.items() if k[0] != "none"}


def full_plan(spec: FullSpec, workers: int, force: bool = False, label: str = "") -> plan.Plan:
    """The plan of the profile (what is shipped, what is missing, the estimated wall time on
    this machine): the networks, then E4's clustering and E2's conflict-pair probes of E1's."""
    label = label or "the full battery"
    e1 = analysed(spec.e1_configs())
    return plan.Plan(
        [
            plan.network_part(spec.jobs(), workers, force, label=f"{label}: networks"),
            clustering_part(e1, CLUSTERING, workers, force, label=f"{label}: E4 clustering"),
            conflict_probe_part(
                e1, FULL_BATTERY_PROBE, workers, force, label=f"{label}: E2 conflict probes"
            ),
        ]
    )


def full_analyses(
    nets: Networks, workers: int = 2, progress: bool = False, allow_long: bool = False
) -> tuple[dict, dict]:
    """E4's clustering and E2's conflict-pair probes (:data:`FULL_BATTERY_PROBE`) of the
    context-carrying networks among ``nets`` (keyed (label, seed)), loaded or computed:
    (clusters, probes), each keyed as ``nets``."""
    carrying = analysed(nets)
    clusters = run_clustering(
        carrying, CLUSTERING, workers, progress=progress, allow_long=allow_long
    )
    probes = run_conflict_probes(
        carrying, FULL_BATTERY_PROBE, workers, progress=progress, allow_long=allow_long
    )
    return clusters, probes


def run_full(
    spec: FullSpec,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
    backend: str = "local",
    address: str | None = None,
) -> dict:
    """Load or train every network of the profile (:meth:`FullSpec.jobs`'s keys); resumable:
    finished networks are artifacts and a network interrupted mid-training resumes from its
    checkpoint. ``backend="ray"`` trains the missing ones as Ray tasks (on the cluster at
    ``address``, or a local Ray instance of ``workers`` CPUs), then loads them. E1's networks are
    then analysed (:func:`full_analyses`, locally)."""
    jobs = spec.jobs()
    if backend != "local":
        sweep.run_sweep(
            "network",
            sweep.train_network,
            {k: c.to_dict() for k, c in jobs.items()},
            backend=backend,
            address=address,
            workers=workers,
            force=force,
            progress=progress,
        )
    nets = run_configs(
        jobs,
        workers=workers,
        force=force and backend == "local",
        progress=progress,
        allow_long=allow_long,
    )
    full_analyses(
        {k[1:]: r for k, r in nets.items() if k[0] == "E1"}, workers, progress, allow_long
    )
    return nets


def full_networks(
    spec: FullSpec, train_missing: bool = False, workers: int = 2, allow_long: bool = False
) -> tuple[Networks, dict]:
    """E1 at scale keyed (label, seed) and E3 at scale keyed (N, label, seed): the shipped
    networks, or (``train_missing``) every network, the missing ones trained after the plan is
    printed (:func:`run_full`)."""
    if train_missing:
        run_full(spec, workers, progress=True, allow_long=allow_long)
    return shipped_networks(spec.e1_configs()), shipped_networks(spec.size_configs())


__all__ = [
    "CLUSTERING",
    "analysed",
    "full_analyses",
    "full_networks",
    "FULL_VARIANTS",
    "SIZE_VARIANTS",
    "FULL_PARAMS",
    "FullSpec",
    "full_spec",
    "complete_variants",
    "complete_sizes",
    "full_plan",
    "run_full",
]
