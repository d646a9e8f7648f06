"""AppTest of the autoencoder / VAE page: defaults, extremes, presets, hostile URLs."""

import collections
import re

import pytest

from dl_core import autoencoder as A
from tests.app.conftest import assert_ok, run_page
from ui import lesson

PAGE = "pages/autoencoder.py"
FAST = {"steps": "150"}  # short runs where the test is about the page, not the model


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def last_number(latex: str) -> float:
    """The number after the last '=' of a formula, e.g. '1.478\\times 10^{-5}'."""
    m = re.search(r"= ([\d.]+)(?:\\times 10\^\{(-?\d+)\})?\s*(?:\$\$)?\s*$", latex)
    return float(m.group(1)) * 10 ** int(m.group(2) or 0)


def metric(at, label: str) -> float:
    return float(next(m.value for m in at.metric if m.label.startswith(label)))


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def test_default_run_and_every_tab_with_numbers(monkeypatch):
    trains = collections.Counter()
    real_train = A.train

    def counting_train(cfg, *args, **kw):
        trains[cfg] += 1
        return real_train(cfg, *args, **kw)

    monkeypatch.setattr(A, "train", counting_train)
    at = run_page(PAGE)
    assert_ok(at)
    assert [t.label for t in at.tabs] == [
        "The latent space", "Reconstructions", "Generate: walk the latent plane",
        "VAE: the loss terms", "Under the hood",
    ]  # fmt: skip
    # The first screen: the AE and the VAE (and the first tab's linear AE), nothing more.
    assert len(trains) <= 3 and all(n == 1 for n in trains.values()), trains
    assert not at.warning  # nothing diverged
    assert metric(at, "AE test MSE") <= 0.040  # the stated target of the default AE
    assert metric(at, "VAE test MSE") <= 0.042
    assert metric(at, "VAE's KL") > 0.5  # the default VAE's code carries information
    assert any("latent plane" in str(c.proto.spec) or "codes z" in str(c.proto.spec) for c in at.get("plotly_chart"))  # fmt: skip
    text = latex_text(at)
    assert r"\in \mathbb R^{d_z}" in text and "L(" in text  # d_z the latent size, L the loss
    assert "L = " not in text.replace(r"\text{nats}", "")  # L never names the latent size
    assert r"z = f_{\mathrm{enc}}(x_{\#0}) = \begin{pmatrix}" in text  # the AE code of one digit
    assert r"\operatorname{span}(v_1, \dots, v_{d_z})" in text
    angles = re.search(r"principal angles\} = \(([^)]*)\)", text).group(1)
    assert max(float(a) for a in re.findall(r"([\d.]+)\^\\circ", angles)) < 10.0
    # The VAE tab: the reparameterisation and the closed-form KL with numbers.
    at = open_tab(at, "VAE: the loss terms")
    assert_ok(at)
    text = latex_text(at)
    assert r"z = \mu + \sigma \odot \varepsilon = \begin{pmatrix}" in text
    assert r"\mathrm{KL}_{1} = \tfrac12\big(" in text
    kl_j = [last_number(x.value) for x in at.latex if r"\mathrm{KL}_{" in x.value]
    kl = last_number(next(x.value for x in at.latex if r"\mathrm{KL} = " in x.value))
    assert len(kl_j) == 2 and kl > 0.5 and kl == pytest.approx(sum(kl_j), abs=0.006 * len(kl_j))
    assert r"L_\beta = " in text and r"\text{nats}" in text
    note = next(i.value for i in at.info if "common simplification" in i.value)
    floor = float(re.search(r"\*\*([\d.]+) nats per test image\*\*", note)[1])
    assert floor == pytest.approx(13.6, abs=0.05)  # the entropy of the test digits' grey pixels
    # Reconstructions: the denoising AE cleans noisy digits; the plain AE does not.
    at = open_tab(at, "Reconstructions")
    assert_ok(at)
    assert metric(at, "denoising AE") < 0.5 * metric(at, "plain AE")
    assert metric(at, "plain AE") > 0.8 * metric(at, "noisy input")  # "never learned to remove"
    for name in ("Generate: walk the latent plane", "Under the hood"):
        at = open_tab(at, name)
        assert_ok(at)
    assert len(trains) <= 5 and all(n == 1 for n in trains.values()), trains
    assert any("def kl_normal" in c.value for c in at.code)


