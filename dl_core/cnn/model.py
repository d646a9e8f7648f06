"""The networks in ``torch.nn``: the CNN ([conv -> ReLU -> pool] x layers -> linear) and
the MLP with about its parameter count, their seeded initial weights and their description."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_core.cnn.config import N_CLASSES, CNNConfig, image_size
from dl_core.training import generator


def _pool(x: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "none" or min(x.shape[-2:]) < 2:
        return x
    return F.max_pool2d(x, 2) if kind == "max" else F.avg_pool2d(x, 2)


class CNN(nn.Module):
    """[conv k x k, same padding -> ReLU -> 2x2 pool] x layers -> flatten -> linear(10)."""

    def __init__(self, cfg: CNNConfig, size: int) -> None:
        super().__init__()
        self.pool = cfg.pool
        chans = (1, *cfg.channels)
        self.convs = nn.ModuleList(
            nn.Conv2d(chans[i], chans[i + 1], cfg.kernel, padding=cfg.kernel // 2)
            for i in range(cfg.layers)
        )
        for _ in range(cfg.layers):  # spatial size after each block
            size = size // 2 if cfg.pool != "none" and size >= 2 else size
        self.drop_dim = chans[-1] * size * size
        self.head = nn.Linear(self.drop_dim, N_CLASSES)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """After conv + ReLU of every layer (before pooling): [(B, C_l, H_l, W_l)]."""
        maps = []
        for conv in self.convs:
            x = F.relu(conv(x))
            maps.append(x)
            x = _pool(x, self.pool)
        return maps

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for conv in self.convs:
            x = _pool(F.relu(conv(x)), self.pool)
        h = x.flatten(1)  # (B, drop_dim)
        if mask is not None:  # inverted dropout: mask holds 0 or 1/(1 - p)
            h = h * mask
        return self.head(h)  # (B, 10) logits


class MLP(nn.Module):
    """flatten -> linear(hidden) -> ReLU -> linear(10)."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(n_in, hidden), nn.Linear(hidden, N_CLASSES)
        self.drop_dim = hidden

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.fc1(x.flatten(1)))  # (B, hidden)
        if mask is not None:
            h = h * mask
        return self.fc2(h)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def mlp_hidden(cfg: CNNConfig) -> int:
    """Hidden units of the MLP whose parameter count, (n_in + 1) h + (h + 1) 10,
    is closest to the CNN's."""
    n_in = image_size(cfg.dataset) ** 2
    with torch.device("meta"):
        budget = count_params(CNN(replace(cfg, arch="cnn"), image_size(cfg.dataset)))
    return max(1, round((budget - N_CLASSES) / (n_in + 1 + N_CLASSES)))


def head_features(cfg: CNNConfig) -> int:
    """Inputs of the last linear layer (what dropout acts on): for a CNN the last conv
    layer's filters times its spatial size after pooling; for the MLP its hidden units."""
    if cfg.arch == "mlp":
        return mlp_hidden(cfg)
    with torch.device("meta"):
        return CNN(cfg, image_size(cfg.dataset)).drop_dim


def build_model(cfg: CNNConfig, device: torch.device | str = "cpu") -> nn.Module:
    """The model with weights drawn from the config's seed (a local generator):
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, torch's default init."""
    size = image_size(cfg.dataset)
    with torch.device("meta"):  # no global RNG is touched
        if cfg.arch == "cnn":
            model: nn.Module = CNN(cfg, size)
        else:
            model = MLP(size * size, mlp_hidden(cfg))
    model = model.to_empty(device="cpu")
    g = generator(cfg.seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                bound = 1 / math.sqrt(fan_in)
                for p in (mod.weight, mod.bias):
                    p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)
    return model.to(device)


def load_state(cfg: CNNConfig, state: dict[str, np.ndarray]) -> nn.Module:
    """Rebuild a trained model on the CPU from ``Result.state``, in eval mode."""
    model = build_model(cfg)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    return model.eval()


def describe(cfg: CNNConfig) -> str:
    """The architecture in one line."""
    if cfg.arch == "mlp":
        return f"flatten → linear({mlp_hidden(cfg)}) → ReLU → linear → 10 logits → softmax"
    pool = f" → {cfg.pool} pool 2×2" if cfg.pool != "none" else ""
    convs = [f"conv {cfg.kernel}×{cfg.kernel}, {c} filters → ReLU{pool}" for c in cfg.channels]
    return " → ".join([*convs, "flatten", "linear → 10 logits → softmax"])
