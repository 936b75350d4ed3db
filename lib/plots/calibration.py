"""Figures of the training appendix: learning curves of the calibration study's arms."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from lib.analysis import calibration as calibration_analysis
from lib.core.tasks import DISPLAY_NAMES
from lib.plots import FONT, FONT_SMALL, figure

ARM_STYLE = {  # colour-blind-safe (Okabe-Ito) colours per arm; Yang's protocol in black
    "yang": "#000000",
    "no_clip": "#999999",
    "lr_2e-3": "#E69F00",
    "uniform": "#56B4E9",
    "error": "#009E73",
    "easy": "#0072B2",
    "easy_error": "#D55E00",
    "easy_lr": "#CC79A7",
    "n128": "#999933",
    "ctxdm_only": "#882255",
    "ctxdm_only_easy": "#332288",
}
ALONE = ("ctxdm_only", "ctxdm_only_easy")  # Ctx DM trained alone: dashed


def curves(study: dict, mech: str, tasks, arms, criterion: float = 0.9):
    """Performance on each task (panels) vs training trials, one colour per arm, one thin line
    per seed and the seeds' mean thick; the criterion dotted."""
    fig, axes = figure(1, len(tasks), 2.6, 2.4, sharey=True)
    for ax, task in zip(axes[0], tasks):
        for arm in arms:
            if not any(
                m == mech and a == arm and task in r.config.tasks for (m, a, _), r in study.items()
            ):
                continue
            trials, perf = calibration_analysis.task_curves(study, mech, arm, task)
            col, ls = ARM_STYLE.get(arm, "k"), "--" if arm in ALONE else "-"
            for p in perf:
                ax.plot(trials / 1e3, p, color=col, ls=ls, lw=0.6, alpha=0.5)
            ax.plot(trials / 1e3, np.nanmean(perf, 0), color=col, ls=ls, lw=1.8, label=arm)
        ax.axhline(criterion, color="k", ls=":", lw=1)
        ax.set(title=DISPLAY_NAMES[task], ylim=(-0.02, 1.02))
    axes[0, 0].set_ylabel("performance (standard trials)")
    fig.supxlabel("training trials (thousands)", fontsize=FONT)
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=FONT_SMALL, title="arm")
    return fig


MECHANISM_STYLE = {"exc_bias": "#0072B2", "syn_prepost": "#D55E00"}
SIZE_STYLE = {128: "-", 64: "--"}


def tasks_at_criterion_figure(
    lines: list[tuple[object, dict]],
    criterion: float = 0.9,
    n_tasks: int = calibration_analysis.FULL_BATTERY_LEARNED,
    legend_title: str | None = None,
):
    """How many tasks are at criterion at once against training trials, one step line per
    (TrainResult, line keywords: colour, style, label) of ``lines``; dotted: the bar of
    ``n_tasks`` tasks."""
    fig, axes = figure(1, 1, 6.0, 3.2)
    ax = axes[0, 0]
    for res, kw in lines:
        trials, count = calibration_analysis.tasks_at_criterion(res, criterion)
        ax.step(trials / 1e6, count, where="post", **{"lw": 1.5, **kw})
    n_all = max((len(res.config.tasks) for res, _ in lines), default=20)
    ax.axhline(n_tasks, color="k", ls=":", lw=1)
    ax.set(
        xlabel="training trials (millions)",
        ylabel=f"tasks at criterion (of {n_all})",
        ylim=(0, n_all + 0.5),
    )
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if lines:
        ax.legend(fontsize=FONT_SMALL, loc="lower right", title=legend_title)
    return fig


def tasks_learned(
    study: dict, criterion: float = 0.9, n_tasks: int = calibration_analysis.FULL_BATTERY_LEARNED
):
    """The full-battery calibration (:func:`tasks_at_criterion_figure`), one line per network of
    ``study`` (any keys -> TrainResult): colour the mechanism, solid N = 128, dashed N = 64."""
    lines = [
        (
            res,
            {
                "color": MECHANISM_STYLE.get(res.config.mechanism, "k"),
                "ls": SIZE_STYLE.get(res.config.n_rec, ":"),
                "label": f"{res.config.mechanism}, N = {res.config.n_rec}, seed {res.config.seed}",
            },
        )
        for res in study.values()
    ]
    return tasks_at_criterion_figure(lines, criterion, n_tasks)
