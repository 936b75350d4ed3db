"""The full battery's analyses (the full-battery chapter): what the pathways learn on Yang's 20
tasks, how many tasks each packs against N, and C1 / C3 at this scale.

Inputs: E1 at scale ``nets[(label, seed)] -> TrainResult`` and E3 at scale
``size_nets[(N, label, seed)] -> TrainResult`` (:mod:`lib.experiments.full_battery`). Only
complete sets are judged (:func:`lib.experiments.full_battery.complete_variants`). A task is
*learned* when its performance at the network's last evaluation (``eval_trials`` of Yang's
standard trials per task, network noise on) is at criterion; a network has *learned the
battery* when at least :data:`lib.analysis.calibration.FULL_BATTERY_LEARNED` of its 20 tasks are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.analysis import verdicts
from lib.analysis.ambiguity import AT_SCALE_MEASURES, c2_factorial, verdict_c2_at_scale
from lib.analysis.battery import c1_markdown, verdict_c1
from lib.analysis.clustering import clustering_verdict
from lib.analysis.calibration import FULL_BATTERY_LEARNED, tasks_at_criterion
from lib.analysis.common import CRITERION, EXC_FAMILY, SYN_FAMILY
from lib.core.train import build_model
from lib.core.types import Networks
from lib.experiments.ambiguity import CONFLICT_PAIRS
from lib.experiments.full_battery import (
    FullSpec,
    complete_sizes,
    complete_variants,
    full_analyses,
    full_networks,
)

SEEN_FULL = (
    "the full-battery calibration networks (exc_bias and syn_prepost, seeds 0 and 1, at "
    "N = 128 and 64) had been seen: at N = 128 all four reached all 20 tasks; at N = 64 "
    "exc_bias reached 20 and syn_prepost 18 at best. No other network of the full battery "
    "existed when this rule was written"
)

C3_SCALE_RULE = verdicts.register(
    verdicts.Rule(
        name="C3.full.tasks_learned",
        claim="C3",
        version=1,
        family="C3.full",
        measure="tasks at criterion when all 20 are trained jointly",
        unit="network size",
        higher_is_better=True,
        sesoi=1.0,
        sesoi_reason="one task: the measure counts tasks",
        preregistered=False,
        seen=SEEN_FULL,
    )
)
"""C3 at scale: exploratory, because its networks at N = 64 and 128 are the calibration's,
which had been seen when the rule was written (it is reported, it decides nothing)."""


def final_counts(nets: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """One row per network of ``nets`` (any keys): its key, N, mechanism, seed, tasks at
    criterion at the end and at best, mean final performance over tasks, training trials, and
    the step at which its loss diverged (``None``: it did not; a diverged run counts with the
    network of its last evaluation, see :func:`lib.core.train.train`)."""
    rows = []
    for key, res in nets.items():
        _, count = tasks_at_criterion(res, criterion)
        rows.append(
            {
                "key": key,
                "N": res.config.n_rec,
                "mechanism": res.config.mechanism,
                "seed": res.config.seed,
                "tasks": len(res.config.tasks),
                "at criterion (end)": int(count[-1]),
                "at criterion (best)": int(count.max()),
                "mean final perf": float(res.history.perf_array()[-1].mean()),
                "trials": int(res.history.trials[-1]),
                "diverged at step": res.history.diverged_at,
            }
        )
    return pd.DataFrame(rows)


def learned_summary(nets: Networks, spec: FullSpec, criterion: float = CRITERION) -> pd.DataFrame:
    """Per complete variant: seeds, tasks at criterion at the end per seed, their median, mean
    final performance, and whether the median seed learned the battery (>= 18 of 20)."""
    rows = []
    for v in complete_variants(nets, spec):
        seeds = range(spec.battery.n_seeds)
        counts = final_counts({s: nets[v, s] for s in seeds}, criterion)
        at = counts["at criterion (end)"].to_numpy()
        rows.append(
            {
                "variant": v,
                "seeds": len(at),
                "tasks at criterion per seed": ", ".join(map(str, at)),
                "median": float(np.median(at)),
                "mean final perf": round(float(counts["mean final perf"].mean()), 3),
                "median trials": f"{np.median(counts['trials']):,.0f}",
                f"median seed >= {FULL_BATTERY_LEARNED}": bool(
                    np.median(at) >= FULL_BATTERY_LEARNED
                ),
            }
        )
    return pd.DataFrame(rows).set_index("variant") if rows else pd.DataFrame()


def learned_text(nets: Networks, spec: FullSpec, criterion: float = CRITERION) -> str:
    """Which complete variants learned the battery (median seed at >= 18 of 20 tasks), every
    number from :func:`learned_summary`."""
    table = learned_summary(nets, spec, criterion)
    if table.empty:
        return "No variant has every seed trained yet."
    bar = f"median seed >= {FULL_BATTERY_LEARNED}"
    carrying = [v for v in table.index if v != "none"]
    learned = [v for v in carrying if table.loc[v, bar]]
    lines = [
        f"{len(learned)} of the {len(carrying)} complete context-carrying variants learned the "
        f"battery (median seed at {FULL_BATTERY_LEARNED} or more of 20 tasks"
        + (f": {', '.join(f'`{v}`' for v in learned)}" if learned else "")
        + ")."
    ]
    failed = [v for v in carrying if v not in learned]
    if failed:
        lines.append(
            "Below the bar: "
            + "; ".join(f"`{v}` (median {table.loc[v, 'median']:.0f} tasks)" for v in failed)
            + ". A variant below the bar is not compared at this scale by any claim that needs "
            "the tasks learned."
        )
    if "none" in table.index:
        lines.append(
            f"The context-blind `none` ends with a median of {table.loc['none', 'median']:.0f} "
            "tasks at criterion: the tasks it cannot solve are the ones that need the context."
        )
    return " ".join(lines)


def c1_scale_text(v: dict, nets: Networks, spec: FullSpec) -> str:
    """C1 at scale as a paragraph (:func:`lib.analysis.battery.c1_markdown`), or what is missing
    to test it."""
    if v["verdict"] == "not tested" and not v["comparisons"]:
        done = complete_variants(nets, spec)
        return (
            f"**C1 at scale — not tested**: it {v['why']}; the complete variants are "
            f"{', '.join(f'`{x}`' for x in done) or 'none yet'}."
        )
    return c1_markdown(v, spec.battery)


def missing_text(nets: Networks, spec: FullSpec) -> str:
    """Which of the spec's variants are not complete yet (what the chapter cannot show)."""
    done = complete_variants(nets, spec)
    missing = [v for v in spec.battery.variants if v not in done]
    if not missing:
        return f"Every variant has all {spec.battery.n_seeds} seeds."
    parts = [
        f"`{v}` ({sum((v, s) in nets for s in range(spec.battery.n_seeds))} of "
        f"{spec.battery.n_seeds} seeds)"
        for v in missing
    ]
    return (
        "Not trained yet, so not shown or judged: "
        + ", ".join(parts)
        + ". The figures and verdicts below cover the complete variants only; they fill in as "
        "networks are shipped (`python -m lib.experiments --profile full`)."
    )


