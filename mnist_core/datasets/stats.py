"""Statistics of the MNIST images: class counts, pixel mean and spread, mean and standard-deviation
image of each digit, the pixel-intensity histogram and per-image ink statistics.

Pure NumPy on the uint8 arrays `load_mnist` returns; `summarize` computes everything once for a
split, so that the app can cache the result under the data's sha256.

    >>> s = summarize(data.x_train, data.y_train)
    >>> s.counts[:3], round(s.pixel_mean, 4), round(s.pixel_std, 4)
    (array([5923, 6742, 5958]), 0.1307, 0.3081)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INK_LEVEL = 128  # a pixel counts as ink when it is at least half dark (0..255)
INK_COLUMNS = {
    "ink_pixels": "ink pixels (≥ 128)",
    "height": "bounding-box height (px)",
    "width": "bounding-box width (px)",
    "slant": "slant (degrees, + leans right)",
}
_CHUNK = 10_000  # images per block: keeps float copies of the data small


def class_counts(labels: np.ndarray) -> np.ndarray:
    """(N,) integer labels 0..9 -> (10,) int64: how many images of each digit."""
    return np.bincount(np.asarray(labels, np.int64), minlength=10)


def pixel_mean_std(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of all pixels of (N, 28, 28) uint8 images, as pixel/255.

    Exact in float64 (sums of integers), computed from a 256-bin histogram, so no float copy
    of the data is made. The training set gives the familiar 0.1307 and 0.3081.
    """
    return _mean_std_from_histogram(intensity_histogram(images))


def _mean_std_from_histogram(histogram: np.ndarray) -> tuple[float, float]:
    levels = np.arange(256, dtype=np.float64) / 255
    total = histogram.sum()
    mean = float((histogram * levels).sum() / total)
    var = float((histogram * (levels - mean) ** 2).sum() / total)
    return mean, var ** 0.5


def intensity_histogram(images: np.ndarray) -> np.ndarray:
    """(256,) int64: how many pixels of (N, 28, 28) uint8 images have each value 0..255."""
    return np.bincount(np.asarray(images, np.uint8).ravel(), minlength=256)


