"""Convolutional networks: convolution with real numbers, a CNN that trains in about a second.

First screen: the idea, the convolution sum, "Try this" and the trained CNN's curves. The
rest is in tabs, each drawn only while open. The sidebar retrains; every other widget only
changes a view: the sections with widgets are fragments (``fast.section``) and every figure
is built once per result and view (``fast.figure``)."""

from dataclasses import replace

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from dl_core import cnn, images, mnist
from dl_core.training import ResultCache
from ui import fast, lesson, params
from ui.live import train_live
from viz import cnn as vc

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
BATCHES = [16, 32, 64, 128, 256, 512, 1024, 2048]
LIVE_AFTER_S = 1.0  # show a progress bar and live curves once training has run this long
MAX_RESULTS = 32
TABS = ["Convolution step by step", "What the network learned", "Test it: your digit"]
TABS += ["Mistakes", "Under the hood"]


@st.cache_resource
def store() -> ResultCache:
    """Trained models by config, shared by every session (results are frozen); not
    st.cache_data: a cache miss draws live progress, which cache_data cannot replay."""
    return ResultCache(max_entries=MAX_RESULTS)


def trained(cfg: cnn.CNNConfig) -> cnn.Result:
    """Cached result, or train now; runs past LIVE_AFTER_S show progress and live curves."""
    label = cfg.arch.upper()
    return train_live(store(), cfg, cnn.train, label, vc.live_view(label), after_s=LIVE_AFTER_S)


def clamp_state(key: str, hi: int) -> None:
    if key in st.session_state and st.session_state[key] > hi:
        st.session_state[key] = hi


def chart(where, name: str, build, *view) -> None:
    """Figure ``name`` (element key fig_<name>), built once per ``view``: what it shows."""
    where.plotly_chart(fast.figure((f"cnn.{name}", *view), build), key=f"fig_{name}")


# ---------------------------------------------------------------- settings
with st.sidebar:
    st.header("CNN settings")
    layers = params.slider("Conv layers", "layers", 1, cnn.MAX_LAYERS, 2)
    filters = params.slider(vc.FILTERS_LABEL, "filters", 1, 32, 16)
    kernel = int(params.select("Kernel size n_K", "k", ["1", "3", "5", "7"], "3"))
    pool = params.select("Pooling after each conv", "pool", cnn.POOLS, "max")
    dropout = params.slider("Dropout p before the last layer", "dropout", 0.0, 0.8, 0.0, 0.05)
    dropout_box = st.empty()  # what dropout does, with this net's numbers (filled below)
    names = vc.OPTIMIZER_NAMES.get
    optimizer = params.select("Optimizer", "opt", cnn.OPTIMIZERS, "adam", format_func=names)
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.01)
    batch = int(params.log_slider("Batch size", "bs", BATCHES, 256))
    epochs = params.slider("Epochs", "epochs", 1, 100, 30)
    ds = params.select("Dataset", "ds", ["digits"] + ["mnist"] * mnist.available(), "digits")
    ntrain = params.slider("MNIST training images", "ntrain", 1000, 60000, 10000, 1000) if ds == "mnist" else 0  # fmt: skip
    seed = params.slider("Seed", "seed", 0, 99, 0)
if epochs > (cap := cnn.max_epochs(ds, batch, ntrain)):
    st.sidebar.caption(f"Capped at {cap} epochs ({cnn.MAX_STEPS:,} steps) for these settings.")
    epochs = cap
cfg = cnn.CNNConfig(ds, layers, filters, kernel, pool, dropout, optimizer, lr, epochs, batch, ntrain, seed=seed)  # fmt: skip
dropout_box.caption(vc.dropout_note(cfg))

# ---------------------------------------------------------------- first screen
lesson.header("Convolutional networks", vc.IDEA, vc.FORMULA, vc.symbols())
lesson.try_this(vc.presets(ds))
res = trained(cfg)  # a long run draws its live curves here
data = cnn.dataset(ds, ntrain)
if (warning := cnn.diagnose(res)) is not None:
    st.warning(warning, icon=":material/warning:")
st.markdown(vc.key_numbers(res))
chart(st, "curves", lambda: vc.curves(res.history), cfg)
st.caption(vc.CURVES_NOTE)


