"""Figures and widgets of chapter E6, the live explorer; views from :mod:`lib.analysis.explorer`.

:func:`draw` draws one setting's three views into three given axes; the static gallery
(:func:`gallery`) and the live widget (:class:`Explorer`) both go through it.
"""

from __future__ import annotations

import io

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from lib.analysis import explorer as explorer_analysis
from lib.core.checks import fail
from lib.core.tasks import DISPLAY_NAMES, N_RING
from lib.plots import FIGURE_WIDTH_IN, FONT, FONT_SMALL, MAX_COLS, figure, split, stamp

TASK_COLORS = ("#0072B2", "#D55E00")
"""Task i and task j of the pair (Okabe-Ito blue and vermillion; also told apart by line style:
task i dashed, task j dotted)."""
TASK_STYLES = ("--", ":")
CRITERION = explorer_analysis.CRITERION
NOISE_SLIDER_MAX = 2.0
"""The largest context-noise s.d. the widget's slider offers (E2 probes up to 1)."""


def _name(task: str) -> str:
    return DISPLAY_NAMES.get(task, task)


def _row(angle: float) -> float:
    """The heatmap row of an answer: ring unit k (angle 2 pi k / 32) is row k + 1; -1 (fixate)
    is row 0, the fixation output."""
    return 0.0 if angle < 0 else 1 + (angle / (2 * np.pi) * N_RING) % N_RING


def draw(view: dict, axes, legend: bool = True, titles: bool = True) -> None:
    """The three views of one setting (:meth:`lib.analysis.explorer.Views.explore`) into
    ``axes`` = (outputs, performance, state space):

    1. the trial's outputs over time: fixation (bottom row) and the 32 ring units, with the answers
       of task i (dashed) and task j (dotted) marked;
    2. performance of task i on its trials and of task j on its trials under this context (bars),
       each under its own context (diamonds), and the criterion 0.9;
    3. the trial's state in the first two PCs of the pair's clean activity (thick), with the same
       trial under pure e_i and pure e_j (thin).
    """
    ax_out, ax_perf, ax_pc = axes
    a, b = view["pair"]
    y = np.asarray(view["y_hat"])
    T = y.shape[0]
    ax_out.imshow(
        y.T,
        aspect="auto",
        origin="lower",
        cmap="Greys",
        vmin=0,
        vmax=1,
        extent=(0, T, -0.5, N_RING + 0.5),
        interpolation="nearest",
    )
    ax_out.axhline(0.5, color="w", lw=1.5)
    ax_out.axvline(view["onset"], color="0.5", lw=0.8, ls="-")
    for k, (task, ang) in enumerate(((a, view["target_i"]), (b, view["target_j"]))):
        if ang is None:
            continue
        ax_out.axhline(
            _row(ang),
            color=TASK_COLORS[k],
            ls=TASK_STYLES[k],
            lw=1.4,
            label=f"{_name(task)} answer" + (" (fixate)" if ang < 0 else ""),
        )
    ax_out.set_yticks(
        [0, 1, 1 + N_RING / 4, 1 + N_RING / 2, 1 + 3 * N_RING / 4],
        ["fix", "0", "π/2", "π", "3π/2"],
        fontsize=FONT_SMALL,
    )
    ax_out.set_xlim(0, T)
    ax_out.tick_params(labelsize=FONT_SMALL)
    ax_out.set_xlabel("time step", fontsize=FONT_SMALL)

    perf = [view["perf_i"], view["perf_j"]]
    ax_perf.bar([0, 1], perf, color=TASK_COLORS, hatch=["", "//"], edgecolor="k", lw=0.5, width=0.6)
    ax_perf.plot(
        [0, 1],
        [view["clean_i"], view["clean_j"]],
        "D",
        color="w",
        mec="k",
        ms=5,
        label="own context",
    )
    ax_perf.axhline(CRITERION, color="0.4", ls="--", lw=0.8, label="criterion")
    for x, p in enumerate(perf):
        ax_perf.text(
            x, min(p + 0.03, 1.02), f"{p:.2f}", ha="center", va="bottom", fontsize=FONT_SMALL
        )
    ax_perf.set_xticks([0, 1], [_name(a), _name(b)], fontsize=FONT_SMALL)
    ax_perf.set_ylim(0, 1.12)
    ax_perf.set_xlim(-0.6, 1.6)
    ax_perf.tick_params(labelsize=FONT_SMALL)
    ax_perf.set_ylabel("performance", fontsize=FONT_SMALL)

    for k, key in enumerate(("ref_i", "ref_j")):
        ref = np.asarray(view[key])
        ax_pc.plot(
            ref[:, 0],
            ref[:, 1],
            color=TASK_COLORS[k],
            ls=TASK_STYLES[k],
            lw=1,
            label=f"pure {_name((a, b)[k])} context",
        )
    traj = np.asarray(view["traj"])
    ax_pc.plot(traj[:, 0], traj[:, 1], color="k", lw=1.8, label="this context")
    ax_pc.plot(*traj[0], "o", color="k", ms=4)
    ax_pc.plot(*traj[-1], "s", color="k", ms=4)
    ve = np.asarray(view["var_explained"]) * 100
    ax_pc.set_xlabel(f"PC 1 ({ve[0]:.0f}%)", fontsize=FONT_SMALL)
    ax_pc.set_ylabel(f"PC 2 ({ve[1]:.0f}%)", fontsize=FONT_SMALL)
    ax_pc.tick_params(labelsize=FONT_SMALL)
    if titles:
        who = f"{view['label']} seed {view['seed']}: " if "label" in view else ""
        ax_out.set_title(
            f"{who}{_name(a)} trial {view['trial']} → {view['outcome']}", fontsize=FONT_SMALL
        )
        ax_perf.set_title(
            f"λ = {view['lam']:.2f}, noise s.d. {view['noise']:.2f}", fontsize=FONT_SMALL
        )
        ax_pc.set_title("state in the pair's PC plane", fontsize=FONT_SMALL)
    if legend:
        ax_out.legend(fontsize=FONT_SMALL, loc="upper left", framealpha=0.8)
        ax_perf.legend(fontsize=FONT_SMALL, loc="upper right", framealpha=0.8)
        ax_pc.legend(fontsize=FONT_SMALL, loc="best", framealpha=0.8)


