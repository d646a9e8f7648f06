"""AppTest of the gradient-descent page: defaults, every tab, extremes, presets, URL clamping."""

import json

import pytest

from dl_core import optim
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from viz.latex import plain

PAGE = "pages/gradient_descent.py"
TABS = ("How large may η be?", "Momentum's rate map", "The update with your numbers",
        "3-D view", "Under the hood")  # fmt: skip


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def markdown_text(at) -> str:
    return "\n".join(x.value for x in at.markdown)


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def chart_specs(at) -> dict[str, str]:
    return {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}


def test_default_run_shows_the_lesson_and_the_rate_with_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    assert [t.label for t in at.tabs] == list(TABS)
    text = latex_text(at)
    assert r"\theta_k = \theta_{k-1} - \eta" in text
    # the first tab, open by default: GD's rate with the learner's η = 0.05 at κ = 10
    assert r"\max(0.95,\ 0.5) = 0.95" in text
    assert r"\eta^* = \frac{2}{\lambda_{\max} + \lambda_{\min}} = 0.1818" in text
    assert "shrank its error by 0.95 per step" in markdown_text(at)  # measured on SGD's run
    assert "μ" not in " ".join(s.label for s in at.slider)  # β is momentum's symbol
    assert not at.warning  # the default settings converge


@pytest.mark.parametrize("surface", ["quadratic", "rosenbrock", "himmelblau", "saddle", "beale"])
def test_every_surface_with_every_optimizer_and_every_tab(surface):
    at = run_page(PAGE)
    at.selectbox(key="surface").set_value(surface).run()
    at.multiselect(key="opt").set_value(list(optim.OPTIMIZERS)).run()
    assert_ok(at)
    assert {"contour", "gd_loss", "gd_rate"} <= set(chart_specs(at))
    for name in TABS[1:]:
        assert_ok(open_tab(at, name))


@pytest.mark.parametrize("lr", [1e-4, 10.0])
@pytest.mark.parametrize("steps", [1, 500])
def test_extreme_learning_rates_and_steps(lr, steps):
    at = run_page(PAGE, state={lesson.TABS_KEY: TABS[1]})
    at.select_slider(key="lr").set_value(lr)
    at.slider(key="steps").set_value(steps).run()
    assert_ok(at)
    if lr == 10.0 and steps == 500:
        assert any("diverged at step" in w.value for w in at.warning)
        assert "off the map" in chart_specs(at)["gd_ratemap"]


def test_extreme_hyperparameters_together():
    at = run_page(PAGE)
    at.slider(key="kappa").set_value(100.0)
    at.slider(key="angle").set_value(-90.0)
    at.slider(key="mu").set_value(0.99)
    at.slider(key="b1").set_value(0.0)
    at.slider(key="b2").set_value(0.9)
    at.select_slider(key="eps").set_value(0.1)
    at.slider(key="x0").set_value(4.5)
    at.slider(key="y0").set_value(-4.5)
    at.multiselect(key="opt").set_value(["adagrad", "rmsprop", "adamw"]).run()
    assert_ok(at)
    for name in TABS[1:3]:
        assert_ok(open_tab(at, name))


def test_divergence_preset_explains_two_over_lambda_max():
    at = run_page(PAGE)
    at.button[0].click().run()
    assert_ok(at)
    assert at.session_state["lr"] == 0.25
    assert any(r"exceeds $2/\lambda_{\max} = 0.2$" in w.value for w in at.warning)
    assert any("|1 - 0.25 \\cdot 10| = 1.5" in i.value for i in at.info)  # the preset's note


@pytest.mark.parametrize("i", [1, 3, 4])
def test_other_presets_run(i):
    at = run_page(PAGE)
    at.button[i].click().run()
    assert_ok(at)


def test_momentum_preset_opens_the_rate_map_at_the_optimum():
    at = run_page(PAGE)
    at.button[2].click().run()
    assert_ok(at)
    assert at.session_state[lesson.TABS_KEY] == TABS[1]
    assert (at.session_state["kappa"], at.session_state["lr"], at.session_state["mu"]) == (
        9.0,
        0.25,
        0.25,
    )
    text = latex_text(at)
    assert r"\mathrm{rate}(\eta, \beta) = 0.5" in text and r"\mathrm{rate}^* = " in text
    spec = json.loads(chart_specs(at)["gd_ratemap"])
    (star,) = [t for t in spec["data"] if t.get("name", "").startswith("optimum")]
    assert (star["x"][0], star["y"][0]) == pytest.approx((0.25, 0.25))
    # the momentum run achieves the closed-form rate (within its double root's k-factor)
    sentence = [m.value for m in at.markdown if "Momentum run drawn above" in m.value]
    rate = float(sentence[0].split("shrank its error by ")[1].split(" ")[0])
    assert rate == pytest.approx(0.5, rel=0.03)
    assert any("SGD diverged" in w.value for w in at.warning)  # η = 0.25 > 2/λ_max = 0.222


