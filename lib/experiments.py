"""Experiment specs and runners shared by the chapters (SPEC §5), and ``make artifacts``.

E1 (the battery) trains every context pathway on a task set over several seeds. Its networks are
artifacts (:func:`lib.artifacts.load_or_train`) that E2 and later chapters load. Runs are
independent, so :func:`run_configs` spreads them over a local process pool with one torch thread
per worker (two pinned 1-thread processes beat one 2-thread process on this CPU; see the perf
notes).

``python -m lib.experiments --rebuild-all`` rebuilds every artifact the book ships (quick and
smoke profiles) from scratch.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd
import torch
from tqdm.auto import tqdm

from lib import artifacts
from lib.params import Param, int_in, resolve, subset, task_set
from lib.train import TrainConfig, TrainResult

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
}
"""E1's networks: label -> (mechanism, rank). ``syn_lowrank_r1`` matches ``exc``'s budget (2N
per task), ``syn_lowrank_r2`` matches ``hybrid``'s (4N per task)."""

ABLATIONS: dict[str, tuple[str, str]] = {
    "hybrid_frozen_exc": ("hybrid", "freeze_exc"),
    "hybrid_frozen_syn": ("hybrid", "freeze_syn"),
}
"""Hybrid networks trained with one pathway frozen at its initialisation (zero modulation)."""

