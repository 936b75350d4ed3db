"""Figures a reader can see: every figure of lib.plots fits the page's text column and keeps its
smallest text at least lib.plots.MIN_TEXT_PX pixels high as displayed, with at most
lib.plots.MAX_COLS panels side by side; each printed PNG carries that measure for
scripts/check_book.py.

The measure itself is tested on planted figures (it must be able to fail), then applied to the
chapters' figures drawn from the shipped smoke artifacts ($BOOK_NO_TRAIN=1: nothing trains)."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from lib import plots


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def figures(out) -> list[Figure]:
    """A plotting function's result as a list (one figure, or the parts of a split one)."""
    return list(out) if isinstance(out, (list, tuple)) else [out]


def assert_legible(out, what: str) -> None:
    for fig in figures(out):
        assert isinstance(fig, Figure), what
        found = plots.legibility(fig).problems()
        assert not found, f"{what}: {found}"


# ---------------------------------------------------------------------------------------------
# the measure


def test_a_figure_made_for_the_column_passes():
    fig, axes = plots.figure(2, 4, 2.0, 1.8)
    for ax in axes.flat:
        ax.set_title("task")
        ax.set_xlabel("time step")
    m = plots.legibility(fig)
    assert m.width_px <= plots.COLUMN_PX and m.scale == 1.0
    assert m.min_font_pt == plots.FONT_SMALL and m.panels_per_row == 4
    assert m.min_text_px == pytest.approx(plots.FONT_SMALL / 72 * plots.NOTEBOOK_DPI, abs=0.01)
    assert not m.problems()


def test_a_wide_figure_is_shrunk_on_the_page_and_its_text_with_it():
    """13 in (over 1000 px once cropped to its tight box) shown at 750 px: 8 pt text falls
    below 9 px."""
    fig = plt.figure(figsize=(13, 3))
    ax = fig.add_subplot()
    ax.set_title("a title", fontsize=8)
    ax.tick_params(labelsize=8)
    m = plots.legibility(fig)
    assert m.width_px > 1000 and m.scale == pytest.approx(plots.COLUMN_PX / m.width_px, rel=1e-3)
    assert m.min_text_px == pytest.approx(8 / 72 * 100 * m.scale, rel=1e-3)
    assert any("smallest text" in p for p in m.problems())


def test_small_text_and_crowded_rows_fail():
    fig, axes = plots.figure(3, 5, 1.4, 1.4)  # the old trajectory grid: 5 panels a row
    axes[0, 0].text(0.5, 0.5, "tiny", fontsize=5)
    found = plots.legibility(fig).problems()
    assert any("5 panels side by side" in p for p in found)
    assert any("smallest text" in p and "5 pt" in p for p in found)


def test_hidden_panels_and_colour_bars_do_not_count():
    fig, axes = plots.figure(1, 4, 1.7, 1.7)
    axes[0, 3].axis("off")
    im = axes[0, 0].imshow(np.eye(3))
    fig.colorbar(im, ax=axes)
    assert plots.legibility(fig).panels_per_row == 3


def test_figure_keeps_within_the_column():
    fig, _ = plots.figure(1, 4, 3.0, 2.0)  # asked for 12 in
    assert fig.get_figwidth() == pytest.approx(plots.FIGURE_WIDTH_IN)
    assert fig.get_figheight() == pytest.approx(2.0 * plots.FIGURE_WIDTH_IN / 12)


def test_split_keeps_order_and_balances():
    labels = [f"v{i}" for i in range(14)]
    parts = plots.split(labels, 12)
    assert [len(p) for p in parts] == [7, 7] and sum(parts, []) == labels
    assert plots.split(labels[:5], 12) == [labels[:5]]
    with pytest.raises(ValueError, match="per_figure=0"):
        plots.split(labels, 0)


def test_the_printed_png_carries_the_measure():
    """The notebook's inline backend prints through IPython's print_figure: the PNG keeps its
    dpi (pHYs) and the stamp, which agrees with legibility()."""
    from IPython.core.pylabtools import print_figure

    fig, axes = plots.figure(1, 2, 3.0, 2.0)
    axes[0, 0].set_title("small", fontsize=6)
    image = Image.open(io.BytesIO(print_figure(fig, "png")))
    stamp = json.loads(image.info[plots.STAMP_KEY])
    assert stamp["min_font_pt"] == 6 and stamp["dpi"] == plots.NOTEBOOK_DPI
    assert image.info["dpi"][0] == pytest.approx(plots.NOTEBOOK_DPI, abs=0.01)
    assert abs(image.size[0] - stamp["width_px"]) <= 2  # the tight box, as measured
    retina = Image.open(io.BytesIO(print_figure(fig, "retina")))
    assert json.loads(retina.info[plots.STAMP_KEY])["dpi"] == 2 * plots.NOTEBOOK_DPI


