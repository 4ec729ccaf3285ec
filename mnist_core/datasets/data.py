"""Load MNIST from local files, the Keras cache, or the internet; validate everything read.

    >>> data = load_mnist()            # MnistData, arrays read-only
    >>> data.x_train.shape, data.x_train.dtype
    ((60000, 28, 28), dtype('uint8'))

Where the data comes from, first match wins:

1. the ``source`` argument, else the ``MNIST_DATA`` environment variable: a folder holding
   the four IDX files (gzipped or not; ``train-images-idx3-ubyte`` or ``train-images.idx3-ubyte``,
   with or without ``.gz``) or a Keras-style ``mnist.npz``, or the path of such an npz file.
   If it is given but unusable, an error is raised: there is no silent fallback.
2. the Keras cache: ``$KERAS_HOME/datasets/mnist.npz`` (default ``~/.keras``), or the four IDX
   files this module downloaded earlier into ``$KERAS_HOME/datasets/mnist-idx/``.
3. with ``download=True``: ``KERAS_NPZ_URL`` (sha256-checked) into the Keras cache, falling back
   to the four IDX files from ``IDX_MIRROR_URL`` (content sha256-checked) into ``mnist-idx/``.

Errors: ``DataUnavailable`` when there is no source at all (the message says what was tried and
how to get the data); ``DataCorrupt`` (one line naming the file) when a file is wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import struct
import tempfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ENV_VAR = "MNIST_DATA"
KERAS_NPZ_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_MIRROR_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
DOWNLOAD_TIMEOUT = 10.0  # seconds, per connection / read

#: array name -> IDX file stem (as published, without ``.gz``)
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
#: sha256 of the *uncompressed* official IDX files, to check downloads from the mirror
IDX_SHA256 = {
    "x_train": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "y_train": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "x_test": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "y_test": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
COUNTS = {"train": 60000, "test": 10000}
IMAGE_SHAPE = (28, 28)
_IDX_MAGIC = {0x00000803: "images", 0x00000801: "labels"}  # dtype byte 0x08 = unsigned byte


class DataUnavailable(RuntimeError):
    """No MNIST source at all; the message says what was tried and how to get the data."""


class DataCorrupt(ValueError):
    """A data file is truncated or wrong; the message is one line naming the file."""


@dataclass(frozen=True)
class MnistData:
    """The MNIST data set. All arrays are read-only.

    x_train: (60000, 28, 28) uint8, pixels 0..255 (0 = background)
    y_train: (60000,) uint8, digits 0..9
    x_test:  (10000, 28, 28) uint8
    y_test:  (10000,) uint8
    source:  one human line saying where the data came from
    kind:    "local" | "keras-cache" | "download"
    sha256:  hex sha256 of the bytes of x_train, y_train, x_test, y_test (in that order):
             identical whichever source the same data came from
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    kind: str
    sha256: str

    def __repr__(self) -> str:  # the default would print the arrays
        return (f"MnistData(train={len(self.y_train)}, test={len(self.y_test)}, "
                f"kind={self.kind!r}, source={self.source!r}, sha256={self.sha256[:12]}...)")


# ---------------------------------------------------------------------------- reading files

def _corrupt(name: object, what: str) -> DataCorrupt:
    return DataCorrupt(f"{name}: {what}".replace("\r", " ").replace("\n", " "))


def _idx_expected_size(raw: bytes) -> int | None:
    """Total byte count an IDX file with this header must have, or None if the header is short."""
    if len(raw) < 4:
        return None
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        return None
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return 4 + 4 * ndim + int(np.prod(dims, dtype=np.int64))


def _gunzip(data: bytes, name: object) -> bytes:
    try:
        return gzip.decompress(data)
    except EOFError:  # the gzip stream stops early: report how far it got
        try:
            partial = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
        except zlib.error:
            partial = b""
        expected = _idx_expected_size(partial)
        if expected is None or len(partial) < expected:
            want = f"expected {expected} bytes" if expected is not None else "expected an IDX header"
            raise _corrupt(name, f"truncated: {want}, got {len(partial)} (gzip stream ends early)") from None
        raise _corrupt(name, "truncated: gzip stream ends before its end marker/CRC") from None
    except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise _corrupt(name, f"bad gzip data: {e}") from None


