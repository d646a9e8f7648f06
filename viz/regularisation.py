"""Figures and formulas for the regularisation & normalisation page.

Colours keep one meaning on every chart of the page: training blue, validation orange,
test vermillion, the truth black, the final fit green, the early-stopped (checkpoint)
fit and the step k* pink; "with batch norm" green and "without" blue; raw inputs
vermillion and standardised inputs green."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dl_core import regularisation as R
from dl_core.data2d import EXTENT
from viz.isolines import isolines, nice_levels
from viz.latex import mat, num, paren, plain, signed
from viz.style import CATEGORY10, HEIGHT, MARKERS, PALETTE, SEQUENTIAL, base_layout

TRAIN, VAL, TEST = PALETTE[0], PALETTE[1], PALETTE[3]
FINAL, EARLY, TRUTH = PALETTE[2], PALETTE[4], "#000000"
WITH_BN, WITHOUT_BN = PALETTE[2], PALETTE[0]
RAW, STD = PALETTE[3], PALETTE[2]
FIRST_SCREEN_HEIGHT = 350
CLASS_SCALE = [[0.0, CATEGORY10[0]], [0.5, "#FFFFFF"], [1.0, CATEGORY10[1]]]  # p(class 1)


def _f32(a) -> np.ndarray:
    """float32 for the chart's JSON (half the bytes); beyond float32's range is off any chart: NaN."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.abs(a) < 1e30, a, np.nan).astype(np.float32)


def _vline(fig: go.Figure, x: float, text: str, color: str = EARLY, log: bool = False) -> None:
    """A dashed vertical marker with its label at the top (on a log axis Plotly places an
    annotation at log₁₀ of x)."""
    fig.add_vline(x=x, line=dict(color=color, dash="dash", width=1.5))
    fig.add_annotation(x=float(np.log10(x)) if log else x, y=1.0, yref="paper", text=text,
                       showarrow=False, xanchor="left", yanchor="bottom", font=dict(color=color, size=12))  # fmt: skip


def _legend_below(fig: go.Figure) -> go.Figure:
    """The legend under the plot, so a long one never covers the title."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0),
                      margin=dict(b=40))  # fmt: skip
    return fig


def log_ticks(values, digits: int = 6) -> dict:
    """Tick values and labels for a log axis over ``values``: 1, 2, 5 per decade over at most
    two decades, else the powers of ten, written as ``plain`` numbers (no SI prefixes)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return {}
    lo, hi = np.floor(np.log10(v.min())), np.ceil(np.log10(v.max()))
    mant = (1, 2, 5) if np.log10(v.max() / v.min()) <= 2.2 else (1,)
    step = 1 if hi - lo <= 8 else int(np.ceil((hi - lo) / 8))
    ticks = [m * 10.0**e for e in np.arange(lo, hi + 1, step) for m in mant]
    ticks = [t for t in ticks if v.min() / 1.5 <= t <= v.max() * 1.5] or [10.0**lo]
    return dict(type="log", tickvals=ticks, ticktext=[plain(t, digits) for t in ticks])


# ---------------------------------------------------------------- the first screen


def loss_curves(res: R.FitResult, m: int = 0, height: int = FIRST_SCREEN_HEIGHT) -> go.Figure:
    """Training, validation and test loss over the steps, k* marked (and σ² for the curve)."""
    cfg, s = res.config, res.steps
    fig = go.Figure()
    for name, curve, color, dash in (("train", res.train, TRAIN, "solid"),
                                      ("validation", res.val, VAL, "dash"),
                                      ("test", res.test, TEST, "dot")):  # fmt: skip
        fig.add_trace(go.Scatter(x=s, y=_f32(curve[m]), name=name, mode="lines",
                                 line=dict(color=color, dash=dash, width=2)))  # fmt: skip
    if cfg.task == "regression" and cfg.noise > 0:
        fig.add_trace(go.Scatter(x=[s[0], s[-1]], y=[cfg.noise**2] * 2, mode="lines",
                                 name="noise σ²", line=dict(color="#999999", width=1)))  # fmt: skip
    k = int(res.best_step[m])
    _vline(fig, k, f"k* = {k}")
    what = "mean squared error" if cfg.task == "regression" else "cross-entropy"
    base_layout(fig, f"Loss ({what}, without the penalty)", "step k", "loss (log scale)", height)
    fig.update_yaxes(**log_ticks(np.concatenate([res.train[m], res.val[m], res.test[m]])))
    return _legend_below(fig)


