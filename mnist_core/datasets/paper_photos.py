"""Photo-like images of pen digits written on paper, as a phone camera takes them: material for
testing and measuring the app's upload path (flatten the light, threshold, remove ruled or squared
lines, pick the digit among the pieces, decide the polarity).

    >>> rng = np.random.default_rng(0)
    >>> photo = photograph(digits.trajectories[0], rng, paper="ruled", light="shadow", label=3)
    >>> photo.image.shape, photo.image.dtype, photo.box     # (H, W, 3) uint8, (top, left, bottom, right)
    >>> photos = photo_set(load_uji(), 60, seed=0)         # every paper x light kind equally often

The committed sample (tests/data/photos: 12 digits, one number, `shadow_squared_5.jpg` and
index.json) is regenerated with one command:

    python3 -m mnist_core.datasets.paper_photos tests/data/photos

The digits are real pen trajectories (`pendigits`), written again with `canvas_strokes`' slant,
rotation and shake. Everything else is drawn at random per photo, so that a reader fitted to these
photos does not learn one generator's habits; the ranges are the constants below:

- Frame: 600-1200 px short side, 4:3 mostly (3:2, 16:9 too), at most 1600 long, portrait or
  landscape. The digit is 12-35 % of the short side tall, anywhere at least 8 % of it from the border.
- Pen: ballpoint, gel, felt or pencil; dark blue, black, sometimes red-brown, grey for pencil;
  strokes 1.5-6 % of the digit's height, slightly uneven in darkness, anti-aliased (drawn 3x larger).
- Paper: off-white with a tint, fibres and blotches at low amplitude; plain, ruled (lines 0.5-1.2
  digit heights apart, often under the digit's foot, light blue or grey, sometimes a red margin
  line) or squared (0.25-0.6 digit heights, sometimes darker). Lines cross the digit where they
  meet it, as on real paper. Print is at most 0.7 as dark and as wide as the pen's strokes (it is
  on real paper, and it keeps the ink what a reader should find darkest).
- Phone held by hand: the page (lines and digit together) turned by up to 4 degrees and seen in
  mild perspective (the scale changes by up to 8 % across the page each way).
- Light: "even" is a gentle gradient and a vignette (rim 5-25 % darker); "shadow" adds a
  soft-edged shadow of a phone or hand from an edge or a corner (35-70 % darker, over 20-60 % of the
  page, its edge 2-15 % of the short side wide), over the digit when it falls there.
- Camera: white balance (warm, cool, neutral), exposure, contrast and tone, a blur of 0-1.5 px,
  sensor noise (more in the dark), sometimes an unsharp-mask halo, then JPEG at quality 55-92.

Each of these parts draws from its own generator spawned from the one given, so a photo's digit,
pen, paper and camera are the same whichever light (or paper) is asked for: a photo with a shadow
and the same one without differ only by the shadow. A 1600x1200 photo takes about 0.5 s on one core.
`photo_set` gives each photo its writer in `Photo.writer`.
"""

from __future__ import annotations

import io
import json
import math
import sys
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

from ..pen.strokes import render_strokes
from .pendigits import Pendigits, canvas_strokes, load_uji

PAPERS = ("plain", "ruled", "squared")
LIGHTS = ("even", "shadow")

# Frame
SHORT_SIDE = (600, 1200)  # px
LONG_SIDE_MAX = 1600
ASPECTS = ((4 / 3, 3 / 2, 16 / 9), (0.7, 0.15, 0.15))  # long / short side, and how often
PORTRAIT = 0.5  # chance of a portrait photo
DIGIT_HEIGHT = (0.12, 0.35)  # of the short side
BORDER = 0.08  # the least gap from the ink to the border, of the short side
TILT = 4.0  # degrees either way: the phone is not held square to the page
KEYSTONE = 0.08  # perspective: the scale changes by up to this much across the page, each way

# Writing (the trajectories' own slant, rotation and shake come from `canvas_strokes`)
SMOOTH = 0.012  # the pen's path is smoothed over this fraction of the height (pendigits is sampled every 100 ms)
NUMBER_GAP = (0.05, 0.3)  # gap between a number's digits, of the digit height
NUMBER_SIZE = 0.08  # a number's digits differ in height by up to this fraction either way
NUMBER_BASELINE = 0.04  # and wander up and down by this fraction (1 sd)
SUPERSAMPLE = 3  # strokes are drawn this many times larger and averaged down: anti-aliasing

