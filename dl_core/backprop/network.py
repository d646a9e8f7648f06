"""The network written out by hand: its parameters, the forward pass and the chain rule
back (dl_core.engine's dense layers), the torch.nn + autograd reference and central
differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import engine
from dl_core.backprop.functions import (
    EPS_RANGE,
    REL_ERROR_FLOOR,
    activation,
    activation_derivative,
    loss_and_grad,
    torch_activation,
    torch_loss,
)
from dl_core.training import check_range

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
