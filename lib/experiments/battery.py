"""Experiment specs and runners shared by the chapters (SPEC §5), and ``make artifacts``.

E1 (the battery) trains every context pathway on a task set over several seeds. Its networks are
artifacts (:func:`lib.artifacts.load_or_train`) that E2 and later chapters load. Runs are
independent, so :func:`lib.experiments.runner.run_configs` spreads them over a local process
pool with one torch thread per worker.

"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from lib import artifacts
from lib.core.model import default_mod_init_std
from lib.core.params import ALLOW_LONG, Param, choice, float_in, int_in, resolve, subset, task_set
from lib.core.statespace import context_drive
from lib.core.tasks import N_INPUT
from lib.core.train import SAMPLING, TrainConfig, build_model, evaluation_batches
from lib.core.types import NetworkKey, Networks
from lib.experiments.runner import run_configs

VARIANTS: dict[str, tuple[str, int]] = {
    "none": ("none", 1),
    "exc_bias": ("exc_bias", 1),
    "exc_gain": ("exc_gain", 1),
    "exc": ("exc", 1),
    "syn_prepost": ("syn_prepost", 1),
    "syn_lowrank_r1": ("syn_lowrank", 1),
    "syn_lowrank_r2": ("syn_lowrank", 2),
    "syn_mask": ("syn_mask", 1),
    "hybrid": ("hybrid", 1),
    "exc_gain_rec": ("exc_gain_rec", 1),
    "syn_prepost_in": ("syn_prepost_in", 1),
}
"""E1's networks: label -> (mechanism, rank). ``syn_lowrank_r1`` matches ``exc``'s budget (2N
per task), ``syn_lowrank_r2`` matches ``hybrid``'s (4N per task). The last two are the controls of
:data:`CONTROLS`."""

CONTROLS: dict[str, str] = {
    "exc_gain_rec": "exc_gain",
    "syn_prepost_in": "syn_prepost",
}
"""Controls for *where* modulation acts -> the main variant each one changes. ``exc_gain``'s gain
multiplies the whole current (input synapses included) while every synaptic pathway touches only
W_rec; ``exc_gain_rec`` is a gain on the recurrent current only, ``syn_prepost_in`` a synaptic
pathway whose post-synaptic factor also scales W_in. They are not members of the families that
C1-C4's verdicts compare (:data:`lib.analysis.common.EXC_FAMILY`, ``SYN_FAMILY``)."""

ABLATIONS: dict[str, tuple[str, str]] = {
    "hybrid_frozen_exc": ("hybrid", "freeze_exc"),
    "hybrid_frozen_syn": ("hybrid", "freeze_syn"),
}
"""Hybrid networks trained with one pathway frozen at its random initial values
(N(0, mod_init_std^2) per entry, as every pathway starts; not zero modulation)."""

ARMS: dict[str, str] = {
    "standard": "E1's protocol",
    "equalised": "modulation parameters initialised so that each pathway's initial context drive "
    "equals that of `exc`",
    "mixtures": "ambiguity-augmented training: each step's context mixes the task with one other "
    "task of weight up to {mix}, the target staying the task's",
}
"""Training protocols whose networks test whether E2's conclusions depend on a choice of E1's:
how large the modulation starts (the pathways' initial effects differ by an order of magnitude)
and whether mixtures were seen in training."""

ARM_VARIANTS: dict[str, tuple[str, ...]] = {
    "standard": tuple(VARIANTS),
    "equalised": ("exc", "syn_prepost", "syn_lowrank_r1"),
    "mixtures": ("exc", "syn_prepost", "syn_lowrank_r1"),
}
"""The variants each arm trains: the pathways of C2's matched comparisons at a 2N budget
(``exc`` vs ``syn_prepost`` and ``syn_lowrank_r1``). ``exc`` is the equalising reference, so its
equalised networks are its standard ones."""

EQUALISE_TO = "exc"
"""The variant whose initial context drive the equalised arm gives every pathway."""

TRAIN_MIX = 0.4
"""The mixtures arm's largest distractor weight (``TrainConfig.train_mix``): contexts up to
0.6 e_task + 0.4 e_other, well inside the region where the trained task dominates."""

DRIVE_SEEDS = (0, 1, 2)
"""Networks over which an initial context drive is averaged to set an equalised scale."""
DRIVE_TRIALS = 64
"""Evaluation trials per task on which an initial drive is measured (its samples are capped at
``lib.core.statespace.CONTEXT_DRIVE_SAMPLES`` visited states anyway)."""

