"""Figures and formulas for the backpropagation page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dl_core.backprop import (
    ACTIVATION_LABELS,
    GOOD_REL_ERROR,
    INIT_LABELS,
    SATURATION,
    ActivationCurve,
    DeepConfig,
    DeepResult,
    GradCheck,
    LossStep,
    Walkthrough,
    backward_factor,
    check_threshold,
    gradient_ratio,
    init_std,
    measured_factor,
)
from viz import latex
from viz.style import NEGATIVE, NEGATIVE_NAME, PALETTE, POSITIVE, POSITIVE_NAME, base_layout

POS, NEG = POSITIVE, NEGATIVE  # positive / negative weights: the rulebook's sign colours
GRAD, GRAD_NAME = "#6A3D9A", "purple"  # the gradients in the graph: neither sign colour
DIGITS = 3  # significant digits of every number on the page: one formatter (issue 18)
COLOURS_NOTE = (
    f"edges are weights ({POSITIVE_NAME} positive, {NEGATIVE_NAME} negative, thickness ~ |w|); "
    f"{GRAD_NAME}: the gradient"
)


def num(x: float, digits: int = DIGITS) -> str:
    return latex.num(x, digits)


def vec(v: Sequence[float]) -> str:
    return latex.vec(v, DIGITS)


def mat(M) -> str:
    return latex.mat(M, DIGITS)


def paren(x: float) -> str:
    return latex.paren(x, DIGITS)


def _fmt(x: float) -> str:
    """A number for chart labels: the same digits as in the formulas (Unicode minus)."""
    return latex.plain(x, DIGITS).replace("-", "−")


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _sup(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# ---------------------------------------------------------------- the computational graph


def graph(w: Walkthrough) -> go.Figure:
    """The network as a graph: each node shows its forward value and its gradient
    (δ = ∂L/∂a for a unit), each edge its weight (width ~ |w|, colour its sign)."""
    sizes = [len(w.x)] + [len(lay.a) for lay in w.layers]
    n_layers = len(sizes)

    def pos(layer: int, i: int) -> tuple[float, float]:
        n = sizes[layer]
        return float(layer), (n - 1) / 2 - i

    # traces and annotations as lists, validated once by go.Figure: one add_annotation at a
    # time re-validates every earlier annotation (a 2-3-2-1 graph took about 0.1 s)
    traces, notes = [], []
    wmax = max(float(np.nanmax(np.abs(lay.W))) for lay in w.layers) or 1.0
    ex, ey, etext = [], [], []
    for lay in w.layers:
        n_out, n_in = lay.W.shape
        for i in range(n_out):
            for j in range(n_in):
                (x0, y0), (x1, y1) = pos(lay.layer - 1, j), pos(lay.layer, i)
                wij = float(lay.W[i, j])
                width = 1 + 6 * min(abs(wij) / wmax, 1.0) if np.isfinite(wij) else 1
                traces.append(
                    go.Scatter(
                        x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="skip", showlegend=False,
                        line=dict(color=POS if wij >= 0 else NEG, width=width), opacity=0.55,
                    )
                )  # fmt: skip
                t = 0.36 + 0.24 * (i / max(n_out - 1, 1))  # stagger labels of one fan
                ex.append(x0 + t * (x1 - x0))
                ey.append(y0 + t * (y1 - y0))
                etext.append(
                    f"W⁽{_sup(lay.layer)}⁾{_sub(i + 1)}{_sub(j + 1)} = {_fmt(wij)}<br>"
                    f"∂L/∂w = {_fmt(lay.dL_dW[i, j])}"
                )
                notes.append(dict(
                    x=ex[-1], y=ey[-1], text=_fmt(wij), showarrow=False, font=dict(size=10),
                    bgcolor="rgba(255,255,255,0.85)",
                ))  # fmt: skip
    traces.append(
        go.Scatter(
            x=ex, y=ey, mode="markers", marker=dict(size=16, opacity=0), hovertext=etext,
            hoverinfo="text", showlegend=False,
        )
    )  # fmt: skip
    # nodes: inputs, hidden / output units, and the loss
    nx, ny, hover = [], [], []
    for j, xj in enumerate(w.x):
        x0, y0 = pos(0, j)
        nx.append(x0)
        ny.append(y0)
        hover.append(f"input x{_sub(j + 1)} = {_fmt(xj)}<br>∂L/∂x = {_fmt(w.dL_dx[j])}")
        _box(notes, x0, y0, f"x{_sub(j + 1)} = {_fmt(xj)}", f"∂L/∂x = {_fmt(w.dL_dx[j])}")
    last = w.layers[-1].layer
    for lay in w.layers:
        for i in range(len(lay.a)):
            x0, y0 = pos(lay.layer, i)
            nx.append(x0)
            ny.append(y0)
            name = f"a{_sub(i + 1)}" if lay.layer == last else f"h{_sub(i + 1)}"
            val = lay.a[i] if lay.layer == last else lay.h[i]
            hover.append(
                f"layer {lay.layer}, unit {i + 1}<br>a = {_fmt(lay.a[i])}<br>h = {_fmt(lay.h[i])}"
                f"<br>∂L/∂h = {_fmt(lay.dL_dh[i])}<br>φ′(a) = {_fmt(lay.dh_da[i])}"
                f"<br>δ = ∂L/∂a = {_fmt(lay.delta[i])}<br>b = {_fmt(lay.b[i])}"
            )
            _box(notes, x0, y0, f"{name} = {_fmt(val)}", f"δ = {_fmt(lay.delta[i])}")
    lx = n_layers - 1 + 0.8
    for i in range(sizes[-1]):  # the logits feed the loss
        x0, y0 = pos(n_layers - 1, i)
        traces.append(
            go.Scatter(x=[x0, lx], y=[y0, 0], mode="lines", hoverinfo="skip", showlegend=False,
                       line=dict(color="#888", width=1, dash="dot"))
        )  # fmt: skip
    nx.append(lx)
    ny.append(0.0)
    hover.append(f"loss L = {_fmt(w.L)}<br>prediction ŷ = {', '.join(_fmt(v) for v in w.y_hat)}")
    _box(notes, lx, 0.0, f"L = {_fmt(w.L)}", "∂L/∂L = 1")
    traces.append(
        go.Scatter(x=nx, y=ny, mode="markers", marker=dict(size=44, opacity=0), hovertext=hover,
                   hoverinfo="text", showlegend=False)
    )  # fmt: skip
    top = (max(sizes) - 1) / 2 + 0.7
    for layer in range(n_layers):
        label = (
            "input" if layer == 0 else ("logits" if layer == n_layers - 1 else f"hidden {layer}")
        )
        notes.append(dict(x=layer, y=top, text=f"<b>{label}</b>", showarrow=False))
    notes.append(dict(x=lx, y=top, text="<b>loss</b>", showarrow=False))
    fig = go.Figure(data=traces, layout=dict(annotations=notes))
    title = f"Computational graph: each node's value (top) and gradient (bottom, {GRAD_NAME})"
    base_layout(fig, title, "", "", height=300 + 45 * max(sizes))
    fig.update_xaxes(visible=False, range=[-0.5, lx + 0.5])
    fig.update_yaxes(visible=False, range=[-top, top + 0.2])
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10), hoverlabel=dict(align="left"))
    return fig


def _box(notes: list[dict], x: float, y: float, value: str, grad: str) -> None:
    notes.append(dict(
        x=x, y=y, showarrow=False, align="center", bgcolor="white", bordercolor="#444",
        borderwidth=1.5, borderpad=5, font=dict(size=12),
        text=f"{value}<br><span style='color:{GRAD}'>{grad}</span>",
    ))  # fmt: skip


# ---------------------------------------------------------------- LaTeX with the numbers


def _row(v: Sequence[float]) -> str:
    return r"\begin{pmatrix}" + " & ".join(num(x) for x in v) + r"\end{pmatrix}"


F_TEX = {  # the activation's name in a formula
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{ReLU}",
    "leaky_relu": r"\mathrm{LeakyReLU}",
    "gelu": r"\mathrm{GELU}",
    "softplus": r"\mathrm{softplus}",
}
# The page's key formula: the forward pass of layer l, then the backward pass through it.
KEY_FORMULA = (
    r"a^{(l)} = W^{(l)} h^{(l-1)} + b^{(l)},\quad h^{(l)} = \varphi(a^{(l)})"
    r"\qquad\Longrightarrow\qquad"
    r"\delta^{(l)} = \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot \varphi'(a^{(l)}),\quad"
    r"\frac{\partial L}{\partial W^{(l)}} = \delta^{(l)}\, h^{(l-1)\top}"
)


def _h(k: int) -> str:
    """h^(k) in LaTeX, with h^(0) written x."""
    return "x" if k == 0 else rf"h^{{({k})}}"


def forward_latex(w: Walkthrough) -> list[str]:
    """a^(l) = W^(l) h^(l-1) + b^(l) and h^(l) = phi(a^(l)) with the numbers, per layer."""
    out = []
    for lay in w.layers:
        k = lay.layer
        out.append(
            rf"a^{{({k})}} = W^{{({k})}} {_h(k - 1)} + b^{{({k})}} = {mat(lay.W)} {vec(lay.h_prev)}"
            rf" + {vec(lay.b)} = {vec(lay.a)}"
        )
        if k < len(w.layers):  # its own line: beside a 3-wide W it would not fit the column
            fz = F_TEX[w.config.activation]
            out.append(rf"h^{{({k})}} = \varphi(a^{{({k})}}) = {fz}{vec(lay.a)} = {vec(lay.h)}")
    return out


def loss_latex(w: Walkthrough) -> str:
    loss, n = w.config.loss, len(w.layers)
    if loss == "mse":
        return rf"\hat y = a^{{({n})}} = {num(w.y_hat[0])},\ y = {num(w.y[0])}:\quad L = (\hat y - y)^2 = {num(w.L)}"
    if loss == "bce":
        return rf"\hat y = \sigma(a^{{({n})}}) = {num(w.y_hat[0])},\ y = {num(w.y[0])}:\quad L = -[y \log \hat y + (1-y)\log(1-\hat y)] = {num(w.L)}"
    return rf"\hat y = \mathrm{{softmax}}(a^{{({n})}}) = {vec(w.y_hat)},\ y = {vec(w.y)}:\quad L = -\sum_k y_k \log \hat y_k = {num(w.L)}"


def backward_latex(w: Walkthrough, layer: int) -> list[str]:
    """The backward step through layer ``layer`` (1-based), symbolic = numbers."""
    lay = w.layers[layer - 1]
    k, n = lay.layer, len(w.layers)
    d = rf"\delta^{{({k})}}"
    lines = []
    if k == n:
        head = {"mse": r"2(\hat y - y)", "bce": r"\hat y - y", "softmax_ce": r"\hat y - y"}
        lines.append(
            rf"{d} = \frac{{\partial L}}{{\partial a^{{({k})}}}} = {head[w.config.loss]} = {vec(lay.delta)}"
        )
    else:
        above = w.layers[k]
        lines.append(
            rf"\frac{{\partial L}}{{\partial h^{{({k})}}}} = W^{{({k + 1})\top}}"
            rf"\delta^{{({k + 1})}} = {mat(above.W.T)} {vec(above.delta)} = {vec(lay.dL_dh)}"
        )
        lines.append(
            rf"{d} = \frac{{\partial L}}{{\partial h^{{({k})}}}}"
            rf"\odot \varphi'(a^{{({k})}}) = {vec(lay.dL_dh)} \odot {vec(lay.dh_da)} = {vec(lay.delta)}"
        )
    lines.append(
        rf"\frac{{\partial L}}{{\partial W^{{({k})}}}} = {d}"
        rf"\,{{{_h(k - 1)}}}^{{\top}} = {vec(lay.delta)} {_row(lay.h_prev)} = {mat(lay.dL_dW)}"
    )
    lines.append(rf"\frac{{\partial L}}{{\partial b^{{({k})}}}} = {d} = {vec(lay.dL_db)}")
    return lines


def scalar_chain_latex(w: Walkthrough, layer: int, i: int, j: int) -> str:
    """One weight's gradient as a product of chain-rule factors (0-based i, j)."""
    lay = w.layers[layer - 1]
    src = rf"x_{{{j + 1}}}" if layer == 1 else rf"h^{{({layer - 1})}}_{{{j + 1}}}"
    sym = rf"W^{{({layer})}}_{{{i + 1}{j + 1}}}"
    h, a = rf"h^{{({layer})}}_{{{i + 1}}}", rf"a^{{({layer})}}_{{{i + 1}}}"
    return (
        rf"\frac{{\partial L}}{{\partial {sym}}} = \underbrace{{\frac{{\partial L}}{{\partial {h}}}}}_{{{num(lay.dL_dh[i])}}}"
        rf"\cdot \underbrace{{\frac{{\partial {h}}}{{\partial {a}}}}}_{{{num(lay.dh_da[i])}}}"
        rf"\cdot \underbrace{{\frac{{\partial {a}}}{{\partial {sym}}}}}_{{{src} \,=\, {num(lay.h_prev[j])}}}"
        rf" = {paren(lay.dL_dh[i])} \cdot {paren(lay.dh_da[i])} \cdot {paren(lay.h_prev[j])} = {num(lay.dL_dW[i, j])}"
    )


