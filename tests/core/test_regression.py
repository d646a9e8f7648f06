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


def test_linreg_lr_above_two_over_lambda_max_diverges_and_says_why():
    base = R.train_linreg(R.LinRegConfig.tiny())
    lam_max = base.eigenvalues[1]
    above = R.train_linreg(R.LinRegConfig(n=20, steps=400, lr=2.2 / lam_max))
    below = R.train_linreg(R.LinRegConfig(n=20, steps=400, lr=1.8 / lam_max))
    assert above.diverged_at is not None
    assert below.diverged_at is None and R.diagnose(below) is None
    assert f"$2/\\lambda_{{\\max}} = {2 / lam_max:.3g}$" in R.diagnose(above)
    # the Hessian (2/n) X^T X is the loss's own: central differences of the gradient
    x, y = torch.tensor(base.x), torch.tensor(base.y)
    H = np.zeros((2, 2))
    for j in range(2):
        e = torch.zeros(2, dtype=torch.float64)
        e[j] = 1e-5
        gp = R.linreg_loss_and_grad(torch.tensor(base.theta[3]) + e, x, y)[1]
        gm = R.linreg_loss_and_grad(torch.tensor(base.theta[3]) - e, x, y)[1]
        H[:, j] = ((gp - gm) / 2e-5).numpy()
    np.testing.assert_allclose(np.linalg.eigvalsh(H), base.eigenvalues, rtol=1e-6)


def test_full_batch_gd_converges_at_the_rate_of_its_hessian():
    res = R.train_linreg(R.LinRegConfig(lr=0.1, steps=300))
    e = np.hypot(*(res.theta - np.array(res.closed_form)).T)
    measured = (e[300] / e[150]) ** (1 / 150)
    rates = R.gd_rates(res)
    assert measured == pytest.approx(rates["rate"], rel=1e-3)
    lam_min, lam_max = res.eigenvalues
    assert rates["lr_best"] == pytest.approx(2 / (lam_min + lam_max))
    best = R.train_linreg(R.LinRegConfig(lr=rates["lr_best"], steps=100))
    e = np.hypot(*(best.theta - np.array(best.closed_form)).T)
    assert (e[100] / e[50]) ** (1 / 50) == pytest.approx(rates["rate_best"], rel=1e-3)


def test_batch_hessians_and_a_stochastic_run_that_diverges_below_two_over_lambda_max():
    """With batches each step follows its batch's Hessian: a run can diverge although
    eta < 2/lambda_max of the full data, and the message must not claim the opposite."""
    res = R.train_linreg(R.LinRegConfig(lr=0.3, steps=500, batch_size=1))
    assert res.config.lr < 2 / res.eigenvalues[1]
    assert res.diverged_at is not None
    lam_b = R.batch_lambda_max(res)
    assert lam_b.shape == (res.diverged_at,)
    idx = R._batches(res.config.n, 1, res.diverged_at, res.config.seed)
    for k in (0, 7, res.diverged_at - 1):
        xb = res.x[idx[k].numpy()]
        Xb = np.column_stack([xb, np.ones_like(xb)])
        assert lam_b[k] == pytest.approx(np.linalg.eigvalsh(2 * Xb.T @ Xb / len(xb))[-1])
    text = R.diagnose(res)
    assert "exceeds" not in text and "its batch's own Hessian" in text
    assert f"reached {lam_b.max():.3g}" in text
    full = R.train_linreg(R.LinRegConfig(lr=0.3, steps=50))
    np.testing.assert_allclose(R.batch_lambda_max(full), full.eigenvalues[1])


def test_logistic_claims_of_the_presets():
    """Overlapping classes: the loss levels off well above 0; separable ones: no minimum,
    the loss keeps falling and ||w|| keeps growing."""
    over = R.train_logreg(R.LogRegConfig(separation=0.5, lr=1.0, steps=300))
    assert over.loss[-1] > 0.5 and over.accuracy[-1] < 0.7
    assert abs(over.loss[-1] - over.loss[-50]) < 1e-6
    sep = [
        R.train_logreg(R.LogRegConfig(separation=6.0, lr=1.0, steps=s)) for s in (100, 500, 2000)
    ]
    assert all(r.accuracy[-1] == 1.0 for r in sep)
    norms = [np.linalg.norm(r.params[-1, :2]) for r in sep]
    assert norms[0] < norms[1] < norms[2]
    assert sep[0].loss[-1] > sep[1].loss[-1] > sep[2].loss[-1] > 0


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
    assert float(loss.detach()) == pytest.approx(float(ref.detach()), rel=1e-12)
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
    assert pt.y_hat == pytest.approx(
        float(torch.sigmoid(torch.tensor(pt.a, dtype=torch.float64))), rel=1e-12
    )
    assert pt.a == pytest.approx(float(X[0] @ params[:2] + params[2]), rel=1e-12)
    assert pt.dL_da == pytest.approx(pt.y_hat - pt.y, rel=1e-12)


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
