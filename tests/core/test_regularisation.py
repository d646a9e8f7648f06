"""dl_core.regularisation: every formula of the page against torch (autograd, torch.optim,
nn.Dropout, nn.BatchNorm1d) or a brute-force reference; early stopping's checkpoint;
determinism, bounds and divergence."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from dl_core import regularisation as R
from dl_core.regularisation import BNConfig, FitConfig, ScaleConfig, Variant
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("one_torch_thread")
F64 = torch.float64
TINY = FitConfig.tiny()  # 12 points, 8 units, 200 steps


def g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- penalties


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_penalty_gradient_matches_autograd(kind):
    w = torch.randn(3, 40, generator=g(), dtype=F64)
    w[0, :5] = 0.0  # |w| at 0: autograd's 0 and sign(0) = 0 agree
    wr = w.clone().requires_grad_()
    R.penalty(wr, kind).sum().backward()
    np.testing.assert_allclose(R.penalty_grad(w, kind).numpy(), wr.grad.numpy(), rtol=0, atol=1e-15)
    expected = 0.5 * (w**2).sum(1) if kind == "l2" else w.abs().sum(1)
    np.testing.assert_allclose(R.penalty(w, kind).numpy(), expected.numpy(), rtol=1e-14)


def test_soft_threshold_is_the_proximal_step_of_l1():
    u = torch.linspace(-2, 2, 81, dtype=F64)
    t = 0.7
    grid = torch.linspace(-3, 3, 600_001, dtype=F64)  # brute force: argmin_w ½(w − u)² + t|w|
    brute = grid[(0.5 * (grid[None] - u[:, None]) ** 2 + t * grid.abs()[None]).argmin(1)]
    prox = R.soft_threshold(u, t)
    np.testing.assert_allclose(prox.numpy(), brute.numpy(), atol=2e-5)
    assert bool((prox[u.abs() <= t] == 0).all())  # exactly zero, not merely small


def test_decoupled_decay_with_sgd_is_l2_in_the_gradient():
    w, grad = torch.randn(50, generator=g(1), dtype=F64), torch.randn(50, generator=g(2), dtype=F64)
    lr, a = 0.1, 0.3
    np.testing.assert_allclose((R.decay(w, lr, a) - lr * grad).numpy(),
                               (w - lr * (grad + a * R.penalty_grad(w, "l2"))).numpy(), rtol=1e-14)  # fmt: skip


# ---------------------------------------------------------------- the network and its training


@pytest.mark.parametrize("data", ["curve", "moons"])
def test_hand_written_backward_matches_autograd_with_dropout_masks(data):
    cfg = FitConfig(data=data, n=16, width=6)
    d, H = cfg.d_in, cfg.width
    D = R.make_data(cfg.data, cfg.n, cfg.noise, 0)
    theta = torch.randn(3, R.n_params(d, H), generator=g(3), dtype=F64)
    masks = R._scaled_masks(torch.tensor([0.0, 0.3, 0.6], dtype=F64), 3, cfg.n, H, g(4))
    loss, grad = R.gradient(theta, D.X_train, D.y_train, d, H, cfg.task, masks)
    th = theta.clone().requires_grad_()
    ref = R.data_loss(cfg.task, R.forward(th, D.X_train, d, H, masks)[0], D.y_train)
    ref.sum().backward()
    np.testing.assert_allclose(loss.numpy(), ref.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(grad.numpy(), th.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_torch_net_holds_the_same_function():
    cfg = FitConfig(data="moons", n=16, width=5)
    D = R.make_data(cfg.data, cfg.n, cfg.noise, 0)
    theta = R.init_theta(2, 5, 7)
    net = R.torch_net(cfg, theta)
    np.testing.assert_allclose(net(D.X_test).detach().numpy()[:, 0],
                               R.forward(theta[None], D.X_test, 2, 5)[0][0, :, 0].numpy(), rtol=1e-12)  # fmt: skip
    np.testing.assert_array_equal(R.torch_flat(net), theta.numpy())


CASES = [("sgd", "none"), ("sgd", "l2"), ("sgd", "decay"), ("sgd", "l1"),
         ("adam", "none"), ("adam", "l2"), ("adam", "decay"), ("adam", "l1")]  # fmt: skip


@pytest.mark.parametrize("opt,penalty", CASES, ids=[f"{o}-{p}" for o, p in CASES])
@pytest.mark.parametrize("data", ["curve", "moons"])
def test_training_matches_nn_and_torch_optim(opt, penalty, data):
    """L2 = torch.optim's weight_decay, decay with Adam = torch.optim.AdamW, L1 = α‖w‖₁ in
    the loss under autograd; biases never penalised."""
    lr = 0.1 if opt == "sgd" else 0.01
    cfg = FitConfig(
        data=data, n=12, width=6, optimizer=opt, lr=lr, steps=40, penalty=penalty, alpha=0.05
    )
    mine = R.train(cfg).theta[0]
    ref = R.reference_run(cfg, Variant(penalty, 0.05 if penalty != "none" else 0.0), opt, 40)
    np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-11)


def test_adamw_and_adam_with_l2_differ_but_sgd_does_not():
    cfg = FitConfig(n=12, width=8, steps=150, alpha=0.01)
    runs = R.decoupling(cfg)
    sgd, adam = runs["sgd"], runs["adam"]
    assert np.abs(sgd.theta[0] - sgd.theta[1]).max() < 1e-12  # one update, two writings
    assert np.abs(adam.theta[0] - adam.theta[1]).max() > 1e-2  # L2 goes through √ŝ, decay not
    # AdamW's last step: weights decayed by exactly (1 − ηα) before Adam's own step, biases not
    mask = R.weight_mask(1, 8).numpy() > 0
    last = adam.last
    np.testing.assert_allclose(
        last["decayed"][1][mask], (1 - cfg.lr * cfg.alpha) * last["theta_prev"][1][mask], rtol=1e-14
    )
    np.testing.assert_array_equal(last["decayed"][1][~mask], last["theta_prev"][1][~mask])
    # Adam + L2's gradient carries α w: g_pen = α w on the weights
    np.testing.assert_allclose(
        last["g_pen"][0][mask], cfg.alpha * last["theta_prev"][0][mask], rtol=1e-14
    )
    # with these data Adam + L2 shrinks the weights far more than AdamW at the same α
    assert np.linalg.norm(R.weights(adam, 0)) < 0.8 * np.linalg.norm(R.weights(adam, 1))


def test_l1_proximal_step_gives_exact_zeros_the_subgradient_does_not():
    base = dict(n=20, width=32, optimizer="sgd", lr=0.3, steps=1000, alpha=0.01)
    prox = R.weights(R.train(FitConfig(penalty="l1_prox", **base)))
    sub = R.weights(R.train(FitConfig(penalty="l1", **base)))
    assert (prox == 0).mean() > 0.9
    assert (sub == 0).sum() == 0 and (np.abs(sub) < 1e-3).sum() > 50  # tiny, jittering, not 0


def test_batched_models_equal_single_runs():
    """The sweep's models share θ₀, data and uniform numbers but nothing else."""
    variants = (Variant("l2", 0.01, 0.2), Variant("decay", 0.03, 0.5), Variant("l1", 0.003, 0.0))
    both = R.train(TINY, variants)
    for m, v in enumerate(variants):
        one = R.train(
            FitConfig(**{**TINY.__dict__, "penalty": v.penalty, "alpha": v.alpha, "p": v.p})
        )
        np.testing.assert_allclose(both.theta[m], one.theta[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(both.test[m], one.test[0], rtol=1e-12)


def test_same_config_same_numbers():
    a, b = (
        R.train(FitConfig(n=10, width=8, steps=100, p=0.3)),
        R.train(FitConfig(n=10, width=8, steps=100, p=0.3)),
    )
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.test, b.test)


def test_default_overfits_and_penalties_cure_it():
    res = R.train(FitConfig())
    assert res.train[0, -1] < 0.05 and res.test[0, -1] > 2 * res.at_best(res.test)[0]  # the gap
    for kw in (dict(penalty="l2", alpha=0.003), dict(p=0.1)):
        cured = R.train(FitConfig(**kw))
        assert cured.test[0, -1] < 0.6 * res.test[0, -1], kw


# ---------------------------------------------------------------- early stopping


def test_restored_weights_are_the_best_validation_checkpoint():
    res = R.train(FitConfig(steps=600))
    b = int(res.best[0])
    assert b == int(np.argmin(res.val[0])) and 0 < res.best_step[0] < 600
    again = R.train(FitConfig(steps=int(res.best_step[0])))  # train exactly k* steps
    np.testing.assert_array_equal(res.theta_best[0], again.theta[0])
    np.testing.assert_allclose(again.val[0, -1], res.val[0, b], rtol=1e-14)
    d = R.make_data("curve", 20, 0.3, 0)
    pred = R.predict(torch.as_tensor(res.theta_best), d.grid, 1, 32, "regression")[0].numpy()
    np.testing.assert_array_equal(res.pred_best[0], pred)


def test_early_stopping_is_as_good_as_the_best_alpha():
    """The benchmark's claim at the page's defaults: within 5% of the best α's test loss."""
    rec = {r["task"]: r for r in R.bench()}
    assert rec["early_stopping_vs_l2"]["value"] <= 1.05
    assert rec["batch_norm_deep_sigmoid"]["reached"]


def test_distance_from_init_is_recorded():
    res = R.train(TINY)
    assert res.dist[0, 0] == 0.0
    np.testing.assert_allclose(
        res.dist[0, -1], np.linalg.norm(res.theta[0] - res.theta0), rtol=1e-12
    )


# ---------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_inverted_dropout_matches_nn_dropout_with_the_same_mask(p):
    x = (
        torch.rand(4000, generator=g(), dtype=F64) + 0.5
    )  # never 0: the kept units show in torch's output
    torch.manual_seed(1234)
    layer = torch.nn.Dropout(p)
    y = layer.train()(x)
    r = (y != 0).to(F64)
    np.testing.assert_allclose(R.dropout(x, r, p).numpy(), y.numpy(), rtol=1e-15)
    assert torch.equal(layer.eval()(x), x)  # evaluation: no mask, no scaling, as predict()


def test_dropout_mask_is_bernoulli_and_keeps_the_expectation():
    p, h = 0.3, torch.linspace(-1, 1, 7, dtype=F64)
    r = R.dropout_mask((200_000, 7), p, g(5))
    assert abs(float(r.mean()) - (1 - p)) < 0.005
    np.testing.assert_allclose(R.dropout(h, r, p).mean(0).numpy(), h.numpy(), atol=0.01)


def test_monte_carlo_average_is_exact_for_a_linear_readout():
    """For dropout before a linear layer the mean of masked outputs is the evaluation output."""
    h = torch.randn(30, 10, generator=g(6), dtype=F64)
    w = torch.randn(10, generator=g(7), dtype=F64)
    T, p = 20_000, 0.4
    outs = torch.stack([R.dropout(h, R.dropout_mask(h.shape, p, gen), p) @ w
                        for gen in [g(8)] for _ in range(T)])  # fmt: skip
    se = outs.std(0) / math.sqrt(T)
    assert bool(((outs.mean(0) - h @ w).abs() < 5 * se).all())


def test_monte_carlo_of_the_trained_network():
    sweep = R.p_sweep(FitConfig(n=12, width=8, steps=150))
    assert R.monte_carlo(sweep, 0).gap < 1e-14  # p = 0: every mask keeps everything
    mc = R.monte_carlo(sweep, 3, T=400)  # p = 0.3
    assert mc.std.mean() > 0.01  # the masks differ
    assert mc.gap < 0.25 * float(np.abs(mc.eval).mean())  # the ensemble is near evaluation mode
    one = R.dropout_step(sweep, 3, sample=2, seed=9)
    np.testing.assert_allclose(one.h1_drop, one.r1 * one.h1 / 0.7, rtol=1e-14)


# ---------------------------------------------------------------- batch norm


def test_batch_norm_matches_nn_batchnorm1d_in_both_modes():
    H = 5
    bn = torch.nn.BatchNorm1d(H, dtype=F64)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(H, generator=g(1), dtype=F64))
        bn.bias.copy_(torch.randn(H, generator=g(2), dtype=F64))
    run_mu, run_var = torch.zeros(H, dtype=F64), torch.ones(H, dtype=F64)
    bn.train()
    for i, B in enumerate((8, 3, 16, 2)):
        a = 3 * torch.randn(B, H, generator=g(10 + i), dtype=F64) + 1
        y, mu, var, _a_hat = R.batch_norm_train(a, bn.weight.detach(), bn.bias.detach())
        np.testing.assert_allclose(y.numpy(), bn(a).detach().numpy(), rtol=1e-12, atol=1e-13)
        run_mu, run_var = R.running_update(run_mu, run_var, mu, var, B)
        np.testing.assert_allclose(run_mu.numpy(), bn.running_mean.numpy(), rtol=1e-13)
        np.testing.assert_allclose(run_var.numpy(), bn.running_var.numpy(), rtol=1e-13)  # unbiased
    bn.eval()
    a = torch.randn(6, H, generator=g(20), dtype=F64)
    mine = R.batch_norm_eval(a, bn.weight.detach(), bn.bias.detach(), run_mu, run_var)
    np.testing.assert_allclose(mine.numpy(), bn(a).detach().numpy(), rtol=1e-12, atol=1e-13)


