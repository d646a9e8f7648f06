"""PCA and the linear autoencoder: a linear AE trained on squared error learns the subspace
of the top-k principal components (Baldi & Hornik 1989), though not the components
themselves. ``compare_with_pca`` measures the principal angles between the two spans."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dl_core.autoencoder.config import PIXELS, AEResult
from dl_core.data import load_digits


@dataclass(frozen=True)
class PCAComparison:
    k: int  # number of components = latent size
    components: np.ndarray  # (k, 64) top principal directions (rows)
    explained: np.ndarray  # (k,) fraction of the variance each explains
    angles_deg: np.ndarray  # (k,) principal angles between the AE decoder's span and PCA's
    pca_mse: float  # test MSE per pixel of the rank-k PCA reconstruction
    ae_mse: float  # test MSE per pixel of the linear autoencoder


def pca(X: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """mean (64,), top-k directions V_k (k, 64), explained variance ratios (k,), via SVD
    of the centred data X (N, 64)."""
    mean = X.mean(0)
    _, S, Vh = torch.linalg.svd(X - mean, full_matrices=False)  # Vh (64, 64)
    var = S**2
    return mean, Vh[:k], var[:k] / var.sum()


def principal_angles(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Angles (radians, ascending) between the column spaces of A (n, k) and B (n, k)."""
    Qa, _ = torch.linalg.qr(A)
    Qb, _ = torch.linalg.qr(B)
    s = torch.linalg.svdvals(Qa.T @ Qb).clamp(-1, 1)  # cosines, descending
    return torch.arccos(s)


def compare_with_pca(res: AEResult) -> PCAComparison:
    """The linear AE's decoder columns span (nearly) the same subspace as the top-k PCs."""
    if res.config.kind != "linear":
        raise ValueError("compare_with_pca needs a linear autoencoder result")
    k = res.config.latent
    d = load_digits()
    X = d.X_train.reshape(-1, PIXELS).double()
    Xt = torch.from_numpy(res.x_test.astype(np.float64))
    mean, Vk, ratio = pca(X, k)
    Xt_pca = (Xt - mean) @ Vk.T @ Vk + mean  # (N_test, 64) projection onto the PCA subspace
    Wd = torch.from_numpy(res.weights["Wd"].astype(np.float64))  # (64, k)
    angles = principal_angles(Wd, Vk.T)
    return PCAComparison(
        k, Vk.numpy(), ratio.numpy(), np.degrees(angles.numpy()),
        float(((Xt_pca - Xt) ** 2).mean()), res.final_mse,
    )  # fmt: skip
