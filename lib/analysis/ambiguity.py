"""E2 analyses (ambiguity, claim C2): where each pathway leaves criterion per conflict pair, how
trials fail (correct / collapse / switch / blend) under mixtures and mid-trial switches, the
robustness summaries, the controls and training arms, the verdict on C2 (the pathways differ in
robustness to ambiguous context) and the sentences the chapter prints under its figures (every
number computed here from the probe artifacts).

Inputs: ``probes[(label, seed)] -> dict`` (:func:`lib.experiments.ambiguity.probe_network`).
Only networks whose task is at criterion on clean context are scored (the page's rule: a network
that never learned a task has nothing to lose on it); every table says how many seeds that left.
Intervals are 95% Student-t intervals over seeds (:func:`lib.analysis.stats.mean_ci`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis import verdicts
from lib.analysis.common import CRITERION, MATCHED, perf_table, seeds_of
from lib.analysis.factorial import design_comparisons, kept_variants
from lib.analysis.stats import fmt, mean_ci, paired
from lib.core.metrics import TOLERANCE
from lib.core.tasks import DISPLAY_NAMES
from lib.experiments import ambiguity
from lib.experiments.battery import ARM_VARIANTS, ARMS, CONTROLS, EQUALISE_TO, TRAIN_MIX


def name(task: str) -> str:
    return DISPLAY_NAMES.get(task, task)


def pair_name(a: str, b: str) -> str:
    return f"{name(a)}/{name(b)}"


def runs(probes: dict, label: str) -> list[tuple[int, dict]]:
    """(seed, probe result) of a label, by seed."""
    return sorted(((s, r) for (lab, s), r in probes.items() if lab == label), key=lambda x: x[0])


def learned(res: dict, task: str, criterion: float = CRITERION) -> bool:
    return bool(res["clean"][res["tasks"].index(task)] >= criterion)


def definitions_markdown(criterion: float = CRITERION) -> str:
    """The chapter's terms, with the numbers the code uses."""
    return (
        f"*Criterion*: performance ≥ {criterion:g} (Yang's); a task is *learned* by a network "
        "if it "
        "is at criterion on clean one-hot context, and only learned tasks are scored. The "
        "*dominant task* of a mixture $c = (1-\\lambda)e_i + \\lambda e_j$ is the one with the "
        "larger weight ($i$ for $\\lambda < 1/2$). Each trial's last-step response is "
        f"*correct* (task $i$'s answer, within {np.degrees(TOLERANCE):.0f}° of its angle, or "
        "fixation where it asks for fixation); a *switch* (not correct, but the answer the "
        "pair's other task $j$ would give on the same trial: the opposite angle for Go/Anti, the "
        "choice on the other modality for Ctx DM 1/2, the opposite go/no-go for DMS/DNMS); a "
        "*collapse* (neither, and the fixation output still on where a response was due); or a "
        "*blend* (any other response). Where task $j$'s answer coincides with task $i$'s "
        "(about half of the Ctx DM trials, whose two modalities agree) a switch looks correct. "
        "“±” is the 95% Student-t interval over the n seeds scored."
    )


# ------------------------------------------------------------------------------------------
# l_leave per conflict pair
# ------------------------------------------------------------------------------------------
def l_leave_by_pair(probes: dict, labels, panel, criterion: float = CRITERION) -> pd.DataFrame:
    """``l_leave`` per ordered panel pair (dominant, intruder) and variant: mean and 95% t half
    width over the seeds whose dominant task is at criterion when clean (``n`` of ``seeds``)."""
    rows = []
    for a, b in panel:
        for dom, intr in ((a, b), (b, a)):
            for lab in labels:
                vals = []
                rs = runs(probes, lab)
                for _, res in rs:
                    rob = ambiguity.robustness(res, criterion)
                    q = rob["labels"].index((dom, intr))
                    vals.append(rob["l_leave"][q])
                vals = np.array(vals, float)
                m, h = mean_ci(vals)
                rows.append(
                    {
                        "pair": pair_name(a, b),
                        "dominant": name(dom),
                        "intruder": name(intr),
                        "variant": lab,
                        "mean": float(m),
                        "ci": float(h),
                        "n": int(np.isfinite(vals).sum()),
                        "seeds": len(rs),
                    }
                )
    return pd.DataFrame(rows)


def l_leave_table(df: pd.DataFrame) -> pd.DataFrame:
    """``l_leave_by_pair`` as a display table: rows variants, columns 'dominant (intruder)'."""
    df = df.assign(
        cell=[
            fmt(m, h, n) if n else f"not learned (0/{s})"
            for m, h, n, s in zip(df["mean"], df["ci"], df["n"], df["seeds"])
        ],
        col=[f"{d} (vs {i})" for d, i in zip(df["dominant"], df["intruder"])],
    )
    out = df.pivot(index="variant", columns="col", values="cell")
    return out.loc[list(dict.fromkeys(df["variant"])), list(dict.fromkeys(df["col"]))]


def l_leave_text(df: pd.DataFrame, exclude=("none",)) -> str:
    """Per ordered pair, the variants with the earliest and the latest mean l_leave."""
    parts = []
    for (dom, intr), g in df[~df["variant"].isin(exclude)].groupby(
        ["dominant", "intruder"], sort=False
    ):
        g = g[g["n"] > 0]
        if g.empty:
            parts.append(f"{dom} against {intr}: learned by no network")
            continue
        lo, hi = g.loc[g["mean"].idxmin()], g.loc[g["mean"].idxmax()]
        parts.append(
            f"{dom} against {intr}: earliest `{lo.variant}` at λ = "
            f"{fmt(lo['mean'], lo['ci'], lo['n'])}, latest `{hi.variant}` at "
            f"{fmt(hi['mean'], hi['ci'], hi['n'])}"
        )
    return (
        "Where performance leaves criterion (λ; 0.5 = it holds until the tie), over the "
        "variants with a learned dominant task: " + "; ".join(parts) + "."
    )


