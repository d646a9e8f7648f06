"""The deep MLP for vanishing and exploding gradients: its initialisations, training with
the hand-written backward pass, the diagnoses, and the bench."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import engine
from dl_core.backprop.functions import (
    ACTIVATION_LABELS,
    ACTIVATIONS,
    GOOD_REL_ERROR,
    INITS,
    MAX_DEPTH,
    MAX_POINTS,
    MAX_STEPS,
    MAX_WIDTH,
    SMALL_STD,
    TINY_GRADIENT,
    activation_derivative,
)
from dl_core.backprop.network import Params, forward, hand_gradients
from dl_core.backprop.tiny import EPS_SWEEP, TinyConfig, eps_sweep, grad_check, walkthrough
from dl_core.device import pick
from dl_core.training import check_choice, check_range, generator, one_thread, timer

# ---------------------------------------------------------------------------
# The deep MLP: vanishing and exploding gradients
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeepConfig:
    depth: int = 10  # hidden layers (the network has depth + 1 weight matrices)
    width: int = 32  # units per hidden layer
    activation: str = "sigmoid"  # phi of every hidden layer, one of ACTIVATIONS
    init: str = "xavier"  # weight initialisation, one of INITS (biases start at 0)
    steps: int = 60  # full-batch gradient-descent steps
    lr: float = 0.5  # eta
    n: int = 128  # training points (two rings, labels 0 / 1, BCE loss)
    seed: int = 0  # draws the data and the weights

    def __post_init__(self) -> None:
        check_range("depth", self.depth, 1, MAX_DEPTH)
        check_range("width", self.width, 1, MAX_WIDTH)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("initialisation", self.init, INITS)
        check_range("steps", self.steps, 0, MAX_STEPS)
        check_range("learning rate", self.lr, 0.0, 100.0)
        check_range("number of points", self.n, 4, MAX_POINTS)
        check_range("seed", self.seed, 0, 10_000)

    @classmethod
    def tiny(cls) -> DeepConfig:
        return cls(depth=3, width=16, activation="tanh", steps=40, n=128)


WORK_BUDGET = 2e9  # multiply-adds one interactive run may cost (about half a second here)
# per layer and step: the fixed cost of ~15 small ops (measured 50-65 us here, i.e. about
# 250k multiply-adds at WORK_BUDGET's rate); at 50k a 50-deep, 1-wide net ran 300 steps in 1 s
LAYER_OVERHEAD = 250_000


def affordable_steps(cfg: DeepConfig) -> int:
    """cfg.steps, or fewer when the run would exceed WORK_BUDGET (at least 1).

    One step costs about 3 n width (width (depth - 1) + 3) multiply-adds
    (forward, dL/dW and dL/da of every layer) plus a fixed cost per layer."""
    per_step = 3 * cfg.n * cfg.width * (cfg.width * (cfg.depth - 1) + 3)
    per_step += LAYER_OVERHEAD * (cfg.depth + 1)
    return int(min(cfg.steps, max(1, WORK_BUDGET // per_step)))


def init_std(init: str, n_in: int, n_out: int) -> float:
    """Standard deviation of the weights of an (n_out, n_in) layer."""
    return {
        "zero": 0.0,
        "small": SMALL_STD,
        "xavier": engine.xavier_std(n_in, n_out),  # = torch.nn.init.xavier_normal_
        "he": engine.he_std(n_in),  # = torch.nn.init.kaiming_normal_ (fan_in, ReLU gain)
        "large": 1.0,
    }[init]


def deep_params(cfg: DeepConfig, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> Params:  # fmt: skip
    """Normal weights with the chosen standard deviation, zero biases."""
    g = generator(cfg.seed + 1)
    sizes = (2, *([cfg.width] * cfg.depth), 1)
    W, b = [], []
    for n_in, n_out in itertools.pairwise(sizes):
        w = engine.normal((n_out, n_in), init_std(cfg.init, n_in, n_out), g, dtype)
        W.append(w.to(device))
        b.append(torch.zeros(n_out, dtype=dtype, device=device))
    return Params(tuple(W), tuple(b))


def rings(n: int, seed: int, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Two noisy rings: radius 0.5 (label 0) and 1 (label 1). X (n, 2), y (n, 1)."""
    g = generator(seed)
    # random labels, not exactly half each: with zero init and a perfect balance even the
    # output layer's gradient would cancel to exactly 0, and nothing would move at all
    label = (torch.rand(n, generator=g) < 0.5).to(dtype)  # (n,)
    angle = 2 * math.pi * torch.rand(n, generator=g, dtype=dtype)
    r = 0.5 + 0.5 * label + 0.08 * torch.randn(n, generator=g, dtype=dtype)
    X = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1) * 1.5  # (n, 2)
    return X, label[:, None]


