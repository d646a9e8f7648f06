"""Recurrent cells vs torch.nn, gradients through time vs autograd and finite
differences, training behaviour of tiny configs."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from dl_core import rnn
from dl_core.rnn import RNNConfig


def _module_and_weights(cell: str, D: int = 3, H: int = 5):
    core = rnn.make_core(cell, D, H).double()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in core.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.7)
    return core, rnn.core_weights(core)


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_hand_written_cells_match_torch_modules(cell):
    core, W = _module_and_weights(cell)
    x = torch.randn(4, 7, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    h_torch, state = core(x)
    u = rnn.unroll(cell, W, x)
    torch.testing.assert_close(u.h, h_torch, atol=1e-12, rtol=0)
    if cell == "lstm":
        torch.testing.assert_close(u.c[:, -1], state[1][0], atol=1e-12, rtol=0)
    assert set(u.gates) == set(rnn.GATES[cell])


def test_gru_reset_gate_multiplies_the_recurrent_bias_too():
    """PyTorch's GRU: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); putting b_hn
    outside the bracket would give a different h."""
    core, W = _module_and_weights("gru")
    x = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    h_torch, _ = core(x)
    W_wrong = dict(W, b_hh=W["b_hh"].clone())
    H = 5
    W_wrong["b_hh"][2 * H :] = 0.0
    W_wrong["b_ih"] = W["b_ih"].clone()
    W_wrong["b_ih"][2 * H :] += W["b_hh"][2 * H :]
    assert float((rnn.unroll("gru", W_wrong, x).h - h_torch).detach().abs().max()) > 1e-3


def test_cho_gru_is_a_different_function_except_where_the_reset_commutes():
    """Cho et al. 2014: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn); PyTorch: r * (W_hn h +
    b_hn). With a diagonal W_hn and b_hn = 0 the two are the same; in general they are not."""
    core, W = _module_and_weights("gru")
    x = torch.randn(3, 6, 3, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    H = 5
    general = rnn.unroll("gru", W, x, cho=True).h
    assert float((general - core(x)[0]).detach().abs().max()) > 1e-3
    Wd = {k: v.clone() for k, v in W.items()}
    Wd["W_hh"][2 * H :] = torch.diag(torch.diagonal(W["W_hh"][2 * H :]))
    Wd["b_hh"][2 * H :] = 0.0
    torch.testing.assert_close(
        rnn.unroll("gru", Wd, x, cho=True).h, rnn.unroll("gru", Wd, x).h, atol=1e-12, rtol=0
    )
    # the reset gate acts before the product: set r = 1 by hand and the two agree again
    Wr = {k: v.clone() for k, v in W.items()}
    Wr["b_ih"][:H] = 50.0  # sigma(50 + ...) = 1 to double precision
    torch.testing.assert_close(
        rnn.unroll("gru", Wr, x, cho=True).h, rnn.unroll("gru", Wr, x).h, atol=1e-12, rtol=0
    )


def test_rnn_bptt_by_hand_matches_autograd():
    core, W = _module_and_weights("rnn", D=2, H=4)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    v = torch.randn(4, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    xr = x.clone().requires_grad_(True)
    h, _ = core(xr[None])
    (gx,) = torch.autograd.grad((h[0, -1] * v).sum(), xr)  # L = v . h_T
    dx, jn = rnn.rnn_bptt(W, x, v)
    torch.testing.assert_close(dx, gx, atol=1e-12, rtol=0)
    assert jn.shape == (6,) and bool((jn > 0).all())


@pytest.fixture(scope="module")
def tiny_results():
    out = {}
    for cell in rnn.CELLS:
        cfg = RNNConfig.tiny(cell=cell)
        out[cell] = (cfg, rnn.train(cfg, device="cpu"))
    return out


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_tiny_sine_converges(tiny_results, cell):
    cfg, res = tiny_results[cell]
    assert res.diverged_at is None
    limit = {"rnn": 2e-2, "lstm": 5e-3, "gru": 5e-3}[cell]
    assert res.final_metric < limit, res.final_metric  # the constant-zero forecast scores ~0.5
    assert res.loss[-1] < res.loss[0] / 20
    assert len(res.loss) == cfg.steps and res.device == "cpu"


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_walkthrough_numbers_obey_the_equations(tiny_results, cell):
    _, res = tiny_results[cell]
    s = rnn.time_step(res, example=1, t=5, j=2)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    assert s.h == pytest.approx(float(rnn.example_states(res, 1).h[0, 4, 2]), abs=1e-12)
    if cell == "rnn":
        assert s.h == pytest.approx(math.tanh(s.Wx["h"] + s.Wh["h"]), abs=1e-12)
    elif cell == "lstm":
        i, f, g, o = (s.act[k] for k in "ifgo")
        assert i == pytest.approx(sig(s.pre["i"])) and g == pytest.approx(math.tanh(s.pre["g"]))
        assert s.c == pytest.approx(f * s.c_prev + i * g, abs=1e-12)
        assert s.h == pytest.approx(o * math.tanh(s.c), abs=1e-12)
    else:
        r, u, n = (s.act[k] for k in "run")  # u: the update gate, PyTorch's z
        assert r == pytest.approx(sig(s.Wx["r"] + s.Wh["r"]))
        assert u == pytest.approx(sig(s.Wx["u"] + s.Wh["u"]))
        assert n == pytest.approx(math.tanh(s.Wx["n"] + r * s.Wh["n"]), abs=1e-12)
        assert s.h == pytest.approx((1 - u) * n + u * s.h_prev, abs=1e-12)
    W_hy, b_y = res.state["W_hy"].astype(np.float64), res.state["b_y"].astype(np.float64)
    assert s.y_hat[0] == pytest.approx(float(W_hy[0] @ np.array(s.h_vec) + b_y[0]), abs=1e-9)


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_hand_written_cell_equals_fused_module_on_trained_weights(tiny_results, cell):
    _, res = tiny_results[cell]
    assert rnn.handwritten_vs_fused(res) < 1e-5


def test_training_is_deterministic(tiny_results):
    cfg, res = tiny_results["lstm"]
    again = rnn.train(replace(cfg, steps=20), device="cpu")
    np.testing.assert_array_equal(again.loss, res.loss[:20])


@pytest.mark.parametrize("task", ["sine", "memory", "reber"])
def test_input_gradient_norms_match_finite_differences(task):
    cfg = RNNConfig(task=task, cell="lstm", hidden=4, seq_len=5, gap=3, seed=5)
    state = {
        k: v.numpy()
        for k, v in {
            **rnn.core_weights(rnn.init_model(cfg).core),
            "W_hy": rnn.init_model(cfg).head.weight.detach(),
            "b_y": rnn.init_model(cfg).head.bias.detach(),
        }.items()
    }
    n = 2
    g = rnn.input_gradient_norms(cfg, state, n=n)
    data = rnn.make_data(cfg, n, cfg.seed + 1)
    model = rnn.model_from_state(cfg, state).double()
    T = data.x.shape[1]
    last = (data.mask * torch.arange(1, T + 1)).argmax(1)

    def loss_b(x, b):
        y = data.y.double() if data.y.is_floating_point() else data.y
        per = rnn.elementwise_loss(cfg, model(x[b : b + 1])[0], y[b : b + 1])
        return float(per[0, last[b]].detach())

    x0 = data.x.double()
    eps = 1e-6
    norms = torch.zeros(n, T, dtype=torch.float64)
    for b in range(n):
        for t in range(T):
            grad = []
            for d in range(x0.shape[2]):
                xp, xm = x0.clone(), x0.clone()
                xp[b, t, d] += eps
                xm[b, t, d] -= eps
                grad.append((loss_b(xp, b) - loss_b(xm, b)) / (2 * eps))
            norms[b, t] = torch.tensor(grad).norm()
    for k in range(T):
        vals = [float(norms[b, last[b] - k]) for b in range(n) if last[b] - k >= 0]
        if vals:
            assert g[k] == pytest.approx(np.mean(vals), rel=1e-5, abs=1e-9)
        else:
            assert math.isnan(g[k])


def test_gru_convention_gap_on_trained_weights(tiny_results):
    assert rnn.gru_convention_gap(tiny_results["gru"][1]) > 1e-3  # not rounding
    assert rnn.gru_convention_gap(tiny_results["lstm"][1]) == 0.0


def test_initial_state_is_the_weights_training_starts_from():
    cfg = RNNConfig(cell="gru", hidden=6)
    state = rnn.initial_state(cfg)
    model = rnn.init_model(cfg)
    np.testing.assert_array_equal(state["W_hh"], model.core.weight_hh_l0.detach().numpy())
    np.testing.assert_array_equal(state["W_hy"], model.head.weight.detach().numpy())
    assert set(state) == {"W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y"}


def test_at_the_page_defaults_the_lstm_keeps_more_gradient_at_long_range():
    """The lesson of the gradient chart, measured at the defaults (the page's are RNNConfig's):
    before training, an input 23 steps back gets far more gradient through the LSTM (forget
    bias 1) than through the vanilla RNN (measured: about 1,300x); so does the GRU."""
    cfg = RNNConfig()
    g = {c: rnn.input_gradient_norms(replace(cfg, cell=c), rnn.initial_state(replace(cfg, cell=c))) for c in rnn.CELLS}  # fmt: skip
    k = cfg.seq_len - 1
    assert g["lstm"][k] > 100 * g["rnn"][k], (g["lstm"][k], g["rnn"][k])
    assert g["gru"][k] > g["rnn"][k]
    # and the vanilla RNN's gradient vanishes with k: a thousand times smaller 20 steps back
    assert g["rnn"][k] < 1e-3 * g["rnn"][:3].max()


def test_gradient_comparison_before_and_after_training(tiny_results):
    results = [tiny_results[c][1] for c in rnn.CELLS]
    cmp = rnn.gradient_comparison(results)
    T = results[0].config.seq_len
    assert set(cmp.initial) == set(cmp.trained) == set(rnn.CELLS)
    assert cmp.k_long == T - 1
    assert cmp.ratio_initial == pytest.approx(
        cmp.initial["lstm"][T - 1] / cmp.initial["rnn"][T - 1]
    )
    assert cmp.ratio_trained == pytest.approx(
        cmp.trained["lstm"][T - 1] / cmp.trained["rnn"][T - 1]
    )
    lstm = tiny_results["lstm"][1]
    f = rnn.unroll("lstm", rnn._weights64(lstm), torch.from_numpy(lstm.example_x).double())
    assert 0 < cmp.forget_mean < 1
    assert cmp.forget_mean == pytest.approx(float(f.gates["f"].mean()), rel=1e-12)
    one = rnn.gradient_comparison(results[2:])  # the GRU alone: no LSTM/RNN ratio after training
    assert one.ratio_trained is None and one.forget_mean is None and one.ratio_initial > 0


def test_exploding_gradients_are_reported_and_clipping_tames_them():
    cfg = RNNConfig(
        task="sine", cell="rnn", seq_len=100, optimizer="sgd", lr=1.0, clip=0.0, steps=30
    )
    res = rnn.train(cfg, device="cpu")
    assert res.diverged_at is not None and res.diverged_at <= 30
    assert math.isnan(res.final_metric)
    lesson = rnn.diagnose(res)
    assert f"step {res.diverged_at}" in lesson and "clipping" in lesson
    clipped = rnn.train(replace(cfg, clip=1.0), device="cpu")
    assert clipped.diverged_at is None and rnn.diagnose(clipped) is None
    assert float(clipped.grad_norm.max()) < float(res.grad_norm[np.isfinite(res.grad_norm)].max())


def test_memory_task_short_gap_is_learned():
    cfg = RNNConfig.tiny(task="memory", cell="gru", gap=5, steps=200)
    res = rnn.train(cfg, device="cpu")
    assert res.final_metric >= 0.9, res.final_metric  # chance is 0.25


def test_reber_model_predicts_legal_symbols_and_samples_valid_strings():
    cfg = RNNConfig.tiny(task="reber", cell="lstm", hidden=24, steps=200, lr=0.02)
    res = rnn.train(cfg, device="cpu")
    assert res.final_metric >= 0.9, res.final_metric
    assert len(res.samples) == rnn.N_SAMPLES
    assert res.valid_fraction >= 0.5, res.samples


def test_truncated_bptt_chunks_cover_the_sequence():
    assert rnn._chunks(10, 0) == [(0, 10)]
    assert rnn._chunks(10, 4) == [(0, 4), (4, 8), (8, 10)]
    res = rnn.train(RNNConfig.tiny(bptt=4, steps=30), device="cpu")
    assert res.diverged_at is None and len(res.loss) == 30


def test_truncated_bptt_cuts_the_gradient_to_the_remembered_symbol():
    """Only the last chunk carries the memory task's loss: with bptt < gap + 2
    the first input gets no gradient at all."""
    cfg = RNNConfig.tiny(task="memory", gap=6, bptt=4)
    model = rnn.init_model(cfg)
    data = rnn.make_data(cfg, 4, 0)
    x = data.x.clone().requires_grad_(True)
    state, grads = None, []
    for s, e in rnn._chunks(cfg.length, cfg.bptt):
        out, state = model(x[:, s:e], state)
        loss = (rnn.elementwise_loss(cfg, out, data.y[:, s:e]) * data.mask[:, s:e]).sum()
        grads.append(torch.autograd.grad(loss, x, allow_unused=True)[0])
        state = tuple(v.detach() for v in state)
    total = sum(g for g in grads if g is not None)
    assert float(total[:, 0].abs().max()) == 0.0
    assert float(total[:, -1].abs().max()) > 0.0


@pytest.mark.parametrize(
    "bad",
    [
        dict(task="weather"),
        dict(cell="transformer"),
        dict(hidden=0),
        dict(hidden=rnn.MAX_HIDDEN + 1),
        dict(seq_len=rnn.MAX_SEQ_LEN + 1),
        dict(gap=rnn.MAX_GAP + 1),
        dict(steps=rnn.MAX_STEPS + 1),
        dict(lr=float("nan")),
        dict(clip=-1.0),
        dict(batch=0),
        dict(hidden=2.5),
    ],
)
def test_bad_configs_are_rejected_with_a_message(bad):
    with pytest.raises(ValueError, match="must"):
        RNNConfig(**bad)


def test_bench_record():
    (rec,) = rnn.bench()
    assert rec["topic"] == "rnn" and rec["task"] == "sine" and rec["metric"] == "mse"
    assert rec["target"] == 1e-3
    assert rec["reached"] == (rec["value"] <= 1e-3)
    assert rec["reached"], rec
    assert rec["steps"] == RNNConfig().steps


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(hidden=128, seq_len=120, steps=3000), dict(task="memory", gap=100, steps=3000),
     dict(task="reber", hidden=96, steps=3000), dict(hidden=1, seq_len=2, steps=3000)],
)  # fmt: skip
def test_within_budget_caps_the_work_of_any_run(kw):
    cfg = RNNConfig(**kw)
    capped = rnn.within_budget(cfg)
    assert capped.work <= rnn.WORK_BUDGET
    assert capped.steps >= 1
    assert replace(capped, steps=cfg.steps) == cfg  # only the steps change
    if cfg.work <= rnn.WORK_BUDGET:
        assert capped == cfg  # a run within the budget is untouched (the default among them)
    else:
        assert (capped.steps + 1) * cfg.work / cfg.steps > rnn.WORK_BUDGET  # the largest cap
