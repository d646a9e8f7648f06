"""dl_core.optim: surfaces vs autograd, optimizers vs torch.optim, divergence, validation."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dl_core import optim
from dl_core.optim import OPTIMIZERS, SURFACES, OptimConfig, RunConfig, SurfaceConfig

SURFACE_CFGS = [SurfaceConfig(s) for s in SURFACES] + [SurfaceConfig("quadratic", 37.0, 30.0)]
# A learning rate per optimizer that stays stable on every surface from its default start.
SAFE_LR = {"sgd": 1e-3, "momentum": 5e-4, "nesterov": 5e-4, "adagrad": 0.1, "rmsprop": 0.01,
           "adam": 0.05, "adamw": 0.05}  # fmt: skip


@pytest.mark.parametrize("surface", SURFACE_CFGS, ids=lambda s: f"{s.name}-{s.condition}")
def test_analytic_gradient_matches_autograd(surface):
    g = torch.Generator().manual_seed(0)
    info = optim.surface_info(surface)
    lo = torch.tensor([info.xlim[0], info.ylim[0]], dtype=torch.float64)
    hi = torch.tensor([info.xlim[1], info.ylim[1]], dtype=torch.float64)
    theta = (lo + (hi - lo) * torch.rand(50, 2, generator=g, dtype=torch.float64)).requires_grad_()
    optim.value(surface, theta).sum().backward()
    np.testing.assert_allclose(
        optim.gradient(surface, theta.detach()).numpy(), theta.grad.numpy(), rtol=1e-10, atol=1e-9
    )


@pytest.mark.parametrize("surface", SURFACE_CFGS, ids=lambda s: f"{s.name}-{s.condition}")
def test_hessian_matches_central_differences_of_gradient(surface):
    p = np.array([0.3, -0.7])
    h = 1e-5
    fd = np.zeros((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        gp = optim.gradient(surface, torch.tensor(p + e)).numpy()
        gm = optim.gradient(surface, torch.tensor(p - e)).numpy()
        fd[:, j] = (gp - gm) / (2 * h)
    np.testing.assert_allclose(optim.hessian(surface, tuple(p)), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kappa,angle", [(1.0, 0.0), (10.0, 0.0), (50.0, 35.0)])
def test_quadratic_curvature_is_one_and_kappa(kappa, angle):
    lo, hi = optim.curvature(SurfaceConfig("quadratic", kappa, angle), (0.4, -1.0))
    assert lo == pytest.approx(1.0, rel=1e-12)
    assert hi == pytest.approx(kappa, rel=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("surface", SURFACE_CFGS, ids=lambda s: f"{s.name}-{s.condition}")
def test_hand_written_optimizer_matches_torch_optim_step_for_step(name, surface):
    cfg = RunConfig(
        surface, OptimConfig(name, lr=SAFE_LR[name]), optim.surface_info(surface).start, 150
    )
    mine = optim.run(cfg)
    assert mine.diverged_at is None
    ref = optim.run_reference(cfg)
    assert mine.theta.shape == ref.shape == (151, 2)
    np.testing.assert_allclose(mine.theta, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_update_terms_are_consistent_with_the_formula(name):
    """The numbers the page substitutes satisfy the equations it shows."""
    lr = 0.005 if name in ("sgd", "momentum", "nesterov") else 0.05
    o = OptimConfig(name, lr=lr, momentum=0.8, beta1=0.85, beta2=0.99, alpha=0.9, eps=1e-6)
    t = optim.run(RunConfig(SurfaceConfig("himmelblau"), o, (0.5, -0.5), 12))
    assert t.diverged_at is None
    T, th = t.terms, t.theta
    for k in range(1, 13):
        g = T["g"][k - 1]
        np.testing.assert_allclose(
            g, optim.gradient(SurfaceConfig("himmelblau"), torch.tensor(th[k - 1])).numpy()
        )
        np.testing.assert_allclose(th[k], th[k - 1] + T["delta"][k - 1], rtol=1e-12, atol=1e-14)
        prev = lambda n, k=k: T[n][k - 2] if k > 1 else np.zeros(2)  # noqa: E731
        if name in ("momentum", "nesterov"):
            np.testing.assert_allclose(T["v"][k - 1], 0.8 * prev("v") + g)
        if name == "adagrad":
            np.testing.assert_allclose(T["G"][k - 1], prev("G") + g * g)
            np.testing.assert_allclose(T["delta"][k - 1], -lr * g / (np.sqrt(T["G"][k - 1]) + 1e-6))
        if name == "rmsprop":
            np.testing.assert_allclose(T["s"][k - 1], 0.9 * prev("s") + 0.1 * g * g)
        if name in ("adam", "adamw"):
            np.testing.assert_allclose(T["m"][k - 1], 0.85 * prev("m") + 0.15 * g)
            np.testing.assert_allclose(T["s"][k - 1], 0.99 * prev("s") + 0.01 * g * g)
            np.testing.assert_allclose(T["m_hat"][k - 1], T["m"][k - 1] / (1 - 0.85**k))
            np.testing.assert_allclose(T["s_hat"][k - 1], T["s"][k - 1] / (1 - 0.99**k))


def test_sgd_diverges_just_above_two_over_L_and_converges_below():
    quad = SurfaceConfig("quadratic", 10.0, 0.0)
    above = optim.run(RunConfig(quad, OptimConfig("sgd", lr=0.25), (-2.5, 1.5), 200))
    below = optim.run(RunConfig(quad, OptimConfig("sgd", lr=0.15), (-2.5, 1.5), 200))
    # Error along the steep axis grows by |1 - 0.25*10| = 1.5 per step from 1.5 to 1e6:
    expected = math.log(optim.DIVERGENCE_RADIUS / 1.5) / math.log(1.5)  # about 33
    assert above.diverged_at is not None
    assert abs(above.diverged_at - expected) <= 2
    assert np.isfinite(above.theta).all()
    assert below.diverged_at is None
    assert below.loss[-1] < 1e-6
    assert r"exceeds $2/\lambda_{\max} = 0.2$" in optim.diagnose(above)
    assert r"|1 - \eta\lambda_{\max}| = 1.5 > 1" in optim.diagnose(above)
    assert optim.diagnose(below) is None


def test_overflow_to_inf_is_reported_not_raised():
    t = optim.run(RunConfig(SurfaceConfig("beale"), OptimConfig("sgd", lr=10.0), (1.0, 1.5), 100))
    assert t.diverged_at is not None and t.diverged_at <= 5
    assert np.isfinite(t.theta).all() and np.isfinite(t.loss).all()
    assert "diverged at step" in optim.diagnose(t)


def test_momentum_beats_sgd_in_a_narrow_valley():
    quad = SurfaceConfig("quadratic", 50.0, 0.0)
    sgd = optim.run(RunConfig(quad, OptimConfig("sgd", lr=0.03), (-2.5, 1.5), 150))
    mom = optim.run(
        RunConfig(quad, OptimConfig("momentum", lr=0.03, momentum=0.8), (-2.5, 1.5), 150)
    )
    assert sgd.diverged_at is None and mom.diverged_at is None
    assert mom.loss[-1] < 1e-3 * sgd.loss[-1]


def test_adam_solves_rosenbrock():
    t = optim.run(
        RunConfig(SurfaceConfig("rosenbrock"), OptimConfig("adam", lr=0.2), (-1.2, 1.0), 500)
    )
    assert t.loss[-1] < 1e-3
    np.testing.assert_allclose(t.theta[-1], [1.0, 1.0], atol=0.1)


def test_runs_are_deterministic():
    cfg = RunConfig(SurfaceConfig("himmelblau"), OptimConfig("adam", lr=0.1), (0.0, 0.0), 200)
    a, b = optim.run(cfg), optim.run(cfg)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.device == "cpu"


@pytest.mark.parametrize(
    "make",
    [
        lambda: SurfaceConfig("banana"),
        lambda: SurfaceConfig("quadratic", condition=0.5),
        lambda: OptimConfig("sgd", lr=-1.0),
        lambda: OptimConfig("lbfgs"),
        lambda: OptimConfig("adam", beta1=1.0),
        lambda: OptimConfig("sgd", lr=float("nan")),
        lambda: RunConfig(steps=0),
        lambda: RunConfig(steps=optim.MAX_STEPS + 1),
        lambda: RunConfig(start=(float("inf"), 0.0)),
    ],
)
def test_bad_configs_are_rejected_with_a_message(make):
    with pytest.raises(ValueError, match="must be"):
        make()


@example(surface="beale", name="sgd", lr=3.0, mu=0.0, x=4.0, y=4.0, steps=2)  # loss overflowed
@settings(max_examples=60, deadline=None)
@given(
    surface=st.sampled_from(SURFACES),
    name=st.sampled_from(OPTIMIZERS),
    lr=st.floats(1e-4, 10.0),
    mu=st.floats(0.0, 0.99),
    x=st.floats(-4.5, 4.5),
    y=st.floats(-4.5, 4.5),
    steps=st.integers(1, 60),
)
def test_any_valid_setting_gives_finite_or_explained_results(surface, name, lr, mu, x, y, steps):
    t = optim.run(
        RunConfig(SurfaceConfig(surface), OptimConfig(name, lr=lr, momentum=mu), (x, y), steps)
    )
    assert np.isfinite(t.theta).all() and np.isfinite(t.loss).all()
    if t.diverged_at is None:
        assert len(t.theta) == steps + 1
    else:
        assert 1 <= t.diverged_at <= steps
        assert optim.diagnose(t).startswith(optim.OPTIMIZER_LABELS[name])


# ---------------------------------------------------------------- rates on the quadratic
def error_rate(traj: optim.Trajectory) -> float:
    """The rate a run achieved, measured here independently of ``optim.measured_rate``: the
    geometric mean of |e_k| / |e_{k-1}| over the second half of the run (e = theta, theta* = 0;
    hypot, as the errors fall below 1e-160 and their squares would underflow)."""
    e = np.hypot(traj.theta[:, 0], traj.theta[:, 1])
    half = (len(e) - 1) // 2
    return float(np.exp(np.mean(np.log(e[half + 1 :] / e[half:-1]))))


@pytest.mark.parametrize(
    "kappa,angle,lr,beta",
    [
        (10.0, 0.0, 0.05, 0.9),  # the page's default: complex roots, rate sqrt(beta)
        (10.0, 30.0, 0.05, 0.1),  # real roots
        (9.0, 0.0, 0.25, 0.25),  # the optimum: double roots
        (50.0, -20.0, 0.03, 0.8),  # the "Narrow valley" preset
        (10.0, 0.0, 0.15, 0.5),
        (10.0, 0.0, 0.38, 0.95),  # close to the edge 2(1 + beta)/lambda_max = 0.39
        (100.0, 45.0, 0.035, 0.7),  # beyond the edge: it grows at the predicted rate
        (4.0, 10.0, 0.9, 0.3),
        (10.0, 0.0, 0.12, 0.0),  # beta = 0: plain gradient descent
    ],
)
def test_closed_form_momentum_rate_matches_running_heavy_ball(kappa, angle, lr, beta):
    """The map's rate (closed form, M_lambda of torch's form) is the rate at which the error of
    the hand-written momentum, checked step for step against torch.optim.SGD, shrinks."""
    t = optim.run(
        RunConfig(SurfaceConfig("quadratic", kappa, angle), OptimConfig("momentum", lr=lr, momentum=beta), (-2.5, 1.5), 600)
    )  # fmt: skip
    predicted = float(optim.momentum_rate(lr, beta, 1.0, kappa))
    assert (t.diverged_at is not None) == (predicted > 1)
    assert error_rate(t) == pytest.approx(predicted, rel=0.01)
    assert optim.measured_rate(t) == pytest.approx(predicted, rel=0.01)


def test_momentum_rate_is_the_spectral_radius_of_the_iteration_matrix():
    rng = np.random.default_rng(0)
    for _ in range(500):
        lr, beta, lam = rng.uniform(0, 1), rng.uniform(0, 0.999), rng.uniform(0.1, 5)
        M = optim.momentum_matrix(lr, beta, lam)
        radius = np.abs(np.linalg.eigvals(M)).max()
        assert float(optim.momentum_rate(lr, beta, lam, lam)) == pytest.approx(radius, rel=1e-6)
    # M_lambda is the two-step recursion of torch's form: e_{k+1} = (1 + beta - lr lam) e_k - beta e_{k-1}
    lr, beta, lam = 0.3, 0.6, 2.0
    e = [1.0, 1.0 - lr * lam * 1.0]  # e_0, e_1 (v_0 = 0, v_1 = lam e_0)
    v = lam * 1.0
    for _ in range(5):
        v = beta * v + lam * e[-1]
        e.append(e[-1] - lr * v)
    for k in range(1, 6):
        np.testing.assert_allclose(
            optim.momentum_matrix(lr, beta, lam) @ [e[k], e[k - 1]], [e[k + 1], e[k]]
        )


def test_beta_zero_is_gradient_descent_and_gd_rate_matches_sgd_runs():
    lrs = np.linspace(0, 0.3, 301)
    np.testing.assert_allclose(
        optim.momentum_rate(lrs, 0.0, 1.0, 10.0), optim.gd_rate(lrs, 1.0, 10.0)
    )
    for lr in (0.02, 0.1, 0.19):
        t = optim.run(
            RunConfig(
                SurfaceConfig("quadratic", 10.0, 25.0), OptimConfig("sgd", lr=lr), (-2.5, 1.5), 300
            )
        )
        assert error_rate(t) == pytest.approx(float(optim.gd_rate(lr, 1.0, 10.0)), rel=1e-3)  # fmt: skip


@pytest.mark.parametrize("kappa", [1.5, 10.0, 100.0, 2500.0])
def test_gd_optimum_minimises_the_rate(kappa):
    lr_best, rate_best = optim.gd_optimum(1.0, kappa)
    assert lr_best == pytest.approx(2 / (kappa + 1)) and rate_best == pytest.approx(
        (kappa - 1) / (kappa + 1)
    )
    lrs = np.linspace(0, 2.5 / kappa, 20001)
    rates = optim.gd_rate(lrs, 1.0, kappa)
    assert rates.min() >= rate_best - 1e-12
    assert lrs[rates.argmin()] == pytest.approx(lr_best, abs=2 * (lrs[1] - lrs[0]))
    assert float(optim.gd_rate(lr_best, 1.0, kappa)) == pytest.approx(rate_best, rel=1e-12)


@pytest.mark.parametrize("lam_min,lam_max", [(1.0, 2.0), (1.0, 9.0), (0.5, 50.0), (1.0, 100.0)])
def test_momentum_optimum_minimises_the_map(lam_min, lam_max):
    lr_best, beta_best, rate_best = optim.momentum_optimum(lam_min, lam_max)
    rk = np.sqrt(lam_max / lam_min)
    assert rate_best == pytest.approx((rk - 1) / (rk + 1))
    assert float(optim.momentum_rate(lr_best, beta_best, lam_min, lam_max)) == pytest.approx(
        rate_best, rel=1e-6
    )
    m = optim.rate_map(lam_min, lam_max)  # the page's grid
    assert m.rate.shape == (200, 200) and m.rate.min() >= rate_best - 1e-9
    # a fine grid around the optimum: nothing beats it, and the best cell is next to it
    lrs = np.linspace(0.5 * lr_best, 1.5 * lr_best, 801)
    betas = np.linspace(max(0.0, beta_best - 0.2), min(0.999, beta_best + 0.2), 801)
    rates = optim.momentum_rate(lrs[None, :], betas[:, None], lam_min, lam_max)
    assert rates.min() >= rate_best - 1e-9
    i, j = np.unravel_index(rates.argmin(), rates.shape)
    assert lrs[j] == pytest.approx(lr_best, rel=0.01) and betas[i] == pytest.approx(
        beta_best, abs=0.01
    )
    # momentum at its best beats gradient descent at its best
    assert rate_best < optim.gd_optimum(lam_min, lam_max)[1]


def test_the_map_diverges_exactly_beyond_two_one_plus_beta_over_lambda_max():
    m = optim.rate_map(1.0, 10.0)
    edge = 2 * (1 + m.betas[:, None]) / 10.0  # (n_beta, 1)
    far = np.abs(m.lrs[None, :] - edge) > 1e-9
    assert ((m.rate >= 1) == (m.lrs[None, :] >= edge))[far & (m.lrs[None, :] > 0)].all()
    assert np.isclose(m.lrs[-1], 4 / 10.0) and np.isclose(m.betas[-1], 0.99)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov"])
def test_stability_limits_match_runs(name):
    quad = SurfaceConfig("quadratic", 10.0, 15.0)
    limit = optim.stability_limit(name, 0.6, 10.0)
    below = optim.run(
        RunConfig(quad, OptimConfig(name, lr=0.95 * limit, momentum=0.6), (-2.5, 1.5), 2000)
    )
    above = optim.run(
        RunConfig(quad, OptimConfig(name, lr=1.05 * limit, momentum=0.6), (-2.5, 1.5), 2000)
    )
    assert below.diverged_at is None and np.abs(below.theta[-1]).max() < 1e-3
    assert above.diverged_at is not None
    text = optim.diagnose(above)
    assert f"= {limit:.4g}$" in text and "largest eigenvalue of $H$" in text  # fmt: skip
    assert optim.stability_limit("adam", 0.6, 10.0) is None


def test_momentum_divergence_names_its_own_limit_not_two_over_lambda_max():
    t = optim.run(
        RunConfig(
            SurfaceConfig("quadratic", 10.0),
            OptimConfig("momentum", lr=0.4, momentum=0.9),
            (-2.5, 1.5),
            200,
        )
    )
    assert t.diverged_at is not None
    assert r"exceeds $2(1+\beta)/\lambda_{\max} = 0.38$" in optim.diagnose(t)  # fmt: skip
    # adaptive steps are about eta long whatever the curvature: no curvature limit is named
    adam = optim.run(
        RunConfig(SurfaceConfig("quadratic", 10.0), OptimConfig("adam", lr=5.0), (-2.5, 1.5), 20)
    )
    text = optim.diagnose(dataclasses.replace(adam, diverged_at=20))
    assert text.startswith("Adam diverged at step 20") and "lambda" not in text


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_in_place_update_matches_step_and_torch_optim(name):
    """``update_`` (the GAN's and the playground's path) = ``step`` = torch.optim."""
    o = OptimConfig(name, lr=0.01, momentum=0.8, beta1=0.5, beta2=0.99, alpha=0.9, eps=1e-6)
    theta = torch.randn(30, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    pure, state = theta.clone(), optim.init_state(o, theta)
    ref = theta.clone().requires_grad_()
    torch_opt = optim.reference_optimizer(o, [ref])
    flat = optim.Flat(o)
    for k in range(1, 9):
        g = torch.randn(30, generator=torch.Generator().manual_seed(10 + k), dtype=torch.float64)
        optim.update_(flat, theta, g)
        pure, state, _ = optim.step(o, pure, g, state, k)
        ref.grad = g.clone()
        torch_opt.step()
    assert flat.k == 8
    torch.testing.assert_close(theta, ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(theta, pure, rtol=1e-12, atol=1e-12)
