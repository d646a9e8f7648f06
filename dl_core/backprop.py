"""Backpropagation written out by hand, and checked three ways.

In the app's notation (``dl_core.notation``), a fully connected network with layers
l = 1..n computes, for an input h^(0) = x,

    a^(l) = h^(l-1) W^(l)T + b^(l)          (pre-activation; rows are samples)
    h^(l) = phi(a^(l))   for hidden layers,   h^(n) = a^(n) (the logits)

and the loss L(a^(n), y). The backward pass applies the chain rule layer by
layer, from the loss back to the input, with delta^(l) = dL/da^(l):

    delta^(l) = dL/dh^(l) * phi'(a^(l))     (element-wise)
    dL/dW^(l) = delta^(l)T h^(l-1)          dL/db^(l) = sum over the batch of delta^(l)
    dL/dh^(l-1) = delta^(l) W^(l)

Everything here is plain tensor code (``forward``, ``backward``, the
activations and their derivatives, the losses and their gradients with respect
to the logits). The tests compare it with ``torch.nn`` + ``torch.autograd``
(``reference_gradients``) and with central finite differences
(``central_difference``), which is itself tested on functions whose
derivatives are known.

Two models live here: the tiny network the page draws whole (``TinyConfig``,
``walkthrough``, ``grad_check``) and a deep MLP for vanishing and exploding
gradients (``DeepConfig``, ``train``).

Shapes: B = batch, n_l = width of layer l. ``W[l]`` has shape (n_{l+1}, n_l),
like ``nn.Linear.weight``; Python lists are 0-based, the page's layer numbers
are 1-based.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import engine
from dl_core.device import pick
from dl_core.training import check_choice, check_range, generator, one_thread, timer

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus")
ACTIVATION_LABELS = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "gelu": "GELU",
    "softplus": "softplus",
}
LOSSES = ("mse", "bce", "softmax_ce")
LOSS_LABELS = {  # short: the sidebar's menu cuts off longer labels
    "mse": "mean squared error",
    "bce": "sigmoid + binary CE",
    "softmax_ce": "softmax + cross-entropy",
}
INITS = ("zero", "small", "xavier", "he", "large")
INIT_LABELS = {
    "zero": "zero",
    "small": "small (σ = 0.01)",
    "xavier": "Xavier",
    "he": "He",
    "large": "large (σ = 1)",
}
ARCHITECTURES = {"2-2-1": (2,), "2-3-1": (3,), "2-3-2-1": (3, 2)}  # name -> hidden widths
LEAKY_SLOPE = engine.LEAKY_SLOPE  # leaky ReLU's slope for a < 0 (torch's default)
SATURATION = 0.05  # |phi'(a)| below this counts as saturated: the gradient barely passes
REL_ERROR_FLOOR = 1e-12  # relative errors divide by max(|a|, |b|, this)
GOOD_REL_ERROR = 1e-6  # a float64 gradient check should agree at least this well
TINY_GRADIENT = 1e-6  # every layer's gradient norm below this: nothing learns
SMALL_STD = 0.01  # the "small normal" initialisation
MAX_DEPTH = 50  # hidden layers of the deep MLP
MAX_WIDTH = 128  # units per hidden layer of the deep MLP
MAX_STEPS = 300  # training steps of the deep MLP
MAX_POINTS = 512  # training points of the deep MLP
MAX_SCALE = 100.0  # multiplier of the tiny network's initial weights
EPS_RANGE = (1e-12, 1.0)  # allowed finite-difference steps

# Four training examples (XOR on +-1): x (4, 2), targets 0/1
EXAMPLES_X = ((-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0))
EXAMPLES_Y = (0, 1, 1, 0)

# ---------------------------------------------------------------------------
# Activations and their derivatives: the table lives in dl_core/engine.py
# ---------------------------------------------------------------------------


def _sigmoid(z: torch.Tensor) -> torch.Tensor:
    return engine.phi("sigmoid", z)


def _softplus(z: torch.Tensor) -> torch.Tensor:
    """log(1 + e^z), written so that large |z| neither overflows nor loses digits."""
    return engine.phi("softplus", z)


def activation(name: str, z: torch.Tensor) -> torch.Tensor:
    """phi(z), element-wise (z: any tensor, on the page the pre-activation a): the engine's."""
    return engine.phi(name, z, LEAKY_SLOPE)


