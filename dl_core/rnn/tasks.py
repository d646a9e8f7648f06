"""The four tasks: their data (from dl_core.sequences), the loss of every time step, the test
metric and the target it should reach."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from dl_core import sequences as seq
from dl_core.rnn.config import RNNConfig


@dataclass(frozen=True)
class TaskData:
    x: torch.Tensor  # (N, T, D) inputs
    y: torch.Tensor  # (N, T, 1) float targets, or (N, T) int64 class targets (-100 = ignore)
    mask: torch.Tensor  # (N, T) 1.0 where the loss counts
    y_clean: torch.Tensor | None = None  # sine / noisy: (N, T, 1) noise-free targets
    legal: torch.Tensor | None = None  # reber: (N, T, 7) legal next symbols
    strings: tuple[str, ...] = ()  # reber: the strings


def make_data(cfg: RNNConfig, n: int, seed: int) -> TaskData:
    """``n`` sequences of the config's task."""
    T = cfg.length
    if cfg.task in ("sine", "noisy"):
        w = seq.sine_windows(n, T, seed, noise=cfg.noise if cfg.task == "noisy" else 0.0)
        return TaskData(w.x, w.y, torch.ones(n, T), y_clean=w.y_clean)
    if cfg.task == "memory":
        m = seq.memory_task(n, cfg.gap, seed)
        y = torch.full((n, T), -100, dtype=torch.int64)
        y[:, -1] = m.label  # only the last step is scored
        mask = torch.zeros(n, T)
        mask[:, -1] = 1.0
        return TaskData(m.x, y, mask)
    strings = seq.embedded_reber(n, seed)
    x, y = seq.encode(strings, T)
    return TaskData(
        x, y, (y >= 0).float(), legal=seq.legal_mask(strings, T), strings=tuple(strings)
    )


def elementwise_loss(cfg: RNNConfig, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Loss of every (sequence, time step): out (B, T, n_out) -> (B, T).

    Squared error for forecasting, cross-entropy for the symbol tasks."""
    if cfg.task in ("sine", "noisy"):
        return (out - y).pow(2).squeeze(-1)
    B, T, C = out.shape
    return F.cross_entropy(out.reshape(B * T, C), y.reshape(B * T), reduction="none").reshape(B, T)


def test_metric(cfg: RNNConfig, out: torch.Tensor, data: TaskData) -> float:
    """Forecasts: MSE of the last step's forecast against the clean next value.
    Memory: accuracy of the recall. Reber: fraction of positions whose most
    likely next symbol is legal."""
    if cfg.task in ("sine", "noisy"):
        return float((out[:, -1] - data.y_clean[:, -1]).pow(2).mean())
    if cfg.task == "memory":
        return float((out[:, -1].argmax(-1) == data.y[:, -1]).float().mean())
    pred = out.argmax(-1)  # (N, T)
    ok = data.legal.gather(-1, pred[..., None])[..., 0]  # (N, T) bool
    valid = data.mask.bool()
    return float(ok[valid].float().mean())


def reached(cfg: RNNConfig, value: float) -> bool:
    """Does the test metric meet the task's target (TARGETS)?"""
    target = TARGETS[cfg.task]
    return value >= target if cfg.higher_is_better else value <= target


TARGETS = {"sine": 1e-3, "noisy": 2e-2, "memory": 0.95, "reber": 0.99}
