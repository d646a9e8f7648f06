"""dl_core.autoencoder: hand-written forward passes, losses and KL vs torch; the linear AE vs
PCA; reparameterisation gradients; determinism; convergence of tiny configs."""

import math
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dl_core import autoencoder as A
from dl_core.training import ResultCache, generator

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


@pytest.fixture(scope="module")
def linear_ae():
    return A.train(A.AEConfig(kind="linear", steps=400, lr=0.03), device="cpu")


# ---------------------------------------------------------------- hand-written vs torch.nn


@pytest.mark.parametrize("kind", A.KINDS)
def test_forward_matches_torch_nn(kind):
    cfg = A.AEConfig(kind=kind, latent=3, hidden=16)
    p = A.init_params(cfg, generator(5))
    x = torch.rand(7, 64, generator=generator(1))
    enc, dec = A.reference_modules(cfg, p)
    with torch.no_grad():
        mu, logvar = A.encode(p, x, kind)
        ref = enc(x)
        if kind == "vae":
            torch.testing.assert_close(torch.cat([mu, logvar], 1), ref, rtol=0, atol=1e-6)
        else:
            torch.testing.assert_close(mu, ref, rtol=0, atol=1e-6)
        x_hat = A.output(A.decode_logits(p, mu, kind), kind)
        torch.testing.assert_close(x_hat, dec(mu), rtol=0, atol=1e-6)


def test_init_matches_nn_linear_bounds():
    p = A.init_params(A.AEConfig(hidden=40), generator(0))
    assert p["W1"].shape == (40, 64) and p["W4"].shape == (64, 40)
    assert float(p["W1"].abs().max()) <= 1 / 8 and float(p["W3"].abs().max()) <= 1 / math.sqrt(2)


def test_bce_matches_torch():
    g = generator(2)
    logits = torch.randn(5, 64, generator=g, dtype=torch.float64) * 30  # large: no log(0)
    x = torch.rand(5, 64, generator=g, dtype=torch.float64)
    ref = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    torch.testing.assert_close(A.bce_with_logits(logits, x), ref, rtol=1e-12, atol=1e-12)


def test_kl_closed_form_matches_torch_distributions():
    g = generator(3)
    mu = torch.randn(6, 4, generator=g, dtype=torch.float64) * 2
    logvar = torch.randn(6, 4, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    ref = torch.distributions.kl_divergence(q, p)
    torch.testing.assert_close(A.kl_normal(mu, logvar), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "mu, logvar", [([0.0, 0.0], [0.0, 0.0]), ([1.5, -0.5], [-1.0, 0.7]), ([-2.0, 3.0], [-3.0, 1.5])]
)
def test_kl_closed_form_matches_monte_carlo(mu, logvar):
    mu, logvar = torch.tensor(mu, dtype=torch.float64), torch.tensor(logvar, dtype=torch.float64)
    exact = float(A.kl_normal(mu, logvar).sum())
    mc = float(A.kl_monte_carlo(mu, logvar, 200_000, generator(4)))
    # The estimator's standard deviation is below 0.03 here; 5 sigma + a floor.
    assert mc == pytest.approx(exact, abs=0.02 + 0.01 * exact)
    if exact == 0:
        assert mc == pytest.approx(0.0, abs=1e-12)  # q = p: every sample gives log q - log p = 0


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=4),
    st.lists(st.floats(-6, 4), min_size=4, max_size=4),
)
def test_kl_is_nonnegative_and_zero_only_at_the_prior(mu, logvar):
    mu = torch.tensor(mu, dtype=torch.float64)
    logvar = torch.tensor(logvar[: len(mu)], dtype=torch.float64)
    kl = A.kl_normal(mu, logvar)
    assert bool((kl >= -1e-12).all())
    assert float(A.kl_normal(torch.zeros(3), torch.zeros(3)).abs().max()) == 0.0


# ---------------------------------------------------------------- reparameterisation


