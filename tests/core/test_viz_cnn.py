"""viz.cnn: the CNN page's figures show exactly the numbers they are given.

The grid of maps is one heatmap of tiles (not a subplot per map): every value must land in its
tile at its row and column, the blank pixels between tiles must stay blank, and hovering must
name the right tile, row and column."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core import cnn
from dl_core.cnn import History
from viz import cnn as vc


def tiles(fig) -> dict[int, np.ndarray]:
    """The maps back out of a grid figure: tile number -> (h, w) array, read through the
    hover data (tile, row, column) of every non-blank pixel."""
    (heat,) = fig.data
    z, where = np.asarray(heat.z, dtype=float), np.asarray(heat.customdata)
    out: dict[int, dict] = {}
    for y, x in zip(*np.nonzero(~np.isnan(z))):
        t, r, c = (int(v) for v in where[y, x])
        out.setdefault(t, {})[(r, c)] = z[y, x]
    h = 1 + max(r for cells in out.values() for r, _ in cells)
    w = 1 + max(c for cells in out.values() for _, c in cells)
    result = {}
    for t, cells in out.items():
        a = np.full((h, w), np.nan)
        for (r, c), v in cells.items():
            a[r, c] = v
        result[t] = a
    return result


@pytest.mark.parametrize("shape, cols", [((16, 8, 8), 8), ((5, 3, 3), 8), ((12, 28, 28), 6)])
def test_grid_of_maps_puts_every_value_in_its_tile(shape, cols):
    maps = np.random.default_rng(0).normal(size=shape)
    fig = vc.grid_of_maps(maps, "maps", cols=cols)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"  # one trace, not C subplots
    got = tiles(fig)
    assert sorted(got) == list(range(1, shape[0] + 1))
    for t, a in got.items():
        np.testing.assert_allclose(a, maps[t - 1], rtol=1e-6, atol=1e-6)  # float32 pixels
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.count_nonzero(~np.isnan(z)) == maps.size  # the gaps are blank
    assert fig.layout.height == 60 + 110 * -(-shape[0] // cols)  # rows of `cols` tiles
    where = np.asarray(fig.data[0].customdata)
    first_row = [t for t in dict.fromkeys(where[0, :, 0].tolist()) if t]
    assert first_row == list(range(1, min(cols, shape[0]) + 1))  # in the order of the maps


def test_grid_colour_scale_means_sign_and_is_shared():
    signed = np.array([[[-2.0, 1.0]], [[0.5, 0.0]]])  # (2, 1, 2)
    fig = vc.grid_of_maps(signed, "filters", colorbar="weight")
    heat = fig.data[0]
    assert heat.colorscale == vc.grid_of_maps(signed * 2, "x").data[0].colorscale
    assert heat.zmid == 0 and heat.showscale and heat.colorbar.title.text == "weight"
    # red positive, white zero, blue negative
    lo, hi = heat.colorscale[0][1], heat.colorscale[-1][1]
    assert lo.startswith("rgb(5,") and hi.startswith("rgb(103,")  # dark blue, dark red
    relu = vc.grid_of_maps(np.abs(signed), "after ReLU").data[0]  # nothing negative
    assert relu.zmin == 0 and relu.zmid is None
    assert relu.colorscale[0][1] != relu.colorscale[-1][1]
    assert relu.colorscale[-1][1].startswith("rgb(103,")  # dark red at the largest value
    images = vc.grid_of_maps(np.abs(signed), "imgs", colorscale=vc.GREYS, colorbar=None).data[0]
    assert not images.showscale


def test_grid_labels_stand_above_their_tiles():
    maps = np.zeros((7, 8, 8))
    labels = [f"#{k}" for k in range(7)]
    fig = vc.misclassified(maps, labels)
    notes = fig.layout.annotations
    assert [a.text for a in notes] == labels
    z = np.asarray(fig.data[0].z, dtype=float)
    where = np.asarray(fig.data[0].customdata)
    for t, a in enumerate(notes, start=1):
        ys, xs = np.nonzero(where[..., 0] == t)
        assert a.x == pytest.approx((xs.min() + xs.max()) / 2)  # centred over the tile
        assert a.y == pytest.approx(ys.min() - 0.5) and a.yanchor == "bottom"  # just above
        assert ys.min() >= 1  # with room above it, inside the plot
    assert np.isnan(z[: int(notes[0].y + 0.5)]).all()  # the label band is blank


def test_conv_figure_shows_the_walkthrough():
    x = np.arange(36, dtype=float).reshape(6, 6) / 36
    w = cnn.conv_walkthrough(x, cnn.kernel_preset("edge (vertical)"), 0.0, 1, 2, 2, 1, 1)
    fig = vc.conv_figure(w)
    pad, K, z = (np.asarray(t.z, dtype=float) for t in fig.data)
    np.testing.assert_array_equal(pad, w.x_pad)
    np.testing.assert_array_equal(K, w.K)
    np.testing.assert_array_equal(z, w.z)
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["input x, padded by p = 1", "kernel K (3×3)", "output z (3×3)"]
    d1, d2, d3 = (fig.layout[f"xaxis{s}"].domain for s in ("", "2", "3"))
    assert 0 == d1[0] < d1[1] < d2[0] < d2[1] < d3[0] < d3[1] == pytest.approx(1)
    # 9 receptive-field cells, the padding outline, the output cell
    boxes = fig.layout.shapes
    assert len(boxes) == 9 + 1 + 1 and boxes[-1].xref == "x3"
    cells = {(b.y0 + 0.5, b.x0 + 0.5) for b in boxes[:9]}
    assert cells == {(r, c) for r in w.rows for c in w.cols}
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 at the top


def test_pool_figure_and_curves_and_bars():
    fmap = np.arange(16, dtype=float).reshape(4, 4)
    pw = cnn.pool_walkthrough(fmap, "max", 2, 2, 1, 0)
    fig = vc.pool_figure(pw)
    np.testing.assert_array_equal(np.asarray(fig.data[1].z, dtype=float), pw.y)
    assert fig.layout.shapes[0].x0 == -0.5 and fig.layout.shapes[0].y0 == 1.5  # window (2, 0)
    a = np.array
    h = History(a([1, 2]), a([1.0, 0.5]), a([0.5, 0.9]), a([1.1, 0.6]), a([0.4, 0.8]), a([1.0]))
    c = vc.curves(h)
    assert [t.yaxis for t in c.data] == ["y", "y", "y2", "y2"]
    assert c.layout.yaxis2.overlaying == "y" and c.layout.yaxis2.tickformat == ".0%"
    b = vc.params_bars(["CNN", "MLP"], [6090, 6085], [0.98, 0.97])
    assert [t.xaxis for t in b.data] == ["x", "x2"]
    assert b.layout.yaxis.range == (0, 6090 * 1.2) and b.layout.yaxis2.range == (0, 1.1)
    assert [a.text for a in b.layout.annotations] == ["parameters", "test accuracy"]
