"""A classroom: several learners on one server at once, some with hostile links."""

import pytest

from tests.e2e.conftest import assert_no_exception, wait_idle
from ui.nav import available, link

pytestmark = pytest.mark.e2e

HOSTILE = (
    "?lr=1e999&steps=-1&seed=NaN&n=99999999&surface=%3Cscript%3Ealert(1)%3C/script%3E"
    "&opt=__import__('os').system('x')&x0=inf&kappa=..%2F..%2Fetc%2Fpasswd&zzz=1"
)


def _open(browser, url):
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    pg.goto(url, wait_until="commit")
    return ctx, pg


@pytest.mark.parametrize("spec", available(), ids=lambda s: s.url_path)
def test_three_concurrent_sessions_with_hostile_links(server, browser, spec):
    """Three sessions start before any has finished; none shows an exception."""
    sessions = [_open(browser, f"{server}/{link(spec)}{HOSTILE}") for _ in range(3)]
    try:
        for _, pg in sessions:
            wait_idle(pg, timeout_s=120)
            assert_no_exception(pg)
            assert pg.locator("h1").count() >= 1
    finally:
        for ctx, _ in sessions:
            ctx.close()


@pytest.mark.parametrize("spec", available(), ids=lambda s: s.url_path)
def test_same_settings_give_the_same_numbers_in_every_session(server, browser, spec):
    """No global seed and no shared mutable model: two learners see identical formulas."""
    sessions = [_open(browser, f"{server}/{link(spec)}") for _ in range(2)]
    try:
        texts = []
        for _, pg in sessions:
            wait_idle(pg, timeout_s=120)
            assert_no_exception(pg)
            texts.append(pg.locator(".katex").all_inner_texts())
        assert texts[0] == texts[1]
    finally:
        for ctx, _ in sessions:
            ctx.close()


def test_learners_on_different_pages_with_different_settings_at_once(server, browser):
    """A classroom: every page open at the same moment, each with its own settings."""
    links = {
        "gradient_descent": "?lr=0.3&surface=rosenbrock",
        "backprop": "?arch=2-3-2-1",
        "playground": "?data=spiral&layers=3",
        "cnn": "?epochs=5&filters=8",
        "rnn": "?cell=gru&hidden=16",
        "autoencoder": "?steps=200",
        "gan": "?target=grid",
        "regression": "",
        "home": "",
    }
    specs = [s for s in available() if s.url_path in links]
    sessions = [_open(browser, f"{server}/{link(s)}{links[s.url_path]}") for s in specs]
    try:
        for spec, (_, pg) in zip(specs, sessions):
            wait_idle(pg, timeout_s=180)
            assert_no_exception(pg)
            assert pg.locator("h1").count() >= 1, spec.url_path
    finally:
        for ctx, _ in sessions:
            ctx.close()
