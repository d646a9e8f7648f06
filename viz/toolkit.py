"""Figures and formulas for the Math toolkit page (from ``dl_core.toolkit`` results)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dl_core.toolkit.calculus import Directional, Function2
from dl_core.toolkit.information import Information, MixtureFits
from dl_core.toolkit.linalg import SVD, Eigen, Quadratic, rotation_basis
from dl_core.toolkit.probability import Ascent, Stats
from viz.isolines import isolines, nice_levels
from viz.latex import mat, num, paren, plain, vec
from viz.style import HEIGHT, SEQUENTIAL, sub

BLUE, ORANGE, GREEN, VERMILLION, PINK, SKY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
)  # fmt: skip
GREY, LIGHT, BLACK = "#888888", "#CCCCCC", "#000000"
# One letter that is not symmetric: a mirror image reads backwards (det A < 0 flips it).
LETTER_F = np.array([[-0.3, -0.5], [-0.3, 0.5], [0.3, 0.5], [np.nan, np.nan], [-0.3, 0.05], [0.15, 0.05]])  # fmt: skip


# ---------------------------------------------------------------- shared pieces
def _arrow_notes(tail, head, color, width=2.5, text="", ref=("x", "y")) -> list[dict]:
    """Annotations drawing an arrow from ``tail`` to ``head`` in data coordinates, and its
    label at the head (none for a zero vector)."""
    if math.hypot(head[0] - tail[0], head[1] - tail[1]) < 1e-9:
        return []
    out = [dict(
        x=head[0], y=head[1], ax=tail[0], ay=tail[1], xref=ref[0], yref=ref[1], axref=ref[0],
        ayref=ref[1], showarrow=True, arrowhead=3, arrowsize=1, arrowwidth=width,
        arrowcolor=color, text="",
    )]  # fmt: skip
    if text:
        out.append(dict(
            x=head[0], y=head[1], xref=ref[0], yref=ref[1], text=text, showarrow=False,
            font=dict(color=color, size=13), xshift=12 if head[0] >= 0 else -12,
            yshift=10 if head[1] >= 0 else -10,
        ))  # fmt: skip
    return out


def _line(xy: np.ndarray, name: str, color: str, **kw) -> dict:
    """A Scatter trace (as a dict) through the points ``xy`` (P, 2)."""
    return dict(type="scatter", x=xy[:, 0], y=xy[:, 1], mode="lines", name=name, line=dict(color=color, **kw.pop("line", {})), **kw)  # fmt: skip


def _title(text: str) -> dict:
    return dict(text=text, x=0.0, xanchor="left", font=dict(size=15))


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


def _height_map(xs, ys, Z, title: str, levels: int = 16) -> list[dict]:
    """A heatmap of a height (SEQUENTIAL, meta=HEIGHT) and its iso-lines drawn on the server."""
    lx, ly = isolines(xs, ys, Z, nice_levels(float(np.nanmin(Z)), float(np.nanmax(Z)), levels))
    return [
        dict(
            type="heatmap", x=xs, y=ys, z=Z.astype(np.float32), colorscale=SEQUENTIAL,
            opacity=0.8, meta=HEIGHT, zsmooth="fast", showlegend=False, name=title,
            colorbar=dict(title=dict(text=title, side="right"), thickness=12),
            hovertemplate="%{x:.2f}, %{y:.2f}: %{z:.3g}<extra></extra>",
        ),
        dict(
            type="scatter", x=lx.astype(np.float32), y=ly.astype(np.float32), mode="lines",
            hoverinfo="skip", line=dict(color="rgba(0,0,0,0.35)", width=0.8), showlegend=False,
            name="contours",
        ),
    ]  # fmt: skip


def _layout(title: str, x: str, y: str, height: int, **extra) -> dict:
    """``base_layout``'s look with the legend under the plot, where long names cover nothing."""
    return dict(
        title=_title(title), height=height, xaxis=dict(title=dict(text=x)),
        yaxis=dict(title=dict(text=y)), margin=dict(l=60, r=20, t=40, b=40),
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0.0, xanchor="left"), **extra,
    )  # fmt: skip


def _square(layout: dict, lim: float) -> dict:
    """Equal axes on [−lim, lim]²: the plot area shrinks to a square (a circle stays round)."""
    layout["xaxis"].update(range=[-lim, lim], zeroline=True, constrain="domain")
    layout["yaxis"].update(range=[-lim, lim], zeroline=True, scaleanchor="x", constrain="domain")
    return layout


def _log_axes(layout: dict) -> dict:
    layout["xaxis"].update(type="log", exponentformat="power")
    layout["yaxis"].update(type="log", exponentformat="power")
    return layout


