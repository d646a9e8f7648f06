"""Autoencoders and variational autoencoders: a latent space you can walk."""

import inspect
from functools import partial

import numpy as np
import streamlit as st

from dl_core import autoencoder as ae
from dl_core.autoencoder import AEConfig, AEResult
from dl_core.training import ResultCache
from ui import fast, params
from ui.live import train_live
from viz import autoencoder as va

LR_OPTIONS = params.log_options(-4, 0)  # 1e-4 .. 1
UI_MAX_STEPS = 2000
DENOISE_LATENT = 16  # a roomy code: a plain AE can copy the noise, a denoising AE must not
SHOW = 10  # digits per row of reconstructions
LIVE_AFTER_S = 1.0  # a shorter run draws no live curve: each frame costs 10-20 ms of its CPU


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


st.title("Autoencoders & variational autoencoders")
st.markdown(
    "An **autoencoder** squeezes each 8×8 digit (64 numbers) through a bottleneck of just "
    "$L$ numbers, the **code** $z$, and learns to rebuild the image from it. With $L = 2$ the "
    "codes are points in a plane you can look at, and every point of the plane decodes to an "
    "image. A **variational** autoencoder makes that plane a well-behaved *probability* space, "
    "so you can sample new digits from it."
)
st.latex(va.AE_FORMULA)
st.latex(va.AE_LOSS)
st.caption(
    "x: the 64 pixel values in [0, 1]; h, h′: hidden layers; W, b: weights and biases; "
    "relu(u) = max(u, 0); σ: the sigmoid, which keeps x̂ in [0, 1]; z: the code (L numbers); "
    "φ, θ: encoder and decoder parameters; N: number of training images."
)

# ---------------------------------------------------------------- controls
with st.sidebar:
    st.header("Settings")
    latent = params.slider("Latent size L", "latent", 1, 16, 2)
    hidden = params.slider("Hidden width", "hidden", 16, 256, 64, 16)
    beta = params.slider("VAE β (weight of the KL)", "beta", 0.0, 10.0, 1.0, 0.25)
    steps = params.slider("Adam steps", "steps", 50, UI_MAX_STEPS, 600, 50)
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.005)
    seed = params.slider("Seed", "seed", 0, 99, 0)

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

# ---------------------------------------------------------------- the autoencoder
st.header("1 · The autoencoder and its latent plane")


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


one_digit(res_ae, res_vae)


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


walk(res_ae, res_vae, latent)

picks = [int(np.nonzero(res_ae.y_test == k)[0][0]) for k in range(10)]  # one test image per class
recons = fast.figure(
    ("ae.recons", res_ae.config, res_vae.config), lambda: va.reconstructions(res_ae, res_vae, picks)
)
st.plotly_chart(recons, key="recons")
c1, c2, c3 = st.columns(3)
c1.metric("AE test MSE per pixel", f"{res_ae.final_mse:.4f}")
c2.metric("VAE test MSE per pixel", f"{res_vae.final_mse:.4f}")
c3.metric("Training time (AE + VAE)", f"{res_ae.seconds + res_vae.seconds:.2f} s",
          help=f"device: {res_ae.device}")  # fmt: skip
for col, r in zip(st.columns(2), (res_ae, res_vae), strict=True):
    grid = fast.figure(("ae.grid", r.config), lambda r=r: va.decoded_grid(r, 10))
    col.plotly_chart(grid, key=f"grid-{r.config.kind}")

# ---------------------------------------------------------------- VAE
st.header("2 · The variational autoencoder")
st.markdown(
    "The VAE's encoder outputs a whole Gaussian $q_\\phi(z\\mid x) = \\mathcal N(\\mu, "
    "\\operatorname{diag}\\sigma^2)$ per image. A sample $z$ is written as $\\mu + \\sigma "
    "\\odot \\varepsilon$ with fixed noise $\\varepsilon$, so gradients flow to $\\mu$ and "
    "$\\sigma$ (the **reparameterisation trick**). The loss, the negative **ELBO**, rewards "
    "good reconstructions and charges, in nats, for every code that strays from the prior "
    "$\\mathcal N(0, I)$; $\\beta$ sets that price."
)
st.latex(va.VAE_FORMULA)
st.latex(va.ELBO)


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


vae_numbers(res_vae)
st.plotly_chart(
    fast.figure(("ae.curves", res_vae.config), lambda: va.training_curves(res_vae, "VAE training")),
    key="vae-curves",
)
s1, s2 = st.columns(2)
s1.plotly_chart(fast.figure(("ae.side", res_ae.config), lambda: va.latent_scatter(
    res_ae, "AE: codes z (no prior, any scale)", clickable=False)), key="side-ae")  # fmt: skip
s2.plotly_chart(fast.figure(("ae.side", res_vae.config), lambda: va.latent_scatter(
    res_vae, "VAE: means μ, 2σ ellipses and the prior", ellipses=60, clickable=False)),
    key="side-vae")  # fmt: skip
st.caption(
    "The AE may put its codes anywhere and leave holes between classes. The KL term pulls "
    "the VAE's posteriors towards the dashed prior circle and keeps each one wide, so the "
    "plane is covered and nearby points decode to similar digits. β = 0 removes that pull; "
    "a large β pulls every posterior onto the prior, and the codes stop carrying information."
)
st.subheader("Interpolation between two digits")


