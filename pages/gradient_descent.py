"""Gradient descent and optimizers on 2-D loss surfaces."""

import inspect
import math

import pandas as pd
import streamlit as st

from dl_core import notation, optim
from dl_core.optim import OPTIMIZER_LABELS, OptimConfig, RunConfig, SurfaceConfig
from ui import fast, lesson, params
from viz import optim as vo
from viz.latex import num, plain

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
EPS_OPTIONS = [1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1]
UI_MAX_STEPS = 500
TABS = ("How large may η be?", "Momentum's rate map", "The update with your numbers",
        "3-D view", "Under the hood")  # fmt: skip


@st.cache_data(max_entries=64, show_spinner=False)
def run_all(surface: SurfaceConfig, optims: tuple[OptimConfig, ...], start, steps: int):
    return [optim.run(RunConfig(surface, o, start, steps)) for o in optims]


@st.cache_data(max_entries=32, show_spinner=False)
def surface_grid(surface: SurfaceConfig):
    """f on a 120x120 grid and its contour lines, computed once per surface."""
    xs, ys, F = optim.grid(surface)
    return xs, ys, F, vo.surface_lines(xs, ys, F, optim.surface_info(surface).f_min)


@st.cache_data(max_entries=64, show_spinner=False)
def reference_gap(cfg: RunConfig) -> float:
    """max |theta_hand - theta_torch| over the run (up to divergence)."""
    mine, ref = optim.run(cfg).theta, optim.run_reference(cfg)
    n = min(len(mine), len(ref))
    return float(abs(mine[:n] - ref[:n]).max())


@st.cache_data(show_spinner=False)
def presets() -> dict:
    """The "Try this" experiments, their notes' numbers computed once per process."""
    return vo.presets(LR_OPTIONS, {lesson.TABS_KEY: TABS[1]})


def reset_start() -> None:
    """A new surface starts from its own characteristic point."""
    info = optim.surface_info(SurfaceConfig(st.session_state["surface"]))
    st.session_state["x0"], st.session_state["y0"] = info.start


def start_from_click() -> None:
    points = st.session_state["contour"].selection.points
    if points:
        st.session_state["x0"] = round(float(points[0]["x"]), 2)
        st.session_state["y0"] = round(float(points[0]["y"]), 2)


def measured(trajs, name: str, quadratic: bool) -> str:
    """A sentence with the rate an optimizer's run achieved on the quadratic bowl, or ""."""
    t = next((t for t in trajs if t.config.optim.name == name), None)
    rate = optim.measured_rate(t) if t is not None and quadratic and not t.diverged_at else None
    if rate is None or math.isnan(rate):
        return ""
    return f" The {OPTIMIZER_LABELS[name]} run drawn above shrank its error by {plain(rate)} per step over its second half."  # fmt: skip


@fast.section
def update_with_your_numbers(trajs, chosen: list[str]) -> None:
    """The update rule with the numbers of one step: its own widgets rerun only this."""
    c1, c2 = st.columns([1, 3])
    with c1:
        who = st.selectbox("Optimizer", chosen, format_func=OPTIMIZER_LABELS.get, key="who")
        traj = trajs[chosen.index(who)]
        n_steps = len(traj.theta) - 1
        if n_steps >= 1:
            k = st.slider("Step k", 1, n_steps, min(3, n_steps), key="k") if n_steps > 1 else 1
    with c2:
        for line in vo.update_formula(traj.config.optim):
            st.latex(line)
        st.caption(vo.CONVENTIONS[who])
    if n_steps >= 1:
        for line in vo.update_with_numbers(traj, k):
            st.latex(line)
        st.markdown(
            f"$f(\\theta_{{{k - 1}}}) = {num(traj.loss[k - 1])} \\;\\to\\; "
            f"f(\\theta_{{{k}}}) = {num(traj.loss[k])}$. Every number above comes from the run "
            "drawn in the plots: move the step slider or any setting and they change."
        )
    else:
        st.info("This run diverged at its first step: there is no finite update to show.")


