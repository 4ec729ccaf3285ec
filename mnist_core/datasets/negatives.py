"""Drawings that are not digits: letters, symbols, shapes, taps, scribbles, zigzags, crossings-out.

A network trained only on digits answers everything as a digit: forced to choose, its softmax
picks one, and a tap reads "0, 99 %". These are the negatives it learns to refuse (`train`
teaches it to spread its probability evenly over them: outlier exposure, Hendrycks et al. 2019)
and on which the refusal is measured. Every kind is drawn the way the app receives a drawing: as
pen strokes on the 280x280 canvas through `pendigits.render` (random size, brush, slant, shake,
place), then read by `preprocess`.

    images, kinds = negative_set(KINDS, per_kind=300, seed=0)   # (N, 28, 28) float32, (N,) str

Only shapes that no digit resembles: no circle (a 0), no vertical line (a 1), no S, Z, O, I, l,
B, G, T, q, g, b (5, 2, 0, 1, 1, 8, 6, 7, 9, 9, 6). The kinds held out whole when the refusal is
measured (`HELDOUT_KINDS`) are never trained on by the models that measure them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..imaging.preprocess import preprocess
from ..pen.strokes import redraw
from .pendigits import TABLET, render


def _line(*points) -> np.ndarray:
    return np.array(points, float)


def _arc(cx, cy, rx, ry, start, end, n=20) -> np.ndarray:
    """Points on an ellipse from `start` to `end` degrees (0 = right, 90 = down: screen axes)."""
    t = np.deg2rad(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _join(*parts) -> np.ndarray:
    return np.concatenate(parts)


# Letters as a person writes them, in a unit box (x right, y down), one list of strokes each:
# the letters the issue names as resembling no digit, capitals and small letters.
HAND_LETTERS = {
    "A": [_line((0.1, 1), (0.5, 0), (0.9, 1)), _line((0.28, 0.6), (0.72, 0.6))],
    "E": [_line((0.8, 0), (0.2, 0), (0.2, 1), (0.8, 1)), _line((0.2, 0.5), (0.65, 0.5))],
    "F": [_line((0.8, 0), (0.2, 0), (0.2, 1)), _line((0.2, 0.48), (0.65, 0.48))],
    "H": [_line((0.2, 0), (0.2, 1)), _line((0.8, 0), (0.8, 1)), _line((0.2, 0.5), (0.8, 0.5))],
    "K": [_line((0.2, 0), (0.2, 1)), _line((0.8, 0), (0.22, 0.55), (0.8, 1))],
    "M": [_line((0.1, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.9, 1))],
    "N": [_line((0.2, 1), (0.2, 0), (0.8, 1), (0.8, 0))],
    "P": [_join(_line((0.2, 1), (0.2, 0)), _arc(0.42, 0.25, 0.3, 0.25, -90, 90), _line((0.2, 0.5)))],
    "R": [_join(_line((0.2, 1), (0.2, 0)), _arc(0.42, 0.25, 0.3, 0.25, -90, 90), _line((0.2, 0.5), (0.8, 1)))],
    "W": [_line((0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0))],
    "X": [_line((0.15, 0), (0.85, 1)), _line((0.85, 0), (0.15, 1))],
    "Y": [_line((0.15, 0), (0.5, 0.5)), _line((0.85, 0), (0.5, 0.5), (0.5, 1))],
    "V": [_line((0.1, 0), (0.5, 1), (0.9, 0))],
    "e": [_join(_line((0.15, 0.55), (0.85, 0.55)), _arc(0.5, 0.6, 0.35, 0.38, 0, -300))],
    "f": [_join(_arc(0.62, 0.22, 0.22, 0.2, -10, -180), _line((0.4, 0.22), (0.4, 1))), _line((0.15, 0.45), (0.7, 0.45))],
    "h": [_line((0.25, 0), (0.25, 1)), _join(_arc(0.5, 0.62, 0.25, 0.22, 180, 360), _line((0.75, 0.62), (0.75, 1)))],
    "k": [_line((0.25, 0), (0.25, 1)), _line((0.72, 0.35), (0.27, 0.68), (0.75, 1))],
    "m": [_join(_line((0.08, 1), (0.08, 0.45)), _arc(0.29, 0.5, 0.21, 0.2, 180, 360), _line((0.5, 1)),
                _line((0.5, 0.5)), _arc(0.71, 0.5, 0.21, 0.2, 180, 360), _line((0.92, 1)))],
    "n": [_join(_line((0.2, 1), (0.2, 0.4)), _arc(0.5, 0.5, 0.3, 0.25, 180, 360), _line((0.8, 1)))],
    "r": [_join(_line((0.3, 1), (0.3, 0.3)), _arc(0.55, 0.5, 0.25, 0.22, 180, 320))],
    "w": [_line((0.05, 0.3), (0.28, 1), (0.5, 0.5), (0.72, 1), (0.95, 0.3))],
    "x": [_line((0.2, 0.3), (0.8, 1)), _line((0.8, 0.3), (0.2, 1))],
    "v": [_line((0.15, 0.3), (0.5, 1), (0.85, 0.3))],
}
# The same letters and a few symbols as font glyphs, redrawn along their centre line (training only).
FONT_CHARACTERS = "AEFHKMNPRWXYVaefhkmnrwxv#%@+=*<>"
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")


def _shape(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """One random drawing of `kind` (not a letter) as strokes in a unit box, y down."""
    if kind == "shapes":
        which = rng.integers(6)
        if which == 0:  # a triangle
            return [_line((0.5, 0), (1, 0.9), (0, 0.9), (0.5, 0))]
        if which == 1:  # a square or rectangle
            return [_line((0, 0), (1, 0), (1, 0.8), (0, 0.8), (0, 0))]
        if which == 2:  # a five-pointed star in one stroke
            t = np.deg2rad(-90 + 144 * np.arange(6))
            return [np.stack([0.5 + 0.5 * np.cos(t), 0.5 + 0.5 * np.sin(t)], axis=1)]
        if which == 3:  # a heart
            t = np.linspace(0, 2 * np.pi, 40)
            return [np.stack([0.5 + 0.5 * np.sin(t) ** 3,
                              0.45 - (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)) / 34],
                             axis=1)]
        if which == 4:  # an arrow
            return [_line((0, 0.5), (1, 0.5)), _line((0.7, 0.25), (1, 0.5), (0.7, 0.75))]
        return [_arc(0.5, 0.5, 0.5, 0.5, 0, 360, 40), _line((0.35, 0.35)), _line((0.65, 0.35)),  # a smiley
                _arc(0.5, 0.55, 0.25, 0.2, 20, 160)]
    if kind == "taps":  # one to five dots
        return [rng.uniform(0, 1, (1, 2)) for _ in range(rng.integers(1, 6))]
    if kind == "scribbles":  # a random smooth curve looping over its box, in one to three strokes
        strokes = []
        for _ in range(rng.integers(1, 4)):
            knots = rng.uniform(0, 1, (rng.integers(6, 16), 2))
            t = np.linspace(0, len(knots) - 1, 12 * len(knots))
            strokes.append(np.stack([np.interp(t, np.arange(len(knots)), knots[:, j]) for j in (0, 1)], axis=1))
        return strokes
    if kind == "zigzags":  # a saw of 4 to 9 teeth, across or down
        teeth = rng.integers(4, 10)
        x = np.linspace(0, 1, teeth + 1)
        y = np.where(np.arange(teeth + 1) % 2, 1.0, 0.0) * rng.uniform(0.3, 1.0)
        points = np.stack([x, y], axis=1)
        return [points if rng.random() < 0.7 else points[:, ::-1]]
    if kind == "crossings_out":  # back-and-forth hatching, sometimes crossed
        lines = rng.integers(5, 12)
        y = np.linspace(0, 1, lines)
        points = np.stack([np.where(np.arange(lines) % 2, 1.0, 0.0), y], axis=1)
        points[:, 0] += rng.uniform(-0.1, 0.1, lines)
        strokes = [points]
        if rng.random() < 0.5:
            strokes.append(points[:, ::-1].copy())
        return strokes
    if kind == "dashes":  # one to three horizontal strokes
        return [_line((0, y), (1, y + rng.uniform(-0.1, 0.1))) for y in np.linspace(0, 0.6, rng.integers(1, 4))]
    raise ValueError(f"unknown kind of negative {kind!r}")


def _letter(rng: np.random.Generator) -> list[np.ndarray]:
    letter = list(HAND_LETTERS)[rng.integers(len(HAND_LETTERS))]
    return [s.copy() for s in HAND_LETTERS[letter]]


STROKE_KINDS = ("hand_letters", "shapes", "taps", "scribbles", "zigzags", "crossings_out", "dashes")
KINDS = STROKE_KINDS + ("font_letters",)
# Held out whole from the models that measure the refusal: letters only ever seen as font glyphs,
# crossings-out never seen (only scribbles), zigzags never seen.
HELDOUT_KINDS = ("hand_letters", "crossings_out", "zigzags")
TRAIN_KINDS = tuple(k for k in KINDS if k not in HELDOUT_KINDS)


def stroke_trajectories(kind: str, count: int, seed: int = 0) -> list[list[np.ndarray]]:
    """`count` drawings of a stroke kind, each a list of (K, 2) float strokes in tablet units
    0..500 (y down), as `pendigits.render` takes them."""
    rng = np.random.default_rng(seed)
    drawings = []
    for _ in range(count):
        strokes = _letter(rng) if kind == "hand_letters" else _shape(kind, rng)
        drawings.append([np.asarray(s, np.float32) * TABLET * 0.8 + TABLET * 0.1 for s in strokes])
    return drawings


@lru_cache(maxsize=1)
def fonts() -> tuple[str, ...]:
    """The TrueType files found in FONT_DIRS (sorted), and Pillow's own embedded font ("")."""
    found = sorted(str(p) for folder in FONT_DIRS for p in Path(folder).glob("*.ttf") if "Math" not in p.name)
    return ("",) + tuple(found)


