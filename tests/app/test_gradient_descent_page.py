"""AppTest of the gradient-descent page: defaults, extremes, presets, URL clamping."""

import json

import pytest

from tests.app.conftest import assert_ok, run_page

PAGE = "pages/gradient_descent.py"


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def test_default_run_shows_formula_with_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    text = latex_text(at)
    assert r"\theta_k = \theta_{k-1} - \eta" in text
    assert r"g_{3} = \nabla f(\theta_{2})" in text  # step 3 of the first optimizer, with numbers
    assert r"\begin{pmatrix}" in text
    assert not at.warning  # the default settings converge


@pytest.mark.parametrize("surface", ["quadratic", "rosenbrock", "himmelblau", "saddle", "beale"])
def test_every_surface_with_every_optimizer(surface):
    at = run_page(PAGE)
    at.selectbox(key="surface").set_value(surface).run()
    at.multiselect(key="opt").set_value(
        ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    ).run()
    assert_ok(at)
    assert len(at.get("plotly_chart")) >= 4


@pytest.mark.parametrize("lr", [1e-4, 10.0])
@pytest.mark.parametrize("steps", [1, 500])
def test_extreme_learning_rates_and_steps(lr, steps):
    at = run_page(PAGE)
    at.select_slider(key="lr").set_value(lr)
    at.slider(key="steps").set_value(steps).run()
    assert_ok(at)
    if lr == 10.0 and steps == 500:
        assert any("diverged at step" in w.value for w in at.warning)


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


def test_divergence_preset_explains_two_over_L():
    at = run_page(PAGE)
    at.button[0].click().run()
    assert_ok(at)
    assert at.session_state["lr"] == 0.25
    assert any("exceeds 2/L = 0.2" in w.value for w in at.warning)


@pytest.mark.parametrize("i", [1, 2, 3])
def test_other_presets_run(i):
    at = run_page(PAGE)
    at.button[i].click().run()
    assert_ok(at)


def test_adam_preset_reaches_rosenbrock_minimum_and_sgd_diverges():
    at = run_page(PAGE)
    at.button[2].click().run()
    assert at.session_state["surface"] == "rosenbrock"
    warnings = " ".join(w.value for w in at.warning)
    assert "SGD diverged" in warnings and "Adam" not in warnings


def test_url_values_are_clamped_or_snapped():
    at = run_page(PAGE, query={"lr": "50", "steps": "99999", "kappa": "0.001", "opt": "adam,bogus"})
    assert_ok(at)
    assert at.session_state["lr"] == 10.0
    assert at.session_state["steps"] == 500
    assert at.session_state["kappa"] == 1.0
    assert at.session_state["opt"] == ["adam"]


def test_url_learning_rate_snaps_to_the_nearest_log_option():
    at = run_page(PAGE, query={"lr": "0.0031"})
    assert at.session_state["lr"] == 0.003


def test_step_walkthrough_follows_the_step_slider():
    at = run_page(PAGE)
    at.slider(key="k").set_value(17).run()
    assert_ok(at)
    assert r"g_{17} = \nabla f(\theta_{16})" in latex_text(at)


def chart_specs(at) -> dict[str, str]:
    return {c.proto.id.rsplit("-", 1)[-1]: c.proto.spec for c in at.get("plotly_chart")}


def test_contour_map_is_a_heatmap_with_lines_and_the_3d_view_draws_only_when_open():
    at = run_page(PAGE)
    spec = chart_specs(at)
    assert set(spec) == {"contour", "gd_loss", "gd_steps", "gd_stability"}
    contour = json.loads(spec["contour"])
    types = [t["type"] for t in contour["data"]]
    assert "contour" not in types and types.count("heatmap") == 1  # no JavaScript contours
    assert any(t.get("name") == "contour lines" for t in contour["data"])
    at.session_state["gd_3d"] = True  # what a click on the expander does
    at.run()
    assert_ok(at)
    surface = json.loads(chart_specs(at)["gd_surface3d"])
    assert surface["data"][0]["type"] == "surface"


def test_charts_follow_the_settings_they_show():
    """Figures are built once per result: a changed setting must still redraw its charts."""
    at = run_page(PAGE)
    spec = chart_specs(at)
    at.slider(key="mu").set_value(0.5).run()  # new runs, same curvature and learning rate
    new = chart_specs(at)
    assert {k for k in spec if spec[k] != new[k]} == {"contour", "gd_loss", "gd_steps"}
    at.select_slider(key="lr").set_value(0.1).run()
    assert chart_specs(at)["gd_stability"] != new["gd_stability"]


def test_the_update_section_follows_its_optimizer_choice():
    at = run_page(PAGE)
    at.selectbox(key="who").set_value("adam").run()
    at.slider(key="k").set_value(5).run()
    assert_ok(at)
    text = latex_text(at)
    assert r"\hat m_{5} = " in text and r"g_{5} = \nabla f(\theta_{4})" in text


def test_under_the_hood_runs_the_torch_reference_only_when_open():
    at = run_page(PAGE)
    assert not at.dataframe  # closed: the reference runs are not computed
    at.session_state["gd_hood"] = True
    at.run()
    assert_ok(at)
    (table,) = at.dataframe
    df = table.value
    assert list(df["optimizer"]) == ["SGD", "Momentum", "Adam"]
    assert max(float(g) for g in df["max |θ_hand − θ_torch|"]) < 1e-10
    assert any("def step" in c.value for c in at.code)
