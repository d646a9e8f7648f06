"""Figures and formulas for the Math toolkit page (from ``dl_core.toolkit`` results)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dl_core.toolkit.calculus import Directional, Function2
from dl_core.toolkit.information import Information, MixtureFits
from dl_core.toolkit.linalg import SVD, Eigen, Quadratic, rotation_basis
from dl_core.toolkit.probability import Ascent, Stats
from viz.isolines import isolines, nice_levels
from viz.latex import mat, num, paren, plain, vec
from viz.style import HEIGHT, SEQUENTIAL, base_layout, sub

BLUE, ORANGE, GREEN, VERMILLION, PINK, SKY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
)  # fmt: skip
GREY, LIGHT, BLACK = "#888888", "#CCCCCC", "#000000"
# One letter that is not symmetric: a mirror image reads backwards (det A < 0 flips it).
LETTER_F = np.array([[-0.3, -0.5], [-0.3, 0.5], [0.3, 0.5], [np.nan, np.nan], [-0.3, 0.05], [0.15, 0.05]])  # fmt: skip


# ---------------------------------------------------------------- shared pieces
def _square(fig: go.Figure, lim: float, x: str = "x₁", y: str = "x₂") -> go.Figure:
    """Equal axes on [−lim, lim]²: the plot area shrinks to a square (a circle stays round)."""
    fig.update_xaxes(range=[-lim, lim], zeroline=True, title_text=x, constrain="domain")
    fig.update_yaxes(
        range=[-lim, lim], zeroline=True, title_text=y, scaleanchor="x", constrain="domain"
    )
    return fig


def _arrow(fig, tail, head, color, width=2.5, text="", ref=("x", "y")) -> None:
    """An arrow from ``tail`` to ``head`` in data coordinates (nothing for a zero vector)."""
    if math.hypot(head[0] - tail[0], head[1] - tail[1]) < 1e-9:
        return
    fig.add_annotation(
        x=head[0], y=head[1], ax=tail[0], ay=tail[1], xref=ref[0], yref=ref[1], axref=ref[0],
        ayref=ref[1], showarrow=True, arrowhead=3, arrowsize=1, arrowwidth=width,
        arrowcolor=color, text="",
    )  # fmt: skip
    if text:
        fig.add_annotation(
            x=head[0], y=head[1], xref=ref[0], yref=ref[1], text=text, showarrow=False,
            font=dict(color=color, size=13), xshift=12 if head[0] >= 0 else -12,
            yshift=10 if head[1] >= 0 else -10,
        )  # fmt: skip


def _polyline(segments: Sequence[np.ndarray]) -> np.ndarray:
    """Polylines (each (P, 2)) joined into one array with NaN rows between them."""
    gap = np.full((1, 2), np.nan)
    return np.concatenate([np.vstack([s, gap]) for s in segments])[:-1]


def _lambda(v: complex) -> str:
    """An eigenvalue for LaTeX: real, or a ± b i."""
    v = complex(v)
    if abs(v.imag) < 1e-12:
        return num(v.real)
    return rf"{num(v.real)} {'+' if v.imag > 0 else '-'} {num(abs(v.imag))}\,i"


def _height_map(fig, xs, ys, Z, title: str, row=None, col=None, levels: int = 16) -> None:
    """A heatmap of a height (SEQUENTIAL, meta=HEIGHT) with its iso-lines drawn on the server."""
    lx, ly = isolines(xs, ys, Z, nice_levels(float(np.nanmin(Z)), float(np.nanmax(Z)), levels))
    kw = dict(row=row, col=col) if row else {}
    fig.add_trace(
        go.Heatmap(
            x=xs, y=ys, z=Z.astype(np.float32), colorscale=SEQUENTIAL, opacity=0.8, meta=HEIGHT,
            zsmooth="fast", showlegend=False, name=title,
            colorbar=dict(title=dict(text=title, side="right"), thickness=12),
            hovertemplate="%{x:.2f}, %{y:.2f}: %{z:.3g}<extra></extra>",
        ), **kw,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=lx.astype(np.float32), y=ly.astype(np.float32), mode="lines", hoverinfo="skip",
            line=dict(color="rgba(0,0,0,0.35)", width=0.8), showlegend=False, name="contours",
        ), **kw,
    )  # fmt: skip


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int) -> go.Figure:
    """``base_layout`` with the legend under the plot, where long names cover nothing."""
    base_layout(fig, title, x, y, height=height)
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0.0, xanchor="left"),
        margin=dict(l=60, r=20, t=40, b=40),
    )
    return fig


# ---------------------------------------------------------------- a matrix as a map
GRID = np.linspace(-1.0, 1.0, 5)
CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 121)), np.sin(np.linspace(0, 2 * np.pi, 121))], 1)  # fmt: skip
SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])


def _grid_lines() -> np.ndarray:
    ends = [np.array([[-1.0, c], [1.0, c]]) for c in GRID]
    return _polyline(ends + [e[:, ::-1] for e in ends])


def transform(A: np.ndarray, e: Eigen) -> go.Figure:
    """The plane before and after A: the grid, the unit circle and its ellipse, the unit
    square and its parallelogram (area |det A|), the columns Ae₁, Ae₂ and the eigenvectors."""
    grid, img = _grid_lines(), _grid_lines() @ A.T
    ellipse, para = CIRCLE @ A.T, SQUARE @ A.T
    lim = max(1.6, 1.12 * float(np.nanmax(np.abs(np.vstack([img, ellipse])))))
    fig = go.Figure()
    fig.add_scatter(x=grid[:, 0], y=grid[:, 1], mode="lines", name="grid", line=dict(color=LIGHT, width=1), hoverinfo="skip")  # fmt: skip
    fig.add_scatter(x=img[:, 0], y=img[:, 1], mode="lines", name="A × grid", line=dict(color=SKY, width=1.2), hoverinfo="skip")  # fmt: skip
    fig.add_scatter(x=CIRCLE[:, 0], y=CIRCLE[:, 1], mode="lines", name="unit circle", line=dict(color=GREY, dash="dash"), hoverinfo="skip")  # fmt: skip
    fig.add_scatter(x=ellipse[:, 0], y=ellipse[:, 1], mode="lines", name="A × circle", line=dict(color=BLUE, width=2.5), hoverinfo="skip")  # fmt: skip
    fig.add_scatter(
        x=para[:, 0], y=para[:, 1], mode="lines", fill="toself", fillcolor="rgba(230,159,0,0.25)",
        line=dict(color=ORANGE, width=1), name=f"A × unit square: area {plain(abs(e.det), 3)}",
    )  # fmt: skip
    _arrow(fig, (0, 0), A[:, 0], BLACK, text="Ae₁")
    _arrow(fig, (0, 0), A[:, 1], BLACK, text="Ae₂")
    if e.vectors is not None and not e.scalar:
        pairs = [(e.vectors[0], e.values[0], "v₁", GREEN)]
        if not e.defective:
            pairs.append((e.vectors[1], e.values[1], "v₂", VERMILLION))
        for v, lam, label, colour in pairs:
            line = np.array([-lim * 1.5 * v, lim * 1.5 * v])
            only = " (the only one)" if e.defective else ""
            fig.add_scatter(
                x=line[:, 0], y=line[:, 1], mode="lines", line=dict(color=colour, dash="dot"),
                name=f"{label}{only}: A{label} = {plain(lam.real, 3)} {label}",
            )  # fmt: skip
            _arrow(fig, (0, 0), lam.real * v, colour, width=4)
    note = None
    if not e.real:
        note = (
            f"λ = {plain(e.values[0].real, 3)} ± {plain(abs(e.values[0].imag), 3)}i: complex, so no "
            f"direction is kept. A turns by {plain(e.angle_deg, 3)}° and scales by |λ| = {plain(e.modulus, 3)}"
        )
    elif e.scalar:
        note = f"A = {plain(e.values[0].real, 3)} I: every direction is an eigenvector"
    if note:
        fig.add_annotation(
            x=0.0, y=0.0, xref="paper", yref="paper", text=note, showarrow=False,
            xanchor="left", yanchor="bottom", bgcolor="rgba(255,255,255,0.85)", font=dict(size=12),
        )  # fmt: skip
    base_layout(fig, "What A does to the plane", "x₁", "x₂", height=440)
    fig.update_layout(
        legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top"),
        margin=dict(l=50, r=10, t=40, b=45),
    )
    return _square(fig, lim)


def svd_stages(s: SVD) -> go.Figure:
    """x → Vᵀx → ΣVᵀx → UΣVᵀx = Ax: the unit circle, a letter F and the right singular vectors
    (the columns of V) through the three steps."""
    V = s.Vt.T
    Sig = np.diag(s.sigma)
    stages = [np.eye(2), s.Vt, Sig @ s.Vt, s.U @ Sig @ s.Vt]
    turn = "rotate and mirror" if s.reflects else "rotate"
    titles = [
        "x",
        f"Vᵀx: {turn} by {plain(s.theta_deg, 3)}°",
        f"ΣVᵀx: stretch by {plain(s.sigma[0], 3)} and {plain(s.sigma[1], 3)}",
        f"UΣVᵀx = Ax: rotate by {plain(s.phi_deg, 3)}°",
    ]
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.05)
    lim = 1.15 * max(1.0, s.sigma[0])
    for j, M in enumerate(stages, start=1):
        first = j == 1
        c, f = CIRCLE @ M.T, LETTER_F @ M.T
        fig.add_scatter(x=c[:, 0], y=c[:, 1], mode="lines", line=dict(color=BLUE), name="unit circle, mapped", showlegend=first, row=1, col=j)  # fmt: skip
        fig.add_scatter(x=f[:, 0], y=f[:, 1], mode="lines", line=dict(color=BLACK, width=2.5), name="a letter F (mirrored when det A < 0)", showlegend=first, row=1, col=j)  # fmt: skip
        ref = ("x" if j == 1 else f"x{j}", "y" if j == 1 else f"y{j}")
        for k, colour in ((0, GREEN), (1, VERMILLION)):
            head = M @ V[:, k]
            _arrow(fig, (0, 0), head, colour, width=3, ref=ref)
        fig.update_xaxes(range=[-lim, lim], title_text="x₁", constrain="domain", row=1, col=j)
        fig.update_yaxes(range=[-lim, lim], title_text="x₂" if first else "", showticklabels=first, scaleanchor=ref[0], constrain="domain", row=1, col=j)  # fmt: skip
    for colour, label in ((GREEN, "first"), (VERMILLION, "second")):
        fig.add_scatter(x=[None], y=[None], mode="lines", line=dict(color=colour, width=3), name=f"{label} column of V, then its image", row=1, col=1)  # fmt: skip
    fig.update_layout(height=320, margin=dict(l=50, r=10, t=50, b=40))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, xanchor="left"))
    return fig


def quadratic_map(q: Quadratic, xs, ys, F) -> go.Figure:
    """½ xᵀAx as a height map with its contours and the axes of S: the flattest and the
    steepest directions."""
    fig = go.Figure()
    _height_map(fig, xs, ys, F, "f(x)")
    r = 0.95 * float(xs[-1])
    for v, lam, label, colour in (
        (q.v_min, q.lam_min, "lambda_min", GREEN), (q.v_max, q.lam_max, "lambda_max", VERMILLION),
    ):  # fmt: skip
        line = np.array([-r * v, r * v])
        fig.add_scatter(
            x=line[:, 0], y=line[:, 1], mode="lines", line=dict(color=colour, width=2.5),
            name=f"eigenvector of {sub(label)} = {plain(lam, 3)}",
        )  # fmt: skip
    fig.add_scatter(x=[0], y=[0], mode="markers", marker=dict(color=BLACK, size=8, symbol="x"), name="x = 0")  # fmt: skip
    title = {
        "bowl": f"A bowl: κ = {plain(q.kappa, 3)}", "valley": "A flat valley: lambda_min = 0",
        "saddle": "A saddle: curvatures of both signs", "dome": "A dome: a maximum at 0",
        "ridge": "A flat ridge", "flat": "Flat: f = 0 everywhere",
    }[q.kind]  # fmt: skip
    _layout(fig, sub(title), "x₁", "x₂", height=460)
    return _square(fig, float(xs[-1]))


# ---------------------------------------------------------------- derivatives
def gradient_field(xs, ys, F, field, d: Directional) -> go.Figure:
    """f's contours, its gradient as arrows on a grid (all scaled by one factor), and at the
    chosen point the gradient and the direction u."""
    X, Y, GX, GY = field
    spacing = float(X[0, 1] - X[0, 0])
    norm = np.hypot(GX, GY)
    scale = 0.85 * spacing / max(float(norm.max()), 1e-12)
    tails = np.stack([X.ravel(), Y.ravel()], 1)
    vecs = np.stack([GX.ravel(), GY.ravel()], 1) * scale
    heads = tails + vecs
    perp = vecs[:, ::-1] * np.array([-1.0, 1.0])
    wing1, wing2 = heads - 0.3 * vecs + 0.15 * perp, heads - 0.3 * vecs - 0.15 * perp
    segs = [np.array([t, h, a, h, b]) for t, h, a, b in zip(tails, heads, wing1, wing2, strict=True)]  # fmt: skip
    arrows = _polyline(segs)
    fig = go.Figure()
    _height_map(fig, xs, ys, F, "f(x, y)")
    fig.add_scatter(x=arrows[:, 0], y=arrows[:, 1], mode="lines", line=dict(color="rgba(255,255,255,0.9)", width=1.2), name="∇f on a grid", showlegend=False, hoverinfo="skip")  # fmt: skip
    (x, y), (gx, gy), u = d.point, d.grad, d.u
    g_len = math.hypot(gx, gy)
    g_draw = 1.2 / max(g_len, 1e-12) if g_len > 1.2 else 1.0  # at most 1.2 long on screen
    fig.add_scatter(x=[x], y=[y], mode="markers", marker=dict(color=BLACK, size=10), name=f"the point ({plain(x, 3)}, {plain(y, 3)})")  # fmt: skip
    _arrow(fig, (x, y), (x + gx * g_draw, y + gy * g_draw), BLACK, width=3, text="∇f")
    _arrow(fig, (x, y), (x + u[0], y + u[1]), ORANGE, width=3, text="u")
    _layout(fig, "∇f (white arrows) points uphill, across the contours", "x", "y", height=460)
    return _square(fig, float(xs[-1]), "x", "y")


def fd_errors(epss: np.ndarray, err_c: np.ndarray, err_f: np.ndarray, d: Directional) -> go.Figure:
    """Error of the central and the forward difference against the step ε (log-log), with the
    two Taylor laws and the round-off floor."""

    def positive(a):
        a = np.asarray(a, dtype=np.float64)
        return np.where(a > 0, a, np.nan)  # an exact 0 has no place on a log axis

    fig = go.Figure()
    fig.add_scatter(x=epss, y=positive(err_c), mode="lines+markers", marker=dict(size=4), line=dict(color=BLUE), name="central difference: measured")  # fmt: skip
    fig.add_scatter(x=epss, y=positive(epss**2 / 6 * abs(d.d3)), mode="lines", line=dict(color=SKY, dash="dash"), name="Taylor: ε²/6 · |D³f|")  # fmt: skip
    fig.add_scatter(x=epss, y=positive(err_f), mode="lines+markers", marker=dict(size=4), line=dict(color=VERMILLION), name="forward difference: measured")  # fmt: skip
    fig.add_scatter(x=epss, y=positive(epss / 2 * abs(d.d2)), mode="lines", line=dict(color=ORANGE, dash="dash"), name="Taylor: ε/2 · |D²f|")  # fmt: skip
    floor = EPS_FLOOR * max(abs(d.f_plus), abs(d.f_minus), 1e-300) / epss
    fig.add_scatter(x=epss, y=floor, mode="lines", line=dict(color=GREY, dash="dot"), name="round-off: 2.2e-16 · |f| / ε")  # fmt: skip
    fig.add_vline(x=d.eps, line=dict(color=BLACK, width=1), annotation_text=f"your ε = {plain(d.eps, 2)}", annotation_position="top")  # fmt: skip
    _layout(fig, "Error of the finite difference against the step ε", "step ε", "|error|", height=460)  # fmt: skip
    shown = np.concatenate([positive(err_c), positive(err_f), floor])
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_yaxes(
        type="log", exponentformat="power", range=[-18, math.log10(max(top, 1e-12)) + 1]
    )
    return fig


EPS_FLOOR = float(np.finfo(np.float64).eps)


def directional_lines(fn: Function2, d: Directional) -> list[str]:
    """The gradient, the directional derivative and its finite-difference check with numbers."""
    (x, y), (gx, gy), u = d.point, d.grad, d.u
    e = num(d.eps, 3)
    return [
        fn.latex + r",\qquad " + fn.grad_latex,
        rf"\nabla f({num(x, 3)}, {num(y, 3)}) = \begin{{pmatrix}}\partial f/\partial x\\ \partial f/\partial y\end{{pmatrix}} = {vec((gx, gy))}"
        rf"\quad\text{{(central differences: }}{vec(d.partial_fd)}\text{{)}}",
        rf"D_u f = \nabla f \cdot u = {paren(gx)} \cdot {paren(u[0])} + {paren(gy)} \cdot {paren(u[1])} = {num(d.exact, 6)}",
        rf"\frac{{f(x + \epsilon u) - f(x - \epsilon u)}}{{2\epsilon}} = \frac{{{num(d.f_plus, 8)} - {paren(d.f_minus, 8)}}}{{2 \cdot {e}}} = {num(d.central, 8)}"
        rf",\quad \text{{error }} {num(d.err_central, 3)}",
    ]


# ---------------------------------------------------------------- probability
def samples_figure(edges, density, xs, pdf, st: Stats, mu: float) -> go.Figure:
    """The sample's histogram (as a density) against N(μ, σ²), with μ and x̄."""
    centres, widths = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    fig = go.Figure()
    fig.add_bar(x=centres, y=density, width=widths, marker=dict(color=SKY, line=dict(width=0)), name=f"histogram of the n = {st.n} samples")  # fmt: skip
    fig.add_scatter(x=xs, y=pdf, mode="lines", line=dict(color=BLUE, width=2.5), name="density N(μ, σ²)")  # fmt: skip
    top = float(max(np.max(pdf), np.max(density) if len(density) else 0.0))
    fig.add_scatter(x=[mu, mu], y=[0, top * 1.05], mode="lines", line=dict(color=BLACK, dash="dash"), name=f"true mean μ = {plain(mu, 3)}")  # fmt: skip
    fig.add_scatter(x=[st.mean, st.mean], y=[0, top * 1.05], mode="lines", line=dict(color=VERMILLION), name=f"sample mean x̄ = {plain(st.mean, 4)}")  # fmt: skip
    _layout(fig, "Samples of a Gaussian against its density", "x", "density", height=380)  # fmt: skip
    fig.update_layout(bargap=0)
    return fig