def test_reparameterize_gradient_is_exact():
    """dz/dmu = 1 and dz/dlogvar = sigma * eps / 2: autograd vs finite differences."""
    g = generator(6)
    mu = torch.randn(3, dtype=torch.float64, generator=g, requires_grad=True)
    logvar = torch.randn(3, dtype=torch.float64, generator=g, requires_grad=True)
    eps = torch.randn(3, dtype=torch.float64, generator=g)
    assert torch.autograd.gradcheck(lambda m, lv: A.reparameterize(m, lv, eps), (mu, logvar))
    with torch.enable_grad():
        A.reparameterize(mu, logvar, eps).sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)


def test_reparameterized_gradient_estimates_the_true_gradient():
    """E[z^2] = mu^2 + sigma^2, so d/dmu = 2 mu and d/dlogvar = sigma^2: the gradient
    flows through the sample and its average matches."""
    mu = torch.tensor([0.7, -1.2], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([-0.4, 0.3], dtype=torch.float64, requires_grad=True)
    eps = torch.randn(400_000, 2, generator=generator(7), dtype=torch.float64)
    with torch.enable_grad():
        (A.reparameterize(mu, logvar, eps) ** 2).mean(0).sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), 2 * mu.detach().numpy(), atol=0.01)
    np.testing.assert_allclose(logvar.grad.numpy(), np.exp(logvar.detach().numpy()), atol=0.01)


def test_vae_loss_gradient_matches_finite_differences():
    cfg = A.AEConfig(kind="vae", latent=2, hidden=6)
    p = {k: v.double().requires_grad_() for k, v in A.init_params(cfg, generator(8)).items()}
    x = torch.rand(4, 64, generator=generator(9), dtype=torch.float64)
    eps = torch.randn(4, 2, generator=generator(10), dtype=torch.float64)

    def f(W2):
        q = dict(p, W2=W2)
        recon, kl = A.losses(q, x, x, cfg, eps)
        return recon + 0.7 * kl

    assert torch.autograd.gradcheck(f, (p["W2"],))


# ---------------------------------------------------------------- training


def test_tiny_ae_converges(tiny_ae):
    assert tiny_ae.diverged_at is None
    assert tiny_ae.steps_done == 150 and tiny_ae.recon.shape == (150,)
    # The mean image alone gives a test MSE of about 0.11; a 2-D code must beat it clearly.
    assert tiny_ae.final_mse < 0.06
    assert tiny_ae.test_mse[-1] < 0.8 * tiny_ae.test_mse[0]
    assert tiny_ae.z_test.shape == (len(tiny_ae.y_test), 2)


def test_tiny_vae_converges(tiny_vae):
    assert tiny_vae.diverged_at is None
    assert tiny_vae.final_mse < 0.075
    assert tiny_vae.recon[-1] < 0.85 * tiny_vae.recon[0]
    assert (tiny_vae.kl >= 0).all() and tiny_vae.kl[-1] > 0.5  # the code carries information
    assert tiny_vae.logvar_test.shape == tiny_vae.z_test.shape


@pytest.fixture(scope="module")
def page_runs():
    """The page's default AE and VAE and the models of its "Try this" presets."""
    cfgs = {
        "ae": A.AEConfig("ae"), "vae": A.AEConfig("vae"), "vae_beta0": A.AEConfig("vae", beta=0.0),
        "vae_beta5": A.AEConfig("vae", beta=5.0), "ae8": A.AEConfig("ae", latent=8),
        "vae8": A.AEConfig("vae", latent=8),
    }  # fmt: skip
    return {k: A.train(c, device="cpu") for k, c in cfgs.items()}


def test_default_configs_reach_the_bench_targets(page_runs):
    for kind, target in A.BENCH_TARGETS.items():
        res = page_runs[kind]
        assert res.final_mse <= target, (kind, res.final_mse)


