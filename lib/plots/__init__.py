"""Figures of the book, one module per chapter; this module holds the shared style.

Every function takes results computed elsewhere in ``lib`` and returns a
``matplotlib.figure.Figure``; none computes results itself.

Every variant has its own colour, marker and line style (:func:`style`), so no figure relies on
colour alone. The colours are qualitative and colour-blind safe (Okabe & Ito's set and Paul Tol's
"muted" set) and keep a family cue: blues for excitability, orange / red / purple hues for the
synaptic pathways, greens (and a dark brown) for the hybrid and its ablations, near-black for the
context-blind ``none``. Every pair of them stays apart, in CIE Lab, for normal vision and under
simulated deuteranopia and protanopia (``tests/test_plots.py`` checks it).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb

FAMILY_COLORS = {
    "none": "#2b2b2b",
    "exc_bias": "#56B4E9", "exc_gain": "#332288", "exc": "#0072B2",
    "syn_prepost": "#E69F00", "syn_lowrank_r1": "#D55E00", "syn_lowrank_r2": "#882255",
    "syn_mask": "#CC79A7",
    "hybrid": "#009E73", "hybrid_frozen_exc": "#661100", "hybrid_frozen_syn": "#117733",
    "exc_gain_rec": "#2211FF", "syn_prepost_in": "#BBAA55",
}
"""One colour per variant. Blues: excitability (sky blue bias, indigo gain, blue both); orange,
vermillion, wine and reddish purple: synaptic; bluish green: hybrid (its frozen-pathway
ablations: dark brown where only the synaptic part learned, dark green where only the
excitability part did); near-black: context-blind. The two controls of
:data:`lib.experiments.battery.CONTROLS`: a vivid blue (``exc_gain_rec``) and khaki
(``syn_prepost_in``), the only hues left that stay apart from all the others. Every colour has a contrast of at least 2.2
against white (the light sequential blue it replaces had 1.75)."""

MARKERS = {
    "none": "X",
    "exc_bias": "o", "exc_gain": "s", "exc": "D",
    "syn_prepost": "^", "syn_lowrank_r1": "v", "syn_lowrank_r2": "<", "syn_mask": ">",
    "hybrid": "P", "hybrid_frozen_exc": "p", "hybrid_frozen_syn": "h",
    "exc_gain_rec": "8", "syn_prepost_in": "*",
}
"""One marker per variant: round/square shapes for excitability, triangles for synaptic, pluses
and polygons for the hybrid, a cross for ``none``."""

FAMILY_LINESTYLES = {"none": (0, (4, 1.5, 1, 1.5, 1, 1.5)), "exc": "-", "syn": "--",
                     "hybrid": "-."}
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


def figure(nrows: int = 1, ncols: int = 1, w: float = 4.0, h: float = 3.0, **kw):
    """A figure of ``nrows x ncols`` panels of ``w x h`` inches each (constrained layout)."""
    return plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), layout="constrained",
                        squeeze=False, **kw)