def update_latex(w: Walkthrough) -> list[str]:
    """W <- W - eta dL/dW and b <- b - eta dL/db with the numbers, per layer, then the loss."""
    eta = num(w.config.lr)
    out = []
    for lay in w.layers:
        k = lay.layer
        W, b = rf"W^{{({k})}}", rf"b^{{({k})}}"
        rhs = rf"{mat(lay.W)} - {eta} {mat(lay.dL_dW)}"
        wide = lay.W.shape[1] >= 3  # three 3-wide matrices on one line overflow the column
        out.append(
            r"\begin{aligned}"
            rf"{W} &\leftarrow {W} - \eta \frac{{\partial L}}{{\partial {W}}} = {rhs}"
            + (r"\\ &" if wide else " ")
            + rf"= {mat(lay.W_new)}\\"
            rf"{b} &\leftarrow {b} - \eta \frac{{\partial L}}{{\partial {b}}} = {vec(lay.b)}"
            rf" - {eta} {vec(lay.dL_db)} = {vec(lay.b_new)}"
            r"\end{aligned}"
        )
    out.append(
        rf"L_{{\text{{before}}}} = {num(w.L)} \ \longrightarrow\ L_{{\text{{after}}}} = {num(w.L_after)}"
    )
    return out


def loss_step_latex(s: LossStep) -> str:
    """The gradient with respect to the logits a, with the numbers."""
    if s.loss == "mse":
        return rf"\frac{{\partial L}}{{\partial a}} = 2(\hat y - y) = 2({num(s.y_hat[0])} {'+' if s.y[0] < 0 else '-'} {num(abs(s.y[0]))}) = {num(s.delta[0])}"
    p = r"\sigma(a)" if s.loss == "bce" else r"\mathrm{softmax}(a)"
    return rf"\frac{{\partial L}}{{\partial a}} = \hat y - y = {p} - y = {vec(s.y_hat)} - {vec(s.y)} = {vec(s.delta)}"


