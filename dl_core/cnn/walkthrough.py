"""Walkthroughs: every number of one output position, named like the symbols on the page.

``conv_walkthrough`` (a_rc of one convolution), ``flip_walkthrough`` (cross-correlation vs
the textbook convolution), ``pool_walkthrough`` (h_pool_rc) and ``softmax_walkthrough``
(logits a to probabilities y_hat), each built on the hand-written layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dl_core.cnn.layers import avg_pool2d, conv2d, convolve2d, max_pool2d, output_size, softmax
from dl_core.training import check_choice


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
