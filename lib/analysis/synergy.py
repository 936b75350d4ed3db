"""Synergy, measured (claim C5): does the hybrid beat each of its parts, on every measure the book
has? One family of paired comparisons per measure, each Holm-corrected on its own:

* **robustness** (E2, mixture AUC, higher is better): the hybrid against ``exc`` and
  ``syn_lowrank_r1`` (its two parts, 2N per task each) and ``syn_lowrank_r2`` (a single pathway
  at the hybrid's own budget, 4N per task: the matched-budget control);
* **switch and error cost** (E5, combined cost, lower is better): the hybrid under its reported
  split time-scales against each part under both of its uniform time courses (fast, slow);
* **learning a new task** (E5, log2 trials to criterion, lower is better): the hybrid's both
  pathways' rows against the faster of its single-pathway routes (:mod:`lib.analysis.learning`);
* **capacity** (E3, joint training P1, higher is better): at each N, the hybrid's capacity
  (:func:`lib.experiments.packing.hybrid_packing_spec`) against ``exc`` and ``syn_lowrank_r1``
  (its parts, from E3's grid); an exact sign-flip p is given beside each t test, since
  capacities are small integers.

Comparisons are paired over seeds (every network of a seed starts from the same shared weights).
The hybrid is **synergistic on a measure** if it is better than every part (Holm p < alpha, in
the better direction); **better than some** if it beats at least one; **not better** otherwise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis import timescales as E5
from lib.analysis.claims import paired_auc
from lib.analysis.learning import (LEARNING_RULES, children, learning_comparisons,
                                   learning_parts, learning_tests)
from lib.analysis.packing import capacity
from lib.analysis.stats import holm, paired
from lib.analysis.timescales import seed_values
from lib.analysis.verdicts import Comparison, Rule, compare, decide, format_p, register
from lib.experiments import ambiguity
from lib.experiments.timescales import ASSIGNMENT_NAMES

ALPHA = 0.05
PARTS_E2 = ("exc", "syn_lowrank_r1", "syn_lowrank_r2")
"""E2's comparators of the hybrid: its two parts and the single pathway at its budget."""
PARTS_E5 = ("exc", "syn_lowrank_r1")
"""E5's and E3's comparators of the hybrid: its two parts (E3 has no ``syn_lowrank_r2``)."""
PART_ASSIGNMENTS = ("both_fast", "both_slow")

MEASURE_NAMES = {"robustness": "robustness to ambiguous context (E2 mixture AUC; higher "
                               "is better)",
                 "switch": "switch + error cost (E5 combined cost; lower is better)",
                 "learning": "trials to learn a new task (E5, log2; lower is better)",
                 "capacity": "capacity (E3 joint training, largest K with every task at "
                             "criterion; higher is better)"}


def _family(rows: list[dict], higher_better: bool, alpha: float) -> list[dict]:
    if not rows:
        return rows
    p = holm([r["p"] for r in rows])
    for r, ph in zip(rows, p):
        r["p_holm"] = float(ph)
        good = r["diff"] > 0 if higher_better else r["diff"] < 0
        r["hybrid_better"] = bool(np.isfinite(ph) and ph < alpha and good)
    return rows


def _capacity_family(packing_table: pd.DataFrame) -> list[dict]:
    """The hybrid's P1 capacity minus each part's, per N where both cells are tested."""
    cap = capacity(packing_table).arm("trained")
    per, summ = cap.per_seed, cap.summary
    tested = {(v, int(n)) for v, n, t in zip(summ.variant, summ.N, summ.tested) if t}
    fam = []
    for n, at_n in per.groupby("N", sort=True):
        seeds = {v: {int(s): float(c) for s, c in zip(g.seed, g.capacity)}
                 for v, g in at_n.groupby("variant")}
        for part in PARTS_E5:
            if {("hybrid", int(n)), (part, int(n))} <= tested:
                fam.append({"measure": "capacity", "a": f"hybrid, N = {n}",
                            "b": f"{part}, N = {n}",
                            **paired(seeds["hybrid"], seeds[part], exact=True)})
    return fam


