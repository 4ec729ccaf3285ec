"""mnist_core.datasets.data on the real MNIST data: sources, validation, caching and download.

Temporary copies of the real data (raw IDX, gzipped IDX, npz) are built once per session in a
tmp folder; nothing is committed. Downloads use file:// URLs, never the internet.
"""

import gzip
import hashlib
import os
import struct

import numpy as np
import pytest

from mnist_core.datasets import data as D
from mnist_core.datasets.data import DataCorrupt, DataUnavailable, MnistData, load_mnist, read_idx

STEMS = D.IDX_FILES  # x_train -> "train-images-idx3-ubyte", ...
ARRAY_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(a, magic=None, dims=None):
    """An IDX file's bytes for uint8 array a (header overridable to build corrupt files)."""
    magic = magic if magic is not None else (0x803 if a.ndim == 3 else 0x801)
    dims = dims if dims is not None else a.shape
    return struct.pack(f">I{len(dims)}I", magic, *dims) + np.ascontiguousarray(a).tobytes()


def arrays_of(m):
    return {k: getattr(m, k) for k in STEMS}


@pytest.fixture(scope="session")
def raw_dir(mnist, tmp_path_factory):
    """Folder with the four uncompressed IDX files, standard names."""
    d = tmp_path_factory.mktemp("raw")
    for k, stem in STEMS.items():
        (d / stem).write_bytes(idx_bytes(getattr(mnist, k)))
    return d


@pytest.fixture(scope="session")
def gz_dir(raw_dir, mnist, tmp_path_factory):
    """Folder with the four gzipped IDX files: links to the real .gz files when the session's
    data was loaded from them, else compressed here (level 1, for speed)."""
    d = tmp_path_factory.mktemp("gz")
    real = os.environ.get("MNIST_DATA", "")
    for stem in STEMS.values():
        src = os.path.join(real, f"{stem}.gz")
        if mnist.source == f"IDX files in {os.path.abspath(real)}" and os.path.isfile(src):
            (d / f"{stem}.gz").symlink_to(os.path.abspath(src))
        else:
            (d / f"{stem}.gz").write_bytes(gzip.compress((raw_dir / stem).read_bytes(), compresslevel=1))
    return d


