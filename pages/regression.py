"""Linear and logistic regression trained by gradient descent."""

import streamlit as st

from dl_core import regression as R
from ui import fast, params
from viz import regression as vr
from viz.latex import num

LR_OPTIONS = params.log_options(-3, 1)  # 1e-3 .. 10
BATCHES = {"full batch": 0, "mini-batch of 10": 10, "stochastic (1 point)": 1}


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
    st.plotly_chart(fast.figure(("reg.loss", cfg), lambda: vr.loss_curves(runs)), key="lin_loss")

    st.subheader("With your numbers")
    ws, bs = res.closed_form
    lam_min, lam_max = res.eigenvalues
    st.latex(
        rf"(w^*, b^*) = ({num(ws)},\ {num(bs)}),\quad L^* = {num(res.loss_min)};\qquad"
        rf"(w_{{{k}}}, b_{{{k}}}) = ({num(res.theta[k, 0])},\ {num(res.theta[k, 1])}),\quad"
        rf" L = {num(res.loss[k])}"
    )
    st.markdown(f"One full-data gradient step from $(w_{{{k}}}, b_{{{k}}})$:")
    for line in vr.linreg_step_numbers(R.linreg_step(res, k)):
        st.latex(line)
    st.markdown(
        f"The loss is a quadratic in (w, b) with Hessian $\\tfrac2n X^\\top X$, eigenvalues "
        f"${num(lam_min)}$ and $L = {num(lam_max)}$: full-batch GD converges for "
        f"$\\eta < 2/L = {num(2 / lam_max)}$ (yours: ${num(cfg.lr)}$). Mini-batches give noisy "
        "gradients: the path wanders and the loss no longer falls at every step, but each "
        "step is n/batch times cheaper."
    )


@fast.section
def logistic_at_step(cfg: R.LogRegConfig) -> None:
    """The boundary after step k and one point's gradient: k and i rerun only this."""
    res = fit_logistic(cfg)
    K = len(res.params) - 1
    c1, c2 = st.columns(2)
    with c1:
        k = st.slider("Show step k", 0, K, K, key="log_k") if K > 0 else 0
    with c2:
        i = st.slider("Point i for the walkthrough", 0, len(res.y) - 1, 0, key="log_i")
    left, right = st.columns([3, 2])
    left.plotly_chart(
        fast.figure(("reg.boundary", cfg, k, i), lambda: vr.boundary(res, k, i)),
        key="log_boundary",
    )
    right.plotly_chart(
        fast.figure(("reg.logcurves", cfg), lambda: vr.logreg_curves(res)), key="log_curves"
    )
    st.subheader("With your numbers")
    st.markdown(f"Point $i = {i}$ with the parameters after step {k}:")
    for line in vr.logreg_point_numbers(R.logreg_point(res, k, i), i, k):
        st.latex(line)
    st.caption(
        "The gradient of the cross-entropy through the sigmoid is simply p − y: the "
        "prediction error. The full gradient averages (p − y)·x over the batch."
    )


st.title("Regression by gradient descent")
st.markdown(
    "Gradient descent is how every network on the next pages learns, but it is easiest to "
    "see on the simplest models. A **line** $\\hat y = w x + b$ fitted by least squares has "
    "an exact answer we can check GD against; a **logistic** classifier "
    "$p = \\sigma(w\\cdot x + b)$ has none, and GD is how we find it."
)
lin_tab, log_tab = st.tabs(["Linear regression", "Logistic regression"])

