"""E5 analyses, first part: switch costs and brief-context-error costs of E1's networks when each
pathway's modulation follows the cue with its own time constant
(:mod:`lib.experiments.timescales`), and the verdict on claim C5 on time-scales.

Inputs: ``results[(label, seed)]`` (:func:`lib.experiments.timescales.probe_network`). Every
cost is a difference on identical trials and network noise: the **reference** (the same trial
with the modulation at its fixed point for the true task, i.e. the steady state every filter
reaches under a constant cue) minus the performance under the assignment. A conflict pair enters
a network's measures only if the network learned both of its tasks on clean context (E1's final
performance at the criterion): a network that never learned a task says nothing about what a
switch costs it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lib.analysis.battery import hybrid_ablations
from lib.analysis.stats import fmt, mean_ci
from lib.analysis.verdicts import Comparison, Rule, compare, decide, floor_text, register
from lib.core.checks import fail
from lib.core.tasks import DISPLAY_NAMES, DT
from lib.experiments.timescales import (
    ASSIGNMENT_NAMES,
    SPLIT,
    TRAINED_UNDER,
    trained_label,
)

CRITERION = 0.9
"""Yang's criterion: a task is learned when its final performance on clean context reaches it."""
RECOVERY_TOL = 0.05
"""A network has recovered from a switch on the first trial whose cost is at most this."""
ERROR_WINDOW = 3
"""Trials after a brief context error over which its lingering cost is averaged."""
STEADY_FRACTION = 1 / 3
"""The steady state of a blocked sequence: the last third of each block (and the first block,
which starts at the filters' fixed point)."""
VERDICT_UNIFORM = ("both_fast", "both_slow")
"""The uniform assignments each split of the hybrid is compared with."""

MEASURES: dict[str, str] = {
    "switch": "switch cost: reference − performance on the first trial after a switch (blocked "
    "schedule), mean over switches",
    "recovery": f"trials after a switch until the cost is within {RECOVERY_TOL} of the "
    "reference (0: already on the first trial); a network that does not recover "
    "within the block is counted as the block length",
    "switch_interleaved": "the switch cost on the interleaved schedule",
    "steady": "performance at steady state (far from a switch: the last third of each block)",
    "error": "error cost: reference − performance on the trial cued with the conflict partner",
    "error_after": f"lingering error cost: mean reference − performance over the {ERROR_WINDOW} "
    "trials after the error",
}
"""Every per-network measure of :func:`network_measures`, in words (the book prints these)."""

C5_RULE = (
    "Fixed before the quick networks were probed. For each of the hybrid's two split "
    "assignments (exc fast · syn slow, exc slow · syn fast) and each uniform assignment (both "
    "fast, both slow): the paired difference split − uniform of the *combined cost* (switch cost "
    "on the first trial after a switch in the blocked schedule + error cost on the trial cued "
    "with the conflict partner + mean lingering error cost over the 3 trials after it) over "
    "seeds, two-sided paired t test, Holm's correction over all four comparisons, alpha = 0.05. "
    "A split *beats* a uniform assignment if its cost is lower (difference < 0) and the adjusted "
    "p < 0.05. The split reported is the one that beats more uniform assignments (a tie: the "
    "lower mean combined cost). **Synergistic** on time-scales if it beats both uniform "
    "assignments; **partly synergistic** if it beats one; **not supported** if it beats "
    "neither; **not tested** if fewer than two seeds of the hybrid learned both tasks of at "
    "least one conflict pair (a network that never learned its tasks says nothing)."
)
"""Retired: version 1 of the C5 rule on time-scales (the record the chapter cites). Its combined
cost charges every uniform time constant by construction, so it decides nothing; the costs are
tested separately (:func:`timescale_comparisons`)."""


def spec_text(spec) -> str:
    """The sequences and time constants of a :class:`lib.experiments.timescales.TimescalesSpec`
    in words, every number from the spec."""
    rate = spec.fast_rate
    n_fast = math.ceil(math.log(0.05) / math.log(1 - rate)) if rate < 1 else 1
    n_slow = math.ceil(math.log(0.05) / math.log(1 - spec.slow_rate)) if spec.slow_rate < 1 else 1
    return (
        f"**Time constants.** Fast: τ<sub>fast</sub> = {spec.tau_fast:g} ms, so the state "
        f"closes dt/τ = {rate:.2g} of its gap to the cue per {DT}-ms step and is within 5% of "
        f"a new cue after {n_fast} steps ({n_fast * DT} ms). Slow: τ<sub>slow</sub> = "
        f"{spec.tau_slow:g} trials, so the first trial after a switch still receives the old "
        f"cue entirely and the state is within 5% of the new cue only {n_slow} trials later "
        f"(counting the first trial after the switch as 0). **Sequences**, per conflict "
        f"pair: blocked, {spec.n_blocks} blocks of "
        f"{spec.block} trials ({spec.n_blocks - 1} switches); interleaved, "
        f"{spec.n_interleaved} trials, each task drawn at random; brief error, for each task "
        f"of the pair one lead trial, one trial cued with the partner, then "
        f"{spec.error_after} trials. Every trial position holds {spec.draws} independent "
        f"condition draws."
    )


