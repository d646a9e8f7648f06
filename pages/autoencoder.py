"""Autoencoders and variational autoencoders: a latent space you can walk."""

import inspect
from functools import partial

import numpy as np
import streamlit as st

from dl_core import autoencoder as ae
from dl_core import notation
from dl_core.autoencoder import AEConfig, AEResult
from dl_core.training import ResultCache
from ui import fast, lesson, params
from ui.live import train_live
from viz import autoencoder as va
from viz.latex import plain

LR_OPTIONS = params.log_options(-4, 0)  # 1e-4 .. 1
UI_MAX_STEPS = 2000
DENOISE_LATENT = 16  # a roomy code: a plain AE can copy the noise, a denoising AE must not
SHOW = 10  # digits per row of reconstructions
LIVE_AFTER_S = 1.0  # a shorter run draws no live curve: each frame costs 10-20 ms of its CPU
PRESETS = {  # button: (settings, what to look for)
    "β = 0: no price on the code": (dict(beta=0.0, latent=2), "No KL price: σ shrinks to almost 0 and the codes spread far beyond the prior; the VAE becomes a plain AE with a little noise."),
    "β = 5: posterior collapse": (dict(beta=5.0, latent=2), "Information is too expensive: μ ≈ 0, σ ≈ 1, KL ≈ 0; every digit decodes to the same blur."),
    "8-D code instead of 2-D": (dict(latent=8, beta=1.0), "Eight numbers per digit: the AE's test MSE falls by more than half, the VAE's by about a quarter (the planes show z₁, z₂)."),
    "Back to 2-D, β = 1": (dict(latent=2, beta=1.0), "The default ELBO with a 2-D code."),
}  # fmt: skip
TABS = ["The latent space", "Reconstructions", "Generate: walk the latent plane",
        "VAE: the loss terms", "Under the hood"]  # fmt: skip


@st.cache_resource
def store() -> ResultCache:
    """Trained models by config, shared by all sessions; results are frozen and read-only."""
    return ResultCache(max_entries=32)


def trained(cfg: AEConfig) -> AEResult:
    """Cached result, or train now with a progress bar and a live curve."""
    label = ae.KIND_LABELS[cfg.kind].lower()
    return train_live(
        store(), cfg, ae.train, label, partial(va.progress, cfg), after_s=LIVE_AFTER_S
    )


def decode_from_click() -> None:
    points = st.session_state["scatter"].selection.points
    if points:
        st.session_state["z1"], st.session_state["z2"] = points[0]["x"], points[0]["y"]


def clamped_slider(label: str, key: str, lo: float, hi: float, default: float) -> float:
    """A slider whose range follows the trained model; a stale value is clamped first."""
    st.session_state[key] = float(np.clip(st.session_state.get(key, default), lo, hi))
    return st.slider(label, float(lo), float(hi), step=(hi - lo) / 200, key=key, format="%.2f")


lesson.header(va.TITLE, va.IDEA, va.HEADER, va.header_symbols())
with st.sidebar:
    st.header("Settings")
    latent = params.slider("Latent size $d_z$", "latent", 1, 16, 2)
    beta = params.slider("VAE β (weight of the KL)", "beta", 0.0, 10.0, 1.0, 0.25)
    hidden = params.slider("Hidden width", "hidden", 16, 256, 64, 16)
    steps = params.slider("Adam steps", "steps", 50, UI_MAX_STEPS, 600, 50)
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.005)
    seed = params.slider("Seed", "seed", 0, 99, 0)
lesson.try_this(PRESETS)

common = dict(latent=latent, hidden=hidden, steps=steps, lr=lr, seed=seed)
with st.container():  # training's progress bars live here: later elements keep their place
    res_ae = trained(AEConfig("ae", **common))
    res_vae = trained(AEConfig("vae", beta=beta, **common))
for r in (res_ae, res_vae):
    if r.diverged_at is not None:
        st.warning(
            f"The {ae.KIND_LABELS[r.config.kind].lower()} diverged at step {r.diverged_at}: the "
            "loss became infinite or NaN (a learning rate too large for Adam here). Lower η.",
            icon=":material/warning:",
        )
