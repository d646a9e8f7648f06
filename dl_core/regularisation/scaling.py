"""Standardising inputs: the condition number of a linear regression's loss before and
after, and gradient descent's path on both."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import optim
from dl_core.regularisation.formulas import DTYPE, standardise
from dl_core.regularisation.network import DIVERGENCE_LIMIT
from dl_core.training import check_range, generator

# ---------------------------------------------------------------------------
# 8. Standardising inputs: the condition number and gradient descent
# ---------------------------------------------------------------------------

W_TRUE = (1.0, -1.0)  # the regression's weights on the unit-scale features
MAX_SCALE_STEPS = 500
SCALE_GRID = 80


@dataclass(frozen=True)
class ScaleConfig:
    scale: float = 10.0  # σ of x₂ over σ of x₁
    rho: float = 0.0  # the correlation of x₁ and x₂
    c: float = 1.0  # the step size η = c / λ_max of each problem (c > 2 diverges)
    steps: int = 100
    n: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        check_range("scale of x₂", self.scale, 0.01, 1000.0)
        check_range("correlation", self.rho, -0.95, 0.95)
        check_range("step size c", self.c, 0.01, 3.0)
        check_range("steps", self.steps, 1, MAX_SCALE_STEPS)
        check_range("points", self.n, 10, 5000)


@dataclass(frozen=True)
class Problem:
    name: str
    H: np.ndarray  # (2, 2) the Hessian XᵀX/n of L(w) = ‖Xw − y‖²/(2n)
    lam: tuple[float, float]  # λ_min, λ_max
    kappa: float
    lr: float  # η = c/λ_max
    w_star: np.ndarray  # (2,)
    path: np.ndarray  # (K+1, 2) gradient descent from w = 0
    gap: np.ndarray  # (K+1,) L(w_k) − L(w*)
    diverged_at: int | None
    steps_to: int | None  # the first step with gap ≤ 10⁻³ of the start's, if reached
    xs: np.ndarray  # (G,) the map's w₁ axis
    ys: np.ndarray  # (G,)
    F: np.ndarray  # (G, G) L − L* on the map, rows are w₂

    @property
    def rate(self) -> float:
        """The slowest direction's factor per step: max |1 − ηλ|."""
        return max(abs(1 - self.lr * lam) for lam in self.lam)


@dataclass(frozen=True)
class ScaleResult:
    config: ScaleConfig
    raw: Problem
    std: Problem
    mean: np.ndarray  # (2,) the features' means
    sd: np.ndarray  # (2,) their standard deviations


def _problem(name: str, X: torch.Tensor, y: torch.Tensor, cfg: ScaleConfig) -> Problem:
    n = len(X)
    H = X.T @ X / n  # (2, 2)
    lam = torch.linalg.eigvalsh(H)
    w_star = torch.linalg.solve(H, X.T @ y / n)
    loss = lambda w: ((X @ w.T - y[:, None]) ** 2).mean(0) / 2  # noqa: E731  w (K, 2) -> (K,)
    L_star = float(loss(w_star[None])[0])
    lr = cfg.c / float(lam[-1])
    ocfg = optim.OptimConfig("sgd", lr=min(lr, 100.0))
    w, path, diverged = torch.zeros(2, dtype=DTYPE), [torch.zeros(2, dtype=DTYPE)], None
    for k in range(1, cfg.steps + 1):
        w = optim.step(ocfg, w, X.T @ (X @ w - y) / n, {}, k)[0]
        if not bool(torch.isfinite(w).all()) or float(w.abs().max()) > DIVERGENCE_LIMIT:
            diverged = k
            break
        path.append(w)
    P = torch.stack(path)
    gap = (loss(P) - L_star).clamp_min(0)
    hit = torch.nonzero(gap <= 1e-3 * gap[0]).ravel()
    half = 1.3 * float((P[0] - w_star).abs().max())
    xs = torch.linspace(float(w_star[0]) - half, float(w_star[0]) + half, SCALE_GRID, dtype=DTYPE)
    ys = torch.linspace(float(w_star[1]) - half, float(w_star[1]) + half, SCALE_GRID, dtype=DTYPE)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    F = (
        (loss(torch.stack([gx.ravel(), gy.ravel()], 1)) - L_star)
        .clamp_min(0)
        .view(SCALE_GRID, SCALE_GRID)
    )
    return Problem(name, H.numpy(), (float(lam[0]), float(lam[-1])), float(lam[-1] / lam[0]), lr,
                   w_star.numpy(), P.numpy(), gap.numpy(), diverged,
                   int(hit[0]) if len(hit) else None, xs.numpy(), ys.numpy(), F.numpy())  # fmt: skip


def scaling(cfg: ScaleConfig) -> ScaleResult:
    """A linear regression on two features, x₂ ``scale`` times as spread as x₁ and
    correlated by ρ, before and after standardising: the loss's Hessian, its condition
    number and gradient descent from w = 0 on each."""
    g = generator(cfg.seed + 29)
    z = torch.randn(cfg.n, 2, generator=g, dtype=DTYPE)
    z[:, 1] = cfg.rho * z[:, 0] + math.sqrt(1 - cfg.rho**2) * z[:, 1]  # correlation ρ
    y = z @ torch.tensor(W_TRUE, dtype=DTYPE) + 0.1 * torch.randn(cfg.n, generator=g, dtype=DTYPE)
    X = z * torch.tensor([1.0, cfg.scale], dtype=DTYPE)
    Xs, mean, sd = standardise(X)
    return ScaleResult(cfg, _problem("raw", X, y, cfg), _problem("standardised", Xs, y, cfg),
                       mean.numpy(), sd.numpy())  # fmt: skip
