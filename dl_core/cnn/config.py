"""The CNN's settings: the menus and limits, the datasets (8x8 digits, MNIST when its files
are present) and ``CNNConfig``, the frozen config that is also the cache key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from dl_core import mnist
from dl_core.data import Digits, load_digits
from dl_core.training import check_choice, check_range

DATASETS = ("digits", "mnist")
POOLS = ("max", "avg", "none")
OPTIMIZERS = ("adam", "sgd")
ARCHS = ("cnn", "mlp")
N_CLASSES = 10
MAX_LAYERS = 3  # conv blocks; 8x8 -> 4 -> 2 -> 1 with 2x2 pooling
MAX_FILTERS = 64  # filters in any layer
MAX_KERNEL = 7
MAX_EPOCHS = 200
MAX_BATCH = 8192
MAX_STEPS = 20_000  # epochs x batches per epoch
MAX_TRAIN = 60_000
MNIST_TEST = 2_000  # MNIST test images scored during training (the first 2,000)
DIGITS_N_TRAIN = 1797 - round(1797 * 0.2)  # 1,438: load_digits' default split


@lru_cache(maxsize=4)
def _dataset(name: str, train_size: int) -> Digits:
    if name == "mnist":
        if not mnist.available():
            raise ValueError("MNIST is not in data/mnist/; see data/README.md (digits always work)")
        return mnist.load_mnist(train_size=train_size, test_size=MNIST_TEST)
    d = load_digits()
    if train_size > 0:
        d = Digits(d.X_train[:train_size], d.y_train[:train_size], d.X_test, d.y_test)
    return d


def dataset(name: str = "digits", train_size: int = 0) -> Digits:
    """The training and test tensors of a dataset (shared, cached: do not modify)."""
    check_choice("dataset", name, DATASETS)
    return _dataset(name, train_size)


def image_size(name: str) -> int:
    return 28 if name == "mnist" else 8


def n_train(name: str, train_size: int = 0) -> int:
    full = 60_000 if name == "mnist" else DIGITS_N_TRAIN
    return min(train_size, full) if train_size > 0 else full


@dataclass(frozen=True)
class CNNConfig:
    dataset: str = "digits"  # one of DATASETS
    layers: int = 2  # conv blocks (conv -> ReLU -> pool)
    filters: int = 16  # filters of the first conv layer; each further layer doubles (max 64)
    kernel: int = 3  # k, odd; padding k // 2 keeps the size ("same")
    pool: str = "max"  # 2x2 pooling after every conv: "max", "avg" or "none"
    dropout: float = 0.0  # probability of zeroing each input of the last linear layer
    optimizer: str = "adam"  # "adam" or "sgd" (with momentum 0.9)
    lr: float = 0.01  # learning rate eta
    epochs: int = 30  # passes over the training set
    batch_size: int = 256  # images per step (a batch >= the training set is full-batch)
    train_size: int = 0  # use only the first N training images; 0 = all
    arch: str = "cnn"  # "cnn", or "mlp": one hidden layer with about the CNN's parameter count
    seed: int = 0  # initial weights, shuffling and dropout masks

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, DATASETS)
        check_range("number of conv layers", self.layers, 1, MAX_LAYERS)
        check_range("filters", self.filters, 1, MAX_FILTERS)
        check_range("kernel size", self.kernel, 1, MAX_KERNEL)
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel size must be odd (1, 3, 5, 7), got {self.kernel}")
        check_choice("pooling", self.pool, POOLS)
        check_range("dropout", self.dropout, 0.0, 0.9)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("learning rate", self.lr, 1e-6, 100.0)
        check_range("epochs", self.epochs, 1, MAX_EPOCHS)
        check_range("batch size", self.batch_size, 1, MAX_BATCH)
        check_range("training images", self.train_size, 0, MAX_TRAIN)
        check_choice("architecture", self.arch, ARCHS)
        check_range("seed", self.seed, 0, 2**31 - 1)
        if self.steps > MAX_STEPS:
            raise ValueError(
                f"{self.epochs} epochs x {self.steps // self.epochs} batches = {self.steps} "
                f"steps; at most {MAX_STEPS:,} (fewer epochs or larger batches)"
            )

    @property
    def batches_per_epoch(self) -> int:
        """Full batches per epoch (the remainder of a shuffle is skipped)."""
        return max(1, n_train(self.dataset, self.train_size) // self.batch_size)

    @property
    def steps(self) -> int:
        return self.epochs * self.batches_per_epoch

    @property
    def channels(self) -> tuple[int, ...]:
        """Filters per conv layer: filters, 2 filters, 4 filters ... (capped)."""
        return tuple(min(self.filters * 2**i, MAX_FILTERS) for i in range(self.layers))

    @classmethod
    def tiny(cls) -> CNNConfig:
        """About a tenth of a second: reaches 85% test accuracy on the digits."""
        return cls(filters=8, epochs=6, batch_size=128, lr=0.02)


def max_epochs(dataset: str, batch_size: int, train_size: int = 0) -> int:
    """The most epochs allowed for these settings (MAX_STEPS and MAX_EPOCHS)."""
    per_epoch = max(1, n_train(dataset, train_size) // batch_size)
    return max(1, min(MAX_EPOCHS, MAX_STEPS // per_epoch))
