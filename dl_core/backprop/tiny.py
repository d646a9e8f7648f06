"""The tiny network the page draws whole: its layer-by-layer walkthrough and the gradient
checks (finite differences, autograd, a ReLU kink, the step-size sweep)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core.backprop.functions import (
    ACTIVATIONS,
    ARCHITECTURES,
    EPS_RANGE,
    EXAMPLES_X,
    EXAMPLES_Y,
    GOOD_REL_ERROR,
    LOSSES,
    MAX_SCALE,
    loss_and_grad,
)
from dl_core.backprop.network import (
    Params,
    central_difference,
    hand_gradients,
    loss_of,
    reference_gradients,
    rel_error,
)
from dl_core.training import check_choice, check_range, generator, one_thread, timer

# ---------------------------------------------------------------------------
# The tiny network of the page
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TinyConfig:
    arch: str = "2-2-1"  # the hidden layout, a key of ARCHITECTURES
    activation: str = "sigmoid"  # phi of the hidden layers, one of ACTIVATIONS
    loss: str = "bce"  # one of LOSSES; softmax + CE gets two output logits
    seed: int = 0  # draws the initial weights
    scale: float = 1.0  # multiplies the Xavier-normal initial weights
    example: int = 0  # which of the four training examples (0..3) to walk through
    lr: float = 0.5  # eta of the one gradient-descent step shown

    def __post_init__(self) -> None:
        check_choice("architecture", self.arch, tuple(ARCHITECTURES))
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("loss", self.loss, LOSSES)
        check_range("seed", self.seed, 0, 10_000)
        check_range("weight scale", self.scale, 0.0, MAX_SCALE)
        check_range("example", self.example, 0, len(EXAMPLES_X) - 1)
        check_range("learning rate", self.lr, 0.0, 100.0)

    @classmethod
    def tiny(cls) -> TinyConfig:
        return cls()

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, input to output."""
        return (2, *ARCHITECTURES[self.arch], 2 if self.loss == "softmax_ce" else 1)


def tiny_params(cfg: TinyConfig) -> Params:
    """Xavier-normal weights times ``scale``, biases N(0, 0.1^2), float64."""
    g = generator(cfg.seed)
    W, b = [], []
    for n_in, n_out in zip(cfg.sizes[:-1], cfg.sizes[1:]):
        std = math.sqrt(2.0 / (n_in + n_out))
        W.append(cfg.scale * std * torch.randn(n_out, n_in, generator=g, dtype=torch.float64))
        b.append(0.1 * torch.randn(n_out, generator=g, dtype=torch.float64))
    return Params(tuple(W), tuple(b))


