"""Figures and formulas for the neural-network playground."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dl_core.data2d import EXTENT
from dl_core.mlp import (
    BN_EPS,
    FEATURE_LABELS,
    FEATURE_LATEX,
    BatchNormView,
    Config,
    Data,
    DropoutView,
    Grid,
    Net,
    NeuronWalk,
    WeightUpdate,
)
from viz import latex, style
from viz.latex import num, paren, signed
from viz.style import CATEGORY10, MARKERS, NEGATIVE, PALETTE, POSITIVE, base_layout

NEG, POS = NEGATIVE, POSITIVE  # the rulebook's sign colours: weights, neuron outputs
# Two classes: class 0 is where the output a is negative, class 1 where it is positive, so
# they take the sign colours (as in TensorFlow Playground); three or more: CATEGORY10.
BINARY_COLORS = (NEG, POS)
PROBABILITY_SCALE = [[0.0, NEG], [0.5, "#F7F7F7"], [1.0, POS]]  # P(class 1), 0 .. 1


def class_colors(K: int) -> tuple[str, ...]:
    return BINARY_COLORS if K <= 2 else CATEGORY10[:K]


def tile_scale(cfg: Config) -> str:
    """The tiles' colour bar: what a colour means (the output tile differs by task)."""
    out = "2ŷ − 1" if cfg.task != "regression" else "ŷ, scaled too"
    return f"h per tile, scaled to ±1 (output: {out})"


def _fmt(x: float) -> str:
    """A number for hover text: the formulas' digits (``DIGITS``), a Unicode minus."""
    return latex.plain(x, DIGITS).replace("-", "−")


# ---------------------------------------------------------------- the input plane


