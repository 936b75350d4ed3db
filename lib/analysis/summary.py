"""The book's results at a glance: one row per claim of the paper (C1-C5) with its verdict, one
deciding number and the chapter that tests it, and every deciding comparison for the forest plot,
computed from the same artifacts and by the same verdict functions as the chapters (nothing here
is typed by hand). Every verdict comes from the verdict engine (:mod:`lib.analysis.verdicts`).

C1 comes from :mod:`lib.analysis.battery` (chapter E1), C2 from :mod:`lib.analysis.ambiguity`
(E2), C3 from :mod:`lib.analysis.packing` (E3), C4 from :mod:`lib.analysis.dynamics` (E4), C5 from
:mod:`lib.analysis.synergy` (E5, with :mod:`lib.analysis.learning`).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from html import escape
from types import SimpleNamespace

import numpy as np
import pandas as pd

from lib.analysis import ambiguity as ambiguity_analysis
from lib.analysis import battery as battery_analysis
from lib.analysis import dynamics as dynamics_analysis
from lib.analysis import factorial
from lib.analysis import packing as packing_analysis
from lib.analysis import synergy
from lib.analysis import tuning as tuning_analysis
from lib.analysis import verdicts
from lib.analysis.common import seeds_of
from lib.experiments import ambiguity, battery, chapter_params, full_battery, learning, packing
from lib.experiments import tuning
from lib.experiments import dynamics as dynamics_experiment
from lib.experiments import timescales

CLAIMS = {
    "C1": "Task identity can reach the network through modulation of neuronal excitability and "
    "through modulation of synaptic strength.",
    "C2": "The two pathways differ in robustness to ambiguous context.",
    "C3": "They differ in how efficiently they pack many tasks into a network of finite size.",
    "C4": "They induce distinct neuronal dynamics.",
    "C5": "They are complementary and synergistic, possibly on different time-scales.",
}
"""The claims, from the paper's abstract (the intro's table)."""

CHAPTERS = {
    "C1": ("03_battery", "E1 · the battery"),
    "C2": ("04_ambiguity", "E2 · ambiguity"),
    "C3": ("05_packing", "E3 · packing"),
    "C4": ("06_dynamics", "E4 · dynamics"),
    "C5": ("07_timescales", "E5 · time-scales"),
}
"""Claim -> (the book page that tests it, without suffix, "" if none yet; its short title)."""

VERDICTS = ("supported", "partly supported", "not supported", "inconclusive", "not tested")
"""Every verdict a claim can carry (*inconclusive*: neither a difference nor an equivalence is
shown; it is never written as *not supported*)."""


def _quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with its printed plans kept off the summary pages (artifacts are
    only loaded here; with ``$BOOK_NO_TRAIN=1`` a missing one is still an error)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def _largest(comps: list[verdicts.Comparison]) -> verdicts.Comparison | None:
    """The tested comparison with the largest effect in units of its SESOI."""
    tested = [c for c in comps if c.tested and np.isfinite(c.mean)]
    return max(tested, key=lambda c: abs(c.mean) / c.rule.sesoi) if tested else None


def _number(c: verdicts.Comparison, digits: int = 3) -> str:
    return f"{c.label} {c.mean:+.{digits}f} [{c.ci95[0]:+.{digits}f}, {c.ci95[1]:+.{digits}f}]"


def _blocked(comps: list[verdicts.Comparison]) -> str:
    """'With 6 seeds (smallest p 0.0312) and Holm over 30 comparisons no difference can reach
    p < 0.05 (11 seeds needed).' or '' when significance is attainable."""
    tested = [c for c in comps if c.tested]
    if not tested:
        return ""
    n, m = min(c.n_seeds for c in tested), max(verdicts.family_size(tested, c.rule) for c in tested)
    if verdicts.min_p(n) * m < verdicts.ALPHA:
        return ""
    return (
        f"With {n} seeds (smallest p {verdicts.min_p(n):.3g}) and Holm over {m} comparisons no "
        f"difference can reach p < {verdicts.ALPHA} "
        f"({verdicts.power_seeds(0.0, 1.0, m=m)} seeds needed)."
    )


def c1_text(v: dict) -> str:
    """C1's cell: the verdict's deciding number (<= about 60 words)."""
    comps = [c for c in v["comparisons"] if c.tested]
    if v["verdict"] == "not tested" or not comps:
        return f"Not tested: {v.get('why') or 'nothing could be scored'}."
    beat = [c for c in comps if c.verdict == "differ" and c.mean > 0]
    weakest = min(comps, key=lambda c: c.mean)
    return (
        f"{len(beat)} of {len(comps)} context-carrying variants beat the context-blind "
        f"`none` on the {len(v['tasks'])} tasks that need context; smallest gain "
        f"{_number(weakest)}, {verdicts.format_p(weakest.p_holm, weakest.n_seeds)}."
    )


