"""The CNN page in a real browser: the convolution sliders redraw the formula with new
numbers, uploads (a bad file, then a good one) give a message or a prediction, never a
trace, and the divergence preset keeps the plots."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def _one() -> bytes:
    a = np.full((60, 40), 255, np.uint8)
    a[8:52, 18:23] = 0  # a dark "1" on white paper
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_cnn_upload_divergence_preset_and_stride(server, page):
    page.goto(f"{server}/cnn")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    screenshot(page, "cnn-default")
    before = page.locator(".katex").all_inner_texts()
    slider = (
        page.locator('[data-testid="stSlider"]').filter(has_text="Stride s").get_by_role("slider")
    )
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert page.locator(".katex").all_inner_texts() != before  # n_out and the sum changed

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
    upload.set_input_files({"name": "one.png", "mimeType": "image/png", "buffer": _one()})
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
