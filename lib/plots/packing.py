"""Figures of chapter E3 (task packing): tasks at criterion against K per network size, capacity
against N, and capacity against the modulation parameters it uses; the same for the frozen
random backbone. Inputs are :class:`lib.analysis.packing.Capacity` objects."""
from __future__ import annotations

import numpy as np

from lib.analysis.packing import VERDICT_ARM, Capacity
from lib.plots import color, figure, style

ARM_TITLES = {"trained": "joint training", "frozen_random": "frozen random backbone"}


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
    fig.legend(handles, names, loc="outside right center", fontsize=7, title="variant")


def at_criterion_vs_k(cap: Capacity, backbone: str = VERDICT_ARM):
    """One panel per N: tasks at criterion (mean and 95% t interval over seeds) against the
    number of tasks trained together, K, one line per variant; the dotted diagonal is every
    task learned."""
    c = cap.arm(backbone).by_k
    if not len(c):
        return _empty(ARM_TITLES.get(backbone, backbone))
    ns = sorted(set(c.N))
    fig, axes = figure(1, max(1, len(ns)), 3.2, 3.0, sharey=True)
    labels = _variants(c)
    ks = sorted(set(c.K))
    off = _offsets(labels, 0.06 * (max(ks) - min(ks) + 1) / max(1, len(labels)))
    for ax, n in zip(axes[0], ns):
        ax.plot([0, max(ks)], [0, max(ks)], color="0.5", ls=":", lw=1, label="all learned")
        for lab in labels:
            g = c[(c.variant == lab) & (c.N == n)].sort_values("K")
            ax.errorbar(g.K + off[lab], g.at_criterion, yerr=np.nan_to_num(g.at_criterion_hw),
                        label=lab, lw=1.3, ms=5, capsize=2, **style(lab))
        ax.set(title=f"N = {n}", xlabel="tasks trained together, K", xticks=ks,
               xlim=(min(ks) - 0.7, max(ks) + 0.7), ylim=(-0.3, max(ks) + 0.5))
    axes[0, 0].set_ylabel("tasks at criterion (of K)")
    _legend(fig, axes[0, 0])
    fig.suptitle(f"Tasks at criterion against K ({ARM_TITLES.get(backbone, backbone)})",
                 fontsize=10)
    return fig


def capacity_vs_n(cap: Capacity, backbone: str = VERDICT_ARM):
    """Capacity (the largest K with every task at criterion; mean and 95% t interval over seeds)
    against the network size N (log scale), one line per variant."""
    s = cap.arm(backbone).summary
    if not len(s):
        return _empty(ARM_TITLES.get(backbone, backbone))
    fig, axes = figure(1, 1, 5.2, 3.4)
    ax = axes[0, 0]
    labels = _variants(s)
    off = _offsets(labels, 0.04)
    for lab in labels:
        g = s[s.variant == lab].sort_values("N")
        ax.errorbar(g.N * 2 ** off[lab], g.capacity, yerr=np.nan_to_num(g.capacity_hw),
                    label=lab, lw=1.3, ms=6, capsize=3, **style(lab))
    ns = sorted(set(s.N))
    k_max = int(s.largest_K.max()) if len(s) else 1
    ax.axhline(k_max, color="0.5", ls=":", lw=1, label=f"largest K trained ({k_max})")
    ax.set(xscale="log", xticks=ns, xticklabels=[str(n) for n in ns], xlabel="units N (log)",
           ylabel="capacity: largest K with\nevery task at criterion", ylim=(-0.3, k_max + 0.5),
           title=f"Capacity against N ({ARM_TITLES.get(backbone, backbone)})")
    ax.minorticks_off()
    _legend(fig, ax)
    return fig


def capacity_vs_params(cap: Capacity, backbone: str = VERDICT_ARM):
    """The parameter-efficiency view: capacity (mean, 95% t interval over seeds) against the
    total modulation parameters the packed tasks use (per-task budget × capacity), one point per
    N joined in order of N, for every variant with modulation parameters; the label next to a
    point is its N."""
    s = cap.arm(backbone).summary
    s = s[np.isfinite(s.params_per_task.astype(float)) & (s.params_per_task.astype(float) > 0)]
    if not len(s):
        return _empty(ARM_TITLES.get(backbone, backbone))
    fig, axes = figure(1, 1, 5.2, 3.6)
    ax = axes[0, 0]
    for lab in _variants(s):
        g = s[s.variant == lab].sort_values("N")
        x = g.capacity * g.params_per_task
        ax.errorbar(x, g.capacity, yerr=np.nan_to_num(g.capacity_hw), label=lab, lw=1.2, ms=6,
                    capsize=3, **style(lab))
        for xi, yi, n in zip(x, g.capacity, g.N):
            ax.annotate(f"N={int(n)}", (xi, yi), textcoords="offset points", xytext=(4, -9),
                        fontsize=6, color=color(lab))
    pos = (s.capacity * s.params_per_task)
    lin = float(s.params_per_task.min()) if len(s) else 1.0
    ax.set(xscale="symlog", xlabel="modulation parameters in use\n(per-task budget × capacity; "
           "symmetric log)", ylabel="capacity (tasks)",
           title=f"Parameter efficiency ({ARM_TITLES.get(backbone, backbone)})")
    ax.set_xscale("symlog", linthresh=lin)
    ax.set_xlim(-0.3 * lin, max(float(pos.max()) if len(pos) else lin, lin) * 2.5)
    if len(s):
        ax.set_ylim(-0.3, float(s.largest_K.max()) + 0.5)
    _legend(fig, ax)
    return fig


__all__ = ["at_criterion_vs_k", "capacity_vs_n", "capacity_vs_params"]
