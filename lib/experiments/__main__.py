"""``python -m lib.experiments``: build the artifacts the book ships (``make artifacts``).

For each profile (default: the shipped ones, smoke and quick): E1's networks, E2's probes of
them, and the training calibration study. Finished artifacts are kept (an interrupted build
resumes); ``--rebuild-all`` makes every one again from scratch.
"""
from __future__ import annotations

import argparse
import sys
import time

from lib.core.params import PROFILES, resolve
from lib.experiments import ambiguity, battery, calibration
from lib.experiments.runner import run_configs

SHIPPED_PROFILES = ("smoke", "quick")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.experiments", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=PROFILES, action="append",
                    help="profile(s) to build (default: the shipped ones, smoke and quick)")
    ap.add_argument("--rebuild-all", action="store_true",
                    help="make every artifact again, even where a valid one exists")
    ap.add_argument("--workers", type=int, default=None, help="parallel processes")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    for profile in args.profile or SHIPPED_PROFILES:
        spec = battery.battery_spec(profile)
        workers = args.workers or resolve(battery.BATTERY_PARAMS, profile).workers
        force = args.rebuild_all
        print(f"[{profile}] calibration study", flush=True)
        run_configs(calibration.SPECS[profile].configs(), workers=workers, force=force)
        print(f"[{profile}] E1: {len(spec.configs())} networks, {workers} workers", flush=True)
        nets = battery.run_battery(spec, workers=workers, force=force)
        print(f"[{profile}] E2: ambiguity probes", flush=True)
        ambiguity.run_ambiguity(battery.variant_networks(nets), profile=profile,
                                workers=workers, force=force)
        print(f"[{profile}] done after {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
