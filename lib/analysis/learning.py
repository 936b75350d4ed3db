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
from lib.analysis.verdicts import Comparison, Rule, compare, decide, register
from lib.core.checks import fail
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
    "synergy needs both, and the SESOIs.")

LEARNING_RULES: dict[str, Rule] = {
    "speed": register(Rule(
        name="C5.learning.rmst", claim="C5", version=2, family="C5.learning",
        measure="restricted mean trials to criterion on the new task (budget-restricted)",
        unit="new task", higher_is_better=False, sesoi=SPEED_SESOI_TRIALS,
        sesoi_reason="one evaluation interval of the quick protocol (250 steps x 64 trials): time to "
        "criterion is only known to this resolution", preregistered=True, seen=_SEEN_LEARNING)),
    "interference": register(Rule(
        name="C5.learning.interference", claim="C5", version=2, family="C5.learning",
        measure="old tasks' loss (mean performance, parent − child)", unit="new task",
        higher_is_better=False, sesoi=PERF_SESOI,
        sesoi_reason="one trial in twenty (0.05 of performance): within evaluation noise",
        preregistered=True, seen=_SEEN_LEARNING)),
    "new_perf": register(Rule(
        name="C5.learning.new_perf", claim="C5", version=1, family="C5.learning.new_perf",
        measure="final performance on the new task", unit="new task", higher_is_better=True,
        sesoi=PERF_SESOI,
        sesoi_reason="one trial in twenty (0.05 of performance): within evaluation noise",
        preregistered=False,
        seen="Written after the quick learning results were seen (issue 18: 0.88 vs 0.53 "
             "had been reported, never tested).")),
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
    if (g.budget_trials.nunique() > 1):
        fail("budgets", sorted(g.budget_trials.unique()), "one budget per route (the RMST "
             "is restricted at a common time)")
    t = g.trials_to_criterion.where(g.reached.astype(bool), g.budget_trials).astype(float)
    t = np.minimum(t, g.budget_trials.astype(float))
    return pd.DataFrame({"new task": t.to_numpy()}, index=pd.Index(g.seed.astype(int),
                                                                    name="seed"))


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
        fail("times", times[reached & ~(times <= budget)].tolist(),
             f"finite and at most the budget {budget:g} where reached")
    t = np.where(reached, times, budget)
    rows, surv = [{"trials": 0.0, "at_risk": len(t), "reached": 0, "fraction": 0.0}], 1.0
    for u in np.unique(t[reached]):
        at_risk = int((t >= u).sum())
        d = int(((t == u) & reached).sum())
        surv *= 1 - d / at_risk
        rows.append({"trials": float(u), "at_risk": at_risk, "reached": d,
                     "fraction": 1 - surv})
    rows.append({"trials": float(budget), "at_risk": int((t >= budget).sum()), "reached": 0,
                 "fraction": 1 - surv})
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
    return pd.DataFrame({"new task": g[column].astype(float).to_numpy()},
                        index=pd.Index(g.seed.astype(int), name="seed"))


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
        out.append(compare(_one(kids, "all", "interference"), _one(kids, "both", "interference"),
                           LEARNING_RULES["interference"], "all", "both"))
    if {"exc", "syn"} <= routes:
        out.append(compare(_one(kids, "exc", "new_perf"), _one(kids, "syn", "new_perf"),
                           LEARNING_RULES["new_perf"], "exc", "syn"))
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
        parts.append(f"`{route}` {got} of {n} seeds at criterion by {g.trials.max():,.0f} trials, "
                     f"RMST {g.rmst.iloc[0]:,.0f} trials")
    return ("Kaplan-Meier estimate per route (a seed that never reached criterion is "
            "right-censored at the budget; RMST = restricted mean trials to criterion, the area "
            "under the curve of seeds not yet at criterion): " + "; ".join(parts) + ".")


def learning_text(comparisons: list[Comparison]) -> str:
    """The decided learning comparisons and what they say, in sentences."""
    if not comparisons:
        return "**Not tested**: fewer than two parents learned every old task."
    parts = learning_parts(comparisons)
    lines = [f"- {c.text(0 if c.rule is LEARNING_RULES['speed'] else 3)}"
             for c in comparisons]
    return ("Paired over seeds (each seed's routes share a parent), exact sign-flip p, Holm "
            "within each family; speed in trials, restricted at the budget:\n\n"
            + "\n".join(lines) + f"\n\n*What it says:* learning speeds: **{parts['speeds']}**; "
            f"synergy in learning (both rows faster than each single route): "
            f"**{parts['synergy']}**.")


__all__ += ["SPEED_SESOI_TRIALS", "PERF_SESOI", "LEARNING_RULES", "restricted_times",
            "km_curve", "km_table", "learning_comparisons", "learning_parts", "km_text",
            "learning_text"]
