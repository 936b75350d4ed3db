"""Synergy, measured (claim C5): does the hybrid beat *both* of its parts on the same measure?
And C5's claim-level verdict.

Every comparison goes through the verdict engine (:mod:`lib.analysis.verdicts`): paired over
seeds (every network of a seed starts from the same shared weights), on the units both sides
measured in every seed, exact sign-flip p, TOST against the measure's SESOI, Holm within the
measure's family. Measures (:data:`SYNERGY_RULES`):

* **robustness** (E2 mixture AUC per ordered task pair, higher is better): the hybrid against
  ``exc``, ``syn_lowrank_r1`` (its parts, 2N per task each) and ``syn_lowrank_r2`` (one
  pathway at the hybrid's 4N budget);
* **switch cost** and **error cost** (E5, lower is better, each on its own): each split
  assignment of the hybrid against each part at the time-scale its pathway has in the split
  (:data:`SPLIT_PARTS`);
* **capacity** (E3 joint training, higher is better): the hybrid's capacity against each part's,
  each seed averaged over the network sizes N both were tested at;
* **new-task performance** (E5 learning): both pathways' rows against each single route.

The hybrid is **synergistic on a measure** if it differs from every part in the better direction
(:func:`measure_synergy`). Learning speed's synergy is in :mod:`lib.analysis.learning`. Only
capacity's and learning's rules were fixed before their data; C5's verdict
(:data:`C5_CLAIM_RULE`, :func:`c5_claim`) uses those alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis import timescales as timescales_analysis
from lib.analysis.dynamics import power_text
from lib.analysis.learning import (
    LEARNING_RULES,
    SPEED_SESOI_TRIALS as SPEED_SESOI,
    children,
    learning_comparisons,
    learning_parts,
    restricted_times,
)
from lib.analysis.packing import capacity
from lib.analysis.verdicts import (
    Comparison,
    Rule,
    common_units,
    compare,
    decide,
    format_p,
    register,
    with_rule,
)
from lib.experiments import ambiguity
from lib.experiments.timescales import ASSIGNMENT_NAMES

PARTS_E2 = ("exc", "syn_lowrank_r1", "syn_lowrank_r2")
"""E2's comparators of the hybrid: its two parts and the single pathway at its budget."""
PARTS_E5 = ("exc", "syn_lowrank_r1")
"""E5's and E3's comparators of the hybrid: its two parts (E3 has no ``syn_lowrank_r2``)."""
C5_OVERALL_RULE = (
    "C5 says the pathways are complementary and synergistic, possibly on different time-scales. "
    "Its parts: (a) **synergy** — the hybrid beats every one of its parts on at least one "
    "measure (robustness, switch + error cost, learning a new task, capacity; each measure its "
    "own Holm family); (b) **time-scales** — the time-scale verdict (C5_RULE) is synergistic, "
    "or the pathways learn a new task at two speeds. **Supported** if (a) holds and (b) holds "
    "in the strong sense (a synergistic time-scale verdict, or two learning speeds with both "
    "rows together faster than either); **partly supported** if anything weaker holds (the "
    "hybrid beats some parts on some measure, a partly synergistic time-scale verdict, or two "
    "learning speeds); **not supported** if nothing does; **not tested** if no part could be "
    "scored. Written after the time-scale verdict and the E2 comparisons were known, before the "
    "learning networks were trained."
)
"""Retired (version 1 of C5's claim rule, kept as the record the chapter cites): written after
results had been seen; superseded by :data:`C5_CLAIM_RULE`."""


__all__ = ["PARTS_E2", "PARTS_E5", "C5_OVERALL_RULE"]


# ------------------------------------------------------------------ by the verdict engine

SPLIT_PARTS = {
    "exc_fast_syn_slow": {"exc": "both_fast", "syn_lowrank_r1": "both_slow"},
    "exc_slow_syn_fast": {"exc": "both_slow", "syn_lowrank_r1": "both_fast"},
}
"""Each split assignment of the hybrid and the time course it gives each part's pathway: the
hybrid under a split is compared with each part running at the same time-scale as its own
pathway has in the hybrid."""

AUC_SESOI = 0.02
"""SESOI of a mixture-AUC difference: a fiftieth of the scale (AUC relative to clean
performance, 1 = no loss)."""

