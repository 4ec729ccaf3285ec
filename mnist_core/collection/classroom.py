"""A class making its own MNIST: the teacher starts a class, students draw into it, the wall reads it.

    >>> started = start(collection)                  # Started(code="KP7Q4M", teacher_key="…")
    >>> add(collection, started.code, image28, 3, student=session_id, nickname="Ana")
    >>> drawings = class_set(collection, started.code)   # what the wall and the export show
    >>> hide(collection, started.code, started.teacher_key, drawing_id)
    >>> end(collection, started.code, started.teacher_key)

Everything is kept in the collection's database (`mnist_core.collection.database`, schema version 3), so a
class works when its students land on different app servers sharing one PostgreSQL.

* The code is 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L), easy to read
  aloud; `normalise_code` accepts it in any case, with spaces or dashes.
* The teacher's key is 24 random URL-safe characters, not derived from the code; only its
  sha256 is stored. Every teacher action (hide, end, the wall's set and export) checks it here,
  on the server, not only by not showing a button.
* A class is open until its teacher ends it, or until a day passes without a drawing or the
  teacher's wall opening (`IDLE_LIMIT`). Adding to a class that is not open raises `ClassClosed`,
  checked in the same transaction as the insert, so nothing is saved after the end.
* A student is the random id of an app session (no names); a nickname, if typed, is shown to
  the class only. A student sees and deletes their own drawings; a hidden one is gone for them too.

Errors: `ClassClosed` (unknown, ended or expired class), `NotTeacher` (wrong key); both are
`ClassError`, one line. Database failures raise `CollectionError` as the collection does.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import sqlalchemy as sa

from .database import Collection, classes, drawing_row, drawings, idx_bytes, image_array, npz_bytes

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # 31 symbols: no 0/O, 1/I/L look-alikes
CODE_LENGTH = 6  # 31**6 = 887 million codes
IDLE_LIMIT = timedelta(days=1)
MAX_NICKNAME = 24
EXPORT_FORMATS = ("idx", "npz")


class ClassError(RuntimeError):
    """A class action that cannot be done; the message is one line saying why."""


class ClassClosed(ClassError):
    """No open class with this code (never started, ended by its teacher, or idle for a day)."""


class NotTeacher(ClassError):
    """The key given is not this class's teacher's."""


@dataclass(frozen=True)
class Started:
    """A new class: its code (to read aloud, in the join link) and the teacher's key (secret)."""

    code: str
    teacher_key: str


@dataclass(frozen=True)
class ClassInfo:
    """One class's row: times are timezone-aware UTC; ended_at None until the teacher ends it."""

    code: str
    created_at: datetime
    last_active_at: datetime
    ended_at: datetime | None

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        return self.ended_at is None and now - self.last_active_at < IDLE_LIMIT

    def closed_reason(self, now: datetime | None = None) -> str | None:
        """None while open, else one line saying why not."""
        if self.ended_at is not None:
            return f"Class {display_code(self.code)} has ended: drawings are no longer collected."
        if not self.is_open(now):
            return f"Class {display_code(self.code)} ended after a day without drawings."
        return None


@dataclass(frozen=True)
class ClassSet:
    """A class's visible drawings (hidden ones left out), oldest first.

    ids (N,) int64; images (N, 28, 28) uint8 0..255 (the models' input as saved); labels (N,) uint8,
    the digit the student was asked for; students: N random ids; nicknames: N strings ("" for none);
    predictions: {model: (N, 10) float32 probabilities saved with each drawing} for the models every
    drawing has an answer of.
    """

    code: str
    ids: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    students: list[str]
    nicknames: list[str]
    predictions: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.labels)

    def floats(self) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1], as the models take them."""
        return self.images.astype(np.float32) / 255

    def subset(self, index) -> ClassSet:
        index = np.asarray(index, dtype=np.int64)
        return ClassSet(self.code, self.ids[index], self.images[index], self.labels[index],
                        [self.students[i] for i in index], [self.nicknames[i] for i in index],
                        {name: p[index] for name, p in self.predictions.items()})


# ---------------------------------------------------------------------------- codes and keys

def new_code() -> str:
    """A random class code: CODE_LENGTH symbols of CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: object) -> str | None:
    """What a person typed or a link carried ("kp7 q4m", "KP7-Q4M") -> "KP7Q4M", or None when it
    cannot be a class code (wrong length or a symbol not in the alphabet)."""
    if not isinstance(text, str):
        return None
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def display_code(code: str) -> str:
    """"KP7Q4M" -> "KP7 Q4M": two groups of three, easy to read aloud."""
    return f"{code[:3]} {code[3:]}"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _nickname(nickname: object) -> str | None:
    if nickname is None:
        return None
    if not isinstance(nickname, str):
        raise ValueError(f"nickname must be a string, got {type(nickname).__name__}")
    text = " ".join(nickname.split())[:MAX_NICKNAME]
    return text or None