def test_batch_norm_gradient_matches_torch():
    a = torch.randn(7, 4, generator=g(3), dtype=F64)
    gamma, beta = (
        torch.rand(4, generator=g(4), dtype=F64) + 0.5,
        torch.randn(4, generator=g(5), dtype=F64),
    )
    w = torch.randn(7, 4, generator=g(6), dtype=F64)
    mine = [t.clone().requires_grad_() for t in (a, gamma, beta)]
    ref = [t.clone().requires_grad_() for t in (a, gamma, beta)]
    (R.batch_norm_train(*mine)[0] * w).sum().backward()
    (
        torch.nn.functional.batch_norm(
            ref[0], None, None, ref[1], ref[2], training=True, eps=R.BN_EPS
        )
        * w
    ).sum().backward()
    for x, y in zip(mine, ref, strict=True):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def bn_default():
    return R.train_bn(BNConfig())


def test_deep_sigmoid_network_trains_with_batch_norm_and_stalls_without(bn_default):
    a, b = bn_default.with_bn, bn_default.without
    assert a.test_acc > 0.9 and b.test_acc < 0.6
    assert np.mean(b.loss[-20:]) > 0.95 * math.log(2)  # a coin flip
    assert a.grad_norms[0] > 100 * b.grad_norms[0]  # the vanishing gradient at layer 1
    assert "ln 2" in R.bn_diagnose(bn_default)


