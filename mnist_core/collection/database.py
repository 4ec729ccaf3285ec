"""Drawings that users confirmed or corrected, kept in a database (SQLite or PostgreSQL).

    >>> c = Collection("collected.sqlite3")          # or a postgresql://user@host/db URL
    >>> i = c.add(image28, 7, predictions={"lenet": {"label": 1, "probabilities": p, "sha256": s}})
    >>> len(c), c.delete(i)
    (1, True)
    >>> c.export("out", format="idx")                # MNIST-format files other tools read

The app calls `add` only when the user clicks "confirm" or gives the right digit: nothing is
saved without that click. A session can delete what it saved (`delete(id, session=...)`).

Where the collection lives (`Collection(path_or_url)`):

* ``None``: the ``MNIST_COLLECTION`` environment variable (a path or a URL), else the file
  ``$XDG_DATA_HOME/mnist_core/collection.sqlite3`` (default ``~/.local/share/mnist_core/``;
  that folder is created). An explicit path's folder must exist: a typo is an error, not a new folder.
* a file path (or a ``sqlite:///`` URL): an embedded SQLite database, in WAL mode with a busy
  timeout, so several processes and threads can write at once.
* a ``postgresql://`` URL: PostgreSQL through psycopg 3, so several app servers behind a load
  balancer share one collection.

Schema (`SCHEMA_VERSION`): a ``meta`` table (key/value; ``schema_version``) and a ``drawings``
table, one row per saved drawing:

    id           integer, never reused
    created_at   UTC time of the click (stored as a timestamp without time zone, in UTC)
    session      the app session that saved it, or NULL
    label        the right digit 0..9, as the user confirmed or corrected it
    image28      784 bytes: the (28, 28) model input as uint8 0..255, row-major (MNIST's format)
    strokes      JSON or NULL: the canvas's path data, as the canvas gave it
    predictions  JSON: {model name: {"label": 0..9 or null, "probabilities": [10 floats],
                 "sha256": the model card's sha256 or null}}
    source       'canvas' | 'upload'
    class_code   the class it was drawn in (`mnist_core.collection.classroom`), or NULL
    nickname     the name a student chose to show their class, or NULL
    hidden       true once the class's teacher hid it (off the wall, the student's page, the class's set)

and a ``classes`` table, one row per class a teacher started (`mnist_core.collection.classroom`):

    code            6 characters, the class's code (the primary key)
    teacher_sha256  the sha256 of the teacher's key (the key itself is never stored)
    created_at, last_active_at, ended_at   UTC; ended_at NULL while the teacher has not ended it

The schema is created and upgraded when a collection is opened: `MIGRATIONS` is an ordered list
of functions, one per version, applied in one transaction (an empty file gets them all).

Every database failure (corrupt file, unreachable server, database locked past the timeout,
permission denied, a schema newer than this code) raises `CollectionError` with a one-line
message, so the app can show one line and go on reading digits. Bad arguments raise ValueError.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import sqlite3
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event, exc

from ..datasets.data import _write_atomic

ENV_VAR = "MNIST_COLLECTION"
SCHEMA_VERSION = 3
SOURCES = ("canvas", "upload")
DEFAULT_TIMEOUT = 10.0  # seconds: waiting for a lock, or for a server to answer
EXPORT_FORMATS = ("idx", "npz")
IDX_IMAGES = "collected-images-idx3-ubyte"
IDX_LABELS = "collected-labels-idx1-ubyte"
NPZ_NAME = "collected.npz"
_PG_LOCK_KEY = 0x6D6E6973  # pg_advisory_xact_lock key: one migrating server at a time


class CollectionError(RuntimeError):
    """The collection's database cannot be used; the message is one line saying why."""


@dataclass(frozen=True)
class Record:
    """One saved drawing, without its image and strokes (what a list of drawings shows).

    created_at is timezone-aware UTC; predictions is {model: {"label", "probabilities", "sha256"}}.
    """

    id: int
    created_at: datetime
    label: int
    session: str | None
    source: str
    predictions: dict
    class_code: str | None
    nickname: str | None
    hidden: bool


@dataclass(frozen=True)
class Drawing(Record):
    """One saved drawing in full: image28 is (28, 28) uint8 0..255; strokes is the JSON saved, or None."""

    image28: np.ndarray
    strokes: object


