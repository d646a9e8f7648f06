"""Figures, formulas and lesson texts for the autoencoder / VAE page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dl_core import notation
from dl_core.autoencoder import (
    KIND_LABELS,
    AEConfig,
    AEResult,
    AESample,
    PCAComparison,
    VAESample,
    base_code,
    decode,
    interpolate,
    latent_grid,
    latent_range,
    reference_gaps,
)
from viz import latex, style
from viz.latex import num, signed, vec
from viz.style import PALETTE, base_layout

DIGIT_COLORS, DIGIT_MARKERS = style.CATEGORY10, style.MARKERS  # one colour and marker per class
# Invisible markers per axis that make empty parts of the scatter clickable; a click picks the
# nearest one (any distance). 25 x 25 costs the browser about a third of 41 x 41 to draw.
CLICK_GRID = 25
INK = [[0.0, "#ffffff"], [1.0, "#111111"]]  # 0 = paper, 1 = ink


# ---------------------------------------------------------------- images


def tiles(
    images: np.ndarray,
    title: str,
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
    height: int | None = None,
    zrange: tuple[float, float] = (0.0, 1.0),
    xtitle: str = "",
    ytitle: str = "",
    signed: str = "",
) -> go.Figure:
    """Images (R, C, 8, 8) (or (C, 8, 8) for one row) drawn as one heatmap with gaps.

    ``xtitle`` / ``ytitle``: what the column / row labels name. ``signed``: the colour bar's
    title of images with signed values (the app's diverging scale, centred on 0); else ink
    on paper for pixel values in ``zrange``."""
    imgs = np.asarray(images, dtype=float)
    if imgs.ndim == 3:
        imgs = imgs[None]
    R, C = imgs.shape[:2]
    big = np.full((R * 9 - 1, C * 9 - 1), np.nan, np.float32)  # one blank pixel between tiles
    for r in range(R):
        for c in range(C):
            big[r * 9 : r * 9 + 8, c * 9 : c * 9 + 8] = imgs[r, c]
    scale = (
        style.signed_scale(max(abs(zrange[0]), abs(zrange[1])), signed)
        if signed
        else dict(colorscale=INK, zmin=zrange[0], zmax=zrange[1], showscale=False)
    )
    fig = go.Figure(go.Heatmap(z=big, hovertemplate="value %{z:.2f}<extra></extra>", **scale))
    fig.update_layout(
        title=dict(text=title, x=0.0, font=dict(size=15)),
        height=height or 70 + 62 * R,
        margin=dict(
            l=(110 if ytitle else 90) if row_labels else 10, r=10, t=50,
            b=(55 if xtitle else 30) if col_labels else 10,
        ),
    )  # fmt: skip
    fig.update_xaxes(title=xtitle if col_labels else "")
    fig.update_yaxes(title=ytitle if row_labels else "")
    fig.update_xaxes(
        tickvals=[c * 9 + 3.5 for c in range(len(col_labels))], ticktext=list(col_labels),
        showgrid=False, zeroline=False, showticklabels=bool(col_labels), constrain="domain",
    )  # fmt: skip
    fig.update_yaxes(
        tickvals=[r * 9 + 3.5 for r in range(len(row_labels))], ticktext=list(row_labels),
        showgrid=False, zeroline=False, showticklabels=bool(row_labels), autorange="reversed",
        scaleanchor="x", constrain="domain",
    )  # fmt: skip
    return fig


def digit_and_reconstructions(res_ae: AEResult, res_vae: AEResult, i: int) -> go.Figure:
    """Test digit i next to the AE's and the VAE's reconstructions."""
    imgs = np.stack([res_ae.x_test[i], res_ae.x_hat_test[i], res_vae.x_hat_test[i]])
    return tiles(
        imgs.reshape(3, 8, 8), f"Test digit #{i} and its reconstructions",
        col_labels=["x", "AE x̂", "VAE x̂"], height=220, xtitle="input and outputs",
    )  # fmt: skip


def reconstructions(res_ae: AEResult, res_vae: AEResult, picks: Sequence[int]) -> go.Figure:
    """The test digits ``picks`` (rows: original, AE, VAE)."""
    rows = np.stack([res_ae.x_test[picks], res_ae.x_hat_test[picks], res_vae.x_hat_test[picks]])
    return tiles(
        rows.reshape(3, len(picks), 8, 8), "Originals and reconstructions, one test digit per class",
        ["original x", "AE x̂", "VAE x̂"], [f"#{p}" for p in picks],
        xtitle="test image #", ytitle="image",
    )  # fmt: skip


def interpolation(res_ae: AEResult, res_vae: AEResult, i: int, j: int, n: int = 10) -> go.Figure:
    """Decoded images along the straight line from test digit i's code to test digit j's."""
    y = res_vae.y_test
    path = np.stack([interpolate(r, i, j, n)[1] for r in (res_ae, res_vae)])
    return tiles(
        path, style.sub(f"z = (1 − τ)·z_a + τ·z_b from a {y[i]} (#{i}) to a {y[j]} (#{j})"),
        ["AE", "VAE"], [f"{t:.2f}" for t in np.linspace(0, 1, n)],
        xtitle="τ, the fraction of the way", ytitle="model",
    )  # fmt: skip


def denoising(
    clean: np.ndarray, noisy: np.ndarray, plain: np.ndarray, dae: np.ndarray
) -> go.Figure:
    """Rows: clean digits, their noisy versions, the plain AE's and the denoising AE's output."""
    n = len(clean)
    return tiles(
        np.stack([clean, noisy, plain, dae]).reshape(4, n, 8, 8), "Denoising test digits",
        ["clean x", "noisy x̃", "plain AE", "denoising AE"], ytitle="image",
    )  # fmt: skip


def one_image(img: np.ndarray, title: str, height: int = 260) -> go.Figure:
    """A single 8x8 image, large."""
    fig = tiles(np.asarray(img).reshape(1, 1, 8, 8), title, height=height)
    fig.update_layout(margin=dict(l=10, r=10, t=40, b=10))
    return fig


def decoded(res: AEResult, z1: float, z2: float) -> go.Figure:
    """g(z) for the code with z₁, z₂ set; its other coordinates at ``base_code``."""
    z = base_code(res).copy()
    z[0], z[1:2] = z1, z2
    return one_image(decode(res, z), f"decoded g(z), z = ({z1:.2f}, {z2:.2f})")


def latent_grid_figure(
    z1: np.ndarray, z2: np.ndarray, imgs: np.ndarray, title: str, height: int = 520
) -> go.Figure:
    """The decoded grid (n, n, 8, 8) with its z1 / z2 coordinates on the axes."""
    fig = tiles(
        imgs, title, row_labels=[f"{v:.2f}" for v in z2], col_labels=[f"{v:.2f}" for v in z1],
        height=height,
    )  # fmt: skip
    fig.update_layout(margin=dict(l=70, r=10, t=50, b=50))
    fig.update_xaxes(title="z₁")
    fig.update_yaxes(title="z₂")
    return fig


def decoded_grid(res: AEResult, n: int = 10) -> go.Figure:
    """Images decoded on an n x n grid over the model's first two latent dimensions."""
    z1, z2, imgs = latent_grid(res, n)
    name = "VAE" if res.config.kind == "vae" else "AE"
    return latent_grid_figure(z1, z2, imgs, f"{name}: images decoded on a grid of z")


# ---------------------------------------------------------------- latent space


def latent_scatter(
    res: AEResult,
    title: str,
    point: tuple[float, float] | None = None,
    ellipses: int = 0,
    clickable: bool = True,
    height: int = 480,
) -> go.Figure:
    """Codes of the test digits (first two latent dimensions), coloured by class.

    ``point``: the code being decoded. ``ellipses``: draw the 2-sigma posterior ellipses
    of that many test digits and the prior's 2-sigma circle (VAE)."""
    Z, y = res.z_test, res.y_test
    z2 = Z[:, 1] if Z.shape[1] > 1 else np.zeros(len(Z))
    fig = go.Figure()
    (a, b), (c, d) = latent_range(res)
    if clickable:
        gx, gy = np.meshgrid(np.linspace(a, b, CLICK_GRID), np.linspace(c, d, CLICK_GRID))
        fig.add_trace(
            go.Scatter(
                x=gx.ravel(), y=gy.ravel(), mode="markers", marker=dict(size=12, opacity=0),
                showlegend=False, name="decode here",
                hovertemplate="decode z = (%{x:.2f}, %{y:.2f})<extra></extra>",
            )
        )  # fmt: skip
    if ellipses:
        t = np.linspace(0, 2 * np.pi, 60)
        m = min(ellipses, len(Z))
        sig = np.exp(0.5 * res.logvar_test[:m])
        s2 = sig[:, 1:2] if Z.shape[1] > 1 else np.zeros((m, 1))
        gap = np.full((m, 1), np.nan)  # NaN ends one ellipse's line
        xs = np.hstack([Z[:m, :1] + 2 * sig[:, :1] * np.cos(t), gap]).ravel().astype(np.float32)
        ys = np.hstack([z2[:m, None] + 2 * s2 * np.sin(t), gap]).ravel().astype(np.float32)
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", line=dict(color="rgba(80,80,80,0.45)", width=1),
                name="posterior q(z|x): 2σ ellipses", hoverinfo="skip",
            )
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=2 * np.cos(t), y=2 * np.sin(t), mode="lines", name="prior N(0, I): 2σ circle",
                line=dict(color="black", width=3, dash="dash"), hoverinfo="skip",
            )
        )  # fmt: skip
    for k in range(10):
        m = y == k
        fig.add_trace(
            go.Scatter(
                x=Z[m, 0], y=z2[m], mode="markers", name=str(k),
                marker=dict(size=7, color=DIGIT_COLORS[k], symbol=DIGIT_MARKERS[k],
                            line=dict(width=0.3, color="white")),
                customdata=np.nonzero(m)[0],
                hovertemplate=f"digit {k}, test image #%{{customdata}}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )  # fmt: skip
    if point is not None:
        fig.add_trace(_point(point))
    base_layout(fig, title, "z₁", "z₂", height)
    fig.update_layout(legend=dict(orientation="v", y=1.0, x=1.02, xanchor="left", yanchor="top"))
    if clickable:
        fig.update_layout(hoverdistance=-1)  # the nearest point answers wherever the click is
    fig.update_xaxes(range=[a, b])
    fig.update_yaxes(range=[c, d])
    if res.config.kind == "vae":
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def _point(point: tuple[float, float]) -> go.Scatter:
    return go.Scatter(
        x=[point[0]], y=[point[1]], mode="markers", name="decoded point",
        marker=dict(symbol="x-thin", size=18, color="black", line=dict(width=3, color="black")),
    )  # fmt: skip


def with_point(scatter: go.Figure, point: tuple[float, float]) -> go.Figure:
    """A new figure: ``scatter`` (a cached ``latent_scatter``, left as it is) with the decoded
    point marked. Copying the validated traces costs a few ms, building them anew 40."""
    return go.Figure(data=[*scatter.data, _point(point)], layout=scatter.layout)


def latent_planes(res_ae: AEResult, res_vae: AEResult, n_ellipses: int = 60) -> go.Figure:
    """The first screen: the AE's codes (left) and the VAE's posterior means with 2σ
    ellipses and the prior's 2σ circle (right), one colour and marker per digit."""
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.08,
        subplot_titles=("AE: codes z = f(x), no prior, any scale",
                        "VAE: means μ(x), 2σ ellipses, prior N(0, I)"),
    )  # fmt: skip
    t = np.linspace(0, 2 * np.pi, 60)
    for col, res in ((1, res_ae), (2, res_vae)):
        Z, y = res.z_test, res.y_test
        z2 = Z[:, 1] if Z.shape[1] > 1 else np.zeros(len(Z))
        if col == 2:
            m = min(n_ellipses, len(Z))
            sig = np.exp(0.5 * res.logvar_test[:m])
            s2 = sig[:, 1:2] if Z.shape[1] > 1 else np.zeros((m, 1))
            gap = np.full((m, 1), np.nan)  # NaN ends one ellipse's line
            xs = np.hstack([Z[:m, :1] + 2 * sig[:, :1] * np.cos(t), gap]).ravel()
            ys = np.hstack([z2[:m, None] + 2 * s2 * np.sin(t), gap]).ravel()
            fig.add_trace(
                go.Scatter(x=xs.astype(np.float32), y=ys.astype(np.float32), mode="lines",
                           line=dict(color="rgba(80,80,80,0.45)", width=1), hoverinfo="skip",
                           name="posterior q(z|x): 2σ ellipses"), row=1, col=2,
            )  # fmt: skip
            fig.add_trace(
                go.Scatter(x=2 * np.cos(t), y=2 * np.sin(t), mode="lines", hoverinfo="skip",
                           name="prior N(0, I): 2σ circle",
                           line=dict(color="black", width=3, dash="dash")), row=1, col=2,
            )  # fmt: skip
        for k in range(10):
            sel = y == k
            fig.add_trace(
                go.Scatter(
                    x=Z[sel, 0], y=z2[sel], mode="markers", name=str(k), legendgroup=str(k),
                    showlegend=col == 1, customdata=np.nonzero(sel)[0],
                    marker=dict(size=6, color=DIGIT_COLORS[k], symbol=DIGIT_MARKERS[k],
                                line=dict(width=0.3, color="white")),
                    hovertemplate=f"digit {k}, test image #%{{customdata}}<br>"
                    "z = (%{x:.2f}, %{y:.2f})<extra></extra>",
                ),
                row=1, col=col,
            )  # fmt: skip
        (a, b), (c, d) = latent_range(res)
        fig.update_xaxes(range=[a, b], title_text="z₁", row=1, col=col)
        fig.update_yaxes(range=[c, d], title_text="z₂", row=1, col=col)
    fig.update_layout(
        height=450, margin=dict(l=50, r=10, t=40, b=40),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.13, yanchor="top",
                    title=dict(text="digit")),
    )  # fmt: skip
    return fig


