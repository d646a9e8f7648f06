"""Every page in a real browser: loads, no exception, formulas and charts drawn."""

import re

import pytest

from tests.e2e.conftest import assert_no_exception, screenshot, streamlit_server, wait_idle
from ui.nav import available, link

pytestmark = pytest.mark.e2e


def test_a_fresh_server_serves_deep_links_through_the_router(page):
    """The first visitor of a new server arrives by a link to a page, not the root."""
    with streamlit_server() as url:
        page.goto(f"{url}/gradient_descent")
        wait_idle(page)
        assert page.get_by_text("Page not found").count() == 0
        assert_no_exception(page)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Home" in nav and "Gradient descent & optimizers" in nav
        assert "Device:" not in page.locator('[data-testid="stSidebar"]').inner_text()


@pytest.mark.parametrize("spec", available(), ids=lambda s: s.url_path)
def test_page_loads_with_formulas_and_charts(server, page, spec):
    page.goto(f"{server}/{link(spec)}")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator(".katex").count() >= 1, "no rendered formula"
    if spec.url_path != "home":
        page.wait_for_selector(".js-plotly-plot", timeout=30_000)
        assert page.locator(".js-plotly-plot").count() >= 1
    assert page.locator("h1").first.inner_text().strip()
    screenshot(page, spec.url_path)


def test_moving_a_slider_reruns_and_updates_the_url(server, page):
    page.goto(f"{server}/gradient_descent")
    wait_idle(page)
    before = page.locator(".katex").all_inner_texts()
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Steps").get_by_role("slider")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    wait_idle(page)
    assert_no_exception(page)
    assert "steps=95" in page.url
    assert page.locator(".katex").all_inner_texts() != before or "steps=95" in page.url
    screenshot(page, "gradient-descent-after-slider")


def test_try_this_button_shows_divergence_lesson(server, page):
    page.goto(f"{server}/gradient_descent")
    wait_idle(page)
    page.get_by_role("button", name=re.compile("^Just above")).click()
    wait_idle(page)
    assert_no_exception(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="diverged at step")
    assert alert.count() >= 1
    assert alert.first.locator(".katex").count() >= 2  # η and 2/λ_max rendered as formulas
    assert page.locator(".js-plotly-plot").count() >= 3  # the plots stay up
    screenshot(page, "gradient-descent-divergence")


def test_hostile_url_is_clamped_without_exception(server, page):
    page.goto(f"{server}/gradient_descent?lr=1e308&steps=-7&surface=%3Cscript%3E&x0=nan")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").count() >= 1


def test_clicking_the_contour_moves_the_start(server, page):
    page.goto(f"{server}/gradient_descent")
    wait_idle(page)
    box = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    wait_idle(page)
    assert_no_exception(page)
    # The plot spans [-3, 3]^2: three quarters across, a quarter down is about (1.5, 1.5).
    assert "x0=1.4" in page.url or "x0=1.6" in page.url
    assert "y0=1.4" in page.url or "y0=1.6" in page.url


def test_the_sidebar_lists_what_a_link_adjusted(server, page):
    page.goto(f"{server}/gradient_descent?steps=-5&surface=%3Cscript%3E&zzz=1")
    wait_idle(page)
    assert_no_exception(page)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').filter(
        has_text="adjusted"
    )
    assert box.count() == 1
    assert "3 adjusted" in box.inner_text()
    box.locator("summary").click()
    page.wait_for_timeout(500)
    grid = box.locator('[data-testid="stDataFrame"]')
    assert grid.count() == 1
    assert "zzz" not in page.url  # unknown keys leave the link
    assert "steps=1" in page.url  # -5 was clamped to the slider's minimum
    screenshot(page, "link-adjusted")
