"""E1 analyses: learning curves, final performance, trials to criterion, pathway ablations and
unit lesions (read from the cached results of :mod:`lib.experiments.lesions`), and the verdicts on claims C1 (both pathways carry task identity) and C2 (they
differ in robustness to ambiguity).

Inputs are the E1 networks ``nets[(label, seed)] -> lib.core.train.TrainResult`` and, for C2, the E2
probe results ``probes[(label, seed)] -> dict`` (:func:`lib.experiments.ambiguity.probe_network`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.experiments import ambiguity, lesions
from lib.experiments.battery import ARM_VARIANTS, ARMS, CONTROLS, EQUALISE_TO, TRAIN_MIX
from lib.analysis.stats import holm, mean_ci, paired
from lib.core.tasks import DISPLAY_NAMES

EXC_FAMILY = ("exc_bias", "exc_gain", "exc")
SYN_FAMILY = ("syn_prepost", "syn_lowrank_r1", "syn_lowrank_r2", "syn_mask")
MATCHED = (("exc", "syn_lowrank_r1"), ("exc", "syn_prepost"), ("hybrid", "syn_lowrank_r2"))
"""Pairs at equal per-task budgets: 2N vs 2N (additive low rank and multiplicative rank-1) and
4N vs 4N."""


def seeds_of(nets: dict, label: str) -> list[int]:
    return sorted(s for (lab, s) in nets if lab == label)


def final_perf(nets: dict, label: str) -> np.ndarray:
    """Final performance (S, K) of a label's networks."""
    return np.array([nets[label, s].history.perf_array()[-1] for s in seeds_of(nets, label)])


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
        out[i, :len(p)] = p
        out[i, len(p):] = p[-1]
    return trials, out


def trials_to_criterion(nets: dict, label: str, criterion: float = 0.9) -> np.ndarray:
    """Trials (S, K) at which each task first reached criterion (nan: not within budget)."""
    return np.array([nets[label, s].history.trials_to_criterion(criterion)
                     for s in seeds_of(nets, label)])


def budget(nets: dict, label: str) -> int:
    """Per-task modulation parameters of a label's networks."""
    return nets[label, seeds_of(nets, label)[0]].model.params_per_task()


def summary_table(nets: dict, labels, criterion: float = 0.9) -> pd.DataFrame:
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
        for name, v in (("mean perf", fp.mean(1)), ("min perf", fp.min(1)),
                        ("tasks at criterion", (fp >= criterion).mean(1))):
            m, h = mean_ci(v)
            row[name] = f"{m:.3f} ± {h:.3f}" if np.isfinite(h) else f"{m:.3f}"  # ± : 95% t, seeds
        reached = np.isfinite(all_ttc)
        row["seeds with every task at criterion at the end"] = (
            f"{int((fp >= criterion).all(1).sum())}/{len(fp)}")
        row["trials until every task had reached criterion (median)"] = (
            f"{np.median(all_ttc[reached]):,.0f} ({reached.sum()}/{len(fp)} seeds)"
            if reached.any() else "not reached")
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant")


def lesion_results(nets: dict, labels, fraction: float = lesions.LESION_FRACTION,
                   workers: int = 1) -> dict:
    """The cached lesion results (:func:`lib.experiments.lesions.analyse_network`) of every
    seed of ``labels`` among ``nets``, {(label, seed): result}: read from their ``lesions``
    artifacts (made first where missing, unless ``$BOOK_NO_TRAIN`` is set)."""
    chosen = {(lab, s): nets[lab, s] for lab in labels for s in seeds_of(nets, lab)}
    return lesions.run_lesions(chosen, lesions.LesionSpec(fraction), workers=workers,
                               progress=False)


def lesion_drops(nets: dict, labels, fraction: float = lesions.LESION_FRACTION,
                 workers: int = 1) -> dict[str, dict[str, np.ndarray]]:
    """Per label, the performance drops (intact - lesioned) of every seed: ``targeted`` (S, K, K),
    row k after silencing task k's most task-variant units
    (:func:`lib.experiments.lesions.lesion_map`), and ``random`` (S, K) after as many units drawn
    at random (mean of the random draws). Read from the cached results
    (:func:`lesion_results`)."""
    results = lesion_results(nets, labels, fraction, workers)
    out = {}
    for lab in labels:
        per_seed = [results[lab, s] for s in seeds_of(nets, lab)]
        out[lab] = {"targeted": np.array([m["intact"][None, :] - m["targeted"]
                                          for m in per_seed]),
                    "random": np.array([m["intact"] - m["random"] for m in per_seed])}
    return out


