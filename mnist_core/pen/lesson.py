"""A drawing as a short, checked text for a link: strokes on the 280x280 canvas <-> "1...".

A teacher's link carries the digit's strokes (not its pixels), so opening it redraws the digit
exactly and reads it again. The text is:

    "1" + base64url(body + crc32(body)), no padding;  body = raw deflate(payload)

with payload (all integers unsigned LEB128 varints unless said):

    number of strokes
    per stroke: brush width (px), number of points, first point (x, y), then each next
                point as the zig-zag-encoded difference (dx, dy) from the one before

Points are quantised to whole canvas pixels after dropping those within 0.75 px of the line
through their neighbours (Ramer-Douglas-Peucker), which keeps a digit's shape to within a pixel
while a hand-drawn path of 100+ mouse positions becomes 10-30 points. `decode` checks
everything (alphabet, length, the deflate stream, the checksum, every count and coordinate,
nothing left over) and raises ValueError with one line on anything malformed or tampered with.

The canvas side: `strokes_from_fabric` reads (through `canvas_paths`) the fabric.js JSON that streamlit-drawable-canvas
sends (`path` objects with "M", "Q", "L" commands), `fabric_objects` writes strokes back as
path objects for its `initial_drawing`, and `Drawing.render` draws them the way the canvas does
(`strokes.render_strokes`), so a link is read before the browser's canvas sends anything.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass

import numpy as np

from . import canvas_paths
from .strokes import render_strokes

VERSION = "1"
CANVAS = 280  # the app's canvas is CANVAS x CANVAS pixels; points lie in [0, CANVAS]
MAX_TEXT = 8000  # characters; a digit takes ~100-300
MAX_PAYLOAD = 32_000  # bytes after inflating
MAX_STROKES = 200
MAX_POINTS = 20_000  # in all strokes together
MAX_WIDTH = 100
TOLERANCE = 0.75  # px: points closer than this to the simplified line are dropped
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Stroke:
    """One brush stroke: points (K, 2) float64 (x, y) in canvas pixels, K >= 1 (1 = a dot);
    width: the brush's diameter in pixels."""

    points: np.ndarray
    width: int


@dataclass(frozen=True)
class Drawing:
    """The strokes of one drawing, in the order drawn."""

    strokes: tuple[Stroke, ...]

    def render(self, size: int = CANVAS) -> np.ndarray:
        """The ink as the canvas paints it: (size, size) float32 in [0, 1], 1 = ink (strokes of
        different widths are drawn separately and combined by maximum)."""
        ink = np.zeros((size, size), np.float32)
        for width in sorted({s.width for s in self.strokes}):
            same = [s.points for s in self.strokes if s.width == width]
            np.maximum(ink, render_strokes(same, (size, size), float(width)), out=ink)
        return ink


# --- simplification -------------------------------------------------------------------------------


