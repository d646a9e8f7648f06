"""Generative adversarial networks: GAN Lab's live 2-D view, plus the theory it leaves out."""

import inspect

import streamlit as st

from dl_core import engine, gan, notation
from dl_core.gan import LOSS_LABELS, TARGET_LABELS, GanConfig
from ui import lesson, params, play
from viz import gan as vg
from viz.latex import plain

LR_OPTIONS = params.log_options(-5, 0)  # 1e-5 .. 1
TICK_SECONDS = 0.25  # the live view redraws up to 4 times a second
UI_MAX_STEPS = 20_000  # playing stops here
TABS = ("Learned D vs D*", "Losses and coverage", "The game in numbers", "Under the hood")
NAMES = {"adam": "Adam", "sgd": "SGD", "relu": "ReLU", "leaky_relu": "leaky ReLU", "tanh": "tanh",
         "gaussian": "Gaussian N(0, I)", "uniform": "uniform on [−1, 1]"}  # fmt: skip
# The session's GAN ("gan_state"), trained live: Step and every frame train `per_tick` steps.
PLAYER = play.Player(
    "gan_playing", "gan_state", gan.advance, lambda state: state.step, UI_MAX_STEPS
)


@st.cache_data(max_entries=32, show_spinner="Comparing with autograd…")
def autograd_gap(cfg: GanConfig) -> float:
    return gan.hand_vs_autograd_gap(cfg)


def chart(where, name: str, build, *view) -> None:
    """A chart of the session's GAN: paused, built once per training state (its step) and
    view; playing, afresh every frame (``play.figure``)."""
    state = st.session_state["gan_state"]
    fig = play.figure(PLAYER, f"gan.{name}", build, state.step, state.diverged_at, *view)
    where.plotly_chart(fig, key=name)


def under_the_hood(cfg: GanConfig) -> None:
    st.subheader("A hand-written fused step vs autograd")
    st.markdown(
        "Training runs `fused_iteration`: forward and backward passes written by hand on "
        "parameters stored in one flat vector (so Adam is a handful of tensor ops), faster than "
        "autograd for networks this small. `autograd_iteration` does the same with `F.linear`, "
        "the losses as formulas and `torch.autograd.grad`; WGAN-GP always uses it, as its "
        "penalty differentiates a gradient."
    )
    if cfg.loss == "wgan_gp":
        st.info("This run trains WGAN-GP with autograd: there is no hand-written step to compare.")
    else:
        gap = plain(autograd_gap(cfg), 3)
        st.metric("max |θ_hand − θ_autograd| after 20 steps from the same start", gap)
    a, b = st.columns(2)
    a.code(inspect.getsource(gan.fused_iteration), language="python")
    b.code(inspect.getsource(gan.autograd_iteration), language="python")
    st.code(inspect.getsource(gan.backward) + inspect.getsource(engine.dense_backward), language="python")  # fmt: skip


lesson.header(
    "Generative adversarial networks",
    "Two networks play a game: the **generator** $G$ turns random noise $z$ into points, and the "
    "**discriminator** $D$ says how likely a point is to be real. $D$ learns to tell real from "
    "generated, $G$ learns to fool $D$, and when the game goes well the generated points end up "
    "distributed like the real ones: press **Play** and watch them move.",
    r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big]"
    r" + \mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big]",
    notation.caption(
        "G", "D", "x", "z", "p_data", "V",
        D="the discriminator; D(x) = σ(a(x)) is its probability that x is real, a(x) its logit",
        x="a real sample, from p_data", z="the noise, from p_z; G(z): a generated sample, from p_g",
    ),
)  # fmt: skip