def bernoulli_figure(y: np.ndarray, p: float) -> go.Figure:
    share = float(np.mean(y))
    fig = go.Figure()
    fig.add_bar(x=["0", "1"], y=[1 - share, share], marker_color=SKY, name=f"share in the n = {len(y)} samples")  # fmt: skip
    fig.add_bar(x=["0", "1"], y=[1 - p, p], marker_color=BLUE, name="probability 1 − p, p")  # fmt: skip
    _layout(fig, "Bernoulli(p): shares of 0s and 1s", "outcome", "share", height=380)  # fmt: skip
    fig.update_yaxes(range=[0, 1.05])
    return fig


def spread_figure(ns, sd_g, sd_b, sigma: float, p: float) -> go.Figure:
    ns = np.asarray(ns, dtype=np.float64)

    def positive(a):
        return np.where(np.asarray(a) > 0, a, np.nan)

    fig = go.Figure()
    fig.add_scatter(x=ns, y=positive(sd_g), mode="markers", marker=dict(color=BLUE, size=9), name="Gaussian: spread of x̄ over 300 repeats")  # fmt: skip
    fig.add_scatter(x=ns, y=sigma / np.sqrt(ns), mode="lines", line=dict(color=SKY, dash="dash"), name="σ/√n")  # fmt: skip
    fig.add_scatter(x=ns, y=positive(sd_b), mode="markers", marker=dict(color=VERMILLION, size=9, symbol="square"), name="Bernoulli: spread of the share of 1s")  # fmt: skip
    fig.add_scatter(x=ns, y=positive(np.sqrt(p * (1 - p) / ns)), mode="lines", line=dict(color=ORANGE, dash="dash"), name="√(p(1 − p)/n)")  # fmt: skip
    _layout(fig, "The sample mean's spread shrinks like 1/√n", "samples n", "spread of the mean", height=400)  # fmt: skip
    fig.update_xaxes(type="log", exponentformat="power")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def mle_figure(asc: Ascent, mus, sigmas, LL) -> go.Figure:
    """The mean log-likelihood over (μ, σ) with the path of gradient ascent and the closed form."""
    fig = go.Figure()
    path = asc.loglik[np.isfinite(asc.loglik)]
    top = float(np.nanmax(LL))
    low = min(float(path.min()) if len(path) else top, top - 1.0) - 0.5
    _height_map(
        fig, mus, sigmas, np.clip(LL, low, top), "ℓ(μ, σ)", levels=20
    )  # far below: one colour
    fig.add_scatter(x=asc.mu, y=asc.sigma, mode="lines+markers", marker=dict(size=4), line=dict(color=BLACK), name=f"gradient ascent, {len(asc.mu) - 1} steps")  # fmt: skip
    fig.add_scatter(x=[asc.mu[0]], y=[asc.sigma[0]], mode="markers", marker=dict(color=PINK, size=11, symbol="circle"), name="start (0, 1)")  # fmt: skip
    fig.add_scatter(x=[asc.closed[0]], y=[asc.closed[1]], mode="markers", marker=dict(color=ORANGE, size=16, symbol="star"), name="closed form (x̄, σ̂)")  # fmt: skip
    _layout(fig, "Maximum likelihood: climbing ℓ(μ, σ)", "μ", "σ", height=440)
    fig.update_xaxes(range=[float(mus[0]), float(mus[-1])])
    fig.update_yaxes(range=[float(sigmas[0]), float(sigmas[-1])])
    return fig


