"""Training runs (train, Result), the diagnosis of a run, and the bench."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dl_core.mlp.config import MAX_STEPS, OPTIMIZER_LABELS, Config
from dl_core.mlp.network import Net
from dl_core.mlp.reference import reference_steps_per_second
from dl_core.training import timer

# ---------------------------------------------------------------------------
# Training runs
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    config: Config
    step: np.ndarray  # (R,) step of each record
    epoch: np.ndarray  # (R,)
    train_loss: np.ndarray  # (R,) data loss on the training points
    test_loss: np.ndarray  # (R,)
    train_acc: np.ndarray  # (R,) NaN for regression
    test_acc: np.ndarray  # (R,)
    theta: np.ndarray  # (P,) final parameters
    params: list[dict[str, np.ndarray]]  # per layer W, b (gamma, beta)
    diverged_at: int | None
    device: str
    seconds: float


def train(cfg: Config, device=None, on_step=None) -> Result:
    """Train ``cfg.steps`` steps, recording about 100 times.

    ``on_step(step, train_loss)`` is called at each record (for a progress bar).
    ``device`` is accepted for the common interface; the playground stays on the
    CPU (see the module docstring)."""
    with timer() as t:
        net = Net(cfg)
        every = max(1, cfg.steps // 100)
        while net.step_count < cfg.steps and net.diverged_at is None:
            net.advance(min(every, cfg.steps - net.step_count))
            if on_step is not None:
                on_step(net.step_count, net.history.train_loss[-1])
    return result_of(net, t[0])


def result_of(net: Net, seconds: float = 0.0) -> Result:
    h = net.history
    return Result(
        config=net.cfg, step=np.array(h.step), epoch=np.array(h.epoch),
        train_loss=np.array(h.train_loss), test_loss=np.array(h.test_loss),
        train_acc=np.array(h.train_acc), test_acc=np.array(h.test_acc),
        theta=net.theta.double().numpy().copy(), params=net.params(),
        diverged_at=net.diverged_at, device=net.device, seconds=seconds,
    )  # fmt: skip


def dead_layers(net: Net) -> list[int]:
    """1-based hidden layers in which every neuron outputs exactly 0 on every training
    point (dead ReLUs): no gradient reaches the layers below, training has stalled."""
    if net.cfg.activation != "relu" or not net.cfg.hidden:
        return []
    outs = net.forward_eval(net.F_train)[1:-1]  # [h_1, ..., h_L], each (N, n_l)
    return [k for k, h in enumerate(outs, start=1) if not bool((h != 0).any())]


def diagnose(net: Net) -> str | None:
    """A learner-readable explanation of a divergence or of a dead network, or None."""
    if net.diverged_at is None:
        if net.step_count == 0 or not (dead := dead_layers(net)):
            return None
        which = f"layer {dead[0]}" if len(dead) == 1 else f"layers {', '.join(map(str, dead))}"
        return (f"Training has stalled: every ReLU in hidden {which} outputs 0 on every training "
                "point (dead neurons, a < 0 everywhere). ReLU's slope is 0 there, so no gradient "
                "flows back through it and the layers below cannot learn; the output is a "
                "constant. Large steps (η) push biases far negative like this: "
                f"lower η{' or use tanh' if net.cfg.batch_norm else ', use tanh or turn on batch norm'}.")  # fmt: skip
    cfg = net.cfg
    msg = f"Training diverged at step {net.diverged_at}: the loss became non-finite (NaN or ∞)"
    if cfg.optimizer != "adam" and cfg.lr >= 0.3:
        return (f"{msg}. The learning rate η = {cfg.lr:g} is too large for "
                f"{OPTIMIZER_LABELS[cfg.optimizer]}: each step overshoots the valley and lands "
                "higher up, where the gradient is larger still. Lower η (or switch to Adam, "
                "whose steps are about η in size whatever the gradient).")  # fmt: skip
    if cfg.activation in ("relu", "linear") and not cfg.batch_norm and len(cfg.hidden) >= 3:
        return (f"{msg}. With {cfg.activation} and no normalisation, every layer can multiply "
                "the size of the signal: in a deep network the activations and gradients grow "
                "exponentially with depth. Lower η, use tanh, or turn on batch norm.")  # fmt: skip
    if cfg.task == "regression":
        return (f"{msg}. The squared error grows quadratically with the error, so one large "
                "step produces a larger gradient and a larger next step. Lower η.")  # fmt: skip
    return f"{msg}. The steps were too large for this loss surface: lower the learning rate η."


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------


def steps_per_second(cfg: Config, steps: int = 400, repeats: int = 5) -> float:
    """Training steps per second of the hand-written step: the best of ``repeats``
    timings of ``steps`` steps (the fastest is the one least disturbed by other
    processes on a shared machine)."""
    net = Net(cfg)
    net.advance(20, record=False)  # warm up the buffers
    best = math.inf
    for _ in range(repeats):
        with timer() as t:
            net.advance(steps, record=False)
        best = min(best, t[0])
    return steps / best


BENCH_SPEED = Config(n_points=1000, test_fraction=0.5)  # 500 training points, 2-8-8-1 tanh, Adam
BENCH_SPIRAL = Config(dataset="spiral", hidden=(8, 8), lr=0.03, steps=MAX_STEPS)


def bench() -> list[dict]:
    """Spiral to 95% test accuracy (seconds and steps) and the steps-per-second figures."""
    cfg = BENCH_SPIRAL
    with timer() as t:
        net = Net(cfg)
        reached = False
        while net.step_count < 20_000 and net.diverged_at is None:
            net.advance(50)
            if net.history.test_acc[-1] >= 0.95:
                reached = True
                break
    sps = steps_per_second(BENCH_SPEED)
    ref = reference_steps_per_second(BENCH_SPEED)
    return [
        {"topic": "mlp", "task": "spiral (2-8-8-1 tanh, Adam)", "metric": "test_accuracy",
         "target": 0.95, "value": net.history.test_acc[-1], "reached": reached,
         "seconds": t[0], "steps": net.step_count, "device": net.device},
        {"topic": "mlp", "task": "full-batch step, 500 pts", "metric": "steps_per_second",
         "target": 5000, "value": sps, "reached": sps >= 5000, "seconds": 400 / sps,
         "steps": 400, "device": "cpu"},
        {"topic": "mlp", "task": "same, nn.Module+torch.optim", "metric": "steps_per_second",
         "target": None, "value": ref, "reached": None, "seconds": 200 / ref, "steps": 200,
         "device": "cpu"},
    ]  # fmt: skip