def test_the_try_this_notes_hold(page_runs):
    """Each preset's note, against the run it describes (measured: sigma 0.005 and |mu| up to
    23 at beta = 0; KL 0.000 at beta = 5; MSE ratios 8-D / 2-D of 0.40 (AE) and 0.73 (VAE))."""
    b0, b5 = page_runs["vae_beta0"], page_runs["vae_beta5"]
    assert np.exp(0.5 * b0.logvar_test).mean() < 0.05  # "sigma shrinks to almost 0"
    assert np.abs(b0.z_test).max() > 3 * 2  # "codes spread far beyond the prior" (its 2 sigma)
    kl5 = A.kl_normal(torch.tensor(b5.z_test), torch.tensor(b5.logvar_test)).sum(1).mean()
    assert float(kl5) < 0.05 and np.abs(b5.z_test).max() < 0.1  # "mu ~ 0, KL ~ 0"
    assert np.exp(0.5 * b5.logvar_test).mean() == pytest.approx(1.0, abs=0.05)  # "sigma ~ 1"
    ae_ratio = page_runs["ae8"].final_mse / page_runs["ae"].final_mse
    vae_ratio = page_runs["vae8"].final_mse / page_runs["vae"].final_mse
    assert ae_ratio < 0.5  # "falls by more than half"
    assert 0.65 < vae_ratio < 0.85  # "by about a quarter"


def test_bce_floor_is_the_entropy_and_no_reconstruction_beats_it():
    g = generator(3)
    x = torch.rand(5, 64, generator=g, dtype=torch.float64)
    x[0] = (x[0] > 0.5).double()  # a binary image: its floor is 0
    floor = A.bce_floor(x)
    at_x = A.bce_with_logits(torch.logit(x.clamp(1e-12, 1 - 1e-12)), x).sum(1)
    torch.testing.assert_close(floor, at_x, atol=1e-9, rtol=0)
    assert float(floor[0]) == 0.0 and bool((floor[1:] > 0).all())
    for _ in range(5):  # Gibbs: any other x_hat scores more
        logits = torch.randn(5, 64, generator=g, dtype=torch.float64)
        assert bool((A.bce_with_logits(logits, x).sum(1) >= floor).all())


def test_recon_floor_of_the_digits(tiny_vae):
    floor = A.recon_floor(tiny_vae)
    assert 5.0 < floor < tiny_vae.recon[-1]  # grey pixels: well above 0, below what it scores


def test_denoising_errors_are_the_mse_of_their_images(tiny_ae):
    d = A.denoising_errors(tiny_ae, tiny_ae, 0.3, 6, seed=2)
    clean, noisy, plain, dae = d.images
    assert clean.shape == noisy.shape == plain.shape == dae.shape == (6, 64)
    assert d.noisy == pytest.approx(float(np.mean((noisy - clean) ** 2)), rel=1e-6)
    assert d.plain == d.dae == pytest.approx(float(np.mean((plain - clean) ** 2)), rel=1e-6)
    np.testing.assert_array_equal(noisy, A.noisy_test(tiny_ae, 0.3, 6, seed=2))


def test_training_is_deterministic():
    cfg = A.AEConfig.tiny("vae", steps=40, noise=0.2)
    a, b = A.train(cfg, device="cpu"), A.train(cfg, device="cpu")
    np.testing.assert_array_equal(a.recon, b.recon)
    np.testing.assert_array_equal(a.weights["W2"], b.weights["W2"])
    c = A.train(A.AEConfig.tiny("vae", steps=40, noise=0.2, seed=1), device="cpu")
    assert not np.array_equal(a.recon, c.recon)


def test_minibatches_train_too():
    res = A.train(A.AEConfig.tiny("ae", batch_size=200, steps=120), device="cpu")
    assert res.diverged_at is None and res.final_mse < 0.07


def test_divergence_is_reported_not_raised():
    cfg = A.AEConfig(kind="linear", steps=200, lr=10.0, optimizer="sgd")
    res = A.train(cfg, device="cpu")
    assert res.diverged_at is not None and 1 <= res.diverged_at <= 200
    assert len(res.recon) == res.diverged_at
    assert math.isnan(res.final_mse)


def test_on_step_reports_progress():
    seen = []
    A.train(
        A.AEConfig.tiny(steps=50), device="cpu", on_step=lambda k, r, q: seen.append((k, len(r)))
    )
    assert seen == [(20, 20), (40, 40), (50, 50)]


def test_result_arrays_are_read_only(tiny_ae):
    with pytest.raises(ValueError):
        tiny_ae.weights["W1"][0, 0] = 1.0
    with pytest.raises(ValueError):
        tiny_ae.z_test[0, 0] = 1.0


