"""Widgets whose values live in the URL, clamped when read.

Streamlit's own ``bind="query-params"`` drops an out-of-range value and falls
back to the default; a learner who edits ``?lr=50`` should instead get the
nearest allowed value. These helpers:

1. on the first run of a page in a session (the key is not yet in
   ``st.session_state``), read ``st.query_params[key]``, parse it without
   ``eval``, clamp or snap it to the widget's range, and seed the widget;
2. after the widget is drawn, write its value back to the URL (and remove it
   when it equals the default, to keep links short).

Query parameters are strings; anything unparsable is ignored. Nothing a user
types is ever evaluated as code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

# One parser for links, shared with the take-home exporter (which reads the same URLs).
from dl_core.export.params import clamp, log_options, nearest, parse_number  # noqa: F401 (pages call params.*)

MAX_PARAM_LEN = 64  # longer query strings are ignored outright


def _raw(key: str) -> str | None:
    try:
        raw = st.query_params.get(key)
    except Exception:
        return None
    if raw is None or len(raw) > MAX_PARAM_LEN:
        return None
    return raw


ADJUSTED = "_link_adjusted"  # session_state: {key: (raw text, what was used)}
SEEN = "_link_keys_seen"  # session_state: URL keys that a widget of this run reads
STREAMLIT_KEYS = ("embed", "embed_options")  # Streamlit's own query parameters: left alone


def _describe(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _matches(raw: str, value: Any) -> bool:
    """Does the URL text say the value that was used (so nothing needs reporting)?"""
    if isinstance(value, bool):
        return raw.lower() in (("1", "true") if value else ("0", "false"))
    if isinstance(value, (int, float)):
        v = parse_number(raw)
        return v is not None and math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12)
    return raw == _describe(value)


def _seed(key: str, default: Any, parse: Callable[[str | None], Any]) -> None:
    st.session_state.setdefault(SEEN, set()).add(key)
    if key in st.session_state:
        return
    raw = _raw(key)
    parsed = parse(raw)
    st.session_state[key] = default if parsed is None else parsed
    try:
        given = st.query_params.get(key)
    except Exception:
        given = None
    if given is not None and not _matches(given, st.session_state[key]):
        if parsed is None:
            how = "ignored, default"
        elif isinstance(parsed, list):
            how = "unknown names dropped"
        else:
            how = "out of range, nearest"
        used = _describe(st.session_state[key])
        st.session_state.setdefault(ADJUSTED, {})[key] = (given, f"{how}: {used}")


def begin_run(page: str) -> None:
    """Called by app.py before a page runs: forget which URL keys the last run read, and
    the adjustments of another page's link."""
    st.session_state[SEEN] = set()
    if st.session_state.get("_link_page") != page:
        st.session_state["_link_page"] = page
        st.session_state[ADJUSTED] = {}


def link_report() -> list[tuple[str, str, str]]:
    """(key, text in the link, what was used) for every URL value that was clamped, snapped
    or ignored, plus keys that no setting of this page reads. Unknown keys are dropped from
    the URL. Call after the page has run (app.py does)."""
    seen = st.session_state.get(SEEN, set())
    adjusted = st.session_state.setdefault(ADJUSTED, {})
    # Settings of widgets in closed tabs are not drawn this run: the page declares them
    # (``declare``) or the exporter's specs of the page name them; they stay in the URL.
    seen = seen | _page_settings(st.session_state.get("_link_page", ""))
    try:
        unknown = [k for k in st.query_params if k not in seen and k not in STREAMLIT_KEYS]
        for k in unknown:
            adjusted[k] = (st.query_params.get(k) or "", "ignored: not a setting here")
            del st.query_params[k]
    except Exception:
        pass
    return [(k, raw[:40], used) for k, (raw, used) in adjusted.items()]


def declare(*keys: str) -> None:
    """URL settings of this page that this run may not draw (widgets inside closed tabs):
    a link keeps them for the run that opens their tab."""
    st.session_state.setdefault(SEEN, set()).update(keys)


def _page_settings(page: str) -> set[str]:
    """Every URL setting of ``page`` that the take-home exporter knows (a test checks its
    specs against the page's widgets), wherever the widget sits."""
    from dl_core import export  # light: no torch

    try:
        return {p.key for p in export.specs(page)} if page in export.PAGES else set()
    except Exception:
        return set()


def _sync(key: str, value: Any, default: Any, fmt: Callable[[Any], str] = str) -> None:
    try:
        if value == default:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != fmt(value):
            st.query_params[key] = fmt(value)
    except Exception:
        pass


def slider(
    label: str, key: str, lo: float, hi: float, default: float, step: float | None = None, **kw
) -> Any:
    """``st.slider`` seeded from ``?key=...`` (clamped to [lo, hi]) and mirrored to the URL."""
    is_int = isinstance(default, int) and not isinstance(default, bool)

    def parse(raw: str | None) -> Any:
        v = parse_number(raw)
        if v is None:
            return None
        v = clamp(v, lo, hi)
        if step:  # snap onto the slider's grid
            v = lo + round((v - lo) / step) * step
            v = clamp(v, lo, hi)
        return int(round(v)) if is_int else float(v)

    _seed(key, default, parse)
    value = st.slider(label, lo, hi, step=step, key=key, **kw)
    _sync(key, value, default)
    return value


def log_slider(label: str, key: str, options: Sequence[float], default: float, **kw) -> float:
    """A ``select_slider`` over log-spaced numbers; a URL value snaps to the nearest option."""

    def parse(raw: str | None) -> float | None:
        v = parse_number(raw)
        return None if v is None else nearest(options, v, log=True)

    _seed(key, default, parse)
    value = st.select_slider(
        label, options=list(options), key=key, format_func=lambda v: f"{v:g}", **kw
    )
    _sync(key, value, default, fmt=lambda v: f"{v:g}")
    return value


def select(label: str, key: str, options: Sequence[str], default: str, **kw) -> str:
    """``st.selectbox`` seeded from the URL; unknown values are ignored."""
    _seed(key, default, lambda raw: raw if raw in options else None)
    value = st.selectbox(label, list(options), key=key, **kw)
    _sync(key, value, default)
    return value


def multiselect(
    label: str, key: str, options: Sequence[str], default: Sequence[str], **kw
) -> list[str]:
    """``st.multiselect`` seeded from ``?key=a,b``; unknown names are dropped."""

    def parse(raw: str | None) -> list[str] | None:
        if raw is None:
            return None
        chosen = [o for o in raw.split(",") if o in options]
        return list(dict.fromkeys(chosen)) or None

    _seed(key, list(default), parse)
    value = st.multiselect(label, list(options), key=key, **kw)
    _sync(key, value, list(default), fmt=lambda v: ",".join(v))
    return value


def toggle(label: str, key: str, default: bool, **kw) -> bool:
    """``st.toggle`` seeded from ``?key=1`` / ``?key=0``."""
    _seed(
        key,
        default,
        lambda raw: {"1": True, "0": False, "true": True, "false": False}.get((raw or "").lower()),
    )
    value = st.toggle(label, key=key, **kw)
    _sync(key, value, default, fmt=lambda v: "1" if v else "0")
    return value


def apply_preset(values: dict[str, Any]) -> None:
    """Callback for a "try this" button: set widget values before the rerun."""
    for k, v in values.items():
        st.session_state[k] = v


def try_this(presets: dict[str, tuple[dict[str, Any], str]]) -> None:
    """The "Try this" row (``ui.lesson.try_this``). ``presets``: name -> (values, note)."""
    from ui import lesson  # lesson builds on this module

    lesson.try_this(presets)
