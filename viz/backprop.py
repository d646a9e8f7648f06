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
    ActivationCurve,
    DeepResult,
    GradCheck,
    LossStep,
    Walkthrough,
)
from viz.latex import mat, num, paren, vec
from viz.style import PALETTE, base_layout

POS, NEG, GRAD = PALETTE[0], PALETTE[3], "#B03A2E"  # positive / negative weights, gradients


def _fmt(x: float) -> str:
    """A short number for chart labels (Unicode, no LaTeX)."""
    x = float(x)
    if not np.isfinite(x):
        return "NaN" if np.isnan(x) else ("∞" if x > 0 else "−∞")
    s = f"{x:.3g}" if (x == 0 or 1e-3 <= abs(x) < 1e4) else f"{x:.2e}"
    return s.replace("-", "−")


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# ---------------------------------------------------------------- the computational graph


def graph(w: Walkthrough) -> go.Figure:
    """The network as a graph: each node shows its forward value and its gradient,
    each edge its weight (width ~ |w|, blue positive, red negative)."""
    sizes = [len(w.x)] + [len(lay.z) for lay in w.layers]
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
                    f"w{_sub(lay.layer)} [{i + 1},{j + 1}] = {_fmt(wij)}<br>"
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
        for i in range(len(lay.z)):
            x0, y0 = pos(lay.layer, i)
            nx.append(x0)
            ny.append(y0)
            name = f"z{_sub(i + 1)}" if lay.layer == last else f"a{_sub(i + 1)}"
            val = lay.z[i] if lay.layer == last else lay.a[i]
            hover.append(
                f"layer {lay.layer}, unit {i + 1}<br>z = {_fmt(lay.z[i])}<br>a = {_fmt(lay.a[i])}"
                f"<br>∂L/∂a = {_fmt(lay.dL_da[i])}<br>f′(z) = {_fmt(lay.da_dz[i])}"
                f"<br>∂L/∂z = {_fmt(lay.dL_dz[i])}<br>b = {_fmt(lay.b[i])}"
            )
            _box(notes, x0, y0, f"{name} = {_fmt(val)}", f"∂L/∂z = {_fmt(lay.dL_dz[i])}")
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
    base_layout(fig, "Computational graph: forward value (top) and gradient (bottom) of every node", "", "",
                height=340 + 40 * max(sizes))  # fmt: skip
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


def forward_latex(w: Walkthrough) -> list[str]:
    """z^(l) = W^(l) a^(l-1) + b^(l) and a^(l) = f(z^(l)) with the numbers, per layer."""
    f = r"\mathrm{f}"
    out = []
    for lay in w.layers:
        k, prev = lay.layer, lay.layer - 1
        a_prev = "x" if prev == 0 else rf"a^{{({prev})}}"
        out.append(
            rf"z^{{({k})}} = W^{{({k})}} {a_prev} + b^{{({k})}} = {mat(lay.W)} {vec(lay.a_prev)}"
            rf" + {vec(lay.b)} = {vec(lay.z)}"
        )
        if k < len(w.layers):  # its own line: beside a 3-wide W it would not fit the column
            fz = F_TEX[w.config.activation]
            out.append(rf"a^{{({k})}} = {f}(z^{{({k})}}) = {fz}{vec(lay.z)} = {vec(lay.a)}")
    return out


def loss_latex(w: Walkthrough) -> str:
    loss = w.config.loss
    if loss == "mse":
        return rf"\hat y = z^{{({len(w.layers)})}} = {num(w.y_hat[0])},\ y = {num(w.y[0])}:\quad L = (\hat y - y)^2 = {num(w.L)}"
    if loss == "bce":
        return rf"p = \sigma(z) = {num(w.y_hat[0])},\ y = {num(w.y[0])}:\quad L = -[y \log p + (1-y)\log(1-p)] = {num(w.L)}"
    return rf"p = \mathrm{{softmax}}(z) = {vec(w.y_hat)},\ y = {vec(w.y)}:\quad L = -\sum_k y_k \log p_k = {num(w.L)}"


