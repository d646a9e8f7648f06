"""Figures, formulas and texts of the CNN page, built from dl_core.cnn results.

Every figure is built by one ``go.Figure(data, layout)`` call from plain dicts. Plotly
validates each property it sets, and ``make_subplots``, ``update_layout`` and ``add_trace``
on a grid of small images cost hundreds of milliseconds (the 32 feature maps of layer 2 took
0.3 s); one call validates each property once. A grid of maps is one heatmap of tiles
separated by blank (NaN) pixels, with one colour bar, instead of a subplot per map.

The rulebook (``viz.style``): a signed map (kernel, pre-activation) uses ``signed_scale``,
positive ``POSITIVE_NAME``, negative ``NEGATIVE_NAME``; a map after the ReLU (never negative)
uses the positive half of that scale, so a colour means the same on every chart. One number
formatter: every value of the page is written by ``num``/``plain`` with ``DIGITS``
significant digits, in a formula, a cell, a label or a hover, so it reads the same everywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dl_core import cnn, images, notation
from dl_core.cnn import ConvStep, History, PoolStep, SoftmaxStep
from viz.latex import mat, num, plain, signed
from viz.style import (
    DIVERGING,
    NEGATIVE_NAME,
    PALETTE,
    POSITIVE,
    POSITIVE_NAME,
    SEQUENTIAL,
    TEMPLATE,
    base_layout,
    signed_scale,
)  # fmt: skip

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

DIGITS = 3  # significant digits of every number on the page
GREYS = "Greys"  # digits: ink dark on white paper
POSITIVE_HALF = [[0.0, DIVERGING[2][1]], [0.5, DIVERGING[3][1]], [1.0, POSITIVE]]  # 0 white
BOX, BOX_NAME = PALETTE[1], "orange"  # the pixels under the kernel, the window of a pool
PAD, PAD_NAME = PALETTE[2], "green"  # the original image inside its padding
TRAIN, TEST = PALETTE[0], PALETTE[3]  # blue and vermillion: train and test on every chart
PANEL_MARGIN = dict(l=50, r=10, t=50, b=45)


def pct(x: float) -> str:
    """A share as a percentage, with the page's digits: 0.98607 -> '98.6%'."""
    return plain(100 * float(x), DIGITS) + "%"


def _text(a: np.ndarray) -> list[list[str]]:
    return [[plain(v, DIGITS) for v in row] for row in np.asarray(a, dtype=float)]


def _heat(a: np.ndarray, scale: dict, text: bool = True) -> dict:
    """One image as a heatmap trace, its values written in the cells when ``text`` (and in
    the hover, with the same digits)."""
    a = np.asarray(a, dtype=float)
    t = dict(text=_text(a), texttemplate="%{text}") if text else dict(text=_text(a))
    return dict(
        type="heatmap", z=a, xgap=1, ygap=1, **scale, **t,
        hovertemplate="row %{y}, column %{x}: %{text}<extra></extra>",
    )  # fmt: skip


def image_scale() -> dict:
    return dict(colorscale=GREYS, zmin=0.0, showscale=False)


def signed_map(a: np.ndarray, title: str) -> dict:
    """The diverging scale about 0 for a signed map, with its colour bar."""
    return signed_scale(float(np.nanmax(np.abs(a))) if np.size(a) else 1.0, title)


def positive(a: np.ndarray, title: str) -> dict:
    """A map that is never negative (after a ReLU): the positive half of the same scale,
    white at 0, with its colour bar."""
    top = float(np.nanmax(a)) if np.size(a) else 1.0
    bar = dict(title=dict(text=title), thickness=12)
    return dict(colorscale=POSITIVE_HALF, zmin=0.0, zmax=top if top > 0 else 1.0,
                showscale=True, colorbar=bar)  # fmt: skip


def scale_for(a: np.ndarray, title: str) -> dict:
    return signed_map(a, title) if np.size(a) and np.nanmin(a) < 0 else positive(a, title)


