"""Smoke tests of the task and model chapters' figures: each returns a Figure (the budget table a
Styler) on small inputs, and rejects empty ones."""

import re
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from lib import plots
from lib.analysis import anatomy
from lib.core import reference
from lib.core import tasks as yang_tasks
from lib.core.model import ModulatedRNN
from lib.experiments.battery import ABLATIONS, VARIANTS
from lib.plots import model as model_plots
from lib.plots import tasks as tasks_plots


def test_trial_grid():
    batches = reference.example_batches(["fdgo", "contextdm1", "dmsnogo"], 0, 2)
    assert isinstance(tasks_plots.trial_grid(batches, trial=1, title="t"), Figure)
    with pytest.raises(ValueError, match="batches"):
        tasks_plots.trial_grid({})


def test_condition_figures():
    stats = reference.condition_stats(["fdgo", "dm1", "delaydm1", "dmsgo"], 16, 0)
    assert isinstance(tasks_plots.condition_distributions(stats), Figure)
    assert isinstance(tasks_plots.ring_use(stats), Figure)
    only_go = reference.condition_stats(["fdgo", "reactanti"], 16, 0)  # no DM, no matching
    assert isinstance(tasks_plots.condition_distributions(only_go), Figure)
    with pytest.raises(ValueError, match="empty"):
        tasks_plots.condition_distributions(stats.iloc[:0])


@pytest.fixture(scope="module")
def nets():
    out = {}
    for mech in ("exc", "syn_prepost", "hybrid"):
        net = ModulatedRNN(mech, 8, 2, seed=0)
        with torch.no_grad():
            for p in net.modulation_parameters():
                p.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
        out[mech] = net
    return out


def _row_backgrounds(styler) -> dict[int, set[str]]:
    """Row number -> the background colours its cells get in the rendered HTML."""
    html = styler.to_html()
    out: dict[int, set[str]] = {}
    for selectors, colour in re.findall(r"([^{}]+)\{\s*background-color: ([^;]+);", html):
        for row in re.findall(r"_row(\d+)_col\d+", selectors):
            out.setdefault(int(row), set()).add(colour.strip())
    return out


def test_budget_table_shades_matched_rows_of_equal_budget_alike():
    # planted: a and b matched with equal budgets, c and e matched with another budget, d unmatched
    # with a's budget: a/b share one colour, c/e another, d none; numbers get thousands separators
    df = pd.DataFrame(
        {
            "mechanism": list("vwxyz"),
            "N = 64": [1000, 1000, 5, 1000, 5],
            "N = 128": [2000, 2000, 9, 2000, 9],
            "matched with": ["b", "a", "e", "", "c"],
        },
        index=list("abcde"),
    )
    styler = model_plots.budget_table(df)
    assert isinstance(styler, Styler)
    shades = _row_backgrounds(styler)
    assert set(shades) == {0, 1, 2, 4}  # d (row 3) is unmatched: no background
    assert all(len(c) == 1 for c in shades.values())
    assert shades[0] == shades[1] and shades[2] == shades[4] and shades[0] != shades[2]
    html = styler.to_html()
    assert "1,000" in html and "2,000" in html and ">v<" not in html  # mechanism column dropped
    # the real table: every matched group shares one colour, unmatched rows have none
    real = anatomy.budget_table(ns=(4, 8), ranks=(1, 2))
    shades = _row_backgrounds(model_plots.budget_table(real))
    matched = [i for i, lab in enumerate(real.index) if real.at[lab, "matched with"]]
    assert sorted(shades) == matched


