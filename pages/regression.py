"""Linear and logistic regression trained by gradient descent."""

import inspect

import streamlit as st

from dl_core import notation
from dl_core import regression as R
from ui import fast, lesson, params
from viz import optim as vo
from viz import regression as vr
from viz.latex import num, plain

LR_OPTIONS = params.log_options(-3, 1)  # 1e-3 .. 10
BATCHES = {"full batch": 0, "mini-batch of 10": 10, "stochastic (1 point)": 1}
TABS = ("How large may η be?", "Full batch, mini-batch, stochastic", "Logistic regression",
        "Under the hood")  # fmt: skip
SYMBOLS = notation.caption("x", "y", "y_hat", "w", "b", "i", "n", "L", "eta", x="an input, a number here", L="the loss, here the mean squared error")  # fmt: skip
LOGISTIC_SYMBOLS = notation.caption(
    "x", "y", "w", "a", "sigma_fn", "y_hat", x="a point of the plane, xᵢ = (xᵢ,₁, xᵢ,₂)",
    y="its class, 0 or 1", w="the weights (w₁, w₂)", a="the unit's pre-activation (logit) wᵀxᵢ + b",
    sigma_fn="the logistic sigmoid", y_hat="the predicted probability of class 1",
)  # fmt: skip


@st.cache_data(max_entries=64, show_spinner=False)
def fit_lines(cfg: R.LinRegConfig):
    """The chosen run plus the same settings with the other batch sizes."""
    others = [b for b in BATCHES.values() if b != cfg.batch_size]
    return [R.train_linreg(cfg)] + [
        R.train_linreg(R.LinRegConfig(**{**cfg.__dict__, "batch_size": b})) for b in others
    ]


@st.cache_data(max_entries=64, show_spinner=False)
def landscape_grid(cfg: R.LinRegConfig):
    """The loss surface around the paths and its contour lines, once per result."""
    return vr.landscape_grid(fit_lines(cfg))


@st.cache_data(max_entries=64, show_spinner=False)
def fit_logistic(cfg: R.LogRegConfig):
    return R.train_logreg(cfg)


@fast.section
def linear_at_step(cfg: R.LinRegConfig) -> None:
    """The fit, the paths and one GD step written out at step k: k reruns only this."""
    runs = fit_lines(cfg)
    res = runs[0]
    K = len(res.theta) - 1
    k = st.slider("Show step k", 0, K, K, key="lin_k") if K > 0 else 0
    fit = fast.figure(("reg.fit", cfg, k), lambda: vr.fit_at_step(res, k))
    land = fast.figure(
        ("reg.landscape", cfg, k), lambda: vr.loss_landscape(runs, k, landscape_grid(cfg))
    )
    left, right = st.columns(2)
    left.plotly_chart(fit, key="lin_fit")
    right.plotly_chart(land, key="lin_land")
    ws, bs = res.closed_form
    st.latex(
        rf"(w^*, b^*) = ({num(ws)},\ {num(bs)}),\quad L^* = {num(res.loss_min)};\qquad"
        rf"(w_{{{k}}}, b_{{{k}}}) = ({num(res.theta[k, 0])},\ {num(res.theta[k, 1])}),\quad"
        rf" L = {num(res.loss[k])}"
    )
    st.markdown(f"One full-data gradient step from $(w_{{{k}}}, b_{{{k}}})$:")
    for line in vr.linreg_step_numbers(R.linreg_step(res, k)):
        st.latex(line)


@fast.section
def logistic_at_step(cfg: R.LogRegConfig) -> None:
    """The boundary after step k and one point's gradient: k and i rerun only this."""
    res = fit_logistic(cfg)
    K = len(res.params) - 1
    c1, c2 = st.columns(2)
    with c1:
        k = st.slider("Show step k", 0, K, K, key="log_k") if K > 0 else 0
    with c2:
        i = st.slider("Point i for the walkthrough", 1, len(res.y), 1, key="log_i")
    left, right = st.columns([3, 2])
    left.plotly_chart(
        fast.figure(("reg.boundary", cfg, k, i), lambda: vr.boundary(res, k, i - 1)),
        key="log_boundary",
    )
    right.plotly_chart(
        fast.figure(("reg.logcurves", cfg), lambda: vr.logreg_curves(res)), key="log_curves"
    )
    st.markdown(f"Point $i = {i}$ with the parameters after step {k}:")
    for line in vr.logreg_point_numbers(R.logreg_point(res, k, i - 1), i):
        st.latex(line)
    st.caption(
        "The gradient of the cross-entropy through the sigmoid is simply ŷ − y: the "
        "prediction error. The full gradient averages (ŷᵢ − yᵢ)·xᵢ over the batch."
    )


