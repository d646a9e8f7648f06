"""AppTest of the playground: defaults, extremes, presets, hostile URLs, live training.

AppTest never ticks a ``run_every`` fragment, so the tests advance the network in
``st.session_state`` directly (what one tick does) and rerun the page."""

import numpy as np
import pytest

from dl_core import mlp
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from viz import playground as vp

PAGE = "pages/playground.py"


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


TABS = ["With your numbers", "Dropout", "Batch norm", "The formulas", "Under the hood"]


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def test_default_run_trains_when_ticked():
    at = run_page(PAGE)
    assert_ok(at)
    assert [t.label for t in at.tabs] == TABS
    assert metric(at, "Epoch") == "0.0"
    assert r"a^{(1)}_{1} = W_{11}\,x_1" in latex_text(at)  # a: the pre-activation
    assert "z^{(" not in latex_text(at)  # z is a latent code, never a pre-activation
    assert len(at.get("plotly_chart")) == 2  # the decision map and the network, no empty curves
    assert any("curves appear here once training starts" in i.value for i in at.info)
    net = at.session_state["pg_net"]
    net.advance(300)  # what the fragment's ticks do
    at.run()
    assert_ok(at)
    assert metric(at, "Epoch") == "300.0"
    assert len(at.get("plotly_chart")) == 4  # map, network, loss, accuracy
    assert float(metric(at, "Test accuracy").rstrip("%")) >= 95
    assert r"\hat m = \frac{m}{1-\beta_1^{k}}" in latex_text(at)  # the Adam update of one weight
    assert r"(k = 300)" in latex_text(at) and r"\Delta W^{(" in latex_text(at)
    assert r"}_{11}}^{\text{new}} - {W^{(" in latex_text(at)  # braced: KaTeX rejects W^a_b^c
    assert at.session_state["pg_net"] is net  # a rerun keeps the trained network


def test_step_play_pause_reset_buttons():
    at = run_page(PAGE)
    button(at, "Step").click().run()
    assert at.session_state["pg_net"].step_count == 1
    button(at, "Play").click().run()
    assert at.session_state["pg_playing"] is True
    button(at, "Pause").click().run()
    assert at.session_state["pg_playing"] is False
    button(at, "Reset").click().run()
    assert at.session_state["pg_net"].step_count == 0
    button(at, "Regenerate data").click().run()
    assert at.session_state["dseed"] == 1
    assert_ok(at)


def test_changing_lr_keeps_the_network_but_architecture_resets():
    at = run_page(PAGE)
    at.session_state["pg_net"].advance(40)
    at.select_slider(key="lr").set_value(0.001).run()
    assert at.session_state["pg_net"].step_count == 40
    assert at.session_state["pg_net"].cfg.lr == 0.001
    at.slider(key="layers").set_value(1).run()
    assert at.session_state["pg_net"].step_count == 0
    assert_ok(at)


@pytest.mark.parametrize("dataset", ["spiral3", "blobs3", "plane", "mixture"])
def test_multiclass_and_regression(dataset):
    at = run_page(PAGE, query={"data": dataset})
    at.session_state["pg_net"].advance(50)
    open_tab(at, "The formulas")
    assert_ok(at)
    charts = len(at.get("plotly_chart"))
    assert charts == (4 if dataset in ("spiral3", "blobs3") else 3)  # confusion matrix or none
    text = latex_text(at)
    assert (r"\hat y_k = \frac{e^{a^{\text{out}}_k}}" in text) == (dataset in ("spiral3", "blobs3"))
    assert (r"(\hat y_i - y_i)^2" in text) == (dataset in ("plane", "mixture"))


def test_extreme_settings():
    query = {
        "layers": "6", "h1": "16", "h2": "16", "h3": "16", "h4": "16", "h5": "16", "h6": "16",
        "feat": "x1,x2,x1^2,x2^2,x1x2,sin_x1,sin_x2", "act": "relu", "bn": "1", "drop": "0.8",
        "opt": "momentum", "lr": "10", "batch": "1", "reg": "l1", "rate": "10", "n": "1000",
        "noise": "0.5", "test": "0.9", "speed": "500",
    }  # fmt: skip
    at = run_page(PAGE, query=query)
    assert_ok(at)
    net = at.session_state["pg_net"]
    assert net.cfg.hidden == (16,) * 6 and net.cfg.batch_size == 1
    net.advance(500)
    at.run()
    assert_ok(at)
    for name in TABS:
        open_tab(at, name)
        assert_ok(at)
    at.slider(key="layers").set_value(0).run()  # no hidden layer: logistic regression
    at.session_state["pg_net"].advance(10)
    for name in TABS:
        open_tab(at, name)
        assert_ok(at)


