"""The hand-written encoder and decoder, written with tensor ops next to their formulas:

    encoder   h = relu(W1 x + b1),     z = W2 h + b2           (AE)
                                        mu, logvar = W2 h + b2  (VAE, 2 d_z outputs)
    decoder   h' = relu(W3 z + b3),    x_hat = sigmoid(W4 h' + b4)

and for the linear AE  z = W_e x + b_e,  x_hat = W_d z + b_d. ``reference_modules`` builds
the same networks from ``torch.nn`` layers, for the tests and the page's "under the hood".
"""

from __future__ import annotations

import math

import torch

from dl_core.autoencoder.config import PIXELS, AEConfig, AEResult

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


def tensors(res: AEResult) -> dict[str, torch.Tensor]:
    """The trained weights as fresh CPU tensors (copies: the result stays untouched)."""
    return {k: torch.tensor(v) for k, v in res.weights.items()}
