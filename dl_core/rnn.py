"""Recurrent networks: the vanilla RNN, the LSTM and the GRU.

Training uses the fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (cuDNN on a GPU,
one call per sequence); the walkthrough runs the hand-written cells below on
the trained weights. The tests check the hand-written cells against the torch
modules with copied weights, and the gradient-through-time measurement against
finite differences and an explicit product of Jacobians.

Symbols follow the page and PyTorch's layout of the weights (d_h: the hidden size):

* vanilla RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
* LSTM with a forget gate (Gers, Schmidhuber & Cummins 2000; no peepholes), gate order
  i, f, g, o in the stacked weights:
  i = sigma(.), f = sigma(.), g = tanh(.), o = sigma(.),
  c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)
  (Hochreiter & Schmidhuber's 1997 LSTM had no forget gate: f = 1.)
* GRU (gate order r, u, n). The update gate is u, as in Goodfellow et al.: Cho et al. 2014
  and PyTorch call it z, a letter this app keeps for latent codes. Its role is Cho's and
  PyTorch's: the share of the old state kept.
  r = sigma(W_ir x + b_ir + W_hr h + b_hr), u = sigma(...),
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h_t = (1 - u) * n + u * h_{t-1}
  PyTorch (and cuDNN; Keras's reset_after=True) apply r after the product W_hn h; Cho et
  al. 2014 as published (section 2.3; arXiv 1406.1078v3) apply it before,
  n = tanh(W_in x + b_in + W_hn (r * h) + b_hn): a different function (``gru_cell_cho``).

Both PyTorch cells carry two biases, b_ih and b_hh, where the papers have one: only their
sum matters, except for the GRU's b_hn, which the reset gate multiplies.

The readout is y_hat_t = W_hy h_t + b_y.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dl_core import sequences as seq
from dl_core.device import pick
from dl_core.training import check_choice, check_range, generator

CELLS = ("rnn", "lstm", "gru")
CELL_LABELS = {"rnn": "Vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
TASKS = ("sine", "noisy", "memory", "reber")
TASK_LABELS = {
    "sine": "Sine forecasting",
    "noisy": "Noisy series forecasting",
    "memory": "Memory (recall after a gap)",
    "reber": "Embedded Reber grammar",
}
OPTIMIZERS = ("adam", "sgd")
GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "u", "n")}
N_GATES = {"rnn": 1, "lstm": 4, "gru": 3}

MAX_HIDDEN = 128
MAX_SEQ_LEN = 120  # sine / noisy window length
MAX_GAP = 100  # memory task: the sequence is gap + 2 steps long
MAX_STEPS = 3000
MAX_BATCH = 256
N_TRAIN = 2048  # training sequences per task (preloaded; batches are drawn from them)
N_TEST = 256  # held-out sequences for the test metric
N_EXAMPLES = 8  # test sequences kept in the result for the charts
N_SAMPLES = 40  # strings sampled from a trained Reber model
LOSS_LIMIT = 1e6  # a training loss beyond this counts as diverged
CUDA_MIN_WORK = (
    2_000_000  # batch * length * hidden**2 below this trains on the CPU (see pick_device)
)


WORK_BUDGET = 120_000  # RNNConfig.work of one run the app allows: 2-5 s on one CPU thread


def within_budget(cfg: RNNConfig) -> RNNConfig:
    """The same config with its steps cut so that ``cfg.work <= WORK_BUDGET`` (a learner's
    link or slider cannot stall a shared server). The default uses 6 % of it (0.3 s)."""
    per_step = cfg.work / cfg.steps
    cap = max(1, int(WORK_BUDGET // per_step))
    return cfg if cfg.steps <= cap else replace(cfg, steps=cap)


@dataclass(frozen=True)
class RNNConfig:
    task: str = "sine"  # one of TASKS
    cell: str = "lstm"  # one of CELLS
    hidden: int = 32  # H, the size of the hidden state h_t
    seq_len: int = 24  # T, window length for the sine / noisy tasks
    gap: int = 10  # N, memory task: steps between the symbol and the recall cue
    bptt: int = 0  # truncated BPTT: gradients flow back at most this many steps (0 = all)
    clip: float = 1.0  # gradient clipping: max global norm of the gradient (0 = off)
    optimizer: str = "adam"  # "adam" or "sgd"
    lr: float = 0.03  # eta, the learning rate
    steps: int = 150  # optimizer updates (one mini-batch each)
    batch: int = 64  # sequences per mini-batch
    noise: float = 0.2  # noisy task: standard deviation of the noise on the series
    forget_bias: float = 1.0  # LSTM: initial forget-gate bias (1 keeps the cell open at start)
    seed: int = 0  # data and initial weights

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        check_choice("cell type", self.cell, CELLS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("hidden size", self.hidden, 1, MAX_HIDDEN)
        check_range("sequence length", self.seq_len, 2, MAX_SEQ_LEN)
        check_range("memory gap", self.gap, 1, MAX_GAP)
        check_range("truncated BPTT length", self.bptt, 0, MAX_GAP + 2)
        check_range("gradient clipping", self.clip, 0.0, 1e4)
        check_range("learning rate", self.lr, 1e-6, 10.0)
        check_range("training steps", self.steps, 1, MAX_STEPS)
        check_range("batch size", self.batch, 1, MAX_BATCH)
        check_range("noise", self.noise, 0.0, 2.0)
        check_range("forget bias", self.forget_bias, -5.0, 5.0)
        check_range("seed", self.seed, 0, 2**31 - 1)
        for name in ("hidden", "seq_len", "gap", "bptt", "steps", "batch", "seed"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a whole number, got {getattr(self, name)!r}")

    @classmethod
    def tiny(cls, **kw) -> RNNConfig:
        """A seconds-long setting for tests."""
        base = dict(hidden=12, seq_len=12, steps=100, batch=32)
        base.update(kw)
        return cls(**base)

    @property
    def length(self) -> int:
        """Time steps of one training sequence."""
        if self.task == "memory":
            return self.gap + 2
        if self.task == "reber":
            return seq.MAX_REBER_LEN - 1
        return self.seq_len

    @property
    def work(self) -> float:
        """Training cost in units of one step of a length-1 sequence with H = 32: time
        steps x (1 + (H/32)^2) per optimizer step (per-op overhead plus the H x H matmuls)."""
        return self.steps * self.length * (1 + (self.hidden / 32) ** 2)

    @property
    def n_in(self) -> int:
        return {"memory": seq.MEMORY_INPUTS, "reber": len(seq.ALPHABET)}.get(self.task, 1)

    @property
    def n_out(self) -> int:
        return {"memory": seq.N_SYMBOLS, "reber": len(seq.ALPHABET)}.get(self.task, 1)

    @property
    def metric(self) -> str:
        """The test metric and whether higher is better."""
        return {
            "sine": "test MSE",
            "noisy": "test MSE vs clean",
            "memory": "test accuracy",
            "reber": "legal next-symbol rate",
        }[self.task]

    @property
    def higher_is_better(self) -> bool:
        return self.task in ("memory", "reber")


def pick_device(cfg: RNNConfig) -> torch.device:
    """CUDA (when present) unless the run is tiny: batch * T * H^2 < CUDA_MIN_WORK.

    Measured on an H100 host (2 CPU threads): the fused cuDNN call handles a
    whole sequence at once, so from the default size up CUDA is as fast or
    faster (default LSTM 340 vs 291 steps/s, GRU 387 vs 163, H=96 B=256 T=120
    361 vs 8); only test-sized runs stay on the CPU, where a launch costs more
    than their arithmetic."""
    work = cfg.batch * cfg.length * cfg.hidden**2
    return pick(small=work < CUDA_MIN_WORK)


# ---------------------------------------------------------------------------
# Hand-written cells (tensor ops), checked against nn.RNN / nn.LSTM / nn.GRU
# ---------------------------------------------------------------------------


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """x (B, D), h (B, H), W_ih (H, D), W_hh (H, H), b (H,) -> h_t (B, H) and
    the intermediate terms by symbol."""
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, H) pre-activation
    h_new = torch.tanh(a)
    return h_new, {"a": a, "h": h_new}


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """x (B, D), h, c (B, H), W_ih (4H, D), W_hh (4H, H), b (4H,) stacked i, f, g, o.

    Returns h_t, c_t (B, H) and the gates by symbol."""
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, 4H)
    zi, zf, zg, zo = z.chunk(4, dim=-1)  # (B, H) each
    i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """x (B, D), h (B, H), W_ih (3H, D), W_hh (3H, H), b (3H,) stacked r, u, n.

    PyTorch's convention: r multiplies (W_hn h + b_hn), bias included. The update gate u
    is PyTorch's z (z is a latent code in this app)."""
    gi = x @ W_ih.T + b_ih  # (B, 3H)
    gh = h @ W_hh.T + b_hh  # (B, 3H)
    ir, iu, i_n = gi.chunk(3, dim=-1)
    hr, hu, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(ir + hr)  # reset gate
    u = torch.sigmoid(iu + hu)  # update gate: the share of h_{t-1} kept
    n = torch.tanh(i_n + r * h_n)  # candidate
    h_new = (1 - u) * n + u * h
    return h_new, {"r": r, "u": u, "n": n, "h": h_new}


