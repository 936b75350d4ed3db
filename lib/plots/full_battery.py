"""Figures of the full-battery chapter: tasks at criterion during training per variant, and tasks
packed against network size (E3 at scale)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from lib.analysis.calibration import FULL_BATTERY_LEARNED
from lib.analysis.common import CRITERION
from lib.core.types import Networks
from lib.plots import FONT_SMALL, color, figure, style
from lib.plots.calibration import tasks_at_criterion_figure


SIZE_MARGIN = 1.4
"""Room on the log2 N axis on either side of the smallest and largest size (a factor)."""


def tasks_learned_curves(nets: Networks, labels, criterion: float = CRITERION):
    """Tasks at criterion at once (of 20) against training trials, one line per network of the
    variants ``labels`` (colour and line style: the variant's), with the bar of
    :data:`lib.analysis.calibration.FULL_BATTERY_LEARNED` tasks
    (:func:`lib.plots.calibration.tasks_at_criterion_figure`)."""
    lines = [
        (
            res,
            {"color": color(label), "ls": style(label)["ls"], "lw": 1.3}
            | ({"label": label} if seed == 0 else {}),
        )
        for (label, seed), res in sorted(nets.items())
        if label in labels
    ]
    return tasks_at_criterion_figure(lines, criterion, legend_title="variant (one line per seed)")


def tasks_vs_size(table: pd.DataFrame):
    """E3 at scale (:func:`lib.analysis.full_battery.size_table`): tasks at criterion of 20
    against N (left) and per 1,000 modulation parameters (right), one marker per seed, the
    line through the mean over seeds."""
    fig, axes = figure(1, 2, 3.6, 3.0)
    measures = (
        ("at criterion (end)", "tasks at criterion (of 20)"),
        ("tasks per 1k modulation params", "tasks per 1,000 modulation params"),
    )
    for ax, (column, ylabel) in zip(axes[0], measures):
        for i, (variant, rows) in enumerate(table.groupby("variant", sort=False)):
            offset = (i - 0.5) * 0.04  # side by side on the log axis, so seeds do not hide
            x = rows["N"].to_numpy() * (1 + offset)
            ax.plot(x, rows[column], ls="none", alpha=0.6, **style(variant, line=False))
            means = rows.groupby("N")[column].mean()
            ax.plot(means.index, means.to_numpy(), label=variant, **style(variant))
        ax.set_xscale("log", base=2)
        sizes = np.unique(table["N"]) if len(table) else np.array([])
        ax.set_xticks(sizes, [str(n) for n in sizes])
        if len(sizes):
            ax.set_xlim(sizes.min() / SIZE_MARGIN, sizes.max() * SIZE_MARGIN)
        ax.minorticks_off()
        ax.set(xlabel="recurrent units N", ylabel=ylabel)
    axes[0, 0].axhline(FULL_BATTERY_LEARNED, color="k", ls=":", lw=1)
    axes[0, 0].set_ylim(0, 20.5)
    axes[0, 0].yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(table):
        axes[0, 0].legend(fontsize=FONT_SMALL, loc="lower right")
    return fig


__all__ = ["tasks_learned_curves", "tasks_vs_size"]
