"""Generative adversarial networks: GAN Lab's live 2-D view, plus the theory it leaves out."""

import inspect
import math
import uuid

import streamlit as st

from dl_core import gan
from dl_core.gan import LOSS_LABELS, TARGET_LABELS, GanConfig
from ui import fast, params
from viz import gan as vg
from viz.latex import num

LR_OPTIONS = params.log_options(-5, 0)  # 1e-5 .. 1
TICK_SECONDS = 0.25  # the live view redraws up to 4 times a second
UI_MAX_STEPS = 20_000  # playing stops here


@st.cache_data(max_entries=32, show_spinner="Comparing with autograd…")
def autograd_gap(cfg: GanConfig) -> float:
    return gan.hand_vs_autograd_gap(cfg)


def tick(n: int) -> None:
    """Advance the session's GAN by n generator steps (the fragment and the Step button)."""
    state = st.session_state["gan_state"]
    gan.advance(state, min(n, UI_MAX_STEPS - state.step))
    if state.diverged_at is not None or state.step >= UI_MAX_STEPS:
        st.session_state["gan_playing"] = False


def reset() -> None:
    st.session_state.pop("gan_state", None)
    st.session_state["gan_playing"] = False


def chart(where, name: str, build, *view) -> None:
    """A chart of the session's GAN. Paused, it is built once per training state (the state's
    id and step) and view; playing, every frame is seen once, so it is built afresh rather
    than crowd the shared figure cache."""
    state = st.session_state["gan_state"]
    key = (f"gan.{name}", st.session_state["gan_state_id"], state.step, state.diverged_at)
    fig = build() if st.session_state["gan_playing"] else fast.figure((*key, *view), build)
    where.plotly_chart(fig, key=name)


@fast.section  # opening the expander reruns only this section; its work runs only when open
def under_the_hood(cfg: GanConfig) -> None:
    box = st.expander("Under the hood: a hand-written fused step vs autograd",
                      icon=":material/code:", key="gan_hood", on_change="rerun")  # fmt: skip
    if not box.open:
        return
    with box:
        st.markdown(
            "Training runs `fused_iteration`: forward and backward passes written by hand on "
            "parameters stored in one flat vector (so Adam is a handful of tensor ops), about "
            "three times faster than autograd for networks this small. `autograd_iteration` does "
            "the same with `F.linear`, the losses as formulas and `torch.autograd.grad` "
            "(WGAN-GP always uses it: its penalty differentiates a gradient). After 20 steps "
            "from the same start, the largest difference in any parameter is:"
        )
        st.metric("max |θ_hand − θ_autograd|", f"{autograd_gap(cfg):.2e}")
        a, b = st.columns(2)
        a.code(inspect.getsource(gan.fused_iteration), language="python")
        b.code(inspect.getsource(gan.autograd_iteration), language="python")
        st.code(inspect.getsource(gan.backward), language="python")


st.title("Generative adversarial networks")
st.markdown(
    "Two networks play a game. The **generator** $G$ turns random noise $z$ into points; the "
    "**discriminator** $D$ looks at a point and says how likely it is real. $D$ learns to tell "
    "real from fake, $G$ learns to fool $D$, and if the game goes well the generated points end "
    "up distributed like the real ones. Press **Play** and watch the purple samples move."
)
st.latex(
    r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big]"
    r" + \mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big]"
)
st.caption(
    "x: a real sample; z: noise from p_z; G(z): a generated sample; D(x) = σ(a(x)) ∈ (0, 1): "
    "D's probability that x is real, a(x) its logit; V: the value of the game, which D "
    "maximises and G minimises."
)

