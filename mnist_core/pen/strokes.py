"""Digits as constant-width pen strokes: rasterising stroke paths, and redrawing MNIST digits.

People draw with a round brush of one width, at any size; MNIST's digits were written with
pens of varied width on paper and scanned. `redraw` turns MNIST digits into brush drawings
(their centre line, from scikit-image's skeletonize, traced with a round brush of a chosen
relative width), which is how the drawn-digit test set and the training data's stroke variant
are made. `render_strokes` draws polylines (a canvas's vector paths or hand-written ones).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage.draw import line as draw_line
from skimage.morphology import skeletonize

from ..imaging.preprocess import preprocess_batch


def render_strokes(strokes, size: tuple[int, int] = (280, 280), width: float = 20.0) -> np.ndarray:
    """Draw polylines with a round brush, as a canvas does.

    strokes: a sequence of (K, 2) arrays of (x, y) points in pixels (a single point is a dot).
    size:    (height, width) of the canvas.
    Returns (H, W) float32 in [0, 1], 1 = ink. Pillow draws the lines; the round caps and joins
    are discs at every point, since Pillow's wide lines have square ends.
    """
    height, w = size
    canvas = Image.new("L", (w, height), 0)
    draw = ImageDraw.Draw(canvas)
    radius = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in np.asarray(stroke, dtype=float).reshape(-1, 2)]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(width)))
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas, np.float32) / 255


def canvas_rgba(ink: np.ndarray) -> np.ndarray:
    """(H, W) float32 ink in [0, 1] -> (H, W, 4) uint8 RGBA as a transparent canvas holds it:
    white strokes, alpha = ink."""
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return rgba


def skeleton(image: np.ndarray, upsample: int = 3) -> np.ndarray:
    """The centre line of one digit: (28, 28) float32 in [0, 1] -> (28u, 28u) bool, one pixel wide.

    The digit is upsampled by `upsample` (bilinear) before thinning so that the line is smooth.
    """
    big = ndimage.zoom(image.astype(np.float32), upsample, order=1)
    return skeletonize(big > 0.4)


def trace(centre_line: np.ndarray, radius: float) -> np.ndarray:
    """Trace a (H, W) bool centre line with a round brush of `radius` pixels, anti-aliased.

    Returns (H, W) float32 in [0, 1]: 1 within the radius, a one-pixel linear ramp at the edge.
    """
    if not centre_line.any():
        return np.zeros(centre_line.shape, np.float32)
    distance = ndimage.distance_transform_edt(~centre_line)
    return np.clip(radius + 0.5 - distance, 0.0, 1.0).astype(np.float32)


def add_flag(centre_line: np.ndarray, length: float, angle: float = 35.0) -> np.ndarray:
    """Add the flag of a European-style 1 to a centre line (H, W) bool: a straight line of `length`
    pixels from the line's topmost pixel down to the left, `angle` degrees below horizontal.
    Returns a new (H, W) bool array."""
    rows, cols = np.nonzero(centre_line)
    if rows.size == 0 or length <= 0:
        return centre_line
    top = rows.min()
    col = int(np.round(cols[rows == top].mean()))
    end_row = int(np.clip(round(top + length * np.sin(np.deg2rad(angle))), 0, centre_line.shape[0] - 1))
    end_col = int(np.clip(round(col - length * np.cos(np.deg2rad(angle))), 0, centre_line.shape[1] - 1))
    flagged = centre_line.copy()
    flagged[draw_line(int(top), col, end_row, end_col)] = True
    return flagged


def redraw(images: np.ndarray, widths: np.ndarray, upsample: int = 3, flags: np.ndarray | None = None) -> np.ndarray:
    """Redraw MNIST digits as constant-width brush strokes, then re-apply the MNIST recipe.

    images: (N, 28, 28) uint8 or float32 in [0, 1].
    widths: (N,) brush width as a fraction of the digit's height (0.1 = a 20 px brush on a
            200 px tall digit; MNIST's own strokes are about 0.1-0.2).
    flags:  optional (N,) flag length as a fraction of the digit's height, 0 for none
            (`add_flag`): the 1 as much of the world writes it, which MNIST hardly has.
    Returns (N, 28, 28) float32 in [0, 1], centred and scaled like MNIST.
    """
    images = np.asarray(images)
    scale = 1 / 255 if images.dtype == np.uint8 else 1.0
    pad = 2 * upsample  # room for a brush wider than the original stroke
    out = np.zeros((len(images), 28 * upsample + 2 * pad, 28 * upsample + 2 * pad), np.float32)
    for i, (image, width) in enumerate(zip(images, widths)):
        line = np.pad(skeleton(image * scale, upsample), pad)
        rows = np.flatnonzero(line.any(axis=1))
        if rows.size == 0:
            continue
        height = max(rows[-1] - rows[0] + 1, upsample * 6)
        if flags is not None and flags[i] > 0:
            line = add_flag(line, flags[i] * height)
        out[i] = trace(line, max(0.5, width * height / 2))
    return preprocess_batch(out)
