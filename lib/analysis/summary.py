"""The book's results at a glance: one row per claim of the paper (C1-C5) with its verdict, the
key numbers behind it and the chapter that tests it, computed from the same artifacts and with the
same specs and verdict functions as the chapters (nothing here is typed by hand).

C1 and C2 come from :mod:`lib.analysis.claims` (chapters E1 and E2), C3 from
:mod:`lib.analysis.packing` (chapter E3), C4 from :mod:`lib.analysis.dynamics` (chapter E4), C5
from :mod:`lib.analysis.synergy` (chapter E5: its time-scale verdict from
:mod:`lib.analysis.timescales`, its learning part from :mod:`lib.analysis.learning`).
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from types import SimpleNamespace

import numpy as np
import pandas as pd

from lib.analysis import claims
from lib.analysis import dynamics as E4
from lib.analysis import learning as E5L
from lib.analysis import packing as E3
from lib.analysis import synergy
from lib.analysis import timescales as E5
from lib.experiments import ambiguity, battery, chapter_params, dynamics, learning, packing
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

CHAPTERS = {"C1": ("03_battery", "E1 · the battery"), "C2": ("04_ambiguity", "E2 · ambiguity"),
            "C3": ("05_packing", "E3 · packing"), "C4": ("06_dynamics", "E4 · dynamics"),
            "C5": ("07_timescales", "E5 · time-scales")}
"""Claim -> (the book page that tests it, without suffix, "" if none yet; its short title)."""

VERDICTS = ("supported", "partly supported", "not supported", "not tested")
"""Every verdict a row can carry."""


def _interval(d: dict, digits: int = 3) -> str:
    """'+0.012 [-0.030, +0.054]' from a :func:`lib.analysis.stats.paired` result."""
    if not np.isfinite(d.get("diff", np.nan)):
        return "not scored"
    ci = (f" [{d['lo']:+.{digits}f}, {d['hi']:+.{digits}f}]" if np.isfinite(d["lo"])
          else " (no interval: one seed)")
    return f"{d['diff']:+.{digits}f}{ci}"


def _p(d: dict) -> str:
    p = d.get("p_holm", d.get("p", np.nan))
    return f"Holm-adjusted p = {p:.3g}" if np.isfinite(p) else "no p"


def _verdict(v: str) -> str:
    """The verdict word of a verdict function's output (details go to the numbers column)."""
    return "not tested" if v.startswith("not tested") else v


def _why(v: str) -> str:
    """The reason a verdict function gave in parentheses, as a sentence start ('' if none)."""
    return f"Not tested: {v[v.index('(') + 1:v.rindex(')')]}. " if "(" in v else ""


def c1_row(nets: dict) -> dict:
    v = claims.verdict_c1(nets)
    if not v["families"]:
        return {"verdict": _verdict(v["verdict"]), "key numbers": v["verdict"]}
    parts = [f"tasks that need context and are solved by some variant (tested): {v['n_tested']}"
             + ("" if v["n_tested"] else " (no task both needs context and was learned within "
                "this budget)")]
    for name, f in v["families"].items():
        d = f["vs_none"]
        parts.append(f"the {name} pathway solves {f['solved']} of them; its best variant minus "
                     f"the context-blind floor, `{f['best']}` − `none`, in mean final "
                     f"performance: {_interval(d)} ({_p(d)}, {d['n']} paired seeds)")
    return {"verdict": _verdict(v["verdict"]), "key numbers": "; ".join(parts) + "."}


def c2_row(probes: dict) -> dict:
    v = claims.verdict_c2(probes)
    if not v["comparisons"]:
        return {"verdict": _verdict(v["verdict"]), "key numbers": "no matched pair in this run."}
    parts = [f"`{c['a']}` − `{c['b']}`: {_interval(c)} ({_p(c)}, {c['n']} paired seeds, "
             f"{c['pairs']} task pairs)" for c in v["comparisons"]]
    return {"verdict": _verdict(v["verdict"]),
            "key numbers": _why(v["verdict"]) + "Matched-budget difference in mixture "
                           "robustness (area under the "
                           "dominant task's curve, relative to clean): " + "; ".join(parts) + "."}


