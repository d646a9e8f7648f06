"""viz.autoencoder: the figures the page caches per result, and the point drawn on a cached
scatter without changing it."""

import json

import numpy as np
import plotly.io as pio
import pytest

from dl_core import autoencoder as A
from viz import autoencoder as va
from viz import style

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def test_with_point_adds_the_point_and_leaves_the_cached_scatter_alone(tiny_ae):
    codes = va.latent_scatter(tiny_ae, "codes")
    before = pio.to_json(codes, validate=False)
    marked = va.with_point(codes, (0.25, -0.5))
    assert pio.to_json(codes, validate=False) == before  # the shared figure is unchanged
    assert len(marked.data) == len(codes.data) + 1
    assert marked.data[-1].name == "decoded point"
    assert marked.data[-1].x == (0.25,) and marked.data[-1].y == (-0.5,)
    assert marked.layout.title.text == "codes"
    # The same figure as drawing the point from scratch.
    direct = va.latent_scatter(tiny_ae, "codes", point=(0.25, -0.5))
    assert json.loads(pio.to_json(marked)) == json.loads(pio.to_json(direct))


def test_ellipses_are_one_line_with_a_gap_after_each(tiny_vae):
    fig = va.latent_scatter(tiny_vae, "VAE", ellipses=5, clickable=False)
    trace = next(t for t in fig.data if t.name.startswith("posterior"))
    x, y = np.asarray(trace.x, dtype=float), np.asarray(trace.y, dtype=float)
    assert x.shape == y.shape == (5 * 61,)  # 60 points per ellipse and one gap
    assert np.isnan(x[60::61]).all() and np.isnan(y[60::61]).all()
    assert np.isfinite(np.delete(x, np.s_[60::61])).all()
    # Ellipse i is centred on test digit i's mean code, with half-widths 2 sigma.
    sigma = np.exp(0.5 * tiny_vae.logvar_test[:5])
    for i in range(5):
        xi, yi = x[61 * i : 61 * i + 60], y[61 * i : 61 * i + 60]
        assert (xi.max() + xi.min()) / 2 == pytest.approx(tiny_vae.z_test[i, 0], abs=1e-3)
        assert (yi.max() - yi.min()) / 2 == pytest.approx(2 * sigma[i, 1], rel=1e-2)


def test_tiles_put_each_image_in_its_place():
    imgs = np.arange(2 * 3 * 64, dtype=float).reshape(2, 3, 8, 8) / (2 * 3 * 64)
    z = np.asarray(va.tiles(imgs, "t").data[0].z, dtype=float)
    assert z.shape == (17, 26)  # one blank pixel between tiles
    assert np.allclose(z[9:17, 18:26], imgs[1, 2], atol=1e-6)  # float32 pixels
    assert np.isnan(z[8]).all() and np.isnan(z[:, 8]).all()


def test_decoded_image_is_the_decoder_at_that_code(tiny_ae):
    fig = va.decoded(tiny_ae, 0.5, -1.0)
    z = A.base_code(tiny_ae).copy()
    z[:2] = 0.5, -1.0
    want = A.decode(tiny_ae, z).reshape(8, 8)
    assert np.allclose(np.asarray(fig.data[0].z, dtype=float), want, atol=1e-6)
    assert "z = (0.50, -1.00)" in fig.layout.title.text


def test_result_figures_show_the_chosen_digits(tiny_ae, tiny_vae):
    fig = va.digit_and_reconstructions(tiny_ae, tiny_vae, 3)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.allclose(z[:, :8], tiny_ae.x_test[3].reshape(8, 8), atol=1e-6)
    assert np.allclose(z[:, 18:], tiny_vae.x_hat_test[3].reshape(8, 8), atol=1e-6)
    picks = [0, 5, 7]
    rec = np.asarray(va.reconstructions(tiny_ae, tiny_vae, picks).data[0].z, dtype=float)
    assert rec.shape == (26, 26)
    assert np.allclose(rec[9:17, 9:17], tiny_ae.x_hat_test[5].reshape(8, 8), atol=1e-6)
    path = va.interpolation(tiny_ae, tiny_vae, 1, 2, n=4)
    first = np.asarray(path.data[0].z, dtype=float)[:8, :8]
    assert np.allclose(first, A.interpolate(tiny_ae, 1, 2, 4)[1][0], atol=1e-6)
    assert len(path.layout.xaxis.ticktext) == 4