BASE = dict(
    target="ring", loss="nonsaturating", d_lr=2e-3, g_lr=2e-3, g_layers=2, g_width=64, d_layers=2,
    d_width=64, act="tanh", k=1, d_opt="adam", g_opt="adam", gan_playing=True,
)  # fmt: skip
presets = {
    "D learns 100× faster than G": (
        {**BASE, "d_lr": 2e-2, "g_lr": 2e-4},
        "D wins too easily: G crawls towards a few modes and sticks there (3 of the 8 after "
        "2,000 steps, where the default settings cover all 8 by step 500).",
    ),
    "The minimax generator loss": (
        {**BASE, "loss": "minimax", "k": 5, "d_lr": 1e-2, "g_lr": 1e-3},
        "Five D steps per G step at a higher D rate make D confident early: this batch's "
        "mean D(G(z)) drops to about 0.2 (The game in numbers), where the minimax gradient, "
        "D(G(z)), is about 4× smaller than the non-saturating one, 1 − D(G(z)). At step 200 "
        "about 20 % of the samples lie within 3σ, against 40-50 % with the non-saturating "
        "loss (same settings).",
    ),
    "A tiny generator": (
        {**BASE, "g_layers": 1, "g_width": 2, "act": "relu"},
        "Two ReLU units cannot bend the noise into 8 clusters: mode collapse.",
    ),
    "SGD with a large step": (
        {**BASE, "d_opt": "sgd", "g_opt": "sgd", "d_lr": 1.0, "g_lr": 1.0, "act": "relu",
         "loss": "least_squares"},
        "Plain SGD at η = 1 with the least-squares loss: the two players overshoot each other "
        "and blow up within a few steps.",
    ),
}  # fmt: skip
lesson.try_this(presets, run_state=(PLAYER.key,))  # pressing Pause keeps the experiment

# ---------------------------------------------------------------- settings
with st.sidebar:
    st.header("Settings")
    target = params.select("Target", "target", gan.TARGETS, "ring", format_func=TARGET_LABELS.get)
    loss = params.select("Loss", "loss", gan.LOSSES, "nonsaturating", format_func=LOSS_LABELS.get)
    d_lr = params.log_slider("D learning rate", "d_lr", LR_OPTIONS, 2e-3)
    g_lr = params.log_slider("G learning rate", "g_lr", LR_OPTIONS, 2e-3)
    k = params.slider("D steps per G step", "k", 1, 5, 1)
    per_tick = params.slider("Steps per frame (and per Step)", "spt", 1, 100, 20)
    batch = params.slider("Batch size $B$", "batch", 16, 512, 128, 16)
    g_layers = params.slider("G hidden layers", "g_layers", 1, 4, 2)
    g_width = params.slider("G units per layer", "g_width", 1, 128, 64)
    d_layers = params.slider("D hidden layers", "d_layers", 1, 4, 2)
    d_width = params.slider("D units per layer", "d_width", 1, 128, 64)
    act = params.select("Activation", "act", gan.ACTIVATIONS, "tanh", format_func=NAMES.get)
    noise = params.select("Noise $p_z$", "noise", gan.NOISES, "gaussian", format_func=NAMES.get)
    nz = params.slider("Noise dimension $d_z$", "nz", 1, 8, 2)
    d_opt = params.select("D optimizer", "d_opt", gan.OPTIMIZERS, "adam", format_func=NAMES.get)
    g_opt = params.select("G optimizer", "g_opt", gan.OPTIMIZERS, "adam", format_func=NAMES.get)
    seed = params.slider("Seed", "seed", 0, 99, 0)

cfg = GanConfig(
    target=target, noise=noise, noise_dim=nz, g_hidden=(g_width,) * g_layers,
    d_hidden=(d_width,) * d_layers, activation=act, loss=loss, d_optimizer=d_opt,
    g_optimizer=g_opt, d_lr=d_lr, g_lr=g_lr, d_steps=k, batch_size=batch, seed=seed,
)  # fmt: skip
play.model(PLAYER, lambda: gan.init_state(cfg), keep=lambda state: state.cfg == cfg)
playing = play.playing(PLAYER)