YANG_TRIALS = 10_000_000
"""Yang et al.'s training budget in trials (156,250 steps of 64)."""

BATTERY_PARAMS: dict[str, Param] = {
    "task_set": Param(
        task_set,
        ["fdgo", "fdanti"],
        "conflict6",
        "all",
        "task set: 'conflict6', 'core8', 'all' or a list of task names",
    ),
    "n_rec": Param(int_in(4, 4096), 24, 64, 256, "recurrent units N"),
    "n_seeds": Param(int_in(1, 100), 2, 6, 5, "independent networks per variant"),
    "max_steps": Param(
        int_in(1, 10_000_000),
        40,
        12_000,
        156_250,
        "training budget in steps (Yang: 156,250 steps of 64 trials)",
    ),
    "eval_every": Param(int_in(1, 100_000), 20, 250, 500, "steps between evaluations"),
    "eval_trials": Param(
        int_in(8, 100_000), 32, 512, 512, "evaluation trials per task (Yang: 512)"
    ),
    "variants": Param(
        subset(tuple(VARIANTS)),
        tuple(VARIANTS),
        tuple(VARIANTS),
        tuple(VARIANTS),
        "E1 variants to train (labels of lib.experiments.VARIANTS)",
    ),
    "workers": Param(int_in(1, 256), 2, 2, os.cpu_count() or 1, "parallel training processes"),
    "easy_steps": Param(
        int_in(0, 10_000_000),
        20,
        3000,
        0,
        "steps trained on Yang's easy_task coherences first (Yang: 0)",
    ),
    "sampling": Param(
        choice(SAMPLING),
        "yang",
        "yang",
        "yang",
        "task sampling: 'yang' (Ctx DM 5x), 'uniform' or 'error'",
    ),
    "lr": Param(float_in(1e-6, 0.1), 1e-3, 2e-3, 1e-3, "Adam learning rate (Yang: 0.001)"),
    "batch_size": Param(int_in(1, 65_536), 64, 64, 64, "trials per step (Yang: 64)"),
    "allow_long": ALLOW_LONG,
}


@dataclass(frozen=True)
class BatterySpec:
    """The E1 experiment at one size: which networks, on which tasks, for how long."""

    tasks: tuple[str, ...]
    n_rec: int
    n_seeds: int
    max_steps: int
    eval_every: int
    eval_trials: int
    variants: tuple[str, ...]
    easy_steps: int = 0
    sampling: str = "yang"
    lr: float = 1e-3
    batch_size: int = 64

    @classmethod
    def from_params(cls, p: SimpleNamespace) -> "BatterySpec":
        return cls(
            tuple(p.task_set),
            p.n_rec,
            p.n_seeds,
            p.max_steps,
            p.eval_every,
            p.eval_trials,
            tuple(p.variants),
            p.easy_steps,
            p.sampling,
            p.lr,
            p.batch_size,
        )

    def config(self, label: str, seed: int, arm: str = "standard") -> TrainConfig:
        """The TrainConfig of one network (a VARIANTS or ABLATIONS label) under a training arm
        (:data:`ARMS`)."""
        check_arm(arm, label)
        cfg = self._standard_config(label, seed)
        if arm == "equalised" and label != EQUALISE_TO:
            cfg = cfg.replace(
                mod_init_std=equalised_init_std(cfg, self._standard_config(EQUALISE_TO, seed))
            )
        elif arm == "mixtures":
            cfg = cfg.replace(train_mix=TRAIN_MIX)
        return cfg

    def _standard_config(self, label: str, seed: int) -> TrainConfig:
        if label in VARIANTS:
            mechanism, rank = VARIANTS[label]
            trainable = "all"
        elif label in ABLATIONS:
            (mechanism, trainable), rank = ABLATIONS[label], 1
        else:
            raise ValueError(
                f"label: unknown {label!r}; allowed: " + ", ".join([*VARIANTS, *ABLATIONS])
            )
        return TrainConfig(
            mechanism=mechanism,
            tasks=self.tasks,
            n_rec=self.n_rec,
            rank=rank,
            seed=seed,
            max_steps=self.max_steps,
            eval_every=self.eval_every,
            eval_trials=self.eval_trials,
            trainable=trainable,
            easy_steps=self.easy_steps,
            sampling=self.sampling,
            lr=self.lr,
            batch_size=self.batch_size,
        )

    @property
    def main_variants(self) -> list[str]:
        """The spec's variants without the controls of :data:`CONTROLS` (the chapters' main
        figures; the controls have sections of their own)."""
        return [v for v in self.variants if v not in CONTROLS]

    def arm_configs(self, arm: str) -> dict[NetworkKey, TrainConfig]:
        """The networks of one training arm, keyed (label, seed), for the spec's variants that
        the arm trains (:data:`ARM_VARIANTS`)."""
        check_arm(arm)
        return {
            (lab, s): self.config(lab, s, arm)
            for lab in ARM_VARIANTS[arm]
            if lab in self.variants
            for s in range(self.n_seeds)
        }

    def labels(self, ablations: bool = True) -> list[str]:
        return [*self.variants, *(ABLATIONS if ablations and "hybrid" in self.variants else ())]

    def configs(self, ablations: bool = True) -> dict[NetworkKey, TrainConfig]:
        return {
            (lab, s): self.config(lab, s)
            for lab in self.labels(ablations)
            for s in range(self.n_seeds)
        }


