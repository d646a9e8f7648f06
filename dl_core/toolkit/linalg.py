"""A 2 x 2 matrix as a map of the plane: eigenvalues, determinant, SVD, the quadratic
½ xᵀAx and its condition number (the Math toolkit's first section)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TOL = 1e-12  # below this a slider-grid number is an exact 0 (a repeated root, a singular A)


def matrix(a11: float, a12: float, a21: float, a22: float) -> np.ndarray:
    """A = [[a11, a12], [a21, a22]] as a float64 array (2, 2)."""
    return np.array([[a11, a12], [a21, a22]], dtype=np.float64)


def rotation(deg: float) -> np.ndarray:
    """The rotation by ``deg`` degrees, counter-clockwise: [[c, -s], [s, c]]."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s], [s, c]])


def _unit(v: np.ndarray) -> np.ndarray:
    v = v / np.linalg.norm(v)
    return -v if v[np.argmax(np.abs(v))] < 0 else v  # one sign: the larger entry positive


def _null_direction(M: np.ndarray) -> np.ndarray | None:
    """A unit vector v with M v = 0 for a singular 2 x 2 M (None when M = 0: every v)."""
    row = M[0] if np.linalg.norm(M[0]) >= np.linalg.norm(M[1]) else M[1]
    if np.linalg.norm(row) < TOL:
        return None
    return _unit(np.array([-row[1], row[0]]))


@dataclass(frozen=True)
class Eigen:
    trace: float  # tr A = a11 + a22 = λ₁ + λ₂
    det: float  # det A = a11 a22 − a12 a21 = λ₁ λ₂
    disc: float  # (tr/2)² − det: ≥ 0 two real eigenvalues, < 0 a complex pair
    values: tuple[complex, complex]  # λ₁ ≥ λ₂ when real; re + i·im, re − i·im when complex
    vectors: tuple[np.ndarray, np.ndarray] | None  # unit v₁, v₂ (real case), else None
    defective: bool  # a repeated λ with one direction only (a shear): no second eigenvector
    scalar: bool  # A = λI: every vector is an eigenvector

    @property
    def real(self) -> bool:
        return self.disc >= -TOL

    @property
    def modulus(self) -> float:
        """|λ| of a complex pair = √det: the scaling that goes with the rotation."""
        return abs(self.values[0])

    @property
    def angle_deg(self) -> float:
        """arg λ₁ in degrees: for a complex pair, the angle A turns by (in its own basis)."""
        return math.degrees(math.atan2(self.values[0].imag, self.values[0].real))


def eigen(A: np.ndarray) -> Eigen:
    """Eigenvalues and eigenvectors of a 2 x 2 matrix from λ² − (tr A) λ + det A = 0."""
    (a, b), (c, d) = np.asarray(A, dtype=np.float64)
    tr, det = a + d, a * d - b * c
    disc = ((a - d) / 2) ** 2 + b * c  # = (tr/2)² − det, without the cancellation
    if abs(disc) < TOL:
        disc = 0.0
    if disc < 0:
        im = math.sqrt(-disc)
        return Eigen(tr, det, disc, (complex(tr / 2, im), complex(tr / 2, -im)), None, False, False)
    root = math.sqrt(disc)
    l1, l2 = tr / 2 + root, tr / 2 - root
    v1 = _null_direction(A - l1 * np.eye(2))
    if v1 is None:  # A = λI
        return Eigen(tr, det, disc, (l1, l2), (np.array([1.0, 0]), np.array([0, 1.0])), False, True)
    if disc == 0.0:  # one repeated root, A ≠ λI: a single eigen-direction
        return Eigen(tr, det, disc, (l1, l2), (v1, v1), True, False)
    v2 = _null_direction(A - l2 * np.eye(2))
    return Eigen(tr, det, disc, (l1, l2), (v1, v2), False, False)


def rotation_basis(A: np.ndarray, e: Eigen) -> np.ndarray | None:
    """For a complex pair λ = a ± ib (b > 0): P = [Re w, Im w] from an eigenvector w of
    a − ib, so that A = P (r R_θ) P⁻¹ with r R_θ = [[a, −b], [b, a]]: in the basis P, A is a
    rotation by θ = arg λ and a scaling by r = |λ|. None for real eigenvalues."""
    if e.real:
        return None
    (a11, a12), (a21, a22) = np.asarray(A, dtype=np.float64)
    lam = complex(e.values[0].real, -abs(e.values[0].imag))  # a − ib
    w = np.array([a12, lam - a11]) if abs(a12) >= abs(a21) else np.array([lam - a22, a21])
    return np.column_stack([w.real, w.imag])


@dataclass(frozen=True)
class SVD:
    U: np.ndarray  # (2, 2) orthogonal: the last rotation
    sigma: tuple[float, float]  # σ₁ ≥ σ₂ ≥ 0: the stretches
    Vt: np.ndarray  # (2, 2) orthogonal: the first rotation (with a reflection when det A < 0)
    theta_deg: float  # the angle Vᵀ rotates by
    phi_deg: float  # the angle U rotates by
    reflects: bool  # det A < 0: Vᵀ also mirrors the plane (it flips orientation)

    @property
    def rank(self) -> int:
        return sum(s > 1e-9 * max(self.sigma[0], 1.0) for s in self.sigma)


