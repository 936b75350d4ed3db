"""What a profile ships, in one place: every experiment's spec at that profile and the networks
they need, each listed once.

The CLI (``python -m lib.experiments``: its plan and its build), the summary pages and the
provenance appendix read the specs from here instead of rebuilding the lists themselves:

- E1 (:attr:`Manifest.battery`) and its other training arms
  (:func:`lib.experiments.battery.other_arm_configs`);
- the fair-tuning grid (:attr:`Manifest.tuning`) and the test seeds under each pathway's chosen
  protocol (:attr:`Manifest.tuned`; :data:`lib.experiments.tuning.CHOSEN_PROTOCOLS`), with C1's
  floor for them (:meth:`Manifest.floor_configs`);
- the calibration study of the training appendix (:attr:`Manifest.calibration`);
- E2's probes (:attr:`Manifest.probe`) of E1's variants and of the arms' networks;
- E4's dynamics analyses (:attr:`Manifest.dynamics`) and E1's lesion maps
  (:attr:`Manifest.lesions`, of :meth:`Manifest.lesion_networks`);
- E5's sequence probes at each fast time constant (:attr:`Manifest.timescales`), its
  filter-trained networks and their probes (:attr:`Manifest.filter_trained`, only where the
  profile ships them: :data:`FILTER_TRAINED_AT`) and its learning networks
  (:attr:`Manifest.learning`);
- E3's packing grids (:attr:`Manifest.packing`: the joint grid, then the hybrid's for C5);
- the full battery built with the profile (:attr:`Manifest.full`; only ``smoke`` ships one,
  ``--profile full`` is the full battery alone: :mod:`lib.experiments.full_battery`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lib import artifacts
from lib.core.params import resolve
from lib.core.train import TrainConfig
from lib.experiments import (
    ambiguity,
    battery,
    calibration,
    chapter_params,
    full_battery,
    learning,
    lesions,
    packing,
    timescales,
    tuning,
)
from lib.experiments import dynamics as dynamics_experiment
from lib.experiments.runner import shipped_networks

SHIPPED_PROFILES = ("smoke", "quick")
"""The profiles whose artifacts the repository ships (``make`` needs no training)."""

FULL_BATTERY_AT = {"smoke": "smoke", "full": "full"}
"""Profile built -> the full battery's profile built with it. The full battery's smoke networks
ship with the smoke profile (the tests run its chapter); at N = 128 it is a profile of its own
(``--profile full``: hours on two cores), which builds nothing else."""

FILTER_TRAINED_AT = ("smoke", "quick")
"""The profiles whose build trains and probes E5's filter-trained networks
(:data:`lib.experiments.timescales.TRAINED_UNDER`), all shipped; another profile's with
:data:`FILTER_TRAINED_FLAG` (``--dry-run`` prints the planner's estimate; the 36 of quick took
2.7 h of training by their stamps, two at a time on the 2-core development machine)."""

FILTER_TRAINED_FLAG = "--filter-trained"
"""The option of ``python -m lib.experiments`` that adds them to any profile's build."""


def filter_trained_command(profile: str) -> str:
    """The command that trains and probes the filter-trained networks of ``profile``."""
    extra = "" if profile in FILTER_TRAINED_AT else f" {FILTER_TRAINED_FLAG}"
    return f"python -m lib.experiments --profile {profile}{extra}"