# ---------------------------------------------------------------- gradient check


def grad_check_table(gc: GradCheck) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": gc.names,
            "backprop (by hand)": gc.hand,
            "torch.autograd": gc.autograd,
            f"finite diff. (ε={gc.eps:g})": gc.fd,
            "rel. error vs autograd": gc.rel_autograd,
            "rel. error vs finite diff.": gc.rel_fd,
            "ok": np.where(gc.rel_fd < check_threshold(gc.dtype), "ok", "poor"),
        }
    )


def check_explanation(gc: GradCheck, act: str) -> str | None:
    """Why a gradient check came out poor, in words; None when it is good."""
    if gc.max_rel_fd < check_threshold(gc.dtype):
        return None
    why = []
    if gc.kink_unit is not None and act in ("relu", "leaky_relu"):
        why.append(
            f"hidden unit {gc.kink_unit + 1} sits ε/3 from the {ACTIVATION_LABELS[act]} kink, so "
            "L(θ+ε) and L(θ−ε) fall on different slopes: the difference quotient averages them "
            "while backprop (and autograd) use one slope. The check is poor, not the gradient"
        )
    if gc.dtype == "float32" and gc.eps < 1e-3:
        why.append(
            "in float32, L(θ±ε) carry rounding errors of about 10⁻⁷·|L|; divided by 2ε that "
            "swamps the answer. Try ε = 10⁻² or float64"
        )
    if gc.eps > 1e-3:
        why.append("ε is large: the O(ε²) truncation error of the central difference dominates")
    if gc.eps < 1e-9 and gc.dtype == "float64":
        why.append("ε is tiny: even float64 rounding (10⁻¹⁶·|L|/ε) dominates")
    if not why:
        why.append("some gradients here are tiny, so their relative errors are large")
    return "Poor check: " + "; ".join(why) + "."