# Pens: how often, colour names with their odds, stroke width (of the digit height), opacity, unevenness
PENS = {
    "ballpoint": (0.4, {"blue": 0.55, "black": 0.35, "red-brown": 0.1}, (0.015, 0.03), (0.75, 0.95), (0.15, 0.35)),
    "gel": (0.25, {"black": 0.5, "blue": 0.4, "red-brown": 0.1}, (0.02, 0.04), (0.9, 1.0), (0.05, 0.15)),
    "felt": (0.15, {"black": 0.5, "blue": 0.35, "red-brown": 0.15}, (0.035, 0.06), (0.85, 1.0), (0.05, 0.2)),
    "pencil": (0.2, {"grey": 1.0}, (0.015, 0.035), (0.45, 0.7), (0.2, 0.4)),
}
INKS = {  # reflectance (RGB, 0..1) of a full layer of each ink; each photo's varies by INK_JITTER
    "blue": (0.12, 0.16, 0.45), "black": (0.09, 0.09, 0.11), "red-brown": (0.42, 0.14, 0.12),
    "grey": (0.36, 0.36, 0.38),
}
INK_JITTER = 0.04
PENCIL_GRAIN = (0.2, 0.5)  # pencil's graphite leaves gaps: this much of its darkness varies pixel to pixel
UNEVEN_SCALE = 0.15  # darkness along a stroke changes over this fraction of the digit height

# Paper
PAPER_LEVEL = (0.86, 0.97)  # reflectance of the paper
PAPER_TINT = 0.02  # each channel up to this much either way (cream, grey, recycled paper)
FIBRE = (0.003, 0.012)  # sd of the fine texture (2-px grain)
BLOTCH = (0.002, 0.008)  # sd of the slow unevenness
RULE_SPACING = (0.5, 1.2)  # ruled: lines this many digit heights apart (6-10 mm for a digit of 8-12 mm)
GRID_SPACING = (0.25, 0.6)  # squared: 4-6 mm squares
ON_THE_LINE = 0.6  # chance that the digit is written standing on a ruled line
LINE_WIDTH = (0.0008, 0.002)  # of the short side (1-2.4 px on a 1200 px photo), at least MIN_LINE_WIDTH
MIN_LINE_WIDTH = 0.8  # px
LINE_COLOURS = {"blue": (0.45, 0.63, 0.9), "grey": (0.58, 0.58, 0.6)}  # reflectance of a full layer
LINE_OPACITY = (0.45, 0.8)
DARK_GRID = 0.25  # chance that a grid is printed darker: opacity up to DARK_OPACITY
DARK_OPACITY = (0.75, 1.0)
MARGIN_LINE = 0.4  # chance of a red margin line on ruled paper
MARGIN_COLOUR = (0.88, 0.42, 0.5)
MARGIN_GAP = 0.25  # the margin line is at least this many digit heights from the digit
PRINT_VS_PEN = 0.7  # printed lines are at most this dark and this wide relative to the pen's strokes

# Light
GRADIENT = (0.0, 0.15)  # darker from one side of the page to the other by this much
VIGNETTE = (0.05, 0.25)  # the corners this much darker than the middle
SHADOW_DEPTH = (0.35, 0.7)
SHADOW_COVER = (0.2, 0.6)  # of the page
SHADOW_EDGE = (0.02, 0.15)  # width of the soft boundary, of the short side
SHADOW_CORNER = 0.4  # chance the shadow comes from a corner (a blob) rather than an edge (a curved front)
LIGHT_STEP = 4  # px: light is worked out on a grid this coarse and enlarged

# Camera
WHITE_BALANCE = {"neutral": ((0.98, 1.02), (0.98, 1.02)), "warm": ((1.01, 1.05), (0.9, 0.97)),
                 "cool": ((0.94, 0.99), (1.01, 1.05))}  # gains of red and blue (green is 1)
EXPOSURE = (0.88, 1.15)
CONTRAST = (0.85, 1.2)
GAMMA = (0.85, 1.15)
BLUR = (0.0, 1.5)  # Gaussian sigma, px
NOISE = (0.003, 0.012)  # sd of the sensor noise in full light (0..1 scale), after the phone's denoising
DARK_NOISE = 1.5  # in the dark the noise is up to (1 + this) times larger
CHROMA_NOISE = 0.4  # colour noise (on 2x2 px) relative to the luminance noise
UNSHARP = 0.3  # chance of the phone's sharpening
UNSHARP_RADIUS, UNSHARP_PERCENT = (1.0, 3.0), (40, 120)
JPEG_QUALITY = (55, 92)

# The committed sample
SAMPLE_SHORT_SIDE = (480, 600)  # px: 640x480 to 800x600 for 4:3
SAMPLE_QUALITY = 80


@dataclass(frozen=True)
class Photo:
    """One photographed page.

    image:  (H, W, 3) uint8 RGB, already through JPEG encode and decode (it is `jpeg` decoded).
    jpeg:   the JPEG file itself (bytes), what a user would upload.
    box:    (top, left, bottom, right) of the digit's ink in `image`, ends exclusive (rows, columns).
    label:  the digit 0..9, None for a number (`photograph_number`) or when not given.
    paper:  one of PAPERS; light: one of LIGHTS.
    writer: who wrote the digit (`Pendigits.writers`), set by `photo_set`; None otherwise.
    index:  which of `photo_set`'s digits it is (an index into `Pendigits.trajectories`), or None.
    """

    image: np.ndarray
    jpeg: bytes
    box: tuple[int, int, int, int]
    label: int | None
    paper: str
    light: str
    writer: int | None = None
    index: int | None = None


