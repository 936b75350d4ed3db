"""E3 analyses: packing capacity per pathway and network size, the matched comparisons, the
verdict on claim C3 and the sentences under E3's figures (every number computed here from the
table of :func:`lib.experiments.packing.run_packing`).

The table has a row per network with at least ``variant``, ``N``, ``K``, ``seed``,
``n_at_criterion`` and ``all_at_criterion`` (optionally ``backbone``, the arm: ``trained`` when
absent, and ``params_per_task``). Intervals are 95% Student-t intervals over seeds
(:func:`lib.analysis.stats.mean_ci`); seeds share initial weights across variants, so variants
are compared paired over seeds through the verdict engine (:mod:`lib.analysis.verdicts`: exact
sign-flip p, TOST, Holm over the family fixed in :data:`C3_RULE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.analysis import tuning as tuning_analysis
from lib.analysis import verdicts
from lib.analysis.common import ALPHA, CRITERION
from lib.analysis.stats import fmt, holm, mean_ci, paired
from lib.experiments import tuning
from lib.experiments.packing import PackingSpec

PAIRS = (("exc", "syn_prepost"), ("exc", "syn_lowrank_r1"))
"""The matched comparisons of C3, chosen before looking: excitability against the two synaptic
pathways with its per-task budget (2N modulation parameters per task)."""

MEASURES = {
    "capacity": "capacity (largest K with every task at criterion)",
    "at_largest_K": "tasks at criterion at the largest K",
}
"""The two packing measures each matched pair is compared on."""

VERDICT_ARM = "trained"
"""The arm C3's verdict is judged on (P1, joint training)."""

C3_RULE = (
    "C3 is judged on joint training (P1). A (pathway, N) cell is *tested* if, at the smallest K "
    "of the grid, every task ends at criterion in at least one seed; a cell where even the "
    "smallest K fails in every seed is *not tested* (a network that did not learn its tasks says "
    "nothing about how many it can pack). At each N, the matched pairs fixed before looking, "
    "`exc` − `syn_prepost` and `exc` − `syn_lowrank_r1` (2N modulation parameters per task each), "
    "are compared where both cells are tested, on (i) the *capacity* (the largest K with every "
    "task at criterion, 0 if none; smallest effect of interest 2 tasks, one step of the K grid) "
    "and (ii) the number of tasks at criterion at the largest K (1 task), paired over seeds "
    "(which share initial weights) by the exact sign-flip test, Holm over all these comparisons "
    "at once. A comparison *differs* (Holm p < 0.05), is *equivalent* (TOST, Holm) or is "
    "*inconclusive*. A pair *differs* at N if either measure differs; an N *differs* if every "
    "pair compared there differs. C3 is *supported* if every tested N differs and every "
    "difference points the same way; *partly supported* if some comparison differs but not that; "
    "*not supported* if every comparison is equivalent; *inconclusive* otherwise; *not tested* if "
    "no N is tested."
)
"""The C3 rule as printed in the chapter; :func:`verdict_c3` applies exactly this."""


