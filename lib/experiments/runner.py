"""Running many jobs: trained networks as artifacts, and a process pool written once.

:func:`run_jobs` runs independent jobs (each makes one artifact) in ``workers`` spawned processes
with one torch thread each (two pinned one-thread processes beat one two-thread process on a
2-core CPU; docs/performance.md), with a progress bar over jobs. A failing job is reported with
its config and does not stop or lose the others; the failures are raised together at the end.

:func:`load_or_train` is the one way a chapter gets a trained network: the verified artifact if
it exists, else training (checkpointed next to the artifact, so an interrupted run resumes).

:func:`run_configs` prints its plan (:mod:`lib.experiments.plan`) before training anything, and
stops with :class:`~lib.experiments.plan.PlanTooLong` if the estimate exceeds the long-run limit
and ``allow_long`` is False.
"""

from __future__ import annotations

import importlib
import traceback
import warnings
from dataclasses import asdict, dataclass
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Hashable

import torch
from tqdm.auto import tqdm

from lib import artifacts
from lib.core.ensemble import train_ensemble
from lib.core.train import (
    History,
    TrainConfig,
    TrainResult,
    default_device,
    load_model,
    same_run_at_budget,
    train,
)
from lib.experiments import plan
from lib.experiments.plan import PlanTooLong


class JobsFailed(RuntimeError):
    """Some jobs of a batch failed; ``failures`` maps each job's key to its error text.

    ``configs`` (optional) maps the same keys to the failed jobs' configs, shown in the message
    under each failure."""

    def __init__(self, failures: dict[Hashable, str], configs: dict[Hashable, Any] | None = None):
        self.failures = failures
        self.configs = configs or {}
        lines = [f"{len(failures)} job(s) failed (the others finished and were saved):"]
        for key, err in failures.items():
            lines.append(f"- {key}: {err.strip().splitlines()[-1]}")
            if key in self.configs:
                lines.append(f"  config: {self.configs[key]}")
        super().__init__("\n".join(lines))


def call_job(fn: Callable, arg: Any) -> tuple[Any, list[str], str | None]:
    """Run one job in a worker with one torch thread: ``(fn(arg) or None if it raised, its
    warnings as text, the traceback as text or None)``. Nothing raises: a failure is reported
    with the job's key and the other jobs go on."""
    torch.set_num_threads(1)
    result = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(arg)
            error = None
        except Exception:  # noqa: BLE001 -- reported with the job's key, the others go on
            error = traceback.format_exc()
    return result, [str(w.message) for w in caught], error


def _call(fn: Callable, arg: Any) -> tuple[list[str], str | None]:
    """:func:`call_job` for jobs that save their own artifact: the result stays in the worker."""
    _, msgs, error = call_job(fn, arg)
    return msgs, error


def run_jobs(
    fn: Callable[[Any], Any],
    jobs: dict[Hashable, Any],
    workers: int = 1,
    desc: str = "jobs",
    progress: bool = True,
) -> None:
    """Call ``fn(arg)`` for every ``key -> arg`` of ``jobs`` (in ``workers`` processes).

    ``fn`` must be a module-level function (it is pickled to the workers) that saves its result
    as an artifact. Raises :class:`JobsFailed` after every job has run if any failed.
    """
    if not jobs:
        return
    failures: dict[Hashable, str] = {}
    bar = tqdm(total=len(jobs), desc=f"{desc} ({len(jobs)})", disable=not progress)
    if workers <= 1 or len(jobs) == 1:
        for key, arg in jobs.items():
            msgs, error = _call(fn, arg)
            report_job(key, msgs, error, failures)
            bar.update(1)
    else:
        ctx = torch.multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as ex:
            futures = {ex.submit(_call, fn, arg): key for key, arg in jobs.items()}
            for f in as_completed(futures):
                msgs, error = f.result()
                report_job(futures[f], msgs, error, failures)
                bar.update(1)
    bar.close()
    if failures:
        raise JobsFailed(failures)