_SEEN_EXPLORATORY = (
    "Written after the single parts' robustness and switch costs had been "
    "seen (chapters 04 and 07); exploratory. Version 1 of this engine rule "
    "(issue 18): hybrid against each part on common units."
)

SYNERGY_RULES: dict[str, Rule] = {
    "robustness": register(
        Rule(
            name="C5.synergy.robustness",
            claim="C5",
            version=1,
            family="C5.synergy.robustness",
            measure="mixture AUC (relative to clean)",
            unit="ordered pair",
            higher_is_better=True,
            sesoi=AUC_SESOI,
            sesoi_reason="a fiftieth of the AUC's scale (1 = no loss under "
            "mixing): smaller differences are within the probe's trial noise",
            preregistered=False,
            seen=_SEEN_EXPLORATORY,
        )
    ),
    **{
        m: register(
            Rule(
                name=f"C5.synergy.{m}",
                claim="C5",
                version=1,
                family=f"C5.synergy.{m}",
                measure=timescales_analysis.COSTS[m].split(":")[0],
                unit="pair",
                higher_is_better=False,
                sesoi=timescales_analysis.COST_SESOI,
                sesoi_reason="the cost the book treats as recovered (0.05)",
                preregistered=False,
                seen=_SEEN_EXPLORATORY,
            )
        )
        for m in timescales_analysis.COSTS
    },
    "capacity": register(
        Rule(
            name="C5.synergy.capacity",
            claim="C5",
            version=2,
            family="C5.synergy.capacity",
            measure="capacity (largest K with every task at criterion, joint training)",
            unit="N",
            higher_is_better=True,
            sesoi=1.0,
            sesoi_reason="one task: capacity is an integer number of tasks",
            preregistered=True,
            seen="Written before any result of the hybrid's packing networks was seen (v1); v2 "
            "(issue 18): common N, exact sign-flip p.",
        )
    ),
    "new_perf": register(
        Rule(
            name="C5.synergy.new_perf",
            claim="C5",
            version=1,
            family="C5.synergy.new_perf",
            measure="final performance on the new task",
            unit="new task",
            higher_is_better=True,
            sesoi=0.05,
            sesoi_reason="one trial in twenty (0.05 of performance)",
            preregistered=False,
            seen="Written after the quick learning results were seen.",
        )
    ),
}
"""Synergy: the hybrid against each of its parts, one rule (and Holm family) per measure."""


def auc_values(probes: dict, label: str, criterion: float = 0.9) -> pd.DataFrame:
    """(seeds x ordered task pairs) mixture AUC of ``label`` (E2's robustness), nan where the
    dominant task was not learned."""
    rows, cols = {}, None
    for (lab, seed), res in sorted(probes.items()):
        if lab != label:
            continue
        labels, _, _ = ambiguity.ordered_curves(res)
        cols = [f"{a} > {b}" for a, b in labels]
        rows[int(seed)] = ambiguity.robustness(res, criterion)["auc"]
    if cols is None:
        return pd.DataFrame(dtype=float)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out.index.name = "seed"
    return out


def capacity_values(packing_table: pd.DataFrame, variant: str) -> pd.DataFrame:
    """(seeds x N) capacity of ``variant`` in E3's joint training (trained backbone), nan at an
    N where the cell is not tested (not even the smallest task set learned)."""
    cap = capacity(packing_table).arm("trained")
    per, summ = cap.per_seed, cap.summary
    g = per[per.variant == variant]
    if g.empty:
        return pd.DataFrame(dtype=float)
    out = g.pivot_table(index="seed", columns="N", values="capacity", aggfunc="first").astype(float)
    tested = {int(n) for v, n, t in zip(summ.variant, summ.N, summ.tested) if t and v == variant}
    for n in out.columns:
        if int(n) not in tested:
            out[n] = np.nan
    out.columns = [f"N = {int(n)}" for n in out.columns]
    out.index.name = "seed"
    return out


