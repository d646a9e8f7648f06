"""dl_core.optim: surfaces vs autograd, optimizers vs torch.optim, divergence, validation."""

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
    assert "2/L = 0.2" in optim.diagnose(above)
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