def lesion_summary(nets: dict, labels, fraction: float = lesions.LESION_FRACTION,
                   drops: dict | None = None) -> tuple[dict, pd.DataFrame]:
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
        stats = {"diagonal drop": targeted[:, eye].mean(1),
                 "off-diagonal drop": targeted[:, ~eye].mean(1),
                 "random-lesion drop": random.mean(1)}
        stats["diagonal - random"] = stats["diagonal drop"] - stats["random-lesion drop"]
        maps[lab] = targeted.mean(0)
        row = {"variant": lab, "seeds": len(targeted)}
        for name, v in stats.items():
            m, h = mean_ci(v)
            row[name] = f"{m:.3f} ± {h:.3f}" if np.isfinite(h) else f"{m:.3f}"
        rows.append(row)
    return maps, pd.DataFrame(rows).set_index("variant")


def _per_seed(nets: dict, label: str) -> dict[int, float]:
    """Seed -> mean final performance over tasks."""
    return {s: float(nets[label, s].history.perf_array()[-1].mean()) for s in seeds_of(nets, label)}


C1_RULE = (
    "A task *needs context* if the context-blind `none` is below criterion at the end of training "
    "in a majority of its seeds. A family *solves* a task if at least one of its variants ends at "
    "criterion on it in a majority of that variant's seeds. A task that needs context but that no "
    "variant of either family solves is *not tested* (the budget, not the claim, decides it). C1 "
    "is *supported* if both families solve every tested task, *partly supported* if both solve "
    "some but not all, *not supported* if a family solves none, and *not tested* if no task is "
    "tested.")
"""The C1 rule as printed in the chapter; :func:`verdict_c1` applies exactly this."""

FAMILIES = {"excitability": EXC_FAMILY, "synaptic": SYN_FAMILY}


def _majority(at: np.ndarray) -> bool:
    return bool(at.sum() * 2 > len(at))


def c1_per_task(nets: dict, criterion: float = 0.9) -> pd.DataFrame:
    """Per task: `none`'s mean final performance, whether the task needs context, seeds at
    criterion per variant ("k/n"), whether each family solves it, and its status (see
    :data:`C1_RULE`)."""
    tasks = nets["none", seeds_of(nets, "none")[0]].config.tasks
    final = {lab: final_perf(nets, lab)  # (S, K) per label present
             for lab in ("none", *(m for fam in FAMILIES.values() for m in fam))
             if seeds_of(nets, lab)}
    rows = []
    for k, task in enumerate(tasks):
        none_at = final["none"][:, k] >= criterion
        row = {"task": DISPLAY_NAMES.get(task, task),
               "none (mean final)": round(float(final["none"][:, k].mean()), 3),
               "needs context": not _majority(none_at)}
        solved = {}
        for fam, members in FAMILIES.items():
            solved[fam] = False
            for lab in (m for m in members if m in final):
                at = final[lab][:, k] >= criterion
                row[lab] = f"{int(at.sum())}/{len(at)}"
                solved[fam] |= _majority(at)
            row[f"{fam} solves"] = solved[fam]
        row["status"] = ("no context needed" if not row["needs context"] else
                         "tested" if any(solved.values()) else "not tested")
        rows.append(row)
    return pd.DataFrame(rows).set_index("task")