def test_batch_norm_walk_and_the_two_modes(bn_default):
    w = R.bn_walk(bn_default, 3)
    np.testing.assert_allclose(w.mu, w.a.mean(), rtol=1e-12)
    np.testing.assert_allclose(w.var, w.a.var(), rtol=1e-12)
    np.testing.assert_allclose(w.a_hat, (w.a - w.mu) / np.sqrt(w.var + R.BN_EPS), rtol=1e-12)
    np.testing.assert_allclose(w.y, w.gamma * w.a_hat + w.beta, rtol=1e-12)
    np.testing.assert_allclose(
        w.y_eval, w.gamma * (w.a - w.run_mu) / np.sqrt(w.run_var + R.BN_EPS) + w.beta, rtol=1e-12
    )
    gap = R.mode_gap(bn_default)
    diff = np.abs(gap.train_mode - gap.eval_mode)
    assert diff[0] > 3 * diff[-1]  # |B| = 2 disagrees far more than |B| = 128


def test_a_large_step_diverges_without_batch_norm():
    res = R.train_bn(BNConfig(depth=4, activation="tanh", lr=30.0, steps=60, n=64))
    assert res.without.diverged_at is not None or np.mean(res.without.loss[-10:]) > 2.0


# ---------------------------------------------------------------- standardising inputs


