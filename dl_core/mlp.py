"""The multilayer perceptron of the neural-network playground.

A fully connected network on 2-D data, trained by a **hand-written** forward
and backward pass (tensor ops only) next to the ``torch.nn`` / ``torch.optim``
reference it is tested against (``TorchMLP`` and ``reference_optimizer``).

In the app's notation (``dl_core.notation``), per hidden layer l (rows are samples,
``h_0`` holds the input features; W_l is stored (fan_in, fan_out), the transpose of the
page's W^(l) and of ``nn.Linear.weight``):

    a_l = h_{l-1} W_l + b_l                  (B, n_l) pre-activations
    [batch norm]  a_l <- gamma_l (a_l - mu_B) / sqrt(sigma_B^2 + eps) + beta_l
    h_l = phi(a_l)                            phi: relu, tanh, sigmoid or linear
    [dropout]     h_l <- h_l * r / (1 - p),   r ~ Bernoulli(1 - p) per unit and sample

and the output layer ``a_out = h_L W_out + b_out`` is read through a sigmoid
(two classes), a softmax (three or more) or as is (regression, mean squared
error). Training uses the batch's own statistics mu_B, sigma_B^2 and random dropout
masks; evaluation (``forward_eval``: the decision map, the loss curves) uses batch
norm's running averages and no dropout (``batch_norm_view``, ``dropout``).

Why by hand: the network is tiny (a few hundred parameters), so a training step
is bound by the per-op overhead of PyTorch, not by arithmetic. ``nn.Module`` +
autograd + ``torch.optim`` spend about 60 small ops per step; the step here uses
about 30: all parameters live in **one flat tensor** (the layers are views into
it), so the optimizer update is a handful of in-place ops whatever the depth;
activations go into preallocated buffers (``out=``); the loss gradient of
sigmoid/softmax cross-entropy is written directly as ``(p - y) / B``.

Device rule: the playground always runs on the CPU (``pick(small=True)``): a
step of this size is ~30 launches of microsecond work, and a CUDA launch alone
costs about 11 us.

Thread rule: training and evaluation run with one intra-op thread
(``dl_core.training.one_thread``). Every op here is a few microseconds of work; with two
OpenMP threads each op pays a hand-off, and on a busy 2-core machine (a server
with several sessions) the threads wait for each other: measured here at load
average 9, 400-1,000 steps/s with 2 threads against 4,400-8,600 with 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from dl_core import data2d, engine, optim
from dl_core.device import pick
from dl_core.training import check_choice, check_range, generator, one_thread, timer

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


# ---------------------------------------------------------------------------
# Parameters: one flat tensor, the layers are views into it
# ---------------------------------------------------------------------------


@dataclass
class Layer:
    W: torch.Tensor  # (fan_in, fan_out) view of theta: a = h W + b
    b: torch.Tensor  # (fan_out,)
    gW: torch.Tensor  # views of the flat gradient, same shapes
    gb: torch.Tensor
    gamma: torch.Tensor | None = None  # batch norm scale (fan_out,), hidden layers only
    beta: torch.Tensor | None = None  # batch norm shift
    ggamma: torch.Tensor | None = None
    gbeta: torch.Tensor | None = None
    running_mean: torch.Tensor | None = None  # batch norm statistics for evaluation
    running_var: torch.Tensor | None = None


def _layout(cfg: Config) -> list[tuple[str, int, tuple[int, ...]]]:
    """(name, layer index, shape) of every parameter, in the order of theta."""
    out = []
    sizes = cfg.sizes
    for i in range(len(sizes) - 1):
        out += [("W", i, (sizes[i], sizes[i + 1])), ("b", i, (sizes[i + 1],))]
        if cfg.batch_norm and i < len(sizes) - 2:
            out += [("gamma", i, (sizes[i + 1],)), ("beta", i, (sizes[i + 1],))]
    return out


def init_theta(cfg: Config, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The initial flat parameter vector, seeded by ``cfg.seed``.

    xavier: W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)), b = 0;
    he:     W ~ N(0, 2 / fan_in), b = 0;
    torch:  W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear's default);
    zeros:  everything 0 (every hidden neuron stays identical: the symmetry problem).
    Batch norm starts at gamma = 1, beta = 0."""
    g = generator(cfg.seed)
    parts = []
    for name, _i, shape in _layout(cfg):
        fan_in = shape[0]
        if name == "gamma":
            t = torch.ones(shape, dtype=torch.float64)
        elif name == "beta" or cfg.init == "zeros":
            t = engine.zeros(shape)
        elif cfg.init == "torch":
            t = engine.torch_default(shape, fan_in if name == "W" else _fan_in_of_bias(cfg, _i), g)
        elif name == "b":
            t = engine.zeros(shape)
        elif cfg.init == "xavier":
            t = engine.xavier_uniform(*shape, g)
        else:  # he
            t = engine.he_normal(*shape, g)
        parts.append(t.reshape(-1))
    return torch.cat(parts).to(dtype)