# ---------------------------------------------------------------- controls
with st.sidebar:
    st.header("Settings")
    target = params.select("Target", "target", gan.TARGETS, "ring", format_func=TARGET_LABELS.get)
    noise = params.select("Noise p_z", "noise", gan.NOISES, "gaussian")
    nz = params.slider("Noise dimension", "nz", 1, 8, 2)
    g_layers = params.slider("G hidden layers", "g_layers", 1, 4, 2)
    g_width = params.slider("G units per layer", "g_width", 1, 128, 64)
    d_layers = params.slider("D hidden layers", "d_layers", 1, 4, 2)
    d_width = params.slider("D units per layer", "d_width", 1, 128, 64)
    act = params.select("Activation", "act", gan.ACTIVATIONS, "tanh")
    loss = params.select("Loss", "loss", gan.LOSSES, "nonsaturating", format_func=LOSS_LABELS.get)
    d_opt = params.select("D optimizer", "d_opt", gan.OPTIMIZERS, "adam")
    g_opt = params.select("G optimizer", "g_opt", gan.OPTIMIZERS, "adam")
    d_lr = params.log_slider("D learning rate", "d_lr", LR_OPTIONS, 2e-3)
    g_lr = params.log_slider("G learning rate", "g_lr", LR_OPTIONS, 2e-3)
    k = params.slider("D steps per G step", "k", 1, 5, 1)
    batch = params.slider("Batch size B", "batch", 16, 512, 128, 16)
    seed = params.slider("Seed", "seed", 0, 99, 0)
    per_tick = params.slider("Steps per frame", "spt", 1, 100, 20)

cfg = GanConfig(
    target=target, noise=noise, noise_dim=nz, g_hidden=(g_width,) * g_layers,
    d_hidden=(d_width,) * d_layers, activation=act, loss=loss, d_optimizer=d_opt,
    g_optimizer=g_opt, d_lr=d_lr, g_lr=g_lr, d_steps=k, batch_size=batch, seed=seed,
)  # fmt: skip
if "gan_state" not in st.session_state or st.session_state["gan_state"].cfg != cfg:
    st.session_state["gan_state"] = gan.init_state(cfg)
    st.session_state["gan_state_id"] = uuid.uuid4().hex  # names this run in figure keys
st.session_state.setdefault("gan_state_id", uuid.uuid4().hex)
st.session_state.setdefault("gan_playing", False)
playing = st.session_state["gan_playing"]

c1, c2, c3 = st.columns(3)
c1.button(
    "Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
    on_click=lambda: st.session_state.update(gan_playing=not playing), use_container_width=True,
)  # fmt: skip
c2.button(
    "Step", icon=":material/skip_next:", on_click=tick, args=(per_tick,), use_container_width=True
)
c3.button("Reset", icon=":material/restart_alt:", on_click=reset, use_container_width=True)
layers = st.multiselect(
    "Layers of the view", vg.LAYERS, default=["real", "fake", "D(x)", "arrows"], key="layers",
    format_func=vg.LAYER_LABELS.get,
)  # fmt: skip