def decision_map(
    g: Grid,
    cfg: Config,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    title: str = "Decision boundary",
) -> go.Figure:
    """The network's output over the plane as a heat map, with the points.

    Two classes: ŷ = P(class 1) from the class-0 colour (0) through white to the class-1
    colour (1); K classes: the class colours mixed by their softmax probabilities;
    regression: the predicted value on the rulebook's signed scale."""
    fig = go.Figure()
    if cfg.task == "multiclass":
        K = g.output.shape[-1]
        conf = (g.output.max(-1) - 1 / K) / (1 - 1 / K)  # 0 (unsure) .. 1 (certain)
        z = (g.output.argmax(-1) + np.clip(conf, 0, 0.999)).astype(np.float32)  # k: [k, k+1)
        scale = []
        for k in range(K):  # within [k, k+1): from white to the class colour
            end = 1.0 if k == K - 1 else (k + 1) / K - 1e-9
            scale += [[k / K, "#FFFFFF"], [end, class_colors(K)[k]]]
        fig.add_trace(
            go.Heatmap(x=g.xs, y=g.ys, z=z, zmin=0, zmax=K, colorscale=scale, showscale=False,
                       opacity=0.75, hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>class, confidence=%{z:.2f}<extra></extra>")
        )  # fmt: skip
    else:  # z in float32: half the bytes, differences far below a colour or a hover digit
        reg = cfg.task == "regression"
        label = "prediction ŷ" if reg else "ŷ = P(class 1)"
        colours = (
            style.signed_scale(1.0, label) if reg else dict(
                colorscale=PROBABILITY_SCALE, zmin=0, zmax=1,
                colorbar=dict(title=dict(text=label), thickness=12))
        )  # fmt: skip
        colours["colorbar"]["title"]["side"] = "right"
        fig.add_trace(
            go.Heatmap(
                x=g.xs, y=g.ys, z=g.output.astype(np.float32), opacity=0.75, **colours,
                hovertemplate=f"x₁=%{{x:.2f}}<br>x₂=%{{y:.2f}}<br>{label}=%{{z:.3f}}<extra></extra>",
            )
        )  # fmt: skip
    _points(fig, cfg, X_train, y_train, "train")
    if X_test is not None and y_test is not None:
        _points(fig, cfg, X_test, y_test, "test")
    base_layout(fig, title, "x₁", "x₂", height=430)
    fig.update_xaxes(range=[-EXTENT, EXTENT], constrain="domain", showgrid=False, zeroline=False)
    # constrain="domain" on both: the square shrinks its box instead of stretching the y range
    fig.update_yaxes(range=[-EXTENT, EXTENT], scaleanchor="x", showgrid=False, zeroline=False,
                     autorange=False, constrain="domain")  # fmt: skip
    return fig


def live_map(g: Grid, cfg: Config, data: Data, show_test: bool) -> go.Figure:
    """The live view's map: the decision boundary (the regression surface) with the training
    points, and the test points (hollow) when the page's toggle asks for them."""
    test = (data.X_test.numpy(), data.y_test.numpy()) if show_test else (None, None)
    title = "Regression surface" if cfg.task == "regression" else "Decision boundary"
    return decision_map(g, cfg, data.X_train.numpy(), data.y_train.numpy(), *test, title)


def _points(fig: go.Figure, cfg: Config, X: np.ndarray, y: np.ndarray, name: str):
    """Training points filled with a white rim; test points hollow (``-open``), thicker."""
    test = name == "test"
    if cfg.task == "regression":
        fig.add_trace(
            go.Scatter(
                x=X[:, 0], y=X[:, 1], mode="markers", name=f"{name} points",
                marker=dict(color=y, cmin=-1, cmax=1, colorscale=[list(c) for c in style.DIVERGING],
                            size=8 if test else 7, symbol="circle-open" if test else "circle",
                            line=dict(color="black" if test else "white", width=2 if test else 1)),
                hovertemplate=f"{name}: y=%{{marker.color:.3f}}<extra></extra>",
            )
        )  # fmt: skip
        return
    K = max(cfg.n_classes, 2)
    for k in range(K):
        m = y == k
        symbol = MARKERS[k] + ("-open" if test else "")
        line = dict(color=class_colors(K)[k], width=2) if test else dict(color="white", width=1)
        fig.add_trace(
            go.Scatter(
                x=X[m, 0], y=X[m, 1], mode="markers", name=f"class {k} ({name})",
                marker=dict(color=class_colors(K)[k], size=8 if test else 7, symbol=symbol,
                            line=line),
                hovertemplate=f"{name}, class {k}: (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )  # fmt: skip


# ---------------------------------------------------------------- curves


MAX_CURVE_POINTS = 1000  # a curve keeps one point a tick: a long session is thinned to this


def thin(x, *ys, max_points: int = MAX_CURVE_POINTS) -> list[np.ndarray]:
    """``x`` and each of ``ys`` at most ``max_points`` evenly spread indices, first and last
    kept (float32: a line's width hides the rest)."""
    idx = np.unique(np.linspace(0, max(len(x) - 1, 0), max_points).round().astype(int))
    return [np.asarray(v, dtype=np.float32)[idx[: len(v)]] for v in (x, *ys)]


def loss_curves(epoch, train_loss, test_loss, diverged_at: int | None = None) -> go.Figure:
    epoch, train_loss, test_loss = thin(epoch, train_loss, test_loss)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epoch, y=train_loss, name="train loss", line=dict(color=PALETTE[0])))
    fig.add_trace(
        go.Scatter(x=epoch, y=test_loss, name="test loss", line=dict(color=PALETTE[3], dash="dot"))
    )
    base_layout(
        fig, "Loss (data term, without the penalty)", "epoch", "loss (log scale)", height=300
    )
    fig.update_yaxes(type="log")
    return fig


def accuracy_curves(epoch, train_acc, test_acc) -> go.Figure:
    """Accuracy with its axis zoomed to the data (from 0 it makes 97% and 99% look equal)."""
    epoch, train_acc, test_acc = thin(epoch, train_acc, test_acc)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epoch, y=train_acc, name="train", line=dict(color=PALETTE[0])))
    fig.add_trace(
        go.Scatter(x=epoch, y=test_acc, name="test", line=dict(color=PALETTE[3], dash="dot"))
    )
    base_layout(fig, "Accuracy (axis zoomed to the data)", "epoch", "accuracy", height=300)
    fig.update_yaxes(range=accuracy_range(train_acc, test_acc), tickformat=".0%")
    return fig


def accuracy_range(*curves) -> list[float]:
    """[lowest accuracy shown - a margin, just above 1]: the axis starts at the data."""
    vals = np.concatenate([np.asarray(c, dtype=float) for c in curves])
    vals = vals[np.isfinite(vals)]
    lo = float(vals.min()) if len(vals) else 0.0
    return [max(0.0, lo - max(0.02, 0.1 * (1 - lo))), 1.005]


