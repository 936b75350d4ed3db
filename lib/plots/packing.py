"""Figures of chapter E3 (task packing): tasks at criterion against K per network size, capacity
against N, and capacity against the modulation parameters it uses; the same for the frozen
random backbone (inputs: :class:`lib.analysis.packing.Capacity`); P2(b), tasks learned on a
frozen pretrained backbone against the random one, seeds paired (the table and
:func:`lib.analysis.packing.pretrained_vs_random`); P3, the forgetting curves and the
performance on new and earlier tasks per stage (:class:`lib.analysis.packing.Forgetting`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from lib.analysis.packing import (
    CRITERION,
    PRETRAINED_ARM,
    RANDOM_ARM,
    SEQ_ARMS,
    VERDICT_ARM,
    Capacity,
    Forgetting,
)
from lib.plots import FONT_SMALL, FONT_TITLE, MAX_COLS, color, figure, marker, style

ARM_TITLES = {
    "trained": "joint training",
    "frozen_random": "frozen random backbone",
    "pretrained": "frozen pretrained backbone",
    "seq_modulation": "sequential, modulation only",
    "seq_finetune": "sequential, fine-tuning",
}


SEQ_MODE_TITLES = {"seq_modulation": "modulation only", "seq_finetune": "fine-tuning"}
"""P3's modes, short enough to label a row of panels."""


def _variants(df) -> list[str]:
    return list(dict.fromkeys(df.variant))


def _offsets(labels: list[str], width: float) -> dict[str, float]:
    """Small horizontal offsets so that the intervals of different variants do not overlap."""
    n = len(labels)
    return {lab: (i - (n - 1) / 2) * width for i, lab in enumerate(labels)}


def _empty(title: str):
    """A figure that says its arm has no networks (the chapter's run left it out)."""
    fig, axes = figure(1, 1, 4.0, 1.2)
    axes[0, 0].set_axis_off()
    axes[0, 0].text(0.5, 0.5, f"{title}: no networks in this run", ha="center", va="center")
    return fig


def _legend(fig, ax) -> None:
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center", fontsize=FONT_SMALL, title="variant")


def at_criterion_vs_k(cap: Capacity, backbone: str = VERDICT_ARM):
    """One panel per N (at most :data:`lib.plots.MAX_COLS` side by side): tasks at criterion,
    the mean over seeds, against the number of tasks trained together, K, one line per variant;
    the dotted diagonal is every task learned. (With 3 seeds a t interval spans most of the
    axis and hides the lines; each seed's capacity is in :func:`capacity_vs_n`.)"""
    c = cap.arm(backbone).by_k
    if not len(c):
        return _empty(ARM_TITLES.get(backbone, backbone))
    ns = sorted(set(c.N))
    ncols = min(len(ns), MAX_COLS)
    fig, axes = figure(int(np.ceil(len(ns) / ncols)), ncols, 2.6, 2.5, sharey=True)
    for ax in axes.flat[len(ns) :]:
        ax.axis("off")
    labels = _variants(c)
    ks = sorted(set(c.K))
    off = _offsets(labels, 0.06 * (max(ks) - min(ks) + 1) / max(1, len(labels)))
    for ax, n in zip(axes.flat, ns):
        ax.plot([0, max(ks)], [0, max(ks)], color="0.5", ls=":", lw=1, label="all learned")
        for lab in labels:
            g = c[(c.variant == lab) & (c.N == n)].sort_values("K")
            ax.plot(g.K + off[lab], g.at_criterion, label=lab, lw=1.3, ms=5, **style(lab))
        ax.set(
            title=f"N = {n}",
            xlabel="tasks trained together, K",
            xticks=ks,
            xlim=(min(ks) - 0.7, max(ks) + 0.7),
            ylim=(-0.3, max(ks) + 0.5),
        )
    for ax in axes[:, 0]:
        ax.set_ylabel("tasks at criterion\n(mean over seeds)")
    _legend(fig, axes[0, 0])
    fig.suptitle(
        f"Tasks at criterion against K ({ARM_TITLES.get(backbone, backbone)})", fontsize=FONT_TITLE
    )
    return fig


def _seed_points(ax, x: float, values: np.ndarray, lab: str, spread: float) -> None:
    """Every seed's value as the variant's marker (spread sideways by ``spread`` in x units so
    that equal values stay visible), with the range over seeds as a thin vertical line."""
    values = np.sort(np.asarray(values, float))
    if not len(values):
        return
    dx = (np.arange(len(values)) - (len(values) - 1) / 2) * spread
    ax.vlines(x, values.min(), values.max(), color=color(lab), lw=1, alpha=0.7)
    ax.scatter(
        x + dx,
        values,
        s=22,
        marker=marker(lab),
        color=color(lab),
        alpha=0.75,
        zorder=3,
        linewidths=0,
    )


