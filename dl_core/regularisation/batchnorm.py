"""Batch norm: a deep sigmoid/tanh network trained with and without it, and what the page
shows of it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import data2d, engine, optim
from dl_core.regularisation.data import MAX_NOISE
from dl_core.regularisation.formulas import (
    DTYPE,
    batch_norm_eval,
    batch_norm_train,
    running_update,
    standardise,
)
from dl_core.regularisation.network import DIVERGENCE_LIMIT
from dl_core.training import check_choice, check_range, generator, one_thread, timer

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
