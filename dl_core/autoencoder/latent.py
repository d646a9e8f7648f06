"""Walking the latent space of a trained model: decode any code z, the plotting range of
each latent dimension, the grid of decoded images over (z_1, z_2) and the interpolation
between two test digits' codes. Pure: no training, no change to the result."""

from __future__ import annotations

import numpy as np
import torch

from dl_core.autoencoder.config import MAX_GRID, MAX_INTERP, AEResult
from dl_core.autoencoder.model import decode_logits, output, tensors


def decode(res: AEResult, z: np.ndarray) -> np.ndarray:
    """Decode codes z (..., d_z) to images (..., 8, 8) with the trained decoder. Pure: no
    training, no change to ``res``."""
    kind = res.config.kind
    z = np.asarray(z, dtype=np.float32)
    lead = z.shape[:-1]
    with torch.no_grad():
        zt = torch.from_numpy(z.reshape(-1, res.config.latent).copy())  # (B, d_z)
        x = output(decode_logits(tensors(res), zt, kind), kind)  # (B, 64)
    return x.numpy().reshape(*lead, 8, 8)


def latent_range(res: AEResult, dims: tuple[int, int] = (0, 1)) -> tuple[tuple[float, float], ...]:
    """A plotting range per latent dimension: the test codes +-10% (and, for the VAE, at
    least the prior's +-3); (-1, 1) for a missing dimension or non-finite codes."""
    out = []
    for d in dims:
        zd = res.z_test[:, d] if d < res.config.latent else np.zeros(1)
        lo, hi = float(np.min(zd)), float(np.max(zd))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            lo, hi = -1.0, 1.0
        pad = 0.1 * (hi - lo) + 1e-3
        lo, hi = lo - pad, hi + pad
        if res.config.kind == "vae":
            lo, hi = min(lo, -3.0), max(hi, 3.0)
        out.append((lo, hi))
    return tuple(out)


def base_code(res: AEResult) -> np.ndarray:
    """The code used for latent dimensions the page does not move: 0 for the VAE (the
    prior's mean), the mean test code otherwise. Shape (d_z,)."""
    if res.config.kind == "vae":
        return np.zeros(res.config.latent, dtype=np.float32)
    return res.z_test.mean(0).astype(np.float32)


def latent_grid(res: AEResult, n: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z1 (n,), z2 (n,) and the decoded images (n, n, 8, 8) indexed [row of z2, col of z1]
    over the first two latent dimensions."""
    n = int(min(max(n, 2), MAX_GRID))
    (a, b), (c, d) = latent_range(res)
    z1, z2 = np.linspace(a, b, n), np.linspace(d, c, n)  # top row = largest z2
    Z = np.tile(base_code(res), (n, n, 1))  # (n, n, d_z)
    Z[..., 0] = z1[None, :]
    if res.config.latent > 1:
        Z[..., 1] = z2[:, None]
    return z1, z2, decode(res, Z)


def interpolate(res: AEResult, i: int, j: int, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """t (n,) and the images decoded from z = (1 - t) z_i + t z_j, (n, 8, 8)."""
    n = int(min(max(n, 2), MAX_INTERP))
    t = np.linspace(0, 1, n)
    Z = (1 - t)[:, None] * res.z_test[i] + t[:, None] * res.z_test[j]  # (n, d_z)
    return t, decode(res, Z)
