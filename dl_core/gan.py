"""Generative adversarial networks on 2-D targets, GAN Lab style, plus the theory.

A generator G maps noise z to a point x = G(z) in the plane; a discriminator D
maps a point to a logit a(x), with D(x) = sigmoid(a(x)) the probability that x
is real. They play

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].

Both networks are small MLPs whose parameters live in one flat vector each, so
an optimizer update is a handful of tensor ops. Forward and backward passes are
written by hand (a fused step: about 60 ops per generator step, roughly three
times faster than autograd here) and the tests check them, the losses and the
optimizers against ``torch.nn``, autograd and ``torch.optim``. WGAN-GP needs a
gradient of a gradient and uses the autograd path (``functional_forward``).

Symbols follow the page: real samples ``x`` (B, 2), noise ``z`` (B, n_z),
generated samples ``x_fake = G(z)`` (B, 2), logits ``a`` (the discriminator's
raw output), ``D = sigmoid(a)``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from dl_core import engine, optim
from dl_core.device import pick
from dl_core.training import check_choice, check_range, generator, one_thread, timer

TARGETS = ("ring", "grid", "spiral", "moons", "line")
TARGET_LABELS = {
    "ring": "Ring of 8 Gaussians",
    "grid": "5 × 5 grid of Gaussians",
    "spiral": "Spiral",
    "moons": "Two moons",
    "line": "A line",
}
NOISES = ("gaussian", "uniform")
LOSSES = ("minimax", "nonsaturating", "least_squares", "wgan_gp")
LOSS_LABELS = {
    "minimax": "Minimax (original)",
    "nonsaturating": "Non-saturating",
    "least_squares": "Least squares (LSGAN)",
    "wgan_gp": "Wasserstein + gradient penalty",
}
OPTIMIZERS = ("adam", "sgd")
ACTIVATIONS = ("relu", "leaky_relu", "tanh")

MAX_STEPS = 20_000  # generator steps in one train() call
MAX_BATCH = 1024
MAX_HIDDEN = 256  # units per hidden layer
MAX_LAYERS = 4  # hidden layers per network
MAX_NOISE_DIM = 16
MAX_D_STEPS = 10
MAX_EVAL_SAMPLES = 4096
MAX_GRID = 120  # cells per side of the density / heat-map grid
VIEW = 3.0  # every target lies in the square [-VIEW, VIEW]^2
LEAK = 0.2  # slope of leaky ReLU for negative inputs
GP_WEIGHT = 1.0  # alpha, the gradient penalty's weight (the paper's lambda = 10; small 2-D critics need little)
DIVERGED_ABS = 1e4  # |x_fake| beyond this counts as diverged (far off the plot)
WGAN_BETA2 = 0.9  # Adam's beta2 for WGAN-GP, as in Gulrajani et al. (0.999 otherwise)


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    name: str
    sigma: float  # standard deviation of the Gaussian noise around the skeleton
    skeleton: torch.Tensor  # (M, 2): noise-free points (Gaussian centres, or a dense curve)
    labels: torch.Tensor  # (M,): the mode (region) each skeleton point belongs to
    n_modes: int

    @property
    def quality_radius(self) -> float:
        """A sample is high quality within 3 sigma of the skeleton (98.9 % of real ones are)."""
        return 3.0 * self.sigma


def _curve(name: str, t: torch.Tensor) -> torch.Tensor:
    """Points of a curve target at parameters t in [0, 1], shape (n,) -> (n, 2)."""
    if name == "spiral":
        angle = 3.0 * math.pi * t  # one and a half turns
        r = 0.4 + 2.0 * t
        return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
    if name == "moons":  # sklearn's two moons, centred and scaled by 1.6
        upper = t < 0.5
        s = math.pi * torch.where(upper, 2 * t, 2 * t - 1)
        x = torch.where(upper, torch.cos(s), 1 - torch.cos(s))
        y = torch.where(upper, torch.sin(s), 0.5 - torch.sin(s))
        return 1.6 * torch.stack([x - 0.5, y - 0.25], dim=1)
    # line: y = x / 2 for x in [-2, 2]
    x = 4 * t - 2
    return torch.stack([x, 0.5 * x], dim=1)


_CURVE_MODES = {"spiral": 8, "moons": 8, "line": 5}
_SIGMA = {"ring": 0.1, "grid": 0.08, "spiral": 0.08, "moons": 0.08, "line": 0.06}


def target_spec(name: str) -> TargetSpec:
    """Modes and noise level of a target. For curves (spiral, moons, line) the
    "modes" are equal stretches of the curve's parameter, so covering all of
    them means covering the whole curve."""
    check_choice("target", name, TARGETS)
    if name == "ring":
        angle = torch.arange(8) * (2 * math.pi / 8)
        centres = 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (8, 2)
        return TargetSpec(name, _SIGMA[name], centres, torch.arange(8), 8)
    if name == "grid":
        v = torch.arange(-2.0, 2.5, 1.0)  # -2 .. 2
        gy, gx = torch.meshgrid(v, v, indexing="ij")
        centres = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (25, 2)
        return TargetSpec(name, _SIGMA[name], centres, torch.arange(25), 25)
    n = _CURVE_MODES[name]
    t = (torch.arange(2000) + 0.5) / 2000  # (2000,) dense parameter grid
    labels = (t * n).long().clamp(max=n - 1)
    return TargetSpec(name, _SIGMA[name], _curve(name, t), labels, n)


def sample_target(
    name: str, n: int, g: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """n real samples (n, 2), float32, drawn with the generator ``g``."""
    spec = target_spec(name)
    if name in ("ring", "grid"):
        k = torch.randint(spec.n_modes, (n,), generator=g, device=device)
        base = spec.skeleton.to(device)[k]  # (n, 2) chosen centres
    else:
        base = _curve(name, torch.rand(n, generator=g, device=device))
    return base + spec.sigma * torch.randn(n, 2, generator=g, device=device)


def sample_noise(
    kind: str, n: int, dim: int, g: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """z (n, dim): standard normal, or uniform on [-1, 1]."""
    if kind == "gaussian":
        return torch.randn(n, dim, generator=g, device=device)
    return torch.rand(n, dim, generator=g, device=device) * 2 - 1


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GanConfig:
    target: str = "ring"  # one of TARGETS
    noise: str = "gaussian"  # distribution of z: "gaussian" or "uniform"
    noise_dim: int = 2  # n_z, the dimension of z
    g_hidden: tuple[int, ...] = (64, 64)  # hidden layer sizes of the generator
    d_hidden: tuple[int, ...] = (64, 64)  # hidden layer sizes of the discriminator
    activation: str = (
        "tanh"  # hidden activation of both networks (tanh: 10/10 seeds cover the ring)
    )
    loss: str = "nonsaturating"  # one of LOSSES
    d_optimizer: str = "adam"  # optimizer of D: "adam" or "sgd"
    g_optimizer: str = "adam"  # optimizer of G
    d_lr: float = 2e-3  # learning rate of D
    g_lr: float = 2e-3  # learning rate of G
    beta1: float = 0.5  # Adam's first-moment decay (0.5 is the GAN custom)
    d_steps: int = 1  # updates of D per update of G
    batch_size: int = 128  # B, real and generated samples per step
    steps: int = 1000  # generator updates in one train() call
    eval_every: int = 100  # measure modes covered and JS every this many steps
    seed: int = 0  # seeds initial weights, noise and real batches

    def __post_init__(self) -> None:
        check_choice("target", self.target, TARGETS)
        check_choice("noise", self.noise, NOISES)
        check_range("noise dimension", self.noise_dim, 1, MAX_NOISE_DIM)
        for who, hidden in (("generator", self.g_hidden), ("discriminator", self.d_hidden)):
            check_range(f"number of {who} hidden layers", len(hidden), 1, MAX_LAYERS)
            for h in hidden:
                check_range(f"{who} hidden size", h, 1, MAX_HIDDEN)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("D optimizer", self.d_optimizer, OPTIMIZERS)
        check_choice("G optimizer", self.g_optimizer, OPTIMIZERS)
        check_range("D learning rate", self.d_lr, 1e-6, 10.0)
        check_range("G learning rate", self.g_lr, 1e-6, 10.0)
        check_range("beta1", self.beta1, 0.0, 0.999)
        check_range("D steps per G step", self.d_steps, 1, MAX_D_STEPS)
        check_range("batch size", self.batch_size, 2, MAX_BATCH)
        check_range("steps", self.steps, 1, MAX_STEPS)
        check_range("evaluation interval", self.eval_every, 1, MAX_STEPS)

    @classmethod
    def tiny(cls) -> GanConfig:
        return cls(g_hidden=(32, 32), d_hidden=(32, 32), batch_size=64, steps=200, eval_every=50)


# ---------------------------------------------------------------------------
# Hand-written MLPs: parameters as views of one flat vector
# ---------------------------------------------------------------------------


@dataclass
class Net:
    """An MLP; layer i computes h_{i+1} = act(h_i W_i + b_i), the last layer has no
    activation. W_i is (in, out), the transpose of ``torch.nn.Linear.weight``."""

    sizes: tuple[int, ...]  # (in, hidden..., out)
    act: str
    flat: torch.Tensor  # (P,) all parameters
    grad: torch.Tensor  # (P,) their gradient, written by backward()
    W: list[torch.Tensor]  # views into flat
    b: list[torch.Tensor]
    gW: list[torch.Tensor]  # views into grad
    gb: list[torch.Tensor]


def _views(flat: torch.Tensor, sizes: tuple[int, ...]):
    W, b, o = [], [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        W.append(flat[o : o + n_in * n_out].view(n_in, n_out))
        o += n_in * n_out
        b.append(flat[o : o + n_out])
        o += n_out
    return W, b


def n_params(sizes: tuple[int, ...]) -> int:
    return sum(i * o + o for i, o in itertools.pairwise(sizes))


def init_net(sizes: tuple[int, ...], act: str, g: torch.Generator, device) -> Net:
    """torch.nn.Linear's default init: W, b ~ U(-1/sqrt(in), 1/sqrt(in))."""
    flat = torch.empty(n_params(sizes), device=device)
    W, b = _views(flat, sizes)
    with torch.no_grad():
        for Wi, bi in zip(W, b):  # drawn on the CPU: the same on any device
            Wi.copy_(engine.torch_default(Wi.shape, Wi.shape[0], g, torch.float32))
            bi.copy_(engine.torch_default(bi.shape, Wi.shape[0], g, torch.float32))
    grad = torch.zeros_like(flat)
    gW, gb = _views(grad, sizes)
    return Net(sizes, act, flat, grad, W, b, gW, gb)