# ---------------------------------------------------------------- curves


def live_curve(recon: np.ndarray, kl: np.ndarray, kind: str, title: str) -> go.Figure:
    """The training curve so far, for the progress placeholder."""
    fig = go.Figure(
        go.Scatter(y=recon, mode="lines", name="reconstruction", line=dict(color=PALETTE[0]))
    )
    if kind == "vae":
        fig.add_trace(go.Scatter(y=kl, mode="lines", name="KL", line=dict(color=PALETTE[3])))
    unit = "nats per image" if kind == "vae" else "MSE per pixel"
    return base_layout(fig, title, "step", unit, 260)


def progress(
    cfg: AEConfig, k: int, recon: np.ndarray, kl: np.ndarray
) -> tuple[float, str, go.Figure]:
    """While ``cfg`` trains: (fraction done, caption, the curve so far) for ui.live."""
    label = KIND_LABELS[cfg.kind].lower()
    title = f"{label.capitalize()}: training so far"
    curve = live_curve(recon, kl, cfg.kind, title)
    return k / cfg.steps, f"Training the {label}: step {k}/{cfg.steps}", curve


def training_curves(res: AEResult, title: str) -> go.Figure:
    """AE: training and test MSE per step. VAE: reconstruction and KL (nats) + test MSE."""
    steps = np.arange(1, len(res.recon) + 1)
    if res.config.kind != "vae":
        fig = go.Figure()
        fig.add_trace(
            go.Scatter(x=steps, y=res.recon, name="training MSE", line=dict(color=PALETTE[0]))
        )
        fig.add_trace(
            go.Scatter(x=res.eval_steps, y=res.test_mse, name="test MSE", mode="lines+markers",
                       line=dict(color=PALETTE[1]), marker=dict(size=4))
        )  # fmt: skip
        base_layout(fig, title, "step", "mean squared error per pixel", 340)
        fig.update_yaxes(type="log")
        return fig
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    beta = res.config.beta
    fig.add_trace(
        go.Scatter(
            x=steps, y=res.recon, name="reconstruction −log p(x|z)", line=dict(color=PALETTE[0])
        )
    )
    fig.add_trace(go.Scatter(x=steps, y=res.kl, name="KL(q‖p)", line=dict(color=PALETTE[3])))
    fig.add_trace(
        go.Scatter(x=res.eval_steps, y=res.test_mse, name="test MSE (right axis)", mode="lines",
                   line=dict(color=PALETTE[1], dash="dot")),
        secondary_y=True,
    )  # fmt: skip
    base_layout(fig, f"{title} (loss = recon + {beta:g}·KL)", "step", "nats per image", 340)
    fig.update_yaxes(title_text="test MSE per pixel", secondary_y=True, showgrid=False)
    return fig