def c4_row(table: pd.DataFrame) -> dict:
    v = E4.verdict_c4(table)
    tests = v["tests"]
    if tests.empty:
        return {"verdict": _verdict(v["verdict"]), "key numbers": "no learned conflict pair."}
    if not np.isfinite(tests["diff"].to_numpy(float)).any():
        return {"verdict": _verdict(v["verdict"]),
                "key numbers": "No matched pair has two seeds that both learned a conflict "
                               "pair of tasks, so no pre-registered test can be scored."}
    sig = tests[tests["significant"]]
    best = tests.loc[tests["p_holm"].fillna(np.inf).idxmin()]
    parts = [f"pre-registered tests significant after Holm: {len(sig)} of {len(tests)} "
             f"(measures {', '.join(E4.PRIMARY)}; matched-budget pairs); the strongest, "
             f"{best['measure']} `{best['a']}` − `{best['b']}`: {_interval(best)} "
             f"({_p(best)}, {int(best['n'])} paired seeds)"]
    held = v["held_out"]
    if held.empty or (held["n"] == 0).all():
        parts.append(f"held-out replication of the exploratory bias-vs-multiplicative split: "
                     f"no seed ≥ {E4.HELD_OUT_FROM} in this run")
    else:
        parts.append("held-out replication (seeds ≥ " + str(E4.HELD_OUT_FROM) + ", "
                     + ", ".join(held["measure"].unique()) + "): "
                     + "; ".join(f"`{r['a']}` − `{r['b']}` {_interval(r)} ({_p(r)}, "
                                 f"{int(r['n'])} seeds)" for _, r in held.iterrows())
                     + (f" — pending: fewer than {E4.MIN_HELD_OUT} held-out "
                        "seeds, so it does not count yet" if v.get("replication_pending")
                        else " — replicated" if v["replicated"] else " — not replicated"))
    return {"verdict": _verdict(v["verdict"]), "key numbers": "; ".join(parts) + "."}


def c3_row(table: pd.DataFrame) -> dict:
    v = E3.verdict_c3(table)
    cmp = v["comparisons"]
    made = cmp[cmp.tested & np.isfinite(cmp.p)] if len(cmp) else cmp
    if v["verdict"] == "not tested" or not len(made):
        return {"verdict": "not tested", "key numbers": "Not tested: no network size had both "
                "matched pathways learn even the smallest task set."}
    what = {"capacity": "capacity"}
    differ = made[made.differs]
    parts = [f"N = {int(r['N'])}, {what.get(r['measure'], 'tasks at criterion at the largest K')}"
             f", `{r['a']}` − `{r['b']}`: {_interval(r, 2)} ({_p(r)}, {int(r['n'])} paired "
             "seeds)" for _, r in differ.iterrows()]
    rest = made[~made.differs]
    if len(rest):
        parts.append(f"the other {len(rest)} comparisons (N = "
                     f"{', '.join(map(str, sorted(set(rest.N))))}): no detectable difference, "
                     f"|difference| at most {rest['diff'].abs().max():.2f} tasks")
    caveat = E3.fragile_text(v).replace("**Caveat.**", "Caveat:")
    return {"verdict": v["verdict"],
            "key numbers": f"Joint training (P1) at matched 2N budgets, {len(made)} comparisons "
                           "paired over seeds (capacity and tasks at criterion at the largest K, "
                           "Holm over all): " + "; ".join(parts) + "."
                           + (f" {caveat}" if caveat else "")}


