"""Figures and formulas for the gradient-descent page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dl_core import optim
from dl_core.optim import OPTIMIZER_LABELS, OptimConfig, RateMap, SurfaceInfo, Trajectory
from viz import style
from viz.isolines import isolines, nice_levels
from viz.latex import mat, num, plain, vec
from viz.style import OPTIMIZER_COLORS, base_layout

CLICK_GRID = 31  # invisible markers per axis that make the contour clickable
N_LEVELS = 28  # about this many contour lines (as go.Contour's ncontours=28 drew)
HEIGHT_LABEL = "log₁₀(f − f* + 10⁻³)"  # what log_gap computes, the maps' colour and height


def _label(t: Trajectory) -> str:
    return OPTIMIZER_LABELS[t.config.optim.name]


def log_gap(F: np.ndarray, f_min: float) -> np.ndarray:
    """log₁₀(f − f* + 10⁻³): the height every map of the surface shows (the log shows both
    the valley floor and the walls; the 10⁻³ keeps the minimum finite, at −3)."""
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
                x=xs, y=ys, z=Z.astype(np.float32), colorscale=style.SEQUENTIAL, opacity=0.75,
                zsmooth="fast", name=HEIGHT_LABEL, showlegend=False, meta=style.HEIGHT,
                colorbar=dict(title=dict(text=HEIGHT_LABEL, side="right"), thickness=12),
                hovertemplate="x=%{x:.3f}<br>y=%{y:.3f}<br>" + HEIGHT_LABEL + "=%{z:.2f}<extra></extra>",
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
        go.Surface(x=xs, y=ys, z=Z, colorscale=style.SEQUENTIAL, opacity=0.85, showscale=False)
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
        title=dict(text=f"Surface (height = {HEIGHT_LABEL}) with the paths", x=0),
        height=520,
        margin=dict(l=0, r=0, t=40, b=0),
        scene=dict(
            xaxis=dict(title="x (θ₁)", range=list(info.xlim)),
            yaxis=dict(title="y (θ₂)", range=list(info.ylim)),
            zaxis_title=HEIGHT_LABEL,
        ),
        legend=dict(orientation="h", y=1.0),
        # a 3-D scene has no 2-D axes: say so, or the rulebook looks for their titles
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
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


def _lr_axis_end(lam_max: float, lr: float) -> float:
    """Where a chart's η axis ends: past the stability limit, and past the learner's η unless
    that is far off (then the marker sits at the edge and says so)."""
    return min(max(2.6 / lam_max, 1.1 * lr), 6.0 / lam_max)


def gd_rate_curve(lam_min: float, lam_max: float, lr: float) -> go.Figure:
    """|1 − ηλ| for λ_min and λ_max against η, their maximum (GD's rate), the best fixed step
    η* and the learner's η on the rate curve."""
    end = _lr_axis_end(lam_max, lr)
    etas = np.linspace(0, end, 400)
    fig = go.Figure()
    for lam, key, color, dash in (
        (lam_min, "min", "#555555", "dot"),
        (lam_max, "max", "#999999", "dash"),
    ):
        fig.add_trace(
            go.Scatter(x=etas, y=np.abs(1 - etas * lam), mode="lines", line=dict(color=color, dash=dash, width=1.5),
                       name=f"|1 − η·{plain(lam, 3)}|  (λ<sub>{key}</sub>)")
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=etas, y=optim.gd_rate(etas, lam_min, lam_max), mode="lines",
                   line=dict(color=OPTIMIZER_COLORS["sgd"], width=3), name="rate(η): the larger one")
    )  # fmt: skip
    best, best_rate = optim.gd_optimum(lam_min, lam_max)
    fig.add_trace(
        go.Scatter(x=[best], y=[best_rate], mode="markers", name=f"best η* = {plain(best)}",
                   marker=dict(symbol="star", size=15, color="gold", line=dict(width=1, color="black")))
    )  # fmt: skip
    mine = float(optim.gd_rate(lr, lam_min, lam_max))
    off = lr > end
    fig.add_trace(
        go.Scatter(
            x=[min(lr, end)], y=[min(mine, 2.45)], mode="markers",
            name=f"your η = {plain(lr)}: rate {plain(mine)}" + (" (off the chart)" if off else ""),
            marker=dict(symbol="triangle-right" if off else "circle", size=12, color="black"),
        )
    )  # fmt: skip
    fig.add_hline(y=1, line_dash="dash", line_color="gray", annotation_text="diverges above 1")
    base_layout(fig, "GD's rate per step: the slower of the two directions", "learning rate η",
                "factor per step", 360)  # fmt: skip
    fig.update_xaxes(range=[0, end])
    fig.update_yaxes(range=[0, 2.5])
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))
    return fig


