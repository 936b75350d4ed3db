"""The fair-tuning grid read out (:mod:`lib.experiments.tuning`): per variant and protocol, how
often the tuning seeds learn every task and how fast, and the protocol that
:data:`lib.experiments.tuning.TUNING_RULE` chooses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis.common import CRITERION
from lib.experiments.tuning import SHIPPED_GRIDS, TUNING_INITS, TUNING_RULE, TuningSpec


FAIR_LEARNED = 0.9
"""The fraction of seeds that must learn every task for a variant to count as learning under
its protocol (issue: every context-carrying variant learns every task in >= 90% of its seeds)."""


def grid_table(nets: dict, criterion: float = CRITERION) -> pd.DataFrame:
    """One row per grid network (``nets[(variant, lr, init, seed)] -> TrainResult``): whether it
    ends with every task at criterion, and the trials until every task had reached criterion at
    some evaluation (the budget in trials if one never did)."""
    rows = []
    for (variant, lr, init, seed), res in nets.items():
        final = res.history.perf_array()[-1]
        first = np.asarray(res.history.trials_to_criterion(criterion), dtype=float)
        budget = res.config.max_steps * res.config.batch_size
        rows.append(
            {
                "variant": variant,
                "lr": lr,
                "init": init,
                "seed": seed,
                "learned every task": bool((final >= criterion).all()),
                "trials to all tasks": float(np.nanmax(first))
                if np.isfinite(first).all()
                else float(budget),
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


def choice_text(table: pd.DataFrame, spec: TuningSpec) -> str:
    """What the choice means for the book, every number from :func:`choice_table`: which
    variants keep E1's protocol, which would train better under another, and which learn every
    task in too few tuning seeds even under their best protocol."""
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
    weak = [v for v, r in table.iterrows() if r["learned (chosen)"] < FAIR_LEARNED]
    if weak:
        lines.append(
            f"- Below {FAIR_LEARNED:.0%} of tuning seeds learning every task even at the chosen "
            "protocol: " + ", ".join(f"`{v}`" for v in weak) + "."
        )
    if len(other):
        lines.append(
            "- The chapters' test seeds still train under E1's common protocol: retraining the "
            "variants above under their chosen protocols is the next stage, and until then their "
            "differences from the other pathways may partly reflect the protocol."
        )
    return "\n".join(lines)


def design_text(spec: TuningSpec, profile: str, shipped: int = 0) -> str:
    """The grid of ``profile`` in words: variants, learning rates, initialisations, tuning seeds,
    the rule, and whether its networks are shipped (``shipped``: how many are, while the grid
    is still training in the background)."""
    lines = [
        f"**Grid** ({spec.size} networks at `{profile}`): variants "
        + ", ".join(f"`{v}`" for v in spec.variants)
        + f"; learning rates {', '.join(f'{lr:g}' for lr in spec.lrs)}; modulation "
        f"initialisation {' or '.join(spec.inits)}; tuning seeds "
        f"{', '.join(map(str, spec.seeds))} (the test seeds are 0 to "
        f"{spec.battery.n_seeds - 1}); everything else is E1's protocol at `{profile}`.",
        "",
        f"**Rule.** {TUNING_RULE}",
        "",
    ]
    if profile in SHIPPED_GRIDS:
        lines.append("The grid's networks are shipped; the choice below is computed from them.")
    else:
        state = (
            f"*Still training at `{profile}`*: {shipped} of the grid's {spec.size} networks are "
            "shipped, and the rule chooses only once all are"
            if shipped
            else f"*Not run yet at `{profile}`*: the grid's networks are not shipped"
        )
        lines.append(
            state + ", so no protocol has been chosen by it; every variant still trains under "
            "E1's common protocol, and the chapters' differences between pathways may still "
            "reflect how well each protocol suits each pathway."
        )
    return "\n".join(lines)


__all__ = [
    "FAIR_LEARNED",
    "design_text",
    "grid_table",
    "protocol_table",
    "choose_protocol",
    "choice_table",
    "choice_text",
]
