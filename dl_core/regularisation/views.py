"""What the page inspects: one dropout step, the Monte Carlo average of many masks, and
bias and variance of polynomial fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dl_core.regularisation.data import GRID_1D, MAX_N, MAX_NOISE, N_TEST, make_data, truth
from dl_core.regularisation.formulas import DTYPE, dropout_mask
from dl_core.regularisation.network import FitResult, _scaled_masks, forward
from dl_core.training import check_range, generator

# ---------------------------------------------------------------------------
# 5. Dropout: one step's masks, and the ensemble
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DropoutStep:
    p: float
    x: np.ndarray  # (d,) the training point
    h1: np.ndarray  # (H,) the first hidden layer's activations
    r1: np.ndarray  # (H,) its mask (1 keep, 0 drop)
    h1_drop: np.ndarray  # (H,) h^drop = r ⊙ h / (1 − p)
    r2: np.ndarray  # (H,) the second layer's mask
    out_train: float  # the network's output with these masks
    out_eval: float  # ... in evaluation mode (no mask)


def dropout_step(res: FitResult, m: int, sample: int, seed: int) -> DropoutStep:
    """Model m's forward pass on training point ``sample`` with one freshly drawn mask."""
    cfg, p = res.config, res.variants[m].p
    d, H = cfg.d_in, cfg.width
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    x = data.X_train[sample % cfg.n][None]  # (1, d)
    theta = torch.as_tensor(res.theta[m], dtype=DTYPE)[None]
    g = generator(seed)
    r1, r2 = dropout_mask((H,), p, g), dropout_mask((H,), p, g)
    masks = (r1 / (1 - p))[None, None], (r2 / (1 - p))[None, None]
    out_t, (_, h1, d1, _, _) = forward(theta, x, d, H, masks)
    out_e = forward(theta, x, d, H)[0]
    raw = data.raw["x_train"][sample % cfg.n]
    return DropoutStep(p, np.atleast_1d(raw), h1[0, 0].numpy(), r1.numpy(), d1[0, 0].numpy(),
                       r2.numpy(), float(out_t), float(out_e))  # fmt: skip


@dataclass(frozen=True)
class MonteCarlo:
    p: float
    T: int  # masks averaged
    x: np.ndarray  # (G,) where (the grid for the curve, test points' index for 2-D)
    eval: np.ndarray  # (G,) the evaluation-mode output (no mask, no scaling)
    mean: np.ndarray  # (G,) the average over T masked outputs
    std: np.ndarray  # (G,) their standard deviation

    @property
    def gap(self) -> float:
        """mean |MC average − evaluation output|"""
        return float(np.abs(self.mean - self.eval).mean())


MC_POINTS = 100


