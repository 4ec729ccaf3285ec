"""mnist_core.collection.database on real databases: SQLite files, and a throwaway PostgreSQL server.

The PostgreSQL server is started once per session from Debian's packages (tests/postgres_support.py;
.ci/postgres.sh installs them); each test gets a fresh database in it. Without the binaries the
PostgreSQL cases fail when the CI environment variable is set and are skipped otherwise.
"""

import contextlib
import gzip
import json
import multiprocessing
import os
import socket
import sqlite3
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from postgres_support import create_database

from mnist_core.collection import database as C
from mnist_core.collection.database import Collection, CollectionError
from mnist_core.datasets.data import read_idx

SHA = "ab" * 32


def image(seed: int) -> np.ndarray:
    """A (28, 28) uint8 image that differs per seed."""
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def answer(label, seed=0, sha=SHA):
    p = np.random.default_rng(seed).dirichlet(np.ones(10)).astype(np.float32)
    return {"label": label, "probabilities": p, "sha256": sha}


CANVAS_STROKES = {"version": "4.4.0", "objects": [
    {"type": "path", "stroke": "#fff", "strokeWidth": 20,
     "path": [["M", 140.5, 40], ["Q", 140.5, 40, 141, 60], ["L", 142, 240]]}]}


# ---------------------------------------------------------------------------- databases

def assert_one_line(e: Exception, *fragments: str):
    message = str(e)
    assert "\n" not in message and message.strip() == message and message
    for fragment in fragments:
        assert fragment in message, message


# ---------------------------------------------------------------------------- the API

def test_add_records_delete(db):
    c = Collection(db)
    assert len(c) == 0 and c.records() == []
    before = datetime.now(timezone.utc)
    a = c.add(image(1), 4, predictions={"mlp": answer(9, 1), "lenet": answer(4, 2)},
              strokes=CANVAS_STROKES, session="alice")
    b = c.add(image(2), 7, session="bob", source="upload")
    d = c.add(image(3), 0, session="alice")
    assert len({a, b, d}) == 3 and len(c) == 3

    newest = c.records()
    assert [r.id for r in newest] == [d, b, a]  # newest first
    first = newest[-1]
    assert (first.label, first.session, first.source) == (4, "alice", "canvas")
    assert first.created_at.tzinfo == timezone.utc
    assert before - timedelta(seconds=1) <= first.created_at <= datetime.now(timezone.utc)
    assert first.predictions["mlp"]["label"] == 9 and first.predictions["mlp"]["sha256"] == SHA
    np.testing.assert_allclose(first.predictions["lenet"]["probabilities"], answer(4, 2)["probabilities"], rtol=1e-6)
    assert newest[1].source == "upload" and newest[1].predictions == {}
    assert [r.id for r in c.records(session="alice")] == [d, a]
    assert [r.id for r in c.records(limit=1)] == [d]

    assert c.delete(a, session="bob") is False  # not bob's
    assert len(c) == 3
    assert c.delete(a, session="alice") is True
    assert c.delete(a) is False  # already gone
    assert c.delete(b) is True
    assert [r.id for r in c.records()] == [d]
    assert c.delete(d) is True and len(c) == 0
    assert c.add(image(4), 1) > d  # ids are not reused, even the newest one's after its delete


def test_get_stores_the_image_as_uint8_and_the_strokes_as_json(db):
    c = Collection(db)
    floats = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    floats[0, :3] = [0.0, 1.0, 0.5]
    i = c.add(floats, 3, strokes=CANVAS_STROKES)
    j = c.add(image(5), 8, strokes=[np.array([[1, 2], [3, 4]])])
    got = c.get(i)
    assert got.image28.dtype == np.uint8 and got.image28.shape == (28, 28)
    np.testing.assert_array_equal(got.image28, np.round(floats.astype(np.float64) * 255).astype(np.uint8))
    assert list(got.image28[0, :3]) == [0, 255, 128]
    assert got.strokes == CANVAS_STROKES and got.label == 3
    np.testing.assert_array_equal(c.get(j).image28, image(5))  # uint8 stored exactly
    assert c.get(j).strokes == [[[1, 2], [3, 4]]]
    assert c.get(j + 1000) is None


