"""Gradient descent and its descendants on 2-D loss surfaces.

Everything here is hand-written with tensor ops and checked in the tests,
step for step, against ``torch.optim`` (``reference_optimizer``) and, for the
surfaces, against autograd.

Symbols follow the page (and ``dl_core.notation``): parameters ``theta`` (a 2-vector),
gradient ``g``, learning rate ``lr`` (eta), momentum ``beta`` with velocity ``v``, first and
second moments ``m`` and ``s`` (the Adam paper's v is called ``s`` here to keep ``v`` for
velocity), bias-corrected moments ``m_hat`` / ``s_hat``, accumulated squares ``G``
(AdaGrad), RMSProp's decay rho (torch's ``alpha``), AdamW's weight decay alpha (torch's
``weight_decay``). The curvatures of a quadratic are the Hessian's eigenvalues lambda_min,
lambda_max (the literature's mu and L), kappa = lambda_max / lambda_min.

``gd_rate``, ``momentum_rate`` and their optima give the convergence rate of plain gradient
descent and of heavy-ball momentum on a quadratic in closed form, vectorised over (eta, beta).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from dl_core.device import pick
from dl_core.training import check_choice, check_range, timer

SURFACES = ("quadratic", "rosenbrock", "himmelblau", "saddle", "beale")
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
# Surfaces
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SurfaceConfig:
    name: str = "quadratic"  # one of SURFACES
    condition: float = 10.0  # quadratic only: kappa = lambda_max / lambda_min of the Hessian
    angle_deg: float = 0.0  # quadratic only: rotation of the valley's axes, in degrees

    def __post_init__(self) -> None:
        check_choice("surface", self.name, SURFACES)
        check_range("condition number", self.condition, 1.0, 1000.0)
        check_range("angle", self.angle_deg, -180.0, 180.0)


@dataclass(frozen=True)
class SurfaceInfo:
    title: str
    formula: str  # LaTeX of f(x, y)
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]  # a start point that shows the surface's character
    minima: tuple[tuple[float, float], ...]
    f_min: float


def surface_info(cfg: SurfaceConfig) -> SurfaceInfo:
    """Plot ranges, default start, minima and the formula of a surface."""
    if cfg.name == "quadratic":
        return SurfaceInfo(
            "Quadratic bowl",
            r"\begin{gathered}f(\theta) = \tfrac12\,(\theta-\theta^*)^\top H\,(\theta-\theta^*),"
            r"\quad \theta^* = 0,\\ H = R \begin{pmatrix}1 & 0\\ 0 & \kappa\end{pmatrix} R^\top"
            r"\end{gathered}",
            (-3.0, 3.0), (-3.0, 3.0), (-2.5, 1.5), ((0.0, 0.0),), 0.0,
        )  # fmt: skip
    if cfg.name == "rosenbrock":
        return SurfaceInfo(
            "Rosenbrock's banana valley",
            r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
            (-2.0, 2.0), (-1.0, 3.0), (-1.2, 1.0), ((1.0, 1.0),), 0.0,
        )  # fmt: skip
    if cfg.name == "himmelblau":
        return SurfaceInfo(
            "Himmelblau (four minima)",
            r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            (-5.0, 5.0), (-5.0, 5.0), (0.0, 0.0),
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            0.0,
        )  # fmt: skip
    if cfg.name == "saddle":
        return SurfaceInfo(
            "Saddle point at the origin",
            r"f(x, y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2",
            (-2.0, 2.0), (-2.0, 2.0), (1.8, 0.02), ((0.0, 1.0), (0.0, -1.0)), -0.25,
        )  # fmt: skip
    return SurfaceInfo(
        "Beale (flat plateaus, steep walls)",
        r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), ((3.0, 0.5),), 0.0,
    )  # fmt: skip


def quadratic_matrix(cfg: SurfaceConfig) -> torch.Tensor:
    """The quadratic's Hessian H = R diag(1, kappa) R^T (R: rotation by the valley's angle),
    shape (2, 2), float64: lambda_min = 1, lambda_max = kappa."""
    phi = math.radians(cfg.angle_deg)
    c, s = math.cos(phi), math.sin(phi)
    R = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    D = torch.diag(torch.tensor([1.0, cfg.condition], dtype=torch.float64))
    return R @ D @ R.T


def value(cfg: SurfaceConfig, theta: torch.Tensor) -> torch.Tensor:
    """f(theta) for theta of shape (..., 2); returns shape (...)."""
    x, y = theta[..., 0], theta[..., 1]
    if cfg.name == "quadratic":
        A = quadratic_matrix(cfg).to(theta)
        return 0.5 * torch.einsum("...i,ij,...j->...", theta, A, theta)
    if cfg.name == "rosenbrock":
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    if cfg.name == "himmelblau":
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2
    if cfg.name == "saddle":
        return x**2 + 0.25 * y**4 - 0.5 * y**2
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def gradient(cfg: SurfaceConfig, theta: torch.Tensor) -> torch.Tensor:
    """Analytic gradient of ``value``, shape (..., 2)."""
    x, y = theta[..., 0], theta[..., 1]
    if cfg.name == "quadratic":
        return theta @ quadratic_matrix(cfg).to(theta)  # A symmetric: A theta
    if cfg.name == "rosenbrock":
        dx = -2 * (1 - x) - 400 * x * (y - x**2)
        dy = 200 * (y - x**2)
    elif cfg.name == "himmelblau":
        a, b = x**2 + y - 11, x + y**2 - 7
        dx = 4 * x * a + 2 * b
        dy = 2 * a + 4 * y * b
    elif cfg.name == "saddle":
        dx = 2 * x
        dy = y**3 - y
    else:
        r1, r2, r3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
        dx = 2 * r1 * (y - 1) + 2 * r2 * (y**2 - 1) + 2 * r3 * (y**3 - 1)
        dy = 2 * r1 * x + 2 * r2 * 2 * x * y + 2 * r3 * 3 * x * y**2
    return torch.stack([dx, dy], dim=-1)


def hessian(cfg: SurfaceConfig, theta: tuple[float, float]) -> np.ndarray:
    """The 2x2 Hessian at ``theta`` (by autograd through ``value``)."""
    t = torch.tensor(theta, dtype=torch.float64)
    H = torch.autograd.functional.hessian(lambda p: value(cfg, p), t)
    return H.numpy()


def curvature(cfg: SurfaceConfig, theta: tuple[float, float]) -> tuple[float, float]:
    """Eigenvalues (lambda_min, lambda_max) of the Hessian at ``theta``.

    On the quadratic, lambda_max = kappa and plain gradient descent is stable exactly when
    lr < 2 / lambda_max: along the eigenvector of lambda the error is multiplied by
    (1 - lr * lambda) at every step."""
    ev = np.linalg.eigvalsh(hessian(cfg, theta))
    return float(ev[0]), float(ev[-1])


def grid(cfg: SurfaceConfig, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs (n,), ys (n,), f on the grid (n, n) indexed [y, x], for contour plots."""
    info = surface_info(cfg)
    xs = torch.linspace(*info.xlim, n, dtype=torch.float64)
    ys = torch.linspace(*info.ylim, n, dtype=torch.float64)
    Y, X = torch.meshgrid(ys, xs, indexing="ij")  # (n, n) each
    F = value(cfg, torch.stack([X, Y], dim=-1))  # (n, n)
    return xs.numpy(), ys.numpy(), F.numpy()


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