def synergy_table(probes: dict | None, seq_table: pd.DataFrame | None, split: str | None,
                  learn_table: pd.DataFrame | None, packing_table: pd.DataFrame | None = None,
                  alpha: float = ALPHA) -> pd.DataFrame:
    """One row per comparison: ``measure``, ``a`` (the hybrid's condition), ``b`` (the part),
    paired ``diff`` a − b with its interval, p, Holm p within the measure, ``n`` and
    ``hybrid_better`` (capacity rows also ``p_exact``); a measure that cannot be scored has one
    row with ``note`` saying why. ``split``: the hybrid's reported split assignment (E5's
    verdict); ``packing_table``: E3's P1 rows of the hybrid and its parts."""
    rows: list[dict] = []
    labels = {lab for lab, _ in probes} if probes else set()
    fam = [{"measure": "robustness", "a": "hybrid", "b": part,
            **{k: paired_auc(probes, "hybrid", part)[k] for k in
               ("diff", "lo", "hi", "p", "n")}} for part in PARTS_E2
           if "hybrid" in labels and part in labels]
    rows += _family(fam, True, alpha) or [{"measure": "robustness",
                                           "note": "the hybrid was not probed in E2"}]
    fam = []
    if seq_table is not None and split is not None:
        hybrid = seed_values(seq_table, "hybrid", split)
        fam = [{"measure": "switch", "a": f"hybrid, {ASSIGNMENT_NAMES[split]}",
                "b": f"{part}, {ASSIGNMENT_NAMES[u]}",
                **paired(hybrid, seed_values(seq_table, part, u))}
               for part in PARTS_E5 for u in PART_ASSIGNMENTS
               if ((seq_table.label == part) & (seq_table.assignment == u)).any()]
    rows += _family(fam, False, alpha) or [{"measure": "switch", "note": "E5's split time-scales "
                                            "were not scored: C5's time-scale part is not "
                                            "tested"}]
    fam = []
    if learn_table is not None:
        v = learning_tests(learn_table, alpha)
        t = v["tests"]
        if len(t) and (t.name == "synergy in learning").any():
            r = t[t.name == "synergy in learning"].iloc[0]
            fam = [{"measure": "learning", "a": "hybrid, both pathways' rows",
                    "b": f"hybrid, {r['b']} rows only",
                    **{k: r[k] for k in ("diff", "lo", "hi", "p", "n")}}]
    rows += _family(fam, False, alpha) or [{"measure": "learning",
                                            "note": "E5's learning part not tested"}]
    has_hybrid = packing_table is not None and "hybrid" in set(packing_table.variant)
    fam = _capacity_family(packing_table) if has_hybrid else []
    rows += _family(fam, True, alpha) or [{"measure": "capacity", "note": (
        "no network size where the hybrid and a part both learned the smallest task set"
        if has_hybrid else "the hybrid's packing networks were not given")}]
    cols = ["measure", "a", "b", "diff", "lo", "hi", "p", "p_holm", "n", "hybrid_better", "note",
            "p_exact"]
    return pd.DataFrame(rows).reindex(columns=cols)


def synergy_verdicts(table: pd.DataFrame) -> dict[str, str]:
    """Per measure: ``"synergistic"`` (better than every part), ``"better than some parts"``,
    ``"not better"`` or ``"not tested"``."""
    out = {}
    for m, g in table.groupby("measure", sort=False):
        scored = g[g["diff"].notna()]
        if scored.empty:
            out[m] = "not tested"
        elif scored.hybrid_better.astype(bool).all():
            out[m] = "synergistic"
        elif scored.hybrid_better.astype(bool).any():
            out[m] = "better than some parts"
        else:
            out[m] = "not better"
    return out


def synergy_markdown(table: pd.DataFrame) -> str:
    """The comparisons per measure and the per-measure verdicts, in sentences."""
    verdicts = synergy_verdicts(table)
    out = []
    for m, g in table.groupby("measure", sort=False):
        head = f"- **{MEASURE_NAMES[m]}**: {verdicts[m]}"
        scored = g[g["diff"].notna()]
        if scored.empty:
            why = (g.note.dropna().iloc[0] if g.note.notna().any()
                   else "fewer than two paired seeds could be scored")
            out.append(f"{head} ({why})")
            continue
        parts = [f"{r.a} − {r.b} {r['diff']:+.3f} [{r.lo:+.3f}, {r.hi:+.3f}], Holm p = "
                 f"{r.p_holm:.3g}"
                 + (f", exact sign-flip p = {r.p_exact:.2g}" if np.isfinite(r.p_exact) else "")
                 + f" ({int(r.n)} seeds)" for _, r in scored.iterrows()]
        out.append(f"{head}. " + "; ".join(parts))
    return "\n".join(out)


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
    "learning networks were trained.")