def _glyph(character: str, font: str, size: int = 120) -> np.ndarray:
    """One character drawn in `font` ("" for Pillow's own): (28, 28) float32, MNIST-fitted."""
    face = ImageFont.truetype(font, size) if font else ImageFont.load_default(size)
    canvas = Image.new("L", (2 * size, 2 * size), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 4), character, fill=255, font=face)
    return preprocess(np.asarray(canvas), background=0.0).image  # a canvas: white on black, known


def font_letters(count: int, seed: int = 0) -> np.ndarray:
    """`count` font glyphs of FONT_CHARACTERS, redrawn along their centre line with a round brush
    of 6-30 % of their height (as `strokes.redraw` does MNIST's digits): (count, 28, 28) float32."""
    rng = np.random.default_rng(seed)
    faces = fonts()
    glyphs = np.stack([_glyph(FONT_CHARACTERS[rng.integers(len(FONT_CHARACTERS))], faces[rng.integers(len(faces))])
                       for _ in range(count)])
    return redraw(glyphs, rng.uniform(0.06, 0.3, count))


def negative_set(kinds=KINDS, per_kind: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`per_kind` drawings of each kind, read as the app reads a canvas.

    Returns images (N, 28, 28) float32 in [0, 1] and kinds (N,) str. Drawings that `preprocess`
    already refuses (a dot under its minimum size: an all-zero image) are left out, so N can be
    a little under `per_kind * len(kinds)`. Deterministic for a seed: about 2 ms a drawing.
    """
    images, names = [], []
    for k, kind in enumerate(kinds):
        if kind == "font_letters":
            drawn = font_letters(per_kind, seed + k)
        else:
            drawn = render(stroke_trajectories(kind, per_kind, seed + k), seed=seed + 100 + k)
        drawn = drawn[drawn.reshape(len(drawn), -1).max(axis=1) > 0]
        images.append(drawn)
        names += [kind] * len(drawn)
    return np.concatenate(images), np.array(names)