def rate_map_figure(
    m: RateMap, lam_min: float, lam_max: float, lr: float, beta: float
) -> go.Figure:
    """Momentum's convergence rate over (η, β): a heat map (grey where it diverges), the
    stability boundary η = 2(1 + β)/λ_max, the optimum, GD's best step (β = 0) and the
    learner's (η, β)."""
    lr_best, beta_best, rate_best = optim.momentum_optimum(lam_min, lam_max)
    diverges = m.rate >= 1
    z = np.where(diverges, np.nan, m.rate).astype(np.float32)  # (n_beta, n_lr)
    grey = np.where(diverges, 1.0, np.nan).astype(np.float32)
    fig = go.Figure(
        [
            go.Heatmap(
                x=m.lrs, y=m.betas, z=z, colorscale=style.SEQUENTIAL, zmin=rate_best, zmax=1.0,
                name="rate", colorbar=dict(title=dict(text="rate per step", side="right"), thickness=12),
                hovertemplate="η=%{x:.4g}<br>β=%{y:.2f}<br>rate=%{z:.4f}<extra></extra>",
            ),
            go.Heatmap(
                x=m.lrs, y=m.betas, z=grey, colorscale=[[0, "#D9D9D9"], [1, "#D9D9D9"]], showscale=False,
                name="diverges", hovertemplate="η=%{x:.4g}<br>β=%{y:.2f}<br>diverges<extra></extra>",
            ),
        ]
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=2 * (1 + m.betas) / lam_max, y=m.betas, mode="lines", line=dict(color="#555555", width=2),
                   name="edge: η = 2(1 + β)/λ<sub>max</sub>")
    )  # fmt: skip
    gd_best, _ = optim.gd_optimum(lam_min, lam_max)
    fig.add_trace(
        go.Scatter(x=[gd_best], y=[0.0], mode="markers", name=f"best plain GD (β = 0): η = {plain(gd_best)}",
                   marker=dict(symbol="diamond", size=12, color=OPTIMIZER_COLORS["sgd"],
                               line=dict(width=1, color="white")), cliponaxis=False)
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=[lr_best], y=[beta_best], mode="markers",
                   name=f"optimum η* = {plain(lr_best)}, β* = {plain(beta_best)}",
                   marker=dict(symbol="star", size=16, color="gold", line=dict(width=1, color="black")))
    )  # fmt: skip
    end = float(m.lrs[-1])
    off = lr > end
    mine = float(optim.momentum_rate(lr, beta, lam_min, lam_max))
    fig.add_trace(
        go.Scatter(
            x=[min(lr, end)], y=[beta], mode="markers", cliponaxis=False,
            name=f"your (η, β) = ({plain(lr)}, {plain(beta)}): "
            + ("diverges" if mine >= 1 else f"rate {plain(mine)}") + (", η off the map" if off else ""),
            marker=dict(symbol="triangle-right" if off else "circle", size=13, color="white",
                        line=dict(width=2.5, color="black")),
        )
    )  # fmt: skip
    base_layout(fig, f"Momentum's rate over (η, β) at κ = {plain(lam_max / lam_min)}", "learning rate η",
                "momentum β", 460)  # fmt: skip
    fig.update_xaxes(range=[0, end])
    fig.update_yaxes(range=[0, float(m.betas[-1])])
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0))
    return fig