chart, numbers = st.columns([4, 1], vertical_alignment="center")
planes = ("ae.planes", res_ae.config, res_vae.config)
chart.plotly_chart(fast.figure(planes, lambda: va.latent_planes(res_ae, res_vae)), key="planes")
numbers.metric("AE test MSE per pixel", plain(res_ae.final_mse, 3))
numbers.metric("VAE test MSE per pixel", plain(res_vae.final_mse, 3))
numbers.metric("VAE's KL, nats per image", plain(float(res_vae.kl[-1]), 3) if len(res_vae.kl) else "–")  # fmt: skip
st.caption(va.PLANES_CAPTION)
tabs = lesson.tabs(TABS)


@fast.section  # the test digit reruns only this section
def one_digit(res_ae: AEResult, res_vae: AEResult) -> None:
    i = st.slider("Test digit #", 0, len(res_ae.y_test) - 1, 0, key="digit")
    num_col, img_col = st.columns([3, 2])
    with num_col:
        st.markdown(f"**With your numbers** (test digit #{i}, a **{res_ae.y_test[i]}**):")
        for line in va.ae_numbers(ae.ae_sample(res_ae, i)):
            st.latex(line)
    key = ("ae.mine", res_ae.config, res_vae.config, i)
    img_col.plotly_chart(
        fast.figure(key, lambda: va.digit_and_reconstructions(res_ae, res_vae, i)), key="mine"
    )


@fast.section  # moving z reruns only this walk: decoding a point is one small forward pass
def walk(res_ae: AEResult, res_vae: AEResult, latent: int) -> None:
    which = st.radio("Walk the latent space of", ["AE", "VAE"], horizontal=True, key="walk")
    res = res_ae if which == "AE" else res_vae
    (a, b), (c, d) = ae.latent_range(res)
    left, right = st.columns([3, 1])
    with right:
        z1 = clamped_slider("z₁", "z1", a, b, 0.5 * (a + b))
        z2 = clamped_slider("z₂", "z2", c, d, 0.5 * (c + d)) if latent > 1 else 0.0
        image = fast.figure(("ae.decoded", res.config, z1, z2), lambda: va.decoded(res, z1, z2))
        st.plotly_chart(image, key="decoded")
        if latent > 2:
            st.caption(
                "Only z₁, z₂ move; the other coordinates stay at the "
                + ("prior mean 0." if which == "VAE" else "mean test code.")
            )
    with left:
        title = f"{which} codes of the test digits (click anywhere to decode that point)"
        codes = fast.figure(("ae.codes", res.config), lambda: va.latent_scatter(res, title))
        marked = fast.figure(
            ("ae.codes", res.config, z1, z2), lambda: va.with_point(codes, (z1, z2))
        )
        st.plotly_chart(marked, key="scatter", on_select=decode_from_click, selection_mode="points")


@fast.section  # the digit and the draw of ε rerun only these numbers
def vae_numbers(res_vae: AEResult) -> None:
    a, b = st.columns(2)
    i = a.slider("Test digit #", 0, len(res_vae.y_test) - 1, 0, key="vae_digit")
    draw = b.slider("Draw of ε", 0, 20, 0, key="eps_draw")
    st.markdown(
        f"**With your numbers** (test digit #{i}, a **{res_vae.y_test[i]}**, draw {draw} of ε):"
    )
    for line in va.vae_numbers(ae.vae_sample(res_vae, i, seed=draw)):
        st.latex(line)


@fast.section  # the two digits rerun only this path
def interpolation(res_ae: AEResult, res_vae: AEResult, start: int, end: int) -> None:
    p1, p2 = st.columns(2)
    ia = int(p1.number_input("From test digit #", 0, len(res_vae.y_test) - 1, start, key="from"))
    ib = int(p2.number_input("To test digit #", 0, len(res_vae.y_test) - 1, end, key="to"))
    key = ("ae.interp", res_ae.config, res_vae.config, ia, ib)
    path = fast.figure(key, lambda: va.interpolation(res_ae, res_vae, ia, ib))
    st.plotly_chart(path, key="interp")


@fast.section  # the noise level retrains only the denoising AE and reruns only this section
def denoising(common: dict) -> None:
    noise = params.slider("Noise level s", "noise", 0.05, 0.8, 0.3, 0.05)
    dn = dict(common, latent=DENOISE_LATENT)
    with st.container():
        plain_ae, dae = trained(AEConfig("ae", **dn)), trained(AEConfig("ae", noise=noise, **dn))
    d = ae.denoising_errors(plain_ae, dae, noise, SHOW, seed=common["seed"])
    fig = fast.figure(("ae.denoise", dae.config), lambda: va.denoising(*d.images))
    st.plotly_chart(fig, key="denoise")
    e1, e2, e3 = st.columns(3)
    e1.metric("noisy input: MSE to the clean digits", plain(d.noisy, 3))
    e2.metric("plain AE: MSE to the clean digits", plain(d.plain, 3))
    e3.metric("denoising AE: MSE to the clean digits", plain(d.dae, 3))


