"""lib.analysis.stats: known answers for intervals, paired tests and Holm's correction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from lib.analysis.stats import holm, mean_ci, paired, sign_flip_p


def test_mean_ci_known_answer():
    m, h = mean_ci([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0) and h == pytest.approx(4.303 * 1.0 / math.sqrt(3))


def test_paired_matches_scipy_and_uses_only_common_seeds():
    a = {0: 0.9, 1: 0.8, 2: 0.95, 3: 0.7, 9: 0.1}
    b = {0: 0.7, 1: 0.75, 2: 0.8, 3: 0.72, 4: 0.3}
    r = paired(a, b)
    d = np.array([0.2, 0.05, 0.15, -0.02])
    assert r["n"] == 4 and r["diff"] == pytest.approx(d.mean())
    p = sps.ttest_rel([0.9, 0.8, 0.95, 0.7], [0.7, 0.75, 0.8, 0.72]).pvalue
    assert r["p"] == pytest.approx(p)
    assert r["dz"] == pytest.approx(d.mean() / d.std(ddof=1))
    assert r["lo"] < r["diff"] < r["hi"]


def test_paired_degenerate_cases():
    assert math.isnan(paired({0: 1.0}, {0: 0.5})["p"])
    same = paired({0: 0.5, 1: 0.7}, {0: 0.4, 1: 0.6})  # identical differences: sd = 0
    assert same["p"] == 0.5 and same["dz"] == math.inf  # exact sign-flip p, never 0
    assert paired({0: np.nan, 1: 0.5}, {0: 0.3, 1: 0.1})["n"] == 1


def test_holm_known_answer():
    # p sorted 0.01, 0.02, 0.04 with m = 3: 0.03, 0.04, 0.04 (monotone), original order kept
    np.testing.assert_allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    out = holm([0.5, np.nan, 0.01])
    assert np.isnan(out[1]) and out[2] == pytest.approx(0.02) and out[0] == pytest.approx(0.5)
    assert holm([0.9, 0.8]).max() <= 1.0


def test_sign_flip_p_known_answers():
    assert sign_flip_p([2, 2, 2]) == 0.25  # the smallest p over 3 pairs: 2 / 2^3
    assert sign_flip_p([1.0] * 6) == 2 / 64
    assert sign_flip_p([0, 0, 0]) == 1.0
    assert sign_flip_p([1, -1, 2]) == 0.75  # 6 of the 8 sign patterns reach |mean| 2/3
    assert np.isnan(sign_flip_p([]))