def c5_row(seq_table: pd.DataFrame, learn_table: pd.DataFrame, probes: dict,
           other_taus: dict[float, str] | None = None,
           packing_table: pd.DataFrame | None = None) -> dict:
    """C5's row: the overall verdict (:func:`lib.analysis.synergy.c5_overall`) and each part's
    numbers; ``other_taus`` {tau_fast (ms): time-scale verdict} of the sensitivity check,
    ``packing_table`` E3's joint-training rows of the hybrid and its parts."""
    v_ts = E5.verdict_c5(seq_table)
    v_learn = E5L.learning_tests(learn_table)
    syn = synergy.synergy_table(probes, seq_table, v_ts["best"], learn_table, packing_table)
    v = synergy.c5_overall(v_ts, v_learn, syn)
    if v["verdict"] == "not tested":
        return {"verdict": "not tested", "key numbers": "Not tested: no part of E5 could be "
                "scored (time-scales: " + v_ts.get("reason", "") + ")."}
    parts = []
    if v_ts["verdict"] != "not tested":
        best = v_ts["tests"][v_ts["tests"]["split"] == v_ts["best"]]
        parts.append(f"time-scales {v_ts['verdict']}, combined cost of the hybrid, split − "
                     "uniform: " + "; ".join(
                         f"{E5.ASSIGNMENT_NAMES[r['split']]} − "
                         f"{E5.ASSIGNMENT_NAMES[r['uniform']]} {_interval(r)} ({_p(r)})"
                         for _, r in best.iterrows())
                     + " (" + E5.meaning_c5(v_ts).replace("*What it means:* ", "").rstrip(".")
                     + ")" + ("; at other fast time constants: " + ", ".join(
                         f"{tau:g} ms {w}" for tau, w in sorted(other_taus.items()))
                              if other_taus else ""))
    tests = v_learn["tests"]
    if len(tests):
        kids = E5L.children(learn_table)
        reached = ", ".join(f"{route} {int(g.reached.astype(bool).sum())}/{len(g)}"
                            for route, g in kids.groupby("route", sort=False))
        parts.append(f"learning a new task: {v_learn['speeds']} (seeds at criterion within the "
                     f"budget: {reached}; a censored seed counts at the budget); " + "; ".join(
                         f"{r['name']} `{r['a']}` − `{r['b']}` {_interval(r, 2)} ({_p(r)})"
                         for _, r in tests.iterrows()))
    else:
        parts.append("learning a new task: not tested")
    parts.append("synergy (hybrid against each part): " + "; ".join(
        f"{synergy.MEASURE_NAMES[m].split(' (')[0]} {w}" for m, w in v["measures"].items()))
    return {"verdict": v["verdict"], "key numbers": "; ".join(parts) + "."}


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
    nets = battery.run_battery(spec, workers=P.workers, progress=False)
    probes = ambiguity.run_ambiguity(battery.variant_networks(nets),
                                     probe=ambiguity.ProbeSpec.from_params(P),
                                     workers=P.workers, progress=False)
    return Runs(P, spec, nets, probes)