# ---------------------------------------------------------------------------
# Convergence rates on a quadratic, in closed form
# ---------------------------------------------------------------------------
# On f(theta) = 1/2 (theta - theta*)^T H (theta - theta*) the error e = theta - theta* evolves
# linearly and splits into H's eigen-directions: along the eigenvector of lambda, gradient
# descent multiplies e by (1 - lr lambda) each step. Heavy-ball momentum in torch's form,
#   v_k = beta v_{k-1} + g_k,   theta_k = theta_{k-1} - lr v_k,
# gives (with lr v_k = theta_{k-1} - theta_k) the two-step recursion
#   e_{k+1} = (1 + beta - lr lambda) e_k - beta e_{k-1},
# i.e. (e_{k+1}, e_k) = M_lambda (e_k, e_{k-1}) with M_lambda = [[1 + beta - lr lambda, -beta],
# [1, 0]]. The error shrinks like rate^k, rate = max over lambda of M_lambda's spectral radius
# (Goh, "Why Momentum Really Works", Distill 2017). A 2-D quadratic has two eigenvalues, so
# the max over {lambda_min, lambda_max} is exact.


def gd_rate(lr, lam_min: float, lam_max: float) -> np.ndarray:
    """max(|1 - lr lambda_min|, |1 - lr lambda_max|): the factor by which one gradient step
    shrinks (at worst) the distance to the minimum of a quadratic; below 1 exactly when
    0 < lr < 2 / lambda_max. Vectorised over ``lr``."""
    lr = np.asarray(lr, dtype=np.float64)
    return np.maximum(np.abs(1 - lr * lam_min), np.abs(1 - lr * lam_max))


