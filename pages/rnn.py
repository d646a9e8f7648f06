"""Recurrent networks: the vanilla RNN, the LSTM and the GRU, and gradients through time."""

import inspect
from dataclasses import replace

import streamlit as st

from dl_core import notation, rnn
from dl_core.rnn import CELL_LABELS, TASK_LABELS, RNNConfig, RNNResult
from dl_core.training import ResultCache
from ui import fast, lesson, params
from ui.live import train_live
from viz import rnn as vr
from viz.latex import num, plain

LR_OPTIONS = params.log_options(-4, 0) + [2.0, 3.0]  # 1e-4 .. 3
CLIP_OPTIONS = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0]
UI_MAX_STEPS = 1500
UI_MAX_HIDDEN = 96
LIVE_AFTER_S = 1.0  # a shorter run draws no live curve: each frame costs 10-20 ms of its CPU
base = dict(hidden=32, bptt=0, clipon=True, clip=1.0, opt="adam", cmp=False)
PRESETS = {  # button: (settings, what to look for)
    "RNN vs LSTM: long gap": (
        dict(base, task="memory", cell="lstm", gap=40, lr=0.01, steps=600, cmp=True),
        "40 distractors between the symbol and the cue: the LSTM and the GRU learn to recall "
        "it, the vanilla RNN stalls near 50 % (chance is 25 %). Compare the cells and their "
        "gradients in the tabs below (other seeds and rates can differ: clipping and Adam "
        "rescue the RNN surprisingly often).",
    ),
    "Exploding gradients": (
        dict(base, task="sine", cell="rnn", T=100, opt="sgd", lr=1.0, clipon=False, steps=150),
        "Plain SGD with η = 1 on 100-step windows, no clipping: the gradient norm explodes and "
        "training diverges. Turn clipping back on.",
    ),
    "GRU with 3 units": (
        dict(base, task="sine", cell="gru", hidden=3, T=24, lr=0.03, steps=300),
        "Three numbers of memory forecast a sine to a test MSE of about 0.004 (32 units: "
        "0.0002). Watch each unit in the heat map of the first tab.",
    ),
    "BPTT shorter than the gap": (
        dict(base, task="memory", cell="gru", gap=10, bptt=4, lr=0.03, steps=300),
        "Gradients are cut every 4 steps, so the loss at the cue never reaches the symbol 11 "
        "steps back: accuracy stays near chance (25 %).",
    ),
}
TABS = ["Inside the cell, step by step", "Gradients through time", "Compare cells", "Under the hood"]  # fmt: skip


@st.cache_resource
def store() -> ResultCache:
    """Trained models by config, shared by all sessions (frozen, read-only)."""
    return ResultCache(max_entries=32)


def trained(cfg: RNNConfig) -> RNNResult:
    """Cached result, or train now with a progress bar and a live loss curve."""
    label = CELL_LABELS[cfg.cell]

    def view(k: int, losses: list[float]):
        curve = vr.loss_curve(losses, cfg.cell)
        return k / cfg.steps, f"Training the {label}: step {k}/{cfg.steps}", curve

    return train_live(store(), cfg, rnn.train, label, view, after_s=LIVE_AFTER_S)


def all_cells(res: RNNResult, compare: bool) -> list[RNNResult]:
    """This run and, when asked for, the other two cells on the same settings."""
    others = [trained(replace(res.config, cell=c)) for c in rnn.CELLS if c != res.config.cell]
    return [res, *others] if compare else [res]


@st.cache_data(max_entries=32, show_spinner=False)
def gradients(cfgs: tuple[RNNConfig, ...], _results: list[RNNResult]) -> rnn.GradientComparison:
    return rnn.gradient_comparison(_results)  # autograd through every model: cached by configs


def clamp_state(key: str, lo: int, hi: int, default: int) -> None:
    """A slider whose range follows the model: clamp a stale value first."""
    st.session_state[key] = int(min(max(st.session_state.get(key, default), lo), hi))


