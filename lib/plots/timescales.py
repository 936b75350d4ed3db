"""Figures of chapter E5 (time-scales): performance against trials since a switch, around a brief
context error, the switch cost and the error cost per assignment (two panels, never added) with
their seeds paired, and the learning routes of a new task (speed and interference, seeds paired).

Colours and the variant marker come from :func:`lib.plots.style` (one network per row); the
assignments are told apart by line style and marker (:data:`ASSIGNMENT_STYLES`), never by colour
alone, and named in every legend."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from lib.analysis import learning as learning_analysis
from lib.analysis import timescales as timescales_analysis
from lib.analysis.stats import mean_ci
from lib.experiments.timescales import ASSIGNMENT_NAMES, ASSIGNMENTS
from lib.plots import FONT_SMALL, color, figure

ASSIGNMENT_STYLES: dict[str, dict] = {
    "exc_fast_syn_slow": {"ls": "-", "marker": "o"},
    "exc_slow_syn_fast": {"ls": "--", "marker": "s"},
    "both_fast": {"ls": (0, (1, 1)), "marker": "^"},
    "both_slow": {"ls": "-.", "marker": "v"},
    "both_instant": {"ls": (0, (5, 1, 1, 1, 1, 1)), "marker": "x"},
}
"""Line style and marker per assignment (the same in every figure of the chapter)."""
REFERENCE_STYLE = {"color": "0.55", "lw": 4, "alpha": 0.45, "solid_capstyle": "butt"}
"""The reference (modulation at its fixed point): a broad grey band under the lines."""


def _legend(fig, assignments, reference: bool = True) -> None:
    handles = [
        Line2D([], [], color="k", lw=1.2, ms=5, **ASSIGNMENT_STYLES[a], label=ASSIGNMENT_NAMES[a])
        for a in assignments
    ]
    if reference:
        handles.append(Line2D([], [], **REFERENCE_STYLE, label="reference (steady state)"))
    fig.legend(handles=handles, loc="outside right center", fontsize=FONT_SMALL, title="modulation")


def _assignments(results: dict, label: str) -> list[str]:
    for (lab, _), res in sorted(results.items()):
        if lab == label:
            return [a for a in ASSIGNMENTS if a in res["assignments"]]
    return []


def _draw(ax, x, curves: dict, label: str, a: str) -> bool:
    """Mean and 95% band over seeds of one assignment; False where there is no seed."""
    if not len(curves["perf"]):
        return False
    m, h = mean_ci(curves["perf"])
    h = np.nan_to_num(h)
    ax.plot(x, m, color=color(label), lw=1.2, ms=4, **ASSIGNMENT_STYLES[a])
    ax.fill_between(
        x, np.clip(m - h, 0, 1), np.clip(m + h, 0, 1), color=color(label), alpha=0.08, lw=0
    )
    return True


def _complete(curves: dict) -> dict:
    """The curves up to the last position that every seed reached (an interleaved run rarely
    lasts long, and a band over the few seeds that reached a position says little)."""
    full = ~np.isnan(curves["perf"]).any(0) if len(curves["perf"]) else np.zeros(0, bool)
    J = int(np.argmin(full)) if not full.all() else len(full)
    return {k: (v[:, :J] if isinstance(v, np.ndarray) else v) for k, v in curves.items()}


def _no_data(ax, label: str) -> None:
    ax.text(
        0.5,
        0.5,
        f"{label}: no seed learned\nboth tasks of a pair",
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=FONT_SMALL,
    )


def switch_curves(results: dict, labels, schedules=("blocked", "interleaved")):
    """Rows: networks; columns: schedules. Performance (mean over the switches of the learned
    pairs, then mean and 95% band over seeds) against trials since the last switch, one line per
    assignment, the reference (the same trials at steady state) as a grey band; each curve up to
    the last position every seed reached."""
    fig, axes = figure(len(labels), len(schedules), 3.3, 2.2, sharex=True, sharey=True)
    for r, lab in enumerate(labels):
        for col, sched in enumerate(schedules):
            ax = axes[r, col]
            drawn = False
            for a in _assignments(results, lab):
                c = _complete(timescales_analysis.seed_curves(results, lab, a, sched))
                x = np.arange(c["perf"].shape[1])
                if drawn is False and len(c["reference"]):
                    ax.plot(x, mean_ci(c["reference"])[0], **REFERENCE_STYLE)
                drawn = _draw(ax, x, c, lab, a) or drawn
            if not drawn:
                _no_data(ax, lab)
            if r == 0:
                ax.set_title(f"{sched} schedule", fontsize=FONT_SMALL)
            if col == 0:
                ax.set_ylabel(f"{lab}\nperformance", fontsize=FONT_SMALL, color=color(lab))
            if r == len(labels) - 1:
                ax.set_xlabel("trials since the switch", fontsize=FONT_SMALL)
    axes[0, 0].set_ylim(-0.03, 1.03)
    block = next(iter(results.values()))["spec"]["block"] if results else 1
    axes[0, 0].set_xlim(-0.5, block - 0.5)
    _legend(fig, [a for a in ASSIGNMENTS if any(a in _assignments(results, l) for l in labels)])
    return fig


def error_curves(results: dict, labels):
    """One panel per network: performance around a trial cued with the conflict partner
    (position 0; the task itself unchanged), from the lead trial before it to the trials after;
    mean over both tasks of the learned pairs, then mean and 95% band over seeds."""
    fig, axes = figure(1, len(labels), 3.0, 2.4, sharey=True)
    for col, lab in enumerate(labels):
        ax = axes[0, col]
        drawn = False
        for a in _assignments(results, lab):
            c = timescales_analysis.seed_curves(results, lab, a, "error")
            x = np.arange(c["perf"].shape[1]) - 1
            if drawn is False and len(c["reference"]):
                ax.plot(x, mean_ci(c["reference"])[0], **REFERENCE_STYLE)
            drawn = _draw(ax, x, c, lab, a) or drawn
        if not drawn:
            _no_data(ax, lab)
        ax.axvspan(-0.4, 0.4, color="0.9", lw=0, zorder=0)
        ax.set_title(lab, fontsize=FONT_SMALL, color=color(lab))
        ax.set_xlabel("trials from the error\n(0: cued with the partner)", fontsize=FONT_SMALL)
    axes[0, 0].set_ylabel("performance", fontsize=FONT_SMALL)
    axes[0, 0].set_ylim(-0.03, 1.03)
    _legend(fig, [a for a in ASSIGNMENTS if any(a in _assignments(results, l) for l in labels)])
    return fig


COST_TITLES = {
    "switch": "switch cost\n(first trial after a switch)",
    "error_total": "error cost\n(error trial + {n} after, summed)",
}
"""Column titles of :func:`separate_costs`, one per :data:`lib.analysis.timescales.COSTS`."""


def separate_costs(costs: pd.DataFrame, labels):
    """The two costs E5 tests, side by side and never added: columns switch cost and error
    cost (:data:`lib.analysis.timescales.COSTS`), rows networks; in each panel one row per
    assignment (the network's own), every seed a small grey point joined across assignments
    (one seed's assignments run on the same trials and pairs), and the mean with its 95% t
    interval in the network's colour and the assignment's marker; the dotted line is no cost.
    ``costs``: :func:`lib.analysis.timescales.cost_table` (reference − performance, per seed the
    mean over its learned conflict pairs)."""
    measures = list(timescales_analysis.COSTS)
    present = [l for l in labels if len(costs) and (costs.label == l).any()]
    orders = {
        lab: [a for a in ASSIGNMENTS if a in set(costs.loc[costs.label == lab, "assignment"])]
        for lab in present
    }
    heights = [max(1, len(orders[l])) for l in present] or [1]
    fig, axes = figure(
        len(heights),
        len(measures),
        3.0,
        0.42 * sum(heights) / len(heights) + 0.9,
        sharex="col",
        gridspec_kw={"height_ratios": heights},
    )
    titles = {m: COST_TITLES[m].format(n=timescales_analysis.ERROR_WINDOW) for m in measures}
    for r, lab in enumerate(present):
        g = costs[costs.label == lab]
        order = orders[lab]
        y = np.arange(len(order))[::-1]
        for col, m in enumerate(measures):
            ax = axes[r, col]
            wide = g.pivot(index="seed", columns="assignment", values=m)[order]
            for _, row in wide.iterrows():
                ax.plot(row.to_numpy(float), y, color="0.7", lw=0.8, marker=".", ms=4, zorder=1)
            mean, half = mean_ci(wide.to_numpy(float))
            for k, a in enumerate(order):
                ax.errorbar(
                    mean[k],
                    y[k],
                    xerr=np.nan_to_num(half[k : k + 1]),
                    marker=ASSIGNMENT_STYLES[a]["marker"],
                    color=color(lab),
                    ms=6,
                    capsize=3,
                    zorder=3,
                    ls="none",
                )
            ax.axvline(0, color="0.4", lw=0.8, ls=":", zorder=0)
            ax.set_ylim(-0.6, len(order) - 0.4)
            if col == 0:
                ax.set_yticks(y, [ASSIGNMENT_NAMES[a] for a in order], fontsize=FONT_SMALL)
                ax.set_ylabel(lab, fontsize=FONT_SMALL, color=color(lab))
            else:
                ax.set_yticks(y, [])
            if r == 0:
                ax.set_title(titles[m], fontsize=FONT_SMALL)
            if r == len(present) - 1:
                ax.set_xlabel("reference − performance", fontsize=FONT_SMALL)
            if wide.isna().all().all():
                _no_data(ax, lab)
    if not present:
        _no_data(axes[0, 0], "any network")
    fig.legend(
        handles=[
            Line2D([], [], color="0.7", marker=".", lw=0.8, label="one seed"),
            Line2D([], [], color="k", marker="o", ls="none", label="mean ± 95% t interval"),
        ],
        loc="outside lower center",
        ncols=2,
        fontsize=FONT_SMALL,
    )
    return fig


__all__ = ["ASSIGNMENT_STYLES", "COST_TITLES", "switch_curves", "error_curves", "separate_costs"]


ROUTE_MARKERS = {"exc": "o", "syn": "s", "both": "D", "all": "^"}
"""Marker per learning route (E5's learning part)."""
ROUTE_STYLES: dict[str, dict] = {
    "exc": {"color": color("exc"), "ls": "-"},
    "syn": {"color": color("syn_lowrank_r1"), "ls": "--"},
    "both": {"color": color("hybrid"), "ls": "-."},
    "all": {"color": color("none"), "ls": (0, (4, 1.5, 1, 1.5, 1, 1.5))},
}
"""Colour and line style per route: the pathway a route trains (the hybrid's synaptic pathway
is low-rank), the hybrid's for both rows, near-black for every parameter; never colour alone
(line style and :data:`ROUTE_MARKERS` too)."""
THOUSAND = 1000.0
"""Trials are shown in thousands."""


def learning_routes(kids):
    """Left: trials to criterion on the new task per route (log2 axis), one grey line per seed
    joining its routes (paired), open markers where the route never reached criterion (drawn
    at its budget); right: the old tasks' loss per route (parent − child, mean performance).
    ``kids``: :func:`lib.analysis.learning.children`."""
    fig, axes = figure(1, 2, 3.2, 2.6)
    routes = [r for r in ROUTE_MARKERS if r in set(kids.route)]
    x = {r: i for i, r in enumerate(routes)}
    for ax, col, ylab in (
        (axes[0, 0], "log2_trials", "log2 trials to criterion"),
        (axes[0, 1], "interference", "old tasks' loss (before − after)"),
    ):
        for _, g in kids.groupby("seed"):
            g = g.set_index("route").reindex(routes)
            ax.plot([x[r] for r in routes], g[col], color="0.75", lw=0.8, zorder=1)
        for r in routes:
            g = kids[kids.route == r]
            reached = (
                g.reached.astype(bool) if col == "log2_trials" else pd.Series(True, index=g.index)
            )
            ax.scatter(
                [x[r]] * int(reached.sum()),
                g[col][reached],
                marker=ROUTE_MARKERS[r],
                color="k",
                s=22,
                zorder=2,
            )
            ax.scatter(
                [x[r]] * int((~reached).sum()),
                g[col][~reached],
                marker=ROUTE_MARKERS[r],
                facecolors="none",
                edgecolors="k",
                s=22,
                zorder=2,
            )
            m, h = mean_ci(g[col].to_numpy(float))
            ax.errorbar(
                x[r] + 0.18,
                m,
                yerr=h if np.isfinite(h) else None,
                fmt="_",
                color="C3",
                ms=10,
                capsize=2,
                zorder=3,
            )
        ax.set_xticks(range(len(routes)), routes)
        ax.set(xlabel="route (what is trained)", ylabel=ylab)
        if col == "interference":
            ax.axhline(0, color="0.85", lw=0.6, zorder=0)
    axes[0, 0].set_title("speed (open: never at criterion, at budget)", fontsize=FONT_SMALL)
    axes[0, 1].set_title("interference with the old tasks", fontsize=FONT_SMALL)
    return fig


def km_curves(km: pd.DataFrame):
    """Kaplan-Meier curves of learning the new task, one per route: the fraction of seeds not
    yet at criterion, S(t) = 1 − ``fraction``, against trials on the new task (a step at each
    event, the route's marker on it), to the budget. Seeds that never reached criterion are
    right-censored at the budget: one vertical tick on the curve there per route that has any,
    the count in the legend. Where curves coincide, each later route is drawn thinner, with
    smaller markers, over the earlier ones, so every route stays visible.
    ``km``: :func:`lib.analysis.learning.km_table`."""
    fig, axes = figure(1, 1, 5.6, 3.0)
    ax = axes[0, 0]
    censored = learning_analysis.km_censored(km) if len(km) else {}
    for i, route in enumerate(r for r in ROUTE_MARKERS if r in censored):
        lw, ms, z = 3.0 - 0.5 * i, 8.0 - i, 2 + i
        g = km[km.route == route]
        t = g.trials.to_numpy(float) / THOUSAND
        surv = 1 - g.fraction.to_numpy(float)
        c, n = censored[route]
        ax.step(t, surv, where="post", lw=lw, zorder=z, **ROUTE_STYLES[route])
        events = g.reached.to_numpy() > 0
        ax.plot(
            t[events],
            surv[events],
            ls="none",
            marker=ROUTE_MARKERS[route],
            color=ROUTE_STYLES[route]["color"],
            ms=ms,
            zorder=z,
        )
        if c:
            ax.plot(
                t[-1],
                surv[-1],
                ls="none",
                marker="|",
                ms=12,
                mew=2,
                color=ROUTE_STYLES[route]["color"],
            )
        ax.plot(
            [],
            [],
            marker=ROUTE_MARKERS[route],
            ms=ms,
            lw=lw,
            **ROUTE_STYLES[route],
            label=f"{route} ({c} of {n} censored)",
        )
    if not censored:
        _no_data(ax, "no route")
    ax.set_ylim(-0.04, 1.04)
    ax.set_xlim(left=0)
    ax.set_xlabel("trials on the new task (thousands)", fontsize=FONT_SMALL)
    ax.set_ylabel("fraction of seeds\nnot yet at criterion", fontsize=FONT_SMALL)
    ax.tick_params(labelsize=FONT_SMALL)
    ax.plot(
        [], [], ls="none", marker="|", ms=10, mew=2, color="0.3", label="censored at the budget"
    )
    ax.legend(
        title="route",
        fontsize=FONT_SMALL,
        title_fontsize=FONT_SMALL,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        frameon=False,
    )
    return fig


__all__ += ["ROUTE_MARKERS", "ROUTE_STYLES", "learning_routes", "km_curves"]


def trained_under(table: pd.DataFrame):
    """Networks trained under a filter against E1's instant-trained controls, both tested under
    that filter: columns the two costs (:data:`lib.analysis.timescales.COSTS`), one row per
    (network, assignment trained under); in each row every seed is a pair of markers joined by a
    grey line, the control (instant-trained, ×) and the filter-trained network (the assignment's
    marker, the network's colour); the dotted line is no cost. ``table``:
    :func:`lib.analysis.timescales.trained_under_table` (each seed's cost on the comparison's
    conflict pairs)."""
    measures = list(timescales_analysis.COSTS)
    rows = list(dict.fromkeys(zip(table["label"], table["assignment"]))) if len(table) else []
    fig, axes = figure(1, len(measures), 3.0, 0.42 * max(1, len(rows)) + 1.0, sharey="row")
    titles = {m: COST_TITLES[m].format(n=timescales_analysis.ERROR_WINDOW) for m in measures}
    y_of = {r: len(rows) - 1 - k for k, r in enumerate(rows)}
    for col, m in enumerate(measures):
        ax = axes[0, col]
        g = table[table.cost == m] if len(table) else table
        for (lab, a), y in y_of.items():
            sub = g[(g.label == lab) & (g.assignment == a)]
            for _, r in sub.iterrows():
                ax.plot([r.control, r.trained], [y + 0.12, y - 0.12], color="0.7", lw=0.8)
                ax.plot(r.control, y + 0.12, marker="x", color="0.35", ms=5, ls="none")
                ax.plot(
                    r.trained,
                    y - 0.12,
                    marker=ASSIGNMENT_STYLES[a]["marker"],
                    color=color(lab),
                    ms=6,
                    ls="none",
                )
        ax.axvline(0, color="0.4", lw=0.8, ls=":", zorder=0)
        ax.set_title(titles[m], fontsize=FONT_SMALL)
        ax.set_xlabel("reference − performance", fontsize=FONT_SMALL)
        ax.set_ylim(-0.6, max(1, len(rows)) - 0.4)
        ax.set_yticks(
            list(y_of.values()),
            [f"{lab}\ntrained {ASSIGNMENT_NAMES[a]}" for lab, a in y_of],
            fontsize=FONT_SMALL,
        )
        if not rows:
            _no_data(ax, "no comparison")
    fig.legend(
        handles=[
            Line2D([], [], color="0.35", marker="x", ls="none", label="instant-trained (control)"),
            Line2D([], [], color="k", marker="o", ls="none", label="trained under the filter"),
            Line2D([], [], color="0.7", lw=0.8, label="one seed"),
        ],
        loc="outside lower center",
        ncols=3,
        fontsize=FONT_SMALL,
    )
    return fig


__all__ += ["trained_under"]
