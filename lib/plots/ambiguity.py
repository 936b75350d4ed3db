"""Figures of chapter E2 (ambiguity): mixture curves on the panel pairs, how trials fail
(correct / collapse / switch / blend), where each pathway leaves criterion per pair, robustness
summaries, noise / dilution / scale, missing and timed context, mid-trial switches, and outputs
on one ambiguous trial."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lib.experiments.ambiguity import OUTCOMES
from lib.plots import FONT, FONT_SMALL, MAX_COLS, PER_FIGURE, color, figure, marker, split, style
from lib.analysis import ambiguity as ambiguity_analysis
from lib.analysis.stats import mean_ci
from lib.core.tasks import DISPLAY_NAMES


def _seeds(probes: dict, label: str) -> list[dict]:
    return [probes[k] for k in sorted(probes) if k[0] == label]


def _pair_index(res: dict, a: str, b: str) -> int:
    i, j = res["tasks"].index(a), res["tasks"].index(b)
    return [tuple(p) for p in res["pairs"]].index((i, j))


def _variant_rows(labels, panel) -> list[list]:
    """Groups of variants, one figure each, so that a figure of one row per variant and one
    column per panel pair holds at most :data:`lib.plots.PER_FIGURE` panels."""
    return split(labels, max(1, PER_FIGURE // max(1, len(panel))))


def _one_or_list(figs: list):
    return figs[0] if len(figs) == 1 else figs


def mixture_panel(probes: dict, labels, panel, criterion: float = 0.9):
    """Rows: variants; columns: panel pairs (i, j). Performance on task i (solid) and task j
    (dashed) against the mixture weight λ of c = (1-λ) e_i + λ e_j; mean and 95% CI (the axis
    holds every interval). Many variants: a list of figures (:func:`_variant_rows`)."""
    groups = _variant_rows(labels, panel)
    return _one_or_list(
        [
            _mixture_panel(probes, g, panel, criterion, (i + 1, len(groups)))
            for i, g in enumerate(groups)
        ]
    )


def _mixture_panel(probes: dict, labels, panel, criterion: float, part):
    fig, axes = figure(len(labels), len(panel), 2.2, 1.5, sharex=True, sharey=True)
    lo, hi = 0.0, 1.0
    for r, lab in enumerate(labels):
        for col, (a, b) in enumerate(panel):
            ax = axes[r, col]
            runs = _seeds(probes, lab)
            lam = np.asarray(runs[0]["spec"]["lambdas"])
            p = _pair_index(runs[0], a, b)
            for key, ls in (("mix_i", "-"), ("mix_j", "--")):
                m, h = mean_ci([res[key][p] for res in runs])
                h = np.nan_to_num(h)
                ax.plot(lam, m, ls, color=color(lab), lw=1.4)
                ax.fill_between(lam, m - h, m + h, color=color(lab), alpha=0.15, lw=0)
                if np.isfinite(m).any():
                    lo, hi = min(lo, float(np.nanmin(m - h))), max(hi, float(np.nanmax(m + h)))
            ax.axhline(criterion, color="k", ls=":", lw=0.8)
            ax.axvline(0.5, color="0.7", lw=0.6)
            if r == 0:
                ax.set_title(f"{DISPLAY_NAMES.get(a, a)} (—) / {DISPLAY_NAMES.get(b, b)} (- -)")
            if col == 0:
                ax.set_ylabel(lab, color=color(lab))
            if r == len(labels) - 1:
                ax.set_xlabel("mixture weight λ")
    axes[0, 0].set_ylim(lo - 0.02, hi + 0.02)
    fig.supylabel("performance of task i (—) and task j (- -)")
    if part[1] > 1:
        fig.suptitle(f"Mixture curves, part {part[0]} of {part[1]}", fontsize=FONT)
    return fig


def robustness_summary(table, labels):
    """Mixture robustness per variant (``lib.analysis.robustness_by_variant``): area under the
    dominant-task curve and the l at which performance leaves criterion, 95% CI over seeds."""
    fig, axes = figure(1, 2, 4.6, 3.2)
    for ax, col, ylabel in zip(
        axes[0],
        ("auc", "l_leave"),
        (
            "area under robustness curve\n(1 = unaffected)",
            "λ at which performance\nleaves criterion",
        ),
    ):
        for x, lab in enumerate(labels):
            ax.errorbar(
                x,
                table.loc[lab, col],
                yerr=np.nan_to_num(table.loc[lab, col + " ±"]),
                fmt=marker(lab),
                color=color(lab),
                capsize=3,
            )
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=FONT_SMALL)
        ax.set_ylabel(ylabel, fontsize=FONT_SMALL)
    axes[0, 1].axhline(0.5, color="k", ls=":", lw=0.8)
    return fig


def corruption_curves(probes: dict, labels):
    """Performance relative to clean (mean over the tasks at criterion on clean context) under
    context noise (frozen per trial, fresh per step), dilution toward uniform and scaling; mean
    and 95% CI over the seeds with a learned task (their number in the legend where not all;
    the context-blind ``none`` dashed)."""
    probes_ = {
        "noise_frozen": ("noise_levels", "context noise s.d.\n(frozen per trial)"),
        "noise_fresh": ("noise_levels", "context noise s.d.\n(fresh per step)"),
        "dilution": ("dilutions", "dilution toward uniform\n(eps)"),
        "scale": ("scales", "context scale k"),
    }
    fig, axes = figure(2, 2, 2.8, 2.3, sharey=True)
    for ax, (key, (grid, xlabel)) in zip(axes.flat, probes_.items()):
        for lab in labels:
            runs = _seeds(probes, lab)
            x = np.asarray(runs[0]["spec"][grid])
            rel = np.array([ambiguity_analysis.relative_to_clean(res, key) for res in runs])
            m, h = mean_ci(rel)
            n = int(np.isfinite(rel).any(axis=1).sum())
            ax.plot(
                x,
                m,
                lw=1.3,
                ms=3.5,
                **style(lab),
                label=lab if n == len(runs) else f"{lab} ({n}/{len(runs)} seeds)",
            )
            ax.fill_between(
                x, m - np.nan_to_num(h), m + np.nan_to_num(h), color=color(lab), alpha=0.12, lw=0
            )
        ax.set_xlabel(xlabel, fontsize=FONT_SMALL)
    fig.supylabel("performance / clean performance")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center", fontsize=FONT_SMALL, title="variant")
    return fig


OUTCOME_COLORS = ("#0072B2", "#BBBBBB", "#D55E00", "#F0E442")
"""correct (blue), collapse (grey), switch (vermillion), blend (yellow): Okabe & Ito's colours,
apart also under deuteranopia and protanopia (a red/green pair would not be)."""


def timed_probes(table, labels):
    """Performance relative to clean (``lib.analysis.ambiguity.robustness_by_variant``) with no
    context, with the context removed during the delay, and with the context only from the go
    epoch; mean and 95% t interval over seeds."""
    fig, axes = figure(1, 1, 6.4, 3.0)
    ax = axes[0, 0]
    cols = (
        ("missing", "missing (c = 0)"),
        ("delay_removed", "removed during the delay"),
        ("go_only", "only from the go epoch"),
    )
    for n, (col, nm) in enumerate(cols):
        for x, lab in enumerate(labels):
            ax.bar(
                x + (n - 1) * 0.27,
                table.loc[lab, col],
                0.27,
                yerr=np.nan_to_num(table.loc[lab, col + " ±"]),
                color=color(lab),
                alpha=(1.0, 0.6, 0.3)[n],
                capsize=2,
                label=nm if x == 0 else None,
            )
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=FONT_SMALL)
    ax.axhline(1.0, color="k", ls=":", lw=0.8)
    ends = np.concatenate(
        [
            (table.loc[labels, c] + np.nan_to_num(table.loc[labels, c + " ±"])).to_numpy(float)
            for c, _ in cols
        ]
    )
    top = max(1.1, float(ends[np.isfinite(ends)].max(initial=0)) + 0.05)
    ax.set(ylabel="performance / clean performance", ylim=(0, top))
    fig.legend(loc="outside right center", fontsize=FONT_SMALL, title="context given")
    return fig


def outcome_fractions(probes: dict, labels, panel, criterion: float = ambiguity_analysis.CRITERION):
    """Rows: variants; columns: panel pairs (trials of the pair's first task i). Outcome
    fractions (correct, collapse, switch, blend) as the intruder's weight l grows, mean over the
    seeds that learned task i (n in the panel; empty where none did). Many variants: a list of
    figures."""
    groups = _variant_rows(labels, panel)
    return _one_or_list(
        [
            _outcome_fractions(probes, g, panel, criterion, (i + 1, len(groups)))
            for i, g in enumerate(groups)
        ]
    )


def _outcome_fractions(probes: dict, labels, panel, criterion: float, part):
    fig, axes = figure(len(labels), len(panel), 2.2, 1.4, sharex=True, sharey=True)
    for r, lab in enumerate(labels):
        for col, (a, b) in enumerate(panel):
            ax = axes[r, col]
            runs = [
                res
                for _, res in ambiguity_analysis.runs(probes, lab)
                if ambiguity_analysis.learned(res, a, criterion)
            ]
            if runs:
                lam = np.asarray(runs[0]["spec"]["lambdas"])
                p = _pair_index(runs[0], a, b)
                frac = np.nan_to_num(np.mean([res["out_i"][p] for res in runs], axis=0))
                ax.stackplot(lam, frac.T, colors=OUTCOME_COLORS)
            else:
                ax.text(
                    0.5,
                    0.5,
                    "not learned",
                    ha="center",
                    va="center",
                    fontsize=FONT_SMALL,
                    transform=ax.transAxes,
                )
            ax.text(
                0.97,
                0.05,
                f"n={len(runs)}",
                ha="right",
                va="bottom",
                fontsize=FONT_SMALL,
                transform=ax.transAxes,
                bbox={"fc": "w", "ec": "none", "alpha": 0.7, "pad": 1},
            )
            if r == 0:
                ax.set_title(
                    f"{ambiguity_analysis.name(a)} trials (vs {ambiguity_analysis.name(b)})"
                )
            if col == 0:
                ax.set_ylabel(lab, color=color(lab))
            if r == len(labels) - 1:
                ax.set_xlabel("intruder weight λ")
    axes[0, 0].set_ylim(0, 1)
    fig.supylabel("fraction of trials")
    fig.legend(
        [Patch(color=c) for c in OUTCOME_COLORS],
        list(OUTCOMES),
        fontsize=FONT_SMALL,
        loc="outside lower center",
        ncol=4,
    )
    if part[1] > 1:
        fig.suptitle(f"How trials fail, part {part[0]} of {part[1]}", fontsize=FONT)
    return fig


def l_leave_pairs(df):
    """``l_leave`` per panel pair (``lib.analysis.ambiguity.l_leave_by_pair``): one panel per
    pair; per variant, the pair's first task dominant (filled circle) and second (open square),
    mean and 95% t interval over the seeds that learned the dominant task."""
    pairs = list(dict.fromkeys(df["pair"]))
    labels = list(dict.fromkeys(df["variant"]))
    fig, axes = figure(1, len(pairs), 3.2, 2.8, sharey=True)
    lo, hi = 0.0, 0.5
    for ax, pair in zip(axes[0], pairs):
        g = df[df["pair"] == pair]
        for d, (dom, mk) in enumerate(zip(dict.fromkeys(g["dominant"]), ("o", "s"))):
            for x, lab in enumerate(labels):
                row = g[(g["dominant"] == dom) & (g["variant"] == lab)].iloc[0]
                h = float(np.nan_to_num(row["ci"]))
                ax.errorbar(
                    x + (d - 0.5) * 0.3,
                    row["mean"],
                    yerr=h,
                    fmt=mk,
                    color=color(lab),
                    ms=4,
                    capsize=2,
                    mfc=color(lab) if d == 0 else "white",
                )
                if np.isfinite(row["mean"]):
                    lo, hi = min(lo, row["mean"] - h), max(hi, row["mean"] + h)
        doms = " / ".join(dict.fromkeys(g["dominant"]))
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=FONT_SMALL)
        ax.axhline(0.5, color="k", ls=":", lw=0.8)
        ax.set_title(f"{pair}\n(dominant: {doms})", fontsize=FONT_SMALL)
    axes[0, 0].set_ylabel("λ at which performance\nleaves criterion", fontsize=FONT_SMALL)
    axes[0, 0].set_ylim(lo - 0.02, hi + 0.05)
    fig.legend(
        [_marker("o", True), _marker("s", False)],
        ["first task of the pair dominant", "second task dominant"],
        fontsize=FONT_SMALL,
        loc="outside lower center",
        ncol=2,
        frameon=False,
    )
    return fig


MID_SWITCH_COLS = 3
"""Panels side by side in :func:`mid_switch` (each holds every variant's bar)."""


def _marker(marker: str, filled: bool) -> Line2D:
    return Line2D([], [], marker=marker, ls="", color="0.3", mfc="0.3" if filled else "white")


def mid_switch(df):
    """Mid-trial switch (``lib.analysis.ambiguity.mid_switch_table``): per panel pair and
    direction, stacked fractions answered as the first task (correct), as the partner
    (switch), collapse and blend per variant, mean over the seeds that learned both tasks."""
    groups = list(dict.fromkeys(zip(df["pair"], df["trials of"], df["partner"])))
    labels = list(dict.fromkeys(df["variant"]))
    ncols = max(1, min(len(groups), MID_SWITCH_COLS))
    fig, axes = figure(int(np.ceil(len(groups) / ncols)), ncols, 2.4, 2.4, sharey=True)
    for ax in axes.flat[len(groups) :]:
        ax.set_visible(False)
    for ax, (pair, first, partner) in zip(axes.flat, groups):
        g = df[(df["pair"] == pair) & (df["trials of"] == first)].set_index("variant")
        bottom = np.zeros(len(labels))
        for o, c in zip(OUTCOMES, OUTCOME_COLORS):
            v = np.nan_to_num(g.loc[labels, o].to_numpy(float))
            ax.bar(range(len(labels)), v, 0.8, bottom=bottom, color=c, label=o)
            bottom += v
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=FONT_SMALL)
        ax.set_title(f"{first} → {partner}", fontsize=FONT_SMALL)
    fig.supylabel("fraction of trials")
    axes[0, 0].set_ylim(0, 1)
    fig.legend(
        [Patch(color=c) for c in OUTCOME_COLORS],
        list(OUTCOMES),
        fontsize=FONT_SMALL,
        loc="outside lower center",
        ncol=4,
    )
    return fig


def example_outputs(examples: dict[str, dict]):
    """Output ring over time on one ambiguous trial per variant
    (``lib.experiments.ambiguity.example``):
    the angle each task would ask for is marked on the right."""
    ncols = max(1, min(len(examples), MAX_COLS))
    fig, axes = figure(int(np.ceil(len(examples) / ncols)), ncols, 1.9, 2.0, sharey=True)
    for ax in axes.flat[len(examples) :]:
        ax.set_visible(False)
    for ax, (lab, ex) in zip(axes.flat, examples.items()):
        y = np.asarray(ex["y_hat"])
        ax.imshow(
            y[:, 1:].T,
            aspect="auto",
            origin="lower",
            vmin=0,
            vmax=1,
            cmap="Greys",
            extent=(0, y.shape[0], 0, 2 * np.pi),
        )
        ax.plot(
            np.arange(y.shape[0]),
            y[:, 0] * 2 * np.pi,
            color="k",
            lw=1,
            label="fixation output (× 2π)",
        )
        for name, ang, c, ls in (
            ("task i", ex["target_i"], "#0072B2", "--"),
            ("task j", ex["target_j"], "#D55E00", "-."),
        ):
            if ang is not None and ang >= 0:  # -1 / None: fixate / no partner
                ax.axhline(ang, color=c, ls=ls, lw=1.2, label=f"{name} target")
        ax.set_title(f"{lab}: {ex['outcome']}", fontsize=FONT_SMALL)
    fig.supxlabel("time step")
    fig.supylabel("output ring angle (rad)")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.lines}
    fig.legend(
        handles.values(),
        handles.keys(),
        loc="outside right center",
        fontsize=FONT_SMALL,
        frameon=False,
    )
    return fig


