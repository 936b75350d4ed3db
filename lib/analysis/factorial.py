"""Where modulation acts and how: the site x operation factorial of the context pathways.

The paper contrasts *excitability* with *synaptic* modulation, but the pathways differ in two
factors at once: the **site** where context acts (a neuron's input-output curve, or the
synapses between neurons) and the **operation** it performs (an additive shift, or a
multiplicative scaling). Four single-pathway variants fill the 2 x 2 design
(:data:`CELLS`):

=============  =========================  ===============================
               additive                   multiplicative
=============  =========================  ===============================
neuron         ``exc_bias``: beta(c) = Bc  ``exc_gain``: g(c) = softplus(Gc + g0)
synapse        ``syn_lowrank_r1``:         ``syn_prepost``:
               W + sum_k c_k u_k v_k^T/N   diag(a(c)) W diag(b(c))
=============  =========================  ===============================

With seeds as blocks (the four networks of one seed share their initial shared weights and
training trials), each seed s gives the cell means m_s(site, operation) of a measure over the
units (tasks, pairs) that every network of all four cells has, and three contrasts:

- site (neuron - synapse):  [m(n, add) + m(n, mul)] / 2 - [m(s, add) + m(s, mul)] / 2
- operation (additive - multiplicative):  [m(n, add) + m(s, add)] / 2 - [m(n, mul) + m(s, mul)] / 2
- interaction: [m(n, add) - m(n, mul)] - [m(s, add) - m(s, mul)]  (does the operation's effect
  depend on the site?)

Each contrast is a paired comparison of the engine (:func:`lib.analysis.verdicts.compare`: exact
sign-flip p over seeds, TOST against the measure's SESOI), the three of one measure one Holm
family. The paper's excitability-vs-synapse question is the **site** main effect; a difference
between two variants that differ in both factors (e.g. ``exc_bias`` vs ``syn_prepost``) cannot be
attributed to either.

Per-task parameter budgets are not matched across the design (N for the neuron cells, 2N for
the synaptic ones); the pages say so.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lib.analysis.verdicts import Comparison, Rule, compare, decide

SITES = ("neuron", "synapse")
OPERATIONS = ("additive", "multiplicative")

CELLS: dict[tuple[str, str], str] = {
    ("neuron", "additive"): "exc_bias",
    ("neuron", "multiplicative"): "exc_gain",
    ("synapse", "additive"): "syn_lowrank_r1",
    ("synapse", "multiplicative"): "syn_prepost",
}
"""(site, operation) -> the E1 variant in that cell of the design."""

PER_TASK_PARAMETERS = {
    "exc_bias": "N",
    "exc_gain": "N",
    "syn_lowrank_r1": "2N",
    "syn_prepost": "2N",
}
"""Modulation parameters per task of each cell's variant (N: recurrent units)."""

CONTRASTS: dict[str, tuple[str, str, str]] = {
    "site": ("neuron", "synapse", "site main effect (neuron − synapse)"),
    "operation": (
        "additive",
        "multiplicative",
        "operation main effect (additive − multiplicative)",
    ),
    "interaction": ("add − mul at neuron", "add − mul at synapse", "site × operation interaction"),
}
"""Contrast -> (its positive side, its negative side, what it is called on the pages)."""

SIMPLE_EFFECTS: dict[str, tuple[tuple[str, str], tuple[str, str], str]] = {
    "site_at_additive": (
        ("neuron", "additive"),
        ("synapse", "additive"),
        "site at the additive operation (exc_bias − syn_lowrank_r1)",
    ),
    "site_at_multiplicative": (
        ("neuron", "multiplicative"),
        ("synapse", "multiplicative"),
        "site at the multiplicative operation (exc_gain − syn_prepost)",
    ),
    "operation_at_neuron": (
        ("neuron", "additive"),
        ("neuron", "multiplicative"),
        "operation at the neuron (exc_bias − exc_gain)",
    ),
    "operation_at_synapse": (
        ("synapse", "additive"),
        ("synapse", "multiplicative"),
        "operation at the synapse (syn_lowrank_r1 − syn_prepost)",
    ),
}
"""The fallback when a cell is excluded (its variant failed the learning rule, so it says
nothing about a claim): the full factorial needs all four cells, so only the simple effects
between two kept cells are tested -- simple effect -> (first cell, second cell, its name on the
pages). Written before the test seeds under the chosen protocols were trained."""