def confusion_figure(C: np.ndarray) -> go.Figure:
    K = len(C)
    names = [f"class {k}" for k in range(K)]
    fig = go.Figure(
        go.Heatmap(
            z=C, x=names, y=names, colorscale=style.SEQUENTIAL, showscale=False, text=C,
            texttemplate="%{text}", hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )  # fmt: skip
    base_layout(fig, "Confusion matrix (test points)", "predicted class", "true class", height=300)
    fig.update_yaxes(autorange="reversed")
    return fig


# ---------------------------------------------------------------- the network


def network_figure(
    cfg: Config, params: list[dict[str, np.ndarray]], tiles: Grid, highlight=None
) -> go.Figure:
    """The network drawn as TensorFlow Playground does: one small heat map per
    neuron (its output h over the input plane, each scaled to its own range, on the
    rulebook's signed scale with a colour bar), edges whose width grows with |w| and
    whose colour is its sign. ``highlight`` = (layer, unit), 1-based, outlines one neuron."""
    T = tiles.layers[0].shape[0]  # tile size in cells
    sizes = cfg.sizes
    M = max(sizes)
    gap = T // 3 + 1
    H = M * (T + gap)
    col_w = int(np.clip((1.5 * H - T) / (len(sizes) - 1), 1.8 * T, 4 * T))  # keep it ~1.5:1
    W = (len(sizes) - 1) * col_w + T
    centres: list[list[tuple[float, float]]] = []
    columns = []  # one heat map per layer: only its tiles' rows, so no empty canvas is sent
    for c, n in enumerate(sizes):
        layer = tiles.layers[c]  # (T, T, n)
        top = H - ((M - n) * (T + gap)) / 2 - gap / 2  # centre the column vertically
        col, ys, rows = [], [], []
        for r in range(n):
            y0 = int(round(top - (r + 1) * (T + gap) + gap / 2))
            tile = layer[..., r]
            if c == len(sizes) - 1 and cfg.task != "regression":
                out = tiles.output if tiles.output.ndim == 2 else tiles.output[..., r]
                tile = out * 2 - 1  # probabilities 0..1 drawn as -1..1
            else:
                scale = np.nanmax(np.abs(tile)) if np.isfinite(tile).any() else 1.0
                tile = tile / scale if scale > 0 else tile
            col.append((c * col_w, y0 + T / 2))
            ys.append(np.arange(y0, y0 + T))
            rows.append(np.clip(tile, -1, 1))
        centres.append(col)
        columns.append(_column_heatmap(c * col_w, T, ys[::-1], rows[::-1]))  # bottom up
    fig = go.Figure()
    _edges(fig, params, centres, T)  # below the tiles
    fig.add_traces(columns)
    corners = np.array([[0, 0], [T, 0], [T, T], [0, T], [0, 0], [np.nan, np.nan]]) - [0.5, 0.5]
    frames = np.concatenate(
        [corners + [x0, yc - T / 2] for col in centres for x0, yc in col]
    ).astype(np.float32)  # (6 * neurons, 2): a frame around every tile: a dead neuron shows
    fig.add_trace(
        go.Scatter(x=frames[:, 0], y=frames[:, 1], mode="lines", hoverinfo="skip",
                   line=dict(color="#BBBBBB", width=1))
    )  # fmt: skip
    notes = []  # set at once below: one add_annotation at a time re-validates the earlier ones
    for c, n in enumerate(sizes):
        x = c * col_w + T / 2
        head = ("Input features" if c == 0 else "Output" if c == len(sizes) - 1
                else f"Hidden layer {c}")  # fmt: skip
        notes.append(dict(x=x, y=H + 1, text=f"{head}<br>{n} neuron{'s' * (n != 1)}",
                          showarrow=False, yanchor="bottom", font=dict(size=11)))  # fmt: skip
    for r, name in enumerate(cfg.features):
        x0, yc = centres[0][r]
        notes.append(dict(x=x0 - 1, y=yc, text=FEATURE_LABELS[name], showarrow=False,
                          xanchor="right", font=dict(size=12)))  # fmt: skip
    if highlight is not None:
        lay, unit = highlight
        if 1 <= lay < len(sizes) and 1 <= unit <= sizes[lay]:
            x0, yc = centres[lay][unit - 1]
            fig.add_shape(type="rect", x0=x0 - 1.5, x1=x0 + T + 0.5, y0=yc - T / 2 - 1.5,
                          y1=yc + T / 2 + 0.5, line=dict(color="black", width=2))  # fmt: skip
    fig.update_layout(
        title=dict(text="The network: each neuron's output over the plane; edges = weights",
                   x=0, font=dict(size=15)),
        height=max(330, 110 + M * 52), margin=dict(l=10, r=10, t=80, b=10),
        showlegend=False, annotations=notes,
        xaxis=dict(visible=False, range=[-8, W + 1]),
        yaxis=dict(visible=False, range=[-1, H + 8], scaleanchor="x"),
        coloraxis=dict(colorscale=[list(c) for c in style.DIVERGING], cmin=-1, cmax=1, cmid=0,
                       showscale=True, colorbar=dict(
                           title=dict(text=tile_scale(cfg), side="right"), thickness=10, len=0.8,
                           tickvals=[-1, 0, 1], ticktext=["−1", "0", "+1"])),
    )  # fmt: skip
    return fig


def _column_heatmap(x0: int, T: int, ys: list[np.ndarray], tiles: list[np.ndarray]) -> go.Heatmap:
    """One layer's tiles (each (T, T), rows at ``ys``, listed bottom up) as one heat map.

    Its y coordinates skip the gaps between tiles: a cell spans half-way to its neighbours,
    so each gap gets two blank rows, one next to each tile, and every tile cell stays 1 x 1.
    float32 (values in [-1, 1]): half the bytes of float64, differences far below a colour."""
    y, z = [ys[0]], [tiles[0]]
    blank = np.full((1, T), np.nan)
    for prev, y_next, tile in zip(ys, ys[1:], tiles[1:]):
        gap = range(prev[-1] + 1, y_next[0])  # the rows between two tiles
        pad = sorted({gap[0], gap[-1]}) if gap else []
        y += [np.array(pad), y_next]
        z += [np.repeat(blank, len(pad), 0), tile]
    return go.Heatmap(
        x=np.arange(x0, x0 + T), y=np.concatenate(y), z=np.concatenate(z).astype(np.float32),
        coloraxis="coloraxis", hoverinfo="skip",
    )  # fmt: skip


def _edges(fig: go.Figure, params, centres, T: int, bins: int = 6) -> None:
    """All edges in at most 2 * bins traces (one per sign and width class), built as
    NaN-separated numpy arrays (plotly validates those far faster than lists)."""
    Ws = [p["W"] for p in params]
    wmax = max((float(np.nanmax(np.abs(w))) for w in Ws if w.size), default=1.0)
    wmax = wmax if np.isfinite(wmax) and wmax > 0 else 1.0
    segs, texts = [], []  # (E, 2, 2) endpoints; hover text
    weights = []
    for lay, Wl in enumerate(Ws):
        a = np.asarray(centres[lay], dtype=float) + [T, 0]  # (n_in, 2) right edges of tiles
        b = np.asarray(centres[lay + 1], dtype=float)  # (n_out, 2) left edges
        ii, jj = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
        segs.append(np.stack([a[ii.ravel()], b[jj.ravel()]], axis=1))  # (n_in*n_out, 2, 2)
        weights.append(Wl.ravel())
        texts += [f"W⁽{_sup(lay + 1)}⁾{_sub(j + 1)}{_sub(i + 1)} = {_fmt(w)}"  # row: unit j
                  for i, j, w in zip(ii.ravel(), jj.ravel(), Wl.ravel(), strict=True)]  # fmt: skip
    seg, w = np.concatenate(segs).astype(np.float32), np.concatenate(weights)  # half-cells: exact
    ok = np.isfinite(w)
    cls = np.minimum((np.abs(np.nan_to_num(w)) / wmax * bins).astype(int), bins - 1)
    for positive in (True, False):
        for b in range(bins):
            m = ok & (cls == b) & ((w >= 0) == positive)
            if not m.any():
                continue
            pts = np.concatenate([seg[m], np.full((int(m.sum()), 1, 2), np.nan)], axis=1)
            fig.add_trace(
                go.Scatter(x=pts[..., 0].ravel(), y=pts[..., 1].ravel(), mode="lines",
                           hoverinfo="skip", line=dict(color=POS if positive else NEG,
                                                       width=0.6 + 1.2 * b),
                           opacity=0.35 + 0.1 * b)
            )  # fmt: skip
    mid = seg.mean(axis=1)  # (E, 2)
    fig.add_trace(
        go.Scatter(x=mid[:, 0], y=mid[:, 1], mode="markers", marker=dict(size=6, opacity=0),
                   hovertext=np.array(texts), hoverinfo="text")
    )  # fmt: skip


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _sup(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# ---------------------------------------------------------------- formulas


ACT_LATEX = {
    "tanh": r"\tanh", "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}",
    "linear": r"\operatorname{id}", "softmax": r"\operatorname{softmax}", "identity": "",
}  # fmt: skip
DIGITS = 3  # significant digits of every number on the page: one formatter (issue 18)
KEY_FORMULA = (
    r"a^{(l)} = W^{(l)} h^{(l-1)} + b^{(l)},\quad h^{(l)} = \varphi\big(a^{(l)}\big),\quad "
    r"h^{(0)} = x \qquad\qquad \theta \leftarrow \theta - \eta\, \nabla_\theta L"
)


def n3(x: float) -> str:
    return num(x, DIGITS)


def general_formulas(cfg: Config) -> list[str]:
    """The network's equations, every symbol named on the page."""
    f = ACT_LATEX[cfg.activation]
    lines = [
        rf"a^{{(l)}}_j = \sum_i W^{{(l)}}_{{ji}}\, h^{{(l-1)}}_i + b^{{(l)}}_j, \qquad h^{{(l)}}_j = {f}\big(a^{{(l)}}_j\big)"
    ]
    if cfg.batch_norm:
        lines.append(
            r"\text{batch norm: } a \leftarrow \gamma\,\hat a + \beta_{\mathrm{BN}},\ \hat a = \frac{a-\mu_B}{\sqrt{\sigma_B^2+\epsilon}}"
            r"\ \text{before } \varphi \ \ (\text{evaluation: } \mu_{\mathrm{run}}, \sigma^2_{\mathrm{run}})"
        )
    if cfg.dropout > 0:
        lines.append(
            r"\text{dropout (training only): } h \leftarrow \frac{r \odot h}{1-p},\quad r_j \sim \mathrm{Bernoulli}(1-p)"
        )
    mean = r"\frac{1}{|B|}\sum_{i \in B}"
    if cfg.task == "binary":
        lines.append(
            rf"\hat y = \sigma(a^{{\text{{out}}}}),\qquad L = -{mean} \big[y_i \log \hat y_i + (1-y_i)\log(1-\hat y_i)\big]"
        )
    elif cfg.task == "multiclass":
        lines.append(
            rf"\hat y_k = \frac{{e^{{a^{{\text{{out}}}}_k}}}}{{\sum_c e^{{a^{{\text{{out}}}}_c}}}},\qquad L = -{mean} \log \hat y_{{i,y_i}}"
        )
    else:
        lines.append(rf"\hat y = a^{{\text{{out}}}},\qquad L = {mean} (\hat y_i - y_i)^2")
    if cfg.regularization == "l1":
        lines[-1] += r" \;+\; \alpha \sum |W|"
    elif cfg.regularization == "l2":
        lines[-1] += r" \;+\; \frac{\alpha}{2} \sum W^2"
    return lines  # fmt: skip


def _input_name(cfg: Config, layer: int, i: int) -> str:
    if layer == 1:
        return FEATURE_LATEX[cfg.features[i]]
    return rf"h^{{({layer - 1})}}_{{{i + 1}}}"


def input_label(cfg: Config, layer: int, i: int) -> str:
    """Unicode name of input i (1-based) of a neuron in ``layer``, for selectors."""
    if layer == 1:
        return FEATURE_LABELS[cfg.features[i - 1]]
    return f"neuron {i} of hidden layer {layer - 1}"


def neuron_latex(cfg: Config, w: NeuronWalk) -> list[str]:
    """a = W_j. h + b with the numbers, batch norm (evaluation), and the activation."""
    is_out = w.layer == len(cfg.hidden) + 1
    tag = rf"^{{\text{{out}}}}_{{{w.unit}}}" if is_out else rf"^{{({w.layer})}}_{{{w.unit}}}"
    terms = [
        rf"{paren(wi, DIGITS)}\cdot {paren(hi, DIGITS)}"
        for wi, hi in zip(w.w, w.h_prev, strict=True)
    ]
    rows = [" + ".join(terms[i : i + 4]) for i in range(0, len(terms), 4)] or ["0"]
    symbolic = " + ".join(
        rf"W_{{{w.unit}{i + 1}}}\,{_input_name(cfg, w.layer, i)}" for i in range(len(w.w))
    )
    lines = [
        rf"a{tag} = {symbolic} + b{tag}" if len(w.w) <= 6 else rf"a{tag} = \sum_i W_{{{w.unit}i}}\, h_i + b{tag}",
        r"\begin{aligned} a" + tag + " &= " + r" \\ &\quad + ".join(rows) + rf" {signed(w.b, DIGITS)} \\ &= {n3(w.a)} \end{{aligned}}",
    ]  # fmt: skip
    a = n3(w.a)
    if w.bn is not None:
        mu, var, g, b = w.bn
        lines.append(
            rf"\gamma\,\hat a + \beta_{{\mathrm{{BN}}}} = \gamma\,\frac{{a-\mu_{{\mathrm{{run}}}}}}{{\sqrt{{\sigma^2_{{\mathrm{{run}}}}+\epsilon}}}}+\beta_{{\mathrm{{BN}}}} = {paren(g, DIGITS)}\cdot"
            rf"\frac{{{a} {signed(-mu, DIGITS)}}}{{\sqrt{{{n3(var)} + {num(BN_EPS)}}}}} {signed(b, DIGITS)} = {n3(w.a_norm)}"
        )
        a = n3(w.a_norm)
    if w.activation == "softmax":
        lines.append(
            rf"\hat y_{{{w.unit}}} = \operatorname{{softmax}}(a^{{\text{{out}}}})_{{{w.unit}}} = {n3(w.h)}"
        )
    elif w.activation == "identity":
        lines.append(rf"\hat y = a{tag} = {n3(w.h)}")
    else:
        name = r"\hat y" if is_out else rf"h{tag}"
        lines.append(rf"{name} = {ACT_LATEX[w.activation]}\big({a}\big) = {n3(w.h)}")
    return lines  # fmt: skip


def update_latex(u: WeightUpdate) -> list[str]:
    """The last update of one weight, every term with its number (Adam's second moment is s,
    the paper's v: v is momentum's velocity, in torch.optim.SGD's form v <- beta v + g)."""
    w = rf"W^{{({u.layer})}}_{{{u.j}{u.i}}}"
    lines = []
    if u.reg:
        lines.append(
            rf"g = \frac{{\partial L}}{{\partial {w}}} = \underbrace{{{n3(u.g - u.reg)}}}_{{\text{{data}}}} + \underbrace{{{n3(u.reg)}}}_{{\text{{penalty}}}} = {n3(u.g)}"
        )
    else:
        lines.append(rf"g = \frac{{\partial L}}{{\partial {w}}} = {n3(u.g)}")
    if u.optimizer == "sgd":
        lines.append(
            rf"{w} \leftarrow {w} - \eta\, g = {n3(u.w_old)} - {n3(u.lr)} \cdot {paren(u.g, DIGITS)} = {n3(u.w_new)}"
        )
    elif u.optimizer == "momentum":
        lines.append(
            rf"v \leftarrow \beta v + g = {n3(u.v)}, \qquad {w} \leftarrow {w} - \eta\, v = {n3(u.w_old)} - {n3(u.lr)}\cdot {paren(u.v, DIGITS)} = {n3(u.w_new)}"
        )
    else:
        lines += [
            rf"m \leftarrow \beta_1 m + (1-\beta_1) g = {n3(u.m)}, \qquad s \leftarrow \beta_2 s + (1-\beta_2) g^2 = {n3(u.s)}",
            rf"\hat m = \frac{{m}}{{1-\beta_1^{{k}}}} = {n3(u.m_hat)},\qquad \hat s = \frac{{s}}{{1-\beta_2^{{k}}}} = {n3(u.s_hat)}\qquad (k = {u.t})",
            rf"{w} \leftarrow {w} - \eta\,\frac{{\hat m}}{{\sqrt{{\hat s}}+\epsilon}} = {n3(u.w_old)} - {n3(u.lr)}\cdot\frac{{{n3(u.m_hat)}}}{{{n3(abs(u.s_hat) ** 0.5)} + \epsilon}} = {n3(u.w_new)}",
        ]
    # a few digits of w can hide a small step; float32 weights: trust 3 digits of the difference
    new, old = rf"{{{w}}}^{{\text{{new}}}}", rf"{{{w}}}^{{\text{{old}}}}"  # braced: one superscript
    lines.append(rf"\Delta {w} = {new} - {old} = {n3(u.delta)}")
    return lines  # fmt: skip


# ---------------------------------------------------------------- dropout and batch norm


def dropout_figure(v: DropoutView) -> go.Figure:
    """Per unit: h (evaluation), one training mask's r h / (1 - p), and the mean over many
    masks, which lands on h."""
    units = [f"{j + 1}" for j in range(len(v.h))]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=units, y=v.h, name="h (evaluation: no dropout)",
                         marker_color=PALETTE[0]))  # fmt: skip
    fig.add_trace(go.Bar(x=units, y=v.h_train, name="r·h/(1 − p) (one training mask)",
                         marker_color=PALETTE[1]))  # fmt: skip
    fig.add_trace(
        go.Scatter(x=units, y=v.mean_train, mode="markers", name=f"mean over {v.draws:,} masks",
                   marker=dict(color="black", symbol="line-ew-open", size=22, line=dict(width=3)))
    )  # fmt: skip
    base_layout(fig, f"Dropout at hidden layer {v.layer}, p = {v.p:g}, training point {v.point + 1}",
                "unit j", "output", height=320)  # fmt: skip
    fig.update_layout(barmode="group")
    return fig


