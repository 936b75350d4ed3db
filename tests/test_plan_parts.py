"""The plan parts of per-network results (E1's lesions, E4's dynamics, E5's sequences), made by
one helper (:meth:`lib.experiments.runner.NetworkResult.part`): the same artifact keys, counts,
estimates and notes as each experiment's own code made before it was factored out."""

from __future__ import annotations

import pytest

from lib import artifacts
from lib.experiments import dynamics as dynamics_experiment
from lib.experiments import battery, lesions, plan, timescales
from lib.experiments.manifest import e1_jobs, e5_networks, manifest


PROFILE = "smoke"


def _reference_part(result, nets, spec, seconds, note, label, workers, force=False, todo=None):
    """The pattern each ``*_part`` repeated before the helper: networks -> configs -> artifact
    keys -> :func:`lib.experiments.plan.artifact_part`."""
    configs = {k: getattr(v, "config", v) for k, v in nets.items()}
    keys = {k: result.key(c, spec) for k, c in configs.items()}
    return plan.artifact_part(
        label, result.kind, keys, lambda k: seconds(configs[k], spec), workers, force, todo, note
    )


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """Every call of :func:`plan.artifact_part` (its arguments, the keys' artifact configs and
    estimates spelled out), on an empty artifact store and a fixed step cost."""
    monkeypatch.setenv("BOOK_ARTIFACTS", str(tmp_path))
    monkeypatch.setattr(plan, "measure_cost", lambda cfg: plan.Cost(0.01, 0.1 * cfg.n_rec, 0.5))
    seen: list = []
    real = plan.artifact_part

    def spy(label, kind, keys, cost, workers, force=False, todo=None, note=""):
        seen.append((label, kind, keys, {k: cost(k) for k in keys}, workers, force, todo, note))
        return real(label, kind, keys, cost, workers, force, todo, note)

    monkeypatch.setattr(plan, "artifact_part", spy)
    return seen


def _cases():
    m = manifest(PROFILE)
    variants = battery.variant_networks(e1_jobs(m.network_jobs()))
    tau, (tspec, labels) = next(iter(m.timescales.items()))
    lspec, dspec = lesions.LesionSpec(), dynamics_experiment.DynamicsSpec.from_profile(PROFILE)

    def sequences_note(nets):
        return "trial positions per network: " + ", ".join(
            sorted(
                {
                    f"{timescales.sequence_forwards(c, tspec):,} ({c.mechanism})"
                    for c in nets.values()
                }
            )
        )

    lesion_nets = m.lesion_networks(variants)
    e5_nets = e5_networks(variants, labels)
    return [
        (
            lambda **kw: lesions.lesions_part(lesion_nets, lspec, 2, **kw),
            (lesions.LESIONS, lesion_nets, lspec, lesions.lesions_seconds),
            f"{lspec.fraction:.0%} of the units per lesion, {lspec.n_random} random controls",
            "E1 lesions and ablations",
        ),
        (
            lambda **kw: dynamics_experiment.dynamics_part(variants, dspec, 2, **kw),
            (dynamics_experiment.DYNAMICS, variants, dspec, dynamics_experiment.dynamics_seconds),
            f"{len(dspec.lambdas)} mixture weights per conflict pair",
            "E4 dynamics",
        ),
        (
            lambda **kw: timescales.timescales_part(e5_nets, tspec, 2, **kw),
            (timescales.TIMESCALES, e5_nets, tspec, timescales.timescales_seconds),
            sequences_note(e5_nets),
            "E5 sequences",
        ),
    ]


@pytest.mark.parametrize("case", range(3), ids=["lesions", "dynamics", "timescales"])
@pytest.mark.parametrize("todo", [None, "half"])
def test_parts_equal_the_pattern_they_replace(calls, case, todo):
    make, (result, nets, spec, seconds), note, label = _cases()[case]
    assert nets, "the smoke profile has networks of this part"
    kw = {} if todo is None else {"todo": sorted(nets, key=str)[::2]}
    part = make(**kw)
    expected = _reference_part(result, nets, spec, seconds, note, label, 2, **kw)
    assert part == expected
    assert calls[0] == calls[1]  # the same keys (artifact configs), estimates, note, label
    assert part.needed == len(nets) and part.kind == result.kind
    keys = calls[0][2]
    assert keys == {k: result.key(getattr(v, "config", v), spec) for k, v in nets.items()}
    assert part.to_make == (len(nets) if todo is None else len(kw["todo"]))


def test_part_counts_present_artifacts_and_force(calls):
    make, (result, nets, spec, _), _, _ = _cases()[0]
    first = next(iter(nets.values()))
    artifacts.save(result.kind, result.key(getattr(first, "config", first), spec), {"fake": 1})
    part = make()
    assert (part.needed, part.present, part.to_make) == (len(nets), 1, len(nets) - 1)
    assert make(force=True).to_make == len(nets)