def example(cfg: TinyConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """x (1, 2) and the target y (1, K) of the chosen example, in float64."""
    x = torch.tensor([EXAMPLES_X[cfg.example]], dtype=torch.float64)
    c = EXAMPLES_Y[cfg.example]
    y = torch.tensor([[1.0 - c, float(c)]] if cfg.loss == "softmax_ce" else [[float(c)]],
                     dtype=torch.float64)  # fmt: skip
    return x, y


def kink_unit(p: Params, x: torch.Tensor, y: torch.Tensor, act: str, loss: str) -> int:
    """The first-layer unit whose output matters most for the loss: argmax_j |dL/dh_j^(1)|."""
    _, _, bwd = hand_gradients(p, x, y, act, loss)
    return int(bwd.dL_dh[0][0].abs().argmax())


def place_on_kink(p: Params, x: torch.Tensor, unit: int, eps: float) -> Params:
    """Shift b1[unit] so that that hidden unit has pre-activation a = eps / 3 for this input.

    For ReLU that is a third of a finite-difference step from its kink at 0: nudging that
    unit's bias by +-eps puts a at 4 eps / 3 and -2 eps / 3, on different sides, so the
    central difference averages two slopes (0 and 1) and disagrees with the derivative."""
    a = (x @ p.W[0].T)[0, unit]
    b0 = p.b[0].clone()
    b0[unit] = eps / 3 - a
    return Params(p.W, (b0, *p.b[1:]))


@dataclass(frozen=True)
class LayerStep:
    """Layer l of the walkthrough for one example (vectors of that layer)."""

    layer: int  # 1-based layer number l
    W: np.ndarray  # (n_l, n_{l-1}) before the step
    b: np.ndarray  # (n_l,)
    h_prev: np.ndarray  # (n_{l-1},) h^(l-1): what da/dW is
    a: np.ndarray  # (n_l,) pre-activation
    h: np.ndarray  # (n_l,) phi(a), or a for the output layer
    dL_dh: np.ndarray  # (n_l,)
    dh_da: np.ndarray  # (n_l,) phi'(a) (ones for the output layer)
    delta: np.ndarray  # (n_l,) dL/da
    dL_dW: np.ndarray  # (n_l, n_{l-1})
    dL_db: np.ndarray  # (n_l,)
    W_new: np.ndarray  # (n_l, n_{l-1}) after one gradient-descent step W - lr dL/dW
    b_new: np.ndarray  # (n_l,)


@dataclass(frozen=True)
class Walkthrough:
    config: TinyConfig
    x: np.ndarray  # (2,)
    y: np.ndarray  # (K,)
    layers: tuple[LayerStep, ...]  # l = 1..L
    y_hat: np.ndarray  # (K,) prediction
    L: float  # loss before the step
    L_after: float  # loss of the same example after the step
    dL_dx: np.ndarray  # (2,)
    finite: bool  # False when any number is NaN or inf
    seconds: float
    device: str = "cpu"


def walkthrough(cfg: TinyConfig, kink_eps: float | None = None) -> Walkthrough:
    """Forward, loss, backward and one gradient-descent step for one example.

    With ``kink_eps`` one hidden unit is placed on its kink (``place_on_kink``)."""
    with timer() as t:
        x, y = example(cfg)
        p = tiny_params(cfg)
        if kink_eps is not None:
            unit = kink_unit(p, x, y, cfg.activation, cfg.loss)
            p = place_on_kink(p, x, unit, kink_eps)
        L, fwd, bwd = hand_gradients(p, x, y, cfg.activation, cfg.loss)
        with torch.no_grad():
            new = Params(
                tuple(W - cfg.lr * g for W, g in zip(p.W, bwd.dL_dW)),
                tuple(b - cfg.lr * g for b, g in zip(p.b, bwd.dL_db)),
            )
            L_after = loss_of(new, x, y, cfg.activation, cfg.loss)
        layers = tuple(
            LayerStep(
                i + 1, p.W[i].numpy(), p.b[i].numpy(), fwd.h[i][0].numpy(), fwd.a[i][0].numpy(),
                fwd.h[i + 1][0].numpy(), bwd.dL_dh[i][0].numpy(), bwd.dh_da[i][0].numpy(),
                bwd.delta[i][0].numpy(), bwd.dL_dW[i].numpy(), bwd.dL_db[i].numpy(),
                new.W[i].numpy(), new.b[i].numpy(),
            )
            for i in range(len(p.W))
        )  # fmt: skip
        y_hat = loss_and_grad(cfg.loss, fwd.h[-1], y)[1][0].numpy()
        finite = bool(torch.isfinite(torch.cat([p.flat(), new.flat(), L.reshape(1),
                                                L_after.reshape(1)])).all())  # fmt: skip
    return Walkthrough(cfg, x[0].numpy(), y[0].numpy(), layers, y_hat, float(L), float(L_after),
                       bwd.dL_dx[0].numpy(), finite, t[0])  # fmt: skip


@dataclass(frozen=True)
class GradCheck:
    names: tuple[str, ...]  # parameter names, W1[i,j] / b1[i], ...
    hand: np.ndarray  # (P,) hand-written backprop
    autograd: np.ndarray  # (P,) torch.nn + torch.autograd
    fd: np.ndarray  # (P,) central finite differences
    rel_autograd: np.ndarray  # (P,) rel_error(hand, autograd)
    rel_fd: np.ndarray  # (P,) rel_error(hand, fd)
    eps: float
    dtype: str  # "float64" or "float32"
    kink_unit: int | None  # 0-based first-layer unit placed on its kink, or None

    @property
    def max_rel_fd(self) -> float:
        return float(np.max(self.rel_fd))

    @property
    def max_rel_autograd(self) -> float:
        return float(np.max(self.rel_autograd))


DTYPES = {"float64": torch.float64, "float32": torch.float32}


def check_threshold(dtype: str) -> float:
    """The relative error below which a gradient check counts as good: GOOD_REL_ERROR in
    float64; 1000x that in float32, whose rounding unit (6e-8) is 5e8 times float64's."""
    return GOOD_REL_ERROR * (1e3 if dtype == "float32" else 1.0)


def _check_setup(cfg: TinyConfig, eps: float, dtype: str, kink: bool):
    """Parameters (kink placed, cast), x, y, the kink unit and theta -> loss over a stack (M, P)."""
    check_choice("precision", dtype, tuple(DTYPES))
    check_range("epsilon", eps, *EPS_RANGE)
    dt = DTYPES[dtype]
    x, y = example(cfg)
    p = tiny_params(cfg)
    unit = kink_unit(p, x, y, cfg.activation, cfg.loss) if kink else None
    if unit is not None:
        p = place_on_kink(p, x, unit, eps)
    p, x, y = p.to(dt), x.to(dt), y.to(dt)
    loss_of_theta = torch.func.vmap(
        lambda th: loss_of(p.unflat(th), x, y, cfg.activation, cfg.loss)
    )
    return p, x, y, unit, loss_of_theta


def grad_check(cfg: TinyConfig, eps: float = 1e-6, dtype: str = "float64", kink: bool = False) -> GradCheck:  # fmt: skip
    """Hand-written backprop vs autograd vs central differences for every parameter."""
    p, x, y, unit, loss_of_theta = _check_setup(cfg, eps, dtype, kink)
    _, _, bwd = hand_gradients(p, x, y, cfg.activation, cfg.loss)
    _, ref = reference_gradients(p, x, y, cfg.activation, cfg.loss)
    fd = central_difference(loss_of_theta, p.flat(), eps, batched=True)
    h, a, f = (t.double().numpy() for t in (bwd.grads().flat(), ref.flat(), fd))
    return GradCheck(tuple(p.names()), h, a, f, rel_error(h, a), rel_error(h, f), eps, dtype, unit)


EPS_SWEEP = tuple(10.0**k for k in range(-12, 0))  # 1e-12 .. 1e-1


def eps_sweep(cfg: TinyConfig, kink: bool = False) -> dict[str, np.ndarray]:
    """Max relative error of backprop vs central differences as epsilon varies
    (the same numbers as ``grad_check(...).max_rel_fd``, without autograd).

    Returns {"eps": (E,), "float64": (E,), "float32": (E,)}: large eps suffers
    from truncation (and kinks), small eps from rounding, worse in float32."""
    out = {"eps": np.array(EPS_SWEEP)}
    with one_thread(torch.device("cpu")):  # 24 tiny checks: 3-4x faster than on two threads
        for dt in DTYPES:
            errs = []
            for e in EPS_SWEEP:
                p, x, y, _, loss_of_theta = _check_setup(cfg, e, dt, kink)
                _, _, bwd = hand_gradients(p, x, y, cfg.activation, cfg.loss)
                fd = central_difference(loss_of_theta, p.flat(), e, batched=True)
                h = bwd.grads().flat().double().numpy()
                errs.append(rel_error(h, fd.double().numpy()).max())
            out[dt] = np.array(errs)
    return out
