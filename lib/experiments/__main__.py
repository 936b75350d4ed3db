"""``python -m lib.experiments``: build the artifacts the book ships (``make artifacts``).

For each profile (default: the shipped ones, smoke and quick): E1's networks, E2's probes of
them, E4's dynamics analyses of them, their lesion maps and the hybrid's pathway ablations
(:mod:`lib.experiments.lesions`), the training calibration study, the networks of E1's
other training arms (:data:`lib.experiments.battery.ARMS`) with their E2 probes, E5's
sequence probes of E1's hybrid and single-pathway networks (at the chapter's tau_fast, and the
hybrid's at each ``tau_fast_checks`` value), E5's filter-trained networks and their probes
(smoke only; any profile with ``--filter-trained``), E5's learning networks
(:mod:`lib.experiments.learning`), and E3's packing networks (:mod:`lib.experiments.packing`;
with the hybrid's joint-training grid for C5; ``--no-packing`` leaves them out). The smoke
profile also builds the full battery's smoke networks; ``--profile full`` builds the full battery
(:mod:`lib.experiments.full_battery`: E1 and E3 on Yang's 20 tasks at N = 128, hours on two
cores) and nothing else. Finished artifacts are kept (an interrupted build resumes);
``--rebuild-all`` makes every one again from scratch.

Before anything runs, the plan is printed: per phase, the artifacts needed, present and to make,
and the wall time estimated from step costs measured on this machine. ``--dry-run`` prints the
plan only (it trains nothing; where an initial drive that the equalised arm's keys need is not
shipped, it measures and saves it). A plan longer than ``lib.experiments.plan.LONG_RUN_S``
(30 min) stops unless ``--yes`` is given. ``--prune-stale`` deletes artifacts made by other
behaviour versions (which no code can load any more) and stops.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from lib import artifacts
from lib.core.params import PROFILES
from lib.experiments import (
    ambiguity,
    battery,
    full_battery,
    learning,
    lesions,
    packing,
    plan,
    sweep,
    timescales,
    tuning,
)
from lib.experiments import dynamics as dynamics_experiment
from lib.experiments.manifest import (
    FILTER_TRAINED_FLAG,
    SHIPPED_PROFILES,
    e1_jobs,
    e5_networks,
    manifest,
)
from lib.experiments.plan import PlanTooLong
from lib.experiments.runner import carry_over, run_configs


def build_plan(
    profiles: tuple[str, ...],
    workers: int | None = None,
    force: bool = False,
    with_packing: bool = True,
    filter_trained: bool = False,
) -> plan.Plan:
    """The plan of building ``profiles`` (every part of each profile's :class:`Manifest`; E5's
    filter-trained networks where the profile builds them or ``filter_trained``); checks what is
    on disk and times a few steps, trains and deletes nothing."""
    parts = []
    for profile in profiles:
        m = manifest(profile)
        if m.full is not None:
            parts += full_battery.full_plan(
                m.full,
                workers or 2,
                force,
                label=f"[{profile}] the full battery (20 tasks)",
            ).parts
        if m.battery is None:
            continue
        w = workers or m.workers
        jobs = m.network_jobs()
        variants = battery.variant_networks(e1_jobs(jobs))
        probed = m.probed_configs()
        keys = {k: ambiguity.probe_key(c, m.probe) for k, c in probed.items()}
        parts += [
            plan.network_part(jobs, w, force, label=f"[{profile}] E1 and calibration networks"),
            plan.probe_part(probed, m.probe, keys, w, force, label=f"[{profile}] E2 probes"),
            dynamics_experiment.dynamics_part(
                variants | m.tuned_beyond(variants),
                m.dynamics,
                w,
                force,
                label=f"[{profile}] E4 dynamics",
            ),
            lesions.lesions_part(
                m.lesion_networks(variants),
                m.lesions,
                w,
                force,
                label=f"[{profile}] E1 lesions and ablations",
            ),
            *[
                timescales.timescales_part(
                    e5_networks(variants, labels),
                    tspec,
                    w,
                    force,
                    label=f"[{profile}] E5 sequences, tau_fast {tau:g} ms",
                )
                for tau, (tspec, labels) in m.timescales.items()
            ],
            *_filter_trained_parts(m, w, force, filter_trained),
            *[
                dataclasses.replace(part, label=f"[{profile}] {part.label}")
                for part in learning.learning_plan(m.learning, w, force).parts
            ],
        ]
        if with_packing:
            for pspec, what in zip(m.packing, ("", " (the hybrid, for C5)")):
                parts += [
                    dataclasses.replace(part, label=f"[{profile}] {part.label}{what}")
                    for part in packing.packing_plan(pspec, w, force).parts
                ]
    return plan.Plan(parts)


POOL_START_S = 10.0
"""Seconds a process pool of this build takes to start (spawned workers import torch; measured
about 10 s on a busy 2-core machine): E5's filter-trained networks and their probes run in this
process where that is estimated faster than a pool per plan part (at smoke)."""


def _filter_trained_parts(m, workers: int, force: bool, filter_trained: bool) -> list:
    """The plan parts of E5's filter-trained networks of manifest ``m`` and of their probes
    (none where the profile does not build them and ``filter_trained`` is off)."""
    configs = m.filter_trained_configs()
    if not (configs and (m.filter_trained or filter_trained)):
        return []
    return [
        plan.network_part(
            configs, workers, force, label=f"[{m.profile}] E5 filter-trained networks"
        ),
        *timescales.filter_trained_parts(
            configs,
            m.e5_main(),
            workers,
            force,
            label=f"[{m.profile}] E5 sequences of the filter-trained networks",
        ),
    ]


def train_networks(
    configs: dict,
    args: argparse.Namespace,
    workers: int,
    force: bool,
    ensemble: bool = False,
    local_workers: int | None = None,
) -> dict:
    """Train (or load) ``configs`` the way the CLI's backend says: with a non-local backend as
    sweep jobs on ``workers`` (then loaded), locally through :func:`run_configs` on
    ``local_workers`` (default ``workers``); ``force`` retrains."""
    if args.backend != "local":  # train the networks as sweep jobs; run_configs loads them
        sweep.run_sweep(
            "network",
            sweep.train_network,
            {k: c.to_dict() for k, c in configs.items()},
            backend=args.backend,
            address=args.address,
            workers=workers,
            force=force,
        )
    return run_configs(
        configs,
        workers=local_workers or workers,
        allow_long=True,
        force=force and args.backend == "local",
        ensemble=ensemble,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m lib.experiments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--profile",
        choices=PROFILES,
        action="append",
        help="profile(s) to build (default: the shipped ones, smoke and quick)",
    )
    ap.add_argument(
        "--rebuild-all",
        action="store_true",
        help="make every artifact again, even where a valid one exists",
    )
    ap.add_argument("--workers", type=int, default=None, help="parallel processes")
    ap.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (counts, estimated wall time) and stop",
    )
    ap.add_argument(
        "--yes",
        action="store_true",
        help=f"go ahead even if the plan's estimate exceeds {plan.fmt_duration(plan.LONG_RUN_S)}",
    )
    ap.add_argument(
        "--prune-stale",
        action="store_true",
        help="delete the artifacts of other behaviour versions (lib.artifacts.stale) and stop",
    )
    ap.add_argument(
        "--backend",
        choices=sweep.BACKENDS,
        default="local",
        help="where networks train: a local process pool, or Ray tasks "
        "(lib.experiments.sweep; E2 probes and E4 analyses run locally)",
    )
    ap.add_argument(
        "--address",
        default=None,
        help="with --backend ray: a running cluster's address ('auto', "
        "'HEAD_IP:6379'); default: a local Ray instance",
    )
    ap.add_argument(
        "--no-packing",
        action="store_true",
        help="leave out E3's packing networks (the largest part at quick)",
    )
    ap.add_argument(
        "--ensemble",
        action="store_true",
        help="train the seeds of each network as one stacked model (for a GPU)",
    )
    ap.add_argument(
        FILTER_TRAINED_FLAG,
        action="store_true",
        help="also train and probe E5's filter-trained networks (the smoke profile always "
        "does; at quick: hours, see --dry-run)",
    )
    args = ap.parse_args(argv)
    if args.ensemble and args.backend != "local":
        ap.error(
            "--ensemble trains stacked seeds in this process; it cannot be combined with "
            f"--backend {args.backend}"
        )
    if args.address is not None and args.backend != "ray":
        ap.error("--address is the address of a Ray cluster; it needs --backend ray")
    if args.prune_stale:
        for stamp in artifacts.stale():
            for path in (stamp, stamp.with_suffix(".pt")):
                path.unlink(missing_ok=True)
            print(f"removed {stamp.with_suffix('')}.{{json,pt}}", flush=True)
        return 0
    profiles = tuple(args.profile or SHIPPED_PROFILES)
    force = args.rebuild_all
    print(
        f"Planning {', '.join(profiles)}: checking artifacts and the step cost of each family "
        f"of networks (measured once per machine, cached in {plan.cost_cache_path()})",
        flush=True,
    )
    full = build_plan(
        profiles,
        args.workers,
        force,
        with_packing=not args.no_packing,
        filter_trained=args.filter_trained,
    )
    print(full.text(), flush=True)
    if args.dry_run:
        return 0
    if full.too_long and not args.yes:
        print(f"\nStopped: {PlanTooLong(full).reason}.", file=sys.stderr, flush=True)
        return 2
    t0 = time.perf_counter()
    for profile in profiles:
        m = manifest(profile)
        if m.full is not None:
            print(f"[{profile}] the full battery: {len(m.full.jobs())} networks", flush=True)
            full_battery.run_full(
                m.full,
                args.workers or 2,
                force=force,
                allow_long=True,
                backend=args.backend,
                address=args.address,
            )
        if m.battery is None:
            print(f"[{profile}] done after {time.perf_counter() - t0:.0f} s", flush=True)
            continue
        workers = args.workers or m.workers
        jobs = m.network_jobs()
        print(
            f"[{profile}] E1 and the calibration study: {len(jobs)} networks, {workers} workers",
            flush=True,
        )
        if not force:
            carry_over(jobs, m.smaller_budget())  # before any backend trains them
        nets = e1_jobs(train_networks(jobs, args, workers, force, ensemble=args.ensemble))
        print(f"[{profile}] E2: ambiguity probes", flush=True)
        # the arms' networks were trained above with E1's: run_arms loads them
        arm_nets = battery.run_arms(m.battery, workers, progress=False)
        battery.equalisation_table(m.battery)  # the initial drives chapter 04 shows, saved
        # the tuned test seeds were trained above too (or are E1's networks): loaded here
        tuned_nets = (
            tuning.run_tuning(m.tuned, workers, progress=False, allow_long=True) if m.tuned else {}
        )
        for probed in (battery.variant_networks(nets), *arm_nets.values(), tuned_nets):
            ambiguity.run_ambiguity(
                probed, probe=m.probe, workers=workers, force=force, allow_long=True
            )
        print(f"[{profile}] E4: dynamics analyses", flush=True)
        for analysed in (battery.variant_networks(nets), tuned_nets):
            dynamics_experiment.run_dynamics(
                analysed, m.dynamics, workers=workers, force=force, allow_long=True
            )
        print(f"[{profile}] E1: lesion maps and the hybrid's pathway ablations", flush=True)
        lesions.run_lesions(
            m.lesion_networks(nets), m.lesions, workers=workers, force=force, allow_long=True
        )
        print(f"[{profile}] E5: sequence probes", flush=True)
        for tspec, labels in m.timescales.values():
            timescales.run_timescales(
                e5_networks(nets, labels),
                tspec,
                workers=workers,
                force=force,
                allow_long=True,
            )
        ft_configs = m.filter_trained_configs()
        if ft_configs and (m.filter_trained or args.filter_trained):
            print(
                f"[{profile}] E5: {len(ft_configs)} filter-trained networks and their probes",
                flush=True,
            )
            parts = _filter_trained_parts(m, workers, force, True)
            serial_s = sum(sum(part.job_s) for part in parts)
            pooled_s = serial_s / workers + POOL_START_S * len(parts)  # a pool per part
            ft_workers = 1 if serial_s <= pooled_s else workers
            ft_nets = train_networks(ft_configs, args, workers, force, local_workers=ft_workers)
            timescales.run_filter_trained(
                ft_nets, m.e5_main(), workers=ft_workers, force=force, allow_long=True
            )
        print(f"[{profile}] E5: a new task by each route", flush=True)
        learning.run_learning(
            m.learning,
            workers=workers,
            backend=args.backend,
            address=args.address,
            force=force,
            allow_long=True,
        )
        if not args.no_packing:
            print(f"[{profile}] E3: packing networks", flush=True)
            for pspec in m.packing:
                packing.run_packing(
                    pspec,
                    workers=workers,
                    force=force,
                    backend=args.backend,
                    address=args.address,
                    allow_long=True,
                )
        print(f"[{profile}] done after {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