def test_images_and_counts(db):
    c = Collection(db)
    assert c.images()[0].shape == (0, 28, 28) and c.counts().per_day == {}
    late_evening_in_brazil = datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2)))  # 01:30 UTC
    c.add(image(1), 2, created_at=late_evening_in_brazil)
    c.add(image(2), 2, created_at=datetime(2024, 1, 5, 12, tzinfo=timezone.utc))
    c.add(image(3), 9, created_at=datetime(2024, 1, 5, 13, tzinfo=timezone.utc), session="s")
    x, y = c.images()
    assert x.dtype == np.uint8 and x.shape == (3, 28, 28) and y.dtype == np.uint8
    np.testing.assert_array_equal(x, np.stack([image(1), image(2), image(3)]))
    assert list(y) == [2, 2, 9]
    assert list(c.images(session="s")[1]) == [9]
    counts = c.counts()
    assert counts.per_digit == {0: 0, 1: 0, 2: 2, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1}
    assert counts.per_day == {date(2024, 1, 2): 1, date(2024, 1, 5): 2}


BAD_INPUTS = [
    (dict(image28=np.zeros((28, 27), np.uint8)), "shape (28, 28)"),
    (dict(image28=np.zeros((28, 28), np.int64)), "uint8 or float"),
    (dict(image28=np.full((28, 28), 1.5, np.float32)), "[0, 1]"),
    (dict(image28=np.full((28, 28), np.nan, np.float32)), "finite"),
    (dict(label=10), "digit 0..9"),
    (dict(label=True), "digit 0..9"),
    (dict(label="3"), "digit 0..9"),
    (dict(source="camera"), "source"),
    (dict(session=""), "session"),
    (dict(predictions={"mlp": {"label": 3, "probs": [0.1] * 10}}), "keys"),
    (dict(predictions={"mlp": {"label": 3, "probabilities": [0.1] * 9}}), "10 floats"),
    (dict(predictions={"mlp": {"label": 3, "probabilities": [0.1] * 10, "sha256": "xyz"}}), "hex"),
    (dict(predictions=[1, 2]), "mapping"),
    (dict(strokes={"a": object()}), "JSON"),
    (dict(created_at=datetime(2024, 1, 1)), "timezone-aware"),
]


@pytest.mark.parametrize("bad, fragment", BAD_INPUTS)
def test_bad_input_is_a_clear_value_error_and_saves_nothing(tmp_path, bad, fragment):
    c = Collection(tmp_path / "c.sqlite3")
    args = {"image28": image(0), "label": 3, **bad}
    with pytest.raises(ValueError) as e:
        c.add(args.pop("image28"), args.pop("label"), **args)
    assert_one_line(e.value, fragment)
    assert len(c) == 0


# ---------------------------------------------------------------------------- export

def parse_idx(raw: bytes) -> tuple[int, np.ndarray]:
    """Independent IDX parser (the format's spec): 2 zero bytes, type 0x08 (ubyte), ndim; then ndim
    big-endian uint32 sizes; then the data. Returns (magic, array)."""
    magic, = struct.unpack(">I", raw[:4])
    assert raw[:2] == b"\0\0" and raw[2] == 0x08
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = raw[4 + 4 * ndim:]
    assert len(body) == int(np.prod(dims))
    return magic, np.frombuffer(body, np.uint8).reshape(dims)


@pytest.mark.parametrize("compress", [False, True])
def test_export_idx_reads_back_with_an_independent_parser(tmp_path, compress):
    c = Collection(tmp_path / "c.sqlite3")
    images, labels = [image(s) for s in range(5)], [3, 1, 4, 1, 5]
    for im, label in zip(images, labels):
        c.add(im, label)
    paths = c.export(tmp_path / "out" / "idx", format="idx", compress=compress)
    suffix = ".gz" if compress else ""
    assert [p.name for p in paths] == [f"collected-images-idx3-ubyte{suffix}", f"collected-labels-idx1-ubyte{suffix}"]
    raw = [gzip.decompress(p.read_bytes()) if compress else p.read_bytes() for p in paths]
    magic, x = parse_idx(raw[0])
    assert magic == 0x00000803 and x.shape == (5, 28, 28)
    np.testing.assert_array_equal(x, np.stack(images))
    magic, y = parse_idx(raw[1])
    assert magic == 0x00000801 and list(y) == labels
    # ... and with the project's own MNIST reader
    np.testing.assert_array_equal(read_idx(paths[0]), x)
    np.testing.assert_array_equal(read_idx(paths[1]), y)