def _grid(nrows: int, ncols: int, w: float = 1.75, h: float = 1.35, **kw):
    """A grid of panels with fixed spacing: the gallery's figures hold dozens of small axes,
    where constrained layout would double the drawing time."""
    w = min(w, (FIGURE_WIDTH_IN - 0.6) / ncols)  # the whole grid within the page's column
    W, H = w * ncols + 0.6, h * nrows + 1.2
    fig, axes = plt.subplots(nrows, ncols, figsize=(W, H), squeeze=False, **kw)
    stamp(fig)
    fig.subplots_adjust(
        left=0.6 / W, right=1 - 0.1 / W, bottom=0.65 / H, top=1 - 0.7 / H, wspace=0.45, hspace=0.45
    )
    return fig, axes


VIEW_NAMES = ("the trial's outputs", "performance of both tasks", "the trial's state (PC 1-2)")


def gallery(views: dict, labels, lambdas) -> list:
    """The static page's grid: three figures (outputs, performance, state), rows = pathways,
    columns = mixture weights, every panel drawn by :func:`draw` from ``views[(label, lam)]``.
    At most :data:`lib.plots.MAX_COLS` mixture weights side by side: more wrap into further
    blocks of rows (every pathway again, the weights continuing; :func:`lib.plots.split`)."""
    blocks = split(lambdas, MAX_COLS)
    n_cols, n_lab = max(len(b) for b in blocks), len(labels)
    figs = [_grid(n_lab * len(blocks), n_cols, sharex=k == 1) for k in range(3)]
    for i, block in enumerate(blocks):
        for r, lab in enumerate(labels):
            row = i * n_lab + r
            for c in range(len(block), n_cols):  # the last block's empty columns
                for _, axes in figs:
                    axes[row, c].set_visible(False)
            for c, lam in enumerate(block):
                view = views[lab, lam]
                draw(view, [f[1][row, c] for f in figs], legend=False, titles=False)
                for k, (_, axes) in enumerate(figs):
                    ax = axes[row, c]
                    if r == 0:
                        ax.set_title(f"λ = {lam:g}", fontsize=FONT_SMALL)
                    if c == 0:
                        ax.set_ylabel(lab, fontsize=FONT_SMALL)
                    else:
                        ax.set_ylabel("")
                    if k == 0:
                        ax.text(
                            0.97,
                            0.06,
                            view["outcome"],
                            transform=ax.transAxes,
                            fontsize=FONT_SMALL,
                            ha="right",
                            va="bottom",
                            bbox={"fc": "w", "ec": "none", "alpha": 0.8, "pad": 1},
                        )
                    if r < n_lab - 1:
                        ax.set_xlabel("")
                    elif k == 2:  # each network has its own PCs: no shared variance figure
                        ax.set_xlabel("PC 1", fontsize=FONT_SMALL)
    a, b = next(iter(views.values()))["pair"]
    seed = next(iter(views.values())).get("seed")
    for name, (fig, axes) in zip(VIEW_NAMES, figs):
        fig.suptitle(
            f"{_name(a)} / {_name(b)}, c = (1-λ) e_{_name(a)} + λ e_{_name(b)}: "
            f"{name} (seed {seed})",
            fontsize=FONT,
            y=1 - 0.12 / fig.get_figheight(),
            va="top",
        )
    handles = [
        plt.Line2D(
            [],
            [],
            color=TASK_COLORS[k],
            ls=TASK_STYLES[k],
            label=f"{_name(t)} answer / pure {_name(t)} context",
        )
        for k, t in enumerate((a, b))
    ]
    for fig, _ in (figs[0], figs[2]):
        fig.legend(
            handles=handles
            + (
                [plt.Line2D([], [], color="k", lw=1.8, label="the mixed context")]
                if fig is figs[2][0]
                else []
            ),
            loc="lower center",
            ncols=3,
            fontsize=FONT_SMALL,
            frameon=False,
        )
    return [f for f, _ in figs]