ARM_FILL = {"standard": True, "equalised": False, "mixtures": True}
ARM_SHADE = {"standard": 1.0, "equalised": 1.0, "mixtures": 0.45}


def arm_aucs(df, labels, arms):
    """Mixture robustness per network under each training arm (``seed_aucs`` of
    ``lib.analysis.ambiguity``): one column of dots per (variant, arm), grey lines joining the
    networks of one seed (same shared initial weights) across arms, mean and 95% t interval
    beside. Filled: standard; open: equalised; light: mixtures."""
    fig, axes = figure(1, 1, 1.2 + 1.6 * len(labels), 3.2)
    ax = axes[0, 0]
    width = 0.8 / max(len(arms), 1)
    for i, lab in enumerate(labels):
        xs = {arm: i - 0.4 + width * (j + 0.5) for j, arm in enumerate(arms)}
        sub = df[df.variant == lab]
        for seed, g in sub.groupby("seed"):
            g = g.set_index("arm").reindex([a for a in arms if a in set(g.arm)])
            ax.plot([xs[a] for a in g.index], g.auc, color="0.75", lw=0.7, zorder=1)
        for arm in arms:
            v = sub[sub.arm == arm].auc.to_numpy()
            v = v[np.isfinite(v)]
            if not len(v):
                continue
            kw = dict(color=color(lab), alpha=ARM_SHADE[arm])
            ax.scatter(
                np.full(len(v), xs[arm]),
                v,
                s=14,
                marker=marker(lab),
                zorder=2,
                facecolors=kw["color"] if ARM_FILL[arm] else "none",
                edgecolors=kw["color"],
                alpha=kw["alpha"],
            )
            m, h = mean_ci(v)
            ax.errorbar(
                xs[arm] + width * 0.35,
                m,
                yerr=np.nan_to_num(h),
                fmt="_",
                capsize=3,
                ms=10,
                zorder=3,
                **kw,
            )
    ax.set_xticks(range(len(labels)), labels, fontsize=FONT_SMALL)
    ax.set_ylabel("mixture robustness (AUC,\ncommon learned pairs)", fontsize=FONT_SMALL)
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            color="0.3",
            alpha=ARM_SHADE[a],
            markerfacecolor="0.3" if ARM_FILL[a] else "none",
            label=a,
        )
        for a in arms
    ]
    ax.legend(
        handles=handles,
        fontsize=FONT_SMALL,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        title="training arm",
        title_fontsize=FONT_SMALL,
    )
    return fig