TITLES: dict[str, str] = {
    **{k: title for k, (_p, _n, title) in CONTRASTS.items()},
    **{k: title for k, (_a, _b, title) in SIMPLE_EFFECTS.items()},
}
"""Every contrast's name on the pages, main effects and simple effects alike."""

SEEN = (
    "the single-variant comparisons of C1-C4 at quick (chapters 03, 04, 06) had been seen; "
    "no factorial contrast had been computed when these rules were written"
)


def cells_table() -> pd.DataFrame:
    """The design as a table: site, operation, variant, modulation parameters per task."""
    return pd.DataFrame(
        [
            {
                "site": site,
                "operation": op,
                "variant": variant,
                "parameters per task": PER_TASK_PARAMETERS[variant],
            }
            for (site, op), variant in CELLS.items()
        ]
    )


def _derived_rules(base: Rule, titles: dict[str, str], seen: str) -> dict[str, Rule]:
    return {
        contrast: Rule(
            name=f"factorial.{base.name}.{contrast}",
            claim=base.claim,
            version=base.version,
            family=f"factorial.{base.name}",
            measure=f"{base.measure}: {title}",
            unit=base.unit,
            higher_is_better=base.higher_is_better,
            sesoi=base.sesoi,
            sesoi_reason=base.sesoi_reason,
            preregistered=base.preregistered,
            seen=seen,
        )
        for contrast, title in titles.items()
    }


def factorial_rules(base: Rule) -> dict[str, Rule]:
    """The three contrast rules of a measure, derived from the measure's own registered rule
    ``base`` (same claim, version, measure, unit, direction and SESOI; one Holm family per
    measure). They are not registered themselves: the registry's golden guards ``base``, and
    ``tests/test_factorial.py`` guards this derivation. Contrast rules were written before any
    contrast was computed; they are pre-registered only where ``base`` is."""
    return _derived_rules(base, {k: title for k, (_p, _n, title) in CONTRASTS.items()}, SEEN)


SIMPLE_SEEN = (
    "written with the fair-tuning protocol, after the tuning grid had been seen (one synaptic "
    "cell learned every task in half its tuning seeds) and before any test seed under the "
    "chosen protocols had finished training"
)


def simple_effect_rules(base: Rule) -> dict[str, Rule]:
    """The rules of :data:`SIMPLE_EFFECTS`, derived from ``base`` as :func:`factorial_rules`
    derives the main effects' (same family: they replace the main effects, never join them)."""
    return _derived_rules(
        base, {k: title for k, (_a, _b, title) in SIMPLE_EFFECTS.items()}, SIMPLE_SEEN
    )


FOLLOW_UP = "follow_up"
"""The name segment of an exploratory follow-up rule (:func:`follow_up_rules`)."""

FOLLOW_UP_SEEN = (
    "written after the factorial on the tuned test seeds had been seen, where the site x "
    "operation interaction differed on most of C2's measures: the simple effects that follow "
    "an interaction, exploratory"
)


def follow_up_rules(base: Rule) -> dict[str, Rule]:
    """The :data:`SIMPLE_EFFECTS` as exploratory follow-ups of an interaction that differs
    (their own Holm family beside the main effects'; they never decide a claim)."""
    rules = _derived_rules(
        base, {k: title for k, (_a, _b, title) in SIMPLE_EFFECTS.items()}, FOLLOW_UP_SEEN
    )
    return {
        k: dataclasses.replace(
            r,
            name=f"factorial.{base.name}.{FOLLOW_UP}.{k}",
            family=f"{r.family}.{FOLLOW_UP}",
            preregistered=False,
        )
        for k, r in rules.items()
    }


def is_follow_up(c: Comparison) -> bool:
    """Whether a comparison is an exploratory follow-up of an interaction
    (:func:`follow_up_rules`)."""
    return f".{FOLLOW_UP}." in c.rule.name


