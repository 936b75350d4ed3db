"""Figures of chapter E2 (ambiguity): mixture curves on the panel pairs, robustness summaries,
noise / dilution / scale / missing / late context, and outputs on one ambiguous trial."""
from __future__ import annotations

import numpy as np

from lib.experiments.ambiguity import OUTCOMES
from lib.plots import color, figure
from lib.analysis import claims
from lib.analysis.stats import mean_ci
from lib.core.tasks import DISPLAY_NAMES


def _seeds(probes: dict, label: str) -> list[dict]:
    return [probes[k] for k in sorted(probes) if k[0] == label]


def _pair_index(res: dict, a: str, b: str) -> int:
    i, j = res["tasks"].index(a), res["tasks"].index(b)
    return [tuple(p) for p in res["pairs"]].index((i, j))


def mixture_panel(probes: dict, labels, panel, criterion: float = 0.9):
    """Rows: panel pairs (i, j); columns: variants. Performance on task i (solid) and task j
    (dashed) against the mixture weight l of c = (1-l) e_i + l e_j; mean and 95% CI."""
    fig, axes = figure(len(panel), len(labels), 1.9, 1.7, sharex=True, sharey=True)
    for r, (a, b) in enumerate(panel):
        for col, lab in enumerate(labels):
            ax = axes[r, col]
            runs = _seeds(probes, lab)
            lam = np.asarray(runs[0]["spec"]["lambdas"])
            p = _pair_index(runs[0], a, b)
            for key, ls in (("mix_i", "-"), ("mix_j", "--")):
                m, h = mean_ci([res[key][p] for res in runs])
                ax.plot(lam, m, ls, color=color(lab), lw=1.4)
                ax.fill_between(lam, m - np.nan_to_num(h), m + np.nan_to_num(h),
                                color=color(lab), alpha=0.15, lw=0)
            ax.axhline(criterion, color="k", ls=":", lw=0.8)
            ax.axvline(0.5, color="0.7", lw=0.6)
            if r == 0:
                ax.set_title(lab, fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{DISPLAY_NAMES.get(a, a)} (—)\n{DISPLAY_NAMES.get(b, b)} (- -)",
                              fontsize=7)
            if r == len(panel) - 1:
                ax.set_xlabel("l", fontsize=8)
    axes[0, 0].set_ylim(-0.02, 1.02)
    return fig


def robustness_summary(table, labels):
    """Mixture robustness per variant (``lib.analysis.robustness_by_variant``): area under the
    dominant-task curve and the l at which performance leaves criterion, 95% CI over seeds."""
    fig, axes = figure(1, 2, 4.6, 3.2)
    for ax, col, ylabel in zip(axes[0], ("auc", "l_leave"),
                               ("area under robustness curve (1 = unaffected)",
                                "l at which performance leaves criterion")):
        for x, lab in enumerate(labels):
            ax.errorbar(x, table.loc[lab, col], yerr=np.nan_to_num(table.loc[lab, col + " ±"]),
                        fmt="o", color=color(lab), capsize=3)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel(ylabel, fontsize=8)
    axes[0, 1].axhline(0.5, color="k", ls=":", lw=0.8)
    return fig


def corruption_curves(probes: dict, labels):
    """Performance relative to clean (mean over the tasks at criterion on clean context) under
    context noise (frozen per trial, fresh per step), dilution toward uniform and scaling; mean
    and 95% CI over seeds."""
    probes_ = {"noise_frozen": ("noise_levels", "context noise s.d. (frozen per trial)"),
               "noise_fresh": ("noise_levels", "context noise s.d. (fresh per step)"),
               "dilution": ("dilutions", "dilution toward uniform (eps)"),
               "scale": ("scales", "context scale k")}
    fig, axes = figure(1, 4, 3.3, 2.8, sharey=True)
    for ax, (key, (grid, xlabel)) in zip(axes[0], probes_.items()):
        for lab in labels:
            runs = _seeds(probes, lab)
            x = np.asarray(runs[0]["spec"][grid])
            rel = [claims.relative_to_clean(res, key) for res in runs]
            m, h = mean_ci(rel)
            ax.plot(x, m, color=color(lab), label=lab, lw=1.4)
            ax.fill_between(x, m - np.nan_to_num(h), m + np.nan_to_num(h), color=color(lab),
                            alpha=0.12, lw=0)
        ax.set_xlabel(xlabel, fontsize=8)
    axes[0, 0].set_ylabel("performance / clean performance")
    axes[0, -1].legend(fontsize=6, ncol=2)
    return fig


