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
    words = {
        "grad_clip": lambda v: "no gradient clipping" if v is None else f"clip {v}",
        "lr": lambda v: f"learning rate {v:g}",
        "sampling": lambda v: f"{v} task sampling",
        "easy_steps": lambda v: "easy coherences first",
        "n_rec": lambda v: f"N = {v}",
        "batch_size": lambda v: f"batch {v}",
        "tasks": lambda v: "Ctx DM 1/2 alone",
    }
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
        perf[s, : len(p)] = p
    return np.asarray(longest), perf


def describe_spec(spec: CalibrationSpec, profile: str) -> str:
    """One paragraph: what the study at this profile trains."""
    names = ", ".join(DISPLAY_NAMES[t] for t in spec.tasks)
    return (
        f"**Profile `{profile}`**: {len(spec.tasks)} tasks ({names}); N = {spec.n_rec}; "
        f"{spec.seeds} seed(s) per arm; budget {spec.max_steps:,} steps of 64 trials "
        f"({spec.max_steps * 64:,} trials), stopping once every task is at criterion; "
        f"curriculum arms train {spec.easy_steps:,} steps on easy coherences first; "
        f"evaluation every {spec.eval_every} steps on {spec.eval_trials} trials per task. "
        f"Arms: {', '.join(spec.arms)}; mechanisms: {', '.join(spec.mechanisms)}."
    )


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
        ttc = np.array(
            [r.history.trials_to_criterion(0.9)[r.config.tasks.index(task)] for r in res]
        )
        rows.append(
            {
                "mechanism": mech,
                "arm": arm,
                "reached": int(np.isfinite(ttc).sum()),
                "seeds": len(res),
                "median trials": float(np.median(ttc[np.isfinite(ttc)]))
                if np.isfinite(ttc).any()
                else np.nan,
                "final": float(np.mean([_final(r, task) for r in res])),
                "budget": res[0].config.max_steps * res[0].config.batch_size,
            }
        )
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
            lines.append(
                f"- **{name}**: {len(full)} of {len(df)} arms bring every seed to "
                f"criterion; fastest `{best.mechanism}`/`{best.arm}` "
                f"({best['median trials']:,.0f} trials, median)."
            )
        else:
            top = df.sort_values("final", ascending=False).iloc[0]
            some = df[df.reached > 0]
            lines.append(
                f"- **{name}**: no arm brings every seed to criterion within its "
                f"budget ({df.budget.max():,} trials at most); "
                f"{len(some)} arm(s) reach it in some seed; the best final performance "
                f"is {top.final:.2f} (`{top.mechanism}`/`{top.arm}`)."
            )
    return "\n".join(lines)


def matching_arm(config: TrainConfig) -> str | None:
    """The study arm whose protocol changes match a config's (size and task set aside)."""
    protocol = ("grad_clip", "lr", "sampling", "easy_steps", "batch_size")
    defaults = TrainConfig(mechanism=config.mechanism)
    wanted = {k: getattr(config, k) for k in protocol if getattr(config, k) != getattr(defaults, k)}
    for arm, changes in ARMS.items():
        norm = {
            k: ("EASY" if k == "easy_steps" else v) for k, v in changes.items() if k in protocol
        }
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
    text = [
        f"The `quick` profile trains with **{desc}** (`easy_steps={cfg.easy_steps}`, "
        f"`sampling={cfg.sampling!r}`, `lr={cfg.lr:g}`, `grad_clip={cfg.grad_clip}`), "
        f"N = {cfg.n_rec}, for at most {cfg.max_steps:,} steps "
        f"({cfg.max_steps * cfg.batch_size:,} trials), stopping at criterion."
    ]
    for task in ("contextdm1", "contextdm2"):
        if task not in cfg.tasks:
            continue
        df = arm_scores(study, task).set_index(["mechanism", "arm"])
        for mech in dict.fromkeys(m for m, _ in df.index):
            parts = []
            for a in dict.fromkeys(x for x in (arm, "yang") if x):
                if (mech, a) in df.index:
                    r = df.loc[(mech, a)]
                    parts.append(
                        f"`{a}` {int(r.reached)}/{int(r.seeds)} seeds at criterion, "
                        f"final {r.final:.2f}"
                    )
            if parts:
                text.append(f"- {DISPLAY_NAMES[task]}, `{mech}`: " + "; ".join(parts) + ".")
    return "\n".join(text)


FULL_BATTERY_LEARNED = 18
"""The full battery's bar (issue: 'N = 128 learns at least 18 of 20 tasks'): a network has
learned the battery when at least this many of its 20 tasks are at criterion at once."""


