"""AppTest of the backpropagation page: defaults, extremes, presets, URL clamping."""

import re

import pytest

from tests.app.conftest import assert_ok, run_page

PAGE = "pages/backprop.py"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def alerts(at) -> str:
    return " ".join(a.value for kind in (at.warning, at.error, at.info) for a in kind)


def test_default_run_shows_chain_rule_with_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    text = latex_text(at)
    assert r"\odot f'(z^{(l)})" in text  # the symbolic formula
    assert r"z^{(1)} = W^{(1)} x + b^{(1)} = \begin{pmatrix}" in text  # forward with numbers
    assert r"= p - y = \begin{pmatrix}" in text  # BCE output gradient with numbers
    assert r"\underbrace" in text  # one weight as a product of three factors
    assert r"L_{\text{before}}" in text  # the gradient-descent step
    assert r"b^{(1)} &\leftarrow b^{(1)} - \eta" in text  # biases step too (L_after uses them)
    assert r"a^{(1)} = \mathrm{f}(z^{(1)}) = \sigma\begin{pmatrix}" in text  # f named, numbers in
    assert len(at.get("plotly_chart")) >= 6
    assert len(at.dataframe) == 1
    assert not at.exception and not at.error


@pytest.mark.parametrize(
    ("arch", "loss"), [("2-2-1", "mse"), ("2-3-1", "softmax_ce"), ("2-3-2-1", "bce")]
)
def test_architectures_and_losses(arch, loss):
    at = run_page(PAGE)
    at.selectbox(key="arch").set_value(arch)
    at.selectbox(key="loss").set_value(loss).run()
    assert_ok(at)
    assert "Poor check" not in alerts(at)  # float64, eps 1e-6: the check agrees


def test_every_activation():
    at = run_page(PAGE)
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
    text = alerts(at)
    assert "would take too long" in text  # the run was shortened to stay interactive
    assert "Poor check" in text  # float32 with eps = 1e-12


def test_smallest_deep_network_and_zero_steps():
    at = run_page(PAGE)
    at.slider(key="depth").set_value(1)
    at.slider(key="width").set_value(1)
    at.slider(key="steps").set_value(0)
    at.select_slider(key="scale").set_value(0.1).run()
    assert_ok(at)


def test_vanishing_preset():
    at = run_page(PAGE)
    at.button[0].click().run()
    assert_ok(at)
    assert at.session_state["init"] == "small" and at.session_state["depth"] == 10
    assert "Vanishing gradients" in alerts(at)


def test_relu_he_preset_keeps_gradients_level():
    at = run_page(PAGE)
    at.button[1].click().run()
    assert_ok(at)
    assert at.session_state["act"] == "relu" and at.session_state["init"] == "he"
    assert "Vanishing" not in alerts(at) and "Exploding" not in alerts(at)


def test_zero_init_preset_shows_symmetry():
    at = run_page(PAGE)
    at.button[2].click().run()
    assert_ok(at)
    assert "symmetry never breaks" in alerts(at)
    assert any("**are identical**" in m.value for m in at.markdown)


def test_kink_preset_shows_a_poor_check_and_explains_it():
    at = run_page(PAGE)
    at.button[3].click().run()
    assert_ok(at)
    assert at.session_state["kink"] is True
    assert "kink" in alerts(at) and "Poor check" in alerts(at)


def test_exploding_network_reports_overflow_and_keeps_the_page():
    at = run_page(PAGE)
    at.selectbox(key="act").set_value("relu")
    at.slider(key="depth").set_value(30)
    at.selectbox(key="init").set_value("large").run()
    assert_ok(at)
    assert "overflowed" in alerts(at) or "Exploding" in alerts(at)
    assert len(at.get("plotly_chart")) >= 6


def test_picking_a_weight_updates_the_product():
    at = run_page(PAGE)
    at.selectbox(key="wsel").set_value("W1[1,1]").run()
    assert_ok(at)
    assert r"w^{(1)}_{11}" in latex_text(at)


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
    at.session_state["bp_hood"] = True  # what a click on the expander does
    at.run()
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
    spec = chart_specs(at)
    at.slider(key="seed").set_value(3).run()  # a new tiny network: the deep one is unchanged
    new = chart_specs(at)
    changed = {k for k in spec if spec[k] != new[k]}
    assert changed == {"fig_graph", "fig_act", "fig_loss", "fig_sweep"}
    at.slider(key="depth").set_value(4).run()
    newer = chart_specs(at)
    assert {k for k in new if new[k] != newer[k]} == {"fig_norms", "fig_std", "fig_train"}
