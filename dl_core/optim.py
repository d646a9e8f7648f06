"""The optimizers, written once: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW.

``step`` is the pure update the gradient-descent page shows term by term; ``update_`` is the
same formula in place on a flat parameter vector (``Flat`` holds its running buffers), used
by every topic that trains by hand (the GAN, the playground). Both are checked step for step
against ``torch.optim`` (``reference_optimizer``). ``run`` follows an optimizer on one of the
2-D loss surfaces of ``dl_core.surfaces`` (re-exported here, with the closed-form rates).

Symbols follow the page (and ``dl_core.notation``): parameters ``theta``, gradient ``g``,
learning rate ``lr`` (eta), momentum ``beta`` with velocity ``v``, first and second moments
``m`` and ``s`` (the Adam paper's v is called ``s`` here to keep ``v`` for velocity),
bias-corrected moments ``m_hat`` / ``s_hat``, accumulated squares ``G`` (AdaGrad),
RMSProp's decay rho (torch's ``alpha``), AdamW's weight decay alpha (torch's
``weight_decay``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from dl_core.device import pick
from dl_core.surfaces import (  # noqa: F401  (re-exported: pages import them from here)
    SURFACES,
    RateMap,
    SurfaceConfig,
    SurfaceInfo,
    _radius,
    curvature,
    gd_optimum,
    gd_rate,
    gradient,
    grid,
    hessian,
    momentum_matrix,
    momentum_optimum,
    momentum_rate,
    quadratic_matrix,
    rate_map,
    stability_limit,
    surface_info,
    value,
)
from dl_core.training import check_choice, check_range, timer

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
OPTIMIZER_LABELS = {
    "sgd": "SGD",
    "momentum": "Momentum",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
    "adamw": "AdamW",
}
MAX_STEPS = 2000
DIVERGENCE_RADIUS = 1e6  # |theta| beyond this counts as diverged (far off every plot)

# ---------------------------------------------------------------------------
# Optimizers, hand-written
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd"  # one of OPTIMIZERS
    lr: float = 0.1  # eta, the learning rate
    momentum: float = 0.9  # beta, for momentum and Nesterov
    beta1: float = 0.9  # Adam / AdamW: decay of the first moment m
    beta2: float = 0.999  # Adam / AdamW: decay of the second moment s
    alpha: float = 0.99  # RMSProp: decay rho of the running mean of g^2 (torch's name: alpha)
    eps: float = 1e-8  # added to the denominator of adaptive methods
    weight_decay: float = 0.01  # AdamW only: decoupled weight decay alpha

    def __post_init__(self) -> None:
        check_choice("optimizer", self.name, OPTIMIZERS)
        check_range("learning rate", self.lr, 0.0, 100.0)
        check_range("momentum", self.momentum, 0.0, 0.9999)
        check_range("beta1", self.beta1, 0.0, 0.9999)
        check_range("beta2", self.beta2, 0.0, 0.99999)
        check_range("alpha", self.alpha, 0.0, 0.99999)
        check_range("epsilon", self.eps, 0.0, 1.0)
        check_range("weight decay", self.weight_decay, 0.0, 1.0)


State = dict[str, torch.Tensor]


def init_state(cfg: OptimConfig, theta: torch.Tensor) -> State:
    """Zero buffers for the optimizer's running quantities."""
    z = torch.zeros_like(theta)
    return {
        "sgd": {},
        "momentum": {"v": z},
        "nesterov": {"v": z},
        "adagrad": {"G": z},
        "rmsprop": {"s": z},
        "adam": {"m": z, "s": z},
        "adamw": {"m": z, "s": z},
    }[cfg.name]