@st.fragment(run_every=TICK_SECONDS if playing else None)
def live() -> None:
    state = st.session_state["gan_state"]
    if st.session_state["gan_playing"]:
        tick(per_tick)
        if not st.session_state["gan_playing"]:  # stopped by divergence or the cap
            st.rerun()
    snap = gan.snapshot(state)
    wgan = cfg.loss == "wgan_gp"
    if (lesson := gan.diagnose(state)) is not None:
        st.warning(lesson, icon=":material/warning:")
    if (note := gan.collapse_note(state)) is not None:
        st.info(note, icon=":material/scatter_plot:")

    left, right = st.columns([3, 2])
    chart(left, "field", lambda: vg.field_figure(snap, layers, wgan), tuple(layers), wgan)
    cov = snap.coverage
    m1, m2 = right.columns(2)
    m1.metric("Generator step", state.step)
    m2.metric("Modes covered", f"{cov.covered} / {cov.n_modes}")
    m1.metric("Samples within 3σ", f"{cov.quality:.0%}")
    m2.metric("JS divergence", f"{snap.js:.3f} nats")
    right.caption(
        f"{len(snap.fake)} generated samples. A mode is covered when it holds at least 20 % of "
        "its fair share of the samples within 3σ of the target (for the spiral, moons and line "
        f"the modes are equal stretches of the curve). Device: {state.device.type}; "
        f"{state.step / max(state.seconds, 1e-9):,.0f} steps/s of training."
    )
    chart(right, "coverage", lambda: vg.coverage_figure(
        state.eval_steps, state.modes, state.quality, state.js, cov.n_modes))  # fmt: skip

    st.subheader("The minimax game with this batch's numbers")
    m = snap.numbers
    if m is None:
        st.info("Press Step or Play: the numbers of the last training batch appear here.")
    else:
        for line in vg.minimax_latex(m):
            st.latex(line)
        st.markdown(
            f"These are the {m.B} real samples and the {m.B} noise draws of step {state.step}, "
            f"under the current $D$ and $G$. {vg.variant_note(cfg.loss)} "
            "Early on $D$ easily spots the fakes, so $D(G(z)) \\approx 0$ and "
            "$\\log(1 - D(G(z)))$ is flat there: the minimax generator loss **saturates** and "
            "G gets almost no gradient. The non-saturating loss $-\\log D(G(z))$ has the same "
            "goal but its gradient is largest exactly there, which is why it is used in practice."
        )
    g1, g2 = st.columns(2)
    chart(g1, "ggrad", lambda: vg.generator_gradient_figure(None if m is None else m.D_fake))
    chart(g2, "losses", lambda: vg.loss_figure(state.d_loss, state.g_loss, state.log_D_real,
                                               state.log_1m_D_fake))  # fmt: skip

    st.subheader("The optimal discriminator")
    st.markdown(
        "For a fixed generator with density $p_g$, the best possible discriminator is "
        "$D^*(x) = \\dfrac{p_\\text{data}(x)}{p_\\text{data}(x) + p_g(x)}$, and plugging it in "
        "turns the game into a divergence: $V(D^*, G) = -\\log 4 + 2\\,\\mathrm{JS}(p_\\text{data}"
        "\\,\\|\\,p_g)$. Below, both densities are estimated on a grid with Gaussian kernels "
        "(blank where neither has mass); compare the learned $D$ with $D^*$."
    )
    chart(st, "dstar", lambda: vg.dstar_figure(snap, wgan), wgan)
    v_star = -math.log(4) + 2 * snap.js
    st.latex(
        rf"\mathrm{{JS}}(p_\text{{data}} \,\|\, p_g) = {num(snap.js)}\ \text{{nats}}"
        rf"\ \Rightarrow\ V(D^*, G) = -\log 4 + 2 \cdot {num(snap.js)} = {num(v_star)}"
    )
    st.caption(
        f"The smallest possible value, −log 4 = {-math.log(4):.4f}, is reached only when "
        "p_g = p_data: then D* = 1/2 everywhere and no discriminator can do better than a coin."
        + (" WGAN-GP's critic outputs an unbounded score, not a probability (left panel on "
           "its own scale): D* is the optimum of the original game, not of the critic's."
           if wgan else "")
    )  # fmt: skip


live()

# ---------------------------------------------------------------- try this
BASE = dict(
    target="ring", loss="nonsaturating", d_lr=2e-3, g_lr=2e-3, g_layers=2, g_width=64, d_layers=2,
    d_width=64, act="tanh", k=1, d_opt="adam", g_opt="adam", gan_playing=True,
)  # fmt: skip
presets = {
    "D learns 100× faster than G": {**BASE, "d_lr": 2e-2, "g_lr": 2e-4},
    "The minimax generator loss": {**BASE, "loss": "minimax", "k": 5, "d_lr": 1e-2, "g_lr": 1e-3},
    "A tiny generator": {**BASE, "g_layers": 1, "g_width": 2, "act": "relu"},
    "SGD with a large step": {**BASE, "d_opt": "sgd", "g_opt": "sgd", "d_lr": 1.0, "g_lr": 1.0,
                              "act": "relu", "loss": "least_squares"},
}  # fmt: skip
notes = {
    "D learns 100× faster than G": "D wins too easily: G crawls towards a few modes and sticks there.",
    "The minimax generator loss": "Five D steps per G step at a higher D rate make D confident at once: this batch's D(G(z)) starts near 0 on the gradient chart, where the minimax gradient vanishes. Compare the early share within 3σ with the non-saturating loss (same settings).",
    "A tiny generator": "Two ReLU units cannot bend the noise into 8 clusters: mode collapse.",
    "SGD with a large step": "Plain SGD at η = 1 with the least-squares loss: the two players overshoot each other and blow up within a few steps.",
}
params.try_this({name: (values, notes[name]) for name, values in presets.items()})

# ---------------------------------------------------------------- under the hood
under_the_hood(cfg)