def synergy_comparisons(
    probes: dict | None,
    results: dict | None,
    learn_table: pd.DataFrame | None,
    packing_table: pd.DataFrame | None,
) -> list[Comparison]:
    """The hybrid against each part, on each measure, decided (Holm within each measure's
    family): robustness (E2, against ``exc``, ``syn_lowrank_r1``, ``syn_lowrank_r2``), the switch
    and the error cost (E5 probes ``results`` of the main tau_fast: each split against each part
    at the time course its pathway has in the split, :data:`SPLIT_PARTS`), capacity (E3, per
    N) and new-task performance (both rows against each single route). Learning speed's synergy
    is in :func:`lib.analysis.learning.learning_comparisons`. A measure whose data is None is
    left out."""
    out = []
    if probes:
        hyb = auc_values(probes, "hybrid")
        for part in PARTS_E2:
            if any(k[0] == part for k in probes) and not hyb.empty:
                out.append(
                    compare(
                        hyb, auc_values(probes, part), SYNERGY_RULES["robustness"], "hybrid", part
                    )
                )
    if results:
        have = (
            set().union(
                *(set(r["assignments"]) for (lab, _), r in results.items() if lab == "hybrid")
            )
            if any(k[0] == "hybrid" for k in results)
            else set()
        )
        for m in timescales_analysis.COSTS:
            for split, parts in SPLIT_PARTS.items():
                if split not in have:
                    continue
                for part, course in parts.items():
                    if not any(k[0] == part for k in results):
                        continue
                    out.append(
                        compare(
                            timescales_analysis.cost_values(results, "hybrid", split, m),
                            timescales_analysis.cost_values(results, part, course, m),
                            SYNERGY_RULES[m],
                            f"hybrid, {ASSIGNMENT_NAMES[split]}",
                            f"{part}, {ASSIGNMENT_NAMES[course]}",
                        )
                    )
    if packing_table is not None and "hybrid" in set(packing_table.variant):
        out += capacity_comparisons(
            {v: capacity_values(packing_table, v) for v in ("hybrid", *PARTS_E5)}
        )
    if learn_table is not None:
        kids = children(learn_table)
        if {"both", "exc", "syn"} <= set(kids.route):
            for part in ("exc", "syn"):
                out.append(
                    compare(
                        _route_values(kids, "both"),
                        _route_values(kids, part),
                        SYNERGY_RULES["new_perf"],
                        "both",
                        part,
                    )
                )
    return decide(out)


def capacity_comparisons(
    caps: dict[str, pd.DataFrame], seeds=None, largest: bool = False
) -> list[Comparison]:
    """The hybrid's capacity against each part's (:data:`PARTS_E5`), undecided: ``caps``
    {variant: :func:`capacity_values`}; ``seeds`` keeps those rows (None: all); ``largest``
    compares on the largest N both were tested at only (the specification check)."""
    hyb = caps.get("hybrid", pd.DataFrame())
    out = []
    for part in PARTS_E5:
        other = caps.get(part, pd.DataFrame())
        if hyb.empty or other.empty:
            continue
        a, b = (
            (hyb, other)
            if seeds is None
            else (hyb[hyb.index.isin(seeds)], other[other.index.isin(seeds)])
        )
        if largest:
            common = common_units(a, b)
            if common:
                last = max(common, key=lambda u: int(str(u).split("= ")[1]))
                a, b = a[[last]], b[[last]]
        out.append(compare(a, b, SYNERGY_RULES["capacity"], "hybrid", part))
    return out


def _route_values(kids: pd.DataFrame, route: str) -> pd.DataFrame:
    g = kids[kids.route == route]
    return pd.DataFrame(
        {"new task": g.new_perf.astype(float).to_numpy()},
        index=pd.Index(g.seed.astype(int), name="seed"),
    )


SYNERGY_VERDICTS = ("synergistic", "not synergistic", "inconclusive", "not tested")


def measure_synergy(comparisons: list[Comparison]) -> dict[str, str]:
    """Per rule (measure): **synergistic** if, for one condition of the hybrid (a split, for the
    costs), it differs from *every* part in the better direction; **not synergistic** if for
    every condition some part is equivalent to it or better (differ in the other direction);
    **inconclusive** otherwise; **not tested** when nothing was scored."""
    out = {}
    for name in dict.fromkeys(c.rule.name for c in comparisons):
        cs = [c for c in comparisons if c.rule.name == name and c.tested]
        if not cs:
            out[name] = "not tested"
            continue
        sign = 1 if cs[0].rule.higher_is_better else -1
        groups: dict[str, list[Comparison]] = {}
        for c in cs:
            groups.setdefault(c.a, []).append(c)
        wins = [
            all(c.verdict == "differ" and sign * c.mean > 0 for c in g) for g in groups.values()
        ]
        losses = [
            any(
                c.verdict == "equivalent" or (c.verdict == "differ" and sign * c.mean < 0)
                for c in g
            )
            for g in groups.values()
        ]
        out[name] = (
            "synergistic" if any(wins) else "not synergistic" if all(losses) else "inconclusive"
        )
    return out