def _with_arm(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    if "backbone" not in t:
        t["backbone"] = VERDICT_ARM
    missing = {"variant", "N", "K", "seed", "n_at_criterion", "all_at_criterion"} - set(t)
    if missing:
        raise ValueError(
            f"table: columns {sorted(missing)} are missing; expected a table of "
            "lib.experiments.packing.run_packing"
        )
    t["all_at_criterion"] = t["all_at_criterion"].astype(bool)
    return t


def _ci(values) -> tuple[float, float, int]:
    v = np.asarray(values, float)
    m, h = mean_ci(v) if v.size else (np.nan, np.nan)
    return float(m), float(h), int(np.isfinite(v).sum())


@dataclass
class Capacity:
    """Packing per seed and over seeds, for every arm, pathway and N of a table.

    ``per_seed``: one row per (backbone, variant, N, seed): ``capacity`` (the largest K of the
    grid with every task at criterion, 0 if none), ``learned_min_K`` (every task at criterion at
    the smallest K), ``at_largest_K`` (tasks at criterion at the largest K).
    ``summary``: one row per (backbone, variant, N): ``tested`` (``learned_min_K`` in at least
    one seed), seeds ``n``, capacity and tasks at criterion at the largest K as mean and 95%
    half-width over seeds, the per-task modulation budget and the grid's smallest and largest K.
    ``by_k``: one row per (backbone, variant, N, K): tasks at criterion (mean, half-width, n)
    and the fraction of seeds with every task at criterion.
    """

    per_seed: pd.DataFrame
    summary: pd.DataFrame
    by_k: pd.DataFrame

    def arm(self, backbone: str) -> "Capacity":
        """The same, for one arm only."""
        return Capacity(
            *(
                df[df.backbone == backbone].reset_index(drop=True)
                for df in (self.per_seed, self.summary, self.by_k)
            )
        )

    @property
    def backbones(self) -> list[str]:
        return list(dict.fromkeys(self.summary.backbone))


def capacity(table: pd.DataFrame) -> Capacity:
    """Capacity and tasks at criterion per (backbone, variant, N, seed), and their means with
    95% t intervals over seeds (:class:`Capacity`)."""
    t = _with_arm(table)
    budget = "params_per_task" in t
    per_seed, by_k, summary = [], [], []
    for arm, ta in t.groupby("backbone", sort=False):
        k_min, k_max = int(ta.K.min()), int(ta.K.max())
        for (v, n, s), g in ta.groupby(["variant", "N", "seed"], sort=False):
            at = g[g.all_at_criterion]
            largest = g[g.K == k_max].n_at_criterion
            per_seed.append(
                {
                    "backbone": arm,
                    "variant": v,
                    "N": int(n),
                    "seed": int(s),
                    "capacity": int(at.K.max()) if len(at) else 0,
                    "learned_min_K": bool(g[g.K == k_min].all_at_criterion.any()),
                    "at_largest_K": float(largest.iloc[0]) if len(largest) else np.nan,
                    "params_per_task": int(g.params_per_task.iloc[0]) if budget else np.nan,
                }
            )
        for (v, n, k), g in ta.groupby(["variant", "N", "K"], sort=False):
            m, h, cnt = _ci(g.n_at_criterion)
            by_k.append(
                {
                    "backbone": arm,
                    "variant": v,
                    "N": int(n),
                    "K": int(k),
                    "n": cnt,
                    "at_criterion": m,
                    "at_criterion_hw": h,
                    "all_frac": float(g.all_at_criterion.mean()),
                    "params_per_task": int(g.params_per_task.iloc[0]) if budget else np.nan,
                }
            )
    ps = pd.DataFrame(per_seed)
    for (arm, v, n), g in ps.groupby(["backbone", "variant", "N"], sort=False):
        cm, ch, cnt = _ci(g.capacity)
        lm, lh, _ = _ci(g.at_largest_K)
        ta = t[t.backbone == arm]
        summary.append(
            {
                "backbone": arm,
                "variant": v,
                "N": int(n),
                "tested": bool(g.learned_min_K.any()),
                "n": cnt,
                "capacity": cm,
                "capacity_hw": ch,
                "at_largest_K": lm,
                "at_largest_K_hw": lh,
                "params_per_task": g.params_per_task.iloc[0],
                "min_K": int(ta.K.min()),
                "largest_K": int(ta.K.max()),
            }
        )
    return Capacity(ps, pd.DataFrame(summary), pd.DataFrame(by_k))


def _seed_values(cap: Capacity, variant: str, n: int, measure: str) -> dict[int, float]:
    g = cap.per_seed[(cap.per_seed.variant == variant) & (cap.per_seed.N == n)]
    return {int(s): float(x) for s, x in zip(g.seed, g[measure])}


def _tested(cap: Capacity, variant: str, n: int) -> bool:
    row = cap.summary[(cap.summary.variant == variant) & (cap.summary.N == n)]
    return bool(len(row) and row.tested.iloc[0])


def c3_comparisons(
    table: pd.DataFrame,
    backbone: str = VERDICT_ARM,
    pairs=PAIRS,
    measures=tuple(MEASURES),
    cap: Capacity | None = None,
) -> list[verdicts.Comparison]:
    """C3's matched comparisons in one arm through the engine, decided: at each N, each pair of
    ``pairs`` on each of ``measures`` (a - b, one unit: that N), paired over seeds. A comparison
    whose cells are not both tested is *not tested* (outside Holm's family). ``spec["N"]``: the
    network size. ``cap``: :func:`capacity` of ``table``, if already computed."""
    cap = (cap or capacity(table)).arm(backbone)
    variants = set(cap.summary.variant)
    comps = []
    for n in sorted(set(cap.summary.N)):
        for a, b in pairs:
            if a not in variants or b not in variants:
                continue
            tested = _tested(cap, a, n) and _tested(cap, b, n)
            for measure in measures:
                va, vb = (
                    pd.DataFrame({f"N = {n}": pd.Series(_seed_values(cap, x, n, measure))})
                    for x in (a, b)
                )
                if not tested:
                    va.loc[:, :] = np.nan
                c = verdicts.compare(va, vb, verdicts.RULES[f"C3.{measure}"], a, b)
                if not tested:
                    c.note = "a cell is not tested"
                c.spec = {"N": int(n), "measure_key": measure}
                comps.append(c)
    return verdicts.decide(comps)


def _comparison_table(comps: list[verdicts.Comparison]) -> pd.DataFrame:
    rows = [
        {
            "N": c.spec["N"],
            "a": c.a,
            "b": c.b,
            "measure": c.spec["measure_key"],
            "tested": c.tested,
            "diff": c.mean,
            "lo": c.ci95[0],
            "hi": c.ci95[1],
            "p": c.p,
            "p_tost": c.p_tost,
            "n": c.n_seeds,
            "p_holm": c.p_holm,
            "p_tost_holm": c.p_tost_holm,
            "verdict": c.verdict,
        }
        for c in comps
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "N",
            "a",
            "b",
            "measure",
            "tested",
            "diff",
            "lo",
            "hi",
            "p",
            "p_tost",
            "n",
            "p_holm",
            "p_tost_holm",
            "verdict",
        ],
    )
    df = df.astype(
        {"N": int, "tested": bool, "diff": float, "lo": float, "hi": float, "p": float, "n": int}
    )
    df["differs"] = df["verdict"] == "differ"
    return df


def comparisons(table: pd.DataFrame, backbone: str = VERDICT_ARM) -> pd.DataFrame:
    """:func:`c3_comparisons` as a table: N, a, b, measure, tested, diff, lo, hi (95% t
    interval), p (exact, two-sided), p_tost, n (paired seeds), p_holm, p_tost_holm, verdict,
    differs (verdict "differ")."""
    return _comparison_table(c3_comparisons(table, backbone))


def _direction(diffs) -> str | None:
    signs = {int(np.sign(d)) for d in diffs if np.sign(d) != 0}
    if not signs:
        return None
    if signs == {1}:
        return "exc"
    if signs == {-1}:
        return "synaptic"
    return "mixed"


DIRECTION_WORDS = {
    "exc": "excitability (`exc`) packs more tasks than the matched synaptic pathways",
    "synaptic": "the matched synaptic pathways pack more tasks than excitability (`exc`)",
    "mixed": "the differences point different ways (no pathway packs more throughout)",
}


def verdict_c3(
    table: pd.DataFrame,
    backbone: str = VERDICT_ARM,
    pairs=PAIRS,
    measures=tuple(MEASURES),
    cap: Capacity | None = None,
) -> dict:
    """C3: excitability and synaptic modulation differ in how many tasks they pack into N units,
    by :data:`C3_RULE`. Returns the verdict, ``comps`` (engine Comparisons), ``comparisons``
    (their table, :func:`comparisons`), the tested and differing N, the direction of the
    differing comparisons (``"exc"``, ``"synaptic"``, ``"mixed"`` or None), the capacity summary
    of the arm and the cells not tested. ``cap``: :func:`capacity` of ``table``, if already
    computed."""
    cap_all = cap or capacity(table)
    comps = c3_comparisons(table, backbone, pairs, measures, cap_all)
    cmp = _comparison_table(comps)
    cap = cap_all.arm(backbone)
    made = [c for c in comps if c.tested]
    tested_n = sorted({c.spec["N"] for c in made})
    differing_n = []
    for n in tested_n:
        at_n = [c for c in made if c.spec["N"] == n]
        pairs_n = {(c.a, c.b) for c in at_n}
        if all(any(c.verdict == "differ" for c in at_n if (c.a, c.b) == pr) for pr in pairs_n):
            differing_n.append(n)
    differ = [c for c in made if c.verdict == "differ"]
    direction = _direction([c.mean for c in differ])
    if not tested_n:
        verdict = "not tested"
    elif differ and differing_n == tested_n and direction in ("exc", "synaptic"):
        verdict = "supported"
    elif differ:
        verdict = "partly supported"
    elif all(c.verdict == "equivalent" for c in made):
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    untested = cap.summary[~cap.summary.tested][["variant", "N"]]
    return {
        "verdict": verdict,
        "comps": comps,
        "comparisons": cmp,
        "tested_N": tested_n,
        "differing_N": differing_n,
        "direction": direction,
        "capacity": cap.summary,
        "not_tested_cells": [(v, int(n)) for v, n in untested.itertuples(index=False)],
        "backbone": backbone,
    }


