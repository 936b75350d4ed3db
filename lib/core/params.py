"""Chapter parameters: profiles, defaults and validation on entry.

Every chapter's ``parameters`` cell (papermill) sets ``profile`` and optional overrides, then
calls ``P = lib.experiments.chapter_params("<chapter>", profile, name=value, ...)``, which
resolves the chapter's schema here. A value of ``None`` means "the profile's default". Every
value is checked here, and a bad one raises ``ValueError`` naming the parameter, the value and
what is allowed -- before any work starts.

The checkers here (``int_in``, ``float_in``, ``choice``, ``int_list``, ``float_list``,
``subset``, ``task_set``, ...) are factories for the schemas: each returns a ``check(name,
value)``. They raise through :func:`reject`, which adds the value's type to the one message
format of :func:`lib.core.checks.fail` (the module of single-argument checks, ``check_*``).

List-valued parameters (``task_set``, ``variants``; their checker carries ``list_options``) take
a list, or the text papermill's ``-p`` hands over: a JSON or YAML list (``'["fdgo", "fdanti"]'``,
``'[fdgo, fdanti]'``) or comma-separated names (``fdgo,fdanti``); ``-y 'task_set: [fdgo, fdanti]'``
passes a real list. A bad one is reported with these three forms.

Profiles: ``smoke`` (tests, seconds), ``quick`` (the default book build on a 2-core laptop, using
shipped artifacts), ``paper`` (full scale; a GPU or a long run), and ``full`` (Yang's 20-task
battery at the size this machine trains, N = 128: the full-battery chapter and
``python -m lib.experiments --profile full``). Only schemas whose every parameter has a ``full``
value accept ``profile="full"``; the others reject it by name. The default profile is
``$BOOK_PROFILE`` if set (``make check`` builds the book at ``smoke`` that way), else ``quick``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, NoReturn

import numpy as np

from lib.core.checks import fail
from lib.core.tasks import TASK_SETS, TASKS

PROFILES = ("smoke", "quick", "paper", "full")


class _NoValue:
    """The ``full`` value of a parameter whose chapter has no full-battery setting."""

    def __repr__(self) -> str:
        return "n/a"


NO_FULL = _NoValue()
"""Marks a :class:`Param` without a ``full`` value (its schema rejects ``profile="full"``)."""


def default_profile() -> str:
    """``$BOOK_PROFILE`` if set (validated), else ``"quick"``."""
    profile = os.environ.get("BOOK_PROFILE", "quick")
    if profile not in PROFILES:
        fail("BOOK_PROFILE", profile, "one of " + ", ".join(PROFILES))
    return profile


@dataclass(frozen=True)
class Param:
    """One chapter parameter: a checker and its default under each profile (``full``:
    :data:`NO_FULL` unless the chapter has a full-battery setting)."""

    check: Callable[[str, Any], Any]
    smoke: Any
    quick: Any
    paper: Any
    doc: str = ""
    full: Any = NO_FULL

    @property
    def list_options(self) -> tuple[str, ...] | None:
        """The names a list-valued parameter picks from (``None``: not list-valued). Set by the
        list checkers (:func:`subset`, :func:`task_set`), so every parameter that takes a list
        is found by looking at its checker."""
        return getattr(self.check, "list_options", None)


def reject(name: str, value: Any, allowed: str, hint: str = "") -> NoReturn:
    """Raise a chapter parameter's error: :func:`lib.core.checks.fail`'s message with the type of
    the value given and, for list-valued parameters, a ``hint`` on the forms a list takes."""
    fail(name, value, allowed, hint, show_type=True)


def int_in(lo: int, hi: int) -> Callable[[str, Any], int]:
    """An int in [lo, hi]; bools and floats are rejected."""

    def check(name: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            reject(name, v, f"an int in [{lo}, {hi}]")
        return v

    return check


def float_in(lo: float, hi: float) -> Callable[[str, Any], float]:
    """A finite number in [lo, hi]."""

    def check(name: str, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            reject(name, v, f"a number in [{lo}, {hi}]")
        return float(v)

    return check


def choice(options: tuple) -> Callable[[str, Any], Any]:
    def check(name: str, v: Any) -> Any:
        if not isinstance(v, str) or v not in options:
            reject(name, v, "one of " + ", ".join(map(repr, options)))
        return v

    return check


def list_forms(name: str, example: tuple[str, ...]) -> str:
    """How to pass a list-valued parameter, in the three forms :func:`parse_list` accepts."""
    a, b = example[:2]
    return (
        f"a list is given as [{a!r}, {b!r}] in Python, or through papermill as "
        f"-p {name} '[{a}, {b}]' (a JSON or YAML list), -p {name} {a},{b} "
        f"(comma-separated names) or -y '{name}: [{a}, {b}]'"
    )


def parse_list(v: Any) -> Any:
    """A list given as text, parsed: ``'["a", "b"]'`` (JSON), ``'[a, b]'`` / ``"['a', 'b']"``
    (a YAML flow list of names) or ``'a, b'`` (comma-separated names) -> ``["a", "b"]``.

    papermill's ``-p name value`` hands a list to the notebook as this text (``-y`` as a list).
    Anything but a string is returned unchanged; text that is not a list of names (e.g.
    ``'[a,'``) returns ``None``, so the checker reports it.
    """
    if not isinstance(v, str):
        return v
    text = v.strip()
    if not (text.startswith("[") or text.endswith("]")):
        return [s.strip() for s in text.split(",")]
    if not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        parsed = json.loads(text)
        return parsed if isinstance(parsed, list) else None
    except json.JSONDecodeError:
        pass
    inner = text[1:-1].strip()
    if not inner:
        return []
    items = []
    for part in inner.split(","):
        item = part.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            item = item[1:-1]
        if not item or any(ch in item for ch in "[]{}'\":"):
            return None
        items.append(item)
    return items


def float_list(lo: float, hi: float) -> Callable[[str, Any], tuple[float, ...]]:
    """Distinct finite numbers in [lo, hi], returned sorted (empty allowed: nothing to run); a
    list, or text (``'[300, 1000]'``, ``300,1000``) as papermill's ``-p`` hands it over."""

    def check(name: str, v: Any) -> tuple[float, ...]:
        items = parse_list(v) if isinstance(v, str) and v.strip() else ([] if v == "" else v)
        if isinstance(items, (int, float)) and not isinstance(items, bool):
            items = [items]  # papermill's -p tau_fast_checks 300
        values: list[Any] = []
        for item in items if isinstance(items, (list, tuple)) else [None]:
            try:
                item = float(item) if isinstance(item, str) else item
            except ValueError:
                pass
            values.append(item)
        if (
            not isinstance(items, (list, tuple))
            or any(
                isinstance(x, bool) or not isinstance(x, (int, float)) or not lo <= x <= hi
                for x in values
            )
            or len(set(values)) != len(values)
        ):
            reject(
                name,
                v,
                f"a list of distinct numbers in [{lo}, {hi}] (may be empty), e.g. [{lo}, {hi}]",
            )
        return tuple(sorted(float(x) for x in values))

    return check


