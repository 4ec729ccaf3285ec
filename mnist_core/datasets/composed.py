"""Numbers composed from real pen-drawn digits, and how well `numbers` reads them.

The digits are UCI pendigits (30 writers, pen trajectories; see `pendigits`). A number is 2-5
digits of one writer side by side, each scaled to a random height around the number's, with
baseline jitter and random gaps between the inks, some slightly negative (digits that touch or
overlap a little), drawn with one round brush of 10-25 px on a canvas 280 px high and as wide
as needed:

    digits = pendigits.load_pendigits()
    number = compose_number([digits.trajectories[i] for i in (17, 4, 250)], rng, digits.labels[[17, 4, 250]])
    number.strokes, number.image, number.boxes, number.labels

`segmentation_accuracy` says how often the segmentation finds exactly the right digits (model
free unless given a classifier); `number_accuracy` how often a whole number is read right.
The reader's thresholds were set on writers 1-10 (`TUNING_WRITERS`); `heldout_writers` are the
writers of `pendigits.split_writers`' held-out third less those: the reader never tuned on them,
but the committed models, trained on every pendigits writer since the cross-population retraining,
have seen them, so numbers scored on them measure the segmentation, not a stranger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pen.strokes import render_strokes
from ..reading.numbers import ClassifyBatch, Segmentation, read_segments, segment_ink, segment_strokes
from .pendigits import Pendigits, split_writers

CANVAS_HEIGHT = 280
TUNING_WRITERS = tuple(range(1, 11))


def heldout_writers(digits: Pendigits) -> tuple[int, ...]:
    """Writers neither trained on by the committed models nor used to set the reader's thresholds."""
    held_out = set(digits.writers[split_writers(digits.writers)[1]].tolist())
    return tuple(sorted(held_out - set(TUNING_WRITERS)))


@dataclass(frozen=True)
class ComposedNumber:
    """A number drawn from separate digits.

    strokes: all strokes, (K, 2) float x, y in canvas pixels (y down), digit by digit.
    digit_of: (len(strokes),) int, which digit each stroke belongs to.
    image:   (280, W) float32 in [0, 1], the strokes drawn with the brush.
    boxes:   (top, left, bottom, right) of each digit's own ink, exclusive ends.
    labels:  the digits, left to right.
    width:   the brush width in pixels.
    """

    strokes: tuple[np.ndarray, ...]
    digit_of: np.ndarray
    image: np.ndarray
    boxes: tuple[tuple[int, int, int, int], ...]
    labels: tuple[int, ...]
    width: float

    @property
    def number(self) -> str:
        return "".join(map(str, self.labels))


def compose_number(digits: list[list[np.ndarray]], rng: np.random.Generator, labels=None,
                   gap: tuple[float, float] = (-0.06, 0.3)) -> ComposedNumber:
    """Lay digits (each a list of (K, 2) x, y strokes, y down, any units) side by side.

    The number's height is 110-200 px, each digit's 0.85-1.1 of it with a baseline jitter of
    +-6 %; the gap between neighbouring inks is drawn from `gap` (times the number's height;
    negative: they overlap); one brush of 10-25 px. `labels`: the digits' labels, kept in the result.
    """
    brush = float(rng.uniform(10, 25))
    number_height = float(rng.uniform(110, 200))
    placed, ink_right = [], brush
    for strokes in digits:
        strokes = [np.asarray(stroke, float) for stroke in strokes]
        points = np.concatenate(strokes)
        low, high = points.min(axis=0), points.max(axis=0)
        height = number_height * rng.uniform(0.85, 1.1)
        scale = height / max(high[1] - low[1], 1e-6)
        top = (CANVAS_HEIGHT - height) / 2 + rng.uniform(-0.06, 0.06) * number_height
        left = ink_right + (rng.uniform(*gap) * number_height if placed else 0) + brush / 2
        placed.append([(s - low) * scale + [left, top] for s in strokes])
        ink_right = left + (high[0] - low[0]) * scale + brush / 2
    canvas_width = int(np.ceil(ink_right + brush))
    all_strokes, digit_of, boxes = [], [], []
    for d, strokes in enumerate(placed):
        points = np.concatenate(strokes)
        (x0, y0), (x1, y1) = points.min(axis=0) - brush / 2, points.max(axis=0) + brush / 2
        boxes.append((int(np.floor(y0)), int(np.floor(x0)), int(np.ceil(y1)), int(np.ceil(x1))))
        all_strokes += strokes
        digit_of += [d] * len(strokes)
    image = render_strokes(all_strokes, (CANVAS_HEIGHT, canvas_width), brush)
    labels = tuple(int(v) for v in labels) if labels is not None else (-1,) * len(placed)
    return ComposedNumber(tuple(all_strokes), np.array(digit_of), image, tuple(boxes), labels, brush)


def composed_numbers(digits: Pendigits, count: int, writers, seed: int = 0,
                     lengths: tuple[int, int] = (2, 5), gap: tuple[float, float] = (-0.06, 0.3)):
    """`count` numbers (a list of ComposedNumber) of lengths[0]-lengths[1] random digits, each
    number by one random writer of `writers`. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    writers = tuple(writers)
    by_writer = {w: np.flatnonzero(digits.writers == w) for w in writers}
    numbers = []
    for _ in range(count):
        pool = by_writer[writers[rng.integers(len(writers))]]
        chosen = rng.choice(pool, size=rng.integers(lengths[0], lengths[1] + 1), replace=False)
        numbers.append(compose_number([digits.trajectories[i] for i in chosen], rng, digits.labels[chosen], gap))
    return numbers


def box_overlap(a, b) -> float:
    """Intersection over union of two (top, left, bottom, right) boxes."""
    h = min(a[2], b[2]) - max(a[0], b[0])
    w = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(h, 0) * max(w, 0)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


def segmented_right(segmentation: Segmentation, number: ComposedNumber, min_overlap: float = 0.5) -> bool:
    """True when there is one segment per digit and each, left to right, overlaps its digit's
    true box with an intersection over union of at least `min_overlap`."""
    boxes = [s.box for s in segmentation.segments]
    return len(boxes) == len(number.boxes) and all(
        box_overlap(a, b) >= min_overlap for a, b in zip(boxes, number.boxes))


def segment(number: ComposedNumber, path: str, classify_batch: ClassifyBatch | None = None) -> Segmentation:
    """Segment a composed number through the "strokes" or the "image" path (the latter helped by
    `classify_batch` where given, see `numbers.recognised_cut`)."""
    if path == "strokes":
        return segment_strokes(number.strokes, number.width)
    if path == "image":
        return segment_ink(number.image, classify_batch)
    raise ValueError(f"path must be 'strokes' or 'image', got {path!r}")


def segmentation_accuracy(numbers: list[ComposedNumber], path: str, classify_batch: ClassifyBatch | None = None) -> float:
    """Share of `numbers` segmented exactly right (`segmented_right`) through `path`; model free
    unless `classify_batch` is given."""
    return float(np.mean([segmented_right(segment(n, path, classify_batch), n) for n in numbers]))


def number_accuracy(numbers: list[ComposedNumber], classify_batch: ClassifyBatch, path: str) -> float:
    """Share of `numbers` read entirely right (every digit, nothing more) through `path`."""
    return float(np.mean([read_segments(segment(n, path, classify_batch), classify_batch).number == n.number
                          for n in numbers]))
