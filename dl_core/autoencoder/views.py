"""What the page inspects, one digit at a time: reconstructions, the denoising comparison,
a test image walked through the AE and through the VAE (named as on the page), and the
hand-written ops' gaps to their torch references."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dl_core.autoencoder.config import PIXELS, AEResult
from dl_core.autoencoder.losses import bce_with_logits, corrupt, kl_normal, reparameterize
from dl_core.autoencoder.model import decode_logits, encode, output, reference_modules, tensors
from dl_core.training import generator


def reconstruct(res: AEResult, x: np.ndarray) -> np.ndarray:
    """Encode and decode images x (B, 64) with the trained model (VAE: through mu)."""
    kind = res.config.kind
    with torch.no_grad():
        p = tensors(res)
        mu, _ = encode(p, torch.from_numpy(np.asarray(x, dtype=np.float32).copy()), kind)
        return output(decode_logits(p, mu, kind), kind).numpy()


def noisy_test(res: AEResult, noise: float, n: int, seed: int = 0) -> np.ndarray:
    """The first n test images with input noise added, (n, 64)."""
    x = torch.from_numpy(res.x_test[:n].copy())
    with torch.no_grad():
        return corrupt(x, noise, generator(seed + 123)).numpy()


@dataclass(frozen=True)
class Denoising:
    """The first n test digits with noise, through a plain AE and a denoising AE."""

    images: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # clean, noisy, plain, dae
    noisy: float  # MSE per pixel of the noisy input to the clean digits
    plain: float  # ... of the plain AE's output
    dae: float  # ... of the denoising AE's output


def denoising_errors(plain: AEResult, dae: AEResult, noise: float, n: int, seed: int = 0) -> Denoising:  # fmt: skip
    """Corrupt the first n test digits with ``noise`` and reconstruct them with both models."""
    clean = plain.x_test[:n]
    noisy = noisy_test(plain, noise, n, seed=seed)
    out_plain, out_dae = reconstruct(plain, noisy), reconstruct(dae, noisy)

    def mse(a: np.ndarray) -> float:
        return float(np.mean((a.astype(np.float64) - clean) ** 2))

    return Denoising((clean, noisy, out_plain, out_dae), mse(noisy), mse(out_plain), mse(out_dae))


@dataclass(frozen=True)
class AESample:
    """One test image through the autoencoder, named as on the page."""

    i: int
    x: np.ndarray  # (64,)
    z: np.ndarray  # (d_z,)
    x_hat: np.ndarray  # (64,)
    sq_err: float  # sum over pixels of (x_hat - x)^2
    mse: float  # sq_err / 64


def ae_sample(res: AEResult, i: int) -> AESample:
    x = res.x_test[i]
    x_hat = res.x_hat_test[i]
    se = float(((x_hat.astype(np.float64) - x) ** 2).sum())
    return AESample(i, x, res.z_test[i], x_hat, se, se / PIXELS)


@dataclass(frozen=True)
class VAESample:
    """One test image through the VAE with one draw of eps, named as on the page."""

    i: int
    x: np.ndarray  # (64,)
    mu: np.ndarray  # (d_z,)
    logvar: np.ndarray  # (d_z,)
    sigma: np.ndarray  # (d_z,) exp(logvar / 2)
    eps: np.ndarray  # (d_z,) the standard-normal draw
    z: np.ndarray  # (d_z,) mu + sigma * eps
    x_hat: np.ndarray  # (64,) decoded from this z
    recon: float  # -log p(x | z): summed Bernoulli negative log-likelihood, nats
    kl_terms: np.ndarray  # (d_z,) 1/2 (sigma^2 + mu^2 - 1 - log sigma^2) per dimension
    kl: float  # their sum
    beta: float
    loss: float  # recon + beta * kl (the negative ELBO estimate for this draw when beta = 1)


def vae_sample(res: AEResult, i: int, seed: int = 0) -> VAESample:
    """Walk test image i through the trained VAE with eps drawn from ``seed``."""
    if res.config.kind != "vae":
        raise ValueError("vae_sample needs a VAE result")
    with torch.no_grad():
        p = {k: v.double() for k, v in tensors(res).items()}
        x = torch.from_numpy(res.x_test[i : i + 1].astype(np.float64))  # (1, 64)
        mu, logvar = encode(p, x, "vae")  # (1, d_z)
        eps = torch.randn(mu.shape, generator=generator(seed), dtype=torch.float64)
        z = reparameterize(mu, logvar, eps)
        logits = decode_logits(p, z, "vae")  # (1, 64)
        recon = float(bce_with_logits(logits, x).sum())
        kl_terms = kl_normal(mu, logvar)[0]
        kl = float(kl_terms.sum())
    return VAESample(
        i, res.x_test[i], mu[0].numpy(), logvar[0].numpy(), torch.exp(0.5 * logvar[0]).numpy(),
        eps[0].numpy(), z[0].numpy(), torch.sigmoid(logits[0]).numpy(), recon,
        kl_terms.numpy(), kl, res.config.beta, recon + res.config.beta * kl,
    )  # fmt: skip


def reference_gaps(res: AEResult) -> dict[str, float]:
    """max |hand-written - torch reference| on the test set, for the page's "under the hood":
    encoder and decoder vs ``torch.nn.Sequential``, the reconstruction loss vs
    ``torch.nn.functional``, the closed-form KL vs ``torch.distributions.kl_divergence``."""
    nnF = torch.nn.functional
    cfg, kind = res.config, res.config.kind
    p = tensors(res)
    x = torch.from_numpy(res.x_test.copy())  # (N_test, 64)
    enc, dec = reference_modules(cfg, p)
    with torch.no_grad():
        mu, logvar = encode(p, x, kind)
        ref = enc(x)
        code = torch.cat([mu, logvar], 1) if kind == "vae" else mu
        logits = decode_logits(p, mu, kind)
        out = {
            "encoder f_φ(x) vs torch.nn.Sequential": float((code - ref).abs().max()),
            "decoder g_θ(z) vs torch.nn.Sequential": float(
                (output(logits, kind) - dec(mu)).abs().max()
            ),
        }
        if kind == "vae":
            bce_ref = nnF.binary_cross_entropy_with_logits(logits, x, reduction="none")
            out["Bernoulli −log p(x|z) vs F.binary_cross_entropy_with_logits"] = float(
                (bce_with_logits(logits, x) - bce_ref).abs().max()
            )
            q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar), validate_args=False)
            prior = torch.distributions.Normal(
                torch.zeros_like(mu), torch.ones_like(mu), validate_args=False
            )
            kl_ref = torch.distributions.kl_divergence(q, prior)
            out["closed-form KL vs torch.distributions.kl_divergence"] = float(
                (kl_normal(mu, logvar) - kl_ref).abs().max()
            )
        else:
            mse_ref = nnF.mse_loss(output(logits, kind), x)
            out["MSE vs F.mse_loss"] = abs(res.final_mse - float(mse_ref))
    return out