def learned_pairs(res: dict, criterion: float = CRITERION) -> np.ndarray:
    """(P,) bool: the conflict pairs whose two tasks the network learned on clean context."""
    clean = np.asarray(res["clean"])
    return np.array(
        [bool(clean[i] >= criterion and clean[j] >= criterion) for i, j in res["pairs"]], bool
    )


def _mean(values) -> float:
    v = np.asarray(values, float)
    return float(v.mean()) if v.size else math.nan


def switch_curve(
    res: dict, assignment: str, schedule: str = "blocked", criterion: float = CRITERION
) -> dict[str, np.ndarray]:
    """Performance and reference (J,) against trials since a switch (0 .. block-1), mean over
    the switches of the learned pairs; nan where no trial (no learned pair, or an interleaved
    run that never lasted that long)."""
    part = res[schedule]
    J = int(res["spec"]["block"])
    ok = learned_pairs(res, criterion)
    since = part["since"][ok]
    perf, ref = part["perf"][assignment][ok], part["reference"][ok]
    out = {"perf": np.full(J, np.nan), "reference": np.full(J, np.nan), "n": np.zeros(J, int)}
    for j in range(J):
        sel = since == j
        if sel.any():
            out["perf"][j], out["reference"][j] = perf[sel].mean(), ref[sel].mean()
            out["n"][j] = int(sel.sum())
    return out


def error_curve(res: dict, assignment: str, criterion: float = CRITERION) -> dict[str, np.ndarray]:
    """Performance and reference (L,) around a brief context error (position 0: the lead trial,
    1: the trial cued with the partner, then the trials after), mean over both tasks of the
    learned pairs; nan without a learned pair."""
    err = res["error"]
    ok = learned_pairs(res, criterion)
    L = err["reference"].shape[-1]
    if not ok.any():
        return {"perf": np.full(L, np.nan), "reference": np.full(L, np.nan)}
    return {
        "perf": err["perf"][assignment][ok].mean((0, 1)),
        "reference": err["reference"][ok].mean((0, 1)),
    }


def network_measures(res: dict, assignment: str, criterion: float = CRITERION) -> dict:
    """Every :data:`MEASURES` entry of one network under one assignment (nan without a learned
    pair), plus ``censored`` (no recovery within the block) and ``pairs`` (learned pairs)."""
    ok = learned_pairs(res, criterion)
    block = int(res["spec"]["block"])
    out = {"pairs": int(ok.sum()), "censored": False}
    if not ok.any():
        return out | {m: math.nan for m in MEASURES}
    b = res["blocked"]
    since = b["since"][ok]
    cost = b["reference"][ok] - b["perf"][assignment][ok]
    curve = np.array([_mean(cost[since == j]) for j in range(block)])
    out["switch"] = float(curve[0])
    below = np.flatnonzero(curve <= RECOVERY_TOL)
    out["recovery"] = float(below[0]) if below.size else float(block)
    out["censored"] = not below.size
    steady = (since < 0) | (since >= block - math.ceil(block * STEADY_FRACTION))
    out["steady"] = _mean(b["perf"][assignment][ok][steady])
    inter = res["interleaved"]
    first = inter["since"][ok] == 0
    out["switch_interleaved"] = _mean(
        (inter["reference"][ok] - inter["perf"][assignment][ok])[first]
    )
    err = res["error"]
    drop = (err["reference"][ok] - err["perf"][assignment][ok]).mean((0, 1))  # (L,)
    out["error"] = float(drop[1])
    out["error_after"] = float(drop[2 : 2 + ERROR_WINDOW].mean())
    return out


