"""dl_core.cnn: hand-written conv/pool/softmax vs torch, the output-size formula,
the IDX loader, training (determinism, convergence, divergence), configs, CUDA graphs."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dl_core import cnn, mnist
from dl_core.cnn import CNNConfig

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


# ---------------------------------------------------------------- conv / pool vs torch


@settings(max_examples=60, deadline=None)
@given(
    B=st.integers(1, 3), C=st.integers(1, 3), Co=st.integers(1, 4), H=st.integers(3, 12),
    W=st.integers(3, 12), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
    d=st.integers(1, 3), seed=st.integers(0, 10_000), bias=st.booleans(),
)  # fmt: skip
def test_conv2d_matches_torch(B, C, Co, H, W, k, s, p, d, seed, bias):
    if cnn.output_size(min(H, W), k, s, p, d) < 1:
        with pytest.raises(ValueError):
            cnn.conv2d(torch.zeros(B, C, H, W), torch.zeros(Co, C, k, k), None, s, p, d)
        return
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, C, H, W, generator=g, dtype=torch.float64)
    w = torch.randn(Co, C, k, k, generator=g, dtype=torch.float64)
    b = torch.randn(Co, generator=g, dtype=torch.float64) if bias else None
    mine = cnn.conv2d(x, w, b, s, p, d)
    ref = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
    assert mine.shape == ref.shape
    assert torch.allclose(mine, ref, atol=1e-10)
    # the output-size formula gives the shape torch produces
    assert ref.shape[-2:] == (cnn.output_size(H, k, s, p, d), cnn.output_size(W, k, s, p, d))


@settings(max_examples=60, deadline=None)
@given(
    H=st.integers(2, 11), W=st.integers(2, 11), k=st.integers(1, 4), s=st.integers(1, 3),
    p=st.integers(0, 2), d=st.integers(1, 2), seed=st.integers(0, 10_000),
)  # fmt: skip
def test_pooling_matches_torch(H, W, k, s, p, d, seed):
    if p > k // 2 or cnn.output_size(min(H, W), k, s, p, d) < 1:
        return  # torch rejects padding > k/2; windows must fit
    x = torch.randn(2, 3, H, W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    ref = F.max_pool2d(x, k, s, p, dilation=d)
    assert torch.equal(cnn.max_pool2d(x, k, s, p, d), ref)
    assert ref.shape[-2:] == (cnn.output_size(H, k, s, p, d), cnn.output_size(W, k, s, p, d))
    if d == 1:
        ref = F.avg_pool2d(x, k, s, p)
        assert torch.allclose(cnn.avg_pool2d(x, k, s, p), ref, atol=1e-12)


def test_pool_default_stride_is_kernel():
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    assert torch.equal(cnn.max_pool2d(x, 2), F.max_pool2d(x, 2))
    assert torch.allclose(cnn.avg_pool2d(x, 2), F.avg_pool2d(x, 2))


def test_softmax_matches_torch_and_is_shift_safe():
    z = torch.tensor([[1000.0, 999.0, -5.0], [0.1, 0.2, 0.3]], dtype=torch.float64)
    assert torch.allclose(cnn.softmax(z), F.softmax(z, dim=-1), atol=1e-15)
    w = cnn.softmax_walkthrough(np.array([2.0, 1.0, 0.1]))
    assert np.allclose(w.y_hat, w.e / w.S) and abs(w.y_hat.sum() - 1) < 1e-12
    assert np.allclose(w.y_hat, F.softmax(torch.tensor([2.0, 1.0, 0.1]), 0).numpy(), atol=1e-6)


# ---------------------------------------------------------------- walkthroughs


@pytest.mark.parametrize("s,p,d", [(1, 0, 1), (1, 1, 1), (2, 1, 1), (1, 2, 2), (3, 0, 1)])
def test_conv_walkthrough_sum_is_the_feature_map_entry(s, p, d):
    x = cnn.dataset().X_test[0, 0].numpy()
    K = cnn.kernel_preset("edge (vertical)")
    ref = F.conv2d(torch.tensor(x, dtype=torch.float64)[None, None],
                   torch.tensor(K)[None, None], torch.tensor([0.25], dtype=torch.float64),
                   stride=s, padding=p, dilation=d)[0, 0].numpy()  # fmt: skip
    for r, c in [(0, 0), (1, 2), (99, 99)]:  # (99, 99) is clamped to the last position
        w = cnn.conv_walkthrough(x, K, 0.25, r, c, s, p, d)
        assert w.a.shape == ref.shape == w.n_out
        assert np.allclose(w.a, ref, atol=1e-12)
        assert abs(w.a_rc - ref[w.r, w.c]) < 1e-12
        assert abs(w.products.sum() + w.b - w.a_rc) < 1e-12
        assert np.array_equal(w.patch, w.x_pad[np.ix_(w.rows, w.cols)])


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_walkthrough(kind):
    fmap = np.random.default_rng(0).normal(size=(8, 8))
    w = cnn.pool_walkthrough(fmap, kind, 2, 2, 1, 3)
    ref = (F.max_pool2d if kind == "max" else F.avg_pool2d)(torch.tensor(fmap)[None, None], 2)
    assert np.allclose(w.h_pool, ref[0, 0].numpy()) and abs(w.h_pool_rc - w.h_pool[1, 3]) < 1e-12
    assert w.window.shape == (2, 2)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 10), k=st.sampled_from([1, 2, 3, 4, 5]), seed=st.integers(0, 10_000))
def test_convolution_is_cross_correlation_with_the_flipped_kernel(n, k, seed):
    """conv(x, K) = xcorr(x, flip(K)): the textbook convolution, written from its definition,
    against torch's conv2d (a cross-correlation) with the kernel turned by 180 degrees."""
    if k > n:
        with pytest.raises(ValueError, match="does not fit"):
            cnn.convolve2d(np.zeros((n, n)), np.zeros((k, k)))
        return
    rng = np.random.default_rng(seed)
    x, K = rng.normal(size=(n, n)), rng.normal(size=(k, k))
    conv = cnn.convolve2d(x, K)
    t = lambda a: torch.tensor(a.copy())[None, None]  # noqa: E731  (n, n) -> (1, 1, n, n)
    flipped = F.conv2d(t(x), t(cnn.flip(K)))[0, 0].numpy()
    assert conv.shape == (n - k + 1, n - k + 1)
    np.testing.assert_allclose(conv, flipped, atol=1e-12)
    if k > 1:  # the flip matters: without it torch gives another map
        assert not np.allclose(conv, F.conv2d(t(x), t(K))[0, 0].numpy(), atol=1e-6)
    assert np.array_equal(cnn.flip(cnn.flip(K)), K)


