"""Information: entropy, cross-entropy, KL and JS of discrete distributions, the KL between
two Gaussians, and one Gaussian fitted to a two-peaked mixture by forward and reverse KL."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dl_core.toolkit.probability import normal_pdf
from dl_core.training import check_choice, check_range

UNITS = {"bits": 2.0, "nats": math.e}


def normalise(weights) -> tuple[np.ndarray, bool]:
    """Probabilities from non-negative weights; (uniform, True) when every weight is 0."""
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    if w.sum() <= 0:
        return np.full(len(w), 1 / len(w)), True
    return w / w.sum(), False


def _log(x: np.ndarray, base: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x) / math.log(base)


def entropy(P: np.ndarray, base: float = math.e) -> float:
    """H(P) = −Σ P(x) log P(x), with 0 log 0 = 0."""
    P = np.asarray(P, dtype=np.float64)
    return float(-np.sum(np.where(P > 0, P * _log(np.where(P > 0, P, 1), base), 0.0)))


def cross_entropy(P: np.ndarray, Q: np.ndarray, base: float = math.e) -> float:
    """H(P, Q) = −Σ P(x) log Q(x): infinite when Q(x) = 0 where P(x) > 0."""
    P, Q = np.asarray(P, dtype=np.float64), np.asarray(Q, dtype=np.float64)
    if np.any((P > 0) & (Q <= 0)):
        return math.inf
    return float(-np.sum(np.where(P > 0, P * _log(np.where(P > 0, Q, 1), base), 0.0)))


def kl_terms(P: np.ndarray, Q: np.ndarray, base: float = math.e) -> np.ndarray:
    """P(x) log(P(x)/Q(x)) per outcome: 0 where P(x) = 0, +inf where only Q(x) = 0."""
    P, Q = np.asarray(P, dtype=np.float64), np.asarray(Q, dtype=np.float64)
    out = np.zeros_like(P)
    both = (P > 0) & (Q > 0)
    out[both] = P[both] * _log(P[both] / Q[both], base)
    out[(P > 0) & (Q <= 0)] = math.inf
    return out


def kl(P: np.ndarray, Q: np.ndarray, base: float = math.e) -> float:
    """D_KL(P‖Q) = Σ P(x) log(P(x)/Q(x)) = H(P, Q) − H(P)."""
    return float(np.sum(kl_terms(P, Q, base)))


def js(P: np.ndarray, Q: np.ndarray, base: float = math.e) -> float:
    """JS(P, Q) = ½ D_KL(P‖M) + ½ D_KL(Q‖M), M = (P + Q)/2: always finite, at most log 2."""
    M = (np.asarray(P) + np.asarray(Q)) / 2
    return 0.5 * kl(P, M, base) + 0.5 * kl(Q, M, base)


@dataclass(frozen=True)
class Information:
    H_P: float
    H_Q: float
    H_PQ: float  # cross-entropy H(P, Q)
    H_QP: float
    KL_PQ: float
    KL_QP: float
    JS: float
    terms_PQ: np.ndarray  # P(x) log(P(x)/Q(x)) per outcome
    terms_QP: np.ndarray
    base: float


def information(P: np.ndarray, Q: np.ndarray, unit: str = "bits") -> Information:
    check_choice("unit", unit, tuple(UNITS))
    b = UNITS[unit]
    return Information(
        entropy(P, b), entropy(Q, b), cross_entropy(P, Q, b), cross_entropy(Q, P, b),
        kl(P, Q, b), kl(Q, P, b), js(P, Q, b), kl_terms(P, Q, b), kl_terms(Q, P, b), b,
    )  # fmt: skip


def kl_gauss(mu1: float, s1: float, mu2: float, s2: float) -> float:
    """D_KL(N(μ₁, σ₁²)‖N(μ₂, σ₂²)) = log(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½, in nats."""
    return math.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5


# ---------------------------------------------------------------------------
# One Gaussian fitted to two peaks: forward KL covers, reverse KL picks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mixture:
    sep: float  # the peaks sit at −sep and +sep
    width: float  # each peak's standard deviation s
    left: float  # the weight w of the left peak (the right one has 1 − w)

    def __post_init__(self) -> None:
        check_range("separation", self.sep, 0.0, 10.0)
        check_range("peak width", self.width, 0.05, 10.0)
        check_range("weight of the left peak", self.left, 0.0, 1.0)

    def log_pdf(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = log(w N(x; −d, s²) + (1 − w) N(x; d, s²)), stable in the far tails."""
        s, d = self.width, self.sep
        logn = -0.5 * math.log(2 * math.pi * s * s)
        parts = [
            math.log(w) + logn - (x - c) ** 2 / (2 * s * s)
            for w, c in ((self.left, -d), (1 - self.left, d))
            if w > 0
        ]
        return torch.logsumexp(torch.stack(parts), 0)

    def moments(self) -> tuple[float, float]:
        """The mixture's mean and standard deviation: E x = (1 − 2w) d, Var x = s² + d² − (E x)²."""
        m = (1 - 2 * self.left) * self.sep
        return m, math.sqrt(self.width**2 + self.sep**2 - m * m)


@dataclass(frozen=True)
class Fit:
    mu: float
    sigma: float
    forward: float  # D_KL(p‖q) in nats
    reverse: float  # D_KL(q‖p) in nats


# E_q g = ∫ N(t; 0, 1) g(μ + σt) dt by the trapezoid rule on t ∈ [−12, 12]: the steps of
# σ/100 resolve the narrow bend of log p between two peaks (80-point Gauss–Hermite did not:
# 1.4% off for a wide q over two peaks of width 0.6).
_T = torch.linspace(-12.0, 12.0, 2401, dtype=torch.float64)
_W = torch.exp(-(_T**2) / 2) / math.sqrt(2 * math.pi) * (_T[1] - _T[0])


def _grid(mix: Mixture, n: int = 4001) -> torch.Tensor:
    half = mix.sep + 10 * mix.width
    return torch.linspace(-half, half, n, dtype=torch.float64)


def forward_kl(mix: Mixture, mu, sigma) -> torch.Tensor:
    """D_KL(p‖q) = ∫ p log p − ∫ p log q; the second integral is closed form for a Gaussian q:
    E_p log q = −½ log(2πσ²) − (Var_p + (E_p x − μ)²)/(2σ²)."""
    x = _grid(mix)
    lp = mix.log_pdf(x)
    neg_entropy = torch.trapezoid(lp.exp() * lp, x)
    m, sd = mix.moments()
    e_logq = -0.5 * torch.log(2 * math.pi * sigma**2) - (sd**2 + (m - mu) ** 2) / (2 * sigma**2)
    return neg_entropy - e_logq


def reverse_kl(mix: Mixture, mu, sigma) -> torch.Tensor:
    """D_KL(q‖p) = −H(q) − E_q log p, with H(q) = ½ log(2πeσ²) in closed form and E_q log p
    by quadrature over q (x = μ + σt)."""
    e_logp = (_W * mix.log_pdf(mu + sigma * _T)).sum()
    return -0.5 * torch.log(2 * math.pi * math.e * sigma**2) - e_logp


def _derivatives(value: Callable, theta: torch.Tensor):
    """The value, gradient (2,) and Hessian (2, 2) of ``value`` at ``theta`` by autograd."""
    t = theta.clone().requires_grad_(True)
    loss = value(t)
    (g,) = torch.autograd.grad(loss, t, create_graph=True)
    H = torch.stack([torch.autograd.grad(g[i], t, retain_graph=True)[0] for i in range(2)])
    return loss.detach(), g.detach(), H.detach()


def minimise(objective: Callable, mix: Mixture, mu0: float, sigma0: float, iters: int = 100):
    """Minimise ``objective(mix, μ, σ)`` over (μ, log σ) by damped Newton steps: autograd
    gradient and Hessian, the Hessian shifted to positive definite where it is not, the
    step halved until the objective falls enough. Returns (μ, σ)."""
    theta = torch.tensor([mu0, math.log(sigma0)], dtype=torch.float64)

    def value(t: torch.Tensor) -> torch.Tensor:
        return objective(mix, t[0], t[1].exp())

    for _ in range(iters):
        with torch.enable_grad():  # grad mode is per thread: a caller may have turned it off
            loss, g, H = _derivatives(value, theta)
        if float(g.norm()) < 1e-8:  # below, round-off of the quadrature
            break
        lam = torch.linalg.eigvalsh(H)  # shift a Hessian that is not positive definite
        shift = max(0.0, 1e-3 * float(lam.abs().max()) - float(lam.min()))
        step = -torch.linalg.solve(H + shift * torch.eye(2, dtype=H.dtype), g)
        rate = 1.0
        with torch.no_grad():
            while rate > 1e-8 and not value(theta + rate * step) < loss + 1e-4 * rate * (g @ step):
                rate /= 2
        if rate <= 1e-8:
            break
        theta = theta + rate * step
    return float(theta[0]), float(theta[1].exp())


def fit_at(mix: Mixture, mu: float, sigma: float) -> Fit:
    """Both divergences between the mixture p and the Gaussian q = N(μ, σ²)."""
    with torch.no_grad():
        m, s = torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)
        return Fit(mu, sigma, float(forward_kl(mix, m, s)), float(reverse_kl(mix, m, s)))