lesson.header(
    "Regression by gradient descent",
    "Gradient descent is how every network on the next pages learns, and it is easiest to see "
    "on the simplest models. A **line** $\\hat y = w x + b$ fitted by least squares has an "
    "exact answer to check GD against; a **logistic** classifier $\\hat y = \\sigma(w^\\top x "
    "+ b)$ has none, and GD is how we find it.",
    r"L(w,b) = \frac1n\sum_{i=1}^n (\hat y_i - y_i)^2,\quad \hat y_i = w x_i + b,\qquad"
    r"(w, b) \leftarrow (w, b) - \eta\, \nabla L(w, b)",
    SYMBOLS,
)

with st.sidebar:
    st.header("Linear regression")
    n = params.slider("Points n", "lin_n", 5, 500, 60)
    noise = params.slider("Noise σ (of y)", "lin_noise", 0.0, 3.0, 0.6, 0.1)
    lr = params.log_slider("Learning rate η", "lin_lr", LR_OPTIONS, 0.1)
    steps = params.slider("Steps", "lin_steps", 1, 500, 60)
    batch_name = params.select("Batch", "lin_batch", list(BATCHES), "full batch")
    st.header("Logistic regression")
    sep = params.slider("Class separation", "log_sep", 0.0, 6.0, 2.5, 0.5)
    lr2 = params.log_slider("Learning rate η", "log_lr", LR_OPTIONS, 0.5)
    steps2 = params.slider("Steps", "log_steps", 1, 500, 100)
    batch2 = params.select("Batch", "log_batch", list(BATCHES), "full batch")
cfg = R.LinRegConfig(n=n, noise=noise, lr=lr, steps=steps, batch_size=BATCHES[batch_name])
cfg2 = R.LogRegConfig(separation=sep, lr=lr2, steps=steps2, batch_size=BATCHES[batch2])
runs = fit_lines(cfg)
res = runs[0]
lam_min, lam_max = res.eigenvalues

# the presets' numbers, from the runs they show (cached: the default page's, the preset's own)
lam60 = fit_lines(R.LinRegConfig(n=60))[0].eigenvalues[1]  # depends on the 60 x's only
sep6 = fit_logistic(R.LogRegConfig(separation=6.0, lr=1.0, steps=500)).params
w6 = [float((sep6[k, :2] ** 2).sum() ** 0.5) for k in (100, 500)]
logistic_tab = {lesson.TABS_KEY: TABS[2]}
lesson.try_this(
    {
        "Just above $2/\\lambda_{\\max}$": (
            dict(lin_lr=0.4, lin_steps=100, lin_batch="full batch", lin_n=60, lin_noise=0.6),
            rf"With these 60 points the Hessian's largest eigenvalue is $\lambda_{{\max}} = {plain(lam60, 3)}$, so $2/\lambda_{{\max}} = {plain(2 / lam60, 3)}$: $\eta = 0.4$ diverges.",
        ),
        "Stochastic noise": (
            dict(lin_lr=0.05, lin_steps=300, lin_batch="stochastic (1 point)"),
            "One point per step: cheap steps, a jittery path that keeps wandering around $(w^*, b^*)$ instead of settling on it (with noise $\\sigma > 0$ every point keeps its own residual).",
        ),
        "Overlapping classes": (
            dict(log_sep=0.5, log_lr=1.0, log_steps=300, **logistic_tab),
            "No line separates the classes: the loss levels off well above 0 and the accuracy below 100%.",
        ),
        "Separable classes": (
            dict(log_sep=6.0, log_lr=1.0, log_steps=500, **logistic_tab),
            f"A line separates the classes: the loss keeps falling towards 0 with no minimum to reach, and $\\|w\\|$ keeps growing ({plain(w6[0], 3)} after 100 steps, {plain(w6[1], 3)} after 500).",
        ),
    }
)  # fmt: skip

if (why := R.diagnose(res)) is not None:
    st.warning(why, icon=":material/warning:")
linear_at_step(cfg)

