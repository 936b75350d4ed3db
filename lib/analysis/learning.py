"""E5's learning part (claim C5, "two learning speeds"): how fast each route teaches a hybrid a
new task, what the old tasks lose, and the pre-registered comparisons
(:mod:`lib.experiments.learning` makes the table: one row per network, see ``learning_row``).

Speed is measured in log2 trials to criterion on the new task: a ratio scale (one unit = twice
as many trials), and a route that never reached criterion is counted at its budget, so a
difference involving it is a bound (it could only be larger). Interference is the old tasks'
mean performance before (the parent's last evaluation) minus after (the child's), on the same
evaluation trials.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis.stats import fmt, holm, mean_ci, paired
from lib.experiments.learning import ROUTE_NAMES

ALPHA = 0.05

LEARNING_RULE = (
    "Fixed before the quick networks were trained. Seeds whose parent (the hybrid on the old "
    "tasks) did not bring every old task to criterion are left out (a network that has not "
    "learned says nothing). Speed of a route = log2 of its trials to criterion on the new task, "
    "a route that never got there counted at its budget. Three paired comparisons over seeds "
    "(two-sided t tests, Holm's correction over the three, alpha = 0.05): (1) **speed**, "
    "excitability rows − synaptic rows; (2) **synergy in learning**, both pathways' rows − the "
    "faster single route (the one with the lower mean); (3) **interference**, the old tasks' "
    "loss under every parameter − under both pathways' rows. The pathways learn at **two "
    "speeds** if (1) is significant (the sign says which is fast); learning is **synergistic** "
    "if (2) is significant and negative (both rows together faster than either alone).")
"""The rule of E5's learning part, printed with its result; :func:`learning_tests` applies it."""


def learned_seeds(table: pd.DataFrame) -> list[int]:
    """Seeds whose parent brought every old task to criterion."""
    par = table[table.route == "parent"]
    return sorted(int(s) for s, ok in zip(par.seed, par.old_all_at_criterion) if ok)


def children(table: pd.DataFrame) -> pd.DataFrame:
    """The children of learned parents, with ``log2_trials`` (budget where not reached) and
    ``interference`` (old tasks' mean performance, parent − child)."""
    seeds = learned_seeds(table)
    par = table[table.route == "parent"].set_index("seed")["old_after"]
    kids = table[(table.route != "parent") & table.seed.isin(seeds)].copy()
    trials = kids.trials_to_criterion.where(kids.reached.astype(bool), kids.budget_trials)
    kids["log2_trials"] = np.log2(trials.astype(float))
    kids["interference"] = [float(par[s]) - a for s, a in zip(kids.seed, kids.old_after)]
    return kids


def _trials(m: float, h: float) -> str:
    """Geometric mean of trials and its back-transformed 95% interval, from log2 mean ± h."""
    if not np.isfinite(m):
        return "–"
    if not np.isfinite(h):
        return f"{2 ** m:,.0f}"
    return f"{2 ** m:,.0f} [{2 ** (m - h):,.0f}, {2 ** (m + h):,.0f}]"


def route_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per route: seeds, seeds at criterion, trials to criterion (geometric mean over seeds, a
    seed that never got there at its budget, with the 95% interval back-transformed), new-task
    performance and old tasks' loss (mean ± 95% half-width)."""
    kids = children(table)
    rows = []
    for route, g in kids.groupby("route", sort=False):
        m, h = mean_ci(g.log2_trials.to_numpy(float))
        rows.append({"route": route, "what is trained": ROUTE_NAMES[route], "seeds": len(g),
                     "reached": int(g.reached.astype(bool).sum()),
                     "trials to criterion": _trials(m, h),
                     "new-task perf": fmt(*mean_ci(g.new_perf.to_numpy(float))),
                     "old tasks' loss": fmt(*mean_ci(g.interference.to_numpy(float)))})
    return pd.DataFrame(rows)


def _by_seed(kids: pd.DataFrame, route: str, column: str) -> dict[int, float]:
    g = kids[kids.route == route]
    return {int(s): float(v) for s, v in zip(g.seed, g[column])}


