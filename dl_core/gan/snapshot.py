"""What the page inspects: a snapshot of everything the live view draws, as numpy arrays,
and the minimax terms of the last training batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dl_core.gan.config import MAX_EVAL_SAMPLES, MAX_GRID, VIEW, sample_target, target_spec
from dl_core.gan.model import (
    MinimaxNumbers,
    backward,
    forward,
    g_loss_grad,
    gradient_penalty,
    minimax_numbers,
)
from dl_core.gan.theory import (
    Coverage,
    d_view,
    grid_axis,
    js_divergence,
    kde_grid,
    mode_coverage,
    optimal_discriminator,
)
from dl_core.gan.training import GanState, generate
from dl_core.training import generator, one_thread

# ---------------------------------------------------------------------------
# Snapshot: everything the live view draws, as numpy arrays
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    step: int
    axis: np.ndarray  # (n,) cell centres of the grid along x and y
    real: np.ndarray  # (N, 2) real samples
    fake: np.ndarray  # (N, 2) generated samples G(z)
    move: np.ndarray  # (N, 2) -dL_G/dx per sample: where each fake is pushed
    D_grid: np.ndarray  # (n, n) d_view(loss, a(x)) on the grid, indexed [y, x]: D's output
    D_star: np.ndarray  # (n, n) D*(x) = p_data / (p_data + p_g) from KDEs; NaN off both supports
    p_data: np.ndarray  # (n, n) KDE of the real samples
    p_g: np.ndarray  # (n, n) KDE of the generated samples
    noise_lines: list[np.ndarray]  # each (P, 2): a line of the noise grid mapped through G
    js: float  # JS(p_data, p_g) on the grid, nats
    coverage: Coverage
    numbers: MinimaxNumbers | None  # the last training batch's terms, current D and G


def noise_grid_lines(kind: str, dim: int, lines: int = 9, points: int = 41) -> list[torch.Tensor]:
    """Straight lines of a grid in the (z_1, z_2) plane (other coordinates 0), each (P, dim);
    one line along z_1 when dim = 1. Spans [-2, 2] for Gaussian noise, [-1, 1] for uniform."""
    r = 2.0 if kind == "gaussian" else 1.0
    t = torch.linspace(-r, r, points)
    levels = torch.linspace(-r, r, lines)
    out = []
    if dim == 1:
        return [t[:, None]]
    for c in levels:
        for axis in (0, 1):
            z = torch.zeros(points, dim)
            z[:, axis] = t
            z[:, 1 - axis] = c
            out.append(z)
    return out


def snapshot(state: GanState, n: int = 512, grid: int = 48) -> Snapshot:
    """Evaluate the current networks for the live view."""
    c = state.cfg
    n, grid = min(n, MAX_EVAL_SAMPLES), min(grid, MAX_GRID)
    spec = target_spec(c.target)
    dev = state.device
    with one_thread(dev), torch.no_grad():
        real = sample_target(c.target, n, generator(777), dev)
        _, fake = generate(state, n)
        hf = forward(state.D, fake)
        move = -backward(state.D, hf, g_loss_grad(c.loss, hf[-1]) * n, params=False, dx=True)
        axis = grid_axis(grid)
        Y, X = torch.meshgrid(axis, axis, indexing="ij")
        pts = torch.stack([X.flatten(), Y.flatten()], 1).float().to(dev)  # (n*n, 2)
        D_grid = d_view(c.loss, forward(state.D, pts)[-1].view(grid, grid))
        h = max(spec.sigma, 2 * VIEW / grid)
        safe = fake.clamp(-50, 50)
        p_data, p_g = kde_grid(real, axis, h), kde_grid(safe, axis, h)
        lines = [
            forward(state.G, z.to(dev))[-1].cpu().numpy()
            for z in noise_grid_lines(c.noise, c.noise_dim)
        ]
        numbers = batch_numbers(state)
        return Snapshot(
            step=state.step,
            axis=axis.numpy(),
            real=real.cpu().numpy(),
            fake=fake.cpu().numpy(),
            move=move.cpu().numpy(),
            D_grid=D_grid.cpu().numpy(),
            D_star=optimal_discriminator(p_data, p_g).numpy(),
            p_data=p_data.numpy(),
            p_g=p_g.numpy(),
            noise_lines=lines,
            js=js_divergence(p_data, p_g),
            coverage=mode_coverage(fake, spec),
            numbers=numbers,
        )


# ---------------------------------------------------------------------------
# train(): a whole run, and the result for caching
# ---------------------------------------------------------------------------


def batch_numbers(state: GanState) -> MinimaxNumbers | None:
    """The minimax terms of the last training batch (its real x and its noise z) under the
    current D and G, so every number on the page comes from one pair of networks. None
    before the first step."""
    if state.last_X is None:
        return None
    with torch.no_grad():
        fake = forward(state.G, state.last_Z)[-1]  # (B, 2)
        a = forward(state.D, torch.cat([state.last_X, fake]))[-1][:, 0]  # (2B,)
        B = state.last_X.shape[0]
        gp = 0.0
        if state.cfg.loss == "wgan_gp":  # its own fixed draw of tau: the term as trained
            tau = torch.rand(B, 1, generator=generator(4321, state.device), device=state.device)
            gp = float(gradient_penalty(state.D, state.last_X, fake, tau))
        return minimax_numbers(a[:B], a[B:], state.cfg.loss, gp)
