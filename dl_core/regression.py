"""Linear and logistic regression trained by gradient descent.

Both are written out by hand (the gradients are the formulas on the page) and
tested against autograd, ``torch.linalg.lstsq`` and
``F.binary_cross_entropy_with_logits``. Symbols as on the page (``dl_core.notation``): weight
w, bias b, prediction y_hat, sample i (1..n on the page, 0-based here), loss L, the logistic
unit's pre-activation a = w . x + b, the Hessian's eigenvalues lambda_min, lambda_max.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import optim
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
    eigenvalues: tuple[float, float]  # (lambda_min, lambda_max) of the Hessian (2/n) X^T X
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


def batch_lambda_max(res: LinRegResult) -> np.ndarray:
    """lambda_max of the Hessian (2/|B|) X_B^T X_B of the batch each step used, shape (K,) for
    the K steps taken (the diverging step included): a batch's loss is a quadratic too, and a
    step on it overshoots along its steepest direction when lr > 2 / (its lambda_max)."""
    cfg = res.config
    K = len(res.theta) - 1 + (res.diverged_at is not None)
    x = torch.from_numpy(res.x)
    batches = _batches(cfg.n, cfg.batch_size, K, cfg.seed)
    if batches[0] is None:
        return np.full(K, res.eigenvalues[1])
    X = design(x)[torch.stack(batches)]  # (K, |B|, 2)
    H = 2 * X.transpose(1, 2) @ X / X.shape[1]  # (K, 2, 2)
    return torch.linalg.eigvalsh(H)[:, -1].numpy()


def diagnose(res: LinRegResult) -> str | None:
    """Why a run diverged (Markdown with LaTeX), or None. Full batch: lr > 2 / lambda_max
    exactly (the loss is a quadratic). With batches each step sees its batch's Hessian, whose
    lambda_max varies and can exceed the full data's: a run can diverge below 2 / lambda_max."""
    if res.diverged_at is None:
        return None
    lr, lam_max = res.config.lr, res.eigenvalues[1]
    head = f"Diverged at step {res.diverged_at}: "
    if res.config.batch_size == 0 or res.config.batch_size >= res.config.n:
        return head + (
            f"$\\eta = {lr:g}$ exceeds $2/\\lambda_{{\\max}} = {2 / lam_max:.3g}$, where "
            f"$\\lambda_{{\\max}} = {lam_max:.3g}$ is the largest eigenvalue of the Hessian "
            f"$\\tfrac2n X^\\top X$: each step multiplies the error along its eigenvector by "
            f"$|1 - \\eta\\lambda_{{\\max}}| = {abs(1 - lr * lam_max):.3g} > 1$."
        )
    lam_b = batch_lambda_max(res)
    over = int((lr * lam_b > 2).sum())
    return head + (
        f"each step follows its batch's own Hessian $\\tfrac{{2}}{{|B|}} X_B^\\top X_B$. Its "
        f"largest eigenvalue reached {lam_b.max():.3g} (the full data's: {lam_max:.3g}), and on "
        f"{over} of the {len(lam_b)} steps $\\eta = {lr:g}$ exceeded that batch's "
        f"$2/\\lambda_{{\\max}}$: those steps overshoot. Lower $\\eta$."
    )


def gd_rates(res: LinRegResult) -> dict[str, float]:
    """Full-batch GD's rate at the run's lr and its best fixed step (``optim.gd_rate``): the
    loss is the quadratic L* + (theta - theta*)^T (X^T X / n) (theta - theta*)."""
    lam_min, lam_max = res.eigenvalues
    best, best_rate = optim.gd_optimum(lam_min, lam_max)
    rate = float(optim.gd_rate(res.config.lr, lam_min, lam_max))
    return {"rate": rate, "lr_best": best, "rate_best": best_rate}


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
    a: float  # w . x + b, the pre-activation (logit)
    y_hat: float  # sigma(a), the predicted probability of class 1
    loss: float  # -[y log y_hat + (1-y) log(1-y_hat)]
    dL_da: float  # y_hat - y
    dL_dw: tuple[float, float]  # (y_hat - y) x
    dL_db: float  # y_hat - y


def logreg_point(res: LogRegResult, k: int, i: int) -> LogRegPoint:
    """Walk point i through the model with the parameters before step k+1."""
    w1, w2, b = (float(v) for v in res.params[k])
    x1, x2 = (float(v) for v in res.X[i])
    yi = float(res.y[i])
    a = w1 * x1 + w2 * x2 + b
    y_hat = 1 / (1 + math.exp(-a)) if a > -700 else 0.0
    loss = max(a, 0) - a * yi + math.log1p(math.exp(-abs(a)))
    d = y_hat - yi
    return LogRegPoint((x1, x2), yi, (w1, w2), b, a, y_hat, loss, d, (d * x1, d * x2), d)
