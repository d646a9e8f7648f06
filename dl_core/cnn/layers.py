"""The hand-written layers, with tensor ops, each tested against ``torch.nn.functional``:
the output-size formula, ``conv2d`` (a cross-correlation, as ``F.conv2d``), max and average
pooling, the softmax; the classic 3x3 kernels, ``flip`` and the textbook ``convolve2d``."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from dl_core.training import check_choice

KERNELS = ("edge (vertical)", "edge (horizontal)", "blur", "sharpen", "identity")


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