@pytest.mark.parametrize(
    "state",
    [
        {"latent": 1, "hidden": 16, "steps": 50},
        {"latent": 16, "hidden": 256, "steps": 50, "beta": 10.0},
        {"lr": 1.0, "steps": 100, "beta": 0.0},
        {"lr": 0.0001, "steps": 50, "seed": 99, "noise": 0.8},
    ],
    ids=["L1-narrow", "L16-wide", "lr1-beta0", "tiny-lr"],
)
def test_extreme_settings_run(state):
    at = run_page(PAGE, state=state)
    assert_ok(at)
    assert len(at.get("plotly_chart")) >= 3
    at = open_tab(at, "Generate: walk the latent plane")
    assert_ok(at)


@pytest.mark.parametrize(
    ("button", "expect"),
    [
        ("β = 0", {"beta": 0.0, "latent": 2}),
        ("β = 5", {"beta": 5.0, "latent": 2}),
        ("8-D", {"latent": 8, "beta": 1.0}),
        ("Back to", {"latent": 2, "beta": 1.0}),
    ],
)
def test_try_this_presets(button, expect):
    at = run_page(PAGE, query={"steps": "200"})
    next(b for b in at.button if b.label.startswith(button)).click().run()
    assert_ok(at)
    for k, v in expect.items():
        assert at.session_state[k] == v
    if button == "β = 5":  # posterior collapse: the codes carry (almost) nothing
        assert metric(at, "VAE's KL") < 0.05
        assert metric(at, "VAE test MSE") > 1.5 * metric(at, "AE test MSE")


def test_hostile_query_string_is_clamped():
    at = run_page(
        PAGE,
        query={
            "lr": "1e99",
            "steps": "-5",
            "latent": "__import__('os')",
            "beta": "nan",
            "hidden": "9" * 60,
        },
    )
    assert_ok(at)
    assert at.session_state["lr"] == 1.0  # clamped to the largest option
    assert at.session_state["steps"] == 50
    assert at.session_state["latent"] == 2 and at.session_state["beta"] == 1.0


def test_latent_point_out_of_range_is_clamped_and_decoded(monkeypatch):
    at = run_page(PAGE, query=FAST, state={"z1": 1e6, "z2": -1e6, "walk": "VAE"})
    at = open_tab(at, "Generate: walk the latent plane")
    assert_ok(at)
    z1, z2 = at.slider(key="z1"), at.slider(key="z2")
    assert z1.value == pytest.approx(z1.max) and z1.max >= 3.0  # at least the prior's +-3
    assert z2.value == pytest.approx(z2.min) and z2.min <= -3.0
    trains, real_train = [], A.train
    monkeypatch.setattr(A, "train", lambda cfg, *a, **kw: trains.append(cfg) or real_train(cfg))
    at.slider(key="z1").set_value(0.5).run()  # decoding a new point: no retraining
    assert trains == []
    assert_ok(at)
    assert at.slider(key="z1").value == pytest.approx(0.5)


def test_view_controls_do_not_retrain_and_the_noise_retrains_only_the_denoiser(monkeypatch):
    at = run_page(PAGE, query=FAST)
    for name in ("Reconstructions", "VAE: the loss terms", "Generate: walk the latent plane"):
        at = open_tab(at, name)  # every model the tabs need, trained once
    trains, real_train = [], A.train
    monkeypatch.setattr(A, "train", lambda cfg, *a, **kw: trains.append(cfg) or real_train(cfg, *a, **kw))  # fmt: skip
    at.number_input(key="to").set_value(11).run()
    assert_ok(at)
    at = open_tab(at, "VAE: the loss terms")
    at.slider(key="vae_digit").set_value(9).run()
    at.slider(key="eps_draw").set_value(3).run()
    assert any("test digit #9" in m.value and "draw 3 of ε" in m.value for m in at.markdown)
    at = open_tab(at, "The latent space")
    at.slider(key="digit").set_value(7).run()
    assert_ok(at)
    assert trains == []  # the digits, the draw of ε and the path only read the trained models
    assert r"z = f_{\mathrm{enc}}(x_{\#7}) = " in latex_text(at)
    at = open_tab(at, "Reconstructions")
    dae_before = metric(at, "denoising AE")
    at.slider(key="noise").set_value(0.45).run()
    assert_ok(at)
    assert [(c.kind, c.latent, c.noise) for c in trains] == [("ae", 16, 0.45)]  # only the DAE
    assert metric(at, "denoising AE") != dae_before
