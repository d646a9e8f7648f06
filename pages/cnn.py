"""Convolutional networks: convolution with real numbers, a CNN that trains in about a second.

First screen: the idea, the convolution sum, "Try this" and the trained CNN's curves. The
rest is in tabs, each drawn only while open. The sidebar retrains; every other widget only
changes a view: the sections with widgets are fragments (``fast.section``) and every figure
is built once per result and view (``fast.figure``)."""

import inspect
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from dl_core import cnn, images, mnist, notation
from dl_core.cnn import CNNConfig
from dl_core.training import ResultCache
from ui import fast, lesson, params
from ui.live import train_live
from viz import cnn as vc
from viz.latex import plain

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
BATCHES = [16, 32, 64, 128, 256, 512, 1024, 2048]
LIVE_AFTER_S = 1.0  # show a progress bar and live curves once training has run this long
MAX_RESULTS = 32
TABS = ["Convolution step by step", "What the network learned", "Test it: your digit", "Mistakes", "Under the hood"]  # fmt: skip
SAMPLE = vc.canvas_drawing(images.SAMPLE_SEVEN_STROKE, images.STROKE_WIDTH)


@st.cache_resource
def store() -> ResultCache:
    """Trained models by config, shared by every session (identical settings train once).
    Not st.cache_data: a cache miss draws live progress, which cache_data cannot replay.
    Results are frozen with read-only arrays, so sharing them is safe."""
    return ResultCache(max_entries=MAX_RESULTS)


def trained(cfg: CNNConfig) -> cnn.Result:
    """Cached result, or train now; runs past LIVE_AFTER_S show progress and live curves."""
    label = cfg.arch.upper()

    def view(epoch: int, epochs: int, hist: cnn.History):
        return epoch / epochs, f"Training {label}: epoch {epoch}/{epochs}", vc.curves(hist, "Training (live)")  # fmt: skip

    return train_live(store(), cfg, cnn.train, label, view, after_s=LIVE_AFTER_S)


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
    filters = params.slider("Filters in layer 1 (doubling per layer)", "filters", 1, 32, 16)
    kernel = int(params.select("Kernel size n_K", "k", ["1", "3", "5", "7"], "3"))
    pool = params.select("Pooling after each conv", "pool", cnn.POOLS, "max")
    dropout = params.slider("Dropout p before the last layer", "dropout", 0.0, 0.8, 0.0, 0.05)
    dropout_box = st.empty()  # what dropout does, with this net's numbers (filled below)
    optimizer = params.select("Optimizer", "opt", cnn.OPTIMIZERS, "adam", format_func=lambda o: {"adam": "Adam", "sgd": "SGD"}[o])  # fmt: skip
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.01)
    batch = int(params.log_slider("Batch size", "bs", BATCHES, 256))
    epochs = params.slider("Epochs", "epochs", 1, 100, 30)
    ds = params.select("Dataset", "ds", ["digits"] + ["mnist"] * mnist.available(), "digits")
    train_size = params.slider("MNIST training images", "ntrain", 1000, 60000, 10000, 1000) if ds == "mnist" else 0  # fmt: skip
    seed = params.slider("Seed", "seed", 0, 99, 0)
if epochs > (cap := cnn.max_epochs(ds, batch, train_size)):
    st.sidebar.caption(f"Capped at {cap} epochs ({cnn.MAX_STEPS:,} steps) for these settings.")
    epochs = cap
cfg = CNNConfig(ds, layers, filters, kernel, pool, dropout, optimizer, lr, epochs, batch, train_size, seed=seed)  # fmt: skip
dropout_box.caption(vc.dropout_note(cfg))