def eps_sweep_figure(sweep: dict[str, np.ndarray], eps: float, dtype: str) -> go.Figure:
    fig = go.Figure()
    for k, (dt, color) in enumerate((("float64", PALETTE[0]), ("float32", PALETTE[1]))):
        fig.add_trace(
            go.Scatter(x=sweep["eps"], y=np.maximum(sweep[dt], 1e-17), mode="lines+markers",
                       name=dt, line=dict(color=color, width=2, dash="solid" if k == 0 else "dash"))
        )  # fmt: skip
    # the chosen eps as a legend entry: add_vline's own label lands at x = 10^eps on a log axis
    ys = np.concatenate([sweep[dt] for dt in ("float64", "float32")])
    ys = np.maximum(ys[np.isfinite(ys)], 1e-17) if np.isfinite(ys).any() else np.array([1e-17, 1.0])
    fig.add_trace(
        go.Scatter(x=[eps, eps], y=[ys.min() / 3, ys.max() * 3], mode="lines",
                   name=f"your ε ({dtype})", line=dict(color="#444", dash="dot"), hoverinfo="skip")
    )  # fmt: skip
    fig.add_hline(y=GOOD_REL_ERROR, line=dict(color="#999", dash="dot"))  # the float64 target
    fig.add_annotation(x=1, xref="paper", xanchor="right", y=np.log10(GOOD_REL_ERROR),
                       yanchor="bottom", text="good in float64", showarrow=False,
                       font=dict(size=11, color="#666"))  # fmt: skip
    base_layout(fig, "Worst relative error of the finite-difference check vs ε", "ε (log scale)",
                "max relative error (log scale)", height=340)  # fmt: skip
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


