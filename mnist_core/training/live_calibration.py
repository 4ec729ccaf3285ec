"""Calibrating a model trained in the app (`live`) by the committed models' rule.

The committed models take their temperature, "4 or 9?" and "not a digit" thresholds from
`strangers.calibration_entry`: `strangers.rules` fitted on real drawings by writers they never saw,
with MNIST digits the "not a digit" rule must not refuse. A model trained in the app learns from
MNIST alone, so every population of real drawings is held out from it: the same entry is fitted
on its readings of a writer-balanced part of each (`PER_POPULATION` drawings, rendered once per
process), with the MNIST validation images its training held out as the digits not to refuse.

    entry = calibrate(fast, x_val, y_val)   # the card's "calibration" entry
    Classifier(model, {"calibration": entry, ...}, name, fast)   # reads with those rules

Without the pen drawings (no ../shared/pendigits, ../shared/uji) the rules are fitted on the
MNIST validation images alone, and the entry's "fitted_on" says so.
"""

from __future__ import annotations

import functools

import numpy as np

from ..datasets import pendigits
from ..datasets.data import DataUnavailable
from ..evaluation import strangers

PER_POPULATION = 1200  # real drawings read per population (UJI has 1,200; pendigits a balanced 40 per writer)
SEED = 0


def balanced_subset(writers: np.ndarray, n: int, seed: int = SEED) -> np.ndarray:
    """Sorted indices of about `n` items of (N,) `writers`, as many from each writer as each
    has to give (every item when N <= n)."""
    writers = np.asarray(writers)
    if len(writers) <= n:
        return np.arange(len(writers))
    names = np.unique(writers)
    per_writer = max(1, n // len(names))
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(writers == w))[:per_writer] for w in names]
    return np.sort(np.concatenate(chosen))


@functools.lru_cache(maxsize=1)
def real_drawings() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{population: (images (N, 28, 28) float32 in [0, 1], labels (N,) uint8, writers (N,) int64)}:
    `PER_POPULATION` drawings of each population rendered once on the canvas
    (`strangers.population_set`), read-only; {} when the pen drawings are not there."""
    try:
        populations = pendigits.load_populations()
    except DataUnavailable:
        return {}
    out = {}
    for name, digits in populations.items():
        index = balanced_subset(digits.writers, PER_POPULATION)
        images, labels, writers = strangers.population_set(digits.subset(index))
        for array in (images, labels, writers):
            array.setflags(write=False)
        out[name] = (images, labels, writers)
    return out


def calibrate(fast, x_heldout: np.ndarray, y_heldout: np.ndarray) -> dict:
    """The card's "calibration" entry for a model trained on MNIST only.

    fast: the model's reader, (N, 28, 28) float32 in [0, 1] -> (N, 10) float32 raw softmax (its
    `LiteRTModel`); x_heldout (M, 28, 28) float32 in [0, 1], y_heldout (M,): MNIST images its
    training held out (validation). Returns `strangers.calibration_entry`'s dict: temperature,
    unsure_below, not_digit_below, the reliability tables, ...
    """
    mnist = (fast(x_heldout), np.asarray(y_heldout, np.int64))
    real = {name: (fast(images), labels.astype(np.int64), writers)
            for name, (images, labels, writers) in real_drawings().items()}
    if real:
        counts = ", ".join(f"{len(r[1]):,} {name}" for name, r in real.items())
        return strangers.calibration_entry(
            real, {"mnist_validation": mnist},
            f"real drawings by writers this model never saw ({counts}, rendered as canvas drawings), "
            f"with the {len(y_heldout):,} MNIST validation images its training held out")
    # no pen drawings: MNIST's held-out images, each its own writer (MNIST does not say who wrote which)
    return strangers.calibration_entry(
        {"mnist_validation": (*mnist, np.arange(len(y_heldout)))}, {},
        f"the {len(y_heldout):,} MNIST validation images its training held out (no real drawings were found)")