def test_convolution_matches_numpy_convolve_on_a_separable_kernel():
    """An independent reference: numpy's 1-D convolve (a true convolution) along the rows,
    then the columns, is the 2-D convolution with the outer-product kernel."""
    rng = np.random.default_rng(3)
    x, a, b = rng.normal(size=(7, 9)), rng.normal(size=3), rng.normal(size=3)
    rows = np.array([np.convolve(row, b, mode="valid") for row in x])  # (7, 7)
    both = np.array([np.convolve(col, a, mode="valid") for col in rows.T]).T  # (5, 7)
    np.testing.assert_allclose(cnn.convolve2d(x, np.outer(a, b)), both, atol=1e-12)


def test_flip_walkthrough_sobel_swaps_the_sign():
    """flip(edge kernel) = -edge kernel: the textbook convolution is minus the layer's map."""
    K = cnn.kernel_preset("edge (vertical)")
    assert np.array_equal(cnn.flip(K), -K)
    x = cnn.dataset().X_test[0, 0].numpy()
    f = cnn.flip_walkthrough(x, K, 1, 2, 3)
    w = cnn.conv_walkthrough(x, K, 0.0, 2, 3, 1, 1, 1)
    assert (f.r, f.c) == (2, 3) and f.xcorr == pytest.approx(w.a_rc, abs=1e-12)
    assert f.conv == pytest.approx(-f.xcorr, abs=1e-12) and abs(f.xcorr) > 0.1
    assert (cnn.flip_walkthrough(x, K, 0, 99, 99).r, cnn.flip_walkthrough(x, K, 0, 99, 99).c) == (
        5,
        5,
    )


def test_head_features_and_the_no_pooling_factor():
    """The "No pooling" preset's factor, from the configs (issue 13, item 1): one 16-filter
    layer feeds 16·8·8 = 1,024 features without pooling, 16·4·4 = 256 with 2×2 pooling
    (4×), and the default two-layer net 32·2·2 = 128 (8×)."""
    one = CNNConfig(layers=1, filters=16, pool="none")
    pooled, default = CNNConfig(layers=1, filters=16), CNNConfig()
    got = [cnn.head_features(c) for c in (one, pooled, default)]
    assert got == [1024, 256, 128]
    for cfg, n in zip((one, pooled, default), got):  # what the model's last layer really reads
        assert cnn.build_model(cfg).head.weight.shape == (10, n)
    assert cnn.head_features(CNNConfig("mnist", layers=1, filters=16, pool="none")) == 16 * 28 * 28
    assert cnn.head_features(replace(default, arch="mlp")) == cnn.mlp_hidden(default)


