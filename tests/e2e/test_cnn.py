"""The CNN page in a real browser: the convolution sliders redraw the formula with new
numbers and the test image's prediction further down (once), uploads (a bad file, then a good one) give a message or a prediction, never a
trace, and the divergence preset keeps the plots."""

import pytest

from tests.e2e.conftest import assert_no_exception, digit_one_png, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_cnn_upload_divergence_preset_and_stride(server, page):
    page.goto(f"{server}/cnn")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    screenshot(page, "cnn-default")
    before = page.locator(".katex").all_inner_texts()
    slider = (
        page.locator('[data-testid="stSlider"]').filter(has_text="Stride s").get_by_role("slider")
    )
    charts = page.locator(".js-plotly-plot").count()
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert page.locator(".katex").all_inner_texts() != before  # n_out and the sum changed
    # The walkthrough is a fragment that also redraws the test image's prediction further
    # down: a rerun replaces what it drew there, never adds a second copy.
    prediction = page.get_by_text("The softmax turns the ten logits into probabilities")
    assert page.locator(".js-plotly-plot").count() == charts and prediction.count() == 1
    image = page.locator('[data-testid="stSlider"]').filter(has_text="Test image")
    image.get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert prediction.count() == 1 and "Test image 1" in prediction.inner_text()
    assert page.locator(".js-plotly-plot").count() == charts

    page.get_by_role("tab", name="Upload an image").click()
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture of a digit"}
    )
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    alerts = page.locator('[data-testid="stAlert"]')
    assert alerts.filter(has_text="not an image").count() == 1
    assert alerts.filter(has_text="reads your digit as").count() == 0
    upload.set_input_files({"name": "one.png", "mimeType": "image/png", "buffer": digit_one_png()})
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert alerts.filter(has_text="reads your digit as").count() == 1
    assert alerts.filter(has_text="not an image").count() == 0
    screenshot(page, "cnn-upload")

    page.get_by_role("button", name="Learning rate far too large").click()
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert alerts.filter(has_text="diverged at step").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 5  # the plots stay up
    screenshot(page, "cnn-divergence")
