"""The settings of a recurrent-network run: the cells, the tasks, the limits, RNNConfig and the
work budget a learner's run may use."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dl_core import sequences as seq
from dl_core.training import check_choice, check_range

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