def test_progress_view_for_the_live_curve():
    cfg = A.AEConfig("vae", steps=600)
    recon, kl = np.linspace(60, 30, 300), np.linspace(1, 5, 300)
    done, caption, fig = va.progress(cfg, 300, recon, kl)
    assert done == 0.5
    assert caption == f"Training the {A.KIND_LABELS['vae'].lower()}: step 300/600"
    assert [t.name for t in fig.data] == ["reconstruction", "KL"]
    assert np.allclose(np.asarray(fig.data[1].y, dtype=float), kl)
    _, _, ae_fig = va.progress(A.AEConfig("ae", steps=600), 30, recon[:30], kl[:30])
    assert len(ae_fig.data) == 1  # a plain AE has no KL term


def test_latent_planes_keep_the_rulebook_one_legend_entry_per_digit(tiny_ae, tiny_vae):
    fig = va.latent_planes(tiny_ae, tiny_vae, n_ellipses=4)
    assert style.violations(fig.to_plotly_json()) == []
    digits = [t for t in fig.data if t.name in {str(k) for k in range(10)}]
    assert len(digits) == 20 and sum(t.showlegend is not False for t in digits) == 10
    for t in digits:  # Tableau 10 with a marker per class, the same in both panels
        k = int(t.name)
        assert t.marker.color == style.CATEGORY10[k] and t.marker.symbol == style.MARKERS[k]
    right = [t for t in digits if t.xaxis == "x2"]
    z = np.concatenate([np.asarray(t.x, dtype=float) for t in right])
    assert np.allclose(np.sort(z), np.sort(tiny_vae.z_test[:, 0]), atol=1e-6)  # VAE means


def test_pca_directions_use_the_signed_scale(tiny_ae):
    from dl_core.autoencoder import PCAComparison

    comps = np.random.default_rng(0).normal(size=(2, 64))
    cmp = PCAComparison(2, comps, np.array([0.2, 0.1]), np.zeros(2), 0.05, 0.05)
    fig = va.pca_bases(cmp, np.random.default_rng(1).normal(size=(64, 2)))
    assert style.violations(fig.to_plotly_json()) == []
    assert fig.data[0].zmid == 0 and fig.data[0].showscale
    assert f"{style.POSITIVE_NAME} +" in fig.layout.title.text


def test_every_tile_figure_keeps_the_rulebook(tiny_ae, tiny_vae):
    figs = [
        va.digit_and_reconstructions(tiny_ae, tiny_vae, 0),
        va.reconstructions(tiny_ae, tiny_vae, [0, 1]),
        va.interpolation(tiny_ae, tiny_vae, 0, 1, n=4),
        va.decoded_grid(tiny_vae, 4),
        va.latent_scatter(tiny_ae, "codes", point=(0.0, 0.0)),
    ]
    for fig in figs:
        assert style.violations(fig.to_plotly_json()) == [], fig.layout.title.text
    assert "z<sub>a</sub>" in figs[2].layout.title.text  # no raw underscore


def test_vae_numbers_use_d_z_and_sum_their_kl_terms(tiny_vae):
    s = A.vae_sample(tiny_vae, 0)
    lines = va.vae_numbers(s)
    d = len(s.mu)
    assert rf"\sum_{{j=1}}^{{{d}}} \mathrm{{KL}}_j" in lines[-2]
    assert lines[-1].startswith(r"L_\beta = ")
    assert "L =" not in " ".join(lines[:-1])  # L is the loss only, never the latent size


def test_bce_note_quotes_the_floor():
    assert "**13.6 nats per test image**" in va.bce_note(13.5748)
