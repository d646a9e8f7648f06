"""The CNN page in a real browser: the first screen; the convolution's sliders redraw the
formula with new numbers (and nothing else); drawing a digit with the mouse on the canvas
changes the prediction; uploads (a bad file, then a good one) give a message or a
prediction, never a trace; the divergence preset keeps the plots."""

import itertools

import pytest

from tests.e2e.conftest import assert_no_exception, digit_one_png, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def stroke(page, points) -> None:
    """Draw with the mouse on the drawing canvas: press, move through ``points`` (fractions
    of the canvas's width and height), release. Strokes start below the canvas's toolbar,
    which covers the top right of its top edge."""
    canvas = page.locator("[class*=st-key-canvas] canvas").last
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the canvas (Fabric.js) is set up once it is on screen
    box = canvas.bounding_box()

    def at(fx, fy):
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (fx0, fy0), (fx1, fy1) in itertools.pairwise(points):
        for k in range(1, 11):  # ten mouse moves a segment, as a hand makes them
            page.mouse.move(*at(fx0 + (fx1 - fx0) * k / 10, fy0 + (fy1 - fy0) * k / 10))
    page.mouse.up()


def test_cnn_first_screen_walkthrough_drawing_upload_and_divergence(server, page):
    page.goto(f"{server}/cnn")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert page.get_by_text("test images wrong").count() == 1  # the trained CNN's key numbers
    screenshot(page, "cnn-default")

    # Convolution step by step (the first tab): a slider reruns its section only
    before = page.locator(".katex").all_inner_texts()
    charts = page.locator(".js-plotly-plot").count()
    stride = page.locator('[data-testid="stSlider"]').filter(has_text="Stride S")
    stride.get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    after = page.locator(".katex").all_inner_texts()
    assert after != before and after[0] == before[0]  # the sum changed, the header did not
    assert page.locator(".js-plotly-plot").count() == charts

    # Test it: your digit. The canvas starts with a seven; cleared, it asks for a drawing;
    # a stroke drawn with the mouse is read as a digit.
    page.get_by_role("tab", name="Test it: your digit").click()
    wait_idle(page, timeout_s=120)
    alerts = page.locator('[data-testid="stAlert"]')
    reading = alerts.filter(has_text="reads your digit as")
    assert reading.count() == 1
    sample = reading.inner_text()
    page.get_by_role("button", name="Clear the canvas").click()
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert reading.count() == 0 and alerts.filter(has_text="Draw a digit").count() == 1
    stroke(page, [(0.5, 0.2), (0.5, 0.85)])  # a vertical bar: a one
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert reading.count() == 1, alerts.all_inner_texts()
    drawn = reading.inner_text()
    assert drawn != sample and "as 1" in drawn, (sample, drawn)
    stroke(page, [(0.25, 0.2), (0.75, 0.2)])  # a bar across its top: now a seven or a one
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert reading.count() == 1 and reading.inner_text() != drawn  # the prediction moved
    screenshot(page, "cnn-draw")

    page.get_by_role("tab", name="Upload an image").click()
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    upload.set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture of a digit"}
    )
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert alerts.filter(has_text="not an image").count() == 1
    assert reading.count() == 0
    upload.set_input_files({"name": "one.png", "mimeType": "image/png", "buffer": digit_one_png()})
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert reading.count() == 1 and alerts.filter(has_text="not an image").count() == 0
    screenshot(page, "cnn-upload")

    for tab in ("What the network learned", "Mistakes", "Under the hood"):
        page.get_by_role("tab", name=tab).click()
        wait_idle(page, timeout_s=180)
        assert_no_exception(page)
        screenshot(page, "cnn-" + tab.split()[0].lower())

    page.get_by_role("button", name="Learning rate far too large").click()
    wait_idle(page, timeout_s=180)
    assert_no_exception(page)
    assert alerts.filter(has_text="diverged at step").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 1  # the curves stay up
    screenshot(page, "cnn-divergence")