def pca_bases(cmp: PCAComparison, Wd: np.ndarray) -> go.Figure:
    """Top: the k principal directions; bottom: the k decoder columns of the linear AE
    (each scaled to [-1, 1]). Different bases, the same plane."""
    k = cmp.k
    cols = Wd.T / (np.abs(Wd.T).max(1, keepdims=True) + 1e-12)  # (k, 64)
    pcs = cmp.components / (np.abs(cmp.components).max(1, keepdims=True) + 1e-12)
    imgs = np.stack([pcs.reshape(k, 8, 8), cols.reshape(k, 8, 8)])  # (2, k, 8, 8)
    return tiles(
        imgs, f"PCA directions vs the linear AE's decoder columns ({style.POSITIVE_NAME} +, "
        f"{style.NEGATIVE_NAME} −)", row_labels=["PCA vⱼ", "AE column j of W" + "<sub>d</sub>"],
        col_labels=[f"j = {i + 1}" for i in range(k)], zrange=(-1.0, 1.0), height=240,
        xtitle="direction j", ytitle="basis", signed="scaled weight",
    )  # fmt: skip


# ---------------------------------------------------------------- formulas


TITLE = "Autoencoders & variational autoencoders"
IDEA = (
    "An **autoencoder** squeezes each 8×8 digit (64 numbers) through a bottleneck of $d_z$ "
    "numbers, the **code** $z$, and learns to rebuild the image from it; with $d_z = 2$ every "
    "code is a point of a plane. A **variational** autoencoder makes that plane a probability "
    "space, so a point drawn from it decodes to a new digit."
)
HEADER = (
    r"z = f_{\mathrm{enc}}(x) \in \mathbb R^{d_z},\quad \hat x = g_{\mathrm{dec}}(z),\qquad "
    r"L(\theta) = \frac{1}{n}\sum_{i=1}^{n} \frac{1}{64}\,\lVert x_i - \hat x_i \rVert^2"
)