# ------------------------------------------------------------------------------------------
# outcome fractions
# ------------------------------------------------------------------------------------------
def _lam_index(res: dict, l: float) -> int:
    lam = np.asarray(res["spec"]["lambdas"])
    idx = np.flatnonzero(np.isclose(lam, l))
    if not idx.size:
        raise ValueError(f"l={l!r} is not on the probe's mixture grid {lam.tolist()}")
    return int(idx[0])


def outcomes_at(res: dict, dom: str, intr: str, l: float) -> np.ndarray:
    """Outcome fractions (4,) on ``dom``'s trials under ``c = (1 - l) e_dom + l e_intr``."""
    i, j = res["tasks"].index(dom), res["tasks"].index(intr)
    pairs = [tuple(p) for p in res["pairs"]]
    if (i, j) in pairs:
        return np.asarray(res["out_i"])[pairs.index((i, j)), _lam_index(res, l)]
    return np.asarray(res["out_j"])[pairs.index((j, i)), _lam_index(res, 1 - l)]


def _outcome_rows(probes, labels, panel, get, need, criterion) -> pd.DataFrame:
    rows = []
    for a, b in panel:
        for dom, intr in ((a, b), (b, a)):
            for lab in labels:
                rs = runs(probes, lab)
                used = [
                    res for _, res in rs if all(learned(res, t, criterion) for t in need(dom, intr))
                ]
                row = {
                    "pair": pair_name(a, b),
                    "trials of": name(dom),
                    "partner": name(intr),
                    "variant": lab,
                    "n": len(used),
                    "seeds": len(rs),
                }
                fr = np.array([get(res, dom, intr) for res in used]).reshape(-1, 4)
                for k, o in enumerate(ambiguity.OUTCOMES):
                    m, h = mean_ci(fr[:, k]) if len(used) else (np.nan, np.nan)
                    row[o], row[o + " ±"] = float(m), float(h)
                rows.append(row)
    return pd.DataFrame(rows)


def outcome_table(
    probes: dict, labels, panel, l: float = 0.5, criterion: float = CRITERION
) -> pd.DataFrame:
    """Per ordered panel pair and variant: outcome fractions (mean and 95% t half width over
    the seeds whose dominant task is learned) on the dominant task's trials at mixture weight
    ``l`` of the intruder."""
    return _outcome_rows(
        probes,
        labels,
        panel,
        lambda res, d, i: outcomes_at(res, d, i, l),
        lambda d, i: (d,),
        criterion,
    )


def mid_switch_outcomes(res: dict, first: str, second: str) -> np.ndarray:
    """Outcome fractions (4,) on ``first``'s trials, context switched to ``second``'s mid-trial."""
    i, j = res["tasks"].index(first), res["tasks"].index(second)
    pairs = [tuple(p) for p in res["pairs"]]
    if (i, j) in pairs:
        return np.asarray(res["mid_switch"])[pairs.index((i, j)), 0]
    return np.asarray(res["mid_switch"])[pairs.index((j, i)), 1]


def mid_switch_table(probes: dict, labels, panel, criterion: float = CRITERION) -> pd.DataFrame:
    """Per ordered panel pair (i's trials, context e_i then e_j) and variant: the fractions
    answered as task i (``correct``), as task j (``switch``), collapse and blend, over the seeds
    that learned both tasks."""
    return _outcome_rows(probes, labels, panel, mid_switch_outcomes, lambda d, i: (d, i), criterion)


def display_outcomes(df: pd.DataFrame, first: str = "trials of") -> pd.DataFrame:
    """An outcome table as strings ``m ± h``, one row per (pair, trials, variant)."""
    out = df[["pair", first, "variant"]].copy()
    for o in ambiguity.OUTCOMES:
        out[o] = [fmt(m, h) for m, h in zip(df[o], df[o + " ±"])]
    out["seeds scored"] = [f"{n}/{s}" for n, s in zip(df["n"], df["seeds"])]
    return out.set_index(["pair", first, "variant"])


NOT_SCORED = "not scored (no learned task)"


def _variant_range(g: pd.DataFrame, col: str) -> str:
    g = g[np.isfinite(g[col].astype(float))]
    if g.empty:
        return NOT_SCORED
    lo, hi = g.loc[g[col].idxmin()], g.loc[g[col].idxmax()]
    if f"{lo[col]:.2f}" == f"{hi[col]:.2f}":
        return f"{lo[col]:.2f} ({'every variant' if len(g) > 1 else f'`{lo.variant}`'})"
    return f"{lo[col]:.2f} (`{lo.variant}`) to {hi[col]:.2f} (`{hi.variant}`)"


def outcome_text(
    df: pd.DataFrame, what: str, cols=("switch", "blend", "collapse"), exclude=("none",)
) -> str:
    """Per ordered pair: the range over variants of the fractions in ``cols``."""
    parts = []
    for (dom, partner), g in df[~df["variant"].isin(exclude)].groupby(
        ["trials of", "partner"], sort=False
    ):
        g = g[g["n"] > 0]
        if g.empty:
            continue
        names = (
            {"correct": f"as {dom}", "switch": f"as {partner} (switch)"}
            if "correct" in cols
            else {}
        )
        parts.append(
            f"{dom} trials: " + ", ".join(f"{names.get(c, c)} {_variant_range(g, c)}" for c in cols)
        )
    if not parts:
        return f"{what}: no variant has a learned task to score."
    return f"{what} (seed means, range over variants): " + "; ".join(parts) + "."