def report_job(key, msgs: list[str], error: str | None, failures: dict) -> None:
    """Re-issue a finished job's warnings in the driver (prefixed with its key) and record its
    error, if any, in ``failures`` (key -> traceback text)."""
    for m in msgs:
        warnings.warn(f"{key}: {m}")
    if error is not None:
        failures[key] = error


@dataclass(frozen=True)
class NetworkResult:
    """A result computed from one trained network and a spec (E2's probes, E4's analyses, E5's
    sequences), cached as an artifact of ``kind`` whose config is ``{"network": the network's
    config, spec_field: the spec}``. ``compute`` names the module-level function
    ``compute(result, spec)`` that makes it ("package.module.function"): looked up when called,
    so the object pickles to the workers by name and a patched module function is the one used."""

    kind: str
    spec_field: str
    compute: str

    def _compute(self, result: TrainResult, spec: Any) -> Any:
        module, _, name = self.compute.rpartition(".")
        return getattr(importlib.import_module(module), name)(result, spec)

    def key(self, net_config: TrainConfig, spec: Any) -> dict:
        """The artifact config of the result of one network."""
        return {"network": net_config.to_dict(), self.spec_field: asdict(spec)}

    def artifact(self, result: TrainResult, spec: Any) -> Any:
        """The result of one network, loaded from its artifact or computed and saved."""
        return artifacts.load_or_compute(
            self.kind, self.key(result.config, spec), lambda: self._compute(result, spec)
        )

    def part(
        self,
        nets: dict,
        spec: Any,
        seconds: Callable[[TrainConfig, Any], float],
        note: str | Callable[[list[TrainConfig]], str],
        label: str,
        workers: int,
        force: bool = False,
        todo: list | None = None,
    ) -> "plan.Part":
        """The plan part of this result on ``nets`` {key: TrainResult or TrainConfig}: one
        ``kind`` artifact per network (config :meth:`key`), each estimated at ``seconds(network
        config, spec)`` single-core seconds; ``note`` is the part's detail line, or a function
        of the networks' configs that makes it (``todo``: keys already known to be missing;
        ``force``: every one is made again)."""
        configs = {k: getattr(v, "config", v) for k, v in nets.items()}
        return plan.artifact_part(
            label,
            self.kind,
            {k: self.key(c, spec) for k, c in configs.items()},
            lambda k: seconds(configs[k], spec),
            workers,
            force,
            todo,
            note(list(configs.values())) if callable(note) else note,
        )

    def carry_over(self, nets: dict, spec: Any) -> list:
        """Save, without computing, the results of the networks of ``nets`` {key: TrainResult}
        that :func:`carry_over` made from a run at a smaller budget (:func:`carried_from`): the
        source run's result is theirs, since a result reads the network's weights, history and
        config and the two differ only in ``max_steps``, which no analysis reads
        (``tests/test_runner.py`` computes both for E2's probes and E4's dynamics). Returns the
        keys carried over."""
        carried = []
        for key, res in nets.items():
            new_key = self.key(res.config, spec)
            if artifacts.has(self.kind, new_key):  # the usual case: no provenance to read
                continue
            source = carried_from(res.config)
            if source is None:
                continue
            old_key = self.key(source, spec)
            if not artifacts.has(self.kind, old_key):
                continue
            artifacts.save(
                self.kind,
                new_key,
                artifacts.load(self.kind, old_key),
                extra={"same_run_as": artifacts.artifact_key(self.kind, old_key)},
            )
            carried.append(key)
        return carried

    def run(
        self,
        nets: dict,
        spec: Any,
        part: Callable[[list], "plan.Part"],
        workers: int = 1,
        force: bool = False,
        progress: bool = True,
        allow_long: bool = False,
        desc: str = "analysing networks",
    ) -> dict:
        """The results of ``nets`` {key: TrainResult}, {key: result}: those missing are computed
        in ``workers`` processes after their plan (``part(todo keys)``) is printed; a plan longer
        than :data:`lib.experiments.plan.LONG_RUN_S` stops before any work unless
        ``allow_long``. ``force`` recomputes every one; otherwise the results of networks
        carried over from a smaller budget carry over with them (:meth:`carry_over`)."""
        if force:
            for res in nets.values():
                artifacts.paths(self.kind, self.key(res.config, spec))[0].unlink(missing_ok=True)
        elif not artifacts.no_train():
            self.carry_over(nets, spec)
        todo = {
            k: (self, res.config, spec)
            for k, res in nets.items()
            if not artifacts.has(self.kind, self.key(res.config, spec))
        }
        if todo and not artifacts.no_train():
            plan.require(plan.Plan([part(list(todo))]), allow_long)
        run_jobs(_network_result_job, todo, workers, desc=desc, progress=progress)
        return {k: self.artifact(res, spec) for k, res in nets.items()}


