"""Small datasets, generated with a seed (nothing is downloaded).

Every generator takes a ``seed`` and uses a local ``torch.Generator`` so the
same arguments give the same numbers in every session. Bundled files (the
digits, from the CNN issue on) are read only through this module.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from dl_core.training import generator


def line_1d(
    n: int, w: float, b: float, noise: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n,) uniform on [-1, 3] and y = w x + b + noise * N(0, 1), shape (n,)."""
    g = generator(seed)
    x = torch.rand(n, generator=g, dtype=torch.float64) * 4 - 1
    y = w * x + b + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


def two_gaussians(n: int, separation: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """X (n, 2) from two unit Gaussians whose means are ``separation`` apart
    along the diagonal; y (n,) in {0, 1}, half of each."""
    g = generator(seed)
    y = (torch.arange(n) % 2).to(torch.float64)  # (n,)
    d = separation / (2 * 2**0.5)
    centre = torch.stack([2 * y - 1, 2 * y - 1], dim=1) * d  # (n, 2): (-d,-d) or (d,d)
    X = centre + torch.randn(n, 2, generator=g, dtype=torch.float64)
    return X, y


# ---------------------------------------------------------------------------
# Bundled 8x8 digits (UCI Optical Recognition of Handwritten Digits, CC BY 4.0)
# ---------------------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DIGITS_FILE = DATA_DIR / "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


@dataclass(frozen=True)
class Digits:
    X_train: torch.Tensor  # (N_train, 1, 8, 8) float32 in [0, 1]
    y_train: torch.Tensor  # (N_train,) int64 in 0..9
    X_test: torch.Tensor  # (N_test, 1, 8, 8)
    y_test: torch.Tensor  # (N_test,)


@lru_cache(maxsize=1)
def _digits_raw() -> tuple[torch.Tensor, torch.Tensor]:
    raw = DIGITS_FILE.read_bytes()
    if hashlib.sha256(raw).hexdigest() != DIGITS_SHA256:
        raise ValueError(f"{DIGITS_FILE} does not match its checksum; restore it from git")
    rows = np.loadtxt(io.StringIO(gzip.decompress(raw).decode()), delimiter=",", dtype=np.int64)
    X = torch.from_numpy(rows[:, :64]).float().reshape(-1, 1, 8, 8) / 16.0  # (1797, 1, 8, 8)
    y = torch.from_numpy(rows[:, 64])  # (1797,)
    return X, y


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Digits:
    """The 1,797 bundled digits with a fixed, seeded train/test split.

    The returned tensors are fresh copies: callers may move or modify them."""
    X, y = _digits_raw()
    perm = torch.randperm(len(y), generator=generator(seed))
    n_test = int(round(len(y) * test_fraction))
    test, train = perm[:n_test], perm[n_test:]
    return Digits(X[train].clone(), y[train].clone(), X[test].clone(), y[test].clone())
