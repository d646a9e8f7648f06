"""Figures and formulas for the recurrent-network page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from dl_core import sequences as seq
from dl_core.rnn import CELL_LABELS, GATES, RNNResult, StepNumbers
from viz.latex import num, paren, signed
from viz.style import PALETTE, base_layout

CELL_COLORS = {"rnn": PALETTE[3], "lstm": PALETTE[0], "gru": PALETTE[2]}
GATE_NAMES = {
    "h": "h (hidden state)",
    "i": "i (input gate)",
    "f": "f (forget gate)",
    "g": "g (candidate)",
    "o": "o (output gate)",
    "r": "r (reset gate)",
    "z": "z (update gate)",
    "n": "n (candidate)",
}

# ---------------------------------------------------------------- formulas

EQUATIONS = {
    "rnn": [r"h_t = \tanh\!\big(W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh}\big)"],
    "lstm": [
        r"i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}),\quad "
        r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})",
        r"g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}),\quad "
        r"o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t,\qquad h_t = o_t \odot \tanh(c_t)",
    ],
    "gru": [
        r"r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}),\quad "
        r"z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})",
        r"n_t = \tanh\!\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big)",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    ],
}
READOUT = r"\hat y_t = W_{hy}\, h_t + b_y"
_COMMON = (
    "xₜ: the input at step t; hₜ: the hidden state (H numbers); σ: the logistic sigmoid; "
    "⊙: element-wise product; W_i·, b_i·: input weights and biases; W_h·, b_h·: "
    "recurrent weights and biases (the same at every step); "
)
SYMBOLS = {  # the legend under each cell's equations
    "rnn": _COMMON + "the tanh keeps hₜ in (−1, 1).",
    "lstm": _COMMON + "i, f, o: input, forget and output gates in (0, 1); g: the candidate; "
    "cₜ: the cell state, a memory lane updated by addition.",
    "gru": _COMMON
    + "r: the reset gate; z: the update gate (how much of hₜ₋₁ to keep); n: the candidate.",
}

_ACT = {"h": r"\tanh", "i": r"\sigma", "f": r"\sigma", "g": r"\tanh", "o": r"\sigma"}
_ACT.update({"r": r"\sigma", "z": r"\sigma", "n": r"\tanh"})


def step_with_numbers(s: StepNumbers) -> list[str]:
    """One time step of unit j written out with the trained model's numbers.

    Each pre-activation is split into its input part (W_i x_t + b_i)_j and its
    recurrent part (W_h h_{t-1} + b_h)_j."""
    t, j = s.t, s.j
    sub = rf"{t},{j}"
    prev = rf"{t - 1},{j}"
    lines = []
    for g in GATES[s.cell]:
        sym = "h" if s.cell == "rnn" else g
        wx, wh = num(s.Wx[g]), signed(s.Wh[g])
        if s.cell == "gru" and g == "n":
            inner = rf"{wx} + {paren(s.act['r'])} \cdot ({num(s.Wh[g])})"
        else:
            inner = rf"{wx} {wh}"
        lines.append(
            rf"{sym}_{{{sub}}} = {_ACT[g]}\big({inner}\big) = {_ACT[g]}({num(s.pre[g])}) "
            rf"= {num(s.act[g])}"
        )
    if s.cell == "lstm":
        a = s.act
        lines.append(
            rf"c_{{{sub}}} = f\,c_{{{prev}}} + i\,g = {num(a['f'])} \cdot {paren(s.c_prev)} "
            rf"+ {num(a['i'])} \cdot {paren(a['g'])} = {num(s.c)}"
        )
        lines.append(
            rf"h_{{{sub}}} = o \tanh(c_{{{sub}}}) = {num(a['o'])} \cdot \tanh({num(s.c)}) "
            rf"= {num(s.h)}"
        )
    elif s.cell == "gru":
        a = s.act
        lines.append(
            rf"h_{{{sub}}} = (1 - z)\,n + z\,h_{{{prev}}} = (1 - {num(a['z'])}) \cdot "
            rf"{paren(a['n'])} + {num(a['z'])} \cdot {paren(s.h_prev)} = {num(s.h)}"
        )
    return lines


# ---------------------------------------------------------------- charts


def forecast(res: RNNResult, example: int) -> go.Figure:
    """Sine / noisy: the observed input, the true next values and the forecasts."""
    x = res.example_x[example, :, 0]
    y = res.example_y[example, :, 0]
    p = res.example_out[example, :, 0]
    t = np.arange(1, len(x) + 1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=x, mode="markers", name="input xₜ", marker=dict(color="#999")))
    fig.add_trace(
        go.Scatter(x=t + 1, y=y, mode="lines", name="truth xₜ₊₁", line=dict(color=PALETTE[0]))
    )
    fig.add_trace(
        go.Scatter(
            x=t + 1, y=p, mode="lines+markers", name="forecast ŷₜ",
            line=dict(color=PALETTE[3], dash="dash"), marker=dict(size=5),
        )
    )  # fmt: skip
    return base_layout(fig, "One-step forecasts on a test window", "time step t", "value")


def memory_answer(res: RNNResult) -> go.Figure:
    """Memory: the probabilities the model gives each symbol at the recall cue,
    for the example sequences (rows), with the true symbol marked."""
    logits = res.example_out[:, -1]  # (S, 4)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    truth = res.example_x[:, 0, : seq.N_SYMBOLS].argmax(1)
    rows = [f"seq {i + 1}: shown {seq.SYMBOL_NAMES[c]}" for i, c in enumerate(truth)]
    fig = go.Figure(
        go.Heatmap(
            z=p, x=list(seq.SYMBOL_NAMES), y=rows, zmin=0, zmax=1, colorscale="Blues",
            text=np.round(p, 2), texttemplate="%{text}", colorbar=dict(title="p"),
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    return base_layout(
        fig, "Recall after the gap: P(symbol) at the cue", "answer", "test sequence", height=360
    )


def reber_next(res: RNNResult, example: int) -> go.Figure:
    """Reber: predicted next-symbol probabilities at every position of a test
    string; ✓ marks the symbols the grammar allows."""
    s = res.example_strings[example]
    L = len(s) - 1
    logits = res.example_out[example, :L]  # (L, 7)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    legal = [[c in seq.legal_next(s[: t + 1]) for c in seq.ALPHABET] for t in range(L)]
    text = [["✓" if ok else "" for ok in row] for row in np.array(legal).T]
    fig = go.Figure(
        go.Heatmap(
            z=p.T, x=[f"{t + 1}:{s[t]}" for t in range(L)], y=list(seq.ALPHABET), zmin=0, zmax=1,
            colorscale="Blues", text=text, texttemplate="%{text}", colorbar=dict(title="p"),
        )
    )  # fmt: skip
    return base_layout(
        fig, f"Next-symbol probabilities for “{s}” (✓ = legal)", "position: symbol read",
        "next symbol", height=340,
    )  # fmt: skip


def hidden_heatmap(h: np.ndarray, t_mark: int | None = None) -> go.Figure:
    """h (T, H): every hidden unit over time."""
    T, H = h.shape
    fig = go.Figure(
        go.Heatmap(
            z=h.T, x=np.arange(1, T + 1), y=np.arange(H), zmin=-1, zmax=1,
            colorscale="RdBu", reversescale=True, colorbar=dict(title="hₜ"),
        )
    )  # fmt: skip
    if t_mark is not None:
        fig.add_vline(x=t_mark, line=dict(color="black", width=2, dash="dot"))
    return base_layout(fig, "Hidden state over time", "time step t", "hidden unit j", height=340)


def gates(gate_values: Mapping[str, np.ndarray], j: int, cell: str) -> go.Figure:
    """Each gate of unit j over time (solid) and its mean over all units (dotted).
    gate_values: symbol -> (T, H)."""
    fig = go.Figure()
    for k, (g, v) in enumerate(gate_values.items()):
        color = PALETTE[k % len(PALETTE)]
        t = np.arange(1, v.shape[0] + 1)
        fig.add_trace(
            go.Scatter(x=t, y=v[:, j], mode="lines", name=f"{GATE_NAMES[g]}, unit {j}",
                       line=dict(color=color))
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=t, y=v.mean(1), mode="lines", name=f"{g}: mean of all units",
                       line=dict(color=color, dash="dot", width=1))
        )  # fmt: skip
    title = "Hidden state of unit j" if cell == "rnn" else f"{CELL_LABELS[cell]} gates over time"
    base_layout(fig, title, "time step t", "activation", height=380)
    fig.update_layout(legend=dict(orientation="v", y=0.5, yanchor="middle", x=1.02, xanchor="left"))
    return fig


def gradient_through_time(curves: Mapping[str, np.ndarray]) -> go.Figure:
    """cell -> g_k = ||∂L/∂x_{T−k}||, k = 0..T−1, on a log scale."""
    fig = go.Figure()
    for cell, g in curves.items():
        k = np.arange(len(g))
        ok = np.isfinite(g) & (g > 0)
        fig.add_trace(
            go.Scatter(x=k[ok], y=g[ok], mode="lines+markers", name=CELL_LABELS[cell],
                       line=dict(color=CELL_COLORS[cell]), marker=dict(size=4))
        )  # fmt: skip
    base_layout(
        fig, "How much the loss feels an input k steps back", "k (steps back from the scored step)",
        "‖∂L/∂xₜ₋ₖ‖ (log scale)",
    )  # fmt: skip
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def loss_curve(losses: Sequence[float], log: bool = True) -> go.Figure:
    """The training loss per step (also used live while training)."""
    y = np.asarray(losses, dtype=float)
    fig = go.Figure(
        go.Scatter(x=np.arange(1, len(y) + 1), y=y, mode="lines", name="training loss",
                   line=dict(color=PALETTE[0]))
    )  # fmt: skip
    base_layout(fig, "Training loss", "step", "loss (log scale)" if log else "loss", height=320)
    if log:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def metric_curve(results: Sequence[RNNResult]) -> go.Figure:
    """The test metric during training for one or more runs."""
    fig = go.Figure()
    for r in results:
        fig.add_trace(
            go.Scatter(x=r.eval_steps, y=r.eval_metric, mode="lines+markers",
                       name=CELL_LABELS[r.config.cell], line=dict(color=CELL_COLORS[r.config.cell]))
        )  # fmt: skip
    cfg = results[0].config
    if all(len(r.eval_steps) == 0 for r in results):
        fig.add_annotation(text="diverged before the first test measurement", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)  # fmt: skip
    base_layout(fig, f"Test metric: {cfg.metric}", "step", cfg.metric, height=320)
    if not cfg.higher_is_better:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def grad_norms(res: RNNResult) -> go.Figure:
    """The global gradient norm before clipping, with the clipping threshold."""
    g = np.where(np.isfinite(res.grad_norm), res.grad_norm, np.nan)
    fig = go.Figure(
        go.Scatter(x=np.arange(1, len(g) + 1), y=g, mode="lines", name="‖∇L‖ before clipping",
                   line=dict(color=PALETTE[3]))
    )  # fmt: skip
    if res.config.clip > 0:
        fig.add_hline(
            y=res.config.clip, line=dict(color="black", dash="dash"),
            annotation_text=f"clip at {res.config.clip:g}",
        )  # fmt: skip
    base_layout(fig, "Gradient norm per step", "step", "‖∇L‖ (log scale)", height=320)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def unrolled(cell: str, T: int = 4) -> go.Figure:
    """The network unrolled over T steps: one copy of the cell per step, x_t in from
    below, ŷ_t out on top, h_{t-1} -> h_t (and the LSTM's c_{t-1} -> c_t) to the right.
    Every copy has the same weights."""
    fig = go.Figure()
    color = CELL_COLORS[cell]
    name = {"rnn": "tanh", "lstm": "LSTM", "gru": "GRU"}[cell]
    sub = "₀₁₂₃₄₅₆₇₈₉"

    def arrow(x0, y0, x1, y1, text="", dx=0.0, dy=0.0):
        fig.add_annotation(
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
            showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.5, arrowcolor="#444",
        )  # fmt: skip
        if text:
            fig.add_annotation(
                x=(x0 + x1) / 2 + dx, y=(y0 + y1) / 2 + dy, text=text, showarrow=False,
                font=dict(size=14),
            )  # fmt: skip

    lanes = [("h", 0.15)] + ([("c", 0.75)] if cell == "lstm" else [])
    for t in range(1, T + 1):
        x = 2.0 * t
        fig.add_shape(
            type="rect", x0=x - 0.6, x1=x + 0.6, y0=-0.2, y1=1.0 if cell == "lstm" else 0.5,
            line=dict(color=color, width=2), fillcolor=color, opacity=0.18, layer="below",
        )  # fmt: skip
        fig.add_annotation(x=x, y=0.5 if cell == "lstm" else 0.3, text=f"<b>{name}</b>",
                           showarrow=False, font=dict(size=14, color=color))  # fmt: skip
        arrow(x, -1.0, x, -0.2)
        fig.add_annotation(x=x, y=-1.2, text=f"x{sub[t]}", showarrow=False, font=dict(size=15))
        top = 1.0 if cell == "lstm" else 0.5
        arrow(x, top, x, top + 0.8)
        fig.add_annotation(x=x, y=top + 1.0, text=f"ŷ{sub[t]}", showarrow=False,
                           font=dict(size=15))  # fmt: skip
        for lane, y in lanes:
            arrow(x - 1.4, y, x - 0.6, y, f"{lane}{sub[t - 1]}", dy=0.15)
    for lane, y in lanes:
        arrow(2.0 * T + 0.6, y, 2.0 * T + 1.4, y, f"{lane}{sub[T]} …", dx=0.3, dy=0.15)
    fig.add_annotation(
        x=T + 1.0, y=-1.65, showarrow=False, font=dict(size=12, color="#555"),
        text="the same weights W_ih, W_hh, b at every step; backpropagation runs right to left",
    )  # fmt: skip
    fig.update_xaxes(visible=False, range=[0.2, 2.0 * T + 2.0])
    fig.update_yaxes(visible=False, range=[-1.9, (2.2 if cell == "lstm" else 1.7)])
    fig.update_layout(
        title=dict(text=f"The {CELL_LABELS[cell]} unrolled over time", x=0, font=dict(size=15)),
        height=260, margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
    )  # fmt: skip
    return fig
