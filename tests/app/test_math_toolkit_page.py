"""AppTest of the Math toolkit page: defaults, every tab, every preset, every setting at its
extremes and hostile links in every tab, a link to one section, no NaN on screen."""

import pytest

from dl_core.toolkit import linalg as LA
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from viz.latex import num

PAGE = "pages/math_toolkit.py"
TABS = ("Eigenvectors & SVD", "Quadratic form & κ", "Derivatives", "Probability", "Information")
PRESETS = ("Rotation", "Shear", "Scaling", "Projection", "Symmetric PD")
HOSTILE = ("NaN", "-1e999", "99999999", "-99999999", "<script>alert(1)</script>", "", "9" * 500)
# every URL setting of the page, with the tab that draws it
SETTINGS = {
    "Eigenvectors & SVD": ("a11", "a12", "a21", "a22", "tab"),
    "Derivatives": ("fn", "px", "py", "dir", "fd"),
    "Probability": ("mean", "sd", "prob", "samples", "draw", "mle_lr", "mle_steps"),
    "Information": ("unit", "sep", "width", "left", "p1", "p2", "p3", "p4", "q1", "q2", "q3", "q4"),
}


def text(at) -> str:
    return "\n".join(x.value for kind in ("latex", "markdown", "caption", "info") for x in getattr(at, kind))  # fmt: skip


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def sane(at) -> None:
    assert_ok(at)
    body = text(at)
    assert "NaN" not in body and "nan " not in body
    assert not at.error


def charts(at) -> list[str]:
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def test_default_run_holds_the_lesson():
    at = run_page(PAGE)
    sane(at)
    assert [t.label for t in at.tabs] == list(TABS)
    assert [b.label for b in at.button] == list(PRESETS)
    body = text(at)
    assert r"A v_i = \lambda_i v_i" in body
    e = LA.eigen(LA.matrix(1.0, 0.8, 0.3, 1.2))
    assert rf"\lambda_1 = {num(e.values[0].real)}" in body and num(e.det) in body  # 1.6, 0.6, 0.96
    assert "tk_transform" in charts(at) and "tk_svd" in charts(at)
    assert {s.key for s in at.sidebar.slider} == {"a11", "a12", "a21", "a22"}


@pytest.mark.parametrize("i, name", list(enumerate(PRESETS)))
def test_every_preset_with_every_tab(i, name):
    at = run_page(PAGE)
    at.button[i].click().run()
    sane(at)
    assert any(name in x.value for x in at.info)  # the preset's note stands under the row
    for tab in TABS[1:]:
        sane(open_tab(at, tab))


def test_presets_say_what_they_show():
    at = run_page(PAGE)
    at.button[0].click().run()  # rotation
    assert r"0.8 + 0.6\,i" in text(at) and "complex" in text(at)
    at.button[3].click().run()  # projection
    assert "no inverse" in text(at)
    at.button[4].click()
    at = open_tab(at.run(), "Quadratic form & κ")
    body = text(at)
    assert r"\kappa = \frac{\lambda_{\max}}{\lambda_{\min}}" in body and "6.854" in body
    assert "(gradient_descent?surface=quadratic&kappa=7&angle=-60)" in body


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_every_tab(tab, value):
    keys = {k for ks in SETTINGS.values() for k in ks}
    at = run_page(PAGE, query={k: value for k in keys}, state={lesson.TABS_KEY: tab})
    sane(at)


@pytest.mark.parametrize("tab", TABS[2:])
@pytest.mark.parametrize("extreme", ["min", "max"])
def test_every_slider_of_a_tab_at_its_extremes(tab, extreme):
    at = run_page(PAGE, state={lesson.TABS_KEY: tab})
    for s in [*at.slider, *at.select_slider]:
        if s.key in SETTINGS.get(tab, ()) or s.key in SETTINGS["Eigenvectors & SVD"]:
            options = getattr(s, "options", None)
            if options:
                s.set_value(type(s.value)(options[0 if extreme == "min" else -1]))
            else:
                s.set_value(s.min if extreme == "min" else s.max)
    sane(at.run())


def test_singular_and_zero_matrices_explain_themselves():
    at = run_page(PAGE, query={"a11": "0", "a12": "0", "a21": "0", "a22": "0"})
    sane(at)
    assert "no inverse" in text(at)
    at = open_tab(at, "Quadratic form & κ")
    sane(at)
    assert "f is 0 everywhere" in text(at)


def test_zero_probability_gives_infinite_kl_in_words():
    at = run_page(PAGE, query={"q3": "0", "q4": "0", "p4": "0.5"}, state={lesson.TABS_KEY: "Information"})  # fmt: skip
    sane(at)
    assert "Infinite KL" in text(at) and r"\infty" in text(at)
    at = run_page(PAGE, query={k: "0" for k in ("p1", "p2", "p3", "p4")}, state={lesson.TABS_KEY: "Information"})  # fmt: skip
    sane(at)
    assert "uniform one is used" in text(at)


def test_one_sample_has_no_maximum_in_words():
    at = run_page(PAGE, query={"samples": "1"}, state={lesson.TABS_KEY: "Probability"})
    sane(at)
    assert "no maximum" in text(at)


def test_a_link_opens_its_section_and_keeps_its_settings():
    at = run_page(PAGE, query={"tab": "derivatives", "fn": "saddle", "fd": "0.01"})
    sane(at)
    assert at.session_state[lesson.TABS_KEY] == "Derivatives"
    assert at.selectbox(key="fn").value == "saddle" and at.select_slider(key="fd").value == 0.01
    assert "exact up to round-off" in text(at)
    at = open_tab(at, "Information")  # the other tab's settings stay in the link
    assert at.query_params["tab"] == "information" and at.query_params["fn"] == "saddle"
    at = open_tab(at, "Eigenvectors & SVD")  # the first section needs no tab in the link
    assert "tab" not in at.query_params
    unknown = run_page(PAGE, query={"tab": "nonsense"})
    sane(unknown)
    assert [t.label for t in unknown.tabs] == list(TABS)


def test_a_tab_slider_changes_its_numbers():
    at = run_page(PAGE, state={lesson.TABS_KEY: "Derivatives"})
    before = text(at)
    at.slider(key="px").set_value(-1.0).run()
    sane(at)
    assert text(at) != before and r"\nabla f(-1, 0.5)" in text(at)
