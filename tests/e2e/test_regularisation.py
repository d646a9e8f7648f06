"""The regularisation page in a real browser: a view slider reruns its section, a sidebar
slider retrains and lands in the URL, every tab opens with its formulas rendered, a preset."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

TABS = [
    "Overfitting",
    "L2 and L1",
    "Early stopping",
    "Dropout",
    "Batch norm",
    "Standardising inputs",
]
CHARTS = {
    "L2 and L1": 4,
    "Early stopping": 3,
    "Dropout": 5,
    "Batch norm": 5,
    "Standardising inputs": 5,
}
HEADINGS = {"L2 and L1": "a price on every weight", "Early stopping": "keep the weights",
            "Dropout": "a random thinned network", "Batch norm": "rescaled over the batch",
            "Standardising inputs": "one scale for every feature"}  # fmt: skip


def formulas_render(page, at_least: int) -> None:
    assert page.locator(".katex").count() >= at_least
    bad = page.locator(".katex-error")
    assert bad.count() == 0, bad.first.get_attribute("title")


def move(page, label: str, key: str = "ArrowRight") -> None:
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider")
    slider.focus()
    page.keyboard.press(key)
    wait_idle(page)
    assert_no_exception(page)


def test_view_slider_then_every_tab(server, page):
    page.goto(f"{server}/regularisation")
    wait_idle(page)
    assert_no_exception(page)
    formulas_render(page, 3)
    assert page.locator(".js-plotly-plot").count() >= 4  # loss, fit, bias-variance, fits
    formula = page.locator(".katex").filter(has_text="variance")
    before = formula.first.inner_text()
    move(page, "Polynomial degree")
    assert formula.first.inner_text() != before  # the section redrew with degree 4's numbers
    screenshot(page, "regularisation-overfitting")
    for name in TABS[1:]:
        page.get_by_role("tab", name=name).click()
        page.get_by_role("heading").filter(has_text=HEADINGS[name]).wait_for(timeout=180_000)
        wait_idle(page, timeout_s=180)
        assert_no_exception(page)
        formulas_render(page, 3)
        assert page.locator(".js-plotly-plot").count() >= CHARTS[name]
        screenshot(page, "regularisation-" + name.split()[0].lower())


def test_sidebar_slider_retrains_and_keeps_the_url(server, page):
    page.goto(f"{server}/regularisation?width=8")
    wait_idle(page)
    move(page, "Hidden units per layer")
    assert "width=9" in page.url
    page.get_by_role("button", name="Overfit a 2-D boundary").click()
    wait_idle(page)
    assert_no_exception(page)
    assert "data=moons" in page.url
    assert page.locator(".js-plotly-plot").count() >= 2
