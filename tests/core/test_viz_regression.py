"""The regression page's loss landscape: a heatmap of log₁₀ L(w, b) with iso-lines computed
on the server (no JavaScript contour trace); the lines are the loss's own level sets."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core import regression as R
from viz import regression as vr
from viz import style
from viz.isolines import nice_levels
from viz.latex import num


def runs(**kw):
    cfg = R.LinRegConfig(**kw)
    return [R.train_linreg(R.LinRegConfig(**{**cfg.__dict__, "batch_size": b})) for b in (0, 10, 1)]


def by_name(fig, name: str):
    (trace,) = [t for t in fig.data if t.name == name]
    return trace


def test_landscape_is_a_heatmap_whose_lines_are_level_sets_of_the_loss():
    rs = runs()
    _, _, Z, _ = grid = vr.landscape_grid(rs)
    fig = vr.loss_landscape(rs, 10, grid)
    types = [t.type for t in fig.data]
    assert "contour" not in types and types.count("heatmap") == 1
    heat = fig.data[types.index("heatmap")]
    assert heat.colorbar.title.text == "log₁₀ L"
    assert fig.layout.xaxis.title.text == "slope w" and fig.layout.yaxis.title.text == "intercept b"
    lines = by_name(fig, "contour lines")
    pts = np.column_stack([lines.x, lines.y]).astype(float)
    pts = pts[np.isfinite(pts).all(axis=1)]
    assert len(pts) > 300
    # the exact loss at every vertex is within grid tolerance of a round level
    x, y = rs[0].x, rs[0].y
    L = ((pts[:, :1] * x + pts[:, 1:] - y) ** 2).mean(axis=1)  # (P,)
    levels = nice_levels(Z.min(), Z.max(), vr.N_LEVELS)
    off = np.abs(np.log10(L)[:, None] - levels[None, :]).min(axis=1)
    cell = max(abs(np.diff(Z, axis=0)).max(), abs(np.diff(Z, axis=1)).max())
    # linear interpolation along a grid edge of a smooth log L: far below one cell's change,
    # and far below half the spacing of the levels (a vertex on the wrong level would show)
    assert off.max() < 0.1 * cell < 0.5 * (levels[1] - levels[0])
    assert np.median(off) < 0.01 * cell


def test_paths_step_marker_and_least_squares_star():
    rs = runs()
    fig = vr.loss_landscape(rs, 7)
    full = by_name(fig, "full batch")
    np.testing.assert_allclose(np.column_stack([full.x, full.y]), rs[0].theta)
    assert by_name(fig, "mini-batch of 10") and by_name(fig, "stochastic (1 point)")
    step = by_name(fig, "step 7")
    assert (step.x[0], step.y[0]) == pytest.approx(tuple(rs[0].theta[7]))
    star = by_name(fig, "(w*, b*)")
    assert (star.x[0], star.y[0]) == pytest.approx(rs[0].closed_form)


def test_a_diverged_run_still_draws():
    rs = runs(lr=10.0, steps=500)
    assert rs[0].diverged_at is not None
    fig = vr.loss_landscape(rs, len(rs[0].theta) - 1)
    assert [t.type for t in fig.data].count("heatmap") == 1


def test_an_exact_fit_keeps_the_log_finite():
    rs = runs(noise=0.0, lr=0.3, steps=300)
    _, _, Z, (lx, _) = vr.landscape_grid(rs)
    assert np.isfinite(Z).all() and len(lx) > 0


def test_the_landscape_is_a_height_map_and_every_figure_keeps_the_rulebook():
    rs = runs()
    land = vr.loss_landscape(rs, 10)
    (heat,) = [t for t in land.data if t.type == "heatmap"]
    assert heat.meta == style.HEIGHT
    logres = R.train_logreg(R.LogRegConfig.tiny())
    figs = [land, vr.fit_at_step(rs[0], 10), vr.loss_curves(rs), vr.boundary(logres, 5, 3),
            vr.logreg_curves(logres)]  # fmt: skip
    for fig in figs:
        assert style.violations(fig.to_plotly_json()) == [], fig.layout.title.text


def test_the_boundary_colours_the_classes_as_the_probability_map():
    res = R.train_logreg(R.LogRegConfig.tiny())
    fig = vr.boundary(res, 5, 3)
    assert by_name(fig, "class 0").marker.color == style.NEGATIVE  # ŷ → 0 end of the scale
    assert by_name(fig, "class 1").marker.color == style.POSITIVE
    (heat,) = [t for t in fig.data if t.type == "heatmap"]
    assert (heat.zmin, heat.zmax) == (0, 1) and heat.colorscale[-1][1] == style.POSITIVE
    ring = by_name(fig, "point i = 4")  # the 0-based index 3 is the page's i = 4
    assert (ring.x[0], ring.y[0]) == pytest.approx(tuple(res.X[3]))


def test_point_walkthrough_uses_the_apps_symbols_and_numbers():
    res = R.train_logreg(R.LogRegConfig.tiny())
    pt = R.logreg_point(res, 5, 3)
    text = "\n".join(vr.logreg_point_numbers(pt, 4))
    assert r"a_{4} = w_1 x_{4,1} + w_2 x_{4,2} + b" in text and "z_" not in text
    assert r"\hat y_{4} = \sigma(a_{4})" in text and r"\ell" not in text
    assert f"= {num(pt.y_hat)}" in text and f"= {num(pt.dL_da)}" in text
    assert not any(c in text for c in "\b\f\t")
    step = "\n".join(vr.linreg_step_numbers(R.linreg_step(runs()[0], 3)))
    assert r"(\hat y_i - y_i)" in step and not any(c in step for c in "\b\f\t")
