"""The same network in torch.nn with torch.optim: the reference the tests and the page
compare the hand-written one with."""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn

from dl_core.mlp.config import BN_EPS, BN_MOMENTUM, Config
from dl_core.mlp.network import Net
from dl_core.training import one_thread, timer

# ---------------------------------------------------------------------------
# The torch.nn / torch.optim reference
# ---------------------------------------------------------------------------


class TorchMLP(nn.Module):
    """The same network with nn.Linear, nn.BatchNorm1d, activation modules and
    nn.Dropout; ``masks`` (one (B, h) tensor per hidden layer, already divided
    by 1 - p) replaces nn.Dropout's own random masks so both can be compared."""

    def __init__(self, cfg: Config, dtype: torch.dtype = torch.float64):
        super().__init__()
        sizes = cfg.sizes
        self.cfg = cfg
        self.linears = nn.ModuleList(
            nn.Linear(sizes[i], sizes[i + 1], dtype=dtype) for i in range(len(sizes) - 1)
        )
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(h, eps=BN_EPS, momentum=BN_MOMENTUM, dtype=dtype) for h in cfg.hidden
        ) if cfg.batch_norm else None  # fmt: skip
        self.act = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(),
                    "linear": nn.Identity()}[cfg.activation]  # fmt: skip
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        for i, lin in enumerate(self.linears[:-1]):
            x = lin(x)
            if self.norms is not None:
                x = self.norms[i](x)
            x = self.act(x)
            x = x * masks[i] if masks is not None else self.drop(x)
        return self.linears[-1](x)

    def load_flat(self, net: Net) -> TorchMLP:
        """Copy the hand-written network's parameters (W is stored transposed)."""
        with torch.no_grad():
            for i, (lin, L) in enumerate(zip(self.linears, net.layers, strict=True)):
                lin.weight.copy_(L.W.T)
                lin.bias.copy_(L.b)
                if self.norms is not None and i < len(self.norms):
                    self.norms[i].weight.copy_(L.gamma)
                    self.norms[i].bias.copy_(L.beta)
        return self

    def flat(self, grad: bool = False) -> torch.Tensor:
        """Parameters (or, with ``grad``, their .grad) in the hand-written order:
        W, b[, gamma, beta] per layer."""
        parts = []
        for i, lin in enumerate(self.linears):
            ps = [lin.weight, lin.bias]
            if self.norms is not None and i < len(self.norms):
                ps += [self.norms[i].weight, self.norms[i].bias]
            ts = [p.grad if grad else p for p in ps]
            parts += [ts[0].T.reshape(-1)] + [t.reshape(-1) for t in ts[1:]]
        return torch.cat(parts).detach()

    def loss(self, x: torch.Tensor, Y: torch.Tensor, masks=None) -> torch.Tensor:
        """nn.functional's data loss plus the penalty on the weights."""
        out = self(x, masks)
        task = self.cfg.task
        if task == "binary":
            loss = nn.functional.binary_cross_entropy_with_logits(out, Y)
        elif task == "multiclass":
            loss = nn.functional.cross_entropy(out, Y.argmax(1))
        else:
            loss = nn.functional.mse_loss(out, Y)
        lam = self.cfg.reg_rate
        if lam > 0 and self.cfg.regularization != "none":
            for lin in self.linears:
                w = lin.weight
                loss = loss + (lam * w.abs().sum() if self.cfg.regularization == "l1"
                               else lam * 0.5 * (w * w).sum())  # fmt: skip
        return loss


def reference_optimizer(cfg: Config, params) -> torch.optim.Optimizer:
    """The torch.optim optimizer the hand-written update must match."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr)
    if cfg.optimizer == "momentum":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)


def reference_gap(cfg: Config, steps: int = 50) -> float:
    """max |theta_hand - theta_torch| after ``steps`` full-batch steps from the
    same start, in float64 (dropout is switched off: its masks are random)."""
    cfg = replace(cfg, dropout=0.0, batch_size=0)
    net = Net(cfg, dtype=torch.float64)
    ref = TorchMLP(cfg).load_flat(net)
    opt = reference_optimizer(cfg, ref.parameters())
    with torch.enable_grad(), one_thread():
        for _ in range(steps):
            opt.zero_grad()
            ref.loss(net.F_train, net.Y_train).backward()
            opt.step()
    net.advance(steps, record=False)
    if net.diverged_at is not None:
        return math.nan
    return float((net.theta - ref.flat()).abs().max())


def reference_steps_per_second(cfg: Config, steps: int = 200, repeats: int = 5) -> float:
    """Full-batch steps per second of the nn.Module + autograd + torch.optim loop
    (best of ``repeats`` timings, as ``steps_per_second``)."""
    net = Net(cfg)
    ref = TorchMLP(cfg, dtype=torch.float32).load_flat(net)
    opt = reference_optimizer(cfg, ref.parameters())
    X, Y = net.F_train, net.Y_train
    best = math.inf
    with torch.enable_grad(), one_thread():  # the same thread rule as the hand-written step
        for _ in range(repeats):
            with timer() as t:
                for _ in range(steps):
                    opt.zero_grad()
                    ref.loss(X, Y).backward()
                    opt.step()
            best = min(best, t[0])
    return steps / best