def c2_text(v: dict) -> str:
    """C2's cell (<= about 60 words)."""
    comps = [c for c in v["comparisons"] if c.tested]
    if not comps:
        return "Not tested: no matched pair could be scored."
    counts = pd.Series([c.verdict for c in comps]).value_counts()
    big = _largest(comps)
    return (
        f"{len(comps)} comparisons (matched pairs × probes): "
        + ", ".join(f"{n} {w}" for w, n in counts.items())
        + f". Largest: {big.rule.measure}, {_number(big)}. "
        + _blocked(comps)
    ).strip()


def c3_text(v: dict) -> str:
    """C3's cell (<= about 60 words)."""
    comps = [c for c in v["comps"] if c.tested]
    if not comps:
        return "Not tested: no network size had both matched pathways learn the smallest set."
    big = _largest(comps)
    ctrl = v.get("control")
    flipped = packing_analysis.control_changes(ctrl)[0] if ctrl is not None else []
    text = (
        f"{len(comps)} comparisons at N = {', '.join(map(str, v['tested_N']))}; largest: "
        f"N = {big.spec['N']}, {big.rule.measure.split(' (')[0]}, {_number(big, 1)} tasks. "
        + _blocked(comps)
    ).strip()
    if flipped:
        text += (
            f" Trainability control at N = {ctrl.N}: "
            + ", ".join(f"{a} − {b}" for a, b in flipped)
            + " differs under E1's protocol, not under each pathway's own."
        )
    return text


@dataclass(frozen=True)
class Runs:
    """What the summary tables read, loaded once: the chapters' parameters of a profile, E1's
    spec, networks and E2's probes of its variants."""

    params: SimpleNamespace
    spec: battery.BatterySpec
    nets: dict
    probes: dict


def load_runs(profile: str | None = None) -> Runs:
    """E1's networks and E2's probes of ``profile`` at the chapters' default parameters (loaded,
    or made like the chapters make them)."""
    P = chapter_params("dynamics", profile)  # E1 + E2 + E4 parameters, as the chapters use them
    spec = battery.BatterySpec.from_params(P)
    nets = _quiet(battery.run_battery, spec, workers=P.workers, progress=False)
    probes = _quiet(
        ambiguity.run_ambiguity,
        battery.variant_networks(nets),
        probe=ambiguity.ProbeSpec.from_params(P),
        workers=P.workers,
        progress=False,
    )
    return Runs(P, spec, nets, probes)


def claims_table(profile: str | None = None, runs: Runs | None = None) -> pd.DataFrame:
    """One row per claim (index C1-C5): the claim, its verdict (one of :data:`VERDICTS`), the key
    numbers (a short cell: the deciding number) and the chapter (``chapter``: the page name;
    ``title``). ``attrs``: ``spec``, ``profile``, ``comparisons`` (claim -> its deciding engine
    Comparisons), ``details`` (claim -> its verdict function's output), ``seeds`` (claim ->
    seeds its comparisons used), ``dyn`` (E4's analyses, for the specification check),
    ``pack`` (E3's table), ``learn`` (E5's learning table) and ``joint`` (E3's table with the
    hybrid's packing runs; with ``learn``, C5's specification check)."""
    runs = runs or load_runs(profile)
    P, spec, nets, probes = runs.params, runs.spec, runs.nets, runs.probes
    pspec = packing.packing_spec(P.profile)
    pack = _quiet(packing.run_packing, pspec, workers=P.workers, progress=False)
    dyn = _quiet(
        dynamics_experiment.run_dynamics,
        battery.variant_networks(nets),
        dynamics_experiment.DynamicsSpec.from_params(P),
        workers=P.workers,
        progress=False,
    )
    T = chapter_params("timescales", P.profile)
    probed = {k: v for k, v in nets.items() if k[0] in timescales.NETWORK_LABELS}
    main = timescales.TimescalesSpec.from_params(T)
    seq = _quiet(timescales.run_tau_fast, probed, main, (), workers=P.workers, progress=False)
    learn = _quiet(
        learning.run_learning,
        learning.LearningSpec.from_params(T),
        workers=P.workers,
        progress=False,
    )
    joint = pd.concat(
        [
            pack,
            _quiet(
                packing.run_packing,
                packing.hybrid_packing_spec(P.profile),
                workers=P.workers,
                progress=False,
            ),
        ]
    )
    v1, v2 = battery_analysis.verdict_c1(nets), ambiguity_analysis.verdict_c2(probes)
    v3 = packing_analysis.verdict_c3(pack)
    v3["control"] = packing_analysis.shipped_protocol_control(pack, pspec, P.profile)[0]
    v4 = dynamics_analysis.c4_verdict(dynamics_analysis.pair_table(dyn, list(spec.variants)))
    v5 = synergy.c5_verdict(learn, joint, probes, seq[main.tau_fast])
    details = {"C1": v1, "C2": v2, "C3": v3, "C4": v4, "C5": v5}
    comps = {
        "C1": v1["comparisons"],
        "C2": v2["comparisons"],
        "C3": v3["comps"],
        "C4": v4["comparisons"],
        "C5": [*v5["learning"], *v5["synergy"]],
    }
    texts = {
        "C1": c1_text(v1),
        "C2": c2_text(v2),
        "C3": c3_text(v3),
        "C4": dynamics_analysis.c4_summary_text(v4),
        "C5": synergy.c5_summary_text(v5),
    }
    out = []
    for c, text in CLAIMS.items():
        out.append(
            {
                "claim": c,
                "statement": text,
                "verdict": details[c]["verdict"],
                "key numbers": texts[c],
                "chapter": CHAPTERS[c][0],
                "title": CHAPTERS[c][1],
            }
        )
    df = pd.DataFrame(out).set_index("claim")
    df.attrs.update(
        spec=spec,
        profile=P.profile,
        comparisons=comps,
        details=details,
        seeds={c: max((x.n_seeds for x in cs if x.tested), default=0) for c, cs in comps.items()},
        dyn=dyn,
        pack=pack,
        learn=learn,
        joint=joint,
    )
    return df


