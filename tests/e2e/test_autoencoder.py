"""The autoencoder page in a real browser: formulas render, the digit slider reruns its
numbers, a click on the latent plane (its tab) decodes, presets work."""

import re
import time

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def assert_formulas_render(page, at_least: int = 5) -> None:
    assert page.locator(".katex").count() >= at_least
    bad = page.locator(".katex-error")
    assert bad.count() == 0, bad.first.get_attribute("title")


def decoded_title(page) -> str:
    return (
        page.locator(".js-plotly-plot .gtitle").filter(has_text="decoded g(z)").first.text_content()
    )


def test_autoencoder_page_renders_and_a_click_decodes(server, page):
    page.goto(f"{server}/autoencoder", timeout=120_000)
    wait_idle(page, timeout_s=600)
    assert_no_exception(page)
    assert_formulas_render(page)
    assert page.locator(".js-plotly-plot").count() >= 3  # the planes, a digit, PCA's bases
    screenshot(page, "autoencoder-default")
    digit = page.locator('[data-testid="stSlider"]').filter(has_text="Test digit #").first
    numbers = page.locator('[data-testid="stMarkdown"]').filter(has_text="With your numbers")
    assert "(test digit #0," in numbers.first.inner_text()
    digit.get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")  # the section reruns with the next digit's numbers
    wait_idle(page)
    assert_no_exception(page)
    assert "(test digit #1," in numbers.first.inner_text()
    page.get_by_role("tab", name="Generate: walk the latent plane").click()
    wait_idle(page)
    assert_no_exception(page)
    before = decoded_title(page)
    scatter = page.locator(".js-plotly-plot").filter(has_text="click anywhere").first
    drag = scatter.locator(".nsewdrag").first
    drag.scroll_into_view_if_needed()  # a mouse click only reaches what is in the viewport
    box = drag.bounding_box()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.25 * box["height"])
    deadline = time.time() + 30
    while (after := decoded_title(page)) == before and time.time() < deadline:
        page.wait_for_timeout(200)  # the selection event reaches the server, then a rerun
    wait_idle(page)
    assert_no_exception(page)
    after = decoded_title(page)
    assert after != before, (before, after)
    assert re.search(r"z = \(-?[\d.]+, -?[\d.]+\)", after)
    screenshot(page, "autoencoder-clicked")


def test_autoencoder_collapse_preset(server, page):
    page.goto(f"{server}/autoencoder", timeout=120_000)
    wait_idle(page, timeout_s=600)
    page.get_by_role("button", name="β = 5: posterior collapse").click()
    wait_idle(page, timeout_s=600)
    assert_no_exception(page)
    assert "beta=5" in page.url
    assert_formulas_render(page)
    screenshot(page, "autoencoder-collapse")
    page.get_by_role("tab", name="VAE: the loss terms").click()  # the ELBO with the numbers
    wait_idle(page, timeout_s=600)
    assert_no_exception(page)
    assert_formulas_render(page, at_least=10)
    assert page.get_by_text("common simplification").count() == 1
    screenshot(page, "autoencoder-vae-tab")
