"""Backpropagation: the chain rule with real numbers, gradient checks, vanishing gradients."""

import inspect

import numpy as np
import streamlit as st

from dl_core import backprop as bp
from dl_core.backprop import ACTIVATION_LABELS, DeepConfig, TinyConfig
from ui import fast, params
from viz import backprop as vb

LR_OPTIONS = params.log_options(-3, 1)  # 0.001 .. 10
SCALE_OPTIONS = params.log_options(-1, 2)  # 0.1 .. 100
EPS_OPTIONS = list(bp.EPS_SWEEP)  # 1e-12 .. 1e-1
EXAMPLE_NAMES = [
    f"x = ({x1:+g}, {x2:+g}), y = {y}" for (x1, x2), y in zip(bp.EXAMPLES_X, bp.EXAMPLES_Y)
]


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


@fast.section
def one_weight(wt: bp.Walkthrough, names: list[str]) -> None:
    """One weight's gradient as a product of three factors (its picker reruns only this)."""
    wname = st.selectbox("Weight", names, index=len(names) - 1, key="wsel")
    wl, wij = int(wname[1]), wname[3:-1].split(",")
    st.latex(vb.scalar_chain_latex(wt, wl, int(wij[0]) - 1, int(wij[1]) - 1))


@fast.section
def deep_section(act: str) -> None:
    """The deep network: its five controls rerun only this section."""
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        depth = params.slider("Depth (hidden layers)", "depth", 1, bp.MAX_DEPTH, 10)
    with c2:
        width = params.slider("Width (units per layer)", "width", 1, bp.MAX_WIDTH, 32)
    with c3:
        init = params.select(
            "Initialisation", "init", bp.INITS, "xavier", format_func=bp.INIT_LABELS.get
        )
    with c4:
        steps = params.slider("Training steps", "steps", 0, bp.MAX_STEPS, 60)
    with c5:
        dlr = params.log_slider("Learning rate η", "dlr", LR_OPTIONS, 0.5)
    dcfg = DeepConfig(depth, width, act, init, steps, dlr)
    if (fit := bp.affordable_steps(dcfg)) < steps:
        st.info(
            f"{steps} steps of a network this large would take too long here: training {fit} steps."
        )
        dcfg = DeepConfig(depth, width, act, init, fit, dlr)
    res = deep_run(dcfg)
    if (lesson := bp.diagnose(res)) is not None:
        icon = ":material/error:" if res.diverged_at is not None else ":material/lightbulb:"
        (st.error if res.diverged_at is not None else st.info)(lesson, icon=icon)
    left, right = st.columns(2)
    charts = ((left, "norms", vb.grad_norm_figure), (left, "std", vb.act_std_figure),
              (right, "train", vb.training_figure))  # fmt: skip
    for col, name, build in charts:
        fig = fast.figure((f"backprop.{name}", dcfg), lambda build=build: build(res))
        col.plotly_chart(fig, key=f"fig_{name}")
    spread = "are identical" if res.spread.max() == 0 else f"differ by up to {res.spread.max():.3g}"
    right.markdown(
        f"After training, the units of each hidden layer **{spread}** (max |wᵢ − w₁| over rows "
        f"of W). Final accuracy {res.accuracy[-1]:.0%}, {res.seconds * 1000:.0f} ms on {res.device}."
    )


@fast.section  # opening the expander reruns only this section; its work runs only when open
def under_the_hood(cfg: TinyConfig, kink: bool, wt: bp.Walkthrough, ls: bp.LossStep) -> None:
    box = st.expander("Under the hood: hand-written backprop vs torch.autograd",
                      icon=":material/code:", key="bp_hood", on_change="rerun")  # fmt: skip
    if not box.open:
        return
    with box:
        gc64 = check(cfg, 1e-6, "float64", kink)
        st.markdown(
            "Everything above is computed by `dl_core.backprop.forward` / `backward` (tensor ops, "
            "no autograd). The reference builds the same network from `torch.nn.Linear` and the "
            "activation module, and differentiates `torch.nn`'s loss with `torch.autograd`."
        )
        st.markdown(
            f"Max |hand − autograd|: **{np.abs(gc64.hand - gc64.autograd).max():.2e}** over every "
            f"∂L/∂θ (float64), **{np.abs(ls.dL_dz - ls.dL_dz_autograd).max():.2e}** for ∂L/∂z."
        )
        left, right = st.columns(2)
        left.code(inspect.getsource(bp.backward), language="python")
        right.code(inspect.getsource(bp.reference_gradients), language="python")
        st.code(inspect.getsource(bp.central_difference), language="python")
        st.caption(f"Tiny network: {wt.seconds * 1000:.1f} ms on {wt.device} (float64).")