def deciding(df: pd.DataFrame) -> list[verdicts.Comparison]:
    """Every comparison of :func:`claims_table` whose rule can decide a verdict (pre-registered),
    in claim order."""
    return [c for cs in df.attrs["comparisons"].values() for c in cs if not c.rule.exploratory]


_TD = "text-align: left; vertical-align: top; padding: 0.3em 0.6em"
"""Style of every cell of the summary table."""


EXTRA_COLUMNS = ("relation to the paper", "departures")
"""Columns of :func:`conclusions_table` that :func:`claims_html` shows when present."""


def _code_spans(text: str) -> str:
    """HTML-escaped text with `name` -> <code>name</code>."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def claims_html(df: pd.DataFrame) -> str:
    """The table of :func:`claims_table` (or :func:`conclusions_table`) as HTML, each chapter a
    link to its page (pages of the book sit in one folder, so ``<name>.html`` is a relative
    link that works offline)."""
    extra = [c for c in EXTRA_COLUMNS if c in df.columns]
    head = "".join(
        f'<th style="{_TD}">{h}</th>'
        for h in ("claim", "verdict", "key numbers", *extra, "chapter")
    )
    body = []
    for c, r in df.iterrows():
        chapter = (
            f'<a href="{r["chapter"]}.html">{escape(r["title"])}</a>'
            if r["chapter"]
            else escape(r["title"])
        )
        cells = (
            f"<b>{c}</b><br>{escape(r['statement'])}",
            f"<b>{escape(r['verdict'])}</b>",
            _code_spans(r["key numbers"]),
            *(_code_spans(r[x]) for x in extra),
            chapter,
        )
        body.append("<tr>" + "".join(f'<td style="{_TD}">{x}</td>' for x in cells) + "</tr>")
    return (
        f'<table class="claims-summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def profile_label(df: pd.DataFrame) -> str:
    """A short column name for :func:`claims_table`'s verdicts: the profile, its tasks and N."""
    spec = df.attrs["spec"]
    return f"{df.attrs['profile']} ({len(spec.tasks)} tasks, N = {spec.n_rec})"


def profile_line(df: pd.DataFrame) -> str:
    """What the numbers of :func:`claims_table` rest on, in one sentence: the profile (the preset
    of sizes), E1's setting and the seeds each claim's comparisons used."""
    spec = df.attrs["spec"]
    seeds = ", ".join(f"{c} {n}" for c, n in df.attrs["seeds"].items())
    return (
        f"Profile `{df.attrs['profile']}` (the preset of sizes the book was built at): "
        f"{len(spec.tasks)} tasks ({', '.join(spec.tasks)}), N = {spec.n_rec} units, a "
        f"budget of {spec.max_steps:,} training steps of {spec.batch_size} trials for E1's "
        f"networks; paired seeds per claim: {seeds}."
    )


RELATION = {
    "supported": "reproduces the paper's claim",
    "partly supported": "reproduces part of the paper's claim",
    "not supported": "contradicts the paper's claim at this scale (shown equivalent)",
    "inconclusive": "cannot say at this seed count: neither a difference nor an "
    "equivalence is shown",
    "not tested": "cannot say: the runs could not score the claim",
}
"""How a verdict relates to the paper (which asserts every claim)."""


