"""Yang et al. (2019) read-outs: population vector, performance (``get_perf``) and the lsq loss.

Shapes are time-major as in :mod:`lib.core.tasks`: ``y_hat`` (T, B, 33) network outputs (0 =
fixation,
1..32 = response ring), ``y_loc`` (T, B) target angle in rad (-1 = fixate), ``c_mask`` (T, B, 33).
Every function accepts numpy arrays or torch tensors.
"""

from __future__ import annotations

import numpy as np
import torch

from lib.core.tasks import N_OUTPUT, N_RING

TOLERANCE = 0.2 * np.pi  # a response counts as correct within 36 degrees of the target
FIXATION_THRESHOLD = 0.5  # the network "fixates" while its fixation output exceeds this


def _numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def popvec(y_ring):
    """Population-vector angle in [0, 2 pi) of ring activity (last axis, n units at 2 pi k / n).

    ``theta = atan2(sum_k y_k sin(phi_k) / S, sum_k y_k cos(phi_k) / S) mod 2 pi`` with
    ``S = sum_k y_k``, exactly Yang's ``popvec`` (S matters only in sign: negative total activity
    flips the angle by pi; S = 0 gives nan), except that an angle rounding to 2 pi is returned as 0.
    Returns the input's type (numpy float64 array or torch
    float64 tensor) with shape ``y_ring.shape[:-1]``.
    """
    n = y_ring.shape[-1]
    pref = np.arange(0, 2 * np.pi, 2 * np.pi / n)
    if isinstance(y_ring, torch.Tensor):
        y = y_ring.to(torch.float64)
        total = y.sum(-1)
        cos = torch.as_tensor(np.cos(pref), device=y.device)
        sin = torch.as_tensor(np.sin(pref), device=y.device)
        theta = torch.remainder(torch.atan2((y @ sin) / total, (y @ cos) / total), 2 * np.pi)
        return torch.where(theta < 2 * np.pi, theta, 0.0)
    y_np = np.asarray(y_ring, dtype=np.float64)
    total_np = y_np.sum(-1)
    theta_np = np.mod(
        np.arctan2((y_np @ np.sin(pref)) / total_np, (y_np @ np.cos(pref)) / total_np), 2 * np.pi
    )
    return np.where(theta_np < 2 * np.pi, theta_np, 0.0)  # mod(-1e-17, 2 pi) rounds to 2 pi


def performance(y_hat, y_loc) -> np.ndarray:
    """Yang's ``get_perf``: per-trial correctness (B,) float64 in {0, 1}, judged at the LAST step.

    The network fixates if ``y_hat[-1, :, 0] > 0.5``. A trial with ``y_loc[-1] < 0`` (should fixate)
    is correct if fixating; otherwise correct if not fixating and the population-vector angle of
    ``y_hat[-1, :, 1:]`` is within 0.2 pi of ``y_loc[-1]`` (periodic distance).
    """
    if len(y_hat.shape) != 3 or y_hat.shape[-1] != N_OUTPUT:
        raise ValueError(f"y_hat must have shape (T, B, {N_OUTPUT}), got {tuple(y_hat.shape)}")
    if tuple(y_loc.shape) != tuple(y_hat.shape[:2]):
        raise ValueError(
            f"y_loc must have shape (T, B) = {tuple(y_hat.shape[:2])}, got {tuple(y_loc.shape)}"
        )
    last = _numpy(y_hat[-1]).astype(np.float64)  # only the last step leaves the device
    target = _numpy(y_loc[-1]).astype(np.float64)
    fixating = last[:, 0] > FIXATION_THRESHOLD
    d = np.abs(target - popvec(last[:, 1 : 1 + N_RING]))
    correct_loc = np.minimum(d, 2 * np.pi - d) < TOLERANCE
    should_fix = target < 0
    return np.where(should_fix, fixating, correct_loc & ~fixating).astype(np.float64)


def mean_perf(y_hat, y_loc) -> float:
    """Mean performance of a batch. A response ring whose outputs all underflow to exactly 0
    (possible after lesions) has no population-vector angle: such trials count as wrong,
    without a division warning."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(performance(y_hat, y_loc).mean())


def masked_mse(y_hat, y, c_mask) -> torch.Tensor:
    """Yang's lsq loss ``mean(((y_hat - y) * c_mask) ** 2)`` over all T x B x 33 entries.

    The mask multiplies the error before squaring, so its weights act squared (Yang). Numpy inputs
    are converted to tensors on ``y_hat``'s device; the result is a torch scalar.
    """
    ref = y_hat if isinstance(y_hat, torch.Tensor) else None
    y_hat, y, c_mask = (
        torch.as_tensor(
            a,
            dtype=ref.dtype if ref is not None else torch.float32,
            device=ref.device if ref is not None else None,
        )
        for a in (y_hat, y, c_mask)
    )
    if not (y_hat.shape == y.shape == c_mask.shape):
        raise ValueError(
            f"y_hat {tuple(y_hat.shape)}, y {tuple(y.shape)} and c_mask "
            f"{tuple(c_mask.shape)} must have the same shape"
        )
    return torch.mean(((y_hat - y) * c_mask) ** 2)
