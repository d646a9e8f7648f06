"""Linear and logistic regression trained by gradient descent.

Both are written out by hand (the gradients are the formulas on the page) and
tested against autograd, ``torch.linalg.lstsq`` and
``F.binary_cross_entropy_with_logits``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core.data import line_1d, two_gaussians
from dl_core.training import check_range, generator, timer

MAX_STEPS = 2000
MAX_POINTS = 2000


def _batches(n: int, batch_size: int, steps: int, seed: int) -> list[torch.Tensor | None]:
    """Index sets for each step: None means the whole dataset (batch GD)."""
    if batch_size == 0 or batch_size >= n:
        return [None] * steps
    g = generator(seed + 1)
    out: list[torch.Tensor | None] = []
    while len(out) < steps:
        perm = torch.randperm(n, generator=g)  # one epoch, then a new shuffle
        out += [perm[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]
    return out[:steps]


# ---------------------------------------------------------------------------
# Linear regression: y_hat = w x + b, L = mean (y_hat - y)^2
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LinRegConfig:
    n: int = 60  # number of data points
    true_w: float = 1.5  # slope the data are drawn from
    true_b: float = -1.0  # intercept the data are drawn from
    noise: float = 0.6  # standard deviation of the noise on y
    lr: float = 0.1  # eta
    steps: int = 60  # number of GD updates
    batch_size: int = 0  # 0 = full batch; 1 = stochastic; otherwise mini-batch size
    start: tuple[float, float] = (-2.0, 2.0)  # (w_0, b_0)
    seed: int = 0

    def __post_init__(self) -> None:
        check_range("number of points", self.n, 2, MAX_POINTS)
        check_range("noise", self.noise, 0.0, 10.0)
        check_range("learning rate", self.lr, 0.0, 10.0)
        check_range("steps", self.steps, 1, MAX_STEPS)
        check_range("batch size", self.batch_size, 0, MAX_POINTS)

    @classmethod
    def tiny(cls) -> LinRegConfig:
        return cls(n=20, steps=20)


@dataclass(frozen=True)
class LinRegResult:
    config: LinRegConfig
    x: np.ndarray  # (n,)
    y: np.ndarray  # (n,)
    theta: np.ndarray  # (K+1, 2): (w_k, b_k)
    grads: np.ndarray  # (K, 2): (dL/dw, dL/db) of the batch used at step k
    loss: np.ndarray  # (K+1,): full-data loss at theta_k
    closed_form: tuple[float, float]  # (w*, b*) from the normal equations
    loss_min: float  # L(w*, b*)
    eigenvalues: tuple[float, float]  # of the Hessian (2/n) X^T X; 2 / max is the stability limit
    diverged_at: int | None
    seconds: float
    device: str = "cpu"


def design(x: torch.Tensor) -> torch.Tensor:
    """X = [x, 1], shape (n, 2)."""
    return torch.stack([x, torch.ones_like(x)], dim=1)


def linreg_loss_and_grad(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor):
    """L = (1/n) sum (w x + b - y)^2 and its gradient (dL/dw, dL/db) = (2/n) X^T r."""
    X = design(x)  # (n, 2)
    r = X @ theta - y  # (n,) residuals
    return (r * r).mean(), 2 * X.T @ r / len(x)


def least_squares(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(w*, b*) solving the normal equations X^T X theta = X^T y."""
    X = design(x)
    return torch.linalg.solve(X.T @ X, X.T @ y)


def train_linreg(cfg: LinRegConfig) -> LinRegResult:
    with torch.no_grad(), timer() as t:
        x, y = line_1d(cfg.n, cfg.true_w, cfg.true_b, cfg.noise, cfg.seed)
        X = design(x)
        H = 2 * X.T @ X / cfg.n  # (2, 2) Hessian of the full-data loss
        ev = torch.linalg.eigvalsh(H)
        star = least_squares(x, y)
        theta = torch.tensor(cfg.start, dtype=torch.float64)
        thetas, grads, losses = [theta], [], [linreg_loss_and_grad(theta, x, y)[0]]
        diverged_at = None
        for k, idx in enumerate(_batches(cfg.n, cfg.batch_size, cfg.steps, cfg.seed), start=1):
            xb, yb = (x, y) if idx is None else (x[idx], y[idx])
            _, g = linreg_loss_and_grad(theta, xb, yb)
            theta = theta - cfg.lr * g
            loss = linreg_loss_and_grad(theta, x, y)[0]
            if not math.isfinite(float(loss)) or float(theta.abs().max()) > 1e6:
                diverged_at = k
                break
            thetas.append(theta)
            grads.append(g)
            losses.append(loss)
    return LinRegResult(
        config=cfg,
        x=x.numpy(),
        y=y.numpy(),
        theta=torch.stack(thetas).numpy(),
        grads=torch.stack(grads).numpy() if grads else np.zeros((0, 2)),
        loss=torch.stack(losses).numpy(),
        closed_form=(float(star[0]), float(star[1])),
        loss_min=float(linreg_loss_and_grad(star, x, y)[0]),
        eigenvalues=(float(ev[0]), float(ev[1])),
        diverged_at=diverged_at,
        seconds=t[0],
    )


@dataclass(frozen=True)
class LinRegStep:
    """Full-data GD step k+1 from (w, b) = theta_k, named as on the page."""

    n: int
    w: float
    b: float
    sum_r_x: float  # sum_i (w x_i + b - y_i) x_i
    sum_r: float  # sum_i (w x_i + b - y_i)
    dL_dw: float  # (2/n) sum_r_x
    dL_db: float  # (2/n) sum_r
    lr: float
    w_new: float  # w - lr dL_dw
    b_new: float  # b - lr dL_db