def step(
    cfg: OptimConfig, theta: torch.Tensor, g: torch.Tensor, state: State, k: int
) -> tuple[torch.Tensor, State, dict[str, torch.Tensor]]:
    """One update at step k (1-based). Returns the new theta, the new state and
    every term of the update by its symbol, for the page to show.

    Conventions follow ``torch.optim`` exactly (see ``reference_optimizer``)."""
    lr = cfg.lr
    if cfg.name == "sgd":
        delta = -lr * g
        return theta + delta, {}, {"g": g, "delta": delta}
    if cfg.name == "momentum":
        v = cfg.momentum * state["v"] + g  # v_k = beta v_{k-1} + g_k (torch.optim.SGD's form)
        delta = -lr * v
        return theta + delta, {"v": v}, {"g": g, "v": v, "delta": delta}
    if cfg.name == "nesterov":
        v = cfg.momentum * state["v"] + g
        look = g + cfg.momentum * v  # gradient plus a look-ahead along the new velocity
        delta = -lr * look
        return theta + delta, {"v": v}, {"g": g, "v": v, "look": look, "delta": delta}
    if cfg.name == "adagrad":
        G = state["G"] + g * g  # running sum of squared gradients
        delta = -lr * g / (G.sqrt() + cfg.eps)
        return theta + delta, {"G": G}, {"g": g, "G": G, "delta": delta}
    if cfg.name == "rmsprop":
        s = cfg.alpha * state["s"] + (1 - cfg.alpha) * g * g
        delta = -lr * g / (s.sqrt() + cfg.eps)
        return theta + delta, {"s": s}, {"g": g, "s": s, "delta": delta}
    # adam / adamw
    decayed = theta * (1 - lr * cfg.weight_decay) if cfg.name == "adamw" else theta
    m = cfg.beta1 * state["m"] + (1 - cfg.beta1) * g
    s = cfg.beta2 * state["s"] + (1 - cfg.beta2) * g * g
    m_hat = m / (1 - cfg.beta1**k)  # bias correction: m starts at 0
    s_hat = s / (1 - cfg.beta2**k)
    adaptive = -lr * m_hat / (s_hat.sqrt() + cfg.eps)
    new = decayed + adaptive
    terms = {"g": g, "m": m, "s": s, "m_hat": m_hat, "s_hat": s_hat, "delta": new - theta}
    if cfg.name == "adamw":
        terms["decay"] = decayed - theta
    return new, {"m": m, "s": s}, terms


REFERENCE_NAMES = {
    "sgd": "torch.optim.SGD",
    "momentum": "torch.optim.SGD(momentum=β)",
    "nesterov": "torch.optim.SGD(momentum=β, nesterov=True)",
    "adagrad": "torch.optim.Adagrad",
    "rmsprop": "torch.optim.RMSprop",
    "adam": "torch.optim.Adam",
    "adamw": "torch.optim.AdamW",
}