def gru_cell_cho(x, h, W_ih, W_hh, b_ih, b_hh):
    """The GRU of Cho et al. 2014 (section 2.3) on PyTorch's weights: the reset gate acts on
    h_{t-1} *before* the recurrent product, n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
    Not what nn.GRU computes (it applies r after the product); shown to measure the gap."""
    H = h.shape[-1]
    gi = x @ W_ih.T + b_ih  # (B, 3H)
    gh = h @ W_hh[: 2 * H].T + b_hh[: 2 * H]  # (B, 2H): the gates' recurrent parts
    ir, iu, i_n = gi.chunk(3, dim=-1)
    hr, hu = gh.chunk(2, dim=-1)
    r = torch.sigmoid(ir + hr)
    u = torch.sigmoid(iu + hu)
    n = torch.tanh(i_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])
    h_new = (1 - u) * n + u * h
    return h_new, {"r": r, "u": u, "n": n, "h": h_new}


@dataclass(frozen=True)
class Unrolled:
    h: torch.Tensor  # (B, T, H) hidden states h_1..h_T
    c: torch.Tensor | None  # (B, T, H) LSTM cell states, else None
    gates: dict[str, torch.Tensor]  # gate symbol -> (B, T, H)


def unroll(cell: str, W: dict[str, torch.Tensor], x: torch.Tensor, cho: bool = False) -> Unrolled:
    """Run the hand-written ``cell`` over x (B, T, D) from h_0 = c_0 = 0.

    ``W`` holds W_ih, W_hh, b_ih, b_hh in PyTorch's layout. ``cho``: the GRU of Cho et al.
    (reset before the product) instead of PyTorch's."""
    B, T, _ = x.shape
    H = W["W_hh"].shape[1]
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    hs, cs, gates = [], [], {g: [] for g in GATES[cell]}
    args = (W["W_ih"], W["W_hh"], W["b_ih"], W["b_hh"])
    for t in range(T):
        if cell == "rnn":
            h, terms = rnn_cell(x[:, t], h, *args)
        elif cell == "lstm":
            h, c, terms = lstm_cell(x[:, t], h, c, *args)
            cs.append(c)
        else:
            h, terms = (gru_cell_cho if cho else gru_cell)(x[:, t], h, *args)
        hs.append(h)
        for g in gates:
            gates[g].append(terms[g])
    return Unrolled(
        h=torch.stack(hs, 1),
        c=torch.stack(cs, 1) if cs else None,
        gates={g: torch.stack(v, 1) for g, v in gates.items()},
    )


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


