"""The lesson layout, the one way every page is laid out.

At 1400 x 900 the first screen holds the lesson: the idea in two sentences, the key
formula, the "Try this" row, one live chart and the settings that matter most (in the
sidebar). The rest of the page goes into tabs below, one section per tab with its own
heading, rendered only while open::

    lesson.header("Gradient descent", IDEA, r"\\theta_k = ...", notation.caption("theta", "eta"))
    lesson.try_this(presets)
    ...  # the live chart
    tabs = lesson.tabs(["The learning rate", "Step by step", "Under the hood"])
    if tab := tabs.open("The learning rate"):
        with tab:
            ...

A page has one set of tabs; its key is ``TABS_KEY``, so a test opens a tab with
``at.session_state[lesson.TABS_KEY] = "Step by step"`` and the browser by clicking it. A
tab's view sliders still rerun only their ``fast.section``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import streamlit as st

from ui import params

TABS_KEY = "tabs"
TRY_THIS_KEY = "try_this"
# The preset whose values the widgets hold now, for the note under the "Try this" row.
_PRESET_KEY = "_try_this_applied"


def header(title: str, idea: str, formula: str | Sequence[str] = (), symbols: str = "") -> None:
    """The page's title, its idea in one or two sentences, its key formula(s) and the
    caption naming the formula's symbols (from ``dl_core.notation.caption``)."""
    st.title(title)
    st.markdown(idea)
    for line in [formula] if isinstance(formula, str) else formula:
        st.latex(line)
    if symbols:
        st.caption(symbols)


def _apply(name: str, values: dict[str, Any]) -> None:
    params.apply_preset(values)
    st.session_state[_PRESET_KEY] = name


def _still_set(values: dict[str, Any], run_state: Collection[str] = ()) -> bool:
    """Whether the widgets still hold the preset's values (the learner has not moved one).
    Only settings count: the tab a preset opens (reading another tab keeps the experiment)
    and the ``run_state`` keys it sets (Pause after a preset that starts play) do not."""
    state = st.session_state
    ignored = {TABS_KEY, *run_state}
    return all(k in state and state[k] == v for k, v in values.items() if k not in ignored)


def try_this(
    presets: dict[str, tuple[dict[str, Any], str]], run_state: Collection[str] = ()
) -> None:
    """The "Try this" row, compact enough for the first screen: one button per experiment
    (its note is the button's tooltip). After a press, the note of what to look for stands
    under the row for as long as the widgets hold that experiment's settings.
    ``presets``: name -> (values, note). ``run_state``: keys a preset may set that are the
    run's state, not settings (a playing flag, ``ui.play``): they start the experiment, and
    changing them later (Pause, Play) keeps it."""
    row = st.container(key=TRY_THIS_KEY)  # CSS class st-key-try_this: the e2e test finds it
    cols = row.columns([0.9] + [2] * len(presets), vertical_alignment="center")
    cols[0].markdown("**Try&nbsp;this:**")
    for col, (name, (values, note)) in zip(cols[1:], presets.items(), strict=True):
        col.button(
            name, on_click=_apply, args=(name, dict(values)), help=note, use_container_width=True
        )
    applied = st.session_state.get(_PRESET_KEY)
    if applied in presets and _still_set(presets[applied][0], run_state):
        row.info(f"**{applied}.** {presets[applied][1]}", icon=":material/science:")


TAB_PARAM = "tab"  # ?tab=<slug> opens a section; the URL follows the open tab


def slug(label: str) -> str:
    """ "Momentum's rate map" -> "momentums-rate-map": a tab's name in a link."""
    words = re.findall(r"[a-z0-9]+", label.lower().replace("'", ""))
    return "-".join(words)[:40] or "tab"


class Tabs:
    """The page's sections below the first screen; only the open one runs.

    A link can open one: ``?tab=<slug>`` (the slug of its label, or the key of a mapping
    slug -> label), and the URL names the open tab, so a copied link reopens it. Settings
    of widgets inside closed tabs (``settings``, or the page's exporter specs) stay in the
    URL, so a link keeps them until their tab opens and reads them."""

    def __init__(self, names: Sequence[str] | Mapping[str, str], settings: Sequence[str] = ()) -> None:  # fmt: skip
        labels = list(names.values()) if isinstance(names, Mapping) else list(names)
        slugs = list(names) if isinstance(names, Mapping) else [slug(n) for n in labels]
        self.names, self.slugs = labels, dict(zip(slugs, labels, strict=True))
        state = st.session_state
        params.declare(TAB_PARAM, *settings)
        try:
            asked = st.query_params.get(TAB_PARAM)
        except Exception:
            asked = None
        if TABS_KEY not in state and asked in self.slugs:
            state[TABS_KEY] = self.slugs[asked]
        containers = st.tabs(labels, key=TABS_KEY, on_change="rerun")
        self._tabs = dict(zip(labels, containers, strict=True))
        open_label = state.get(TABS_KEY, labels[0])
        open_slug = {v: k for k, v in self.slugs.items()}.get(open_label, slugs[0])
        try:
            if open_slug == slugs[0]:
                if TAB_PARAM in st.query_params:
                    del st.query_params[TAB_PARAM]
            elif st.query_params.get(TAB_PARAM) != open_slug:
                st.query_params[TAB_PARAM] = open_slug
        except Exception:
            pass

    def open(self, name: str):
        """The tab's container while it is the selected one, else ``None``."""
        tab = self._tabs[name]  # KeyError for a name that is not a tab: a typo in the page
        return tab if tab.open is not False else None


def tabs(names: Sequence[str] | Mapping[str, str], settings: Sequence[str] = ()) -> Tabs:
    """The page's tabs (one set per page): a list of labels, or a mapping slug -> label.
    ``settings``: the URL keys of widgets inside the tabs (kept in a link while closed)."""
    return Tabs(names, settings)


def toolkit_link(tab: str, what: str) -> None:
    """A line that sends the learner to the Math toolkit's section this one relies on
    (``tab``: the toolkit's tab slug: eigen, quadratic, derivatives, probability,
    information)."""
    st.caption(f":material/calculate: The math behind this: [{what}](math_toolkit?tab={tab}) in the Math toolkit.")  # fmt: skip