def _image_axes(n: int) -> tuple[dict, dict]:
    """x and y axes of an image of n pixels: row 0 at the top, no grid lines, whole-pixel
    ticks (every pixel up to 12, else every other one up to 24, else automatic)."""
    dtick = 1 if n <= 12 else 2 if n <= 24 else None
    x = dict(showgrid=False, zeroline=False, constrain="domain", dtick=dtick, tick0=0,
             title=dict(text="column", standoff=2))  # fmt: skip
    y = dict(showgrid=False, zeroline=False, autorange="reversed", dtick=dtick, tick0=0,
             title=dict(text="row", standoff=2))  # fmt: skip
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
    shapes: list[dict] = (), images: bool = True, axis_titles: list[tuple[str, str]] = (),
    **layout,
) -> go.Figure:  # fmt: skip
    """One row of panels with a title over each, in one call (what make_subplots(1, n)
    draws). ``images``: image axes (row 0 at the top, whole-pixel ticks, titled row and
    column); otherwise ``axis_titles`` gives each panel's (x, y) titles. A trace's colour
    bar stands just right of its own panel."""
    axes, notes = {}, []
    for k, (trace, (x0, x1), title) in enumerate(zip(traces, _domains(widths, spacing), titles)):
        s = "" if k == 0 else str(k + 1)
        trace.update(xaxis=f"x{s}", yaxis=f"y{s}")
        if images:
            xa, ya = _image_axes(max(np.shape(trace["z"])))
        else:
            xt, yt = axis_titles[k]
            xa, ya = dict(title=dict(text=xt)), dict(title=dict(text=yt))
        axes[f"xaxis{s}"] = dict(xa, domain=[x0, x1], anchor=f"y{s}")
        axes[f"yaxis{s}"] = dict(ya, anchor=f"x{s}")
        if trace.get("showscale"):
            trace["colorbar"] = dict(
                trace.get("colorbar", {}), x=x1 + 0.005, xanchor="left", len=0.9
            )
        notes.append(
            dict(text=title, x=(x0 + x1) / 2, y=1.0, xref="paper", yref="paper", xanchor="center",
                 yanchor="bottom", showarrow=False, font=dict(size=15), yshift=4)
        )  # fmt: skip
    layout = {"template": TEMPLATE, "height": height, "margin": PANEL_MARGIN,
              "annotations": notes, "shapes": list(shapes), **axes, **layout}  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def image(a: np.ndarray, title: str, text: bool = True, height: int = 300) -> go.Figure:
    """One grey image with its pixel values written in."""
    x, y = _image_axes(max(np.shape(a)))
    fig = go.Figure(_heat(a, image_scale(), text=text), layout=dict(xaxis=x, yaxis=y))
    base_layout(fig, title, "column", "row", height=height)
    fig.layout.margin = dict(l=40, r=10, t=50, b=40)
    return fig


def conv_figure(w: ConvStep) -> go.Figure:
    """Padded input with the pixels under the kernel, the kernel, and the output map."""
    cells = [_box(r, c, r, c, BOX) for r in w.rows for c in w.cols]  # dilation: gaps
    if w.P:  # the original image inside its padding
        H, W = w.x_pad.shape
        cells.append(_box(w.P, w.P, H - 1 - w.P, W - 1 - w.P, PAD, dash="dot"))
    cells.append(_box(w.r, w.c, w.r, w.c, BOX, panel=3))
    n = len(w.K)
    return _panels(
        [_heat(w.x_pad, image_scale(), text=w.x_pad.shape[0] <= 14),
         _heat(w.K, signed_map(w.K, "weight")),
         _heat(w.a, signed_map(w.a, "a"), text=w.a.shape[0] <= 10)],
        [f"input x, padded by P = {w.P}", f"kernel K ({n}×{n})",
         f"output a ({w.n_out[0]}×{w.n_out[1]})"],
        [0.4, 0.2, 0.4], 0.09, 360, cells,
    )  # fmt: skip


def kernel_key(cfg: cnn.CNNConfig, kern: str) -> object:
    """What the walkthrough's kernel ``kern`` depends on, for the figure's cache key: a
    learned kernel on the trained net (its config), a classic one on the dataset alone."""
    return cfg if kern not in cnn.KERNELS else (cfg.dataset, cfg.train_size)