def _positive(a) -> np.ndarray:
    """An exact 0 (or less) has no place on a log axis: NaN leaves a gap."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, a, np.nan)


def _scatter(x, y, name: str, color: str, mode: str = "lines", **kw) -> dict:
    line = dict(color=color, **kw.pop("line", {}))
    marker = dict(color=color, **kw.pop("marker", {}))
    return dict(type="scatter", x=x, y=y, mode=mode, name=name, line=line, marker=marker, **kw)


# ---------------------------------------------------------------- a matrix as a map
GRID = np.linspace(-1.0, 1.0, 5)
CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 121)), np.sin(np.linspace(0, 2 * np.pi, 121))], 1)  # fmt: skip
SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])


def _grid_lines() -> np.ndarray:
    ends = [np.array([[-1.0, c], [1.0, c]]) for c in GRID]
    return _polyline(ends + [e[:, ::-1] for e in ends])


def transform(A: np.ndarray, e: Eigen) -> go.Figure:
    """The plane before and after A: the grid, the unit circle and its ellipse, the unit
    square and its parallelogram (area |det A|), the columns Ae₁, Ae₂ and the eigenvectors.
    One ``go.Figure(data, layout)`` call from dicts: a new matrix builds it in a few ms."""
    grid, img = _grid_lines(), _grid_lines() @ A.T
    ellipse, para = CIRCLE @ A.T, SQUARE @ A.T
    lim = max(1.6, 1.12 * float(np.nanmax(np.abs(np.vstack([img, ellipse])))))
    skip = dict(hoverinfo="skip")
    traces = [
        _line(grid, "grid", LIGHT, line=dict(width=1), **skip),
        _line(img, "A × grid", SKY, line=dict(width=1.2), **skip),
        _line(CIRCLE, "unit circle", GREY, line=dict(dash="dash"), **skip),
        _line(ellipse, "A × circle", BLUE, line=dict(width=2.5), **skip),
        _line(para, f"A × unit square: area {plain(abs(e.det), 3)}", ORANGE, line=dict(width=1), fill="toself", fillcolor="rgba(230,159,0,0.25)"),
    ]  # fmt: skip
    notes = _arrow_notes((0, 0), A[:, 0], BLACK, text="Ae₁") + _arrow_notes((0, 0), A[:, 1], BLACK, text="Ae₂")  # fmt: skip
    if e.vectors is not None and not e.scalar:
        pairs = [(e.vectors[0], e.values[0], "v₁", GREEN)]
        if not e.defective:
            pairs.append((e.vectors[1], e.values[1], "v₂", VERMILLION))
        for v, lam, label, colour in pairs:
            only = " (the only one)" if e.defective else ""
            name = f"{label}{only}: A{label} = {plain(lam.real, 3)} {label}"
            traces.append(_line(np.array([-lim * 1.5 * v, lim * 1.5 * v]), name, colour, line=dict(dash="dot")))  # fmt: skip
            notes += _arrow_notes((0, 0), lam.real * v, colour, width=4)
    note = None
    if not e.real:
        note = (
            f"λ = {plain(e.values[0].real, 3)} ± {plain(abs(e.values[0].imag), 3)}i: complex, so no "
            f"direction is kept. A turns by {plain(e.angle_deg, 3)}° and scales by |λ| = {plain(e.modulus, 3)}"
        )
    elif e.scalar:
        note = f"A = {plain(e.values[0].real, 3)} I: every direction is an eigenvector"
    if note:
        notes.append(dict(
            x=0.0, y=0.0, xref="paper", yref="paper", text=note, showarrow=False,
            xanchor="left", yanchor="bottom", bgcolor="rgba(255,255,255,0.85)", font=dict(size=12),
        ))  # fmt: skip
    axis = dict(range=[-lim, lim], zeroline=True, constrain="domain")
    layout = dict(
        title=_title("What A does to the plane"), height=440, annotations=notes,
        xaxis=dict(axis, title=dict(text="x₁")),
        yaxis=dict(axis, title=dict(text="x₂"), scaleanchor="x"),
        legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top"),
        margin=dict(l=50, r=10, t=40, b=45),
    )  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def svd_stages(s: SVD) -> go.Figure:
    """x → Vᵀx → ΣVᵀx → UΣVᵀx = Ax: the unit circle, a letter F and the right singular vectors
    (the columns of V) through the three steps; four panels side by side, one call."""
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
    lim, gap = 1.15 * max(1.0, s.sigma[0]), 0.05
    width = (1 - 3 * gap) / 4
    traces, notes, layout = [], [], {}
    for j, M in enumerate(stages, start=1):
        first, suffix = j == 1, "" if j == 1 else str(j)
        xa, ya = f"x{suffix}", f"y{suffix}"
        c, f = CIRCLE @ M.T, LETTER_F @ M.T
        traces.append(_line(c, "unit circle, mapped", BLUE, showlegend=first, xaxis=xa, yaxis=ya))
        traces.append(_line(f, "a letter F (mirrored when det A < 0)", BLACK, line=dict(width=2.5), showlegend=first, xaxis=xa, yaxis=ya))  # fmt: skip
        for k, colour in ((0, GREEN), (1, VERMILLION)):
            notes += _arrow_notes((0, 0), M @ V[:, k], colour, width=3, ref=(xa, ya))
        lo = (j - 1) * (width + gap)
        layout[f"xaxis{suffix}"] = dict(domain=[lo, lo + width], range=[-lim, lim], anchor=ya, title=dict(text="x₁"), constrain="domain")  # fmt: skip
        layout[f"yaxis{suffix}"] = dict(domain=[0, 1], range=[-lim, lim], anchor=xa, scaleanchor=xa, constrain="domain", showticklabels=first, title=dict(text="x₂" if first else ""))  # fmt: skip
        notes.append(dict(text=titles[j - 1], x=lo + width / 2, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=14)))  # fmt: skip
    for colour, label in ((GREEN, "first"), (VERMILLION, "second")):
        traces.append(dict(type="scatter", x=[None], y=[None], mode="lines", line=dict(color=colour, width=3), name=f"{label} column of V, then its image"))  # fmt: skip
    layout.update(
        height=320, margin=dict(l=50, r=10, t=50, b=40), annotations=notes,
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, xanchor="left"),
    )  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def quadratic_map(q: Quadratic, xs, ys, F) -> go.Figure:
    """½ xᵀAx as a height map with its contours and the axes of S: the flattest and the
    steepest directions."""
    traces = _height_map(xs, ys, F, "f(x)")
    r = 0.95 * float(xs[-1])
    for v, lam, label, colour in (
        (q.v_min, q.lam_min, "lambda_min", GREEN), (q.v_max, q.lam_max, "lambda_max", VERMILLION),
    ):  # fmt: skip
        line = np.array([-r * v, r * v])
        traces.append(_line(line, f"eigenvector of {sub(label)} = {plain(lam, 3)}", colour, line=dict(width=2.5)))  # fmt: skip
    traces.append(_scatter([0], [0], "x = 0", BLACK, "markers", marker=dict(size=8, symbol="x")))
    title = {
        "bowl": f"A bowl: κ = {plain(q.kappa, 3)}", "valley": "A flat valley: lambda_min = 0",
        "saddle": "A saddle: curvatures of both signs", "dome": "A dome: a maximum at 0",
        "ridge": "A flat ridge", "flat": "Flat: f = 0 everywhere",
    }[q.kind]  # fmt: skip
    layout = _square(_layout(sub(title), "x₁", "x₂", 460), float(xs[-1]))
    return go.Figure(data=traces, layout=layout)


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
    (x, y), (gx, gy), u = d.point, d.grad, d.u
    traces = _height_map(xs, ys, F, "f(x, y)") + [
        _line(_polyline(segs), "∇f on a grid", "rgba(255,255,255,0.9)", line=dict(width=1.2), showlegend=False, hoverinfo="skip"),
        _scatter([x], [y], f"the point ({plain(x, 3)}, {plain(y, 3)})", BLACK, "markers", marker=dict(size=10)),
    ]  # fmt: skip
    g_len = math.hypot(gx, gy)
    g_draw = 1.2 / max(g_len, 1e-12) if g_len > 1.2 else 1.0  # at most 1.2 long on screen
    notes = _arrow_notes((x, y), (x + gx * g_draw, y + gy * g_draw), BLACK, width=3, text="∇f")
    notes += _arrow_notes((x, y), (x + u[0], y + u[1]), ORANGE, width=3, text="u")
    layout = _layout("∇f (white arrows) points uphill, across the contours", "x", "y", 460, annotations=notes)  # fmt: skip
    return go.Figure(data=traces, layout=_square(layout, float(xs[-1])))


def fd_errors(epss: np.ndarray, err_c: np.ndarray, err_f: np.ndarray, d: Directional) -> go.Figure:
    """Error of the central and the forward difference against the step ε (log-log), with the
    two Taylor laws and the round-off floor."""
    floor = EPS_FLOOR * max(abs(d.f_plus), abs(d.f_minus), 1e-300) / epss
    traces = [
        _scatter(epss, _positive(err_c), "central difference: measured", BLUE, "lines+markers", marker=dict(size=4)),
        _scatter(epss, _positive(epss**2 / 6 * abs(d.d3)), "Taylor: ε²/6 · |D³f|", SKY, line=dict(dash="dash")),
        _scatter(epss, _positive(err_f), "forward difference: measured", VERMILLION, "lines+markers", marker=dict(size=4)),
        _scatter(epss, _positive(epss / 2 * abs(d.d2)), "Taylor: ε/2 · |D²f|", ORANGE, line=dict(dash="dash")),
        _scatter(epss, floor, "round-off: 2.2e-16 · |f| / ε", GREY, line=dict(dash="dot")),
    ]  # fmt: skip
    shown = np.concatenate([_positive(err_c), _positive(err_f), floor])
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0
    layout = _log_axes(_layout("Error of the finite difference against the step ε", "step ε", "|error|", 460))  # fmt: skip
    layout["yaxis"]["range"] = [-18, math.log10(max(top, 1e-12)) + 1]
    layout["shapes"] = [dict(type="line", x0=d.eps, x1=d.eps, y0=0, y1=1, xref="x", yref="paper", line=dict(color=BLACK, width=1))]  # fmt: skip
    layout["annotations"] = [dict(x=math.log10(d.eps), y=1.0, xref="x", yref="paper", text=f"your ε = {plain(d.eps, 2)}", showarrow=False, yanchor="bottom")]  # fmt: skip
    return go.Figure(data=traces, layout=layout)


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
    top = 1.05 * float(max(np.max(pdf), np.max(density) if len(density) else 0.0))
    traces = [
        dict(type="bar", x=centres, y=density, width=widths, marker=dict(color=SKY, line=dict(width=0)), name=f"histogram of the n = {st.n} samples"),
        _scatter(xs, pdf, "density N(μ, σ²)", BLUE, line=dict(width=2.5)),
        _scatter([mu, mu], [0, top], f"true mean μ = {plain(mu, 3)}", BLACK, line=dict(dash="dash")),
        _scatter([st.mean, st.mean], [0, top], f"sample mean x̄ = {plain(st.mean, 4)}", VERMILLION),
    ]  # fmt: skip
    layout = _layout("Samples of a Gaussian against its density", "x", "density", 380, bargap=0)
    return go.Figure(data=traces, layout=layout)


def bernoulli_figure(y: np.ndarray, p: float) -> go.Figure:
    share = float(np.mean(y))
    traces = [
        dict(type="bar", x=["0", "1"], y=[1 - share, share], marker=dict(color=SKY), name=f"share in the n = {len(y)} samples"),
        dict(type="bar", x=["0", "1"], y=[1 - p, p], marker=dict(color=BLUE), name="probability 1 − p, p"),
    ]  # fmt: skip
    layout = _layout("Bernoulli(p): shares of 0s and 1s", "outcome", "share", 380)
    layout["yaxis"]["range"] = [0, 1.05]
    return go.Figure(data=traces, layout=layout)


def spread_figure(ns, sd_g, sd_b, sigma: float, p: float) -> go.Figure:
    ns = np.asarray(ns, dtype=np.float64)
    traces = [
        _scatter(ns, _positive(sd_g), "Gaussian: spread of x̄ over 300 repeats", BLUE, "markers", marker=dict(size=9)),
        _scatter(ns, sigma / np.sqrt(ns), "σ/√n", SKY, line=dict(dash="dash")),
        _scatter(ns, _positive(sd_b), "Bernoulli: spread of the share of 1s", VERMILLION, "markers", marker=dict(size=9, symbol="square")),
        _scatter(ns, _positive(np.sqrt(p * (1 - p) / ns)), "√(p(1 − p)/n)", ORANGE, line=dict(dash="dash")),
    ]  # fmt: skip
    layout = _log_axes(_layout("The sample mean's spread shrinks like 1/√n", "samples n", "spread of the mean", 400))  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def mle_figure(asc: Ascent, mus, sigmas, LL) -> go.Figure:
    """The mean log-likelihood over (μ, σ) with the path of gradient ascent and the closed form.
    Heights far below the path are drawn in one colour, so the climb keeps the colour range."""
    path = asc.loglik[np.isfinite(asc.loglik)]
    top = float(np.nanmax(LL))
    low = min(float(path.min()) if len(path) else top, top - 1.0) - 0.5
    traces = _height_map(mus, sigmas, np.clip(LL, low, top), "ℓ(μ, σ)", levels=20) + [
        _scatter(asc.mu, asc.sigma, f"gradient ascent, {len(asc.mu) - 1} steps", BLACK, "lines+markers", marker=dict(size=4)),
        _scatter([asc.mu[0]], [asc.sigma[0]], "start (0, 1)", PINK, "markers", marker=dict(size=11)),
        _scatter([asc.closed[0]], [asc.closed[1]], "closed form (x̄, σ̂)", ORANGE, "markers", marker=dict(size=16, symbol="star")),
    ]  # fmt: skip
    layout = _layout("Maximum likelihood: climbing ℓ(μ, σ)", "μ", "σ", 440)
    layout["xaxis"]["range"] = [float(mus[0]), float(mus[-1])]
    layout["yaxis"]["range"] = [float(sigmas[0]), float(sigmas[-1])]
    return go.Figure(data=traces, layout=layout)


def nll_figure(grid, nll, mse_scaled, best: float, x_title: str, title: str, names) -> go.Figure:
    """A negative log-likelihood and the loss it equals, over the prediction."""
    traces = [_scatter(grid, nll, names[0], BLUE, line=dict(width=6), opacity=0.45)]
    if mse_scaled is not None:
        traces.append(_scatter(grid, mse_scaled, names[1], VERMILLION, line=dict(width=2, dash="dash")))  # fmt: skip
    finite = np.asarray(nll)[np.isfinite(nll)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    traces.append(_scatter([best, best], [lo, hi], f"minimum at {plain(best, 4)}", BLACK, line=dict(dash="dot")))  # fmt: skip
    return go.Figure(data=traces, layout=_layout(title, x_title, "mean loss", 360))


# ---------------------------------------------------------------- information
def pq_figure(P: np.ndarray, Q: np.ndarray, info: Information, unit: str) -> go.Figure:
    """P and Q side by side, and each outcome's term P(x) log(P(x)/Q(x)) of the KL."""
    xs = [str(i + 1) for i in range(len(P))]
    terms = np.asarray(info.terms_PQ, dtype=np.float64)
    traces = [
        dict(type="bar", x=xs, y=P, marker=dict(color=BLUE), name="P"),
        dict(type="bar", x=xs, y=Q, marker=dict(color=ORANGE), name="Q"),
        dict(type="bar", x=xs, y=np.where(np.isfinite(terms), terms, np.nan), marker=dict(color=GREEN), name="P(x) log(P(x)/Q(x))", xaxis="x2", yaxis="y2"),
    ]  # fmt: skip
    titles = ("The two distributions", f"Terms of D<sub>KL</sub>(P‖Q), {unit}")
    notes = [dict(text=t, x=c, y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=14)) for t, c in zip(titles, (0.24, 0.8), strict=True)]  # fmt: skip
    notes += [
        dict(x=x, y=0, text="∞", showarrow=False, font=dict(size=20, color=GREEN), yshift=14, xref="x2", yref="y2")
        for x, t in zip(xs, terms, strict=True) if not np.isfinite(t)
    ]  # fmt: skip
    layout = dict(
        height=340, margin=dict(l=55, r=10, t=60, b=45), annotations=notes,
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
        xaxis=dict(domain=[0, 0.48], title=dict(text="outcome x")),
        yaxis=dict(title=dict(text="probability"), range=[0, 1.02]),
        xaxis2=dict(domain=[0.6, 1.0], anchor="y2", title=dict(text="outcome x")),
        yaxis2=dict(anchor="x2", title=dict(text=unit)),
    )  # fmt: skip
    return go.Figure(data=traces, layout=layout)


def mixture_figure(x, p, qf, qr, fits: MixtureFits) -> go.Figure:
    f, r = fits.forward, fits.reverse
    traces = [
        _scatter(x, p, "p: two peaks", BLACK, line=dict(width=2), fill="tozeroy", fillcolor="rgba(0,0,0,0.12)"),
        _scatter(x, qf, f"q minimising KL(p‖q): μ = {plain(f.mu, 3, zero=1e-6)}, σ = {plain(f.sigma, 3)}", BLUE, line=dict(width=3)),
        _scatter(x, qr, f"q minimising KL(q‖p): μ = {plain(r.mu, 3, zero=1e-6)}, σ = {plain(r.sigma, 3)}", VERMILLION, line=dict(width=3, dash="dash")),
    ]  # fmt: skip
    return go.Figure(data=traces, layout=_layout("One Gaussian q fitted to two peaks p, both ways", "x", "density", 400))  # fmt: skip


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
        clamp = (
            " (that page's κ stops at 100)" if q.kappa > 100.5
            else " (rounded: that page's κ moves in whole numbers)" if abs(q.kappa - float(link["kappa"])) > 1e-9
            else ""
        )  # fmt: skip
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
