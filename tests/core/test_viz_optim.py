"""The gradient-descent page's contour map: a heatmap plus iso-lines computed on the server
(no JavaScript contour trace), still a contour map of log₁₀(f − f*) with the paths on it."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core import optim
from dl_core.optim import OPTIMIZER_LABELS, OptimConfig, RunConfig, SurfaceConfig
from viz import optim as vo
from viz.isolines import nice_levels


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
    assert heat.colorbar.title.text == "log₁₀(f − f*)"
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