def test_export_npz_has_keras_mnist_layout(tmp_path):
    c = Collection(tmp_path / "c.sqlite3")
    c.add(image(1), 6)
    c.add(image(2), 2)
    (path,) = c.export(tmp_path, format="npz")
    assert path.name == "collected.npz"
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["x_test", "x_train", "y_test", "y_train"]
        np.testing.assert_array_equal(z["x_train"], np.stack([image(1), image(2)]))
        assert z["y_train"].dtype == np.uint8 and list(z["y_train"]) == [6, 2]
        assert z["x_test"].shape == (0, 28, 28) and z["y_test"].shape == (0,)
    with pytest.raises(ValueError, match="format"):
        c.export(tmp_path, format="csv")


def test_export_of_an_empty_collection_is_valid_idx(tmp_path):
    paths = Collection(tmp_path / "c.sqlite3").export(tmp_path / "out")
    assert read_idx(paths[0]).shape == (0, 28, 28) and read_idx(paths[1]).shape == (0,)


# ---------------------------------------------------------------------------- concurrency

def test_concurrent_threads_lose_nothing(db):
    c = Collection(db)
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda t: [c.add(image(t * 100 + k), k % 10, session=f"t{t}") for k in range(50)],
                            range(8)))
    flat = [i for chunk in ids for i in chunk]
    assert len(set(flat)) == 400 and len(c) == 400
    assert c.counts().per_digit == dict.fromkeys(range(10), 40)
    assert len(c.records(session="t3")) == 50


def _add_in_process(where: str, worker: int, n: int) -> list[int]:
    """Runs in a spawned process: open the collection there (racing the others to create it)."""
    c = Collection(where)
    ids = [c.add(image(worker * 1000 + k), k % 10, session=f"p{worker}") for k in range(n)]
    c.close()
    return ids


def test_concurrent_processes_create_and_fill_one_collection(db):
    # The database is not opened first: the processes also race to create its schema.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ids = pool.starmap(_add_in_process, [(db, w, 50) for w in range(4)])
    flat = [i for chunk in ids for i in chunk]
    c = Collection(db)
    assert len(set(flat)) == 200 and len(c) == 200
    x, y = c.images()
    assert len(x) == 200 and sorted(map(int, y)) == sorted([k % 10 for k in range(50)] * 4)


# ---------------------------------------------------------------------------- schema and files

def sqlite_schema_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])


def test_sqlite_file_is_in_wal_mode(tmp_path):
    path = tmp_path / "c.sqlite3"
    Collection(path).add(image(1), 1)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite_schema_version(path) == C.SCHEMA_VERSION == len(C.MIGRATIONS)


