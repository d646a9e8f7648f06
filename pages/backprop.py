"""Backpropagation: the chain rule with real numbers, gradient checks, vanishing gradients."""

import inspect

import numpy as np
import streamlit as st

from dl_core import backprop as bp
from dl_core import engine, notation
from dl_core.backprop import ACTIVATION_LABELS, DeepConfig, TinyConfig
from ui import fast, lesson, params
from viz import backprop as vb

LR_OPTIONS = params.log_options(-3, 1)  # 0.001 .. 10
SCALE_OPTIONS = params.log_options(-1, 2)  # 0.1 .. 100
EPS_OPTIONS = list(bp.EPS_SWEEP)  # 1e-12 .. 1e-1
EXAMPLE_NAMES = [
    f"x = ({x1:+g}, {x2:+g}), y = {y}" for (x1, x2), y in zip(bp.EXAMPLES_X, bp.EXAMPLES_Y)
]
TABS = ["Forward and backward with your numbers", "Gradient check", "Activations and losses",
        "Deep networks", "Under the hood"]  # fmt: skip


@st.cache_data(max_entries=32, show_spinner=False)
def tiny_run(cfg: TinyConfig, kink_eps: float | None) -> bp.Walkthrough:
    return bp.walkthrough(cfg, kink_eps)


@st.cache_data(max_entries=32, show_spinner=False)
def check(cfg: TinyConfig, eps: float, dtype: str, kink: bool) -> bp.GradCheck:
    return bp.grad_check(cfg, eps, dtype, kink)


@st.cache_data(max_entries=32, show_spinner="Sweeping ε …")
def sweep(cfg: TinyConfig, kink: bool) -> dict:
    return bp.eps_sweep(cfg, kink)


@st.cache_data(max_entries=32, show_spinner="Training the deep network …")
def deep_run(cfg: DeepConfig) -> bp.DeepResult:
    return bp.train(cfg)


def chart(where, name: str, key: tuple, build) -> None:
    where.plotly_chart(fast.figure((f"backprop.{name}", *key), build), key=f"fig_{name}")


@fast.section
def one_weight(wt: bp.Walkthrough, names: list[str]) -> None:
    """One weight's gradient as a product of three factors (its picker reruns only this)."""
    wname = st.selectbox("Weight", names, index=len(names) - 1, key="wsel")
    wl, wij = int(wname[1]), wname[3:-1].split(",")
    st.latex(vb.scalar_chain_latex(wt, wl, int(wij[0]) - 1, int(wij[1]) - 1))


def with_your_numbers(wt: bp.Walkthrough, cfg: TinyConfig) -> None:
    st.subheader("The chain rule with your numbers")
    st.markdown("**Forward pass**, layer by layer, then the loss:")
    for line in [*vb.forward_latex(wt), vb.loss_latex(wt)]:
        st.latex(line)
    st.markdown("**Backward pass**, from the loss down to the first layer:")
    for layer in reversed(range(1, len(wt.layers) + 1)):
        st.markdown(f"Layer {layer}{' (output)' if layer == len(wt.layers) else ''}")
        for line in vb.backward_latex(wt, layer):
            st.latex(line)
    st.markdown("**One weight, as a product of three local derivatives:**")
    one_weight(wt, [n for n in bp.tiny_params(cfg).names() if n.startswith("W")])
    st.markdown(f"**One gradient-descent step** with η = {cfg.lr:g} on this example:")
    for line in vb.update_latex(wt):
        st.latex(line)
    if wt.finite and wt.L_after > wt.L:
        st.warning("The loss went *up*: η is too large for this curvature, the step overshot.")


def gradient_check(cfg: TinyConfig, eps: float, prec: str, kink: bool, act: str) -> None:
    st.subheader("Gradient check: is the backward pass right?")
    lesson.toolkit_link("derivatives", "central differences and why their error falls like ε²")
    st.markdown(vb.CHECK_TEXT)
    st.latex(vb.REL_ERROR_FORMULA)
    gc = check(cfg, eps, prec, kink)
    table = vb.grad_check_table(gc)
    fmt = {c: st.column_config.NumberColumn(format="%.3e") for c in table.columns[1:6]}
    st.dataframe(table, hide_index=True, column_config=fmt)
    m1, m2 = st.columns(2)
    m1.metric("worst rel. error, backprop vs autograd", f"{gc.max_rel_autograd:.1e}")
    m2.metric("worst rel. error, backprop vs finite differences", f"{gc.max_rel_fd:.1e}")
    if (why := vb.check_explanation(gc, act)) is not None:
        st.warning(why, icon=":material/report:")
    chart(st, "sweep", (cfg, kink, eps, prec),
          lambda: vb.eps_sweep_figure(sweep(cfg, kink), eps, prec))  # fmt: skip
    st.caption(vb.sweep_caption(sweep(cfg, kink), kink, act))


