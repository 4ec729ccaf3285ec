"""The committed models on people they never saw: each population of real drawings (pendigits'
30 writers, UJI's 60) read by the committed fold model that held it out whole
(`models/crossval/fold<k>/`), MNIST's test writers and the kinds of negatives no
model trained on, read by the committed model itself. What the cards report is what the models
do, within a point; the "not a digit" rule refuses at most 0.5 % of real digits."""

import numpy as np
import pytest

from mnist_core.datasets.negatives import HAND_LETTERS, HELDOUT_KINDS, TRAIN_KINDS
from mnist_core.datasets.pendigits import load_populations, render
from mnist_core.evaluation import strangers
from mnist_core.evaluation.strangers import fold_dir, fold_readings
from mnist_core.reading.classifier import MODELS_DIR, Classifier

NAMES = ("mlp", "lenet5")


@pytest.fixture(scope="session")
def populations(pendigits):  # conftest's fixture: fails in CI, skips elsewhere, without the data
    return load_populations()


@pytest.fixture(scope="session")
def readings(committed, mnist, populations):
    """{model: the readings `strangers.cross_population` takes}, computed afresh."""
    out = {}
    for name in NAMES:
        out[name] = {**strangers.read(committed(name).fast, strangers.heldout_sets("", mnist)),
                     **fold_readings(name, MODELS_DIR, populations)}
    return out


@pytest.mark.parametrize("name", NAMES)
def test_each_fold_model_never_trained_on_the_population_it_is_scored_on(committed, name):
    card = committed(name).card
    assert card["strangers"]["trained_on_populations"] == ["mnist", *strangers.FOLDS]
    for population in strangers.FOLDS:
        fold = Classifier.load(name, fold_dir(MODELS_DIR, population)).card
        assert fold["config"]["holdout"] == population
        assert population not in fold["strangers"]["trained_on_populations"]
        assert {k: v for k, v in fold["config"].items() if k != "holdout"} == \
               {k: v for k, v in card["config"].items() if k != "holdout"}  # the same recipe as the committed model


@pytest.mark.parametrize("name", NAMES)
def test_cross_population_figures_are_what_the_card_reports(committed, readings, name):
    reported = committed(name).card["strangers"]["cross_population"]
    measured = strangers.cross_population(readings[name])
    for population in (*strangers.FOLDS, "mnist_test"):
        got, card = measured[population], reported[population]
        assert got["count"] == card["count"]
        for key in ("accuracy", "sure_accuracy"):
            assert got[key] >= card[key] - 0.01, (population, key, got[key], card[key])
        for key in ("asked", "refused"):
            assert got[key] <= card[key] + 0.01, (population, key, got[key], card[key])
    for kind in HELDOUT_KINDS:
        assert measured["negatives_refused"][kind] >= reported["negatives_refused"][kind] - 0.01


@pytest.mark.parametrize("name", NAMES)
def test_real_digits_are_almost_never_refused(readings, name):
    measured = strangers.cross_population(readings[name])
    for population in (*strangers.FOLDS, "mnist_test"):
        assert measured[population]["refused"] <= 0.005, (population, measured[population]["refused"])


@pytest.mark.parametrize("name", NAMES)
def test_the_rules_are_stored_and_applied(committed, mnist, name):
    clf = committed(name)
    calibration = clf.card["calibration"]
    assert clf.temperature == calibration["temperature"]
    assert 0 < clf.not_digit_below <= clf.unsure_below < 1
    raw, calibrated = clf.fast(mnist.x_test[:200] / np.float32(255)), clf.classify_batch(mnist.x_test[:200])
    np.testing.assert_array_equal(raw.argmax(axis=1), calibrated.argmax(axis=1))


def _canvas(strokes, width=18.0) -> np.ndarray:
    """Strokes in a unit box drawn 180 px tall on the black 280x280 canvas: (280, 280, 3) uint8."""
    from mnist_core.pen.strokes import render_strokes

    ink = render_strokes([np.asarray(s) * 180 + 50 for s in strokes], (280, 280), width)
    return np.repeat(np.round(ink * 255).astype(np.uint8)[..., None], 3, axis=2)


@pytest.mark.parametrize("name", NAMES)
def test_a_tap_is_not_a_digit(committed, name):
    tap = _canvas([np.array([[0.5, 0.5]])], width=18)
    result = committed(name).classify(tap, background=0.0)
    assert result.label is None and result.not_digit, result.probabilities
    assert result.reason == f"That doesn't look like a digit; the nearest would be a {result.nearest}."
    assert result.probabilities.sum() == pytest.approx(1, abs=1e-4)  # the ten chances are still there


def test_most_letters_are_not_digits(committed):
    """The letters as a person writes them are a kind no model trained on (fonts' glyphs only)."""
    assert "hand_letters" in HELDOUT_KINDS and "hand_letters" not in TRAIN_KINDS
    clf = committed("lenet5")
    refused = [clf.classify(_canvas(strokes), background=0.0).not_digit for strokes in HAND_LETTERS.values()]
    assert np.mean(refused) >= 0.6, dict(zip(HAND_LETTERS, refused))


def test_a_close_call_is_marked_unsure(populations):
    """The fold model that held UJI out, on UJI's writers: its rules as `Result` applies them."""
    clf = Classifier.load("lenet5", fold_dir(MODELS_DIR, "uji"))
    uji = populations["uji"]
    results = [clf.classify(image) for image in render(uji.trajectories[:300], seed=1)]
    for r in results:
        assert r.not_digit == (r.confidence < clf.not_digit_below)
        assert r.unsure == (not r.not_digit and r.confidence < clf.unsure_below)
        assert r.runner_up is None if r.label is None else r.runner_up != r.label
    sure = [(r, y) for r, y in zip(results, uji.labels[:300]) if r.label is not None and not r.unsure]
    assert np.mean([r.label == y for r, y in sure]) >= 0.98