def fit_figure(
    res: R.FitResult, data: R.Data, m: int = 0, height: int = FIRST_SCREEN_HEIGHT
) -> go.Figure:
    """The fitted curve (or decision map) after the last step and at the checkpoint k*."""
    cfg, raw = res.config, data.raw
    k, K = int(res.best_step[m]), int(res.steps[-1])
    final_ok = bool(np.isfinite(res.pred[m]).all())
    if cfg.task == "regression":
        fig = go.Figure()
        gx = raw["grid_x"]
        fig.add_trace(go.Scatter(x=gx, y=_f32(np.sin(np.pi * gx)), name="truth sin(πx)",
                                 mode="lines", line=dict(color=TRUTH, dash="dash", width=1)))  # fmt: skip
        if final_ok:
            fig.add_trace(go.Scatter(x=gx, y=_f32(res.pred[m]), name=f"fit at step {K}",
                                     mode="lines", line=dict(color=FINAL, width=2.5)))  # fmt: skip
        fig.add_trace(go.Scatter(x=gx, y=_f32(res.pred_best[m]), name=f"early-stopped (k* = {k})",
                                 mode="lines", line=dict(color=EARLY, width=2, dash="dot")))  # fmt: skip
        fig.add_trace(go.Scatter(x=raw["x_train"][:, 0], y=_f32(data.y_train[:, 0]), mode="markers",
                                 name="training points", marker=dict(color=TRAIN, size=8)))  # fmt: skip
        fig.add_trace(go.Scatter(x=raw["x_val"][:, 0], y=_f32(data.y_val[:, 0]), mode="markers",
                                 name="validation points",
                                 marker=dict(color=VAL, size=7, symbol="circle-open", line=dict(width=2))))  # fmt: skip
        base_layout(fig, "The fitted curve", "x", "y", height)
        fig.update_yaxes(range=[-2.2, 2.2])
        return _legend_below(fig)
    G = R.GRID_2D
    z = (res.pred[m] if final_ok else res.pred_best[m]).reshape(G, G)
    title = f"Decision map after step {K}" if final_ok else f"Decision map at k* = {k}"
    fig = go.Figure(go.Heatmap(
        x=raw["grid_x"], y=raw["grid_y"], z=_f32(z), zmin=0, zmax=1, colorscale=CLASS_SCALE,
        opacity=0.8, zsmooth="fast", colorbar=dict(title=dict(text="p(class 1)", side="right"), thickness=12),
        hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>p(class 1)=%{z:.3f}<extra></extra>",
    ))  # fmt: skip
    bx, by = isolines(raw["grid_x"], raw["grid_y"], res.pred_best[m].reshape(G, G), [0.5])
    if len(bx):
        fig.add_trace(go.Scatter(x=_f32(bx), y=_f32(by), mode="lines", name=f"early-stopped boundary (k* = {k})",
                                 line=dict(color=EARLY, width=2.5, dash="dot"), hoverinfo="skip"))  # fmt: skip
    X, y = raw["x_train"], data.y_train[:, 0].numpy()
    for c in (0, 1):
        fig.add_trace(go.Scatter(x=X[y == c, 0], y=X[y == c, 1], mode="markers", name=f"class {c} (train)",
                                 marker=dict(color=CATEGORY10[c], symbol=MARKERS[c], size=8,
                                             line=dict(color="white", width=1))))  # fmt: skip
    base_layout(fig, title, "x₁", "x₂", height)
    fig.update_xaxes(range=[-EXTENT, EXTENT], constrain="domain", showgrid=False)
    fig.update_yaxes(range=[-EXTENT, EXTENT], scaleanchor="x", constrain="domain", showgrid=False)
    return _legend_below(fig)


def header_formula() -> list[str]:
    return [
        r"\tilde L(\theta) = L(\theta) + \alpha\,\Omega(\theta),\qquad "
        r"\Omega(\theta) = \tfrac12 \textstyle\sum_w w^2 \ \ (\text{L2})\quad\text{or}\quad "
        r"\textstyle\sum_w |w| \ \ (\text{L1})"
    ]


GAP_TEXT = (
    "The **gap** between test and training loss measures overfitting. Why it appears is "
    "clearest for polynomials of growing degree, each fitted by least squares to 100 "
    "independent noisy datasets of your n points: a low degree misses the curve on "
    "average (**bias**), a high one follows each dataset's noise (**variance**). Their "
    "sum with the noise σ² is the expected test error: U-shaped in the capacity."
)


def gap_latex(res: R.FitResult, m: int = 0) -> str:
    """The generalisation gap after the last step and at k*, with the run's numbers."""
    b = int(res.best[m])
    tr, te = res.train[m], res.test[m]
    k, K = int(res.best_step[m]), int(res.steps[-1])
    return (rf"\text{{gap}} = L_{{\text{{test}}}} - L_{{\text{{train}}}}:\quad "
            rf"\text{{step }}{K}:\ {num(te[-1], 3)} - {num(tr[-1], 3)} = {num(te[-1] - tr[-1], 3)},"
            rf"\qquad k^* = {k}:\ {num(te[b], 3)} - {num(tr[b], 3)} = {num(te[b] - tr[b], 3)}")  # fmt: skip


# ---------------------------------------------------------------- bias and variance


def bias_variance_figure(bv: R.BiasVariance, degree: int) -> go.Figure:
    d = bv.degrees
    fig = go.Figure()
    for name, y, color, dash in (("bias²", bv.bias2, PALETTE[0], "solid"),
                                 ("variance", bv.variance, PALETTE[1], "solid"),
                                 ("bias² + variance + σ²", bv.expected, TRUTH, "dash"),
                                 ("training error", bv.train, PALETTE[5], "dot")):  # fmt: skip
        fig.add_trace(
            go.Scatter(x=d, y=_f32(y), name=name, mode="lines", line=dict(color=color, dash=dash))
        )
    fig.add_trace(go.Scatter(x=d, y=_f32(bv.test), name="test error (measured)", mode="markers",
                             marker=dict(color=TEST, size=8)))  # fmt: skip
    if bv.noise2 > 0:
        fig.add_trace(go.Scatter(x=[d[0], d[-1]], y=[bv.noise2] * 2, name="noise σ²", mode="lines",
                                 line=dict(color="#999999", width=1)))  # fmt: skip
    best = int(d[np.argmin(bv.test)])
    _vline(fig, degree, f"degree {degree}")
    base_layout(fig, f"Error against capacity (best test error at degree {best})",
                "polynomial degree (capacity)", "error (log scale)", 420)  # fmt: skip
    # high degrees' variance explodes (interpolating n noisy points): those go off the chart
    top = max(4.0 * float(bv.test[0]), 1.0)
    shown = np.concatenate([bv.bias2, bv.variance, bv.test, bv.train, [bv.noise2]])
    bottom = max(float(np.nanmin(shown[shown > 0])) if (shown > 0).any() else 1e-3, 1e-4)
    fig.update_yaxes(range=[np.log10(bottom) - 0.2, np.log10(top)], **log_ticks([bottom, top]))
    return _legend_below(fig)


