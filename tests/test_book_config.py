"""The book's build settings that keep it correct and offline (see the Makefile and _config.yml)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())
SPHINX = CONFIG["sphinx"]["config"]


def test_a_failing_notebook_fails_the_build() -> None:
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["raise_on_error"] is True  # -W alone misses failures on an incremental build
    assert execute["allow_errors"] is False


def test_hidden_and_non_book_folders_are_not_built() -> None:
    assert CONFIG["only_build_toc_files"] is True
    for pattern in (
        ".*",
        "**/.*",
        "_build",
        "_build_smoke",
        "tests",
        "scripts",
        "artifacts",
        "README.md",
    ):
        assert pattern in CONFIG["exclude_patterns"], pattern


def test_math_and_widget_js_are_vendored() -> None:
    # pages load these from _static/ instead of public CDNs; _static/ itself would auto-inject
    # every .js
    assert SPHINX["html_static_path"] == ["_vendor"]
    assert not (REPO / "_static").exists()
    for rel in (SPHINX["mathjax_path"], *SPHINX["nb_ipywidgets_js"]):
        assert not rel.startswith(("http", "//", "_static/")), rel
        path = REPO / "_vendor" / rel
        assert path.is_file() and path.stat().st_size > 0, f"_vendor/{rel} missing"
    assert any((REPO / "_vendor" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.js"))


def test_no_extension_that_needs_the_network() -> None:
    # intersphinx downloads objects.inv at build time: a warning offline, hence a failure under -W
    assert "sphinx.ext.intersphinx" not in SPHINX.get("extensions", [])
    assert "sphinx.ext.intersphinx" not in CONFIG["sphinx"].get("extra_extensions", [])
