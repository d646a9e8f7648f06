"""Neural-network playground: a multilayer perceptron trained live on 2-D data."""

import inspect
import uuid

import streamlit as st

from dl_core import data2d, mlp
from dl_core.mlp import Config
from ui import fast, params
from viz import playground as vp

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
RATE_OPTIONS = params.log_options(-5, 1)  # lambda
TICK_SECONDS = 0.3  # the live fragment reruns this often while playing
MAP_RES, TILE_RES = 50, 16  # heat-map cells per axis: decision map, neuron tiles


@st.cache_data(max_entries=32, show_spinner="Comparing with torch.nn + torch.optim ...")
def reference_gap(cfg: Config) -> float:
    return mlp.reference_gap(cfg, steps=50)


@st.cache_data(max_entries=8, show_spinner="Timing both implementations ...")
def speeds(cfg: Config) -> tuple[float, float]:
    return mlp.steps_per_second(cfg), mlp.reference_steps_per_second(cfg)


def set_playing(value: bool) -> None:
    st.session_state["pg_playing"] = value


def reset() -> None:
    st.session_state.pop("pg_net", None)


def chart(where, name: str, build, *view) -> None:
    """A chart of the session's network. Paused, it is built once per network state (the
    network's id, its step and record counts) and view; playing, every tick draws a frame
    that is seen once, so it is built afresh rather than crowd the shared figure cache."""
    net = st.session_state["pg_net"]
    state = (st.session_state["pg_net_id"], net.step_count, len(net.history.step), net.cfg)
    ticking = st.session_state.get("pg_playing") and net.diverged_at is None
    fig = build() if ticking else fast.figure((f"playground.{name}", *state, *view), build)
    where.plotly_chart(fig, key=f"pg_{name}")


@fast.section
def one_neuron(cfg: Config) -> None:
    """One neuron at one point, and the last update of one weight: its pickers rerun only this."""
    net = st.session_state["pg_net"]
    n_cols = len(cfg.hidden) + 1
    s1, s2, s3, s4 = st.columns(4)
    layer = s1.selectbox("Layer", range(1, n_cols + 1), key="pg_layer",
                         format_func=lambda k: "output" if k == n_cols else f"hidden {k}")  # fmt: skip
    unit = s2.selectbox("Neuron", range(1, cfg.sizes[layer] + 1), key="pg_unit")
    px = s3.slider("Point x₁", -6.0, 6.0, 1.0, 0.1, key="pg_px")
    py = s4.slider("Point x₂", -6.0, 6.0, -2.0, 0.1, key="pg_py")
    for line in vp.neuron_latex(cfg, mlp.neuron(net, layer, unit, (px, py))):
        st.latex(line)
    if net.diverged_at is not None:
        st.caption(
            "Training diverged: these are the last finite weights, from before the bad step."
        )
    elif net.step_count > 0:
        src = st.selectbox("The update of its incoming weight from input", range(1, cfg.sizes[layer - 1] + 1),
                           key="pg_src", format_func=lambda i: vp.input_label(cfg, layer, i))  # fmt: skip
        u = mlp.weight_update(net, layer, src, unit)
        st.markdown(
            f"**The last update (step {u.step}) of this weight** with {mlp.OPTIMIZER_LABELS[u.optimizer]}:"
        )
        for line in vp.update_latex(u):
            st.latex(line)


@fast.section  # opening the expander reruns only this section; its work runs only when open
def under_the_hood(cfg: Config) -> None:
    box = st.expander("Under the hood: the hand-written step vs torch.nn + torch.optim",
                      icon=":material/code:", key="pg_hood", on_change="rerun")  # fmt: skip
    if not box.open:
        return
    with box:
        gap = reference_gap(cfg)
        st.markdown(
            "Every training step above runs `Net._step`: forward and backward pass written with "
            "tensor ops, all parameters in one flat tensor so the optimizer update is a few in-place "
            "ops. The same 50 full-batch steps with `TorchMLP` (nn.Linear, nn.BatchNorm1d, autograd) "
            f"and `torch.optim`, in float64, end at a **max |θ_hand − θ_torch| = {gap:.2e}**."
        )
        if st.button("Measure the speed of both", key="pg_speed"):
            mine, ref = speeds(cfg)
            st.markdown(
                f"Full-batch steps per second: **{mine:,.0f}** hand-written, **{ref:,.0f}** nn.Module + torch.optim."
            )
        st.code(
            inspect.getsource(mlp.Net._step) + inspect.getsource(mlp.Net._regularize_and_update),
            language="python",
        )
        st.code(
            inspect.getsource(mlp.TorchMLP.forward) + inspect.getsource(mlp.reference_optimizer),
            language="python",
        )
        device = st.session_state["pg_net"].device
        st.caption(
            f"Device: {device} (a step is ~30 microsecond-sized ops: a GPU launch costs more)."
        )


