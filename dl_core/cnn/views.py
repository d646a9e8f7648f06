"""What the page inspects with a trained model: one image's feature maps and softmax, the
learned kernels, the hand-written layers against torch, the most confident mistakes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dl_core.cnn.config import CNNConfig, dataset
from dl_core.cnn.layers import KERNELS, avg_pool2d, conv2d, kernel_preset, max_pool2d, softmax
from dl_core.cnn.model import CNN, load_state
from dl_core.cnn.training import Result
from dl_core.cnn.walkthrough import SoftmaxStep, softmax_walkthrough


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