def header_symbols() -> str:
    """The header's symbol caption, from the app's notation table."""
    return notation.caption(
        "x", "z", "d_z", "x_hat", "enc_dec", "L", "i", "n",
        x="an image: 64 pixel values in [0, 1]", z="its code, d_z numbers", L="the AE's loss, the mean squared error per "
        "pixel", i="the index of a training image", n="the number of training images",
    )  # fmt: skip


PLANES_CAPTION = (
    "Each point is a test digit's code. The AE may put its codes anywhere and leave holes "
    "between classes. The VAE's KL term pulls its posteriors towards the dashed prior circle "
    "and keeps each one wide, so the plane is covered and nearby points decode to similar "
    "digits (click a point to decode it in *Generate*). β = 0 removes that pull; a large β "
    "pulls every posterior onto the prior, and the codes stop carrying information."
)
PCA_TEXT = (
    "Without nonlinearities and with a squared error, the best $d_z$-dimensional linear code "
    "is the projection onto the top $d_z$ principal components $v_j$ (eigenvectors of the "
    "data's covariance, from an SVD; Baldi & Hornik 1989). A linear AE trained by Adam lands "
    "on the same subspace, in a different basis: the **principal angles** between the two "
    "subspaces are near 0°."
)
PCA_CAPTION = (
    "With a larger d_z the last angles may stay large: when two eigenvalues are nearly tied, "
    "subspaces mixing their directions lose almost the same variance and Adam drifts slowly "
    "between them. The reconstruction errors, the quantity both minimise, agree anyway."
)
DENOISE_TEXT = (
    "Train on corrupted inputs $\\tilde x = \\operatorname{{clip}}_{{[0, 1]}}(x + s\\,"
    "\\varepsilon)$, $\\varepsilon \\sim \\mathcal N(0, I)$, but score the output against the "
    "clean $x$: $L = \\tfrac{{1}}{{64}}\\lVert g_{{\\mathrm{{dec}}}}(f_{{\\mathrm{{enc}}}}(\\tilde x)) - x\\rVert^2$ (Vincent "
    "et al. 2008), where $s$ is the noise's standard deviation. Both models below have a roomy "
    "code, $d_z = {d_z}$. The plain AE, trained "
    "on clean digits only, never learned to remove noise; the denoising AE has to learn what "
    "digits look like."
)
AE_FORMULA = (
    r"\underbrace{h^{(1)} = \operatorname{relu}(W^{(1)} x + b^{(1)}),\ \ "
    r"z = W^{(2)} h^{(1)} + b^{(2)}}_{\text{encoder } f_{\mathrm{enc}}}"
    r"\qquad \underbrace{h^{(3)} = \operatorname{relu}(W^{(3)} z + b^{(3)}),\ \ "
    r"\hat x = \sigma(W^{(4)} h^{(3)} + b^{(4)})}_{\text{decoder } g_{\mathrm{dec}}}"
)
AE_SYMBOLS = dict(
    keys=("W", "b_l", "h", "sigma_fn"),
    meanings=dict(h="the hidden layers h⁽¹⁾, h⁽³⁾ (relu(u) = max(u, 0))",
                  sigma_fn="the logistic sigmoid, which keeps x̂ in (0, 1)"),
)  # fmt: skip
VAE_FORMULA = (
    r"[\mu, \log\sigma^2] = f_{\mathrm{enc}}(x),\qquad z = \mu + \sigma \odot \varepsilon,"
    r"\ \ \varepsilon \sim \mathcal N(0, I),\qquad \hat x = g_{\mathrm{dec}}(z)"
)
ELBO_DEF = (
    r"L_\beta(x) = \mathbb E_{z \sim q(z\mid x)}\big[-\log p(x \mid z)\big] + "
    r"\beta\, D_{\mathrm{KL}}\big(q(z \mid x)\,\|\,\mathcal N(0, I)\big)"
)
ELBO = (
    r"L_\beta(x) \approx \underbrace{-\sum_{j=1}^{64}\big[x_j \log \hat x_j + (1 - x_j)"
    r"\log(1 - \hat x_j)\big]}_{-\log p_\theta(x\mid z)\ \text{(binary cross-entropy)}} + \beta\,"
    r"\underbrace{\sum_{j=1}^{d_z} \tfrac12\big(\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2\big)}"
    r"_{D_{\mathrm{KL}}(\mathcal N(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal N(0, I))}"
)
VAE_TEXT = (
    "The VAE's encoder outputs a whole Gaussian $q(z\\mid x) = \\mathcal N(\\mu, "
    "\\operatorname{diag}\\sigma^2)$ per image. A sample is written $z = \\mu + \\sigma \\odot "
    "\\varepsilon$ with the noise $\\varepsilon \\sim \\mathcal N(0, I)$ drawn separately, so "
    "gradients flow to $\\mu$ and $\\sigma$ (the **reparameterisation trick**, Kingma & Welling "
    "2014). The loss rewards good reconstructions and charges, in nats, for every code that "
    "strays from the prior $\\mathcal N(0, I)$; $\\beta$ sets that price. The expectation is "
    "estimated with one sample $z$ per image and step; the KL term is exact (closed form for "
    "Gaussians)."
)
BETA_NOTE = (
    "With β = 1 the loss is the negative **ELBO** (evidence lower bound) of Kingma & Welling: "
    "an upper bound on −log p_θ(x). With β > 1 it stays an upper bound, looser; with β < 1 it "
    "is no longer guaranteed to be one. β ≠ 1 is the β-VAE of Higgins et al. (2017)."
)
VAE_SYMBOLS = ("mu_z", "eps_noise", "odot", "KL", "beta_vae")
LINEAR_FORMULA = (
    r"z = W_e x + b_e,\quad \hat x = W_d z + b_d \quad\Longrightarrow\quad "
    r"\min \lVert X - \hat X\rVert^2 \text{ is reached when } \operatorname{span}(W_d) = "
    r"\operatorname{span}(v_1, \dots, v_{d_z})"
)