def synergy_text(comparisons: list[Comparison]) -> str:
    """Per measure: its verdict and every comparison (interval, Holm p, composition)."""
    if not comparisons:
        return "*No synergy comparison could be scored.*"
    verdicts = measure_synergy(comparisons)
    lines = []
    for name, v in verdicts.items():
        cs = [c for c in comparisons if c.rule.name == name]
        tag = " (exploratory)" if cs[0].rule.exploratory else " (pre-registered)"
        lines.append(
            f"- **{cs[0].rule.measure}**{tag}: **{v}**. "
            + "; ".join(
                c.text().split(f" ({c.rule.measure})", 1)[0]
                + c.text().split(f" ({c.rule.measure})", 1)[1]
                for c in cs
            )
        )
    return "\n".join(lines)


C5_CLAIM_RULE = (
    "Version 2 (issue 18; replaces C5_OVERALL_RULE, which was written after results had been "
    "seen). Only comparisons whose rules were fixed before their data decide: learning a new "
    "task (RMST, exact sign-flip, Holm over the learning family: two speeds if exc − syn "
    "differs; synergy in learning if both rows differ from *each* single route, faster) and "
    "capacity (the hybrid against each part, each seed's capacity averaged over the network "
    "sizes N where both were tested; synergy if it beats both). "
    "**Supported**: synergy on one of these measures and two learning speeds. **Partly "
    "supported**: one of the two. **Not supported**: the speeds are equivalent and neither "
    "measure shows synergy with every comparison scored (each not synergistic). **Inconclusive**: "
    "otherwise. **Not tested**: nothing scored. The separate switch and error costs, robustness "
    "and new-task performance are exploratory (their rules were written after the data were "
    "seen): reported, never deciding."
)
"""How C5's pre-registered parts make its verdict; :func:`c5_claim` applies it."""


def c5_claim(learning: list[Comparison], synergy: list[Comparison]) -> dict:
    """C5 by :data:`C5_CLAIM_RULE` from the decided learning comparisons
    (:func:`lib.analysis.learning.learning_comparisons`) and synergy comparisons
    (:func:`synergy_comparisons`): ``verdict``, ``speeds``, ``learning_synergy``,
    ``capacity``."""
    parts = learning_parts(learning)
    cap = measure_synergy([c for c in synergy if c.rule is SYNERGY_RULES["capacity"]]).get(
        SYNERGY_RULES["capacity"].name, "not tested"
    )
    speeds, lsyn = parts["speeds"], parts["synergy"]
    two = speeds in ("exc faster", "syn faster")
    syn = lsyn == "both faster than either" or cap == "synergistic"
    if speeds == "not tested" and lsyn == "not tested" and cap == "not tested":
        verdict = "not tested"
    elif two and syn:
        verdict = "supported"
    elif two or syn:
        verdict = "partly supported"
    elif speeds == "same speed" and lsyn == "not faster than both" and cap == "not synergistic":
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    return {"verdict": verdict, "speeds": speeds, "learning_synergy": lsyn, "capacity": cap}


def c5_comparisons(
    learn_table: pd.DataFrame | None,
    packing_table: pd.DataFrame | None,
    probes: dict | None = None,
    results: dict | None = None,
) -> list[Comparison]:
    """C5's comparisons for the results page's forest plot, decided: the deciding ones
    (learning: RMST and interference; capacity synergy) first, then, when ``probes`` /
    ``results`` are given, the exploratory ones (robustness, the separate costs, new-task
    performance; their rules say exploratory)."""
    learn = learning_comparisons(learn_table) if learn_table is not None else []
    syn = synergy_comparisons(probes, results, learn_table, packing_table)
    return learn + syn