def test_condition_number_before_and_after_standardising():
    res = R.scaling(ScaleConfig(scale=10.0, rho=0.0, steps=100))
    assert 70 < res.raw.kappa < 140 and res.std.kappa < 1.3  # κ ≈ scale², then ≈ 1
    assert res.std.steps_to is not None and res.std.steps_to <= 3 and res.raw.steps_to is None
    corr = R.scaling(ScaleConfig(scale=1.0, rho=0.8))
    assert abs(corr.std.kappa - 9.0) < 3.0  # (1 + ρ)/(1 − ρ): standardising leaves correlation
    X = torch.randn(50, 2, generator=g(), dtype=F64) * torch.tensor([1.0, 7.0], dtype=F64)
    Xs, _mean, _std = R.standardise(X)
    np.testing.assert_allclose(Xs.mean(0).numpy(), 0, atol=1e-14)
    np.testing.assert_allclose(Xs.std(0, unbiased=False).numpy(), 1, rtol=1e-13)
    H = (X.T @ X / 50).numpy()
    ev = np.linalg.eigvalsh(H)
    assert R.condition_number(torch.as_tensor(H)) == pytest.approx(ev[-1] / ev[0], rel=1e-12)


def test_gradient_descent_path_matches_torch_optim_sgd():
    cfg = ScaleConfig(scale=3.0, rho=0.3, steps=30, n=40)
    res = R.scaling(cfg)
    gen = torch.Generator().manual_seed(cfg.seed + 29)  # the same data as R.scaling draws
    z = torch.randn(cfg.n, 2, generator=gen, dtype=F64)
    z[:, 1] = cfg.rho * z[:, 0] + math.sqrt(1 - cfg.rho**2) * z[:, 1]
    y = z @ torch.tensor(R.W_TRUE, dtype=F64) + 0.1 * torch.randn(cfg.n, generator=gen, dtype=F64)
    X = z * torch.tensor([1.0, cfg.scale], dtype=F64)
    np.testing.assert_allclose(res.raw.H, (X.T @ X / cfg.n).numpy(), rtol=1e-13)
    w = torch.zeros(2, dtype=F64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=res.raw.lr)
    for _ in range(cfg.steps):
        opt.zero_grad()
        (((X @ w - y) ** 2).mean() / 2).backward()
        opt.step()
    np.testing.assert_allclose(res.raw.path[-1], w.detach().numpy(), rtol=1e-11)
    assert res.raw.rate == pytest.approx(1 - cfg.c / res.raw.kappa, rel=1e-12)