def monte_carlo(res: FitResult, m: int, T: int = 200, seed: int = 0) -> MonteCarlo:
    """Model m's output averaged over T dropout masks (the ensemble of thinned networks)
    against its evaluation-mode output, on the curve's grid or on test points (the network's
    raw output: ŷ, or the logit for the 2-D sets, where the averaging is linear)."""
    cfg, p = res.config, res.variants[m].p
    d, H = cfg.d_in, cfg.width
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    X = data.grid[:: GRID_1D // MC_POINTS] if cfg.task == "regression" else data.X_test[:MC_POINTS]
    theta = torch.as_tensor(res.theta[m], dtype=DTYPE)[None]
    g = generator(seed)
    with torch.no_grad():
        e = forward(theta, X, d, H)[0][0, :, 0]
        if p == 0:
            outs = e.expand(T, -1)
        else:
            ps = torch.full((T,), p, dtype=DTYPE)  # T copies of the model, one mask each
            masks = _scaled_masks(ps, T, len(X), H, g, shared=False)  # T independent masks
            outs = forward(theta.expand(T, -1), X, d, H, masks)[0][..., 0]  # (T, G)
    xs = X[:, 0].numpy() if cfg.task == "regression" else np.arange(len(X), dtype=float)
    return MonteCarlo(p, T, xs, e.numpy(), outs.mean(0).numpy(), outs.std(0).numpy())


# ---------------------------------------------------------------------------
# 6. Bias and variance: polynomials over many datasets
# ---------------------------------------------------------------------------

MAX_DEGREE = 15


def legendre(x: torch.Tensor, degree: int) -> torch.Tensor:
    """Legendre polynomials P₀ … P_degree at x (N,): (N, degree + 1). A well-conditioned
    basis of the polynomials on [−1, 1]."""
    cols = [torch.ones_like(x), x]
    for k in range(1, degree):
        cols.append(((2 * k + 1) * x * cols[k] - k * cols[k - 1]) / (k + 1))
    return torch.stack(cols[: degree + 1], 1)


@dataclass(frozen=True)
class BiasVariance:
    degrees: np.ndarray  # (D,)
    bias2: np.ndarray  # (D,) mean over x of (E[ŷ(x)] − f(x))²
    variance: np.ndarray  # (D,) mean over x of Var[ŷ(x)] across datasets
    noise2: float  # σ²
    test: np.ndarray  # (D,) mean test error over datasets (fresh noisy points)
    train: np.ndarray  # (D,) mean training error
    grid: np.ndarray  # (G,)
    truth: np.ndarray  # (G,)
    mean_fit: np.ndarray  # (D, G)
    fits: np.ndarray  # (D, S, G): a few of the datasets' fits, for the picture

    @property
    def expected(self) -> np.ndarray:
        """bias² + variance + σ²: the expected test error."""
        return self.bias2 + self.variance + self.noise2


def bias_variance(
    n: int, noise: float, seed: int = 0, datasets: int = 100, shown: int = 12
) -> BiasVariance:
    """Least-squares polynomials of degree 0 … min(15, n − 1) fitted to ``datasets``
    independent noisy samples of n points of the curve."""
    check_range("training points", n, 4, MAX_N)
    check_range("noise", noise, 0.0, MAX_NOISE)
    g = generator(seed + 104729)
    R, D = datasets, min(MAX_DEGREE, n - 1)
    x = torch.rand(R, n, generator=g, dtype=DTYPE) * 2 - 1
    y = truth(x) + noise * torch.randn(R, n, generator=g, dtype=DTYPE)
    xt = torch.rand(R, N_TEST, generator=g, dtype=DTYPE) * 2 - 1
    yt = truth(xt) + noise * torch.randn(R, N_TEST, generator=g, dtype=DTYPE)
    grid = torch.linspace(-1, 1, GRID_1D, dtype=DTYPE)
    F = legendre(x.ravel(), D).view(R, n, D + 1)
    Ft = legendre(xt.ravel(), D).view(R, N_TEST, D + 1)
    Fg = legendre(grid, D)  # (G, D + 1)
    out = {k: [] for k in ("bias2", "var", "test", "train", "mean", "fits")}
    for k in range(D + 1):
        c = torch.linalg.lstsq(F[..., : k + 1], y[..., None]).solution  # (R, k + 1, 1)
        fit = (Fg[:, : k + 1] @ c)[..., 0]  # (R, G)
        mean = fit.mean(0)
        out["bias2"].append(((mean - truth(grid)) ** 2).mean())
        out["var"].append(fit.var(0, unbiased=False).mean())
        out["test"].append((((Ft[..., : k + 1] @ c)[..., 0] - yt) ** 2).mean())
        out["train"].append((((F[..., : k + 1] @ c)[..., 0] - y) ** 2).mean())
        out["mean"].append(mean)
        out["fits"].append(fit[:shown])
    a = lambda key: torch.stack(out[key]).numpy()  # noqa: E731
    return BiasVariance(np.arange(D + 1), a("bias2"), a("var"), noise**2, a("test"), a("train"),
                        grid.numpy(), truth(grid).numpy(), a("mean"), a("fits"))  # fmt: skip
