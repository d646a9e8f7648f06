"""Math toolkit: the linear algebra, calculus, probability and information theory that every
other page leans on, each a live experiment with the learner's numbers."""

import numpy as np
import streamlit as st

from dl_core import notation
from dl_core.toolkit import calculus as C
from dl_core.toolkit import information as I
from dl_core.toolkit import linalg as LA
from dl_core.toolkit import probability as P
from ui import fast, lesson, params
from viz import toolkit as vt

TABS = {"eigen": "Eigenvectors & SVD", "quadratic": "Quadratic form & κ",
        "derivatives": "Derivatives", "probability": "Probability", "information": "Information"}  # fmt: skip
# Every URL setting inside a tab: a link keeps them while another tab is open.
TAB_KEYS = ("fn", "px", "py", "dir", "fd", "mean", "sd", "prob", "samples", "draw", "mle_lr",
            "mle_steps", "unit", "sep", "width", "left", *(f"{d}{i}" for d in "pq" for i in range(1, 5)))  # fmt: skip
EPS_OPTIONS = params.log_options(-12, 0)  # the finite-difference step: 1e-12 … 1
EPS_SWEEP = np.logspace(-12, 0, 49)
LR_OPTIONS = params.log_options(-3, 0)  # 0.001 … 1
N_OPTIONS = (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)
SPREAD_NS = np.array([1, 3, 10, 30, 100, 300, 1000, 3000])
PRESETS = {
    "Rotation": ((0.8, -0.6, 0.6, 0.8), "A rotation by 36.9°: λ = 0.8 ± 0.6i is complex, so no direction is kept, and det A = 1: areas are unchanged."),
    "Shear": ((1.0, 1.0, 0.0, 1.0), "λ = 1 twice but one eigenvector only: the x₁-axis stays, every other line leans. det A = 1."),
    "Scaling": ((2.0, 0.0, 0.0, 0.5), "Stretch x₁ by 2, squash x₂ by ½: the axes are the eigenvectors, and the area is unchanged (det A = 1)."),
    "Projection": ((0.5, 0.5, 0.5, 0.5), "Onto the line x₁ = x₂: λ = 1 along it, λ = 0 across it. det A = 0: the plane collapses onto a line, so no inverse can undo A."),
    "Symmetric PD": ((2.0, 1.0, 1.0, 1.0), "Symmetric positive-definite: perpendicular eigenvectors, λ = 2.618 and 0.382, κ = 6.85. Open 'Quadratic form & κ' for its bowl and the link to gradient descent."),
}  # fmt: skip
ENTRY_KEYS = ("a11", "a12", "a21", "a22")


