"""Figures of the book, one module per chapter; this module holds the shared style.

Every function takes results computed elsewhere in ``lib`` and returns a
``matplotlib.figure.Figure``; none computes results itself.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

FAMILY_COLORS = {
    "none": "0.45",
    "exc_bias": "#9ecae1", "exc_gain": "#4292c6", "exc": "#08519c",
    "syn_prepost": "#fdae6b", "syn_lowrank_r1": "#f16913", "syn_lowrank_r2": "#a63603",
    "syn_mask": "#7f2704",
    "hybrid": "#238b45", "hybrid_frozen_exc": "#74c476", "hybrid_frozen_syn": "#005a32",
}
"""Blues: excitability; oranges: synaptic; greens: hybrid; grey: context-blind."""


def color(label: str) -> str:
    return FAMILY_COLORS.get(label, "k")


def figure(nrows: int = 1, ncols: int = 1, w: float = 4.0, h: float = 3.0, **kw):
    """A figure of ``nrows x ncols`` panels of ``w x h`` inches each (constrained layout)."""
    return plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), layout="constrained",
                        squeeze=False, **kw)