SPEC_ARMS = (VERDICT_ARM, "frozen_random", "pretrained")
"""The arms C3's specification check recomputes the verdict on (joint training first): the
packing arms where both matched pathways are trained on the same K grid."""


def c3_multiverse(table: pd.DataFrame) -> pd.DataFrame:
    """C3's verdict under every specification (:func:`lib.analysis.verdicts.multiverse`): pair
    set (both matched pairs, or each alone), measure (both, or each alone) and arm
    (:data:`SPEC_ARMS` present in the table)."""
    present = set(_with_arm(table).backbone)
    arms = [b for b in SPEC_ARMS if b in present]
    pair_sets = {"both": PAIRS, **{f"{a} − {b}": ((a, b),) for a, b in PAIRS}}
    measure_sets = {"both": tuple(MEASURES), **{m: (m,) for m in MEASURES}}

    cap = capacity(table)

    def run(pairs, measures, arm):
        return verdict_c3(table, arm, pair_sets[pairs], measure_sets[measures], cap)

    return verdicts.multiverse(
        run, {"pairs": list(pair_sets), "measures": list(measure_sets), "arm": arms}
    )


CONTROL_RULE = verdicts.with_rule(
    verdicts.RULES["C3.at_largest_K"],
    name="C3.at_largest_K.protocol_control",
    family="C3 protocol control",
    preregistered=False,
    seen="E3's three seeds at quick and the tuned test seeds' learning table had been seen",
)
"""The trainability control's rule: C3's tasks-at-criterion measure and SESOI, exploratory (it
never decides C3), one Holm family per protocol (the matched pairs of one cell)."""


@dataclass
class ProtocolControl:
    """C3's tasks at criterion in one P1 cell (N, K) under E1's common protocol (E3's networks)
    and under each pathway's own (the tuned test seeds, read at E3's budget ``budget``).
    ``values``: a row per (protocol, variant): mean, 95% half-width, seeds; ``comps``: protocol
    -> the matched pairs, each protocol its own Holm family (:data:`CONTROL_RULE`)."""

    N: int
    K: int
    budget: int
    values: pd.DataFrame
    comps: dict[str, list[verdicts.Comparison]]


PROTOCOLS = {"common": "E1's common protocol", "own": "Each pathway's own protocol"}
"""The two protocols of :class:`ProtocolControl`, in words."""


def protocol_control(
    table: pd.DataFrame, tuned_nets: dict, budget: int, task_order: tuple[str, ...], pairs=PAIRS
) -> ProtocolControl | None:
    """Does C3's difference survive each pathway's own training protocol? The P1 cell at the
    size of the tuned test seeds ``tuned_nets`` {(variant, seed): TrainResult} (E1's N, where
    they train on the first K tasks of E3's ``task_order``, K the largest of P1), whose tasks
    at criterion at the largest K are compared pair by pair (paired over seeds) under both
    protocols. A tuned network is read after ``budget`` steps (E3's;
    :meth:`lib.core.train.History.perf_at`), the end of the same run at that budget. None where
    no tuned network of a matched pathway is such a P1 cell."""
    p1 = _with_arm(table)
    p1 = p1[p1.backbone == VERDICT_ARM]
    if p1.empty:
        return None
    k_max = int(p1.K.max())
    order = p1[p1.K == k_max]
    matched = list(dict.fromkeys(v for pair in pairs for v in pair))
    own: dict[str, dict[int, float]] = {}
    cell: tuple[int, int] | None = None
    for (variant, seed), r in tuned_nets.items():
        cfg = r.config
        same_tasks = tuple(cfg.tasks) == tuple(task_order[:k_max])
        if variant not in matched or not same_tasks or cfg.n_rec not in set(order.N):
            continue
        cell = (cfg.n_rec, k_max)
        at = r.history.perf_at(budget) >= cfg.criterion
        own.setdefault(variant, {})[int(seed)] = float(at.sum())
    if cell is None:
        return None
    n_rec, k = cell
    cap = capacity(table).arm(VERDICT_ARM)
    common = {v: _seed_values(cap, v, n_rec, "at_largest_K") for v in matched}
    rows, comps = [], {}
    for name, values in (("common", common), ("own", own)):
        for v in matched:
            if not values.get(v):
                continue
            m, hw, n = _ci(list(values[v].values()))
            rows.append({"protocol": name, "variant": v, "mean": m, "hw": hw, "n": n})
        comps[name] = verdicts.decide(
            [
                verdicts.compare(
                    pd.DataFrame({f"N = {n_rec}": pd.Series(values.get(a, {}))}),
                    pd.DataFrame({f"N = {n_rec}": pd.Series(values.get(b, {}))}),
                    CONTROL_RULE,
                    a,
                    b,
                )
                for a, b in pairs
            ]
        )
    return ProtocolControl(n_rec, k, budget, pd.DataFrame(rows), comps)


def shipped_protocol_control(
    table: pd.DataFrame, spec: PackingSpec, profile: str
) -> tuple[ProtocolControl | None, str]:
    """:func:`protocol_control` of E3's ``table`` (made by ``spec``) on the tuned test seeds
    shipped at ``profile``, read at ``spec``'s budget; (None, why) where they cannot be used
    (:func:`lib.analysis.tuning.tuned_stage`)."""
    tuned, note = tuning_analysis.tuned_stage(profile, spec.protocol)
    if tuned is None:
        return None, note
    nets = tuning.tuned_networks(tuned)
    return protocol_control(table, nets, spec.protocol.max_steps, spec.task_order), ""