def c5_verdict(
    learn_table: pd.DataFrame | None,
    packing_table: pd.DataFrame | None,
    probes: dict | None = None,
    results: dict | None = None,
) -> dict:
    """C5 by :data:`C5_CLAIM_RULE`: :func:`c5_claim`'s dict plus ``learning`` and ``synergy``
    (the decided comparisons) and ``timescales`` (the exploratory separate costs of the
    hybrid's splits, :func:`lib.analysis.timescales.timescale_comparisons`, when ``results``)."""
    learn = learning_comparisons(learn_table) if learn_table is not None else []
    syn = synergy_comparisons(probes, results, learn_table, packing_table)
    ts = timescales_analysis.timescale_comparisons(results) if results else []
    return {**c5_claim(learn, syn), "learning": learn, "synergy": syn, "timescales": ts}


def c5_text(v: dict) -> str:
    """C5's verdict in words: the rule's outcome and the state of each deciding part."""
    return (
        f"**Verdict on C5: {v['verdict']}** (claim rule v2). Deciding, pre-registered: "
        f"learning speeds **{v['speeds']}**; synergy in learning (both rows faster than "
        f"each single route) **{v['learning_synergy']}**; synergy in capacity "
        f"**{v['capacity']}**. Exploratory, not deciding: "
        + "; ".join(
            f"{SYNERGY_RULES_BY_NAME[n].measure} {w}"
            for n, w in measure_synergy(v["synergy"]).items()
            if not SYNERGY_RULES_BY_NAME[n].preregistered
        )
        + f".\n\n*Rule.* {C5_CLAIM_RULE}"
    )


def c5_summary_text(v: dict) -> str:
    """At most about 60 words for the results table."""
    sp = next(
        (
            c
            for c in v["learning"]
            if c.rule is LEARNING_RULES["speed"] and (c.a, c.b) == ("exc", "syn")
        ),
        None,
    )
    num = (
        f"RMST exc − syn {sp.mean:+,.0f} trials [{sp.ci95[0]:+,.0f}, {sp.ci95[1]:+,.0f}], "
        f"Holm {format_p(sp.p_holm, sp.n_seeds)}"
        if sp is not None and sp.tested
        else "learning speed not tested"
    )
    return (
        f"{v['verdict'].capitalize()}. Pre-registered parts: learning speeds "
        f"{v['speeds']} ({num}); synergy in learning {v['learning_synergy']}, in capacity "
        f"{v['capacity']}. Switch and error costs are tested separately (exploratory)."
    )


SYNERGY_RULES_BY_NAME = {r.name: r for r in SYNERGY_RULES.values()}

__all__ += [
    "SPLIT_PARTS",
    "AUC_SESOI",
    "SYNERGY_RULES",
    "auc_values",
    "capacity_values",
    "synergy_comparisons",
    "SYNERGY_VERDICTS",
    "measure_synergy",
    "synergy_text",
    "C5_CLAIM_RULE",
    "c5_claim",
    "c5_comparisons",
    "c5_verdict",
    "c5_text",
    "c5_summary_text",
]


SPEED_SCALES = ("trials", "log2 trials")
"""The scales of the restricted time to criterion in C5's specification check: trials (the
RMST, main) or log2 trials (the scale of the pre-registered v1 test: a ratio of speeds)."""


def _log2_learning(learn_table: pd.DataFrame) -> pd.DataFrame:
    """``learn_table`` with trials to criterion and the budget on a log2 scale (for the
    restricted-time comparisons: min(log2 T, log2 budget) = log2 min(T, budget))."""
    t = learn_table.copy()
    for col in ("trials_to_criterion", "budget_trials"):
        if col in t:
            t[col] = np.log2(t[col].astype(float))
    return t


