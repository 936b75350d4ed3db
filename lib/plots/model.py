"""Figures (and one styled table) of the model chapter: per-task budgets, the effective modulation
along context mixtures, the outputs of one trial along a mixture, and a mid-trial context switch.
The numbers come from :mod:`lib.analysis.anatomy`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize

from lib.analysis.anatomy import QUANTITIES
from lib.plots import FONT_SMALL, figure, style
from lib.core.tasks import DT

_GROUP_COLORS = ("#fde0dd", "#e0ecf4", "#e5f5e0", "#fff7bc", "#efedf5")


def budget_table(df: pd.DataFrame):
    """The :func:`lib.analysis.anatomy.budget_table` frame as a table whose rows of equal budget
    (the
    matched comparisons) share a background colour; unmatched rows stay white."""
    cols = [c for c in df.columns if c.startswith("N = ")]
    groups: dict[tuple, str] = {}  # budgets (one per N) -> colour, for matched rows only
    for lab in df.index:
        if df.at[lab, "matched with"]:
            key = tuple(df.loc[lab, cols])
            groups.setdefault(key, _GROUP_COLORS[len(groups) % len(_GROUP_COLORS)])

    def shade(row: pd.Series) -> list[str]:
        matched = df.at[row.name, "matched with"]
        bg = groups.get(tuple(df.loc[row.name, cols]), "") if matched else ""
        return [f"background-color: {bg}" if bg else "" for _ in row]

    return (
        df.drop(columns="mechanism")
        .style.apply(shade, axis=1)
        .format({c: "{:,}" for c in cols})
        .set_caption(
            "Modulation parameters per task; rows of one colour have equal budgets "
            "at every N (the matched comparisons)."
        )
    )


def mixture_modulation(paths: dict[str, pd.DataFrame], tasks: tuple[str, str]):
    """Effective gain, bias and recurrent matrix along ``c = (1 - l) e_i + l e_j``, one line per
    network (:func:`lib.analysis.anatomy.mixture_path` frames keyed by variant label).

    Top: distance from the value at ``e_i``, relative to the distance between the endpoints
    (the dotted diagonal is a straight path). Bottom: distance from the straight chord between
    the endpoints, same units and one scale for the row (0: affine in c). Quantities a network
    does not modulate are absent.
    """
    if not paths:
        raise ValueError("paths={}: give at least one network's mixture path")
    fig, axes = figure(2, len(QUANTITIES), 3.2, 2.5, sharex=True)
    for col, q in enumerate(QUANTITIES):
        top, bottom = axes[0, col], axes[1, col]
        for lab, df in paths.items():
            d = df[df["quantity"] == q].dropna(subset=["relative"])
            if len(d):
                top.plot(d["l"], d["relative"], ms=3.5, lw=1.2, label=lab, **style(lab))
                bottom.plot(d["l"], d["off_chord"], ms=3.5, lw=1.2, label=lab, **style(lab))
        top.plot([0, 1], [0, 1], ":", color="k", lw=1)
        top.set(
            title={"gain": "gain g(c)", "bias": "bias β(c)", "W": "recurrent W(c)"}[q],
            ylabel="|q(λ) − q(0)| /\n|q(1) − q(0)|" if col == 0 else None,
        )
        bottom.set(ylabel="distance from chord\n/ span" if col == 0 else None)
        if not top.lines[:-1]:
            top.text(
                0.5,
                0.5,
                "not modulated by\nany network shown",
                ha="center",
                va="center",
                transform=top.transAxes,
                fontsize=FONT_SMALL,
                color="0.4",
            )
    # one scale for the bottom row, so float rounding (~1e-7) reads as the zero it is
    top_chord = max(
        [float(df["off_chord"].max()) for df in paths.values() if df["off_chord"].notna().any()],
        default=0.0,
    )
    for ax in axes[1]:
        ax.set_ylim(-0.05 * max(top_chord, 1e-3), 1.1 * max(top_chord, 1e-3))
    fig.supxlabel(f"mixture weight λ  ({tasks[0]} → {tasks[1]})")
    handles = {
        h.get_label(): h for a in axes[0] for h in a.lines if not h.get_label().startswith("_")
    }
    fig.legend(
        handles.values(),
        handles.keys(),
        loc="outside right center",
        fontsize=FONT_SMALL,
        frameon=False,
    )
    return fig


def mixture_outputs(demos: dict[str, dict], tasks: tuple[str, str]):
    """One trial of ``tasks[0]`` under the mixtures, per network (rows; dicts of
    :func:`lib.analysis.anatomy.mixture_outputs`). Left: fixation output over time, one line per l
    (colour). Right: the response-ring outputs at the last step against l, with the trial's
    target (blue triangles), the target of ``tasks[1]`` where known (pro/anti pairs: red)
    and the decoded angle where the network responds (white dots)."""
    if not demos:
        raise ValueError("demos={}: give at least one network's mixture outputs")
    fig, axes = figure(len(demos), 2, 3.4, 1.25, sharex="col")
    norm = Normalize(0, 1)
    cmap = colormaps["coolwarm"]
    for row, (lab, d) in enumerate(demos.items()):
        left, right = axes[row]
        t = np.arange(d["y"].shape[1]) * DT
        for l, y in zip(d["ls"], d["y"]):
            left.plot(t, y[:, 0], color=cmap(norm(l)), lw=1)
        left.axhline(0.5, color="k", ls=":", lw=0.8)
        left.set(ylim=(-0.02, 1.02), ylabel=lab)
        ring = d["y"][:, -1, 1:]
        ls = d["ls"]
        step = (ls[1] - ls[0]) / 2 if len(ls) > 1 else 0.5
        half = np.pi / ring.shape[1]  # unit k prefers 2 pi k / n: centre its column there
        lo, hi = ls[0] - step, ls[-1] + step
        right.imshow(
            ring,
            aspect="auto",
            origin="lower",
            cmap="viridis",
            extent=(-half, 2 * np.pi - half, lo, hi),
            interpolation="nearest",
        )
        # targets as triangles on both edges of the map (a line over the map would vanish
        # against some of its colours)
        for angle, col in ((d["target"], "tab:blue"), (d.get("target_j"), "tab:red")):
            if angle is not None and angle >= 0:
                for y, marker in ((hi, "v"), (lo, "^")):
                    right.plot(
                        [angle],
                        [y],
                        ls="none",
                        marker=marker,
                        color=col,
                        ms=7,
                        clip_on=False,
                        mec="w",
                        mew=0.6,
                    )
        right.plot(
            np.where(d["fixation"] > 0.5, np.nan, d["angle"]),
            ls,
            "o",
            color="w",
            mec="k",
            mew=0.5,
            ms=3.5,
        )
        right.set_ylabel("mixture weight λ", fontsize=FONT_SMALL)
    axes[0, 0].set_title(
        f"fixation output (blue: λ = 0, {tasks[0]};\nred: λ = 1, {tasks[1]})",
        fontsize=FONT_SMALL,
        pad=9,
    )
    axes[0, 1].set_title(
        f"ring output at the last step (dots: decoded angle;\n"
        f"triangles: target of {tasks[0]} blue, of {tasks[1]} red)",
        fontsize=FONT_SMALL,
        pad=9,
    )
    axes[-1, 0].set_xlabel("time (ms)")
    axes[-1, 1].set_xlabel("angle (rad)")
    axes[-1, 1].set_xticks([0, np.pi, 2 * np.pi], ["0", "π", "2π"])
    return fig


def time_varying(res: dict, tasks: tuple[str, str], label: str):
    """Fixation output and decoded response angle of one trial under constant ``e_i``, constant
    ``e_j``, and a (T, B, K) context switching from one to the other (dotted line)."""
    fig, axes = figure(1, 2, 3.8, 2.4, sharex=True)
    t = np.arange(res["y_i"].shape[0]) * DT
    styles = (
        ("y_i", f"constant {tasks[0]}", "tab:blue", "-"),
        ("y_j", f"constant {tasks[1]}", "tab:red", "-"),
        ("y_switch", f"{tasks[0]} → {tasks[1]}", "k", "--"),
    )
    for key, name, col, ls in styles:
        y = res[key]
        axes[0, 0].plot(t, y[:, 0], color=col, ls=ls, lw=1.3, label=name)
        axes[0, 1].plot(
            t, np.where(y[:, 0] > 0.5, np.nan, res["angle_" + key[2:]]), color=col, ls=ls, lw=1.3
        )
    for ax in axes[0]:
        ax.axvline(res["t_switch"] * DT, color="0.5", ls=":", lw=1)
        ax.set_xlabel("time (ms)")
    axes[0, 0].set(ylabel="fixation output", ylim=(-0.02, 1.02), title=label)
    axes[0, 1].set(ylabel="decoded angle (rad)\n(while not fixating)", ylim=(0, 2 * np.pi))
    axes[0, 0].legend(fontsize=FONT_SMALL, frameon=False)
    return fig


__all__ = ["budget_table", "mixture_modulation", "mixture_outputs", "time_varying"]
