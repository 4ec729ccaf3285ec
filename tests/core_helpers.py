"""Helpers for the tests of mnist_core and the app: canvas drawings (the hand-written stroke styles of
`mnist_core.datasets.drawn.HAND`, drawn with a round brush, as the app's canvas returns them), the
same as a person's pen strokes, a photo of two digits, and a decompression-bomb PNG."""

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_core.datasets.drawn import HAND
from mnist_core.imaging.images import load_image
from mnist_core.pen.lesson import Drawing, Stroke
from mnist_core.pen.strokes import canvas_rgba as rgba  # noqa: F401 (shared with the tests)
from mnist_core.pen.strokes import render_strokes

PHOTOS = Path(__file__).resolve().parent / "data" / "photos"


def drawing(digit, style=0, height=150, x0=60, y0=50, width=18, size=280, scale=1):
    """Ink (size*scale, size*scale) float32 in {0, 1}: a hand-written style of `digit` drawn with
    a round brush, its top-left corner at (x0, y0), everything scaled by `scale`."""
    strokes = [(np.asarray(s) * height + [x0, y0]) * scale for s in HAND[digit][style]]
    return render_strokes(strokes, (size * scale, size * scale), width * scale)


def png_claiming(width, height):
    """A tiny valid PNG whose header is then rewritten to claim width x height pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def plotly_array(value) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array {"dtype", "bdata" (base64), "shape"}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), np.dtype(value["dtype"]))
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value)


def hand_drawing(digit: int, style: int = 0, width: int = 20, spacing: float = 4.0, wobble: float = 0.35,
                 seed: int = 0) -> Drawing:
    """A HAND digit 200 px tall as a person draws it: a pointer position every `spacing` px, with
    a little random wobble."""
    rng = np.random.default_rng(seed)
    strokes = []
    for part in HAND[digit][style]:
        points = np.asarray(part) * 200 + 40
        dist = np.r_[0, np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))]
        t = np.linspace(0, dist[-1], int(dist[-1] / spacing) + 2)
        path = np.c_[np.interp(t, dist, points[:, 0]), np.interp(t, dist, points[:, 1])]
        strokes.append(Stroke(path + rng.normal(0, wobble, path.shape), width))
    return Drawing(tuple(strokes))


def two_digits_side_by_side() -> np.ndarray:
    """(300, 600, 3) uint8: the committed photos' 1 (left, evenly lit) and 8 (right, in a shadow)."""
    one = load_image(PHOTOS / "06_plain_even_1.jpg")[0:300, 50:350]
    eight = load_image(PHOTOS / "07_plain_shadow_8.jpg")[60:360, 216:516]
    return np.concatenate([one, eight], axis=1)
