"""ui.live.train_live: the progress pattern of the CNN, RNN and autoencoder pages."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import TIMEOUT


def script():
    import time
    from types import SimpleNamespace

    import plotly.graph_objects as go
    import streamlit as st

    from dl_core.rnn import (
        RNNConfig,
    )  # any frozen config (the script's own classes are new each run)
    from dl_core.training import ResultCache
    from ui.live import train_live

    store = st.session_state.setdefault("store", ResultCache(max_entries=2))
    calls = st.session_state.setdefault("calls", {"train": 0, "view": 0})

    def train(cfg, on_step):
        calls["train"] += 1
        for k in range(1, 41):
            time.sleep(0.01)
            on_step(k)
        return SimpleNamespace(config=cfg)

    def view(k):
        calls["view"] += 1
        return k / 40, f"step {k}", go.Figure(go.Scatter(y=[k]))

    st.title("live")
    res = train_live(store, RNNConfig(steps=40), train, "toy", view, every_s=0.1)
    st.write(f"trained {res.config.steps}")


def test_train_live_draws_a_few_frames_then_serves_the_cache():
    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception
    calls = at.session_state["calls"]
    assert calls["train"] == 1
    assert 2 <= calls["view"] <= 8  # 0.4 s of training, a frame at most every 0.1 s
    assert at.markdown[0].value == "trained 40"
    assert len(at.get("plotly_chart")) == 0  # the live chart is gone once training is done
    at.run()
    assert at.session_state["calls"]["train"] == 1  # the second run is served by the store
