"""The committed models on real pen drawings of writers they never trained on (pendigits), and
their calibration: what the cards report is what the models do, within a point."""


import numpy as np
import pytest

from mnist_core.evaluate import writer_metrics
from mnist_core.pendigits import heldout_drawings, split_writers

NAMES = ("mlp", "lenet5")


@pytest.fixture(scope="session")
def pen(pendigits):
    return pendigits  # conftest.py: loaded once per session


def test_the_split_holds_whole_writers_out(pen):
    train, heldout = split_writers(pen.writers)
    assert not set(pen.writers[train]) & set(pen.writers[heldout])
    assert len(set(pen.writers[heldout])) == 10 and len(train) + len(heldout) == len(pen)


@pytest.fixture(scope="module")
def heldout_set(pen, committed):
    """The real-drawing test set of the writers the committed models held out (the same for both)."""
    writers = committed("lenet5").card["real"]["heldout_writers"]
    assert writers == committed("mlp").card["real"]["heldout_writers"]
    return heldout_drawings(pen, writers)


@pytest.mark.parametrize("name", NAMES)
def test_never_scored_on_a_writer_it_trained_on(committed, name):
    real = committed(name).card["real"]
    assert real["heldout_writers"] and not set(real["heldout_writers"]) & set(real["trained_on_writers"])
    assert len(real["heldout_writers"]) + len(real["trained_on_writers"]) == 30


@pytest.mark.parametrize("name", NAMES)
def test_real_drawing_accuracy_is_what_the_card_reports(committed, heldout_set, name):
    clf = committed(name)
    images, labels, writers = heldout_set
    figures = writer_metrics(clf.classify_batch(images), labels, writers)
    reported = clf.card["real"]
    assert figures["count"] == reported["count"] > 2000
    assert figures["accuracy"] >= reported["accuracy"] - 0.01, (figures["accuracy"], reported["accuracy"])
    assert figures["worst_writer_accuracy"] >= reported["worst_writer_accuracy"] - 0.03


@pytest.mark.parametrize("name", NAMES)
def test_calibration_is_stored_and_applied(committed, heldout_set, name):
    clf = committed(name)
    calibration = clf.card["calibration"]
    assert calibration["ece_after_cross_fitted"] < calibration["ece_before"]
    assert clf.temperature == calibration["temperature"] and 0 < clf.unsure_below < 1
    images, labels, _ = heldout_set
    raw, calibrated = clf.fast(images[:200]), clf.classify_batch(images[:200])
    np.testing.assert_array_equal(raw.argmax(axis=1), calibrated.argmax(axis=1))
    if clf.temperature > 1:  # a calibrated over-confident model claims less certainty
        assert calibrated.max(axis=1).mean() < raw.max(axis=1).mean()


def test_a_close_call_is_marked_unsure(committed, heldout_set):
    clf = committed("lenet5")
    images, labels, _ = heldout_set
    results = [clf.classify(image) for image in images[:400]]
    unsure = [r for r in results if r.unsure]
    assert all(r.confidence < clf.unsure_below for r in unsure)
    assert all(r.runner_up != r.label and r.runner_up is not None for r in results)
    sure = [(r, y) for r, y in zip(results, labels[:400]) if not r.unsure]
    assert np.mean([r.label == y for r, y in sure]) >= 0.98
