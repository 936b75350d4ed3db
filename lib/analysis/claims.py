"""Transitional re-export of the E1/E2 analyses, which now live where their experiments do:
:mod:`lib.analysis.common` (criterion, alpha, pathway families, matched pairs, per-seed readers),
:mod:`lib.analysis.battery` (E1 and the verdict on C1) and :mod:`lib.analysis.ambiguity` (E2
and the verdict on C2). Import from those; this module goes once no module imports it.
"""

from __future__ import annotations

from lib.analysis.ambiguity import (  # noqa: F401
    C2_RULE,
    COMPARISON_COLUMNS,
    CONTROL_MEASURES,
    SUMMARIES,
    arm_effects,
    arm_label,
    arm_markdown,
    c2_markdown,
    control_comparisons,
    control_markdown,
    paired_auc,
    relative_to_clean,
    robustness_by_variant,
    seed_aucs,
    summary_levels,
    summary_value,
    verdict_c2,
)
from lib.analysis.battery import (  # noqa: F401
    C1_RULE,
    PATHWAY_NAMES,
    ablation_text,
    arm_summary,
    c1_markdown,
    c1_per_task,
    curves,
    hybrid_ablations,
    lesion_drops,
    lesion_results,
    lesion_summary,
    summary_table,
    trials_to_criterion,
    verdict_c1,
)
from lib.analysis.common import (  # noqa: F401
    ALPHA,
    CRITERION,
    EXC_FAMILY,
    FAMILIES,
    MATCHED,
    SYN_FAMILY,
    budget,
    final_perf,
    mean_perf_by_seed,
    seeds_of,
)