# ---------------------------------------------------------------- tab 1: convolution step by step
@fast.section
def step_by_step(res: cnn.Result, data) -> None:
    """One convolution of a test image with your numbers, the flip, then pooling."""
    st.subheader("One convolution, with your numbers")
    c1, c2, c3 = st.columns(3)
    clamp_state("img", len(data.y_test) - 1)
    idx = c1.slider("Test image", 0, len(data.y_test) - 1, 0, key="img")
    x = data.X_test[idx, 0].numpy()
    if st.session_state.get("kern") not in (names := cnn.kernel_names(res.config)):
        st.session_state.pop("kern", None)  # a learned kernel of a wider net
    with c1:
        kern = params.select("Kernel K", "kern", names, "edge (vertical)")
    s = c2.slider("Stride S", 1, 3, 1, key="cs")
    p = c2.slider("Padding P", 0, 2, 1, key="cp")
    d = c2.slider("Dilation d", 1, 3, 1, key="cd")
    K, b = cnn.kernel_for(res, kern)
    n, nK = x.shape[0], len(K)
    if (n_out := cnn.output_size(n, nK, s, p, d)) < 1:
        return st.warning(vc.no_fit(n, nK, p, d))
    clamp_state("ci", n_out - 1), clamp_state("cj", n_out - 1)
    r = c3.slider("Output row r", 0, n_out - 1, min(2, n_out - 1), key="ci") if n_out > 1 else 0
    c = c3.slider("Output column c", 0, n_out - 1, min(3, n_out - 1), key="cj") if n_out > 1 else 0
    w = cnn.conv_walkthrough(x, K, b, r, c, s, p, d)
    view = (vc.kernel_key(res.config, kern), idx, kern, s, p, d, r, c)
    chart(st, "conv", lambda: vc.conv_figure(w), *view)
    st.latex(vc.conv_sum_latex(w))
    st.latex(vc.output_size_latex(n, nK, s, p, d, n_out))
    st.caption(vc.conv_caption(w))
    st.subheader("Convolution or cross-correlation?")
    st.markdown(vc.XCORR)
    f = cnn.flip_walkthrough(x, K, p, r, c)
    st.latex(vc.IDENTITY)
    st.latex(vc.flip_latex(K, f.r, f.c, f.xcorr, f.conv))
    st.caption(vc.flip_caption(K, f.r, f.c, p))
    pooling(np.maximum(w.a, 0), w.r, w.c, view)  # ReLU of the feature map above