def learning_tests(table: pd.DataFrame, alpha: float = ALPHA) -> dict:
    """:data:`LEARNING_RULE` applied: ``tests`` (one row per comparison: ``name``, ``a``,
    ``b``, ``measure``, paired diff with interval, p, Holm p, ``significant``), ``speeds``
    (``"exc faster"``, ``"syn faster"``, ``"no detectable difference"`` or ``"not tested"``),
    ``synergy`` (bool or None), ``faster`` (the faster single route) and ``n`` (seeds)."""
    kids = children(table)
    routes = set(kids.route)
    if not {"exc", "syn"} <= routes or len(learned_seeds(table)) < 2:
        return {"tests": pd.DataFrame(), "speeds": "not tested", "synergy": None,
                "faster": None, "n": len(learned_seeds(table))}
    speed = {r: _by_seed(kids, r, "log2_trials") for r in routes}
    faster = min(("exc", "syn"), key=lambda r: np.mean(list(speed[r].values())))
    rows = [{"name": "speed", "a": "exc", "b": "syn", "measure": "log2 trials",
             **paired(speed["exc"], speed["syn"])}]
    if "both" in routes:
        rows.append({"name": "synergy in learning", "a": "both", "b": faster,
                     "measure": "log2 trials", **paired(speed["both"], speed[faster])})
    if {"all", "both"} <= routes:
        rows.append({"name": "interference", "a": "all", "b": "both",
                     "measure": "old tasks' loss",
                     **paired(_by_seed(kids, "all", "interference"),
                              _by_seed(kids, "both", "interference"))})
    tests = pd.DataFrame(rows)
    tests["p_holm"] = holm(tests["p"].to_numpy())
    tests["significant"] = tests["p_holm"] < alpha
    first = tests.iloc[0]
    speeds = ("no detectable difference" if not first.significant
              else "exc faster" if first["diff"] < 0 else "syn faster")
    syn_row = tests[tests.name == "synergy in learning"]
    synergy = (bool(syn_row.significant.iloc[0] and syn_row["diff"].iloc[0] < 0)
               if len(syn_row) else None)
    return {"tests": tests, "speeds": speeds, "synergy": synergy, "faster": faster,
            "n": len(learned_seeds(table))}


def _line(r) -> str:
    unit = " (log2 trials: −1 = half as many)" if r["measure"] == "log2 trials" else ""
    if not np.isfinite(r["diff"]):
        return f"{r['name']}: `{r['a']}` − `{r['b']}` not scored (fewer than two paired seeds)"
    return (f"{r['name']}: `{r['a']}` − `{r['b']}` on {r['measure']}{unit}: {r['diff']:+.2f} "
            f"[{r['lo']:+.2f}, {r['hi']:+.2f}], Holm p = {r['p_holm']:.3g}, {int(r['n'])} "
            "paired seeds → " + ("significant" if r["significant"] else "no detectable "
                                 "difference"))


def learning_markdown(v: dict, table: pd.DataFrame) -> str:
    """The comparisons and what they mean, in sentences computed from ``v``
    (:func:`learning_tests`) and the table."""
    n_par = int((table.route == "parent").sum())
    if v["speeds"] == "not tested":
        return (f"**Not tested**: {v['n']} of {n_par} parents learned every old task (two are "
                "needed for a paired comparison).")
    lines = [f"Parents that learned every old task: {v['n']} of {n_par}."]
    lines += ["- " + _line(r) for _, r in v["tests"].iterrows()]
    kids = children(table)
    frozen = kids[kids.route.isin(["exc", "syn", "both"])]
    exact = bool(len(frozen)) and bool((frozen.interference.abs() < 1e-12).all())
    speeds = {"exc faster": "the **excitability** rows learn the new task faster than the "
                            "synaptic rows: two learning speeds, with excitability the fast one",
              "syn faster": "the **synaptic** rows learn the new task faster than the "
                            "excitability rows: two learning speeds, but with synaptic "
                            "modulation the fast one, the reverse of fast excitability",
              "no detectable difference": "the two pathways' rows learn the new task at "
                                          "speeds this run cannot tell apart"}[v["speeds"]]
    synergy = ("" if v["synergy"] is None else
               " Both pathways' rows together learn it faster than the faster single route: "
               "synergy in learning." if v["synergy"] else
               " Both pathways' rows together are not detectably faster than the faster single "
               f"route (`{v['faster']}`): no synergy in learning.")
    inter = (" Training only modulation rows left every old task's performance exactly as it "
             "was (zero interference, as the frozen shared weights guarantee); training every "
             "parameter is the route that can interfere." if exact else "")
    return ("\n".join(lines) + f"\n\n{censoring_text(kids)}\n\n*What it means:* {speeds}."
            f"{synergy}{inter}")


def censoring_text(kids: pd.DataFrame) -> str:
    """How many seeds of each route reached criterion, and what that does to the speed tests:
    a seed that never got there counts at the budget, so a difference involving it is a bound
    and the t test is conservative; with each route's final new-task performance."""
    parts = []
    for route, g in kids.groupby("route", sort=False):
        perf = fmt(*mean_ci(g.new_perf.to_numpy(float)))
        parts.append(f"`{route}` {int(g.reached.astype(bool).sum())} of {len(g)} seeds "
                     f"(new-task performance {perf})")
    text = "Seeds that reached criterion within the budget: " + "; ".join(parts) + "."
    if not kids.reached.astype(bool).all():
        text += (" A seed that never got there counts at the budget, so a speed difference "
                 "involving it is a bound (the true one can only be larger) and the test is "
                 "conservative.")
    return text


__all__ = ["ALPHA", "LEARNING_RULE", "learned_seeds", "children", "route_summary",
           "learning_tests", "learning_markdown", "censoring_text"]
