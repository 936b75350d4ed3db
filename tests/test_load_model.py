"""Rebuilding a saved network (lib.core.train.load_model): the saved weights come back exactly,
the throwaway initial draw runs on SMALL_WORK_THREADS torch threads, and the caller's thread
count is restored (lib.experiments.runner.load_or_train goes through it)."""

from __future__ import annotations

import pytest
import torch

from lib.core import train
from lib.core.train import TrainConfig, build_model, load_model, torch_threads


def test_load_model_returns_the_saved_weights_built_on_one_thread(monkeypatch):
    cfg = TrainConfig(tasks=("fdgo", "fdanti"), mechanism="hybrid", n_rec=16, seed=3)
    saved = build_model(TrainConfig(tasks=cfg.tasks, mechanism="hybrid", n_rec=16, seed=4))
    seen = []
    real = train.build_model

    def spy(config):
        seen.append(torch.get_num_threads())
        return real(config)

    monkeypatch.setattr(train, "build_model", spy)
    before = torch.get_num_threads()
    with torch_threads(2):
        model = load_model(cfg, saved.state_dict())
        assert torch.get_num_threads() == 2  # restored after the build
    assert torch.get_num_threads() == before
    assert seen == [train.SMALL_WORK_THREADS] and not model.training
    for (name, a), (_, b) in zip(model.state_dict().items(), saved.state_dict().items()):
        assert torch.equal(a, b), name


def test_torch_threads_restores_on_error_and_names_a_bad_count():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="^n=0 is not allowed"):
        with torch_threads(0):
            pass


def test_an_example_trial_runs_on_the_small_work_threads(monkeypatch):
    from lib.experiments import ambiguity

    seen = []

    class Stop(Exception):
        pass

    class SpyProber:
        def __init__(self, result):
            seen.append(torch.get_num_threads())
            raise Stop

    monkeypatch.setattr(ambiguity, "Prober", SpyProber)
    before = torch.get_num_threads()
    with torch_threads(2), pytest.raises(Stop):
        ambiguity.example(None, "fdgo", "fdanti")
    assert seen == [train.SMALL_WORK_THREADS] and torch.get_num_threads() == before