def pool_figure(w: PoolStep) -> go.Figure:
    r0, c0 = w.r * w.s, w.c * w.s
    return _panels(
        [_heat(w.h, dict(positive(w.h, ""), showscale=False)), _heat(w.h_pool, positive(w.h, "h, h̃"))],
        [f"h = ReLU(a) ({w.h.shape[0]}×{w.h.shape[1]})",
         f"{w.kind} pool {w.k}×{w.k}, stride {w.s}: h̃ ({w.n_out[0]}×{w.n_out[1]})"],
        [1, 1], 0.12, 340,
        [_box(r0, c0, r0 + w.k - 1, c0 + w.k - 1, BOX), _box(w.r, w.c, w.r, w.c, BOX, 2)],
    )  # fmt: skip


# ---------------------------------------------------------------- texts of the lesson
IDEA = (
    "A convolution layer slides a small grid of weights, the kernel K, over the image and "
    "writes one weighted sum per position: a *feature map*, large where the image looks like "
    "the kernel (an edge, a stroke). A CNN learns its kernels, stacks a few such layers with "
    "pooling between them, and ends in a linear layer and a softmax over the ten digits."
)
XCORR = (
    "Strictly, the layer computes a **cross-correlation** x ⋆ K: the kernel slides over the "
    "image as it is. The convolution x ∗ K of signal processing (Goodfellow et al., *Deep "
    "Learning*, §9.1) first turns the kernel by 180°. PyTorch's `Conv2d`, like the other "
    "deep-learning libraries, computes the cross-correlation and calls it a convolution; as "
    "the kernel is learned, a network would simply learn the flipped kernel, so nothing else "
    "changes."
)
POOLING = (
    "After the ReLU, h = max(a, 0), pooling shrinks each feature map: every window becomes "
    "its **maximum** (max pooling, keeps the strongest response) or its **mean** (average "
    "pooling). Its output size is the formula above with the window as the kernel: n_K = S "
    "= the window's size, P = 0, d = 1."
)


def presets(dataset: str = "digits") -> dict[str, tuple[dict, str]]:
    """The "Try this" experiments; every number in a note is computed from the configs."""
    one = cnn.head_features(cnn.CNNConfig(dataset, layers=1, filters=16, pool="none"))
    pooled = cnn.head_features(cnn.CNNConfig(dataset, layers=1, filters=16))
    default = cnn.head_features(cnn.CNNConfig(dataset))
    return {
        "One filter only": (
            dict(layers=1, filters=1, k="3", pool="max", lr=0.01, opt="adam"),
            "A single 3×3 detector: how far does one feature get you?",
        ),
        "No pooling": (
            dict(pool="none", layers=1, filters=16),
            f"One conv layer, every position kept: the last layer reads {one:,} features, "
            f"{plain(one / pooled, DIGITS)}× as many as with 2×2 pooling ({pooled:,}) and "
            f"{plain(one / default, DIGITS)}× the default net's {default:,}, with as many "
            "times more weights; and a stroke moved by one pixel meets other weights.",
        ),
        "Learning rate far too large": (
            dict(lr=5.0, opt="adam", layers=2, filters=16),
            "η = 5: the first updates throw the weights so far that the loss explodes.",
        ),
    }


# ---------------------------------------------------------------- formulas with numbers
FORMULA = (
    r"a^{(1)}_{r,c} = \sum_{u=0}^{n_K-1}\sum_{v=0}^{n_K-1} K_{u,v}\;"
    r" x_{rS + ud - P,\; cS + vd - P} + b"
)
SIZE_FORMULA = r"n_a = \left\lfloor \frac{n_x + 2P - d\,(n_K-1) - 1}{S} \right\rfloor + 1"


def conv_sum_latex(w: ConvStep, max_terms: int = 9) -> str:
    """a_rc = sum_uv K_uv x_{rS+ud-P, cS+vd-P} + b, with the numbers."""
    terms = [(float(k), float(x)) for k, x in zip(w.K.ravel(), w.patch.ravel())]
    shown = terms if len(terms) <= max_terms else [t for t in terms if t[0] != 0][:max_terms]
    body = " ".join(
        (signed(k, DIGITS) if i else num(k, DIGITS)) + r"\cdot" + _paren(x)
        for i, (k, x) in enumerate(shown)
    )
    more = r" + \dots" if len(shown) < len(terms) else ""
    return (
        rf"a^{{(1)}}_{{{w.r},{w.c}}} = {body}{more} {signed(w.b, DIGITS)}"
        rf" = \mathbf{{{num(w.a_rc, DIGITS)}}}"
    )


