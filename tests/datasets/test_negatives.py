"""Drawings that are no digit (`mnist_core.datasets.negatives`), and how training teaches them (`train.targets`)."""

import numpy as np

from mnist_core.datasets.negatives import HAND_LETTERS, HELDOUT_KINDS, KINDS, TRAIN_KINDS, negative_set
from mnist_core.training.train import NEGATIVE, targets


def test_the_kinds_measured_are_never_the_kinds_trained_on():
    assert set(HELDOUT_KINDS).isdisjoint(TRAIN_KINDS) and set(HELDOUT_KINDS) | set(TRAIN_KINDS) == set(KINDS)


def test_negatives_are_canvas_drawings_read_like_a_digit():
    images, kinds = negative_set(("hand_letters", "taps", "zigzags"), per_kind=20, seed=3)
    assert images.dtype == np.float32 and images.shape[1:] == (28, 28) and len(images) == len(kinds)
    assert 0 <= images.min() and images.max() <= 1
    assert (images.reshape(len(images), -1).max(axis=1) > 0).all()  # preprocess's refusals are left out
    assert set(kinds) == {"hand_letters", "taps", "zigzags"} and (kinds == "hand_letters").sum() == 20
    again, _ = negative_set(("hand_letters", "taps", "zigzags"), per_kind=20, seed=3)
    np.testing.assert_array_equal(images, again)
    other, _ = negative_set(("hand_letters",), per_kind=20, seed=4)
    assert not np.array_equal(other, images[kinds == "hand_letters"])


def test_a_letter_is_centred_like_an_mnist_digit():
    images, _ = negative_set(("hand_letters",), per_kind=len(HAND_LETTERS), seed=0)
    rows, cols = np.indices((28, 28))
    for image in images:
        mass = image.sum()
        assert abs((rows * image).sum() / mass - 14) < 1.5 and abs((cols * image).sum() / mass - 14) < 1.5
        inked_rows, inked_cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert max(np.ptp(inked_rows), np.ptp(inked_cols)) + 1 <= 21  # fitted to MNIST's 20x20 box


def test_font_letters_need_no_installed_font():
    images, kinds = negative_set(("font_letters",), per_kind=5, seed=0)
    assert len(images) == 5 and (kinds == "font_letters").all()


def test_a_negative_is_taught_a_uniform_answer():
    soft, weights = targets(np.array([3, NEGATIVE, 0]), negative_weight=0.5)
    np.testing.assert_array_equal(soft[0], np.eye(10)[3])
    np.testing.assert_allclose(soft[1], np.full(10, 0.1))
    np.testing.assert_array_equal(weights, [1.0, 0.5, 1.0])
