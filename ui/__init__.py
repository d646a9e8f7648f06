"""Streamlit-side helpers shared by the pages (URL-bound widgets, page registry)."""

from __future__ import annotations


def _leave_multipage_v1() -> None:
    """Make a deep link work on a freshly started server.

    Streamlit treats an app whose folder holds ``pages/`` as an old-style (v1)
    multipage app until ``app.py`` first calls ``st.navigation``. Until then a
    deep link such as ``/home`` runs ``pages/home.py`` on its own (no router, no
    sidebar) and ``/gradient-descent`` is "not found". Every page imports this
    package, so the first run in the process switches that mode off and reruns
    through ``app.py``. Private Streamlit API: if it moves, this does nothing.
    """
    try:
        import streamlit as st
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        if st.runtime.exists():
            st.rerun()


_leave_multipage_v1()
