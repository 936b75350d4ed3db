"""lib.core.tasks: API, shapes, determinism, noise, validation, the generic renderer, no per-trial
cost."""

import time

import numpy as np
import pytest
import torch

from lib.core import tasks as yang_tasks


@pytest.mark.parametrize("task", yang_tasks.TASKS)
def test_shapes_dtypes_and_epochs(task):
    b = yang_tasks.make_batch(task, 8, 0)
    Tn = b.conditions.tdim
    assert b.task == task and b.conditions.task == task and b.conditions.batch_size == 8
    assert b.x.shape == (Tn, 8, yang_tasks.N_INPUT) and b.y.shape == (Tn, 8, yang_tasks.N_OUTPUT)
    assert b.y_loc.shape == (Tn, 8) and b.c_mask.shape == (Tn, 8, yang_tasks.N_OUTPUT)
    for a in (b.x, b.y, b.y_loc, b.c_mask):
        assert a.dtype == np.float32 and a.flags.c_contiguous
    # Yang's epochs tile the trial in order: (None, t1), (t1, t2), ..., (tk, None)
    bounds = list(b.epochs.values())
    assert bounds[0][0] is None and bounds[-1][1] is None
    assert all(prev[1] == nxt[0] for prev, nxt in zip(bounds, bounds[1:]))
    assert b.epochs["go1"][0] < Tn
    # the target asks for fixation before the go cue
    go = b.epochs["go1"][0]
    assert (b.y_loc[:go] < 0).all() and (b.y[:go, :, 0] == np.float32(0.8)).all()
    x, y, c_mask = b.to_torch()
    assert all(t.dtype == torch.float32 for t in (x, y, c_mask))
    assert x.shape == b.x.shape and torch.equal(c_mask, torch.from_numpy(b.c_mask))


def test_constants_and_task_sets():
    assert len(yang_tasks.TASKS) == 20 and len(set(yang_tasks.TASKS)) == 20
    assert yang_tasks.TASK_SETS["all"] == yang_tasks.TASKS
    assert (
        set(yang_tasks.TASK_SETS["core8"]) <= set(yang_tasks.TASKS)
        and len(yang_tasks.TASK_SETS["core8"]) == 8
    )
    assert set(yang_tasks.DISPLAY_NAMES) == set(yang_tasks.TASKS)
    assert (
        yang_tasks.N_RING,
        yang_tasks.N_INPUT,
        yang_tasks.N_OUTPUT,
        yang_tasks.DT,
        yang_tasks.ALPHA,
    ) == (32, 65, 33, 20, 0.2)
    assert yang_tasks.INPUT_NOISE == pytest.approx(0.01 * np.sqrt(10))


@pytest.mark.parametrize("task", ["fdgo", "contextdelaydm1", "dmsnogo"])
def test_determinism(task):
    a, b = yang_tasks.make_batch(task, 16, 7), yang_tasks.make_batch(task, 16, 7)
    for name in ("x", "y", "y_loc", "c_mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = yang_tasks.make_batch(task, 16, 8)
    assert a.x.shape != c.x.shape or not np.array_equal(a.x, c.x)
    # a Generator is advanced: two draws from one generator differ, and replay from the same state
    rng = np.random.default_rng(3)
    first, second = yang_tasks.make_batch(task, 16, rng), yang_tasks.make_batch(task, 16, rng)
    assert first.x.shape != second.x.shape or not np.array_equal(first.x, second.x)
    np.testing.assert_array_equal(
        yang_tasks.make_batch(task, 16, np.random.default_rng(3)).x, first.x
    )


def test_noise_statistics():
    clean = yang_tasks.make_batch("delaygo", 256, 11, noise=False)
    noisy = yang_tasks.make_batch("delaygo", 256, 11, noise=True)
    d = (noisy.x - clean.x).astype(np.float64)
    assert d.std() == pytest.approx(yang_tasks.INPUT_NOISE, rel=0.02)
    assert abs(d.mean()) < 3 * yang_tasks.INPUT_NOISE / np.sqrt(d.size) + 1e-6
    assert d[..., 0].std() == pytest.approx(
        yang_tasks.INPUT_NOISE, rel=0.05
    )  # every channel is noisy
    np.testing.assert_array_equal(noisy.y, clean.y)
    np.testing.assert_array_equal(noisy.c_mask, clean.c_mask)
    with pytest.raises(ValueError, match="rng"):
        yang_tasks.render(clean.conditions, noise=True)


@pytest.mark.parametrize("bad", ["go", "FDGO", 3, None])
def test_unknown_task(bad):
    with pytest.raises(ValueError, match="allowed: fdgo, reactgo"):
        yang_tasks.make_batch(bad, 4, 0)
    with pytest.raises(ValueError, match="task"):
        yang_tasks.sample_conditions(bad, 4, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "8", None])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        yang_tasks.make_batch("fdgo", bad, 0)