def simplify(points: np.ndarray, tolerance: float = TOLERANCE) -> np.ndarray:
    """Ramer-Douglas-Peucker: the (K, 2) polyline's points that keep it within `tolerance` px.
    Returns (M, 2), M <= K, always with the first and last point."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if len(points) <= 2:
        return points
    keep = np.zeros(len(points), bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = points[first], points[last]
        inner = points[first + 1:last]
        ab = b - a
        length = np.hypot(*ab)
        if length == 0:
            distance = np.hypot(*(inner - a).T)
        else:
            distance = np.abs(ab[0] * (inner[:, 1] - a[1]) - ab[1] * (inner[:, 0] - a[0])) / length
        worst = int(distance.argmax())
        if distance[worst] > tolerance:
            middle = first + 1 + worst
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return points[keep]


def _quantise(points: np.ndarray) -> np.ndarray:
    """(K, 2) float -> (M, 2) int64 whole pixels in [0, CANVAS], repeated points dropped.
    Simplified again until nothing more drops (rounding can bring points within the tolerance),
    so that a decoded drawing encodes to the very same text."""
    q = np.asarray(points, np.float64).reshape(-1, 2)
    while True:
        before = len(q)
        q = np.clip(np.round(simplify(q)), 0, CANVAS).astype(np.int64)
        if len(q) > 1:
            q = q[np.concatenate([[True], np.any(np.diff(q, axis=0) != 0, axis=1)])]
        if len(q) == before:
            return q


# --- encoding -------------------------------------------------------------------------------------


def _varint(value: int, out: bytearray) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def encode(drawing: Drawing) -> str:
    """The drawing as a link-safe text ("1" + base64url). Strokes with no points are skipped;
    points are clipped to the canvas and quantised to whole pixels (see the module's docstring).
    Raises ValueError for a drawing with no strokes or over the limits `decode` enforces."""
    strokes = [(_quantise(s.points), int(s.width)) for s in drawing.strokes if len(np.asarray(s.points))]
    if not strokes:
        raise ValueError("nothing drawn: a lesson link needs at least one stroke")
    if len(strokes) > MAX_STROKES or sum(len(p) for p, _ in strokes) > MAX_POINTS:
        raise ValueError(f"too much drawn for a link (at most {MAX_STROKES} strokes and {MAX_POINTS} points)")
    payload = bytearray()
    _varint(len(strokes), payload)
    for points, width in strokes:
        _varint(min(max(width, 1), MAX_WIDTH), payload)
        _varint(len(points), payload)
        _varint(int(points[0, 0]), payload)
        _varint(int(points[0, 1]), payload)
        for dx, dy in np.diff(points, axis=0):
            _varint(_zigzag(int(dx)), payload)
            _varint(_zigzag(int(dy)), payload)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(bytes(payload)) + deflate.flush()
    check = zlib.crc32(body).to_bytes(4, "big")  # of the compressed bytes: every bit is checked
    return VERSION + base64.urlsafe_b64encode(body + check).rstrip(b"=").decode("ascii")


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def varint(self) -> int:
        value = shift = 0
        while True:
            if self.at >= len(self.data):
                raise ValueError("it ends in the middle of a number")
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise ValueError("a number in it is too long")

    def signed(self) -> int:
        value = self.varint()
        return value >> 1 if not value & 1 else -((value + 1) >> 1)


def decode(text: str) -> Drawing:
    """The drawing a text from `encode` holds. Raises ValueError with one line saying what is
    wrong when the text is malformed, truncated, tampered with, or from another version."""
    if not isinstance(text, str) or not text:
        raise ValueError("the drawing in the link is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the drawing in the link is too long ({len(text)} characters, at most {MAX_TEXT})")
    if text[0] != VERSION:
        raise ValueError(f"the drawing in the link is of an unknown version ({text[0]!r}, expected {VERSION!r})")
    if not _ALPHABET.fullmatch(text[1:]):
        raise ValueError("the drawing in the link has characters a lesson link never has")
    try:
        raw = base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))
    except ValueError:
        raise ValueError("the drawing in the link is not valid base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text[1:]:  # e.g. a changed last letter
        raise ValueError("the drawing in the link is not valid base64url (changed padding bits)")
    if len(raw) < 5:
        raise ValueError("the drawing in the link is too short")
    body, check = raw[:-4], raw[-4:]
    if zlib.crc32(body).to_bytes(4, "big") != check:
        raise ValueError("the drawing in the link is damaged (its checksum does not match)")
    inflate = zlib.decompressobj(-15)
    try:
        payload = inflate.decompress(body, MAX_PAYLOAD)
    except zlib.error:
        raise ValueError("the drawing in the link is damaged (its compressed data do not decode)") from None
    if inflate.unconsumed_tail:
        raise ValueError("the drawing in the link is too large")
    if not inflate.eof or inflate.unused_data:
        raise ValueError("the drawing in the link is damaged (its compressed data are cut or padded)")
    return _parse(payload)


def _parse(payload: bytes) -> Drawing:
    reader = _Reader(payload)
    count = reader.varint()
    if not 1 <= count <= MAX_STROKES:
        raise ValueError(f"the drawing in the link has {count} strokes (1 to {MAX_STROKES} allowed)")
    strokes, total = [], 0
    for _ in range(count):
        width, length = reader.varint(), reader.varint()
        if not 1 <= width <= MAX_WIDTH:
            raise ValueError(f"a stroke in the link has brush width {width} (1 to {MAX_WIDTH} allowed)")
        total += length
        if length < 1 or total > MAX_POINTS:
            raise ValueError(f"a stroke in the link has {length} points (1 or more, {MAX_POINTS} in all)")
        points = np.empty((length, 2), np.int64)
        points[0] = reader.varint(), reader.varint()
        for i in range(1, length):
            points[i] = points[i - 1, 0] + reader.signed(), points[i - 1, 1] + reader.signed()
        if points.min() < 0 or points.max() > CANVAS:
            raise ValueError(f"a stroke in the link leaves the {CANVAS}x{CANVAS} canvas")
        strokes.append(Stroke(points.astype(np.float64), width))
    if reader.at != len(payload):
        raise ValueError("the drawing in the link has data after its last stroke")
    return Drawing(tuple(strokes))


# --- the canvas's fabric.js JSON -----------------------------------------------------------------


def strokes_from_fabric(json_data: dict | None) -> Drawing:
    """The canvas's drawing (fabric.js JSON as `st_canvas(...).json_data` holds it) as strokes in
    canvas pixels, each with its brush width. `canvas_paths.strokes_from_fabric` reads and places
    the paths (moved, scaled or rotated ones where they are shown); an object it cannot read is
    left out of the link rather than breaking it."""
    strokes = []
    for obj in (json_data or {}).get("objects") or []:
        try:
            paths = canvas_paths.strokes_from_fabric([obj])
            width = canvas_paths.brush_width([obj], default=20)
        except (ValueError, TypeError, AttributeError):  # FabricPathError is a ValueError
            continue
        strokes += [Stroke(points, max(1, int(round(width)))) for points in paths]
    return Drawing(tuple(strokes))


def fabric_objects(drawing: Drawing, colour: str = "#FFFFFF") -> list[dict]:
    """The drawing as fabric.js path objects for the canvas's `initial_drawing` ({"objects": ...}):
    one polyline ("M" then "L" commands) per stroke, round caps and joins like the pencil's,
    each centred on its bounding box as fabric places paths (so `strokes_from_fabric` reads back
    the same points)."""
    objects = []
    for stroke in drawing.strokes:
        points = np.asarray(stroke.points, np.float64).reshape(-1, 2)
        if len(points) == 1:
            points = np.repeat(points, 2, axis=0)  # a dot: a zero-length line with round caps
        path = [["M", float(points[0, 0]), float(points[0, 1])]]
        path += [["L", float(x), float(y)] for x, y in points[1:]]
        low, high = canvas_paths.path_bounds(path)
        centre = (low + high) / 2  # fabric centres a path object on its bounding box
        objects.append({"type": "Path", "path": path, "left": float(centre[0]), "top": float(centre[1]),
                        "originX": "center", "originY": "center", "stroke": colour,
                        "strokeWidth": int(stroke.width), "fill": None, "strokeLineCap": "round",
                        "strokeLineJoin": "round"})
    return objects
