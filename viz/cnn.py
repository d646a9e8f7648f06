"""Figures and formulas of the CNN page, built from dl_core.cnn results."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dl_core.cnn import ConvStep, History, PoolStep, SoftmaxStep
from viz.latex import mat, num, signed
from viz.style import PALETTE, base_layout

GREYS = "Greys"  # digits: ink dark on white paper
DIVERGING = "RdBu"  # kernels and feature maps with signs


def _image_trace(a: np.ndarray, colorscale: str = GREYS, text: bool = True, zmid=None, **kw):
    a = np.asarray(a, dtype=float)
    t = dict(text=np.vectorize(lambda v: f"{v:.2g}")(a), texttemplate="%{text}") if text else {}
    return go.Heatmap(
        z=a, colorscale=colorscale, zmid=zmid, showscale=False, xgap=1, ygap=1,
        hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>", **t, **kw,
    )  # fmt: skip


def _square(fig: go.Figure, rows: int = 1, cols: int = 1) -> go.Figure:
    """Image axes: row 0 at the top, no grid lines, whole-pixel ticks (every pixel up to
    12, else every other one or automatic)."""
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showgrid=False, zeroline=False, autorange="reversed")
    for trace in fig.data:  # one image per subplot
        n = max(np.shape(trace.z))
        dtick = 1 if n <= 12 else 2 if n <= 24 else None
        for ax in ("xaxis" + (trace.xaxis or "x")[1:], "yaxis" + (trace.yaxis or "y")[1:]):
            fig.layout[ax].update(dtick=dtick, tick0=0)
    return fig


def _box(fig, r0, c0, r1, c1, color, row=None, col=None, dash=None):
    fig.add_shape(
        type="rect", x0=c0 - 0.5, x1=c1 + 0.5, y0=r0 - 0.5, y1=r1 + 0.5,
        line=dict(color=color, width=3, dash=dash), row=row, col=col,
    )  # fmt: skip


def image(a: np.ndarray, title: str, text: bool = True, height: int = 300) -> go.Figure:
    """One grey image with its pixel values written in."""
    fig = go.Figure(_image_trace(a, text=text))
    base_layout(fig, title, "column", "row", height=height)
    fig.update_layout(margin=dict(l=40, r=10, t=50, b=40))
    return _square(fig)


def conv_figure(w: ConvStep) -> go.Figure:
    """Padded input with the receptive field, the kernel, and the output map."""
    fig = make_subplots(
        1, 3, column_widths=[0.42, 0.2, 0.38], horizontal_spacing=0.06,
        subplot_titles=(
            f"input x, padded by p = {w.p}", f"kernel K ({len(w.K)}×{len(w.K)})",
            f"output z ({w.n_out[0]}×{w.n_out[1]})",
        ),
    )  # fmt: skip
    fig.add_trace(_image_trace(w.x_pad, text=w.x_pad.shape[0] <= 14), 1, 1)
    for r in w.rows:  # the cells the kernel touches (dilation leaves gaps)
        for c in w.cols:
            _box(fig, r, c, r, c, PALETTE[3], 1, 1)
    if w.p:
        H = w.x_pad.shape[0]
        _box(fig, w.p, w.p, H - 1 - w.p, w.x_pad.shape[1] - 1 - w.p, PALETTE[0], 1, 1, "dot")
    fig.add_trace(_image_trace(w.K, DIVERGING, zmid=0), 1, 2)
    fig.add_trace(_image_trace(w.z, DIVERGING, text=w.z.shape[0] <= 10, zmid=0), 1, 3)
    _box(fig, w.i, w.j, w.i, w.j, PALETTE[3], 1, 3)
    fig.update_layout(height=340, margin=dict(l=30, r=10, t=50, b=30), template="plotly_white")
    return _square(fig, 1, 3)


def pool_figure(w: PoolStep) -> go.Figure:
    fig = make_subplots(
        1, 2, horizontal_spacing=0.08,
        subplot_titles=(f"feature map ({w.x.shape[0]}×{w.x.shape[1]})",
                        f"{w.kind} pool, k = {w.k}, s = {w.s} ({w.n_out[0]}×{w.n_out[1]})"),
    )  # fmt: skip
    fig.add_trace(_image_trace(w.x, DIVERGING, zmid=0), 1, 1)
    r0, c0 = w.i * w.s, w.j * w.s
    _box(fig, r0, c0, r0 + w.k - 1, c0 + w.k - 1, PALETTE[3], 1, 1)
    fig.add_trace(_image_trace(w.y, DIVERGING, zmid=0), 1, 2)
    _box(fig, w.i, w.j, w.i, w.j, PALETTE[3], 1, 2)
    fig.update_layout(height=320, margin=dict(l=30, r=10, t=50, b=30), template="plotly_white")
    return _square(fig, 1, 2)


# ---------------------------------------------------------------- formulas with numbers


def conv_sum_latex(w: ConvStep, max_terms: int = 9) -> str:
    """z_ij = sum_uv K_uv x_{is+ud, js+vd} + b, with the numbers."""
    terms = [(float(k), float(x)) for k, x in zip(w.K.ravel(), w.patch.ravel())]
    shown = terms if len(terms) <= max_terms else [t for t in terms if t[0] != 0][:max_terms]
    body = " ".join(
        (signed(k, 3) if n else num(k, 3)) + r"\cdot" + num(x, 3) for n, (k, x) in enumerate(shown)
    )
    more = r" + \dots" if len(shown) < len(terms) else ""
    return rf"z_{{{w.i},{w.j}}} = {body}{more} {signed(w.b, 4)} = \mathbf{{{num(w.z_ij, 4)}}}"


def conv_patch_latex(w: ConvStep) -> str:
    """The elementwise product written with the matrices."""
    return (
        rf"z_{{{w.i},{w.j}}} = \sum {mat(w.K, 3)} \odot {mat(w.patch, 3)} {signed(w.b, 4)}"
        rf" = {num(float(w.products.sum()), 4)} {signed(w.b, 4)} = {num(w.z_ij, 4)}"
    )


def output_size_latex(n: int, k: int, s: int, p: int, d: int, n_out: int) -> str:
    return (
        r"n_{\text{out}} = \left\lfloor \frac{n + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1"
        rf" = \left\lfloor \frac{{{n} + 2\cdot{p} - {d}\cdot({k}-1) - 1}}{{{s}}} \right\rfloor + 1"
        rf" = {n_out}"
    )


def pool_latex(w: PoolStep) -> str:
    vals = ", ".join(num(v, 3) for v in w.window.ravel())
    if w.kind == "max":
        return rf"y_{{{w.i},{w.j}}} = \max({vals}) = {num(w.y_ij, 4)}"
    return rf"y_{{{w.i},{w.j}}} = \tfrac{{1}}{{{w.window.size}}}({' + '.join(num(v, 3) for v in w.window.ravel())}) = {num(w.y_ij, 4)}"


def softmax_latex(sm: SoftmaxStep, c: int) -> str:
    """p_c = exp(z_c - max z) / sum_j exp(z_j - max z) with the numbers of class c."""
    return (
        rf"p_{{{c}}} = \frac{{e^{{z_{{{c}}} - \max z}}}}{{\sum_j e^{{z_j - \max z}}}}"
        rf" = \frac{{e^{{{num(sm.z[c], 4)} - {num(sm.z_max, 4)}}}}}{{{num(sm.S, 4)}}}"
        rf" = \frac{{{num(sm.e[c], 4)}}}{{{num(sm.S, 4)}}} = {num(sm.p[c], 4)}"
    )


def softmax_sum_latex(sm: SoftmaxStep) -> str:
    """The denominator: every e^{z_j - max z} with its value, and their sum."""
    terms = " + ".join(f"{v:.3f}" for v in sm.e)
    return rf"\sum_{{j=0}}^{{9}} e^{{z_j - \max z}} = {terms} = {num(sm.S, 4)}"


def logits_latex(sm: SoftmaxStep) -> str:
    return r"z = (" + r",\ ".join(num(v, 3) for v in sm.z) + ")"


# ---------------------------------------------------------------- training


def curves(h: History, title: str = "Training curves") -> go.Figure:
    """Loss (left axis) and accuracy (right axis) per epoch, train and test."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for y, name, color, dash in [
        (h.train_loss, "train loss", PALETTE[0], "solid"),
        (h.test_loss, "test loss", PALETTE[0], "dot"),
    ]:
        fig.add_trace(go.Scatter(x=h.epoch, y=y, name=name, line=dict(color=color, dash=dash)))
    for y, name, dash in [
        (h.train_acc, "train accuracy", "solid"),
        (h.test_acc, "test accuracy", "dot"),
    ]:
        fig.add_trace(
            go.Scatter(x=h.epoch, y=y, name=name, line=dict(color=PALETTE[3], dash=dash)),
            secondary_y=True,
        )
    base_layout(fig, title, "epoch", "cross-entropy loss", height=340)
    fig.update_yaxes(
        title_text="accuracy", range=[0, 1.02], tickmode="linear", tick0=0, dtick=0.2,
        tickformat=".0%", showgrid=False, secondary_y=True,
    )  # fmt: skip
    fig.update_xaxes(rangemode="tozero", tick0=0, dtick=max(1, round(len(h.epoch) / 6)))
    fig.update_yaxes(rangemode="tozero", secondary_y=False)
    return fig


