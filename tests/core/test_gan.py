"""GAN core: losses vs hand-computed values and torch, the hand-written nets and
optimizers vs torch.nn / autograd / torch.optim, D*, JS, mode coverage, training."""

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as hs

from dl_core import gan, optim
from dl_core.gan import GanConfig
from dl_core.training import generator

LN2 = math.log(2)


# ---------------------------------------------------------------- losses


def test_losses_hand_computed():
    # a = 0 means D = 1/2 everywhere: log D = log(1 - D) = -log 2
    z = torch.zeros(4)
    assert gan.d_loss("minimax", z, z).item() == pytest.approx(2 * LN2)
    assert gan.g_loss("minimax", z).item() == pytest.approx(-LN2)
    assert gan.g_loss("nonsaturating", z).item() == pytest.approx(LN2)
    # a_real = log 3 -> D(x) = 3/4; a_fake = -log 3 -> D(G(z)) = 1/4
    ar, af = torch.full((2,), math.log(3)), torch.full((2,), -math.log(3))
    assert gan.d_loss("nonsaturating", ar, af).item() == pytest.approx(-2 * math.log(0.75))
    assert gan.g_loss("minimax", af).item() == pytest.approx(math.log(0.75))
    assert gan.g_loss("nonsaturating", af).item() == pytest.approx(-math.log(0.25))
    # least squares on raw outputs: 1/2 (0.5 - 1)^2 + 1/2 (0.5)^2 = 0.25
    h = torch.full((3,), 0.5)
    assert gan.d_loss("least_squares", h, h).item() == pytest.approx(0.25)
    assert gan.g_loss("least_squares", h).item() == pytest.approx(0.125)
    assert gan.d_loss("wgan_gp", torch.tensor([2.0]), torch.tensor([0.5])).item() == -1.5


