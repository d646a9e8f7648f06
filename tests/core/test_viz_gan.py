"""The GAN page's figures: the arrows and loss curves it sends stay what they show."""

from __future__ import annotations

import numpy as np
import pytest

from viz import gan as vg


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
