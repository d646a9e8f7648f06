"""The learner's own digit: an uploaded image file, a drawing on a canvas (its RGBA
pixels) or a pixel grid, turned into the model's input (an 8x8 or 28x28 array in [0, 1],
ink = 1, paper = 0).

Every bad input is a ``ValueError`` with a message a learner can act on: a file
that is not an image, a damaged image, one too large (bytes, or pixels: checked
from the header, before decoding), a fully transparent PNG, a blank or
low-contrast image or an empty drawing. Any Pillow mode is accepted: 1, L, P (with
a transparent index), LA, RGB(A), CMYK, and 16/32-bit or float images (I;16, I, F),
which are scaled by their own range; EXIF rotation is applied; a photo's grey
paper and noise count as paper.

The conversion imitates how the UCI digits were made: the ink's bounding box is
scaled to fill a 32x32 frame (keeping its aspect ratio, centred), then averaged
over 4x4 blocks to 8x8. MNIST-sized output (28x28) puts a 20x20 box in the centre.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10_000_000  # 10 MB
MAX_PIXELS = 25_000_000  # 25 megapixels (width x height), checked before decoding
MAX_GRID = 64  # drawn grids up to 64x64 cells
INK_THRESHOLD = 0.15  # a pixel with ink above this counts as part of the stroke
MIN_INK_PIXELS = 2
MIN_CONTRAST = 0.2  # the strongest stroke must differ from the paper by 20% of full brightness
PAPER_FLOOR = 0.25  # after stretching paper..stroke to 0..1, values below this are paper
WORK_SIDE = 512  # an upload is shrunk to at most 512 px a side before any arithmetic
HIGH_DEPTH_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N", "F")  # 16/32-bit int, float
MAX_CANVAS = 2048  # a drawing canvas up to 2048 pixels a side
CANVAS_SIDE = 224  # the page's drawing canvas, pixels a side
STROKE_WIDTH = 18  # its pen, pixels
# The drawing the canvas starts with: a seven, as one stroke (x, y) in canvas pixels.
SAMPLE_SEVEN_STROKE = ((62, 50), (162, 50), (128, 118), (104, 178))


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
    except Image.DecompressionBombError:
        raise ValueError(
            f"The image is far too large (over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} "
            f"megapixels); at most {MAX_PIXELS / 1e6:.0f} megapixels please. Crop it to the digit."
        ) from None
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
        img.draft(img.mode, (2 * WORK_SIDE, 2 * WORK_SIDE))  # JPEG: decode at reduced size
        img.load()
    except Exception:
        raise ValueError(
            "The image file is damaged or cut short, so it cannot be decoded. Save it again "
            "and re-upload it."
        ) from None
    ink, note = _ink_from_image(img)
    return DigitInput(to_model_input(ink, size), ink, note)


def _pixels(img: Image.Image) -> tuple[np.ndarray, np.ndarray, str]:
    """Luminance and opacity in [0, 1], both (h, w) float32, of an image in any Pillow
    mode, shrunk so that its longer side is at most WORK_SIDE (memory stays small).

    8-bit modes (1, L, P, RGB, CMYK, LA, RGBA, ...) go through RGBA. 16-bit, 32-bit
    integer and float images (I;16, I, F) are scaled by their nominal range, not
    clipped to 255 (Pillow's own conversion would turn most of them white)."""
    with contextlib.suppress(Exception):  # a broken EXIF block: keep the image as stored
        img = ImageOps.exif_transpose(img)  # phone photos: stored sideways, shown upright
    note = ""
    if img.mode in HIGH_DEPTH_MODES:
        a = np.asarray(img, dtype=np.float64)  # (h, w)
        if not np.isfinite(a).all():
            raise ValueError("The image contains invalid (NaN or infinite) pixel values.")
        hi = float(np.abs(a).max())
        scale = 1.0 if hi <= 1.0 else 255.0 if hi <= 255.0 else 65535.0 if hi <= 65535 else hi
        g = Image.fromarray(np.clip(a / scale, 0.0, 1.0).astype(np.float32), mode="F")
        g.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
        lum = np.asarray(g, dtype=np.float32)
        alpha = np.ones_like(lum)
        note = f"{img.mode} image (values up to {hi:g}) scaled to 0..1; "
    else:
        rgba = img.convert("RGBA")
        rgba.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)  # premultiplied alpha
        px = np.asarray(rgba, dtype=np.float32) / 255.0  # (h, w, 4)
        lum = px[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # (h, w)
        alpha = px[..., 3]
    return lum, alpha, note


def _ink_from_image(img: Image.Image) -> tuple[np.ndarray, str]:
    """Ink in [0, 1] (h, w): dark strokes on light paper, light on dark, or the
    opaque strokes of a transparent PNG. The paper's own shade (grey paper in a
    photo) becomes 0 and the strongest stroke 1."""
    lum, alpha, note = _pixels(img)
    if alpha.max() < 0.02:
        raise ValueError(
            "The image is fully transparent: there is nothing to see. Draw the digit in an "
            "opaque colour, or flatten the image onto a background."
        )
    if (alpha < 0.5).mean() > 0.1:  # a transparent background: the opaque pixels are the strokes
        return alpha, note + "transparent background: the opaque pixels are taken as the ink"
    # paper is the colour of the border; ink is whatever differs from it
    border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
    paper, lo, hi = float(np.median(border)), float(lum.min()), float(lum.max())
    dark_ink = paper - lo >= hi - paper  # the paper is nearer the bright end: the ink is dark
    contrast = paper - lo if dark_ink else hi - paper
    if contrast < MIN_CONTRAST:
        raise ValueError(
            f"The image looks empty: its strongest stroke differs from the paper by only "
            f"{contrast:.0%} of full brightness. Upload a picture with a clearly visible digit "
            "(dark on light or light on dark)."
        )
    ink = (paper - lum) / contrast if dark_ink else (lum - paper) / contrast  # paper 0, stroke 1
    # shading and sensor noise of a photo stay below PAPER_FLOOR: they are paper, not ink
    ink = np.clip((ink - PAPER_FLOOR) / (1.0 - PAPER_FLOOR), 0.0, 1.0).astype(np.float64)
    if dark_ink:
        return ink, note + "dark ink on light paper: inverted so that ink is 1"
    return ink, note + "light ink on dark background: used as is"


def stroke_ink(
    points, side: int = CANVAS_SIDE, width: int = STROKE_WIDTH
) -> np.ndarray:  # fmt: skip
    """A stroke through ``points`` (x, y) drawn with a round pen of ``width`` pixels on a
    blank side x side canvas: ink (side, side) in [0, 1]. What the canvas shows for the
    same stroke, up to its anti-aliasing."""
    img = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(img)
    pts = [(float(x), float(y)) for x, y in points]
    draw.line(pts, fill=255, width=width, joint="curve")
    r = width / 2
    for x, y in (pts[0], pts[-1]):  # round caps
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img, dtype=np.float64) / 255.0


