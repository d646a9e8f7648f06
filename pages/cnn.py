"""Convolutional networks: convolution with real numbers, a CNN that trains in about a second.

The sidebar retrains; every other widget only changes a view. The convolution walkthrough
and your own digit are fragments (``fast.section``): their widgets rerun their section, not
the page. Every figure is built once per result and view (``fast.figure``)."""

import inspect
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from dl_core import cnn, images, mnist
from dl_core.cnn import CNNConfig
from dl_core.training import ResultCache
from ui import fast, params
from ui.live import train_live
from viz import cnn as vc

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
BATCHES = [16, 32, 64, 128, 256, 512, 1024, 2048]
LIVE_AFTER_S = 1.0  # show a progress bar and live curves once training has run this long
MAX_RESULTS = 32


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
        return (
            epoch / epochs,
            f"Training {label}: epoch {epoch}/{epochs}",
            vc.curves(hist, "Training (live)"),
        )

    return train_live(store(), cfg, cnn.train, label, view, after_s=LIVE_AFTER_S)


def clamp_state(key: str, hi: int) -> None:
    if key in st.session_state and st.session_state[key] > hi:
        st.session_state[key] = hi


def chart(where, name: str, build, *view) -> None:
    """Figure ``name`` (element key fig_<name>), built once per ``view``: what it shows."""
    where.plotly_chart(fast.figure((f"cnn.{name}", *view), build), key=f"fig_{name}")


st.title("Convolutional networks")
st.markdown(
    "An image is a grid of numbers. A **convolution** slides a small grid of weights, the "
    "kernel, over it and writes one weighted sum per position: the result is a *feature map* "
    "that is large where the image looks like the kernel (an edge, a stroke, a corner). A CNN "
    "learns its kernels, stacks a few such layers with pooling in between, and ends in a "
    "linear layer and a softmax over the ten digits."
)
st.latex(
    r"z_{i,j} = \sum_{u=0}^{k-1}\sum_{v=0}^{k-1} K_{u,v}\; x_{i s + u d - p,\; j s + v d - p} + b"
    r"\qquad n_{\text{out}} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
)
st.caption(
    "x: the input image (n×n pixels); K: the k×k kernel; b: its bias; z: the output feature "
    "map; (i, j): an output position; s: stride (step between positions); p: zero padding "
    "around the image; d: dilation (gap between kernel taps); n_out: the output size."
)

# ---------------------------------------------------------------- settings
with st.sidebar:
    st.header("CNN settings")
    ds = params.select("Dataset", "ds", ["digits"] + ["mnist"] * mnist.available(), "digits")
    train_size = (
        params.slider("MNIST training images", "ntrain", 1000, 60000, 10000, 1000)
        if ds == "mnist"
        else 0
    )
    layers = params.slider("Conv layers", "layers", 1, cnn.MAX_LAYERS, 2)
    filters = params.slider("Filters in layer 1 (doubling per layer)", "filters", 1, 32, 16)
    kernel = int(params.select("Kernel size k", "k", ["1", "3", "5", "7"], "3"))
    pool = params.select("Pooling after each conv", "pool", cnn.POOLS, "max")
    dropout = params.slider("Dropout before the last layer", "dropout", 0.0, 0.8, 0.0, 0.05)
    optimizer = params.select(
        "Optimizer", "opt", cnn.OPTIMIZERS, "adam", format_func=str.capitalize
    )
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.01)
    batch = int(params.log_slider("Batch size", "bs", BATCHES, 256))
    epochs = params.slider("Epochs", "epochs", 1, 100, 30)
    seed = params.slider("Seed", "seed", 0, 99, 0)
if epochs > (cap := cnn.max_epochs(ds, batch, train_size)):
    st.sidebar.caption(f"Capped at {cap} epochs ({cnn.MAX_STEPS:,} steps) for these settings.")
    epochs = cap

cfg = CNNConfig(ds, layers, filters, kernel, pool, dropout, optimizer, lr, epochs, batch, train_size, seed=seed)  # fmt: skip
res = trained(cfg)
data = cnn.dataset(ds, train_size)
if (lesson := cnn.diagnose(res)) is not None:
    st.warning(lesson, icon=":material/warning:")


# ---------------------------------------------------------------- convolution, with your numbers
@fast.section
def walkthrough(res: cnn.Result, data, test_box, gaps_box) -> None:
    """The test image of the walkthrough below it and of ``test_box`` further down (what the
    whole CNN makes of that image): its slider reruns these, and nothing else."""
    c1, c2, c3 = st.columns(3)
    clamp_state("img", len(data.y_test) - 1)
    idx = c1.slider("Test image", 0, len(data.y_test) - 1, 0, key="img")
    x = data.X_test[idx, 0].numpy()
    with test_box:
        test_image(res, data, idx, x)
    convolution(res, idx, x, (c1, c2, c3), gaps_box)