DEPARTURES = {
    "C1": "Context enters as per-task gain/bias or recurrent-weight modulation of one leaky "
    "softplus RNN (the paper's exact parametrisation is not public); judged per task "
    "where the context-blind network fails.",
    "C2": "Ambiguity is operationalised as mixtures, noise, dilution, scaling and mistimed "
    "context of networks trained on clean one-hot context (E1's protocol); the abstract "
    "does not say how the paper made context ambiguous. Two further training arms "
    "(equalised initial modulation, mixtures seen in training) check that choice.",
    "C3": "Packing is asked three ways (joint training, frozen backbone, sequential) at "
    "matched per-task budgets under E1's common protocol, with a trainability control under "
    "each pathway's own at E1's network size; the abstract gives no protocol.",
    "C4": "Dynamics are compared by pre-registered state-space and fixed-point measures at "
    "matched budgets; the abstract names no measure.",
    "C5": "Time-scales are tested by giving each pathway its own time constant at test time "
    "(and, exploratory, by training networks under those time constants), and learning "
    "speeds by which parameters teach a hybrid a new task (speeds measured, not imposed by "
    "learning rates); synergy is the hybrid against each of its parts, "
    "measure by measure. The abstract says only 'complementary and synergistic, possibly "
    "on different time-scales'.",
}
"""Where the reconstruction's setting necessarily departs from (or fills in) the paper, per
claim: design statements, not results (only the abstract is public)."""


def conclusions_table(df: pd.DataFrame, own: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`claims_table` with what each verdict means for the paper (:data:`RELATION`) and
    the reconstruction's departures (:data:`DEPARTURES`); where ``own`` (:func:`tuned_claims`)
    gives a claim another verdict under each pathway's own protocol, its key numbers say so."""
    out = df.copy()
    out["relation to the paper"] = [RELATION[v] for v in df["verdict"]]
    out["departures"] = [DEPARTURES[c] for c in df.index]
    if own is not None:
        for c, r in own[~own["same verdict"]].iterrows():
            out.loc[c, "key numbers"] += (
                f" Under each pathway's own protocol ({r['seeds (own)']} seeds) the verdict is "
                f"{r[OWN]} (section on protocols below)."
            )
    return out


def power_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per claim, over its deciding comparisons (:func:`deciding`): how many are adequately
    powered (enough seeds to detect the rule's smallest effect of interest at 80% power, Holm
    over the family, from the observed seed-to-seed spread) and the seeds the others need."""
    rows = verdicts.power_rows(deciding(df))
    out = []
    for c in df.index:
        r = rows[rows["claim"] == c]
        need = r.loc[~r["adequate"], "seeds_needed"]
        out.append(
            {
                "claim": c,
                "comparisons tested": len(r),
                "adequately powered": int(r["adequate"].sum()),
                "seeds they have": int(r["n_seeds"].max()) if len(r) else 0,
                "seeds the others need": (
                    f"{int(need.min())}–{int(need.max())}" if len(need) else "–"
                ),
            }
        )
    return pd.DataFrame(out).set_index("claim")


def equivalence_table(df: pd.DataFrame) -> pd.DataFrame:
    """The equivalence bounds: per claim and bound of its deciding rules, the measures it
    applies to, the smallest effect of interest (±, the TOST bounds) and why that size."""
    groups: dict[tuple, list[str]] = {}
    for c in deciding(df):
        r = c.rule
        names = groups.setdefault((r.claim, r.sesoi, r.sesoi_reason), [])
        if r.measure not in names:
            names.append(r.measure)
    rows = [
        {
            "claim": claim,
            "measures": "; ".join(names),
            "bound (±)": f"{sesoi:g}",
            "why this size": reason,
        }
        for (claim, sesoi, reason), names in groups.items()
    ]
    return pd.DataFrame(rows, columns=["claim", "measures", "bound (±)", "why this size"])


def specification_table(
    df: pd.DataFrame, runs: Runs, arm_nets: dict | None = None, arm_probes: dict | None = None
) -> pd.DataFrame:
    """The specification (multiverse) check per claim: the verdict recomputed under every
    alternative each chapter names (criterion, variant or pair set, measure or scoring,
    training arm), and how many of the specifications that could be scored agree with the
    main one. ``arm_nets`` / ``arm_probes``: E1's other training arms (arm -> networks /
    probes), where loaded."""
    checks = {
        "C1": (
            battery_analysis.c1_multiverse(runs.nets, arm_nets),
            "criterion, variant set, measure, training arm",
        ),
        "C2": (
            ambiguity_analysis.c2_multiverse(runs.probes, arm_probes),
            "criterion, pair set, scoring, training arm",
        ),
        "C3": (packing_analysis.c3_multiverse(df.attrs["pack"]), "pair set, measure, packing arm"),
        "C4": (
            dynamics_analysis.c4_multiverse(df.attrs["dyn"], list(runs.spec.variants)),
            "criterion, measures, pairs, seeds",
        ),
        "C5": (
            synergy.c5_multiverse(df.attrs["learn"], df.attrs["joint"]),
            "speed scale, seeds, capacity's network sizes",
        ),
    }
    rows = []
    for c, (mv, varied) in checks.items():
        claim = mv[mv["comparison"] == "claim"] if "comparison" in mv else mv
        scored = claim[claim["verdict"] != "not tested"]
        main = claim.loc[claim["main"], "verdict"]
        main_v = main.iloc[0] if len(main) else "–"
        rows.append(
            {
                "claim": c,
                "what varies": varied,
                "main verdict": main_v,
                "agree": f"{int((scored['verdict'] == main_v).sum())} of {len(scored)}",
                "not scorable": len(claim) - len(scored),
                "verdicts seen": ", ".join(
                    f"{v} ({n})" for v, n in scored["verdict"].value_counts().items()
                ),
            }
        )
    return pd.DataFrame(rows).set_index("claim")


def load_arms(runs: Runs) -> tuple[dict, dict]:
    """E1's other training arms: arm -> networks, arm -> their E2 probes (loaded quietly)."""
    P = runs.params
    probe = ambiguity.ProbeSpec.from_params(P)
    nets = _quiet(battery.run_arms, runs.spec, P.workers, progress=False)
    probes = {
        arm: _quiet(ambiguity.run_ambiguity, n, probe=probe, workers=P.workers, progress=False)
        for arm, n in nets.items()
    }
    return nets, probes