def _network_result_job(job: tuple) -> None:
    result_kind, net_cfg, spec = job
    result_kind.artifact(load_or_train(net_cfg, progress=False), spec)


def load_or_train(
    config: TrainConfig, directory: Path | None = None, progress: bool = True
) -> TrainResult:
    """The trained network of a config: loaded if its verified artifact exists, else trained and
    saved (checkpointing next to the artifact, so an interrupted run resumes where it stopped)."""
    cfg = config.to_dict()

    def compute() -> dict:
        ckpt = artifacts.paths("network", cfg, directory)[0].with_suffix(".ckpt")
        return network_payload(train(config, checkpoint=ckpt, progress=progress))

    # the device is provenance, not part of the key: a CUDA run draws its network noise from
    # CUDA's generator, so it is another draw of the same experiment than a CPU run
    # (docs/performance.md); the stamp says which
    payload = artifacts.load_or_compute(
        "network", cfg, compute, directory, extra={"device": default_device().type}
    )
    model = load_model(config, payload["state_dict"])
    return TrainResult(config, model, History.from_dict(payload["history"]))


def shipped_networks(configs: dict) -> dict:
    """The networks of ``configs`` that exist as verified artifacts (same keys); nothing is
    trained, so a set still training in the background shows what has finished."""
    return {
        k: load_or_train(c, progress=False)
        for k, c in configs.items()
        if artifacts.has("network", c.to_dict())
    }


def network_payload(result: TrainResult) -> dict:
    """What a ``network`` artifact stores: the weights and the learning curves."""
    return {"state_dict": result.model.state_dict(), "history": result.history.to_dict()}


def _train_job(config: TrainConfig) -> None:
    load_or_train(config, progress=False)


def seed_groups(configs: list[TrainConfig]) -> list[list[TrainConfig]]:
    """Configs grouped by everything but ``seed`` (each group can be one ensemble), in order."""
    groups: dict[TrainConfig, list[TrainConfig]] = {}
    for c in configs:
        groups.setdefault(c.replace(seed=0), []).append(c)
    return list(groups.values())


def _ensemble_job(group: list[TrainConfig]) -> None:
    """Train one group of seeds as a stacked ensemble and save each member as its own artifact
    (the same key and payload layout as single training; the stamp says how it was trained)."""
    ckpt = artifacts.paths("network", group[0].to_dict())[0].with_suffix(".ensemble.ckpt")
    for config, result in zip(group, train_ensemble(group, progress=False, checkpoint=ckpt)):
        artifacts.save(
            "network",
            config.to_dict(),
            network_payload(result),
            extra={
                "trained_by": f"lib.core.ensemble ({len(group)} members)",
                "device": default_device().type,
            },
        )


