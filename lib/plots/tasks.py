"""Figures of the task chapter: drawn trials of a task family, and the condition distributions of
many sampled trials (:func:`lib.core.reference.condition_stats`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from lib.plots import FIGURE_WIDTH_IN, FONT_SMALL, FONT_TITLE, MAX_COLS, figure, split, stamp
from lib.core.reference import EPOCHS, FAMILIES
from lib.core.tasks import DISPLAY_NAMES, DT, N_RING, Batch

FAMILY_COLORS = dict(zip(FAMILIES, ("#009E73", "#D55E00", "#0072B2", "#CC79A7")))
"""One colour per task family (Okabe & Ito's colours: apart also under deuteranopia and
protanopia; only this chapter colours task families, the later ones colour mechanisms)."""

_RING_COLORS = {
    "1": "#66c2a5",
    "2": "#fc8d62",
    "1+2": "#8da0cb",
    "1→1": "#a6d854",
    "1→2": "#ffd92f",
    "2→1": "#e5c494",
    "2→2": "#b3b3b3",
}
_ROWS = ("fixation", "ring 1 input", "ring 2 input", "target ring", "cost mask")
TRIAL_COLUMN_IN = 2.4
"""Width of one task's column in :func:`trial_grid` (inches), where the page allows it."""
TRIAL_MARGIN_IN = 1.2
"""Room for the row labels and the colour bar of :func:`trial_grid` (inches)."""
_ANGLE_TICKS = ([0, np.pi, 2 * np.pi], ["0", "π", "2π"])


def _epoch_edges(batch: Batch) -> list[tuple[str, float, float]]:
    """(name, start ms, end ms) of each epoch of a batch."""
    T = batch.x.shape[0]
    return [
        (name, (0 if on is None else on) * DT, (T if off is None else off) * DT)
        for name, (on, off) in batch.epochs.items()
    ]