"""How C5's parts combine into one verdict; :func:`c5_overall` applies it."""


def c5_overall(v_timescales: dict, v_learning: dict, table: pd.DataFrame) -> dict:
    """C5 by :data:`C5_OVERALL_RULE` from the time-scale verdict
    (:func:`lib.analysis.timescales.verdict_c5`), the learning tests
    (:func:`lib.analysis.learning.learning_tests`) and :func:`synergy_table`: ``verdict`` and
    the parts it used (``timescales``, ``speeds``, ``learning_synergy``, ``measures``)."""
    measures = synergy_verdicts(table)
    ts, speeds = v_timescales["verdict"], v_learning["speeds"]
    strong_synergy = any(v == "synergistic" for v in measures.values())
    weak_synergy = any(v in ("synergistic", "better than some parts") for v in measures.values())
    two_speeds = speeds in ("exc faster", "syn faster")
    strong_time = ts == "synergistic" or (two_speeds and bool(v_learning["synergy"]))
    weak_time = ts in ("synergistic", "partly synergistic") or two_speeds
    if ts == "not tested" and speeds == "not tested" and all(
            v == "not tested" for v in measures.values()):
        verdict = "not tested"
    elif strong_synergy and strong_time:
        verdict = "supported"
    elif weak_synergy or weak_time:
        verdict = "partly supported"
    else:
        verdict = "not supported"
    return {"verdict": verdict, "timescales": ts, "speeds": speeds,
            "learning_synergy": v_learning["synergy"], "measures": measures}


def c5_overall_markdown(v: dict) -> str:
    """The overall C5 verdict with the state of each part, and the rule."""
    synergy = {None: "not tested", True: "yes", False: "no"}[v["learning_synergy"]]
    parts = [f"time-scale verdict: {v['timescales']}",
             f"learning speeds: {v['speeds']} (both rows faster than either: {synergy})"]
    parts += [f"{MEASURE_NAMES[m].split(' (')[0]}: {w}" for m, w in v["measures"].items()]
    return (f"**C5 overall — {v['verdict']}.** " + "; ".join(parts) + "."
            f"\n\n*Rule.* {C5_OVERALL_RULE}")


__all__ = ["ALPHA", "PARTS_E2", "PARTS_E5", "PART_ASSIGNMENTS", "MEASURE_NAMES",
           "synergy_table", "synergy_verdicts", "synergy_markdown", "C5_OVERALL_RULE",
           "c5_overall", "c5_overall_markdown"]


# ------------------------------------------------------------------ by the verdict engine

SPLIT_PARTS = {"exc_fast_syn_slow": {"exc": "both_fast", "syn_lowrank_r1": "both_slow"},
               "exc_slow_syn_fast": {"exc": "both_slow", "syn_lowrank_r1": "both_fast"}}
"""Each split assignment of the hybrid and the time course it gives each part's pathway: the
hybrid under a split is compared with each part running at the same time-scale as its own
pathway has in the hybrid."""

AUC_SESOI = 0.02
"""SESOI of a mixture-AUC difference: a fiftieth of the scale (AUC relative to clean
performance, 1 = no loss)."""

_SEEN_EXPLORATORY = ("Written after the single parts' robustness and switch costs had been "
                     "seen (chapters 04 and 07); exploratory. Version 1 of this engine rule "
                     "(issue 18): hybrid against each part on common units.")