def carried_from(config: TrainConfig) -> TrainConfig | None:
    """The config of the run that the shipped network of ``config`` was carried over from
    (:func:`carry_over`; its stamp names the source), or None: a network trained as itself, or
    none shipped."""
    if not artifacts.has("network", config.to_dict()):
        return None
    source = artifacts.meta("network", config.to_dict()).get("same_run_as")
    stamp = artifacts.meta_of_key("network", source) if source else {}
    return TrainConfig.from_dict(stamp["config"]) if stamp else None


def carry_over(configs: dict, smaller_budget: dict) -> list:
    """Save, without training, the networks of ``configs`` that are known runs of a smaller
    budget: for a key of both dicts, ``smaller_budget[key]`` is ``configs[key]`` with a smaller
    ``max_steps``; if that network is shipped and stopped at criterion before its budget, it is
    the same run (:func:`lib.core.train.same_run_at_budget`) and is saved under ``configs[key]``,
    its stamp naming the artifact it came from. Returns the keys carried over."""
    carried = []
    for key, config in configs.items():
        small = smaller_budget.get(key)
        if (
            small is None
            or artifacts.has("network", config.to_dict())
            or not artifacts.has("network", small.to_dict())
        ):
            continue
        same = same_run_at_budget(load_or_train(small, progress=False), config)
        if same is None:
            continue
        artifacts.save(
            "network",
            config.to_dict(),
            network_payload(same),
            extra={
                "same_run_as": artifacts.artifact_key("network", small.to_dict()),
                "trained_by": f"lib.core.train at max_steps={small.max_steps}, stopped at "
                f"criterion at step {same.history.steps[-1]} (the same run at any larger budget)",
            },
        )
        carried.append(key)
    return carried


def run_configs(
    configs: dict,
    workers: int = 2,
    force: bool = False,
    progress: bool = True,
    allow_long: bool = False,
    ensemble: bool = False,
    smaller_budget: dict | None = None,
) -> dict:
    """Load or train every config (in parallel); returns the same keys -> TrainResult.

    Networks already present as verified artifacts are loaded, the rest are trained in
    ``workers`` processes and saved as artifacts. ``force`` retrains. If anything must be
    trained, the plan (counts, estimated wall time) is printed first; a plan longer than
    :data:`lib.experiments.plan.LONG_RUN_S` raises :class:`PlanTooLong` before any training
    unless ``allow_long``. (With ``$BOOK_NO_TRAIN=1`` nothing is trained: no plan.)

    ``ensemble=True`` trains the configs that differ only in their seed as one stacked model
    (:func:`lib.core.ensemble.train_ensemble`, equal to single training within float32
    rounding): the layout for a GPU, where one small network leaves the device idle; on a CPU
    the gain is small (``python -m lib.bench``: ``ensemble_speedup_cpu``).

    ``smaller_budget`` (key -> the same config at a smaller ``max_steps``): networks of those that
    stopped at criterion are carried over untrained (:func:`carry_over`); only the rest train.
    """
    if force:
        for c in configs.values():
            artifacts.paths("network", c.to_dict())[0].unlink(missing_ok=True)
    if smaller_budget and not force and not artifacts.no_train():
        carry_over(configs, smaller_budget)
    todo = {k: c for k, c in configs.items() if not artifacts.has("network", c.to_dict())}
    if todo and not artifacts.no_train():
        plan.require(plan.Plan([plan.network_part(configs, workers, todo=list(todo))]), allow_long)
    if ensemble:
        groups = {tuple(g): g for g in seed_groups(list(todo.values()))}
        run_jobs(_ensemble_job, groups, workers, desc="training ensembles", progress=progress)
    else:
        run_jobs(_train_job, todo, workers, desc="training networks", progress=progress)
    return {k: load_or_train(c, progress=False) for k, c in configs.items()}


__all__ = [
    "JobsFailed",
    "PlanTooLong",
    "call_job",
    "report_job",
    "run_jobs",
    "load_or_train",
    "NetworkResult",
    "run_configs",
    "carry_over",
    "carried_from",
    "seed_groups",
    "shipped_networks",
]
