"""E1's lesions and pathway ablations, computed once per trained network and cached as a
``lesions`` artifact (:class:`lib.experiments.runner.NetworkResult`).

For every network, on its fixed evaluation trials (network noise on, as in Yang's evaluation):

* the **lesion map**: for each task k, silence the ``round(fraction * N)`` units with the largest
  task variance on task k (Yang's measure, :func:`lib.core.statespace.task_variance`) and measure
  every task: ``targeted`` (K lesion sets, K tasks); the intact performance (K,); and a random
  control, the mean over ``n_random`` lesions of as many units drawn at random (K,);
* for a hybrid, the **pathway ablations**: per-task performance (K,) with one pathway removed at
  test time, its context set to 0 ("zero") or to the uninformative 1/K on every task ("mean"),
  the other pathway keeping the true one-hot context.

The noise streams are those of :mod:`lib.core.seeds` (``STREAM_ABLATION`` for the ablations,
``STREAM_EVAL`` through :func:`lib.core.train.evaluate` for the lesions, ``STREAM_LESION`` for the
random units), so the numbers do not depend on which process or in which order they are made.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from lib.core.checks import fail
from lib.core.metrics import mean_perf
from lib.core.model import ModulatedRNN
from lib.core.seeds import STREAM_ABLATION, STREAM_LESION, one_hot, step_seed, torch_generator
from lib.core.statespace import task_variance
from lib.core.train import TrainConfig, TrainResult, evaluate, evaluation_batches
from lib.experiments import plan
from lib.experiments.runner import NetworkResult

LESION_FRACTION = 0.1
"""Fraction of the N units silenced per lesion (the chapter's 10%)."""
RANDOM_LESIONS = 3
"""Random lesion sets per network in the control of :func:`lesion_map`."""
PATHWAYS = ("exc", "syn")
"""The hybrid's two pathways, as :func:`pathway_ablation` names them."""
ABLATION_MODES = ("zero", "mean")
"""How a removed pathway's context is replaced: 0, or the uninformative 1/K."""


@dataclass(frozen=True)
class LesionSpec:
    """What :func:`analyse_network` computes: the fraction of units per lesion and the number of
    random control lesions."""

    fraction: float = LESION_FRACTION
    n_random: int = RANDOM_LESIONS

    def __post_init__(self):
        if not 0 < self.fraction <= 1:
            fail("fraction", self.fraction, "a fraction of the units in (0, 1]")
        if not isinstance(self.n_random, int) or self.n_random < 1:
            fail("n_random", self.n_random, "a whole number of random lesions >= 1")


@torch.no_grad()
def pathway_ablation(result: TrainResult, pathway: str, mode: str) -> np.ndarray:
    """Per-task performance (K,) of a hybrid with one pathway removed at test time.

    ``pathway`` in {"exc", "syn"}; ``mode`` "zero" gives that pathway the context 0 (no
    modulation), "mean" the uninformative context 1/K on every task (for pathways linear in c
    this is the modulation averaged over tasks). The other pathway keeps the true one-hot
    context.
    """
    if pathway not in PATHWAYS or mode not in ABLATION_MODES:
        raise ValueError(f"pathway/mode: got {pathway!r}/{mode!r}; allowed: exc|syn, zero|mean")
    cfg = result.config
    K = len(cfg.tasks)
    perf = np.empty(K)
    for k, (x, _, _, y_loc) in enumerate(evaluation_batches(cfg)):
        B = x.shape[1]
        true = one_hot(k, K, B)
        removed = torch.zeros(B, K) if mode == "zero" else torch.full((B, K), 1.0 / K)
        c, c_syn = (removed, true) if pathway == "exc" else (true, removed)
        gen = torch_generator(step_seed(cfg.seed, STREAM_ABLATION, k), x.device)
        y_hat, _ = result.model(x, c, syn_context=c_syn, noise=True, generator=gen)
        perf[k] = mean_perf(y_hat, y_loc)
    return perf


def lesioned(model: ModulatedRNN, units: np.ndarray) -> ModulatedRNN:
    """A copy of ``model`` whose ``units`` are silenced (their rates reach neither the network
    nor the readout)."""
    m = copy.deepcopy(model)
    m.silence(torch.as_tensor(np.ascontiguousarray(units), dtype=torch.long))
    return m


@torch.no_grad()
def lesion_map(
    result: TrainResult, fraction: float = LESION_FRACTION, n_random: int = RANDOM_LESIONS
) -> dict[str, np.ndarray]:
    """Performance after lesioning each task's most task-variant units, with a random control.

    Returns ``targeted`` (K lesion sets, K tasks): row k silences the ``fraction * N`` units with
    the largest task variance on task k; ``intact`` (K,); ``random`` (K,): the mean over
    ``n_random`` lesions of as many units drawn at random (seeded by the network's seed), the
    drop any lesion of that size causes.
    """
    cfg = result.config
    batches = evaluation_batches(cfg)
    tv = task_variance(result.model, batches)
    n = max(1, int(round(fraction * cfg.n_rec)))

    def perf_of(model: ModulatedRNN) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):  # see lib.core.metrics.mean_perf
            return evaluate(model, cfg, batches)

    targeted = [
        perf_of(lesioned(result.model, np.argsort(tv[k])[::-1][:n])) for k in range(len(cfg.tasks))
    ]
    rng = np.random.default_rng(step_seed(cfg.seed, STREAM_LESION, 0))
    random = [
        perf_of(lesioned(result.model, rng.choice(cfg.n_rec, n, replace=False)))
        for _ in range(n_random)
    ]
    return {
        "targeted": np.array(targeted),
        "intact": perf_of(result.model),
        "random": np.mean(random, axis=0),
    }