MEDIAN_MARK = {"marker": "_", "ms": 16, "mew": 2.2}
"""The median over seeds: a short horizontal bar across the seeds' markers."""


def _median_line(ax, x, median, lab: str) -> None:
    """The medians of ``lab`` joined in order, each a short bar (:data:`MEDIAN_MARK`)."""
    kw = style(lab)
    kw.pop("marker")
    ax.plot(x, median, lw=1.2, **kw, **MEDIAN_MARK, zorder=2)


def _seed_legend(fig, ax, labels, extra=()) -> None:
    """The variants (their marker: a seed; their line: the medians) and ``extra`` handles."""
    handles = [Line2D([], [], ms=5, **style(lab)) for lab in labels] + list(extra)
    names = list(labels) + [h.get_label() for h in extra]
    fig.legend(handles, names, loc="outside right center", fontsize=FONT_SMALL, title="variant")


def _medians(ps: pd.DataFrame, lab: str) -> pd.DataFrame:
    """Per N, the median, min and max capacity over the seeds of ``lab`` and the seed values."""
    g = ps[ps.variant == lab].groupby("N").capacity
    return pd.DataFrame(
        {"median": g.median(), "lo": g.min(), "hi": g.max(), "seeds": g.apply(list)}
    ).sort_index()


def capacity_vs_n(cap: Capacity, backbone: str = VERDICT_ARM):
    """Capacity (the largest K with every task at criterion) against the network size N (log
    scale): every seed as the variant's marker, the median over seeds as a short bar joined
    across N, the range over seeds as a thin vertical line, one line per variant."""
    arm = cap.arm(backbone)
    s, ps = arm.summary, arm.per_seed
    if not len(s):
        return _empty(ARM_TITLES.get(backbone, backbone))
    fig, axes = figure(1, 1, 5.6, 3.4)
    ax = axes[0, 0]
    labels = _variants(s)
    off = _offsets(labels, 0.1)
    for lab in labels:
        m = _medians(ps, lab)
        x = m.index.to_numpy(float) * 2 ** off[lab]
        _median_line(ax, x, m["median"], lab)
        for xi, seeds in zip(x, m["seeds"]):
            _seed_points(ax, xi, seeds, lab, spread=xi * 0.02)
    ns = sorted(set(s.N))
    k_max = int(s.largest_K.max()) if len(s) else 1
    top = ax.axhline(k_max, color="0.5", ls=":", lw=1, label=f"largest K trained ({k_max})")
    ax.set(
        xscale="log",
        xticks=ns,
        xticklabels=[str(n) for n in ns],
        xlabel="units N (log)",
        ylabel="capacity: largest K with\nevery task at criterion",
        ylim=(-0.3, k_max + 0.5),
        title=f"Capacity against N ({ARM_TITLES.get(backbone, backbone)})",
    )
    ax.minorticks_off()
    _seed_legend(fig, ax, labels, [top])
    fig.text(
        0.01,
        0.0,
        "markers: seeds; bar: median over seeds; vertical line: range",
        fontsize=FONT_SMALL,
        color="0.3",
        ha="left",
        va="top",
    )
    return fig


def capacity_vs_params(cap: Capacity, backbone: str = VERDICT_ARM):
    """The parameter-efficiency view: capacity (every seed as the variant's marker, the median
    over seeds as a bar, the range as a vertical line) against the total modulation parameters
    the packed tasks use (per-task budget ×
    median capacity), one point per N joined in order of N, for every variant with modulation
    parameters; the label next to a point is its N."""
    arm = cap.arm(backbone)
    s = arm.summary
    s = s[np.isfinite(s.params_per_task.astype(float)) & (s.params_per_task.astype(float) > 0)]
    if not len(s):
        return _empty(ARM_TITLES.get(backbone, backbone))
    fig, axes = figure(1, 1, 5.6, 3.6)
    ax = axes[0, 0]
    lin = float(s.params_per_task.min())
    xs = []
    for lab in _variants(s):
        budget = s[s.variant == lab].set_index("N").params_per_task.astype(float)
        m = _medians(arm.per_seed, lab).loc[budget.index]
        x = m["median"] * budget
        xs += list(x)
        _median_line(ax, x, m["median"], lab)
        for xi, seeds in zip(x, m["seeds"]):
            _seed_points(ax, xi, seeds, lab, spread=max(abs(xi), lin) * 0.03)
        for xi, yi, n in zip(x, m["median"], m.index):
            ax.annotate(
                f"N={int(n)}",
                (xi, yi),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=FONT_SMALL,
                color=color(lab),
            )
    ax.set(
        xlabel="modulation parameters in use\n(per-task budget × median capacity; symmetric log)",
        ylabel="capacity (tasks)",
        title=f"Parameter efficiency ({ARM_TITLES.get(backbone, backbone)})",
    )
    ax.set_xscale("symlog", linthresh=lin)
    ax.set_xlim(-0.3 * lin, max(max(xs, default=lin), lin) * 2.5)
    if len(s):
        ax.set_ylim(-0.3, float(s.largest_K.max()) + 0.5)
    _seed_legend(fig, ax, _variants(s))
    return fig


