"""AppTest of the recurrent-network page: defaults, tasks, extremes, presets, URL clamping."""

import re

import pytest

from dl_core import rnn
from tests.app.conftest import assert_ok, run_page

PAGE = "pages/rnn.py"
FAST = {"cmp": "0"}  # one model per run keeps these tests quick


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def test_default_run_shows_equations_with_numbers_and_three_cell_comparison():
    at = run_page(PAGE)
    assert_ok(at)
    text = latex_text(at)
    assert r"c_t = f_t \odot c_{t-1}" in text  # the LSTM equations
    assert r"c_{5,0} = f\,c_{4,0} + i\,g = " in text  # step 5, unit 0, with numbers
    assert not at.warning  # the default converges
    assert len(at.get("plotly_chart")) >= 8
    assert any("LSTM unrolled over time" in str(c.proto.spec) for c in at.get("plotly_chart"))
    mse = at.metric[0].value
    assert float(mse) <= 1e-3, mse  # the default sine task reaches its target


@pytest.mark.parametrize("task", ["noisy", "memory", "reber"])
@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_every_task_with_other_cells(task, cell):
    at = run_page(PAGE, query={**FAST, "task": task, "cell": cell, "steps": "30", "hidden": "8"})
    assert_ok(at)
    assert at.session_state["task"] == task and at.session_state["cell"] == cell
    assert len(at.latex) >= 3


def test_extreme_widget_values():
    at = run_page(PAGE, query=FAST)
    at.slider(key="hidden").set_value(1)
    at.slider(key="T").set_value(4)
    at.slider(key="bptt").set_value(60)
    at.select_slider(key="lr").set_value(3.0)
    at.slider(key="steps").set_value(10).run()
    assert_ok(at)
    at.slider(key="t").set_value(4).run()
    assert_ok(at)


def test_hostile_query_string_is_clamped():
    at = run_page(
        PAGE,
        query={**FAST, "lr": "1e99", "hidden": "-5", "steps": "nan", "task": "rm -rf", "T": "1e9",
               "clip": "0"},
    )  # fmt: skip
    assert_ok(at)
    assert at.session_state["lr"] == 3.0
    assert at.session_state["hidden"] == 1
    assert at.session_state["steps"] == 150
    assert at.session_state["task"] == "sine"
    assert at.session_state["T"] == 120


def test_exploding_preset_shows_the_divergence_lesson_and_keeps_plots():
    at = run_page(PAGE, query=FAST)
    at.button[1].click().run(timeout=600)
    assert_ok(at)
    assert at.session_state["clipon"] is False and at.session_state["cell"] == "rnn"
    assert any("diverged at step" in w.value and "clipping" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) >= 5


@pytest.mark.parametrize("i", [2, 3])
def test_other_presets_run(i):
    at = run_page(PAGE, query=FAST)
    at.button[i].click().run(timeout=600)
    assert_ok(at)


def test_truncated_bptt_preset_stays_near_chance():
    at = run_page(PAGE, query=FAST)
    at.button[3].click().run(timeout=600)
    assert at.session_state["bptt"] == 4
    assert float(at.metric[0].value) < 0.5  # chance is 0.25: the gradient never reaches t = 0


def test_long_gap_preset_gated_cells_remember_and_the_rnn_does_not():
    at = run_page(PAGE, query=FAST)
    at.button[0].click().run(timeout=600)  # three cells, 600 steps each: ~10 s unloaded
    assert_ok(at)
    assert at.session_state["gap"] == 40 and at.session_state["cmp"] is True
    assert float(at.metric[0].value) >= 0.95  # the LSTM recalls the symbol
    assert any("Vanilla RNN" in str(c.proto.spec) for c in at.get("plotly_chart"))


def test_view_sliders_redraw_the_numbers_without_retraining(monkeypatch):
    at = run_page(PAGE, query=FAST)
    trains, real_train = [], rnn.train
    monkeypatch.setattr(rnn, "train", lambda cfg, *a, **kw: trains.append(cfg) or real_train(cfg, *a, **kw))  # fmt: skip
    at.slider(key="t").set_value(9).run()
    at.slider(key="j").set_value(3).run()
    at.slider(key="ex").set_value(2).run()
    assert_ok(at)
    assert trains == []  # the inspector only reads the trained model
    assert r"c_{9,3} = f\,c_{8,3} + i\,g = " in latex_text(at)
    assert any("Test sequence 2, step $t = 9$, unit $j = 3$" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) >= 6


def test_under_the_hood_shows_the_hand_written_cell_matching_torch_when_opened():
    at = run_page(PAGE, query=FAST)
    assert not any("Largest difference" in m.value for m in at.markdown)  # closed: not computed
    at.session_state["hood"] = True
    at.run()
    assert_ok(at)
    text = next(m.value for m in at.markdown if "Largest difference" in m.value)
    gap = float(re.search(r"\*\*([-+.\deE]+)\*\*", text).group(1))
    assert 0 <= gap < 1e-4  # float32 rounding, not a different cell
    assert any("def lstm_cell" in c.value for c in at.code)