# ---------------------------------------------------------------------------
# Tasks: data, per-element losses, test metrics
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Walkthrough: one time step with the trained numbers
# ---------------------------------------------------------------------------


def _weights64(res: RNNResult) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v).double() for k, v in res.state.items()}


@dataclass(frozen=True)
class StepNumbers:
    """Unit j of the hidden state at time step t, every term by its symbol.

    For each gate (RNN: "h"; LSTM: i, f, g, o; GRU: r, u, n) ``Wx`` is
    (W_{i.} x_t + b_{i.})_j, ``Wh`` is (W_{h.} h_{t-1} + b_{h.})_j, ``pre`` the
    pre-activation (for the GRU's n: Wx + r_j Wh) and ``act`` its value after
    sigma or tanh."""

    cell: str
    t: int  # time step, 1-based
    j: int  # hidden unit, 0-based
    x_t: tuple[float, ...]  # the input vector x_t
    h_prev: float  # h_{t-1, j}
    c_prev: float | None  # LSTM: c_{t-1, j}
    Wx: dict[str, float]
    Wh: dict[str, float]
    pre: dict[str, float]
    act: dict[str, float]
    c: float | None  # LSTM: c_{t, j}
    h: float  # h_{t, j}
    h_vec: tuple[float, ...]  # the whole new hidden state h_t (H values)
    y_hat: tuple[float, ...]  # readout W_hy h_t + b_y at step t