def fits_figure(bv: R.BiasVariance, degree: int) -> go.Figure:
    """A few datasets' fits of one degree, their mean over all datasets and the truth."""
    g = bv.grid
    fig = go.Figure()
    for i, f in enumerate(bv.fits[degree]):
        fig.add_trace(go.Scatter(x=g, y=_f32(f), mode="lines", name="fits to different datasets",
                                 showlegend=i == 0, legendgroup="fits",
                                 line=dict(color="rgba(0,114,178,0.35)", width=1)))  # fmt: skip
    fig.add_trace(go.Scatter(x=g, y=_f32(bv.mean_fit[degree]), name="mean fit E[ŷ(x)]", mode="lines",
                             line=dict(color=FINAL, width=3)))  # fmt: skip
    fig.add_trace(go.Scatter(x=g, y=_f32(bv.truth), name="truth sin(πx)", mode="lines",
                             line=dict(color=TRUTH, dash="dash")))  # fmt: skip
    base_layout(fig, f"Degree {degree}: bias² {plain(bv.bias2[degree], 3)}, variance "
                f"{plain(bv.variance[degree], 3)}", "x", "ŷ(x)", 420)  # fmt: skip
    fig.update_yaxes(range=[-2.2, 2.2])
    return _legend_below(fig)


def bias_variance_latex(bv: R.BiasVariance, degree: int) -> str:
    i = degree
    return (rf"\underbrace{{{num(bv.test[i], 3)}}}_{{\text{{test error}}}} \approx "
            rf"\underbrace{{{num(bv.bias2[i], 3)}}}_{{\text{{bias}}^2}} + "
            rf"\underbrace{{{num(bv.variance[i], 3)}}}_{{\text{{variance}}}} + "
            rf"\underbrace{{{num(bv.noise2, 3)}}}_{{\sigma^2}} = {num(bv.expected[i], 3)}")  # fmt: skip


# ---------------------------------------------------------------- L2 and L1


def alpha_figure(sweep: R.FitResult, alpha: float) -> go.Figure:
    """Test loss (after the last step and early-stopped) against α; model 0 has no penalty."""
    a = np.array([v.alpha for v in sweep.variants[1:]])
    kind = R.PENALTY_LABELS[sweep.variants[1].penalty]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=a, y=_f32(sweep.test[1:, -1]), name="test loss, last step",
                             mode="lines+markers", line=dict(color=TEST)))  # fmt: skip
    fig.add_trace(go.Scatter(x=a, y=_f32(sweep.train[1:, -1]), name="training loss, last step",
                             mode="lines+markers", line=dict(color=TRAIN)))  # fmt: skip
    fig.add_trace(go.Scatter(x=a, y=_f32(sweep.at_best(sweep.test)[1:]), name="test loss at k*",
                             mode="lines+markers", line=dict(color=EARLY, dash="dot")))  # fmt: skip
    fig.add_trace(go.Scatter(x=[a[0], a[-1]], y=[float(sweep.test[0, -1])] * 2, mode="lines",
                             name="test loss without a penalty", line=dict(color="#999999", dash="dash")))  # fmt: skip
    _vline(fig, alpha, f"your α = {plain(alpha, 3)}", "#555555", log=True)
    base_layout(fig, f"Test loss against α ({kind})", "α (log scale)", "loss (log scale)", 420)
    fig.update_xaxes(**log_ticks(np.append(a, alpha)))
    fig.update_yaxes(
        **log_ticks(
            np.concatenate([sweep.test[:, -1], sweep.train[1:, -1], sweep.at_best(sweep.test)])
        )
    )
    return _legend_below(fig)


def weights_figure(w_none: np.ndarray, w_pen: np.ndarray, label: str) -> go.Figure:
    """Histograms of the weights without and with the penalty."""
    hi = float(np.nanmax(np.abs(np.concatenate([w_none, w_pen])))) if len(w_none) else 1.0
    bins = dict(start=-hi, end=hi, size=max(hi / 30, 1e-9))
    zeros = int((w_pen == 0).sum())
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=_f32(w_none), xbins=bins, name="no penalty",
                               marker=dict(color=PALETTE[5]), opacity=0.6))  # fmt: skip
    fig.add_trace(
        go.Histogram(x=_f32(w_pen), xbins=bins, name=label, marker=dict(color=FINAL), opacity=0.6)
    )
    fig.update_layout(barmode="overlay")
    base_layout(fig, f"The weights after training: {zeros} of {len(w_pen)} exactly 0",
                "weight w", "count (log scale)", 420)  # fmt: skip
    fig.update_yaxes(**log_ticks([1, len(w_pen)]))
    return _legend_below(fig)


PENALTY_GRADIENTS = (
    r"\text{L2: } \frac{\partial \tilde L}{\partial w} = \frac{\partial L}{\partial w} + \alpha w"
    r"\ \Rightarrow\ w \leftarrow (1 - \eta\alpha)\,w - \eta\,\frac{\partial L}{\partial w}\quad\text{(SGD: weight decay)}",
    r"\text{L1: } \frac{\partial \tilde L}{\partial w} = \frac{\partial L}{\partial w} + \alpha\,\mathrm{sign}(w)"
    r"\quad \big(\text{at } w = 0 \text{ any value in } [-1, 1] \text{ is a subgradient of } |w|\big)",
)  # fmt: skip
PROXIMAL_AND_DECAY_TEXT = (
    "With SGD, L1's subgradient moves every weight toward 0 by the same ηα whatever its size: "
    "small weights overshoot 0 and jitter around it. The **proximal step** sets every weight "
    "whose step would cross 0 to exactly 0 (choose *L1 (proximal step)* and watch the histogram).\n\n"
    "**L2 in the loss or decoupled weight decay?** With SGD they are one update. Adam divides "
    "the whole gradient by √ŝ, L2's αw included: a weight with small data gradients is pulled "
    "toward 0 by up to η a step, one with large gradients hardly at all. AdamW (*decoupled* "
    "decay) shrinks every weight by the same factor 1 − ηα, as SGD does, so the same α "
    "regularises differently:"
)


