"""Figures and formulas of the CNN page, built from dl_core.cnn results.

Every figure is built by one ``go.Figure(data, layout)`` call from plain dicts. Plotly
validates each property it sets, and ``make_subplots``, ``update_layout`` and ``add_trace``
on a grid of small images cost hundreds of milliseconds (the 32 feature maps of layer 2 took
0.3 s); one call validates each property once. A grid of maps is one heatmap of tiles
separated by blank (NaN) pixels, with one colour bar, instead of a subplot per map.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dl_core.cnn import ConvStep, History, PoolStep, SoftmaxStep
from viz.latex import mat, num, signed
from viz.style import PALETTE, TEMPLATE, base_layout

GREYS = "Greys"  # digits: ink dark on white paper
DIVERGING = "RdBu_r"  # kernels and feature maps with signs: red positive, white 0, blue negative
PANEL_MARGIN = dict(l=30, r=10, t=50, b=30)


def _heat(a: np.ndarray, colorscale: str = GREYS, text: bool = True, zmid=None, **kw) -> dict:
    """One image as a heatmap trace, its values written in the cells when ``text``."""
    a = np.asarray(a, dtype=float)
    t = dict(text=[[f"{v:.2g}" for v in row] for row in a], texttemplate="%{text}") if text else {}
    return dict(
        type="heatmap", z=a, colorscale=colorscale, zmid=zmid, showscale=False, xgap=1, ygap=1,
        hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>", **t, **kw,
    )  # fmt: skip


def _image_axes(n: int) -> tuple[dict, dict]:
    """x and y axes of an image of n pixels: row 0 at the top, no grid lines, whole-pixel
    ticks (every pixel up to 12, else every other one up to 24, else automatic)."""
    dtick = 1 if n <= 12 else 2 if n <= 24 else None
    x = dict(showgrid=False, zeroline=False, constrain="domain", dtick=dtick, tick0=0)
    y = dict(showgrid=False, zeroline=False, autorange="reversed", dtick=dtick, tick0=0)
    return x, y


def _box(r0, c0, r1, c1, color, panel: int = 1, dash=None) -> dict:
    """A rectangle around the pixels (r0..r1, c0..c1) of a panel."""
    s = "" if panel == 1 else str(panel)
    return dict(
        type="rect", xref=f"x{s}", yref=f"y{s}", x0=c0 - 0.5, x1=c1 + 0.5, y0=r0 - 0.5,
        y1=r1 + 0.5, line=dict(color=color, width=3, dash=dash),
    )  # fmt: skip


def _domains(widths: list[float], spacing: float) -> list[tuple[float, float]]:
    """Horizontal extent of each panel of a row, as make_subplots(column_widths=...) does."""
    w = np.asarray(widths, dtype=float)
    w = w / w.sum() * (1 - spacing * (len(w) - 1))
    x0 = np.concatenate([[0.0], np.cumsum(w + spacing)[:-1]])
    return [(float(a), float(a + b)) for a, b in zip(x0, w)]


def _panels(
    traces: list[dict], titles: list[str], widths: list[float], spacing: float, height: int,
    shapes: list[dict] = (), images: bool = True, **layout,
) -> go.Figure:  # fmt: skip
    """One row of panels with a title over each, in one call (what make_subplots(1, n)
    draws). ``images``: image axes (row 0 at the top, whole-pixel ticks)."""
    axes, notes = {}, []
    for k, (trace, (x0, x1), title) in enumerate(zip(traces, _domains(widths, spacing), titles)):
        s = "" if k == 0 else str(k + 1)
        trace.update(xaxis=f"x{s}", yaxis=f"y{s}")
        xa, ya = _image_axes(max(np.shape(trace["z"]))) if images else ({}, {})
        axes[f"xaxis{s}"] = dict(xa, domain=[x0, x1], anchor=f"y{s}")
        axes[f"yaxis{s}"] = dict(ya, anchor=f"x{s}")
        notes.append(
            dict(text=title, x=(x0 + x1) / 2, y=1.0, xref="paper", yref="paper", xanchor="center",
                 yanchor="bottom", showarrow=False, font=dict(size=16))
        )  # fmt: skip
    layout = {"template": TEMPLATE, "height": height, "margin": PANEL_MARGIN,
              "annotations": notes, "shapes": list(shapes), **axes, **layout}  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def image(a: np.ndarray, title: str, text: bool = True, height: int = 300) -> go.Figure:
    """One grey image with its pixel values written in."""
    x, y = _image_axes(max(np.shape(a)))
    fig = go.Figure(_heat(a, text=text), layout=dict(xaxis=x, yaxis=y))
    base_layout(fig, title, "column", "row", height=height)
    fig.layout.margin = dict(l=40, r=10, t=50, b=40)
    return fig


def conv_figure(w: ConvStep) -> go.Figure:
    """Padded input with the receptive field, the kernel, and the output map."""
    cells = [_box(r, c, r, c, PALETTE[3]) for r in w.rows for c in w.cols]  # dilation: gaps
    if w.p:  # the original image inside its padding
        H, W = w.x_pad.shape
        cells.append(_box(w.p, w.p, H - 1 - w.p, W - 1 - w.p, PALETTE[0], dash="dot"))
    cells.append(_box(w.i, w.j, w.i, w.j, PALETTE[3], panel=3))
    return _panels(
        [_heat(w.x_pad, text=w.x_pad.shape[0] <= 14), _heat(w.K, DIVERGING, zmid=0),
         _heat(w.z, DIVERGING, text=w.z.shape[0] <= 10, zmid=0)],
        [f"input x, padded by p = {w.p}", f"kernel K ({len(w.K)}×{len(w.K)})",
         f"output z ({w.n_out[0]}×{w.n_out[1]})"],
        [0.42, 0.2, 0.38], 0.06, 340, cells,
    )  # fmt: skip


def pool_figure(w: PoolStep) -> go.Figure:
    r0, c0 = w.i * w.s, w.j * w.s
    return _panels(
        [_heat(w.x, DIVERGING, zmid=0), _heat(w.y, DIVERGING, zmid=0)],
        [f"feature map ({w.x.shape[0]}×{w.x.shape[1]})",
         f"{w.kind} pool, k = {w.k}, s = {w.s} ({w.n_out[0]}×{w.n_out[1]})"],
        [1, 1], 0.08, 320,
        [_box(r0, c0, r0 + w.k - 1, c0 + w.k - 1, PALETTE[3]), _box(w.i, w.j, w.i, w.j, PALETTE[3], 2)],
    )  # fmt: skip


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
    lines = [
        (h.train_loss, "train loss", PALETTE[0], "solid", "y"),
        (h.test_loss, "test loss", PALETTE[0], "dot", "y"),
        (h.train_acc, "train accuracy", PALETTE[3], "solid", "y2"),
        (h.test_acc, "test accuracy", PALETTE[3], "dot", "y2"),
    ]
    fig = go.Figure(
        [dict(type="scatter", x=h.epoch, y=y, name=name, line=dict(color=c, dash=dash), yaxis=ax)
         for y, name, c, dash, ax in lines],
        layout=dict(
            xaxis=dict(rangemode="tozero", tick0=0, dtick=max(1, round(len(h.epoch) / 6))),
            yaxis=dict(rangemode="tozero"),
            yaxis2=dict(
                title=dict(text="accuracy"), range=[0, 1.02], tickmode="linear", tick0=0,
                dtick=0.2, tickformat=".0%", showgrid=False, overlaying="y", side="right",
            ),
        ),
    )  # fmt: skip
    return base_layout(fig, title, "epoch", "cross-entropy loss", height=340)


def confusion(cm: np.ndarray) -> go.Figure:
    fig = go.Figure(
        dict(
            type="heatmap", z=cm, x=list(range(10)), y=list(range(10)), colorscale="Blues",
            text=cm, texttemplate="%{text}", showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        ),
        layout=dict(yaxis=dict(autorange="reversed", dtick=1), xaxis=dict(dtick=1)),
    )  # fmt: skip
    return base_layout(
        fig, "Confusion matrix (test set)", "predicted digit", "true digit", height=380
    )


def grid_of_maps(
    maps: np.ndarray, title: str, labels: list[str] | None = None, cols: int = 8,
    colorscale: str = DIVERGING, height_per_row: int = 110, name: str = "map",
    colorbar: str | None = "value",
) -> go.Figure:  # fmt: skip
    """Small multiples of 2-D arrays (C, h, w), e.g. filters or feature maps: one heatmap of
    tiles, ``cols`` to a row, separated by blank (NaN) pixels, on one colour scale shared by
    all tiles with a colour bar titled ``colorbar`` (None: no bar). On the diverging scale
    white is 0, red positive, blue negative; maps without negative values (after a ReLU)
    use its white-to-red half. Each tile's label, if any, stands above it; hovering tells the
    tile (``name`` and its number, from 1), the row and column inside it, and the value."""
    maps = np.asarray(maps, dtype=float)
    n, h, w = maps.shape
    scale = dict(colorscale=colorscale)
    if colorscale == DIVERGING:  # white is 0; no negative values: the white-to-red half only
        signed = maps.size and maps.min() < 0
        scale = dict(colorscale=DIVERGING, zmid=0) if signed else dict(colorscale="Reds", zmin=0)
    cols = min(cols, n)
    rows = -(-n // cols)
    gap = max(1, round(max(h, w) / 4))  # blank pixels between tiles
    band = max(2, round(h / 4)) if labels else 0  # room for a label above each tile
    step_y, step_x = band + h + gap, w + gap
    z = np.full((rows * step_y - gap, cols * step_x - gap), np.nan, dtype=np.float32)
    small = max(n, h, w) < 256
    where = np.zeros((*z.shape, 3), np.uint8 if small else np.uint16)  # (tile, row, column)
    r_in, c_in = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")  # (h, w) each
    notes = []
    for t, m in enumerate(maps):
        y0, x0 = (t // cols) * step_y + band, (t % cols) * step_x
        z[y0 : y0 + h, x0 : x0 + w] = m
        where[y0 : y0 + h, x0 : x0 + w] = np.stack([np.full((h, w), t + 1), r_in, c_in], -1)
        if labels:
            notes.append(
                dict(text=labels[t], x=x0 + (w - 1) / 2, y=y0 - 0.5, xref="x", yref="y",
                     xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=11))
            )  # fmt: skip
    bar = dict(title=dict(text=colorbar, side="right"), thickness=12, outlinewidth=0)
    cells = 1 if max(h, w) <= 16 else 0  # pixel borders only where pixels are large
    heat = dict(
        type="heatmap", z=z, customdata=where, hoverongaps=False, xgap=cells, ygap=cells,
        showscale=colorbar is not None, colorbar=bar if colorbar is not None else None,
        hovertemplate=f"{name} %{{customdata[0]}}, row %{{customdata[1]}}, "
        "col %{customdata[2]}: %{z:.3f}<extra></extra>", **scale,
    )  # fmt: skip
    hidden = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    layout = dict(
        template=TEMPLATE, title=dict(text=title, x=0, font=dict(size=15)),
        height=60 + height_per_row * rows, margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(hidden, range=[-0.5, z.shape[1] - 0.5]),
        yaxis=dict(hidden, range=[z.shape[0] - 0.5, -0.5]), annotations=notes,
    )  # fmt: skip
    return go.Figure(heat, layout=layout)


def filters(W: np.ndarray) -> go.Figure:
    """The learned kernels (C, k, k) of the first layer."""
    title = "Learned filters of layer 1 (red positive, blue negative)"
    return grid_of_maps(W, title, name="filter", colorbar="weight")


def probabilities(p: np.ndarray, true: int | None = None) -> go.Figure:
    colors = [PALETTE[3] if i == int(np.argmax(p)) else PALETTE[0] for i in range(10)]
    fig = go.Figure(
        dict(type="bar", x=list(range(10)), y=p, marker_color=colors, text=[f"{v:.2f}" for v in p],
             textposition="outside", hovertemplate="digit %{x}: p = %{y:.4f}<extra></extra>"),
        layout=dict(xaxis=dict(dtick=1), yaxis=dict(range=[0, 1.15])),
    )  # fmt: skip
    t = "Softmax probabilities" + (f" (true digit {true})" if true is not None else "")
    return base_layout(fig, t, "digit", "probability", height=300)


def params_bars(names: list[str], counts: list[int], accs: list[float]) -> go.Figure:
    bars = [
        dict(type="bar", x=names, y=vals, marker_color=list(PALETTE[: len(names)]),
             text=[fmt.format(v) for v in vals], textposition="outside", showlegend=False)
        for vals, fmt in [(counts, "{:,}"), (accs, "{:.1%}")]
    ]  # fmt: skip
    fig = _panels(
        bars, ["parameters", "test accuracy"], [1, 1], 0.1, 300, images=False,
        margin=dict(l=40, r=10, t=50, b=30),
    )  # fmt: skip
    fig.layout.yaxis.range, fig.layout.yaxis2.range = [0, max(counts) * 1.2], [0, 1.1]
    return fig


def misclassified(imgs: np.ndarray, labels: list[str]) -> go.Figure:
    """The wrongly classified test images (k, h, w), titled 'true→predicted'."""
    title = "Misclassified test images (true→predicted), most confident first"
    return grid_of_maps(
        imgs, title, labels, cols=6, colorscale=GREYS, height_per_row=150, name="image",
        colorbar=None,
    )  # fmt: skip
