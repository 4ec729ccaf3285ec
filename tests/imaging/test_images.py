"""mnist_core.imaging.images.load_image: every common format and mode into pixels `preprocess` takes,
from a path, bytes or a file object; one-line ImageError for everything unusable."""

import io

import numpy as np
import pytest
from PIL import Image

from core_helpers import drawing, png_claiming, rgba
from mnist_core.imaging.images import ImageError, image_files, load_image
from mnist_core.imaging.preprocess import preprocess


def encode(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def ink():
    """A 7 as (280, 280) uint8, 255 = ink."""
    return np.round(drawing(7) * 255).astype(np.uint8)


def test_path_bytes_and_file_object_give_the_same_pixels(ink, tmp_path):
    data = encode(Image.fromarray(ink))
    path = tmp_path / "seven.png"
    path.write_bytes(data)
    expected = load_image(data)
    assert expected.shape == (280, 280) and expected.dtype == np.uint8
    np.testing.assert_array_equal(expected, ink)
    for source in (path, str(path), bytearray(data), memoryview(data), io.BytesIO(data)):
        np.testing.assert_array_equal(load_image(source), expected)


@pytest.mark.parametrize("fmt, mode, shape", [
    ("PNG", "L", (280, 280)), ("PNG", "RGB", (280, 280, 3)), ("PNG", "RGBA", (280, 280, 4)),
    ("PNG", "1", (280, 280)), ("PNG", "LA", (280, 280, 4)), ("BMP", "RGB", (280, 280, 3)),
    ("TIFF", "L", (280, 280)), ("WEBP", "RGB", (280, 280, 3)), ("GIF", "L", (280, 280, 3)),
    ("JPEG", "L", (280, 280)), ("JPEG", "RGB", (280, 280, 3)), ("JPEG", "CMYK", (280, 280, 3)),
])
def test_formats_and_modes(ink, fmt, mode, shape):
    image = Image.fromarray(255 - ink).convert(mode)  # dark ink on white paper
    pixels = load_image(encode(image, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
    assert pixels.shape == shape and pixels.dtype == np.uint8
    difference = np.abs(preprocess(pixels).image - preprocess(255 - ink).image)
    if fmt == "JPEG":  # lossy; the photo path's faint threshold takes in some of JPEG's ringing (measured 0.043)
        assert difference.mean() < 0.05
    else:
        assert difference.max() < 1e-6


def test_transparent_canvas_png_reads_as_drawn(ink):
    canvas = rgba(ink / 255)
    pixels = load_image(encode(Image.fromarray(canvas)))
    np.testing.assert_array_equal(pixels, canvas)
    np.testing.assert_array_equal(preprocess(pixels).image, preprocess(canvas).image)


def test_palette_with_transparency_keeps_it(ink):
    image = Image.fromarray(np.where(ink > 127, 1, 0).astype(np.uint8), "P")
    image.putpalette([0, 0, 0, 20, 20, 200] + [0, 0, 0] * 254)
    image.info["transparency"] = 0  # index 0 (the background) is transparent
    pixels = load_image(encode(image, transparency=0))
    assert pixels.shape == (280, 280, 4)
    np.testing.assert_array_equal(pixels[..., 3] > 0, ink > 127)
    assert not preprocess(pixels).empty


def test_sixteen_bit_grey_is_scaled_to_eight(ink):
    wide = Image.fromarray(ink.astype(np.uint16) * 257)  # 0..65535
    assert wide.mode.startswith("I;16")
    pixels = load_image(encode(wide))
    np.testing.assert_array_equal(pixels, ink)


def test_float_tiff(ink):
    pixels = load_image(encode(Image.fromarray(ink.astype(np.float32) / 255), "TIFF"))
    np.testing.assert_array_equal(pixels, ink)


def test_animated_gif_gives_its_first_frame():
    first, second = np.zeros((60, 60), np.uint8), np.zeros((60, 60), np.uint8)
    first[10:50, 28:32] = 255  # a 1
    second[28:32, 10:50] = 255  # a bar across
    frames = [Image.fromarray(a).convert("P") for a in (first, second)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    pixels = load_image(data)
    grey = pixels if pixels.ndim == 2 else pixels[..., 0]
    np.testing.assert_array_equal(grey, first)


def test_exif_orientation_is_applied():
    stored = np.zeros((40, 60), np.uint8)
    stored[:10, :20] = 255  # a block at the top left, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned, show it rotated 90 degrees clockwise
    pixels = load_image(encode(Image.fromarray(stored), exif=exif))
    np.testing.assert_array_equal(pixels, np.rot90(stored, k=-1))
    assert pixels.shape == (60, 40)


@pytest.mark.parametrize("width, height", [(10_000, 5_000), (30_000, 30_000)])
def test_decompression_bombs_are_refused_before_decoding(width, height):
    with pytest.raises(ImageError, match="too many pixels"):
        load_image(png_claiming(width, height))


def test_pixel_and_byte_limits(ink):
    data = encode(Image.fromarray(ink))
    with pytest.raises(ImageError, match="too many pixels"):
        load_image(data, max_pixels=280 * 280 - 1)
    assert load_image(data, max_pixels=280 * 280).shape == (280, 280)
    with pytest.raises(ImageError, match="too large"):
        load_image(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"hello, this is text", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt"),
])
def test_unusable_bytes(data, reason):
    with pytest.raises(ImageError, match=reason) as error:
        load_image(data)
    assert "\n" not in str(error.value)


def test_truncated_files(ink):
    for fmt in ("PNG", "JPEG", "GIF"):
        data = encode(Image.fromarray(ink), fmt)
        with pytest.raises(ImageError, match="corrupt|truncated") as error:
            load_image(data[: len(data) * 2 // 3])
        assert "\n" not in str(error.value), fmt


def test_unreadable_paths(tmp_path):
    with pytest.raises(ImageError, match="cannot read"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)
    assert issubclass(ImageError, ValueError)


def test_image_files_lists_images_sorted_by_name(tmp_path):
    for name in ("b.PNG", "a.jpg", "c.tiff", "d.txt", "e.webp", "notes", "f.GIF", "g.jpeg", "h.bmp", "i.tif"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["a.jpg", "b.PNG", "c.tiff", "e.webp", "f.GIF", "g.jpeg",
                                                        "h.bmp", "i.tif"]
