"""Neural-network playground: a multilayer perceptron trained live on 2-D data."""

import inspect

import streamlit as st

from dl_core import data2d, engine, mlp, optim
from dl_core.mlp import Config
from ui import fast, lesson, params, play
from viz import playground as vp

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
RATE_OPTIONS = params.log_options(-5, 1)  # alpha
TICK_SECONDS = 0.3  # the live fragment reruns this often while playing
MAP_RES, TILE_RES = 50, 16  # heat-map cells per axis: decision map, neuron tiles
TABS = ["With your numbers", "Dropout", "Batch norm", "The formulas", "Under the hood"]
# The session's network ("pg_net"), trained live: Step trains one step, Play `speed` a tick.
PLAYER = play.Player(
    "pg_playing", "pg_net", mlp.Net.advance, lambda net: net.step_count, mlp.MAX_PLAY_STEPS
)


@st.cache_data(max_entries=32, show_spinner="Comparing with torch.nn + torch.optim ...")
def reference_gap(cfg: Config) -> float:
    return mlp.reference_gap(cfg, steps=50)


@st.cache_data(max_entries=8, show_spinner="Timing both implementations ...")
def speeds(cfg: Config) -> tuple[float, float]:
    return mlp.steps_per_second(cfg), mlp.reference_steps_per_second(cfg)


def chart(where, name: str, build, *view) -> None:
    """A chart of the session's network: paused, built once per network state (its step and
    record counts, its settings) and view; playing, afresh every tick (``play.figure``)."""
    net = st.session_state["pg_net"]
    state = (net.step_count, len(net.history.step), net.cfg)
    fig = play.figure(PLAYER, f"playground.{name}", build, *state, *view)
    where.plotly_chart(fig, key=f"pg_{name}")


def hidden_layer(label: str, key: str, cfg: Config, where=st) -> int:
    return where.selectbox(label, range(1, len(cfg.hidden) + 1), key=key,
                           format_func=lambda k: f"hidden {k}")  # fmt: skip


@fast.section
def one_neuron(cfg: Config) -> None:
    """One neuron at one point, and the last update of one weight: its pickers rerun only this."""
    net = st.session_state["pg_net"]
    st.subheader("With your numbers: one neuron, one point")
    st.caption(vp.WEIGHTS_NOTE)
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
        st.caption("Training diverged: these are the last finite weights, from before the bad step.")  # fmt: skip
    elif net.step_count > 0:
        src = st.selectbox("The update of its incoming weight from input", range(1, cfg.sizes[layer - 1] + 1),
                           key="pg_src", format_func=lambda i: vp.input_label(cfg, layer, i))  # fmt: skip
        u = mlp.weight_update(net, layer, src, unit)
        st.markdown(f"**The last update (step {u.step}) of this weight** with {mlp.OPTIMIZER_LABELS[u.optimizer]}:")  # fmt: skip
        for line in vp.update_latex(u):
            st.latex(line)


@fast.section
def dropout_tab(cfg: Config) -> None:
    st.subheader("Dropout: a random mask in training, none in evaluation")
    st.markdown(vp.DROPOUT_TEXT)
    st.latex(vp.DROPOUT_FORMULA)
    if not cfg.hidden:
        return st.info("Dropout acts on hidden layers: add one in the sidebar.")
    p = cfg.dropout if cfg.dropout > 0 else 0.5
    if cfg.dropout == 0:
        st.info("Dropout is off (p = 0 in the sidebar), so training uses no mask; below, "
                "p = 0.5 on the current network shows what a mask would do.")  # fmt: skip
    c1, c2 = st.columns(2)
    layer = hidden_layer("Hidden layer", "pg_drop_layer", cfg, c1)
    net = st.session_state["pg_net"]
    point = c2.slider("Training point", 1, net.n_train, 1, key="pg_drop_point") - 1
    v = mlp.dropout_view(net, layer, p, point, seed=net.step_count)
    st.plotly_chart(vp.dropout_figure(v), key="pg_dropout")
    for line in vp.dropout_latex(v):
        st.latex(line)


@fast.section
def batch_norm_tab(cfg: Config) -> None:
    st.subheader("Batch norm: the batch's statistics in training, running averages in evaluation")
    for line in vp.BN_FORMULAS:
        st.latex(line)
    st.markdown(vp.BN_TEXT)
    if not (cfg.batch_norm and cfg.hidden):
        return st.info("Batch norm is off: switch on Network → Batch normalisation in the sidebar "
                       "(it starts a new network) to see both sets of statistics here.")  # fmt: skip
    net = st.session_state["pg_net"]
    c1, c2 = st.columns(2)
    layer = hidden_layer("Hidden layer", "pg_bn_layer", cfg, c1)
    unit = c2.selectbox("Unit j", range(1, cfg.hidden[layer - 1] + 1), key="pg_bn_unit")
    v = mlp.batch_norm_view(net, layer)
    st.markdown(vp.bn_batch_text(v, unit, layer, net.step_count))
    for line in vp.bn_latex(v, unit):
        st.latex(line)
    fmt = {c: st.column_config.NumberColumn(format="%.3g") for c in vp.bn_table(v).columns[1:]}
    st.dataframe(vp.bn_table(v), hide_index=True, column_config=fmt)


def formulas(cfg: Config) -> None:
    st.subheader("The formulas of this network")
    for line in vp.general_formulas(cfg):
        st.latex(line)
    st.caption(vp.formulas_caption(cfg))


