"""The training calibration study's numbers: trials to criterion per task and arm, learning
curves, and the comparison of the arms with Yang et al.'s protocol.

Input: ``study[(mechanism, arm, seed)] -> TrainResult`` (the networks of
:class:`lib.experiments.calibration.CalibrationSpec`). "Reached" means the evaluation on Yang's
standard trials (never the easy ones of a curriculum) was at or above criterion at least once.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.core.tasks import DISPLAY_NAMES
from lib.experiments.calibration import ARMS


def groups(study: dict) -> list[tuple[str, str]]:
    """(mechanism, arm) pairs present, in the study's order."""
    seen: list[tuple[str, str]] = []
    for mech, arm, _ in study:
        if (mech, arm) not in seen:
            seen.append((mech, arm))
    return seen


def members(study: dict, mech: str, arm: str) -> list:
    return [res for (m, a, _), res in study.items() if (m, a) == (mech, arm)]


def ttc_table(study: dict, criterion: float = 0.9) -> pd.DataFrame:
    """One row per (mechanism, arm): per task, "median trials to criterion (k/n seeds)", with
    "-- (0/n)" where no seed reached it within the budget; plus the arm's changes from Yang's
    protocol, the budget and the seeds' final worst-task performance."""
    rows = []
    for mech, arm in groups(study):
        res = members(study, mech, arm)
        cfg = res[0].config
        ttc = np.array([r.history.trials_to_criterion(criterion) for r in res])  # (S, K)
        row = {"mechanism": mech, "arm": arm, "changes from Yang": describe_arm(arm)}
        for k, task in enumerate(cfg.tasks):
            hit = ttc[:, k][np.isfinite(ttc[:, k])]
            med = f"{np.median(hit) / 1e3:,.0f}k" if hit.size else "--"
            row[DISPLAY_NAMES[task]] = f"{med} ({hit.size}/{len(res)})"
        row["all tasks (seeds)"] = f"{int(np.isfinite(ttc).all(1).sum())}/{len(res)}"
        row["final worst task"] = ", ".join(f"{min(r.history.perf[-1]):.2f}" for r in res)
        row["budget (trials)"] = f"{cfg.max_steps * cfg.batch_size:,}"
        rows.append(row)
    return pd.DataFrame(rows).set_index(["mechanism", "arm"])


def describe_arm(arm: str) -> str:
    """The arm's changes from Yang's protocol, in words."""
    words = {"grad_clip": lambda v: "no gradient clipping" if v is None else f"clip {v}",
             "lr": lambda v: f"learning rate {v:g}",
             "sampling": lambda v: f"{v} task sampling",
             "easy_steps": lambda v: "easy coherences first",
             "n_rec": lambda v: f"N = {v}",
             "tasks": lambda v: "Ctx DM 1/2 alone"}
    changes = ARMS[arm]
    return "; ".join(words[k](v) for k, v in changes.items()) or "Yang's protocol"


def task_curves(study: dict, mech: str, arm: str, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Trials (E,) and performance (S, E) on ``task`` of one arm's seeds (nan after a seed
    stopped at criterion: it is not extrapolated)."""
    res = members(study, mech, arm)
    longest = max(res, key=lambda r: len(r.history.trials)).history.trials
    perf = np.full((len(res), len(longest)), np.nan)
    for s, r in enumerate(res):
        k = r.config.tasks.index(task)
        p = r.history.perf_array()[:, k]
        perf[s, :len(p)] = p
    return np.asarray(longest), perf


def final_task_perf(study: dict, task: str) -> pd.DataFrame:
    """Final performance on ``task`` per (mechanism, arm): mean and per-seed values."""
    rows = []
    for mech, arm in groups(study):
        res = [r for r in members(study, mech, arm) if task in r.config.tasks]
        if not res:
            continue
        vals = [r.history.perf_array()[-1, r.config.tasks.index(task)] for r in res]
        rows.append({"mechanism": mech, "arm": arm, "mean": float(np.mean(vals)),
                     "seeds": vals})
    return pd.DataFrame(rows)


__all__ = ["groups", "members", "ttc_table", "describe_arm", "task_curves", "final_task_perf"]