def int_list(lo: int, hi: int) -> Callable[[str, Any], tuple[int, ...]]:
    """A checker: one or more distinct ints in [lo, hi], returned sorted; a list, or text
    (``'[16, 32]'``, ``16,32``) as papermill's ``-p`` hands it over."""

    def check(name: str, v: Any) -> tuple[int, ...]:
        items = parse_list(v) if isinstance(v, str) else v
        if isinstance(items, (int, np.integer)) and not isinstance(items, bool):
            items = [items]  # papermill's -p n_recs 64
        values: list = []
        if isinstance(items, (list, tuple, range)):
            for item in items:
                if isinstance(item, str) and item.strip().lstrip("-").isdigit():
                    item = int(item)
                values.append(item)
        if (
            not isinstance(items, (list, tuple, range))
            or not values
            or any(
                isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not lo <= x <= hi
                for x in values
            )
            or len(set(values)) != len(values)
        ):
            reject(
                name,
                v,
                f"a list of distinct ints in [{lo}, {hi}], e.g. [{lo}, {hi}]; "
                f"through papermill -p {name} '[{lo}, {hi}]', -p {name} {lo},{hi} "
                f"or -y '{name}: [{lo}, {hi}]'",
            )
        return tuple(sorted(int(x) for x in values))

    return check