def test_losses_match_torch_bce_and_mse():
    g = generator(0)
    ar, af = torch.randn(64, generator=g), torch.randn(64, generator=g)
    bce = F.binary_cross_entropy_with_logits
    ref_d = bce(ar, torch.ones(64)) + bce(af, torch.zeros(64))
    assert gan.d_loss("minimax", ar, af).item() == pytest.approx(ref_d.item(), rel=1e-6)
    assert gan.g_loss("nonsaturating", af).item() == pytest.approx(
        bce(af, torch.ones(64)).item(), rel=1e-6
    )
    assert gan.g_loss("minimax", af).item() == pytest.approx(
        -bce(af, torch.zeros(64)).item(), rel=1e-6
    )
    ref_ls = 0.5 * F.mse_loss(ar, torch.ones(64)) + 0.5 * F.mse_loss(af, torch.zeros(64))
    assert gan.d_loss("least_squares", ar, af).item() == pytest.approx(ref_ls.item(), rel=1e-6)


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_loss_gradients_match_autograd(loss):
    g = generator(1)
    B = 16
    a = torch.randn(2 * B, 1, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.cat([torch.ones(B, 1), torch.zeros(B, 1)]).double()
    if loss != "wgan_gp":  # the critic's plain part; the penalty goes through autograd
        (ref,) = torch.autograd.grad(gan.d_loss(loss, a[:B, 0], a[B:, 0]), a)
        assert torch.allclose(gan.d_loss_grad(loss, a.detach(), y), ref, atol=1e-12)
    af = a[:B]
    (ref_g,) = torch.autograd.grad(gan.g_loss(loss, af[:, 0]), a)
    assert torch.allclose(gan.g_loss_grad(loss, af.detach()), ref_g[:B], atol=1e-12)


def test_generator_gradients_chart_matches_autograd():
    a = torch.linspace(-6, 6, 25, dtype=torch.float64, requires_grad=True)
    D = torch.sigmoid(a)
    mm, ns = gan.generator_gradients(D.detach().numpy())
    (g_mm,) = torch.autograd.grad(torch.log(1 - D).sum(), a, retain_graph=True)
    (g_ns,) = torch.autograd.grad((-torch.log(D)).sum(), a)
    np.testing.assert_allclose(mm, g_mm.numpy(), atol=1e-9)
    np.testing.assert_allclose(ns, g_ns.numpy(), atol=1e-9)
    assert abs(mm[0]) < 0.01 < 0.99 < abs(ns[0])  # D near 0: minimax vanishes, NS does not


def test_minimax_numbers_add_up():
    ar, af = torch.tensor([math.log(3)] * 4), torch.tensor([-math.log(3)] * 4)
    m = gan.minimax_numbers(ar, af)
    assert m.mean_log_D_real == pytest.approx(math.log(0.75))
    assert m.mean_log_1m_D_fake == pytest.approx(math.log(0.75))
    value, loss_d = m.V, m.L_D
    assert value == pytest.approx(2 * math.log(0.75))
    assert loss_d == pytest.approx(-value)
    assert m.L_G_ns == pytest.approx(-math.log(0.25))
    np.testing.assert_allclose(m.D_fake, 0.25)


def test_variant_numbers_hand_computed():
    ar, af = torch.tensor([0.5, 1.5]), torch.tensor([-1.0, 0.0])
    ls = gan.minimax_numbers(ar, af, "least_squares")
    # 1/2 mean((-0.5)^2, 0.5^2) = 0.125; 1/2 mean(1, 0) = 0.25; L_G = 1/2 mean(4, 1) = 1.25
    assert (ls.ls_real, ls.ls_fake) == (pytest.approx(0.125), pytest.approx(0.25))
    assert ls.L_D_trained == pytest.approx(0.375) and ls.L_G_trained == pytest.approx(1.25)
    w = gan.minimax_numbers(ar, af, "wgan_gp")
    assert (w.mean_a_real, w.mean_a_fake) == (pytest.approx(1.0), pytest.approx(-0.5))
    assert w.L_D_trained == pytest.approx(-1.5) and w.L_G_trained == pytest.approx(0.5)
    ns = gan.minimax_numbers(ar, af, "nonsaturating")
    assert ns.L_D_trained == pytest.approx(ns.L_D) and ns.L_G_trained == pytest.approx(ns.L_G_ns)
    mm = gan.minimax_numbers(ar, af, "minimax")
    assert mm.L_G_trained == pytest.approx(mm.L_G_minimax)
    with pytest.raises(ValueError):
        gan.minimax_numbers(ar, af, "hinge")


@pytest.mark.parametrize("loss", ["nonsaturating", "least_squares"])
def test_batch_numbers_come_from_the_current_networks(loss):
    """The page's numbers: the last batch's real x and noise z under the current D and G,
    checked against torch.nn copies of both networks and F.binary_cross_entropy."""
    state = gan.init_state(dataclasses.replace(GanConfig.tiny(), loss=loss), "cpu")
    assert gan.batch_numbers(state) is None
    gan.advance(state, 30)
    m = gan.batch_numbers(state)
    G, D = gan.torch_module(state.G), gan.torch_module(state.D)
    with torch.no_grad():
        a_real = D(state.last_X)[:, 0].double()
        a_fake = D(G(state.last_Z))[:, 0].double()
    B = state.cfg.batch_size
    assert m.B == B and state.last_Z.shape == (B, state.cfg.noise_dim)
    bce = F.binary_cross_entropy_with_logits
    v = -(bce(a_real, torch.ones(B, dtype=torch.float64)) + bce(a_fake, torch.zeros(B).double()))
    value = m.V
    assert value == pytest.approx(float(v), abs=1e-5)
    assert m.L_D_trained == pytest.approx(float(gan.d_loss(loss, a_real, a_fake)), abs=1e-5)
    assert m.L_G_trained == pytest.approx(float(gan.g_loss(loss, a_fake)), abs=1e-5)
    # one step of training changed little: the numbers sit near the recorded losses
    assert m.L_D_trained == pytest.approx(state.d_loss[-1], abs=0.1)


# ---------------------------------------------------------------- nets and optimizers


@pytest.mark.parametrize("act", gan.ACTIVATIONS)
def test_hand_written_mlp_matches_torch_nn(act):
    net = gan.init_net((3, 7, 5, 2), act, generator(2), "cpu")
    ref = gan.torch_module(net)
    x = torch.randn(11, 3, generator=generator(3)).requires_grad_()
    d_out = torch.randn(11, 2, generator=generator(4))
    hs_ = gan.forward(net, x.detach())
    out_ref = ref(x)
    assert torch.allclose(hs_[-1], out_ref, atol=1e-6)
    dx = gan.backward(net, hs_, d_out, dx=True)
    out_ref.backward(d_out)
    assert torch.allclose(dx, x.grad, atol=1e-6)
    lins = [m for m in ref if isinstance(m, torch.nn.Linear)]
    for gW, gb, lin in zip(net.gW, net.gb, lins):
        assert torch.allclose(gW, lin.weight.grad.T, atol=1e-5)
        assert torch.allclose(gb, lin.bias.grad, atol=1e-5)


@pytest.mark.parametrize("name", gan.OPTIMIZERS)
def test_flat_optimizer_matches_torch_optim(name):
    p = torch.randn(20, generator=generator(5), dtype=torch.float64)
    ref = p.clone().requires_grad_()
    state = gan.init_state(GanConfig.tiny(), "cpu")  # the GAN's own optimizer settings
    opt = optim.Flat(dataclasses.replace(state.opt_D.cfg, name=name, lr=0.01))
    torch_opt = optim.reference_optimizer(opt.cfg, [ref])
    for k in range(6):
        grad = torch.randn(20, generator=generator(10 + k), dtype=torch.float64)
        optim.update_(opt, p, grad)
        ref.grad = grad.clone()
        torch_opt.step()
    assert torch.allclose(p, ref.detach(), atol=1e-12)


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "least_squares"])
def test_fused_iteration_matches_autograd_iteration(loss):
    cfg = dataclasses.replace(GanConfig.tiny(), loss=loss, d_steps=2, activation="leaky_relu")
    a, b = gan.init_state(cfg, "cpu"), gan.init_state(cfg, "cpu")
    gan.advance(a, 8)
    gan.advance(b, 8, use_autograd=True)
    assert torch.allclose(a.G.flat, b.G.flat, atol=1e-5)
    assert torch.allclose(a.D.flat, b.D.flat, atol=1e-5)
    np.testing.assert_allclose(a.d_loss, b.d_loss, atol=1e-5)


