"""MNIST in its standard IDX format, used when the files are in ``data/mnist/``.

Nothing is downloaded: ``data/README.md`` says where to get the four files.
The IDX format (LeCun et al.) is: two zero bytes, a type code (0x08 = unsigned
byte), the number of dimensions, one big-endian uint32 per dimension, then the
values in row-major order. Files may be gzipped (``.gz``) or not.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from dl_core.data import DATA_DIR, Digits

MNIST_DIR = DATA_DIR / "mnist"
FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
MAX_IDX_BYTES = 100_000_000  # the largest MNIST file is 47 MB uncompressed
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def available(folder: Path = MNIST_DIR) -> bool:
    """True when all four IDX files (gzipped or not) are in ``folder``."""
    return all(_find(folder, stem) is not None for stem in FILES.values())


def read_idx(path: Path) -> np.ndarray:
    """The array stored in one IDX file; ValueError when the file is not valid IDX."""
    path = Path(path)
    try:
        with (gzip.open if path.name.endswith(".gz") else open)(path, "rb") as f:
            raw = f.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as e:
        raise ValueError(f"{path.name}: cannot be read ({e})") from e
    if len(raw) > MAX_IDX_BYTES:
        raise ValueError(f"{path.name}: larger than {MAX_IDX_BYTES:,} bytes, not an MNIST file")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValueError(f"{path.name}: not an IDX file (bad magic number)")
    ndim = raw[3]
    head = 4 + 4 * ndim
    if ndim == 0 or len(raw) < head:
        raise ValueError(f"{path.name}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_DTYPES[raw[2]])
    count = int(np.prod(shape))
    if len(raw) - head != count * dtype.itemsize:
        raise ValueError(
            f"{path.name}: header says shape {shape} but the file holds "
            f"{(len(raw) - head) // dtype.itemsize} values"
        )
    return np.frombuffer(raw, dtype=dtype, count=count, offset=head).reshape(shape)


def load_mnist(folder: Path = MNIST_DIR, train_size: int = 0, test_size: int = 0) -> Digits:
    """MNIST as ``Digits``: X (N, 1, 28, 28) float32 in [0, 1], y (N,) int64.

    ``train_size`` / ``test_size`` > 0 keep only the first images (the files
    are already shuffled), so CPU training stays short."""
    arrays = {}
    for key, stem in FILES.items():
        path = _find(folder, stem)
        if path is None:
            raise ValueError(f"MNIST file {stem}(.gz) not found in {folder}; see data/README.md")
        arrays[key] = read_idx(path)
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(f"MNIST {split}: images {X.shape} and labels {y.shape} do not match")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise ValueError(f"MNIST {split}: labels must be digits 0..9")

    def images(a: np.ndarray, n: int) -> torch.Tensor:
        a = a[:n] if n > 0 else a
        return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, H, W)

    def labels(a: np.ndarray, n: int) -> torch.Tensor:
        a = a[:n] if n > 0 else a
        return torch.from_numpy(a.astype(np.int64))  # (N,)

    return Digits(
        images(arrays["X_train"], train_size),
        labels(arrays["y_train"], train_size),
        images(arrays["X_test"], test_size),
        labels(arrays["y_test"], test_size),
    )


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as an IDX file, gzipped when the name ends in .gz.
    Used by the tests to make small fake MNIST files."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, a.ndim]) + np.array(a.shape, dtype=">u4").tobytes()
    data = header + a.tobytes()
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    Path(path).write_bytes(data)