# The lesson's text for the two rate tabs (Markdown with LaTeX), next to the functions that
# put the learner's numbers into its formulas.
GD_RATE_INTRO = (
    "Near a minimum $\\theta^*$ of a smooth loss, $f(\\theta) \\approx f(\\theta^*) + "
    "\\tfrac12 (\\theta-\\theta^*)^\\top H (\\theta-\\theta^*)$ with $H$ the Hessian at "
    "$\\theta^*$ (on the quadratic bowl this is exact). Then the error $e_k = \\theta_k - "
    "\\theta^*$ obeys $e_k = (I - \\eta H)\\, e_{k-1}$: along the eigenvector of $H$ with "
    "eigenvalue $\\lambda$, one step multiplies it by $1-\\eta\\lambda$. Both directions "
    "shrink only if $|1-\\eta\\lambda| < 1$ for $\\lambda_{\\min}$ and $\\lambda_{\\max}$, "
    "i.e. $0 < \\eta < 2/\\lambda_{\\max}$, and the slower one sets the pace:"
)
GD_RATE_FORMULA = (
    r"\mathrm{rate}(\eta) = \max\big(|1-\eta\lambda_{\min}|,\ |1-\eta\lambda_{\max}|\big),"
    r"\qquad \|e_k\| \le \mathrm{rate}(\eta)^k\, \|e_0\|"
)
GD_RATE_AFTER = (
    "Below $\\eta^*$ the flat direction ($\\lambda_{\\min}$) is the slow one; above it the "
    "steep direction overshoots more and more. At best the error shrinks by "
    "$(\\kappa-1)/(\\kappa+1)$ per step: a large condition number $\\kappa$ means a slow "
    "zig-zag whatever $\\eta$."
)
MOMENTUM_INTRO = (
    "Momentum here is torch.optim.SGD's heavy ball: $v_k = \\beta v_{k-1} + \\nabla "
    "f(\\theta_{k-1})$, $\\theta_k = \\theta_{k-1} - \\eta v_k$, the form Distill's *Why "
    "Momentum Really Works* uses (with a fixed $\\eta$, the form $v_k = \\beta v_{k-1} - "
    "\\eta\\nabla f$, $\\theta_k = \\theta_{k-1} + v_k$ gives the same steps). On the "
    "quadratic, $\\eta v_k = \\theta_{k-1} - \\theta_k$ turns it into a two-step recursion "
    "along each eigenvector of $H$:"
)
MOMENTUM_FORMULA = (
    r"\begin{pmatrix} e_{k+1}\\ e_k \end{pmatrix} = M_\lambda \begin{pmatrix} e_k\\ e_{k-1}"
    r"\end{pmatrix},\quad M_\lambda = \begin{pmatrix} 1+\beta-\eta\lambda & -\beta\\ 1 & 0"
    r"\end{pmatrix},\quad \mathrm{rate}(\eta,\beta) = \max_{\lambda\in\{\lambda_{\min},"
    r"\lambda_{\max}\}} \max |\mathrm{eig}(M_\lambda)|"
)
MOMENTUM_AFTER = (
    "The eigenvalues $\\nu$ of $M_\\lambda$ solve $\\nu^2 - (1+\\beta-\\eta\\lambda)\\nu + "
    "\\beta = 0$. Where they are complex, both have modulus $\\sqrt\\beta$ (the path spirals) "
    "and $\\beta$ alone sets the rate; at the optimum both directions sit on the edge of that "
    "region (double roots of modulus $\\sqrt{\\beta^*}$), and the best rate improves from "
    "$(\\kappa-1)/(\\kappa+1)$ to $(\\sqrt\\kappa-1)/(\\sqrt\\kappa+1)$. The rate is "
    "asymptotic: with $\\beta > 0$ the error can grow for a few steps before it shrinks. The "
    "bottom row, $\\beta = 0$, is plain gradient descent."
)


def gd_rate_lines(lam_min: float, lam_max: float, lr: float) -> list[str]:
    """GD's rate and its optimum with the learner's numbers, one LaTeX line each."""
    best, best_rate = optim.gd_optimum(lam_min, lam_max)
    rate = float(optim.gd_rate(lr, lam_min, lam_max))
    a, b = abs(1 - lr * lam_min), abs(1 - lr * lam_max)
    lo, hi, k = num(lam_min), num(lam_max), num(lam_max / lam_min)
    return [
        rf"\lambda_{{\min}} = {lo},\quad \lambda_{{\max}} = {hi},\quad \kappa = {k};\qquad"
        rf"\frac{{2}}{{\lambda_{{\max}}}} = {num(2 / lam_max)}",
        rf"\eta^* = \frac{{2}}{{\lambda_{{\max}} + \lambda_{{\min}}}} = {num(best)},\qquad"
        rf"\mathrm{{rate}}(\eta^*) = \frac{{\kappa - 1}}{{\kappa + 1}} = {num(best_rate)}",
        rf"\text{{your }} \eta = {num(lr)}:\quad \mathrm{{rate}}(\eta) = \max\big(|1 - {num(lr)}\cdot {lo}|,\ "
        rf"|1 - {num(lr)}\cdot {hi}|\big) = \max({num(a)},\ {num(b)}) = {num(rate)}",
    ]