# ---------------------------------------------------------------- densities, D*, JS


def _normal2d(axis: torch.Tensor, mean: float, var: float) -> torch.Tensor:
    Y, X = torch.meshgrid(axis, axis, indexing="ij")
    r2 = (X - mean) ** 2 + (Y - mean) ** 2
    return torch.exp(-r2 / (2 * var)) / (2 * math.pi * var)


def test_kde_and_optimal_discriminator_on_known_densities():
    axis = gan.grid_axis(40)
    h = 0.3
    g = generator(6)
    p_s = torch.randn(20000, 2, generator=g, dtype=torch.float64) * 0.5 - 1.0  # N(-1, .25 I)
    q_s = torch.randn(20000, 2, generator=g, dtype=torch.float64) * 0.5 + 1.0  # N(+1, .25 I)
    p_hat, q_hat = gan.kde_grid(p_s, axis, h), gan.kde_grid(q_s, axis, h)
    # a Gaussian KDE of N(m, s^2) estimates N(m, s^2 + h^2)
    p_true, q_true = _normal2d(axis, -1.0, 0.25 + h * h), _normal2d(axis, 1.0, 0.25 + h * h)
    assert float((p_hat - p_true).abs().max()) < 0.05 * float(p_true.max())
    d_hat = gan.optimal_discriminator(p_hat, q_hat)
    d_true = p_true / (p_true + q_true)
    ok = ~torch.isnan(d_hat) & ((p_true + q_true) > 0.02)
    assert ok.sum() > 100
    assert float((d_hat[ok] - d_true[ok]).abs().max()) < 0.08
    # where both densities vanish, D* is undefined (NaN), not a made-up 1/2
    assert torch.isnan(gan.optimal_discriminator(p_true, q_true)[0, -1])


