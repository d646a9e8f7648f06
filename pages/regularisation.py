"""Regularisation & normalisation: overfitting you can watch, and the cures, each with its math."""

import streamlit as st

from dl_core import notation
from dl_core import regularisation as R
from dl_core.regularisation import BNConfig, FitConfig, ScaleConfig
from ui import fast, lesson, params
from viz import regularisation as vr

LR_OPTIONS = params.log_options(-4, 1)  # 1e-4 .. 10
ALPHA_OPTIONS = params.log_options(-5, 0)  # 1e-5 .. 1


# Cached by config: identical settings from any session train once.
fit = st.cache_data(max_entries=32, show_spinner=False)(R.train)
alpha_sweep = st.cache_data(max_entries=16, show_spinner="One network per α …")(R.alpha_sweep)
p_sweep = st.cache_data(max_entries=16, show_spinner="One network per p …")(R.p_sweep)
decoupling = st.cache_data(max_entries=16, show_spinner="L2 against weight decay …")(R.decoupling)
checks = st.cache_data(max_entries=16, show_spinner="Checking against torch …")(R.checks)
bias_variance = st.cache_data(max_entries=16, show_spinner=False)(R.bias_variance)
batch_norm = st.cache_data(max_entries=16, show_spinner="With and without batch norm …")(R.train_bn)
scaling = st.cache_data(max_entries=16, show_spinner=False)(R.scaling)


def chart(where, name: str, key: tuple, build) -> None:
    where.plotly_chart(fast.figure((f"reg.{name}", *key), build), key=f"reg_{name}")


def view(where, label: str, key: str, hi: int, default: int, lo: int = 1) -> int:
    """A view slider whose range follows the result; a value left from a larger range is clamped."""
    if hi <= lo:
        return lo
    # The value lives in session state (clamped to the new range); no default beside it, or
    # Streamlit warns that the widget got a value both ways.
    st.session_state[key] = min(max(st.session_state.get(key, default), lo), hi)
    return where.slider(label, lo, hi, key=key)


@fast.section
def capacity(bv: R.BiasVariance, key: tuple) -> None:
    degree = view(st, "Polynomial degree (view)", "bv_degree", int(bv.degrees[-1]), 3, lo=0)
    st.latex(vr.bias_variance_latex(bv, degree))
    a, b = st.columns(2)
    chart(a, "bv", (*key, degree), lambda: vr.bias_variance_figure(bv, degree))
    chart(b, "fits", (*key, degree), lambda: vr.fits_figure(bv, degree))


