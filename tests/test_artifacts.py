"""Artifacts: keys, verified loads, rebuild of corrupt or mismatched files, atomic writes, and
reproduction of a shipped artifact by retraining."""

from __future__ import annotations

import json
import os

import pytest
import torch

from lib import artifacts
from lib.core import behaviour
from lib.experiments.battery import battery_spec
from lib.core.train import TrainConfig
from lib.experiments.runner import load_or_train
from tolerances import TRAINED_WEIGHTS

CFG = {"a": 1, "b": [1, 2]}


def counter(value):
    calls = {"n": 0}

    def compute():
        calls["n"] += 1
        return value

    return compute, calls


def test_key_depends_on_kind_config_and_behaviour_not_on_code(monkeypatch):
    k = artifacts.artifact_key("network", CFG)
    assert k == artifacts.artifact_key("network", dict(reversed(CFG.items())))
    assert k != artifacts.artifact_key("y", CFG)
    assert k != artifacts.artifact_key("network", CFG | {"a": 2})
    assert (
        artifacts.code_version("ambiguity")
        != artifacts.code_version("network")
        == artifacts.code_version()
    )
    monkeypatch.setattr(artifacts, "code_version", lambda kind=None: "other")  # a refactor
    assert k == artifacts.artifact_key("network", CFG)
    monkeypatch.setitem(behaviour.BEHAVIOUR, "network", 99)  # a change of behaviour
    assert k != artifacts.artifact_key("network", CFG)


def test_ambiguity_keys_follow_the_network_version(monkeypatch):
    k = artifacts.artifact_key("ambiguity", CFG)
    monkeypatch.setitem(behaviour.BEHAVIOUR, "network", 99)
    assert k != artifacts.artifact_key("ambiguity", CFG)


def test_default_valued_new_config_fields_do_not_change_keys():
    """Fields added to TrainConfig later are left out of the key while at their default."""
    cfg = TrainConfig(mechanism="exc")
    d = cfg.to_dict()
    assert "grad_clip" not in d and "sampling" not in d and "easy_steps" not in d
    assert TrainConfig.from_dict(d) == cfg
    changed = cfg.replace(grad_clip=None).to_dict()
    assert changed["grad_clip"] is None
    assert artifacts.artifact_key("network", changed) != artifacts.artifact_key("network", d)


def test_stale_behaviour_is_rebuilt(store, monkeypatch):
    compute, calls = counter("payload")
    artifacts.load_or_compute("network", CFG, compute)
    _, stamp = artifacts.paths("network", CFG)
    stamp.write_text(json.dumps(json.loads(stamp.read_text()) | {"behaviour": {"network": 1}}))
    with pytest.warns(UserWarning, match="behaviour version"):
        artifacts.load_or_compute("network", CFG, compute)
    assert calls["n"] == 2


def test_no_train_switch_fails_loudly_instead_of_computing(store, monkeypatch):
    compute, calls = counter("payload")
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    with pytest.raises(artifacts.ArtifactError, match="BOOK_NO_TRAIN"):
        artifacts.load_or_compute("k", CFG, compute)
    assert calls["n"] == 0
    monkeypatch.setenv("BOOK_NO_TRAIN", "0")
    artifacts.load_or_compute("k", CFG, compute)
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    assert artifacts.load_or_compute("k", CFG, compute) == "payload" and calls["n"] == 1
    monkeypatch.setenv("BOOK_NO_TRAIN", "yes")
    with pytest.raises(ValueError, match="BOOK_NO_TRAIN='yes'"):
        artifacts.no_train()


def test_second_load_uses_the_verified_copy(store, monkeypatch):
    compute, _ = counter({"v": [1, 2]})
    artifacts.load_or_compute("k", CFG, compute)
    first = artifacts.load("k", CFG)
    first["v"].append(3)  # callers get copies: mutating one does not change the next
    reads = []
    monkeypatch.setattr(
        type(artifacts.paths("k", CFG)[0]), "read_bytes", lambda self: reads.append(self) or b""
    )
    assert artifacts.load("k", CFG) == {"v": [1, 2]} and reads == []


def test_code_version_ignores_docstrings_and_comments():
    a = artifacts.code_text('"""doc"""\ndef f(x):\n    """d"""\n    return x')
    b = artifacts.code_text("def f(x):  # why\n    return x")
    c = artifacts.code_text("def f(x):\n    return x + 1")
    assert a == b != c