def test_js_divergence_limits_and_the_minimax_identity():
    axis = gan.grid_axis(30)
    p, q = _normal2d(axis, -1.0, 0.2), _normal2d(axis, 0.5, 0.4)
    assert gan.js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    left, right = torch.zeros(4, 4), torch.zeros(4, 4)
    left[:, :2], right[:, 2:] = 1.0, 1.0
    assert gan.js_divergence(left, right) == pytest.approx(LN2)
    js = gan.js_divergence(p, q)
    assert 0 < js < LN2
    # V(D*, G) = -log 4 + 2 JS(P, Q)
    assert gan.game_value_at_optimum(p, q) == pytest.approx(-math.log(4) + 2 * js, abs=1e-9)


# ---------------------------------------------------------------- mode coverage


def test_mode_coverage_all_modes_and_one_mode():
    spec = gan.target_spec("ring")
    centres = spec.skeleton
    all_modes = centres.repeat(50, 1)  # (400, 2): 50 on every centre
    cov = gan.mode_coverage(all_modes, spec)
    assert (cov.covered, cov.n_modes, cov.quality) == (8, 8, 1.0)
    one = centres[:1].repeat(400, 1) + 0.05
    cov1 = gan.mode_coverage(one, spec)
    assert cov1.covered == 1 and cov1.quality == 1.0 and cov1.counts[0] == 400
    far = torch.zeros(100, 2)  # the ring's centre: near no mode
    assert gan.mode_coverage(far, spec).quality == 0.0
    # 7 full modes plus 5 samples on the 8th: under 20 % of its fair share of 52.5
    mixed = torch.cat([centres[:7].repeat(59, 1), centres[7:].repeat(5, 1)])
    assert gan.mode_coverage(mixed, spec).covered == 7


@pytest.mark.parametrize("target", gan.TARGETS)
def test_real_samples_cover_every_target(target):
    x = gan.sample_target(target, 4000, generator(7))
    assert x.shape == (4000, 2) and float(x.abs().max()) < gan.VIEW
    cov = gan.mode_coverage(x, gan.target_spec(target))
    assert cov.covered == cov.n_modes
    assert cov.quality > 0.97  # 98.9 % of a 2-D Gaussian lies within 3 sigma


def test_thin_keeps_short_histories_and_averages_long_ones():
    steps, y, k = gan.thin([3.0, 1.0, 2.0], 10)
    np.testing.assert_array_equal(steps, [1, 2, 3])
    np.testing.assert_array_equal(y, [3, 1, 2])
    assert k == 1
    steps, y, k = gan.thin(np.arange(1, 11, dtype=float), 4)  # steps 1..10 valued 1..10
    assert k == 3 and len(y) <= 4
    np.testing.assert_allclose(y, [2, 5, 8, 10])  # blocks 1-3, 4-6, 7-9, then 10 alone
    np.testing.assert_allclose(steps, [2, 5, 8, 10])
    steps, y, k = gan.thin(np.ones(20_000), 1000)
    assert len(y) == 1000 and k == 20 and steps[-1] == pytest.approx(19_990.5)


# ---------------------------------------------------------------- training


def test_tiny_is_deterministic():
    a, b = gan.train(GanConfig.tiny()), gan.train(GanConfig.tiny())
    np.testing.assert_array_equal(a.d_loss, b.d_loss)
    np.testing.assert_array_equal(a.fake, b.fake)
    assert len(a.d_loss) == 200 and a.diverged_at is None


def test_default_covers_the_ring_within_its_budget():
    res = gan.train(GanConfig())
    assert res.modes[-1] == 8
    assert res.first_full_coverage is not None and res.first_full_coverage <= 800
    assert res.quality[-1] > 0.7
    assert res.js[-1] < 0.2
    assert res.device == "cpu"


def test_divergence_is_reported_not_raised():
    cfg = dataclasses.replace(
        GanConfig.tiny(),
        loss="least_squares",
        d_optimizer="sgd",
        g_optimizer="sgd",
        d_lr=10.0,
        g_lr=10.0,
        activation="relu",
    )
    res = gan.train(cfg)
    assert res.diverged_at is not None
    assert np.isfinite(res.d_loss).all() and len(res.d_loss) == res.diverged_at - 1


