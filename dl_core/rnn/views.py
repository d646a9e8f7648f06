"""What the page inspects: one time step of the hand-written cell with the trained numbers,
the hidden states and gates over one example, and the hand-written cells against the fused
module (float32 rounding) and PyTorch's GRU against Cho et al.'s (a different function)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dl_core.rnn.cells import Unrolled, unroll
from dl_core.rnn.config import GATES
from dl_core.rnn.model import core_weights, model_from_state
from dl_core.rnn.training import RNNResult


def _weights64(res: RNNResult) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v).double() for k, v in res.state.items()}


@dataclass(frozen=True)
class StepNumbers:
    """Unit j of the hidden state at time step t, every term by its symbol.

    For each gate (RNN: "h"; LSTM: i, f, g, o; GRU: r, u, n) ``Wx`` is
    (W_{i.} x_t + b_{i.})_j, ``Wh`` is (W_{h.} h_{t-1} + b_{h.})_j, ``pre`` the
    pre-activation (for the GRU's n: Wx + r_j Wh) and ``act`` its value after
    sigma or tanh."""

    cell: str
    t: int  # time step, 1-based
    j: int  # hidden unit, 0-based
    x_t: tuple[float, ...]  # the input vector x_t
    h_prev: float  # h_{t-1, j}
    c_prev: float | None  # LSTM: c_{t-1, j}
    Wx: dict[str, float]
    Wh: dict[str, float]
    pre: dict[str, float]
    act: dict[str, float]
    c: float | None  # LSTM: c_{t, j}
    h: float  # h_{t, j}
    h_vec: tuple[float, ...]  # the whole new hidden state h_t (H values)
    y_hat: tuple[float, ...]  # readout W_hy h_t + b_y at step t


def time_step(res: RNNResult, example: int, t: int, j: int) -> StepNumbers:
    """Run the hand-written cell (float64) on example sequence ``example`` up to
    step t and return the numbers of unit j at step t."""
    cfg = res.config
    T = res.example_x.shape[1]
    t = int(min(max(t, 1), T))
    j = int(min(max(j, 0), cfg.hidden - 1))
    W = _weights64(res)
    x = torch.from_numpy(res.example_x[example : example + 1, :t]).double()  # (1, t, D)
    u = unroll(cfg.cell, W, x)
    H = cfg.hidden
    h_prev = u.h[0, t - 2] if t > 1 else torch.zeros(H, dtype=torch.float64)
    c_prev = None
    if cfg.cell == "lstm":
        c_prev = u.c[0, t - 2] if t > 1 else torch.zeros(H, dtype=torch.float64)
    xt = x[0, t - 1]
    gx = W["W_ih"] @ xt + W["b_ih"]  # (G*H,)
    gh = W["W_hh"] @ h_prev + W["b_hh"]  # (G*H,)
    names = GATES[cfg.cell]
    Wx = {g: float(gx[k * H + j]) for k, g in enumerate(names)}
    Wh = {g: float(gh[k * H + j]) for k, g in enumerate(names)}
    act = {g: float(u.gates[g][0, t - 1, j]) for g in names}
    pre = {g: Wx[g] + Wh[g] for g in names}
    if cfg.cell == "gru":
        pre["n"] = Wx["n"] + act["r"] * Wh["n"]
    h_t = u.h[0, t - 1]
    y_hat = W["W_hy"] @ h_t + W["b_y"]
    return StepNumbers(
        cell=cfg.cell,
        t=t,
        j=j,
        x_t=tuple(float(v) for v in xt),
        h_prev=float(h_prev[j]),
        c_prev=None if c_prev is None else float(c_prev[j]),
        Wx=Wx,
        Wh=Wh,
        pre=pre,
        act=act,
        c=None if u.c is None else float(u.c[0, t - 1, j]),
        h=float(h_t[j]),
        h_vec=tuple(float(v) for v in h_t),
        y_hat=tuple(float(v) for v in y_hat),
    )


def example_states(res: RNNResult, example: int) -> Unrolled:
    """Hidden states and gates of the hand-written cell over one example, (1, T, H)."""
    with torch.no_grad():
        x = torch.from_numpy(res.example_x[example : example + 1]).double()
        return unroll(res.config.cell, _weights64(res), x)


def handwritten_vs_fused(res: RNNResult) -> float:
    """max |h_hand - h_torch| over the example sequences: the hand-written cell
    (float32 tensor ops) against the fused torch module with the same weights."""
    with torch.no_grad():
        model = model_from_state(res.config, res.state)
        x = torch.from_numpy(res.example_x)
        h_torch, _ = model.core(x)
        h_hand = unroll(res.config.cell, core_weights(model.core), x).h
        return float((h_torch - h_hand).abs().max())


def gru_convention_gap(res: RNNResult) -> float:
    """max |h_PyTorch - h_Cho| over the example sequences: PyTorch's GRU against Cho et al.'s
    (reset gate before the recurrent product) with the same trained weights. 0 for other
    cells."""
    if res.config.cell != "gru":
        return 0.0
    with torch.no_grad():
        x = torch.from_numpy(res.example_x).double()
        W = _weights64(res)
        return float((unroll("gru", W, x).h - unroll("gru", W, x, cho=True).h).abs().max())
