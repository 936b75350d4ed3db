"""The verdict engine: one home for the statistical rules every claim (C1-C5) is judged by.

A measure is a table ``values`` (pandas DataFrame) per variant: rows are seeds (the unit of
replication; networks of one seed share their initial weights and training trials across
variants, so variants are compared *paired*), columns are units (tasks, task pairs, N, ...);
nan = not measured or not learned in that seed. A comparison of variants a and b

1. keeps the *common units* (:func:`common_units`): those with a finite value in every seed of
   both variants, so both sides are scored on the same composition (a mean over each network's
   own learned set would mix the pathway effect with which tasks were learned);
2. averages each seed over those units, x_s = mean_u values[s, u], and pairs the seeds both
   variants have: d_s = x_s(a) - x_s(b), s = 1..n;
3. reports the mean difference with its 95% and 90% Student-t intervals, the exact two-sided
   sign-flip p (:func:`lib.analysis.stats.sign_flip_p`; never a degenerate t test, never 0: its
   floor is 2 / 2^n), and the exact TOST p for equivalence within the rule's smallest effect size
   of interest (SESOI) Delta: p_tost = max(p(d + Delta > 0), p(d - Delta < 0)), each one-sided
   exact (Schuirmann 1987; Lakens 2017).

:func:`decide` applies Holm's step-down correction within each rule family (to the difference
p's and, separately, to the TOST p's) and gives each comparison one of three verdicts:
*differ* (Holm p < :data:`ALPHA`), *equivalent* (Holm TOST p < :data:`ALPHA`), *inconclusive*
(neither); *not tested* without a common unit or with fewer than two paired seeds.

Every rule (measure, family, SESOI and its reason, whether it was written before the data it
judges) lives in :data:`RULES`; ``tests/goldens/verdict_rules.json`` holds each rule's
fingerprint, and a test fails when a rule changes without its version being bumped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats as _scipy_stats

from lib.analysis.common import ALPHA, EXC_FAMILY, SYN_FAMILY
from lib.analysis.stats import holm, min_p, sign_flip_p

__all__ = [
    "ALPHA",
    "Rule",
    "RULES",
    "register",
    "rule_fingerprint",
    "check_fingerprints",
    "common_units",
    "sign_flip_p",
    "min_p",
    "Comparison",
    "compare",
    "decide",
    "format_p",
    "power_seeds",
    "multiverse",
    "agreement",
    "forest_rows",
    "VERDICTS",
]

VERDICTS = ("differ", "equivalent", "inconclusive", "not tested")
"""The verdicts a comparison can get."""

POWER = 0.8
"""Power asked of a comparison in :func:`power_seeds`."""

MIN_SEEDS = 2
"""Fewer paired seeds than this: the comparison is *not tested*."""


@dataclass(frozen=True)
class Rule:
    """One verdict rule of the registry.

    ``name`` e.g. "C2.mixture_auc.conflict"; ``claim`` "C1".."C5"; ``version`` bumped on every
    change of any other field; ``family`` the Holm family (comparisons corrected together);
    ``measure`` what is compared (text, with its unit); ``unit`` what a column of the values is
    ("task", "pair", "N", ...); ``higher_is_better``; ``sesoi`` the smallest effect size of
    interest in the measure's unit (> 0); ``sesoi_reason`` why that size; ``preregistered``:
    written before the data it judges (False: exploratory, reported but never decides a claim);
    ``seen``: what data had been seen when the rule was written."""

    name: str
    claim: str
    version: int
    family: str
    measure: str
    unit: str
    higher_is_better: bool
    sesoi: float
    sesoi_reason: str
    preregistered: bool
    seen: str

    def __post_init__(self):
        if not (
            isinstance(self.sesoi, (int, float)) and math.isfinite(self.sesoi) and self.sesoi > 0
        ):
            raise ValueError(
                f"Rule {self.name!r}: sesoi: got {self.sesoi!r}; allowed: a finite "
                "number > 0 in the measure's unit"
            )
        if self.claim not in ("C1", "C2", "C3", "C4", "C5"):
            raise ValueError(f"Rule {self.name!r}: claim: got {self.claim!r}; allowed: C1..C5")
        if not isinstance(self.version, int) or self.version < 1:
            raise ValueError(
                f"Rule {self.name!r}: version: got {self.version!r}; allowed: an integer >= 1"
            )

    @property
    def exploratory(self) -> bool:
        return not self.preregistered


RULES: dict[str, Rule] = {}
"""The one registry of every verdict rule, by name (:func:`register` adds one)."""


def register(rule: Rule) -> Rule:
    """Add ``rule`` to :data:`RULES` (returns it). Registering a different rule under a name
    already taken is an error; registering the same rule again is a no-op (module reloads)."""
    old = RULES.get(rule.name)
    if old is not None and old != rule:
        raise ValueError(
            f"rule {rule.name!r} is already registered with other fields; give the "
            "new rule another name or edit the registered one (and bump its version)"
        )
    RULES[rule.name] = rule
    return rule


def rule_fingerprint(rule: Rule) -> str:
    """SHA-256 (first 16 hex digits) of every field of ``rule`` but its version."""
    payload = {k: v for k, v in asdict(rule).items() if k != "version"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def check_fingerprints(golden: dict[str, dict], rules: dict[str, Rule] | None = None) -> list[str]:
    """Problems of ``rules`` (default :data:`RULES`) against ``golden`` (name -> {"version",
    "fingerprint"}): a rule changed without a version bump, a version bumped without the golden
    regenerated, a rule missing from the golden or from the registry. Empty: all consistent."""
    rules = RULES if rules is None else rules
    problems = []
    for name, rule in rules.items():
        g = golden.get(name)
        if g is None:
            problems.append(f"{name}: new rule without a fingerprint in the golden")
        elif rule.version == g["version"] and rule_fingerprint(rule) != g["fingerprint"]:
            problems.append(
                f"{name}: changed without a version bump (still version {rule.version})"
            )
        elif rule.version != g["version"]:
            problems.append(
                f"{name}: version {g['version']} -> {rule.version}: regenerate the golden"
            )
    problems += [
        f"{name}: in the golden but no longer registered" for name in golden if name not in rules
    ]
    return problems


# ----------------------------------------------------------------------------- inputs


def _as_table(values, name: str) -> pd.DataFrame:
    """``values`` as a seed x unit DataFrame of floats (a Series is one unit)."""
    if isinstance(values, pd.Series):
        values = values.to_frame(name=values.name if values.name is not None else "value")
    if not isinstance(values, pd.DataFrame):
        raise TypeError(
            f"{name}: got {type(values).__name__}; allowed: a pandas DataFrame "
            "indexed by seed with one column per unit (or a Series by seed)"
        )
    if not values.index.is_unique:
        raise ValueError(
            f"{name}: seeds (the index) must be unique; got duplicates "
            f"{sorted(values.index[values.index.duplicated()].unique().tolist())}"
        )
    if not values.columns.is_unique:
        raise ValueError(f"{name}: units (the columns) must be unique")
    try:
        return values.astype(float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: every value must be a number (nan = not measured): {err}")


def common_units(values_a, values_b) -> list:
    """Units (columns) with a finite value in every seed (row) of both tables, in ``values_a``'s
    column order: the composition both variants are compared on."""
    a, b = _as_table(values_a, "values_a"), _as_table(values_b, "values_b")
    ok_a = np.isfinite(a.to_numpy()).all(axis=0) if len(a) else np.zeros(a.shape[1], bool)
    ok_b = set(b.columns[np.isfinite(b.to_numpy()).all(axis=0)]) if len(b) else set()
    return [u for u, ok in zip(a.columns, ok_a) if ok and u in ok_b]


# ----------------------------------------------------------------------------- comparison


@dataclass
class Comparison:
    """One paired comparison a - b under a rule (see the module docstring for the method).

    ``diffs``: seed -> d_s; ``mean``: mean d; ``ci95``/``ci90``: (lo, hi) Student-t intervals
    over seeds; ``p``: exact two-sided sign-flip p; ``p_tost``: exact TOST p for |d| < sesoi;
    ``p_floor``: the smallest two-sided p attainable with ``n_seeds`` pairs; ``p_holm``,
    ``p_tost_holm`` and ``verdict`` are set by :func:`decide` (verdict "not tested" at once when
    there is nothing to compare). ``note``: why it is not tested, or a remark."""

    rule: Rule
    a: str
    b: str
    units: list
    n_units: int
    n_seeds: int
    diffs: dict
    mean: float = math.nan
    sd: float = math.nan
    ci95: tuple = (math.nan, math.nan)
    ci90: tuple = (math.nan, math.nan)
    p: float = math.nan
    p_tost: float = math.nan
    p_floor: float = math.nan
    p_holm: float = math.nan
    p_tost_holm: float = math.nan
    verdict: str | None = None
    note: str = ""
    spec: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.a} − {self.b}"

    @property
    def tested(self) -> bool:
        return self.verdict != "not tested"

    def power_seeds(self, m: int | None = None) -> int | None:
        """Seeds needed to detect the rule's SESOI at 80% power from this comparison's spread
        (:func:`power_seeds`), Holm over ``m`` comparisons (default 1); None without a spread."""
        if not math.isfinite(self.sd):
            return None
        return power_seeds(self.sd, self.rule.sesoi, m=m or 1)

    def as_row(self) -> dict:
        """A flat dict for tables."""
        return {
            "claim": self.rule.claim,
            "rule": self.rule.name,
            "version": self.rule.version,
            "family": self.rule.family,
            "comparison": self.label,
            "a": self.a,
            "b": self.b,
            "measure": self.rule.measure,
            "unit": self.rule.unit,
            "n_units": self.n_units,
            "units": ", ".join(map(str, self.units)),
            "n_seeds": self.n_seeds,
            "mean": self.mean,
            "lo95": self.ci95[0],
            "hi95": self.ci95[1],
            "lo90": self.ci90[0],
            "hi90": self.ci90[1],
            "sesoi": self.rule.sesoi,
            "p": self.p,
            "p_tost": self.p_tost,
            "p_floor": self.p_floor,
            "p_holm": self.p_holm,
            "p_tost_holm": self.p_tost_holm,
            "verdict": self.verdict,
            "exploratory": self.rule.exploratory,
            "seeds_needed": self.power_seeds(),
            **self.spec,
        }

    def text(self, digits: int = 3) -> str:
        """A short sentence with the deciding number, e.g. "exc − syn_prepost: +0.120 [+0.051,
        +0.189] over 6 seeds and 3 tasks; Holm p = 0.031 → differ"."""
        head = f"{self.label} ({self.rule.measure})"
        if not self.tested or self.verdict is None:
            return f"{head}: {self.verdict or 'not decided'}" + (
                f" ({self.note})" if self.note else ""
            )
        f = f"{{:+.{digits}f}}"
        interval = f"[{f.format(self.ci95[0])}, {f.format(self.ci95[1])}]"
        if self.verdict == "equivalent":
            deciding = (
                f"90% interval [{f.format(self.ci90[0])}, {f.format(self.ci90[1])}] inside "
                f"±{self.rule.sesoi:g}, TOST Holm "
                + format_p(self.p_tost_holm, self.n_seeds, one_sided=True)
            )
        else:
            deciding = "Holm " + format_p(self.p_holm, self.n_seeds)
        tag = " (exploratory)" if self.rule.exploratory else ""
        return (
            f"{head}: {f.format(self.mean)} {interval} over {self.n_seeds} seeds and "
            f"{self.n_units} {self.rule.unit}{'s' if self.n_units != 1 else ''}; "
            f"{deciding} → {self.verdict}{tag}"
        )


