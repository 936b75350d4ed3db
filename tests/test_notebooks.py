"""Every chapter notebook runs end to end at profile "smoke", and is committed in a clean shape.

The run goes through papermill, the same parameter injection a reader uses
(``papermill book/x.ipynb out.ipynb -p profile paper``). The lint keeps notebooks diff-friendly and
their parameters documented (``papermill --help-notebook book/x.ipynb`` lists each one with its
comment).
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import nbformat
import papermill as pm
from papermill.translators import PythonTranslator
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
NOTEBOOKS = sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
SMOKE = {"profile": "smoke"}
CELL_TIMEOUT_S = 300
"""Per cell at smoke (a whole chapter takes seconds): a stalled kernel fails fast instead of
holding the test run for half an hour."""


def _toc_files(toc: dict) -> list[str]:
    """Every ``file`` of a jb-book ``_toc.yml`` (root included), as written there."""
    files = [toc["root"]]

    def walk(entries: list | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key))
    return files


TOC_FILES = _toc_files(yaml.safe_load((REPO / "_toc.yml").read_text()))


def _source_of(docname: str) -> Path | None:
    for suffix in ("", ".md", ".ipynb", ".rst"):
        if (path := REPO / f"{docname}{suffix}").is_file():
            return path
    return None


def test_toc_entries_exist() -> None:
    missing = [f for f in TOC_FILES if _source_of(f) is None]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


NOT_YET_IN_TOC: dict[str, str] = {}
"""Chapters run by the tests (at smoke, from shipped artifacts) but kept out of the book until
their default-profile artifacts ship, each with the reason."""


def test_every_notebook_is_in_the_toc() -> None:
    # a notebook outside the TOC is never built (only_build_toc_files): tested but unseen
    in_toc = {_source_of(f) for f in TOC_FILES}
    orphans = [
        str(nb.relative_to(REPO))
        for nb in NOTEBOOKS
        if nb not in in_toc and str(nb.relative_to(REPO)) not in NOT_YET_IN_TOC
    ]
    assert not orphans, f"notebooks missing from _toc.yml: {orphans}"


def test_chapters_kept_out_of_the_toc_exist_and_are_out() -> None:
    # an exemption outlives its reason once the chapter is in the TOC (or gone): remove it then
    in_toc = {_source_of(f) for f in TOC_FILES}
    for name in NOT_YET_IN_TOC:
        assert (REPO / name).is_file(), f"{name} is exempted from the TOC check but does not exist"
        assert REPO / name not in in_toc, f"{name} is in _toc.yml: remove it from NOT_YET_IN_TOC"


def _lint(nb_path: Path) -> list[str]:
    """Problems with one committed notebook, as readable sentences."""
    nb = nbformat.read(nb_path, as_version=4)
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, must be 'python3'")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has committed outputs (clear them: the build executes)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has an execution count (clear outputs before committing)")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        return [*problems, f"{len(tagged)} cells tagged 'parameters', need exactly one"]
    cell = tagged[0]
    if "hide-input" not in cell.metadata.get("tags", []):
        problems.append("the parameters cell is not also tagged 'hide-input'")
    source = cell.source
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return [*problems, f"the parameters cell does not parse: {err}"]
    commented = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    lines = source.splitlines()
    names = set()
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
        if node.lineno != node.end_lineno:
            problems.append(
                f"parameter on line {node.lineno} spans several lines; papermill reads one line"
            )
        if node.lineno not in commented:
            problems.append(
                f"parameter line {node.lineno} has no '# comment': {lines[node.lineno - 1]!r}"
            )
    inferred = {p.name for p in PythonTranslator.inspect(cell)}
    if inferred != names:
        problems.append(
            f"papermill cannot read parameter(s) {sorted(names - inferred)} "
            "(a line with a second '=', e.g. in its comment, hides it from "
            "--help-notebook)"
        )
    if "profile" not in names:
        problems.append("the parameters cell does not assign 'profile'")
    elif not any("BOOK_PROFILE" in ln for ln in lines if ln.lstrip().startswith("profile")):
        problems.append(
            "'profile' must default to os.environ.get(\"BOOK_PROFILE\", ...) (make check sets it)"
        )
    return problems


def test_notebooks_are_clean() -> None:
    problems = [f"{nb.relative_to(REPO)}: {p}" for nb in NOTEBOOKS for p in _lint(nb)]
    assert not problems, "\n".join(problems)


# Defined only when there are notebooks, so an empty book/ yields no cases instead of a skip.
if NOTEBOOKS:

    @pytest.mark.slow
    @pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(BOOK)))
    def test_notebook_runs(nb: Path, tmp_path: Path) -> None:
        pm.execute_notebook(
            str(nb),
            str(tmp_path / nb.name),
            parameters=SMOKE,
            kernel_name="python3",
            cwd=str(nb.parent),
            progress_bar=False,
            execution_timeout=CELL_TIMEOUT_S,
        )
        illegible = _illegible_figures(tmp_path / nb.name)
        assert not illegible, "figures a reader cannot read:\n" + "\n".join(illegible)


def _illegible_figures(executed: Path) -> list[str]:
    """Every figure of an executed notebook that lib.plots stamped, with what keeps a reader
    from reading it at the column width (lib.plots.stamped_problems)."""
    import base64

    from lib.plots import stamped_problems

    out = []
    for i, cell in enumerate(nbformat.read(executed, as_version=4).cells):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            found = stamped_problems(base64.b64decode(png)) if png else None
            if found:
                out.append(f"cell {i}: {'; '.join(found)}")
    return out


def test_lint_catches_defects(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "paper-env", "display_name": "x", "language": "python"}
    params = nbformat.v4.new_code_cell(
        "profile = 'quick'\nn_seeds = 3  # seeds per mechanism\n"
        "lr = (\n  1e-3)  # x\n"
        "n_rec = None  # None = the default"
    )
    params.metadata["tags"] = ["parameters"]
    run = nbformat.v4.new_code_cell("print(n_seeds)")
    run.execution_count = 1
    run.outputs = [nbformat.v4.new_output("stream", text="3\n")]
    nb.cells = [params, run]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    found = "\n".join(_lint(path))
    for expected in (
        "kernelspec",
        "committed outputs",
        "execution count",
        "hide-input",
        "line 1 has no '# comment'",
        "spans several lines",
        "BOOK_PROFILE",
        "cannot read parameter(s) ['n_rec']",
    ):
        assert expected in found, f"{expected!r} not reported in:\n{found}"
    assert "line 2" not in found  # the documented parameter passes