def pretrained_vs_random(table: pd.DataFrame, cmp: pd.DataFrame):
    """P2(b) against P2(a): one panel per (N, K) compared; per pathway, the tasks at criterion on
    the frozen random backbone (open marker, left) and on the frozen pretrained one (filled,
    right), mean and 95% t interval over seeds, each seed's pair joined by a grey line."""
    cmp = cmp[np.isfinite(cmp.random.astype(float))] if len(cmp) else cmp
    if not len(cmp):
        return _empty("pretrained vs random backbone")
    cells = sorted({(int(n), int(k)) for n, k in zip(cmp.N, cmp.K)})
    fig, axes = figure(1, len(cells), 3.4, 3.0, sharey=True)
    for ax, (n, k) in zip(axes[0], cells):
        c = cmp[(cmp.N == n) & (cmp.K == k)]
        labels = list(dict.fromkeys(c.variant))
        for i, lab in enumerate(labels):
            sel = (table.variant == lab) & (table.N == n) & (table.K == k)
            pre = table[sel & (table.backbone == PRETRAINED_ARM)].set_index("seed")
            rnd = table[sel & (table.backbone == RANDOM_ARM)].set_index("seed")
            for s in sorted(set(pre.index) & set(rnd.index)):
                ax.plot(
                    [i - 0.18, i + 0.18],
                    [rnd.n_at_criterion[s], pre.n_at_criterion[s]],
                    color="0.75",
                    lw=0.8,
                    zorder=1,
                )
            r = c[c.variant == lab].iloc[0]
            kw = style(lab, line=False)
            ax.errorbar(
                i - 0.18,
                r.random,
                yerr=np.nan_to_num(r.random_hw),
                capsize=3,
                ms=6,
                mfc="white",
                zorder=3,
                **kw,
            )
            ax.errorbar(
                i + 0.18,
                r.pretrained,
                yerr=np.nan_to_num(r.pretrained_hw),
                capsize=3,
                ms=6,
                zorder=3,
                **kw,
            )
        ax.axhline(k, color="0.5", ls=":", lw=1)
        ax.set(
            title=f"N = {n}, K = {k}",
            xticks=range(len(labels)),
            xlim=(-0.6, len(labels) - 0.4),
            ylim=(-0.3, k + 0.5),
        )
        ax.set_xticklabels(labels, rotation=20, fontsize=FONT_SMALL)
    axes[0, 0].set_ylabel("tasks at criterion (of K)")
    handles = [
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="", label="random"),
        Line2D([], [], color="0.3", marker="o", ls="", label="pretrained"),
        Line2D([], [], color="0.5", ls=":", label="all K tasks"),
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize=FONT_SMALL, title="backbone")
    fig.suptitle("Tasks learned through modulation on a frozen backbone", fontsize=FONT_TITLE)
    return fig


def _seq_cells(df: pd.DataFrame) -> list[tuple[str, int]]:
    arms = [a for a in SEQ_ARMS if a in set(df.backbone)]
    return [(a, int(n)) for a in arms for n in sorted(set(df[df.backbone == a].N))]