def dropout_latex(v: DropoutView) -> list[str]:
    """The mask, one kept and one dropped unit, and the expectation, with the numbers."""
    keep = 1 - v.p
    r = r"\begin{pmatrix}" + " & ".join(str(int(x)) for x in v.r) + r"\end{pmatrix}"
    lines = [rf"r = {r},\qquad \text{{kept: }} {int(v.r.sum())} \text{{ of }} {len(v.r)}"]
    kept, dropped = np.flatnonzero(v.r == 1), np.flatnonzero(v.r == 0)
    if len(kept):
        j = int(kept[0])
        lines.append(
            rf"h^{{\mathrm{{drop}}}}_{{{j + 1}}} = \frac{{r_{{{j + 1}}}\, h_{{{j + 1}}}}}{{1-p}} = \frac{{1 \cdot {paren(v.h[j], DIGITS)}}}{{{n3(keep)}}} = {n3(v.h_train[j])}"
        )
    if len(dropped):
        k = int(dropped[0])
        lines.append(
            rf"h^{{\mathrm{{drop}}}}_{{{k + 1}}} = \frac{{0 \cdot {paren(v.h[k], DIGITS)}}}{{{n3(keep)}}} = 0"
        )
    j = int(kept[0]) if len(kept) else 0
    lines.append(
        rf"\mathbb{{E}}[h^{{\mathrm{{drop}}}}_{{{j + 1}}}] = (1-p)\,\frac{{h_{{{j + 1}}}}}{{1-p}} + p \cdot 0 = h_{{{j + 1}}} = {n3(v.h[j])}"
        rf",\qquad \text{{mean over {v.draws:,} masks: }} {n3(v.mean_train[j])}"
    )
    return lines


