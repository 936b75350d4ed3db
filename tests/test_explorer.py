"""E6, the live explorer: the widgets driven from code at smoke redraw what they are set to, its
numbers are E2's (same trials, same context noise, same network noise), bad values are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.analysis import explorer as explorer_analysis
from lib.core.metrics import performance
from lib.core.seeds import STREAM_PROBE, one_hot, step_seed, torch_generator
from lib.core.train import evaluation_batches
from lib.experiments import ambiguity, battery, chapter_params
from lib import plots
from lib.plots import explorer as explorer_plots

PAIR = ("fdgo", "fdanti")


@pytest.fixture(scope="module")
def smoke():
    spec = battery.battery_spec("smoke")
    nets = battery.variant_networks(battery.run_battery(spec, progress=False))
    probes = ambiguity.run_ambiguity(nets, profile="smoke", progress=False)
    return spec, nets, probes


@pytest.fixture(scope="module")
def explorer(smoke):
    _, nets, _ = smoke
    return explorer_plots.Explorer(nets, variant="exc", pair=PAIR, seed=0, lam=0.0)


def _drawn(ex) -> dict:
    """The data the three axes show now."""
    out, perf, pc = ex.axes
    traj = next(ln for ln in pc.get_lines() if ln.get_label() == "this context")
    return {
        "image": np.asarray(out.images[0].get_array()).copy(),
        "bars": np.array([p.get_height() for p in perf.patches]),
        "traj": np.asarray(traj.get_xydata()).copy(),
    }


def _differ(a: dict, b: dict) -> set[str]:
    return {k for k in a if a[k].shape != b[k].shape or not np.allclose(a[k], b[k])}


def test_every_control_changes_the_views(explorer):
    ex = explorer
    ex.update(variant="exc", seed=0, lam=0.0, noise=0.0, trial=0)
    before = _drawn(ex)
    for change in (
        {"lam": 1.0},
        {"noise": 1.5},
        {"variant": "syn_prepost"},
        {"seed": 1},
        {"trial": 3},
    ):
        view = ex.update(**change)
        now = _drawn(ex)
        changed = _differ(before, now)
        assert {"image", "traj"} & changed, (change, changed)
        for k, v in change.items():
            assert ex.widgets[k].value == v and view[{"variant": "label"}.get(k, k)] == v
        before = now
    # a widget moved by hand (what the reader does) redraws through its observer
    ex.widgets["lam"].value = 0.5
    assert ex.view["lam"] == 0.5 and _differ(before, _drawn(ex))


def test_the_widget_shows_the_redrawn_views_as_png(explorer):
    # an Image widget, not an Output widget (which can stall nbclient, jupyter/nbclient#312)
    explorer.update(lam=0.0)
    before = explorer.image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.update(lam=1.0)
    assert explorer.image.value != before and explorer.image in explorer.box.children


@pytest.mark.slow
def test_clean_setting_is_E2s_clean_probe(smoke, explorer):
    spec, nets, probes = smoke
    i, j = spec.tasks.index(PAIR[0]), spec.tasks.index(PAIR[1])
    p = ambiguity.pairs_of(spec.tasks).index((i, j))
    views = explorer_analysis.Views(nets)
    for (label, seed), res in nets.items():
        pr = probes[label, seed]
        v0 = views.explore(label, seed, PAIR, 0.0, 0.0)
        assert v0["perf_i"] == pr["clean"][i] == pr["mix_i"][p, 0] == v0["clean_i"]
        assert views.explore(label, seed, PAIR, 1.0)["perf_j"] == pr["clean"][j]
        for a, lam in enumerate(pr["spec"]["lambdas"]):
            v = views.explore(label, seed, PAIR, lam)
            assert (v["perf_i"], v["perf_j"]) == (pr["mix_i"][p, a], pr["mix_j"][p, a])
            np.testing.assert_allclose(v["outcomes_i"], pr["out_i"][p, a], equal_nan=True)
        for a, s in enumerate(pr["spec"]["noise_levels"]):
            assert views.explore(label, seed, PAIR, 0.0, s)["perf_i"] == pr["noise_frozen"][a, i]
        # and computed from scratch, as lib.core.train.evaluate does, on the probe noise stream
        cfg, model = res.config, res.model.eval()
        x, _, _, y_loc = evaluation_batches(cfg)[i]
        gen = torch_generator(step_seed(cfg.seed, STREAM_PROBE, i), x.device)
        with torch.no_grad():
            y_hat, _ = model(x, one_hot(i, len(cfg.tasks), x.shape[1]), noise=True, generator=gen)
        assert v0["perf_i"] == float(performance(y_hat, y_loc).mean())
    # the widget draws those numbers
    ex = explorer
    ex.update(variant="hybrid", seed=1, lam=0.0, noise=0.0)
    pr = probes["hybrid", 1]
    np.testing.assert_array_equal(_drawn(ex)["bars"], [pr["clean"][i], pr["mix_j"][p, 0]])


def test_views_are_consistent(smoke):
    _, nets, _ = smoke
    one = explorer_analysis.explore(nets["exc", 0], PAIR, 0.3, 0.2, trial=2)
    again = explorer_analysis.Views(nets).explore("exc", 0, list(PAIR), 0.3, 0.2, trial=2)
    for k in ("y_hat", "traj", "ref_i", "ref_j", "outcomes_i"):
        np.testing.assert_array_equal(one[k], again[k])
    T = one["y_hat"].shape[0]
    assert one["y_hat"].shape == (T, 33) and one["traj"].shape == (T, 2)
    assert one["outcome"] in (*ambiguity.OUTCOMES, "wrong")
    # λ = 0 and λ = 1 without noise are the pure-context trajectories
    np.testing.assert_allclose(
        explorer_analysis.explore(nets["exc", 0], PAIR, 0.0, trial=2)["traj"], one["ref_i"]
    )
    # λ = 1 mixes the contexts as 0 * e_i + 1 * e_j in float32: rounding of a decoded angle only
    np.testing.assert_allclose(
        explorer_analysis.explore(nets["exc", 0], PAIR, 1.0, trial=2)["traj"],
        one["ref_j"],
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "bad, name",
    [
        ({"lam": 1.5}, "lam"),
        ({"lam": "half"}, "lam"),
        ({"noise": -0.1}, "noise"),
        ({"noise": 50.0}, "noise"),
        ({"variant": "nope"}, "variant"),
        ({"seed": 99}, "seed"),
        ({"pair": ("fdgo", "delaygo")}, "pair"),
        ({"trial": 10**6}, "trial"),
        ({"trial": 1.5}, "trial"),
        ({"colour": 1}, "update"),
    ],
)
def test_bad_widget_values_are_rejected(explorer, bad, name):
    ex = explorer
    ex.update(variant="exc", seed=0, lam=0.25, noise=0.0, trial=0)
    state, drawn = ex.values(), _drawn(ex)
    with pytest.raises(ValueError, match=rf"^{name}=.* is not allowed; expected"):
        ex.update(**bad)
    assert ex.values() == state and not _differ(drawn, _drawn(ex))


def test_chapter_parameters(smoke):
    _, nets, _ = smoke
    P = chapter_params("explorer", "smoke")
    assert P.pair is None and P.seed_shown == 0 and P.gallery_lambdas == (0.0, 0.5, 1.0)
    # the page's figure style: at most MAX_COLS mixture weights side by side, the tie among them
    for profile in ("quick", "paper"):
        lams = chapter_params("explorer", profile).gallery_lambdas
        assert lams == (0, 0.25, 0.5, 0.75) and len(lams) <= plots.MAX_COLS
    for text in ("[0, 0.3]", "0,0.3", [0, 0.3]):
        assert chapter_params("explorer", "smoke", gallery_lambdas=text).gallery_lambdas == (0, 0.3)
    views = explorer_analysis.Views(nets)
    assert explorer_analysis.chapter_choice(P, views) == (PAIR, 0)
    for bad in (
        {"pair": "fdgo"},
        {"pair": "[fdgo, fdgo]"},
        {"pair": "[fdgo, nonsense]"},
        {"gallery_lambdas": "0,1.5"},
        {"gallery_lambdas": "[]"},
        {"gallery_lambdas": [0, 0]},
        {"seed_shown": -1},
    ):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=rf"^{name}=.* is not allowed; expected"):
            chapter_params("explorer", "smoke", **bad)
    for bad in ({"pair": ["fdgo", "delaygo"]}, {"seed_shown": 7}):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=rf"^{name}=.* is not allowed; expected"):
            explorer_analysis.chapter_choice(chapter_params("explorer", "smoke", **bad), views)


@pytest.mark.slow
def test_gallery(smoke):
    spec, nets, _ = smoke
    labels, lams = ["exc", "syn_prepost"], (0.0, 0.5, 1.0)
    views = explorer_analysis.Views(nets).gallery(labels, 0, PAIR, lams)
    figs = explorer_plots.gallery(views, labels, lams)
    assert len(figs) == 3 and all(len(f.axes) == len(labels) * len(lams) for f in figs)
    text = explorer_analysis.gallery_text(views)
    assert "| `exc` |" in text and "λ = 0.5" in text and "Go at criterion" in text
    # more weights than fit side by side wrap into a second block of rows, every view drawn
    lams5 = (0.0, 0.25, 0.5, 0.75, 1.0)
    views5 = explorer_analysis.Views(nets).gallery(labels, 0, PAIR, lams5)
    for fig in explorer_plots.gallery(views5, labels, lams5):
        shown = [ax for ax in fig.axes if ax.get_visible()]
        assert len(shown) == len(labels) * len(lams5)
        assert plots.legibility(fig).panels_per_row == 3 <= plots.MAX_COLS
        titles = [ax.get_title() for ax in shown if ax.get_title()]
        assert titles == [f"λ = {lam:g}" for lam in lams5]
    # the own-context sentence holds without λ = 0 or 1 among the columns
    inner = explorer_analysis.gallery_text(
        explorer_analysis.Views(nets).gallery(labels, 0, PAIR, (0.25, 0.5))
    )
    assert inner.count("at criterion under its own context") == 2
    with pytest.raises(ValueError, match="^gallery_lambdas=1.5 is not allowed"):
        explorer_analysis.Views(nets).gallery(labels, 0, PAIR, [0, 1.5])
