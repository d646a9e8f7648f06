"""Figures and formulas for the neural-network playground."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dl_core.data2d import EXTENT
from dl_core.mlp import FEATURE_LABELS, FEATURE_LATEX, Config, Grid, NeuronWalk, WeightUpdate
from viz.latex import num, paren, signed
from viz.style import PALETTE, base_layout

NEG, POS = "#E69F00", "#0072B2"  # orange = class 0 / negative, blue = class 1 / positive
CLASS_COLORS = (NEG, POS, PALETTE[2], PALETTE[4], PALETTE[3])
DIVERGING = [[0.0, NEG], [0.5, "#FFFFFF"], [1.0, POS]]  # -1 .. 1
TEST_SYMBOL = "diamond"


def _fmt(x: float) -> str:
    """A short number for hover text (Unicode, no LaTeX)."""
    x = float(x)
    if not np.isfinite(x):
        return "NaN"
    return (f"{x:.3g}" if x == 0 or 1e-3 <= abs(x) < 1e4 else f"{x:.2e}").replace("-", "−")


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

    Two classes: p(class 1) from orange (0) to blue (1); K classes: the class
    colours mixed by their softmax probabilities; regression: the predicted
    value from -1 (orange) to +1 (blue)."""
    fig = go.Figure()
    if cfg.task == "multiclass":
        K = g.output.shape[-1]
        conf = (g.output.max(-1) - 1 / K) / (1 - 1 / K)  # 0 (unsure) .. 1 (certain)
        z = (g.output.argmax(-1) + np.clip(conf, 0, 0.999)).astype(np.float32)  # k: [k, k+1)
        scale = []
        for k in range(K):  # within [k, k+1): from white to the class colour
            end = 1.0 if k == K - 1 else (k + 1) / K - 1e-9
            scale += [[k / K, "#FFFFFF"], [end, CLASS_COLORS[k]]]
        fig.add_trace(
            go.Heatmap(x=g.xs, y=g.ys, z=z, zmin=0, zmax=K, colorscale=scale, showscale=False,
                       opacity=0.75, hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>class, confidence=%{z:.2f}<extra></extra>")
        )  # fmt: skip
    else:  # z in float32: half the bytes, differences far below a colour or a hover digit
        reg = cfg.task == "regression"
        label = "prediction ŷ" if reg else "p(class 1)"
        lo, ticks = (-1, ["−1", "0", "1"]) if reg else (0, ["0", "0.5", "1"])
        fig.add_trace(
            go.Heatmap(
                x=g.xs, y=g.ys, z=g.output.astype(np.float32), zmin=lo, zmax=1, colorscale=DIVERGING,
                opacity=0.75, hovertemplate=f"x₁=%{{x:.2f}}<br>x₂=%{{y:.2f}}<br>{label}=%{{z:.3f}}<extra></extra>",
                colorbar=dict(title=dict(text=label, side="right"), thickness=12,
                              tickvals=[lo, (lo + 1) / 2, 1], ticktext=ticks),
            )
        )  # fmt: skip
    _points(fig, cfg, X_train, y_train, "train", "circle")
    if X_test is not None and y_test is not None:
        _points(fig, cfg, X_test, y_test, "test", TEST_SYMBOL)
    base_layout(fig, title, "x₁", "x₂", height=430)
    fig.update_xaxes(range=[-EXTENT, EXTENT], constrain="domain", showgrid=False, zeroline=False)
    # constrain="domain" on both: the square shrinks its box instead of stretching the y range
    fig.update_yaxes(range=[-EXTENT, EXTENT], scaleanchor="x", showgrid=False, zeroline=False,
                     autorange=False, constrain="domain")  # fmt: skip
    return fig


def _points(fig: go.Figure, cfg: Config, X: np.ndarray, y: np.ndarray, name: str, symbol: str):
    line = dict(color="white" if name == "train" else "black", width=1)
    if cfg.task == "regression":
        fig.add_trace(
            go.Scatter(
                x=X[:, 0], y=X[:, 1], mode="markers", name=f"{name} points",
                marker=dict(color=y, cmin=-1, cmax=1, colorscale=DIVERGING, size=7, symbol=symbol,
                            line=line),
                hovertemplate=f"{name}: y=%{{marker.color:.3f}}<extra></extra>",
            )
        )  # fmt: skip
        return
    for k in range(max(cfg.n_classes, 2)):
        m = y == k
        fig.add_trace(
            go.Scatter(
                x=X[m, 0], y=X[m, 1], mode="markers", name=f"class {k} ({name})",
                marker=dict(color=CLASS_COLORS[k], size=7, symbol=symbol, line=line),
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
    epoch, train_acc, test_acc = thin(epoch, train_acc, test_acc)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epoch, y=train_acc, name="train", line=dict(color=PALETTE[0])))
    fig.add_trace(
        go.Scatter(x=epoch, y=test_acc, name="test", line=dict(color=PALETTE[3], dash="dot"))
    )
    base_layout(fig, "Accuracy", "epoch", "accuracy", height=300)
    fig.update_yaxes(range=[0, 1.02])
    return fig


def confusion_figure(C: np.ndarray) -> go.Figure:
    K = len(C)
    names = [f"class {k}" for k in range(K)]
    fig = go.Figure(
        go.Heatmap(
            z=C, x=names, y=names, colorscale="Blues", showscale=False, text=C,
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
    neuron (its output over the input plane, each scaled to its own range),
    edges whose width grows with |w| and whose colour is its sign (blue +,
    orange -). ``highlight`` = (layer, unit), 1-based, outlines one neuron."""
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
        zmin=-1, zmax=1, colorscale=DIVERGING, showscale=False, hoverinfo="skip",
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
        texts += [f"W{_sub(lay + 1)}[{i + 1},{j + 1}] = {_fmt(w)}"
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


# ---------------------------------------------------------------- formulas


ACT_LATEX = {
    "tanh": r"\tanh", "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}",
    "linear": r"\operatorname{id}", "softmax": r"\operatorname{softmax}", "identity": "",
}  # fmt: skip


def general_formulas(cfg: Config) -> list[str]:
    """The network's equations, every symbol named on the page."""
    f = ACT_LATEX[cfg.activation]
    lines = [
        rf"z^{{(l)}}_j = \sum_i w^{{(l)}}_{{ij}}\, a^{{(l-1)}}_i + b^{{(l)}}_j, \qquad a^{{(l)}}_j = {f}\big(z^{{(l)}}_j\big)"
    ]
    if cfg.batch_norm:
        lines.append(
            r"\text{batch norm: } z \leftarrow \gamma\,\frac{z-\mu_B}{\sqrt{\sigma_B^2+\epsilon}} + \beta \quad\text{before } f"
        )
    if cfg.task == "binary":
        lines.append(
            r"p = \sigma(z^{\text{out}}),\qquad L = -\frac1N\sum_n \big[y_n \log p_n + (1-y_n)\log(1-p_n)\big]"
        )
    elif cfg.task == "multiclass":
        lines.append(
            r"p_k = \frac{e^{z^{\text{out}}_k}}{\sum_c e^{z^{\text{out}}_c}},\qquad L = -\frac1N\sum_n \log p_{n,y_n}"
        )
    else:
        lines.append(r"\hat y = z^{\text{out}},\qquad L = \frac1N \sum_n (\hat y_n - y_n)^2")
    if cfg.regularization == "l1":
        lines[-1] += r" \;+\; \lambda \sum |w|"
    elif cfg.regularization == "l2":
        lines[-1] += r" \;+\; \frac{\lambda}{2} \sum w^2"
    return lines  # fmt: skip


def _input_name(cfg: Config, layer: int, i: int) -> str:
    if layer == 1:
        return FEATURE_LATEX[cfg.features[i]]
    return rf"a^{{({layer - 1})}}_{{{i + 1}}}"


def input_label(cfg: Config, layer: int, i: int) -> str:
    """Unicode name of input i (1-based) of a neuron in ``layer``, for selectors."""
    if layer == 1:
        return FEATURE_LABELS[cfg.features[i - 1]]
    return f"neuron {i} of hidden layer {layer - 1}"


def neuron_latex(cfg: Config, w: NeuronWalk) -> list[str]:
    """z = w . a + b with the numbers, and the activation, for one neuron."""
    is_out = w.layer == len(cfg.hidden) + 1
    tag = rf"^{{\text{{out}}}}_{{{w.unit}}}" if is_out else rf"^{{({w.layer})}}_{{{w.unit}}}"
    terms = [rf"{paren(wi, 3)}\cdot {paren(ai, 3)}" for wi, ai in zip(w.w, w.a_prev, strict=True)]
    rows = [" + ".join(terms[i : i + 4]) for i in range(0, len(terms), 4)] or ["0"]
    symbolic = " + ".join(
        rf"w_{{{i + 1}{w.unit}}}\,{_input_name(cfg, w.layer, i)}" for i in range(len(w.w))
    )
    lines = [
        rf"z{tag} = {symbolic} + b{tag}" if len(w.w) <= 6 else rf"z{tag} = \sum_i w_{{i{w.unit}}}\, a_i + b{tag}",
        r"\begin{aligned} z" + tag + " &= " + r" \\ &\quad + ".join(rows) + rf" {signed(w.b, 3)} \\ &= {num(w.z)} \end{{aligned}}",
    ]  # fmt: skip
    z = num(w.z)
    if w.bn is not None:
        mu, var, g, b = w.bn
        lines.append(
            rf"\tilde z = \gamma\,\frac{{z-\mu}}{{\sqrt{{\sigma^2+\epsilon}}}}+\beta = {paren(g)}\cdot"
            rf"\frac{{{z} {signed(-mu)}}}{{\sqrt{{{num(var)} + 10^{{-5}}}}}} {signed(b)} = {num(w.z_norm)}"
        )
        z = num(w.z_norm)
    if w.activation == "softmax":
        lines.append(
            rf"p_{{{w.unit}}} = \operatorname{{softmax}}(z^{{\text{{out}}}})_{{{w.unit}}} = {num(w.a)}"
        )
    elif w.activation == "identity":
        lines.append(rf"\hat y = z{tag} = {num(w.a)}")
    else:
        name = "p" if is_out else rf"a{tag}"
        lines.append(rf"{name} = {ACT_LATEX[w.activation]}\big({z}\big) = {num(w.a)}")
    return lines  # fmt: skip


def update_latex(u: WeightUpdate) -> list[str]:
    """The last update of one weight, every term with its number."""
    w = rf"w^{{({u.layer})}}_{{{u.i}{u.j}}}"
    lines = []
    if u.reg:
        lines.append(
            rf"g = \frac{{\partial L}}{{\partial {w}}} = \underbrace{{{num(u.g - u.reg)}}}_{{\text{{data}}}} + \underbrace{{{num(u.reg)}}}_{{\text{{penalty}}}} = {num(u.g)}"
        )
    else:
        lines.append(rf"g = \frac{{\partial L}}{{\partial {w}}} = {num(u.g)}")
    if u.optimizer == "sgd":
        lines.append(
            rf"{w} \leftarrow {w} - \eta\, g = {num(u.w_old)} - {num(u.lr)} \cdot {paren(u.g)} = {num(u.w_new)}"
        )
    elif u.optimizer == "momentum":
        lines.append(
            rf"v \leftarrow \mu v + g = {num(u.v)}, \qquad {w} \leftarrow {w} - \eta\, v = {num(u.w_old)} - {num(u.lr)}\cdot {paren(u.v)} = {num(u.w_new)}"
        )
    else:
        lines += [
            rf"m \leftarrow \beta_1 m + (1-\beta_1) g = {num(u.m)}, \qquad s \leftarrow \beta_2 s + (1-\beta_2) g^2 = {num(u.s)}",
            rf"\hat m = \frac{{m}}{{1-\beta_1^{{t}}}} = {num(u.m_hat)},\qquad \hat s = \frac{{s}}{{1-\beta_2^{{t}}}} = {num(u.s_hat)}\qquad (t = {u.t})",
            rf"{w} \leftarrow {w} - \eta\,\frac{{\hat m}}{{\sqrt{{\hat s}}+\epsilon}} = {num(u.w_old)} - {num(u.lr)}\cdot\frac{{{num(u.m_hat)}}}{{{num(abs(u.s_hat) ** 0.5)} + \epsilon}} = {num(u.w_new)}",
        ]
    # four digits of w can hide a small step; float32 weights: trust 3 digits of the difference
    new, old = rf"{{{w}}}^{{\text{{new}}}}", rf"{{{w}}}^{{\text{{old}}}}"  # braced: one superscript
    lines.append(rf"\Delta {w} = {new} - {old} = {num(u.delta, 3)}")
    return lines  # fmt: skip
