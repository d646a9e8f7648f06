"""Figures and formulas for the regression page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dl_core.regression import (
    LinRegResult,
    LinRegStep,
    LogRegPoint,
    LogRegResult,
    linreg_loss_grid,
)
from viz import style
from viz.isolines import isolines, nice_levels
from viz.latex import num, paren, plain, signed
from viz.style import PALETTE, base_layout

BATCH_NAMES = {0: "full batch", 10: "mini-batch of 10", 1: "stochastic (1 point)"}
N_LEVELS = 25  # about this many contour lines on the loss landscape (as ncontours=25 drew)


def fit_at_step(res: LinRegResult, k: int) -> go.Figure:
    """The data, the GD line after step k and the least-squares line."""
    w, b = res.theta[k]
    ws, bs = res.closed_form
    xs = np.array([res.x.min() - 0.2, res.x.max() + 0.2])
    fig = go.Figure(
        [
            go.Scatter(x=res.x, y=res.y, mode="markers", name="data (xᵢ, yᵢ)",
                       marker=dict(color="#555", size=6, opacity=0.7)),
            go.Scatter(x=xs, y=ws * xs + bs, mode="lines", name=f"least squares: ŷ = {plain(ws)}x {b_sign(bs)}",
                       line=dict(color=PALETTE[2], dash="dash", width=3)),
            go.Scatter(x=xs, y=w * xs + b, mode="lines", name=f"GD step {k}: ŷ = {plain(w)}x {b_sign(b)}",
                       line=dict(color=PALETTE[3], width=3)),
        ]
    )  # fmt: skip
    return base_layout(fig, f"The fit after {k} steps", "x", "y", 400)


def b_sign(b: float) -> str:
    return f"+ {plain(b)}" if b >= 0 else f"− {plain(abs(b))}"


def landscape_grid(
    runs: Sequence[LinRegResult],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """log₁₀ L(w, b) on an 80x80 grid around every path and (w*, b*), and its contour lines:
    ws (n,), bs (n,), Z (n, n) indexed [b, w], (x, y) of the lines."""
    first = runs[0]
    pts = np.concatenate([r.theta for r in runs] + [np.array([first.closed_form])])
    lo, hi = pts.min(0), pts.max(0)
    pad = 0.15 * (hi - lo) + 0.2
    ws, bs, Lg = linreg_loss_grid(
        first, (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1])
    )
    Z = np.log10(np.maximum(Lg, 1e-300))  # L = 0 only for an exact fit: keep the log finite
    lines = isolines(ws, bs, Z, nice_levels(float(Z.min()), float(Z.max()), N_LEVELS))
    return ws, bs, Z, lines


def loss_landscape(
    runs: Sequence[LinRegResult],
    k: int,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]] | None = None,
) -> go.Figure:
    """A contour map of L(w, b) (heatmap and iso-lines) with the paths of full-batch,
    mini-batch and stochastic GD. ``grid``: ``landscape_grid(runs)``, computed here when not
    given (pass it in to compute it once per result)."""
    first = runs[0]
    ws, bs, Z, (lx, ly) = grid if grid is not None else landscape_grid(runs)
    fig = go.Figure(
        [
            go.Heatmap(x=ws, y=bs, z=Z.astype(np.float32), colorscale=style.SEQUENTIAL, opacity=0.75,
                       zsmooth="fast", showlegend=False, name="log₁₀ L", meta=style.HEIGHT,
                       colorbar=dict(title=dict(text="log₁₀ L", side="right"), thickness=12),
                       hovertemplate="w=%{x:.3f}<br>b=%{y:.3f}<br>log₁₀ L=%{z:.2f}<extra></extra>"),
            go.Scatter(x=lx.astype(np.float32), y=ly.astype(np.float32), mode="lines",
                       line=dict(color="rgba(0,0,0,0.4)", width=0.7), hoverinfo="skip",
                       showlegend=False, name="contour lines"),
        ]
    )  # fmt: skip
    for r, color in zip(runs, (PALETTE[3], PALETTE[1], PALETTE[4]), strict=False):
        name = BATCH_NAMES.get(r.config.batch_size, f"batch {r.config.batch_size}")
        fig.add_trace(
            go.Scatter(x=r.theta[:, 0], y=r.theta[:, 1], mode="lines+markers", name=name,
                       line=dict(color=color, width=2), marker=dict(size=3))
        )  # fmt: skip
    if k < len(first.theta):
        fig.add_trace(
            go.Scatter(x=[first.theta[k, 0]], y=[first.theta[k, 1]], mode="markers",
                       name=f"step {k}", marker=dict(size=12, color="red", symbol="circle-open",
                                                       line=dict(width=3)))
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=[first.closed_form[0]], y=[first.closed_form[1]], mode="markers",
                   name="(w*, b*)", marker=dict(symbol="star", size=15, color="gold",
                                                line=dict(width=1, color="black")))
    )  # fmt: skip
    base_layout(fig, "Loss surface L(w, b) and the paths of GD", "slope w", "intercept b", 440)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
    return fig


def loss_curves(runs: Sequence[LinRegResult]) -> go.Figure:
    fig = go.Figure()
    for r, color in zip(runs, (PALETTE[3], PALETTE[1], PALETTE[4]), strict=False):
        fig.add_trace(
            go.Scatter(y=np.maximum(r.loss - r.loss_min, 1e-16), mode="lines", line=dict(color=color),
                       name=BATCH_NAMES.get(r.config.batch_size, str(r.config.batch_size)))
        )  # fmt: skip
    base_layout(fig, "Excess loss L(wₖ, bₖ) − L* per step", "step k", "L − L* (log scale)", 320)
    fig.update_yaxes(type="log", exponentformat="power", dtick=2)
    return fig


def linreg_step_numbers(st: LinRegStep) -> list[str]:
    """A full-data GD step written out: residual sums, gradient, update."""
    n, eta = st.n, num(st.lr)
    return [
        rf"\frac{{\partial L}}{{\partial w}} = \frac{{2}}{{n}}\sum_i (\hat y_i - y_i)\,x_i"
        rf" = \frac{{2}}{{{n}}}\cdot {paren(st.sum_r_x)} = {num(st.dL_dw)}",
        rf"\frac{{\partial L}}{{\partial b}} = \frac{{2}}{{n}}\sum_i (\hat y_i - y_i)"
        rf" = \frac{{2}}{{{n}}}\cdot {paren(st.sum_r)} = {num(st.dL_db)}",
        rf"w \leftarrow {num(st.w)} - {eta}\cdot {paren(st.dL_dw)} = {num(st.w_new)},\qquad"
        rf" b \leftarrow {num(st.b)} - {eta}\cdot {paren(st.dL_db)} = {num(st.b_new)}",
    ]


def boundary(res: LogRegResult, k: int, point: int | None = None) -> go.Figure:
    """The two classes, ŷ = σ(w·x + b) as a background and the line w·x + b = 0 after step k.
    ``point``: the 0-based index of the point to ring (labelled i = point + 1)."""
    w1, w2, b = res.params[k]
    X, y = res.X, res.y
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    gx, gy = np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80)
    GX, GY = np.meshgrid(gx, gy)
    P = 1 / (1 + np.exp(-np.clip(w1 * GX + w2 * GY + b, -50, 50)))
    fig = go.Figure(
        go.Heatmap(x=gx, y=gy, z=P.astype(np.float32), colorscale=[list(c) for c in style.DIVERGING],
                   zmin=0, zmax=1, opacity=0.55, name="ŷ",
                   colorbar=dict(title=dict(text="ŷ = P(y = 1 | x)", side="right"), thickness=12),
                   hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>ŷ=%{z:.3f}<extra></extra>")
    )  # fmt: skip
    # class 1 takes the colour of ŷ → 1, class 0 that of ŷ → 0
    for cls, color in ((0, style.NEGATIVE), (1, style.POSITIVE)):
        m = y == cls
        fig.add_trace(
            go.Scatter(x=X[m, 0], y=X[m, 1], mode="markers", name=f"class {cls}",
                       marker=dict(color=color, size=7, line=dict(width=1, color="white")))
        )  # fmt: skip
    if abs(w2) > 1e-12:
        fig.add_trace(
            go.Scatter(x=gx, y=-(w1 * gx + b) / w2, mode="lines", name="w·x + b = 0",
                       line=dict(color="black", width=3))
        )  # fmt: skip
    if point is not None:
        fig.add_trace(
            go.Scatter(x=[X[point, 0]], y=[X[point, 1]], mode="markers", name=f"point i = {point + 1}",
                       marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(width=3, color="gold")))
        )  # fmt: skip
    base_layout(fig, f"Decision boundary after {k} steps", "x₁", "x₂", 420)
    fig.update_xaxes(range=[lo[0], hi[0]], constrain="domain")
    fig.update_yaxes(range=[lo[1], hi[1]], scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def logreg_curves(res: LogRegResult) -> go.Figure:
    fig = go.Figure(
        [
            go.Scatter(y=res.loss, mode="lines", name="cross-entropy L", line=dict(color=PALETTE[3])),
            go.Scatter(y=res.accuracy, mode="lines", name="accuracy", line=dict(color=PALETTE[2]), yaxis="y2"),
        ]
    )  # fmt: skip
    base_layout(fig, "Loss and accuracy per step", "step k", "cross-entropy L (log scale)", 360)
    # log: on separable classes L keeps falling towards 0, which a linear axis hides
    decades = float(np.log10(res.loss.max() / max(res.loss.min(), 1e-300)))
    fig.update_yaxes(type="log", exponentformat="power", dtick=1 if decades > 1.5 else None)
    # the legend under the plot: above it, two entries in a narrow column covered the title
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.32, xanchor="left", x=0),
        margin=dict(b=95),
    )
    # accuracy zoomed to its own range (from 0 the steps between 90% and 95% look flat)
    lo = max(0.0, float(np.floor(res.accuracy.min() * 20) / 20) - 0.05)
    fig.update_layout(
        yaxis2=dict(title="accuracy", overlaying="y", side="right", range=[lo, 1.0 + 0.01 * (1 - lo)],
                    tickformat=".0%", tickmode="auto", showgrid=False)
    )  # fmt: skip
    return fig


def logreg_point_numbers(pt: LogRegPoint, i: int) -> list[str]:
    """Point i (1-based, as on the page) through the logistic unit, every number substituted."""
    (x1, x2), (w1, w2) = pt.x, pt.w
    return [
        rf"a_{{{i}}} = w_1 x_{{{i},1}} + w_2 x_{{{i},2}} + b = {num(w1)}\cdot{paren(x1)} {signed(w2)}\cdot{paren(x2)} {signed(pt.b)} = {num(pt.a)}",
        rf"\hat y_{{{i}}} = \sigma(a_{{{i}}}) = \frac{{1}}{{1 + e^{{-({num(pt.a)})}}}} = {num(pt.y_hat)},\qquad y_{{{i}}} = {int(pt.y)}",
        rf"L_{{{i}}} = -\big[y_{{{i}}}\log \hat y_{{{i}}} + (1-y_{{{i}}})\log(1-\hat y_{{{i}}})\big] = {num(pt.loss)}",
        rf"\frac{{\partial L_{{{i}}}}}{{\partial a_{{{i}}}}} = \hat y_{{{i}}} - y_{{{i}}} = {num(pt.dL_da)},\qquad"
        rf"\frac{{\partial L_{{{i}}}}}{{\partial w}} = (\hat y_{{{i}}} - y_{{{i}}})\,x_{{{i}}} = \begin{{pmatrix}}{num(pt.dL_dw[0])}\\ {num(pt.dL_dw[1])}\end{{pmatrix}},\qquad"
        rf"\frac{{\partial L_{{{i}}}}}{{\partial b}} = {num(pt.dL_db)}",
    ]