def test_result_cache_is_bounded(tiny_ae, tiny_vae):
    cache = ResultCache(max_entries=1)
    cache.put(tiny_ae)
    assert cache.get(tiny_ae.config) is tiny_ae
    cache.put(tiny_vae)
    assert cache.get(tiny_ae.config) is None and cache.get(tiny_vae.config) is tiny_vae


def test_identical_configs_train_once_across_threads(tiny_ae):
    """Two sessions asking for the same config at the same moment: one trains, one waits."""
    cache, calls, started = ResultCache(), [], threading.Event()

    def slow_train(cfg):
        calls.append(cfg)
        started.set()
        time.sleep(0.3)
        return tiny_ae

    waited = []
    out = [None, None]

    def ask(slot, wait_cb=None):
        out[slot] = cache.get_or_train(tiny_ae.config, slow_train, wait_cb, poll_s=0.02)

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=ask, args=(1, lambda: waited.append(1)))
    second.start()
    first.join(5), second.join(5)
    assert len(calls) == 1 and out[0] is tiny_ae and out[1] is tiny_ae
    assert len(waited) >= 3  # the waiter polled (and could have been interrupted) meanwhile
    assert cache.get_or_train(tiny_ae.config, slow_train) is tiny_ae and len(calls) == 1


def test_a_cancelled_run_lets_the_waiter_train(tiny_ae):
    """A run stopped by a newer widget value stores nothing; a waiting session trains."""
    cache, calls, started, release = ResultCache(), [], threading.Event(), threading.Event()

    def cancelled(cfg):
        calls.append("cancelled")
        started.set()
        release.wait(5)
        raise RuntimeError("stopped by a newer setting")

    def ok(cfg):
        calls.append("ok")
        return tiny_ae

    def first():
        with pytest.raises(RuntimeError):
            cache.get_or_train(tiny_ae.config, cancelled)

    t1 = threading.Thread(target=first)
    t1.start()
    assert started.wait(5)
    out = []
    t2 = threading.Thread(
        target=lambda: out.append(cache.get_or_train(tiny_ae.config, ok, release.set, 0.02))
    )
    t2.start()
    t1.join(5), t2.join(5)
    assert calls == ["cancelled", "ok"] and out == [tiny_ae]
    assert cache.get(tiny_ae.config) is tiny_ae


@pytest.mark.parametrize(
    "kw",
    [
        dict(kind="gan"),
        dict(latent=0),
        dict(latent=A.MAX_LATENT + 1),
        dict(hidden=10_000),
        dict(beta=-1.0),
        dict(beta=float("nan")),
        dict(noise=2.0),
        dict(steps=A.MAX_STEPS + 1),
        dict(lr=0.0),
        dict(latent=2.5),
    ],
)
def test_bad_configs_are_rejected(kw):
    with pytest.raises(ValueError):
        A.AEConfig(**kw)


# ---------------------------------------------------------------- using a trained model


def test_decode_is_pure_and_matches_reconstructions(tiny_ae):
    before = {k: v.copy() for k, v in tiny_ae.weights.items()}
    imgs = A.decode(tiny_ae, tiny_ae.z_test[:5])
    assert imgs.shape == (5, 8, 8)
    np.testing.assert_allclose(imgs.reshape(5, 64), tiny_ae.x_hat_test[:5], atol=1e-6)
    for k, v in before.items():
        np.testing.assert_array_equal(tiny_ae.weights[k], v)
    np.testing.assert_allclose(
        A.reconstruct(tiny_ae, tiny_ae.x_test[:5]), tiny_ae.x_hat_test[:5], atol=1e-6
    )


def test_latent_grid_and_interpolation(tiny_ae, tiny_vae):
    _, z2, imgs = A.latent_grid(tiny_ae, 6)
    assert imgs.shape == (6, 6, 8, 8) and z2[0] > z2[-1]
    t, path = A.interpolate(tiny_vae, 0, 1, 5)
    assert path.shape == (5, 8, 8) and t[0] == 0 and t[-1] == 1
    np.testing.assert_allclose(path[0].ravel(), tiny_vae.x_hat_test[0], atol=1e-6)
    np.testing.assert_allclose(path[-1].ravel(), tiny_vae.x_hat_test[1], atol=1e-6)
    assert A.latent_grid(tiny_ae, 10_000)[2].shape[0] == A.MAX_GRID


