"""Play / Step / Reset, the one control of every page that trains live (playground, GAN).

The page keeps its model in ``st.session_state`` and describes it with a ``Player``; a
session flag (``Player.key``, e.g. ``"pg_playing"``) says whether it plays. While it does,
the page's live fragment reruns every few tenths of a second and trains one frame::

    PLAYER = play.Player("gan_playing", "gan_state", gan.advance, lambda s: s.step, UI_MAX_STEPS)
    state = play.model(PLAYER, lambda: gan.init_state(cfg), keep=lambda s: s.cfg == cfg)
    playing = play.playing(PLAYER)

    @play.fragment(playing, TICK_SECONDS)
    def live() -> None:
        play.frame(PLAYER, playing, per_tick)  # one frame of training while playing
        play.controls(PLAYER, playing, st.columns(3), per_tick, new=...)
        ...  # the charts, through play.figure

    live()

Play stops by itself at the cap (bounded work per session) and when training diverges;
Reset stops it too. A "Try this" preset may start play by setting the flag; it passes the
flag to ``lesson.try_this(..., run_state=(PLAYER.key,))``, so pausing keeps its note.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import plotly.graph_objects as go
import streamlit as st

from ui import fast

M = TypeVar("M")


def _diverged(model: Any) -> bool:
    return model.diverged_at is not None  # every trainer records the step it blew up, or None


@dataclass(frozen=True)
class Player:
    """A page's live model, as the control sees it."""

    key: str  # the session flag, True while playing ("pg_playing"); presets and tests set it
    model: str  # the model's session key ("pg_net"); model_id names it in figure keys
    train: Callable[[Any, int], object]  # (model, n): train n more steps, in place
    steps: Callable[[Any], int]  # (model) -> steps trained so far
    cap: int  # play and Step stop here: bounded work per session
    diverged: Callable[[Any], bool] = _diverged  # (model) -> training blew up: play stops

    @property
    def model_id(self) -> str:
        return f"{self.model}_id"

    def current(self) -> Any:
        """The session's model (looked up on every call: Reset replaces it)."""
        return st.session_state[self.model]

    def can_go_on(self) -> bool:
        """Neither diverged nor at the cap."""
        m = self.current()
        return not self.diverged(m) and self.steps(m) < self.cap


def renew(player: Player, make: Callable[[], Any]) -> None:
    """Put ``make()`` in place of the session's model, under a new id."""
    st.session_state[player.model] = make()
    st.session_state[player.model_id] = uuid.uuid4().hex


def model(player: Player, make: Callable[[], M], keep: Callable[[M], bool]) -> M:
    """The session's model: the one in session state while ``keep(model)`` says it still fits
    the settings (it may adapt itself, e.g. to a new learning rate), else a new ``make()``."""
    current = st.session_state.get(player.model)
    if current is None or not keep(current):
        renew(player, make)
    st.session_state.setdefault(player.model_id, uuid.uuid4().hex)
    return st.session_state[player.model]


def set_playing(player: Player, value: bool) -> None:
    st.session_state[player.key] = value


def playing(player: Player) -> bool:
    """Whether the session plays: its flag (off at first), switched off here when play cannot
    go on (the model diverged or reached the cap)."""
    if st.session_state.setdefault(player.key, False) and not player.can_go_on():
        set_playing(player, False)
    return st.session_state[player.key]


def advance(player: Player, n: int) -> bool:
    """Train ``n`` more steps, never past the cap (Step, and one frame of play). Returns
    whether play may go on; when it may not, play stops."""
    m = player.current()
    player.train(m, max(0, min(n, player.cap - player.steps(m))))
    if player.can_go_on():
        return True
    set_playing(player, False)
    return False


def reset(player: Player, make: Callable[[], Any]) -> None:
    """A new model from ``make()``, paused."""
    renew(player, make)
    set_playing(player, False)


def fragment(playing: bool, seconds: float) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """The live fragment's decorator: it reruns every ``seconds`` while playing, never paused.
    (AppTest never ticks it: there the fragment runs once with each run of the page.)"""
    return st.fragment(run_every=seconds if playing else None)


def frame(player: Player, playing: bool, n: int) -> None:
    """The live fragment's first call: while playing, train one frame of ``n`` steps.

    ``playing`` is what the page read this run, and it set the fragment's tick. When the flag
    no longer says the same (Play or Pause pressed inside the fragment) or play stops here
    (the cap, divergence), the whole page reruns so that the tick follows."""
    if st.session_state.get(player.key, False) != playing:
        st.rerun(scope="app")
    if playing and not advance(player, n):
        st.rerun(scope="app")


def controls(
    player: Player, playing: bool, where: Sequence[Any], step: int, new: Callable[[], Any]
) -> None:
    """Play (Pause while playing), Step and Reset: one button in each of the three containers
    ``where``. Step trains ``step`` steps, Reset pauses with a new model from ``new()``."""
    play_at, step_at, reset_at = where
    play_at.button(
        "Pause" if playing else "Play",
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=set_playing, args=(player, not playing),  # idempotent: a double click holds
        type="primary", use_container_width=True,
    )  # fmt: skip
    step_at.button("Step", icon=":material/skip_next:", on_click=advance, args=(player, step),
                   use_container_width=True)  # fmt: skip
    reset_at.button("Reset", icon=":material/restart_alt:", on_click=reset, args=(player, new),
                    use_container_width=True)  # fmt: skip


def figure(player: Player, name: str, build: Callable[[], go.Figure], *key: Any) -> go.Figure:
    """A chart of the session's model. Paused, it is built once per model (its id) and ``key``
    (its step, the view: ``fast.figure``); playing, every frame is seen once, so it is built
    afresh rather than crowd the shared figure cache."""
    if playing(player):
        return build()
    return fast.figure((name, st.session_state[player.model_id], *key), build)
