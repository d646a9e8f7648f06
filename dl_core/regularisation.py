"""Regularisation and normalisation: overfitting and its cures, each formula a function.

Sections of this module, in the page's order:

1. **Formulas** (tensor in, tensor out): the penalties Ω and their gradients, the
   soft threshold (L1's proximal step), decoupled weight decay, the dropout mask and its
   inverted scaling, batch norm in training and evaluation mode with its running averages,
   standardisation and the condition number. Each is checked in the tests against autograd,
   ``torch.optim``, ``nn.Dropout`` or ``nn.BatchNorm1d``.
2. **Data**: a noisy 1-D curve y = sin(πx) + noise, or a 2-D classification set from
   ``dl_core.data2d``; train, validation and test splits.
3. **The network and its training**: a two-hidden-layer tanh MLP with a hand-written
   forward and backward pass. ``train`` trains M copies at once (one batched matmul per
   layer), each with its own penalty, α and dropout p, from the same initial weights, the
   same data and the same random numbers: a sweep over α costs about what one model does.
   The optimizer update is ``dl_core.optim.step`` (SGD or Adam); L2 in the loss adds α w
   to the gradient; decoupled weight decay multiplies the weights by (1 − ηα) before the
   optimizer's step (with Adam: exactly ``torch.optim.AdamW``); the L1 proximal step
   soft-thresholds the weights by ηα after it. Biases are never penalised.
4. **Early stopping**: every run records the validation loss and keeps the weights of its
   best step k* (a checkpoint), and the distance ‖θ_k − θ₀‖ that links it to L2.
5. **Dropout**: one step's masks, and the Monte Carlo average of many masks against the
   evaluation-mode output.
6. **Bias and variance**: polynomial least squares over many datasets.
7. **Batch norm**: a deep sigmoid/tanh network trained with and without batch norm.
8. **Standardising inputs**: the condition number of a linear regression's loss before and
   after standardising, and gradient descent's path on both.

Bounds: every size and step count is capped (``MAX_*``); a default run takes a fraction
of a second on one CPU thread. Everything is seeded by a local ``torch.Generator``; the
same config gives the same numbers. Divergence is data (``diverged_at``), never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import data2d, engine, optim
from dl_core.training import check_choice, check_range, generator, one_thread, timer

DTYPE = torch.float64  # the models are tiny: float64 costs no time and matches torch exactly

# ---------------------------------------------------------------------------
# 1. Formulas
# ---------------------------------------------------------------------------

PENALTIES = ("none", "l2", "decay", "l1", "l1_prox")
PENALTY_LABELS = {
    "none": "None",
    "l2": "L2 in the loss",
    "decay": "Weight decay (decoupled)",
    "l1": "L1 (subgradient)",
    "l1_prox": "L1 (proximal step)",
}
BN_EPS = 1e-5  # as nn.BatchNorm1d
BN_MOMENTUM = 0.1  # as nn.BatchNorm1d: running ← 0.9 running + 0.1 batch statistic


def penalty(w: torch.Tensor, kind: str) -> torch.Tensor:
    """Ω(w) over the last dimension: ½‖w‖² for L2 and weight decay, ‖w‖₁ for L1."""
    if kind in ("l2", "decay"):
        return 0.5 * (w * w).sum(-1)
    if kind in ("l1", "l1_prox"):
        return w.abs().sum(-1)
    return torch.zeros(w.shape[:-1], dtype=w.dtype)


def penalty_grad(w: torch.Tensor, kind: str) -> torch.Tensor:
    """∂Ω/∂w: w for L2 (and decay), sign(w) for L1 (its subgradient; 0 at w = 0)."""
    if kind in ("l2", "decay"):
        return w
    if kind in ("l1", "l1_prox"):
        return torch.sign(w)
    return torch.zeros_like(w)


def soft_threshold(u: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """L1's proximal step: argmin_w ½(w − u)² + t|w| = sign(u) max(|u| − t, 0).
    Every |u| ≤ t lands on exactly 0."""
    return torch.sign(u) * torch.clamp(u.abs() - t, min=0.0)


def decay(w: torch.Tensor, lr: float, alpha: float) -> torch.Tensor:
    """Decoupled weight decay: w ← (1 − ηα) w, before the optimizer's own step."""
    return (1.0 - lr * alpha) * w


def dropout_mask(shape, p: float, g: torch.Generator, dtype=DTYPE) -> torch.Tensor:
    """r with rⱼ ~ Bernoulli(1 − p): 1 keeps a unit, 0 drops it."""
    return (torch.rand(shape, generator=g, dtype=dtype) >= p).to(dtype)