def _parse_idx(data: bytes, name: object) -> np.ndarray:
    """IDX bytes (gzipped or not) -> read-only uint8 array of the shape in its header."""
    raw = _gunzip(data, name) if data[:2] == b"\x1f\x8b" else data
    if len(raw) < 4:
        raise _corrupt(name, f"truncated: {len(raw)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic not in _IDX_MAGIC:
        raise _corrupt(name, f"not an MNIST IDX file: magic number 0x{magic:08x}, "
                             "expected 0x00000803 (images) or 0x00000801 (labels)")
    expected = _idx_expected_size(raw)
    if expected is None:
        raise _corrupt(name, f"truncated: {len(raw)} bytes, too short for the IDX header")
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "wrong size (trailing data)"
        raise _corrupt(name, f"{what}: expected {expected} bytes, got {len(raw)}")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip detected by its magic bytes 1f 8b, not by the extension).

    Returns a read-only uint8 array: (n, rows, cols) for an images file (magic 0x00000803),
    (n,) for a labels file (magic 0x00000801). Raises DataCorrupt naming the file when the
    magic number is wrong or the byte count does not match the header's dimensions exactly.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _corrupt(path, f"cannot read: {e.strerror or e}") from None
    return _parse_idx(data, path)


def _check(arrays: dict[str, np.ndarray], names: dict[str, object]) -> None:
    """Validate the four arrays (dtypes, shapes, counts, labels 0..9); DataCorrupt names the file."""
    for split, count in COUNTS.items():
        xk, yk = f"x_{split}", f"y_{split}"
        x, y = arrays[xk], arrays[yk]
        for k, a in ((xk, x), (yk, y)):
            if a.dtype != np.uint8:
                raise _corrupt(names[k], f"{k} has dtype {a.dtype}, expected uint8")
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
            raise _corrupt(names[xk], f"wrong dims: expected images of shape (n, 28, 28), got {x.shape}")
        if y.ndim != 1:
            raise _corrupt(names[yk], f"wrong dims: expected labels of shape (n,), got {y.shape}")
        if len(x) != len(y):
            raise _corrupt(names[yk], f"mismatched counts: {len(y)} labels but {len(x)} images "
                                      f"in {_basename(names[xk])}")
        if len(x) != count:
            raise _corrupt(names[xk], f"wrong count: expected {count} {split} images, got {len(x)}")
        bad = np.flatnonzero(y > 9)
        if bad.size:
            raise _corrupt(names[yk], f"label {y[bad[0]]} at index {bad[0]}, expected 0..9")


def _basename(name: object) -> str:
    return Path(str(name)).name