def _fan_in_of_bias(cfg: Config, i: int) -> int:
    return cfg.sizes[i]


def weight_mask(cfg: Config) -> torch.Tensor:
    """1 on the entries of theta that are weights W (regularised), 0 elsewhere."""
    return torch.cat([torch.full((math.prod(s),), float(n == "W")) for n, _i, s in _layout(cfg)])


def _views(cfg: Config, theta: torch.Tensor, grad: torch.Tensor) -> list[Layer]:
    layers: list[Layer] = []
    offset = 0
    for name, i, shape in _layout(cfg):
        size = math.prod(shape)
        v, gv = theta[offset : offset + size].view(shape), grad[offset : offset + size].view(shape)
        offset += size
        if name == "W":
            layers.append(Layer(W=v, b=v, gW=gv, gb=gv))  # b filled next
        elif name == "b":
            layers[i].b, layers[i].gb = v, gv
        elif name == "gamma":
            layers[i].gamma, layers[i].ggamma = v, gv
        else:
            layers[i].beta, layers[i].gbeta = v, gv
    return layers


# ---------------------------------------------------------------------------
# The hand-written network: state, forward, backward, optimizer
# ---------------------------------------------------------------------------


class _Buffers:
    """Preallocated activations for one batch size B."""

    def __init__(self, sizes: tuple[int, ...], B: int, dtype: torch.dtype, cfg: Config):
        new = lambda *s: torch.empty(*s, dtype=dtype)  # noqa: E731
        hid = sizes[1:-1]
        self.a = [new(B, n) for n in hid]  # (B, n_l) pre-activations
        self.ahat = [new(B, n) for n in hid] if cfg.batch_norm else []  # normalised a
        self.inv_std = [new(n) for n in hid] if cfg.batch_norm else []  # 1/sqrt(var + eps)
        self.h = [new(B, n) for n in hid]  # phi(a)
        self.mask = [new(B, n) for n in hid] if cfg.dropout > 0 else []  # r / (1-p)
        self.hd = [new(B, n) for n in hid] if cfg.dropout > 0 else []  # h * mask
        self.dh = [new(B, n) for n in hid]
        self.da = [new(B, n) for n in hid]
        self.tmp = [new(B, n) for n in hid]
        self.out = new(B, sizes[-1])  # (B, n_out) output logits / values
        self.dout = new(B, sizes[-1])
        self.Xb = new(B, sizes[0])  # a mini-batch of features
        self.yb = new(B, sizes[-1])  # its targets (one-hot for softmax)


@dataclass
class History:
    step: list[int] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)  # classification only (NaN otherwise)
    test_acc: list[float] = field(default_factory=list)


