"""C4 and C5 through the verdict engine, on planted data with known answers: C4's composition
confound and claim rule, the censoring-aware learning test (KM / RMST with the exact sign-flip
p) against a t test on budget-filled values, separate switch and error costs, synergy that needs
the hybrid to beat both parts, and clear errors on bad input."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from lib.analysis import dynamics as dynamics_analysis
from lib.analysis import learning as learning_analysis
from lib.analysis import synergy
from lib.analysis import timescales as timescales_analysis
from lib.analysis import verdicts

PAIRS = ("Go / Anti", "Dly Go / Dly Anti", "Ctx DM 1 / Ctx DM 2")


def c4_table(
    values: dict[str, dict[str, float]],
    seeds=range(8),
    noise=0.002,
    missing: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """A pair_table: variant -> pair -> value of both primary measures (plus seed noise);
    ``missing`` variant -> pairs that variant never learned (rows left out, as pair_table
    does)."""
    rng = np.random.default_rng(0)
    rows = []
    for v, per_pair in values.items():
        for s in seeds:
            for p, x in per_pair.items():
                if p in (missing or {}).get(v, []):
                    continue
                rows.append(
                    {
                        "variant": v,
                        "seed": s,
                        "pair": p,
                        "reshape": x + rng.normal(0, noise),
                        "displacement": x + rng.normal(0, noise),
                    }
                )
    return pd.DataFrame(rows)


ALL_SAME = {p: 0.5 for p in PAIRS}


def test_pair_values_nan_where_not_learned_and_errors():
    t = c4_table(
        {"exc": ALL_SAME, "syn_prepost": ALL_SAME},
        missing={"syn_prepost": ["Ctx DM 1 / Ctx DM 2"]},
        seeds=range(3),
    )
    v = dynamics_analysis.pair_values(t, "syn_prepost", "reshape")
    assert v.shape == (3, 3) and v["Ctx DM 1 / Ctx DM 2"].isna().all()
    assert v.index.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="measure"):
        dynamics_analysis.pair_values(t, "exc", "reshap")
    with pytest.raises(ValueError, match="seeds"):
        dynamics_analysis.c4_comparisons(t, seeds="some")


def test_c4_composition_confound_is_not_counted():
    """exc is 0.9 on the easy pairs and 0.2 on Ctx DM; syn_lowrank_r1 never learned Ctx DM and
    equals exc on the easy ones. Per-network means (the old method) make them differ by 0.23; on
    the common pairs the difference is ~0, and the engine compares on those two pairs only."""
    exc = {"Go / Anti": 0.9, "Dly Go / Dly Anti": 0.9, "Ctx DM 1 / Ctx DM 2": 0.2}
    t = c4_table(
        {
            "exc": exc,
            "syn_lowrank_r1": exc,
            "syn_prepost": exc,
            "hybrid": exc,
            "syn_lowrank_r2": exc,
        },
        missing={"syn_lowrank_r1": ["Ctx DM 1 / Ctx DM 2"]},
    )
    old = dynamics_analysis.network_means(t, "reshape")
    naive = np.mean([old["exc"][s] - old["syn_lowrank_r1"][s] for s in old["exc"]])
    assert naive < -0.2
    comps = dynamics_analysis.c4_comparisons(t)
    c = next(c for c in comps if (c.a, c.b) == ("exc", "syn_lowrank_r1"))
    assert c.units == ["Go / Anti", "Dly Go / Dly Anti"] and abs(c.mean) < 0.01
    assert c.verdict != "differ"


def _claim(exc_r1: float, exc_pp: float, seeds=range(8), measure_two: float = 0.0):
    base = {"syn_lowrank_r1": 0.5, "syn_prepost": 0.5, "hybrid": 0.5, "syn_lowrank_r2": 0.5}
    t = c4_table({k: {p: v for p in PAIRS} for k, v in base.items()}, seeds=seeds)
    # exc: reshape differs from r1 by exc_r1 and from prepost by exc_pp (prepost shifted)
    rng = np.random.default_rng(1)
    rows = []
    for s in seeds:
        for p in PAIRS:
            rows.append(
                {
                    "variant": "exc",
                    "seed": s,
                    "pair": p,
                    "reshape": 0.5 + exc_r1 + rng.normal(0, 0.002),
                    "displacement": 0.5 + measure_two + rng.normal(0, 0.002),
                }
            )
    t = pd.concat([t, pd.DataFrame(rows)], ignore_index=True)
    t.loc[(t.variant == "syn_prepost"), "reshape"] += exc_r1 - exc_pp
    return dynamics_analysis.c4_claim(dynamics_analysis.c4_comparisons(t))


def test_c4_claim_rule_known_answers():
    # 8 seeds: floor 2/256, Holm over 6 -> 0.047 < 0.05, so 'differ' is reachable
    assert _claim(0.3, 0.3) == "supported"
    assert _claim(0.3, 0.0) == "partly supported"
    assert _claim(0.3, -0.3) == "partly supported"  # opposite directions: not consistent
    assert _claim(0.0, 0.0) == "not supported"  # all four equivalent within ±0.1
    # 6 seeds: Holm over 6 cannot go below 6 * 2/64 = 0.19: never differ, never equivalent
    assert _claim(0.3, 0.3, seeds=range(6)) == "inconclusive"
    empty = dynamics_analysis.c4_comparisons(pd.DataFrame())
    assert dynamics_analysis.c4_claim(empty) == "not tested"


def test_c4_power_text_says_when_no_verdict_is_possible():
    text = dynamics_analysis.power_text(6, 6, pd.Series([8.0, 20.0]))
    assert "0.188" in text and "inconclusive" in text and "at least 8 seeds" in text
    assert "no comparison" not in dynamics_analysis.power_text(8, 6, pd.Series([8.0]))


def test_c4_replication_is_reported_as_operation_not_site():
    t = c4_table(
        {
            v: ALL_SAME
            for v in (
                "exc",
                "syn_lowrank_r1",
                "syn_prepost",
                "hybrid",
                "syn_lowrank_r2",
                "exc_bias",
                "exc_gain",
            )
        }
    )
    v = dynamics_analysis.c4_verdict(t)
    assert all(c.n_seeds == 5 for c in v["replication"])  # seeds 3..7 are held out
    assert set(v["factorial"]) == {
        dynamics_analysis.AXIS_LABELS[m] for m in dynamics_analysis.PRIMARY
    }
    assert all(len(cs) == 3 for cs in v["factorial"].values())  # site, operation, interaction
    text = dynamics_analysis.c4_text(v)
    assert "operation" in text and "site main effect" in text and "p = 0 " not in text
    assert len(dynamics_analysis.c4_summary_text(v).split()) <= 60


# ------------------------------------------------------------------ learning: KM and RMST


def test_km_curve_known_answer():
    km = learning_analysis.km_curve([10, 20, np.nan, 20], [True, True, False, True], budget=40)
    assert km.fraction.tolist() == pytest.approx([0, 0.25, 0.75, 0.75])
    # RMST = 10 * 1 + 10 * 0.75 + 20 * 0.25 = 22.5 = mean of min(T, budget)
    assert km.attrs["rmst"] == pytest.approx(22.5) == np.mean([10, 20, 40, 20])
    with pytest.raises(ValueError, match="budget"):
        learning_analysis.km_curve([1], [True], budget=0)
    with pytest.raises(ValueError, match="times"):
        learning_analysis.km_curve([50], [True], budget=40)


def learn_table(
    routes: dict[str, list[float | None]],
    budget=128_000.0,
    new_perf: dict[str, list[float]] | None = None,
) -> pd.DataFrame:
    """Learning rows: route -> per-seed trials to criterion (None = censored at the budget)."""
    n = len(next(iter(routes.values())))
    rows = [
        {"route": "parent", "seed": s, "old_after": 1.0, "old_all_at_criterion": True}
        for s in range(n)
    ]
    for r, times in routes.items():
        for s, t in enumerate(times):
            rows.append(
                {
                    "route": r,
                    "seed": s,
                    "old_after": 1.0 if r != "all" else 0.4,
                    "reached": t is not None,
                    "trials_to_criterion": np.nan if t is None else float(t),
                    "budget_trials": budget,
                    "new_perf": (new_perf or {}).get(r, [0.9] * n)[s],
                }
            )
    return pd.DataFrame(rows)


def test_censored_speed_t_test_differs_but_exact_rmst_does_not():
    """4 seeds: syn never reaches criterion (censored at the budget), exc reaches it at almost
    the same time in every seed. A t test on the budget-filled values calls it a difference
    (p < 0.001); the exact test on the RMST cannot go below 2 / 2^4 = 0.125."""
    t = learn_table({"exc": [64_000, 64_000, 64_000, 64_016], "syn": [None] * 4})
    kids = learning_analysis.children(t)
    a = learning_analysis.restricted_times(kids, "exc")
    b = learning_analysis.restricted_times(kids, "syn")
    assert b["new task"].tolist() == [128_000.0] * 4
    p_t = scipy_stats.ttest_rel(a["new task"], b["new task"]).pvalue
    assert p_t < 0.001
    c = next(
        c
        for c in learning_analysis.learning_comparisons(t)
        if (c.a, c.b) == ("exc", "syn") and c.rule is learning_analysis.LEARNING_RULES["speed"]
    )
    assert c.p == pytest.approx(0.125) and c.verdict == "inconclusive"
    assert learning_analysis.learning_parts([c])["speeds"] == "inconclusive"


def test_exact_rmst_differs_where_t_test_does_not():
    """8 seeds, exc faster in every one, once by a lot: the t test's spread hides it (p > 0.05),
    the exact sign-flip p is 2 / 2^8."""
    exc = [100_000] * 7 + [1_000]
    t = learn_table({"exc": exc, "syn": [101_000] * 7 + [None]})
    kids = learning_analysis.children(t)
    d = (
        learning_analysis.restricted_times(kids, "exc")
        - learning_analysis.restricted_times(kids, "syn")
    )["new task"]
    assert scipy_stats.ttest_1samp(d, 0).pvalue > 0.05
    c = learning_analysis.learning_comparisons(t)[0]
    assert c.p == pytest.approx(2 / 2**8) and c.p_holm < 0.05 and c.verdict == "differ"
    assert learning_analysis.learning_parts([c])["speeds"] == "exc faster"


def test_learning_synergy_needs_both_routes():
    n = 9
    fast, slow, both = [50_000] * n, [None] * n, [40_000] * n

    def jitter(xs):
        return [x + 100 * i if x else x for i, x in enumerate(xs)]

    t = learn_table({"exc": jitter(fast), "syn": slow, "both": jitter(both), "all": [16_000] * n})
    parts = learning_analysis.learning_parts(learning_analysis.learning_comparisons(t))
    assert parts == {"speeds": "exc faster", "synergy": "both faster than either"}
    t2 = learn_table({"exc": jitter(fast), "syn": slow, "both": jitter(fast), "all": [16_000] * n})
    parts2 = learning_analysis.learning_parts(learning_analysis.learning_comparisons(t2))
    assert parts2["synergy"] == "not faster than both"


def test_new_task_performance_is_tested():
    t = learn_table(
        {"exc": [None] * 6, "syn": [None] * 6},
        new_perf={
            "exc": [0.9, 0.88, 0.91, 0.87, 0.85, 0.89],
            "syn": [0.5, 0.55, 0.52, 0.6, 0.48, 0.53],
        },
    )
    c = next(
        c
        for c in learning_analysis.learning_comparisons(t)
        if c.rule is learning_analysis.LEARNING_RULES["new_perf"]
    )
    assert c.p == pytest.approx(2 / 64) and c.verdict == "differ" and c.rule.exploratory


# ----------------------------------------------------------------- time-scales and synergy


def probe(seed: int, costs: dict[str, tuple[float, float]], learned=(True, True, True)) -> dict:
    """A fake E5 result: per assignment (switch cost, error-trial cost), identical per pair."""
    P, T, L_ = 3, 24, 2 + timescales_analysis.ERROR_WINDOW + 1
    since = np.tile(np.r_[-np.ones(12), np.arange(12)], (P, 1)).astype(int)
    ref = np.ones((P, T))
    perf, err = {}, {}
    for a, (sw, er) in costs.items():
        p = ref.copy()
        p[since == 0] -= sw
        perf[a] = p
        e = np.ones((P, 2, L_))
        e[:, :, 1] -= er
        err[a] = e
    clean = np.array([1.0 if ok else 0.5 for ok in learned for _ in range(2)])
    return {
        "tasks": ["fdgo", "fdanti", "delaygo", "delayanti", "contextdm1", "contextdm2"],
        "pairs": [[0, 1], [2, 3], [4, 5]],
        "spec": {"block": 12},
        "clean": clean,
        "assignments": tuple(costs),
        "blocked": {"since": since, "reference": ref, "perf": perf},
        "error": {"reference": np.ones((P, 2, L_)), "perf": err},
    }


def test_pair_costs_separate_and_nan_where_not_learned():
    r = probe(0, {"both_fast": (0.1, 0.6)}, learned=(True, False, True))
    c = timescales_analysis.pair_costs(r, "both_fast")
    assert c["switch"][0] == pytest.approx(0.1) and c["error_total"][0] == pytest.approx(0.6)
    assert np.isnan(c["switch"][1]) and np.isnan(c["error_total"][1])
    with pytest.raises(ValueError, match="assignment"):
        timescales_analysis.pair_costs(r, "both_never")
    with pytest.raises(ValueError, match="measure"):
        timescales_analysis.cost_values({("hybrid", 0): r}, "hybrid", "both_fast", "combined")


def _results(n, hybrid: dict, parts: dict[str, dict]):
    rng = np.random.default_rng(3)

    def j(c):
        return {a: (x + rng.normal(0, 0.003), y + rng.normal(0, 0.003)) for a, (x, y) in c.items()}

    out = {}
    for s in range(n):
        out["hybrid", s] = probe(s, j(hybrid))
        for lab, c in parts.items():
            out[lab, s] = probe(s, j(c))
    return out


def test_hybrid_better_than_one_part_only_is_not_synergistic():
    """The hybrid under exc fast · syn slow has the switch cost of exc (fast) and beats
    syn_lowrank_r1 (slow): better than one part, equivalent to the other -> not synergistic."""
    n = 9
    hybrid = {
        "exc_fast_syn_slow": (0.02, 0.6),
        "exc_slow_syn_fast": (0.8, 0.02),
        "both_fast": (0.02, 0.6),
        "both_slow": (0.8, 0.02),
    }
    parts = {
        "exc": {"both_fast": (0.02, 0.6), "both_slow": (0.8, 0.02)},
        "syn_lowrank_r1": {"both_fast": (0.02, 0.6), "both_slow": (0.8, 0.02)},
    }
    comps = synergy.synergy_comparisons(None, _results(n, hybrid, parts), None, None)
    synergy_verdicts = synergy.measure_synergy(comps)
    assert synergy_verdicts["C5.synergy.switch"] == "not synergistic"
    split = [
        c
        for c in comps
        if c.rule.name == "C5.synergy.switch" and c.a.startswith("hybrid, exc fast")
    ]
    assert {c.verdict for c in split} == {"differ", "equivalent"}
    # and when it beats both: synergistic
    hybrid2 = dict(hybrid, exc_fast_syn_slow=(0.0, 0.0))
    parts2 = {
        "exc": {"both_fast": (0.3, 0.6), "both_slow": (0.8, 0.02)},
        "syn_lowrank_r1": {"both_fast": (0.02, 0.6), "both_slow": (0.8, 0.02)},
    }
    verdicts2 = synergy.measure_synergy(
        synergy.synergy_comparisons(None, _results(n, hybrid2, parts2), None, None)
    )
    assert verdicts2["C5.synergy.switch"] == "synergistic"


def test_timescale_costs_are_tested_separately_not_summed():
    """Fast pays only the error, slow only the switch, the splits each pay one: on the sum every
    assignment costs the same, on the separate costs each split matches one uniform assignment
    and differs from the other."""
    n = 9
    hybrid = {
        "exc_fast_syn_slow": (0.0, 0.5),
        "exc_slow_syn_fast": (0.5, 0.0),
        "both_fast": (0.0, 0.5),
        "both_slow": (0.5, 0.0),
    }
    comps = timescales_analysis.timescale_comparisons(_results(n, hybrid, {}))
    assert {c.rule.name for c in comps} == {"C5.switch.timescales", "C5.error_total.timescales"}
    assert all(c.rule.exploratory for c in comps)
    by = {(c.rule.name, c.a, c.b): c.verdict for c in comps}
    assert by["C5.switch.timescales", "exc fast · syn slow", "both fast"] == "equivalent"
    assert by["C5.switch.timescales", "exc fast · syn slow", "both slow"] == "differ"
    assert "covers both weaknesses" not in timescales_analysis.timescale_reading(comps)


def test_c5_claim_rule():
    def comp(rule, a, b, verdict, mean):
        c = verdicts.Comparison(
            rule=rule,
            a=a,
            b=b,
            units=["u"],
            n_units=1,
            n_seeds=9,
            diffs={},
            mean=mean,
            verdict=verdict,
        )
        return c

    sp = learning_analysis.LEARNING_RULES["speed"]
    cap = synergy.SYNERGY_RULES["capacity"]
    learn = [
        comp(sp, "exc", "syn", "differ", -1),
        comp(sp, "both", "exc", "differ", -1),
        comp(sp, "both", "syn", "differ", -1),
    ]
    syn = [
        comp(cap, "hybrid", "exc", "inconclusive", 0),
        comp(cap, "hybrid", "syn_lowrank_r1", "inconclusive", 0),
    ]
    assert synergy.c5_claim(learn, syn)["verdict"] == "supported"
    learn[1].verdict = "inconclusive"
    assert synergy.c5_claim(learn, syn)["verdict"] == "partly supported"
    learn = [
        comp(sp, "exc", "syn", "equivalent", 0),
        comp(sp, "both", "exc", "equivalent", 0),
        comp(sp, "both", "syn", "equivalent", 0),
    ]
    syn = [
        comp(cap, "hybrid", "exc", "equivalent", 0),
        comp(cap, "hybrid", "syn_lowrank_r1", "differ", -1),
    ]
    assert synergy.c5_claim(learn, syn)["verdict"] == "not supported"
    syn[0].verdict = syn[1].verdict = "inconclusive"
    assert synergy.c5_claim(learn, syn)["verdict"] == "inconclusive"
    assert synergy.c5_claim([], [])["verdict"] == "not tested"


def test_every_new_rule_is_registered_with_its_claim():
    names = {
        r.name
        for r in [
            *dynamics_analysis.C4_RULES.values(),
            dynamics_analysis.C4_REPLICATION_RULE,
            *timescales_analysis.COST_RULES.values(),
            *learning_analysis.LEARNING_RULES.values(),
            *synergy.SYNERGY_RULES.values(),
        ]
    }
    assert names <= set(verdicts.RULES)
    assert all(verdicts.RULES[n].claim in ("C4", "C5") for n in names)
    assert not any(verdicts.RULES[n].preregistered for n in names if "timescales" in n)


def test_restricted_times_need_one_budget():
    t = learn_table({"exc": [1_000, None], "syn": [None, None]})
    t.loc[(t.route == "exc") & (t.seed == 1), "budget_trials"] = 64_000.0
    with pytest.raises(ValueError, match="budgets"):
        learning_analysis.restricted_times(learning_analysis.children(t), "exc")


def test_c5_multiverse_and_summary_text():
    n = 9

    def jitter(xs):
        return [x + 100 * i if x else x for i, x in enumerate(xs)]

    t = learn_table(
        {
            "exc": jitter([50_000] * n),
            "syn": [None] * n,
            "both": jitter([40_000] * n),
            "all": [16_000] * n,
        }
    )
    mv = synergy.c5_multiverse(t, None)
    assert mv["main"].sum() == 1 and len(mv) == 2 * (3 + n) * 2
    main = mv.loc[mv["main"], "verdict"].iloc[0]
    v = synergy.c5_verdict(t, None)
    assert main == v["verdict"] == "supported"  # two speeds and both faster than either
    # on half the seeds (4 or 5) Holm over the family cannot reach 0.05
    assert (mv.loc[mv.seeds.isin(["first half", "second half"]), "verdict"] == "inconclusive").all()
    assert f"Of {len(mv)} specifications" in synergy.c5_multiverse_text(mv)
    assert len(synergy.c5_summary_text(v).split()) <= 60
    assert "C5.learning" in synergy.c5_power_text(v)


def test_c4_multiverse_on_the_shipped_smoke_analyses(monkeypatch):
    monkeypatch.setenv("BOOK_NO_TRAIN", "1")
    from lib.experiments import battery, dynamics as dynamics_experiment

    spec = battery.battery_spec("smoke")
    nets = battery.variant_networks(battery.run_battery(spec, progress=False))
    dyn = dynamics_experiment.run_dynamics(
        nets, dynamics_experiment.DynamicsSpec.from_profile("smoke"), progress=False
    )
    mv = dynamics_analysis.c4_multiverse(dyn, spec.main_variants)
    assert mv["main"].sum() == 1
    assert set(mv["criterion"]) == {0.9, 0.85, 0.95}
    assert set(mv["seeds"]) == {"all", "discovery", "held_out"}
    assert "Specification check" in dynamics_analysis.multiverse_text(mv)
    with pytest.raises(ValueError, match="criterion"):
        dynamics_analysis.pair_table(dyn, spec.main_variants, criterion=1.5)
