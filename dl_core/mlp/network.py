"""The hand-written network: every parameter in one flat tensor (the layers are views
into it), the training step (dl_core.engine's dense layers, dl_core.optim's updates), the
losses and predictions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from dl_core import engine, optim
from dl_core.device import pick
from dl_core.mlp.config import (
    BN_EPS,
    BN_MOMENTUM,
    DIVERGENCE_LIMIT,
    MAX_BUFFERS,
    MAX_RECORDS,
    MAX_STEPS,
    Config,
    features,
    make_data,
)
from dl_core.training import generator, one_thread

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