def nll_figure(grid, nll, mse_scaled, best: float, x_title: str, title: str, names) -> go.Figure:
    """A negative log-likelihood and the loss it equals, over the prediction."""
    fig = go.Figure()
    fig.add_scatter(x=grid, y=nll, mode="lines", line=dict(color=BLUE, width=6), opacity=0.45, name=names[0])  # fmt: skip
    if mse_scaled is not None:
        fig.add_scatter(x=grid, y=mse_scaled, mode="lines", line=dict(color=VERMILLION, width=2, dash="dash"), name=names[1])  # fmt: skip
    finite = np.asarray(nll)[np.isfinite(nll)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    fig.add_scatter(x=[best, best], y=[lo, hi], mode="lines", line=dict(color=BLACK, dash="dot"), name=f"minimum at {plain(best, 4)}")  # fmt: skip
    _layout(fig, title, x_title, "mean loss", height=360)
    return fig


# ---------------------------------------------------------------- information
def pq_figure(P: np.ndarray, Q: np.ndarray, info: Information, unit: str) -> go.Figure:
    """P and Q side by side, and each outcome's term P(x) log(P(x)/Q(x)) of the KL."""
    xs = [str(i + 1) for i in range(len(P))]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.12, subplot_titles=("The two distributions", f"Terms of D<sub>KL</sub>(P‖Q), {unit}"))  # fmt: skip
    fig.add_bar(x=xs, y=P, marker_color=BLUE, name="P", row=1, col=1)
    fig.add_bar(x=xs, y=Q, marker_color=ORANGE, name="Q", row=1, col=1)
    terms = np.asarray(info.terms_PQ, dtype=np.float64)
    shown = np.where(np.isfinite(terms), terms, np.nan)
    fig.add_bar(x=xs, y=shown, marker_color=GREEN, name="P(x) log(P(x)/Q(x))", row=1, col=2)
    for x, t in zip(xs, terms, strict=True):
        if not np.isfinite(t):
            fig.add_annotation(x=x, y=0, text="∞", showarrow=False, font=dict(size=20, color=GREEN), yshift=14, xref="x2", yref="y2")  # fmt: skip
    fig.update_xaxes(title_text="outcome x", row=1, col=1)
    fig.update_xaxes(title_text="outcome x", row=1, col=2)
    fig.update_yaxes(title_text="probability", range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(title_text=unit, row=1, col=2)
    fig.update_layout(height=340, margin=dict(l=55, r=10, t=60, b=45), legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))  # fmt: skip
    return fig


