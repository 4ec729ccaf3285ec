"""Robustness curves: how a model's probability of the right digit changes as one transformation
of the input grows (shift, rotation, scale, stroke thickness).

The transformed images go to the model as they are, *without* re-running the MNIST
preprocessing (which would undo a shift or a scale): the curves show what each network makes
of digits that are not centred and sized the MNIST way.

    >>> curves = robustness_curves(clf.classify_batch, images, labels)
    >>> curves["rotation"].amounts, curves["rotation"].probability   # (19,), (19,)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..imaging import augment

#: transformation -> (amounts, axis title)
TRANSFORMS = {
    "shift": (np.arange(0, 7), "shift (pixels; mean of up, down, left and right)"),
    "rotation": (np.arange(-45, 46, 5), "rotation (degrees, + = anticlockwise)"),
    "scale": (np.round(np.arange(0.5, 1.51, 0.1), 2), "scale (x the digit's size)"),
    "thickness": (np.arange(-2, 3), "stroke thickness (steps of 2x2 erosion / dilation)"),
}
_DIRECTIONS = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])  # (row, col): up, down, left, right


def transform(images: np.ndarray, kind: str, amount: float) -> np.ndarray:
    """Apply one transformation of a given amount to (N, 28, 28) float32 images in [0, 1].

    shift: `amount` pixels in each of 4 directions -> (4N, 28, 28), direction-major (all images
    shifted up, then down, left, right); rotation (degrees, + = anticlockwise), scale (factor
    about the centre) and thickness (int steps, see `augment.thickness`) -> (N, 28, 28).
    """
    images = np.asarray(images, np.float32)
    n = len(images)
    if kind == "thickness":
        return augment.thickness(images, int(amount))
    if kind == "shift":
        images = np.tile(images, (len(_DIRECTIONS), 1, 1))
        shift = np.repeat(_DIRECTIONS * float(amount), n, axis=0)
        angle, scale = np.zeros(len(images)), np.ones(len(images))
    elif kind == "rotation":
        angle, scale, shift = np.full(n, -np.deg2rad(amount)), np.ones(n), np.zeros((n, 2))
    elif kind == "scale":
        angle, scale, shift = np.zeros(n), np.full(n, float(amount)), np.zeros((n, 2))
    else:
        raise ValueError(f"unknown transformation {kind!r}; expected one of {', '.join(TRANSFORMS)}")
    rows, cols = augment.affine_coordinates(angle, scale, np.zeros(len(images)), shift, images.shape[1])
    return augment._warp(images, rows, cols)


@dataclass(frozen=True)
class Curve:
    """One transformation's curve.

    amounts:     (K,) the transformation amounts
    probability: (K,) float64, mean probability of the right digit over the images
    accuracy:    (K,) float64, fraction of the images classified right
    """

    kind: str
    amounts: np.ndarray
    probability: np.ndarray
    accuracy: np.ndarray


def robustness_curves(predict, images: np.ndarray, labels, kinds=tuple(TRANSFORMS)) -> dict[str, Curve]:
    """Curves of `predict` ((M, 28, 28) float32 -> (M, 10) probabilities, e.g.
    `Classifier.classify_batch`) over (N, 28, 28) float32 images in [0, 1] with (N,) labels
    (or one int for all). All amounts of one transformation go to `predict` in one batch."""
    images = np.asarray(images, np.float32)
    labels = np.broadcast_to(np.asarray(labels, np.int64), (len(images),))
    curves = {}
    for kind in kinds:
        amounts = TRANSFORMS[kind][0]
        batches = [transform(images, kind, a) for a in amounts]
        probs = predict(np.concatenate(batches))
        per = len(batches[0])
        truth = np.tile(labels, per // len(images))
        p, acc = [], []
        for i in range(len(amounts)):
            block = probs[i * per : (i + 1) * per]
            p.append(block[np.arange(per), truth].mean())
            acc.append((block.argmax(axis=1) == truth).mean())
        curves[kind] = Curve(kind, amounts, np.array(p, np.float64), np.array(acc, np.float64))
    return curves
