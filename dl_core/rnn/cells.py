"""The hand-written cells (tensor ops), checked against nn.RNN / nn.LSTM / nn.GRU, and unroll.

In PyTorch's layout of the weights (stacked gates; two biases b_ih, b_hh), per time step:

* vanilla RNN:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
* LSTM (i, f, g, o):  i, f, o = sigma(.), g = tanh(.),
  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)
* GRU (r, u, n):  r, u = sigma(.),  n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),
  h_t = (1 - u) * n + u * h_{t-1}   (PyTorch's convention; ``gru_cell_cho``: Cho et al.'s,
  n = tanh(W_in x_t + b_in + W_hn (r * h_{t-1}) + b_hn))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dl_core.rnn.config import GATES


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """x (B, D), h (B, H), W_ih (H, D), W_hh (H, H), b (H,) -> h_t (B, H) and
    the intermediate terms by symbol."""
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, H) pre-activation
    h_new = torch.tanh(a)
    return h_new, {"a": a, "h": h_new}


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """x (B, D), h, c (B, H), W_ih (4H, D), W_hh (4H, H), b (4H,) stacked i, f, g, o.

    Returns h_t, c_t (B, H) and the gates by symbol."""
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, 4H)
    zi, zf, zg, zo = z.chunk(4, dim=-1)  # (B, H) each
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """x (B, D), h (B, H), W_ih (3H, D), W_hh (3H, H), b (3H,) stacked r, u, n.

    PyTorch's convention: r multiplies (W_hn h + b_hn), bias included. The update gate u
    is PyTorch's z (z is a latent code in this app)."""
    gi = x @ W_ih.T + b_ih  # (B, 3H)
    gh = h @ W_hh.T + b_hh  # (B, 3H)
    ir, iu, i_n = gi.chunk(3, dim=-1)
    hr, hu, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(ir + hr)  # reset gate
    u = torch.sigmoid(iu + hu)  # update gate: the share of h_{t-1} kept
    n = torch.tanh(i_n + r * h_n)  # candidate
    h_new = (1 - u) * n + u * h
    return h_new, {"r": r, "u": u, "n": n, "h": h_new}


def gru_cell_cho(x, h, W_ih, W_hh, b_ih, b_hh):
    """The GRU of Cho et al. 2014 (section 2.3) on PyTorch's weights: the reset gate acts on
    h_{t-1} *before* the recurrent product, n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
    Not what nn.GRU computes (it applies r after the product); shown to measure the gap."""
    H = h.shape[-1]
    gi = x @ W_ih.T + b_ih  # (B, 3H)
    gh = h @ W_hh[: 2 * H].T + b_hh[: 2 * H]  # (B, 2H): the gates' recurrent parts
    ir, iu, i_n = gi.chunk(3, dim=-1)
    hr, hu = gh.chunk(2, dim=-1)
    r = torch.sigmoid(ir + hr)
    u = torch.sigmoid(iu + hu)
    n = torch.tanh(i_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])
    h_new = (1 - u) * n + u * h
    return h_new, {"r": r, "u": u, "n": n, "h": h_new}


@dataclass(frozen=True)
class Unrolled:
    h: torch.Tensor  # (B, T, H) hidden states h_1..h_T
    c: torch.Tensor | None  # (B, T, H) LSTM cell states, else None
    gates: dict[str, torch.Tensor]  # gate symbol -> (B, T, H)


def unroll(cell: str, W: dict[str, torch.Tensor], x: torch.Tensor, cho: bool = False) -> Unrolled:
    """Run the hand-written ``cell`` over x (B, T, D) from h_0 = c_0 = 0.

    ``W`` holds W_ih, W_hh, b_ih, b_hh in PyTorch's layout. ``cho``: the GRU of Cho et al.
    (reset before the product) instead of PyTorch's."""
    B, T, _ = x.shape
    H = W["W_hh"].shape[1]
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    hs, cs, gates = [], [], {g: [] for g in GATES[cell]}
    args = (W["W_ih"], W["W_hh"], W["b_ih"], W["b_hh"])
    for t in range(T):
        if cell == "rnn":
            h, terms = rnn_cell(x[:, t], h, *args)
        elif cell == "lstm":
            h, c, terms = lstm_cell(x[:, t], h, c, *args)
            cs.append(c)
        else:
            h, terms = (gru_cell_cho if cho else gru_cell)(x[:, t], h, *args)
        hs.append(h)
        for g in gates:
            gates[g].append(terms[g])
    return Unrolled(
        h=torch.stack(hs, 1),
        c=torch.stack(cs, 1) if cs else None,
        gates={g: torch.stack(v, 1) for g, v in gates.items()},
    )