def _by_claim(c1: list, c2: dict, c4: dict) -> dict[str, list[verdicts.Comparison]]:
    return {
        "C1: final performance": c1,
        **{f"C2: {m}": comps for m, comps in c2.items()},
        **{f"C4: {m}": comps for m, comps in c4.items()},
    }


@dataclass(frozen=True)
class TunedRuns:
    """The test seeds under each pathway's own protocol, loaded once for the summary tables:
    their spec (None where they cannot be analysed; ``note`` says why, or which networks are
    analysed: :func:`lib.analysis.tuning.tuned_stage`), networks keyed (variant, seed), the
    variants the learning rule excludes, E2's probes and E4's analyses of them, and C1's floor
    for them (``none`` at their budget, keyed ("none", seed); empty where the profile does not
    ship it: :func:`lib.experiments.tuning.floor_networks`)."""

    spec: tuning.TunedSpec | None
    note: str
    nets: dict
    excluded: tuple[str, ...]
    probes: dict
    dyn: dict
    floor: dict = field(default_factory=dict)


def load_tuned(df: pd.DataFrame, runs: Runs) -> TunedRuns:
    """The tuned test seeds of :func:`claims_table`'s profile (their probes and analyses loaded,
    or made like the chapters make them)."""
    spec, note = tuning_analysis.tuned_stage(df.attrs["profile"], runs.spec)
    if spec is None:
        return TunedRuns(None, note, {}, (), {}, {})
    P = runs.params
    nets = tuning.tuned_networks(spec)
    probes = _quiet(
        ambiguity.run_ambiguity,
        nets,
        probe=ambiguity.ProbeSpec.from_params(P),
        workers=P.workers,
        progress=False,
    )
    dyn = _quiet(
        dynamics_experiment.run_dynamics,
        nets,
        dynamics_experiment.DynamicsSpec.from_params(P),
        workers=P.workers,
        progress=False,
    )
    floor = tuning.floor_networks(spec, df.attrs["profile"])
    excluded = tuning_analysis.tuned_exclusions(nets, spec)
    return TunedRuns(spec, note, nets, excluded, probes, dyn, floor)