# ---------------------------------------------------------------------------------------------
# the chapters' figures, at smoke


@pytest.fixture(scope="module")
def smoke():
    from lib.experiments import battery
    from lib.experiments import dynamics as dynamics_experiment

    spec = battery.battery_spec("smoke")
    nets = battery.run_battery(spec, progress=False)
    dyn = dynamics_experiment.run_dynamics(
        battery.variant_networks(nets),
        dynamics_experiment.DynamicsSpec.from_profile("smoke"),
        progress=False,
    )
    return spec, nets, dyn


def test_battery_figures(smoke):
    from lib.analysis import battery as battery_analysis
    from lib.plots import battery as battery_plots

    spec, nets, _ = smoke
    labels = spec.main_variants
    assert_legible(battery_plots.learning_curves(nets, labels), "learning_curves")
    assert_legible(battery_plots.final_heatmap(nets, labels, spec.tasks), "final_heatmap")
    assert_legible(
        battery_plots.trials_to_criterion(nets, labels, spec.tasks), "trials_to_criterion"
    )
    assert_legible(battery_plots.budget_vs_performance(nets, labels), "budget_vs_performance")
    assert_legible(
        battery_plots.ablation_bars(spec.tasks, battery_analysis.hybrid_ablations(nets)),
        "ablation_bars",
    )
    assert_legible(
        battery_plots.lesion_maps(spec.tasks, battery_analysis.lesion_drops(nets, labels)),
        "lesion_maps",
    )


def test_dynamics_figures_at_the_quick_number_of_variants(smoke):
    """14 variants (the quick chapter's): every per-variant grid is split, 4 panels a row."""
    from lib.analysis import dynamics as dynamics_analysis
    from lib.plots import dynamics as dynamics_plots

    spec, _, dyn = smoke
    real = list(spec.variants)
    labels = [real[i % len(real)] + ("" if i < len(real) else f"_{i}") for i in range(14)]
    many = {(lab, 0): dyn[real[i % len(real)], 0] for i, lab in enumerate(labels)}
    pair = ("fdgo", "fdanti")
    link = pd.DataFrame(
        columns=["variant", "seed", "pair", "l_leave_i", "l_leave_j", "l_leave", "l_mid", "jump"]
    )
    table = dynamics_analysis.pair_table(many, labels)
    for name, out in {
        "trajectories": dynamics_plots.trajectories(many, labels, pair),
        "continuation": dynamics_plots.continuation(many, labels, pair, 0, link),
        "spectra": dynamics_plots.spectra(many, labels, pair),
        "cluster_maps": dynamics_plots.cluster_maps(many, labels),
        "ftv_histograms": dynamics_plots.ftv_histograms(
            many, labels, pair, dynamics_analysis.ftv_values
        ),
        "measure_dots": dynamics_plots.measure_dots(
            table, labels, ["reshape", "displacement", "flow_total", "e_change_common"]
        ),
        "leave_vs_jump": dynamics_plots.leave_vs_jump(link, labels),
    }.items():
        assert_legible(out, name)
    assert len(figures(dynamics_plots.trajectories(many, labels, pair))) == 2  # 7 + 7


