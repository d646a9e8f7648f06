"""Recurrent networks: the vanilla RNN, the LSTM and the GRU, and gradients through time."""

import inspect
from dataclasses import replace

import streamlit as st

from dl_core import rnn
from dl_core.rnn import CELL_LABELS, TASK_LABELS, RNNConfig, RNNResult
from dl_core.training import ResultCache
from ui import fast, params
from ui.live import train_live
from viz import rnn as vr
from viz.latex import num

LR_OPTIONS = params.log_options(-4, 0) + [2.0, 3.0]  # 1e-4 .. 3
CLIP_OPTIONS = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0]
UI_MAX_STEPS = 1500
UI_MAX_HIDDEN = 96
LIVE_AFTER_S = 1.0  # a shorter run draws no live curve: each frame costs 10-20 ms of its CPU


@st.cache_resource
def store() -> ResultCache:
    """Trained models by config, shared by all sessions (frozen, read-only)."""
    return ResultCache(max_entries=32)


def trained(cfg: RNNConfig) -> RNNResult:
    """Cached result, or train now with a progress bar and a live loss curve."""
    label = CELL_LABELS[cfg.cell]

    def view(k: int, losses: list[float]):
        return k / cfg.steps, f"Training the {label}: step {k}/{cfg.steps}", vr.loss_curve(losses)

    return train_live(store(), cfg, rnn.train, label, view, after_s=LIVE_AFTER_S)


def clamp_state(key: str, lo: int, hi: int, default: int) -> None:
    """A slider whose range follows the model: clamp a stale value first."""
    st.session_state[key] = int(min(max(st.session_state.get(key, default), lo), hi))


st.title("Recurrent networks: RNN, LSTM and GRU")
st.markdown(
    "A recurrent network reads a sequence one step at a time and carries a **hidden state** "
    "$h_t$, its memory of everything seen so far. The same weights are used at every step, so "
    "the network *unrolled* over time is a very deep network with shared weights, and "
    "gradients must travel back through every step. Gates (LSTM, GRU) let the memory pass "
    "through many steps almost unchanged."
)
st.latex(r"h_t = \phi(x_t,\ h_{t-1};\ W), \qquad " + vr.READOUT)

# ---------------------------------------------------------------- controls
with st.sidebar:
    st.header("Settings")
    task = params.select("Task", "task", rnn.TASKS, "sine", format_func=TASK_LABELS.get)
    cell = params.select("Cell type", "cell", rnn.CELLS, "lstm", format_func=CELL_LABELS.get)
    hidden = params.slider("Hidden size H", "hidden", 1, UI_MAX_HIDDEN, 32)
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
    optimizer = params.select("Optimizer", "opt", rnn.OPTIMIZERS, "adam", format_func=str.upper)
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.03)
    steps = params.slider("Training steps", "steps", 10, UI_MAX_STEPS, 150, 10)
    compare = params.toggle("Also train the other two cells (gradient chart)", "cmp", True)

cfg = RNNConfig(
    task=task, cell=cell, hidden=hidden, seq_len=seq_len, gap=gap, noise=noise, bptt=bptt,
    clip=clip if clip_on else 0.0, optimizer=optimizer, lr=lr, steps=steps,
)  # fmt: skip
if (cfg := rnn.within_budget(asked := cfg)) != asked:
    st.info(
        f"Training is capped at **{cfg.steps} steps** for H = {hidden} and sequences of "
        f"{cfg.length} steps (you asked for {asked.steps}): this server shares its CPU with "
        "other learners, so one run may cost at most a few seconds. A smaller H or T allows "
        "more steps.",
        icon=":material/speed:",
    )
st.subheader(f"The {CELL_LABELS[cell]} cell")
st.plotly_chart(fast.figure(("rnn.unrolled", cell), lambda: vr.unrolled(cell)), key="unrolled")
for line in vr.EQUATIONS[cell]:
    st.latex(line)
st.caption(vr.SYMBOLS[cell])

with st.container():  # training's progress bar lives here: later elements keep their place
    res = trained(cfg)
    others = [trained(replace(cfg, cell=c)) for c in rnn.CELLS if c != cell] if compare else []