def test_mixture_figures(nets):
    ls = np.linspace(0, 1, 3)
    paths = {k: anatomy.mixture_path(n, 0, 1, ls) for k, n in nets.items()}
    fig = model_plots.mixture_modulation(paths, ("fdgo", "fdanti"))
    # the top row draws, per modulated quantity, one line per network that modulates it, through
    # the analysis's relative distances (exc has no W(c), syn_prepost no gain or bias)
    modulating = {
        "gain": {"exc", "hybrid"},
        "bias": {"exc", "hybrid"},
        "W": {"syn_prepost", "hybrid"},
    }
    for ax, quantity in zip(fig.axes[:3], ("gain", "bias", "W")):
        lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
        assert set(lines) == modulating[quantity]
        for label, line in lines.items():
            path = paths[label][paths[label].quantity == quantity]
            np.testing.assert_allclose(line.get_xdata(), ls)
            np.testing.assert_allclose(line.get_ydata(), path["relative"])
    b = yang_tasks.make_batch("fdgo", 1, 0, noise=False)
    demos = {k: anatomy.mixture_outputs(n, b, 0, 1, ls, task_j="fdanti") for k, n in nets.items()}
    assert isinstance(model_plots.mixture_outputs(demos, ("fdgo", "fdanti")), Figure)
    tv = anatomy.time_varying(nets["hybrid"], b, 0, 1, b.x.shape[0] // 2)
    assert isinstance(model_plots.time_varying(tv, ("fdgo", "fdanti"), "hybrid"), Figure)
    for fn in (model_plots.mixture_modulation, model_plots.mixture_outputs):
        with pytest.raises(ValueError):
            fn({}, ("fdgo", "fdanti"))


# --- the shared palette: every variant distinguishable, also under colour-vision deficiency ---

# Machado, Oliveira & Fernandes (2009), severity 1, on linear sRGB
_DEUTAN = np.array(
    [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]
)
_PROTAN = np.array(
    [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ]
)
MIN_DELTA_E = 15.0
"""Smallest CIE76 distance (CIE Lab) allowed between two variants' colours."""


def _lab(colour, sim=np.eye(3)) -> np.ndarray:
    """CIE Lab (D65) of a matplotlib colour, after the linear-RGB simulation matrix ``sim``."""
    c = np.asarray(to_rgb(colour))
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    ) @ np.clip(sim @ lin, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


LABELS = [*VARIANTS, *ABLATIONS]


def test_every_variant_has_its_own_colour_marker_and_line_style():
    assert set(LABELS) <= set(plots.FAMILY_COLORS) and set(LABELS) <= set(plots.MARKERS)
    colours = [to_rgb(plots.color(lab)) for lab in LABELS]
    assert len(set(colours)) == len(LABELS)
    assert len({plots.marker(lab) for lab in LABELS}) == len(LABELS)
    for lab in LABELS:
        kw = plots.style(lab)
        assert kw["color"] == plots.color(lab) and kw["marker"] == plots.marker(lab)
        assert kw["ls"] == plots.FAMILY_LINESTYLES[plots.family(lab)]
    assert {plots.family(lab) for lab in LABELS} == {"none", "exc", "syn", "hybrid"}


@pytest.mark.parametrize(
    "vision, sim", [("normal", np.eye(3)), ("deuteranopia", _DEUTAN), ("protanopia", _PROTAN)]
)
def test_variant_colours_are_far_apart(vision, sim):
    close = [
        (
            a,
            b,
            round(float(np.linalg.norm(_lab(plots.color(a), sim) - _lab(plots.color(b), sim))), 1),
        )
        for a, b in combinations(LABELS, 2)
    ]
    close = [c for c in close if c[2] < MIN_DELTA_E]
    assert not close, f"{vision}: colour pairs closer than ΔE {MIN_DELTA_E}: {close}"


def test_variant_colours_are_visible_on_white():
    # the old sequential palette's light blue had a contrast of 1.75 against the white page
    for lab in LABELS:
        assert 1.05 / (plots.luminance(plots.color(lab)) + 0.05) >= 2.2, lab


def test_text_colour_contrasts_with_its_cell():
    assert plots.text_color("#000000") == "w" and plots.text_color("#ffffff") == "k"
    viridis = plt.get_cmap("viridis")
    assert plots.text_color(viridis(0.0)) == "w" and plots.text_color(viridis(1.0)) == "k"
    magma = plt.get_cmap("magma_r")
    assert plots.text_color(magma(1.0)) == "w" and plots.text_color(magma(0.0)) == "k"


@pytest.mark.slow
def test_lesion_maps_show_every_seed_and_the_random_control():
    """Two figures: the mean map of each variant, and every seed's own-task, other-task and
    random-unit drops (means over tasks of that seed's map), at the planted values."""
    from lib.plots import battery as battery_plots

    rng = np.random.default_rng(0)
    drops = {
        "exc": {"targeted": rng.random((3, 2, 2)), "random": rng.random((3, 2))},
        "syn_prepost": {"targeted": rng.random((2, 2, 2)), "random": rng.random((2, 2))},
    }
    maps, seeds = battery_plots.lesion_maps(["fdgo", "fdanti"], drops)
    shown = [ax for ax in maps.axes if ax.get_visible() and ax.images]
    assert [ax.get_title() for ax in shown] == ["exc (n=3)", "syn_prepost (n=2)"]
    np.testing.assert_allclose(shown[0].images[0].get_array(), drops["exc"]["targeted"].mean(0))
    marks = [c.get_offsets() for c in seeds.axes[0].collections]
    exc_diag = marks[0][:, 0]  # the first variant's own-task drops
    np.testing.assert_allclose(exc_diag, drops["exc"]["targeted"][:, [0, 1], [0, 1]].mean(1))
    exc_random = marks[2][:, 0]
    np.testing.assert_allclose(exc_random, drops["exc"]["random"].mean(1))
    assert sum(len(m) for m in marks) == 3 * 3 + 3 * 2  # three marks per seed


def test_outcome_colours_are_far_apart():
    from lib.plots.ambiguity import OUTCOME_COLORS

    for sim in (np.eye(3), _DEUTAN, _PROTAN):
        for a, b in combinations(OUTCOME_COLORS, 2):
            assert np.linalg.norm(_lab(a, sim) - _lab(b, sim)) >= MIN_DELTA_E, (a, b)


def test_task_family_colours_are_far_apart():
    for sim in (np.eye(3), _DEUTAN, _PROTAN):
        for a, b in combinations(tasks_plots.FAMILY_COLORS.values(), 2):
            assert np.linalg.norm(_lab(a, sim) - _lab(b, sim)) >= MIN_DELTA_E, (a, b)
