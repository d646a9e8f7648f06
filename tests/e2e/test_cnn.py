"""The CNN page in a real browser: the divergence preset keeps the plots, and the
convolution sliders redraw the formula with new numbers."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_cnn_divergence_preset_and_stride(server, page):
    page.goto(f"{server}/cnn")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    before = page.locator(".katex").all_inner_texts()
    slider = (
        page.locator('[data-testid="stSlider"]').filter(has_text="Stride s").get_by_role("slider")
    )
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert page.locator(".katex").all_inner_texts() != before  # n_out and the sum changed
    page.get_by_role("button", name="Learning rate far too large").click()
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="diverged at step").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 5  # the plots stay up
    screenshot(page, "cnn-divergence")