def time_step(res: RNNResult, example: int, t: int, j: int) -> StepNumbers:
    """Run the hand-written cell (float64) on example sequence ``example`` up to
    step t and return the numbers of unit j at step t."""
    cfg = res.config
    T = res.example_x.shape[1]
    t = int(min(max(t, 1), T))
    j = int(min(max(j, 0), cfg.hidden - 1))
    W = _weights64(res)
    x = torch.from_numpy(res.example_x[example : example + 1, :t]).double()  # (1, t, D)
    u = unroll(cfg.cell, W, x)
    H = cfg.hidden
    h_prev = u.h[0, t - 2] if t > 1 else torch.zeros(H, dtype=torch.float64)
    c_prev = None
    if cfg.cell == "lstm":
        c_prev = u.c[0, t - 2] if t > 1 else torch.zeros(H, dtype=torch.float64)
    xt = x[0, t - 1]
    gx = W["W_ih"] @ xt + W["b_ih"]  # (G*H,)
    gh = W["W_hh"] @ h_prev + W["b_hh"]  # (G*H,)
    names = GATES[cfg.cell]
    Wx = {g: float(gx[k * H + j]) for k, g in enumerate(names)}
    Wh = {g: float(gh[k * H + j]) for k, g in enumerate(names)}
    act = {g: float(u.gates[g][0, t - 1, j]) for g in names}
    pre = {g: Wx[g] + Wh[g] for g in names}
    if cfg.cell == "gru":
        pre["n"] = Wx["n"] + act["r"] * Wh["n"]
    h_t = u.h[0, t - 1]
    y_hat = W["W_hy"] @ h_t + W["b_y"]
    return StepNumbers(
        cell=cfg.cell,
        t=t,
        j=j,
        x_t=tuple(float(v) for v in xt),
        h_prev=float(h_prev[j]),
        c_prev=None if c_prev is None else float(c_prev[j]),
        Wx=Wx,
        Wh=Wh,
        pre=pre,
        act=act,
        c=None if u.c is None else float(u.c[0, t - 1, j]),
        h=float(h_t[j]),
        h_vec=tuple(float(v) for v in h_t),
        y_hat=tuple(float(v) for v in y_hat),
    )


def example_states(res: RNNResult, example: int) -> Unrolled:
    """Hidden states and gates of the hand-written cell over one example, (1, T, H)."""
    with torch.no_grad():
        x = torch.from_numpy(res.example_x[example : example + 1]).double()
        return unroll(res.config.cell, _weights64(res), x)


def handwritten_vs_fused(res: RNNResult) -> float:
    """max |h_hand - h_torch| over the example sequences: the hand-written cell
    (float32 tensor ops) against the fused torch module with the same weights."""
    with torch.no_grad():
        model = model_from_state(res.config, res.state)
        x = torch.from_numpy(res.example_x)
        h_torch, _ = model.core(x)
        h_hand = unroll(res.config.cell, core_weights(model.core), x).h
        return float((h_torch - h_hand).abs().max())


# ---------------------------------------------------------------------------
# Gradients through time
# ---------------------------------------------------------------------------


def input_gradient_norms(cfg: RNNConfig, state: dict[str, np.ndarray], n: int = 64) -> np.ndarray:
    """g_k = mean over n test sequences of || dL_last / dx_{last - k} ||, k = 0..T-1.

    L_last is the task loss at each sequence's last scored step (the forecast,
    the recall, the final symbol of a Reber string). Computed with autograd
    through the fused module (float64); NaN where no sequence reaches back k steps."""
    data = make_data(cfg, n, cfg.seed + 1)
    model = model_from_state(cfg, state).double()
    with torch.enable_grad():
        x = data.x.double().requires_grad_(True)  # (n, T, D)
        out, _ = model(x)
        y = data.y.double() if data.y.is_floating_point() else data.y
        per = elementwise_loss(cfg, out, y)  # (n, T)
        T = x.shape[1]
        last = (data.mask * torch.arange(1, T + 1)).argmax(1)  # (n,) last scored step
        L = per.gather(1, last[:, None]).sum()  # per-sample losses: their gradients separate
        (gx,) = torch.autograd.grad(L, x)
    norms = gx.norm(dim=-1)  # (n, T)
    pos = last[:, None] - torch.arange(T)[None, :]  # (n, T): the step k back from the end
    valid = pos >= 0
    picked = norms.gather(1, pos.clamp(min=0)) * valid
    counts = valid.sum(0)
    g = picked.sum(0) / counts.clamp(min=1)
    g[counts == 0] = math.nan
    return g.detach().numpy()