def test_kernel_presets():
    assert cnn.kernel_preset("blur").sum() == pytest.approx(1.0)
    assert cnn.kernel_preset("sharpen").sum() == pytest.approx(1.0)
    assert cnn.kernel_preset("edge (vertical)").sum() == 0
    with pytest.raises(ValueError):
        cnn.kernel_preset("emboss")


# ---------------------------------------------------------------- IDX / MNIST


def _fake_mnist(folder: Path, gz: bool, n_train=7, n_test=5) -> None:
    rng = np.random.default_rng(1)
    sfx = ".gz" if gz else ""
    mnist.write_idx(
        folder / f"train-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n_train, 28, 28))
    )
    mnist.write_idx(folder / f"train-labels-idx1-ubyte{sfx}", np.arange(n_train) % 10)
    mnist.write_idx(folder / f"t10k-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n_test, 28, 28)))
    mnist.write_idx(folder / f"t10k-labels-idx1-ubyte{sfx}", np.arange(n_test) % 10)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_roundtrip_and_mnist_loader(tmp_path, gz):
    assert not mnist.available(tmp_path)
    _fake_mnist(tmp_path, gz)
    assert mnist.available(tmp_path)
    a = mnist.read_idx(tmp_path / ("train-labels-idx1-ubyte" + (".gz" if gz else "")))
    assert a.dtype == np.uint8 and a.tolist() == [0, 1, 2, 3, 4, 5, 6]
    d = mnist.load_mnist(tmp_path, train_size=4)
    assert d.X_train.shape == (4, 1, 28, 28) and d.X_train.dtype == torch.float32
    assert d.X_test.shape == (5, 1, 28, 28) and d.y_test.dtype == torch.int64
    assert float(d.X_train.min()) >= 0.0 and float(d.X_train.max()) <= 1.0


def test_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "x"
    bad.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="magic"):
        mnist.read_idx(bad)
    mnist.write_idx(bad, np.zeros((3, 4)))
    bad.write_bytes(bad.read_bytes()[:-2])  # truncated data
    with pytest.raises(ValueError, match="header says"):
        mnist.read_idx(bad)
    gzbad = tmp_path / "y.gz"
    gzbad.write_bytes(gzip.compress(b"\x00\x00\x08\x01")[:-3])
    with pytest.raises(ValueError):
        mnist.read_idx(gzbad)
    with pytest.raises(ValueError, match="not found"):
        mnist.load_mnist(tmp_path)


# ---------------------------------------------------------------- configs


@pytest.mark.parametrize(
    "kw",
    [dict(layers=0), dict(layers=9), dict(filters=0), dict(kernel=4), dict(kernel=9),
     dict(pool="min"), dict(dropout=1.0), dict(lr=0.0), dict(lr=float("nan")),
     dict(epochs=0), dict(epochs=10_000), dict(batch_size=0), dict(dataset="cifar"),
     dict(optimizer="lbfgs"), dict(arch="rnn"), dict(epochs=200, batch_size=8)],
)  # fmt: skip
def test_bad_configs_rejected(kw):
    with pytest.raises(ValueError) as e:
        CNNConfig(**kw)
    assert len(str(e.value)) > 10


