"""Execute the book's notebooks in parallel into the cache that ``jupyter-book build`` reads.

The book is built with ``execute_notebooks: cache`` (``_config.yml``): myst-nb looks each notebook
up in a jupyter-cache (by the hash of its code cells and kernel) and executes only those it does
not find, one after the other. On a laptop with two cores that leaves one idle for the whole
build. This script fills the same cache first, running the notebooks of the table of contents
that are not cached yet in a pool of processes, one per core, each kernel with one thread per
math library (two kernels of two threads each would compete for two cores). The build then finds
every notebook executed; a notebook that fails here is not cached, so the build executes it
again and reports its error as usual.

Usage (the Makefile's book and check targets call it before ``jupyter-book build``)::

    python scripts/execute_parallel.py OUTPUT_ROOT   # the build's --path-output

Environment variables (``BOOK_PROFILE`` ...) reach the kernels unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CACHE = Path("_build") / ".jupyter_cache"
"""Where jupyter-book keeps its execution cache under its output root."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Each kernel gets one thread per math library (set only where the caller has not set them)."""


def toc_notebooks(root: Path = REPO) -> list[Path]:
    """The notebooks of ``_toc.yml`` (root first, then in order), as absolute paths."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("sections", "chapters", "parts"):
                walk(entry.get(key))

    for key in ("chapters", "parts"):
        walk(toc.get(key))
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def cell_timeout(root: Path = REPO) -> int:
    """The per-cell timeout of ``_config.yml`` (seconds)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return int(config.get("execute", {}).get("timeout", 1800))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output_root", type=Path, help="jupyter-book's --path-output")
    ap.add_argument("--root", type=Path, default=REPO, help="the book's root (its _toc.yml)")
    args = ap.parse_args(argv)
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    # imported here, after the thread variables are set for the kernels this process starts
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    cache = get_cache(str(args.output_root / CACHE))
    notebooks = toc_notebooks(args.root)
    todo = []
    for nb in notebooks:
        record = cache.add_nb_to_project(str(nb))
        with_cache = cache.get_cached_project_nb(record.pk)
        if with_cache is None:
            todo.append(record.pk)
    print(
        f"execute_parallel: {len(notebooks) - len(todo)} of {len(notebooks)} notebooks cached, "
        f"executing {len(todo)} on {os.cpu_count()} processes",
        flush=True,
    )
    if not todo:
        return 0
    t0 = time.perf_counter()
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(
        filter_pks=todo, timeout=cell_timeout(args.root), allow_errors=False
    )
    failed = [*result.excepted, *result.errored]
    print(
        f"execute_parallel: {len(result.succeeded)} executed in "
        f"{time.perf_counter() - t0:.0f} s"
        + (f"; not cached (the build runs them again): {', '.join(failed)}" if failed else ""),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