@fast.section  # the two digits rerun only this path
def interpolation(res_ae: AEResult, res_vae: AEResult, start: int, end: int) -> None:
    p1, p2 = st.columns(2)
    ia = int(p1.number_input("From test digit #", 0, len(res_vae.y_test) - 1, start, key="from"))
    ib = int(p2.number_input("To test digit #", 0, len(res_vae.y_test) - 1, end, key="to"))
    key = ("ae.interp", res_ae.config, res_vae.config, ia, ib)
    path = fast.figure(key, lambda: va.interpolation(res_ae, res_vae, ia, ib))
    st.plotly_chart(path, key="interp")


interpolation(res_ae, res_vae, picks[2], picks[4])

# ---------------------------------------------------------------- linear AE = PCA
st.header("3 · A linear autoencoder finds PCA's subspace")
st.latex(va.LINEAR_FORMULA)
with st.container():
    res_lin = trained(AEConfig("linear", latent=latent, steps=400, lr=0.03, seed=seed))
cmp = ae.compare_with_pca(res_lin)
st.markdown(
    "Without nonlinearities and with a squared error, the best $L$-dimensional code is "
    "the projection onto the top $L$ principal components $v_i$ (eigenvectors of the "
    "covariance, from an SVD). A linear AE trained by Adam lands on the same plane, in a "
    "different basis: the **principal angles** between the two subspaces are near 0°."
)
st.latex(va.pca_numbers(cmp))
pca_fig = fast.figure(("ae.pca", res_lin.config), lambda: va.pca_bases(cmp, res_lin.weights["Wd"]))
st.plotly_chart(pca_fig, key="pca")
st.caption(
    "With a larger L the last angle may stay large: when two eigenvalues are nearly tied, "
    "planes mixing their directions lose almost the same variance and Adam drifts slowly "
    "between them. The reconstruction errors, the quantity both minimise, agree anyway."
)

# ---------------------------------------------------------------- denoising
st.header("4 · A denoising autoencoder")
st.markdown(
    f"Train on corrupted inputs $\\tilde x = \\operatorname{{clip}}(x + s\\,\\varepsilon)$ "
    f"but score the output against the clean $x$: $L = \\lVert g(f(\\tilde x)) - x\\rVert^2$. "
    f"With a roomy code (L = {DENOISE_LATENT}) a plain AE learns to copy its input, noise "
    "included; the denoising AE has to learn what digits look like."
)


@fast.section  # the noise level retrains only the denoising AE and reruns only this section
def denoising(common: dict) -> None:
    noise = params.slider("Noise level s", "noise", 0.05, 0.8, 0.3, 0.05)
    dn = dict(common, latent=DENOISE_LATENT)
    with st.container():
        plain, dae = trained(AEConfig("ae", **dn)), trained(AEConfig("ae", noise=noise, **dn))
    noisy = ae.noisy_test(plain, noise, SHOW, seed=common["seed"])
    outs = [ae.reconstruct(m, noisy) for m in (plain, dae)]
    clean = plain.x_test[:SHOW]
    fig = fast.figure(("ae.denoise", dae.config), lambda: va.denoising(clean, noisy, *outs))
    st.plotly_chart(fig, key="denoise")
    e1, e2 = st.columns(2)
    e1.metric("plain AE: MSE to the clean digits", f"{np.mean((outs[0] - clean) ** 2):.4f}")
    e2.metric("denoising AE: MSE to the clean digits", f"{np.mean((outs[1] - clean) ** 2):.4f}")


denoising(common)

# ---------------------------------------------------------------- try this
presets = {  # button: (settings, what to look for)
    "β = 0: a plain AE with noise": (dict(beta=0.0, latent=2), "No KL price: σ shrinks to almost 0 and the codes spread far beyond the prior."),
    "β = 5: posterior collapse": (dict(beta=5.0, latent=2), "Information is too expensive: μ ≈ 0, σ ≈ 1, KL ≈ 0; every digit decodes to the same blur."),
    "L = 8 instead of 2": (dict(latent=8, beta=1.0), "Eight numbers per digit: the AE's test MSE falls by more than half, the VAE's by about a quarter (plots show z₁, z₂)."),
    "Back to L = 2, β = 1": (dict(latent=2, beta=1.0), "The default ELBO with a 2-D code."),
}  # fmt: skip
params.try_this(presets)


# ---------------------------------------------------------------- under the hood
with st.expander("Under the hood: hand-written tensor ops vs torch", icon=":material/code:"):
    st.dataframe(va.gaps_table(res_ae, res_vae), hide_index=True)
    for fn in (ae.encode, ae.decode_logits, ae.reparameterize, ae.kl_normal, ae.bce_with_logits):
        st.code(inspect.getsource(fn), language="python")
    st.caption(
        f"Device: {res_ae.device}. Full-batch Adam on {res_ae.extra['n_train']} training "
        f"images; {steps} steps took {res_ae.seconds:.2f} s (AE) and {res_vae.seconds:.2f} s "
        "(VAE) when they were trained; a cached model decodes without retraining."
    )
