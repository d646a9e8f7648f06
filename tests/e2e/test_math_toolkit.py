"""The Math toolkit in a real browser: a slider reruns the first chart, each tab opens with
its formulas and charts, a link opens a section, and the quadratic's link carries κ to the
gradient-descent page."""

import re

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

TABS = {
    "quadratic": "Quadratic form & κ",
    "derivatives": "Derivatives",
    "probability": "Probability",
    "information": "Information",
}


def slider(page, label: str):
    return page.locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider")


def sane(page) -> None:
    assert_no_exception(page)
    assert page.locator(".katex-error").count() == 0, page.locator(
        ".katex-error"
    ).first.inner_text()
    assert page.get_by_text("NaN", exact=True).count() == 0


def test_slider_and_every_tab(server, page):
    page.goto(f"{server}/math_toolkit")
    wait_idle(page)
    sane(page)
    before = page.locator(".katex").all_inner_texts()
    a11 = slider(page, "a₁₁")
    a11.focus()
    page.keyboard.press("ArrowRight")  # 1.00 -> 1.05
    wait_idle(page)
    sane(page)
    assert "a11=1.05" in page.url
    assert page.locator(".katex").all_inner_texts() != before  # det A and λ changed
    screenshot(page, "math-toolkit")
    for slug, name in TABS.items():
        page.get_by_role("tab", name=name).click()
        wait_idle(page)
        sane(page)
        assert f"tab={slug}" in page.url  # the URL names the open section
        assert page.locator(".js-plotly-plot").count() >= 2, slug
        screenshot(page, f"math-toolkit-{slug}")


def test_a_tab_slider_reruns_its_section(server, page):
    page.goto(f"{server}/math_toolkit?tab=derivatives&fn=saddle")
    wait_idle(page)
    sane(page)
    assert page.get_by_role("tab", name="Derivatives", selected=True).count() == 1
    eps = slider(page, "Step ε")
    eps.focus()
    for _ in range(10):  # 1e-3 -> 1e-2 (ten notches a decade)
        page.keyboard.press("ArrowRight")
    wait_idle(page)
    sane(page)
    assert "fd=0.01" in page.url and "fn=saddle" in page.url
    assert "exact up to round-off" in page.locator('[data-testid="stMain"]').inner_text()
    page.get_by_role("tab", name="Information").click()
    wait_idle(page)
    sane(page)
    # a closed tab's settings stay in the link, and the router does not call them unknown
    assert "fd=0.01" in page.url and "fn=saddle" in page.url and "tab=information" in page.url
    assert page.locator('[data-testid="stSidebar"]').get_by_text("adjusted").count() == 0
    page.get_by_role("tab", name="Derivatives").click()
    wait_idle(page)
    assert "exact up to round-off" in page.locator('[data-testid="stMain"]').inner_text()


def test_the_bowl_links_to_gradient_descent_with_its_kappa(server, page):
    page.goto(f"{server}/math_toolkit?tab=quadratic")
    wait_idle(page)
    page.get_by_role("button", name="Symmetric PD").click()
    wait_idle(page)
    sane(page)
    link = page.get_by_role("link", name=re.compile("Gradient descent on this bowl"))
    href = link.get_attribute("href")
    assert "kappa=7" in href and "surface=quadratic" in href and "angle=-60" in href, href
    screenshot(page, "math-toolkit-symmetric-pd")
    page.goto(f"{server}/{href.lstrip('/')}" if not href.startswith("http") else href)
    wait_idle(page)
    assert_no_exception(page)
    assert "Gradient descent" in page.locator("h1").first.inner_text()
    # the page writes its sliders' values back to the URL: κ = 7 and the valley's angle arrived
    assert re.search(r"kappa=7(\.0)?(&|$)", page.url) and "angle=-60" in page.url, page.url