def mixture_text(probes: dict, labels, panel, l: float = 0.5, exclude=("none",)) -> str:
    """Performance at the tie on each panel pair's tasks: range over variants (learned seeds)."""
    df = outcome_table(probes, labels, panel, l)
    parts = []
    for (dom, partner), g in df[~df["variant"].isin(exclude)].groupby(
        ["trials of", "partner"], sort=False
    ):
        g = g[g["n"] > 0]
        if not g.empty:
            parts.append(f"{dom} (against {partner}) {_variant_range(g, 'correct')}")
    return (
        f"At λ = {l:g}, the fraction of trials answered correctly, seed mean over networks "
        "that learned the task, ranges across variants: " + "; ".join(parts) + "."
        if parts
        else "No variant learned a panel task."
    )


def example_text(examples: dict[str, dict]) -> str:
    return (
        "The outcomes of the trials shown: "
        + ", ".join(f"`{lab}` {ex['outcome']}" for lab, ex in examples.items())
        + "."
    )


# ------------------------------------------------------------------------------------------
# corruption summaries: one unit (relative to clean), levels stated from the code
# ------------------------------------------------------------------------------------------
def summary_columns_markdown(spec: dict) -> str:
    """What every column of the robustness table is, with the levels each uses (from ``spec``,
    the probe grid of the artifacts)."""
    lines = [
        "* `auc`: area under the dominant task's mixture curve for $\\lambda \\in [0, 1/2)$ "
        "divided by its clean performance (1 = unaffected), mean over the ordered task "
        f"pairs whose dominant task is learned; grid λ ∈ {list(spec['lambdas'])}.",
        "* `l_leave`: the λ at which the dominant task leaves criterion (0.5 = never before "
        "the tie), mean over the same ordered pairs; the only column not relative to "
        "clean.",
    ]
    for col, (key, grid, which, what) in SUMMARIES.items():
        if grid is None:
            lv = "one level"
        else:
            sel = summary_levels(spec, grid, which)
            vals = [f"{v:g}" for v in np.asarray(spec[grid])[sel]]
            lv = f"mean over {grid.replace('_', ' ')} {{{', '.join(vals)}}}"
        lines.append(
            f"* `{col}`: {what}; performance relative to clean, mean over learned tasks; {lv}."
        )
    lines.append(
        "* each `±` column: the 95% t half width over the seeds with a value; the `n` "
        "columns: how many seeds have one (a seed with no learned task, or no learned "
        "task with a delay, has none)."
    )
    return "\n".join(lines)


def corruption_text(table: pd.DataFrame, spec: dict, exclude=("none",)) -> str:
    """Range over variants of the noise and dilution summaries, and what the `none` line is."""
    t = table.drop(index=[e for e in exclude if e in table.index])
    parts = []
    for col in ("noise_frozen", "noise_fresh", "dilution", "scale_err"):
        g = pd.DataFrame({"variant": t.index, col: t[col].to_numpy()})
        parts.append(f"`{col}` {_variant_range(g, col)}")
    msg = (
        "Relative to clean (1 = unaffected), across variants: "
        + "; ".join(parts)
        + f" (noise at s.d. {max(spec['noise_levels']):g})."
    )
    if "none" in table.index:
        n = int(table.loc["none", "dilution n"])
        msg += (
            " The context-blind `none` ignores $c$, so it is exactly 1 wherever it is "
            "defined: "
            + (
                f"on the {n} of its seeds that learned at least one task (dashed)."
                if n
                else "none of its seeds learned a task, so it has no line."
            )
        )
    return msg


def timed_text(table: pd.DataFrame, exclude=("none",)) -> str:
    t = table.drop(index=[e for e in exclude if e in table.index])
    parts = []
    for col, what in (
        ("missing", "with no context"),
        ("delay_removed", "with the context removed during the delay"),
        ("go_only", "with the context only from the go epoch"),
    ):
        g = pd.DataFrame({"variant": t.index, col: t[col].to_numpy()})
        parts.append(f"{what} {_variant_range(g, col)}")
    return "Performance relative to clean, across variants: " + "; ".join(parts) + "."


