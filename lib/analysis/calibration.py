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
from lib.core.train import TrainConfig
from lib.experiments.calibration import ARMS, CalibrationSpec


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
    table = pd.DataFrame(rows).set_index(["mechanism", "arm"])
    return table.fillna("not trained")  # tasks outside an arm's task set (Ctx DM alone)


def describe_arm(arm: str) -> str:
    """The arm's changes from Yang's protocol, in words."""
    words = {"grad_clip": lambda v: "no gradient clipping" if v is None else f"clip {v}",
             "lr": lambda v: f"learning rate {v:g}",
             "sampling": lambda v: f"{v} task sampling",
             "easy_steps": lambda v: "easy coherences first",
             "n_rec": lambda v: f"N = {v}",
             "batch_size": lambda v: f"batch {v}",
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


def describe_spec(spec: CalibrationSpec, profile: str) -> str:
    """One paragraph: what the study at this profile trains."""
    names = ", ".join(DISPLAY_NAMES[t] for t in spec.tasks)
    return (f"**Profile `{profile}`**: {len(spec.tasks)} tasks ({names}); N = {spec.n_rec}; "
            f"{spec.seeds} seed(s) per arm; budget {spec.max_steps:,} steps of 64 trials "
            f"({spec.max_steps * 64:,} trials), stopping once every task is at criterion; "
            f"curriculum arms train {spec.easy_steps:,} steps on easy coherences first; "
            f"evaluation every {spec.eval_every} steps on {spec.eval_trials} trials per task. "
            f"Arms: {', '.join(spec.arms)}; mechanisms: {', '.join(spec.mechanisms)}.")


def _final(res, task: str) -> float:
    return float(res.history.perf_array()[-1, res.config.tasks.index(task)])


def arm_scores(study: dict, task: str) -> pd.DataFrame:
    """Per (mechanism, arm) that trained ``task``: seeds at criterion on it, median trials to
    criterion (nan if none), mean final performance, and the arm's budget in trials."""
    rows = []
    for mech, arm in groups(study):
        res = [r for r in members(study, mech, arm) if task in r.config.tasks]
        if not res:
            continue
        ttc = np.array([r.history.trials_to_criterion(0.9)[r.config.tasks.index(task)]
                        for r in res])
        rows.append({"mechanism": mech, "arm": arm, "reached": int(np.isfinite(ttc).sum()),
                     "seeds": len(res),
                     "median trials": float(np.median(ttc[np.isfinite(ttc)]))
                     if np.isfinite(ttc).any() else np.nan,
                     "final": float(np.mean([_final(r, task) for r in res])),
                     "budget": res[0].config.max_steps * res[0].config.batch_size})
    return pd.DataFrame(rows)


def study_summary(study: dict) -> str:
    """What the study shows, task by task, in sentences computed from its numbers: for each
    task the arms that brought every seed to criterion (fastest first), or, where none did, the
    best final performance."""
    tasks = []
    for res in study.values():
        tasks += [t for t in res.config.tasks if t not in tasks]
    lines = []
    for task in tasks:
        df = arm_scores(study, task)
        full = df[df.reached == df.seeds].sort_values("median trials")
        name = DISPLAY_NAMES[task]
        if len(full):
            best = full.iloc[0]
            lines.append(f"- **{name}**: {len(full)} of {len(df)} arms bring every seed to "
                         f"criterion; fastest `{best.mechanism}`/`{best.arm}` "
                         f"({best['median trials']:,.0f} trials, median).")
        else:
            top = df.sort_values("final", ascending=False).iloc[0]
            some = df[df.reached > 0]
            lines.append(f"- **{name}**: no arm brings every seed to criterion within its "
                         f"budget ({df.budget.max():,} trials at most); "
                         f"{len(some)} arm(s) reach it in some seed; the best final performance "
                         f"is {top.final:.2f} (`{top.mechanism}`/`{top.arm}`).")
    return "\n".join(lines)


def matching_arm(config: TrainConfig) -> str | None:
    """The study arm whose protocol changes match a config's (size and task set aside)."""
    protocol = ("grad_clip", "lr", "sampling", "easy_steps", "batch_size")
    defaults = TrainConfig(mechanism=config.mechanism)
    wanted = {k: getattr(config, k) for k in protocol if getattr(config, k) != getattr(defaults, k)}
    for arm, changes in ARMS.items():
        norm = {k: ("EASY" if k == "easy_steps" else v) for k, v in changes.items()
                if k in protocol}
        want = {k: ("EASY" if k == "easy_steps" else v) for k, v in wanted.items()}
        if norm == want and not set(changes) - set(protocol):
            return arm
    return None


def chosen_protocol(study: dict, quick_spec) -> str:
    """The quick profile's protocol, the study arm it corresponds to, and that arm's numbers
    next to Yang's protocol, as text computed from the study."""
    cfg = quick_spec.config(quick_spec.variants[-1], 0)
    arm = matching_arm(cfg)
    desc = describe_arm(arm) if arm else "a protocol the study did not run"
    text = [f"The `quick` profile trains with **{desc}** (`easy_steps={cfg.easy_steps}`, "
            f"`sampling={cfg.sampling!r}`, `lr={cfg.lr:g}`, `grad_clip={cfg.grad_clip}`), "
            f"N = {cfg.n_rec}, for at most {cfg.max_steps:,} steps "
            f"({cfg.max_steps * cfg.batch_size:,} trials), stopping at criterion."]
    for task in ("contextdm1", "contextdm2"):
        if task not in cfg.tasks:
            continue
        df = arm_scores(study, task).set_index(["mechanism", "arm"])
        for mech in dict.fromkeys(m for m, _ in df.index):
            parts = []
            for a in dict.fromkeys(x for x in (arm, "yang") if x):
                if (mech, a) in df.index:
                    r = df.loc[(mech, a)]
                    parts.append(f"`{a}` {int(r.reached)}/{int(r.seeds)} seeds at criterion, "
                                 f"final {r.final:.2f}")
            if parts:
                text.append(f"- {DISPLAY_NAMES[task]}, `{mech}`: " + "; ".join(parts) + ".")
    return "\n".join(text)


__all__ = ["describe_spec", "arm_scores", "study_summary", "matching_arm", "chosen_protocol",
           "groups", "members", "ttc_table", "describe_arm", "task_curves"]