@play.fragment(playing, TICK_SECONDS)
def live() -> None:
    play.frame(PLAYER, playing, per_tick)  # one frame; reruns the page when play starts or stops
    state = st.session_state["gan_state"]
    snap = gan.snapshot(state)
    cov, m = snap.coverage, snap.numbers

    left, right = st.columns([3, 2])
    play.controls(PLAYER, playing, right.columns(3), per_tick, new=lambda: gan.init_state(cfg))
    m1, m2 = right.columns(2)
    m1.metric("Generator step", f"{state.step:,}")
    m2.metric("Modes covered", f"{cov.covered} / {cov.n_modes}")
    m1.metric("Samples within 3σ", f"{cov.quality:.0%}")
    m2.metric("JS divergence", f"{plain(snap.js)} nats")
    layers = right.popover("Layers of the view", icon=":material/layers:").pills(
        "Layers of the view", vg.LAYERS, selection_mode="multi", key="layers", label_visibility="collapsed",
        default=["real", "fake", "D(x)", "arrows"], format_func=vg.LAYER_LABELS.get,
    ) or []  # fmt: skip
    right.caption(
        f"{len(snap.fake)} generated samples. A mode is covered when at least 20 % of its fair "
        f"share of them lie within 3σ of it. Device: {state.device.type.upper()}"
        + (
            f"; {state.step / max(state.seconds, 1e-9):,.0f} generator steps/s."
            if state.step
            else "."
        )
    )
    if (lesson_text := gan.diagnose(state)) is not None:
        right.warning(lesson_text, icon=":material/warning:")
    if (note := gan.collapse_note(state)) is not None:
        right.info(note, icon=":material/scatter_plot:")
    chart(left, "field", lambda: vg.field_figure(snap, layers, cfg.loss), tuple(layers), cfg.loss)

    tabs = lesson.tabs(TABS)
    if tab := tabs.open("Learned D vs D*"):
        with tab:
            st.subheader("The learned D against the best D for the current G")
            lesson.toolkit_link("information", "KL, JS, and forward vs reverse KL (mode seeking)")
            st.markdown(vg.optimum_markdown(cfg.loss))
            chart(st, "dstar", lambda: vg.dstar_figure(snap, cfg.loss), cfg.loss)
            st.latex(vg.dstar_latex(snap.js))
            st.caption(vg.dstar_caption(state.step))
    if tab := tabs.open("Losses and coverage"):
        with tab:
            st.subheader("Losses and mode coverage over training")
            c1, c2 = st.columns(2)
            if state.eval_steps:
                chart(c1, "coverage", lambda: vg.coverage_figure(
                    state.eval_steps, state.modes, state.quality, state.js, cov.n_modes))  # fmt: skip
            else:
                c1.info(f"Modes covered, the share of samples within 3σ and JS are measured every "
                        f"{cfg.eval_every} steps: the curves start at step {cfg.eval_every}. "
                        "Press Play.", icon=":material/insights:")  # fmt: skip
            if state.d_loss:
                chart(c2, "losses", lambda: vg.loss_figure(
                    state.d_loss, state.g_loss, state.log_D_real, state.log_1m_D_fake))  # fmt: skip
            else:
                c2.info("The losses of D and G, step by step, appear here once training starts: "
                        "press Play or Step.", icon=":material/show_chart:")  # fmt: skip
            st.caption(vg.COVERAGE_NOTE)
    if tab := tabs.open("The game in numbers"):
        with tab:
            st.subheader("The minimax game with this batch's numbers")
            if m is None:
                st.info("Press Step or Play: the numbers of the last training batch appear here.")
            else:
                for line in vg.minimax_latex(m):
                    st.latex(line)
                st.markdown(
                    f"These are the {m.B} real samples and the {m.B} noise draws of step "
                    f"{state.step}, under the current $D$ and $G$. {vg.variant_note(cfg.loss)}"
                )
                st.markdown(vg.saturation_note(m))
            chart(
                st, "ggrad", lambda: vg.generator_gradient_figure(None if m is None else m.D_fake)
            )
    if tab := tabs.open("Under the hood"):
        with tab:
            under_the_hood(cfg)


live()