def rnn_bptt(
    W: dict[str, torch.Tensor], x: torch.Tensor, dL_dhT: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Backpropagation through time for the vanilla RNN, written out.

    x (T, D), dL_dhT (H,). Going back from t = T: dL/da_t = (1 - h_t^2) * dL/dh_t,
    dL/dx_t = W_ih^T dL/da_t, dL/dh_{t-1} = W_hh^T dL/da_t. So every step back
    multiplies the gradient by the Jacobian J_t = diag(1 - h_t^2) W_hh (transposed).

    Returns dL/dx (T, D) and the spectral norms ||J_t||_2 (T,)."""
    h = unroll("rnn", W, x[None]).h[0]  # (T, H)
    T = x.shape[0]
    g = dL_dhT
    dx, jn = [], []
    for t in range(T - 1, -1, -1):
        da = (1 - h[t] ** 2) * g  # (H,)
        dx.append(W["W_ih"].T @ da)  # (D,)
        jn.append(torch.linalg.matrix_norm((1 - h[t] ** 2)[:, None] * W["W_hh"], ord=2))
        g = W["W_hh"].T @ da
    return torch.stack(dx[::-1]), torch.stack(jn[::-1])


def initial_state(cfg: RNNConfig) -> dict[str, np.ndarray]:
    """The weights training starts from (``init_model``), in a result's ``state`` layout."""
    model = init_model(cfg)
    W = core_weights(model.core)
    return {
        **{n: v.numpy().copy() for n, v in W.items()},
        "W_hy": model.head.weight.detach().numpy().copy(),
        "b_y": model.head.bias.detach().numpy().copy(),
    }


@dataclass(frozen=True)
class GradientComparison:
    """Gradients through time of every cell, before and after training.

    ``initial[cell]`` / ``trained[cell]``: g_k (``input_gradient_norms``), k = 0..T-1, for
    the weights training starts from and for the trained ones (only the cells trained).
    ``k_long``: the farthest k every curve reaches. ``ratio_initial`` / ``ratio_trained``:
    g_k_long of the LSTM over that of the vanilla RNN (None when one is missing).
    ``forget_mean``: the trained LSTM's mean forget gate f over the example sequences."""

    initial: dict[str, np.ndarray]
    trained: dict[str, np.ndarray]
    k_long: int
    ratio_initial: float
    ratio_trained: float | None
    forget_mean: float | None


def _ratio(curves: dict[str, np.ndarray], k: int) -> float | None:
    if "lstm" not in curves or "rnn" not in curves:
        return None
    return float(curves["lstm"][k] / curves["rnn"][k])


def gradient_comparison(results: list[RNNResult]) -> GradientComparison:
    """The gradient of the loss at the last scored step with respect to earlier inputs, for
    the weights of ``results`` (same task, different cells) and for the initial weights of
    all three cells (no training needed: same config, other cell)."""
    cfg = results[0].config
    initial = {}
    for c in CELLS:
        other = replace(cfg, cell=c)
        initial[c] = input_gradient_norms(other, initial_state(other))
    trained = {r.config.cell: input_gradient_norms(r.config, r.state) for r in results}
    # the farthest k every curve reaches (a diverged model's NaN curve does not count)
    reach = [np.flatnonzero(np.isfinite(g) & (g > 0)) for g in [*initial.values(), *trained.values()]]  # fmt: skip
    k = min((int(r.max()) for r in reach if r.size), default=0)
    lstm = next((r for r in results if r.config.cell == "lstm"), None)
    forget = None
    if lstm is not None:
        with torch.no_grad():
            x = torch.from_numpy(lstm.example_x).double()  # (S, T, D)
            forget = float(unroll("lstm", _weights64(lstm), x).gates["f"].mean())
    return GradientComparison(initial, trained, k, _ratio(initial, k), _ratio(trained, k), forget)


def gru_convention_gap(res: RNNResult) -> float:
    """max |h_PyTorch - h_Cho| over the example sequences: PyTorch's GRU against Cho et al.'s
    (reset gate before the recurrent product) with the same trained weights. 0 for other
    cells."""
    if res.config.cell != "gru":
        return 0.0
    with torch.no_grad():
        x = torch.from_numpy(res.example_x).double()
        W = _weights64(res)
        return float((unroll("gru", W, x).h - unroll("gru", W, x, cho=True).h).abs().max())


# ---------------------------------------------------------------------------
# Lessons
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------


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