BN_FORMULAS = (
    r"\text{training (each step's batch } B\text{): }\ \hat a_j = \frac{a_j - \mu_{B,j}}{\sqrt{\sigma^2_{B,j} + \epsilon}},\ \ h_j = \varphi\big(\gamma_j \hat a_j + \beta_{\mathrm{BN},j}\big),\quad"
    r"\mu_{B,j} = \frac{1}{|B|}\sum_{i\in B} a_{ij},\ \ \sigma^2_{B,j} = \frac{1}{|B|}\sum_{i\in B} (a_{ij} - \mu_{B,j})^2",
    r"\text{evaluation: }\ \hat a_j = \frac{a_j - \mu_{\mathrm{run},j}}{\sqrt{\sigma^2_{\mathrm{run},j} + \epsilon}},\quad"
    r"\mu_{\mathrm{run}} \leftarrow (1-m)\,\mu_{\mathrm{run}} + m\,\mu_B,\ \ \sigma^2_{\mathrm{run}} \leftarrow (1-m)\,\sigma^2_{\mathrm{run}} + m\,\tfrac{|B|}{|B|-1}\sigma^2_B",
)


def bn_latex(v: BatchNormView, unit: int, sample: int = 0) -> list[str]:
    """One unit and one sample of the batch, normalised both ways, with the numbers."""
    j, i = unit - 1, sample
    a = n3(v.a[i, j])
    g, b = paren(v.gamma[j], DIGITS), signed(v.beta[j], DIGITS)
    return [
        rf"\mu_{{B,{unit}}} = {n3(v.mu_B[j])},\quad \sigma^2_{{B,{unit}}} = {n3(v.var_B[j])}"
        rf"\qquad\qquad \mu_{{\mathrm{{run}},{unit}}} = {n3(v.running_mean[j])},\quad \sigma^2_{{\mathrm{{run}},{unit}}} = {n3(v.running_var[j])}",
        rf"\text{{training: }} \gamma_{{{unit}}} \hat a_{{{unit}}} + \beta_{{\mathrm{{BN}},{unit}}} = {g}\cdot\frac{{{a} {signed(-v.mu_B[j], DIGITS)}}}{{\sqrt{{{n3(v.var_B[j])} + {num(BN_EPS)}}}}} {b} = {n3(v.train_out[i, j])}",
        rf"\text{{evaluation: }} \gamma_{{{unit}}} \hat a_{{{unit}}} + \beta_{{\mathrm{{BN}},{unit}}} = {g}\cdot\frac{{{a} {signed(-v.running_mean[j], DIGITS)}}}{{\sqrt{{{n3(v.running_var[j])} + {num(BN_EPS)}}}}} {b} = {n3(v.eval_out[i, j])}",
    ]


