"""2-D maps of the data set: PCA of all images and t-SNE of a sample; placing a new image on them.

    >>> pca = pca_map(data)                 # PCA fitted on the 60,000 training images
    >>> pca.coords.shape                    # every image, training first then test
    (70000, 2)
    >>> tsne = tsne_map(data)               # t-SNE of a seeded sample of training images
    >>> place_on_tsne(tsne, data, image28)  # mean position of its nearest sample images

Both are saved on disk (`cache_dir()`, default ~/.cache/mnist_core) under the data's sha256, so a
map is computed once per data set: PCA takes a few seconds, t-SNE of 3,000 images one to three
minutes on two cores (`python -m mnist_core.datasets.embedding` computes both ahead of time). t-SNE
cannot transform a new point, so a drawing is put at the mean position of its nearest
neighbours (pixel distance) among the sample: an honest approximation, not a projection.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PCA_COMPONENTS = 50  # kept for t-SNE's input; the map shows the first two
TSNE_SAMPLE = 3000  # training images in the t-SNE map
TSNE_NEIGHBOURS = 5  # a new image is placed at the mean of this many nearest sample images
_CHUNK = 10_000


def cache_dir() -> Path:
    """Where maps are saved: $MNIST_CACHE, else $XDG_CACHE_HOME/mnist_core, else ~/.cache/mnist_core."""
    if os.environ.get("MNIST_CACHE"):
        return Path(os.environ["MNIST_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mnist_core"


def _load_cached(path: Path, sha256: str) -> dict | None:
    """The arrays saved at path if it holds a map of the data with this sha256, else None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["sha256"]) != sha256:
                return None
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError, EOFError):
        return None


def _save_cached(path: Path, sha256: str, arrays: dict) -> None:
    """Save atomically (temp file + rename); a read-only cache folder is no error: the map is just
    recomputed next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, sha256=np.array(sha256), **arrays)
        os.replace(tmp, path)
    except OSError:
        pass


def as_float(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 (scaled by 1/255) or float images -> (N, 784) float32 rows."""
    images = np.asarray(images)
    flat = images.reshape(len(images), int(np.prod(images.shape[1:])))  # not -1: N may be 0 (a class yet empty)
    return flat.astype(np.float32) / 255 if flat.dtype == np.uint8 else flat.astype(np.float32)


