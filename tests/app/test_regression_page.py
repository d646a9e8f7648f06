"""AppTest of the regression page."""

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
