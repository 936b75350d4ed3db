"""lib.core.reference (task battery read-outs, fixture comparison) and lib.analysis.anatomy
(budgets, mixtures, time-varying contexts)."""

import json
import math
import shutil

import numpy as np
import pytest
import torch

from lib.analysis import anatomy
from lib.core import reference
from lib.core import tasks as yang_tasks
from lib.core.model import MECHANISMS, ModulatedRNN

FIXTURES = reference.fixture_dir()


# ---------------------------------------------------------------------------------------------
# Fixtures of Yang et al.
# ---------------------------------------------------------------------------------------------
def test_fixture_pairs_rejects_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="folder=.*not a directory"):
        reference.fixture_pairs(tmp_path / "nowhere")


def test_fixture_pairs_rejects_json_without_npz(tmp_path):
    (tmp_path / "fdgo_seed1.json").write_text("{}")
    with pytest.raises(ValueError, match="fdgo_seed1.json"):
        reference.fixture_pairs(tmp_path)


def test_every_fixture_is_reproduced():
    pairs = reference.fixture_pairs(FIXTURES)
    assert pairs and all(j.stem == n.stem for j, n in pairs)
    for j, n in pairs:
        r = reference.compare(j, n)
        assert max(r["dx"], r["dy"], r["dy_loc"], r["dc_mask"]) <= 1e-6, r
        assert r["rule_units"] and r["epochs"] and r["perf"], r


def _copy(stem: str, dest) -> tuple:
    j, n = FIXTURES / f"{stem}.json", FIXTURES / f"{stem}.npz"
    shutil.copy(j, dest / j.name)
    return dest / j.name, dest / n.name, dict(np.load(n))


def test_compare_detects_differences(tmp_path):
    stem = reference.fixture_pairs(FIXTURES)[0][0].stem
    j, n, ref = _copy(stem, tmp_path)
    ref["x"] = ref["x"].copy()
    ref["x"][3, 0, 7] += 0.5
    ref["c_mask"] = ref["c_mask"][:-1]  # one step short: a shape mismatch
    ref["perf"] = 1 - ref["perf"]
    np.savez(n, **ref)
    r = reference.compare(j, n)
    assert r["dx"] == pytest.approx(0.5)
    assert r["dc_mask"] == math.inf
    assert r["dy"] == 0 and r["dy_loc"] == 0
    assert not r["perf"]
    record = json.loads(j.read_text())
    record["epochs"] = dict(reversed(list(record["epochs"].items())))  # same bounds, other order
    j.write_text(json.dumps(record))
    assert not reference.compare(j, n)["epochs"]


@pytest.mark.slow
def test_compare_all_table():
    table = reference.compare_all(FIXTURES)
    assert len(table) == len(reference.fixture_pairs(FIXTURES))
    tasks = list(dict.fromkeys(table.index.get_level_values("task")))
    assert tasks == [t for t in yang_tasks.TASKS if t in tasks]  # Yang's order
    assert set(reference.COMPARE_COLUMNS.values()) <= set(table.columns)
    text = reference.compare_summary(table)
    assert f"{len(table)} fixtures of {len(tasks)} tasks" in text


# ---------------------------------------------------------------------------------------------
# Families and condition statistics
# ---------------------------------------------------------------------------------------------
def test_families_cover_the_battery():
    members = [t for f in reference.FAMILIES.values() for t in f]
    assert sorted(members) == sorted(yang_tasks.TASKS) and len(members) == len(set(members))
    assert set(reference.RULES) == set(reference.FAMILIES)
    with pytest.raises(ValueError, match="task='go'"):
        reference.family_of("go")


