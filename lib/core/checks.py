"""Validation of arguments on entry, with one message style everywhere in ``lib``:

    ``<name>=<value> is not allowed; expected <what is allowed>[ (got a <type>)][; <hint>]``

This module owns that format (:func:`fail`) and the checkers of single arguments
(``check_*``, for function arguments); :mod:`lib.core.params` builds the chapter parameters'
checkers on :func:`fail`. Every checker returns the value (normalised where said) so it can be
used inline.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, NoReturn


def fail(
    name: str, value: Any, expected: str, hint: str = "", *, show_type: bool = False
) -> NoReturn:
    """Raise the ``ValueError`` of the house style for a bad ``name=value``: what is expected,
    with ``show_type`` the type of the value given (papermill hands parameters over as text, so
    "got a str" tells a reader that a value was not parsed), and a ``hint`` on how to pass it."""
    got = f" (got a {type(value).__name__})" if show_type else ""
    raise ValueError(
        f"{name}={value!r} is not allowed; expected {expected}{got}" + (f"; {hint}" if hint else "")
    )


def check_choice(name: str, value: Any, allowed: Iterable) -> Any:
    """``value`` must be one of ``allowed``."""
    allowed = tuple(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable or incomparable values are not choices
        ok = False
    if not ok:
        fail(name, value, "one of " + ", ".join(map(repr, allowed)))
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(name: str, value: Any) -> int:
    """An integer > 0 (bools and floats are rejected)."""
    if not _is_int(value) or value <= 0:
        fail(name, value, "a positive integer")
    return int(value)


def check_nonnegative_int(name: str, value: Any) -> int:
    """An integer >= 0 (bools and floats are rejected)."""
    if not _is_int(value) or value < 0:
        fail(name, value, "an integer >= 0")
    return int(value)


def check_number(
    name: str,
    value: Any,
    low: float,
    high: float,
    expected: str,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """A real number (not a bool, not nan) in the interval from ``low`` to ``high``; the
    ``open_*`` flags exclude an end. ``expected`` says it in words for the message."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, value, expected)
    x = float(value)
    if math.isnan(x) or x < low or x > high or (open_low and x == low) or (open_high and x == high):
        fail(name, value, expected)
    return x


__all__ = ["fail", "check_choice", "check_positive_int", "check_nonnegative_int", "check_number"]
