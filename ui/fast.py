"""Fast reruns, the one way every page does them.

A slider should redo only what it changes. Two tools:

- ``section``: a page section whose widgets affect only that section is an
  ``st.fragment``, so moving one of them reruns the section, not the page. Define it as a
  function at the page's top level and call it with the results it shows; on a fragment
  rerun Streamlit calls it again with the same arguments.
- ``figure``: a figure is built once per result, for every session of the process. Plotly's
  ``graph_objects`` validate every property set, which costs more than drawing: the CNN
  page's rerun with nothing to train spent 0.65 s of its time there. The key names the chart
  and every setting it depends on (the frozen config, the view's values), never an object
  that changes. A cached figure is shared: never mutate one you got from here.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import plotly.graph_objects as go
import streamlit as st

F = TypeVar("F", bound=Callable)
_frozen = threading.Event()
MAX_FIGURES = 256  # figures of a few kB to 0.5 MB each: at most about 30 MB in practice


def section(fn: F) -> F:
    """Make ``fn`` a fragment: its widgets rerun only ``fn``."""
    return st.fragment(fn)


class FigureCache:
    """A bounded, thread-safe LRU of built figures by key, shared by every session."""

    def __init__(self, max_entries: int = MAX_FIGURES) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, go.Figure] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_build(self, key: Hashable, build: Callable[[], go.Figure]) -> go.Figure:
        with self._lock:
            fig = self._data.get(key)
            if fig is not None:
                self._data.move_to_end(key)
                self.hits += 1
                return fig
            self.misses += 1
        fig = build()  # outside the lock: two sessions may build the same figure once each
        with self._lock:
            self._data[key] = fig
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return fig

    def __len__(self) -> int:
        return len(self._data)


@st.cache_resource
def figures() -> FigureCache:
    """The process's figure cache (one for every session)."""
    return FigureCache()


def figure(key: tuple, build: Callable[[], go.Figure]) -> go.Figure:
    """``build()``, or the figure built before for ``key``.

    ``key``: a tuple whose first item names the chart (``"cnn.filters"``) and whose other
    items are everything the figure depends on: the result's frozen config and any view
    setting (an index, a toggle). Example::

        fast.figure(("cnn.curves", res.config), lambda: vc.curves(res.history))
    """
    return figures().get_or_build(key, build)


def freeze_startup_objects() -> None:
    """Once per process, after the first run: move every object alive now (torch, Plotly,
    Streamlit, the first page's modules) out of the garbage collector's reach. A full
    collection then scans only what sessions create later: about 1 ms instead of 100-600 ms
    over 370,000 objects. Objects frozen are long-lived by nature; they are still freed by
    reference counting."""
    if not _frozen.is_set():
        _frozen.set()
        gc.freeze()
