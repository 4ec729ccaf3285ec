"""Handwriting styles MNIST hardly has, drawn onto MNIST's own digits.

The models misread these ways of writing a digit (issue 8): a 9 with a small loop and a curved
or hooked tail (read as 3), a 7 crossed through the stem (2, 3), a 1 with a long flag and maybe
a foot (9, 7), a 4 with an open top or in one stroke (6, 5, 9). Each style edits the centre
line of an MNIST training digit (`strokes.skeleton`, upsampled 3x) and the result is traced with
a round brush and re-preprocessed like `strokes.redraw`, so the styled digits keep the MNIST
writers' own hands (proportions, slant, the rest of the digit) and do not rest on any one set of
canvas writers.

Where editing the skeleton is reliable the style adds to it (the 7's bar, the 1's flag and foot).
Where it is not, the style keeps the part of the skeleton it can find for sure and draws the
rest as a synthetic pen path: the 9 keeps its loop (the skeleton around the largest hole) and
gets a new tail, a cubic curve that leaves the loop's right side and bends left at the bottom,
sometimes curling up into a hook; the 4 is redrawn from five points measured on its skeleton
(the arm's top, the bar's ends, the stem's top and bottom), since the skeletons of 4s join arm,
bar and stem in too many ways to cut reliably. A style that cannot find its part (a 9 with no
closed loop, a 7 whose mid-height row misses the stem) returns None and the digit stays plain.

Centre lines are (H, W) bool arrays; points in them are (row, col).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.draw import line as draw_line

from ..imaging.preprocess import preprocess_batch
from .strokes import redraw, skeleton, trace

UPSAMPLE = 3
PAD = 14 * UPSAMPLE  # room around the 84x84 centre line for longer tails, flags and feet


def _draw(line: np.ndarray, points) -> np.ndarray:
    """Draw a polyline of (row, col) points, (K, 2) float, onto a copy of a (H, W) bool centre line."""
    out = line.copy()
    p = np.round(np.asarray(points, float)).astype(int)
    p = np.clip(p, 0, np.array(line.shape) - 1)
    for (r0, c0), (r1, c1) in zip(p[:-1], p[1:]):
        out[draw_line(r0, c0, r1, c1)] = True
    return out


def _curve(p0, p1, p2, p3, n: int = 24) -> np.ndarray:
    """Cubic Bezier from p0 to p3 with control points p1, p2 ((row, col) each): (n, 2) float."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2, p3 = (np.asarray(p, float) for p in (p0, p1, p2, p3))
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3


def _extent(line: np.ndarray):
    """(top row, bottom row, height) of a centre line's pixels; height at least 18."""
    rows = np.flatnonzero(line.any(axis=1))
    return rows[0], rows[-1], max(rows[-1] - rows[0] + 1, 18)


# ---------------------------------------------------------------------------- the styles