if (lesson := rnn.diagnose(res)) is not None:
    st.warning(lesson, icon=":material/warning:")

# ---------------------------------------------------------------- results
m1, m2, m3, m4 = st.columns(4)
m1.metric(cfg.metric, "diverged" if res.diverged_at else f"{res.final_metric:.3g}")
m2.metric("Training time", f"{res.seconds:.2f} s", f"{len(res.loss)} steps", delta_color="off")
m3.metric("Device", res.device)
if res.valid_fraction is not None:
    m4.metric("Sampled strings that obey the grammar", f"{res.valid_fraction:.0%}")
elif res.seconds_to_target is not None:
    m4.metric(f"Time to reach {rnn.TARGETS[task]:g}", f"{res.seconds_to_target:.2f} s")


@fast.section  # the sequence slider reruns only this section (one_step below): nothing retrains
def inspector(res: RNNResult, others: list[RNNResult]) -> None:
    cfg, task = res.config, res.config.task
    runs = (cfg, *(r.config for r in others))
    n_ex = res.example_x.shape[0]
    clamp_state("ex", 1, n_ex, 1)
    ex = st.slider("Test sequence to inspect", 1, n_ex, key="ex") - 1
    left, right = st.columns(2)
    with left:
        if task in ("sine", "noisy"):
            fig = fast.figure(("rnn.forecast", cfg, ex), lambda: vr.forecast(res, ex))
            st.plotly_chart(fig, key="task-fig")
        elif task == "memory":
            fig = fast.figure(("rnn.memory", cfg), lambda: vr.memory_answer(res))
            st.plotly_chart(fig, key="task-fig")
            st.caption("Chance is 25 %: four symbols. The model answers only at the recall cue.")
        else:
            fig = fast.figure(("rnn.reber", cfg, ex), lambda: vr.reber_next(res, ex))
            st.plotly_chart(fig, key="task-fig")
            st.caption("Sampled from the trained model: " + ", ".join(res.samples[:6]))
    with right:
        fig = fast.figure(("rnn.metric", runs), lambda: vr.metric_curve([res, *others]))
        st.plotly_chart(fig, key="metric")
    c1, c2 = st.columns(2)
    c1.plotly_chart(fast.figure(("rnn.loss", cfg), lambda: vr.loss_curve(res.loss)), key="loss")
    c2.plotly_chart(fast.figure(("rnn.gnorm", cfg), lambda: vr.grad_norms(res)), key="gnorm")
    st.subheader("One time step with your numbers")
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
        "$(W_i x_t + b_i)_j$ plus the recurrent part $(W_h h_{t-1} + b_h)_j$:"
    )
    for line in vr.step_with_numbers(s):
        st.latex(line)
    st.caption(
        f"Readout at this step: ŷ = {', '.join(f'{v:.4g}' for v in s.y_hat[:7])}. "
        "Numbers from the hand-written cell running the weights you just trained."
    )
    states = rnn.example_states(res, ex)  # the hand-written cell over the sequence: a few ms
    heat = fast.figure(("rnn.heat", cfg, ex, t), lambda: vr.hidden_heatmap(states.h[0].numpy(), t))
    gate_vals = {g: v[0].numpy() for g, v in states.gates.items()}
    gates = fast.figure(("rnn.gates", cfg, ex, j), lambda: vr.gates(gate_vals, j, cfg.cell))
    h1, h2 = st.columns(2)
    h1.plotly_chart(heat, key="heat")
    h2.plotly_chart(gates, key="gates")


inspector(res, others)

