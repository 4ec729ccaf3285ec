"""mnist_core.datasets.stats against values computed independently on the real data (and on small
synthetic images where the right answer is known by construction)."""

import numpy as np
import pytest

from mnist_core.datasets import stats

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # the published MNIST counts


@pytest.fixture(scope="module")
def train_stats(mnist):
    return stats.summarize(mnist.x_train, mnist.y_train)


def test_label_counts_are_the_published_ones(mnist, train_stats):
    assert stats.class_counts(mnist.y_train).tolist() == TRAIN_COUNTS
    assert train_stats.counts.tolist() == TRAIN_COUNTS
    assert train_stats.count == 60000
    test_counts = stats.class_counts(mnist.y_test)
    assert test_counts.sum() == 10000
    assert test_counts.tolist() == np.unique(mnist.y_test, return_counts=True)[1].tolist()


def test_pixel_mean_and_std_are_the_familiar_normalisation(mnist, train_stats):
    assert round(train_stats.pixel_mean, 4) == 0.1307
    assert round(train_stats.pixel_std, 4) == 0.3081
    direct = mnist.x_train[:20000].astype(np.float64) / 255  # an independent direct computation on a third
    mean, std = stats.pixel_mean_std(mnist.x_train[:20000])
    assert mean == pytest.approx(direct.mean(), abs=1e-12)
    assert std == pytest.approx(direct.std(), abs=1e-12)


def test_intensity_histogram_counts_every_pixel(mnist, train_stats):
    h = train_stats.histogram
    assert h.shape == (256,) and h.sum() == 60000 * 784
    values, counts = np.unique(mnist.x_train[:5000], return_counts=True)
    small = stats.intensity_histogram(mnist.x_train[:5000])
    assert small[values].tolist() == counts.tolist()
    assert small.sum() == counts.sum()
    assert h[0] / h.sum() == pytest.approx(0.809, abs=0.002)  # about 81% of MNIST's pixels are background


def test_mean_and_std_image_of_each_digit_equal_a_direct_numpy_computation(mnist, train_stats):
    assert train_stats.mean_images.shape == (10, 28, 28) and train_stats.mean_images.dtype == np.float32
    for digit in (0, 1, 7):
        chosen = mnist.x_train[mnist.y_train == digit].astype(np.float64) / 255
        np.testing.assert_allclose(train_stats.mean_images[digit], chosen.mean(axis=0), atol=1e-6)
        np.testing.assert_allclose(train_stats.std_images[digit], chosen.std(axis=0), atol=1e-6)
    # a "1" is a thin vertical stroke: its mean image is brightest in the middle column, dark at the sides
    one = train_stats.mean_images[1]
    assert one[:, 13:15].mean() > 5 * one[:, :5].mean()


def test_mean_images_of_an_absent_digit_are_zero():
    images = np.full((3, 28, 28), 255, np.uint8)
    mean, std = stats.mean_images(images, np.array([2, 2, 5]))
    assert mean[2].min() == 1.0 and std[2].max() == 0.0
    assert not mean[0].any() and not std[0].any()


def test_ink_stats_against_independent_computations(mnist):
    rng = np.random.default_rng(1)
    index = rng.choice(60000, 200, replace=False)
    images = mnist.x_train[index]
    ink = stats.ink_stats(images)
    from skimage.measure import moments_central

    for k, image in enumerate(images):
        assert ink["ink_pixels"][k] == np.count_nonzero(image >= 128)
        rows, cols = np.nonzero(image)
        assert ink["height"][k] == rows.max() - rows.min() + 1
        assert ink["width"][k] == cols.max() - cols.min() + 1
        mu = moments_central(image.astype(np.float64), order=2)  # mu[i, j]: i-th order in rows, j-th in columns
        expected = np.degrees(np.arctan(-mu[1, 1] / mu[2, 0]))
        assert ink["slant"][k] == pytest.approx(expected, abs=1e-6)


def test_ink_stats_of_the_training_set_are_plausible(train_stats):
    summary = train_stats.ink_summary
    assert summary["height"]["median"].tolist() == [20.0] * 10  # fitted in a 20x20 box, most digits upright
    assert summary["width"]["mean"].argmin() == 1  # 1 is the narrowest digit
    assert summary["ink_pixels"]["mean"].argmin() == 1  # and has the least ink
    assert summary["ink_pixels"]["mean"].argmax() == 0  # 0 the most
    assert np.all(np.abs(summary["slant"]["mean"]) < 20)


def test_slant_sign_and_size_on_a_sheared_bar():
    image = np.zeros((1, 28, 28), np.uint8)
    for r in range(4, 24):  # a bar whose top is to the right: column = 14 + (14 - r) * 0.25
        image[0, r, int(round(14 + (14 - r) * 0.25))] = 255
    slant = stats.ink_stats(image)["slant"][0]
    assert slant == pytest.approx(np.degrees(np.arctan(0.25)), abs=1.5)
    assert stats.ink_stats(image[:, :, ::-1])["slant"][0] == pytest.approx(-slant)  # mirrored: leans left


def test_ink_stats_of_an_empty_image_are_zero():
    ink = stats.ink_stats(np.zeros((2, 28, 28), np.uint8))
    assert [ink[k].tolist() for k in ("ink_pixels", "height", "width", "slant")] == [[0, 0]] * 4


def test_box_summary_matches_numpy_percentiles():
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000)
    values[0] = 50.0  # an outlier beyond the upper fence
    labels = rng.integers(0, 9, 1000)  # digit 9 absent
    s = stats.box_summary(values, labels)
    v = values[labels == 3]
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    assert (s["q1"][3], s["median"][3], s["q3"][3], s["mean"][3]) == pytest.approx((q1, med, q3, v.mean()))
    assert s["upper"][labels[0]] < 50.0
    assert np.isnan(s["median"][9])


def test_splits_and_sampling(mnist):
    x, y = stats.split_arrays(mnist, "all")
    assert x.shape == (70000, 28, 28) and y.shape == (70000,)
    assert stats.summarize(mnist.x_test, mnist.y_test).counts.sum() == 10000
    with pytest.raises(ValueError):
        stats.split_arrays(mnist, "validation")
    chosen = stats.sample_indices(mnist.y_test, 4, 50, seed=3)
    assert len(chosen) == 50 == len(set(chosen.tolist()))
    assert np.all(mnist.y_test[chosen] == 4)
    assert chosen.tolist() == stats.sample_indices(mnist.y_test, 4, 50, seed=3).tolist()
    assert chosen.tolist() != stats.sample_indices(mnist.y_test, 4, 50, seed=4).tolist()
