"""The backprop page's menus and limits, its four XOR examples, the activations (the
table lives in dl_core.engine) and the losses with their gradients w.r.t. the logits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dl_core import engine
from dl_core.training import check_choice

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
