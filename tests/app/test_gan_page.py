"""AppTest of the GAN page: defaults, stepping (fragments do not tick in AppTest,
so the Step button and the page's tick run the training), extremes, presets, URL."""

import json
import re

import pytest

from dl_core import gan
from tests.app.conftest import assert_ok, run_page

PAGE = "pages/gan.py"


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


NUMBER = r"(-?[\d.]+)(?:\\times 10\^\{(-?\d+)\})?"


def numbers_in(latex: str) -> list[float]:
    """The numbers under the underbraces, then the one after the last '='."""
    found = re.findall(r"\}_\{" + NUMBER + r"\}", latex) + re.findall(
        r"= " + NUMBER + r"\s*(?:\$\$)?\s*$", latex
    )
    return [float(m) * 10 ** int(e or 0) for m, e in found]


def test_default_run_then_step_shows_the_batch_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    assert r"\min_G \max_D" in latex_text(at)
    assert at.session_state["gan_state"].step == 0
    button(at, "Step").click().run()
    assert_ok(at)
    state = at.session_state["gan_state"]
    assert state.step == 20
    text = latex_text(at)
    assert r"\underbrace" in text and "V(D^*, G)" in text  # the minimax numbers and D*
    # V = mean log D(x) + mean log(1 - D(G(z))), as shown (4 significant digits each)
    mean_log_d, mean_log_1m, value = numbers_in(
        next(x.value for x in at.latex if r"V(D, G) = \underbrace" in x.value)
    )
    assert (
        mean_log_d < 0
        and mean_log_1m < 0
        and value == pytest.approx(mean_log_d + mean_log_1m, abs=2e-3)
    )
    m = gan.batch_numbers(state)  # the page shows the current networks on the last batch
    assert value == pytest.approx(m.V, abs=1e-3) and r"L_D = -V = " in text
    assert len(at.get("plotly_chart")) >= 5
    assert not at.warning


def test_play_advances_on_each_run_and_pause_stops():
    at = run_page(PAGE)
    button(at, "Play").click().run()
    assert at.session_state["gan_playing"]
    first = at.session_state["gan_state"].step
    assert first == 20  # the fragment ran once with the page (AppTest does not tick it)
    button(at, "Pause").click().run()
    assert not at.session_state["gan_playing"]
    assert at.session_state["gan_state"].step == first
    button(at, "Reset").click().run()
    assert at.session_state["gan_state"].step == 0


def test_stepping_to_coverage_through_the_step_button():
    at = run_page(PAGE, state={"spt": 100})
    for _ in range(8):
        button(at, "Step").click().run()
    assert_ok(at)
    state = at.session_state["gan_state"]
    assert state.step == 800 and state.modes[-1] == 8  # the default covers the ring


@pytest.mark.parametrize("target", ["grid", "spiral", "moons", "line"])
def test_other_targets_and_all_layers(target):
    at = run_page(PAGE, state={"target": target})
    at.multiselect(key="layers").set_value(["real", "fake", "D(x)", "noise grid", "arrows"])
    button(at, "Step").click().run()
    assert_ok(at)


@pytest.mark.parametrize(
    "state",
    [
        {"nz": 1, "g_layers": 1, "g_width": 1, "d_layers": 1, "d_width": 1, "batch": 16, "k": 5},
        {"nz": 8, "g_layers": 4, "d_layers": 4, "g_width": 128, "d_width": 128, "batch": 512},
        {"loss": "wgan_gp", "noise": "uniform", "act": "leaky_relu"},
        {"d_lr": 0.1, "g_lr": 1e-5, "loss": "minimax"},
    ],
)
def test_extreme_settings(state):
    at = run_page(PAGE, state={**state, "spt": 5})
    button(at, "Step").click().run()
    assert_ok(at)


def test_divergence_is_a_lesson():
    at = run_page(PAGE, state={"spt": 100})
    button(at, "SGD with a large step").click().run()
    for _ in range(3):
        if at.session_state["gan_state"].diverged_at is not None:
            break
        button(at, "Step").click().run()
    assert_ok(at)
    assert at.session_state["gan_state"].diverged_at is not None
    assert any("diverged at step" in w.value for w in at.warning)
    assert not at.session_state["gan_playing"]  # playing stops on divergence


@pytest.mark.parametrize(
    "name", ["D learns 100× faster than G", "The minimax generator loss", "A tiny generator"]
)
def test_presets(name):
    at = run_page(PAGE)
    button(at, name).click().run()
    assert_ok(at)
    assert at.session_state["gan_playing"]
    assert at.session_state["gan_state"].step == 20