@dataclass(frozen=True)
class _Pen:
    colour: np.ndarray  # (3,) float reflectance
    width: float  # of the digit height
    opacity: float
    unevenness: float
    grain: float  # pencil only


# --- geometry ------------------------------------------------------------------------------------

def _frame(rng: np.random.Generator) -> tuple[int, int]:
    """(height, width) of a photo in px."""
    aspect = rng.choice(ASPECTS[0], p=ASPECTS[1])
    short = rng.uniform(SHORT_SIDE[0], min(SHORT_SIDE[1], LONG_SIDE_MAX / aspect))
    long = short * aspect
    return (round(long), round(short)) if rng.random() < PORTRAIT else (round(short), round(long))


def _homography(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(3, 3) float64 map from page px to image px: a tilt about the middle and a keystone, the
    page's scale changing by up to KEYSTONE across the photo each way."""
    height, width = size
    centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1]])
    angle = np.deg2rad(rng.uniform(-TILT, TILT))
    turn = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    keystone = np.eye(3)
    keystone[2, :2] = rng.uniform(-KEYSTONE, KEYSTONE, 2) / np.array([width, height])
    return centre @ turn @ keystone @ np.linalg.inv(centre)


def _apply(hom: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(K, 2) points (x, y) through a (3, 3) homography."""
    mapped = np.c_[points, np.ones(len(points))] @ hom.T
    return mapped[:, :2] / mapped[:, 2:]


def _page_coords(hom: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Where each image pixel lies on the page: (u, v), each (H, W) float32 page px."""
    inverse = np.linalg.inv(hom).astype(np.float32)
    y, x = np.ogrid[:size[0], :size[1]]
    x, y = x.astype(np.float32), y.astype(np.float32)
    w = inverse[2, 0] * x + inverse[2, 1] * y + inverse[2, 2]
    return ((inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]) / w,
            (inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]) / w)


# --- the writing ---------------------------------------------------------------------------------

def _smooth(stroke: np.ndarray, sigma: float) -> np.ndarray:
    """A densely sampled (K, 2) polyline smoothed along its length by a Gaussian of `sigma` units,
    as a pen's path is smooth between the tablet's samples."""
    if len(stroke) < 3:
        return stroke
    step = np.linalg.norm(np.diff(stroke, axis=0), axis=1).mean()
    return ndimage.gaussian_filter1d(stroke, sigma / max(step, 1e-6), axis=0, mode="nearest")


def _handwritten(strokes: list, rng: np.random.Generator) -> list:
    """One digit's strokes (list of (K, 2) float, any units, y down) written again: `canvas_strokes`'
    slant, rotation and shake, densely resampled and smoothed. Returns a list of (K', 2) float64,
    the centre line 1 unit tall, centred on (0, 0)."""
    drawn, _ = canvas_strokes(strokes, rng, heights=(100.0, 100.0), widths=(1.0, 1.0), spacing=(0.5, 1.5))
    drawn = [_smooth(s, SMOOTH * 100) for s in drawn]
    points = np.concatenate(drawn)
    lo, hi = points.min(axis=0), points.max(axis=0)
    return [(s - (lo + hi) / 2) / max(hi[1] - lo[1], 1.0) for s in drawn]


def _written_number(digits: list, rng: np.random.Generator) -> list:
    """Several digits' strokes written side by side, left to right, with gaps and a wandering
    baseline: a list of (K, 2) float64 strokes in digit heights, centred on (0, 0)."""
    gap, right, number = rng.uniform(*NUMBER_GAP), 0.0, []
    for strokes in digits:
        size = 1 + rng.uniform(-NUMBER_SIZE, NUMBER_SIZE)
        digit = [s * size for s in _handwritten(strokes, rng)]
        left = np.concatenate(digit)[:, 0].min()
        shift = np.array([right - left, rng.normal(0, NUMBER_BASELINE)])
        digit = [s + shift for s in digit]
        number += digit
        right = np.concatenate(digit)[:, 0].max() + gap
    points = np.concatenate(number)
    return [s - (points.min(axis=0) + points.max(axis=0)) / 2 for s in number]


def _pen(rng: np.random.Generator) -> _Pen:
    """A pen drawn from PENS, its ink's colour from INKS jittered by INK_JITTER."""
    names = list(PENS)
    odds, colours, widths, opacities, unevenness = PENS[names[rng.choice(len(names), p=[PENS[n][0] for n in names])]]
    colour = rng.choice(list(colours), p=list(colours.values()))
    rgb = np.clip(np.array(INKS[colour]) + rng.uniform(-INK_JITTER, INK_JITTER, 3), 0.02, 1)
    grain = rng.uniform(*PENCIL_GRAIN) if colour == "grey" else 0.0
    return _Pen(rgb.astype(np.float32), rng.uniform(*widths), rng.uniform(*opacities), rng.uniform(*unevenness), grain)


