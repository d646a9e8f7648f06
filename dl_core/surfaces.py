"""The 2-D loss surfaces the gradient-descent page runs on (value, gradient, Hessian,
curvature, grid), and the convergence rates of gradient descent and heavy-ball momentum on
a quadratic in closed form. The optimizers themselves live in ``dl_core.optim``.

Symbols as in ``dl_core.optim`` and ``dl_core.notation``: the curvatures of a quadratic are
the Hessian's eigenvalues lambda_min, lambda_max, kappa = lambda_max / lambda_min.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core.training import check_choice, check_range

SURFACES = ("quadratic", "rosenbrock", "himmelblau", "saddle", "beale")


# ---------------------------------------------------------------------------
# Surfaces
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurfaceConfig:
    name: str = "quadratic"  # one of SURFACES
    condition: float = 10.0  # quadratic only: kappa = lambda_max / lambda_min of the Hessian
    angle_deg: float = 0.0  # quadratic only: rotation of the valley's axes, in degrees

    def __post_init__(self) -> None:
        check_choice("surface", self.name, SURFACES)
        check_range("condition number", self.condition, 1.0, 1000.0)
        check_range("angle", self.angle_deg, -180.0, 180.0)


@dataclass(frozen=True)
class SurfaceInfo:
    title: str
    formula: str  # LaTeX of f(x, y)
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]  # a start point that shows the surface's character
    minima: tuple[tuple[float, float], ...]
    f_min: float


def surface_info(cfg: SurfaceConfig) -> SurfaceInfo:
    """Plot ranges, default start, minima and the formula of a surface."""
    if cfg.name == "quadratic":
        return SurfaceInfo(
            "Quadratic bowl",
            r"\begin{gathered}f(\theta) = \tfrac12\,(\theta-\theta^*)^\top H\,(\theta-\theta^*),"
            r"\quad \theta^* = 0,\\ H = R \begin{pmatrix}1 & 0\\ 0 & \kappa\end{pmatrix} R^\top"
            r"\end{gathered}",
            (-3.0, 3.0), (-3.0, 3.0), (-2.5, 1.5), ((0.0, 0.0),), 0.0,
        )  # fmt: skip
    if cfg.name == "rosenbrock":
        return SurfaceInfo(
            "Rosenbrock's banana valley",
            r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
            (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0), ((1.0, 1.0),), 0.0,
        )  # fmt: skip
    if cfg.name == "himmelblau":
        return SurfaceInfo(
            "Himmelblau (four minima)",
            r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            (-5.0, 5.0), (-5.0, 5.0), (0.0, 0.0),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            0.0,
        )  # fmt: skip
    if cfg.name == "saddle":
        return SurfaceInfo(
            "Saddle point at the origin",
            r"f(x, y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2",
            (-2.0, 2.0), (-2.0, 2.0), (1.8, 0.02), ((0.0, 1.0), (0.0, -1.0)), -0.25,
        )  # fmt: skip
    return SurfaceInfo(
        "Beale (flat plateaus, steep walls)",
        r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), ((3.0, 0.5),), 0.0,
    )  # fmt: skip


def quadratic_matrix(cfg: SurfaceConfig) -> torch.Tensor:
    """The quadratic's Hessian H = R diag(1, kappa) R^T (R: rotation by the valley's angle),
    shape (2, 2), float64: lambda_min = 1, lambda_max = kappa."""
    phi = math.radians(cfg.angle_deg)
    c, s = math.cos(phi), math.sin(phi)
    R = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    D = torch.diag(torch.tensor([1.0, cfg.condition], dtype=torch.float64))
    return R @ D @ R.T


def value(cfg: SurfaceConfig, theta: torch.Tensor) -> torch.Tensor:
    """f(theta) for theta of shape (..., 2); returns shape (...)."""
    x, y = theta[..., 0], theta[..., 1]
    if cfg.name == "quadratic":
        A = quadratic_matrix(cfg).to(theta)
        return 0.5 * torch.einsum("...i,ij,...j->...", theta, A, theta)
    if cfg.name == "rosenbrock":
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    if cfg.name == "himmelblau":
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2
    if cfg.name == "saddle":
        return x**2 + 0.25 * y**4 - 0.5 * y**2
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def gradient(cfg: SurfaceConfig, theta: torch.Tensor) -> torch.Tensor:
    """Analytic gradient of ``value``, shape (..., 2)."""
    x, y = theta[..., 0], theta[..., 1]
    if cfg.name == "quadratic":
        return theta @ quadratic_matrix(cfg).to(theta)  # A symmetric: A theta
    if cfg.name == "rosenbrock":
        dx = -2 * (1 - x) - 400 * x * (y - x**2)
        dy = 200 * (y - x**2)
    elif cfg.name == "himmelblau":
        a, b = x**2 + y - 11, x + y**2 - 7
        dx = 4 * x * a + 2 * b
        dy = 2 * a + 4 * y * b
    elif cfg.name == "saddle":
        dx = 2 * x
        dy = y**3 - y
    else:
        r1, r2, r3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
        dx = 2 * r1 * (y - 1) + 2 * r2 * (y**2 - 1) + 2 * r3 * (y**3 - 1)
        dy = 2 * r1 * x + 2 * r2 * 2 * x * y + 2 * r3 * 3 * x * y**2
    return torch.stack([dx, dy], dim=-1)


def hessian(cfg: SurfaceConfig, theta: tuple[float, float]) -> np.ndarray:
    """The 2x2 Hessian at ``theta`` (by autograd through ``value``)."""
    t = torch.tensor(theta, dtype=torch.float64)
    H = torch.autograd.functional.hessian(lambda p: value(cfg, p), t)
    return H.numpy()


def curvature(cfg: SurfaceConfig, theta: tuple[float, float]) -> tuple[float, float]:
    """Eigenvalues (lambda_min, lambda_max) of the Hessian at ``theta``.

    On the quadratic, lambda_max = kappa and plain gradient descent is stable exactly when
    lr < 2 / lambda_max: along the eigenvector of lambda the error is multiplied by
    (1 - lr * lambda) at every step."""
    ev = np.linalg.eigvalsh(hessian(cfg, theta))
    return float(ev[0]), float(ev[-1])


def grid(cfg: SurfaceConfig, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs (n,), ys (n,), f on the grid (n, n) indexed [y, x], for contour plots."""
    info = surface_info(cfg)
    xs = torch.linspace(*info.xlim, n, dtype=torch.float64)
    ys = torch.linspace(*info.ylim, n, dtype=torch.float64)
    Y, X = torch.meshgrid(ys, xs, indexing="ij")  # (n, n) each
    F = value(cfg, torch.stack([X, Y], dim=-1))  # (n, n)
    return xs.numpy(), ys.numpy(), F.numpy()