@dataclass(frozen=True)
class PcaMap:
    """A PCA of the training images.

    mean:       (784,) float32, the mean training image (pixel/255)
    components: (k, 784) float32, principal axes, largest variance first
    explained:  (k,) float64, fraction of the variance along each axis
    coords:     (70000, 2) float32, every image on the first two axes: training (60,000) then test
    labels:     (70000,) uint8, in the same order
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    coords: np.ndarray
    labels: np.ndarray

    def transform(self, images: np.ndarray, k: int = 2) -> np.ndarray:
        """(N, 28, 28) images (uint8, or float in [0, 1]) -> (N, k) float32 coordinates."""
        return (as_float(images) - self.mean) @ self.components[:k].T


def pca_map(data, components: int = PCA_COMPONENTS, cache: bool = True) -> PcaMap:
    """PCA fitted on data.x_train (scikit-learn, randomized SVD, seed 0); every image projected.

    data: an MnistData. Saved as pca-<sha256>.npz in `cache_dir()` when `cache`.
    """
    path = cache_dir() / f"pca-{data.sha256}.npz"
    saved = _load_cached(path, data.sha256) if cache else None
    if saved is None or saved["components"].shape[0] != components:
        from sklearn.decomposition import PCA

        pca = PCA(components, svd_solver="randomized", random_state=0).fit(as_float(data.x_train))
        mean, axes = pca.mean_.astype(np.float32), pca.components_.astype(np.float32)
        images = np.concatenate([data.x_train, data.x_test])
        coords = np.concatenate([(as_float(images[i : i + _CHUNK]) - mean) @ axes[:2].T
                                 for i in range(0, len(images), _CHUNK)])
        saved = {"mean": mean, "components": axes, "explained": pca.explained_variance_ratio_,
                 "coords": coords.astype(np.float32)}
        if cache:
            _save_cached(path, data.sha256, saved)
    labels = np.concatenate([data.y_train, data.y_test])
    return PcaMap(saved["mean"], saved["components"], saved["explained"], saved["coords"], labels)


@dataclass(frozen=True)
class TsneMap:
    """t-SNE of a sample of training images.

    indices: (n,) int64 indices into data.x_train
    coords:  (n, 2) float32 map positions
    labels:  (n,) uint8 digits
    """

    indices: np.ndarray
    coords: np.ndarray
    labels: np.ndarray


def tsne_map(data, n: int = TSNE_SAMPLE, seed: int = 0, pca: PcaMap | None = None, cache: bool = True) -> TsneMap:
    """t-SNE (scikit-learn, perplexity 30, PCA initialisation) of n training images drawn with
    `seed`, computed on their first 50 principal components. Saved as tsne-<sha256>-<n>-<seed>.npz
    in `cache_dir()` when `cache`. One to three minutes for 3,000 images on two cores."""
    path = cache_dir() / f"tsne-{data.sha256}-{n}-{seed}.npz"
    saved = _load_cached(path, data.sha256) if cache else None
    if saved is None:
        from sklearn.manifold import TSNE

        indices = np.sort(np.random.default_rng(seed).permutation(len(data.x_train))[:n])
        pca = pca or pca_map(data, cache=cache)
        features = pca.transform(data.x_train[indices], k=pca.components.shape[0])
        coords = TSNE(2, perplexity=min(30.0, (n - 1) / 3), init="pca", learning_rate="auto",
                      random_state=seed).fit_transform(features)
        saved = {"indices": indices.astype(np.int64), "coords": coords.astype(np.float32)}
        if cache:
            _save_cached(path, data.sha256, saved)
    indices = saved["indices"]
    return TsneMap(indices, saved["coords"], np.asarray(data.y_train)[indices])


def tsne_cached(data, n: int = TSNE_SAMPLE, seed: int = 0) -> bool:
    """Whether `tsne_map(data, n, seed)` is already on disk (so it loads at once)."""
    return _load_cached(cache_dir() / f"tsne-{data.sha256}-{n}-{seed}.npz", data.sha256) is not None


def nearest(images: np.ndarray, query: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The k images nearest to `query` by Euclidean pixel distance (pixels as pixel/255).

    images: (N, 28, 28) uint8 or float in [0, 1]; query: (28, 28) in the same scale rules.
    Returns (indices (k,) int64, distances (k,) float32), nearest first. Exact, in blocks of
    10,000 images (about 0.1 s for the 60,000 training images).
    """
    q = as_float(np.asarray(query)[None])[0]
    dist = np.concatenate([((as_float(images[i : i + _CHUNK]) - q) ** 2).sum(axis=1)
                           for i in range(0, len(images), _CHUNK)])
    k = min(k, len(dist))
    order = np.argpartition(dist, k - 1)[:k]
    order = order[np.argsort(dist[order], kind="stable")]
    return order.astype(np.int64), np.sqrt(dist[order]).astype(np.float32)


def main() -> None:
    """`python -m mnist_core.datasets.embedding`: compute both maps of the data now (t-SNE takes minutes),
    so that the app's Data tab shows them at once."""
    import time

    from .data import load_mnist

    data = load_mnist()
    for name, make in (("PCA", lambda: pca_map(data)), ("t-SNE", lambda: tsne_map(data))):
        start = time.perf_counter()
        make()
        print(f"{name} map ready in {time.perf_counter() - start:.1f} s (kept in {cache_dir()})")


def place_on_tsne(tsne: TsneMap, data, image28: np.ndarray, k: int = TSNE_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Where a new (28, 28) image would sit on the t-SNE map: the mean position of its k nearest
    sample images by pixel distance. Returns ((2,) float32 position, (k,) indices into
    data.x_train of those neighbours)."""
    found, _ = nearest(data.x_train[tsne.indices], image28, k)
    return tsne.coords[found].mean(axis=0), tsne.indices[found]


if __name__ == "__main__":
    main()