BATTERY_PARAMS: dict[str, Param] = {
    "task_set": Param(task_set, ["fdgo", "fdanti"], "core8", "all",
                      "task set: 'core8', 'all' or a list of task names"),
    "n_rec": Param(int_in(4, 4096), 24, 128, 256, "recurrent units N"),
    "n_seeds": Param(int_in(1, 100), 2, 3, 5, "independent networks per variant"),
    "max_steps": Param(int_in(1, 10_000_000), 40, 6000, 156_250,
                       "training budget in steps of 64 trials (Yang: 156,250)"),
    "eval_every": Param(int_in(1, 100_000), 20, 250, 500, "steps between evaluations"),
    "eval_trials": Param(int_in(8, 100_000), 32, 128, 512, "evaluation trials per task"),
    "variants": Param(subset(tuple(VARIANTS)), tuple(VARIANTS), tuple(VARIANTS),
                      tuple(VARIANTS), "E1 variants to train (labels of lib.experiments.VARIANTS)"),
    "workers": Param(int_in(1, 256), 2, 2, os.cpu_count() or 1, "parallel training processes"),
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

    @classmethod
    def from_params(cls, p: SimpleNamespace) -> "BatterySpec":
        return cls(tuple(p.task_set), p.n_rec, p.n_seeds, p.max_steps, p.eval_every,
                   p.eval_trials, tuple(p.variants))

    def config(self, label: str, seed: int) -> TrainConfig:
        """The TrainConfig of one network (a VARIANTS or ABLATIONS label)."""
        if label in VARIANTS:
            mechanism, rank = VARIANTS[label]
            trainable = "all"
        elif label in ABLATIONS:
            (mechanism, trainable), rank = ABLATIONS[label], 1
        else:
            raise ValueError(f"label: unknown {label!r}; allowed: "
                             + ", ".join([*VARIANTS, *ABLATIONS]))
        return TrainConfig(mechanism=mechanism, tasks=self.tasks, n_rec=self.n_rec, rank=rank,
                           seed=seed, max_steps=self.max_steps, eval_every=self.eval_every,
                           eval_trials=self.eval_trials, trainable=trainable)

    def labels(self, ablations: bool = True) -> list[str]:
        return [*self.variants, *(ABLATIONS if ablations and "hybrid" in self.variants else ())]

    def configs(self, ablations: bool = True) -> dict[tuple[str, int], TrainConfig]:
        return {(lab, s): self.config(lab, s) for lab in self.labels(ablations)
                for s in range(self.n_seeds)}


def battery_spec(profile: str | None = None, **overrides) -> BatterySpec:
    """The E1 spec of a profile, with validated overrides (chapters 03 and 04 share it)."""
    return BatterySpec.from_params(resolve(BATTERY_PARAMS, profile, **overrides))


def _train_one(config: TrainConfig, force: bool) -> tuple[TrainConfig, dict]:
    torch.set_num_threads(1)
    if force:
        artifacts.paths("network", config.to_dict())[0].unlink(missing_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        artifacts.load_or_train(config, progress=False)
    return config, {"warnings": [str(w.message) for w in caught]}


def run_configs(configs: dict, workers: int = 2, force: bool = False,
                progress: bool = True) -> dict:
    """Load or train every config (in parallel); returns the same keys -> TrainResult.

    Networks already present as verified artifacts are loaded, the rest are trained in
    ``workers`` processes (one torch thread each) and saved as artifacts. ``force`` retrains.
    """
    todo = {k: c for k, c in configs.items()
            if force or not artifacts.has("network", c.to_dict())}
    if todo:
        bar = tqdm(total=len(todo), desc=f"training {len(todo)} networks", disable=not progress)
        if workers == 1 or len(todo) == 1:
            for c in todo.values():
                _train_one(c, force)
                bar.update(1)
        else:
            ctx = torch.multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx) as ex:
                futures = [ex.submit(_train_one, c, force) for c in todo.values()]
                for f in as_completed(futures):
                    _, info = f.result()
                    for w in info["warnings"]:
                        warnings.warn(w)
                    bar.update(1)
        bar.close()
    return {k: artifacts.load_or_train(c, progress=False) for k, c in configs.items()}


def run_battery(spec: BatterySpec, workers: int = 2, force: bool = False,
                progress: bool = True) -> dict[tuple[str, int], TrainResult]:
    """All E1 networks of a spec (variants and hybrid ablations), keyed by (label, seed)."""
    return run_configs(spec.configs(), workers=workers, force=force, progress=progress)


def describe(spec: BatterySpec, profile: str) -> str:
    """A one-paragraph statement of what a run trains (printed at the top of E1 and E2)."""
    return (f"**Profile `{profile}`**: {len(spec.tasks)} tasks ({', '.join(spec.tasks)}); "
            f"N = {spec.n_rec}; {spec.n_seeds} seeds per variant; budget {spec.max_steps:,} "
            f"steps of 64 trials ({spec.max_steps * 64:,} trials), stopping early once every "
            f"task is at criterion; evaluation every {spec.eval_every} steps on "
            f"{spec.eval_trials} trials per task. Variants: {', '.join(spec.labels())}.")


def provenance(nets: dict) -> pd.DataFrame:
    """Where each network came from: artifact key, code version, torch, steps, wall time."""
    rows = []
    for (label, seed), res in sorted(nets.items()):
        cfg = res.config.to_dict()
        meta = artifacts.meta("network", cfg)
        rows.append({"variant": label, "seed": seed,
                     "artifact": artifacts.artifact_key("network", cfg),
                     "code version": meta["code_version"], "torch": meta["torch"],
                     "steps trained": res.history.steps[-1],
                     "final min perf": round(float(min(res.history.perf[-1])), 3),
                     "train time (s)": round(res.history.wall_s, 1)})
    return pd.DataFrame(rows).set_index(["variant", "seed"])


def shipped_specs() -> dict[str, BatterySpec]:
    """The specs whose artifacts the book ships (what ``make`` needs without training)."""
    return {p: battery_spec(p) for p in ("smoke", "quick")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.experiments", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=("smoke", "quick", "paper"), action="append",
                    help="profile(s) to build (default: the shipped ones, smoke and quick)")
    ap.add_argument("--rebuild-all", action="store_true",
                    help="retrain even where a valid artifact exists")
    ap.add_argument("--workers", type=int, default=None, help="parallel processes")
    args = ap.parse_args(argv)
    specs = ({p: battery_spec(p) for p in args.profile} if args.profile else shipped_specs())
    from lib.ambiguity import run_ambiguity  # E2 results are shipped artifacts too

    for profile, spec in specs.items():
        workers = args.workers or resolve(BATTERY_PARAMS, profile).workers
        print(f"[{profile}] E1: {len(spec.configs())} networks, {workers} workers", flush=True)
        nets = run_battery(spec, workers=workers, force=args.rebuild_all)
        print(f"[{profile}] E2: ambiguity probes", flush=True)
        run_ambiguity(spec, nets, profile=profile, workers=workers, force=args.rebuild_all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
