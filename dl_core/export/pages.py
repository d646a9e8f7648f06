"""Per page: its URL settings (the ``params.*`` widgets of ``pages/<page>.py``) and the
values its script template needs.

``SPECS[page]()`` lists the settings in the order the page draws them, with the same keys,
ranges, grids, options and defaults (``tests/core/test_export.py`` runs every page and
checks). ``CONTEXT[page](values)`` turns the settings into the template's values, applying
what the page applies after its widgets (caps on steps and epochs, fallbacks)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from dl_core.export.params import (
    LogSlider,
    Multi,
    Param,
    Select,
    Slider,
    Toggle,
    Values,
    log_options,
)
from dl_core.export.template import Code


# ---------------------------------------------------------------------------- gradient descent
def gradient_descent_specs() -> list[Param]:
    from dl_core import optim

    def start(i: int) -> Callable[[Values], float]:
        return lambda v: optim.surface_info(optim.SurfaceConfig(v["surface"])).start[i]

    quadratic = lambda v: v["surface"] == "quadratic"  # noqa: E731
    return [
        Select("surface", "quadratic", options=optim.SURFACES),
        Slider("kappa", 10.0, quadratic, 10.0, lo=1.0, hi=100.0, step=1.0),
        Slider("angle", 0.0, quadratic, 0.0, lo=-90.0, hi=90.0, step=5.0),
        Multi("opt", ("sgd", "momentum", "adam"), options=optim.OPTIMIZERS),
        LogSlider("lr", 0.05, options=tuple(log_options(-4, 1))),
        Slider("mu", 0.9, lo=0.0, hi=0.99, step=0.01),
        Slider("b1", 0.9, lo=0.0, hi=0.99, step=0.01),
        Slider("b2", 0.999, lo=0.9, hi=0.9999, step=0.0001),
        LogSlider("eps", 1e-8, options=(1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1)),
        Slider("x0", start(0), lo=-4.5, hi=4.5, step=0.01),
        Slider("y0", start(1), lo=-4.5, hi=4.5, step=0.01),
        Slider("steps", 100, lo=1, hi=500),
    ]


def gradient_descent_context(v: Values) -> dict[str, Any]:
    from dl_core import optim

    surface = optim.SurfaceConfig(v["surface"], v["kappa"], v["angle"])
    return {
        **v,
        "opt": v["opt"] or ["sgd"],
        "start": (float(v["x0"]), float(v["y0"])),
        "f_min": float(optim.surface_info(surface).f_min),
    }


# ---------------------------------------------------------------------------- regression
REGRESSION_BATCHES = {"full batch": 0, "mini-batch of 10": 10, "stochastic (1 point)": 1}


def regression_specs() -> list[Param]:
    lr = tuple(log_options(-3, 1))
    batches = tuple(REGRESSION_BATCHES)
    return [
        Slider("lin_n", 60, lo=5, hi=500),
        Slider("lin_noise", 0.6, lo=0.0, hi=3.0, step=0.1),
        LogSlider("lin_lr", 0.1, options=lr),
        Slider("lin_steps", 60, lo=1, hi=500),
        Select("lin_batch", "full batch", options=batches),
        Slider("log_sep", 2.5, lo=0.0, hi=6.0, step=0.5),
        LogSlider("log_lr", 0.5, options=lr),
        Slider("log_steps", 100, lo=1, hi=500),
        Select("log_batch", "full batch", options=batches),
    ]


def regression_context(v: Values) -> dict[str, Any]:
    return {
        **v,
        "lin_bs": REGRESSION_BATCHES[v["lin_batch"]],
        "log_bs": REGRESSION_BATCHES[v["log_batch"]],
    }


# ---------------------------------------------------------------------------- backprop
ACTIVATION_MODULES = {
    "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU(0.01)", "gelu": "nn.GELU()", "softplus": "nn.Softplus()",
}  # fmt: skip


def backprop_examples() -> list[str]:
    from dl_core import backprop as bp

    return [f"x = ({x1:+g}, {x2:+g}), y = {y}" for (x1, x2), y in zip(bp.EXAMPLES_X, bp.EXAMPLES_Y)]


def backprop_specs() -> list[Param]:
    from dl_core import backprop as bp

    lr = tuple(log_options(-3, 1))
    examples = tuple(backprop_examples())
    return [
        Select("arch", "2-2-1", options=tuple(bp.ARCHITECTURES)),
        Select("act", "sigmoid", options=bp.ACTIVATIONS),
        Select("loss", "bce", options=bp.LOSSES),
        Select("ex", examples[0], options=examples),
        Slider("seed", 0, lo=0, hi=20),
        LogSlider("scale", 1.0, options=tuple(log_options(-1, 2))),
        LogSlider("lr", 0.5, options=lr),
        LogSlider("eps", 1e-6, options=tuple(bp.EPS_SWEEP)),
        Select("prec", "float64", options=tuple(bp.DTYPES)),
        Toggle("kink", False),
        Slider("depth", 10, lo=1, hi=bp.MAX_DEPTH),
        Slider("width", 32, lo=1, hi=bp.MAX_WIDTH),
        Select("init", "xavier", options=bp.INITS),
        Slider("steps", 60, lo=0, hi=bp.MAX_STEPS),
        LogSlider("dlr", 0.5, options=lr),
    ]


def backprop_context(v: Values) -> dict[str, Any]:
    from dl_core import backprop as bp

    i = backprop_examples().index(v["ex"])
    tiny = bp.TinyConfig(v["arch"], v["act"], v["loss"], v["seed"], v["scale"], i, v["lr"])
    deep = bp.DeepConfig(v["depth"], v["width"], v["act"], v["init"], v["steps"], v["dlr"])
    return {
        **v,
        "sizes": tuple(tiny.sizes),
        "x": tuple(bp.EXAMPLES_X[i]),
        "y": bp.EXAMPLES_Y[i],
        "prec": Code(v["prec"]),
        "act_module": Code(ACTIVATION_MODULES[v["act"]]),
        "steps": bp.affordable_steps(deep),  # the page trains fewer steps of a large net
        "init_std": bp.init_std(v["init"], 1, 1),  # zero, small and large: a constant
    }


# ---------------------------------------------------------------------------- playground
FEATURE_CODE = {
    "x1": "x1", "x2": "x2", "x1^2": "x1 * x1", "x2^2": "x2 * x2", "x1x2": "x1 * x2",
    "sin_x1": "torch.sin(x1)", "sin_x2": "torch.sin(x2)",
}  # fmt: skip
MLP_ACTIVATIONS = {
    "tanh": "torch.tanh", "relu": "torch.relu", "sigmoid": "torch.sigmoid",
    "linear": "nn.Identity()",
}  # fmt: skip


def feature_columns(feats: list[str]) -> str:
    """``columns = [...]`` of the chosen features: one line when it fits in 88 columns."""
    exprs = [FEATURE_CODE[f] for f in feats]
    for one in (
        f"    columns = [{', '.join(exprs)}]  # FEATURES",
        f"    columns = [{', '.join(exprs)}]",
    ):
        if len(one) <= 88:
            return one
    return "\n".join(["    columns = [  # FEATURES", *(f"        {e}," for e in exprs), "    ]"])


def unpack_columns(feats: list[str]) -> str:
    """Name the input's columns x1, x2, only those the features use."""
    used = [x for x in ("x1", "x2") if any(x in FEATURE_CODE[f] for f in feats)]
    if len(used) == 2:
        return "    x1, x2 = X[:, 0], X[:, 1]"
    return f"    {used[0]} = X[:, {int(used[0][1]) - 1}]"


