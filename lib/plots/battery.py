"""Figures of chapter E1 (the battery): learning curves, per-task performance, trials to
criterion, budget vs performance, pathway ablations and lesion maps."""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from lib.analysis import battery as battery_analysis
from lib.analysis.common import budget, final_perf
from lib.analysis.stats import mean_ci
from lib.plots import FONT, FONT_SMALL, MAX_COLS, color, figure, marker, style, text_color
from lib.core.tasks import DISPLAY_NAMES


def _task_names(tasks) -> list[str]:
    return [DISPLAY_NAMES.get(t, t) for t in tasks]


def _ylim(lo: float, hi: float, pad: float = 0.02) -> tuple[float, float]:
    """Limits of a performance axis: [0, 1] widened to every drawn interval."""
    return min(-pad, lo - pad), max(1 + pad, hi + pad)


def learning_curves(nets: dict, labels, criterion: float = 0.9):
    """Mean-over-tasks and min-over-tasks performance vs training trials (thousands), mean and
    95% t interval over seeds; each variant its colour, marker and family line style; the legend
    sits outside the panels, so it covers no data, and the axis holds every interval."""
    fig, axes = figure(1, 2, 4.6, 3.2, sharey=True)
    lo, hi = 0.0, 1.0
    for lab in labels:
        trials, perf = battery_analysis.curves(nets, lab)
        for ax, agg in zip(axes[0], (perf.mean(axis=2), perf.min(axis=2))):
            m, h = mean_ci(agg)
            h = np.nan_to_num(h)
            ax.plot(
                trials / 1e3,
                m,
                label=lab,
                lw=1.4,
                ms=4,
                markevery=max(1, len(trials) // 6),
                **style(lab),
            )
            ax.fill_between(trials / 1e3, m - h, m + h, color=color(lab), alpha=0.15, lw=0)
            lo, hi = min(lo, float(np.nanmin(m - h))), max(hi, float(np.nanmax(m + h)))
    for ax, title in zip(axes[0], ("mean over tasks", "worst task")):
        ax.axhline(criterion, color="k", ls=":", lw=1)
        ax.set(xlabel="training trials (thousands)", title=title, ylim=_ylim(lo, hi))
    axes[0, 0].set_ylabel("performance")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center", fontsize=FONT_SMALL, title="variant")
    return fig


def final_heatmap(nets: dict, labels, tasks, criterion: float = 0.9, tasks_as_rows: bool = False):
    """Final performance per variant (rows) and task (columns), mean over seeds;
    ``tasks_as_rows``: transposed, so that a battery of 20 tasks stays legible in the column."""
    data = np.array([final_perf(nets, lab).mean(0) for lab in labels])
    if tasks_as_rows:
        data = data.T
    cols, rows = (labels, tasks) if tasks_as_rows else (tasks, labels)
    row_in = 0.25 if tasks_as_rows else 0.4  # a task's row is one line of text high
    fig, axes = figure(1, 1, 0.75 * len(cols) + 2.5, row_in * len(rows) + 1.4)
    ax = axes[0, 0]
    im = ax.imshow(data, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(data):
        ax.text(
            j,
            i,
            f"{v:.2f}",
            ha="center",
            va="center",
            fontsize=FONT_SMALL,
            color=text_color(im.cmap(im.norm(v))),
            weight="bold" if v >= criterion else "normal",
        )
    task_names = _task_names(tasks)
    ax.set_xticks(
        range(len(cols)), task_names if not tasks_as_rows else cols, rotation=40, ha="right"
    )
    ax.set_yticks(range(len(rows)), task_names if tasks_as_rows else rows)
    fig.colorbar(im, ax=ax, label="final performance (bold: at criterion)")
    return fig


def trials_to_criterion(nets: dict, labels, tasks, criterion: float = 0.9):
    """Trials until each task first reached criterion (median over seeds; blank = not within
    budget in any seed) and the fraction of seeds that reached it."""
    med = np.full((len(labels), len(tasks)), np.nan)
    frac = np.zeros_like(med)
    for i, lab in enumerate(labels):
        ttc = battery_analysis.trials_to_criterion(nets, lab, criterion)
        frac[i] = np.isfinite(ttc).mean(0)
        for k in range(len(tasks)):
            hit = ttc[:, k][np.isfinite(ttc[:, k])]
            med[i, k] = np.median(hit) if hit.size else np.nan
    fig, axes = figure(1, 1, 0.75 * len(tasks) + 2.5, 0.4 * len(labels) + 1.4)
    ax = axes[0, 0]
    im = ax.imshow(med / 1e3, cmap="magma_r", aspect="auto")
    for (i, k), v in np.ndenumerate(med):
        txt = "—" if np.isnan(v) else f"{v / 1e3:.0f}k"
        ax.text(
            k,
            i,
            f"{txt}\n{frac[i, k]:.0%}",
            ha="center",
            va="center",
            fontsize=FONT_SMALL,
            color="k" if np.isnan(v) else text_color(im.cmap(im.norm(v / 1e3))),
        )
    ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    fig.colorbar(
        im, ax=ax, label="trials to criterion (thousands; median over seeds that reached it)"
    )
    return fig


def budget_vs_performance(nets: dict, labels):
    """Per-task modulation parameters (log scale) vs final mean performance, 95% CI."""
    fig, axes = figure(1, 1, 5.5, 3.6)
    ax = axes[0, 0]
    for lab in labels:
        b = max(budget(nets, lab), 1)
        m, h = mean_ci(final_perf(nets, lab).mean(1))
        ax.errorbar(
            b,
            m,
            yerr=np.nan_to_num(h),
            fmt=marker(lab),
            color=color(lab),
            label=lab,
            capsize=3,
            ms=6,
        )
    ax.set(
        xscale="log",
        xlabel="modulation parameters per task (log; 'none' drawn at 1)",
        ylabel="final performance (mean over tasks)",
    )
    fig.legend(loc="outside right center", fontsize=FONT_SMALL, title="variant")
    return fig


ABLATION_COLORS = ("#009E73", "#0072B2", "#56B4E9", "#D55E00", "#E69F00", "#332288", "#882255")
"""Intact hybrid (its green), excitability removed (blues), synaptic removed (orange/vermillion),
frozen in training (indigo, wine): colour-blind safe, hatched where a pathway is frozen."""


def ablation_bars(tasks, bars: dict[str, np.ndarray], criterion: float = 0.9):
    """Per-task performance of hybrid variants: ``bars[name] -> (S, K)`` (mean, 95% CI); the
    axis holds every interval; the criterion dotted."""
    fig, axes = figure(1, 1, max(6.5, 0.9 * len(tasks) + 2), 3.4)
    ax = axes[0, 0]
    width = 0.8 / len(bars)
    lo, top = 0.0, 1.05
    for n, (name, v) in enumerate(bars.items()):
        m, h = mean_ci(v)
        h = np.nan_to_num(h)
        ax.bar(
            np.arange(len(tasks)) + n * width - 0.4 + width / 2,
            m,
            width,
            yerr=h,
            label=name,
            capsize=1.5,
            color=ABLATION_COLORS[n % len(ABLATION_COLORS)],
            hatch="//" if "frozen" in name else None,
            edgecolor="w",
            lw=0.3,
            error_kw={"lw": 0.7, "ecolor": "0.35"},
        )
        lo = min(lo, float(np.nanmin(m - h)) - 0.02)
        top = max(top, float(np.nanmax(m + h)) + 0.03)
    ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=40, ha="right")
    ax.axhline(criterion, color="k", ls=":", lw=1)
    ax.set(ylabel="performance (dotted: criterion)", ylim=(lo, top))
    ax.legend(fontsize=FONT_SMALL, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    return fig


def lesion_maps(tasks, drops: dict[str, dict[str, np.ndarray]]):
    """Two figures from :func:`lib.analysis.battery.lesion_drops` (``drops[label]``: ``targeted``
    (S, K, K), ``random`` (S, K)):

    1. per variant (one panel each, at most :data:`lib.plots.MAX_COLS` a row), the mean over
       seeds of the performance drop (intact - lesioned) on each task (columns) after silencing
       the most task-variant units of each task (rows);
    2. every seed of every variant (:func:`lesion_seeds`): its mean drop on the lesioned task
       itself (the diagonal), on the other tasks, and after silencing as many random units.

    Returns the list of both figures."""
    return [lesion_mean_maps(tasks, drops), lesion_seeds(drops)]


def lesion_mean_maps(tasks, drops: dict[str, dict[str, np.ndarray]]):
    """Per variant, the mean over seeds of the drop map (rows: task lesioned, columns: task
    measured), one panel each, at most :data:`lib.plots.MAX_COLS` a row."""
    K = len(tasks)
    names = _task_names(tasks)
    labels = list(drops)
    ncols = min(len(labels), MAX_COLS)
    nrows = int(np.ceil(len(labels) / ncols))
    cell = 0.18 * K + 1.0
    fig, axes = figure(nrows, ncols, cell, cell)
    im = None
    seeds = {len(drops[lab]["targeted"]) for lab in labels}
    for i, (ax, lab) in enumerate(zip(axes.flat, labels)):
        d = drops[lab]
        im = ax.imshow(d["targeted"].mean(0), vmin=0, vmax=1, cmap="Reds", aspect="auto")
        ax.set_title(
            lab if len(seeds) == 1 else f"{lab} (n={len(d['targeted'])})", color=color(lab)
        )
        bottom = i + ncols >= len(labels)  # no panel below: this one carries the names
        ax.set_xticks(range(K), names if bottom else [], rotation=90)
        ax.set_yticks(range(K), names if i % ncols == 0 else [])
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    if len(seeds) == 1:
        fig.suptitle(
            f"Drop after silencing each task's most task-variant units, mean over "
            f"{seeds.pop()} seeds",
            fontsize=FONT,
        )
    fig.supxlabel("task measured")
    fig.supylabel("task whose units are silenced")
    if im is not None:
        fig.colorbar(im, ax=axes, label="performance drop\n(intact − lesioned)", shrink=0.6)
    return fig


LESION_MARKS = (
    ("own task (diagonal)", "o", True),
    ("other tasks", "o", False),
    ("random units", "x", True),
)
"""How :func:`lesion_seeds` draws each drop: name, marker, filled."""


def lesion_seeds(drops: dict[str, dict[str, np.ndarray]]):
    """Every seed of every variant (rows): its mean drop on the lesioned task itself (filled
    dot; the diagonal of its map), on the other tasks (open dot) and after silencing as many
    random units (cross; the control), each the mean over tasks of that seed's map."""
    labels = list(drops)
    fig, axes = figure(1, 1, 6.0, 0.32 * len(labels) + 1.3)
    ax = axes[0, 0]
    for y, lab in enumerate(labels):
        targeted, random = drops[lab]["targeted"], drops[lab]["random"]
        K = targeted.shape[1]
        eye = np.eye(K, dtype=bool)
        values = (
            targeted[:, eye].mean(1),
            targeted[:, ~eye].mean(1) if K > 1 else [],
            random.mean(1),
        )
        for (name, mk, filled), v, dy in zip(LESION_MARKS, values, (-0.2, 0.0, 0.2)):
            v = np.asarray(v, float)
            paint = (
                {"color": color(lab)}
                if mk == "x"
                # a line marker has no face
                else {"facecolors": color(lab) if filled else "none", "edgecolors": color(lab)}
            )
            ax.scatter(
                v,
                np.full(len(v), y + dy),
                s=22,
                marker=mk,
                linewidths=1.0,
                label=name if y == 0 else None,
                **paint,
            )
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_xlabel("performance drop (intact − lesioned), mean over tasks; one mark per seed")
    ax.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], ls="", marker=mk, color="0.3", mfc="0.3" if filled else "none")
        for _, mk, filled in LESION_MARKS
    ]
    fig.legend(
        handles, [n for n, _, _ in LESION_MARKS], loc="outside lower center", ncols=3, frameon=False
    )
    return fig
