"""The backpropagation page in a real browser: every formula renders, presets work."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def assert_formulas_render(page) -> None:
    """KaTeX marks a formula it cannot parse with .katex-error (shown as red source)."""
    assert page.locator(".katex").count() >= 10
    bad = page.locator(".katex-error")
    assert bad.count() == 0, bad.first.get_attribute("title")


@pytest.mark.parametrize(
    "query",
    ["", "?arch=2-3-2-1&loss=softmax_ce&act=tanh", "?arch=2-3-1&loss=mse&act=gelu"],
    ids=["default", "softmax-3layer", "mse-gelu"],
)
def test_backprop_formulas_render(server, page, query):
    page.goto(f"{server}/backprop{query}")
    wait_idle(page)
    assert_no_exception(page)
    assert_formulas_render(page)
    assert page.locator(".js-plotly-plot").count() >= 6
    if query:
        screenshot(page, f"backprop-{query.split('&')[0].split('=')[1]}")


def test_backprop_kink_preset_shows_poor_check(server, page):
    page.goto(f"{server}/backprop")
    wait_idle(page)
    page.get_by_role("button", name="ReLU kink").click()
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="Poor check").count() == 1
    assert "kink=1" in page.url
    assert_formulas_render(page)
    screenshot(page, "backprop-kink")


def test_backprop_zero_init_preset(server, page):
    page.goto(f"{server}/backprop")
    wait_idle(page)
    page.get_by_role("button", name="Zero init").click()
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="symmetry").count() == 1
    screenshot(page, "backprop-zero-init")
