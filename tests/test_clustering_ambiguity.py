"""E2 at the scale of the whole battery: the battery's conflict pairs, probes restricted to a pair
set (lib.experiments.ambiguity.PairProbeSpec), their cached kind, and C2's verdict between two
pathways on those pairs (lib.analysis.ambiguity.verdict_c2_at_scale)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lib import artifacts
from lib.analysis import ambiguity as ambiguity_analysis
from lib.core.train import train
from lib.experiments import ambiguity
from lib.experiments.runner import network_payload
from helpers import tiny_config

GRID = dict(
    lambdas=(0.0, 0.25, 0.5), noise_levels=(0.0, 1.0), dilutions=(0.0, 1.0), scales=(0.0, 1.0, 2.0)
)
"""Small probe grids for the tests."""
TASKS = ("fdgo", "reactgo", "fdanti", "reactanti", "dm1")
"""Two conflict pairs and a task without a rule-derived answer (DM 1)."""


def test_the_full_battery_pair_set_is_exactly_the_seven_conflict_pairs():
    expected = {
        frozenset(p)
        for p in (
            ("fdgo", "fdanti"),
            ("reactgo", "reactanti"),
            ("delaygo", "delayanti"),
            ("contextdm1", "contextdm2"),
            ("contextdelaydm1", "contextdelaydm2"),
            ("dmsgo", "dmsnogo"),
            ("dmcgo", "dmcnogo"),
        )
    }
    assert len(ambiguity.CONFLICT_PAIRS) == 7
    assert {frozenset(p) for p in ambiguity.CONFLICT_PAIRS} == expected
    assert ambiguity.FULL_BATTERY_PROBE.pairs == ambiguity.CONFLICT_PAIRS
    assert ambiguity.PairProbeSpec(**GRID).pairs == ambiguity.CONFLICT_PAIRS
    # the quick panel's pairs are conflict pairs
    assert {frozenset(p) for p in ambiguity.PANEL} <= expected


def test_bad_pair_sets_raise_naming_pairs():
    for bad in ((), (("fdgo", "fdgo"),), (("fdgo", "nope"),), (("fdgo",),)):
        with pytest.raises(ValueError, match="pairs"):
            ambiguity.PairProbeSpec(**GRID, pairs=bad)
    spec = ambiguity.PairProbeSpec(**GRID, pairs=(("fdgo", "fdanti"), ("dmsgo", "dmsnogo")))
    assert ambiguity.probe_pairs(spec, TASKS) == [(0, 2)]  # the pairs the network was trained on
    with pytest.raises(ValueError, match="pairs=.*at least one pair of the network's tasks"):
        ambiguity.probe_pairs(ambiguity.PairProbeSpec(**GRID, pairs=(("dmsgo", "dmsnogo"),)), TASKS)
    with pytest.raises(ValueError, match="probe"):
        ambiguity.run_conflict_probes({}, ambiguity.ProbeSpec(**GRID))


def test_pair_specs_key_apart_from_plain_specs():
    cfg = tiny_config("exc", TASKS)
    plain = ambiguity.ProbeSpec(**GRID)
    paired = ambiguity.PairProbeSpec.of(plain, (("fdgo", "fdanti"),))
    assert ambiguity.probe_key(cfg, plain) != ambiguity.probe_key(cfg, paired)
    assert "pairs" not in ambiguity.probe_key(cfg, plain)["probe"]  # plain keys (shipped) unchanged
    assert ambiguity.probe_pairs(plain, TASKS) == ambiguity.pairs_of(TASKS)


@pytest.fixture(scope="module")
def net():
    torch.set_num_threads(1)
    return train(tiny_config("exc", TASKS, n_rec=16, eval_trials=16), progress=False)


def test_probes_run_on_the_pair_set_only(net, store):
    artifacts.save("network", net.config.to_dict(), network_payload(net))
    spec = ambiguity.PairProbeSpec(**GRID)  # the battery's 7 pairs; 2 of them are in TASKS
    out = ambiguity.run_conflict_probes({("exc", 0): net}, spec, progress=False)["exc", 0]
    assert out["pairs"] == [[0, 2], [1, 3]]  # fdgo/fdanti, reactgo/reactanti
    assert out["mix_i"].shape == (2, 3) and out["mid_switch"].shape == (2, 2, 4)
    assert out["clean"].shape == (5,)  # per-task probes on every task, DM 1 included
    assert artifacts.has("ambiguity", ambiguity.probe_key(net.config, spec))
    # the same numbers as every pair's probes on those two pairs
    full = ambiguity.probe_network(net, ambiguity.ProbeSpec(**GRID))
    rows = [full["pairs"].index([0, 2]), full["pairs"].index([1, 3])]
    np.testing.assert_array_equal(out["mix_i"], full["mix_i"][rows])
    np.testing.assert_array_equal(out["noise_fresh"], full["noise_fresh"])
    assert ambiguity.pair_probe_forwards(TASKS, spec) >= 2 * 2 * 3


def planted(res: dict, level: float, unlearned: str | None = None) -> dict:
    """A probe result with every task clean at 1 and mixtures at ``level`` (0 <= l < 1/2)."""
    out = copy.deepcopy(res)
    out["clean"] = np.ones(len(out["tasks"]))
    if unlearned is not None:
        out["clean"][out["tasks"].index(unlearned)] = 0.5
    lam = np.asarray(out["spec"]["lambdas"])
    curve = np.where(lam < 0.5, np.where(lam == 0, 1.0, level), 0.0)
    out["mix_i"] = np.tile(curve, (len(out["pairs"]), 1))
    out["mix_j"] = out["mix_i"][:, ::-1].copy()
    for p, (i, j) in enumerate(out["pairs"]):  # the unlearned task is off criterion when clean
        if out["tasks"][i] == unlearned:
            out["mix_i"][p, 0] = 0.5
        if out["tasks"][j] == unlearned:
            out["mix_j"][p, -1] = 0.5
    return out


def test_c2_at_scale_compares_two_pathways_on_the_conflict_pairs(net):
    res = ambiguity.probe_network(net, ambiguity.PairProbeSpec(**GRID))
    seeds = range(10)  # exact floor 2/2^10: below 0.05 after Holm over the nine measures
    probes = {("a", s): planted(res, 1.0) for s in seeds}
    probes |= {
        ("b", s): planted(res, 0.5, unlearned="reactanti" if s == 3 else None) for s in seeds
    }
    v = ambiguity_analysis.verdict_c2_at_scale(probes, "a", "b")
    measures = {c.rule.name for c in v["comparisons"]}
    assert "C2.mixture_auc.other" not in measures and "C2.mixture_auc.conflict" in measures
    mix = next(c for c in v["comparisons"] if c.rule.name == "C2.mixture_auc.conflict")
    # every ordered conflict pair is a unit, but reactanti (not learned in one seed of b) is not
    # a dominant task of any
    assert mix.units == ["fdgo→fdanti", "fdanti→fdgo", "reactgo→reactanti"]
    assert mix.verdict == "differ" and mix.mean > 0
    assert v["pairs"] == {"a − b": "differs"}
    with pytest.raises(ValueError, match="b='c'"):
        ambiguity_analysis.verdict_c2_at_scale(probes, "a", "c")
