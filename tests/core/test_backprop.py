"""Hand-written backprop vs torch.nn + autograd vs central finite differences."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dl_core import backprop as bp
from dl_core.training import generator

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def random_net(sizes, seed, dtype=torch.float64, scale=1.0) -> bp.Params:
    g = generator(seed)
    W = tuple(
        scale * torch.randn(o, i, generator=g, dtype=dtype) for i, o in itertools.pairwise(sizes)
    )
    b = tuple(0.5 * torch.randn(o, generator=g, dtype=dtype) for o in sizes[1:])
    return bp.Params(W, b)


def random_targets(loss, B, K, g):
    if loss == "mse":
        return torch.randn(B, K, generator=g, dtype=torch.float64)
    if loss == "bce":
        return (torch.rand(B, K, generator=g, dtype=torch.float64) > 0.5).double()
    return F.one_hot(torch.randint(K, (B,), generator=g), K).double()


# ---------------------------------------------------------------- activations


@pytest.mark.parametrize("name", bp.ACTIVATIONS)
def test_activation_and_derivative_match_torch(name):
    z = torch.linspace(-8, 8, 401, dtype=torch.float64)
    z = z[z != 0]  # ReLU's kink: the derivative is a convention there (tested below)
    zr = z.clone().requires_grad_(True)
    ref = bp.torch_activation(name)(zr)
    (dref,) = torch.autograd.grad(ref.sum(), zr)
    torch.testing.assert_close(bp.activation(name, z), ref.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(bp.activation_derivative(name, z), dref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", bp.ACTIVATIONS)
def test_activation_derivative_matches_finite_differences(name):
    z = torch.tensor([-3.1, -0.7, 0.4, 2.5], dtype=torch.float64)
    fd = (bp.activation(name, z + 1e-6) - bp.activation(name, z - 1e-6)) / 2e-6
    torch.testing.assert_close(bp.activation_derivative(name, z), fd, rtol=1e-7, atol=1e-9)


def test_relu_kink_convention_matches_pytorch():
    z = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    for name in ("relu", "leaky_relu"):
        (d,) = torch.autograd.grad(bp.torch_activation(name)(z).sum(), z)
        torch.testing.assert_close(bp.activation_derivative(name, z.detach()), d)


def test_saturation_marks_the_flat_tails():
    c = bp.activation_curve("sigmoid")
    assert c.saturated[0] and c.saturated[-1] and not c.saturated[len(c.a) // 2]
    r = bp.activation_curve("relu")
    assert r.saturated[r.a < 0].all() and not r.saturated[r.a > 0].any()
    assert not bp.activation_curve("softplus").saturated[-1]  # slope -> 1 on the right


def test_softplus_is_stable_for_large_inputs():
    z = torch.tensor([-1000.0, 1000.0], dtype=torch.float64)
    assert torch.isfinite(bp.activation("softplus", z)).all()
    torch.testing.assert_close(
        bp.activation("softplus", z), torch.tensor([0.0, 1000.0], dtype=torch.float64)
    )


# ---------------------------------------------------------------- losses


@pytest.mark.parametrize("loss", bp.LOSSES)
def test_loss_and_gradient_match_torch(loss):
    g = generator(3)
    B, K = 5, 3
    z = 3 * torch.randn(B, K, generator=g, dtype=torch.float64)
    y = random_targets(loss, B, K, g)
    L, _, dz = bp.loss_and_grad(loss, z, y)
    zr = z.clone().requires_grad_(True)
    ref = bp.torch_loss(loss, zr, y)
    (dref,) = torch.autograd.grad(ref, zr)
    assert abs(float(L) - float(ref.detach())) < 1e-12
    torch.testing.assert_close(dz, dref, rtol=1e-10, atol=1e-14)


def test_softmax_ce_gradient_is_p_minus_y():
    s = bp.loss_step("softmax_ce", [2.0, -1.0, 0.5], [0.0, 0.0, 1.0])
    p = np.exp(s.a) / np.exp(s.a).sum()
    np.testing.assert_allclose(s.y_hat, p, rtol=1e-14)
    np.testing.assert_allclose(s.delta, p - s.y, rtol=1e-12)
    np.testing.assert_allclose(s.delta_autograd, p - s.y, rtol=1e-12)
    assert pytest.approx(-math.log(p[2]), rel=1e-12) == s.L


def test_bce_gradient_is_p_minus_y_and_stable():
    s = bp.loss_step("bce", [0.3], [1.0])
    np.testing.assert_allclose(s.delta, 1 / (1 + np.exp(-0.3)) - 1, rtol=1e-12)
    far = bp.loss_step("bce", [-800.0], [1.0])  # log(sigmoid(-800)) underflows if done naively
    assert pytest.approx(800.0, rel=1e-12) == far.L
    np.testing.assert_allclose(far.delta, far.delta_autograd, rtol=1e-12)


@pytest.mark.parametrize("loss", bp.LOSSES)
def test_loss_curve_gradient_matches_finite_differences(loss):
    K = 2 if loss == "softmax_ce" else 1
    y = np.eye(K)[-1] if loss == "softmax_ce" else np.array([1.0])
    z, L, g = bp.loss_curve(loss, y, np.full(K, 0.4))
    fd = np.gradient(L, z)
    np.testing.assert_allclose(g[5:-5], fd[5:-5], atol=2e-3)


# ---------------------------------------------------------------- forward / backward


@pytest.mark.parametrize("act", bp.ACTIVATIONS)
@pytest.mark.parametrize("loss", bp.LOSSES)
def test_hand_backprop_matches_autograd_on_random_nets(act, loss):
    g = generator(11)
    sizes = (3, 5, 4, 2)
    p = random_net(sizes, seed=7)
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = random_targets(loss, 6, 2, g)
    L, fwd, bwd = bp.hand_gradients(p, x, y, act, loss)
    L_ref, ref = bp.reference_gradients(p, x, y, act, loss)
    assert float(L) == pytest.approx(L_ref, rel=1e-12, abs=1e-14)
    torch.testing.assert_close(bwd.grads().flat(), ref.flat(), rtol=1e-9, atol=1e-13)
    # dL/dx too, against autograd through the same torch.nn model
    xr = x.clone().requires_grad_(True)
    (dx,) = torch.autograd.grad(bp.torch_loss(loss, bp.torch_model(p, act)(xr), y), xr)
    torch.testing.assert_close(bwd.dL_dx, dx, rtol=1e-9, atol=1e-13)
    # shapes as documented
    assert [t.shape for t in fwd.a] == [(6, 5), (6, 4), (6, 2)]
    assert [t.shape for t in bwd.dL_dW] == [w.shape for w in p.W]


@settings(max_examples=25, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    act=st.sampled_from(bp.ACTIVATIONS),
    loss=st.sampled_from(bp.LOSSES),
    batch=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_hypothesis_random_architectures(hidden, act, loss, batch, seed):
    g = generator(seed)
    K = 3 if loss == "softmax_ce" else 1
    p = random_net((2, *hidden, K), seed)
    x = torch.randn(batch, 2, generator=g, dtype=torch.float64)
    y = random_targets(loss, batch, K, g)
    _, _, bwd = bp.hand_gradients(p, x, y, act, loss)
    _, ref = bp.reference_gradients(p, x, y, act, loss)
    torch.testing.assert_close(bwd.grads().flat(), ref.flat(), rtol=1e-9, atol=1e-12)


def test_flat_and_unflat_round_trip_and_names():
    p = random_net((2, 3, 1), seed=0)
    q = p.unflat(p.flat())
    for a, b in zip(p.W + p.b, q.W + q.b):
        torch.testing.assert_close(a, b)
    assert p.names()[:7] == [
        "W1[1,1]",
        "W1[1,2]",
        "W1[2,1]",
        "W1[2,2]",
        "W1[3,1]",
        "W1[3,2]",
        "b1[1]",
    ]
    assert len(p.names()) == p.flat().numel() == 13


# ---------------------------------------------------------------- finite differences


def test_central_difference_on_known_functions():
    theta = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)

    def f(t):  # f = sin(t0) t1^2 + exp(t2 / 2)
        return torch.sin(t[..., 0]) * t[..., 1] ** 2 + torch.exp(t[..., 2] / 2)

    exact = torch.tensor(
        [math.cos(0.3) * 1.44, 2 * math.sin(0.3) * -1.2, 0.5 * math.exp(1.0)], dtype=torch.float64
    )
    for batched in (False, True):
        fd = bp.central_difference(f, theta, 1e-5, batched=batched)
        torch.testing.assert_close(fd, exact, rtol=1e-8, atol=1e-10)


def test_central_difference_error_is_second_order():
    theta = torch.tensor([0.7], dtype=torch.float64)
    exact = math.cos(0.7)
    e1 = abs(float(bp.central_difference(lambda t: torch.sin(t[0]), theta, 1e-2)[0]) - exact)
    e2 = abs(float(bp.central_difference(lambda t: torch.sin(t[0]), theta, 1e-3)[0]) - exact)
    assert 80 < e1 / e2 < 120  # O(eps^2): 10x smaller eps, 100x smaller error


def test_central_difference_rejects_bad_epsilon():
    with pytest.raises(ValueError, match="epsilon"):
        bp.central_difference(lambda t: t.sum(), torch.zeros(2), 0.0)


# ---------------------------------------------------------------- tiny network, walkthrough, check


@pytest.mark.parametrize("arch", bp.ARCHITECTURES)
@pytest.mark.parametrize("loss", bp.LOSSES)
def test_grad_check_float64_agrees(arch, loss):
    gc = bp.grad_check(bp.TinyConfig(arch=arch, activation="tanh", loss=loss), 1e-6)
    assert gc.max_rel_autograd < 1e-12
    assert gc.max_rel_fd < 1e-6
    assert len(gc.names) == len(gc.hand) == len(gc.fd)


def test_grad_check_float32_small_eps_is_poor_and_larger_eps_helps():
    cfg = bp.TinyConfig(arch="2-3-1", activation="tanh")
    assert bp.grad_check(cfg, 1e-6, "float32").max_rel_fd > 1e-2  # rounding of f / eps dominates
    assert bp.grad_check(cfg, 1e-2, "float32").max_rel_fd < 1e-2
    assert bp.grad_check(cfg, 1e-6, "float32").max_rel_autograd < 1e-5


def test_relu_kink_makes_the_check_poor_but_not_for_smooth_activations():
    relu = bp.grad_check(bp.TinyConfig(activation="relu"), 1e-6, kink=True)
    assert relu.kink_unit is not None
    assert relu.max_rel_fd > 0.1  # the central difference averages slopes 0 and 1
    assert relu.max_rel_autograd < 1e-12  # backprop and autograd agree on the one-sided slope
    soft = bp.grad_check(bp.TinyConfig(activation="softplus"), 1e-6, kink=True)
    assert soft.max_rel_fd < 1e-6


def test_eps_sweep_is_v_shaped_in_float64():
    s = bp.eps_sweep(bp.TinyConfig(activation="tanh"))
    best = s["float64"].min()
    assert best < 1e-8
    assert s["float64"][0] > 100 * best and s["float64"][-1] > 100 * best  # rounding / truncation
    assert s["float32"].min() > best


def test_walkthrough_numbers_follow_the_chain_rule():
    w = bp.walkthrough(bp.TinyConfig(arch="2-3-2-1", activation="sigmoid", loss="bce"))
    assert w.finite
    out = w.layers[-1]
    np.testing.assert_allclose(out.delta, w.y_hat - w.y, rtol=1e-12)  # BCE: p - y
    for lay in w.layers:
        np.testing.assert_allclose(lay.delta, lay.dL_dh * lay.dh_da, rtol=1e-14)
        np.testing.assert_allclose(lay.dL_dW, np.outer(lay.delta, lay.h_prev), rtol=1e-14)
        np.testing.assert_allclose(lay.W_new, lay.W - 0.5 * lay.dL_dW, rtol=1e-14)
        np.testing.assert_allclose(lay.b_new, lay.b - 0.5 * lay.dL_db, rtol=1e-14)
    for below, above in zip(w.layers[:-1], w.layers[1:]):
        np.testing.assert_allclose(below.dL_dh, above.W.T @ above.delta, rtol=1e-12)
    sig = w.layers[0]
    np.testing.assert_allclose(sig.dh_da, sig.h * (1 - sig.h), rtol=1e-12)
    assert w.L_after < w.L  # a small gradient step lowers this example's loss
    # L_after is the loss of the stepped network (weights and biases), recomputed by hand
    new = bp.Params(tuple(map(torch.from_numpy, (lay.W_new for lay in w.layers))),
                    tuple(map(torch.from_numpy, (lay.b_new for lay in w.layers))))  # fmt: skip
    x, y = bp.example(w.config)
    assert float(bp.loss_of(new, x, y, "sigmoid", "bce")) == pytest.approx(w.L_after, rel=1e-12)


def test_walkthrough_is_deterministic_and_seed_dependent():
    a, b = bp.walkthrough(bp.TinyConfig(seed=4)), bp.walkthrough(bp.TinyConfig(seed=4))
    np.testing.assert_array_equal(a.layers[0].W, b.layers[0].W)
    assert a.L == b.L
    assert not np.array_equal(a.layers[0].W, bp.walkthrough(bp.TinyConfig(seed=5)).layers[0].W)


def test_softmax_net_has_two_logits():
    cfg = bp.TinyConfig(loss="softmax_ce", example=1)
    assert cfg.sizes == (2, 2, 2)
    w = bp.walkthrough(cfg)
    np.testing.assert_allclose(w.y, [0.0, 1.0])
    np.testing.assert_allclose(w.layers[-1].delta, w.y_hat - w.y, rtol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [dict(arch="2-4-1"), dict(activation="swish"), dict(loss="hinge"), dict(scale=-1.0),
     dict(scale=1e9), dict(example=7), dict(lr=float("nan")), dict(seed=-3)],
)  # fmt: skip
def test_bad_tiny_configs_rejected(kw):
    with pytest.raises(ValueError):
        bp.TinyConfig(**kw)


def test_bad_grad_check_settings_rejected():
    with pytest.raises(ValueError, match="precision"):
        bp.grad_check(bp.TinyConfig(), 1e-6, "float16")
    with pytest.raises(ValueError, match="epsilon"):
        bp.grad_check(bp.TinyConfig(), 5.0)


# ---------------------------------------------------------------- deep MLP


def test_init_stds_match_torch_nn_init():
    n_in, n_out = 300, 200
    g = generator(0)
    w = torch.empty(n_out, n_in, dtype=torch.float64)
    torch.nn.init.xavier_normal_(w, generator=g)
    assert float(w.std()) == pytest.approx(bp.init_std("xavier", n_in, n_out), rel=0.02)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g)
    assert float(w.std()) == pytest.approx(bp.init_std("he", n_in, n_out), rel=0.02)
    p = bp.deep_params(bp.DeepConfig(depth=2, width=100, init="he"), dtype=torch.float64)
    assert float(p.W[1].std()) == pytest.approx(math.sqrt(2 / 100), rel=0.05)


def test_deep_backward_matches_autograd():
    cfg = bp.DeepConfig(depth=5, width=8, activation="gelu", init="xavier")
    p = bp.deep_params(cfg, dtype=torch.float64)
    X, y = bp.rings(32, 0, torch.float64)
    _, _, bwd = bp.hand_gradients(p, X, y, cfg.activation, "bce")
    _, ref = bp.reference_gradients(p, X, y, cfg.activation, "bce")
    torch.testing.assert_close(bwd.grads().flat(), ref.flat(), rtol=1e-9, atol=1e-14)


def test_tiny_deep_run_learns_the_rings():
    res = bp.train(bp.DeepConfig.tiny())
    assert res.diverged_at is None
    assert res.loss[-1] < 0.7 * res.loss[0]
    assert res.grad_norms.shape == (41, 4)
    assert res.device == "cpu"


def test_train_is_deterministic():
    a, b = bp.train(bp.DeepConfig.tiny()), bp.train(bp.DeepConfig.tiny())
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.grad_norms, b.grad_norms)


def test_on_step_is_called_every_step():
    seen = []
    bp.train(bp.DeepConfig(depth=2, width=4, steps=5, n=16), on_step=lambda k, L: seen.append(k))
    assert seen == [0, 1, 2, 3, 4, 5]


def test_train_runs_on_one_cpu_thread_and_restores_the_setting():
    """Two threads on these tiny ops made the default run 50-100x slower on a busy machine."""
    seen = []
    torch.set_num_threads(2)
    try:
        bp.train(bp.DeepConfig(depth=2, width=4, steps=2, n=16),
                 on_step=lambda k, L: seen.append(torch.get_num_threads()))  # fmt: skip
        assert seen == [1, 1, 1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)  # this module's setting (pytestmark above)


def test_sigmoid_small_init_vanishes_and_relu_he_does_not():
    vanish = bp.train(
        bp.DeepConfig(depth=10, width=16, activation="sigmoid", init="small", steps=0, n=64)
    )
    g = vanish.grad_norms[0]
    assert g[0] / g[-1] < 1e-12
    assert "Vanishing" in bp.diagnose(vanish)
    he = bp.train(bp.DeepConfig(depth=10, width=16, activation="relu", init="he", steps=0, n=64))
    h = he.grad_norms[0]
    assert 1e-2 < h[0] / h[-1] < 1e2
    assert bp.diagnose(he) is None


def test_underflow_to_zero_with_random_init_is_vanishing_not_symmetry():
    """Issue 13, item 2: depth 30, sigmoid, init 0.01: float32 gradients underflow to exactly
    0 although the weights are random."""
    res = bp.train(bp.DeepConfig(depth=30, width=32, activation="sigmoid", init="small", steps=0))
    assert (res.grad_norms[0][:5] == 0).all() and (res.spread > 0).all()  # random weights
    text = bp.diagnose(res)
    assert "vanishing gradients (underflowed to 0)" in text.lower()
    assert "symmetry never breaks" not in text


def test_tiny_gradients_everywhere_are_diagnosed():
    """tanh with small weights: the first/last ratio looks fine, but every gradient is tiny."""
    res = bp.train(bp.DeepConfig(depth=10, width=32, activation="tanh", init="small", steps=0))
    assert 0.1 < bp.gradient_ratio(res) < 10 and res.grad_norms[0].max() < bp.TINY_GRADIENT
    assert "Vanishing signal" in bp.diagnose(res)


def test_backward_factor_predicts_the_measured_shrinking():
    """Sigmoid, small weights: each layer scales delta by about sigma'(0) sigma_w sqrt(n)."""
    cfg = bp.DeepConfig(depth=10, width=32, activation="sigmoid", init="small", steps=0)
    res = bp.train(cfg)
    assert bp.backward_factor(cfg) == pytest.approx(0.25 * 0.01 * math.sqrt(32))
    assert bp.measured_factor(res) == pytest.approx(bp.backward_factor(cfg), rel=0.25)
    relu = bp.DeepConfig(depth=10, width=32, activation="relu", init="small", steps=0)
    assert bp.backward_factor(relu) == pytest.approx(math.sqrt(0.5) * 0.01 * math.sqrt(32))


