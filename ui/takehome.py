"""Take it home: the page's current experiment as a standalone PyTorch script.

``section(page)`` draws a closed expander under the page; opened, it shows the script that
trains what the page trains with the current settings (``dl_core.export``), a download
button for the ``.py`` file and how to run it. The settings are read from
``st.query_params``, the page's own URL settings, exactly as the command line
``python -m dl_core.export PAGE --query '...'`` reads them: the page writes every changed
setting there, so call this after the page has run (app.py does).
"""

from __future__ import annotations

import streamlit as st

from dl_core import export

EXPANDER = "Take it home: this experiment as a PyTorch script"
NEEDS_DIGITS = ("cnn", "autoencoder")  # scripts that read data/digits.csv.gz
LIVE = ("playground", "gan")  # pages that train while the learner plays: compare at a step


def _query() -> dict[str, str]:
    try:
        return {k: st.query_params.get(k) for k in st.query_params}
    except Exception:
        return {}


def how_to_run(page: str) -> str:
    """One line for the learner."""
    name = export.filename(page)
    where = (
        "from the dl-math-lab folder (it reads `data/digits.csv.gz`; `--data PATH` "
        "points elsewhere)"
        if page in NEEDS_DIGITS
        else "anywhere"
    )
    same = "this page's after as many steps (`--steps N`)" if page in LIVE else "this page's"
    return (
        f"Needs only `torch` and `numpy`: run `python {name}` {where}. It prints its "
        f"progress and, last, its final numbers as one line of JSON: the same as {same}."
    )


def section(page: str) -> None:
    """The expander with the script of ``page`` (its URL path); nothing for a page without
    an exporter (Home)."""
    if page not in export.PAGES:
        return
    box = st.expander(
        EXPANDER, icon=":material/download:", key=f"takehome_{page}", on_change="rerun"
    )
    if not box.open:  # built only while open
        return
    with box:
        try:
            code = export.script(page, _query())
        except (export.ExportError, ValueError) as e:  # a page and a script out of step
            st.info(f"No script for these settings: {e}", icon=":material/info:")
            return
        st.markdown(how_to_run(page))
        st.download_button(
            f"Download {export.filename(page)}", code, file_name=export.filename(page),
            mime="text/x-python", key=f"takehome_download_{page}", on_click="ignore",
            icon=":material/download:",
        )  # fmt: skip
        st.code(code, language="python")