def backward_latex(w: Walkthrough, layer: int) -> list[str]:
    """The backward step through layer ``layer`` (1-based), symbolic = numbers."""
    lay = w.layers[layer - 1]
    k, n = lay.layer, len(w.layers)
    a_prev = "x" if k == 1 else rf"a^{{({k - 1})}}"
    lines = []
    if k == n:
        head = {"mse": r"\tfrac{2}{K}(\hat y - y)", "bce": r"p - y", "softmax_ce": r"p - y"}
        lines.append(
            rf"\frac{{\partial L}}{{\partial z^{{({k})}}}} = {head[w.config.loss]} = {vec(lay.dL_dz)}"
        )
    else:
        above = w.layers[k]
        lines.append(
            rf"\frac{{\partial L}}{{\partial a^{{({k})}}}} = W^{{({k + 1})\top}}"
            rf"\frac{{\partial L}}{{\partial z^{{({k + 1})}}}} = {mat(above.W.T)} {vec(above.dL_dz)}"
            rf" = {vec(lay.dL_da)}"
        )
        lines.append(
            rf"\frac{{\partial L}}{{\partial z^{{({k})}}}} = \frac{{\partial L}}{{\partial a^{{({k})}}}}"
            rf"\odot \mathrm{{f}}'(z^{{({k})}}) = {vec(lay.dL_da)} \odot {vec(lay.da_dz)} = {vec(lay.dL_dz)}"
        )
    lines.append(
        rf"\frac{{\partial L}}{{\partial W^{{({k})}}}} = \frac{{\partial L}}{{\partial z^{{({k})}}}}"
        rf"\,{{{a_prev}}}^{{\top}} = {vec(lay.dL_dz)} {_row(lay.a_prev)} = {mat(lay.dL_dW)}"
    )
    lines.append(
        rf"\frac{{\partial L}}{{\partial b^{{({k})}}}} = \frac{{\partial L}}{{\partial z^{{({k})}}}}"
        rf" = {vec(lay.dL_db)}"
    )
    return lines


def scalar_chain_latex(w: Walkthrough, layer: int, i: int, j: int) -> str:
    """One weight's gradient as a product of chain-rule factors (0-based i, j)."""
    lay = w.layers[layer - 1]
    src = rf"x_{{{j + 1}}}" if layer == 1 else rf"a^{{({layer - 1})}}_{{{j + 1}}}"
    sym = rf"w^{{({layer})}}_{{{i + 1}{j + 1}}}"
    a, z = rf"a^{{({layer})}}_{{{i + 1}}}", rf"z^{{({layer})}}_{{{i + 1}}}"
    return (
        rf"\frac{{\partial L}}{{\partial {sym}}} = \underbrace{{\frac{{\partial L}}{{\partial {a}}}}}_{{{num(lay.dL_da[i])}}}"
        rf"\cdot \underbrace{{\frac{{\partial {a}}}{{\partial {z}}}}}_{{{num(lay.da_dz[i])}}}"
        rf"\cdot \underbrace{{\frac{{\partial {z}}}{{\partial {sym}}}}}_{{{src} \,=\, {num(lay.a_prev[j])}}}"
        rf" = {paren(lay.dL_da[i])} \cdot {paren(lay.da_dz[i])} \cdot {paren(lay.a_prev[j])} = {num(lay.dL_dW[i, j])}"
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
    """The gradient with respect to the logits, with the numbers."""
    if s.loss == "mse":
        return rf"\frac{{\partial L}}{{\partial z}} = 2(\hat y - y) = 2({num(s.y_hat[0])} {'+' if s.y[0] < 0 else '-'} {num(abs(s.y[0]))}) = {num(s.dL_dz[0])}"
    p = r"\sigma(z)" if s.loss == "bce" else r"\mathrm{softmax}(z)"
    return rf"\frac{{\partial L}}{{\partial z}} = p - y = {p} - y = {vec(s.y_hat)} - {vec(s.y)} = {vec(s.dL_dz)}"


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
            "ok": np.where(
                gc.rel_fd < GOOD_REL_ERROR * (1e3 if gc.dtype == "float32" else 1), "ok", "poor"
            ),
        }
    )