lesson.header(vr.TITLE, vr.IDEA, vr.HEADER, vr.header_symbols())
with st.sidebar:
    st.header("Settings")
    task = params.select("Task", "task", rnn.TASKS, "sine", format_func=TASK_LABELS.get)
    cell = params.select("Cell type", "cell", rnn.CELLS, "lstm", format_func=CELL_LABELS.get)
    hidden = params.slider("Hidden size $d_h$", "hidden", 1, UI_MAX_HIDDEN, 32)
    seq_len, gap, noise = 24, 10, 0.2
    if task in ("sine", "noisy"):
        seq_len = params.slider("Window length T", "T", 4, rnn.MAX_SEQ_LEN, 24)
    if task == "noisy":
        noise = params.slider("Noise σ", "noise", 0.0, 1.0, 0.2, 0.05)
    if task == "memory":
        gap = params.slider("Memory gap N", "gap", 1, 60, 10)
    bptt = params.slider("Truncated BPTT length (0 = full)", "bptt", 0, 60, 0)
    clip_on = params.toggle("Clip gradients", "clipon", True)
    clip = params.log_slider("Max gradient norm", "clip", CLIP_OPTIONS, 1.0, disabled=not clip_on)
    optimizer = params.select("Optimizer", "opt", rnn.OPTIMIZERS, "adam",
                              format_func={"adam": "Adam", "sgd": "SGD"}.get)  # fmt: skip
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.03)
    steps = params.slider("Training steps", "steps", 10, UI_MAX_STEPS, 150, 10)
    compare = params.toggle("Train all three cells (for the tabs below)", "cmp", True)
lesson.try_this(PRESETS)

cfg = RNNConfig(
    task=task, cell=cell, hidden=hidden, seq_len=seq_len, gap=gap, noise=noise, bptt=bptt,
    clip=clip if clip_on else 0.0, optimizer=optimizer, lr=lr, steps=steps,
)  # fmt: skip
if (cfg := rnn.within_budget(asked := cfg)) != asked:
    st.info(
        f"Training is capped at **{cfg.steps} steps** for d_h = {hidden} and sequences of "
        f"{cfg.length} steps (you asked for {asked.steps}): this server shares its CPU with "
        "other learners, so one run may cost at most a few seconds. A smaller d_h or T allows "
        "more steps.",
        icon=":material/speed:",
    )
with st.container():  # training's progress bar lives here: later elements keep their place
    res = trained(cfg)
if (warning := rnn.diagnose(res)) is not None:
    st.warning(warning, icon=":material/warning:")
chart, numbers = st.columns([3, 1], vertical_alignment="center")
chart.plotly_chart(
    fast.figure(("rnn.task", cfg, 0), lambda: vr.task_figure(res, 0)), key="task-chart"
)
numbers.metric(cfg.metric, "diverged" if res.diverged_at else plain(res.final_metric, 3))
numbers.metric("Training time", f"{res.seconds:.2f} s", f"{len(res.loss)} steps", delta_color="off")  # fmt: skip
if res.valid_fraction is not None:
    numbers.metric("Sampled strings that obey the grammar", f"{res.valid_fraction:.0%}")
elif res.seconds_to_target is not None:
    numbers.metric(f"Time to reach {rnn.TARGETS[task]:g}", f"{res.seconds_to_target:.2f} s")
tabs = lesson.tabs(TABS)


@fast.section  # the sequence slider reruns only this section (one_step below): nothing retrains
def inspector(res: RNNResult) -> None:
    n_ex = res.example_x.shape[0]
    clamp_state("ex", 1, n_ex, 1)
    ex = st.slider("Test sequence to inspect", 1, n_ex, key="ex") - 1
    if ex > 0 and res.config.task != "memory":  # sequence 1 (and every recall) is plotted above
        fig = fast.figure(("rnn.task", res.config, ex), lambda: vr.task_figure(res, ex))
        st.plotly_chart(fig, key="task-ex")
    st.markdown("**One time step with your numbers**")
    one_step(res, ex)


@fast.section  # inside the inspector: the step and unit sliders rerun only this part
def one_step(res: RNNResult, ex: int) -> None:
    cfg, task, hidden = res.config, res.config.task, res.config.hidden
    T = res.example_x.shape[1]
    if task == "reber":
        T = len(res.example_strings[ex]) - 1
    clamp_state("t", 1, T, min(5, T))
    clamp_state("j", 0, hidden - 1, 0)
    a, b = st.columns(2)
    t = a.slider("Time step t", 1, T, key="t")
    j = b.slider("Hidden unit j", 0, hidden - 1, key="j") if hidden > 1 else 0
    s = rnn.time_step(res, ex, t, j)
    st.markdown(
        f"Test sequence {ex + 1}, step $t = {t}$, unit $j = {j}$: the input is "
        f"$x_{{{t}}} = ({', '.join(num(v, 3) for v in s.x_t[:9])})$ and the previous state "
        f"$h_{{{t - 1},{j}}} = {num(s.h_prev)}$. Each pre-activation is the input part "
        "$(W_{i\\cdot} x_t + b_{i\\cdot})_j$ plus the recurrent part "
        "$(W_{h\\cdot} h_{t-1} + b_{h\\cdot})_j$:"
    )
    for line in vr.step_with_numbers(s):
        st.latex(line)
    st.caption(
        f"Readout at this step: ŷ = {', '.join(plain(v, 4) for v in s.y_hat[:7])}. Numbers "
        "from the hand-written cell running the weights you just trained."
    )
    states = rnn.example_states(res, ex)  # the hand-written cell over the sequence: a few ms
    heat = fast.figure(("rnn.heat", cfg, ex, t), lambda: vr.hidden_heatmap(states.h[0].numpy(), t))
    gate_vals = {g: v[0].numpy() for g, v in states.gates.items()}
    gates = fast.figure(("rnn.gates", cfg, ex, j), lambda: vr.gates(gate_vals, j, cfg.cell))
    h1, h2 = st.columns(2)
    h1.plotly_chart(heat, key="heat")
    h2.plotly_chart(gates, key="gates")


