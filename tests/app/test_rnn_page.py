"""AppTest of the recurrent-network page: defaults, tasks, extremes, presets, URL clamping,
each tab of the lesson layout."""

import re

import pytest

from dl_core import rnn
from tests.app.conftest import assert_ok, run_page
from ui import lesson

PAGE = "pages/rnn.py"
FAST = {"cmp": "0"}  # one model per run keeps these tests quick


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def test_default_run_shows_the_lesson_and_the_first_tab():
    at = run_page(PAGE)
    assert_ok(at)
    assert [t.label for t in at.tabs] == [
        "Inside the cell, step by step", "Gradients through time", "Compare cells", "Under the hood",
    ]  # fmt: skip
    text = latex_text(at)
    assert r"h_t = \mathrm{cell}" in text  # the header's formula
    assert r"c_t = f_t \odot c_{t-1}" in text  # the LSTM equations (first tab, open)
    assert r"c_{5,0} = f\,c_{4,0} + i\,g = " in text  # step 5, unit 0, with numbers
    assert not at.warning  # the default converges
    assert len(at.get("plotly_chart")) >= 4  # forecast, unrolled cell, hidden state, gates
    assert any("LSTM unrolled over time" in str(c.proto.spec) for c in at.get("plotly_chart"))
    assert any("Gers" in m.value for m in at.markdown)  # the LSTM against its papers
    mse = float(at.metric[0].value)
    assert 1e-4 < mse < 4e-4, mse  # the target is 1e-3; the GRU preset's note quotes 0.0002
    # The page's defaults are RNNConfig's: the core tests of "the defaults" test this page.
    d, s = rnn.RNNConfig(), at.session_state
    assert (s["task"], s["cell"], s["hidden"], s["T"], s["bptt"], s["lr"], s["steps"]) == (
        d.task, d.cell, d.hidden, d.seq_len, d.bptt, d.lr, d.steps,
    )  # fmt: skip
    assert s["clipon"] and s["clip"] == d.clip and s["opt"] == d.optimizer


def test_gradient_tab_at_the_defaults_shows_the_lstm_keeping_more_gradient():
    at = open_tab(run_page(PAGE), "Gradients through time")
    assert_ok(at)
    assert any("How much the loss feels" in str(c.proto.spec) for c in at.get("plotly_chart"))
    text = next(m.value for m in at.markdown if "**Before training**" in m.value)
    ratio = float(re.search(r"\*\*([\d,.]+)×\*\* more gradient through the LSTM", text)[1].replace(",", ""))  # fmt: skip
    assert ratio > 100, text  # measured: about 1,300 at k = 23
    assert "k = 23 steps back" in text
    # after training on a sine the LSTM has learned to forget: the text says so with numbers
    assert "the vanilla RNN keeps" in text and "learned to forget" in text, text
    assert "diag(1 - h_s^2)" in latex_text(at).replace(r"\operatorname{diag}", "diag")


def test_compare_tab_without_the_other_cells_says_how_to_get_them():
    at = open_tab(run_page(PAGE, query=FAST), "Compare cells")
    assert_ok(at)
    assert any("Train all three cells" in i.value for i in at.info)
    table = at.dataframe[0].value
    assert (
        list(table["cell"]) == ["LSTM"]
        and table["parameters"][0] == f"{4 * 32 * (1 + 32 + 2) + 33:,}"
    )


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
    assert len(at.get("plotly_chart")) >= 4  # the forecast, the cell, its states and gates


def test_tiny_gru_preset_forecasts_as_its_note_says():
    at = run_page(PAGE, query=FAST)
    at.button[2].click().run(timeout=600)
    assert_ok(at)
    assert at.session_state["hidden"] == 3 and at.session_state["cell"] == "gru"
    assert 0.002 < float(at.metric[0].value) < 0.008  # "a test MSE of about 0.004"


def test_truncated_bptt_preset_stays_near_chance():
    at = run_page(PAGE, query=FAST)
    at.button[3].click().run(timeout=600)
    assert at.session_state["bptt"] == 4
    assert float(at.metric[0].value) < 0.5  # chance is 0.25: the gradient never reaches t = 0


def test_long_gap_preset_gated_cells_remember_and_the_rnn_does_not():
    at = run_page(PAGE, query=FAST)
    at.button[0].click().run(timeout=600)
    assert_ok(at)
    assert at.session_state["gap"] == 40 and at.session_state["cmp"] is True
    assert float(at.metric[0].value) >= 0.95  # the LSTM recalls the symbol
    at = open_tab(at, "Compare cells")  # three cells, 600 steps each: ~10 s unloaded
    assert_ok(at)
    assert any("Vanilla RNN" in str(c.proto.spec) for c in at.get("plotly_chart"))
    acc = dict(
        zip(at.dataframe[0].value["cell"], at.dataframe[0].value["test accuracy"], strict=True)
    )
    assert float(acc["LSTM"]) >= 0.95 and float(acc["GRU"]) >= 0.95, acc
    assert 0.4 <= float(acc["Vanilla RNN"]) <= 0.6, acc  # the note: "stalls near 50 %"


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
    assert len(at.get("plotly_chart")) >= 5  # forecast, unrolled cell, sequence 2, heat, gates


def test_under_the_hood_shows_the_hand_written_cell_matching_torch_when_opened():
    at = run_page(PAGE, query=FAST)
    assert not any("Largest difference" in m.value for m in at.markdown)  # closed: not computed
    at = open_tab(at, "Under the hood")
    assert_ok(at)
    text = next(m.value for m in at.markdown if "Largest difference" in m.value)
    gap = float(re.search(r"\*\*([-+.\deE]+)\*\*", text).group(1))
    assert 0 <= gap < 1e-4  # float32 rounding, not a different cell
    assert any("def lstm_cell" in c.value for c in at.code)


def test_the_gru_against_cho_et_al():
    at = run_page(PAGE, query={**FAST, "cell": "gru", "steps": "40"})
    assert_ok(at)
    assert r"h_t = (1 - u_t) \odot n_t + u_t \odot h_{t-1}" in latex_text(at)
    assert any("Cho et al." in m.value and "*after*" in m.value for m in at.markdown)
    at = open_tab(at, "Under the hood")
    text = next(m.value for m in at.markdown if "Cho et al.'s GRU" in m.value)
    assert float(re.search(r"up to \*\*([-+.\deE]+)\*\*", text)[1]) > 1e-3
