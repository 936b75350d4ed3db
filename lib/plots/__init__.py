"""Figures of the book, one module per chapter; this module holds the shared style.

Every function takes results computed elsewhere in ``lib`` and returns a
``matplotlib.figure.Figure``; none computes results itself.

Every figure is made for the page's text column (:data:`COLUMN_PX` px at the notebook's
:data:`NOTEBOOK_DPI`): :func:`figure` keeps a figure within :data:`PAGE_WIDTH_IN` inches, the
font sizes (:data:`RC`, :data:`FONT_SMALL` the smallest any text uses) keep every label at least
:data:`MIN_TEXT_PX` pixels high as displayed, and :func:`legibility` measures a finished figure
(width, smallest text as displayed, panels per row). Each figure's PNG carries that measure
(:data:`STAMP_KEY` in its text chunk), which ``scripts/check_book.py`` reads beside the size the
browser shows it at.

Every variant has its own colour, marker and line style (:func:`style`), so no figure relies on
colour alone. The colours are qualitative and colour-blind safe (Okabe & Ito's set and Paul Tol's
"muted" set) and keep a family cue: blues for excitability, orange / red / purple hues for the
synaptic pathways, greens (and a dark brown) for the hybrid and its ablations, near-black for the
context-blind ``none``. Every pair of them stays apart, in CIE Lab, for normal vision and under
simulated deuteranopia and protanopia (``tests/test_plots.py`` checks it).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text

COLUMN_PX = 750
"""Width of the book's text column in CSS pixels: a wider image is shrunk to it."""
NOTEBOOK_DPI = 100
"""Dots per inch of a figure as the notebook's inline backend prints it (matplotlib's
``figure.dpi``; the backend does not change it)."""
PAGE_WIDTH_IN = COLUMN_PX / NOTEBOOK_DPI
"""The widest figure, in inches, that is shown at its own size (7.5 in)."""
MIN_TEXT_PX = 9.0
"""Smallest text height a reader is asked to read, in displayed pixels (font size in px: the
body's footnotes are larger)."""
FONT_SMALL = 8.0
"""The smallest font size (pt) any text of a figure uses: 11 px at :data:`NOTEBOOK_DPI`."""
FONT = 9.0
"""Labels and titles (pt)."""
FONT_TITLE = 10.0
"""Figure titles (pt)."""
MAX_COLS = 4
"""At most this many panels side by side (about 190 px each at the column width)."""
PER_FIGURE = 12
"""At most this many panels of one kind per figure (three rows of :data:`MAX_COLS`); more are
split over several figures (:func:`split`)."""
RC = {
    "figure.dpi": NOTEBOOK_DPI,
    "font.size": FONT,
    "axes.titlesize": FONT,
    "axes.labelsize": FONT,
    "xtick.labelsize": FONT_SMALL,
    "ytick.labelsize": FONT_SMALL,
    "legend.fontsize": FONT_SMALL,
    "legend.title_fontsize": FONT_SMALL,
    "figure.titlesize": FONT_TITLE,
    "figure.labelsize": FONT,
}
"""matplotlib settings of every figure of the book (set when :mod:`lib.plots` is imported)."""
plt.rcParams.update(RC)
TIGHT_PAD_IN = 0.1
"""The inline backend saves a figure's tight box padded by this much on every side (inches)."""
FIGURE_WIDTH_IN = PAGE_WIDTH_IN - 2 * TIGHT_PAD_IN
"""The widest figure :func:`figure` makes: printed with its padding, it fits the column."""
STAMP_KEY = "lib.plots"
"""Key of the PNG text chunk with a figure's :class:`Legibility` (JSON)."""

