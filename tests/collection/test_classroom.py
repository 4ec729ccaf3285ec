"""mnist_core.collection.classroom and class_wall on real databases (SQLite and a throwaway PostgreSQL: the `db`
fixture of conftest.py), and the schema migration from version 2 to 3."""

import io
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import sqlalchemy as sa

from mnist_core.collection import class_wall, classroom
from mnist_core.collection import database as C
from mnist_core.collection.classroom import ClassClosed, NotTeacher
from mnist_core.collection.database import Collection


def image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def answer(read: int, confidence: float = 0.9) -> dict:
    p = np.full(10, (1 - confidence) / 9, np.float32)
    p[read] = confidence
    return {"label": read, "probabilities": p, "sha256": None}


def test_codes_are_easy_to_read_aloud_and_forgiving_to_type():
    codes = {classroom.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 6 and not set(c) & set("0O1IL") for c in codes)
    assert classroom.normalise_code(" kp7-q4m ") == "KP7Q4M"
    assert classroom.normalise_code("KP7 Q4M") == "KP7Q4M"
    for bad in ("KP7Q4", "KP7Q4MM", "KP7Q40", "KP7Q4I", None, 7, ""):
        assert classroom.normalise_code(bad) is None
    assert classroom.display_code("KP7Q4M") == "KP7 Q4M"


def test_a_class_from_start_to_end(db):
    c = Collection(db)
    started = classroom.start(c)
    code, key = started.code, started.teacher_key
    assert key not in code and len(key) >= 24
    assert classroom.info(c, code.lower()).is_open()
    assert classroom.is_teacher(c, code, key) and not classroom.is_teacher(c, code, key[:-1] + "x")
    assert not classroom.is_teacher(c, code, None) and not classroom.is_teacher(c, "ABCDEF", key)

    a = classroom.add(c, code, image(1), 3, student="s1", nickname="  Ana  ", predictions={"lenet5": answer(3)})
    b = classroom.add(c, code, image(2), 4, student="s2", predictions={"lenet5": answer(9, 0.8)})
    classroom.add(c, code, image(3), 5, student="s1", predictions={"lenet5": answer(5, 0.6)})
    assert [d[:2] for d in classroom.student_drawings(c, code, "s1")] == [(a, 3), (a + 2, 5)]
    np.testing.assert_array_equal(classroom.student_drawings(c, code, "s2")[0][2], image(2))

    drawn = classroom.class_set(c, code, key)
    assert len(drawn) == 3 and list(drawn.labels) == [3, 4, 5] and drawn.nicknames == ["Ana", "", ""]
    assert drawn.predictions["lenet5"].shape == (3, 10)
    with pytest.raises(NotTeacher):
        classroom.class_set(c, code, "not the key")

    # a student deletes only their own; the teacher hides anyone's, and shows it again
    assert not classroom.delete_own(c, code, "s1", b)
    before = classroom.version(c, code)
    with pytest.raises(NotTeacher):
        classroom.hide(c, code, "guess", b)
    assert classroom.hide(c, code, key, b)
    assert classroom.version(c, code) != before
    assert classroom.student_drawings(c, code, "s2") == []
    assert len(classroom.class_set(c, code, key)) == 2
    assert list(c.images()[1]) == [3, 5] and c.counts().per_digit[4] == 0  # nor in the exports and training
    assert classroom.hide(c, code, key, b, hidden=False) and len(classroom.class_set(c, code, key)) == 3
    assert classroom.delete_own(c, code, "s2", b) and len(classroom.class_set(c, code, key)) == 2

    with pytest.raises(NotTeacher):
        classroom.end(c, code, "guess")
    classroom.end(c, code, key)
    assert not classroom.info(c, code).is_open()
    with pytest.raises(ClassClosed) as e:
        classroom.add(c, code, image(4), 6, student="s1")
    assert "has ended" in str(e.value) and "\n" not in str(e.value)
    assert len(classroom.class_set(c, code, key)) == 2  # what was kept stays the teacher's to export
    with pytest.raises(ClassClosed):
        classroom.add(c, "ABCDEF", image(4), 6, student="s1")


def test_a_class_expires_after_a_day_unused(tmp_path):
    c = Collection(tmp_path / "c.sqlite3")
    then = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    started = classroom.start(c, now=then)
    classroom.add(c, started.code, image(1), 1, student="s", now=then + timedelta(hours=20))
    classroom.add(c, started.code, image(1), 1, student="s", now=then + timedelta(hours=43))  # 23 h idle: open
    with pytest.raises(ClassClosed) as e:
        classroom.add(c, started.code, image(1), 1, student="s", now=then + timedelta(hours=67, minutes=1))
    assert "a day without drawings" in str(e.value)


