"""Figures of chapter E1 (the battery): learning curves, per-task performance, trials to
criterion, budget vs performance, pathway ablations and lesion maps."""
from __future__ import annotations

import numpy as np

from lib.analysis import claims
from lib.plots import color, figure
from lib.analysis.stats import mean_ci
from lib.core.tasks import DISPLAY_NAMES


def _task_names(tasks) -> list[str]:
    return [DISPLAY_NAMES.get(t, t) for t in tasks]


def learning_curves(nets: dict, labels, criterion: float = 0.9):
    """Mean-over-tasks and min-over-tasks performance vs training trials (thousands), mean and
    95% t interval over seeds; the legend sits outside the panels, so it covers no data."""
    fig, axes = figure(1, 2, 4.6, 3.2, sharey=True)
    for lab in labels:
        trials, perf = claims.curves(nets, lab)
        for ax, agg in zip(axes[0], (perf.mean(axis=2), perf.min(axis=2))):
            m, h = mean_ci(agg)
            ax.plot(trials / 1e3, m, color=color(lab), label=lab, lw=1.6)
            ax.fill_between(trials / 1e3, m - np.nan_to_num(h), m + np.nan_to_num(h),
                            color=color(lab), alpha=0.15, lw=0)
    for ax, title in zip(axes[0], ("mean over tasks", "worst task")):
        ax.axhline(criterion, color="k", ls=":", lw=1)
        ax.set(xlabel="training trials (thousands)", title=title, ylim=(-0.02, 1.02))
    axes[0, 0].set_ylabel("performance")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center", fontsize=7, title="variant")
    return fig


def final_heatmap(nets: dict, labels, tasks, criterion: float = 0.9):
    """Final performance per variant (rows) and task (columns), mean over seeds."""
    data = np.array([claims.final_perf(nets, lab).mean(0) for lab in labels])
    fig, axes = figure(1, 1, 0.75 * len(tasks) + 2.5, 0.4 * len(labels) + 1.4)
    ax = axes[0, 0]
    im = ax.imshow(data, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(data):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                color="w" if v < 0.6 else "k", weight="bold" if v >= criterion else "normal")
    ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    fig.colorbar(im, ax=ax, label="final performance (bold: at criterion)")
    return fig


def trials_to_criterion(nets: dict, labels, tasks, criterion: float = 0.9):
    """Trials until each task first reached criterion (median over seeds; blank = not within
    budget in any seed) and the fraction of seeds that reached it."""
    med = np.full((len(labels), len(tasks)), np.nan)
    frac = np.zeros_like(med)
    for i, lab in enumerate(labels):
        ttc = claims.trials_to_criterion(nets, lab, criterion)
        frac[i] = np.isfinite(ttc).mean(0)
        for k in range(len(tasks)):
            hit = ttc[:, k][np.isfinite(ttc[:, k])]
            med[i, k] = np.median(hit) if hit.size else np.nan
    fig, axes = figure(1, 1, 0.75 * len(tasks) + 2.5, 0.4 * len(labels) + 1.4)
    ax = axes[0, 0]
    im = ax.imshow(med / 1e3, cmap="magma_r", aspect="auto")
    for (i, k), v in np.ndenumerate(med):
        txt = "—" if np.isnan(v) else f"{v / 1e3:.0f}k"
        ax.text(k, i, f"{txt}\n{frac[i, k]:.0%}", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    fig.colorbar(im, ax=ax, label="trials to criterion (thousands; median over seeds that "
                 "reached it)")
    return fig


def budget_vs_performance(nets: dict, labels):
    """Per-task modulation parameters (log scale) vs final mean performance, 95% CI."""
    fig, axes = figure(1, 1, 5.5, 3.6)
    ax = axes[0, 0]
    for lab in labels:
        b = max(claims.budget(nets, lab), 1)
        m, h = mean_ci(claims.final_perf(nets, lab).mean(1))
        ax.errorbar(b, m, yerr=np.nan_to_num(h), fmt="o", color=color(lab), label=lab,
                    capsize=3)
    ax.set(xscale="log", xlabel="modulation parameters per task (log; 'none' drawn at 1)",
           ylabel="final performance (mean over tasks)")
    ax.legend(fontsize=7, ncol=2)
    return fig


def ablation_bars(tasks, bars: dict[str, np.ndarray]):
    """Per-task performance of hybrid variants: ``bars[name] -> (S, K)`` (mean, 95% CI)."""
    fig, axes = figure(1, 1, max(6.5, 0.9 * len(tasks) + 2), 3.4)
    ax = axes[0, 0]
    width = 0.8 / len(bars)
    for n, (name, v) in enumerate(bars.items()):
        m, h = mean_ci(v)
        ax.bar(np.arange(len(tasks)) + n * width - 0.4 + width / 2, m, width,
               yerr=np.nan_to_num(h), label=name, capsize=1.5,
               error_kw={"lw": 0.7, "ecolor": "0.35"})
    ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=40, ha="right")
    ax.set(ylabel="performance", ylim=(0, 1.05))
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    return fig


def lesion_maps(tasks, maps: dict[str, np.ndarray], n_seeds: int):
    """Per variant: the mean over ``n_seeds`` seeds of the performance drop (intact - lesioned)
    on each task (columns) after silencing the most task-variant units of each task (rows)
    (``lib.analysis.claims.lesion_summary``)."""
    ncols = min(len(maps), 5)
    nrows = -(-len(maps) // ncols)
    fig, axes = figure(nrows, ncols, 0.3 * len(tasks) + 1.3, 0.3 * len(tasks) + 1.2)
    for ax, (lab, drop) in zip(axes.flat, maps.items()):
        im = ax.imshow(drop, vmin=0, vmax=1, cmap="Reds")
        ax.set_title(lab, fontsize=8)
        ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=90, fontsize=6)
        ax.set_yticks(range(len(tasks)), _task_names(tasks), fontsize=6)
    for ax in axes.flat[len(maps):]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel("lesioned: top-variance\nunits of task", fontsize=7)
    fig.colorbar(im, ax=axes, label=f"performance drop, mean of {n_seeds} seeds", shrink=0.6)
    return fig
