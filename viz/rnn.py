"""Figures, formulas and lesson texts for the recurrent-network page.

Colours mean one thing on the whole page: ``CELL_COLORS`` are the three cells (a model's
forecast, loss and gradient lines take its cell's colour), ``GATE_COLORS`` the gates, grey
the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dl_core import notation
from dl_core import sequences as seq
from dl_core.rnn import CELL_LABELS, GATES, GradientComparison, RNNResult, StepNumbers
from viz import style
from viz.latex import num, paren, plain, signed
from viz.style import PALETTE, base_layout

CELL_COLORS = {"rnn": PALETTE[3], "lstm": PALETTE[0], "gru": PALETTE[2]}  # vermillion, blue, green
# Gates: colours no cell uses (orange, pink, sky blue, black); the RNN's one "gate" is h.
GATE_COLORS = {"i": PALETTE[1], "f": PALETTE[4], "g": PALETTE[5], "o": PALETTE[7],
               "r": PALETTE[1], "u": PALETTE[4], "n": PALETTE[5], "h": PALETTE[7]}  # fmt: skip
INPUT_GREY, TRUTH_GREY = "#999999", "#444444"
GATE_NAMES = {
    "h": "h (hidden state)",
    "i": "i (input gate)",
    "f": "f (forget gate)",
    "g": "g (candidate)",
    "o": "o (output gate)",
    "r": "r (reset gate)",
    "u": "u (update gate)",
    "n": "n (candidate)",
}

# ---------------------------------------------------------------- texts and formulas

TITLE = "Recurrent networks: RNN, LSTM and GRU"
IDEA = (
    "A recurrent network reads a sequence one step at a time and carries a **hidden state** "
    "$h_t$, its memory of everything seen so far, with the same weights at every step. "
    "Unrolled over time it is a very deep network, so gradients must travel back through "
    "every step; the gates of the LSTM and the GRU let memory and gradient pass many steps."
)


def header_symbols() -> str:
    """The header's symbol caption, from the app's notation table."""
    return notation.caption(
        "t", "x", "h_t", "W_ih", "y_hat", "d_h",
        x="xₜ, the input at step t", y_hat="ŷₜ, the prediction at step t",
    )  # fmt: skip


BPTT_TEXT = (
    "Backpropagation through time multiplies the gradient by one Jacobian per step back. For "
    "the vanilla RNN each factor is $\\operatorname{diag}(1 - h_s^2)\\,W_{hh}$: if the norm of "
    "every factor is at most some $q < 1$, the signal from an input $k$ steps back shrinks at "
    "least like $q^k$, exponentially (*vanishing*); factors of norm above 1 make growth "
    "possible (*exploding*), though not certain. The LSTM's cell state is updated by "
    "*addition*, $c_s = f_s \\odot c_{s-1} + i_s \\odot g_s$: along it each factor is the "
    "forget gate $f_s$, which the network can hold near 1 (Hochreiter & Schmidhuber 1997; "
    "Gers et al. 2000)."
)
GTT_CAPTION = (
    "Mean over 64 test sequences of ‖∂L/∂xₜ₋ₖ‖, the gradient of the loss at the last scored "
    "step with respect to the input k steps earlier (autograd through the fused torch "
    "module). Dotted line: the k compared in the text."
)
CLIP_NOTE = (
    "Clipping rescales the whole gradient to norm at most the threshold whenever it is "
    "larger; truncated BPTT (sidebar) cuts the chain of Jacobians after a fixed number of "
    "steps, so an input further back than that gets no gradient at all."
)
HEADER = (
    r"h_t = \mathrm{cell}\big(x_t,\ h_{t-1};\ W_{ih}, W_{hh}\big),\qquad "
    r"\hat y_t = W_{hy}\, h_t + b_y"
)
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
        r"u_t = \sigma(W_{iu} x_t + b_{iu} + W_{hu} h_{t-1} + b_{hu})",
        r"n_t = \tanh\!\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big)",
        r"h_t = (1 - u_t) \odot n_t + u_t \odot h_{t-1}",
    ],
}
CELL_SYMBOLS = {  # caption keys of dl_core.notation under each cell's equations
    "rnn": ("x", "h_t", "W_ih"),
    "lstm": ("x", "h_t", "c_t", "gates", "candidate", "W_ih", "sigma_fn", "odot"),
    "gru": ("x", "h_t", "gru_gates", "candidate", "W_ih", "sigma_fn", "odot"),
}
# What PyTorch computes against the papers, under each cell's equations (markdown).
CONVENTIONS = {
    "rnn": "The tanh keeps every hₜ in (−1, 1). PyTorch's cells carry two biases, b_ih and "
    "b_hh, where the textbooks (Goodfellow et al., ch. 10) have one: only their sum matters.",
    "lstm": "This is the LSTM **with a forget gate** (Gers, Schmidhuber & Cummins 2000), as in "
    "PyTorch, without peephole connections. The original LSTM of Hochreiter & Schmidhuber "
    "(1997) had no forget gate, fₜ = 1: its cell state was a pure sum, the *constant error "
    "carousel*. Training starts with the forget-gate bias at 1 (so fₜ ≈ σ(1) ≈ 0.73: "
    "remember by default), as Gers et al. and Jozefowicz et al. (2015) advise.",
    "gru": "PyTorch's GRU is not quite the GRU of Cho et al. (2014). **The reset gate**: "
    "PyTorch (and cuDNN) apply it *after* the recurrent product, rₜ ⊙ (W_hn hₜ₋₁ + b_hn); "
    "Cho et al. apply it *before*, W_hn (rₜ ⊙ hₜ₋₁): two different functions (see Under "
    "the hood). **The update gate** is zₜ in Cho et al. and PyTorch; here it is uₜ, as in "
    "Goodfellow et al., because z is a latent code in this app. Its role is theirs: uₜ is "
    "the share of hₜ₋₁ kept. Some texts (Chung et al. 2014) swap the roles, "
    "hₜ = uₜ ⊙ nₜ + (1 − uₜ) ⊙ hₜ₋₁.",
}
# Backpropagation through time, the vanilla RNN's Jacobian chain (for the loss at step T).
BPTT = (
    r"\frac{\partial L_T}{\partial x_{T-k}} = \frac{\partial L_T}{\partial h_T}\,"
    r"\frac{\partial h_T}{\partial h_{T-1}} \cdots \frac{\partial h_{T-k+1}}{\partial h_{T-k}}\,"
    r"\frac{\partial h_{T-k}}{\partial x_{T-k}},\qquad "
    r"\frac{\partial h_s}{\partial h_{s-1}} = \operatorname{diag}(1 - h_s^2)\,W_{hh}"
    r"\ \ (\text{vanilla RNN})"
)

_ACT = {"h": r"\tanh", "i": r"\sigma", "f": r"\sigma", "g": r"\tanh", "o": r"\sigma"}
_ACT.update({"r": r"\sigma", "u": r"\sigma", "n": r"\tanh"})


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
            rf"h_{{{sub}}} = (1 - u)\,n + u\,h_{{{prev}}} = (1 - {num(a['u'])}) \cdot "
            rf"{paren(a['n'])} + {num(a['u'])} \cdot {paren(s.h_prev)} = {num(s.h)}"
        )
    return lines


def times(r: float) -> str:
    """A ratio for the text: 13.5, 1,301 or 3.3e15."""
    if r >= 1e5:
        return plain(r, 2)
    return f"{r:,.0f}" if r >= 100 else plain(r, 3)


def gradient_lesson(cmp: GradientComparison, task: str) -> str:
    """What the gradient chart shows at these settings, with its numbers: before training,
    does the LSTM carry more gradient k_long steps back than the vanilla RNN; after training,
    does it still (and why not, when not)."""
    k, r0, r1 = cmp.k_long, cmp.ratio_initial, cmp.ratio_trained
    if r0 is not None and np.isfinite(r0) and r0 > 1:
        text = (
            f"**Before training**, an input k = {k} steps back reaches the loss with "
            f"**{times(r0)}×** more gradient through the LSTM than through the vanilla RNN: "
            "that is the signal learning starts from."
        )
    else:
        text = (
            f"**Before training**, at these settings the LSTM does *not* carry more gradient "
            f"k = {k} steps back than the vanilla RNN (ratio {plain(r0 or float('nan'), 3)}): "
            "over so few steps the vanilla RNN's signal has not yet vanished."
        )
    if r1 is None or not np.isfinite(r1):
        return text + " Train all three cells (sidebar) to compare them after training too."
    f = "" if cmp.forget_mean is None else f" (its mean forget gate is f̄ = {plain(cmp.forget_mean, 3)})"  # fmt: skip
    if r1 > 1:
        return text + f" **After training** the LSTM still keeps {times(r1)}× more{f}."
    why = (
        "a one-step forecast of a smooth series needs only the last few values, so the LSTM "
        "has learned to forget"
        if task in ("sine", "noisy")
        else "the loss of a solved task, and every gradient of it, is small, and how small "
        "depends on how confidently each model answers"
    )
    return text + (
        f" **After training** the vanilla RNN keeps {times(1 / r1)}× more than the LSTM{f}. "
        "A trained model's gradient with respect to an input measures how much its loss still "
        f"depends on that input: here {why}. Gates make a long memory *possible*; whether "
        "training keeps one depends on the task."
    )


# ---------------------------------------------------------------- charts


def forecast(res: RNNResult, example: int) -> go.Figure:
    """Sine / noisy: the observed input, the true next values and the forecasts."""
    x = res.example_x[example, :, 0]
    y = res.example_y[example, :, 0]
    p = res.example_out[example, :, 0]
    t = np.arange(1, len(x) + 1)
    cell = res.config.cell
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=t, y=x, mode="markers", name="input xₜ", marker=dict(color=INPUT_GREY))
    )
    truth = "truth xₜ₊₁, noise-free" if res.config.task == "noisy" else "truth xₜ₊₁"
    fig.add_trace(go.Scatter(x=t + 1, y=y, mode="lines", name=truth, line=dict(color=TRUTH_GREY)))
    fig.add_trace(
        go.Scatter(
            x=t + 1, y=p, mode="lines+markers", name=f"{CELL_LABELS[cell]} forecast ŷₜ",
            line=dict(color=CELL_COLORS[cell], dash="dash"), marker=dict(size=5),
        )
    )  # fmt: skip
    return base_layout(
        fig, f"One-step forecasts on test window {example + 1}", "time step t", "value"
    )


def task_figure(res: RNNResult, example: int) -> go.Figure:
    """The chart of the task: forecasts, the recall at the cue, or next-symbol probabilities."""
    if res.config.task in ("sine", "noisy"):
        return forecast(res, example)
    if res.config.task == "memory":
        return memory_answer(res)
    return reber_next(res, example)


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
    n = len(s) - 1
    logits = res.example_out[example, :n]  # (n, 7)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    legal = [[c in seq.legal_next(s[: t + 1]) for c in seq.ALPHABET] for t in range(n)]
    text = [["✓" if ok else "" for ok in row] for row in np.array(legal).T]
    fig = go.Figure(
        go.Heatmap(
            z=p.T, x=[f"{t + 1}:{s[t]}" for t in range(n)], y=list(seq.ALPHABET), zmin=0, zmax=1,
            colorscale="Blues", text=text, texttemplate="%{text}", colorbar=dict(title="p"),
        )
    )  # fmt: skip
    return base_layout(
        fig, f"Next-symbol probabilities for “{s}” (✓ = legal)", "position: symbol read",
        "next symbol", height=340,
    )  # fmt: skip


def hidden_heatmap(h: np.ndarray, t_mark: int | None = None) -> go.Figure:
    """h (T, d_h): every hidden unit over time, on the signed scale (tanh keeps it in ±1)."""
    T, H = h.shape
    fig = go.Figure(
        go.Heatmap(
            z=h.T, x=np.arange(1, T + 1), y=np.arange(H), **style.signed_scale(1.0, "hₜ,ⱼ"),
            hovertemplate="t = %{x}, unit j = %{y}: h = %{z:.3f}<extra></extra>",
        )
    )  # fmt: skip
    if t_mark is not None:
        fig.add_vline(x=t_mark, line=dict(color="black", width=2, dash="dot"))
    title = (
        f"Hidden state over time ({style.POSITIVE_NAME} +, {style.NEGATIVE_NAME} −; "
        f"dotted: step {t_mark})"
        if t_mark is not None
        else "Hidden state over time"
    )
    return base_layout(fig, title, "time step t", "hidden unit j", height=340)


def gates(gate_values: Mapping[str, np.ndarray], j: int, cell: str) -> go.Figure:
    """Each gate of unit j over time (solid) and its mean over all units (dotted, same
    colour, one legend entry per gate). gate_values: symbol -> (T, d_h)."""
    fig = go.Figure()
    for g, v in gate_values.items():
        color = GATE_COLORS[g]
        t = np.arange(1, v.shape[0] + 1)
        fig.add_trace(
            go.Scatter(x=t, y=v[:, j], mode="lines", name=GATE_NAMES[g], legendgroup=g,
                       line=dict(color=color))
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=t, y=v.mean(1), mode="lines", name=f"{g}: mean of all units",
                       legendgroup=g, showlegend=False, line=dict(color=color, dash="dot", width=1))
        )  # fmt: skip
    what = "Hidden state" if cell == "rnn" else f"{CELL_LABELS[cell]} gates"
    base_layout(fig, f"{what} of unit {j} (dotted: mean of all units)", "time step t",
                "activation", height=380)  # fmt: skip
    fig.update_layout(legend=dict(orientation="v", y=0.5, yanchor="middle", x=1.02, xanchor="left"))
    return fig


def gradient_through_time(cmp: GradientComparison) -> go.Figure:
    """g_k = mean ‖∂L/∂x_{T−k}‖ against k, log scale: before training (left) and after
    (right), one colour per cell."""
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
        subplot_titles=("Before training (the initial weights)", "After training"),
    )  # fmt: skip
    for col, curves in ((1, cmp.initial), (2, cmp.trained)):
        for cell, g in curves.items():
            k = np.arange(len(g))
            ok = np.isfinite(g) & (g > 0)
            fig.add_trace(
                go.Scatter(
                    x=k[ok], y=g[ok], mode="lines+markers", name=CELL_LABELS[cell],
                    legendgroup=cell, showlegend=col == 1,
                    line=dict(color=CELL_COLORS[cell]), marker=dict(size=4),
                ),
                row=1, col=col,
            )  # fmt: skip
    base_layout(fig, "How much the loss feels an input k steps back", "", "‖∂L/∂xₜ₋ₖ‖ (log scale)",
                height=400)  # fmt: skip
    fig.update_layout(
        margin=dict(l=60, r=20, t=90, b=50),
        legend=dict(orientation="h", y=1.2, yanchor="bottom", x=1.0, xanchor="right"),
    )
    fig.update_xaxes(title_text="k (steps back from the scored step)")
    fig.update_yaxes(type="log", exponentformat="power")
    fig.add_vline(x=cmp.k_long, line=dict(color="#888888", dash="dot", width=1))
    return fig


def loss_curve(losses: Sequence[float], cell: str = "lstm", log: bool = True) -> go.Figure:
    """The training loss per step (also used live while training)."""
    y = np.asarray(losses, dtype=float)
    fig = go.Figure(
        go.Scatter(x=np.arange(1, len(y) + 1), y=y, mode="lines",
                   name=f"{CELL_LABELS[cell]} training loss", line=dict(color=CELL_COLORS[cell]))
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
    base_layout(fig, f"Test metric: {cfg.metric}", "step", cfg.metric, height=340)
    if not cfg.higher_is_better:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


def comparison_table(results: Sequence[RNNResult]) -> pd.DataFrame:
    """One row per cell: its parameters (weights and biases, readout included), the test
    metric it reached and its training time."""
    rows = []
    for r in results:
        n = sum(int(np.asarray(v).size) for v in r.state.values())
        metric = "diverged" if r.diverged_at else plain(r.final_metric, 3)
        rows.append((CELL_LABELS[r.config.cell], f"{n:,}", metric, f"{r.seconds:.2f} s"))
    return pd.DataFrame(
        rows, columns=["cell", "parameters", results[0].config.metric, "training time"]
    )


def grad_norms(res: RNNResult) -> go.Figure:
    """The global gradient norm before clipping, with the clipping threshold."""
    g = np.where(np.isfinite(res.grad_norm), res.grad_norm, np.nan)
    cell = res.config.cell
    fig = go.Figure(
        go.Scatter(x=np.arange(1, len(g) + 1), y=g, mode="lines",
                   name=f"{CELL_LABELS[cell]}: ‖∇L‖ before clipping",
                   line=dict(color=CELL_COLORS[cell]))
    )  # fmt: skip
    if res.config.clip > 0:
        fig.add_hline(
            y=res.config.clip, line=dict(color="black", dash="dash"),
            annotation_text=f"clip at {res.config.clip:g}",
        )  # fmt: skip
    base_layout(fig, "Gradient norm per training step", "step", "‖∇L‖ (log scale)", height=320)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"


def unrolled(cell: str, T: int = 4) -> go.Figure:
    """The network unrolled over T steps: one copy of the cell per step, x_t in from
    below, ŷ_t out on top, h_{t-1} -> h_t (and the LSTM's c_{t-1} -> c_t) to the right.
    Every copy has the same weights. The labels are one text trace, each clear of the
    arrows (above its arrow's shaft, never on a head)."""
    fig = go.Figure()
    color = CELL_COLORS[cell]
    name = {"rnn": "tanh", "lstm": "LSTM", "gru": "GRU"}[cell]
    top = 1.1 if cell == "lstm" else 0.5  # the top of a cell's box
    lanes = [("h", 0.15)] + ([("c", 0.8)] if cell == "lstm" else [])
    lx, ly, lt = [], [], []  # the labels' positions and texts

    def arrow(x0, y0, x1, y1):
        fig.add_annotation(
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
            showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=1.5, arrowcolor="#444",
        )  # fmt: skip

    def label(x, y, text):
        lx.append(x)
        ly.append(y)
        lt.append(text)

    for t in range(1, T + 1):
        x = 2.0 * t
        fig.add_shape(
            type="rect", x0=x - 0.6, x1=x + 0.6, y0=-0.2, y1=top,
            line=dict(color=color, width=2), fillcolor=color, opacity=0.18, layer="below",
        )  # fmt: skip
        fig.add_annotation(x=x, y=(top - 0.2) / 2, text=f"<b>{name}</b>", showarrow=False,
                           font=dict(size=14, color=color))  # fmt: skip
        arrow(x, -1.0, x, -0.2)
        label(x, -1.25, f"x{_SUBSCRIPTS[t]}")
        arrow(x, top, x, top + 0.8)
        label(x, top + 1.05, f"ŷ{_SUBSCRIPTS[t]}")
        for lane, y in lanes:
            arrow(x - 1.4, y, x - 0.6, y)
            label(x - 1.05, y + 0.27, f"{lane}{_SUBSCRIPTS[t - 1]}")  # over the shaft's tail
    for lane, y in lanes:
        arrow(2.0 * T + 0.6, y, 2.0 * T + 1.3, y)
        label(2.0 * T + 0.9, y + 0.27, f"{lane}{_SUBSCRIPTS[T]}")
        label(2.0 * T + 1.65, y, "…")  # past the arrowhead
    fig.add_trace(
        go.Scatter(x=lx, y=ly, text=lt, mode="text", textfont=dict(size=15), hoverinfo="skip",
                   name="states", showlegend=False)
    )  # fmt: skip
    fig.add_annotation(
        x=T + 1.0, y=-1.75, showarrow=False, font=dict(size=12, color="#555"),
        text=style.sub("the same weights W_ih, W_hh, b at every step; backpropagation runs "
                       "right to left"),
    )  # fmt: skip
    fig.update_xaxes(visible=False, range=[0.3, 2.0 * T + 2.0])
    fig.update_yaxes(visible=False, range=[-2.0, top + 1.35])
    fig.update_layout(
        title=dict(text=f"The {CELL_LABELS[cell]} unrolled over time", x=0, font=dict(size=15)),
        height=280 if cell == "lstm" else 250, margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
    )  # fmt: skip
    return fig