def bn_batch_text(v: BatchNormView, unit: int, layer: int, steps: int) -> str:
    """The line above the batch-norm formulas: which batch, point and unit they show."""
    return (
        f"A training batch of **{len(v.a)}** points (the sidebar's batch size), its first "
        f"point, unit {unit} of hidden layer {layer}, after {steps:,} step{'s' * (steps != 1)}:"
    )


def bn_table(v: BatchNormView) -> pd.DataFrame:
    return pd.DataFrame({
        "unit j": np.arange(1, len(v.mu_B) + 1),
        "μ_B (this batch)": v.mu_B, "μ_run (evaluation)": v.running_mean,
        "σ²_B (this batch)": v.var_B, "σ²_run (evaluation)": v.running_var,
        "γ": v.gamma, "β_BN": v.beta,
    })  # fmt: skip


# ---------------------------------------------------------------- the page's texts


def fmt(x: float) -> str:
    """A number for metrics and captions: the formulas' digits."""
    return latex.plain(x, DIGITS)


EVAL_NOTE = (
    "On all training (or test) points in evaluation mode (no dropout, batch norm's running "
    "averages), without the penalty: not the loss of the last training batch."
)
WEIGHTS_NOTE = (
    "The network's own weights, in evaluation mode (no dropout; batch norm's running "
    "averages). While playing they stay as they were at Play: Pause to update them."
)