def test_vae_sample_walkthrough_is_consistent(tiny_vae):
    s = A.vae_sample(tiny_vae, 3, seed=1)
    np.testing.assert_allclose(s.sigma, np.exp(s.logvar / 2), rtol=1e-12)
    np.testing.assert_allclose(s.z, s.mu + s.sigma * s.eps, rtol=1e-12)
    np.testing.assert_allclose(
        s.kl_terms, 0.5 * (s.sigma**2 + s.mu**2 - 1 - s.logvar), rtol=1e-10, atol=1e-12
    )
    assert s.kl == pytest.approx(s.kl_terms.sum())
    ref = F.binary_cross_entropy(
        torch.tensor(s.x_hat), torch.tensor(s.x, dtype=torch.float64), reduction="sum"
    )
    assert s.recon == pytest.approx(float(ref), rel=1e-6)
    assert s.loss == pytest.approx(s.recon + s.beta * s.kl)
    np.testing.assert_allclose(s.mu, tiny_vae.z_test[3], atol=1e-5)


def test_ae_sample(tiny_ae):
    s = A.ae_sample(tiny_ae, 0)
    assert s.mse == pytest.approx(float(((s.x_hat - s.x) ** 2).mean()), rel=1e-5)


def test_noise_makes_a_denoising_autoencoder():
    cfg = dict(kind="ae", latent=16, hidden=64, steps=300)
    plain = A.train(A.AEConfig(**cfg), device="cpu")
    dae = A.train(A.AEConfig(**cfg, noise=0.3), device="cpu")
    noisy = A.noisy_test(plain, 0.3, 200)
    clean = plain.x_test[:200]

    def err(res):
        return float(((A.reconstruct(res, noisy) - clean) ** 2).mean())

    assert err(dae) < 0.8 * err(plain)


# ---------------------------------------------------------------- linear AE vs PCA


def test_pca_matches_svd_of_covariance():
    X = torch.rand(200, 64, generator=generator(11), dtype=torch.float64)
    _, Vk, ratio = A.pca(X, 3)
    C = torch.cov(X.T)
    evals, evecs = torch.linalg.eigh(C)  # ascending
    angles = A.principal_angles(Vk.T, evecs[:, -3:])
    assert float(angles.max()) < 1e-6
    np.testing.assert_allclose(ratio.numpy(), (evals.flip(0)[:3] / evals.sum()).numpy(), rtol=1e-8)


def test_principal_angles_of_known_subspaces():
    e = torch.eye(3, dtype=torch.float64)
    c, s = math.cos(0.3), math.sin(0.3)
    B = torch.stack([e[0], c * e[1] + s * e[2]], 1)  # (3, 2)
    np.testing.assert_allclose(A.principal_angles(e[:, :2], B).numpy(), [0.0, 0.3], atol=1e-7)


def test_linear_autoencoder_finds_the_pca_subspace(linear_ae):
    cmp = A.compare_with_pca(linear_ae)
    assert cmp.angles_deg.max() < 5.0  # the same plane, up to a few degrees (measured: 1.8)
    assert cmp.angles_deg.min() < 1.0
    # PCA is the optimum; the trained linear AE reaches it within 1%.
    assert cmp.pca_mse <= cmp.ae_mse * 1.001
    assert cmp.ae_mse == pytest.approx(cmp.pca_mse, rel=0.01)


def test_reference_gaps_of_a_diverged_vae_are_nan_not_an_exception():
    """Found by the all-maximum link (lr = 1): torch.distributions refused NaN means."""
    res = A.train(A.AEConfig.tiny("vae", lr=1.0, hidden=64))
    assert res.diverged_at is not None
    gaps = A.reference_gaps(res)
    assert len(gaps) == 4 and all(math.isnan(v) for v in gaps.values())