def under_the_hood(cfg: Config) -> None:
    st.subheader("Under the hood: the hand-written step vs torch.nn + torch.optim")
    gap = reference_gap(cfg)
    st.markdown(vp.hood_text(gap))
    if st.button("Measure the speed of both", key="pg_speed"):
        mine, ref = speeds(cfg)
        st.markdown(f"Full-batch steps per second: **{mine:,.0f}** hand-written, **{ref:,.0f}** nn.Module + torch.optim.")  # fmt: skip
    st.code(inspect.getsource(mlp.Net._step) + inspect.getsource(mlp.Net._regularize_and_update), language="python")  # fmt: skip
    st.caption("The layer's backward pass and the optimizer's update they call, from the one engine every hand-trained page shares (dl_core/engine.py, dl_core/optim.py):")  # fmt: skip
    st.code(inspect.getsource(engine.delta) + inspect.getsource(engine.dense_backward) + inspect.getsource(optim.update_), language="python")  # fmt: skip
    st.code(inspect.getsource(mlp.TorchMLP.forward) + inspect.getsource(mlp.reference_optimizer), language="python")  # fmt: skip
    device = st.session_state["pg_net"].device.upper()
    st.caption(f"Device: {device} (a step is ~30 microsecond-sized ops: a GPU launch costs more).")


lesson.header(
    "Neural-network playground",
    "A neural network bends the input plane until the classes can be told apart: each neuron "
    "takes a weighted sum of its inputs and squashes it with an activation function φ. Press "
    "**Play** and watch the decision boundary form; the tiles show what every neuron computes.",
    vp.KEY_FORMULA,
    vp.key_symbols(),
)

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
    act = params.select("Activation φ", "act", mlp.ACTIVATIONS, "tanh")
    init = params.select("Initialisation", "init", mlp.INITS, "xavier", format_func=mlp.INIT_LABELS.get)  # fmt: skip
    bn = params.toggle("Batch normalisation", "bn", False)
    dropout = params.slider("Dropout p", "drop", 0.0, 0.8, 0.0, 0.05)
    st.header("Training")
    opt = params.select("Optimizer", "opt", mlp.OPTIMIZERS, "adam", format_func=mlp.OPTIMIZER_LABELS.get)  # fmt: skip
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.03)
    batch = params.slider("Batch size (0 = all training points)", "batch", 0, 200, 0)
    reg = params.select("Regularisation", "reg", mlp.REGULARIZERS, "none")
    rate = params.log_slider("Regularisation strength α", "rate", RATE_OPTIONS, 0.001)
    seed = params.slider("Weight seed", "seed", 0, 99, 0)
    speed = params.slider("Steps per tick (speed)", "speed", 1, 500, 50)

cfg = Config(
    dataset=dataset, n_points=n_points, noise=noise, test_fraction=test_fraction,
    data_seed=data_seed, features=tuple(feats), hidden=hidden, activation=act, init=init,
    batch_norm=bn, dropout=dropout, optimizer=opt, lr=lr, batch_size=batch,
    regularization=reg, reg_rate=rate if reg != "none" else 0.0, seed=seed,
)  # fmt: skip
# A new structure needs a new network; η, the optimizer etc. do not (``update`` adopts them).
net: mlp.Net = play.model(PLAYER, lambda: mlp.Net(cfg), keep=lambda net: net.update(cfg))
playing = play.playing(PLAYER)

lesson.try_this(vp.PRESETS, run_state=(PLAYER.key,))  # experiments, with what to look for
c1, c2, c3, c4, c5 = st.columns([1, 1, 1, 1.3, 1.4], vertical_alignment="center")
play.controls(PLAYER, playing, (c1, c2, c3), step=1, new=lambda: mlp.Net(cfg))
c4.button("Regenerate data", icon=":material/shuffle:", on_click=params.apply_preset,
          args=({"dseed": (data_seed + 1) % 100},), use_container_width=True)  # fmt: skip
c5.toggle("Show test points (hollow)", key="pg_show_test")


@play.fragment(playing, TICK_SECONDS)
def live() -> None:
    """One tick: train ``speed`` steps, then redraw the maps and curves (only this part)."""
    play.frame(PLAYER, playing, speed)  # stops at the cap or on divergence
    net = st.session_state["pg_net"]
    if net.step_count >= mlp.MAX_PLAY_STEPS:
        st.info(f"Paused at the page's limit of {mlp.MAX_PLAY_STEPS:,} steps. Press Reset to "
                "train again.", icon=":material/timer:")  # fmt: skip
    if (diagnosis := mlp.diagnose(net)) is not None:
        st.warning(diagnosis + " Press Reset to start again.", icon=":material/warning:")
    h = net.history
    test_on = st.session_state.get("pg_show_test", False)
    left, right = st.columns([2, 3] if len(cfg.hidden) >= 4 else [1, 1])  # deep nets need width
    chart(left, "map", lambda: vp.live_map(mlp.grid(net, MAP_RES), cfg, net.data, test_on), test_on)
    chart(right, "network", lambda: vp.network_figure(cfg, net.params(), mlp.grid(net, TILE_RES)))
    for col, (label, value, note) in zip(st.columns(4), vp.live_metrics(net)):
        col.metric(label, value, help=note)
    if net.step_count == 0:
        return st.info("The loss and accuracy curves appear here once training starts: press "
                       "**Play** or **Step**.", icon=":material/show_chart:")  # fmt: skip
    a, b = st.columns(2)
    chart(a, "loss", lambda: vp.loss_curves(h.epoch, h.train_loss, h.test_loss))
    if cfg.task == "binary":
        chart(b, "acc", lambda: vp.accuracy_curves(h.epoch, h.train_acc, h.test_acc))
    elif cfg.task == "multiclass":
        chart(b, "conf", lambda: vp.confusion_figure(mlp.confusion(net)))


live()

tabs = lesson.tabs(TABS)
for name, section in zip(TABS, (one_neuron, dropout_tab, batch_norm_tab, formulas, under_the_hood)):
    if tab := tabs.open(name):
        with tab:
            section(cfg)