def momentum_lines(lam_min: float, lam_max: float, lr: float, beta: float) -> list[str]:
    """M_λ for both curvatures, the rate and the optimum with the learner's numbers."""
    lr_best, beta_best, rate_best = optim.momentum_optimum(lam_min, lam_max)
    rate = float(optim.momentum_rate(lr, beta, lam_min, lam_max))
    mats = r",\quad ".join(
        rf"M_{{\lambda_{{\{key}}}}} = {mat(optim.momentum_matrix(lr, beta, lam), 4)}"
        for key, lam in (("min", lam_min), ("max", lam_max))
    )
    limit = optim.stability_limit("momentum", beta, lam_max)
    return [
        rf"\eta = {num(lr)},\ \beta = {num(beta)}:\qquad {mats}",
        rf"\mathrm{{rate}}(\eta, \beta) = {num(rate)},\qquad \text{{stable for }} \eta < "
        rf"\frac{{2(1+\beta)}}{{\lambda_{{\max}}}} = {num(limit)}",
        rf"\eta^* = \Big(\frac{{2}}{{\sqrt{{\lambda_{{\max}}}} + \sqrt{{\lambda_{{\min}}}}}}\Big)^2 = {num(lr_best)},\quad"
        rf"\beta^* = \Big(\frac{{\sqrt\kappa - 1}}{{\sqrt\kappa + 1}}\Big)^2 = {num(beta_best)},\quad"
        rf"\mathrm{{rate}}^* = \frac{{\sqrt\kappa - 1}}{{\sqrt\kappa + 1}} = {num(rate_best)}",
    ]


# ---------------------------------------------------------------------------
# The update with the learner's numbers
# ---------------------------------------------------------------------------

GENERAL = {
    "sgd": [r"\theta_k = \theta_{k-1} - \eta\, g_k,\qquad g_k = \nabla f(\theta_{k-1})"],
    "momentum": [
        r"v_k = \beta\, v_{k-1} + g_k",
        r"\theta_k = \theta_{k-1} - \eta\, v_k",
    ],
    "nesterov": [
        r"v_k = \beta\, v_{k-1} + g_k",
        r"\theta_k = \theta_{k-1} - \eta\,(g_k + \beta\, v_k)",
    ],
    "adagrad": [
        r"G_k = G_{k-1} + g_k \odot g_k",
        r"\theta_k = \theta_{k-1} - \eta\, \frac{g_k}{\sqrt{G_k} + \epsilon}",
    ],
    "rmsprop": [
        r"s_k = \rho\, s_{k-1} + (1-\rho)\, g_k \odot g_k",
        r"\theta_k = \theta_{k-1} - \eta\, \frac{g_k}{\sqrt{s_k} + \epsilon}",
    ],
    "adam": [
        r"m_k = \beta_1 m_{k-1} + (1-\beta_1)\, g_k,\qquad s_k = \beta_2 s_{k-1} + (1-\beta_2)\, g_k\odot g_k",
        r"\hat m_k = \frac{m_k}{1-\beta_1^k},\qquad \hat s_k = \frac{s_k}{1-\beta_2^k}",
        r"\theta_k = \theta_{k-1} - \eta\, \frac{\hat m_k}{\sqrt{\hat s_k} + \epsilon}",
    ],
}
GENERAL["adamw"] = GENERAL["adam"][:2] + [
    r"\theta_k = (1 - \eta\alpha)\,\theta_{k-1} - \eta\, \frac{\hat m_k}{\sqrt{\hat s_k} + \epsilon}"
]