st.title("Backpropagation")
st.markdown(
    "A network is a chain of simple functions, so its loss is a function of a function of a "
    "function. The **chain rule** says how a small change of any weight ripples through to the "
    "loss: multiply the local derivatives along the path. Backpropagation computes all those "
    "products at once by walking the network **backwards**, reusing each layer's result for "
    "the layer below, so all gradients cost about as much as one forward pass."
)
st.latex(
    r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)},\quad a^{(l)} = f(z^{(l)})"
    r"\qquad\Longrightarrow\qquad"
    r"\frac{\partial L}{\partial z^{(l)}} = \Big(W^{(l+1)\top} \frac{\partial L}{\partial z^{(l+1)}}\Big)"
    r"\odot f'(z^{(l)}),\quad \frac{\partial L}{\partial W^{(l)}} = \frac{\partial L}{\partial z^{(l)}}\, a^{(l-1)\top}"
)
st.caption(
    "x = a⁽⁰⁾: the input; W⁽ˡ⁾, b⁽ˡ⁾: weights and biases of layer l; z⁽ˡ⁾: pre-activation; "
    "f: the activation function, f′ its derivative; a⁽ˡ⁾: the layer's output; L: the loss; "
    "⊙: element-wise product; the last layer is linear (its z are the logits)."
)

# ---------------------------------------------------------------- controls of the tiny network
with st.sidebar:
    st.header("Tiny network")
    arch = params.select("Layers", "arch", list(bp.ARCHITECTURES), "2-2-1")
    act = params.select(
        "Activation f", "act", bp.ACTIVATIONS, "sigmoid", format_func=ACTIVATION_LABELS.get
    )
    loss = params.select("Loss", "loss", bp.LOSSES, "bce", format_func=bp.LOSS_LABELS.get)
    ex = params.select("Training example (XOR)", "ex", EXAMPLE_NAMES, EXAMPLE_NAMES[0])
    seed = params.slider("Weight seed", "seed", 0, 20, 0)
    scale = params.log_slider("Initial weight scale", "scale", SCALE_OPTIONS, 1.0)
    lr = params.log_slider("Learning rate η (one step)", "lr", LR_OPTIONS, 0.5)
    st.header("Gradient check")
    eps = params.log_slider("ε (finite-difference step)", "eps", EPS_OPTIONS, 1e-6)
    prec = params.select("Precision", "prec", list(bp.DTYPES), "float64")
    kink = params.toggle("Put a hidden unit on its kink (z = ε/3)", "kink", False)

cfg = TinyConfig(arch, act, loss, seed, scale, EXAMPLE_NAMES.index(ex), lr)
view = (cfg, eps if kink else None)  # everything the walkthrough (and its figures) depends on
wt = tiny_run(*view)
if not wt.finite:
    st.error(
        "This network produced NaN or inf (the numbers overflowed). Lower the weight scale or the "
        "learning rate; the plots below show what could be computed.",
        icon=":material/error:",
    )

# ---------------------------------------------------------------- the graph
st.subheader("The network as a computational graph")
st.markdown(
    f"A **{'-'.join(map(str, cfg.sizes))}** network on the example chosen in the sidebar. "
    "Each box shows the node's forward value and, in red, the gradient of the loss with respect "
    "to it; each edge shows a weight (blue positive, red negative, thickness ~ |w|). Hover for "
    "every number."
)
st.plotly_chart(fast.figure(("backprop.graph", *view), lambda: vb.graph(wt)), key="fig_graph")

# ---------------------------------------------------------------- with your numbers
st.subheader("The chain rule with your numbers")
st.markdown("**Forward pass**, layer by layer, then the loss:")
for line in vb.forward_latex(wt):
    st.latex(line)
st.latex(vb.loss_latex(wt))
st.markdown("**Backward pass**, from the loss down to the first layer:")
for layer in reversed(range(1, len(wt.layers) + 1)):
    st.markdown(f"Layer {layer}{' (output)' if layer == len(wt.layers) else ''}")
    for line in vb.backward_latex(wt, layer):
        st.latex(line)
st.markdown("**One weight, as a product of three local derivatives:**")
one_weight(wt, [n for n in bp.tiny_params(cfg).names() if n.startswith("W")])
st.markdown(f"**One gradient-descent step** with η = {lr:g} on this example:")
for line in vb.update_latex(wt):
    st.latex(line)
if wt.finite and wt.L_after > wt.L:
    st.warning("The loss went *up*: η is too large for this curvature, the step overshot.")

# ---------------------------------------------------------------- gradient check
st.subheader("Gradient check: is the backward pass right?")
st.markdown(
    "Nudge one parameter by ±ε and watch the loss: the **central difference** "
    "(L(θ+ε) − L(θ−ε)) / 2ε approximates its partial derivative with an error of order ε² "
    "plus rounding of order u·|L|/ε (u ≈ 10⁻¹⁶ in float64, 6·10⁻⁸ in float32). Agreement to "
    "about 10⁻⁷ in float64 means the hand-written backprop is right."
)
st.latex(
    r"\text{rel. error} = \frac{|g_{\text{backprop}} - g_{\text{other}}|}{\max(|g_{\text{backprop}}|, |g_{\text{other}}|)}"
)
gc = check(cfg, eps, prec, kink)
table = vb.grad_check_table(gc)
fmt = {c: st.column_config.NumberColumn(format="%.3e") for c in table.columns[1:6]}
st.dataframe(table, hide_index=True, column_config=fmt)
m1, m2 = st.columns(2)
m1.metric("worst rel. error, backprop vs autograd", f"{gc.max_rel_autograd:.1e}")
m2.metric("worst rel. error, backprop vs finite differences", f"{gc.max_rel_fd:.1e}")
if (why := vb.check_explanation(gc, act)) is not None:
    st.warning(why, icon=":material/report:")