def test_zero_init_symmetry_never_breaks():
    res = bp.train(
        bp.DeepConfig(depth=3, width=8, activation="sigmoid", init="zero", steps=20, n=32)
    )
    assert res.diverged_at is None
    np.testing.assert_array_equal(res.spread, 0.0)  # every unit of every layer still identical
    assert "symmetry" in bp.diagnose(res)
    xav = bp.train(bp.DeepConfig(depth=3, width=8, activation="sigmoid", steps=2, n=32))
    assert (xav.spread > 0).all()


def test_exploding_run_reports_divergence_instead_of_raising():
    res = bp.train(
        bp.DeepConfig(depth=30, width=32, activation="relu", init="large", steps=5, n=32)
    )
    assert res.diverged_at is not None
    assert not np.isfinite(res.loss[-1]) or not np.isfinite(res.grad_norms[-1]).all()
    assert "overflowed" in bp.diagnose(res)


def test_divergence_from_a_large_step_blames_the_learning_rate():
    """ReLU + He starts with moderate gradients; eta = 10 still diverges: the step's fault,
    not the initialisation's."""
    res = bp.train(bp.DeepConfig(activation="relu", init="he", lr=10.0))
    assert res.diverged_at is not None and res.grad_norms[0].max() < 1
    text = bp.diagnose(res)
    assert "η = 10 is too large" in text and "each layer multiplied" not in text


