"""dl_core.images: uploads and drawings become the model's input, or a clear ValueError."""

from __future__ import annotations

import io
import struct
import zlib

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
        (b'<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>', "not an image"),
        (b"a digit, in words", "not an image"),
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


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def stroke_in(mode: str) -> bytes:
    """The vertical "1" stored in an unusual mode or depth."""
    a = one_stroke()  # uint8, paper 255, ink 0
    g = Image.fromarray(a)
    if mode == "I;16 PNG, mid-range":  # 12-bit-like values: Pillow's convert() clips them white
        return encode(Image.fromarray(a.astype(np.uint16) * 100 + 3000))
    if mode == "I TIFF":
        return encode(Image.fromarray(a.astype(np.int32) * 257), "TIFF")
    if mode == "F TIFF 0..1":
        return encode(Image.fromarray(a.astype(np.float32) / 255), "TIFF")
    if mode == "CMYK JPEG":
        return encode(g.convert("CMYK"), "JPEG")
    if mode == "animated GIF":
        return encode(g, "GIF", save_all=True, append_images=[Image.fromarray(255 - a)])
    if mode == "WEBP":
        return encode(g.convert("RGB"), "WEBP")
    return encode(g.convert(mode))  # 1, P, LA, RGBA (opaque)


@pytest.mark.parametrize(
    "mode",
    ["1", "P", "LA", "RGBA", "CMYK JPEG", "I;16 PNG, mid-range", "I TIFF", "F TIFF 0..1",
     "animated GIF", "WEBP"],
)  # fmt: skip
def test_unusual_modes_give_the_same_digit(mode):
    ref = images.from_upload(png(one_stroke())).x
    out = images.from_upload(stroke_in(mode))
    assert out.x.shape == (8, 8)
    assert np.abs(out.x - ref).max() < 0.15, mode  # JPEG/WebP blur the edges a little
    assert out.x[:, 3:5].mean() > 0.5 > out.x[:, [0, 7]].mean()


def test_palette_png_with_transparent_index():
    p = Image.fromarray(one_stroke()).convert("P")
    white = p.getpixel((0, 0))  # the palette index of the paper
    out = images.from_upload(encode(p, transparency=white))
    assert "transparent" in out.note and out.x[:, 3:5].mean() > 0.5


def noisy_paper(stroke: bool) -> bytes:
    """A photo-like grey page (paper 180 of 255) with sensor noise, with or without a stroke."""
    a = 180 + np.random.default_rng(0).normal(0, 8, (120, 80))
    if stroke:
        a[16:104, 36:46] = 60
    return png(np.clip(a, 0, 255).astype(np.uint8))


def test_photo_on_grey_paper():
    # the paper's grey and its noise are paper, not ink: the crop is the stroke only
    out = images.from_upload(noisy_paper(stroke=True))
    assert out.ink.shape == (120, 80)
    assert out.ink[:, :30].max() == 0 and out.ink[20:100, 38:44].min() > 0.9
    assert out.x[:, 3:5].mean() > 0.9 and out.x[:, [0, 7]].max() == 0
    with pytest.raises(ValueError, match=r"looks empty.*13%"):  # grey noise alone
        images.from_upload(noisy_paper(stroke=False))


def test_exif_orientation_is_applied():
    a = np.full((40, 60), 255, np.uint8)
    a[18:23, 8:52] = 0  # stored as a horizontal bar ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... that the camera says to show rotated by 90 degrees
    out = images.from_upload(encode(Image.fromarray(a), "JPEG", exif=exif.tobytes()))
    assert out.ink.shape == (60, 40)  # upright: a vertical stroke
    assert out.x[:, 3:5].mean() > 0.5 > out.x[:, [0, 7]].mean()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels (its pixel data is missing)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [6_000, 20_000, 100_000])  # up to Pillow's bomb limit and past it
def test_huge_dimensions_rejected_from_the_header(side):
    with pytest.raises(ValueError, match="megapixels"):
        images.from_upload(png_header(side, side))


