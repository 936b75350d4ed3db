"""Figures of E4 at the scale of the whole battery: Yang et al.'s (2019, Fig. 2) map of each unit's
normalised task variance, units grouped by cluster, per pathway; and the number of clusters and
their silhouette per pathway. Inputs: ``results[(label, seed)]``
(:func:`lib.experiments.clustering.analyse_network`)."""

from __future__ import annotations

import numpy as np

from lib.analysis.clustering import network_measures, sorted_profiles
from lib.analysis.stats import mean_ci
from lib.core.checks import fail
from lib.core.tasks import DISPLAY_NAMES
from lib.plots import (
    FONT,
    FONT_SMALL,
    MAX_COLS,
    PER_FIGURE,
    color,
    empty_panel,
    mean_marker,
    figure,
    split,
    variant_rows,
)

HEATMAP_ROW_IN = 0.13
"""Height per task row of a heatmap panel (inches): a task name in FONT_SMALL per row."""
HEATMAP_CMAP = "viridis"
"""Colour map of the normalised task variance (0 to 1, perceptually uniform)."""
CI_MIN_SEEDS = 3
"""Fewest seeds for which :func:`plot_clusters` draws the 95% t interval (with two, its t
quantile of 12.7 makes a bar wider than the whole range of the measure)."""


def _labels(results: dict) -> list:
    return list(dict.fromkeys(lab for lab, _ in results))


def plot_tv_heatmaps(results: dict, labels=None, seed: int = 0, max_cols: int = MAX_COLS):
    """Per variant (network of ``seed``): the normalised task variance (colour, 0 to 1: the
    unit's TV on a task over its maximum over tasks) of every active unit (columns, grouped by
    cluster in Yang's order, white lines between clusters) on every task (rows), titled with k
    and the silhouette s. At most ``max_cols`` (<= :data:`lib.plots.MAX_COLS`) panels per row;
    more than :data:`lib.plots.PER_FIGURE` variants: a list of figures."""
    if isinstance(max_cols, bool) or not isinstance(max_cols, int) or not 1 <= max_cols <= MAX_COLS:
        fail("max_cols", max_cols, f"a whole number of panels per row in 1..{MAX_COLS}")
    labels = _labels(results) if labels is None else list(labels)
    groups = split(labels, PER_FIGURE)
    if len(groups) == 1:
        return _heatmaps(groups[0], results, seed, max_cols)
    return [
        _heatmaps(g, results, seed, max_cols, part=(i + 1, len(groups)))
        for i, g in enumerate(groups)
    ]


def _heatmaps(labels, results: dict, seed: int, max_cols: int, part=None):
    n = max(1, len(labels))
    ncols = min(n, max_cols)
    nrows = int(np.ceil(n / ncols))
    K = max((len(r["tasks"]) for r in results.values()), default=1)
    fig, axes = figure(nrows, ncols, 7.3 / ncols, HEATMAP_ROW_IN * K + 0.9, sharey=True)
    for ax in axes.flat[len(labels) :]:
        ax.axis("off")
    im = None
    for q, (ax, lab) in enumerate(zip(axes.flat, labels)):
        r = results.get((lab, seed))
        ax.set_title(lab, fontsize=FONT)
        if r is None:
            empty_panel(ax, f"no network of seed {seed}")
            continue
        if not len(r["labels"]):
            empty_panel(ax, "no active unit")
            continue
        prof, lbl = sorted_profiles(r)
        im = ax.imshow(
            prof.T,
            aspect="auto",
            cmap=HEATMAP_CMAP,
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        for b in np.flatnonzero(np.diff(lbl)) + 0.5:
            ax.axvline(b, color="white", lw=0.8)
        ax.set_title(f"{lab}\nk = {r['k']}, s = {r['silhouette']:.2f}", fontsize=FONT)
        ax.set_xticks([])
        ax.set_xlabel(f"{len(lbl)} units", fontsize=FONT_SMALL)
        if q % ncols == 0:
            ax.set_yticks(
                range(len(r["tasks"])),
                [DISPLAY_NAMES.get(t, t) for t in r["tasks"]],
                fontsize=FONT_SMALL,
            )
    if im is not None:
        fig.colorbar(
            im,
            ax=axes,
            location="bottom",
            shrink=0.5,
            label=f"task variance / unit's max (seed {seed}"
            + (f", part {part[0]} of {part[1]}" if part else "")
            + ")",
        )
    return fig


def plot_clusters(results: dict, labels=None):
    """Per variant, one dot per seed and the mean (with its 95% t interval over seeds from
    :data:`CI_MIN_SEEDS` seeds on): the number of clusters k (left) and the best mean silhouette
    (right), each network clustered on all its tasks."""
    labels = _labels(results) if labels is None else list(labels)
    fig, axes = figure(1, 2, 3.6, 0.3 * len(labels) + 1.2)
    for ax, (key, title) in zip(
        axes.flat, (("k", "unit clusters k"), ("silhouette", "best mean silhouette"))
    ):
        for y, lab in enumerate(labels):
            vals = np.array(
                [network_measures(r)[key] for (l2, _), r in results.items() if l2 == lab], float
            )
            vals = vals[np.isfinite(vals)]
            if not len(vals):
                continue
            ax.plot(vals, np.full(len(vals), y), "o", ms=4, color=color(lab), alpha=0.6)
            m, h = mean_ci(vals)
            mean_marker(ax, m, y, h if len(vals) >= CI_MIN_SEEDS else None, lab)
        variant_rows(ax, labels)
        ax.set_xlabel(title, fontsize=FONT_SMALL)
        ax.tick_params(axis="x", labelsize=FONT_SMALL)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        "Unit clusters per pathway (dots: seeds; diamond: mean, "
        f"± 95% CI from {CI_MIN_SEEDS} seeds)"
    )
    return fig


__all__ = ["HEATMAP_ROW_IN", "HEATMAP_CMAP", "CI_MIN_SEEDS", "plot_tv_heatmaps", "plot_clusters"]