def svd(A: np.ndarray) -> SVD:
    """A = U Σ Vᵀ in closed form: A = R(φ) diag(Q + R, Q − R) R(θ), with E = (a + d)/2,
    F = (a − d)/2, G = (c + b)/2, H = (c − b)/2, Q = √(E² + H²), R = √(F² + G²),
    θ = (atan2(H, E) − atan2(G, F))/2, φ = (atan2(H, E) + atan2(G, F))/2. A negative second
    stretch Q − R (det A < 0) becomes a reflection diag(1, −1) inside Vᵀ."""
    (a, b), (c, d) = np.asarray(A, dtype=np.float64)
    E, F, G, H = (a + d) / 2, (a - d) / 2, (c + b) / 2, (c - b) / 2
    Q, R = math.hypot(E, H), math.hypot(F, G)
    a1, a2 = math.atan2(G, F), math.atan2(H, E)
    theta, phi = math.degrees((a2 - a1) / 2), math.degrees((a2 + a1) / 2)
    s2 = Q - R
    flip = np.diag([1.0, -1.0 if s2 < 0 else 1.0])
    return SVD(rotation(phi), (Q + R, abs(s2)), flip @ rotation(theta), theta, phi, s2 < 0)


@dataclass(frozen=True)
class Quadratic:
    S: np.ndarray  # (A + Aᵀ)/2: the symmetric part, the only part xᵀAx sees
    lam_min: float
    lam_max: float
    v_min: np.ndarray  # unit eigenvector of S for λ_min (the flattest direction)
    v_max: np.ndarray  # for λ_max (the steepest)
    kind: str  # "bowl", "valley", "saddle", "ridge", "dome" or "flat"
    symmetric: bool  # A = Aᵀ

    @property
    def kappa(self) -> float:
        """κ = λ_max/λ_min for a bowl (positive definite); infinite otherwise."""
        return self.lam_max / self.lam_min if self.kind == "bowl" else math.inf

    @property
    def angle_deg(self) -> float:
        """The direction of v_min in degrees, in (−90, 90]."""
        deg = math.degrees(math.atan2(self.v_min[1], self.v_min[0]))
        return deg - 180 if deg > 90 else deg + 180 if deg <= -90 else deg


def quadratic(A: np.ndarray) -> Quadratic:
    """f(x) = ½ xᵀAx = ½ xᵀSx: its curvatures (the eigenvalues of S) and its shape."""
    A = np.asarray(A, dtype=np.float64)
    S = (A + A.T) / 2
    e = eigen(S)  # symmetric: always real, never defective
    assert e.vectors is not None
    lam_max, lam_min = float(e.values[0].real), float(e.values[1].real)
    v_max, v_min = e.vectors
    if e.scalar:
        v_max, v_min = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    zero = 1e-9 * max(1.0, abs(lam_max), abs(lam_min))
    if lam_min > zero:
        kind = "bowl"
    elif lam_max < -zero:
        kind = "dome"
    elif lam_min < -zero and lam_max > zero:
        kind = "saddle"
    elif lam_max > zero:
        kind = "valley"
    elif lam_min < -zero:
        kind = "ridge"
    else:
        kind = "flat"
    return Quadratic(S, lam_min, lam_max, v_min, v_max, kind, bool(np.allclose(A, A.T, atol=0)))


def quadratic_grid(A: np.ndarray, lim: float = 3.0, n: int = 121):
    """xs (n,), ys (n,), F (n, n) = ½ xᵀAx on the square [−lim, lim]², F indexed [y, x]."""
    xs = np.linspace(-lim, lim, n)
    X, Y = np.meshgrid(xs, xs)  # (n, n) each
    S = quadratic(A).S
    return xs, xs, 0.5 * (S[0, 0] * X**2 + 2 * S[0, 1] * X * Y + S[1, 1] * Y**2)


GD_KAPPA = (1.0, 100.0)  # the gradient-descent page's κ slider: [1, 100] in whole numbers
GD_ANGLE_STEP = 5.0  # its valley-angle slider: −90 … 90 degrees in steps of 5


def gd_link(q: Quadratic) -> dict[str, str] | None:
    """Query parameters for the gradient-descent page's quadratic bowl with the same κ and
    the same orientation (its A = R diag(1, κ) Rᵀ has v_min at the angle), snapped to that
    page's sliders; None when f is not a bowl (no finite κ)."""
    if q.kind != "bowl":
        return None
    kappa = min(max(round(q.kappa), GD_KAPPA[0]), GD_KAPPA[1])
    angle = GD_ANGLE_STEP * round(q.angle_deg / GD_ANGLE_STEP)
    angle = -90.0 if angle >= 90 else angle  # ±90 is the same valley; the slider stops at 90
    return {"surface": "quadratic", "kappa": f"{kappa:g}", "angle": f"{angle:g}"}
