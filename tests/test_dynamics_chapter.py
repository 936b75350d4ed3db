"""E4's experiment, analysis and figures: the shipped analyses are what the code computes, the
tables keep unlearned pairs out, bad parameters are named (C4's verdict is tested in
tests/test_c4c5_verdicts.py)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lib.analysis import dynamics as A
from lib.experiments import battery, chapter_params, dynamics as X
from lib.plots import dynamics as plots


@pytest.fixture(scope="module")
def smoke():
    spec = battery.battery_spec("smoke")
    nets = battery.variant_networks(battery.run_battery(spec, progress=False))
    dspec = X.DynamicsSpec.from_profile("smoke")
    return spec, nets, dspec, X.run_dynamics(nets, dspec, progress=False)


def _close(a, b, path=""):
    """Recursive comparison of analysis outputs (floats to rtol 1e-6: other BLAS builds)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _close(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=1e-9, obj=path)
    elif isinstance(a, (list, tuple)) and a and isinstance(a[0], str):
        assert list(a) == list(b), path
    elif a is None or isinstance(a, (str, bool, int)):
        assert a == b, path
    else:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-9,
                                   err_msg=path)


def test_shipped_analysis_is_what_the_code_computes(smoke):
    spec, nets, dspec, dyn = smoke
    key = ("exc", 0)
    _close(X.analyse_network(nets[key], dspec), dyn[key])


def test_every_variant_is_analysed_with_its_conflict_pairs(smoke):
    spec, nets, dspec, dyn = smoke
    assert set(dyn) == set(nets)
    pairs = [(spec.tasks[i], spec.tasks[j]) for i, j in X.conflict_pairs(spec.tasks)]
    assert pairs == [("fdgo", "fdanti")]
    for (label, _), d in dyn.items():
        assert list(d["pairs"]) == pairs
        p = d["pairs"][pairs[0]]
        assert (p["continuation"] is None) == (label == "none")
        assert p["op_track"].shape == (len(dspec.lambdas),)
        assert d["task_variance"].shape == (len(spec.tasks), spec.n_rec)
        assert 0.0 <= np.degrees(p["angles"]).max() <= 90.0 + 1e-9


def _learned(dyn: dict) -> dict:
    """A copy of ``dyn`` in which every network learned every task."""
    return {k: d | {"learned": np.ones_like(d["learned"], bool)} for k, d in dyn.items()}


def test_pair_table_keeps_unlearned_pairs_out(smoke):
    spec, nets, dspec, dyn = smoke
    labels = list(spec.variants)
    real = A.pair_table(dyn, labels)
    # the smoke networks learned nothing: no pair enters, and the text says "not tested"
    learned = {k: d["learned"].all() for k, d in dyn.items()}
    assert len(real) == sum(learned.values())
    if real.empty:
        pairs = [(spec.tasks[i], spec.tasks[j]) for i, j in X.conflict_pairs(spec.tasks)]
        assert "not tested" in A.coverage_text(dyn, real, labels, pairs)
    full = A.pair_table(_learned(dyn), labels)
    assert len(full) == len(dyn)
    assert set(full.columns) >= set(A.MEASURES)
    assert (full.loc[full.variant != "none", "n_l"] == len(dspec.lambdas)).all()


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="n_lambda_fp"):
        chapter_params("dynamics", "smoke", n_lambda_fp=1)
    with pytest.raises(ValueError, match="fp_starts"):
        chapter_params("dynamics", "smoke", fp_starts=0)
    with pytest.raises(ValueError, match="seed_shown=5 is not allowed"):
        A.check_seed(5, 2)
    with pytest.raises(ValueError, match="seed_shown"):
        A.check_seed(True, 2)


def test_plan_estimates_every_missing_analysis(smoke):
    spec, nets, dspec, _ = smoke
    part = X.dynamics_part(nets, dspec, workers=2)
    assert part.needed == len(nets) and part.present == len(nets)
    assert X.dynamics_seconds(nets["exc", 0].config, dspec) > 0


def test_figures_and_texts(smoke):
    spec, nets, dspec, dyn = smoke
    labels = list(spec.variants)
    pair = ("fdgo", "fdanti")
    for d in (dyn, _learned(dyn)):
        table = A.pair_table(d, labels)
        link = pd.DataFrame(columns=["variant", "seed", "pair", "l_leave_i", "l_leave_j",
                                     "l_leave", "l_mid", "jump"])
        figs = [plots.trajectories(d, labels, pair), plots.measure_dots(table, labels, ["reshape"]),
                plots.continuation(d, labels, pair, 0, link), plots.spectra(d, labels, pair),
                plots.cluster_maps(d, labels), plots.leave_vs_jump(link, labels),
                plots.ftv_histograms(d, labels, pair, A.ftv_values)]
        assert all(isinstance(f, Figure) for f in figs)
        for text in (A.measure_text(table, labels, ["reshape", "jump"]),
                     A.cluster_text(d, labels), A.ftv_text(d, labels, [pair]),
                     A.link_text(link)):
            assert isinstance(text, str) and text
        matplotlib.pyplot.close("all")
    drive = A.drive_table(dyn, labels)
    assert drive.loc["none", "trained"].startswith("0.000") and drive["seeds"].min() >= 1
    assert "factor" in A.drive_text(dyn, labels)
    summary = A.variant_summary(A.pair_table(_learned(dyn), labels), labels, ["reshape"])
    assert list(summary.index) == labels and "±" in summary.loc["exc", "reshape"]