def measure_table(results: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """One row per (label, seed, assignment): every measure of :func:`network_measures`."""
    rows = []
    for (label, seed), res in sorted(results.items()):
        for a in res["assignments"]:
            rows.append(
                {
                    "label": label,
                    "seed": seed,
                    "assignment": a,
                    **network_measures(res, a, criterion),
                }
            )
    return pd.DataFrame(rows)


def seed_curves(
    results: dict, label: str, assignment: str, kind: str = "blocked", criterion: float = CRITERION
) -> dict[str, np.ndarray]:
    """Per-seed curves (seeds with a learned pair only): ``perf`` and ``reference`` (n, J) of
    :func:`switch_curve` (``kind`` "blocked" or "interleaved") or :func:`error_curve`
    ("error"), and the ``seeds``."""
    seeds, perf, ref = [], [], []
    for (lab, seed), res in sorted(results.items()):
        if lab != label or assignment not in res["assignments"]:
            continue
        if not learned_pairs(res, criterion).any():
            continue
        c = (
            error_curve(res, assignment, criterion)
            if kind == "error"
            else switch_curve(res, assignment, kind, criterion)
        )
        seeds.append(seed)
        perf.append(c["perf"])
        ref.append(c["reference"])
    J = (
        0
        if not results
        else (
            next(iter(results.values()))["error"]["reference"].shape[-1]
            if kind == "error"
            else int(next(iter(results.values()))["spec"]["block"])
        )
    )
    shape = (0, J)
    return {
        "seeds": seeds,
        "perf": np.array(perf) if perf else np.zeros(shape),
        "reference": np.array(ref) if ref else np.zeros(shape),
    }


def summary_table(
    table: pd.DataFrame,
    measures=("switch", "recovery", "switch_interleaved", "steady", "error", "error_after"),
) -> pd.DataFrame:
    """Per (network, assignment): each measure as mean and 95% t half-width over the seeds with
    a learned pair (columns ``m`` and ``m ±``), and ``n`` seeds."""
    rows = []
    for (label, a), g in table.groupby(["label", "assignment"], sort=False):
        row = {
            "network": label,
            "assignment": ASSIGNMENT_NAMES.get(a, a),
            "n": int(g["switch"].notna().sum()),
        }
        for m in measures:
            mean, half = mean_ci(g[m].to_numpy(float))
            row[m], row[m + " ±"] = float(mean), float(half)
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as 'mean ± half-width' strings (the book's tables)."""
    out = summary[["network", "assignment", "n"]].copy()
    for m in ("switch", "recovery", "switch_interleaved", "steady", "error", "error_after"):
        if m in summary:
            out[m] = [fmt(a, b) for a, b in zip(summary[m], summary[m + " ±"])]
    return out.set_index(["network", "assignment"])


def _pm(s: pd.DataFrame, network: str, assignment: str, m: str) -> str:
    row = s[(s.network == network) & (s.assignment == ASSIGNMENT_NAMES[assignment])]
    if row.empty:
        return "–"
    return fmt(float(row[m].iloc[0]), float(row[m + " ±"].iloc[0]))


def coverage_text(results: dict, labels) -> str:
    """Which conflict pairs each network learned (and so enter its measures)."""
    parts = []
    for lab in labels:
        runs = [res for (l, _), res in sorted(results.items()) if l == lab]
        if not runs:
            continue
        n_ok = [int(learned_pairs(r).sum()) for r in runs]
        P = len(runs[0]["pairs"])
        parts.append(
            f"`{lab}`: {sum(k > 0 for k in n_ok)} of {len(runs)} seeds learned both tasks "
            f"of at least one conflict pair ({sum(n_ok)} of {P * len(runs)} "
            "network-pairs enter)"
        )
    pairs = next(iter(results.values()))["pairs"] if results else []
    tasks = next(iter(results.values()))["tasks"] if results else []
    names = ", ".join(
        f"{DISPLAY_NAMES.get(tasks[i], tasks[i])}/{DISPLAY_NAMES.get(tasks[j], tasks[j])}"
        for i, j in pairs
    )
    return (
        f"Conflict pairs probed: {names}. Only pairs whose two tasks a network learned on "
        f"clean context (final performance ≥ {CRITERION}) enter its measures: "
        + "; ".join(parts)
        + "."
    )


def switch_text(summary: pd.DataFrame, labels) -> str:
    """The switch costs in words (mean ± 95% t interval over seeds)."""
    if summary.empty or summary["switch"].isna().all():
        return "No network learned both tasks of a conflict pair: no switch cost is measured."
    out = []
    for lab in labels:
        s = summary[summary.network == lab]
        if s.empty or s["switch"].isna().all():
            continue
        items = []
        for _, r in s.iterrows():
            rec = fmt(r["recovery"], r["recovery ±"], digits=1)
            items.append(
                f"{r['assignment']} {fmt(r['switch'], r['switch ±'])} (recovers within "
                f"{RECOVERY_TOL} after {rec} trials; interleaved "
                f"{fmt(r['switch_interleaved'], r['switch_interleaved ±'])})"
            )
        out.append(f"`{lab}`: " + "; ".join(items))
    return (
        "Switch cost (reference − performance on the first trial after a switch, blocked "
        "schedule; mean ± 95% t interval over seeds): " + ". ".join(out) + "."
    )


def error_text(summary: pd.DataFrame, labels) -> str:
    """The brief-error costs in words."""
    if summary.empty or summary["error"].isna().all():
        return "No network learned both tasks of a conflict pair: no error cost is measured."
    out = []
    for lab in labels:
        s = summary[summary.network == lab]
        if s.empty or s["error"].isna().all():
            continue
        out.append(
            f"`{lab}`: "
            + "; ".join(
                f"{r['assignment']} {fmt(r['error'], r['error ±'])} on the error trial, "
                f"{fmt(r['error_after'], r['error_after ±'])} after it"
                for _, r in s.iterrows()
            )
        )
    return (
        f"Cost of one trial cued with the conflict partner (reference − performance; then "
        f"the mean over the {ERROR_WINDOW} trials after it): " + ". ".join(out) + "."
    )


def ablation_bars(nets: dict) -> dict[str, np.ndarray]:
    """The part of E1's hybrid ablations (:func:`lib.analysis.battery.hybrid_ablations`, read
    from the same cached ``lesions`` results, so the same numbers) this chapter uses: per-task
    performance (S, K) of the hybrid intact, with each pathway's context set to zero at test
    time, and of the hybrids trained with one pathway frozen (where present). The "mean
    context" ablations are left out (E1's chapter shows them)."""
    return hybrid_ablations(nets, modes=("zero",))


def dominance(bars: dict[str, np.ndarray], criterion: float = CRITERION) -> dict[str, int]:
    """From E1's hybrid ablations (:func:`lib.analysis.battery.hybrid_ablations`): per pathway,
    the number of tasks that fall below criterion when that pathway's context is removed at test
    time (zero context), among the tasks the intact hybrid has at criterion (mean over seeds)."""
    intact = bars["intact"].mean(0)
    return {
        pw: int(((intact >= criterion) & (bars[f"{pw} removed (zero)"].mean(0) < criterion)).sum())
        for pw in ("exc", "syn")
    }


def ablation_link_text(bars: dict[str, np.ndarray], summary: pd.DataFrame) -> str:
    """What E1's hybrid ablations already say about complementarity, and how the split
    assignments line up with it: each split's switch and error costs next to the uniform
    assignment of the pathway that the ablations say carries the context."""
    lost = dominance(bars)
    K = bars["intact"].shape[1]
    learned = int((bars["intact"].mean(0) >= CRITERION).sum())
    if not learned:
        return (
            "E1's ablations of the hybrid ({doc}`03_battery`) say nothing here: the intact "
            "hybrid has no task at criterion, so no pathway can be shown to carry one."
        )
    if lost["exc"] and not lost["syn"]:
        carrier, said = (
            "exc",
            (
                "the hybrid relies on its excitability pathway (removing it takes "
                f"{lost['exc']} of {K} tasks below criterion, removing the "
                "synaptic one none): redundancy, not complementarity"
            ),
        )
    elif lost["syn"] and not lost["exc"]:
        carrier, said = (
            "syn",
            (
                "the hybrid relies on its synaptic pathway (removing it takes "
                f"{lost['syn']} of {K} tasks below criterion, removing the "
                "excitability one none): redundancy, not complementarity"
            ),
        )
    elif lost["exc"] and lost["syn"]:
        carrier, said = (
            None,
            (
                f"each pathway carries tasks the other does not (removing "
                f"excitability takes {lost['exc']}, synaptic {lost['syn']} of "
                f"{K} tasks below criterion): a division of labour"
            ),
        )
    else:
        carrier, said = (
            None,
            ("either pathway alone keeps every task: within the hybrid they are redundant"),
        )
    text = f"E1's ablations of the hybrid ({{doc}}`03_battery`) already say that {said}."
    h = summary[summary.network == "hybrid"] if not summary.empty else summary
    if carrier and not h.empty and h["switch"].notna().any():
        fast = "exc_fast_syn_slow" if carrier == "exc" else "exc_slow_syn_fast"
        slow = "exc_slow_syn_fast" if carrier == "exc" else "exc_fast_syn_slow"
        text += (
            f" If so, a split should cost what the uniform assignment of the carrying "
            f"pathway's time-scale costs, on each cost: switch cost "
            f"{ASSIGNMENT_NAMES[fast]} {_pm(h, 'hybrid', fast, 'switch')} against both fast "
            f"{_pm(h, 'hybrid', 'both_fast', 'switch')}, {ASSIGNMENT_NAMES[slow]} "
            f"{_pm(h, 'hybrid', slow, 'switch')} against both slow "
            f"{_pm(h, 'hybrid', 'both_slow', 'switch')}; error cost on the error trial "
            f"{ASSIGNMENT_NAMES[fast]} {_pm(h, 'hybrid', fast, 'error')} against both fast "
            f"{_pm(h, 'hybrid', 'both_fast', 'error')}, {ASSIGNMENT_NAMES[slow]} "
            f"{_pm(h, 'hybrid', slow, 'error')} against both slow "
            f"{_pm(h, 'hybrid', 'both_slow', 'error')}."
        )
    frozen = {
        pw: bars[f"{pw} frozen in training"]
        for pw in ("exc", "syn")
        if f"{pw} frozen in training" in bars
    }
    if frozen:
        other = {"exc": "synaptic", "syn": "excitability"}
        text += (
            " Hybrids trained with one pathway frozen reached criterion on "
            + "; ".join(
                f"{int((v.mean(0) >= CRITERION).sum())} of {K} tasks with the "
                f"{other[pw]} pathway alone"
                for pw, v in frozen.items()
            )
            + "."
        )
        if all((v.mean(0) >= CRITERION).all() for v in frozen.values()):
            text += (
                " Either pathway can carry every task, so which one the trained hybrid "
                "relies on is training's choice, not a limit of the other."
            )
    return text


__all__ = [
    "CRITERION",
    "RECOVERY_TOL",
    "ERROR_WINDOW",
    "STEADY_FRACTION",
    "MEASURES",
    "C5_RULE",
    "spec_text",
    "learned_pairs",
    "switch_curve",
    "error_curve",
    "network_measures",
    "measure_table",
    "seed_curves",
    "summary_table",
    "format_summary",
    "coverage_text",
    "switch_text",
    "error_text",
    "ablation_bars",
    "dominance",
    "ablation_link_text",
]


# --------------------------------------------------- separate costs, by the verdict engine

COSTS: dict[str, str] = {
    "switch": "switch cost: reference − performance on the first trial after a switch (blocked "
    "schedule), mean over the pair's switches",
    "error_total": f"error cost: reference − performance summed over the trial cued with the "
    f"conflict partner and the {ERROR_WINDOW} trials after it (performance lost to "
    "one wrong cue, in trials), mean over the pair's two tasks",
}
"""The two costs E5 tests, each on its own: a network that follows the cue pays the switch cost
and not the error cost, one that ignores a brief cue the reverse, so their sum charges every
uniform time constant for one or the other by construction and is not tested."""

COST_SESOI = RECOVERY_TOL
"""SESOI of a cost difference: :data:`RECOVERY_TOL`, the cost the book already treats as
'recovered'."""

_SEEN_COSTS = (
    "Written after the quick probes' costs had been seen (issue 18), replacing the "
    "pre-registered combined-cost rule (C5_RULE), whose sum of costs charges every "
    "uniform time constant by construction; exploratory."
)


def _cost_rules(kind: str, sesoi_reason: str, seen: str) -> dict[str, Rule]:
    """One exploratory rule per cost of :data:`COSTS`, registered as ``C5.<cost>.<kind>`` in
    its own family ``C5.<kind>.<cost>``, with the SESOI :data:`COST_SESOI`."""
    return {
        m: register(
            Rule(
                name=f"C5.{m}.{kind}",
                claim="C5",
                version=1,
                family=f"C5.{kind}.{m}",
                measure=COSTS[m].split(":")[0],
                unit="pair",
                higher_is_better=False,
                sesoi=COST_SESOI,
                sesoi_reason=sesoi_reason,
                preregistered=False,
                seen=seen,
            )
        )
        for m in COSTS
    }


_RECOVERED = "the cost the book treats as recovered (RECOVERY_TOL = 0.05 of performance)"

COST_RULES: dict[str, Rule] = _cost_rules("timescales", _RECOVERED, _SEEN_COSTS)
"""One exploratory rule per cost: the hybrid's splits against its uniform assignments."""


def pair_costs(res: dict, assignment: str, criterion: float = CRITERION) -> dict[str, np.ndarray]:
    """Each :data:`COSTS` entry per conflict pair (P,) of one network under ``assignment``, nan
    where the network did not learn both tasks of the pair at ``criterion``."""
    if assignment not in res["assignments"]:
        fail("assignment", assignment, "one of " + ", ".join(res["assignments"]))
    ok = learned_pairs(res, criterion)
    b = res["blocked"]
    cost = b["reference"] - b["perf"][assignment]  # (P, trials)
    first = b["since"] == 0
    switch = np.array(
        [cost[p][first[p]].mean() if first[p].any() else np.nan for p in range(len(ok))]
    )
    err = res["error"]
    drop = err["reference"] - err["perf"][assignment]  # (P, 2, L)
    error_total = drop[:, :, 1 : 2 + ERROR_WINDOW].sum(-1).mean(1)
    return {
        "switch": np.where(ok, switch, np.nan),
        "error_total": np.where(ok, error_total, np.nan),
    }


def _pair_names(res: dict) -> list[str]:
    t = res["tasks"]
    return [
        f"{DISPLAY_NAMES.get(t[i], t[i])} / {DISPLAY_NAMES.get(t[j], t[j])}"
        for i, j in res["pairs"]
    ]


def cost_values(
    results: dict, label: str, assignment: str, measure: str, criterion: float = CRITERION
) -> pd.DataFrame:
    """The engine's input: (seeds x conflict pairs) of ``measure`` (a :data:`COSTS` key) for
    network ``label`` under ``assignment``; nan where a pair was not learned."""
    if measure not in COSTS:
        fail("measure", measure, "one of " + ", ".join(COSTS))
    rows, cols = {}, None
    for (lab, seed), res in sorted(results.items()):
        if lab != label:
            continue
        cols = _pair_names(res)
        rows[int(seed)] = pair_costs(res, assignment, criterion)[measure]
    if cols is None:
        return pd.DataFrame(dtype=float)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out.index.name = "seed"
    return out


def timescale_comparisons(results: dict, criterion: float = CRITERION) -> list[Comparison]:
    """The hybrid's split assignments against its uniform ones (:data:`SPLIT` x
    :data:`VERDICT_UNIFORM`), on the switch cost and on the error cost separately (Holm within
    each cost's family of four), decided; exploratory (:data:`COST_RULES`)."""
    have = set()
    for (lab, _), res in results.items():
        if lab == "hybrid":
            have |= set(res["assignments"])
    out = []
    for m in COSTS:
        for s in SPLIT:
            for u in VERDICT_UNIFORM:
                if {s, u} <= have:
                    out.append(
                        compare(
                            cost_values(results, "hybrid", s, m, criterion),
                            cost_values(results, "hybrid", u, m, criterion),
                            COST_RULES[m],
                            ASSIGNMENT_NAMES[s],
                            ASSIGNMENT_NAMES[u],
                        )
                    )
    return decide(out)


def timescale_reading(comparisons: list[Comparison]) -> str:
    """What the separate costs say (exploratory): a split *covers both weaknesses* if it is
    not worse than both fast on the switch cost and not worse than both slow on the error cost
    (each: equivalent or cheaper), i.e. each pathway's time-scale covers the cost the other's
    incurs."""
    if not comparisons:
        return "*Not tested: the hybrid was not probed under its split and uniform assignments.*"
    fast, slow = ASSIGNMENT_NAMES["both_fast"], ASSIGNMENT_NAMES["both_slow"]
    out = []
    for s in SPLIT:
        name = ASSIGNMENT_NAMES[s]
        sw = next(
            (
                c
                for c in comparisons
                if c.a == name and c.b == fast and c.rule.name == "C5.switch.timescales"
            ),
            None,
        )
        er = next(
            (
                c
                for c in comparisons
                if c.a == name and c.b == slow and c.rule.name == "C5.error_total.timescales"
            ),
            None,
        )
        if sw is None or er is None or not (sw.tested and er.tested):
            continue
        ok = [c.verdict == "equivalent" or (c.verdict == "differ" and c.mean < 0) for c in (sw, er)]
        out.append(
            f"{name}: switch cost against {fast} {sw.verdict} ({sw.mean:+.3f}), error "
            f"cost against {slow} {er.verdict} ({er.mean:+.3f}) → "
            + ("covers both weaknesses" if all(ok) else "not shown to cover both")
        )
    return (
        "*Exploratory reading* (each split against the uniform assignment that is best on "
        "that cost by construction): " + "; ".join(out) + "."
        if out
        else "*No split could be scored on both costs.*"
    )


def timescale_sensitivity(by_tau: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """:func:`timescale_comparisons` at each fast time constant (``by_tau`` {tau_fast (ms):
    results}): one row per tau_fast and comparison with its verdict and interval."""
    rows = []
    for tau, res in sorted(by_tau.items()):
        for c in timescale_comparisons(res, criterion):
            rows.append(
                {
                    "tau_fast_ms": tau,
                    "cost": c.rule.measure,
                    "comparison": c.label,
                    "mean": c.mean,
                    "lo95": c.ci95[0],
                    "hi95": c.ci95[1],
                    "p_holm": c.p_holm,
                    "verdict": c.verdict,
                }
            )
    return pd.DataFrame(rows)


def timescale_sensitivity_text(sens: pd.DataFrame, tau_main: float) -> str:
    """How many of the separate-cost comparisons keep their verdict at every tau_fast."""
    if sens.empty:
        return "*No fast time constant could be scored.*"
    main = sens[sens.tau_fast_ms == tau_main].set_index(["cost", "comparison"])["verdict"]
    other = sens[sens.tau_fast_ms != tau_main]
    same = sum(main.get((r.cost, r.comparison)) == r.verdict for r in other.itertuples())
    taus = ", ".join(f"{t:g}" for t in sorted(set(other.tau_fast_ms)))
    counts = sens.groupby("tau_fast_ms")["verdict"].value_counts().unstack(fill_value=0)
    per = "; ".join(
        f"{t:g} ms: " + ", ".join(f"{v} {int(k)}" for v, k in row.items() if k)
        for t, row in counts.iterrows()
    )
    return (
        f"**Specification check (tau_fast).** At tau_fast = {taus} ms, {same} of "
        f"{len(other)} comparisons keep the verdict they have at {tau_main:g} ms. Verdicts "
        f"per tau_fast: {per}."
    )


def cost_table(results: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """The two tested costs (:data:`COSTS`) per network and assignment: one row per (``label``,
    ``seed``, ``assignment``) with ``pairs`` (conflict pairs the network learned) and each cost
    (``switch``, ``error_total``; in units of performance, the error cost summed over
    1 + :data:`ERROR_WINDOW` trials) as the mean over those pairs of :func:`pair_costs`; nan
    where the network learned none. Within a network every assignment runs on the same pairs
    (what a network learned does not depend on the assignment), so its rows pair over seeds."""
    rows = []
    for (label, seed), res in sorted(results.items()):
        n_pairs = int(learned_pairs(res, criterion).sum())
        for a in res["assignments"]:
            costs = pair_costs(res, a, criterion)
            rows.append(
                {"label": label, "seed": int(seed), "assignment": a, "pairs": n_pairs}
                | {m: _mean(costs[m][np.isfinite(costs[m])]) for m in COSTS}
            )
    return pd.DataFrame(rows, columns=["label", "seed", "assignment", "pairs", *COSTS])


def cost_text(costs: pd.DataFrame, labels) -> str:
    """Under the figure of the two costs: per network, the assignment with the lowest mean
    switch cost and the one with the lowest mean error cost (mean ± 95% t interval over seeds),
    and whether one assignment is cheapest on both. ``costs``: :func:`cost_table`."""
    out = []
    for lab in labels:
        g = costs[costs.label == lab] if len(costs) else costs
        if g.empty or g[list(COSTS)].isna().all().all():
            continue
        best = {}
        for m in COSTS:
            means = g.groupby("assignment", sort=False)[m].mean().dropna()
            if means.empty:
                continue
            a = str(means.idxmin())
            mean, half = mean_ci(g.loc[g.assignment == a, m].to_numpy(float))
            best[m] = (a, fmt(round(float(mean), 2) + 0.0, float(half)))  # no "-0.00"
        if set(best) != set(COSTS):
            continue
        (a_sw, v_sw), (a_er, v_er) = best["switch"], best["error_total"]
        both = (
            f"the same assignment, {ASSIGNMENT_NAMES[a_sw]}, is cheapest on both"
            if a_sw == a_er
            else "no assignment is cheapest on both"
        )
        out.append(
            f"`{lab}`: lowest switch cost under {ASSIGNMENT_NAMES[a_sw]} ({v_sw}), lowest "
            f"error cost under {ASSIGNMENT_NAMES[a_er]} ({v_er}); {both}"
        )
    if not out:
        return "No network learned both tasks of a conflict pair: no cost is measured."
    return (
        "Mean ± 95% t interval over seeds of each network's cheapest assignment on each cost "
        "(descriptive; the tests follow): " + ". ".join(out) + "."
    )


__all__ += [
    "cost_table",
    "cost_text",
    "COSTS",
    "COST_SESOI",
    "COST_RULES",
    "pair_costs",
    "cost_values",
    "timescale_comparisons",
    "timescale_reading",
    "timescale_sensitivity",
    "timescale_sensitivity_text",
]


# ------------------------------------------------------- trained under the filter (issue 19)

_SEEN_TRAINED = (
    "Written before any cost of a filter-trained network had been seen (issue 19; only the "
    "smoke networks had been probed, and they learn no conflict pair, so they score nothing), "
    "after E5's costs of the instant-trained networks had been seen; the SESOI is the one of "
    "the separate-cost rules (COST_SESOI); exploratory."
)

TRAINED_RULES: dict[str, Rule] = _cost_rules(
    "trained_under", _RECOVERED + ", as for the separate-cost rules", _SEEN_TRAINED
)
"""One exploratory rule per cost: a network trained under a filter against E1's instant-trained
network of the same label and seed (the control), both tested under that filter."""

NOT_TRAINED = "not trained yet"
"""The note of a comparison whose filter-trained network has no artifact."""


def _not_tested(rule: Rule, a: str, b: str, note: str, spec: dict) -> Comparison:
    return Comparison(
        rule=rule,
        a=a,
        b=b,
        units=[],
        n_units=0,
        n_seeds=0,
        diffs={},
        verdict="not tested",
        note=note,
        spec=spec,
    )


def trained_under_comparisons(
    trained: dict, control: dict, labels=None, criterion: float = CRITERION
) -> list[Comparison]:
    """Filter-trained minus instant-trained, per (label, assignment) of
    :data:`lib.experiments.timescales.TRAINED_UNDER` and per cost (:data:`COSTS`, each its own
    Holm family, :data:`TRAINED_RULES`): the seed x pair costs of the network of ``label`` trained
    under ``assignment`` (``trained`` {(trained label, seed): probe results}, probed under that
    assignment) against those of E1's instant-trained network of ``label`` under the same
    assignment (``control`` {(label, seed): probe results}), paired over seeds on the conflict
    pairs both learned in every seed (:func:`lib.analysis.verdicts.compare`; a seed of either
    network that learned none has no unit), decided. ``labels``: the E1 labels compared (default
    every one ``control`` has). A (label, assignment) with no filter-trained network is "not
    tested" with the note :data:`NOT_TRAINED`; one the control was not probed under, "not
    tested" too. Each comparison's ``spec`` holds ``label``, ``assignment`` and the mean cost of
    each side over the paired seeds (``cost_trained``, ``cost_control``)."""
    have_control = {lab for lab, _ in control}
    labels = [l for l in TRAINED_UNDER if l in (have_control if labels is None else labels)]
    out = []
    for m in COSTS:
        rule = TRAINED_RULES[m]
        for lab in labels:
            for a in TRAINED_UNDER[lab]:
                t_lab = trained_label(lab, a)
                names = (f"{lab} trained {ASSIGNMENT_NAMES[a]}", f"{lab} trained instant")
                spec = {"label": lab, "assignment": a}
                if not any(k[0] == t_lab for k in trained):
                    out.append(_not_tested(rule, *names, NOT_TRAINED, spec))
                    continue
                ctl = {k: r for k, r in control.items() if k[0] == lab}
                if not ctl or any(a not in r["assignments"] for r in ctl.values()):
                    out.append(_not_tested(rule, *names, f"control not probed under {a}", spec))
                    continue
                va = cost_values(trained, t_lab, a, m, criterion)
                vb = cost_values(control, lab, a, m, criterion)
                c = compare(va, vb, rule, *names)
                seeds = list(c.diffs)
                xa = va.loc[seeds, c.units].mean(axis=1) if c.units else pd.Series(dtype=float)
                xb = vb.loc[seeds, c.units].mean(axis=1) if c.units else pd.Series(dtype=float)
                c.spec = spec | {
                    "cost_trained": _mean(xa),
                    "cost_control": _mean(xb),
                    "seed_costs": {s: (float(xa[s]), float(xb[s])) for s in seeds},
                }
                out.append(c)
    return decide(out)


def trained_under_table(comparisons: list[Comparison]) -> pd.DataFrame:
    """One row per (comparison, seed) of :func:`trained_under_comparisons` that was scored:
    ``label``, ``assignment``, ``cost`` (a :data:`COSTS` key), ``seed``, ``trained`` and
    ``control`` (the seed's cost, mean over the comparison's pairs) and ``verdict``; the
    figure's input."""
    rows = []
    for c in comparisons:
        m = next(k for k, r in TRAINED_RULES.items() if r is c.rule)
        for seed, (t, b) in c.spec.get("seed_costs", {}).items():
            rows.append(
                {
                    "label": c.spec["label"],
                    "assignment": c.spec["assignment"],
                    "cost": m,
                    "seed": int(seed),
                    "trained": t,
                    "control": b,
                    "verdict": c.verdict,
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "assignment", "cost", "seed", "trained", "control", "verdict"]
    )


def _trained_reading(c: Comparison) -> str:
    """What one decided comparison says about the cost test-time filtering imposes."""
    if c.verdict == "differ" and c.mean < 0:
        if abs(c.spec["cost_trained"]) < c.rule.sesoi:
            return "training under the filter removes the cost"
        return "training under the filter lowers the cost but does not remove it"
    if c.verdict == "differ":
        return "training under the filter raises the cost"
    if c.verdict == "equivalent":
        return "the cost is the same either way: not an artifact of the untrained condition"
    return "undecided"


def trained_under_text(comparisons: list[Comparison]) -> str:
    """The answer, every number from ``comparisons`` (:func:`trained_under_comparisons`): does
    training under the filter remove the cost that test-time filtering imposes on an
    instant-trained network? Per cost and (label, assignment): each side's mean cost, the
    difference with its interval and verdict, and the reading; then the count of each reading
    and, where the exact floor makes a family undecidable with its seeds, that
    (:func:`lib.analysis.verdicts.floor_text`)."""
    if not comparisons:
        return "*No filter-trained network to compare.*"
    missing = [c for c in comparisons if c.note == NOT_TRAINED]
    lines, readings = [], {}
    for c in comparisons:
        if c.note == NOT_TRAINED:
            continue
        if not c.tested:
            lines.append(f"- {c.text()}")
            continue
        reading = _trained_reading(c)
        readings[reading] = readings.get(reading, 0) + 1
        lines.append(
            f"- {c.rule.measure}, `{c.spec['label']}` under "
            f"{ASSIGNMENT_NAMES[c.spec['assignment']]}: filter-trained "
            f"{c.spec['cost_trained']:.3f}, instant-trained {c.spec['cost_control']:.3f}; "
            f"{c.text()}: {reading}"
        )
    head = (
        "**Does training under the filter remove the cost that filtering imposes at test "
        "time?** Each network trained under a filter against E1's instant-trained network of "
        "the same seed, both tested under that filter on the same sequences (mean cost over "
        "the paired seeds, reference − performance):"
    )
    tested = sum(readings.values())
    if tested:
        tail = (
            f"Of {tested} scored comparisons: "
            + ", ".join(f"{k} in {n}" for k, n in readings.items())
            + "."
        )
    else:
        tail = (
            "No comparison could be scored (no conflict pair learned in every seed of both "
            "networks), so the question stays open."
        )
    floor = floor_text(comparisons)
    if floor:
        tail += f" {floor}"
    if missing:
        tail += (
            f" {len(missing)} of {len(comparisons)} comparisons wait for networks not trained yet."
        )
    return "\n".join([head, "", *lines, "", tail])


def trained_under_missing_text(n_have: int, n_need: int, command: str) -> str:
    """The section's one line where the filter-trained networks are not all shipped (``n_have``
    of ``n_need``; ``command`` trains them)."""
    if n_need == 0:
        return (
            "*Trained under the filter: none of this run's networks has a filter-trained "
            "version (the hybrid, `exc` and `syn_lowrank_r1` do).*"
        )
    return (
        f"*Trained under the filter: {n_have} of the {n_need} filter-trained networks of this "
        f"profile are trained; the comparison waits for all of them (not trained yet). Train "
        f"them with `{command}`.*"
    )


__all__ += [
    "TRAINED_RULES",
    "NOT_TRAINED",
    "trained_under_comparisons",
    "trained_under_table",
    "trained_under_text",
    "trained_under_missing_text",
]
