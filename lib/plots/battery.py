"""Figures of chapter E1 (the battery): learning curves, per-task performance, trials to
criterion, budget vs performance, pathway ablations and lesion maps."""
from __future__ import annotations

import numpy as np

from lib.analysis import claims
from lib.analysis.stats import mean_ci
from lib.plots import color, figure, marker, style, text_color
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
        trials, perf = claims.curves(nets, lab)
        for ax, agg in zip(axes[0], (perf.mean(axis=2), perf.min(axis=2))):
            m, h = mean_ci(agg)
            h = np.nan_to_num(h)
            ax.plot(trials / 1e3, m, label=lab, lw=1.4, ms=4,
                    markevery=max(1, len(trials) // 6), **style(lab))
            ax.fill_between(trials / 1e3, m - h, m + h, color=color(lab), alpha=0.15, lw=0)
            lo, hi = min(lo, float(np.nanmin(m - h))), max(hi, float(np.nanmax(m + h)))
    for ax, title in zip(axes[0], ("mean over tasks", "worst task")):
        ax.axhline(criterion, color="k", ls=":", lw=1)
        ax.set(xlabel="training trials (thousands)", title=title, ylim=_ylim(lo, hi))
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
                color=text_color(im.cmap(im.norm(v))),
                weight="bold" if v >= criterion else "normal")
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
        ax.text(k, i, f"{txt}\n{frac[i, k]:.0%}", ha="center", va="center", fontsize=6,
                color="k" if np.isnan(v) else text_color(im.cmap(im.norm(v / 1e3))))
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
        ax.errorbar(b, m, yerr=np.nan_to_num(h), fmt=marker(lab), color=color(lab), label=lab,
                    capsize=3, ms=6)
    ax.set(xscale="log", xlabel="modulation parameters per task (log; 'none' drawn at 1)",
           ylabel="final performance (mean over tasks)")
    fig.legend(loc="outside right center", fontsize=7, title="variant")
    return fig


ABLATION_COLORS = ("#009E73", "#0072B2", "#56B4E9", "#D55E00", "#E69F00", "#332288",
                   "#882255")
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
        ax.bar(np.arange(len(tasks)) + n * width - 0.4 + width / 2, m, width,
               yerr=h, label=name, capsize=1.5, color=ABLATION_COLORS[n % len(ABLATION_COLORS)],
               hatch="//" if "frozen" in name else None, edgecolor="w", lw=0.3,
               error_kw={"lw": 0.7, "ecolor": "0.35"})
        lo = min(lo, float(np.nanmin(m - h)) - 0.02)
        top = max(top, float(np.nanmax(m + h)) + 0.03)
    ax.set_xticks(range(len(tasks)), _task_names(tasks), rotation=40, ha="right")
    ax.axhline(criterion, color="k", ls=":", lw=1)
    ax.set(ylabel="performance (dotted: criterion)", ylim=(lo, top))
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35))
    return fig


def lesion_maps(tasks, drops: dict[str, dict[str, np.ndarray]]):
    """Per variant (rows), the performance drop (intact - lesioned) on each task (columns of a
    map) after silencing the most task-variant units of each task (rows of a map): the mean over
    seeds, then every seed, then the random-lesion control (one row per seed: the drop on each
    task after silencing as many random units). ``drops``: :func:`lib.analysis.claims.lesion_drops`."""
    n_seeds = max(len(d["targeted"]) for d in drops.values())
    K = len(tasks)
    names = _task_names(tasks)
    cell = 0.16 * K + 0.7
    fig, axes = figure(len(drops), n_seeds + 2, cell, cell)
    for r, (lab, d) in enumerate(drops.items()):
        panels = [("mean of seeds", d["targeted"].mean(0))]
        panels += [(f"seed {s}", m) for s, m in enumerate(d["targeted"])]
        panels += [("random units\n(rows: seeds)", d["random"])]
        panels += [(None, None)] * (n_seeds + 2 - len(panels))
        for c, (title, drop) in enumerate(panels):
            ax = axes[r, c]
            if drop is None:
                ax.set_visible(False)
                continue
            im = ax.imshow(drop, vmin=0, vmax=1, cmap="Reds", aspect="auto")
            if r == 0:
                ax.set_title(title, fontsize=7)
            ax.set_xticks(range(K), names if r == len(drops) - 1 else [], rotation=90,
                          fontsize=5)
            if c == 0:
                ax.set_yticks(range(K), names, fontsize=5)
                ax.set_ylabel(f"{lab}\nlesioned: task", fontsize=7, color=color(lab))
            else:
                ax.set_yticks([])
    fig.supxlabel("task measured (columns of every map)", fontsize=8)
    fig.colorbar(im, ax=axes, label="performance drop (intact − lesioned)", shrink=0.5)
    return fig
