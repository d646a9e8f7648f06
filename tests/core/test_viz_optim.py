"""The gradient-descent page's contour map: a heatmap plus iso-lines computed on the server
(no JavaScript contour trace), still a contour map of log₁₀(f − f*) with the paths on it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from dl_core import optim
from dl_core.optim import OPTIMIZER_LABELS, OptimConfig, RunConfig, SurfaceConfig
from viz import optim as vo
from viz import style
from viz.isolines import nice_levels
from viz.latex import plain


def bilinear(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Z (indexed [y, x]) interpolated at the (x, y) points pts (P, 2)."""
    j = np.clip(np.searchsorted(xs, pts[:, 0]) - 1, 0, len(xs) - 2)
    i = np.clip(np.searchsorted(ys, pts[:, 1]) - 1, 0, len(ys) - 2)
    u = (pts[:, 0] - xs[j]) / (xs[j + 1] - xs[j])
    v = (pts[:, 1] - ys[i]) / (ys[i + 1] - ys[i])
    return (
        Z[i, j] * (1 - u) * (1 - v) + Z[i, j + 1] * u * (1 - v)
        + Z[i + 1, j] * (1 - u) * v + Z[i + 1, j + 1] * u * v
    )  # fmt: skip


def contour_figure(name: str = "quadratic"):
    surface = SurfaceConfig(name)
    info = optim.surface_info(surface)
    xs, ys, F = optim.grid(surface)
    trajs = [
        optim.run(RunConfig(surface, OptimConfig(o, 0.01), info.start, 50)) for o in ("sgd", "adam")
    ]
    return vo.contour(xs, ys, F, info, trajs), (xs, ys, F, info, trajs)


def by_name(fig, name: str):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