class Net:
    """A network in training: parameters, optimizer state, data and history.

    Mutable by design (the playground keeps it in ``st.session_state`` and
    advances it tick by tick); ``train`` wraps it into a frozen ``Result``."""

    def __init__(self, cfg: Config, dtype: torch.dtype = torch.float32):
        self.cfg = cfg
        self.dtype = dtype
        self.device = pick(small=True).type  # tiny work: see the module docstring
        data = make_data(cfg)
        self.data = data
        self.F_train = features(data.X_train, cfg.features).to(dtype)  # (N, d)
        self.F_test = features(data.X_test, cfg.features).to(dtype)  # (M, d)
        self.Y_train = self._targets(data.y_train)  # (N, n_out)
        self.Y_test = self._targets(data.y_test)
        self.theta = init_theta(cfg, dtype)  # (P,) every parameter
        self.grad = torch.zeros_like(self.theta)  # (P,)
        self.layers = _views(cfg, self.theta, self.grad)
        if cfg.batch_norm:
            for L in self.layers[:-1]:
                L.running_mean = torch.zeros_like(L.b)
                L.running_var = torch.ones_like(L.b)
        self.wmask = weight_mask(cfg).to(dtype)  # (P,)
        self.gen = generator(cfg.seed + 1)  # mini-batches and dropout
        self.step_count = 0
        self.samples_seen = 0
        self.diverged_at: int | None = None
        self.history = History()
        self.theta_before_last = self.theta.clone()  # for the "update of one weight" walkthrough
        self._buffers: dict[int, _Buffers] = {}
        self._perm = torch.empty(0, dtype=torch.long)
        self._cursor = 0
        self._trace = torch.empty(0, dtype=dtype)
        self.reset_optimizer()
        self.record()

    # -- targets and settings ------------------------------------------------
    def _targets(self, y: torch.Tensor) -> torch.Tensor:
        if self.cfg.task == "multiclass":
            return nn.functional.one_hot(y, self.cfg.n_out).to(self.dtype)  # (n, K)
        return y.to(self.dtype)[:, None]  # (n, 1)

    def reset_optimizer(self) -> None:
        self.opt = optim.Flat(_optim_config(self.cfg))  # dl_core.optim's in-place updates

    @property
    def opt_step(self) -> int:
        """t of Adam's bias correction: Adam's updates since it was (re)set; 0 for the others."""
        return self.opt.k if self.opt.cfg.name == "adam" else 0

    def opt_buffer(self, name: str) -> torch.Tensor:
        """The optimizer's running v (momentum) or m, s (Adam); zeros where it has none."""
        return self.opt.state.get(name, torch.zeros_like(self.theta))

    def update(self, cfg: Config) -> bool:
        """Take new hyperparameters without resetting the weights. Returns False
        (and changes nothing) when the structure differs: build a new Net then."""
        if cfg.structure() != self.cfg.structure():
            return False
        if cfg.optimizer != self.cfg.optimizer:
            self.reset_optimizer()
        if cfg.dropout != self.cfg.dropout:
            self._buffers.clear()
        self.cfg = cfg
        self.opt.cfg = _optim_config(cfg)  # new rates, same running buffers
        return True

    @property
    def n_train(self) -> int:
        return len(self.F_train)

    @property
    def epoch(self) -> float:
        return self.samples_seen / self.n_train

    def _batch_size(self) -> int:
        B = self.cfg.batch_size
        return self.n_train if B == 0 or self.n_train <= B else B

    def _buf(self, B: int) -> _Buffers:
        if B not in self._buffers:
            if len(self._buffers) >= MAX_BUFFERS:  # a learner sliding the batch size
                self._buffers.pop(next(iter(self._buffers)))  # drop the oldest
            self._buffers[B] = _Buffers(self.cfg.sizes, B, self.dtype, self.cfg)
        return self._buffers[B]

    def _next_batch(self, B: int, buf: _Buffers) -> tuple[torch.Tensor, torch.Tensor]:
        if self.n_train == B:
            return self.F_train, self.Y_train
        if self._cursor + B > len(self._perm):  # a new epoch: reshuffle, drop the remainder
            self._perm = torch.randperm(self.n_train, generator=self.gen)
            self._cursor = 0
        idx = self._perm[self._cursor : self._cursor + B]
        self._cursor += B
        torch.index_select(self.F_train, 0, idx, out=buf.Xb)
        torch.index_select(self.Y_train, 0, idx, out=buf.yb)
        return buf.Xb, buf.yb

    # -- one training step ----------------------------------------------------
    def _step(self, X: torch.Tensor, Y: torch.Tensor, buf: _Buffers) -> None:
        """Forward, backward and update on the batch X (B, d), Y (B, n_out)."""
        cfg, layers = self.cfg, self.layers
        B = X.shape[0]
        act, p = cfg.activation, cfg.dropout
        # forward
        h = X
        for i, L in enumerate(layers[:-1]):
            a = engine.dense(h, L.W, L.b, out=buf.a[i])  # (B, n_l) = h W + b
            if cfg.batch_norm:  # the batch's own statistics mu_B, sigma_B^2 (biased)
                var, mu = torch.var_mean(a, 0, correction=0)  # (n_l,), (n_l,)
                with torch.no_grad():  # running averages for evaluation (unbiased var)
                    L.running_mean.lerp_(mu, BN_MOMENTUM)
                    L.running_var.lerp_(var * (B / max(B - 1, 1)), BN_MOMENTUM)
                inv = torch.add(var, BN_EPS, out=buf.inv_std[i]).rsqrt_()
                ahat = torch.sub(a, mu, out=buf.ahat[i]).mul_(inv)
                a = torch.addcmul(L.beta, ahat, L.gamma, out=buf.tmp[i])
            h = engine.phi_(act, a, buf.h[i])
            if p > 0:  # inverted dropout: r ~ Bernoulli(1 - p), scaled by 1 / (1 - p)
                mask = buf.mask[i].bernoulli_(1 - p, generator=self.gen).div_(1 - p)
                h = torch.mul(h, mask, out=buf.hd[i])
        out = engine.dense(h, layers[-1].W, layers[-1].b, out=buf.out)  # (B, n_out)
        # dL/d out for the mean loss over the batch
        d = buf.dout
        if cfg.task == "binary":
            torch.sigmoid(out, out=d).sub_(Y).div_(B)  # (sigma(z) - y) / B
        elif cfg.task == "multiclass":
            torch.softmax(out, 1, out=d).sub_(Y).div_(B)  # (softmax(z) - y) / B
        else:
            torch.sub(out, Y, out=d).mul_(2 / B)  # 2 (y_hat - y) / B
        # backward, from the output layer down
        n_hidden = len(layers) - 1
        for i in range(n_hidden, -1, -1):
            L = layers[i]
            h_prev = X if i == 0 else (buf.hd[i - 1] if p > 0 else buf.h[i - 1])
            j = i - 1  # the hidden layer below
            # d = delta, dL/da of this layer (B, n_out): dW = h_prev^T d, db = sum d, dh = d W^T
            _, _, dh = engine.dense_backward(
                d, h_prev, L.W, L.gW, L.gb, dh=i > 0, dh_out=buf.dh[j] if i > 0 else None
            )
            if i == 0:
                break
            if p > 0:
                dh.mul_(buf.mask[j])
            d = engine.delta(act, dh, buf.h[j], out=buf.da[j])  # dL/dh * phi'(a)
            if cfg.batch_norm:
                Lj = layers[j]
                ahat = buf.ahat[j]
                torch.sum(d, 0, out=Lj.gbeta)
                torch.sum(torch.mul(d, ahat, out=buf.tmp[j]), 0, out=Lj.ggamma)
                dxh = d.mul_(Lj.gamma)  # dL/dahat (B, n_j)
                # da = inv_std / B * (B dahat - sum dahat - ahat * sum(dahat * ahat))
                c1 = dxh.mean(0)
                c2 = torch.mul(dxh, ahat, out=buf.tmp[j]).mean(0)
                d = dxh.sub_(c1).sub_(ahat * c2).mul_(buf.inv_std[j])
        self._regularize_and_update()

    def _regularize_and_update(self) -> None:
        cfg, th, g = self.cfg, self.theta, self.grad
        if cfg.reg_rate > 0 and cfg.regularization == "l2":
            g.addcmul_(th, self.wmask, value=cfg.reg_rate)  # + alpha w
        elif cfg.reg_rate > 0 and cfg.regularization == "l1":
            g.addcmul_(torch.sign(th), self.wmask, value=cfg.reg_rate)  # + alpha sign(w)
        optim.update_(self.opt, th, g)  # SGD, momentum or Adam: dl_core.optim's formulas

    def advance(self, n: int, record: bool = True) -> int:
        """Train ``n`` more steps (at most MAX_STEPS); returns the steps done.

        Divergence is data: after the chunk, the first step whose parameters
        were non-finite (or beyond DIVERGENCE_LIMIT) is stored in ``diverged_at``,
        the parameters go back to the last finite ones (those at the start of the
        chunk) and further calls do nothing."""
        if self.diverged_at is not None:
            return 0
        n = int(min(max(n, 0), MAX_STEPS))
        if n == 0:
            return 0
        with one_thread():
            n = self._advance(n)
        self.step_count += n
        self.samples_seen += n * self._batch_size()
        if record:
            self.record()
        return n

    def _advance(self, n: int) -> int:
        B = self._batch_size()
        buf = self._buf(B)
        if len(self._trace) < n:
            self._trace = torch.empty(n, dtype=self.dtype)
        trace = self._trace
        snapshot = self.theta.clone()
        stats = [(L.running_mean.clone(), L.running_var.clone()) for L in self.layers[:-1]
                 if L.running_mean is not None]  # fmt: skip
        with torch.no_grad():
            for k in range(n):
                if k == n - 1:
                    self.theta_before_last.copy_(self.theta)
                X, Y = self._next_batch(B, buf)
                self._step(X, Y, buf)
                torch.sum(self.theta, 0, keepdim=True, out=trace[k : k + 1])
            bad = ~torch.isfinite(trace[:n]) | (trace[:n].abs() > DIVERGENCE_LIMIT)
            if bool(bad.any()):
                first = int(bad.nonzero()[0, 0])
                self.diverged_at = self.step_count + first + 1
                self.theta.copy_(snapshot)
                self.theta_before_last.copy_(snapshot)
                for L, (rm, rv) in zip(self.layers[:-1], stats):  # empty without batch norm
                    L.running_mean.copy_(rm)
                    L.running_var.copy_(rv)
                n = first
        return n

    # -- evaluation -------------------------------------------------------------
    def forward_eval(self, F: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's output for inputs F (n, d) in evaluation mode (no
        dropout; batch norm with its running statistics): [F, h_1, ..., h_L, out]."""
        cfg = self.cfg
        outs = [F]
        h = F
        with torch.no_grad(), one_thread():
            for L in self.layers[:-1]:
                a = torch.addmm(L.b, h, L.W)
                if cfg.batch_norm:
                    a = (a - L.running_mean) / torch.sqrt(L.running_var + BN_EPS) * L.gamma + L.beta
                h = engine.phi_(cfg.activation, a, torch.empty_like(a))
                outs.append(h)
            outs.append(torch.addmm(self.layers[-1].b, h, self.layers[-1].W))
        return outs

    def loss_and_accuracy(self, F: torch.Tensor, Y: torch.Tensor) -> tuple[float, float]:
        """Mean data loss (no penalty) and accuracy (NaN for regression) in evaluation mode."""
        out = self.forward_eval(F)[-1]
        loss, _ = loss_of(self.cfg.task, out, Y)
        if self.cfg.task == "regression":
            return float(loss), math.nan
        return float(loss), float(
            (predict(self.cfg.task, out) == labels(self.cfg.task, Y)).double().mean()
        )

    def penalty(self) -> float:
        """The regularisation term added to the loss: alpha sum|w| or alpha/2 sum w^2."""
        w = self.theta[self.wmask.bool()]
        if self.cfg.regularization == "l1":
            return self.cfg.reg_rate * float(w.abs().sum())
        if self.cfg.regularization == "l2":
            return self.cfg.reg_rate * 0.5 * float((w * w).sum())
        return 0.0

    def record(self) -> None:
        tr_loss, tr_acc = self.loss_and_accuracy(self.F_train, self.Y_train)
        te_loss, te_acc = self.loss_and_accuracy(self.F_test, self.Y_test)
        h = self.history
        h.step.append(self.step_count)
        h.epoch.append(self.epoch)
        h.train_loss.append(tr_loss)
        h.test_loss.append(te_loss)
        h.train_acc.append(tr_acc)
        h.test_acc.append(te_acc)
        if len(h.step) > MAX_RECORDS:  # thin out, keeping the latest record
            for name in ("step", "epoch", "train_loss", "test_loss", "train_acc", "test_acc"):
                seq = getattr(h, name)
                setattr(h, name, seq[-1::-2][::-1])
        if self.diverged_at is None and not (math.isfinite(tr_loss) and math.isfinite(te_loss)):
            self.diverged_at = self.step_count  # the loss overflowed although theta is finite

    def params(self) -> list[dict[str, np.ndarray]]:
        """Per layer: W (fan_in, fan_out), b, and gamma/beta with batch norm, as numpy."""
        out = []
        for L in self.layers:
            d = {"W": L.W.double().numpy().copy(), "b": L.b.double().numpy().copy()}
            if L.gamma is not None:
                d["gamma"] = L.gamma.double().numpy().copy()
                d["beta"] = L.beta.double().numpy().copy()
            out.append(d)
        return out


def _optim_config(cfg: Config) -> optim.OptimConfig:
    """The playground's optimizer settings as dl_core.optim's."""
    return optim.OptimConfig(cfg.optimizer, lr=cfg.lr, momentum=cfg.momentum, beta1=cfg.beta1,
                             beta2=cfg.beta2, eps=cfg.eps)  # fmt: skip


def loss_of(task: str, out: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and the per-sample loss (n,) from the outputs (n, n_out).

    binary:     L = softplus(a) - y a           (= -y log p - (1-y) log(1-p), p = sigma(a))
    multiclass: L = logsumexp(a) - sum_k y_k a_k (= -log softmax(a)_y)
    regression: L = (y_hat - y)^2"""
    if task == "binary":
        per = (nn.functional.softplus(out) - Y * out)[:, 0]
    elif task == "multiclass":
        per = torch.logsumexp(out, 1) - (Y * out).sum(1)
    else:
        per = ((out - Y) ** 2)[:, 0]
    return per.mean(), per