# ---------------------------------------------------------------------------
# Convergence rates on a quadratic, in closed form
# ---------------------------------------------------------------------------
# On f(theta) = 1/2 (theta - theta*)^T H (theta - theta*) the error e = theta - theta* evolves
# linearly and splits into H's eigen-directions: along the eigenvector of lambda, gradient
# descent multiplies e by (1 - lr lambda) each step. Heavy-ball momentum in torch's form,
#   v_k = beta v_{k-1} + g_k,   theta_k = theta_{k-1} - lr v_k,
# gives (with lr v_k = theta_{k-1} - theta_k) the two-step recursion
#   e_{k+1} = (1 + beta - lr lambda) e_k - beta e_{k-1},
# i.e. (e_{k+1}, e_k) = M_lambda (e_k, e_{k-1}) with M_lambda = [[1 + beta - lr lambda, -beta],
# [1, 0]]. The error shrinks like rate^k, rate = max over lambda of M_lambda's spectral radius
# (Goh, "Why Momentum Really Works", Distill 2017). A 2-D quadratic has two eigenvalues, so
# the max over {lambda_min, lambda_max} is exact.


def gd_rate(lr, lam_min: float, lam_max: float) -> np.ndarray:
    """max(|1 - lr lambda_min|, |1 - lr lambda_max|): the factor by which one gradient step
    shrinks (at worst) the distance to the minimum of a quadratic; below 1 exactly when
    0 < lr < 2 / lambda_max. Vectorised over ``lr``."""
    lr = np.asarray(lr, dtype=np.float64)
    return np.maximum(np.abs(1 - lr * lam_min), np.abs(1 - lr * lam_max))


