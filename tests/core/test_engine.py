"""The one dense-network engine against torch.autograd and torch.nn.init."""

import pytest
import torch

from dl_core import engine

ACTS = engine.ACTIVATIONS


def _a():
    return torch.linspace(-4, 4, 41, dtype=torch.float64).reshape(1, -1) + 1e-3  # off the kink


@pytest.mark.parametrize("name", ACTS)
def test_phi_prime_is_the_autograd_derivative_of_phi(name):
    a = _a().requires_grad_()
    (d,) = torch.autograd.grad(engine.phi(name, a, slope=0.2).sum(), a)
    torch.testing.assert_close(engine.phi_prime(name, a.detach(), slope=0.2), d)


@pytest.mark.parametrize("name", ACTS)
def test_fast_phi_and_delta_match_the_table(name):
    a = _a()
    h = engine.phi_(name, a.clone(), torch.empty_like(a), slope=0.2)
    torch.testing.assert_close(h, engine.phi(name, a, slope=0.2))
    dh = torch.randn(a.shape, generator=torch.Generator().manual_seed(0), dtype=a.dtype)
    want = dh * engine.phi_prime(name, a, slope=0.2)
    torch.testing.assert_close(engine.delta(name, dh, h, slope=0.2, a=a), want)
    out = torch.empty_like(a)
    torch.testing.assert_close(engine.delta(name, dh, h, out=out, slope=0.2, a=a), want)


def test_unknown_activation_and_missing_pre_activation_are_clear():
    with pytest.raises(ValueError, match="unknown activation"):
        engine.phi("swish", _a())
    with pytest.raises(ValueError, match="pre-activation"):
        engine.delta("gelu", _a(), _a())


@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("name", ["tanh", "relu", "gelu"])
def test_two_layer_backward_matches_autograd(name, batched):
    g = torch.Generator().manual_seed(1)
    M = (3,) if batched else ()
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    W1 = torch.randn(*M, 4, 6, generator=g, dtype=torch.float64, requires_grad=True)
    b1 = (
        torch.randn(*M, 1, 6, generator=g, dtype=torch.float64)
        if batched
        else torch.randn(6, generator=g, dtype=torch.float64)
    )
    b1.requires_grad_()
    W2 = torch.randn(*M, 6, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b2 = torch.randn(2, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(*M, 5, 2, generator=g, dtype=torch.float64)
    a1 = engine.dense(x, W1, b1)
    h1 = engine.phi(name, a1)
    out = engine.dense(h1, W2, b2)
    L = ((out - y) ** 2).sum()
    ref = torch.autograd.grad(L, [W1, b1, W2, b2])
    with torch.no_grad():
        d = 2 * (out - y)
        gW2, gb2, dh1 = engine.dense_backward(d, h1, W2)
        gW1, gb1, dx = engine.dense_backward(engine.delta(name, dh1, h1, a=a1), x, W1, dh=False,
                                             gb=torch.empty_like(b1))  # fmt: skip
    assert dx is None
    torch.testing.assert_close(gW2, ref[2])
    torch.testing.assert_close(gb2.sum(0) if batched else gb2, ref[3])
    torch.testing.assert_close(gW1, ref[0])
    torch.testing.assert_close(gb1, ref[1])


def test_backward_writes_into_given_buffers_and_returns_input_gradient():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=True)
    W = torch.randn(3, 2, generator=g, dtype=torch.float64)
    b = torch.zeros(2, dtype=torch.float64)
    (dx_ref,) = torch.autograd.grad(engine.dense(x, W, b).pow(2).sum(), x)
    gW, gb, dh_buf = (
        torch.empty(3, 2, dtype=torch.float64),
        torch.empty(2, dtype=torch.float64),
        torch.empty(7, 3, dtype=torch.float64),
    )
    with torch.no_grad():
        d = 2 * engine.dense(x, W, b)
        rW, rb, dx = engine.dense_backward(d, x, W, gW, gb, dh_out=dh_buf)
    assert rW is gW and rb is gb and dx is dh_buf
    torch.testing.assert_close(dx, dx_ref)
    torch.testing.assert_close(gW, x.detach().T @ d)
    torch.testing.assert_close(gb, d.sum(0))


def test_initialisations_have_their_formulas_variance():
    g = torch.Generator().manual_seed(3)
    n_in, n_out = 400, 300
    assert float(engine.xavier_normal(n_in, n_out, g).std()) == pytest.approx(
        engine.xavier_std(n_in, n_out), rel=0.02
    )
    assert float(engine.xavier_uniform(n_in, n_out, g).std()) == pytest.approx(
        engine.xavier_std(n_in, n_out), rel=0.02
    )
    assert float(engine.he_normal(n_in, n_out, g).std()) == pytest.approx(
        engine.he_std(n_in), rel=0.02
    )
    ref = torch.empty(n_out, n_in)
    torch.nn.init.xavier_normal_(ref)
    assert float(ref.std()) == pytest.approx(engine.xavier_std(n_in, n_out), rel=0.02)
    torch.nn.init.kaiming_normal_(ref, nonlinearity="relu")  # fan_in
    assert float(ref.std()) == pytest.approx(engine.he_std(n_in), rel=0.02)
    w = engine.torch_default((n_in, n_out), n_in, g)
    assert float(w.abs().max()) <= 1 / n_in**0.5
    assert float(w.std()) == pytest.approx((1 / n_in**0.5) / 3**0.5, rel=0.02)
    assert float(engine.zeros((2, 3)).abs().sum()) == 0.0