def _paren(x: float) -> str:
    s = num(x, DIGITS)
    return f"({s})" if x < 0 else s


def output_size_latex(n: int, k: int, s: int, p: int, d: int, n_out: int) -> str:
    return (
        SIZE_FORMULA
        + rf" = \left\lfloor \frac{{{n} + 2\cdot{p} - {d}\cdot({k}-1) - 1}}{{{s}}} \right\rfloor + 1"
        rf" = {n_out}"
    )


def flip_latex(K: np.ndarray, r: int, c: int, xcorr: float, conv: float) -> str:
    """The flipped-kernel identity with the kernel's numbers and the two values at (r, c)."""
    return (
        rf"\operatorname{{flip}}(K) = {mat(cnn.flip(K), DIGITS)}, \quad"
        rf"(x \star K)_{{{r},{c}}} = {num(xcorr, DIGITS)}, \quad"
        rf"(x * K)_{{{r},{c}}} = (x \star \operatorname{{flip}}(K))_{{{r},{c}}} = {num(conv, DIGITS)}"
    )


IDENTITY = (
    r"(x * K)_{r,c} = \sum_{u,v} K_{u,v}\, x_{r + n_K - 1 - u,\; c + n_K - 1 - v}"
    r" = (x \star \operatorname{flip}(K))_{r,c}, \qquad"
    r" \operatorname{flip}(K)_{u,v} = K_{n_K - 1 - u,\; n_K - 1 - v}"
)


def conv_caption(w: ConvStep) -> str:
    n = len(w.K)
    return (
        f"The {BOX_NAME} squares mark the {n}×{n} pixels under the kernel for output "
        f"({w.r}, {w.c}); the dotted {PAD_NAME} box is the original image inside its padding. "
        f"{POSITIVE_NAME.capitalize()} is positive, {NEGATIVE_NAME} negative, white 0."
    )


def no_fit(n: int, nK: int, P: int, d: int) -> str:
    return (
        f"A {nK}×{nK} kernel with dilation {d} spans {d * (nK - 1) + 1} pixels: it does not "
        f"fit in {n}+2·{P} pixels."
    )


def flip_caption(K: np.ndarray, r: int, c: int, P: int) -> str:
    """Where the numbers come from, and what the flip does to this kernel."""
    flipped = cnn.flip(K)
    if np.array_equal(flipped, K):
        what = "This kernel is symmetric, flip(K) = K: both give the same map."
    elif np.array_equal(flipped, -K):
        what = (
            "For this kernel flip(K) = −K: a textbook convolution draws its map with "
            f"{POSITIVE_NAME} and {NEGATIVE_NAME} swapped."
        )
    else:
        what = "For this kernel the two maps differ."
    return f"Numbers at ({r}, {c}) of this image padded by P = {P}, at stride 1 without dilation. {what}"


def pool_latex(w: PoolStep) -> str:
    vals = [num(v, DIGITS) for v in w.window.ravel()]
    head = rf"\tilde h_{{{w.r},{w.c}}} = "
    if w.kind == "max":
        return head + rf"\max({', '.join(vals)}) = {num(w.h_pool_rc, DIGITS)}"
    return (
        head + rf"\tfrac{{1}}{{{w.window.size}}}({' + '.join(vals)}) = {num(w.h_pool_rc, DIGITS)}"
    )


def softmax_latex(sm: SoftmaxStep, j: int) -> str:
    """y_hat_j = exp(a_j - max a) / sum_j' exp(a_j' - max a) with the numbers of class j."""
    return (
        rf"\hat y_{{{j}}} = \frac{{e^{{a_{{{j}}} - \max a}}}}{{\sum_{{j'}} e^{{a_{{j'}} - \max a}}}}"
        rf" = \frac{{e^{{{num(sm.a[j], DIGITS)} - {_paren(sm.a_max)}}}}}{{{num(sm.S, DIGITS)}}}"
        rf" = \frac{{{num(sm.e[j], DIGITS)}}}{{{num(sm.S, DIGITS)}}} = {num(sm.y_hat[j], DIGITS)}"
    )


