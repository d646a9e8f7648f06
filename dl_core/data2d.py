"""Two-dimensional toy datasets for the neural-network playground.

The points live in the square [-6, 6]^2, as in TensorFlow Playground, and are
generated with a local, seeded ``torch.Generator`` (dl_core.training.generator),
so the same arguments give the same numbers in every session. Nothing is
downloaded.

Classification sets return integer labels 0..K-1; regression sets return a real
target in [-1, 1]. ``noise`` is a fraction in [0, 0.5]: how far points are
jittered (classification) or how much noise is added to the target (regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dl_core.training import check_choice, check_range, generator

EXTENT = 6.0  # the input plane is [-EXTENT, EXTENT]^2
RADIUS = 5.0  # points are drawn within this radius / half-width
MAX_POINTS = 2000  # a bound on every dataset's size
MAX_NOISE = 0.5


@dataclass(frozen=True)
class DatasetInfo:
    title: str  # for the selector
    n_classes: int  # 0 for regression, else the number of classes K
    description: str  # one sentence for the page


DATASETS: dict[str, DatasetInfo] = {
    "circles": DatasetInfo("Circle in a ring", 2, "One class inside a disc, the other in a ring around it."),
    "xor": DatasetInfo("XOR (four quadrants)", 2, "The class is the sign of x₁·x₂: no single line separates it."),
    "gaussians": DatasetInfo("Two Gaussian blobs", 2, "Two clouds; more noise makes them overlap."),
    "spiral": DatasetInfo("Two spirals", 2, "Two interleaved spiral arms: the hardest classic."),
    "moons": DatasetInfo("Two moons", 2, "Two interlocking half circles."),
    "blobs3": DatasetInfo("Three Gaussian blobs (3 classes)", 3, "Three clouds around a circle: softmax over 3 classes."),
    "spiral3": DatasetInfo("Three spirals (3 classes)", 3, "Three interleaved spiral arms."),
    "plane": DatasetInfo("Plane (regression)", 0, "The target is a tilted plane: y = (x₁ + x₂) / 10."),
    "mixture": DatasetInfo("Mixture of Gaussians (regression)", 0, "The target is a sum of positive and negative Gaussian bumps."),
}  # fmt: skip


def n_classes(name: str) -> int:
    return DATASETS[name].n_classes


def _uniform(g: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)


def _jitter(g: torch.Generator, n: int, scale: float) -> torch.Tensor:
    """Uniform noise in [-scale, scale], shape (n, 2)."""
    return (torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1) * scale


def _spiral(g: torch.Generator, n: int, k: int, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.arange(n) % k  # (n,) balanced classes
    i = torch.arange(n, dtype=torch.float64) // k  # position along the arm
    per = math.ceil(n / k)
    r = i / per * RADIUS
    t = 1.75 * i / per * 2 * math.pi + y.double() * 2 * math.pi / k
    X = torch.stack([r * torch.sin(t), r * torch.cos(t)], dim=1)  # (n, 2)
    return X + _jitter(g, n, noise), y


def _gaussian_bumps(X: torch.Tensor) -> torch.Tensor:
    """Sum of signed Gaussian bumps, scaled into [-1, 1] (Playground's regression mixture)."""
    centres = torch.tensor(
        [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
        dtype=torch.float64,
    )  # (6, 3): x, y, sign
    d2 = ((X[:, None, :] - centres[None, :, :2]) ** 2).sum(-1)  # (n, 6)
    return (centres[:, 2] * torch.exp(-d2 / 2)).sum(1).clamp(-1, 1)


def make(name: str, n: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """X (n, 2) float64 in [-6, 6]^2 and the target y (n,): int64 labels 0..K-1
    for classification, float64 in about [-1, 1] for regression."""
    check_choice("dataset", name, tuple(DATASETS))
    check_range("number of points", n, 4, MAX_POINTS)
    check_range("noise", noise, 0.0, MAX_NOISE)
    X, y = _make(name, n, noise, generator(seed))
    return X.clamp(-EXTENT, EXTENT), y  # the few noisy points beyond the plot stay on its edge


def _make(name: str, n: int, noise: float, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "circles":
        y = torch.arange(n) % 2  # 1 inside, 0 in the ring
        r = torch.where(
            y == 1, _uniform(g, n, 0, 0.5 * RADIUS), _uniform(g, n, 0.7 * RADIUS, RADIUS)
        )
        a = _uniform(g, n, 0, 2 * math.pi)
        X = torch.stack([r * torch.sin(a), r * torch.cos(a)], dim=1)
        return X + _jitter(g, n, noise * RADIUS), y
    if name == "xor":
        X = torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 * RADIUS - RADIUS
        X = X + torch.sign(X) * 0.3  # keep clear of the axes, as Playground does
        y = (X[:, 0] * X[:, 1] > 0).long()
        return X + _jitter(g, n, noise * RADIUS), y
    if name == "gaussians":
        y = torch.arange(n) % 2
        sd = 0.5 + 3.5 * noise  # 0.5 .. 2.25
        centre = (2 * y.double() - 1)[:, None] * 2.0  # (n, 1): (-2,-2) or (2,2)
        return centre + sd * torch.randn(n, 2, generator=g, dtype=torch.float64), y
    if name == "spiral":
        return _spiral(g, n, 2, noise * RADIUS)
    if name == "spiral3":
        return _spiral(g, n, 3, noise * RADIUS)
    if name == "moons":
        y = torch.arange(n) % 2
        t = _uniform(g, n, 0, math.pi)
        upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)  # class 0
        lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)  # class 1
        X = torch.where((y == 1)[:, None], lower, upper)
        X = (X - torch.tensor([0.5, 0.25], dtype=torch.float64)) * 3.3  # centre, fill the plane
        return X + _jitter(g, n, noise * RADIUS), y
    if name == "blobs3":
        y = torch.arange(n) % 3
        angle = y.double() * 2 * math.pi / 3 + math.pi / 2
        centre = 3.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (n, 2)
        sd = 0.5 + 3.5 * noise
        return centre + sd * torch.randn(n, 2, generator=g, dtype=torch.float64), y
    X = torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 * RADIUS - RADIUS
    if name == "plane":
        t = (X[:, 0] + X[:, 1]) / (2 * RADIUS)
    else:  # mixture
        t = _gaussian_bumps(X)
    return X, t + noise * (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1)


def split(
    X: torch.Tensor, y: torch.Tensor, test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A seeded random split: X_train, y_train, X_test, y_test (at least 2 of each)."""
    n = len(y)
    perm = torch.randperm(n, generator=generator(seed + 7919))
    n_test = min(max(int(round(n * test_fraction)), 2), n - 2)
    return X[perm[n_test:]], y[perm[n_test:]], X[perm[:n_test]], y[perm[:n_test]]
