"""Streamlit-side helpers shared by the pages (URL-bound widgets, page registry)."""