@fast.section
def convolution(res: cnn.Result, idx: int, x: np.ndarray, cols: tuple, gaps_box) -> None:
    """One convolution of test image ``idx`` with your numbers, then pooling; its widgets
    (in the walkthrough's ``cols``) also redraw the reference check at this stride
    (``gaps_box``, None while closed), and nothing else."""
    cfg, (c1, c2, c3) = res.config, cols
    learned = [f"learned filter {c + 1}" for c in range(cfg.channels[0])]
    if st.session_state.get("kern") not in (*cnn.KERNELS, *learned):
        st.session_state.pop("kern", None)
    with c1:
        kern = params.select("Kernel", "kern", [*cnn.KERNELS, *learned], "edge (vertical)")
    s = c2.slider("Stride s", 1, 3, 1, key="cs")
    p = c2.slider("Padding p", 0, 2, 1, key="cp")
    d = c2.slider("Dilation d", 1, 3, 1, key="cd")
    if gaps_box is not None:
        gaps = pd.DataFrame(cnn.reference_gaps(res, stride=s))
        gaps_box.dataframe(gaps.style.format({"max |difference|": "{:.2e}"}), hide_index=True)
    if kern in learned:
        c = learned.index(kern)
        K, b = cnn.first_layer_filters(res)[c], float(res.state["convs.0.bias"][c])
    else:
        K, b = cnn.kernel_preset(kern), 0.0
    n = x.shape[0]
    n_out = cnn.output_size(n, len(K), s, p, d)
    if n_out < 1:
        st.warning(
            f"A {len(K)}×{len(K)} kernel with dilation {d} spans {d * (len(K) - 1) + 1} pixels: it does not fit in {n}+2·{p} pixels."
        )
        return
    clamp_state("ci", n_out - 1), clamp_state("cj", n_out - 1)
    i = c3.slider("Output row i", 0, n_out - 1, min(2, n_out - 1), key="ci") if n_out > 1 else 0
    j = c3.slider("Output column j", 0, n_out - 1, min(3, n_out - 1), key="cj") if n_out > 1 else 0
    w = cnn.conv_walkthrough(x, K, b, i, j, s, p, d)
    view = (cfg if kern in learned else (cfg.dataset, cfg.train_size), idx, kern, s, p, d, i, j)
    chart(st, "conv", lambda: vc.conv_figure(w), *view)
    st.latex(vc.conv_sum_latex(w))
    st.latex(vc.output_size_latex(n, len(K), s, p, d, n_out))
    st.caption(
        f"The red squares mark the {len(K)}×{len(K)} pixels under the kernel for output ({w.i}, {w.j}); the dotted box is the original image inside its padding."
    )
    pooling(np.maximum(w.z, 0), w.i, w.j, view)  # ReLU of the feature map above


