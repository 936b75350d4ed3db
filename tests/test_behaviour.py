"""Golden behaviour fingerprints: artifacts are keyed on behaviour versions, and these tests make
a change of behaviour impossible to miss.

``tests/goldens/behaviour.json`` stores, under the versions of :data:`lib.core.behaviour.BEHAVIOUR`
it was made with:

- ``network``: a digest of one batch of every task (standard and easy coherences), the task
  sequence of a training run (own and shared schedule), and for every mechanism a few training
  steps at tiny N (losses, performance, a sum and a norm of every parameter tensor);
- ``ambiguity``: one probe result of a tiny trained network;
- ``dynamics``: E4's analyses of a tiny trained network;
- ``lesions``: E1's lesion map and the hybrid's pathway ablations of a tiny trained network;
- ``clustering``: E4's task-variance clustering of a tiny trained network;
- ``timescales``: E5's sequence probes of a tiny trained network, and the sum of its outputs on
  every trial of a blocked sequence under every assignment (its performance is too coarse to
  show a change of the filters).

If the code computes something else, the test fails with what to do. Regenerate with
``REGENERATE_GOLDENS=1 .venv/bin/python -m pytest tests/test_behaviour.py`` (after bumping the
version). Floats are compared with rtol 1e-5 / atol 1e-6 (float32 arithmetic; exact equality
would tie the goldens to one BLAS build), digests of rendered trials (NumPy float64 -> float32,
no BLAS) exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.core import behaviour
from lib.core import tasks as yang_tasks
from lib.core.model import MECHANISMS
from lib.core.train import History, TrainConfig, train, training_batch
from lib.experiments.ambiguity import ProbeSpec, probe_network
from lib.experiments.dynamics import DynamicsSpec, analyse_network
from lib.experiments import timescales
from lib.experiments.clustering import ClusteringSpec
from lib.experiments.clustering import analyse_network as cluster_network
from lib.experiments.lesions import LesionSpec
from lib.experiments.lesions import analyse_network as lesion_network
from helpers import tiny_config
from tolerances import GOLDEN as GOLDEN_TOLERANCE

GOLDEN = Path(__file__).resolve().parent / "goldens" / "behaviour.json"
REGENERATE = os.environ.get("REGENERATE_GOLDENS") == "1"
RTOL, ATOL = GOLDEN_TOLERANCE["rtol"], GOLDEN_TOLERANCE["atol"]  # justified in tests/tolerances.py
TINY_TASKS = ("fdgo", "fdanti", "contextdm1")
HOW_TO = (
    "behaviour changed: bump the version in lib/core/behaviour.py, regenerate the goldens "
    "(REGENERATE_GOLDENS=1 .venv/bin/python -m pytest tests/test_behaviour.py), then rebuild "
    "the artifacts (`make artifacts`)"
)


def tiny(mechanism: str, **changes) -> TrainConfig:
    """The goldens' run: helpers.tiny_config on three tasks, rank 2, seed 1, 6 steps."""
    return tiny_config(
        mechanism, TINY_TASKS, **({"rank": 2, "seed": 1, "max_steps": 6, "eval_every": 3} | changes)
    )


def digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def network_fingerprint() -> dict:
    torch.set_num_threads(1)
    batches = {}
    for task in yang_tasks.TASKS:
        for easy in (False, True):
            if easy and task not in yang_tasks.EASY_TASKS:
                continue
            b = yang_tasks.make_batch(task, 8, 3, noise=True, easy=easy)
            batches[f"{task}{'/easy' if easy else ''}"] = digest(b.x, b.y, b.c_mask, b.y_loc)
    sched = {}
    for name, cfg in {
        "own": tiny("exc"),
        "shared": tiny("exc", schedule_seed=7),
        "error": tiny("exc", sampling="error"),
        "easy": tiny("exc", easy_steps=3),
    }.items():
        hist = History(cfg.tasks, perf=[[0.2, 0.9, 0.5]], steps=[0])
        draws = [training_batch(cfg, s, hist) for s in range(12)]
        sched[name] = {
            "tasks": [int(k) for k, *_ in draws],
            "digest": digest(*[x.numpy() for _, x, _, _ in draws]),
        }
    runs = {}
    for mech in MECHANISMS:
        res = train(tiny(mech), progress=False)
        runs[mech] = {
            "loss": res.history.loss[1:],
            "perf": res.history.perf,
            "params": {
                n: [float(p.detach().sum()), float(p.detach().norm())]
                for n, p in res.model.named_parameters()
            },
        }
    res = train(tiny("hybrid", grad_clip=None, sampling="uniform", lr=3e-3), progress=False)
    runs["hybrid/no_clip/uniform"] = {"loss": res.history.loss[1:], "perf": res.history.perf}
    return {"batches": batches, "schedules": sched, "runs": runs}


