"""The regularisation page's figures and formulas: every figure keeps the rulebook, shows
the run's numbers, and the formulas carry the numbers of the results they are built from."""

from __future__ import annotations

import numpy as np
import pytest

from dl_core import regularisation as R
from dl_core.regularisation import BNConfig, FitConfig, ScaleConfig
from viz import regularisation as vr
from viz import style
from viz.latex import num

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMALL = dict(n=12, width=8, steps=150)


@pytest.fixture(scope="module")
def curve():
    cfg = FitConfig(**SMALL)
    return cfg, R.train(cfg), R.alpha_sweep(cfg), R.p_sweep(cfg)


@pytest.fixture(scope="module")
def moons():
    cfg = FitConfig(data="moons", noise=0.3, **SMALL)
    return cfg, R.train(cfg), R.p_sweep(cfg)


@pytest.fixture(scope="module")
def bn():
    return R.train_bn(BNConfig.tiny())


def ok(fig) -> dict:
    spec = fig.to_plotly_json()
    assert style.violations(spec) == [], style.violations(spec)
    return spec


def names(spec) -> list[str]:
    return [t.get("name") for t in spec["data"]]


def test_first_screen_figures(curve, moons):
    cfg, res, _, _ = curve
    spec = ok(vr.loss_curves(res))
    assert {"train", "validation", "test", "noise σ²"} <= set(names(spec))
    assert any(f"k* = {int(res.best_step[0])}" in a["text"] for a in spec["layout"]["annotations"])
    spec = ok(vr.fit_figure(res, R.make_data("curve", cfg.n, cfg.noise, 0)))
    assert f"early-stopped (k* = {int(res.best_step[0])})" in names(spec)
    mcfg, mres, _ = moons
    spec = ok(vr.fit_figure(mres, R.make_data("moons", mcfg.n, mcfg.noise, 0)))
    assert any(n and n.startswith("early-stopped boundary") for n in names(spec))  # p = 0.5 at k*
    heat = spec["data"][0]
    assert heat["type"] == "heatmap" and len(style._array(heat["z"])) == R.GRID_2D**2
    ok(vr.loss_curves(mres))


def test_gap_and_early_stopping_formulas_carry_the_numbers(curve):
    _, res, sweep, _ = curve
    b = int(res.best[0])
    gap = vr.gap_latex(res)
    assert num(res.test[0, -1] - res.train[0, -1], 3) in gap and num(res.test[0, b], 3) in gap
    lines = vr.early_latex(res)
    assert f"= {int(res.best_step[0])}" in lines[0] and num(res.val[0, b], 4) in lines[0]
    spec = ok(vr.path_figure(sweep))
    assert len(style._array(spec["data"][1]["x"])) == len(R.ALPHAS)  # one marker per α


def test_bias_variance_figures():
    bv = R.bias_variance(20, 0.3)
    spec = ok(vr.bias_variance_figure(bv, 3))
    _lo, hi = spec["layout"]["yaxis"]["range"]
    assert hi <= np.log10(max(4 * bv.test[0], 1.0)) + 1e-9  # exploding variances stay off the chart
    ok(vr.fits_figure(bv, 3))
    text = vr.bias_variance_latex(bv, 3)
    assert num(bv.bias2[3], 3) in text and num(bv.variance[3], 3) in text


def test_l2_figures_and_update_formulas(curve):
    _cfg, _res, sweep, _ = curve
    spec = ok(vr.alpha_figure(sweep, 1e-3))
    ann = next(a for a in spec["layout"]["annotations"] if "your α" in a["text"])
    assert ann["x"] == pytest.approx(-3.0)  # a log axis places annotations at log10(x)
    ok(vr.weights_figure(R.weights(sweep, 0), R.weights(sweep, 4), "L2"))
    runs = R.decoupling(FitConfig(alpha=0.01, **SMALL))
    rows = vr.decoupling_rows(runs)
    assert [r["run"] for r in rows] == [
        "SGD + L2 in the loss",
        "SGD + weight decay",
        "Adam + L2 in the loss",
        "AdamW",
    ]
    i = 3
    adamw = vr.update_latex(runs["adam"], 1, i)
    L = runs["adam"].last
    assert num(L["theta"][1, i], 6) in adamw[1] and "AdamW" in adamw[0]
    sgd = vr.update_latex(runs["sgd"], 0, i)
    assert num(runs["sgd"].last["theta"][0, i], 6) in sgd[1] and r"(1 - \eta\alpha)" in sgd[0]


def test_dropout_figures_and_formulas(curve, moons):
    _cfg, _, _, sweep = curve
    step = R.dropout_step(sweep, 5, sample=0, seed=1)  # p = 0.5
    spec = ok(vr.mask_figure(step))
    dropped = next(t for t in spec["data"] if t.get("name") == "dropped unit (r = 0)")
    assert len(dropped["x"]) == int((step.r1[:12] == 0).sum() + (step.r2[:12] == 0).sum())
    lines = vr.dropout_latex(step, 0)
    assert num(step.h1_drop[0], 4, zero=1e-15) in lines[1] and num(step.h1[0], 4) in lines[2]
    ok(vr.p_figure(sweep, 0.0))
    mc = R.monte_carlo(sweep, 3)
    ok(vr.mc_figure(mc, True))
    lines = vr.mc_latex(mc, 5)
    assert (
        num(mc.eval[5], 4) in lines[0]
        and num(mc.mean[5], 4) in lines[0]
        and num(mc.gap, 3) in lines[1]
    )
    _, _, msweep = moons
    ok(vr.mc_figure(R.monte_carlo(msweep, 3), False))


def test_batch_norm_figures_and_formulas(bn):
    ok(vr.bn_loss_figure(bn))
    ok(vr.grad_norm_figure(bn))
    ok(vr.mode_gap_figure(R.mode_gap(bn), bn.config.batch))
    w = R.bn_walk(bn, 1)
    lines = vr.bn_latex(w)
    assert num(w.mu, 4) in lines[1] and num(w.var, 4) in lines[1]
    assert num(w.y[0], 4) in lines[2] and num(w.y_eval[0], 4) in lines[3]


def test_scaling_figures_and_formulas():
    res = R.scaling(ScaleConfig())
    for p, color in ((res.raw, vr.RAW), (res.std, vr.STD)):
        spec = ok(vr.scaling_map(p, "x", color))
        assert spec["data"][0]["meta"] == style.HEIGHT
    ok(vr.scaling_gaps(res))
    lines = vr.scaling_latex(res)
    assert num(res.raw.kappa, 4) in lines[1] and num(res.std.kappa, 4) in lines[1]
    assert "reaches it at step" in vr.scaling_summary(res)
    assert "diverges" in vr.scaling_summary(R.scaling(ScaleConfig(c=2.2, steps=300)))


def test_log_ticks_are_plain_numbers():
    t = vr.log_ticks([0.003, 0.4])
    assert {"0.005", "0.01", "0.02", "0.1", "0.2"} <= set(t["ticktext"]) and t["type"] == "log"
    assert min(t["tickvals"]) >= 0.002 and max(t["tickvals"]) <= 0.6
    wide = vr.log_ticks([1e-16, 1.0])
    assert (
        len(wide["tickvals"]) <= 9
        and wide["ticktext"][0] == "1e-16"
        and wide["ticktext"][-1] == "1"
    )
    assert not any(c in "".join(wide["ticktext"]) for c in "µnpfkMGT")  # no SI prefixes
    assert vr.log_ticks([np.nan, -1.0]) == {}
