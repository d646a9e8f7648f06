"""viz.isolines: marching squares on the server, checked against fields whose level sets are
known exactly (a circle, a straight line, the two branches of a hyperbola)."""

from __future__ import annotations

import numpy as np
import pytest

from viz.isolines import isolines, nice_levels, segments


def polylines(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The NaN-separated polylines of a line trace, each (P, 2)."""
    xy = np.column_stack([x, y])
    gaps = np.flatnonzero(np.isnan(xy).any(axis=1))
    parts = np.split(xy, gaps)
    return [p[~np.isnan(p).any(axis=1)] for p in parts]


def grid(f, n: int = 81, m: int = 61, lim: float = 2.0):
    xs, ys = np.linspace(-lim, lim, n), np.linspace(-lim, lim, m)
    X, Y = np.meshgrid(xs, ys)  # (m, n): rows are y
    return xs, ys, f(X, Y)


@pytest.mark.parametrize("r", [0.5, 1.0, 1.7])
def test_circle_iso_line_lies_on_the_circle_and_closes(r):
    xs, ys, Z = grid(lambda X, Y: X**2 + Y**2)
    h = max(xs[1] - xs[0], ys[1] - ys[0])
    x, y = isolines(xs, ys, Z, [r**2])
    lines = polylines(x, y)
    assert len(lines) == 1  # one closed loop, not loose pieces
    loop = lines[0]
    np.testing.assert_array_equal(loop[0], loop[-1])  # closed
    radius = np.hypot(loop[:, 0], loop[:, 1])
    # Linear interpolation of r² along a grid edge: the error in r is below h²/(8r) + h/10.
    assert np.abs(radius - r).max() < h**2 / (8 * r) + 0.1 * h
    # it goes all the way round: no angular gap wider than about two cells
    angles = np.sort(np.arctan2(loop[:, 1], loop[:, 0]))
    gaps = np.diff(np.concatenate([angles, angles[:1] + 2 * np.pi]))
    assert gaps.max() < 2.5 * h / r


@pytest.mark.parametrize("level", [-1.3, 0.0, 0.77])
def test_linear_field_gives_one_straight_line_border_to_border(level):
    a, b, c = 0.8, -1.9, 0.25
    xs, ys, Z = grid(lambda X, Y: a * X + b * Y + c)
    x, y = isolines(xs, ys, Z, [level])
    lines = polylines(x, y)
    assert len(lines) == 1
    line = lines[0]
    # linear interpolation is exact for a linear field: every vertex is on the line
    np.testing.assert_allclose(a * line[:, 0] + b * line[:, 1] + c, level, atol=1e-12)
    # it runs from one border of the grid to another
    on_border = lambda p: np.isclose(np.abs(p), 2.0).any()  # noqa: E731
    assert on_border(line[0]) and on_border(line[-1])
    assert not np.allclose(line[0], line[-1])


@pytest.mark.parametrize("level, same_sign", [(1e-3, True), (-1e-3, False)])
def test_saddle_cells_keep_the_two_hyperbola_branches_apart(level, same_sign):
    """x·y = level: the cell around the saddle at (0, 0) has opposite corners above. Its mean
    (0) decides which corners the lines cut off; the wrong choice joins the two branches
    through the cell, with pieces whose midpoints have x·y of the wrong sign."""
    xs, ys, Z = grid(lambda X, Y: X * Y, n=20, m=20, lim=1.0)  # (0, 0) is inside a cell
    h = xs[1] - xs[0]
    assert h**2 / 4 > abs(level)  # the saddle cell's corners lie on both sides of the level
    seg = segments(xs, ys, Z, level)
    mid = seg.mean(axis=1)  # (S, 2)
    prod = mid[:, 0] * mid[:, 1]
    assert ((prod > 0) if same_sign else (prod < 0)).all()
    x, y = isolines(xs, ys, Z, [level])
    assert len(polylines(x, y)) == 2  # two separate branches


def test_segments_join_into_polylines_without_losing_any():
    xs, ys, Z = grid(lambda X, Y: np.sin(2 * X) * np.cos(3 * Y) + 0.3 * X)
    for level in (-0.5, 0.0, 0.4):
        seg = segments(xs, ys, Z, level)
        x, y = isolines(xs, ys, Z, [level])
        pieces = sum(len(p) - 1 for p in polylines(x, y))
        assert pieces == len(seg) > 0


def test_several_levels_in_one_trace_and_nothing_outside_the_range():
    xs, ys, Z = grid(lambda X, Y: X**2 + Y**2)
    x, y = isolines(xs, ys, Z, [0.25, 1.0, 2.25, 100.0])  # 100 is above every value
    radii = sorted(np.hypot(*p.T).mean() for p in polylines(x, y))
    np.testing.assert_allclose(radii, [0.5, 1.0, 1.5], atol=0.01)
    empty = isolines(xs, ys, Z, [100.0])
    assert len(empty[0]) == len(empty[1]) == 0


def test_nan_values_leave_gaps_not_nan_points():
    xs, ys, Z = grid(lambda X, Y: X**2 + Y**2)
    Z[25:35, 10:40] = np.nan
    x, y = isolines(xs, ys, Z, [1.0])
    for p in polylines(x, y):
        assert len(p) >= 2 and np.isfinite(p).all()
    assert np.abs(np.hypot(x, y)[np.isfinite(x)] - 1.0).max() < 0.02


def test_shape_mismatch_is_a_clear_error():
    xs, ys, Z = grid(lambda X, Y: X + Y)
    with pytest.raises(ValueError, match="expected xs of"):
        isolines(ys, xs, Z, [0.0])


@pytest.mark.parametrize(
    "zmin, zmax, target", [(-2.35, 1.69, 28), (-2.97, 3.40, 28), (0.0, 1.0, 10), (3e-4, 7e-4, 5)]
)
def test_nice_levels_are_round_evenly_spaced_and_inside(zmin, zmax, target):
    lv = nice_levels(zmin, zmax, target)
    assert target / 2.5 - 1 <= len(lv) <= target + 1
    assert (lv > zmin).all() and (lv < zmax).all()
    step = np.diff(lv)
    np.testing.assert_allclose(step, step[0], rtol=1e-9)
    mantissa = step[0] / 10 ** np.floor(np.log10(step[0]))
    assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5)) < 1e-9


@pytest.mark.parametrize("zmin, zmax", [(1.0, 1.0), (2.0, 1.0), (np.nan, 1.0), (0.0, np.inf)])
def test_nice_levels_of_a_flat_or_broken_range_are_empty(zmin, zmax):
    assert len(nice_levels(zmin, zmax)) == 0