SYNERGY_RULES: dict[str, Rule] = {
    "robustness": register(Rule(
        name="C5.synergy.robustness", claim="C5", version=1, family="C5.synergy.robustness",
        measure="mixture AUC (relative to clean)", unit="ordered pair", higher_is_better=True,
        sesoi=AUC_SESOI, sesoi_reason="a fiftieth of the AUC's scale (1 = no loss under "
        "mixing): smaller differences are within the probe's trial noise",
        preregistered=False, seen=_SEEN_EXPLORATORY)),
    **{m: register(Rule(
        name=f"C5.synergy.{m}", claim="C5", version=1, family=f"C5.synergy.{m}",
        measure=E5.COSTS[m].split(":")[0], unit="pair", higher_is_better=False,
        sesoi=E5.COST_SESOI, sesoi_reason="the cost the book treats as recovered (0.05)",
        preregistered=False, seen=_SEEN_EXPLORATORY)) for m in E5.COSTS},
    "capacity": register(Rule(
        name="C5.synergy.capacity", claim="C5", version=2, family="C5.synergy.capacity",
        measure="capacity (largest K with every task at criterion, joint training)",
        unit="N", higher_is_better=True, sesoi=1.0,
        sesoi_reason="one task: capacity is an integer number of tasks",
        preregistered=True,
        seen="Written before any result of the hybrid's packing networks was seen (v1); v2 "
             "(issue 18): common N, exact sign-flip p.")),
    "new_perf": register(Rule(
        name="C5.synergy.new_perf", claim="C5", version=1, family="C5.synergy.new_perf",
        measure="final performance on the new task", unit="new task", higher_is_better=True,
        sesoi=0.05, sesoi_reason="one trial in twenty (0.05 of performance)",
        preregistered=False, seen="Written after the quick learning results were seen.")),
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


def synergy_comparisons(probes: dict | None, results: dict | None,
                        learn_table: pd.DataFrame | None,
                        packing_table: pd.DataFrame | None) -> list[Comparison]:
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
                out.append(compare(hyb, auc_values(probes, part), SYNERGY_RULES["robustness"],
                                   "hybrid", part))
    if results:
        have = set().union(*(set(r["assignments"]) for (lab, _), r in results.items()
                             if lab == "hybrid")) if any(k[0] == "hybrid" for k in results) \
            else set()
        for m in E5.COSTS:
            for split, parts in SPLIT_PARTS.items():
                if split not in have:
                    continue
                for part, course in parts.items():
                    if not any(k[0] == part for k in results):
                        continue
                    out.append(compare(E5.cost_values(results, "hybrid", split, m),
                                       E5.cost_values(results, part, course, m),
                                       SYNERGY_RULES[m],
                                       f"hybrid, {ASSIGNMENT_NAMES[split]}",
                                       f"{part}, {ASSIGNMENT_NAMES[course]}"))
    if packing_table is not None and "hybrid" in set(packing_table.variant):
        hyb = capacity_values(packing_table, "hybrid")
        for part in PARTS_E5:
            other = capacity_values(packing_table, part)
            if not other.empty:
                out.append(compare(hyb, other, SYNERGY_RULES["capacity"], "hybrid", part))
    if learn_table is not None:
        kids = children(learn_table)
        if {"both", "exc", "syn"} <= set(kids.route):
            for part in ("exc", "syn"):
                out.append(compare(_route_values(kids, "both"), _route_values(kids, part),
                                   SYNERGY_RULES["new_perf"], "both", part))
    return decide(out)


def _route_values(kids: pd.DataFrame, route: str) -> pd.DataFrame:
    g = kids[kids.route == route]
    return pd.DataFrame({"new task": g.new_perf.astype(float).to_numpy()},
                        index=pd.Index(g.seed.astype(int), name="seed"))


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
        wins = [all(c.verdict == "differ" and sign * c.mean > 0 for c in g)
                for g in groups.values()]
        losses = [any(c.verdict == "equivalent" or (c.verdict == "differ" and sign * c.mean < 0)
                      for c in g) for g in groups.values()]
        out[name] = ("synergistic" if any(wins) else "not synergistic" if all(losses)
                     else "inconclusive")
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
        lines.append(f"- **{cs[0].rule.measure}**{tag}: **{v}**. " + "; ".join(
            c.text().split(f" ({c.rule.measure})", 1)[0] + c.text().split(
                f" ({c.rule.measure})", 1)[1] for c in cs))
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
    "seen): reported, never deciding.")