@fast.section
def pooling(fmap: np.ndarray, i: int, j: int, view: tuple) -> None:
    """Pooling of the walkthrough's feature map ``fmap`` around its output (i, j)."""
    st.subheader("Pooling, with your numbers")
    st.markdown(
        "After the ReLU, pooling shrinks each feature map: every k×k window becomes its **maximum** (max pooling, keeps the strongest response) or its **mean** (average pooling)."
    )
    q1, q2 = st.columns([1, 3])
    kind = q1.radio("Pooling", ["max", "avg"], horizontal=True, key="pk")
    pk = q1.slider("Window k", 1, 3, 2, key="pw")
    if fmap.shape[0] >= pk:
        pw = cnn.pool_walkthrough(fmap, kind, pk, pk, i // pk, j // pk)
        chart(q2, "pool", lambda: vc.pool_figure(pw), *view, kind, pk)
        st.latex(vc.pool_latex(pw))
        st.latex(vc.output_size_latex(fmap.shape[0], pk, pk, 0, 1, pw.n_out[0]))


def test_image(res: cnn.Result, data, idx: int, x: np.ndarray) -> None:
    """The trained CNN on test image ``idx``: the softmax with its numbers, feature maps."""
    cfg, pred, true = res.config, cnn.predict(res, x), int(data.y_test[idx])
    st.markdown(
        f"**Test image {idx}** (true digit {true}): predicted **{pred.label}**. The softmax turns the ten logits into probabilities:"
    )
    for tex in (vc.logits_latex, vc.softmax_sum_latex):
        st.latex(tex(pred.softmax))
    st.latex(vc.softmax_latex(pred.softmax, pred.label))
    f1, f2 = st.columns([2, 3])
    chart(f1, "probs", lambda: vc.probabilities(pred.softmax.p, true), cfg, idx)
    chart(f2, "filters", lambda: vc.filters(cnn.first_layer_filters(res)), cfg)
    for layer, maps in enumerate(pred.maps, start=1):
        title = f"Feature maps of layer {layer} for test image {idx} (after ReLU)"
        chart(st, f"maps{layer}", lambda m=maps, t=title: vc.grid_of_maps(m, t), cfg, idx)


st.subheader("One convolution, with your numbers")
conv_box = st.container()  # drawn last, by walkthrough(): the places it also fills come first

# ---------------------------------------------------------------- the trained CNN
st.subheader("Your trained CNN")
m = st.columns(4)
m[0].metric("Test accuracy", f"{res.test_acc:.1%}")
m[1].metric("Parameters", f"{res.n_params:,}")
m[2].metric("Training time", f"{res.seconds:.2f} s", help=f"{res.steps} steps")
m[3].metric("Device", res.device.upper() + (" + CUDA graph" if res.cuda_graph else ""))
st.caption("Architecture: " + cnn.describe(cfg))
left, right = st.columns([3, 2])
chart(left, "curves", lambda: vc.curves(res.history), cfg)
chart(right, "confusion", lambda: vc.confusion(res.confusion), cfg)
test_box = st.container()  # the walkthrough's test image through the whole CNN
wrong = cnn.misclassified(res)
if len(wrong):
    labels = [f"#{k}: {int(data.y_test[k])}→{int(res.test_pred[k])}" for k in wrong]
    chart(st, "wrong", lambda: vc.misclassified(data.X_test[wrong, 0].numpy(), labels), cfg)

st.subheader("CNN vs an MLP with the same budget")
mres = trained(replace(cfg, arch="mlp"))
st.markdown(
    f"An MLP with one hidden layer of {cnn.mlp_hidden(cfg)} units has about as many parameters, trained with the same optimizer and epochs. It sees the pixels as an unordered list: it cannot reuse one detector at every position."
)
budget = ["CNN", "MLP"], [res.n_params, mres.n_params], [res.test_acc, mres.test_acc]
chart(st, "vs", lambda: vc.params_bars(*budget), cfg)


# ---------------------------------------------------------------- your own digit
@fast.section
def own_digit(res: cnn.Result, n: int) -> None:
    """Draw or upload a digit (an n×n model input): how the CNN reads it, its feature maps."""
    cfg = res.config
    left, right = st.columns(2)
    draw, upload = left.tabs(["Draw", "Upload an image"])
    with draw:
        st.caption(
            "Tick cells to draw a digit (16×16); it is cropped, centred and shrunk to the model's input."
        )
        grid = pd.DataFrame(images.SAMPLE_SEVEN, columns=[str(c) for c in range(16)])
        cells = {c: st.column_config.CheckboxColumn(c, width=20) for c in grid.columns}
        drawn = st.data_editor(
            grid, key="grid", hide_index=True, height=16 * 35 + 40, column_config=cells
        )
    with upload:
        file = st.file_uploader("A picture of one digit (PNG, JPEG, ...)", key="upload")
        st.caption("Dark on light or light on dark, a photo or a transparent PNG; at most 5 MB.")
    try:
        if file is not None:
            mine = images.from_upload(file.getvalue(), n)
        else:
            mine = images.from_grid(drawn.to_numpy(dtype=float), n)
    except ValueError as e:
        right.info(str(e), icon=":material/info:")
        return
    mp, pixels = cnn.predict(res, mine.x), mine.x.tobytes()
    right.success(f"The CNN reads your digit as **{mp.label}** (p = {mp.softmax.p[mp.label]:.2f}).")
    chart(right, "mine", lambda: vc.image(mine.x, "Model input", height=340), pixels)
    right.caption(mine.note)
    chart(right, "mine_probs", lambda: vc.probabilities(mp.softmax.p), cfg, pixels)
    for layer, maps in enumerate(mp.maps, start=1):
        title = f"Your digit: feature maps of layer {layer}"
        chart(st, f"mine_maps{layer}", lambda m=maps, t=title: vc.grid_of_maps(m, t), cfg, pixels)


st.subheader("Your own digit")
own_digit(res, data.X_test.shape[-1])

# ---------------------------------------------------------------- try this
presets = {
    "One filter only": (dict(layers=1, filters=1, pool="max", lr=0.01, opt="adam"), "A single 3×3 detector: how far does one feature get you?"),
    "No pooling": (dict(pool="none", layers=1, filters=16), "One conv layer, every position kept: 16× more weights in the last layer and no tolerance to small shifts."),
    "Learning rate far too large": (dict(lr=5.0, opt="adam", layers=2, filters=16), "η = 5: the first updates throw the weights so far that the loss explodes."),
}  # fmt: skip
params.try_this(presets)

# ---------------------------------------------------------------- under the hood
hood = st.expander(
    "Under the hood: hand-written convolution and pooling vs torch", icon=":material/code:",
    key="hood", on_change="rerun",
)  # fmt: skip
gaps_box = None  # the differences at the walkthrough's stride: drawn by convolution()
if hood.open:  # drawn only while open
    with hood:
        gaps_box = st.container()
        code = (cnn.patches, cnn.conv2d, cnn.max_pool2d)
        st.code("\n\n".join(inspect.getsource(f) for f in code), language="python")
        graph = ", each replayed as one CUDA graph" if res.cuda_graph else ""
        st.caption(
            f"Trained on {res.device} in {res.seconds:.2f} s: {res.steps} steps of {min(batch, len(data.y_train))} images{graph}."
        )

with conv_box:
    walkthrough(res, data, test_box, gaps_box)