# ---------------------------------------------------------------- activations and losses


def activation_figure(c: ActivationCurve, name: str, marks: Sequence[float] = ()) -> go.Figure:
    """phi and phi' with the saturated region (|phi'| small) shaded; the tiny net's hidden
    pre-activations a marked on phi'."""
    fig = go.Figure()
    sat = c.saturated.astype(int)
    edges = np.flatnonzero(np.diff(np.r_[0, sat, 0]))  # starts and ends of runs of True
    for k, (a, b) in enumerate(zip(edges[0::2], edges[1::2])):
        label = dict(annotation_text="saturated", annotation_position="top left") if k == 0 else {}
        fig.add_vrect(
            x0=c.a[a], x1=c.a[b - 1], fillcolor="#999", opacity=0.18, line_width=0, **label
        )
    label = ACTIVATION_LABELS[name]
    fig.add_trace(
        go.Scatter(x=c.a, y=c.f, name=f"φ(a) = {label}", line=dict(color=PALETTE[0], width=3))
    )
    fig.add_trace(
        go.Scatter(x=c.a, y=c.df, name="φ′(a)", line=dict(color=PALETTE[3], width=3, dash="dash"))
    )
    if len(marks):
        m = np.clip(np.asarray(marks, dtype=float), c.a[0], c.a[-1])
        fig.add_trace(
            go.Scatter(x=m, y=np.interp(m, c.a, c.df), mode="markers", name="your hidden units' a (on φ′)",
                       marker=dict(size=11, color=PALETTE[2], line=dict(width=1, color="black")))
        )  # fmt: skip
    base_layout(
        fig,
        f"{label} and its derivative (shaded: |φ′(a)| < {SATURATION})",
        "pre-activation a",
        "value",
        height=340,
    )
    return fig


def loss_figure(a: np.ndarray, L: np.ndarray, g: np.ndarray, s: LossStep, title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=a, y=L, name="L(a₁)", line=dict(color=PALETTE[0], width=3)))
    fig.add_trace(
        go.Scatter(x=a, y=g, name="∂L/∂a₁", line=dict(color=PALETTE[3], width=3, dash="dash"))
    )
    fig.add_trace(
        go.Scatter(x=[s.a[0], s.a[0]], y=[s.L, s.delta[0]], mode="markers", name="your network",
                   marker=dict(size=11, color=PALETTE[2], line=dict(width=1, color="black")))
    )  # fmt: skip
    base_layout(fig, title, "first logit a₁ (the others fixed)", "value", height=340)
    return fig


# ---------------------------------------------------------------- vanishing / exploding