def test_divergence_is_a_lesson_with_plots_kept():
    at = run_page(PAGE, query={"data": "plane", "opt": "sgd", "lr": "10", "act": "relu"})
    at.session_state["pg_net"].advance(200)
    at.run()
    assert_ok(at)
    assert any("diverged at step" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 3
    assert any("last finite weights" in c.value for c in at.caption)  # no NaN update shown
    assert not any(r"\Delta W" in x.value or x.value.startswith("g = ") for x in at.latex)


def test_dead_relu_network_is_a_lesson_with_plots_kept():
    query = {"data": "spiral3", "layers": "6", "act": "relu", "opt": "sgd", "lr": "10"}
    at = run_page(PAGE, query=query)
    at.session_state["pg_net"].advance(51)  # one step at eta = 10 kills the upper layers
    at.run()
    assert_ok(at)
    assert any("stalled" in w.value and "dead" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 4  # map, network, loss, confusion matrix


def test_hostile_query_string_is_clamped():
    query = {"lr": "1e99", "layers": "99", "h1": "-5", "noise": "nan", "data": "../../etc",
             "feat": "x1,__import__", "n": "1e12", "drop": "7", "speed": "1e9", "seed": "x"}  # fmt: skip
    at = run_page(PAGE, query=query)
    assert_ok(at)
    cfg = at.session_state["pg_net"].cfg
    assert cfg.lr == 10.0 and len(cfg.hidden) == mlp.MAX_LAYERS and cfg.hidden[0] == 1
    assert cfg.n_points == 1000 and cfg.dropout == 0.8 and cfg.features == ("x1",)
    assert cfg.dataset == "circles" and cfg.noise == 0.0
    assert at.session_state["speed"] == 500


@pytest.mark.parametrize("i", [0, 1, 2, 3])
def test_presets(i):
    at = run_page(PAGE)
    at.button[i].click().run()  # the "Try this" row comes first
    assert_ok(at)
    assert at.session_state["pg_playing"] is True
    net = at.session_state["pg_net"]
    for _ in range(30):  # 30 ticks of 50 steps
        net.advance(50)
    h = net.history
    if i == 0:  # too small a network cannot fit the spiral
        assert net.cfg.hidden == (2,) and h.train_acc[-1] < 0.8
    elif i == 1:  # feature engineering solves it: "over 99%", as the note says
        assert h.test_acc[-1] >= 0.99 and "over 99%" in vp.FEATURES_NOTE
    elif i == 2:  # overfitting: train loss near 0, test loss far above its minimum
        assert h.train_loss[-1] < 0.02 and h.test_loss[-1] > 1.5 * min(h.test_loss)
    else:  # L2 keeps the test loss near its best
        assert net.cfg.regularization == "l2" and h.test_loss[-1] < 1.5 * min(h.test_loss)


def test_a_presets_note_stays_when_paused():
    """A preset starts play; Pause keeps the experiment, so its note stays under the "Try
    this" row; moving one of its settings drops it."""
    at = run_page(PAGE, state={"speed": 1})
    button(at, "Spiral, too small a network").click().run()

    def note() -> bool:
        return any("the spiral stays out of reach" in i.value for i in at.info)

    assert at.session_state["pg_playing"] is True and note()
    button(at, "Pause").click().run()
    assert at.session_state["pg_playing"] is False and note()
    at.slider(key="h1").set_value(3).run()
    assert not note()
    assert_ok(at)


def test_reset_pauses_with_a_new_network():
    at = run_page(PAGE)
    button(at, "Play").click().run()
    assert at.session_state["pg_net"].step_count == 50  # one tick with the page's run
    button(at, "Reset").click().run()
    assert at.session_state["pg_playing"] is False
    assert at.session_state["pg_net"].step_count == 0 and button(at, "Play")
    assert_ok(at)


def test_l2_notes_claim_about_dropout_holds():
    """ "Dropout 0.3 instead helps too, less than L2 here" (the L2 preset's note)."""
    base = dict(dataset="xor", noise=0.3, n_points=80, hidden=(16, 16, 16), lr=0.03)
    loss = {}
    for name, kw in {"none": {}, "drop": dict(dropout=0.3),
                     "l2": dict(regularization="l2", reg_rate=0.03)}.items():  # fmt: skip
        net = mlp.Net(mlp.Config(**base, **kw))
        net.advance(1500)
        loss[name] = net.history.test_loss[-1]
    assert loss["l2"] < loss["drop"] < 0.5 * loss["none"]


def test_walkthrough_of_output_neuron_and_under_the_hood():
    at = run_page(PAGE)
    at.session_state["pg_net"].advance(20)
    at.selectbox(key="pg_layer").set_value(3).run()
    assert_ok(at)
    assert r"\hat y = \sigma\big(" in latex_text(at)
    assert not any("θ_hand" in m.value for m in at.markdown)  # closed: its work is not done
    open_tab(at, "Under the hood")
    at.button(key="pg_speed").click().run()
    assert_ok(at)
    assert any("steps per second" in m.value for m in at.markdown)
    assert any("max |θ_hand − θ_torch|" in m.value for m in at.markdown)


def test_dropout_tab_shows_the_mask_with_the_nets_numbers():
    at = run_page(PAGE, query={"drop": "0.3"})
    net = at.session_state["pg_net"]
    net.advance(50)
    open_tab(at, "Dropout")
    assert_ok(at)
    v = mlp.dropout_view(net, 1, 0.3, 0, seed=net.step_count)  # what the tab shows
    text = latex_text(at)
    assert rf"\text{{kept: }} {int(v.r.sum())} \text{{ of }} 8" in text
    j = int(np.flatnonzero(v.r == 1)[0])
    assert rf"= {vp.n3(v.h_train[j])}" in text and r"\mathbb{E}[h^{\mathrm{drop}}" in text
    assert len(at.get("plotly_chart")) == 5  # the bars too
    at2 = run_page(PAGE)  # dropout off: illustrated with p = 0.5, and said so
    open_tab(at2, "Dropout")
    assert any("Dropout is off" in i.value for i in at2.info)


def test_batch_norm_tab_shows_batch_and_running_statistics():
    at = run_page(PAGE, query={"bn": "1", "batch": "50"})
    net = at.session_state["pg_net"]
    net.advance(30)
    open_tab(at, "Batch norm")
    assert_ok(at)
    v = mlp.batch_norm_view(net, 1)
    text = latex_text(at)
    assert rf"\mu_{{B,1}} = {vp.n3(v.mu_B[0])}" in text
    assert rf"\mu_{{\mathrm{{run}},1}} = {vp.n3(v.running_mean[0])}" in text
    assert r"\text{training: }" in text and r"\text{evaluation: }" in text
    assert any("**50** points" in m.value for m in at.markdown)
    (table,) = at.dataframe
    np.testing.assert_allclose(table.value["μ_B (this batch)"], v.mu_B)
    np.testing.assert_allclose(table.value["μ_run (evaluation)"], v.running_mean)
    assert any("running averages" in m.value and "one point has no batch" in m.value
               for m in at.markdown)  # fmt: skip
    open_tab(run_page(PAGE), "Batch norm")  # off: says how to switch it on


def test_play_pauses_at_the_page_limit(monkeypatch):
    """Bounded work: a session left playing stops at mlp.MAX_PLAY_STEPS and says so."""
    monkeypatch.setattr(mlp, "MAX_PLAY_STEPS", 40)
    at = run_page(PAGE)
    net = at.session_state["pg_net"]
    net.advance(40)  # what the ticks did
    button(at, "Step").click().run()  # nothing more
    assert at.session_state["pg_net"].step_count == 40
    assert any("limit of 40 steps" in i.value for i in at.info)
    assert_ok(at)


def chart_spec(at, key: str) -> str:
    return next(c.proto.spec for c in at.get("plotly_chart") if key in c.proto.id)


def test_paused_charts_follow_the_network():
    """Paused, a rerun sends the same figures (built once per network state); training
    redraws every one; the test-points toggle redraws only the map."""
    at = run_page(PAGE)
    at.session_state["pg_net"].advance(10)
    at.run()
    keys = ("pg_network", "pg_map", "pg_loss", "pg_acc")
    before = {k: chart_spec(at, k) for k in keys}
    at.run()
    assert {k: chart_spec(at, k) for k in keys} == before
    at.session_state["pg_net"].advance(30)  # what a tick does
    at.run()
    after = {k: chart_spec(at, k) for k in keys}
    assert all(after[k] != before[k] for k in keys)
    at.toggle(key="pg_show_test").set_value(True).run()
    assert "class 0 (test)" in chart_spec(at, "pg_map") and "(test)" not in after["pg_map"]
    assert chart_spec(at, "pg_network") == after["pg_network"]
    first = chart_spec(at, "pg_network")
    button(at, "Reset").click().run()  # a new network, drawn anew
    assert len(at.get("plotly_chart")) == 2 and chart_spec(at, "pg_network") != first