@dataclass(frozen=True)
class Counts:
    """per_digit: {0..9: count}, every digit present; per_day: {UTC date: count}, oldest first."""

    per_digit: dict[int, int]
    per_day: dict[date, int]


# ---------------------------------------------------------------------------- schema

class _UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, stored as naive UTC (the same on SQLite and PostgreSQL), aware UTC out."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("created_at must be timezone-aware")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


_metadata = sa.MetaData()
meta = sa.Table("meta", _metadata,
                sa.Column("key", sa.String(64), primary_key=True),
                sa.Column("value", sa.Text, nullable=False))
drawings = sa.Table(  # the current layout (SCHEMA_VERSION); MIGRATIONS build it step by step
    "drawings", _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", _UTCDateTime, nullable=False),
    sa.Column("session", sa.String(64)),
    sa.Column("label", sa.SmallInteger, nullable=False),
    sa.Column("image28", sa.LargeBinary, nullable=False),
    sa.Column("strokes", sa.JSON(none_as_null=True)),
    sa.Column("predictions", sa.JSON, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("class_code", sa.String(8)),
    sa.Column("nickname", sa.String(24)),
    sa.Column("hidden", sa.Boolean, nullable=False),
)
classes = sa.Table(
    "classes", _metadata,
    sa.Column("code", sa.String(8), primary_key=True),
    sa.Column("teacher_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", _UTCDateTime, nullable=False),
    sa.Column("last_active_at", _UTCDateTime, nullable=False),
    sa.Column("ended_at", _UTCDateTime),
)


def _migrate_1(conn: sa.Connection) -> None:
    """Version 1: the meta table and the first layout of drawings (no `source`)."""
    md = sa.MetaData()
    sa.Table("meta", md,
             sa.Column("key", sa.String(64), primary_key=True),
             sa.Column("value", sa.Text, nullable=False))
    sa.Table("drawings", md,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("created_at", sa.DateTime, nullable=False),
             sa.Column("session", sa.String(64)),
             sa.Column("label", sa.SmallInteger, sa.CheckConstraint("label BETWEEN 0 AND 9"), nullable=False),
             sa.Column("image28", sa.LargeBinary, nullable=False),
             sa.Column("strokes", sa.JSON),
             sa.Column("predictions", sa.JSON, nullable=False),
             sqlite_autoincrement=True)  # ids are never reused after a delete
    md.create_all(conn)


def _migrate_2(conn: sa.Connection) -> None:
    """Version 2: where the drawing came from (`source`), and an index for per-session lists."""
    conn.execute(sa.text("ALTER TABLE drawings ADD COLUMN source VARCHAR(16) NOT NULL DEFAULT 'canvas' "
                         "CHECK (source IN ('canvas', 'upload'))"))
    conn.execute(sa.text("CREATE INDEX ix_drawings_session ON drawings (session)"))


def _migrate_3(conn: sa.Connection) -> None:
    """Version 3: classes (`mnist_core.collection.classroom`): the classes table, and each drawing's class,
    nickname and whether its teacher hid it, with an index for a class's drawings in order."""
    md = sa.MetaData()
    sa.Table("classes", md,
             sa.Column("code", sa.String(8), primary_key=True),
             sa.Column("teacher_sha256", sa.String(64), nullable=False),
             sa.Column("created_at", sa.DateTime, nullable=False),
             sa.Column("last_active_at", sa.DateTime, nullable=False),
             sa.Column("ended_at", sa.DateTime))
    md.create_all(conn)
    for column in ("class_code VARCHAR(8)", "nickname VARCHAR(24)", "hidden BOOLEAN NOT NULL DEFAULT FALSE"):
        conn.execute(sa.text(f"ALTER TABLE drawings ADD COLUMN {column}"))
    conn.execute(sa.text("CREATE INDEX ix_drawings_class ON drawings (class_code, id)"))


#: MIGRATIONS[v - 1] turns a version v - 1 database into version v (0 = empty)
MIGRATIONS: list[Callable[[sa.Connection], None]] = [_migrate_1, _migrate_2, _migrate_3]
assert len(MIGRATIONS) == SCHEMA_VERSION


# ---------------------------------------------------------------------------- input checks

def _image_bytes(image28) -> bytes:
    """(28, 28) uint8 0..255, or float in [0, 1] (rounded to uint8) -> 784 bytes row-major."""
    a = np.asarray(image28)
    if a.shape != (28, 28):
        raise ValueError(f"image28 must have shape (28, 28), got {a.shape}")
    if a.dtype == np.uint8:
        return a.tobytes()
    if a.dtype.kind != "f":
        raise ValueError(f"image28 must be uint8 or float in [0, 1], got dtype {a.dtype}")
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise ValueError(f"image28 floats must be finite and in [0, 1], got range "
                         f"[{np.nanmin(a):g}, {np.nanmax(a):g}]" if np.isfinite(a).any() else
                         "image28 floats must be finite and in [0, 1]")
    return np.round(a.astype(np.float64) * 255).astype(np.uint8).tobytes()


def _digit(value, what: str, *, none_ok: bool = False) -> int | None:
    if value is None and none_ok:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 9:
        raise ValueError(f"{what} must be a digit 0..9{' or None' if none_ok else ''}, got {value!r}")
    return int(value)


def _predictions(predictions) -> dict:
    """{model: {"label": 0..9|None, "probabilities": 10 floats in [0, 1], "sha256": 64 hex|None}}
    -> the same as plain JSON types (numpy arrays and scalars converted)."""
    if predictions is None:
        return {}
    if not isinstance(predictions, Mapping):
        raise ValueError(f"predictions must be a mapping of model name -> answer, got {type(predictions).__name__}")
    out = {}
    for name, answer in predictions.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"predictions: model names must be non-empty strings, got {name!r}")
        if not isinstance(answer, Mapping):
            raise ValueError(f"predictions[{name!r}] must be a mapping, got {type(answer).__name__}")
        unknown = set(answer) - {"label", "probabilities", "sha256"}
        if unknown or "label" not in answer or "probabilities" not in answer:
            raise ValueError(f"predictions[{name!r}] must have keys label, probabilities and optionally "
                             f"sha256, got {sorted(map(str, answer))}")
        p = np.asarray(answer["probabilities"], dtype=np.float64)
        if p.shape != (10,) or not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
            raise ValueError(f"predictions[{name!r}]['probabilities'] must be 10 floats in [0, 1], "
                             f"got shape {p.shape}")
        sha = answer.get("sha256")
        if sha is not None and not (isinstance(sha, str) and len(sha) == 64
                                    and all(ch in "0123456789abcdef" for ch in sha)):
            raise ValueError(f"predictions[{name!r}]['sha256'] must be 64 lowercase hex digits or None, got {sha!r}")
        out[name] = {"label": _digit(answer["label"], f"predictions[{name!r}]['label']", none_ok=True),
                     "probabilities": [float(v) for v in p], "sha256": sha}
    return out


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _strokes(strokes):
    """Any JSON-serialisable value (numpy arrays become lists) -> plain JSON types, or None."""
    if strokes is None:
        return None
    try:
        text = json.dumps(strokes, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"strokes must be JSON-serialisable: {e}") from None
    return json.loads(text)


