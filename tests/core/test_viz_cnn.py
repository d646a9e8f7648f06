"""viz.cnn: the CNN page's figures show exactly the numbers they are given.

The grid of maps is one heatmap of tiles (not a subplot per map): every value must land in its
tile at its row and column, the blank pixels between tiles must stay blank, and hovering must
name the right tile, row and column."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core import cnn, images
from dl_core.cnn import History
from viz import cnn as vc
from viz import style
from viz.latex import plain


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
    """The rulebook's sign-to-colour rule: positive blue, negative red, white 0, a colour bar;
    a map that is never negative uses the white-to-blue half, so blue means positive on both."""
    signed = np.array([[[-2.0, 1.0]], [[0.5, 0.0]]])  # (2, 1, 2)
    fig = vc.grid_of_maps(signed, "filters", colorbar="weight")
    heat = fig.data[0]
    assert heat.zmid == 0 and heat.zmin == -2 and heat.zmax == 2  # symmetric about 0
    assert heat.showscale and heat.colorbar.title.text == "weight"
    assert heat.colorscale[0][1] == style.NEGATIVE and heat.colorscale[-1][1] == style.POSITIVE
    assert style.violations(fig.to_plotly_json()) == []
    relu = vc.grid_of_maps(np.abs(signed), "after ReLU").data[0]  # nothing negative
    assert relu.zmin == 0 and relu.zmax == 2 and relu.showscale
    assert relu.colorscale[0][1] == style.DIVERGING[2][1]  # white at 0
    assert relu.colorscale[-1][1] == style.POSITIVE  # blue at the largest value
    images = vc.grid_of_maps(np.abs(signed), "imgs", colorscale=vc.GREYS, colorbar=None).data[0]
    assert not images.showscale
    title = vc.filters(signed).layout.title.text
    assert f"{style.POSITIVE_NAME} positive, {style.NEGATIVE_NAME} negative" in title


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
    pad, K, a = (np.asarray(t.z, dtype=float) for t in fig.data)
    np.testing.assert_array_equal(pad, w.x_pad)
    np.testing.assert_array_equal(K, w.K)
    np.testing.assert_array_equal(a, w.a)
    assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["input x, padded by P = 1", "kernel K (3×3)", "output a (3×3)"]
    d1, d2, d3 = (fig.layout[f"xaxis{s}"].domain for s in ("", "2", "3"))
    assert 0 == d1[0] < d1[1] < d2[0] < d2[1] < d3[0] < d3[1] == pytest.approx(1)
    # the kernel's +1 is blue, its -2 red: the diverging scale about 0, with a colour bar
    kern = fig.data[1]
    assert kern.zmid == 0 and kern.zmax == 2 and kern.colorscale[-1][1] == style.POSITIVE
    assert d1[1] < kern.colorbar.x < d2[0] + 0.01 or d2[1] < kern.colorbar.x < d3[0]
    assert style.violations(fig.to_plotly_json()) == []
    # 9 receptive-field cells, the padding outline, the output cell
    boxes = fig.layout.shapes
    assert len(boxes) == 9 + 1 + 1 and boxes[-1].xref == "x3"
    assert boxes[0].line.color == vc.BOX and boxes[9].line.color == vc.PAD
    cells = {(b.y0 + 0.5, b.x0 + 0.5) for b in boxes[:9]}
    assert cells == {(r, c) for r in w.rows for c in w.cols}
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 at the top


def test_one_number_formatter():
    """A value reads the same in the output map's cell, its hover and the sum's LaTeX
    (the page showed 2.375, 2.4 and 2.38 for one value)."""
    x = cnn.dataset().X_test[0, 0].numpy()
    w = cnn.conv_walkthrough(x, cnn.kernel_preset("edge (vertical)"), 0.0, 2, 3, 1, 1, 1)
    cell = vc.conv_figure(w).data[2]
    shown = cell.text[w.r][w.c]
    assert shown == plain(w.a_rc, vc.DIGITS) and "%{text}" in cell.hovertemplate
    assert vc.conv_sum_latex(w).endswith(rf"\mathbf{{{shown}}}")
    assert float(shown) == pytest.approx(w.a_rc, rel=5e-3)
    assert vc.pct(0.98607) == "98.6%" and vc.pct(1.0) == "100%"


def test_pool_figure_and_curves_and_bars():
    fmap = np.arange(16, dtype=float).reshape(4, 4)
    pw = cnn.pool_walkthrough(fmap, "max", 2, 2, 1, 0)
    fig = vc.pool_figure(pw)
    np.testing.assert_array_equal(np.asarray(fig.data[1].z, dtype=float), pw.h_pool)
    assert fig.layout.shapes[0].x0 == -0.5 and fig.layout.shapes[0].y0 == 1.5  # window (2, 0)
    assert style.violations(fig.to_plotly_json()) == []
    a = np.array
    h = History(a([1, 2]), a([1.0, 0.5]), a([0.5, 0.9]), a([1.1, 0.6]), a([0.4, 0.8]), a([1.0]))
    c = vc.curves(h)
    assert [(t.name, t.xaxis, t.yaxis) for t in c.data] == [
        ("train", "x", "y"), ("test", "x", "y"), ("train", "x2", "y2"), ("test", "x2", "y2")
    ]  # fmt: skip
    assert c.data[0].line.color == c.data[2].line.color == vc.TRAIN != vc.TEST
    assert c.layout.yaxis2.tickformat == ".0%" and style.violations(c.to_plotly_json()) == []
    b = vc.budget_bars(["CNN", "MLP"], [6090, 6085], [0.986, 0.972])
    assert [t.xaxis for t in b.data] == ["x", "x2"]
    np.testing.assert_allclose(b.data[1].y, [1.4, 2.8])  # the error: 2x apart, not 1.4%
    assert list(b.data[1].text) == ["1.4%", "2.8%"]
    assert b.layout.yaxis.range == (0, 6090 * 1.2) and style.violations(b.to_plotly_json()) == []
    conf = vc.confusion(np.eye(10, dtype=int) * 30)
    assert conf.data[0].showscale and style.violations(conf.to_plotly_json()) == []


def test_presets_and_dropout_note_compute_their_numbers():
    values, note = vc.presets()["One filter only"]
    assert values["k"] == "3" and "3×3" in note  # the note's kernel size is the preset's own
    assert f"at most {images.MAX_UPLOAD_BYTES // 10**6} MB" in vc.UPLOAD_HELP
    note = vc.presets()["No pooling"][1]
    assert "reads 1,024 features, 4× as many as with 2×2 pooling (256)" in note
    assert "8× the default net's 128" in note
    assert "12,544 features, 4×" in vc.presets("mnist")["No pooling"][1]
    drop = vc.dropout_note(cnn.CNNConfig(dropout=0.3))
    assert "each of the 128 inputs" in drop and "p = 0.3" in drop and "1/(1 − p) = 1.43" in drop
    assert "(playground)" in drop


def test_canvas_drawing_is_one_stroke_through_the_points():
    d = vc.canvas_drawing([(10, 20), (50, 20), (30, 80)], 18)
    (obj,) = d["objects"]
    assert obj["type"] == "Path" and obj["strokeWidth"] == 18
    assert obj["path"] == [["M", 10.0, 20.0], ["L", 50.0, 20.0], ["L", 30.0, 80.0]]
    assert (obj["left"], obj["top"], obj["width"], obj["height"]) == (30.0, 50.0, 40.0, 60.0)


def test_the_softmax_sum_adds_up():
    """Terms of at least 0.001 are written out, the others summed under a brace: the
    numbers shown add up to the sum shown (to the page's digits)."""
    sm = cnn.softmax_walkthrough(np.array([3.35, -10.8, 0.998, -6.41, -3.87, -4.8, 4.42, -10.1, -2.73, -16.9]))  # fmt: skip
    tex = vc.softmax_sum_latex(sm)
    assert tex.count("+") == 3 and r"\text{the other 7, each below 0.001}" in tex
    big = sm.e[sm.e >= 1e-3]
    assert big.size == 3 and tex.endswith(f"= {plain(sm.S, vc.DIGITS)}")
    assert plain(sm.e[sm.e < 1e-3].sum(), vc.DIGITS) in tex
    assert abs(big.sum() + sm.e[sm.e < 1e-3].sum() - sm.S) < 1e-12


def test_the_flip_caption_says_what_the_flip_does_to_this_kernel():
    edge, blur = cnn.kernel_preset("edge (vertical)"), cnn.kernel_preset("blur")
    assert f"{style.POSITIVE_NAME} and {style.NEGATIVE_NAME} swapped" in vc.flip_caption(
        edge, 2, 3, 1
    )
    assert "flip(K) = K" in vc.flip_caption(blur, 2, 3, 1)
    assert "differ" in vc.flip_caption(np.arange(9.0).reshape(3, 3), 0, 0, 0)


def test_the_sections_builders_keep_the_page_s_texts():
    """What moved down from the page: the canvas's settings, the feature-map grids (one per
    conv layer, titled and named as the page's charts), the tables and code of the hood."""
    seven = vc.canvas_settings(blank=False)
    assert seven["initial_drawing"] == vc.canvas_drawing(images.SAMPLE_SEVEN_STROKE, images.STROKE_WIDTH)  # fmt: skip
    assert seven["height"] == seven["width"] == images.CANVAS_SIDE and seven["return_image_data"]
    assert vc.canvas_settings(blank=True)["initial_drawing"] is None
    maps = [np.zeros((2, 8, 8)), np.ones((4, 4, 4))]
    grids = vc.feature_map_grids(maps, "maps", "test image 5")
    assert [name for name, _ in grids] == ["maps1", "maps2"]
    fig = grids[1][1]()
    assert fig.layout.title.text == "Feature maps h of layer 2 for test image 5 (after ReLU)"
    assert sorted(tiles(fig)) == [1, 2, 3, 4] and fig.data[0].colorbar.title.text == "h"
    rows = [{"hand-written": "cnn.softmax", "torch": "F.softmax", "max |difference|": 1.25e-17}]
    table = vc.gaps_table(rows).to_html()
    assert plain(1.25e-17) in table and "cnn.softmax" in table
    code = vc.hand_written_code()
    assert all(f"def {f}(" in code for f in ("patches", "conv2d", "max_pool2d", "convolve2d"))
    cfg = cnn.CNNConfig()
    assert vc.kernel_key(cfg, "blur") == ("digits", 0) and vc.kernel_key(cfg, "learned kernel 1") is cfg  # fmt: skip
    assert "at most 64)" in vc.FILTERS_LABEL
    sm = cnn.softmax_walkthrough(np.arange(10.0))
    assert vc.softmax_lines(sm, 9) == [vc.logits_latex(sm), vc.softmax_sum_latex(sm), vc.softmax_latex(sm, 9)]  # fmt: skip
