"""lib.analysis.verdicts: exact tests against enumeration, planted confounds, TOST, Holm, power,
the rule registry's fingerprints, and clear errors."""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import importlib
import pkgutil

import lib.analysis
from lib.analysis import verdicts

for _m in pkgutil.iter_modules(lib.analysis.__path__):  # every module's rules registered
    importlib.import_module(f"lib.analysis.{_m.name}")

GOLDEN = Path(__file__).parent / "goldens" / "verdict_rules.json"

RULE = verdicts.Rule(
    name="test.perf",
    claim="C1",
    version=1,
    family="test",
    measure="performance",
    unit="task",
    higher_is_better=True,
    sesoi=0.1,
    sesoi_reason="test",
    preregistered=True,
    seen="nothing",
)


def brute_force_p(d, alternative="two-sided"):
    """Enumerate the 2^n sign patterns explicitly (itertools), independent of the engine."""
    d = np.asarray(d, float)
    obs = d.mean()
    hits = 0
    patterns = list(itertools.product((-1, 1), repeat=len(d)))
    for s in patterns:
        m = float(np.dot(s, np.abs(d))) / len(d)
        hits += {
            "two-sided": abs(m) >= abs(obs) - 1e-12,
            "greater": m >= obs - 1e-12,
            "less": m <= obs + 1e-12,
        }[alternative]
    return hits / len(patterns)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_sign_flip_matches_enumeration(n, alternative):
    rng = np.random.default_rng(n)
    for _ in range(5):
        d = rng.normal(0.3, 1.0, n).round(2)
        assert verdicts.sign_flip_p(d, alternative) == pytest.approx(brute_force_p(d, alternative))


def test_floors_known():
    assert verdicts.min_p(3) == 0.25 and verdicts.min_p(6) == 0.03125
    assert verdicts.min_p(3, "greater") == 0.125
    assert verdicts.sign_flip_p([2, 2, 2]) == 0.25 and verdicts.sign_flip_p([1] * 6) == 0.03125
    assert verdicts.sign_flip_p([1] * 6, "greater") == 1 / 64
    assert verdicts.sign_flip_p([1] * 6, "less") == 1.0


def test_monte_carlo_beyond_exact_range_is_close_and_seeded():
    d = np.r_[np.ones(17) * 0.2, -0.1, 0.05]  # n = 19 > 16: Monte Carlo
    p1, p2 = verdicts.sign_flip_p(d), verdicts.sign_flip_p(d)
    assert p1 == p2 and 0 < p1 < 0.01
    assert verdicts.sign_flip_p(np.r_[np.ones(10), -np.ones(10)]) > 0.9


def table(rows: dict) -> pd.DataFrame:
    return pd.DataFrame(rows).T  # seeds as rows, units as columns


def test_planted_composition_confound():
    """A learned only the easy tasks (scored 0.95; the hard ones nan), B learned all (easy 0.95,
    hard 0.7): per-network means say A > B; on common units they are identical."""
    seeds = range(4)
    a = pd.DataFrame({"easy1": 0.95, "easy2": 0.95, "hard1": np.nan, "hard2": np.nan}, index=seeds)
    b = pd.DataFrame({"easy1": 0.95, "easy2": 0.95, "hard1": 0.7, "hard2": 0.7}, index=seeds)
    b.loc[:, ["easy1", "easy2"]] += np.array([0.01, -0.01, 0.0, 0.0])[:, None]
    naive = a.mean(axis=1) - b.mean(axis=1)
    assert (naive > 0.1).all()  # the confounded per-network means
    c = verdicts.decide([verdicts.compare(a, b, RULE, "A", "B")])[0]
    assert c.units == ["easy1", "easy2"] and c.n_units == 2
    assert abs(c.mean) < 1e-12 and c.verdict != "differ"


def test_planted_zero_variance_difference_is_never_differ():
    a = pd.DataFrame({"N": [5.0, 6.0, 7.0]}, index=[0, 1, 2])
    b = a - 2.0  # +2 in every one of 3 seeds
    c = verdicts.decide([verdicts.compare(a, b, RULE, "exc", "syn")])[0]
    assert c.p == 0.25 and c.p_floor == 0.25 and c.verdict == "inconclusive"
    assert "p = 0.25 (smallest attainable with 3 seeds)" in c.text()
    assert "p = 0 " not in c.text() and "p = 0." not in c.text().replace("p = 0.25", "")


