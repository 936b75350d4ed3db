"""The task battery described and checked: families, condition statistics, Yang's fixtures.

Three read-outs of :mod:`lib.core.tasks` for the book's task chapter (figures are in
:mod:`lib.plots.tasks`):

- :func:`family_table`: the four task families of Yang et al. (2019), their epochs in order and
  the rule that maps stimuli to the response.
- :func:`condition_stats` / :func:`condition_summary`: the per-trial conditions of many sampled
  trials (epoch durations, rings, coherence of the decisive stimulus pair, match, target angle)
  and their per-task summary. Yang draws timing and rings once per batch, so every trial is drawn
  as its own batch here: ``n`` trials give ``n`` independent draws of every quantity.
- :func:`fixture_pairs` / :func:`compare` / :func:`compare_all`: our rendering of the conditions
  of each reference trial made by Yang's own ``task.py`` against his tensors, as max absolute
  differences, and :func:`lib.core.metrics.performance` against his ``perf``.

Fixture folder: ``$YANG2019_FIXTURES``, default ``../shared/fixtures/yang2019`` from the repo root
(:func:`fixture_dir`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lib.core import tasks as yang_tasks
from lib.core.metrics import performance

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_IN_REPO = REPO_ROOT / "tests" / "fixtures" / "yang2019"
FIXTURES_ENV = "YANG2019_FIXTURES"

FAMILIES: dict[str, tuple[str, ...]] = {
    "Go / Anti": ("fdgo", "reactgo", "delaygo", "fdanti", "reactanti", "delayanti"),
    "Decision making": ("dm1", "dm2", "contextdm1", "contextdm2", "multidm"),
    "Delayed decision making": (
        "delaydm1",
        "delaydm2",
        "contextdelaydm1",
        "contextdelaydm2",
        "multidelaydm",
    ),
    "Matching": ("dmsgo", "dmsnogo", "dmcgo", "dmcnogo"),
}
"""Yang et al.'s four families, tasks in Yang's order."""

RULES: dict[str, str] = {
    "Go / Anti": "respond at the stimulus angle (Anti: the opposite angle) once the fixation cue "
    "goes off (RT: at stimulus onset)",
    "Decision making": "respond at the stronger of two simultaneous stimuli (Ctx: on the "
    "attended ring only; MultSen: summed over both rings)",
    "Delayed decision making": "as Decision making, the two stimuli shown one after the other "
    "with a delay between them",
    "Matching": "respond at the test if it matches the sample (DMS/DNMS: same angle; DMC/DNMC: "
    "same category, angle < pi), else keep fixating; DMS/DMC go on match, DNMS/DNMC "
    "on non-match",
}
"""The response rule of each family, in words (the code is in :mod:`lib.core.tasks`)."""

EPOCHS = ("fix1", "stim1", "delay1", "stim2", "delay2", "go1")
"""Yang's epoch names, in the order they occur in a trial."""


def family_of(task: str) -> str:
    """The family (a key of :data:`FAMILIES`) of a task name."""
    for family, members in FAMILIES.items():
        if task in members:
            return family
    raise ValueError(
        f"task={task!r} is not a Yang et al. (2019) task; allowed: " + ", ".join(yang_tasks.TASKS)
    )


def _check_tasks(tasks) -> tuple[str, ...]:
    tasks = tuple(tasks)
    if not tasks:
        raise ValueError("tasks=(): name at least one task")
    for t in tasks:
        family_of(t)
    return tasks