def test_family_table_epochs():
    table = reference.family_table(yang_tasks.TASKS)
    epochs = {tasks: e for (_, tasks), e in table["epochs"].items()}
    assert epochs["Go, Anti"] == "fix1 → stim1 → go1"
    assert epochs["RT Go, RT Anti"] == "fix1 → go1"
    assert epochs["Dly Go, Dly Anti"] == "fix1 → stim1 → delay1 → go1"
    assert epochs["DMS, DNMS, DMC, DNMC"] == "fix1 → stim1 → delay1 → go1"
    ddm = [e for tasks, e in epochs.items() if tasks.startswith("Dly DM")]
    assert ddm == ["fix1 → stim1 → delay1 → stim2 → delay2 → go1"]
    assert (table["rule"] != "").sum() == len(reference.FAMILIES)  # once per family
    core = reference.family_table(yang_tasks.TASK_SETS["core8"])
    assert "RT Go, RT Anti" not in {t for _, t in core.index}


@pytest.fixture(scope="module")
def stats():
    return reference.condition_stats(yang_tasks.TASKS, 200, 0)


def test_condition_stats_values(stats):
    assert len(stats) == 200 * len(yang_tasks.TASKS)
    assert list(stats["task"].unique()) == list(yang_tasks.TASKS)
    durations = stats[list(reference.EPOCHS) + ["T (ms)"]].to_numpy()
    finite = durations[np.isfinite(durations)]
    assert (finite % yang_tasks.DT == 0).all() and (finite > 0).all()
    # the trial is the sum of its epochs
    np.testing.assert_array_equal(np.nansum(stats[list(reference.EPOCHS)], axis=1), stats["T (ms)"])
    fd = stats[stats.task == "fdgo"]
    assert fd["fix1"].between(300, 680).all() and fd["delay1"].isna().all()
    for task, cohs in (
        ("dm1", yang_tasks.DM_COHERENCES),
        ("contextdm2", yang_tasks.DM_COHERENCES),
        ("multidelaydm", yang_tasks.DELAYDM_COHERENCES),
    ):
        got = set(np.round(stats[stats.task == task]["coherence"], 6))
        assert got == set(cohs), task
    assert stats[stats.family == "Go / Anti"]["coherence"].isna().all()
    assert set(stats[stats.task == "dm2"]["rings"]) == {"2"}
    assert set(stats[stats.task == "contextdm1"]["rings"]) == {"1+2"}
    assert set(stats[stats.task == "fdgo"]["rings"]) == {"1", "2"}
    assert set(stats[stats.task == "dmsgo"]["rings"]) == {"1→1", "1→2", "2→1", "2→2"}
    for task in ("dmsgo", "dmcnogo"):
        m = stats[stats.task == task]
        assert 0.35 < m["match"].mean() < 0.65
        go = m["go"].astype(bool)
        np.testing.assert_array_equal(go, m["match"].astype(bool) != task.endswith("nogo"))
        assert m["target (rad)"].isna().to_numpy().tolist() == (~go).tolist()
    t = stats["target (rad)"].dropna()
    assert ((t >= 0) & (t < 2 * np.pi)).all()
    ctx = stats[stats.task == "contextdm1"]["congruent"]
    assert set(ctx.unique()) == {0.0, 1.0}
    sep = stats["separation (rad)"].dropna()
    assert (sep >= 0.5 * np.pi - 1e-9).all() and (sep <= np.pi + 1e-9).all()


def test_condition_stats_is_seeded_and_validated():
    a = reference.condition_stats(["fdgo", "dm1"], 16, 3)
    b = reference.condition_stats(["fdgo", "dm1"], 16, 3)
    assert a.equals(b)
    with pytest.raises(ValueError, match="n_trials"):
        reference.condition_stats(["fdgo"], 0, 0)
    with pytest.raises(ValueError, match="seed"):
        reference.condition_stats(["fdgo"], 4, -1)
    with pytest.raises(ValueError, match="task='nope'"):
        reference.condition_stats(["nope"], 4, 0)


