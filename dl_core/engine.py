"""One hand-written engine for dense networks: the backprop page, the playground, the GAN
and the regularisation page all run on these few functions (tests/core/test_engine.py checks
them against torch.autograd).

Notation (dl_core/notation.py): layer l takes the activation h⁽ˡ⁻¹⁾ of the layer below and
computes the pre-activation a⁽ˡ⁾ = W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and the activation h⁽ˡ⁾ = φ(a⁽ˡ⁾).
In code a batch is a stack of rows, h (B, n_in), and W is stored as (n_in, n_out), so the
same formula reads a = h W + b. Going back, with δ = ∂L/∂a (B, n_out):

    ∂L/∂W = hᵀ δ        ∂L/∂b = Σ_batch δ        ∂L/∂h = δ Wᵀ        δ_below = ∂L/∂h ⊙ φ'(a)

Every function also takes a leading batch of models, (M, B, n), as the regularisation page
trains many networks at once.
"""

from __future__ import annotations

import math

import torch

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "softplus", "linear")
LEAKY_SLOPE = 0.01  # leaky ReLU's slope for a < 0 (torch's default); the GAN uses 0.2


# ---------------------------------------------------------------------------
# Activations φ and their derivatives φ'
# ---------------------------------------------------------------------------


def _sigmoid(a: torch.Tensor) -> torch.Tensor:
    return 1.0 / (1.0 + torch.exp(-a))


def _normal_pdf(a: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)


def _normal_cdf(a: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(a / math.sqrt(2.0)))