def predict(task: str, out: torch.Tensor) -> torch.Tensor:
    """Class labels (n,) from outputs (n, n_out)."""
    if task == "binary":
        return (out[:, 0] > 0).long()
    return out.argmax(1)


def labels(task: str, Y: torch.Tensor) -> torch.Tensor:
    return Y[:, 0].long() if task == "binary" else Y.argmax(1)


def probabilities(task: str, out: torch.Tensor) -> torch.Tensor:
    """p(class 1) (n,) for two classes, softmax (n, K) for more, the value for regression."""
    if task == "binary":
        return torch.sigmoid(out[:, 0])
    if task == "multiclass":
        return torch.softmax(out, 1)
    return out[:, 0]


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
# Grids for the heat maps, walkthroughs for the formulas
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    xs: np.ndarray  # (R,) x1 coordinates
    ys: np.ndarray  # (R,) x2 coordinates
    layers: list[np.ndarray]  # per layer [features, hidden..., out]: (R, R, units), [y, x] order
    output: np.ndarray  # (R, R) p(class 1) / value, or (R, R, K) probabilities


def grid(net: Net, res: int = 50) -> Grid:
    """Every neuron's output over the input plane, on a res x res grid."""
    res = int(min(max(res, 2), MAX_GRID))
    xs = torch.linspace(-data2d.EXTENT, data2d.EXTENT, res, dtype=torch.float64)
    Y, X = torch.meshgrid(xs, xs, indexing="ij")  # (res, res)
    P = torch.stack([X.reshape(-1), Y.reshape(-1)], dim=1)  # (res*res, 2)
    outs = net.forward_eval(features(P, net.cfg.features).to(net.dtype))
    prob = probabilities(net.cfg.task, outs[-1])
    return Grid(
        xs=xs.numpy(), ys=xs.numpy(),
        layers=[o.reshape(res, res, -1).double().numpy() for o in outs],
        output=prob.reshape(res, res, *prob.shape[1:]).double().numpy(),
    )  # fmt: skip


