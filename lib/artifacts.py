"""Artifacts: trained networks and computed results, keyed by their config and behaviour version.

An artifact is two files in ``artifact_dir()/<kind>/``:

* ``<key>.pt``: the payload (``torch.save``),
* ``<key>.json``: its stamp -- kind, config, behaviour versions, SHA-256 of the payload, and as
  provenance the code hash, torch, numpy and Python versions and the creation time.

``key = sha256(kind, config, behaviour versions)[:16]`` (:mod:`lib.core.behaviour`): a refactor that
changes no result invalidates nothing, a change of behaviour bumps a version (the golden tests
enforce it) and so changes every dependent key. :func:`code_version` (a hash of the code that
determines results, comments and docstrings stripped) is recorded in the stamp, not in the key.

:func:`load_or_compute` returns a matching artifact or makes it (trained networks go through
:func:`lib.experiments.runner.load_or_train`). A payload
whose hash does not match its stamp (corrupt, truncated, replaced) or a stamp whose config differs
is reported with a warning and rebuilt, never used. Writes are atomic (temporary file in the same
folder, fsync, rename), so an interrupted write leaves no half file under the final name.
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
import io
import json
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from lib.core.behaviour import versions
from lib.core.checks import fail
from lib.core.io import atomic_torch_save, atomic_write_bytes

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULT_MODULES = (
    "core/tasks.py",
    "core/model.py",
    "core/train.py",
    "core/metrics.py",
    "core/seeds.py",
)
"""The modules whose code determines trained networks (and so every artifact's key)."""
KIND_MODULES = {
    "ambiguity": ("experiments/ambiguity.py",),
    "clustering": ("experiments/clustering.py", "core/statespace.py"),
    "dynamics": ("experiments/dynamics.py", "core/dynamics.py", "core/statespace.py"),
    "timescales": ("experiments/timescales.py",),
}
"""Further modules whose code determines artifacts of a kind (E2 probes, E4 analyses and E5
sequences and E4's unit clustering are computed there)."""


NO_TRAIN_ENV = "BOOK_NO_TRAIN"


def no_train() -> bool:
    """Whether ``$BOOK_NO_TRAIN=1`` (set by ``make test`` and CI): a missing or invalid artifact
    is then an error instead of being trained or computed, so a stale key cannot hide in a slow
    build."""
    value = os.environ.get(NO_TRAIN_ENV, "0")
    if value not in ("0", "1", ""):
        fail(NO_TRAIN_ENV, value, "0 or 1")
    return value == "1"


class ArtifactError(RuntimeError):
    """An artifact on disk is missing, corrupt or does not match what was asked for."""


def artifact_dir() -> Path:
    """Where artifacts live: ``$BOOK_ARTIFACTS`` if set, else ``<repo>/artifacts``."""
    return Path(os.environ.get("BOOK_ARTIFACTS", REPO_ROOT / "artifacts"))


def code_text(source: str) -> str:
    """Python ``source`` as :func:`code_version` hashes it: parsed and unparsed without comments,
    docstrings or formatting, so that only a change of code changes it."""
    return ast.unparse(_strip_docstrings(ast.parse(source)))


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def code_version(kind: str | None = None) -> str:
    """Hash (12 hex digits) of the code that determines artifacts of ``kind`` (``RESULT_MODULES``
    plus ``KIND_MODULES[kind]``), comments and docstrings excluded.

    The code is normalised by parsing it and printing it back (``ast.unparse``), which is the
    same on every Python version that runs this project (``ast.dump`` is not: its fields change
    between versions). Cached per process: the sources do not change while it runs.
    """
    h = hashlib.sha256()
    lib_dir = Path(__file__).resolve().parent
    for name in RESULT_MODULES + KIND_MODULES.get(kind, ()):
        h.update(name.encode())
        h.update(code_text((lib_dir / name).read_text()).encode())
    return h.hexdigest()[:12]


def canonical(config: dict) -> dict:
    """``config`` as it reads back from JSON (tuples become lists), for comparisons."""
    return json.loads(json.dumps(config, sort_keys=True))


def artifact_key(kind: str, config: dict) -> str:
    """Key (16 hex digits) of an artifact of ``kind`` made from ``config`` by code of the current
    behaviour versions (:func:`lib.core.behaviour.versions`)."""
    blob = json.dumps({"kind": kind, "config": config, "behaviour": versions(kind)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def paths(kind: str, config: dict, directory: Path | None = None) -> tuple[Path, Path]:
    """(payload, stamp) paths of an artifact."""
    key = artifact_key(kind, config)
    folder = (directory or artifact_dir()) / kind
    return folder / f"{key}.pt", folder / f"{key}.json"


def save(
    kind: str, config: dict, payload: Any, directory: Path | None = None, extra: dict | None = None
) -> Path:
    """Write an artifact (payload first, then its stamp); returns the payload path."""
    pt, stamp = paths(kind, config, directory)
    digest = atomic_torch_save(payload, pt)
    meta = {
        "kind": kind,
        "config": config,
        "behaviour": versions(kind),
        "code_version": code_version(kind),
        "sha256": digest,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write_bytes(json.dumps(meta | (extra or {}), indent=1, sort_keys=True).encode(), stamp)
    return pt


def load(kind: str, config: dict, directory: Path | None = None) -> Any:
    """Load a verified artifact (a copy the caller may change) or raise :class:`ArtifactError`
    saying what is wrong."""
    return copy.deepcopy(_verified(kind, config, directory))


def _verified(kind: str, config: dict, directory: Path | None = None) -> Any:
    """The verified payload itself, from :data:`_VERIFIED` after the first read (not to be
    changed: :func:`load` hands out copies)."""
    pt, stamp = paths(kind, config, directory)
    if not pt.exists() or not stamp.exists():
        raise ArtifactError(f"no {kind} artifact for this config at {pt}")
    try:
        meta = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ArtifactError(f"stamp {stamp} is unreadable: {err}") from err
    if meta.get("config") != canonical(config) or meta.get("kind") != kind:
        raise ArtifactError(f"stamp {stamp} describes another config or kind")
    if meta.get("behaviour") != versions(kind):
        raise ArtifactError(
            f"{pt} was made by behaviour version {meta.get('behaviour')}, this is {versions(kind)}"
        )
    stat = pt.stat()
    cache_key = (str(pt), meta.get("sha256"), stat.st_mtime_ns, stat.st_size)
    if cache_key not in _VERIFIED:
        data = pt.read_bytes()
        if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise ArtifactError(f"{pt} does not match its recorded SHA-256 (corrupt or truncated)")
        _VERIFIED[cache_key] = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
    return _VERIFIED[cache_key]


_VERIFIED: dict[tuple, Any] = {}
"""Payloads verified in this process, by (path, recorded hash, mtime, size): a second load (e.g.
:func:`has` then :func:`load`) neither rereads nor rehashes the file. Callers get copies."""


def meta(kind: str, config: dict, directory: Path | None = None) -> dict:
    """The stamp of an artifact (config, behaviour versions, hash, and as provenance the code
    hash, torch, numpy and Python versions and the creation time)."""
    return json.loads(paths(kind, config, directory)[1].read_text())


def meta_of_key(kind: str, key: str, directory: Path | None = None) -> dict:
    """The stamp of the artifact of ``kind`` whose key (:func:`artifact_key`) is ``key``, e.g. one
    another stamp names; {} if there is none."""
    stamp = (directory or artifact_dir()) / kind / f"{key}.json"
    return json.loads(stamp.read_text()) if stamp.exists() else {}


def load_or_compute(
    kind: str,
    config: dict,
    compute: Callable[[], Any],
    directory: Path | None = None,
    extra: dict | None = None,
) -> Any:
    """Return the verified artifact for ``(kind, config)``, computing and saving it if needed
    (``extra``: more provenance for the stamp of one computed here)."""
    pt, _ = paths(kind, config, directory)
    problem = f"no {kind} artifact for this config at {pt}"
    if pt.exists():
        try:
            return load(kind, config, directory)
        except ArtifactError as err:
            problem = str(err)
            if not no_train():
                warnings.warn(f"rebuilding {kind} artifact: {err}")
    if no_train():
        raise ArtifactError(
            f"{problem}; ${NO_TRAIN_ENV}=1 forbids computing it here (run "
            f"`make artifacts`, or unset {NO_TRAIN_ENV}). Config: {config}"
        )
    payload = compute()
    save(kind, config, payload, directory, extra)
    return payload


def has(kind: str, config: dict, directory: Path | None = None) -> bool:
    """Whether a verified artifact exists (without building it, and without copying it)."""
    try:
        _verified(kind, config, directory)
        return True
    except ArtifactError:
        return False


def stale(directory: Path | None = None) -> list[Path]:
    """Stamps (``<kind>/<key>.json``) of artifacts the current code can never load: made by other
    behaviour versions, or with an unreadable stamp. Their payloads sit next to them (``.pt``)."""
    out = []
    for stamp in sorted((directory or artifact_dir()).glob("*/*.json")):
        try:
            meta_ = json.loads(stamp.read_text())
            current = meta_.get("behaviour") == versions(meta_.get("kind", stamp.parent.name))
        except (OSError, json.JSONDecodeError):
            current = False
        if not current:
            out.append(stamp)
    return out