def ambiguity_fingerprint() -> dict:
    torch.set_num_threads(1)
    res = train(tiny("hybrid", max_steps=3), progress=False)
    spec = ProbeSpec(
        lambdas=(0.0, 0.5, 1.0),
        noise_levels=(0.0, 1.0),
        dilutions=(0.0, 1.0),
        scales=(0.0, 1.0, 2.0),
    )
    out = probe_network(res, spec)
    return {k: np.asarray(v).tolist() for k, v in out.items() if k not in ("spec",)}


def dynamics_fingerprint() -> dict:
    """E4's analyses of a tiny trained network (its one conflict pair, Go/Anti, 3 mixture
    weights): the numbers the chapter reads, floats only (the continuation's point count and
    stability, not its track labels, which are bookkeeping)."""
    torch.set_num_threads(1)
    res = train(tiny("hybrid", max_steps=3), progress=False)
    out = analyse_network(res, DynamicsSpec(lambdas=(0.0, 0.5, 1.0), n_starts=4, n_show=2))
    p = out["pairs"]["fdgo", "fdanti"]
    table = p["continuation"]["table"]
    return {
        "pr": out["pr"].tolist(),
        "tv": out["task_variance"].sum(1).tolist(),
        "clusters": int(out["clusters"]["k"]),
        "flow": p["flow"],
        "displacement": p["displacement"],
        "angles": p["angles"].tolist(),
        "e_change": p["e_change"],
        "op_track": p["op_track"].tolist(),
        "spectrum_radius": float(np.abs(p["spectrum_i"]).max()),
        "stable_per_l": table.groupby("l")["stable"].sum().astype(int).tolist(),
        "radius": table["radius"].tolist(),
    }


def timescales_fingerprint() -> dict:
    """E5's sequences on a tiny trained network: the schedules, each trial's performance per
    assignment, and each trial's summed outputs under every assignment on a blocked sequence
    (fast and slow filters, conditions and noise streams)."""
    torch.set_num_threads(1)
    res = train(tiny("hybrid", max_steps=3), progress=False)
    spec = timescales.TimescalesSpec(
        tau_fast=60.0, tau_slow=2.0, block=2, n_blocks=3, n_interleaved=4, draws=4, error_after=3
    )
    out = timescales.probe_network(res, spec)
    fp = {
        "interleaved": out["interleaved"]["task"].tolist(),
        "perf": {
            s: {a: np.asarray(v).tolist() for a, v in out[s]["perf"].items()}
            for s in ("blocked", "interleaved", "error")
        },
        "reference": {s: out[s]["reference"].tolist() for s in ("blocked", "interleaved", "error")},
    }
    seq = timescales.blocked_schedule(0, 1, 2, 3)
    runs = {a: (modes, seq) for a, modes in timescales.ASSIGNMENTS.items()}
    sums = timescales.run_sequence(
        res.model,
        timescales.sequence_trials(res.config, seq, "blocked", 0, 4),
        runs,
        timescales.sequence_noise(res.config, "blocked", 0, len(seq)),
        spec,
        score=lambda y_hat, _: float(y_hat.double().sum()),
    )
    fp["output_sums"] = {a: v.tolist() for a, v in sums.items()}
    return fp


