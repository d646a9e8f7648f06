"""Every page's first screen (1400 x 900) holds the lesson: the first chart and the
"Try this" row start above the fold. Screenshots of the first screen are saved for review."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SHOTS, assert_no_exception, wait_idle
from ui import lesson
from ui.nav import available

PAGES = [p for p in available() if p.url_path != "home"]
FOLD = 900


@pytest.fixture(scope="module")
def first_screen(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": FOLD})
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_lesson_on_the_first_screen(server, first_screen, spec):
    page = first_screen
    page.goto(f"{server}/{spec.url_path}")
    wait_idle(page)
    assert_no_exception(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"first-screen-{spec.url_path}.png"))
    chart = page.locator(".js-plotly-plot").first.bounding_box()
    row = page.locator(f".st-key-{lesson.TRY_THIS_KEY}").first.bounding_box()
    assert chart is not None and chart["y"] < FOLD, f"first chart starts at {chart}"
    assert row is not None and row["y"] < FOLD, f"'Try this' row starts at {row}"
    # the chart is mostly on screen, not just its top edge
    assert chart["y"] + min(chart["height"], 300) <= FOLD + 1, chart