fig = fast.figure(
    ("backprop.sweep", cfg, kink, eps, prec),
    lambda: vb.eps_sweep_figure(sweep(cfg, kink), eps, prec),
)
st.plotly_chart(fig, key="fig_sweep")
st.caption(
    "Every ε straddles the kink here: the error stays near 1/3 whatever ε."
    if kink and act in ("relu", "leaky_relu")
    else "The V shape: to the right truncation error (∝ ε²), to the left rounding (∝ 1/ε). "
    "Dotted: 10⁻⁶."
)

# ---------------------------------------------------------------- activations and losses
st.subheader("Activation functions and their derivatives")
left, right = st.columns([3, 2])
with left:
    marks = np.concatenate([lay.z for lay in wt.layers[:-1]])
    fig = fast.figure(
        ("backprop.act", *view), lambda: vb.activation_figure(bp.activation_curve(act), act, marks)
    )
    st.plotly_chart(fig, key="fig_act")
with right:
    f_tex, df_tex = bp.ACTIVATION_FORMULAS[act]
    st.latex(f_tex)
    st.latex(df_tex)
    st.markdown(
        "Backprop multiplies by f′(z) at every layer. Where f′ is nearly 0 (shaded) the unit is "
        "**saturated**: sigmoid's f′ is at most 0.25 and tanh's tails are flat, so gradients "
        "shrink layer after layer. ReLU passes 1 for z > 0 but exactly 0 for z < 0 (a dead unit "
        "learns nothing); leaky ReLU keeps a slope of 0.01; GELU and softplus are smooth ReLUs. "
        "Change f in the sidebar: the dots are your network's hidden units."
    )

st.subheader("Loss functions and their gradient with respect to the logits")
out = wt.layers[-1]
ls = bp.loss_step(loss, out.z, wt.y)
st.latex(r"\qquad".join(bp.LOSS_FORMULAS[loss]))
st.latex(vb.loss_step_latex(ls))
left, right = st.columns([3, 2])
with left:
    title = f"{bp.LOSS_LABELS[loss].capitalize()} and its slope"
    fig = fast.figure(
        ("backprop.loss", *view),
        lambda: vb.loss_figure(*bp.loss_curve(loss, wt.y, out.z), ls, title),
    )
    st.plotly_chart(fig, key="fig_loss")
with right:
    st.markdown(
        "Sigmoid + binary cross-entropy and softmax + cross-entropy both give **∂L/∂z = p − y**: "
        "the error itself. The log in the loss cancels the exponential in σ or softmax, so the "
        "gradient never saturates, even when p is confidently wrong; with MSE on a sigmoid it "
        "would be multiplied by σ′(z), which vanishes exactly then."
    )
    st.caption(
        "Hand-written ∂L/∂z vs autograd through torch.nn's loss: max |difference| = "
        f"{np.abs(ls.dL_dz - ls.dL_dz_autograd).max():.1e}."
    )

# ---------------------------------------------------------------- vanishing and exploding
st.subheader("Vanishing and exploding gradients")
st.markdown(
    "In a deep network, ∂L/∂W⁽¹⁾ is a product of one factor W⁽ˡ⁾ᵀ·diag f′(z⁽ˡ⁾) per layer. If "
    "those factors are typically below 1 the gradient shrinks exponentially with depth "
    "(**vanishing**); above 1 it grows (**exploding**). Xavier initialisation (σ² = 2/(n_in+n_out)) "
    "keeps the factor near 1 for tanh; He (σ² = 2/n_in) for ReLU, which zeroes half its inputs. "
    f"The activation is the sidebar's: **{ACTIVATION_LABELS[act]}**."
)
deep_section(act)

# ---------------------------------------------------------------- try this
presets = [  # (button, widget values, what to look for)
    ("Sigmoid, depth 10, small init", dict(act="sigmoid", depth=10, width=32, init="small", steps=60),
     "Each layer multiplies the gradient by about 0.25·0.01·√32: the first layer gets ~10⁻²⁰ of the last's."),
    ("ReLU with He init", dict(act="relu", depth=10, width=32, init="he", steps=60, dlr=0.1),
     "He's σ² = 2/n_in makes each layer's factor about 1: the gradient norm stays level across layers."),
    ("Zero init: symmetry never breaks", dict(act="sigmoid", depth=3, width=8, init="zero", steps=100),
     "All units of a layer compute the same and get the same gradient: training never separates them."),
    ("ReLU kink: a poor gradient check", dict(act="relu", kink=True, eps=1e-6, prec="float64"),
     "A hidden unit sits a third of ε from the kink: the central difference straddles it."),
]  # fmt: skip
params.try_this({name: (values, note) for name, values, note in presets})

# ---------------------------------------------------------------- under the hood
under_the_hood(cfg, kink, wt, ls)