def crossed_seven(line: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 7 with a short bar through its stem at mid-height (the continental 7).

    line: (H, W) bool centre line of a 7. The bar is 25-45 % of the height long, roughly centred
    on the stem where it crosses a row 45-60 % of the way down, tilted -10..+5 degrees.
    Returns a new (H, W) bool centre line, or None when that row misses the stem.
    """
    top, _, height = _extent(line)
    row = int(round(top + rng.uniform(0.45, 0.6) * height))
    cols = np.flatnonzero(line[row - 1:row + 2].any(axis=0))
    if cols.size == 0:
        return None
    centre = np.median(cols) + rng.uniform(-0.08, 0.08) * height
    half = rng.uniform(0.25, 0.45) * height / 2
    tilt = np.tan(np.deg2rad(rng.uniform(-10, 5)))  # positive: the right end higher
    return _draw(line, [(row + tilt * half, centre - half), (row - tilt * half, centre + half)])


def flagged_one(line: np.ndarray, rng: np.random.Generator, foot: bool = False) -> np.ndarray | None:
    """A 1 with a long flag from its top down to the left, straight or curved, and maybe a foot.

    line: (H, W) bool centre line of a 1. The flag is 20-50 % of the height long, 15-60 degrees
    below horizontal, bowed by up to 25 % of its length either way; the foot (if `foot`) is a
    horizontal base line through the lowest point, 30-55 % of the height wide.
    Returns a new (H, W) bool centre line.
    """
    top, bottom, height = _extent(line)
    start = (top, np.flatnonzero(line[top]).mean())
    length, angle = rng.uniform(0.2, 0.5) * height, np.deg2rad(rng.uniform(15, 60))
    end = (top + length * np.sin(angle), start[1] - length * np.cos(angle))
    bow = rng.uniform(-0.25, 0.25) * length
    normal = np.array([np.cos(angle), np.sin(angle)])  # perpendicular to the flag, (row, col)
    middle = (np.add(start, end) / 2) + bow * normal
    styled = _draw(line, _curve(start, middle, middle, end))
    if foot:
        col = np.flatnonzero(line[bottom]).mean()
        width = rng.uniform(0.3, 0.55) * height
        left = rng.uniform(0.35, 0.6) * width
        styled = _draw(styled, [(bottom, col - left), (bottom, col + width - left)])
    return styled


def footed_one(line: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """`flagged_one` with a foot: (H, W) bool centre line of a 1 -> (H, W) bool."""
    return flagged_one(line, rng, foot=True)


def curly_nine(line: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 9 with a small loop and a tail that curves left at the bottom, sometimes hooked.

    line: (H, W) bool centre line of a 9. Keeps the skeleton around its largest hole (the loop,
    at least 12 pixels inside) and drops the rest; the new tail leaves the loop's right side
    below its middle, runs down with a slight bulge and bends 10-50 % of the height to the left,
    so the loop is 30-55 % of the whole height; half the tails end in a small upward hook.
    Returns a new (H, W) bool centre line, or None when the 9 has no closed loop.
    """
    holes, count = ndimage.label(ndimage.binary_fill_holes(line) & ~line)
    if count == 0:
        return None
    sizes = ndimage.sum_labels(np.ones_like(holes), holes, np.arange(1, count + 1))
    if sizes.max() < 12:
        return None
    hole = holes == 1 + np.argmax(sizes)
    loop = line & ndimage.binary_dilation(hole, np.ones((3, 3)), iterations=2)
    rows, cols = np.nonzero(loop)
    loop_top, loop_height = rows.min(), np.ptp(rows) + 1
    middle = rows.min() + 0.5 * loop_height
    low = rows >= middle
    k = np.argmax(cols[low] + 0.3 * (rows[low] - middle))  # right side, a little below the middle
    start = np.array([rows[low][k], cols[low][k]], float)
    height = loop_height / rng.uniform(0.3, 0.55)
    end = np.array([loop_top + height, start[1] - rng.uniform(0.1, 0.5) * height])
    drop = end[0] - start[0]
    bulge = rng.uniform(-0.02, 0.12) * height
    tail = _curve(start, start + (0.45 * drop, bulge), (end[0], end[1] + rng.uniform(0.2, 0.35) * height), end)
    if rng.random() < 0.5:  # hook: curl up and left
        hook = rng.uniform(0.06, 0.15) * height
        tail = np.concatenate([tail, _curve(end, end + (0, -0.6 * hook), end + (-0.4 * hook, -hook),
                                            end + (-hook, -0.9 * hook), n=10)])
    return _draw(loop, tail)


def _four_points(line: np.ndarray):
    """Key points of a 4's centre line, (row, col) floats: the arm's top, the bar's left and right
    ends, where the stem crosses the bar, the stem's top and bottom; None when no bar or stem is
    found.

    The bar is the row, 35-80 % of the way down, with the most pixels; below it is the stem, a
    straight line fitted through the pixels well below the bar (only the stem goes there); the
    stem's top is the highest pixel above the bar and not left of where the stem crosses it."""
    top, bottom, height = _extent(line)
    rows, cols = np.nonzero(line)
    band = np.arange(int(top + 0.35 * height), int(top + 0.8 * height) + 1)
    counts = ndimage.uniform_filter1d(line[band].sum(axis=1).astype(float), 3)
    bar = band[np.argmax(counts)]
    below = rows > bar + 0.12 * height
    if below.sum() < 5 or np.ptp(rows[below]) < 0.1 * height:
        return None
    slope, intercept = np.polyfit(rows[below], cols[below], 1)
    stem = lambda r: slope * r + intercept  # noqa: E731 - the stem's column at row r
    near_bar = np.abs(rows - bar) <= 2
    left, right_end = cols[near_bar].min(), cols[near_bar].max()
    if stem(bar) - left < 0.2 * height:
        return None
    corner = np.array([bar, stem(bar)])
    upper = rows < bar
    right = upper & (cols >= corner[1] - 0.1 * height)
    if not right.any():
        return None
    stem_top = np.array([rows[right].min(), cols[right][np.argmin(rows[right])]], float)
    arm = upper & (rows < bar - 0.1 * height) & (cols < corner[1] - 0.15 * height)
    arm_top = (rows[arm].min(), cols[arm][np.argmin(rows[arm])]) if arm.any() else (top, left)
    return (np.array(arm_top, float), np.array([bar, left], float), np.array([bar, max(right_end, corner[1])], float),
            corner, stem_top, np.array([bottom, stem(bottom)]))


def open_four(line: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 4 whose arm and stem do not meet at the top: the arm runs up steeply from the bar's left
    end (nearly parallel to the stem, as in a 'Ч'), and stops short of the stem's top.

    line: (H, W) bool centre line of a 4 -> a new (H, W) bool centre line redrawn through its key
    points (`_four_points`), or None when they are not found.
    """
    points = _four_points(line)
    if points is None:
        return None
    arm_top, bar_left, bar_right, _, stem_top, stem_bottom = points
    height = stem_bottom[0] - min(arm_top[0], stem_top[0])
    lean = rng.uniform(-0.05, 0.3) * (stem_top[1] - bar_left[1])  # how far right the arm leans
    arm = (stem_top[0] + rng.uniform(0.0, 0.2) * height, bar_left[1] + lean)
    bar_right = bar_right + (0, rng.uniform(-0.05, 0.1) * height)
    out = np.zeros_like(line)
    out = _draw(out, [arm, bar_left, bar_right])
    return _draw(out, [stem_top, stem_bottom])


def one_stroke_four(line: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A 4 in one stroke: down the arm, right along the bar to the stem, up to the stem's top and
    back down it, the up and down strokes 0-8 % of the height apart (a retrace, or a narrow loop
    closed at the top only).

    line: (H, W) bool centre line of a 4 -> a new (H, W) bool centre line through its key points
    (`_four_points`), or None when they are not found.
    """
    points = _four_points(line)
    if points is None:
        return None
    arm_top, bar_left, _, _, stem_top, stem_bottom = points
    height = stem_bottom[0] - min(arm_top[0], stem_top[0])
    lean = rng.uniform(0.0, 0.5) * (stem_top[1] - bar_left[1])
    arm = (stem_top[0] + rng.uniform(0.0, 0.15) * height, bar_left[1] + lean)
    gap = rng.uniform(0.0, 0.08) * height
    gap = gap if gap >= 3 else 0.0  # lines closer than that would touch: a plain retrace
    along = (bar_left[0] - stem_top[0]) / max(stem_bottom[0] - stem_top[0], 1)
    corner = stem_top + along * (stem_bottom - stem_top)  # on the down stroke: the up one runs parallel
    turn = stem_top + (-0.03 * height, -gap / 2)  # the top of the narrow loop
    path = [arm, bar_left, corner - (0, gap), stem_top - (0, gap), turn, stem_top, stem_bottom]
    return _draw(np.zeros_like(line), path)


STYLES = {
    "crossed 7": (7, crossed_seven),
    "flagged 1": (1, flagged_one),
    "flagged 1 with a foot": (1, footed_one),
    "curly 9": (9, curly_nine),
    "open 4": (4, open_four),
    "one-stroke 4": (4, one_stroke_four),
}  # name -> (the digit it applies to, centre line (H, W) bool, rng -> (H, W) bool or None)


# ---------------------------------------------------------------------------- drawing

def draw_styles(images: np.ndarray, widths: np.ndarray, names, rng: np.random.Generator) -> np.ndarray:
    """Redraw MNIST digits with a round brush, each in the named style ("" for none).

    images: (N, 28, 28) uint8 or float32 in [0, 1]; widths: (N,) brush width as a fraction of the
    (styled) digit's height, as in `strokes.redraw`; names: N style names from STYLES or "".
    Returns (N, 28, 28) float32 in [0, 1] in MNIST form. A digit with no style, or whose style
    does not apply (the style returns None), is exactly `strokes.redraw`'s output.
    """
    images = np.asarray(images)
    scale = 1 / 255 if images.dtype == np.uint8 else 1.0
    widths = np.asarray(widths, float)
    out = np.zeros((len(images), 28, 28), np.float32)
    size = 28 * UPSAMPLE + 2 * PAD
    styled, inks = [], []
    for i, name in enumerate(names):
        if not name:
            continue
        line = np.pad(skeleton(images[i] * scale, UPSAMPLE), PAD)
        new = STYLES[name][1](line, rng) if line.any() else None
        if new is not None and new.any():
            _, _, height = _extent(new)
            styled.append(i)
            inks.append(trace(new, max(0.5, widths[i] * height / 2)))
    plain = np.setdiff1d(np.arange(len(images)), styled)
    if plain.size:
        out[plain] = redraw(images[plain], widths[plain], UPSAMPLE)
    if styled:
        out[styled] = preprocess_batch(np.stack(inks).reshape(-1, size, size))
    return out


def restyle(images: np.ndarray, labels: np.ndarray, widths: np.ndarray, rng: np.random.Generator,
            fraction: float = 0.5, return_names: bool = False):
    """Redraw MNIST digits as brush strokes, a `fraction` of the 1s, 4s, 7s and 9s in a style.

    images: (N, 28, 28) uint8 or float32 in [0, 1]; labels (N,) ints; widths (N,) brush widths as
    fractions of the height (see `strokes.redraw`). Each digit of a class with styles is styled
    with probability `fraction`, in one of its class's styles picked at random.
    Returns (N, 28, 28) float32 in [0, 1], and with `return_names` also the (N,) style names
    ("" = plain `redraw` output; a style that did not apply to its digit still has its name).
    Deterministic for a given rng state.
    """
    labels = np.asarray(labels)
    names = np.full(len(labels), "", dtype=object)
    for digit in np.unique([d for d, _ in STYLES.values()]):
        options = [name for name, (d, _) in STYLES.items() if d == digit]
        chosen = np.flatnonzero((labels == digit) & (rng.random(len(labels)) < fraction))
        names[chosen] = rng.choice(options, len(chosen))
    out = draw_styles(images, widths, names, rng)
    return (out, names) if return_names else out