@pytest.mark.parametrize("bad", ["0", 1.5, -1, None, True, np.random.RandomState(0)])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        yang_tasks.make_batch("fdgo", 4, bad)


def test_bad_conditions():
    with pytest.raises(ValueError, match="Conditions"):
        yang_tasks.render({"tdim": 3})
    ok = yang_tasks.sample_conditions("fdgo", 3, np.random.default_rng(0))
    stim = next(e for e in ok.events if e.kind == "stim")
    with pytest.raises(ValueError, match="mods"):
        yang_tasks.render(
            yang_tasks.Conditions(
                "fdgo",
                ok.tdim,
                (
                    yang_tasks.Event(
                        "stim", stim.ons, stim.offs, stim.strengths, stim.locs, np.array([1, 2, 3])
                    ),
                ),
                ok.pre_offs,
                ok.post_ons,
            )
        )
    with pytest.raises(ValueError, match="negative"):
        yang_tasks.render(
            yang_tasks.Conditions(
                "fdgo",
                ok.tdim,
                (yang_tasks.Event("fix_in", np.array([0, -1, 0]), stim.offs, stim.strengths),),
                ok.pre_offs,
                ok.post_ons,
            )
        )
    with pytest.raises(ValueError, match="shape"):
        yang_tasks.Conditions(
            "fdgo",
            ok.tdim,
            (yang_tasks.Event("fix_in", np.zeros(2, int), np.zeros(2, int), np.ones(2)),),
            ok.pre_offs,
            ok.post_ons,
        )
    with pytest.raises(ValueError, match="kind"):
        yang_tasks.Conditions(
            "fdgo",
            ok.tdim,
            (yang_tasks.Event("fix", stim.ons, stim.offs, stim.strengths),),
            ok.pre_offs,
            ok.post_ons,
        )
    with pytest.raises(ValueError, match="no .batch_size. field"):
        yang_tasks.conditions_from_yang({"rule": "fdgo"})
    with pytest.raises(ValueError, match="allowed"):
        yang_tasks.conditions_from_yang(
            {
                "rule": "go",
                "batch_size": 1,
                "tdim": 5,
                "events": [],
                "c_mask_args": {},
                "epochs": {},
            }
        )


# ---------------------------------------------------------------------------------------------
# The generic renderer (per-trial windows and rings) against a per-trial loop with Yang's slices
# ---------------------------------------------------------------------------------------------
def _yang_loop_render(c: yang_tasks.Conditions):
    """Yang's Trial.add / add_c_mask, literally: a Python loop over trials with slices."""
    Tn, B = c.tdim, c.batch_size
    x = np.zeros((Tn, B, yang_tasks.N_INPUT), np.float32)
    y = np.full((Tn, B, yang_tasks.N_OUTPUT), 0.05, np.float32)
    y_loc = -np.ones((Tn, B), np.float32)
    for e in c.events:
        for i in range(B):
            sl = slice(e.ons[i], e.offs[i])
            if e.kind == "fix_in":
                x[sl, i, 0] = 1
            elif e.kind == "stim":
                m = e.mods[i]
                bump = yang_tasks.ring_bump(e.locs[i : i + 1])[0] * e.strengths[i]
                x[sl, i, 1 + (m - 1) * 32 : 1 + m * 32] += bump
            elif e.kind == "fix_out":
                y[sl, i, 0] = 0.8
            else:
                y[sl, i, 1:] += yang_tasks.ring_bump(e.locs[i : i + 1])[0] * e.strengths[i]
                y_loc[sl, i] = e.locs[i]
    c_mask = np.zeros((Tn, B, yang_tasks.N_OUTPUT), np.float32)
    for i in range(B):
        c_mask[c.post_ons[i] :, i, :] = 5.0
        c_mask[5 : c.pre_offs[i], i, :] = 1.0
    c_mask[:, :, 0] *= 2.0
    return x, y, y_loc, c_mask