if tab := tabs.open("Inside the cell, step by step"):
    with tab:
        st.subheader(f"Inside the {CELL_LABELS[cell]} cell, step by step")
        st.plotly_chart(fast.figure(("rnn.unrolled", cell), lambda: vr.unrolled(cell)), key="unrolled")  # fmt: skip
        for line in vr.EQUATIONS[cell]:
            st.latex(line)
        st.caption(notation.caption(*vr.CELL_SYMBOLS[cell]))
        st.markdown(vr.CONVENTIONS[cell])
        inspector(res)

if tab := tabs.open("Gradients through time"):
    with tab:
        st.subheader("Vanishing and exploding gradients through time")
        st.markdown(vr.BPTT_TEXT)
        st.latex(vr.BPTT)
        results = all_cells(res, compare)
        cmp = gradients(tuple(r.config for r in results), results)
        st.plotly_chart(fast.figure(("rnn.gtt", cfg, compare), lambda: vr.gradient_through_time(cmp)), key="gtt")  # fmt: skip
        st.markdown(vr.gradient_lesson(cmp, task))
        st.caption(vr.GTT_CAPTION)
        st.plotly_chart(fast.figure(("rnn.gnorm", cfg), lambda: vr.grad_norms(res)), key="gnorm")
        st.caption(vr.CLIP_NOTE)

if tab := tabs.open("Compare cells"):
    with tab:
        st.subheader("The three cells on the same task")
        results = all_cells(res, compare)
        if not compare:
            st.info("Turn on “Train all three cells” in the sidebar to compare them.")
        left, right = st.columns(2)
        runs = tuple(r.config for r in results)
        left.plotly_chart(fast.figure(("rnn.metric", runs), lambda: vr.metric_curve(results)), key="metric")  # fmt: skip
        right.plotly_chart(fast.figure(("rnn.loss", cfg), lambda: vr.loss_curve(res.loss, cell)), key="loss")  # fmt: skip
        st.dataframe(vr.comparison_table(results), hide_index=True)
        if task == "memory":
            st.caption("Chance is 25 %: four symbols. The model answers only at the recall cue.")

if tab := tabs.open("Under the hood"):
    with tab:
        st.subheader("Under the hood: hand-written cells vs torch.nn")
        st.markdown(
            f"Training uses the fused `torch.nn.{ {'rnn': 'RNN', 'lstm': 'LSTM', 'gru': 'GRU'}[cell] }` "
            "(one call per sequence, cuDNN on a GPU). The step-by-step tab runs the "
            "hand-written cell below, a few tensor ops per step, on the same weights. Largest "
            f"difference of the hidden states over {res.example_x.shape[0]} test sequences: "
            f"**{rnn.handwritten_vs_fused(res):.2e}** (float32 rounding)."
        )
        if cell == "gru":
            st.markdown(
                "Cho et al.'s GRU (reset gate before the product, `gru_cell_cho`) on the same "
                f"trained weights differs from PyTorch's by up to **{rnn.gru_convention_gap(res):.2g}** "
                "in hₜ over the same sequences: a different function, not rounding."
            )
        fn = {"rnn": rnn.rnn_cell, "lstm": rnn.lstm_cell, "gru": rnn.gru_cell}[cell]
        st.code(inspect.getsource(fn), language="python")
        st.code(inspect.getsource(rnn.unroll), language="python")
        st.caption(
            f"Device: {res.device.upper()} (runs with batch·T·d_h² ≥ {rnn.CUDA_MIN_WORK:,} use "
            "CUDA when a GPU is present; smaller ones stay on the CPU, where a launch costs "
            f"less). Training took {res.seconds:.2f} s for {len(res.loss)} steps."
        )