def test_wgan_gp_trains_finitely():
    res = gan.train(dataclasses.replace(GanConfig.tiny(), loss="wgan_gp", steps=60))
    assert res.diverged_at is None and np.isfinite(res.g_loss).all()


@pytest.mark.parametrize(
    "kw",
    [
        {"target": "heart"},
        {"loss": "hinge"},
        {"noise_dim": 0},
        {"g_hidden": ()},
        {"d_hidden": (64,) * 9},
        {"d_lr": 1e99},
        {"steps": 10**9},
        {"batch_size": 1},
        {"d_steps": 0},
    ],
)
def test_bad_configs_are_rejected(kw):
    with pytest.raises(ValueError):
        GanConfig(**kw)


@settings(max_examples=8, deadline=None)
@given(
    target=hs.sampled_from(gan.TARGETS),
    noise=hs.sampled_from(gan.NOISES),
    nz=hs.integers(1, 4),
    loss=hs.sampled_from(["minimax", "nonsaturating", "least_squares"]),
    width=hs.integers(1, 16),
)
def test_any_small_config_trains_without_raising(target, noise, nz, loss, width):
    cfg = GanConfig(
        target=target, noise=noise, noise_dim=nz, loss=loss, g_hidden=(width,),
        d_hidden=(width,), steps=20, eval_every=10, batch_size=16,
    )  # fmt: skip
    res = gan.train(cfg)
    assert len(res.d_loss) <= 20 and res.fake.shape == (1024, 2)


def test_bench_record():
    (rec,) = gan.bench()
    assert rec["topic"] == "gan" and rec["task"] == "ring8" and rec["target"] == 8
    assert rec["metric"] == "modes_covered" and rec["reached"] == (rec["value"] >= 8)


# ---------------------------------------------------------------- the best D of each loss


@pytest.mark.parametrize("loss", ["minimax", "nonsaturating", "least_squares"])
@pytest.mark.parametrize("p_data, p_g", [(1.0, 1.0), (0.3, 0.05), (0.02, 0.9), (2.5, 0.7)])
def test_optimal_d_is_the_pointwise_minimum_of_each_loss(loss, p_data, p_g):
    """The closed form on the page (D* = p_data / (p_data + p_g), for LSGAN as the raw output)
    is where a 1-D search over D's value at one point finds the integrand's minimum."""
    lo, hi = (1e-9, 1 - 1e-9) if loss != "least_squares" else (-3.0, 4.0)  # a: any real
    d = np.linspace(lo, hi, 2_000_001)
    best = d[np.argmin(gan.d_pointwise_loss(loss, p_data, p_g, d))]
    assert gan.optimal_d(loss, p_data, p_g) == pytest.approx(best, abs=1e-5)
    assert gan.optimal_d(loss, p_data, p_g) == pytest.approx(p_data / (p_data + p_g))


def test_the_pointwise_losses_are_the_trained_losses():
    """Averaged over samples, the integrands are the losses D trains on (d_loss)."""
    g = generator(3)
    ar, af = torch.randn(50, generator=g, dtype=torch.float64), torch.randn(50, generator=g)
    for loss in gan.LOSSES:
        view = (
            (lambda a: torch.sigmoid(a)) if loss in ("minimax", "nonsaturating") else (lambda a: a)
        )
        real = gan.d_pointwise_loss(loss, 1.0, 0.0, view(ar).numpy()).mean()
        fake = gan.d_pointwise_loss(loss, 0.0, 1.0, view(af.double()).numpy()).mean()
        ref = gan.d_loss(loss, ar, af.double()).item()
        assert real + fake == pytest.approx(ref, rel=1e-9), loss


def test_the_wgan_critic_has_no_pointwise_optimum():
    """WGAN's critic loss is linear in its value at a point: a 1-D search runs to whichever
    end of the interval it is given, however wide; there is no D* to compare with."""
    assert gan.optimal_d("wgan_gp", 0.3, 0.1) is None
    for width in (1.0, 10.0, 1000.0):
        a = np.linspace(-width, width, 10_001)
        assert a[np.argmin(gan.d_pointwise_loss("wgan_gp", 0.3, 0.1, a))] == width  # more real
        assert a[np.argmin(gan.d_pointwise_loss("wgan_gp", 0.1, 0.3, a))] == -width


