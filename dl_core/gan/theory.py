"""The theory the page checks the networks against: densities on a grid, the optimal
discriminator D* of each loss, the Jensen-Shannon divergence, and mode coverage."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core.gan.config import LOSSES, VIEW, TargetSpec
from dl_core.training import check_choice

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
