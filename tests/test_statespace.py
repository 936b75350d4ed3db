"""lib.core.statespace: PCA, participation ratio, principal angles, Yang's task variance, unit
clustering and fractional task variance, each on a case with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.core import statespace
from lib.core.model import ModulatedRNN
from lib.core.seeds import one_hot
from lib.core.train import TrainConfig, evaluation_batches


def test_pca_recovers_a_known_covariance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 3)) * np.array([3.0, 1.0, 0.5])
    mean, comps, var = statespace.pca(X)
    np.testing.assert_allclose(var, [9.0, 1.0, 0.25], rtol=0.05)
    np.testing.assert_allclose(np.abs(comps[:, 0]), [1, 0, 0], atol=0.02)
    assert comps[np.abs(comps[:, 0]).argmax(), 0] > 0  # sign convention


def test_participation_ratio_line_isotropic_and_silent():
    rng = np.random.default_rng(1)
    line = np.outer(rng.normal(size=500), rng.normal(size=8))
    assert statespace.participation_ratio(line) == pytest.approx(1.0, abs=1e-9)
    iso = rng.normal(size=(50000, 8))
    assert statespace.participation_ratio(iso) == pytest.approx(8.0, rel=0.02)
    assert statespace.participation_ratio(np.ones((10, 4))) == 0.0
    # equal variance on 2 of 4 axes: PR = 2 exactly
    X = np.zeros((4, 4))
    X[:2, 0], X[2:, 1] = [1, -1], [1, -1]
    assert statespace.participation_ratio(X) == pytest.approx(2.0)


def test_n_components():
    assert statespace.n_components(np.array([9.0, 1.0, 0.0]), 0.9) == 1
    assert statespace.n_components(np.array([5.0, 4.0, 1.0]), 0.9) == 2
    with pytest.raises(ValueError, match="fraction=0 is not allowed"):
        statespace.n_components(np.ones(3), 0)


def test_principal_angles_known_cases():
    e = np.eye(4)
    np.testing.assert_allclose(statespace.principal_angles(e[:, :2], e[:, :2]), [0, 0], atol=1e-7)
    np.testing.assert_allclose(statespace.principal_angles(e[:, :2], e[:, 2:]), [np.pi / 2] * 2)
    tilted = np.array([[1.0, 0, 1.0, 0]]).T  # 45 degrees from e0
    np.testing.assert_allclose(statespace.principal_angles(e[:, :1], tilted), [np.pi / 4])
    # invariant to the basis chosen for each subspace
    rot = np.array([[1.0, 1.0], [1.0, -1.0]])
    np.testing.assert_allclose(
        statespace.principal_angles(e[:, :2] @ rot, e[:, 1:3]), [0, np.pi / 2], atol=1e-7
    )


def test_silhouette_hand_computed():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    # s = (b - a) / max(a, b): points 0 and 11: (10.5 - 1) / 10.5; points 1 and 10: (9.5 - 1) / 9.5
    expected = np.mean([9.5 / 10.5, 8.5 / 9.5, 8.5 / 9.5, 9.5 / 10.5])
    assert statespace.silhouette(X, np.array([0, 0, 1, 1])) == pytest.approx(expected)
    # a sample alone in its cluster scores 0
    assert statespace.silhouette(X, np.array([0, 1, 1, 1])) < expected
    with pytest.raises(ValueError, match="at least 2 clusters"):
        statespace.silhouette(X, np.zeros(4))


def test_kmeans_separated_clusters_and_seed():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [5, 5], [0, 5]])
    X = np.concatenate([c + 0.1 * rng.normal(size=(20, 2)) for c in centres])
    labels, inertia = statespace.kmeans(X, 3, n_init=5, seed=0)
    truth = np.repeat(np.arange(3), 20)
    # the same partition up to a relabelling
    assert len({(a, b) for a, b in zip(labels, truth)}) == 3
    again, _ = statespace.kmeans(X, 3, n_init=5, seed=0)
    np.testing.assert_array_equal(labels, again)
    assert inertia < 60 * 0.1


def test_cluster_units_finds_task_specific_groups():
    # 3 tasks, 30 units: units 0-9 vary on task 0 only, 10-19 on task 1, 20-29 on task 2
    rng = np.random.default_rng(2)
    tv = np.full((3, 30), 1e-3) * rng.uniform(0.5, 1, (3, 30))
    for k in range(3):
        tv[k, 10 * k : 10 * (k + 1)] = rng.uniform(0.5, 1.0, 10)
    out = statespace.cluster_units(tv, seed=0)
    assert out["k"] == 3
    assert len(out["active"]) == 30
    groups = [set(out["labels"][10 * k : 10 * (k + 1)]) for k in range(3)]
    assert all(len(g) == 1 for g in groups) and len(set.union(*groups)) == 3
    np.testing.assert_allclose(out["profiles"].max(1), 1.0)


def test_cluster_units_with_too_few_active_units():
    tv = np.zeros((2, 5))
    tv[0, 0] = 1.0
    out = statespace.cluster_units(tv)
    assert out["k"] == 1 and list(out["active"]) == [0]


def test_fractional_task_variance():
    tv = np.array([[1.0, 0.0, 0.5, 1e-5], [0.0, 1.0, 0.5, 1e-5]])
    np.testing.assert_allclose(statespace.fractional_task_variance(tv, 0, 1), [1.0, -1.0, 0.0])


def test_task_variance_and_stim_onset_on_a_network():
    cfg = TrainConfig(mechanism="exc", tasks=("fdgo", "delayanti"), n_rec=8, eval_trials=16)
    model = ModulatedRNN("exc", 8, 2, seed=0)
    batches = evaluation_batches(cfg)
    tv = statespace.task_variance(model, batches)
    assert tv.shape == (2, 8) and (tv >= 0).all()
    # by hand for task 1: variance over trials from the first step with a ring input on
    x = batches[1][0]
    t0 = int(np.flatnonzero((x[:, 0, 1:].abs() > 0.05).any(-1).numpy())[0])
    assert statespace.stim_onset(x) == t0 > 0
    _, r = model(x, one_hot(1, 2, x.shape[1]), noise=False)
    np.testing.assert_allclose(tv[1], r[t0:].var(dim=1).mean(dim=0).detach().numpy(), rtol=1e-6)
    assert statespace.stim_onset(torch.zeros(5, 2, 65)) == 0


def test_context_drive_known_answers():
    # exc_bias: dz = beta(e_k) = B[k] at every state -> RMS of B[k]; none: 0
    cfg = TrainConfig(mechanism="exc_bias", tasks=("fdgo", "fdanti"), n_rec=8, eval_trials=8)
    batches = evaluation_batches(cfg)
    m = ModulatedRNN("exc_bias", 8, 2, seed=3)
    drive = statespace.context_drive(m, batches)
    expected = m.B.detach().double().pow(2).mean(1).sqrt().numpy()
    np.testing.assert_allclose(drive, expected, rtol=1e-6)
    assert (statespace.context_drive(ModulatedRNN("none", 8, 2), batches) == 0).all()