def test_tost_equivalence_on_planted_data():
    rng = np.random.default_rng(0)
    base = pd.DataFrame(rng.uniform(0.8, 0.95, (8, 3)), columns=list("xyz"))
    near = base + rng.normal(0, 0.005, (8, 3))  # |d| << sesoi 0.1 in every seed
    far = base + 0.3
    eq = verdicts.decide([verdicts.compare(near, base, RULE)])[0]
    assert eq.verdict == "equivalent" and eq.p_tost < 0.05
    assert -0.1 < eq.ci90[0] < eq.ci90[1] < 0.1
    diff = verdicts.decide([verdicts.compare(far, base, RULE)])[0]
    assert diff.verdict == "differ" and diff.p == verdicts.min_p(8)
    # a difference straddling the SESOI with few seeds: neither
    mid = verdicts.decide(
        [verdicts.compare(base.iloc[:3] + np.array([[0.1], [-0.05], [0.12]]), base.iloc[:3], RULE)]
    )[0]
    assert mid.verdict == "inconclusive"


def test_tost_p_is_max_of_two_exact_one_sided():
    d = np.array([0.02, -0.01, 0.03, 0.0, 0.01, -0.02])
    a = pd.DataFrame({"u": d})
    b = pd.DataFrame({"u": np.zeros(6)})
    c = verdicts.compare(a, b, RULE)
    assert c.p_tost == max(brute_force_p(d + 0.1, "greater"), brute_force_p(d - 0.1, "less"))
    assert c.p_tost == 1 / 64


def test_holm_within_family_only():
    other = verdicts.with_rule(RULE, name="test.other", family="other")
    rng = np.random.default_rng(1)
    base = pd.DataFrame(rng.uniform(0, 1, (6, 2)))
    comps = [
        verdicts.compare(base + 1, base, RULE),
        verdicts.compare(base + 1, base, RULE),
        verdicts.compare(base + 1, base, other),
    ]
    verdicts.decide(comps)
    assert comps[0].p_holm == pytest.approx(2 * verdicts.min_p(6))  # 2 in family "test"
    assert comps[2].p_holm == pytest.approx(verdicts.min_p(6))  # alone in "other"
    # with 6 seeds a Holm family of two cannot reach 0.05 (2 x 2/2^6 = 0.0625); alone it can
    assert [c.verdict for c in comps] == ["inconclusive", "inconclusive", "differ"]


def test_not_tested_without_units_or_seeds():
    a = pd.DataFrame({"x": [np.nan, 0.9]})
    b = pd.DataFrame({"x": [0.5, 0.6]})
    c = verdicts.decide([verdicts.compare(a, b, RULE)])[0]
    assert c.verdict == "not tested" and "no unit" in c.note
    one = verdicts.compare(pd.DataFrame({"x": [0.9]}), pd.DataFrame({"x": [0.5]}), RULE)
    assert one.verdict == "not tested" and "1 paired seed" in one.note
    # only seeds present in both are paired
    c2 = verdicts.compare(
        pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=[0, 1, 5]),
        pd.DataFrame({"x": [0.0, 1.0, 1.0]}, index=[0, 1, 2]),
        RULE,
    )
    assert sorted(c2.diffs) == [0, 1] and c2.n_seeds == 2


def test_power_seeds_known_answers():
    # ((1.959964 + 0.841621) * 1 / 0.5)^2 = 31.4 -> 32
    assert verdicts.power_seeds(1.0, 0.5) == 32
    assert verdicts.power_seeds(0.0, 0.5) == 6  # the floor: 2/2^6 = 0.031 < 0.05
    assert verdicts.power_seeds(0.0, 0.5, m=12) == 9  # 2/2^9 = 0.0039 < 0.05/12 = 0.0042
    assert verdicts.power_seeds(0.1, 1.0) == 6
    with pytest.raises(ValueError, match="sesoi"):
        verdicts.power_seeds(1.0, 0.0)


def test_format_p_never_zero():
    assert verdicts.format_p(0.25, 3) == "p = 0.25 (smallest attainable with 3 seeds)"
    assert verdicts.format_p(0.03125, 6) == "p = 0.031 (smallest attainable with 6 seeds)"
    assert verdicts.format_p(0.5, 6) == "p = 0.5"
    assert verdicts.format_p(0.004, 10) == "p = 0.004"
    assert verdicts.format_p(math.nan, 3) == "p not computed"
    with pytest.raises(ValueError, match="never 0"):
        verdicts.format_p(0.0, 3)


