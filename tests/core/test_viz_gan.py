"""The GAN page's figures: the arrows and loss curves it sends stay what they show, the samples
stand out on the D(x) map, exact zeros print as 0."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import plotly.colors
import pytest

from dl_core import gan
from dl_core.gan import GanConfig
from viz import gan as vg
from viz import style


def segments(trace) -> np.ndarray:
    """(n, 2, 2) start and end of each NaN-separated segment of a line trace."""
    xy = np.column_stack([trace.x, trace.y]).astype(float).reshape(-1, 3, 2)
    assert np.isnan(xy[:, 2]).all()  # a gap after every segment
    return xy[:, :2]


def test_arrows_start_at_the_samples_and_the_longest_is_the_given_length():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(150, 2)).astype(np.float32)
    move = rng.normal(size=(150, 2)).astype(np.float32) * np.linspace(0.1, 3, 150)[:, None]
    seg = segments(vg.arrow_trace(start, move, longest=0.45))
    np.testing.assert_allclose(seg[:, 0], start, atol=1e-6)
    length = np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)
    assert length.max() == pytest.approx(0.45, rel=1e-5)
    # every arrow points where G pushes, scaled by one common factor
    scale = 0.45 / np.linalg.norm(move, axis=1).max()
    np.testing.assert_allclose(seg[:, 1] - seg[:, 0], move * scale, atol=1e-5)


def test_long_loss_curves_are_block_means_in_few_points():
    K = 5000
    d = list(np.sin(np.arange(K) / 300.0))
    fig = vg.loss_figure(d, [-v for v in d], d, d)
    assert "means of 5 steps" in fig.layout.title.text
    for t in fig.data:
        assert len(t.x) == len(t.y) == vg.MAX_CURVE_POINTS
    means = np.asarray(d).reshape(-1, 5).mean(1)
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), means, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fig.data[1].y, dtype=float), -means, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fig.data[0].x, dtype=float), np.arange(1000) * 5 + 3)


def test_short_loss_curves_keep_every_step():
    fig = vg.loss_figure([1.0, 0.5, 0.25], [2.0, 1.0, 0.5], [-1.0] * 3, [-2.0] * 3)
    assert "means" not in fig.layout.title.text
    np.testing.assert_array_equal(np.asarray(fig.data[1].y, dtype=float), [2.0, 1.0, 0.5])
    np.testing.assert_array_equal(np.asarray(fig.data[1].x, dtype=float), [1, 2, 3])


# ---------------------------------------------------------------- colours and numbers


def _lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of '#rrggbb' or 'rgb(r,g,b)'."""
    import plotly.colors as pc

    rgb = pc.hex_to_rgb(colour) if colour.startswith("#") else pc.unlabel_rgb(colour)
    c = np.asarray(rgb, dtype=float) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    M = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = M @ c / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_samples_stand_out_on_every_height_of_the_d_map():
    """Issue 18: the generated samples sat on the same pink as the map's low end. Now the map
    is the sequential scale, paled, and both kinds of sample differ from every colour of it
    by a colour distance (CIE76) of at least 50 (measured: 64 and more)."""
    scale = vg.pale_scale()
    assert len(scale) == len(plotly.colors.get_colorscale(style.SEQUENTIAL))
    first = np.array(plotly.colors.hex_to_rgb(plotly.colors.get_colorscale(style.SEQUENTIAL)[0][1]))
    assert scale[0][1] == "rgb({},{},{})".format(*((first + 255) / 2).round().astype(int))
    for sample in (vg.REAL, vg.FAKE):
        dist = [np.linalg.norm(_lab(sample) - _lab(c)) for _, c in scale]
        assert min(dist) > 50, (sample, dist)
    assert np.linalg.norm(_lab(vg.REAL) - _lab(vg.FAKE)) > 50


def _snapshot(loss: str = "nonsaturating", steps: int = 20):
    state = gan.init_state(dataclasses.replace(GanConfig.tiny(), loss=loss), "cpu")
    gan.advance(state, steps)
    return gan.snapshot(state, n=128, grid=24)


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_field_draws_arrows_under_the_points_and_keeps_the_rulebook(loss):
    snap = _snapshot(loss)
    fig = vg.field_figure(snap, list(vg.LAYERS), loss)
    names = [t.name for t in fig.data]
    assert names.index("real x") > names.index(f"−∂{style.sub('L_G')}/∂x (where G pushes)")
    assert names[-1] == "generated G(z)"  # on top of everything
    heat = fig.data[0]
    assert heat.colorbar.title.text == vg.d_label(loss)
    if loss == "wgan_gp":  # a critic is a score defined up to a constant: a height
        assert heat.meta == style.HEIGHT and heat.zmin is None
    else:  # a probability, or LSGAN's score on [0, 1]
        assert (heat.zmin, heat.zmax) == (0.0, 1.0) and 0 <= np.nanmin(heat.z) <= np.nanmax(
            heat.z
        ) <= 1
    for f in (fig, vg.dstar_figure(snap, loss)):
        assert style.violations(f.to_plotly_json()) == []


def test_dstar_line_prints_exact_zeros_as_0():
    assert vg.dstar_latex(math.log(2) - 1e-9).endswith(r"2 \cdot 0.6931 = 0")
    assert vg.dstar_latex(math.log(2) - 1e-3).endswith(r"= -0.002")  # a real gap stays
    assert vg.dstar_latex(0.1).endswith(f"= {-math.log(4) + 0.2:.4g}")


def test_each_loss_names_its_optimum():
    assert "Mao et al. 2017" in vg.optimum_markdown("least_squares")
    assert "no $D^*$ in $[0, 1]$" in vg.optimum_markdown("wgan_gp")
    assert "Goodfellow et al." in vg.optimum_markdown("nonsaturating")
    assert vg.optimum_markdown("minimax") == vg.optimum_markdown("nonsaturating")
