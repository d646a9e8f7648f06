"""AppTest of the backpropagation page: defaults, extremes, presets, URL clamping."""

import re

import pytest

from dl_core import backprop as bp
from tests.app.conftest import assert_ok, run_page
from ui import lesson

PAGE = "pages/backprop.py"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def alerts(at) -> str:
    return " ".join(a.value for kind in (at.warning, at.error, at.info) for a in kind)


TABS = ["Forward and backward with your numbers", "Gradient check", "Activations and losses",
        "Deep networks", "Under the hood"]  # fmt: skip


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def test_default_run_shows_the_lesson_and_the_chain_rule_with_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    assert [t.label for t in at.tabs] == TABS
    text = latex_text(at)
    assert r"\delta^{(l)} = \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot \varphi'(a^{(l)})" in text
    assert r"a^{(1)} = W^{(1)} x + b^{(1)} = \begin{pmatrix}" in text  # forward with numbers
    assert r"h^{(1)} = \varphi(a^{(1)}) = \sigma\begin{pmatrix}" in text  # phi named, numbers in
    assert r"= \hat y - y = \begin{pmatrix}" in text  # BCE output gradient with numbers
    assert r"\underbrace" in text  # one weight as a product of three factors
    assert r"L_{\text{before}}" in text  # the gradient-descent step
    assert r"b^{(1)} &\leftarrow b^{(1)} - \eta" in text  # biases step too (L_after uses them)
    assert "z^{(" not in text  # z is a latent code, never a pre-activation (dl_core.notation)
    assert len(at.get("plotly_chart")) == 1  # the graph; the other tabs run when opened
    assert "δ⁽ˡ⁾: ∂L/∂a⁽ˡ⁾" in at.caption[0].value  # the symbols, from dl_core.notation
    assert not at.exception and not at.error


def test_every_tab_draws_its_charts():
    at = run_page(PAGE)
    counts = {}
    for name in TABS:
        open_tab(at, name)
        assert_ok(at)
        counts[name] = len(at.get("plotly_chart"))
    assert counts == {TABS[0]: 1, TABS[1]: 2, TABS[2]: 3, TABS[3]: 4, TABS[4]: 1}
    assert len(at.dataframe) == 0  # the gradient check's table lives in its tab
    open_tab(at, TABS[1])
    assert len(at.dataframe) == 1


def test_loss_labels_fit_the_sidebar():
    """The menu cut off 'binary cross-entropy (sigmoid ou...' (issue 18)."""
    assert max(len(v) for v in bp.LOSS_LABELS.values()) <= 24


@pytest.mark.parametrize(
    ("arch", "loss"), [("2-2-1", "mse"), ("2-3-1", "softmax_ce"), ("2-3-2-1", "bce")]
)
def test_architectures_and_losses(arch, loss):
    at = run_page(PAGE)
    at.selectbox(key="arch").set_value(arch)
    at.selectbox(key="loss").set_value(loss)
    open_tab(at, TABS[1])
    assert_ok(at)
    assert "Poor check" not in alerts(at)  # float64, eps 1e-6: the check agrees
    open_tab(at, TABS[2])
    assert_ok(at)


def test_every_activation():
    at = run_page(PAGE)
    open_tab(at, TABS[2])
    for act in ["tanh", "relu", "leaky_relu", "gelu", "softplus"]:
        at.selectbox(key="act").set_value(act).run()
        assert_ok(at)


def test_extreme_widget_values():
    at = run_page(PAGE)
    at.selectbox(key="arch").set_value("2-3-2-1")
    at.select_slider(key="scale").set_value(100.0)
    at.select_slider(key="lr").set_value(10.0)
    at.slider(key="seed").set_value(20)
    at.select_slider(key="eps").set_value(1e-12)
    at.selectbox(key="prec").set_value("float32")
    at.slider(key="depth").set_value(50)
    at.slider(key="width").set_value(128)
    at.selectbox(key="init").set_value("large")
    at.slider(key="steps").set_value(300)
    at.select_slider(key="dlr").set_value(10.0).run()
    assert_ok(at)
    for name in TABS:
        open_tab(at, name)
        assert_ok(at)
        if name == TABS[1]:
            assert "Poor check" in alerts(at)  # float32 with eps = 1e-12
        if name == TABS[3]:
            assert "would take too long" in alerts(at)  # shortened to stay interactive


def test_smallest_deep_network_and_zero_steps():
    at = run_page(PAGE)
    at.slider(key="depth").set_value(1)
    at.slider(key="width").set_value(1)
    at.slider(key="steps").set_value(0)
    at.select_slider(key="scale").set_value(0.1)
    open_tab(at, TABS[3])
    assert_ok(at)