def _fingerprint(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in IDX_FILES:
        h.update(np.ascontiguousarray(arrays[k]).data)
    return h.hexdigest()


def _make(arrays: dict[str, np.ndarray], names: dict[str, object], source: str, kind: str) -> MnistData:
    _check(arrays, names)
    for a in arrays.values():
        a.flags.writeable = False
    return MnistData(**arrays, source=source, kind=kind, sha256=_fingerprint(arrays))


def _find_idx(folder: Path) -> dict[str, Path | None]:
    """array name -> the IDX file for it in folder (dash or dot before idx, with or without .gz)."""
    found = {}
    for key, stem in IDX_FILES.items():
        alt = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte
        candidates = [folder / n for n in (stem, stem + ".gz", alt, alt + ".gz")]
        found[key] = next((p for p in candidates if p.is_file()), None)
    return found


def _load_idx_folder(folder: Path, source: str, kind: str) -> MnistData:
    files = _find_idx(folder)
    missing = [IDX_FILES[k] for k, p in files.items() if p is None]
    if missing:
        raise DataUnavailable(f"{folder}: missing {', '.join(missing)} (with or without .gz)")
    arrays = {k: read_idx(p) for k, p in files.items()}
    return _make(arrays, files, source, kind)


def _load_npz(npz: Path | io.BytesIO, name: object, source: str, kind: str) -> MnistData:
    """A Keras-style mnist.npz: keys x_train, y_train, x_test, y_test, uint8 arrays."""
    try:
        if isinstance(npz, Path):
            with open(npz, "rb") as f:
                head = f.read(4)
        else:
            head = npz.getvalue()[:4]
        if head != b"PK\x03\x04":
            raise _corrupt(name, "not an .npz (zip) file")
        with np.load(npz, allow_pickle=False) as z:
            missing = [k for k in IDX_FILES if k not in z.files]
            if missing:
                raise _corrupt(name, f"missing key {', '.join(missing)} "
                                     f"(has: {', '.join(z.files) or 'nothing'})")
            arrays = {k: z[k] for k in IDX_FILES}
    except DataCorrupt:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise _corrupt(name, f"unreadable npz: {type(e).__name__}: {e}") from None
    return _make(arrays, dict.fromkeys(IDX_FILES, name), source, kind)


def _load_path(path: Path, origin: str) -> MnistData:
    """Load a user-given folder or npz file; raise (never fall back) when it is unusable.

    A folder is read as IDX files if all four are there, else as the mnist.npz in it."""
    if path.is_file():
        return _load_npz(path, path, f"npz file {os.path.abspath(path)}", "local")
    if not path.is_dir():
        raise DataUnavailable(f"{origin}={str(path)!r}: no such file or folder. {_HOW}")
    npz = path / "mnist.npz"
    if npz.is_file() and not all(_find_idx(path).values()):
        return _load_npz(npz, npz, f"npz file {os.path.abspath(npz)}", "local")
    try:
        return _load_idx_folder(path, f"IDX files in {os.path.abspath(path)}", "local")
    except DataUnavailable as e:
        raise DataUnavailable(f"{origin}: {e}; no mnist.npz there either. {_HOW}") from None


# ---------------------------------------------------------------------------- caching / download

_HOW = (f"Set {ENV_VAR} to a folder holding the four MNIST IDX files "
        f"({', '.join(s + '.gz' for s in IDX_FILES.values())}) or a Keras mnist.npz, "
        "or go online so it can be downloaded.")


def keras_cache_dir() -> Path:
    """Keras' dataset cache: $KERAS_HOME/datasets, default ~/.keras/datasets."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets"


class _DownloadFailed(Exception):
    pass


def _fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as r:
            return r.read()
    except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, timeouts: OSError
        raise _DownloadFailed(f"{type(e).__name__}: {e}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder, then rename: no half-written cache file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _download_npz(cache: Path) -> MnistData:
    data = _fetch(KERAS_NPZ_URL)
    digest = hashlib.sha256(data).hexdigest()
    if digest != KERAS_NPZ_SHA256:
        raise _DownloadFailed(f"checksum mismatch: sha256 {digest}, expected {KERAS_NPZ_SHA256}")
    mnist = _load_npz(io.BytesIO(data), KERAS_NPZ_URL, "", "download")  # validate before caching
    return replace(mnist, source=f"downloaded from {KERAS_NPZ_URL} ({_cache({cache: data}, cache)})")


def _download_idx(folder: Path) -> MnistData:
    blobs, arrays, names = {}, {}, {}
    for key, stem in IDX_FILES.items():
        url = IDX_MIRROR_URL + stem + ".gz"
        blobs[folder / (stem + ".gz")] = data = _fetch(url)  # one failure stops the fallback
        raw = _gunzip(data, url) if data[:2] == b"\x1f\x8b" else data
        digest = hashlib.sha256(raw).hexdigest()
        if digest != IDX_SHA256[key]:
            raise _DownloadFailed(f"{url}: checksum mismatch: sha256 {digest}, expected {IDX_SHA256[key]}")
        arrays[key], names[key] = _parse_idx(raw, url), url
    mnist = _make(arrays, names, "", "download")  # validate before caching
    return replace(mnist, source=f"downloaded from {IDX_MIRROR_URL} ({_cache(blobs, folder)})")


def _cache(blobs: dict[Path, bytes], where: Path) -> str:
    """Write downloaded files into the cache; say where (or why not) for MnistData.source."""
    try:
        for path, data in blobs.items():
            _write_atomic(path, data)
    except OSError as e:
        return f"not cached: {e}"
    return f"cached in {where}"


# ---------------------------------------------------------------------------- entry point

def load_mnist(source: str | os.PathLike | None = None, *, download: bool = True) -> MnistData:
    """Load MNIST (see the module docstring for the order of sources).

    source: a folder with the four IDX files or mnist.npz, or an npz file; default $MNIST_DATA.
    download: allow downloading into the Keras cache when nothing local is found.
    Returns MnistData with x_train (60000, 28, 28), y_train (60000,), x_test (10000, 28, 28),
    y_test (10000,), all uint8 and read-only.
    Raises DataUnavailable (no source) or DataCorrupt (a file is wrong; one line naming it).
    """
    if source is not None:
        return _load_path(Path(os.fspath(source)).expanduser(), "source")
    if os.environ.get(ENV_VAR):
        return _load_path(Path(os.environ[ENV_VAR]).expanduser(), ENV_VAR)

    tried = [f"{ENV_VAR} not set"]
    cache = keras_cache_dir()
    npz, idx_dir = cache / "mnist.npz", cache / "mnist-idx"
    hint = "; delete it to download again"
    if npz.is_file():
        try:
            return _load_npz(npz, npz, f"Keras cache {npz}", "keras-cache")
        except DataCorrupt as e:
            raise DataCorrupt(f"{e}{hint}") from None
    tried.append(f"Keras cache {npz}: not found")
    if all(_find_idx(idx_dir).values()):
        try:
            return _load_idx_folder(idx_dir, f"Keras cache {idx_dir} (IDX files)", "keras-cache")
        except DataCorrupt as e:
            raise DataCorrupt(f"{e}{hint}") from None

    if not download:
        tried.append("download disabled")
    else:
        for url, attempt in ((KERAS_NPZ_URL, lambda: _download_npz(npz)),
                             (IDX_MIRROR_URL, lambda: _download_idx(idx_dir))):
            try:
                return attempt()
            except (_DownloadFailed, DataCorrupt) as e:
                tried.append(f"download {url}: {e}")
    raise DataUnavailable(f"MNIST data not found (tried: {'; '.join(tried)}). {_HOW}")
