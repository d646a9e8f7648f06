"""dl_core.regression: gradients vs autograd, least squares vs lstsq, GD vs closed form."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dl_core import regression as R
from dl_core.data import line_1d, two_gaussians


def test_least_squares_matches_torch_lstsq():
    x, y = line_1d(80, 1.5, -1.0, 0.6, seed=3)
    ref = torch.linalg.lstsq(R.design(x), y[:, None]).solution[:, 0]
    np.testing.assert_allclose(R.least_squares(x, y).numpy(), ref.numpy(), rtol=1e-10)


def test_linreg_gradient_matches_autograd():
    x, y = line_1d(30, 2.0, 0.5, 1.0, seed=1)
    theta = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    loss, g = R.linreg_loss_and_grad(theta, x, y)
    loss.backward()
    np.testing.assert_allclose(g.detach().numpy(), theta.grad.numpy(), rtol=1e-12)


def test_gd_reaches_the_closed_form_solution():
    res = R.train_linreg(R.LinRegConfig(lr=0.2, steps=1500))
    assert res.diverged_at is None
    np.testing.assert_allclose(res.theta[-1], res.closed_form, atol=1e-8)
    assert res.loss[-1] == pytest.approx(res.loss_min, rel=1e-10)


def test_linreg_lr_above_two_over_L_diverges():
    base = R.train_linreg(R.LinRegConfig.tiny())
    L = base.eigenvalues[1]
    above = R.train_linreg(R.LinRegConfig(n=20, steps=400, lr=2.2 / L))
    below = R.train_linreg(R.LinRegConfig(n=20, steps=400, lr=1.8 / L))
    assert above.diverged_at is not None
    assert below.diverged_at is None


def test_minibatch_sgd_is_noisier_but_gets_close():
    full = R.train_linreg(R.LinRegConfig(steps=300, lr=0.05))
    sgd = R.train_linreg(R.LinRegConfig(steps=300, lr=0.05, batch_size=1))
    assert sgd.diverged_at is None
    # Noise: the per-step change of the loss fluctuates in sign for SGD, never for full batch.
    assert (np.diff(full.loss) <= 1e-12).all()
    assert (np.diff(sgd.loss) > 0).sum() > 20
    assert sgd.loss[-1] < 1.5 * sgd.loss_min


def test_logreg_loss_and_gradient_match_torch():
    X, y = two_gaussians(40, 2.0, seed=2)
    p = torch.tensor([0.5, -1.0, 0.2], dtype=torch.float64, requires_grad=True)
    loss, g = R.logreg_loss_and_grad(p, X, y)
    ref = F.binary_cross_entropy_with_logits(X @ p[:2] + p[2], y)
    assert float(loss) == pytest.approx(float(ref), rel=1e-12)
    ref.backward()
    np.testing.assert_allclose(g.detach().numpy(), p.grad.numpy(), rtol=1e-10)


def test_logreg_loss_is_finite_for_huge_logits():
    X, y = two_gaussians(10, 2.0, seed=0)
    loss, g = R.logreg_loss_and_grad(torch.tensor([500.0, 500.0, 0.0], dtype=torch.float64), X, y)
    assert np.isfinite(float(loss)) and torch.isfinite(g).all()


def test_logreg_learns_separable_data_and_point_walkthrough_agrees():
    res = R.train_logreg(R.LogRegConfig(separation=4.0, steps=200))
    assert res.accuracy[-1] >= 0.95
    assert res.loss[-1] < res.loss[0] * 0.5
    pt = R.logreg_point(res, k=7, i=3)
    params = torch.tensor(res.params[7])
    X, y = torch.tensor(res.X[3:4]), torch.tensor(res.y[3:4])
    loss, g = R.logreg_loss_and_grad(params, X, y)
    assert pt.loss == pytest.approx(float(loss), rel=1e-12)
    np.testing.assert_allclose([*pt.dL_dw, pt.dL_db], g.numpy(), rtol=1e-12)
    assert pt.p == pytest.approx(
        float(torch.sigmoid(torch.tensor(pt.z, dtype=torch.float64))), rel=1e-12
    )


def test_regression_runs_are_deterministic():
    a = R.train_logreg(R.LogRegConfig(batch_size=8, steps=50))
    b = R.train_logreg(R.LogRegConfig(batch_size=8, steps=50))
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.parametrize(
    "make",
    [lambda: R.LinRegConfig(n=1), lambda: R.LinRegConfig(lr=-0.1),
     lambda: R.LogRegConfig(steps=0), lambda: R.LogRegConfig(batch_size=-1)],
)  # fmt: skip
def test_bad_regression_configs_are_rejected(make):
    with pytest.raises(ValueError, match="must be"):
        make()


def test_linreg_step_walkthrough_matches_gradient_and_next_full_batch_step():
    res = R.train_linreg(R.LinRegConfig(steps=10))
    for k in (0, 4, 9):
        st = R.linreg_step(res, k)
        _, g = R.linreg_loss_and_grad(
            torch.tensor(res.theta[k]), torch.tensor(res.x), torch.tensor(res.y)
        )
        np.testing.assert_allclose([st.dL_dw, st.dL_db], g.numpy(), rtol=1e-12)
        np.testing.assert_allclose([st.w_new, st.b_new], res.theta[k + 1], rtol=1e-12)
