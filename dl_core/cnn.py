"""Convolutional networks on the 8x8 digits (and MNIST when its files are present).

Hand-written with tensor ops and tested against ``torch.nn.functional``:
``conv2d`` (vs ``F.conv2d``), ``max_pool2d`` / ``avg_pool2d`` (vs ``F.max_pool2d`` /
``F.avg_pool2d``), ``softmax`` (vs ``F.softmax``) and the output-size formula
``output_size`` (vs the shapes torch produces).

Symbols follow the page and ``dl_core.notation``: input image ``x`` (n_x x n_x), kernel ``K``
(n_K x n_K), bias ``b``, output feature map ``a`` (the pre-activation, before the ReLU) at row
``r`` and column ``c``, kernel tap (u, v), stride ``s``, padding ``P``, dilation ``d``; the
pooled map ``h_pool``; logits ``a`` and probabilities ``y_hat`` of the softmax. Like
``torch.nn.Conv2d``, the layer computes a cross-correlation (no kernel flip); ``convolve2d``
is the textbook convolution, and conv(x, K) = xcorr(x, flip(K)).

Training uses ``torch.nn`` layers, the whole dataset as tensors on the device and
shuffled mini-batches (no DataLoader). On CUDA the whole training step (gather the
batch, forward, backward, Adam/SGD update, running statistics) is captured once in
a CUDA graph and replayed: at this size eager CUDA is bound by kernel launches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_core import mnist
from dl_core.data import Digits, load_digits
from dl_core.device import pick
from dl_core.training import check_choice, check_range, generator, timer

DATASETS = ("digits", "mnist")
POOLS = ("max", "avg", "none")
OPTIMIZERS = ("adam", "sgd")
ARCHS = ("cnn", "mlp")
KERNELS = ("edge (vertical)", "edge (horizontal)", "blur", "sharpen", "identity")
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
DIVERGENCE_LOSS = 1e3  # a cross-entropy this large (logits ~1000 apart) counts as diverged
CUDA_WARMUP = 3  # eager steps on a side stream before the CUDA graph is captured
CUDA_GRAPHS = True  # on CUDA, replay the training step as a CUDA graph (False: eager, to compare)

# ---------------------------------------------------------------------------
# Hand-written convolution and pooling
# ---------------------------------------------------------------------------


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """n_a = floor((n_x + 2P - d (n_K - 1) - 1) / s) + 1, the size torch produces."""
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def patches(x: torch.Tensor, kernel: int, stride: int = 1, dilation: int = 1) -> torch.Tensor:
    """Every (dilated) k x k window of an already padded x (B, C, H, W), as a view
    of shape (B, C, H_out, W_out, k, k): no copy, just new strides."""
    B, C, H, W = x.shape
    Ho, Wo = (
        output_size(H, kernel, stride, 0, dilation),
        output_size(W, kernel, stride, 0, dilation),
    )
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"the kernel (size {kernel}, dilation {dilation}) does not fit in a {H}x{W} input"
        )
    sB, sC, sH, sW = x.stride()
    return x.as_strided(
        (B, C, Ho, Wo, kernel, kernel),
        (sB, sC, sH * stride, sW * stride, sH * dilation, sW * dilation),
    )


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """a[b, o, r, c] = sum_{ch,u,v} K[o, ch, u, v] x[b, ch, r s + u d - P, c s + v d - P] + b[o]:
    a cross-correlation (no kernel flip), as torch.nn.functional.conv2d computes it.

    x (B, C, H, W), weight (O, C, k, k), bias (O,) -> (B, O, H_out, W_out).
    Unfold the windows (as_strided), then one matrix product."""
    Co, C, k, _ = weight.shape
    xp = F.pad(x, (padding, padding, padding, padding))  # zeros around: (B, C, H+2p, W+2p)
    win = patches(xp, k, stride, dilation)  # (B, C, Ho, Wo, k, k)
    B, _, Ho, Wo = win.shape[:4]
    cols = win.permute(0, 2, 3, 1, 4, 5).reshape(B, Ho, Wo, C * k * k)  # (B, Ho, Wo, C k k)
    z = cols @ weight.reshape(Co, C * k * k).T  # (B, Ho, Wo, Co)
    if bias is not None:
        z = z + bias
    return z.permute(0, 3, 1, 2)  # (B, O, Ho, Wo)


def max_pool2d(
    x: torch.Tensor, kernel: int, stride: int | None = None, padding: int = 0, dilation: int = 1
) -> torch.Tensor:
    """h_pool[r, c] = max of the k x k window at (r S - P, c S - P); padding counts as -inf."""
    s = kernel if stride is None else stride
    xp = F.pad(x, (padding,) * 4, value=-math.inf)
    return patches(xp, kernel, s, dilation).amax(dim=(-2, -1))  # (B, C, Ho, Wo)


def avg_pool2d(
    x: torch.Tensor, kernel: int, stride: int | None = None, padding: int = 0
) -> torch.Tensor:
    """h_pool[r, c] = mean of the k x k window; zero padding is counted (torch's default)."""
    s = kernel if stride is None else stride
    xp = F.pad(x, (padding,) * 4)
    return patches(xp, kernel, s).mean(dim=(-2, -1))  # (B, C, Ho, Wo)


def softmax(z: torch.Tensor) -> torch.Tensor:
    """p_i = exp(z_i - max z) / sum_j exp(z_j - max z), over the last axis."""
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def kernel_preset(name: str) -> np.ndarray:
    """A classic 3x3 image filter."""
    check_choice("kernel", name, KERNELS)
    return {
        "edge (vertical)": np.array(
            [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
        ),  # Sobel: left minus right
        "edge (horizontal)": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),  # top minus bottom
        "blur": np.full((3, 3), 1 / 9),
        "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    }[name].astype(np.float64)


def flip(K: np.ndarray) -> np.ndarray:
    """The kernel turned by 180 degrees: flip(K)[u, v] = K[n_K - 1 - u, n_K - 1 - v]."""
    return np.asarray(K)[::-1, ::-1].copy()


def convolve2d(x: np.ndarray, K: np.ndarray) -> np.ndarray:
    """The textbook ("true") 2-D convolution, valid part, written from its definition
    (x * K)[m, n] = sum_{u,v} x[m - u, n - v] K[u, v], kept where the kernel lies inside x:
    out[r, c] = sum_{u,v} K[u, v] x[r + n_K - 1 - u, c + n_K - 1 - v], (n_x - n_K + 1)^2.
    The layer (``conv2d``, ``F.conv2d``) computes instead the cross-correlation
    sum_{u,v} K[u, v] x[r + u, c + v]: conv(x, K) = xcorr(x, flip(K))."""
    x, K = np.asarray(x, dtype=np.float64), np.asarray(K, dtype=np.float64)
    nK = K.shape[0]
    n_out = (x.shape[0] - nK + 1, x.shape[1] - nK + 1)
    if min(n_out) < 1:
        raise ValueError(f"a {nK}x{nK} kernel does not fit in a {x.shape[0]}x{x.shape[1]} image")
    out = np.zeros(n_out)
    for u in range(nK):
        for v in range(nK):  # one tap: the image shifted against it, weighted by K[u, v]
            r0, c0 = nK - 1 - u, nK - 1 - v
            out += K[u, v] * x[r0 : r0 + n_out[0], c0 : c0 + n_out[1]]
    return out


@dataclass(frozen=True)
class FlipStep:
    r: int  # output row (at stride 1, no dilation)
    c: int  # output column
    xcorr: float  # (x ⋆ K)[r, c]: what the layer computes
    conv: float  # (x * K)[r, c]: the textbook convolution, = (x ⋆ flip(K))[r, c]


def flip_walkthrough(image: np.ndarray, K: np.ndarray, padding: int, r: int, c: int) -> FlipStep:
    """The layer's cross-correlation and the textbook convolution of the zero-padded image at
    one position (stride 1, no dilation; r and c clamped into the map)."""
    x = np.pad(np.asarray(image, dtype=np.float64), padding)  # (n_x + 2P, n_x + 2P)
    Kt = torch.as_tensor(np.asarray(K, dtype=np.float64))[None, None]  # (1, 1, n_K, n_K)
    with torch.no_grad():
        xcorr = conv2d(torch.as_tensor(x)[None, None], Kt)[0, 0].numpy()
    conv = convolve2d(x, K)
    r, c = min(max(r, 0), conv.shape[0] - 1), min(max(c, 0), conv.shape[1] - 1)
    return FlipStep(r, c, float(xcorr[r, c]), float(conv[r, c]))


# ---------------------------------------------------------------------------
# Walkthroughs: the numbers of one output position
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvStep:
    x: np.ndarray  # (H, W) the input image
    x_pad: np.ndarray  # (H + 2p, W + 2p) with the zero padding
    K: np.ndarray  # (k, k) the kernel
    b: float  # the bias
    s: int  # stride
    P: int  # padding
    d: int  # dilation
    r: int  # output row
    c: int  # output column
    rows: np.ndarray  # (n_K,) rows of x_pad under the kernel: r s + u d
    cols: np.ndarray  # (n_K,) columns of x_pad under the kernel: c s + v d
    patch: np.ndarray  # (n_K, n_K) x_pad[rows][:, cols]
    products: np.ndarray  # (n_K, n_K) K * patch
    a_rc: float  # sum(products) + b
    a: np.ndarray  # (H_out, W_out) the whole output feature map
    n_out: tuple[int, int]  # (H_out, W_out) from the output-size formula


def conv_walkthrough(
    image: np.ndarray, K: np.ndarray, b: float = 0.0, r: int = 0, c: int = 0,
    stride: int = 1, padding: int = 0, dilation: int = 1,
) -> ConvStep:  # fmt: skip
    """One output position (r, c) of a single-channel convolution layer (a cross-correlation,
    as torch computes it), every number kept. r and c are clamped into the output map."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float64))  # (H, W)
    Kt = torch.as_tensor(np.asarray(K, dtype=np.float64))  # (k, k)
    k = Kt.shape[0]
    H, W = x.shape
    n_out = (
        output_size(H, k, stride, padding, dilation),
        output_size(W, k, stride, padding, dilation),
    )
    with torch.no_grad():
        z = conv2d(x[None, None], Kt[None, None], torch.tensor([float(b)], dtype=torch.float64),
                   stride, padding, dilation)[0, 0]  # fmt: skip
        x_pad = F.pad(x, (padding,) * 4)
    r, c = min(max(r, 0), n_out[0] - 1), min(max(c, 0), n_out[1] - 1)
    rows = r * stride + dilation * np.arange(k)
    cols = c * stride + dilation * np.arange(k)
    patch = x_pad.numpy()[np.ix_(rows, cols)]
    products = Kt.numpy() * patch
    return ConvStep(
        x.numpy(), x_pad.numpy(), Kt.numpy(), float(b), stride, padding, dilation, r, c,
        rows, cols, patch, products, float(products.sum() + b), z.numpy(), n_out,
    )  # fmt: skip


@dataclass(frozen=True)
class PoolStep:
    h: np.ndarray  # (H, W) the feature map being pooled (after the ReLU)
    kind: str  # "max" or "avg"
    k: int  # window size
    s: int  # stride
    r: int  # output row
    c: int  # output column
    window: np.ndarray  # (k, k) the values under the window
    h_pool_rc: float  # max or mean of the window
    h_pool: np.ndarray  # (H_out, W_out) the pooled map
    n_out: tuple[int, int]


def pool_walkthrough(
    fmap: np.ndarray, kind: str = "max", k: int = 2, stride: int = 2, r: int = 0, c: int = 0
) -> PoolStep:
    """One output position of max or average pooling (no padding)."""
    check_choice("pooling", kind, ("max", "avg"))
    x = torch.as_tensor(np.asarray(fmap, dtype=np.float64))  # (H, W)
    with torch.no_grad():
        pool = max_pool2d if kind == "max" else avg_pool2d
        y = pool(x[None, None], k, stride)[0, 0]  # (Ho, Wo)
    r, c = min(max(r, 0), y.shape[0] - 1), min(max(c, 0), y.shape[1] - 1)
    window = x.numpy()[r * stride : r * stride + k, c * stride : c * stride + k]
    y_rc = float(window.max() if kind == "max" else window.mean())
    return PoolStep(x.numpy(), kind, k, stride, r, c, window, y_rc, y.numpy(), tuple(y.shape))


@dataclass(frozen=True)
class SoftmaxStep:
    a: np.ndarray  # (10,) logits: the last layer's pre-activation
    a_max: float  # subtracted for numerical safety (does not change y_hat)
    e: np.ndarray  # (10,) exp(a - a_max)
    S: float  # sum of e
    y_hat: np.ndarray  # (10,) probabilities e / S


def softmax_walkthrough(logits: np.ndarray) -> SoftmaxStep:
    a = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    e = torch.exp(a - a.max())
    return SoftmaxStep(a.numpy(), float(a.max()), e.numpy(), float(e.sum()), softmax(a).numpy())


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Config and models
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    epoch: np.ndarray  # (E,) 1..E
    train_loss: np.ndarray  # (E,) mean cross-entropy over the epoch's batches
    train_acc: np.ndarray  # (E,) accuracy over the epoch's batches (while training)
    test_loss: np.ndarray  # (E,) on the test set after the epoch
    test_acc: np.ndarray  # (E,)
    step_loss: np.ndarray  # (S,) loss of every step


@dataclass(frozen=True)
class Result:
    config: CNNConfig
    history: History
    state: dict[str, np.ndarray]  # trained parameters (CPU, read-only)
    n_params: int
    confusion: np.ndarray  # (10, 10) counts [true, predicted] on the test set
    test_probs: np.ndarray  # (N_test, 10) softmax probabilities
    test_pred: np.ndarray  # (N_test,)
    test_acc: float  # final test accuracy
    steps: int  # optimizer steps taken
    seconds: float  # wall time of the training (data already loaded)
    device: str  # "cpu" or "cuda"
    cuda_graph: bool  # True when the training step ran as a replayed CUDA graph
    diverged_at: int | None  # first step (1-based) whose loss was non-finite or > DIVERGENCE_LOSS


def _optimizer(cfg: CNNConfig, model: nn.Module, cuda: bool) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    # capturable: Adam's step counter lives on the GPU, so the update can be graphed
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, capturable=cuda)


def _evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor):
    with torch.no_grad():
        model.eval()
        logits = model(X)  # (N, 10)
        model.train()
        loss = F.cross_entropy(logits, y)
        return loss, (logits.argmax(1) == y).float().mean(), logits


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def train(cfg: CNNConfig, device: torch.device | str | None = None, on_step=None) -> Result:
    """Train ``cfg`` with cross-entropy. ``on_step(epoch, epochs, history)`` is called
    after every epoch with the history so far (a newer Streamlit rerun may raise
    inside it, which stops training). Divergence stops training and is reported
    in ``diverged_at``, never raised."""
    dev = torch.device(device) if device is not None else pick()
    data = dataset(cfg.dataset, cfg.train_size)
    with torch.enable_grad(), timer() as t:
        Xtr, ytr = data.X_train.to(dev), data.y_train.to(dev)  # (N, 1, H, W), (N,)
        Xte, yte = data.X_test.to(dev), data.y_test.to(dev)
        N = len(ytr)
        bs = min(cfg.batch_size, N)
        nb = cfg.batches_per_epoch
        model = build_model(cfg, dev).train()
        cuda = dev.type == "cuda"
        opt = _optimizer(cfg, model, cuda)
        g = generator(cfg.seed + 1, dev)  # shuffles and dropout masks
        keep = 1.0 - cfg.dropout
        # static tensors: the step reads its batch and mask from these (CUDA graph inputs)
        idx = torch.zeros(bs, dtype=torch.long, device=dev)  # (bs,)
        mask = torch.ones(bs, model.drop_dim, device=dev) if cfg.dropout > 0 else None
        stats = torch.zeros(2, device=dev)  # running (sum of losses, correct) of the epoch
        step_loss = torch.zeros(cfg.steps, device=dev)  # (S,)

        def step() -> torch.Tensor:
            xb, yb = Xtr[idx], ytr[idx]  # (bs, 1, H, W), (bs,)
            logits = model(xb, mask)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                stats.add_(torch.stack([loss.detach(), (logits.argmax(1) == yb).sum().float()]))
            return loss.detach()

        graph, static_loss = None, None
        hist: dict[str, list[float]] = {
            k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc")
        }
        diverged_at, s = None, 0
        for epoch in range(1, cfg.epochs + 1):
            perm = torch.randperm(N, generator=g, device=dev)  # (N,)
            stats.zero_()
            for bi in range(nb):
                idx.copy_(perm[bi * bs : (bi + 1) * bs])
                if mask is not None:
                    mask.bernoulli_(keep, generator=g).div_(keep)
                if graph is not None:
                    graph.replay()
                    loss = static_loss
                elif (
                    cuda and CUDA_GRAPHS and s >= CUDA_WARMUP
                ):  # capture once; the capture itself computes nothing
                    torch.cuda.synchronize(dev)
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph):
                        static_loss = step()
                    graph.replay()
                    loss = static_loss
                elif (
                    cuda and CUDA_GRAPHS
                ):  # warm-up steps on a side stream, as the CUDA-graph recipe asks
                    side = torch.cuda.Stream(dev)
                    side.wait_stream(torch.cuda.current_stream(dev))
                    with torch.cuda.stream(side):
                        loss = step()
                    torch.cuda.current_stream(dev).wait_stream(side)
                else:
                    loss = step()
                step_loss[s].copy_(loss)
                s += 1
            # one synchronisation per epoch: read the losses of its steps
            losses = step_loss[s - nb : s].cpu().numpy()
            bad = np.flatnonzero(~np.isfinite(losses) | (np.abs(losses) > DIVERGENCE_LOSS))
            if bad.size:
                diverged_at = s - nb + int(bad[0]) + 1
            loss_sum, correct = stats.tolist()
            test_loss, test_acc, _ = _evaluate(model, Xte, yte)
            hist["train_loss"].append(loss_sum / nb)
            hist["train_acc"].append(correct / (nb * bs))
            hist["test_loss"].append(float(test_loss))
            hist["test_acc"].append(float(test_acc))
            if diverged_at is not None:
                break
            if on_step is not None:
                on_step(epoch, cfg.epochs, _history(hist, step_loss[:s]))
        _, test_acc, logits = _evaluate(model, Xte, yte)
        probs = F.softmax(logits.double(), dim=1)  # (N_test, 10)
        pred = probs.argmax(1)
        conf = torch.zeros(N_CLASSES * N_CLASSES, dtype=torch.long, device=dev)
        conf.index_add_(0, yte * N_CLASSES + pred, torch.ones_like(pred))
        state = {
            k: _readonly(v.detach().cpu().numpy().copy()) for k, v in model.state_dict().items()
        }
        if cuda:
            torch.cuda.synchronize(dev)
    return Result(
        config=cfg,
        history=_history(hist, step_loss[:s]),
        state=state,
        n_params=count_params(model),
        confusion=_readonly(conf.reshape(N_CLASSES, N_CLASSES).cpu().numpy()),
        test_probs=_readonly(probs.float().cpu().numpy()),
        test_pred=_readonly(pred.cpu().numpy()),
        test_acc=float(test_acc),
        steps=s,
        seconds=t[0],
        device=dev.type,
        cuda_graph=graph is not None,
        diverged_at=diverged_at,
    )


def _history(hist: dict[str, list[float]], step_loss: torch.Tensor) -> History:
    E = len(hist["train_loss"])
    return History(
        epoch=_readonly(np.arange(1, E + 1)),
        **{k: _readonly(np.array(v, dtype=np.float64)) for k, v in hist.items()},
        step_loss=_readonly(step_loss.detach().cpu().numpy().astype(np.float64)),
    )


# ---------------------------------------------------------------------------
# Using a trained model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    x: np.ndarray  # (H, W) the input image
    maps: list[np.ndarray]  # per conv layer (C_l, H_l, W_l), after ReLU (empty for an MLP)
    softmax: SoftmaxStep  # logits a and probabilities y_hat
    label: int  # argmax y_hat


def predict(result: Result, image: np.ndarray) -> Prediction:
    """Feature maps, logits and probabilities of one image (H, W) in [0, 1], on the CPU."""
    model = load_state(result.config, result.state)
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None, None]  # (1, 1, H, W)
    with torch.no_grad():
        maps = model.feature_maps(x) if isinstance(model, CNN) else []
        logits = model(x)[0].double()  # (10,)
    sm = softmax_walkthrough(logits.numpy())
    return Prediction(
        np.asarray(image, dtype=np.float64),
        [m[0].numpy() for m in maps],
        sm,
        int(sm.y_hat.argmax()),
    )


def first_layer_filters(result: Result) -> np.ndarray:
    """(C, k, k) kernels of the first conv layer, and their biases via ``result.state``."""
    return np.asarray(result.state["convs.0.weight"])[:, 0]


def kernel_names(cfg: CNNConfig) -> list[str]:
    """The kernels of the walkthrough: the classic ones, then every learned one of layer 1."""
    return [*KERNELS, *(f"learned kernel {c + 1}" for c in range(cfg.channels[0]))]


def kernel_for(result: Result, name: str) -> tuple[np.ndarray, float]:
    """(K, b) of a kernel named by ``kernel_names``: a classic one (bias 0) or a learned one."""
    if name in KERNELS:
        return kernel_preset(name), 0.0
    names = kernel_names(result.config)
    if name not in names:
        raise ValueError(f"unknown kernel {name!r}; one of {names}")
    c = names.index(name) - len(KERNELS)
    return first_layer_filters(result)[c], float(result.state["convs.0.bias"][c])


def describe(cfg: CNNConfig) -> str:
    """The architecture in one line."""
    if cfg.arch == "mlp":
        return f"flatten → linear({mlp_hidden(cfg)}) → ReLU → linear → 10 logits → softmax"
    pool = f" → {cfg.pool} pool 2×2" if cfg.pool != "none" else ""
    convs = [f"conv {cfg.kernel}×{cfg.kernel}, {c} filters → ReLU{pool}" for c in cfg.channels]
    return " → ".join([*convs, "flatten", "linear → 10 logits → softmax"])


def reference_gaps(result: Result, n_images: int = 64, stride: int = 1) -> list[dict]:
    """max |hand-written - torch| for conv2d (the learned first layer), pooling and
    softmax on the first test images, in float64: the proof shown on the page."""
    cfg = result.config
    X = dataset(cfg.dataset, cfg.train_size).X_test[:n_images].double()  # (B, 1, n, n)
    W = torch.from_numpy(np.array(result.state["convs.0.weight"])).double()  # (C, 1, k, k)
    b = torch.from_numpy(np.array(result.state["convs.0.bias"])).double()  # (C,)
    pad = cfg.kernel // 2
    with torch.no_grad():
        z = conv2d(X, W, b, stride, pad)  # (B, C, H, W)
        flat = z.flatten(1)
        pairs = [
            (f"cnn.conv2d (learned layer 1, S={stride}, P={pad})", "F.conv2d",
             z, F.conv2d(X, W, b, stride=stride, padding=pad)),
            ("cnn.max_pool2d(k=2)", "F.max_pool2d", max_pool2d(z, 2), F.max_pool2d(z, 2)),
            ("cnn.avg_pool2d(k=2)", "F.avg_pool2d", avg_pool2d(z, 2), F.avg_pool2d(z, 2)),
            ("cnn.softmax", "F.softmax", softmax(flat), F.softmax(flat, dim=1)),
        ]  # fmt: skip
    return [
        {"hand-written": h, "torch": t, "max |difference|": float((a - r).abs().max())}
        for h, t, a, r in pairs
    ]


def misclassified(result: Result, limit: int = 12) -> np.ndarray:
    """Indices of test images the model got wrong, most confident mistakes first."""
    y = dataset(result.config.dataset, result.config.train_size).y_test.numpy()
    wrong = np.flatnonzero(result.test_pred != y)
    conf = result.test_probs[wrong, result.test_pred[wrong]]
    return wrong[np.argsort(-conf)][:limit]


def diagnose(result: Result) -> str | None:
    """A one-line lesson when training diverged or stayed at chance, else None."""
    cfg = result.config
    if result.diverged_at is not None:
        return (
            f"Training diverged at step {result.diverged_at}: the loss became "
            f"{'non-finite' if not np.isfinite(result.history.step_loss[-1]) else 'enormous'}. "
            f"With learning rate {cfg.lr:g} each update overshoots so far that the logits "
            "explode; lower the learning rate."
        )
    if result.test_acc < 0.3:
        return (
            f"Test accuracy {100 * result.test_acc:.3g}% is near chance (10%). The learning rate "
            f"{cfg.lr:g} may be too large (ReLUs die: they output 0 for every image) or too "
            "small to move in the time given."
        )
    return None


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------


def bench() -> list[dict]:
    """The default CNN on the digits: test accuracy after training, and the time."""
    cfg = CNNConfig()
    res = train(cfg)
    return [
        {
            "topic": "cnn",
            "task": "digits",
            "metric": "test_accuracy",
            "target": 0.97,
            "value": res.test_acc,
            "reached": res.test_acc >= 0.97,
            "seconds": res.seconds,
            "steps": res.steps,
            "device": res.device + (" (CUDA graph)" if res.cuda_graph else ""),
        }
    ]
