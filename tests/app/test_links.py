"""Hostile links on every page: each of the page's own URL settings gets a hostile value.

The keys come from the page itself (every keyed widget of a default run), so a page that
gains a setting is covered without editing this file. What must hold: no exception, the
page draws its title, and nothing is run as code. (The router's report of what
it adjusted is checked in the browser: tests/e2e/test_pages.py.)"""

from __future__ import annotations

import pytest

from tests.app.conftest import assert_ok, run_page
from tests.conftest import ROOT
from ui.nav import available

WIDGETS = ("slider", "select_slider", "selectbox", "multiselect", "toggle", "radio", "number_input", "checkbox")  # fmt: skip

HOSTILE = {
    "nan": "NaN",
    "-inf": "-1e999",
    "negative": "-99999999",
    "script": "<script>alert(1)</script>",
    "code": "__import__('os').system('touch /tmp/pwned')",
    "path": "../../../../etc/passwd",
    "empty": "",
    "long": "9" * 500,
    "unicode": "\u202e\u0000x",
}

_keys: dict[str, list[str]] = {}


def url_keys(path: str) -> list[str]:
    """The keys of every keyed widget the page draws with its defaults."""
    if path not in _keys:
        at = run_page(path)
        _keys[path] = sorted({w.key for kind in WIDGETS for w in getattr(at, kind) if w.key})
    return _keys[path]


PAGES = [p for p in available() if p.url_path != "home"]


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_pages_have_url_settings(spec):
    assert len(url_keys(spec.path)) >= 3


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_every_setting_of_every_page_survives_a_hostile_value(spec, value):
    at = run_page(spec.path, query={k: value for k in url_keys(spec.path)})
    assert_ok(at)
    assert not (ROOT.parent / "pwned").exists() and not __import__("os").path.exists("/tmp/pwned")


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_every_setting_at_its_maximum_at_once(spec):
    """The heaviest link a learner can send: every number far above its range, so every
    slider clamps to its maximum together. The page's caps (README, "Guarantees") must keep
    it to bounded work, and it must still draw without an exception."""
    assert_ok(run_page(spec.path, query={k: "99999999" for k in url_keys(spec.path)}))


@pytest.mark.parametrize(
    "raw, value, same",
    [("0.05", 0.05, True), ("5e-2", 0.05, True), ("1e309", 0.05, False), ("7", 7, True),
     ("-5", 1, False), ("1", True, True), ("true", True, True), ("0", True, False),
     ("sgd,adam", ["sgd", "adam"], True), ("sgd,xxx", ["sgd"], False), ("<b>", "quadratic", False)],
)  # fmt: skip
def test_the_report_flags_exactly_the_values_that_changed(raw, value, same):
    from ui.params import _matches

    assert _matches(raw, value) is same