def subset(options: tuple) -> Callable[[str, Any], tuple]:
    """A non-empty list of distinct names from ``options``: a list, or text that
    :func:`parse_list` reads as one (JSON / YAML list, comma-separated names)."""

    def check(name: str, v: Any) -> tuple:
        items = parse_list(v)
        if (
            not isinstance(items, (list, tuple))
            or not items
            or any(not isinstance(s, str) or s not in options for s in items)
            or len(set(items)) != len(items)
        ):
            reject(
                name,
                v,
                "a non-empty list of distinct names from " + ", ".join(options),
                list_forms(name, options),
            )
        return tuple(items)

    setattr(check, "list_options", tuple(options))  # read by Param.list_options
    return check


def task_set(name: str, v: Any) -> tuple[str, ...]:
    """A named task set (``core8``, ``all``) or a list of task names (as :func:`subset`)."""
    if isinstance(v, str) and v.strip() in TASK_SETS:
        return tuple(TASK_SETS[v.strip()])
    hint = list_forms(name, ("fdgo", "fdanti"))
    try:
        tasks = subset(TASKS)(name, v)
    except ValueError:
        reject(
            name,
            v,
            f"a task set ({', '.join(TASK_SETS)}) or a list of task names from " + ", ".join(TASKS),
            hint,
        )
    if len(tasks) < 2:
        reject(name, v, "at least two tasks", hint)
    return tasks


setattr(task_set, "list_options", TASKS)  # read by Param.list_options


def flag(name: str, v: Any) -> bool:
    """True or False (papermill's ``-p name True``); the text ``"true"`` / ``"false"`` too."""
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    if not isinstance(v, bool):
        reject(name, v, "True or False")
    return v


def resolve(schema: dict[str, Param], profile: str | None = None, **values: Any) -> SimpleNamespace:
    """Validate ``values`` against ``schema`` and fill ``None`` with the profile's defaults.

    Returns a namespace with every parameter plus ``profile``. Unknown names are errors (a typo
    in a papermill ``-p`` must not be silently ignored).
    """
    profile = default_profile() if profile is None else profile
    if profile not in PROFILES:
        reject("profile", profile, "one of " + ", ".join(map(repr, PROFILES)))
    unknown = sorted(set(values) - set(schema))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown}; this chapter takes: "
            + ", ".join(["profile", *schema])
        )
    if any(getattr(p, profile) is NO_FULL for p in schema.values()):
        reject(
            "profile",
            profile,
            "one of " + ", ".join(repr(p) for p in PROFILES if p != "full") + " for this "
            "chapter (`full` is the full-battery chapter's profile, 10_full_battery)",
        )
    out = {"profile": profile}
    for name, p in schema.items():
        v = values.get(name)
        out[name] = p.check(name, getattr(p, profile) if v is None else v)
    return SimpleNamespace(**out)


def describe(schema: dict[str, Param]) -> list[dict]:
    """Rows (parameter, smoke, quick, paper, meaning) for a profile table in the book."""
    return [
        {"parameter": n, "smoke": p.smoke, "quick": p.quick, "paper": p.paper, "meaning": p.doc}
        for n, p in schema.items()
    ]


def seed(name: str, v: Any) -> int:
    """A non-negative int seed."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        reject(name, v, "a non-negative int")
    return v


TASKS_PARAMS: dict[str, Param] = {
    "task_set": Param(task_set, "all", "all", "all", "tasks to show"),
    "n_trials": Param(
        int_in(16, 1_000_000),
        64,
        1024,
        8192,
        "trials drawn per task for the condition distributions",
    ),
    "seed": Param(seed, 0, 0, 0, "seed of the drawn trials"),
}

ALLOW_LONG = Param(
    flag,
    False,
    False,
    False,
    "train even if the plan's estimate exceeds the long-run limit (30 min)",
)
"""The switch every chapter that may train shares."""

MODEL_PARAMS: dict[str, Param] = {
    "task_set": Param(task_set, "core8", "core8", "all", "tasks (K = number of contexts)"),
    "n_rec": Param(int_in(4, 4096), 16, 128, 256, "recurrent units N"),
    "rank": Param(int_in(1, 64), 1, 1, 1, "rank R of syn_lowrank (hybrid uses the same)"),
    "seed": Param(seed, 0, 0, 0, "seed of the demo networks' weights"),
    "workers": Param(
        int_in(1, 256),
        2,
        2,
        os.cpu_count() or 1,
        "parallel processes if E1's networks must be trained",
    ),
    "allow_long": ALLOW_LONG,
}