def _check_n(name: str, n, lo: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < lo:
        raise ValueError(f"{name}={n!r} must be an int >= {lo}")
    return int(n)


def _rings(family: str, stims: list[yang_tasks.Event]) -> str:
    """Which rings the stimuli of one trial use: "1", "2" or "1+2", and for the matching tasks
    "sample ring→test ring" (e.g. "1→2")."""
    mods = [int(e.rings()[0]) for e in stims]
    if family == "Matching":
        return f"{mods[0]}→{mods[1]}"
    return "+".join(str(m) for m in sorted(set(mods)))


def _decisive_pair(task: str, s: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The strengths (stimulus 1, stimulus 2) whose comparison decides a DM-family trial:
    the single ring's pair, the attended ring's pair, or (MultSen) the means over rings."""
    if len(s) == 2:
        return s[0], s[1]
    if task.startswith("multi"):
        return (s[0] + s[2]) / 2, (s[1] + s[3]) / 2
    return (s[0], s[1]) if task.endswith("1") else (s[2], s[3])


def _periodic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.abs(a - b) % (2 * np.pi)
    return np.minimum(d, 2 * np.pi - d)


def _trial_row(task: str, family: str, c: yang_tasks.Conditions) -> dict:
    """The statistics of the single trial of a one-trial batch (see :func:`condition_stats`)."""
    stims = [e for e in c.events if e.kind == "stim"]
    (out,) = [e for e in c.events if e.kind == "out"]
    row: dict = {"task": task, "family": family, "T (ms)": c.tdim * yang_tasks.DT}
    for name in EPOCHS:
        if name in c.epochs:
            on, off = c.epochs[name]
            steps = (c.tdim if off is None else off) - (0 if on is None else on)
            row[name] = steps * yang_tasks.DT
        else:
            row[name] = np.nan
    row["rings"] = _rings(family, stims)
    go = bool(out.offs[0] > out.ons[0])
    row["go"] = go
    row["target (rad)"] = float(out.angles()[0]) if go else np.nan
    row.update(
        {
            "coherence": np.nan,
            "mean strength": np.nan,
            "separation (rad)": np.nan,
            "congruent": np.nan,
            "match": np.nan,
        }
    )
    if family in ("Decision making", "Delayed decision making"):
        s1, s2 = _decisive_pair(task, [e.strengths for e in stims])
        row["coherence"] = float(abs(s1[0] - s2[0]) / 2)
        row["mean strength"] = float((s1[0] + s2[0]) / 2)
        row["separation (rad)"] = float(_periodic(stims[0].angles(), stims[1].angles())[0])
        if len(stims) == 4 and not task.startswith("multi"):  # do the two rings agree?
            s = [float(e.strengths[0]) for e in stims]
            row["congruent"] = float((s[0] > s[1]) == (s[2] > s[3]))
    elif family == "Matching":
        a, b = float(stims[0].angles()[0]), float(stims[1].angles()[0])
        row["match"] = float(a == b if task.startswith("dms") else (a < np.pi) == (b < np.pi))
    return row


def condition_stats(tasks, n_trials: int, seed: int) -> pd.DataFrame:
    """Per-trial conditions of ``n_trials`` sampled trials of each task, one row per trial.

    Columns: ``task``, ``family``, ``T (ms)``; the duration in ms of every epoch of
    :data:`EPOCHS` (nan where the task has no such epoch); ``rings`` (see :func:`_rings`); ``go``
    (a response is due); ``target (rad)`` (nan on no-go trials); for the DM families ``coherence``
    = |s1 - s2| / 2 and ``mean strength`` = (s1 + s2) / 2 of the decisive pair, ``separation
    (rad)`` between the two stimuli and, for Ctx tasks, ``congruent`` (the ignored ring favours
    the same stimulus); for matching tasks ``match``. Each trial is its own batch (Yang shares
    timing and rings within a batch), drawn from one generator seeded with ``seed``.
    """
    tasks, n_trials = _check_tasks(tasks), _check_n("n_trials", n_trials)
    rng = np.random.default_rng(_check_n("seed", seed, lo=0))
    rows = [
        _trial_row(t, family_of(t), yang_tasks.sample_conditions(t, 1, rng))
        for t in tasks
        for _ in range(n_trials)
    ]
    return pd.DataFrame(rows)


def _values(s: pd.Series, unit: str = "", max_listed: int = 4) -> str:
    """A compact description of the values a column takes: the set if small, else the range."""
    s = s.dropna()
    if s.empty:
        return ""
    u = np.unique(np.round(s.to_numpy(dtype=float), 6))
    if len(u) <= max_listed:
        return "{" + ", ".join(f"{v:g}" for v in u) + "}" + unit
    return f"{u[0]:g}–{u[-1]:g}{unit}"


def condition_summary(stats: pd.DataFrame) -> pd.DataFrame:
    """One row per task of :func:`condition_stats`: the values each epoch duration, the trial
    length and the decisive coherence took, the fraction of trials per ring pattern, and the
    fractions of go, match and congruent trials."""
    rows = []
    for task, g in stats.groupby("task", sort=False):
        row = {
            "task": yang_tasks.DISPLAY_NAMES[task],
            "trials": len(g),
            "T (ms)": _values(g["T (ms)"]),
        }
        row.update({f"{name} (ms)": _values(g[name]) for name in EPOCHS})
        rings = g["rings"].value_counts(normalize=True).sort_index()
        row["rings"] = ", ".join(f"{k}: {v:.0%}" for k, v in rings.items())
        row["coherence"] = _values(g["coherence"])
        for name in ("go", "match", "congruent"):
            v = g[name].dropna().astype(float)
            row[name] = f"{v.mean():.2f}" if len(v) else ""
        rows.append(row)
    return pd.DataFrame(rows).set_index("task")


def family_table(tasks, seed: int = 0) -> pd.DataFrame:
    """The epoch structures of ``tasks``: one row per family and distinct sequence of epochs
    (read from a sampled trial of each task), with the tasks that share it (display names) and
    the family's response rule (on the family's first row)."""
    tasks = _check_tasks(tasks)
    rng = np.random.default_rng(_check_n("seed", seed, lo=0))
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for family, members in FAMILIES.items():
        for t in members:
            if t in tasks:
                epochs = tuple(yang_tasks.sample_conditions(t, 1, rng).epochs)
                groups.setdefault((family, epochs), []).append(yang_tasks.DISPLAY_NAMES[t])
    rows, seen = [], set()
    for (family, epochs), names in groups.items():
        rows.append(
            {
                "family": family,
                "tasks": ", ".join(names),
                "epochs": " → ".join(epochs),
                "rule": "" if family in seen else RULES[family],
            }
        )  # once per family
        seen.add(family)
    return pd.DataFrame(rows).set_index(["family", "tasks"])


def example_batches(tasks, seed: int = 0, batch_size: int = 2) -> dict[str, yang_tasks.Batch]:
    """One noise-free batch of each task (the trials the chapter draws)."""
    tasks = _check_tasks(tasks)
    rng = np.random.default_rng(_check_n("seed", seed, lo=0))
    return {
        t: yang_tasks.make_batch(t, _check_n("batch_size", batch_size), rng, noise=False)
        for t in tasks
    }


def noise_summary(task: str, seed: int = 0, batch_size: int = 64) -> str:
    """A sentence with the measured mean and s.d. of the input noise ``render(noise=True)`` adds
    (noisy minus noise-free rendering of the same conditions) against
    ``lib.core.tasks.INPUT_NOISE``."""
    rng = np.random.default_rng(_check_n("seed", seed, lo=0))
    c = yang_tasks.sample_conditions(task, _check_n("batch_size", batch_size), rng)
    noise = yang_tasks.render(c, noise=True, rng=rng).x - yang_tasks.render(c).x
    return (
        f"On {batch_size} trials of `{task}` ({noise.size:,} values over all 65 channels): "
        f"mean {noise.mean():+.1e}, s.d. {noise.std():.5f}; Yang's "
        f"σ<sub>x</sub>√(2/α) = {yang_tasks.INPUT_NOISE:.5f}."
    )


# ---------------------------------------------------------------------------------------------
# Yang et al.'s reference trials
# ---------------------------------------------------------------------------------------------
def fixture_dir() -> Path:
    """``$YANG2019_FIXTURES`` if set, else the copy in the repository (``tests/fixtures/yang2019``,
    see its README for where it came from)."""
    return Path(os.environ.get(FIXTURES_ENV, FIXTURES_IN_REPO))


def fixture_pairs(folder: str | Path) -> list[tuple[Path, Path]]:
    """The ``(<task>_seed<k>.json, <task>_seed<k>.npz)`` pairs of a fixture folder, sorted by name.

    Raises ValueError if the folder does not exist or a ``.json`` has no ``.npz`` beside it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(
            f"folder={str(folder)!r} is not a directory; expected Yang et al.'s "
            f"fixture folder (set ${FIXTURES_ENV})"
        )
    jsons = sorted(folder.glob("*_seed*.json"))
    missing = [p.name for p in jsons if not p.with_suffix(".npz").is_file()]
    if missing:
        raise ValueError(f"folder={str(folder)!r}: no .npz beside {', '.join(missing)}")
    return [(p, p.with_suffix(".npz")) for p in jsons]


def _max_abs_diff(ours: np.ndarray, theirs: np.ndarray) -> float:
    """max |ours - theirs|, inf when the shapes differ (a mismatch that no tolerance excuses)."""
    if ours.shape != theirs.shape:
        return float("inf")
    return float(np.abs(ours.astype(np.float64) - theirs.astype(np.float64)).max())


def compare(json_path: str | Path, npz_path: str | Path) -> dict:
    """Our rendering of one fixture's conditions against Yang's tensors.

    Returns ``fixture`` (file stem), ``task``, ``seed``, ``T``, ``B``; ``dx`` (x channels 0-64),
    ``dy``, ``dy_loc``, ``dc_mask``: max absolute differences (inf if the shapes differ);
    ``rule_units``: Yang's channels 65-84 are exactly the one-hot of the task (the context input
    our model replaces); ``epochs``: our sampler names the epochs of this task as he does, in
    the same order;
    ``perf``: :func:`lib.core.metrics.performance` of the fixture's ``y_hat`` against its ``y_loc``
    equals Yang's ``perf`` on every trial; ``yang_perf``: the mean of Yang's ``perf``.
    """
    json_path, npz_path = Path(json_path), Path(npz_path)
    record = json.loads(json_path.read_text())
    with np.load(npz_path) as f:
        ref = {k: f[k] for k in f.files}
    b = yang_tasks.render(yang_tasks.conditions_from_yang(record))
    rule = np.zeros(ref["x"].shape[-1] - yang_tasks.N_INPUT, np.float32)
    if 0 <= record.get("rule_index", -1) < len(rule):
        rule[record["rule_index"]] = 1
    perf = performance(ref["y_hat"], ref["y_loc"])
    return {
        "fixture": json_path.stem,
        "task": record["rule"],
        "seed": record.get("seed"),
        "T": int(record["tdim"]),
        "B": int(record["batch_size"]),
        "dx": _max_abs_diff(b.x, ref["x"][..., : yang_tasks.N_INPUT]),
        "dy": _max_abs_diff(b.y, ref["y"]),
        "dy_loc": _max_abs_diff(b.y_loc, ref["y_loc"]),
        "dc_mask": _max_abs_diff(b.c_mask, ref["c_mask"]),
        "rule_units": bool((ref["x"][..., yang_tasks.N_INPUT :] == rule).all()),
        "epochs": list(yang_tasks.sample_conditions(record["rule"], 1, 0).epochs)
        == list(record["epochs"]),
        "perf": bool(perf.shape == ref["perf"].shape and (perf == ref["perf"]).all()),
        "yang_perf": float(ref["perf"].mean()),
    }


COMPARE_COLUMNS = {
    "T": "T (steps)",
    "B": "trials",
    "dx": "max |Δx| (ch. 0-64)",
    "dy": "max |Δy|",
    "dy_loc": "max |Δy_loc|",
    "dc_mask": "max |Δc_mask|",
    "rule_units": "ch. 65-84 = rule one-hot",
    "epochs": "same epoch names",
    "perf": "performance = Yang's perf",
    "yang_perf": "Yang's perf (mean over trials)",
}
"""Readable column names of :func:`compare_all`."""


def compare_all(folder: str | Path) -> pd.DataFrame:
    """:func:`compare` for every pair of :func:`fixture_pairs`, one row per fixture (indexed by
    task and seed, readable column names :data:`COMPARE_COLUMNS`)."""
    rows = sorted(
        (compare(j, n) for j, n in fixture_pairs(folder)),
        key=lambda r: (yang_tasks.TASKS.index(r["task"]), str(r["seed"])),
    )
    df = pd.DataFrame(rows).drop(columns="fixture").set_index(["task", "seed"])
    return df.rename(columns=COMPARE_COLUMNS)


def compare_summary(table: pd.DataFrame) -> str:
    """One sentence of counts over a :func:`compare_all` table: fixtures, tasks, the largest
    difference on each tensor, and on how many fixtures each check holds."""
    c = COMPARE_COLUMNS
    diffs = ", ".join(
        f"{c[k]} = {table[c[k]].max():.3g}" for k in ("dx", "dy", "dy_loc", "dc_mask")
    )
    checks = ", ".join(
        f"{c[k]}: {int(table[c[k]].sum())}/{len(table)}" for k in ("rule_units", "epochs", "perf")
    )
    n_tasks = table.index.get_level_values("task").nunique()
    return (
        f"{len(table)} fixtures of {n_tasks} tasks. Largest differences over all fixtures: "
        f"{diffs}. Checks that hold: {checks}."
    )


__all__ = [
    "FAMILIES",
    "RULES",
    "EPOCHS",
    "family_of",
    "condition_stats",
    "condition_summary",
    "family_table",
    "example_batches",
    "noise_summary",
    "fixture_dir",
    "fixture_pairs",
    "compare",
    "compare_all",
    "compare_summary",
    "COMPARE_COLUMNS",
    "FIXTURES_ENV",
]
