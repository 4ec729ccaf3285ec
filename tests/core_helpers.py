"""Helpers for the tests of mnist_core: canvas drawings (the hand-written stroke styles of
`mnist_core.datasets.drawn.HAND`, drawn with a round brush, as the app's canvas returns them) and a
decompression-bomb PNG."""

import base64
import io
import struct
import zlib

import numpy as np
from PIL import Image

from mnist_core.datasets.drawn import HAND
from mnist_core.pen.strokes import canvas_rgba as rgba  # noqa: F401 (shared with the tests)
from mnist_core.pen.strokes import render_strokes


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
