"""Training: cross-entropy with Adam or SGD on shuffled mini-batches, the diagnosis, the bench.

The whole dataset lives as tensors on the device and each step gathers its batch by index
(no DataLoader). On CUDA the whole training step (gather the batch, forward, backward,
Adam/SGD update, running statistics) is captured once in a CUDA graph and replayed: at this
size eager CUDA is bound by kernel launches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dl_core.cnn.config import N_CLASSES, CNNConfig, dataset
from dl_core.cnn.model import build_model, count_params
from dl_core.device import pick
from dl_core.training import generator, timer

DIVERGENCE_LOSS = 1e3  # a cross-entropy this large (logits ~1000 apart) counts as diverged
CUDA_WARMUP = 3  # eager steps on a side stream before the CUDA graph is captured
CUDA_GRAPHS = True  # on CUDA, replay the training step as a CUDA graph (False: eager, to compare)


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
