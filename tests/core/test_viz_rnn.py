"""viz.rnn: the rulebook on each figure, one meaning per colour across the page, the unrolled
diagram's labels clear of the arrowheads, and the gradient lesson's text matching its numbers."""

import numpy as np
import pytest

from dl_core import rnn
from dl_core.rnn import GradientComparison
from viz import rnn as vr
from viz import style


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_unrolled_labels_sit_clear_of_every_arrowhead(cell):
    fig = vr.unrolled(cell)
    assert style.violations(fig.to_plotly_json()) == []
    heads = [(a.x, a.y) for a in fig.layout.annotations if a.showarrow]
    labels = next(t for t in fig.data if t.mode == "text")
    assert len(heads) == 4 * 2 + (8 if cell == "lstm" else 4) + (2 if cell == "lstm" else 1)
    for x, y, text in zip(labels.x, labels.y, labels.text, strict=True):
        near = [(hx, hy) for hx, hy in heads if abs(hx - x) < 0.3 and abs(hy - y) < 0.2]
        assert not near, (text, x, y, near)
    texts = set(labels.text)
    assert {"x₁", "ŷ₄", "h₀", "h₄", "…"} <= texts
    assert ("c₀" in texts) == (cell == "lstm")


def test_colours_mean_one_thing_on_the_page():
    cells, gates = set(vr.CELL_COLORS.values()), set(vr.GATE_COLORS.values())
    assert len(cells) == 3 and not cells & gates
    assert not cells & {vr.INPUT_GREY, vr.TRUTH_GREY}
    for cell in rnn.CELLS:  # within one cell's chart, each gate has its own colour
        assert len({vr.GATE_COLORS[g] for g in rnn.GATES[cell]}) == len(rnn.GATES[cell])


def test_hidden_state_map_uses_the_signed_scale():
    h = np.tanh(np.random.default_rng(0).normal(size=(12, 5)))
    fig = vr.hidden_heatmap(h, 3)
    assert style.violations(fig.to_plotly_json()) == []
    tr = fig.data[0]
    assert tr.zmid == 0 and tr.zmin == -1 and tr.zmax == 1 and tr.showscale
    assert style.POSITIVE_NAME in fig.layout.title.text


def _cmp(r0, r1, forget=0.5):
    g = np.array([1.0, 0.5, 0.1])
    return GradientComparison(
        initial={"rnn": g, "lstm": g * (r0 or 1), "gru": g},
        trained={"rnn": g, "lstm": g * r1} if r1 is not None else {"lstm": g},
        k_long=2, ratio_initial=r0, ratio_trained=r1, forget_mean=forget,
    )  # fmt: skip


def test_gradient_lesson_says_what_the_numbers_say():
    text = vr.gradient_lesson(_cmp(1300.8, 0.074), "sine")
    assert "**1,301×** more gradient through the LSTM" in text
    assert "the vanilla RNN keeps 13.5× more than the LSTM" in text and "f̄ = 0.5" in text
    assert "learned to forget" in text
    assert vr.times(3.33e15) == "3.3e15" and vr.times(99.4) == "99.4" and vr.times(0.74) == "0.74"
    text = vr.gradient_lesson(_cmp(40.0, 6.4), "memory")
    assert "**40×**" in text and "the LSTM still keeps 6.4× more" in text
    text = vr.gradient_lesson(_cmp(0.5, None, None), "sine")
    assert "does *not* carry more gradient" in text and "Train all three cells" in text
    text = vr.gradient_lesson(_cmp(20.0, 0.5), "reber")
    assert "keeps 2× more than the LSTM" in text and "learned to forget" not in text


def test_gradient_chart_has_both_panels_and_one_legend_entry_per_cell():
    cmp = _cmp(10.0, 2.0)
    fig = vr.gradient_through_time(cmp)
    assert style.violations(fig.to_plotly_json()) == []
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert sorted(shown) == sorted(rnn.CELL_LABELS.values())
    right = [t for t in fig.data if t.xaxis == "x2"]
    assert {t.line.color for t in right} == {vr.CELL_COLORS["rnn"], vr.CELL_COLORS["lstm"]}
