"""Figures and formulas of the GAN page (pure functions: snapshot in, figure out)."""

from __future__ import annotations

import math

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from dl_core import gan
from dl_core.gan import GP_WEIGHT, VIEW, MinimaxNumbers, Snapshot, generator_gradients, thin
from viz.latex import num, plain
from viz.style import HEIGHT, PALETTE, SEQUENTIAL, base_layout, sub

# On the D(x) map (a probability: the sequential scale, pale under the points) the samples
# must stand out at every height: real samples vermillion, generated ones black with a white
# rim; the push arrows are thin and grey, drawn under the points so they hide none.
REAL, FAKE, GRID, ARROW = PALETTE[3], PALETTE[7], PALETTE[0], "#4D4D4D"
PALE = 0.5  # the D(x) map under the samples: its scale half-way to white (colour bar too)
# Series of the loss and coverage charts, one colour each.
D_LOSS, G_LOSS, LOG_D, LOG_1M = PALETTE[0], PALETTE[3], PALETTE[2], PALETTE[4]
LAYERS = ("real", "fake", "D(x)", "noise grid", "arrows")
LAYER_LABELS = {
    "real": "Real samples",
    "fake": "Generated samples",
    "D(x)": "D(x) map",
    "noise grid": "G of a noise grid",
    "arrows": "Where G pushes",
}
# Live frames rebuild five figures several times a second: traces skip plotly's
# per-property validation (about twice as fast; write nested props in their full
# form, e.g. title=dict(text=...)), and take numpy arrays, not lists. Layouts are
# still validated (base_layout relies on its "xaxis_title" shorthand).
FAST = {"_validate": False}
MAX_CURVE_POINTS = 1000  # points per loss curve in a live frame


def d_label(loss: str) -> str:
    """The name of D's output as the maps show it (``gan.d_view``)."""
    return {"least_squares": "a(x) in [0, 1]", "wgan_gp": "critic a(x)"}.get(loss, "D(x)")


def _legend_below(fig: go.Figure) -> go.Figure:
    """Long legends go under the x-axis title so they never cover the chart's title."""
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0.0),
        margin=dict(b=110),
    )
    return fig


def _square(fig: go.Figure) -> go.Figure:
    rng = [-VIEW, VIEW]
    fig.update_xaxes(range=rng, constrain="domain")
    fig.update_yaxes(range=rng, scaleanchor="x", scaleratio=1)
    return fig


def pale_scale(scale: str = SEQUENTIAL, white: float = PALE) -> list[list]:
    """A named Plotly scale with every colour moved ``white`` of the way to white: the same
    order of colours, light enough for points drawn on it (unlike opacity, the colour bar
    shows the colours of the map)."""
    out = []
    for pos, colour in plotly.colors.get_colorscale(scale):
        rgb = np.array(
            plotly.colors.unlabel_rgb(
                plotly.colors.convert_colors_to_same_type(colour, "rgb")[0][0]
            )
        )
        r, g, b = (rgb + (255 - rgb) * white).round().astype(int)
        out.append([pos, f"rgb({r},{g},{b})"])
    return out


def _heat(z: np.ndarray, axis: np.ndarray, title: str, wgan: bool, scale=SEQUENTIAL):
    """D's output (a probability in [0, 1]) or D* on the sequential scale. A WGAN critic is
    not a probability: its own range, marked as a height (a score defined up to a constant,
    so its sign means nothing)."""
    kw = {"meta": HEIGHT} if wgan else {"zmin": 0.0, "zmax": 1.0}
    return go.Heatmap(**FAST,
        x=axis, y=axis, z=z, colorscale=scale, name=title, zsmooth="fast",
        colorbar=dict(title=dict(text=title), thickness=12, len=0.8), hoverinfo="skip", **kw,
    )  # fmt: skip


