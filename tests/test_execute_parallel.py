"""scripts/execute_parallel.py: it executes the table of contents' notebooks into the cache that
jupyter-book (myst-nb, execute_notebooks: cache) reads, so that the build finds them executed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "execute_parallel", REPO / "scripts" / "execute_parallel.py"
)
execute_parallel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_parallel)


def test_every_notebook_of_the_toc_is_executed_first():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    listed = [toc["root"], *(c["file"] for c in toc["chapters"])]
    expected = [REPO / f"{f}.ipynb" for f in listed if (REPO / f"{f}.ipynb").exists()]
    assert execute_parallel.toc_notebooks() == expected
    assert REPO / "book" / "10_full_battery.ipynb" in expected


def _book(root: Path, source: str) -> Path:
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: page\n")
    (root / "_config.yml").write_text("execute:\n  timeout: 60\n")
    (root / "intro.md").write_text("# intro\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = root / "page.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_build_finds_what_it_executed(tmp_path, capsys):
    page = _book(tmp_path, "print(6 * 7)")
    out = tmp_path / "out"
    assert execute_parallel.main([str(out), "--root", str(tmp_path)]) == 0
    assert "executing 1 on" in capsys.readouterr().out
    # what myst-nb does at build time: match the notebook as read from disk, merge its outputs
    cache = get_cache(str(out / execute_parallel.CACHE))
    _, merged = cache.merge_match_into_notebook(nbformat.read(page, as_version=4))
    assert merged.cells[0].outputs[0]["text"] == "42\n"
    # a second run executes nothing
    assert execute_parallel.main([str(out), "--root", str(tmp_path)]) == 0
    assert "1 of 1 notebooks cached, executing 0" in capsys.readouterr().out


def test_a_failing_notebook_is_left_to_the_build(tmp_path, capsys):
    page = _book(tmp_path, "raise RuntimeError('boom')")
    out = tmp_path / "out"
    assert execute_parallel.main([str(out), "--root", str(tmp_path)]) == 0
    assert "not cached (the build runs them again)" in capsys.readouterr().out
    cache = get_cache(str(out / execute_parallel.CACHE))
    try:
        cache.match_cache_notebook(nbformat.read(page, as_version=4))
        matched = True
    except KeyError:
        matched = False
    assert not matched