def reference_optimizer(cfg: OptimConfig, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer that ``step`` must match, same hyperparameters."""
    o = torch.optim
    if cfg.name == "sgd":
        return o.SGD(params, lr=cfg.lr)
    if cfg.name in ("momentum", "nesterov"):
        return o.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.name == "nesterov")
    if cfg.name == "adagrad":
        return o.Adagrad(params, lr=cfg.lr, eps=cfg.eps)
    if cfg.name == "rmsprop":
        return o.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps)
    if cfg.name == "adam":
        return o.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)
    return o.AdamW(
        params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, weight_decay=cfg.weight_decay
    )


# ---------------------------------------------------------------------------
# The same updates in place, for the topics that train by hand (the GAN, the playground)
# ---------------------------------------------------------------------------


@dataclass
class Flat:
    """One optimizer over one flat parameter vector: its settings, the steps done so far (k)
    and its running buffers (v, G, m, s as in ``step``), updated in place by ``update_``."""

    cfg: OptimConfig
    k: int = 0
    state: State = field(default_factory=dict)


def update_(opt: Flat, theta: torch.Tensor, g: torch.Tensor) -> None:
    """One update of ``theta`` in place from its gradient ``g``: ``step``'s formulas (and
    torch.optim's) written with in-place ops, without the terms the page shows."""
    c = opt.cfg
    opt.k += 1
    if not opt.state:  # one zero buffer each (init_state shares one zero tensor)
        opt.state = {key: torch.zeros_like(theta) for key in init_state(c, theta)}
    st, lr = opt.state, c.lr
    if c.name == "sgd":
        theta.add_(g, alpha=-lr)  # theta -= lr g
    elif c.name in ("momentum", "nesterov"):
        st["v"].mul_(c.momentum).add_(g)  # v = beta v + g
        if c.name == "momentum":
            theta.add_(st["v"], alpha=-lr)  # theta -= lr v
        else:
            theta.add_(g, alpha=-lr).add_(st["v"], alpha=-lr * c.momentum)  # -= lr (g + beta v)
    elif c.name == "adagrad":
        st["G"].addcmul_(g, g)  # G += g^2
        theta.addcdiv_(g, st["G"].sqrt().add_(c.eps), value=-lr)
    elif c.name == "rmsprop":
        st["s"].mul_(c.alpha).addcmul_(g, g, value=1 - c.alpha)  # s = rho s + (1 - rho) g^2
        theta.addcdiv_(g, st["s"].sqrt().add_(c.eps), value=-lr)
    else:  # adam / adamw
        if c.name == "adamw":
            theta.mul_(1 - lr * c.weight_decay)  # decoupled decay: (1 - lr alpha) theta
        st["m"].lerp_(g, 1 - c.beta1)  # m = b1 m + (1 - b1) g
        st["s"].mul_(c.beta2).addcmul_(g, g, value=1 - c.beta2)  # s = b2 s + (1 - b2) g^2
        bc1, bc2 = 1 - c.beta1**opt.k, 1 - c.beta2**opt.k  # bias corrections
        denom = st["s"].sqrt().div_(math.sqrt(bc2)).add_(c.eps)  # sqrt(s_hat) + eps
        theta.addcdiv_(st["m"], denom, value=-lr / bc1)  # theta -= lr m_hat / denom


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    surface: SurfaceConfig = field(default_factory=SurfaceConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    start: tuple[float, float] = (-2.5, 1.5)  # theta_0
    steps: int = 100  # number of updates

    def __post_init__(self) -> None:
        check_range("steps", self.steps, 1, MAX_STEPS)
        for c in self.start:
            check_range("start coordinate", c, -10.0, 10.0)

    @classmethod
    def tiny(cls) -> RunConfig:
        return cls(optim=OptimConfig(name="sgd", lr=0.05), steps=10)


@dataclass(frozen=True)
class Trajectory:
    config: RunConfig
    theta: np.ndarray  # (K+1, 2): theta_0 .. theta_K, K <= steps (shorter when diverged)
    loss: np.ndarray  # (K+1,): f(theta_k)
    terms: dict[str, np.ndarray]  # symbol -> (K, 2): the terms of update k = 1..K
    diverged_at: int | None  # first step k whose theta is non-finite or beyond DIVERGENCE_RADIUS
    device: str
    seconds: float

    @property
    def step_size(self) -> np.ndarray:
        """||theta_k - theta_{k-1}||, shape (K,)."""
        return np.linalg.norm(np.diff(self.theta, axis=0), axis=1)


def run(cfg: RunConfig) -> Trajectory:
    """Run the hand-written optimizer from ``cfg.start`` for ``cfg.steps`` steps.

    Divergence is data: the run stops at the first step whose parameters are
    non-finite or farther than DIVERGENCE_RADIUS from the origin, and reports it
    in ``diverged_at``."""
    dev = pick(small=True)  # 2 numbers per step: a GPU launch costs more than the math
    with torch.no_grad(), timer() as t:
        theta = torch.tensor(cfg.start, dtype=torch.float64, device=dev)  # (2,)
        state = init_state(cfg.optim, theta)
        thetas, losses = [theta], [value(cfg.surface, theta)]
        terms: dict[str, list[torch.Tensor]] = {}
        diverged_at = None
        for k in range(1, cfg.steps + 1):
            g = gradient(cfg.surface, theta)
            theta, state, step_terms = step(cfg.optim, theta, g, state, k)
            for name, val in step_terms.items():
                terms.setdefault(name, []).append(val)
            loss = value(cfg.surface, theta)
            norm = float(theta.norm())
            if not math.isfinite(norm) or norm > DIVERGENCE_RADIUS:
                diverged_at = k
                if not (math.isfinite(norm) and math.isfinite(float(loss))):
                    for lst in terms.values():  # keep only finite points for the plots
                        lst.pop()
                    break
            thetas.append(theta)
            losses.append(loss)
            if diverged_at is not None:
                break
    return Trajectory(
        config=cfg,
        theta=torch.stack(thetas).cpu().numpy(),
        loss=torch.stack(losses).cpu().numpy(),
        terms={
            n: torch.stack(v).cpu().numpy() if v else np.zeros((0, 2)) for n, v in terms.items()
        },
        diverged_at=diverged_at,
        device=dev.type,
        seconds=t[0],
    )


def run_reference(cfg: RunConfig) -> np.ndarray:
    """theta_0 .. theta_K from ``torch.optim`` with autograd, shape (K+1, 2).

    The proof on the page: its max |difference| from ``run(cfg).theta``."""
    theta = torch.tensor(cfg.start, dtype=torch.float64, requires_grad=True)
    opt = reference_optimizer(cfg.optim, [theta])
    out = [theta.detach().clone()]
    for _ in range(cfg.steps):
        opt.zero_grad()
        value(cfg.surface, theta).backward()
        opt.step()
        out.append(theta.detach().clone())
        n = float(theta.detach().norm())
        if not math.isfinite(n) or n > DIVERGENCE_RADIUS:
            break
    return torch.stack(out).numpy()


def measured_rate(traj: Trajectory, theta_star: tuple[float, float] = (0.0, 0.0)) -> float:
    """The rate a run achieved: (|e_K| / |e_K/2|)^(1 / (K - K/2)), e_k = theta_k - theta*, over
    the second half of the run (the first steps are transients). NaN when too short or when
    the error reached 0."""
    d = traj.theta - np.asarray(theta_star)
    e = np.hypot(d[:, 0], d[:, 1])  # |e_k| without squaring: e_k reaches 1e-180 and below
    K = len(e) - 1
    half = K // 2
    if K - half < 2 or not (e[half] > 0 and e[K] > 0):
        return float("nan")
    return float((e[K] / e[half]) ** (1 / (K - half)))


def diagnose(traj: Trajectory) -> str | None:
    """A one-line lesson when the run diverged, else None (Markdown with LaTeX)."""
    if traj.diverged_at is None:
        return None
    cfg = traj.config
    o = cfg.optim
    msg = f"{OPTIMIZER_LABELS[o.name]} diverged at step {traj.diverged_at}"
    quadratic = cfg.surface.name == "quadratic"
    lam_max = cfg.surface.condition if quadratic else curvature(cfg.surface, cfg.start)[1]
    limit = stability_limit(o.name, o.momentum, lam_max) if lam_max > 0 else None
    if limit is None or o.lr <= limit:
        return f"{msg}: the steps overshoot into ever steeper regions; lower the learning rate."
    where = (
        "the largest eigenvalue of $H$"
        if quadratic
        else "the largest curvature at the start; it changes along the path"
    )
    bound = {
        "sgd": r"2/\lambda_{\max}",
        "momentum": r"2(1+\beta)/\lambda_{\max}",
        "nesterov": r"2(1+\beta)/((1+2\beta)\lambda_{\max})",
    }[o.name]
    text = (
        f"{msg}: $\\eta = {o.lr:g}$ exceeds ${bound} = {limit:.4g}$ "
        f"($\\lambda_{{\\max}} = {lam_max:.4g}$, {where})"
    )
    if o.name == "sgd":
        text += (
            f", so each step{'' if quadratic else ' near the start'} multiplies the error along "
            f"that eigenvector by $|1 - \\eta\\lambda_{{\\max}}| = {abs(1 - o.lr * lam_max):.3g} > 1$"
        )
    return text + "."


def bench() -> list[dict]:
    """Adam on Rosenbrock to f < 1e-3, and the gradient-descent page's default computation."""
    cfg = RunConfig(SurfaceConfig("rosenbrock"), OptimConfig("adam", lr=0.2), (-1.2, 1.0), 1000)
    t = run(cfg)
    below = np.nonzero(t.loss < 1e-3)[0]
    records = [
        {
            "topic": "optim", "task": "adam_rosenbrock", "metric": "final_loss", "target": 1e-3,
            "value": float(t.loss[-1]), "reached": bool(t.loss[-1] < 1e-3), "seconds": t.seconds,
            "steps": int(below[0]) if len(below) else None,
        }
    ]  # fmt: skip
    surface = SurfaceConfig()
    with timer() as page:
        for name in ("sgd", "momentum", "adam"):
            run(RunConfig(surface, OptimConfig(name, lr=0.05), surface_info(surface).start, 100))
        grid(surface)
    records.append(
        {
            "topic": "optim", "task": "gd_page_default", "metric": "compute_ms", "target": None,
            "value": page[0] * 1000, "reached": None, "seconds": page[0], "steps": 300,
        }
    )  # fmt: skip
    return records
