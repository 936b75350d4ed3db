"""lib.core.ensemble: S networks trained as one batched model equal S networks trained alone.

Tolerance. Members are compared with ``lib.core.train.train`` run on each config alone, after 20
Adam steps, in float32, with rtol = 1e-4 and atol = 1e-5 on every parameter and on the logged
losses, and performance within one evaluation trial per task. The two are not bitwise equal only
because some floating-point sums run in another order: the batched recurrent GEMM
(``torch.baddbmm`` / ``bmm`` over members, forward and backward) against the single model's
``addmm`` / ``mm``, the low-rank product U V^T (``bmm`` against ``einsum``), and Adam's vectorised
kernel meeting elements at other offsets of a stacked tensor. The random numbers, batches,
contexts, equations and the per-member drive, readout and loss ops are the same (measured:
largest parameter difference ~6e-8 absolute after 20 steps, far inside the tolerance). An
ensemble against itself (resumed from a checkpoint) is compared bitwise.
"""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
import torch

from lib.core import ensemble
from lib.core import train
from lib.core.ensemble import StackedRNN, train_ensemble
from lib.core.metrics import masked_mse
from lib.core.seeds import one_hot
from lib.core.train import History, TrainConfig

RTOL, ATOL = 1e-4, 1e-5
TASKS = ("fdgo", "fdanti", "contextdm1")
TINY = dict(tasks=TASKS, n_rec=12, rank=2, max_steps=20, eval_every=10, eval_trials=8, batch_size=8)
SEEDS = (0, 1, 2)
REAL_EVALUATE = train.evaluate  # captured before any test patches it


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the box is shared: keep timings and load small
    yield
    torch.set_num_threads(threads)


def members(**changes) -> list[TrainConfig]:
    base = TrainConfig(**({"mechanism": "exc"} | TINY | changes))
    return [base.replace(seed=s) for s in SEEDS]


def assert_same_as_alone(got: train.TrainResult, ref: train.TrainResult) -> None:
    """``got`` (an ensemble member) equals ``ref`` (trained alone) within the stated tolerance."""
    assert got.config == ref.config
    want = ref.model.state_dict()
    for name, value in got.model.state_dict().items():
        torch.testing.assert_close(
            value,
            want[name],
            rtol=RTOL,
            atol=ATOL,
            msg=lambda m: f"seed {ref.config.seed} {name}: {m}",
        )
    h, r = got.history, ref.history
    assert h.steps == r.steps and h.trials == r.trials and h.tasks == r.tasks
    np.testing.assert_allclose(h.loss, r.loss, rtol=RTOL, atol=ATOL, equal_nan=True)
    np.testing.assert_allclose(h.perf, r.perf, rtol=0, atol=1.0 / ref.config.eval_trials + 1e-12)


def recording_member_losses(record: list[list[int]]):
    """``ensemble.member_losses`` that appends each step's member lengths [T_m] to ``record``."""
    real = ensemble.member_losses

    def member_losses(y_hats, batches):
        record.append([y.shape[0] for y in y_hats])
        return real(y_hats, batches)

    return member_losses


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        dict(mechanism="none"),
        dict(mechanism="exc"),
        dict(mechanism="syn_lowrank"),
        dict(mechanism="syn_mask"),
        dict(mechanism="syn_prepost"),
        dict(mechanism="hybrid"),
        dict(mechanism="exc", sampling="error"),
        dict(mechanism="exc_gain", activation="relu"),
        dict(mechanism="exc_gain_rec"),
        dict(mechanism="syn_prepost_in"),
    ],
    ids=lambda d: "-".join(map(str, d.values())),
)
def test_members_equal_networks_trained_alone(changes, monkeypatch):
    """Own tasks per member (no schedule_seed): lengths differ, so padding is exercised."""
    configs = members(**changes)
    lengths: list[list[int]] = []
    monkeypatch.setattr(ensemble, "member_losses", recording_member_losses(lengths))
    results = train_ensemble(configs, progress=False)
    assert len(lengths) == configs[0].max_steps
    assert any(len(set(ts)) > 1 for ts in lengths), "the test needs unequal lengths (padding)"
    for got, ref in zip(results, [train.train(c, progress=False) for c in configs]):
        assert_same_as_alone(got, ref)


