"""Figures and formulas for the gradient-descent page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dl_core.optim import OPTIMIZER_LABELS, OptimConfig, SurfaceInfo, Trajectory
from viz.isolines import isolines, nice_levels
from viz.latex import num, vec
from viz.style import OPTIMIZER_COLORS, base_layout

CLICK_GRID = 31  # invisible markers per axis that make the contour clickable
N_LEVELS = 28  # about this many contour lines (as go.Contour's ncontours=28 drew)


def _label(t: Trajectory) -> str:
    return OPTIMIZER_LABELS[t.config.optim.name]


def log_gap(F: np.ndarray, f_min: float) -> np.ndarray:
    """log₁₀(f − f* + 10⁻³): the height every map of the surface shows (the log shows both
    the valley floor and the walls)."""
    return np.log10(F - f_min + 1e-3)


def surface_lines(
    xs: np.ndarray, ys: np.ndarray, F: np.ndarray, f_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """The contour lines of log_gap, about 28 round-numbered levels, for ``contour``."""
    Z = log_gap(F, f_min)
    return isolines(xs, ys, Z, nice_levels(float(Z.min()), float(Z.max()), N_LEVELS))


def contour(
    xs: np.ndarray,
    ys: np.ndarray,
    F: np.ndarray,
    info: SurfaceInfo,
    trajs: Sequence[Trajectory],
    highlight: tuple[str, int] | None = None,
    lines: tuple[np.ndarray, np.ndarray] | None = None,
) -> go.Figure:
    """A contour map of f (a heatmap of log_gap and its iso-lines), every trajectory, the
    start and the minima.

    ``lines``: ``surface_lines(xs, ys, F, info.f_min)``, computed here when not given (pass
    them in to compute them once per surface). An invisible grid of markers lets a click on
    the plot choose the start (a heatmap alone gives Streamlit no selected point)."""
    Z = log_gap(F, info.f_min)
    lx, ly = lines if lines is not None else surface_lines(xs, ys, F, info.f_min)
    fig = go.Figure(
        [
            go.Heatmap(
                x=xs, y=ys, z=Z.astype(np.float32), colorscale="Viridis", opacity=0.75,
                zsmooth="fast", name="log₁₀(f − f*)", showlegend=False,
                colorbar=dict(title=dict(text="log₁₀(f − f*)", side="right"), thickness=12),
                hovertemplate="x=%{x:.3f}<br>y=%{y:.3f}<br>log₁₀(f − f*)=%{z:.2f}<extra></extra>",
            ),
            go.Scatter(
                x=lx.astype(np.float32), y=ly.astype(np.float32), mode="lines",
                line=dict(color="rgba(0,0,0,0.4)", width=0.7), hoverinfo="skip",
                showlegend=False, name="contour lines",
            ),
        ]
    )  # fmt: skip
    gx, gy = np.meshgrid(
        np.linspace(*info.xlim, CLICK_GRID, dtype=np.float32),
        np.linspace(*info.ylim, CLICK_GRID, dtype=np.float32),
    )  # (CLICK_GRID, CLICK_GRID)
    fig.add_trace(
        go.Scatter(
            x=gx.ravel(), y=gy.ravel(), mode="markers", marker=dict(size=14, opacity=0),
            name="click to start here", showlegend=False,
            hovertemplate="start here: (%{x:.2f}, %{y:.2f})<extra></extra>",
        )
    )  # fmt: skip
    for t in trajs:
        color = OPTIMIZER_COLORS[t.config.optim.name]
        fig.add_trace(
            go.Scatter(
                x=t.theta[:, 0], y=t.theta[:, 1], mode="lines+markers", name=_label(t),
                line=dict(color=color, width=2), marker=dict(size=4, color=color),
                hovertemplate=f"{_label(t)} step %{{customdata}}<br>θ=(%{{x:.4f}}, %{{y:.4f}})<extra></extra>",
                customdata=np.arange(len(t.theta)),
            )
        )  # fmt: skip
    if highlight is not None:
        for t in trajs:
            name, k = highlight
            if t.config.optim.name == name and k < len(t.theta):
                fig.add_trace(
                    go.Scatter(
                        x=t.theta[k - 1 : k + 1, 0], y=t.theta[k - 1 : k + 1, 1],
                        mode="lines+markers", name=f"step {k}", showlegend=True,
                        line=dict(color="red", width=4), marker=dict(size=9, color="red"),
                    )
                )  # fmt: skip
    if trajs:
        s = trajs[0].theta[0]
        fig.add_trace(
            go.Scatter(
                x=[s[0]], y=[s[1]], mode="markers", name="start θ₀",
                marker=dict(symbol="circle-open", size=14, color="white", line=dict(width=3)),
            )
        )  # fmt: skip
    mx, my = zip(*info.minima, strict=True)
    fig.add_trace(
        go.Scatter(
            x=mx, y=my, mode="markers", name="minimum",
            marker=dict(symbol="star", size=14, color="gold", line=dict(width=1, color="black")),
        )
    )  # fmt: skip
    base_layout(
        fig, f"{info.title}: optimizer paths (click to move the start)", "x (θ₁)", "y (θ₂)", 520
    )
    fig.update_xaxes(range=list(info.xlim), constrain="domain")
    fig.update_yaxes(range=list(info.ylim), scaleanchor="x", scaleratio=1, constrain="domain")
    # below the map: above it, a legend that wraps (narrow columns, 7 optimizers) hid the title
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0))
    return fig


def surface3d(
    xs: np.ndarray, ys: np.ndarray, F: np.ndarray, info: SurfaceInfo, trajs: Sequence[Trajectory]
) -> go.Figure:
    """The surface with each path lifted onto it."""
    Z = log_gap(F, info.f_min).astype(np.float32)
    fig = go.Figure(
        go.Surface(x=xs, y=ys, z=Z, colorscale="Viridis", opacity=0.85, showscale=False)
    )
    for t in trajs:
        z = np.log10(np.maximum(t.loss - info.f_min, 0) + 1e-3)
        fig.add_trace(
            go.Scatter3d(
                x=t.theta[:, 0], y=t.theta[:, 1], z=z + 0.02, mode="lines+markers", name=_label(t),
                line=dict(color=OPTIMIZER_COLORS[t.config.optim.name], width=5), marker=dict(size=2),
            )
        )  # fmt: skip
    fig.update_layout(
        title=dict(text="Surface (height = log₁₀(f − f*)) with the paths", x=0),
        height=520,
        margin=dict(l=0, r=0, t=40, b=0),
        scene=dict(
            xaxis=dict(title="x", range=list(info.xlim)),
            yaxis=dict(title="y", range=list(info.ylim)),
            zaxis_title="log₁₀(f − f*)",
        ),
        legend=dict(orientation="h", y=1.0),
    )
    return fig


def _log_axis(fig: go.Figure, curves: Sequence[np.ndarray], dtick: int) -> go.Figure:
    """A log y axis labelled every ``dtick`` decades, or sparser when a diverged run spans
    dozens of decades (about 8 labels at most); more than three curves put the legend under
    the plot (two rows above it would cover the title)."""
    values = np.concatenate([c[np.isfinite(c) & (c > 0)] for c in curves] + [np.ones(1)])
    decades = np.log10(values.max()) - np.log10(values.min())
    fig.update_yaxes(
        type="log", exponentformat="power", dtick=max(dtick, int(np.ceil(decades / 8)))
    )
    if len(curves) > 3:
        fig.update_layout(legend=dict(yanchor="top", y=-0.25, xanchor="left", x=0))
    return fig


def loss_curves(trajs: Sequence[Trajectory], f_min: float) -> go.Figure:
    """f(θ_k) − f* against k on a log axis."""
    fig = go.Figure()
    gaps = [np.maximum(t.loss - f_min, 1e-16) for t in trajs]
    for t, gap in zip(trajs, gaps, strict=True):
        fig.add_trace(
            go.Scatter(
                y=gap, mode="lines", name=_label(t),
                line=dict(color=OPTIMIZER_COLORS[t.config.optim.name], width=2),
            )
        )  # fmt: skip
    base_layout(fig, "Loss gap f(θₖ) − f* per step", "step k", "f(θₖ) − f*  (log scale)")
    return _log_axis(fig, gaps, dtick=2)


def step_sizes(trajs: Sequence[Trajectory]) -> go.Figure:
    """‖θ_k − θ_{k−1}‖ against k on a log axis."""
    fig = go.Figure()
    sizes = [np.maximum(t.step_size, 1e-16) for t in trajs]
    for t, size in zip(trajs, sizes, strict=True):
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(t.theta)), y=size, mode="lines",
                name=_label(t), line=dict(color=OPTIMIZER_COLORS[t.config.optim.name], width=2),
            )
        )  # fmt: skip
    base_layout(fig, "Step size ‖θₖ − θₖ₋₁‖", "step k", "step length (log scale)")
    return _log_axis(fig, sizes, dtick=1)


def stability(eigenvalues: Sequence[float], lr: float, lr_max: float = 1.0) -> go.Figure:
    """|1 − η λ| against η for each Hessian eigenvalue λ: GD is stable below 1."""
    etas = np.linspace(0, max(lr_max, 1.3 * lr), 400)
    fig = go.Figure()
    names = ("λ_min = μ", "λ_max = L")
    for lam, name, color in zip(eigenvalues, names, ("#009E73", "#D55E00"), strict=True):
        fig.add_trace(
            go.Scatter(x=etas, y=np.abs(1 - etas * lam), mode="lines", line=dict(color=color),
                       name=f"|1 − η·{lam:.3g}|  ({name})")
        )  # fmt: skip
    fig.add_hline(y=1, line_dash="dash", line_color="gray", annotation_text="stable below 1")
    fig.add_vline(x=lr, line_color="red", annotation_text=f"your η = {lr:g}")
    base_layout(
        fig, "Per-direction error factor of one GD step", "learning rate η", "|1 − η λ|", 330
    )
    fig.update_yaxes(range=[0, 2.5])
    return fig


# ---------------------------------------------------------------------------
# The update with the learner's numbers
# ---------------------------------------------------------------------------

GENERAL = {
    "sgd": [r"\theta_k = \theta_{k-1} - \eta\, g_k,\qquad g_k = \nabla f(\theta_{k-1})"],
    "momentum": [
        r"v_k = \mu\, v_{k-1} + g_k",
        r"\theta_k = \theta_{k-1} - \eta\, v_k",
    ],
    "nesterov": [
        r"v_k = \mu\, v_{k-1} + g_k",
        r"\theta_k = \theta_{k-1} - \eta\,(g_k + \mu\, v_k)",
    ],
    "adagrad": [
        r"G_k = G_{k-1} + g_k \odot g_k",
        r"\theta_k = \theta_{k-1} - \eta\, \frac{g_k}{\sqrt{G_k} + \epsilon}",
    ],
    "rmsprop": [
        r"s_k = \alpha\, s_{k-1} + (1-\alpha)\, g_k \odot g_k",
        r"\theta_k = \theta_{k-1} - \eta\, \frac{g_k}{\sqrt{s_k} + \epsilon}",
    ],
    "adam": [
        r"m_k = \beta_1 m_{k-1} + (1-\beta_1)\, g_k,\qquad s_k = \beta_2 s_{k-1} + (1-\beta_2)\, g_k\odot g_k",
        r"\hat m_k = \frac{m_k}{1-\beta_1^k},\qquad \hat s_k = \frac{s_k}{1-\beta_2^k}",
        r"\theta_k = \theta_{k-1} - \eta\, \frac{\hat m_k}{\sqrt{\hat s_k} + \epsilon}",
    ],
}
GENERAL["adamw"] = GENERAL["adam"][:2] + [
    r"\theta_k = (1 - \eta\lambda)\,\theta_{k-1} - \eta\, \frac{\hat m_k}{\sqrt{\hat s_k} + \epsilon}"
]


def update_formula(cfg: OptimConfig) -> list[str]:
    """The symbolic update rule of an optimizer, one LaTeX line per equation."""
    return GENERAL[cfg.name]


def update_with_numbers(t: Trajectory, k: int) -> list[str]:
    """Update k (1-based) of a run, every term substituted with its value."""
    cfg = t.config.optim
    T = {n: v[k - 1] for n, v in t.terms.items()}  # each (2,)

    def prev(name: str) -> np.ndarray:
        return t.terms[name][k - 2] if k > 1 else np.zeros(2)

    th0, th1 = t.theta[k - 1], t.theta[k]
    lines = [rf"g_{{{k}}} = \nabla f(\theta_{{{k - 1}}}) = \nabla f{vec(th0)} = {vec(T['g'])}"]
    eta = num(cfg.lr)
    if cfg.name == "sgd":
        lines.append(rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot {vec(T['g'])} = {vec(th1)}")
    elif cfg.name in ("momentum", "nesterov"):
        mu = num(cfg.momentum)
        lines.append(rf"v_{{{k}}} = {mu}\cdot {vec(prev('v'))} + {vec(T['g'])} = {vec(T['v'])}")
        if cfg.name == "momentum":
            lines.append(rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot {vec(T['v'])} = {vec(th1)}")
        else:
            lines.append(
                rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot\Big({vec(T['g'])} + {mu}\cdot {vec(T['v'])}\Big) = {vec(th1)}"
            )
    elif cfg.name == "adagrad":
        lines.append(rf"G_{{{k}}} = {vec(prev('G'))} + {vec(T['g'])}^{{\odot 2}} = {vec(T['G'])}")
        lines.append(
            rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot \frac{{{vec(T['g'])}}}{{\sqrt{{{vec(T['G'])}}} + {num(cfg.eps)}}} = {vec(th1)}"
        )
    elif cfg.name == "rmsprop":
        a = num(cfg.alpha)
        lines.append(
            rf"s_{{{k}}} = {a}\cdot {vec(prev('s'))} + {num(1 - cfg.alpha)}\cdot {vec(T['g'])}^{{\odot 2}} = {vec(T['s'])}"
        )
        lines.append(
            rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot \frac{{{vec(T['g'])}}}{{\sqrt{{{vec(T['s'])}}} + {num(cfg.eps)}}} = {vec(th1)}"
        )
    else:  # adam, adamw
        b1, b2 = cfg.beta1, cfg.beta2
        lines.append(
            rf"m_{{{k}}} = {num(b1)}\cdot {vec(prev('m'))} + {num(1 - b1)}\cdot {vec(T['g'])} = {vec(T['m'])}"
        )
        lines.append(
            rf"s_{{{k}}} = {num(b2)}\cdot {vec(prev('s'))} + {num(1 - b2)}\cdot {vec(T['g'])}^{{\odot 2}} = {vec(T['s'])}"
        )
        lines.append(
            rf"\hat m_{{{k}}} = \frac{{{vec(T['m'])}}}{{1 - {num(b1)}^{{{k}}}}} = {vec(T['m_hat'])},\qquad "
            rf"\hat s_{{{k}}} = \frac{{{vec(T['s'])}}}{{1 - {num(b2)}^{{{k}}}}} = {vec(T['s_hat'])}"
        )
        start = (
            rf"(1 - {eta}\cdot{num(cfg.weight_decay)})\,{vec(th0)}"
            if cfg.name == "adamw"
            else vec(th0)
        )
        lines.append(
            rf"\theta_{{{k}}} = {start} - {eta}\cdot \frac{{{vec(T['m_hat'])}}}{{\sqrt{{{vec(T['s_hat'])}}} + {num(cfg.eps)}}} = {vec(th1)}"
        )
    return lines