def softmax_sum_latex(sm: SoftmaxStep, small: float = 1e-3) -> str:
    """The denominator: every e^{a_j - max a} of at least ``small`` with its value, the
    others summed under one brace (ten terms in full would not fit a line), and the sum."""
    big, rest = sm.e[sm.e >= small], sm.e[sm.e < small]
    terms = " + ".join(num(v, DIGITS) for v in big)
    if rest.size:
        terms += (
            rf" + \underbrace{{{num(rest.sum(), DIGITS)}}}"
            rf"_{{\text{{the other {rest.size}, each below {plain(small, DIGITS)}}}}}"
        )
    return rf"\sum_{{j=0}}^{{9}} e^{{a_j - \max a}} = {terms} = {num(sm.S, DIGITS)}"


def logits_latex(sm: SoftmaxStep) -> str:
    return r"a = (" + r",\ ".join(num(v, DIGITS) for v in sm.a) + ")"


# ---------------------------------------------------------------- training


def curves(h: History, title: str = "Training curves") -> go.Figure:
    """Loss and accuracy per epoch, side by side; train blue, test vermillion (dotted)."""
    traces = []
    for k, (train, test) in enumerate([(h.train_loss, h.test_loss), (h.train_acc, h.test_acc)]):
        for y, name, color, dash in [(train, "train", TRAIN, "solid"), (test, "test", TEST, "dot")]:
            traces.append(
                dict(type="scatter", x=h.epoch, y=y, name=name, showlegend=k == 0,
                     line=dict(color=color, dash=dash), legendgroup=name,
                     xaxis="x" if k == 0 else "x2", yaxis="y" if k == 0 else "y2",
                     text=[pct(v) if k else plain(v, DIGITS) for v in y],
                     hovertemplate=f"{name}, epoch %{{x}}: %{{text}}<extra></extra>")
            )  # fmt: skip
    dtick = max(1, round(len(h.epoch) / 6))
    ep = dict(title=dict(text="epoch"), rangemode="tozero", dtick=dtick)
    notes = [
        dict(text=t, x=x, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom",
             showarrow=False, font=dict(size=14), yshift=4)
        for t, x in [("cross-entropy loss", 0.23), ("accuracy", 0.77)]
    ]  # fmt: skip
    layout = dict(
        template=TEMPLATE, height=320, annotations=notes,
        title=dict(text=title, x=0.0, font=dict(size=15)), margin=dict(l=55, r=10, t=80, b=45),
        legend=dict(orientation="h", yanchor="bottom", y=1.1, xanchor="right", x=1.0),
        xaxis=dict(ep, domain=[0, 0.46], anchor="y"), yaxis=dict(title=dict(text="loss"), rangemode="tozero", anchor="x"),
        xaxis2=dict(ep, domain=[0.54, 1], anchor="y2"),
        yaxis2=dict(title=dict(text="accuracy"), range=[0, 1.02], tickformat=".0%", anchor="x2"),
    )  # fmt: skip
    return go.Figure(traces, layout=layout)


def confusion(cm: np.ndarray) -> go.Figure:
    fig = go.Figure(
        dict(
            type="heatmap", z=cm, x=list(range(10)), y=list(range(10)), colorscale=SEQUENTIAL,
            text=cm, texttemplate="%{text}", showscale=True,
            colorbar=dict(title=dict(text="images"), thickness=12),
            hovertemplate="true %{y}, predicted %{x}: %{z} images<extra></extra>",
        ),
        layout=dict(yaxis=dict(autorange="reversed", dtick=1), xaxis=dict(dtick=1)),
    )  # fmt: skip
    return base_layout(
        fig, "Confusion matrix (test set)", "predicted digit", "true digit", height=400
    )