def confusion(net: Net, split: str = "test") -> np.ndarray:
    """Confusion matrix (K, K): rows the true class, columns the predicted one."""
    F, Y = (net.F_test, net.Y_test) if split == "test" else (net.F_train, net.Y_train)
    task = net.cfg.task
    K = max(net.cfg.n_classes, 2)
    pred = predict(task, net.forward_eval(F)[-1])
    true = labels(task, Y)
    return torch.bincount(true * K + pred, minlength=K * K).reshape(K, K).numpy()


@dataclass(frozen=True)
class NeuronWalk:
    """One neuron j of layer l for one point x, named as on the page (evaluation mode)."""

    layer: int  # 1-based hidden layer, or len(hidden) + 1 for the output layer
    unit: int  # 1-based
    x: tuple[float, float]  # the point (x1, x2)
    h_prev: tuple[float, ...]  # inputs of the neuron (features or the layer below)
    w: tuple[float, ...]  # its incoming weights W^(l)_j., one per input
    b: float
    a: float  # w . h_prev + b: the pre-activation
    bn: tuple[float, float, float, float] | None  # (running mean, running var, gamma, beta)
    a_norm: float  # gamma (a - mu) / sqrt(var + eps) + beta, or a without batch norm
    h: float  # phi(a_norm): the neuron's output
    activation: str  # phi, or "sigmoid"/"softmax"/"identity" for the output layer


