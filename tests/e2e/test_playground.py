"""The playground in a real browser: play for a moment, pause, presets."""

import re

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.e2e


def epoch(page) -> float:
    text = page.locator('[data-testid="stMetric"]').filter(has_text="Epoch").inner_text()
    return float(re.search(r"([\d,]+\.\d)", text).group(1).replace(",", ""))


def test_play_then_pause(server, page):
    page.goto(f"{server}/playground")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator(".katex").count() >= 3
    assert page.locator(".js-plotly-plot").count() == 2  # the boundary and the network
    assert page.get_by_text("curves appear here once training starts").count() == 1
    assert epoch(page) == 0.0
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(3000)  # about ten ticks of the fragment
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    assert_no_exception(page)
    first = epoch(page)
    assert first > 0  # it trained while playing
    bad = page.locator(".katex-error")  # the formulas with the trained network's numbers
    assert bad.count() == 0, bad.first.get_attribute("title")
    page.wait_for_timeout(1500)
    assert epoch(page) == first  # and stopped when paused
    assert page.locator(".js-plotly-plot").count() == 4  # the loss and accuracy curves too
    screenshot(page, "playground-after-play")


def test_every_tab_opens(server, page):
    page.goto(f"{server}/playground?drop=0.3&bn=1")
    wait_idle(page)
    page.get_by_role("button", name="Step").click()
    wait_idle(page)
    for name in ["Dropout", "Batch norm", "The formulas", "Under the hood", "With your numbers"]:
        page.get_by_role("tab", name=name).click()
        wait_idle(page)
        assert_no_exception(page)
        bad = page.locator(".katex-error")
        assert bad.count() == 0, bad.first.get_attribute("title")
        if name in ("Dropout", "Batch norm"):
            screenshot(page, f"playground-{name.lower().replace(' ', '-')}")


def test_spiral_features_preset(server, page):
    page.goto(f"{server}/playground")
    wait_idle(page)
    page.get_by_role("button", name="Spiral solved by features").click()
    page.wait_for_timeout(4000)
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    assert_no_exception(page)
    assert "data=spiral" in page.url
    screenshot(page, "playground-spiral-features")


def test_multiclass_and_divergence_from_url(server, page):
    page.goto(f"{server}/playground?data=spiral3&layers=6&act=relu&opt=sgd&lr=10")
    wait_idle(page)
    page.get_by_role("button", name="Step").click()
    wait_idle(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(3000)
    pause = page.get_by_role("button", name="Pause")  # gone if it diverged and stopped itself
    if pause.count():
        pause.click()
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "playground-spiral3-sgd-lr10")