@dataclass(frozen=True)
class Manifest:
    """Every spec of one profile (``full``: only :attr:`full`; the others are ``None``)."""

    profile: str
    battery: battery.BatterySpec | None
    probe: ambiguity.ProbeSpec | None
    dynamics: dynamics_experiment.DynamicsSpec | None
    lesions: lesions.LesionSpec | None
    timescales: dict[float, tuple[timescales.TimescalesSpec, tuple[str, ...]]]
    learning: learning.LearningSpec | None
    packing: tuple[packing.PackingSpec, ...]
    calibration: calibration.CalibrationSpec | None
    full: full_battery.FullSpec | None
    workers: int
    filter_trained: bool = False
    tuning: tuning.TuningSpec | None = None
    tuned: tuning.TunedSpec | None = None

    def e5_main(self) -> timescales.TimescalesSpec | None:
        """E5's spec at the chapter's own tau_fast (the one at which every
        :data:`lib.experiments.timescales.NETWORK_LABELS` network is probed); None if none."""
        for spec, labels in self.timescales.values():
            if labels == timescales.NETWORK_LABELS:
                return spec
        return None

    def filter_trained_configs(self) -> dict[tuple, TrainConfig]:
        """E5's filter-trained networks of this profile, keyed (trained label, seed)
        (:func:`lib.experiments.timescales.filter_trained_configs` at :meth:`e5_main`), whether
        or not the profile builds them (:attr:`filter_trained`)."""
        spec = self.e5_main()
        if self.battery is None or spec is None:
            return {}
        return timescales.filter_trained_configs(self.battery, spec)

    def network_jobs(self) -> dict[tuple, TrainConfig]:
        """Every network of E1, its other training arms, the calibration study, the fair-tuning
        grid and the test seeds under the chosen protocols, each once (the calibration arm the
        profile uses and ``exc`` in the equalised arm share their networks with E1, and so may
        a tuned network whose chosen protocol is E1's). Keys: ("E1", label, seed), ("arm", arm,
        label, seed), ("calibration", mechanism, arm, seed), ("grid", variant, lr, init, seed),
        ("tuned", variant, seed) and ("floor", "none", seed) (C1's floor for the tuned seeds: E1's
        ``none`` itself where their budget is E1's)."""
        if self.battery is None or self.calibration is None:
            return {}
        e1 = self.battery.configs()
        jobs: dict[tuple, TrainConfig] = {("E1", *k): c for k, c in e1.items()}
        shared = set(e1.values())
        arms = battery.other_arm_configs(self.battery)
        jobs |= {("arm", *k): c for k, c in arms.items() if c not in shared}
        shared |= set(jobs.values())
        extra = {("calibration", *k): c for k, c in self.calibration.configs().items()}
        if self.tuning is not None:
            extra |= {("grid", *k): c for k, c in self.tuning.configs().items()}
        extra |= {("tuned", *k): c for k, c in self.tuned_configs().items()}
        extra |= {("floor", *k): c for k, c in self.floor_configs().items()}
        for key, c in extra.items():
            if c not in shared:
                jobs[key] = c
                shared.add(c)
        return jobs

    def tuned_configs(self) -> dict[tuple[str, int], TrainConfig]:
        """The test seeds under the chosen protocols, keyed (variant, seed); empty where no grid
        has chosen (:data:`lib.experiments.tuning.CHOSEN_PROTOCOLS`)."""
        return self.tuned.configs() if self.tuned is not None else {}

    def floor_configs(self) -> dict[tuple[str, int], TrainConfig]:
        """C1's floor for the test seeds (E1's ``none`` at their budget), keyed ("none", seed);
        empty where no grid has chosen."""
        return self.tuned.floor_configs() if self.tuned is not None else {}

    def smaller_budget(self) -> dict[tuple, TrainConfig]:
        """The tuned test seeds at the grid's budget where theirs is larger, keyed like
        :meth:`network_jobs` ("tuned", variant, seed): the runs that carry over untrained
        (:func:`lib.experiments.runner.carry_over`)."""
        if self.tuned is None:
            return {}
        return {("tuned", *k): c for k, c in self.tuned.smaller_budget().items()}

    def probed_configs(self) -> dict:
        """The networks E2 probes: E1's variants, keyed (label, seed), every other arm's, keyed
        (arm, label, seed), and the test seeds under the chosen protocols that are none of
        those, keyed ("tuned", variant, seed)."""
        if self.battery is None:
            return {}
        variants = {k: c for k, c in self.battery.configs().items() if k[0] in battery.VARIANTS}
        probed = variants | battery.other_arm_configs(self.battery)
        return probed | self.tuned_beyond(probed)

    def tuned_beyond(self, configs: dict) -> dict:
        """The tuned test seeds that are none of ``configs`` (a tuned network whose chosen
        protocol is E1's is E1's network: analysed once), keyed ("tuned", variant, seed)."""
        seen = set(configs.values())
        return {("tuned", *k): c for k, c in self.tuned_configs().items() if c not in seen}

    def shipped_groups(self) -> dict[str, dict]:
        """Every group of networks the profile ships, for the compute tables (chapter 09 and the
        provenance appendix): group name -> its shipped networks keyed by artifact key, so each
        network counts once in a group; one shared by two groups (E1's ``exc`` in the equalised
        arm, E1's networks among E3's, the calibration study's arm E1 uses) counts in each.
        Nothing is trained; a group with no shipped network is left out."""
        if self.battery is None:
            return {}
        groups = {
            "E1 (chapters 03, 04, 06, 08)": self.battery.configs().values(),
            "E1's training arms (chapter 04)": battery.other_arm_configs(self.battery).values(),
            "E3 packing (chapter 05)": [c for s in self.packing for c in s.configs().values()],
            "E5 learning (chapter 07)": self.learning.configs().values() if self.learning else (),
            "E5 filter-trained (chapter 07)": self.filter_trained_configs().values(),
            "calibration study (training appendix)": (
                self.calibration.configs().values() if self.calibration else ()
            ),
            "fair-tuning grid (training appendix)": (
                self.tuning.configs().values() if self.tuning else ()
            ),
            "tuned test seeds (chapters 03, 04, 06)": self.tuned_configs().values(),
            "C1's floor for the tuned seeds, `none` (conclusions)": self.floor_configs().values(),
        }
        out = {}
        for name, configs in groups.items():
            by_artifact = {artifacts.artifact_key("network", c.to_dict()): c for c in configs}
            if nets := shipped_networks(by_artifact):
                out[name] = nets
        return out

    def lesion_networks(self, nets: dict) -> dict:
        """The E1 networks whose lesions chapter 03 shows: every seed of the main variants
        (the hybrid's pathway ablations come with its own)."""
        labels = self.battery.main_variants if self.battery else []
        return {k: v for k, v in nets.items() if k[0] in labels}


