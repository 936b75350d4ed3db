"""One alias per module: each module of lib is imported under one name across lib/, tests/ and
the chapters (CONTRIBUTING.md, "Imports"): its own name, or ``<name>_<layer>`` where several
layers have a module of that name. A reader who has seen ``verdicts.compare`` in one file then
knows what ``verdicts`` is in every other."""

from __future__ import annotations

import ast
import importlib.util
import json
from collections import defaultdict
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def module_aliases(source: str) -> dict[str, set[str]]:
    """lib module -> the names ``source`` binds it to (``import lib.a.b as x``, ``from lib.a
    import b`` / ``b as x``); names imported from a module (functions, constants) do not count."""
    out: dict[str, set[str]] = defaultdict(set)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "lib":
                    out[a.name].add(a.asname or a.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "lib":
                continue
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if _is_module(full):
                    out[full].add(a.asname or a.name)
    return out


def _chapter_code(path: Path) -> str:
    """The code cells of a notebook, IPython magics and shell lines dropped."""
    cells = json.loads(path.read_text())["cells"]
    lines = [
        ln
        for c in cells
        if c["cell_type"] == "code"
        for ln in "".join(c["source"]).splitlines()
        if not ln.lstrip().startswith(("%", "!"))
    ]
    return "\n".join(lines)


def collect() -> dict[str, dict[str, list[str]]]:
    """lib module -> alias -> the files that use it, over lib/, tests/ and book/*.ipynb."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    files = [
        *(REPO / "lib").rglob("*.py"),
        *(REPO / "tests").glob("*.py"),
        *(REPO / "scripts").glob("*.py"),
        *(REPO / "book").glob("*.ipynb"),
    ]
    for path in sorted(files):
        source = _chapter_code(path) if path.suffix == ".ipynb" else path.read_text()
        for module, names in module_aliases(source).items():
            for name in names:
                found[module][name].append(str(path.relative_to(REPO)))
    return found


def test_the_collector_sees_every_form_of_import():
    source = (
        "import lib.core.tasks as task_defs\nfrom lib.core import tasks\n"
        "from lib.analysis import verdicts as v, stats\nfrom lib.core.tasks import TASKS\n"
    )
    assert module_aliases(source) == {
        "lib.core.tasks": {"task_defs", "tasks"},
        "lib.analysis.verdicts": {"v"},
        "lib.analysis.stats": {"stats"},
    }


def test_every_module_has_one_alias():
    several = {
        module: {alias: files for alias, files in aliases.items()}
        for module, aliases in collect().items()
        if len(aliases) > 1
    }
    assert not several, "modules imported under several names:\n" + "\n".join(
        f"{m}: " + "; ".join(f"{a} in {', '.join(sorted(set(f)))}" for a, f in sorted(al.items()))
        for m, al in sorted(several.items())
    )