def phi(name: str, a: torch.Tensor, slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """φ(a), element-wise; differentiable by autograd (no in-place ops)."""
    if name == "sigmoid":
        return _sigmoid(a)  # σ(a) = 1 / (1 + e^(−a))
    if name == "tanh":
        return torch.tanh(a)
    if name == "relu":
        return a.clamp(min=0)  # max(a, 0)
    if name == "leaky_relu":
        return torch.where(a > 0, a, slope * a)
    if name == "gelu":
        return a * _normal_cdf(a)  # exact GELU: a Φ(a)
    if name == "softplus":
        return a.clamp(min=0) + torch.log1p(torch.exp(-a.abs()))  # log(1 + e^a), stable
    if name == "linear":
        return a
    raise ValueError(f"unknown activation {name!r}")


def phi_prime(name: str, a: torch.Tensor, slope: float = LEAKY_SLOPE) -> torch.Tensor:
    """φ'(a), element-wise. At ReLU's kink (a = 0) we use 0, like PyTorch."""
    if name == "sigmoid":
        s = _sigmoid(a)
        return s * (1 - s)  # σ' = σ (1 − σ)
    if name == "tanh":
        t = torch.tanh(a)
        return 1 - t * t  # tanh' = 1 − tanh²
    if name == "relu":
        return (a > 0).to(a.dtype)
    if name == "leaky_relu":
        return torch.where(a > 0, torch.ones_like(a), torch.full_like(a, slope))
    if name == "gelu":
        return _normal_cdf(a) + a * _normal_pdf(a)  # Φ(a) + a φ_N(a)
    if name == "softplus":
        return _sigmoid(a)
    if name == "linear":
        return torch.ones_like(a)
    raise ValueError(f"unknown activation {name!r}")


def phi_(name: str, a: torch.Tensor, out: torch.Tensor | None = None, slope: float = LEAKY_SLOPE):
    """φ(a) fast: written into ``out`` (``a`` itself when None). The training loops' path."""
    out = a if out is None else out
    if name == "tanh":
        return torch.tanh(a, out=out)
    if name == "sigmoid":
        return torch.sigmoid(a, out=out)
    if name == "relu":
        return torch.clamp_min(a, 0, out=out)
    if name == "leaky_relu":
        return torch.ops.aten.leaky_relu.out(a, slope, out=out)
    if name == "linear":
        return out if out is a else out.copy_(a)  # a copy keeps h in its own buffer
    return out.copy_(phi(name, a, slope))


_FROM_OUTPUT = ("tanh", "sigmoid", "relu", "leaky_relu", "linear")  # φ' known from h = φ(a)


def delta(name: str, dh: torch.Tensor, h: torch.Tensor, out: torch.Tensor | None = None,
          slope: float = LEAKY_SLOPE, a: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """δ = ∂L/∂a = ∂L/∂h ⊙ φ'(a), one fused op where φ' can be read off the output h:
    tanh' = 1 − h², σ' = h (1 − h), relu' = [h > 0], leaky' = 1 or slope, linear' = 1.
    GELU and softplus need the pre-activation ``a``."""
    aten = torch.ops.aten
    if name == "linear":
        return dh  # φ' = 1: δ is ∂L/∂h itself, no copy
    if name not in _FROM_OUTPUT:
        if a is None:
            raise ValueError(f"{name}'s derivative needs the pre-activation a")
        return torch.mul(dh, phi_prime(name, a, slope), out=out)
    if out is None:
        if name == "tanh":
            return aten.tanh_backward(dh, h)
        if name == "sigmoid":
            return aten.sigmoid_backward(dh, h)
        if name == "relu":
            return aten.threshold_backward(dh, h, 0.0)
        return aten.leaky_relu_backward(dh, h, slope, True)
    if name == "tanh":
        return aten.tanh_backward.grad_input(dh, h, grad_input=out)
    if name == "sigmoid":
        return aten.sigmoid_backward.grad_input(dh, h, grad_input=out)
    if name == "relu":
        return aten.threshold_backward.grad_input(dh, h, 0.0, grad_input=out)
    return aten.leaky_relu_backward.grad_input(dh, h, slope, True, grad_input=out)


# ---------------------------------------------------------------------------
# A dense layer: forward and backward
# ---------------------------------------------------------------------------


def dense(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None):
    """The pre-activation a = h W + b: h (…, B, n_in), W (…, n_in, n_out), b (…, n_out)."""
    if h.dim() == 2 and W.dim() == 2:
        return torch.addmm(b, h, W, out=out) if out is not None else torch.addmm(b, h, W)
    if h.dim() == 3 and W.dim() == 3 and b.dim() == 3:  # M models at once, one fused op
        return torch.baddbmm(b, h, W) if out is None else torch.baddbmm(b, h, W, out=out)
    a = torch.matmul(h, W).add_(b)
    return a if out is None else out.copy_(a)


def dense_backward(
    d: torch.Tensor, h: torch.Tensor, W: torch.Tensor,
    gW: torch.Tensor | None = None, gb: torch.Tensor | None = None, dh: bool = True,
    dh_out: torch.Tensor | None = None,
):  # fmt: skip
    """From δ = ∂L/∂a (…, B, n_out) of a layer with input h (…, B, n_in) and weights W:
    ∂L/∂W = hᵀ δ, ∂L/∂b = Σ_batch δ (written into ``gW``, ``gb`` when given) and, when
    ``dh``, ∂L/∂h = δ Wᵀ for the layer below. Returns (∂L/∂W, ∂L/∂b, ∂L/∂h or None)."""
    if h.dim() == 2 and d.dim() == 2:
        gW = torch.mm(h.T, d) if gW is None else torch.mm(h.T, d, out=gW)
    elif h.dim() == 3 and d.dim() == 3:
        hT = h.transpose(1, 2)
        gW = torch.bmm(hT, d) if gW is None else torch.bmm(hT, d, out=gW)
    else:
        dW = torch.matmul(h.transpose(-1, -2), d)
        gW = dW if gW is None else gW.copy_(dW.view_as(gW))
    keep = gb is not None and gb.dim() == d.dim()
    gb = d.sum(-2) if gb is None else torch.sum(d, -2, keepdim=keep, out=gb)
    if not dh:
        return gW, gb, None
    WT = W.transpose(-1, -2)
    if d.dim() == 2 and W.dim() == 2:
        g = torch.mm(d, WT) if dh_out is None else torch.mm(d, WT, out=dh_out)
    else:
        g = torch.matmul(d, WT)
    return gW, gb, g


# ---------------------------------------------------------------------------
# Initialisations of an (n_in, n_out) weight matrix
# ---------------------------------------------------------------------------


def xavier_std(n_in: int, n_out: int) -> float:
    """Glorot & Bengio: Var W = 2 / (n_in + n_out) keeps the signal's variance both ways."""
    return math.sqrt(2.0 / (n_in + n_out))


def he_std(n_in: int) -> float:
    """He et al.: Var W = 2 / n_in, for ReLU, which zeroes half the signal."""
    return math.sqrt(2.0 / n_in)


def zeros(shape, dtype=torch.float64) -> torch.Tensor:
    return torch.zeros(shape, dtype=dtype)


def normal(shape, std: float, g: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """W ~ N(0, std²)."""
    return torch.randn(shape, generator=g, dtype=dtype) * std


def uniform(shape, bound: float, g: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """W ~ U(−bound, bound)."""
    return torch.rand(shape, generator=g, dtype=dtype) * (2 * bound) - bound


def xavier_normal(n_in: int, n_out: int, g: torch.Generator, dtype=torch.float64):
    return normal((n_in, n_out), xavier_std(n_in, n_out), g, dtype)


def xavier_uniform(n_in: int, n_out: int, g: torch.Generator, dtype=torch.float64):
    """U(−r, r) with r = √(6 / (n_in + n_out)): the same variance as xavier_normal."""
    return uniform((n_in, n_out), math.sqrt(6.0 / (n_in + n_out)), g, dtype)


def he_normal(n_in: int, n_out: int, g: torch.Generator, dtype=torch.float64):
    return normal((n_in, n_out), he_std(n_in), g, dtype)


def torch_default(shape, n_in: int, g: torch.Generator, dtype=torch.float64):
    """nn.Linear's default for W and b: U(−1/√n_in, 1/√n_in)."""
    return uniform(shape, 1 / math.sqrt(n_in), g, dtype)
