"""Tests of lib.core.model.ModulatedRNN: shapes, parameter counts, gradients, equivalence of the
fast
batched paths with a plain step-by-step reference built from ``effective``, initial equality of all
mechanisms, noise and determinism, and input validation."""

import math

import pytest
import torch
from torch.nn import functional as F

from lib.core.model import MECHANISMS, LeakyRecurrence, ModulatedRecurrence, ModulatedRNN

T, B, N, K, R, N_IN, N_OUT = 6, 4, 8, 3, 2, 5, 4
MODULATED = MECHANISMS[1:]


def make(mechanism: str, seed: int = 0, **kw) -> ModulatedRNN:
    return ModulatedRNN(mechanism, N, K, rank=R, n_in=N_IN, n_out=N_OUT, seed=seed, **kw)


def perturb(net: ModulatedRNN, seed: int = 1, scale: float = 0.4) -> ModulatedRNN:
    """Random modulation parameters and biases, so that every pathway and term does something."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in [net.b, net.b_out] + net.modulation_parameters():  # biases first: same for all
            p.copy_(scale * torch.randn(p.shape, generator=gen))
    return net


def distinct_tasks() -> torch.Tensor:
    """Trials that use different tasks: e_0, e_1, a 1-2 mixture, a scaled e_0."""
    return torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0.5, 0.5], [2.0, 0, 0]])


def inputs(seed: int = 0, t: int = T, b: int = B) -> torch.Tensor:
    return torch.rand(t, b, N_IN, generator=torch.Generator().manual_seed(seed))


def one_hot(k: int, b: int = B) -> torch.Tensor:
    c = torch.zeros(b, K)
    c[:, k] = 1.0
    return c


def two_task_mix(seed: int = 0, shape=(B,)) -> torch.Tensor:
    """Per-trial mixtures (1 - lam) e_0 + lam e_2; task 1 inactive (exercises the active set)."""
    lam = torch.rand(shape, generator=torch.Generator().manual_seed(seed))
    c = torch.zeros(*shape, K)
    c[..., 0], c[..., 2] = 1.0 - lam, lam
    return c


def reference(net: ModulatedRNN, x: torch.Tensor, c: torch.Tensor, s: torch.Tensor | None = None):
    """The simplest possible noise-free forward: trial by trial, step by step, from effective()."""
    steps, batch, _ = x.shape
    c = c.expand(steps, batch, K)
    s = c if s is None else s.expand(steps, batch, K)
    phi = F.softplus if net.activation == "softplus" else torch.relu
    ys, rs = torch.zeros(steps, batch, net.n_out), torch.zeros(steps, batch, net.n_rec)
    for b in range(batch):
        r = torch.zeros(net.n_rec)
        for t in range(steps):
            g, beta, W = net.effective(c[t, b], s[t, b])
            z = g * (W @ r + net.W_in @ x[t, b] + net.b) + beta
            r = (1 - net.alpha) * r + net.alpha * phi(z)
            rs[t, b] = r
            ys[t, b] = torch.sigmoid(net.W_out @ r + net.b_out)
    return ys, rs


# ----------------------------------------------------------------------------- structure
@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("context", ["trial", "time"])
def test_output_shapes(mechanism, context):
    net = make(mechanism)
    c = two_task_mix() if context == "trial" else two_task_mix(shape=(T, B))
    y, r = net(inputs(), c)
    assert y.shape == (T, B, N_OUT) and r.shape == (T, B, N)
    assert y.dtype == r.dtype == torch.float32
    assert ((y > 0) & (y < 1)).all()
    y2, _ = net(inputs(), c, syn_context=one_hot(1))
    assert y2.shape == (T, B, N_OUT)


def test_params_per_task_matches_table():
    n, k, rank = 16, 3, 2
    expected = {
        "none": 0,
        "exc_bias": n,
        "exc_gain": n,
        "exc": 2 * n,
        "syn_mask": n * n,
        "syn_lowrank": 2 * n * rank,
        "syn_prepost": 2 * n,
        "hybrid": 2 * n + 2 * n * rank,
        "exc_gain_rec": n,
        "syn_prepost_in": 2 * n,
    }
    for mechanism, count in expected.items():
        net = ModulatedRNN(mechanism, n, k, rank=rank)
        assert net.params_per_task() == count, mechanism
        assert sum(p.numel() for p in net.modulation_parameters()) == k * count


def test_parameter_groups():
    net = make("hybrid")
    shared = net.shared_parameters()
    assert [p.shape for p in shared] == [(N, N_IN), (N, N), (N,), (N_OUT, N), (N_OUT,)]
    exc, syn = net.modulation_parameters("exc"), net.modulation_parameters("syn")
    assert [p.shape for p in exc] == [(K, N), (K, N)]
    assert [p.shape for p in syn] == [(K, N, R), (K, N, R)]
    ids = {id(p) for p in shared + exc + syn}
    assert ids == {id(p) for p in net.parameters()} and len(ids) == len(shared + exc + syn)
    assert make("none").modulation_parameters() == []
    assert make("syn_prepost").modulation_parameters("exc") == []


# ----------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize("mechanism", MODULATED)
def test_every_mechanism_equals_none_at_zero_modulation_init(mechanism):
    base, net = make("none", seed=3), make(mechanism, seed=3, mod_init_std=0.0)
    for p, q in zip(base.shared_parameters(), net.shared_parameters()):
        assert torch.equal(p, q)
    x = inputs()
    y0, r0 = base(x, two_task_mix(), noise=False)
    for c in (one_hot(1), two_task_mix(), two_task_mix(shape=(T, B)), 3.0 * torch.randn(B, K)):
        y, r = net(x, c, noise=False)
        torch.testing.assert_close(y, y0, rtol=0, atol=1e-6)
        torch.testing.assert_close(r, r0, rtol=0, atol=1e-6)


def test_shared_weight_init():
    net = ModulatedRNN("none", 64, K, n_in=N_IN, n_out=N_OUT)
    q = net.W_rec.detach() / 0.5
    torch.testing.assert_close(q @ q.T, torch.eye(64), atol=1e-5, rtol=0)
    assert not torch.allclose(ModulatedRNN("none", 64, K, seed=1).W_rec, net.W_rec)
    diag = ModulatedRNN("none", 64, K, n_in=N_IN, n_out=N_OUT, w_rec_init="diag")
    assert torch.equal(diag.W_rec, 0.5 * torch.eye(64))
    assert torch.equal(diag.W_in, net.W_in) and torch.equal(diag.W_out, net.W_out)
    assert abs(net.W_in.std().item() - 1 / math.sqrt(N_IN)) < 0.1
    assert net.W_out.abs().max() <= math.sqrt(6 / (64 + N_OUT))
    assert not net.b.any() and not net.b_out.any()
    g, beta, _ = make("exc").effective(torch.zeros(K))
    torch.testing.assert_close(g, torch.ones(N))
    torch.testing.assert_close(beta, torch.zeros(N))


@pytest.mark.parametrize("mechanism", MODULATED)
def test_default_init_gives_each_task_a_distinct_small_modulation(mechanism):
    net = ModulatedRNN(mechanism, 64, K, n_in=N_IN, n_out=N_OUT, seed=2)
    base = ModulatedRNN("none", 64, K, n_in=N_IN, n_out=N_OUT, seed=2)
    for p, q in zip(base.shared_parameters(), net.shared_parameters()):
        assert torch.equal(p, q)
    for name in ("B", "G", "M", "V", "A", "Bp"):
        if hasattr(net, name):
            p = getattr(net, name).detach()
            assert abs(p.std().item() - 1 / math.sqrt(N_IN)) < 0.05, name
            assert not torch.equal(p[0], p[1]), name
    effects = [net.effective(torch.eye(K)[k]) for k in range(K)]
    assert any(not torch.equal(a, b) for a, b in zip(effects[0], effects[1]))
    with pytest.raises(ValueError, match="mod_init_std"):
        make(mechanism, mod_init_std=-1.0)


# ----------------------------------------------------------------------------- equivalences
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_effective_matches_table(mechanism):
    net = perturb(make(mechanism))
    c = torch.tensor([0.7, 0.0, -1.3])
    s = torch.tensor([0.2, 1.0, 0.5])
    g, beta, W = net.effective(c, s)
    with torch.no_grad():
        W0, G0 = net.W_rec, math.log(math.e - 1)
        exp_g = F.softplus(c @ net.G + G0) if hasattr(net, "G") else torch.ones(N)
        exp_beta = c @ net.B if hasattr(net, "B") else torch.zeros(N)
        exp_W = {
            "syn_mask": lambda: W0 * (1 + sum(s[k] * net.M[k] for k in range(K))),
            "syn_lowrank": lambda: W0 + sum(s[k] * net.U[k] @ net.V[k].T for k in range(K)) / N,
            "hybrid": lambda: W0 + sum(s[k] * net.U[k] @ net.V[k].T for k in range(K)) / N,
            "syn_prepost": lambda: torch.diag(1 + s @ net.A) @ W0 @ torch.diag(1 + s @ net.Bp),
        }.get(mechanism, lambda: W0)()
    if mechanism == "exc_gain_rec":  # the gain moves into the rows of W
        exp_W, exp_g = torch.diag(exp_g) @ W0, torch.ones(N)
    if mechanism == "syn_prepost_in":  # post factor as the gain of every synaptic input
        exp_g = 1 + s @ net.A
        exp_beta = (1 - exp_g) * net.b
        exp_W = W0 @ torch.diag(1 + s @ net.Bp)
    torch.testing.assert_close(g, exp_g)
    torch.testing.assert_close(beta, exp_beta)
    torch.testing.assert_close(W, exp_W)


@pytest.mark.parametrize("context", ["shared", "trial", "time"])
def test_controls_follow_their_defining_equations(context):
    """exc_gain_rec: z = g (W r) + W_in u + b; syn_prepost_in: z = a (W diag(pre) r + W_in u) + b,
    written out step by step without ``effective`` (noise off)."""
    x = inputs()
    c = {"shared": one_hot(1), "trial": two_task_mix(), "time": two_task_mix(shape=(T, B))}[context]
    cc = c.expand(T, B, K)
    for mechanism in ("exc_gain_rec", "syn_prepost_in"):
        net = perturb(make(mechanism))
        y, r_out = net(x, c, noise=False)
        with torch.no_grad():
            r = torch.zeros(B, N)
            for t in range(T):
                if mechanism == "exc_gain_rec":
                    g = F.softplus(cc[t] @ net.G + math.log(math.e - 1))
                    z = g * (r @ net.W_rec.T) + x[t] @ net.W_in.T + net.b
                else:
                    a, pre = 1 + cc[t] @ net.A, 1 + cc[t] @ net.Bp
                    z = a * ((pre * r) @ net.W_rec.T + x[t] @ net.W_in.T) + net.b
                r = (1 - net.alpha) * r + net.alpha * F.softplus(z)
                torch.testing.assert_close(r_out[t], r, rtol=0, atol=1e-5)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_one_hot_equals_plain_network(mechanism):
    """Context e_k == a `none` network with W_rec, W_in, b replaced by the effective ones
    (gain g folded into the rows: g*(W r + W_in u + b) + beta)."""
    net = perturb(make(mechanism))
    x = inputs()
    for k in range(K):
        g, beta, W = (v.detach() for v in net.effective(one_hot(k, 1)[0]))
        plain = make("none")
        with torch.no_grad():
            plain.W_rec.copy_(g[:, None] * W)
            plain.W_in.copy_(g[:, None] * net.W_in)
            plain.b.copy_(g * net.b + beta)
            plain.b_out.copy_(net.b_out)
        y, r = net(x, one_hot(k), noise=False)
        y0, r0 = plain(x, one_hot(k), noise=False)
        torch.testing.assert_close(y, y0, rtol=0, atol=1e-5)
        torch.testing.assert_close(r, r0, rtol=0, atol=1e-5)
        y_ref, _ = reference(net, x, one_hot(k))
        torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("activation", ["softplus", "relu"])
def test_per_trial_contexts_match_single_trials(mechanism, activation):
    """Per-trial mixtures (active-set paths) == each trial run alone (shared-context path)."""
    net = perturb(make(mechanism, activation=activation))
    x = inputs()
    contexts = [
        two_task_mix(),
        distinct_tasks(),
        torch.randn(B, K, generator=torch.Generator().manual_seed(5)),
    ]
    for c in contexts:
        y, r = net(x, c, noise=False)
        for b in range(B):
            yb, rb = net(x[:, b : b + 1], c[b : b + 1], noise=False)
            torch.testing.assert_close(y[:, b : b + 1], yb, rtol=0, atol=1e-5)
            torch.testing.assert_close(r[:, b : b + 1], rb, rtol=0, atol=1e-5)
        torch.testing.assert_close(y, reference(net, x, c)[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_time_varying_and_split_contexts_match_reference(mechanism):
    net = perturb(make(mechanism))
    x = inputs()
    c_tv = two_task_mix(seed=2, shape=(T, B))
    s_tv = torch.randn(T, B, K, generator=torch.Generator().manual_seed(3))
    cases = [
        (c_tv, None),
        (two_task_mix(), c_tv),
        (c_tv, one_hot(1)),
        (one_hot(2), s_tv),
        (c_tv[:, :1].expand(T, B, K), None),  # same for all trials, varying in time
        (two_task_mix()[None].expand(T, B, K), None),  # (T, B, K) constant in time
        (torch.stack([distinct_tasks().roll(t, 0) for t in range(T)]), None),
    ]
    for c, s in cases:
        y, r = net(x, c, syn_context=s, noise=False)
        y_ref, r_ref = reference(net, x, c, s)
        torch.testing.assert_close(y, y_ref, rtol=0, atol=1e-5)
        torch.testing.assert_close(r, r_ref, rtol=0, atol=1e-5)


def test_zero_context_is_unmodulated():
    """c = 0 (context drop-out): no task is active, every mechanism runs the shared network
    (g = softplus(g0) = 1, beta = 0, W = W_rec)."""
    x = inputs()
    y0, _ = perturb(make("none"))(x, one_hot(0), noise=False)
    for mechanism in MODULATED:
        y, _ = perturb(make(mechanism))(x, torch.zeros(T, B, K), noise=False)
        torch.testing.assert_close(y, y0, rtol=0, atol=1e-6)


def test_none_ignores_context():
    net = make("none")
    x = inputs()
    y0, _ = net(x, one_hot(0), noise=False)
    for c in (one_hot(2), two_task_mix(), torch.randn(T, B, K)):
        assert torch.equal(net(x, c, noise=False)[0], y0)


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("mechanism", MODULATED)
def test_gradients_reach_every_modulation_parameter(mechanism):
    net = make(mechanism, mod_init_std=0.0)
    x = inputs()
    c = torch.rand(B, K, generator=torch.Generator().manual_seed(4))  # every task active
    net(x, c, noise=False)[0].pow(2).sum().backward()
    for name, p in net.named_parameters():
        if name == "U":  # dL/dU_k = s_k (dL/dW) V_k / N = 0 while V = 0
            assert p.grad is not None and not p.grad.any()
        else:
            assert p.grad is not None and p.grad.abs().sum(dim=tuple(range(1, p.dim()))).all(), name
    if hasattr(net, "V"):
        net.zero_grad()
        with torch.no_grad():
            net.V.normal_(generator=torch.Generator().manual_seed(0))
        net(x, c, noise=False)[0].pow(2).sum().backward()
        assert net.U.grad.abs().sum(dim=(1, 2)).all()


@pytest.mark.parametrize("mechanism", ["syn_mask", "syn_lowrank"])
def test_shared_one_hot_gradient_only_for_active_task(mechanism):
    net = perturb(make(mechanism))
    net(inputs(), one_hot(1), noise=False)[0].sum().backward()
    for p in net.modulation_parameters():
        norms = p.grad.abs().sum(dim=tuple(range(1, p.dim())))
        assert norms[1] > 0 and norms[0] == 0 and norms[2] == 0


@pytest.mark.parametrize(
    "mechanism,context",
    [("syn_mask", "trial"), ("hybrid", "time"), ("syn_prepost", "trial"), ("exc", "shared")],
)
def test_gradcheck_float64(mechanism, context):
    """Finite differences vs autograd through the fast paths, including the gradient w.r.t. the
    context itself (all tasks then count as active)."""
    net = perturb(ModulatedRNN(mechanism, 4, K, rank=R, n_in=N_IN, n_out=N_OUT), scale=0.3)
    net = net.double()
    x = inputs(t=4, b=2).double()
    c = (
        {
            "trial": two_task_mix(shape=(2,)),
            "time": two_task_mix(shape=(4, 2)),
            "shared": one_hot(1, 2),
        }[context]
        .double()
        .requires_grad_()
    )
    names = [n for n, _ in net.named_parameters() if n not in ("W_out", "b_out")]
    params = [getattr(net, n).detach().clone().requires_grad_() for n in names]

    def f(c, *ps):
        return torch.func.functional_call(net, dict(zip(names, ps)), (x, c), {"noise": False})[0]

    assert torch.autograd.gradcheck(f, (c, *params), eps=1e-6, atol=1e-6, fast_mode=True)


def test_optimizer_step_changes_modulated_output():
    net = make("syn_lowrank")
    opt = torch.optim.Adam(net.modulation_parameters(), lr=1e-2)
    x, c = inputs(), one_hot(0)
    y0, _ = net(x, c, noise=False)
    y_other0, _ = net(x, one_hot(1), noise=False)
    y0.pow(2).sum().backward()
    opt.step()
    y1, _ = net(x, c, noise=False)
    assert not torch.allclose(y0, y1)
    y_other, _ = net(x, one_hot(1), noise=False)  # task 1's modulation untouched
    torch.testing.assert_close(y_other, y_other0, rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------- noise
def test_noise_and_determinism():
    net = perturb(make("hybrid"))
    x, c = inputs(), two_task_mix()
    y_a, _ = net(x, c, noise=True, generator=torch.Generator().manual_seed(7))
    y_b, _ = net(x, c, noise=True, generator=torch.Generator().manual_seed(7))
    y_c, _ = net(x, c, noise=True, generator=torch.Generator().manual_seed(8))
    y_0, _ = net(x, c, noise=False)
    assert torch.equal(y_a, y_b)
    assert not torch.allclose(y_a, y_c) and not torch.allclose(y_a, y_0)
    assert torch.equal(y_0, net(x, c, noise=False)[0])
    assert torch.equal(make("hybrid", seed=5).W_rec, make("hybrid", seed=5).W_rec)
    quiet = make("none", sigma_rec=0.0, sigma_x=0.0)
    torch.testing.assert_close(quiet(x, c, noise=True)[0], quiet(x, c, noise=False)[0])


def test_noise_statistics():
    """Recurrent noise enters z with std sqrt(2/a) sigma_rec: with W = 0, W_in = 0 and relu,
    r_1 = a relu(noise); input noise is sqrt(2/a) sigma_x per channel through W_in."""
    net = ModulatedRNN(
        "none",
        200,
        1,
        n_in=N_IN,
        n_out=N_OUT,
        activation="relu",
        sigma_x=0.0,
        sigma_rec=0.05,
        alpha=0.2,
    )
    with torch.no_grad():
        net.W_in.zero_()
    _, r = net(torch.zeros(1, 500, N_IN), torch.ones(500, 1))
    z = r[0] / 0.2  # relu(noise)
    std = math.sqrt(2 / 0.2) * 0.05
    assert abs(z.pow(2).mean().sqrt().item() - std / math.sqrt(2)) < 0.02 * std
    net = ModulatedRNN(
        "none",
        200,
        1,
        n_in=N_IN,
        n_out=N_OUT,
        activation="relu",
        sigma_x=0.01,
        sigma_rec=0.0,
        w_rec_init="diag",
    )
    with torch.no_grad():
        net.b.fill_(10.0)  # keep relu linear: z = W_in u~ + 10
    _, r = net(torch.zeros(1, 500, N_IN), torch.ones(500, 1))
    z = r[0] / 0.2 - 10.0
    expected = math.sqrt(2 / 0.2) * 0.01 * net.W_in.norm(dim=1).detach()
    torch.testing.assert_close(z.std(0), expected, rtol=0.2, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    x, cases = inputs(), [one_hot(1), two_task_mix(), two_task_mix(shape=(T, B))]
    for mechanism in MECHANISMS:
        net = perturb(make(mechanism))
        gpu = perturb(make(mechanism)).cuda()
        for c in cases:
            y, _ = gpu(x.cuda(), c.cuda(), noise=False)
            y.sum().backward()
            torch.testing.assert_close(y.cpu(), net(x, c, noise=False)[0], rtol=0, atol=1e-5)
        gen = torch.Generator(device="cuda").manual_seed(0)
        assert gpu(x.cuda(), c.cuda(), generator=gen)[0].is_cuda


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(mechanism="gain"), "mechanism='gain'.*allowed.*syn_lowrank"),
        (dict(activation="tanh"), "activation='tanh'.*softplus"),
        (dict(w_rec_init="xavier"), "w_rec_init='xavier'.*randortho"),
        (dict(n_rec=0), "n_rec=0.*positive integer"),
        (dict(n_tasks=-2), "n_tasks=-2.*positive integer"),
        (dict(rank=0), "rank=0.*positive integer"),
        (dict(n_rec=8.0), "n_rec=8.0.*positive integer"),
        (dict(alpha=0.0), "alpha=0.0"),
        (dict(sigma_rec=-0.1), "sigma_rec=-0.1"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    args = dict(mechanism="exc", n_rec=N, n_tasks=K) | kwargs
    with pytest.raises(ValueError, match=match):
        ModulatedRNN(args.pop("mechanism"), args.pop("n_rec"), args.pop("n_tasks"), **args)


def test_bad_forward_inputs():
    net = make("hybrid")
    x = inputs()
    with pytest.raises(
        ValueError, match=r"x: expected shape \(T, B, n_in\) with n_in = 5, got \(6, 4\)"
    ):
        net(x[:, :, 0], one_hot(0))
    with pytest.raises(ValueError, match=r"x: .*got \(6, 4, 3\)"):
        net(x[..., :3], one_hot(0))
    with pytest.raises(
        ValueError,
        match=r"c: expected shape \(B, K\) = \(4, 3\) or \(T, B, K\) = "
        r"\(6, 4, 3\), got \(4, 2\)",
    ):
        net(x, torch.zeros(B, 2))
    with pytest.raises(ValueError, match=r"c: .*got \(5, 3\)"):
        net(x, torch.zeros(5, K))
    with pytest.raises(ValueError, match=r"c: .*got \(7, 4, 3\)"):
        net(x, torch.zeros(7, B, K))
    with pytest.raises(ValueError, match=r"c: .*got list"):
        net(x, [[1.0, 0.0, 0.0]] * B)
    with pytest.raises(ValueError, match=r"syn_context: .*got \(3,\)"):
        net(x, one_hot(0), syn_context=torch.zeros(K))
    with pytest.raises(
        ValueError, match=r"c: expected a tensor of shape \(K,\) = \(3,\), got \(4, 3\)"
    ):
        net.effective(one_hot(0))
    with pytest.raises(ValueError, match="pathway='rec'.*exc"):
        net.modulation_parameters("rec")


# ------------------------------------------------------------------ fused recurrence
@pytest.mark.parametrize("activation", ["softplus", "relu"])
@pytest.mark.parametrize("stacked", [False, True])
def test_fused_recurrence_gradcheck_float64(activation, stacked):
    """The hand-written backward through time against finite differences (drive and W)."""
    gen = torch.Generator().manual_seed(0)
    shape = (5, 2, 3, 4) if stacked else (5, 3, 4)  # (T, [S,] B, N)
    drive = torch.randn(shape, generator=gen, dtype=torch.float64).requires_grad_()
    W = (
        0.5 * torch.randn(shape[1:-2] + (4, 4), generator=gen, dtype=torch.float64)
    ).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda d, w: LeakyRecurrence.apply(d, w, 0.3, activation), (drive, W), eps=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("gain", [None, "trial", "time"])
@pytest.mark.parametrize("lowrank", [None, "trial", "time"])
def test_modulated_recurrence_gradcheck_float64(gain, lowrank):
    """Per-trial / time-varying gain and low-rank context against finite differences (drive,
    W, gain, U, V and the context coefficients)."""
    if gain is None and lowrank is None:
        pytest.skip("the plain recurrence: LeakyRecurrence")
    gen = torch.Generator().manual_seed(1)

    def rand(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64)).requires_grad_()

    steps, batch, units, ar = 4, 3, 5, 2
    lead = {"trial": (), "time": (steps,)}
    post = None if gain is None else rand(*lead[gain], batch, units, scale=0.5)
    U = V = coef = None
    if lowrank is not None:
        U, V, coef = (
            rand(units, ar, scale=0.5),
            rand(units, ar, scale=0.5),
            rand(*lead[lowrank], batch, ar),
        )
    args = (
        rand(steps, batch, units),
        rand(units, units, scale=0.4),
        0.3,
        "softplus",
        post,
        U,
        V,
        coef,
    )
    assert torch.autograd.gradcheck(
        lambda *a: ModulatedRecurrence.apply(*a), args, eps=1e-6, atol=1e-7
    )


def _forward_backward(net: ModulatedRNN, fused: bool, x, c, s=None):
    """Outputs, rates and every parameter's gradient of one noisy forward + backward."""
    net.fused = fused
    net.zero_grad(set_to_none=True)
    y, rates = net(x, c, syn_context=s, noise=True, generator=torch.Generator().manual_seed(3))
    (y.square().sum() + rates.sum()).backward()
    return y.detach(), rates.detach(), {n: p.grad.clone() for n, p in net.named_parameters()}


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("context", ["shared", "mixture", "trial", "time"])
def test_fused_path_equals_autograd_loop(mechanism, context):
    """Every mechanism and kind of context, through the fused recurrences (shared contexts,
    per-trial biases and gains, low-rank contexts) or the autograd loop they fall back to
    (per-trial mask and pre/post contexts): the forward is bitwise the autograd loop's, the
    gradients equal it to rounding (float64, so any formula slip would show far above 1e-10)."""
    net = perturb(make(mechanism, activation="softplus")).double()
    x = inputs().double()
    c = {
        "shared": one_hot(1),
        "mixture": 0.7 * one_hot(0) + 0.3 * one_hot(2),
        "trial": distinct_tasks(),
        "time": two_task_mix(shape=(T, B)),
    }[context].double()
    y0, r0, g0 = _forward_backward(net, False, x, c)
    y1, r1, g1 = _forward_backward(net, True, x, c)
    assert torch.equal(y0, y1) and torch.equal(r0, r1)
    for name in g0:
        torch.testing.assert_close(g1[name], g0[name], rtol=1e-10, atol=1e-12, msg=name)


def test_fused_path_is_float32_identical_forward_and_rounding_close_backward():
    """In float32, the default of training: forward bitwise, gradients within 1e-5 relative."""
    net = perturb(make("hybrid"))
    y0, r0, g0 = _forward_backward(net, False, inputs(), one_hot(2))
    y1, r1, g1 = _forward_backward(net, True, inputs(), one_hot(2))
    assert torch.equal(y0, y1) and torch.equal(r0, r1)
    for name in g0:
        torch.testing.assert_close(g1[name], g0[name], rtol=1e-5, atol=1e-6, msg=name)


def test_fused_path_split_contexts_and_relu():
    """A synaptic context distinct from the excitability one, and the relu ablation."""
    net = perturb(make("exc", activation="relu")).double()
    y0, _, g0 = _forward_backward(
        net, False, inputs().double(), one_hot(0).double(), one_hot(2).double()
    )
    y1, _, g1 = _forward_backward(
        net, True, inputs().double(), one_hot(0).double(), one_hot(2).double()
    )
    assert torch.equal(y0, y1)
    for name in g0:
        torch.testing.assert_close(g1[name], g0[name], rtol=1e-10, atol=1e-12, msg=name)