def check_explanation(gc: GradCheck, act: str) -> str | None:
    """Why a gradient check came out poor, in words; None when it is good."""
    if gc.max_rel_fd <= 1e-4:
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
    base_layout(fig, "Worst relative error of the finite-difference check vs ε", "ε (log scale)",
                "max relative error (log scale)", height=340)  # fmt: skip
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


# ---------------------------------------------------------------- activations and losses


def activation_figure(c: ActivationCurve, name: str, marks: Sequence[float] = ()) -> go.Figure:
    """f and f' with the saturated region (|f'| small) shaded; the tiny net's z marked."""
    fig = go.Figure()
    sat = c.saturated.astype(int)
    edges = np.flatnonzero(np.diff(np.r_[0, sat, 0]))  # starts and ends of runs of True
    for k, (a, b) in enumerate(zip(edges[0::2], edges[1::2])):
        label = dict(annotation_text="saturated", annotation_position="top left") if k == 0 else {}
        fig.add_vrect(
            x0=c.z[a], x1=c.z[b - 1], fillcolor="#999", opacity=0.18, line_width=0, **label
        )
    label = ACTIVATION_LABELS[name]
    fig.add_trace(
        go.Scatter(x=c.z, y=c.f, name=f"f(z) = {label}", line=dict(color=PALETTE[0], width=3))
    )
    fig.add_trace(
        go.Scatter(x=c.z, y=c.df, name="f′(z)", line=dict(color=PALETTE[3], width=3, dash="dash"))
    )
    if len(marks):
        m = np.clip(np.asarray(marks, dtype=float), c.z[0], c.z[-1])
        fig.add_trace(
            go.Scatter(x=m, y=np.interp(m, c.z, c.df), mode="markers", name="your hidden z (on f′)",
                       marker=dict(size=11, color=PALETTE[2], line=dict(width=1, color="black")))
        )  # fmt: skip
    base_layout(
        fig, f"{label} and its derivative (shaded: |f′(z)| < 0.05)", "z", "value", height=340
    )
    return fig


def loss_figure(z: np.ndarray, L: np.ndarray, g: np.ndarray, s: LossStep, title: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=z, y=L, name="L(z₁)", line=dict(color=PALETTE[0], width=3)))
    fig.add_trace(
        go.Scatter(x=z, y=g, name="∂L/∂z₁", line=dict(color=PALETTE[3], width=3, dash="dash"))
    )
    fig.add_trace(
        go.Scatter(x=[s.z[0], s.z[0]], y=[s.L, s.dL_dz[0]], mode="markers", name="your network",
                   marker=dict(size=11, color=PALETTE[2], line=dict(width=1, color="black")))
    )  # fmt: skip
    base_layout(fig, title, "first logit z₁ (others fixed)", "value", height=340)
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
    fig = go.Figure()
    steps = np.arange(len(res.loss))
    fig.add_trace(
        go.Scatter(x=steps, y=res.loss, name="loss (BCE)", line=dict(color=PALETTE[0], width=2))
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=res.accuracy,
            name="accuracy",
            line=dict(color=PALETTE[2], width=2, dash="dash"),
        )
    )
    base_layout(
        fig,
        "Training on two rings (full-batch gradient descent)",
        "step",
        "loss / accuracy",
        height=360,
    )
    return fig


def act_std_figure(res: DeepResult) -> go.Figure:
    fig = go.Figure(
        go.Bar(x=np.arange(1, len(res.act_std) + 1), y=res.act_std, marker_color=PALETTE[5])
    )
    base_layout(fig, "Forward signal: std of each layer's output at initialisation", "layer l",
                "std of a⁽ˡ⁾", height=300)  # fmt: skip
    fig.update_yaxes(rangemode="tozero")
    return fig