def scale_verdict_c1(nets: Networks, spec: FullSpec, criterion: float = CRITERION) -> dict:
    """C1 at scale: :func:`lib.analysis.battery.verdict_c1` (the quick profile's rule, written
    before any full-battery network existed) on the complete variants."""
    done = set(complete_variants(nets, spec))
    return verdict_c1({k: r for k, r in nets.items() if k[0] in done}, criterion)


def size_table(size_nets: dict, spec: FullSpec, criterion: float = CRITERION) -> pd.DataFrame:
    """E3 at scale, one row per network of the complete sizes: N, variant, seed, tasks at
    criterion at the end, modulation parameters per task, tasks learned per 1,000 of them, and
    the step at which training diverged (``None``: it did not)."""
    rows = []
    for n in complete_sizes(size_nets, spec):
        for v in spec.size_variants:
            for s in range(spec.size_seeds):
                res = size_nets[n, v, s]
                per_task = build_model(res.config).params_per_task()
                at = int(tasks_at_criterion(res, criterion)[1][-1])
                rows.append(
                    {
                        "N": n,
                        "variant": v,
                        "seed": s,
                        "at criterion (end)": at,
                        "modulation params per task": per_task,
                        "tasks per 1k modulation params": 1000 * at / (per_task * 20),
                        "diverged at step": res.history.diverged_at,
                    }
                )
    return pd.DataFrame(rows)


def c3_at_scale(size_nets: dict, spec: FullSpec, criterion: float = CRITERION) -> list:
    """Per pair of size variants (first minus each other), tasks at criterion per N, paired
    over seeds, through the engine (exploratory: :data:`C3_SCALE_RULE`)."""
    table = size_table(size_nets, spec, criterion)
    if table.empty or len(spec.size_variants) < 2:
        return []

    def values(v):
        t = table[table["variant"] == v]
        return t.pivot(index="seed", columns="N", values="at criterion (end)")

    a = spec.size_variants[0]
    return verdicts.decide(
        [
            verdicts.compare(values(a), values(b), C3_SCALE_RULE, a, b)
            for b in spec.size_variants[1:]
        ]
    )


