"""The fair-tuning grid read out (:mod:`lib.experiments.tuning`): per variant and protocol, how
often the tuning seeds learn every task and how fast, and the protocol that
:data:`lib.experiments.tuning.TUNING_RULE` chooses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lib.analysis.common import CRITERION
from lib.experiments.battery import EQUALISE_TO, BatterySpec
from lib.experiments.runner import shipped_networks
from lib.experiments.tuning import (
    SHIPPED_GRIDS,
    TEST_BUDGET_REASON,
    TEST_SEEDS,
    TUNING_INITS,
    TUNING_RULE,
    TunedSpec,
    TuningSpec,
    grid_networks,
    still_tuning,
    tuned_networks,
    tuned_spec,
)


FAIR_LEARNED = 0.9
"""The fraction of seeds that must learn every task for a variant to count as learning under
its protocol (issue: every context-carrying variant learns every task in >= 90% of its seeds)."""


def learning_outcome(res, criterion: float = CRITERION) -> tuple[bool, float]:
    """Whether a trained network ends with every task at criterion, and the trials until every
    task had reached criterion at some evaluation (the budget in trials if one never did)."""
    final = res.history.perf_array()[-1]
    first = np.asarray(res.history.trials_to_criterion(criterion), dtype=float)
    budget = res.config.max_steps * res.config.batch_size
    trials = float(np.nanmax(first)) if np.isfinite(first).all() else float(budget)
    return bool((final >= criterion).all()), trials


def grid_table(nets: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """One row per grid network (``nets[(variant, lr, init, seed)] -> TrainResult``):
    :func:`learning_outcome` as "learned every task" and "trials to all tasks"."""
    rows = []
    for (variant, lr, init, seed), res in nets.items():
        learned, trials = learning_outcome(res, criterion)
        rows.append(
            {
                "variant": variant,
                "lr": lr,
                "init": init,
                "seed": seed,
                "learned every task": learned,
                "trials to all tasks": trials,
            }
        )
    return pd.DataFrame(rows)


def protocol_table(grid: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, lr, init): tuning seeds, the fraction that learned every task, and the
    median trials to all tasks (the criteria of the tuning rule)."""
    return (
        grid.groupby(["variant", "lr", "init"], sort=False)
        .agg(
            seeds=("seed", "count"),
            learned=("learned every task", "mean"),
            median_trials=("trials to all tasks", "median"),
        )
        .reset_index()
    )


def choose_protocol(grid: pd.DataFrame) -> pd.DataFrame:
    """The protocol :data:`lib.experiments.tuning.TUNING_RULE` chooses for each variant: the
    highest fraction of tuning seeds that learned every task, then the fewest median trials,
    then the smaller learning rate, then the standard initialisation. One row per variant."""
    table = protocol_table(grid)
    table["init order"] = table["init"].map({init: i for i, init in enumerate(TUNING_INITS)})
    ranked = table.sort_values(
        ["variant", "learned", "median_trials", "lr", "init order"],
        ascending=[True, False, True, True, True],
        kind="mergesort",
    )
    return (
        ranked.groupby("variant", sort=False)
        .head(1)
        .drop(columns="init order")
        .set_index("variant")
    )


def choice_table(chosen: pd.DataFrame, protocols: pd.DataFrame, spec: TuningSpec) -> pd.DataFrame:
    """Per variant: the chosen protocol (:func:`choose_protocol`) beside E1's common one
    (``spec.battery.lr``, standard initialisation), each with the fraction of tuning seeds that
    learned every task and their median trials to all tasks, and whether the two coincide."""
    common = protocols[(protocols["lr"] == spec.battery.lr) & (protocols["init"] == "standard")]
    common = common.set_index("variant")
    rows = []
    for variant, c in chosen.iterrows():
        e1 = common.loc[variant]
        rows.append(
            {
                "variant": variant,
                "chosen lr": c["lr"],
                "chosen init": c["init"],
                "learned (chosen)": c["learned"],
                "median trials (chosen)": c["median_trials"],
                "learned (E1)": e1["learned"],
                "median trials (E1)": e1["median_trials"],
                "E1 protocol chosen": c["lr"] == spec.battery.lr and c["init"] == "standard",
            }
        )
    return pd.DataFrame(rows).set_index("variant")