def tasks_at_criterion(result, criterion: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Training trials (E,) and, at each evaluation, how many tasks are at ``criterion`` (E,)."""
    perf = result.history.perf_array()
    return np.asarray(result.history.trials), (perf >= criterion).sum(axis=1)


def trials_to_n_tasks(result, n_tasks: int, criterion: float = 0.9) -> float:
    """Trials at the first evaluation with at least ``n_tasks`` tasks at criterion at once
    (nan: never within the network's budget)."""
    trials, count = tasks_at_criterion(result, criterion)
    hit = np.flatnonzero(count >= n_tasks)
    return float(trials[hit[0]]) if hit.size else float("nan")


def full_battery_table(
    study: dict, criterion: float = 0.9, n_tasks: int = FULL_BATTERY_LEARNED
) -> pd.DataFrame:
    """One row per trained network of the full-battery calibration (``study``: any keys ->
    TrainResult): N, mechanism, seed, its
    budget, trials until ``n_tasks`` tasks were at criterion at once, tasks at criterion at the
    end and at best, and the tasks it never brought to criterion (with their best performance)."""
    rows = []
    for res in study.values():
        perf = res.history.perf_array()
        trials, count = tasks_at_criterion(res, criterion)
        never = [
            f"{DISPLAY_NAMES[t]} ({perf[:, k].max():.2f})"
            for k, t in enumerate(res.config.tasks)
            if perf[:, k].max() < criterion
        ]
        reach = trials_to_n_tasks(res, n_tasks, criterion)
        rows.append(
            {
                "N": res.config.n_rec,
                "mechanism": res.config.mechanism,
                "seed": res.config.seed,
                "budget (trials)": f"{res.config.max_steps * res.config.batch_size:,}",
                f"trials to {n_tasks} of {len(res.config.tasks)}": f"{reach:,.0f}"
                if np.isfinite(reach)
                else "not within budget",
                "at criterion (end)": int(count[-1]),
                "at criterion (best)": int(count.max()),
                "never at criterion (best perf.)": ", ".join(never) or "none",
            }
        )
    return pd.DataFrame(rows)


def full_battery_text(
    study: dict, planned: int, criterion: float = 0.9, n_tasks: int = FULL_BATTERY_LEARNED
) -> str:
    """What the full-battery calibration shows so far, computed from its networks: how many of
    the ``planned`` networks are trained, and per N the budget at which every trained network
    had ``n_tasks`` tasks at criterion (the smallest budget that sufficed for all of them), or
    that none sufficed within the budget."""
    if not study:
        return (
            f"None of the {planned} networks of the full-battery calibration is trained yet; "
            "this section fills in as they are shipped."
        )
    lines = [
        f"{len(study)} of {planned} planned networks trained"
        + (
            " (the others are not trained yet; only finished networks are shown)."
            if len(study) < planned
            else "."
        )
    ]
    by_n: dict[int, list] = {}
    for res in study.values():
        by_n.setdefault(res.config.n_rec, []).append(res)
    for n_rec, nets in sorted(by_n.items(), reverse=True):
        reach = np.array([trials_to_n_tasks(r, n_tasks, criterion) for r in nets])
        mechs = ", ".join(sorted({f"`{r.config.mechanism}`" for r in nets}))
        if np.isfinite(reach).all():
            lines.append(
                f"- N = {n_rec} ({len(nets)} networks: {mechs}): every one had at least "
                f"{n_tasks} of {len(nets[0].config.tasks)} tasks at criterion by "
                f"{reach.max():,.0f} trials ({reach.max() / 64:,.0f} steps of 64), "
                f"the smallest budget that sufficed for all of them."
            )
        else:
            best = max(int(tasks_at_criterion(r, criterion)[1].max()) for r in nets)
            lines.append(
                f"- N = {n_rec} ({len(nets)} networks: {mechs}): "
                f"{int(np.isfinite(reach).sum())} of {len(nets)} reached {n_tasks} "
                f"tasks at criterion within "
                f"{max(r.config.max_steps for r in nets) * 64:,} trials; the best "
                f"network had {best} at once."
            )
    return "\n".join(lines)


__all__ = [
    "describe_spec",
    "arm_scores",
    "study_summary",
    "matching_arm",
    "chosen_protocol",
    "groups",
    "members",
    "ttc_table",
    "describe_arm",
    "task_curves",
    "FULL_BATTERY_LEARNED",
    "tasks_at_criterion",
    "trials_to_n_tasks",
    "full_battery_table",
    "full_battery_text",
]
