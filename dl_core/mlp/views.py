"""What the page inspects with the current network's numbers: the heat-map grid, the
confusion matrix, one neuron's walkthrough, one weight's last update, dropout and batch norm."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import data2d, engine
from dl_core.mlp.config import BN_EPS, BN_MOMENTUM, MAX_GRID, features
from dl_core.mlp.network import Net, _layout, labels, predict, probabilities
from dl_core.training import check_range, generator

# ---------------------------------------------------------------------------
# Grids for the heat maps, walkthroughs for the formulas
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    xs: np.ndarray  # (R,) x1 coordinates
    ys: np.ndarray  # (R,) x2 coordinates
    layers: list[np.ndarray]  # per layer [features, hidden..., out]: (R, R, units), [y, x] order
    output: np.ndarray  # (R, R) p(class 1) / value, or (R, R, K) probabilities


def grid(net: Net, res: int = 50) -> Grid:
    """Every neuron's output over the input plane, on a res x res grid."""
    res = int(min(max(res, 2), MAX_GRID))
    xs = torch.linspace(-data2d.EXTENT, data2d.EXTENT, res, dtype=torch.float64)
    Y, X = torch.meshgrid(xs, xs, indexing="ij")  # (res, res)
    P = torch.stack([X.reshape(-1), Y.reshape(-1)], dim=1)  # (res*res, 2)
    outs = net.forward_eval(features(P, net.cfg.features).to(net.dtype))
    prob = probabilities(net.cfg.task, outs[-1])
    return Grid(
        xs=xs.numpy(), ys=xs.numpy(),
        layers=[o.reshape(res, res, -1).double().numpy() for o in outs],
        output=prob.reshape(res, res, *prob.shape[1:]).double().numpy(),
    )  # fmt: skip


def confusion(net: Net, split: str = "test") -> np.ndarray:
    """Confusion matrix (K, K): rows the true class, columns the predicted one."""
    F, Y = (net.F_test, net.Y_test) if split == "test" else (net.F_train, net.Y_train)
    task = net.cfg.task
    K = max(net.cfg.n_classes, 2)
    pred = predict(task, net.forward_eval(F)[-1])
    true = labels(task, Y)
    return torch.bincount(true * K + pred, minlength=K * K).reshape(K, K).numpy()


@dataclass(frozen=True)
class NeuronWalk:
    """One neuron j of layer l for one point x, named as on the page (evaluation mode)."""

    layer: int  # 1-based hidden layer, or len(hidden) + 1 for the output layer
    unit: int  # 1-based
    x: tuple[float, float]  # the point (x1, x2)
    h_prev: tuple[float, ...]  # inputs of the neuron (features or the layer below)
    w: tuple[float, ...]  # its incoming weights W^(l)_j., one per input
    b: float
    a: float  # w . h_prev + b: the pre-activation
    bn: tuple[float, float, float, float] | None  # (running mean, running var, gamma, beta)
    a_norm: float  # gamma (a - mu) / sqrt(var + eps) + beta, or a without batch norm
    h: float  # phi(a_norm): the neuron's output
    activation: str  # phi, or "sigmoid"/"softmax"/"identity" for the output layer


def neuron(net: Net, layer: int, unit: int, x: tuple[float, float]) -> NeuronWalk:
    """Walk point x through neuron ``unit`` of ``layer`` (both 1-based)."""
    cfg = net.cfg
    n_layers = len(cfg.hidden) + 1
    layer = int(min(max(layer, 1), n_layers))
    unit = int(min(max(unit, 1), cfg.sizes[layer]))
    P = torch.tensor([x], dtype=torch.float64)
    outs = net.forward_eval(features(P, cfg.features).to(net.dtype))
    h_prev = outs[layer - 1][0].double()
    L = net.layers[layer - 1]
    w = L.W[:, unit - 1].double()
    b = float(L.b[unit - 1])
    a = float(h_prev @ w) + b
    bn = None
    a_norm = a
    if layer < n_layers and cfg.batch_norm:  # evaluation: the running averages
        mu, var = float(L.running_mean[unit - 1]), float(L.running_var[unit - 1])
        g, be = float(L.gamma[unit - 1]), float(L.beta[unit - 1])
        bn = (mu, var, g, be)
        a_norm = g * (a - mu) / math.sqrt(var + BN_EPS) + be
    if layer < n_layers:
        act = cfg.activation
        h = float(outs[layer][0, unit - 1])
    else:
        act = {"binary": "sigmoid", "multiclass": "softmax", "regression": "identity"}[cfg.task]
        p = probabilities(cfg.task, outs[-1])[0]
        h = float(p[unit - 1]) if cfg.task == "multiclass" else float(p)
    return NeuronWalk(
        layer, unit, (float(x[0]), float(x[1])), tuple(h_prev.tolist()), tuple(w.tolist()),
        b, a, bn, a_norm, h, act,
    )  # fmt: skip