@dataclass(frozen=True)
class MixtureFits:
    mix: Mixture
    forward: Fit  # argmin D_KL(p‖q): moment matching, one wide q over both peaks
    reverse: Fit  # argmin D_KL(q‖p): the better of the two local minima found
    reverse_other: Fit  # the fit from the other peak's side (the same one when there is one)


def fit_mixture(mix: Mixture) -> MixtureFits:
    """Fit one Gaussian to the mixture both ways. Forward KL is minimised by matching the
    mean and variance (closed form); reverse KL is minimised numerically, once from each
    peak, since it has a local minimum at each well-separated peak."""
    m, sd = mix.moments()
    fwd = fit_at(mix, m, sd)
    starts = [(-mix.sep, mix.width), (mix.sep, mix.width)]
    runs = sorted(
        (fit_at(mix, *minimise(reverse_kl, mix, *s)) for s in starts), key=lambda f: f.reverse
    )
    return MixtureFits(mix, fwd, runs[0], runs[1])


def mixture_curves(mix: Mixture, fits: MixtureFits, n: int = 400):
    """x (n,), p(x), q_forward(x), q_reverse(x) for the chart."""
    half = mix.sep + 4 * max(mix.width, fits.forward.sigma / 2)
    x = np.linspace(-half, half, n)
    with torch.no_grad():
        p = mix.log_pdf(torch.as_tensor(x)).exp().numpy()
    qf = normal_pdf(x, fits.forward.mu, fits.forward.sigma)
    qr = normal_pdf(x, fits.reverse.mu, fits.reverse.sigma)
    return x, p, qf, qr
