"""Training the fused module (train, with truncated BPTT, clipping and divergence detection),
the device rule, the lesson when training diverges, and the bench record."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from dl_core import sequences as seq
from dl_core.device import pick
from dl_core.rnn.config import (
    CUDA_MIN_WORK,
    LOSS_LIMIT,
    N_EXAMPLES,
    N_SAMPLES,
    N_TEST,
    N_TRAIN,
    RNNConfig,
)
from dl_core.rnn.model import core_weights, init_model, sample_strings
from dl_core.rnn.tasks import TARGETS, elementwise_loss, make_data, reached, test_metric
from dl_core.training import generator


def pick_device(cfg: RNNConfig) -> torch.device:
    """CUDA (when present) unless the run is tiny: batch * T * H^2 < CUDA_MIN_WORK.

    Measured on an H100 host (2 CPU threads): the fused cuDNN call handles a
    whole sequence at once, so from the default size up CUDA is as fast or
    faster (default LSTM 340 vs 291 steps/s, GRU 387 vs 163, H=96 B=256 T=120
    361 vs 8); only test-sized runs stay on the CPU, where a launch costs more
    than their arithmetic."""
    work = cfg.batch * cfg.length * cfg.hidden**2
    return pick(small=work < CUDA_MIN_WORK)


@dataclass(frozen=True)
class RNNResult:
    config: RNNConfig
    loss: np.ndarray  # (K,) training loss of step k = 1..K (K < steps when diverged)
    grad_norm: np.ndarray  # (K,) global gradient norm before clipping
    eval_steps: np.ndarray  # (E,) steps at which the test metric was measured
    eval_metric: np.ndarray  # (E,) test metric (see RNNConfig.metric)
    final_metric: float  # the test metric after training (NaN when diverged)
    state: dict[str, np.ndarray]  # trained weights W_ih, W_hh, b_ih, b_hh, W_hy, b_y
    example_x: np.ndarray  # (S, T, D) a few test inputs
    example_y: np.ndarray  # (S, T, 1) or (S, T): their targets (clean for forecasts)
    example_out: np.ndarray  # (S, T, n_out) the trained model's outputs
    example_strings: tuple[str, ...]  # reber: the example strings
    samples: tuple[str, ...]  # reber: strings sampled from the trained model
    valid_fraction: float | None  # reber: fraction of samples that obey the grammar
    seconds_to_target: float | None  # wall time until the test metric first met TARGETS
    diverged_at: int | None  # first step with a non-finite / exploding loss or gradient
    device: str
    seconds: float


def _chunks(T: int, bptt: int) -> list[tuple[int, int]]:
    k = T if bptt <= 0 else bptt
    return [(s, min(s + k, T)) for s in range(0, T, k)]


def train(cfg: RNNConfig, device: torch.device | str | None = None, on_step=None) -> RNNResult:
    """Train the fused module on the task; ``on_step(k, losses)`` is called every step
    with the training losses so far (for a live curve; the list must not be modified).

    Truncated BPTT: the sequence is cut into chunks of ``cfg.bptt`` steps; the
    hidden state is carried across chunks but detached, so no gradient flows
    back further than one chunk; the gradients of all chunks are summed into one
    update per mini-batch. Divergence stops training and is reported."""
    dev = torch.device(device) if device is not None else pick_device(cfg)
    start = time.perf_counter()
    with torch.enable_grad():
        train_data = make_data(cfg, N_TRAIN, cfg.seed)
        test_data = make_data(cfg, N_TEST, cfg.seed + 1)
        X, Y, M = (a.to(dev) for a in (train_data.x, train_data.y, train_data.mask))
        Xte = test_data.x.to(dev)
        model = init_model(cfg, dev)
        params = list(model.parameters())
        if cfg.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=cfg.lr)
        else:
            opt = torch.optim.SGD(params, lr=cfg.lr)
        g = generator(cfg.seed + 2)
        batches = torch.randint(N_TRAIN, (cfg.steps, cfg.batch), generator=g).to(dev)
        chunks = _chunks(cfg.length, cfg.bptt)
        eval_every = max(1, cfg.steps // 15)
        losses, norms, ev_steps, ev_vals = [], [], [], []
        diverged_at, to_target = None, None
        max_norm = cfg.clip if cfg.clip > 0 else math.inf

        def evaluate(k: int) -> float:
            with torch.no_grad():
                out, _ = model(Xte)
                val = test_metric(cfg, out.cpu(), test_data)
            ev_steps.append(k)
            ev_vals.append(val)
            return val

        for k in range(1, cfg.steps + 1):
            idx = batches[k - 1]
            xb, yb, mb = X[idx], Y[idx], M[idx]  # (B, T, D), targets, (B, T)
            denom = mb.sum().clamp(min=1.0)
            opt.zero_grad(set_to_none=False)
            state, total = None, 0.0
            for s, e in chunks:
                out, state = model(xb[:, s:e], state)
                loss = (elementwise_loss(cfg, out, yb[:, s:e]) * mb[:, s:e]).sum() / denom
                loss.backward()
                total += float(loss.detach())
                state = tuple(v.detach() for v in state) if cfg.cell == "lstm" else state.detach()
            norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
            if not (math.isfinite(total) and math.isfinite(norm)) or total > LOSS_LIMIT:
                diverged_at = k
                losses.append(total)
                norms.append(norm)
                break
            opt.step()
            losses.append(total)
            norms.append(norm)
            if on_step is not None:
                on_step(k, losses)
            if k % eval_every == 0 or k == cfg.steps:
                val = evaluate(k)
                if to_target is None and reached(cfg, val):
                    to_target = time.perf_counter() - start
        model = model.cpu()
        with torch.no_grad():
            if diverged_at is None and not all(torch.isfinite(p).all() for p in params):
                diverged_at = len(losses)
            out, _ = model(test_data.x[:N_EXAMPLES])
            final = math.nan if diverged_at is not None else ev_vals[-1]
            samples = sample_strings(model, N_SAMPLES, cfg.seed + 3) if cfg.task == "reber" else ()
    seconds = time.perf_counter() - start
    ex_y = test_data.y_clean if test_data.y_clean is not None else test_data.y
    W = core_weights(model.core)
    return RNNResult(
        config=cfg,
        loss=np.asarray(losses, dtype=np.float64),
        grad_norm=np.asarray(norms, dtype=np.float64),
        eval_steps=np.asarray(ev_steps, dtype=np.int64),
        eval_metric=np.asarray(ev_vals, dtype=np.float64),
        final_metric=final,
        state={
            **{n: v.numpy().copy() for n, v in W.items()},
            "W_hy": model.head.weight.detach().numpy().copy(),
            "b_y": model.head.bias.detach().numpy().copy(),
        },
        example_x=test_data.x[:N_EXAMPLES].numpy(),
        example_y=ex_y[:N_EXAMPLES].numpy(),
        example_out=out.numpy(),
        example_strings=test_data.strings[:N_EXAMPLES],
        samples=samples,
        valid_fraction=(
            sum(seq.is_embedded_reber(s) for s in samples) / len(samples) if samples else None
        ),
        seconds_to_target=to_target,
        diverged_at=diverged_at,
        device=dev.type,
        seconds=seconds,
    )


def diagnose(res: RNNResult) -> str | None:
    """A one-paragraph lesson when training diverged, else None."""
    if res.diverged_at is None:
        return None
    cfg = res.config
    finite = res.grad_norm[np.isfinite(res.grad_norm)]
    peak = float(finite.max()) if finite.size else math.inf
    msg = (
        f"Training diverged at step {res.diverged_at}: the gradient norm reached "
        f"{peak:.3g} and the loss became {'infinite or NaN' if not np.isfinite(res.loss[-1]) else f'{res.loss[-1]:.3g}'}. "
    )
    msg += (
        "Exploding gradients: backpropagation multiplies the gradient by one Jacobian per "
        "time step (for the vanilla RNN diag(1 − hₜ²)·W_hh), and when those factors stretch "
        "vectors by more than 1 the product can grow exponentially with the number of steps. "
    )
    if cfg.clip == 0:
        msg += "Turn on gradient clipping (e.g. max norm 1) or lower the learning rate."
    else:
        msg += f"Clipping at {cfg.clip:g} was not enough at learning rate {cfg.lr:g}: lower it."
    return msg


def bench() -> list[dict]:
    """The default sine task: test MSE of the one-step forecast, target 1e-3."""
    cfg = RNNConfig()
    res = train(cfg)
    return [
        {
            "topic": "rnn",
            "task": "sine",
            "metric": "mse",
            "target": TARGETS["sine"],
            "value": res.final_metric,
            "reached": bool(res.final_metric <= TARGETS["sine"]),
            "seconds": res.seconds,
            "steps": len(res.loss),
            "seconds_to_target": res.seconds_to_target,
            "device": res.device,
        }
    ]