def choice_text(table: pd.DataFrame, spec: TuningSpec, tuned_shipped: bool = False) -> str:
    """What the choice means for the book, every number from :func:`choice_table`: which
    variants keep E1's protocol, which would train better under another, which choices sit at
    the grid's edge, and which learn every task in too few tuning seeds even under their best
    protocol; ``tuned_shipped``: whether the test seeds under the chosen protocols are
    shipped (else retraining them is the next stage)."""
    same = [v for v, r in table.iterrows() if r["E1 protocol chosen"]]
    other = table[~table["E1 protocol chosen"]]
    lines = [
        f"- E1's common protocol (learning rate {spec.battery.lr:g}, standard initialisation) is "
        f"the choice for {len(same)} of {len(table)} variants"
        + (": " + ", ".join(f"`{v}`" for v in same) if same else "")
        + "."
    ]
    for v, r in other.iterrows():
        chosen = f"{r['learned (chosen)']:.0%}, median {r['median trials (chosen)']:,.0f} trials"
        e1 = f"{r['learned (E1)']:.0%}, median {r['median trials (E1)']:,.0f} trials"
        lines.append(
            f"- `{v}`: the rule chooses learning rate {r['chosen lr']:g} with the "
            f"{r['chosen init']} initialisation (tuning seeds that learned every task: {chosen} "
            f"to all tasks) over E1's protocol ({e1})."
        )
    edge = [v for v, r in table.iterrows() if r["chosen lr"] == max(spec.lrs)]
    if edge and len(spec.lrs) > 1:
        lines.append(
            f"- The chosen learning rate is the grid's largest for {len(edge)} of "
            f"{len(table)} variants ({', '.join(f'`{v}`' for v in edge)}): the grid did not look "
            "beyond it, so a larger rate might train them faster still. The choice is the best "
            "of the grid, for every pathway alike, not an optimum."
        )
    weak = [v for v, r in table.iterrows() if r["learned (chosen)"] < FAIR_LEARNED]
    if weak:
        lines.append(
            f"- Below {FAIR_LEARNED:.0%} of tuning seeds learning every task even at the chosen "
            "protocol: " + ", ".join(f"`{v}`" for v in weak) + "."
        )
    if len(other) and tuned_shipped:
        lines.append(
            "- Each variant's test seeds are also trained under its chosen protocol; chapters "
            "03, 04 and 06 and the conclusions report the verdicts on those networks beside "
            "E1's."
        )
    elif len(other):
        lines.append(
            "- The chapters' test seeds still train under E1's common protocol: retraining the "
            "variants above under their chosen protocols is the next stage, and until then their "
            "differences from the other pathways may partly reflect the protocol."
        )
    return "\n".join(lines)


def test_seed_table(nets: dict, spec: TunedSpec, criterion: float = CRITERION) -> pd.DataFrame:
    """Per tuned variant (``nets[(variant, seed)]``, the test seeds under the chosen protocols):
    its protocol, test seeds, how many learned every task (:func:`learning_outcome`) and the
    fraction, the median trials to all tasks, and whether it passes the learning rule (at least
    :data:`FAIR_LEARNED` of its test seeds learn every task), and its training wall time
    (one torch thread per network)."""
    rows = []
    for variant in spec.variants:
        lr, init = spec.protocol(variant)
        mine = [r for (v, _s), r in nets.items() if v == variant]
        outcomes = [learning_outcome(r, criterion) for r in mine]
        learned = sum(ok for ok, _t in outcomes)
        fraction = learned / len(outcomes) if outcomes else float("nan")
        rows.append(
            {
                "variant": variant,
                "lr": lr,
                "init": init,
                "test seeds": len(outcomes),
                "learned every task": learned,
                "fraction": fraction,
                "median trials to all tasks": float(np.median([t for _ok, t in outcomes]))
                if outcomes
                else float("nan"),
                "passes": bool(outcomes) and fraction >= FAIR_LEARNED,
                "train time (h)": sum(r.history.wall_s for r in mine) / 3600,
            }
        )
    return pd.DataFrame(rows).set_index("variant")


def excluded_variants(table: pd.DataFrame) -> tuple[str, ...]:
    """The variants of :func:`test_seed_table` that fail the learning rule: excluded from every
    verdict on the tuned networks (their curves are shown instead)."""
    return tuple(v for v, r in table.iterrows() if not r["passes"])


def tuned_exclusions(nets: dict, spec: TunedSpec) -> tuple[str, ...]:
    """:func:`excluded_variants` of the test networks ``nets`` (:func:`tuned_networks`)."""
    return excluded_variants(test_seed_table(nets, spec))


LEARNING_RULE = (
    f"Fixed before the test seeds were trained: a variant whose test seeds learn every task (all "
    f"at criterion at the end of training, on the evaluation trials of Yang et al.'s task "
    f"generator) in fewer than {FAIR_LEARNED:.0%} of its seeds under its chosen protocol is "
    "excluded from every verdict on these networks, and its learning curves are shown. Where "
    "that removes a cell of the site x operation design, the main effects are not tested and "
    "only the simple effects between two kept cells are (one Holm family per measure)."
)


