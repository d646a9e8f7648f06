"""The Math toolkit's figures and formulas (viz/toolkit.py): they draw the core's numbers,
keep the rulebook, and never show a NaN, also at the edges (singular A, n = 1, p = 0,
infinite KL)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dl_core.toolkit import calculus as C
from dl_core.toolkit import information as I
from dl_core.toolkit import linalg as LA
from dl_core.toolkit import probability as P
from viz import style
from viz import toolkit as vt

MATRICES = {
    "default": (1.0, 0.8, 0.3, 1.2), "rotation": (0.8, -0.6, 0.6, 0.8),
    "shear": (1.0, 1.0, 0.0, 1.0), "scaling": (2.0, 0.0, 0.0, 0.5),
    "projection": (0.5, 0.5, 0.5, 0.5), "spd": (2.0, 1.0, 1.0, 1.0),
    "mirror": (0.5, 1.5, 1.0, -0.5), "zero": (0.0, 0.0, 0.0, 0.0),
    "scalar": (-1.5, 0.0, 0.0, -1.5), "extreme": (2.0, -2.0, 2.0, -2.0),
}  # fmt: skip


def by_name(fig, start: str):
    (trace,) = [t for t in fig.data if (t.name or "").startswith(start)]
    return trace


def ok(fig) -> None:
    assert style.violations(fig.to_plotly_json()) == []


def no_nan(lines) -> None:
    text = "\n".join(lines) if isinstance(lines, list) else lines
    assert "NaN" not in text and "nan" not in text, text


def shoelace(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    return 0.5 * abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


@pytest.mark.parametrize("name", list(MATRICES))
def test_transform_draws_A_times_the_circle_and_the_area_det(name):
    A = LA.matrix(*MATRICES[name])
    e = LA.eigen(A)
    fig = vt.transform(A, e)
    ok(fig)
    ellipse = by_name(fig, "A × circle")
    np.testing.assert_allclose(np.column_stack([ellipse.x, ellipse.y]), vt.CIRCLE @ A.T)
    square = by_name(fig, "A × unit square")
    assert shoelace(square.x, square.y) == pytest.approx(abs(e.det), abs=1e-12)
    assert f"area {vt.plain(abs(e.det), 3)}" in square.name
    eig_traces = [t for t in fig.data if (t.name or "").startswith(("v₁", "v₂"))]
    if e.real and not e.scalar:
        assert len(eig_traces) == (1 if e.defective else 2)
        assert vt.plain(e.values[0].real, 3) in eig_traces[0].name
    else:
        assert not eig_traces
        notes = " ".join(a.text for a in fig.layout.annotations)
        assert ("complex" in notes) if not e.real else ("every direction" in notes)
    for line in vt.matrix_lines(A, e):
        no_nan(line)
    no_nan(vt.matrix_text(e))
    assert vt.num(e.det) in vt.matrix_lines(A, e)[1]


@pytest.mark.parametrize("name", list(MATRICES))
def test_svd_stages_end_at_A_times_the_circle(name):
    A = LA.matrix(*MATRICES[name])
    s = LA.svd(A)
    fig = vt.svd_stages(s)
    ok(fig)
    circles = [t for t in fig.data if t.name == "unit circle, mapped"]
    assert len(circles) == 4
    np.testing.assert_allclose(np.column_stack([circles[0].x, circles[0].y]), vt.CIRCLE, atol=1e-12)
    np.testing.assert_allclose(np.column_stack([circles[3].x, circles[3].y]), vt.CIRCLE @ A.T, atol=1e-12)  # fmt: skip
    stretched = np.column_stack([circles[2].x, circles[2].y])
    assert np.abs(stretched).max(axis=0) == pytest.approx(s.sigma, abs=1e-3)  # axis-aligned
    lines = vt.svd_lines(s)
    assert vt.num(s.sigma[0]) in lines[1]
    no_nan(lines + [vt.svd_text(A, s, LA.eigen(A))])


@pytest.mark.parametrize("name", list(MATRICES))
def test_quadratic_map_is_a_height_with_the_axes_of_S(name):
    A = LA.matrix(*MATRICES[name])
    q = LA.quadratic(A)
    xs, ys, F = LA.quadratic_grid(A)
    fig = vt.quadratic_map(q, xs, ys, F)
    ok(fig)
    heat = next(t for t in fig.data if t.type == "heatmap")
    assert heat.meta == style.HEIGHT
    axis = by_name(fig, "eigenvector of λ<sub>min</sub>")
    direction = np.array([axis.x[1] - axis.x[0], axis.y[1] - axis.y[0]])
    assert abs(direction @ q.v_min) == pytest.approx(np.linalg.norm(direction))
    text = vt.quadratic_text(q, LA.gd_link(q))
    no_nan(vt.quadratic_lines(q) + [text])
    if q.kind == "bowl":
        link = LA.gd_link(q)
        assert f"](gradient_descent?surface=quadratic&kappa={link['kappa']}&angle={link['angle']})" in text  # fmt: skip
    else:
        assert "gradient_descent?" not in text and r"\kappa = \infty" in vt.quadratic_lines(q)[-1]


@pytest.mark.parametrize("name", list(C.FUNCTIONS))
def test_gradient_field_and_error_chart(name):
    d = C.directional(name, 1.0, 0.5, 30, 1e-3)
    fig = vt.gradient_field(*C.function_grid(name), C.gradient_field(name), d)
    ok(fig)
    epss = np.logspace(-12, 0, 25)
    err_c, err_f = C.error_sweep(d, name, epss)
    fd = vt.fd_errors(epss, err_c, err_f, d)
    ok(fd)
    measured = by_name(fd, "central difference")
    shown = np.asarray(measured.y, dtype=float)
    np.testing.assert_allclose(shown[err_c > 0], err_c[err_c > 0])
    assert np.all(np.isnan(shown[err_c == 0]))  # an exact 0 is not drawn on a log axis
    assert fd.layout.xaxis.type == "log" and fd.layout.yaxis.type == "log"
    lines = vt.directional_lines(C.FUNCTIONS[name], d)
    assert vt.num(d.exact, 6) in lines[2]
    no_nan(lines + [vt.fd_text(d)])


@pytest.mark.parametrize("n, p", [(200, 0.3), (1, 0.0), (2, 1.0), (10000, 0.5)])
def test_probability_figures_and_numbers(n, p):
    eps, z = P.gaussian_sample(1.5, 0.8, n, 0)
    y = P.bernoulli_sample(p, n, 0)
    st = P.stats(z)
    for fig in (
        vt.samples_figure(*vt.density_curves(z, 1.5, 0.8), st, 1.5),
        vt.bernoulli_figure(y, p),
        vt.spread_figure(np.array([1, 10, 100]), *P.mean_spread(1.5, 0.8, p, [1, 10, 100], 50), 0.8, p),
        vt.mse_figure(z, 0.8),
        vt.bce_figure(y),
    ):  # fmt: skip
        ok(fig)
    asc = P.mle_ascent(z, 0.1, 50)
    ok(vt.mle_figure(asc, *vt.mle_grid(z, asc)))
    texts = (
        vt.stats_lines(st, 1.5, 0.8) + vt.mle_lines(asc) + vt.loss_lines(z, y, 1.5, 0.8, p)
        + vt.reparam_lines(P.reparam_gradient(1.5, 0.8, eps), 1.5, 0.8)
        + [vt.stats_text(st, y, p, 1.5, 0.8), vt.mle_text(asc, 0.1)]
    )  # fmt: skip
    no_nan(texts)
    assert vt.num(st.mean) in vt.stats_lines(st, 1.5, 0.8)[0]
    if n == 1:
        assert "no maximum" in vt.mle_text(asc, 0.1) and "σ̂ = 0" in vt.stats_text(
            st, y, p, 1.5, 0.8
        )


def test_the_likelihood_map_holds_the_path_and_the_closed_form():
    _, z = P.gaussian_sample(1.5, 0.8, 200, 0)
    asc = P.mle_ascent(z, 0.1, 100)
    mus, sigmas, LL = vt.mle_grid(z, asc)
    assert mus[0] <= min(asc.mu.min(), asc.closed[0]) and mus[-1] >= max(asc.mu.max(), asc.closed[0])  # fmt: skip
    assert sigmas[0] <= asc.closed[1] <= sigmas[-1] and sigmas[-1] >= asc.sigma.max()
    star = by_name(vt.mle_figure(asc, mus, sigmas, LL), "closed form")
    assert (star.x[0], star.y[0]) == pytest.approx(asc.closed)
    assert "reaches it" in vt.mle_text(asc, 0.1)
    _, z = P.gaussian_sample(2.0, 0.1, 200, 0)
    assert "bounces" in vt.mle_text(P.mle_ascent(z, 0.1, 100), 0.1)


@pytest.mark.parametrize("Pw, Qw", [((0.4, 0.3, 0.2, 0.1), (0.25,) * 4), ((0.2, 0.3, 0.5, 0), (0.4, 0.6, 0, 0)), ((0, 0, 0, 0), (1, 0, 0, 0))])  # fmt: skip
@pytest.mark.parametrize("unit", ["bits", "nats"])
def test_information_figure_and_numbers(Pw, Qw, unit):
    (Pd, p0), (Qd, q0) = I.normalise(Pw), I.normalise(Qw)
    info = I.information(Pd, Qd, unit)
    fig = vt.pq_figure(Pd, Qd, info, unit)
    ok(fig)
    lines = vt.info_lines(info, unit)
    text = vt.info_text(info, p0 or q0)
    no_nan(lines + [text])
    assert vt.num(info.JS) in lines[2]
    if math.isinf(info.KL_PQ):
        assert r"\infty" in lines[1] and "Infinite KL" in text
        assert any(a.text == "∞" for a in fig.layout.annotations)
    if p0 or q0:
        assert "uniform" in text


@pytest.mark.parametrize("sep, width, left", [(2.0, 0.6, 0.5), (0.0, 0.2, 0.5), (4.0, 2.0, 0.0), (3.0, 0.3, 0.8)])  # fmt: skip
def test_mixture_figure_and_tables(sep, width, left):
    f = I.fit_mixture(I.Mixture(sep, width, left))
    x, p, qf, qr = I.mixture_curves(f.mix, f)
    fig = vt.mixture_figure(x, p, qf, qr, f)
    ok(fig)
    assert float(np.trapezoid(p, x)) == pytest.approx(1.0, abs=2e-3)
    table = vt.fits_table(f)
    lines = vt.gauss_kl_lines(f)
    no_nan(lines + [table])
    assert vt.num(I.kl_gauss(f.forward.mu, f.forward.sigma, f.reverse.mu, f.reverse.sigma)) in lines[1]  # fmt: skip
