"""mnist_core.datasets.drawn: the drawn-digit test sets (hand-written stroke styles, MNIST test digits
redrawn on a canvas) are complete, in MNIST form, deterministic, and readable."""

import numpy as np
import pytest
from scipy import ndimage

from mnist_core.datasets import drawn
from mnist_core.imaging.preprocess import bounding_box


@pytest.fixture(scope="module")
def hand():
    return drawn.hand_set()


def assert_mnist_form(images):
    """Non-empty, centre of mass within half a pixel of (14, 14), except where centring would
    push the digit out of the field: then it touches the edge on the side it would leave by."""
    assert images.ndim == 3 and images.shape[1:] == (28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    clamped = 0
    for image in images:
        assert image.max() == pytest.approx(1.0)  # none empty
        off = np.array(ndimage.center_of_mass(image)) - 14
        if np.abs(off).max() > 0.5 + 1e-6:
            clamped += 1
            top, left, bottom, right = bounding_box(image)
            for axis, low, high in ((0, top, bottom), (1, left, right)):
                if off[axis] < -0.5:  # would move down / right, but already touches that edge
                    assert high == 28
                elif off[axis] > 0.5:
                    assert low == 0
    assert clamped <= max(2, len(images) // 50)  # rare


def test_hand_styles_are_in_the_unit_box():
    assert sorted(drawn.HAND) == list(range(10))
    for digit, styles in drawn.HAND.items():
        assert len(styles) >= 2, digit
        for style in styles:
            for stroke in style:
                assert stroke.ndim == 2 and stroke.shape[1] == 2 and len(stroke) >= 2
                assert stroke.min() >= -0.05 and stroke.max() <= 1.05, digit


def test_hand_set_has_every_digit_in_every_style_size_and_width(hand):
    images, labels = hand
    per_style = len(drawn.HEIGHTS) * len(drawn.WIDTHS)
    assert labels.dtype == np.uint8 and len(images) == len(labels)
    assert np.bincount(labels, minlength=10).tolist() == [len(drawn.HAND[d]) * per_style for d in range(10)]
    assert len(images) == 261
    assert_mnist_form(images)


def test_hand_set_is_seeded(hand):
    images, labels = hand
    again, again_labels = drawn.hand_set()
    np.testing.assert_array_equal(again, images)
    np.testing.assert_array_equal(again_labels, labels)
    other, _ = drawn.hand_set(seed=1)
    assert np.abs(other - images).mean() > 0.01


def test_hand_set_digits_look_like_their_class(hand, mnist):
    """Each hand-drawn digit is closer to the mean MNIST image of its own class than to most
    others (a check of the stroke paths that needs no model)."""
    images, labels = hand
    x, y = mnist.x_train[:20000] / 255, mnist.y_train[:20000]
    means = np.stack([x[y == d].mean(axis=0) for d in range(10)]).reshape(10, -1)
    means -= means.mean(axis=1, keepdims=True)
    flat = images.reshape(len(images), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    scores = (flat @ means.T) / np.linalg.norm(flat, axis=1)[:, None] / np.linalg.norm(means, axis=1)
    rank = (scores > scores[np.arange(len(labels)), labels][:, None]).sum(axis=1)  # 0 = own class closest
    assert np.mean(rank <= 2) > 0.8


def test_redrawn_set_shape_labels_and_determinism(mnist):
    images, labels = drawn.redrawn_set(mnist.x_test[:50], mnist.y_test[:50])
    np.testing.assert_array_equal(labels, mnist.y_test[:50])
    assert_mnist_form(images)
    again, _ = drawn.redrawn_set(mnist.x_test[:50], mnist.y_test[:50])
    np.testing.assert_array_equal(again, images)
    # redrawn, not copied: the strokes differ from MNIST's, the digit does not
    original = mnist.x_test[:50] / 255
    correlation = np.array([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(images, original)])
    assert np.abs(images - original).mean() > 0.02
    assert np.median(correlation) > 0.6


def test_the_committed_lenet5_reads_redrawn_test_digits(committed, mnist):
    clf = committed("lenet5")
    images, labels = drawn.redrawn_set(mnist.x_test[2000:2300], mnist.y_test[2000:2300])
    accuracy = (clf.classify_batch(images).argmax(axis=1) == labels).mean()
    assert accuracy >= 0.95


def test_the_committed_models_read_the_hand_set(committed, hand):
    images, labels = hand
    for name, minimum in (("lenet5", 0.93), ("mlp", 0.9)):  # both 0.966 when committed
        accuracy = (committed(name).classify_batch(images).argmax(axis=1) == labels).mean()
        assert accuracy >= minimum, name