def key_symbols() -> str:
    """The caption under the page's key formula, naming its symbols."""
    from dl_core import notation

    return notation.caption(
        "a", "h", "W", "phi", "theta", "eta", a="pre-activation of layer l",
        h="its activation (h⁽⁰⁾ = x: the input features)", W="layer l's weights",
        theta="every weight and bias",
        eta="the learning rate (SGD's step; momentum and Adam reshape it)",
    )  # fmt: skip


def live_metrics(net: Net) -> list[tuple[str, str, str | None]]:
    """The live view's metrics, (label, value, tooltip): epoch, losses, test accuracy (not
    for regression)."""
    h = net.history
    rows = [
        ("Epoch", f"{net.epoch:,.1f}", f"{net.step_count:,} steps"),
        ("Train loss", fmt(h.train_loss[-1]), EVAL_NOTE),
        ("Test loss", fmt(h.test_loss[-1]), EVAL_NOTE),
    ]
    if net.cfg.task != "regression":
        rows.append(("Test accuracy", f"{h.test_acc[-1]:.1%}", None))
    return rows


FEATURES_NOTE = (
    "Give the network x², sin x: four neurons now reach over 99% test accuracy (99.6% after "
    "1,500 steps here)."
)
L2_NOTE = (
    "α/2·ΣW² keeps the weights small and the boundary smooth: the test loss stays near its "
    "best. Dropout 0.3 instead helps too, less than L2 here."
)
DROPOUT_TEXT = (
    "While **training**, every hidden unit's output is dropped (set to 0) with probability p, a "
    "new random mask r for every point and every step, and the kept outputs are divided by "
    "1 − p (*inverted* dropout, as `torch.nn.Dropout`), so the expected output stays h. In "
    "**evaluation** nothing is dropped and nothing rescaled: the decision map, the tiles, the "
    "loss curves and *With your numbers* all use the whole network. (The paper, Srivastava et "
    "al. 2014, writes p for the probability of *keeping* a unit and rescales the weights at "
    "test time instead; PyTorch's p, used here, is the probability of dropping one.)"
)
DROPOUT_FORMULA = (
    r"\text{training: } h^{\mathrm{drop}}_j = \frac{r_j\, h_j}{1-p},\ r_j \sim \mathrm{Bernoulli}(1-p)"
    r"\qquad \mathbb{E}[h^{\mathrm{drop}}_j] = (1-p)\frac{h_j}{1-p} + p\cdot 0 = h_j"
    r"\qquad \text{evaluation: } h^{\mathrm{drop}}_j = h_j"
)
BN_TEXT = (
    "Each **training step** normalises with the statistics μ_B, σ²_B of its own batch: the "
    "normalisation is part of the function being differentiated, so the gradient flows through "
    "μ_B and σ²_B too (Ioffe & Szegedy 2015; `Net._step` computes that backward pass). "
    "**Evaluation** (the decision map, the tiles, the loss and accuracy curves, *With your "
    "numbers*) uses the running averages μ_run, σ²_run instead: one point has no batch, and a "
    "prediction must not depend on which other points share its batch. The running averages "
    "are updated at every training step with m = 0.1 (PyTorch's `momentum`, the weight of the "
    "new value: the opposite of an optimizer's β), and use the unbiased variance |B|/(|B| − 1)·σ²_B."
)


