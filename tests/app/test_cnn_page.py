"""AppTest of the CNN page: the first screen, every tab, extremes, presets, hostile URLs,
your own digit (drawn on the canvas or uploaded)."""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from dl_core import cnn, images
from tests.app.conftest import assert_ok, run_page
from ui import lesson
from viz import cnn as vc
from viz.latex import plain

PAGE = "pages/cnn.py"
DRAW, LEARNED, HOOD = "Test it: your digit", "What the network learned", "Under the hood"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def open_tab(at, name: str):
    at.session_state[lesson.TABS_KEY] = name
    return at.run()


def test_default_run_trains_and_shows_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    text = latex_text(at)
    assert r"a^{(1)}_{r,c} = \sum_{u=0}^{n_K-1}" in text  # the key formula, in the header
    assert r"a^{(1)}_{2,3} = " in text and r"\cdot" in text  # the sum at (2, 3) with the numbers
    assert r"\right\rfloor + 1 = 8" in text  # n_a with n_K = 3, S = 1, P = 1, d = 1
    assert r"\operatorname{flip}(K)" in text  # the cross-correlation, said once
    assert r"\tilde h_{" in text and r"\max(" in text  # pooling walkthrough
    key = next(m.value for m in at.markdown if m.value.startswith("**Your CNN**"))
    acc = float(key.split("**")[3].rstrip("%"))
    assert acc >= 97.0  # the default CNN reaches 97% on the digits
    assert "of 359 test images wrong" in key
    assert not at.warning
    assert [t.label for t in at.tabs] == vc_tabs()
    assert {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")} >= {"fig_curves", "fig_conv", "fig_pool"}  # fmt: skip
    caption = next(c.value for c in at.caption if c.value.startswith("x: the input image"))
    assert "K: the kernel" in caption and "S: stride" in caption and "P: zero padding" in caption
    assert any("1/(1 − p)" in c.value and "128 inputs" in c.value for c in at.sidebar.caption)


def vc_tabs() -> list[str]:
    return ["Convolution step by step", LEARNED, DRAW, "Mistakes", HOOD]


def test_the_network_tab_writes_the_softmax_with_its_numbers():
    at = open_tab(run_page(PAGE), LEARNED)
    assert_ok(at)
    pred = cnn.predict(trained_default(), cnn.dataset().X_test[0, 0].numpy())
    line = next(v for x in at.latex if (v := x.value.strip("$\n")).startswith(r"\sum_{j=0}^{9}"))
    assert line == vc.softmax_sum_latex(pred.softmax)
    assert abs(pred.softmax.e.sum() - pred.softmax.S) < 1e-12 and pred.softmax.e.max() == 1.0
    assert any(r"\hat y_{" in x.value for x in at.latex)
    assert [m.value for m in at.metric][:2] == [vc.pct(pred_acc := trained_default().test_acc), vc.pct(1 - pred_acc)]  # fmt: skip
    assert {"fig_filters", "fig_probs", "fig_maps1", "fig_maps2", "fig_vs"} <= chart_names(at)


def trained_default() -> cnn.Result:
    return cnn.train(cnn.CNNConfig(), device="cpu")


def chart_names(at) -> set[str]:
    return {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}


def test_stride_padding_dilation_and_learned_kernel():
    at = run_page(PAGE)
    at.selectbox(key="kern").set_value("learned kernel 3")
    at.slider(key="cs").set_value(3)
    at.slider(key="cp").set_value(0)
    at.slider(key="cd").set_value(3).run()
    assert_ok(at)
    assert r"\right\rfloor + 1 = 1" in latex_text(at)  # (8 - 6 - 1) // 3 + 1


def test_kernel_that_does_not_fit_is_explained():
    at = run_page(PAGE, state={"k": "7"})
    at.selectbox(key="kern").set_value("learned kernel 1")
    at.slider(key="cp").set_value(0)
    at.slider(key="cd").set_value(3).run()
    assert_ok(at)
    assert any("does not fit" in w.value for w in at.warning)


def test_extreme_architecture():
    at = run_page(PAGE, query={"layers": "3", "filters": "32", "k": "5", "pool": "avg",
                               "dropout": "0.8", "opt": "sgd", "bs": "2048", "epochs": "3"})  # fmt: skip
    assert_ok(at)
    assert len(at.get("plotly_chart")) >= 3


def test_smallest_model_and_batch():
    at = run_page(PAGE, query={"layers": "1", "filters": "1", "k": "1", "bs": "16", "epochs": "2"})
    assert_ok(at)


@pytest.mark.parametrize("i", [0, 1, 2])
def test_presets(i):
    at = run_page(PAGE)
    at.button[i].click().run()
    assert_ok(at)
    if i == 0:
        assert at.session_state["filters"] == 1 and at.session_state["layers"] == 1
    if i == 1:
        assert at.session_state["pool"] == "none"
        # the note's factor is computed: 16·8·8 = 1,024 features against 16·4·4 = 256
        assert any("1,024 features, 4× as many" in x.value for x in at.info)
        assert "6,090 parameters" not in next(m.value for m in at.markdown if m.value.startswith("**Your CNN**"))  # fmt: skip
    if i == 2:
        assert at.session_state["lr"] == 5.0
        assert any("diverged at step" in w.value for w in at.warning)
        assert len(at.get("plotly_chart")) >= 2  # the plots stay up


def test_hostile_query_string_is_clamped():
    at = run_page(PAGE, query={"lr": "1e99", "epochs": "99999", "filters": "-5", "layers": "nan",
                               "k": "4", "pool": "<script>", "bs": "1e9", "ds": "mnist../../etc"})  # fmt: skip
    assert_ok(at)
    assert at.session_state["lr"] == 10.0
    assert at.session_state["epochs"] == 100
    assert at.session_state["filters"] == 1
    assert at.session_state["k"] == "3" and at.session_state["pool"] == "max"
    assert at.session_state["ds"] == "digits" and at.session_state["bs"] == 2048


def canvas_state(ink: np.ndarray) -> dict:
    """What the drawing canvas sends after a stroke: its pixels as a PNG data URL."""
    a = np.zeros((*ink.shape, 4), np.uint8)
    a[..., :3], a[..., 3] = np.round(255 * (1 - ink[..., None])).astype(np.uint8), 255
    url = "data:image/png;base64," + base64.b64encode(png(a, "RGBA")).decode()
    return {"drawing": {"raw": {"objects": [{}]}, "data": url}}


def test_drawing_on_the_canvas():
    """The sample seven on arrival; a stroke drawn on the canvas is read instead; a cleared
    canvas asks for a drawing (a message, not a trace)."""
    at = open_tab(run_page(PAGE), DRAW)
    assert_ok(at)
    seven = cnn.predict(trained_default(), images.sample_seven().x)
    (ok,) = at.success
    assert f"as **{seven.label}** (ŷ = {plain(seven.softmax.y_hat[seven.label], vc.DIGITS)})" in ok.value  # fmt: skip
    assert {"fig_mine", "fig_mine_probs", "fig_mine_maps1"} <= chart_names(at)
    at.session_state["canvas0"] = canvas_state(images.stroke_ink([(112, 40), (112, 190)]))
    at.run()
    assert_ok(at)
    assert "reads your digit as **1**" in at.success[0].value  # a vertical stroke: a one
    assert any("224×224 drawing" in c.value for c in at.caption)
    at.session_state["canvas0"] = canvas_state(np.zeros((224, 224)))  # everything undone
    at.run()
    assert any("looks empty" in i.value for i in at.info) and not at.success
    next(b for b in at.button if b.label == "Clear the canvas").click().run()
    assert_ok(at)
    assert any("Draw a digit on the canvas" in i.value for i in at.info) and not at.success
    assert any(b.label == "Start from the sample seven" for b in at.button)


def png(a: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def test_uploads_good_and_bad():
    """Every bad file gets its own explained message, never a trace; a good one is read."""
    one = np.full((60, 40), 255, np.uint8)
    one[8:52, 18:23] = 0  # a dark "1" on white paper
    huge = png(np.zeros((6000, 6000), np.uint8))  # a few kB, 36 megapixels
    cases = [
        ("notes.txt", b"this is not an image", "text/plain", "not an image"),
        ("cut.png", png(one)[:60], "image/png", "damaged"),
        ("huge.png", huge, "image/png", "megapixels"),
        ("clear.png", png(np.zeros((20, 20, 4), np.uint8), "RGBA"), "image/png", "transparent"),
        ("blank.png", png(np.full((20, 20), 255, np.uint8)), "image/png", "looks empty"),
    ]
    at = open_tab(run_page(PAGE), DRAW)
    for name, data, mime, message in cases:
        at.file_uploader(key="upload").set_value((name, data, mime)).run()
        assert_ok(at)
        assert any(message in i.value for i in at.info), (name, [i.value for i in at.info])
        assert not any("reads your digit as" in s.value for s in at.success), name
    at.file_uploader(key="upload").set_value(("one.png", png(one), "image/png")).run()
    assert_ok(at)
    assert not at.info
    assert any("reads your digit as" in s.value for s in at.success)
    assert any("inverted" in c.value for c in at.caption)  # how it was converted


def chart(at, name: str) -> dict:
    """The figure (as the browser gets it) of the chart with element key fig_<name>."""
    (el,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-fig_{name}")]
    return json.loads(el.proto.spec)


def test_views_redraw_with_their_own_numbers():
    """Figures are built once per result and view: a changed view must never get the
    figure of another one (a cache key that misses a setting)."""
    at = run_page(PAGE)
    titles = [a["text"] for a in chart(at, "conv")["layout"]["annotations"]]
    assert titles[-1] == "output a (8×8)"
    at.slider(key="cs").set_value(2).run()
    assert_ok(at)
    titles = [a["text"] for a in chart(at, "conv")["layout"]["annotations"]]
    assert titles[-1] == "output a (4×4)"
    at = open_tab(at, LEARNED)
    assert chart(at, "maps1")["layout"]["title"]["text"].endswith("test image 0 (after ReLU)")
    assert len(chart(at, "maps1")["data"]) == 1  # the feature maps: one heatmap of tiles
    at.slider(key="img_net").set_value(5).run()
    assert_ok(at)
    assert chart(at, "maps1")["layout"]["title"]["text"].endswith("test image 5 (after ReLU)")
    assert "(true digit" in chart(at, "probs")["layout"]["title"]["text"]


def test_under_the_hood_matches_torch_at_its_stride():
    def gaps(at):
        return [d.value for d in at.dataframe if "max |difference|" in d.value.columns]

    assert gaps(run_page(PAGE)) == []  # closed: nothing computed or drawn
    at = open_tab(run_page(PAGE), HOOD)
    assert_ok(at)
    (df,) = gaps(at)
    assert len(df) == 4 and (df["max |difference|"] < 1e-9).all()
    assert "S=1" in df["hand-written"][0]
    at.radio(key="hs").set_value(3).run()
    assert "S=3" in gaps(at)[0]["hand-written"][0]
    assert any("def conv2d" in c.value and "def convolve2d" in c.value for c in at.code)


def test_mistakes_tab():
    at = open_tab(run_page(PAGE), "Mistakes")
    assert_ok(at)
    res = trained_default()
    wrong = int(res.confusion.sum() - np.trace(res.confusion))
    assert any(m.value.startswith(f"{vc.pct(1 - res.test_acc)} of the test images") for m in at.markdown)  # fmt: skip
    assert wrong == len(cnn.misclassified(res)) == 5
    assert {"fig_confusion", "fig_wrong"} <= chart_names(at)
    labels = [a["text"] for a in chart(at, "wrong")["layout"]["annotations"]]
    assert len(labels) == wrong and all("→" in t for t in labels)
