"""Fixtures shared by the test modules.

- ``store``: an empty artifact folder in which a test may train or compute (``make test`` sets
  ``BOOK_NO_TRAIN=1`` for everything else, so a missing shipped artifact is an error there);
- figures are drawn with matplotlib's Agg backend (no display) and closed after every test.

Plain helpers that tests call at collection time (in ``parametrize``) are in ``helpers.py``;
tolerances of recomputed-vs-stored comparisons in ``tolerances.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before any test module imports pyplot

import matplotlib.pyplot as plt
import pytest


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty artifact folder (``$BOOK_ARTIFACTS``) in which the test may train, on the CPU
    (``BOOK_DEVICE`` unset) even where the run sets ``BOOK_NO_TRAIN``."""
    folder = tmp_path / "artifacts"
    folder.mkdir()
    monkeypatch.setenv("BOOK_ARTIFACTS", str(folder))
    monkeypatch.delenv("BOOK_NO_TRAIN", raising=False)
    monkeypatch.delenv("BOOK_DEVICE", raising=False)
    return folder


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    """Close every figure a test left open (they hold memory across the run)."""
    yield
    plt.close("all")