# ---------------------------------------------------------------- first screen
lesson.header(
    "Convolutional networks",
    vc.IDEA,
    vc.FORMULA,
    notation.caption("x", "K", "b", "a", "conv_rc", "conv_uv", "stride", "padding", "dilation", "conv_sizes",
                     x="the input image (0 in the padding)", K="the kernel", b="its bias", a="layer 1's feature map (before the ReLU)",
                     conv_rc="an output's row and column", conv_uv="a kernel's row and column", stride="stride", padding="zero padding",
                     dilation="dilation", conv_sizes="input, kernel and output sizes (pixels a side)"),
)  # fmt: skip
lesson.try_this(vc.presets(ds))
res = trained(cfg)  # a long run draws its live curves here
data = cnn.dataset(ds, train_size)
if (warning := cnn.diagnose(res)) is not None:
    st.warning(warning, icon=":material/warning:")
st.markdown(vc.key_numbers(res))
chart(st, "curves", lambda: vc.curves(res.history), cfg)


# ---------------------------------------------------------------- tab 1: convolution step by step
@fast.section
def step_by_step(res: cnn.Result, data) -> None:
    """One convolution of a test image with your numbers, the flip, then pooling."""
    cfg = res.config
    st.subheader("One convolution, with your numbers")
    c1, c2, c3 = st.columns(3)
    clamp_state("img", len(data.y_test) - 1)
    idx = c1.slider("Test image", 0, len(data.y_test) - 1, 0, key="img")
    x = data.X_test[idx, 0].numpy()
    learned = [f"learned kernel {c + 1}" for c in range(cfg.channels[0])]
    if st.session_state.get("kern") not in (*cnn.KERNELS, *learned):
        st.session_state.pop("kern", None)
    with c1:
        kern = params.select("Kernel K", "kern", [*cnn.KERNELS, *learned], "edge (vertical)")
    s = c2.slider("Stride S", 1, 3, 1, key="cs")
    p = c2.slider("Padding P", 0, 2, 1, key="cp")
    d = c2.slider("Dilation d", 1, 3, 1, key="cd")
    if kern in learned:
        c = learned.index(kern)
        K, b = cnn.first_layer_filters(res)[c], float(res.state["convs.0.bias"][c])
    else:
        K, b = cnn.kernel_preset(kern), 0.0
    n, nK = x.shape[0], len(K)
    n_out = cnn.output_size(n, nK, s, p, d)
    if n_out < 1:
        st.warning(f"A {nK}×{nK} kernel with dilation {d} spans {d * (nK - 1) + 1} pixels: it does not fit in {n}+2·{p} pixels.")  # fmt: skip
        return
    clamp_state("ci", n_out - 1), clamp_state("cj", n_out - 1)
    r = c3.slider("Output row r", 0, n_out - 1, min(2, n_out - 1), key="ci") if n_out > 1 else 0
    c = c3.slider("Output column c", 0, n_out - 1, min(3, n_out - 1), key="cj") if n_out > 1 else 0
    w = cnn.conv_walkthrough(x, K, b, r, c, s, p, d)
    view = (cfg if kern in learned else (cfg.dataset, cfg.train_size), idx, kern, s, p, d, r, c)
    chart(st, "conv", lambda: vc.conv_figure(w), *view)
    st.latex(vc.conv_sum_latex(w))
    st.latex(vc.output_size_latex(n, nK, s, p, d, n_out))
    st.caption(f"The {vc.BOX_NAME} squares mark the {nK}×{nK} pixels under the kernel for output ({w.r}, {w.c}); the dotted {vc.PAD_NAME} box is the original image inside its padding. {vc.POSITIVE_NAME.capitalize()} is positive, {vc.NEGATIVE_NAME} negative, white 0.")  # fmt: skip
    st.subheader("Convolution or cross-correlation?")
    st.markdown(vc.XCORR)
    f = cnn.flip_walkthrough(x, K, p, r, c)
    st.latex(vc.IDENTITY)
    st.latex(vc.flip_latex(K, f.r, f.c, f.xcorr, f.conv))
    st.caption(f"Numbers at ({f.r}, {f.c}) of this image padded by P = {p}, at stride 1 without dilation. For the vertical edge kernel flip(K) = −K: a textbook convolution would draw its map with {vc.POSITIVE_NAME} and {vc.NEGATIVE_NAME} swapped.")  # fmt: skip
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
    m = st.columns(4)
    m[0].metric("Test accuracy", vc.pct(res.test_acc))
    m[1].metric("Test error", vc.pct(1 - res.test_acc))
    m[2].metric("Parameters", f"{res.n_params:,}")
    m[3].metric("Training time", f"{plain(res.seconds, vc.DIGITS)} s", help=f"{res.steps} steps on {res.device.upper()}" + (" (one CUDA graph)" if res.cuda_graph else ""))  # fmt: skip
    st.caption("Architecture: " + cnn.describe(cfg))
    chart(st, "filters", lambda: vc.filters(cnn.first_layer_filters(res)), cfg)
    test_image(res, data)
    st.subheader("CNN vs an MLP with the same budget")
    mres = trained(replace(cfg, arch="mlp"))
    st.markdown(f"An MLP with one hidden layer of {cnn.mlp_hidden(cfg)} units has about as many parameters, trained with the same optimizer and epochs. It sees the pixels as an unordered list: it cannot reuse one detector at every position.")  # fmt: skip
    budget = ["CNN", "MLP"], [res.n_params, mres.n_params], [res.test_acc, mres.test_acc]
    chart(st, "vs", lambda: vc.budget_bars(*budget), cfg)