def test_d_view_shows_each_loss_on_the_scale_of_its_optimum():
    a = torch.tensor([-2.0, 0.0, 0.4, 1.0, 3.0])
    torch.testing.assert_close(gan.d_view("nonsaturating", a), torch.sigmoid(a))
    torch.testing.assert_close(gan.d_view("least_squares", a), torch.tensor([0, 0, 0.4, 1, 1.0]))
    torch.testing.assert_close(gan.d_view("wgan_gp", a), a)
    # sigmoid would squeeze LSGAN's [0, 1] into [0.5, 0.73]: the reason for the raw view
    assert float(torch.sigmoid(torch.tensor(1.0))) == pytest.approx(0.7311, abs=1e-4)


def test_lsgan_learned_output_approaches_d_star():
    """Issue 13.3: with a strong D (5 steps per G step), LSGAN's raw output, clipped to [0, 1],
    spans most of [0, 1] near the data and tracks D* from the densities; sigmoid(a) of the
    same network stays in a narrow band and far from D*."""
    cfg = GanConfig(loss="least_squares", d_steps=5, d_lr=1e-2, g_lr=1e-3)
    state = gan.init_state(cfg, "cpu")
    gan.advance(state, 300)
    snap = gan.snapshot(state)
    tot = snap.p_data + snap.p_g
    near = tot > 0.05 * tot.max()  # near the data or the samples
    raw, dstar = snap.D_grid[near], snap.D_star[near]
    Y, X = torch.meshgrid(torch.tensor(snap.axis), torch.tensor(snap.axis), indexing="ij")
    with torch.no_grad():
        a = gan.forward(state.D, torch.stack([X.flatten(), Y.flatten()], 1).float())[-1]
    a = a.view(X.shape).numpy()
    np.testing.assert_allclose(snap.D_grid, np.clip(a, 0, 1), atol=1e-6)  # the raw output
    sig = (1 / (1 + np.exp(-a)))[near]  # what the page showed before
    lo, hi = np.percentile(raw, [5, 95])
    assert lo < 0.05 and hi > 0.95, (lo, hi)  # measured 0.00 and 1.00
    assert np.percentile(sig, 95) - np.percentile(sig, 5) < 0.25
    assert np.corrcoef(raw, dstar)[0, 1] > 0.9  # measured 0.98
    assert np.abs(raw - dstar).mean() < 0.5 * np.abs(sig - dstar).mean()  # 0.06 vs 0.29


def test_gradient_penalty_matches_autograd():
    state = gan.init_state(GanConfig.tiny(), "cpu")
    g = generator(5)
    x, fake = torch.randn(16, 2, generator=g), torch.randn(16, 2, generator=g)
    eps = torch.rand(16, 1, generator=g)
    xh = (eps * x + (1 - eps) * fake).requires_grad_()
    a = gan.functional_forward(state.D.flat, state.D.sizes, state.cfg.activation, xh)
    (gx,) = torch.autograd.grad(a.sum(), xh)
    ref = ((gx.norm(dim=1) - 1) ** 2).mean()
    assert float(gan.gradient_penalty(state.D, x, fake, eps)) == pytest.approx(float(ref), rel=1e-5)


def test_wgan_batch_numbers_include_the_penalty():
    state = gan.init_state(dataclasses.replace(GanConfig.tiny(), loss="wgan_gp"), "cpu")
    gan.advance(state, 5)
    m = gan.batch_numbers(state)
    assert m.gp > 0 and np.isfinite(m.gp)
    assert gan.batch_numbers(state).gp == m.gp  # one fixed draw: the page's number is stable


def test_a_hundred_times_faster_d_leaves_g_on_few_modes():
    """The preset "D learns 100x faster than G": 3 of 8 modes after 2,000 steps (seed 0),
    where the default settings cover all 8 by step 500."""
    fast_d = gan.train(GanConfig(d_lr=2e-2, g_lr=2e-4, steps=2000))
    assert fast_d.modes[-1] <= 4 and fast_d.diverged_at is None  # measured 3
    assert gan.train(GanConfig(steps=500)).first_full_coverage <= 500
