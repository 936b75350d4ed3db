"""lib's architecture: layers whose imports point one way, and no function-level import of lib.

    core  <-  artifacts  <-  experiments  <-  analysis  <-  plots  (<- chapters)

A module may import from its own layer and the layers to its left, never to its right; lib
modules are imported at the top of a module, never inside a function (that is how cycles hide).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"
LAYERS = {
    "core": 0,
    "dynamics": 0,
    "artifacts": 1,
    "experiments": 2,
    "bench": 2,
    "analysis": 3,
    "plots": 4,
}
"""Layer of each top-level part; ``lib.dynamics`` is a public re-export of core tools."""


def layer_of(module: str) -> int:
    """Layer of ``lib.<part>...`` (``lib`` itself is the package root: layer 0)."""
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else 0


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB.parent).with_suffix("")
        name = ".".join(p for p in rel.parts if p != "__init__")
        out.append((name, path))
    return out


def lib_imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lib":
            for alias in node.names:  # `from lib import x` imports the module lib.x
                full = f"{node.module}.{alias.name}"
                found.append((full if node.module == "lib" else node.module, node))
        elif isinstance(node, ast.Import):
            found += [(a.name, node) for a in node.names if a.name.split(".")[0] == "lib"]
    return found


@pytest.mark.parametrize("name, path", modules(), ids=[n for n, _ in modules()])
def test_imports_point_one_way(name, path):
    tree = ast.parse(path.read_text())
    mine = layer_of(name)
    for target, _ in lib_imports(tree):
        assert layer_of(target) <= mine, (
            f"{name} (layer {mine}) imports {target} (layer {layer_of(target)})"
        )


@pytest.mark.parametrize("name, path", modules(), ids=[n for n, _ in modules()])
def test_no_function_level_imports_of_lib(name, path):
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    for target, node in lib_imports(tree):
        assert id(node) in top, f"{name} imports {target} inside a function (line {node.lineno})"


def test_every_module_belongs_to_a_layer():
    for name, _ in modules():
        layer_of(name)  # KeyError for a module outside every layer


def test_the_transitional_claims_module_is_gone():
    """The E1/E2 analyses live beside their experiments (lib.analysis.battery, .ambiguity) and the
    shared rules in lib.analysis.common; the old hub lib.analysis.claims no longer exists, so no
    file can keep importing it."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("lib.analysis.claims")
    for name in ("battery", "ambiguity", "common"):
        importlib.import_module(f"lib.analysis.{name}")