# ======================================================================= linear
with lin_tab:
    st.latex(
        r"L(w,b) = \frac1n\sum_{i=1}^n (w x_i + b - y_i)^2,\qquad "
        r"\nabla L = \frac2n \sum_i (w x_i + b - y_i)\begin{pmatrix}x_i\\ 1\end{pmatrix}"
    )
    st.latex(
        r"\text{closed form: } X^\top X \begin{pmatrix}w^*\\ b^*\end{pmatrix} = X^\top y,"
        r"\qquad X = \begin{pmatrix}x_1 & 1\\ \vdots & \vdots\\ x_n & 1\end{pmatrix}"
    )
    st.caption(
        "n: number of points; (xᵢ, yᵢ): the data; w: slope; b: intercept; L: mean squared "
        "error; ∇L: its gradient. A mini-batch uses the same formula on a random subset."
    )
    c = st.columns(5)
    with c[0]:
        n = params.slider("Points n", "lin_n", 5, 500, 60)
    with c[1]:
        noise = params.slider("Noise σ", "lin_noise", 0.0, 3.0, 0.6, 0.1)
    with c[2]:
        lr = params.log_slider("Learning rate η", "lin_lr", LR_OPTIONS, 0.1)
    with c[3]:
        steps = params.slider("Steps", "lin_steps", 1, 500, 60)
    with c[4]:
        batch_name = params.select("Batch", "lin_batch", list(BATCHES), "full batch")
    cfg = R.LinRegConfig(n=n, noise=noise, lr=lr, steps=steps, batch_size=BATCHES[batch_name])
    runs = fit_lines(cfg)
    res = runs[0]
    lam_max = res.eigenvalues[1]
    if res.diverged_at is not None:
        st.warning(
            f"Diverged at step {res.diverged_at}: η = {lr:g} exceeds 2/L = {2 / lam_max:.3g}, "
            f"where L = {lam_max:.3g} is the largest eigenvalue of the Hessian (2/n)XᵀX.",
            icon=":material/warning:",
        )
    linear_at_step(cfg)

# ======================================================================= logistic
with log_tab:
    st.latex(
        r"p_i = \sigma(w\cdot x_i + b) = \frac{1}{1+e^{-(w\cdot x_i + b)}},\qquad "
        r"L = -\frac1n\sum_i \big[y_i\log p_i + (1-y_i)\log(1-p_i)\big]"
    )
    st.latex(
        r"\frac{\partial L}{\partial w} = \frac1n\sum_i (p_i - y_i)\,x_i,\qquad \frac{\partial L}{\partial b} = \frac1n\sum_i (p_i - y_i)"
    )
    st.caption(
        "xᵢ ∈ ℝ²: a point; yᵢ ∈ {0, 1}: its class; pᵢ: the predicted probability of class 1; "
        "σ: the sigmoid. The boundary is the line where w·x + b = 0, i.e. p = ½."
    )
    c = st.columns(4)
    with c[0]:
        sep = params.slider("Class separation", "log_sep", 0.0, 6.0, 2.5, 0.5)
    with c[1]:
        lr2 = params.log_slider("Learning rate η", "log_lr", LR_OPTIONS, 0.5)
    with c[2]:
        steps2 = params.slider("Steps", "log_steps", 1, 500, 100)
    with c[3]:
        batch2 = params.select("Batch", "log_batch", list(BATCHES), "full batch")
    cfg2 = R.LogRegConfig(separation=sep, lr=lr2, steps=steps2, batch_size=BATCHES[batch2])
    if (diverged := fit_logistic(cfg2).diverged_at) is not None:
        st.warning(
            f"Diverged at step {diverged}: lower the learning rate.", icon=":material/warning:"
        )
    logistic_at_step(cfg2)

# ======================================================================= try this
presets = {
    "Just above 2/L": dict(
        lin_lr=0.4, lin_steps=100, lin_batch="full batch", lin_n=60, lin_noise=0.6
    ),
    "Stochastic noise": dict(lin_lr=0.05, lin_steps=300, lin_batch="stochastic (1 point)"),
    "Overlapping classes": dict(log_sep=0.5, log_lr=1.0, log_steps=300),
}
notes = {
    "Just above 2/L": "With 60 points the Hessian's largest eigenvalue is about 5.7, so 2/L ≈ 0.35: η = 0.4 diverges.",
    "Stochastic noise": "One point per step: cheap steps, a jittery path that never settles exactly on (w*, b*).",
    "Overlapping classes": "No line separates the classes: the loss stalls well above 0 and accuracy below 100%.",
}
params.try_this({name: (values, notes[name]) for name, values in presets.items()})

with st.expander("Under the hood", icon=":material/code:"):
    import inspect

    st.code(inspect.getsource(R.linreg_loss_and_grad), language="python")
    st.code(inspect.getsource(R.logreg_loss_and_grad), language="python")
    ws = res.closed_form[0]
    st.markdown(
        "The tests check `linreg_loss_and_grad` against autograd, `least_squares` against "
        "`torch.linalg.lstsq`, and `logreg_loss_and_grad` against "
        "`F.binary_cross_entropy_with_logits` and autograd (relative error below 1e-10). "
        f"Here GD ends at $w = {num(res.theta[-1, 0])}$, least squares gives "
        f"$w^* = {num(ws)}$: difference ${num(abs(res.theta[-1, 0] - ws))}$."
    )