def field_figure(snap: Snapshot, layers: list[str], loss: str, height: int = 430) -> go.Figure:
    """The GAN Lab view: chosen layers over the plane (arrows under the points)."""
    fig = go.Figure()
    if "D(x)" in layers:
        label = d_label(loss)
        fig.add_trace(_heat(snap.D_grid, snap.axis, label, loss == "wgan_gp", pale_scale()))
    if "noise grid" in layers:
        xs, ys = [], []
        for line in snap.noise_lines:
            xs += [*line[:, 0], None]
            ys += [*line[:, 1], None]
        fig.add_trace(
            go.Scatter(**FAST, x=xs, y=ys, mode="lines", name="G(noise grid)",
                       line=dict(color=GRID, width=1), hoverinfo="skip")
        )  # fmt: skip
    if "arrows" in layers:
        fig.add_trace(arrow_trace(snap.fake[:150], snap.move[:150]))
    if "real" in layers:
        fig.add_trace(
            go.Scatter(**FAST, x=snap.real[:, 0], y=snap.real[:, 1], mode="markers", name="real x",
                       marker=dict(color=REAL, size=5, opacity=0.85))
        )  # fmt: skip
    if "fake" in layers:
        fig.add_trace(
            go.Scatter(**FAST, x=snap.fake[:, 0], y=snap.fake[:, 1], mode="markers",
                       name="generated G(z)", marker=dict(color=FAKE, size=5,
                       line=dict(color="#FFFFFF", width=0.6)))
        )  # fmt: skip
    base_layout(fig, f"Step {snap.step}: real vs generated samples", "x₁", "x₂", height=height)
    fig.update_layout(margin=dict(l=50, r=10, t=70, b=40))
    return _square(fig)


def arrow_trace(start: np.ndarray, move: np.ndarray, longest: float = 0.45) -> go.Scatter:
    """Segments from each sample along -dL_G/dx, scaled so the longest is ``longest``."""
    norm = np.linalg.norm(move, axis=1)
    scale = longest / max(float(norm.max()) if len(norm) else 0.0, 1e-12)
    end = start + move * scale
    gap = np.full(len(start), np.nan, dtype=np.float32)  # float32 like the samples: half the JSON
    xs = np.column_stack([start[:, 0], end[:, 0], gap]).astype(np.float32).ravel()
    ys = np.column_stack([start[:, 1], end[:, 1], gap]).astype(np.float32).ravel()
    return go.Scatter(**FAST,
        x=xs, y=ys, mode="lines", name=f"−∂{sub('L_G')}/∂x (where G pushes)",
        line=dict(color=ARROW, width=1), hoverinfo="skip",
    )  # fmt: skip


def dstar_figure(snap: Snapshot, loss: str) -> go.Figure:
    """Learned D beside the optimal D* = p_data / (p_data + p_g) (two panels, laid out
    by hand: make_subplots costs ~15 ms a frame). For the least-squares loss the left panel
    is the raw output a(x), whose optimum is D* itself (``gan.optimal_d``)."""
    wgan = loss == "wgan_gp"
    fig = go.Figure()
    fig.add_trace(_heat(snap.D_grid, snap.axis, d_label(loss), wgan))
    fig.add_trace(_heat(snap.D_star, snap.axis, "D*(x)", False))
    if wgan:  # two scales: each panel gets its colour bar
        fig.data[0].colorbar.update(x=0.39, len=0.8)
    else:  # one scale, [0, 1]: one colour bar
        fig.data[0].showscale = False
    fig.data[1].update(xaxis="x2", yaxis="y2")
    learned = "critic a(x), its own scale" if wgan else f"learned {d_label(loss)}"
    base_layout(fig, "What D learned vs the best D for the current G", "x₁", "x₂", height=420)
    rng = [-VIEW, VIEW]
    fig.update_layout(
        xaxis=dict(domain=[0.0, 0.36 if wgan else 0.44], range=rng, title_text=f"x₁ ({learned})",
                   constrain="domain"),
        xaxis2=dict(domain=[0.54, 0.96], range=rng, constrain="domain",
                    title_text="x₁ (optimal D*(x) from the densities)"),
        yaxis=dict(range=rng, title_text="x₂", scaleanchor="x", constrain="domain"),
        yaxis2=dict(range=rng, anchor="x2", title_text="x₂", scaleanchor="x2", constrain="domain"),
    )  # fmt: skip
    return fig


def loss_figure(
    d_loss: list[float], g_loss: list[float], log_d: list[float], log_1m: list[float]
) -> go.Figure:
    fig, k = go.Figure(), 1
    for y, name, color, dash in (
        (d_loss, f"D loss {sub('L_D')}", D_LOSS, None),
        (g_loss, f"G loss {sub('L_G')}", G_LOSS, None),
        (log_d, "mean log D(x)", LOG_D, "dot"),
        (log_1m, "mean log(1 − D(G(z)))", LOG_1M, "dot"),
    ):
        steps, y, k = thin(y, MAX_CURVE_POINTS)  # long runs: block means, a light frame
        steps, y = steps.astype(np.float32), y.astype(np.float32)  # half the JSON of float64
        fig.add_trace(
            go.Scatter(
                **FAST, x=steps, y=y, name=name, line=dict(color=color, width=1.5, dash=dash)
            )
        )
    title = "Losses per generator step" + (f" (means of {k} steps)" if k > 1 else "")
    base_layout(fig, title, "generator step", "loss / log-probability", 420)
    return _legend_below(fig)