"""How C5's pre-registered parts make its verdict; :func:`c5_claim` applies it."""


def c5_claim(learning: list[Comparison], synergy: list[Comparison]) -> dict:
    """C5 by :data:`C5_CLAIM_RULE` from the decided learning comparisons
    (:func:`lib.analysis.learning.learning_comparisons`) and synergy comparisons
    (:func:`synergy_comparisons`): ``verdict``, ``speeds``, ``learning_synergy``,
    ``capacity``."""
    parts = learning_parts(learning)
    cap = measure_synergy([c for c in synergy if c.rule is SYNERGY_RULES["capacity"]]).get(
        SYNERGY_RULES["capacity"].name, "not tested")
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


def c5_comparisons(learn_table: pd.DataFrame | None, packing_table: pd.DataFrame | None,
                   probes: dict | None = None, results: dict | None = None
                   ) -> list[Comparison]:
    """C5's comparisons for the results page's forest plot, decided: the deciding ones
    (learning: RMST and interference; capacity synergy) first, then, when ``probes`` /
    ``results`` are given, the exploratory ones (robustness, the separate costs, new-task
    performance; their rules say exploratory)."""
    learn = learning_comparisons(learn_table) if learn_table is not None else []
    syn = synergy_comparisons(probes, results, learn_table, packing_table)
    return learn + syn


def c5_verdict(learn_table: pd.DataFrame | None, packing_table: pd.DataFrame | None,
               probes: dict | None = None, results: dict | None = None) -> dict:
    """C5 by :data:`C5_CLAIM_RULE`: :func:`c5_claim`'s dict plus ``learning`` and ``synergy``
    (the decided comparisons) and ``timescales`` (the exploratory separate costs of the
    hybrid's splits, :func:`lib.analysis.timescales.timescale_comparisons`, when ``results``)."""
    learn = learning_comparisons(learn_table) if learn_table is not None else []
    syn = synergy_comparisons(probes, results, learn_table, packing_table)
    ts = E5.timescale_comparisons(results) if results else []
    return {**c5_claim(learn, syn), "learning": learn, "synergy": syn, "timescales": ts}


def c5_text(v: dict) -> str:
    """C5's verdict in words: the rule's outcome and the state of each deciding part."""
    return (f"**Verdict on C5: {v['verdict']}** (claim rule v2). Deciding, pre-registered: "
            f"learning speeds **{v['speeds']}**; synergy in learning (both rows faster than "
            f"each single route) **{v['learning_synergy']}**; synergy in capacity "
            f"**{v['capacity']}**. Exploratory, not deciding: "
            + "; ".join(f"{SYNERGY_RULES_BY_NAME[n].measure} {w}" for n, w in
                        measure_synergy(v["synergy"]).items()
                        if not SYNERGY_RULES_BY_NAME[n].preregistered)
            + f".\n\n*Rule.* {C5_CLAIM_RULE}")


def c5_summary_text(v: dict) -> str:
    """At most about 60 words for the results table."""
    sp = next((c for c in v["learning"] if c.rule is LEARNING_RULES["speed"]
               and (c.a, c.b) == ("exc", "syn")), None)
    num = (f"RMST exc − syn {sp.mean:+,.0f} trials [{sp.ci95[0]:+,.0f}, {sp.ci95[1]:+,.0f}], "
           f"Holm {format_p(sp.p_holm, sp.n_seeds)}" if sp is not None and sp.tested
           else "learning speed not tested")
    return (f"{v['verdict'].capitalize()}. Pre-registered parts: learning speeds "
            f"{v['speeds']} ({num}); synergy in learning {v['learning_synergy']}, in capacity "
            f"{v['capacity']}. Switch and error costs are tested separately (exploratory).")


SYNERGY_RULES_BY_NAME = {r.name: r for r in SYNERGY_RULES.values()}

__all__ += ["SPLIT_PARTS", "AUC_SESOI", "SYNERGY_RULES", "auc_values", "capacity_values",
            "synergy_comparisons", "SYNERGY_VERDICTS", "measure_synergy", "synergy_text",
            "C5_CLAIM_RULE", "c5_claim", "c5_comparisons", "c5_verdict", "c5_text",
            "c5_summary_text"]