def neuron(net: Net, layer: int, unit: int, x: tuple[float, float]) -> NeuronWalk:
    """Walk point x through neuron ``unit`` of ``layer`` (both 1-based)."""
    cfg = net.cfg
    n_layers = len(cfg.hidden) + 1
    layer = int(min(max(layer, 1), n_layers))
    unit = int(min(max(unit, 1), cfg.sizes[layer]))
    P = torch.tensor([x], dtype=torch.float64)
    outs = net.forward_eval(features(P, cfg.features).to(net.dtype))
    h_prev = outs[layer - 1][0].double()
    L = net.layers[layer - 1]
    w = L.W[:, unit - 1].double()
    b = float(L.b[unit - 1])
    a = float(h_prev @ w) + b
    bn = None
    a_norm = a
    if layer < n_layers and cfg.batch_norm:  # evaluation: the running averages
        mu, var = float(L.running_mean[unit - 1]), float(L.running_var[unit - 1])
        g, be = float(L.gamma[unit - 1]), float(L.beta[unit - 1])
        bn = (mu, var, g, be)
        a_norm = g * (a - mu) / math.sqrt(var + BN_EPS) + be
    if layer < n_layers:
        act = cfg.activation
        h = float(outs[layer][0, unit - 1])
    else:
        act = {"binary": "sigmoid", "multiclass": "softmax", "regression": "identity"}[cfg.task]
        p = probabilities(cfg.task, outs[-1])[0]
        h = float(p[unit - 1]) if cfg.task == "multiclass" else float(p)
    return NeuronWalk(
        layer, unit, (float(x[0]), float(x[1])), tuple(h_prev.tolist()), tuple(w.tolist()),
        b, a, bn, a_norm, h, act,
    )  # fmt: skip