def coverage_figure(steps, modes, quality, js, n_modes: int) -> go.Figure:
    """Modes covered (left axis) and the share of good samples and JS (right axis)."""
    steps, modes, quality, js = (np.asarray(v) for v in (steps, modes, quality, js))
    fig = go.Figure()
    fig.add_trace(go.Scatter(**FAST, x=steps, y=modes, name="modes covered", mode="lines+markers",
                             line=dict(color=PALETTE[3], shape="hv")))  # fmt: skip
    fig.add_trace(go.Scatter(**FAST, x=steps, y=quality, name="share within 3σ of the target",
                             line=dict(color=PALETTE[0]), yaxis="y2"))  # fmt: skip
    fig.add_trace(go.Scatter(**FAST, x=steps, y=js, name="JS divergence (nats)",
                             line=dict(color=PALETTE[1], dash="dot"), yaxis="y2"))  # fmt: skip
    title = f"Mode coverage (out of {n_modes}) and divergence"
    base_layout(fig, title, "generator step", "modes covered", 440)
    fig.update_layout(
        yaxis=dict(range=[0, n_modes + 0.5]),
        yaxis2=dict(range=[0, 1.02], title_text="share / JS", overlaying="y", side="right",
                    showgrid=False),
    )  # fmt: skip
    return _legend_below(fig)


def generator_gradient_figure(D_fake: np.ndarray | None) -> go.Figure:
    """|dL_G/da| against D(G(z)) for both generator losses, with this batch's D(G(z))."""
    D = np.linspace(0.001, 0.999, 200)
    mm, ns = generator_gradients(D)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            **FAST,
            x=D,
            y=np.abs(mm),
            name="minimax: |∂/∂a log(1 − D)| = D",
            line=dict(color=PALETTE[3]),
        )
    )
    fig.add_trace(
        go.Scatter(
            **FAST,
            x=D,
            y=np.abs(ns),
            name="non-saturating: |∂/∂a (−log D)| = 1 − D",
            line=dict(color=PALETTE[0]),
        )
    )
    if D_fake is not None and len(D_fake):
        fig.add_trace(go.Scatter(**FAST, x=D_fake, y=np.full(len(D_fake), -0.04), mode="markers", name="this batch's D(G(z))",
                                 marker=dict(symbol="line-ns-open", size=10, color=PALETTE[7])))  # fmt: skip
    base_layout(
        fig,
        "Generator gradient per sample vs D(G(z))",
        "D(G(z))",
        "|gradient w.r.t. the logit a|",
        420,
    )
    fig.update_yaxes(range=[-0.1, 1.05])
    return _legend_below(fig)


# V(D*, G) = -log 4 + 2 JS is exactly 0 when p_data and p_g do not overlap (JS = log 2), as at
# step 0. The kernel estimates' Gaussian tails never quite vanish, so such a G gives about
# -2e-9 here (-3e-7 for the worst of four seeds): noise far below what a 48 x 48 grid estimate
# from 512 samples resolves (its JS moves in the third decimal between draws). Below 1e-6 nats
# the page prints 0.
V_ZERO = 1e-6
# A batch whose mean D(G(z)) is below this is "rejected": the minimax gradient, D(G(z)),
# is then at most a third of the non-saturating one, 1 - D(G(z)).
SAT = 0.25


def dstar_latex(js: float) -> str:
    """JS(p_data, p_g) and the game's value under D*, with the grid estimate's numbers."""
    v = -math.log(4) + 2 * js
    return (
        rf"\mathrm{{JS}}(p_\text{{data}} \,\|\, p_g) = {num(js)}\ \text{{nats}}"
        rf"\ \Rightarrow\ V(D^*, G) = -\log 4 + 2 \cdot {num(js)} = {num(v, zero=V_ZERO)}"
    )


def dstar_caption(step: int) -> str:
    """What the D* panel and the value of the game mean at their extremes."""
    return (
        "Both densities are kernel estimates on a grid (blank where neither has mass). The "
        f"smallest value, −log 4 = −{plain(math.log(4))}, is reached only when p_g = p_data: then "
        "D* = 1/2 everywhere and no discriminator beats a coin. The largest, 0, when the two do "
        f"not overlap (JS = log 2 = {plain(math.log(2))}): then D* is 1 on the data, 0 on the "
        "samples and flat around each, so a perfect D would give G no direction; the learned D "
        "is smooth and still does."
        + (" At step 0, D is untrained: nearly the same everywhere." if step == 0 else "")
    )