def protocol_table(
    df: pd.DataFrame, runs: Runs, tuned: TunedRuns
) -> tuple[pd.DataFrame | None, str]:
    """The paper's excitability-vs-synapse question as the site contrasts of the site x
    operation factorial (the main effect, or the simple effects of site where the learning rule
    excluded a cell) of C1's, C2's and C4's measures, under E1's common protocol and on the test
    seeds trained under each pathway's own (:func:`site_table`), and what each build finds
    (:func:`site_text`); (None, why) where the tuned seeds cannot be analysed
    (:func:`load_tuned`)."""
    if tuned.spec is None:
        return None, tuned.note
    before = _by_claim(
        battery_analysis.e1_factorial(runs.nets),
        ambiguity_analysis.c2_factorial(runs.probes),
        df.attrs["details"]["C4"]["factorial"],
    )
    pairs = dynamics_analysis.pair_table(tuned.dyn, list(tuned.spec.variants))

    def tuned_build(drop):
        return _by_claim(
            battery_analysis.e1_factorial(tuned.nets, drop),
            ambiguity_analysis.c2_factorial(tuned.probes, excluded=drop),
            dynamics_analysis.c4_factorial(pairs, drop),
        )

    builds = tuning_analysis.protocol_builds(
        before, tuned_build(tuned.excluded), tuned_build(()), tuned.excluded
    )
    return site_table(builds), site_text(builds, tuned.excluded, tuned.note)


COMMON, OWN = "E1's common protocol", "each pathway's own protocol"
"""The columns of :func:`tuned_claims` that hold the two builds' verdicts."""

RE_DERIVED = ("C1", "C2", "C4")
"""The claims whose verdicts :func:`tuned_claims` re-derives on the tuned test seeds: those
judged on E1's networks and their probes and analyses (C3 is judged on E3's grid, whose
trainability control is on chapter 05; C5 on the hybrid's E3 grid and E5's networks, trained
under E1's protocol)."""


def tuned_claims(df: pd.DataFrame, runs: Runs, tuned: TunedRuns) -> pd.DataFrame | None:
    """C1's, C2's and C4's verdicts by their own rules (the same functions as
    :func:`claims_table`) on the test seeds under each pathway's own protocol, beside the
    verdicts under E1's common protocol: one row per claim of :data:`RE_DERIVED` with both
    verdicts, the seeds each used, whether they agree and the key numbers under own protocols.
    A variant the learning rule excludes is left out of the tuned verdicts. C1's context-blind
    floor is ``none`` (it carries no context, so it has no modulation to tune): trained at the
    test seeds' budget and seeds where the profile ships it (``tuned.floor``), else E1's own,
    paired over the seeds both have (``attrs["floor"]`` says which). None where the tuned seeds
    cannot be analysed."""
    if tuned.spec is None:
        return None
    kept = {k: v for k, v in tuned.nets.items() if k[0] not in tuned.excluded}
    probes = {k: v for k, v in tuned.probes.items() if k[0] not in tuned.excluded}
    floor = tuned.floor or runs.nets
    v1 = battery_analysis.verdict_c1(kept, floor_nets=floor)
    v2 = ambiguity_analysis.verdict_c2(probes)
    labels = [v for v in tuned.spec.variants if v not in tuned.excluded]
    v4 = dynamics_analysis.c4_verdict(dynamics_analysis.pair_table(tuned.dyn, labels))
    own = {
        "C1": (v1, v1["comparisons"], c1_text(v1)),
        "C2": (v2, v2["comparisons"], c2_text(v2)),
        "C4": (v4, v4["comparisons"], dynamics_analysis.c4_summary_text(v4)),
    }
    rows = []
    for claim in RE_DERIVED:
        v, comps, text = own[claim]
        rows.append(
            {
                "claim": claim,
                COMMON: df.loc[claim, "verdict"],
                "seeds (common)": df.attrs["seeds"][claim],
                OWN: v["verdict"],
                "seeds (own)": max((c.n_seeds for c in comps if c.tested), default=0),
                "same verdict": v["verdict"] == df.loc[claim, "verdict"],
                # the common build's seeds could not reach Holm over its family (the exact floor)
                "common seeds decide": not _blocked(df.attrs["comparisons"][claim]),
                "key numbers (own protocols)": text,
            }
        )
    out = pd.DataFrame(rows).set_index("claim")
    n_floor = len(seeds_of(floor, tuning.FLOOR))
    out.attrs["floor"] = (
        f"`none` trained beside the test seeds, at their budget of {tuned.spec.budget:,} steps "
        f"({n_floor} seeds)"
        if tuned.floor
        else f"E1's own `none` ({n_floor} seeds, E1's budget of "
        f"{runs.spec.max_steps:,} steps), paired over the seeds both have"
    )
    return out