def trial_grid(batches: dict[str, Batch], trial: int = 0, title: str | None = None):
    """One trial of each task (columns) with its inputs, targets and cost mask (rows).

    Rows: fixation input (black) and fixation target (orange, dashed); ring 1 and ring 2 inputs
    (units by preferred angle x time); the response-ring target with ``y_loc`` (dots; absent where
    the network must fixate); the cost mask of the response outputs (the fixation output's weight
    is twice this). Dotted verticals separate Yang's named epochs, labelled on top. More than
    :data:`lib.plots.MAX_COLS` tasks: a list of figures, at most that many tasks each
    (:func:`lib.plots.split`).
    """
    tasks = list(batches)
    if not tasks:
        raise ValueError("batches={}: give at least one task's batch")
    groups = split(tasks, MAX_COLS)
    if len(groups) > 1:
        return [
            trial_grid(
                {t: batches[t] for t in g},
                trial,
                None if title is None else f"{title}, part {i + 1} of {len(groups)}",
            )
            for i, g in enumerate(groups)
        ]
    vmax = max(float(b.x[:, trial, 1:].max()) for b in batches.values())
    norm = Normalize(0, max(vmax, 0.85))
    # a fixed layout: constrained layout costs seconds per figure with this many axes
    col_w = min(TRIAL_COLUMN_IN, (FIGURE_WIDTH_IN - TRIAL_MARGIN_IN) / len(tasks))
    width = col_w * len(tasks) + TRIAL_MARGIN_IN
    fig, axes = plt.subplots(
        len(_ROWS),
        len(tasks),
        figsize=(width, 5.6),
        sharex="col",
        squeeze=False,
        gridspec_kw={"hspace": 0.25, "wspace": 0.2},
    )
    stamp(fig)
    fig.subplots_adjust(left=0.9 / width, right=1 - 0.75 / width, top=0.84, bottom=0.09)
    for col, task in enumerate(tasks):
        b = batches[task]
        T = b.x.shape[0]
        t = np.arange(T) * DT
        half = np.pi / N_RING  # unit k prefers 2 pi k / 32: centre its row there
        extent = (0, T * DT, -half, 2 * np.pi - half)
        ax = axes[:, col]
        ax[0].step(t, b.x[:, trial, 0], where="post", color="k", lw=1.2, label="input")
        ax[0].step(
            t, b.y[:, trial, 0], where="post", color="tab:orange", ls="--", lw=1.2, label="target"
        )
        ax[0].set_ylim(-0.1, 1.15)
        for row, lo in ((1, 1), (2, 1 + N_RING)):
            im = ax[row].imshow(
                b.x[:, trial, lo : lo + N_RING].T,
                aspect="auto",
                origin="lower",
                extent=extent,
                cmap="viridis",
                norm=norm,
                interpolation="nearest",
            )
        ax[3].imshow(
            b.y[:, trial, 1:].T,
            aspect="auto",
            origin="lower",
            extent=extent,
            cmap="viridis",
            norm=norm,
            interpolation="nearest",
        )
        resp = b.y_loc[:, trial] >= 0
        ax[3].plot(t[resp] + DT / 2, b.y_loc[resp, trial], ".", color="w", ms=2.5)
        ax[4].step(t, b.c_mask[:, trial, 1], where="post", color="0.3", lw=1.2)
        ax[4].set_ylim(-0.5, 6)
        for a in ax[1:4]:
            a.set_yticks(*_ANGLE_TICKS)
        for k, (name, on, off) in enumerate(_epoch_edges(b)):
            for a in ax:
                a.axvline(on, color="w" if a in ax[1:4] else "0.6", ls=":", lw=0.8)
            # alternate heights so that the names of short neighbouring epochs do not collide
            ax[0].text(
                (on + off) / 2,
                1.2 + 0.3 * (k % 2),
                name,
                ha="center",
                va="bottom",
                fontsize=FONT_SMALL,
            )
        ax[0].set_title(DISPLAY_NAMES.get(task, task), pad=27, fontsize=FONT_TITLE)
        ax[-1].set_xlabel("time (ms)")
        ax[-1].locator_params(axis="x", nbins=3)  # neighbouring columns' end labels stay apart
        if col:
            for a in ax:
                a.tick_params(labelleft=False)
    for a, label in zip(axes[:, 0], _ROWS):
        a.set_ylabel(label, fontsize=FONT_SMALL)
    axes[0, 0].legend(fontsize=FONT_SMALL, loc="lower left", frameon=False)
    cax = fig.add_axes(
        (
            1 - 0.6 / width,
            axes[3, -1].get_position().y0,
            0.1 / width,
            axes[1, -1].get_position().y1 - axes[3, -1].get_position().y0,
        )
    )
    fig.colorbar(im, cax=cax, label="activity")
    if title:
        fig.suptitle(title, fontsize=FONT_TITLE, y=0.99)
    return fig


def _hist_by_family(ax, stats: pd.DataFrame, column: str, bins) -> None:
    for family, g in stats.groupby("family", sort=False):
        v = g[column].dropna()
        if len(v):
            ax.hist(
                v,
                bins=bins,
                histtype="step",
                density=True,
                lw=1.4,
                color=FAMILY_COLORS.get(family, "k"),
                label=family,
            )