st.title("Neural-network playground")
st.markdown(
    "A neural network bends the input plane until the classes can be told apart. Each "
    "hidden neuron computes a weighted sum of its inputs and squashes it with an activation "
    "function; its output over the plane is a soft **half-plane** in the first layer and ever "
    "more intricate shapes in the layers above. Press **Play** and watch the boundary form."
)

# ---------------------------------------------------------------- controls
with st.sidebar:
    st.header("Data")
    dataset = params.select("Dataset", "data", tuple(data2d.DATASETS), "circles",
                            format_func=lambda d: data2d.DATASETS[d].title)  # fmt: skip
    noise = params.slider("Noise", "noise", 0.0, 0.5, 0.0, 0.05)
    n_points = params.slider("Number of points", "n", 50, 1000, 500, 50)
    test_fraction = params.slider("Test share", "test", 0.1, 0.9, 0.5, 0.1)
    data_seed = params.slider("Data seed", "dseed", 0, 99, 0)
    st.header("Network")
    feats = params.multiselect("Input features", "feat", mlp.FEATURES, ["x1", "x2"],
                               format_func=mlp.FEATURE_LABELS.get) or ["x1"]  # fmt: skip
    n_layers = params.slider("Hidden layers", "layers", 0, mlp.MAX_LAYERS, 2)
    hidden = tuple(
        params.slider(f"Neurons in layer {i}", f"h{i}", 1, mlp.MAX_NEURONS, 8)
        for i in range(1, n_layers + 1)
    )
    act = params.select("Activation", "act", mlp.ACTIVATIONS, "tanh")
    init = params.select(
        "Initialisation", "init", mlp.INITS, "xavier", format_func=mlp.INIT_LABELS.get
    )
    bn = params.toggle("Batch normalisation", "bn", False)
    dropout = params.slider("Dropout p", "drop", 0.0, 0.8, 0.0, 0.05)
    st.header("Training")
    opt = params.select(
        "Optimizer", "opt", mlp.OPTIMIZERS, "adam", format_func=mlp.OPTIMIZER_LABELS.get
    )
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.03)
    batch = params.slider("Batch size (0 = all training points)", "batch", 0, 200, 0)
    reg = params.select("Regularisation", "reg", mlp.REGULARIZERS, "none")
    rate = params.log_slider("Regularisation rate λ", "rate", RATE_OPTIONS, 0.001)
    seed = params.slider("Weight seed", "seed", 0, 99, 0)
    speed = params.slider("Steps per tick (speed)", "speed", 1, 500, 50)

cfg = Config(
    dataset=dataset, n_points=n_points, noise=noise, test_fraction=test_fraction,
    data_seed=data_seed, features=tuple(feats), hidden=hidden, activation=act, init=init,
    batch_norm=bn, dropout=dropout, optimizer=opt, lr=lr, batch_size=batch,
    regularization=reg, reg_rate=rate if reg != "none" else 0.0, seed=seed,
)  # fmt: skip
net: mlp.Net | None = st.session_state.get("pg_net")
if net is None or not net.update(cfg):  # a new structure needs a new network; η etc. do not
    net = st.session_state["pg_net"] = mlp.Net(cfg)
    st.session_state["pg_net_id"] = uuid.uuid4().hex  # names this network in figure keys
st.session_state.setdefault("pg_net_id", uuid.uuid4().hex)
playing = st.session_state.setdefault("pg_playing", False) and net.diverged_at is None

with st.expander("The formulas of this network", expanded=True, icon=":material/functions:"):
    for line in vp.general_formulas(cfg):
        st.latex(line)
    st.caption(
        "l: layer; i, j: neurons; w, b: weights and biases; z: weighted input; a: a neuron's "
        "output; f: the activation; p: predicted probability; y: the label; N: points in the "
        "batch; λ: regularisation rate; μ_B, σ²_B: the batch mean and variance; γ, β: batch-norm "
        "scale and shift. Changing η, the optimizer, the batch size, dropout or λ keeps the "
        "network; changing the data, features or architecture starts a new one."
    )

c1, c2, c3, c4 = st.columns(4)
c1.button("Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
          on_click=set_playing, args=(not playing,), type="primary", use_container_width=True)  # fmt: skip
if c2.button("Step", icon=":material/skip_next:", use_container_width=True):
    net.advance(min(1, mlp.MAX_PLAY_STEPS - net.step_count))
