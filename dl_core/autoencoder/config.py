"""The settings of one run (AEConfig), what a run returns (AEResult) and the limits the
page and the URL parameters are checked against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dl_core.training import check_choice, check_range

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