def activation_value(name: str, a: float) -> float:
    """phi(a) for the formulas (checked against the network's own outputs): the engine's."""
    return float(engine.phi(name, torch.tensor(a, dtype=torch.float64)))


@dataclass(frozen=True)
class WeightUpdate:
    """The last update of one weight w = W_l[i, j], named as on the page."""

    layer: int  # 1-based
    i: int  # 1-based input index
    j: int  # 1-based unit index
    step: int  # the training step that made this update
    t: int  # Adam's step count (bias correction); restarts when the optimizer changes
    optimizer: str
    lr: float  # eta
    w_old: float
    g: float  # dL/dw at the last step, penalty included
    reg: float  # the penalty's part of g: alpha w (L2), alpha sign(w) (L1) or 0
    v: float  # momentum velocity after the step
    m: float  # Adam first moment after the step
    s: float  # Adam second moment after the step (v in the paper and on the page)
    m_hat: float  # m / (1 - beta1^t)
    s_hat: float  # s / (1 - beta2^t)
    w_new: float
    delta: float  # w_new - w_old


def weight_update(net: Net, layer: int, i: int, j: int) -> WeightUpdate:
    """The terms of the most recent update of W_layer[i, j] (all 1-based)."""
    cfg = net.cfg
    layer = int(min(max(layer, 1), len(net.layers)))
    fan_in, fan_out = net.layers[layer - 1].W.shape
    i, j = int(min(max(i, 1), fan_in)), int(min(max(j, 1), fan_out))
    offset = sum(math.prod(s) for _n, li, s in _layout(cfg) if li < layer - 1)
    k = offset + (i - 1) * fan_out + (j - 1)
    w_old, w_new = float(net.theta_before_last[k]), float(net.theta[k])
    lam = cfg.reg_rate
    reg = {"l2": lam * w_old, "l1": lam * math.copysign(1.0, w_old) if w_old else 0.0}.get(
        cfg.regularization, 0.0
    )
    t = max(net.opt_step, 1)
    m, s = float(net.opt_buffer("m")[k]), float(net.opt_buffer("s")[k])
    return WeightUpdate(
        layer, i, j, net.step_count, net.opt_step, cfg.optimizer, cfg.lr, w_old,
        float(net.grad[k]), reg, float(net.opt_buffer("v")[k]), m, s, m / (1 - cfg.beta1**t),
        s / (1 - cfg.beta2**t), w_new, w_new - w_old,
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Dropout and batch norm with the current network's numbers
# ---------------------------------------------------------------------------


def dropout(
    h: torch.Tensor, p: float, train: bool = True, generator: torch.Generator | None = None,
    r: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Inverted dropout, as ``torch.nn.Dropout(p)``: in training every entry is kept with
    probability 1 - p (r ~ Bernoulli(1 - p)) and the kept ones are scaled by 1 / (1 - p),
    so E[output] = (1 - p) h / (1 - p) = h; in evaluation the output is h itself.
    Returns (output, r). ``r`` (0/1, h's shape) replaces the random draw. The training step
    (``Net._step``) does the same with a preallocated mask."""
    check_range("dropout", p, 0.0, 0.99)
    if not train or p == 0:
        return h.clone(), torch.ones_like(h)
    if r is None:
        r = torch.bernoulli(torch.full_like(h, 1 - p), generator=generator)
    return h * r / (1 - p), r.to(h.dtype)


@dataclass(frozen=True)
class DropoutView:
    """Dropout at one hidden layer of the current network, for one training point."""

    layer: int  # 1-based hidden layer
    p: float  # the probability of dropping a unit
    point: int  # 0-based index of the training point shown
    h: np.ndarray  # (n_l,) the layer's output for that point (no dropout: evaluation)
    r: np.ndarray  # (n_l,) one mask, 1 = kept
    h_train: np.ndarray  # (n_l,) h * r / (1 - p): what one training step passes on
    mean_train: np.ndarray  # (n_l,) h * r / (1 - p) averaged over `draws` masks: about h
    draws: int  # masks drawn for the average
    kept: float  # the share of units kept over all those masks (about 1 - p)


def dropout_view(net: Net, layer: int, p: float, point: int = 0, draws: int = 2000,
                 seed: int = 0) -> DropoutView:  # fmt: skip
    """Dropout with probability ``p`` applied to hidden layer ``layer``'s outputs h for one
    training point (the layers below evaluated without dropout, batch norm with its running
    averages): one mask, and the mean over ``draws`` masks."""
    if not net.cfg.hidden:
        raise ValueError("dropout acts on hidden layers: this network has none")
    layer = int(min(max(layer, 1), len(net.cfg.hidden)))
    point = int(min(max(point, 0), net.n_train - 1))
    g = generator(seed)
    with torch.no_grad():
        h = net.forward_eval(net.F_train[point : point + 1])[layer][0].double()  # (n_l,)
        h_train, r = dropout(h, p, generator=g)
        many, R = dropout(h.expand(draws, -1), p, generator=g)  # (draws, n_l)
    return DropoutView(
        layer, float(p), point, h.numpy(), r.numpy(), h_train.numpy(), many.mean(0).numpy(),
        draws, float(R.mean()),
    )  # fmt: skip


@dataclass(frozen=True)
class BatchNormView:
    """Batch norm at one hidden layer of the current network: one training batch's own
    statistics (what a training step divides by) next to the running averages (what
    evaluation uses: the decision map, the loss curves, the neuron's formula)."""

    layer: int  # 1-based hidden layer
    a: np.ndarray  # (B, n_l) the batch's pre-activations, before normalising
    mu_B: np.ndarray  # (n_l,) the batch mean
    var_B: np.ndarray  # (n_l,) the batch variance (biased: divides by B)
    running_mean: np.ndarray  # (n_l,)
    running_var: np.ndarray  # (n_l,) (an average of unbiased batch variances)
    gamma: np.ndarray  # (n_l,)
    beta: np.ndarray  # (n_l,)
    train_out: np.ndarray  # (B, n_l) gamma (a - mu_B) / sqrt(var_B + eps) + beta
    eval_out: np.ndarray  # (B, n_l) the same with the running averages
    next_mean: np.ndarray  # (n_l,) the running mean after this batch: (1 - m) mean + m mu_B
    next_var: np.ndarray  # (n_l,) (1 - m) var + m var_B B / (B - 1)


def training_batch(net: Net, seed: int = 0) -> torch.Tensor:
    """Indices of one training batch of the network's batch size, drawn with ``seed``."""
    return torch.randperm(net.n_train, generator=generator(seed))[: net._batch_size()]


def batch_norm_view(net: Net, layer: int, seed: int = 0) -> BatchNormView:
    """Layer ``layer``'s batch norm on a training batch (``training_batch``), with every
    layer below in training mode too (its own batch statistics, no dropout)."""
    cfg = net.cfg
    if not (cfg.batch_norm and cfg.hidden):
        raise ValueError("batch norm is off (or the network has no hidden layer)")
    layer = int(min(max(layer, 1), len(cfg.hidden)))
    X = net.F_train[training_batch(net, seed)].double()  # (B, d)
    B = X.shape[0]
    with torch.no_grad():
        h = X
        for k, L in enumerate(net.layers[:layer]):
            a = h @ L.W.double() + L.b.double()  # (B, n_k)
            var, mu = torch.var_mean(a, 0, correction=0)
            if k == layer - 1:
                break
            ahat = (a - mu) / torch.sqrt(var + BN_EPS)
            h = engine.phi(cfg.activation, ahat * L.gamma.double() + L.beta.double())
        L = net.layers[layer - 1]
        gamma, beta = L.gamma.double(), L.beta.double()
        rm, rv = L.running_mean.double(), L.running_var.double()
        train_out = gamma * (a - mu) / torch.sqrt(var + BN_EPS) + beta
        eval_out = gamma * (a - rm) / torch.sqrt(rv + BN_EPS) + beta
        next_mean = torch.lerp(rm, mu, BN_MOMENTUM)
        next_var = torch.lerp(rv, var * (B / max(B - 1, 1)), BN_MOMENTUM)
    return BatchNormView(layer, *(t.numpy() for t in (
        a, mu, var, rm, rv, gamma, beta, train_out, eval_out, next_mean, next_var)))  # fmt: skip