def lesions_fingerprint() -> dict:
    """E1's lesion map and the hybrid's pathway ablations on a tiny trained network: every
    number the chapter reads (targeted, intact and random-control performance, each ablation).
    The modulation weights are drawn at random (seeded) so that removing a pathway matters."""
    torch.set_num_threads(1)
    res = train(tiny("hybrid", max_steps=3, eval_trials=32), progress=False)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in res.model.modulation_parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    out = lesion_network(res, LesionSpec(fraction=0.25, n_random=2))
    return {
        "targeted": out["targeted"].tolist(),
        "intact": out["intact"].tolist(),
        "random": out["random"].tolist(),
        "ablation": {k: v.tolist() for k, v in out["ablation"].items()},
    }


def clustering_fingerprint() -> dict:
    """E4's task-variance clustering of a tiny trained network: the task variance, the active
    units, k, the silhouettes and the ordered labels."""
    torch.set_num_threads(1)
    res = train(tiny("hybrid", max_steps=3), progress=False)
    out = cluster_network(res, ClusteringSpec(max_k=5, n_init=4))
    return {
        "tv": out["task_variance"].tolist(),
        "active": out["active"].tolist(),
        "k": int(out["k"]),
        "silhouettes": {str(k): v for k, v in out["silhouettes"].items()},
        "labels": out["labels"].tolist(),
    }


FINGERPRINTS = {
    "network": network_fingerprint,
    "ambiguity": ambiguity_fingerprint,
    "dynamics": dynamics_fingerprint,
    "timescales": timescales_fingerprint,
    "lesions": lesions_fingerprint,
    "clustering": clustering_fingerprint,
}


def _stored() -> dict:
    if REGENERATE:
        data = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        for name, fn in FINGERPRINTS.items():
            data[name] = {"version": behaviour.BEHAVIOUR[name], "fingerprint": fn()}
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True))
    assert GOLDEN.exists(), f"{GOLDEN} is missing: {HOW_TO}"
    return json.loads(GOLDEN.read_text())


def compare(a, b, path: str = "") -> list[str]:
    """Differences between two JSON-like trees (floats within RTOL/ATOL, the rest exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))} differ"]
        return [d for k in a for d in compare(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in compare(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        x, y = float(a), float(b)
        if np.isnan(x) and np.isnan(y):
            return []
        return [] if abs(x - y) <= ATOL + RTOL * abs(y) else [f"{path}: {x!r} != {y!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.mark.slow  # trains a tiny network of every mechanism and analyses it
@pytest.mark.parametrize("name", list(FINGERPRINTS))
def test_behaviour_matches_its_version(name):
    stored = _stored()[name]
    assert stored["version"] == behaviour.BEHAVIOUR[name], (
        f"goldens are for {name} version {stored['version']}, the code says "
        f"{behaviour.BEHAVIOUR[name]}: regenerate the goldens "
        "(REGENERATE_GOLDENS=1 .venv/bin/python -m pytest tests/test_behaviour.py)"
    )
    now = json.loads(json.dumps(FINGERPRINTS[name]()))
    diffs = compare(now, stored["fingerprint"])
    assert not diffs, f"{HOW_TO}. {len(diffs)} difference(s), first: {diffs[:5]}"


def test_compare_detects_a_change():
    """The comparison itself can fail: a perturbed fingerprint differs."""
    a = {"loss": [0.5, 0.25], "digest": "ab"}
    assert compare(a, a) == []
    assert compare({"loss": [0.5, 0.2501], "digest": "ab"}, a)
    assert compare({"loss": [0.5, 0.25], "digest": "ac"}, a)
    assert compare({"loss": [0.5]}, {"loss": [0.5, 0.25]})


def test_golden_tolerance_fails_a_planted_change_of_training():
    """RTOL/ATOL absorb rounding, not a change of behaviour: a learning rate changed by one part
    in a thousand moves a tiny run's losses and parameter sums beyond them."""
    torch.set_num_threads(1)

    def fingerprint(cfg: TrainConfig) -> dict:
        res = train(cfg, progress=False)
        return {
            "loss": res.history.loss[1:],
            "params": {
                n: [float(p.detach().sum()), float(p.detach().norm())]
                for n, p in res.model.named_parameters()
            },
        }

    base = fingerprint(tiny("hybrid"))
    assert compare(fingerprint(tiny("hybrid")), base) == []
    assert compare(fingerprint(tiny("hybrid", lr=tiny("hybrid").lr * 1.001)), base)
