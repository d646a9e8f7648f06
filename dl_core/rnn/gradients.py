"""Gradients through time: the input-gradient norms g_k by autograd, backpropagation through
time for the vanilla RNN written out, and every cell's g_k before and after training."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from dl_core.rnn.cells import unroll
from dl_core.rnn.config import CELLS, RNNConfig
from dl_core.rnn.model import core_weights, init_model, model_from_state
from dl_core.rnn.tasks import elementwise_loss, make_data
from dl_core.rnn.training import RNNResult
from dl_core.rnn.views import _weights64


def input_gradient_norms(cfg: RNNConfig, state: dict[str, np.ndarray], n: int = 64) -> np.ndarray:
    """g_k = mean over n test sequences of || dL_last / dx_{last - k} ||, k = 0..T-1.

    L_last is the task loss at each sequence's last scored step (the forecast,
    the recall, the final symbol of a Reber string). Computed with autograd
    through the fused module (float64); NaN where no sequence reaches back k steps."""
    data = make_data(cfg, n, cfg.seed + 1)
    model = model_from_state(cfg, state).double()
    with torch.enable_grad():
        x = data.x.double().requires_grad_(True)  # (n, T, D)
        out, _ = model(x)
        y = data.y.double() if data.y.is_floating_point() else data.y
        per = elementwise_loss(cfg, out, y)  # (n, T)
        T = x.shape[1]
        last = (data.mask * torch.arange(1, T + 1)).argmax(1)  # (n,) last scored step
        L = per.gather(1, last[:, None]).sum()  # per-sample losses: their gradients separate
        (gx,) = torch.autograd.grad(L, x)
    norms = gx.norm(dim=-1)  # (n, T)
    pos = last[:, None] - torch.arange(T)[None, :]  # (n, T): the step k back from the end
    valid = pos >= 0
    picked = norms.gather(1, pos.clamp(min=0)) * valid
    counts = valid.sum(0)
    g = picked.sum(0) / counts.clamp(min=1)
    g[counts == 0] = math.nan
    return g.detach().numpy()


def rnn_bptt(
    W: dict[str, torch.Tensor], x: torch.Tensor, dL_dhT: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Backpropagation through time for the vanilla RNN, written out.

    x (T, D), dL_dhT (H,). Going back from t = T: dL/da_t = (1 - h_t^2) * dL/dh_t,
    dL/dx_t = W_ih^T dL/da_t, dL/dh_{t-1} = W_hh^T dL/da_t. So every step back
    multiplies the gradient by the Jacobian J_t = diag(1 - h_t^2) W_hh (transposed).

    Returns dL/dx (T, D) and the spectral norms ||J_t||_2 (T,)."""
    h = unroll("rnn", W, x[None]).h[0]  # (T, H)
    T = x.shape[0]
    g = dL_dhT
    dx, jn = [], []
    for t in range(T - 1, -1, -1):
        da = (1 - h[t] ** 2) * g  # (H,)
        dx.append(W["W_ih"].T @ da)  # (D,)
        jn.append(torch.linalg.matrix_norm((1 - h[t] ** 2)[:, None] * W["W_hh"], ord=2))
        g = W["W_hh"].T @ da
    return torch.stack(dx[::-1]), torch.stack(jn[::-1])


def initial_state(cfg: RNNConfig) -> dict[str, np.ndarray]:
    """The weights training starts from (``init_model``), in a result's ``state`` layout."""
    model = init_model(cfg)
    W = core_weights(model.core)
    return {
        **{n: v.numpy().copy() for n, v in W.items()},
        "W_hy": model.head.weight.detach().numpy().copy(),
        "b_y": model.head.bias.detach().numpy().copy(),
    }


@dataclass(frozen=True)
class GradientComparison:
    """Gradients through time of every cell, before and after training.

    ``initial[cell]`` / ``trained[cell]``: g_k (``input_gradient_norms``), k = 0..T-1, for
    the weights training starts from and for the trained ones (only the cells trained).
    ``k_long``: the farthest k every curve reaches. ``ratio_initial`` / ``ratio_trained``:
    g_k_long of the LSTM over that of the vanilla RNN (None when one is missing).
    ``forget_mean``: the trained LSTM's mean forget gate f over the example sequences."""

    initial: dict[str, np.ndarray]
    trained: dict[str, np.ndarray]
    k_long: int
    ratio_initial: float
    ratio_trained: float | None
    forget_mean: float | None


def _ratio(curves: dict[str, np.ndarray], k: int) -> float | None:
    if "lstm" not in curves or "rnn" not in curves:
        return None
    return float(curves["lstm"][k] / curves["rnn"][k])


def gradient_comparison(results: list[RNNResult]) -> GradientComparison:
    """The gradient of the loss at the last scored step with respect to earlier inputs, for
    the weights of ``results`` (same task, different cells) and for the initial weights of
    all three cells (no training needed: same config, other cell)."""
    cfg = results[0].config
    initial = {}
    for c in CELLS:
        other = replace(cfg, cell=c)
        initial[c] = input_gradient_norms(other, initial_state(other))
    trained = {r.config.cell: input_gradient_norms(r.config, r.state) for r in results}
    # the farthest k every curve reaches (a diverged model's NaN curve does not count)
    reach = [np.flatnonzero(np.isfinite(g) & (g > 0)) for g in [*initial.values(), *trained.values()]]  # fmt: skip
    k = min((int(r.max()) for r in reach if r.size), default=0)
    lstm = next((r for r in results if r.config.cell == "lstm"), None)
    forget = None
    if lstm is not None:
        with torch.no_grad():
            x = torch.from_numpy(lstm.example_x).double()  # (S, T, D)
            forget = float(unroll("lstm", _weights64(lstm), x).gates["f"].mean())
    return GradientComparison(initial, trained, k, _ratio(initial, k), _ratio(trained, k), forget)