def test_packing_figures_show_seeds():
    """Capacity per seed as dots with the median and range (3 seeds: a t interval would span
    the whole axis); every packing figure legible."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_packing import planted, synth  # the packing tests' planted tables
    from lib.analysis import packing as packing_analysis
    from lib.plots import packing as packing_plots

    cap = packing_analysis.capacity(
        synth(planted(exc=[6, 4, 2], pre=[2, 2, 0], low=[0, 2, 2], ns=(16, 32, 64)))
    )
    for draw in (
        packing_plots.at_criterion_vs_k,
        packing_plots.capacity_vs_n,
        packing_plots.capacity_vs_params,
    ):
        assert_legible(draw(cap), draw.__name__)
    fig = packing_plots.capacity_vs_n(cap)
    ax = fig.axes[0]
    dots = np.concatenate(
        [
            c.get_offsets()
            for c in ax.collections
            if len(c.get_offsets()) and c.get_offsets().shape[1] == 2 and hasattr(c, "get_sizes")
        ]
    )
    exc_16 = sorted(y for x, y in dots if 14 < x < 18)
    assert [6, 4, 2] == sorted(exc_16, reverse=True)[:3]  # every exc seed at N = 16 drawn
    assert not [c for c in ax.containers if hasattr(c, "has_yerr") and c.has_yerr]  # no t bars


def test_task_figures():
    """A family of five tasks (Yang's DM family) is shown as two trial grids of 3 and 2."""
    from lib.core import reference
    from lib.plots import tasks as tasks_plots

    five = ["dm1", "dm2", "contextdm1", "contextdm2", "multidm"]
    out = tasks_plots.trial_grid(reference.example_batches(five, 0, 2), title="DM")
    assert [len(f.axes) - 1 for f in figures(out)] == [5 * 3, 5 * 2]  # rows x tasks + colour bar
    assert_legible(out, "trial_grid")
    assert_legible(
        tasks_plots.trial_grid(reference.example_batches(["fdgo"], 0, 2)), "trial_grid (one)"
    )
    stats = reference.condition_stats(["fdgo", "dm1", "delaydm1", "dmsgo"], 16, 0)
    assert_legible(tasks_plots.condition_distributions(stats), "condition_distributions")
    assert_legible(tasks_plots.ring_use(stats), "ring_use")


def test_colliding_titles_are_found():
    fig, axes = plt.subplots(1, 4, figsize=(7, 1.5), squeeze=False)  # a fixed layout
    for ax in axes.flat:
        ax.set_title("syn_lowrank_r1 (not learned)")
    found = plots.legibility(fig).overlaps
    assert len(found) >= 3 and "syn_lowrank_r1 (not learned)" in found[0]
    for ax in axes.flat:
        ax.set_title("exc")
    assert plots.legibility(fig).overlaps == ()


def test_stamped_problems_read_back_from_the_png():
    from IPython.core.pylabtools import print_figure

    good, _ = plots.figure(1, 2, 3.0, 2.0)
    assert plots.stamped_problems(print_figure(good, "png")) == []
    assert plots.stamped_problems(print_figure(good, "retina")) == []
    bad, axes = plt.subplots(1, 5, figsize=(7, 1.5))
    plots.stamp(bad)
    axes[0,].set_title("tiny", fontsize=5)
    for ax in axes:
        ax.set_ylabel("a long label that collides")
    found = plots.stamped_problems(print_figure(bad, "png"))
    assert any("5 panels" in p for p in found) and any("smallest text" in p for p in found)
    buffer = io.BytesIO()
    plt.figure().savefig(buffer, format="png")
    assert plots.stamped_problems(buffer.getvalue()) is None


def test_ambiguity_figures(smoke):
    from lib.analysis import ambiguity as ambiguity_analysis
    from lib.experiments import ambiguity, battery
    from lib.plots import ambiguity as ambiguity_plots

    spec, nets, _ = smoke
    probes = ambiguity.run_ambiguity(
        battery.variant_networks(nets), profile="smoke", progress=False
    )
    labels, panel = spec.main_variants, ambiguity.panel_pairs(spec.tasks)
    table = ambiguity_analysis.robustness_by_variant(probes, labels)
    examples = {lab: ambiguity.example(nets[lab, 0], *panel[0], 0.5) for lab in labels}
    for name, out in {
        "mixture_panel": ambiguity_plots.mixture_panel(probes, labels, panel),
        "outcome_fractions": ambiguity_plots.outcome_fractions(probes, labels, panel),
        "example_outputs": ambiguity_plots.example_outputs(examples),
        "l_leave_pairs": ambiguity_plots.l_leave_pairs(
            ambiguity_analysis.l_leave_by_pair(probes, labels, panel)
        ),
        "robustness_summary": ambiguity_plots.robustness_summary(table, labels),
        "corruption_curves": ambiguity_plots.corruption_curves(probes, labels),
        "timed_probes": ambiguity_plots.timed_probes(table, labels),
        "mid_switch": ambiguity_plots.mid_switch(
            ambiguity_analysis.mid_switch_table(probes, labels, panel)
        ),
    }.items():
        assert_legible(out, name)
    # 9 variants on 3 pairs would be 27 panels: split, at most PER_FIGURE each
    many = ambiguity_plots.mixture_panel(probes, labels * 3, panel * 3)
    assert all(
        len([a for a in f.axes if a.get_visible()]) <= plots.PER_FIGURE for f in figures(many)
    )