def playground_specs() -> list[Param]:
    from dl_core import data2d, mlp

    specs: list[Param] = [
        Select("data", "circles", options=tuple(data2d.DATASETS)),
        Slider("noise", 0.0, lo=0.0, hi=0.5, step=0.05),
        Slider("n", 500, lo=50, hi=1000, step=50),
        Slider("test", 0.5, lo=0.1, hi=0.9, step=0.1),
        Slider("dseed", 0, lo=0, hi=99),
        Multi("feat", ("x1", "x2"), options=mlp.FEATURES),
        Slider("layers", 2, lo=0, hi=mlp.MAX_LAYERS),
    ]
    for i in range(1, mlp.MAX_LAYERS + 1):
        drawn = lambda v, i=i: v["layers"] >= i  # noqa: E731
        specs.append(Slider(f"h{i}", 8, drawn, None, lo=1, hi=mlp.MAX_NEURONS))
    return specs + [
        Select("act", "tanh", options=mlp.ACTIVATIONS),
        Select("init", "xavier", options=mlp.INITS),
        Toggle("bn", False),
        Slider("drop", 0.0, lo=0.0, hi=0.8, step=0.05),
        Select("opt", "adam", options=mlp.OPTIMIZERS),
        LogSlider("lr", 0.03, options=tuple(log_options(-4, 1))),
        Slider("batch", 0, lo=0, hi=200),
        Select("reg", "none", options=mlp.REGULARIZERS),
        LogSlider("rate", 0.001, options=tuple(log_options(-5, 1))),
        Slider("seed", 0, lo=0, hi=99),
        Slider("speed", 50, lo=1, hi=500, used=False),  # steps per tick: how fast, not what
    ]