def gd_optimum(lam_min: float, lam_max: float) -> tuple[float, float]:
    """(lr*, rate*) = (2 / (lambda_max + lambda_min), (kappa - 1) / (kappa + 1)): the fixed
    step where the two directions' factors are equal and opposite, and its rate."""
    kappa = lam_max / lam_min
    return 2 / (lam_max + lam_min), (kappa - 1) / (kappa + 1)


def momentum_matrix(lr: float, beta: float, lam: float) -> np.ndarray:
    """M_lambda (2, 2): (e_{k+1}, e_k) = M_lambda (e_k, e_{k-1}) along the eigenvector of
    lambda, for heavy-ball momentum in torch.optim.SGD's form (see above)."""
    return np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])


def _radius(lr: np.ndarray, beta: np.ndarray, lam: float) -> np.ndarray:
    """Spectral radius of M_lambda: its eigenvalues nu are the roots of nu^2 - a nu + beta,
    a = 1 + beta - lr lambda (trace a, determinant beta)."""
    a = 1 + beta - lr * lam
    disc = a * a - 4 * beta
    real = (np.abs(a) + np.sqrt(np.maximum(disc, 0.0))) / 2  # two real roots of a's sign
    return np.where(disc < 0, np.sqrt(beta), real)  # complex pair: |nu|^2 = nu nu-bar = beta


def momentum_rate(lr, beta, lam_min: float, lam_max: float) -> np.ndarray:
    """The convergence rate of heavy-ball momentum on a quadratic: max over lambda_min and
    lambda_max of the spectral radius of M_lambda. The error shrinks like rate^k (an
    asymptotic rate: the first steps can grow before they shrink); below 1 exactly when
    0 < lr < 2 (1 + beta) / lambda_max. Vectorised: ``lr`` and ``beta`` broadcast (a grid of
    200 x 200 cells costs about a millisecond). beta = 0 gives ``gd_rate``."""
    lr, beta = np.broadcast_arrays(
        np.asarray(lr, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    )
    return np.maximum(_radius(lr, beta, lam_min), _radius(lr, beta, lam_max))


def momentum_optimum(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """(lr*, beta*, rate*) = ((2 / (sqrt(lambda_max) + sqrt(lambda_min)))^2,
    ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, (sqrt(kappa) - 1) / (sqrt(kappa) + 1)): both
    directions critically damped, the smallest rate of the map."""
    rk = math.sqrt(lam_max / lam_min)
    lr = (2 / (math.sqrt(lam_max) + math.sqrt(lam_min))) ** 2
    return lr, ((rk - 1) / (rk + 1)) ** 2, (rk - 1) / (rk + 1)


def stability_limit(name: str, beta: float, lam_max: float) -> float | None:
    """The largest stable learning rate on a quadratic with top curvature lambda_max:
    2/lambda_max (SGD), 2(1 + beta)/lambda_max (heavy-ball momentum),
    2(1 + beta)/((1 + 2 beta) lambda_max) (Nesterov, torch's form: its characteristic
    polynomial is t^2 - (1 + beta)(1 - lr lambda) t + beta (1 - lr lambda)). None for the
    adaptive methods, whose step is not a fixed multiple of the gradient."""
    if name == "sgd":
        return 2 / lam_max
    if name == "momentum":
        return 2 * (1 + beta) / lam_max
    if name == "nesterov":
        return 2 * (1 + beta) / ((1 + 2 * beta) * lam_max)
    return None


@dataclass(frozen=True)
class RateMap:
    lrs: np.ndarray  # (n_lr,) from 0 to 4 / lambda_max (beyond it every beta < 1 diverges)
    betas: np.ndarray  # (n_beta,) from 0 to 0.99
    rate: np.ndarray  # (n_beta, n_lr) momentum_rate, indexed [beta, lr]


def rate_map(lam_min: float, lam_max: float, n_lr: int = 200, n_beta: int = 200) -> RateMap:
    """momentum_rate over a grid of (lr, beta), for the heat map."""
    lrs = np.linspace(0.0, 4.0 / lam_max, n_lr)
    betas = np.linspace(0.0, 0.99, n_beta)
    return RateMap(lrs, betas, momentum_rate(lrs[None, :], betas[:, None], lam_min, lam_max))