@fast.section
def test_image(res: cnn.Result, data) -> None:
    """The trained CNN on one test image: the softmax with its numbers, feature maps."""
    cfg = res.config
    clamp_state("img_net", len(data.y_test) - 1)
    idx = st.slider("Test image through the network", 0, len(data.y_test) - 1, 0, key="img_net")
    x, true = data.X_test[idx, 0].numpy(), int(data.y_test[idx])
    pred = cnn.predict(res, x)
    st.markdown(f"**Test image {idx}** (true digit {true}): predicted **{pred.label}**. The softmax turns the ten logits a (the last layer's pre-activation) into probabilities ŷ:")  # fmt: skip
    for tex in (vc.logits_latex, vc.softmax_sum_latex):
        st.latex(tex(pred.softmax))
    st.latex(vc.softmax_latex(pred.softmax, pred.label))
    f1, f2 = st.columns([2, 3])
    chart(f1, "input", lambda: vc.image(x, f"Test image {idx}", height=300), cfg.dataset, cfg.train_size, idx)  # fmt: skip
    chart(f2, "probs", lambda: vc.probabilities(pred.softmax.y_hat, true), cfg, idx)
    for layer, maps in enumerate(pred.maps, start=1):
        title = f"Feature maps h of layer {layer} for test image {idx} (after ReLU)"
        chart(st, f"maps{layer}", lambda m=maps, t=title: vc.grid_of_maps(m, t, colorbar="h"), cfg, idx)  # fmt: skip