def forward(net: Net, x: torch.Tensor) -> list[torch.Tensor]:
    """[x, h_1, ..., h_L-1, out]: every layer's output (post-activation), kept for backward.
    The engine's dense layer and phi, in place."""
    hs = [x]
    last = len(net.W) - 1
    for i, (W, b) in enumerate(zip(net.W, net.b)):
        h = engine.dense(hs[-1], W, b)  # (N, out) = h W + b
        if i < last:
            engine.phi_(net.act, h, slope=LEAK)
        hs.append(h)
    return hs


def backward(
    net: Net, hs: list[torch.Tensor], d_out: torch.Tensor, params: bool = True, dx: bool = False
) -> torch.Tensor | None:
    """Backpropagate dL/d(out) (N, out) with the engine's dense backward. Writes dL/dW,
    dL/db into ``net.grad`` when ``params``; returns dL/dx (N, in) when ``dx``."""
    d = d_out
    for i in range(len(net.W) - 1, -1, -1):
        if params:
            engine.dense_backward(d, hs[i], net.W[i], net.gW[i], net.gb[i], dh=False)
        if i == 0 and not dx:
            return None
        d = d @ net.W[i].T  # (N, in): dL/dh of the layer below
        if i > 0:
            d = engine.delta(net.act, d, hs[i], slope=LEAK)  # dL/da = dL/dh * phi'(a)
    return d


def functional_forward(flat: torch.Tensor, sizes: tuple[int, ...], act: str, x: torch.Tensor):
    """The same MLP with autograd-friendly ops (F.linear): the reference, and the
    path for WGAN-GP, whose penalty differentiates through a gradient."""
    W, b = _views(flat, sizes)
    h = x
    for i, (Wi, bi) in enumerate(zip(W, b)):
        h = F.linear(h, Wi.T, bi)
        if i < len(W) - 1:
            h = engine.phi(act, h, slope=LEAK)
    return h


