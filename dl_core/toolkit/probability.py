"""Probability: sampling (the Gaussian by reparameterisation), sample statistics, maximum
likelihood by gradient ascent and in closed form, and the negative log-likelihoods that are
the mean squared error and the binary cross-entropy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dl_core.training import check_range, generator

MAX_SAMPLES = 10_000


def gaussian_sample(mu: float, sigma: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n draws of N(μ, σ²) by reparameterisation: ε ~ N(0, 1), z = μ + σ ε. Returns (ε, z)."""
    check_range("number of samples", n, 1, MAX_SAMPLES)
    check_range("standard deviation", sigma, 0.0, 100.0)
    eps = torch.randn(n, generator=generator(seed), dtype=torch.float64).numpy()
    return eps, mu + sigma * eps


def bernoulli_sample(p: float, n: int, seed: int) -> np.ndarray:
    """n draws of Bernoulli(p) as 0.0 / 1.0: a uniform u < p is a 1."""
    check_range("p", p, 0.0, 1.0)
    check_range("number of samples", n, 1, MAX_SAMPLES)
    u = torch.rand(n, generator=generator(seed + 1), dtype=torch.float64).numpy()
    return (u < p).astype(np.float64)


@dataclass(frozen=True)
class Stats:
    n: int
    mean: float  # x̄ = (1/n) Σ xᵢ
    var: float  # s² = Σ (xᵢ − x̄)² / (n − 1), NaN for n = 1 (undefined)
    var_mle: float  # σ̂² = Σ (xᵢ − x̄)² / n: the maximum-likelihood variance

    @property
    def standard_error(self) -> float:
        """s / √n: how far x̄ typically is from the true mean (NaN for n = 1)."""
        return math.sqrt(self.var / self.n) if self.n > 1 else math.nan


def stats(x: np.ndarray) -> Stats:
    x = np.asarray(x, dtype=np.float64)
    n, m = len(x), float(x.mean())
    ss = float(((x - m) ** 2).sum())
    return Stats(n, m, ss / (n - 1) if n > 1 else math.nan, ss / n)


def normal_pdf(x: Any, mu: float, sigma: float) -> Any:
    """N(x; μ, σ²) = exp(−(x − μ)²/2σ²) / √(2πσ²)."""
    return np.exp(-((np.asarray(x) - mu) ** 2) / (2 * sigma**2)) / math.sqrt(2 * math.pi * sigma**2)


def histogram(x: np.ndarray, lo: float, hi: float, bins: int = 40):
    """Bin edges (bins + 1,) and the density of each bin (area 1 over [lo, hi])."""
    density, edges = np.histogram(x, bins=bins, range=(lo, hi), density=True)
    return edges, density


def mean_spread(mu: float, sigma: float, p: float, ns, repeats: int = 300, seed: int = 0):
    """The standard deviation of the sample mean over ``repeats`` experiments, for every n in
    ``ns``: (Gaussian, Bernoulli), each (len(ns),). Theory: σ/√n and √(p(1 − p)/n)."""
    ns = np.asarray(ns)
    g = generator(seed + 2)
    z = mu + sigma * torch.randn(repeats, int(ns.max()), generator=g, dtype=torch.float64)
    b = (torch.rand(repeats, int(ns.max()), generator=g, dtype=torch.float64) < p).double()
    out = []
    for draws in (z, b):
        means = draws.cumsum(1)[:, ns - 1] / torch.as_tensor(ns, dtype=torch.float64)  # (R, N)
        out.append(means.std(0).numpy())
    return out[0], out[1]


def gaussian_loglik(x: np.ndarray, mu: float, sigma: float) -> float:
    """The mean log-likelihood ℓ(μ, σ) = (1/n) Σ log N(xᵢ; μ, σ²)."""
    return float(-0.5 * math.log(2 * math.pi * sigma**2) - np.mean((x - mu) ** 2) / (2 * sigma**2))


def gaussian_loglik_grad(x: np.ndarray, mu: float, log_sigma: float) -> tuple[float, float]:
    """∂ℓ/∂μ = mean(xᵢ − μ)/σ² and ∂ℓ/∂(log σ) = mean((xᵢ − μ)²)/σ² − 1."""
    s2 = math.exp(2 * log_sigma)
    return float(np.mean(x - mu) / s2), float(np.mean((x - mu) ** 2) / s2 - 1)