def mixture_figure(x, p, qf, qr, fits: MixtureFits) -> go.Figure:
    f, r = fits.forward, fits.reverse
    fig = go.Figure()
    fig.add_scatter(x=x, y=p, mode="lines", fill="tozeroy", fillcolor="rgba(0,0,0,0.12)", line=dict(color=BLACK, width=2), name="p: two peaks")  # fmt: skip
    fig.add_scatter(x=x, y=qf, mode="lines", line=dict(color=BLUE, width=3), name=f"q minimising KL(p‖q): μ = {plain(f.mu, 3, zero=1e-6)}, σ = {plain(f.sigma, 3)}")  # fmt: skip
    fig.add_scatter(x=x, y=qr, mode="lines", line=dict(color=VERMILLION, width=3, dash="dash"), name=f"q minimising KL(q‖p): μ = {plain(r.mu, 3, zero=1e-6)}, σ = {plain(r.sigma, 3)}")  # fmt: skip
    _layout(fig, "One Gaussian q fitted to two peaks p, both ways", "x", "density", height=400)
    return fig


# ---------------------------------------------------------------- formulas with numbers
def matrix_lines(A: np.ndarray, e: Eigen) -> list[str]:
    """A, its determinant, its characteristic polynomial and eigenvalues, with numbers."""
    tr, det = e.trace, e.det
    if e.real:
        lam = rf"\lambda_1 = {num(e.values[0].real)},\ \ \lambda_2 = {num(e.values[1].real)}"
    else:
        lam = rf"\lambda = {_lambda(e.values[0])},\ \ {_lambda(e.values[1])}"
    return [
        rf"A = {mat(A)}",
        rf"\det A = {paren(A[0, 0])}\cdot{paren(A[1, 1])} - {paren(A[0, 1])}\cdot{paren(A[1, 0])} = {num(det)}",
        rf"\lambda^2 - {paren(tr)}\,\lambda + {paren(det)} = 0",
        rf"\lambda = \tfrac{{{num(tr)}}}{{2}} \pm \sqrt{{{paren(e.disc)}}}",
        lam,
    ]


