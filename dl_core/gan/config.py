"""The GAN's setup: the 2-D targets, the noise, and GanConfig with its limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from dl_core.training import check_choice, check_range

TARGETS = ("ring", "grid", "spiral", "moons", "line")
TARGET_LABELS = {
    "ring": "Ring of 8 Gaussians",
    "grid": "5 × 5 grid of Gaussians",
    "spiral": "Spiral",
    "moons": "Two moons",
    "line": "A line",
}
NOISES = ("gaussian", "uniform")
LOSSES = ("minimax", "nonsaturating", "least_squares", "wgan_gp")
LOSS_LABELS = {
    "minimax": "Minimax (original)",
    "nonsaturating": "Non-saturating",
    "least_squares": "Least squares (LSGAN)",
    "wgan_gp": "Wasserstein + gradient penalty",
}
OPTIMIZERS = ("adam", "sgd")
ACTIVATIONS = ("relu", "leaky_relu", "tanh")

MAX_STEPS = 20_000  # generator steps in one train() call
MAX_BATCH = 1024
MAX_HIDDEN = 256  # units per hidden layer
MAX_LAYERS = 4  # hidden layers per network
MAX_NOISE_DIM = 16
MAX_D_STEPS = 10
MAX_EVAL_SAMPLES = 4096
MAX_GRID = 120  # cells per side of the density / heat-map grid
VIEW = 3.0  # every target lies in the square [-VIEW, VIEW]^2
LEAK = 0.2  # slope of leaky ReLU for negative inputs
GP_WEIGHT = 1.0  # alpha, the gradient penalty's weight (the paper's lambda = 10; small 2-D critics need little)
DIVERGED_ABS = 1e4  # |x_fake| beyond this counts as diverged (far off the plot)
WGAN_BETA2 = 0.9  # Adam's beta2 for WGAN-GP, as in Gulrajani et al. (0.999 otherwise)


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    name: str
    sigma: float  # standard deviation of the Gaussian noise around the skeleton
    skeleton: torch.Tensor  # (M, 2): noise-free points (Gaussian centres, or a dense curve)
    labels: torch.Tensor  # (M,): the mode (region) each skeleton point belongs to
    n_modes: int

    @property
    def quality_radius(self) -> float:
        """A sample is high quality within 3 sigma of the skeleton (98.9 % of real ones are)."""
        return 3.0 * self.sigma


def _curve(name: str, t: torch.Tensor) -> torch.Tensor:
    """Points of a curve target at parameters t in [0, 1], shape (n,) -> (n, 2)."""
    if name == "spiral":
        angle = 3.0 * math.pi * t  # one and a half turns
        r = 0.4 + 2.0 * t
        return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)
    if name == "moons":  # sklearn's two moons, centred and scaled by 1.6
        upper = t < 0.5
        s = math.pi * torch.where(upper, 2 * t, 2 * t - 1)
        x = torch.where(upper, torch.cos(s), 1 - torch.cos(s))
        y = torch.where(upper, torch.sin(s), 0.5 - torch.sin(s))
        return 1.6 * torch.stack([x - 0.5, y - 0.25], dim=1)
    # line: y = x / 2 for x in [-2, 2]
    x = 4 * t - 2
    return torch.stack([x, 0.5 * x], dim=1)


_CURVE_MODES = {"spiral": 8, "moons": 8, "line": 5}
_SIGMA = {"ring": 0.1, "grid": 0.08, "spiral": 0.08, "moons": 0.08, "line": 0.06}


def target_spec(name: str) -> TargetSpec:
    """Modes and noise level of a target. For curves (spiral, moons, line) the
    "modes" are equal stretches of the curve's parameter, so covering all of
    them means covering the whole curve."""
    check_choice("target", name, TARGETS)
    if name == "ring":
        angle = torch.arange(8) * (2 * math.pi / 8)
        centres = 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (8, 2)
        return TargetSpec(name, _SIGMA[name], centres, torch.arange(8), 8)
    if name == "grid":
        v = torch.arange(-2.0, 2.5, 1.0)  # -2 .. 2
        gy, gx = torch.meshgrid(v, v, indexing="ij")
        centres = torch.stack([gx.flatten(), gy.flatten()], dim=1)  # (25, 2)
        return TargetSpec(name, _SIGMA[name], centres, torch.arange(25), 25)
    n = _CURVE_MODES[name]
    t = (torch.arange(2000) + 0.5) / 2000  # (2000,) dense parameter grid
    labels = (t * n).long().clamp(max=n - 1)
    return TargetSpec(name, _SIGMA[name], _curve(name, t), labels, n)


def sample_target(
    name: str, n: int, g: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """n real samples (n, 2), float32, drawn with the generator ``g``."""
    spec = target_spec(name)
    if name in ("ring", "grid"):
        k = torch.randint(spec.n_modes, (n,), generator=g, device=device)
        base = spec.skeleton.to(device)[k]  # (n, 2) chosen centres
    else:
        base = _curve(name, torch.rand(n, generator=g, device=device))
    return base + spec.sigma * torch.randn(n, 2, generator=g, device=device)


def sample_noise(
    kind: str, n: int, dim: int, g: torch.Generator, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """z (n, dim): standard normal, or uniform on [-1, 1]."""
    if kind == "gaussian":
        return torch.randn(n, dim, generator=g, device=device)
    return torch.rand(n, dim, generator=g, device=device) * 2 - 1


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GanConfig:
    target: str = "ring"  # one of TARGETS
    noise: str = "gaussian"  # distribution of z: "gaussian" or "uniform"
    noise_dim: int = 2  # n_z, the dimension of z
    g_hidden: tuple[int, ...] = (64, 64)  # hidden layer sizes of the generator
    d_hidden: tuple[int, ...] = (64, 64)  # hidden layer sizes of the discriminator
    activation: str = (
        "tanh"  # hidden activation of both networks (tanh: 10/10 seeds cover the ring)
    )
    loss: str = "nonsaturating"  # one of LOSSES
    d_optimizer: str = "adam"  # optimizer of D: "adam" or "sgd"
    g_optimizer: str = "adam"  # optimizer of G
    d_lr: float = 2e-3  # learning rate of D
    g_lr: float = 2e-3  # learning rate of G
    beta1: float = 0.5  # Adam's first-moment decay (0.5 is the GAN custom)
    d_steps: int = 1  # updates of D per update of G
    batch_size: int = 128  # B, real and generated samples per step
    steps: int = 1000  # generator updates in one train() call
    eval_every: int = 100  # measure modes covered and JS every this many steps
    seed: int = 0  # seeds initial weights, noise and real batches

    def __post_init__(self) -> None:
        check_choice("target", self.target, TARGETS)
        check_choice("noise", self.noise, NOISES)
        check_range("noise dimension", self.noise_dim, 1, MAX_NOISE_DIM)
        for who, hidden in (("generator", self.g_hidden), ("discriminator", self.d_hidden)):
            check_range(f"number of {who} hidden layers", len(hidden), 1, MAX_LAYERS)
            for h in hidden:
                check_range(f"{who} hidden size", h, 1, MAX_HIDDEN)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("D optimizer", self.d_optimizer, OPTIMIZERS)
        check_choice("G optimizer", self.g_optimizer, OPTIMIZERS)
        check_range("D learning rate", self.d_lr, 1e-6, 10.0)
        check_range("G learning rate", self.g_lr, 1e-6, 10.0)
        check_range("beta1", self.beta1, 0.0, 0.999)
        check_range("D steps per G step", self.d_steps, 1, MAX_D_STEPS)
        check_range("batch size", self.batch_size, 2, MAX_BATCH)
        check_range("steps", self.steps, 1, MAX_STEPS)
        check_range("evaluation interval", self.eval_every, 1, MAX_STEPS)

    @classmethod
    def tiny(cls) -> GanConfig:
        return cls(g_hidden=(32, 32), d_hidden=(32, 32), batch_size=64, steps=200, eval_every=50)