def mean_images(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean and standard-deviation image of each digit.

    images: (N, 28, 28) uint8; labels: (N,) 0..9.
    Returns (mean, std): each (10, 28, 28) float32 in [0, 1] (pixel/255; population std);
    a digit with no images gives zeros.
    """
    labels = np.asarray(labels)
    mean = np.zeros((10, 28, 28), np.float32)
    std = np.zeros((10, 28, 28), np.float32)
    for digit in range(10):
        chosen = images[labels == digit]
        if len(chosen):
            x = chosen.astype(np.float64) / 255
            mean[digit] = x.mean(axis=0)
            std[digit] = x.std(axis=0)
    return mean, std


def ink_stats(images: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image ink statistics of (N, H, W) uint8 images (0 = background).

    Returns a dict of (N,) arrays:
      ink_pixels: int64, pixels at least half dark (>= INK_LEVEL);
      height, width: int64, the bounding box of all nonzero pixels (the anti-aliased edge
                     included; MNIST fits each digit in 20x20, so max(height, width) is about 20);
                     0 for an empty image;
      slant: float64 degrees from vertical, positive when the top leans right. From the
             intensity-weighted second-order central moments (rows y down, columns x):
             slant = degrees(atan(-mu11 / mu02)), i.e. the shear that would make the digit
             upright (as in moment-based deskewing); 0 for an empty image.
    """
    n, h, w = images.shape
    rows = np.repeat(np.arange(h, dtype=np.float64), w)
    cols = np.tile(np.arange(w, dtype=np.float64), h)
    moments = np.stack([np.ones(h * w), rows, cols, rows * rows, cols * rows, cols * cols], axis=1)
    ink = np.empty(n, np.int64)
    height = np.empty(n, np.int64)
    width = np.empty(n, np.int64)
    raw = np.empty((n, 6))
    for start in range(0, n, _CHUNK):
        block = images[start : start + _CHUNK]
        part = slice(start, start + len(block))
        ink[part] = (block >= INK_LEVEL).sum(axis=(1, 2))
        height[part] = _extent(block.any(axis=2))
        width[part] = _extent(block.any(axis=1))
        raw[part] = block.reshape(len(block), -1).astype(np.float64) @ moments
    m00, m_r, m_c, m_rr, m_cr, _ = raw.T
    safe = np.where(m00 > 0, m00, 1)
    mean_r, mean_c = m_r / safe, m_c / safe
    mu02 = m_rr / safe - mean_r**2  # variance along the rows (vertical)
    mu11 = m_cr / safe - mean_c * mean_r
    slant = np.degrees(np.arctan2(-mu11, np.where(mu02 > 0, mu02, 1)))
    slant[m00 == 0] = 0.0
    return {"ink_pixels": ink, "height": height, "width": width, "slant": slant}


def _extent(any_ink: np.ndarray) -> np.ndarray:
    """(N, L) bool -> (N,) int64: last True index - first True index + 1, 0 when none."""
    present = any_ink.any(axis=1)
    first = np.argmax(any_ink, axis=1)
    last = any_ink.shape[1] - 1 - np.argmax(any_ink[:, ::-1], axis=1)
    return np.where(present, last - first + 1, 0)


def box_summary(values: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per-digit five-number summaries of (N,) values, for box plots without sending N points.

    Returns a dict of (10,) float64 arrays: mean, q1, median, q3, lower, upper (Tukey's fences:
    the most extreme values within 1.5 IQR of the quartiles). NaN for a digit with no images.
    """
    out = {k: np.full(10, np.nan) for k in ("mean", "q1", "median", "q3", "lower", "upper")}
    for digit in range(10):
        v = values[labels == digit]
        if not len(v):
            continue
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        iqr = q3 - q1
        out["mean"][digit], out["q1"][digit], out["median"][digit], out["q3"][digit] = v.mean(), q1, med, q3
        out["lower"][digit] = v[v >= q1 - 1.5 * iqr].min()
        out["upper"][digit] = v[v <= q3 + 1.5 * iqr].max()
    return out


@dataclass(frozen=True)
class DataStats:
    """Everything `summarize` computes for one split.

    count:       number of images N
    counts:      (10,) int64 images per digit
    pixel_mean:  mean of pixel/255 over all pixels; pixel_std: their standard deviation
    histogram:   (256,) int64 pixel counts per value 0..255
    mean_images: (10, 28, 28) float32 in [0, 1]; std_images: the same, per-pixel std
    ink:         name -> (N,) array, see `ink_stats`
    ink_summary: name -> `box_summary` of that statistic
    """

    count: int
    counts: np.ndarray
    pixel_mean: float
    pixel_std: float
    histogram: np.ndarray
    mean_images: np.ndarray
    std_images: np.ndarray
    ink: dict
    ink_summary: dict


def summarize(images: np.ndarray, labels: np.ndarray) -> DataStats:
    """All statistics of (N, 28, 28) uint8 images with (N,) labels. About a second for 60,000."""
    labels = np.asarray(labels)
    histogram = intensity_histogram(images)
    mean, std = _mean_std_from_histogram(histogram)
    mean_img, std_img = mean_images(images, labels)
    ink = ink_stats(images)
    return DataStats(count=len(labels), counts=class_counts(labels), pixel_mean=mean, pixel_std=std,
                     histogram=histogram, mean_images=mean_img, std_images=std_img, ink=ink,
                     ink_summary={k: box_summary(v, labels) for k, v in ink.items()})


def split_arrays(data, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of `split` ("train", "test" or "all") of an MnistData."""
    if split == "train":
        return data.x_train, data.y_train
    if split == "test":
        return data.x_test, data.y_test
    if split == "all":
        return np.concatenate([data.x_train, data.x_test]), np.concatenate([data.y_train, data.y_test])
    raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")


def sample_indices(labels: np.ndarray, digit: int, k: int, seed: int = 0) -> np.ndarray:
    """k indices (fewer if there are not so many) of images of `digit`, drawn without replacement
    by a seeded generator: (k,) int64, in the drawn order."""
    where = np.flatnonzero(np.asarray(labels) == digit)
    return np.random.default_rng(seed).permutation(where)[:k]
