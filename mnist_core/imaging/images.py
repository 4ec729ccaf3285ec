"""Read an image file (or its bytes) into a pixel array that `preprocess` accepts.

    >>> load_image("digit.png").shape        # (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, uint8
    >>> load_image(uploaded_file.getvalue())  # raw bytes work the same way

Every way an image can be unusable (not an image, truncated, corrupt, too large, too many
pixels) raises `ImageError`, a ValueError whose message is one line saying why. Decoding is
refused before it starts when the header announces more than `max_pixels` pixels: Pillow's
decompression-bomb protection, turned into an error with a limit of our choosing.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 25 * 1024 * 1024  # a digit needs far less; this is what an upload may be at most
MAX_PIXELS = 40_000_000  # 40 megapixels, e.g. 8000 x 5000
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")


class ImageError(ValueError):
    """An image that cannot be used; the message is one line saying why."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _read(source, max_bytes: int) -> bytes:
    """The bytes of a path, bytes-like object or binary file object, at most `max_bytes`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        path = Path(os.fspath(source))
        try:
            if path.is_dir():
                raise ImageError("is a folder, not an image file")
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageError(f"file too large: {size:,} bytes, at most {max_bytes:,} allowed")
            data = path.read_bytes()
        except OSError as error:
            raise ImageError(f"cannot read: {_one_line(error.strerror or error)}") from None
    if len(data) > max_bytes:
        raise ImageError(f"file too large: more than {max_bytes:,} bytes")
    if not data:
        raise ImageError("empty file")
    return data


def _pixels(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image as (H, W), (H, W, 3) or (H, W, 4) uint8."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):  # 16-bit (or 32-bit) grey
        wide = np.asarray(image).astype(np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or wide.max() > 255 else 255.0
        return np.round(np.clip(wide, 0, top) * (255 / top)).astype(np.uint8)
    if image.mode == "F":  # float grey: [0, 1] if it fits, else 0..255
        wide = np.nan_to_num(np.asarray(image, np.float64))
        top = 1.0 if wide.max() <= 1.0 else 255.0
        return np.round(np.clip(wide, 0, top) * (255 / top)).astype(np.uint8)
    if image.mode in ("L", "RGB", "RGBA"):
        return np.asarray(image)
    if image.mode == "1":
        return np.asarray(image.convert("L"))
    has_alpha = "A" in image.mode or "transparency" in image.info  # P with transparency, LA, PA, RGBa
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def load_image(source, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an image file into pixels.

    source: a path (str or os.PathLike), the file's bytes, or a binary file object.
    Returns a new uint8 array: (H, W) for grey images, (H, W, 3) for colour, (H, W, 4) when
    there is transparency. The EXIF orientation is applied (a phone photo comes out upright);
    an animated GIF/WebP/TIFF gives its first frame; palette images are expanded (keeping
    transparency); 16-bit grey is scaled to 8 bits.
    Raises ImageError (one line) for anything unusable: unreadable, empty, larger than
    `max_bytes`, not an image, corrupt or truncated, more than `max_pixels` pixels.
    """
    data = _read(source, max_bytes)
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        raise ImageError("not an image (unknown format or a corrupt header)") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"too many pixels ({_one_line(error)})") from None
    except Exception as error:  # a malformed header can raise nearly anything
        raise ImageError(f"corrupt image header: {_one_line(error) or type(error).__name__}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageError(f"too many pixels: {width}x{height} = {width * height:,}, at most {max_pixels:,} "
                             "(possible decompression bomb)")
        if width < 1 or height < 1:
            raise ImageError(f"image has no pixels ({width}x{height})")
        try:
            image.seek(0)  # the first frame of an animation
            image.load()
        except Image.DecompressionBombError as error:
            raise ImageError(f"too many pixels ({_one_line(error)})") from None
        except Exception as error:  # truncated or corrupt data: OSError, SyntaxError, ValueError, ...
            raise ImageError(f"corrupt or truncated image: {_one_line(error) or type(error).__name__}") from None
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:  # unreadable EXIF: the pixels are still good, keep them as stored
            upright = image
        try:
            return np.array(_pixels(upright))  # a copy that owns its memory
        except Exception as error:  # a mode conversion Pillow cannot do
            raise ImageError(f"unsupported image ({upright.mode}): {_one_line(error)}") from None


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The image files directly in `folder` (by extension, any case), sorted by name."""
    return sorted((p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS),
                  key=lambda p: p.name)