def _random_conditions(rng, B=12, Tn=30) -> yang_tasks.Conditions:
    """Events with per-trial windows (empty, reversed, past the end), rings and strengths."""

    def steps(hi):
        return rng.integers(0, hi, B)

    events = []
    for kind in ("fix_in", "stim", "stim", "fix_out", "out", "stim", "fix_in", "out"):
        locs = rng.uniform(0, 2 * np.pi, B) if kind in ("stim", "out") else None
        mods = rng.integers(1, 3, B) if kind == "stim" else None
        strengths = rng.uniform(0.5, 1.5, B)
        events.append(yang_tasks.Event(kind, steps(Tn), steps(Tn + 10), strengths, locs, mods))
    return yang_tasks.Conditions("fdgo", Tn, tuple(events), steps(Tn + 5), steps(Tn + 5))


@pytest.mark.parametrize("seed", range(5))
def test_generic_render_equals_yang_loop(seed):
    c = _random_conditions(np.random.default_rng(seed))
    b = yang_tasks.render(c)
    for got, want in zip((b.x, b.y, b.y_loc, b.c_mask), _yang_loop_render(c)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("task", yang_tasks.TASKS)
def test_sampled_render_equals_yang_loop(task):
    c = yang_tasks.sample_conditions(task, 6, np.random.default_rng(5))
    b = yang_tasks.render(c)
    for got, want in zip((b.x, b.y, b.y_loc, b.c_mask), _yang_loop_render(c)):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------------
# No per-trial Python cost
# ---------------------------------------------------------------------------------------------
def _best_time(f, n=15):
    best = np.inf
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("task", ["contextdelaydm1", "dmsgo"])
def test_no_per_trial_python_loop(task):
    """64x more trials must cost far less than 64x the time.

    Sampling: B = 4096 vs 4 (a per-trial loop would be ~1000x; vectorised ~1-3x).
    Sample + render: B = 256 vs 4. Rendering is memory-bound (its output grows 64x), so a
    vectorised renderer costs ~5-8x here, while a per-trial loop (~10 us per trial and event) is
    ~30x or more. Ratios of best-of-n timings, no absolute thresholds.
    """
    rng = np.random.default_rng(0)
    sample = {B: _best_time(lambda: yang_tasks.sample_conditions(task, B, rng)) for B in (4, 4096)}
    assert sample[4096] / sample[4] < 25, sample
    make = {
        B: _best_time(lambda: yang_tasks.make_batch(task, B, rng, noise=False)) for B in (4, 256)
    }
    assert make[256] / make[4] < 20, make


def test_registry_names_every_task_in_order():
    """SAMPLERS (the explicit registry) and TASKS (the order of Yang's rules_dict) agree, and
    easy_task changes exactly the DM tasks Yang's flag changes."""
    assert tuple(yang_tasks.SAMPLERS) == yang_tasks.TASKS
    assert set(yang_tasks.EASY_SAMPLERS) == set(yang_tasks.EASY_TASKS) <= set(yang_tasks.TASKS)
    for task in yang_tasks.TASKS:
        std = yang_tasks.make_batch(task, 8, 5, noise=False)
        easy = yang_tasks.make_batch(task, 8, 5, noise=False, easy=True)
        assert np.array_equal(std.x, easy.x) == (task not in yang_tasks.EASY_TASKS), task