def _spread(row: pd.Series) -> str:
    lo, hi = int(row["min"]), int(row["max"])
    return f"{lo} in every seed" if lo == hi else f"{row['mean']:.1f} (range {lo}–{hi})"


def size_text(size_nets: dict, spec: FullSpec, criterion: float = CRITERION) -> str:
    """What E3 at scale shows, every number from :func:`size_table` and :func:`c3_at_scale`."""
    table = size_table(size_nets, spec, criterion)
    done = complete_sizes(size_nets, spec)
    missing = [n for n in spec.sizes if n not in done]
    lines = []
    if table.empty:
        return (
            f"No size of {spec.sizes} has every network yet ({', '.join(spec.size_variants)}, "
            f"{spec.size_seeds} seeds each); this section fills in as they are shipped."
        )
    means = table.groupby(["N", "variant"])["at criterion (end)"].agg(["mean", "min", "max"])
    for n in done:
        parts = [f"`{v}` {_spread(means.loc[(n, v)])}" for v in spec.size_variants]
        lines.append(f"- N = {n}: tasks at criterion of 20, " + "; ".join(parts) + ".")
    if missing:
        lines.append(
            f"- N = {', '.join(map(str, missing))}: not every network is trained yet (not shown)."
        )
    lines += [
        f"- `{r.variant}` seed {r.seed} at N = {r.N}: its training loss became non-finite before "
        f"step {int(r['diverged at step']):,} (gradient clipping on); it counts with the "
        f"{r['at criterion (end)']} tasks of its last evaluation before that (kept, not dropped)."
        for _, r in table.iterrows()
        if pd.notna(r["diverged at step"])
    ]
    for c in c3_at_scale(size_nets, spec, criterion):
        lines.append(f"- {c.text()}; the rule was written after part of its data had been seen.")
    return "\n".join(lines)


def scale_pairs(labels) -> list[tuple[str, str]]:
    """The excitability-vs-synaptic pairs among ``labels`` (each single-pathway excitability
    variant against each synaptic one): the comparisons C2 and C4 make at scale."""
    return [(a, b) for a in EXC_FAMILY if a in labels for b in SYN_FAMILY if b in labels]


def c2_at_scale(probes: dict, labels) -> dict[tuple[str, str], dict]:
    """C2 at scale per pair of :func:`scale_pairs` (:func:`verdict_c2_at_scale`: the quick
    profile's C2 rule on the battery's 7 conflict pairs, Holm over each pair's family)."""
    return {(a, b): verdict_c2_at_scale(probes, a, b) for a, b in scale_pairs(labels)}


def c4_at_scale(clusters: dict, labels) -> dict[tuple[str, str], dict]:
    """Unit clusters at scale per pair of :func:`scale_pairs`
    (:func:`lib.analysis.clustering.clustering_verdict`)."""
    return {(a, b): clustering_verdict(clusters, a, b) for a, b in scale_pairs(labels)}


def factorial_at_scale(probes: dict) -> dict[str, list[verdicts.Comparison]]:
    """C2's measures at scale as the site x operation factorial of the four single-pathway cells
    (:func:`lib.analysis.ambiguity.c2_factorial` on the battery's 7 conflict pairs and
    :data:`lib.analysis.ambiguity.AT_SCALE_MEASURES`, the quick profile's factorial rules);
    empty until every cell is complete."""
    return c2_factorial(probes, conflict=CONFLICT_PAIRS, measures=AT_SCALE_MEASURES)


def c2_scale_text(results: dict[tuple[str, str], dict]) -> str:
    """Per pair: the C2 verdict, the largest difference (by its mean in units of the SESOI) and
    the power statement; every number from the engine's comparisons."""
    if not results:
        return "*(not tested: no excitability and synaptic variant both complete)*"
    lines = []
    for (a, b), v in results.items():
        tested = [c for c in v["comparisons"] if c.tested]
        lines.append(f"**{a} − {b}: {v['verdict']}** ({len(tested)} probe measures scored).")
        if tested:
            big = max(tested, key=lambda c: abs(c.mean) / c.rule.sesoi)
            lines.append(f"- Largest: {big.text()}")
            lines.append(f"- {verdicts.power_text(tested)}")
            floor = verdicts.floor_text(tested)
            if floor:
                lines.append(f"- {floor}")
    return "\n".join(lines)


