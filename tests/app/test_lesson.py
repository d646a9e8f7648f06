"""ui.lesson: lazy tabs that a link can open, and settings of closed tabs kept in the link."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import TIMEOUT


def script():
    import streamlit as st

    from ui import lesson, params

    params.begin_run("demo")
    st.title("demo")
    lesson.try_this({"Big": ({"k": 7}, "k = 7: look at the numbers.")})
    tabs = lesson.tabs(["First look", "Momentum's rate map"], settings=("k",))
    if tab := tabs.open("First look"):
        with tab:
            st.write("first")
    if tab := tabs.open("Momentum's rate map"):
        with tab:
            k = params.slider("k", "k", 1, 10, 3, 1)
            st.write(f"k = {k}")
    st.session_state["report"] = params.link_report()


def test_a_link_opens_a_tab_and_its_setting_reaches_the_widget():
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.query_params["tab"] = "momentums-rate-map"
    at.query_params["k"] = "50"
    at.run()
    assert not at.exception
    assert "k = 10" in [m.value for m in at.markdown]  # clamped to the slider's range
    assert at.query_params["tab"] == "momentums-rate-map"


def test_a_closed_tabs_setting_stays_in_the_link_and_junk_does_not():
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.query_params["k"] = "5"
    at.query_params["Bad Key!"] = "<script>"
    at.query_params["zzz"] = "1"  # well-formed, but no setting of this page
    at.run()
    assert not at.exception
    assert "first" in [m.value for m in at.markdown]
    assert at.query_params.get("k") == "5"  # kept for the closed tab
    assert "Bad Key!" not in at.query_params and "zzz" not in at.query_params
    assert sorted(r[0] for r in at.session_state["report"]) == ["Bad Key!", "zzz"]
    at.session_state["tabs"] = "Momentum's rate map"
    at.run()
    assert "k = 5" in [m.value for m in at.markdown]
    assert at.query_params["tab"] == "momentums-rate-map"


def test_try_this_note_stands_while_the_preset_holds():
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.session_state["tabs"] = "Momentum's rate map"
    at.run()
    at.button[0].click().run()
    assert any("look at the numbers" in i.value for i in at.info)
    at.slider(key="k").set_value(6).run()
    assert not any("look at the numbers" in i.value for i in at.info)