def test_large_relu_init_is_diagnosed_as_exploding():
    res = bp.train(bp.DeepConfig(depth=10, width=32, activation="relu", init="large", steps=0))
    assert res.grad_norms[0].max() > 1e3
    assert "Exploding" in bp.diagnose(res)


def test_affordable_steps_bounds_the_work():
    assert bp.affordable_steps(bp.DeepConfig()) == 60  # the default fits
    big = bp.DeepConfig(depth=50, width=128, steps=300)
    k = bp.affordable_steps(big)
    assert 1 <= k < 300
    per_step = 3 * big.n * big.width * (big.width * 49 + 3) + bp.LAYER_OVERHEAD * 51
    assert k * per_step <= bp.WORK_BUDGET
    assert bp.affordable_steps(bp.DeepConfig(steps=0)) == 0
    # overhead-bound: 51 one-unit layers cost ~60 us each per step, ~1 s for 300 steps
    assert bp.affordable_steps(bp.DeepConfig(depth=50, width=1, steps=300)) <= 200


def test_eps_sweep_matches_grad_check():
    cfg = bp.TinyConfig(arch="2-3-1", activation="gelu")
    s = bp.eps_sweep(cfg)
    for i in (0, 6, 11):
        for dt in ("float64", "float32"):
            assert s[dt][i] == pytest.approx(
                bp.grad_check(cfg, s["eps"][i], dt).max_rel_fd, rel=1e-9
            )


