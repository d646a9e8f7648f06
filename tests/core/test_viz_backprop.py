"""The computational graph of the backprop page shows every weight, value and gradient."""

from __future__ import annotations

import pytest

from dl_core import backprop as bp
from viz import backprop as vb


@pytest.mark.parametrize(
    ("arch", "loss"), [("2-2-1", "mse"), ("2-3-1", "softmax_ce"), ("2-3-2-1", "bce")]
)
def test_graph_labels_every_weight_and_node(arch, loss):
    cfg = bp.TinyConfig(arch, "tanh", loss, 3, 1.0, 1, 0.5)
    wt = bp.walkthrough(cfg, None)
    fig = vb.graph(wt)
    texts = [a.text for a in fig.layout.annotations]
    weights = [float(w) for lay in wt.layers for w in lay.W.ravel()]
    n_units = len(wt.x) + sum(len(lay.z) for lay in wt.layers)
    # one label per weight, then one box per node and the loss, then the column titles
    assert texts[: len(weights)] == [vb._fmt(w) for w in weights]
    boxes = texts[len(weights) : len(weights) + n_units + 1]
    assert boxes[0].startswith(f"x₁ = {vb._fmt(wt.x[0])}<br>")
    assert f"∂L/∂z = {vb._fmt(wt.layers[0].dL_dz[0])}" in boxes[len(wt.x)]
    assert boxes[-1].startswith(f"L = {vb._fmt(wt.L)}<br>")
    assert len(texts) == len(weights) + n_units + 1 + len(wt.layers) + 2
    # one line per weight (its sign as colour), the hover points, the logits' lines to L
    lines = [t for t in fig.data if t.mode == "lines" and t.line.dash != "dot"]
    assert [t.line.color == vb.POS for t in lines] == [w >= 0 for w in weights]
    widths = [t.line.width for t in lines]
    assert max(widths) == pytest.approx(7.0) and min(widths) >= 1.0  # 1 + 6 |w| / max |w|
    assert len([t for t in fig.data if t.line.dash == "dot"]) == len(wt.layers[-1].z)
    hover = [t for t in fig.data if t.mode == "markers"]
    assert [len(t.x) for t in hover] == [len(weights), n_units + 1]