@st.cache_data(max_entries=64, show_spinner=False)
def draw(mean: float, sd: float, prob: float, n: int, seed: int):
    eps, z = P.gaussian_sample(mean, sd, n, seed)  # z = μ + σ ε
    return eps, z, P.bernoulli_sample(prob, n, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def spread(mean: float, sd: float, prob: float):
    return P.mean_spread(mean, sd, prob, SPREAD_NS)


@st.cache_data(max_entries=64, show_spinner=False)
def fits(sep: float, width: float, left: float) -> I.MixtureFits:
    return I.fit_mixture(I.Mixture(sep, width, left))


def chart(where, name: str, key: tuple, build) -> None:
    where.plotly_chart(fast.figure((f"toolkit.{name}", *key), build), key=f"tk_{name}")


def latex(lines: list[str]) -> None:
    for line in lines:
        st.latex(line)


@fast.section
def derivatives() -> None:
    st.subheader("Derivatives and the gradient, checked by finite differences")
    st.markdown(vt.DERIVATIVES_TEXT)
    c = st.columns([2, 1, 1, 1.2, 1.4])
    with c[0]:
        name = params.select("Function f", "fn", list(C.FUNCTIONS), "waves", format_func=lambda k: C.FUNCTIONS[k].title)  # fmt: skip
    with c[1]:
        x = params.slider("Point x", "px", -3.0, 3.0, 1.0, 0.05)
    with c[2]:
        y = params.slider("Point y", "py", -3.0, 3.0, 0.5, 0.05)
    with c[3]:
        phi = params.slider("Direction u (degrees)", "dir", -180, 180, 30, 5)
    with c[4]:
        eps = params.log_slider("Step ε", "fd", EPS_OPTIONS, 1e-3)
    d = C.directional(name, x, y, phi, eps)
    left, right = st.columns(2)
    chart(left, "field", (name, x, y, phi), lambda: vt.gradient_field(*C.function_grid(name), C.gradient_field(name), d))  # fmt: skip
    chart(right, "fd", (name, x, y, phi, eps), lambda: vt.fd_errors(EPS_SWEEP, *C.error_sweep(d, name, EPS_SWEEP), d))  # fmt: skip
    latex(vt.directional_lines(C.FUNCTIONS[name], d))
    st.markdown(vt.fd_text(d))


@fast.section
def max_likelihood(z: np.ndarray, key: tuple) -> None:
    st.markdown("#### Maximum likelihood: the best μ and σ for these samples")
    c = st.columns([1, 1, 3])
    with c[0]:
        lr = params.log_slider("Learning rate η", "mle_lr", LR_OPTIONS, 0.1)
    with c[1]:
        steps = params.slider("Ascent steps", "mle_steps", 1, 500, 100)
    asc = P.mle_ascent(z, lr, steps)
    left, right = st.columns([3, 2])
    chart(left, "mle", (*key, lr, steps), lambda: vt.mle_figure(asc, *vt.mle_grid(z, asc)))
    right.markdown(vt.mle_text(asc, lr))
    latex(vt.mle_lines(asc))


@fast.section
def probability() -> None:
    st.subheader("Probability: samples, their mean, and the likelihood")
    c = st.columns(5)
    with c[0]:
        mean = params.slider("Mean μ", "mean", -3.0, 3.0, 1.5, 0.1)
    with c[1]:
        sd = params.slider("Standard deviation σ", "sd", 0.1, 3.0, 0.8, 0.05)
    with c[2]:
        prob = params.slider("Bernoulli p", "prob", 0.0, 1.0, 0.3, 0.01)
    with c[3]:
        n = params.log_slider("Samples n", "samples", N_OPTIONS, 200)
    with c[4]:
        seed = params.slider("Seed", "draw", 0, 99, 0)
    bar = " A bar over an expression is its average over the n samples."
    st.caption(notation.caption("normal", "mu", "x_bar", "n", "p", p="Bernoulli's probability of a 1") + bar)  # fmt: skip
    key = (mean, sd, prob, n, seed)
    eps, z, y = draw(*key)
    stats = P.stats(z)
    left, right = st.columns([3, 2])
    chart(left, "samples", key, lambda: vt.samples_figure(*vt.density_curves(z, mean, sd), stats, mean))  # fmt: skip
    chart(right, "bernoulli", key, lambda: vt.bernoulli_figure(y, prob))
    latex(vt.stats_lines(stats, mean, sd))
    st.markdown(vt.stats_text(stats, y, prob, mean, sd))
    left, right = st.columns([3, 2])
    chart(left, "spread", (mean, sd, prob), lambda: vt.spread_figure(SPREAD_NS, *spread(mean, sd, prob), sd, prob))  # fmt: skip
    right.markdown(vt.SPREAD_TEXT)
    max_likelihood(z, key)
    st.markdown("#### The two losses of the other pages are negative log-likelihoods")
    left, right = st.columns(2)
    chart(left, "mse", key, lambda: vt.mse_figure(z, sd))
    chart(right, "bce", key, lambda: vt.bce_figure(y))
    latex(vt.loss_lines(z, y, mean, sd, prob))
    st.markdown("#### Reparameterisation: a sample you can differentiate")
    latex(vt.reparam_lines(P.reparam_gradient(mean, sd, eps), mean, sd))
    st.markdown(vt.REPARAM_TEXT)


@fast.section
def kl_fits() -> None:
    st.markdown("#### Forward or reverse KL: cover both peaks, or pick one")
    c = st.columns(3)
    with c[0]:
        sep = params.slider("Peaks at ± (distance from 0)", "sep", 0.0, 4.0, 2.0, 0.1)
    with c[1]:
        width = params.slider("Width s of each peak", "width", 0.2, 2.0, 0.6, 0.05)
    with c[2]:
        left_w = params.slider("Weight of the left peak", "left", 0.0, 1.0, 0.5, 0.05)
    f = fits(sep, width, left_w)
    left, right = st.columns([3, 2])
    chart(left, "mixture", (sep, width, left_w), lambda: vt.mixture_figure(*I.mixture_curves(f.mix, f), f))  # fmt: skip
    right.markdown(vt.fits_table(f))
    st.markdown(vt.FITS_TEXT)
    latex(vt.gauss_kl_lines(f))


@fast.section
def information() -> None:
    st.subheader("Information: entropy, cross-entropy, KL and JS")
    st.markdown(vt.INFORMATION_TEXT)
    weights = {}
    for d, defaults in (("p", (0.4, 0.3, 0.2, 0.1)), ("q", (0.25, 0.25, 0.25, 0.25))):
        cols = st.columns([1, 1, 1, 1, 1.3])
        for i, (col, w) in enumerate(zip(cols, defaults, strict=False), start=1):
            with col:
                weights[d, i] = params.slider(f"{d.upper()}: weight of x = {i}", f"{d}{i}", 0.0, 1.0, w, 0.05)  # fmt: skip
        if d == "p":
            with cols[4]:
                unit = params.select("Unit", "unit", list(I.UNITS), "bits")
    (Pd, p_zero), (Qd, q_zero) = (I.normalise([weights[d, i] for i in range(1, 5)]) for d in "pq")
    info = I.information(Pd, Qd, unit)
    chart(st, "pq", (tuple(Pd), tuple(Qd), unit), lambda: vt.pq_figure(Pd, Qd, info, unit))
    latex(vt.info_lines(info, unit))
    st.markdown(vt.info_text(info, p_zero or q_zero))
    kl_fits()


# ======================================================================= the first screen
lesson.header(
    "Math toolkit",
    "Every other page leans on four pieces of mathematics: **matrices** move space (a layer "
    "computes $Wx$), **gradients** point uphill, **probability** describes data and "
    "**information** measures how far a model is from it. Start with a 2 × 2 matrix $A$: set "
    "its entries in the sidebar and watch what it does to the plane; each tab takes one piece.",
    r"x \mapsto A x,\qquad A v_i = \lambda_i v_i,\qquad \det A = \lambda_1 \lambda_2 = \text{the factor on areas}",
    notation.caption("A", "v_eig", "lambda", "det"),
)  # fmt: skip
with st.sidebar:
    st.header("Matrix A")
    cols = st.columns(2)
    defaults = (1.0, 0.8, 0.3, 1.2)
    entries = []
    for i, (k, v) in enumerate(zip(ENTRY_KEYS, defaults, strict=True)):
        with cols[i % 2]:
            entries.append(params.slider(f"a{k[1]}{k[2]}".translate(vt.SUBSCRIPTS), k, -2.0, 2.0, v, 0.05))  # fmt: skip
    entries = tuple(entries)
params.try_this({name: (dict(zip(ENTRY_KEYS, a, strict=True)), note) for name, (a, note) in PRESETS.items()})  # fmt: skip
A = LA.matrix(*entries)
eig = LA.eigen(A)
left, right = st.columns([3, 2])
chart(left, "transform", entries, lambda: vt.transform(A, eig))
with right:
    latex(vt.matrix_lines(A, eig))
    st.markdown(vt.matrix_text(eig))

tabs = lesson.tabs(
    TABS, settings=TAB_KEYS
)  # ?tab=derivatives opens a section; the URL follows the open tab
if tab := tabs.open(TABS["eigen"]):
    with tab:
        st.subheader("Eigenvectors, the determinant and the SVD")
        st.markdown(vt.EIGEN_TEXT)
        latex(vt.eigen_lines(A, eig))
        st.markdown(vt.SVD_TEXT)
        svd = LA.svd(A)
        chart(st, "svd", entries, lambda: vt.svd_stages(svd))
        latex(vt.svd_lines(svd))
        st.markdown(vt.svd_text(A, svd, eig))
if tab := tabs.open(TABS["quadratic"]):
    with tab:
        st.subheader("The quadratic f(x) = ½ xᵀAx and its condition number κ")
        q = LA.quadratic(A)
        left, right = st.columns([3, 2])
        chart(left, "quadratic", entries, lambda: vt.quadratic_map(q, *LA.quadratic_grid(A)))
        with right:
            latex(vt.quadratic_lines(q))
            st.markdown(vt.quadratic_text(q, LA.gd_link(q)))
if tab := tabs.open(TABS["derivatives"]):
    with tab:
        derivatives()
if tab := tabs.open(TABS["probability"]):
    with tab:
        probability()
if tab := tabs.open(TABS["information"]):
    with tab:
        information()
