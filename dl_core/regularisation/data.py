"""The data: a noisy 1-D curve or a 2-D classification set, in train, validation and test
splits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import data2d
from dl_core.regularisation.formulas import DTYPE, standardise
from dl_core.training import check_choice, check_range, generator

# ---------------------------------------------------------------------------
# 2. Data
# ---------------------------------------------------------------------------

DATASETS = ("curve", "moons", "circles", "xor")
DATASET_LABELS = {
    "curve": "1-D curve: y = sin(πx) + noise",
    "moons": "Two moons (2-D classes)",
    "circles": "Circle in a ring (2-D classes)",
    "xor": "XOR (2-D classes)",
}
MAX_N = 100  # training points (and as many validation points)
MAX_NOISE = 0.5
N_TEST = 200
GRID_1D = 200  # points of the fitted curve
GRID_2D = 40  # cells per axis of the decision map


def n_val(n: int) -> int:
    """The validation set's size: as many points as the training set."""
    return n


def truth(x: torch.Tensor) -> torch.Tensor:
    """The curve the 1-D data is drawn around."""
    return torch.sin(math.pi * x)


@dataclass(frozen=True)
class Data:
    X_train: torch.Tensor  # (N, d) model inputs (2-D sets standardised by the train split)
    y_train: torch.Tensor  # (N, 1) targets: values (curve) or labels 0/1
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    grid: torch.Tensor  # (G, d) model inputs where the fit is drawn
    raw: dict[str, np.ndarray]  # plot coordinates: x_train, x_val, grid_x (and grid_y for 2-D)


def make_data(name: str, n: int, noise: float, seed: int) -> Data:
    """The training, validation and test splits of one dataset (seeded)."""
    check_choice("dataset", name, DATASETS)
    check_range("training points", n, 4, MAX_N)
    check_range("noise", noise, 0.0, MAX_NOISE)
    m = n_val(n)
    if name == "curve":
        g = generator(seed)
        x = torch.rand(n + m + N_TEST, 1, generator=g, dtype=DTYPE) * 2 - 1
        y = truth(x) + noise * torch.randn(x.shape, generator=g, dtype=DTYPE)
        grid = torch.linspace(-1, 1, GRID_1D, dtype=DTYPE)[:, None]
        parts = (x[:n], y[:n], x[n : n + m], y[n : n + m], x[n + m :], y[n + m :])
        raw = {
            "x_train": x[:n].numpy(),
            "x_val": x[n : n + m].numpy(),
            "grid_x": grid[:, 0].numpy(),
        }
        return Data(*parts, grid, raw)
    X, y = data2d.make(name, n + m + N_TEST, noise, seed)
    y = y.to(DTYPE)[:, None]
    Xs, mean, std = standardise(X[:n])  # the network sees standardised inputs (section 8)
    ax = torch.linspace(-data2d.EXTENT, data2d.EXTENT, GRID_2D, dtype=DTYPE)
    gy, gx = torch.meshgrid(ax, ax, indexing="ij")  # (G, G), rows are y
    grid = torch.stack([gx.ravel(), gy.ravel()], 1)  # (G², 2)
    s = lambda Z: standardise(Z, mean, std)[0]  # noqa: E731
    raw = {"x_train": X[:n].numpy(), "x_val": X[n : n + m].numpy(), "grid_x": ax.numpy(),
           "grid_y": ax.numpy()}  # fmt: skip
    return Data(Xs, y[:n], s(X[n : n + m]), y[n : n + m], s(X[n + m :]), y[n + m :], s(grid), raw)
