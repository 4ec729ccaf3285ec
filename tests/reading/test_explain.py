"""mnist_core.reading.explain: saliency contrast, receptive fields, the kernels behind a map."""

import numpy as np
import pytest

from core_helpers import drawing
from mnist_core.networks.models import connection_matrix
from mnist_core.reading.classifier import Classifier
from mnist_core.reading.explain import contrast, map_kernels, receptive_field, receptive_fields, smoothgrad


@pytest.fixture(scope="module")
def lenet5():
    return Classifier.load("lenet5")


@pytest.fixture(scope="module")
def mlp():
    return Classifier.load("mlp")


@pytest.mark.parametrize("name", ["lenet5", "mlp"])
def test_contrast_is_the_gradient_of_the_logit_difference(request, name):
    classifier = request.getfixturevalue(name)
    result = classifier.classify(drawing(7), 0.0)
    other = result.runner_up
    c = contrast(classifier, result.input28, result.label, other)
    assert (c.label, c.other) == (7, other)
    assert c.difference.shape == (28, 28) and c.difference.dtype == np.float32
    assert np.allclose(c.label_map, classifier.saliency(result.input28, 7))
    assert np.allclose(c.difference, c.label_map - c.other_map)
    assert not np.allclose(c.label_map, c.other_map)
    # the difference predicts how the logit margin moves: nudge the input along it
    logits = classifier.model.get_layer("output")
    features = classifier.activations
    def margin(x):
        hidden = features(x)["F6" if name == "lenet5" else "hidden2"]
        z = hidden @ logits.kernel.numpy() + logits.bias.numpy()
        return z[7] - z[other]
    step = 1e-3 * c.difference / np.abs(c.difference).max()
    assert margin(result.input28 + step) > margin(result.input28) > margin(result.input28 - step)


def test_contrast_refuses_bad_digits(lenet5):
    x = np.zeros((28, 28), np.float32)
    for label, other in ((3, 3), (3, 10), (-1, 2)):
        with pytest.raises(ValueError):
            contrast(lenet5, x, label, other)


def test_receptive_fields_of_lenet5(lenet5):
    model = lenet5.model
    assert receptive_field(model, "C1", 10, 10) == (8, 8, 13, 13)  # 5x5 around it ('same' by padding)
    assert receptive_field(model, "C1", 0, 0) == (0, 0, 3, 3)  # clipped at the border
    assert receptive_field(model, "S2", 5, 5) == (8, 8, 14, 14)  # 6x6
    assert receptive_field(model, "C3", 4, 6) == (6, 10, 20, 24)  # 14x14
    assert receptive_field(model, "S4", 2, 2) == (6, 6, 22, 22)  # 16x16
    assert receptive_field(model, "C5", 0, 0) == (0, 0, 28, 28)
    assert receptive_field(model, "F6", 0, 0) == (0, 0, 28, 28)
    with pytest.raises(ValueError, match="no layer"):
        receptive_field(model, "C7", 0, 0)
    every = receptive_fields(model, "C3", 10, 10)
    assert every.shape == (10, 10, 4)
    assert all(tuple(every[r, c]) == receptive_field(model, "C3", r, c) for r in range(10) for c in range(10))


def test_receptive_field_is_where_the_unit_looks(lenet5):
    """Ink outside a C3 unit's field leaves it unchanged; ink inside changes it."""
    top, left, bottom, right = receptive_field(lenet5.model, "C3", 4, 4)
    rng = np.random.default_rng(2)  # noise that this unit responds to (seeds 0 and 1 leave it at 0)
    x = rng.random((28, 28)).astype(np.float32)
    y = x.copy()
    mask = np.ones((28, 28), bool)
    mask[top:bottom, left:right] = False
    y[mask] = rng.random(mask.sum())
    assert np.allclose(lenet5.activations(x)["C3"][4, 4], lenet5.activations(y)["C3"][4, 4], atol=1e-5)
    y = x.copy()
    y[top:bottom, left:right] = 1 - y[top:bottom, left:right]
    assert not np.allclose(lenet5.activations(x)["C3"][4, 4], lenet5.activations(y)["C3"][4, 4], atol=1e-3)


def test_receptive_field_of_the_mlp_is_the_whole_input(mlp):
    assert receptive_field(mlp.model, "hidden1", 0, 3) == (0, 0, 28, 28)


def test_map_kernels(lenet5):
    conv, inputs, kernels = map_kernels(lenet5, "C1", 2)
    assert conv == "C1" and list(inputs) == [0] and kernels.shape == (5, 5, 1)
    assert np.array_equal(kernels[:, :, 0], lenet5.kernels("C1")[:, :, 0, 2])
    assert map_kernels(lenet5, "S2", 2)[0] == "C1"
    for j in (0, 6, 15):
        conv, inputs, kernels = map_kernels(lenet5, "S4", j)
        assert conv == "C3" and list(inputs) == list(np.flatnonzero(connection_matrix()[:, j]))
        assert kernels.shape == (5, 5, len(inputs))
        assert np.abs(kernels).reshape(-1, len(inputs)).max(axis=0).min() > 0
    with pytest.raises(ValueError):
        map_kernels(lenet5, "C5", 0)
    with pytest.raises(ValueError):
        map_kernels(lenet5, "C3", 16)


@pytest.mark.parametrize("name", ["lenet5", "mlp"])
def test_smoothgrad_is_the_mean_gradient_over_noisy_copies(request, name):
    classifier = request.getfixturevalue(name)
    result = classifier.classify(drawing(7), 0.0)
    image = result.input28
    smooth = smoothgrad(classifier, image, result.label, copies=8, sigma=0.15, seed=3)
    assert smooth.shape == (28, 28) and smooth.dtype == np.float32
    # the batched call gives each copy's own gradient: the same as one saliency call per copy
    noise = np.random.default_rng(3).normal(0.0, 1.0, (8, 28, 28)).astype(np.float32) * 0.15 * float(np.ptp(image))
    one_by_one = np.mean([classifier.saliency(image + n, result.label) for n in noise], axis=0)
    np.testing.assert_allclose(smooth, one_by_one, atol=1e-5 * np.abs(one_by_one).max())
    assert np.array_equal(smoothgrad(classifier, image, result.label, copies=8, seed=3), smooth)  # deterministic
    with pytest.raises(ValueError):
        smoothgrad(classifier, image, 10)


def test_smoothgrad_does_not_change_with_noise_too_faint_to_see(lenet5):
    """A single gradient's pixel pattern is noise: it changes when the input barely does. The
    SmoothGrad map stays, and still explains the same digit as the gradient."""
    result = lenet5.classify(drawing(7), 0.0)
    x, label = result.input28, result.label
    faint = np.random.default_rng(5).normal(0, 0.05, (28, 28)).astype(np.float32)

    def correlation(a, b):
        return np.corrcoef(a.ravel(), b.ravel())[0, 1]

    plain = correlation(lenet5.saliency(x, label), lenet5.saliency(x + faint, label))
    smooth = correlation(smoothgrad(lenet5, x, label), smoothgrad(lenet5, x + faint, label, seed=1))
    assert smooth > 0.8 and smooth > plain + 0.2
    assert correlation(smoothgrad(lenet5, x, label), lenet5.saliency(x, label)) > 0.3
