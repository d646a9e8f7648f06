"""Plotly figures and LaTeX strings built from dl_core results.

Pure functions: a result in, a ``go.Figure`` or a LaTeX string out. No
Streamlit import, so everything here is testable without a browser.
"""
