"""The learner's own digit: an uploaded image file or a drawn pixel grid, turned
into the model's input (an 8x8 or 28x28 array in [0, 1], ink = 1, paper = 0).

Every bad input is a ``ValueError`` with a message a learner can act on: a file
that is not an image, a damaged image, one too large, a fully transparent PNG,
a blank image or an empty drawing.

The conversion imitates how the UCI digits were made: the ink's bounding box is
scaled to fill a 32x32 frame (keeping its aspect ratio, centred), then averaged
over 4x4 blocks to 8x8. MNIST-sized output (28x28) puts a 20x20 box in the centre.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10_000_000  # 10 MB
MAX_PIXELS = 25_000_000  # 25 megapixels (width x height), checked before decoding
MAX_GRID = 64  # drawn grids up to 64x64 cells
INK_THRESHOLD = 0.15  # a pixel with ink above this counts as part of the stroke
MIN_INK_PIXELS = 2
# a 16x16 drawing of a seven, the starting point of the page's pixel grid
SAMPLE_SEVEN = np.zeros((16, 16), dtype=bool)
SAMPLE_SEVEN[2:4, 3:13] = True  # the bar
for _r in range(4, 14):  # the diagonal stroke
    SAMPLE_SEVEN[_r, 12 - (_r - 4) // 2 - 1 : 12 - (_r - 4) // 2 + 1] = True


@dataclass(frozen=True)
class DigitInput:
    x: np.ndarray  # (size, size) float32 in [0, 1], ready for the model
    ink: np.ndarray  # (h, w) the ink before cropping and resizing, in [0, 1]
    note: str  # how it was converted, for the page


def from_upload(data: bytes, size: int = 8) -> DigitInput:
    """Decode an uploaded file and convert it. ValueError explains any problem."""
    if not data:
        raise ValueError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"The file is {len(data) / 1e6:.1f} MB; at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB "
            "please (a small photo or screenshot of one digit is plenty)."
        )
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        raise ValueError(
            "This file is not an image I can read. Upload a PNG, JPEG, GIF, BMP or WebP."
        ) from None
    except Exception as e:  # Pillow raises several types for garbage headers
        raise ValueError(
            f"This file could not be opened as an image ({type(e).__name__})."
        ) from None
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ValueError(
            f"The image is {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); at most "
            f"{MAX_PIXELS / 1e6:.0f} megapixels please. Crop it to the digit."
        )
    if w < 1 or h < 1:
        raise ValueError("The image has no pixels.")
    try:
        img.seek(0)  # first frame of an animation
        img.load()
    except Exception:
        raise ValueError(
            "The image file is damaged or cut short, so it cannot be decoded. Save it again "
            "and re-upload it."
        ) from None
    ink, note = _ink_from_image(img)
    return DigitInput(to_model_input(ink, size), ink, note)


def _ink_from_image(img: Image.Image) -> tuple[np.ndarray, str]:
    """Ink in [0, 1] (h, w): dark strokes on light paper, light on dark, or the
    opaque strokes of a transparent PNG."""
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0  # (h, w, 4)
    alpha = rgba[..., 3]
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])  # (h, w)
    if alpha.max() < 0.02:
        raise ValueError(
            "The image is fully transparent: there is nothing to see. Draw the digit in an "
            "opaque colour, or flatten the image onto a background."
        )
    transparent = alpha < 0.5
    if transparent.mean() > 0.1:  # a transparent background: the opaque pixels are the strokes
        return alpha, "transparent background: the opaque pixels are taken as the ink"
    # paper is the colour of the border; ink is whatever differs from it
    border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
    if np.median(border) > 0.5:
        return 1.0 - lum, "dark ink on light paper: inverted so that ink is 1"
    return lum, "light ink on dark background: used as is"


def from_grid(grid, size: int = 8) -> DigitInput:
    """A drawn grid of cells (n, n): True / 1 is ink. Cropped, centred and
    resized like an uploaded image."""
    try:
        g = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("The drawing must be a grid of numbers or check boxes.") from None
    if g.ndim != 2 or not (2 <= g.shape[0] <= MAX_GRID and 2 <= g.shape[1] <= MAX_GRID):
        raise ValueError(f"The drawing must be a 2-D grid between 2x2 and {MAX_GRID}x{MAX_GRID}.")
    if not np.isfinite(g).all():
        raise ValueError("The drawing contains empty or non-numeric cells.")
    g = np.clip(g, 0.0, 1.0)
    return DigitInput(to_model_input(g, size), g, f"{g.shape[0]}x{g.shape[1]} drawing")


def to_model_input(ink: np.ndarray, size: int = 8) -> np.ndarray:
    """Crop the ink to its bounding box, scale it into the frame, keep the
    aspect ratio, centre it and average down to (size, size), max 1."""
    ink = np.asarray(ink, dtype=np.float64)
    mask = ink > INK_THRESHOLD
    if mask.sum() < MIN_INK_PIXELS or ink.max() - ink.min() < INK_THRESHOLD:
        raise ValueError(
            "The image looks empty: no strokes found. Draw a digit (fill some cells) or "
            "upload a picture with a clearly visible digit."
        )
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # (h, w)
    crop = np.where(crop > INK_THRESHOLD, crop, 0.0)
    frame, box = (32, 32) if size == 8 else (size * 4, size * 4 * 20 // 28)
    h, w = crop.shape
    scale = box / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    img = Image.fromarray((crop * 255).astype(np.uint8)).resize((nw, nh), Image.Resampling.BILINEAR)
    canvas = np.zeros((frame, frame))
    top, left = (frame - nh) // 2, (frame - nw) // 2
    canvas[top : top + nh, left : left + nw] = np.asarray(img, dtype=np.float64) / 255.0
    f = frame // size
    small = canvas.reshape(size, f, size, f).mean(axis=(1, 3))  # (size, size) block means
    return (small / small.max()).astype(np.float32)