def grid_of_maps(
    maps: np.ndarray, title: str, labels: list[str] | None = None, cols: int = 8,
    colorscale: str | None = None, height_per_row: int = 110, name: str = "map",
    colorbar: str | None = "value",
) -> go.Figure:  # fmt: skip
    """Small multiples of 2-D arrays (C, h, w), e.g. filters or feature maps: one heatmap of
    tiles, ``cols`` to a row, separated by blank (NaN) pixels, on one colour scale shared by
    all tiles with a colour bar titled ``colorbar`` (None: no bar). Without a ``colorscale``:
    signed maps use the diverging scale (white 0, positive blue, negative red), maps without
    a negative value (after a ReLU) its white-to-blue half. Each tile's label, if any, stands
    above it; hovering tells the tile (``name`` and its number, from 1), the row and column
    inside it, and the value."""
    maps = np.asarray(maps, dtype=float)
    n, h, w = maps.shape
    if colorscale is None:
        scale = scale_for(maps, colorbar or "")
    else:
        scale = dict(colorscale=colorscale, showscale=colorbar is not None)
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
    if colorbar is not None:
        scale["colorbar"] = dict(title=dict(text=colorbar, side="right"), thickness=12,
                                 outlinewidth=0)  # fmt: skip
    cells = 1 if max(h, w) <= 16 else 0  # pixel borders only where pixels are large
    heat = dict(
        type="heatmap", z=z, customdata=where, hoverongaps=False, xgap=cells, ygap=cells,
        hovertemplate=f"{name} %{{customdata[0]}}, row %{{customdata[1]}}, "
        "column %{customdata[2]}: %{z:.3g}<extra></extra>", **scale,
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
    title = f"Learned kernels K of layer 1 ({POSITIVE_NAME} positive, {NEGATIVE_NAME} negative)"
    return grid_of_maps(W, title, name="kernel", colorbar="weight")


def probabilities(y_hat: np.ndarray, true: int | None = None) -> go.Figure:
    top = int(np.argmax(y_hat))
    colors = [TEST if i == top else TRAIN for i in range(10)]
    text = [plain(v, DIGITS) if v >= 1e-3 else "" for v in y_hat]
    fig = go.Figure(
        dict(type="bar", x=list(range(10)), y=y_hat, marker_color=colors, text=text,
             textposition="outside", customdata=[plain(v, DIGITS) for v in y_hat],
             hovertemplate="digit %{x}: ŷ = %{customdata}<extra></extra>"),
        layout=dict(xaxis=dict(dtick=1), yaxis=dict(range=[0, 1.15])),
    )  # fmt: skip
    t = "Softmax probabilities ŷ" + (f" (true digit {true})" if true is not None else "")
    return base_layout(fig, t, "digit", "probability", height=300)


def budget_bars(names: list[str], counts: list[int], accs: list[float]) -> go.Figure:
    """Parameters and test error (the share of test images wrong) of models side by side:
    the error, not the accuracy, so that 98.6% and 97.2% (1.4% and 2.8% wrong) do not look
    the same on bars that start at 0."""
    errors = [100 * (1 - a) for a in accs]
    bars = [
        dict(type="bar", x=names, y=vals, marker_color=list(PALETTE[: len(names)]),
             text=text, textposition="outside", showlegend=False)
        for vals, text in [(counts, [f"{c:,}" for c in counts]),
                           (errors, [pct(1 - a) for a in accs])]
    ]  # fmt: skip
    fig = _panels(
        bars, ["parameters", "test error (share of test images wrong)"], [1, 1], 0.12, 300,
        images=False, axis_titles=[("model", "parameters"), ("model", "test error (%)")],
        margin=dict(l=60, r=10, t=50, b=45),
    )  # fmt: skip
    fig.layout.yaxis.range = [0, max(counts) * 1.2]
    fig.layout.yaxis2.range = [0, max(max(errors), 1e-9) * 1.25]
    return fig


def misclassified(imgs: np.ndarray, labels: list[str]) -> go.Figure:
    """The wrongly classified test images (k, h, w), titled 'true→predicted'."""
    title = "Misclassified test images (true→predicted), most confident first"
    return grid_of_maps(
        imgs, title, labels, cols=6, colorscale=GREYS, height_per_row=150, name="image",
        colorbar=None,
    )  # fmt: skip


# ---------------------------------------------------------------- texts


def key_numbers(res: cnn.Result) -> str:
    """The trained model in one line: accuracy, error, parameters, time."""
    n_test = int(res.confusion.sum())
    wrong = n_test - int(np.trace(res.confusion))
    return (
        f"**Your CNN** (settings in the sidebar): **{pct(res.test_acc)}** test accuracy, "
        f"{wrong} of {n_test:,} test images wrong · {res.n_params:,} parameters · "
        f"trained in {plain(res.seconds, DIGITS)} s on {res.device.upper()}"
    )


def dropout_note(cfg: cnn.CNNConfig) -> str:
    """What the dropout slider does, with the numbers of this net."""
    n, p = cnn.head_features(cfg), cfg.dropout
    scale = f" = {plain(1 / (1 - p), DIGITS)}" if p > 0 else ""
    return (
        f"Dropout: while training, each of the {n:,} inputs of the last layer is zeroed with "
        f"probability p{f' = {plain(p, DIGITS)}' if p > 0 else ''} and the others are "
        f"multiplied by 1/(1 − p){scale}, so each keeps its expected value; at test time "
        "nothing is dropped. More in [the playground's dropout lesson](playground)."
    )


def canvas_drawing(points, width: int, color: str = "#000000") -> dict:
    """A drawing canvas's starting content (Fabric.js JSON, as ``st_canvas`` takes it): one
    stroke through ``points`` (x, y) with a round pen of ``width`` pixels."""
    xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
    path = [["M", xs[0], ys[0]]] + [["L", x, y] for x, y in zip(xs[1:], ys[1:])]
    return {
        "version": "7.4.0",
        "objects": [{
            "type": "Path", "originX": "center", "originY": "center",
            "left": (min(xs) + max(xs)) / 2, "top": (min(ys) + max(ys)) / 2,
            "width": max(xs) - min(xs), "height": max(ys) - min(ys),
            "fill": None, "stroke": color, "strokeWidth": width, "strokeLineCap": "round",
            "strokeLineJoin": "round", "path": path,
        }],
    }  # fmt: skip


def canvas_settings(blank: bool) -> dict:
    """``st_canvas``'s arguments for the digit canvas: a square of ``images.CANVAS_SIDE``
    pixels, black ink on white, the pen's width; blank, or starting from the sample seven."""
    side, pen = images.CANVAS_SIDE, images.STROKE_WIDTH
    sample = None if blank else canvas_drawing(images.SAMPLE_SEVEN_STROKE, pen)
    return dict(
        stroke_width=pen, stroke_color="#000000", background_color="#ffffff", height=side,
        width=side, initial_drawing=sample, return_image_data=True,
    )  # fmt: skip


# ---------------------------------------------------------------- the page's other texts
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD"}
FILTERS_LABEL = f"Filters in layer 1 (doubling per layer, at most {cnn.MAX_FILTERS})"
CURVES_NOTE = (
    "Train: the mean over each epoch's mini-batches, while the weights still change (with "
    "dropout on, when p > 0); test: the whole test set after the epoch. So the test curve can "
    "lie above the train curve early on."
)
UPLOAD_HELP = (
    "Dark on light or light on dark, a photo or a transparent PNG; at most "
    f"{images.MAX_UPLOAD_BYTES / 1e6:g} MB."
)
DRAW_HELP = (
    "Draw a digit with the mouse, below the canvas's toolbar (undo, redo, back to the "
    "start). It is cropped, centred and shrunk to the model's input."
)


def symbols() -> str:
    """The caption of the key formula's symbols, from the app's notation table."""
    return notation.caption(
        "x", "K", "b", "a", "conv_rc", "conv_uv", "stride", "padding", "dilation", "conv_sizes",
        x="the input image (0 in the padding)", K="the kernel", b="its bias",
        a="layer 1's feature map (before the ReLU)", conv_rc="an output's row and column",
        conv_uv="a kernel's row and column", stride="stride", padding="zero padding",
        dilation="dilation", conv_sizes="input, kernel and output sizes (pixels a side)",
    )  # fmt: skip


def live_view(label: str):
    """The live chart of a training run: on_step's arguments -> (done, caption, figure)."""

    def view(epoch: int, epochs: int, hist: History):
        return epoch / epochs, f"Training {label}: epoch {epoch}/{epochs}", curves(hist, "Training (live)")  # fmt: skip

    return view


def time_note(res: cnn.Result) -> str:
    graph = " (one CUDA graph)" if res.cuda_graph else ""
    return f"{res.steps} steps on {res.device.upper()}{graph}"


def mlp_note(cfg: cnn.CNNConfig) -> str:
    return (
        f"An MLP with one hidden layer of {cnn.mlp_hidden(cfg)} units has about as many "
        "parameters, trained with the same optimizer and epochs. It sees the pixels as an "
        "unordered list: it cannot reuse one detector at every position."
    )


def prediction_note(idx: int, true: int, label: int) -> str:
    return (
        f"**Test image {idx}** (true digit {true}): predicted **{label}**. The softmax turns "
        "the ten logits a (the last layer's pre-activation) into probabilities ŷ:"
    )


def reads_as(sm: SoftmaxStep, label: int) -> str:
    return f"The CNN reads your digit as **{label}** (ŷ = {plain(sm.y_hat[label], DIGITS)})."


def mistakes_note(res: cnn.Result) -> str:
    return (
        f"{pct(1 - res.test_acc)} of the test images are read wrong. The confusion matrix "
        "counts, for each true digit (row), what the CNN predicted (column): everything off "
        "the diagonal is a mistake."
    )


def wrong_labels(res: cnn.Result, y_test, wrong) -> list[str]:
    return [f"#{k}: {int(y_test[k])}→{int(res.test_pred[k])}" for k in wrong]


def training_note(res: cnn.Result, batch: int) -> str:
    graph = ", each replayed as one CUDA graph" if res.cuda_graph else ""
    return (
        f"Trained on {res.device.upper()} in {plain(res.seconds, DIGITS)} s: {res.steps} "
        f"steps of {batch} images{graph}."
    )


# ---------------------------------------------------------------- what each tab shows


def metrics(res: cnn.Result) -> list[tuple[str, str, str | None]]:
    """The trained model's numbers as (label, value, help) of the page's metrics."""
    return [
        ("Test accuracy", pct(res.test_acc), None),
        ("Test error", pct(1 - res.test_acc), None),
        ("Parameters", f"{res.n_params:,}", None),
        ("Training time", f"{plain(res.seconds, DIGITS)} s", time_note(res)),
    ]


def cnn_vs_mlp(res: cnn.Result, mres: cnn.Result) -> go.Figure:
    """The CNN and the MLP with its parameter budget, side by side."""
    names, counts = ["CNN", "MLP"], [res.n_params, mres.n_params]
    return budget_bars(names, counts, [res.test_acc, mres.test_acc])


def softmax_lines(sm: SoftmaxStep, label: int) -> list[str]:
    """The softmax of one image with its numbers: the logits a, the denominator, and y_hat
    of the predicted digit."""
    return [logits_latex(sm), softmax_sum_latex(sm), softmax_latex(sm, label)]


def test_image_figure(x: np.ndarray, idx: int) -> go.Figure:
    """Test image ``idx`` (H, W) with its pixel values."""
    return image(x, f"Test image {idx}", height=300)


def feature_map_grids(
    maps: list[np.ndarray], name: str, subject: str
) -> list[tuple[str, Callable[[], go.Figure]]]:
    """Per conv layer l, the chart name ``<name><l>`` and a builder of the grid of its
    feature maps h (C_l, H_l, W_l) after the ReLU for one image, the ``subject``
    ("test image 3", "your digit")."""
    grids = []
    for layer, m in enumerate(maps, start=1):
        title = f"Feature maps h of layer {layer} for {subject} (after ReLU)"
        grids.append((f"{name}{layer}", partial(grid_of_maps, m, title, colorbar="h")))
    return grids


def mistakes_figure(res: cnn.Result, data, wrong: np.ndarray) -> go.Figure:
    """The test images ``wrong`` (indices into ``data``'s test set), titled true→predicted."""
    return misclassified(data.X_test[wrong, 0].numpy(), wrong_labels(res, data.y_test, wrong))


def gaps_table(rows: list[dict]) -> Styler:
    """``cnn.reference_gaps`` as a table, every gap written by ``plain``."""
    return pd.DataFrame(rows).style.format({"max |difference|": plain})


def hand_written_code() -> str:
    """The source of the hand-written window view, convolution, pooling and the textbook
    convolution, as the page shows it under the hood."""
    code = (cnn.patches, cnn.conv2d, cnn.max_pool2d, cnn.convolve2d)
    return "\n\n".join(inspect.getsource(f) for f in code)