def test_condition_summary(stats):
    s = reference.condition_summary(stats)
    assert len(s) == len(yang_tasks.TASKS)
    assert s.loc["Dly Go", "delay1 (ms)"] == "{200, 400, 800, 1600}"
    assert s.loc["DM 1", "coherence"] == "{0.01, 0.02, 0.04, 0.08}"
    assert s.loc["Go", "go"] == "1.00" and s.loc["Go", "match"] == ""


def test_noise_summary_reports_the_noise():
    text = reference.noise_summary("fdgo", 0, 32)
    assert f"{yang_tasks.INPUT_NOISE:.5f}" in text
    sd = float(text.split("s.d. ")[1].split(";")[0])
    assert abs(sd - yang_tasks.INPUT_NOISE) < 0.01 * yang_tasks.INPUT_NOISE


def test_example_batches_are_noise_free():
    b = reference.example_batches(["fdgo", "dmsgo"], 0, 3)
    assert list(b) == ["fdgo", "dmsgo"] and b["fdgo"].x.shape[1] == 3
    assert set(np.unique(b["fdgo"].x[..., 0])) <= {0.0, 1.0}


# ---------------------------------------------------------------------------------------------
# lib.analysis.anatomy
# ---------------------------------------------------------------------------------------------
def test_budget_table_counts_and_matches():
    df = anatomy.budget_table(ns=(8, 16), ranks=(1, 2))
    assert set(df["mechanism"]) == set(MECHANISMS)
    expect = {
        "none": 0,
        "exc_bias": 1,
        "exc_gain": 1,
        "exc": 2,
        "syn_prepost": 2,
        "syn_lowrank_r1": 2,
        "syn_lowrank_r2": 4,
        "hybrid": 4,
        "hybrid_r2": 6,
        "exc_gain_rec": 1,
        "syn_prepost_in": 2,
    }
    for lab, per_n in expect.items():
        assert df.loc[lab, "N = 8"] == 8 * per_n and df.loc[lab, "N = 16"] == 16 * per_n, lab
    assert df.loc["syn_mask", "N = 16"] == 256
    assert set(df.loc["exc", "matched with"].split(", ")) == {
        "syn_prepost",
        "syn_lowrank_r1",
        "syn_prepost_in",
    }
    assert set(df.loc["exc_gain_rec", "matched with"].split(", ")) == {"exc_bias", "exc_gain"}
    assert df.loc["hybrid", "matched with"] == "syn_lowrank_r2"
    assert df.loc["none", "matched with"] == "" and df.loc["syn_mask", "matched with"] == ""
    with pytest.raises(ValueError, match="ns="):
        anatomy.budget_table(ns=(0,))


def test_init_equivalence_and_rule_input():
    df = anatomy.init_equivalence(8, ("fdgo", "dm1", "dmsgo"), rank=2, seed=1)
    assert list(df.index) == list(MECHANISMS)
    zero = df[["max |y - y_none| (mod_init_std = 0)", "max |r - r_none| (mod_init_std = 0)"]]
    assert (zero.to_numpy() == 0).all()
    default = df["max |r - r_none| (default init)"]
    assert default["none"] == 0
    assert ModulatedRNN("exc", 4, 2).B.abs().max() > 0  # the default init is modulated, so
    assert (default.drop("none") > 0).all()  # every mechanism departs from `none`
    assert anatomy.rule_input_equivalence(8, ("fdgo", "dm1"), seed=2) < 1e-6


