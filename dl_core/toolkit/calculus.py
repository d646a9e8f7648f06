"""Derivatives: functions of (x, y) with hand-written gradients, the directional derivative,
and central and forward finite differences with the laws of their errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dl_core.training import check_choice, check_range

EPS_MACHINE = float(np.finfo(np.float64).eps)  # 2.2e-16: the relative round-off of a float64


@dataclass(frozen=True)
class Function2:
    title: str
    latex: str  # f(x, y) = ...
    grad_latex: str  # ∇f = (∂f/∂x, ∂f/∂y) = ...
    f: Callable[[Any, Any, Any], Any]  # f(x, y, m) with m = numpy or torch (same code)
    grad: Callable[[float, float], tuple[float, float]]  # hand-written ∂f/∂x, ∂f/∂y


def _lse(x, y, m):
    top = m.maximum(x, y)
    return top + m.log(m.exp(x - top) + m.exp(y - top))


FUNCTIONS: dict[str, Function2] = {
    "waves": Function2(
        "Waves", r"f(x, y) = \sin x \cos y",
        r"\nabla f = \begin{pmatrix}\cos x \cos y\\ -\sin x \sin y\end{pmatrix}",
        lambda x, y, m: m.sin(x) * m.cos(y),
        lambda x, y: (math.cos(x) * math.cos(y), -math.sin(x) * math.sin(y)),
    ),
    "hill": Function2(
        "A hill and a hole", r"f(x, y) = x\, e^{-(x^2 + y^2)/2}",
        r"\nabla f = e^{-(x^2+y^2)/2}\begin{pmatrix}1 - x^2\\ -x y\end{pmatrix}",
        lambda x, y, m: x * m.exp(-(x * x + y * y) / 2),
        lambda x, y: (
            (1 - x * x) * math.exp(-(x * x + y * y) / 2), -x * y * math.exp(-(x * x + y * y) / 2),
        ),
    ),
    "bowl": Function2(
        "A bowl", r"f(x, y) = x^2 + 2y^2",
        r"\nabla f = \begin{pmatrix}2x\\ 4y\end{pmatrix}",
        lambda x, y, m: x * x + 2 * y * y,
        lambda x, y: (2 * x, 4 * y),
    ),
    "saddle": Function2(
        "A saddle", r"f(x, y) = x^2 - y^2",
        r"\nabla f = \begin{pmatrix}2x\\ -2y\end{pmatrix}",
        lambda x, y, m: x * x - y * y,
        lambda x, y: (2 * x, -2 * y),
    ),
    "logsumexp": Function2(
        "Log-sum-exp (softmax's potential)", r"f(x, y) = \log\left(e^{x} + e^{y}\right)",
        r"\nabla f = \frac{1}{e^x + e^y}\begin{pmatrix}e^{x}\\ e^{y}\end{pmatrix} = \operatorname{softmax}(x, y)",
        _lse,
        lambda x, y: (1 / (1 + math.exp(y - x)), 1 / (1 + math.exp(x - y))),
    ),
}  # fmt: skip


def function_grid(name: str, lim: float = 3.0, n: int = 101):
    """xs (n,), ys (n,), F (n, n) = f on [−lim, lim]², indexed [y, x]."""
    check_choice("function", name, tuple(FUNCTIONS))
    xs = np.linspace(-lim, lim, n)
    X, Y = np.meshgrid(xs, xs)
    return xs, xs, FUNCTIONS[name].f(X, Y, np)


def gradient_field(name: str, lim: float = 3.0, n: int = 13):
    """The gradient on an n x n grid: X, Y, GX, GY, each (n, n)."""
    g = np.vectorize(FUNCTIONS[name].grad)
    xs = np.linspace(-lim, lim, n)
    X, Y = np.meshgrid(xs, xs)
    GX, GY = g(X, Y)
    return X, Y, GX, GY


def along(name: str, x: float, y: float, u: tuple[float, float]) -> tuple[float, float, float]:
    """The first three derivatives of g(t) = f((x, y) + t u) at t = 0 (autograd, float64):
    D_u f, D_u² f, D_u³ f. The last two set the finite differences' error."""
    out = []
    with torch.enable_grad():  # grad mode is per thread: a caller may have turned it off
        t = torch.zeros((), dtype=torch.float64, requires_grad=True)
        g = FUNCTIONS[name].f(x + t * u[0], y + t * u[1], torch)
        for _ in range(3):
            if not g.requires_grad:  # a constant: this derivative and the next are 0
                g = torch.zeros((), dtype=torch.float64)
            else:
                (g,) = torch.autograd.grad(g, t, create_graph=True)
            out.append(float(g.detach()))
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class Directional:
    point: tuple[float, float]
    u: tuple[float, float]  # the unit direction (cos φ, sin φ)
    f: float  # f at the point
    grad: tuple[float, float]  # hand-written ∂f/∂x, ∂f/∂y
    exact: float  # D_u f = ∇f · u
    eps: float  # the finite-difference step ε
    f_plus: float  # f(x + ε u)
    f_minus: float  # f(x − ε u)
    central: float  # (f(x + εu) − f(x − εu)) / 2ε
    forward: float  # (f(x + εu) − f(x)) / ε
    d2: float  # D_u² f: sets the forward difference's error ε/2 |D_u² f|
    d3: float  # D_u³ f: sets the central difference's error ε²/6 |D_u³ f|
    partial_fd: tuple[float, float]  # central differences along x and along y

    @property
    def err_central(self) -> float:
        return abs(self.central - self.exact)

    @property
    def err_forward(self) -> float:
        return abs(self.forward - self.exact)

    @property
    def law_central(self) -> float:
        """The truncation error Taylor predicts: ε²/6 |D_u³ f|."""
        return self.eps**2 / 6 * abs(self.d3)

    @property
    def law_forward(self) -> float:
        return self.eps / 2 * abs(self.d2)

    @property
    def best_eps(self) -> float:
        """The step that balances truncation and round-off for the central difference:
        ε²/6 |D³f| + ε_machine |f|/ε is smallest at ε* = (3 ε_machine |f| / |D³f|)^(1/3)."""
        if abs(self.d3) < 1e-300:
            return math.inf
        return (3 * EPS_MACHINE * max(abs(self.f), 1e-300) / abs(self.d3)) ** (1 / 3)

    @property
    def roundoff(self) -> float:
        """The round-off of the difference: about ε_machine |f| / ε."""
        return EPS_MACHINE * max(abs(self.f_plus), abs(self.f_minus)) / self.eps