def test_an_empty_file_is_migrated(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    c = Collection(path)
    assert sqlite_schema_version(path) == C.SCHEMA_VERSION
    assert len(c) == 0 and c.add(image(1), 5) == 1


VERSION_1 = """
CREATE TABLE meta (key VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE drawings (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    created_at DATETIME NOT NULL,
    session VARCHAR(64),
    label SMALLINT NOT NULL CHECK (label BETWEEN 0 AND 9),
    image28 BLOB NOT NULL,
    strokes JSON,
    predictions JSON NOT NULL
);
"""


def test_a_version_1_file_is_migrated_keeping_its_drawings(tmp_path):
    path = tmp_path / "v1.sqlite3"
    with sqlite3.connect(path) as conn:  # written by hand, as version 1 of the code wrote it
        conn.executescript(VERSION_1)
        conn.execute("INSERT INTO drawings (created_at, session, label, image28, strokes, predictions) "
                     "VALUES ('2024-03-04 05:06:07.000000', 'old', 6, ?, NULL, ?)",
                     (image(9).tobytes(), json.dumps({"mlp": {"label": 5, "probabilities": [0.1] * 10,
                                                              "sha256": SHA}})))
    conn.close()
    c = Collection(path)
    assert sqlite_schema_version(path) == C.SCHEMA_VERSION
    (old,) = c.records()
    assert (old.label, old.session, old.source) == (6, "old", "canvas")  # version 2's new column, defaulted
    assert old.created_at == datetime(2024, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    assert old.predictions["mlp"]["label"] == 5
    np.testing.assert_array_equal(c.get(old.id).image28, image(9))
    new = c.add(image(1), 1, source="upload", session="new")
    assert new > old.id and c.records(session="new")[0].source == "upload"
    with sqlite3.connect(path) as conn:
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(drawings)")}
    assert "ix_drawings_session" in indexes
    Collection(path)  # opening an up-to-date file again changes nothing
    assert sqlite_schema_version(path) == C.SCHEMA_VERSION and len(c) == 2


def test_a_newer_schema_is_refused(db):
    Collection(db).add(image(1), 1)
    import sqlalchemy as sa

    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}")
    if engine.dialect.name == "postgresql":
        engine = sa.create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(CollectionError) as e:
        Collection(db)
    assert_one_line(e.value, "schema version 99", "newer", "upgrade mnist_core")


# ---------------------------------------------------------------------------- failures: one line

def test_a_corrupt_file_is_one_line_and_left_alone(tmp_path):
    path = tmp_path / "junk.sqlite3"
    junk = b"this is not a database, just some bytes\n" * 200
    path.write_bytes(junk)
    with pytest.raises(CollectionError) as e:
        Collection(path)
    assert_one_line(e.value, str(path), "not a usable SQLite database")
    assert path.read_bytes() == junk


def test_a_missing_folder_is_one_line_and_not_created(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "c.sqlite3"
    with pytest.raises(CollectionError) as e:
        Collection(path)
    assert_one_line(e.value, "does not exist", str(path.parent))
    assert not (tmp_path / "no").exists()


def test_a_locked_database_is_one_line_after_the_timeout(tmp_path):
    path = tmp_path / "c.sqlite3"
    c = Collection(path, timeout=0.3)
    c.add(image(1), 1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holding the write lock
    try:
        start = time.monotonic()
        with pytest.raises(CollectionError) as e:
            c.add(image(2), 2)
        assert 0.25 <= time.monotonic() - start < 5
        assert_one_line(e.value, "locked", "0.3 s")
        assert len(c) == 1  # readers are not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    c.add(image(2), 2)
    assert len(c) == 2


@contextlib.contextmanager
def read_only(*paths):
    """Make paths unwritable: chmod, or for root (whom modes do not stop) the immutable attribute."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            os.chmod(p, 0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                os.chmod(p, mode)
        return
    made = []
    try:
        for p in paths:
            if subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode:
                pytest.skip("running as root and chattr +i is not allowed here: cannot make a file read-only")
            made.append(p)
        yield
    finally:
        for p in made:
            subprocess.run(["chattr", "-i", str(p)], check=True)


def test_a_read_only_sqlite_file_is_permission_denied(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "c.sqlite3"
    Collection(path).close()
    assert sorted(p.name for p in folder.iterdir()) == ["c.sqlite3"]  # the WAL files go on close
    with read_only(path, folder):
        with pytest.raises(CollectionError) as e:
            Collection(path).add(image(1), 1)
        assert_one_line(e.value, str(path), "permission denied")


def test_postgresql_permission_denied_is_one_line(pg_server):
    url = create_database(pg_server, f"locked_down_{os.getpid()}")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE ROLE visitor LOGIN")  # PostgreSQL 15+: no CREATE on schema public
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    with pytest.raises(CollectionError) as e:
        Collection(url.replace("postgres@", "visitor@"))
    assert_one_line(e.value, "permission denied")


def test_an_unreachable_server_is_one_line_without_the_password():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(CollectionError) as e:
        Collection(f"postgresql://someone:s3cret@127.0.0.1:{port}/collection", timeout=2)
    assert time.monotonic() - start < 5
    assert_one_line(e.value, "cannot connect", f"127.0.0.1:{port}")
    assert "s3cret" not in str(e.value)


@pytest.mark.parametrize("url", ["mysql://u@localhost/db", "sqlite://", "not a url ://"])
def test_unsupported_urls_are_one_line(url):
    with pytest.raises(CollectionError) as e:
        Collection(url)
    assert_one_line(e.value)


def test_where_it_lives_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_COLLECTION", str(tmp_path / "from-env.sqlite3"))
    Collection().add(image(1), 1)
    assert len(Collection(tmp_path / "from-env.sqlite3")) == 1
    monkeypatch.delenv("MNIST_COLLECTION")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    c = Collection()  # its folder is created
    assert (tmp_path / "xdg" / "mnist_core" / "collection.sqlite3").is_file() and len(c) == 0
    assert len(Collection(f"sqlite:///{tmp_path / 'from-env.sqlite3'}")) == 1  # an sqlite:/// URL works too


def test_module_keeps_away_from_the_model_stack():
    import sys

    code = ("import sys, mnist_core.collection.database; "
            "print(sorted(m for m in ('keras', 'torch', 'tensorflow', 'streamlit', 'mnist_core.reading.classifier') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert out.stdout.strip() == "[]"