# ---------------------------------------------------------------- vanishing gradients
st.subheader("Vanishing and exploding gradients through time")
st.markdown(
    "Backpropagation through time multiplies the gradient by one Jacobian per step back. "
    "For the vanilla RNN each factor is $\\operatorname{diag}(1 - h_t^2)\\,W_{hh}$: when its "
    "norm is below 1 the signal from an input $k$ steps back shrinks like a power of $k$ "
    "(vanishing), above 1 it grows (exploding). The LSTM's cell state is updated by "
    "*addition*, $c_t = f_t \\odot c_{t-1} + \\dots$, so along it the factor is the forget "
    "gate $f_t$, which the network can hold near 1."
)
st.latex(
    r"\frac{\partial L}{\partial x_{T-k}} = \frac{\partial L}{\partial h_T}"
    r"\prod_{s=T-k+1}^{T} \frac{\partial h_s}{\partial h_{s-1}}\;"
    r"\frac{\partial h_{T-k}}{\partial x_{T-k}},\qquad "
    r"\frac{\partial h_s}{\partial h_{s-1}} = \operatorname{diag}(1 - h_s^2)\,W_{hh}"
    r"\ \ (\text{vanilla RNN})"
)
gtt = fast.figure(  # the gradients (autograd through every model) are part of the figure
    ("rnn.gtt", cfg, tuple(r.config for r in others)),
    lambda: vr.gradient_through_time(
        {r.config.cell: rnn.input_gradient_norms(r.config, r.state) for r in [res, *others]}
    ),
)
st.plotly_chart(gtt, key="gtt")
st.caption(
    "Mean over 64 test sequences of the gradient of the loss at the last scored step with "
    "respect to the input k steps earlier, for each trained model"
    + ("." if others else " (turn on “Also train the other two cells” to compare).")
)

# ---------------------------------------------------------------- try this
base = dict(hidden=32, bptt=0, clipon=True, clip=1.0, opt="adam", cmp=False)
presets = {  # button: (settings, what to look for)
    "RNN vs LSTM on a long gap": (
        dict(base, task="memory", cell="lstm", gap=40, lr=0.01, steps=600, cmp=True),
        "40 distractors between the symbol and the cue: here the LSTM and GRU learn to recall "
        "it, the vanilla RNN stalls at 50 %. Compare the gradient curves (other seeds and rates "
        "can differ: clipping and Adam rescue the RNN surprisingly often).",
    ),
    "Exploding gradients without clipping": (
        dict(base, task="sine", cell="rnn", T=100, opt="sgd", lr=1.0, clipon=False, steps=150),
        "Plain SGD with η = 1 on 100-step windows: the gradient norm explodes and training "
        "diverges. Turn clipping back on.",
    ),
    "GRU with a tiny hidden size": (
        dict(base, task="sine", cell="gru", hidden=3, T=24, lr=0.03, steps=300),
        "Three numbers of memory are enough to forecast a sine: watch each unit in the heat map.",
    ),
    "Truncated BPTT shorter than the gap": (
        dict(base, task="memory", cell="gru", gap=10, bptt=4, lr=0.03, steps=300),
        "Gradients are cut every 4 steps, so the loss at the cue never reaches the symbol 11 "
        "steps back: accuracy stays at chance.",
    ),
}
params.try_this(presets)


# ---------------------------------------------------------------- under the hood
@fast.section  # opening the expander reruns only this section, and its work runs only when open
def under_the_hood(res: RNNResult) -> None:
    cell = res.config.cell
    box = st.expander("Under the hood: hand-written cells vs torch.nn", icon=":material/code:",
                      key="hood", on_change="rerun")  # fmt: skip
    if not box.open:
        return
    with box:
        st.markdown(
            f"Training uses the fused `torch.nn.{ {'rnn': 'RNN', 'lstm': 'LSTM', 'gru': 'GRU'}[cell] }` "
            "(one call per sequence, cuDNN on a GPU). The walkthrough above runs the hand-written "
            "cell below, a few tensor ops per step, on the same weights. Largest difference of the "
            f"hidden states over {res.example_x.shape[0]} test sequences: "
            f"**{rnn.handwritten_vs_fused(res):.2e}** (float32 rounding)."
        )
        fn = {"rnn": rnn.rnn_cell, "lstm": rnn.lstm_cell, "gru": rnn.gru_cell}[cell]
        st.code(inspect.getsource(fn), language="python")
        st.code(inspect.getsource(rnn.unroll), language="python")
        st.caption(
            f"Device: {res.device} (runs with batch·T·H² ≥ {rnn.CUDA_MIN_WORK:,} use CUDA when a "
            "GPU is present; smaller ones stay on the CPU, where a launch costs less). "
            f"Training took {res.seconds:.2f} s for {len(res.loss)} steps."
        )


under_the_hood(res)
