"""E1's lesions and pathway ablations as cached per-network results (lib.experiments.lesions),
and the analysis layer's readers of them (lib.analysis.battery)."""

from __future__ import annotations

import numpy as np
import pytest

from lib import artifacts
from lib.analysis import battery as battery_analysis
from lib.analysis import timescales as timescales_analysis
from lib.core.train import TrainConfig, train
from lib.experiments import lesions
from lib.experiments.runner import network_payload


@pytest.fixture(scope="module")
def hybrid():
    cfg = TrainConfig(
        mechanism="hybrid",
        tasks=("fdgo", "fdanti", "delaygo"),
        n_rec=16,
        max_steps=5,
        eval_every=5,
        eval_trials=16,
        batch_size=16,
    )
    return train(cfg, progress=False)


def shipped(result, monkeypatch, tmp_path) -> None:
    """An artifact directory of its own holding ``result``'s network (the lesion jobs load the
    network from its artifact, as the builder's workers do)."""
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    monkeypatch.setenv("BOOK_NO_TRAIN", "0")
    artifacts.save("network", result.config.to_dict(), network_payload(result))


def test_cached_result_is_the_direct_computation(hybrid, monkeypatch, tmp_path):
    shipped(hybrid, monkeypatch, tmp_path)
    spec = lesions.LesionSpec(fraction=0.25, n_random=2)
    out = lesions.run_lesions({("hybrid", 0): hybrid}, spec, progress=False)["hybrid", 0]
    assert artifacts.has("lesions", lesions.lesions_key(hybrid.config, spec))
    direct = lesions.lesion_map(hybrid, 0.25, 2)
    for name in ("targeted", "intact", "random"):
        np.testing.assert_array_equal(out[name], direct[name])
    assert set(out["ablation"]) == {
        lesions.ablation_label(p, m) for p in lesions.PATHWAYS for m in lesions.ABLATION_MODES
    }
    np.testing.assert_array_equal(
        out["ablation"]["syn removed (mean)"], lesions.pathway_ablation(hybrid, "syn", "mean")
    )
    # read back from disk: the same numbers
    again = lesions.lesions_artifact(hybrid, spec)
    np.testing.assert_array_equal(again["targeted"], out["targeted"])


def test_readers_use_the_cache_and_fail_without_it(hybrid, monkeypatch, tmp_path):
    shipped(hybrid, monkeypatch, tmp_path)
    nets = {("hybrid", 0): hybrid, ("hybrid", 1): hybrid}
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    with pytest.raises(Exception, match="lesions"):
        battery_analysis.hybrid_ablations(nets)
    monkeypatch.setenv("BOOK_NO_TRAIN", "0")
    bars = battery_analysis.hybrid_ablations(nets)
    assert list(bars) == [
        "intact",
        "exc removed (zero)",
        "exc removed (mean)",
        "syn removed (zero)",
        "syn removed (mean)",
    ]
    assert bars["exc removed (zero)"].shape == (2, 3)
    np.testing.assert_array_equal(
        bars["exc removed (zero)"][1], lesions.pathway_ablation(hybrid, "exc", "zero")
    )
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")  # now cached: the readers only read
    five = timescales_analysis.ablation_bars(nets)
    assert list(five) == ["intact", "exc removed (zero)", "syn removed (zero)"]
    np.testing.assert_array_equal(five["syn removed (zero)"], bars["syn removed (zero)"])
    drops = battery_analysis.lesion_drops(nets, ["hybrid"])
    m = lesions.lesion_map(hybrid)
    np.testing.assert_allclose(drops["hybrid"]["targeted"][0], m["intact"][None] - m["targeted"])
    assert drops["hybrid"]["random"].shape == (2, 3)


def test_bad_spec_names_the_parameter():
    with pytest.raises(ValueError, match="fraction=1.5"):
        lesions.LesionSpec(fraction=1.5)
    with pytest.raises(ValueError, match="n_random=0"):
        lesions.LesionSpec(n_random=0)
    with pytest.raises(ValueError, match="pathway/mode"):
        lesions.pathway_ablation(None, "both", "zero")
    with pytest.raises(ValueError, match="modes=\\('half',\\)"):
        battery_analysis.hybrid_ablations({}, modes=("half",))