def test_compute_once_then_load(store):
    compute, calls = counter({"v": torch.arange(3)})
    first = artifacts.load_or_compute("k", CFG, compute)
    second = artifacts.load_or_compute("k", CFG, compute)
    assert calls["n"] == 1 and torch.equal(first["v"], second["v"])
    meta = artifacts.meta("k", CFG)
    assert meta["config"] == CFG and meta["code_version"] == artifacts.code_version()
    assert {"sha256", "torch", "numpy", "python", "behaviour", "created"} <= set(meta)


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_corrupt_payload_is_detected_and_rebuilt(store, damage):
    compute, calls = counter([1, 2, 3])
    artifacts.load_or_compute("k", CFG, compute)
    pt, _ = artifacts.paths("k", CFG)
    data = pt.read_bytes()
    pt.write_bytes(
        {
            "flip": data[:-5] + bytes([data[-5] ^ 0xFF]) + data[-4:],
            "truncate": data[: len(data) // 2],
            "empty": b"",
        }[damage]
    )
    with pytest.raises(artifacts.ArtifactError, match="SHA-256"):
        artifacts.load("k", CFG)
    with pytest.warns(UserWarning, match="rebuilding"):
        assert artifacts.load_or_compute("k", CFG, compute) == [1, 2, 3]
    assert calls["n"] == 2
    assert artifacts.load("k", CFG) == [1, 2, 3]


def test_mismatched_stamp_is_rebuilt(store):
    compute, calls = counter("payload")
    artifacts.load_or_compute("k", CFG, compute)
    _, stamp = artifacts.paths("k", CFG)
    meta = json.loads(stamp.read_text())
    stamp.write_text(json.dumps(meta | {"config": {"a": 99}}))
    with pytest.warns(UserWarning, match="another config"):
        artifacts.load_or_compute("k", CFG, compute)
    assert calls["n"] == 2


def test_interrupted_write_leaves_nothing(store, monkeypatch):
    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        artifacts.save("k", CFG, list(range(1000)))
    assert [p for p in store.rglob("*") if p.is_file()] == []


def test_load_or_train_trains_once(store):
    cfg = TrainConfig(
        mechanism="exc",
        tasks=("fdgo", "fdanti"),
        n_rec=8,
        max_steps=4,
        eval_every=2,
        eval_trials=8,
        batch_size=8,
    )
    a = load_or_train(cfg, progress=False)
    pt, _ = artifacts.paths("network", cfg.to_dict())
    mtime = pt.stat().st_mtime_ns
    b = load_or_train(cfg, progress=False)
    assert pt.stat().st_mtime_ns == mtime
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k])
    assert a.history.perf == b.history.perf


@pytest.mark.slow
def test_shipped_smoke_artifact_is_reproduced_by_retraining(tmp_path, monkeypatch):
    """The book ships networks made by this code: retraining one from scratch reproduces it."""
    monkeypatch.delenv("BOOK_NO_TRAIN", raising=False)
    spec = battery_spec("smoke")
    cfg = spec.config("hybrid", 0)
    if not artifacts.has("network", cfg.to_dict()):
        pytest.fail(
            "the shipped smoke artifact for hybrid/seed 0 is missing or stale: run `make artifacts`"
        )
    shipped = load_or_train(cfg)
    retrained = load_or_train(cfg, directory=tmp_path, progress=False)
    for k, v in shipped.model.state_dict().items():
        torch.testing.assert_close(retrained.model.state_dict()[k], v, **TRAINED_WEIGHTS)
    assert retrained.history.steps == shipped.history.steps


def test_tuples_in_configs_survive_the_stamp(store):
    compute, calls = counter(1)
    cfg = {"grid": (0.0, 0.5, 1.0), "nested": {"pair": ("a", "b")}}
    artifacts.load_or_compute("k", cfg, compute)
    artifacts.load_or_compute("k", cfg, compute)
    assert calls["n"] == 1


def test_stale_lists_artifacts_of_other_behaviour_versions(store, monkeypatch):
    artifacts.save("network", {"a": 1}, {"x": 1}, store)
    assert artifacts.stale(store) == []
    monkeypatch.setitem(behaviour.BEHAVIOUR, "network", behaviour.BEHAVIOUR["network"] + 1)
    (stamp,) = artifacts.stale(store)
    assert stamp.suffix == ".json" and stamp.with_suffix(".pt").exists()
    stamp.write_text("{not json")
    assert artifacts.stale(store) == [stamp]


def test_repository_ships_no_stale_artifacts():
    found = [
        str(p.relative_to(artifacts.artifact_dir()))
        for p in artifacts.stale(artifacts.artifact_dir())
    ]
    assert not found, (
        f"{len(found)} shipped artifacts were made by other behaviour versions "
        f"(first: {found[:3]}): `python -m lib.experiments --prune-stale` removes "
        "them"
    )
