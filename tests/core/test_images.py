"""dl_core.images: uploads and drawings become the model's input, or a clear ValueError."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dl_core import images


def png(a: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode=mode).save(buf, format=fmt)
    return buf.getvalue()


def one_stroke(dark_on_light: bool = True) -> np.ndarray:
    a = np.full((60, 40), 255 if dark_on_light else 0, np.uint8)
    a[8:52, 18:23] = 0 if dark_on_light else 255  # a vertical "1"
    return a


@pytest.mark.parametrize("dark", [True, False])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF"])
def test_good_images_become_an_8x8_digit(dark, fmt):
    out = images.from_upload(png(one_stroke(dark), fmt=fmt))
    assert out.x.shape == (8, 8) and out.x.dtype == np.float32
    assert out.x.max() == pytest.approx(1.0) and out.x.min() >= 0.0
    # a vertical stroke: ink in the middle columns, paper at the edges
    assert out.x[:, 3:5].mean() > 0.5 > out.x[:, [0, 7]].mean()
    assert ("inverted" in out.note) == dark


def test_mnist_size_and_rgb():
    rgb = np.stack([one_stroke()] * 3, axis=-1)
    out = images.from_upload(png(rgb), size=28)
    assert out.x.shape == (28, 28)
    assert out.x[:4].max() == 0  # MNIST keeps a margin around a 20x20 box


def test_transparent_background_uses_the_opaque_strokes():
    a = np.zeros((30, 30, 4), np.uint8)
    a[5:25, 13:17] = (255, 255, 255, 255)  # white strokes: invisible on white paper
    out = images.from_upload(png(a, "RGBA"))
    assert "transparent" in out.note and out.x[:, 3:5].mean() > 0.5


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"%PDF-1.4 this is not an image" * 10, "not an image"),
        (png(one_stroke())[:60], "damaged"),  # a truncated PNG
        (png(np.zeros((20, 20, 4), np.uint8), "RGBA"), "fully transparent"),
        (png(np.full((20, 20), 255, np.uint8)), "looks empty"),  # blank white page
        (png(np.full((20, 20), 0, np.uint8)), "looks empty"),  # blank black page
        (b"x" * (images.MAX_UPLOAD_BYTES + 1), "at most"),
    ],
)
def test_bad_uploads_give_clear_messages(data, message):
    with pytest.raises(ValueError, match=message):
        images.from_upload(data)


def test_huge_image_rejected_before_decoding():
    # a 6000 x 6000 PNG compresses to a few kB: the pixel count, not the size, must stop it
    big = png(np.zeros((6000, 6000), np.uint8))
    assert len(big) < images.MAX_UPLOAD_BYTES
    with pytest.raises(ValueError, match="megapixels"):
        images.from_upload(big)


def test_grid_drawing():
    out = images.from_grid(images.SAMPLE_SEVEN)
    assert out.x.shape == (8, 8) and out.x[0].mean() > 0.5  # the bar of the seven at the top
    assert np.allclose(images.from_grid(images.SAMPLE_SEVEN.astype(float)).x, out.x)


@pytest.mark.parametrize(
    "grid,message",
    [
        (np.zeros((16, 16)), "looks empty"),
        (np.zeros((3, 3, 3)), "2-D grid"),
        (np.zeros((100, 100)), "2-D grid"),
        ([[None, 1], [1, 1]], "non-numeric"),
        ([["a", "b"], ["c", "d"]], "numbers"),
    ],
)
def test_bad_drawings(grid, message):
    with pytest.raises(ValueError, match=message):
        images.from_grid(grid)
