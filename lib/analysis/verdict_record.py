"""What changed against the previous build: the claims' verdicts recorded per profile.

A build's verdicts (:func:`lib.analysis.summary.claims_table`) are written to
``<artifacts>/verdict-record-<profile>.json`` by ``python -m lib.analysis.verdict_record
--profile quick`` when a build is published; the conclusions page compares the verdicts it
computes with that record, claim by claim (verdict and the seeds its comparisons used), so a
reader sees what new runs changed. The record stores the code hash and behaviour versions of
the build that wrote it and the date; nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

from lib import artifacts
from lib.analysis import summary
from lib.core.behaviour import BEHAVIOUR

RECORD_FIELDS = ("profile", "recorded", "code", "behaviour", "claims")
"""The keys of a record; a file without them is a corrupt record (:func:`load` says so)."""


def record_path(profile: str) -> Path:
    """Where the record of ``profile`` lives (top level of the artifact directory, outside
    the ``<kind>/<key>`` layout of artifacts)."""
    return artifacts.artifact_dir() / f"verdict-record-{profile}.json"


def make_record(df: pd.DataFrame, own: pd.DataFrame | None = None) -> dict:
    """The record of a claims table: per claim its verdict and the seeds its comparisons used,
    with the profile, today's date (UTC), the code hash and the behaviour versions; with
    ``own`` (:func:`lib.analysis.summary.tuned_claims`), also the verdicts re-derived under each
    pathway's own protocol and their seeds (``"own"``)."""
    seeds = df.attrs["seeds"]
    rec = {
        "profile": df.attrs["profile"],
        "recorded": dt.datetime.now(dt.timezone.utc).date().isoformat(),
        "code": artifacts.code_version(),
        "behaviour": dict(BEHAVIOUR),
        "claims": {
            str(c): {"verdict": str(row["verdict"]), "seeds": int(seeds.get(c, 0))}
            for c, row in df.iterrows()
        },
    }
    if own is not None:
        rec["own"] = {
            str(c): {"verdict": str(row[summary.OWN]), "seeds": int(row["seeds (own)"])}
            for c, row in own.iterrows()
        }
    return rec


def save(df: pd.DataFrame, own: pd.DataFrame | None = None) -> Path:
    """Write the record of ``df`` (and ``own``: :func:`make_record`) for its profile; returns
    the path."""
    path = record_path(df.attrs["profile"])
    path.write_text(json.dumps(make_record(df, own), indent=1, sort_keys=True) + "\n")
    return path


def load(profile: str) -> dict | None:
    """The record of ``profile``, or None where none was written; a file that is not a record
    is an error naming the file and what is missing."""
    path = record_path(profile)
    if not path.exists():
        return None
    try:
        rec = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a verdict record (invalid JSON: {err})") from err
    missing = [f for f in RECORD_FIELDS if not isinstance(rec, dict) or f not in rec]
    if missing:
        raise ValueError(f"{path}: not a verdict record (missing {', '.join(missing)})")
    if rec["profile"] != profile:
        raise ValueError(f"{path}: records profile {rec['profile']!r}, not {profile!r}")
    return rec


def changes(
    verdicts: dict[str, str], seeds: dict[str, int], recorded: dict[str, dict]
) -> pd.DataFrame:
    """Per claim of ``verdicts`` (claim -> verdict, with ``seeds``): the recorded verdict and
    seeds (``recorded``: a record's ``"claims"`` or ``"own"``), this build's, and whether either
    changed (a claim absent from the record has no recorded verdict)."""
    rows = []
    for c, verdict in verdicts.items():
        before = recorded.get(str(c), {})
        now_seeds = int(seeds.get(c, 0))
        rows.append(
            {
                "claim": c,
                "recorded verdict": before.get("verdict", "–"),
                "verdict": verdict,
                "recorded seeds": before.get("seeds", 0),
                "seeds": now_seeds,
                "changed": before.get("verdict") != verdict or before.get("seeds") != now_seeds,
            }
        )
    return pd.DataFrame(rows).set_index("claim")


def _moved(ch: pd.DataFrame) -> str:
    """The changed rows of :func:`changes` in words; '' when none."""
    parts = []
    for c, r in ch[ch.changed].iterrows():
        verdict = (
            f"{r['recorded verdict']} → {r['verdict']}"
            if r["recorded verdict"] != r["verdict"]
            else f"still {r['verdict']}"
        )
        seeds = (
            f" (seeds {r['recorded seeds']} → {r['seeds']})"
            if r["recorded seeds"] != r["seeds"]
            else ""
        )
        parts.append(f"{c} {verdict}{seeds}")
    return "; ".join(parts)


def changes_text(df: pd.DataFrame, rec: dict | None, own: pd.DataFrame | None = None) -> str:
    """What changed against the recorded build, in one paragraph: the headline verdicts and,
    with ``own`` (:func:`lib.analysis.summary.tuned_claims`), those under each pathway's own
    protocol (new where the record has none)."""
    if rec is None:
        return (
            "*No earlier build of this profile is recorded, so nothing is compared "
            f"(`python -m lib.analysis.verdict_record --profile {df.attrs['profile']}` "
            "records one).*"
        )
    ch = changes(df["verdict"].to_dict(), df.attrs["seeds"], rec["claims"])
    where = f"the build recorded on {rec['recorded']} (lib code {rec['code']})"
    moved = _moved(ch)
    rest = len(ch) - int(ch.changed.sum())
    head = (
        moved + (f"; the other {rest} unchanged." if rest else ".")
        if moved
        else "no verdict and no seed count changed."
    )
    text = f"**Against {where}:** {head}"
    if own is None:
        return text
    if "own" not in rec:
        return text + (
            " The verdicts under each pathway's own protocol (below) are new since that record."
        )
    mine = changes(own[summary.OWN].to_dict(), own["seeds (own)"].to_dict(), rec["own"])
    moved = _moved(mine)
    return text + (
        f" Under each pathway's own protocol: {moved}."
        if moved
        else " Under each pathway's own protocol nothing changed."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.analysis.verdict_record",
        description="Record this build's verdicts of a profile (from shipped artifacts), for "
        "the conclusions page to compare later builds with.",
    )
    parser.add_argument("--profile", default="quick", help="the profile (default: quick)")
    args = parser.parse_args(argv)
    runs = summary.load_runs(args.profile)
    df = summary.claims_table(runs=runs)
    path = save(df, summary.tuned_claims(df, runs, summary.load_tuned(df, runs)))
    print(f"recorded {path}")
    return 0


__all__ = [
    "RECORD_FIELDS",
    "record_path",
    "make_record",
    "save",
    "load",
    "changes",
    "changes_text",
    "main",
]

if __name__ == "__main__":
    sys.exit(main())