def checks_text(ck: R.Checks) -> str:
    """Under the hood of the L2 and L1 tab: the hand-written code against torch."""
    return (
        f"The hand-written backward pass (with a dropout mask) against autograd: max difference "
        f"{ck.gradient:.1e}. Your settings for 50 steps against nn.Linear + {ck.reference}: "
        f"max |Δθ| = {ck.optimizer:.1e}."
    )


def variant_label(res: R.FitResult, m: int) -> str:
    """ "L2 in the loss, α = 0.001, Adam": model m's penalty, strength and optimizer."""
    v = res.variants[m]
    return f"{R.PENALTY_LABELS[v.penalty]}, α = {plain(v.alpha, 3)}, {R.OPTIMIZER_LABELS[res.optimizer]}"


def update_latex(res: R.FitResult, m: int, i: int) -> list[str]:
    """The last update of weight i of model m, with its numbers, by its penalty."""
    v, lr, L = res.variants[m], res.config.lr, res.last
    w, g, new = L["theta_prev"][m, i], L["g"][m, i], L["theta"][m, i]
    a = v.alpha
    if res.optimizer == "sgd" and v.penalty in ("l2", "decay"):
        return [
            r"w \leftarrow w - \eta\,(\partial L/\partial w + \alpha w) = (1 - \eta\alpha)\,w - \eta\, \partial L/\partial w",
            rf"= (1 - {num(lr)} \cdot {num(a)}) \cdot {paren(w, 5)} - {num(lr)} \cdot {paren(g, 5)} = {num(new, 6)}",
        ]  # fmt: skip
    if res.optimizer == "sgd" and v.penalty == "l1":
        return [
            r"w \leftarrow w - \eta\,(\partial L/\partial w + \alpha\,\mathrm{sign}(w))",
            rf"= {num(w, 5)} - {num(lr)} \cdot ({num(g, 5)} {signed(a * np.sign(w), 5)}) = {num(new, 6)}",
        ]  # fmt: skip
    if v.penalty == "l1_prox":
        u = L["opt_delta"][m, i] + w  # the optimizer's step before the threshold
        return [
            r"u = \text{the optimizer's update of } w \text{ on } L \text{ alone},\qquad w \leftarrow \mathrm{sign}(u)\,\max(|u| - \eta\alpha,\ 0)",
            rf"u = {num(u, 5)},\quad \eta\alpha = {num(lr * a)}\ \Rightarrow\ w = {num(new, 6)}",
        ]  # fmt: skip
    if res.optimizer == "adam":
        m_hat, s_hat = L["opt_m_hat"][m, i], L["opt_s_hat"][m, i]
        step = -lr * m_hat / (np.sqrt(s_hat) + 1e-8)
        if v.penalty == "decay":
            return [
                r"\text{AdamW: } w \leftarrow (1 - \eta\alpha)\,w - \eta\,\hat m/(\sqrt{\hat s} + \epsilon),\quad \hat m, \hat s \text{ from } g = \partial L/\partial w",
                rf"= (1 - {num(lr)} \cdot {num(a)}) \cdot {paren(w, 6)} {signed(step, 5)} = {num(new, 6)}",
            ]  # fmt: skip
        if v.penalty == "l2":
            return [
                r"\text{Adam + L2: } g = \partial L/\partial w + \alpha w,\quad w \leftarrow w - \eta\,\hat m/(\sqrt{\hat s} + \epsilon)",
                rf"g = {num(g, 5)} {signed(a * w, 5)},\quad w = {num(w, 6)} {signed(step, 5)} = {num(new, 6)}",
            ]  # fmt: skip
    return [rf"w \leftarrow w + \Delta w = {num(w, 6)} {signed(new - w, 5)} = {num(new, 6)}"]


def decoupling_rows(runs: dict[str, R.FitResult]) -> list[dict]:
    """L2 in the loss against decoupled decay, with SGD and Adam: one row per run."""
    rows = []
    for opt, res in runs.items():
        for m, v in enumerate(res.variants):
            name = {("sgd", "l2"): "SGD + L2 in the loss", ("sgd", "decay"): "SGD + weight decay",
                    ("adam", "l2"): "Adam + L2 in the loss", ("adam", "decay"): "AdamW"}[(opt, v.penalty)]  # fmt: skip
            w = R.weights(res, m)
            rows.append({"run": name, "α": plain(v.alpha, 3), "‖w‖ after training": plain(np.linalg.norm(w), 4),
                         "test loss": plain(res.test[m, -1], 4)})  # fmt: skip
        gap = float(np.abs(res.theta[0] - res.theta[1]).max())
        rows[-1]["max |θ_L2 − θ_decay|"] = rows[-2]["max |θ_L2 − θ_decay|"] = plain(gap, 3)
    return rows


def decoupling_latex(runs: dict[str, R.FitResult], i: int, shown: str | None) -> list[str]:
    """Weight i's last update under Adam + L2 and under AdamW, except the one (``shown``:
    its penalty) already written out above."""
    adam = runs["adam"]
    return [
        line
        for m, v in enumerate(adam.variants)
        if v.penalty != shown
        for line in update_latex(adam, m, i)
    ]