def eigen_lines(A: np.ndarray, e: Eigen) -> list[str]:
    """A vᵢ = λᵢ vᵢ checked with numbers, or the complex pair read as a rotation."""
    if not e.real:
        re, im = e.values[0].real, abs(e.values[0].imag)
        P = rotation_basis(A, e)
        return [
            rf"\lambda = {num(re)} \pm {num(im)}\,i = r\,e^{{\pm i\theta}},\quad r = |\lambda| = \sqrt{{\det A}} = {num(e.modulus)},\quad \theta = {num(abs(e.angle_deg))}^\circ",
            rf"A = P \begin{{pmatrix}} {num(re)} & {num(-im)}\\ {num(im)} & {num(re)} \end{{pmatrix}} P^{{-1}} = P\,\big({num(e.modulus)} \cdot R_{{{num(abs(e.angle_deg), 3)}^\circ}}\big)\,P^{{-1}},\quad P = {mat(P)}",
        ]
    lines = []
    assert e.vectors is not None
    pairs = [(e.vectors[0], e.values[0].real, 1)]
    if not e.defective:
        pairs.append((e.vectors[1], e.values[1].real, 2))
    for v, lam, i in pairs:
        Av = A @ v
        lines.append(
            rf"A v_{i} = {mat(A)} {vec(v, 3)} = {vec(Av, 3)} = {paren(lam, 3)} \cdot {vec(v, 3)} = \lambda_{i} v_{i}"
        )
    return lines


def svd_lines(s: SVD) -> list[str]:
    return [
        rf"A = U\,\Sigma\,V^\top = {mat(s.U)} {mat(np.diag(s.sigma))} {mat(s.Vt)}",
        rf"\sigma_1 = {num(s.sigma[0])},\ \sigma_2 = {num(s.sigma[1])},\qquad \sigma_1 \sigma_2 = {num(s.sigma[0] * s.sigma[1])} = |\det A|",
    ]


def quadratic_lines(q: Quadratic) -> list[str]:
    lines = [
        r"f(x) = \tfrac12\, x^\top A\, x = \tfrac12\, x^\top S\, x",
        r"\nabla f = S x,\qquad H = S",
        rf"S = \tfrac12(A + A^\top) = {mat(q.S)}",
        rf"\lambda_{{\min}} = {num(q.lam_min)},\ \ \lambda_{{\max}} = {num(q.lam_max)}",
    ]
    if q.kind == "bowl":
        lines.append(
            rf"\kappa = \frac{{\lambda_{{\max}}}}{{\lambda_{{\min}}}} = \frac{{{num(q.lam_max)}}}{{{num(q.lam_min)}}} = {num(q.kappa)}"
        )
    else:
        lines.append(r"\kappa = \infty\ \ (\text{no } \lambda_{\min} > 0)")
    return lines


def stats_lines(st: Stats, mu: float, sigma: float) -> list[str]:
    se = rf"\sigma/\sqrt{{n}} = {num(sigma / math.sqrt(st.n))}"
    return [
        rf"\bar x = \frac1n \sum_i x_i = {num(st.mean)}\ \ (\mu = {num(mu)}),\qquad "
        rf"\hat\sigma^2 = \frac1n \sum_i (x_i - \bar x)^2 = {num(st.var_mle)}\ \ (\sigma^2 = {num(sigma**2)}),\qquad {se}",
    ]


def mle_lines(asc: Ascent) -> list[str]:
    K = len(asc.mu) - 1
    return [
        r"\ell(\mu, \sigma) = \frac1n \sum_i \log \mathcal N(x_i; \mu, \sigma^2) = -\tfrac12 \log(2\pi\sigma^2) - \frac{1}{2\sigma^2}\,\frac1n\sum_i (x_i - \mu)^2",
        r"\frac{\partial \ell}{\partial \mu} = \frac{\overline{x - \mu}}{\sigma^2},\quad \frac{\partial \ell}{\partial \log\sigma} = \frac{\overline{(x - \mu)^2}}{\sigma^2} - 1 \;\Rightarrow\; \hat\mu = \bar x,\ \hat\sigma^2 = \overline{(x - \bar x)^2}",
        rf"\text{{after {K} steps: }} (\mu_{{{K}}}, \sigma_{{{K}}}) = ({num(asc.mu[-1])},\ {num(asc.sigma[-1])}),\quad "
        rf"\text{{closed form: }} (\bar x, \hat\sigma) = ({num(asc.closed[0])},\ {num(asc.closed[1])})",
    ]


def info_lines(info: Information, unit: str) -> list[str]:
    lg = r"\log_2" if unit == "bits" else r"\ln"
    bound = r"1\text{ bit}" if unit == "bits" else num(math.log(2)) + r"\text{ nats}"
    return [
        rf"H(P) = -\sum_x P(x) {lg} P(x) = {num(info.H_P)},\quad H(P, Q) = -\sum_x P(x) {lg} Q(x) = {num(info.H_PQ)}\ \text{{{unit}}}",
        rf"D_{{\mathrm{{KL}}}}(P\|Q) = H(P, Q) - H(P) = {num(info.KL_PQ)},\qquad D_{{\mathrm{{KL}}}}(Q\|P) = H(Q, P) - H(Q) = {num(info.H_QP)} - {num(info.H_Q)} = {num(info.KL_QP)}",
        rf"\mathrm{{JS}}(P, Q) = \tfrac12 D_{{\mathrm{{KL}}}}(P\|M) + \tfrac12 D_{{\mathrm{{KL}}}}(Q\|M),\ M = \tfrac12(P + Q):\quad {num(info.JS)} \le {bound}",
    ]


# ---------------------------------------------------------------- texts with numbers
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _acts(lam: float, v: str, name: str) -> str:
    """What A does to its eigenvector v with eigenvalue lam, in words."""
    if abs(lam) < 1e-12:
        return f"squashes {v} to 0 ({name} = 0)"
    if lam < 0:
        return f"flips {v} and scales it by {plain(-lam)} ({name} = {plain(lam)})"
    return f"stretches {v} by {name} = {plain(lam)}"


def matrix_text(e: Eigen) -> str:
    """What A does, in two sentences: its eigen-directions and its determinant."""
    d = e.det
    if abs(d) < 1e-12:
        area = (
            "**det A = 0**: A squashes the plane onto a line (or a point), so different points "
            "land on the same image and **no inverse** A⁻¹ can undo it."
        )
    elif d < 0:
        area = f"**det A = {plain(d)} < 0**: A mirrors the plane and scales every area by {plain(abs(d))}."  # fmt: skip
    else:
        area = f"**det A = {plain(d)}**: A scales every area by {plain(d)} (the orange parallelogram)."  # fmt: skip
    if not e.real:
        eig = "The eigenvalues are complex: no direction is kept, A turns every vector."
    elif e.scalar:
        eig = "A = λI stretches every direction by the same λ."
    elif e.defective:
        eig = f"λ = {plain(e.values[0].real)} twice, with one eigenvector only: a shear."
    else:
        acts = [_acts(e.values[k].real, f"v{'₁₂'[k]}", f"λ{'₁₂'[k]}") for k in (0, 1)]
        eig = f"A {acts[0]} and {acts[1]}; every other vector turns."
    return f"{eig} {area}"