def _t_interval(d: np.ndarray, level: float) -> tuple[float, float]:
    n = len(d)
    if n < 2:
        return (math.nan, math.nan)
    half = _scipy_stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n)
    return (float(d.mean() - half), float(d.mean() + half))


def compare(values_a, values_b, rule: Rule, a: str = "a", b: str = "b") -> Comparison:
    """Paired comparison a - b of two variants' seed x unit tables under ``rule`` (see the module
    docstring): common units, per-seed means over them, differences over the seeds both have,
    mean, 95% and 90% t intervals, exact two-sided p and exact TOST p. Not decided: pass the
    family's comparisons to :func:`decide`. Without a common unit or with fewer than
    :data:`MIN_SEEDS` paired seeds the verdict is "not tested" (with a note why)."""
    if not isinstance(rule, Rule):
        raise TypeError(f"rule: got {type(rule).__name__}; allowed: a verdicts.Rule (see RULES)")
    ta, tb = _as_table(values_a, "values_a"), _as_table(values_b, "values_b")
    units = common_units(ta, tb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        xa = ta[units].mean(axis=1) if units else pd.Series(dtype=float)
        xb = tb[units].mean(axis=1) if units else pd.Series(dtype=float)
    seeds = [s for s in xa.index if s in xb.index]
    diffs = {s: float(xa[s] - xb[s]) for s in seeds}
    c = Comparison(
        rule=rule, a=a, b=b, units=units, n_units=len(units), n_seeds=len(diffs), diffs=diffs
    )
    if not units:
        c.verdict, c.note = "not tested", "no unit measured in every seed of both variants"
        return c
    d = np.array(list(diffs.values()), float)
    c.mean = float(d.mean()) if len(d) else math.nan
    if len(d) < MIN_SEEDS:
        c.verdict, c.note = "not tested", f"{len(d)} paired seed(s); at least {MIN_SEEDS} needed"
        return c
    c.sd = float(d.std(ddof=1))
    c.ci95, c.ci90 = _t_interval(d, 0.95), _t_interval(d, 0.90)
    c.p = sign_flip_p(d)
    c.p_tost = max(sign_flip_p(d + rule.sesoi, "greater"), sign_flip_p(d - rule.sesoi, "less"))
    c.p_floor = min_p(len(d))
    return c


def decide(comparisons: list[Comparison], alpha: float = ALPHA) -> list[Comparison]:
    """Holm within each rule family (over the tested comparisons given), for the difference p's
    and separately for the TOST p's; then each verdict: "differ" (Holm p < alpha), "equivalent"
    (Holm TOST p < alpha), else "inconclusive"; "not tested" stays. Modifies and returns the
    comparisons (same order)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: got {alpha!r}; allowed: 0 < alpha < 1")
    families: dict[str, list[Comparison]] = {}
    for c in comparisons:
        if not isinstance(c, Comparison):
            raise TypeError(f"comparisons: got a {type(c).__name__}; allowed: Comparison")
        if c.verdict != "not tested":
            families.setdefault(c.rule.family, []).append(c)
    for members in families.values():
        for c, ph, pt in zip(
            members, holm([c.p for c in members]), holm([c.p_tost for c in members])
        ):
            c.p_holm, c.p_tost_holm = float(ph), float(pt)
            c.verdict = "differ" if ph < alpha else "equivalent" if pt < alpha else "inconclusive"
    return comparisons


def format_p(p: float, n: int, one_sided: bool = False, alpha: float = ALPHA) -> str:
    """A p value as text, never "p = 0": "p = 0.031"; where the exact floor binds (p equals the
    smallest attainable p with ``n`` pairs), "p = 0.25 (smallest attainable with 3 seeds)"; "p
    not computed" for nan. A Holm-adjusted p at or above its floor is printed as is."""
    if p is None or not math.isfinite(p):
        return "p not computed"
    if not 0 < p <= 1:
        raise ValueError(f"p: got {p!r}; allowed: 0 < p <= 1 (an exact p is never 0)")
    floor = min_p(n, "greater" if one_sided else "two-sided") if n >= 1 else math.nan
    text = f"p = {p:.2g}" if p < 0.01 else f"p = {p:.3f}".rstrip("0").rstrip(".")
    if math.isfinite(floor) and math.isclose(p, floor, rel_tol=1e-9):
        text += f" (smallest attainable with {n} seeds)"
    return text


def power_seeds(
    sd: float, sesoi: float, m: int = 1, alpha: float = ALPHA, power: float = POWER
) -> int:
    """Paired seeds needed to detect a true difference of ``sesoi`` at ``power`` when the
    seed-to-seed SD of the differences is ``sd``, two-sided at ``alpha`` / ``m`` (Holm's
    strictest step over ``m`` comparisons):
    n = ceil(((z_{1 - alpha/(2m)} + z_power) * sd / sesoi)^2), raised to the smallest n whose
    exact sign-flip floor 2 / 2^n is below alpha / m (and to at least :data:`MIN_SEEDS`)."""
    if not (math.isfinite(sd) and sd >= 0):
        raise ValueError(f"sd: got {sd!r}; allowed: a finite number >= 0")
    if not (math.isfinite(sesoi) and sesoi > 0):
        raise ValueError(f"sesoi: got {sesoi!r}; allowed: a finite number > 0")
    if int(m) != m or m < 1:
        raise ValueError(f"m: got {m!r}; allowed: an integer >= 1 (comparisons in the family)")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha, power: got {alpha!r}, {power!r}; allowed: in (0, 1)")
    z = _scipy_stats.norm.ppf(1 - alpha / (2 * m)) + _scipy_stats.norm.ppf(power)
    n = math.ceil((z * sd / sesoi) ** 2 - 1e-9)
    n_floor = next(k for k in itertools.count(1) if 2 / 2**k < alpha / m)
    return int(max(n, n_floor, MIN_SEEDS))


# ----------------------------------------------------------------------------- robustness


def multiverse(
    run: Callable[..., Comparison | list | dict], choices: dict[str, list]
) -> pd.DataFrame:
    """Every combination of ``choices`` (name -> list of options; the first option of each is
    the main specification) passed to ``run(**spec)``, which returns a Comparison, a list of
    them (a family: decided together with :func:`decide` if not yet decided), or a claim's
    verdict as a dict with ``verdict`` (and optionally its ``comparisons``). One row per
    comparison and specification: the choices, ``main`` (True for the main specification),
    ``comparison`` ("claim" for a claim's verdict), ``verdict``, ``mean``, ``lo95``, ``hi95``,
    ``p_holm``."""
    if not choices or any(not isinstance(v, (list, tuple)) or not v for v in choices.values()):
        raise ValueError(f"choices: got {choices!r}; allowed: a dict of non-empty lists")
    names = list(choices)
    rows = []
    for combo in itertools.product(*(choices[n] for n in names)):
        spec = dict(zip(names, combo))
        out = run(**spec)
        main = all(spec[n] == choices[n][0] for n in names)
        head = {**{n: _label(v) for n, v in spec.items()}, "main": main}
        if isinstance(out, dict):
            rows.append(
                {
                    **head,
                    "comparison": "claim",
                    "verdict": out["verdict"],
                    "mean": math.nan,
                    "lo95": math.nan,
                    "hi95": math.nan,
                    "p_holm": math.nan,
                }
            )
            comps = [c for c in out.get("comparisons", []) if isinstance(c, Comparison)]
        else:
            comps = out if isinstance(out, list) else [out]
        if any(c.verdict is None for c in comps):
            decide(comps)
        for c in comps:
            rows.append(
                {
                    **head,
                    "comparison": f"{c.rule.name}: {c.label}",
                    "verdict": c.verdict,
                    "mean": c.mean,
                    "lo95": c.ci95[0],
                    "hi95": c.ci95[1],
                    "p_holm": c.p_holm,
                }
            )
    return pd.DataFrame(rows)


def _label(v) -> str | float | int:
    return (
        v
        if isinstance(v, (str, int, float))
        else ", ".join(map(str, v))
        if isinstance(v, (list, tuple))
        else str(v)
    )


def agreement(df: pd.DataFrame, comparison: str | None = None) -> tuple[int, int]:
    """(specifications agreeing with the main one, specifications): per comparison, the rows
    whose verdict equals that comparison's verdict under the main specification, summed over
    comparisons (a comparison absent from the main specification counts as disagreeing).
    ``comparison``: only that comparison's rows (e.g. "claim": the claim's verdict)."""
    if comparison is not None:
        df = df[df["comparison"] == comparison]
    if df.empty:
        return (0, 0)
    main = df[df["main"]].set_index("comparison")["verdict"].to_dict()
    agree = sum(main.get(c) == v for c, v in zip(df["comparison"], df["verdict"]))
    return (int(agree), len(df))


def comparison_table(comparisons: list[Comparison], digits: int = 3) -> pd.DataFrame:
    """The comparisons for a page: a − b, measure, units compared (how many), seeds, difference
    with its 95% t interval, Holm p as text (never 0) and verdict."""
    rows = []
    for c in comparisons:
        f = f"{{:+.{digits}f}}"
        diff = (
            f"{f.format(c.mean)} [{f.format(c.ci95[0])}, {f.format(c.ci95[1])}]"
            if c.tested
            else "–"
        )
        rows.append(
            {
                "comparison": c.label
                + "".join(f", {k} = {v}" for k, v in c.spec.items() if not k.endswith("_key")),
                "measure": c.rule.measure,
                "units": c.n_units,
                "seeds": c.n_seeds,
                "difference [95% CI]": diff,
                "Holm p": format_p(c.p_holm, c.n_seeds) if c.tested else "–",
                "verdict": c.verdict + (" (exploratory)" if c.rule.exploratory else ""),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "comparison",
            "measure",
            "units",
            "seeds",
            "difference [95% CI]",
            "Holm p",
            "verdict",
        ],
    )


def agreement_text(df: pd.DataFrame, choices: str) -> str:
    """The specification check in one sentence: of the specifications whose claim verdict could
    be computed (not "not tested"), how many give the main specification's verdict; ``choices``
    names what was varied."""
    claim = df[df["comparison"] == "claim"]
    testable = claim[claim["verdict"] != "not tested"]
    main = claim.loc[claim["main"], "verdict"]
    k = int((testable["verdict"] == main.iloc[0]).sum()) if len(main) else 0
    untested = len(claim) - len(testable)
    return (
        f"Specification check ({choices}): {k} of {len(testable)} specifications that could "
        f"be scored give the main verdict"
        + (f"; {untested} could not be scored (not tested)" if untested else "")
        + "."
    )


def forest_rows(comparisons: list[Comparison]) -> pd.DataFrame:
    """One row per comparison for the forest plot: ``label`` (claim, a − b, measure), the
    difference and its 95% and 90% intervals in units of the rule's SESOI and oriented so that
    positive means a is better (``effect``, ``lo``, ``hi``, ``lo90``, ``hi90``: the SESOI band is
    [-1, 1] on every row), the raw ``mean`` and ``sesoi``, ``verdict``, ``exploratory``,
    ``n_seeds``, ``n_units``, ``p_text`` (Holm p as text)."""
    rows = []
    for c in comparisons:
        sign = 1.0 if c.rule.higher_is_better else -1.0
        scale = sign / c.rule.sesoi
        lo, hi = sorted((c.ci95[0] * scale, c.ci95[1] * scale))
        lo90, hi90 = sorted((c.ci90[0] * scale, c.ci90[1] * scale))
        where = ", ".join(f"{k} = {v}" for k, v in c.spec.items() if not k.endswith("_key"))
        rows.append(
            {
                "claim": c.rule.claim,
                "rule": c.rule.name,
                "label": f"{c.rule.claim} {c.label}: {c.rule.measure}"
                + (f" ({where})" if where else ""),
                "comparison": c.label + (f" ({where})" if where else ""),
                "measure": c.rule.measure,
                "effect": c.mean * scale,
                "lo": lo,
                "hi": hi,
                "lo90": lo90,
                "hi90": hi90,
                "mean": c.mean,
                "sesoi": c.rule.sesoi,
                "verdict": c.verdict,
                "exploratory": c.rule.exploratory,
                "n_seeds": c.n_seeds,
                "n_units": c.n_units,
                "p_text": format_p(c.p_holm, c.n_seeds),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "claim",
            "rule",
            "label",
            "comparison",
            "measure",
            "effect",
            "lo",
            "hi",
            "lo90",
            "hi90",
            "mean",
            "sesoi",
            "verdict",
            "exploratory",
            "n_seeds",
            "n_units",
            "p_text",
        ],
    )


def with_rule(rule: Rule, **changes) -> Rule:
    """A copy of ``rule`` with fields changed (for specification checks, e.g. another SESOI);
    not registered."""
    return replace(rule, **changes)


RULE_FIELDS = tuple(f.name for f in fields(Rule))
"""The fields of a rule, in order (the fingerprint covers all but ``version``)."""


# ----------------------------------------------------------------------------- the registry
# Rules of C1-C3 (verdicts-A). Written on 2026-12-03 before any comparison below was computed
# with this engine; what had been seen is in each rule's ``seen``.

_SEEN_E1 = (
    "E1's quick networks had been analysed with the book's previous C1 rule (each "
    "family's best variant against `none`, per-family verdict on the pages); these "
    "per-variant comparisons had not been computed"
)
_SEEN_E2 = (
    "E2's quick probes had been shown per variant on chapter 04 (robustness table, "
    "curves) and issue 18 quoted fresh-noise exc − syn_prepost ≈ +0.3 in all 6 seeds; "
    "the scoring and SESOI were fixed before these comparisons were computed"
)
_SEEN_E3 = (
    "E3's quick grid had been analysed with the previous C3 rule (t tests; pages printed "
    "capacities and a zero p value at N = 64); the SESOIs follow from the grid, not the results"
)

C1_VARIANTS = (*EXC_FAMILY, *SYN_FAMILY)
"""Every context-carrying single-pathway variant C1 judges (each against the context-blind
`none`)."""

PERF_SESOI = 0.05
PERF_SESOI_REASON = (
    "one trial in twenty: half the distance between criterion (0.9) and perfect "
    "performance; a smaller gain over the context-blind network would not show "
    "that the pathway carries which task to do"
)
ROBUSTNESS_SESOI = 0.05
ROBUSTNESS_SESOI_REASON = (
    "5% of the network's clean performance (one trial in twenty lost to "
    "the corruption): half the gap between criterion and perfect, the "
    "same scale as C1's SESOI; smaller differences in robustness would "
    "not matter to a reader"
)

for _variant in C1_VARIANTS:
    register(
        Rule(
            name=f"C1.perf_vs_none.{_variant}",
            claim="C1",
            version=1,
            family=f"C1.{_variant}",
            measure="final performance, tasks needing context",
            unit="task",
            higher_is_better=True,
            sesoi=PERF_SESOI,
            sesoi_reason=PERF_SESOI_REASON,
            preregistered=True,
            seen=_SEEN_E1,
        )
    )

C2_MEASURES = {
    # name: (measure text, unit, higher is better)
    "mixture_auc.conflict": ("mixture AUC, conflict pairs", "ordered pair", True),
    "mixture_auc.other": ("mixture AUC, other pairs", "ordered pair", True),
    "noise_fresh": ("fresh context noise (AUC)", "task", True),
    "noise_frozen": ("frozen context noise (AUC)", "task", True),
    "scale": ("context scaling (AUC)", "task", True),
    "dilution": ("context dilution (AUC)", "task", True),
    "missing": ("missing context", "task", True),
    "delay_removed": ("context removed in the delay", "task", True),
    "go_only": ("context only from the go cue", "task", True),
    "mid_switch": ("mid-trial switch: first cue kept", "ordered pair", True),
}
"""C2's measures (:mod:`lib.analysis.ambiguity`'s per-seed tables): each probe's performance
relative to clean, averaged over the probe's levels other than the clean one (an AUC over the
range where it varies), on the tasks (or ordered pairs) every network of both variants learned."""

for _name, (_measure, _unit, _better) in C2_MEASURES.items():
    register(
        Rule(
            name=f"C2.{_name}",
            claim="C2",
            version=1,
            family="C2",
            measure=_measure,
            unit=_unit,
            higher_is_better=_better,
            sesoi=ROBUSTNESS_SESOI,
            sesoi_reason=ROBUSTNESS_SESOI_REASON,
            preregistered=True,
            seen=_SEEN_E2,
        )
    )

register(
    Rule(
        name="C3.capacity",
        claim="C3",
        version=1,
        family="C3",
        measure="capacity (largest K with every task at criterion)",
        unit="network size",
        higher_is_better=True,
        sesoi=2.0,
        sesoi_reason="one step of the K grid (2 tasks): the measure cannot resolve less",
        preregistered=True,
        seen=_SEEN_E3,
    )
)
register(
    Rule(
        name="C3.at_largest_K",
        claim="C3",
        version=1,
        family="C3",
        measure="tasks at criterion at the largest K",
        unit="network size",
        higher_is_better=True,
        sesoi=1.0,
        sesoi_reason="one task: the measure counts tasks",
        preregistered=True,
        seen=_SEEN_E3,
    )
)


def leave_one_out(c: Comparison) -> tuple[int, int]:
    """(seed subsets whose mean difference has the sign of the full one, subsets): the
    comparison's differences with each seed left out in turn (a seed-subset check of the
    direction; (0, 0) with fewer than three seeds or a zero mean)."""
    d = np.array(list(c.diffs.values()), float)
    if len(d) < 3 or not np.sign(c.mean):
        return (0, 0)
    same = sum(np.sign(np.delete(d, i).mean()) == np.sign(c.mean) for i in range(len(d)))
    return (int(same), len(d))


def family_size(comparisons: list[Comparison], rule: Rule) -> int:
    """Tested comparisons in ``rule``'s Holm family among ``comparisons``."""
    return sum(c.tested and c.rule.family == rule.family for c in comparisons)


def power_rows(comparisons: list[Comparison]) -> pd.DataFrame:
    """Per tested comparison: the observed SD of the seed differences, the seeds it has, and the
    seeds needed to detect its SESOI at 80% power with Holm over its family
    (:func:`power_seeds`); ``adequate``: it has at least that many."""
    rows = []
    for c in comparisons:
        if not c.tested or not math.isfinite(c.sd):
            continue
        need = power_seeds(c.sd, c.rule.sesoi, m=max(1, family_size(comparisons, c.rule)))
        rows.append(
            {
                "claim": c.rule.claim,
                "comparison": c.label,
                "measure": c.rule.measure,
                "sd": c.sd,
                "sesoi": c.rule.sesoi,
                "n_seeds": c.n_seeds,
                "seeds_needed": need,
                "adequate": c.n_seeds >= need,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "claim",
            "comparison",
            "measure",
            "sd",
            "sesoi",
            "n_seeds",
            "seeds_needed",
            "adequate",
        ],
    )


def power_text(comparisons: list[Comparison]) -> str:
    """One sentence: how many tested comparisons are adequately powered and the seeds the others
    need (80% power for the SESOI, Holm over each family, exact floor included)."""
    df = power_rows(comparisons)
    if df.empty:
        return "Power: no comparison was tested."
    ok = int(df["adequate"].sum())
    need = df.loc[~df["adequate"], "seeds_needed"]
    return (
        f"Power (seeds needed to detect the smallest effect of interest at 80% power, Holm "
        f"over the family, from the observed seed-to-seed spread): {ok} of {len(df)} "
        "comparisons have enough seeds"
        + (
            f"; the others need {int(need.min())}"
            + (f" to {int(need.max())}" if need.max() > need.min() else "")
            + f" seeds (they have {int(df['n_seeds'].max())})"
            if len(need)
            else ""
        )
        + "."
    )


def floor_text(comparisons: list[Comparison]) -> str:
    """Where the exact floor makes a verdict impossible: "with 3 seeds the smallest attainable p
    is 0.25; with Holm over 12 comparisons no difference can reach p < 0.05" (empty when every
    family can reach significance)."""
    parts = []
    for fam in dict.fromkeys(c.rule.family for c in comparisons if c.tested):
        members = [c for c in comparisons if c.tested and c.rule.family == fam]
        n = min(c.n_seeds for c in members)
        floor = min_p(n) * len(members)
        if floor >= ALPHA:
            parts.append(
                f"with {n} seeds the smallest attainable p is {min_p(n):.3g}, and with "
                f"Holm over the {len(members)} comparison{'s' if len(members) > 1 else ''}"
                f" of family {fam} no difference can reach p < {ALPHA} "
                f"({power_seeds(0.0, 1.0, m=len(members))} seeds would be the minimum)"
            )
    return ("; ".join(parts)[:1].upper() + "; ".join(parts)[1:] + ".") if parts else ""


def rule_text(rule: Rule) -> str:
    """The rule's identity card: name, version, pre-registered or exploratory and what had been
    seen, its SESOI and why."""
    status = (
        "fixed before the comparisons it judges were computed"
        if rule.preregistered
        else "exploratory: written after looking; it does not decide a verdict"
    )
    return (
        f"rule `{rule.name}` version {rule.version} ({status}; seen then: {rule.seen}); "
        f"smallest effect of interest ±{rule.sesoi:g} ({rule.sesoi_reason})"
    )


register(
    Rule(
        name="C2.control.final_perf",
        claim="C2",
        version=1,
        family="C2.controls",
        measure="final performance",
        unit="task",
        higher_is_better=True,
        sesoi=PERF_SESOI,
        sesoi_reason=PERF_SESOI_REASON,
        preregistered=True,
        seen="the controls' comparisons were fixed before the controls were trained; " + _SEEN_E1,
    )
)
register(
    Rule(
        name="C2.control.mixture_auc",
        claim="C2",
        version=1,
        family="C2.controls",
        measure="mixture AUC, all pairs",
        unit="ordered pair",
        higher_is_better=True,
        sesoi=ROBUSTNESS_SESOI,
        sesoi_reason=ROBUSTNESS_SESOI_REASON,
        preregistered=True,
        seen="the controls' comparisons were fixed before the controls were trained; " + _SEEN_E2,
    )
)
for _arm in ("equalised", "mixtures"):
    register(
        Rule(
            name=f"C2.arm_effect.{_arm}",
            claim="C2",
            version=1,
            family=f"C2.arm.{_arm}",
            measure="mixture AUC, all pairs (arm − standard)",
            unit="ordered pair",
            higher_is_better=True,
            sesoi=ROBUSTNESS_SESOI,
            sesoi_reason=ROBUSTNESS_SESOI_REASON,
            preregistered=True,
            seen="the arms' comparisons were fixed before the arms were trained; " + _SEEN_E2,
        )
    )