def test_shared_schedule_draws_one_task_and_equals_alone():
    configs = members(mechanism="hybrid", schedule_seed=7)
    tasks = [
        {train.training_batch(c, step, History(c.tasks))[0] for c in configs}
        for step in range(configs[0].max_steps)
    ]
    assert all(len(ks) == 1 for ks in tasks), "a shared schedule gives every member one task"
    assert len({k for ks in tasks for k in ks}) > 1, "and still varies the task over steps"
    for got, ref in zip(
        train_ensemble(configs, progress=False), [train.train(c, progress=False) for c in configs]
    ):
        assert_same_as_alone(got, ref)


@pytest.mark.parametrize("trainable", ["modulation", "freeze_syn"])
def test_frozen_parameters_stay_and_trainable_equal_alone(trainable):
    configs = members(mechanism="hybrid", trainable=trainable)
    results = train_ensemble(configs, progress=False)
    for got, c in zip(results, configs):
        init = train.build_model(c)
        frozen = (
            init.shared_parameters()
            if trainable == "modulation"
            else init.modulation_parameters("syn")
        )
        names = {id(p): n for n, p in init.named_parameters()}
        after = dict(got.model.named_parameters())
        for p in frozen:
            assert torch.equal(p, after[names[id(p)]]), names[id(p)]
        assert_same_as_alone(got, train.train(c, progress=False))


# ---------------------------------------------------------------------------------------------
def forcing_evaluate(forced: set[tuple[int, int]]):
    """``lib.core.train.evaluate`` that reports perfect performance at the n-th evaluation of
    the network of seed s for each (s, n) in ``forced`` (n counts from 1): that network is then
    at criterion and stops there. The same calls happen alone and in an ensemble."""
    real, calls = REAL_EVALUATE, collections.Counter()

    def evaluate(model, config, batches=None, context=None):
        perf = real(model, config, batches, context)
        calls[config.seed] += 1
        return np.ones_like(perf) if (config.seed, calls[config.seed]) in forced else perf

    return evaluate


def test_members_stop_independently(monkeypatch):
    """Seed 2 is at criterion at step 0 (never trained), seed 0 at step 10 (the third of five
    evaluations, every 5 steps); seed 1 trains all 20 steps, after the members before and after
    it in the stack (and their Adam state) have been removed."""
    forced = {(2, 1), (0, 3)}
    configs = members(mechanism="syn_lowrank", eval_every=5)
    monkeypatch.setattr(train, "evaluate", forcing_evaluate(forced))
    results = train_ensemble(configs, progress=False)
    alone = []
    for c in configs:
        monkeypatch.setattr(train, "evaluate", forcing_evaluate(forced))
        alone.append(train.train(c, progress=False))
    assert [r.history.steps for r in results] == [[0, 5, 10], [0, 5, 10, 15, 20], [0]]
    for got, ref in zip(results, alone):
        assert_same_as_alone(got, ref)
    untrained = train.build_model(configs[2]).state_dict()
    for name, value in results[2].model.state_dict().items():
        assert torch.equal(value, untrained[name]), name
    # seed 0 stopped at step 10: trained alone for all 20 steps it would have moved further
    monkeypatch.setattr(train, "evaluate", forcing_evaluate(set()))
    further = train.train(configs[0], progress=False).model.state_dict()
    stopped = results[0].model.state_dict()
    assert not torch.allclose(stopped["W_rec"], further["W_rec"], rtol=RTOL, atol=ATOL)