def check_arm(arm: str, label: str | None = None) -> None:
    """ValueError unless ``arm`` is one of :data:`ARMS` (and trains ``label``, if given)."""
    if arm not in ARMS:
        raise ValueError(f"arm={arm!r} is not allowed; expected one of {', '.join(ARMS)}")
    if label is not None and arm != "standard" and label not in ARM_VARIANTS[arm]:
        raise ValueError(
            f"label={label!r} is not trained in arm {arm!r}; expected one of "
            + ", ".join(ARM_VARIANTS[arm])
        )


def initial_drive(config: TrainConfig) -> float:
    """The mean over tasks and :data:`DRIVE_SEEDS` of the context drive
    (:func:`lib.core.statespace.context_drive`, RMS change of the units' input that a task's
    context causes) of ``config``'s network at initialisation, on :data:`DRIVE_TRIALS` trials
    per task."""
    return stored_initial_drive(config.replace(seed=0, eval_trials=DRIVE_TRIALS))


DRIVE_KIND = "drive"
"""The artifact kind of an initial context drive: a deterministic number per config and behaviour
version, shipped like any result, so every machine derives the same equalised scales (and so the
same artifact keys) and the planner never has to measure one."""


@functools.lru_cache(maxsize=None)
def stored_initial_drive(config: TrainConfig) -> float:
    """The initial drive of exactly ``config`` (seed and trials included), loaded from its
    ``drive`` artifact or measured (:func:`measure_initial_drive`) and saved; memoised."""
    return float(
        artifacts.load_or_compute(
            DRIVE_KIND, config.to_dict(), lambda: measure_initial_drive(config)
        )
    )


def measure_initial_drive(config: TrainConfig) -> float:
    """Measure the initial drive of ``config``'s network, the mean over :data:`DRIVE_SEEDS`."""
    print(
        f"equalised arm: initial context drive of {config.mechanism} N={config.n_rec} "
        f"K={len(config.tasks)} (saved as a '{DRIVE_KIND}' artifact) ...",
        file=sys.stderr,
        flush=True,
    )
    drives = []
    for seed in DRIVE_SEEDS:
        cfg = config.replace(seed=seed)
        drives.append(context_drive(build_model(cfg).eval(), evaluation_batches(cfg), seed).mean())
    return float(np.mean(drives))


def default_scale(config: TrainConfig) -> float:
    """The s.d. of a config's initial modulation parameters (the model's 1/sqrt(n_in) unless
    set)."""
    return config.mod_init_std if config.mod_init_std is not None else default_mod_init_std(N_INPUT)


def _two_significant(x: float) -> float:
    return float(f"{x:.2g}")


def equalised_init_std(config: TrainConfig, reference: TrainConfig) -> float:
    """The ``mod_init_std`` at which ``config``'s network starts with the initial drive
    (:func:`initial_drive`) of ``reference``'s. The drive grows about linearly with the scale of
    the modulation parameters, so two rescalings (s <- s * target / drive(s)) reach it; the
    result is rounded to two significant digits so that artifact keys do not depend on float
    rounding."""
    target = initial_drive(reference)
    std = default_scale(config)
    for _ in range(2):
        std *= target / initial_drive(config.replace(mod_init_std=std))
    return _two_significant(std)


def equalisation_table(spec: BatterySpec) -> pd.DataFrame:
    """Per variant of the equalised arm: its modulation scale (``mod_init_std``) and initial
    context drive (:func:`initial_drive`) under E1's protocol and equalised."""
    rows = []
    for lab in ARM_VARIANTS["equalised"]:
        if lab not in spec.variants:
            continue
        std_cfg, eq_cfg = spec.config(lab, 0), spec.config(lab, 0, "equalised")
        rows.append(
            {
                "variant": lab,
                "scale (E1)": default_scale(std_cfg),
                "initial drive (E1)": initial_drive(std_cfg),
                "scale (equalised)": default_scale(eq_cfg),
                "initial drive (equalised)": initial_drive(eq_cfg),
            }
        )
    return pd.DataFrame(rows).set_index("variant").round(4)