c3.button("Reset", icon=":material/restart_alt:", on_click=reset, use_container_width=True)
c4.button("Regenerate data", icon=":material/shuffle:", on_click=params.apply_preset,
          args=({"dseed": (data_seed + 1) % 100},), use_container_width=True)  # fmt: skip


@st.fragment(run_every=TICK_SECONDS if playing else None)
def live() -> None:
    """One tick: train ``speed`` steps, then redraw the maps and curves (only this part)."""
    net = st.session_state["pg_net"]
    if st.session_state.get("pg_playing") and net.diverged_at is None:
        net.advance(min(speed, mlp.MAX_PLAY_STEPS - net.step_count))
        if net.diverged_at is not None or net.step_count >= mlp.MAX_PLAY_STEPS:
            st.session_state["pg_playing"] = False  # stop ticking: rerun with play off
            st.rerun(scope="app")
    if net.step_count >= mlp.MAX_PLAY_STEPS:
        st.info(f"Paused at the page's limit of {mlp.MAX_PLAY_STEPS:,} steps. Press Reset to "
                "train again.", icon=":material/timer:")  # fmt: skip
    h = net.history
    m = st.columns(4)
    m[0].metric("Epoch", f"{net.epoch:,.1f}", help=f"{net.step_count:,} steps")
    m[1].metric("Train loss", f"{h.train_loss[-1]:.4f}")
    m[2].metric("Test loss", f"{h.test_loss[-1]:.4f}")
    if cfg.task != "regression":
        m[3].metric("Test accuracy", f"{h.test_acc[-1]:.1%}")
    if (lesson := mlp.diagnose(net)) is not None:
        st.warning(lesson + " Press Reset to start again.", icon=":material/warning:")
    left, right = st.columns([3, 2] if len(cfg.hidden) >= 4 else [1, 1])  # deep nets need width
    d = net.data
    test_on = st.session_state.get("pg_show_test", False)
    chart(left, "network", lambda: vp.network_figure(cfg, net.params(), mlp.grid(net, TILE_RES)))
    chart(right, "map", lambda: vp.decision_map(
        mlp.grid(net, MAP_RES), cfg, d.X_train.numpy(), d.y_train.numpy(),
        d.X_test.numpy() if test_on else None, d.y_test.numpy() if test_on else None,
        "Regression surface" if cfg.task == "regression" else "Decision boundary",
    ), test_on)  # fmt: skip
    a, b = st.columns(2)
    chart(a, "loss", lambda: vp.loss_curves(h.epoch, h.train_loss, h.test_loss))
    if cfg.task == "binary":
        chart(b, "acc", lambda: vp.accuracy_curves(h.epoch, h.train_acc, h.test_acc))
    elif cfg.task == "multiclass":
        chart(b, "conf", lambda: vp.confusion_figure(mlp.confusion(net)))


st.toggle("Show test points (diamonds)", key="pg_show_test")
live()

# ---------------------------------------------------------------- with your numbers
st.subheader("With your numbers: one neuron, one point")
st.caption(
    "The current network's own weights. While playing they change every tick: pause to read them."
)
one_neuron(cfg)

# ---------------------------------------------------------------- try this
SPIRAL = dict(data="spiral", noise=0.0, n=500, test=0.5, act="tanh", opt="adam", lr=0.03,
              batch=0, reg="none", drop=0.0, bn=False, pg_playing=True)  # fmt: skip
OVERFIT = dict(data="xor", noise=0.3, n=80, test=0.5, feat=["x1", "x2"], layers=3, h1=16, h2=16,
               h3=16, act="tanh", opt="adam", lr=0.03, batch=0, drop=0.0, bn=False,
               pg_playing=True, pg_show_test=True)  # fmt: skip
presets = {
    "Spiral, too small a network": (
        {**SPIRAL, "feat": ["x1", "x2"], "layers": 1, "h1": 2},
        "Two tanh neurons can draw only two soft lines: the spiral stays out of reach.",
    ),
    "Spiral solved by features": (
        {**SPIRAL, "feat": ["x1", "x2", "x1^2", "x2^2", "sin_x1", "sin_x2"], "layers": 1, "h1": 4},
        "Give the network x², sin x: four neurons now reach ~99% test accuracy.",
    ),
    "Overfitting: 80 noisy points": (
        {**OVERFIT, "reg": "none"},
        "Train loss falls to ~0 while the test loss climbs: the net memorises the noise.",
    ),
    "…cured by L2": (
        {**OVERFIT, "reg": "l2", "rate": 0.03},
        "λ/2·Σw² keeps weights small and the boundary smooth (try dropout 0.3 too).",
    ),
}
params.try_this(presets)

# ---------------------------------------------------------------- under the hood
under_the_hood(cfg)
