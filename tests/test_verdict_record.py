"""The record of a build's verdicts and what the conclusions page says changed against it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lib.analysis import summary, verdict_record


def _table(verdicts: dict, seeds: dict, profile: str = "quick") -> pd.DataFrame:
    df = pd.DataFrame({"verdict": verdicts}).rename_axis("claim")
    df.attrs.update(profile=profile, seeds=seeds)
    return df


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    return tmp_path


def test_a_saved_record_loads_and_nothing_changed(store):
    df = _table({"C1": "supported", "C3": "inconclusive"}, {"C1": 6, "C3": 3})
    path = verdict_record.save(df)
    assert path == store / "verdict-record-quick.json"
    rec = verdict_record.load("quick")
    assert rec["claims"] == {
        "C1": {"verdict": "supported", "seeds": 6},
        "C3": {"verdict": "inconclusive", "seeds": 3},
    }
    assert "no verdict and no seed count changed" in verdict_record.changes_text(df, rec)


def test_changes_name_the_claim_its_verdicts_and_seeds(store):
    verdict_record.save(_table({"C1": "supported", "C3": "inconclusive"}, {"C1": 6, "C3": 3}))
    rec = verdict_record.load("quick")
    now = _table({"C1": "supported", "C3": "partly supported"}, {"C1": 6, "C3": 9})
    ch = verdict_record.changes(now["verdict"].to_dict(), now.attrs["seeds"], rec["claims"])
    assert list(ch.changed) == [False, True]
    text = verdict_record.changes_text(now, rec)
    assert "C3 inconclusive → partly supported (seeds 3 → 9); the other 1 unchanged." in text
    more_seeds = _table({"C1": "supported", "C3": "inconclusive"}, {"C1": 6, "C3": 9})
    assert "C3 still inconclusive (seeds 3 → 9)" in verdict_record.changes_text(more_seeds, rec)


def _own(verdicts: dict, seeds: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {summary.OWN: verdicts, "seeds (own)": seeds}, index=pd.Index(list(verdicts), name="claim")
    )


def test_the_verdicts_under_own_protocols_are_recorded_and_compared(store):
    df = _table({"C1": "supported", "C2": "inconclusive"}, {"C1": 6, "C2": 6})
    old_own = _own({"C1": "supported", "C2": "inconclusive"}, {"C1": 6, "C2": 10})
    # a record written before the own-protocol verdicts existed: they are new since it
    verdict_record.save(df)
    rec = verdict_record.load("quick")
    assert "own" not in rec
    text = verdict_record.changes_text(df, rec, old_own)
    assert text.endswith("are new since that record.")
    verdict_record.save(df, old_own)
    rec = verdict_record.load("quick")
    assert rec["own"]["C2"] == {"verdict": "inconclusive", "seeds": 10}
    assert verdict_record.changes_text(df, rec, old_own).endswith(
        "Under each pathway's own protocol nothing changed."
    )
    now_own = _own({"C1": "supported", "C2": "supported"}, {"C1": 6, "C2": 11})
    text = verdict_record.changes_text(df, rec, now_own)
    assert "no verdict and no seed count changed." in text  # the headline's
    assert text.endswith(
        "Under each pathway's own protocol: C2 inconclusive → supported (seeds 10 → 11)."
    )
    # without the own-protocol table the paragraph is the headline's alone
    assert verdict_record.changes_text(df, rec).endswith("no verdict and no seed count changed.")


def test_no_record_and_a_corrupt_record_are_said(store):
    df = _table({"C1": "supported"}, {"C1": 6})
    assert verdict_record.load("quick") is None
    assert "No earlier build of this profile is recorded" in verdict_record.changes_text(df, None)
    (store / "verdict-record-quick.json").write_text("{not json")
    with pytest.raises(ValueError, match="not a verdict record .invalid JSON"):
        verdict_record.load("quick")
    (store / "verdict-record-quick.json").write_text(json.dumps({"profile": "quick"}))
    with pytest.raises(ValueError, match="missing recorded, code, behaviour, claims"):
        verdict_record.load("quick")
    verdict_record.save(_table({"C1": "supported"}, {"C1": 6}, profile="smoke"))
    (store / "verdict-record-smoke.json").rename(store / "verdict-record-quick.json")
    with pytest.raises(ValueError, match="records profile 'smoke', not 'quick'"):
        verdict_record.load("quick")
