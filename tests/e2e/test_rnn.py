"""The recurrent-network page in a real browser: the unrolled picture and the equations
render, the time-step slider redraws the step with new numbers, the test-sequence slider
the step of the new sequence, and the
exploding-gradient preset shows its lesson and keeps the plots."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_rnn_time_step_slider_and_exploding_preset(server, page):
    page.goto(f"{server}/rnn?cmp=0")
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").filter(has_text="unrolled over time").count() == 1
    screenshot(page, "rnn-default")
    before = page.locator(".katex").all_inner_texts()
    slider = (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text="Time step t")
        .get_by_role("slider")
    )
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    after = page.locator(".katex").all_inner_texts()
    assert after != before and any("6,0" in a for a in after)  # c_{6,0}, h_{6,0} with numbers
    sequence = (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text="Test sequence to inspect")
        .get_by_role("slider")
    )
    sequence.focus()
    page.keyboard.press("ArrowRight")  # another sequence: the step below follows it
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    step = page.locator('[data-testid="stMarkdown"]').filter(has_text="Test sequence 2, step")
    assert step.count() == 1
    assert page.locator(".katex").all_inner_texts() != after
    assert any("6,0" in a for a in page.locator(".katex").all_inner_texts())  # t stays 6

    page.get_by_role("button", name="Exploding gradients", exact=True).click()
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="diverged at step")
    assert alert.count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 4  # the plots stay up
    assert page.locator(".katex").count() >= 5
    screenshot(page, "rnn-exploding")
    page.get_by_role("tab", name="Gradients through time").click()
    wait_idle(page, timeout_s=120)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").filter(has_text="How much the loss feels").count() == 1
    screenshot(page, "rnn-gradients-tab")
