"""Read a number written on a wide canvas: split it into digits, read each with its confidence.

    reading = read_strokes(strokes, clf.classify_batch, width=20)   # the canvas's vector paths
    reading = read_image(image, clf.classify_batch)                 # any image `ink_mask` accepts
    reading.number      # "2026", or None with reading.reason saying why in one line
    reading.digits      # DigitReading(label, confidence, box, image28) for each digit, left to right

Segmentation. Digits are written side by side, so what decides which ink belongs together is
horizontal overlap, not connectedness: pieces (strokes, or connected components of an image)
whose x-extents overlap by at least half of the narrower one's width are one digit; so the
detached top bar of a 5, the two strokes of a 4 and a 7's crossbar stay with their digit. A
group wider than `SPLIT_WIDTH` times the number's height holds touching digits (or a number
written without lifting the pen): it is cut into round(width / (`DIGIT_WIDTH` x height))
digits, each cut at the column with the least ink near where an even split would put it.
Specks much smaller than the rest of the ink are dropped. Touching digits whose inks overlap
have no clean column between them; there the classifier decides (`recognised_cut`, image path
only: on the canvas each digit's strokes are separate anyway).

Each digit's ink is turned into the 28x28 MNIST form with the same steps as a single digit
(`fit_box`, `centre_by_mass`) and read with a caller-given `classify_batch`
((N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities), so this module needs no model library.
More than `MAX_DIGITS` digits, or ink that is not digit-like (a blot, a scribble whose pen path is
far longer than any digit's, digits read with low confidence throughout) gives no number and a
one-line reason. The thresholds were set on composed numbers of pendigits writers 1-10
(`mnist_core.datasets.composed`); accuracy is measured on the writers the committed models hold out,
less those (`composed.heldout_writers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from ..imaging.ink import bounding_box, stroke_width
from ..imaging.preprocess import MAX_COVERAGE, centre_by_mass, fit_box, has_alpha, ink_mask
from ..pen.strokes import render_strokes

MAX_DIGITS = 12
OVERLAP = 0.5  # pieces overlapping horizontally by this share of the narrower one are one digit
SPLIT_WIDTH = 1.0  # a group wider than this times the number's height holds several digits
DIGIT_WIDTH = 0.75  # the typical width of one digit's ink, times the number's height
ALWAYS_SPLIT = 1.9  # ...and one wider than this surely does; between the two, only where a cut is
CUT_INK = 1.5  # ...cheap: a column with at most this many stroke widths of ink (not a wide 0's middle)
MINOR = 0.4  # a piece less tall than this times the number's height is no digit on its own
AIDED_WIDTH = 0.9  # with a classifier, a piece wider than this times the height may hold two digits
AIDED_CONFIDENCE = 0.9  # ...and is cut when both halves are read with more confidence than this and the whole
STROKE_PAD = 0.75  # a stroke's x-extent is its pen path's, widened by this share of the brush
CUT_RANGE = 0.35  # a cut is sought within this share of a digit's width of the even-split column
SPECK = 0.02  # a component with less ink than this share of the largest one is a speck...
SPECK_SIZE = 0.15  # ...if it is also smaller than this share of the number's height
MAX_FILL = 0.8  # a digit inks at most this share of its box; more is a blot
MAX_LENGTH = 6.0  # a digit's pen path is at most this many times the number's height
MIN_CONFIDENCE = 0.5  # mean confidence below this over all digits: not a number
MAX_PIECES = 300  # more separate marks than this is noise, not a number
PHOTO_GAP = 1.1  # in a photo, strokes less than this many stroke widths apart are one piece (a faint stretch missed)

Box = tuple[int, int, int, int]  # (top, left, bottom, right) in input pixels, bottom/right exclusive
ClassifyBatch = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class DigitReading:
    """One digit of a number.

    label:      the digit read, 0-9.
    confidence: the classifier's probability of `label`, in [0, 1].
    box:        (top, left, bottom, right) of the digit's ink in the input's pixels, exclusive ends.
    image28:    (28, 28) float32 in [0, 1]: what the classifier saw.
    """

    label: int
    confidence: float
    box: Box
    image28: np.ndarray


@dataclass(frozen=True)
class NumberReading:
    """What the reader made of a written number.

    number: the digits as a string ("2026"), or None when there is no number (see `reason`).
    digits: the digits read, left to right (also when `number` is None because of low confidence
            or too many digits, so that the boxes can still be shown; empty when there is no ink).
    reason: None, or one line saying why there is no number.
    """

    number: str | None
    digits: tuple[DigitReading, ...]
    reason: str | None = None


@dataclass(frozen=True)
class Segment:
    """One digit's ink as the segmentation found it.

    box: (top, left, bottom, right) in the input's pixels, exclusive ends.
    ink: (bottom - top, right - left) float32 in [0, 1]: this digit's ink only (others' removed).
    """

    box: Box
    ink: np.ndarray


@dataclass(frozen=True)
class Segmentation:
    """Segments left to right, the number's height in pixels, and a reason when there is nothing
    to read (then `segments` is empty)."""

    segments: tuple[Segment, ...]
    height: float
    reason: str | None = None


NO_INK = "No ink: write a number (or upload an image of one)."
MOSTLY_INK = "Most of the image is ink: clear it and write a number."
TOO_MANY_MARKS = "Too many separate marks to be a number: clear the canvas and write a number."


# ---------------------------------------------------------------------------- grouping

def group_by_overlap(intervals: np.ndarray, share: float = OVERLAP, minor=None) -> list[list[int]]:
    """Group horizontal intervals that overlap by at least `share` of the narrower one's width.

    intervals: (N, 2) float (left, right) with left <= right. Groups are merged repeatedly (a
    group's interval spans its members') until no two groups overlap that much.
    minor: optional (N,) bool, pieces that cannot be a digit on their own (flat or small: a 5's
    top bar, a dot): each joins, after the others are grouped, the group its interval overlaps
    most, if it overlaps any; the rest of them are grouped among themselves.
    Returns lists of indices into `intervals`, each sorted, the groups ordered by their left edge.
    """
    intervals = np.asarray(intervals, float).reshape(-1, 2)
    minor = np.zeros(len(intervals), bool) if minor is None else np.asarray(minor, bool)
    if minor.any() and not minor.all():
        major = np.flatnonzero(~minor)
        groups = [[int(major[i]) for i in g] for g in group_by_overlap(intervals[major], share)]
        spans = [np.array([intervals[g, 0].min(), intervals[g, 1].max()]) for g in groups]
        alone = []
        for i in np.flatnonzero(minor):
            left, right = intervals[i]
            overlaps = [min(right, r) - max(left, l) for l, r in spans]
            best = int(np.argmax(overlaps))
            if overlaps[best] > 0:
                groups[best].append(int(i))
            else:
                alone.append(int(i))
        if alone:
            groups += [[alone[i] for i in g] for g in group_by_overlap(intervals[alone], share)]
        return sorted((sorted(g) for g in groups), key=lambda g: intervals[g, 0].min())
    order = np.argsort(intervals[:, 0], kind="stable")
    groups = [[int(i)] for i in order]
    spans = [intervals[i].copy() for i in order]
    merged = True
    while merged:
        merged = False
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                (la, ra), (lb, rb) = spans[a], spans[b]
                overlap = min(ra, rb) - max(la, lb)
                narrower = max(min(ra - la, rb - lb), 1e-9)
                if overlap > 0 and overlap >= share * narrower:
                    groups[a] += groups.pop(b)
                    spans[a] = np.array([min(la, lb), max(ra, rb)])
                    spans.pop(b)
                    merged = True
                    break
            if merged:
                break
    ordered = sorted(zip(spans, groups), key=lambda sg: sg[0][0])
    return [sorted(g) for _, g in ordered]


def split_columns(ink: np.ndarray, height: float, stroke: float) -> list[tuple[int, int]]:
    """Where to cut one group's ink into digits: [(start, stop), ...] column ranges, left to right.

    ink: (h, w) float32 in [0, 1], the group's ink cropped to its box; height: the number's
    height and stroke: the stroke width, in pixels. A group no wider than SPLIT_WIDTH x height
    is one digit. A wider one may hold n = round(w / (DIGIT_WIDTH x height)) digits (at least
    2): the k-th cut is the column of least ink (vertical projection, lightly smoothed) within
    CUT_RANGE of a digit's width of k*w/n, ties going to the column nearest that even split.
    A cut is made only if it leaves a digit-tall piece (MINOR) on both sides, and, below
    ALWAYS_SPLIT x height, only through at most CUT_INK stroke widths of ink: touching digits
    meet in about one stroke, while the middle of a wide 0 or 2 has two or three.
    """
    w = ink.shape[1]
    if w <= SPLIT_WIDTH * height:
        return [(0, w)]
    n = max(2, int(round(w / (DIGIT_WIDTH * height))))
    profile = ndimage.uniform_filter1d(ink.sum(axis=0).astype(float), size=max(1, int(0.05 * height)))
    inked_rows = ink > 0.5

    def tall(a, b):
        rows = np.flatnonzero(inked_rows[:, a:b].any(axis=1))
        return rows.size > 0 and rows[-1] - rows[0] + 1 >= MINOR * height

    cuts, start = [], 0
    for k in range(1, n):
        centre = k * w / n
        lo = max(start + 1, int(centre - CUT_RANGE * w / n))
        hi = min(w - 1, int(centre + CUT_RANGE * w / n) + 1)
        if lo >= hi:
            continue
        window = profile[lo:hi]
        candidates = lo + np.flatnonzero(window <= window.min() + 1e-6)
        cut = int(candidates[np.argmin(np.abs(candidates - centre))])
        cheap = w > ALWAYS_SPLIT * height or profile[cut] <= CUT_INK * stroke
        if cheap and tall(start, cut) and tall(cut, w):
            cuts.append(cut)
            start = cut
    edges = [0, *cuts, w]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _typical_height(heights) -> float:
    """The number's height from its pieces' heights: the median of those at least half the tallest."""
    heights = np.asarray(heights, float)
    return float(np.median(heights[heights >= 0.5 * heights.max()]))


def _trim(ink: np.ndarray, top: int, left: int) -> Segment | None:
    """A Segment of `ink` (h, w) whose top-left corner is at (top, left), trimmed to its ink."""
    box = bounding_box(ink > 0)
    if box is None:
        return None
    t, l, b, r = box
    return Segment((top + t, left + l, top + b, left + r), ink[t:b, l:r])


def recognised_cut(ink: np.ndarray, height: float, classify_batch: ClassifyBatch) -> int | None:
    """Where to cut a piece (h, w) float32 that may hold two touching digits whose inks overlap
    (no cheap column exists), decided by the classifier: among the columns of least ink (one per
    tenth of the middle half) the cut whose two halves are both read with more confidence than
    the whole is read is made; None when no cut is (the piece is one digit)."""
    w = ink.shape[1]
    profile = ndimage.uniform_filter1d(ink.sum(axis=0).astype(float), size=max(1, int(0.05 * height)))
    edges = np.linspace(0.3 * w, 0.7 * w, 5).astype(int)
    cuts = sorted({int(a + np.argmin(profile[a:b])) for a, b in zip(edges[:-1], edges[1:]) if b > a})
    pieces, valid = [ink], []
    for cut in cuts:
        halves = [_trim(ink[:, :cut], 0, 0), _trim(ink[:, cut:], 0, 0)]
        if any(h is None or h.box[2] - h.box[0] < MINOR * height for h in halves):
            continue
        valid.append(cut)
        pieces += [h.ink for h in halves]
    if not valid:
        return None
    confidence = np.asarray(classify_batch(np.stack([to_mnist(p) for p in pieces])), np.float32).max(axis=1)
    worst = np.minimum(confidence[1::2], confidence[2::2])
    best = int(np.argmax(worst))
    return valid[best] if worst[best] > max(confidence[0], AIDED_CONFIDENCE) else None


def _segments(groups: list[tuple[Box, np.ndarray]], height: float, stroke: float,
              classify_batch: ClassifyBatch | None = None) -> tuple[Segment, ...]:
    """Split each (box, ink crop) group that is too wide, trim each piece to its ink; with a
    classifier, a piece still wider than AIDED_WIDTH x height may be cut by `recognised_cut`."""
    segments = []
    for (top, left, _, _), ink in groups:
        for a, b in split_columns(ink, height, stroke):
            piece = _trim(ink[:, a:b], top, left + a)
            if piece is None:
                continue
            cut = None
            if classify_batch is not None and piece.ink.shape[1] > AIDED_WIDTH * height:
                cut = recognised_cut(piece.ink, height, classify_batch)
            if cut is None:
                segments.append(piece)
            else:
                segments += [_trim(piece.ink[:, :cut], piece.box[0], piece.box[1]),
                             _trim(piece.ink[:, cut:], piece.box[0], piece.box[1] + cut)]
    return tuple(segments)


# ---------------------------------------------------------------------------- the two inputs

def segment_strokes(strokes: Sequence, width: float = 20.0) -> Segmentation:
    """Segment a number given as pen strokes.

    strokes: a sequence of (K, 2) arrays of (x, y) points in canvas pixels (y down), one per
    pen-down stroke, as a canvas's vector data gives them; width: the brush width in pixels.
    Strokes are grouped by the overlap of their pen paths' x-extents (`group_by_overlap`; each
    extent widened by a quarter of the brush so that a dot has a width), each group is drawn
    with the brush (`render_strokes`) and split if too wide (`split_columns`).
    Boxes are in canvas pixels and include the brush.
    """
    paths = []
    for stroke in strokes:
        points = np.asarray(stroke, float)
        if points.size == 0:
            continue
        if points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(points).all():
            raise ValueError(f"each stroke must be a (K, 2) array of finite x, y points, got shape {points.shape}")
        paths.append(points)
    if not paths:
        return Segmentation((), 0.0, NO_INK)
    if len(paths) > MAX_PIECES:
        return Segmentation((), 0.0, TOO_MANY_MARKS)
    pad = STROKE_PAD * width
    intervals = np.array([[p[:, 0].min() - pad, p[:, 0].max() + pad] for p in paths])
    heights = np.array([np.ptp(p[:, 1]) + width for p in paths])
    radius = width / 2
    groups = []
    for members in group_by_overlap(intervals, minor=heights < MINOR * _typical_height(heights)):
        points = np.concatenate([paths[i] for i in members])
        x0, y0 = np.floor(points.min(axis=0) - radius - 1)
        x1, y1 = np.ceil(points.max(axis=0) + radius + 1)
        ink = render_strokes([paths[i] - [x0, y0] for i in members], (int(y1 - y0), int(x1 - x0)), width)
        top, left, bottom, right = bounding_box(ink)
        box = (int(y0) + top, int(x0) + left, int(y0) + bottom, int(x0) + right)
        groups.append((box, ink[top:bottom, left:right]))
    height = _typical_height([b[2] - b[0] for b, _ in groups])
    return Segmentation(_segments(groups, height, width), height)


def segment_ink(ink: np.ndarray, classify_batch: ClassifyBatch | None = None, gap: float = 0.0) -> Segmentation:
    """Segment a number given as ink: (H, W) float32 in [0, 1], 1 = ink; `classify_batch`, if
    given, decides on pieces wide enough for two digits that have no cheap cut (`recognised_cut`).

    Connected components of the ink (> 0.5, 8-connected, `scipy.ndimage.label`), strokes less
    than `gap` stroke widths apart joined (a photo's faint stretch of a stroke, missed); specks (less
    than SPECK of the largest component's ink and smaller than SPECK_SIZE of the number's
    height) are dropped; the rest are grouped by horizontal overlap (`group_by_overlap`) and
    each group split if too wide (`split_columns`). Faint ink (<= 0.5) goes with the component
    it surrounds. Boxes are in the input's pixels.
    """
    ink = np.asarray(ink, np.float32)
    if ink.ndim != 2:
        raise ValueError(f"expected (H, W) ink, got shape {ink.shape}")
    mask = ink > 0.5
    if not mask.any():
        return Segmentation((), 0.0, NO_INK)
    if mask.mean() > MAX_COVERAGE:
        return Segmentation((), 0.0, MOSTLY_INK)
    stroke = stroke_width(ink > 0.5)
    reach = int(gap * stroke / 2)  # a square dilation by `reach` bridges gaps up to 2 x reach
    joined = ndimage.maximum_filter(mask.view(np.uint8), size=2 * reach + 1).view(bool) if reach else mask
    labels, count = ndimage.label(joined, structure=np.ones((3, 3), bool))
    labels = np.where(mask, labels, 0)
    if count > MAX_PIECES:
        return Segmentation((), 0.0, TOO_MANY_MARKS)
    # each faint pixel joins the component nearest to it, so that anti-aliased edges are kept
    _, (near_r, near_c) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    labels = np.where(ink > 0, labels[near_r, near_c], 0)
    slices = ndimage.find_objects(labels)
    areas = ndimage.sum_labels(mask, labels, np.arange(1, count + 1))
    heights = np.array([s[0].stop - s[0].start for s in slices])
    extents = np.array([max(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in slices])
    big = areas >= SPECK * areas.max()
    rough_height = _typical_height(heights[big])
    keep = np.flatnonzero(big | (extents >= SPECK_SIZE * rough_height))
    intervals = np.array([[slices[i][1].start, slices[i][1].stop] for i in keep], float)
    groups = []
    for members in group_by_overlap(intervals, minor=heights[keep] < MINOR * rough_height):
        ids = keep[members] + 1
        rows = [slices[i - 1][0] for i in ids]
        cols = [slices[i - 1][1] for i in ids]
        top, bottom = min(r.start for r in rows), max(r.stop for r in rows)
        left, right = min(c.start for c in cols), max(c.stop for c in cols)
        own = np.isin(labels[top:bottom, left:right], ids)
        groups.append(((top, left, bottom, right), np.where(own, ink[top:bottom, left:right], 0).astype(np.float32)))
    height = _typical_height([b[2] - b[0] for b, _ in groups])
    return Segmentation(_segments(groups, height, stroke, classify_batch), height)


# ---------------------------------------------------------------------------- reading

def to_mnist(ink: np.ndarray) -> np.ndarray:
    """One digit's ink crop (h, w) float32 in [0, 1] -> (28, 28) float32 in [0, 1], the MNIST
    form (`fit_box` then `centre_by_mass`, as `preprocess` does for a single digit)."""
    return centre_by_mass(fit_box(ink))[0]


def not_digit_like(segment: Segment, height: float) -> str | None:
    """Why a segment's ink is no digit, or None: a blot (more than MAX_FILL of its box inked) or
    a scribble (its ink's centre line, `skeletonize`, longer than MAX_LENGTH x height)."""
    solid = segment.ink > 0.5
    if solid.size and solid.mean() > MAX_FILL and min(solid.shape) > 0.3 * height:
        return "a blot of ink"
    if skeletonize(solid).sum() > MAX_LENGTH * height:
        return "a scribble"
    return None


def read_segments(segmentation: Segmentation, classify_batch: ClassifyBatch,
                  not_digit_below: float = 0.0) -> NumberReading:
    """Read each segment with `classify_batch` ((N, 28, 28) float32 in [0, 1] -> (N, 10)
    probabilities) and judge the whole: a reason instead of a number for no ink, more than
    MAX_DIGITS digits, ink that is not digit-like (`not_digit_like`), a mark read with a top
    probability below `not_digit_below` (the model's "not a digit" rule, `Classifier.not_digit_below`)
    or a mean confidence below MIN_CONFIDENCE."""
    if segmentation.reason:
        return NumberReading(None, (), segmentation.reason)
    segments = segmentation.segments
    for segment in segments:
        why = not_digit_like(segment, segmentation.height)
        if why:
            return NumberReading(None, (), f"This does not look like a number ({why}): clear it and write digits "
                                           "side by side.")
    images = np.stack([to_mnist(s.ink) for s in segments])
    probabilities = np.asarray(classify_batch(images), np.float32)
    if probabilities.shape != (len(segments), 10):
        raise ValueError(f"classify_batch must return ({len(segments)}, 10) probabilities, "
                         f"got shape {probabilities.shape}")
    digits = tuple(DigitReading(int(p.argmax()), float(p.max()), s.box, image)
                   for s, p, image in zip(segments, probabilities, images))
    if len(digits) > MAX_DIGITS:
        return NumberReading(None, digits, f"{len(digits)} digits found: a number may have at most {MAX_DIGITS}.")
    for place, d in enumerate(digits, 1):
        if d.confidence < not_digit_below:
            return NumberReading(None, digits, f"That doesn't look like a number: mark {place} of {len(digits)} "
                                               f"doesn't look like a digit (the nearest would be a {d.label}).")
    mean = float(np.mean([d.confidence for d in digits]))
    if mean < MIN_CONFIDENCE:
        return NumberReading(None, digits, f"This does not look like a number (the digits are read with only "
                                           f"{mean:.0%} confidence on average): write digits side by side.")
    return NumberReading("".join(str(d.label) for d in digits), digits)


def read_strokes(strokes: Sequence, classify_batch: ClassifyBatch, width: float = 20.0,
                 not_digit_below: float = 0.0) -> NumberReading:
    """Read a number from pen strokes ((K, 2) x, y arrays in canvas pixels; `width` the brush),
    see `segment_strokes` and `read_segments`."""
    return read_segments(segment_strokes(strokes, width), classify_batch, not_digit_below)


def read_image(image, classify_batch: ClassifyBatch, background=None, not_digit_below: float = 0.0) -> NumberReading:
    """Read a number from any image `preprocess.ink_mask` accepts ((H, W) ink float32 in [0, 1],
    grey, RGB or RGBA, any polarity; `background` the paper's colour if known, else it is a
    photo: strokes PHOTO_GAP apart are joined), see `segment_ink` and `read_segments`."""
    photo = background is None and not has_alpha(np.asarray(image))
    segmentation = segment_ink(ink_mask(image, background), classify_batch, PHOTO_GAP if photo else 0.0)
    return read_segments(segmentation, classify_batch, not_digit_below)