def test_multiverse_and_agreement():
    base = pd.DataFrame(np.random.default_rng(2).uniform(0, 1, (6, 2)))

    def run(shift, seeds):
        return verdicts.compare(base.iloc[list(seeds)] + shift, base.iloc[list(seeds)], RULE)

    df = verdicts.multiverse(run, {"shift": [1.0, 0.0], "seeds": [range(6), range(3)]})
    assert len(df) == 4 and df["main"].sum() == 1
    assert df.loc[df["main"], "verdict"].item() == "differ"
    # shift 1 with 6 seeds differs; with 3 seeds the floor 0.25 cannot; shift 0 is not differ
    assert verdicts.agreement(df) == (1, 4)
    with pytest.raises(ValueError, match="choices"):
        verdicts.multiverse(run, {})


def test_forest_rows_scaled_and_oriented():
    lower = verdicts.with_rule(RULE, name="test.cost", higher_is_better=False, sesoi=0.5)
    a = pd.DataFrame({"u": [1.0, 1.2, 0.9]})
    b = pd.DataFrame({"u": [0.0, 0.1, 0.0]})
    rows = verdicts.forest_rows(
        verdicts.decide([verdicts.compare(a, b, RULE), verdicts.compare(a, b, lower)])
    )
    assert rows["effect"].iloc[0] == pytest.approx(rows["mean"].iloc[0] / 0.1)
    assert rows["effect"].iloc[1] == pytest.approx(-rows["mean"].iloc[1] / 0.5)
    assert (rows["lo"] <= rows["effect"]).all() and (rows["effect"] <= rows["hi"]).all()


def test_bad_inputs_give_clear_errors():
    with pytest.raises(TypeError, match="values_a"):
        verdicts.compare([1, 2], pd.DataFrame({"x": [1.0]}), RULE)
    with pytest.raises(ValueError, match="unique"):
        verdicts.compare(
            pd.DataFrame({"x": [1.0, 2.0]}, index=[0, 0]), pd.DataFrame({"x": [1.0]}), RULE
        )
    with pytest.raises(TypeError, match="rule"):
        verdicts.compare(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [1.0]}), "C1")
    with pytest.raises(ValueError, match="alternative"):
        verdicts.sign_flip_p([1, 2], "bigger")
    with pytest.raises(ValueError, match="sesoi"):
        verdicts.with_rule(RULE, sesoi=0)
    with pytest.raises(ValueError, match="claim"):
        verdicts.with_rule(RULE, claim="C9")
    with pytest.raises(ValueError, match="alpha"):
        verdicts.decide([], alpha=2)
    with pytest.raises(ValueError, match="already registered"):
        verdicts.register(verdicts.with_rule(next(iter(verdicts.RULES.values())), sesoi=123.0))


def current_fingerprints() -> dict:
    return {
        name: {"version": r.version, "fingerprint": verdicts.rule_fingerprint(r)}
        for name, r in sorted(verdicts.RULES.items())
    }


def test_rule_registry_matches_fingerprints():
    """A rule changed without a version bump fails here. After a deliberate change (version
    bumped): REGENERATE_GOLDENS=1 python -m pytest tests/test_verdicts.py."""
    if os.environ.get("REGENERATE_GOLDENS"):
        GOLDEN.write_text(json.dumps(current_fingerprints(), indent=1) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert verdicts.check_fingerprints(golden) == []


def test_changed_rule_without_version_bump_is_caught():
    golden = {RULE.name: {"version": 1, "fingerprint": verdicts.rule_fingerprint(RULE)}}
    assert verdicts.check_fingerprints(golden, {RULE.name: RULE}) == []
    changed = verdicts.with_rule(RULE, sesoi=0.2)
    assert "without a version bump" in verdicts.check_fingerprints(golden, {RULE.name: changed})[0]
    bumped = verdicts.with_rule(changed, version=2)
    assert "regenerate" in verdicts.check_fingerprints(golden, {RULE.name: bumped})[0]
    assert "new rule" in verdicts.check_fingerprints({}, {RULE.name: RULE})[0]


def test_every_rule_states_its_sesoi_reason_and_what_was_seen():
    assert verdicts.RULES, "the registry is empty"
    for r in verdicts.RULES.values():
        assert r.sesoi_reason.strip() and r.seen.strip() and r.measure.strip()