def e1_jobs(jobs: dict) -> dict:
    """E1's part of :meth:`Manifest.network_jobs` (or of its results), keyed (label, seed)."""
    return {k[1:]: v for k, v in jobs.items() if k[0] == "E1"}


def e5_networks(nets: dict, labels=timescales.NETWORK_LABELS) -> dict:
    """The E1 networks of ``labels`` (default: every one E5 probes)."""
    return {k: v for k, v in nets.items() if k[0] in labels}


def e5_specs(profile: str) -> dict[float, tuple[timescales.TimescalesSpec, tuple[str, ...]]]:
    """E5's sequence specs of a profile, its tau_fast and the sensitivity checks, each with the
    labels of the networks probed (:func:`lib.experiments.timescales.labels_at`)."""
    P = chapter_params("timescales", profile)
    main = timescales.TimescalesSpec.from_params(P)
    return {
        tau: (spec, timescales.labels_at(main, tau))
        for tau, spec in timescales.tau_fast_specs(main, P.tau_fast_checks).items()
    }


def manifest(profile: str) -> Manifest:
    """Every spec of ``profile`` (one of :data:`lib.core.params.PROFILES`)."""
    full = full_battery.full_spec(FULL_BATTERY_AT[profile]) if profile in FULL_BATTERY_AT else None
    if profile == "full":
        return Manifest(profile, None, None, None, None, {}, None, (), None, full, 2)
    return Manifest(
        profile=profile,
        battery=battery.battery_spec(profile),
        probe=ambiguity.ProbeSpec.from_profile(profile),
        dynamics=dynamics_experiment.DynamicsSpec.from_profile(profile),
        lesions=lesions.LesionSpec(),
        timescales=e5_specs(profile),
        learning=learning.LearningSpec.from_profile(profile),
        packing=(packing.packing_spec(profile), packing.hybrid_packing_spec(profile)),
        calibration=calibration.SPECS[profile],
        full=full,
        workers=resolve(battery.BATTERY_PARAMS, profile).workers,
        filter_trained=profile in FILTER_TRAINED_AT,
        tuning=tuning.tuning_spec(profile),
        tuned=tuning.tuned_spec(profile),
    )


__all__ = [
    "SHIPPED_PROFILES",
    "FULL_BATTERY_AT",
    "FILTER_TRAINED_AT",
    "FILTER_TRAINED_FLAG",
    "filter_trained_command",
    "Manifest",
    "manifest",
    "e1_jobs",
    "e5_networks",
    "e5_specs",
]