@fast.section
def dropout_view(sweep: R.FitResult, cfg: FitConfig) -> None:
    ps = [v.p for v in sweep.variants][1:]
    c1, c2, c3 = st.columns(3)
    default = min(ps, key=lambda q: abs(q - (cfg.p or 0.5)))
    p = c1.select_slider("Network trained with p (view)", ps, default, key="do_p")
    draw = view(c2, "Draw a mask (view)", "do_draw", 99, 0, lo=0)
    j = view(c3, "Unit j of hidden layer 1 (view)", "do_unit", cfg.width, 1) - 1
    m = ps.index(p) + 1
    step = R.dropout_step(sweep, m, sample=draw, seed=draw)
    left, right = st.columns([2, 3])
    chart(left, "mask", (cfg, p, draw), lambda: vr.mask_figure(step))
    with right:
        st.markdown(f"Training point {draw % cfg.n + 1}: the first hidden layer's unit {j + 1}.")
        for line in vr.dropout_latex(step, j):
            st.latex(line)
    mc = R.monte_carlo(sweep, m)
    for line in vr.mc_latex(mc, len(mc.x) // 2, cfg.task == "regression"):
        st.latex(line)
    chart(st, "mc", (cfg, p), lambda: vr.mc_figure(mc, cfg.task == "regression"))


@fast.section
def bn_view(res: R.BNResult) -> None:
    j = view(st, "Unit j of hidden layer 1 (view)", "bn_unit", res.config.width, 1) - 1
    for line in vr.bn_latex(R.bn_walk(res, j)):
        st.latex(line)


IDEA = (
    "A network with room to spare can fit the **noise** of a small training set: the training "
    "loss keeps falling while the loss on new points rises. It **overfits**. The cures below "
    "penalise large weights (L2, L1), stop at the best validation step, train a random "
    "ensemble (dropout), or make training itself better conditioned (batch norm, standardised inputs)."
)
lesson.header("Regularisation & normalisation", IDEA, vr.header_formula(),
              notation.caption("L_tilde", "L", "alpha", "Omega", "theta", "k_star"))  # fmt: skip

with st.sidebar:
    st.header("Data and network")
    data = params.select("Dataset", "data", R.DATASETS, "curve", format_func=R.DATASET_LABELS.get)
    n = params.slider("Training points n (as many for validation)", "n", 8, R.MAX_N, 20)
    noise = params.slider("Noise", "noise", 0.0, R.MAX_NOISE, 0.3, 0.05)
    width = params.slider("Hidden units per layer (capacity)", "width", 1, R.MAX_WIDTH, 32)
    st.header("Regularisation and training")
    pen = params.select("Penalty", "pen", R.PENALTIES, "none", format_func=R.PENALTY_LABELS.get)
    alpha = params.log_slider("Penalty strength α", "alpha", ALPHA_OPTIONS, 1e-3)
    p = params.slider("Dropout probability p", "p", 0.0, R.MAX_P, 0.0, 0.05)
    opt = params.select(
        "Optimizer", "opt", R.OPTIMIZERS, "adam", format_func=R.OPTIMIZER_LABELS.get
    )
    lr = params.log_slider("Learning rate η", "lr", LR_OPTIONS, 0.02)
    steps = params.slider("Training steps", "steps", 50, R.MAX_STEPS, 1000, 50)
    seed = params.slider("Seed (data, weights, masks)", "seed", 0, 99, 0)
    st.header("Batch-norm experiment")
    bn_depth = params.slider("Hidden layers", "bn_depth", 1, R.MAX_DEPTH, 6)
    bn_act = params.select("Activation", "bn_act", R.BN_ACTIVATIONS, "sigmoid")
    bn_lr = params.log_slider("Learning rate η (SGD)", "bn_lr", LR_OPTIONS, 1.0)
    bn_batch = params.slider("Batch size |B|", "bn_batch", 2, 128, 32)
    st.header("Standardising experiment")
    sc_scale = params.log_slider(
        "Spread of x₂ over x₁'s", "sc_scale", params.log_options(0, 2), 10.0
    )
    sc_corr = params.slider("Correlation of x₁ and x₂", "sc_corr", -0.9, 0.9, 0.0, 0.1)
    sc_c = params.slider("Step size η·λ_max", "sc_c", 0.1, 2.2, 1.0, 0.1)
    sc_steps = params.slider("Gradient-descent steps", "sc_steps", 1, R.MAX_SCALE_STEPS, 100)

BASE = dict(
    data="curve", n=20, noise=0.3, width=32, pen="none", p=0.0, opt="adam", lr=0.02, steps=1000
)
params.try_this({
    "Cure it with L2": ({**BASE, "pen": "l2", "alpha": 0.003},
                        "α = 0.003 pulls every weight toward 0 at every step: the curve smooths out and the test loss stops climbing."),
    "Cure it with dropout": ({**BASE, "p": 0.1},
                             "Each step trains a random thinned network (a tenth of the units off): no unit can memorise a point alone."),
    "Or more data": ({**BASE, "n": 100},
                     "100 points: the noise averages out and training and test loss meet near the noise floor σ²."),
    "L1: exact zeros": ({**BASE, "pen": "l1_prox", "alpha": 0.01, "opt": "sgd", "lr": 0.3},
                        "SGD with L1's proximal step: almost every weight ends exactly 0 (histogram in the L2 and L1 tab); the few left still fit the curve."),
    "Overfit a 2-D boundary": ({**BASE, "data": "moons", "noise": 0.3, "n": 60},
                               "60 noisy moons: the boundary bends around single points and the test loss climbs after k*."),
})  # fmt: skip

cfg = FitConfig(data=data, n=n, noise=noise, width=width, optimizer=opt, lr=lr, steps=steps,
                penalty=pen, alpha=alpha, p=p, seed=seed, data_seed=seed)  # fmt: skip
res = fit(cfg)
if (msg := R.diagnose(res)) is not None:
    st.warning(msg + " The fit shows the checkpoint k* from before it.", icon=":material/warning:")
left, right = st.columns(2)
chart(left, "loss", (cfg,), lambda: vr.loss_curves(res))
chart(right, "fit", (cfg,), lambda: vr.fit_figure(res, R.make_data(data, n, noise, seed)))

tabs = lesson.tabs(
    ["Overfitting", "L2 and L1", "Early stopping", "Dropout", "Batch norm", "Standardising inputs"]
)
if tab := tabs.open("Overfitting"):
    with tab:
        st.subheader("Overfitting: the training loss stops telling the truth")
        st.latex(vr.gap_latex(res))
        st.markdown(vr.GAP_TEXT)
        capacity(bias_variance(n, noise, seed), (n, noise, seed))
if tab := tabs.open("L2 and L1"):
    with tab:
        st.subheader("L2 and L1: a price on every weight")
        for line in vr.PENALTY_GRADIENTS:
            st.latex(line)
        sweep = alpha_sweep(cfg)
        pen_res, pm = (res, 0) if pen != "none" else (sweep, R.nearest_alpha(alpha))
        a, b = st.columns(2)
        chart(a, "alpha", (cfg,), lambda: vr.alpha_figure(sweep, alpha))
        label = vr.variant_label(pen_res, pm)
        chart(b, "weights", (cfg,), lambda: vr.weights_figure(R.weights(sweep, 0), R.weights(pen_res, pm), label))  # fmt: skip
        st.markdown(f"**The last update of the largest weight** ({label}):")
        i = R.largest_weight(pen_res, pm)
        for line in vr.update_latex(pen_res, pm, i):
            st.latex(line)
        st.markdown(vr.PROXIMAL_AND_DECAY_TEXT)
        runs = decoupling(cfg)
        st.dataframe(vr.decoupling_rows(runs), hide_index=True)
        for line in vr.decoupling_latex(
            runs, i, pen_res.variants[pm].penalty if pen_res.optimizer == "adam" else None
        ):
            st.latex(line)
        hood = st.expander("Under the hood: checked against torch", icon=":material/code:", key="reg_hood", on_change="rerun")  # fmt: skip
        if hood.open:  # torch's reference runs only when someone looks
            hood.markdown(vr.checks_text(checks(cfg)))
if tab := tabs.open("Early stopping"):
    with tab:
        st.subheader("Early stopping: keep the weights of the best validation step")
        for line in vr.early_latex(res):
            st.latex(line)
        st.markdown(vr.EARLY_TEXT)
        chart(st, "path", (cfg,), lambda: vr.path_figure(alpha_sweep(cfg)))
if tab := tabs.open("Dropout"):
    with tab:
        st.subheader("Dropout: a random thinned network at every step")
        lesson.toolkit_link("probability", "the Bernoulli distribution and expectations")
        st.markdown(vr.DROPOUT_TEXT)
        sweep_p = p_sweep(cfg)
        dropout_view(sweep_p, cfg)
        chart(st, "p", (cfg,), lambda: vr.p_figure(sweep_p, p))
if tab := tabs.open("Batch norm"):
    with tab:
        st.subheader("Batch normalisation: every layer's inputs rescaled over the batch")
        bcfg = BNConfig(depth=bn_depth, activation=bn_act, lr=bn_lr, batch=bn_batch, seed=seed)
        bres = batch_norm(bcfg)
        if (msg := R.bn_diagnose(bres)) is not None:
            st.info(msg, icon=":material/lightbulb:")
        a, b = st.columns(2)
        chart(a, "bn_loss", (bcfg,), lambda: vr.bn_loss_figure(bres))
        chart(b, "bn_grads", (bcfg,), lambda: vr.grad_norm_figure(bres))
        st.markdown(f"**One batch through one unit** of the trained network's first layer (the first "
                    f"{min(bn_batch, bcfg.n)} training points as the batch):")  # fmt: skip
        bn_view(bres)
        chart(st, "bn_modes", (bcfg,), lambda: vr.mode_gap_figure(R.mode_gap(bres), bn_batch))
        st.caption("Small batches give noisy $\\mu_B$ and $\\sigma_B^2$: in training mode each point's output depends "
                   "on its batch-mates, in evaluation mode on the running averages only.")  # fmt: skip
if tab := tabs.open("Standardising inputs"):
    with tab:
        st.subheader("Standardising inputs: one scale for every feature")
        scfg = ScaleConfig(scale=sc_scale, rho=sc_corr, c=sc_c, steps=sc_steps, seed=seed)
        sres = scaling(scfg)
        for line in vr.scaling_latex(sres):
            st.latex(line)
        a, b = st.columns(2)
        chart(a, "sc_raw", (scfg,), lambda: vr.scaling_map(sres.raw, "Raw inputs", vr.RAW))
        chart(b, "sc_std", (scfg,), lambda: vr.scaling_map(sres.std, "Standardised inputs", vr.STD))
        st.markdown(vr.scaling_summary(sres))
        chart(st, "sc_gaps", (scfg,), lambda: vr.scaling_gaps(sres))
        st.markdown(vr.kappa_link(sres.raw.kappa, sc_c))
