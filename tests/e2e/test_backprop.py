"""The backpropagation page in a real browser: every formula renders, every tab opens,
presets work."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e

TABS = ["Forward and backward with your numbers", "Gradient check", "Activations and losses",
        "Deep networks", "Under the hood"]  # fmt: skip


def assert_formulas_render(page, at_least: int = 10) -> None:
    """KaTeX marks a formula it cannot parse with .katex-error (shown as red source)."""
    assert page.locator(".katex").count() >= at_least
    bad = page.locator(".katex-error")
    assert bad.count() == 0, bad.first.get_attribute("title")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_idle(page)
    assert_no_exception(page)


@pytest.mark.parametrize(
    "query",
    ["", "?arch=2-3-2-1&loss=softmax_ce&act=tanh", "?arch=2-3-1&loss=mse&act=gelu"],
    ids=["default", "softmax-3layer", "mse-gelu"],
)
def test_backprop_formulas_render(server, page, query):
    page.goto(f"{server}/backprop{query}")
    wait_idle(page)
    assert_no_exception(page)
    assert_formulas_render(page)  # the header and the first tab's walkthrough
    assert page.locator(".js-plotly-plot").count() >= 1
    charts = {TABS[1]: 2, TABS[2]: 3, TABS[3]: 4}
    for name in TABS[1:]:
        open_tab(page, name)
        assert_formulas_render(page, at_least=1)
        assert page.locator(".js-plotly-plot").count() >= charts.get(name, 1)
    if query:
        open_tab(page, TABS[0])
        screenshot(page, f"backprop-{query.split('&')[0].split('=')[1]}")


def test_backprop_kink_preset_shows_poor_check(server, page):
    page.goto(f"{server}/backprop")
    wait_idle(page)
    page.get_by_role("button", name="ReLU kink").click()
    wait_idle(page)
    assert_no_exception(page)
    assert (
        page.locator('[data-testid="stAlert"]').filter(has_text="from the ReLU kink").count() == 1
    )
    assert "kink=1" in page.url
    assert_formulas_render(page, at_least=2)
    screenshot(page, "backprop-kink")


def test_backprop_zero_init_preset(server, page):
    page.goto(f"{server}/backprop")
    wait_idle(page)
    page.get_by_role("button", name="Zero init").click()
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="identical forever").count() == 1
    screenshot(page, "backprop-zero-init")
