"""mnist_core.reading.calibration: temperature scaling, reliability, ECE and the unsure threshold, on
synthetic predictions whose true calibration is known."""

import numpy as np
import pytest
from scipy.special import softmax

from mnist_core.reading import calibration


def synthetic(n=20_000, temperature=1.0, seed=0):
    """Labels drawn from softmax(logits): perfectly calibrated at T = 1. The model's reported
    probabilities are softmax(logits * temperature), i.e. over-confident for temperature > 1."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, 10))
    labels = np.array([rng.choice(10, p=p) for p in softmax(logits, axis=1)])
    return softmax(logits * temperature, axis=1).astype(np.float32), labels


def test_a_calibrated_model_has_a_small_ece_and_temperature_one():
    probabilities, labels = synthetic()
    assert calibration.expected_calibration_error(probabilities, labels) < 0.02
    assert calibration.fit_temperature(probabilities, labels) == pytest.approx(1.0, abs=0.05)


def test_temperature_scaling_undoes_over_confidence():
    probabilities, labels = synthetic(temperature=2.5)
    before = calibration.expected_calibration_error(probabilities, labels)
    t = calibration.fit_temperature(probabilities, labels)
    assert t == pytest.approx(2.5, rel=0.08)
    calibrated = calibration.apply_temperature(probabilities, t)
    assert calibration.expected_calibration_error(calibrated, labels) < before / 4
    np.testing.assert_array_equal(calibrated.argmax(axis=1), probabilities.argmax(axis=1))  # no answer changes
    np.testing.assert_allclose(calibrated.sum(axis=1), 1, atol=1e-5)


def test_reliability_table_counts_every_image_once():
    probabilities, labels = synthetic(n=2_000)
    table = calibration.reliability(probabilities, labels, bins=10)
    assert sum(table["count"]) == 2_000 and len(table["edges"]) == 11
    for confidence, accuracy, count in zip(table["confidence"], table["accuracy"], table["count"]):
        assert (confidence is None) == (count == 0)


def test_unsure_threshold_meets_its_precision():
    probabilities, labels = synthetic(temperature=1.5)
    threshold = calibration.unsure_threshold(probabilities, labels, precision=0.98)
    sure = probabilities.max(axis=1) >= threshold
    assert (probabilities.argmax(axis=1)[sure] == labels[sure]).mean() >= 0.98
    assert 0.05 < sure.mean() < 0.95  # neither trivial answer
    # a lower threshold would let in answers that break the precision
    lower = probabilities.max(axis=1) >= threshold - 0.05
    assert (probabilities.argmax(axis=1)[lower] == labels[lower]).mean() < 0.98


def test_summary_is_cross_fitted_by_writer():
    probabilities, labels = synthetic(n=4_000, temperature=2.0)
    writers = np.repeat(np.arange(8), 500)
    figures = calibration.summary(probabilities, labels, writers)
    assert figures["ece_after_cross_fitted"] < figures["ece_before"] / 3
    assert figures["temperature"] == pytest.approx(2.0, rel=0.1)
    assert figures["sure_accuracy"] >= calibration.TARGET_PRECISION