def tuned_claims_text(table: pd.DataFrame | None) -> str:
    """The key numbers of each re-derived verdict under each pathway's own protocol (one bullet
    per claim), then which verdicts hold and which change."""
    if table is None:
        return ""
    lines = [f"* **{c}**: {r['key numbers (own protocols)']}" for c, r in table.iterrows()]
    if "floor" in table.attrs:
        lines.append(f"* C1's context-blind floor: {table.attrs['floor']}.")
    same = [c for c, r in table.iterrows() if r["same verdict"]]
    changed = [c for c, r in table.iterrows() if not r["same verdict"]]
    parts = []
    if same:
        keep = "keeps its verdict" if len(same) == 1 else "keep their verdicts"
        parts.append(f"{', '.join(same)} {keep} under each pathway's own protocol.")
    for c in changed:
        r = table.loc[c]
        change = (
            f"{c} is *{r[COMMON]}* under E1's common protocol ({r['seeds (common)']} seeds) and "
            f"*{r[OWN]}* under each pathway's own ({r['seeds (own)']} seeds)"
        )
        parts.append(
            change + ": the verdict depends on the training protocol."
            if r["common seeds decide"]
            else change + f". With {r['seeds (common)']} seeds no comparison of the common build "
            "could reach Holm's threshold over its family, so the change may come from the seeds "
            "as much as from the protocol; these two builds cannot separate them."
        )
    return "\n".join(lines) + "\n\n" + " ".join(parts)


SITE_SHORT = {
    "site": "main effect",
    "site_at_additive": "at additive",
    "site_at_multiplicative": "at multiplicative",
}
"""The site contrasts (the paper's excitability-vs-synapse question) and their short names."""


def _site_comparisons(comps: list[verdicts.Comparison]) -> list[verdicts.Comparison]:
    return [c for c in comps if factorial.contrast_name(c) in SITE_SHORT]


def site_table(builds: dict[str, dict[str, list[verdicts.Comparison]]]) -> pd.DataFrame:
    """One row per measure, one column per build: each site contrast the build tested
    (its short name, verdict, mean effect neuron − synapse and seeds), "not tested" if none."""
    measures = list(dict.fromkeys(m for b in builds.values() for m in b))
    rows = {}
    for m in measures:
        rows[m] = {}
        for name, build in builds.items():
            cells = [
                f"{SITE_SHORT[factorial.contrast_name(c)]}"
                f"{' (exploratory)' if factorial.is_follow_up(c) else ''}: {c.verdict} "
                f"({c.mean:+.3f}, {c.n_seeds} seeds)"
                for c in _site_comparisons(build.get(m, []))
                if c.tested
            ]
            rows[m][name] = "; ".join(cells) or "not tested"
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("measure")


def site_text(builds: dict, excluded, note: str) -> str:
    """Per build, how many site contrasts differ, are equivalent or stay inconclusive (the
    exploratory follow-ups of an interaction counted apart); the measures whose site effect
    differs with opposite signs at the two operations (follow-ups) or in the second and third
    builds (the direction depends on which cells are compared); and which variants the learning
    rule excluded."""
    parts = []
    for name, build in builds.items():
        site = [c for comps in build.values() for c in _site_comparisons(comps) if c.tested]
        v = [c.verdict for c in site if not factorial.is_follow_up(c)]
        follow = [c.verdict for c in site if factorial.is_follow_up(c)]
        parts.append(
            f"*{name}*: {v.count('differ')} differ, {v.count('equivalent')} equivalent, "
            f"{v.count('inconclusive')} inconclusive of {len(v)} site contrasts"
            + (
                f" (and, as exploratory follow-ups where the interaction differs, the site at "
                f"each operation: {follow.count('differ')} differ of {len(follow)})"
                if follow
                else ""
            )
        )
    crossings = []
    for name, build in builds.items():
        crossed = [
            m
            for m, comps in build.items()
            if {
                np.sign(c.mean)
                for c in _site_comparisons(comps)
                if factorial.is_follow_up(c) and c.verdict == "differ"
            }
            >= {-1.0, 1.0}
        ]
        if crossed:
            crossings.append(
                f" Under *{name}*, on {len(crossed)} measure(s) ({', '.join(crossed)}) the site "
                "effect differs with opposite signs at the two operations (exploratory "
                "follow-ups): whether the neuron or the synapse is ahead depends on how "
                "modulation acts, so no direction of the site effect is claimed there."
            )
    names = list(builds)[1:3]
    flips = []
    if len(names) == 2:
        for m in builds[names[0]]:
            signs = [
                {
                    np.sign(c.mean)
                    for c in _site_comparisons(builds[n].get(m, []))
                    if c.verdict == "differ"
                }
                for n in names
            ]
            if signs[0] and signs[1] and not signs[0] & signs[1]:
                flips.append(m)
    flip_text = (
        f" On {len(flips)} measure(s) ({', '.join(flips)}) the site effect differs with "
        f"opposite signs under *{names[0]}* and *{names[1]}*: which cells are compared "
        "decides its direction, so no direction of the site effect is claimed there."
        if flips
        else ""
    )
    return (
        "; ".join(parts)
        + "."
        + "".join(crossings)
        + flip_text
        + (
            " Excluded by the learning rule: "
            + ", ".join(f"`{v}`" for v in excluded)
            + ", so the site contrast under each pathway's own protocol is the simple effect "
            "between the cells that remain; the last column keeps every cell and decides "
            "nothing."
            if excluded
            else ""
        )
        + f" {note}"
    )


