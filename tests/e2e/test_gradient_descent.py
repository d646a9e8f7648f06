"""The gradient-descent page in a real browser: every tab opens by a click and draws its
charts and formulas; the "Momentum at its best" experiment opens the rate map with the
learner's point on the optimum. Screenshots of each tab are saved for review."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

TABS = {
    "How large may η be?": 3,  # contour, loss gap, the rate curve
    "Momentum's rate map": 3,
    "The update with your numbers": 3,  # contour, loss gap, step sizes
    "3-D view": 3,
    "Under the hood": 2,
}


def test_every_tab_opens_with_its_charts_and_formulas(server, page):
    page.goto(f"{server}/gradient_descent")
    wait_idle(page)
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
        assert panel.locator("h3").first.inner_text().strip()  # each tab is a section
        if name != "3-D view":
            assert panel.locator(".katex, code").count() >= 1
        screenshot(page, f"gradient-descent-tab-{i + 1}")


def test_momentum_preset_opens_the_rate_map_at_the_optimum(server, page):
    page.goto(f"{server}/gradient_descent")
    wait_idle(page)
    page.get_by_role("button", name="Momentum at its best").click()
    wait_idle(page)
    assert_no_exception(page)
    assert (
        page.get_by_role("tab", name="Momentum's rate map").get_attribute("aria-selected") == "true"
    )
    rate_map = page.locator(".js-plotly-plot").filter(has_text="Momentum's rate over")
    assert rate_map.count() == 1
    assert "η* = 0.25, β* = 0.25" in rate_map.inner_text()
    assert "rate 0.5" in rate_map.inner_text()  # the learner's point sits on the optimum
    assert "kappa=9" in page.url and "mu=0.25" in page.url
    screenshot(page, "gradient-descent-momentum-best")


@pytest.mark.parametrize("query", ["", "?surface=rosenbrock&x0=-1.2&y0=1"])
def test_the_contour_shows_its_top_y_tick_whole(server, page, query):
    """Issue 18: the contour's top y tick was cut off. Every y tick label lies inside the
    chart's drawing and below its title."""
    page.goto(f"{server}/gradient_descent{query}")
    wait_idle(page)
    page.wait_for_selector(
        ".js-plotly-plot .gtitle", timeout=90_000
    )  # slow when the machine is busy
    chart = page.locator(".js-plotly-plot").first
    svg = chart.locator(".main-svg").first.bounding_box()
    title = chart.locator(".gtitle").first.bounding_box()
    ticks = [t.bounding_box() for t in chart.locator(".ytick text").all()]
    assert len(ticks) >= 4
    top = min(ticks, key=lambda b: b["y"])
    assert top["y"] >= svg["y"] and top["y"] + top["height"] <= svg["y"] + svg["height"]
    assert top["y"] >= title["y"] + title["height"], (top, title)
    screenshot(page, "gradient-descent-contour" + ("-rosenbrock" if query else ""))
