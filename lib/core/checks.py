"""Validation of arguments on entry, with one message style everywhere in ``lib``:

    ``<name>=<value> is not allowed; expected <what is allowed>``

Every checker returns the value (normalised where said) so it can be used inline.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable


def fail(name: str, value: Any, expected: str) -> None:
    """Raise the ``ValueError`` of the house style for a bad ``name=value``."""
    raise ValueError(f"{name}={value!r} is not allowed; expected {expected}")


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


def check_number(name: str, value: Any, low: float, high: float, expected: str, *,
                 open_low: bool = False, open_high: bool = False) -> float:
    """A real number (not a bool, not nan) in the interval from ``low`` to ``high``; the
    ``open_*`` flags exclude an end. ``expected`` says it in words for the message."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value)
            or value < low or value > high or (open_low and value == low)
            or (open_high and value == high)):
        fail(name, value, expected)
    return float(value)


__all__ = ["fail", "check_choice", "check_positive_int", "check_nonnegative_int", "check_number"]