def _check_cells(values: dict) -> dict[tuple[str, str], pd.DataFrame]:
    missing = [v for v in CELLS.values() if v not in values]
    if missing:
        raise ValueError(
            f"values: missing the variant(s) {missing} of the factorial's cells; "
            f"allowed: a dict with a seed x unit table for each of "
            f"{list(CELLS.values())}"
        )
    out = {}
    for cell, variant in CELLS.items():
        table = values[variant]
        if not isinstance(table, pd.DataFrame):
            raise TypeError(
                f"values[{variant!r}]: got {type(table).__name__}; allowed: a pandas "
                "DataFrame indexed by seed with one column per unit"
            )
        out[cell] = table.astype(float)
    return out


def common_cell_units(values: dict) -> list:
    """Units measured (finite) in every seed of all four cells, in the first cell's order."""
    tables = list(_check_cells(values).values())
    ok = [
        set(t.columns[np.isfinite(t.to_numpy()).all(axis=0)]) if len(t) else set() for t in tables
    ]
    return [u for u in tables[0].columns if all(u in s for s in ok)]


def contrast_sides(values: dict, contrast: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two seed x unit tables whose paired difference is ``contrast`` (on the units common
    to all four cells and the seeds all four have): cell means for the main effects, sums for
    the interaction (so its difference is the full difference of differences)."""
    if contrast not in CONTRASTS:
        raise ValueError(f"contrast: got {contrast!r}; allowed: {list(CONTRASTS)}")
    cells = _check_cells(values)
    units = common_cell_units(values)
    seeds = sorted(set.intersection(*(set(t.index) for t in cells.values())))
    m = {cell: t.loc[seeds, units] for cell, t in cells.items()}
    na, nm = m["neuron", "additive"], m["neuron", "multiplicative"]
    sa, sm = m["synapse", "additive"], m["synapse", "multiplicative"]
    if contrast == "site":
        return (na + nm) / 2, (sa + sm) / 2
    if contrast == "operation":
        return (na + sa) / 2, (nm + sm) / 2
    return na + sm, nm + sa  # (na - nm) - (sa - sm)


def factorial_comparisons(values: dict, base: Rule) -> list[Comparison]:
    """The site, operation and interaction contrasts of one measure (``values``: variant ->
    seed x unit table, with the four variants of :data:`CELLS`), decided together as one Holm
    family under the rules :func:`factorial_rules` derives from ``base``."""
    rules = factorial_rules(base)
    comps = []
    for contrast, (pos, neg, _title) in CONTRASTS.items():
        a, b = contrast_sides(values, contrast)
        comps.append(compare(a, b, rules[contrast], a=pos, b=neg))
    return decide(comps)


def kept_variants(excluded=()) -> list[str]:
    """The cells' variants (:data:`CELLS` order) that a learning rule did not exclude."""
    return [v for v in CELLS.values() if v not in excluded]


def design_comparisons(values: dict, base: Rule, excluded=()) -> list[Comparison]:
    """The factorial (:func:`factorial_comparisons`) when no cell's variant is in ``excluded``,
    followed, where its interaction differs, by the four simple effects as exploratory
    follow-ups (:func:`follow_up_rules`: a main effect then averages two simple effects that
    differ); otherwise the :data:`SIMPLE_EFFECTS` between two kept cells (each on the units
    both cells measured), one Holm family. Empty if no contrast is left (or ``values`` lacks a
    kept cell's variant)."""
    kept = {cell for cell, v in CELLS.items() if v not in excluded and v in values}
    if len(kept) == len(CELLS):
        comps = factorial_comparisons(values, base)
        follow = (
            _simple_effects(values, follow_up_rules(base), kept)
            if interaction_differs(comps)
            else []
        )
        return comps + follow
    return _simple_effects(values, simple_effect_rules(base), kept)


def interaction_differs(comparisons: list[Comparison]) -> bool:
    """Whether the site x operation interaction among ``comparisons`` differs."""
    return any(contrast_name(c) == "interaction" and c.verdict == "differ" for c in comparisons)


def _simple_effects(values: dict, rules: dict[str, Rule], kept: set) -> list[Comparison]:
    """The :data:`SIMPLE_EFFECTS` between two kept cells under ``rules``, one Holm family."""
    comps = []
    for effect, (first, second, _title) in SIMPLE_EFFECTS.items():
        if first in kept and second in kept:
            a, b = CELLS[first], CELLS[second]
            comps.append(compare(values[a], values[b], rules[effect], a=a, b=b))
    return decide(comps) if comps else []


def contrast_name(c: Comparison) -> str:
    """A comparison's contrast key (of :data:`TITLES`)."""
    return c.rule.name.rsplit(".", 1)[-1]


def factorial_table(comparisons: list[Comparison]) -> pd.DataFrame:
    """One row per contrast: the effect, its 95% interval, seeds, units, Holm p and verdict."""
    rows = []
    for c in comparisons:
        rows.append(
            {
                "contrast": contrast_name(c),
                "effect": c.label,
                "mean": c.mean,
                "95% interval": f"[{c.ci95[0]:+.3f}, {c.ci95[1]:+.3f}]",
                "SESOI": c.rule.sesoi,
                "seeds": c.n_seeds,
                "units": c.n_units,
                "Holm p": c.p_holm,
                "verdict": c.verdict,
            }
        )
    return pd.DataFrame(rows)


def factorial_text(comparisons: list[Comparison], measure: str) -> str:
    """What the factorial says about one measure, in a sentence per contrast, computed from the
    comparisons; ends by naming which factor (if any) the differences belong to."""
    follow = [c for c in comparisons if is_follow_up(c)]
    by = {contrast_name(c): c for c in comparisons if not is_follow_up(c)}
    lines = [f"- {TITLES[k]}: {c.text()}" for k, c in by.items()]
    if follow:
        lines.append(
            "- The interaction differs, so the simple effects follow (exploratory): "
            + "; ".join(f"{TITLES[contrast_name(c)]}: {c.verdict} ({c.mean:+.3f})" for c in follow)
        )
    if not set(by) <= set(CONTRASTS):
        differ = [TITLES[k] for k, c in by.items() if c.verdict == "differ"]
        return "\n".join(
            lines
            + [
                f"On {measure}, a cell of the design is excluded, so main effects are not tested; "
                + (
                    "the simple effects that differ: " + "; ".join(differ) + "."
                    if differ
                    else "no simple effect differs."
                )
            ]
        )
    differ = [k for k, c in by.items() if c.verdict == "differ"]
    equivalent = [k for k, c in by.items() if c.verdict == "equivalent"]
    sesoi = next(iter(by.values())).rule.sesoi if by else float("nan")
    if not differ and equivalent and len(equivalent) == len(by):
        verdict = (
            f"On {measure}, where modulation acts and how it acts are both *equivalent*: every "
            f"contrast lies within the smallest effect of interest (±{sesoi:g})."
        )
    elif not differ and equivalent:
        verdict = (
            f"On {measure}, no contrast differs; {', '.join(equivalent)} "
            f"{'is' if len(equivalent) == 1 else 'are'} equivalent within ±{sesoi:g}, the "
            "rest inconclusive."
        )
    elif not differ:
        verdict = (
            f"On {measure}, neither where modulation acts nor how it acts makes a "
            "difference that the seeds can show (inconclusive)."
        )
    elif differ == ["site"]:
        verdict = (
            f"On {measure}, the difference is about *where* modulation acts (neuron vs "
            "synapse), the paper's question, not about how."
        )
    elif "site" not in differ:
        verdict = (
            f"On {measure}, the difference is about *how* modulation acts "
            f"({', '.join(differ)}), not about where: it does not separate excitability "
            "from synaptic modulation."
        )
    else:
        verdict = f"On {measure}, several contrasts differ ({', '.join(differ)})."
    return "\n".join(lines + [verdict])


def factorial_summary(by_measure: dict[str, list[Comparison]]) -> pd.DataFrame:
    """One row per measure, one column per contrast: its verdict and mean effect (in the
    measure's unit, first side minus second as in :data:`CONTRASTS`); the exploratory
    follow-ups of an interaction that differs in their own columns ("–" where none)."""
    rows = {}
    for measure, comps in by_measure.items():
        rows[measure] = {
            contrast_name(c) + (" (exploratory)" if is_follow_up(c) else ""): (
                f"{c.verdict} ({c.mean:+.3f})" if c.tested else "not tested"
            )
            for c in comps
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")
    return table.fillna("–")  # a follow-up exists only where the interaction differs


def change_table(builds: dict[str, dict[str, list[Comparison]]]) -> pd.DataFrame:
    """Per (measure, contrast) of any build (``builds``: name -> measure -> comparisons, e.g.
    E1's common protocol, then each pathway's own): its verdict and mean effect in each build,
    and whether the verdict of the second build differs from the first's ("yes", "no", or "not
    comparable" where either is not tested) -- what a new build changes against the previous
    one. A contrast a build lacks (e.g. a cell excluded by a learning rule) is "not tested"
    there."""
    if len(builds) < 2:
        raise ValueError(f"builds: got {len(builds)}; allowed: at least two to compare")

    def cells(by_measure):
        return {
            (m, TITLES[contrast_name(c)]): (
                f"{c.verdict} ({c.mean:+.3f}, {c.n_seeds} seeds)" if c.tested else "not tested",
                c.verdict,
            )
            for m, comps in by_measure.items()
            for c in comps
        }

    tables = {name: cells(b) for name, b in builds.items()}
    keys = list(dict.fromkeys(k for t in tables.values() for k in t))
    missing = ("not tested", "not tested")
    first, second = list(tables)[:2]
    rows = []
    for key in keys:
        row = {"measure": key[0], "contrast": key[1]}
        row |= {name: t.get(key, missing)[0] for name, t in tables.items()}
        va, vb = tables[first].get(key, missing)[1], tables[second].get(key, missing)[1]
        row["verdict changed"] = (
            "not comparable" if "not tested" in (va, vb) else "yes" if va != vb else "no"
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index(["measure", "contrast"])


def nothing_left_text(excluded) -> str:
    """Why no contrast is tested when a learning rule excluded the variants ``excluded``."""
    return (
        "*(not tested: the learning rule excluded "
        + ", ".join(f"`{v}`" for v in excluded)
        + ", leaving no two cells of the site x operation design to compare)*"
    )


def factorial_overview(by_measure: dict[str, list[Comparison]], excluded=()) -> str:
    """How many measures each contrast differs on, is equivalent on, or leaves open: where the
    pathways' differences belong (the site is the paper's question). ``excluded``: the variants
    a learning rule excluded (said when they leave nothing to compare)."""
    if not by_measure and excluded:
        return nothing_left_text(excluded)
    if not by_measure:
        return "*(not computed: a cell of the site x operation design is missing)*"
    parts = []
    present = {contrast_name(c) for comps in by_measure.values() for c in comps}
    for k, title in TITLES.items():
        if k not in present:
            continue
        verdicts = [
            c.verdict
            for comps in by_measure.values()
            for c in comps
            if contrast_name(c) == k and c.tested
        ]
        if all(
            is_follow_up(c) for comps in by_measure.values() for c in comps if contrast_name(c) == k
        ):
            title += " (exploratory follow-up)"
        parts.append(
            f"the {title} differs on {verdicts.count('differ')}, is equivalent on "
            f"{verdicts.count('equivalent')} and is inconclusive on "
            f"{verdicts.count('inconclusive')} of {len(verdicts)} measures"
        )
    text = "Over the measures: " + "; ".join(parts) + "."
    crossed = [m for m, comps in by_measure.items() if interaction_differs(comps)]
    if crossed:
        text += (
            f" On the {len(crossed)} measure(s) where the interaction differs ("
            + "; ".join(crossed)
            + "), the effect of the operation depends on the site, so a main effect there is "
            "the average of two simple effects that differ: neither the site nor the operation "
            "alone accounts for the difference, and the simple effects (exploratory follow-ups) "
            "say where it lies."
        )
    return text


__all__ = [
    "FOLLOW_UP_SEEN",
    "follow_up_rules",
    "is_follow_up",
    "interaction_differs",
    "factorial_summary",
    "factorial_overview",
    "SITES",
    "OPERATIONS",
    "CELLS",
    "PER_TASK_PARAMETERS",
    "CONTRASTS",
    "SIMPLE_EFFECTS",
    "TITLES",
    "design_comparisons",
    "kept_variants",
    "change_table",
    "nothing_left_text",
    "simple_effect_rules",
    "contrast_name",
    "cells_table",
    "factorial_rules",
    "common_cell_units",
    "contrast_sides",
    "factorial_comparisons",
    "factorial_table",
    "factorial_text",
]
