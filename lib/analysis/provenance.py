"""Where every number of the book comes from: the artifacts a profile uses, their stamps, and
the compute they took (the provenance appendix)."""
from __future__ import annotations

import pandas as pd

from lib import artifacts
from lib.core.tasks import DISPLAY_NAMES
from lib.experiments.ambiguity import probe_key


def network_table(nets: dict) -> pd.DataFrame:
    """One row per trained network ``nets[key] -> TrainResult``: artifact key, behaviour and
    code versions, how and with which torch it was made, steps, worst final task, train time."""
    rows = []
    for key, res in nets.items():
        cfg = res.config.to_dict()
        meta = artifacts.meta("network", cfg)
        rows.append({"network": " / ".join(map(str, key)),
                     "artifact": artifacts.artifact_key("network", cfg),
                     "behaviour": ", ".join(f"{k} {v}" for k, v in meta["behaviour"].items()),
                     "code hash": meta["code_version"], "torch": meta["torch"],
                     "made": meta["created"][:16].replace("T", " "),
                     "trained by": meta.get("trained_by", "lib.core.train"),
                     "steps": res.history.steps[-1],
                     "worst final task": round(float(min(res.history.perf[-1])), 3),
                     "train time (s)": round(res.history.wall_s, 1)})
    return pd.DataFrame(rows).set_index("network")


def probe_table(nets: dict, probe) -> pd.DataFrame:
    """One row per E2 probe artifact of the networks ``nets`` under a ``ProbeSpec``."""
    rows = []
    for key, res in nets.items():
        cfg = probe_key(res.config, probe)
        meta = artifacts.meta("ambiguity", cfg)
        rows.append({"network": " / ".join(map(str, key)),
                     "artifact": artifacts.artifact_key("ambiguity", cfg),
                     "behaviour": ", ".join(f"{k} {v}" for k, v in meta["behaviour"].items()),
                     "code hash": meta["code_version"], "torch": meta["torch"],
                     "made": meta["created"][:16].replace("T", " ")})
    return pd.DataFrame(rows).set_index("network")


def compute_summary(groups: dict[str, dict]) -> pd.DataFrame:
    """Training compute per group of networks (``name -> nets``), from their recorded wall
    times: networks, total steps, total single-thread minutes, and the minutes on two one-thread
    workers (total / 2: how ``make artifacts`` runs them on a 2-core machine)."""
    rows = []
    for name, nets in groups.items():
        wall = sum(r.history.wall_s for r in nets.values())
        rows.append({"networks": name, "count": len(nets),
                     "steps": sum(r.history.steps[-1] for r in nets.values()),
                     "training, one thread (min)": round(wall / 60, 1),
                     "on 2 workers (min)": round(wall / 120, 1)})
    return pd.DataFrame(rows).set_index("networks")


def task_names(tasks) -> str:
    return ", ".join(DISPLAY_NAMES.get(t, t) for t in tasks)


__all__ = ["network_table", "probe_table", "compute_summary", "task_names"]