def test_tiny_generator_collapses():
    at = run_page(PAGE, state={"spt": 100})
    button(at, "A tiny generator").click().run()
    at.session_state["gan_playing"] = False
    for _ in range(10):
        button(at, "Step").click().run()
    state = at.session_state["gan_state"]
    assert state.modes[-1] <= 2
    assert any("Mode collapse" in i.value for i in at.info)


def test_hostile_query_string_is_clamped():
    at = run_page(
        PAGE,
        query={"d_lr": "1e99", "g_lr": "-5", "g_width": "1e9", "batch": "nan", "target": "<x>",
               "loss": "__import__('os')", "k": "-3", "spt": "99999"},
    )  # fmt: skip
    assert_ok(at)
    cfg = at.session_state["gan_state"].cfg
    assert cfg.d_lr == 1.0 and cfg.g_lr == 1e-5 and cfg.g_hidden == (128, 128)
    assert cfg.target == "ring" and cfg.loss == "nonsaturating" and cfg.d_steps == 1


@pytest.mark.parametrize("loss", ["least_squares", "wgan_gp"])
def test_other_losses_show_the_losses_they_train(loss):
    at = run_page(PAGE, state={"loss": loss, "spt": 5})
    button(at, "Step").click().run()
    assert_ok(at)
    text = latex_text(at)
    assert r"L_D = -V" not in text  # not true for these losses
    m = gan.batch_numbers(at.session_state["gan_state"])
    shown_d = numbers_in(next(x.value for x in at.latex if r"trained: } L_D" in x.value))
    shown_g = numbers_in(next(x.value for x in at.latex if r"trained: } L_G" in x.value))
    if loss == "least_squares":
        ls_real, ls_fake, total = shown_d
        assert total == pytest.approx(ls_real + ls_fake, abs=2e-3)
        assert total == pytest.approx(m.L_D_trained, rel=1e-3, abs=1e-4)
    else:  # the penalty term is not shown as a number; the rest is
        fake, real = shown_d[:2]
        assert fake == pytest.approx(m.mean_a_fake, rel=1e-3, abs=1e-4)
        assert real == pytest.approx(m.mean_a_real, rel=1e-3, abs=1e-4)
    assert shown_g[-1] == pytest.approx(m.L_G_trained, rel=1e-3, abs=1e-4)
    assert any("does **not** play the minimax game" in md.value for md in at.markdown)


def test_minimax_preset_starts_slower_than_the_non_saturating_loss():
    """The preset's lesson, measured: after 100 steps far fewer samples sit near the ring
    with the minimax generator loss than with the non-saturating one (same settings)."""
    at = run_page(PAGE, state={"spt": 100})
    button(at, "The minimax generator loss").click().run()  # playing: one frame of 100 steps
    mm = at.session_state["gan_state"]
    assert mm.cfg.loss == "minimax" and mm.step == 100
    at.selectbox(key="loss").set_value("nonsaturating").run()
    ns = at.session_state["gan_state"]
    assert ns.cfg.loss == "nonsaturating" and ns.step == 100 and ns.cfg.d_steps == 5
    assert mm.quality[0] < 0.6 * ns.quality[0], (mm.quality, ns.quality)  # measured 0.12, 0.37


def chart_spec(at, key: str) -> str:
    return next(c.proto.spec for c in at.get("plotly_chart") if key in c.proto.id)


def test_paused_charts_are_reused_until_the_gan_steps():
    """Paused, a rerun sends the same figures (built once per training state); a step
    redraws every one of them; a new view of the same state redraws only the field."""
    at = run_page(PAGE)
    keys = ("field", "coverage", "ggrad", "losses", "dstar")
    before = {k: chart_spec(at, k) for k in keys}
    assert '"Step 0: real vs generated samples"' in before["field"]
    at.run()
    assert {k: chart_spec(at, k) for k in keys} == before
    button(at, "Step").click().run()
    after = {k: chart_spec(at, k) for k in keys}
    assert '"Step 20: real vs generated samples"' in after["field"]
    assert all(after[k] != before[k] for k in ("field", "ggrad", "losses", "dstar"))
    at.multiselect(key="layers").set_value(["real"]).run()
    field = json.loads(chart_spec(at, "field"))
    assert [t["name"] for t in field["data"]] == ["real x"]  # only the layer asked for
    assert chart_spec(at, "dstar") == after["dstar"]


def test_under_the_hood_runs_only_when_open():
    at = run_page(PAGE)
    assert not [m for m in at.metric if "θ_autograd" in m.label]  # closed: no autograd run
    at.session_state["gan_hood"] = True  # what a click on the expander does
    at.run()
    assert_ok(at)
    (gap,) = [float(m.value) for m in at.metric if "θ_autograd" in m.label]
    assert gap < 1e-5  # float32 rounding: the hand-written step is autograd's
    assert any("def fused_iteration" in c.value for c in at.code)
