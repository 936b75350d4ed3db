"""E1 analyses (the battery, claim C1): learning curves, final performance, trials to criterion,
pathway ablations and unit lesions (read from the cached results of
:mod:`lib.experiments.lesions`), and the verdict on C1 (both pathways carry task identity).

Inputs are the E1 networks ``nets[(label, seed)] -> lib.core.train.TrainResult``. The verdict
runs on the verdict engine (:mod:`lib.analysis.verdicts`): every context-carrying variant
against the context-blind ``none``, paired over seeds on the tasks that need context.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis import verdicts
from lib.analysis.common import (
    CRITERION,
    FAMILIES,
    MATCHED,
    budget,
    final_perf,
    perf_table,
    seeds_of,
)
from lib.analysis.factorial import (
    design_comparisons,
    factorial_text,
    kept_variants,
    nothing_left_text,
)
from lib.analysis.factorial import SEEN as FACTORIAL_SEEN
from lib.analysis.stats import mean_ci
from lib.core.tasks import DISPLAY_NAMES
from lib.experiments import lesions


def curves(nets: dict, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Learning curves on a common grid: trials (E,), perf (S, E, K).

    A run stopped at criterion keeps its last evaluation for the rest of the grid (its training
    ended there).
    """
    hists = [nets[label, s].history for s in seeds_of(nets, label)]
    longest = max(hists, key=lambda h: len(h.trials))
    trials = np.asarray(longest.trials)
    out = np.empty((len(hists), len(trials), len(longest.tasks)))
    for i, h in enumerate(hists):
        p = h.perf_array()
        out[i, : len(p)] = p
        out[i, len(p) :] = p[-1]
    return trials, out


def trials_to_criterion(nets: dict, label: str, criterion: float = CRITERION) -> np.ndarray:
    """Trials (S, K) at which each task first reached criterion (nan: not within budget)."""
    return np.array(
        [nets[label, s].history.trials_to_criterion(criterion) for s in seeds_of(nets, label)]
    )