def _perturbed(mechanism: str, N: int = 8, K: int = 3, seed: int = 0) -> ModulatedRNN:
    net = ModulatedRNN(mechanism, N, K, rank=2, seed=seed)
    gen = torch.Generator().manual_seed(seed + 10)
    with torch.no_grad():
        for p in net.modulation_parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen))
    return net


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_mixture_path(mechanism):
    net = _perturbed(mechanism)
    ls = np.linspace(0, 1, 5)
    df = anatomy.mixture_path(net, 0, 2, ls)
    assert len(df) == len(ls) * len(anatomy.QUANTITIES)
    for q in anatomy.QUANTITIES:
        d = df[df.quantity == q]
        # the controls in effective()'s form: exc_gain_rec moves its gain into W's rows;
        # syn_prepost_in shows a(s) as a gain with beta = (1 - a) b (b is 0 here)
        modulated = {
            "gain": mechanism in ("exc_gain", "exc", "hybrid", "syn_prepost_in"),
            "bias": mechanism in ("exc_bias", "exc", "hybrid")
            or (mechanism == "syn_prepost_in" and bool(net.b.any())),
            "W": mechanism.startswith("syn") or mechanism in ("hybrid", "exc_gain_rec"),
        }[q]
        if not modulated:
            assert d["relative"].isna().all() and (d["distance"] == 0).all()
            continue
        assert d["relative"].iloc[0] == 0 and d["relative"].iloc[-1] == pytest.approx(1)
        curved = (q == "gain" and mechanism != "syn_prepost_in") or (
            q == "W" and mechanism in ("syn_prepost", "exc_gain_rec")
        )
        if curved:
            assert d["off_chord"].iloc[2] > 1e-3
        else:
            assert d["off_chord"].max() < 1e-5
    if mechanism == "syn_prepost":  # bilinear: deviation l (1 - l) |diag(dA) W diag(dB)| / span
        with torch.no_grad():
            dev = torch.linalg.norm(
                (net.A[2] - net.A[0])[:, None] * net.W_rec * (net.Bp[2] - net.Bp[0])
            )
        d = df[df.quantity == "W"]
        np.testing.assert_allclose(
            d["off_chord"] * d["span"], ls * (1 - ls) * float(dev), rtol=1e-4, atol=1e-6
        )


@pytest.mark.parametrize("mechanism", ["exc", "syn_mask", "syn_prepost", "hybrid"])
def test_mixture_outputs_match_single_runs(mechanism):
    net = _perturbed(mechanism)
    b = yang_tasks.make_batch("fdgo", 2, 0, noise=False)
    ls = [0.0, 0.3, 1.0]
    d = anatomy.mixture_outputs(net, b, 0, 1, ls, trial=1, task_j="fdanti")
    assert d["y"].shape == (3, b.x.shape[0], 33)
    e = torch.eye(3)
    for k, l in enumerate(ls):
        y, _ = net(torch.from_numpy(b.x[:, 1:2]), ((1 - l) * e[0] + l * e[1])[None], noise=False)
        # one float32 forward batched against one single run: reduction order only (~1e-7)
        np.testing.assert_allclose(d["y"][k], y[:, 0].detach().numpy(), atol=1e-5)
    assert d["target"] == pytest.approx(float(b.y_loc[-1, 1]))
    assert d["target_j"] == pytest.approx((d["target"] + np.pi) % (2 * np.pi))
    assert anatomy.mixture_outputs(net, b, 0, 1, ls, task_j="dm1")["target_j"] is None
    with pytest.raises(ValueError, match="out of range"):
        anatomy.mixture_outputs(net, b, 0, 3, ls)


@pytest.mark.parametrize("mechanism", ["exc_gain", "syn_lowrank", "syn_prepost", "hybrid"])
def test_time_varying(mechanism):
    net = _perturbed(mechanism)
    b = yang_tasks.make_batch("delaygo", 1, 0, noise=False)
    ts = b.x.shape[0] // 2
    r = anatomy.time_varying(net, b, 0, 1, ts)
    assert r["max_diff_constant"] < 1e-5 and r["max_diff_before"] < 1e-5
    assert np.abs(r["y_switch"][ts:] - r["y_i"][ts:]).max() > 1e-4  # the switch matters
    assert r["angle_switch"].shape == (b.x.shape[0],)
    with pytest.raises(ValueError, match="t_switch"):
        anatomy.time_varying(net, b, 0, 1, 0)