def claims_table(profile: str | None = None, runs: Runs | None = None) -> pd.DataFrame:
    """One row per claim (index C1-C5): the claim, its verdict (one of :data:`VERDICTS`), the key
    numbers (paired differences with their 95% t intervals over seeds) and the chapter
    (``chapter``: the page name, "" if none yet; ``title``). Reads ``runs`` (default:
    :func:`load_runs` of ``profile``) and the E4 analyses and E5 sequences of its networks."""
    runs = runs or load_runs(profile)
    P, spec, nets, probes = runs.params, runs.spec, runs.nets, runs.probes
    pack = packing.run_packing(packing.packing_spec(P.profile), workers=P.workers,
                               progress=False)
    dyn = dynamics.run_dynamics(battery.variant_networks(nets),
                                dynamics.DynamicsSpec.from_params(P), workers=P.workers,
                                progress=False)
    table = E4.pair_table(dyn, list(spec.variants))
    T = chapter_params("timescales", P.profile)
    probed = {k: v for k, v in nets.items() if k[0] in timescales.NETWORK_LABELS}
    main = timescales.TimescalesSpec.from_params(T)
    seq = {tau: E5.measure_table(res) for tau, res in timescales.run_tau_fast(
        probed, main, T.tau_fast_checks, workers=P.workers, progress=False).items()}
    learn = learning.run_learning(learning.LearningSpec.from_params(T), workers=P.workers,
                                  progress=False)
    others = {tau: E5.verdict_c5(t)["verdict"] for tau, t in seq.items() if tau != main.tau_fast}
    joint = pd.concat([pack, packing.run_packing(packing.hybrid_packing_spec(P.profile),
                                                 workers=P.workers, progress=False)])
    rows = {"C1": c1_row(nets), "C2": c2_row(probes), "C3": c3_row(pack), "C4": c4_row(table),
            "C5": c5_row(seq[main.tau_fast], learn, probes, others, joint)}
    out = []
    for c, text in CLAIMS.items():
        out.append({"claim": c, "statement": text, **rows[c], "chapter": CHAPTERS[c][0],
                    "title": CHAPTERS[c][1]})
    df = pd.DataFrame(out).set_index("claim")
    df.attrs["spec"] = spec
    df.attrs["profile"] = P.profile
    return df


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
    head = "".join(f'<th style="{_TD}">{h}</th>'
                   for h in ("claim", "verdict", "key numbers", *extra, "chapter"))
    body = []
    for c, r in df.iterrows():
        chapter = (f'<a href="{r["chapter"]}.html">{escape(r["title"])}</a>' if r["chapter"]
                   else escape(r["title"]))
        cells = (f"<b>{c}</b><br>{escape(r['statement'])}", f"<b>{escape(r['verdict'])}</b>",
                 _code_spans(r["key numbers"]), *(_code_spans(r[x]) for x in extra), chapter)
        body.append("<tr>" + "".join(f'<td style="{_TD}">{x}</td>' for x in cells) + "</tr>")
    return (f'<table class="claims-summary"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def profile_line(df: pd.DataFrame) -> str:
    """What the numbers of :func:`claims_table` rest on, in one sentence."""
    spec = df.attrs["spec"]
    return (f"Profile `{df.attrs['profile']}`: {len(spec.tasks)} tasks ({', '.join(spec.tasks)}), "
            f"N = {spec.n_rec} units, {spec.n_seeds} seeds per variant, a budget of "
            f"{spec.max_steps:,} training steps of {spec.batch_size} trials.")


RELATION = {"supported": "reproduces the paper's claim",
            "partly supported": "reproduces part of the paper's claim",
            "not supported": "does not reproduce the paper's claim at this scale",
            "not tested": "cannot say: the runs could not score the claim"}
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
          "matched per-task budgets; the abstract gives no protocol.",
    "C4": "Dynamics are compared by pre-registered state-space and fixed-point measures at "
          "matched budgets; the abstract names no measure.",
    "C5": "Time-scales are tested by giving each pathway its own time constant at test time, "
          "and learning speeds by which parameters teach a hybrid a new task (speeds measured, "
          "not imposed by learning rates); synergy is the hybrid against each of its parts, "
          "measure by measure. The abstract says only 'complementary and synergistic, possibly "
          "on different time-scales'.",
}
"""Where the reconstruction's setting necessarily departs from (or fills in) the paper, per
claim: design statements, not results (only the abstract is public)."""


