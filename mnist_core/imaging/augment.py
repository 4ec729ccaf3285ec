"""Data augmentation for digits: pure, seeded functions on (N, 28, 28) float32 arrays in [0, 1].

- `shift8`: the seed tutorial's expansion, every image shifted by one pixel in the 4 directions
  and the 4 diagonals (9x the data with the originals).
- `random_affine`: rotation, zoom, shift and shear; `elastic`: Simard et al. (2003) elastic
  distortion. Both build one sampling grid per image and resample the whole batch in a single
  `scipy.ndimage.map_coordinates` call, so an epoch of 60,000 images takes a few seconds.
  (Keras' preprocessing layers have no elastic distortion and would run per batch inside the
  model; one vectorised NumPy pass serves training and the app's augmentation tab alike.)
- `thickness`: thinner or thicker strokes (grey erosion / dilation); `noise`: Gaussian noise.

No flips: a mirrored 2 is no digit, and a flipped 6 reads as a 9 (rotation is limited for the
same reason), so flipping would teach the model wrong labels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SHIFTS8 = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def shift8(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The originals plus each shifted by one pixel in 8 directions (edges filled with 0).

    images: (N, 28, 28) any dtype; labels: (N,). Returns (9N, 28, 28) same dtype, (9N,) labels,
    originals first, then one block of N per shift in the order of `SHIFTS8` (row, col).
    """
    out = [images]
    for dr, dc in SHIFTS8:
        shifted = np.zeros_like(images)
        rows_to = slice(max(dr, 0), images.shape[1] + min(dr, 0))
        rows_from = slice(max(-dr, 0), images.shape[1] + min(-dr, 0))
        cols_to = slice(max(dc, 0), images.shape[2] + min(dc, 0))
        cols_from = slice(max(-dc, 0), images.shape[2] + min(-dc, 0))
        shifted[:, rows_to, cols_to] = images[:, rows_from, cols_from]
        out.append(shifted)
    return np.concatenate(out), np.tile(labels, 9)


def _warp(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample (N, H, W) images at per-image coordinates rows, cols (N, H, W), bilinear, 0 outside."""
    n, h, w = images.shape
    index = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None], (n, h, w))
    out = ndimage.map_coordinates(images.astype(np.float32, copy=False), [index, rows, cols], order=1, cval=0.0)
    return np.clip(out, 0.0, 1.0)


def affine_grid(n: int, rng: np.random.Generator, rotation: float = 0.0, zoom: float = 0.0, shift: float = 0.0,
                shear: float = 0.0, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Sampling coordinates of n random affine maps about the image centre.

    rotation: max degrees either way; zoom: max relative change (0.1 = 90%..110%);
    shift: max pixels either way; shear: max shear angle in degrees either way.
    Returns rows, cols: (n, size, size) float32 source coordinates for each output pixel.
    """
    angle = np.deg2rad(rng.uniform(-rotation, rotation, n))
    scale = rng.uniform(1 - zoom, 1 + zoom, n)
    skew = np.tan(np.deg2rad(rng.uniform(-shear, shear, n)))
    shift_rc = rng.uniform(-shift, shift, (n, 2))
    return affine_coordinates(angle, scale, skew, shift_rc, size)


def affine_coordinates(angle: np.ndarray, scale: np.ndarray, skew: np.ndarray, shift_rc: np.ndarray,
                       size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Source coordinates of given affine maps: angle (n,) radians, scale (n,), skew (n,) = tan(shear),
    shift_rc (n, 2) pixels. Returns rows, cols (n, size, size) float32."""
    centre = (size - 1) / 2
    r, c = np.meshgrid(np.arange(size) - centre, np.arange(size) - centre, indexing="ij")
    r = r[None] - shift_rc[:, 0, None, None]
    c = c[None] - shift_rc[:, 1, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    inv = 1 / scale[:, None, None]
    # inverse map: output pixel -> source pixel (rotate back, unshear, unzoom)
    src_r = (cos * r - sin * c) * inv
    src_c = (sin * r + cos * c) * inv - skew[:, None, None] * src_r
    return (src_r + centre).astype(np.float32), (src_c + centre).astype(np.float32)


def elastic_field(n: int, rng: np.random.Generator, alpha: float = 34.0, sigma: float = 4.0,
                  size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Simard et al. (2003) displacement fields: uniform noise in [-1, 1] smoothed by a Gaussian of
    `sigma` pixels, times `alpha`. Returns d_rows, d_cols: (n, size, size) float32 pixels."""
    noise = rng.uniform(-1, 1, (2, n, size, size)).astype(np.float32)
    smooth = ndimage.gaussian_filter(noise, sigma=(0, 0, sigma, sigma), mode="constant")
    return alpha * smooth[0], alpha * smooth[1]


def random_affine(images: np.ndarray, rng: np.random.Generator, rotation: float = 15.0, zoom: float = 0.1,
                  shift: float = 2.0, shear: float = 10.0) -> np.ndarray:
    """Random rotation, zoom, shift and shear of (N, 28, 28) float32 images in [0, 1]; same shape out."""
    rows, cols = affine_grid(len(images), rng, rotation, zoom, shift, shear, images.shape[1])
    return _warp(images, rows, cols)


def elastic(images: np.ndarray, rng: np.random.Generator, alpha: float = 34.0, sigma: float = 4.0) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003) of (N, 28, 28) float32 images in [0, 1]; same shape out."""
    n, size, _ = images.shape
    d_rows, d_cols = elastic_field(n, rng, alpha, sigma, size)
    grid_r, grid_c = np.meshgrid(np.arange(size, dtype=np.float32), np.arange(size, dtype=np.float32), indexing="ij")
    return _warp(images, grid_r + d_rows, grid_c + d_cols)


def distort(images: np.ndarray, rng: np.random.Generator, rotation: float = 15.0, zoom: float = 0.1,
            shift: float = 2.0, shear: float = 10.0, alpha: float = 34.0, sigma: float = 4.0) -> np.ndarray:
    """Affine and elastic distortion in one resampling (sharper than two in a row).

    images: (N, 28, 28) float32 in [0, 1]. Returns the same shape and range.
    """
    n, size, _ = images.shape
    rows, cols = affine_grid(n, rng, rotation, zoom, shift, shear, size)
    if alpha > 0:
        d_rows, d_cols = elastic_field(n, rng, alpha, sigma, size)
        rows, cols = rows + d_rows, cols + d_cols
    return _warp(images, rows, cols)


def thickness(images: np.ndarray, steps: np.ndarray | int) -> np.ndarray:
    """Thinner (steps < 0) or thicker (steps > 0) strokes, by grey erosion/dilation with a 2x2 square
    repeated |steps| times. images: (N, 28, 28) float32 in [0, 1]; steps: int or (N,) ints in -2..2."""
    steps = np.broadcast_to(np.asarray(steps, int), (len(images),))
    out = images.astype(np.float32, copy=True)
    for amount in np.unique(steps[steps != 0]):
        chosen = steps == amount
        op = ndimage.grey_dilation if amount > 0 else ndimage.grey_erosion
        batch = out[chosen]
        for _ in range(abs(int(amount))):
            batch = op(batch, size=(1, 2, 2))
        out[chosen] = batch
    return out


def noise(images: np.ndarray, rng: np.random.Generator, sigma: float = 0.1) -> np.ndarray:
    """Add Gaussian noise of std `sigma` to (N, 28, 28) float32 images in [0, 1], clipped; same shape."""
    return np.clip(images + rng.normal(0, sigma, images.shape).astype(np.float32), 0.0, 1.0)