def test_large_photo_is_shrunk_before_arithmetic():
    a = np.full((4000, 3000), 255, np.uint8)  # 12 megapixels, allowed
    a[500:3500, 1300:1700] = 0
    out = images.from_upload(encode(Image.fromarray(a), "JPEG"))
    assert max(out.ink.shape) <= images.WORK_SIDE
    assert out.x[:, 3:5].mean() > 0.5 > out.x[:, [0, 7]].mean()


def test_grid_drawing():
    grid = np.zeros((16, 16), dtype=bool)
    grid[2:4, 3:13] = True  # a bar at the top
    grid[4:14, 7:9] = True  # and a stem: a "T"
    out = images.from_grid(grid)
    assert out.x.shape == (8, 8) and out.x[0].mean() > 0.5 > out.x[-1].mean()
    assert np.allclose(images.from_grid(grid.astype(float)).x, out.x)


def canvas(ink: np.ndarray, transparent: bool = False) -> np.ndarray:
    """What the drawing canvas sends: RGBA, a black pen on white (or transparent) paper."""
    a = np.zeros((*ink.shape, 4), np.uint8)
    if transparent:
        a[..., 3] = np.round(ink * 255)  # black strokes, transparent elsewhere
    else:
        a[..., :3] = np.round(255 * (1 - ink[..., None]))
        a[..., 3] = 255
    return a


def test_the_sample_seven_and_the_canvas_agree():
    """The canvas starts with the sample seven; before any stroke the page reads it from
    ``sample_seven``, after one from the canvas's pixels: the same model input."""
    ink = images.stroke_ink(images.SAMPLE_SEVEN_STROKE)
    assert ink.shape == (images.CANVAS_SIDE,) * 2 and ink.max() == 1.0 and 0.05 < ink.mean() < 0.2
    seven = images.sample_seven()
    assert seven.x[0, 1:7].mean() > 0.9  # the bar along the top
    assert seven.x[-1, 3] > 0.5 and seven.x[-1, 6:].max() == 0  # the foot, lower left
    for transparent in (False, True):
        drawn = images.from_canvas(canvas(ink, transparent))
        np.testing.assert_allclose(drawn.x, seven.x, atol=0.02)
    assert images.sample_seven(28).x.shape == (28, 28)


def test_a_drawn_one_on_the_canvas():
    ink = images.stroke_ink([(112, 40), (112, 190)])
    out = images.from_canvas(canvas(ink))
    assert out.x[:, 3:5].mean() > 0.5 > out.x[:, [0, 1, 6, 7]].max()
    assert "224×224 drawing" in out.note


@pytest.mark.parametrize(
    "rgba,message",
    [
        (np.full((224, 224, 4), 255, np.uint8), "looks empty"),  # white paper, nothing drawn
        (np.zeros((224, 224, 4), np.uint8), "looks empty"),  # transparent, nothing drawn
        (np.zeros((224, 224)), "RGB"),
        (np.zeros((1, 224, 4)), "RGB"),
        (np.zeros((3000, 10, 4)), "RGB"),
        ([["a"]], "not an array of pixels"),
    ],
)
def test_bad_canvas_drawings(rgba, message):
    with pytest.raises(ValueError, match=message):
        images.from_canvas(rgba)


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


def test_own_digit_takes_the_upload_then_the_drawing_then_the_sample():
    one = png(one_stroke())
    drawn = canvas(images.stroke_ink([(60, 60), (160, 60)]))  # a bar
    assert np.array_equal(images.own_digit(one, drawn, True).x, images.from_upload(one).x)
    assert np.array_equal(images.own_digit(None, drawn, True).x, images.from_canvas(drawn).x)
    assert np.array_equal(images.own_digit(None, None, True).x, images.sample_seven().x)
    with pytest.raises(ValueError, match="Draw a digit on the canvas"):
        images.own_digit(None, None, False)
