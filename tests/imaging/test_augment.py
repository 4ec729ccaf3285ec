"""mnist_core.imaging.augment on real MNIST digits: exact shifts, seeded distortions, thickness, noise."""

import numpy as np
import pytest

from mnist_core.imaging import augment


@pytest.fixture(scope="module")
def digits(mnist):
    """64 test digits as (64, 28, 28) float32 in [0, 1], and their labels."""
    return mnist.x_test[:64].astype(np.float32) / 255, np.array(mnist.y_test[:64])


def test_shift8_shapes_labels_and_exact_one_pixel_shifts(mnist):
    images, labels = np.array(mnist.x_test[:50]), np.array(mnist.y_test[:50])
    out, out_labels = augment.shift8(images, labels)
    assert out.shape == (450, 28, 28) and out.dtype == np.uint8
    np.testing.assert_array_equal(out_labels, np.tile(labels, 9))
    np.testing.assert_array_equal(out[:50], images)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # zeros come in from the edge
    for k, (dr, dc) in enumerate(augment.SHIFTS8, start=1):
        block = out[50 * k : 50 * (k + 1)]
        expected = padded[:, 1 - dr : 29 - dr, 1 - dc : 29 - dc]  # out[r, c] = image[r - dr, c - dc]
        np.testing.assert_array_equal(block, expected, err_msg=f"shift {(dr, dc)}")
    assert sorted(augment.SHIFTS8) == sorted((r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if (r, c) != (0, 0))


def test_shift8_moves_the_centre_of_mass_by_one_pixel(mnist):
    image = np.array(mnist.x_test[:1], np.float32)  # a 7 well inside the field: nothing falls off
    out, _ = augment.shift8(image, np.zeros(1))

    def com(a):
        rows, cols = np.indices(a.shape)
        return np.array([(rows * a).sum(), (cols * a).sum()]) / a.sum()

    for k, shift in enumerate(augment.SHIFTS8, start=1):
        np.testing.assert_allclose(com(out[k]) - com(out[0]), shift, atol=1e-9)


@pytest.mark.parametrize("name", ["random_affine", "elastic", "distort"])
def test_distortions_are_seeded_and_keep_shape_and_range(digits, name):
    images, _ = digits
    function = getattr(augment, name)
    first = function(images, np.random.default_rng(7))
    again = function(images, np.random.default_rng(7))
    other = function(images, np.random.default_rng(8))
    assert first.shape == images.shape and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 1
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 0.01
    assert np.abs(first - images).mean() > 0.01  # it did something
    # ink is moved, not made or lost: on average the same amount, no digit loses half of it
    ratio = first.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert 0.95 < ratio.mean() < 1.05 and 0.5 < ratio.min() and ratio.max() < 2


def test_zero_parameters_are_the_identity(digits):
    images, _ = digits
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(augment.random_affine(images, rng, 0, 0, 0, 0), images, atol=1e-5)
    np.testing.assert_allclose(augment.elastic(images, rng, alpha=0), images, atol=1e-5)
    np.testing.assert_allclose(augment.distort(images, rng, 0, 0, 0, 0, alpha=0), images, atol=1e-5)
    np.testing.assert_array_equal(augment.thickness(images, 0), images)
    np.testing.assert_allclose(augment.noise(images, rng, sigma=0), images)


def test_affine_coordinates_shift_and_rotate_exactly(digits):
    images, _ = digits
    n = len(images)
    zero, one = np.zeros(n), np.ones(n)
    rows, cols = augment.affine_coordinates(zero, one, zero, np.tile([2.0, -3.0], (n, 1)))
    shifted = augment._warp(images, rows, cols)
    expected = np.zeros_like(images)
    expected[:, 2:, :-3] = images[:, :-2, 3:]  # down 2, left 3
    np.testing.assert_allclose(shifted, expected, atol=1e-5)
    # a quarter turn is np.rot90 (a turn by +90 degrees, clockwise on screen)
    rows, cols = augment.affine_coordinates(np.full(n, np.pi / 2), one, zero, np.zeros((n, 2)))
    np.testing.assert_allclose(augment._warp(images, rows, cols), np.rot90(images, k=-1, axes=(1, 2)), atol=1e-4)


def test_thickness_adds_and_removes_ink(digits):
    images, _ = digits
    ink = images.sum(axis=(1, 2))
    thicker, thinner = augment.thickness(images, 1), augment.thickness(images, -1)
    assert (thicker.sum(axis=(1, 2)) > ink).all() and (thinner.sum(axis=(1, 2)) < ink).all()
    assert (thicker >= images).all() and (thinner <= images).all()  # dilation / erosion
    assert (augment.thickness(images, 2).sum(axis=(1, 2)) > thicker.sum(axis=(1, 2))).all()
    steps = np.array([-1, 0, 1, 2] * 16)
    mixed = augment.thickness(images, steps)
    for step in (-1, 0, 1, 2):
        chosen = steps == step
        np.testing.assert_array_equal(mixed[chosen], augment.thickness(images[chosen], step))


def test_noise_has_the_asked_standard_deviation():
    grey = np.full((200, 28, 28), 0.5, np.float32)
    rng = np.random.default_rng(3)
    for sigma in (0.05, 0.1):
        noisy = augment.noise(grey, rng, sigma)
        assert noisy.dtype == np.float32 and noisy.shape == grey.shape
        assert (noisy - grey).std() == pytest.approx(sigma, rel=0.02)
        assert abs((noisy - grey).mean()) < 0.002
    clipped = augment.noise(np.zeros((10, 28, 28), np.float32), rng, 0.5)
    assert clipped.min() == 0 and clipped.max() <= 1


def test_augmentations_do_not_change_their_input(digits):
    images, labels = digits
    before = images.copy()
    rng = np.random.default_rng(1)
    augment.distort(images, rng)
    augment.thickness(images, 1)
    augment.noise(images, rng)
    augment.shift8(images, labels)
    np.testing.assert_array_equal(images, before)