def test_no_drawing_is_lost_or_accepted_after_the_end(db):
    c = Collection(db)
    started = classroom.start(c)

    def keep(i):
        try:
            return classroom.add(c, started.code, image(i), i % 10, student=f"s{i % 6}")
        except ClassClosed:
            return None

    with ThreadPoolExecutor(6) as pool:
        first = [f.result() for f in [pool.submit(keep, i) for i in range(60)]]
        ended = pool.submit(classroom.end, c, started.code, started.teacher_key)
        later = [f.result() for f in [pool.submit(keep, i) for i in range(60, 80)]]
        ended.result()
    assert None not in first and len(set(first)) == 60
    kept = [i for i in first + later if i is not None]
    assert len(classroom.class_set(c, started.code, started.teacher_key)) == len(kept)
    with pytest.raises(ClassClosed):
        classroom.add(c, started.code, image(1), 1, student="s")


def test_export_is_mnist_format(tmp_path):
    c = Collection(tmp_path / "c.sqlite3")
    s = classroom.start(c)
    for i in range(4):
        classroom.add(c, s.code, image(i), i, student="s")
    drawn = classroom.class_set(c, s.code, s.teacher_key)
    with zipfile.ZipFile(io.BytesIO(classroom.export_bytes(drawn, "idx"))) as archive:
        images = archive.read(f"class-{s.code}-images-idx3-ubyte")
        labels = archive.read(f"class-{s.code}-labels-idx1-ubyte")
    assert struct.unpack(">IIII", images[:16]) == (0x803, 4, 28, 28)
    assert struct.unpack(">II", labels[:8]) == (0x801, 4) and list(labels[8:]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.frombuffer(images[16:], np.uint8).reshape(4, 28, 28)[2], image(2))
    npz = np.load(io.BytesIO(classroom.export_bytes(drawn, "npz")))
    assert npz["x_train"].shape == (4, 28, 28) and npz["x_test"].shape == (0, 28, 28)


def test_wall_figures():
    labels = np.array([3, 3, 4, 7, 7, 7], np.uint8)
    read = [3, 8, 4, 1, 7, 7]
    confidence = [0.9, 0.95, 0.5, 0.6, 0.99, 0.7]
    p = np.stack([answer(r, q)["probabilities"] for r, q in zip(read, confidence)])
    images = np.zeros((6, 28, 28), np.uint8)
    images[:, 10, 10] = [0, 255, 0, 0, 0, 0]
    drawn = classroom.ClassSet("KP7Q4M", np.arange(6), images, labels, ["a", "b", "a", "c", "b", "a"],
                               ["", "Bo", "", "", "", ""], {"lenet5": p})
    assert class_wall.student_names(drawn.students, drawn.nicknames) == [
        "student 1", "Bo", "student 1", "student 3", "Bo", "student 1"]
    assert class_wall.per_student(drawn.students, drawn.nicknames) == [("student 1", 3), ("Bo", 2), ("student 3", 1)]
    assert list(class_wall.per_digit(drawn)) == [0, 0, 0, 2, 1, 0, 0, 3, 0, 0]
    assert class_wall.class_means(drawn)[3, 10, 10] == pytest.approx(0.5)
    r = class_wall.model_readings(drawn)["lenet5"]
    assert r.accuracy == pytest.approx(4 / 6) and r.confusion[3, 8] == 1 and r.confusion[7, 1] == 1
    assert r.confusion.sum() == 6
    assert list(class_wall.worth_a_look(r, labels, k=4)) == [1, 3, 2, 5]  # wrong by confidence, then least sure


def test_a_version_2_collection_is_migrated_keeping_its_drawings(db):
    url = db if "://" in db else f"sqlite:///{db}"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # version 2 exactly as its migrations built it
        for step in C.MIGRATIONS[:2]:
            step(conn)
        conn.execute(sa.text("INSERT INTO meta VALUES ('schema_version', '2')"))
        conn.execute(sa.text("INSERT INTO drawings (created_at, session, label, image28, predictions, source) "
                             "VALUES ('2026-11-04 05:06:07', 'old', 6, :img, '{}', 'upload')"),
                     {"img": image(9).tobytes()})
    c = Collection(db)
    (old,) = c.records()
    assert (old.label, old.session, old.source, old.class_code, old.nickname, old.hidden) == \
        (6, "old", "upload", None, None, False)
    np.testing.assert_array_equal(c.get(old.id).image28, image(9))
    s = classroom.start(c)
    new = classroom.add(c, s.code, image(1), 1, student="st", nickname="Zoe")
    assert (c.get(new).class_code, c.get(new).nickname) == (s.code, "Zoe") and len(c) == 2
    assert len(classroom.class_set(c, s.code, s.teacher_key)) == 1
    with engine.begin() as conn:
        assert int(conn.execute(sa.text("SELECT value FROM meta")).scalar()) == C.SCHEMA_VERSION == 3
        assert "ix_drawings_class" in {ix["name"] for ix in sa.inspect(conn).get_indexes("drawings")}
    engine.dispose()