def from_canvas(rgba, size: int = 8) -> DigitInput:
    """A drawing canvas's pixels (h, w, 4) RGBA, uint8: a dark pen on a light or transparent
    background. Composited over white paper, the ink is 1 - brightness; then cropped,
    centred and resized like an uploaded image."""
    try:
        a = np.asarray(rgba, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("The drawing could not be read (not an array of pixels).") from None
    if (
        a.ndim != 3
        or a.shape[2] not in (3, 4)
        or not (2 <= a.shape[0] <= MAX_CANVAS and 2 <= a.shape[1] <= MAX_CANVAS)
    ):
        raise ValueError(
            f"The drawing must be an RGB(A) image between 2x2 and {MAX_CANVAS}x{MAX_CANVAS} pixels."
        )
    px = np.clip(a / 255.0, 0.0, 1.0)
    alpha = px[..., 3] if a.shape[2] == 4 else np.ones(a.shape[:2])
    lum = px[..., :3] @ np.array([0.299, 0.587, 0.114])  # (h, w)
    ink = 1.0 - (lum * alpha + (1.0 - alpha))  # over white paper: ink 1, paper 0
    return DigitInput(to_model_input(ink, size), ink, f"{a.shape[1]}×{a.shape[0]} drawing")


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
            "The image looks empty: no strokes found. Draw a digit with the mouse or "
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


def sample_seven(size: int = 8) -> DigitInput:
    """The canvas's starting drawing (``SAMPLE_SEVEN_STROKE``) as the model's input."""
    ink = stroke_ink(SAMPLE_SEVEN_STROKE)
    return DigitInput(to_model_input(ink, size), ink, "the sample seven: draw over it, or clear it")


def own_digit(upload: bytes | None, canvas, sample: bool, size: int = 8) -> DigitInput:
    """The learner's digit: the uploaded file if any, else the canvas's pixels (RGBA) once
    something was drawn, else the sample seven the canvas starts with (``sample``); else a
    ValueError that asks for a drawing."""
    if upload is not None:
        return from_upload(upload, size)
    if canvas is not None:
        return from_canvas(canvas, size)
    if sample:
        return sample_seven(size)
    raise ValueError("Draw a digit on the canvas with the mouse, or upload a picture of one.")
