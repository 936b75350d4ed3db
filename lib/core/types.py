"""Named types of the structures that pass between the layers.

``Networks`` is the book's central collection: trained networks keyed by (variant label, seed),
e.g. ``nets["exc", 0]``, as :func:`lib.experiments.battery.run_battery` returns them and as every
experiment, analysis and figure of the trained networks takes them.
"""

from __future__ import annotations

from typing import TypeAlias

from lib.core.train import TrainResult

NetworkKey: TypeAlias = tuple[str, int]
"""(variant label, seed), e.g. ``("exc", 0)``."""

Networks: TypeAlias = dict[NetworkKey, TrainResult]
"""Trained networks by (variant label, seed)."""

__all__ = ["NetworkKey", "Networks"]
