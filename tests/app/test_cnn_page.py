"""AppTest of the CNN page: defaults, extremes, presets, hostile URLs, own digit."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import assert_ok, run_page

PAGE = "pages/cnn.py"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny ops: see tests/conftest.py


def latex_text(at) -> str:
    return "\n".join(x.value for x in at.latex)


def test_default_run_trains_and_shows_numbers():
    at = run_page(PAGE)
    assert_ok(at)
    text = latex_text(at)
    assert r"z_{2,3} = " in text and r"\cdot" in text  # the sum at (2, 3) with the 3x3 numbers
    assert r"\right\rfloor + 1 = 8" in text  # n_out with k=3, s=1, p=1, d=1
    assert r"y_{" in text and r"\max(" in text  # pooling walkthrough
    assert r"p_{" in text and r"e^{" in text  # softmax with the values
    # the denominator: ten terms e^{z_j - max z} that add up to the sum shown
    line = next(v for x in at.latex if (v := x.value.strip("$\n")).startswith(r"\sum_{j=0}^{9}"))
    *terms, total = [float(v) for v in line.split("=", 2)[2].replace("=", "+").split("+")]
    assert len(terms) == 10 and max(terms) == 1.0 and abs(sum(terms) - total) < 0.006
    acc = at.metric[0].value
    assert float(acc.rstrip("%")) >= 97.0  # the default CNN reaches 97% on the digits
    assert not at.warning
    assert len(at.get("plotly_chart")) >= 8
    assert any("reads your digit as" in s.value for s in at.success)  # the sample drawing


def test_stride_padding_dilation_and_learned_kernel():
    at = run_page(PAGE)
    at.selectbox(key="kern").set_value("learned filter 3")
    at.slider(key="cs").set_value(3)
    at.slider(key="cp").set_value(0)
    at.slider(key="cd").set_value(3).run()
    assert_ok(at)
    assert r"\right\rfloor + 1 = 1" in latex_text(at)  # (8 - 6 - 1) // 3 + 1


def test_kernel_that_does_not_fit_is_explained():
    at = run_page(PAGE, state={"k": "7"})
    at.selectbox(key="kern").set_value("learned filter 1")
    at.slider(key="cp").set_value(0)
    at.slider(key="cd").set_value(3).run()
    assert_ok(at)
    assert any("does not fit" in w.value for w in at.warning)


def test_extreme_architecture():
    at = run_page(PAGE, query={"layers": "3", "filters": "32", "k": "5", "pool": "avg",
                               "dropout": "0.8", "opt": "sgd", "bs": "2048", "epochs": "3"})  # fmt: skip
    assert_ok(at)
    assert len(at.get("plotly_chart")) >= 8


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
    if i == 2:
        assert at.session_state["lr"] == 5.0
        assert any("diverged at step" in w.value for w in at.warning)
        assert len(at.get("plotly_chart")) >= 4  # the plots stay up


def test_hostile_query_string_is_clamped():
    at = run_page(PAGE, query={"lr": "1e99", "epochs": "99999", "filters": "-5", "layers": "nan",
                               "k": "4", "pool": "<script>", "bs": "1e9", "ds": "mnist../../etc"})  # fmt: skip
    assert_ok(at)
    assert at.session_state["lr"] == 10.0
    assert at.session_state["epochs"] == 100
    assert at.session_state["filters"] == 1
    assert at.session_state["k"] == "3" and at.session_state["pool"] == "max"
    assert at.session_state["ds"] == "digits" and at.session_state["bs"] == 2048


def test_empty_drawing_gives_a_message_not_a_trace():
    at = run_page(PAGE)
    at.slider(key="img").set_value(358).run()
    assert_ok(at)
    # clear every ticked cell of the sample drawing through the editor's edit state
    import numpy as np

    from dl_core.images import SAMPLE_SEVEN

    edits = {int(r): {str(c): False for c in np.flatnonzero(SAMPLE_SEVEN[r])} for r in range(16)}
    at.session_state["grid"] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    at.run()
    assert_ok(at)
    assert any("looks empty" in i.value for i in at.info)


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
    at = run_page(PAGE)
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
    assert titles[-1] == "output z (8×8)"
    assert chart(at, "maps1")["layout"]["title"]["text"].endswith("test image 0 (after ReLU)")
    assert len(chart(at, "maps1")["data"]) == 1  # the feature maps: one heatmap of tiles
    at.slider(key="cs").set_value(2)
    at.slider(key="img").set_value(5).run()
    assert_ok(at)
    titles = [a["text"] for a in chart(at, "conv")["layout"]["annotations"]]
    assert titles[-1] == "output z (4×4)"
    assert chart(at, "maps1")["layout"]["title"]["text"].endswith("test image 5 (after ReLU)")
    assert "(true digit" in chart(at, "probs")["layout"]["title"]["text"]


def test_under_the_hood_matches_torch_at_the_walkthroughs_stride():
    def gaps(at):
        return [d.value for d in at.dataframe if "max |difference|" in d.value.columns]

    assert gaps(run_page(PAGE)) == []  # closed: nothing computed or drawn
    at = run_page(PAGE, state={"hood": True})  # the expander draws only while open
    assert_ok(at)
    (df,) = gaps(at)
    assert len(df) == 4 and (df["max |difference|"] < 1e-9).all()
    assert "s=1" in df["hand-written"][0]
    at.slider(key="cs").set_value(3).run()
    assert "s=3" in gaps(at)[0]["hand-written"][0]
    assert any("def conv2d" in c.value for c in at.code)