def bce_note(floor: float) -> str:
    """The caveat on the Bernoulli likelihood, with the data's own floor (nats per image)."""
    return (
        "**A common simplification.** The Bernoulli likelihood is meant for pixels that are 0 "
        "or 1; these pixels are grey levels in [0, 1]. Binary cross-entropy on grey levels is "
        "widely used, but it is not a true "
        "likelihood of these images: its density is not normalised over [0, 1] (the "
        "*continuous Bernoulli* of Loaiza-Ganem & Cunningham 2019 fixes that), and even a "
        "perfect reconstruction x̂ = x scores more than 0: here "
        f"**{latex.plain(floor, 3)} nats per test image**, the entropy of its grey pixels. "
        "Read the nats as a loss, not as the log-probability of a digit."
    )


def _short(v: np.ndarray, digits: int = 3) -> str:
    return vec(np.asarray(v, dtype=float), digits)


def ae_numbers(s: AESample) -> list[str]:
    """The code and the error of one digit."""
    return [
        rf"z = f_{{\mathrm{{enc}}}}(x_{{\#{s.i}}}) = {_short(s.z)}",
        rf"\frac{{1}}{{64}}\lVert x - \hat x\rVert^2 = \frac{{{num(s.sq_err)}}}{{64}} = {num(s.mse)}",
    ]