def scale_verdicts(c1: dict, c2: dict, c4: dict) -> dict[str, str]:
    """Claim -> its verdict at scale, by the quick profile's own aggregation: C1 its rule's;
    C2 *supported* if every pair differs on some probe, *partly* if some does, *not supported*
    if every pair is equivalent throughout, else inconclusive; C4 (operationalised by Yang's
    unit clusters at this scale) the same over pairs. C3 at scale is exploratory (not
    decided)."""

    def combine(statuses: list[str], differ: str, same: str) -> str:
        if not statuses or all(s == "not tested" for s in statuses):
            return "not tested"
        if all(s == differ for s in statuses):
            return "supported"
        if differ in statuses:
            return "partly supported"
        if all(s == same for s in statuses):
            return "not supported"
        return "inconclusive"

    c2_status = [
        "differ"
        if v["verdict"] in ("supported", "partly supported")
        else "same"
        if v["verdict"] == "not supported"
        else v["verdict"]
        for v in c2.values()
    ]
    return {
        "C1": c1["verdict"],
        "C2": combine(c2_status, "differ", "same"),
        "C3": "not tested (exploratory at scale)",
        "C4": combine([v["verdict"] for v in c4.values()], "differ", "alike"),
    }


def scale_column(spec: FullSpec) -> str:
    """The name of the full battery's column in verdict tables (its tasks and N)."""
    return f"full battery ({len(spec.battery.tasks)} tasks, N = {spec.battery.n_rec})"


def scale_table(verdicts_at_scale: dict[str, str], spec: FullSpec) -> pd.DataFrame:
    """The verdicts at scale as a one-column table (claim -> verdict)."""
    return pd.DataFrame({scale_column(spec): verdicts_at_scale}).rename_axis("claim")


@dataclass(frozen=True)
class ScaleResults:
    """Everything the full battery's pages show: E1 at scale (``nets``, keyed (label, seed)),
    E3 at scale (``size_nets``, keyed (N, label, seed)), the complete variants (``shown``), E4's
    clusters and E2's conflict-pair probes of the context-carrying ones, C1, C2 and C4 at scale,
    the site x operation factorial of C2's measures (``factorial``, empty until all four cells
    are complete) and the verdicts (claim -> verdict)."""

    spec: FullSpec
    nets: Networks
    size_nets: dict
    shown: list[str]
    clusters: dict
    probes: dict
    c1: dict
    c2: dict
    c4: dict
    factorial: dict
    verdicts: dict[str, str]


def scale_results(
    spec: FullSpec, train_missing: bool = False, workers: int = 2, allow_long: bool = False
) -> ScaleResults:
    """Load the shipped full battery (or train what is missing, ``train_missing``), analyse its
    complete variants and judge C1, C2 and C4 at scale."""
    nets, size_nets = full_networks(spec, train_missing, workers, allow_long)
    shown = complete_variants(nets, spec)
    clusters, probes = full_analyses(
        {k: v for k, v in nets.items() if k[0] in shown}, workers, allow_long=allow_long
    )
    carrying = [v for v in shown if v != "none"]
    c1 = scale_verdict_c1(nets, spec)
    c2, c4 = c2_at_scale(probes, carrying), c4_at_scale(clusters, carrying)
    return ScaleResults(
        spec,
        nets,
        size_nets,
        shown,
        clusters,
        probes,
        c1,
        c2,
        c4,
        factorial_at_scale(probes),
        scale_verdicts(c1, c2, c4),
    )


def _holds(quick: str, full: str) -> str:
    if any(v.startswith("not tested") or v == "inconclusive" for v in (quick, full)):
        return "open"  # nothing decided at one scale: nothing to carry over
    return "yes" if quick == full else "no"


def side_by_side(
    quick: dict[str, str],
    full: dict[str, str],
    spec: FullSpec | None = None,
    quick_label: str = "quick",
) -> pd.DataFrame:
    """Claim -> its verdict in the chapters' profile (column ``quick_label``) and on the full
    battery (``spec`` names its column), and whether the verdict holds at scale: "yes" where
    both scales decide alike, "no" where they decide differently, "open" where either is not
    tested or inconclusive."""
    rows = []
    for claim in sorted(set(quick) | set(full)):
        q, f = quick.get(claim, "not tested"), full.get(claim, "not tested")
        rows.append(
            {
                "claim": claim,
                quick_label: q,
                scale_column(spec) if spec else "full battery": f,
                "holds at scale": _holds(q, f),
            }
        )
    return pd.DataFrame(rows).set_index("claim")


__all__ = [
    "ScaleResults",
    "scale_results",
    "SEEN_FULL",
    "C3_SCALE_RULE",
    "final_counts",
    "learned_summary",
    "missing_text",
    "learned_text",
    "c1_scale_text",
    "scale_verdict_c1",
    "size_table",
    "c3_at_scale",
    "size_text",
    "scale_pairs",
    "c2_at_scale",
    "c4_at_scale",
    "c2_scale_text",
    "factorial_at_scale",
    "scale_verdicts",
    "scale_column",
    "scale_table",
    "side_by_side",
]