def confusion(cm: np.ndarray) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=cm, x=list(range(10)), y=list(range(10)), colorscale="Blues", text=cm,
            texttemplate="%{text}", showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, "Confusion matrix (test set)", "predicted digit", "true digit", height=380)
    fig.update_yaxes(autorange="reversed", dtick=1)
    fig.update_xaxes(dtick=1)
    return fig


def grid_of_maps(
    maps: np.ndarray, title: str, labels: list[str] | None = None, cols: int = 8,
    colorscale: str = DIVERGING, height_per_row: int = 110,
) -> go.Figure:  # fmt: skip
    """Small multiples of 2-D arrays (C, h, w), e.g. filters or feature maps."""
    maps = np.asarray(maps)
    n = len(maps)
    cols = min(cols, n)
    rows = -(-n // cols)
    fig = make_subplots(
        rows, cols, subplot_titles=labels, horizontal_spacing=0.02, vertical_spacing=0.12 / rows
    )
    for c, m in enumerate(maps):
        zmid = 0 if colorscale == DIVERGING else None
        fig.add_trace(
            _image_trace(m, colorscale, text=False, zmid=zmid), c // cols + 1, c % cols + 1
        )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    fig.update_layout(
        title=dict(text=title, x=0, font=dict(size=15)), template="plotly_white",
        height=60 + height_per_row * rows, margin=dict(l=10, r=10, t=60, b=10),
    )  # fmt: skip
    fig.update_annotations(font_size=11)
    return fig


def probabilities(p: np.ndarray, true: int | None = None) -> go.Figure:
    colors = [PALETTE[3] if i == int(np.argmax(p)) else PALETTE[0] for i in range(10)]
    fig = go.Figure(
        go.Bar(x=list(range(10)), y=p, marker_color=colors, text=[f"{v:.2f}" for v in p],
               textposition="outside", hovertemplate="digit %{x}: p = %{y:.4f}<extra></extra>")
    )  # fmt: skip
    t = "Softmax probabilities" + (f" (true digit {true})" if true is not None else "")
    base_layout(fig, t, "digit", "probability", height=300)
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(range=[0, 1.15])
    return fig


def params_bars(names: list[str], counts: list[int], accs: list[float]) -> go.Figure:
    fig = make_subplots(1, 2, subplot_titles=("parameters", "test accuracy"))
    for col, vals, fmt in [(1, counts, "{:,}"), (2, accs, "{:.1%}")]:
        fig.add_trace(
            go.Bar(x=names, y=vals, marker_color=list(PALETTE[: len(names)]),
                   text=[fmt.format(v) for v in vals], textposition="outside", showlegend=False),
            1, col,
        )  # fmt: skip
    fig.update_yaxes(range=[0, max(counts) * 1.2], row=1, col=1)
    fig.update_yaxes(range=[0, 1.1], row=1, col=2)
    fig.update_layout(height=300, template="plotly_white", margin=dict(l=40, r=10, t=50, b=30))
    return fig


def misclassified(imgs: np.ndarray, labels: list[str]) -> go.Figure:
    """The wrongly classified test images (k, h, w), titled 'true→predicted'."""
    title = "Misclassified test images (true→predicted), most confident first"
    return grid_of_maps(imgs, title, labels, cols=6, colorscale=GREYS, height_per_row=150)
