"""The results page's forest plot: every deciding comparison of C1-C5 as a point with its
interval, in units of its rule's smallest effect of interest (SESOI), the SESOI band shaded,
coloured by verdict (:func:`lib.analysis.verdicts.forest_rows` gives the rows)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

VERDICT_COLOURS = {
    "differ": "#b03a2e",
    "equivalent": "#1f618d",
    "inconclusive": "#6e6e6e",
    "not tested": "#c8c8c8",
}
"""Colour of each verdict (a difference red, an equivalence blue, neither grey)."""

ROW_HEIGHT_IN = 0.24
"""Height of one comparison's row (inches)."""

WIDTH_IN = 7.5
"""Figure width (inches): the page's column at 100 dpi."""

LABEL_SIZE = 9
"""Font size (points) of the row labels."""


MAX_LABEL = 38
"""Longest measure name on a row label (characters); longer ones are cut at a parenthesis or
shortened with an ellipsis."""


def short(measure: str) -> str:
    """A measure's name short enough for a row label."""
    text = measure.split(" (")[0] if len(measure) > MAX_LABEL else measure
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def forest(rows: pd.DataFrame, title: str | None = None) -> Figure:
    """One row per comparison of ``rows`` (:func:`lib.analysis.verdicts.forest_rows`), grouped by
    claim, top to bottom: the difference (dot) with its 95% interval (thin line) and 90%
    interval (thick line, the TOST display), all in SESOI units and oriented so that positive
    means the first variant is better; the band [-1, 1] is the SESOI (equivalence) region.
    Rows not tested are left out (the table says so)."""
    need = {"claim", "comparison", "measure", "effect", "lo", "hi", "lo90", "hi90", "verdict"}
    missing = need - set(rows.columns)
    if missing:
        raise ValueError(
            f"rows: columns {sorted(missing)} are missing; expected "
            "lib.analysis.verdicts.forest_rows(...)"
        )
    shown = rows[rows["verdict"] != "not tested"].reset_index(drop=True)
    n = max(len(shown), 1)
    claims = list(dict.fromkeys(shown["claim"]))
    height = ROW_HEIGHT_IN * (n + len(claims)) + 1.2
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height), layout="constrained")
    ax.axvspan(-1, 1, color="#e8f0f8", zorder=0)
    ax.axvline(0, color="black", lw=0.8, zorder=1)
    y, ticks, labels = 0, [], []
    for claim in claims:
        group = shown[shown["claim"] == claim]
        y -= 1
        ax.axhline(y + 0.5, color="#999999", lw=0.5, zorder=1)
        ax.text(
            0.01,
            y,
            claim,
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontsize=LABEL_SIZE + 1,
            fontweight="bold",
        )
        for _, r in group.iterrows():
            y -= 1
            colour = VERDICT_COLOURS.get(r["verdict"], "black")
            ax.plot([r["lo"], r["hi"]], [y, y], color=colour, lw=1.2, zorder=2)
            ax.plot(
                [r["lo90"], r["hi90"]],
                [y, y],
                color=colour,
                lw=3.2,
                zorder=3,
                solid_capstyle="butt",
            )
            ax.plot(r["effect"], y, "o", color=colour, ms=4.5, zorder=4)
            ticks.append(y)
            labels.append(f"{r['comparison']} · {short(r['measure'])}")
    ax.set_yticks(ticks, labels, fontsize=LABEL_SIZE)
    ax.set_ylim(y - 0.8, 0.2)
    lim = np.nanmax(np.abs(shown[["lo", "hi"]].to_numpy(float))) if len(shown) else 2.0
    lim = max(2.0, float(lim) * 1.05) if np.isfinite(lim) else 2.0
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(
        "difference ÷ smallest effect of interest\n(right: first variant better; "
        "shaded: ±1, equivalence band)",
        fontsize=LABEL_SIZE,
    )
    ax.tick_params(axis="x", labelsize=LABEL_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [
        Line2D([], [], color=c, marker="o", lw=2, label=v)
        for v, c in VERDICT_COLOURS.items()
        if v in set(shown["verdict"])
    ]
    if handles:
        fig.legend(
            handles=handles,
            loc="outside upper center",
            ncol=len(handles),
            fontsize=LABEL_SIZE,
            frameon=False,
            title="verdict",
            title_fontsize=LABEL_SIZE,
        )
    if title:
        ax.set_title(title, fontsize=LABEL_SIZE + 1)
    return fig


__all__ = ["VERDICT_COLOURS", "forest", "short"]