def torch_module(net: Net) -> torch.nn.Sequential:
    """A ``torch.nn`` copy of the hand-written net (same weights), for the tests."""
    layers: list[torch.nn.Module] = []
    for i, (W, b) in enumerate(zip(net.W, net.b)):
        lin = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            lin.weight.copy_(W.T)
            lin.bias.copy_(b)
        layers.append(lin)
        if i < len(net.W) - 1:
            layers.append(
                {
                    "relu": torch.nn.ReLU(),
                    "leaky_relu": torch.nn.LeakyReLU(LEAK),
                    "tanh": torch.nn.Tanh(),
                }[net.act]
            )
    return torch.nn.Sequential(*layers).to(net.flat.device)


# ---------------------------------------------------------------------------
# Losses, their gradients, and the numbers of the minimax game
# ---------------------------------------------------------------------------


def d_loss(loss: str, a_real: torch.Tensor, a_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss from logits a_real (B,), a_fake (B,) (WGAN: without
    the gradient penalty).

    minimax / non-saturating: -mean log D(x) - mean log(1 - D(G(z))), with
    log D = -softplus(-a) and log(1 - D) = -softplus(a);
    least squares: 1/2 mean (a_real - 1)^2 + 1/2 mean a_fake^2;
    WGAN: mean a_fake - mean a_real."""
    if loss in ("minimax", "nonsaturating"):
        return F.softplus(-a_real).mean() + F.softplus(a_fake).mean()
    if loss == "least_squares":
        return 0.5 * ((a_real - 1) ** 2).mean() + 0.5 * (a_fake**2).mean()
    return a_fake.mean() - a_real.mean()


def g_loss(loss: str, a_fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss from a_fake (B,).

    minimax: mean log(1 - D(G(z))) (minimised); non-saturating: -mean log D(G(z));
    least squares: 1/2 mean (a_fake - 1)^2; WGAN: -mean a_fake."""
    if loss == "minimax":
        return -F.softplus(a_fake).mean()
    if loss == "nonsaturating":
        return F.softplus(-a_fake).mean()
    if loss == "least_squares":
        return 0.5 * ((a_fake - 1) ** 2).mean()
    return -a_fake.mean()


def d_loss_grad(loss: str, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """dL_D/da for the stacked logits a (2B, 1) of real (y = 1) then fake (y = 0) samples.

    Sigmoid losses: (sigmoid(a) - y) / B; least squares: (a - y) / B."""
    B = a.shape[0] // 2
    if loss == "least_squares":
        return (a - y) / B
    return (torch.sigmoid(a) - y).div_(B)


def g_loss_grad(loss: str, a_fake: torch.Tensor) -> torch.Tensor:
    """dL_G/da for a_fake (B, 1).

    minimax: -sigmoid(a)/B = -D/B (vanishes when D rejects the fakes);
    non-saturating: (sigmoid(a) - 1)/B = -(1 - D)/B (largest exactly then);
    least squares: (a - 1)/B; WGAN: -1/B."""
    B = a_fake.shape[0]
    if loss == "minimax":
        return torch.sigmoid(a_fake).div_(-B)
    if loss == "nonsaturating":
        return (torch.sigmoid(a_fake) - 1).div_(B)
    if loss == "least_squares":
        return (a_fake - 1) / B
    return torch.full_like(a_fake, -1.0 / B)


def generator_gradients(D: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """For one sample with D = D(G(z)), dL_G/da for the minimax and the
    non-saturating generator loss: (-D, -(1 - D)). The chart of why the
    non-saturating loss is used: early on D(G(z)) is near 0, where the minimax
    gradient vanishes and the non-saturating one is largest."""
    D = np.asarray(D, dtype=np.float64)
    return -D, -(1 - D)


@dataclass(frozen=True)
class MinimaxNumbers:
    """The value of the game on one batch (the page writes these into the formula), and
    the losses of the variant actually trained, from the same logits."""

    B: int  # batch size
    mean_log_D_real: float  # (1/B) sum log D(x_i), D = sigmoid(a)
    mean_log_1m_D_fake: float  # (1/B) sum log(1 - D(G(z_i)))
    V: float  # the sum of the two: the value of the game on this batch
    L_D: float  # -V: the discriminator's loss for the minimax and non-saturating variants
    L_G_minimax: float  # = mean_log_1m_D_fake
    L_G_ns: float  # -(1/B) sum log D(G(z_i))
    D_real: np.ndarray  # (B,) D(x_i)
    D_fake: np.ndarray  # (B,) D(G(z_i))
    loss: str = "nonsaturating"  # the variant trained
    mean_a_real: float = 0.0  # (1/B) sum a(x_i): D's raw output (logit, LSGAN score, critic)
    mean_a_fake: float = 0.0  # (1/B) sum a(G(z_i))
    ls_real: float = 0.0  # 1/2 (1/B) sum (a(x_i) - 1)^2 (the least-squares terms)
    ls_fake: float = 0.0  # 1/2 (1/B) sum a(G(z_i))^2
    L_D_trained: float = 0.0  # d_loss(loss, a_real, a_fake) (WGAN: without the penalty)
    L_G_trained: float = 0.0  # g_loss(loss, a_fake)
    gp: float = 0.0  # WGAN-GP: the gradient penalty on this batch (one draw of interpolates)


def minimax_numbers(
    a_real: torch.Tensor, a_fake: torch.Tensor, loss: str = "nonsaturating", gp: float = 0.0
) -> MinimaxNumbers:
    """The terms of V(D, G) for D's raw outputs a_real (B,), a_fake (B,), read as logits,
    and the losses of ``loss`` from the same outputs (``gp``: WGAN-GP's penalty term)."""
    check_choice("loss", loss, LOSSES)
    with torch.no_grad():
        a_real, a_fake = a_real.flatten().double().cpu(), a_fake.flatten().double().cpu()
        lr_ = float(-F.softplus(-a_real).mean())
        lf = float(-F.softplus(a_fake).mean())
        return MinimaxNumbers(
            B=len(a_fake),
            mean_log_D_real=lr_,
            mean_log_1m_D_fake=lf,
            V=lr_ + lf,
            L_D=-(lr_ + lf),
            L_G_minimax=lf,
            L_G_ns=float(F.softplus(-a_fake).mean()),
            D_real=torch.sigmoid(a_real).numpy(),
            D_fake=torch.sigmoid(a_fake).numpy(),
            loss=loss,
            mean_a_real=float(a_real.mean()),
            mean_a_fake=float(a_fake.mean()),
            ls_real=float(0.5 * ((a_real - 1) ** 2).mean()),
            ls_fake=float(0.5 * (a_fake**2).mean()),
            L_D_trained=float(d_loss(loss, a_real, a_fake)),
            L_G_trained=float(g_loss(loss, a_fake)),
            gp=float(gp),
        )


def gradient_penalty(
    D: Net, x_real: torch.Tensor, x_fake: torch.Tensor, tau: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP's penalty mean_i (||grad a(x~_i)|| - 1)^2 on the random points
    x~ = tau x_real + (1 - tau) x_fake, tau (B, 1) in [0, 1] (Gulrajani et al. 2017, algorithm
    1, who write x^ and epsilon); the gradient of the critic's output with respect to its
    input comes from the hand-written backward pass (training uses autograd through it)."""
    x_tilde = tau * x_real + (1 - tau) * x_fake  # (B, 2)
    hs = forward(D, x_tilde)
    gx = backward(D, hs, torch.ones_like(hs[-1]), params=False, dx=True)  # (B, 2) da/dx~
    return ((gx.norm(dim=1) - 1) ** 2).mean()


def batch_numbers(state: GanState) -> MinimaxNumbers | None:
    """The minimax terms of the last training batch (its real x and its noise z) under the
    current D and G, so every number on the page comes from one pair of networks. None
    before the first step."""
    if state.last_X is None:
        return None
    with torch.no_grad():
        fake = forward(state.G, state.last_Z)[-1]  # (B, 2)
        a = forward(state.D, torch.cat([state.last_X, fake]))[-1][:, 0]  # (2B,)
        B = state.last_X.shape[0]
        gp = 0.0
        if state.cfg.loss == "wgan_gp":  # its own fixed draw of tau: the term as trained
            tau = torch.rand(B, 1, generator=generator(4321, state.device), device=state.device)
            gp = float(gradient_penalty(state.D, state.last_X, fake, tau))
        return minimax_numbers(a[:B], a[B:], state.cfg.loss, gp)


# ---------------------------------------------------------------------------
# Densities on a grid: optimal discriminator and Jensen-Shannon divergence
# ---------------------------------------------------------------------------


def grid_axis(n: int) -> torch.Tensor:
    """Centres of n cells across [-VIEW, VIEW], shape (n,)."""
    step = 2 * VIEW / n
    return -VIEW + step * (torch.arange(n, dtype=torch.float64) + 0.5)


def kde_grid(samples: torch.Tensor, axis: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """Gaussian kernel density estimate on the grid axis x axis, shape (n, n)
    indexed [y, x]: p(x, y) = (1/N) sum_i N(x; x_i, h^2) N(y; y_i, h^2).

    The kernel factorises, so the whole grid is one matrix product."""
    s = samples.detach().double().cpu()  # (N, 2)
    h = bandwidth
    norm = 1 / (math.sqrt(2 * math.pi) * h)
    Ex = torch.exp(-0.5 * ((axis[None, :] - s[:, :1]) / h) ** 2) * norm  # (N, n)
    Ey = torch.exp(-0.5 * ((axis[None, :] - s[:, 1:]) / h) ** 2) * norm  # (N, n)
    return Ey.T @ Ex / len(s)  # (n, n)


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor, floor: float = 1e-3):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), NaN where both densities are below
    ``floor`` times the larger peak (off both supports D* is undefined)."""
    tot = p_data + p_g
    dstar = p_data / tot.clamp_min(1e-300)
    cut = floor * max(float(p_data.max()), float(p_g.max()))
    return torch.where(tot > cut, dstar, torch.full_like(dstar, float("nan")))


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    """JS(P, Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q)/2, in nats (at most
    log 2 = 0.693), for densities on the same grid (normalised here)."""
    P, Q = p / p.sum(), q / q.sum()
    M = 0.5 * (P + Q)

    def kl(A: torch.Tensor) -> torch.Tensor:
        mask = A > 0
        return (A[mask] * torch.log(A[mask] / M[mask])).sum()

    return float(0.5 * kl(P) + 0.5 * kl(Q))


def game_value_at_optimum(p: torch.Tensor, q: torch.Tensor) -> float:
    """V(D*, G) = E_P[log D*] + E_Q[log(1 - D*)] on the grid; equals
    -log 4 + 2 JS(P, Q) (Goodfellow et al. 2014, theorem 1)."""
    P, Q = p / p.sum(), q / q.sum()
    dstar = P / (P + Q).clamp_min(1e-300)
    a = torch.where(P > 0, P * torch.log(dstar.clamp_min(1e-300)), torch.zeros_like(P))
    b = torch.where(Q > 0, Q * torch.log((1 - dstar).clamp_min(1e-300)), torch.zeros_like(Q))
    return float(a.sum() + b.sum())


# ---------------------------------------------------------------------------
# The best discriminator of each loss, point by point
# ---------------------------------------------------------------------------


def d_pointwise_loss(loss: str, p_data, p_g, d):
    """D's loss at one point x when D's value there is ``d``: the integrand of
    L_D = integral over x of p_data(x) l_real(D(x)) + p_g(x) l_fake(D(x)). A discriminator that
    may take any value at each x (no network in the way) minimises it point by point.

    ``d`` is a probability for the sigmoid losses and the raw output a(x) for the others:
    minimax / non-saturating (one D loss): -(p_data log d + p_g log(1 - d));
    least squares, targets 1 (real) and 0 (fake): 1/2 p_data (d - 1)^2 + 1/2 p_g d^2;
    WGAN (without its penalty): p_g d - p_data d, linear in d."""
    check_choice("loss", loss, LOSSES)
    if loss in ("minimax", "nonsaturating"):
        return -(p_data * np.log(d) + p_g * np.log1p(-d))
    if loss == "least_squares":
        return 0.5 * p_data * (d - 1) ** 2 + 0.5 * p_g * d**2
    return (p_g - p_data) * d


def optimal_d(loss: str, p_data, p_g):
    """The minimiser of ``d_pointwise_loss`` for densities p_data, p_g > 0 (arrays or floats).

    Sigmoid losses: D*(x) = p_data / (p_data + p_g) (Goodfellow et al. 2014, proposition 1).
    Least squares with targets 0 and 1: the raw output a*(x) = (1 p_data + 0 p_g) / (p_data +
    p_g), the same ratio (Mao et al. 2017, eq. 4 with a = 0, b = 1): a itself, not sigmoid(a),
    is the learned D to compare with D*. WGAN-GP: None. Its critic's loss is linear in its value
    at each x, so no value is best there; only the constraint (here the gradient penalty) makes
    the problem bounded, and its optimum is a 1-Lipschitz function defined up to a constant
    (Gulrajani et al. 2017, proposition 1), not a probability."""
    check_choice("loss", loss, LOSSES)
    if loss == "wgan_gp":
        return None
    return p_data / (p_data + p_g)


def d_view(loss: str, a: torch.Tensor) -> torch.Tensor:
    """What the page draws as D's output, from its raw output a: the quantity whose best value
    is D*. Sigmoid losses: D = sigmoid(a). Least squares: a itself, clipped to [0, 1] (its
    optimum lies there; sigmoid would squeeze [0, 1] into [0.5, 0.73] and hide it). WGAN-GP:
    the raw critic value, on its own scale."""
    if loss in ("minimax", "nonsaturating"):
        return torch.sigmoid(a)
    if loss == "least_squares":
        return a.clamp(0.0, 1.0)
    return a


# ---------------------------------------------------------------------------
# Mode coverage
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    covered: int  # modes that received at least min_share of their fair share
    n_modes: int
    quality: float  # share of samples within 3 sigma of the target's skeleton
    counts: np.ndarray  # (n_modes,) high-quality samples per mode


def mode_coverage(samples: torch.Tensor, spec: TargetSpec, min_share: float = 0.2) -> Coverage:
    """Modes covered out of N and the share of high-quality samples.

    A sample is high quality when it lies within ``spec.quality_radius`` (3 sigma)
    of the skeleton; it then belongs to the mode of its nearest skeleton point. A
    mode is covered when it holds at least ``min_share`` times the n/N samples it
    would get if the generator matched the target."""
    with torch.no_grad():
        s = samples.detach().float().cpu()  # (n, 2)
        dist = torch.cdist(s, spec.skeleton)  # (n, M)
        dmin, idx = dist.min(dim=1)
        good = dmin <= spec.quality_radius  # (n,)
        counts = torch.bincount(spec.labels[idx[good]], minlength=spec.n_modes)
        need = min_share * len(s) / spec.n_modes
        return Coverage(
            covered=int((counts >= need).sum()),
            n_modes=spec.n_modes,
            quality=float(good.float().mean()) if len(s) else 0.0,
            counts=counts.numpy(),
        )


# ---------------------------------------------------------------------------
# Training state, the fused step and the autograd reference step
# ---------------------------------------------------------------------------


@dataclass
class GanState:
    """Everything a live view needs between ticks (kept in state.session_state)."""

    cfg: GanConfig
    device: torch.device
    G: Net
    D: Net
    opt_G: optim.Flat
    opt_D: optim.Flat
    g_data: torch.Generator  # real batches and noise
    step: int = 0  # generator updates done
    diverged_at: int | None = None
    d_loss: list[float] = field(default_factory=list)  # per G step
    g_loss: list[float] = field(default_factory=list)
    log_D_real: list[float] = field(default_factory=list)  # mean log D(x) of the batch
    log_1m_D_fake: list[float] = field(default_factory=list)  # mean log(1 - D(G(z)))
    eval_steps: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    quality: list[float] = field(default_factory=list)
    js: list[float] = field(default_factory=list)
    last_X: torch.Tensor | None = None  # (B, 2) real samples of the last generator step
    last_Z: torch.Tensor | None = None  # (B, n_z) its noise
    y: torch.Tensor | None = None  # (2B, 1) labels of a D batch: 1 real, 0 fake
    seconds: float = 0.0  # wall time spent in advance()


def choose_device(cfg: GanConfig) -> torch.device:
    """Rule: work = B x (parameters of the larger network), about the multiply-adds of
    one layer pass. Below 2^21 the ~60 small kernel launches of a step cost more on a
    GPU than the arithmetic on the CPU. Measured on an H100 host (torch 2.11): the
    default (work 0.6 M) runs at 1,282 steps/s on the CPU vs 743 on CUDA; B = 512 with
    2 x 128 units (work 8.7 M) at 265 vs 684; B = 1024 with 4 x 256 units at 18 vs 623."""
    work = cfg.batch_size * max(
        n_params((cfg.noise_dim, *cfg.g_hidden, 2)), n_params((2, *cfg.d_hidden, 1))
    )
    return pick(small=work < 2**21)


def init_state(cfg: GanConfig, device: torch.device | str | None = None) -> GanState:
    dev = torch.device(device) if device is not None else choose_device(cfg)
    g_init = generator(cfg.seed)
    G = init_net((cfg.noise_dim, *cfg.g_hidden, 2), cfg.activation, g_init, dev)
    D = init_net((2, *cfg.d_hidden, 1), cfg.activation, g_init, dev)
    beta2 = WGAN_BETA2 if cfg.loss == "wgan_gp" else 0.999
    return GanState(
        cfg=cfg,
        device=dev,
        G=G,
        D=D,
        opt_G=optim.Flat(
            optim.OptimConfig(cfg.g_optimizer, cfg.g_lr, beta1=cfg.beta1, beta2=beta2)
        ),
        opt_D=optim.Flat(
            optim.OptimConfig(cfg.d_optimizer, cfg.d_lr, beta1=cfg.beta1, beta2=beta2)
        ),
        g_data=generator(cfg.seed + 1, dev),
    )


def _draw(state: GanState, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Real batches X (n, d, B, 2) and noise Z (n, d, B, n_z) for n generator steps."""
    c = state.cfg
    X = sample_target(c.target, n * c.d_steps * c.batch_size, state.g_data, state.device)
    Z = sample_noise(c.noise, n * c.d_steps * c.batch_size, c.noise_dim, state.g_data, state.device)
    return X.view(n, c.d_steps, c.batch_size, 2), Z.view(n, c.d_steps, c.batch_size, -1)


def fused_iteration(state: GanState, X: torch.Tensor, Z: torch.Tensor):
    """One generator step with its d_steps discriminator steps, hand-written.
    X (d, B, 2) real, Z (d, B, n_z) noise; the generator step reuses the last
    noise batch (G has not changed since). Returns the logits (a_d (2B, 1) of the
    last D step, a_g (B, 1) of the G step)."""
    c = state.cfg
    y = state.y  # (2B, 1): 1 for real, 0 for fake
    for j in range(c.d_steps):
        hg = forward(state.G, Z[j])  # generator activations, (B, 2) out
        hd = forward(state.D, torch.cat([X[j], hg[-1]]))  # (2B, 1) logits
        backward(state.D, hd, d_loss_grad(c.loss, hd[-1], y))
        optim.update_(state.opt_D, state.D.flat, state.D.grad)
    a_d = hd[-1]
    hf = forward(state.D, hg[-1])  # updated D on the same fakes
    dx = backward(state.D, hf, g_loss_grad(c.loss, hf[-1]), params=False, dx=True)  # (B, 2)
    backward(state.G, hg, dx)
    optim.update_(state.opt_G, state.G.flat, state.G.grad)
    return a_d, hf[-1]


def autograd_iteration(state: GanState, X: torch.Tensor, Z: torch.Tensor):
    """The same iteration with autograd and the losses as formulas (``d_loss``,
    ``g_loss``); WGAN-GP adds alpha E[(||grad a(x~)|| - 1)^2] (alpha = GP_WEIGHT) on random
    points x~ = tau x + (1 - tau) G(z) between real and generated ones. Writes the gradients
    into ``net.grad`` and updates with the same optimizer, so the tests can compare it with
    ``fused_iteration``."""
    c = state.cfg
    B = c.batch_size
    sG, sD = state.G.sizes, state.D.sizes
    for j in range(c.d_steps):
        with torch.no_grad():
            fake = functional_forward(state.G.flat, sG, c.activation, Z[j])
        wD = state.D.flat.detach().requires_grad_()
        a = functional_forward(wD, sD, c.activation, torch.cat([X[j], fake]))  # (2B, 1)
        L = d_loss(c.loss, a[:B, 0], a[B:, 0])
        if c.loss == "wgan_gp":
            tau = torch.rand(B, 1, generator=state.g_data, device=state.device)
            x_tilde = (tau * X[j] + (1 - tau) * fake).requires_grad_()
            (gx,) = torch.autograd.grad(
                functional_forward(wD, sD, c.activation, x_tilde).sum(), x_tilde, create_graph=True
            )
            L = L + GP_WEIGHT * ((gx.norm(dim=1) - 1) ** 2).mean()
        (gD,) = torch.autograd.grad(L, wD)
        with torch.no_grad():
            state.D.grad.copy_(gD)
            optim.update_(state.opt_D, state.D.flat, state.D.grad)
    a_d = a.detach()
    wG = state.G.flat.detach().requires_grad_()
    fake = functional_forward(wG, sG, c.activation, Z[-1])
    a_g = functional_forward(state.D.flat, sD, c.activation, fake)  # (B, 1)
    (gG,) = torch.autograd.grad(g_loss(c.loss, a_g[:, 0]), wG)
    with torch.no_grad():
        state.G.grad.copy_(gG)
        optim.update_(state.opt_G, state.G.flat, state.G.grad)
    return a_d, a_g.detach()


def _record(state: GanState, a_ds: list[torch.Tensor], a_gs: list[torch.Tensor]) -> None:
    """Turn the logits of a chunk of steps into loss histories (a few ops per chunk)."""
    c = state.cfg
    B = c.batch_size
    A = torch.stack(a_ds)[..., 0].double()  # (K, 2B)
    Ag = torch.stack(a_gs)[..., 0].double()  # (K, B)
    ar, af = A[:, :B], A[:, B:]
    if c.loss in ("minimax", "nonsaturating"):
        Ld = F.softplus(-ar).mean(1) + F.softplus(af).mean(1)
    elif c.loss == "least_squares":
        Ld = 0.5 * ((ar - 1) ** 2).mean(1) + 0.5 * (af**2).mean(1)
    else:
        Ld = af.mean(1) - ar.mean(1)
    Lg = {
        "minimax": lambda: -F.softplus(Ag).mean(1),
        "nonsaturating": lambda: F.softplus(-Ag).mean(1),
        "least_squares": lambda: 0.5 * ((Ag - 1) ** 2).mean(1),
        "wgan_gp": lambda: -Ag.mean(1),
    }[c.loss]()
    # the terms of V(D, G), whatever the loss: D's logit read as a probability
    lr_ = -F.softplus(-ar).mean(1)
    lf = -F.softplus(af).mean(1)
    block = torch.stack([Ld, Lg, lr_, lf]).cpu().numpy()  # (4, K)
    state.d_loss += block[0].tolist()
    state.g_loss += block[1].tolist()
    state.log_D_real += block[2].tolist()
    state.log_1m_D_fake += block[3].tolist()


def generate(state: GanState, n: int, seed: int = 12345) -> tuple[torch.Tensor, torch.Tensor]:
    """n generated samples with a fixed noise draw: (z (n, n_z), G(z) (n, 2))."""
    with torch.no_grad():
        z = sample_noise(
            state.cfg.noise, n, state.cfg.noise_dim, generator(seed, state.device), state.device
        )
        return z, forward(state.G, z)[-1]


def evaluate(state: GanState, n: int = 1024, grid: int = 48) -> tuple[Coverage, float]:
    """Mode coverage and JS divergence (KDE on a grid) of n generated samples."""
    spec = target_spec(state.cfg.target)
    _, fake = generate(state, n)
    cov = mode_coverage(fake, spec)
    axis = grid_axis(grid)
    h = max(spec.sigma, 2 * VIEW / grid)
    real = sample_target(state.cfg.target, n, generator(54321))
    js = js_divergence(kde_grid(real, axis, h), kde_grid(fake.clamp(-50, 50), axis, h))
    return cov, js


def advance(state: GanState, n: int, use_autograd: bool = False) -> GanState:
    """Run n generator steps (fewer when it diverges); evaluates every eval_every steps.
    Mutates and returns ``state``. Divergence (non-finite or exploding samples) stops
    training and is recorded in ``state.diverged_at``, never raised."""
    c = state.cfg
    n = max(0, min(int(n), MAX_STEPS))
    if state.diverged_at is not None or n == 0:
        return state
    if state.y is None:
        state.y = torch.cat([torch.ones(c.batch_size, 1), torch.zeros(c.batch_size, 1)]).to(
            state.device
        )
    step_fn = autograd_iteration if (use_autograd or c.loss == "wgan_gp") else fused_iteration
    with one_thread(state.device), timer() as t:
        done = 0
        while done < n and state.diverged_at is None:
            # chunks end at evaluation points, so history does not depend on n
            k = min(n - done, c.eval_every - state.step % c.eval_every)
            X, Z = _draw(state, k)
            a_ds, a_gs = [], []
            with torch.no_grad() if step_fn is fused_iteration else torch.enable_grad():
                for i in range(k):
                    a_d, a_g = step_fn(state, X[i], Z[i])
                    a_ds.append(a_d)
                    a_gs.append(a_g)
            with torch.no_grad():
                _record(state, a_ds, a_gs)
                state.last_X, state.last_Z = X[-1, -1], Z[-1, -1]  # (B, 2), (B, n_z)
                state.step += k
                done += k
                bad = _first_bad(state, k)
                if bad is not None:  # keep the finite history for the plots
                    state.diverged_at = bad
                    for h in (state.d_loss, state.g_loss, state.log_D_real, state.log_1m_D_fake):
                        del h[bad - 1 :]
                    break
                if state.step % c.eval_every == 0:
                    cov, js = evaluate(state)
                    if not math.isfinite(js):
                        state.diverged_at = state.step
                        break
                    state.eval_steps.append(state.step)
                    state.modes.append(cov.covered)
                    state.quality.append(cov.quality)
                    state.js.append(js)
    state.seconds += t[0]
    return state


def _first_bad(state: GanState, k: int) -> int | None:
    """The first step of the last chunk whose losses are non-finite, or the chunk's
    end when the parameters or samples blew up; None when all is well."""
    recent = np.array([state.d_loss[-k:], state.g_loss[-k:]])
    bad = ~np.isfinite(recent).all(axis=0)
    if bad.any():
        return state.step - k + int(np.argmax(bad)) + 1
    if not (bool(torch.isfinite(state.G.flat).all()) and bool(torch.isfinite(state.D.flat).all())):
        return state.step
    _, fake = generate(state, 64)
    if not bool(torch.isfinite(fake).all()) or float(fake.abs().max()) > DIVERGED_ABS:
        return state.step
    return None


def hand_vs_autograd_gap(cfg: GanConfig, steps: int = 20) -> float:
    """max |theta_hand - theta_autograd| over both networks after ``steps`` steps of the
    fused hand-written iteration and of the autograd one, from the same start."""
    if cfg.loss == "wgan_gp":  # trained by autograd already: nothing to compare
        return 0.0
    cfg = replace(cfg, eval_every=max(steps, 1))
    a, b = init_state(cfg, "cpu"), init_state(cfg, "cpu")
    advance(a, steps)
    advance(b, steps, use_autograd=True)
    return max(float((a.G.flat - b.G.flat).abs().max()), float((a.D.flat - b.D.flat).abs().max()))


def diagnose(state: GanState) -> str | None:
    """A one-paragraph lesson when training diverged, else None."""
    if state.diverged_at is None:
        return None
    c = state.cfg
    sgd = [w for w, o in (("D", c.d_optimizer), ("G", c.g_optimizer)) if o == "sgd"]
    cause = (
        f"plain SGD on {' and '.join(sgd)} takes steps proportional to the gradient, and in "
        "a two-player game a too-large step overshoots and feeds on itself"
        if sgd
        else "the learning rates are so large that the two networks overshoot each other"
    )
    return (
        f"Training diverged at step {state.diverged_at}: a loss became infinite or NaN, or "
        f"the generated samples flew beyond {DIVERGED_ABS:g}. Likely cause: {cause} "
        f"(D's learning rate {c.d_lr:g}, G's {c.g_lr:g}). Lower the learning rates or use Adam."
    )


def collapse_note(state: GanState) -> str | None:
    """A lesson when, after a fair number of steps, the generator covers few modes."""
    if not state.modes or state.step < 1000:
        return None
    covered, n = state.modes[-1], target_spec(state.cfg.target).n_modes
    if covered > n // 2:
        return None
    return (
        f"Mode collapse: after {state.step} steps the generator covers only {covered} of "
        f"{n} modes. G found a few places where D is fooled and keeps its samples there; "
        "when D catches up, G hops elsewhere instead of spreading out. What helps: a larger "
        "generator, balanced learning rates (D not far faster than G), the non-saturating or "
        "least-squares loss, a larger batch, or a different seed."
    )


def thin(values, max_points: int = 1000) -> tuple[np.ndarray, np.ndarray, int]:
    """A long per-step history (K,) as at most ``max_points`` block means: (steps (n,) at
    the centre of each block, counted from 1, means (n,), block length k). A live chart of
    20,000 steps would otherwise send 20,000 points per curve with every frame."""
    y = np.asarray(values, dtype=np.float64)
    K = len(y)
    k = max(1, math.ceil(K / max(1, max_points)))
    if k == 1:
        return np.arange(1, K + 1, dtype=np.float64), y, 1
    n = K // k  # full blocks; a shorter last block keeps the newest steps on the chart
    means = y[: n * k].reshape(n, k).mean(1)
    steps = np.arange(n) * k + (k + 1) / 2
    if n * k < K:
        means = np.append(means, y[n * k :].mean())
        steps = np.append(steps, (n * k + 1 + K) / 2)
    return steps, means, k


# ---------------------------------------------------------------------------
# Snapshot: everything the live view draws, as numpy arrays
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    step: int
    axis: np.ndarray  # (n,) cell centres of the grid along x and y
    real: np.ndarray  # (N, 2) real samples
    fake: np.ndarray  # (N, 2) generated samples G(z)
    move: np.ndarray  # (N, 2) -dL_G/dx per sample: where each fake is pushed
    D_grid: np.ndarray  # (n, n) d_view(loss, a(x)) on the grid, indexed [y, x]: D's output
    D_star: np.ndarray  # (n, n) D*(x) = p_data / (p_data + p_g) from KDEs; NaN off both supports
    p_data: np.ndarray  # (n, n) KDE of the real samples
    p_g: np.ndarray  # (n, n) KDE of the generated samples
    noise_lines: list[np.ndarray]  # each (P, 2): a line of the noise grid mapped through G
    js: float  # JS(p_data, p_g) on the grid, nats
    coverage: Coverage
    numbers: MinimaxNumbers | None  # the last training batch's terms, current D and G


def noise_grid_lines(kind: str, dim: int, lines: int = 9, points: int = 41) -> list[torch.Tensor]:
    """Straight lines of a grid in the (z_1, z_2) plane (other coordinates 0), each (P, dim);
    one line along z_1 when dim = 1. Spans [-2, 2] for Gaussian noise, [-1, 1] for uniform."""
    r = 2.0 if kind == "gaussian" else 1.0
    t = torch.linspace(-r, r, points)
    levels = torch.linspace(-r, r, lines)
    out = []
    if dim == 1:
        return [t[:, None]]
    for c in levels:
        for axis in (0, 1):
            z = torch.zeros(points, dim)
            z[:, axis] = t
            z[:, 1 - axis] = c
            out.append(z)
    return out


def snapshot(state: GanState, n: int = 512, grid: int = 48) -> Snapshot:
    """Evaluate the current networks for the live view."""
    c = state.cfg
    n, grid = min(n, MAX_EVAL_SAMPLES), min(grid, MAX_GRID)
    spec = target_spec(c.target)
    dev = state.device
    with one_thread(dev), torch.no_grad():
        real = sample_target(c.target, n, generator(777), dev)
        _, fake = generate(state, n)
        hf = forward(state.D, fake)
        move = -backward(state.D, hf, g_loss_grad(c.loss, hf[-1]) * n, params=False, dx=True)
        axis = grid_axis(grid)
        Y, X = torch.meshgrid(axis, axis, indexing="ij")
        pts = torch.stack([X.flatten(), Y.flatten()], 1).float().to(dev)  # (n*n, 2)
        D_grid = d_view(c.loss, forward(state.D, pts)[-1].view(grid, grid))
        h = max(spec.sigma, 2 * VIEW / grid)
        safe = fake.clamp(-50, 50)
        p_data, p_g = kde_grid(real, axis, h), kde_grid(safe, axis, h)
        lines = [
            forward(state.G, z.to(dev))[-1].cpu().numpy()
            for z in noise_grid_lines(c.noise, c.noise_dim)
        ]
        numbers = batch_numbers(state)
        return Snapshot(
            step=state.step,
            axis=axis.numpy(),
            real=real.cpu().numpy(),
            fake=fake.cpu().numpy(),
            move=move.cpu().numpy(),
            D_grid=D_grid.cpu().numpy(),
            D_star=optimal_discriminator(p_data, p_g).numpy(),
            p_data=p_data.numpy(),
            p_g=p_g.numpy(),
            noise_lines=lines,
            js=js_divergence(p_data, p_g),
            coverage=mode_coverage(fake, spec),
            numbers=numbers,
        )


# ---------------------------------------------------------------------------
# train(): a whole run, and the result for caching
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GanResult:
    config: GanConfig
    d_loss: np.ndarray  # (K,) discriminator loss per generator step
    g_loss: np.ndarray  # (K,)
    log_D_real: np.ndarray  # (K,) mean log D(x) of each batch
    log_1m_D_fake: np.ndarray  # (K,) mean log(1 - D(G(z)))
    eval_steps: np.ndarray  # (E,) steps at which the metrics were measured
    modes: np.ndarray  # (E,) modes covered
    quality: np.ndarray  # (E,) share of high-quality samples
    js: np.ndarray  # (E,) Jensen-Shannon divergence on the grid
    fake: np.ndarray  # (n, 2) final generated samples
    G_params: np.ndarray  # (P_G,) final generator parameters
    D_params: np.ndarray  # (P_D,)
    n_modes: int
    diverged_at: int | None
    device: str
    seconds: float

    @property
    def first_full_coverage(self) -> int | None:
        """The first evaluated step with every mode covered."""
        hit = np.nonzero(self.modes == self.n_modes)[0]
        return int(self.eval_steps[hit[0]]) if len(hit) else None


def result_of(state: GanState, n_fake: int = 1024) -> GanResult:
    _, fake = generate(state, n_fake)
    return GanResult(
        config=state.cfg,
        d_loss=np.array(state.d_loss),
        g_loss=np.array(state.g_loss),
        log_D_real=np.array(state.log_D_real),
        log_1m_D_fake=np.array(state.log_1m_D_fake),
        eval_steps=np.array(state.eval_steps, dtype=np.int64),
        modes=np.array(state.modes, dtype=np.int64),
        quality=np.array(state.quality),
        js=np.array(state.js),
        fake=fake.cpu().numpy(),
        G_params=state.G.flat.detach().cpu().numpy().copy(),
        D_params=state.D.flat.detach().cpu().numpy().copy(),
        n_modes=target_spec(state.cfg.target).n_modes,
        diverged_at=state.diverged_at,
        device=state.device.type,
        seconds=state.seconds,
    )


def train(cfg: GanConfig, device=None, on_step=None, use_autograd: bool = False) -> GanResult:
    """Train for cfg.steps generator steps. ``on_step(step, state)`` is called at
    every evaluation point (for progress bars)."""
    state = init_state(cfg, device)
    while state.step < cfg.steps and state.diverged_at is None:
        advance(state, min(cfg.eval_every, cfg.steps - state.step), use_autograd=use_autograd)
        if on_step is not None:
            on_step(state.step, state)
    return result_of(state)


# ---------------------------------------------------------------------------
# Bench
# ---------------------------------------------------------------------------


def bench() -> list[dict]:
    """The default GAN on the ring of 8 Gaussians: modes covered after the default
    number of steps, and the wall time (target: all 8 in 2 s on 2 CPU threads)."""
    cfg = GanConfig()
    res = train(cfg)
    return [
        {
            "topic": "gan",
            "task": "ring8",
            "metric": "modes_covered",
            "target": 8,
            "value": int(res.modes[-1]) if len(res.modes) else 0,
            "reached": bool(len(res.modes) and res.modes[-1] >= 8),
            "seconds": res.seconds,
            "steps": len(res.d_loss),
            "first_full_coverage_step": res.first_full_coverage,
            "device": res.device,
        }
    ]