def grad_norm_figure(res: DeepResult) -> go.Figure:
    """||dL/dW^(l)|| per layer, at initialisation and after training (log y)."""
    cfg = res.config
    layers = np.arange(1, cfg.depth + 2)
    fig = go.Figure()
    rows = [(0, "at initialisation", PALETTE[0], "solid")]
    if len(res.grad_norms) > 1:
        rows.append(
            (len(res.grad_norms) - 1, f"after {len(res.grad_norms) - 1} steps", PALETTE[1], "dash")
        )
    for k, name, color, dash in rows:
        g = res.grad_norms[k].copy()
        g[~np.isfinite(g) | (g <= 0)] = np.nan  # zero / overflowed: no point on a log axis
        fig.add_trace(go.Scatter(x=layers, y=g, mode="lines+markers", name=name,
                                 line=dict(color=color, width=2, dash=dash)))  # fmt: skip
    title = f"Gradient norm per layer ({ACTIVATION_LABELS[cfg.activation]}, {INIT_LABELS[cfg.init]} init)"
    xlabel = "layer l (1 = next to the input)"
    shown = res.grad_norms[[0, -1]]  # the two rows drawn
    if not np.isfinite(shown).all() or (shown == 0).any():
        xlabel += "; missing points: 0 or inf"  # in the axis title: no overlap
    base_layout(fig, title, xlabel, "‖∂L/∂W⁽ˡ⁾‖ (log scale)", height=360)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def training_figure(res: DeepResult) -> go.Figure:
    """The loss (left axis) and the training accuracy (right axis, zoomed to its data): two
    quantities with two scales, never one shared axis."""
    fig = go.Figure()
    steps = np.arange(len(res.loss))
    fig.add_trace(
        go.Scatter(x=steps, y=res.loss, name="loss (BCE)", line=dict(color=PALETTE[0], width=2))
    )
    fig.add_trace(
        go.Scatter(x=steps, y=res.accuracy, name="accuracy (right axis)", yaxis="y2",
                   line=dict(color=PALETTE[2], width=2, dash="dash"))
    )  # fmt: skip
    base_layout(fig, "Training on two rings (full-batch gradient descent)", "step",
                "loss (binary cross-entropy)", height=360)  # fmt: skip
    acc = res.accuracy[np.isfinite(res.accuracy)]
    lo = float(acc.min()) if len(acc) else 0.0
    fig.update_layout(
        yaxis2=dict(title=dict(text="training accuracy"), overlaying="y", side="right",
                    tickformat=".0%", range=[max(0.0, lo - 0.05), 1.01], showgrid=False),
        margin=dict(l=60, r=60, t=60, b=50),
    )  # fmt: skip
    return fig


def act_std_figure(res: DeepResult) -> go.Figure:
    fig = go.Figure(
        go.Bar(x=np.arange(1, len(res.act_std) + 1), y=res.act_std, marker_color=PALETTE[5])
    )
    base_layout(fig, "Forward signal: std of each layer's output at initialisation", "layer l",
                "std of h⁽ˡ⁾", height=300)  # fmt: skip
    fig.update_yaxes(rangemode="tozero")
    return fig


# ---------------------------------------------------------------- the page's texts, with its numbers

CHECK_TEXT = (
    "Nudge one parameter θᵢ by ±ε and watch the loss: the **central difference** "
    "(L(θ + εeᵢ) − L(θ − εeᵢ)) / 2ε approximates ∂L/∂θᵢ with an error of order ε² (truncation) "
    "plus rounding of order u·|L|/ε (u ≈ 1.1·10⁻¹⁶ in float64, 6·10⁻⁸ in float32). A worst "
    f"relative error below {latex.plain(GOOD_REL_ERROR)} in float64 means the hand-written "
    "backprop is right."
)
REL_ERROR_FORMULA = (
    r"\text{rel. error} = \frac{|g_{\text{backprop}} - g_{\text{other}}|}"
    r"{\max(|g_{\text{backprop}}|,\ |g_{\text{other}}|,\ 10^{-12})}"
)
ACTIVATION_TEXT = (
    "Backprop multiplies by φ′(a) at every layer. Where φ′ is nearly 0 (shaded) the unit is "
    "**saturated**: sigmoid's φ′ is at most 0.25 and tanh's tails are flat, so gradients shrink "
    "layer after layer. ReLU passes 1 for a > 0 but exactly 0 for a < 0 (a dead unit learns "
    "nothing); leaky ReLU keeps a slope of 0.01; GELU and softplus are smooth versions of ReLU. "
    "Change φ in the sidebar: the dots are your network's hidden units."
)
LOSS_TEXT = (
    "Sigmoid + binary cross-entropy and softmax + cross-entropy both give **∂L/∂a = ŷ − y** for "
    "one example: the error itself. The log in the loss cancels the exponential in σ or softmax, "
    "so the gradient never saturates, even when ŷ is confidently wrong; with the squared error "
    "on a sigmoid output, (σ(a) − y)², it would be multiplied by σ′(a), which vanishes exactly "
    "then."
)


