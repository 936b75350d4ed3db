"""Where every number of the book comes from: the artifacts a profile uses, their stamps, and
the compute they took (the provenance appendix)."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd
import torch

from lib import artifacts
from lib.core.behaviour import BEHAVIOUR
from lib.core.params import NO_FULL, PROFILES, Param
from lib.core.train import default_device
from lib.experiments.ambiguity import probe_key
from lib.experiments.manifest import manifest


def _stamp_row(kind: str, key, config: dict) -> tuple[dict, dict]:
    """The columns every artifact has (which network, its key, its stamp's versions), and the
    stamp itself for the columns a kind adds."""
    meta = artifacts.meta(kind, config)
    return {
        "network": " / ".join(map(str, key)),
        "artifact": artifacts.artifact_key(kind, config),
        "behaviour": ", ".join(f"{k} {v}" for k, v in meta["behaviour"].items()),
        "code hash": meta["code_version"],
        "torch": meta["torch"],
        "made": meta["created"][:16].replace("T", " "),
    }, meta


def network_table(nets: dict) -> pd.DataFrame:
    """One row per trained network ``nets[key] -> TrainResult``: artifact key, behaviour and
    code versions, how and with which torch it was made, steps, worst final task, train time."""
    rows = []
    for key, res in nets.items():
        row, meta = _stamp_row("network", key, res.config.to_dict())
        rows.append(
            row
            | {
                "trained by": meta.get("trained_by", "lib.core.train"),
                "steps": res.history.steps[-1],
                "worst final task": round(float(min(res.history.perf[-1])), 3),
                "train time (s)": round(res.history.wall_s, 1),
            }
        )
    return pd.DataFrame(rows).set_index("network")


def result_table(kind: str, configs: dict) -> pd.DataFrame:
    """One row per result artifact of ``kind`` (``ambiguity``, ``dynamics``, ``timescales``),
    ``configs[key] -> artifact config`` (e.g. from :func:`lib.experiments.ambiguity.probe_key`)."""
    rows = [_stamp_row(kind, key, config)[0] for key, config in configs.items()]
    return pd.DataFrame(rows).set_index("network")


def probe_table(nets: dict, probe) -> pd.DataFrame:
    """One row per E2 probe artifact of the networks ``nets`` under a ``ProbeSpec``."""
    return result_table("ambiguity", {k: probe_key(r.config, probe) for k, r in nets.items()})


def compute_summary(groups: dict[str, dict]) -> pd.DataFrame:
    """Training compute per group of networks (``name -> nets``), from their recorded wall
    times: networks, total steps, total single-thread minutes, and the minutes on two one-thread
    workers (total / 2: how ``make artifacts`` runs them on a 2-core machine)."""
    rows = []
    for name, nets in groups.items():
        wall = sum(r.history.wall_s for r in nets.values())
        rows.append(
            {
                "networks": name,
                "count": len(nets),
                "steps": sum(r.history.steps[-1] for r in nets.values()),
                "training, one thread (min)": round(wall / 60, 1),
                "on 2 workers (min)": round(wall / 120, 1),
            }
        )
    return pd.DataFrame(rows).set_index("networks")


def shipped_compute(profile: str) -> pd.DataFrame:
    """:func:`compute_summary` of every group of networks ``profile`` ships
    (:meth:`lib.experiments.manifest.Manifest.shipped_groups`): the one compute table of the
    conclusions page and of the provenance appendix."""
    return compute_summary(manifest(profile).shipped_groups())


PACKAGES = ("numpy", "scipy", "pandas", "matplotlib", "papermill", "jupyter-book", "ray")
"""Installed packages whose versions the reproducibility appendix lists (besides torch)."""


def environment() -> pd.DataFrame:
    """What this build ran on: Python, torch and the main packages, the code hash of ``lib``
    and the behaviour versions that key every artifact, and the device training would use."""
    rows = {"Python": platform.python_version(), "torch": torch.__version__}
    for name in PACKAGES:
        try:
            rows[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            rows[name] = "not installed"
    rows["lib code hash"] = artifacts.code_version()
    rows["behaviour versions"] = ", ".join(f"{k} {v}" for k, v in BEHAVIOUR.items())
    rows["device (training, this machine)"] = str(default_device())
    rows["platform"] = platform.platform()
    return pd.DataFrame({"version": rows}).rename_axis("component")


def profiles_table(schema: dict[str, Param], names=None) -> pd.DataFrame:
    """The defaults of each profile for the parameters ``names`` of a chapter schema (all by
    default), with their descriptions: what `smoke`, `quick` and `paper` mean (and `full`, for
    a schema that has a full-battery setting)."""
    names = list(schema) if names is None else names
    shown = [
        p for p in PROFILES if p != "full" or all(s.full is not NO_FULL for s in schema.values())
    ]
    return pd.DataFrame(
        [
            {
                "parameter": n,
                **{p: str(getattr(schema[n], p)) for p in shown},
                "meaning": schema[n].doc,
            }
            for n in names
        ]
    ).set_index("parameter")


__all__ = [
    "network_table",
    "result_table",
    "probe_table",
    "compute_summary",
    "shipped_compute",
    "environment",
    "profiles_table",
]