lesson.header(
    "Gradient descent & optimizers",
    "To minimise a loss $f(\\theta)$, step **downhill**: move a little against the gradient "
    "$\\nabla f$, which points up the steepest slope; the learning rate $\\eta$ sets how far. "
    "Too small and you crawl, too large and you overshoot and diverge: momentum and the "
    "adaptive methods below refine this one idea.",
    r"\theta_k = \theta_{k-1} - \eta\, \nabla f(\theta_{k-1})",
    notation.caption(
        "theta", "f", "grad", "eta", "k",
        theta="the parameters, here a point (x, y) of the plane", f="the loss, a surface here",
    ),
)  # fmt: skip

# ---------------------------------------------------------------- settings
with st.sidebar:
    st.header("Settings")
    surface_name = params.select(
        "Loss surface", "surface", optim.SURFACES, "quadratic",
        format_func=lambda s: optim.surface_info(SurfaceConfig(s)).title, on_change=reset_start,
    )  # fmt: skip
    condition, angle = 10.0, 0.0
    if surface_name == "quadratic":
        kappa_label = r"Condition number $\kappa = \lambda_{\max}/\lambda_{\min}$"
        condition = params.slider(kappa_label, "kappa", 1.0, 100.0, 10.0, 1.0)
        angle = params.slider("Rotation of the valley (degrees)", "angle", -90.0, 90.0, 0.0, 5.0)
    surface = SurfaceConfig(surface_name, condition, angle)
    info = optim.surface_info(surface)
    chosen = params.multiselect(
        "Optimizers (racing from the same start)", "opt", optim.OPTIMIZERS,
        ["sgd", "momentum", "adam"], format_func=OPTIMIZER_LABELS.get,
    ) or ["sgd"]  # fmt: skip
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.05)
    momentum = params.slider("Momentum β", "mu", 0.0, 0.99, 0.9, 0.01)  # key "mu": old links
    steps = params.slider("Steps", "steps", 1, UI_MAX_STEPS, 100)
    beta1 = params.slider("Adam β₁", "b1", 0.0, 0.99, 0.9, 0.01)
    beta2 = params.slider("Adam β₂", "b2", 0.9, 0.9999, 0.999, 0.0001, format="%.4f")
    eps = params.log_slider("ε (adaptive methods)", "eps", EPS_OPTIONS, 1e-8)
    x0 = params.slider("Start x₀", "x0", -4.5, 4.5, info.start[0], 0.01)
    y0 = params.slider("Start y₀", "y0", -4.5, 4.5, info.start[1], 0.01)

optims = tuple(
    OptimConfig(name, lr, momentum=momentum, beta1=beta1, beta2=beta2, eps=eps) for name in chosen
)
run = (surface, optims, (x0, y0), steps)  # everything the runs and their charts depend on
trajs = run_all(*run)
xs, ys, F, lines = surface_grid(surface)
lam_min, lam_max = optim.curvature(surface, info.minima[0])
quadratic = surface_name == "quadratic"
near = (
    ""
    if quadratic
    else f" Here $H$ is the Hessian at the minimum $\\theta^* = {info.minima[0]}$: the numbers hold close to it."
)

lesson.try_this(presets())

# ---------------------------------------------------------------- the race (first screen)
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(
        fast.figure(("gd.contour", *run), lambda: vo.contour(xs, ys, F, info, trajs, lines=lines)),
        key="contour", on_select=start_from_click, selection_mode="points",
    )  # fmt: skip
with right:
    loss = fast.figure(("gd.loss", *run), lambda: vo.loss_curves(trajs, info.f_min))
    st.plotly_chart(loss, key="gd_loss")
    for t in trajs:
        if (why := optim.diagnose(t)) is not None:
            st.warning(why, icon=":material/warning:")
    gaps = [f"diverged at step {t.diverged_at}" if t.diverged_at else plain(t.loss[-1] - info.f_min, 2) for t in trajs]  # fmt: skip
    st.markdown(
        f"| optimizer | $f - f^*$ after {steps} steps |\n|---|---|\n"
        + "".join(f"| {OPTIMIZER_LABELS[t.config.optim.name]} | {g} |\n" for t, g in zip(trajs, gaps, strict=True))
    )  # fmt: skip
    st.latex(info.formula)
    if quadratic:
        st.caption("R: the rotation by the valley's angle; θ*: the minimum.")

