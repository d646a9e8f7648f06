"""Figures and formulas of the GAN page (pure functions: snapshot in, figure out)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dl_core.gan import VIEW, MinimaxNumbers, Snapshot, generator_gradients, thin
from viz.latex import num
from viz.style import PALETTE, base_layout

REAL, FAKE, GRID, ARROW = PALETTE[2], PALETTE[4], PALETTE[5], PALETTE[7]
LAYERS = ("real", "fake", "D(x)", "noise grid", "arrows")
LAYER_LABELS = {
    "real": "Real samples",
    "fake": "Generated samples",
    "D(x)": "D(x) heat map",
    "noise grid": "Generator's noise grid",
    "arrows": "Gradient arrows",
}
# Live frames rebuild five figures several times a second: traces skip plotly's
# per-property validation (about twice as fast; write nested props in their full
# form, e.g. title=dict(text=...)), and take numpy arrays, not lists. Layouts are
# still validated (base_layout relies on its "xaxis_title" shorthand).
FAST = {"_validate": False}
MAX_CURVE_POINTS = 1000  # points per loss curve in a live frame
D_SCALE = [[0.0, "#c51b7d"], [0.5, "#f7f7f7"], [1.0, "#4d9221"]]  # fake-ish ... real-ish


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


def _heat(z: np.ndarray, axis: np.ndarray, title: str, wgan: bool = False) -> go.Heatmap:
    kw = {} if wgan else {"zmin": 0.0, "zmax": 1.0}
    return go.Heatmap(**FAST,
        x=axis, y=axis, z=z, colorscale=D_SCALE, opacity=0.75, name=title, zsmooth="best",
        colorbar=dict(title=dict(text=title), thickness=12, len=0.8), hoverinfo="skip", **kw,
    )  # fmt: skip


def field_figure(snap: Snapshot, layers: list[str], wgan: bool = False) -> go.Figure:
    """The GAN Lab view: chosen layers over the plane."""
    fig = go.Figure()
    if "D(x)" in layers:
        fig.add_trace(_heat(snap.D_grid, snap.axis, "critic" if wgan else "D(x)", wgan))
    if "noise grid" in layers:
        xs, ys = [], []
        for line in snap.noise_lines:
            xs += [*line[:, 0], None]
            ys += [*line[:, 1], None]
        fig.add_trace(
            go.Scatter(**FAST, x=xs, y=ys, mode="lines", name="G(noise grid)",
                       line=dict(color=GRID, width=1), hoverinfo="skip")
        )  # fmt: skip
    if "real" in layers:
        fig.add_trace(
            go.Scatter(**FAST, x=snap.real[:, 0], y=snap.real[:, 1], mode="markers", name="real x",
                       marker=dict(color=REAL, size=4, opacity=0.7))
        )  # fmt: skip
    if "fake" in layers:
        fig.add_trace(
            go.Scatter(**FAST, x=snap.fake[:, 0], y=snap.fake[:, 1], mode="markers", name="generated G(z)",
                       marker=dict(color=FAKE, size=4, line=dict(color="#5a2a4a", width=0.5)))
        )  # fmt: skip
    if "arrows" in layers:
        fig.add_trace(arrow_trace(snap.fake[:150], snap.move[:150]))
    base_layout(fig, f"Step {snap.step}: real vs generated samples", "x₁", "x₂", height=520)
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
        x=xs, y=ys, mode="lines", name="−∂L_G/∂x (where G pushes)",
        line=dict(color=ARROW, width=1), hoverinfo="skip",
    )  # fmt: skip


def dstar_figure(snap: Snapshot, wgan: bool = False) -> go.Figure:
    """Learned D beside the optimal D* = p_data / (p_data + p_g) (two panels, laid out
    by hand: make_subplots costs ~15 ms a frame)."""
    fig = go.Figure()
    fig.add_trace(_heat(snap.D_grid, snap.axis, "D", wgan))
    fig.add_trace(_heat(snap.D_star, snap.axis, "D*"))
    fig.data[0].showscale = False
    fig.data[1].update(xaxis="x2", yaxis="y2")
    base_layout(fig, "What D learned vs the best D for the current G", "x₁", "x₂", height=400)
    rng = [-VIEW, VIEW]
    fig.update_layout(
        xaxis=dict(domain=[0.0, 0.44], range=rng, title_text="x₁ (learned D(x))"),
        xaxis2=dict(
            domain=[0.52, 0.96], range=rng, title_text="x₁ (optimal D*(x) from the densities)"
        ),
        yaxis=dict(range=rng, title_text="x₂"),
        yaxis2=dict(range=rng, anchor="x2", title_text="x₂"),
    )
    return fig


def loss_figure(
    d_loss: list[float], g_loss: list[float], log_d: list[float], log_1m: list[float]
) -> go.Figure:
    fig, k = go.Figure(), 1
    for y, name, color, dash in (
        (d_loss, "D loss L_D", REAL, None),
        (g_loss, "G loss L_G", FAKE, None),
        (log_d, "mean log D(x)", PALETTE[0], "dot"),
        (log_1m, "mean log(1 − D(G(z)))", PALETTE[1], "dot"),
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
                                 marker=dict(symbol="line-ns-open", size=10, color=FAKE)))  # fmt: skip
    base_layout(
        fig,
        "Generator gradient per sample vs D(G(z))",
        "D(G(z))",
        "|gradient w.r.t. the logit a|",
        420,
    )
    fig.update_yaxes(range=[-0.1, 1.05])
    return _legend_below(fig)


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
            1, rf"L_D = -V = {num(m.L_D)} \qquad (\text{{at equilibrium }} -V = \log 4 = 1.386)"
        )
    elif m.loss == "least_squares":
        lines += [
            rf"\text{{trained: }} L_D = \underbrace{{\tfrac{{1}}{{2B}} \textstyle\sum_i (a(x_i) - 1)^2}}_{{{num(m.ls_real)}}}"
            rf" + \underbrace{{\tfrac{{1}}{{2B}} \textstyle\sum_i a(G(z_i))^2}}_{{{num(m.ls_fake)}}} = {num(m.L_D_trained)}",
            rf"\text{{trained: }} L_G = \tfrac{{1}}{{2B}} \textstyle\sum_i (a(G(z_i)) - 1)^2 = {num(m.L_G_trained)}",
        ]  # fmt: skip
    else:
        lines += [
            rf"\text{{trained: }} L_D = \underbrace{{\tfrac1B \textstyle\sum_i a(G(z_i))}}_{{{num(m.mean_a_fake)}}}"
            rf" - \underbrace{{\tfrac1B \textstyle\sum_i a(x_i)}}_{{{num(m.mean_a_real)}}} + \lambda\,\mathrm{{GP}}"
            rf" = {num(m.L_D_trained)} + \lambda\,\mathrm{{GP}}",
            rf"\text{{trained: }} L_G = -\tfrac1B \textstyle\sum_i a(G(z_i)) = {num(m.L_G_trained)}",
        ]  # fmt: skip
    return lines


def variant_note(loss: str) -> str:
    """What the V(D, G) numbers mean for the loss being trained (markdown)."""
    if loss in ("minimax", "nonsaturating"):
        trained = r"$L_G^{\text{minimax}}$" if loss == "minimax" else r"$L_G^{\text{NS}}$"
        return f"This run trains $D$ on $L_D = -V$ and $G$ on {trained}."
    kind = "least-squares score" if loss == "least_squares" else "critic value"
    return (
        f"This run does **not** play the minimax game: $D$'s raw output $a(x)$ is a {kind}, "
        "not a logit, and the two networks minimise the losses marked *trained*. $V(D, G)$ "
        r"above reads $D = \sigma(a)$ only to compare with the original game."
    )