def format_robustness(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The robustness table (:func:`robustness_by_variant`) as ``m ± h (n=...)`` strings."""
    cols = [c for c in table.columns if not c.endswith(" ±") and not c.endswith(" n")]
    return pd.DataFrame(
        {
            c: [
                fmt(m, h, int(n), digits) if n else "–"
                for m, h, n in zip(table[c], table[c + " ±"], table[c + " n"])
            ]
            for c in cols
        },
        index=table.index,
    )


def robustness_text(table: pd.DataFrame, exclude=("none",)) -> str:
    """Range over variants of the mixture summaries."""
    t = table.drop(index=[e for e in exclude if e in table.index])
    parts = []
    for col, what in (
        ("auc", "the area under the dominant task's curve (relative to clean)"),
        ("l_leave", "the λ at which it leaves criterion"),
    ):
        g = pd.DataFrame({"variant": t.index, col: t[col].to_numpy()})
        parts.append(f"{what}: {_variant_range(g, col)}")
    return (
        "Averaged over every ordered task pair with a learned dominant task, "
        + "; ".join(parts)
        + " (seed means)."
    )


def mid_switch_text(df: pd.DataFrame) -> str:
    """The mid-trial switch table in one sentence: answered as i, as j, blend, collapse."""
    return outcome_text(
        df, "After the mid-trial switch", ("correct", "switch", "blend", "collapse")
    )


# ------------------------------------------------------ robustness summaries, controls, arms


def _pair_mean(values: np.ndarray) -> float:
    """Mean over the scored task pairs (nan entries: not scored); nan if none was scored."""
    return float(np.nanmean(values)) if np.isfinite(values).any() else np.nan


def relative_to_clean(res: dict, key: str, criterion: float = CRITERION) -> np.ndarray:
    """A probe's performance relative to clean, mean over the tasks at criterion on clean
    context only (a task the network never learned has nothing to lose: counting it as 0 or 1
    would bias the mean), and where the probe is defined (nan entries, e.g. the delay probe on a
    task without a delay, are left out). Shape: the probe's levels (L,); nan where no learned
    task has a value."""
    clean = np.asarray(res["clean"], float)
    values = np.atleast_2d(np.asarray(res[key], float))
    ok = (clean >= criterion)[None, :] & np.isfinite(values)
    rel = np.where(ok, values / np.where(clean > 0, clean, 1.0)[None, :], 0.0)
    n = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, rel.sum(axis=1) / n, np.nan)


SUMMARIES: dict[str, tuple[str, str | None, object, str]] = {
    # column: (probe key, grid of the spec, levels used, what it is)
    "noise_frozen": (
        "noise_frozen",
        "noise_levels",
        "max",
        "context noise frozen per trial, $c = e_i + s\\eta$",
    ),
    "noise_fresh": ("noise_fresh", "noise_levels", "max", "context noise fresh at every step"),
    "dilution": (
        "dilution",
        "dilutions",
        "all",
        "dilution toward uniform, $c = (1-\\varepsilon)e_i + \\varepsilon\\mathbf 1/K$",
    ),
    "scale_err": ("scale", "scales", "not1", "context scaled, $c = k e_i$"),
    "missing": ("missing", None, None, "no context, $c = 0$ throughout"),
    "delay_removed": (
        "delay_removed",
        None,
        None,
        "$c = 0$ during the delay epoch(s), $e_i$ elsewhere (tasks with a delay only)",
    ),
    "go_only": ("go_only", None, None, "$c = 0$ until the go epoch, $e_i$ from it"),
}
"""The corruption columns of the robustness table: each is performance relative to clean, mean
over the network's learned tasks, averaged over the levels named (``max``: the largest level;
``all``: every level; ``not1``: every level but 1)."""


def summary_levels(spec: dict, grid: str | None, which) -> np.ndarray | None:
    if grid is None:
        return None
    lv = np.asarray(spec[grid], float)
    return {"max": lv == lv.max(), "all": np.ones(len(lv), bool), "not1": ~np.isclose(lv, 1.0)}[
        which
    ]


def summary_value(res: dict, column: str, criterion: float = CRITERION) -> float:
    key, grid, which, _ = SUMMARIES[column]
    rel = relative_to_clean(res, key, criterion)
    sel = summary_levels(res["spec"], grid, which)
    return float(np.mean(rel[sel]) if sel is not None else rel[0])


def robustness_by_variant(probes: dict, labels, criterion: float = CRITERION) -> pd.DataFrame:
    """Per variant: mixture robustness (``auc``, ``l_leave``: mean over the ordered pairs whose
    dominant task is learned, per seed) and the corruption summaries of :data:`SUMMARIES`
    (relative to clean); for each, the mean over seeds, its 95% t half width (``<col> ±``) and
    the number of seeds with a value (``<col> n``)."""
    rows = []
    for lab in labels:
        seeds = sorted(s for (l, s) in probes if l == lab)
        per_seed = {name: [] for name in ("auc", "l_leave", *SUMMARIES)}
        for s in seeds:
            res = probes[lab, s]
            rob = ambiguity.robustness(res, criterion)
            per_seed["auc"].append(_pair_mean(rob["auc"]))
            per_seed["l_leave"].append(_pair_mean(rob["l_leave"]))
            for col in SUMMARIES:
                per_seed[col].append(summary_value(res, col, criterion))
        row = {"variant": lab}
        for name, v in per_seed.items():
            m, h = mean_ci(v)
            row[name], row[name + " ±"] = m, h
            row[name + " n"] = int(np.isfinite(np.asarray(v, float)).sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant")


def _common_pairs(aucs) -> np.ndarray:
    """The ordered task pairs (bool mask) scored in every one of ``aucs`` (per-network AUC
    arrays, nan where the dominant task was not learned)."""
    finite = [np.isfinite(v) for v in aucs]
    return np.logical_and.reduce(finite) if finite else np.zeros(0, bool)


def paired_auc(probes: dict, a: str, b: str, criterion: float = CRITERION) -> dict:
    """Mixture robustness ``auc`` of variant ``a`` minus ``b``, paired over seeds
    (:func:`lib.analysis.stats.paired`), each seed's value the mean over one common set of
    ordered task pairs: those whose dominant task every network of both variants learned, so
    neither side is scored on tasks the other never solved. Adds ``a``, ``b`` and ``pairs``."""

    def auc_by_seed(lab: str) -> dict[int, np.ndarray]:
        return {
            s: ambiguity.robustness(res, criterion)["auc"]
            for (l, s), res in probes.items()
            if l == lab
        }

    auc_a, auc_b = auc_by_seed(a), auc_by_seed(b)
    common = _common_pairs([*auc_a.values(), *auc_b.values()])

    def mean_common(auc: dict) -> dict[int, float]:
        return {s: float(v[common].mean()) if common.any() else np.nan for s, v in auc.items()}

    return {
        "a": a,
        "b": b,
        "pairs": int(common.sum()),
        **paired(mean_common(auc_a), mean_common(auc_b)),
    }


CONTROL_MEASURES = ("final performance", "mixture robustness")
"""What each control of :data:`lib.experiments.battery.CONTROLS` is compared on against the main
variant it changes (chosen before the controls were trained): the mean final performance over
tasks (E1) and the mixture robustness ``auc`` on common learned pairs (E2, as C2 uses it)."""


COMPARISON_COLUMNS = ["diff", "lo", "hi", "p", "n", "units", "p_holm", "verdict", "differs"]
"""Columns of a check's comparison (:func:`control_comparisons`, :func:`arm_effects`)."""