IMAGE_DPI = 90
"""Resolution of the explorer's views (PNG sent to the Image widget on every change)."""


class Explorer:
    """The live explorer of trained networks {(label, seed): TrainResult}: widgets for the
    pathway (variant label), the conflict pair (one of ``pairs``, default every one present), the
    mixture weight λ, the context-noise s.d., the seed and the trial shown; every change redraws
    the three views (:func:`draw`).

    ``.widgets`` {name: widget}; ``.update(**values)`` sets any of ``variant``, ``pair``, ``lam``,
    ``noise``, ``seed``, ``trial`` (validated: a bad value raises ``ValueError`` naming it and
    leaves the state as it was), redraws, and returns the view drawn (also ``.view``);
    ``.figure``, ``.axes`` the figure it draws into. Displaying the object shows the widgets
    (they respond only with a running kernel).
    """

    NAMES = ("variant", "pair", "lam", "noise", "seed", "trial")

    def __init__(self, nets: dict, pairs=None, **values):
        self.views = explorer_analysis.Views(nets)
        present = self.views.pairs
        self.pairs = (
            present
            if pairs is None
            else [explorer_analysis.check_pair("pairs", p, present) for p in pairs]
        )
        if not self.pairs:
            fail("pairs", pairs, "at least one of " + ", ".join(map(str, present)))
        n_trials = next(iter(nets.values())).config.eval_trials
        self.widgets = {
            "variant": W.Dropdown(options=self.views.labels, description="pathway"),
            "pair": W.Dropdown(
                options=[(f"{_name(a)} / {_name(b)}", (a, b)) for a, b in self.pairs],
                description="task pair",
            ),
            "lam": W.FloatSlider(
                value=0.0,
                min=0.0,
                max=1.0,
                step=0.05,
                description="λ",
                continuous_update=False,
                readout_format=".2f",
            ),
            "noise": W.FloatSlider(
                value=0.0,
                min=0.0,
                max=NOISE_SLIDER_MAX,
                step=0.05,
                description="noise s.d.",
                continuous_update=False,
                readout_format=".2f",
            ),
            "seed": W.Dropdown(options=self.views.seeds, description="seed"),
            "trial": W.IntSlider(
                value=0, min=0, max=n_trials - 1, description="trial", continuous_update=False
            ),
        }
        # The views are shown as a PNG in an Image widget, not through an Output widget: an Output
        # widget captured during a cell makes nbclient (papermill, jupyter-book) send comm
        # messages on the shell channel while it awaits the cell's reply there, which can stall
        # the run until its execution timeout (jupyter/nbclient#312).
        self.image = W.Image(format="png")
        self.figure, axes = figure(1, 3, 3.3, 2.7)
        self.axes = list(axes[0])
        plt.close(self.figure)  # drawn into the Image widget only, never auto-shown
        self.view: dict | None = None
        self._holding = False
        for w in self.widgets.values():
            w.observe(self._changed, names="value")
        self.box = W.VBox(
            [
                W.HBox([self.widgets[n] for n in ("variant", "pair", "seed")]),
                W.HBox([self.widgets[n] for n in ("lam", "noise", "trial")]),
                self.image,
            ]
        )
        self.update(**values)

    def values(self) -> dict:
        return {n: w.value for n, w in self.widgets.items()}

    def _check(self, values: dict) -> dict:
        unknown = sorted(set(values) - set(self.NAMES))
        if unknown:
            fail("update", unknown, "names among " + ", ".join(self.NAMES))
        new = {**self.values(), **values}
        if new["variant"] not in self.views.labels:
            fail("variant", new["variant"], "one of " + ", ".join(map(repr, self.views.labels)))
        new["pair"] = explorer_analysis.check_pair("pair", new["pair"], self.pairs)
        new["lam"] = explorer_analysis.check_unit("lam", new["lam"])
        noise = new["noise"]
        if (
            isinstance(noise, bool)
            or not isinstance(noise, (int, float, np.number))
            or not 0 <= noise <= NOISE_SLIDER_MAX
        ):
            fail("noise", noise, f"a number in [0, {NOISE_SLIDER_MAX:g}]")
        if new["seed"] not in self.views.seeds or isinstance(new["seed"], bool):
            fail("seed", new["seed"], "one of " + ", ".join(map(str, self.views.seeds)))
        new["trial"] = explorer_analysis.check_trial(
            "trial", new["trial"], self.widgets["trial"].max + 1
        )
        return new

    def update(self, **values) -> dict:
        """Set the given values (validated), redraw and return the view drawn."""
        new = self._check(values)
        self._holding = True
        try:
            for n, v in new.items():
                if self.widgets[n].value != v:
                    self.widgets[n].value = v
        finally:
            self._holding = False
        self.view = self.views.explore(
            new["variant"], new["seed"], new["pair"], new["lam"], float(new["noise"]), new["trial"]
        )
        for ax in self.axes:
            ax.clear()
        draw(self.view, self.axes)
        self.figure.suptitle(
            f"{self.view['label']} (seed {self.view['seed']}): "
            f"c = {1 - self.view['lam']:.2f} e_{_name(self.view['pair'][0])} + "
            f"{self.view['lam']:.2f} e_{_name(self.view['pair'][1])}"
            + (f" + {self.view['noise']:.2f} η" if self.view["noise"] else ""),
            fontsize=FONT,
        )
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=IMAGE_DPI)
        self.image.value = buffer.getvalue()
        return self.view

    def _changed(self, change) -> None:
        if not self._holding:
            self.update()

    def _ipython_display_(self) -> None:
        display(self.box)


__all__ = ["TASK_COLORS", "draw", "gallery", "Explorer", "NOISE_SLIDER_MAX", "VIEW_NAMES"]