tabs = lesson.tabs(TABS)
if tab := tabs.open("How large may η be?"):
    with tab:
        st.subheader("How large may η be? The Hessian of L decides")
        lesson.toolkit_link("quadratic", "the quadratic form and κ")
        st.latex(
            r"\nabla L = \frac2n \sum_i (\hat y_i - y_i)\begin{pmatrix}x_i\\ 1\end{pmatrix},\qquad"
            r" H = \frac2n X^\top X,\qquad X^\top X \begin{pmatrix}w^*\\ b^*\end{pmatrix} = X^\top y,"
            r"\qquad X = \begin{pmatrix}x_1 & 1\\ \vdots & \vdots\\ x_n & 1\end{pmatrix}"
        )
        st.markdown(
            "The loss is exactly a quadratic in $(w, b)$, $L = L^* + \\tfrac12 (\\theta - "
            "\\theta^*)^\\top H (\\theta - \\theta^*)$ with $\\theta = (w, b)$, so the lesson of "
            "the gradient-descent page holds exactly: full-batch GD converges for "
            "$\\eta < 2/\\lambda_{\\max}$, at the rate below. The normal equations "
            "$X^\\top X (w^*, b^*)^\\top = X^\\top y$ give the minimum directly: the exact answer "
            "GD is checked against."
        )
        for line in vo.gd_rate_lines(lam_min, lam_max, lr):
            st.latex(line)
        st.plotly_chart(
            fast.figure(("reg.rate", lam_min, lam_max, lr), lambda: vo.gd_rate_curve(lam_min, lam_max, lr)),
            key="lin_rate",
        )  # fmt: skip

if tab := tabs.open("Full batch, mini-batch, stochastic"):
    with tab:
        st.subheader("Full batch, mini-batch, stochastic")
        st.latex(
            r"\nabla L_B = \frac{2}{|B|} \sum_{i \in B} (\hat y_i - y_i)\begin{pmatrix}x_i\\ 1"
            r"\end{pmatrix},\qquad \mathbb{E}_B\big[\nabla L_B\big] = \nabla L"
        )
        st.markdown(
            "A mini-batch $B$ of random points gives a noisy but unbiased estimate of the "
            f"gradient for a fraction of the work: {min(10, n)} or 1 of the n = {n} points per "
            "step. The path wanders and the loss no longer falls "
            "at every step; with a fixed η it keeps wandering around $(w^*, b^*)$ (unless "
            "the data fit a line exactly, σ = 0). Each batch also has its own Hessian "
            "$\\tfrac{2}{|B|}X_B^\\top X_B$, whose largest eigenvalue can exceed the full "
            "data's: a stochastic run can diverge below $2/\\lambda_{\\max}$."
        )
        st.plotly_chart(
            fast.figure(("reg.loss", cfg), lambda: vr.loss_curves(runs)), key="lin_loss"
        )

if tab := tabs.open("Logistic regression"):
    with tab:
        st.subheader("Logistic regression: a line that separates two classes")
        lesson.toolkit_link(
            "probability", "binary cross-entropy as the Bernoulli negative log-likelihood"
        )
        st.latex(
            r"\hat y_i = \sigma(a_i) = \frac{1}{1+e^{-a_i}},\quad a_i = w^\top x_i + b,\qquad "
            r"L = -\frac1n\sum_i \big[y_i\log \hat y_i + (1-y_i)\log(1-\hat y_i)\big]"
        )
        st.latex(
            r"\frac{\partial L}{\partial w} = \frac1n\sum_i (\hat y_i - y_i)\,x_i,\qquad "
            r"\frac{\partial L}{\partial b} = \frac1n\sum_i (\hat y_i - y_i)"
        )
        st.caption(
            LOGISTIC_SYMBOLS
            + " The boundary is the line wᵀx + b = 0, where ŷ = ½. When a line separates the "
            "classes, L has no minimum: it falls towards 0 as ‖w‖ grows without bound."
        )
        if (diverged := fit_logistic(cfg2).diverged_at) is not None:
            st.warning(f"Diverged at step {diverged}: lower the learning rate.", icon=":material/warning:")  # fmt: skip
        logistic_at_step(cfg2)

if tab := tabs.open("Under the hood"):
    with tab:
        st.subheader("Under the hood")
        st.code(inspect.getsource(R.linreg_loss_and_grad), language="python")
        st.code(inspect.getsource(R.logreg_loss_and_grad), language="python")
        st.markdown(
            "The tests check `linreg_loss_and_grad` against autograd, `least_squares` against "
            "`torch.linalg.lstsq`, and `logreg_loss_and_grad` against "
            "`F.binary_cross_entropy_with_logits` and autograd (relative error below 1e-10). "
            f"Here GD ends at $w = {num(res.theta[-1, 0])}$, least squares gives "
            f"$w^* = {num(res.closed_form[0])}$: difference "
            f"${num(abs(res.theta[-1, 0] - res.closed_form[0]))}$."
        )