EIGEN_TEXT = (
    "An **eigenvector** $v$ of $A$ keeps its direction: $A$ only stretches it, by its "
    "**eigenvalue** $\\lambda$ (a negative $\\lambda$ flips it). For a 2 × 2 matrix the "
    "eigenvalues solve $\\lambda^2 - (\\operatorname{tr} A)\\,\\lambda + \\det A = 0$, so "
    "$\\lambda_1 + \\lambda_2 = \\operatorname{tr} A$ and $\\lambda_1 \\lambda_2 = \\det A$. When "
    "$(\\operatorname{tr} A/2)^2 < \\det A$ the roots are complex: no real direction survives, "
    "and $A$ acts as a rotation combined with a scaling. On the other pages the eigenvalues of "
    "the Hessian $H$ set the largest safe learning rate."
)
SVD_TEXT = (
    "**The SVD** writes every matrix as rotate, stretch, rotate: $A = U\\Sigma V^\\top$. "
    "$V^\\top$ turns the plane so that the directions $A$ stretches most and least (the columns "
    "of $V$, green and red) lie on the axes, $\\Sigma$ stretches along the axes by the singular "
    "values $\\sigma_1 \\ge \\sigma_2 \\ge 0$, and $U$ turns the result into place. "
    "$\\sigma_1$ is the most $A$ can stretch any vector."
)


def svd_text(A: np.ndarray, s: SVD, e: Eigen) -> str:
    out = []
    if s.rank < 2:
        out.append(f"Rank {s.rank}: σ₂ = 0, every vector is squashed onto a line (or to 0), so A has no inverse.")  # fmt: skip
    else:
        out.append(f"A⁻¹ = V Σ⁻¹ Uᵀ undoes it: it stretches by 1/σ₂ = {plain(1 / s.sigma[1])} at most; σ₁/σ₂ = {plain(s.sigma[0] / s.sigma[1])} is A's condition number.")  # fmt: skip
    if s.reflects:
        out.append("det A < 0: Vᵀ includes a mirror, so the letter F reads backwards after it.")
    if np.array_equal(A, A.T) and e.real and e.values[1].real > 0:
        out.append("A is symmetric positive-definite: U = V and the σᵢ are its eigenvalues.")
    out.append("The tests check these numbers against `torch.linalg.svd` and `torch.linalg.eig`.")
    return " ".join(out)


def quadratic_text(q: Quadratic, link: dict[str, str] | None) -> str:
    out = []
    if not q.symmetric:
        out.append(
            "A is not symmetric: xᵀAx sees only its symmetric part S (the rest, ½(A − Aᵀ), "
            "gives xᵀ(A − Aᵀ)x = 0), and the gradient of f is Sx, not Ax."
        )
    text = {
        "bowl": (
            f"Both curvatures are positive: a **bowl** with one minimum at 0. Its contours are "
            f"ellipses along the eigenvectors of S, and κ = {plain(q.kappa)} says how stretched "
            "they are. Gradient descent needs $\\eta < 2/\\lambda_{\\max}$ for the steep direction and then "
            "crawls along the flat one: with $\\eta = 1/\\lambda_{\\max}$, about κ steps for each factor e."
        ),
        "saddle": "$\\lambda_{\\min} < 0 < \\lambda_{\\max}$: f curves up along one eigenvector and down along the other, a **saddle** with no minimum. κ is not defined.",
        "valley": "$\\lambda_{\\min} = 0$: f is flat along its eigenvector, a **valley** whose whole floor is a minimum; κ = ∞.",
        "dome": "Both curvatures are negative: a **dome**, a maximum at 0 and no minimum.",
        "ridge": "$\\lambda_{\\max} = 0 > \\lambda_{\\min}$: a **ridge**, flat along one direction and falling across it.",
        "flat": "S = 0: f is 0 everywhere.",
    }[q.kind]
    out.append(text)
    if link is not None:
        query = "&".join(f"{k}={v}" for k, v in link.items())
        clamp = " (that page's κ stops at 100)" if q.kappa > 100.5 else ""
        out.append(
            f"\n\n[:material/trending_down: Gradient descent on this bowl: κ = {link['kappa']}, "
            f"valley at {link['angle']}°{clamp}](gradient_descent?{query})"
        )
    return " ".join(out)


DERIVATIVES_TEXT = (
    "The **partial derivatives** $\\partial f/\\partial x$ and $\\partial f/\\partial y$ are the "
    "slopes along the axes; stacked, they form the **gradient** $\\nabla f$, which points up "
    "the steepest slope, across the contours. The slope in any direction $u$ is the "
    "**directional derivative** $D_u f = \\nabla f \\cdot u$: largest along $\\nabla f$, zero "
    "along a contour. A **finite difference** checks it with two values of $f$, as the "
    "backpropagation page's gradient check does; its step is $\\epsilon$."
)


def fd_text(d: Directional) -> str:
    taylor = (
        "Why the error falls like ε²: by Taylor, f(x ± εu) = f ± ε Dᵤf + ε²/2 D²f ± ε³/6 D³f + …, "
        "so in the central difference the even terms cancel and Dᵤf + ε²/6 D³f is left. "
    )
    if abs(d.d3) < 1e-12:
        law = (
            "Here D³f = 0 along u (f is a quadratic along this line), so the central difference "
            f"is exact up to round-off: measured error {plain(d.err_central, 2)}. "
        )
    else:
        law = (
            f"Here D³f = {plain(d.d3, 3)}, so the error should be ε²/6 · |D³f| = "
            f"{plain(d.law_central, 2)}; measured: {plain(d.err_central, 2)}. Halve ε and it falls 4×; "
            f"the forward difference keeps ε/2 · D²f (here {plain(d.law_forward, 2)}) and falls only 2×. "
            f"The best step balances this against round-off: ε* = (3 · 2.2e-16 · |f| / |D³f|)^⅓ ≈ {plain(d.best_eps, 2)}. "
        )
    floor = (
        "Below that, round-off wins: f carries 16 significant digits, and dividing the "
        "difference of two nearly equal values by a tiny ε magnifies their last-digit errors."
    )
    return taylor + law + floor


