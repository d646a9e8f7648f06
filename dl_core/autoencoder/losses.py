"""The training objectives: the reconstruction error (mean squared error, or the Bernoulli
negative log-likelihood = binary cross-entropy for the VAE), the reparameterisation trick
z = mu + sigma * eps, the closed-form KL to the prior N(0, I), the negative ELBO
recon + beta * KL, and the denoising AE's corrupted input."""

from __future__ import annotations

import math

import numpy as np
import torch

from dl_core.autoencoder.config import AEConfig, AEResult
from dl_core.autoencoder.model import decode_logits, encode, output


def bce_with_logits(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-[x log x_hat + (1 - x) log(1 - x_hat)] with x_hat = sigmoid(logits), elementwise,
    written as max(l, 0) - x l + log(1 + e^{-|l|}) so it never takes log(0)."""
    return logits.clamp(min=0) - x * logits + torch.log1p(torch.exp(-logits.abs()))


def bce_floor(x: torch.Tensor) -> torch.Tensor:
    """The least binary cross-entropy any reconstruction can score on images x (B, 64): at
    x_hat = x it is the entropy -[x log x + (1 - x) log(1 - x)] summed over the pixels
    (0 log 0 = 0), above 0 for every grey pixel. (B,) nats."""
    return -(torch.special.xlogy(x, x) + torch.special.xlogy(1 - x, 1 - x)).sum(-1)


def recon_floor(res: AEResult) -> float:
    """``bce_floor`` averaged over the test images: nats per image no VAE can beat."""
    return float(bce_floor(torch.from_numpy(res.x_test.astype(np.float64))).mean())


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, sigma = exp(logvar / 2): the randomness sits in eps, so the
    gradient flows to mu and logvar."""
    return mu + torch.exp(0.5 * logvar) * eps


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) per dimension, same shape as mu:
    1/2 (sigma^2 + mu^2 - 1 - log sigma^2)."""
    return 0.5 * (torch.exp(logvar) + mu * mu - 1 - logvar)


def kl_monte_carlo(
    mu: torch.Tensor, logvar: torch.Tensor, n: int, g: torch.Generator
) -> torch.Tensor:
    """Monte Carlo estimate of the summed KL, E_q[log q(z) - log p(z)], from n samples;
    mu, logvar (d_z,) -> scalar."""
    eps = torch.randn(n, mu.shape[-1], generator=g, dtype=mu.dtype)  # (n, d_z)
    z = reparameterize(mu, logvar, eps)  # (n, d_z)
    log_q = (-0.5 * (eps**2 + logvar + math.log(2 * math.pi))).sum(-1)  # (n,)
    log_p = (-0.5 * (z**2 + math.log(2 * math.pi))).sum(-1)  # (n,)
    return (log_q - log_p).mean()


def losses(
    p: dict, x_in: torch.Tensor, x: torch.Tensor, cfg: AEConfig, eps: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(recon, kl), both averaged over the batch.

    AE / linear: recon = mean squared error per pixel, kl = 0.
    VAE: recon = sum over the 64 pixels of the Bernoulli negative log-likelihood (nats per
    image), kl = summed closed-form KL; z is sampled with ``eps`` (B, d_z)."""
    mu, logvar = encode(p, x_in, cfg.kind)
    if cfg.kind != "vae":
        x_hat = output(decode_logits(p, mu, cfg.kind), cfg.kind)
        return ((x_hat - x) ** 2).mean(), torch.zeros((), device=x.device)
    z = reparameterize(mu, logvar, eps)
    recon = bce_with_logits(decode_logits(p, z, "vae"), x).sum(1).mean()
    return recon, kl_normal(mu, logvar).sum(1).mean()


def corrupt(x: torch.Tensor, noise: float, g: torch.Generator) -> torch.Tensor:
    """x_tilde = clip(x + noise * N(0, 1), 0, 1): the denoising AE's input."""
    if noise == 0:
        return x
    e = torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
    return (x + noise * e).clamp(0, 1)
