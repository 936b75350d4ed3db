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

from lib.analysis.claims import paired_auc
from lib.analysis.learning import learning_tests
from lib.analysis.packing import capacity
from lib.analysis.stats import holm, paired
from lib.analysis.timescales import seed_values
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
