"""Figures of chapter E4 (dynamics); inputs from :mod:`lib.experiments.dynamics` and
:mod:`lib.analysis.dynamics`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis.dynamics import AXIS_LABELS, network_means
from lib.analysis.stats import mean_ci
from lib.core.tasks import DISPLAY_NAMES
from lib.plots import (
    FONT,
    FONT_SMALL,
    FONT_TITLE,
    MAX_COLS,
    PER_FIGURE,
    color,
    empty_panel,
    mean_marker,
    figure,
    split,
    variant_rows,
)

TASK_COLORS = ("#000000", "#D55E00")
"""Task i and task j of a pair (Okabe-Ito black and vermillion)."""


MEASURE_COLS = 2
"""Panels side by side in :func:`measure_dots` (each measure's axis label is long)."""


def _net(dyn: dict, label: str, seed: int) -> dict | None:
    return dyn.get((label, seed))


def _pair_title(pair: tuple[str, str]) -> str:
    return f"{DISPLAY_NAMES[pair[0]]} / {DISPLAY_NAMES[pair[1]]}"


def _learned(d: dict, pair: tuple[str, str]) -> bool:
    return all(d["learned"][d["tasks"].index(t)] for t in pair)


def _panels(n: int, max_cols: int, w: float, h: float, **kw):
    """A grid of at least ``n`` panels, at most ``max_cols`` (and :data:`lib.plots.MAX_COLS`)
    wide; the unused ones hidden."""
    ncols = max(1, min(n, max_cols, MAX_COLS))
    fig, axes = figure(int(np.ceil(n / ncols)), ncols, w, h, **kw)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes


def _parts(fn, labels, *args, per_figure: int = PER_FIGURE, **kw):
    """``fn(labels, ...)`` as one figure, or, for more than ``per_figure`` labels, a list of
    figures, one per group of :func:`lib.plots.split` (each titled "part i of n")."""
    groups = split(labels, per_figure)
    if len(groups) == 1:
        return fn(groups[0], *args, **kw)
    return [fn(g, *args, part=(i + 1, len(groups)), **kw) for i, g in enumerate(groups)]


def _part_text(part) -> str:
    return f", part {part[0]} of {part[1]}" if part else ""


def _pair_panels(axes, dyn: dict, labels, pair: tuple[str, str], seed: int):
    """(axis, label, network, its pair results) for every variant whose network of ``seed`` has
    ``pair``; the others get a "not in this run" panel. Titles are the labels."""
    for ax, lab in zip(axes.flat, labels):
        d = _net(dyn, lab, seed)
        ax.set_title(lab, fontsize=FONT)
        if d is None or pair not in d["pairs"]:
            empty_panel(ax, "not in this run")
            continue
        yield ax, lab, d, d["pairs"][pair]


def trajectories(dyn: dict, labels, pair: tuple[str, str], seed: int = 0):
    """Trials of the two tasks of ``pair`` in their shared PC1-PC2 plane, one panel per variant
    (seed ``seed``); stars: the operating points under each context (fixation input). More than
    :data:`lib.plots.PER_FIGURE` variants: a list of figures (:func:`lib.plots.split`)."""
    return _parts(_trajectories, labels, dyn, pair, seed)


def _trajectories(labels, dyn: dict, pair: tuple[str, str], seed: int, part=None):
    fig, axes = _panels(len(labels), 4, 2.6, 2.4)
    for ax, lab, d, p in _pair_panels(axes, dyn, labels, pair, seed):
        for show, c in ((p["show_i"], TASK_COLORS[0]), (p["show_j"], TASK_COLORS[1])):
            for k in range(show.shape[1]):
                ax.plot(show[:, k, 0], show[:, k, 1], color=c, lw=0.7, alpha=0.7)
        for op, c in ((p["op_i"], TASK_COLORS[0]), (p["op_j"], TASK_COLORS[1])):
            z = (op - p["pca_mean"]) @ p["pcs"]
            ax.plot(z[0], z[1], "*", ms=11, color=c, mec="white", mew=0.8)
        if not _learned(d, pair):
            ax.set_title(f"{lab}\n(not learned)", fontsize=FONT, color="0.4")
        ax.set_xlabel("PC 1", fontsize=FONT_SMALL)
        ax.set_ylabel("PC 2", fontsize=FONT_SMALL)
        ax.tick_params(labelsize=FONT_SMALL)
    handles = [
        axes.flat[0].plot([], [], color=c, label=DISPLAY_NAMES[t])[0]
        for c, t in zip(TASK_COLORS, pair)
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=2, fontsize=FONT_SMALL, frameon=False
    )
    fig.suptitle(
        f"{_pair_title(pair)}: trials in the pair's PC plane (seed {seed}{_part_text(part)})",
        fontsize=FONT_TITLE,
    )
    return fig


def measure_dots(table: pd.DataFrame, labels, measures):
    """Each measure per variant: one dot per seed (mean over its learned conflict pairs) and the
    mean with its 95% t interval over seeds."""
    ncols = min(len(measures), MEASURE_COLS)
    fig, axes = figure(int(np.ceil(len(measures) / ncols)), ncols, 3.6, 0.28 * len(labels) + 1.0)
    for ax in axes.flat[len(measures) :]:
        ax.axis("off")
    for ax, m in zip(axes.flat, measures):
        per = network_means(table, m) if not table.empty else {}
        for y, lab in enumerate(labels):
            vals = np.array(list(per.get(lab, {}).values()), float)
            vals = vals[np.isfinite(vals)]
            if not len(vals):
                continue
            ax.plot(vals, np.full(len(vals), y), "o", ms=3.5, color=color(lab), alpha=0.6)
            mean, half = mean_ci(vals)
            mean_marker(ax, mean, y, half, lab)
        variant_rows(ax, labels)
        ax.set_title(m, fontsize=FONT)
        ax.set_xlabel(AXIS_LABELS[m], fontsize=FONT_SMALL)
        ax.tick_params(axis="x", labelsize=FONT_SMALL)
        ax.grid(axis="x", alpha=0.3)
        if table.empty:
            empty_panel(ax, "no network learned a conflict pair")
    return fig


def _coordinate(points: np.ndarray, p: dict) -> np.ndarray:
    """Position of ``points`` (P, N) along the axis from op_i (0) to op_j (1)."""
    axis = p["op_j"] - p["op_i"]
    norm2 = float(axis @ axis)
    return (points - p["op_i"]) @ axis / norm2 if norm2 > 0 else np.full(len(points), np.nan)


def continuation(
    dyn: dict, labels, pair: tuple[str, str], seed: int = 0, leave: pd.DataFrame | None = None
):
    """Bifurcation-style view of the fixed points along c(l) = (1-l) e_i + l e_j (fixation input),
    one panel per variant (seed ``seed``): each fixed point's position on the axis from task i's
    operating point (0) to task j's (1); filled: stable, open: unstable; line: where the network
    settles from rest. Dotted verticals: E2's l_leave of task i and 1 - l_leave of task j (where
    each task leaves criterion), if ``leave`` (from :func:`lib.analysis.dynamics.leave_vs_switch`)
    is given. More than :data:`lib.plots.PER_FIGURE` variants: a list of figures."""
    shown = [lab for lab in labels if lab != "none"]  # a context-blind network has one map
    return _parts(_continuation, shown, dyn, pair, seed, leave)


def _continuation(
    shown, dyn: dict, pair: tuple[str, str], seed: int, leave: pd.DataFrame | None, part=None
):
    fig, axes = _panels(len(shown), 4, 2.7, 2.3, sharey=True)
    for ax, lab, d, p in _pair_panels(axes, dyn, shown, pair, seed):
        cont = p["continuation"]
        if cont is None:
            empty_panel(ax, "no continuation")
            continue
        t = cont["table"]
        s = _coordinate(cont["points"], p)
        st = t["stable"].to_numpy(bool)
        ax.scatter(t["l"][st], s[st], s=10, color=color(lab), zorder=3, label="stable")
        ax.scatter(
            t["l"][~st],
            s[~st],
            s=10,
            facecolors="none",
            edgecolors=color(lab),
            linewidths=0.8,
            zorder=3,
            label="unstable",
        )
        lam = np.linspace(0, 1, len(p["op_track"]))
        ax.plot(lam, p["op_track"], color="k", lw=0.8, label="settles from rest")
        if leave is not None and not leave.empty:
            row = leave[
                (leave.variant == lab) & (leave.seed == seed) & (leave.pair == _pair_title(pair))
            ]
            if len(row):
                li, lj = float(row.l_leave_i.iloc[0]), float(row.l_leave_j.iloc[0])
                for x in (li, 1 - lj):
                    if np.isfinite(x):
                        ax.axvline(x, color="0.3", ls=":", lw=1)
        if not _learned(d, pair):
            ax.set_title(f"{lab}\n(not learned)", fontsize=FONT, color="0.4")
        ax.set_xlabel("mixture weight $\\lambda$", fontsize=FONT_SMALL)
        ax.set_ylim(-0.6, 1.6)
        ax.tick_params(labelsize=FONT_SMALL)
    axes.flat[0].set_ylabel("position (0: $e_i$ point, 1: $e_j$ point)", fontsize=FONT_SMALL)
    h, lab_ = axes.flat[0].get_legend_handles_labels()
    fig.legend(h, lab_, loc="outside lower center", ncols=3, fontsize=FONT_SMALL, frameon=False)
    fig.suptitle(
        f"{_pair_title(pair)}: fixed points along the context mixture (seed {seed}"
        f"{_part_text(part)})",
        fontsize=FONT_TITLE,
    )
    return fig


def spectra(dyn: dict, labels, pair: tuple[str, str], seed: int = 0, alpha: float = 0.2):
    """Eigenvalues of the map's Jacobian (1-a) I + a E at each context's operating point, one
    panel per variant (seed ``seed``), with the unit circle (stability boundary). More than
    :data:`lib.plots.PER_FIGURE` variants: a list of figures."""
    return _parts(_spectra, labels, dyn, pair, seed, alpha)


def _spectra(labels, dyn: dict, pair: tuple[str, str], seed: int, alpha: float, part=None):
    fig, axes = _panels(len(labels), 4, 2.3, 2.3)
    th = np.linspace(0, 2 * np.pi, 200)
    for ax, lab, d, p in _pair_panels(axes, dyn, labels, pair, seed):
        ax.plot(np.cos(th), np.sin(th), color="0.6", lw=0.8)
        for eig, c, mk in (
            (p["spectrum_i"], TASK_COLORS[0], "o"),
            (p["spectrum_j"], TASK_COLORS[1], "x"),
        ):
            mu = (1 - alpha) + alpha * np.asarray(eig)
            ax.plot(mu.real, mu.imag, mk, ms=3, color=c, alpha=0.8)
        ax.set_xlim(0.55, 1.1)
        ax.set_ylim(-0.3, 0.3)
        ax.set_xlabel("Re", fontsize=FONT_SMALL)
        ax.set_ylabel("Im", fontsize=FONT_SMALL)
        ax.tick_params(labelsize=FONT_SMALL)
    handles = [
        axes.flat[0].plot([], [], mk, color=c, label=f"context {DISPLAY_NAMES[t]}")[0]
        for c, t, mk in zip(TASK_COLORS, pair, ("o", "x"))
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncols=2, fontsize=FONT_SMALL, frameon=False
    )
    fig.suptitle(
        f"{_pair_title(pair)}: Jacobian eigenvalues at the operating points "
        f"(seed {seed}{_part_text(part)})",
        fontsize=FONT_TITLE,
    )
    return fig


def cluster_maps(dyn: dict, labels, seed: int = 0):
    """Normalised task variance of the active units (columns, grouped by cluster) on every task
    (rows), one panel per variant (seed ``seed``); white lines separate clusters. More than
    :data:`lib.plots.PER_FIGURE` variants: a list of figures."""
    return _parts(_cluster_maps, labels, dyn, seed)


def _cluster_maps(labels, dyn: dict, seed: int, part=None):
    fig, axes = _panels(len(labels), 2, 3.6, 1.9)
    im = None
    for ax, lab in zip(axes.flat, labels):
        d = _net(dyn, lab, seed)
        if d is None:
            empty_panel(ax, "not in this run")
            continue
        cl = d["clusters"]
        order = np.argsort(cl["labels"], kind="stable")
        im = ax.imshow(
            cl["profiles"][order].T,
            aspect="auto",
            cmap="viridis",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        for b in np.flatnonzero(np.diff(cl["labels"][order])) + 0.5:
            ax.axvline(b, color="white", lw=0.8)
        ax.set_yticks(
            range(len(d["tasks"])), [DISPLAY_NAMES[t] for t in d["tasks"]], fontsize=FONT_SMALL
        )
        ax.set_xlabel("active units, by cluster", fontsize=FONT_SMALL)
        ax.set_xticks([])
        ax.set_title(f"{lab}: k = {cl['k']}", fontsize=FONT)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.6, label="task variance / unit max")
    if part:
        fig.suptitle(f"Unit clusters (seed {seed}{_part_text(part)})", fontsize=FONT_TITLE)
    return fig


def ftv_histograms(dyn: dict, labels, pair: tuple[str, str], values):
    """Histograms of the fractional task variance of ``pair`` per variant, all seeds pooled;
    ``values(dyn, label, pair)`` gives the FTVs (``lib.analysis.dynamics.ftv_values``). More
    than :data:`lib.plots.PER_FIGURE` variants: a list of figures."""
    return _parts(_ftv_histograms, labels, dyn, pair, values)


def _ftv_histograms(labels, dyn: dict, pair: tuple[str, str], values, part=None):
    fig, axes = _panels(len(labels), 4, 2.2, 1.8, sharex=True)
    bins = np.linspace(-1, 1, 21)
    for ax, lab in zip(axes.flat, labels):
        v = values(dyn, lab, pair)
        ax.set_title(lab, fontsize=FONT)
        if not len(v):
            empty_panel(ax, "no learned network")
            continue
        ax.hist(v, bins=bins, color=color(lab), edgecolor="white", linewidth=0.4)
        ax.tick_params(labelsize=FONT_SMALL)
        ax.set_xlabel("FTV", fontsize=FONT_SMALL)
    fig.suptitle(
        f"Fractional task variance, {DISPLAY_NAMES[pair[0]]} (+1) vs "
        f"{DISPLAY_NAMES[pair[1]]} (−1){_part_text(part)}",
        fontsize=FONT_TITLE,
    )
    return fig


def leave_vs_jump(link: pd.DataFrame, labels):
    """E2's l_leave (mean of both directions) against E4's largest operating-point jump, one dot
    per (network, learned conflict pair)."""
    fig, axes = figure(1, 1, 4.2, 3.2)
    ax = axes[0, 0]
    if link.empty:
        empty_panel(ax, "no network learned a conflict pair")
        return fig
    for lab in labels:
        g = link[link.variant == lab]
        if len(g):
            ax.scatter(
                g["jump"],
                g["l_leave"],
                s=18,
                color=color(lab),
                label=lab,
                edgecolors="k",
                linewidths=0.3,
            )
    ax.set_xlabel("largest jump of the operating point (fraction of the way)", fontsize=FONT_SMALL)
    ax.set_ylabel("E2: $\\lambda$ at which the task leaves criterion", fontsize=FONT_SMALL)
    ax.axhline(0.5, color="0.6", ls=":", lw=1)
    ax.legend(fontsize=FONT_SMALL, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


__all__ = [
    "TASK_COLORS",
    "trajectories",
    "measure_dots",
    "continuation",
    "spectra",
    "cluster_maps",
    "ftv_histograms",
    "leave_vs_jump",
]