def test_adam_preset_reaches_rosenbrock_minimum_and_sgd_diverges():
    at = run_page(PAGE)
    at.button[3].click().run()
    assert at.session_state["surface"] == "rosenbrock"
    warnings = " ".join(w.value for w in at.warning)
    assert "SGD diverged" in warnings and "Adam" not in warnings


def test_url_values_are_clamped_or_snapped_and_old_links_keep_mu():
    at = run_page(PAGE, query={"lr": "50", "steps": "99999", "kappa": "0.001", "opt": "adam,bogus"})
    assert_ok(at)
    assert at.session_state["lr"] == 10.0
    assert at.session_state["steps"] == 500
    assert at.session_state["kappa"] == 1.0
    assert at.session_state["opt"] == ["adam"]
    old = run_page(PAGE, query={"mu": "0.5"}, state={lesson.TABS_KEY: TABS[1]})
    assert old.session_state["mu"] == 0.5
    assert r"\beta = 0.5" in latex_text(old)


def test_url_learning_rate_snaps_to_the_nearest_log_option():
    at = run_page(PAGE, query={"lr": "0.0031"})
    assert at.session_state["lr"] == 0.003


def test_rate_map_tab_writes_the_closed_form_with_the_learners_numbers():
    at = run_page(PAGE, state={lesson.TABS_KEY: TABS[1]})
    assert_ok(at)
    text = latex_text(at)
    rate = float(optim.momentum_rate(0.05, 0.9, 1.0, 10.0))
    lr_best, beta_best, rate_best = optim.momentum_optimum(1.0, 10.0)
    assert rf"\mathrm{{rate}}(\eta, \beta) = {plain(rate)}" in text
    assert f"= {plain(lr_best)}" in text and f"= {plain(beta_best)}" in text
    assert f"= {plain(rate_best)}" in text
    assert r"\frac{2(1+\beta)}{\lambda_{\max}} = 0.38" in text
    assert "torch.optim.SGD's heavy ball" in markdown_text(at)
    spec = json.loads(chart_specs(at)["gd_ratemap"])
    assert [t["type"] for t in spec["data"]].count(
        "heatmap"
    ) == 2  # the rate, grey where it diverges


def test_step_walkthrough_follows_the_step_slider():
    at = run_page(PAGE, state={lesson.TABS_KEY: TABS[2]})
    assert r"g_{3} = \nabla f(\theta_{2})" in latex_text(at)
    at.slider(key="k").set_value(17).run()
    assert_ok(at)
    assert r"g_{17} = \nabla f(\theta_{16})" in latex_text(at)


def test_contour_map_is_a_heatmap_with_lines_and_the_3d_view_draws_only_in_its_tab():
    at = run_page(PAGE)
    spec = chart_specs(at)
    assert set(spec) == {"contour", "gd_loss", "gd_rate"}
    contour = json.loads(spec["contour"])
    types = [t["type"] for t in contour["data"]]
    assert "contour" not in types and types.count("heatmap") == 1  # no JavaScript contours
    assert any(t.get("name") == "contour lines" for t in contour["data"])
    open_tab(at, "3-D view")
    assert_ok(at)
    surface = json.loads(chart_specs(at)["gd_surface3d"])
    assert surface["data"][0]["type"] == "surface"


def test_charts_follow_the_settings_they_show():
    """Figures are built once per result: a changed setting must still redraw its charts."""
    at = run_page(PAGE)
    spec = chart_specs(at)
    at.slider(key="mu").set_value(0.5).run()  # new runs, same curvature and learning rate
    new = chart_specs(at)
    assert {k for k in spec if spec[k] != new[k]} == {"contour", "gd_loss"}
    at.select_slider(key="lr").set_value(0.1).run()
    assert chart_specs(at)["gd_rate"] != new["gd_rate"]
    open_tab(at, TABS[1])
    before = chart_specs(at)["gd_ratemap"]
    at.slider(key="mu").set_value(0.7).run()
    assert chart_specs(at)["gd_ratemap"] != before


def test_the_update_section_follows_its_optimizer_choice():
    at = run_page(PAGE, state={lesson.TABS_KEY: TABS[2]})
    at.selectbox(key="who").set_value("adam").run()
    at.slider(key="k").set_value(5).run()
    assert_ok(at)
    text = latex_text(at)
    assert r"\hat m_{5} = " in text and r"g_{5} = \nabla f(\theta_{4})" in text
    assert any("Kingma & Ba" in c.value for c in at.caption)  # the paper it follows
    at.selectbox(key="who").set_value("momentum").run()
    assert r"v_{5} = 0.9\cdot" in latex_text(at)


def test_under_the_hood_runs_the_torch_reference_only_when_open():
    at = run_page(PAGE)
    assert not at.dataframe  # closed: the reference runs are not computed
    open_tab(at, "Under the hood")
    assert_ok(at)
    (table,) = at.dataframe
    df = table.value
    assert list(df["optimizer"]) == ["SGD", "Momentum", "Adam"]
    assert max(float(g) for g in df["max |θ_hand − θ_torch|"]) < 1e-10
    assert any("def step" in c.value for c in at.code)
    assert any("def momentum_rate" in c.value for c in at.code)
    assert "Device: CPU" in " ".join(c.value for c in at.caption)