# ---------------------------------------------------------------------------- the class's life

def start(collection: Collection, now: datetime | None = None) -> Started:
    """Start a class: a new code (never one in use) and a new teacher key."""
    now = now or datetime.now(timezone.utc)
    key = secrets.token_urlsafe(18)
    with collection.transaction(write=True) as conn:
        for _ in range(20):
            code = new_code()
            if conn.execute(sa.select(classes.c.code).where(classes.c.code == code)).first() is None:
                break
        else:  # 20 codes in a row taken: not a real case with 887 million codes
            raise ClassError("could not find an unused class code; try again")
        conn.execute(classes.insert().values(code=code, teacher_sha256=_key_hash(key), created_at=now,
                                             last_active_at=now, ended_at=None))
    return Started(code, key)


def info(collection: Collection, code: str | None) -> ClassInfo | None:
    """The class `code` (any spelling `normalise_code` takes), or None when there is none."""
    code = normalise_code(code)
    if code is None:
        return None
    with collection.transaction() as conn:
        row = conn.execute(sa.select(classes.c.code, classes.c.created_at, classes.c.last_active_at,
                                     classes.c.ended_at).where(classes.c.code == code)).first()
    return None if row is None else ClassInfo(**row._mapping)


def _open_class(conn: sa.Connection, code: str | None, now: datetime, lock: bool = False) -> ClassInfo:
    """The open class `code` in this transaction, or ClassClosed."""
    normal = normalise_code(code)
    query = sa.select(classes.c.code, classes.c.created_at, classes.c.last_active_at, classes.c.ended_at)
    if lock:
        query = query.with_for_update()  # PostgreSQL: an `end` waits for this insert, or this for it
    row = None if normal is None else conn.execute(query.where(classes.c.code == normal)).first()
    if row is None:
        raise ClassClosed(f"There is no class {code!s}: check the code.")
    found = ClassInfo(**row._mapping)
    reason = found.closed_reason(now)
    if reason:
        raise ClassClosed(reason)
    return found


def _check_teacher(conn: sa.Connection, code: str, key: str | None) -> None:
    stored = conn.execute(sa.select(classes.c.teacher_sha256).where(classes.c.code == code)).scalar()
    if stored is None or not isinstance(key, str) or not hmac.compare_digest(stored, _key_hash(key)):
        raise NotTeacher(f"Only the teacher who started class {display_code(code)} can do that.")


def is_teacher(collection: Collection, code: str | None, key: str | None) -> bool:
    """Whether `key` is the teacher's key of class `code` (ended or not)."""
    normal = normalise_code(code)
    if normal is None:
        return False
    with collection.transaction() as conn:
        try:
            _check_teacher(conn, normal, key)
        except NotTeacher:
            return False
    return True


def touch(collection: Collection, code: str, key: str, now: datetime | None = None) -> None:
    """The teacher's wall is open: the class is in use (it does not expire while watched)."""
    now = now or datetime.now(timezone.utc)
    with collection.transaction(write=True) as conn:
        found = _open_class(conn, code, now)
        _check_teacher(conn, found.code, key)
        conn.execute(classes.update().where(classes.c.code == found.code).values(last_active_at=now))


def end(collection: Collection, code: str, key: str, now: datetime | None = None) -> None:
    """End class `code` (its teacher's `key`): no drawing is accepted after this returns."""
    now = now or datetime.now(timezone.utc)
    normal = normalise_code(code) or ""
    with collection.transaction(write=True) as conn:
        _check_teacher(conn, normal, key)
        conn.execute(classes.update().where(classes.c.code == normal, classes.c.ended_at.is_(None))
                     .values(ended_at=now))


# ---------------------------------------------------------------------------- students' drawings

def add(collection: Collection, code: str, image28, label: int, *, student: str, nickname: str | None = None,
        strokes=None, predictions=None, source: str = "canvas", now: datetime | None = None) -> int:
    """Save one drawing into class `code` (`Collection.add`'s arguments; `student` is the session
    id); returns its id. Raises ClassClosed when the class is not open (checked in the insert's
    transaction), ValueError for bad arguments."""
    now = now or datetime.now(timezone.utc)
    row = drawing_row(image28, label, strokes=strokes, predictions=predictions, session=student, source=source,
                      created_at=now)
    if row["session"] is None:
        raise ValueError("student must be a session id (1..64 characters)")
    with collection.transaction(write=True) as conn:
        found = _open_class(conn, code, now, lock=True)
        row.update(class_code=found.code, nickname=_nickname(nickname))
        new_id = int(conn.execute(drawings.insert().values(**row).returning(drawings.c.id)).scalar_one())
        conn.execute(classes.update().where(classes.c.code == found.code).values(last_active_at=now))
    return new_id


