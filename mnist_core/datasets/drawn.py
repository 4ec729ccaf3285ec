"""The drawn-digit test set: digits as people draw them on a 280x280 canvas with a round brush.

Two parts, both rendered on a transparent RGBA canvas (alpha = ink, as the app's canvas gives)
and read through the full `preprocess` pipeline:

- `redrawn`: MNIST *test* digits traced along their centre line with a round brush of 10-28 px,
  at 80-230 px tall, anywhere on the canvas.
- `hand`: stroke paths written here by hand (below), 2-4 styles per digit, each drawn at three
  sizes and three brush widths, with a wobbly hand (smooth random displacement) and slant.

Training never sees either: the training set's stroke variant is made from *training* digits.
"""

from __future__ import annotations

import numpy as np

from ..imaging.preprocess import preprocess
from ..pen.strokes import canvas_rgba, render_strokes, skeleton

CANVAS = 280
WIDTHS = (10, 18, 28)  # brush widths in canvas pixels
HEIGHTS = (80, 150, 230)  # digit heights in canvas pixels


def _arc(cx, cy, rx, ry, start, end, n=28):
    """Points on an ellipse from `start` to `end` degrees (0 = right, 90 = down, screen axes)."""
    t = np.deg2rad(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _line(*points):
    return np.array(points, float)


def _join(*parts):
    return np.concatenate(parts)


_t = np.linspace(0, 2 * np.pi, 60)
# Each digit: a list of styles; each style a list of strokes; each stroke (K, 2) points (x, y) in
# a unit box, x to the right, y down.
HAND = {
    0: [[_arc(0.5, 0.5, 0.32, 0.45, -90, 275)],
        [_arc(0.5, 0.5, 0.22, 0.46, -60, 300)],
        [_arc(0.48, 0.52, 0.35, 0.43, -120, 250)]],
    1: [[_line((0.5, 0.05), (0.5, 0.95))],
        [_line((0.3, 0.22), (0.55, 0.05), (0.55, 0.95))],
        [_line((0.3, 0.22), (0.55, 0.05), (0.55, 0.95)), _line((0.3, 0.95), (0.8, 0.95))],
        [_line((0.62, 0.05), (0.42, 0.95))]],
    2: [[_join(_arc(0.5, 0.3, 0.3, 0.25, 200, 380), _line((0.2, 0.95), (0.85, 0.95)))],
        [_join(_arc(0.5, 0.28, 0.32, 0.23, 180, 400), _line((0.15, 0.93), (0.5, 0.9), (0.88, 0.95)))],
        [_join(_arc(0.45, 0.27, 0.3, 0.22, 190, 360), _line((0.7, 0.45), (0.2, 0.95), (0.85, 0.95)))]],
    3: [[_join(_arc(0.45, 0.27, 0.3, 0.22, 200, 450), _arc(0.45, 0.72, 0.33, 0.25, 270, 520))],
        [_join(_line((0.2, 0.05), (0.8, 0.05), (0.4, 0.42)), _arc(0.45, 0.68, 0.35, 0.28, 270, 520))],
        [_join(_arc(0.5, 0.26, 0.28, 0.21, 190, 440), _arc(0.5, 0.72, 0.3, 0.24, 280, 530))]],
    4: [[_line((0.6, 0.05), (0.12, 0.65), (0.88, 0.65)), _line((0.65, 0.3), (0.65, 0.95))],
        [_line((0.2, 0.05), (0.18, 0.55), (0.85, 0.55)), _line((0.7, 0.05), (0.7, 0.95))],
        [_line((0.25, 0.05), (0.15, 0.6), (0.82, 0.58)), _line((0.72, 0.15), (0.66, 0.95))]],
    5: [[_join(_line((0.8, 0.05), (0.28, 0.05), (0.24, 0.45)), _arc(0.47, 0.68, 0.33, 0.27, 220, 510))],
        [_join(_line((0.28, 0.05), (0.22, 0.45)), _arc(0.47, 0.68, 0.33, 0.27, 220, 510)),
         _line((0.28, 0.05), (0.82, 0.05))]],
    6: [[_join(_line((0.72, 0.05), (0.45, 0.2), (0.28, 0.45), (0.25, 0.7)), _arc(0.5, 0.72, 0.25, 0.23, 180, 530))],
        [_join(_arc(0.85, 0.6, 0.6, 0.55, 250, 180), _arc(0.5, 0.74, 0.25, 0.21, 180, 520))]],
    7: [[_line((0.15, 0.05), (0.85, 0.05), (0.4, 0.95))],
        [_line((0.15, 0.05), (0.85, 0.05), (0.45, 0.95)), _line((0.35, 0.5), (0.78, 0.5))],
        [_line((0.12, 0.2), (0.2, 0.05), (0.85, 0.05), (0.5, 0.95))]],
    8: [[_arc(0.5, 0.27, 0.22, 0.22, 0, 360), _arc(0.5, 0.72, 0.28, 0.25, 0, 360)],
        [np.stack([0.5 - 0.3 * np.sin(2 * _t), 0.5 - 0.45 * np.cos(_t)], axis=1)],
        [np.stack([0.5 + 0.26 * np.sin(2 * _t), 0.5 - 0.45 * np.cos(_t)], axis=1)]],
    9: [[_join(_arc(0.48, 0.3, 0.28, 0.24, 0, 360), _line((0.76, 0.3), (0.72, 0.95)))],
        [_join(_arc(0.5, 0.3, 0.3, 0.25, -20, 350), _line((0.78, 0.25), (0.74, 0.75)), _arc(0.55, 0.75, 0.2, 0.2, 0, 120))],
        [_join(_arc(0.45, 0.3, 0.3, 0.25, 10, 370), _line((0.75, 0.38), (0.55, 0.95)))]],
}


def _wobble(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Resample a polyline every ~0.02 units and add a smooth random displacement (a shaky hand)."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    dist = np.concatenate([[0], np.cumsum(seg)])
    if dist[-1] == 0:
        return points
    t = np.linspace(0, dist[-1], max(2, int(dist[-1] / 0.02)))
    dense = np.stack([np.interp(t, dist, points[:, 0]), np.interp(t, dist, points[:, 1])], axis=1)
    knots = np.linspace(0, dist[-1], 6)
    shake = np.stack([np.interp(t, knots, rng.normal(0, amount, 6)) for _ in range(2)], axis=1)
    return dense + shake


def hand_set(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Render every hand-written style at each size and brush width.

    Returns (N, 28, 28) float32 in [0, 1] after `preprocess`, and (N,) uint8 labels.
    """
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for digit, styles in HAND.items():
        for style in styles:
            for height in HEIGHTS:
                for width in WIDTHS:
                    slant = rng.uniform(-0.2, 0.2)
                    x0 = rng.uniform(0, CANVAS - height)
                    y0 = rng.uniform(0, CANVAS - height)
                    strokes = []
                    for stroke in style:
                        p = _wobble(stroke, rng, 0.015)
                        p[:, 0] += slant * (0.5 - p[:, 1])
                        strokes.append(p * height + [x0, y0])
                    images.append(preprocess(canvas_rgba(render_strokes(strokes, (CANVAS, CANVAS), width))).image)
                    labels.append(digit)
    return np.stack(images), np.array(labels, np.uint8)


def redrawn_set(images: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits traced with a round brush on a 280x280 canvas.

    images: (N, 28, 28) uint8, labels (N,). Each digit gets one random height from 80-230 px, one
    brush width from 10-28 px and a random place. Returns (N, 28, 28) float32 after `preprocess`
    and the labels.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((len(images), 28, 28), np.float32)
    for i, image in enumerate(images):
        line = skeleton(image / 255, upsample=4)
        rows, cols = np.nonzero(line)
        if rows.size == 0:
            continue
        height = rng.uniform(HEIGHTS[0], HEIGHTS[-1])
        width = rng.uniform(WIDTHS[0], WIDTHS[-1])
        scale = height / max(np.ptp(rows) + 1, 8)
        points = np.stack([cols - cols.min(), rows - rows.min()], axis=1) * scale
        offset = rng.uniform(width, CANVAS - width - points.max(axis=0).clip(max=CANVAS - 2 * width - 1))
        strokes = [p[None] for p in points + offset]
        out[i] = preprocess(canvas_rgba(render_strokes(strokes, (CANVAS, CANVAS), width))).image
    return out, np.asarray(labels, np.uint8)
