"""The training calibration study (book appendix): which protocol lets every pathway learn.

Trials to criterion per task are measured against the factors that plausibly matter, one at a
time from Yang et al.'s protocol (the ``yang`` arm), on the quick task set, for the mechanism that
equals Yang's rule input (``exc_bias``) and for one synaptic pathway (``syn_lowrank``):

- gradient clipping (Yang: on) -- ``no_clip``;
- learning rate (Yang: 1e-3) -- ``lr_2e-3``;
- task sampling (Yang: Ctx DM 1/2 five times the others) -- ``uniform``, ``error``;
- a coherence curriculum (Yang's ``easy_task`` coherences first) -- ``easy``;
- the curriculum combined with error sampling or a larger learning rate -- ``easy_error``,
  ``easy_lr``;
- network size -- ``n128`` (the ``yang`` arm at twice the units);
- the task set: Ctx DM 1/2 alone, to separate their difficulty from interference with the other
  tasks -- ``ctxdm_only`` and ``ctxdm_only_easy``.

Every arm trains ``seeds`` networks to criterion or to ``max_steps``; each network is an ordinary
``network`` artifact, so the study's numbers are computed from shipped artifacts at build time.
"""

from __future__ import annotations

from dataclasses import dataclass

import os

from lib import artifacts
from lib.core.params import ALLOW_LONG, Param, int_in
from lib.core.tasks import TASK_SETS, TASKS
from lib.core.train import TrainConfig
from lib.experiments.runner import load_or_train

QUICK_TASKS = TASK_SETS["conflict6"]
"""The quick task set: three conflict pairs (Go/Anti, Dly Go/Dly Anti, Ctx DM 1/2)."""

CTXDM = ("contextdm1", "contextdm2")

ARMS: dict[str, dict] = {
    "yang": {},
    "no_clip": {"grad_clip": None},
    "lr_2e-3": {"lr": 2e-3},
    "uniform": {"sampling": "uniform"},
    "error": {"sampling": "error"},
    "easy": {"easy_steps": "EASY"},
    "easy_error": {"easy_steps": "EASY", "sampling": "error"},
    "easy_lr": {"easy_steps": "EASY", "lr": 2e-3},
    "n128": {"n_rec": 128},
    "ctxdm_only": {"tasks": CTXDM},
    "ctxdm_only_easy": {"tasks": CTXDM, "easy_steps": "EASY"},
}
"""Arm -> changes from Yang's protocol ("EASY" stands for the spec's ``easy_steps``)."""

PRIORITY = (
    "easy_error",
    "easy",
    "easy_lr",
    "ctxdm_only_easy",
    "lr_2e-3",
    "ctxdm_only",
    "n128",
    "yang",
    "error",
)
SECOND_MECHANISM_ARMS = ("yang", "easy", "easy_error", "easy_lr")


@dataclass(frozen=True)
class CalibrationSpec:
    """Sizes of the study: base network, budget, seeds, curriculum length, mechanisms, arms."""

    tasks: tuple[str, ...] = QUICK_TASKS
    n_rec: int = 64
    max_steps: int = 12_000
    easy_steps: int = 3_000
    eval_every: int = 250
    eval_trials: int = 512
    seeds: int = 2
    mechanisms: tuple[str, ...] = ("exc_bias", "syn_lowrank")
    arms: tuple[str, ...] = tuple(ARMS)

    def config(self, mechanism: str, arm: str, seed: int) -> TrainConfig:
        base = TrainConfig(
            mechanism=mechanism,
            tasks=self.tasks,
            n_rec=self.n_rec,
            seed=seed,
            max_steps=self.max_steps,
            eval_every=self.eval_every,
            eval_trials=self.eval_trials,
        )
        changes = {k: (self.easy_steps if v == "EASY" else v) for k, v in ARMS[arm].items()}
        return base.replace(**changes)

    def configs(self) -> dict[tuple[str, str, int], TrainConfig]:
        """(mechanism, arm, seed) -> config, most informative arms first (they run first). The
        first mechanism runs every arm; the others the arms in :data:`SECOND_MECHANISM_ARMS`."""
        order = [a for a in PRIORITY if a in self.arms] + [
            a for a in self.arms if a not in PRIORITY
        ]
        out = {}
        for arm in order:
            for i, mech in enumerate(self.mechanisms):
                if i > 0 and arm not in SECOND_MECHANISM_ARMS:
                    continue
                for seed in range(self.seeds):
                    out[(mech, arm, seed)] = self.config(mech, arm, seed)
        return out


SPECS = {
    "smoke": CalibrationSpec(
        tasks=("fdgo", "contextdm1", "contextdm2"),
        n_rec=16,
        max_steps=40,
        easy_steps=20,
        eval_every=20,
        eval_trials=32,
        seeds=1,
        arms=("yang", "easy"),
    ),
    "quick": CalibrationSpec(),
    "paper": CalibrationSpec(max_steps=40_000, seeds=3),
}
"""The study at each profile (the appendix page shows the quick study)."""

FULL_TASKS = TASKS
"""The full battery: Yang et al.'s 20 tasks."""

FULL_SPECS = {
    n_rec: CalibrationSpec(
        tasks=FULL_TASKS,
        n_rec=n_rec,
        max_steps=64_000,
        easy_steps=3_000,
        eval_every=1_000,
        eval_trials=256,
        seeds=2,
        mechanisms=("exc_bias", "syn_prepost"),
        arms=("easy_lr",),
    )
    for n_rec in (128, 64)
}
"""The full-battery calibration (all 20 tasks): the quick protocol's levers (``easy_lr``: a
coherence curriculum of 3,000 steps and learning rate 2e-3, Yang's sampling) for Yang's rule
input (``exc_bias``) and a synaptic pathway (``syn_prepost``), 2 seeds, at N = 128 and N = 64,
up to 64,000 steps; each task's trials to criterion are read from the learning curves."""

CALIBRATION_PARAMS: dict[str, Param] = {
    "workers": Param(
        int_in(1, 256),
        2,
        2,
        os.cpu_count() or 1,
        "parallel training processes if networks must be trained",
    ),
    "allow_long": ALLOW_LONG,
}


def trained_networks(spec: CalibrationSpec) -> dict:
    """The networks of ``spec`` that exist as verified artifacts, keyed (mechanism, arm, seed),
    in the spec's order. Nothing is trained here: a study still training in the background
    shows what has finished, and :func:`lib.analysis.calibration.full_battery_text` says how
    much is missing."""
    return {
        key: load_or_train(cfg, progress=False)
        for key, cfg in spec.configs().items()
        if artifacts.has("network", cfg.to_dict())
    }


__all__ = [
    "QUICK_TASKS",
    "FULL_TASKS",
    "ARMS",
    "CalibrationSpec",
    "SPECS",
    "FULL_SPECS",
    "CALIBRATION_PARAMS",
    "trained_networks",
]
