"""mnist_core.datasets.embedding: the PCA and t-SNE maps, their disk cache, nearest neighbours and placing
a new image on the t-SNE map. The maps are computed into a temporary cache folder."""

from types import SimpleNamespace

import numpy as np
import pytest

from mnist_core.datasets import embedding


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNIST_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def pca(mnist, cache):
    return embedding.pca_map(mnist)


def small_data(mnist, n=2000, sha="small"):
    """The first n training and test images, as an MnistData-like object."""
    return SimpleNamespace(x_train=mnist.x_train[:n], y_train=mnist.y_train[:n], x_test=mnist.x_test[:n // 4],
                           y_test=mnist.y_test[:n // 4], sha256=sha)


def test_pca_map_covers_every_image_in_order(mnist, pca):
    assert pca.coords.shape == (70000, 2) and pca.coords.dtype == np.float32
    assert pca.labels.tolist() == np.concatenate([mnist.y_train, mnist.y_test]).tolist()
    assert pca.components.shape == (embedding.PCA_COMPONENTS, 784)
    np.testing.assert_allclose(pca.transform(mnist.x_train[:5]), pca.coords[:5], atol=1e-4)
    np.testing.assert_allclose(pca.transform(mnist.x_test[:5]), pca.coords[60000:60005], atol=1e-4)
    np.testing.assert_allclose(pca.transform(mnist.x_test[:5].astype(np.float32) / 255), pca.coords[60000:60005],
                               atol=1e-4)
    assert pca.transform(mnist.x_train[:0]).shape == (0, 2)  # none yet (a class's wall before its first drawing)
    assert 0.09 < pca.explained[0] < 0.11 and 0.06 < pca.explained[1] < 0.08  # MNIST's first two: ~9.7%, ~7.1%


def test_pca_axes_match_an_eigen_decomposition(mnist, cache):
    data = small_data(mnist)
    pca = embedding.pca_map(data, components=2, cache=False)
    x = data.x_train.reshape(len(data.x_train), -1).astype(np.float64) / 255
    centred = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    top = vectors[:, ::-1][:, :2].T
    for k in range(2):
        assert abs(float(pca.components[k] @ top[k])) == pytest.approx(1.0, abs=1e-3)  # same axis, up to sign
    assert pca.explained[:2] == pytest.approx(values[::-1][:2] / values.sum(), rel=1e-3)


def test_maps_are_saved_and_read_back_from_the_cache(mnist, pca, cache, monkeypatch):
    assert (cache / f"pca-{mnist.sha256}.npz").is_file()
    import sklearn.decomposition

    monkeypatch.setattr(sklearn.decomposition, "PCA", None)  # a recomputation would fail
    again = embedding.pca_map(mnist)
    np.testing.assert_array_equal(again.coords, pca.coords)


def test_a_cache_file_of_other_data_is_not_used(mnist, cache):
    data = small_data(mnist, 600, sha="first")
    first = embedding.pca_map(data, components=2)
    (cache / "pca-other.npz").write_bytes((cache / "pca-first.npz").read_bytes())
    other = embedding.pca_map(small_data(mnist, 800, sha="other"), components=2)  # sha inside the file differs
    assert other.coords.shape == (1000, 2) and first.coords.shape == (750, 2)
    (cache / "pca-broken.npz").write_bytes(b"not a zip")
    assert embedding.pca_map(small_data(mnist, 600, sha="broken"), components=2).coords.shape == (750, 2)


def test_an_unwritable_cache_is_no_error(mnist, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MNIST_CACHE", str(blocker / "cache"))  # cannot make a folder inside a file
    assert embedding.pca_map(small_data(mnist, 500), components=2).coords.shape == (625, 2)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert embedding.cache_dir() == tmp_path / "mnist_core"
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "x"))
    assert embedding.cache_dir() == tmp_path / "x"


def test_nearest_is_exact(mnist):
    images = mnist.x_train[:3000]
    query = mnist.x_train[1234]
    found, dist = embedding.nearest(images, query, k=5)
    assert found[0] == 1234 and dist[0] == 0.0
    brute = ((images.reshape(3000, -1) / 255 - query.reshape(-1) / 255) ** 2).sum(axis=1)
    assert found.tolist() == np.argsort(brute, kind="stable")[:5].tolist()
    np.testing.assert_allclose(dist, np.sqrt(np.sort(brute)[:5]), rtol=1e-5, atol=1e-5)
    found_f, _ = embedding.nearest(images, query.astype(np.float32) / 255, k=5)  # float query, same scale
    assert found_f.tolist() == found.tolist()


def test_tsne_map_of_a_small_sample(mnist, pca, cache):
    tsne = embedding.tsne_map(mnist, n=300, pca=pca)
    assert tsne.coords.shape == (300, 2) and tsne.indices.shape == (300,)
    assert np.all(np.diff(tsne.indices) > 0) and tsne.indices.max() < 60000
    assert tsne.labels.tolist() == mnist.y_train[tsne.indices].tolist()
    # t-SNE keeps alike digits together: a point's nearest map neighbour mostly has its label
    d = ((tsne.coords[:, None] - tsne.coords[None]) ** 2).sum(axis=-1)
    np.fill_diagonal(d, np.inf)
    assert (tsne.labels[d.argmin(axis=1)] == tsne.labels).mean() > 0.6  # chance: 0.1; 300 points give ~0.77
    assert embedding.tsne_cached(mnist, 300) and not embedding.tsne_cached(mnist, 301)
    again = embedding.tsne_map(mnist, n=300)
    np.testing.assert_array_equal(again.coords, tsne.coords)

    position, neighbours = embedding.place_on_tsne(tsne, mnist, mnist.x_train[tsne.indices[7]], k=5)
    assert neighbours[0] == tsne.indices[7]  # an image of the sample is its own nearest neighbour
    expected = tsne.coords[np.searchsorted(tsne.indices, neighbours)].mean(axis=0)
    np.testing.assert_allclose(position, expected, rtol=1e-6)
