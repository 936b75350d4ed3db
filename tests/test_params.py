"""Chapter parameters: profiles, overrides, and a clear error for every kind of bad input."""

from __future__ import annotations

import pytest

from lib.core import params
from lib.experiments import chapter_params
from lib.experiments.battery import battery_spec
from lib.core.tasks import TASK_SETS, TASKS

BAD = [
    ("tasks", {"profile": "fast"}, "profile"),
    ("tasks", {"profile": 3}, "profile"),
    ("tasks", {"task_set": "core9"}, "task_set"),
    ("tasks", {"task_set": ["fdgo", "fdgoo"]}, "fdgoo"),
    ("tasks", {"task_set": ["fdgo"]}, "at least two"),
    ("tasks", {"n_trials": 0}, "n_trials"),
    ("tasks", {"n_trials": "many"}, "n_trials"),
    ("tasks", {"n_trials": 10**9}, "n_trials"),
    ("tasks", {"seed": -1}, "seed"),
    ("tasks", {"seed": 1.5}, "seed"),
    ("tasks", {"colour": "red"}, "unknown parameter"),
    ("model", {"n_rec": 0}, "n_rec"),
    ("model", {"n_rec": -128}, "n_rec"),
    ("model", {"n_rec": 1e6}, "n_rec"),
    ("model", {"rank": True}, "rank"),
    ("battery", {"variants": ["exc", "film"]}, "film"),
    ("battery", {"variants": []}, "variants"),
    ("battery", {"variants": ["exc", "exc"]}, "variants"),
    ("battery", {"n_seeds": 0}, "n_seeds"),
    ("battery", {"max_steps": -5}, "max_steps"),
    ("battery", {"workers": 0}, "workers"),
    ("battery", {"eval_trials": 2}, "eval_trials"),
    ("battery", {"task_set": "[fdgo,"}, "-p task_set fdgo,fdanti"),
    ("battery", {"task_set": '["fdgo", "fdgoo"]'}, "fdgoo"),
    ("battery", {"variants": "[exc, film]"}, "film"),
    ("battery", {"variants": "exc,,hybrid"}, "-y 'variants: \\["),
    ("battery", {"allow_long": "maybe"}, "allow_long"),
    ("model", {"allow_long": 1}, "allow_long"),
    ("ambiguity", {"allow_long": "yes please"}, "allow_long"),
    ("ambiguity", {"n_lambda": 2}, "n_lambda"),
    ("ambiguity", {"n_lambda": 5.5}, "n_lambda"),
    ("ambiguity", {"max_noise": -1.0}, "max_noise"),
    ("ambiguity", {"max_scale": float("nan")}, "max_scale"),
    ("ambiguity", {"n_scale": "3"}, "n_scale"),
]


@pytest.mark.parametrize(
    "chapter, values, match", BAD, ids=[f"{c}-{'-'.join(map(str, v))}" for c, v, _ in BAD]
)
def test_bad_parameter_is_named_with_value_and_allowed(chapter, values, match):
    with pytest.raises(ValueError, match=match) as err:
        chapter_params(chapter, **values)
    msg = str(err.value)
    assert "allowed" in msg or "takes" in msg, msg


def test_profiles_set_sizes_and_explicit_values_override():
    smoke, quick = chapter_params("battery", "smoke"), chapter_params("battery", "quick")
    assert smoke.n_rec < quick.n_rec and smoke.max_steps < quick.max_steps
    assert quick.task_set == TASK_SETS["conflict6"]
    assert chapter_params("battery", "quick", n_rec=96).n_rec == 96
    assert chapter_params("battery", "paper").task_set == TASKS
    assert chapter_params("battery", "quick", task_set="fdgo, fdanti").task_set == (
        "fdgo",
        "fdanti",
    )
    # papermill's -p hands a list over as text: JSON and YAML flow lists are read as lists
    for text in ('["fdgo","fdanti"]', "[fdgo, fdanti]", "['fdgo', 'fdanti']"):
        assert chapter_params("battery", "quick", task_set=text).task_set == ("fdgo", "fdanti")
    assert chapter_params("battery", "quick", variants='["exc", "hybrid"]').variants == (
        "exc",
        "hybrid",
    )
    assert chapter_params("battery", "quick").allow_long is False
    assert chapter_params("battery", "quick", allow_long=True).allow_long is True


def test_default_profile_comes_from_environment(monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    assert chapter_params("model").profile == "smoke"
    monkeypatch.setenv("BOOK_PROFILE", "turbo")
    with pytest.raises(ValueError, match="BOOK_PROFILE"):
        chapter_params("model")
    monkeypatch.delenv("BOOK_PROFILE")
    assert chapter_params("model").profile == "quick"


def test_unknown_chapter():
    with pytest.raises(ValueError, match="chapter"):
        chapter_params("e9")


def test_battery_spec_builds_every_config():
    spec = battery_spec("smoke")
    configs = spec.configs()
    assert len(configs) == spec.n_seeds * (len(spec.variants) + 2)
    assert configs["syn_lowrank_r2", 0].rank == 2
    assert configs["hybrid_frozen_exc", 1].trainable == "freeze_exc"
    assert params.describe(params.MODEL_PARAMS)[0]["parameter"] == "task_set"