def verdict_c1(nets: dict, criterion: float = 0.9, alpha: float = 0.05) -> dict:
    """C1: both pathways can carry task identity, judged task by task (:data:`C1_RULE`).

    Supporting numbers: each family's best variant against the context-blind ``none``, paired
    over seeds (which share initial weights), Holm-corrected over the two families.
    """
    missing = [f for f, members in FAMILIES.items() if not any(seeds_of(nets, m) for m in members)]
    if not seeds_of(nets, "none") or missing:
        return {"verdict": "not tested (needs 'none' and a variant of each family)",
                "families": {}, "tasks": None}
    table = c1_per_task(nets, criterion)
    tested = table[table.status == "tested"]
    n_solved = {f: int(tested[f"{f} solves"].sum()) for f in FAMILIES}
    if tested.empty:
        verdict = "not tested"
    elif all(n == len(tested) for n in n_solved.values()):
        verdict = "supported"
    elif all(n > 0 for n in n_solved.values()):
        verdict = "partly supported"
    else:
        verdict = "not supported"
    floor = _per_seed(nets, "none")
    fam = {}
    for name, members in FAMILIES.items():
        present = [m for m in members if seeds_of(nets, m)]
        best = max(present, key=lambda m: final_perf(nets, m).mean())
        fam[name] = {"best": best, "mean": float(final_perf(nets, best).mean()),
                     "solved": n_solved[name], "vs_none": paired(_per_seed(nets, best), floor)}
    for f, p in zip(fam.values(), holm([f["vs_none"]["p"] for f in fam.values()])):
        f["vs_none"]["p_holm"] = float(p)
        f["beats_none"] = bool(f["vs_none"]["diff"] > 0 and p < alpha)
    return {"verdict": verdict, "families": fam, "tasks": table, "n_tested": len(tested),
            "not_tested": list(table.index[table.status == "not tested"])}


def _pair_mean(values: np.ndarray) -> float:
    """Mean over the scored task pairs (nan entries: not scored); nan if none was scored."""
    return float(np.nanmean(values)) if np.isfinite(values).any() else np.nan


def relative_to_clean(res: dict, key: str, criterion: float = 0.9) -> np.ndarray:
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
    "noise_frozen": ("noise_frozen", "noise_levels", "max",
                     "context noise frozen per trial, $c = e_i + s\\eta$"),
    "noise_fresh": ("noise_fresh", "noise_levels", "max",
                    "context noise fresh at every step"),
    "dilution": ("dilution", "dilutions", "all", "dilution toward uniform, "
                 "$c = (1-\\varepsilon)e_i + \\varepsilon\\mathbf 1/K$"),
    "scale_err": ("scale", "scales", "not1", "context scaled, $c = k e_i$"),
    "missing": ("missing", None, None, "no context, $c = 0$ throughout"),
    "delay_removed": ("delay_removed", None, None, "$c = 0$ during the delay epoch(s), $e_i$ "
                      "elsewhere (tasks with a delay only)"),
    "go_only": ("go_only", None, None, "$c = 0$ until the go epoch, $e_i$ from it"),
}
"""The corruption columns of the robustness table: each is performance relative to clean, mean
over the network's learned tasks, averaged over the levels named (``max``: the largest level;
``all``: every level; ``not1``: every level but 1)."""


def summary_levels(spec: dict, grid: str | None, which) -> np.ndarray | None:
    if grid is None:
        return None
    lv = np.asarray(spec[grid], float)
    return {"max": lv == lv.max(), "all": np.ones(len(lv), bool),
            "not1": ~np.isclose(lv, 1.0)}[which]


def summary_value(res: dict, column: str, criterion: float = 0.9) -> float:
    key, grid, which, _ = SUMMARIES[column]
    rel = relative_to_clean(res, key, criterion)
    sel = summary_levels(res["spec"], grid, which)
    return float(np.mean(rel[sel]) if sel is not None else rel[0])


def robustness_by_variant(probes: dict, labels, criterion: float = 0.9) -> pd.DataFrame:
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


def paired_auc(probes: dict, a: str, b: str, criterion: float = 0.9) -> dict:
    """Mixture robustness ``auc`` of variant ``a`` minus ``b``, paired over seeds
    (:func:`lib.analysis.stats.paired`), each seed's value the mean over one common set of
    ordered task pairs: those whose dominant task every network of both variants learned, so
    neither side is scored on tasks the other never solved. Adds ``a``, ``b`` and ``pairs``."""
    def auc_by_seed(lab: str) -> dict[int, np.ndarray]:
        return {s: ambiguity.robustness(res, criterion)["auc"]
                for (l, s), res in probes.items() if l == lab}

    auc_a, auc_b = auc_by_seed(a), auc_by_seed(b)
    common = _common_pairs([*auc_a.values(), *auc_b.values()])

    def mean_common(auc: dict) -> dict[int, float]:
        return {s: float(v[common].mean()) if common.any() else np.nan for s, v in auc.items()}

    return {"a": a, "b": b, "pairs": int(common.sum()),
            **paired(mean_common(auc_a), mean_common(auc_b))}


