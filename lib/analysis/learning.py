"""E5's learning part (claim C5, "two learning speeds"): how fast each route teaches a hybrid a
new task, what the old tasks lose, and the comparisons (:mod:`lib.experiments.learning` makes
the table: one row per network, see ``learning_row``).

Speed is censoring-aware: a route that never reached criterion within the budget is
right-censored there; the Kaplan-Meier curve (:func:`km_curve`) gives the fraction of seeds at
criterion by each number of trials, and routes are compared on the restricted mean time to
criterion (RMST, :func:`restricted_times`) paired over seeds with the exact sign-flip test of
the verdict engine. Interference is the old tasks' mean performance before (the parent's last
evaluation) minus after (the child's), on the same evaluation trials.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis.stats import fmt, mean_ci
from lib.analysis.verdicts import Comparison, Rule, compare, decide, register
from lib.core.checks import fail
from lib.experiments.learning import ROUTE_NAMES

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
    "if (2) is significant and negative (both rows together faster than either alone)."
)
"""Version 1 of E5's learning rule (the record: its comparisons were fixed before the learning
networks were trained); version 2, :data:`LEARNING_RULES` and :func:`learning_comparisons`,
keeps the comparisons and replaces the t tests on budget-filled log2 trials by the RMST with
the exact sign-flip test."""


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
        return f"{2**m:,.0f}"
    return f"{2**m:,.0f} [{2 ** (m - h):,.0f}, {2 ** (m + h):,.0f}]"


def route_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per route: seeds, seeds at criterion, trials to criterion (geometric mean over seeds, a
    seed that never got there at its budget, with the 95% interval back-transformed), new-task
    performance and old tasks' loss (mean ± 95% half-width)."""
    kids = children(table)
    rows = []
    for route, g in kids.groupby("route", sort=False):
        m, h = mean_ci(g.log2_trials.to_numpy(float))
        rows.append(
            {
                "route": route,
                "what is trained": ROUTE_NAMES[route],
                "seeds": len(g),
                "reached": int(g.reached.astype(bool).sum()),
                "trials to criterion": _trials(m, h),
                "new-task perf": fmt(*mean_ci(g.new_perf.to_numpy(float))),
                "old tasks' loss": fmt(*mean_ci(g.interference.to_numpy(float))),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["LEARNING_RULE", "learned_seeds", "children", "route_summary"]


# ------------------------------------------------------------ censoring-aware, by the engine

SPEED_SESOI_TRIALS = 16_000
"""SESOI of a difference in restricted mean trials to criterion: one evaluation interval of the
quick protocol (250 steps of 64 trials); time to criterion is only known to this resolution."""

PERF_SESOI = 0.05
"""SESOI of a difference in performance (fraction correct): one trial in twenty, the tolerance
E5 also uses for 'recovered'; smaller differences are within evaluation noise at the quick
profile's evaluation trials."""

_SEEN_LEARNING = (
    "The comparisons speed (exc − syn), synergy (both − the faster single route) and "
    "interference (all − both) and their Holm family were fixed before the quick learning "
    "networks were trained (rule v1: t tests on log2 trials, a censored seed at the budget). "
    "Version 2 (issue 18, after the results were seen): the restricted mean time to criterion "
    "(censoring-aware) with the exact sign-flip test, both − the slower route added so that "
    "synergy needs both, and the SESOIs."
)

LEARNING_RULES: dict[str, Rule] = {
    "speed": register(
        Rule(
            name="C5.learning.rmst",
            claim="C5",
            version=2,
            family="C5.learning",
            measure="restricted mean trials to criterion on the new task (budget-restricted)",
            unit="new task",
            higher_is_better=False,
            sesoi=SPEED_SESOI_TRIALS,
            sesoi_reason="one evaluation interval of the quick protocol (250 steps x 64 trials): "
            "time to criterion is only known to this resolution",
            preregistered=True,
            seen=_SEEN_LEARNING,
        )
    ),
    "interference": register(
        Rule(
            name="C5.learning.interference",
            claim="C5",
            version=2,
            family="C5.learning",
            measure="old tasks' loss (mean performance, parent − child)",
            unit="new task",
            higher_is_better=False,
            sesoi=PERF_SESOI,
            sesoi_reason="one trial in twenty (0.05 of performance): within evaluation noise",
            preregistered=True,
            seen=_SEEN_LEARNING,
        )
    ),
    "new_perf": register(
        Rule(
            name="C5.learning.new_perf",
            claim="C5",
            version=1,
            family="C5.learning.new_perf",
            measure="final performance on the new task",
            unit="new task",
            higher_is_better=True,
            sesoi=PERF_SESOI,
            sesoi_reason="one trial in twenty (0.05 of performance): within evaluation noise",
            preregistered=False,
            seen="Written after the quick learning results were seen (issue 18: 0.88 vs 0.53 "
            "had been reported, never tested).",
        )
    ),
}
"""The rules of E5's learning part: speed and synergy (RMST), interference (pre-registered
comparisons, v2 tests); new-task performance (exploratory)."""


def restricted_times(kids: pd.DataFrame, route: str) -> pd.DataFrame:
    """(seeds x 1) trials to criterion on the new task of ``route``, restricted at the budget:
    min(T, budget), a seed that never reached criterion (right-censored at the budget) counted
    at the budget. Because every censoring time is the budget itself, the mean of these over
    seeds equals the Kaplan-Meier restricted mean survival time (RMST) up to the budget
    (Royston & Parmar 2013), so a paired test on them is a censoring-aware comparison of RMST."""
    g = kids[kids.route == route]
    if g.budget_trials.nunique() > 1:
        fail(
            "budgets",
            sorted(g.budget_trials.unique()),
            "one budget per route (the RMST is restricted at a common time)",
        )
    t = g.trials_to_criterion.where(g.reached.astype(bool), g.budget_trials).astype(float)
    t = np.minimum(t, g.budget_trials.astype(float))
    return pd.DataFrame({"new task": t.to_numpy()}, index=pd.Index(g.seed.astype(int), name="seed"))


def km_curve(times, reached, budget: float) -> pd.DataFrame:
    """Kaplan-Meier estimate of the fraction of seeds at criterion by each number of trials:
    ``times`` (n,) trials to criterion (ignored where not ``reached``), a seed not at
    criterion right-censored at ``budget``. Rows: 0, each event time, and the budget; columns
    ``trials``, ``at_risk``, ``reached`` (events at that time), ``fraction`` = 1 − S(t). Also
    ``rmst``: the area under S up to the budget (``df.attrs``)."""
    times, reached = np.asarray(times, float), np.asarray(reached, bool)
    if times.shape != reached.shape:
        fail("reached", reached.shape, f"the shape of times {times.shape}")
    if not np.isfinite(budget) or budget <= 0:
        fail("budget", budget, "a positive number of trials")
    if (reached & ~(times <= budget)).any():
        fail(
            "times",
            times[reached & ~(times <= budget)].tolist(),
            f"finite and at most the budget {budget:g} where reached",
        )
    t = np.where(reached, times, budget)
    rows, surv = [{"trials": 0.0, "at_risk": len(t), "reached": 0, "fraction": 0.0}], 1.0
    for u in np.unique(t[reached]):
        at_risk = int((t >= u).sum())
        d = int(((t == u) & reached).sum())
        surv *= 1 - d / at_risk
        rows.append({"trials": float(u), "at_risk": at_risk, "reached": d, "fraction": 1 - surv})
    rows.append(
        {
            "trials": float(budget),
            "at_risk": int((t >= budget).sum()),
            "reached": 0,
            "fraction": 1 - surv,
        }
    )
    df = pd.DataFrame(rows)
    steps = df.trials.to_numpy()
    s_before = 1 - df.fraction.to_numpy()
    df.attrs["rmst"] = float(np.sum(np.diff(steps) * s_before[:-1]))
    return df


def km_table(table: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier curves of every route of the learned parents' children (:func:`km_curve`),
    one block of rows per route (column ``route``), with each route's RMST in ``rmst``."""
    kids = children(table)
    out = []
    for route, g in kids.groupby("route", sort=False):
        km = km_curve(g.trials_to_criterion, g.reached.astype(bool), float(g.budget_trials.max()))
        out.append(km.assign(route=route, rmst=km.attrs["rmst"]))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _one(kids: pd.DataFrame, route: str, column: str) -> pd.DataFrame:
    g = kids[kids.route == route]
    return pd.DataFrame(
        {"new task": g[column].astype(float).to_numpy()},
        index=pd.Index(g.seed.astype(int), name="seed"),
    )


def learning_comparisons(table: pd.DataFrame) -> list[Comparison]:
    """E5's learning comparisons, decided (Holm within each family): RMST exc − syn (speed),
    both − exc and both − syn (synergy needs both), interference all − both; and, exploratory,
    new-task performance exc − syn (its own family). Only children of parents that
    learned every old task enter (:func:`learned_seeds`)."""
    kids = children(table)
    routes = set(kids.route)
    out = []
    speed = LEARNING_RULES["speed"]
    for a, b in (("exc", "syn"), ("both", "exc"), ("both", "syn")):
        if {a, b} <= routes:
            out.append(compare(restricted_times(kids, a), restricted_times(kids, b), speed, a, b))
    if {"all", "both"} <= routes:
        out.append(
            compare(
                _one(kids, "all", "interference"),
                _one(kids, "both", "interference"),
                LEARNING_RULES["interference"],
                "all",
                "both",
            )
        )
    if {"exc", "syn"} <= routes:
        out.append(
            compare(
                _one(kids, "exc", "new_perf"),
                _one(kids, "syn", "new_perf"),
                LEARNING_RULES["new_perf"],
                "exc",
                "syn",
            )
        )
    return decide(out)


def learning_parts(comparisons: list[Comparison]) -> dict:
    """What the decided learning comparisons say: ``speeds`` ("exc faster", "syn faster",
    "same speed" (equivalent), "inconclusive", "not tested") and ``synergy`` ("both faster than
    either", "not faster than both" (equivalent to or slower than one), "inconclusive",
    "not tested")."""
    by = {(c.rule.name, c.a, c.b): c for c in comparisons}
    sp = by.get(("C5.learning.rmst", "exc", "syn"))
    if sp is None or not sp.tested:
        speeds = "not tested"
    elif sp.verdict == "differ":
        speeds = "exc faster" if sp.mean < 0 else "syn faster"
    else:
        speeds = {"equivalent": "same speed"}.get(sp.verdict, "inconclusive")
    syn = [by.get(("C5.learning.rmst", "both", r)) for r in ("exc", "syn")]
    if any(c is None or not c.tested for c in syn):
        synergy = "not tested"
    elif all(c.verdict == "differ" and c.mean < 0 for c in syn):
        synergy = "both faster than either"
    elif any(c.verdict == "equivalent" or (c.verdict == "differ" and c.mean > 0) for c in syn):
        synergy = "not faster than both"
    else:
        synergy = "inconclusive"
    return {"speeds": speeds, "synergy": synergy}


def km_text(km: pd.DataFrame) -> str:
    """Each route's Kaplan-Meier result in words: seeds at criterion by the budget and RMST."""
    if km.empty:
        return "*No learned parent: no learning curve.*"
    parts = []
    for route, g in km.groupby("route", sort=False):
        n = int(g.at_risk.iloc[0])
        got = int(g.reached.sum())
        parts.append(
            f"`{route}` {got} of {n} seeds at criterion by {g.trials.max():,.0f} trials, "
            f"RMST {g.rmst.iloc[0]:,.0f} trials"
        )
    rmst = km.groupby("route", sort=False).rmst.first()
    censored = km_censored(km)
    reading = (
        f" Seeds leave the curve fastest under `{rmst.idxmin()}` (the lowest RMST) and slowest "
        f"under `{rmst.idxmax()}`"
        if len(rmst) > 1 and rmst.min() < rmst.max()
        else " Every route has the same RMST"
    )
    never = [f"`{r}`" for r, (c, n) in censored.items() if c == n]
    if never:
        reading += f"; no seed of {', '.join(never)} reached criterion (its RMST is the budget)"
    return (
        "Kaplan-Meier estimate per route (a seed that never reached criterion is "
        "right-censored at the budget; RMST = restricted mean trials to criterion, the area "
        "under the curve of seeds not yet at criterion): " + "; ".join(parts) + "." + reading + "."
    )


def km_censored(km: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per route of :func:`km_table`: (seeds censored at the budget, seeds), in route order. A
    seed is censored when it never reached criterion: n − the events of the route's curve."""
    out = {}
    for route, g in km.groupby("route", sort=False):
        n = int(g.at_risk.iloc[0])
        out[str(route)] = (n - int(g.reached.sum()), n)
    return out


def learning_text(comparisons: list[Comparison]) -> str:
    """The decided learning comparisons and what they say, in sentences."""
    if not comparisons:
        return "**Not tested**: fewer than two parents learned every old task."
    parts = learning_parts(comparisons)
    lines = [f"- {c.text(0 if c.rule is LEARNING_RULES['speed'] else 3)}" for c in comparisons]
    return (
        "Paired over seeds (each seed's routes share a parent), exact sign-flip p, Holm "
        "within each family; speed in trials, restricted at the budget:\n\n"
        + "\n".join(lines)
        + f"\n\n*What it says:* learning speeds: **{parts['speeds']}**; "
        f"synergy in learning (both rows faster than each single route): "
        f"**{parts['synergy']}**."
    )


__all__ += [
    "SPEED_SESOI_TRIALS",
    "PERF_SESOI",
    "LEARNING_RULES",
    "restricted_times",
    "km_curve",
    "km_table",
    "learning_comparisons",
    "learning_parts",
    "km_text",
    "km_censored",
    "learning_text",
]
