"""AppTest of the regression page: defaults, every tab, presets, extremes, URL clamping."""

import json

import pytest

from dl_core import regression as R
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from viz.latex import num

PAGE = "pages/regression.py"
TABS = ("How large may η be?", "Full batch, mini-batch, stochastic", "Logistic regression",
        "Under the hood")  # fmt: skip


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def chart_specs(at) -> dict[str, str]:
    return {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}


def test_default_shows_the_fit_the_step_with_numbers_and_the_rate():
    at = run_page(PAGE)
    assert_ok(at)
    assert [t.label for t in at.tabs] == list(TABS)
    text = latex_text(at)
    assert r"(w^*, b^*) = (" in text
    assert r"\frac{\partial L}{\partial w} = \frac{2}{n}\sum_i (\hat y_i - y_i)" in text
    assert r"\frac{2}{60}" in text
    res = R.train_linreg(R.LinRegConfig())
    rates = R.gd_rates(res)
    assert f"= {num(rates['rate'])}" in text and f"= {num(rates['lr_best'])}" in text
    assert f"= {num(2 / res.eigenvalues[1])}" in text  # 2/λ_max in the first tab
    assert not at.warning
    sidebar = [s.label for s in at.sidebar.slider]
    assert "Points n" in sidebar and "Class separation" in sidebar  # settings in the sidebar


def test_two_over_lambda_max_preset_diverges_with_an_explanation():
    at = run_page(PAGE)
    at.button[0].click().run()
    assert_ok(at)
    assert any(r"exceeds $2/\lambda_{\max} = 0.353$" in w.value for w in at.warning)
    assert any(r"2/\lambda_{\max} = 0.353" in i.value for i in at.info)  # the note, computed
    assert {"lin_fit", "lin_land"} <= set(chart_specs(at))  # the plots stay up


def test_stochastic_divergence_below_two_over_lambda_max_is_not_blamed_on_it():
    at = run_page(
        PAGE, state={"lin_lr": 0.3, "lin_steps": 500, "lin_batch": "stochastic (1 point)"}
    )
    assert_ok(at)
    (warning,) = at.warning
    assert "its batch's own Hessian" in warning.value and "exceeds" not in warning.value


def test_stochastic_preset():
    at = run_page(PAGE)
    at.button[1].click().run()
    assert_ok(at)
    assert at.session_state["lin_batch"] == "stochastic (1 point)"


@pytest.mark.parametrize("i", [2, 3])
def test_logistic_presets_open_the_logistic_tab(i):
    at = run_page(PAGE)
    at.button[i].click().run()
    assert_ok(at)
    assert at.session_state[lesson.TABS_KEY] == "Logistic regression"
    assert {"log_boundary", "log_curves"} <= set(chart_specs(at))
    if i == 3:  # separable: the note's ‖w‖ after 100 and 500 steps come from runs
        note = at.info[0].value
        assert "after 100 steps" in note and "after 500" in note


@pytest.mark.parametrize(
    "state",
    [
        dict(lin_n=5, lin_noise=0.0, lin_lr=10.0, lin_steps=500, lin_batch="stochastic (1 point)",
             log_sep=0.0, log_lr=10.0, log_steps=500, log_batch="mini-batch of 10"),
        dict(lin_n=500, lin_noise=3.0, lin_lr=0.001, lin_steps=1, log_sep=6.0, log_lr=0.001, log_steps=1),
    ],
)  # fmt: skip
def test_extreme_settings_on_every_tab(state):
    at = run_page(PAGE, state=state)
    assert_ok(at)
    for name in TABS[1:]:
        assert_ok(open_tab(at, name))


def test_url_is_clamped():
    at = run_page(PAGE, query={"lin_n": "100000", "lin_lr": "-3", "log_steps": "1e12"})
    assert_ok(at)
    assert at.session_state["lin_n"] == 500
    assert at.session_state["lin_lr"] == 0.001
    assert at.session_state["log_steps"] == 500


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
    assert set(spec) == {"lin_fit", "lin_land", "lin_rate"}

    def changed(widget, value) -> set[str]:
        nonlocal spec
        widget.set_value(value).run()
        assert_ok(at)
        new = chart_specs(at)
        out, spec = {k for k in spec if spec[k] != new[k]}, new
        return out

    assert changed(at.slider(key="lin_k"), 5) == {"lin_fit", "lin_land"}
    # the noise moves y, not x: the Hessian (2/n) X^T X and its rate chart stay
    assert changed(at.slider(key="lin_noise"), 1.0) == {"lin_fit", "lin_land"}
    assert changed(at.slider(key="lin_n"), 100) == {"lin_fit", "lin_land", "lin_rate"}
    open_tab(at, "Logistic regression")
    spec = chart_specs(at)
    assert set(spec) == {"lin_fit", "lin_land", "log_boundary", "log_curves"}
    assert changed(at.slider(key="log_i"), 7) == {"log_boundary"}
    assert changed(at.slider(key="log_k"), 3) == {"log_boundary"}
    assert changed(at.slider(key="log_sep"), 1.0) == {"log_boundary", "log_curves"}
    open_tab(at, "Full batch, mini-batch, stochastic")
    assert "lin_loss" in chart_specs(at)


def test_the_walkthroughs_follow_their_step_and_point():
    at = run_page(PAGE, state={"lin_k": 5, "log_k": 3, "log_i": 7, lesson.TABS_KEY: TABS[2]})
    assert_ok(at)
    text = latex_text(at)
    assert r"(w_{5}, b_{5}) = (" in text
    assert r"a_{7} = w_1 x_{7,1} + w_2 x_{7,2} + b" in text  # i counts from 1, as in the caption
    res = R.train_logreg(R.LogRegConfig())
    pt = R.logreg_point(res, 3, 6)
    assert (
        rf"\hat y_{{7}} = \sigma(a_{{7}}) = \frac{{1}}{{1 + e^{{-({num(pt.a)})}}}} = {num(pt.y_hat)}"
        in text
    )
    assert any("after step 3" in m.value for m in at.markdown)