# ---------------------------------------------------------------- tab 3: your own digit
@fast.section
def own_digit(res: cnn.Result, n: int) -> None:
    """Draw or upload a digit (an n×n model input): how the CNN reads it, its feature maps."""
    cfg = res.config
    st.subheader("Test it: your digit")
    left, right = st.columns(2)
    draw, upload = left.tabs(["Draw", "Upload an image"])
    with draw:
        st.caption("Draw a digit with the mouse, below the canvas's toolbar (undo, redo, back to the start). It is cropped, centred and shrunk to the model's input.")  # fmt: skip
        st.space("small")  # room for the toolbar on the canvas's top edge
        blank = st.session_state.get("canvas_v", 0) % 2  # every press of the button below
        side, start = images.CANVAS_SIDE, None if blank else SAMPLE
        canvas = st_canvas(stroke_width=images.STROKE_WIDTH, stroke_color="#000000", background_color="#ffffff", height=side, width=side, initial_drawing=start, return_image_data=True, key=f"canvas{st.session_state.get('canvas_v', 0)}")  # fmt: skip
        st.button("Start from the sample seven" if blank else "Clear the canvas", on_click=lambda: st.session_state.update(canvas_v=st.session_state.get("canvas_v", 0) + 1))  # fmt: skip
    with upload:
        file = st.file_uploader("A picture of one digit (PNG, JPEG, ...)", key="upload")
        st.caption("Dark on light or light on dark, a photo or a transparent PNG; at most 10 MB.")
    try:
        if file is not None:
            mine = images.from_upload(file.getvalue(), n)
        elif (rgba := canvas.image_data) is not None:
            mine = images.from_canvas(rgba, n)
        elif not blank:  # nothing drawn yet: the sample the canvas starts with
            mine = images.sample_seven(n)
        else:
            raise ValueError(
                "Draw a digit on the canvas with the mouse, or upload a picture of one."
            )
    except ValueError as e:
        right.info(str(e), icon=":material/info:")
        return
    mp, pixels = cnn.predict(res, mine.x), mine.x.tobytes()
    right.success(f"The CNN reads your digit as **{mp.label}** (ŷ = {plain(mp.softmax.y_hat[mp.label], vc.DIGITS)}).")  # fmt: skip
    chart(right, "mine", lambda: vc.image(mine.x, "Model input", height=340), pixels)
    right.caption(mine.note)
    chart(right, "mine_probs", lambda: vc.probabilities(mp.softmax.y_hat), cfg, pixels)
    for layer, maps in enumerate(mp.maps, start=1):
        title = f"Your digit: feature maps h of layer {layer}"
        chart(st, f"mine_maps{layer}", lambda m=maps, t=title: vc.grid_of_maps(m, t, colorbar="h"), cfg, pixels)  # fmt: skip


# ---------------------------------------------------------------- tab 4: mistakes
def mistakes(res: cnn.Result, data) -> None:
    st.subheader("Mistakes")
    st.markdown(f"{vc.pct(1 - res.test_acc)} of the test images are read wrong. The confusion matrix counts, for each true digit (row), what the CNN predicted (column): everything off the diagonal is a mistake.")  # fmt: skip
    left, right = st.columns([2, 3])
    chart(left, "confusion", lambda: vc.confusion(res.confusion), res.config)
    wrong = cnn.misclassified(res)
    if len(wrong):
        labels = [f"#{k}: {int(data.y_test[k])}→{int(res.test_pred[k])}" for k in wrong]
        chart(right, "wrong", lambda: vc.misclassified(data.X_test[wrong, 0].numpy(), labels), res.config)  # fmt: skip
    else:
        right.success("No test image is misclassified.")


# ---------------------------------------------------------------- tab 5: under the hood
@fast.section
def hood(res: cnn.Result, batch: int, n_train: int) -> None:
    st.subheader("Under the hood: hand-written convolution and pooling vs torch")
    s = st.radio("Stride S of the check", [1, 2, 3], horizontal=True, key="hs")
    gaps = pd.DataFrame(cnn.reference_gaps(res, stride=s))
    st.dataframe(gaps.style.format({"max |difference|": "{:.2e}"}), hide_index=True)
    code = (cnn.patches, cnn.conv2d, cnn.max_pool2d, cnn.convolve2d)
    st.code("\n\n".join(inspect.getsource(f) for f in code), language="python")
    graph = ", each replayed as one CUDA graph" if res.cuda_graph else ""
    st.caption(f"Trained on {res.device.upper()} in {plain(res.seconds, vc.DIGITS)} s: {res.steps} steps of {min(batch, n_train)} images{graph}.")  # fmt: skip


tabs = lesson.tabs(TABS)
if tab := tabs.open(TABS[0]):
    with tab:
        step_by_step(res, data)
if tab := tabs.open(TABS[1]):
    with tab:
        learned(res, data)
if tab := tabs.open(TABS[2]):
    with tab:
        own_digit(res, data.X_test.shape[-1])
if tab := tabs.open(TABS[3]):
    with tab:
        mistakes(res, data)
if tab := tabs.open(TABS[4]):
    with tab:
        hood(res, batch, len(data.y_train))