@pytest.mark.parametrize("name", optim.SURFACES)
def test_contour_map_is_a_heatmap_with_server_side_iso_lines(name):
    fig, (xs, ys, F, info, _) = contour_figure(name)
    types = [t.type for t in fig.data]
    assert "contour" not in types and types.count("heatmap") == 1
    heat = fig.data[types.index("heatmap")]
    np.testing.assert_allclose(heat.z, vo.log_gap(F, info.f_min), rtol=1e-6, atol=1e-6)
    assert heat.colorbar.title.text == "log₁₀(f − f* + 10⁻³)"  # what log_gap computes
    assert fig.layout.xaxis.title.text == "x (θ₁)" and fig.layout.yaxis.title.text == "y (θ₂)"
    # every vertex of the lines sits on one of the round levels of the same log height
    lines = by_name(fig, "contour lines")
    pts = np.column_stack([lines.x, lines.y]).astype(float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    Z = vo.log_gap(F, info.f_min)
    height = bilinear(xs, ys, Z, pts)
    levels = nice_levels(Z.min(), Z.max(), vo.N_LEVELS)
    assert 10 <= len(levels) <= vo.N_LEVELS + 1
    off = np.abs(height[:, None] - levels[None, :]).min(axis=1)
    assert off.max() < 1e-4  # on the grid's own interpolation, up to float32 coordinates
    assert len(pts) > 500  # a real map, not a handful of lines


def test_paths_start_and_minima_are_drawn_and_the_map_stays_clickable():
    fig, (_, _, _, info, trajs) = contour_figure()
    for t in trajs:
        path = by_name(fig, OPTIMIZER_LABELS[t.config.optim.name])
        np.testing.assert_allclose(np.column_stack([path.x, path.y]), t.theta)
    start = by_name(fig, "start θ₀")
    assert (start.x[0], start.y[0]) == pytest.approx(info.start)
    assert len(by_name(fig, "minimum").x) == len(info.minima)
    clicks = by_name(fig, "click to start here")  # a heatmap gives Streamlit no point on click
    assert len(clicks.x) == vo.CLICK_GRID**2 and clicks.marker.opacity == 0
    assert min(clicks.x) == pytest.approx(info.xlim[0]) and max(clicks.y) == pytest.approx(
        info.ylim[1]
    )


def test_precomputed_lines_are_used_as_given():
    surface = SurfaceConfig("rosenbrock")
    info = optim.surface_info(surface)
    xs, ys, F = optim.grid(surface)
    lines = vo.surface_lines(xs, ys, F, info.f_min)
    fig = vo.contour(xs, ys, F, info, [], lines=lines)
    drawn = by_name(fig, "contour lines")
    np.testing.assert_allclose(np.asarray(drawn.x, float), lines[0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(drawn.y, float), lines[1], rtol=1e-6)


def test_a_diverged_run_keeps_the_log_axes_readable():
    """Momentum on Rosenbrock at η = 0.2 reaches f ≈ 1e70: a label every 2 decades would be
    35 labels on top of each other; and seven curves put the legend under the plot."""
    surface = SurfaceConfig("rosenbrock")
    info = optim.surface_info(surface)
    names = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
    trajs = [optim.run(RunConfig(surface, OptimConfig(o, 0.2), info.start, 100)) for o in names]
    assert any(t.diverged_at for t in trajs)
    for fig, at_least in ((vo.loss_curves(trajs, info.f_min), 30), (vo.step_sizes(trajs), 10)):
        y = np.concatenate([np.asarray(t.y, float) for t in fig.data])
        decades = np.log10(y[np.isfinite(y)].max() / y[np.isfinite(y)].min())
        assert decades > at_least and decades / fig.layout.yaxis.dtick <= 8
        assert fig.layout.legend.y < 0  # below the plot
    few = vo.loss_curves(trajs[-2:], info.f_min)  # Adam and AdamW converge: labels every 2
    assert few.layout.yaxis.dtick == 2 and few.layout.legend.y == 1.0


# ---------------------------------------------------------------- the rate tabs
def test_the_surface_map_is_a_height_map_on_the_sequential_scale():
    fig, _ = contour_figure()
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    assert (
        heat.meta == style.HEIGHT
        and heat.colorscale == go.Heatmap(colorscale=style.SEQUENTIAL).colorscale
    )
    assert style.violations(fig.to_plotly_json()) == []


def test_gd_rate_curve_marks_the_best_step_and_the_learners_eta_on_the_rate():
    fig = vo.gd_rate_curve(1.0, 10.0, 0.05)
    rate = by_name(fig, "rate(η): the larger one")
    np.testing.assert_allclose(rate.y, optim.gd_rate(np.asarray(rate.x), 1.0, 10.0))
    (best,) = [t for t in fig.data if t.name.startswith("best η*")]
    assert (best.x[0], best.y[0]) == pytest.approx((2 / 11, 9 / 11))
    (mine,) = [t for t in fig.data if t.name.startswith("your η")]
    assert (mine.x[0], mine.y[0]) == pytest.approx((0.05, 0.95))
    assert mine.name == "your η = 0.05: rate 0.95"
    assert style.violations(fig.to_plotly_json()) == []
    far = vo.gd_rate_curve(1.0, 10.0, 10.0)  # η far beyond the chart: at the edge, said so
    (mine,) = [t for t in far.data if t.name.startswith("your η")]
    assert "off the chart" in mine.name and mine.x[0] == pytest.approx(far.layout.xaxis.range[1])


def test_rate_map_figure_shows_the_closed_form_the_edge_the_optimum_and_the_learner():
    m = optim.rate_map(1.0, 10.0)
    fig = vo.rate_map_figure(m, 1.0, 10.0, 0.05, 0.9)
    rate, grey = [t for t in fig.data if t.type == "heatmap"]
    z = np.asarray(rate.z, float)
    converge = m.rate < 1
    np.testing.assert_allclose(z[converge], m.rate[converge], rtol=1e-6)
    assert np.isnan(z[~converge]).all() and np.isnan(np.asarray(grey.z, float)[converge]).all()
    lr_best, beta_best, rate_best = optim.momentum_optimum(1.0, 10.0)
    assert rate.zmin == pytest.approx(rate_best) and rate.zmax == 1.0
    (star,) = [t for t in fig.data if t.name.startswith("optimum")]
    assert (star.x[0], star.y[0]) == pytest.approx((lr_best, beta_best))
    (edge,) = [t for t in fig.data if t.name.startswith("edge")]
    np.testing.assert_allclose(edge.x, 2 * (1 + np.asarray(edge.y)) / 10.0)
    (mine,) = [t for t in fig.data if t.name.startswith("your (η, β)")]
    assert (mine.x[0], mine.y[0]) == (0.05, 0.9)
    assert f"rate {plain(float(optim.momentum_rate(0.05, 0.9, 1.0, 10.0)))}" in mine.name
    assert style.violations(fig.to_plotly_json()) == []
    off = vo.rate_map_figure(m, 1.0, 10.0, 10.0, 0.9)
    (mine,) = [t for t in off.data if t.name.startswith("your (η, β)")]
    assert "diverges" in mine.name and "off the map" in mine.name


def test_the_rate_lines_carry_the_learners_numbers():
    lines = "\n".join(vo.gd_rate_lines(1.0, 10.0, 0.05))
    assert r"\max(0.95,\ 0.5) = 0.95" in lines and r"= 0.1818" in lines and "= 0.8182" in lines
    lines = "\n".join(vo.momentum_lines(1.0, 9.0, 0.25, 0.25))
    assert r"\mathrm{rate}(\eta, \beta) = 0.5" in lines
    assert r"\eta^* = " in lines and "= 0.25" in lines
    # M_λ = [[1 + β − ηλ, −β], [1, 0]]: 1 + 0.25 − 0.25·1 = 1 and 1 + 0.25 − 0.25·9 = −1
    assert r"M_{\lambda_{\min}} = \begin{pmatrix}1 & -0.25\\ 1 & 0\end{pmatrix}" in lines
    assert r"M_{\lambda_{\max}} = \begin{pmatrix}-1 & -0.25\\ 1 & 0\end{pmatrix}" in lines
    assert not any(c in lines for c in "\b\f\t")  # no escape eaten by a non-raw string


def test_update_formulas_use_the_apps_notation():
    text = "\n".join(line for rule in vo.GENERAL.values() for line in rule)
    assert r"\mu" not in text and r"\beta\, v_{k-1}" in text
    assert r"(1 - \eta\alpha)" in " ".join(vo.GENERAL["adamw"]) and r"\lambda" not in text
    assert r"\rho\, s_{k-1}" in " ".join(vo.GENERAL["rmsprop"])
    assert set(vo.CONVENTIONS) == set(vo.GENERAL) == set(optim.OPTIMIZERS)
    # the constants the notes name are the code's
    assert "ρ = 0.99" in vo.CONVENTIONS["rmsprop"] and optim.OptimConfig().alpha == 0.99
    assert "α = 0.01" in vo.CONVENTIONS["adamw"] and optim.OptimConfig().weight_decay == 0.01


def test_presets_notes_carry_computed_numbers_and_valid_learning_rates():
    options = [0.01, 0.03, 0.05, 0.2, 0.25, 0.3]
    ps = vo.presets(options, {"tabs": "rate map"})
    for values, _note in ps.values():
        assert values.get("lr", 0.05) in options
    values, note = ps["Momentum at its best"]
    assert values["lr"] == 0.25 and values["mu"] == 0.25 and values["tabs"] == "rate map"
    assert "rate, 0.5 per step" in note
    _, note = ps["Narrow valley"]
    assert f"reaches {plain(float(optim.momentum_rate(0.03, 0.8, 1, 50)))}" in note
    assert "rate 0.97" in note
