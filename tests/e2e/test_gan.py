"""The GAN page in a real browser: play for a moment (the fragment ticks), then pause."""

import time

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def generator_step(page) -> int:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Generator step")
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def wait_for_step(page, step: int, timeout_s: float = 60.0) -> None:
    """Until the metric shows ``step`` (a loaded machine may start the run late, after
    ``wait_idle`` has seen a quiet second)."""
    deadline = time.time() + timeout_s
    while generator_step(page) != step and time.time() < deadline:
        page.wait_for_timeout(200)


def test_gan_plays_then_pauses(server, page):
    page.goto(f"{server}/gan")
    wait_idle(page)
    assert_no_exception(page)
    assert generator_step(page) == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(4000)  # the fragment advances 20 steps a tick, 4 ticks a second
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for(timeout=60_000)  # the page says paused
    wait_idle(page)
    assert_no_exception(page)
    paused_at = generator_step(page)
    assert paused_at >= 60  # several frames were drawn
    page.wait_for_timeout(1500)
    assert generator_step(page) == paused_at  # paused means paused
    assert page.locator(".katex-error").count() == 0
    assert page.locator(".js-plotly-plot").count() == 2  # the live view and D vs D*
    page.get_by_role("tab", name="Losses and coverage").click()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 3  # the live view, coverage, losses
    assert generator_step(page) == paused_at  # opening a tab trains nothing
    screenshot(page, "gan-played")


@pytest.mark.parametrize("loss", ["least_squares", "wgan_gp"])
def test_other_losses_render_their_own_formulas(server, page, loss):
    page.goto(f"{server}/gan?loss={loss}")
    wait_idle(page)
    page.get_by_role("button", name="Step", exact=True).click()
    wait_idle(page)
    wait_for_step(page, 20)
    page.get_by_role("tab", name="The game in numbers").click()
    wait_idle(page)
    page.locator(".katex").filter(has_text="trained:").first.wait_for(timeout=60_000)
    assert_no_exception(page)
    assert generator_step(page) == 20
    assert page.locator(".katex").filter(has_text="trained:").count() == 2
    assert page.locator(".katex-error").count() == 0
    screenshot(page, f"gan-{loss}")
