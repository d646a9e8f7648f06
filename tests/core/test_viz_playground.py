"""The playground's figures: every neuron's tile where it belongs, in few bytes."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest

from dl_core import mlp
from dl_core.mlp import Config, Net
from viz import playground as vp
from viz import style

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TILE = 16
CASES = [
    Config(),  # 2-8-8-1 on circles
    Config(dataset="spiral3", hidden=(3, 5, 2), activation="relu"),  # columns of 2, 3, 5, 2, 3
    Config(dataset="plane", hidden=()),  # regression, no hidden layer
    Config(features=mlp.FEATURES, hidden=(16,) * mlp.MAX_LAYERS),  # the largest network
]


def heatmaps(fig) -> list:
    return [t for t in fig.data if t.type == "heatmap"]


def blocks(y: np.ndarray, z: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The runs of non-blank rows of one column's heat map: (row coordinates, values)."""
    filled = ~np.isnan(z).all(axis=1)
    out, start = [], None
    for i, f in enumerate([*filled, False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((y[start:i], z[start:i]))
            start = None
    return out


def frames(fig) -> set[tuple[float, float, float, float]]:
    """(x0, x1, y0, y1) of every grey tile frame (one trace, rectangles split by NaN)."""
    (t,) = [t for t in fig.data if t.type == "scatter" and t.line.color == "#BBBBBB"]
    xy = np.column_stack([t.x, t.y]).astype(float).reshape(-1, 6, 2)[:, :5]  # 5 corners + NaN
    return {(r[:, 0].min(), r[:, 0].max(), r[:, 1].min(), r[:, 1].max()) for r in xy}


@pytest.mark.parametrize("cfg", CASES, ids=["default", "multiclass", "regression", "largest"])
def test_every_neuron_tile_is_drawn_where_it_belongs(cfg):
    net = Net(cfg)
    net.advance(5)
    tiles = mlp.grid(net, TILE)
    fig = vp.network_figure(cfg, net.params(), tiles)
    maps = heatmaps(fig)
    assert len(maps) == len(cfg.sizes)  # one heat map per layer
    for c, (hm, n) in enumerate(zip(maps, cfg.sizes, strict=True)):
        x, y, z = np.asarray(hm.x), np.asarray(hm.y), np.asarray(hm.z, dtype=float)
        assert z.shape == (len(y), TILE) and np.array_equal(np.diff(x), np.ones(TILE - 1))
        assert (np.diff(y) > 0).all()  # rows bottom up
        found = blocks(y, z)
        assert len(found) == n  # every neuron, top one last
        for r, (ys, zs) in enumerate(reversed(found)):
            assert np.array_equal(np.diff(ys), np.ones(TILE - 1))  # unit cells: no stretch
            # the blank rows around a tile sit right next to it: its cells keep their size
            i = np.searchsorted(y, ys[0])
            assert i == 0 or y[i - 1] == ys[0] - 1
            j = np.searchsorted(y, ys[-1])
            assert j == len(y) - 1 or y[j + 1] == ys[-1] + 1
            tile = tiles.layers[c][..., r]
            if c == len(cfg.sizes) - 1 and cfg.task != "regression":
                out = tiles.output if tiles.output.ndim == 2 else tiles.output[..., r]
                want = out * 2 - 1
            else:
                scale = np.abs(tile).max()
                want = tile / scale if scale > 0 else tile
            np.testing.assert_allclose(zs, np.clip(want, -1, 1), atol=1e-6)
            drawn = (x[0] - 0.5, x[-1] + 0.5, ys[0] - 0.5, ys[-1] + 0.5)
            assert drawn in frames(fig)  # the grey frame outlines exactly this tile
    # the JSON a rerun sends: was 0.48 MB (default) and 2.2 MB (largest) as one canvas
    assert len(fig.to_json()) < (450_000 if cfg.hidden == (16,) * mlp.MAX_LAYERS else 65_000)


def test_decision_map_shows_the_probabilities_and_regression_values():
    for cfg in (Config(), Config(dataset="plane")):
        net = Net(cfg)
        net.advance(20)
        g = mlp.grid(net, 50)
        d = net.data
        fig = vp.decision_map(g, cfg, d.X_train.numpy(), d.y_train.numpy())
        hm = heatmaps(fig)[0]
        np.testing.assert_allclose(np.asarray(hm.z, dtype=float), g.output, atol=1e-6)
        lo = -1 if cfg.task == "regression" else 0
        assert (hm.zmin, hm.zmax) == (lo, 1) and hm.colorbar.title.text
        if cfg.task == "regression":  # a signed value: the rulebook's scale, centred on 0
            assert hm.zmid == 0 and [tuple(c) for c in hm.colorscale] == list(style.DIVERGING)
        else:  # P(class 1): from the class-0 colour to the class-1 colour
            assert [c[1] for c in hm.colorscale] == [vp.NEG, "#F7F7F7", vp.POS]
        assert style.violations(fig.to_plotly_json()) == []
        assert len(pio.to_json(fig, validate=False)) < 40_000


def test_classes_take_colours_and_markers_test_points_are_hollow():
    cfg = Config(dataset="blobs3")
    net = Net(cfg)
    d = net.data
    fig = vp.decision_map(mlp.grid(net, 10), cfg, d.X_train.numpy(), d.y_train.numpy(),
                          d.X_test.numpy(), d.y_test.numpy())  # fmt: skip
    pts = {t.name: t.marker for t in fig.data if t.type == "scatter"}
    for k in range(3):
        assert pts[f"class {k} (train)"].color == style.CATEGORY10[k]
        assert pts[f"class {k} (train)"].symbol == style.MARKERS[k]
        assert pts[f"class {k} (test)"].symbol == style.MARKERS[k] + "-open"
    binary = vp.decision_map(mlp.grid(Net(Config()), 10), Config(), *(a.numpy() for a in (
        Net(Config()).data.X_train, Net(Config()).data.y_train)))  # fmt: skip
    colours = [t.marker.color for t in binary.data if t.type == "scatter"]
    assert colours == [style.NEGATIVE, style.POSITIVE]  # class 0: negative output a


def test_network_figure_keeps_the_rulebook():
    cfg = Config(dataset="spiral3", hidden=(3, 5))
    net = Net(cfg)
    net.advance(5)
    fig = vp.network_figure(cfg, net.params(), mlp.grid(net, TILE))
    assert all(t.coloraxis == "coloraxis" for t in heatmaps(fig))
    assert fig.layout.coloraxis.showscale and fig.layout.coloraxis.colorbar.title.text
    assert style.violations(fig.to_plotly_json()) == []
    edges = {t.line.color for t in fig.data if t.type == "scatter" and t.mode == "lines"}
    assert {style.POSITIVE, style.NEGATIVE} <= edges


def test_accuracy_axis_starts_at_the_data():
    fig = vp.accuracy_curves([0, 1, 2], [0.5, 0.97, 0.986], [0.5, 0.96, 0.972])
    lo, hi = fig.layout.yaxis.range
    assert 0.4 < lo < 0.5 and 1 <= hi < 1.01
    lo, _ = vp.accuracy_range([0.97, 0.986], [0.972])
    assert 0.94 < lo < 0.97  # 97% and 98.6% a third of the axis apart, not 1%


def test_dropout_figure_and_formula_use_the_view():
    net = Net(Config.tiny())
    v = mlp.dropout_view(net, 1, 0.5, point=2, seed=1)
    fig = vp.dropout_figure(v)
    np.testing.assert_allclose(fig.data[0].y, v.h)
    np.testing.assert_allclose(fig.data[1].y, v.h_train)
    assert style.violations(fig.to_plotly_json()) == []
    text = "\n".join(vp.dropout_latex(v))
    assert f"{int(v.r.sum())} \\text{{ of }} {len(v.r)}" in text


def test_thin_keeps_short_curves_and_the_ends_of_long_ones():
    x = np.arange(10.0)
    xs, ys = vp.thin(x, x**2)
    np.testing.assert_array_equal(xs, x)
    np.testing.assert_array_equal(ys, x**2)
    x = np.arange(25_000.0)
    xs, ys = vp.thin(x, -x, max_points=1000)
    assert len(xs) == len(ys) == 1000
    assert xs[0] == 0 and xs[-1] == 24_999 and (np.diff(xs) > 0).all()
    np.testing.assert_array_equal(ys, -xs)
    assert [len(v) for v in vp.thin([], [])] == [0, 0]


def test_long_sessions_send_thinned_curves():
    n = 20_000  # one record a tick: about 2 hours of playing
    epoch = np.linspace(0, 4000, n)
    loss = np.exp(-epoch / 1000)
    fig = vp.loss_curves(epoch, loss, loss * 1.1)
    assert all(len(t.x) <= vp.MAX_CURVE_POINTS for t in fig.data)
    assert fig.data[0].x[-1] == pytest.approx(4000) and fig.data[1].y[-1] == pytest.approx(
        loss[-1] * 1.1, rel=1e-6
    )
