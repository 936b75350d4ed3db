"""The licence and citation files say what they must: MIT for the code, CC BY 4.0 for the text
and figures (LICENSE and README agree), and a CITATION.cff of version 1.2.0 that cites the
reconstructed paper."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_licence_covers_code_and_text():
    licence = (REPO / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "CC BY 4.0" in licence
    readme = (REPO / "README.md").read_text()
    assert "MIT" in readme and "CC BY 4.0" in readme


def test_citation_cites_the_reconstructed_paper():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["title"] and cff["authors"]
    (paper,) = [r for r in cff["references"] if "Synergistic pathways" in r["title"]]
    assert {
        "type": "other",
        "value": "arXiv:2408.01316",
        "description": "The arXiv identifier",
    } in paper["identifiers"]
    assert [a["family-names"] for a in paper["authors"]] == ["Vedovati", "Ching"]


def test_the_book_is_published_only_after_the_tests_pass():
    jobs = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text())["jobs"]
    runs = " ".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert "bash .ci/run" in runs or "make test" in runs
    assert jobs["build"]["needs"] == "test" and jobs["deploy"]["needs"] == "build"
    assert "make test" in (REPO / ".ci" / "run").read_text()