def central_difference(name: str, x: float, y: float, u, eps) -> Any:
    """(f(p + ε u) − f(p − ε u)) / 2ε, for a number or an array of steps ε."""
    f = FUNCTIONS[name].f
    return (f(x + eps * u[0], y + eps * u[1], np) - f(x - eps * u[0], y - eps * u[1], np)) / (
        2 * eps
    )


def forward_difference(name: str, x: float, y: float, u, eps) -> Any:
    f = FUNCTIONS[name].f
    return (f(x + eps * u[0], y + eps * u[1], np) - f(x, y, np)) / eps


def directional(name: str, x: float, y: float, angle_deg: float, eps: float) -> Directional:
    """Everything the Derivatives section shows at the point (x, y) along the direction at
    ``angle_deg``, with the finite-difference step ``eps``."""
    check_choice("function", name, tuple(FUNCTIONS))
    check_range("finite-difference step", eps, 1e-14, 10.0)
    fn = FUNCTIONS[name]
    u = (math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg)))
    gx, gy = fn.grad(x, y)
    _, d2, d3 = along(name, x, y, u)
    fp = float(fn.f(x + eps * u[0], y + eps * u[1], np))
    fm = float(fn.f(x - eps * u[0], y - eps * u[1], np))
    return Directional(
        (x, y), u, float(fn.f(x, y, np)), (gx, gy), gx * u[0] + gy * u[1], eps, fp, fm,
        (fp - fm) / (2 * eps), float(forward_difference(name, x, y, u, eps)), d2, d3,
        (float(central_difference(name, x, y, (1.0, 0.0), eps)),
         float(central_difference(name, x, y, (0.0, 1.0), eps))),
    )  # fmt: skip


def error_sweep(d: Directional, name: str, epss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|central − exact| and |forward − exact| for every step in ``epss``."""
    x, y = d.point
    c = central_difference(name, x, y, d.u, epss)
    f = forward_difference(name, x, y, d.u, epss)
    return np.abs(c - d.exact), np.abs(f - d.exact)
