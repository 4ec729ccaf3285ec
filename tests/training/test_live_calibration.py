"""mnist_core.training.live_calibration: a model trained in the app gets the committed models' reading rules,
fitted on drawings it never saw (made-up readings here; the real ones in test_live)."""

import numpy as np
import pytest

from mnist_core.evaluation import strangers
from mnist_core.training import live_calibration


def _readings(n, right_share, seed):
    """(images, labels, writers, probabilities): `images[i, 0, 0]` is i, so a fake reader can look
    its over-confident softmax row up; right for a share `right_share`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    chosen = np.where(rng.random(n) < right_share, labels, (labels + 1) % 10)
    top = rng.uniform(0.6, 1.0, n)
    p = np.full((n, 10), 0.0, np.float32)
    p[np.arange(n), chosen] = top
    p[np.arange(n), (chosen + 3) % 10] = 1 - top
    images = np.zeros((n, 28, 28), np.float32)
    images[:, 0, 0] = np.arange(n)
    return images, labels.astype(np.uint8), rng.integers(1, 11, n).astype(np.int64), p


def _reader(*parts):
    """A fake `fast`: each part's images (numbered from an offset) -> its probabilities."""
    table, offset = [], 0
    for images, *_, p in parts:
        images[:, 0, 0] += offset
        table.append(p)
        offset += len(p)
    table = np.concatenate(table)
    return lambda images: table[images[:, 0, 0].astype(int)]


def test_the_rules_are_the_committed_models_on_real_drawings_with_mnist_not_refused(monkeypatch):
    pen, uji, mnist = _readings(900, 0.8, 0), _readings(300, 0.7, 1), _readings(500, 0.98, 2)
    fast = _reader(pen, uji, mnist)
    monkeypatch.setattr(live_calibration, "real_drawings", lambda: {"pendigits": pen[:3], "uji": uji[:3]})
    entry = live_calibration.calibrate(fast, mnist[0], mnist[1])
    expected = strangers.calibration_entry({"pendigits": (pen[3], pen[1], pen[2]), "uji": (uji[3], uji[1], uji[2])},
                                           {"mnist_validation": (mnist[3], mnist[1])}, entry["fitted_on"])
    assert entry == expected
    assert entry["temperature"] > 1  # over-confident on the drawings: softened
    assert "900 pendigits, 300 uji" in entry["fitted_on"] and "500 MNIST validation" in entry["fitted_on"]
    # MNIST alone would give other rules: the real drawings count
    alone = strangers.rules({"mnist_validation": (mnist[3], mnist[1])})
    assert alone["unsure_below"] != entry["unsure_below"]


def test_without_pen_drawings_the_rules_come_from_the_mnist_images_held_out(monkeypatch):
    mnist = _readings(600, 0.9, 3)
    fast = _reader(mnist)
    monkeypatch.setattr(live_calibration, "real_drawings", lambda: {})
    entry = live_calibration.calibrate(fast, mnist[0], mnist[1])
    fitted = strangers.rules({"mnist_validation": (mnist[3], mnist[1])})
    assert {k: entry[k] for k in strangers.CALIBRATION_RULES} == fitted
    assert "no real drawings" in entry["fitted_on"]


def test_a_balanced_subset_takes_as_many_from_each_writer():
    writers = np.repeat([1, 2, 3], [50, 20, 30])
    index = live_calibration.balanced_subset(writers, 30)
    assert np.array_equal(index, np.unique(index))
    assert [int((writers[index] == w).sum()) for w in (1, 2, 3)] == [10, 10, 10]
    assert np.array_equal(live_calibration.balanced_subset(writers, 500), np.arange(100))


def test_the_real_drawings_are_rendered_once_balanced_and_read_only(pendigits):
    drawings = live_calibration.real_drawings()
    assert live_calibration.real_drawings() is drawings  # cached for the process
    images, labels, writers = drawings["pendigits"]
    assert images.shape == (live_calibration.PER_POPULATION, 28, 28) and images.dtype == np.float32
    assert len(np.unique(writers)) == 30 and len(set(np.bincount(writers)[1:].tolist())) == 1
    assert set(labels.tolist()) == set(range(10))
    with pytest.raises(ValueError):
        images[0, 0, 0] = 1