def gd_optimum(lam_min: float, lam_max: float) -> tuple[float, float]:
    """(lr*, rate*) = (2 / (lambda_max + lambda_min), (kappa - 1) / (kappa + 1)): the fixed
    step where the two directions' factors are equal and opposite, and its rate."""
    kappa = lam_max / lam_min
    return 2 / (lam_max + lam_min), (kappa - 1) / (kappa + 1)


def momentum_matrix(lr: float, beta: float, lam: float) -> np.ndarray:
    """M_lambda (2, 2): (e_{k+1}, e_k) = M_lambda (e_k, e_{k-1}) along the eigenvector of
    lambda, for heavy-ball momentum in torch.optim.SGD's form (see above)."""
    return np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])


def _radius(lr: np.ndarray, beta: np.ndarray, lam: float) -> np.ndarray:
    """Spectral radius of M_lambda: its eigenvalues nu are the roots of nu^2 - a nu + beta,
    a = 1 + beta - lr lambda (trace a, determinant beta)."""
    a = 1 + beta - lr * lam
    disc = a * a - 4 * beta
    real = (np.abs(a) + np.sqrt(np.maximum(disc, 0.0))) / 2  # two real roots of a's sign
    return np.where(disc < 0, np.sqrt(beta), real)  # complex pair: |nu|^2 = nu nu-bar = beta


def momentum_rate(lr, beta, lam_min: float, lam_max: float) -> np.ndarray:
    """The convergence rate of heavy-ball momentum on a quadratic: max over lambda_min and
    lambda_max of the spectral radius of M_lambda. The error shrinks like rate^k (an
    asymptotic rate: the first steps can grow before they shrink); below 1 exactly when
    0 < lr < 2 (1 + beta) / lambda_max. Vectorised: ``lr`` and ``beta`` broadcast (a grid of
    200 x 200 cells costs about a millisecond). beta = 0 gives ``gd_rate``."""
    lr, beta = np.broadcast_arrays(
        np.asarray(lr, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    )
    return np.maximum(_radius(lr, beta, lam_min), _radius(lr, beta, lam_max))


def momentum_optimum(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """(lr*, beta*, rate*) = ((2 / (sqrt(lambda_max) + sqrt(lambda_min)))^2,
    ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2, (sqrt(kappa) - 1) / (sqrt(kappa) + 1)): both
    directions critically damped, the smallest rate of the map."""
    rk = math.sqrt(lam_max / lam_min)
    lr = (2 / (math.sqrt(lam_max) + math.sqrt(lam_min))) ** 2
    return lr, ((rk - 1) / (rk + 1)) ** 2, (rk - 1) / (rk + 1)


def stability_limit(name: str, beta: float, lam_max: float) -> float | None:
    """The largest stable learning rate on a quadratic with top curvature lambda_max:
    2/lambda_max (SGD), 2(1 + beta)/lambda_max (heavy-ball momentum),
    2(1 + beta)/((1 + 2 beta) lambda_max) (Nesterov, torch's form: its characteristic
    polynomial is t^2 - (1 + beta)(1 - lr lambda) t + beta (1 - lr lambda)). None for the
    adaptive methods, whose step is not a fixed multiple of the gradient."""
    if name == "sgd":
        return 2 / lam_max
    if name == "momentum":
        return 2 * (1 + beta) / lam_max
    if name == "nesterov":
        return 2 * (1 + beta) / ((1 + 2 * beta) * lam_max)
    return None


@dataclass(frozen=True)
class RateMap:
    lrs: np.ndarray  # (n_lr,) from 0 to 4 / lambda_max (beyond it every beta < 1 diverges)
    betas: np.ndarray  # (n_beta,) from 0 to 0.99
    rate: np.ndarray  # (n_beta, n_lr) momentum_rate, indexed [beta, lr]


def rate_map(lam_min: float, lam_max: float, n_lr: int = 200, n_beta: int = 200) -> RateMap:
    """momentum_rate over a grid of (lr, beta), for the heat map."""
    lrs = np.linspace(0.0, 4.0 / lam_max, n_lr)
    betas = np.linspace(0.0, 0.99, n_beta)
    return RateMap(lrs, betas, momentum_rate(lrs[None, :], betas[:, None], lam_min, lam_max))


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