def test_caps_and_derived_sizes():
    cfg = CNNConfig()
    assert cfg.channels == (16, 32) and cfg.batches_per_epoch == 1438 // 256
    assert CNNConfig(filters=64, layers=3).channels == (64, 64, 64)
    e = cnn.max_epochs("digits", 8)
    CNNConfig(epochs=e, batch_size=8)  # the bound itself is allowed
    assert e * (1438 // 8) <= cnn.MAX_STEPS


@settings(max_examples=25, deadline=None)
@given(
    layers=st.integers(1, 3), filters=st.integers(1, 8), kernel=st.sampled_from([1, 3, 5, 7]),
    pool=st.sampled_from(cnn.POOLS), arch=st.sampled_from(cnn.ARCHS),
)  # fmt: skip
def test_models_build_and_mlp_budget(layers, filters, kernel, pool, arch):
    cfg = CNNConfig(layers=layers, filters=filters, kernel=kernel, pool=pool, arch=arch)
    model = cnn.build_model(cfg)
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    n_cnn = cnn.count_params(cnn.build_model(replace(cfg, arch="cnn")))
    n_mlp = cnn.count_params(cnn.build_model(replace(cfg, arch="mlp")))
    assert abs(n_mlp - n_cnn) <= 75 + 0.02 * n_cnn  # one hidden unit is 75 parameters


def test_init_uses_the_config_seed_only():
    before = torch.random.get_rng_state()
    a = cnn.build_model(CNNConfig(seed=3)).state_dict()
    assert torch.equal(torch.random.get_rng_state(), before)  # the global RNG is untouched
    b = cnn.build_model(CNNConfig(seed=3)).state_dict()
    c = cnn.build_model(CNNConfig(seed=4)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["convs.0.weight"], c["convs.0.weight"])


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def tiny():
    return cnn.train(CNNConfig.tiny(), device="cpu")


def test_tiny_converges(tiny):
    assert tiny.diverged_at is None
    assert tiny.test_acc >= 0.85
    assert tiny.history.test_loss[-1] < 0.6 < tiny.history.train_loss[0]
    assert tiny.steps == CNNConfig.tiny().steps == len(tiny.history.step_loss)
    assert tiny.confusion.sum() == 359 and np.trace(tiny.confusion) / 359 == pytest.approx(
        tiny.test_acc
    )
    assert np.allclose(tiny.test_probs.sum(1), 1, atol=1e-5)


def test_deterministic(tiny):
    again = cnn.train(CNNConfig.tiny(), device="cpu")
    assert np.array_equal(again.history.step_loss, tiny.history.step_loss)
    assert all(np.array_equal(again.state[k], tiny.state[k]) for k in tiny.state)


def test_dropout_deterministic_and_trains():
    cfg = replace(CNNConfig.tiny(), dropout=0.3)
    a, b = cnn.train(cfg, device="cpu"), cnn.train(cfg, device="cpu")
    assert np.array_equal(a.history.step_loss, b.history.step_loss)
    assert a.test_acc > 0.7


def test_result_arrays_are_read_only(tiny):
    with pytest.raises(ValueError):
        tiny.history.step_loss[0] = 0.0


def test_divergence_reported_not_raised():
    r = cnn.train(replace(CNNConfig.tiny(), lr=50.0), device="cpu")
    assert r.diverged_at is not None and 1 <= r.diverged_at <= r.steps
    assert "diverged at step" in cnn.diagnose(r)


def test_on_step_called_every_epoch():
    seen = []
    cnn.train(
        CNNConfig.tiny(), device="cpu", on_step=lambda e, n, h: seen.append((e, n, len(h.test_acc)))
    )
    assert seen == [(e, 6, e) for e in range(1, 7)]


def test_predict_and_feature_maps(tiny):
    x = cnn.dataset().X_test[0, 0].numpy()
    pr = cnn.predict(tiny, x)
    assert [m.shape for m in pr.maps] == [(8, 8, 8), (16, 4, 4)]
    assert np.allclose(pr.softmax.y_hat, tiny.test_probs[0], atol=1e-5)
    assert cnn.first_layer_filters(tiny).shape == (8, 3, 3)
    wrong = cnn.misclassified(tiny)
    assert all(tiny.test_pred[i] != cnn.dataset().y_test[i] for i in wrong)


def test_reference_gaps_on_the_page_are_tiny(tiny):
    rows = cnn.reference_gaps(tiny, n_images=16, stride=2)
    assert len(rows) == 4 and all(r["max |difference|"] < 1e-10 for r in rows)
    assert "conv 3×3, 8 filters" in cnn.describe(tiny.config)


def test_mlp_trains():
    r = cnn.train(replace(CNNConfig.tiny(), arch="mlp"), device="cpu")
    assert r.test_acc > 0.8 and cnn.predict(r, np.zeros((8, 8))).maps == []


def test_dl_core_imports_no_ui():
    code = "import sys, dl_core.cnn, dl_core.images, dl_core.mnist; print('streamlit' in sys.modules or 'plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)  # fmt: skip
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_graph_training_matches_quality():
    cfg = CNNConfig()
    r = cnn.train(cfg, device="cuda")
    assert r.device == "cuda" and r.cuda_graph
    assert r.diverged_at is None and r.test_acc >= 0.97
    assert r.steps == cfg.steps and np.isfinite(r.history.step_loss).all()
    # dropout masks come from a local CUDA generator: same seed, same run (up to the
    # rounding of cuDNN's non-deterministic atomics; a different mask changes losses by ~1e-1)
    d = replace(CNNConfig.tiny(), dropout=0.2)
    a, b = cnn.train(d, device="cuda"), cnn.train(d, device="cuda")
    other = cnn.train(replace(d, seed=1), device="cuda")
    gap = np.abs(a.history.step_loss - b.history.step_loss).max()
    other_gap = np.abs(a.history.step_loss - other.history.step_loss).max()
    print("CUDA rerun gap", gap, "other seed", other_gap)
    assert gap < 0.2 * other_gap and gap < 0.05
    # and the graphed run agrees with the CPU run in quality
    c = cnn.train(CNNConfig.tiny(), device="cpu")
    g = cnn.train(CNNConfig.tiny(), device="cuda")
    assert abs(c.test_acc - g.test_acc) < 0.05