def _place(shape: list, height: float, hom: np.ndarray, size: tuple[int, int], brush: float,
           rng: np.random.Generator) -> tuple[list, list]:
    """Put a written shape (strokes in digit heights, centred) on the page `height` px tall, at a
    random place whose ink in the image is at least BORDER of the short side from the border.
    Returns (strokes in page px, the same strokes in image px), each a list of (K, 2) float64."""
    rows, cols = size
    margin = BORDER * min(size) + brush / 2 + 1
    strokes = [s * height for s in shape]
    where = _apply(np.linalg.inv(hom), np.array([[cols / 2, rows / 2]]))[0]
    lo, hi = _extent([_apply(hom, s + where) for s in strokes])
    room_lo, room_hi = np.array([margin, margin]) + (hi - lo) / 2, np.array([cols, rows]) - margin - (hi - lo) / 2
    target = rng.uniform(room_lo, np.maximum(room_hi, room_lo))  # not always in the middle
    for _ in range(6):  # the page is nearly the image: move by what is wrong in the image until it fits
        lo, hi = _extent([_apply(hom, s + where) for s in strokes])
        where = where + target - (lo + hi) / 2
    page = [s + where for s in strokes]
    return page, [_apply(hom, s) for s in page]


def _extent(strokes: list) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(strokes)
    return points.min(axis=0), points.max(axis=0)


def _smooth_noise(shape: tuple[int, int], scale: float, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 random field of sd about 1 that changes over about `scale` px: normal noise
    on a coarse grid, enlarged by Pillow's bicubic resampling."""
    grid = rng.standard_normal((max(2, math.ceil(shape[0] / scale) + 1), max(2, math.ceil(shape[1] / scale) + 1)))
    return np.asarray(Image.fromarray(grid.astype(np.float32)).resize(shape[::-1], Image.BICUBIC))


def _ink(strokes: list, size: tuple[int, int], brush: float, height: float, pen: _Pen,
         rng: np.random.Generator) -> np.ndarray:
    """How much ink covers each pixel: (H, W) float32 in [0, 1]. The strokes (image px) are drawn
    with a round brush `brush` px wide SUPERSAMPLE times larger around the digit and averaged down
    (anti-aliasing), then made uneven along their length (and grainy for pencil)."""
    lo, hi = _extent(strokes)
    top, left = np.maximum(np.floor(lo[::-1] - brush - 2), 0).astype(int)
    bottom, right = np.minimum(np.ceil(hi[::-1] + brush + 2), size).astype(int)
    s = SUPERSAMPLE
    big = render_strokes([(st - (left, top)) * s for st in strokes], ((bottom - top) * s, (right - left) * s),
                         brush * s)
    cover = big.reshape(bottom - top, s, right - left, s).mean(axis=(1, 3))
    darkness = 1 - pen.unevenness * np.clip(0.5 + 0.35 * _smooth_noise(cover.shape, UNEVEN_SCALE * height, rng), 0, 1)
    if pen.grain:
        darkness *= 1 - pen.grain * rng.random(cover.shape, np.float32)
    ink = np.zeros(size, np.float32)
    ink[top:bottom, left:right] = cover * darkness * pen.opacity
    return ink


def _box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), ends exclusive, of the pixels at least a quarter covered."""
    rows, cols = np.flatnonzero((ink >= 0.25).any(axis=1)), np.flatnonzero((ink >= 0.25).any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


# --- the paper -----------------------------------------------------------------------------------

def _paper(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Blank paper's reflectance: (H, W, 3) float32 in [0, 1], off-white, tinted, with fibres
    (a 2-px grain) and slow blotches."""
    colour = rng.uniform(*PAPER_LEVEL) * (1 + rng.uniform(-PAPER_TINT, PAPER_TINT, 3))
    texture = (1 + rng.uniform(*FIBRE) * _smooth_noise(size, 2.0, rng)
               + rng.uniform(*BLOTCH) * _smooth_noise(size, min(size) / rng.uniform(2, 6), rng))
    return np.clip(texture[..., None] * colour.astype(np.float32), 0, 1)


def _rules(coord: np.ndarray, spacing: float, phase: float, width: float) -> np.ndarray:
    """Cover (H, W) float32 in [0, 1] of lines `width` px wide at coord = phase + k * spacing, for
    all k: a periodic distance, anti-aliased over one pixel (the page's px are nearly the image's)."""
    distance = np.abs(((coord - phase) / spacing + 0.5) % 1.0 - 0.5) * spacing
    return np.clip(width / 2 + 0.5 - distance, 0, 1)