# ---------------------------------------------------------------- early stopping


EARLY_TEXT = (
    "Every run saves its weights whenever the validation loss reaches a new low; at the end "
    "the checkpoint θ_k* is restored (the pink dotted curve above). Starting from small "
    "weights, fewer steps mean a shorter path from θ₀, the effect of an L2 penalty: for "
    "gradient descent on a quadratic loss, stopping at k* acts like α ≈ 1/(η k*)."
)


def path_figure(sweep: R.FitResult) -> go.Figure:
    """Test loss against the distance from θ₀: along the unpenalised run's steps (the
    sweep's model 0), and at the end of each α's run. Both trace the same trade-off: early
    stopping limits how far θ travels, as L2 does."""
    res, fig = sweep, go.Figure()
    fig.add_trace(go.Scatter(x=_f32(res.dist[0]), y=_f32(res.test[0]), mode="lines+markers",
                             name="along training (steps k)", line=dict(color=FINAL), marker=dict(size=4),
                             customdata=res.steps, hovertemplate="step %{customdata}<br>‖θ−θ₀‖=%{x:.3f}<br>test %{y:.4f}<extra></extra>"))  # fmt: skip
    a = [v.alpha for v in sweep.variants[1:]]
    text = [f"α = {plain(x, 2)}" if i in (0, len(a) - 1) else "" for i, x in enumerate(a)]
    fig.add_trace(go.Scatter(x=_f32(sweep.dist[1:, -1]), y=_f32(sweep.test[1:, -1]), mode="lines+markers+text",
                             name=f"end of training, {R.PENALTY_LABELS[sweep.variants[1].penalty]} (α grows ←)",
                             text=text, textposition="top center", customdata=a,
                             hovertemplate="α = %{customdata:.3g}<br>‖θ−θ₀‖=%{x:.3f}<br>test %{y:.4f}<extra></extra>",
                             line=dict(color=PALETTE[5], dash="dot"), marker=dict(color=PALETTE[5], size=9, symbol="diamond")))  # fmt: skip
    b = int(res.best[0])
    fig.add_trace(go.Scatter(x=[float(res.dist[0, b])], y=[float(res.test[0, b])], mode="markers",
                             name=f"k* = {int(res.best_step[0])}", marker=dict(color=EARLY, size=14, symbol="star")))  # fmt: skip
    base_layout(fig, "Early stopping and L2 both limit how far θ moves from θ₀",
                "distance from the initialisation ‖θ − θ₀‖", "test loss (log scale)", 440)  # fmt: skip
    fig.update_yaxes(**log_ticks(np.concatenate([res.test[0], sweep.test[1:, -1]])))
    return _legend_below(fig)


def early_latex(res: R.FitResult) -> list[str]:
    b, k = int(res.best[0]), int(res.best_step[0])
    K = int(res.steps[-1])
    lines = [
        rf"k^* = \arg\min_k L_{{\text{{val}}}}(\theta_k) = {k},\qquad L_{{\text{{val}}}}(\theta_{{k^*}}) = {num(res.val[0, b], 4)}",
        rf"L_{{\text{{test}}}}(\theta_{{k^*}}) = {num(res.test[0, b], 4)}\quad\text{{against}}\quad "
        rf"L_{{\text{{test}}}}(\theta_{{{K}}}) = {num(res.test[0, -1], 4)}",
    ]  # fmt: skip
    if k > 0 and res.optimizer == "sgd":
        lines.append(
            rf"\text{{gradient descent: }}\alpha \approx \frac{{1}}{{\eta\, k^*}} = \frac{{1}}{{{num(res.config.lr)} \cdot {k}}} = {num(1 / (res.config.lr * k), 3)}"
        )
    return lines


# ---------------------------------------------------------------- dropout


DROPOUT_TEXT = (
    "Each training step draws a mask r per unit, rⱼ ~ Bernoulli(1 − p), and divides the kept "
    "outputs by 1 − p (*inverted* dropout), so every unit's expected output is unchanged and "
    "evaluation simply uses the whole network without a mask. That evaluation approximates "
    "the average of all 2ᴴ thinned networks: compare it with a Monte Carlo average of masks."
)


def mask_figure(step: R.DropoutStep, max_units: int = 12) -> go.Figure:
    """The network with one step's masks: dropped units open and greyed, their edges gone."""
    H = len(step.h1)
    shown = min(H, max_units)
    cols = [np.ones(len(step.x)), step.r1[:shown], step.r2[:shown], np.ones(1)]
    pos = []
    for c, keep in enumerate(cols):
        ys = np.linspace(-1, 1, len(keep)) if len(keep) > 1 else np.zeros(1)
        pos.append([(c, float(y)) for y in ys])
    ex, ey = [], []
    for c in range(3):
        for i, (x0, y0) in enumerate(pos[c]):
            for j, (x1, y1) in enumerate(pos[c + 1]):
                if cols[c][i] and cols[c + 1][j]:
                    ex += [x0, x1, None]
                    ey += [y0, y1, None]
    fig = go.Figure(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="rgba(0,0,0,0.18)", width=1),
                               hoverinfo="skip", showlegend=False))  # fmt: skip
    for keep_val, name, marker in ((1, "kept unit (r = 1)", dict(color=FINAL, size=12)),
                                   (0, "dropped unit (r = 0)", dict(color="#BBBBBB", size=12, symbol="x-open", line=dict(width=2)))):  # fmt: skip
        px = [
            p[0]
            for c, k in zip(pos, cols, strict=True)
            for p, r in zip(c, k, strict=True)
            if r == keep_val
        ]
        py = [
            p[1]
            for c, k in zip(pos, cols, strict=True)
            for p, r in zip(c, k, strict=True)
            if r == keep_val
        ]
        fig.add_trace(
            go.Scatter(x=px, y=py, mode="markers", name=name, marker=marker, hoverinfo="skip")
        )
    dropped = int((step.r1 == 0).sum() + (step.r2 == 0).sum())
    base_layout(
        fig, f"One step's mask, p = {plain(step.p, 2)}: {dropped} of {2 * H} off", "", "", 380
    )
    fig.update_xaxes(visible=False, range=[-0.3, 3.3])
    fig.update_yaxes(visible=False, range=[-1.25, 1.1])
    drawn = f"<br>{shown} of {H}" if shown < H else ""
    for c, text in enumerate(("input", f"layer 1{drawn}", f"layer 2{drawn}", "output")):
        fig.add_annotation(x=c, y=-1.12, text=text, showarrow=False, yanchor="top")
    return _legend_below(fig)


