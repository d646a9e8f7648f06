"""The "Take it home" section: closed, it builds nothing; open, it shows the script for the
link's settings (the same text as the command line's) and a download button."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dl_core import export
from tests.app.conftest import TIMEOUT

SCRIPT = """
from ui import takehome

takehome.section("gradient_descent")
takehome.section("home")  # a page without a script: draws nothing
"""
QUERY = {"lr": "0.1", "steps": "999", "opt": "sgd,adam"}  # steps is clamped to 500


def run(open_: bool) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=TIMEOUT)
    for k, v in QUERY.items():
        at.query_params[k] = v
    if open_:
        at.session_state["takehome_gradient_descent"] = True
    return at.run()


def test_closed_it_builds_nothing():
    at = run(open_=False)
    assert not at.exception
    assert len(at.expander) == 1 and at.expander[0].label == "Take it home: this experiment as a PyTorch script"  # fmt: skip
    assert not at.code and not at.get("download_button")


def test_open_it_shows_the_script_for_the_link_and_a_download():
    at = run(open_=True)
    assert not at.exception, [e.value for e in at.exception]
    code = at.code[0]
    assert code.language == "python"
    assert code.value == export.script("gradient_descent", "lr=0.1&steps=999&opt=sgd,adam").rstrip()
    assert "LR = 0.1  #" in code.value and "STEPS = 500  #" in code.value
    assert '"sgd": lambda p' in code.value and '"momentum"' not in code.value
    buttons = at.get("download_button")
    assert len(buttons) == 1
    assert buttons[0].proto.label == "Download gradient_descent.py"
    assert any("python gradient_descent.py" in m.value for m in at.markdown)