def summary_table(nets: dict, labels, criterion: float = CRITERION) -> pd.DataFrame:
    """One row per label: budget; final performance (mean over tasks, min over tasks) and the
    fraction of tasks at criterion at the end, each mean +/- 95% t interval over seeds; seeds
    whose every task is at criterion at the end (the C1 rule's sense); and the median trials
    until every task had reached criterion at some evaluation (not necessarily at the same one),
    over the seeds where that happened."""
    rows = []
    for lab in labels:
        fp = final_perf(nets, lab)
        ttc = trials_to_criterion(nets, lab, criterion)
        all_ttc = np.where(np.isnan(ttc).any(axis=1), np.nan, np.nanmax(ttc, axis=1, initial=0))
        row = {"variant": lab, "params/task": budget(nets, lab), "seeds": len(fp)}
        for name, v in (
            ("mean perf", fp.mean(1)),
            ("min perf", fp.min(1)),
            ("tasks at criterion", (fp >= criterion).mean(1)),
        ):
            m, h = mean_ci(v)
            row[name] = f"{m:.3f} ± {h:.3f}" if np.isfinite(h) else f"{m:.3f}"  # ± : 95% t, seeds
        reached = np.isfinite(all_ttc)
        row["seeds with every task at criterion at the end"] = (
            f"{int((fp >= criterion).all(1).sum())}/{len(fp)}"
        )
        row["trials until every task had reached criterion (median)"] = (
            f"{np.median(all_ttc[reached]):,.0f} ({reached.sum()}/{len(fp)} seeds)"
            if reached.any()
            else "not reached"
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant")


def lesion_results(
    nets: dict, labels, fraction: float = lesions.LESION_FRACTION, workers: int = 1
) -> dict:
    """The cached lesion results (:func:`lib.experiments.lesions.analyse_network`) of every
    seed of ``labels`` among ``nets``, {(label, seed): result}: read from their ``lesions``
    artifacts (made first where missing, unless ``$BOOK_NO_TRAIN`` is set)."""
    chosen = {(lab, s): nets[lab, s] for lab in labels for s in seeds_of(nets, lab)}
    return lesions.run_lesions(
        chosen, lesions.LesionSpec(fraction), workers=workers, progress=False
    )


def lesion_drops(
    nets: dict, labels, fraction: float = lesions.LESION_FRACTION, workers: int = 1
) -> dict[str, dict[str, np.ndarray]]:
    """Per label, the performance drops (intact - lesioned) of every seed: ``targeted`` (S, K, K),
    row k after silencing task k's most task-variant units
    (:func:`lib.experiments.lesions.lesion_map`), and ``random`` (S, K) after as many units drawn
    at random (mean of the random draws). Read from the cached results
    (:func:`lesion_results`)."""
    results = lesion_results(nets, labels, fraction, workers)
    out = {}
    for lab in labels:
        per_seed = [results[lab, s] for s in seeds_of(nets, lab)]
        out[lab] = {
            "targeted": np.array([m["intact"][None, :] - m["targeted"] for m in per_seed]),
            "random": np.array([m["intact"] - m["random"] for m in per_seed]),
        }
    return out


def lesion_summary(
    nets: dict, labels, fraction: float = lesions.LESION_FRACTION, drops: dict | None = None
) -> tuple[dict, pd.DataFrame]:
    """Lesion maps of every seed of each label: the mean drop map (intact - targeted, K x K) per
    label, and a table of, per label, the mean drop on the lesioned task's own column
    (diagonal), on the other tasks (off-diagonal) and after random lesions, each mean +/- 95% t
    interval over seeds, plus the excess of the diagonal drop over the random one. ``drops``:
    the output of :func:`lesion_drops`, if already computed."""
    drops = drops if drops is not None else lesion_drops(nets, labels, fraction)
    maps, rows = {}, []
    for lab in labels:
        targeted, random = drops[lab]["targeted"], drops[lab]["random"]  # (S, K, K), (S, K)
        K = targeted.shape[1]
        eye = np.eye(K, dtype=bool)
        stats = {
            "diagonal drop": targeted[:, eye].mean(1),
            "off-diagonal drop": targeted[:, ~eye].mean(1),
            "random-lesion drop": random.mean(1),
        }
        stats["diagonal - random"] = stats["diagonal drop"] - stats["random-lesion drop"]
        maps[lab] = targeted.mean(0)
        row = {"variant": lab, "seeds": len(targeted)}
        for name, v in stats.items():
            m, h = mean_ci(v)
            row[name] = f"{m:.3f} ± {h:.3f}" if np.isfinite(h) else f"{m:.3f}"
        rows.append(row)
    return maps, pd.DataFrame(rows).set_index("variant")


C1_RULE = (
    "A task *needs context* if the context-blind `none` is below criterion at the end of training "
    "in a majority of its seeds. Every context-carrying variant of both families is compared with "
    "`none` on its final performance over the tasks that need context, paired over seeds (which "
    "share initial weights), by the exact sign-flip test; each comparison is its own family (C1 is "
    "a conjunction, every variant must beat the floor: an intersection-union test needs no "
    "multiplicity correction). A variant *beats* `none` if it differs with a positive difference; "
    "it *adds nothing* if it is equivalent to `none` (TOST within the smallest effect of interest) "
    "or worse. C1 is *supported* if every variant of both families beats `none`; *partly "
    "supported* if each family has a variant that beats it but not all do; *not supported* if "
    "every variant of a family adds nothing; *inconclusive* otherwise; *not tested* without "
    "`none`, "
    "a variant of each family or a task that needs context."
)
"""The C1 rule as printed in the chapter; :func:`verdict_c1` applies exactly this."""

C1_VARIANT_SETS = {
    "all": verdicts.C1_VARIANTS,
    "matched": tuple(v for v in verdicts.C1_VARIANTS if any(v in p for p in MATCHED)),
}
"""The variant sets C1 can be judged on: every context-carrying single-pathway variant (the
rule's), or only those of the matched-budget pairs (a specification check)."""

C1_MEASURES = {"final performance": None, "tasks at criterion": "criterion"}
"""C1's measure (the rule's first) and its alternative in the specification check: the fraction
of the tasks that need context ending at criterion."""


def _majority(at: np.ndarray) -> bool:
    return bool(at.sum() * 2 > len(at))


def context_tasks(nets: dict, criterion: float = CRITERION) -> list[str]:
    """The tasks that need context: `none` below criterion at the end in a majority of seeds."""
    floor = perf_table(nets, "none")
    return [t for t in floor.columns if not _majority(floor[t].to_numpy() >= criterion)]


def c1_per_task(nets: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """Per task: `none`'s mean final performance, whether the task needs context, and seeds at
    criterion per variant ("k/n") (descriptive; the verdict is :func:`verdict_c1`)."""
    floor = perf_table(nets, "none")
    rows = []
    for task in floor.columns:
        row = {
            "task": DISPLAY_NAMES.get(task, task),
            "none (mean final)": round(float(floor[task].mean()), 3),
            "needs context": not _majority(floor[task].to_numpy() >= criterion),
        }
        for lab in (m for fam in FAMILIES.values() for m in fam if seeds_of(nets, m)):
            at = perf_table(nets, lab)[task].to_numpy() >= criterion
            row[lab] = f"{int(at.sum())}/{len(at)}"
        rows.append(row)
    return pd.DataFrame(rows).set_index("task")


def c1_comparisons(
    nets: dict,
    criterion: float = CRITERION,
    variants=verdicts.C1_VARIANTS,
    measure: str = "final performance",
    floor_nets: dict | None = None,
) -> list[verdicts.Comparison]:
    """Each variant of ``variants`` present in ``nets`` minus `none` (from ``floor_nets``,
    default ``nets``) on ``measure`` (:data:`C1_MEASURES`) over the tasks that need context,
    through the engine, decided (each its own family)."""
    if measure not in C1_MEASURES:
        raise ValueError(f"measure: got {measure!r}; allowed: {', '.join(C1_MEASURES)}")
    floor_nets = nets if floor_nets is None else floor_nets
    tasks = context_tasks(floor_nets, criterion)
    at = criterion if C1_MEASURES[measure] else None
    floor = perf_table(floor_nets, "none", at)[tasks]
    comps = []
    for v in variants:
        if not seeds_of(nets, v):
            continue
        rule = verdicts.RULES[f"C1.perf_vs_none.{v}"]
        if at is not None:
            rule = verdicts.with_rule(
                rule, measure="fraction of the tasks that need context at criterion"
            )
        comps.append(verdicts.compare(perf_table(nets, v, at)[tasks], floor, rule, v, "none"))
    return verdicts.decide(comps)


def _family_status(comps: list[verdicts.Comparison]) -> str:
    beats = [c.verdict == "differ" and c.mean > 0 for c in comps]
    adds_nothing = [
        c.verdict == "equivalent" or (c.verdict == "differ" and c.mean < 0) for c in comps
    ]
    if comps and all(beats):
        return "all beat none"
    if any(beats):
        return "some beat none"
    if comps and all(adds_nothing):
        return "none adds anything"
    return "unclear"


def verdict_c1(
    nets: dict,
    criterion: float = CRITERION,
    variants=verdicts.C1_VARIANTS,
    measure: str = "final performance",
    floor_nets: dict | None = None,
) -> dict:
    """C1: both pathways can carry task identity, by :data:`C1_RULE`. Returns ``verdict``,
    ``comparisons`` (engine Comparisons, one per variant), ``families`` (family -> status),
    ``tasks`` (the tasks that need context) and ``table`` (:func:`c1_per_task`)."""
    floor_nets = nets if floor_nets is None else floor_nets
    present = {
        f: [m for m in members if m in variants and seeds_of(nets, m)]
        for f, members in FAMILIES.items()
    }
    if not seeds_of(floor_nets, "none") or not all(present.values()):
        return {
            "verdict": "not tested",
            "comparisons": [],
            "families": {},
            "tasks": [],
            "table": None,
            "why": "needs `none` and a variant of each family",
        }
    tasks = context_tasks(floor_nets, criterion)
    if not tasks:
        return {
            "verdict": "not tested",
            "comparisons": [],
            "families": {},
            "tasks": [],
            "table": c1_per_task(floor_nets, criterion),
            "why": "the context-blind network solves every task",
        }
    comps = c1_comparisons(nets, criterion, variants, measure, floor_nets)
    status = {
        f: _family_status([c for c in comps if c.a in members]) for f, members in present.items()
    }
    if all(s == "all beat none" for s in status.values()):
        verdict = "supported"
    elif all(s in ("all beat none", "some beat none") for s in status.values()):
        verdict = "partly supported"
    elif any(s == "none adds anything" for s in status.values()):
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    return {
        "verdict": verdict,
        "comparisons": comps,
        "families": status,
        "tasks": tasks,
        "table": c1_per_task(floor_nets, criterion) if floor_nets is nets else None,
        "why": "",
    }


def c1_multiverse(nets: dict, arm_nets: dict[str, dict] | None = None) -> pd.DataFrame:
    """C1's verdict under every specification (:func:`lib.analysis.verdicts.multiverse`):
    criterion 0.9 / 0.85 / 0.95 (which tasks need context), variant set
    (:data:`C1_VARIANT_SETS`), measure (:data:`C1_MEASURES`) and training arm (``arm_nets``: arm ->
    its networks; their variants against the standard `none` of the same seeds)."""
    arms = {"standard": nets, **(arm_nets or {})}

    def run(criterion, variants, measure, arm):
        return verdict_c1(arms[arm], criterion, C1_VARIANT_SETS[variants], measure, floor_nets=nets)

    return verdicts.multiverse(
        run,
        {
            "criterion": [CRITERION, 0.85, 0.95],
            "variants": list(C1_VARIANT_SETS),
            "measure": list(C1_MEASURES),
            "arm": list(arms),
        },
    )


def c1_markdown(v: dict, spec, multiverse: pd.DataFrame | None = None) -> str:
    """The C1 verdict as a paragraph, every number from :func:`verdict_c1`'s output: the
    comparisons, the rule and its version, the power statement and the specification check."""
    if v["verdict"] == "not tested":
        return f"**C1 — not tested** ({v['why']})."
    families = "; ".join(f"{f}: {s}" for f, s in v["families"].items())
    lines = [
        f"**C1 — {v['verdict']}** ({len(spec.tasks)} tasks, N = {spec.n_rec}, "
        f"{spec.n_seeds} seeds, {spec.max_steps:,} training steps). Tasks that need context: "
        f"{len(v['tasks'])} ({', '.join(DISPLAY_NAMES.get(t, t) for t in v['tasks'])}). "
        f"Per family: {families}.",
        "",
    ]
    lines += [f"* {c.text()}" for c in v["comparisons"]]
    lines += [
        "",
        "Each line: variant − `none`, mean over the tasks that need context, mean "
        "difference and 95% t interval over seeds, exact sign-flip p.",
        "",
        verdicts.power_text(v["comparisons"]),
    ]
    if multiverse is not None and len(multiverse):
        lines.append(
            verdicts.agreement_text(
                multiverse,
                "criterion 0.85/0.9/0.95, every or only "
                "the matched variants, final performance or tasks at "
                "criterion, training arm",
            )
        )
    loo = [verdicts.leave_one_out(c) for c in v["comparisons"] if c.tested]
    if loo and sum(n for _, n in loo):
        lines.append(
            f"Seed subsets: leaving out one seed at a time keeps the direction of "
            f"{sum(k for k, _ in loo)} of {sum(n for _, n in loo)} differences."
        )
    rule = v["comparisons"][0].rule if v["comparisons"] else None
    lines += ["", f"Rule: {C1_RULE}"] + (
        [f"Registry: {verdicts.rule_text(rule)} (one such rule per variant)."] if rule else []
    )
    return "\n".join(lines)


E1_FACTORIAL_RULE = verdicts.register(
    verdicts.Rule(
        name="C1.factorial.final_perf",
        claim="C1",
        version=1,
        family="C1.factorial",
        measure="final performance, every task",
        unit="task",
        higher_is_better=True,
        sesoi=verdicts.PERF_SESOI,
        sesoi_reason=verdicts.PERF_SESOI_REASON,
        preregistered=True,
        seen=FACTORIAL_SEEN,
    )
)
"""The measure whose site x operation contrasts chapter 03 reports (the base of
:func:`lib.analysis.factorial.factorial_rules`): what each cell of the design learns."""


def e1_factorial(nets: dict, excluded=()) -> list[verdicts.Comparison]:
    """The site x operation factorial of final performance over every task
    (:func:`lib.analysis.factorial.design_comparisons`, seeds as blocks): the main effects, or
    the simple effects between kept cells where a cell's variant is in ``excluded``; empty
    unless every cell of :data:`lib.analysis.factorial.CELLS` that is not excluded has
    networks."""
    kept = kept_variants(excluded)
    if not all(seeds_of(nets, v) for v in kept):
        return []
    return design_comparisons({v: perf_table(nets, v) for v in kept}, E1_FACTORIAL_RULE, excluded)


def e1_factorial_text(comparisons: list[verdicts.Comparison], excluded=()) -> str:
    """The factorial's paragraph (:func:`lib.analysis.factorial.factorial_text`), or why it is
    not computed (``excluded``: the variants a learning rule excluded)."""
    if not comparisons and excluded:
        return nothing_left_text(excluded)
    if not comparisons:
        return "*(not computed: the run lacks a cell of the site x operation design)*"
    return factorial_text(comparisons, "final performance")


def hybrid_ablations(
    nets: dict, modes=lesions.ABLATION_MODES, workers: int = 1
) -> dict[str, np.ndarray]:
    """Per-task performance (S, K) of the hybrid intact, with a pathway removed at test time
    (each context replacement of ``modes``, "zero" and/or "mean";
    :func:`lib.experiments.lesions.pathway_ablation`, read from the cached ``lesions``
    results) and trained with a pathway frozen (where those networks exist)."""
    bad = [m for m in modes if m not in lesions.ABLATION_MODES]
    if bad:
        raise ValueError(
            f"modes={tuple(modes)!r} is not allowed; expected modes among {lesions.ABLATION_MODES}"
        )
    seeds = seeds_of(nets, "hybrid")
    cached = lesion_results(nets, ["hybrid"], workers=workers)
    bars = {"intact": final_perf(nets, "hybrid")}
    for pathway in lesions.PATHWAYS:
        for mode in modes:
            name = lesions.ablation_label(pathway, mode)
            bars[name] = np.array([cached["hybrid", s]["ablation"][name] for s in seeds])
    for pathway in lesions.PATHWAYS:
        if seeds_of(nets, f"hybrid_frozen_{pathway}"):
            bars[f"{pathway} frozen in training"] = final_perf(nets, f"hybrid_frozen_{pathway}")
    return bars


PATHWAY_NAMES = {"exc": "excitability", "syn": "synaptic"}


def ablation_text(bars: dict[str, np.ndarray], tasks, criterion: float = CRITERION) -> str:
    """What the hybrid ablations (:func:`hybrid_ablations`) say, in words, every number from
    ``bars``: per pathway removed at test time (zero context), the tasks that fall below
    criterion (intact mean at criterion, ablated mean below it) and the largest per-task drop
    (paired over seeds, mean and 95% t interval); for the networks trained with a pathway frozen,
    the tasks the other pathway reached alone; and what this means for C5."""
    names = [DISPLAY_NAMES.get(t, t) for t in tasks]
    intact = bars["intact"]
    n_seeds = len(intact)
    lost, parts = {}, []
    for pw in ("exc", "syn"):
        removed = bars[f"{pw} removed (zero)"]
        drop = intact - removed  # (S, K), paired over seeds
        k = int(np.argmax(drop.mean(0)))
        m, h = mean_ci(drop[:, k])
        lost[pw] = [
            (names[j], float(removed[:, j].mean()))
            for j in range(len(tasks))
            if intact[:, j].mean() >= criterion and removed[:, j].mean() < criterion
        ]
        where = (
            "takes "
            + (
                f"{len(lost[pw])} of the {len(tasks)} tasks below criterion ("
                + ", ".join(f"{t} {v:.2f}" for t, v in lost[pw])
                + ")"
            )
            if lost[pw]
            else "takes no task below criterion"
        )
        parts.append(
            f"removing the **{PATHWAY_NAMES[pw]}** pathway (context 0 to it) {where}; "
            f"its largest drop, on {names[k]}, is {m:.2f}"
            + (f" ± {h:.2f}" if np.isfinite(h) else "")
        )
    text = [
        f"With the hybrid intact at criterion on "
        f"{int((intact.mean(0) >= criterion).sum())} of {len(tasks)} tasks (mean over "
        f"{n_seeds} seeds), " + "; ".join(parts) + " (drops: intact − ablated, mean ± 95% t "
        f"interval over the {n_seeds} paired seeds)."
    ]
    frozen = {
        pw: bars[f"{pw} frozen in training"]
        for pw in ("exc", "syn")
        if f"{pw} frozen in training" in bars
    }
    if frozen:
        text.append(
            "Trained with one pathway frozen, the other reached criterion on "
            + "; ".join(
                f"{int((v.mean(0) >= criterion).sum())} of {len(tasks)} tasks "
                f"alone (the {PATHWAY_NAMES['syn' if pw == 'exc' else 'exc']} "
                "pathway)"
                for pw, v in frozen.items()
            )
            + "."
        )
    if lost["exc"] and not lost["syn"]:
        meaning = (
            "the trained hybrid relies on its excitability pathway, and its synaptic part "
            "is redundant: the two pathways are not complementary here"
        )
    elif lost["syn"] and not lost["exc"]:
        meaning = (
            "the trained hybrid relies on its synaptic pathway, and its excitability part "
            "is redundant: the two pathways are not complementary here"
        )
    elif lost["exc"] and lost["syn"]:
        meaning = (
            "each pathway carries tasks the other does not: the division of labour that "
            "complementarity in C5's sense would predict"
        )
    else:
        meaning = (
            "either pathway alone keeps every task: within the hybrid they are redundant, "
            "not complementary"
        )
    alone = [pw for pw, v in frozen.items() if (v.mean(0) >= criterion).all()]
    note = (
        " Since a hybrid trained with either pathway frozen still learns every task, this is "
        "how training divided the work between the pathways, not a limit of the unused one."
        if len(alone) == 2
        else ""
    )
    text.append(
        f"**For C5** (the pathways are complementary and synergistic; its time-scale "
        f"part is tested in {{doc}}`07_timescales`): at this profile {meaning}.{note}"
    )
    return " ".join(text)


def arm_summary(nets_by_arm: dict[str, dict], labels, criterion: float = CRITERION) -> pd.DataFrame:
    """:func:`summary_table` of every arm's networks, rows (arm, variant): did each arm's
    networks learn (a network that did not says nothing about robustness)."""
    return pd.concat(
        {
            arm: summary_table(nets, [l for l in labels if seeds_of(nets, l)], criterion)
            for arm, nets in nets_by_arm.items()
        },
        names=["arm"],
    )
