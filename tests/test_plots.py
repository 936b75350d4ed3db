"""Smoke tests of the task and model chapters' figures: each returns a Figure (the budget table a
Styler) on small inputs, and rejects empty ones."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from pandas.io.formats.style import Styler  # noqa: E402

from lib.analysis import anatomy
from lib.core import reference  # noqa: E402
from lib.core import tasks as T  # noqa: E402
from lib.core.model import ModulatedRNN  # noqa: E402
from lib.plots import model as pm  # noqa: E402
from lib.plots import tasks as pt  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_trial_grid():
    batches = reference.example_batches(["fdgo", "contextdm1", "dmsnogo"], 0, 2)
    assert isinstance(pt.trial_grid(batches, trial=1, title="t"), Figure)
    with pytest.raises(ValueError, match="batches"):
        pt.trial_grid({})


def test_condition_figures():
    stats = reference.condition_stats(["fdgo", "dm1", "delaydm1", "dmsgo"], 16, 0)
    assert isinstance(pt.condition_distributions(stats), Figure)
    assert isinstance(pt.ring_use(stats), Figure)
    only_go = reference.condition_stats(["fdgo", "reactanti"], 16, 0)  # no DM, no matching
    assert isinstance(pt.condition_distributions(only_go), Figure)
    with pytest.raises(ValueError, match="empty"):
        pt.condition_distributions(stats.iloc[:0])


@pytest.fixture(scope="module")
def nets():
    out = {}
    for mech in ("exc", "syn_prepost", "hybrid"):
        net = ModulatedRNN(mech, 8, 2, seed=0)
        with torch.no_grad():
            for p in net.modulation_parameters():
                p.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
        out[mech] = net
    return out


def test_budget_table_is_styled():
    assert isinstance(pm.budget_table(anatomy.budget_table(ns=(4, 8), ranks=(1, 2))), Styler)


def test_mixture_figures(nets):
    ls = np.linspace(0, 1, 3)
    paths = {k: anatomy.mixture_path(n, 0, 1, ls) for k, n in nets.items()}
    assert isinstance(pm.mixture_modulation(paths, ("fdgo", "fdanti")), Figure)
    b = T.make_batch("fdgo", 1, 0, noise=False)
    demos = {k: anatomy.mixture_outputs(n, b, 0, 1, ls, task_j="fdanti") for k, n in nets.items()}
    assert isinstance(pm.mixture_outputs(demos, ("fdgo", "fdanti")), Figure)
    tv = anatomy.time_varying(nets["hybrid"], b, 0, 1, b.x.shape[0] // 2)
    assert isinstance(pm.time_varying(tv, ("fdgo", "fdanti"), "hybrid"), Figure)
    for fn in (pm.mixture_modulation, pm.mixture_outputs):
        with pytest.raises(ValueError):
            fn({}, ("fdgo", "fdanti"))