def density_curves(z: np.ndarray, mu: float, sigma: float):
    """The histogram (edges, density) and N(μ, σ²) on μ ± 4σ."""
    from dl_core.toolkit.probability import histogram, normal_pdf

    lo, hi = mu - 4 * sigma, mu + 4 * sigma
    bins = int(np.clip(1.5 * math.sqrt(len(z)), 5, 40))
    edges, density = histogram(z, lo, hi, bins)
    xs = np.linspace(lo, hi, 200)
    return edges, density, xs, normal_pdf(xs, mu, sigma)


def stats_text(st: Stats, y: np.ndarray, p: float, mu: float, sigma: float) -> str:
    k = int(y.sum())
    share = f"The Bernoulli draws gave {k} ones in {len(y)}: a share of {plain(k / len(y))} against p = {plain(p)}."  # fmt: skip
    if st.n == 1:
        return (
            "With one sample, σ̂ = 0: one point has no spread, and the likelihood grows without "
            "bound as σ → 0 (a spike on that point), so it has no maximum. " + share
        )
    off, se = abs(st.mean - mu), sigma / math.sqrt(st.n)
    return (
        f"x̄ misses μ by {plain(off)}, {plain(off / se, 2)} standard errors σ/√n (about two "
        "samples in three land within one). σ̂² divides by n and runs a little low on average, "
        f"by the factor (n − 1)/n = {plain((st.n - 1) / st.n)}. " + share
    )


SPREAD_TEXT = (
    "Repeat the experiment 300 times for each n and measure how much $\\bar x$ varies: its "
    "standard deviation follows $\\sigma/\\sqrt n$ (dashed), a slope of −½ on the log-log "
    "chart. Four times the data halves the error. The share of 1s of a Bernoulli obeys the same "
    "law, $\\sqrt{p(1-p)/n}$, and so does a mini-batch gradient, an average over $|B|$ "
    "samples: its noise falls like $1/\\sqrt{|B|}$."
)


def mle_grid(z: np.ndarray, asc: Ascent):
    """μ (120,), σ (100,) and ℓ on that grid, wide enough for the start, the path and x̄ ± 3σ̂."""
    from dl_core.toolkit.probability import loglik_grid

    m, s = asc.closed
    spread = max(s, 0.3)
    mus = np.clip(np.concatenate([asc.mu, [0.0, m - 3 * spread, m + 3 * spread]]), -20, 20)
    top = float(np.clip(max(np.max(asc.sigma), 1.0, 2.5 * s), 0.5, 20))
    mu_grid = np.linspace(mus.min() - 0.2, mus.max() + 0.2, 120)
    sigma_grid = np.linspace(max(0.02, 0.02 * top), 1.1 * top, 100)
    return mu_grid, sigma_grid, loglik_grid(z, mu_grid, sigma_grid)


def mle_text(asc: Ascent, lr: float) -> str:
    m, s = asc.closed
    rule = "the rule $\\eta < 2/\\lambda_{\\max}$ of the gradient-descent page"
    if s == 0:
        return (
            "**One sample: no maximum.** σ̂ = 0, and ℓ grows without bound as σ → 0 with μ on "
            "the sample: ascent shrinks σ until η exceeds 2σ², the limit set by the curvature "
            f"1/σ² along μ ({rule}); from then on the μ-steps overshoot and the path bounces."
        )
    if asc.diverged_at is not None:
        return (
            f"**Diverged at step {asc.diverged_at}.** Along μ the curvature of ℓ is 1/σ², so "
            f"ascent needs η < 2σ² (here 2σ̂² = {plain(2 * s * s)}): {rule}."
        )
    gap = max(abs(asc.mu[-1] - m), abs(asc.sigma[-1] - s))
    if gap < 1e-3:
        verdict = "gradient ascent reaches it"
    elif lr > 2 * s * s:
        verdict = (
            f"here η = {plain(lr)} is above 2σ̂² = {plain(2 * s * s)}: along μ the curvature of "
            f"ℓ is 1/σ², so each step overshoots x̄ and the path bounces instead of settling ({rule})"
        )
    else:
        verdict = "gradient ascent is not there yet: more steps or a larger η"
    return (
        f"Setting both derivatives to 0 gives the closed form; {verdict} (largest gap "
        f"{plain(gap, 2)}). The parameters are μ and log σ, so σ stays positive."
    )


def mse_figure(z: np.ndarray, sigma: float) -> go.Figure:
    from dl_core.toolkit.probability import gaussian_nll, mse

    m = float(np.mean(z))
    grid = np.linspace(m - 3 * sigma, m + 3 * sigma, 200)
    scaled = mse(z, grid) / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)
    names = ("−(1/n) Σ log N(xᵢ; ŷ, σ²)", "MSE/(2σ²) + ½ log(2πσ²)")
    return nll_figure(grid, gaussian_nll(z, grid, sigma), scaled, m, "prediction ŷ", "Gaussian with σ fixed: NLL = scaled MSE", names)  # fmt: skip


def bce_figure(y: np.ndarray) -> go.Figure:
    from dl_core.toolkit.probability import bernoulli_nll

    grid = np.linspace(0.002, 0.998, 250)
    names = ("−(1/n) Σ log P(yᵢ; p̂) = BCE(p̂)", "")
    return nll_figure(grid, bernoulli_nll(y, grid), None, float(np.mean(y)), "predicted probability p̂", "Bernoulli: NLL = binary cross-entropy", names)  # fmt: skip


def loss_lines(z: np.ndarray, y: np.ndarray, mu: float, sigma: float, p: float) -> list[str]:
    from dl_core.toolkit.probability import bernoulli_nll, gaussian_nll, mse

    nll, err = float(gaussian_nll(z, mu, sigma)), float(mse(z, mu))
    k = float(np.mean(y))
    return [
        r"-\frac1n\sum_i \log \mathcal N(x_i; \hat y, \sigma^2) = \frac{1}{2\sigma^2}\,\underbrace{\frac1n \sum_i (x_i - \hat y)^2}_{\text{MSE}} + \tfrac12 \log(2\pi\sigma^2)"
        rf"\;\overset{{\hat y = \mu}}{{=}}\; \frac{{{num(err)}}}{{2 \cdot {num(sigma**2)}}} + {num(0.5 * math.log(2 * math.pi * sigma**2))} = {num(nll)}",
        r"-\frac1n\sum_i \log P(y_i; \hat p) = -\big[\bar y \log \hat p + (1 - \bar y)\log(1 - \hat p)\big] = \text{BCE}"
        rf"\;\overset{{\hat p = p}}{{=}}\; {num(float(bernoulli_nll(y, p)))},\quad \bar y = {num(k)}",
    ]


