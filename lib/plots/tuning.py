"""Figure of the fair-tuning grid (training appendix): per variant and protocol, how often the
tuning seeds learned every task and how fast, with each variant's chosen protocol outlined."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from lib.plots import FONT_SMALL, FONT_TITLE, figure, text_color


def protocol_label(lr: float, init: str) -> str:
    """A grid column's name: learning rate and modulation initialisation."""
    return f"lr {lr:g}\n{init}"


def grid_heatmap(protocols: pd.DataFrame, chosen: pd.DataFrame):
    """Variants (rows) x protocols (columns, :func:`lib.analysis.tuning.protocol_table`):
    colour = fraction of tuning seeds that learned every task; text = that fraction and the
    median trials to all tasks (thousands); the protocol each variant's rule chose
    (:func:`lib.analysis.tuning.choose_protocol`) is outlined."""
    variants = list(dict.fromkeys(protocols["variant"]))
    columns = list(dict.fromkeys(zip(protocols["lr"], protocols["init"])))
    learned = np.full((len(variants), len(columns)), np.nan)
    trials = np.full_like(learned, np.nan)
    for r in protocols.itertuples(index=False):
        i, j = variants.index(r.variant), columns.index((r.lr, r.init))
        learned[i, j], trials[i, j] = r.learned, r.median_trials
    fig, axes = figure(1, 1, 1.0 * len(columns) + 2.6, 0.45 * len(variants) + 1.6)
    ax = axes[0, 0]
    im = ax.imshow(learned, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(learned):
        if np.isnan(v):
            continue
        ax.text(
            j,
            i,
            f"{v:.0%}\n{trials[i, j] / 1e3:.0f}k",
            ha="center",
            va="center",
            fontsize=FONT_SMALL,
            color=text_color(im.cmap(im.norm(v))),
        )
    for variant, row in chosen.iterrows():
        i, j = variants.index(variant), columns.index((row["lr"], row["init"]))
        ax.add_patch(Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, ec="red", lw=2))
    ax.set_xticks(range(len(columns)), [protocol_label(*c) for c in columns])
    ax.set_yticks(range(len(variants)), variants)
    fig.colorbar(
        im, ax=ax, label="tuning seeds that learned every task\n(text: median trials to all tasks)"
    )
    ax.set_title("fair-tuning grid (red: the protocol the rule chose)", fontsize=FONT_TITLE)
    return fig


__all__ = ["protocol_label", "grid_heatmap"]