def dropout_latex(step: R.DropoutStep, j: int) -> list[str]:
    p, h, r, hd = step.p, step.h1[j], step.r1[j], step.h1_drop[j]
    J = j + 1
    return [
        rf"r_{{{J}}} \sim \mathrm{{Bernoulli}}(1 - p) = \mathrm{{Bernoulli}}({num(1 - p, 3)}):\quad r_{{{J}}} = {int(r)}",
        rf"h^{{\mathrm{{drop}}}}_{{{J}}} = \frac{{r_{{{J}}}\, h_{{{J}}}}}{{1 - p}} = \frac{{{int(r)} \cdot {paren(h, 4)}}}{{{num(1 - p, 3)}}} = {num(hd, 4, zero=1e-15)}",
        rf"\mathbb{{E}}[h^{{\mathrm{{drop}}}}_{{{J}}}] = (1 - p)\,\frac{{h_{{{J}}}}}{{1 - p}} + p \cdot 0 = "
        rf"{num(1 - p, 3)} \cdot {paren(h / (1 - p), 4)} = {num(h, 4)} = h_{{{J}}}",
        rf"f(x;\, r) = {num(step.out_train, 4)}\ \text{{(this mask)}},\qquad f_{{\text{{eval}}}}(x) = {num(step.out_eval, 4)}",
    ]  # fmt: skip


def p_figure(sweep: R.FitResult, p: float) -> go.Figure:
    ps = np.array([v.p for v in sweep.variants])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ps, y=_f32(sweep.test[:, -1]), name="test loss, last step",
                             mode="lines+markers", line=dict(color=TEST)))  # fmt: skip
    fig.add_trace(go.Scatter(x=ps, y=_f32(sweep.train[:, -1]), name="training loss, last step",
                             mode="lines+markers", line=dict(color=TRAIN)))  # fmt: skip
    fig.add_trace(go.Scatter(x=ps, y=_f32(sweep.at_best(sweep.test)), name="test loss at k*",
                             mode="lines+markers", line=dict(color=EARLY, dash="dot")))  # fmt: skip
    _vline(fig, p, f"your p = {plain(p, 2)}", "#555555")
    base_layout(
        fig,
        "Test loss against the dropout probability p",
        "dropout probability p",
        "loss (log scale)",
        420,
    )
    fig.update_yaxes(
        **log_ticks(
            np.concatenate([sweep.test[:, -1], sweep.train[:, -1], sweep.at_best(sweep.test)])
        )
    )
    return _legend_below(fig)


def mc_figure(mc: R.MonteCarlo, regression: bool) -> go.Figure:
    fig = go.Figure()
    if regression:
        x = mc.x
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                 y=_f32(np.concatenate([mc.mean + 2 * mc.std, (mc.mean - 2 * mc.std)[::-1]])),
                                 fill="toself", fillcolor="rgba(204,121,167,0.2)", line=dict(width=0),
                                 name="± 2 standard deviations of the masks", hoverinfo="skip"))  # fmt: skip
        fig.add_trace(go.Scatter(x=x, y=_f32(mc.mean), name=f"average of {mc.T} masks", mode="lines",
                                 line=dict(color=EARLY, width=3)))  # fmt: skip
        fig.add_trace(go.Scatter(x=x, y=_f32(mc.eval), name="evaluation mode (no mask)", mode="lines",
                                 line=dict(color=FINAL, dash="dash", width=2)))  # fmt: skip
        base_layout(
            fig,
            "The ensemble of thinned networks against evaluation mode",
            "x",
            "network output ŷ",
            400,
        )
        return _legend_below(fig)
    lo, hi = float(min(mc.eval.min(), mc.mean.min())), float(max(mc.eval.max(), mc.mean.max()))
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="equal",
            line=dict(color="#999999", dash="dash"),
        )
    )
    fig.add_trace(go.Scatter(x=_f32(mc.eval), y=_f32(mc.mean), mode="markers", name="test points",
                             error_y=dict(array=_f32(mc.std / np.sqrt(mc.T)), visible=True, thickness=1),
                             marker=dict(color=EARLY, size=6)))  # fmt: skip
    base_layout(fig, f"Average of {mc.T} masks against evaluation mode (logits)",
                "evaluation-mode logit", "mean logit over the masks", 400)  # fmt: skip
    return _legend_below(fig)


def mc_latex(mc: R.MonteCarlo, i: int, regression: bool = True) -> list[str]:
    where = rf"x = {num(mc.x[i], 3, zero=1e-9)}" if regression else rf"\text{{test point {i + 1}}}"
    return [
        rf"{where}:\quad \frac{{1}}{{T}}\sum_{{t=1}}^{{T}} f(x; r_t) = {num(mc.mean[i], 4)} \pm {num(mc.std[i] / np.sqrt(mc.T), 2)}"
        rf"\ \ (T = {mc.T}),\qquad f_{{\text{{eval}}}}(x) = {num(mc.eval[i], 4)}",
        rf"\text{{mean }} |\text{{average of the masks}} - f_{{\text{{eval}}}}| \text{{ over {len(mc.x)} points: }} {num(mc.gap, 3)}",
    ]  # fmt: skip