def formulas_caption(cfg: Config) -> str:
    from dl_core import notation

    keys = ["l", "W", "b_l", "a", "h", "phi", "y_hat", "y", "B", "L"]
    if cfg.regularization != "none":
        keys.append("alpha")
    if cfg.batch_norm:
        keys += ["a_hat", "mu_B", "mu_run", "gamma_bn"]
    if cfg.dropout > 0:
        keys += ["p", "r_mask"]
    return notation.caption(*keys, W="layer l's weights (row j: unit j's incoming weights); "
                            "the penalty sums over weights, not biases",
                            p="the dropout probability") + (
        " Changing η, the optimizer (its state starts afresh), the batch size, dropout or the "
        "regularisation keeps the network; changing the data, the features, the architecture, "
        "the activation, the initialisation, batch norm or the weight seed starts a new one."
    )  # fmt: skip


SPIRAL = dict(data="spiral", noise=0.0, n=500, test=0.5, act="tanh", opt="adam", lr=0.03,
              batch=0, reg="none", drop=0.0, bn=False, pg_playing=True)  # fmt: skip
OVERFIT = dict(data="xor", noise=0.3, n=80, test=0.5, feat=["x1", "x2"], layers=3, h1=16, h2=16,
               h3=16, act="tanh", opt="adam", lr=0.03, batch=0, drop=0.0, bn=False,
               pg_playing=True, pg_show_test=True)  # fmt: skip
PRESETS = {  # name: (widget values, what to look for)
    "Spiral, too small a network": (
        {**SPIRAL, "feat": ["x1", "x2"], "layers": 1, "h1": 2},
        "Two tanh neurons can draw only two soft lines: the spiral stays out of reach.",
    ),
    "Spiral solved by features": (
        {**SPIRAL, "feat": ["x1", "x2", "x1^2", "x2^2", "sin_x1", "sin_x2"], "layers": 1, "h1": 4},
        FEATURES_NOTE,
    ),
    "Overfitting: 80 noisy points": (
        {**OVERFIT, "reg": "none"},
        "Train loss falls towards 0 while the test loss climbs: the net memorises the noise.",
    ),
    "…cured by L2": (
        {**OVERFIT, "reg": "l2", "rate": 0.03},
        L2_NOTE,
    ),
}  # fmt: skip


def hood_text(gap: float) -> str:
    return (
        "Every training step runs `Net._step`: forward and backward pass written with tensor "
        "ops, all parameters in one flat tensor so the optimizer update is a few in-place ops. "
        "The same 50 full-batch steps with `TorchMLP` (nn.Linear, nn.BatchNorm1d, autograd) and "
        f"`torch.optim`, in float64, end at a **max |θ_hand − θ_torch| = {gap:.2e}**."
    )