def c5_multiverse(learn_table: pd.DataFrame, packing_table: pd.DataFrame | None) -> pd.DataFrame:
    """C5's verdict (:func:`c5_claim`) under every defensible alternative of its deciding parts:
    the speed scale (:data:`SPEED_SCALES`), the seeds (all; the first half; the second half;
    each one left out) and capacity's network sizes (averaged over every N tested, or only the
    largest). One row per specification: the choices, ``main`` and ``verdict``. On the log2
    scale the SESOI is one evaluation interval at half the budget, in log2 units."""
    seeds = sorted(int(s) for s in learn_table.loc[learn_table.route == "parent", "seed"])
    half = len(seeds) // 2
    subsets = {
        "all": seeds,
        "first half": seeds[:half],
        "second half": seeds[half:],
        **{f"without seed {s}": [x for x in seeds if x != s] for s in seeds},
    }
    caps = (
        {v: capacity_values(packing_table, v) for v in ("hybrid", *PARTS_E5)}
        if packing_table is not None and "hybrid" in set(packing_table.variant)
        else {}
    )
    rows = []
    for scale in SPEED_SCALES:
        for sname, keep in subsets.items():
            lt = learn_table[learn_table.seed.isin(keep)]
            if scale == "log2 trials":
                lt = _log2_learning(lt)
                budgets = lt.budget_trials.dropna()
                budget = float(2 ** budgets.max()) if len(budgets) else 1.0
                rule = with_rule(
                    LEARNING_RULES["speed"],
                    measure="restricted log2 trials to criterion",
                    sesoi=float(np.log2(budget / 2 + SPEED_SESOI) - np.log2(budget / 2)),
                )
                learn = _learning_with_rule(lt, rule)
            else:
                learn = learning_comparisons(lt)
            for nname in ("every N", "largest N"):
                syn = decide(capacity_comparisons(caps, keep, nname == "largest N"))
                rows.append(
                    {
                        "speed scale": scale,
                        "seeds": sname,
                        "capacity N": nname,
                        "verdict": c5_claim(learn, syn)["verdict"],
                        "main": (scale, sname, nname) == (SPEED_SCALES[0], "all", "every N"),
                    }
                )
    return pd.DataFrame(rows)


def _learning_with_rule(learn_table: pd.DataFrame, rule: Rule) -> list[Comparison]:
    """:func:`lib.analysis.learning.learning_comparisons` with the speed comparisons under
    ``rule`` (another scale's SESOI)."""
    comps = learning_comparisons(learn_table)
    kids = children(learn_table)
    out = []
    for c in comps:
        if c.rule is LEARNING_RULES["speed"]:
            out.append(
                compare(restricted_times(kids, c.a), restricted_times(kids, c.b), rule, c.a, c.b)
            )
        else:
            c.verdict = None if c.verdict != "not tested" else c.verdict
            out.append(c)
    return decide(out)


def c5_multiverse_text(mv: pd.DataFrame) -> str:
    """How many specifications agree with the main verdict."""
    if mv.empty:
        return "*No specification could be scored.*"
    main = mv.loc[mv["main"], "verdict"].iloc[0]
    counts = mv["verdict"].value_counts()
    decided = counts.index.isin(["supported", "partly supported", "not supported"]).any()
    return (
        f"**Specification check.** Of {len(mv)} specifications (speed on the scale of "
        f"{' or '.join(SPEED_SCALES)}; all seeds, half of them, or each seed left out; "
        f"capacity over every N or the largest), {int((mv.verdict == main).sum())} give the "
        f"main verdict (*{main}*); all verdicts: "
        + ", ".join(f"{v} {k}" for v, k in counts.items())
        + "."
        + (
            ""
            if decided
            else " No specification reaches a decided verdict: the agreement "
            "restates what the seeds can detect, not a robust finding."
        )
    )


def c5_power_text(v: dict) -> str:
    """The power statement of C5's deciding families (learning, capacity), from
    :func:`lib.analysis.dynamics.power_text` applied per family."""
    lines = []
    for fam in ("C5.learning", "C5.synergy.capacity"):
        cs = [c for c in [*v["learning"], *v["synergy"]] if c.rule.family == fam and c.tested]
        if not cs:
            continue
        need = pd.Series([c.power_seeds(len(cs)) for c in cs], dtype=float).dropna()
        lines.append(
            f"*{fam}* ({len(cs)} comparisons): "
            + power_text(min(c.n_seeds for c in cs), len(cs), need).replace("**Power.** ", "")
        )
    return ("**Power.** " + " ".join(lines)) if lines else ""


__all__ += [
    "SPEED_SCALES",
    "capacity_comparisons",
    "c5_multiverse",
    "c5_multiverse_text",
    "c5_power_text",
]