def playground_context(v: Values) -> dict[str, Any]:
    from dl_core import data2d

    feats = v["feat"] or ["x1"]
    k = data2d.n_classes(v["data"])
    return {
        **v,
        "feat": feats,
        "feature_exprs": Code(feature_columns(feats)),
        "unpack": Code(unpack_columns(feats)),
        "hidden": tuple(v[f"h{i}"] for i in range(1, v["layers"] + 1)),
        "act_fn": Code(MLP_ACTIVATIONS[v["act"]]),
        "k": k,
        "n_out": k if k >= 3 else 1,
        "task": "regression" if k == 0 else ("binary" if k == 2 else "multiclass"),
        "steps": 1000,
    }


# ---------------------------------------------------------------------------- cnn
CNN_BATCHES = (16, 32, 64, 128, 256, 512, 1024, 2048)


def cnn_specs() -> list[Param]:
    from dl_core import cnn, mnist

    return [
        Select("ds", "digits", options=("digits", *["mnist"] * mnist.available())),
        Slider("ntrain", 10000, lambda v: v["ds"] == "mnist", 0, lo=1000, hi=60000, step=1000),
        Slider("layers", 2, lo=1, hi=cnn.MAX_LAYERS),
        Slider("filters", 16, lo=1, hi=32),
        Select("k", "3", options=("1", "3", "5", "7")),
        Select("pool", "max", options=cnn.POOLS),
        Slider("dropout", 0.0, lo=0.0, hi=0.8, step=0.05),
        Select("opt", "adam", options=cnn.OPTIMIZERS),
        LogSlider("lr", 0.01, options=tuple(log_options(-4, 1))),
        LogSlider("bs", 256, options=CNN_BATCHES),
        Slider("epochs", 30, lo=1, hi=100),
        Slider("seed", 0, lo=0, hi=99),
        Select("kern", "edge (vertical)", options=cnn.KERNELS, used=False),  # + learned filters
    ]


def cnn_config(v: Values):
    from dl_core import cnn

    bs = int(v["bs"])
    epochs = min(v["epochs"], cnn.max_epochs(v["ds"], bs, v["ntrain"]))  # the page's cap
    return cnn.CNNConfig(v["ds"], v["layers"], v["filters"], int(v["k"]), v["pool"],
                         v["dropout"], v["opt"], v["lr"], epochs, bs, v["ntrain"], seed=v["seed"])  # fmt: skip