def test_extreme_tiny_settings_stay_finite():
    w = bp.walkthrough(
        bp.TinyConfig(arch="2-3-2-1", activation="relu", loss="mse", scale=100.0, lr=100.0)
    )
    assert w.finite and np.isfinite(w.L_after)
    w = bp.walkthrough(bp.TinyConfig(scale=0.0))  # all weights zero: still a valid network
    assert w.finite and np.all(w.layers[0].dL_dW == 0)


@pytest.mark.parametrize(
    "kw",
    [dict(depth=0), dict(depth=51), dict(width=129), dict(init="orthogonal"), dict(steps=10**6),
     dict(lr=-1.0), dict(n=2)],
)  # fmt: skip
def test_bad_deep_configs_rejected(kw):
    with pytest.raises(ValueError):
        bp.DeepConfig(**kw)


# ---------------------------------------------------------------- module hygiene


def test_bench_records_are_complete():
    recs = bp.bench()
    keys = {"topic", "task", "metric", "target", "value", "reached", "seconds", "steps"}
    assert all(keys <= r.keys() for r in recs)
    assert recs[0]["reached"] and recs[0]["value"] < bp.GOOD_REL_ERROR


def test_dl_core_backprop_imports_neither_streamlit_nor_plotly():
    code = (
        "import sys, dl_core.backprop; print('streamlit' in sys.modules, 'plotly' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False False", out.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_train_on_cuda_matches_cpu():
    cfg = bp.DeepConfig.tiny()
    cpu, gpu = bp.train(cfg), bp.train(cfg, device="cuda")
    assert gpu.device == "cuda"
    np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu.grad_norms, cpu.grad_norms, rtol=1e-3, atol=1e-8)