def _lines(paper: str, u: np.ndarray, v: np.ndarray, digit: tuple, height: float, short: int,
           pen: tuple[float, float], rng: np.random.Generator) -> list:
    """The printed lines of `paper` as [(cover (H, W) float32, colour (3,) float32)] layers.

    u, v:  (H, W) page coordinates of each pixel; digit: ((left, top), (right, bottom)) of the
    writing on the page, px; pen: (its strokes' width px, their darkness 0..1). Ruled lines are
    RULE_SPACING digit heights apart and the digit often stands on one; squared paper has both
    directions GRID_SPACING apart. Print is finer and lighter than a pen (PRINT_VS_PEN).
    """
    if paper == "plain":
        return []
    colour = np.array(LINE_COLOURS[rng.choice(list(LINE_COLOURS))], np.float32)
    width = max(MIN_LINE_WIDTH, min(rng.uniform(*LINE_WIDTH) * short, PRINT_VS_PEN * pen[0]))
    most = PRINT_VS_PEN * pen[1] / (1 - colour.mean())  # the darkest the print may be
    if paper == "ruled":
        spacing = rng.uniform(*RULE_SPACING) * height
        foot = digit[1][1] + rng.normal(0, 0.08) * height
        phase = foot if rng.random() < ON_THE_LINE else rng.uniform(0, spacing)
        layers = [(min(rng.uniform(*LINE_OPACITY), most) * _rules(v, spacing, phase, width), colour)]
        if rng.random() < MARGIN_LINE:
            layers += _margin(u, digit, height, width, pen[1], rng)
        return layers
    spacing = rng.uniform(*GRID_SPACING) * height
    opacity = min(rng.uniform(*(DARK_OPACITY if rng.random() < DARK_GRID else LINE_OPACITY)), most)
    cover = np.maximum(_rules(u, spacing, rng.uniform(0, spacing), width),
                       _rules(v, spacing, rng.uniform(0, spacing), width))
    return [(opacity * cover, colour)]


def _margin(u: np.ndarray, digit: tuple, height: float, width: float, pen_darkness: float,
            rng: np.random.Generator) -> list:
    """A red vertical margin line left or right of the digit, [] where there is no room for one."""
    left, right = float(u.min()), float(u.max())
    sides = [(left + 0.04 * (right - left), digit[0][0] - MARGIN_GAP * height),
             (digit[1][0] + MARGIN_GAP * height, right - 0.04 * (right - left))]
    sides = [(a, b) for a, b in sides if b > a]
    if not sides:
        return []
    a, b = sides[rng.integers(len(sides))]
    colour = np.array(MARGIN_COLOUR, np.float32)
    opacity = min(rng.uniform(0.5, 0.85), PRINT_VS_PEN * pen_darkness / (1 - colour.mean()))
    return [(opacity * _rules(u, 1e6, rng.uniform(a, b), width), colour)]


def _cover(sheet: np.ndarray, cover: np.ndarray, colour: np.ndarray) -> None:
    """Lay a layer of `colour` (3,) reflectance over `sheet` (H, W, 3) float32 in place, `cover`
    (H, W) of it on each pixel: the light goes through the ink or print and back, so it multiplies."""
    factor = cover[..., None] * (colour - 1)
    factor += 1
    sheet *= factor


# --- the light -----------------------------------------------------------------------------------

def _light(size: tuple[int, int], kind: str, rng: np.random.Generator, depth: float | None = None) -> np.ndarray:
    """How much light falls on each pixel: (H, W) float32, 1 = full. A gradient and a vignette,
    and for "shadow" a soft shadow from an edge or a corner (`depth` overrides SHADOW_DEPTH).
    Light changes slowly, so it is worked out every LIGHT_STEP px and enlarged."""
    rows, cols = size
    y, x = np.ogrid[:rows:LIGHT_STEP, :cols:LIGHT_STEP]
    x, y = (x - cols / 2).astype(np.float32), (y - rows / 2).astype(np.float32)
    half_diagonal = math.hypot(rows, cols) / 2
    angle = rng.uniform(0, 2 * np.pi)
    along = (x * np.cos(angle) + y * np.sin(angle)) / half_diagonal  # -1..1 across the page
    light = 1 - rng.uniform(*GRADIENT) * (along + 1) / 2
    cx, cy = rng.uniform(-0.1, 0.1, 2) * (cols, rows)
    radius = ((x - cx) ** 2 + (y - cy) ** 2) / (half_diagonal + math.hypot(cx, cy)) ** 2
    light = light * (1 - rng.uniform(*VIGNETTE) * radius)
    if kind == "shadow":
        depth = rng.uniform(*SHADOW_DEPTH) if depth is None else depth
        light = light * (1 - depth * _shadow(x, y, min(size), rng))
    return _enlarge(light.astype(np.float32), size)