def _session(session) -> str | None:
    if session is not None and not (isinstance(session, str) and 0 < len(session) <= 64):
        raise ValueError(f"session must be a string of 1..64 characters or None, got {session!r}")
    return session


def drawing_row(image28, label: int, *, strokes=None, predictions: Mapping | None = None,
                session: str | None = None, source: str = "canvas", created_at: datetime | None = None) -> dict:
    """`Collection.add`'s arguments checked -> the row to insert into `drawings` (no class: see
    `mnist_core.collection.classroom.add`). Raises ValueError for a bad argument."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if created_at is not None and (not isinstance(created_at, datetime) or created_at.tzinfo is None):
        raise ValueError(f"created_at must be a timezone-aware datetime, got {created_at!r}")
    return {"image28": _image_bytes(image28), "label": _digit(label, "label"), "strokes": _strokes(strokes),
            "predictions": _predictions(predictions), "session": _session(session), "source": source,
            "created_at": created_at or datetime.now(timezone.utc), "class_code": None, "nickname": None,
            "hidden": False}


# ---------------------------------------------------------------------------- errors

def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


# ---------------------------------------------------------------------------- the collection

class Collection:
    """Saved drawings in a database; see the module docstring for where, and the schema.

    path_or_url: a file path, ``sqlite:///...`` or ``postgresql://...``; None: $MNIST_COLLECTION,
                 else ``$XDG_DATA_HOME/mnist_core/collection.sqlite3`` (~/.local/share/mnist_core/).
    timeout:     seconds to wait for a locked database (or for a PostgreSQL server to answer)
                 before raising CollectionError.
    Opening creates or upgrades the schema; it raises CollectionError (one line) when the
    database cannot be used. Thread-safe; in another process open another Collection.
    """

    def __init__(self, path_or_url: str | os.PathLike | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        self.timeout = float(timeout)
        url, self._path = self._locate(path_or_url)
        # for messages: no password, and the URL as the user wrote it (without the driver)
        self.url = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            self._engine = sa.create_engine(url, connect_args={"timeout": self.timeout})
            event.listen(self._engine, "connect", self._sqlite_connect)
            event.listen(self._engine, "begin", self._sqlite_begin)
        else:
            ms = int(self.timeout * 1000)
            self._engine = sa.create_engine(url, pool_pre_ping=True, connect_args={
                "connect_timeout": max(1, math.ceil(self.timeout)),
                "options": f"-c lock_timeout={ms}"})
        try:
            self._migrate()
        except BaseException:
            self._engine.dispose()
            raise

    # ------------------------------------------------------------ opening

    @staticmethod
    def _locate(path_or_url) -> tuple[sa.URL, Path | None]:
        """-> (SQLAlchemy URL, the SQLite file or None)."""
        default = False
        if path_or_url is None:
            path_or_url = os.environ.get(ENV_VAR) or None
        if path_or_url is None:
            base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
            path_or_url, default = Path(base) / "mnist_core" / "collection.sqlite3", True
        text = os.fspath(path_or_url)
        if "://" not in text:
            path = Path(text).expanduser().absolute()
            if default:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise CollectionError(f"collection {path}: cannot create its folder: {e.strerror or e}") from None
            if path.is_dir():
                raise CollectionError(f"collection {path}: is a folder, expected a database file")
            if not path.parent.is_dir():
                raise CollectionError(f"collection {path}: folder {path.parent} does not exist")
            return sa.URL.create("sqlite", database=str(path)), path
        try:
            url = sa.make_url(text)
        except exc.ArgumentError:
            raise CollectionError(f"collection URL {text.split('@')[-1]!r}: not a database URL") from None
        backend = url.get_backend_name()
        if backend in ("postgresql", "postgres"):
            if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
                return url.set(drivername="postgresql+psycopg"), None
        elif backend == "sqlite" and url.database and url.database != ":memory:":
            return Collection._locate(url.database)
        raise CollectionError(f"collection URL {url.render_as_string(hide_password=True)}: unsupported; "
                              "give a file path (SQLite) or a postgresql:// URL")

    def _sqlite_connect(self, dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun by _sqlite_begin, not by sqlite3
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe with WAL
        cur.close()

    @staticmethod
    def _sqlite_begin(conn: sa.Connection) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE), so they wait for it (busy_timeout)
        # instead of failing when a read transaction cannot be upgraded.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("mnist_write") else "BEGIN")

    @contextlib.contextmanager
    def transaction(self, write: bool = False):
        """A connection in a transaction, committed at the end (`write`: one that writes, which on
        SQLite takes the write lock at its start); database errors raise CollectionError. For
        modules that keep more in the collection's tables (`mnist_core.collection.classroom`)."""
        try:
            conn = self._engine.connect()
        except exc.SQLAlchemyError as e:
            raise self._error(e, connecting=True) from None
        try:
            with conn:
                if write:
                    conn.execution_options(mnist_write=True)
                with conn.begin():
                    yield conn
        except exc.SQLAlchemyError as e:
            raise self._error(e) from None
        except sqlite3.Error as e:  # raised outside SQLAlchemy's wrapping (rare)
            raise self._error(e) from None

    def _schema_version(self, conn: sa.Connection) -> int:
        if not sa.inspect(conn).has_table("meta"):
            return 0
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        try:
            return int(value)
        except (TypeError, ValueError):
            raise CollectionError(f"collection {self._where()}: table meta has no valid schema_version "
                                  f"({value!r}); not an MNIST collection?") from None

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = self._schema_version(conn)
        if version == SCHEMA_VERSION:
            return
        with self.transaction(write=True) as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            version = self._schema_version(conn)  # again: another process may have migrated meanwhile
            if version > SCHEMA_VERSION:
                raise CollectionError(f"collection {self._where()}: schema version {version} is newer than this "
                                      f"code knows ({SCHEMA_VERSION}); upgrade mnist_core")
            for step in MIGRATIONS[version:]:
                step(conn)
            if version == 0:
                conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif version < SCHEMA_VERSION:
                conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))

    def _where(self) -> str:
        return str(self._path) if self._path is not None else self.url

    def _error(self, e: BaseException, connecting: bool = False) -> CollectionError:
        """A database exception -> CollectionError with one line saying what is wrong."""
        orig = getattr(e, "orig", None) or e
        text = _one_line(orig).lower()
        where = f"collection {self._where()}"
        locked = f"{where}: database is locked by another writer for more than {self.timeout:g} s"
        if self.dialect == "sqlite":
            if "file is not a database" in text or "malformed" in text:
                return CollectionError(f"{where}: not a usable SQLite database (corrupt, or another kind of file)")
            if "locked" in text or "busy" in text:
                return CollectionError(locked)
            if "readonly" in text or "unable to open" in text:
                writable = self._path is not None and os.access(self._path.parent, os.W_OK) and (
                    not self._path.exists() or os.access(self._path, os.W_OK))
                if not writable:
                    return CollectionError(f"{where}: permission denied (cannot write the file or its folder)")
                return CollectionError(f"{where}: cannot open the database ({_one_line(orig)})")
        else:
            if "lock timeout" in text:
                return CollectionError(locked)
            if "permission denied" in text:
                return CollectionError(f"{where}: permission denied ({_first_line(orig)})")
            if connecting or (isinstance(e, exc.OperationalError) and "connection" in text):
                return CollectionError(f"{where}: cannot connect ({_first_line(orig)})")
        return CollectionError(f"{where}: {type(orig).__name__}: {_first_line(orig)}")

    # ------------------------------------------------------------ writing

    def add(self, image28, label: int, *, strokes=None, predictions: Mapping | None = None,
            session: str | None = None, source: str = "canvas", created_at: datetime | None = None) -> int:
        """Save one drawing the user confirmed or corrected; returns its id.

        image28:     (28, 28) uint8 0..255, or float in [0, 1] (stored rounded to uint8): what the models saw.
        label:       the right digit 0..9.
        strokes:     the canvas's path data (anything JSON-serialisable; numpy arrays become lists), or None.
        predictions: {model name: {"label": 0..9 or None, "probabilities": (10,) floats in [0, 1],
                     "sha256": the model card's sha256 or None}}.
        session:     the app session saving it (1..64 characters), so it can delete its own drawings.
        source:      "canvas" or "upload".
        created_at:  timezone-aware time; default now (UTC).
        Raises ValueError for bad arguments, CollectionError when the database fails.
        """
        row = drawing_row(image28, label, strokes=strokes, predictions=predictions, session=session,
                          source=source, created_at=created_at)
        with self.transaction(write=True) as conn:
            return int(conn.execute(drawings.insert().values(**row).returning(drawings.c.id)).scalar_one())

    def delete(self, id: int, session: str | None = None) -> bool:
        """Delete drawing `id`; with `session`, only if that session saved it. True if a row was deleted."""
        query = drawings.delete().where(drawings.c.id == int(id))
        if session is not None:
            query = query.where(drawings.c.session == _session(session))
        with self.transaction(write=True) as conn:
            return conn.execute(query).rowcount > 0

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        with self.transaction() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(drawings)).scalar_one())

    def records(self, *, session: str | None = None, limit: int | None = None) -> list[Record]:
        """Saved drawings newest first, without images and strokes (cheap); only `session`'s if given."""
        query = (sa.select(drawings.c.id, drawings.c.created_at, drawings.c.label, drawings.c.session,
                           drawings.c.source, drawings.c.predictions, drawings.c.class_code, drawings.c.nickname,
                           drawings.c.hidden)
                 .order_by(drawings.c.id.desc()).limit(limit))
        if session is not None:
            query = query.where(drawings.c.session == _session(session))
        with self.transaction() as conn:
            return [Record(**row._mapping) for row in conn.execute(query)]

    def get(self, id: int) -> Drawing | None:
        """Drawing `id` in full (image28 (28, 28) uint8, strokes), or None if there is none."""
        with self.transaction() as conn:
            row = conn.execute(sa.select(drawings).where(drawings.c.id == int(id))).first()
        if row is None:
            return None
        values = dict(row._mapping)
        values["image28"] = image_array(values["image28"])
        return Drawing(**values)

    def images(self, *, session: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All saved drawings, oldest first: ((N, 28, 28) uint8 0..255, (N,) uint8 labels 0..9).
        A drawing a class's teacher hid is left out: what the exports and `--extra` training get."""
        query = sa.select(drawings.c.image28, drawings.c.label).where(drawings.c.hidden.is_(False)) \
            .order_by(drawings.c.id)
        if session is not None:
            query = query.where(drawings.c.session == _session(session))
        with self.transaction() as conn:
            rows = conn.execute(query).all()
        x = np.stack([image_array(r.image28) for r in rows]) if rows else np.zeros((0, 28, 28), np.uint8)
        return x, np.array([r.label for r in rows], dtype=np.uint8)

    def counts(self, *, session: str | None = None) -> Counts:
        """How many drawings per digit (all ten) and per UTC day, the hidden ones left out as in
        `images`; only `session`'s if given."""
        day = sa.func.date(drawings.c.created_at)
        mine = [drawings.c.hidden.is_(False)]
        if session is not None:
            mine.append(drawings.c.session == _session(session))
        with self.transaction() as conn:
            digits = dict(conn.execute(sa.select(drawings.c.label, sa.func.count()).where(*mine)
                                       .group_by(drawings.c.label)).all())
            days = conn.execute(sa.select(day, sa.func.count()).where(*mine).group_by(day).order_by(day)).all()
        return Counts(per_digit={d: int(digits.get(d, 0)) for d in range(10)},
                      per_day={(d if isinstance(d, date) else date.fromisoformat(d)): int(n) for d, n in days})

    # ------------------------------------------------------------ export

    def export(self, folder: str | os.PathLike, format: str = "idx", *, compress: bool = False) -> list[Path]:
        """Write every drawing but the hidden ones (oldest first) as MNIST-format files into `folder`
        (created if missing).

        format="idx": ``collected-images-idx3-ubyte`` (magic 0x00000803, dims N x 28 x 28) and
        ``collected-labels-idx1-ubyte`` (magic 0x00000801, dim N), uint8 like MNIST's own files;
        compress=True gzips them (``.gz`` added).
        format="npz": ``collected.npz`` laid out like Keras' mnist.npz: x_train (N, 28, 28) uint8 and
        y_train (N,) uint8 hold every drawing; x_test (0, 28, 28) and y_test (0,) are empty.
        Returns the paths written. Files are written whole (temp file, then rename).
        """
        if format not in EXPORT_FORMATS:
            raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
        x, y = self.images()
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CollectionError(f"export folder {folder}: {e.strerror or e}") from None
        if format == "npz":
            files = {folder / NPZ_NAME: npz_bytes(x_train=x, y_train=y, x_test=x[:0], y_test=y[:0])}
        else:
            files = {folder / IDX_IMAGES: idx_bytes(x), folder / IDX_LABELS: idx_bytes(y)}
            if compress:
                files = {p.with_name(p.name + ".gz"): gzip.compress(b, mtime=0) for p, b in files.items()}
        try:
            for path, data in files.items():
                _write_atomic(path, data)
        except OSError as e:
            raise CollectionError(f"export to {folder}: {e.strerror or e}") from None
        return list(files)

    # ------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Close the database connections (the object can open new ones if used again)."""
        self._engine.dispose()

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Collection({self._where()!r})"


def image_array(data: bytes) -> np.ndarray:
    """784 stored bytes -> (28, 28) uint8."""
    if len(data) != 784:
        raise CollectionError(f"stored image has {len(data)} bytes, expected 784 (28 x 28 uint8)")
    return np.frombuffer(data, dtype=np.uint8).reshape(28, 28).copy()


def idx_bytes(a: np.ndarray) -> bytes:
    """An IDX file's bytes: (N, 28, 28) uint8 -> images (magic 0x00000803); (N,) uint8 -> labels (0x00000801).
    Header: the magic number, then each dimension, big-endian 32-bit; then the bytes row-major."""
    if a.dtype != np.uint8 or a.ndim not in (1, 3):
        raise ValueError(f"idx_bytes needs (N,) or (N, 28, 28) uint8, got {a.shape} {a.dtype}")
    magic = 0x00000803 if a.ndim == 3 else 0x00000801
    return struct.pack(f">I{a.ndim}I", magic, *a.shape) + np.ascontiguousarray(a).tobytes()


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """An .npz file's bytes (compressed), for writing in one piece."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()
