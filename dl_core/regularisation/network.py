"""The network: a two-hidden-layer tanh MLP on dl_core.engine's dense layers, M models at
once (one batched matmul per layer), with its hand-written backward pass."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import engine
from dl_core.regularisation.data import DATASETS, MAX_N, MAX_NOISE
from dl_core.regularisation.formulas import DTYPE, PENALTIES
from dl_core.training import check_choice, check_range, generator

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