def linreg_step(res: LinRegResult, k: int) -> LinRegStep:
    """The numbers of a full-data gradient step taken from theta_k."""
    x, y = torch.from_numpy(res.x), torch.from_numpy(res.y)
    w, b = (float(v) for v in res.theta[k])
    r = w * x + b - y  # (n,) residuals
    n, lr = len(x), res.config.lr
    sum_r_x, sum_r = float((r * x).sum()), float(r.sum())
    gw, gb = 2 * sum_r_x / n, 2 * sum_r / n
    return LinRegStep(n, w, b, sum_r_x, sum_r, gw, gb, lr, w - lr * gw, b - lr * gb)


def linreg_loss_grid(
    res: LinRegResult, wlim: tuple[float, float], blim: tuple[float, float], n: int = 80
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ws (n,), bs (n,), L on the grid (n, n) indexed [b, w]."""
    x, y = torch.from_numpy(res.x), torch.from_numpy(res.y)
    ws = torch.linspace(*wlim, n, dtype=torch.float64)
    bs = torch.linspace(*blim, n, dtype=torch.float64)
    B, W = torch.meshgrid(bs, ws, indexing="ij")  # (n, n)
    r = W[..., None] * x + B[..., None] - y  # (n, n, N)
    return ws.numpy(), bs.numpy(), (r * r).mean(-1).numpy()


# ---------------------------------------------------------------------------
# Logistic regression: p = sigmoid(w . x + b), L = mean BCE(p, y)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRegConfig:
    n: int = 100  # number of points, half per class
    separation: float = 2.5  # distance between the two class means
    lr: float = 0.5  # eta
    steps: int = 100  # number of GD updates
    batch_size: int = 0  # 0 = full batch
    seed: int = 0

    def __post_init__(self) -> None:
        check_range("number of points", self.n, 4, MAX_POINTS)
        check_range("separation", self.separation, 0.0, 20.0)
        check_range("learning rate", self.lr, 0.0, 100.0)
        check_range("steps", self.steps, 1, MAX_STEPS)
        check_range("batch size", self.batch_size, 0, MAX_POINTS)

    @classmethod
    def tiny(cls) -> LogRegConfig:
        return cls(n=40, steps=30)


@dataclass(frozen=True)
class LogRegResult:
    config: LogRegConfig
    X: np.ndarray  # (n, 2)
    y: np.ndarray  # (n,) in {0, 1}
    params: np.ndarray  # (K+1, 3): (w1, w2, b) after each step
    grads: np.ndarray  # (K, 3): gradient used at step k
    loss: np.ndarray  # (K+1,) full-data cross-entropy
    accuracy: np.ndarray  # (K+1,)
    diverged_at: int | None
    seconds: float
    device: str = "cpu"


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """sigma(z) = 1 / (1 + e^{-z})."""
    return 1 / (1 + torch.exp(-z))


def logreg_loss_and_grad(params: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
    """Cross-entropy L = -mean[y log p + (1-y) log(1-p)] and its gradient
    dL/d(w, b) = (1/n) [X, 1]^T (p - y).

    The loss is computed from the logits z with log(1+e^{-|z|}) so it stays
    finite when p rounds to 0 or 1."""
    Xb = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)  # (n, 3)
    z = Xb @ params  # (n,) logits
    p = sigmoid(z)
    loss = (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()
    return loss, Xb.T @ (p - y) / len(y)


def train_logreg(cfg: LogRegConfig) -> LogRegResult:
    with torch.no_grad(), timer() as t:
        X, y = two_gaussians(cfg.n, cfg.separation, cfg.seed)
        params = torch.zeros(3, dtype=torch.float64)
        hist, grads, losses, accs = [params], [], [], []

        def record(p: torch.Tensor) -> None:
            losses.append(logreg_loss_and_grad(p, X, y)[0])
            accs.append(((X @ p[:2] + p[2] > 0).double() == y).double().mean())

        record(params)
        diverged_at = None
        for k, idx in enumerate(_batches(cfg.n, cfg.batch_size, cfg.steps, cfg.seed), start=1):
            Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            _, g = logreg_loss_and_grad(params, Xb, yb)
            params = params - cfg.lr * g
            if not bool(torch.isfinite(params).all()):
                diverged_at = k
                break
            hist.append(params)
            grads.append(g)
            record(params)
    return LogRegResult(
        config=cfg,
        X=X.numpy(),
        y=y.numpy(),
        params=torch.stack(hist).numpy(),
        grads=torch.stack(grads).numpy() if grads else np.zeros((0, 3)),
        loss=torch.stack(losses).numpy(),
        accuracy=torch.stack(accs).numpy(),
        diverged_at=diverged_at,
        seconds=t[0],
    )


@dataclass(frozen=True)
class LogRegPoint:
    """The numbers of one point i at step k, named as on the page."""

    x: tuple[float, float]
    y: float
    w: tuple[float, float]
    b: float
    z: float  # w . x + b
    p: float  # sigma(z)
    loss: float  # -[y log p + (1-y) log(1-p)]
    dL_dz: float  # p - y
    dL_dw: tuple[float, float]  # (p - y) x
    dL_db: float  # p - y


def logreg_point(res: LogRegResult, k: int, i: int) -> LogRegPoint:
    """Walk point i through the model with the parameters before step k+1."""
    w1, w2, b = (float(v) for v in res.params[k])
    x1, x2 = (float(v) for v in res.X[i])
    yi = float(res.y[i])
    z = w1 * x1 + w2 * x2 + b
    p = 1 / (1 + math.exp(-z)) if z > -700 else 0.0
    loss = max(z, 0) - z * yi + math.log1p(math.exp(-abs(z)))
    d = p - yi
    return LogRegPoint((x1, x2), yi, (w1, w2), b, z, p, loss, d, (d * x1, d * x2), d)