def student_drawings(collection: Collection, code: str, student: str) -> list[tuple[int, int, np.ndarray]]:
    """What `student` kept in class `code` and is still visible, oldest first: [(id, label,
    (28, 28) uint8 image)]. Never another student's."""
    query = (sa.select(drawings.c.id, drawings.c.label, drawings.c.image28)
             .where(drawings.c.class_code == normalise_code(code), drawings.c.session == student,
                    drawings.c.hidden.is_(False))
             .order_by(drawings.c.id))
    with collection.transaction() as conn:
        return [(int(r.id), int(r.label), image_array(r.image28)) for r in conn.execute(query)]


def delete_own(collection: Collection, code: str, student: str, drawing_id: int) -> bool:
    """Delete one of `student`'s drawings in class `code`; False when it is not theirs (or gone)."""
    query = drawings.delete().where(drawings.c.id == int(drawing_id), drawings.c.session == student,
                                    drawings.c.class_code == normalise_code(code))
    with collection.transaction(write=True) as conn:
        return conn.execute(query).rowcount > 0


def hide(collection: Collection, code: str, key: str, drawing_id: int, hidden: bool = True) -> bool:
    """The teacher hides (or shows again) drawing `drawing_id` of class `code`: off the wall, the
    student's page and the class's set at once. False when the class has no such drawing."""
    normal = normalise_code(code) or ""
    with collection.transaction(write=True) as conn:
        _check_teacher(conn, normal, key)
        query = (drawings.update().where(drawings.c.id == int(drawing_id), drawings.c.class_code == normal)
                 .values(hidden=bool(hidden)))
        return conn.execute(query).rowcount > 0


# ---------------------------------------------------------------------------- the wall's reads

def version(collection: Collection, code: str) -> tuple[int, int, int, int]:
    """A cheap fingerprint of class `code`'s drawings: (count, newest id, hidden count, sum of ids).
    It changes whenever a drawing is added, deleted, hidden or shown again, so the wall recomputes
    its figures only then."""
    hidden = sa.func.sum(sa.case((drawings.c.hidden, 1), else_=0))
    query = sa.select(sa.func.count(), sa.func.max(drawings.c.id), hidden, sa.func.sum(drawings.c.id)) \
        .where(drawings.c.class_code == normalise_code(code))
    with collection.transaction() as conn:
        count, newest, n_hidden, total = conn.execute(query).one()
    return int(count), int(newest or 0), int(n_hidden or 0), int(total or 0)


def class_set(collection: Collection, code: str, key: str) -> ClassSet:
    """Class `code`'s visible drawings as a data set (the teacher's `key`: NotTeacher otherwise)."""
    normal = normalise_code(code) or ""
    query = (sa.select(drawings.c.id, drawings.c.image28, drawings.c.label, drawings.c.session,
                       drawings.c.nickname, drawings.c.predictions)
             .where(drawings.c.class_code == normal, drawings.c.hidden.is_(False)).order_by(drawings.c.id))
    with collection.transaction() as conn:
        _check_teacher(conn, normal, key)
        rows = conn.execute(query).all()
    images = np.stack([image_array(r.image28) for r in rows]) if rows else np.zeros((0, 28, 28), np.uint8)
    models = set.intersection(*(set(r.predictions) for r in rows)) if rows else set()
    predictions = {name: np.array([r.predictions[name]["probabilities"] for r in rows], np.float32)
                   for name in sorted(models)}
    return ClassSet(normal, np.array([r.id for r in rows], np.int64), images,
                    np.array([r.label for r in rows], np.uint8), [r.session or "" for r in rows],
                    [r.nickname or "" for r in rows], predictions)


def export_bytes(drawn: ClassSet, format: str = "idx") -> bytes:
    """The class's set in MNIST's formats: "npz" -> an .npz laid out like Keras' mnist.npz (every
    drawing in x_train (N, 28, 28) uint8 and y_train (N,) uint8; x_test, y_test empty); "idx" -> a
    zip of the two IDX files (images magic 0x00000803, labels 0x00000801), oldest drawing first."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {format!r}")
    x, y = drawn.images, drawn.labels
    if format == "npz":
        return npz_bytes(x_train=x, y_train=y, x_test=x[:0], y_test=y[:0])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"class-{drawn.code}-images-idx3-ubyte", idx_bytes(x))
        archive.writestr(f"class-{drawn.code}-labels-idx1-ubyte", idx_bytes(y))
    return buffer.getvalue()