def cnn_context(v: Values) -> dict[str, Any]:
    from dl_core import cnn

    cfg = cnn_config(v)
    return {
        **v,
        "channels": cfg.channels,
        "k": cfg.kernel,
        "bs": cfg.batch_size,
        "epochs": cfg.epochs,
        "ds": Code("mnist" if cfg.dataset == "mnist" else "digits"),
        "size": cnn.image_size(cfg.dataset),
        "ds_label": Code("MNIST" if cfg.dataset == "mnist" else "the bundled 8x8 digits"),
        "describe": Code(
            textwrap.fill(
                cnn.describe(cfg).replace("×", "x").replace("→", "->"),
                84,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        ),
    }


# ---------------------------------------------------------------------------- rnn
RNN_CORE_COMMENTS = {
    "rnn": "        # h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)",
    "lstm": "        # gates i, f, o = sigma(.), g = tanh(.) of W_i* x_t + W_h* h_{t-1} + b;\n"
            "        # c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)",
    "gru": "        # r, z = sigma(.), n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn));\n"
           "        # h_t = (1 - z) * n + z * h_{t-1}",
}  # fmt: skip
RNN_METRICS = {"sine": "test_mse", "noisy": "test_mse_vs_clean", "memory": "test_accuracy",
               "reber": "legal_next_symbol_rate"}  # fmt: skip


def rnn_specs() -> list[Param]:
    from dl_core import rnn

    forecast = lambda v: v["task"] in ("sine", "noisy")  # noqa: E731
    return [
        Select("task", "sine", options=rnn.TASKS),
        Select("cell", "lstm", options=rnn.CELLS),
        Slider("hidden", 32, lo=1, hi=96),
        Slider("T", 24, forecast, 24, lo=4, hi=rnn.MAX_SEQ_LEN),
        Slider("noise", 0.2, lambda v: v["task"] == "noisy", 0.2, lo=0.0, hi=1.0, step=0.05),
        Slider("gap", 10, lambda v: v["task"] == "memory", 10, lo=1, hi=60),
        Slider("bptt", 0, lo=0, hi=60),
        Toggle("clipon", True),
        LogSlider("clip", 1.0, options=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)),
        Select("opt", "adam", options=rnn.OPTIMIZERS),
        LogSlider("lr", 0.03, options=(*log_options(-4, 0), 2.0, 3.0)),
        Slider("steps", 150, lo=10, hi=1500, step=10),
        Toggle("cmp", True, used=False),  # also trains the other cells, for a chart
    ]


def rnn_config(v: Values):
    from dl_core import rnn

    cfg = rnn.RNNConfig(
        task=v["task"], cell=v["cell"], hidden=v["hidden"], seq_len=v["T"], gap=v["gap"],
        noise=v["noise"], bptt=v["bptt"], clip=v["clip"] if v["clipon"] else 0.0,
        optimizer=v["opt"], lr=v["lr"], steps=v["steps"],
    )  # fmt: skip
    return rnn.within_budget(cfg)  # the page caps the steps of a long run


