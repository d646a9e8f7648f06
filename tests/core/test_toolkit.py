"""The Math toolkit's core (dl_core.toolkit), each formula against torch.linalg,
torch.autograd, torch.distributions or central finite differences, with tolerances."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, Categorical, Normal, kl_divergence

from dl_core import optim
from dl_core.toolkit import calculus as C
from dl_core.toolkit import information as I
from dl_core.toolkit import linalg as LA
from dl_core.toolkit import probability as P
from tests.conftest import ROOT

# the page's sliders: multiples of 0.05 in [-2, 2]
entry = st.integers(-40, 40).map(lambda k: k * 0.05)
PRESETS = {
    "rotation": (0.8, -0.6, 0.6, 0.8), "shear": (1.0, 1.0, 0.0, 1.0),
    "scaling": (2.0, 0.0, 0.0, 0.5), "projection": (0.5, 0.5, 0.5, 0.5),
    "spd": (2.0, 1.0, 1.0, 1.0), "default": (1.0, 0.8, 0.3, 1.2),
    "mirror": (1.0, 0.0, 0.0, -1.0), "zero": (0.0, 0.0, 0.0, 0.0), "scalar": (1.5, 0, 0, 1.5),
}  # fmt: skip


def test_the_toolkit_imports_neither_streamlit_nor_plotly():
    code = (
        "import dl_core.toolkit.linalg, dl_core.toolkit.calculus, dl_core.toolkit.probability, "
        "dl_core.toolkit.information, sys; print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    assert "'streamlit'" not in out.stdout and "'plotly'" not in out.stdout


# ---------------------------------------------------------------- linear algebra
def _sorted(vals) -> list[complex]:
    return sorted((complex(v) for v in vals), key=lambda z: (round(z.real, 9), round(z.imag, 9)))


@settings(max_examples=300, deadline=None)
@given(entry, entry, entry, entry)
def test_eigenvalues_trace_and_det_match_torch(a, b, c, d):
    A = LA.matrix(a, b, c, d)
    e = LA.eigen(A)
    ref = torch.linalg.eigvals(torch.tensor(A)).numpy()
    for mine, theirs in zip(_sorted(e.values), _sorted(ref), strict=True):
        # a repeated root is ill-conditioned for LAPACK (error ~ √machine eps), not for us
        assert abs(mine - theirs) < 1e-6 * (1 + abs(theirs))
    assert e.det == pytest.approx(float(torch.linalg.det(torch.tensor(A))), abs=1e-12)
    assert e.trace == pytest.approx(a + d, abs=1e-15)
    assert e.real == (e.disc >= 0)
    if e.vectors is not None and not e.scalar:  # A v = λ v, |v| = 1
        for v, lam in zip(e.vectors, e.values, strict=True):
            assert np.linalg.norm(v) == pytest.approx(1.0)
            np.testing.assert_allclose(A @ v, lam.real * v, atol=1e-10)
    if not e.real:  # |λ|² = det, and λ = r e^{iθ}
        assert e.modulus**2 == pytest.approx(e.det, rel=1e-12)
        assert e.values[0] == pytest.approx(e.modulus * complex(math.cos(math.radians(e.angle_deg)), math.sin(math.radians(e.angle_deg))))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(entry, entry, entry, entry)
def test_a_complex_pair_is_a_rotation_in_the_basis_P(a, b, c, d):
    A = LA.matrix(a, b, c, d)
    e = LA.eigen(A)
    P_ = LA.rotation_basis(A, e)
    if e.real:
        assert P_ is None
        return
    re, im = e.values[0].real, abs(e.values[0].imag)
    R = np.array([[re, -im], [im, re]])
    np.testing.assert_allclose(R, e.modulus * LA.rotation(abs(e.angle_deg)), atol=1e-12)
    np.testing.assert_allclose(P_ @ R @ np.linalg.inv(P_), A, atol=1e-9)


def test_eigen_special_cases():
    shear = LA.eigen(LA.matrix(*PRESETS["shear"]))
    assert shear.defective and shear.values == (1.0, 1.0)
    np.testing.assert_allclose(shear.vectors[0], [1.0, 0.0])
    assert LA.eigen(LA.matrix(*PRESETS["scalar"])).scalar
    rot = LA.eigen(LA.rotation(36.8698976458))
    assert not rot.real and rot.modulus == pytest.approx(1) and rot.angle_deg == pytest.approx(36.8698976458)  # fmt: skip
    proj = LA.eigen(LA.matrix(*PRESETS["projection"]))
    assert proj.values == pytest.approx((1.0, 0.0)) and proj.det == 0
    np.testing.assert_allclose(proj.vectors[0], np.array([1, 1]) / math.sqrt(2))
    default = LA.eigen(LA.matrix(*PRESETS["default"]))
    assert default.values == pytest.approx((1.6, 0.6)) and default.det == pytest.approx(0.96)


@settings(max_examples=300, deadline=None)
@given(entry, entry, entry, entry)
def test_closed_form_svd_matches_torch(a, b, c, d):
    A = LA.matrix(a, b, c, d)
    s = LA.svd(A)
    U, S, Vt = (t.numpy() for t in torch.linalg.svd(torch.tensor(A)))
    np.testing.assert_allclose(s.sigma, S, atol=1e-12)
    np.testing.assert_allclose(s.U @ np.diag(s.sigma) @ s.Vt, A, atol=1e-12)
    np.testing.assert_allclose(s.U.T @ s.U, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(s.Vt @ s.Vt.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(s.U, LA.rotation(s.phi_deg), atol=1e-12)  # U is a rotation
    assert s.reflects == (np.linalg.det(s.Vt) < 0)
    if abs(LA.eigen(A).det) > 1e-9:
        assert s.reflects == (LA.eigen(A).det < 0)
    if S[0] - S[1] > 1e-6 and S[1] > 1e-6:  # distinct: the singular vectors agree up to sign
        np.testing.assert_allclose(np.abs(s.U.T @ U), np.eye(2), atol=1e-6)
        np.testing.assert_allclose(np.abs(s.Vt @ Vt.T), np.eye(2), atol=1e-6)
    assert s.rank == int(torch.linalg.matrix_rank(torch.tensor(A)))


@settings(max_examples=200, deadline=None)
@given(entry, entry, entry, entry)
def test_quadratic_form_gradient_hessian_and_curvatures(a, b, c, d):
    A = LA.matrix(a, b, c, d)
    q = LA.quadratic(A)
    At = torch.tensor(A)
    x = torch.tensor([0.7, -1.3], dtype=torch.float64, requires_grad=True)
    f = 0.5 * x @ At @ x
    (g,) = torch.autograd.grad(f, x)
    np.testing.assert_allclose(q.S @ x.detach().numpy(), g.numpy(), atol=1e-12)  # ∇f = S x
    H = torch.autograd.functional.hessian(lambda v: 0.5 * v @ At @ v, x.detach())
    np.testing.assert_allclose(q.S, H.numpy(), atol=1e-12)
    lam = torch.linalg.eigvalsh(H).numpy()
    assert (q.lam_min, q.lam_max) == pytest.approx(tuple(lam), abs=1e-10)
    np.testing.assert_allclose(q.S @ q.v_min, q.lam_min * q.v_min, atol=1e-10)
    expected = (
        "bowl" if lam[0] > 1e-9 else "dome" if lam[1] < -1e-9
        else "saddle" if lam[0] < -1e-9 < 1e-9 < lam[1] else None
    )  # fmt: skip
    if expected:
        assert q.kind == expected
    if q.kind == "bowl":
        assert q.kappa == pytest.approx(lam[1] / lam[0])
    else:
        assert q.kappa == math.inf
    assert -90 < q.angle_deg <= 90


def test_quadratic_grid_is_half_x_A_x():
    A = LA.matrix(*PRESETS["default"])
    xs, ys, F = LA.quadratic_grid(A, lim=2.0, n=5)
    for i, j in [(0, 0), (1, 3), (4, 2)]:
        x = np.array([xs[j], ys[i]])
        assert F[i, j] == pytest.approx(0.5 * x @ A @ x)


def test_kinds_of_quadratic():
    kinds = {k: LA.quadratic(LA.matrix(*v)).kind for k, v in PRESETS.items()}
    assert kinds["spd"] == "bowl" and kinds["projection"] == "valley" and kinds["zero"] == "flat"
    assert kinds["mirror"] == "saddle" and LA.quadratic(-LA.matrix(*PRESETS["spd"])).kind == "dome"
    assert kinds["rotation"] == "bowl"  # its symmetric part is 0.8 I
    assert LA.quadratic(LA.matrix(*PRESETS["spd"])).kappa == pytest.approx((3 + math.sqrt(5)) / (3 - math.sqrt(5)))  # fmt: skip


@pytest.mark.parametrize("name", ["spd", "default", "scaling", "shear", "rotation"])
def test_the_gradient_descent_link_carries_the_same_kappa_and_valley(name):
    q = LA.quadratic(LA.matrix(*PRESETS[name]))
    link = LA.gd_link(q)
    kappa, angle = float(link["kappa"]), float(link["angle"])
    assert kappa == max(1, round(q.kappa)) and angle % 5 == 0
    # the gradient-descent page's own matrix: the same κ (rounded) and the same axes (to 2.5°)
    G = optim.quadratic_matrix(optim.SurfaceConfig("quadratic", kappa, angle)).numpy()
    g = LA.quadratic(G)
    assert g.kappa == pytest.approx(kappa)
    cos = abs(float(g.v_min @ q.v_min))
    assert cos >= math.cos(math.radians(2.5)) - 1e-12 or q.kappa < 1 + 1e-9
    assert LA.gd_link(LA.quadratic(LA.matrix(*PRESETS["mirror"]))) is None


def test_kappa_above_the_gradient_descent_range_is_clamped():
    q = LA.quadratic(LA.matrix(2.0, 0.0, 0.0, 0.01))
    assert q.kappa == pytest.approx(200) and LA.gd_link(q)["kappa"] == "100"


# ---------------------------------------------------------------- derivatives
@pytest.mark.parametrize("name", list(C.FUNCTIONS))
@pytest.mark.parametrize("x, y", [(1.0, 0.5), (-2.3, 1.7), (0.0, 0.0), (2.9, -2.9)])
def test_hand_written_gradients_match_autograd(name, x, y):
    p = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(C.FUNCTIONS[name].f(p[0], p[1], torch), p)
    np.testing.assert_allclose(C.FUNCTIONS[name].grad(x, y), g.numpy(), rtol=1e-12, atol=1e-14)
    assert float(C.FUNCTIONS[name].f(x, y, np)) == pytest.approx(float(C.FUNCTIONS[name].f(p[0], p[1], torch).detach()))  # fmt: skip


@pytest.mark.parametrize("name", list(C.FUNCTIONS))
def test_directional_derivatives_are_grad_dot_u_and_u_H_u(name):
    x, y, phi = 0.9, -0.4, 130.0
    d = C.directional(name, x, y, phi, 1e-3)
    u = np.array(d.u)
    assert np.linalg.norm(u) == pytest.approx(1.0)
    assert d.exact == pytest.approx(float(np.dot(d.grad, u)), abs=1e-14)
    d1, d2, d3 = C.along(name, x, y, d.u)
    assert d1 == pytest.approx(d.exact, abs=1e-13)
    H = torch.autograd.functional.hessian(lambda p: C.FUNCTIONS[name].f(p[0], p[1], torch), torch.tensor([x, y], dtype=torch.float64))  # fmt: skip
    assert d2 == pytest.approx(float(u @ H.numpy() @ u), abs=1e-12)
    # D³f by a central difference of D²f along u
    h = 1e-4
    p2 = C.along(name, x + h * u[0], y + h * u[1], d.u)[1]
    m2 = C.along(name, x - h * u[0], y - h * u[1], d.u)[1]
    assert d3 == pytest.approx((p2 - m2) / (2 * h), abs=1e-6)
    np.testing.assert_allclose(d.partial_fd, d.grad, atol=1e-5)


def test_central_error_follows_the_eps_squared_law():
    d = C.directional("waves", 1.0, 0.5, 30.0, 1e-2)
    assert abs(d.d3) > 0.05
    assert d.err_central == pytest.approx(d.law_central, rel=0.02)
    assert d.err_forward == pytest.approx(d.law_forward, rel=0.05)
    half = C.directional("waves", 1.0, 0.5, 30.0, 5e-3)
    assert 3.9 < d.err_central / half.err_central < 4.1  # halve ε: a quarter of the error
    assert 1.9 < d.err_forward / half.err_forward < 2.1  # forward: half
    err_c, err_f = C.error_sweep(d, "waves", np.array([1e-2, 5e-3]))
    np.testing.assert_allclose(err_c, [d.err_central, half.err_central], rtol=1e-9)
    np.testing.assert_allclose(err_f, [d.err_forward, half.err_forward], rtol=1e-9)


def test_round_off_wins_for_tiny_steps_and_the_best_step_balances():
    tiny = C.directional("waves", 1.0, 0.5, 30.0, 1e-12)
    assert tiny.err_central > 100 * tiny.law_central  # truncation is negligible there
    assert tiny.err_central < 20 * tiny.roundoff
    d = C.directional("waves", 1.0, 0.5, 30.0, 1e-3)
    sweep = np.logspace(-12, 0, 121)
    err_c, _ = C.error_sweep(d, "waves", sweep)
    best = sweep[np.argmin(err_c)]
    assert d.best_eps / 30 < best < d.best_eps * 30
    assert err_c.min() < 1e-9


@pytest.mark.parametrize("name", ["bowl", "saddle"])
def test_central_difference_is_exact_for_quadratics(name):
    d = C.directional(name, 1.3, -0.7, 40.0, 0.5)
    assert d.d3 == 0.0 and d.err_central < 1e-13
    assert (
        d.err_forward == pytest.approx(d.law_forward, rel=1e-9) and d.err_forward > 0.05
    )  # exact too


def test_bad_derivative_settings_are_refused():
    with pytest.raises(ValueError, match="function"):
        C.directional("nope", 0, 0, 0, 1e-3)
    with pytest.raises(ValueError, match="step"):
        C.directional("waves", 0, 0, 0, 0.0)


# ---------------------------------------------------------------- probability
def test_samples_are_the_reparameterisation_and_deterministic():
    eps, z = P.gaussian_sample(1.5, 0.8, 1000, seed=3)
    np.testing.assert_array_equal(z, 1.5 + 0.8 * eps)
    _, z2 = P.gaussian_sample(1.5, 0.8, 1000, seed=3)
    np.testing.assert_array_equal(z, z2)
    assert abs(z.mean() - 1.5) < 4 * 0.8 / math.sqrt(1000)
    y = P.bernoulli_sample(0.3, 2000, seed=3)
    assert set(np.unique(y)) <= {0.0, 1.0} and abs(y.mean() - 0.3) < 4 * math.sqrt(0.21 / 2000)
    assert P.bernoulli_sample(0.0, 50, 0).sum() == 0 and P.bernoulli_sample(1.0, 50, 0).sum() == 50
    with pytest.raises(ValueError):
        P.gaussian_sample(0, 1, 0, 0)


def test_stats_match_torch():
    _, z = P.gaussian_sample(-1.0, 2.0, 57, seed=1)
    s, t = P.stats(z), torch.tensor(z)
    assert s.mean == pytest.approx(float(t.mean()))
    assert s.var == pytest.approx(float(t.var(unbiased=True)))
    assert s.var_mle == pytest.approx(float(t.var(unbiased=False)))
    one = P.stats(np.array([0.3]))
    assert math.isnan(one.var) and one.var_mle == 0.0 and math.isnan(one.standard_error)


def test_density_and_histogram():
    x = np.linspace(-3, 5, 17)
    ref = (
        Normal(torch.tensor(1.0, dtype=torch.float64), 0.7).log_prob(torch.tensor(x)).exp().numpy()
    )
    np.testing.assert_allclose(P.normal_pdf(x, 1.0, 0.7), ref, rtol=1e-12)
    _, z = P.gaussian_sample(0, 1, 500, 0)
    edges, dens = P.histogram(z, -6, 6, 30)
    assert float(np.sum(dens * np.diff(edges))) == pytest.approx(1.0)


def test_the_spread_of_the_mean_shrinks_like_one_over_root_n():
    ns = np.array([1, 10, 100, 1000])
    g, b = P.mean_spread(0.5, 1.5, 0.3, ns, repeats=300, seed=0)
    np.testing.assert_allclose(g, 1.5 / np.sqrt(ns), rtol=0.15)
    np.testing.assert_allclose(b, np.sqrt(0.21 / ns), rtol=0.15)


def test_log_likelihood_and_its_gradient_match_torch():
    _, x = P.gaussian_sample(1.5, 0.8, 200, 0)
    mu, ls = 0.3, math.log(1.7)
    ref = (
        Normal(torch.tensor(mu, dtype=torch.float64), math.exp(ls)).log_prob(torch.tensor(x)).mean()
    )
    assert P.gaussian_loglik(x, mu, math.exp(ls)) == pytest.approx(float(ref), rel=1e-12)
    params = torch.tensor([mu, ls], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(Normal(params[0], params[1].exp()).log_prob(torch.tensor(x)).mean(), params)  # fmt: skip
    np.testing.assert_allclose(P.gaussian_loglik_grad(x, mu, ls), g.numpy(), rtol=1e-10)
    mus, sigmas = np.array([0.0, 1.5]), np.array([0.5, 2.0])
    grid = P.loglik_grid(x, mus, sigmas)
    assert grid[1, 0] == pytest.approx(P.gaussian_loglik(x, 0.0, 2.0))


def test_gradient_ascent_reaches_the_closed_form():
    _, x = P.gaussian_sample(1.5, 0.8, 200, 0)
    asc = P.mle_ascent(x, 0.1, 500)
    t = torch.tensor(x)
    assert asc.closed == pytest.approx((float(t.mean()), float(t.std(unbiased=False))))
    assert asc.diverged_at is None
    assert (asc.mu[-1], asc.sigma[-1]) == pytest.approx(asc.closed, abs=1e-6)
    assert np.all(np.diff(asc.loglik) > -1e-12)  # ascent: ℓ never falls at this η
    assert (asc.mu[0], asc.sigma[0]) == P.MLE_START


def test_a_step_above_two_sigma_squared_overshoots_without_raising():
    """Along μ the curvature of ℓ is 1/σ²: η < 2σ̂² settles, a larger η bounces or explodes."""
    _, x = P.gaussian_sample(2.0, 0.1, 200, 0)
    s2 = P.stats(x).var_mle
    slow = P.mle_ascent(x, 0.5 * s2, 2000)
    assert slow.diverged_at is None and abs(slow.mu[-1] - slow.closed[0]) < 1e-6
    bounce = P.mle_ascent(x, 0.1, 500)  # η = 0.1 > 2σ̂² ≈ 0.025
    assert bounce.diverged_at is None and abs(bounce.mu[-1] - bounce.closed[0]) > 0.05
    boom = P.mle_ascent(x, 1.0, 300)
    assert boom.diverged_at is not None
    for a in (bounce, boom):
        assert np.all(np.isfinite(a.mu)) and np.all(np.isfinite(a.loglik))


def test_one_sample_has_no_maximum():
    """σ̂ = 0: with a small η, σ shrinks towards 0 and ℓ grows, all finite."""
    asc = P.mle_ascent(np.array([0.7]), 0.01, 500)
    assert asc.closed == (0.7, 0.0)
    assert asc.sigma[-1] < 0.01 and np.all(np.diff(asc.sigma[100:]) < 0)
    assert asc.loglik[-1] > 3 and np.all(np.isfinite(asc.loglik))


def test_gaussian_nll_is_scaled_mse_and_bernoulli_nll_is_bce():
    _, y = P.gaussian_sample(1.5, 0.8, 300, 0)
    yt = torch.tensor(y)
    for y_hat in (1.5, 0.2):
        ref = -Normal(torch.tensor(y_hat, dtype=torch.float64), 0.8).log_prob(yt).mean()
        assert P.gaussian_nll(y, y_hat, 0.8) == pytest.approx(float(ref), rel=1e-12)
        mse = float(F.mse_loss(torch.full_like(yt, y_hat), yt))
        assert P.mse(y, y_hat) == pytest.approx(mse, rel=1e-12)
        assert P.gaussian_nll(y, y_hat, 0.8) == pytest.approx(mse / (2 * 0.64) + 0.5 * math.log(2 * math.pi * 0.64))  # fmt: skip
    grid = np.linspace(0, 3, 7)
    np.testing.assert_allclose(P.gaussian_nll(y, grid, 0.8), [P.gaussian_nll(y, g, 0.8) for g in grid])  # fmt: skip
    b = P.bernoulli_sample(0.3, 400, 0)
    bt = torch.tensor(b)
    for p_hat in (0.3, 0.01, 0.9):
        bce = F.binary_cross_entropy(torch.full_like(bt, p_hat), bt)
        assert P.bernoulli_nll(b, p_hat) == pytest.approx(float(bce), rel=1e-10)
        assert P.bernoulli_nll(b, p_hat) == pytest.approx(float(-Bernoulli(probs=torch.tensor(p_hat, dtype=torch.float64)).log_prob(bt).mean()), rel=1e-10)  # fmt: skip
    zeros = np.zeros(10)
    assert P.bernoulli_nll(zeros, 0.0) == 0.0 and P.bernoulli_nll(np.ones(3), 0.0) == math.inf
    grid = np.linspace(0.01, 0.99, 99)
    assert grid[np.argmin(P.bernoulli_nll(b, grid))] == pytest.approx(b.mean(), abs=0.006)


def test_reparameterised_gradient_matches_autograd():
    eps, _ = P.gaussian_sample(0.0, 1.0, 500, 4)
    r = P.reparam_gradient(0.7, 1.3, eps)
    mu = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    gm, gs = torch.autograd.grad(((mu + sigma * torch.tensor(eps)) ** 2).mean(), (mu, sigma))
    assert (r.grad_mu, r.grad_sigma) == pytest.approx((float(gm), float(gs)), rel=1e-12)
    assert r.exact == (1.4, 2.6)
    assert r.grad_mu == pytest.approx(1.4, abs=4 * 2 * 1.3 / math.sqrt(500))  # Monte Carlo
    # torch's own reparameterised sample gives the same gradient formula
    normal = Normal(mu, sigma)
    z = normal.rsample(
        (20000,),
    )
    gm2, gs2 = torch.autograd.grad((z**2).mean(), (mu, sigma))
    assert float(gm2) == pytest.approx(1.4, abs=0.08) and float(gs2) == pytest.approx(2.6, abs=0.15)


# ---------------------------------------------------------------- information
DISTS = [
    ([0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]),
    ([0.5, 0.5, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]),
    ([0.7, 0.1, 0.1, 0.1], [0.7, 0.1, 0.1, 0.1]),
    ([0.2, 0.3, 0.5, 0.0], [0.4, 0.6, 0.0, 0.0]),  # Q(3) = 0 < P(3): infinite KL(P‖Q)
]


@pytest.mark.parametrize("Pw, Qw", DISTS)
def test_entropy_cross_entropy_and_kl_match_torch(Pw, Qw):
    Pd, Qd = np.array(Pw), np.array(Qw)
    cp, cq = Categorical(probs=torch.tensor(Pd)), Categorical(probs=torch.tensor(Qd))
    assert I.entropy(Pd) == pytest.approx(float(cp.entropy()), abs=1e-12)
    assert I.entropy(Pd, 2.0) == pytest.approx(float(cp.entropy()) / math.log(2), abs=1e-12)
    ref = float(kl_divergence(cp, cq))
    mine = I.kl(Pd, Qd)
    assert mine == ref if math.isinf(ref) else mine == pytest.approx(ref, abs=1e-12)
    if math.isfinite(mine):
        assert I.cross_entropy(Pd, Qd) == pytest.approx(I.entropy(Pd) + mine, abs=1e-12)
        assert mine >= 0
    else:
        assert I.cross_entropy(Pd, Qd) == math.inf
    assert I.kl(Qd, Pd) == pytest.approx(float(kl_divergence(cq, cp)), abs=1e-12) or (
        math.isinf(I.kl(Qd, Pd)) and math.isinf(float(kl_divergence(cq, cp)))
    )
    js = I.js(Pd, Qd)
    assert 0 <= js <= math.log(2) + 1e-12 and js == pytest.approx(I.js(Qd, Pd))
    info = I.information(Pd, Qd, "bits")
    js_bits, kl_bits = info.JS, info.KL_PQ
    assert js_bits == pytest.approx(js / math.log(2)) and np.sum(info.terms_PQ) == pytest.approx(kl_bits)  # fmt: skip


def test_js_extremes_and_normalise():
    assert I.js(np.array([1.0, 0]), np.array([0, 1.0]), 2.0) == pytest.approx(
        1.0
    )  # disjoint: 1 bit
    assert I.js(np.array([0.3, 0.7]), np.array([0.3, 0.7])) == 0.0
    p, flat = I.normalise([0, 0, 0, 0])
    assert flat and np.allclose(p, 0.25)
    p, flat = I.normalise([2, 1, 1, 0])
    assert not flat and np.allclose(p, [0.5, 0.25, 0.25, 0])


@pytest.mark.parametrize("m1, s1, m2, s2", [(0, 1, 0, 1), (1.5, 0.8, 0, 1), (-2, 0.3, 1, 2.5)])
def test_gaussian_kl_closed_form_matches_torch(m1, s1, m2, s2):
    f64 = lambda v: torch.tensor(float(v), dtype=torch.float64)  # noqa: E731
    ref = kl_divergence(Normal(f64(m1), f64(s1)), Normal(f64(m2), f64(s2)))
    assert I.kl_gauss(m1, s1, m2, s2) == pytest.approx(float(ref), abs=1e-12)


def _brute(mix: I.Mixture, mu: float, sigma: float) -> tuple[float, float]:
    """Both KLs by a fine trapezoid on a wide grid."""
    x = torch.linspace(-30, 30, 400_001, dtype=torch.float64)
    lp = mix.log_pdf(x)
    lq = Normal(torch.tensor(mu, dtype=torch.float64), sigma).log_prob(x)
    fwd = torch.trapezoid(lp.exp() * (lp - lq), x)
    rev = torch.trapezoid(lq.exp() * (lq - lp), x)
    return float(fwd), float(rev)


@pytest.mark.parametrize("mu, sigma", [(0.0, 2.0), (2.0, 0.6), (-1.0, 0.3)])
def test_mixture_kl_quadratures(mu, sigma):
    mix = I.Mixture(2.0, 0.6, 0.3)
    fit = I.fit_at(mix, mu, sigma)
    fwd, rev = _brute(mix, mu, sigma)
    assert fit.forward == pytest.approx(fwd, rel=1e-6, abs=1e-9)
    assert fit.reverse == pytest.approx(rev, rel=1e-6, abs=1e-9)


def test_forward_kl_is_moment_matching_and_reverse_kl_picks_a_peak():
    mix = I.Mixture(3.0, 0.5, 0.5)
    f = I.fit_mixture(mix)
    assert (f.forward.mu, f.forward.sigma) == pytest.approx((0.0, math.sqrt(0.25 + 9)))
    for dm, ds in [(0.05, 0), (-0.05, 0), (0, 0.05), (0, -0.05)]:  # a minimum
        assert I.fit_at(mix, f.forward.mu + dm, f.forward.sigma + ds).forward > f.forward.forward
    assert abs(f.reverse.mu) == pytest.approx(3.0, abs=1e-3) and f.reverse.sigma == pytest.approx(0.5, abs=1e-3)  # fmt: skip
    assert f.reverse.reverse == pytest.approx(math.log(2), abs=1e-4)  # half the mass missed
    assert f.reverse_other.mu == pytest.approx(-f.reverse.mu, abs=1e-6)
    assert f.reverse.forward > 10 * f.forward.forward  # the picked peak misses the other
    # the reverse fit is a stationary point of the reverse KL (autograd)
    theta = torch.tensor([f.reverse.mu, math.log(f.reverse.sigma)], dtype=torch.float64, requires_grad=True)  # fmt: skip
    (g,) = torch.autograd.grad(I.reverse_kl(mix, theta[0], theta[1].exp()), theta)
    assert float(g.norm()) < 1e-6


def test_close_peaks_give_one_fit_and_one_peak_gives_zero():
    f = I.fit_mixture(I.Mixture(0.0, 0.7, 0.5))
    assert f.forward.forward == pytest.approx(0, abs=1e-9) and f.reverse.reverse == pytest.approx(0, abs=1e-9)  # fmt: skip
    assert (f.reverse.mu, f.reverse.sigma) == pytest.approx((0.0, 0.7), abs=1e-6)
    close = I.fit_mixture(I.Mixture(0.5, 0.7, 0.5))
    assert abs(close.reverse.mu) < 1e-6 and abs(close.reverse_other.mu - close.reverse.mu) < 1e-6
    heavy = I.fit_mixture(I.Mixture(3.0, 0.5, 0.2))  # the right peak has 0.8
    assert heavy.reverse.mu > 2.9 and heavy.reverse.reverse == pytest.approx(-math.log(0.8), abs=1e-3)  # fmt: skip
    single = I.fit_mixture(I.Mixture(2.0, 0.5, 0.0))
    assert single.reverse.mu == pytest.approx(2.0, abs=1e-6)


def test_mixture_settings_are_validated():
    with pytest.raises(ValueError, match="width"):
        I.Mixture(1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="weight"):
        I.Mixture(1.0, 0.5, 1.5)
    with pytest.raises(ValueError, match="unit"):
        I.information(np.ones(2) / 2, np.ones(2) / 2, "decibels")


def test_works_with_grad_mode_off():
    """Sessions are threads, grad mode is per thread: the core turns it on where it needs it."""
    with torch.no_grad():
        assert C.along("waves", 1.0, 0.5, (1.0, 0.0))[0] == pytest.approx(math.cos(1) * math.cos(0.5))  # fmt: skip
        assert abs(I.fit_mixture(I.Mixture(3.0, 0.5, 0.5)).reverse.mu) == pytest.approx(3.0, abs=1e-3)  # fmt: skip
