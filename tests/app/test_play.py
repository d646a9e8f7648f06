"""ui.play, the one Play/Step/Reset control of the live pages, on a stand-in model.

AppTest never ticks a ``run_every`` fragment: the live fragment runs once with each run of
the page, so every run while playing trains one frame."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import TIMEOUT

FRAME = 10  # steps per frame and per Step


def script():
    import streamlit as st

    from ui import lesson, play

    class Counter:
        """A stand-in model: counts its steps and its training calls; blows up at ``bad``."""

        def __init__(self, bad):
            self.step, self.calls, self.bad, self.diverged_at = 0, 0, bad, None

        def advance(self, n):
            self.calls += 1
            if self.diverged_at is None:
                self.step += n
                if self.bad is not None and self.step >= self.bad:
                    self.diverged_at = self.step

    st.title("demo")
    bad = st.session_state.get("bad")
    player = play.Player(
        "demo_playing", "demo_model", Counter.advance, lambda m: m.step, st.session_state.get("cap", 50)
    )  # fmt: skip
    play.model(player, lambda: Counter(bad), keep=lambda m: True)
    playing = play.playing(player)
    presets = {"Go": ({"demo_playing": True, "k": 7}, "k = 7, and it plays.")}
    lesson.try_this(presets, run_state=(player.key,))
    st.session_state.setdefault("k", 3)
    st.slider("k", 1, 10, key="k")

    @play.fragment(playing, 0.1)
    def live() -> None:
        play.frame(player, playing, 10)
        play.controls(player, playing, st.columns(3), 10, new=lambda: Counter(bad))
        st.markdown(f"step {st.session_state['demo_model'].step}")

    live()


def run(**state) -> AppTest:
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def model(at: AppTest):
    return at.session_state["demo_model"]


def test_play_sets_the_flag_each_run_is_one_frame_and_pause_clears_it():
    at = run()
    assert not at.exception
    assert labels(at) == ["Go", "Play", "Step", "Reset"]
    assert button(at, "Play").proto.type == "primary"
    assert at.session_state["demo_playing"] is False and model(at).step == 0
    button(at, "Play").click().run()
    assert at.session_state["demo_playing"] is True
    assert model(at).step == FRAME and "Pause" in labels(at)  # the run drew one frame
    at.run()
    assert model(at).step == 2 * FRAME
    button(at, "Pause").click().run()
    assert at.session_state["demo_playing"] is False and "Play" in labels(at)
    at.run()
    assert model(at).step == 2 * FRAME  # paused means paused
    assert not at.exception


def test_step_trains_one_frame_exactly_once_and_does_not_play():
    at = run()
    button(at, "Step").click().run()
    assert model(at).step == FRAME and model(at).calls == 1
    assert at.session_state["demo_playing"] is False and "Play" in labels(at)
    at.run()
    assert model(at).calls == 1


def test_reset_stops_play_with_a_new_model():
    at = run()
    button(at, "Play").click().run()
    first, first_id = model(at), at.session_state["demo_model_id"]
    assert first.step == FRAME
    button(at, "Reset").click().run()
    assert at.session_state["demo_playing"] is False and "Play" in labels(at)
    assert model(at) is not first and model(at).step == 0
    assert at.session_state["demo_model_id"] != first_id  # charts are keyed anew
    assert not at.exception


def test_play_stops_at_the_cap():
    at = run(cap=25)
    button(at, "Play").click().run()
    at.run()
    assert model(at).step == 2 * FRAME and at.session_state["demo_playing"] is True
    at.run()  # the last frame is cut to the cap, and play stops
    assert model(at).step == 25 and at.session_state["demo_playing"] is False
    assert "Play" in labels(at)
    button(at, "Step").click().run()
    at.run()
    assert model(at).step == 25  # neither Step nor a run goes past it
    button(at, "Play").click().run()
    assert at.session_state["demo_playing"] is False and model(at).step == 25
    assert not at.exception


def test_divergence_stops_play_and_play_cannot_restart_it():
    at = run(bad=15)
    button(at, "Play").click().run()
    assert at.session_state["demo_playing"] is True
    at.run()  # the frame that blows up
    assert model(at).diverged_at == 2 * FRAME
    assert at.session_state["demo_playing"] is False and "Play" in labels(at)
    button(at, "Play").click().run()
    assert at.session_state["demo_playing"] is False and model(at).step == 2 * FRAME
    assert not at.exception


def note_shown(at: AppTest) -> bool:
    return any("and it plays" in i.value for i in at.info)


def test_a_preset_that_starts_play_holds_through_pause_and_play():
    """The playing flag is run state, not a setting: Pause keeps the preset's note; moving
    one of its settings drops it."""
    at = run()
    button(at, "Go").click().run()
    assert at.session_state["demo_playing"] is True and model(at).step == FRAME
    assert note_shown(at)
    button(at, "Pause").click().run()
    assert note_shown(at)
    button(at, "Play").click().run()
    button(at, "Reset").click().run()
    assert note_shown(at)
    at.slider(key="k").set_value(6).run()
    assert not note_shown(at)