def control_changes(ctrl: ProtocolControl) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(pairs that differ under the common protocol but not under each pathway's own, pairs
    that differ under both)."""
    both = list(zip(ctrl.comps["common"], ctrl.comps["own"]))
    flipped = [(c.a, c.b) for c, o in both if c.verdict == "differ" and o.verdict != "differ"]
    kept = [(c.a, c.b) for c, o in both if c.verdict == "differ" and o.verdict == "differ"]
    return flipped, kept


def protocol_control_text(ctrl: ProtocolControl | None, why: str = "") -> str:
    """The trainability control in words, every number from :func:`protocol_control`; says
    whether a pair that differs under the common protocol still differs under each pathway's
    own (else the difference is the protocol's, not the pathway's). Without a control, ``why``
    (:func:`shipped_protocol_control`) or that no tuned network is a P1 cell of this run."""
    if ctrl is None:
        return "**Trainability control**: not available here. " + (
            why or "*(no tuned test seed of the matched pathways is a P1 cell of this run)*"
        )
    lines = [
        f"**Trainability control** (exploratory; it never decides C3). The P1 cell N = "
        f"{ctrl.N}, K = {ctrl.K} is E1's network size and task set, so each matched pathway "
        f"also has it under its own tuned protocol (the test seeds of "
        f"{{doc}}`appendix_training`, read at {ctrl.budget:,} steps, E3's budget: the same runs "
        f"stopped there). Tasks at criterion (of {ctrl.K}) per pathway, and each matched pair "
        "by the exact sign-flip test (Holm over the pairs of one protocol):",
        "",
    ]
    for name, words in PROTOCOLS.items():
        vals = ctrl.values[ctrl.values.protocol == name]
        means = ", ".join(
            f"`{r.variant}` {fmt(r.mean, r.hw, digits=1)} ({r.n} seeds)" for r in vals.itertuples()
        )
        pairs = "; ".join(_cmp_text(c) for c in ctrl.comps[name])
        lines.append(f"* {words}: {means}. {pairs}.")
    flipped, kept = control_changes(ctrl)
    lines.append("")
    if flipped:
        lines.append(
            ", ".join(f"`{a}` − `{b}`" for a, b in flipped)
            + f" differs at N = {ctrl.N} under E1's common protocol (Holm over this cell's pairs) "
            "but not under each pathway's own: there the difference is how E1's protocol suits "
            "each pathway (trainability), not the pathway, and it would not stand under this "
            "defensible choice of protocol (the other N have no tuned networks to check)."
        )
    if kept:
        lines.append(
            ", ".join(f"`{a}` − `{b}`" for a, b in kept)
            + " differs under both protocols: not an artefact of the common protocol."
        )
    if not flipped and not kept:
        lines.append(
            f"No pair differs at N = {ctrl.N} under the common protocol here, so the control "
            "has nothing to overturn; it shows how each pathway fares at this cell when tuned."
        )
    return "\n".join(lines)


def _cmp_text(c: verdicts.Comparison) -> str:
    if not c.tested:
        why = c.note or "a cell is not tested"
        return f"`{c.a}` − `{c.b}` on {c.rule.measure}: not compared ({why})"
    return (
        f"`{c.a}` − `{c.b}` on {c.rule.measure}: {c.mean:+.2f} [{c.ci95[0]:+.2f}, "
        f"{c.ci95[1]:+.2f}] tasks, Holm {verdicts.format_p(c.p_holm, c.n_seeds)} ({c.n_seeds} "
        f"paired seeds) → {c.verdict}"
    )


def title_consistency(v: dict, table: pd.DataFrame | None = None) -> str:
    """What the verdict means for the paper's title claim (synergistic pathways enable robust
    task packing) and the abstract's C3 (the pathways differ in packing efficiency); with the
    table, the hybrid's capacity against the better single pathway at each N, where the hybrid
    was trained (descriptive, outside the verdict)."""
    verdict, direction = v["verdict"], v["direction"]
    if verdict == "not tested":
        text = (
            "Nothing here bears on the title yet: no network size had both matched pathways "
            "learn even the smallest task set."
        )
    elif verdict == "not supported":
        text = (
            "At this scale the matched pathways pack the same number of tasks (equivalent "
            "within the smallest effect of interest): the abstract's C3 (they differ in how "
            "efficiently they pack) is not borne out, and the title's 'efficient packing' "
            "cannot come from one pathway packing more than the other."
        )
    elif verdict == "inconclusive":
        text = (
            "The runs cannot say yet whether the matched pathways pack differently: no "
            "comparison differs and none is shown equivalent at this seed count, so neither "
            "the abstract's C3 nor its opposite is borne out."
        )
    else:
        text = (
            f"The runs agree with the abstract that the pathways differ ({verdict}); "
            f"{DIRECTION_WORDS[direction] if direction else ''}. That is consistent with the "
            "title's claim only if combining the pathways lets the better packer's capacity "
            "and the other's strengths add up, which is C5's question (the hybrid), not C3's."
        )
    if table is not None:
        cap = capacity(table).arm(v["backbone"]).summary
        if "hybrid" in set(cap.variant):
            parts = []
            for n in sorted(set(cap.N)):
                at_n = cap[cap.N == n].set_index("variant")
                singles = [x for x in ("exc", "syn_prepost", "syn_lowrank_r1") if x in at_n.index]
                if not singles or "hybrid" not in at_n.index:
                    continue
                best = max(singles, key=lambda x: at_n.loc[x, "capacity"])
                parts.append(
                    f"N = {n}: `hybrid` {_cap(at_n.loc['hybrid'])} vs `{best}` "
                    f"{_cap(at_n.loc[best])}"
                )
            if parts:
                text += (
                    " Descriptively (not part of the verdict; the hybrid owns 4N parameters "
                    "per task): capacity of the hybrid against the best single pathway, "
                    + "; ".join(parts)
                    + "."
                )
    return text


def _cap(row) -> str:
    return fmt(row["capacity"], row["capacity_hw"], digits=1)


def c3_markdown(
    v: dict, table: pd.DataFrame | None = None, multiverse: pd.DataFrame | None = None
) -> str:
    """The C3 verdict as a paragraph, every number taken from :func:`verdict_c3`'s output: the
    comparisons, the floor of the exact test and the power statement, the specification check,
    what it means for the title, and the rule (:data:`C3_RULE`) with its registry entries."""
    comps = v["comps"]
    lines = [
        f"**C3 — {v['verdict']}.** Network sizes tested: "
        f"{', '.join(map(str, v['tested_N'])) or 'none'}; differing: "
        f"{', '.join(map(str, v['differing_N'])) or 'none'}. "
        + (
            f"Direction: {DIRECTION_WORDS[v['direction']]}."
            if v["direction"]
            else "No comparison differs, so no direction."
        ),
        "",
    ]
    for c in comps:
        lines.append(f"* N = {c.spec['N']}: {_cmp_text(c)}.")
    if not comps:
        lines.append("* no matched pair was trained in this run.")
    if v["not_tested_cells"]:
        lines.append("")
        lines.append(
            "Cells not tested (even the smallest K failed in every seed): "
            + ", ".join(f"`{lab}` at N = {n}" for lab, n in v["not_tested_cells"])
            + "."
        )
    floor = verdicts.floor_text(comps)
    lines += ["", *([floor] if floor else []), verdicts.power_text(comps)]
    if multiverse is not None and len(multiverse):
        lines.append(
            verdicts.agreement_text(
                multiverse,
                "both matched pairs or each alone, both measures or each alone, the packing arms",
            )
        )
    lines += [
        "",
        f"What it means for the paper: {title_consistency(v, table)}",
        "",
        f"Rule: {C3_RULE}",
    ]
    lines += [f"Registry: {verdicts.rule_text(verdicts.RULES[f'C3.{m}'])}." for m in MEASURES]
    return "\n".join(lines)


def _variants(df: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(df.variant))


def at_criterion_text(cap: Capacity, backbone: str = VERDICT_ARM) -> str:
    """Under the tasks-at-criterion figure: per N, each pathway's tasks at criterion at the
    largest K (mean ± 95% half-width over seeds) and the seeds with every task at criterion."""
    c = cap.arm(backbone)
    if not len(c.by_k):
        return "*(no networks in this arm)*"
    k_max = int(c.by_k.K.max())
    parts = []
    for n in sorted(set(c.by_k.N)):
        rows = c.by_k[(c.by_k.N == n) & (c.by_k.K == k_max)]
        items = [
            f"`{r.variant}` {fmt(r.at_criterion, r.at_criterion_hw, digits=1)} "
            f"({r.all_frac:.0%} of seeds all)"
            for r in rows.itertuples()
        ]
        parts.append(f"N = {n}: " + ", ".join(items))
    n_seeds = int(c.by_k.n.max())
    return (
        f"Tasks at criterion when K = {k_max} tasks are trained together (the largest K; "
        f"mean ± 95% t half-width over {n_seeds} seeds; in brackets the seeds with every "
        "task at criterion). " + "; ".join(parts) + ". A line on the diagonal means every "
        "task learned; below it, the tasks the network did not fit within the budget."
    )


def capacity_text(cap: Capacity, backbone: str = VERDICT_ARM) -> str:
    """Under the capacity figure: per N, each pathway's capacity (mean ± 95% half-width) and the
    cells that are not tested."""
    s = cap.arm(backbone).summary
    if not len(s):
        return "*(no networks in this arm)*"
    parts = []
    for n in sorted(set(s.N)):
        rows = s[s.N == n]
        parts.append(
            f"N = {n}: "
            + ", ".join(
                f"`{r.variant}` {fmt(r.capacity, r.capacity_hw, digits=1)}"
                + ("" if r.tested else " (not tested)")
                for r in rows.itertuples()
            )
        )
    untested = s[~s.tested]
    return (
        f"Capacity, the largest K (of {sorted(set(cap.arm(backbone).by_k.K))}) with every "
        f"task at criterion, mean ± 95% t half-width over seeds: "
        + "; ".join(parts)
        + "."
        + (
            f" {len(untested)} of {len(s)} cells are *not tested*: even K = "
            f"{int(s.min_K.iloc[0])} failed in every seed."
            if len(untested)
            else " Every cell learned the smallest task set in at least one seed."
        )
    )


def efficiency_text(cap: Capacity, backbone: str = VERDICT_ARM) -> str:
    """Under the parameter-efficiency figure: per pathway, its per-task budget and the total
    modulation parameters its packed tasks use (budget × capacity) at each N."""
    s = cap.arm(backbone).summary
    if not len(s):
        return "*(no networks in this arm)*"
    if not np.isfinite(s.params_per_task.astype(float)).all():
        return "*(the table has no parameter budgets)*"
    parts = []
    for v in _variants(s):
        rows = s[s.variant == v].sort_values("N")
        if int(rows.params_per_task.iloc[0]) == 0:
            parts.append(
                f"`{v}` owns no modulation parameters (capacity "
                + ", ".join(f"{r.capacity:.1f}" for r in rows.itertuples())
                + f" at N = {', '.join(str(int(n)) for n in rows.N)})"
            )
            continue
        parts.append(
            f"`{v}` ({', '.join(f'{int(r.params_per_task):,}' for r in rows.itertuples())}"
            f" per task at N = {', '.join(str(int(n)) for n in rows.N)}): "
            + ", ".join(f"{r.capacity * r.params_per_task:,.0f}" for r in rows.itertuples())
            + " modulation parameters in use at its mean capacity"
        )
    return (
        "Total modulation parameters = per-task budget × tasks packed. "
        + "; ".join(parts)
        + ". Pathways with the same per-task budget lie on the same line through the origin "
        "at one N; further along it means more tasks packed for the same per-task cost."
    )


def frozen_text(cap: Capacity, backbone: str = "frozen_random") -> str:
    """Under the frozen-backbone figures: which pathways learned any task set with the shared
    weights frozen at random, and how many tasks."""
    s = cap.arm(backbone).summary
    if not len(s):
        return "*(the frozen-backbone arm was not run)*"
    learners = s[s.tested]
    words = []
    for v in _variants(s):
        rows = s[s.variant == v]
        ok = rows[rows.tested]
        words.append(
            f"`{v}` "
            + (
                "learned the smallest task set (K = "
                f"{int(rows.min_K.iloc[0])}) at N = "
                f"{', '.join(str(int(n)) for n in ok.N)}"
                if len(ok)
                else "learned no task set at any N"
            )
            + "; capacity "
            + ", ".join(
                f"{fmt(r.capacity, r.capacity_hw, digits=1)} at N = {int(r.N)}"
                for r in rows.itertuples()
            )
        )
    return (
        "With the shared weights frozen at their random initialisation, each task learned "
        "through its own modulation parameters only: "
        + "; ".join(words)
        + ". "
        + (
            f"{len(set(learners.variant))} of {len(set(s.variant))} pathways learned tasks "
            "this way."
            if len(learners)
            else "No pathway learned tasks this way at this budget."
        )
    )


# ---------------------------------------------------------------- P2(b): a pretrained backbone

PRETRAINED_ARM, RANDOM_ARM, BACKBONE_ARM = "pretrained", "frozen_random", "pretrain"
"""Table arms of P2(b)'s networks, of P2(a)'s (the random backbone they are paired with) and of
P2(b)'s backbones (P1 networks on the first ``n_pretrain`` tasks)."""


