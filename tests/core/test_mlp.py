"""The playground's hand-written MLP against autograd, torch.nn and torch.optim."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dl_core import data2d, mlp
from dl_core.mlp import Config, Net, TorchMLP


def one_step_grads(cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """(hand-written gradient, autograd gradient) of the first full-batch step, float64.

    With dropout, the reference reuses the masks the hand-written step drew."""
    net = Net(replace(cfg, batch_size=0), dtype=torch.float64)
    ref = TorchMLP(net.cfg).load_flat(net)  # the parameters before the step
    net.advance(1, record=False)
    buf = net._buf(net.n_train)
    masks = buf.mask if cfg.dropout > 0 else None
    with torch.enable_grad():
        ref.loss(net.F_train, net.Y_train, masks).backward()
    return net.grad.clone(), ref.flat(grad=True)


GRAD_CASES = [
    dict(),
    dict(activation="relu"),
    dict(activation="sigmoid", hidden=(3, 5, 2)),
    dict(activation="linear", hidden=()),
    dict(dataset="spiral3"),
    dict(dataset="blobs3", activation="relu"),
    dict(dataset="plane"),
    dict(dataset="mixture", activation="sigmoid"),
    dict(batch_norm=True),
    dict(batch_norm=True, activation="relu", dataset="spiral3", hidden=(5, 3, 4)),
    dict(batch_norm=True, activation="linear", dataset="plane"),
    dict(dropout=0.3),
    dict(dropout=0.5, batch_norm=True, activation="relu"),
    dict(regularization="l2", reg_rate=0.05),
    dict(regularization="l1", reg_rate=0.05, features=mlp.FEATURES),
]


@pytest.mark.parametrize("kw", GRAD_CASES, ids=[str(k) for k in GRAD_CASES])
def test_gradient_matches_autograd(kw):
    mine, ref = one_step_grads(replace(Config.tiny(), **kw))
    assert mine.shape == ref.shape
    assert torch.allclose(mine, ref, atol=1e-12, rtol=1e-9), float((mine - ref).abs().max())


def test_gradient_matches_finite_differences():
    """Central differences of the full-batch loss (penalty included) in float64."""
    cfg = replace(Config.tiny(), hidden=(4, 3), regularization="l2", reg_rate=0.1)
    mine, _ = one_step_grads(cfg)
    net = Net(cfg, dtype=torch.float64)
    ref = TorchMLP(cfg).load_flat(net)
    theta0 = ref.flat()
    h = 1e-6
    for k in range(0, len(theta0), 3):
        vals = []
        for sgn in (1, -1):
            t = theta0.clone()
            t[k] += sgn * h
            net.theta.copy_(t)
            vals.append(TorchMLP(cfg).load_flat(net).loss(net.F_train, net.Y_train).item())
        assert abs((vals[0] - vals[1]) / (2 * h) - float(mine[k])) < 1e-7


OPT_CASES = [
    dict(optimizer="sgd", lr=0.1),
    dict(optimizer="momentum", lr=0.05, momentum=0.8),
    dict(optimizer="adam", lr=0.01),
    dict(optimizer="adam", lr=0.01, dataset="spiral3", activation="relu"),
    dict(optimizer="momentum", lr=0.05, batch_norm=True),
    dict(optimizer="sgd", lr=0.05, regularization="l1", reg_rate=0.01, dataset="mixture"),
]


@pytest.mark.parametrize("kw", OPT_CASES, ids=[str(k) for k in OPT_CASES])
def test_training_matches_torch_optim(kw):
    """50 steps of the hand-written step vs nn.Module + autograd + torch.optim."""
    assert mlp.reference_gap(replace(Config.tiny(), **kw), steps=50) < 1e-9


def test_adam_with_batch_norm_matches_closely():
    # The biases before a batch norm have a zero gradient up to rounding; Adam divides
    # that rounding noise by its own size, so agreement is looser here.
    cfg = replace(Config.tiny(), batch_norm=True, optimizer="adam")
    assert mlp.reference_gap(cfg, steps=30) < 1e-6


def test_deterministic():
    a, b = mlp.train(Config.tiny()), mlp.train(Config.tiny())
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    c = mlp.train(replace(Config.tiny(), seed=1))
    assert not np.array_equal(a.theta, c.theta)


def test_minibatch_dropout_deterministic():
    cfg = replace(Config.tiny(), batch_size=10, dropout=0.2, steps=50)
    np.testing.assert_array_equal(mlp.train(cfg).theta, mlp.train(cfg).theta)


CONVERGENCE = [  # dataset, extra config, metric, threshold
    ("circles", {}, "test_acc", 0.95),
    ("xor", {}, "test_acc", 0.88),
    ("gaussians", {}, "test_acc", 0.97),
    ("moons", {}, "test_acc", 0.97),
    ("blobs3", {}, "test_acc", 0.97),
    ("spiral", dict(n_points=400, hidden=(8, 8), steps=600), "train_acc", 0.95),
    ("spiral3", dict(n_points=400, hidden=(8, 8), steps=600), "train_acc", 0.9),
    ("plane", {}, "test_mse", 0.005),
    ("mixture", dict(hidden=(8, 8), steps=600), "test_mse", 0.05),
]


@pytest.mark.parametrize(
    "dataset,kw,metric,threshold", CONVERGENCE, ids=[c[0] for c in CONVERGENCE]
)
def test_tiny_configs_converge(dataset, kw, metric, threshold):
    r = mlp.train(replace(Config.tiny(), dataset=dataset, **kw))
    assert r.diverged_at is None
    if metric == "test_mse":
        assert r.test_loss[-1] < threshold
        assert math.isnan(r.test_acc[-1])
    else:
        assert getattr(r, metric)[-1] >= threshold
    assert r.train_loss[-1] < r.train_loss[0]


def test_divergence_is_reported_not_raised():
    cfg = replace(Config.tiny(), dataset="plane", optimizer="sgd", lr=50.0, activation="relu")
    r = mlp.train(cfg)
    assert r.diverged_at is not None and 1 <= r.diverged_at <= cfg.steps
    assert np.isfinite(r.theta).all()  # the last finite parameters are kept for the plots
    net = Net(cfg)
    net.advance(100)
    assert net.diverged_at is not None
    assert "diverged at step" in mlp.diagnose(net)
    assert net.advance(10) == 0  # a diverged network does not train on
    g = mlp.grid(net, 10)
    assert g.output.shape == (10, 10)


def test_changing_lr_keeps_the_network():
    net = Net(Config.tiny())
    net.advance(20)
    theta = net.theta.clone()
    assert net.update(replace(net.cfg, lr=0.001, batch_size=16, regularization="l2", reg_rate=0.1))
    assert torch.equal(net.theta, theta) and net.step_count == 20
    net.advance(5)
    assert net.epoch == pytest.approx(20 + 5 * 16 / net.n_train)
    assert not net.update(replace(net.cfg, hidden=(3,)))
    assert not net.update(replace(net.cfg, dataset="xor"))


def test_neuron_walkthrough_matches_network():
    cfg = replace(Config.tiny(), hidden=(4, 3), batch_norm=True)
    net = Net(cfg)
    net.advance(30)
    g = mlp.grid(net, 3)
    x = (float(g.xs[2]), float(g.ys[0]))  # grid cell [y=0, x=2]
    w = mlp.neuron(net, 2, 3, x)
    assert w.a == pytest.approx(float(np.dot(w.h_prev, w.w)) + w.b, abs=1e-5)
    mu, var, gamma, beta = w.bn
    assert (mu, var) == (float(net.layers[1].running_mean[2]), float(net.layers[1].running_var[2]))
    assert w.a_norm == pytest.approx(gamma * (w.a - mu) / math.sqrt(var + mlp.BN_EPS) + beta)
    assert w.h == pytest.approx(mlp.activation_value(w.activation, w.a_norm), abs=1e-5)
    assert w.h == pytest.approx(g.layers[2][0, 2, 2], abs=1e-5)
    out = mlp.neuron(net, 3, 1, x)  # the output neuron: sigmoid of a
    assert out.activation == "sigmoid"
    assert out.h == pytest.approx(g.output[0, 2], abs=1e-5)


# ---------------------------------------------------------------- dropout and batch norm


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_matches_torch_nn_dropout(p):
    """Train mode: the same mask gives torch's output (0 or h / (1 - p)), and the mean over
    many masks keeps h; eval mode: the identity, as nn.Dropout.eval()."""
    g = torch.Generator().manual_seed(3)
    h = torch.randn(4000, 8, generator=g, dtype=torch.float64)
    drop = torch.nn.Dropout(p)
    torch.manual_seed(0)
    ref = drop(h)  # train mode (a fresh module is in training mode)
    r = (ref != 0).double()
    mine, r_used = mlp.dropout(h, p, r=r)
    torch.testing.assert_close(mine, ref, rtol=0, atol=1e-15)
    assert torch.equal(r_used, r)
    ours, r2 = mlp.dropout(h, p, generator=g)  # our own Bernoulli(1 - p) draw
    torch.testing.assert_close(ours, h * r2 / (1 - p))  # dropped: 0; kept: h / (1 - p)
    assert set(torch.unique(r2).tolist()) == {0.0, 1.0}
    assert float(r2.mean()) == pytest.approx(1 - p, abs=0.02)
    assert float(ours.mean()) == pytest.approx(float(h.mean()), abs=0.03)  # E[out] = h
    assert float(ref.mean()) == pytest.approx(float(h.mean()), abs=0.03)
    drop.eval()
    assert torch.equal(mlp.dropout(h, p, train=False)[0], drop(h)) and torch.equal(drop(h), h)


def test_dropout_view_uses_the_network_and_keeps_the_mean():
    net = Net(replace(Config.tiny(), hidden=(6, 5), dropout=0.3))
    net.advance(40)
    v = mlp.dropout_view(net, 2, 0.3, point=4)
    H = net.forward_eval(net.F_train)[2].double().numpy()
    np.testing.assert_allclose(v.h, H[4], rtol=1e-6)
    np.testing.assert_allclose(v.h_train, v.h * v.r / 0.7)
    assert set(v.r.tolist()) <= {0.0, 1.0} and v.kept == pytest.approx(0.7, abs=0.01)
    se = np.abs(v.h) * np.sqrt(0.3 / 0.7 / v.draws)  # the standard error of the mean
    assert (np.abs(v.mean_train - v.h) <= 5 * se + 1e-12).all()  # E[h r / (1 - p)] = h
    with pytest.raises(ValueError, match="hidden"):
        mlp.dropout_view(Net(replace(Config.tiny(), hidden=())), 1, 0.3)


@pytest.mark.parametrize("batch", [0, 32])
def test_batch_norm_view_matches_torch_batchnorm1d(batch):
    """A training batch through nn.BatchNorm1d in train mode gives mu_B, sigma_B^2, the
    normalised output and the next running averages; in eval mode, the running averages."""
    cfg = replace(Config.tiny(), hidden=(6, 5), batch_norm=True, batch_size=batch)
    net = Net(cfg, dtype=torch.float64)
    net.advance(25)
    v = mlp.batch_norm_view(net, 2, seed=1)
    idx = mlp.training_batch(net, seed=1)
    assert len(idx) == (net.n_train if batch == 0 else batch) == len(v.a)
    # the pre-activations of layer 2, from torch.nn in training mode (batch statistics below)
    ref = TorchMLP(cfg).load_flat(net)
    X = net.F_train[idx]
    a1 = ref.norms[0](ref.linears[0](X))
    a2 = ref.linears[1](ref.act(a1)).detach()
    np.testing.assert_allclose(v.a, a2.numpy(), rtol=1e-10, atol=1e-12)
    bn = torch.nn.BatchNorm1d(5, eps=mlp.BN_EPS, momentum=mlp.BN_MOMENTUM, dtype=torch.float64)
    L = net.layers[1]
    with torch.no_grad():
        bn.weight.copy_(L.gamma), bn.bias.copy_(L.beta)
        bn.running_mean.copy_(L.running_mean), bn.running_var.copy_(L.running_var)
    np.testing.assert_allclose(v.running_mean, L.running_mean.numpy())
    out = bn(a2).detach()  # train mode: the batch's own statistics, running stats updated
    np.testing.assert_allclose(v.train_out, out.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v.mu_B, a2.mean(0).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v.var_B, a2.var(0, unbiased=False).numpy(), rtol=1e-10)
    np.testing.assert_allclose(v.next_mean, bn.running_mean.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(v.next_var, bn.running_var.numpy(), rtol=1e-10)
    bn.eval()
    with torch.no_grad():
        bn.running_mean.copy_(L.running_mean), bn.running_var.copy_(L.running_var)
    np.testing.assert_allclose(v.eval_out, bn(a2).detach().numpy(), rtol=1e-9, atol=1e-12)
    assert not np.allclose(v.train_out, v.eval_out)  # the two views differ


def test_running_statistics_match_torch_after_training():
    """The hand-written step updates the running averages as nn.BatchNorm1d does, and the
    network's evaluation (decision map, loss curves) is torch's eval mode."""
    cfg = replace(Config.tiny(), hidden=(6,), batch_norm=True, optimizer="sgd", lr=0.1)
    net = Net(cfg, dtype=torch.float64)
    ref = TorchMLP(cfg).load_flat(net)
    opt = mlp.reference_optimizer(cfg, ref.parameters())
    with torch.enable_grad():
        for _ in range(20):
            opt.zero_grad()
            ref.loss(net.F_train, net.Y_train).backward()
            opt.step()
    net.advance(20, record=False)
    bn = ref.norms[0]
    torch.testing.assert_close(net.layers[0].running_mean, bn.running_mean, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(net.layers[0].running_var, bn.running_var, rtol=1e-9, atol=1e-12)
    ref.eval()
    torch.testing.assert_close(net.forward_eval(net.F_test)[-1], ref(net.F_test).detach(),
                               rtol=1e-8, atol=1e-10)  # fmt: skip


@pytest.mark.parametrize("opt", mlp.OPTIMIZERS)
def test_weight_update_terms(opt):
    cfg = replace(Config.tiny(), optimizer=opt, lr=0.05, regularization="l2", reg_rate=0.01)
    net = Net(cfg, dtype=torch.float64)
    net.advance(7)
    u = mlp.weight_update(net, 2, 3, 1)
    assert u.reg == pytest.approx(0.01 * u.w_old)
    expected = {
        "sgd": -u.lr * u.g,
        "momentum": -u.lr * u.v,
        "adam": -u.lr * u.m_hat / (math.sqrt(u.s_hat) + cfg.eps),
    }[opt]
    assert u.delta == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert u.t == (7 if opt == "adam" else 0)
    if opt == "adam":  # the bias correction shown on the page uses this t
        assert u.m_hat == pytest.approx(u.m / (1 - cfg.beta1**u.t), rel=1e-12)
        net.update(replace(net.cfg, optimizer="sgd"))  # a new optimizer starts from t = 0
        net.update(replace(net.cfg, optimizer="adam"))
        net.advance(2)
        assert mlp.weight_update(net, 2, 3, 1).t == 2 and net.step_count == 9


def test_dead_relu_network_is_explained_not_silent():
    """SGD with eta = 10 kills every ReLU of the upper layers in one step: no NaN, no
    divergence, but no gradient either; the page must say why nothing happens."""
    cfg = Config(dataset="spiral3", hidden=(8,) * 6, activation="relu", optimizer="sgd", lr=10.0)
    net = Net(cfg)
    assert mlp.diagnose(net) is None  # not before training
    net.advance(51)
    assert net.diverged_at is None
    dead = mlp.dead_layers(net)
    assert dead and dead == list(range(dead[0], 7))  # from some layer up, all dead
    A = net.forward_eval(net.F_train)[dead[0]]  # (N, 8) outputs of the first dead layer
    assert float(A.abs().max()) == 0.0
    assert "stalled" in mlp.diagnose(net) and f"layer{'s' * (len(dead) > 1)} {dead[0]}" in (
        mlp.diagnose(net)
    )
    healthy = Net(replace(cfg, lr=0.03, optimizer="adam"))
    healthy.advance(50)
    assert mlp.dead_layers(healthy) == [] and mlp.diagnose(healthy) is None
    assert mlp.dead_layers(Net(replace(cfg, activation="tanh"))) == []


def test_confusion_matrix_and_grid():
    net = Net(replace(Config.tiny(), dataset="blobs3"))
    net.advance(100)
    C = mlp.confusion(net)
    assert C.shape == (3, 3) and C.sum() == len(net.F_test)
    assert np.trace(C) / C.sum() == pytest.approx(net.history.test_acc[-1])
    g = mlp.grid(net, 12)
    assert g.output.shape == (12, 12, 3)
    np.testing.assert_allclose(g.output.sum(-1), 1.0, atol=1e-5)
    assert [lay.shape[-1] for lay in g.layers] == [2, 6, 3]


def test_datasets():
    for name, info in data2d.DATASETS.items():
        X, y = data2d.make(name, 101, 0.2, seed=3)
        X2, y2 = data2d.make(name, 101, 0.2, seed=3)
        assert X.shape == (101, 2) and torch.equal(X, X2) and torch.equal(y, y2)
        assert X.abs().max() <= data2d.EXTENT + 1e-9
        if info.n_classes:
            assert set(y.tolist()) == set(range(info.n_classes))
        else:
            assert y.dtype == torch.float64 and y.abs().max() <= 1.2
    Xtr, _ytr, Xte, _yte = data2d.split(*data2d.make("xor", 100, 0.0, 0), 0.3, 0)
    assert (len(Xtr), len(Xte)) == (70, 30)


@pytest.mark.parametrize(
    "kw",
    [
        dict(dataset="moon"), dict(n_points=5), dict(n_points=10**6), dict(noise=0.9),
        dict(features=()), dict(features=("x1", "x1")), dict(features=("x3",)),
        dict(hidden=(4,) * 7), dict(hidden=(0,)), dict(hidden=(17,)), dict(activation="elu"),
        dict(lr=-1.0), dict(lr=float("nan")), dict(lr=1e99), dict(dropout=1.0),
        dict(optimizer="rmsprop"), dict(steps=10**9), dict(regularization="l3"),
    ],
)  # fmt: skip
def test_bad_configs_rejected(kw):
    with pytest.raises(ValueError):
        Config(**kw)


@settings(max_examples=15, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=0, max_size=3),
    activation=st.sampled_from(mlp.ACTIVATIONS),
    features=st.lists(st.sampled_from(mlp.FEATURES), min_size=1, max_size=7, unique=True),
    dataset=st.sampled_from(tuple(data2d.DATASETS)),
    batch_norm=st.booleans(),
    init=st.sampled_from(mlp.INITS),
)
def test_any_structure_matches_autograd(hidden, activation, features, dataset, batch_norm, init):
    cfg = Config(
        dataset=dataset, n_points=40, hidden=tuple(hidden), activation=activation,
        features=tuple(features), batch_norm=batch_norm, init=init,
    )  # fmt: skip
    mine, ref = one_step_grads(cfg)
    assert torch.allclose(mine, ref, atol=1e-10, rtol=1e-7)


def test_init_statistics():
    cfg = Config(hidden=(16, 16), init="he")
    W = Net(cfg, dtype=torch.float64).layers[1].W
    assert float(W.std()) == pytest.approx(math.sqrt(2 / 16), rel=0.3)
    cfg = Config(hidden=(16, 16), init="xavier")
    W = Net(cfg, dtype=torch.float64).layers[1].W
    assert float(W.abs().max()) <= math.sqrt(6 / 32)
    assert float(Net(Config(init="zeros")).theta.abs().sum()) == 0.0


def test_bench_records():
    recs = mlp.bench()
    assert [r["metric"] for r in recs] == ["test_accuracy", "steps_per_second", "steps_per_second"]
    spiral = recs[0]
    assert spiral["topic"] == "mlp" and spiral["target"] == 0.95
    assert spiral["reached"] and spiral["value"] >= 0.95 and spiral["steps"] <= 2000
    assert all(r["value"] > 0 and r["seconds"] > 0 for r in recs)