def test_seed_text(table: pd.DataFrame, spec: TunedSpec) -> str:
    """The test seeds in words, every number from :func:`test_seed_table`: how many networks,
    which seeds, who passes the learning rule and who is excluded."""
    total = int(table["test seeds"].sum())
    lines = [
        f"{total} test networks ({spec.n_seeds} seeds per variant, seeds 0 to "
        f"{spec.n_seeds - 1}; the tuning seeds {', '.join(map(str, spec.tuning.seeds))} are "
        "disjoint from them and decide nothing here), each variant under its own chosen protocol.",
        "",
    ]
    for v, r in table.iterrows():
        lines.append(
            f"- `{v}` (learning rate {r['lr']:g}, {r['init']} initialisation): "
            f"{r['learned every task']} of {r['test seeds']} seeds learn every task "
            f"({r['fraction']:.0%}; median {r['median trials to all tasks']:,.0f} trials to "
            f"all tasks) -- {'passes' if r['passes'] else '**excluded** by'} the learning rule."
        )
    excluded = excluded_variants(table)
    lines += [
        "",
        f"Each trained to criterion or {spec.budget:,} steps, every variant alike; training them "
        f"took {table['train time (h)'].sum():.1f} single-thread CPU-hours.",
        "",
        (
            "Every tuned variant passes, so every verdict below uses all of them."
            if not excluded
            else "Excluded from the verdicts on these networks: "
            + ", ".join(f"`{v}`" for v in excluded)
            + "."
        ),
    ]
    return "\n".join(lines)


def budget_table(nets: dict, spec: TunedSpec, criterion: float = CRITERION) -> pd.DataFrame:
    """Per tuned variant, how many test seeds learn every task at E1's budget (the grid's) and at
    the test seeds' own (:attr:`TunedSpec.budget`), and how many of the latter are runs carried
    over from the former (stopped at criterion within it, so untrained again). ``nets``: the
    test networks (:func:`tuned_networks`). Only the variants whose every seed was run at the
    smaller budget (those tuned before the budget was raised; the others trained at the larger
    one from the start); empty where there are none or the two budgets are the same."""
    smaller = spec.smaller_budget()
    small_nets = shipped_networks(smaller)
    rows = []
    for variant in spec.variants:
        mine = [k for k in smaller if k[0] == variant]
        if not all(k in small_nets for k in mine):
            continue
        rows.append(
            {
                "variant": variant,
                f"learned at {spec.tuning.battery.max_steps:,} steps": sum(
                    learning_outcome(small_nets[k], criterion)[0] for k in mine
                ),
                f"learned at {spec.budget:,} steps": sum(
                    learning_outcome(nets[k], criterion)[0] for k in mine if k in nets
                ),
                "trained again": sum(
                    k in nets and nets[k].history.steps != small_nets[k].history.steps for k in mine
                ),
            }
        )
    return pd.DataFrame(rows).set_index("variant") if rows else pd.DataFrame()


def budget_text(table: pd.DataFrame, spec: TunedSpec) -> str:
    """Why the test seeds' budget is what it is, and what it changed (:func:`budget_table`)."""
    if table.empty:
        return ""
    small, large = (f"learned at {n:,} steps" for n in (spec.tuning.battery.max_steps, spec.budget))
    changed = [
        f"`{v}` {r[small]} -> {r[large]} of {spec.n_seeds}"
        for v, r in table.iterrows()
        if r[small] != r[large]
    ]
    total = spec.n_seeds * len(table)
    return (
        f"**Budget.** At E1's budget of {spec.tuning.battery.max_steps:,} steps, "
        f"{total - int(table[small].sum())} of the {total} test seeds had not learned every task. "
        f"{TEST_BUDGET_REASON} At {spec.budget:,} steps, trained again: "
        f"{int(table['trained again'].sum())} of {total}; seeds that learn every task changed for "
        + ("; ".join(changed) if changed else "no variant")
        + "."
        + (
            " Tuned after the budget was raised, so trained at "
            f"{spec.budget:,} steps from the start: " + ", ".join(f"`{v}`" for v in later) + "."
            if (later := [v for v in spec.variants if v not in table.index])
            else ""
        )
    )


PROTOCOLS = (
    "E1's common protocol",
    "own protocols",
    "own protocols, no exclusion (exploratory)",
)
"""The builds a chapter sets side by side (:func:`protocol_builds`): E1's networks, the tuned
test seeds under the learning rule, and -- only where the rule excluded a variant -- the tuned
seeds with every cell kept, an exploratory specification that decides nothing."""