def _enlarge(field: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A coarse (h, w) float32 field resized to `size` (H, W) by Pillow's bicubic resampling."""
    return np.asarray(Image.fromarray(field).resize(size[::-1], Image.BICUBIC))


def _shadow(x: np.ndarray, y: np.ndarray, short: int, rng: np.random.Generator) -> np.ndarray:
    """Where a phone's or hand's shadow falls: (h, w) float32, 1 inside, 0 outside, a smoothstep
    over the soft edge. x (1, w) and y (h, 1) are px from the middle of the photo.

    The shadow is where a field is highest: from an edge, the height along a random direction with
    a bend; from a corner, the nearness to a point off that corner. The field is in px, so its
    threshold, set at the quantile that covers SHADOW_COVER of the page, and the edge's width are too.
    """
    if rng.random() < SHADOW_CORNER:
        half = np.array([x.max() - x.min(), y.max() - y.min()]) / 2
        corner = half * rng.choice([-1, 1], 2) * rng.uniform(0.9, 1.3, 2)
        stretch = rng.uniform(0.6, 1.6)
        field = -np.sqrt((x - corner[0]) ** 2 * stretch + (y - corner[1]) ** 2 / stretch)
    else:
        angle = rng.uniform(0, 2 * np.pi)
        across = -x * np.sin(angle) + y * np.cos(angle)
        field = x * np.cos(angle) + y * np.sin(angle) + rng.uniform(-0.6, 0.6) / short * across ** 2
    wobble = _smooth_noise((y.shape[0], x.shape[1]), short / 4 / LIGHT_STEP, rng)  # not a ruler's edge
    field = field + 0.02 * short * wobble
    threshold = np.quantile(field, 1 - rng.uniform(*SHADOW_COVER))
    t = np.clip((field - threshold) / (rng.uniform(*SHADOW_EDGE) * short) + 0.5, 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


# --- the camera ----------------------------------------------------------------------------------

def _camera(page: np.ndarray, light: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, bytes]:
    """Photograph a page's reflectance (H, W, 3) float32 under `light` (H, W) float32: white
    balance and exposure, lens blur, sensor noise (grainy in luminance, blotchier in colour, as
    phones denoise colour more), the tone curve, sometimes sharpening, JPEG.
    Returns (the decoded JPEG (H, W, 3) uint8, the JPEG file's bytes)."""
    red, blue = WHITE_BALANCE[rng.choice(list(WHITE_BALANCE))]
    gains = np.array([rng.uniform(*red), 1.0, rng.uniform(*blue)], np.float32) * rng.uniform(*EXPOSURE)
    signal = page  # worked on in place: these are the largest arrays
    signal *= light[..., None]
    signal *= gains
    sigma = rng.uniform(*BLUR)
    if sigma > 0.1:
        signal = ndimage.gaussian_filter(signal, (sigma, sigma, 0), truncate=3.0)
    rows, cols = light.shape
    sd = rng.uniform(*NOISE) * (1 + DARK_NOISE * (1 - np.clip(light, 0, 1)))
    colour = rng.standard_normal(((rows + 1) // 2, 1, (cols + 1) // 2, 1, 3), np.float32)
    colour = np.broadcast_to(colour, (colour.shape[0], 2, colour.shape[2], 2, 3)).reshape(
        colour.shape[0] * 2, colour.shape[2] * 2, 3)[:rows, :cols]  # each value on 2x2 px
    noise = CHROMA_NOISE * colour + rng.standard_normal((rows, cols, 1), np.float32)
    noise *= sd[..., None]
    signal += noise
    signal *= 255
    signal += 0.5
    picture = Image.fromarray(np.clip(signal, 0, 255, out=signal).astype(np.uint8))
    contrast, gamma = rng.uniform(*CONTRAST), rng.uniform(*GAMMA)
    curve = np.clip(0.5 + (np.arange(256) / 255 - 0.5) * contrast, 0, 1) ** gamma
    picture = picture.point(list(np.round(curve * 255).astype(int)) * 3)
    if rng.random() < UNSHARP:
        picture = picture.filter(ImageFilter.UnsharpMask(rng.uniform(*UNSHARP_RADIUS),
                                                         int(rng.integers(*UNSHARP_PERCENT)), 2))
    return _jpeg(picture, int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)))


def _jpeg(picture: Image.Image, quality: int) -> tuple[np.ndarray, bytes]:
    """Encode with Pillow at `quality`; (decoded (H, W, 3) uint8, the bytes)."""
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    data = buffer.getvalue()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), data


# --- photos --------------------------------------------------------------------------------------

def photograph(strokes: list, rng: np.random.Generator, paper: str = "plain", light: str = "even",
               label: int | None = None) -> Photo:
    """A phone photo of one digit written on paper.

    strokes: one digit, a list of (K, 2) float arrays of (x, y), any units, y down
             (an item of `Pendigits.trajectories`).
    rng:     the only source of randomness: the same generator state gives the same photo.
    paper:   one of PAPERS; light: one of LIGHTS; label: stored in the Photo as it is.
    Returns a `Photo` (image (H, W, 3) uint8, 600-1200 px short side; box of the ink).
    """
    return _photograph([strokes], rng, paper, light, label)


def photograph_number(digits: list, rng: np.random.Generator, paper: str = "plain", light: str = "even") -> Photo:
    """A phone photo of several digits written side by side, left to right (a number like "2026").

    digits: list of digits, each a list of (K, 2) float strokes, any units, y down.
    Returns a `Photo` with label None and the box of the whole number's ink. Each digit is as
    tall as in `photograph`, or smaller where the number would not fit in the photo.
    """
    return _photograph(list(digits), rng, paper, light, None)


def _photograph(digits: list, rng: np.random.Generator, paper: str, light: str, label: int | None,
                shadow_depth: float | None = None) -> Photo:
    """`photograph` of one digit or, with several, of a number; `shadow_depth` fixes the shadow's."""
    if paper not in PAPERS or light not in LIGHTS:
        raise ValueError(f"paper must be one of {PAPERS} and light one of {LIGHTS}, not {paper!r}, {light!r}")
    if not digits:
        raise ValueError("nothing to photograph: no digits")
    # One generator per part, so that the light (or paper) asked for does not change the rest
    frame_rng, writing_rng, pen_rng, paper_rng, lines_rng, light_rng, camera_rng = rng.spawn(7)
    size = _frame(frame_rng)
    hom = _homography(size, frame_rng)
    shape = _handwritten(digits[0], writing_rng) if len(digits) == 1 else _written_number(digits, writing_rng)
    pen = _pen(pen_rng)
    lo, hi = _extent(shape)
    room = (np.array(size[::-1]) - 2 * BORDER * min(size) - 4) / (1 + KEYSTONE)  # (width, height) px, with slack
    # A long number is written smaller, to fit
    height = min(frame_rng.uniform(*DIGIT_HEIGHT) * min(size), *(room / (hi - lo + pen.width)))
    brush = max(pen.width * height, 1.0)
    on_page, in_image = _place(shape, height, hom, size, brush, frame_rng)
    ink = _ink(in_image, size, brush, height, pen, pen_rng)
    u, v = _page_coords(hom, size)
    sheet = _paper(size, paper_rng)
    darkness = pen.opacity * (1 - float(pen.colour.mean()))
    for cover, colour in _lines(paper, u, v, _extent(on_page), height, min(size), (brush, darkness), lines_rng):
        _cover(sheet, cover, colour)  # printed lines, then the ink over them
    top, left, bottom, right = box = _box(ink)
    pad = math.ceil(brush) + 2
    around = np.s_[max(top - pad, 0):bottom + pad, max(left - pad, 0):right + pad]
    _cover(sheet[around], ink[around], pen.colour)
    image, data = _camera(sheet, _light(size, light, light_rng, shadow_depth), camera_rng)
    return Photo(image, data, box, label, paper, light)


def photo_set(digits: Pendigits, count: int, seed: int = 0, papers=PAPERS, lights=LIGHTS) -> list[Photo]:
    """`count` photos of digits drawn at random from `digits`, each digit once before any twice.

    Photo i has kind i modulo the kinds of `product(papers, lights)` (so each is as frequent as the
    others, within one), its label and its writer (`Photo.writer`) from `digits`, and its own
    generator seeded (seed, i). Deterministic for a seed.
    """
    chooser = np.random.default_rng(seed)
    rounds = max(1, math.ceil(count / max(len(digits), 1)))
    order = np.concatenate([chooser.permutation(len(digits)) for _ in range(rounds)])[:count]
    kinds = list(product(papers, lights))
    photos = []
    for i, index in enumerate(order):
        paper, light = kinds[i % len(kinds)]
        photo = photograph(digits.trajectories[index], np.random.default_rng([seed, i]), paper, light,
                           int(digits.labels[index]))
        photos.append(replace(photo, writer=int(digits.writers[index]), index=int(index)))
    return photos


def shrink(photo: Photo, short_side: int, quality: int = SAMPLE_QUALITY) -> Photo:
    """The photo resized (Lanczos) to `short_side` px on its short side and encoded again at
    `quality`, as a messaging app would send it; the box is scaled to still hold the ink."""
    rows, cols = photo.image.shape[:2]
    scale = short_side / min(rows, cols)
    size = (round(cols * scale), round(rows * scale))
    image, data = _jpeg(Image.fromarray(photo.image).resize(size, Image.LANCZOS), quality)
    top, left, bottom, right = photo.box
    box = (math.floor(top * scale), math.floor(left * scale),
           min(math.ceil(bottom * scale), size[1]), min(math.ceil(right * scale), size[0]))
    return replace(photo, image=image, jpeg=data, box=box)


SAMPLE_SEED = 0
E2E_SHADOW = 0.65  # shadow_squared_5.jpg: a strong shadow,
E2E_HEIGHT = 0.22  # a digit at least this tall (of the short side),
E2E_NEAR = 1.0  # the shadow's edge within this many digit heights of it, but not over it


def write_sample(folder, seed: int = SAMPLE_SEED) -> dict:
    """Write the committed sample into `folder`: 12 photos of UJI digits (each paper x light twice),
    one of a 4-digit number by one writer (squared, shadow), `shadow_squared_5.jpg` (a 5 on squared
    paper in a strong shadow), all shrunk to SAMPLE_SHORT_SIDE at SAMPLE_QUALITY, and index.json:
    {file: {label or number, paper, light, writer, box [top, left, bottom, right], size [H, W]}}.
    Returns that index."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uji = load_uji()
    rng = np.random.default_rng([seed, 1_000_000])
    named = [(f"{i:02d}_{p.paper}_{p.light}_{p.label}.jpg", p, {"label": p.label})
             for i, p in enumerate(photo_set(uji, 12, seed))]
    writer = int(rng.choice(np.unique(uji.writers)))
    number = str(rng.integers(1, 10)) + "".join(str(d) for d in rng.integers(0, 10, 3))
    mine = np.flatnonzero(uji.writers == writer)
    strokes = [uji.trajectories[rng.choice(mine[uji.labels[mine] == int(d)])] for d in number]
    photo = replace(photograph_number(strokes, rng, "squared", "shadow"), writer=writer)
    named.append((f"number_{number}.jpg", photo, {"number": number}))
    five = int(rng.choice(np.flatnonzero(uji.labels == 5)))
    photo = replace(_shadow_beside(uji.trajectories[five], seed), writer=int(uji.writers[five]))
    named.append(("shadow_squared_5.jpg", photo, {"label": 5}))
    index = {}
    for name, photo, what in named:
        small = shrink(photo, int(rng.integers(SAMPLE_SHORT_SIDE[0], SAMPLE_SHORT_SIDE[1] + 1)))
        (folder / name).write_bytes(small.jpeg)
        index[name] = {**what, "paper": small.paper, "light": small.light, "writer": small.writer,
                       "box": list(small.box), "size": list(small.image.shape[:2])}
    lines = [f"  {json.dumps(name)}: {json.dumps(entry)}" for name, entry in index.items()]
    (folder / "index.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")  # an entry a line
    return index


def _shadow_beside(strokes: list, seed: int) -> Photo:
    """A photo of one digit on squared paper, E2E_HEIGHT tall or more, with an E2E_SHADOW deep
    shadow whose edge is near the digit but not over it (the first of generators (seed, 2, k)
    that gives one): a shadow a reader must see past, on a digit it should read."""
    for k in range(200):
        even, photo = (_photograph([strokes], np.random.default_rng([seed, 2, k]), "squared", light, 5, E2E_SHADOW)
                       for light in LIGHTS)
        top, left, bottom, right = photo.box
        height, reach = bottom - top, round(E2E_NEAR * (bottom - top))
        if height < E2E_HEIGHT * min(photo.image.shape[:2]):
            continue
        shaded, lit = (ndimage.uniform_filter(p.image.mean(axis=2), 9) + 1 for p in (photo, even))
        ratio = shaded / lit
        near = ratio[max(top - reach, 0):bottom + reach, max(left - reach, 0):right + reach]
        if ratio[top:bottom, left:right].min() > 0.85 and near.min() < 0.6:
            return photo
    raise RuntimeError("no photo with a shadow beside the digit")


if __name__ == "__main__":
    write_sample(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/data/photos")


def score(count: int = 150, seed: int = 7, models_dir=None) -> dict:
    """Accuracy of each model on `count` photos of each population's digits (`photo_set`), read as an
    upload is (`load_image`, then `preprocess`, then the model and its "not a digit" rule), by the
    fold model that never saw that population (models/crossval: fold1 without pendigits, fold2
    without UJI). Returns {population: {model: {"paper/light": accuracy, ..., "all": accuracy,
    "canvas": accuracy}}}; "canvas" is the same digits drawn on the app's canvas (`pendigits.render`,
    one copy each), read by the same model: what is lost to the photo rather than to the writers.
    """
    from pathlib import Path

    from ..imaging.images import load_image
    from ..imaging.preprocess import preprocess
    from ..reading.classifier import MODEL_NAMES, Classifier
    from .pendigits import load_pendigits, load_uji, render

    root = Path(models_dir) if models_dir else Path(__file__).resolve().parents[2] / "models"
    folds = {"pendigits": (load_pendigits, root / "crossval" / "fold1"), "uji": (load_uji, root / "crossval" / "fold2")}
    figures = {}
    for population, (load, fold) in folds.items():
        classifiers = {name: Classifier.load(name, fold) for name in MODEL_NAMES}
        hits = {name: {} for name in classifiers}
        digits = load()
        photos = photo_set(digits, count, seed=seed)
        for photo in photos:
            steps = preprocess(load_image(photo.jpeg))
            for name, classifier in classifiers.items():
                label = None
                if not steps.empty:
                    label = int(_decide(classifier, classifier.probabilities(steps.image[None]))[0])
                hits[name].setdefault(f"{photo.paper}/{photo.light}", []).append(label == photo.label)
        drawn = render([digits.trajectories[p.index] for p in photos], seed=seed)
        labels = np.array([p.label for p in photos])
        canvas = {name: float(np.mean(_decide(c, c.probabilities(drawn)) == labels)) for name, c in classifiers.items()}
        figures[population] = {name: {**{k: float(np.mean(v)) for k, v in sorted(kinds.items())},
                                      "all": float(np.mean(sum(kinds.values(), []))), "canvas": canvas[name]}
                               for name, kinds in hits.items()}
    return figures


def _decide(classifier, probabilities: np.ndarray) -> np.ndarray:
    """(N, 10) probabilities -> (N,) int labels, -1 where the "not a digit" rule refuses."""
    return np.where(probabilities.max(axis=1) < classifier.not_digit_below, -1, probabilities.argmax(axis=1))