def analyse_network(result: TrainResult, spec: LesionSpec) -> dict:
    """The lesion map of one network (:func:`lesion_map`: ``targeted`` (K, K), ``intact`` (K,),
    ``random`` (K,)) and, for a hybrid, ``ablation``: {"exc removed (zero)": (K,), ...} for
    every pathway and mode (:func:`pathway_ablation`; empty for other mechanisms). ``tasks``
    indexes the K axes as in ``result.config.tasks``."""
    out = {
        "tasks": list(result.config.tasks),
        "mechanism": result.config.mechanism,
        **lesion_map(result, spec.fraction, spec.n_random),
        "ablation": {},
    }
    if result.config.mechanism == "hybrid":
        out["ablation"] = {
            ablation_label(pw, mode): pathway_ablation(result, pw, mode)
            for pw in PATHWAYS
            for mode in ABLATION_MODES
        }
    return out


def ablation_label(pathway: str, mode: str) -> str:
    """The name of one pathway ablation, as the chapters show it: "exc removed (zero)"."""
    return f"{pathway} removed ({mode})"


LESIONS = NetworkResult("lesions", "lesions", f"{__name__}.analyse_network")
"""E1's lesions and ablations as per-network artifacts."""
lesions_key = LESIONS.key
lesions_artifact = LESIONS.artifact


def lesions_seconds(net_config: TrainConfig, spec: LesionSpec) -> float:
    """Estimated single-core seconds of :func:`analyse_network` on a network of
    ``net_config``: one evaluation per lesion set (K targeted, ``n_random`` random), the intact
    one and the task variance, and 4 for a hybrid's ablations, plus building the trials twice."""
    c = plan.measure_cost(net_config)
    n_evals = len(net_config.tasks) + spec.n_random + 2
    n_evals += len(PATHWAYS) * len(ABLATION_MODES) * (net_config.mechanism == "hybrid")
    return n_evals * c.eval_s + 2 * c.setup_s


def lesions_part(
    nets: dict,
    spec: LesionSpec,
    workers: int,
    force: bool = False,
    todo: list | None = None,
    label: str = "E1 lesions and ablations",
) -> plan.Part:
    """The plan part of the lesions of ``nets`` {key: TrainResult or TrainConfig}."""
    return LESIONS.part(
        nets,
        spec,
        lesions_seconds,
        f"{spec.fraction:.0%} of the units per lesion, {spec.n_random} random controls",
        label,
        workers,
        force,
        todo,
    )


def run_lesions(
    nets: dict,
    spec: LesionSpec = LesionSpec(),
    workers: int = 1,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
) -> dict:
    """The lesions (and a hybrid's ablations) of the given networks {(label, seed): TrainResult}:
    {(label, seed): :func:`analyse_network`'s dict}, cached as artifacts. When anything must be
    computed its plan is printed first; a plan longer than :data:`lib.experiments.plan.LONG_RUN_S`
    stops before any work unless ``allow_long``."""
    return LESIONS.run(
        nets,
        spec,
        lambda todo: lesions_part(nets, spec, workers, todo=todo),
        workers,
        force,
        progress,
        allow_long,
        desc="lesioning networks",
    )


__all__ = [
    "LESION_FRACTION",
    "RANDOM_LESIONS",
    "PATHWAYS",
    "ABLATION_MODES",
    "LesionSpec",
    "pathway_ablation",
    "lesioned",
    "lesion_map",
    "analyse_network",
    "ablation_label",
    "lesions_key",
    "lesions_artifact",
    "lesions_seconds",
    "lesions_part",
    "run_lesions",
]