def _check_row(c: verdicts.Comparison) -> dict:
    return {
        "diff": c.mean,
        "lo": c.ci95[0],
        "hi": c.ci95[1],
        "p": c.p,
        "n": c.n_seeds,
        "units": c.n_units,
        "p_holm": c.p_holm,
        "verdict": c.verdict,
        "differs": c.verdict == "differ",
    }


def auc_table(probes: dict, label: str, criterion: float = CRITERION) -> pd.DataFrame:
    """A label's mixture robustness ``auc`` as a seed x ordered-pair table ("a→b"; nan where the
    dominant task is not learned): the verdict engine's input."""
    out = {}
    for s, res in runs(probes, label):
        rob = ambiguity.robustness(res, criterion)
        out[s] = pd.Series({f"{a}→{b}": v for (a, b), v in zip(rob["labels"], rob["auc"])})
    return pd.DataFrame(out).T


def control_comparisons(nets: dict, probes: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """Each control minus its main variant on :data:`CONTROL_MEASURES` (final performance on
    every task; mixture AUC on the ordered pairs both learned in every seed), through the
    verdict engine: paired over seeds (shared initial weights), exact p, Holm over every
    (control, measure) test. Rows: control, variant, measure and :data:`COMPARISON_COLUMNS`."""
    comps, keys = [], []
    for control, variant in CONTROLS.items():
        if not (seeds_of(nets, control) and seeds_of(nets, variant)):
            continue
        comps.append(
            verdicts.compare(
                perf_table(nets, control),
                perf_table(nets, variant),
                verdicts.RULES["C2.control.final_perf"],
                control,
                variant,
            )
        )
        comps.append(
            verdicts.compare(
                auc_table(probes, control, criterion),
                auc_table(probes, variant, criterion),
                verdicts.RULES["C2.control.mixture_auc"],
                control,
                variant,
            )
        )
        keys += [(control, variant, m) for m in CONTROL_MEASURES]
    verdicts.decide(comps)
    rows = [
        {"control": k[0], "variant": k[1], "measure": k[2], **_check_row(c)}
        for k, c in zip(keys, comps)
    ]
    return pd.DataFrame(rows, columns=["control", "variant", "measure", *COMPARISON_COLUMNS])


def arm_label(label: str, arm: str) -> str:
    """How a network of a training arm is labelled beside E1's: ``exc@mixtures``."""
    return label if arm == "standard" else f"{label}@{arm}"


def arm_effects(
    standard: dict, arm_probes: dict, arm: str, criterion: float = CRITERION
) -> pd.DataFrame:
    """Per variant of a training arm (:data:`lib.experiments.battery.ARM_VARIANTS`): its arm's
    networks minus its standard ones on the mixture robustness ``auc`` over the ordered pairs
    both learned in every seed, through the verdict engine (same seeds, so the same shared
    initial weights; exact p, Holm over the arm's variants). The check that the arm changed
    what it was meant to change; whether C2's conclusion changes is :func:`verdict_c2` on
    ``arm_probes``. The equalising reference is left out (its networks are its standard ones).
    Rows: variant and :data:`COMPARISON_COLUMNS`."""
    merged = {k: v for k, v in standard.items() if k[0] in ARM_VARIANTS[arm]}
    merged |= {(arm_label(lab, arm), s): v for (lab, s), v in arm_probes.items()}
    comps, labels = [], []
    for lab in ARM_VARIANTS[arm]:
        if arm == "equalised" and lab == EQUALISE_TO:
            continue  # the reference: its equalised networks are its standard ones
        if any(l == lab for l, _ in arm_probes) and any(l == lab for l, _ in standard):
            comps.append(
                verdicts.compare(
                    auc_table(merged, arm_label(lab, arm), criterion),
                    auc_table(merged, lab, criterion),
                    verdicts.RULES[f"C2.arm_effect.{arm}"],
                    arm_label(lab, arm),
                    lab,
                )
            )
            labels.append(lab)
    verdicts.decide(comps)
    return pd.DataFrame(
        [{"variant": lab, **_check_row(c)} for lab, c in zip(labels, comps)],
        columns=["variant", *COMPARISON_COLUMNS],
    )


def seed_aucs(probes_by_arm: dict[str, dict], labels, criterion: float = CRITERION) -> pd.DataFrame:
    """Per network of every arm and label: the mixture robustness ``auc`` averaged over one
    common set of ordered task pairs, those whose dominant task every network shown learned
    (so every point is scored on the same pairs). ``probes_by_arm``: arm -> probes keyed
    (label, seed). Rows: arm, variant, seed, auc, pairs."""
    aucs = {
        (arm, lab, s): ambiguity.robustness(res, criterion)["auc"]
        for arm, probes in probes_by_arm.items()
        for (lab, s), res in probes.items()
        if lab in labels
    }
    common = _common_pairs(aucs.values())
    rows = [
        {
            "arm": arm,
            "variant": lab,
            "seed": s,
            "auc": float(v[common].mean()) if common.any() else np.nan,
            "pairs": int(common.sum()),
        }
        for (arm, lab, s), v in aucs.items()
    ]
    return pd.DataFrame(rows, columns=["arm", "variant", "seed", "auc", "pairs"])


def _differs_word(row) -> str:
    return row["verdict"]


def _row_diff(row) -> str:
    return (
        f"{row['diff']:+.3f} [{row['lo']:+.3f}, {row['hi']:+.3f}], Holm "
        f"{verdicts.format_p(row['p_holm'], int(row['n']))}, {int(row['n'])} paired seeds, "
        f"{int(row['units'])} units"
    )


def control_markdown(df: pd.DataFrame) -> str:
    """The control comparisons (:func:`control_comparisons`) as sentences, and what they mean
    for the excitability-vs-synaptic comparison."""
    if df.empty:
        return "*(the controls were not trained in this run)*"
    lines = [
        "Each control minus the variant it changes (paired over seeds, exact sign-flip p; "
        f"Holm over the {int((df['verdict'] != 'not tested').sum())} tests scored):",
        "",
    ]
    for _, r in df.iterrows():
        what = f"{r['measure']}" + (
            " (mean over tasks)"
            if r["measure"] == CONTROL_MEASURES[0]
            else " (AUC on common learned pairs)"
        )
        lines.append(
            f"* `{r['control']}` − `{r['variant']}`, {what}: "
            + (
                f"{_row_diff(r)} → {_differs_word(r)}."
                if r["verdict"] != "not tested"
                else "not scored (fewer than two seeds with a common learned task)."
            )
        )
    scored = df[df["verdict"] != "not tested"]
    unscored = sorted(set(df["measure"]) - set(scored["measure"]))
    if scored.empty:
        conclusion = "No comparison could be scored in this run."
    elif scored["differs"].any():
        conclusion = (
            "Where the modulation acts matters here: "
            + ", ".join(
                f"`{r['control']}` on {r['measure']}"
                for _, r in scored[scored["differs"]].iterrows()
            )
            + " differ from the variant they control, so part of a pathway's effect comes from "
            "which synapses it scales."
        )
    elif (scored["verdict"] == "equivalent").all():
        conclusion = (
            "Neither moving the gain off the input synapses nor putting the synaptic "
            "factor on them changes "
            + " or ".join(sorted(set(scored["measure"])))
            + " by more than the smallest effect of interest (every comparison "
            "equivalent): the comparisons of pathways in this book are not confounded "
            "by which synapses the modulation reaches."
        )
    else:
        conclusion = (
            "No control differs from the variant it changes, but not every comparison "
            "is shown equivalent either: at this seed count the check is inconclusive "
            "about whether which synapses the modulation reaches matters."
        )
    if unscored:
        conclusion += f" Not scored: {', '.join(unscored)}."
    return "\n".join([*lines, "", conclusion])


def arm_markdown(arm: str, v_arm: dict, v_standard: dict, effects: pd.DataFrame) -> str:
    """One training arm's result: C2's rule applied to its networks and to the standard ones on
    the same matched pairs (``verdict_c2`` of each), and the arm-minus-standard effects
    (:func:`arm_effects`)."""
    what = ARMS[arm].format(mix=TRAIN_MIX)
    tested = [not v["verdict"].startswith("not tested") for v in (v_arm, v_standard)]
    change = (
        ("is unchanged" if v_arm["verdict"] == v_standard["verdict"] else "changes")
        if all(tested)
        else "cannot be compared (a side is not tested)"
    )
    lines = [
        f"**Arm `{arm}`** ({what}). C2's rule on this arm's networks: "
        f"**{v_arm['verdict']}**; on the standard networks, same matched pairs: "
        f"**{v_standard['verdict']}** → the conclusion {change}."
    ]
    counts = pd.Series([c.verdict for c in v_arm["comparisons"]]).value_counts()
    lines.append(
        "* this arm's comparisons (every probe measure, matched pairs present): "
        + (", ".join(f"{n} {w}" for w, n in counts.items()) if len(counts) else "none")
        + "."
    )
    for _, r in effects.iterrows():
        lines.append(
            f"* `{r['variant']}`, this arm − standard (mixture AUC, common pairs): "
            + (
                f"{_row_diff(r)} → {_differs_word(r)}."
                if r["verdict"] != "not tested"
                else "not scored."
            )
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- the verdict on C2

C2_PAIR_SETS = {"matched": MATCHED, "2N only": MATCHED[:2]}
"""The matched-budget pairs C2 compares (the rule's: all of :data:`MATCHED`), and the
alternative of the specification check (the two 2N-budget pairs the training arms also have)."""

GRADED = {
    "noise_fresh": ("noise_levels", 0.0),
    "noise_frozen": ("noise_levels", 0.0),
    "scale": ("scales", 1.0),
    "dilution": ("dilutions", 0.0),
}
"""Graded probes: probe key -> (its grid in the spec, the clean level, left out of the score)."""

SINGLE = ("missing", "delay_removed", "go_only")
"""Probes with one level per task."""

SCORINGS = ("AUC", "harshest level")
"""How a graded probe is scored: the mean of performance relative to clean over every level but
the clean one (an AUC over the range probed; the rule's) or its value at the worst level (the
specification check's alternative). For mixtures, the dominant task's AUC over λ in [0, 1/2)
or its performance at the largest λ below 1/2."""


def _relative(res: dict, key: str, criterion: float) -> np.ndarray:
    """A probe's per-task performance relative to clean, (L, K) or (K,); nan where the task is
    not at criterion on clean context or the probe is undefined."""
    clean = np.asarray(res["clean"], float)
    values = np.asarray(res[key], float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(clean >= criterion, values / clean, np.nan)


def probe_scores(
    res: dict,
    measure: str,
    criterion: float = CRITERION,
    scoring: str = "AUC",
    conflict=ambiguity.PANEL,
) -> pd.Series:
    """One network's score per unit on a C2 measure (:data:`lib.analysis.verdicts.C2_MEASURES`):
    per task, or per ordered pair "a→b" (a's trials, b the intruding or switched-to task); nan
    where the unit's task is not at criterion on clean context (or the probe is undefined).
    ``conflict``: the task pairs the mixture measures count as conflict pairs (the rule's
    :data:`lib.experiments.ambiguity.PANEL`; the whole battery's
    :data:`lib.experiments.ambiguity.CONFLICT_PAIRS` at scale)."""
    if measure not in verdicts.C2_MEASURES:
        raise ValueError(f"measure: got {measure!r}; allowed: {', '.join(verdicts.C2_MEASURES)}")
    if scoring not in SCORINGS:
        raise ValueError(f"scoring: got {scoring!r}; allowed: {', '.join(SCORINGS)}")
    tasks = list(res["tasks"])
    if measure.startswith("mixture_auc"):
        labels, _, perf = ambiguity.ordered_curves(res)
        clean = perf[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (
                ambiguity.robustness(res, criterion)["auc"]
                if scoring == "AUC"
                else np.where(clean >= criterion, perf[:, -1] / clean, np.nan)
            )
        want = measure.endswith("conflict")
        pairs = {frozenset(p) for p in conflict}
        keep = [frozenset(q) in pairs if want else frozenset(q) not in pairs for q in labels]
        return pd.Series(
            {f"{a}→{b}": v for (a, b), v, k in zip(labels, value, keep) if k}, dtype=float
        )
    if measure == "mid_switch":
        out = {}
        clean = np.asarray(res["clean"], float)
        for p, (i, j) in enumerate(res["pairs"]):
            for side, (k, other) in enumerate(((i, j), (j, i))):
                kept = float(np.asarray(res["mid_switch"])[p, side, 0])
                out[f"{tasks[k]}→{tasks[other]}"] = kept if clean[k] >= criterion else np.nan
        return pd.Series(out, dtype=float)
    rel = _relative(res, measure, criterion)
    if measure in SINGLE:
        return pd.Series(rel, index=tasks, dtype=float)
    grid, clean_level = GRADED[measure]
    levels = np.asarray(res["spec"][grid], float)
    probed = rel[~np.isclose(levels, clean_level)]
    with np.errstate(invalid="ignore"):
        score = probed.mean(axis=0) if scoring == "AUC" else probed.min(axis=0)
    return pd.Series(score, index=tasks, dtype=float)


def probe_table(
    probes: dict,
    label: str,
    measure: str,
    criterion: float = CRITERION,
    scoring: str = "AUC",
    conflict=ambiguity.PANEL,
) -> pd.DataFrame:
    """A label's seed x unit table of :func:`probe_scores` (the verdict engine's input)."""
    return pd.DataFrame(
        {
            s: probe_scores(res, measure, criterion, scoring, conflict)
            for s, res in runs(probes, label)
        }
    ).T


def _labels(probes: dict) -> set:
    return {lab for lab, _ in probes}


def c2_comparisons(
    probes: dict,
    criterion: float = CRITERION,
    pairs=MATCHED,
    scoring: str = "AUC",
    conflict=ambiguity.PANEL,
    measures=None,
) -> list[verdicts.Comparison]:
    """Every matched pair of ``pairs`` present in ``probes`` on every C2 measure (or those of
    ``measures``), a − b on the units every network of both learned, through the engine,
    decided (Holm over the whole C2 family). ``conflict``: see :func:`probe_scores`."""
    present = _labels(probes)
    comps = []
    for name in verdicts.C2_MEASURES if measures is None else measures:
        rule = verdicts.RULES[f"C2.{name}"]
        for a, b in pairs:
            if a in present and b in present:
                comps.append(
                    verdicts.compare(
                        probe_table(probes, a, name, criterion, scoring, conflict),
                        probe_table(probes, b, name, criterion, scoring, conflict),
                        rule,
                        a,
                        b,
                    )
                )
    return verdicts.decide(comps)


def c2_factorial(
    probes: dict,
    criterion: float = CRITERION,
    conflict=ambiguity.PANEL,
    measures=tuple(verdicts.C2_MEASURES),
    excluded=(),
) -> dict[str, list[verdicts.Comparison]]:
    """Per C2 measure of ``measures``, the site x operation factorial of the four single-pathway
    cells (:func:`lib.analysis.factorial.design_comparisons`, rules derived from the measure's
    C2 rule, one Holm family per measure; the simple effects between kept cells where a cell's
    variant is in ``excluded``); empty unless every cell that is not excluded has probes (or
    when the exclusions leave no two cells to compare).
    ``conflict``: the pairs scored as conflict pairs (the full battery: all seven of
    :data:`lib.experiments.ambiguity.CONFLICT_PAIRS`, with :data:`AT_SCALE_MEASURES`)."""
    kept = kept_variants(excluded)
    if not all(v in _labels(probes) for v in kept):
        return {}
    by_measure = {
        verdicts.C2_MEASURES[m][0]: design_comparisons(
            {v: probe_table(probes, v, m, criterion, conflict=conflict) for v in kept},
            verdicts.RULES[f"C2.{m}"],
            excluded,
        )
        for m in measures
    }
    return {m: comps for m, comps in by_measure.items() if comps}


C2_RULE = (
    "Each matched-budget pair (chosen before looking: `exc` − `syn_lowrank_r1` and `exc` − "
    "`syn_prepost` at 2N parameters per task, `hybrid` − `syn_lowrank_r2` at 4N) is compared on "
    "every ambiguity probe the E2 artifacts hold: mixtures (conflict pairs and the other pairs "
    "separately), fresh and frozen context noise, scaling, dilution, missing context, context "
    "removed in the delay, context only from the go cue, and the mid-trial switch. Each probe is "
    "scored relative to clean performance, averaged over its levels other than the clean one (an "
    "AUC over the range where it varies), on the tasks or ordered pairs every network of both "
    "variants learned, paired over seeds, exact sign-flip p, Holm over the whole family. A "
    "comparison *differs* (Holm p < 0.05), is *equivalent* (TOST within ±0.05 of clean "
    "performance, Holm) or is *inconclusive*. C2 is *supported* if every matched pair differs on "
    "some probe; *partly supported* if some pair does; *not supported* if every comparison is "
    "equivalent; *inconclusive* otherwise; *not tested* if nothing could be scored."
)
"""The C2 rule as printed in the chapter; :func:`verdict_c2` applies exactly this."""


def verdict_c2(
    probes: dict,
    criterion: float = CRITERION,
    pairs=MATCHED,
    scoring: str = "AUC",
    conflict=ambiguity.PANEL,
    measures=None,
) -> dict:
    """C2 by :data:`C2_RULE`. Returns ``verdict``, ``comparisons`` (engine Comparisons),
    ``pairs`` (matched pair -> "differs" / "equivalent" / "inconclusive" / "not tested") and
    ``directions`` (differing comparisons: which side is more robust). ``conflict`` and
    ``measures``: see :func:`c2_comparisons` (:func:`verdict_c2_at_scale` sets both)."""
    comps = c2_comparisons(probes, criterion, pairs, scoring, conflict, measures)
    tested = [c for c in comps if c.tested]
    status = {}
    for a, b in pairs:
        mine = [c for c in tested if (c.a, c.b) == (a, b)]
        status[f"{a} − {b}"] = (
            "not tested"
            if not mine
            else "differs"
            if any(c.verdict == "differ" for c in mine)
            else "equivalent"
            if all(c.verdict == "equivalent" for c in mine)
            else "inconclusive"
        )
    scored = [s for s in status.values() if s != "not tested"]
    if not tested:
        verdict = "not tested"
    elif all(s == "differs" for s in scored):
        verdict = "supported"
    elif "differs" in scored:
        verdict = "partly supported"
    elif all(c.verdict == "equivalent" for c in tested):
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    directions = [
        f"{c.a if (c.mean > 0) == c.rule.higher_is_better else c.b} more robust on {c.rule.measure}"
        for c in tested
        if c.verdict == "differ"
    ]
    return {"verdict": verdict, "comparisons": comps, "pairs": status, "directions": directions}


AT_SCALE_MEASURES = tuple(m for m in verdicts.C2_MEASURES if m != "mixture_auc.other")
"""C2's measures on networks of the whole battery probed on the conflict pairs only
(:data:`lib.experiments.ambiguity.FULL_BATTERY_PROBE`): every measure but the mixtures of the
other pairs, which were not probed."""


def verdict_c2_at_scale(
    probes: dict, a: str, b: str, criterion: float = CRITERION, scoring: str = "AUC"
) -> dict:
    """C2 by :data:`C2_RULE` between two pathways ``a`` − ``b`` of the whole battery, their
    mixtures and switches probed on the battery's conflict pairs
    (:data:`lib.experiments.ambiguity.CONFLICT_PAIRS`, all seven counted as conflict pairs),
    on :data:`AT_SCALE_MEASURES`, on the units (tasks, ordered pairs) every network of both
    learned; Holm over the family. Returns :func:`verdict_c2`'s dict."""
    present = _labels(probes)
    for name, lab in (("a", a), ("b", b)):
        if lab not in present:
            raise ValueError(
                f"{name}={lab!r} is not allowed; expected a label of the probes: "
                + ", ".join(map(str, sorted(present)))
            )
    return verdict_c2(
        probes,
        criterion,
        pairs=((a, b),),
        scoring=scoring,
        conflict=ambiguity.CONFLICT_PAIRS,
        measures=AT_SCALE_MEASURES,
    )


def c2_multiverse(probes: dict, arm_probes: dict[str, dict] | None = None) -> pd.DataFrame:
    """C2's verdict under every specification (:func:`lib.analysis.verdicts.multiverse`):
    criterion 0.9 / 0.85 / 0.95 (which tasks count as learned), pair set
    (:data:`C2_PAIR_SETS`), scoring (:data:`SCORINGS`) and training arm (``arm_probes``: arm ->
    the probes of its networks)."""
    arms = {"standard": probes, **(arm_probes or {})}

    def run(criterion, pairs, scoring, arm):
        return verdict_c2(arms[arm], criterion, C2_PAIR_SETS[pairs], scoring)

    return verdicts.multiverse(
        run,
        {
            "criterion": [CRITERION, 0.85, 0.95],
            "pairs": list(C2_PAIR_SETS),
            "scoring": list(SCORINGS),
            "arm": list(arms),
        },
    )


def c2_markdown(v: dict, spec, multiverse: pd.DataFrame | None = None) -> str:
    """The C2 verdict as a paragraph, every number from :func:`verdict_c2`'s output: per matched
    pair its status, every comparison, the floor and power statements, the specification check
    and the rule."""
    lines = [
        f"**C2 — {v['verdict']}** ({len(spec.tasks)} tasks, N = {spec.n_rec}, "
        f"{spec.n_seeds} seeds). Per matched pair: "
        + "; ".join(f"`{p}` {s}" for p, s in v["pairs"].items())
        + ".",
        "",
    ]
    lines += [
        "The table below gives every comparison: a − b, performance relative to clean (1 = "
        "unaffected), mean over the units (tasks or ordered task pairs) both variants "
        "learned in every seed; mean difference with its 95% t interval over seeds; "
        "Holm-adjusted exact p over the whole family."
    ]
    floor = verdicts.floor_text(v["comparisons"])
    lines += ["", *([floor] if floor else []), verdicts.power_text(v["comparisons"])]
    if multiverse is not None and len(multiverse):
        lines.append(
            verdicts.agreement_text(
                multiverse,
                "criterion 0.85/0.9/0.95, all matched "
                "pairs or the 2N ones, AUC or the harshest level, "
                "training arm",
            )
        )
    loo = [verdicts.leave_one_out(c) for c in v["comparisons"] if c.tested]
    if loo and sum(n for _, n in loo):
        lines.append(
            f"Seed subsets: leaving out one seed at a time keeps the direction of "
            f"{sum(k for k, _ in loo)} of {sum(n for _, n in loo)} differences."
        )
    rule = next(iter(c.rule for c in v["comparisons"]), None)
    lines += ["", f"Rule: {C2_RULE}"] + (
        [f"Registry: {verdicts.rule_text(rule)} (one rule per probe measure, same SESOI)."]
        if rule
        else []
    )
    return "\n".join(lines)
