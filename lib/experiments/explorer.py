"""E6, the live explorer: its chapter parameters (the views are computed on demand from E1's
networks by :mod:`lib.analysis.explorer`; nothing is cached as an artifact).

``pair`` is checked here as two distinct task names; whether the run's task set holds it as a
conflict pair is checked against the networks (:func:`lib.analysis.explorer.chapter_choice`).
"""

from __future__ import annotations

from typing import Any

from lib.core.params import Param, list_forms, parse_list, reject, seed, subset
from lib.core.tasks import TASKS


def task_pair(name: str, v: Any) -> tuple[str, str] | None:
    """None (the first conflict pair present) or two distinct task names, as a list or as text
    (:func:`lib.core.params.parse_list`)."""
    if v is None:
        return None
    hint = list_forms(name, ("fdgo", "fdanti"))
    try:
        pair = subset(TASKS)(name, v)
    except ValueError:
        reject(
            name,
            v,
            "two task names (a conflict pair of the task set, e.g. ['fdgo', 'fdanti']) or None",
            hint,
        )
    if len(pair) != 2:
        reject(name, v, "exactly two task names", hint)
    return pair


setattr(task_pair, "list_options", TASKS)  # read by Param.list_options


def unit_list(name: str, v: Any) -> tuple[float, ...]:
    """1 to 11 distinct numbers in [0, 1]: a list, or text (``'[0, 0.5, 1]'``, ``0,0.5,1``)."""
    items = parse_list(v)
    allowed = (
        "a list of 1 to 11 distinct numbers in [0, 1], e.g. [0, 0.5, 1]; through "
        f"papermill -p {name} '[0, 0.5, 1]', -p {name} 0,0.5,1 or -y '{name}: [0, 0.5, 1]'"
    )
    values = []
    if isinstance(items, (list, tuple)):
        for item in items:
            try:
                x = float(item) if not isinstance(item, bool) else None
            except (TypeError, ValueError):
                x = None
            values.append(x)
    if (
        not isinstance(items, (list, tuple))
        or not 1 <= len(values) <= 11
        or any(x is None or not 0 <= x <= 1 for x in values)
        or len(set(values)) != len(values)
    ):
        reject(name, v, allowed)
    return tuple(values)


EXPLORER_PARAMS: dict[str, Param] = {
    "pair": Param(
        task_pair,
        None,
        None,
        None,
        "conflict pair shown in the static gallery (None: the first present)",
    ),
    "seed_shown": Param(seed, 0, 0, 0, "seed of the networks shown in the static gallery"),
    # given as text, the form papermill's -p hands over (the checker returns a tuple of floats)
    "gallery_lambdas": Param(
        unit_list,
        "0, 0.5, 1",
        "0, 0.25, 0.5, 0.75",
        "0, 0.25, 0.5, 0.75",
        "mixture weights λ of the static gallery's columns (more than 4 wrap into further rows; "
        "pure e_j, λ = 1, is drawn in every panel as a reference)",
    ),
}

__all__ = ["EXPLORER_PARAMS", "task_pair", "unit_list"]