# ---------------------------------------------------------------- batch norm


def _smooth(y: np.ndarray, w: int = 10) -> np.ndarray:
    if len(y) < w:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    return np.concatenate([c[1:w] / np.arange(1, w), (c[w:] - c[:-w]) / w])


def bn_loss_figure(res: R.BNResult) -> go.Figure:
    fig = go.Figure()
    for run, color, name in (
        (res.with_bn, WITH_BN, "with batch norm"),
        (res.without, WITHOUT_BN, "without"),
    ):
        k = np.arange(1, len(run.loss) + 1)
        fig.add_trace(
            go.Scatter(
                x=k,
                y=_f32(_smooth(run.loss)),
                name=name,
                mode="lines",
                line=dict(color=color, width=2),
            )
        )
        if run.diverged_at is not None:
            _vline(fig, run.diverged_at, f"{name}: diverged", color)
    fig.add_trace(go.Scatter(x=[1, res.config.steps], y=[np.log(2)] * 2, mode="lines", name="ln 2: a coin flip",
                             line=dict(color="#999999", dash="dash", width=1)))  # fmt: skip
    cfg = res.config
    base_layout(fig, f"{cfg.depth} {cfg.activation} layers, SGD with η = {plain(cfg.lr, 3)}, |B| = {cfg.batch}",
                "step k", "mini-batch loss (mean of 10 steps)", 400)  # fmt: skip
    return _legend_below(fig)


def grad_norm_figure(res: R.BNResult) -> go.Figure:
    layers = [f"layer {li}" for li in range(1, res.config.depth + 1)]
    fig = go.Figure()
    for run, color, name in (
        (res.with_bn, WITH_BN, "with batch norm"),
        (res.without, WITHOUT_BN, "without"),
    ):
        fig.add_trace(go.Bar(x=layers, y=_f32(run.grad_norms), name=name, marker=dict(color=color)))
    base_layout(fig, "Gradient size per layer at the first step", "hidden layer (input side first)",
                "‖∂L/∂W⁽ˡ⁾‖ (log scale)", 400)  # fmt: skip
    fig.update_yaxes(**log_ticks(np.concatenate([res.with_bn.grad_norms, res.without.grad_norms])))
    return _legend_below(fig)


def mode_gap_figure(gap: R.ModeGap, batch: int) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=gap.batches, y=_f32(gap.train_mode), mode="lines+markers",
                             name="training mode (each batch's μ<sub>B</sub>, σ<sub>B</sub>²)", line=dict(color=WITH_BN)))  # fmt: skip
    fig.add_trace(go.Scatter(x=[gap.batches[0], gap.batches[-1]], y=[gap.eval_mode] * 2, mode="lines",
                             name="evaluation mode (running averages)", line=dict(color=TRUTH, dash="dash")))  # fmt: skip
    _vline(fig, batch, f"trained with |B| = {batch}", "#555555", log=True)
    base_layout(
        fig,
        "The same weights, two modes: training-set loss",
        "batch size |B| (log scale)",
        "loss",
        400,
    )
    fig.update_xaxes(type="log", tickvals=list(gap.batches), ticktext=[str(b) for b in gap.batches])
    return _legend_below(fig)


def bn_latex(w: R.BNWalk, shown: int = 6) -> list[str]:
    B = len(w.a)
    vals = lambda a: ",\\ ".join(num(x, 3) for x in a[:shown]) + (r",\ \dots" if shown < B else "")  # noqa: E731
    i = 0
    return [
        rf"a = ({vals(w.a)})\quad (|B| = {B})",
        rf"\mu_B = \frac{{1}}{{|B|}}\sum_i a_i = {num(w.mu, 4)},\qquad "
        rf"\sigma_B^2 = \frac{{1}}{{|B|}}\sum_i (a_i - \mu_B)^2 = {num(w.var, 4)}",
        rf"\hat a_1 = \frac{{a_1 - \mu_B}}{{\sqrt{{\sigma_B^2 + \epsilon}}}} = \frac{{{num(w.a[i], 4)} - {paren(w.mu, 4)}}}{{\sqrt{{{num(w.var, 4)} + 10^{{-5}}}}}} = {num(w.a_hat[i], 4)},"
        rf"\qquad y_1 = \gamma\, \hat a_1 + \beta_{{\mathrm{{BN}}}} = {num(w.gamma, 4)} \cdot {paren(w.a_hat[i], 4)} {signed(w.beta, 4)} = {num(w.y[i], 4)}",
        rf"\text{{evaluation: }} y_1 = \gamma\,\frac{{a_1 - \mu_{{\mathrm{{run}}}}}}{{\sqrt{{\sigma^2_{{\mathrm{{run}}}} + \epsilon}}}} + \beta_{{\mathrm{{BN}}}} = "
        rf"{num(w.gamma, 4)} \cdot \frac{{{num(w.a[i], 4)} - {paren(w.run_mu, 4)}}}{{\sqrt{{{num(w.run_var, 4)} + 10^{{-5}}}}}} {signed(w.beta, 4)} = {num(w.y_eval[i], 4)}",
        r"\mu_{\mathrm{run}} \leftarrow 0.9\,\mu_{\mathrm{run}} + 0.1\,\mu_B,\qquad \sigma^2_{\mathrm{run}} \leftarrow 0.9\,\sigma^2_{\mathrm{run}} + 0.1\,\tfrac{|B|}{|B| - 1}\,\sigma_B^2",
    ]  # fmt: skip


