"""AppTest of the GAN page: defaults, stepping (fragments do not tick in AppTest,
so the Step button and the page's tick run the training), extremes, presets, URL, the tabs,
and the rulebook over every chart of every loss."""

import json
import math
import re

import numpy as np
import pytest

from dl_core import gan
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from viz import gan as vg
from viz import style

PAGE = "pages/gan.py"
TABS = ("Learned D vs D*", "Losses and coverage", "The game in numbers", "Under the hood")


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


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
    assert [t.label for t in at.tabs] == list(TABS)
    assert r"\min_G \max_D" in latex_text(at)
    assert at.session_state["gan_state"].step == 0
    button(at, "Step").click().run()
    open_tab(at, "The game in numbers")
    assert_ok(at)
    state = at.session_state["gan_state"]
    assert state.step == 20
    text = latex_text(at)
    assert r"\underbrace" in text
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
    assert len(at.get("plotly_chart")) == 2  # the live view and this tab's gradient chart
    assert not at.warning


def test_play_button_is_primary_and_the_first_tab_shows_d_star():
    at = run_page(PAGE)
    play = button(at, "Play")
    assert play.proto.type == "primary"
    assert button(at, "Step").proto.type != "primary"
    assert "V(D^*, G)" in latex_text(at)  # the first tab is open on arrival
    assert {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")} == {"field", "dstar"}


def test_exact_zero_of_the_game_value_prints_as_0():
    """At step 0 the samples and the data do not overlap: JS = log 2 and V(D*, G) = 0 up to
    the kernels' tails (about -2e-9), which the page prints as 0."""
    at = run_page(PAGE)
    js = gan.snapshot(at.session_state["gan_state"]).js
    assert abs(-math.log(4) + 2 * js) < vg.V_ZERO and -math.log(4) + 2 * js != 0
    line = next(x.value for x in at.latex if "V(D^*, G)" in x.value)
    assert line.strip("$\n").endswith("= 0") and "10^" not in line, line
    assert any(m.label == "JS divergence" and m.value == "0.6931 nats" for m in at.metric)


def test_empty_panels_say_what_will_appear_then_fill():
    at = run_page(PAGE, state={"spt": 50})
    open_tab(at, "Losses and coverage")
    assert len(at.get("plotly_chart")) == 1  # only the live view: no empty chart
    texts = [i.value for i in at.info]
    assert any("appear here once training starts" in t for t in texts)
    assert any("the curves start at step 100" in t for t in texts)
    button(at, "Step").click().run()  # 50 steps: losses, no evaluation yet
    ids = {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    assert ids == {"field", "losses"}
    for _ in range(2):
        button(at, "Step").click().run()
    ids = {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}
    assert ids == {"field", "losses", "coverage"} and not at.info


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_every_chart_of_every_loss_keeps_the_rulebook(loss):
    at = run_page(PAGE, state={"loss": loss, "spt": 100, "layers": list(vg.LAYERS)})
    button(at, "Step").click().run()
    charts = []
    for name in TABS:
        open_tab(at, name)
        assert_ok(at)
        charts += [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    broken = [v for fig in charts if (v := style.violations(fig))]
    assert len(charts) >= 6 and not broken, broken


def test_lsgan_map_shows_the_raw_output_clipped():
    """Least squares: the learned-D panels show a(x) clipped to [0, 1] (its optimum is D*
    itself), not sigmoid(a), which never leaves [0.5, 0.73] for a in [0, 1]."""
    at = run_page(PAGE, state={"loss": "least_squares", "k": 5, "d_lr": 1e-2, "g_lr": 1e-3,
                               "spt": 100})  # fmt: skip
    for _ in range(3):
        button(at, "Step").click().run()
    dstar = json.loads(next(c.proto.spec for c in at.get("plotly_chart") if "dstar" in c.proto.id))
    learned = dstar["data"][0]
    assert learned["colorbar"]["title"]["text"] == "a(x) in [0, 1]"
    z = np.asarray(style._array(learned["z"]))
    assert z.min() >= 0 and z.max() <= 1
    assert np.percentile(z, 95) - np.percentile(z, 5) > 0.8  # sigmoid(a) spans under 0.25
    assert any("Mao et al. 2017" in md.value for md in at.markdown)


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
    at.button_group(key="layers").set_value(["real", "fake", "D(x)", "noise grid", "arrows"])
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
    assert_ok(at)
    state = at.session_state["gan_state"]
    assert state.diverged_at is not None and state.diverged_at <= 10  # "within a few steps"
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


def test_a_presets_note_stays_when_paused():
    """A preset starts play; Pause (and Reset) keep the experiment, so its note stays under
    the "Try this" row; moving one of its settings drops it."""
    at = run_page(PAGE, state={"spt": 5})
    button(at, "A tiny generator").click().run()

    def note() -> bool:
        return any("Two ReLU units cannot bend" in i.value for i in at.info)

    assert at.session_state["gan_playing"] and note()
    button(at, "Pause").click().run()
    assert not at.session_state["gan_playing"] and note()
    button(at, "Reset").click().run()
    assert at.session_state["gan_state"].step == 0 and note()
    at.slider(key="g_width").set_value(3).run()
    assert not note()
    assert_ok(at)


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
    open_tab(at, "The game in numbers")
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
    else:  # critic means and the penalty, then their sum with alpha = GP_WEIGHT
        fake, real, gp = shown_d[:3]
        assert fake == pytest.approx(m.mean_a_fake, rel=1e-3, abs=1e-4)
        assert real == pytest.approx(m.mean_a_real, rel=1e-3, abs=1e-4)
        assert gp == pytest.approx(m.gp, rel=1e-3, abs=1e-4) and m.gp > 0
        hit = re.search(r"\\\\ &= " + NUMBER, text)
        total = float(hit.group(1)) * 10 ** int(hit.group(2) or 0)
        assert total == pytest.approx(fake - real + gan.GP_WEIGHT * gp, abs=2e-3)
        assert r"\lambda" not in text  # lambda is an eigenvalue; a penalty's weight is alpha
    assert shown_g[-1] == pytest.approx(m.L_G_trained, rel=1e-3, abs=1e-4)
    assert any("does **not** play the minimax game" in md.value for md in at.markdown)


def test_saturation_note_follows_this_batch():
    """The lesson on the minimax loss's saturation says whether this batch shows it, with
    the batch's own mean D(G(z))."""
    at = run_page(PAGE, state={"spt": 100})
    button(at, "The minimax generator loss").click().run()
    open_tab(at, "The game in numbers")
    d = float(np.mean(gan.batch_numbers(at.session_state["gan_state"]).D_fake))
    note = next(md.value for md in at.markdown if "saturates" in md.value)
    assert d < vg.SAT and "This batch shows it" in note and vg.num(d) in note
    at = run_page(PAGE, state={"spt": 100})
    button(at, "Step").click().run()
    open_tab(at, "The game in numbers")
    d = float(np.mean(gan.batch_numbers(at.session_state["gan_state"]).D_fake))
    note = next(md.value for md in at.markdown if "saturates" in md.value)
    assert d > vg.SAT and "does not show it" in note and vg.num(d) in note


def test_minimax_preset_starts_slower_than_the_non_saturating_loss():
    """The preset's lesson, measured: D(G(z)) about 0.2, and at step 200 about 20 % of the
    samples near the ring with the minimax generator loss against about 40 % with the
    non-saturating one (same settings)."""
    at = run_page(PAGE, state={"spt": 100})
    button(at, "The minimax generator loss").click().run()  # playing: one frame of 100 steps
    at.session_state["gan_playing"] = False
    button(at, "Step").click().run()
    mm = at.session_state["gan_state"]
    assert mm.cfg.loss == "minimax" and mm.step == 200
    assert 0.1 < float(np.mean(gan.batch_numbers(mm).D_fake)) < 0.3
    at.selectbox(key="loss").set_value("nonsaturating").run()
    button(at, "Step").click().run()
    button(at, "Step").click().run()
    ns = at.session_state["gan_state"]
    assert ns.cfg.loss == "nonsaturating" and ns.step == 200 and ns.cfg.d_steps == 5
    assert 0.15 < mm.quality[1] < 0.3 and 0.3 < ns.quality[1] < 0.55, (mm.quality, ns.quality)
    assert mm.quality[1] < 0.65 * ns.quality[1]  # measured 0.22 and 0.43


def chart_spec(at, key: str) -> str:
    return next(c.proto.spec for c in at.get("plotly_chart") if key in c.proto.id)


def test_paused_charts_are_reused_until_the_gan_steps():
    """Paused, a rerun sends the same figures (built once per training state); a step
    redraws every one of them; a new view of the same state redraws only the field."""
    at = run_page(PAGE, state={"spt": 100})
    for _ in range(1):
        button(at, "Step").click().run()
    keys = ("field", "dstar")
    before = {k: chart_spec(at, k) for k in keys}
    assert '"Step 100: real vs generated samples"' in before["field"]
    at.run()
    assert {k: chart_spec(at, k) for k in keys} == before
    open_tab(at, "Losses and coverage")
    losses = {k: chart_spec(at, k) for k in ("coverage", "losses")}
    at.run()
    assert {k: chart_spec(at, k) for k in ("coverage", "losses")} == losses
    button(at, "Step").click().run()
    assert all(chart_spec(at, k) != losses[k] for k in ("coverage", "losses"))
    open_tab(at, "Learned D vs D*")
    after = {k: chart_spec(at, k) for k in keys}
    assert '"Step 200: real vs generated samples"' in after["field"]
    assert all(after[k] != before[k] for k in keys)
    at.button_group(key="layers").set_value(["real"]).run()
    field = json.loads(chart_spec(at, "field"))
    assert [t["name"] for t in field["data"]] == ["real x"]  # only the layer asked for
    assert chart_spec(at, "dstar") == after["dstar"]


def test_under_the_hood_runs_only_when_open():
    at = run_page(PAGE)
    assert not [m for m in at.metric if "θ_autograd" in m.label]  # closed: no autograd run
    open_tab(at, "Under the hood")
    assert_ok(at)
    (gap,) = [float(m.value) for m in at.metric if "θ_autograd" in m.label]
    assert gap < 1e-5  # float32 rounding: the hand-written step is autograd's
    assert any("def fused_iteration" in c.value for c in at.code)
