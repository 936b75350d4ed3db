"""Training: config validation, determinism, checkpoint/resume, freezing, divergence, and
networks that really learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.core import tasks as yang_tasks
from lib.core import train
from lib.core.train import TrainConfig
from helpers import early_stopping_config

TINY = dict(
    tasks=("fdgo", "fdanti"), n_rec=16, max_steps=12, eval_every=4, eval_trials=16, batch_size=16
)


def weights(result) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in result.model.state_dict().items()}


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(mechanism="film"), "mechanism"),
        (dict(tasks=("fdgo", "nope")), "tasks"),
        (dict(tasks=()), "tasks"),
        (dict(tasks=("fdgo", "fdgo")), "unique"),
        (dict(n_rec=0), "n_rec"),
        (dict(rank=-1), "rank"),
        (dict(max_steps=2.5), "max_steps"),
        (dict(lr=0.0), "lr"),
        (dict(seed=-3), "seed"),
        (dict(criterion=1.5), "criterion"),
        (dict(trainable="some"), "trainable"),
        (dict(train_mix=0.5), "train_mix"),
        (dict(train_mix=-0.1), "train_mix"),
        (dict(train_mix=float("nan")), "train_mix"),
        (dict(train_mix=0.3, tasks=("fdgo",)), "two tasks"),
    ],
)
def test_config_rejects_bad_values(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**({"mechanism": "exc"} | TINY | bad))


def test_config_roundtrip_and_weights():
    c = TrainConfig(mechanism="hybrid", tasks=("fdgo", "contextdm1", "contextdm2"))
    assert TrainConfig.from_dict(c.to_dict()) == c
    np.testing.assert_allclose(c.task_weights(), [1 / 11, 5 / 11, 5 / 11])


def test_new_options_at_their_default_leave_the_key_unchanged():
    d = TrainConfig(mechanism="exc", **TINY).to_dict()
    assert "train_mix" not in d
    assert TrainConfig(mechanism="exc", train_mix=0.4, **TINY).to_dict()["train_mix"] == 0.4


def test_training_context_is_one_hot_by_default_and_a_seeded_mixture_with_train_mix():
    tasks = ("fdgo", "fdanti", "delaygo", "delayanti")
    plain = TrainConfig(mechanism="exc", **(TINY | dict(tasks=tasks)))
    torch.testing.assert_close(train.training_context(plain, 2, 5), torch.eye(4)[2].expand(16, 4))
    mixed = TrainConfig(mechanism="exc", train_mix=0.4, **(TINY | dict(tasks=tasks)))
    distractors, weights_seen = set(), []
    for step in range(60):
        c = train.training_context(mixed, 1, step)
        assert c.shape == (16, 4) and torch.equal(c, c[:1].expand_as(c))  # one mixture per batch
        torch.testing.assert_close(c.sum(1), torch.ones(16))
        others = [j for j in range(4) if j != 1 and c[0, j] > 0]
        assert len(others) <= 1 and 0.6 < c[0, 1] <= 1.0
        distractors.update(others)
        weights_seen.append(1.0 - float(c[0, 1]))
        assert torch.equal(c, train.training_context(mixed, 1, step))  # a function of the step
    assert distractors == {0, 2, 3}
    assert 0.0 <= min(weights_seen) and max(weights_seen) < 0.4 and np.std(weights_seen) > 0.05


def test_mixture_training_runs_and_differs_from_one_hot_training():
    plain = train.train(TrainConfig(mechanism="exc", **TINY), progress=False)
    mixed = train.train(TrainConfig(mechanism="exc", train_mix=0.45, **TINY), progress=False)
    assert np.isfinite(mixed.history.loss[1:]).all()  # loss[0]: the evaluation before step 1
    assert not torch.equal(plain.model.G, mixed.model.G)
    # the shared weights start equal: only the contexts seen in training differ
    assert torch.equal(train.build_model(plain.config).W_rec, train.build_model(mixed.config).W_rec)


def test_same_seed_same_weights_other_seed_differs():
    cfg = TrainConfig(mechanism="exc", **TINY)
    a, b = train.train(cfg, progress=False), train.train(cfg, progress=False)
    for k, v in weights(a).items():
        assert torch.equal(v, weights(b)[k]), k
    assert a.history.perf == b.history.perf
    c = train.train(TrainConfig(mechanism="exc", seed=1, **TINY), progress=False)
    flat = [torch.cat([p.detach().flatten() for p in r.model.parameters()]) for r in (a, c)]
    assert not torch.equal(*flat)


def test_interrupted_run_resumes_to_identical_weights(tmp_path, monkeypatch):
    cfg = TrainConfig(mechanism="syn_lowrank", **TINY)
    full = train.train(cfg, progress=False)
    ckpt = tmp_path / "run.ckpt"
    real = yang_tasks.make_batch
    calls = {"n": 0}

    def dying_make_batch(*a, **k):
        calls["n"] += 1
        if calls["n"] == 7:  # after the step-4 checkpoint, before the step-8 one
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(yang_tasks, "make_batch", dying_make_batch)
    with pytest.raises(KeyboardInterrupt):
        train.train(cfg, checkpoint=ckpt, progress=False)
    assert ckpt.exists()
    assert torch.load(ckpt, weights_only=False)["step"] == 4
    monkeypatch.setattr(yang_tasks, "make_batch", real)
    resumed = train.train(cfg, checkpoint=ckpt, progress=False)
    for k, v in weights(full).items():
        assert torch.equal(v, weights(resumed)[k]), k
    assert resumed.history.steps == full.history.steps
    assert not ckpt.exists(), "a finished run removes its checkpoint"


def test_checkpoint_of_another_config_is_ignored(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    cfg = TrainConfig(mechanism="exc", **TINY)
    torch.save({"config": {"other": 1}, "step": 3}, ckpt)
    with pytest.warns(UserWarning, match="not used"):
        res = train.train(cfg, checkpoint=ckpt, progress=False)
    ref = train.train(cfg, progress=False)
    for k, v in weights(ref).items():
        assert torch.equal(v, weights(res)[k])


def test_corrupt_checkpoint_restarts_cleanly(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    ckpt.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="not used"):
        train.train(TrainConfig(mechanism="exc", **TINY), checkpoint=ckpt, progress=False)


@pytest.mark.parametrize(
    "trainable, frozen", [("modulation", "shared"), ("freeze_exc", "exc"), ("freeze_syn", "syn")]
)
def test_frozen_parameters_do_not_move(trainable, frozen):
    cfg = TrainConfig(mechanism="hybrid", trainable=trainable, **TINY)
    init = train.build_model(cfg)
    res = train.train(cfg, progress=False)
    fixed = init.shared_parameters() if frozen == "shared" else init.modulation_parameters(frozen)
    names = {id(p): n for n, p in init.named_parameters()}
    after = dict(res.model.named_parameters())
    moved = [n for n, p in init.named_parameters() if not torch.equal(p, after[n])]
    for p in fixed:
        assert torch.equal(p, after[names[id(p)]]), names[id(p)]
    assert moved, "the trainable parameters must move"


def test_modulation_only_needs_modulation():
    with pytest.raises(ValueError, match="no modulation"):
        train.trainable_parameters(
            train.build_model(TrainConfig(mechanism="none", **TINY)), "modulation"
        )


def test_a_diverged_run_ends_with_its_last_evaluated_network(tmp_path, monkeypatch):
    """Loss NaN from step 4 on: the run ends at the evaluation of step 8, returns the network
    evaluated at step 4 (the same as a run of 4 steps), records diverged_at and warns."""
    config = TrainConfig(mechanism="exc", **TINY)
    reference = train.train(config.replace(max_steps=4), progress=False)
    real, calls = train.masked_mse, []

    def nan_after_four(*args):
        calls.append(1)
        return real(*args) * (math.nan if len(calls) > 4 else 1.0)

    monkeypatch.setattr(train, "masked_mse", nan_after_four)
    with pytest.warns(UserWarning, match="between steps 4 and 7.*evaluated at step 4"):
        res = train.train(config, checkpoint=tmp_path / "c.ckpt", progress=False)
    assert res.history.diverged_at == 8 and res.history.steps == [0, 4]
    assert reference.history.diverged_at is None
    for name, value in weights(res).items():
        assert torch.isfinite(value).all(), name
        torch.testing.assert_close(value, weights(reference)[name], rtol=0, atol=0)
    assert list(tmp_path.iterdir()) == []  # the run ended: no checkpoint is left behind
    assert train.History.from_dict(res.history.to_dict()).diverged_at == 8


def test_history_trials_to_criterion():
    h = train.History(
        ("a", "b"),
        steps=[0, 10, 20],
        trials=[0, 640, 1280],
        loss=[0, 1, 1],
        perf=[[0.1, 0.0], [0.95, 0.5], [0.97, 0.8]],
    )
    np.testing.assert_array_equal(h.trials_to_criterion(0.9), [640, np.nan])


def test_a_run_stopped_at_criterion_is_the_same_run_at_a_larger_budget():
    cfg = early_stopping_config(TrainConfig(mechanism="exc_bias", **TINY))
    short = train.train(cfg, progress=False)
    assert short.history.steps[-1] < cfg.max_steps, "the run must stop before its budget"
    longer = train.train(cfg.replace(max_steps=3 * cfg.max_steps), progress=False)
    assert longer.history.steps == short.history.steps
    carried = train.same_run_at_budget(short, longer.config)
    assert carried is not None and carried.config == longer.config
    assert carried.history.perf == longer.history.perf
    for k, v in weights(longer).items():
        assert torch.equal(v, weights(carried)[k]), k


def test_a_run_that_used_its_budget_is_not_carried_over():
    full = train.train(TrainConfig(mechanism="exc_bias", criterion=1.0, **TINY), progress=False)
    assert train.same_run_at_budget(full, full.config.replace(max_steps=24)) is None
    stopped = train.train(early_stopping_config(full.config), progress=False)
    assert train.same_run_at_budget(stopped, stopped.config.replace(max_steps=1)) is None
    with pytest.raises(ValueError, match="differ in lr"):
        train.same_run_at_budget(stopped, stopped.config.replace(max_steps=24, lr=0.1))


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["exc_bias", "syn_lowrank"])
def test_network_really_learns_go_anti(mechanism):
    """Context is essential here: Go and Anti differ only in the context (same stimuli).

    Both mechanisms first sit on a context-blind plateau (Go solved, Anti at 0); measured on
    this seed: exc_bias leaves it and reaches criterion at 1,400 steps, syn_lowrank at 2,400.
    """
    torch.set_num_threads(1)
    cfg = TrainConfig(
        mechanism=mechanism,
        tasks=("fdgo", "fdanti"),
        n_rec=64,
        max_steps=3000,
        eval_every=100,
        eval_trials=128,
        seed=0,
    )
    res = train.train(cfg, progress=False)
    loss = np.array(res.history.loss[1:])
    assert loss[-1] < 0.5 * loss[0], "the loss must fall"
    assert min(res.history.perf[-1]) >= 0.9, res.history.perf[-1]


@pytest.mark.parametrize("mechanism", ["exc_bias", "hybrid"])
def test_fused_recurrence_trains_as_the_autograd_loop(mechanism):
    """The trainer's default (the fused recurrence, ``ModulatedRNN.fused``) against the autograd
    loop: 30 steps of the quick protocol's task mix with the same seeds, batches and noise give
    losses and parameters equal within float32 rounding amplified over the steps (rtol 1e-4)."""
    config = TrainConfig(
        mechanism, tasks=("fdgo", "delayanti", "contextdm1"), n_rec=16, batch_size=16
    )
    runs = []
    for fused in (False, True):
        model = train.build_model(config)
        model.fused = fused
        params = train.trainable_parameters(model, config.trainable)
        opt = train.make_optimizer(params, config.lr, torch.device("cpu"))
        history = train.History(config.tasks)
        losses = [
            train.train_step(model, opt, params, config, s, history, torch.device("cpu"))
            for s in range(30)
        ]
        runs.append((torch.stack(losses), model.state_dict()))
    (loss0, state0), (loss1, state1) = runs
    torch.testing.assert_close(loss1, loss0, rtol=1e-4, atol=1e-7)
    assert not torch.equal(state0["W_rec"], train.build_model(config).W_rec)  # it did train
    for name in state0:
        torch.testing.assert_close(state1[name], state0[name], rtol=1e-4, atol=1e-6, msg=name)


def test_perf_at_reads_an_evaluation_step_and_refuses_between_two():
    h = train.History(("go", "anti"))
    for step, perf in ((0, (0.1, 0.0)), (250, (0.5, 0.4)), (500, (0.95, 0.92))):
        h.record(step, 64, 1.0, perf)
    assert h.perf_at(250).tolist() == [0.5, 0.4]
    assert h.perf_at(0).tolist() == [0.1, 0.0]
    assert h.perf_at(12_000).tolist() == [0.95, 0.92]  # the run ended before: its last
    with pytest.raises(ValueError, match="step: got 300; allowed: an evaluation step"):
        h.perf_at(300)
    with pytest.raises(ValueError, match="no evaluation"):
        train.History(("go",)).perf_at(0)
