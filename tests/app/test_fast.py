"""ui.fast: figures are built once per key and shared, the cache stays bounded, and a
section (a fragment) runs with its arguments and its own widgets."""

from __future__ import annotations

import threading

import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from ui.fast import FigureCache


def _fig(n: int) -> go.Figure:
    return go.Figure(go.Scatter(x=list(range(n)), y=list(range(n))))


def test_a_figure_is_built_once_per_key_and_the_same_object_is_returned():
    cache, built = FigureCache(max_entries=8), []

    def build(n):
        built.append(n)
        return _fig(n)

    a = cache.get_or_build(("chart", 3), lambda: build(3))
    b = cache.get_or_build(("chart", 3), lambda: build(3))
    c = cache.get_or_build(("chart", 4), lambda: build(4))
    assert a is b and a is not c
    assert built == [3, 4]
    assert (cache.hits, cache.misses) == (1, 2)


def test_the_cache_is_bounded_and_evicts_the_least_recently_used():
    cache = FigureCache(max_entries=3)
    for n in range(3):
        cache.get_or_build(n, lambda n=n: _fig(n))
    cache.get_or_build(0, lambda: _fig(99))  # touch 0: now 1 is the oldest
    cache.get_or_build(3, lambda: _fig(3))
    assert len(cache) == 3
    rebuilt = []
    cache.get_or_build(1, lambda: rebuilt.append(1) or _fig(1))
    cache.get_or_build(0, lambda: rebuilt.append(0) or _fig(0))
    assert rebuilt == [1]  # 1 was evicted, 0 was kept


def test_many_sessions_at_once_get_a_figure_and_the_cache_holds_one():
    cache, out = FigureCache(max_entries=4), []

    def ask():
        out.append(cache.get_or_build("same", lambda: _fig(5)))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 16 and len(cache) == 1
    assert all(len(f.data[0].x) == 5 for f in out)


def _script():
    import streamlit as st

    from ui import fast

    @fast.section
    def view(total: int) -> None:
        k = st.slider("k", 0, total, 1, key="k")
        fig = fast.figure(("test.view", total, k), lambda: fast_fig(k))
        st.plotly_chart(fig)
        st.write(f"k = {k} of {total}")

    def fast_fig(k):
        import plotly.graph_objects as go

        return go.Figure(go.Bar(x=[0], y=[k]))

    view(10)


def test_a_section_runs_with_its_arguments_and_its_slider():
    at = AppTest.from_function(_script).run()
    assert not at.exception
    assert at.markdown[0].value == "k = 1 of 10"
    at.slider(key="k").set_value(7).run()
    assert not at.exception
    assert at.markdown[0].value == "k = 7 of 10"
    assert len(at.get("plotly_chart")) == 1