COVERAGE_NOTE = (
    "A sample is good when it lies within 3σ of the target (98.9 % of real samples do); it then "
    "belongs to the nearest mode. A mode is covered when it holds at least 20 % of n/N good "
    "samples, n/N being its share of the n samples if G matched the target's N modes (for the "
    "spiral, moons and line, the modes are equal stretches of the curve)."
)


def optimum_markdown(loss: str) -> str:
    """Which D is best for the current G, for the loss being trained (markdown)."""
    head = (
        r"For a fixed $G$, $D$'s loss is an integral over $x$ of "
        r"$p_\text{data}(x)\,\ell_\text{real}(D(x)) + p_g(x)\,\ell_\text{fake}(D(x))$, so the "
        r"best $D$ picks its value at each $x$ on its own. "
    )
    if loss == "least_squares":
        return head + (
            r"With the targets 1 (real) and 0 (generated), minimising "
            r"$\tfrac12 p_\text{data}(a - 1)^2 + \tfrac12 p_g\,a^2$ gives "
            r"$a^*(x) = \dfrac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} = D^*(x)$ "
            r"(Mao et al. 2017, eq. 4): the raw output $a(x)$ itself, not $\sigma(a)$, which would "
            r"squeeze $[0, 1]$ into $[0.5, 0.73]$. The left panel shows $a(x)$ clipped to $[0, 1]$. "
            r"(With the targets $-1$, $1$ and $0$ Mao et al. show that $G$ then minimises the "
            r"Pearson $\chi^2$ divergence; with 0 and 1 that link does not hold, and the JS line "
            r"below is the original game's, for comparison.)"
        )
    if loss == "wgan_gp":
        return head + (
            r"The critic's loss there, $(p_g(x) - p_\text{data}(x))\,a(x)$, is linear in $a(x)$: "
            r"no value is best, so the critic has **no $D^*$ in $[0, 1]$**. Only a constraint bounds "
            r"it: over 1-Lipschitz critics the best difference of means is the Wasserstein-1 "
            r"distance, and the optimal critic has gradient norm 1 on the straight lines joining "
            r"generated points to the real points they are optimally paired with (Gulrajani et al. "
            r"2017, proposition 1), which the gradient penalty asks for. The left panel shows the "
            r"critic on its own scale (adding a constant changes nothing); the right one is the "
            r"original game's $D^*$, for comparison."
        )
    return head + (
        r"Minimising $-p_\text{data}\log D - p_g\log(1 - D)$ gives "
        r"$D^*(x) = \dfrac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}$ (Goodfellow et al. "
        r"2014, proposition 1; the non-saturating loss changes only $G$'s loss, so $D^*$ is the "
        r"same), and plugging it in turns the game into a divergence: "
        r"$V(D^*, G) = -\log 4 + 2\,\mathrm{JS}(p_\text{data}\,\|\,p_g)$ (their theorem 1)."
    )


def saturation_note(m: MinimaxNumbers) -> str:
    """Why the non-saturating loss is used, and whether this batch shows it (markdown)."""
    d = float(np.mean(m.D_fake))
    why = (
        r"Per sample, the minimax generator loss $\log(1 - D(G(z)))$ has the gradient "
        r"$-D(G(z))$ with respect to $D$'s logit: when $D$ confidently rejects the fakes, as "
        r"early in training when $G$ is poor (Goodfellow et al. 2014, section 3), it "
        r"**saturates** and $G$ learns almost nothing. The non-saturating loss "
        r"$-\log D(G(z))$ has the same fixed point, and its gradient $-(1 - D(G(z)))$ is "
        r"largest exactly there, which is why it is used in practice. "
    )
    sizes = rf"(mean gradient sizes ${num(d)}$ and ${num(1 - d)}$ per sample)"
    if d < SAT:
        return why + (
            rf"This batch shows it: its mean $D(G(z))$ is ${num(d)}$, so the minimax loss gives "
            rf"$G$ ${num((1 - d) / d, 2)}\times$ less to learn from than the non-saturating one "
            rf"{sizes}."
        )
    return why + (
        rf"This batch does not show it: its mean $D(G(z))$ is ${num(d)}$, not near 0, so both "
        rf"losses push $G$ {'about equally ' if abs(2 * d - 1) < 0.3 else ''}{sizes}. The "
        r"preset *The minimax generator loss* lets $D$ win early."
    )