FAMILY_COLORS = {
    "none": "#2b2b2b",
    "exc_bias": "#56B4E9",
    "exc_gain": "#332288",
    "exc": "#0072B2",
    "syn_prepost": "#E69F00",
    "syn_lowrank_r1": "#D55E00",
    "syn_lowrank_r2": "#882255",
    "syn_mask": "#CC79A7",
    "hybrid": "#009E73",
    "hybrid_frozen_exc": "#661100",
    "hybrid_frozen_syn": "#117733",
    "exc_gain_rec": "#2211FF",
    "syn_prepost_in": "#BBAA55",
}
"""One colour per variant. Blues: excitability (sky blue bias, indigo gain, blue both); orange,
vermillion, wine and reddish purple: synaptic; bluish green: hybrid (its frozen-pathway
ablations: dark brown where only the synaptic part learned, dark green where only the
excitability part did); near-black: context-blind. The two controls of
:data:`lib.experiments.battery.CONTROLS`: a vivid blue (``exc_gain_rec``) and khaki
(``syn_prepost_in``), the only hues left that stay apart from all the others. Every colour has
a contrast of at least 2.2
against white (the light sequential blue it replaces had 1.75)."""

MARKERS = {
    "none": "X",
    "exc_bias": "o",
    "exc_gain": "s",
    "exc": "D",
    "syn_prepost": "^",
    "syn_lowrank_r1": "v",
    "syn_lowrank_r2": "<",
    "syn_mask": ">",
    "hybrid": "P",
    "hybrid_frozen_exc": "p",
    "hybrid_frozen_syn": "h",
    "exc_gain_rec": "8",
    "syn_prepost_in": "*",
}
"""One marker per variant: round/square shapes for excitability, triangles for synaptic, pluses
and polygons for the hybrid, a cross for ``none``."""

FAMILY_LINESTYLES = {"none": (0, (4, 1.5, 1, 1.5, 1, 1.5)), "exc": "-", "syn": "--", "hybrid": "-."}
"""Line style per family: solid excitability, dashed synaptic, dash-dot hybrid, dash-dot-dot
none (a plain dotted line is the criterion in every figure)."""


def family(label: str) -> str:
    """The family of a variant label: "none", "exc", "syn" or "hybrid"."""
    for fam in ("none", "exc", "syn", "hybrid"):
        if label.startswith(fam):
            return fam
    return "none"


def color(label: str) -> str:
    return FAMILY_COLORS.get(label, "k")


def marker(label: str) -> str:
    return MARKERS.get(label, "o")


def style(label: str, line: bool = True) -> dict:
    """Keyword arguments that draw a variant: its colour and marker, and (``line``) its family's
    line style, e.g. ``ax.plot(x, y, **style("exc"), markevery=5)``."""
    kw = {"color": color(label), "marker": marker(label)}
    if line:
        kw["ls"] = FAMILY_LINESTYLES[family(label)]
    return kw


def luminance(c) -> float:
    """Relative luminance (WCAG, 0 black to 1 white) of a matplotlib colour."""
    lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in to_rgb(c)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_color(background) -> str:
    """Black or white, whichever contrasts more with ``background`` (text on heatmap cells)."""
    lum = luminance(background)
    return "k" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "w"


def empty_panel(ax, text: str) -> None:
    """Mark a panel that has nothing to show: ``text`` in grey at its centre, no ticks."""
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=FONT_SMALL,
        color="0.4",
        wrap=True,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def mean_marker(ax, mean: float, y: float, half: float | None, label: str) -> None:
    """A variant's mean over seeds as a diamond in its colour at row ``y``, with its interval
    (half width ``half``; none where it is not finite or ``None``) as error bars."""
    ax.errorbar(
        mean,
        y,
        xerr=half if half is not None and math.isfinite(half) else None,
        fmt="D",
        color=color(label),
        ms=6,
        capsize=3,
        mec="k",
        mew=0.5,
    )


def variant_rows(ax, labels) -> None:
    """One row per variant label, the first at the top."""
    ax.set_yticks(range(len(labels)), labels, fontsize=FONT_SMALL)
    ax.set_ylim(len(labels) - 0.5, -0.5)