def conclusions_table(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`claims_table` with what each verdict means for the paper (:data:`RELATION`) and
    the reconstruction's departures (:data:`DEPARTURES`)."""
    out = df.copy()
    out["relation to the paper"] = [RELATION[v] for v in df["verdict"]]
    out["departures"] = [DEPARTURES[c] for c in df.index]
    return out


def c2_sensitivity(profile: str | None = None, runs: Runs | None = None) -> pd.DataFrame:
    """C2's rule under E1's other training arms and the controls of where modulation acts: per
    check, the verdict on its networks next to the standard one on the same matched pairs, and
    whether it changes (the chapter E2 analyses, :func:`lib.analysis.claims.verdict_c2`). Reads
    ``runs`` (default: :func:`load_runs` of ``profile``) and the arms' networks and probes."""
    runs = runs or load_runs(profile)
    P, spec, nets, probes = runs.params, runs.spec, runs.nets, runs.probes
    probe = ambiguity.ProbeSpec.from_params(P)
    rows = []
    for arm in battery.ARMS:
        if arm == "standard":
            continue
        labels = [l for l in battery.ARM_VARIANTS[arm] if l in spec.variants]
        arm_probes = ambiguity.run_ambiguity(battery.run_arm(spec, arm, workers=P.workers,
                                                             progress=False),
                                             probe=probe, workers=P.workers, progress=False)
        v_arm = claims.verdict_c2(arm_probes)
        v_std = claims.verdict_c2({k: v for k, v in probes.items() if k[0] in labels})
        rows.append({"check": f"training arm `{arm}`", "verdict": _verdict(v_arm["verdict"]),
                     "standard networks": _verdict(v_std["verdict"]),
                     "numbers": "; ".join(f"`{c['a']}` − `{c['b']}` {_interval(c)} ({_p(c)})"
                                          for c in v_arm["comparisons"])})
    ctrl = claims.control_comparisons(nets, probes)
    for _, r in ctrl.iterrows():
        rows.append({"check": f"control `{r['control']}` vs `{r['variant']}`, {r['measure']}",
                     "verdict": ("differs" if r["differs"] else "no detectable difference")
                     if np.isfinite(r["p"]) else "not scored",
                     "standard networks": "–",
                     "numbers": f"{_interval(r)} ({_p(r)}, {int(r['n'])} paired seeds)"})
    return pd.DataFrame(rows).set_index("check")


def limitations(df: pd.DataFrame) -> list[str]:
    """What this profile's runs cannot settle, from its spec and verdicts (one sentence each)."""
    spec = df.attrs["spec"]
    out = []
    if len(spec.tasks) < 20:
        out.append(f"Only {len(spec.tasks)} of the battery's 20 tasks are trained at profile "
                   f"`{df.attrs['profile']}`: claims about packing *many* tasks (C3) and about "
                   "robustness across the full battery need the paper profile (all 20 tasks, "
                   "N = 256).")
    trials = spec.max_steps * spec.batch_size
    if trials < battery.YANG_TRIALS:
        out.append(f"Each network trains for at most {trials:,} trials, "
                   f"{100 * trials / battery.YANG_TRIALS:.2g}% of Yang et al.'s budget; a task not learned within it is *not tested*, not "
                   "counted against a claim.")
    out.append(f"{spec.n_seeds} seeds per variant: a paired t test over n = {spec.n_seeds} "
               "detects only large effects (the smallest detectable standardised effect is "
               "given in each chapter); *not supported* means no detectable difference at this "
               "seed count, not evidence of equality.")
    untested = [c for c, v in df["verdict"].items() if v.startswith("not tested")]
    if untested:
        out.append("Not scored here: " + ", ".join(untested) + " (see the table).")
    out.append("The abstract does not say how the paper parametrised each pathway, made context "
               "ambiguous, measured packing or defined time-scales; each choice here is stated "
               "where it is made, and a different choice could change a verdict.")
    return out


__all__ = ["CLAIMS", "CHAPTERS", "VERDICTS", "RELATION", "DEPARTURES", "Runs", "load_runs",
           "claims_table",
           "claims_html", "profile_line", "conclusions_table", "c2_sensitivity", "limitations",
           "c1_row", "c2_row", "c3_row", "c4_row", "c5_row"]
