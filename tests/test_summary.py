"""The results-at-a-glance table (lib.analysis.summary) at profile smoke, and the hybrid
ablation's computed interpretation (lib.analysis.claims.ablation_text)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.analysis import claims, provenance, summary
from lib.experiments import battery

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def table():
    return summary.claims_table("smoke")


def test_one_row_per_claim_with_an_allowed_verdict(table):
    assert list(table.index) == ["C1", "C2", "C3", "C4", "C5"]
    assert set(table["verdict"]) <= set(summary.VERDICTS)
    for c in table.index:
        assert table.loc[c, "key numbers"].strip()
        assert table.loc[c, "chapter"], c
    assert table.attrs["profile"] == "smoke"


def test_links_point_at_chapters_of_the_book(table):
    toc = (REPO / "_toc.yml").read_text()
    for c, row in table.iterrows():
        if not row["chapter"]:
            continue
        assert (REPO / "book" / f"{row['chapter']}.ipynb").is_file(), row["chapter"]
        assert f"book/{row['chapter']}" in toc
    html = summary.claims_html(table)
    assert html.count("<a href=") == (table["chapter"] != "").sum() == 5
    assert '<a href="03_battery.html">' in html and "<code>" in html


def _bars(exc_removed: float, syn_removed: float, frozen: float = 1.0) -> dict:
    intact = np.full((3, 2), 0.98)
    return {"intact": intact,
            "exc removed (zero)": np.full((3, 2), exc_removed),
            "exc removed (mean)": np.full((3, 2), exc_removed),
            "syn removed (zero)": np.full((3, 2), syn_removed),
            "syn removed (mean)": np.full((3, 2), syn_removed),
            "exc frozen in training": np.full((3, 2), frozen),
            "syn frozen in training": np.full((3, 2), frozen)}


@pytest.mark.parametrize("exc, syn, meaning", [
    (0.1, 0.97, "relies on its excitability pathway"),
    (0.97, 0.1, "relies on its synaptic pathway"),
    (0.1, 0.1, "division of labour"),
    (0.97, 0.97, "redundant, not complementary")])
def test_ablation_text_follows_the_numbers(exc, syn, meaning):
    text = claims.ablation_text(_bars(exc, syn), ("fdgo", "fdanti"))
    assert meaning in text and "C5" in text
    assert "not a limit of the unused one" in text  # both frozen hybrids learn every task
    text = claims.ablation_text(_bars(exc, syn, frozen=0.5), ("fdgo", "fdanti"))
    assert "not a limit" not in text


def _synthetic_pairs(n_seeds: int):
    """A pair table in which the bias shifts (reshape 0.2) and every multiplicative pathway
    reshapes (0.8), on every seed."""
    import pandas as pd
    rng = np.random.default_rng(0)
    rows = []
    for lab in ("exc_bias", "exc_gain", "exc", "syn_prepost", "syn_lowrank_r1", "syn_lowrank_r2",
                "hybrid"):
        for seed in range(n_seeds):
            rows.append({"variant": lab, "seed": seed, "pair": "Go / Anti",
                         "reshape": (0.2 if lab == "exc_bias" else 0.8) + 0.01 * rng.normal(),
                         "displacement": 1 + 0.1 * rng.normal(), "jump": 0.5})
    return pd.DataFrame(rows)


def test_c4_row_reports_the_held_out_replication():
    row = summary.c4_row(_synthetic_pairs(6))
    assert row["verdict"] in summary.VERDICTS
    assert "held-out replication (seeds ≥ 3" in row["key numbers"]
    assert "— replicated" in row["key numbers"] and "3 seeds" in row["key numbers"]
    assert "of 6 (measures reshape, displacement" in row["key numbers"]


def test_c4_row_says_when_the_replication_is_pending():
    row = summary.c4_row(_synthetic_pairs(5))  # held-out seeds 3 and 4: too few to count
    assert "pending" in row["key numbers"] and "— replicated" not in row["key numbers"]


def test_conclusions_say_what_each_verdict_means_for_the_paper(table):
    assert set(summary.RELATION) == set(summary.VERDICTS)
    out = summary.conclusions_table(table)
    for c, row in out.iterrows():
        assert row["relation to the paper"] == summary.RELATION[row["verdict"]]
        assert row["departures"] == summary.DEPARTURES[c]
    html = summary.claims_html(out)
    assert "<th" in html and "relation to the paper" in html and "departures" in html
    assert "relation to the paper" not in summary.claims_html(table)   # results page unchanged


def test_limitations_follow_the_profile(table):
    lines = summary.limitations(table)
    spec = table.attrs["spec"]
    assert any(f"Only {len(spec.tasks)} of the battery's 20 tasks" in l for l in lines)
    assert any(f"{spec.n_seeds} seeds per variant" in l for l in lines)
    assert any("Not scored here: " in l and "C3" in l for l in lines)


def test_c2_sensitivity_has_a_row_per_arm_and_control_test():
    df = summary.c2_sensitivity("smoke")
    assert [i for i in df.index if i.startswith("training arm")] == [
        "training arm `equalised`", "training arm `mixtures`"]
    assert sum(i.startswith("control") for i in df.index) == 4
    assert set(df["verdict"]) <= {*summary.VERDICTS, "differs", "no detectable difference",
                                  "not scored"}


def test_reproducibility_tables():
    env = provenance.environment()
    assert env.loc["torch", "version"].startswith("2.") and "network" in env.loc[
        "behaviour versions", "version"]
    prof = provenance.profiles_table(battery.BATTERY_PARAMS, ["n_rec", "n_seeds"])
    assert list(prof.columns) == ["smoke", "quick", "paper", "meaning"]
    assert prof.loc["n_rec", "paper"] == "256"


def test_c5_row_combines_time_scales_learning_and_synergy(monkeypatch):
    tests = pd.DataFrame([{"split": "exc_fast_syn_slow", "uniform": u, "diff": d, "lo": d - 0.01,
                           "hi": d + 0.01, "p": 0.01, "p_holm": 0.02, "n": 6, "dz": -2.0,
                           "beats": b} for u, d, b in (("both_fast", -0.001, False),
                                                       ("both_slow", -0.04, True))])
    v = {"verdict": "partly synergistic", "best": "exc_fast_syn_slow", "tests": tests, "n": 6,
         "means": {"exc_fast_syn_slow": 0.81, "both_fast": 0.80, "both_slow": 0.85},
         "reason": ""}
    monkeypatch.setattr(summary.E5, "verdict_c5", lambda table: v)
    monkeypatch.setattr(summary.synergy, "synergy_table", lambda *a, **k: pd.DataFrame(
        [{"measure": "robustness", "diff": 0.01, "hybrid_better": False},
         {"measure": "switch", "diff": -0.2, "hybrid_better": True},
         {"measure": "switch", "diff": -0.01, "hybrid_better": False}]))
    learn = _learning_table({"exc": [10, 10.5, 11, 10.2], "syn": [13, 13.4, 12.8, 13.1],
                             "both": [10.1, 10.4, 11.1, 10.0], "all": [9, 9.5, 9.2, 9.1]})
    row = summary.c5_row(pd.DataFrame(), learn, {})
    assert row["verdict"] == "partly supported"
    text = row["key numbers"]
    assert "time-scales partly synergistic" in text and "learning a new task: exc faster" in text
    assert "no better than giving both pathways the better single time-scale" in text
    assert "switch + error cost better than some parts" in text
    monkeypatch.setattr(summary.E5, "verdict_c5", lambda table: {"verdict": "not tested",
                                                                 "reason": "no hybrid",
                                                                 "best": None})
    monkeypatch.setattr(summary.synergy, "synergy_table", lambda *a, **k: pd.DataFrame(
        [{"measure": "robustness", "diff": np.nan, "hybrid_better": False}]))
    row = summary.c5_row(pd.DataFrame(), learn.iloc[:0], {})
    assert row["verdict"] == "not tested" and "no hybrid" in row["key numbers"]


def _learning_table(log2_trials: dict[str, list[float]]) -> pd.DataFrame:
    """A learning table (lib.experiments.learning.learning_row's columns) with every parent at
    criterion and the given log2 trials per route and seed (all reached)."""
    n = len(next(iter(log2_trials.values())))
    rows = [{"route": "parent", "seed": s, "old_after": 0.95, "old_all_at_criterion": True}
            for s in range(n)]
    for r, vals in log2_trials.items():
        rows += [{"route": r, "seed": s, "old_after": 0.95 - (0.1 if r == "all" else 0.0),
                  "old_all_at_criterion": True, "new_perf": 0.93, "reached": True,
                  "trials_to_criterion": 2.0 ** x, "budget_trials": 2.0 ** 20}
                 for s, x in enumerate(vals)]
    return pd.DataFrame(rows)

def test_c3_row_lists_the_differing_comparisons_and_the_caveat():
    # every seed of exc packs all 6 tasks at N = 32, the synaptic pathways only the first 2
    caps = {"exc": 6, "syn_prepost": 2, "syn_lowrank_r1": 2}
    rows = [{"backbone": "trained", "variant": v, "N": 32, "K": k, "seed": s,
             "n_at_criterion": k if k <= c else k - 1, "all_at_criterion": k <= c}
            for v, c in caps.items() for s in range(3) for k in (2, 4, 6)]
    row = summary.c3_row(pd.DataFrame(rows))
    assert row["verdict"] == "supported"
    text = row["key numbers"]
    assert "4 comparisons" in text and "N = 32, capacity, `exc` − `syn_prepost`: +4.00" in text
    assert "exact sign-flip p = 0.25 over 3 seeds" in text and "other" not in text