def missing_late(probes: dict, labels):
    """Mean performance with no context at all and with context arriving at stimulus onset."""
    fig, axes = figure(1, 1, 6.0, 3.0)
    ax = axes[0, 0]
    for n, (key, name) in enumerate((("clean", "clean"), ("late", "late (from stimulus onset)"),
                                     ("missing", "missing (c = 0)"))):
        for x, lab in enumerate(labels):
            m, h = mean_ci([np.mean(res[key]) for res in _seeds(probes, lab)])
            ax.bar(x + (n - 1) * 0.27, m, 0.27, yerr=np.nan_to_num(h), color=color(lab),
                   alpha=(1.0, 0.6, 0.3)[n], capsize=2, label=name if x == 0 else None)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
    ax.set(ylabel="performance (mean over tasks)", ylim=(0, 1.05))
    ax.legend(fontsize=7)
    return fig


def outcome_fractions(probes: dict, labels, pair):
    """How each variant fails on the first pair's task-i trials as l grows: fractions of correct
    responses, collapses (fixation kept) and wrong responses (switch or blend); seed mean."""
    fig, axes = figure(1, len(labels), 1.9, 1.9, sharey=True)
    for ax, lab in zip(axes[0], labels):
        runs = _seeds(probes, lab)
        lam = np.asarray(runs[0]["spec"]["lambdas"])
        p = _pair_index(runs[0], *pair)
        frac = np.mean([res["out_i"][p] for res in runs], axis=0)
        ax.stackplot(lam, frac.T, labels=OUTCOMES, colors=("#4daf4a", "#999999", "#e41a1c"))
        ax.set_title(lab, fontsize=8)
        ax.set_xlabel("l", fontsize=8)
    axes[0, 0].set_ylabel(f"{DISPLAY_NAMES.get(pair[0], pair[0])} trials")
    axes[0, -1].legend(fontsize=6, loc="lower left")
    return fig


def example_outputs(examples: dict[str, dict]):
    """Output ring over time on one ambiguous trial per variant (``lib.experiments.ambiguity.example``):
    the angle each task would ask for is marked on the right."""
    fig, axes = figure(1, len(examples), 1.9, 2.4, sharey=True)
    for ax, (lab, ex) in zip(axes[0], examples.items()):
        y = np.asarray(ex["y_hat"])
        ax.imshow(y[:, 1:].T, aspect="auto", origin="lower", vmin=0, vmax=1, cmap="Greys",
                  extent=(0, y.shape[0], 0, 2 * np.pi))
        ax.plot(np.arange(y.shape[0]), y[:, 0] * 2 * np.pi, color="tab:blue", lw=1,
                label="fixation output (scaled)")
        for name, ang, c in (("task i", ex["target_i"], "tab:green"),
                             ("task j", ex["target_j"], "tab:red")):
            if ang is not None and ang >= 0:
                ax.axhline(ang, color=c, ls="--", lw=1, label=f"{name} target")
        ax.set_title(f"{lab}\n{ex['outcome']}", fontsize=7)
        ax.set_xlabel("time step", fontsize=7)
    axes[0, 0].set_ylabel("output ring angle (rad)")
    axes[0, -1].legend(fontsize=5, loc="upper left")
    return fig
