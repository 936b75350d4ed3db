"""Tolerances of the tests that compare a recomputation with a stored or independent result.

Each is sized by the computation it checks, not by what passed on one machine. The lowest
precision in the pipeline is float32 (networks run and train in float32: machine epsilon
``FLOAT32_EPS`` = 1.19e-7). Sums of N products are reduced in an order that depends on the BLAS
kernel (AVX2, AVX-512), the thread count and the library build, so two CPUs agree on a float32
rate to a few eps times sqrt(N) at best; quantities computed from those rates (variances, PCA,
silhouettes, ratios) inherit that relative error, amplified by the conditioning of the step.
``tests/test_tolerances.py`` shows, for each kind, that a planted change of the computation's
input or result larger than the tolerance fails the comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FLOAT32_EPS = float(np.finfo(np.float32).eps)

# E4's analyses recomputed from a shipped network (tests/test_dynamics_chapter.py). The rates are
# float32 (relative error ~1e-7 across CPUs, observed 1.1e-6 on a cluster silhouette of an AMD
# EPYC vs the machine that made the artifact: k-means sums and the silhouette's distance matrix
# add hundreds of such terms); the fixed-point solver (float64 Newton) stops at a speed tolerance,
# so a point moves with its float32 inputs. rtol 1e-4 leaves a factor ~100 over the largest
# observed difference; atol is ten float32 eps of rates of order 1 (for quantities that are zero
# up to rounding). A relative change of the network's weights of 1e-3 exceeds both.
ANALYSIS = {"rtol": 1e-4, "atol": 1e-6}

# Trained weights made twice (a shipped network retrained, an ensemble against single training):
# Adam steps on float32 gradients whose reductions differ by ~eps per step compound over the run;
# a few hundred steps of a smoke network move weights by ~1e-6 relative, a relative change of the
# learning rate of 1e-3 moves them by more than 1e-4.
TRAINED_WEIGHTS = {"rtol": 1e-4, "atol": 1e-5}

# Trials rendered by lib.core.tasks against those of Yang et al.'s code (tests/fixtures/yang2019):
# both compute in float64 and store float32 values of order 1, so they agree to float32 rounding
# (6e-8); atol 1e-6 adds room for float64 transcendental functions of other libm builds, while
# a stimulus moved by 1e-4 rad changes the inputs by ~1e-4.
RENDERED_TRIALS = {"rtol": 0.0, "atol": 1e-6}

# The behaviour goldens (tests/test_behaviour.py, its own RTOL/ATOL, equal to these): a few float32
# training steps of a tiny network (N = 8, one thread), losses and parameter sums of order 1, so
# cross-CPU differences stay at a few eps; exact equality would tie the goldens to one BLAS build.
GOLDEN = {"rtol": 1e-5, "atol": 1e-6}


def assert_tree_close(a, b, tolerance: dict, path: str = "") -> None:
    """Assert that two nested analysis outputs (dicts, DataFrames, arrays, numbers, strings) are
    equal: floats within ``tolerance`` ({"rtol", "atol"}), everything else exactly; the failure
    names the path of the first difference."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_tree_close(a[k], b[k], tolerance, f"{path}/{k}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, **tolerance, obj=path)
    elif isinstance(a, (list, tuple)) and a and isinstance(a[0], str):
        assert list(a) == list(b), path
    elif a is None or isinstance(a, (str, bool, int)):
        assert a == b, path
    else:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **tolerance, err_msg=path)
