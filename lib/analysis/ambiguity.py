"""E2 descriptive analyses: where each pathway leaves criterion per conflict pair, how trials fail
(correct / collapse / switch / blend) under mixtures and mid-trial switches, and the sentences
the chapter prints under its figures (every number computed here from the probe artifacts).

Inputs: ``probes[(label, seed)] -> dict`` (:func:`lib.experiments.ambiguity.probe_network`).
Only networks whose task is at criterion on clean context are scored (the page's rule: a network
that never learned a task has nothing to lose on it); every table says how many seeds that left.
Intervals are 95% Student-t intervals over seeds (:func:`lib.analysis.stats.mean_ci`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis.claims import SUMMARIES, summary_levels
from lib.analysis.stats import fmt, mean_ci
from lib.core.metrics import TOLERANCE
from lib.core.tasks import DISPLAY_NAMES
from lib.experiments import ambiguity

CRITERION = 0.9
"""Yang's criterion: a task is learned when its performance on clean context is at least this."""


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
        f"*Criterion*: performance ≥ {criterion:g} (Yang's); a task is *learned* by a network if it "
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
        "“±” is the 95% Student-t interval over the n seeds scored.")


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
                rows.append({"pair": pair_name(a, b), "dominant": name(dom),
                             "intruder": name(intr), "variant": lab, "mean": float(m),
                             "ci": float(h), "n": int(np.isfinite(vals).sum()),
                             "seeds": len(rs)})
    return pd.DataFrame(rows)


def l_leave_table(df: pd.DataFrame) -> pd.DataFrame:
    """``l_leave_by_pair`` as a display table: rows variants, columns 'dominant (intruder)'."""
    df = df.assign(cell=[fmt(m, h, n) if n else f"not learned (0/{s})"
                         for m, h, n, s in zip(df["mean"], df["ci"], df["n"], df["seeds"])],
                   col=[f"{d} (vs {i})" for d, i in zip(df["dominant"], df["intruder"])])
    out = df.pivot(index="variant", columns="col", values="cell")
    return out.loc[list(dict.fromkeys(df["variant"])), list(dict.fromkeys(df["col"]))]


def l_leave_text(df: pd.DataFrame, exclude=("none",)) -> str:
    """Per ordered pair, the variants with the earliest and the latest mean l_leave."""
    parts = []
    for (dom, intr), g in df[~df["variant"].isin(exclude)].groupby(["dominant", "intruder"],
                                                                     sort=False):
        g = g[g["n"] > 0]
        if g.empty:
            parts.append(f"{dom} against {intr}: learned by no network")
            continue
        lo, hi = g.loc[g["mean"].idxmin()], g.loc[g["mean"].idxmax()]
        parts.append(f"{dom} against {intr}: earliest `{lo.variant}` at λ = "
                     f"{fmt(lo['mean'], lo['ci'], lo['n'])}, latest `{hi.variant}` at "
                     f"{fmt(hi['mean'], hi['ci'], hi['n'])}")
    return ("Where performance leaves criterion (λ; 0.5 = it holds until the tie), over the "
            "variants with a learned dominant task: " + "; ".join(parts) + ".")


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
                used = [res for _, res in rs if all(learned(res, t, criterion)
                                                    for t in need(dom, intr))]
                row = {"pair": pair_name(a, b), "trials of": name(dom), "partner": name(intr),
                       "variant": lab, "n": len(used), "seeds": len(rs)}
                fr = np.array([get(res, dom, intr) for res in used]).reshape(-1, 4)
                for k, o in enumerate(ambiguity.OUTCOMES):
                    m, h = mean_ci(fr[:, k]) if len(used) else (np.nan, np.nan)
                    row[o], row[o + " ±"] = float(m), float(h)
                rows.append(row)
    return pd.DataFrame(rows)


def outcome_table(probes: dict, labels, panel, l: float = 0.5,
                  criterion: float = CRITERION) -> pd.DataFrame:
    """Per ordered panel pair and variant: outcome fractions (mean and 95% t half width over
    the seeds whose dominant task is learned) on the dominant task's trials at mixture weight
    ``l`` of the intruder."""
    return _outcome_rows(probes, labels, panel, lambda res, d, i: outcomes_at(res, d, i, l),
                         lambda d, i: (d,), criterion)


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
    return _outcome_rows(probes, labels, panel, mid_switch_outcomes,
                         lambda d, i: (d, i), criterion)


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


def outcome_text(df: pd.DataFrame, what: str, cols=("switch", "blend", "collapse"),
                 exclude=("none",)) -> str:
    """Per ordered pair: the range over variants of the fractions in ``cols``."""
    parts = []
    for (dom, partner), g in df[~df["variant"].isin(exclude)].groupby(["trials of", "partner"],
                                                                       sort=False):
        g = g[g["n"] > 0]
        if g.empty:
            continue
        names = {"correct": f"as {dom}", "switch": f"as {partner} (switch)"} \
            if "correct" in cols else {}
        parts.append(f"{dom} trials: " + ", ".join(
            f"{names.get(c, c)} {_variant_range(g, c)}" for c in cols))
    if not parts:
        return f"{what}: no variant has a learned task to score."
    return f"{what} (seed means, range over variants): " + "; ".join(parts) + "."


