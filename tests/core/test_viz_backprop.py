"""The computational graph of the backprop page shows every weight, value and gradient."""

from __future__ import annotations

import pytest

from dl_core import backprop as bp
from viz import backprop as vb
from viz import latex, style


@pytest.mark.parametrize(
    ("arch", "loss"), [("2-2-1", "mse"), ("2-3-1", "softmax_ce"), ("2-3-2-1", "bce")]
)
def test_graph_labels_every_weight_and_node(arch, loss):
    cfg = bp.TinyConfig(arch, "tanh", loss, 3, 1.0, 1, 0.5)
    wt = bp.walkthrough(cfg, None)
    fig = vb.graph(wt)
    texts = [a.text for a in fig.layout.annotations]
    weights = [float(w) for lay in wt.layers for w in lay.W.ravel()]
    n_units = len(wt.x) + sum(len(lay.a) for lay in wt.layers)
    # one label per weight, then one box per node and the loss, then the column titles
    assert texts[: len(weights)] == [vb._fmt(w) for w in weights]
    boxes = texts[len(weights) : len(weights) + n_units + 1]
    assert boxes[0].startswith(f"x₁ = {vb._fmt(wt.x[0])}<br>")
    assert boxes[len(wt.x)].startswith(f"h₁ = {vb._fmt(wt.layers[0].h[0])}<br>")  # a hidden unit
    assert f"δ = {vb._fmt(wt.layers[0].delta[0])}" in boxes[len(wt.x)]
    assert boxes[len(wt.x) + len(wt.layers[0].a)].startswith("h₁" if len(wt.layers) > 2 else "a₁")
    assert boxes[-1].startswith(f"L = {vb._fmt(wt.L)}<br>")
    assert len(texts) == len(weights) + n_units + 1 + len(wt.layers) + 2
    # one line per weight (its sign as colour), the hover points, the logits' lines to L
    lines = [t for t in fig.data if t.mode == "lines" and t.line.dash != "dot"]
    assert [t.line.color == vb.POS for t in lines] == [w >= 0 for w in weights]
    assert {vb.POS, vb.NEG} == {style.POSITIVE, style.NEGATIVE}  # the rulebook's sign colours
    widths = [t.line.width for t in lines]
    assert max(widths) == pytest.approx(7.0) and min(widths) >= 1.0  # 1 + 6 |w| / max |w|
    assert len([t for t in fig.data if t.line.dash == "dot"]) == len(wt.layers[-1].a)
    hover = [t for t in fig.data if t.mode == "markers"]
    assert [len(t.x) for t in hover] == [len(weights), n_units + 1]


def test_one_formatter_for_chart_and_formula():
    """A number reads the same in the graph and in the formulas (issue 18)."""
    wt = bp.walkthrough(bp.TinyConfig(seed=2))
    w = float(wt.layers[0].W[0, 0])
    assert vb._fmt(w).replace("−", "-") == vb.num(w)  # plain number: same digits
    assert vb.num(w) in vb.forward_latex(wt)[0]


def test_training_figure_has_two_axes():
    res = bp.train(bp.DeepConfig.tiny())
    fig = vb.training_figure(res)
    assert fig.data[0].yaxis in (None, "y") and fig.data[1].yaxis == "y2"
    assert fig.layout.yaxis.title.text and fig.layout.yaxis2.title.text
    lo, hi = fig.layout.yaxis2.range
    assert lo == pytest.approx(max(0.0, res.accuracy.min() - 0.05)) and hi > 1  # zoomed
    assert style.violations(fig.to_plotly_json()) == []


def test_vanishing_note_quotes_the_run():
    """Issue 13, item 4: the preset's figure is the run's, not a hand-written 10^-20."""
    cfg = bp.DeepConfig(depth=10, width=32, activation="sigmoid", init="small", steps=0)
    res = bp.train(cfg)
    note = vb.vanishing_note(cfg, res)
    ratio = res.grad_norms[0][0] / res.grad_norms[0][-1]
    assert f"{ratio:.1e}" in note and "0.25·0.01·√32 ≈ 0.0141" in note
    assert f"{ratio:.1e}" in bp.diagnose(res)  # the diagnosis says the same figure


def test_sweep_caption_says_what_the_sweep_shows():
    s = bp.eps_sweep(bp.TinyConfig(activation="relu"), kink=True)
    text = vb.sweep_caption(s, True, "relu")
    assert f"{s['float64'].min():.3g}" in text and s["float64"].min() > 0.3
    smooth = bp.eps_sweep(bp.TinyConfig())
    k = int(smooth["float64"].argmin())
    assert f"float64: {latex.plain(smooth['eps'][k])} " in vb.sweep_caption(
        smooth, False, "sigmoid"
    )
    assert k == 7  # 1e-5: near the cube root of float64's rounding unit, as theory says
