"""The recurrent-network page in a real browser: the exploding-gradient preset."""

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_rnn_exploding_preset_shows_lesson_and_keeps_plots(server, page):
    page.goto(f"{server}/rnn?cmp=0")
    wait_idle(page)
    page.get_by_role("button", name="Exploding gradients without clipping").click()
    wait_idle(page)
    assert_no_exception(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="diverged at step")
    assert alert.count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 5  # the plots stay up
    assert page.locator(".katex").count() >= 5
    screenshot(page, "rnn-exploding")
