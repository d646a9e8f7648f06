"""AppTest helpers: run a page script headless with a generous timeout."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

# A page run that hangs fails after this. Pages answer in seconds on an idle machine, but the
# first run imports torch and plotly, and the autoencoder page trains five models (about 10 s
# idle, over 100 s when the 2-core machine is shared): the default 3 s is far too short.
TIMEOUT = 600


def run_page(path: str, query: dict[str, str] | None = None, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    return at.run()


def assert_ok(at: AppTest) -> None:
    """No exception element, and the script actually ran (a title was drawn)."""
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) >= 1, "the page drew nothing: did the script fail to compile?"


@pytest.fixture
def page():
    return run_page