def minimax_latex(m: MinimaxNumbers) -> list[str]:
    """The value of the game and the generator losses with this batch's numbers; for the
    least-squares and Wasserstein variants, also the losses they actually train."""
    lines = [
        rf"V(D, G) = \underbrace{{\tfrac1B \textstyle\sum_i \log D(x_i)}}_{{{num(m.mean_log_D_real)}}}"
        rf" + \underbrace{{\tfrac1B \textstyle\sum_i \log\big(1 - D(G(z_i))\big)}}_{{{num(m.mean_log_1m_D_fake)}}}"
        rf" = {num(m.V)}",
        rf"L_G^{{\text{{minimax}}}} = \tfrac1B \textstyle\sum_i \log\big(1 - D(G(z_i))\big) = {num(m.L_G_minimax)},"
        rf"\qquad L_G^{{\text{{NS}}}} = -\tfrac1B \textstyle\sum_i \log D(G(z_i)) = {num(m.L_G_ns)}",
    ]  # fmt: skip
    if m.loss in ("minimax", "nonsaturating"):
        lines.insert(
            1,
            rf"L_D = -V = {num(m.L_D)} \qquad (\text{{at equilibrium }} D = \tfrac12,\ "
            rf"-V = \log 4 = {num(math.log(4))})",
        )
    elif m.loss == "least_squares":
        lines += [
            rf"\text{{trained: }} L_D = \underbrace{{\tfrac{{1}}{{2B}} \textstyle\sum_i (a(x_i) - 1)^2}}_{{{num(m.ls_real)}}}"
            rf" + \underbrace{{\tfrac{{1}}{{2B}} \textstyle\sum_i a(G(z_i))^2}}_{{{num(m.ls_fake)}}} = {num(m.L_D_trained)}",
            rf"\text{{trained: }} L_G = \tfrac{{1}}{{2B}} \textstyle\sum_i (a(G(z_i)) - 1)^2 = {num(m.L_G_trained)}",
        ]  # fmt: skip
    else:
        gp = rf"\underbrace{{\tfrac1B \textstyle\sum_i \big(\lVert \nabla_{{\tilde x}} a(\tilde x_i) \rVert - 1\big)^2}}_{{{num(m.gp)}}}"
        lines += [
            rf"\begin{{aligned}}\text{{trained: }} L_D &= \underbrace{{\tfrac1B \textstyle\sum_i a(G(z_i))}}_{{{num(m.mean_a_fake)}}}"
            rf" - \underbrace{{\tfrac1B \textstyle\sum_i a(x_i)}}_{{{num(m.mean_a_real)}}}"
            rf" + \alpha\,{gp} \\ &= {num(m.L_D_trained + GP_WEIGHT * m.gp)}"
            rf" \qquad (\alpha = {num(GP_WEIGHT)},\ \tilde x_i = \tau_i x_i + (1 - \tau_i)\,G(z_i))\end{{aligned}}",
            rf"\text{{trained: }} L_G = -\tfrac1B \textstyle\sum_i a(G(z_i)) = {num(m.L_G_trained)}",
        ]  # fmt: skip
    return lines


def variant_note(loss: str) -> str:
    """What the V(D, G) numbers mean for the loss being trained (markdown)."""
    if loss in ("minimax", "nonsaturating"):
        trained = r"$L_G^{\text{minimax}}$" if loss == "minimax" else r"$L_G^{\text{NS}}$"
        return f"This run trains $D$ on $L_D = -V$ and $G$ on {trained}."
    kind = "least-squares score" if loss == "least_squares" else "critic value"
    note = (
        f"This run does **not** play the minimax game: $D$'s raw output $a(x)$ is a {kind}, "
        "not a logit, and the two networks minimise the losses marked *trained*. $V(D, G)$ "
        r"above reads $D = \sigma(a)$ only to compare with the original game."
    )
    if loss == "wgan_gp":
        note += (
            rf" Gulrajani et al. use $\alpha = 10$, 5 critic steps per $G$ step and Adam with "
            rf"$\beta_1 = 0$, $\beta_2 = 0.9$; the small 2-D critics here need only "
            rf"$\alpha = {num(GP_WEIGHT)}$, with $\beta_1 = {num(gan.GanConfig().beta1)}$, "
            rf"$\beta_2 = {num(gan.WGAN_BETA2)}$ (the *D steps per G step* setting is yours). The "
            r"penalty's $\tau_i \sim U[0, 1]$ (their $\epsilon$) is one fixed draw for this line."
        )
    return note