def activation_value(name: str, a: float) -> float:
    """phi(a) for the formulas (checked against the network's own outputs): the engine's."""
    return float(engine.phi(name, torch.tensor(a, dtype=torch.float64)))


@dataclass(frozen=True)
class WeightUpdate:
    """The last update of one weight w = W_l[i, j], named as on the page."""

    layer: int  # 1-based
    i: int  # 1-based input index
    j: int  # 1-based unit index
    step: int  # the training step that made this update
    t: int  # Adam's step count (bias correction); restarts when the optimizer changes
    optimizer: str
    lr: float  # eta
    w_old: float
    g: float  # dL/dw at the last step, penalty included
    reg: float  # the penalty's part of g: alpha w (L2), alpha sign(w) (L1) or 0
    v: float  # momentum velocity after the step
    m: float  # Adam first moment after the step
    s: float  # Adam second moment after the step (v in the paper and on the page)
    m_hat: float  # m / (1 - beta1^t)
    s_hat: float  # s / (1 - beta2^t)
    w_new: float
    delta: float  # w_new - w_old


def weight_update(net: Net, layer: int, i: int, j: int) -> WeightUpdate:
    """The terms of the most recent update of W_layer[i, j] (all 1-based)."""
    cfg = net.cfg
    layer = int(min(max(layer, 1), len(net.layers)))
    fan_in, fan_out = net.layers[layer - 1].W.shape
    i, j = int(min(max(i, 1), fan_in)), int(min(max(j, 1), fan_out))
    offset = sum(math.prod(s) for _n, li, s in _layout(cfg) if li < layer - 1)
    k = offset + (i - 1) * fan_out + (j - 1)
    w_old, w_new = float(net.theta_before_last[k]), float(net.theta[k])
    lam = cfg.reg_rate
    reg = {"l2": lam * w_old, "l1": lam * math.copysign(1.0, w_old) if w_old else 0.0}.get(
        cfg.regularization, 0.0
    )
    t = max(net.opt_step, 1)
    m, s = float(net.opt_buffer("m")[k]), float(net.opt_buffer("s")[k])
    return WeightUpdate(
        layer, i, j, net.step_count, net.opt_step, cfg.optimizer, cfg.lr, w_old,
        float(net.grad[k]), reg, float(net.opt_buffer("v")[k]), m, s, m / (1 - cfg.beta1**t),
        s / (1 - cfg.beta2**t), w_new, w_new - w_old,
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Dropout and batch norm with the current network's numbers
# ---------------------------------------------------------------------------


def dropout(
    h: torch.Tensor, p: float, train: bool = True, generator: torch.Generator | None = None,
    r: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Inverted dropout, as ``torch.nn.Dropout(p)``: in training every entry is kept with
    probability 1 - p (r ~ Bernoulli(1 - p)) and the kept ones are scaled by 1 / (1 - p),
    so E[output] = (1 - p) h / (1 - p) = h; in evaluation the output is h itself.
    Returns (output, r). ``r`` (0/1, h's shape) replaces the random draw. The training step
    (``Net._step``) does the same with a preallocated mask."""
    check_range("dropout", p, 0.0, 0.99)
    if not train or p == 0:
        return h.clone(), torch.ones_like(h)
    if r is None:
        r = torch.bernoulli(torch.full_like(h, 1 - p), generator=generator)
    return h * r / (1 - p), r.to(h.dtype)


@dataclass(frozen=True)
class DropoutView:
    """Dropout at one hidden layer of the current network, for one training point."""

    layer: int  # 1-based hidden layer
    p: float  # the probability of dropping a unit
    point: int  # 0-based index of the training point shown
    h: np.ndarray  # (n_l,) the layer's output for that point (no dropout: evaluation)
    r: np.ndarray  # (n_l,) one mask, 1 = kept
    h_train: np.ndarray  # (n_l,) h * r / (1 - p): what one training step passes on
    mean_train: np.ndarray  # (n_l,) h * r / (1 - p) averaged over `draws` masks: about h
    draws: int  # masks drawn for the average
    kept: float  # the share of units kept over all those masks (about 1 - p)


def dropout_view(net: Net, layer: int, p: float, point: int = 0, draws: int = 2000,
                 seed: int = 0) -> DropoutView:  # fmt: skip
    """Dropout with probability ``p`` applied to hidden layer ``layer``'s outputs h for one
    training point (the layers below evaluated without dropout, batch norm with its running
    averages): one mask, and the mean over ``draws`` masks."""
    if not net.cfg.hidden:
        raise ValueError("dropout acts on hidden layers: this network has none")
    layer = int(min(max(layer, 1), len(net.cfg.hidden)))
    point = int(min(max(point, 0), net.n_train - 1))
    g = generator(seed)
    with torch.no_grad():
        h = net.forward_eval(net.F_train[point : point + 1])[layer][0].double()  # (n_l,)
        h_train, r = dropout(h, p, generator=g)
        many, R = dropout(h.expand(draws, -1), p, generator=g)  # (draws, n_l)
    return DropoutView(
        layer, float(p), point, h.numpy(), r.numpy(), h_train.numpy(), many.mean(0).numpy(),
        draws, float(R.mean()),
    )  # fmt: skip


@dataclass(frozen=True)
class BatchNormView:
    """Batch norm at one hidden layer of the current network: one training batch's own
    statistics (what a training step divides by) next to the running averages (what
    evaluation uses: the decision map, the loss curves, the neuron's formula)."""

    layer: int  # 1-based hidden layer
    a: np.ndarray  # (B, n_l) the batch's pre-activations, before normalising
    mu_B: np.ndarray  # (n_l,) the batch mean
    var_B: np.ndarray  # (n_l,) the batch variance (biased: divides by B)
    running_mean: np.ndarray  # (n_l,)
    running_var: np.ndarray  # (n_l,) (an average of unbiased batch variances)
    gamma: np.ndarray  # (n_l,)
    beta: np.ndarray  # (n_l,)
    train_out: np.ndarray  # (B, n_l) gamma (a - mu_B) / sqrt(var_B + eps) + beta
    eval_out: np.ndarray  # (B, n_l) the same with the running averages
    next_mean: np.ndarray  # (n_l,) the running mean after this batch: (1 - m) mean + m mu_B
    next_var: np.ndarray  # (n_l,) (1 - m) var + m var_B B / (B - 1)


def training_batch(net: Net, seed: int = 0) -> torch.Tensor:
    """Indices of one training batch of the network's batch size, drawn with ``seed``."""
    return torch.randperm(net.n_train, generator=generator(seed))[: net._batch_size()]


def batch_norm_view(net: Net, layer: int, seed: int = 0) -> BatchNormView:
    """Layer ``layer``'s batch norm on a training batch (``training_batch``), with every
    layer below in training mode too (its own batch statistics, no dropout)."""
    cfg = net.cfg
    if not (cfg.batch_norm and cfg.hidden):
        raise ValueError("batch norm is off (or the network has no hidden layer)")
    layer = int(min(max(layer, 1), len(cfg.hidden)))
    X = net.F_train[training_batch(net, seed)].double()  # (B, d)
    B = X.shape[0]
    with torch.no_grad():
        h = X
        for k, L in enumerate(net.layers[:layer]):
            a = h @ L.W.double() + L.b.double()  # (B, n_k)
            var, mu = torch.var_mean(a, 0, correction=0)
            if k == layer - 1:
                break
            ahat = (a - mu) / torch.sqrt(var + BN_EPS)
            h = engine.phi(cfg.activation, ahat * L.gamma.double() + L.beta.double())
        L = net.layers[layer - 1]
        gamma, beta = L.gamma.double(), L.beta.double()
        rm, rv = L.running_mean.double(), L.running_var.double()
        train_out = gamma * (a - mu) / torch.sqrt(var + BN_EPS) + beta
        eval_out = gamma * (a - rm) / torch.sqrt(rv + BN_EPS) + beta
        next_mean = torch.lerp(rm, mu, BN_MOMENTUM)
        next_var = torch.lerp(rv, var * (B / max(B - 1, 1)), BN_MOMENTUM)
    return BatchNormView(layer, *(t.numpy() for t in (
        a, mu, var, rm, rv, gamma, beta, train_out, eval_out, next_mean, next_var)))  # fmt: skip


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