# Where torch's convention, which the code follows, differs from a paper's, or a constant is
# fixed: one sentence per optimizer under its update rule.
CONVENTIONS = {
    "sgd": "As torch.optim.SGD.",
    "momentum": (
        "As torch.optim.SGD(momentum=β): η multiplies the velocity. The form v ← βv − ηg, "
        "θ ← θ + v (Polyak; Sutskever et al. 2013) takes the same steps while η is fixed."
    ),
    "nesterov": (
        "As torch.optim.SGD(nesterov=True): the gradient at θₖ₋₁ plus β times the new velocity. "
        "Sutskever et al. (2013) take the gradient at the look-ahead point θ + βv instead; the "
        "two are the same method after a change of variables (Bengio et al. 2013)."
    ),
    "adagrad": "As torch.optim.Adagrad (Duchi et al. 2011): ε outside the root, no decay of η.",
    "rmsprop": (
        "As torch.optim.RMSprop (Hinton's lecture notes): ρ = 0.99 (torch's alpha), ε outside "
        "the root, not centred, no momentum."
    ),
    "adam": (
        "As torch.optim.Adam and Kingma & Ba (2015), Algorithm 1, whose v is s here (v is "
        "momentum's velocity); ε outside the root."
    ),
    "adamw": (
        "As torch.optim.AdamW: the decay is multiplied by η, θ ← (1 − ηα)θ, with α = 0.01 "
        "(torch's default); Loshchilov & Hutter (2019) multiply α by a schedule factor instead."
    ),
}


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
        beta = num(cfg.momentum)
        lines.append(rf"v_{{{k}}} = {beta}\cdot {vec(prev('v'))} + {vec(T['g'])} = {vec(T['v'])}")
        if cfg.name == "momentum":
            lines.append(rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot {vec(T['v'])} = {vec(th1)}")
        else:
            lines.append(
                rf"\theta_{{{k}}} = {vec(th0)} - {eta}\cdot\Big({vec(T['g'])} + {beta}\cdot {vec(T['v'])}\Big) = {vec(th1)}"
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


# ---------------------------------------------------------------------------
# "Try this", with every number in its note computed here
# ---------------------------------------------------------------------------


def presets(lr_options: Sequence[float], rate_tab: dict) -> dict[str, tuple[dict, str]]:
    """The page's experiments: name -> (widget values, what to look for). ``lr_options``: the
    learning-rate slider's values (a preset's η must be one); ``rate_tab``: the widget value
    that opens the rate map's tab."""
    p = plain  # the page's one number formatter
    base = dict(surface="quadratic", angle=0.0, x0=-2.5, y0=1.5)
    m_lr, m_beta, m_rate = optim.momentum_optimum(1.0, 9.0)  # kappa = 9: eta* = 0.25, beta* = 0.25
    m_lr = min(lr_options, key=lambda o: abs(o - m_lr))
    ros = optim.curvature(optim.SurfaceConfig("rosenbrock"), (1.0, 1.0))[1]
    narrow_sgd, narrow_mom = optim.gd_rate(0.03, 1, 50), optim.momentum_rate(0.03, 0.8, 1, 50)
    lmax = r"2/\lambda_{\max}"
    return {
        rf"Just above ${lmax}$": (
            dict(base, kappa=10.0, opt=["sgd"], lr=0.25, steps=60),
            rf"$\eta = 0.25 > {lmax} = {p(2 / 10)}$: each step multiplies the error along the steep axis by $|1 - 0.25 \cdot 10| = {p(abs(1 - 0.25 * 10))}$.",
        ),
        "Narrow valley": (
            dict(base, kappa=50.0, opt=["sgd", "momentum"], lr=0.03, mu=0.8, steps=150),
            rf"$\kappa = 50$: $\eta$ must stay below ${lmax} = {p(2 / 50)}$ for the steep axis, so SGD crawls along the flat one (rate {p(narrow_sgd)} per step); momentum with $\beta = 0.8$ reaches {p(narrow_mom)}.",
        ),
        "Momentum at its best": (
            dict(base, kappa=9.0, opt=["sgd", "momentum"], lr=m_lr, mu=round(m_beta, 2), steps=100, **rate_tab),
            rf"$\kappa = 9$: $\eta^* = {p(m_lr)}$ and $\beta^* = {p(m_beta)}$ give momentum its best rate, {p(m_rate)} per step (see the rate map). The same $\eta$ is above SGD's limit ${lmax} = {p(2 / 9)}$: SGD diverges.",
        ),
        "Adam on Rosenbrock": (
            dict(surface="rosenbrock", opt=["sgd", "adam"], lr=0.2, b1=0.9, b2=0.999, steps=500, x0=-1.2, y0=1.0),
            rf"Same $\eta = 0.2$: SGD explodes on the steep walls (${lmax} = {p(2 / ros, 2)}$ at the minimum); Adam divides each coordinate's step by its own gradient scale and ends near (1, 1).",
        ),
        "Escape a saddle": (
            dict(surface="saddle", opt=["sgd", "momentum", "rmsprop"], lr=0.05, steps=200, x0=1.8, y0=0.02),
            "The gradient almost vanishes near the saddle at (0, 0); watch which method leaves it first.",
        ),
    }  # fmt: skip