def _seed_map(t: pd.DataFrame, column: str) -> dict[int, float]:
    return {int(s): float(x) for s, x in zip(t.seed, t[column])}


def _ttc(g: pd.DataFrame) -> tuple[float, int]:
    """Mean trials to criterion over the seeds that got there, and how many did."""
    if "trials_to_criterion" not in g:
        return np.nan, 0
    v = g.trials_to_criterion.to_numpy(float)
    v = v[np.isfinite(v)]
    return (float(v.mean()) if v.size else np.nan), int(v.size)


def pretrained_vs_random(table: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """P2(b) against P2(a): per (variant, N, K) of the pretrained arm, the tasks at criterion
    when every task is learned through fresh modulation parameters on the frozen *pretrained*
    backbone and on the frozen *random* one (mean and 95% t half-width over seeds), their
    difference pretrained - random paired over seeds (the two networks of a seed differ only in
    their shared weights) with its interval and p (and the exact sign-flip ``p_exact``, which
    stays valid when every seed differs by the same count), Holm-adjusted over the rows compared
    (descriptive: outside C3's rule), the fraction of seeds with every task at criterion, trials
    to criterion (every task; mean over the seeds that got there, and how many), the
    backbones' share with every pretraining task at criterion, and the per-task budget. Where
    P2(a) has no network of that (variant, N, K) the random columns and the test are nan."""
    t = _with_arm(table)
    pre, rnd = t[t.backbone == PRETRAINED_ARM], t[t.backbone == RANDOM_ARM]
    bb = t[t.backbone == BACKBONE_ARM]
    rows = []
    for (v, n, k), g in pre.groupby(["variant", "N", "K"], sort=False):
        r = rnd[(rnd.variant == v) & (rnd.N == n) & (rnd.K == k)]
        b = bb[(bb.variant == v) & (bb.N == n)]
        pm, ph, pn = _ci(g.n_at_criterion)
        rm, rh, rn = _ci(r.n_at_criterion)
        d = paired(_seed_map(g, "n_at_criterion"), _seed_map(r, "n_at_criterion"), exact=True)
        pt, ptn = _ttc(g)
        rt, rtn = _ttc(r)
        rows.append(
            {
                "variant": v,
                "N": int(n),
                "K": int(k),
                "n": pn,
                "n_pretrain": int(g.parent_K.iloc[0]) if "parent_K" in g else np.nan,
                "pretrained": pm,
                "pretrained_hw": ph,
                "random": rm,
                "random_hw": rh,
                "diff": d["diff"] if rn else np.nan,
                "lo": d["lo"],
                "hi": d["hi"],
                "p": d["p"],
                "p_exact": d["p_exact"],
                "pairs": d["n"],
                "all_pretrained": float(g.all_at_criterion.mean()),
                "all_random": float(r.all_at_criterion.mean()) if rn else np.nan,
                "ttc_pretrained": pt,
                "ttc_pretrained_n": ptn,
                "ttc_random": rt,
                "ttc_random_n": rtn,
                "backbone_learned": float(b.all_at_criterion.mean()) if len(b) else np.nan,
                "params_per_task": int(g.params_per_task.iloc[0])
                if "params_per_task" in g
                else np.nan,
            }
        )
    cols = [
        "variant",
        "N",
        "K",
        "n",
        "n_pretrain",
        "pretrained",
        "pretrained_hw",
        "random",
        "random_hw",
        "diff",
        "lo",
        "hi",
        "p",
        "p_exact",
        "pairs",
        "all_pretrained",
        "all_random",
        "ttc_pretrained",
        "ttc_pretrained_n",
        "ttc_random",
        "ttc_random_n",
        "backbone_learned",
        "params_per_task",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["p_holm"] = holm(df.p.to_numpy(float)) if len(df) else np.array([], float)
    df["differs"] = np.isfinite(df.p_holm) & (df.p_holm < alpha)
    return df


def _trials(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:,.0f}"


def pretrained_text(cmp: pd.DataFrame) -> str:
    """Under the P2(b) figure: per (N, K), each pathway's tasks at criterion on the pretrained
    and on the random frozen backbone with their paired difference; which pathways learned
    every task on the pretrained backbone; trials to criterion; how many backbones learned
    their own tasks. Descriptive evidence for C3, outside its rule."""
    if not len(cmp):
        return "*(the pretrained-backbone arm was not run)*"
    k0 = int(cmp.n_pretrain.iloc[0])
    parts = []
    for (n, k), g in cmp.groupby(["N", "K"], sort=True):
        items = []
        for r in g.itertuples():
            item = (
                f"`{r.variant}` {fmt(r.pretrained, r.pretrained_hw, digits=1)} "
                f"(random backbone {fmt(r.random, r.random_hw, digits=1)}"
            )
            if np.isfinite(r.lo):
                item += (
                    f"; paired difference {r.diff:+.1f} [{r.lo:+.1f}, {r.hi:+.1f}], "
                    f"Holm-adjusted p = {r.p_holm:.3g}, exact sign-flip p = "
                    f"{r.p_exact:.2g}"
                )
            elif np.isfinite(r.diff):
                item += f"; difference {r.diff:+.1f} over {r.pairs} seed"
            items.append(item + ")")
        parts.append(f"N = {n}, K = {k}: " + ", ".join(items))
    all_any = cmp[cmp.all_pretrained > 0]
    learners = list(dict.fromkeys(all_any.variant))
    others = [v for v in dict.fromkeys(cmp.variant) if v not in learners]
    ttc = "; ".join(
        f"`{r.variant}` {_trials(r.ttc_pretrained)} trials at N = {r.N}, K = {r.K} "
        f"({r.ttc_pretrained_n} of {r.n} seeds)"
        for r in cmp.itertuples()
        if r.ttc_pretrained_n
    )
    bb = cmp.backbone_learned.to_numpy(float)
    bb_text = (
        ""
        if not np.isfinite(bb).any()
        else f" The backbones learned their {k0} pretraining task{'s' * (k0 > 1)} in "
        f"{np.nanmin(bb):.0%}–{np.nanmax(bb):.0%} of seeds per pathway."
        if np.nanmin(bb) != np.nanmax(bb)
        else f" The backbones learned their {k0} pretraining task{'s' * (k0 > 1)} in "
        f"{np.nanmin(bb):.0%} of seeds."
    )
    return (
        f"Tasks at criterion (of K) when every task is learned through fresh modulation "
        f"parameters on a frozen backbone pretrained jointly on the first {k0} "
        f"task{'s' * (k0 > 1)}, against the frozen random backbone of P2(a) (mean ± 95% t "
        f"half-width over seeds; the two networks of a seed share everything but the "
        "trained shared weights): "
        + "; ".join(parts)
        + ". "
        + (
            f"Every task learned in at least one seed: {', '.join(f'`{v}`' for v in learners)}"
            if learners
            else "No pathway learned every task on the pretrained backbone"
        )
        + (f"; never: {', '.join(f'`{v}`' for v in others)}." if others and learners else ".")
        + (
            f" Trials to criterion on the pretrained backbone (every task; seeds that got "
            f"there): {ttc}."
            if ttc
            else ""
        )
        + bb_text
        + " Descriptive, outside C3's rule."
    )


# ---------------------------------------------------------------- P3: sequential packing

SEQ_ARMS = {"seq_modulation": "modulation only", "seq_finetune": "fine-tuning"}
"""P3's table arms and their modes."""


@dataclass
class Forgetting:
    """P3's forgetting, from the table's stage rows (arm ``seq_*``; K is the stage; the table
    needs ``tasks``, the comma-joined task order so far, and ``perf:<task>`` columns).

    ``per_seed``: one row per (arm, variant, N, seed, stage k): ``task`` (the one trained at
    stage k), ``new_perf`` (its performance after stage k), ``earlier`` (mean performance on
    tasks 1..k-1 after stage k; nan at k = 1), ``forgetting`` (mean over j < k of the
    performance on task j after stage j minus after stage k), ``n_at_criterion`` (of k) and
    ``earlier_at_criterion`` (of k - 1).
    ``summary``: one row per (arm, variant, N, stage): those as mean and 95% t half-width over
    seeds (``n`` seeds).
    ``curves``: one row per (arm, variant, N, task j, stage k >= j): the performance on task j
    after stage k, mean, half-width and seeds -- the forgetting curves.
    ``held``: one row per (arm, variant, N): the largest stage k after which every task so far
    is at criterion (0 if none; mean, half-width, seeds), and the stages run.
    """

    per_seed: pd.DataFrame
    summary: pd.DataFrame
    curves: pd.DataFrame
    held: pd.DataFrame


def forgetting(table: pd.DataFrame, criterion: float = CRITERION) -> Forgetting:
    """:class:`Forgetting` of the P3 rows of a packing table."""
    t = _with_arm(table)
    t = t[t.backbone.isin(list(SEQ_ARMS))]
    if len(t) and "tasks" not in t:
        raise ValueError(
            "table: column 'tasks' is missing; expected a table of "
            "lib.experiments.packing.run_packing"
        )
    per_seed, curves_raw, held_raw = [], [], []
    for (arm, v, n, s), g in t.groupby(["backbone", "variant", "N", "seed"], sort=False):
        g = g.sort_values("K")
        order = max(g.tasks, key=len).split(",")
        after = {int(r.K): r for _, r in g.iterrows()}  # stage -> row
        first = {}  # task j -> its performance after its own stage
        best = 0
        for k, r in after.items():
            tasks = order[:k]
            perf = np.array([float(r[f"perf:{x}"]) for x in tasks])
            first[tasks[-1]] = perf[-1]
            earlier = perf[:-1]
            forg = [first[x] - perf[j] for j, x in enumerate(tasks[:-1]) if x in first]
            per_seed.append(
                {
                    "backbone": arm,
                    "variant": v,
                    "N": int(n),
                    "seed": int(s),
                    "stage": k,
                    "task": tasks[-1],
                    "new_perf": float(perf[-1]),
                    "earlier": float(earlier.mean()) if earlier.size else np.nan,
                    "forgetting": float(np.mean(forg)) if forg else np.nan,
                    "n_at_criterion": int((perf >= criterion).sum()),
                    "earlier_at_criterion": int((earlier >= criterion).sum()),
                }
            )
            for j, x in enumerate(tasks):
                curves_raw.append(
                    {
                        "backbone": arm,
                        "variant": v,
                        "N": int(n),
                        "seed": int(s),
                        "task": x,
                        "task_index": j + 1,
                        "stage": k,
                        "perf": float(perf[j]),
                    }
                )
            if (perf >= criterion).all():
                best = k
        held_raw.append(
            {
                "backbone": arm,
                "variant": v,
                "N": int(n),
                "seed": int(s),
                "held": best,
                "stages": max(after),
            }
        )
    ps = pd.DataFrame(
        per_seed,
        columns=[
            "backbone",
            "variant",
            "N",
            "seed",
            "stage",
            "task",
            "new_perf",
            "earlier",
            "forgetting",
            "n_at_criterion",
            "earlier_at_criterion",
        ],
    )
    summary = []
    for (arm, v, n, k), g in ps.groupby(["backbone", "variant", "N", "stage"], sort=False):
        row = {
            "backbone": arm,
            "variant": v,
            "N": int(n),
            "stage": int(k),
            "task": g.task.iloc[0],
            "n": len(g),
        }
        for col in ("new_perf", "earlier", "forgetting", "n_at_criterion"):
            m, h, _ = _ci(g[col])
            row[col], row[f"{col}_hw"] = m, h
        summary.append(row)
    cr = pd.DataFrame(curves_raw)
    curves = []
    if len(cr):
        for (arm, v, n, x, j, k), g in cr.groupby(
            ["backbone", "variant", "N", "task", "task_index", "stage"], sort=False
        ):
            m, h, cnt = _ci(g.perf)
            curves.append(
                {
                    "backbone": arm,
                    "variant": v,
                    "N": int(n),
                    "task": x,
                    "task_index": int(j),
                    "stage": int(k),
                    "perf": m,
                    "perf_hw": h,
                    "n": cnt,
                }
            )
    hr = pd.DataFrame(held_raw)
    held = []
    if len(hr):
        for (arm, v, n), g in hr.groupby(["backbone", "variant", "N"], sort=False):
            m, h, cnt = _ci(g.held)
            held.append(
                {
                    "backbone": arm,
                    "variant": v,
                    "N": int(n),
                    "held": m,
                    "held_hw": h,
                    "n": cnt,
                    "stages": int(g.stages.max()),
                }
            )
    return Forgetting(ps, pd.DataFrame(summary), pd.DataFrame(curves), pd.DataFrame(held))


def forgetting_text(fg: Forgetting) -> str:
    """Under P3's figures: per mode and N, each pathway after the last stage (performance on the
    earlier tasks, forgetting, the new task, tasks at criterion) and the longest run of stages
    it held; for the modulation-only mode, the largest forgetting anywhere (zero by
    construction: the old tasks' parameters never move). Descriptive, outside C3's rule."""
    s = fg.summary
    if not len(s):
        return "*(the sequential arm was not run)*"
    out = []
    for arm, sa in s.groupby("backbone", sort=False):
        for n, sn in sa.groupby("N", sort=True):
            k = int(sn.stage.max())
            last = sn[sn.stage == k]
            items = []
            for r in last.itertuples():
                h = fg.held[
                    (fg.held.backbone == arm) & (fg.held.variant == r.variant) & (fg.held.N == n)
                ].iloc[0]
                items.append(
                    f"`{r.variant}` earlier tasks {fmt(r.earlier, r.earlier_hw)} "
                    f"(forgetting {fmt(r.forgetting, r.forgetting_hw)}), new task "
                    f"{fmt(r.new_perf, r.new_perf_hw)}, "
                    f"{fmt(r.n_at_criterion, r.n_at_criterion_hw, digits=1)} of {k} "
                    f"at criterion; last stage with every task so far at "
                    f"criterion {fmt(h.held, h.held_hw, digits=1)}"
                )
            line = (
                f"*{SEQ_ARMS.get(arm, arm)}*, N = {n}, after stage {k} "
                f"({last.task.iloc[0]}): " + "; ".join(items) + "."
            )
            if arm == "seq_modulation":
                f = fg.per_seed[(fg.per_seed.backbone == arm) & (fg.per_seed.N == n)]
                worst = (
                    float(np.nanmax(np.abs(f.forgetting))) if f.forgetting.notna().any() else 0.0
                )
                line += (
                    f" With the shared weights frozen after stage 1 the earlier tasks "
                    f"cannot be forgotten: the largest change of an earlier task's "
                    f"performance over all stages and seeds is {worst:.3g}."
                )
            out.append(line)
    return (
        "Sequential packing, one task per stage without replay (mean ± 95% t half-width "
        "over seeds; forgetting = performance on a task right after its own stage minus "
        "now, averaged over the earlier tasks). "
        + " ".join(out)
        + " Descriptive, outside C3's rule."
    )


def compute_text(table: pd.DataFrame, workers: int) -> str:
    """What the table's networks cost to train, measured: the sum of every distinct network's
    training wall time (recorded as it trained; a network shared by arms counted once) per arm
    and in all, and that sum over ``workers`` parallel processes (the wall time of the sweep on
    an otherwise idle machine, up to load imbalance)."""
    uniq = table.drop_duplicates(subset="artifact")
    per_arm = uniq.groupby("backbone", sort=False).wall_s.agg(["sum", "count"])
    total = float(uniq.wall_s.sum())
    parts = ", ".join(
        f"{ARM_NAMES_SHORT.get(a, a)} {r['sum'] / 60:.0f} min ({int(r['count'])})"
        for a, r in per_arm.iterrows()
    )
    return (
        f"Measured compute of these {len(uniq)} networks: {total / 3600:.2f} core-hours of "
        f"training in all ({parts}; single-thread wall time per network, summed), i.e. "
        f"about {total / workers / 60:.0f} min with {workers} workers in parallel."
    )


ARM_NAMES_SHORT = {
    "trained": "P1",
    "frozen_random": "P2(a)",
    "pretrain": "P2(b) backbones",
    "pretrained": "P2(b)",
    "seq_modulation": "P3 modulation",
    "seq_finetune": "P3 fine-tuning",
}


__all__ = [
    "ALPHA",
    "C3_RULE",
    "CONTROL_RULE",
    "PROTOCOLS",
    "ProtocolControl",
    "protocol_control",
    "shipped_protocol_control",
    "control_changes",
    "protocol_control_text",
    "CRITERION",
    "MEASURES",
    "PAIRS",
    "Capacity",
    "capacity",
    "comparisons",
    "verdict_c3",
    "c3_markdown",
    "title_consistency",
    "at_criterion_text",
    "capacity_text",
    "efficiency_text",
    "frozen_text",
    "PRETRAINED_ARM",
    "RANDOM_ARM",
    "BACKBONE_ARM",
    "SEQ_ARMS",
    "pretrained_vs_random",
    "pretrained_text",
    "Forgetting",
    "forgetting",
    "forgetting_text",
    "compute_text",
    "c3_comparisons",
    "c3_multiverse",
]