def figure(nrows: int = 1, ncols: int = 1, w: float = 4.0, h: float = 3.0, **kw):
    """A figure of ``nrows x ncols`` panels of ``w x h`` inches each (constrained layout),
    shrunk as a whole (aspect kept) to at most :data:`FIGURE_WIDTH_IN` wide, and stamped
    (:func:`stamp`). Returns ``(fig, axes)`` with ``axes`` 2-D."""
    shrink = min(1.0, FIGURE_WIDTH_IN / (w * ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(w * ncols * shrink, h * nrows * shrink),
        layout="constrained",
        squeeze=False,
        **kw,
    )
    stamp(fig)
    return fig, axes


def split(labels, per_figure: int = PER_FIGURE) -> list[list]:
    """``labels`` in order, cut into as few groups of at most ``per_figure`` as possible, of
    nearly equal sizes (14 labels, 12 per figure: 7 and 7): one figure per group."""
    labels = list(labels)
    if per_figure < 1:
        raise ValueError(f"per_figure={per_figure!r} is not allowed; expected a whole number >= 1")
    n = max(1, math.ceil(len(labels) / per_figure))
    size = math.ceil(len(labels) / n) if labels else 0
    return [labels[i : i + size] for i in range(0, len(labels), size)] if labels else [[]]


@dataclass(frozen=True)
class Legibility:
    """How a figure reads on the page: ``width_in`` and ``height_in`` (its printed size, tight
    box), ``width_px`` at :data:`NOTEBOOK_DPI`, ``scale`` = displayed / printed width (1 when it
    fits the column), ``min_font_pt`` of its visible text, ``min_text_px`` =
    min_font_pt / 72 * dpi * scale (the smallest text as displayed), and ``panels_per_row``
    (most axes side by side, colour bars not counted), ``overlaps`` (labels that collide:
    titles, axis labels and tick labels of different panels, figure titles; :func:`overlaps`)."""

    width_in: float
    height_in: float
    width_px: float
    scale: float
    min_font_pt: float
    min_text_px: float
    panels_per_row: int
    overlaps: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        """What keeps a reader from reading it (empty when nothing does)."""
        out = []
        if self.min_text_px < MIN_TEXT_PX:
            out.append(
                f"smallest text {self.min_text_px:.1f} px as displayed (< {MIN_TEXT_PX:g} "
                f"px: {self.min_font_pt:g} pt at {self.width_px:.0f} px shown at "
                f"{self.scale:.0%})"
            )
        if self.panels_per_row > MAX_COLS:
            out.append(f"{self.panels_per_row} panels side by side (> {MAX_COLS})")
        if self.overlaps:
            out.append(f"{len(self.overlaps)} colliding labels, e.g. {self.overlaps[0]}")
        return out


def _texts(fig: Figure) -> list[Text]:
    """The visible, non-empty texts a reader sees (tick labels included)."""
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        parent = t.axes
        if parent is not None and not parent.get_visible():
            continue
        out.append(t)
    return out


OVERLAP_PX = 0.5
"""Two labels collide when their boxes overlap by more than this many pixels both ways (boxes
that only touch read as one run of text too, so any real overlap counts)."""


def _labels(fig: Figure) -> list[tuple[object, Text]]:
    """(owner, text) of the labels a reader must tell apart: figure titles and texts (owner the
    figure), each visible panel's title, axis labels and tick labels (owner the panel)."""
    out: list[tuple[object, Text]] = [
        (fig, t) for t in (fig._suptitle, fig._supxlabel, fig._supylabel) if t is not None
    ]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        if ax.axison:  # the tick labels drawn (within the view limits), not every located one
            texts += [
                label
                for axis in (ax.xaxis, ax.yaxis)
                for tick in axis._update_ticks()
                for label in (tick.label1, tick.label2)
            ]
        out += [(ax, t) for t in texts]
    return [(o, t) for o, t in out if t.get_visible() and t.get_text().strip()]


def overlaps(fig: Figure, renderer=None) -> tuple[str, ...]:
    """Labels of different owners (:func:`_labels`) whose boxes overlap by more than
    :data:`OVERLAP_PX` both ways: "'a' / 'b'" for each such pair (the figure must have been
    drawn)."""
    renderer = renderer or fig.canvas.get_renderer()
    boxes = [(o, t, t.get_window_extent(renderer)) for o, t in _labels(fig)]
    found = []
    for i, (o1, t1, b1) in enumerate(boxes):
        for o2, t2, b2 in boxes[i + 1 :]:
            if o1 is o2:
                continue
            w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
            h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
            if w > OVERLAP_PX and h > OVERLAP_PX:
                found.append(f"{t1.get_text()!r} / {t2.get_text()!r}")
    return tuple(found)


def _panels_per_row(fig: Figure) -> int:
    """Most visible axes (colour bars and hidden panels left out) whose vertical extents overlap
    the middle of one of them."""
    boxes = [
        ax.get_position()
        for ax in fig.axes
        if ax.get_visible() and ax.axison and not hasattr(ax, "_colorbar")
    ]
    return max((sum(b.y0 <= (a.y0 + a.y1) / 2 <= b.y1 for b in boxes) for a in boxes), default=0)


def legibility(fig: Figure, dpi: float = NOTEBOOK_DPI) -> Legibility:
    """Measure a finished figure as the page shows it (draws it once; see :class:`Legibility`).
    The printed box is the tight bounding box (what the inline backend saves) at ``dpi``."""
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    box = fig.get_tightbbox(renderer)
    pad = TIGHT_PAD_IN
    width_in, height_in = box.width + 2 * pad, box.height + 2 * pad
    width_px = width_in * dpi
    scale = min(1.0, COLUMN_PX / width_px)
    sizes = [t.get_fontsize() for t in _texts(fig)]
    min_pt = float(min(sizes)) if sizes else float("nan")
    return Legibility(
        round(float(width_in), 3),
        round(float(height_in), 3),
        round(float(width_px), 1),
        round(float(scale), 4),
        min_pt,
        round(float(min_pt / 72 * dpi * scale), 2) if sizes else float("inf"),
        int(_panels_per_row(fig)),
        overlaps(fig, renderer),
    )


def stamped_problems(png: bytes) -> list[str] | None:
    """What keeps a reader from reading a printed figure, from the :data:`STAMP_KEY` its PNG
    carries (:func:`stamp`): :meth:`Legibility.problems` at the column width; None if the PNG
    has no stamp (not made by :mod:`lib.plots`)."""
    import io

    from PIL import Image

    text = Image.open(io.BytesIO(png)).info.get(STAMP_KEY)
    if text is None:
        return None
    m = json.loads(text)
    # the notebook shows a figure at NOTEBOOK_DPI CSS px per inch whatever its print dpi (a
    # "retina" PNG has twice the pixels and is shown at half), at most the column's width
    width_px = m["width_in"] * NOTEBOOK_DPI
    scale = min(1.0, COLUMN_PX / width_px)
    measure = Legibility(
        m["width_in"],
        m["height_in"],
        width_px,
        scale,
        m["min_font_pt"],
        m["min_font_pt"] / 72 * NOTEBOOK_DPI * scale,
        m["panels_per_row"],
    )
    found = measure.problems()
    if m.get("overlaps"):
        found.append(f"{m['overlaps']} colliding labels")
    return found


def stamp(fig: Figure) -> Figure:
    """Make every PNG printed from ``fig`` (the inline backend's, ``savefig``'s) carry its
    :func:`legibility`, measured at print time, in the text chunk :data:`STAMP_KEY` (JSON)."""
    canvas = fig.canvas
    original = type(canvas).print_figure

    @functools.wraps(original)
    def print_figure(*args, **kw):
        fmt = str(kw.get("format") or "png").lower()
        if fmt == "png" and "metadata" not in kw:
            dpi = kw.get("dpi")
            dpi = fig.dpi if dpi in (None, "figure") else float(dpi)
            measure = asdict(legibility(fig, fig.dpi))
            measure["dpi"] = dpi
            measure["overlaps"] = len(measure["overlaps"])
            kw["metadata"] = {STAMP_KEY: json.dumps(measure)}
        return original(canvas, *args, **kw)

    canvas.print_figure = print_figure
    return fig