def test_vanishing_preset_opens_its_tab_and_quotes_the_run():
    at = run_page(PAGE)
    at.button[0].click().run()
    assert_ok(at)
    assert at.session_state["init"] == "small" and at.session_state["depth"] == 10
    assert at.session_state[lesson.TABS_KEY] == "Deep networks"
    text = alerts(at)
    (ratio,) = set(re.findall(r"is (\d\.\de-\d+) times", text))  # the note and the diagnosis
    assert 1e-20 < float(ratio) < 1e-17 and "Vanishing gradients" in text
    assert "10⁻²⁰" not in text and "~10" not in text


def test_relu_he_preset_keeps_gradients_level():
    at = run_page(PAGE)
    at.button[1].click().run()
    assert_ok(at)
    assert at.session_state["act"] == "relu" and at.session_state["init"] == "he"
    assert "Vanishing" not in alerts(at) and "Exploding" not in alerts(at)
    assert len(at.get("plotly_chart")) == 4


def test_zero_init_preset_shows_symmetry():
    at = run_page(PAGE)
    at.button[2].click().run()
    assert_ok(at)
    assert "symmetry never breaks" in alerts(at)
    assert any("**are identical**" in m.value for m in at.markdown)


def test_underflow_is_not_called_symmetry():
    at = run_page(PAGE, query={"depth": "30", "init": "small"})
    open_tab(at, TABS[3])
    assert_ok(at)
    assert "underflowed to 0" in alerts(at) and "symmetry never breaks" not in alerts(at)


def test_kink_preset_shows_a_poor_check_and_explains_it():
    at = run_page(PAGE)
    at.button[3].click().run()
    assert_ok(at)
    assert at.session_state["kink"] is True
    assert "kink" in alerts(at) and "Poor check" in alerts(at)
    assert any("no ε passes the check" in c.value for c in at.caption)


def test_exploding_network_reports_overflow_and_keeps_the_page():
    at = run_page(PAGE)
    at.selectbox(key="act").set_value("relu")
    at.slider(key="depth").set_value(30)
    at.selectbox(key="init").set_value("large")
    open_tab(at, TABS[3])
    assert_ok(at)
    assert "overflowed" in alerts(at) or "Exploding" in alerts(at)
    assert len(at.get("plotly_chart")) == 4


def test_picking_a_weight_updates_the_product():
    at = run_page(PAGE)
    at.selectbox(key="wsel").set_value("W1[1,1]").run()
    assert_ok(at)
    assert r"\partial W^{(1)}_{11}" in latex_text(at)


def test_hostile_query_string_is_clamped():
    at = run_page(
        PAGE,
        query={
            "lr": "1e99", "scale": "-5", "eps": "nan", "depth": "1e9", "width": "-3",
            "steps": "abc", "act": "<script>", "arch": "9-9-9", "seed": "1e308", "kink": "maybe",
            "dlr": "inf", "prec": "float16",
        },
    )  # fmt: skip
    assert_ok(at)
    assert at.session_state["lr"] == 10.0
    assert at.session_state["scale"] == 0.1
    assert at.session_state["depth"] == 50
    assert at.session_state["width"] == 1
    assert at.session_state["act"] == "sigmoid"
    assert at.session_state["prec"] == "float64"


def test_weight_choice_survives_a_smaller_network():
    at = run_page(PAGE)
    at.selectbox(key="arch").set_value("2-3-2-1").run()
    at.selectbox(key="wsel").set_value("W3[1,2]").run()
    at.selectbox(key="arch").set_value("2-2-1").run()
    assert_ok(at)
    assert at.selectbox(key="wsel").value in at.selectbox(key="wsel").options


def test_under_the_hood_runs_only_when_open():
    at = run_page(PAGE)
    assert not any("Max |hand − autograd|" in m.value for m in at.markdown)  # closed
    open_tab(at, "Under the hood")
    assert_ok(at)
    (text,) = [m.value for m in at.markdown if "Max |hand − autograd|" in m.value]
    gaps = [float(g) for g in re.findall(r"\*\*([\d.]+e[-+]\d+)\*\*", text)]
    assert len(gaps) == 2 and max(gaps) < 1e-12  # float64: backprop by hand is autograd's
    assert any("def backward" in c.value for c in at.code)


def chart_specs(at) -> dict[str, str]:
    return {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}


def test_charts_follow_the_settings_they_show():
    """Figures are built once per result: a changed setting must still redraw its charts."""
    at = run_page(PAGE)
    at.slider(key="seed").set_value(3).run()  # a new tiny network
    assert set(chart_specs(at)) == {"fig_graph"}
    open_tab(at, TABS[2])
    spec = chart_specs(at)
    at.slider(key="seed").set_value(4).run()
    new = chart_specs(at)
    assert {k for k in spec if spec[k] != new[k]} == {"fig_graph", "fig_act", "fig_loss"}
    open_tab(at, TABS[3])
    before = chart_specs(at)
    at.slider(key="depth").set_value(4).run()
    after = chart_specs(at)
    assert {k for k in before if before[k] != after[k]} == {"fig_norms", "fig_std", "fig_train"}
