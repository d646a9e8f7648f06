"""The playground's settings (Config), its data sets and input features."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from dl_core import data2d
from dl_core.training import check_choice, check_range

FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")
FEATURE_LABELS = {
    "x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂",
    "sin_x1": "sin x₁", "sin_x2": "sin x₂",
}  # fmt: skip
FEATURE_LATEX = {
    "x1": "x_1", "x2": "x_2", "x1^2": "x_1^2", "x2^2": "x_2^2", "x1x2": "x_1 x_2",
    "sin_x1": r"\sin x_1", "sin_x2": r"\sin x_2",
}  # fmt: skip
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "momentum", "adam")
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"}
REGULARIZERS = ("none", "l1", "l2")
INITS = ("xavier", "he", "torch", "zeros")
INIT_LABELS = {
    "xavier": "Xavier/Glorot (uniform)",
    "he": "He/Kaiming (normal)",
    "torch": "PyTorch default",
    "zeros": "All zeros (symmetry!)",
}

MAX_LAYERS = 6  # hidden layers
MAX_NEURONS = 16  # per hidden layer (TensorFlow Playground allows 8)
MAX_POINTS = data2d.MAX_POINTS
MAX_STEPS = 50_000  # for one call of train() or advance()
MAX_PLAY_STEPS = 200_000  # the playground pauses here (about 20 min of play at the default speed)
MAX_GRID = 120  # heat-map resolution per axis
BN_EPS = 1e-5  # as nn.BatchNorm1d
BN_MOMENTUM = 0.1  # as nn.BatchNorm1d
DIVERGENCE_LIMIT = 1e6  # |sum of parameters| beyond this counts as diverged
MAX_RECORDS = 2000  # history length; beyond it every other record is dropped
MAX_BUFFERS = 4  # work buffers kept per batch size; the oldest goes first


@dataclass(frozen=True)
class Config:
    dataset: str = "circles"  # a key of data2d.DATASETS
    n_points: int = 500  # train + test points
    noise: float = 0.0  # jitter of the points / noise of the target, 0 .. 0.5
    test_fraction: float = 0.5  # share of the points held out for testing
    data_seed: int = 0  # seed of the dataset and of the split ("regenerate")
    features: tuple[str, ...] = ("x1", "x2")  # input features, a subset of FEATURES
    hidden: tuple[int, ...] = (8, 8)  # neurons per hidden layer, 0..MAX_LAYERS layers
    activation: str = "tanh"  # phi of the hidden layers, one of ACTIVATIONS
    init: str = "xavier"  # weight initialisation, one of INITS
    batch_norm: bool = False  # normalise each hidden pre-activation a over the batch
    dropout: float = 0.0  # p, the probability of zeroing a hidden output while training
    optimizer: str = "adam"  # one of OPTIMIZERS
    lr: float = 0.03  # eta, the learning rate
    momentum: float = 0.9  # beta of SGD + momentum
    beta1: float = 0.9  # Adam's decay of the first moment m
    beta2: float = 0.999  # Adam's decay of the second moment (s here, v in the paper)
    eps: float = 1e-8  # Adam's epsilon
    batch_size: int = 0  # 0 = full batch (all training points per step)
    regularization: str = "none"  # penalty on the weights (not biases): none, l1, l2
    reg_rate: float = 0.0  # alpha: L1 adds alpha sum|w|, L2 adds alpha/2 sum w^2
    seed: int = 0  # seed of the initial weights, mini-batches and dropout masks
    steps: int = 1000  # training steps of train()

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, tuple(data2d.DATASETS))
        check_range("number of points", self.n_points, 8, MAX_POINTS)
        check_range("noise", self.noise, 0.0, data2d.MAX_NOISE)
        check_range("test fraction", self.test_fraction, 0.05, 0.95)
        if not self.features:
            raise ValueError("choose at least one input feature")
        for f in self.features:
            check_choice("feature", f, FEATURES)
        if len(set(self.features)) != len(self.features):
            raise ValueError("each input feature may be chosen only once")
        check_range("number of hidden layers", len(self.hidden), 0, MAX_LAYERS)
        for h in self.hidden:
            check_range("neurons per layer", h, 1, MAX_NEURONS)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("initialisation", self.init, INITS)
        check_range("dropout", self.dropout, 0.0, 0.9)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("learning rate", self.lr, 0.0, 100.0)
        check_range("momentum", self.momentum, 0.0, 0.999)
        check_range("beta1", self.beta1, 0.0, 0.9999)
        check_range("beta2", self.beta2, 0.0, 0.99999)
        check_range("epsilon", self.eps, 1e-12, 1.0)
        check_range("batch size", self.batch_size, 0, MAX_POINTS)
        check_choice("regularization", self.regularization, REGULARIZERS)
        check_range("regularization rate", self.reg_rate, 0.0, 10.0)
        check_range("steps", self.steps, 1, MAX_STEPS)

    @classmethod
    def tiny(cls) -> Config:
        """A seconds-long setting for tests."""
        return cls(n_points=200, hidden=(6,), steps=300)

    @property
    def n_classes(self) -> int:
        """0 for regression, else K."""
        return data2d.n_classes(self.dataset)

    @property
    def n_out(self) -> int:
        """Output units: 1 for regression and two classes, K for K >= 3 classes."""
        return self.n_classes if self.n_classes >= 3 else 1

    @property
    def task(self) -> str:
        k = self.n_classes
        return "regression" if k == 0 else ("binary" if k == 2 else "multiclass")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer from input to output, e.g. (2, 8, 8, 1)."""
        return (len(self.features), *self.hidden, self.n_out)

    def structure(self) -> Config:
        """The fields that define the network and its data: a change there needs a
        new network. Everything else (learning rate, optimizer, batch size,
        regularisation, dropout, steps) can change while training goes on."""
        return replace(
            Config(),
            **{k: getattr(self, k) for k in STRUCTURE_FIELDS},
        )


STRUCTURE_FIELDS = (
    "dataset", "n_points", "noise", "test_fraction", "data_seed", "features", "hidden",
    "activation", "init", "batch_norm", "seed",
)  # fmt: skip


# ---------------------------------------------------------------------------
# Data and features
# ---------------------------------------------------------------------------


def features(X: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """The chosen input features of points X (n, 2): shape (n, len(names))."""
    x1, x2 = X[:, 0], X[:, 1]
    table = {
        "x1": lambda: x1, "x2": lambda: x2, "x1^2": lambda: x1 * x1, "x2^2": lambda: x2 * x2,
        "x1x2": lambda: x1 * x2, "sin_x1": lambda: torch.sin(x1), "sin_x2": lambda: torch.sin(x2),
    }  # fmt: skip
    return torch.stack([table[n]() for n in names], dim=1)


@dataclass(frozen=True)
class Data:
    X_train: torch.Tensor  # (N, 2) points
    y_train: torch.Tensor  # (N,) int64 labels or float targets
    X_test: torch.Tensor  # (M, 2)
    y_test: torch.Tensor  # (M,)


def make_data(cfg: Config) -> Data:
    X, y = data2d.make(cfg.dataset, cfg.n_points, cfg.noise, cfg.data_seed)
    return Data(*data2d.split(X, y, cfg.test_fraction, cfg.data_seed))
