"""lib.dynamics (lib.core.dynamics): fixed points, Jacobians and continuation on systems whose
answers are known in closed form."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lib.core.model import ModulatedRNN
from lib.dynamics import continuation, fixed_points, flow_change, freeze, operating_point

ALPHA = 0.2


def fixation_input(n_in: int = 65) -> torch.Tensor:
    u = torch.zeros(n_in)
    u[0] = 1.0
    return u


def winner_take_all(mechanism: str = "none", K: int = 1, delta: float = 0.0) -> ModulatedRNN:
    """Two softplus units inhibiting each other (w = 4, tonic drive 2): two stable states (one
    unit high, the other near 0) mirrored across an unstable symmetric one. With exc_bias,
    context 1 adds +delta to unit 0 and -delta to unit 1, context 2 the reverse."""
    m = ModulatedRNN(mechanism, 2, K, n_in=1, seed=0)
    with torch.no_grad():
        m.W_rec.copy_(torch.tensor([[0.0, -4.0], [-4.0, 0.0]]))
        m.b.fill_(2.0)
        m.W_in.zero_()
        if mechanism == "exc_bias":
            m.B.copy_(torch.tensor([[delta, -delta], [-delta, delta]]))
    return m


@pytest.mark.parametrize(
    "mechanism", ["none", "exc_bias", "exc_gain", "exc", "syn_prepost", "syn_mask"]
)
def test_no_recurrence_one_stable_point_at_phi_of_drive(mechanism):
    # W_rec = 0 (and every synaptic pathway here scales W_rec): F(r) = (1-a) r + a phi(drive),
    # so r* = phi(g (W_in u + b) + beta) and every eigenvalue of the map is 1 - a
    m = ModulatedRNN(mechanism, 12, 3, seed=4)
    with torch.no_grad():
        m.W_rec.zero_()
    u, c = fixation_input(), torch.tensor([0.0, 1.0, 0.0])
    fps = fixed_points(m, u, c, n_init=16, seed=0)
    assert len(fps) == 1
    md = copy.deepcopy(m).double()
    g, beta, _ = md.effective(c.double())
    expected = F.softplus(g * (md.W_in @ u.double() + md.b) + beta)
    np.testing.assert_allclose(fps.points[0], expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fps.eigenvalues[0], 1 - ALPHA, atol=1e-12)
    assert fps.stable[0] and fps.speeds[0] < 1e-12


def test_linear_regime_matches_the_linear_solution():
    # relu with every unit driven far above threshold is exactly linear:
    # r* = (I - W)^-1 (W_in u + b), map eigenvalues (1 - a) + a eig(W)
    N = 10
    m = ModulatedRNN("none", N, 1, seed=2, activation="relu")
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        q, _ = torch.linalg.qr(torch.randn(N, N, generator=gen))
        m.W_rec.copy_(0.3 * q)
        m.b.fill_(5.0)
    u = fixation_input()
    fps = fixed_points(m, u, torch.zeros(1), n_init=8, seed=1)
    W = m.W_rec.detach().double().numpy()
    h = (m.W_in.double() @ u.double() + m.b.double()).detach().numpy()
    r = np.linalg.solve(np.eye(N) - W, h)
    assert (r > 0).all() and len(fps) == 1
    np.testing.assert_allclose(fps.points[0], r, rtol=1e-9)
    mu = np.sort_complex((1 - ALPHA) + ALPHA * np.linalg.eigvals(W))
    np.testing.assert_allclose(np.sort_complex(fps.eigenvalues[0]), mu, atol=1e-9)


def test_bistable_network_two_stable_points_and_a_saddle():
    fps = fixed_points(winner_take_all(), torch.zeros(1), torch.zeros(1), n_init=32, seed=0)
    assert len(fps) == 3
    stable = fps.points[fps.stable]
    assert len(stable) == 2
    # mirror images: one unit high, the other near zero
    np.testing.assert_allclose(np.sort(stable[:, 0]), np.sort(stable[:, 1]), rtol=1e-9)
    assert stable.max() > 2.0 and stable.min() < 0.01
    # the saddle is symmetric and solves r = softplus(2 - 4 r); one eigenvalue outside the circle
    saddle = fps.points[~fps.stable][0]
    assert abs(saddle[0] - saddle[1]) < 1e-9
    assert abs(saddle[0] - np.log1p(np.exp(2 - 4 * saddle[0]))) < 1e-12
    assert fps.spectral_radius[~fps.stable][0] > 1.0
    assert (fps.speeds < 1e-10).all()


def test_same_seed_same_points():
    m = winner_take_all()
    a = fixed_points(m, torch.zeros(1), torch.zeros(1), n_init=8, seed=3)
    b = fixed_points(m, torch.zeros(1), torch.zeros(1), n_init=8, seed=3)
    np.testing.assert_array_equal(a.points, b.points)


def test_continuation_finds_the_saddle_node_bifurcations():
    # a context bias tilts the winner-take-all pair: one winner at either end of the mixture,
    # bistable in between, entered and left through saddle-node bifurcations placed symmetrically
    m = winner_take_all("exc_bias", K=2, delta=1.5)
    ls = np.linspace(0, 1, 21)
    cont = continuation(
        m, torch.zeros(1), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), ls, n_init=16, seed=0
    )
    n_stable = cont.table.groupby("l")["stable"].sum()
    assert n_stable.iloc[0] == 1 and n_stable.iloc[-1] == 1
    assert n_stable.loc[0.5] == 2
    ev = cont.events
    appear, vanish = ev[ev.event == "appears"], ev[ev.event == "vanishes"]
    assert len(appear) == 2 and len(vanish) == 2  # a stable point and a saddle, each time
    assert appear.l.nunique() == 1 and vanish.l.nunique() == 1
    l_in, l_out = appear.l.iloc[0], vanish.l.iloc[0]
    # symmetry of the system about l = 1/2: the window [l_in - dl, l_out) mirrors itself
    assert abs((l_in - 0.05) + l_out - 1.0) < 1e-9
    # the first track (the l = 0 winner) ends at l_out: it is among the vanished ones
    assert 0 in set(vanish.track)
    assert set(cont.table.columns) == {"l", "track", "speed", "radius", "stable"}
    assert len(cont.points) == len(cont.table)


def test_operating_point_settles_where_simulation_goes():
    m = winner_take_all("exc_bias", K=2, delta=1.5)
    fmap = freeze(m, torch.zeros(1), torch.tensor([1.0, 0.0]))
    r, speed = operating_point(fmap)
    assert speed < 1e-12 and r[0] > r[1]  # context 1 favours unit 0


def test_flow_change_of_a_bias_is_a_pure_translation():
    # relu above threshold at every state: a bias change gives dv = a d(beta) everywhere ->
    # reshape fraction 0; a gain change multiplies the state-dependent current -> reshape > 0
    N = 8
    gen = torch.Generator().manual_seed(0)
    states = torch.rand(50, N, generator=gen, dtype=torch.float64)
    u = fixation_input()
    for mechanism, reshaped in (("exc_bias", False), ("exc_gain", True)):
        m = ModulatedRNN(mechanism, N, 2, seed=1, activation="relu")
        with torch.no_grad():
            m.W_rec.copy_(2.0 * torch.eye(N))  # current 2 r + h: varies with the state
            m.b.fill_(1.0)  # ... and stays above threshold
        a = freeze(m, u, torch.tensor([1.0, 0.0]))
        b = freeze(m, u, torch.tensor([0.0, 1.0]))
        assert (a.z(states) > 0).all() and (b.z(states) > 0).all()
        out = flow_change(a, b, states)
        assert out["total"] > 0
        if reshaped:
            assert out["reshape_fraction"] > 0.01
        else:
            assert abs(out["reshape_fraction"]) < 1e-9


def test_per_state_inputs_apply_row_by_row():
    m = ModulatedRNN("exc", 6, 2, seed=0)
    u = torch.rand(5, 65, generator=torch.Generator().manual_seed(1))
    r = torch.rand(5, 6, dtype=torch.float64)
    c = torch.tensor([1.0, 0.0])
    batch = freeze(m, u, c).step(r)
    rows = torch.cat([freeze(m, u[s], c).step(r[s : s + 1]) for s in range(5)])
    torch.testing.assert_close(batch, rows)


def test_bad_inputs_have_clear_errors():
    m = winner_take_all()
    with pytest.raises(ValueError, match="u: expected shape"):
        fixed_points(m, torch.zeros(3), torch.zeros(1))
    with pytest.raises(ValueError, match="fixed points need one constant input"):
        fixed_points(m, torch.zeros(4, 1), torch.zeros(1))
    with pytest.raises(ValueError, match="c: expected a tensor of shape"):
        fixed_points(m, torch.zeros(1), torch.zeros(2))
    with pytest.raises(ValueError, match="n_init=-1 is not allowed"):
        fixed_points(m, torch.zeros(1), torch.zeros(1), n_init=-1)
    with pytest.raises(ValueError, match="init: expected shape"):
        fixed_points(m, torch.zeros(1), torch.zeros(1), init=torch.zeros(3, 5))
    with pytest.raises(ValueError, match="nothing to start from"):
        fixed_points(m, torch.zeros(1), torch.zeros(1), n_init=0)
    with pytest.raises(ValueError, match="increasing"):
        continuation(m, torch.zeros(1), torch.zeros(1), torch.ones(1), [0.0, 0.5, 0.5])


@pytest.mark.parametrize(
    "mechanism", ["exc", "syn_lowrank", "syn_prepost", "hybrid", "exc_gain_rec", "syn_prepost_in"]
)
def test_jacobian_is_the_derivative_of_the_map(mechanism):
    # J(r) = (1 - a) I + a diag(phi'(z) g) W(c): compare with autograd on the map itself
    m = ModulatedRNN(mechanism, 7, 3, seed=5)
    fmap = freeze(m, fixation_input(), torch.tensor([0.3, 0.7, 0.0]))
    r = torch.rand(3, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    J = fmap.jacobian(r)
    for p in range(3):
        auto = torch.autograd.functional.jacobian(lambda x: fmap.step(x[None])[0], r[p])
        torch.testing.assert_close(J[p], auto, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "mechanism",
    [
        "none",
        "exc",
        "syn_mask",
        "syn_lowrank",
        "syn_prepost",
        "hybrid",
        "exc_gain_rec",
        "syn_prepost_in",
    ],
)
def test_frozen_map_is_the_network(mechanism):
    # iterating F from r = 0 reproduces the network's own noise-free forward at constant (u, c)
    m = ModulatedRNN(mechanism, 9, 3, seed=6)
    with torch.no_grad():
        m.b.normal_(generator=torch.Generator().manual_seed(0))  # a nonzero tonic bias
    u, c = fixation_input(), torch.tensor([0.2, 0.0, 0.9])
    T = 12
    _, rates = m(u.expand(T, 1, 65).contiguous(), c.expand(1, 3), noise=False)
    fmap = freeze(m, u, c)
    r = torch.zeros(1, 9, dtype=torch.float64)
    for t in range(T):
        r = fmap.step(r)
        # float64 map vs the float32 network: 12 steps of float32 rounding (1.2e-7 each) of rates
        # of order 1, far below 1e-5; a wrong term of the map is off by 1e-2 or more
        torch.testing.assert_close(r[0].float(), rates[t, 0], rtol=0, atol=1e-5)