@pytest.fixture(scope="session")
def npz_file(mnist, tmp_path_factory):
    """A Keras-style mnist.npz (keys x_train, y_train, x_test, y_test)."""
    p = tmp_path_factory.mktemp("npz") / "mnist.npz"
    np.savez(p, **arrays_of(mnist))
    return p


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No MNIST_DATA, empty HOME and KERAS_HOME in tmp_path, download URLs pointing nowhere."""
    monkeypatch.delenv("MNIST_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(D, "KERAS_NPZ_URL", (tmp_path / "nowhere" / "mnist.npz").as_uri())
    monkeypatch.setattr(D, "IDX_MIRROR_URL", (tmp_path / "nowhere").as_uri() + "/")
    return tmp_path / "keras" / "datasets"


def linked_copy(src_dir, dst):
    """dst/ with symlinks to the four files of src_dir (cheap; replace one to corrupt it)."""
    dst.mkdir()
    for f in src_dir.iterdir():
        (dst / f.name).symlink_to(f)
    return dst


def assert_same_data(m, ref):
    assert isinstance(m, MnistData)
    for k in STEMS:
        a = getattr(m, k)
        assert a.dtype == np.uint8 and a.shape == getattr(ref, k).shape
        assert np.array_equal(a, getattr(ref, k)), k
    assert m.sha256 == ref.sha256 == ARRAY_SHA256


# ---------------------------------------------------------------------------- the real data

def test_shapes_and_dtypes(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.y_train.shape == (60000,) and mnist.y_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28) and mnist.x_test.dtype == np.uint8
    assert mnist.y_test.shape == (10000,) and mnist.y_test.dtype == np.uint8
    assert mnist.kind in ("local", "keras-cache", "download") and mnist.source


def test_label_counts(mnist):
    assert np.bincount(mnist.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_test, minlength=10).tolist() == TEST_COUNTS


def test_pixel_statistics(mnist):
    n = s = ss = 0  # exact integer sums, in chunks to avoid a 376 MB float copy
    for chunk in np.array_split(mnist.x_train.reshape(-1), 16):
        c = chunk.astype(np.int64)
        n, s, ss = n + c.size, s + int(c.sum()), ss + int(c @ c)
    mean = s / n / 255
    std = np.sqrt(ss / n - (s / n) ** 2) / 255
    assert round(mean, 4) == 0.1307
    assert round(std, 4) == 0.3081
    assert mnist.x_train.min() == 0 and mnist.x_train.max() == 255


def test_arrays_are_read_only_and_frozen(mnist):
    with pytest.raises(ValueError):
        mnist.x_train[0, 0, 0] = 1
    with pytest.raises(AttributeError):
        mnist.kind = "other"
    assert "60000" in repr(mnist) and len(repr(mnist)) < 300


def test_sha256_fingerprint(mnist):
    h = hashlib.sha256()
    for k in ("x_train", "y_train", "x_test", "y_test"):
        h.update(getattr(mnist, k).tobytes())
    assert mnist.sha256 == h.hexdigest() == ARRAY_SHA256


# ---------------------------------------------------------------------------- sources

def test_gz_folder(gz_dir, mnist):
    m = load_mnist(gz_dir)
    assert_same_data(m, mnist)
    assert m.kind == "local" and m.source == f"IDX files in {gz_dir}"


def test_raw_folder(raw_dir, mnist):
    m = load_mnist(str(raw_dir))
    assert_same_data(m, mnist)
    assert m.kind == "local" and str(raw_dir) in m.source


def test_npz_file_and_folder(npz_file, mnist, tmp_path):
    m = load_mnist(npz_file)
    assert_same_data(m, mnist)
    assert m.kind == "local" and str(npz_file) in m.source
    folder = tmp_path / "with-npz"
    folder.mkdir()
    (folder / "mnist.npz").symlink_to(npz_file)
    assert load_mnist(folder).sha256 == ARRAY_SHA256


def test_env_var(monkeypatch, raw_dir, npz_file, mnist):
    monkeypatch.setenv("MNIST_DATA", str(raw_dir))
    m = load_mnist()
    assert m.kind == "local" and str(raw_dir) in m.source
    monkeypatch.setenv("MNIST_DATA", str(npz_file))
    assert str(npz_file) in load_mnist().source
    # an explicit source wins over the environment variable
    monkeypatch.setenv("MNIST_DATA", "/nonexistent/mnist")
    assert load_mnist(raw_dir).sha256 == mnist.sha256


def test_alternative_names_and_gzip_by_magic(raw_dir, gz_dir, tmp_path, mnist):
    d = tmp_path / "alt"
    d.mkdir()
    (d / "train-images.idx3-ubyte").symlink_to(raw_dir / STEMS["x_train"])
    (d / "train-labels.idx1-ubyte.gz").symlink_to(gz_dir / (STEMS["y_train"] + ".gz"))
    # gzip is detected by its magic bytes, not by the name
    (d / "t10k-images.idx3-ubyte").symlink_to(gz_dir / (STEMS["x_test"] + ".gz"))
    (d / "t10k-labels-idx1-ubyte.gz").symlink_to(raw_dir / STEMS["y_test"])
    assert_same_data(load_mnist(d), mnist)


def test_read_idx(raw_dir, gz_dir, mnist):
    assert np.array_equal(read_idx(raw_dir / STEMS["y_test"]), mnist.y_test)
    x = read_idx(gz_dir / (STEMS["x_test"] + ".gz"))
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.array_equal(x, mnist.x_test)


def test_sha256_same_across_sources(raw_dir, gz_dir, npz_file, mnist):
    digests = {load_mnist(s).sha256 for s in (raw_dir, gz_dir, npz_file)}
    assert digests == {mnist.sha256}


def test_keras_cache(isolated, npz_file, mnist, monkeypatch, tmp_path):
    isolated.mkdir(parents=True)
    (isolated / "mnist.npz").symlink_to(npz_file)
    m = load_mnist(download=False)
    assert m.kind == "keras-cache" and m.source == f"Keras cache {isolated / 'mnist.npz'}"
    assert m.sha256 == mnist.sha256
    # without KERAS_HOME: ~/.keras/datasets
    monkeypatch.delenv("KERAS_HOME")
    with pytest.raises(DataUnavailable):
        load_mnist(download=False)
    home_cache = tmp_path / "home" / ".keras" / "datasets"
    home_cache.mkdir(parents=True)
    (home_cache / "mnist.npz").symlink_to(npz_file)
    assert load_mnist(download=False).kind == "keras-cache"


def test_corrupt_keras_cache_is_reported(isolated):
    isolated.mkdir(parents=True)
    (isolated / "mnist.npz").write_bytes(b"PK\x03\x04 half a file")
    with pytest.raises(DataCorrupt, match="mnist.npz.*delete it"):
        load_mnist()


# ---------------------------------------------------------------------------- no source at all

def test_no_source_download_disabled(isolated):
    with pytest.raises(DataUnavailable) as e:
        load_mnist(download=False)
    msg = str(e.value)
    assert "MNIST_DATA" in msg and str(isolated / "mnist.npz") in msg and "download disabled" in msg


def test_no_source_download_fails(isolated):
    with pytest.raises(DataUnavailable) as e:
        load_mnist()
    msg = str(e.value)
    assert "MNIST_DATA" in msg and D.KERAS_NPZ_URL in msg and D.IDX_MIRROR_URL in msg
    assert not isolated.exists() or not any(isolated.rglob("*"))  # nothing cached


def test_given_source_missing_does_not_fall_back(isolated, npz_file, monkeypatch, tmp_path):
    isolated.mkdir(parents=True)
    (isolated / "mnist.npz").symlink_to(npz_file)  # a usable cache that must NOT be used
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataUnavailable, match="MNIST_DATA.*missing.*no such file"):
        load_mnist()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte"):
        load_mnist(empty)


def test_folder_missing_one_file(raw_dir, tmp_path):
    d = linked_copy(raw_dir, tmp_path / "three")
    (d / STEMS["y_test"]).unlink()
    with pytest.raises(DataUnavailable, match="missing t10k-labels-idx1-ubyte") as e:
        load_mnist(d)
    assert "train-images" not in str(e.value).split("missing")[1].split(";")[0]


# ---------------------------------------------------------------------------- corrupt files

def _truncated_gz(mnist, d, gz_dir):
    full = (gz_dir / (STEMS["x_train"] + ".gz")).read_bytes()
    (d / STEMS["x_train"]).unlink()
    (d / (STEMS["x_train"] + ".gz")).write_bytes(full[:1000])
    return STEMS["x_train"] + ".gz", "truncated: expected 47040016 bytes, got"


def _truncated_raw(mnist, d, gz_dir):
    (d / STEMS["x_test"]).unlink()
    (d / STEMS["x_test"]).write_bytes(idx_bytes(mnist.x_test)[:-100])
    return STEMS["x_test"], "truncated: expected 7840016 bytes, got 7839916"


def _trailing_data(mnist, d, gz_dir):
    (d / STEMS["y_test"]).unlink()
    (d / STEMS["y_test"]).write_bytes(idx_bytes(mnist.y_test) + b"\0")
    return STEMS["y_test"], "expected 10008 bytes, got 10009"


def _wrong_magic(mnist, d, gz_dir):
    (d / STEMS["y_train"]).unlink()
    (d / STEMS["y_train"]).write_bytes(idx_bytes(mnist.y_train, magic=0x0901))
    return STEMS["y_train"], "magic number 0x00000901"


def _wrong_dims(mnist, d, gz_dir):
    (d / STEMS["x_train"]).unlink()
    (d / STEMS["x_train"]).write_bytes(idx_bytes(mnist.x_train, dims=(60000, 784, 1)))
    return STEMS["x_train"], "wrong dims"


def _label_10(mnist, d, gz_dir):
    y = mnist.y_train.copy()
    y[7] = 10
    (d / STEMS["y_train"]).unlink()
    (d / STEMS["y_train"]).write_bytes(idx_bytes(y))
    return STEMS["y_train"], "label 10 at index 7"


def _mismatched_counts(mnist, d, gz_dir):
    (d / STEMS["y_train"]).unlink()
    (d / STEMS["y_train"]).write_bytes(idx_bytes(mnist.y_train[:-1]))
    return STEMS["y_train"], "mismatched counts: 59999 labels but 60000 images"


def _wrong_count(mnist, d, gz_dir):
    for k in ("x_test", "y_test"):
        (d / STEMS[k]).unlink()
        (d / STEMS[k]).write_bytes(idx_bytes(getattr(mnist, k)[:9999]))
    return STEMS["x_test"], "expected 10000 test images, got 9999"


def _bad_gzip(mnist, d, gz_dir):
    (d / STEMS["y_test"]).unlink()
    (d / (STEMS["y_test"] + ".gz")).write_bytes(b"\x1f\x8b\x08\x00garbage, not deflate")
    return STEMS["y_test"] + ".gz", "bad gzip data"


@pytest.mark.parametrize("corrupt", [
    _truncated_gz, _truncated_raw, _trailing_data, _wrong_magic, _wrong_dims, _label_10,
    _mismatched_counts, _wrong_count, _bad_gzip,
], ids=lambda f: f.__name__.strip("_"))
def test_corrupt_idx(corrupt, raw_dir, gz_dir, tmp_path, mnist):
    d = linked_copy(raw_dir, tmp_path / "data")
    fname, what = corrupt(mnist, d, gz_dir)
    with pytest.raises(DataCorrupt) as e:
        load_mnist(d)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(str(d / fname) + ": "), msg
    assert what in msg


@pytest.mark.parametrize("contents, what", [
    ({"x_train": np.zeros((1, 28, 28), np.uint8), "y_train": np.zeros(1, np.uint8),
      "x_test": np.zeros((1, 28, 28), np.uint8)}, "missing key y_test"),
    ({"x_train": np.zeros((1, 28, 28), np.float32), "y_train": np.zeros(1, np.uint8),
      "x_test": np.zeros((1, 28, 28), np.uint8), "y_test": np.zeros(1, np.uint8)}, "dtype float32"),
    ({"x_train": np.zeros((60000, 28, 28), np.uint8), "y_train": np.zeros(60000, np.uint8),
      "x_test": np.zeros((10000, 28, 28), np.uint8), "y_test": np.zeros(10, np.uint8)},
     "mismatched counts"),
], ids=["missing-key", "wrong-dtype", "mismatched-counts"])
def test_corrupt_npz(contents, what, tmp_path):
    p = tmp_path / "mnist.npz"
    np.savez(p, **contents)
    with pytest.raises(DataCorrupt) as e:
        load_mnist(p)
    assert str(e.value).startswith(f"{p}: ") and what in str(e.value) and "\n" not in str(e.value)


def test_npz_truncated_or_not_npz(npz_file, tmp_path):
    p = tmp_path / "mnist.npz"
    p.write_bytes(npz_file.read_bytes()[:100_000])
    with pytest.raises(DataCorrupt, match=r"mnist\.npz: unreadable npz"):
        load_mnist(p)
    p.write_bytes(b"just text")
    with pytest.raises(DataCorrupt, match=r"mnist\.npz: not an \.npz"):
        load_mnist(p)


def test_read_idx_short_header(tmp_path):
    p = tmp_path / "short"
    p.write_bytes(b"\0\0\x08\x03\0\0")
    with pytest.raises(DataCorrupt, match="short: truncated"):
        read_idx(p)


# ---------------------------------------------------------------------------- download

def test_download_npz(isolated, npz_file, mnist, monkeypatch):
    monkeypatch.setattr(D, "KERAS_NPZ_URL", npz_file.as_uri())
    monkeypatch.setattr(D, "KERAS_NPZ_SHA256", hashlib.sha256(npz_file.read_bytes()).hexdigest())
    m = load_mnist()
    assert m.kind == "download" and m.sha256 == mnist.sha256
    assert m.source == f"downloaded from {npz_file.as_uri()} (cached in {isolated / 'mnist.npz'})"
    assert sorted(p.name for p in isolated.iterdir()) == ["mnist.npz"]  # no temp files left
    assert (isolated / "mnist.npz").read_bytes() == npz_file.read_bytes()
    again = load_mnist()
    assert again.kind == "keras-cache" and again.sha256 == mnist.sha256


def test_download_wrong_checksum_is_rejected(isolated, npz_file, monkeypatch):
    monkeypatch.setattr(D, "KERAS_NPZ_URL", npz_file.as_uri())  # real KERAS_NPZ_SHA256 kept
    with pytest.raises(DataUnavailable, match="checksum mismatch"):
        load_mnist()
    assert not isolated.exists() or not any(isolated.rglob("*"))  # nothing cached


def test_download_falls_back_to_idx_mirror(isolated, gz_dir, mnist, monkeypatch):
    monkeypatch.setattr(D, "IDX_MIRROR_URL", gz_dir.as_uri() + "/")
    m = load_mnist()
    assert m.kind == "download" and m.sha256 == mnist.sha256
    assert m.source.endswith(f"(cached in {isolated / 'mnist-idx'})")
    assert sorted(p.name for p in (isolated / "mnist-idx").iterdir()) == sorted(
        s + ".gz" for s in STEMS.values())
    again = load_mnist(download=False)
    assert again.kind == "keras-cache" and "mnist-idx" in again.source and again.sha256 == mnist.sha256


def test_download_mirror_checksum_is_checked(isolated, raw_dir, tmp_path, mnist, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for k, stem in STEMS.items():
        a = getattr(mnist, k)
        if k == "y_test":
            a = a.copy()
            a[0] = (a[0] + 1) % 10  # valid, but not MNIST
        (mirror / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(a), compresslevel=1)
                                            if k != "x_train" else (raw_dir / stem).read_bytes())
    monkeypatch.setattr(D, "IDX_MIRROR_URL", mirror.as_uri() + "/")
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        load_mnist()
    assert not (isolated / "mnist-idx").exists()