def test_a_step_above_two_over_lambda_max_diverges():
    res = R.scaling(ScaleConfig(c=2.2, steps=500))
    assert res.raw.diverged_at is not None and res.std.diverged_at is not None


# ---------------------------------------------------------------- bias and variance


def test_bias_variance_decomposition_and_its_u_shape():
    bv = R.bias_variance(20, 0.3, datasets=200)
    low = slice(0, 7)  # beyond, the variance of near-interpolation is too heavy-tailed to estimate
    np.testing.assert_allclose(bv.expected[low], bv.test[low], rtol=0.15)
    best = int(np.argmin(bv.test))
    assert 2 <= best <= 7 and bv.test[0] > 2 * bv.test[best] and bv.test[-1] > 2 * bv.test[best]
    assert bv.bias2[0] > 10 * bv.bias2[best] and bv.variance[-1] > 10 * bv.variance[1]
    assert np.all(np.diff(bv.train) <= 1e-12)  # more capacity never fits the training set worse


def test_legendre_basis_and_polyfit():
    x = torch.linspace(-1, 1, 9, dtype=F64)
    L = R.legendre(x, 5)
    ref = torch.stack([torch.special.legendre_polynomial_p(x, k) for k in range(6)], 1)
    np.testing.assert_allclose(L.numpy(), ref.numpy(), atol=1e-14)
    y = torch.sin(3 * x)
    c = torch.linalg.lstsq(L[:, :4], y[:, None]).solution[:, 0]
    np.testing.assert_allclose(
        (L[:, :4] @ c).numpy(),
        np.polyval(np.polyfit(x.numpy(), y.numpy(), 3), x.numpy()),
        atol=1e-12,
    )


# ---------------------------------------------------------------- bounds, divergence, imports


@pytest.mark.parametrize(
    "make",
    [lambda: FitConfig(n=2), lambda: FitConfig(width=1000), lambda: FitConfig(p=0.95),
     lambda: FitConfig(penalty="l3"), lambda: FitConfig(steps=10**6), lambda: FitConfig(lr=math.nan),
     lambda: FitConfig(data="spiral"), lambda: BNConfig(depth=50), lambda: BNConfig(batch=1),
     lambda: ScaleConfig(c=10.0), lambda: ScaleConfig(rho=1.0), lambda: Variant("l2", -1.0)],
)  # fmt: skip
def test_bad_configs_are_rejected_with_a_message(make):
    with pytest.raises(ValueError, match="must be"):
        make()


def test_divergence_is_reported_and_explained():
    res = R.train(FitConfig(optimizer="sgd", lr=5.0, steps=200))
    assert res.diverged_at[0] is not None and "learning rate" in R.diagnose(res)
    assert np.isfinite(res.pred_best).all()  # the checkpoint before it is still there
    decay = R.train(FitConfig(optimizer="sgd", lr=0.5, penalty="l2", alpha=5.0, steps=200))
    assert decay.diverged_at[0] is not None and "1 − ηα" in R.diagnose(decay)
    assert R.diagnose(R.train(TINY)) is None


def test_page_checks_are_tiny():
    ck = R.checks(FitConfig(n=12, width=8, penalty="decay", alpha=0.01))
    assert ck.gradient < 1e-12 and ck.optimizer < 1e-10 and ck.reference == "torch.optim.AdamW"


def test_imports_neither_streamlit_nor_plotly():
    code = "import sys, dl_core.regularisation; print('streamlit' in sys.modules or 'plotly' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