def rnn_context(v: Values) -> dict[str, Any]:
    from dl_core import rnn

    cfg = rnn_config(v)
    return {
        **v,
        "seq_len": cfg.seq_len,
        "clip": cfg.clip,
        "steps": cfg.steps,
        "n_out": cfg.n_out,
        "cell_label": Code(rnn.CELL_LABELS[cfg.cell]),
        "task_label": Code(rnn.TASK_LABELS[cfg.task].lower()),
        "metric": Code(cfg.metric),
        "metric_key": RNN_METRICS[cfg.task],
        "core_class": Code({"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cfg.cell]),
        "core_comment": Code(RNN_CORE_COMMENTS[cfg.cell]),
    }


# ---------------------------------------------------------------------------- autoencoder
def autoencoder_specs() -> list[Param]:
    return [
        Slider("latent", 2, lo=1, hi=16),
        Slider("hidden", 64, lo=16, hi=256, step=16),
        Slider("beta", 1.0, lo=0.0, hi=10.0, step=0.25),
        Slider("steps", 600, lo=50, hi=2000, step=50),
        LogSlider("lr", 0.005, options=tuple(log_options(-4, 0))),
        Slider("seed", 0, lo=0, hi=99),
        Slider("noise", 0.3, lo=0.05, hi=0.8, step=0.05),
    ]


# ---------------------------------------------------------------------------- gan
GAN_ACTIVATIONS = {"tanh": "nn.Tanh()", "relu": "nn.ReLU()", "leaky_relu": "nn.LeakyReLU(0.2)"}


def gan_specs() -> list[Param]:
    from dl_core import gan

    lr = tuple(log_options(-5, 0))
    return [
        Select("target", "ring", options=gan.TARGETS),
        Select("noise", "gaussian", options=gan.NOISES),
        Slider("nz", 2, lo=1, hi=8),
        Slider("g_layers", 2, lo=1, hi=4),
        Slider("g_width", 64, lo=1, hi=128),
        Slider("d_layers", 2, lo=1, hi=4),
        Slider("d_width", 64, lo=1, hi=128),
        Select("act", "tanh", options=gan.ACTIVATIONS),
        Select("loss", "nonsaturating", options=gan.LOSSES),
        Select("d_opt", "adam", options=gan.OPTIMIZERS),
        Select("g_opt", "adam", options=gan.OPTIMIZERS),
        LogSlider("d_lr", 2e-3, options=lr),
        LogSlider("g_lr", 2e-3, options=lr),
        Slider("k", 1, lo=1, hi=5),
        Slider("batch", 128, lo=16, hi=512, step=16),
        Slider("seed", 0, lo=0, hi=99),
        Slider("spt", 20, lo=1, hi=100, used=False),  # steps per frame: how fast, not what
    ]


def gan_context(v: Values) -> dict[str, Any]:
    from dl_core import gan

    spec = gan.target_spec(v["target"])
    return {
        **v,
        "g_hidden": (v["g_width"],) * v["g_layers"],
        "d_hidden": (v["d_width"],) * v["d_layers"],
        "sigma": spec.sigma,
        "n_modes": spec.n_modes,
        "mixture": v["target"] in ("ring", "grid"),
        "beta2": 0.9 if v["loss"] == "wgan_gp" else 0.999,
        "act_module": Code(GAN_ACTIVATIONS[v["act"]]),
        "loss_label": Code(gan.LOSS_LABELS[v["loss"]].lower()),
    }


# ---------------------------------------------------------------------------- regularisation
def regularisation_specs() -> list[Param]:
    from dl_core import regularisation as R

    lr = tuple(log_options(-4, 1))
    return [
        Select("data", "curve", options=R.DATASETS),
        Slider("n", 20, lo=8, hi=R.MAX_N),
        Slider("noise", 0.3, lo=0.0, hi=R.MAX_NOISE, step=0.05),
        Slider("width", 32, lo=1, hi=R.MAX_WIDTH),
        Select("pen", "none", options=R.PENALTIES),
        LogSlider("alpha", 1e-3, options=tuple(log_options(-5, 0))),
        Slider("p", 0.0, lo=0.0, hi=R.MAX_P, step=0.05),
        Select("opt", "adam", options=R.OPTIMIZERS),
        LogSlider("lr", 0.02, options=lr),
        Slider("steps", 1000, lo=50, hi=R.MAX_STEPS, step=50),
        Slider("seed", 0, lo=0, hi=99),
        # the batch-norm and standardising experiments: not in the script (its header says)
        Slider("bn_depth", 6, lo=1, hi=R.MAX_DEPTH, used=False),
        Select("bn_act", "sigmoid", options=R.BN_ACTIVATIONS, used=False),
        LogSlider("bn_lr", 1.0, options=lr, used=False),
        Slider("bn_batch", 32, lo=2, hi=128, used=False),
        LogSlider("sc_scale", 10.0, options=tuple(log_options(0, 2)), used=False),
        Slider("sc_corr", 0.0, lo=-0.9, hi=0.9, step=0.1, used=False),
        Slider("sc_c", 1.0, lo=0.1, hi=2.2, step=0.1, used=False),
        Slider("sc_steps", 100, lo=1, hi=R.MAX_SCALE_STEPS, used=False),
    ]


def regularisation_context(v: Values) -> dict[str, Any]:
    from dl_core import regularisation as R

    return {
        **v,
        "opt_label": Code({"adam": "Adam", "sgd": "gradient descent"}[v["opt"]]),
        "pen_label": Code(R.PENALTY_LABELS[v["pen"]].lower()),
        "decay_optimizer": Code("AdamW" if v["opt"] == "adam" else "SGD"),
    }


SPECS: dict[str, Callable[[], list[Param]]] = {
    "gradient_descent": gradient_descent_specs,
    "regression": regression_specs,
    "backprop": backprop_specs,
    "playground": playground_specs,
    "cnn": cnn_specs,
    "rnn": rnn_specs,
    "autoencoder": autoencoder_specs,
    "gan": gan_specs,
    "regularisation": regularisation_specs,
}
CONTEXT: dict[str, Callable[[Values], dict[str, Any]]] = {
    "gradient_descent": gradient_descent_context,
    "regression": regression_context,
    "backprop": backprop_context,
    "playground": playground_context,
    "cnn": cnn_context,
    "rnn": rnn_context,
    "autoencoder": dict,
    "gan": gan_context,
    "regularisation": regularisation_context,
}
