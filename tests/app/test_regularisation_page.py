"""AppTest of the regularisation page: defaults, every preset, every tab (curve and 2-D),
view sliders, hostile and extreme links, divergence shown as a lesson."""

import pytest

from tests.app.conftest import assert_ok, run_page
from ui import lesson

PAGE = "pages/regularisation.py"
TABS = [
    "Overfitting",
    "L2 and L1",
    "Early stopping",
    "Dropout",
    "Batch norm",
    "Standardising inputs",
]


def latex(at) -> str:
    return "\n".join(x.value for x in at.latex)


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    at.run()
    assert_ok(at)
    assert any(name.split()[0].lower() in h.value.lower() for h in at.subheader), name
    return at


def test_defaults_show_the_lesson_and_overfitting():
    at = run_page(PAGE)
    assert_ok(at)
    text = latex(at)
    assert r"\tilde L(\theta) = L(\theta) + \alpha\,\Omega(\theta)" in text
    assert r"\text{gap}" in text and "k^* =" in text  # the Overfitting tab's numbers
    assert r"\text{variance}" in text  # bias-variance with the default degree
    assert len(at.get("plotly_chart")) == 4  # loss, fit; error against capacity, fits
    assert not at.warning
    assert at.session_state["bv_degree"] == 3


def test_every_tab_opens_with_its_charts():
    at = run_page(PAGE)
    charts = {
        "L2 and L1": 4,
        "Early stopping": 3,
        "Dropout": 5,
        "Batch norm": 5,
        "Standardising inputs": 5,
    }
    for name in TABS[1:]:
        open_tab(at, name)
        assert len(at.get("plotly_chart")) == charts[name], name
    text = latex(at)
    assert r"H_{\text{raw}}" in text and r"\kappa" in text


def test_l2_tab_compares_adam_and_adamw_with_numbers():
    at = open_tab(run_page(PAGE), "L2 and L1")
    table = at.dataframe[0].value
    assert list(table["run"]) == [
        "SGD + L2 in the loss",
        "SGD + weight decay",
        "Adam + L2 in the loss",
        "AdamW",
    ]
    gaps = [float(x) for x in table["max |θ_L2 − θ_decay|"]]
    assert gaps[0] < 1e-10 and gaps[2] > 1e-3  # same update with SGD, different with Adam
    text = latex(at)
    assert r"\text{AdamW: }" in text and r"\text{Adam + L2: }" in text
    assert not any("autograd" in m.value for m in at.markdown)  # closed: torch's reference not run
    at.session_state["reg_hood"] = True  # open the expander
    at.run()
    (text,) = [m.value for m in at.markdown if "against autograd" in m.value]
    assert "torch.optim.Adam" in text


@pytest.mark.parametrize("i", range(5))
def test_every_preset(i):
    at = run_page(PAGE)
    at.button[i].click().run()
    assert_ok(at)
    assert not at.warning
    assert len(at.get("plotly_chart")) >= 2


def test_l1_preset_gives_exact_zeros_in_the_histogram():
    import json

    at = run_page(PAGE)
    at.button[3].click().run()
    assert at.session_state["pen"] == "l1_prox"
    open_tab(at, "L2 and L1")
    weights = next(
        json.loads(c.proto.spec) for c in at.get("plotly_chart") if "weights" in c.proto.id
    )
    title = weights["layout"]["title"]["text"]
    zeros, total = (int(x) for x in title.split(": ")[1].split(" exactly")[0].split(" of "))
    assert zeros > 0.9 * total


def test_two_d_dataset_through_every_tab():
    at = run_page(PAGE, query={"data": "moons", "n": "40", "p": "0.2", "pen": "decay"})
    assert_ok(at)
    for name in ("L2 and L1", "Early stopping", "Dropout"):
        open_tab(at, name)


def test_view_sliders_rerun_their_sections():
    at = run_page(PAGE)
    at.slider(key="bv_degree").set_value(12).run()
    assert_ok(at)
    at.slider(key="n").set_value(8).run()  # max degree n − 1 = 7: the view clamps, no error
    assert_ok(at)
    assert at.session_state["bv_degree"] == 7
    open_tab(at, "Dropout")
    at.select_slider(key="do_p").set_value(0.7)
    at.slider(key="do_draw").set_value(99)
    at.slider(key="do_unit").set_value(32).run()
    assert_ok(at)
    at.slider(key="width").set_value(4).run()  # fewer units than the viewed one: clamped
    assert_ok(at)
    assert at.session_state["do_unit"] == 4
    open_tab(at, "Batch norm")
    at.slider(key="bn_unit").set_value(16).run()
    assert_ok(at)


def test_divergence_is_a_lesson_not_an_error():
    at = run_page(PAGE, query={"opt": "sgd", "lr": "10"})
    assert_ok(at)
    assert any("diverged" in w.value and "learning rate" in w.value for w in at.warning)
    at = run_page(PAGE, query={"opt": "sgd", "lr": "3", "pen": "l2", "alpha": "1"})  # ηα = 3 > 2
    assert any("1 − ηα" in w.value for w in at.warning)
    at = run_page(PAGE, query={"sc_c": "2.2"})
    open_tab(at, "Standardising inputs")
    assert any("diverges" in m.value for m in at.markdown)


def test_hostile_and_out_of_range_links_are_clamped():
    at = run_page(PAGE, query={"n": "-5", "width": "1e9", "lr": "1e9", "data": "<script>", "pen": "l3",
                               "p": "NaN", "steps": "__import__('os')", "bn_depth": "999", "sc_corr": "-7"})  # fmt: skip
    assert_ok(at)
    s = at.session_state
    assert (s["n"], s["width"], s["lr"], s["data"], s["pen"]) == (8, 48, 10.0, "curve", "none")
    assert (s["p"], s["steps"], s["bn_depth"], s["sc_corr"]) == (0.0, 1000, 10, -0.9)


def test_batch_norm_tab_explains_the_stall():
    at = open_tab(run_page(PAGE), "Batch norm")
    assert any("ln 2" in i.value for i in at.info)
    assert r"\mu_B = \frac{1}{|B|}" in latex(at)


def test_the_kappa_link_and_the_torch_check_sentence():
    """The page's builders moved to viz: κ is rounded into the optimizer page's slider range
    (1..100) and the step size carried over as η = c/κ; the check states both gaps."""
    from types import SimpleNamespace

    from viz import regularisation as vr

    assert vr.kappa_link(37.6, 1.0) == (
        "The same κ on a quadratic bowl: [Gradient descent & optimizers, κ = 38]"
        "(/gradient_descent?kappa=38&opt=sgd&lr=0.026)"
    )
    assert "kappa=100&" in vr.kappa_link(1e4, 2.2) and "kappa=1&" in vr.kappa_link(0.2, 0.1)
    ck = SimpleNamespace(gradient=1.2e-7, optimizer=3.4e-9, reference="torch.optim.Adam")
    text = vr.checks_text(ck)
    assert "max difference 1.2e-07" in text and "nn.Linear + torch.optim.Adam" in text
    assert text.endswith("max |Δθ| = 3.4e-09.")
