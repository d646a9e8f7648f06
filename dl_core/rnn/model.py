"""The torch-module core that training uses: the fused nn.RNN / nn.LSTM / nn.GRU and a linear
readout y_hat_t = W_hy h_t + b_y (SeqModel), its seeded initialisation, a model rebuilt from a
result's weights, and strings sampled from a trained character model."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dl_core import sequences as seq
from dl_core.rnn.config import RNNConfig
from dl_core.training import generator


def make_core(cell: str, n_in: int, hidden: int) -> nn.RNNBase:
    """The fused torch module for ``cell``: one layer, batch first."""
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    return cls(n_in, hidden, batch_first=True)


def core_weights(core: nn.RNNBase) -> dict[str, torch.Tensor]:
    """The fused module's weights under the page's names (detached views)."""
    return {
        "W_ih": core.weight_ih_l0.detach(),
        "W_hh": core.weight_hh_l0.detach(),
        "b_ih": core.bias_ih_l0.detach(),
        "b_hh": core.bias_hh_l0.detach(),
    }


class SeqModel(nn.Module):
    """A recurrent core and a linear readout y_hat_t = W_hy h_t + b_y."""

    def __init__(self, cfg: RNNConfig) -> None:
        super().__init__()
        self.cell = cfg.cell
        self.core = make_core(cfg.cell, cfg.n_in, cfg.hidden)
        self.head = nn.Linear(cfg.hidden, cfg.n_out)

    def forward(self, x: torch.Tensor, state=None):
        """x (B, T, D) -> outputs (B, T, n_out) and the final state."""
        h, state = self.core(x, state)  # (B, T, H)
        return self.head(h), state


def init_model(cfg: RNNConfig, device: torch.device | str = "cpu") -> SeqModel:
    """PyTorch's default init U(-1/sqrt(H), 1/sqrt(H)), drawn from the config's
    seed (not the global one), and the LSTM forget bias set to cfg.forget_bias."""
    model = SeqModel(cfg)
    g = generator(cfg.seed + 17)
    k = 1 / math.sqrt(cfg.hidden)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * k)
        if cfg.cell == "lstm":
            H = cfg.hidden
            model.core.bias_ih_l0[H : 2 * H] = cfg.forget_bias
            model.core.bias_hh_l0[H : 2 * H] = 0.0
    return model.to(device)


def model_from_state(cfg: RNNConfig, state: dict[str, np.ndarray]) -> SeqModel:
    """A CPU model holding the trained weights of a result."""
    model = SeqModel(cfg)
    with torch.no_grad():
        model.core.weight_ih_l0.copy_(torch.from_numpy(state["W_ih"]))
        model.core.weight_hh_l0.copy_(torch.from_numpy(state["W_hh"]))
        model.core.bias_ih_l0.copy_(torch.from_numpy(state["b_ih"]))
        model.core.bias_hh_l0.copy_(torch.from_numpy(state["b_hh"]))
        model.head.weight.copy_(torch.from_numpy(state["W_hy"]))
        model.head.bias.copy_(torch.from_numpy(state["b_y"]))
    return model


def sample_strings(model: SeqModel, n: int, seed: int) -> tuple[str, ...]:
    """Sample ``n`` strings from a trained character model, starting from "B",
    one symbol at a time from the softmax, until "E" closes the outer string or
    MAX_REBER_LEN symbols."""
    g = generator(seed)
    out = []
    with torch.no_grad():
        for _ in range(n):
            s, state = "B", None
            while len(s) < seq.MAX_REBER_LEN:
                x = F.one_hot(torch.tensor([[seq.CHAR_INDEX[s[-1]]]]), len(seq.ALPHABET)).float()
                logits, state = model(x, state)  # (1, 1, 7)
                p = torch.softmax(logits[0, -1].double(), -1)
                c = seq.ALPHABET[int(torch.multinomial(p, 1, generator=g))]
                s += c
                if c == "E" and s.count("E") >= 2:
                    break
            out.append(s)
    return tuple(out)
