"""Regularisation's formulas, tensor in, tensor out: the penalties and their gradients,
the soft threshold, decoupled weight decay, dropout, batch norm, standardising, the condition
number."""

from __future__ import annotations

import torch

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
