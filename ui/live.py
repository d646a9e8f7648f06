"""Training with live progress: the one pattern of every page whose model takes seconds."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import plotly.graph_objects as go
import streamlit as st

from dl_core.training import ResultCache, TrainingSlots, slots_from_env

R = TypeVar("R")
# One per process: every page's trainings share the cores first come, first served.
SLOTS = TrainingSlots(slots_from_env())
View = Callable[..., tuple[float, str, go.Figure]]  # on_step's arguments -> (done, caption, chart)


def train_live(
    store: ResultCache, cfg: Any, train: Callable[..., R], label: str, view: View,
    every_s: float = 0.3, after_s: float = 0.0,
) -> R:  # fmt: skip
    """``store``'s result for ``cfg``, or ``train(cfg, on_step=...)`` now, with a progress bar
    and a live chart under it.

    ``view(*on_step_args)`` gives (fraction done, caption, figure); it is called at most every
    ``every_s`` seconds, and only once training has run ``after_s`` seconds (a short run draws
    nothing). Each redraw is a Streamlit call, so a newer widget value stops the run there;
    only finished runs enter the store. Identical settings train once: a session asking
    while another one trains the same config waits for it."""
    if (res := store.get(cfg)) is not None:
        return res
    box, parts = st.empty(), {}
    start, last, frames = time.perf_counter(), [-math.inf], [0]

    def widgets():
        if not parts:
            with box.container():
                parts["bar"], parts["chart"] = st.progress(0.0), st.empty()
        return parts["bar"], parts["chart"]

    def on_step(*args) -> None:
        now = time.perf_counter()
        if now - start < after_s or now - last[0] < every_s:
            return
        last[0], frames[0] = now, frames[0] + 1
        done, caption, fig = view(*args)
        bar, chart = widgets()
        bar.progress(min(max(done, 0.0), 1.0), text=caption)
        chart.plotly_chart(fig, key=f"live-{hash(cfg)}-{frames[0]}")

    def waiting() -> None:  # a Streamlit call, so a newer widget value can stop the wait
        widgets()[0].progress(0.0, text=f"Another session is training this {label}; waiting …")

    def queued(ahead: int) -> None:
        widgets()[0].progress(
            0.0, text=f"Waiting for a free core: {ahead} training{'s' * (ahead != 1)} ahead of this {label} …"
        )  # fmt: skip

    def train_in_slot(c):
        nonlocal start
        with SLOTS.slot(queued):
            start = time.perf_counter()  # the live chart's delay counts from the slot
            return train(c, on_step=on_step)

    res = store.get_or_train(cfg, train_in_slot, waiting)
    box.empty()
    return res