CONTROL_MEASURES = ("final performance", "mixture robustness")
"""What each control of :data:`lib.experiments.battery.CONTROLS` is compared on against the main
variant it changes (chosen before the controls were trained): the mean final performance over
tasks (E1) and the mixture robustness ``auc`` on common learned pairs (E2, as C2 uses it)."""


def _holm_column(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """``df`` with ``p_holm`` (Holm over its rows' ``p``) and ``differs`` (p_holm < alpha)."""
    df["p_holm"] = holm(df["p"].to_numpy()) if len(df) else []
    df["differs"] = (df["p_holm"] < alpha) if len(df) else []
    return df


COMPARISON_COLUMNS = ["diff", "lo", "hi", "dz", "p", "n"]


def control_comparisons(nets: dict, probes: dict, criterion: float = 0.9,
                        alpha: float = 0.05) -> pd.DataFrame:
    """Each control minus its main variant on :data:`CONTROL_MEASURES`, paired over seeds (shared
    initial weights), Holm-corrected over every (control, measure) test. Rows: control, variant,
    measure, diff, lo, hi (95% t interval), dz, p, n, p_holm, differs."""
    rows = []
    for control, variant in CONTROLS.items():
        if not (seeds_of(nets, control) and seeds_of(nets, variant)):
            continue
        perf = paired(_per_seed(nets, control), _per_seed(nets, variant))
        auc = paired_auc(probes, control, variant, criterion)
        for measure, d in zip(CONTROL_MEASURES, (perf, auc)):
            rows.append({"control": control, "variant": variant, "measure": measure,
                         **{k: d[k] for k in COMPARISON_COLUMNS}})
    return _holm_column(pd.DataFrame(rows, columns=["control", "variant", "measure",
                                                    *COMPARISON_COLUMNS]), alpha)


def arm_label(label: str, arm: str) -> str:
    """How a network of a training arm is labelled beside E1's: ``exc@mixtures``."""
    return label if arm == "standard" else f"{label}@{arm}"


def arm_effects(standard: dict, arm_probes: dict, arm: str, criterion: float = 0.9,
                alpha: float = 0.05) -> pd.DataFrame:
    """Per variant of a training arm (:data:`lib.experiments.battery.ARM_VARIANTS`): its arm's
    networks minus its standard ones on the mixture robustness ``auc`` (:func:`paired_auc`;
    same seeds, so the same shared initial weights), Holm-corrected over the variants. The
    check that the arm changed what it was meant to change; whether C2's conclusion changes is
    :func:`verdict_c2` on ``arm_probes``. The equalising reference is left out (its networks are
    its standard ones). Rows: variant, diff, lo, hi, dz, p, n, pairs, p_holm,
    differs."""
    merged = {k: v for k, v in standard.items() if k[0] in ARM_VARIANTS[arm]}
    merged |= {(arm_label(lab, arm), s): v for (lab, s), v in arm_probes.items()}
    rows = []
    for lab in ARM_VARIANTS[arm]:
        if arm == "equalised" and lab == EQUALISE_TO:
            continue   # the reference: its equalised networks are its standard ones
        if any(l == lab for l, _ in arm_probes) and any(l == lab for l, _ in standard):
            d = paired_auc(merged, arm_label(lab, arm), lab, criterion)
            rows.append({"variant": lab, **{k: d[k] for k in (*COMPARISON_COLUMNS, "pairs")}})
    return _holm_column(pd.DataFrame(rows, columns=["variant", *COMPARISON_COLUMNS, "pairs"]),
                        alpha)

def seed_aucs(probes_by_arm: dict[str, dict], labels, criterion: float = 0.9) -> pd.DataFrame:
    """Per network of every arm and label: the mixture robustness ``auc`` averaged over one
    common set of ordered task pairs, those whose dominant task every network shown learned
    (so every point is scored on the same pairs). ``probes_by_arm``: arm -> probes keyed
    (label, seed). Rows: arm, variant, seed, auc, pairs."""
    aucs = {(arm, lab, s): ambiguity.robustness(res, criterion)["auc"]
            for arm, probes in probes_by_arm.items() for (lab, s), res in probes.items()
            if lab in labels}
    common = _common_pairs(aucs.values())
    rows = [{"arm": arm, "variant": lab, "seed": s,
             "auc": float(v[common].mean()) if common.any() else np.nan,
             "pairs": int(common.sum())} for (arm, lab, s), v in aucs.items()]
    return pd.DataFrame(rows, columns=["arm", "variant", "seed", "auc", "pairs"])


def arm_summary(nets_by_arm: dict[str, dict], labels, criterion: float = 0.9) -> pd.DataFrame:
    """:func:`summary_table` of every arm's networks, rows (arm, variant): did each arm's
    networks learn (a network that did not says nothing about robustness)."""
    return pd.concat({arm: summary_table(nets, [l for l in labels if seeds_of(nets, l)],
                                         criterion)
                      for arm, nets in nets_by_arm.items()}, names=["arm"])


def _differs_word(row) -> str:
    return "differs" if row["differs"] else "no detectable difference"


def _row_diff(row) -> str:
    return _fmt_diff({k: row[k] for k in (*COMPARISON_COLUMNS, "p_holm")})


def control_markdown(df: pd.DataFrame) -> str:
    """The control comparisons (:func:`control_comparisons`) as sentences, and what they mean
    for the excitability-vs-synaptic comparison."""
    if df.empty:
        return "*(the controls were not trained in this run)*"
    lines = ["Each control minus the variant it changes (paired over seeds; Holm over the "
             f"{int(np.isfinite(df['p']).sum())} tests with a p value):", ""]
    for _, r in df.iterrows():
        what = (f"{r['measure']}" + (" (mean over tasks)" if r["measure"] == CONTROL_MEASURES[0]
                                     else " (AUC on common learned pairs)"))
        lines.append(f"* `{r['control']}` − `{r['variant']}`, {what}: "
                     + (f"{_row_diff(r)} → {_differs_word(r)}." if np.isfinite(r["p"])
                        else "not scored (fewer than two seeds with a common learned task)."))
    scored = df[np.isfinite(df["p"])]
    unscored = sorted(set(df["measure"]) - set(scored["measure"]))
    if scored.empty:
        conclusion = "No comparison could be scored in this run."
    elif scored["differs"].any():
        conclusion = ("Where the modulation acts matters here: " + ", ".join(
            f"`{r['control']}` on {r['measure']}" for _, r in scored[scored["differs"]].iterrows())
            + " differ from the variant they control, so part of a pathway's effect comes from "
              "which synapses it scales.")
    else:
        conclusion = ("Neither moving the gain off the input synapses nor putting the synaptic "
                      "factor on them changes " + " or ".join(sorted(set(scored["measure"])))
                      + " detectably at this seed count: the comparisons of pathways in this "
                      "book are not detectably confounded by which synapses the modulation "
                      "reaches (at the resolution of the intervals above; not a proof of "
                      "equality).")
    if unscored:
        conclusion += f" Not scored: {', '.join(unscored)}."
    return "\n".join([*lines, "", conclusion])


def arm_markdown(arm: str, v_arm: dict, v_standard: dict, effects: pd.DataFrame) -> str:
    """One training arm's result: C2's rule applied to its networks and to the standard ones on
    the same matched pairs (``verdict_c2`` of each), and the arm-minus-standard effects
    (:func:`arm_effects`)."""
    what = ARMS[arm].format(mix=TRAIN_MIX)
    tested = [not v["verdict"].startswith("not tested") for v in (v_arm, v_standard)]
    change = ("is unchanged" if v_arm["verdict"] == v_standard["verdict"] else "changes"
              ) if all(tested) else "cannot be compared (a side is not tested)"
    lines = [f"**Arm `{arm}`** ({what}). C2's rule on this arm's networks: "
             f"**{v_arm['verdict']}**; on the standard networks, same matched pairs: "
             f"**{v_standard['verdict']}** → the conclusion {change}."]
    for c in v_arm["comparisons"]:
        lines.append(f"* `{c['a']}` − `{c['b']}` in this arm ({c['pairs']} common ordered task "
                     "pairs): " + (f"{_fmt_diff(c)} → "
                                   f"{'differ' if c['differs'] else 'no detectable difference'}."
                                   if np.isfinite(c["p"]) else "not scored."))
    for _, r in effects.iterrows():
        lines.append(f"* `{r['variant']}`, this arm − standard (mixture AUC, {r['pairs']} "
                     "common pairs): " + (f"{_row_diff(r)} → {_differs_word(r)}."
                                          if np.isfinite(r["p"]) else "not scored."))
    return "\n".join(lines)


def verdict_c2(probes: dict, criterion: float = 0.9, alpha: float = 0.05) -> dict:
    """C2: excitability and synaptic modulation differ in robustness to ambiguous context.

    Compared at matched per-task budgets (``MATCHED``, chosen before looking) on the mixture
    robustness ``auc``, averaged per seed over one common set of ordered task pairs (those whose
    dominant task every network of both variants learned), paired over seeds (same initial
    weights), Holm-corrected over the matched pairs at ``alpha``. Supported if every matched
    pair differs, in the same direction; partly if some do; not supported if none does (at this
    scale and seed count); not tested if no matched pair can be scored (robustness is defined
    only for tasks at criterion).
    """
    comparisons = [paired_auc(probes, a, b, criterion) for a, b in MATCHED
                   if any(l == a for l, _ in probes) and any(l == b for l, _ in probes)]
    for c, p in zip(comparisons, holm([c["p"] for c in comparisons])):
        c["p_holm"] = float(p)
        c["differs"] = bool(np.isfinite(p) and p < alpha)
    n_diff = sum(c["differs"] for c in comparisons)
    same_sign = len({np.sign(c["diff"]) for c in comparisons if c["differs"]}) <= 1
    if not any(np.isfinite(c["p"]) for c in comparisons):
        verdict = ("not tested (no matched pair has, in two or more seeds of each side, a task "
                   "at criterion on clean context to score)")
    elif n_diff == len(comparisons) and same_sign:
        verdict = "supported"
    elif n_diff:
        verdict = "partly supported"
    else:
        verdict = "not supported"
    return {"verdict": verdict, "comparisons": comparisons}


def hybrid_ablations(nets: dict, modes=lesions.ABLATION_MODES,
                     workers: int = 1) -> dict[str, np.ndarray]:
    """Per-task performance (S, K) of the hybrid intact, with a pathway removed at test time
    (each context replacement of ``modes``, "zero" and/or "mean";
    :func:`lib.experiments.lesions.pathway_ablation`, read from the cached ``lesions``
    results) and trained with a pathway frozen (where those networks exist)."""
    bad = [m for m in modes if m not in lesions.ABLATION_MODES]
    if bad:
        raise ValueError(f"modes={tuple(modes)!r} is not allowed; expected modes among "
                         f"{lesions.ABLATION_MODES}")
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


def _fmt_diff(d: dict) -> str:
    """Paired difference, 95% CI, effect size and Holm-adjusted p, e.g. for the verdicts."""
    return (f"{d['diff']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}], d<sub>z</sub> = {d['dz']:.2f}, "
            f"Holm-adjusted p = {d.get('p_holm', d['p']):.3g}, {d['n']} paired seeds")


def c1_markdown(v: dict, spec) -> str:
    """The C1 verdict as a paragraph, every number taken from ``verdict_c1``'s output, and the
    rule it applied (:data:`C1_RULE`, the same text the code follows)."""
    if not v["families"]:
        return f"**C1: {v['verdict']}.**"
    lines = [f"**C1 — {v['verdict']}** (task set: {len(spec.tasks)} tasks, N = {spec.n_rec}, "
             f"{spec.n_seeds} seeds, budget {spec.max_steps:,} steps). Tasks that need context "
             f"and are tested: {v['n_tested']}; not tested: "
             f"{', '.join(v['not_tested']) if v['not_tested'] else 'none'}.", ""]
    for name, f in v["families"].items():
        lines.append(
            f"* {name} pathway: solves {f['solved']} of the {v['n_tested']} tested tasks; best "
            f"variant `{f['best']}` (mean final performance {f['mean']:.3f}), paired difference "
            f"from the context-blind `none` {_fmt_diff(f['vs_none'])} (mean over tasks; 95% t "
            f"interval over seeds): {'beats' if f['beats_none'] else 'does not beat'} the floor.")
    lines += ["", f"Rule: {C1_RULE}"]
    return "\n".join(lines)


def c2_markdown(v: dict, spec) -> str:
    """The C2 verdict as a paragraph, every number taken from ``verdict_c2``'s output."""
    lines = [f"**C2 — {v['verdict']}** (task set: {len(spec.tasks)} tasks, N = {spec.n_rec}, "
             f"{spec.n_seeds} seeds). Matched-budget differences in mixture robustness "
             "(area under the dominant-task curve, mean over the ordered task pairs whose "
             "dominant task every network of both variants learned), paired over seeds: mean "
             "difference and its 95% t interval:", ""]
    for c in v["comparisons"]:
        lines.append(f"* `{c['a']}` − `{c['b']}` ({c['pairs']} common ordered task pairs): "
                     f"{_fmt_diff(c)} → "
                     f"{'differ' if c['differs'] else 'no detectable difference'}.")
    if not v["comparisons"]:
        lines.append("* no matched pair was trained in this run.")
    lines += ["", "Rule: a matched pair *differs* if its Holm-adjusted p (over the matched "
              "pairs, chosen before looking) is below 0.05; *supported* if every matched pair "
              "differs, in the same direction; *partly* if some do; *not supported* if none does "
              "at this scale and seed count. The intervals are per comparison (uncorrected). "
              "The per-pair λ at which criterion is left, the switch/blend split and the timed "
              "probes describe how each pathway fails; they are not part of this pre-registered "
              "comparison, which is unchanged."]
    return "\n".join(lines)


PATHWAY_NAMES = {"exc": "excitability", "syn": "synaptic"}


def ablation_text(bars: dict[str, np.ndarray], tasks, criterion: float = 0.9) -> str:
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
        lost[pw] = [(names[j], float(removed[:, j].mean())) for j in range(len(tasks))
                    if intact[:, j].mean() >= criterion and removed[:, j].mean() < criterion]
        where = ("takes " + (f"{len(lost[pw])} of the {len(tasks)} tasks below criterion ("
                             + ", ".join(f"{t} {v:.2f}" for t, v in lost[pw]) + ")")
                 if lost[pw] else "takes no task below criterion")
        parts.append(f"removing the **{PATHWAY_NAMES[pw]}** pathway (context 0 to it) {where}; "
                     f"its largest drop, on {names[k]}, is {m:.2f}"
                     + (f" ± {h:.2f}" if np.isfinite(h) else ""))
    text = [f"With the hybrid intact at criterion on "
            f"{int((intact.mean(0) >= criterion).sum())} of {len(tasks)} tasks (mean over "
            f"{n_seeds} seeds), " + "; ".join(parts) + " (drops: intact − ablated, mean ± 95% t "
            f"interval over the {n_seeds} paired seeds)."]
    frozen = {pw: bars[f"{pw} frozen in training"] for pw in ("exc", "syn")
              if f"{pw} frozen in training" in bars}
    if frozen:
        text.append("Trained with one pathway frozen, the other reached criterion on "
                    + "; ".join(f"{int((v.mean(0) >= criterion).sum())} of {len(tasks)} tasks "
                                f"alone (the {PATHWAY_NAMES['syn' if pw == 'exc' else 'exc']} "
                                "pathway)" for pw, v in frozen.items()) + ".")
    if lost["exc"] and not lost["syn"]:
        meaning = ("the trained hybrid relies on its excitability pathway, and its synaptic part "
                   "is redundant: the two pathways are not complementary here")
    elif lost["syn"] and not lost["exc"]:
        meaning = ("the trained hybrid relies on its synaptic pathway, and its excitability part "
                   "is redundant: the two pathways are not complementary here")
    elif lost["exc"] and lost["syn"]:
        meaning = ("each pathway carries tasks the other does not: the division of labour that "
                   "complementarity in C5's sense would predict")
    else:
        meaning = ("either pathway alone keeps every task: within the hybrid they are redundant, "
                   "not complementary")
    alone = [pw for pw, v in frozen.items() if (v.mean(0) >= criterion).all()]
    note = (" Since a hybrid trained with either pathway frozen still learns every task, this is "
            "how training divided the work between the pathways, not a limit of the unused one."
            if len(alone) == 2 else "")
    text.append(f"**For C5** (the pathways are complementary and synergistic; its time-scale "
                f"part is tested in {{doc}}`07_timescales`): at this profile {meaning}.{note}")
    return " ".join(text)