def dropout(h: torch.Tensor, r: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout: h̃ = r ⊙ h / (1 − p), so E[h̃] = h and evaluation needs no mask."""
    return h * r / (1.0 - p)


def batch_norm_train(a: torch.Tensor, gamma, beta, eps: float = BN_EPS, dim: int = 0):
    """Batch norm in training mode over a batch a (B, H) (the batch along ``dim``): returns
    y, μ_B, σ_B², â with μ_B = mean_i a_i, σ_B² = mean_i (a_i − μ_B)² (biased),
    â = (a − μ_B)/√(σ_B² + ε), y = γ â + β."""
    mu = a.mean(dim, keepdim=True)
    centred = a - mu
    var = (centred * centred).mean(dim, keepdim=True)
    a_hat = centred / torch.sqrt(var + eps)
    return gamma * a_hat + beta, mu.squeeze(dim), var.squeeze(dim), a_hat


def running_update(run_mu, run_var, mu, var, B: int, momentum: float = BN_MOMENTUM):
    """The running averages used at evaluation, as nn.BatchNorm1d keeps them:
    μ̂ ← (1 − m) μ̂ + m μ_B and σ̂² ← (1 − m) σ̂² + m σ_B² B/(B − 1) (the unbiased variance)."""
    unbiased = var * (B / max(B - 1, 1))
    return torch.lerp(run_mu, mu, momentum), torch.lerp(run_var, unbiased, momentum)


def batch_norm_eval(a, gamma, beta, run_mu, run_var, eps: float = BN_EPS) -> torch.Tensor:
    """Batch norm in evaluation mode: the running averages instead of the batch's statistics."""
    return gamma * (a - run_mu) / torch.sqrt(run_var + eps) + beta


def standardise(X: torch.Tensor, mean=None, std=None):
    """x̃ = (x − μ)/σ per feature (μ, σ of X unless given). Returns X̃, μ, σ."""
    mean = X.mean(0) if mean is None else mean
    std = X.std(0, unbiased=False).clamp_min(1e-12) if std is None else std
    return (X - mean) / std, mean, std


def condition_number(H: torch.Tensor) -> float:
    """κ = λ_max/λ_min of a symmetric positive definite matrix."""
    ev = torch.linalg.eigvalsh(H)
    return float(ev[-1] / ev[0])


# ---------------------------------------------------------------------------
# 2. Data
# ---------------------------------------------------------------------------

DATASETS = ("curve", "moons", "circles", "xor")
DATASET_LABELS = {
    "curve": "1-D curve: y = sin(πx) + noise",
    "moons": "Two moons (2-D classes)",
    "circles": "Circle in a ring (2-D classes)",
    "xor": "XOR (2-D classes)",
}
MAX_N = 100  # training points (and as many validation points)
MAX_NOISE = 0.5
N_TEST = 200
GRID_1D = 200  # points of the fitted curve
GRID_2D = 40  # cells per axis of the decision map


def n_val(n: int) -> int:
    """The validation set's size: as many points as the training set."""
    return n


def truth(x: torch.Tensor) -> torch.Tensor:
    """The curve the 1-D data is drawn around."""
    return torch.sin(math.pi * x)


@dataclass(frozen=True)
class Data:
    X_train: torch.Tensor  # (N, d) model inputs (2-D sets standardised by the train split)
    y_train: torch.Tensor  # (N, 1) targets: values (curve) or labels 0/1
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    grid: torch.Tensor  # (G, d) model inputs where the fit is drawn
    raw: dict[str, np.ndarray]  # plot coordinates: x_train, x_val, grid_x (and grid_y for 2-D)


def make_data(name: str, n: int, noise: float, seed: int) -> Data:
    """The training, validation and test splits of one dataset (seeded)."""
    check_choice("dataset", name, DATASETS)
    check_range("training points", n, 4, MAX_N)
    check_range("noise", noise, 0.0, MAX_NOISE)
    m = n_val(n)
    if name == "curve":
        g = generator(seed)
        x = torch.rand(n + m + N_TEST, 1, generator=g, dtype=DTYPE) * 2 - 1
        y = truth(x) + noise * torch.randn(x.shape, generator=g, dtype=DTYPE)
        grid = torch.linspace(-1, 1, GRID_1D, dtype=DTYPE)[:, None]
        parts = (x[:n], y[:n], x[n : n + m], y[n : n + m], x[n + m :], y[n + m :])
        raw = {
            "x_train": x[:n].numpy(),
            "x_val": x[n : n + m].numpy(),
            "grid_x": grid[:, 0].numpy(),
        }
        return Data(*parts, grid, raw)
    X, y = data2d.make(name, n + m + N_TEST, noise, seed)
    y = y.to(DTYPE)[:, None]
    Xs, mean, std = standardise(X[:n])  # the network sees standardised inputs (section 8)
    ax = torch.linspace(-data2d.EXTENT, data2d.EXTENT, GRID_2D, dtype=DTYPE)
    gy, gx = torch.meshgrid(ax, ax, indexing="ij")  # (G, G), rows are y
    grid = torch.stack([gx.ravel(), gy.ravel()], 1)  # (G², 2)
    s = lambda Z: standardise(Z, mean, std)[0]  # noqa: E731
    raw = {"x_train": X[:n].numpy(), "x_val": X[n : n + m].numpy(), "grid_x": ax.numpy(),
           "grid_y": ax.numpy()}  # fmt: skip
    return Data(Xs, y[:n], s(X[n : n + m]), y[n : n + m], s(X[n + m :]), y[n + m :], s(grid), raw)


# ---------------------------------------------------------------------------
# 3. The network and its training
# ---------------------------------------------------------------------------

OPTIMIZERS = ("sgd", "adam")
OPTIMIZER_LABELS = {"sgd": "SGD", "adam": "Adam"}
MAX_WIDTH = 48
MAX_STEPS = 3000
MAX_P = 0.8
RECORDS = 50  # a run records its losses about this many times
DIVERGENCE_LIMIT = 1e6  # a weight beyond this counts as diverged
ALPHAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # the α sweep
P_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # the dropout sweep


@dataclass(frozen=True)
class FitConfig:
    data: str = "curve"  # one of DATASETS
    n: int = 20  # training points
    noise: float = 0.3  # the curve's noise σ, or data2d's jitter of the 2-D points
    width: int = 32  # units in each of the two hidden layers: the capacity
    optimizer: str = "adam"  # one of OPTIMIZERS
    lr: float = 0.02  # η
    steps: int = 1000  # full-batch training steps
    penalty: str = "none"  # one of PENALTIES
    alpha: float = 1e-3  # α, the penalty's strength
    p: float = 0.0  # the dropout probability of each hidden unit
    seed: int = 0  # initial weights and dropout masks
    data_seed: int = 0  # the dataset

    def __post_init__(self) -> None:
        check_choice("dataset", self.data, DATASETS)
        check_range("training points", self.n, 4, MAX_N)
        check_range("noise", self.noise, 0.0, MAX_NOISE)
        check_range("hidden units", self.width, 1, MAX_WIDTH)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("learning rate", self.lr, 1e-6, 10.0)
        check_range("steps", self.steps, 1, MAX_STEPS)
        check_choice("penalty", self.penalty, PENALTIES)
        check_range("penalty strength α", self.alpha, 0.0, 10.0)
        check_range("dropout p", self.p, 0.0, MAX_P)

    @classmethod
    def tiny(cls) -> FitConfig:
        return cls(n=12, width=8, steps=200)

    @property
    def d_in(self) -> int:
        return 1 if self.data == "curve" else 2

    @property
    def task(self) -> str:
        return "regression" if self.data == "curve" else "binary"


@dataclass(frozen=True)
class Variant:
    """What differs between the models of one batched run."""

    penalty: str = "none"
    alpha: float = 0.0
    p: float = 0.0

    def __post_init__(self) -> None:
        check_choice("penalty", self.penalty, PENALTIES)
        check_range("penalty strength α", self.alpha, 0.0, 10.0)
        check_range("dropout p", self.p, 0.0, MAX_P)


def layout(d: int, H: int) -> list[tuple[str, tuple[int, ...]]]:
    """The flat parameter vector's pieces, in order (W as (inputs, units): a = h W + b)."""
    return [
        ("W1", (d, H)),
        ("b1", (H,)),
        ("W2", (H, H)),
        ("b2", (H,)),
        ("W3", (H, 1)),
        ("b3", (1,)),
    ]


def n_params(d: int, H: int) -> int:
    return sum(math.prod(s) for _, s in layout(d, H))


def views(theta: torch.Tensor, d: int, H: int) -> dict[str, torch.Tensor]:
    """Views of θ (M, P) as the batched layers: W (M, in, out), b (M, 1, out)."""
    M, out, o = theta.shape[0], {}, 0
    for name, shape in layout(d, H):
        size = math.prod(shape)
        out[name] = theta[:, o : o + size].view(M, *shape) if name[0] == "W" else theta[:, o : o + size].view(M, 1, size)  # fmt: skip
        o += size
    return out


def weight_mask(d: int, H: int) -> torch.Tensor:
    """1 on the weights, 0 on the biases (P,): penalties and decay touch only weights."""
    return torch.cat([torch.full((math.prod(s),), float(n[0] == "W"), dtype=DTYPE) for n, s in layout(d, H)])  # fmt: skip


def init_theta(d: int, H: int, seed: int) -> torch.Tensor:
    """θ₀ (P,): Xavier-normal weights N(0, 2/(fan_in + fan_out)), zero biases."""
    g = generator(seed)
    parts = []
    for name, shape in layout(d, H):
        if name[0] == "W":
            parts.append(engine.xavier_normal(*shape, g, DTYPE).ravel())
        else:
            parts.append(engine.zeros(math.prod(shape), DTYPE))
    return torch.cat(parts)


def _tanh(a: torch.Tensor) -> torch.Tensor:
    """tanh(a) = 2σ(2a) − 1, in place on a temporary a: on this CPU torch's float64 tanh takes
    4-8 times as long as its sigmoid, and tanh is the training step's largest cost."""
    if a.requires_grad:  # autograd (the tests' reference) cannot go through in-place ops
        return 2 * torch.sigmoid(2 * a) - 1
    return torch.sigmoid(a.mul_(2)).mul_(2).sub_(1)


def forward(theta: torch.Tensor, X: torch.Tensor, d: int, H: int, masks=None, v=None):
    """The outputs (M, N, 1) of M networks on X (N, d), and what backward needs.
    ``masks``: (r₁, r₂), each (M, N, H), already divided by (1 − p); None in evaluation.
    ``v``: θ's layer views, when the caller keeps them."""
    v = views(theta, d, H) if v is None else v
    h1 = _tanh(engine.dense(X, v["W1"], v["b1"]))  # (M, N, H): the engine's dense layer
    d1 = h1 if masks is None else h1 * masks[0]
    h2 = _tanh(engine.dense(d1, v["W2"], v["b2"]))  # (M, N, H)
    d2 = h2 if masks is None else h2 * masks[1]
    out = engine.dense(d2, v["W3"], v["b3"])  # (M, N, 1)
    return out, (v, h1, d1, h2, d2)


def data_loss(task: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L per model (M,): mean squared error, or binary cross-entropy of the logit ``out``."""
    if task == "regression":
        return ((out - y) ** 2).mean((1, 2))
    return (torch.nn.functional.softplus(out) - y * out).mean((1, 2))


class _Batch:
    """M networks' parameters θ and gradients as flat buffers (M, P), with the layers as
    views into them: the optimizer updates all of them in a few ops whatever the depth, and
    the backward pass writes each gradient where it belongs (``out=``)."""

    def __init__(self, theta: torch.Tensor, d: int, H: int) -> None:
        self.d, self.H = d, H
        self.theta = theta.clone()
        self.grad = torch.zeros_like(theta)
        self.v, self.gv = views(self.theta, d, H), views(self.grad, d, H)

    def backward(self, X, y, task: str, masks=None) -> torch.Tensor:
        """L (M,) at θ; ∂L/∂θ into ``grad``. The hand-written backward pass."""
        v, gv = self.v, self.gv
        out, (_, h1, d1, h2, d2) = forward(self.theta, X, self.d, self.H, masks, v)
        N = X.shape[0]
        dout = (out - y) * (2.0 / N) if task == "regression" else (torch.sigmoid(out) - y) / N
        # the engine's dense backward: ∂L/∂W = hᵀ δ, ∂L/∂b = Σ δ (into grad), ∂L/∂h = δ Wᵀ
        da2 = engine.dense_backward(dout, d2, v["W3"], gv["W3"], gv["b3"])[2]  # ∂L/∂d₂
        if masks is not None:
            da2 = da2 * masks[1]
        da2 = engine.delta("tanh", da2, h2)  # through tanh: ∂L/∂a₂ = ∂L/∂h₂ (1 − h₂²)
        da1 = engine.dense_backward(da2, d1, v["W2"], gv["W2"], gv["b2"])[2]
        if masks is not None:
            da1 = da1 * masks[0]
        da1 = engine.delta("tanh", da1, h1)
        engine.dense_backward(da1, X, v["W1"], gv["W1"], gv["b1"], dh=False)
        return data_loss(task, out, y)


def gradient(theta, X, y, d: int, H: int, task: str, masks=None):
    """L (M,) and ∂L/∂θ (M, P) by the hand-written backward pass (tested against autograd)."""
    net = _Batch(theta, d, H)
    return net.backward(X, y, task, masks), net.grad


def predict(theta: torch.Tensor, X: torch.Tensor, d: int, H: int, task: str) -> torch.Tensor:
    """Evaluation-mode predictions (M, N): ŷ, or p(class 1) for the 2-D sets."""
    out = forward(theta, X, d, H)[0][..., 0]
    return out if task == "regression" else torch.sigmoid(out)


def _scaled_masks(
    ps: torch.Tensor, M: int, N: int, H: int, g: torch.Generator, shared: bool = True
):
    """(r₁/(1 − p), r₂/(1 − p)), each (M, N, H); model m drops with its own p_m. ``shared``:
    the models use the same uniform numbers (common random numbers: a sweep over p differs
    only by p); else each model draws its own masks (a Monte Carlo average)."""
    u = (
        torch.rand(2, N, H, generator=g, dtype=DTYPE)[:, None]
        if shared
        else torch.rand(2, M, N, H, generator=g, dtype=DTYPE)
    )
    keep = (u >= ps[None, :, None, None]).to(DTYPE) / (1 - ps)[None, :, None, None]
    return keep[0], keep[1]


@dataclass(frozen=True)
class FitResult:
    config: FitConfig
    variants: tuple[Variant, ...]
    optimizer: str
    steps: np.ndarray  # (R,) the recorded steps 0 .. K
    train: np.ndarray  # (M, R) data loss on the training points (evaluation mode, no penalty)
    val: np.ndarray  # (M, R) on the validation points
    test: np.ndarray  # (M, R) on the test points
    accuracy: np.ndarray  # (M, R) test accuracy (2-D sets; NaN for the curve)
    dist: np.ndarray  # (M, R) ‖θ_k − θ₀‖
    best: np.ndarray  # (M,) index into ``steps`` of the lowest validation loss
    theta0: np.ndarray  # (P,)
    theta: np.ndarray  # (M, P) after the last step
    theta_best: np.ndarray  # (M, P) the checkpoint at the best validation loss
    pred: np.ndarray  # (M, G) predictions on the grid after the last step
    pred_best: np.ndarray  # (M, G) ... with the checkpoint's weights
    last: dict[str, np.ndarray]  # the last update's terms by symbol, each (M, P)
    diverged_at: tuple[int | None, ...]  # per model: the first step whose weights blew up
    seconds: float
    device: str = "cpu"

    @property
    def best_step(self) -> np.ndarray:
        """k* per model."""
        return self.steps[self.best]

    def at_best(self, curve: np.ndarray) -> np.ndarray:
        """A recorded curve (M, R) at each model's best step: (M,)."""
        return curve[np.arange(len(self.best)), self.best]


def train(
    cfg: FitConfig, variants: tuple[Variant, ...] | None = None, optimizer: str | None = None
) -> FitResult:
    """Train one network per variant, all at once, from the same θ₀ on the same data.
    Default: the one model that ``cfg`` describes."""
    variants = variants or (Variant(cfg.penalty, cfg.alpha, cfg.p),)
    opt = optimizer or cfg.optimizer
    check_choice("optimizer", opt, OPTIMIZERS)
    M, d, H = len(variants), cfg.d_in, cfg.width
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    N, task, lr = cfg.n, cfg.task, cfg.lr
    n_v = data.X_val.shape[0]
    X_eval = torch.cat([data.X_train, data.X_val, data.X_test])  # one forward per record
    y_eval = torch.cat([data.y_train, data.y_val, data.y_test])
    parts = ((0, N), (N, N + n_v), (N + n_v, len(X_eval)))
    with torch.no_grad(), one_thread(), timer() as t:
        theta0 = init_theta(d, H, cfg.seed)
        net = _Batch(theta0.expand(M, -1).contiguous(), d, H)
        theta = net.theta  # (M, P), updated in place
        wmask = weight_mask(d, H)

        def coef(*kinds):  # (M, P): α on the weights of the models with this penalty
            a = torch.tensor(
                [v.alpha if v.penalty in kinds else 0.0 for v in variants], dtype=DTYPE
            )
            return a[:, None] * wmask if bool((a > 0).any()) else None

        a_l2, a_l1, a_decay, a_prox = coef("l2"), coef("l1"), coef("decay"), coef("l1_prox")
        ps = torch.tensor([v.p for v in variants], dtype=DTYPE)
        dropping = bool((ps > 0).any())
        ocfg = optim.OptimConfig(opt, lr=lr)
        state = optim.init_state(ocfg, theta)
        g_mask = generator(cfg.seed + 1)
        every = max(1, cfg.steps // RECORDS)
        rec: dict[str, list] = {k: [] for k in ("steps", "train", "val", "test", "acc", "dist")}
        best_val = torch.full((M,), math.inf, dtype=DTYPE)
        best_idx = torch.zeros(M, dtype=torch.long)
        theta_best = theta.clone()
        diverged: list[int | None] = [None] * M
        last: dict[str, torch.Tensor] = {}
        nan = torch.tensor(math.nan, dtype=DTYPE)

        def record(k: int) -> None:
            out = forward(theta, X_eval, d, H, v=net.v)[0]  # (M, N_eval, 1)
            bad = ~torch.isfinite(theta).all(1) | (theta.abs().amax(1) > DIVERGENCE_LIMIT)
            for m in torch.nonzero(bad).ravel().tolist():
                diverged[m] = k if diverged[m] is None else diverged[m]
            losses = [
                torch.where(bad, nan, data_loss(task, out[:, i:j], y_eval[i:j])) for i, j in parts
            ]
            val = losses[1].nan_to_num(math.inf)
            better = val < best_val
            best_val[better] = val[better]
            best_idx[better] = len(rec["steps"])
            theta_best[better] = theta[better]
            for key, x in zip(("train", "val", "test"), losses, strict=True):
                rec[key].append(x)
            i = parts[2][0]
            hit = (out[:, i:] > 0) == (y_eval[i:] > 0.5)
            rec["acc"].append(hit.to(DTYPE).mean((1, 2)) if task == "binary" else nan.expand(M))
            rec["dist"].append((theta - theta0).norm(dim=1))
            rec["steps"].append(k)

        record(0)
        for k in range(1, cfg.steps + 1):
            masks = _scaled_masks(ps, M, N, H, g_mask) if dropping else None
            net.backward(data.X_train, data.y_train, task, masks)
            g = net.grad
            if a_l2 is not None:  # L2 in the loss: + α w in the gradient
                g = g + a_l2 * theta
            if a_l1 is not None:  # L1's subgradient: + α sign(w)
                g = g + a_l1 * torch.sign(theta)
            start = theta if a_decay is None else theta - lr * a_decay * theta  # (1 − ηα) w
            new, state, terms = optim.step(ocfg, start, g, state, k)
            if a_prox is not None:
                new = soft_threshold(new, lr * a_prox)  # threshold 0 leaves a model untouched
            if k == cfg.steps:
                last = {"theta_prev": theta.clone(), "g": net.grad.clone(), "g_pen": g - net.grad,
                        "decayed": start.clone(), "theta": new,
                        **{f"opt_{n}": v for n, v in terms.items()}}  # fmt: skip
            theta.copy_(new)
            if k % every == 0 or k == cfg.steps:
                record(k)
                if all(x is not None for x in diverged):
                    break
        pred = predict(theta, data.grid, d, H, task)
        pred_best = predict(theta_best, data.grid, d, H, task)
    stack = lambda key: torch.stack(rec[key], 1).numpy()  # noqa: E731  (M, R)
    return FitResult(
        config=cfg, variants=tuple(variants), optimizer=opt, steps=np.array(rec["steps"]),
        train=stack("train"), val=stack("val"), test=stack("test"), accuracy=stack("acc"),
        dist=stack("dist"), best=best_idx.numpy(), theta0=theta0.numpy(), theta=theta.numpy(),
        theta_best=theta_best.numpy(), pred=pred.numpy(), pred_best=pred_best.numpy(),
        last={k: v.numpy() for k, v in last.items()}, diverged_at=tuple(diverged), seconds=t[0],
    )  # fmt: skip


def sweep_penalty(cfg: FitConfig) -> str:
    """The penalty a sweep over α uses: the learner's, or L2 when none is chosen."""
    return cfg.penalty if cfg.penalty != "none" else "l2"


def alpha_sweep(cfg: FitConfig) -> FitResult:
    """No penalty, then the sweep's penalty at every α of ``ALPHAS`` (the learner's p)."""
    kind = sweep_penalty(cfg)
    variants = (Variant("none", 0.0, cfg.p), *(Variant(kind, a, cfg.p) for a in ALPHAS))
    return train(cfg, variants)


def p_sweep(cfg: FitConfig) -> FitResult:
    """Dropout at every p of ``P_GRID`` (the learner's penalty and α)."""
    return train(cfg, tuple(Variant(cfg.penalty, cfg.alpha, p) for p in P_GRID))


def decoupling(cfg: FitConfig) -> dict[str, FitResult]:
    """L2 in the loss against decoupled weight decay, same α, with SGD and with Adam
    (model 0: "l2", model 1: "decay"). With SGD the two are one update; with Adam they
    differ: L2's α w passes through Adam's division by √ŝ, decay's does not (AdamW)."""
    alpha = cfg.alpha if cfg.alpha > 0 else 1e-3
    pair = (Variant("l2", alpha, cfg.p), Variant("decay", alpha, cfg.p))
    return {o: train(cfg, pair, optimizer=o) for o in OPTIMIZERS}


def nearest_alpha(alpha: float) -> int:
    """The index in ``alpha_sweep``'s models of the α of ``ALPHAS`` nearest to ``alpha`` (log scale)."""
    return 1 + int(np.argmin([abs(math.log(a / max(alpha, 1e-12))) for a in ALPHAS]))


def largest_weight(res: FitResult, m: int = 0) -> int:
    """The index in θ of model m's largest weight (in size) before its last step."""
    mask = weight_mask(res.config.d_in, res.config.width).numpy()
    return int(np.argmax(np.abs(res.last["theta_prev"][m]) * mask))


def weights(res: FitResult, m: int = 0, best: bool = False) -> np.ndarray:
    """Model m's weights (not biases), final or at its checkpoint."""
    mask = weight_mask(res.config.d_in, res.config.width).numpy() > 0
    return (res.theta_best if best else res.theta)[m][mask]


def diagnose(res: FitResult, m: int = 0) -> str | None:
    """A lesson when model m diverged, else None."""
    k = res.diverged_at[m]
    if k is None:
        return None
    cfg, v = res.config, res.variants[m]
    msg = f"Training diverged by step {k}: the weights grew beyond {DIVERGENCE_LIMIT:.0e}."
    factor = 1 - cfg.lr * v.alpha
    if v.penalty in ("l2", "decay") and res.optimizer == "sgd" and factor < -1:
        return (f"{msg} With η = {cfg.lr:g} and α = {v.alpha:g} the decay factor 1 − ηα = "
                f"{factor:.3g} has a size above 1: every step flips the weights' sign and "
                "grows them. The penalty itself needs ηα < 2; lower η or α.")  # fmt: skip
    if res.optimizer == "sgd":
        return (f"{msg} With SGD, η = {cfg.lr:g} overshoots the loss's steepest curvature "
                "(η must stay below 2/λ_max of the Hessian): lower the learning rate.")  # fmt: skip
    return f"{msg} Lower the learning rate η = {cfg.lr:g}."


# ---------------------------------------------------------------------------
# torch references (the tests' and the page's proof)
# ---------------------------------------------------------------------------


def torch_net(cfg: FitConfig, theta: np.ndarray | torch.Tensor) -> torch.nn.Sequential:
    """nn.Linear + nn.Tanh with the weights of the flat θ (P,)."""
    d, H = cfg.d_in, cfg.width
    net = torch.nn.Sequential(
        torch.nn.Linear(d, H), torch.nn.Tanh(), torch.nn.Linear(H, H), torch.nn.Tanh(),
        torch.nn.Linear(H, 1),
    ).to(DTYPE)  # fmt: skip
    v = views(torch.as_tensor(theta, dtype=DTYPE)[None], d, H)
    with torch.no_grad():
        for i, lin in enumerate(net[::2], start=1):
            lin.weight.copy_(v[f"W{i}"][0].T)  # nn.Linear keeps (out, in)
            lin.bias.copy_(v[f"b{i}"][0, 0])
    return net


def torch_flat(net: torch.nn.Sequential) -> np.ndarray:
    """The flat θ (P,) of ``torch_net``'s parameters."""
    return (
        torch.cat([t for lin in net[::2] for t in (lin.weight.T.ravel(), lin.bias)])
        .detach()
        .numpy()
    )


def reference_run(cfg: FitConfig, variant: Variant, optimizer: str, steps: int) -> np.ndarray:
    """The same training (no dropout) with nn.Sequential, autograd and torch.optim: L2 as
    the optimizer's ``weight_decay`` on the weights' group, decoupled decay as
    ``torch.optim.AdamW`` (SGD: its weight_decay, the same update), L1 as α‖w‖₁ added to
    the loss. Returns θ after ``steps`` steps."""
    if variant.p > 0 or variant.penalty == "l1_prox":
        raise ValueError("the torch reference covers runs without dropout or the proximal step")
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    net = torch_net(cfg, init_theta(cfg.d_in, cfg.width, cfg.seed))
    ws = [lin.weight for lin in net[::2]]
    bs = [lin.bias for lin in net[::2]]
    wd = variant.alpha if variant.penalty in ("l2", "decay") else 0.0
    groups = [{"params": ws, "weight_decay": wd}, {"params": bs, "weight_decay": 0.0}]
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=cfg.lr)
    elif variant.penalty == "decay":
        opt = torch.optim.AdamW(groups, lr=cfg.lr)
    else:
        opt = torch.optim.Adam(groups, lr=cfg.lr)
    lossf = torch.nn.MSELoss() if cfg.task == "regression" else torch.nn.BCEWithLogitsLoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = lossf(net(data.X_train), data.y_train)
        if variant.penalty == "l1":
            loss = loss + variant.alpha * sum(w.abs().sum() for w in ws)
        loss.backward()
        opt.step()
    return torch_flat(net)


@dataclass(frozen=True)
class Checks:
    """max |hand-written − torch| of the page's claims, for the current config."""

    gradient: float  # the backward pass (with a dropout mask) vs autograd
    optimizer: float  # 50 steps of train() vs nn + torch.optim with the same penalty
    reference: str  # what torch.optim ran


def checks(cfg: FitConfig, steps: int = 50) -> Checks:
    d, H = cfg.d_in, cfg.width
    data = make_data(cfg.data, cfg.n, cfg.noise, cfg.data_seed)
    theta = init_theta(d, H, cfg.seed)[None]
    p = cfg.p if cfg.p > 0 else 0.5
    masks = _scaled_masks(torch.tensor([p], dtype=DTYPE), 1, cfg.n, H, generator(cfg.seed))
    _, mine = gradient(theta, data.X_train, data.y_train, d, H, cfg.task, masks)
    th = theta.clone().requires_grad_()
    data_loss(cfg.task, forward(th, data.X_train, d, H, masks)[0], data.y_train).sum().backward()
    penalty_kind = "l1" if cfg.penalty == "l1_prox" else cfg.penalty
    v = Variant(penalty_kind, cfg.alpha if penalty_kind != "none" else 0.0)
    short = FitConfig(
        **{**cfg.__dict__, "steps": steps, "p": 0.0, "penalty": v.penalty, "alpha": v.alpha}
    )
    gap = float(np.abs(train(short).theta[0] - reference_run(short, v, cfg.optimizer, steps)).max())
    ref = {
        "sgd": "torch.optim.SGD",
        "adam": "torch.optim.AdamW" if v.penalty == "decay" else "torch.optim.Adam",
    }
    return Checks(float((mine - th.grad).abs().max()), gap, ref[cfg.optimizer])


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


# ---------------------------------------------------------------------------
# 7. Batch norm: a deep network with and without it
# ---------------------------------------------------------------------------

BN_ACTIVATIONS = ("sigmoid", "tanh")
BN_DATASETS = ("circles", "moons", "xor")
MAX_DEPTH = 10
MAX_BN_WIDTH = 32
MAX_BN_STEPS = 1000
MAX_BN_POINTS = 1000
MAX_BATCH = 256
MODE_BATCHES = (2, 4, 8, 16, 32, 64, 128)  # batch sizes of the train/eval comparison


@dataclass(frozen=True)
class BNConfig:
    depth: int = 6  # hidden layers
    width: int = 16  # units per hidden layer
    activation: str = "sigmoid"  # one of BN_ACTIVATIONS
    lr: float = 1.0  # η of plain SGD
    batch: int = 32  # mini-batch size |B|
    steps: int = 300
    data: str = "circles"  # one of BN_DATASETS
    n: int = 400  # training points (as many test points again)
    noise: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        check_range("hidden layers", self.depth, 1, MAX_DEPTH)
        check_range("units per layer", self.width, 2, MAX_BN_WIDTH)
        check_choice("activation", self.activation, BN_ACTIVATIONS)
        check_range("learning rate", self.lr, 1e-4, 50.0)
        check_range("batch size", self.batch, 2, MAX_BATCH)
        check_range("steps", self.steps, 1, MAX_BN_STEPS)
        check_choice("dataset", self.data, BN_DATASETS)
        check_range("training points", self.n, 16, MAX_BN_POINTS)
        check_range("noise", self.noise, 0.0, MAX_NOISE)

    @classmethod
    def tiny(cls) -> BNConfig:
        return cls(depth=3, width=8, steps=60, n=64)


def bn_layout(cfg: BNConfig) -> list[tuple[str, tuple[int, ...]]]:
    out, fan_in = [], 2
    for li in range(1, cfg.depth + 1):
        out += [(f"W{li}", (fan_in, cfg.width)), (f"b{li}", (cfg.width,)),
                (f"gamma{li}", (cfg.width,)), (f"beta{li}", (cfg.width,))]  # fmt: skip
        fan_in = cfg.width
    return out + [("W_out", (cfg.width, 1)), ("b_out", (1,))]


def bn_views(cfg: BNConfig, theta: torch.Tensor) -> dict[str, torch.Tensor]:
    """Views of θ (M, P) or (P,) as the layers: W (M, in, out), the rest (M, 1, H)."""
    lead = theta.shape[:-1]
    out, o = {}, 0
    for name, shape in bn_layout(cfg):
        size = math.prod(shape)
        piece = theta[..., o : o + size]
        out[name] = (
            piece.view(*lead, *shape) if name.startswith("W") else piece.view(*lead, 1, size)
        )
        o += size
    return out


def bn_init(cfg: BNConfig) -> torch.Tensor:
    """Xavier-normal weights, zero biases, γ = 1, β = 0 (as nn.BatchNorm1d starts)."""
    g, parts = generator(cfg.seed), []
    for name, shape in bn_layout(cfg):
        if name.startswith("W"):
            parts.append(engine.xavier_normal(*shape, g, DTYPE).ravel())
        else:
            parts.append(
                torch.full((math.prod(shape),), float(name.startswith("gamma")), dtype=DTYPE)
            )
    return torch.cat(parts)


def bn_data(cfg: BNConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Standardised training and test points and their labels (N, 1)."""
    X, y = data2d.make(cfg.data, 2 * cfg.n, cfg.noise, cfg.seed + 17)
    Xs, mean, std = standardise(X[: cfg.n])
    y = y.to(DTYPE)[:, None]
    return Xs, y[: cfg.n], standardise(X[cfg.n :], mean, std)[0], y[cfg.n :]


def bn_forward(cfg: BNConfig, theta, X, use_bn: torch.Tensor, running=None, update: bool = False):
    """The logits (M, N, 1) of M deep networks (θ: (M, P)) on X (N, 2). ``use_bn`` (M,):
    1 where a network normalises every hidden pre-activation, 0 where it does not. Batch
    statistics (training mode) when ``running`` is None or ``update`` (which also moves the
    running averages, a list of (μ̂, σ̂²) per layer, each (M, 1, H)); else the running
    averages (evaluation mode)."""
    v, h = bn_views(cfg, theta), X
    act = torch.sigmoid if cfg.activation == "sigmoid" else torch.tanh
    on = use_bn.to(DTYPE)[:, None, None]  # (M, 1, 1)
    for li in range(1, cfg.depth + 1):
        a = engine.dense(h, v[f"W{li}"], v[f"b{li}"])  # (M, N, H)
        gamma, beta = v[f"gamma{li}"], v[f"beta{li}"]
        if running is not None and not update:
            y = batch_norm_eval(a, gamma, beta, *running[li - 1])
        else:
            y, mu, var, _ = batch_norm_train(a, gamma, beta, dim=1)  # over the batch: mu (M, H)
            if update:
                new = running_update(
                    *running[li - 1], mu.detach()[:, None], var.detach()[:, None], X.shape[0]
                )
                running[li - 1] = new
        h = act(on * y + (1 - on) * a)
    return engine.dense(h, v["W_out"], v["b_out"])


def _bce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of logits, per network: (M,)."""
    return (torch.nn.functional.softplus(out) - y * out).mean((-2, -1))


@dataclass(frozen=True)
class BNRun:
    batch_norm: bool
    loss: np.ndarray  # (K,) the mini-batch loss of each step (what SGD sees)
    grad_norms: np.ndarray  # (depth,) ‖∂L/∂W⁽ˡ⁾‖ at the first step
    train_acc: float  # evaluation mode, after training
    test_acc: float
    diverged_at: int | None
    theta: np.ndarray  # (P,) final parameters
    running: np.ndarray  # (depth, 2, H): μ̂ and σ̂² of each layer
    seconds: float  # of both networks' training together


@dataclass(frozen=True)
class BNResult:
    config: BNConfig
    with_bn: BNRun
    without: BNRun


def train_bn(cfg: BNConfig) -> BNResult:
    """The same deep network from the same start, trained with plain SGD on the same
    mini-batches, with batch norm after every hidden layer's Linear (network 0) and
    without (network 1); both at once, gradients by autograd through ``batch_norm_train``."""
    X, y, Xt, yt = bn_data(cfg)
    H, N, B = cfg.width, cfg.n, min(cfg.batch, cfg.n)
    use_bn = torch.tensor([1.0, 0.0], dtype=DTYPE)
    running = [(torch.zeros(2, 1, H, dtype=DTYPE), torch.ones(2, 1, H, dtype=DTYPE))] * cfg.depth
    theta = bn_init(cfg).expand(2, -1).clone()
    ocfg = optim.OptimConfig("sgd", lr=cfg.lr)
    g = generator(cfg.seed + 3)
    perm, pos, losses, norms = torch.randperm(N, generator=g), 0, [], None
    diverged: list[int | None] = [None, None]
    with one_thread(), timer() as t:
        for k in range(1, cfg.steps + 1):
            if pos + B > N:
                perm, pos = torch.randperm(N, generator=g), 0
            idx = perm[pos : pos + B]
            pos += B
            th = theta.clone().requires_grad_()
            loss = _bce(bn_forward(cfg, th, X[idx], use_bn, running, update=True), y[idx])  # (2,)
            (grad,) = torch.autograd.grad(loss.sum(), th)  # each network's own gradient
            if norms is None:
                gv = bn_views(cfg, grad)
                norms = torch.stack(
                    [gv[f"W{li}"].norm(dim=(1, 2)) for li in range(1, cfg.depth + 1)], 1
                )
            new = optim.step(ocfg, theta, grad, {}, k)[0]
            bad = (
                ~torch.isfinite(loss.detach())
                | ~torch.isfinite(new).all(1)
                | (new.abs().amax(1) > DIVERGENCE_LIMIT)
            )
            for m in torch.nonzero(bad).ravel().tolist():
                diverged[m] = k if diverged[m] is None else diverged[m]
            frozen = torch.tensor([x is not None for x in diverged])
            theta = torch.where(
                frozen[:, None], theta, new
            )  # a diverged network keeps its last finite θ
            losses.append(torch.where(frozen, math.nan, loss.detach()))
            if bool(frozen.all()):
                break
        with torch.no_grad():
            ev = lambda Z: bn_forward(cfg, theta, Z, use_bn, running)  # noqa: E731
            train_acc = ((ev(X) > 0) == (y > 0.5)).to(DTYPE).mean((1, 2))
            test_acc = ((ev(Xt) > 0) == (yt > 0.5)).to(DTYPE).mean((1, 2))
    L = torch.stack(losses).numpy()  # (K, 2)
    run = torch.stack([torch.cat([r[0], r[1]], 1) for r in running], 1).numpy()  # (2, depth, 2, H)
    return BNResult(cfg, *(
        BNRun(m == 0, L[:, m][np.isfinite(L[:, m])], norms[m].numpy(), float(train_acc[m]),
              float(test_acc[m]), diverged[m], theta[m].numpy(), run[m], t[0])
        for m in (0, 1)
    ))  # fmt: skip


def bn_diagnose(res: BNResult) -> str | None:
    """What the comparison shows, in a sentence or two: divergence, or a stalled network."""
    cfg, a, b = res.config, res.with_bn, res.without
    tail = lambda run: float(np.mean(run.loss[-20:])) if len(run.loss) else math.nan  # noqa: E731
    r = a.grad_norms[0] / max(b.grad_norms[0], 1e-300)
    ratio = f"{r:,.0f}" if r >= 100 else f"{r:.2g}"
    if a.diverged_at is not None and b.diverged_at is not None:
        return (f"Both networks diverged (steps {a.diverged_at} and {b.diverged_at}): η = {cfg.lr:g} is "
                "too large even for the normalised network. Lower the learning rate.")  # fmt: skip
    if b.diverged_at is not None:
        return (f"Without batch norm the network diverged at step {b.diverged_at}; with it, the same "
                f"η = {cfg.lr:g} trains (test accuracy {a.test_acc:.1%}).")  # fmt: skip
    if a.diverged_at is not None:
        return (
            f"With batch norm the network diverged at step {a.diverged_at}: lower η = {cfg.lr:g}."
        )
    if tail(b) > 0.95 * math.log(2) and tail(a) < tail(b):
        return (f"Without batch norm the loss stays near ln 2 ≈ 0.693, a coin flip (test accuracy "
                f"{b.test_acc:.1%}): at the first step its first layer's gradient is {ratio} times "
                f"smaller than with batch norm, since every {cfg.activation} layer multiplies it by its "
                f"slope. With batch norm: test accuracy {a.test_acc:.1%}.")  # fmt: skip
    return (
        f"Test accuracy with batch norm {a.test_acc:.1%}, without {b.test_acc:.1%}; the first "
        f"layer's gradient at the start is {ratio} times as large with batch norm."
    )


@dataclass(frozen=True)
class BNWalk:
    unit: int
    a: np.ndarray  # (B,) the unit's pre-activations over the batch
    mu: float  # μ_B
    var: float  # σ_B²
    a_hat: np.ndarray  # (B,) (a − μ_B)/√(σ_B² + ε)
    gamma: float
    beta: float
    y: np.ndarray  # (B,) γ â + β: training mode
    run_mu: float  # μ̂, the running average
    run_var: float  # σ̂²
    y_eval: np.ndarray  # (B,) the same points in evaluation mode


def bn_walk(res: BNResult, unit: int, layer: int = 1) -> BNWalk:
    """Batch norm of one unit of one layer of the trained network, for the first |B|
    training points as one batch."""
    cfg, run = res.config, res.with_bn
    X = bn_data(cfg)[0][: min(cfg.batch, cfg.n)]
    v = bn_views(cfg, torch.as_tensor(run.theta))  # (P,): W (in, out), the rest (1, H)
    act = torch.sigmoid if cfg.activation == "sigmoid" else torch.tanh
    running = [(torch.as_tensor(r[0]), torch.as_tensor(r[1])) for r in run.running]  # (H,) each
    h = X
    gb = lambda li: (v[f"gamma{li}"][0], v[f"beta{li}"][0])  # noqa: E731  (H,) each
    for li in range(1, layer):  # the layers below, in training mode on this batch
        h = act(batch_norm_train(h @ v[f"W{li}"] + v[f"b{li}"][0], *gb(li))[0])
    a = h @ v[f"W{layer}"] + v[f"b{layer}"][0]  # (B, H)
    y, mu, var, a_hat = batch_norm_train(a, *gb(layer))
    j = unit % cfg.width
    rm, rv = running[layer - 1]
    y_eval = batch_norm_eval(a, *gb(layer), rm, rv)
    gamma, beta = gb(layer)
    return BNWalk(j, a[:, j].numpy(), float(mu[j]), float(var[j]), a_hat[:, j].numpy(),
                  float(gamma[j]), float(beta[j]), y[:, j].numpy(), float(rm[j]), float(rv[j]),
                  y_eval[:, j].numpy())  # fmt: skip


@dataclass(frozen=True)
class ModeGap:
    batches: np.ndarray  # (S,) batch sizes
    train_mode: np.ndarray  # (S,) training-set loss with each batch's own statistics
    eval_mode: float  # training-set loss with the running averages


def mode_gap(res: BNResult) -> ModeGap:
    """The trained batch-norm network's loss on its training set in training mode (batches
    of each size, their own μ_B and σ_B²) against evaluation mode (the running averages).
    Small batches give noisy statistics: the two modes disagree."""
    cfg, run = res.config, res.with_bn
    X, y, _, _ = bn_data(cfg)
    theta = torch.as_tensor(run.theta)[None]  # (1, P)
    running = [
        (torch.as_tensor(r[0])[None, None], torch.as_tensor(r[1])[None, None]) for r in run.running
    ]
    perm = torch.randperm(cfg.n, generator=generator(cfg.seed + 5))
    sizes = [b for b in MODE_BATCHES if b <= cfg.n]
    on = torch.ones(1, dtype=DTYPE)
    with torch.no_grad():
        ev = float(_bce(bn_forward(cfg, theta, X, on, running), y)[0])
        tr = []
        for b in sizes:  # every full batch of a fixed shuffle, as training saw them
            chunks = perm[: cfg.n // b * b].view(-1, b)  # (S, b)
            tr.append(
                float(
                    torch.stack(
                        [_bce(bn_forward(cfg, theta, X[c], on), y[c])[0] for c in chunks]
                    ).mean()
                )
            )
    return ModeGap(np.array(sizes), np.array(tr), ev)


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


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------


def bench() -> list[dict]:
    """The page's defaults: the early-stopped model's test loss against the best final test
    loss over the α sweep (target: within 5%), and the time of the fit, the sweep and the
    batch-norm experiment."""
    cfg = FitConfig()
    with timer() as t_fit:
        fit = train(cfg)
    sweep = alpha_sweep(cfg)
    ratio = float(fit.at_best(fit.test)[0] / np.nanmin(sweep.test[1:, -1]))
    bn = train_bn(BNConfig())
    return [
        {"topic": "regularisation", "task": "early_stopping_vs_l2", "metric": "test_loss_ratio",
         "target": 1.05, "value": ratio, "reached": ratio <= 1.05, "seconds": t_fit[0],
         "steps": int(fit.best_step[0])},
        {"topic": "regularisation", "task": "alpha_sweep", "metric": "seconds", "target": None,
         "value": sweep.seconds, "reached": None, "seconds": sweep.seconds,
         "steps": cfg.steps * len(sweep.variants)},
        {"topic": "regularisation", "task": "batch_norm_deep_sigmoid", "metric": "test_accuracy",
         "target": 0.9, "value": bn.with_bn.test_acc, "reached": bn.with_bn.test_acc >= 0.9,
         "seconds": bn.with_bn.seconds + bn.without.seconds, "steps": 2 * BNConfig().steps},
    ]  # fmt: skip