def mixture_text(probes: dict, labels, panel, l: float = 0.5, exclude=("none",)) -> str:
    """Performance at the tie on each panel pair's tasks: range over variants (learned seeds)."""
    df = outcome_table(probes, labels, panel, l)
    parts = []
    for (dom, partner), g in df[~df["variant"].isin(exclude)].groupby(["trials of", "partner"],
                                                                       sort=False):
        g = g[g["n"] > 0]
        if not g.empty:
            parts.append(f"{dom} (against {partner}) {_variant_range(g, 'correct')}")
    return (f"At λ = {l:g}, the fraction of trials answered correctly, seed mean over networks "
            "that learned the task, ranges across variants: " + "; ".join(parts) + "."
            if parts else "No variant learned a panel task.")


def example_text(examples: dict[str, dict]) -> str:
    return ("The outcomes of the trials shown: " +
            ", ".join(f"`{lab}` {ex['outcome']}" for lab, ex in examples.items()) + ".")


# ------------------------------------------------------------------------------------------
# corruption summaries: one unit (relative to clean), levels stated from the code
# ------------------------------------------------------------------------------------------
def summary_columns_markdown(spec: dict) -> str:
    """What every column of the robustness table is, with the levels each uses (from ``spec``,
    the probe grid of the artifacts)."""
    lines = ["* `auc`: area under the dominant task's mixture curve for $\\lambda \\in [0, 1/2)$ "
             "divided by its clean performance (1 = unaffected), mean over the ordered task "
             f"pairs whose dominant task is learned; grid λ ∈ {list(spec['lambdas'])}.",
             "* `l_leave`: the λ at which the dominant task leaves criterion (0.5 = never before "
             "the tie), mean over the same ordered pairs; the only column not relative to "
             "clean."]
    for col, (key, grid, which, what) in SUMMARIES.items():
        if grid is None:
            lv = "one level"
        else:
            sel = summary_levels(spec, grid, which)
            vals = [f"{v:g}" for v in np.asarray(spec[grid])[sel]]
            lv = f"mean over {grid.replace('_', ' ')} {{{', '.join(vals)}}}"
        lines.append(f"* `{col}`: {what}; performance relative to clean, mean over learned "
                     f"tasks; {lv}.")
    lines.append("* each `±` column: the 95% t half width over the seeds with a value; the `n` "
                 "columns: how many seeds have one (a seed with no learned task, or no learned "
                 "task with a delay, has none).")
    return "\n".join(lines)


def corruption_text(table: pd.DataFrame, spec: dict, exclude=("none",)) -> str:
    """Range over variants of the noise and dilution summaries, and what the `none` line is."""
    t = table.drop(index=[e for e in exclude if e in table.index])
    parts = []
    for col in ("noise_frozen", "noise_fresh", "dilution", "scale_err"):
        g = pd.DataFrame({"variant": t.index, col: t[col].to_numpy()})
        parts.append(f"`{col}` {_variant_range(g, col)}")
    msg = ("Relative to clean (1 = unaffected), across variants: " + "; ".join(parts) +
           f" (noise at s.d. {max(spec['noise_levels']):g}).")
    if "none" in table.index:
        n = int(table.loc["none", "dilution n"])
        msg += (" The context-blind `none` ignores $c$, so it is exactly 1 wherever it is "
                "defined: " + (f"on the {n} of its seeds that learned at least one task (dashed)."
                               if n else "none of its seeds learned a task, so it has no line."))
    return msg


def timed_text(table: pd.DataFrame, exclude=("none",)) -> str:
    t = table.drop(index=[e for e in exclude if e in table.index])
    parts = []
    for col, what in (("missing", "with no context"), ("delay_removed",
                                                        "with the context removed during the delay"),
                      ("go_only", "with the context only from the go epoch")):
        g = pd.DataFrame({"variant": t.index, col: t[col].to_numpy()})
        parts.append(f"{what} {_variant_range(g, col)}")
    return "Performance relative to clean, across variants: " + "; ".join(parts) + "."


def format_robustness(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The robustness table (``claims.robustness_by_variant``) as ``m ± h (n=...)`` strings."""
    cols = [c for c in table.columns if not c.endswith(" ±") and not c.endswith(" n")]
    return pd.DataFrame({c: [fmt(m, h, int(n), digits) if n else "–"
                             for m, h, n in zip(table[c], table[c + " ±"], table[c + " n"])]
                         for c in cols}, index=table.index)


def robustness_text(table: pd.DataFrame, exclude=("none",)) -> str:
    """Range over variants of the mixture summaries."""
    t = table.drop(index=[e for e in exclude if e in table.index])
    parts = []
    for col, what in (("auc", "the area under the dominant task's curve (relative to clean)"),
                      ("l_leave", "the λ at which it leaves criterion")):
        g = pd.DataFrame({"variant": t.index, col: t[col].to_numpy()})
        parts.append(f"{what}: {_variant_range(g, col)}")
    return ("Averaged over every ordered task pair with a learned dominant task, "
            + "; ".join(parts) + " (seed means).")


def mid_switch_text(df: pd.DataFrame) -> str:
    """The mid-trial switch table in one sentence: answered as i, as j, blend, collapse."""
    return outcome_text(df, "After the mid-trial switch", ("correct", "switch", "blend",
                                                           "collapse"))