def test_interrupted_ensemble_resumes_to_identical_result(tmp_path, monkeypatch):
    """Killed during step 6 after the step-4 checkpoint, in which seed 1 has already stopped;
    the resumed run equals the uninterrupted one bitwise and removes its checkpoint."""
    forced = {(1, 2)}
    configs = members(mechanism="syn_mask", eval_every=4, max_steps=12)
    monkeypatch.setattr(train, "evaluate", forcing_evaluate(forced))
    full = train_ensemble(configs, progress=False)
    ckpt = tmp_path / "ensemble.ckpt"
    real = train.training_batch

    def dying_training_batch(config, step, *args, **kwargs):
        if step == 6:
            raise KeyboardInterrupt
        return real(config, step, *args, **kwargs)

    monkeypatch.setattr(train, "evaluate", forcing_evaluate(forced))
    monkeypatch.setattr(train, "training_batch", dying_training_batch)
    with pytest.raises(KeyboardInterrupt):
        train_ensemble(configs, progress=False, checkpoint=ckpt)
    state = torch.load(ckpt, weights_only=False)
    assert state["step"] == 4 and state["active"] == [0, 2]
    monkeypatch.setattr(train, "training_batch", real)
    monkeypatch.setattr(train, "evaluate", forcing_evaluate(forced))
    resumed = train_ensemble(configs, progress=False, checkpoint=ckpt)
    assert not ckpt.exists(), "a finished run removes its checkpoint"
    for a, b in zip(full, resumed):
        assert a.history.steps == b.history.steps and a.history.perf == b.history.perf
        np.testing.assert_array_equal(a.history.loss, b.history.loss)
        sb = b.model.state_dict()
        for name, value in a.model.state_dict().items():
            assert torch.equal(value, sb[name]), name


def test_checkpoint_of_another_ensemble_is_ignored(tmp_path):
    ckpt = tmp_path / "ensemble.ckpt"
    torch.save({"configs": [{"other": 1}], "step": 3}, ckpt)
    configs = members(max_steps=4, eval_every=2)
    with pytest.warns(UserWarning, match="not used"):
        got = train_ensemble(configs, progress=False, checkpoint=ckpt)
    ref = train_ensemble(configs, progress=False)
    for a, b in zip(got, ref):
        for name, value in a.model.state_dict().items():
            assert torch.equal(value, b.model.state_dict()[name]), name


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mechanism",
    [
        "none",
        "exc",
        "syn_mask",
        "syn_lowrank",
        "syn_prepost",
        "hybrid",
        "exc_gain_rec",
        "syn_prepost_in",
    ],
)
def test_effective_weights_are_the_models(mechanism):
    """StackedRNN.effective(k) is ModulatedRNN.effective(e_k) of each member."""
    configs = members(mechanism=mechanism)
    models = [train.build_model(c) for c in configs]
    for model in models:  # nonzero shared bias, so folding the gain into b is exercised
        with torch.no_grad():
            model.b.normal_(generator=torch.Generator().manual_seed(model.seed))
    net = StackedRNN.from_models(models)
    ks = torch.tensor([2, 0, 1])
    g, beta, W, in_gain = net.effective(ks)
    K, N = len(TASKS), configs[0].n_rec
    for m, (model, k) in enumerate(zip(models, ks.tolist())):
        g_m, beta_m, W_m = model.effective(one_hot(k, K, 1)[0])
        assert (in_gain is None) == (mechanism != "syn_prepost_in")
        if in_gain is not None:  # the model writes a(s) as a gain with beta = (1 - a) b; the
            # ensemble scales W_in by a and folds a into the rows of W, leaving b alone
            torch.testing.assert_close(in_gain[m], g_m, rtol=1e-6, atol=0)
            torch.testing.assert_close(W[m], g_m.unsqueeze(-1) * W_m, rtol=1e-6, atol=1e-7)
            assert g is None and beta is None
            continue
        torch.testing.assert_close(torch.ones(N) if g is None else g[m], g_m, rtol=1e-6, atol=0)
        torch.testing.assert_close(
            torch.zeros(N) if beta is None else beta[m], beta_m, rtol=1e-6, atol=0
        )
        torch.testing.assert_close(W[m], W_m, rtol=1e-6, atol=1e-7)