@dataclass(frozen=True)
class DeepResult:
    config: DeepConfig
    loss: np.ndarray  # (K+1,) loss before step 1..K+1 (index k: after k updates)
    accuracy: np.ndarray  # (K+1,) training accuracy at the same moments
    grad_norms: np.ndarray  # (K+1, depth+1): ||dL/dW^(l)|| at step k for layer l = 1..depth+1
    act_std: np.ndarray  # (depth+1,) std of h^(l) over batch and units at initialisation
    spread: np.ndarray  # (depth,) per hidden layer: max |W_i - W_1| over its units i after training; 0 = all units identical
    diverged_at: int | None  # first step whose loss or gradients were NaN / inf
    device: str
    seconds: float


def train(
    cfg: DeepConfig, device: str | torch.device | None = None,
    on_step: Callable[[int, float], None] | None = None,
) -> DeepResult:  # fmt: skip
    """Full-batch gradient descent with the hand-written backward pass.

    Device rule: widths up to MAX_WIDTH make every op tiny (at most 128 x 128),
    bound by per-op overhead, so ``pick(small=True)`` keeps it on the CPU, on one
    thread (``dl_core.training.one_thread``).
    float32, as in practice: exploding gradients overflow to inf and the run
    reports ``diverged_at`` instead of raising."""
    dev = torch.device(device) if device is not None else pick(small=True)
    with one_thread(dev), timer() as t, torch.no_grad():
        X, y = (v.to(dev) for v in rings(cfg.n, cfg.seed))
        p = deep_params(cfg, device=dev)
        act_std = torch.stack([h.std() for h in forward(p, X, cfg.activation).h[1:]])
        losses, accs, norms = [], [], []
        diverged_at = None
        for k in range(cfg.steps + 1):
            L, fwd, bwd = hand_gradients(p, X, y, cfg.activation, "bce")
            norm = torch.stack([g.norm() for g in bwd.dL_dW])  # (depth+1,)
            losses.append(L)
            accs.append(((fwd.h[-1] > 0).to(y.dtype) == y).to(y.dtype).mean())
            norms.append(norm)
            if not bool(torch.isfinite(L) & torch.isfinite(norm).all()):
                diverged_at = k
                break
            if on_step is not None:
                on_step(k, float(L))
            if k < cfg.steps:
                p = Params(
                    tuple(W - cfg.lr * g for W, g in zip(p.W, bwd.dL_dW)),
                    tuple(b - cfg.lr * g for b, g in zip(p.b, bwd.dL_db)),
                )
        spread = torch.stack([(W - W[:1]).abs().max() for W in p.W[:-1]])  # hidden layers
    return DeepResult(
        cfg, torch.stack(losses).double().cpu().numpy(), torch.stack(accs).double().cpu().numpy(),
        torch.stack(norms).double().cpu().numpy(), act_std.double().cpu().numpy(),
        spread.double().cpu().numpy(), diverged_at, dev.type, t[0],
    )  # fmt: skip


def gradient_ratio(res: DeepResult) -> float:
    """||dL/dW^(1)|| / ||dL/dW^(depth+1)|| at initialisation: how much of the last layer's
    gradient reaches the first (NaN when the last layer's is 0 or not finite)."""
    g0 = res.grad_norms[0]
    return float(g0[0] / g0[-1]) if np.isfinite(g0[-1]) and g0[-1] > 0 else math.nan


def backward_factor(cfg: DeepConfig) -> float:
    """The factor by which one hidden layer scales the backward signal's norm at
    initialisation when the pre-activations sit near 0 (small weights):
    ||delta^(l)|| ~ rms(phi'(a)) sigma_w sqrt(width) ||delta^(l+1)||, since W^(l+1)T has
    `width` rows of independent N(0, sigma_w^2) entries. rms(phi'(a)) over a just above and
    below 0: phi'(0) for a smooth phi, sqrt(1/2) for ReLU (half its units pass)."""
    t = torch.tensor([1e-9, -1e-9], dtype=torch.float64)
    slope = float(activation_derivative(cfg.activation, t).pow(2).mean().sqrt())
    return slope * init_std(cfg.init, cfg.width, cfg.width) * math.sqrt(cfg.width)


def measured_factor(res: DeepResult) -> float:
    """The geometric mean over the hidden layers of ||dL/dW^(l)|| / ||dL/dW^(l+1)|| at
    initialisation (layers 2..depth: the first layer's input is x, not a hidden h)."""
    g = res.grad_norms[0][1:-1]
    if len(g) < 2 or not (np.isfinite(g).all() and (g > 0).all()):
        return math.nan
    return float(np.exp(np.mean(np.log(g[:-1] / g[1:]))))