def graph_caption(w: Walkthrough) -> str:
    """What the graph shows, with the example's numbers and the colours as drawn."""
    cfg = w.config
    return (
        f"A {'-'.join(map(str, cfg.sizes))} network on the example x = ({_fmt(w.x[0])}, "
        f"{_fmt(w.x[1])}), y = {', '.join(_fmt(v) for v in w.y)}. Each box shows the node's forward "
        f"value (h for a hidden unit, the logit a for the output) and, in {GRAD_NAME}, its "
        f"δ = ∂L/∂a; {COLOURS_NOTE.split('; ')[0]}. Hover for every number. One step with "
        f"η = {_fmt(cfg.lr)} takes this example's loss from {_fmt(w.L)} to {_fmt(w.L_after)}."
    )


def sweep_caption(sweep: dict[str, np.ndarray], kink: bool, act: str) -> str:
    """How to read the ε sweep, with its numbers."""
    f64 = sweep["float64"]
    if kink and act in ("relu", "leaky_relu"):
        return (
            f"A unit on its kink: no ε passes the check (the smallest float64 error is "
            f"{latex.plain(f64.min(), DIGITS)}). The unit's own gradients come out at 2/3 of the "
            "slope (relative error 1/3); at tiny ε a gradient proportional to a = ε/3 also "
            "drowns in rounding (relative error 1)."
        )
    k = int(np.argmin(f64))
    return (
        "The V shape: to the right truncation error (∝ ε²), to the left rounding (∝ 1/ε). "
        f"Best ε here in float64: {latex.plain(sweep['eps'][k])} (error "
        f"{latex.plain(f64[k], DIGITS)}); in float32: "
        f"{latex.plain(sweep['eps'][int(np.argmin(sweep['float32']))])}. Dotted: "
        f"{latex.plain(GOOD_REL_ERROR)}."
    )


def deep_text(cfg: DeepConfig) -> str:
    return (
        "In a deep network the error signal is passed down one layer at a time, "
        "δ⁽ˡ⁾ = diag φ′(a⁽ˡ⁾) · W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾: one factor per layer. If those factors are "
        "typically below 1 the gradient shrinks exponentially with depth (**vanishing**); above "
        "1 it grows (**exploding**). Xavier initialisation (σ² = 2/(n_in + n_out)) keeps the "
        "factor near 1 for tanh; He (σ² = 2/n_in) for ReLU, which zeroes about half its inputs. "
        f"The activation is the sidebar's: **{ACTIVATION_LABELS[cfg.activation]}**; the network "
        f"learns two rings ({cfg.n} points) with full-batch gradient descent on the binary "
        "cross-entropy."
    )


def deep_summary(res: DeepResult) -> str:
    top = float(res.spread.max())
    spread = "are identical" if top == 0 else f"differ by up to {_fmt(top)}"
    return (
        f"After training, the units of each hidden layer **{spread}** (max |Wᵢ· − W₁·| over the "
        f"rows of W). Final training accuracy {res.accuracy[-1]:.0%}, "
        f"{res.seconds * 1000:.0f} ms on {res.device.upper()}."
    )


def vanishing_note(cfg: DeepConfig, res: DeepResult) -> str:
    """The small-init preset's note, with the figures of its own run (issue 13, item 4); the
    ratio with the diagnosis's two digits, so both read the same."""
    std, n = init_std(cfg.init, cfg.width, cfg.width), cfg.width
    slope = backward_factor(cfg) / (std * n**0.5) if std > 0 else 0.0
    return (
        f"Each layer multiplies the backward signal by about φ′(0)·σ_w·√n = {_fmt(slope)}·"
        f"{_fmt(std)}·√{n} ≈ {_fmt(backward_factor(cfg))} (measured: {_fmt(measured_factor(res))} "
        f"per layer): the first layer's gradient is {latex.plain(gradient_ratio(res), 2)} times "
        "the last's."
    )