tabs = lesson.tabs(TABS)
if tab := tabs.open("How large may η be?"):
    with tab:
        st.subheader("How large may η be? The curvature decides")
        lesson.toolkit_link("quadratic", "eigenvalues of a quadratic and its condition number κ")
        st.markdown(vo.GD_RATE_INTRO)
        st.latex(vo.GD_RATE_FORMULA)
        if lam_min > 0:
            for line in vo.gd_rate_lines(lam_min, lam_max, lr):
                st.latex(line)
            st.markdown(vo.GD_RATE_AFTER + measured(trajs, "sgd", quadratic) + near)
            st.plotly_chart(
                fast.figure(("gd.rate", lam_min, lam_max, lr), lambda: vo.gd_rate_curve(lam_min, lam_max, lr)),
                key="gd_rate",
            )  # fmt: skip

if tab := tabs.open("Momentum's rate map"):
    with tab:
        st.subheader("Momentum's rate map: which (η, β) converge fastest")
        st.markdown(vo.MOMENTUM_INTRO)
        st.latex(vo.MOMENTUM_FORMULA)
        if lam_min > 0:
            for line in vo.momentum_lines(lam_min, lam_max, lr, momentum):
                st.latex(line)
            st.plotly_chart(
                fast.figure(
                    ("gd.ratemap", lam_min, lam_max, lr, momentum),
                    lambda: vo.rate_map_figure(optim.rate_map(lam_min, lam_max), lam_min, lam_max, lr, momentum),
                ),
                key="gd_ratemap",
            )  # fmt: skip
            st.markdown(vo.MOMENTUM_AFTER + measured(trajs, "momentum", quadratic) + near)

if tab := tabs.open("The update with your numbers"):
    with tab:
        st.subheader("The update with your numbers")
        update_with_your_numbers(trajs, chosen)
        st.plotly_chart(
            fast.figure(("gd.steps", *run), lambda: vo.step_sizes(trajs)), key="gd_steps"
        )

if tab := tabs.open("3-D view"):
    with tab:
        st.subheader("The surface in 3-D")
        st.plotly_chart(
            fast.figure(("gd.surface3d", *run), lambda: vo.surface3d(xs, ys, F, info, trajs)),
            key="gd_surface3d",
        )

if tab := tabs.open("Under the hood"):
    with tab:  # the torch.optim reference runs only when someone looks
        st.subheader("Under the hood: hand-written optimizers vs torch.optim")
        st.markdown(
            "Each path above is computed by the hand-written `dl_core.optim.step` (tensor ops "
            "only). The same run with `torch.optim` and autograd gives these maximum absolute "
            "differences over all steps:"
        )
        rows = [
            {
                "optimizer": OPTIMIZER_LABELS[o.name],
                "torch.optim reference": optim.REFERENCE_NAMES[o.name],
                "max |θ_hand − θ_torch|": plain(reference_gap(RunConfig(surface, o, (x0, y0), steps)), 3),
            }
            for o in optims
        ]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.code(inspect.getsource(optim.step), language="python")
        st.code(inspect.getsource(optim.reference_optimizer), language="python")
        st.markdown("The rate map's closed form, checked in the tests against running momentum:")
        st.code(inspect.getsource(optim._radius) + "\n\n" + inspect.getsource(optim.momentum_rate), language="python")  # fmt: skip
        st.caption(
            f"Device: {trajs[0].device.upper()} (2-D problems stay on the CPU: a GPU launch "
            f"costs more than the arithmetic). Compute time of these runs: "
            f"{sum(t.seconds for t in trajs) * 1000:.1f} ms."
        )