def reparam_lines(r, mu: float, sigma: float) -> list[str]:
    draws = r",\quad ".join(
        rf"z_{i + 1} = {num(mu)} + {num(sigma)} \cdot {paren(r.eps[i])} = {num(r.z[i])}"
        for i in range(min(2, len(r.eps)))
    )
    return [
        rf"z = \mu + \sigma\,\varepsilon,\ \ \varepsilon \sim \mathcal N(0, 1):\qquad {draws}",
        r"\frac{\partial z}{\partial \mu} = 1,\quad \frac{\partial z}{\partial \sigma} = \varepsilon",
        rf"\frac{{\partial}}{{\partial \mu}}\overline{{z^2}} = \overline{{2z}} = {num(r.grad_mu)}\ \ (2\mu = {num(r.exact[0])}),\qquad "
        rf"\frac{{\partial}}{{\partial \sigma}}\overline{{z^2}} = \overline{{2z\varepsilon}} = {num(r.grad_sigma)}\ \ (2\sigma = {num(r.exact[1])})",
    ]


REPARAM_TEXT = (
    "A random draw has no derivative with respect to $\\mu$ or $\\sigma$. Drawing "
    "$\\varepsilon \\sim \\mathcal N(0, 1)$ first and computing $z = \\mu + \\sigma\\varepsilon$ "
    "moves the randomness into an input: $z$ becomes an ordinary function of $\\mu$ and "
    "$\\sigma$, and backpropagation goes through it. The averages above are Monte Carlo "
    "estimates of the gradient of $E[z^2] = \\mu^2 + \\sigma^2$. The VAE's encoder outputs "
    "$\\mu(x)$ and $\\sigma(x)$ and samples its code exactly this way "
    "([Autoencoders & VAE](autoencoder))."
)
INFORMATION_TEXT = (
    "The **entropy** $H(P)$ is the average surprise $-\\log P(x)$ of outcomes drawn from $P$: "
    "the bits a perfect code needs per outcome. The **cross-entropy** $H(P, Q)$ is the average "
    "surprise when you expect $Q$ but the outcomes come from $P$. It is never below $H(P)$; the "
    "gap is the **KL divergence** $D_{\\mathrm{KL}}(P\\|Q) = H(P, Q) - H(P) \\ge 0$, zero only "
    "when $Q = P$. A classifier trained with cross-entropy shrinks exactly this gap. Set the "
    "weights of $P$ and $Q$ below (each is divided by its sum)."
)


def info_text(info: Information, all_zero: bool) -> str:
    out = []
    if all_zero:
        out.append("All weights of P or Q are 0: that is no distribution, so the uniform one is used.")  # fmt: skip
    if math.isinf(info.KL_PQ) or math.isinf(info.KL_QP):
        out.append(
            "**Infinite KL.** $Q(x) = 0$ (or $P(x) = 0$) for an outcome the other distribution "
            "produces: its surprise $-\\log 0$ is infinite, so the cross-entropy and the KL are $\\infty$: "
            "no finite code covers it. JS stays finite: it compares both with their average M, "
            "which is positive wherever either is."
        )
    else:
        out.append(
            f"KL is not a distance: $D_{{\\mathrm{{KL}}}}(P\\|Q) = {num(info.KL_PQ)}$ but "
            f"$D_{{\\mathrm{{KL}}}}(Q\\|P) = {num(info.KL_QP)}$."
        )
    out.append(
        "An outcome with $P(x) = 0$ adds 0 to $H(P)$ and to $D_{\\mathrm{KL}}(P\\|Q)$ "
        "($0 \\log 0 = 0$). JS is symmetric and at most $\\log 2$ (1 bit): at the optimal "
        "discriminator the GAN's minimax value is $-\\log 4 + 2\\,\\mathrm{JS}(p_{\\mathrm{data}}, p_g)$ "
        "([GANs](gan))."
    )
    return " ".join(out)


def fits_table(f: MixtureFits) -> str:
    rows = [("forward: min KL(p‖q)", f.forward), ("reverse: min KL(q‖p)", f.reverse)]
    lines = ["| q found by | μ | σ | KL(p‖q) | KL(q‖p) |", "|---|---|---|---|---|"]
    lines += [
        f"| {name} | {plain(q.mu, 3, zero=1e-6)} | {plain(q.sigma, 3)} | {plain(q.forward, 3, zero=1e-12)} | {plain(q.reverse, 3, zero=1e-12)} |"
        for name, q in rows
    ]  # fmt: skip
    other = f.reverse_other
    if abs(other.mu - f.reverse.mu) > 1e-3:
        lines.append(f"\nReverse KL has a second minimum at μ = {plain(other.mu, 3, zero=1e-6)} (KL(q‖p) = {plain(other.reverse, 3)}), the other peak. KL in nats.")  # fmt: skip
    else:
        lines.append("\nKL in nats.")
    return "\n".join(lines)


def gauss_kl_lines(f: MixtureFits) -> list[str]:
    from dl_core.toolkit.information import kl_gauss

    a, b = f.forward, f.reverse
    dm = a.mu - b.mu if abs(a.mu - b.mu) > 1e-9 else 0.0  # round-off of an exact 0
    return [
        r"D_{\mathrm{KL}}\big(\mathcal N(\mu_1, \sigma_1^2)\,\|\,\mathcal N(\mu_2, \sigma_2^2)\big) = \log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2} - \frac12",
        rf"D_{{\mathrm{{KL}}}}(q_{{\text{{fwd}}}}\|q_{{\text{{rev}}}}) = \log\frac{{{num(b.sigma, 3)}}}{{{num(a.sigma, 3)}}} + \frac{{{num(a.sigma, 3)}^2 + {paren(dm, 3)}^2}}{{2 \cdot {num(b.sigma, 3)}^2}} - \frac12 = {num(kl_gauss(a.mu, a.sigma, b.mu, b.sigma))}",
        rf"D_{{\mathrm{{KL}}}}(q_{{\text{{rev}}}}\|q_{{\text{{fwd}}}}) = {num(kl_gauss(b.mu, b.sigma, a.mu, a.sigma))}\ \text{{nats; the VAE's KL term is the case }} \mathcal N(0, 1) \text{{ on the right}}",
    ]


FITS_TEXT = (
    "**Forward** $D_{\\mathrm{KL}}(p\\|q) = E_p[\\log p - \\log q]$ punishes $q$ for being small "
    "where $p$ has mass, so $q$ must **cover both peaks**: the best Gaussian matches $p$'s mean "
    "and variance (closed form), a wide compromise between them. This is maximum likelihood: "
    "a model fitted to data minimises forward KL, and a VAE's samples average over what it "
    "cannot separate and look blurry. **Reverse** $D_{\\mathrm{KL}}(q\\|p) = E_q[\\log q - "
    "\\log p]$ punishes $q$ for mass where $p$ has none, so $q$ **picks one peak**; the other "
    "peak is an equally good fit. A GAN's generator fails this way: mode collapse, some modes "
    "covered and the rest ignored ([Autoencoders & VAE](autoencoder), [GANs](gan)). Bring the "
    "peaks within about a width of each other and both fits agree."
)