def test_forward_equals_the_model_on_each_members_own_length():
    """Members of different lengths (padded inside): each one's outputs equal its ModulatedRNN's
    on its own batch with the same noise generator, and its loss is masked_mse."""
    configs = members(mechanism="hybrid")
    models = [train.build_model(c) for c in configs]
    net = StackedRNN.from_models(models)
    batches = [train.training_batch(c, 1, History(c.tasks)) for c in configs]
    assert len({x.shape[0] for _, x, _, _ in batches}) > 1, "the test needs unequal lengths"
    ks = torch.tensor([k for k, _, _, _ in batches])
    with torch.no_grad():
        y_hats = net(
            [x for _, x, _, _ in batches],
            ks,
            [torch.Generator().manual_seed(10 + m) for m in range(len(configs))],
        )
        losses = ensemble.member_losses(y_hats, batches)
        for m, ((k, x, y, c_mask), model) in enumerate(zip(batches, models)):
            ref, _ = model(
                x,
                one_hot(k, len(TASKS), x.shape[1]),
                noise=True,
                generator=torch.Generator().manual_seed(10 + m),
            )
            torch.testing.assert_close(y_hats[m], ref, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(losses[m], masked_mse(ref, y, c_mask), rtol=1e-5, atol=0)


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "configs, match",
    [
        ([], r"configs=\[\] is not allowed; expected a non-empty list"),
        (members()[0], "expected a non-empty list of TrainConfig"),
        ([members()[0], "exc"], r"configs\[1\]='exc' is not allowed; expected a TrainConfig"),
        (
            [members()[0], members(n_rec=16)[1]],
            r"configs\[1\]\.n_rec=16 is not allowed; expected 12 as in configs\[0\] .*only in seed",
        ),
        ([members()[0], members(schedule_seed=3)[1]], r"configs\[1\]\.schedule_seed=3"),
        ([members()[1], members()[1]], r"configs\[1\]\.seed=1 is not allowed; expected a seed not"),
        (
            members(train_mix=0.3),
            r"configs\[0\]\.train_mix=0.3 is not allowed; expected 0: an "
            "ensemble trains on one-hot",
        ),
    ],
)
def test_incompatible_members_are_a_clear_error(configs, match):
    with pytest.raises(ValueError, match=match):
        train_ensemble(configs, progress=False)


def test_modulation_only_needs_modulation():
    with pytest.raises(ValueError, match="no modulation"):
        train_ensemble(members(mechanism="none", trainable="modulation"), progress=False)


def test_a_diverged_member_leaves_with_its_last_evaluated_network(tmp_path, monkeypatch):
    """Seed 0's loss becomes NaN after its first evaluation (step 10): it ends there with the
    network evaluated at step 10 and diverged_at = 20; the other members train on undisturbed."""
    undisturbed = train_ensemble(members(), progress=False)
    first_eval = train_ensemble(members(max_steps=10), progress=False)
    real, calls = ensemble.member_losses, []

    def seed0_nan_after_ten(*args):
        calls.append(1)
        losses = real(*args)
        if len(calls) > 10:
            nan_first = [math.nan] + [1.0] * (len(losses) - 1)
            losses = losses * torch.tensor(nan_first, device=losses.device)  # CUDA too
        return losses

    monkeypatch.setattr(ensemble, "member_losses", seed0_nan_after_ten)
    with pytest.warns(UserWarning, match="seed=0: the training loss became nan between steps 10"):
        got = train_ensemble(members(), progress=False, checkpoint=tmp_path / "c.ckpt")
    assert got[0].history.diverged_at == 20 and got[0].history.steps == [0, 10]
    for name, value in got[0].model.state_dict().items():
        torch.testing.assert_close(value, first_eval[0].model.state_dict()[name])
    for g, ref in zip(got[1:], undisturbed[1:]):
        assert g.history.diverged_at is None
        assert_same_as_alone(g, ref)
    assert list(tmp_path.iterdir()) == []
