"""The regression page in a real browser: settings in the sidebar, every tab opens by a click
and draws its charts and formulas, a logistic experiment opens the logistic tab. Screenshots
of each tab are saved for review."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

TABS = {
    "How large may η be?": 3,  # fit, landscape, the rate curve
    "Full batch, mini-batch, stochastic": 3,
    "Logistic regression": 4,
    "Under the hood": 2,
}


def test_every_tab_opens_with_its_charts_and_formulas(server, page):
    page.goto(f"{server}/regression")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator('[data-testid="stSlider"]').filter(has_text="Points n").count() == 1
    for i, (name, charts) in enumerate(TABS.items()):
        page.get_by_role("tab", name=name).click()
        wait_idle(page)
        assert_no_exception(page)
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot').length >= {charts}", timeout=30_000
        )
        bad = page.locator(".katex-error")  # KaTeX shows a formula it cannot parse in red
        assert bad.count() == 0, bad.first.inner_text()
        panel = page.get_by_role("tabpanel")
        assert panel.locator("h3").first.inner_text().strip()
        assert panel.locator(".katex, code").count() >= 1
        screenshot(page, f"regression-tab-{i + 1}")


def test_separable_preset_opens_the_logistic_tab(server, page):
    page.goto(f"{server}/regression")
    wait_idle(page)
    page.get_by_role("button", name="Separable classes").click()
    wait_idle(page)
    assert_no_exception(page)
    tab = page.get_by_role("tab", name="Logistic regression")
    assert tab.get_attribute("aria-selected") == "true"
    assert page.locator(".js-plotly-plot").filter(has_text="Decision boundary").count() == 1
    screenshot(page, "regression-separable")