def vae_numbers(s: VAESample) -> list[str]:
    """Reparameterisation, KL per dimension and the loss with the numbers of one sample."""
    d = len(s.mu)
    lines = [
        rf"\mu = {_short(s.mu)},\quad \log\sigma^2 = {_short(s.logvar)},\quad "
        rf"\sigma = e^{{\frac12\log\sigma^2}} = {_short(s.sigma)}",
        rf"z = \mu + \sigma \odot \varepsilon = {_short(s.mu)} + {_short(s.sigma)} \odot "
        rf"{_short(s.eps)} = {_short(s.z)}",
    ]
    shown = min(d, 4)  # one line per dimension keeps each line inside the page
    for j in range(shown):
        lines.append(
            rf"\mathrm{{KL}}_{{{j + 1}}} = \tfrac12\big({num(s.sigma[j] ** 2, 3)} + "
            rf"{num(s.mu[j] ** 2, 3)} - 1 {signed(-s.logvar[j], 3)}\big) = {num(s.kl_terms[j], 3)}"
        )
    more = rf" + \dots\ ({d - shown} \text{{ more}})" if shown < d else ""
    lines.append(
        rf"\mathrm{{KL}} = \textstyle\sum_{{j=1}}^{{{d}}} \mathrm{{KL}}_j = "
        + " + ".join(num(t, 3) for t in s.kl_terms[:shown])
        + more
        + rf" = {num(s.kl)}"
    )
    lines.append(
        rf"L_\beta = {num(s.recon)} + {num(s.beta, 3)} \times {num(s.kl)} = "
        rf"{num(s.loss)}\ \text{{nats}}"
    )
    return lines


def pca_numbers(cmp: PCAComparison) -> str:
    angles = r",\ ".join(rf"{a:.2f}^\circ" for a in cmp.angles_deg)
    return (
        rf"\text{{principal angles}} = ({angles});\qquad \text{{test MSE: PCA}} = "
        rf"{num(cmp.pca_mse)},\ \ \text{{linear AE}} = {num(cmp.ae_mse)}"
    )


def gaps_table(*results: AEResult) -> pd.DataFrame:
    """The "under the hood" table: max |hand-written - torch| per check and model."""
    rows = [
        (f"{r.config.kind.upper()}: {check}", f"{gap:.2e}")
        for r in results
        for check, gap in reference_gaps(r).items()
    ]
    return pd.DataFrame(rows, columns=["check", "max |hand − torch|"])
