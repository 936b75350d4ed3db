"""Where every number of the book comes from: the artifacts a profile uses, their stamps, and
the compute they took (the provenance appendix)."""
from __future__ import annotations

import pandas as pd

from lib import artifacts
from lib.experiments.ambiguity import probe_key


def _stamp_row(kind: str, key, config: dict) -> tuple[dict, dict]:
    """The columns every artifact has (which network, its key, its stamp's versions), and the
    stamp itself for the columns a kind adds."""
    meta = artifacts.meta(kind, config)
    return {"network": " / ".join(map(str, key)),
            "artifact": artifacts.artifact_key(kind, config),
            "behaviour": ", ".join(f"{k} {v}" for k, v in meta["behaviour"].items()),
            "code hash": meta["code_version"], "torch": meta["torch"],
            "made": meta["created"][:16].replace("T", " ")}, meta


def network_table(nets: dict) -> pd.DataFrame:
    """One row per trained network ``nets[key] -> TrainResult``: artifact key, behaviour and
    code versions, how and with which torch it was made, steps, worst final task, train time."""
    rows = []
    for key, res in nets.items():
        row, meta = _stamp_row("network", key, res.config.to_dict())
        rows.append(row | {"trained by": meta.get("trained_by", "lib.core.train"),
                           "steps": res.history.steps[-1],
                           "worst final task": round(float(min(res.history.perf[-1])), 3),
                           "train time (s)": round(res.history.wall_s, 1)})
    return pd.DataFrame(rows).set_index("network")


def probe_table(nets: dict, probe) -> pd.DataFrame:
    """One row per E2 probe artifact of the networks ``nets`` under a ``ProbeSpec``."""
    rows = [_stamp_row("ambiguity", key, probe_key(res.config, probe))[0]
            for key, res in nets.items()]
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


__all__ = ["network_table", "probe_table", "compute_summary"]