@dataclass(frozen=True)
class Ascent:
    mu: np.ndarray  # (K + 1,) μ after each step
    sigma: np.ndarray  # (K + 1,)
    loglik: np.ndarray  # (K + 1,) ℓ after each step
    closed: tuple[float, float]  # (x̄, σ̂): the closed-form maximum
    diverged_at: int | None  # first step whose numbers left the finite range, or None


MLE_START = (0.0, 1.0)  # (μ₀, σ₀): the standard normal, a model that knows nothing yet


def mle_ascent(x: np.ndarray, lr: float, steps: int, start=MLE_START) -> Ascent:
    """Gradient ascent on ℓ over (μ, log σ) (log σ keeps σ positive), from ``start``."""
    check_range("learning rate", lr, 0.0, 10.0)
    check_range("steps", steps, 1, 2000)
    st = stats(x)
    mu, ls = float(start[0]), math.log(start[1])
    path, diverged = [(mu, ls)], None
    for k in range(1, steps + 1):
        gm, gs = gaussian_loglik_grad(x, mu, ls)
        mu, ls = mu + lr * gm, ls + lr * gs
        if not (math.isfinite(mu) and abs(mu) < 1e6 and abs(ls) < 50):
            diverged = k
            break
        path.append((mu, ls))
    arr = np.array(path)
    sig = np.exp(arr[:, 1])
    ll = np.array([gaussian_loglik(x, m, s) for m, s in zip(arr[:, 0], sig, strict=True)])
    return Ascent(arr[:, 0], sig, ll, (st.mean, math.sqrt(st.var_mle)), diverged)


def loglik_grid(x: np.ndarray, mus: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """ℓ(μ, σ) on a grid, (len(sigmas), len(mus)), from the sample's two moments."""
    m1, m2 = float(np.mean(x)), float(np.mean(x**2))
    M, S = np.meshgrid(mus, sigmas)
    mean_sq = m2 - 2 * M * m1 + M**2  # mean((x − μ)²)
    return -0.5 * np.log(2 * np.pi * S**2) - mean_sq / (2 * S**2)


def gaussian_nll(y: np.ndarray, y_hat: Any, sigma: float) -> Any:
    """−(1/n) Σ log N(yᵢ; ŷ, σ²) = MSE/(2σ²) + ½ log(2πσ²), for a number or array ŷ."""
    y_hat = np.asarray(y_hat, dtype=np.float64)
    se = np.mean((y[None, :] - y_hat.reshape(-1, 1)) ** 2, axis=1).reshape(y_hat.shape)
    return se / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)


def mse(y: np.ndarray, y_hat: Any) -> Any:
    y_hat = np.asarray(y_hat, dtype=np.float64)
    return np.mean((y[None, :] - y_hat.reshape(-1, 1)) ** 2, axis=1).reshape(y_hat.shape)


def bernoulli_nll(y: np.ndarray, p_hat: Any) -> Any:
    """−(1/n) Σ [yᵢ log p̂ + (1 − yᵢ) log(1 − p̂)]: the binary cross-entropy, with 0 log 0 = 0
    (infinite when p̂ = 0 and a 1 was seen, or p̂ = 1 and a 0 was seen)."""
    k = float(np.mean(y))  # the share of ones
    p_hat = np.asarray(p_hat, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ones = np.where(k > 0, -k * np.log(p_hat), 0.0)
        zeros = np.where(k < 1, -(1 - k) * np.log1p(-p_hat), 0.0)
    return ones + zeros


@dataclass(frozen=True)
class Reparam:
    eps: np.ndarray  # ε ~ N(0, 1)
    z: np.ndarray  # μ + σ ε
    grad_mu: float  # Monte Carlo ∂/∂μ of mean(z²): mean(2 zᵢ)
    grad_sigma: float  # mean(2 zᵢ εᵢ)
    exact: tuple[float, float]  # ∂/∂μ, ∂/∂σ of E[z²] = μ² + σ²: (2μ, 2σ)


def reparam_gradient(mu: float, sigma: float, eps: np.ndarray) -> Reparam:
    """The gradient of E[z²] through the sample z = μ + σ ε: ∂z/∂μ = 1, ∂z/∂σ = ε, so the
    Monte Carlo estimate of ∇(μ, σ) E[z²] is (mean 2z, mean 2zε)."""
    z = mu + sigma * eps
    return Reparam(eps, z, float(np.mean(2 * z)), float(np.mean(2 * z * eps)), (2 * mu, 2 * sigma))