def condition_distributions(stats: pd.DataFrame):
    """Histograms of the sampled conditions (a :func:`lib.core.reference.condition_stats` frame).

    Top row and second row start: cumulative distributions of each epoch's duration and of the
    trial length, one line per task coloured by family (steps: a discrete set; ramps: uniform);
    then the decisive coherence (fraction of trials per value, DM and delayed DM), the mean
    strength and separation of the two DM stimuli, the target angle (all responding trials),
    the ring patterns per task and, for the matching tasks, the fraction of match and of go
    trials (dotted: 1/2).
    """
    if stats.empty:
        raise ValueError(
            "stats is empty: sample some trials first (lib.core.reference.condition_stats)"
        )
    fig, axes = figure(3, 4, 2.9, 2.2)
    ax = axes.ravel()
    for a, col in zip(ax, (*EPOCHS, "T (ms)")):
        shown = set()
        for task, g in stats.groupby("task", sort=False):
            v = g[col].dropna()
            if len(v):
                family = g["family"].iloc[0]
                a.ecdf(
                    v,
                    color=FAMILY_COLORS.get(family, "k"),
                    lw=1.0,
                    alpha=0.8,
                    label=None if family in shown else family,
                )
                shown.add(family)
        if not shown:
            a.set_axis_off()
            continue
        a.set(xlabel=col if col.endswith(")") else f"{col} (ms)", ylim=(0, 1.02))
    axes[0, 0].set_ylabel("fraction of trials ≤")
    axes[1, 0].set_ylabel("fraction of trials ≤")
    handles, names = ax[0].get_legend_handles_labels()
    fig.legend(
        handles,
        names,
        fontsize=FONT_SMALL,
        frameon=False,
        loc="outside upper center",
        ncol=len(names),
        title="task family",
        title_fontsize=FONT_SMALL,
    )

    dm = stats.dropna(subset=["coherence"])
    a = ax[7]
    if len(dm):
        values = np.unique(dm["coherence"].round(6))
        groups = list(dm.groupby("family", sort=False))
        width = 0.8 / len(groups)
        for k, (family, g) in enumerate(groups):
            frac = g["coherence"].round(6).value_counts(normalize=True).reindex(values).fillna(0)
            a.bar(
                np.arange(len(values)) + (k - (len(groups) - 1) / 2) * width,
                frac.to_numpy(),
                width=width,
                color=FAMILY_COLORS.get(family, "k"),
            )
        a.set_xticks(np.arange(len(values)), [f"{v:g}" for v in values], fontsize=FONT_SMALL)
        a.set(xlabel="decisive coherence", ylabel="fraction")
        _hist_by_family(ax[8], dm, "mean strength", np.linspace(0.8, 1.2, 11))
        ax[8].set(xlabel="mean strength (DM)", yticks=[])
        _hist_by_family(ax[9], dm, "separation (rad)", np.linspace(0.5 * np.pi, np.pi, 11))
        ax[9].set(xlabel="stimulus separation (rad)", yticks=[])
    else:
        for a in ax[7:10]:
            a.set_axis_off()
    a = ax[10]
    a.hist(
        stats["target (rad)"].dropna(),
        bins=np.linspace(0, 2 * np.pi, 17),
        color="0.5",
        density=True,
    )
    a.axhline(1 / (2 * np.pi), color="k", ls=":", lw=1)
    a.set(xlabel="target angle (rad)", yticks=[])
    a.set_xticks(*_ANGLE_TICKS)
    a = ax[11]
    fr = stats.groupby("task", sort=False)[["match", "go"]].mean().dropna()
    if len(fr):
        x = np.arange(len(fr))
        a.bar(x - 0.2, fr["match"], 0.4, color=FAMILY_COLORS["Matching"], label="match")
        a.bar(x + 0.2, fr["go"], 0.4, color="0.6", label="go")
        a.axhline(0.5, color="k", ls=":", lw=1)
        a.set_xticks(x, [DISPLAY_NAMES[t] for t in fr.index], fontsize=FONT_SMALL)
        a.set(ylim=(0, 1), ylabel="fraction")
        a.legend(fontsize=FONT_SMALL, frameon=False, loc="upper right", ncol=2)
    else:
        a.set_axis_off()
    return fig


def ring_use(stats: pd.DataFrame):
    """Fraction of trials per ring pattern ("1", "2", "1+2", sample→test) for every task."""
    if stats.empty:
        raise ValueError(
            "stats is empty: sample some trials first (lib.core.reference.condition_stats)"
        )
    frac = pd.crosstab(stats["task"], stats["rings"], normalize="index")
    order = [p for p in _RING_COLORS if p in frac.columns]
    frac = frac.loc[list(dict.fromkeys(stats["task"])), order + sorted(set(frac) - set(order))]
    fig, axes = figure(1, 1, max(4.0, 0.4 * len(frac) + 1.5), 2.6)
    ax = axes[0, 0]
    bottom = np.zeros(len(frac))
    for pattern in frac.columns:
        ax.bar(
            np.arange(len(frac)),
            frac[pattern],
            bottom=bottom,
            label=pattern,
            color=_RING_COLORS.get(pattern, "k"),
        )
        bottom += frac[pattern].to_numpy()
    ax.set_xticks(
        np.arange(len(frac)),
        [DISPLAY_NAMES[t] for t in frac.index],
        rotation=45,
        ha="right",
        fontsize=FONT_SMALL,
    )
    ax.set(ylabel="fraction of trials", ylim=(0, 1))
    ax.legend(
        fontsize=FONT_SMALL, frameon=False, bbox_to_anchor=(1, 1), loc="upper left", title="rings"
    )
    return fig


__all__ = ["FAMILY_COLORS", "trial_grid", "condition_distributions", "ring_use"]