def activation_derivative(name: str, z: torch.Tensor) -> torch.Tensor:
    """phi'(z), element-wise: the engine's. At ReLU's kink (z = 0) we use 0, like PyTorch."""
    return engine.phi_prime(name, z, LEAKY_SLOPE)


def torch_activation(name: str) -> torch.nn.Module:
    """The ``torch.nn`` module the hand-written activation is tested against."""
    return {
        "sigmoid": torch.nn.Sigmoid(),
        "tanh": torch.nn.Tanh(),
        "relu": torch.nn.ReLU(),
        "leaky_relu": torch.nn.LeakyReLU(LEAKY_SLOPE),
        "gelu": torch.nn.GELU(),
        "softplus": torch.nn.Softplus(),
    }[name]


ACTIVATION_FORMULAS = {  # LaTeX of phi(a) and phi'(a), a the pre-activation
    "sigmoid": (r"\sigma(a) = \frac{1}{1+e^{-a}}", r"\sigma'(a) = \sigma(a)\,(1-\sigma(a))"),
    "tanh": (r"\tanh a = \frac{e^{a}-e^{-a}}{e^{a}+e^{-a}}", r"\tanh' a = 1 - \tanh^2 a"),
    "relu": (r"\mathrm{ReLU}(a) = \max(0, a)", r"\mathrm{ReLU}'(a) = [a > 0]"),
    "leaky_relu": (
        r"\varphi(a) = \begin{cases} a & a > 0\\ 0.01\,a & a \le 0\end{cases}",
        r"\varphi'(a) = \begin{cases} 1 & a > 0\\ 0.01 & a \le 0\end{cases}",
    ),
    "gelu": (
        r"\mathrm{GELU}(a) = a\,\Phi(a),\quad \Phi: \text{the standard normal CDF}",
        r"\mathrm{GELU}'(a) = \Phi(a) + a\,\frac{e^{-a^2/2}}{\sqrt{2\pi}}",
    ),
    "softplus": (r"\mathrm{softplus}(a) = \log(1 + e^{a})", r"\mathrm{softplus}'(a) = \sigma(a)"),
}


@dataclass(frozen=True)
class ActivationCurve:
    a: np.ndarray  # (n,) grid of pre-activations
    f: np.ndarray  # (n,) phi(a)
    df: np.ndarray  # (n,) phi'(a), hand-written
    saturated: np.ndarray  # (n,) bool: |phi'(a)| < SATURATION


def activation_curve(name: str, lo: float = -6.0, hi: float = 6.0, n: int = 241) -> ActivationCurve:
    """phi and phi' on a grid, with the saturated region marked."""
    check_choice("activation", name, ACTIVATIONS)
    with torch.no_grad():
        z = torch.linspace(lo, hi, n, dtype=torch.float64)  # (n,)
        df = activation_derivative(name, z)
        return ActivationCurve(
            z.numpy(), activation(name, z).numpy(), df.numpy(), (df.abs() < SATURATION).numpy()
        )


# ---------------------------------------------------------------------------
# Losses and their gradients with respect to the logits, by hand
# ---------------------------------------------------------------------------


def _softmax(z: torch.Tensor) -> torch.Tensor:
    e = torch.exp(z - z.max(dim=-1, keepdim=True).values)  # shift: no overflow
    return e / e.sum(dim=-1, keepdim=True)