@fast.section
def pooling(fmap: np.ndarray, r: int, c: int, view: tuple) -> None:
    """Pooling of the walkthrough's feature map ``fmap`` around its output (r, c)."""
    st.subheader("Pooling, with your numbers")
    st.markdown(vc.POOLING)
    q1, q2 = st.columns([1, 3])
    kind = q1.radio("Pooling", ["max", "avg"], horizontal=True, key="pk")
    pk = q1.slider("Window size (and stride)", 1, 3, 2, key="pw")
    if fmap.shape[0] >= pk:
        pw = cnn.pool_walkthrough(fmap, kind, pk, pk, r // pk, c // pk)
        chart(q2, "pool", lambda: vc.pool_figure(pw), *view, kind, pk)
        st.latex(vc.pool_latex(pw))
        st.latex(vc.output_size_latex(fmap.shape[0], pk, pk, 0, 1, pw.n_out[0]))


# ---------------------------------------------------------------- tab 2: what the network learned
def learned(res: cnn.Result, data) -> None:
    cfg = res.config
    st.subheader("What the network learned")
    for col, (name, value, note) in zip(st.columns(4), vc.metrics(res), strict=True):
        col.metric(name, value, help=note)
    st.caption("Architecture: " + cnn.describe(cfg))
    chart(st, "filters", lambda: vc.filters(cnn.first_layer_filters(res)), cfg)
    test_image(res, data)
    st.subheader("CNN vs an MLP with the same budget")
    mres = trained(replace(cfg, arch="mlp"))
    st.markdown(vc.mlp_note(cfg))
    chart(st, "vs", lambda: vc.cnn_vs_mlp(res, mres), cfg)


@fast.section
def test_image(res: cnn.Result, data) -> None:
    """The trained CNN on one test image: the softmax with its numbers, feature maps."""
    cfg = res.config
    clamp_state("img_net", len(data.y_test) - 1)
    idx = st.slider("Test image through the network", 0, len(data.y_test) - 1, 0, key="img_net")
    x, true = data.X_test[idx, 0].numpy(), int(data.y_test[idx])
    pred = cnn.predict(res, x)
    st.markdown(vc.prediction_note(idx, true, pred.label))
    for tex in vc.softmax_lines(pred.softmax, pred.label):
        st.latex(tex)
    f1, f2 = st.columns([2, 3])
    chart(f1, "input", lambda: vc.test_image_figure(x, idx), cfg.dataset, cfg.train_size, idx)
    chart(f2, "probs", lambda: vc.probabilities(pred.softmax.y_hat, true), cfg, idx)
    for name, build in vc.feature_map_grids(pred.maps, "maps", f"test image {idx}"):
        chart(st, name, build, cfg, idx)


# ---------------------------------------------------------------- tab 3: your own digit
@fast.section
def own_digit(res: cnn.Result, n: int) -> None:
    """Draw or upload a digit (an n×n model input): how the CNN reads it, its feature maps."""
    cfg = res.config
    st.subheader("Test it: your digit")
    left, right = st.columns(2)
    draw, upload = left.tabs(["Draw", "Upload an image"])
    with draw:
        st.caption(vc.DRAW_HELP)
        st.space("small")  # room for the toolbar on the canvas's top edge
        version = st.session_state.setdefault("canvas_v", 0)  # a new canvas per button press
        blank = version % 2
        canvas = st_canvas(**vc.canvas_settings(blank), key=f"canvas{version}")
        label = "Start from the sample seven" if blank else "Clear the canvas"
        st.button(label, on_click=lambda: st.session_state.update(canvas_v=version + 1))
    with upload:
        file = st.file_uploader("A picture of one digit (PNG, JPEG, ...)", key="upload")
        st.caption(vc.UPLOAD_HELP)
    try:  # the upload, else the drawing, else the sample seven the canvas starts with
        upload = None if file is None else file.getvalue()
        mine = images.own_digit(upload, canvas.image_data, not blank, n)
    except ValueError as e:
        right.info(str(e), icon=":material/info:")
        return
    mp, pixels = cnn.predict(res, mine.x), mine.x.tobytes()
    right.success(vc.reads_as(mp.softmax, mp.label))
    chart(right, "mine", lambda: vc.image(mine.x, "Model input", height=340), pixels)
    right.caption(mine.note)
    chart(right, "mine_probs", lambda: vc.probabilities(mp.softmax.y_hat), cfg, pixels)
    for name, build in vc.feature_map_grids(mp.maps, "mine_maps", "your digit"):
        chart(st, name, build, cfg, pixels)


# ---------------------------------------------------------------- tab 4: mistakes
def mistakes(res: cnn.Result, data) -> None:
    st.subheader("Mistakes")
    st.markdown(vc.mistakes_note(res))
    left, right = st.columns([2, 3])
    chart(left, "confusion", lambda: vc.confusion(res.confusion), res.config)
    wrong = cnn.misclassified(res)
    if len(wrong):
        chart(right, "wrong", lambda: vc.mistakes_figure(res, data, wrong), res.config)
    else:
        right.success("No test image is misclassified.")


# ---------------------------------------------------------------- tab 5: under the hood
@fast.section
def hood(res: cnn.Result, batch: int) -> None:
    st.subheader("Under the hood: hand-written convolution and pooling vs torch")
    s = st.radio("Stride S of the check", [1, 2, 3], horizontal=True, key="hs")
    st.dataframe(vc.gaps_table(cnn.reference_gaps(res, stride=s)), hide_index=True)
    st.code(vc.hand_written_code(), language="python")
    st.caption(vc.training_note(res, batch))


tabs = lesson.tabs(TABS)  # each tab runs only while open
sections = [(step_by_step, data), (learned, data), (own_digit, data.X_test.shape[-1])]
sections += [(mistakes, data), (hood, min(batch, len(data.y_train)))]
for name, (section, arg) in zip(TABS, sections, strict=True):
    if tab := tabs.open(name):
        with tab:
            section(res, arg)
