"""Context-modulated leaky rate RNN: Yang et al. (2019) without rule inputs (SPEC §3-§4).

Dynamics, for t = 0..T-1 with r_0 = 0 and a = alpha = dt/tau:

    z_t     = g(c_t) * (W(s_t) r_t + W_in u~_t + b) + beta(c_t) + sqrt(2/a) sigma_rec xi_t
    r_{t+1} = (1 - a) r_t + a phi(z_t)
    y_t     = sigmoid(W_out r_{t+1} + b_out)     (read out from the new state, as Yang's code)

with u~_t = u_t + sqrt(2/a) sigma_x eta_t (Yang's input noise), xi, eta ~ N(0, I), phi = softplus
(relu as ablation). ``c`` drives the excitability pathway (g, beta) and ``s`` (default ``c``) the
synaptic pathway (W). Both are context vectors in R^K (K tasks), one-hot when unambiguous, but any
real value (mixtures, noise, scaling, zero) is well defined because every mechanism is affine in c
inside its parameters.

Mechanisms (SPEC §4; per-task parameter counts for N units and rank R; parameters stored task-major,
row ``k`` of each tensor belongs to task k):

    none         nothing                                            0
    exc_bias     beta(c) = c @ B,               B  (K, N)           N
    exc_gain     g(c) = softplus(c @ G + g0),   G  (K, N)           N
    exc          both                                               2N
    syn_mask     W(s) = W * (1 + sum_k s_k M_k), M (K, N, N)        N^2
    syn_lowrank  W(s) = W + sum_k s_k U_k V_k^T / N, U, V (K, N, R) 2NR
    syn_prepost  W(s) = diag(1 + s @ A) W diag(1 + s @ Bp), A, Bp (K, N)   2N
    hybrid       exc + syn_lowrank                                  2N + 2NR

Controls that separate *where* a modulation acts from *what* it modulates (the gain above scales
the whole current, input synapses included, while the synaptic pathways touch W only):

    exc_gain_rec    z = g(c) * (W r) + W_in u + b + noise           N   (gain on recurrence only)
    syn_prepost_in  z = a(s) * (W(s)' r + W_in u) + b + noise,      2N  (post-synaptic factor
                    W(s)' = W diag(1 + s @ Bp), a(s) = 1 + s @ A        on input synapses too)

Where gain and bias act: the gain multiplies the *total* current (recurrent + input + tonic b)
and beta is added after it, so phi(g I + beta) has slope g and threshold I = -beta/g, and the two
stay separately identifiable. g > 0 (softplus); with g = 1, beta = B c is exactly Yang's rule
input. The recurrent noise is intrinsic to the unit and is added after the gain.

Initialisation. Shared weights are drawn first from ``seed`` with a private generator, identically
for every mechanism: W_in ~ N(0, 1/n_in), W_out Glorot uniform, W_rec = 0.5 x Haar orthogonal
("randortho") or 0.5 I ("diag"), biases 0. The modulation parameters follow, at the scale of
Yang's rule-input weights, N(0, mod_init_std^2) with mod_init_std = 1/sqrt(n_in) by default (B, G,
M, A, Bp and the low-rank V; U ~ N(0, 1); g0 = softplus^-1(1), so g = 1 at c = 0): each task
starts with a small distinct modulation, which avoids the long context-blind plateau of an
all-zero start. ``mod_init_std=0`` gives zero modulation, where every mechanism equals ``none``.

Computation. The input drive of all T steps is one GEMM with bias, gain, beta and noise folded in
(:func:`input_drive`); the readout of all steps is one GEMM. When the context is the same for every
trial and step (one-task batches, how training runs), W(s), g and beta are computed once and g is
folded into the rows of W_in, b and W(s), so the recurrence is the plain RNN's; it then runs in
:class:`LeakyRecurrence` (forward bitwise the autograd loop's, hand-written backward through time),
as it does whenever only a bias differs between trials. Otherwise (per-trial or time-varying
synaptic contexts or gains) the step is recorded by autograd, without per-trial weights: the
synaptic terms are restricted to the tasks A active in the batch: low-rank
r W^T + ((r V_A) * s_A) U_A^T / N; mask one GEMM of [r, s_k r for k in A] against the stacked
[W; W*M_k for k in A]^T, (1+|A|) x the plain GEMM; pre/post a(s) * ((b(s) * r) W^T); a per-trial
gain multiplies the recurrent current. Timings: docs/performance.md.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from lib.core.checks import check_choice, check_positive_int

MECHANISMS = (
    "none",
    "exc_bias",
    "exc_gain",
    "exc",
    "syn_mask",
    "syn_lowrank",
    "syn_prepost",
    "hybrid",
    "exc_gain_rec",
    "syn_prepost_in",
)
ACTIVATIONS = ("softplus", "relu")
W_REC_INITS = ("randortho", "diag")
PATHWAYS = ("exc", "syn")

_HAS_BIAS = frozenset({"exc_bias", "exc", "hybrid"})
_HAS_GAIN = frozenset({"exc_gain", "exc", "hybrid", "exc_gain_rec"})
_SYN_KIND = {
    "syn_mask": "mask",
    "syn_lowrank": "lowrank",
    "syn_prepost": "prepost",
    "hybrid": "lowrank",
    "syn_prepost_in": "prepost",
}
GAIN_ON_RECURRENT = frozenset({"exc_gain_rec"})
"""Controls whose gain scales the recurrent current only (not the input synapses, nor b)."""
SYN_ON_INPUT = frozenset({"syn_prepost_in"})
"""Controls whose post-synaptic factor also scales the input synapses W_in."""


def mechanism_pathways(mechanism: str) -> tuple[str, ...]:
    """The pathways (of :data:`PATHWAYS`) through which a network of ``mechanism`` receives its
    context: ``"exc"`` where it has a gain or a bias, ``"syn"`` where its recurrent weights are
    modulated; ``()`` for ``"none"``."""
    check_choice("mechanism", mechanism, MECHANISMS)
    has = {"exc": mechanism in _HAS_BIAS | _HAS_GAIN, "syn": mechanism in _SYN_KIND}
    return tuple(p for p in PATHWAYS if has[p])


# g0 = softplus^-1(1) = log(e - 1): the gain is exactly 1 at initialisation and for c = 0
G0 = math.log(math.expm1(1.0))


def default_mod_init_std(n_in: int) -> float:
    """The s.d. of the initial modulation parameters when none is given: 1 / sqrt(n_in)."""
    return 1.0 / math.sqrt(n_in)


def _per_step(v: torch.Tensor | None, T: int) -> Iterable[torch.Tensor | None]:
    """Per-step views of a time-varying (T, B, .) tensor; the tensor itself T times otherwise."""
    if v is None or v.dim() < 3:
        return itertools.repeat(v, T)
    return v.unbind(0)  # never v[t]: indexing a grad tensor allocates (T, B, .) per step backward


class ModulatedRNN(nn.Module):
    """Leaky softplus RNN whose gain/bias (excitability) or recurrent weights (synaptic) depend on a
    context vector. See the module docstring for equations, mechanisms and initialisation.

    Args:
        mechanism: one of ``MECHANISMS``.
        n_rec: N, number of recurrent units.
        n_tasks: K, context dimension.
        rank: R of the low-rank pathway (``syn_lowrank``, ``hybrid``).
        n_in, n_out: input and output sizes (65 and 33 for Yang's battery without rule units).
        alpha: a = dt/tau in (0, 1].
        sigma_rec, sigma_x: recurrent and input noise standard deviations (before sqrt(2/a)).
        activation: ``"softplus"`` or ``"relu"``.
        w_rec_init: ``"randortho"`` (0.5 x random orthogonal) or ``"diag"`` (0.5 I).
        seed: seed of the private generator that draws all initial weights.
        mod_init_std: s.d. of the initial modulation parameters (default 1/sqrt(n_in); 0 = none).
    """

    # attribute types (declarations only: the modulation parameters exist only for the
    # mechanisms that have them, see ``modulation_parameters``)
    mechanism: str
    n_rec: int
    n_tasks: int
    rank: int
    n_in: int
    n_out: int
    alpha: float
    sigma_rec: float
    sigma_x: float
    activation: str
    w_rec_init: str
    seed: int
    _syn: str | None
    _phi: Callable[[torch.Tensor], torch.Tensor]
    fused: bool
    W_in: nn.Parameter
    W_rec: nn.Parameter
    b: nn.Parameter
    W_out: nn.Parameter
    b_out: nn.Parameter
    B: nn.Parameter
    G: nn.Parameter
    M: nn.Parameter
    U: nn.Parameter
    V: nn.Parameter
    A: nn.Parameter
    Bp: nn.Parameter

    def __init__(
        self,
        mechanism: str,
        n_rec: int,
        n_tasks: int,
        rank: int = 1,
        *,
        n_in: int = 65,
        n_out: int = 33,
        alpha: float = 0.2,
        sigma_rec: float = 0.05,
        sigma_x: float = 0.01,
        activation: str = "softplus",
        w_rec_init: str = "randortho",
        seed: int = 0,
        mod_init_std: float | None = None,
    ):
        super().__init__()
        check_choice("mechanism", mechanism, MECHANISMS)
        check_choice("activation", activation, ACTIVATIONS)
        check_choice("w_rec_init", w_rec_init, W_REC_INITS)
        for name, value in (
            ("n_rec", n_rec),
            ("n_tasks", n_tasks),
            ("rank", rank),
            ("n_in", n_in),
            ("n_out", n_out),
        ):
            check_positive_int(name, value)
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha={alpha!r} is not allowed; expected 0 < alpha <= 1")
        for sigma_name, sigma in (("sigma_rec", sigma_rec), ("sigma_x", sigma_x)):
            if not sigma >= 0.0:
                raise ValueError(f"{sigma_name}={sigma!r} is not allowed; expected a value >= 0")
        mod_init_std = default_mod_init_std(n_in) if mod_init_std is None else mod_init_std
        if not (isinstance(mod_init_std, numbers.Real) and 0.0 <= mod_init_std < math.inf):
            raise ValueError(
                f"mod_init_std={mod_init_std!r} is not allowed; expected a finite value >= 0"
            )
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"seed={seed!r} is not allowed; expected an integer")
        self.mechanism = mechanism
        self.n_rec, self.n_tasks, self.rank = int(n_rec), int(n_tasks), int(rank)
        self.n_in, self.n_out, seed = int(n_in), int(n_out), int(seed)
        self.alpha, self.sigma_rec, self.sigma_x = float(alpha), float(sigma_rec), float(sigma_x)
        self.activation, self.w_rec_init, self.seed = activation, w_rec_init, seed
        self._syn = _SYN_KIND.get(mechanism)
        self._phi = F.softplus if activation == "softplus" else torch.relu
        self.fused = True
        """Run the recurrence with :class:`LeakyRecurrence` where it applies (a context shared by
        the batch, or a per-trial bias only); ``False`` records the plain loop with autograd
        (the reference the fused path is tested against)."""

        N, K, R, n_in, n_out = self.n_rec, self.n_tasks, self.rank, self.n_in, self.n_out
        gen = torch.Generator().manual_seed(seed)
        # shared weights first, in a fixed order, so every mechanism starts from the same network
        w_in = torch.randn(N, n_in, generator=gen) / math.sqrt(n_in)
        w_out = (2.0 * torch.rand(n_out, N, generator=gen) - 1.0) * math.sqrt(6.0 / (N + n_out))
        if w_rec_init == "randortho":
            q, upper = torch.linalg.qr(torch.randn(N, N, generator=gen))
            w_rec = 0.5 * q * torch.sign(torch.diagonal(upper))  # sign fix: Haar (Mezzadri 2007)
        else:
            w_rec = 0.5 * torch.eye(N)
        self.W_in = nn.Parameter(w_in)  # (N, n_in)
        self.W_rec = nn.Parameter(w_rec)  # (N, N), W[i, j]: j -> i
        self.b = nn.Parameter(torch.zeros(N))  # (N,)
        self.W_out = nn.Parameter(w_out)  # (n_out, N)
        self.b_out = nn.Parameter(torch.zeros(n_out))

        def mod(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=gen) * mod_init_std)

        if mechanism in _HAS_BIAS:
            self.B = mod(K, N)  # beta_k = B[k]
        if mechanism in _HAS_GAIN:
            self.G = mod(K, N)  # g(e_k) = softplus(G[k] + g0)
        if self._syn == "mask":
            self.M = mod(K, N, N)  # W(e_k) = W * (1 + M[k])
        elif self._syn == "lowrank":
            self.U = nn.Parameter(torch.randn(K, N, R, generator=gen))
            self.V = mod(K, N, R)  # W(e_k) = W + U[k] V[k]^T / N
        elif self._syn == "prepost":
            self.A = mod(K, N)  # post-synaptic: a(e_k) = 1 + A[k]
            self.Bp = mod(K, N)  # pre-synaptic:  b(e_k) = 1 + Bp[k]

    # ----------------------------------------------------------------- parameter bookkeeping
    def shared_parameters(self) -> list[nn.Parameter]:
        """[W_in, W_rec, b, W_out, b_out]: the context-independent network."""
        return [self.W_in, self.W_rec, self.b, self.W_out, self.b_out]

    def modulation_parameters(self, pathway: str | None = None) -> list[nn.Parameter]:
        """Per-task parameters of one pathway (``"exc"``: B, G; ``"syn"``: M or U, V or A, Bp) or
        of both (``None``); an empty list where the mechanism has none."""
        check_choice("pathway", pathway, (None,) + PATHWAYS)
        exc = [getattr(self, n) for n in ("B", "G") if hasattr(self, n)]
        syn = [getattr(self, n) for n in ("M", "U", "V", "A", "Bp") if hasattr(self, n)]
        return {"exc": exc, "syn": syn, None: exc + syn}[pathway]

    def params_per_task(self) -> int:
        """Modulation parameters per task (SPEC §4 table): 0, N, N, 2N, N^2, 2NR, 2N, 2N + 2NR."""
        return sum(p.numel() for p in self.modulation_parameters()) // self.n_tasks

    def extra_repr(self) -> str:
        return (
            f"mechanism={self.mechanism!r}, n_rec={self.n_rec}, n_tasks={self.n_tasks}, "
            f"rank={self.rank}, activation={self.activation!r}"
        )

    @torch.no_grad()
    def silence(self, units: torch.Tensor) -> None:
        """Lesion, in place: cut every connection leaving ``units`` (long tensor of indices), so
        their rates reach neither the recurrent network (W_rec columns, and the pre-synaptic
        low-rank factor V) nor the readout (W_out columns). Every synaptic pathway scales or adds
        to these columns, so they stay cut under any context."""
        self.W_rec[:, units] = 0.0
        self.W_out[:, units] = 0.0
        if hasattr(self, "V"):
            self.V[:, units, :] = 0.0

    # ----------------------------------------------------------------- context -> modulation
    def _excitability(self, c: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Gain g(c) and bias beta(c), each (..., N) for c (..., K), or None where absent."""
        g = F.softplus(c @ self.G + G0) if self.mechanism in _HAS_GAIN else None
        beta = c @ self.B if self.mechanism in _HAS_BIAS else None
        return g, beta

    @staticmethod
    def _active(s: torch.Tensor) -> torch.Tensor:
        """Indices of the tasks with any nonzero context entry in s (..., K); all of them when s
        requires grad (its gradient is then needed for every task)."""
        if s.requires_grad:
            return torch.arange(s.shape[-1], device=s.device)
        return torch.nonzero(s.reshape(-1, s.shape[-1]).ne(0).any(0)).flatten()

    def _dense_weight(self, s: torch.Tensor) -> torch.Tensor:
        """W(s), (N, N), for a single synaptic context s (K,)."""
        W = self.W_rec
        if self._syn == "prepost":
            return (1.0 + s @ self.A).unsqueeze(1) * W * (1.0 + s @ self.Bp)
        if self._syn is None:
            return W
        act = self._active(s)
        if act.numel() == 0:
            return W
        s_a = s[act]
        if self._syn == "mask":
            return W * (1.0 + torch.tensordot(s_a, self.M[act], dims=1))
        u = self.U[act] * s_a[:, None, None]  # (|A|, N, R)
        v = self.V[act]
        return W + torch.einsum("kir,kjr->ij", u, v) / self.n_rec

    def effective(
        self, c: torch.Tensor, syn_context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Effective gain g (N,), bias beta (N,) and recurrent matrix W (N, N) for one context
        vector c (K,) (and synaptic context, default c): the network then runs
        r <- (1-a) r + a phi(g * (W r + W_in u + b) + beta + noise).

        The controls are written in the same form: ``exc_gain_rec`` as g = 1 and W = diag(g) W;
        ``syn_prepost_in`` as g = a(s), W = W diag(1 + s @ Bp) and beta = (1 - a(s)) b (so that
        the tonic b stays unscaled)."""
        c = self._check_vector("c", c)
        s = c if syn_context is None else self._check_vector("syn_context", syn_context)
        g, beta = self._excitability(c)
        ones, zeros = self.W_rec.new_ones(self.n_rec), self.W_rec.new_zeros(self.n_rec)
        if self.mechanism in GAIN_ON_RECURRENT:
            assert g is not None  # every mechanism in GAIN_ON_RECURRENT has a gain
            return ones, zeros if beta is None else beta, g.unsqueeze(1) * self._dense_weight(s)
        if self.mechanism in SYN_ON_INPUT:
            post = 1.0 + s @ self.A
            return post, (1.0 - post) * self.b, self.W_rec * (1.0 + s @ self.Bp)
        return (ones if g is None else g, zeros if beta is None else beta, self._dense_weight(s))

    # ----------------------------------------------------------------- input validation
    def _check_vector(self, name: str, c) -> torch.Tensor:
        if not isinstance(c, torch.Tensor) or c.shape != (self.n_tasks,):
            got = tuple(c.shape) if isinstance(c, torch.Tensor) else type(c).__name__
            raise ValueError(
                f"{name}: expected a tensor of shape (K,) = ({self.n_tasks},), got {got}"
            )
        return c.to(self.W_rec.dtype)

    def _check_context(self, name: str, c, T: int, B: int) -> torch.Tensor:
        """Validate c (B, K) or (T, B, K) and reduce it to its simplest form: (K,) when the same
        for every trial and step, (B, K) when constant in time, else (T, B, K). Contexts that
        require grad keep their shape so each trial gets its own gradient."""
        K = self.n_tasks
        if not isinstance(c, torch.Tensor) or c.shape not in ((B, K), (T, B, K)):
            got = tuple(c.shape) if isinstance(c, torch.Tensor) else type(c).__name__
            raise ValueError(
                f"{name}: expected shape (B, K) = ({B}, {K}) or (T, B, K) = "
                f"({T}, {B}, {K}), got {got}"
            )
        c = c.to(self.W_rec.dtype)
        if c.requires_grad:
            return c
        if c.dim() == 3 and torch.equal(c, c[:1].expand_as(c)):
            c = c[0]
        if torch.equal(c, c[:1].expand_as(c)):
            return c[0]
        return c

    # ----------------------------------------------------------------- forward
    def forward(
        self,
        x: torch.Tensor,
        c: torch.Tensor,
        *,
        syn_context: torch.Tensor | None = None,
        noise: bool = True,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network on a batch.

        Args:
            x: inputs u, (T, B, n_in).
            c: excitability context, (B, K) or (T, B, K) (time-varying).
            syn_context: synaptic context, same shapes; default ``c``.
            noise: add input noise sqrt(2/a) sigma_x and recurrent noise sqrt(2/a) sigma_rec.
            generator: torch.Generator for the noise (input noise drawn before recurrent noise).

        Returns:
            y_hat (T, B, n_out) = sigmoid(W_out r_{t+1} + b_out), and the rates r_1..r_T (T, B, N).

        The fastest path is chosen from the values of the contexts: shared (identical for all
        trials and steps), per-trial, or time-varying; contexts that require grad always take the
        general path with every task active, so each trial and task gets its exact gradient.
        """
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[-1] != self.n_in:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected shape (T, B, n_in) with n_in = {self.n_in}, got {got}")
        T, B, _ = x.shape
        N = self.n_rec
        dtype = self.W_rec.dtype
        x = x.to(dtype)
        c = self._check_context("c", c, T, B)
        s = c if syn_context is None else self._check_context("syn_context", syn_context, T, B)

        g, beta = self._excitability(c)
        U = U_t = V = coef = pre = post = None
        step = "dense"
        W: torch.Tensor
        if self._syn is None or s.dim() == 1:
            W = self._dense_weight(s)
        elif self._syn == "prepost":
            step, W = "prepost", self.W_rec
            pre, post = 1.0 + s @ self.Bp, 1.0 + s @ self.A  # (.., B, N)
        else:
            act = self._active(s)
            W = self.W_rec
            if act.numel() > 0:
                step = self._syn
                if step == "lowrank":  # columns ordered (task, rank), matching coef
                    V = self.V[act].permute(1, 0, 2).reshape(N, -1)  # (N, |A|R)
                    U = self.U[act].permute(1, 0, 2).reshape(N, -1) / N  # (N, |A|R)
                    coef = s[..., act].repeat_interleave(self.rank, dim=-1)  # (.., B, |A|R)
                else:  # mask: stacked blocks [W, W*M_k], (1+|A|, N, N)
                    W = torch.cat([W.unsqueeze(0), W * self.M[act]])
                    coef = torch.cat([s.new_ones(s.shape[:-1] + (1,)), s[..., act]], dim=-1)

        w_in: torch.Tensor = self.W_in
        bias: torch.Tensor = self.b
        in_gain = None  # a per-trial factor on the input current only (syn_prepost_in)
        if self.mechanism in GAIN_ON_RECURRENT:  # the gain scales the recurrent current only
            rec_gain, g = g, None
            assert rec_gain is not None  # every mechanism in GAIN_ON_RECURRENT has a gain
            if rec_gain.dim() == 1:
                W = rec_gain.unsqueeze(-1) * W
            else:
                post = rec_gain if post is None else post * rec_gain
        if self.mechanism in SYN_ON_INPUT:  # the post-synaptic factor scales W_in as well
            a_in = 1.0 + s @ self.A
            if a_in.dim() == 1:
                w_in = a_in.unsqueeze(-1) * w_in
            else:
                in_gain = a_in
        # A shared gain is folded into the rows of every weight that feeds z (W_in, b, W, U), so
        # the loop is the plain RNN's; a per-trial gain multiplies the drive and each step.
        if g is not None and g.dim() == 1:
            w_in, bias = g.unsqueeze(-1) * w_in, g * bias
            W = g.unsqueeze(-1) * W
            if U is not None:
                U = g.unsqueeze(-1) * U
            g = None
        elif g is not None:
            post = g if post is None else post * g
        if step == "mask":  # input-side expansion: [r, s_k r] (B, (1+|A|)N) @ Wt ((1+|A|)N, N)
            Wt = W.transpose(1, 2).reshape(-1, N)
        else:
            Wt = W.t()
        if U is not None:
            U_t = U.t()

        if in_gain is None:
            P = self._drive(x, w_in, bias, g, beta, noise, generator)  # (T, B, N)
        else:  # a(s) * (W_in u~) + b: the gain slot carries a(s), the tonic b goes after it
            P = self._drive(x, w_in, torch.zeros_like(bias), in_gain, bias, noise, generator)
        phi, a = self._phi, self.alpha
        if self.fused and (step == "lowrank" or (step == "dense" and W.dim() == 2)):
            if step == "dense" and post is None:
                rates = leaky_recurrence(P, W, a, self.activation)
            else:
                rates = ModulatedRecurrence.apply(P, W, a, self.activation, post, U, V, coef)
            y = torch.addmm(self.b_out, rates.reshape(T * B, N), self.W_out.t()).sigmoid_()
            return y.view(T, B, self.n_out), rates
        r = x.new_zeros(B, N)
        states = []
        for P_t, post_t, coef_t, pre_t in zip(
            P.unbind(0), _per_step(post, T), _per_step(coef, T), _per_step(pre, T)
        ):
            if step == "mask":
                assert coef_t is not None  # the mask step always has its context coefficients
                inp = (coef_t.unsqueeze(-1) * r.unsqueeze(1)).flatten(1)
            elif step == "prepost":
                assert pre_t is not None  # the pre/post step always has its pre factor
                inp = r * pre_t
            else:
                inp = r
            if post_t is None:
                z = torch.addmm(P_t, inp, Wt)
                if step == "lowrank":  # always with its factors and coefficients
                    assert V is not None and U_t is not None and coef_t is not None
                    z = torch.addmm(z, r.mm(V) * coef_t, U_t)
            else:
                cur = inp.mm(Wt)
                if step == "lowrank":
                    assert V is not None and U_t is not None and coef_t is not None
                    cur = torch.addmm(cur, r.mm(V) * coef_t, U_t)
                z = torch.addcmul(P_t, post_t, cur)
            r = torch.lerp(r, phi(z), a)
            states.append(r)
        rates = torch.stack(states)
        y = torch.addmm(self.b_out, rates.view(T * B, N), self.W_out.t()).sigmoid_()
        return y.view(T, B, self.n_out), rates

    def _drive(
        self,
        x: torch.Tensor,
        w_in: torch.Tensor,
        bias: torch.Tensor,
        gain: torch.Tensor | None,
        beta: torch.Tensor | None,
        noise: bool,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """:func:`input_drive` with this network's constants."""
        return input_drive(
            x,
            w_in,
            bias,
            gain,
            beta,
            noise,
            generator,
            alpha=self.alpha,
            sigma_x=self.sigma_x,
            sigma_rec=self.sigma_rec,
        )


def input_drive(
    x: torch.Tensor,
    w_in: torch.Tensor,
    bias: torch.Tensor,
    gain: torch.Tensor | None,
    beta: torch.Tensor | None,
    noise: bool,
    generator: torch.Generator | None,
    *,
    alpha: float,
    sigma_x: float,
    sigma_rec: float,
) -> torch.Tensor:
    """Everything in z_t but the recurrent current, for all steps at once (T, B, N):
    gain * (u~_t @ w_in^T + bias) + beta + sqrt(2/a) sigma_rec xi_t, as one GEMM whose addend
    holds bias, beta and noise when the gain is absent (or already folded into w_in, bias).

    x (T, B, n_in), w_in (N, n_in). With ``noise`` the generator draws the input noise
    (T B, n_in) first, then the recurrent noise (T, B, N): the one place that fixes this order,
    which :class:`ModulatedRNN` and the ensemble trainer (``lib.core.ensemble``) share, so a
    member of an ensemble sees exactly the noise of the single network.
    Large temporaries are updated in place: each fresh (T, B, N) buffer costs page faults."""
    T, B, n_in = x.shape
    N = w_in.shape[0]
    x2 = x.reshape(T * B, n_in)
    rec_noise = None
    if noise:
        scale = math.sqrt(2.0 / alpha)
        x2 = (
            torch.randn(T * B, n_in, generator=generator, device=x.device, dtype=x.dtype)
            .mul_(scale * sigma_x)
            .add_(x2)
        )
        rec_noise = torch.randn(T, B, N, generator=generator, device=x.device, dtype=x.dtype).mul_(
            scale * sigma_rec
        )
    if gain is None:
        addend = bias if beta is None else bias + beta
        if rec_noise is not None:
            addend = rec_noise.add_(addend)
        if addend.dim() > 1:
            addend = addend.expand(T, B, N).reshape(T * B, N)
        return torch.addmm(addend, x2, w_in.t()).view(T, B, N)
    current = torch.addmm(bias, x2, w_in.t()).view(T, B, N)
    after = beta if rec_noise is None else (rec_noise if beta is None else rec_noise.add_(beta))
    return current * gain if after is None else torch.addcmul(after, current, gain)


class LeakyRecurrence(torch.autograd.Function):
    """The recurrence r_{t+1} = (1 - a) r_t + a phi(P_t + r_t W^T), r_0 = 0, t = 0..T-1, with a
    hand-written backward through time.

    Shapes: drive P (T, B, N) with W (N, N) (one network), or P (T, S, B, N) with W (S, N, N)
    (S stacked networks, one batched product per step); time-major, so every step's slice is
    contiguous (strided slices make each op about 1.5x slower). Returns r_1..r_T, shaped as P.

    Forward runs the ops of the plain autograd loop (``addmm`` / ``baddbmm``, phi, ``lerp``) in
    the same order, so its values are bitwise those of that loop, but writes z_t and r_t into
    two preallocated buffers instead of recording a graph. Backward, with h_t = dL/dr_{t+1}
    (from the outputs and from step t + 1) and D = a phi'(Z) computed for all steps at once:

        dz_t = h_t * D_t,     h_{t-1} = dR_{t-1} + (1 - a) h_t + dz_t W,

    three ops per step (autograd records about a dozen), then dP = dZ and
    dW = dZ^T [r_0 .. r_{T-1}], one GEMM over all T B rows instead of T small ones. Only the
    floating-point summation order differs from autograd's gradients (float32 rounding).
    Pure torch ops: the same code runs on any device.
    """

    @staticmethod
    def forward(ctx, drive: torch.Tensor, W: torch.Tensor, alpha: float, activation: str):
        Z = drive.clone(memory_format=torch.contiguous_format)  # z_t = P_t + r_t W^T, in place
        R = drive.new_empty((drive.shape[0] + 1,) + drive.shape[1:])  # R[0] = r_0 = 0
        phi = F.softplus if activation == "softplus" else torch.relu
        Wt = W.transpose(-1, -2)
        rs = R.unbind(0)
        r = rs[0].zero_()
        for z_t, r_next in zip(Z.unbind(0), rs[1:]):
            z = z_t.baddbmm_(r, Wt) if W.dim() == 3 else z_t.addmm_(r, Wt)
            r = torch.lerp(r, phi(z), alpha, out=r_next)
        ctx.save_for_backward(W)
        ctx.buffers = (Z, R)
        ctx.alpha, ctx.activation = alpha, activation
        return R[1:]

    @staticmethod
    def backward(ctx, grad_rates: torch.Tensor):
        (W,) = ctx.saved_tensors
        Z, R = ctx.buffers
        a, T, N = ctx.alpha, Z.shape[0], Z.shape[-1]
        D = torch.sigmoid(Z) if ctx.activation == "softplus" else Z.gt(0).to(Z.dtype)
        D.mul_(a)  # a phi'(z), all steps
        dZ = torch.empty_like(Z)
        grads, ds, dzs = grad_rates.unbind(0), D.unbind(0), dZ.unbind(0)
        h = grads[T - 1]
        for t in range(T - 1, -1, -1):
            dz = torch.mul(h, ds[t], out=dzs[t])
            if t > 0:
                h = torch.add(grads[t - 1], h, alpha=1.0 - a)
                if W.dim() == 3:
                    h.baddbmm_(dz, W)
                else:
                    h.addmm_(dz, W)
        dW = None
        if ctx.needs_input_grad[1]:  # dW = dZ^T [r_0 .. r_{T-1}], one GEMM over all T B rows
            if W.dim() == 3:  # member-major copies (S, T B, N) for one batched GEMM
                S = W.shape[0]
                rows = R[:T].transpose(0, 1).reshape(S, -1, N)
                dW = torch.bmm(dZ.transpose(0, 1).reshape(S, -1, N).transpose(1, 2), rows)
            else:
                dW = torch.mm(dZ.reshape(-1, N).t(), R[:T].reshape(-1, N))
        return (dZ if ctx.needs_input_grad[0] else None), dW, None, None


class ModulatedRecurrence(torch.autograd.Function):
    """One network's recurrence with per-trial (or time-varying) modulation, hand-written
    backward through time:

        cur_t   = r_t W^T + ((r_t V) * c_t) U^T                (low-rank term only with U, V, c)
        z_t     = P_t + g_t * cur_t                            (z_t = P_t + cur_t without g)
        r_{t+1} = (1 - a) r_t + a phi(z_t),    r_0 = 0,

    P (T, B, N), W (N, N), U and V (N, AR), c (B, AR) or (T, B, AR), g (B, N) or (T, B, N): the
    per-trial gain (``post``) and low-rank paths of ``ModulatedRNN.forward``. Forward runs that
    loop's ops in its order (bitwise its values), storing Z, R, Q = R V and cur_t (with g).
    Backward, with D = a phi'(Z), dcur_t = g_t * dz_t (dz_t without g):

        dz_t = h_t * D_t,   dq_t = (dcur_t U) * c_t,
        h_{t-1} = dR_{t-1} + (1 - a) h_t + dcur_t W + dq_t V^T,

    then over all T B rows at once: dP = dZ, dW = dCur^T R_prev, dU = dCur^T (Q * C),
    dV = R_prev^T dQ, dc = (dCur U) * Q and dg = dZ * Cur (summed over t where constant in
    time).
    """

    @staticmethod
    def forward(ctx, drive, W, alpha, activation, post, U, V, coef):
        T = drive.shape[0]
        lowrank = U is not None
        Z = drive.clone(memory_format=torch.contiguous_format)
        R = drive.new_empty((T + 1,) + drive.shape[1:])
        Cur = torch.empty_like(drive) if post is not None else None
        Q = drive.new_empty(T, drive.shape[1], V.shape[1]) if lowrank else None
        phi = F.softplus if activation == "softplus" else torch.relu
        Wt, U_t = W.t(), (U.t() if lowrank else None)
        rs = R.unbind(0)
        r = rs[0].zero_()
        posts, coefs = _per_step(post, T), _per_step(coef, T)
        curs, qs = _per_step(Cur, T), _per_step(Q, T)
        for z_t, post_t, coef_t, cur_t, q_t, r_next in zip(
            Z.unbind(0), posts, coefs, curs, qs, rs[1:]
        ):
            if post_t is None:
                z_t.addmm_(r, Wt)
                if lowrank:
                    z_t.addmm_(torch.mm(r, V, out=q_t) * coef_t, U_t)
            else:
                cur = torch.mm(r, Wt, out=cur_t)
                if lowrank:
                    assert U_t is not None  # lowrank: U is given
                    cur.addmm_(torch.mm(r, V, out=q_t) * coef_t, U_t)
                z_t.addcmul_(post_t, cur)
            r = torch.lerp(r, phi(z_t), alpha, out=r_next)
        ctx.save_for_backward(W, post, U, V, coef)
        ctx.buffers = (Z, R, Cur, Q)
        ctx.alpha, ctx.activation = alpha, activation
        return R[1:]

    @staticmethod
    def backward(ctx, grad_rates):
        W, post, U, V, coef = ctx.saved_tensors
        Z, R, Cur, Q = ctx.buffers
        a, T, N = ctx.alpha, Z.shape[0], Z.shape[-1]
        lowrank = U is not None
        D = torch.sigmoid(Z) if ctx.activation == "softplus" else Z.gt(0).to(Z.dtype)
        D.mul_(a)
        dZ = torch.empty_like(Z)
        dCur = dZ if post is None else torch.empty_like(Z)
        dQC = Z.new_empty(T, Z.shape[1], V.shape[1]) if lowrank else None  # dCur U
        Vt = V.t() if lowrank else None
        grads, ds, dzs, dcurs = (X.unbind(0) for X in (grad_rates, D, dZ, dCur))
        posts, coefs, dqcs = (list(_per_step(X, T)) for X in (post, coef, dQC))
        h = grads[T - 1]
        for t in range(T - 1, -1, -1):
            dz = torch.mul(h, ds[t], out=dzs[t])
            dcur = dz if post is None else torch.mul(dz, cast(torch.Tensor, posts[t]), out=dcurs[t])
            if lowrank:
                dqc = torch.mm(dcur, U, out=dqcs[t])
            if t > 0:
                h = torch.add(grads[t - 1], h, alpha=1.0 - a).addmm_(dcur, W)
                if lowrank:
                    assert Vt is not None  # lowrank: V is given
                    h.addmm_(dqc * cast(torch.Tensor, coefs[t]), Vt)
        rows, dcur2 = R[:T].reshape(-1, N), dCur.reshape(-1, N)
        need = ctx.needs_input_grad
        dW = torch.mm(dcur2.t(), rows) if need[1] else None
        d_post = dU = dV = d_coef = None
        if post is not None and need[4]:
            d_post = dZ * Cur
            d_post = d_post if post.dim() == 3 else d_post.sum(0)
        if lowrank:
            C = coef if coef.dim() == 3 else coef.expand(T, *coef.shape)
            if need[5]:
                dU = torch.mm(dcur2.t(), (Q * C).reshape(-1, Q.shape[-1]))
            if need[6]:
                dV = torch.mm(rows.t(), (dQC * C).reshape(-1, Q.shape[-1]))
            if need[7]:
                d_coef = dQC * Q
                d_coef = d_coef if coef.dim() == 3 else d_coef.sum(0)
        return (dZ if need[0] else None), dW, None, None, d_post, dU, dV, d_coef


def leaky_recurrence(
    drive: torch.Tensor, W: torch.Tensor, alpha: float, activation: str
) -> torch.Tensor:
    """The rates r_1..r_T of :class:`LeakyRecurrence`: drive (T, B, N) with W (N, N), or drive
    (T, S, B, N) with W (S, N, N); ``activation`` is ``"softplus"`` or ``"relu"``."""
    return LeakyRecurrence.apply(drive, W, alpha, activation)


__all__ = [
    "MECHANISMS",
    "ACTIVATIONS",
    "W_REC_INITS",
    "PATHWAYS",
    "mechanism_pathways",
    "G0",
    "GAIN_ON_RECURRENT",
    "SYN_ON_INPUT",
    "ModulatedRNN",
    "input_drive",
    "default_mod_init_std",
    "LeakyRecurrence",
    "ModulatedRecurrence",
    "leaky_recurrence",
]