def limitations(df: pd.DataFrame) -> list[str]:
    """What this profile's runs cannot settle, from its spec and verdicts (one sentence each)."""
    spec = df.attrs["spec"]
    out = []
    if len(spec.tasks) < 20:
        full = full_battery.full_spec("full").battery
        out.append(
            f"Only {len(spec.tasks)} of the battery's 20 tasks are trained at profile "
            f"`{df.attrs['profile']}`. The full-battery chapter trains all 20 at "
            f"N = {full.n_rec} with {full.n_seeds} seeds per variant (C1, C2 and C4 by the same "
            "rules, C3 exploratory); Yang et al.'s own scale (N = 256, 10^7 trials) is the "
            "paper profile, not run here."
        )
    profile = df.attrs["profile"]
    if not tuning.SHIPPED_GRIDS.get(profile):
        out.append(
            "Every pathway trains under one common protocol (chosen on `exc_bias`); the "
            "fair-tuning grid of the training appendix has not yet chosen each pathway's own, "
            "so a difference between pathways may partly reflect how that protocol suits each."
        )
    elif not tuning.SHIPPED_TUNED.get(profile):
        tuned = tuning.tuned_spec(profile)
        assert tuned is not None  # a shipped grid has chosen
        out.append(
            "The verdicts rest on E1's common protocol (chosen on `exc_bias`). The fair-tuning "
            "grid of the training appendix has chosen each pathway's own, but the test seeds "
            f"under those protocols are still training ({len(tuning.tuned_networks(tuned))} of "
            f"{len(tuned.configs())} shipped), so a difference between pathways may partly "
            "reflect how the common protocol suits each."
        )
    else:
        out.append(
            "The verdicts in this table rest on E1's common protocol (chosen on `exc_bias`); "
            "the section on protocols above re-derives C1, C2 and C4 by their own rules on test "
            "seeds trained under each pathway's own protocol (chosen by the fair-tuning grid of "
            "the training appendix), and chapters 03, 04 and 06 the site x operation factorial; "
            "C3 has its trainability control (chapter 05), while C5's networks are trained under "
            "E1's protocol only."
        )
        pending = tuning.still_tuning(profile)
        if pending:
            out.append(
                "Still in tuning or training under their own protocols, so on E1's common "
                "protocol only: " + ", ".join(f"`{v}`" for v in pending) + "."
            )
    trials = spec.max_steps * spec.batch_size
    if trials < battery.YANG_TRIALS:
        out.append(
            f"Each network trains for at most {trials:,} trials, "
            f"{100 * trials / battery.YANG_TRIALS:.2g}% of Yang et al.'s budget; a task "
            "not learned within it is *not tested*, not counted against a claim."
        )
    seeds = df.attrs["seeds"]
    out.append(
        "Seeds: "
        + ", ".join(f"{c} used {n}" for c, n in seeds.items() if n)
        + ". With n paired seeds the exact test's smallest p is 2/2^n (0.25 for 3, "
        "0.031 for 6), so a family of m comparisons needs 2/2^n < 0.05/m to show any "
        "difference; *inconclusive* means neither a difference nor an equivalence is "
        "shown at this seed count, not evidence of equality."
    )
    untested = [c for c, v in df["verdict"].items() if v == "not tested"]
    if untested:
        out.append("Not scored here: " + ", ".join(untested) + " (see the table).")
    out.append(
        "The abstract does not say how the paper parametrised each pathway, made context "
        "ambiguous, measured packing or defined time-scales; each choice here is stated "
        "where it is made, and a different choice could change a verdict."
    )
    return out


__all__ = [
    "TunedRuns",
    "load_tuned",
    "protocol_table",
    "COMMON",
    "OWN",
    "RE_DERIVED",
    "tuned_claims",
    "tuned_claims_text",
    "SITE_SHORT",
    "site_table",
    "site_text",
    "CLAIMS",
    "CHAPTERS",
    "VERDICTS",
    "RELATION",
    "DEPARTURES",
    "Runs",
    "load_runs",
    "claims_table",
    "deciding",
    "claims_html",
    "profile_label",
    "profile_line",
    "conclusions_table",
    "power_table",
    "equivalence_table",
    "specification_table",
    "load_arms",
    "limitations",
    "c1_text",
    "c2_text",
    "c3_text",
]