def activations_and_losses(wt: bp.Walkthrough, view: tuple, act: str, loss: str) -> None:
    st.subheader("Activation functions and their derivatives")
    left, right = st.columns([3, 2])
    marks = np.concatenate([lay.a for lay in wt.layers[:-1]])
    chart(left, "act", view, lambda: vb.activation_figure(bp.activation_curve(act), act, marks))
    for line in bp.ACTIVATION_FORMULAS[act]:
        right.latex(line)
    right.markdown(vb.ACTIVATION_TEXT)
    st.subheader("Loss functions and their gradient with respect to the logits")
    out = wt.layers[-1]
    ls = bp.loss_step(loss, out.a, wt.y)
    st.latex(r"\qquad".join(bp.LOSS_FORMULAS[loss]))
    st.latex(vb.loss_step_latex(ls))
    left, right = st.columns([3, 2])
    title = f"Loss ({bp.LOSS_LABELS[loss]}) and its slope"
    chart(left, "loss", view, lambda: vb.loss_figure(*bp.loss_curve(loss, wt.y, out.a), ls, title))
    right.markdown(vb.LOSS_TEXT)
    right.caption(
        "Hand-written ∂L/∂a vs autograd through torch.nn's loss: max |difference| = "
        f"{np.abs(ls.delta - ls.delta_autograd).max():.1e}."
    )


def deep_networks(dcfg: DeepConfig, act: str) -> None:
    st.subheader("Vanishing and exploding gradients")
    st.markdown(vb.deep_text(dcfg))
    if (fit := bp.affordable_steps(dcfg)) < dcfg.steps:
        st.info(f"{dcfg.steps} steps of a network this large would take too long here: "
                f"training {fit} steps.")  # fmt: skip
        dcfg = DeepConfig(dcfg.depth, dcfg.width, act, dcfg.init, fit, dcfg.lr)
    res = deep_run(dcfg)
    if (diagnosis := bp.diagnose(res)) is not None:
        bad = res.diverged_at is not None
        (st.error if bad else st.info)(diagnosis, icon=":material/error:" if bad else ":material/lightbulb:")  # fmt: skip
    left, right = st.columns(2)
    for col, name, build in ((left, "norms", vb.grad_norm_figure), (left, "std", vb.act_std_figure),
                             (right, "train", vb.training_figure)):  # fmt: skip
        chart(col, name, (dcfg,), lambda build=build: build(res))
    right.markdown(vb.deep_summary(res))


def under_the_hood(cfg: TinyConfig, kink: bool, wt: bp.Walkthrough, loss: str) -> None:
    st.subheader("Under the hood: hand-written backprop vs torch.autograd")
    gc64 = check(cfg, 1e-6, "float64", kink)
    ls = bp.loss_step(loss, wt.layers[-1].a, wt.y)
    st.markdown(
        "Everything on this page is computed by `dl_core.backprop.forward` / `backward` (tensor "
        "ops, no autograd). The reference builds the same network from `torch.nn.Linear` and the "
        "activation module, and differentiates `torch.nn`'s loss with `torch.autograd`."
    )
    st.markdown(
        f"Max |hand − autograd|: **{np.abs(gc64.hand - gc64.autograd).max():.2e}** over every "
        f"∂L/∂θ (float64), **{np.abs(ls.delta - ls.delta_autograd).max():.2e}** for ∂L/∂a."
    )
    left, right = st.columns(2)
    left.code(inspect.getsource(bp.backward), language="python")
    right.code(inspect.getsource(bp.reference_gradients), language="python")
    st.code(inspect.getsource(bp.central_difference), language="python")
    st.caption("The engine's layer backward that `backward` calls (dl_core/engine.py, shared by every hand-trained page):")  # fmt: skip
    st.code(inspect.getsource(engine.delta) + inspect.getsource(engine.dense_backward), language="python")  # fmt: skip
    st.caption(f"Tiny network: {wt.seconds * 1000:.1f} ms on {wt.device.upper()} (float64).")


