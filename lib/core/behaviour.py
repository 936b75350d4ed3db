"""Behaviour versions: what an artifact's key promises about the code that made it.

An artifact is keyed on its config and on the behaviour versions of the code it depends on, not
on the bytes of that code: a refactor, a new progress bar or a reworded error message leaves
every key (and so every shipped artifact) valid. A change that alters results -- a different
trial, loss, update, initialisation, evaluation or probe -- must bump the version here.

The golden tests (``tests/test_behaviour.py``) make that impossible to forget: they compare a
few stored fingerprints per mechanism (a digest of each task's batch, a few training steps at tiny
N: losses and parameters, one evaluation, one probe result) with what the code computes now, and
fail with "behaviour changed: bump the version, regenerate the goldens, ``make artifacts``".
The hash of the source (:func:`lib.artifacts.code_version`) stays in every stamp as provenance.

History:
- network 1, ambiguity 1: keyed on the code hash (before this module).
- network 2: Yang's elementwise gradient clipping by default; protocol options (sampling,
  coherence curriculum, model constants) in the config.
- ambiguity 2: probes of network-2 networks.
- ambiguity 3: outcomes split into correct / collapse / switch / blend (switch: the conflict
  partner's answer on the same trial, ``lib.core.tasks.target_under``); the "late" probe replaced
  by timed probes at the generator's epochs (context removed during the delay, given only from
  the go epoch, switched to the partner's mid-trial); ``congruent`` fractions stored.
- dynamics 1: E4's analyses of network-2 networks (lib.experiments.dynamics).
- dynamics 2: continuation tracks link mutual nearest neighbours (an absolute jump threshold
  split smooth branches of fast-moving points into many tracks).
- dynamics 3: the context drive per task, trained and at initialisation.
- timescales 1: E5's sequence probes (lib.experiments.timescales): fast / slow / instant
  modulation states per pathway, blocked, interleaved and brief-error sequences.
- lesions 1: E1's lesion maps (the most task-variant units silenced per task, random controls)
  and the hybrid's pathway ablations, cached per network (lib.experiments.lesions); the numbers
  the chapter computed in place before.
- clustering 1: Yang's task-variance clustering of units per network at the scale of the whole
  battery (lib.experiments.clustering): TV from the stimulus onset, noise off; k-means for
  k = 2..29 by silhouette; clusters ordered by preferred task.
- drive (no version of its own): the initial context drive of a network config
  (lib.experiments.battery.initial_drive, lib.core.statespace.context_drive), which sets the
  equalised arm's modulation scales; keyed on the network and dynamics versions.
"""

from __future__ import annotations

BEHAVIOUR: dict[str, int] = {
    "network": 2,  # tasks, model, metrics, training loop: what a trained network is
    "ambiguity": 3,  # E2 probes: contexts, noise streams, outcome classification
    "dynamics": 3,  # E4 analyses: state space, task variance, fixed points, continuation
    "timescales": 1,  # E5 sequences: modulation filters, schedules, draws, per-trial performance
    "lesions": 1,  # E1 lesion maps and pathway ablations: unit choice, random sets, noise streams
    "clustering": 1,  # E4 at scale: task variance, active units, k-means by silhouette, order
}

DEPENDS: dict[str, tuple[str, ...]] = {
    "network": ("network",),
    "ambiguity": ("network", "ambiguity"),
    "dynamics": ("network", "dynamics"),
    "timescales": ("network", "timescales"),
    "lesions": ("network", "lesions"),
    "clustering": ("network", "clustering"),
    "drive": ("network", "dynamics"),
}
"""Which behaviour versions the artifacts of each kind depend on."""


def versions(kind: str) -> dict[str, int]:
    """The behaviour versions an artifact of ``kind`` is keyed on ({} for a kind with none)."""
    deps = DEPENDS.get(kind, (kind,) if kind in BEHAVIOUR else ())
    return {name: BEHAVIOUR[name] for name in deps}


__all__ = ["BEHAVIOUR", "DEPENDS", "versions"]
