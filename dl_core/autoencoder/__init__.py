"""Autoencoders and variational autoencoders on the bundled 8x8 digits.

Symbols follow the page. An image ``x`` (64 pixels in [0, 1]) is encoded to a
code ``z`` (``latent`` numbers) and decoded back to ``x_hat``:

    encoder   h = relu(W1 x + b1),     z = W2 h + b2         (AE)
                                        mu, logvar = W2 h + b2 (VAE, 2 d_z outputs)
    decoder   h' = relu(W3 z + b3),    x_hat = sigmoid(W4 h' + b4)

The linear autoencoder drops the ReLUs and the sigmoid (z = W_e x + b_e,
x_hat = W_d z + b_d) and is compared with PCA. The VAE samples
z = mu + sigma * eps with sigma = exp(logvar / 2), eps ~ N(0, I), and minimises
the negative ELBO  recon + beta * KL(N(mu, sigma^2) || N(0, I))  (Kingma & Welling 2014;
beta != 1 is the beta-VAE of Higgins et al. 2017). The reconstruction term is the Bernoulli
negative log-likelihood, i.e. binary cross-entropy, on grey-level pixels in [0, 1]: a common
simplification, not a normalised likelihood of grey images (``bce_floor``: even x_hat = x
scores the pixels' entropy).

The forward passes, losses and the closed-form KL are written with tensor ops
(``encode``, ``decode_logits``, ``bce_with_logits``, ``kl_normal``) and tested
against ``torch.nn`` layers, ``F.binary_cross_entropy_with_logits`` and
``torch.distributions.kl_divergence``. Training uses autograd and
``torch.optim.Adam`` (or plain SGD) on the whole training set (full batch by default: fewer,
larger tensor ops).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

# torch.optim's first optimizer in a process imports torch._dynamo (about 1 s here, measured
# with cProfile). Importing it with this module keeps that one-time library cost out of the
# first training run, its progress bar and its recorded wall time.
import torch._dynamo

from dl_core.data import load_digits
from dl_core.device import pick
from dl_core.training import (
    check_choice,
    check_range,
    generator,
    timer,
)

KINDS = ("ae", "vae", "linear")
KIND_LABELS = {
    "ae": "Autoencoder",
    "vae": "Variational autoencoder",
    "linear": "Linear autoencoder",
}
PIXELS = 64  # 8 x 8 images, flattened
MAX_STEPS = 3000  # upper bound on optimiser steps of one run
MAX_HIDDEN = 512  # upper bound on the hidden width
MAX_LATENT = 32  # upper bound on the code size
MAX_BETA = 100.0
MAX_GRID = 25  # decoded images per side of the latent grid
MAX_INTERP = 16  # images along an interpolation
REPORT_EVERY = 20  # on_step is called (and divergence checked) every this many steps
LOGVAR_LIMIT = 80.0  # |logvar| beyond this means exp(logvar) over/underflows: divergence

ProgressFn = Callable[[int, np.ndarray, np.ndarray], None]  # (step, recon so far, kl so far)


@dataclass(frozen=True)
class AEConfig:
    kind: str = "ae"  # "ae" (MLP autoencoder), "vae" (variational) or "linear" (no nonlinearity)
    latent: int = 2  # d_z: the latent dimension, the size of the code z
    hidden: int = 64  # width of the hidden layer of encoder and decoder (not used by "linear")
    beta: float = 1.0  # VAE only: weight of the KL term (beta-VAE; beta = 1 is the ELBO)
    noise: float = 0.0  # std of Gaussian noise added to the inputs while training (denoising AE)
    steps: int = 600  # Adam steps
    lr: float = 0.005  # Adam learning rate eta
    batch_size: int = 0  # 0 = full batch (all training images each step)
    optimizer: str = "adam"  # "adam" or "sgd" (plain gradient descent, which can diverge)
    seed: int = 0  # initial weights, noise and the reparameterisation samples

    def __post_init__(self) -> None:
        check_choice("model kind", self.kind, KINDS)
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        check_range("latent size", self.latent, 1, MAX_LATENT)
        check_range("hidden width", self.hidden, 4, MAX_HIDDEN)
        check_range("beta", self.beta, 0.0, MAX_BETA)
        check_range("input noise", self.noise, 0.0, 1.0)
        check_range("steps", self.steps, 1, MAX_STEPS)
        check_range("learning rate", self.lr, 1e-6, 10.0)
        check_range("batch size", self.batch_size, 0, 100_000)
        check_range("seed", self.seed, 0, 2**31 - 1)
        for name in ("latent", "hidden", "steps", "batch_size", "seed"):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number")

    @classmethod
    def tiny(cls, kind: str = "ae", **kw) -> AEConfig:
        """A run of well under a second, for tests."""
        return cls(kind=kind, **{"hidden": 32, "steps": 150, "lr": 0.01, **kw})


@dataclass(frozen=True)
class AEResult:
    config: AEConfig
    recon: np.ndarray  # (K,) reconstruction term per training step (MSE per pixel; VAE: BCE nats)
    kl: np.ndarray  # (K,) KL term per step (zeros unless VAE)
    eval_steps: np.ndarray  # (E,) steps at which the test set was evaluated
    test_mse: np.ndarray  # (E,) test-set mean squared error per pixel at those steps
    weights: dict[str, np.ndarray]  # the trained parameters, float32, read-only (see PARAM_NAMES)
    z_test: np.ndarray  # (N_test, d_z) codes of the test images (VAE: the posterior means mu)
    logvar_test: np.ndarray  # (N_test, d_z) VAE posterior log-variances (zeros otherwise)
    x_test: np.ndarray  # (N_test, 64) test images
    y_test: np.ndarray  # (N_test,) their digit classes
    x_hat_test: np.ndarray  # (N_test, 64) reconstructions (VAE: decoded from mu)
    final_mse: float  # test MSE per pixel at the end (nan if diverged)
    diverged_at: int | None  # first step with a non-finite loss, else None
    seconds: float  # wall time of training
    device: str = "cpu"
    steps_done: int = 0
    extra: dict = field(default_factory=dict)  # room for small derived numbers


# ---------------------------------------------------------------------------
# Parameters and the hand-written forward passes
# ---------------------------------------------------------------------------

PARAM_NAMES = {
    "ae": ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"),
    "vae": ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"),
    "linear": ("We", "be", "Wd", "bd"),
}


def _layer_shapes(cfg: AEConfig) -> list[tuple[str, int, int]]:
    """(name, fan_out, fan_in) of each weight matrix; the bias of W_k is b_k."""
    H, dz = cfg.hidden, cfg.latent
    if cfg.kind == "linear":
        return [("e", dz, PIXELS), ("d", PIXELS, dz)]
    out2 = 2 * dz if cfg.kind == "vae" else dz  # the VAE encoder outputs [mu, logvar]
    return [("1", H, PIXELS), ("2", out2, H), ("3", H, dz), ("4", PIXELS, H)]


def init_params(cfg: AEConfig, g: torch.Generator) -> dict[str, torch.Tensor]:
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) like ``nn.Linear``, from a local generator."""
    out = {}
    for name, fan_out, fan_in in _layer_shapes(cfg):
        bound = 1 / math.sqrt(fan_in)
        out[f"W{name}"] = (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * bound
        out[f"b{name}"] = (torch.rand(fan_out, generator=g) * 2 - 1) * bound
    return out


def encode(p: dict, x: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """x (B, 64) -> (z or mu (B, d_z), logvar (B, d_z)); logvar is zeros except for the VAE."""
    if kind == "linear":
        z = x @ p["We"].T + p["be"]  # (B, d_z)
        return z, torch.zeros_like(z)
    h = torch.relu(x @ p["W1"].T + p["b1"])  # (B, H)
    out = h @ p["W2"].T + p["b2"]  # (B, d_z) or (B, 2 d_z)
    if kind == "vae":
        mu, logvar = out.chunk(2, dim=1)  # (B, d_z) each
        return mu, logvar
    return out, torch.zeros_like(out)


def decode_logits(p: dict, z: torch.Tensor, kind: str) -> torch.Tensor:
    """z (B, d_z) -> pre-sigmoid outputs (B, 64). The linear AE's output is x_hat itself."""
    if kind == "linear":
        return z @ p["Wd"].T + p["bd"]  # (B, 64)
    h = torch.relu(z @ p["W3"].T + p["b3"])  # (B, H)
    return h @ p["W4"].T + p["b4"]  # (B, 64)


def output(logits: torch.Tensor, kind: str) -> torch.Tensor:
    """x_hat from the decoder's last layer: sigmoid, or identity for the linear AE."""
    return logits if kind == "linear" else torch.sigmoid(logits)


def reference_modules(cfg: AEConfig, p: dict) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The same encoder and decoder as ``torch.nn.Sequential`` with the given weights."""
    nn = torch.nn

    def lin(name: str) -> nn.Linear:
        W, b = p[f"W{name}"], p[f"b{name}"]
        layer = nn.Linear(W.shape[1], W.shape[0]).to(W.device, W.dtype)
        with torch.no_grad():
            layer.weight.copy_(W)
            layer.bias.copy_(b)
        return layer

    if cfg.kind == "linear":
        return nn.Sequential(lin("e")), nn.Sequential(lin("d"))
    return (
        nn.Sequential(lin("1"), nn.ReLU(), lin("2")),
        nn.Sequential(lin("3"), nn.ReLU(), lin("4"), nn.Sigmoid()),
    )


# ---------------------------------------------------------------------------
# Losses, the reparameterisation trick and the KL term
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def _flat_digits(dev: torch.device):
    d = load_digits()
    X = d.X_train.reshape(-1, PIXELS).to(dev)  # (N_train, 64)
    Xt = d.X_test.reshape(-1, PIXELS).to(dev)  # (N_test, 64)
    return X, Xt, d.y_test


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def train(
    cfg: AEConfig, device: torch.device | str | None = None, on_step: ProgressFn | None = None
) -> AEResult:
    """Train with Adam; divergence (non-finite loss) stops training and is reported.

    ``on_step(k, recon[:k], kl[:k])`` is called every ``REPORT_EVERY`` steps and at the end.
    Device: ``pick()`` (CUDA when present) unless ``device`` is given."""
    dev = torch.device(device) if device is not None else pick()
    kind = cfg.kind
    with timer() as t:
        X, Xt, y_test = _flat_digits(dev)
        N = X.shape[0]
        p = {
            k: v.to(dev).requires_grad_() for k, v in init_params(cfg, generator(cfg.seed)).items()
        }
        g_noise = generator(cfg.seed + 1, dev)  # input noise and eps
        g_batch = generator(cfg.seed + 2)
        make = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
        opt = make(list(p.values()), lr=cfg.lr)
        rec_h = torch.zeros(cfg.steps, device=dev)  # (K,) filled on the device, copied at checks
        kl_h = torch.zeros(cfg.steps, device=dev)
        eval_steps, test_mse = [], []
        full = cfg.batch_size == 0 or cfg.batch_size >= N
        perm, pos = None, N
        diverged_at, done = None, 0
        for k in range(cfg.steps):
            if full:
                xb = X
            else:
                if pos + cfg.batch_size > N:  # a new epoch: reshuffle
                    perm, pos = torch.randperm(N, generator=g_batch).to(dev), 0
                xb = X[perm[pos : pos + cfg.batch_size]]
                pos += cfg.batch_size
            with torch.enable_grad():
                x_in = corrupt(xb, cfg.noise, g_noise)
                eps = None
                if kind == "vae":
                    eps = torch.randn(xb.shape[0], cfg.latent, generator=g_noise, device=dev)
                recon, kl = losses(p, x_in, xb, cfg, eps)
                loss = recon + cfg.beta * kl
                opt.zero_grad(set_to_none=True)
                loss.backward()
            opt.step()
            with torch.no_grad():
                rec_h[k], kl_h[k] = recon.detach(), kl.detach()
            done = k + 1
            if done % REPORT_EVERY == 0 or done == cfg.steps:
                r, q = rec_h[:done].cpu().numpy(), kl_h[:done].cpu().numpy()
                bad = ~np.isfinite(r + q)
                if bad.any() or any(not torch.isfinite(v).all() for v in p.values()):
                    diverged_at = int(np.argmax(bad)) + 1 if bad.any() else done
                    done = diverged_at
                    break
                with torch.no_grad():
                    eval_steps.append(done)
                    test_mse.append(_mse(p, Xt, kind))
                if on_step is not None:
                    on_step(done, r, q)
        with torch.no_grad():
            mu_t, logvar_t = encode(p, Xt, kind)
            x_hat_t = output(decode_logits(p, mu_t, kind), kind)
            if diverged_at is None and not bool(torch.isfinite(logvar_t).all()):
                diverged_at = done
    final = float("nan") if diverged_at is not None else float(((x_hat_t - Xt) ** 2).mean())
    weights = {k: _readonly(v.detach().float().cpu().numpy()) for k, v in p.items()}
    return AEResult(
        config=cfg,
        recon=_readonly(rec_h[:done].cpu().numpy()),
        kl=_readonly(kl_h[:done].cpu().numpy()),
        eval_steps=_readonly(np.array(eval_steps, dtype=np.int64)),
        test_mse=_readonly(np.array(test_mse, dtype=np.float64)),
        weights=weights,
        z_test=_readonly(mu_t.cpu().numpy()),
        logvar_test=_readonly(logvar_t.cpu().numpy()),
        x_test=_readonly(Xt.cpu().numpy()),
        y_test=_readonly(y_test.numpy()),
        x_hat_test=_readonly(x_hat_t.cpu().numpy()),
        final_mse=final,
        diverged_at=diverged_at,
        seconds=t[0],
        device=str(dev.type),
        steps_done=done,
        extra={"n_train": N},
    )


def _mse(p: dict, Xt: torch.Tensor, kind: str) -> float:
    mu, _ = encode(p, Xt, kind)
    return float(((output(decode_logits(p, mu, kind), kind) - Xt) ** 2).mean())


def tensors(res: AEResult) -> dict[str, torch.Tensor]:
    """The trained weights as fresh CPU tensors (copies: the result stays untouched)."""
    return {k: torch.tensor(v) for k, v in res.weights.items()}


# ---------------------------------------------------------------------------
# Using a trained model: decode, grids, interpolation, walkthroughs
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# PCA and the linear autoencoder
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------

BENCH_TARGETS = {"ae": 0.040, "vae": 0.042}  # test MSE per pixel the defaults must reach


def bench() -> list[dict]:
    """Default AE and VAE on the digits: test MSE per pixel vs the stated target."""
    out = []
    for kind, target in BENCH_TARGETS.items():
        res = train(AEConfig(kind=kind))
        out.append(
            {
                "topic": "autoencoder",
                "task": kind,
                "metric": "test_mse",
                "target": target,
                "value": res.final_mse,
                "reached": bool(res.final_mse <= target),
                "seconds": res.seconds,
                "steps": res.steps_done,
                "device": res.device,
            }
        )
    return out
