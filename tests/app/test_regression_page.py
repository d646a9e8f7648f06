"""AppTest of the regression page."""

import json

import pytest

from tests.app.conftest import assert_ok, run_page

PAGE = "pages/regression.py"


def test_default_shows_gradient_with_numbers_and_closed_form():
    at = run_page(PAGE)
    assert_ok(at)
    text = "\n".join(x.value for x in at.latex)
    assert r"(w^*, b^*) = (" in text
    assert r"\frac{\partial L}{\partial w} = \frac{2}{n}\sum_i" in text and r"\frac{2}{60}" in text
    assert r"p - y = " in text
    assert not at.warning


def test_two_over_L_preset_diverges_with_an_explanation():
    at = run_page(PAGE)
    at.button[0].click().run()
    assert_ok(at)
    assert any("exceeds 2/L = 0.353" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) >= 5  # the plots stay up


@pytest.mark.parametrize("i", [1, 2])
def test_other_presets(i):
    at = run_page(PAGE)
    at.button[i].click().run()
    assert_ok(at)


@pytest.mark.parametrize(
    "state",
    [
        dict(lin_n=5, lin_noise=0.0, lin_lr=10.0, lin_steps=500, lin_batch="stochastic (1 point)",
             log_sep=0.0, log_lr=10.0, log_steps=500, log_batch="mini-batch of 10"),
        dict(lin_n=500, lin_noise=3.0, lin_lr=0.001, lin_steps=1, log_sep=6.0, log_lr=0.001, log_steps=1),
    ],
)  # fmt: skip
def test_extreme_settings(state):
    assert_ok(run_page(PAGE, state=state))


def test_url_is_clamped():
    at = run_page(PAGE, query={"lin_n": "100000", "lin_lr": "-3", "log_steps": "1e12"})
    assert_ok(at)
    assert at.session_state["lin_n"] == 500
    assert at.session_state["lin_lr"] == 0.001
    assert at.session_state["log_steps"] == 500


def chart_specs(at) -> dict[str, str]:
    return {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}


def test_loss_landscape_is_a_heatmap_with_lines():
    at = run_page(PAGE)
    land = json.loads(chart_specs(at)["lin_land"])
    types = [t["type"] for t in land["data"]]
    assert "contour" not in types and types.count("heatmap") == 1  # no JavaScript contours
    assert any(t.get("name") == "contour lines" for t in land["data"])


def test_charts_follow_the_settings_they_show():
    """Figures are built once per result and view: each widget still redraws its charts."""
    at = run_page(PAGE)
    spec = chart_specs(at)
    assert set(spec) == {"lin_fit", "lin_land", "lin_loss", "log_boundary", "log_curves"}

    def changed(widget, value) -> set[str]:
        nonlocal spec
        widget.set_value(value).run()
        assert_ok(at)
        new = chart_specs(at)
        out, spec = {k for k in spec if spec[k] != new[k]}, new
        return out

    assert changed(at.slider(key="lin_k"), 5) == {"lin_fit", "lin_land"}
    assert changed(at.slider(key="log_i"), 7) == {"log_boundary"}
    assert changed(at.slider(key="log_k"), 3) == {"log_boundary"}
    assert changed(at.slider(key="lin_noise"), 1.0) == {"lin_fit", "lin_land", "lin_loss"}
    assert changed(at.slider(key="log_sep"), 1.0) == {"log_boundary", "log_curves"}


def test_the_walkthroughs_follow_their_step_and_point():
    at = run_page(PAGE, state={"lin_k": 5, "log_k": 3, "log_i": 7})
    assert_ok(at)
    text = "\n".join(x.value for x in at.latex)
    assert r"(w_{5}, b_{5}) = (" in text
    assert r"z_{7} = w_1 x_1" in text
    assert any("after step 3" in m.value for m in at.markdown)