lesson.header(
    "Backpropagation",
    "A network is a chain of simple functions, so the **chain rule** gives the gradient of the "
    "loss with respect to every weight: multiply the local derivatives along the path. "
    "Backpropagation computes all of them in one **backward** walk that reuses each layer's error "
    "signal δ for the layer below, for about twice the cost of the forward pass.",
    vb.KEY_FORMULA,
    notation.caption("a", "h", "phi", "delta", "W", "L", "odot", a="pre-activation of layer l",
                     h="its activation (h⁽⁰⁾ = x)", delta="∂L/∂a⁽ˡ⁾",
                     W="weights (rows: units)", phi="the activation function"),
)  # fmt: skip

with st.sidebar:
    st.header("Tiny network")
    arch = params.select("Layers", "arch", list(bp.ARCHITECTURES), "2-2-1")
    act = params.select(
        "Activation φ", "act", bp.ACTIVATIONS, "sigmoid", format_func=ACTIVATION_LABELS.get
    )
    loss = params.select("Loss", "loss", bp.LOSSES, "bce", format_func=bp.LOSS_LABELS.get)
    ex = params.select("Training example (XOR)", "ex", EXAMPLE_NAMES, EXAMPLE_NAMES[0])
    seed = params.slider("Weight seed", "seed", 0, 20, 0)
    scale = params.log_slider("Initial weight scale", "scale", SCALE_OPTIONS, 1.0)
    lr = params.log_slider("Learning rate η (one step)", "lr", LR_OPTIONS, 0.5)
    st.header("Gradient check")
    eps = params.log_slider("ε (finite-difference step)", "eps", EPS_OPTIONS, 1e-6)
    prec = params.select("Precision", "prec", list(bp.DTYPES), "float64")
    kink = params.toggle("Put a hidden unit on its kink (a = ε/3)", "kink", False)
    st.header("Deep network")
    depth = params.slider("Depth (hidden layers)", "depth", 1, bp.MAX_DEPTH, 10)
    width = params.slider("Width (units per layer)", "width", 1, bp.MAX_WIDTH, 32)
    init = params.select("Initialisation", "init", bp.INITS, "xavier", format_func=bp.INIT_LABELS.get)  # fmt: skip
    steps = params.slider("Training steps", "steps", 0, bp.MAX_STEPS, 60)
    dlr = params.log_slider("Learning rate η (deep)", "dlr", LR_OPTIONS, 0.5)

VANISH = DeepConfig(depth=10, width=32, activation="sigmoid", init="small", steps=0)
presets = {  # name: (widget values, what to look for)
    "Sigmoid, depth 10, small init": (
        dict(act="sigmoid", depth=10, width=32, init="small", steps=60, **{lesson.TABS_KEY: TABS[3]}),
        vb.vanishing_note(VANISH, deep_run(VANISH)),
    ),
    "ReLU with He init": (
        dict(act="relu", depth=10, width=32, init="he", steps=60, dlr=0.1, **{lesson.TABS_KEY: TABS[3]}),
        "He's σ² = 2/n_in keeps each layer's factor about 1: the gradient norm stays level across layers.",
    ),
    "Zero init: symmetry": (
        dict(act="sigmoid", depth=3, width=8, init="zero", steps=100, **{lesson.TABS_KEY: TABS[3]}),
        "All units of a layer compute the same and get the same gradient: training never separates them.",
    ),
    "ReLU kink: poor check": (
        dict(act="relu", kink=True, eps=1e-6, prec="float64", **{lesson.TABS_KEY: TABS[1]}),
        "A hidden unit sits a third of ε from the kink: the central difference straddles it.",
    ),
}  # fmt: skip
lesson.try_this(presets)

cfg = TinyConfig(arch, act, loss, seed, scale, EXAMPLE_NAMES.index(ex), lr)
view = (cfg, eps if kink else None)  # everything the walkthrough (and its figures) depends on
wt = tiny_run(*view)
if not wt.finite:
    st.error(
        "This network produced NaN or inf (the numbers overflowed). Lower the weight scale or the "
        "learning rate; the plots show what could be computed.",
        icon=":material/error:",
    )
chart(st, "graph", view, lambda: vb.graph(wt))
st.caption(vb.graph_caption(wt))

tabs = lesson.tabs(TABS)
if tab := tabs.open(TABS[0]):
    with tab:
        with_your_numbers(wt, cfg)
if tab := tabs.open(TABS[1]):
    with tab:
        gradient_check(cfg, eps, prec, kink, act)
if tab := tabs.open(TABS[2]):
    with tab:
        activations_and_losses(wt, view, act, loss)
if tab := tabs.open(TABS[3]):
    with tab:
        deep_networks(DeepConfig(depth, width, act, init, steps, dlr), act)
if tab := tabs.open(TABS[4]):
    with tab:
        under_the_hood(cfg, kink, wt, loss)