def diagnose(res: DeepResult) -> str | None:
    """A one-paragraph reading of the gradient norms at initialisation."""
    cfg, g0 = res.config, res.grad_norms[0]
    if res.diverged_at is not None and g0.max() <= 1e3 and res.act_std.max() <= 1e3:
        return (
            f"The loss or the gradients overflowed to NaN/inf at step {res.diverged_at}. At "
            f"initialisation the gradients were moderate (largest norm {g0.max():.1e}), so the "
            f"cause is the step: η = {cfg.lr:g} is too large, each step overshoots and lands "
            "where the gradient is larger still. Lower the learning rate."
        )
    if res.diverged_at is not None:
        return (
            f"The gradients overflowed to NaN/inf at step {res.diverged_at}: each layer multiplied "
            "the signal by a factor above 1, and float32 ran out of range. Use a smaller "
            "initialisation (Xavier for tanh/sigmoid, He for ReLU) or a smaller learning rate."
        )
    if g0.max() > 1e3:
        return (
            f"Exploding gradients: gradient norms reach {g0.max():.1e}. Each layer multiplies the "
            f"signal by more than 1 (the forward signal's std reaches {res.act_std.max():.1e}), so "
            "one gradient step throws the weights far away. Use Xavier (tanh) or He (ReLU)."
        )
    if cfg.init == "zero":
        return (
            "With all weights zero every unit of a layer computes the same thing and receives the "
            "same gradient, so they stay identical forever (symmetry never breaks); for tanh, "
            "ReLU and GELU φ(0) = 0, so even the output weights get no gradient."
        )
    zero = np.flatnonzero(g0[:-1] == 0) + 1  # 1-based layers whose gradient is exactly 0
    if len(zero):
        layers = f"layer {zero[0]}" if len(zero) == 1 else f"layers {zero[0]}–{zero[-1]}"
        dead = np.flatnonzero(res.act_std[:-1] == 0) + 1
        if cfg.activation == "relu" and len(dead):
            return (
                f"Dead units: every ReLU of hidden layer {dead[0]} outputs 0 on every point, so "
                f"its slope is 0 and no gradient passes: the gradient of {layers} is exactly 0."
            )
        return (
            f"Vanishing gradients (underflowed to 0): the gradient of {layers} is exactly 0. "
            "The weights are random, so this is not symmetry: each layer multiplied the backward "
            f"signal by Wᵀ and φ′(a), a factor below 1 with {ACTIVATION_LABELS[cfg.activation]} "
            "and this initialisation, until it fell below float32's smallest number (about "
            "1.4·10⁻⁴⁵) and rounded to 0. Those layers cannot learn at all."
        )
    if g0.max() < TINY_GRADIENT:
        return (
            f"Vanishing signal: every layer's gradient is tiny (at most {g0.max():.1e}), although "
            "the first layer's is about the last's. With small weights the forward signal "
            f"shrinks layer by layer (the last hidden layer's std is {res.act_std[-2]:.1e}) and the "
            "backward signal shrinks too; ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ h⁽ˡ⁻¹⁾ᵀ multiplies one by the other, so "
            "every layer gets the same tiny gradient and nothing learns."
        )
    ratio = gradient_ratio(res)
    if ratio < 1e-3:
        return (
            f"Vanishing gradients: the first layer's gradient is {ratio:.1e} times the last "
            "layer's. Each layer multiplies the backward signal by Wᵀ and by φ′(a); with "
            f"{ACTIVATION_LABELS[cfg.activation]} and this initialisation that product is below 1, "
            "so early layers barely learn."
        )
    if ratio > 1e3:
        return (
            f"Exploding gradients: the first layer's gradient is {ratio:.1e} times the last "
            "layer's: each layer multiplies the backward signal by more than 1."
        )
    return None


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------


def bench() -> list[dict]:
    """The page's default computation (walkthrough + gradient check + epsilon sweep),
    and the deep-MLP default run."""
    cfg = TinyConfig(arch="2-3-2-1", activation="tanh", loss="softmax_ce")
    with timer() as t:
        walkthrough(cfg)
        gc = grad_check(cfg, 1e-6, "float64")
        eps_sweep(cfg)
    records = [
        {
            "topic": "backprop", "task": "walkthrough+gradcheck", "metric": "max_rel_error",
            "target": GOOD_REL_ERROR, "value": max(gc.max_rel_fd, gc.max_rel_autograd),
            "reached": max(gc.max_rel_fd, gc.max_rel_autograd) < GOOD_REL_ERROR,
            "seconds": t[0], "steps": len(EPS_SWEEP) * 2 + 1,
        }
    ]  # fmt: skip
    deep = DeepConfig(depth=4, width=16, activation="relu", init="he", steps=100)
    res = train(deep)
    hit = np.nonzero(res.accuracy >= 0.95)[0]
    records.append(
        {
            "topic": "backprop", "task": "deep_relu_he_rings", "metric": "train_accuracy",
            "target": 0.95, "value": float(res.accuracy[-1]),
            "reached": bool(res.accuracy[-1] >= 0.95), "seconds": res.seconds,
            "steps": int(hit[0]) if len(hit) else None,
        }
    )  # fmt: skip
    return records