# ---------------------------------------------------------------- standardising inputs


def scaling_map(p: R.Problem, title: str, color: str) -> go.Figure:
    Z = np.log10(p.F + 1e-4)
    lx, ly = isolines(p.xs, p.ys, Z, nice_levels(float(Z.min()), float(Z.max()), 16))
    fig = go.Figure([
        go.Heatmap(x=p.xs, y=p.ys, z=_f32(Z), colorscale=SEQUENTIAL, meta=HEIGHT, opacity=0.75,
                   colorbar=dict(title=dict(text="log₁₀(L − L*)", side="right"), thickness=12),
                   hovertemplate="w₁=%{x:.3f}<br>w₂=%{y:.3f}<br>log₁₀(L − L*)=%{z:.2f}<extra></extra>"),
        go.Scatter(x=_f32(lx), y=_f32(ly), mode="lines", line=dict(color="rgba(0,0,0,0.35)", width=0.7),
                   hoverinfo="skip", showlegend=False),
        go.Scatter(x=_f32(p.path[:, 0]), y=_f32(p.path[:, 1]), mode="lines+markers", name="gradient descent",
                   line=dict(color=color, width=2), marker=dict(size=4, color=color)),
        go.Scatter(x=[float(p.w_star[0])], y=[float(p.w_star[1])], mode="markers", name="minimum w*",
                   marker=dict(symbol="star", size=14, color="gold", line=dict(width=1, color="black"))),
    ])  # fmt: skip
    base_layout(fig, f"{title}: κ = {plain(p.kappa, 3)}", "w₁", "w₂", 420)
    fig.update_xaxes(range=[float(p.xs[0]), float(p.xs[-1])], constrain="domain")
    fig.update_yaxes(range=[float(p.ys[0]), float(p.ys[-1])], scaleanchor="x", constrain="domain")
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))
    return fig


def scaling_gaps(res: R.ScaleResult) -> go.Figure:
    fig = go.Figure()
    for p, color, name in ((res.raw, RAW, "raw inputs"), (res.std, STD, "standardised inputs")):
        fig.add_trace(go.Scatter(x=np.arange(len(p.gap)), y=_f32(np.maximum(p.gap, 1e-16)), mode="lines",
                                 name=f"{name} (κ = {plain(p.kappa, 3)})", line=dict(color=color, width=2)))  # fmt: skip
    base_layout(
        fig, "Loss above the minimum, step by step", "step k", "L(wₖ) − L* (log scale)", 380
    )
    fig.update_yaxes(
        **log_ticks(
            np.concatenate([np.maximum(res.raw.gap, 1e-16), np.maximum(res.std.gap, 1e-16)])
        )
    )
    return fig


def scaling_latex(res: R.ScaleResult) -> list[str]:
    raw, std, c = res.raw, res.std, res.config.c
    out = [
        rf"x^{{\mathrm{{std}}}}_j = \frac{{x_j - \mu_j}}{{\sigma_j}}:\quad \mu = ({num(res.mean[0], 3)},\ {num(res.mean[1], 3)}),"
        rf"\ \ \sigma = ({num(res.sd[0], 3)},\ {num(res.sd[1], 3)})",
        rf"H_{{\text{{raw}}}} = \tfrac1n X^\top X = {mat(raw.H)},\ \kappa = \frac{{{num(raw.lam[1], 4)}}}{{{num(raw.lam[0], 4)}}} = {num(raw.kappa, 4)};\qquad "
        rf"H_{{\text{{std}}}} = {mat(std.H)},\ \kappa = {num(std.kappa, 4)}",
    ]  # fmt: skip
    for p, name in ((raw, r"\text{raw}"), (std, r"\text{std}")):
        out.append(rf"{name}:\ \eta = \frac{{{num(c, 3)}}}{{\lambda_{{\max}}}} = \frac{{{num(c, 3)}}}{{{num(p.lam[1], 4)}}} = {num(p.lr, 4)},\quad "
                   rf"\max_i |1 - \eta\lambda_i| = {num(p.rate, 4)}")  # fmt: skip
    return out


def kappa_link(kappa: float, c: float) -> str:
    """A link to the gradient-descent page's quadratic bowl with the same condition number κ
    (rounded into that page's slider range, 1..100) and the same step size η·λ_max = c."""
    k = min(max(round(kappa), 1), 100)
    return (
        f"The same κ on a quadratic bowl: [Gradient descent & optimizers, κ = {k}]"
        f"(/gradient_descent?kappa={k}&opt=sgd&lr={c / k:.2g})"
    )


def scaling_summary(res: R.ScaleResult) -> str:
    """Steps to reach 10⁻³ of the starting loss gap on each problem, in a sentence."""

    def reached(p: R.Problem) -> str:
        if p.diverged_at is not None:
            return rf"diverges at step {p.diverged_at} ($\eta\lambda_{{\max}} > 2$: $|1 - \eta\lambda_{{\max}}| > 1$)"
        if p.steps_to is None:
            return f"has not reached it after {len(p.gap) - 1} steps"
        return f"reaches it at step {p.steps_to}"

    return (
        f"Loss gap down to 10⁻³ of the start's: with raw inputs gradient descent {reached(res.raw)}, "
        f"with standardised inputs it {reached(res.std)}. The slowest direction shrinks by "
        rf"$|1 - \eta\lambda_{{\min}}| = 1 - \eta\lambda_{{\max}}/\kappa$ per step: {plain(res.raw.rate, 4)} raw, {plain(res.std.rate, 4)} "
        "standardised. Standardising fixes the scales, not a correlation: set one and κ grows again."
    )