picks = [int(np.nonzero(res_ae.y_test == k)[0][0]) for k in range(10)]  # one test image per class
if tab := tabs.open("The latent space"):
    with tab:
        st.subheader("From an image to its code and back")
        st.latex(va.AE_FORMULA)
        st.caption(notation.caption(*va.AE_SYMBOLS["keys"], **va.AE_SYMBOLS["meanings"]))
        one_digit(res_ae, res_vae)
        st.subheader("A linear autoencoder finds PCA's subspace")
        st.latex(va.LINEAR_FORMULA)
        with st.container():
            res_lin = trained(AEConfig("linear", latent=latent, steps=400, lr=0.03, seed=seed))
        cmp = ae.compare_with_pca(res_lin)
        st.markdown(va.PCA_TEXT)
        st.latex(va.pca_numbers(cmp))
        pca = fast.figure(("ae.pca", res_lin.config), lambda: va.pca_bases(cmp, res_lin.weights["Wd"]))  # fmt: skip
        st.plotly_chart(pca, key="pca")
        st.caption(va.PCA_CAPTION)

if tab := tabs.open("Reconstructions"):
    with tab:
        st.subheader("Reconstructions")
        recons = fast.figure(("ae.recons", res_ae.config, res_vae.config),
                             lambda: va.reconstructions(res_ae, res_vae, picks))  # fmt: skip
        st.plotly_chart(recons, key="recons")
        st.subheader("A denoising autoencoder")
        st.markdown(va.DENOISE_TEXT.format(d_z=DENOISE_LATENT))
        denoising(common)

if tab := tabs.open("Generate: walk the latent plane"):
    with tab:
        st.subheader("Walk the latent plane: every point decodes to an image")
        walk(res_ae, res_vae, latent)
        for col, r in zip(st.columns(2), (res_ae, res_vae), strict=True):
            grid = fast.figure(("ae.grid", r.config), lambda r=r: va.decoded_grid(r, 10))
            col.plotly_chart(grid, key=f"grid-{r.config.kind}")
        st.subheader("Interpolation between two digits")
        interpolation(res_ae, res_vae, picks[2], picks[4])

if tab := tabs.open("VAE: the loss terms"):
    with tab:
        st.subheader("The variational autoencoder and its loss")
        lesson.toolkit_link(
            "information", "KL divergence, and the reparameterisation z = μ + σε (Probability tab)"
        )
        st.markdown(va.VAE_TEXT)
        for line in (va.VAE_FORMULA, va.ELBO_DEF, va.ELBO):
            st.latex(line)
        st.caption(notation.caption(*va.VAE_SYMBOLS) + " " + va.BETA_NOTE)
        st.info(va.bce_note(ae.recon_floor(res_vae)), icon=":material/info:")
        lesson.toolkit_link(
            "probability", "the Gaussian, sampling z = μ + σε, and BCE as a Bernoulli likelihood"
        )
        lesson.toolkit_link("information", "entropy, cross-entropy and the KL divergence")
        vae_numbers(res_vae)
        curves = fast.figure(("ae.curves", res_vae.config), lambda: va.training_curves(res_vae, "VAE training"))  # fmt: skip
        st.plotly_chart(curves, key="vae-curves")

if tab := tabs.open("Under the hood"):
    with tab:
        st.subheader("Under the hood: hand-written tensor ops vs torch")
        st.dataframe(va.gaps_table(res_ae, res_vae), hide_index=True)
        for fn in (ae.encode, ae.decode_logits, ae.reparameterize, ae.kl_normal, ae.bce_with_logits):  # fmt: skip
            st.code(inspect.getsource(fn), language="python")
        st.caption(
            f"Device: {res_ae.device.upper()}. Full-batch Adam on {res_ae.extra['n_train']} "
            f"training images; {steps} steps took {res_ae.seconds:.2f} s (AE) and "
            f"{res_vae.seconds:.2f} s (VAE) when they were trained; a cached model decodes "
            "without retraining."
        )