def battery_spec(profile: str | None = None, **overrides) -> BatterySpec:
    """The E1 spec of a profile, with validated overrides (chapters 03 and 04 share it)."""
    return BatterySpec.from_params(resolve(BATTERY_PARAMS, profile, **overrides))


def run_battery(
    spec: BatterySpec,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> Networks:
    """All E1 networks of a spec (variants and hybrid ablations), keyed by (label, seed); see
    :func:`lib.experiments.runner.run_configs` for the plan printed before any training."""
    return run_configs(
        spec.configs(), workers=workers, force=force, progress=progress, allow_long=allow_long
    )


def run_arm(
    spec: BatterySpec,
    arm: str,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> Networks:
    """The networks of one training arm (:meth:`BatterySpec.arm_configs`), keyed (label, seed)."""
    return run_configs(
        spec.arm_configs(arm),
        workers=workers,
        force=force,
        progress=progress,
        allow_long=allow_long,
    )


OTHER_ARMS = tuple(arm for arm in ARMS if arm != "standard")
"""The training arms besides E1's own (whose networks are E1's)."""


def other_arm_configs(spec: BatterySpec) -> dict:
    """The networks of every training arm but the standard one, keyed (arm, label, seed)."""
    return {(arm, *k): c for arm in OTHER_ARMS for k, c in spec.arm_configs(arm).items()}


def run_arms(
    spec: BatterySpec,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict[str, Networks]:
    """Arm -> its networks keyed (label, seed), for every arm of :data:`OTHER_ARMS`."""
    return {arm: run_arm(spec, arm, workers, force, progress, allow_long) for arm in OTHER_ARMS}


def variant_networks(nets: Networks) -> Networks:
    """The E1 variants among ``nets`` (the hybrid ablations left out)."""
    return {k: v for k, v in nets.items() if k[0] in VARIANTS}


def protocol_text(spec: BatterySpec) -> str:
    """The training protocol in words, with each departure from Yang et al. named."""
    cfg = spec.config(spec.variants[0], 0)
    yang = TrainConfig(mechanism=cfg.mechanism)
    parts = [
        f"Adam, learning rate {cfg.lr:g}" + (" (Yang: 0.001)" if cfg.lr != yang.lr else ""),
        f"batch {cfg.batch_size}" + (" (Yang: 64)" if cfg.batch_size != 64 else ""),
        "gradient elements clipped to [-1, 1] as in Yang's code"
        if cfg.grad_clip == 1.0
        else f"gradient clipping {cfg.grad_clip} (Yang: 1)",
        {
            "yang": "Ctx DM 1/2 sampled five times as often as each other task (Yang)",
            "uniform": "tasks sampled uniformly (Yang: Ctx DM 1/2 five times as often)",
            "error": "tasks sampled in proportion to their current error (Yang: Ctx DM 1/2 "
            "five times as often)",
        }[cfg.sampling],
    ]
    if cfg.easy_steps:
        parts.append(
            f"the first {cfg.easy_steps:,} steps on Yang's easy coherences "
            "(DM coherences x10; Yang: none), judged always on the standard tasks"
        )
    return "; ".join(parts)


def describe(spec: BatterySpec, profile: str) -> str:
    """A one-paragraph statement of what a run trains (printed at the top of E1 and E2)."""
    trials = spec.max_steps * spec.batch_size
    return (
        f"**Profile `{profile}`**: {len(spec.tasks)} tasks ({', '.join(spec.tasks)}); "
        f"N = {spec.n_rec}; {spec.n_seeds} seeds per variant; budget {spec.max_steps:,} "
        f"steps of {spec.batch_size} trials ({trials:,} trials, "
        f"{trials / YANG_TRIALS:.1%} of Yang's), stopping early once every task is at "
        f"criterion; evaluation every {spec.eval_every} steps on {spec.eval_trials} trials "
        f"per task. Protocol: {protocol_text(spec)} (see the training appendix). "
        f"Variants: {', '.join(spec.labels())}."
    )


def shipped_specs() -> dict[str, BatterySpec]:
    """The specs whose artifacts the book ships (what ``make`` needs without training)."""
    return {p: battery_spec(p) for p in ("smoke", "quick")}
