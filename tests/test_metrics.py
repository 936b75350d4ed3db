"""lib.core.metrics on hand-made inputs: popvec, Yang's performance, the masked lsq loss."""

import numpy as np
import pytest
import torch

from lib.core.metrics import masked_mse, performance, popvec
from lib.core.tasks import N_OUTPUT, ring_bump


def _outputs(fix: list[float], angles: list[float], T: int = 3) -> np.ndarray:
    """(T, B, 33) outputs: fixation output ``fix[b]``, a ring bump at ``angles[b]`` (nan = flat)."""
    B = len(fix)
    y = np.full((T, B, N_OUTPUT), 0.05, np.float32)
    y[:, :, 0] = fix
    for b, a in enumerate(angles):
        if not np.isnan(a):
            y[:, b, 1:] += ring_bump(np.array([a]))[0]
    return y


@pytest.mark.parametrize("angle", [0.0, 0.3, np.pi / 16 * 5, np.pi, 1.7 * np.pi, 2 * np.pi - 1e-3])
def test_popvec_of_a_bump_is_its_centre(angle):
    bump = ring_bump(np.array([angle]))[0]
    got = popvec(bump)
    assert 0 <= got < 2 * np.pi
    d = abs(got - angle)
    assert min(d, 2 * np.pi - d) < 1e-9
    # torch input gives a tensor with the same value; a constant baseline does not move the angle
    t = popvec(torch.from_numpy(bump + 0.05)[None])
    assert isinstance(t, torch.Tensor) and t.shape == (1,)
    d = abs(float(t[0]) - angle)
    assert min(d, 2 * np.pi - d) < 1e-6


def test_popvec_batches_over_leading_axes():
    angles = np.array([[0.1, 2.0], [4.0, 6.0]])
    bumps = ring_bump(angles.ravel()).reshape(2, 2, 32)
    np.testing.assert_allclose(popvec(bumps), angles, atol=1e-9)


def test_performance_known_cases():
    target = 1.0
    #            correct  wrong angle  broken fixation  fixate trial (ok)  fixate trial (went)
    fix = [0.05, 0.05, 0.8, 0.8, 0.05]
    angles = [target + 0.1, target + 0.25 * np.pi, target, np.nan, 3.0]
    y_hat = _outputs(fix, angles)
    y_loc = np.full((3, 5), -1.0, np.float32)
    y_loc[-1, :3] = target
    np.testing.assert_array_equal(performance(y_hat, y_loc), [1, 0, 0, 1, 0])
    # only the last step counts: a wrong earlier step changes nothing
    y_hat[0] = 0.0
    np.testing.assert_array_equal(performance(y_hat, y_loc), [1, 0, 0, 1, 0])
    # torch inputs give the same numpy result
    got = performance(torch.from_numpy(y_hat), torch.from_numpy(y_loc))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_array_equal(got, [1, 0, 0, 1, 0])


def test_performance_tolerance_is_periodic_and_strict():
    # a target at 0.05 and a response at 2 pi - 0.05 are 0.1 rad apart (periodic distance)
    y_hat = _outputs([0.0, 0.0, 0.0], [2 * np.pi - 0.05, 0.05 + 0.19 * np.pi, 0.05 + 0.21 * np.pi])
    y_loc = np.full((3, 3), 0.05, np.float32)
    np.testing.assert_array_equal(performance(y_hat, y_loc), [1, 1, 0])


def test_performance_rejects_bad_shapes():
    with pytest.raises(ValueError, match="y_hat"):
        performance(np.zeros((4, 33)), np.zeros((4,)))
    with pytest.raises(ValueError, match="y_loc"):
        performance(np.zeros((4, 2, 33)), np.zeros((4, 3)))


def test_masked_mse_equals_hand_computation():
    rng = np.random.default_rng(0)
    y_hat, y = rng.random((5, 3, 33)), rng.random((5, 3, 33))
    c_mask = rng.choice([0.0, 1.0, 2.0, 5.0, 10.0], (5, 3, 33))
    want = np.mean(((y_hat - y) * c_mask) ** 2)  # mask inside the square
    got = masked_mse(torch.tensor(y_hat), torch.tensor(y), torch.tensor(c_mask))
    assert isinstance(got, torch.Tensor) and got.ndim == 0
    assert float(got) == pytest.approx(want, rel=1e-12)
    # tiny hand example: one masked error of 0.5 with weight 2 among 4 entries -> (1.0)^2 / 4
    a = torch.zeros(1, 1, 4)
    b = torch.tensor([[[0.5, 0.0, 0.3, 0.0]]])
    m = torch.tensor([[[2.0, 1.0, 0.0, 1.0]]])
    assert float(masked_mse(a, b, m)) == pytest.approx(0.25)
    # numpy inputs and gradients
    yh = torch.tensor(y_hat, requires_grad=True)
    loss = masked_mse(yh, y, c_mask)
    loss.backward()
    np.testing.assert_allclose(yh.grad.numpy(), 2 * (y_hat - y) * c_mask**2 / y.size, rtol=1e-10)
    with pytest.raises(ValueError, match="same shape"):
        masked_mse(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 2))