def protocol_builds(common: dict, own: dict, unruled: dict, excluded) -> dict[str, dict]:
    """``{PROTOCOLS[i]: measure -> comparisons}`` for
    :func:`lib.analysis.factorial.change_table`: E1's (``common``), the tuned seeds' under the
    learning rule (``own``), and with every cell kept (``unruled``) where ``excluded`` is not
    empty."""
    builds = {PROTOCOLS[0]: common, PROTOCOLS[1]: own}
    if excluded:
        builds[PROTOCOLS[2]] = unruled
    return builds


def tuned_stage(profile: str, battery: BatterySpec) -> tuple[TunedSpec | None, str]:
    """The tuned test seeds a chapter analyses at ``profile`` (its run's E1 spec ``battery``),
    or None and why not: no grid has chosen there, the chapter's parameters depart from the
    profile's E1 settings (the shipped networks are the profile's), or the seeds are still
    training (how many are shipped). The text says which networks are analysed."""
    every = tuned_spec(profile)
    if every is None:
        return None, f"*(no fair-tuning grid has chosen protocols at `{profile}`)*"
    if battery != every.tuning.battery:
        return None, (
            f"*(this run departs from `{profile}`'s E1 settings; the tuned test seeds are "
            f"trained with the profile's, so they are not analysed here)*"
        )
    spec = tuned_spec(profile, shipped=True)
    if spec is None:
        shipped = len(tuned_networks(every))
        return None, (
            f"*Still training at `{profile}`*: {shipped} of the {len(every.configs())} test "
            "networks under the chosen protocols are shipped; this analysis appears once a "
            "variant's are all."
        )
    pending = still_tuning(profile)
    return spec, (
        f"The test seeds under each variant's chosen protocol at `{profile}` "
        f"({len(spec.configs())} networks; protocols and the rule that chose them in "
        "{doc}`appendix_training`)."
        + (
            " Still in tuning or training, so not analysed here yet: "
            + ", ".join(f"`{v}`" for v in pending)
            + "."
            if pending
            else ""
        )
    )


def design_text(spec: TuningSpec, profile: str, shipped: int | None = None) -> str:
    """The grid of ``profile`` in words: variants, learning rates, initialisations, tuning seeds,
    the rule, and which variants' networks are shipped (:data:`SHIPPED_GRIDS`; ``shipped``: how
    many distinct networks of the others are, while they train in the background; None: count
    them)."""
    lines = [
        f"**Grid** ({spec.size} networks at `{profile}`): variants "
        + ", ".join(f"`{v}`" for v in spec.variants)
        + f"; learning rates {', '.join(f'{lr:g}' for lr in spec.lrs)}; modulation "
        f"initialisation {' or '.join(spec.inits)} (`{EQUALISE_TO}`'s equalised scale is its "
        f"standard one); tuning seeds {', '.join(map(str, spec.seeds))} (the test seeds are 0 "
        f"to {max(spec.battery.n_seeds, TEST_SEEDS.get(profile, 0)) - 1}: E1's and the tuned "
        f"ones); everything else is E1's protocol at `{profile}`.",
        "",
        f"**Rule.** {TUNING_RULE}",
        "",
    ]
    done = [v for v in spec.variants if v in SHIPPED_GRIDS.get(profile, ())]
    rest = [v for v in spec.variants if v not in done]
    if done:
        lines.append(
            (
                "The grid's networks are shipped"
                if not rest
                else "The grid's networks of " + ", ".join(f"`{v}`" for v in done) + " are shipped"
            )
            + "; the choice below is computed from them."
        )
    if rest:
        if done:
            lines.append("")  # a paragraph of its own
        pending = dataclasses.replace(spec, variants=tuple(rest))
        if shipped is None:
            shipped = len({r.config for r in grid_networks(pending).values()})
        rest_size = pending.size
        state = (
            f"*Still training at `{profile}`*: {shipped} of the {rest_size} grid networks of "
            if shipped
            else f"*Not run yet at `{profile}`*: the grid networks of "
        ) + ", ".join(f"`{v}`" for v in rest)
        lines.append(
            state
            + (
                " are shipped, and the rule chooses only once all are"
                if shipped
                else " are not shipped"
            )
            + ", so no protocol has been chosen for them; they still train under E1's common "
            "protocol, and the chapters' differences involving them may still reflect how well "
            "that protocol suits each pathway."
        )
    return "\n".join(lines)


__all__ = [
    "FAIR_LEARNED",
    "LEARNING_RULE",
    "learning_outcome",
    "test_seed_table",
    "excluded_variants",
    "tuned_exclusions",
    "test_seed_text",
    "budget_table",
    "budget_text",
    "tuned_stage",
    "PROTOCOLS",
    "protocol_builds",
    "design_text",
    "grid_table",
    "protocol_table",
    "choose_protocol",
    "choice_table",
    "choice_text",
]
