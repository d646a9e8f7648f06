"""The two networks (the engine's dense layers on one flat vector each) and the losses:
D's and G's losses as formulas, their gradients with respect to the logits, and the
numbers of the minimax game."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dl_core import engine
from dl_core.gan.config import LEAK, LOSSES
from dl_core.training import check_choice

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