def forgetting_curves(fg: Forgetting):
    """P3's forgetting curves: one row of panels per (mode, N), one panel per pathway; in each,
    the performance on task j (one line per task, in the order learned) after every stage
    k >= j, mean and 95% t interval over seeds; the dotted line is the criterion."""
    c = fg.curves
    if not len(c):
        return _empty("sequential packing")
    cells = _seq_cells(c)
    labels = list(dict.fromkeys(c.variant))
    fig, axes = figure(len(cells), len(labels), 2.6, 2.3, sharex=True, sharey=True)
    stages = sorted(set(c.stage))
    tasks = c.drop_duplicates("task_index").sort_values("task_index")[["task_index", "task"]]
    cmap = plt.get_cmap("viridis")
    shapes = "osD^vP*X"
    for row, (arm, n) in zip(axes, cells):
        for ax, lab in zip(row, labels):
            g = c[(c.backbone == arm) & (c.N == n) & (c.variant == lab)]
            if not len(g):
                ax.set_axis_off()
                continue
            for j, task in tasks.itertuples(index=False):
                h = g[g.task_index == j].sort_values("stage")
                frac = (j - 1) / max(1, len(tasks) - 1)
                ax.errorbar(
                    h.stage,
                    h.perf,
                    yerr=np.nan_to_num(h.perf_hw),
                    lw=1.2,
                    ms=4,
                    capsize=2,
                    color=cmap(0.9 * frac),
                    marker=shapes[(j - 1) % 8],
                    label=f"{j}: {task}",
                )
            ax.axhline(CRITERION, color="0.5", ls=":", lw=1)
            ax.set(title=lab, ylim=(-0.05, 1.05), xticks=stages)
            ax.title.set_fontsize(8)
    for ax in axes[-1]:
        ax.set_xlabel("after stage k")
    for ax, (arm, n) in zip(axes[:, 0], cells):
        ax.set_ylabel(f"{SEQ_MODE_TITLES.get(arm, arm)}\nN = {n}", fontsize=FONT_SMALL)
    fig.supylabel("performance on task j (rows: sequential mode, size)")
    handles, names = next(
        (ax.get_legend_handles_labels() for ax in axes.flat if ax.get_legend_handles_labels()[0]),
        ([], []),
    )
    fig.legend(handles, names, loc="outside right center", fontsize=FONT_SMALL, title="task j")
    fig.suptitle("Forgetting curves: each task after every later stage", fontsize=FONT_TITLE)
    return fig


def stage_summary(fg: Forgetting):
    """P3 per stage: the new task's performance after its stage (top) and the mean performance
    on the earlier tasks (bottom), one column per (mode, N), one line per pathway, mean and 95%
    t interval over seeds."""
    s = fg.summary
    if not len(s):
        return _empty("sequential packing")
    cells = _seq_cells(s)
    fig, axes = figure(2, len(cells), 3.4, 2.6, sharex=True, sharey=True)
    stages = sorted(set(s.stage))
    labels = list(dict.fromkeys(s.variant))
    off = _offsets(labels, 0.05)
    for col, (arm, n) in enumerate(cells):
        for lab in labels:
            g = s[(s.backbone == arm) & (s.N == n) & (s.variant == lab)].sort_values("stage")
            if not len(g):
                continue
            axes[0, col].errorbar(
                g.stage + off[lab],
                g.new_perf,
                yerr=np.nan_to_num(g.new_perf_hw),
                label=lab,
                lw=1.3,
                ms=5,
                capsize=2,
                **style(lab),
            )
            e = g[g.stage > 1]
            axes[1, col].errorbar(
                e.stage + off[lab],
                e.earlier,
                yerr=np.nan_to_num(e.earlier_hw),
                label=lab,
                lw=1.3,
                ms=5,
                capsize=2,
                **style(lab),
            )
        axes[0, col].set_title(f"{ARM_TITLES.get(arm, arm)}, N = {n}", fontsize=FONT_SMALL)
        axes[1, col].set_xlabel("stage k")
        for ax in axes[:, col]:
            ax.axhline(CRITERION, color="0.5", ls=":", lw=1)
            ax.set(ylim=(-0.05, 1.05), xticks=stages)
    axes[0, 0].set_ylabel("new task k\nafter stage k")
    axes[1, 0].set_ylabel("earlier tasks 1..k-1\nafter stage k (mean)")
    seen: dict = {}
    for ax in axes[0]:
        for h, name in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(name, h)
    fig.legend(
        list(seen.values()),
        list(seen),
        loc="outside right center",
        fontsize=FONT_SMALL,
        title="variant",
    )
    fig.suptitle(
        "Sequential packing: learning the new task, keeping the old ones", fontsize=FONT_TITLE
    )
    return fig


__all__ = [
    "at_criterion_vs_k",
    "capacity_vs_n",
    "capacity_vs_params",
    "pretrained_vs_random",
    "forgetting_curves",
    "stage_summary",
]
