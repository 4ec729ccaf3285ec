"""Measures of ink shared by the canvas path, the photo path and the numbers reader.

Pure functions on arrays, imported by `preprocess`, `photo` and `numbers` (so they sit below all three).
"""

from __future__ import annotations

import numpy as np
from skimage.morphology import skeletonize

Box = tuple[int, int, int, int]  # (top, left, bottom, right), bottom/right exclusive


def bounding_box(ink: np.ndarray) -> Box | None:
    """(top, left, bottom, right) of the nonzero pixels of `ink` (H, W), exclusive ends; None if none."""
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def stroke_width(solid: np.ndarray) -> float:
    """The mean stroke width in pixels of solid (H, W) bool ink: its area over the length of its
    centre line (`skimage.morphology.skeletonize`); 0.0 for no ink."""
    return float(solid.sum() / max(skeletonize(solid).sum(), 1))
