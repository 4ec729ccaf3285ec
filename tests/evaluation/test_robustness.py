"""mnist_core.evaluation.robustness: the exact transformations, and curves of a model-like function."""

import numpy as np
import pytest
from scipy import ndimage

from mnist_core.evaluation import robustness
from mnist_core.imaging import augment


def blob() -> np.ndarray:
    """(1, 28, 28) float32: a 6x4 block around the centre."""
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 11:17, 12:16] = 1.0
    return image


@pytest.mark.parametrize("kind, amount", [("shift", 0), ("rotation", 0), ("scale", 1.0), ("thickness", 0)])
def test_the_identity_amount_changes_nothing(kind, amount):
    out = robustness.transform(blob(), kind, amount)
    expected = np.repeat(blob(), 4, axis=0) if kind == "shift" else blob()
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_shift_moves_the_digit_up_down_left_right():
    out = robustness.transform(blob(), "shift", 3)
    assert out.shape == (4, 28, 28)
    centre = np.array(ndimage.center_of_mass(blob()[0]))
    moved = [np.array(ndimage.center_of_mass(image)) - centre for image in out]
    np.testing.assert_allclose(moved, [(-3, 0), (3, 0), (0, -3), (0, 3)], atol=1e-6)


def test_rotation_is_anticlockwise_and_scale_resizes():
    bar = np.zeros((1, 28, 28), np.float32)
    bar[0, 4:10, 13:15] = 1.0  # above the centre
    turned = robustness.transform(bar, "rotation", 90)[0]
    rows, cols = np.nonzero(turned > 0.5)
    assert cols.max() < 13 and abs(rows.mean() - 13.5) < 1  # now left of the centre: anticlockwise
    half = robustness.transform(blob(), "scale", 0.5)[0]
    assert half.sum() == pytest.approx(blob().sum() / 4, rel=0.05)


def test_thickness_is_augment_thickness(mnist):
    images = mnist.x_test[:5].astype(np.float32) / 255
    np.testing.assert_array_equal(robustness.transform(images, "thickness", 2), augment.thickness(images, 2))
    with pytest.raises(ValueError):
        robustness.transform(images, "flip", 1)


def test_curves_of_a_position_sensitive_model():
    calls = []

    def predict(images):
        """Probability of digit 3 falls with the distance of the ink's centre from (13.5, 13.5)."""
        calls.append(len(images))
        probs = np.zeros((len(images), 10), np.float32)
        for i, image in enumerate(images):
            r, c = ndimage.center_of_mass(image)
            probs[i, 3] = np.exp(-np.hypot(r - 13.5, c - 13.5) / 3)
            probs[i, 5] = 1 - probs[i, 3]
        return probs

    curves = robustness.robustness_curves(predict, np.repeat(blob(), 3, axis=0), 3)
    assert set(curves) == set(robustness.TRANSFORMS)
    assert len(calls) == 4  # one batch per transformation
    shift = curves["shift"]
    assert shift.amounts.tolist() == list(range(7))
    assert shift.probability[0] == pytest.approx(1.0)
    assert np.all(np.diff(shift.probability) < 0)  # farther off centre, less sure
    np.testing.assert_allclose(shift.probability, np.exp(-shift.amounts / 3), atol=1e-5)
    assert shift.accuracy.tolist() == [1.0] * 3 + [0.0] * 4  # p(3) > 0.5 up to 2 pixels off
    rotation = curves["rotation"]
    np.testing.assert_allclose(rotation.probability, 1.0, atol=0.02)  # rotating about the centre keeps it there