def loss_and_grad(
    loss: str, logits: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(L, y_hat, dL/dlogits) for logits (B, K) and targets y (B, K).

    Targets are numbers for MSE, 0/1 for BCE, one-hot rows for softmax + CE.
    The loss is the mean over the batch (and, for MSE and BCE, the outputs), as
    in ``torch.nn``. y_hat is the network's prediction: the logits themselves
    (MSE), sigma(z) (BCE) or softmax(z) (CE)."""
    B, K = logits.shape
    if loss == "mse":  # L = mean (z - y)^2, dL/dz = 2 (z - y) / (B K)
        r = logits - y
        return (r * r).mean(), logits, 2 * r / (B * K)
    if loss == "bce":  # L = mean -[y log p + (1-y) log(1-p)] = mean softplus(z) - y z
        p = _sigmoid(logits)
        return (_softplus(logits) - y * logits).mean(), p, (p - y) / (B * K)
    if loss == "softmax_ce":  # L = mean_b (logsumexp(z) - z_y), dL/dz = (p - y) / B
        p = _softmax(logits)
        m = logits.max(dim=-1, keepdim=True).values
        lse = m.squeeze(-1) + torch.log(torch.exp(logits - m).sum(dim=-1))  # (B,)
        return (lse - (y * logits).sum(dim=-1)).mean(), p, (p - y) / B
    raise ValueError(f"unknown loss {loss!r}")


def torch_loss(loss: str, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The ``torch.nn`` loss that ``loss_and_grad`` must match."""
    if loss == "mse":
        return torch.nn.MSELoss()(logits, y)
    if loss == "bce":
        return torch.nn.BCEWithLogitsLoss()(logits, y)
    return torch.nn.CrossEntropyLoss()(logits, y.argmax(dim=-1))


LOSS_FORMULAS = {  # LaTeX of L and of dL/da for one example, a the logits
    "mse": (r"L = \frac1K\sum_k (\hat y_k - y_k)^2,\quad \hat y = a", r"\frac{\partial L}{\partial a_k} = \frac2K(\hat y_k - y_k)"),
    "bce": (r"L = -\big[y\log \hat y + (1-y)\log(1-\hat y)\big],\quad \hat y = \sigma(a)", r"\frac{\partial L}{\partial a} = \hat y - y"),
    "softmax_ce": (r"L = -\sum_k y_k \log \hat y_k,\quad \hat y_k = \frac{e^{a_k}}{\sum_j e^{a_j}}", r"\frac{\partial L}{\partial a_k} = \hat y_k - y_k"),
}  # fmt: skip


@dataclass(frozen=True)
class LossStep:
    loss: str
    a: np.ndarray  # (K,) logits (the output layer's pre-activation)
    y: np.ndarray  # (K,) target (one-hot for CE)
    y_hat: np.ndarray  # (K,) prediction: a, sigma(a) or softmax(a)
    L: float
    delta: np.ndarray  # (K,) dL/da, hand-written
    delta_autograd: np.ndarray  # (K,) the same from torch.nn loss + autograd


def loss_step(loss: str, a: torch.Tensor | list[float], y: torch.Tensor | list[float]) -> LossStep:
    """The loss of one example with logits ``a``, its gradient by hand and by autograd."""
    check_choice("loss", loss, LOSSES)
    a = torch.as_tensor(a, dtype=torch.float64).reshape(1, -1)  # (1, K)
    y = torch.as_tensor(y, dtype=torch.float64).reshape(1, -1)  # (1, K)
    with torch.no_grad():
        L, y_hat, g = loss_and_grad(loss, a, y)
    with torch.enable_grad():
        ar = a.clone().requires_grad_(True)
        (g_ref,) = torch.autograd.grad(torch_loss(loss, ar, y), ar)
    return LossStep(loss, a[0].numpy(), y[0].numpy(), y_hat[0].numpy(), float(L), g[0].numpy(),
                    g_ref[0].numpy())  # fmt: skip


def loss_curve(loss: str, y: np.ndarray, a_other: np.ndarray, lo: float = -6.0, hi: float = 6.0,
               n: int = 121) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """L and dL/da_1 as the first logit a_1 sweeps [lo, hi], the other logits fixed.

    Returns (a_1 grid (n,), L (n,), dL/da_1 (n,))."""
    with torch.no_grad():
        grid = torch.linspace(lo, hi, n, dtype=torch.float64)  # (n,)
        z = torch.as_tensor(a_other, dtype=torch.float64).repeat(n, 1)  # (n, K)
        z[:, 0] = grid
        yy = torch.as_tensor(y, dtype=torch.float64).repeat(n, 1)  # (n, K)
        # one example per row: undo the batch mean (x n) to get per-example numbers
        if loss == "softmax_ce":
            p = _softmax(z)
            L = torch.logsumexp(z, dim=-1) - (yy * z).sum(-1)
            g = p[:, 0] - yy[:, 0]
        else:
            K = z.shape[1]
            per = (z - yy) ** 2 if loss == "mse" else _softplus(z) - yy * z  # (n, K)
            L = per.mean(-1)
            g = (2 * (z - yy) if loss == "mse" else _sigmoid(z) - yy)[:, 0] / K
    return grid.numpy(), L.numpy(), g.numpy()


# ---------------------------------------------------------------------------
# The network: forward and backward, by hand
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    W: tuple[torch.Tensor, ...]  # W[l]: (n_{l+1}, n_l), like nn.Linear.weight
    b: tuple[torch.Tensor, ...]  # b[l]: (n_{l+1},)

    def to(self, dtype: torch.dtype) -> Params:
        return Params(tuple(w.to(dtype) for w in self.W), tuple(v.to(dtype) for v in self.b))

    def flat(self) -> torch.Tensor:
        """All parameters in one vector, layer by layer: W1, b1, W2, b2, ..."""
        return torch.cat([t.reshape(-1) for w, v in zip(self.W, self.b) for t in (w, v)])

    def unflat(self, theta: torch.Tensor) -> Params:
        """The inverse of ``flat``: a vector of the same length back into layers."""
        W, b, i = [], [], 0
        for w, v in zip(self.W, self.b):
            W.append(theta[i : i + w.numel()].reshape(w.shape))
            i += w.numel()
            b.append(theta[i : i + v.numel()].reshape(v.shape))
            i += v.numel()
        return Params(tuple(W), tuple(b))

    def names(self) -> list[str]:
        """1-based names in ``flat`` order: W1[i,j] is the weight from unit j of
        layer 0 (the input) to unit i of layer 1."""
        out = []
        for layer, (w, v) in enumerate(zip(self.W, self.b), start=1):
            out += [
                f"W{layer}[{i + 1},{j + 1}]" for i in range(w.shape[0]) for j in range(w.shape[1])
            ]
            out += [f"b{layer}[{i + 1}]" for i in range(v.shape[0])]
        return out


@dataclass(frozen=True)
class Forward:
    a: tuple[torch.Tensor, ...]  # a[l]: (B, n_{l+1}) pre-activations; a[-1] are the logits
    h: tuple[torch.Tensor, ...]  # h[0] = x (B, n_0); h[l+1] = phi(a[l]); h[-1] = a[-1]


def forward(p: Params, x: torch.Tensor, act: str) -> Forward:
    """Every pre-activation a and activation h of the network for inputs x (B, n_0)."""
    pre, hs = [], [x]
    last = len(p.W) - 1
    for layer, (W, b) in enumerate(zip(p.W, p.b)):
        a = engine.dense(hs[-1], W.T, b)  # (B, n_out) = h W^T + b: the engine's layer
        pre.append(a)
        hs.append(a if layer == last else activation(act, a))  # the output layer is linear
    return Forward(tuple(pre), tuple(hs))


@dataclass(frozen=True)
class Backward:
    dL_dh: tuple[torch.Tensor, ...]  # per layer (B, n_out): gradient w.r.t. the layer's output h
    dh_da: tuple[torch.Tensor, ...]  # (B, n_out): phi'(a); ones for the linear output layer
    delta: tuple[torch.Tensor, ...]  # (B, n_out): dL/da = dL/dh * phi'(a)
    dL_dW: tuple[torch.Tensor, ...]  # (n_out, n_in)
    dL_db: tuple[torch.Tensor, ...]  # (n_out,)
    dL_dx: torch.Tensor  # (B, n_0)

    def grads(self) -> Params:
        return Params(self.dL_dW, self.dL_db)


def backward(p: Params, fwd: Forward, dL_dlogits: torch.Tensor, act: str) -> Backward:
    """The chain rule, from the logits' gradient (B, K) back to the input."""
    n = len(p.W)
    dL_dh: list[torch.Tensor] = [None] * n  # type: ignore[list-item]
    dh_da, delta, dL_dW, dL_db = list(dL_dh), list(dL_dh), list(dL_dh), list(dL_dh)
    g = dL_dlogits  # dL/dh of the output layer (its h is its a)
    for layer in reversed(range(n)):
        a = fwd.a[layer]
        dL_dh[layer] = g
        dh_da[layer] = torch.ones_like(a) if layer == n - 1 else activation_derivative(act, a)
        delta[layer] = g * dh_da[layer]  # (B, n_out)
        # the engine's dense backward: dW = h^(l-1)T delta (as (n_in, n_out): transposed
        # back to nn.Linear's layout), db = sum of delta, dL/dh^(l-1) = delta W
        gW, dL_db[layer], g = engine.dense_backward(delta[layer], fwd.h[layer], p.W[layer].T)
        dL_dW[layer] = gW.T
    return Backward(tuple(dL_dh), tuple(dh_da), tuple(delta), tuple(dL_dW), tuple(dL_db), g)


def loss_of(p: Params, x: torch.Tensor, y: torch.Tensor, act: str, loss: str) -> torch.Tensor:
    """The scalar loss of the batch, by the hand-written forward."""
    return loss_and_grad(loss, forward(p, x, act).h[-1], y)[0]


def hand_gradients(
    p: Params, x: torch.Tensor, y: torch.Tensor, act: str, loss: str
) -> tuple[torch.Tensor, Forward, Backward]:
    """(L, forward, backward) by hand: no autograd anywhere."""
    with torch.no_grad():
        fwd = forward(p, x, act)
        L, _, g = loss_and_grad(loss, fwd.h[-1], y)
        return L, fwd, backward(p, fwd, g, act)


def torch_model(p: Params, act: str) -> torch.nn.Sequential:
    """The same network as ``torch.nn`` layers, with copies of the weights."""
    layers: list[torch.nn.Module] = []
    for i, (W, b) in enumerate(zip(p.W, p.b)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
        with torch.no_grad():
            lin.weight.copy_(W)
            lin.bias.copy_(b)
        layers.append(lin)
        if i < len(p.W) - 1:
            layers.append(torch_activation(act))
    return torch.nn.Sequential(*layers)


def reference_gradients(
    p: Params, x: torch.Tensor, y: torch.Tensor, act: str, loss: str
) -> tuple[float, Params]:
    """(L, gradients) from ``torch.nn`` modules and ``torch.autograd``: the reference."""
    model = torch_model(p, act)
    with torch.enable_grad():
        L = torch_loss(loss, model(x), y)
        grads = torch.autograd.grad(L, list(model.parameters()))
    return float(L.detach()), Params(tuple(grads[0::2]), tuple(grads[1::2]))


def central_difference(
    f: Callable[[torch.Tensor], torch.Tensor],
    theta: torch.Tensor,
    eps: float,
    batched: bool = False,
) -> torch.Tensor:
    """(f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps) for every coordinate i.

    ``f`` maps a parameter vector (P,) to a scalar; with ``batched`` it maps a
    stack (M, P) to (M,) and is called once on all 2P perturbed vectors. The
    error is O(eps^2) for smooth f, plus rounding of about u |f| / eps
    (u = 1e-16 in float64, 6e-8 in float32)."""
    check_range("epsilon", eps, *EPS_RANGE)
    with torch.no_grad():
        P = theta.numel()
        E = eps * torch.eye(P, dtype=theta.dtype, device=theta.device)  # (P, P)
        plus, minus = theta + E, theta - E  # (P, P): row i nudges coordinate i
        if batched:
            vals = f(torch.cat([plus, minus]))  # (2P,)
            fp, fm = vals[:P], vals[P:]
        else:
            fp = torch.stack([f(r) for r in plus])
            fm = torch.stack([f(r) for r in minus])
        return (fp - fm) / (2 * eps)


def rel_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / max(|a|, |b|), element-wise (0 where both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), REL_ERROR_FLOOR)


# ---------------------------------------------------------------------------
# The tiny network of the page
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TinyConfig:
    arch: str = "2-2-1"  # the hidden layout, a key of ARCHITECTURES
    activation: str = "sigmoid"  # phi of the hidden layers, one of ACTIVATIONS
    loss: str = "bce"  # one of LOSSES; softmax + CE gets two output logits
    seed: int = 0  # draws the initial weights
    scale: float = 1.0  # multiplies the Xavier-normal initial weights
    example: int = 0  # which of the four training examples (0..3) to walk through
    lr: float = 0.5  # eta of the one gradient-descent step shown

    def __post_init__(self) -> None:
        check_choice("architecture", self.arch, tuple(ARCHITECTURES))
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("loss", self.loss, LOSSES)
        check_range("seed", self.seed, 0, 10_000)
        check_range("weight scale", self.scale, 0.0, MAX_SCALE)
        check_range("example", self.example, 0, len(EXAMPLES_X) - 1)
        check_range("learning rate", self.lr, 0.0, 100.0)

    @classmethod
    def tiny(cls) -> TinyConfig:
        return cls()

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, input to output."""
        return (2, *ARCHITECTURES[self.arch], 2 if self.loss == "softmax_ce" else 1)


def tiny_params(cfg: TinyConfig) -> Params:
    """Xavier-normal weights times ``scale``, biases N(0, 0.1^2), float64."""
    g = generator(cfg.seed)
    W, b = [], []
    for n_in, n_out in zip(cfg.sizes[:-1], cfg.sizes[1:]):
        std = math.sqrt(2.0 / (n_in + n_out))
        W.append(cfg.scale * std * torch.randn(n_out, n_in, generator=g, dtype=torch.float64))
        b.append(0.1 * torch.randn(n_out, generator=g, dtype=torch.float64))
    return Params(tuple(W), tuple(b))


def example(cfg: TinyConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """x (1, 2) and the target y (1, K) of the chosen example, in float64."""
    x = torch.tensor([EXAMPLES_X[cfg.example]], dtype=torch.float64)
    c = EXAMPLES_Y[cfg.example]
    y = torch.tensor([[1.0 - c, float(c)]] if cfg.loss == "softmax_ce" else [[float(c)]],
                     dtype=torch.float64)  # fmt: skip
    return x, y


def kink_unit(p: Params, x: torch.Tensor, y: torch.Tensor, act: str, loss: str) -> int:
    """The first-layer unit whose output matters most for the loss: argmax_j |dL/dh_j^(1)|."""
    _, _, bwd = hand_gradients(p, x, y, act, loss)
    return int(bwd.dL_dh[0][0].abs().argmax())


def place_on_kink(p: Params, x: torch.Tensor, unit: int, eps: float) -> Params:
    """Shift b1[unit] so that that hidden unit has pre-activation a = eps / 3 for this input.

    For ReLU that is a third of a finite-difference step from its kink at 0: nudging that
    unit's bias by +-eps puts a at 4 eps / 3 and -2 eps / 3, on different sides, so the
    central difference averages two slopes (0 and 1) and disagrees with the derivative."""
    a = (x @ p.W[0].T)[0, unit]
    b0 = p.b[0].clone()
    b0[unit] = eps / 3 - a
    return Params(p.W, (b0, *p.b[1:]))


@dataclass(frozen=True)
class LayerStep:
    """Layer l of the walkthrough for one example (vectors of that layer)."""

    layer: int  # 1-based layer number l
    W: np.ndarray  # (n_l, n_{l-1}) before the step
    b: np.ndarray  # (n_l,)
    h_prev: np.ndarray  # (n_{l-1},) h^(l-1): what da/dW is
    a: np.ndarray  # (n_l,) pre-activation
    h: np.ndarray  # (n_l,) phi(a), or a for the output layer
    dL_dh: np.ndarray  # (n_l,)
    dh_da: np.ndarray  # (n_l,) phi'(a) (ones for the output layer)
    delta: np.ndarray  # (n_l,) dL/da
    dL_dW: np.ndarray  # (n_l, n_{l-1})
    dL_db: np.ndarray  # (n_l,)
    W_new: np.ndarray  # (n_l, n_{l-1}) after one gradient-descent step W - lr dL/dW
    b_new: np.ndarray  # (n_l,)


@dataclass(frozen=True)
class Walkthrough:
    config: TinyConfig
    x: np.ndarray  # (2,)
    y: np.ndarray  # (K,)
    layers: tuple[LayerStep, ...]  # l = 1..L
    y_hat: np.ndarray  # (K,) prediction
    L: float  # loss before the step
    L_after: float  # loss of the same example after the step
    dL_dx: np.ndarray  # (2,)
    finite: bool  # False when any number is NaN or inf
    seconds: float
    device: str = "cpu"


def walkthrough(cfg: TinyConfig, kink_eps: float | None = None) -> Walkthrough:
    """Forward, loss, backward and one gradient-descent step for one example.

    With ``kink_eps`` one hidden unit is placed on its kink (``place_on_kink``)."""
    with timer() as t:
        x, y = example(cfg)
        p = tiny_params(cfg)
        if kink_eps is not None:
            unit = kink_unit(p, x, y, cfg.activation, cfg.loss)
            p = place_on_kink(p, x, unit, kink_eps)
        L, fwd, bwd = hand_gradients(p, x, y, cfg.activation, cfg.loss)
        with torch.no_grad():
            new = Params(
                tuple(W - cfg.lr * g for W, g in zip(p.W, bwd.dL_dW)),
                tuple(b - cfg.lr * g for b, g in zip(p.b, bwd.dL_db)),
            )
            L_after = loss_of(new, x, y, cfg.activation, cfg.loss)
        layers = tuple(
            LayerStep(
                i + 1, p.W[i].numpy(), p.b[i].numpy(), fwd.h[i][0].numpy(), fwd.a[i][0].numpy(),
                fwd.h[i + 1][0].numpy(), bwd.dL_dh[i][0].numpy(), bwd.dh_da[i][0].numpy(),
                bwd.delta[i][0].numpy(), bwd.dL_dW[i].numpy(), bwd.dL_db[i].numpy(),
                new.W[i].numpy(), new.b[i].numpy(),
            )
            for i in range(len(p.W))
        )  # fmt: skip
        y_hat = loss_and_grad(cfg.loss, fwd.h[-1], y)[1][0].numpy()
        finite = bool(torch.isfinite(torch.cat([p.flat(), new.flat(), L.reshape(1),
                                                L_after.reshape(1)])).all())  # fmt: skip
    return Walkthrough(cfg, x[0].numpy(), y[0].numpy(), layers, y_hat, float(L), float(L_after),
                       bwd.dL_dx[0].numpy(), finite, t[0])  # fmt: skip


@dataclass(frozen=True)
class GradCheck:
    names: tuple[str, ...]  # parameter names, W1[i,j] / b1[i], ...
    hand: np.ndarray  # (P,) hand-written backprop
    autograd: np.ndarray  # (P,) torch.nn + torch.autograd
    fd: np.ndarray  # (P,) central finite differences
    rel_autograd: np.ndarray  # (P,) rel_error(hand, autograd)
    rel_fd: np.ndarray  # (P,) rel_error(hand, fd)
    eps: float
    dtype: str  # "float64" or "float32"
    kink_unit: int | None  # 0-based first-layer unit placed on its kink, or None

    @property
    def max_rel_fd(self) -> float:
        return float(np.max(self.rel_fd))

    @property
    def max_rel_autograd(self) -> float:
        return float(np.max(self.rel_autograd))


DTYPES = {"float64": torch.float64, "float32": torch.float32}


def check_threshold(dtype: str) -> float:
    """The relative error below which a gradient check counts as good: GOOD_REL_ERROR in
    float64; 1000x that in float32, whose rounding unit (6e-8) is 5e8 times float64's."""
    return GOOD_REL_ERROR * (1e3 if dtype == "float32" else 1.0)


def _check_setup(cfg: TinyConfig, eps: float, dtype: str, kink: bool):
    """Parameters (kink placed, cast), x, y, the kink unit and theta -> loss over a stack (M, P)."""
    check_choice("precision", dtype, tuple(DTYPES))
    check_range("epsilon", eps, *EPS_RANGE)
    dt = DTYPES[dtype]
    x, y = example(cfg)
    p = tiny_params(cfg)
    unit = kink_unit(p, x, y, cfg.activation, cfg.loss) if kink else None
    if unit is not None:
        p = place_on_kink(p, x, unit, eps)
    p, x, y = p.to(dt), x.to(dt), y.to(dt)
    loss_of_theta = torch.func.vmap(
        lambda th: loss_of(p.unflat(th), x, y, cfg.activation, cfg.loss)
    )
    return p, x, y, unit, loss_of_theta


def grad_check(cfg: TinyConfig, eps: float = 1e-6, dtype: str = "float64", kink: bool = False) -> GradCheck:  # fmt: skip
    """Hand-written backprop vs autograd vs central differences for every parameter."""
    p, x, y, unit, loss_of_theta = _check_setup(cfg, eps, dtype, kink)
    _, _, bwd = hand_gradients(p, x, y, cfg.activation, cfg.loss)
    _, ref = reference_gradients(p, x, y, cfg.activation, cfg.loss)
    fd = central_difference(loss_of_theta, p.flat(), eps, batched=True)
    h, a, f = (t.double().numpy() for t in (bwd.grads().flat(), ref.flat(), fd))
    return GradCheck(tuple(p.names()), h, a, f, rel_error(h, a), rel_error(h, f), eps, dtype, unit)


EPS_SWEEP = tuple(10.0**k for k in range(-12, 0))  # 1e-12 .. 1e-1


def eps_sweep(cfg: TinyConfig, kink: bool = False) -> dict[str, np.ndarray]:
    """Max relative error of backprop vs central differences as epsilon varies
    (the same numbers as ``grad_check(...).max_rel_fd``, without autograd).

    Returns {"eps": (E,), "float64": (E,), "float32": (E,)}: large eps suffers
    from truncation (and kinks), small eps from rounding, worse in float32."""
    out = {"eps": np.array(EPS_SWEEP)}
    with one_thread(torch.device("cpu")):  # 24 tiny checks: 3-4x faster than on two threads
        for dt in DTYPES:
            errs = []
            for e in EPS_SWEEP:
                p, x, y, _, loss_of_theta = _check_setup(cfg, e, dt, kink)
                _, _, bwd = hand_gradients(p, x, y, cfg.activation, cfg.loss)
                fd = central_difference(loss_of_theta, p.flat(), e, batched=True)
                h = bwd.grads().flat().double().numpy()
                errs.append(rel_error(h, fd.double().numpy()).max())
            out[dt] = np.array(errs)
    return out


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
