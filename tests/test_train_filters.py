"""Training under E5's time-scale filters ("the filter in the loop", lib.core.filters and the
``train_filter_*`` fields of lib.core.train.TrainConfig) and E5's filter-trained networks
(lib.experiments.timescales).

Known answers: a fast context starts at the previous cue after a switch and closes the gap
geometrically at dt / tau_fast per step; a slow context is the low-pass of its drawn history,
written out here as a sum; trials without a switch are exactly one-hot; the switch rate of the
drawn histories; E5's pooled switch rate. Also: one implementation shared with E5, existing
artifact keys unchanged, reproducibility, a run whose loss falls, and named errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lib import artifacts
from lib.core import ensemble, filters
from lib.core import tasks as yang_tasks
from lib.core import train
from lib.core.model import MECHANISMS, PATHWAYS, ModulatedRNN, mechanism_pathways
from lib.core.seeds import STREAM_CUES, step_seed
from lib.core.train import TrainConfig
from lib.experiments import battery, chapter_params, timescales

TASKS = ("fdgo", "fdanti", "delaygo", "delayanti")
SMALL = dict(tasks=TASKS, n_rec=16, batch_size=64)
REPO = Path(__file__).resolve().parents[1]


def cues_of(config: TrainConfig, step: int, length: int, k: int) -> np.ndarray:
    """The history (B, H) a filter-trained step draws, redrawn from its stream."""
    rng = np.random.default_rng(step_seed(config.seed, STREAM_CUES, step))
    return filters.draw_cue_history(k, len(config.tasks), config.batch_size, length, rng)


# ------------------------------------------------------------------------------ known answers
@pytest.mark.parametrize("tau", [100.0, 300.0])
def test_fast_context_starts_at_the_previous_cue_and_converges_geometrically(tau):
    cfg = TrainConfig("exc", train_filter_exc="fast", train_tau_fast=tau, **SMALL)
    rate, T, k = yang_tasks.DT / tau, 50, 2
    switched = 0
    for step in range(10):
        c, syn = train.training_contexts(cfg, k, step, T)
        assert syn is None and c.shape == (T, 64, 4) and c.dtype == torch.float32
        c = c.double().numpy()
        e_k = np.eye(4)[k]
        for b in range(64):
            prev = c[0, b]
            if np.array_equal(prev, e_k):  # no switch: exactly one-hot at every step
                assert (c[:, b] == e_k).all()
                continue
            switched += 1
            j = int(np.argmax(prev))
            assert j != k and np.array_equal(prev, np.eye(4)[j])  # the previous cue, exactly
            expected = e_k + (prev - e_k) * (1 - rate) ** np.arange(T)[:, None]
            np.testing.assert_allclose(c[:, b], expected, rtol=0, atol=1e-6)
    # switches at the stated probability: 640 trials, p = 0.25 (s.d. of the count 11)
    assert abs(switched / 640 - filters.TRAIN_SWITCH_PROB) < 0.06


def test_slow_context_is_the_low_pass_of_its_history():
    cfg = TrainConfig("syn_lowrank", train_filter_syn="slow", **SMALL)
    r, k = 1 / filters.TAU_SLOW_TRIALS, 1
    H = filters.history_length(r)
    assert H == 17  # (3/4)^17 = 0.0075 <= 0.01 < (3/4)^16 = 0.0100
    assert (1 - r) ** H <= filters.HISTORY_TOLERANCE < (1 - r) ** (H - 1)
    for step in range(5):
        c, syn = train.training_contexts(cfg, k, step, 40)
        assert syn is None and c.shape == (64, 4)  # constant within the trial
        hist = cues_of(cfg, step, H, k)
        eye = np.eye(4)
        expected = (1 - r) ** H * eye[hist[:, 0]] + sum(
            r * (1 - r) ** (H - 1 - j) * eye[hist[:, j]] for j in range(H)
        )
        np.testing.assert_allclose(c.double().numpy(), expected, rtol=0, atol=1e-6)
        np.testing.assert_allclose(c.sum(1).double().numpy(), 1.0, atol=1e-6)
        after_switch = torch.as_tensor(hist[:, -1] != k)  # the previous trial another task
        assert after_switch.any() and (c[after_switch, k] <= 1 - r + 1e-6).all()


@pytest.mark.parametrize("mode", ["fast", "slow", "instant"])
def test_planted_histories_without_and_with_a_switch(mode):
    """No switch (every earlier cue k): exactly e_k in every mode. A block of j just before: the
    slow state is exactly e_j (trial n does not see its own cue), the fast one starts there."""
    k, j, T, H = 1, 2, 12, 5
    same = filters.filter_history(mode, k, np.full((3, H), k), 4, T, 0.2, 0.25)
    assert same.shape == (3, 4) and (same == np.eye(4)[k]).all()
    block = filters.filter_history(mode, k, np.full((3, H), j), 4, T, 0.2, 0.25)
    if mode == "instant":
        assert (block == np.eye(4)[k]).all()
    elif mode == "slow":
        assert (block == np.eye(4)[j]).all()
    else:
        assert block.shape == (T, 3, 4) and (block[0] == np.eye(4)[j]).all()
        np.testing.assert_allclose(block[:, 0, j], 0.8 ** np.arange(T), rtol=0, atol=1e-12)


def test_the_hybrid_pathways_filter_one_history():
    cfg = TrainConfig("hybrid", train_filter_exc="fast", train_filter_syn="slow", **SMALL)
    k, T = 3, 60
    exc, syn = train.training_contexts(cfg, k, 7, T)
    assert exc.shape == (T, 64, 4) and syn.shape == (64, 4)
    hist = cues_of(cfg, 7, filters.history_length(1 / cfg.train_tau_slow), k)
    # the fast state at the trial's start is the previous cue, to within 0.8^T of the gap
    np.testing.assert_allclose(exc[0].double().numpy(), np.eye(4)[hist[:, -1]], atol=1e-5)
    # the other assignment gives the states the other way round, from the same history
    swapped = cfg.replace(train_filter_exc="slow", train_filter_syn="fast")
    exc2, syn2 = train.training_contexts(swapped, k, 7, T)
    assert torch.equal(exc2, syn) and torch.equal(syn2, exc)


def test_drawn_histories_switch_at_the_stated_rate_to_other_tasks_uniformly():
    rng = np.random.default_rng(0)
    hist = filters.draw_cue_history(2, 4, 20_000, 6, rng, switch_prob=0.25)
    seq = np.concatenate([hist, np.full((20_000, 1), 2)], axis=1)  # the trial's own cue last
    change = seq[:, 1:] != seq[:, :-1]
    assert abs(change.mean() - 0.25) < 0.005  # 120,000 transitions (s.d. 0.0013)
    before = seq[:, -2][change[:, -1]]  # the previous cue of the trials after a switch
    counts = np.bincount(before, minlength=4)
    assert counts[2] == 0  # a switch goes to another task
    # uniform over the other three: about 1,670 each (s.d. 0.014 relative)
    np.testing.assert_allclose(counts[[0, 1, 3]] / counts.sum(), 1 / 3, rtol=0.06)
    assert (filters.draw_cue_history(1, 3, 50, 4, rng, switch_prob=0.0) == 1).all()


def test_train_switch_prob_is_e5s_pooled_switch_rate():
    """TRAIN_SWITCH_PROB against the sequences E5 tests on, per trial transition: blocked
    (n_blocks - 1 switches), interleaved (each transition a switch with probability 1/2), the two
    error sequences (2 cue changes each)."""
    for profile in ("quick", "paper"):
        s = timescales.TimescalesSpec.from_profile(profile)
        L = 2 + s.error_after
        changes = (s.n_blocks - 1) + 0.5 * (s.n_interleaved - 1) + 2 * 2
        transitions = (s.block * s.n_blocks - 1) + (s.n_interleaved - 1) + 2 * (L - 1)
        assert abs(changes / transitions - filters.TRAIN_SWITCH_PROB) < 0.01, profile


# ------------------------------------------------------------------------------ one implementation
def test_e5_uses_the_core_filters():
    assert timescales.fast_filter is filters.fast_filter
    assert timescales.slow_filter is filters.slow_filter
    assert timescales.MODES is filters.MODES
    assert issubclass(timescales.Modulation, filters.ModulationState)
    for profile in ("smoke", "quick", "paper"):  # the training defaults are E5's constants
        p = chapter_params("timescales", profile)
        assert (p.tau_fast, p.tau_slow) == (filters.TAU_FAST_MS, filters.TAU_SLOW_TRIALS)


def test_batched_filters_equal_the_per_trial_ones_bit_for_bit():
    rng = np.random.default_rng(1)
    m0, cue = rng.dirichlet(np.ones(5), 7), np.eye(5)[rng.integers(0, 5, 7)]
    traj, end = filters.fast_filter(m0, cue, 30, 0.2)
    for b in range(7):
        t1, e1 = filters.fast_filter(m0[b], cue[b], 30, 0.2)
        assert np.array_equal(traj[:, b], t1) and np.array_equal(end[b], e1)
        assert np.array_equal(
            filters.slow_filter(m0, cue, 0.25)[b], filters.slow_filter(m0[b], cue[b], 0.25)
        )


# ------------------------------------------------------------------------------ unchanged defaults
def test_the_instant_control_is_todays_training():
    cfg = TrainConfig("hybrid", **SMALL)
    assert not cfg.filtered
    c, syn = train.training_contexts(cfg, 1, 5, 40)
    assert syn is None and torch.equal(c, train.training_context(cfg, 1, 5))
    for name in ("train_filter_exc", "train_filter_syn", "train_tau_fast", "train_tau_slow"):
        assert name not in cfg.to_dict()
    filtered = cfg.replace(train_filter_syn="slow")
    assert filtered.to_dict()["train_filter_syn"] == "slow"
    assert "train_tau_slow" not in filtered.to_dict()  # at its default


def test_every_shipped_network_keeps_its_config_and_key():
    stamps = sorted((REPO / "artifacts" / "network").glob("*.json"))
    assert len(stamps) > 100
    for path in stamps:
        d = json.loads(path.read_text())["config"]
        assert TrainConfig.from_dict(d).to_dict() == d, path.name
        assert artifacts.artifact_key("network", TrainConfig.from_dict(d).to_dict()) == path.stem


def test_filters_leave_the_batch_and_noise_streams_alone():
    plain = TrainConfig("exc", **SMALL)
    fast = plain.replace(train_filter_exc="fast")
    history = train.History(TASKS)
    for step in (0, 3):
        a, b = train.training_batch(plain, step, history), train.training_batch(fast, step, history)
        assert a[0] == b[0] and all(torch.equal(u, v) for u, v in zip(a[1:], b[1:]))


# ------------------------------------------------------------------------------ reproducibility
def test_same_seed_and_step_same_contexts_others_differ():
    cfg = TrainConfig("hybrid", train_filter_exc="slow", train_filter_syn="fast", **SMALL)
    a = train.training_contexts(cfg, 0, 4, 30)
    b = train.training_contexts(cfg, 0, 4, 30)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[0], train.training_contexts(cfg, 0, 5, 30)[0])
    assert not torch.equal(a[0], train.training_contexts(cfg.replace(seed=1), 0, 4, 30)[0])


@pytest.mark.slow
def test_a_filter_trained_run_learns_and_is_reproducible():
    torch.set_num_threads(1)
    cfg = TrainConfig(
        "hybrid",
        tasks=("fdgo", "fdanti"),
        n_rec=16,
        batch_size=16,
        max_steps=60,
        eval_every=20,
        eval_trials=16,
        train_filter_exc="fast",
        train_filter_syn="slow",
    )
    res = train.train(cfg, progress=False)
    loss = np.array(res.history.loss[1:])
    assert np.isfinite(loss).all() and loss[-1] < 0.7 * loss[0], loss
    again = train.train(cfg, progress=False)
    assert torch.equal(res.model.W_rec, again.model.W_rec)
    plain = train.train(
        cfg.replace(train_filter_exc="instant", train_filter_syn="instant"), progress=False
    )
    assert not torch.equal(res.model.W_rec, plain.model.W_rec)  # the filter changed training


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "bad, match",
    [
        (
            dict(train_filter_exc="medium"),
            r"train_filter_exc='medium' is not allowed; "
            r"expected one of 'instant', 'fast', 'slow'",
        ),
        (dict(train_filter_syn=None), r"train_filter_syn=None is not allowed"),
        (
            dict(mechanism="exc", train_filter_syn="fast"),
            r"train_filter_syn='fast' .*mechanism 'exc' has no 'syn' pathway "
            r"\(its pathways: exc\)",
        ),
        (
            dict(mechanism="syn_lowrank", train_filter_exc="slow"),
            r"train_filter_exc='slow' .*has no 'exc' pathway",
        ),
        (dict(mechanism="none", train_filter_exc="fast"), r"its pathways: none"),
        (
            dict(train_filter_exc="fast", train_tau_fast=10.0),
            r"train_tau_fast=10.0 is not allowed; expected a time constant in ms, >= 20",
        ),
        (dict(train_filter_exc="slow", train_tau_slow=0.5), r"train_tau_slow=0.5 is not allowed"),
        (dict(train_filter_exc="slow", train_tau_slow=float("inf")), r"train_tau_slow=inf"),
        (
            dict(train_tau_fast=300.0),
            r"train_tau_fast=300.0 .*no pathway is trained with the 'fast' filter",
        ),
        (dict(train_filter_exc="fast", train_tau_slow=8.0), r"train_tau_slow=8.0 .*'slow' filter"),
        (dict(train_filter_exc="fast", tasks=("fdgo",)), r"at least two tasks"),
        (
            dict(train_filter_syn="slow", train_mix=0.2),
            r"train_mix=0.2 is not allowed with a training filter",
        ),
    ],
)
def test_bad_filter_settings_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**({"mechanism": "hybrid"} | SMALL | bad))


def test_the_ensemble_refuses_filter_trained_configs():
    cfgs = [TrainConfig("exc", train_filter_exc="fast", seed=s, **SMALL) for s in (0, 1)]
    with pytest.raises(
        ValueError,
        match=r"configs\[0\]\.train_filter_\*=\('fast', 'instant'\) is not allowed; "
        r"expected \('instant', 'instant'\): an ensemble trains on one-hot",
    ):
        ensemble.check_members(cfgs)


def test_filter_functions_name_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_tasks=1 is not allowed; expected an integer >= 2"):
        filters.draw_cue_history(0, 1, 4, 2, rng)
    with pytest.raises(ValueError, match="k=4 is not allowed"):
        filters.draw_cue_history(4, 4, 4, 2, rng)
    with pytest.raises(ValueError, match="switch_prob=1.5"):
        filters.draw_cue_history(0, 4, 4, 2, rng, switch_prob=1.5)
    with pytest.raises(ValueError, match="tau_fast=5"):
        filters.fast_rate(5)
    with pytest.raises(ValueError, match="mode='medium'"):
        filters.ModulationState("medium", 0, 2, 0.2, 0.25)


# ------------------------------------------------------------------------------ E5's networks
QUICK = timescales.TimescalesSpec.from_profile("quick")


def test_filter_trained_configs_of_e5():
    spec = battery.BatterySpec.from_params(chapter_params("battery", "quick"))
    configs = timescales.filter_trained_configs(spec, QUICK)
    assert len(configs) == 6 * spec.n_seeds
    hyb = configs[("hybrid@exc_fast_syn_slow", 0)]
    assert (hyb.train_filter_exc, hyb.train_filter_syn) == ("fast", "slow")
    assert hyb.replace(train_filter_exc="instant", train_filter_syn="instant") == spec.config(
        "hybrid", 0
    )
    exc = configs[("exc@both_slow", 2)]
    assert (exc.train_filter_exc, exc.train_filter_syn, exc.seed) == ("slow", "instant", 2)
    syn = configs[("syn_lowrank_r1@both_fast", 1)]
    assert (syn.train_filter_exc, syn.train_filter_syn) == ("instant", "fast")
    for key, cfg in configs.items():
        label, assignment = timescales.split_trained_label(key[0])
        assert timescales.trained_label(label, assignment) == key[0]
        assert cfg.filtered and cfg.mechanism == spec.config(label, 0).mechanism


def test_the_control_is_e1s_own_network_and_bad_assignments_are_named():
    cfg = TrainConfig("exc", **SMALL)
    assert timescales.filter_trained_config(cfg, "both_instant", QUICK) == cfg
    assert timescales.trained_label("exc", "both_instant") == "exc"
    slow = timescales.filter_trained_config(
        cfg, "both_slow", dataclasses.replace(QUICK, tau_slow=8.0)
    )
    assert slow.train_tau_slow == 8.0 and slow.to_dict()["train_tau_slow"] == 8.0
    assert TrainConfig.from_dict(slow.to_dict()) == slow
    with pytest.raises(
        ValueError,
        match="assignment='exc_fast_syn_slow' is not allowed; expected one of both_fast",
    ):
        timescales.filter_trained_config(cfg, "exc_fast_syn_slow", QUICK)
    with pytest.raises(ValueError, match="assignment='both_medium'"):
        timescales.filter_trained_config(cfg, "both_medium", QUICK)
    with pytest.raises(ValueError, match="label='hybrid@nope'"):
        timescales.split_trained_label("hybrid@nope")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_mechanism_pathways_are_the_pathways_with_parameters(mechanism):
    model = ModulatedRNN(mechanism, 4, 2)
    have = {p for p in PATHWAYS if model.modulation_parameters(p)}
    assert set(mechanism_pathways(mechanism)) == have


@pytest.mark.parametrize(
    "mechanism, modes",
    [
        ("hybrid", ("slow", "fast")),
        ("exc", ("fast", "instant")),
        ("syn_lowrank", ("instant", "slow")),
    ],
)
def test_a_filtered_train_step_feeds_the_model_its_filtered_contexts(mechanism, modes, monkeypatch):
    cfg = TrainConfig(
        mechanism,
        train_filter_exc=modes[0],
        train_filter_syn=modes[1],
        **(SMALL | dict(batch_size=32)),
    )
    model = train.build_model(cfg)
    params = train.trainable_parameters(model, cfg.trainable)
    opt = train.make_optimizer(params, cfg.lr, torch.device("cpu"))
    seen = []
    forward = ModulatedRNN.forward

    def spy(self, x, c, **kw):
        seen.append((x.shape[0], c, kw.get("syn_context")))
        return forward(self, x, c, **kw)

    monkeypatch.setattr(ModulatedRNN, "forward", spy)
    loss = train.train_step(model, opt, params, cfg, 2, train.History(TASKS))
    assert torch.isfinite(loss)
    T, c, syn = seen[0]
    k = train.training_batch(cfg, 2, train.History(TASKS))[0]
    want_c, want_syn = train.training_contexts(cfg, k, 2, T)
    assert torch.equal(c, want_c) and (syn is None) == (want_syn is None)
    if syn is not None:
        assert torch.equal(syn, want_syn)
    filtered = syn if mechanism == "hybrid" else c  # the hybrid's syn pathway is fast here
    assert filtered.shape != (32, 4) or not torch.equal(filtered, train.training_context(cfg, k, 2))
