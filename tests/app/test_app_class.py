"""A class under AppTest (app/classes.py, app/tabs/classroom.py, app/roles.py): the teacher's wall,
students joining by the link, keeping, hiding, ending; and what a student's session cannot do,
whatever its URL or widgets say. Each test has its own SQLite collection; the database is checked."""

import pytest
from streamlit.testing.v1 import AppTest

from core_helpers import drawing
from mnist_core.collection import classroom
from mnist_core.collection.database import Collection, CollectionError
from test_app_draw import APP, TIMEOUT, draw, models_dir, run  # noqa: F401 (models_dir: a fixture)


@pytest.fixture
def db(tmp_path, monkeypatch, models_dir):  # noqa: F811
    path = tmp_path / "collected.sqlite3"
    monkeypatch.setenv("MNIST_COLLECTION", str(path))
    monkeypatch.setenv("MNIST_MODELS", str(models_dir))
    return path


def page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value
    return run(at)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run(at)


def teacher_page() -> tuple[AppTest, str]:
    at = page()
    at.session_state["tab"] = "Class"
    click(run(at), "class_start")
    return at, at.session_state["wall_code"]


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def keys(at: AppTest, prefix: str) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith(prefix)]


def keep(at: AppTest, digit: int) -> AppTest:
    draw(at, drawing(digit))
    return click(at, "class_keep_button")


def test_a_class_from_the_teachers_start_to_its_end(db):
    teacher, code = teacher_page()
    assert metrics(teacher)["Drawings"] == "0"
    assert any(classroom.display_code(code) in m.value for m in teacher.markdown)
    assert [b.label for b in teacher.get("download_button")] == ["Class set (.npz)", "Class set (IDX, zip)"]

    ana, bo = page(**{"class": code.lower()}), page(**{"class": code})
    assert ana.session_state["class_code"] == bo.session_state["class_code"] == code
    assert "#### Draw a **0**" in [m.value for m in ana.markdown]
    ana.text_input(key="class_nickname").input("Ana")
    keep(run(ana), 0)
    assert "#### Draw a **1**" in [m.value for m in ana.markdown] and [s.value for s in ana.success] == ["Kept as a 0."]
    keep(ana, 1)
    keep(bo, 0)
    assert "**You kept 2**:" in [m.value for m in ana.markdown] and "**You kept 1**:" in [m.value for m in bo.markdown]
    # nobody sees another student's drawings: each page's delete buttons are its own drawings'
    with Collection(db) as c:
        rows = {r.id: r for r in c.records()}
    assert {r.session for r in rows.values()} == {ana.session_state["collect_session"], bo.session_state["collect_session"]}
    mine = {f"class_delete_{i}" for i, r in rows.items() if r.session == ana.session_state["collect_session"]}
    assert set(keys(ana, "class_delete_")) == mine and len(mine) == 2
    assert {r.nickname for r in rows.values()} == {"Ana", None} and {r.class_code for r in rows.values()} == {code}

    run(teacher)
    assert metrics(teacher)["Drawings"] == "3" and metrics(teacher)["Students"] == "2"
    assert [m.value for m in teacher.metric if m.label.endswith("reads right")] == ["100%", "100%"]
    bos = next(i for i, r in rows.items() if r.session == bo.session_state["collect_session"])
    click(teacher, f"wall_hide_{bos}")
    assert metrics(teacher)["Drawings"] == "2" and f"wall_hide_{bos}" not in keys(teacher, "wall_hide_")
    run(bo)
    assert "**You kept 0**. Draw the digit asked for, then keep it." in [m.value for m in bo.markdown]

    teacher.button(key="class_end").click()
    run(teacher)
    assert any("has ended" in w.value for w in teacher.warning)
    draw(ana, drawing(2))
    click(ana, "class_keep_button")
    assert any("Not kept" in e.value and "has ended" in e.value for e in ana.error)
    with Collection(db) as c:
        assert len(c) == 3  # nothing after the end


def test_a_forged_teacher_link_opens_no_wall(db):
    teacher, code = teacher_page()
    key = teacher.session_state["teacher_keys"][code]
    forged = page(**{"class": code, "teacher": key[:-2] + "xx"})
    assert forged.session_state["class_code"] == code  # a student, told so
    assert not forged.query_params.get("teacher")  # the key never stays in the address bar
    forged.session_state["tab"] = "Class"
    run(forged)
    assert not keys(forged, "wall_hide_") and not keys(forged, "class_end") and not forged.get("download_button")
    assert any("as a student" in i.value for i in forged.info)

    real = page(**{"class": code, "teacher": key})
    assert not real.query_params.get("teacher") and real.session_state.get("class_code") is None
    assert metrics(real)["Drawings"] == "0"  # the teacher link opens the wall on another device


def test_a_student_session_holds_no_key_whatever_it_types(db):
    teacher, code = teacher_page()
    visitor = page()
    visitor.session_state["tab"] = "Class"
    run(visitor)
    visitor.text_input(key="class_join_code").input(code)
    click(visitor, "class_join")
    assert visitor.session_state["class_code"] == code
    assert "teacher_keys" not in visitor.session_state or not visitor.session_state["teacher_keys"]
    assert not keys(visitor, "wall_hide_") and not visitor.get("download_button")
    assert "class_join_code" not in [t.key for t in visitor.text_input]  # a student's Class tab: no controls
    for bad in ("ABC", "ABCDE0", "ZZZZZZ"):
        other = page()
        other.session_state["tab"] = "Class"
        run(other)
        other.text_input(key="class_join_code").input(bad)
        click(other, "class_join")
        assert other.session_state.get("class_code") is None and len(other.error) == 1, bad


def test_a_link_to_no_class_or_an_ended_one_is_one_line(db):
    with Collection(db) as c:
        started = classroom.start(c)
        classroom.end(c, started.code, started.teacher_key)
    for code, words in (("ZZZZZZ", "There is no class"), (started.code, "has ended")):
        at = page(**{"class": code})
        assert at.session_state["class_code"] is None if "class_code" in at.session_state else True
        assert [e.value for e in at.error if words in e.value] and len(at.error) == 1, [e.value for e in at.error]
        draw(at, drawing(3))
        assert "feedback_yes_3" in keys(at, "feedback_yes_")  # the app works as without a class


def test_training_is_refused_by_the_server_policy(db, monkeypatch):
    monkeypatch.setenv("MNIST_TRAINING", "teachers")
    at = page()
    at.session_state["tab"] = "Train"
    run(at)
    assert not keys(at, "train_start") and any("teachers who started a class" in i.value for i in at.info)
    at.session_state["tab"] = "Class"
    click(run(at), "class_start")  # a teacher now
    at.session_state["tab"] = "Train"
    run(at)
    assert keys(at, "train_start") and at.toggle(key="train_on_class")
    monkeypatch.setenv("MNIST_TRAINING", "off")
    run(at)
    assert not keys(at, "train_start")


def test_a_broken_database_is_one_line_when_starting_a_class(db):
    db.write_bytes(b"not a database " * 100)
    at = page()
    at.session_state["tab"] = "Class"
    click(run(at), "class_start")
    assert len(at.error) == 1 and "cannot be started" in at.error[0].value


def _keep_twice(code: str) -> None:
    """A page that joins class `code` and calls one Keep click's callback twice, as Streamlit does
    when another rerun interrupts the run the click started."""
    import numpy as np
    import streamlit as st

    from app import classes

    st.session_state["class_code"] = code
    record = {"image28": np.full((28, 28), 0.5, np.float32), "strokes": None, "predictions": {}, "source": "canvas"}
    st.session_state["kept"] = [classes.keep_record(lambda: record, 0, "drawing-1") for _ in range(2)]


def test_a_click_called_back_twice_keeps_one_drawing(db):
    with Collection(db) as c:
        code = classroom.start(c).code
    at = AppTest.from_function(_keep_twice, args=(code,)).run()
    assert not at.exception and at.session_state["kept"] == [True, False]
    with Collection(db) as c:
        assert [r.label for r in c.records()] == [0]


def test_the_kept_drawing_coming_back_is_not_offered_again(db):
    """A rerun can bring back the canvas's value from before the keep cleared it: the same pixels
    must not be kept again as the next digit asked for."""
    teacher, code = teacher_page()
    ana = page(**{"class": code})
    keep(ana, 0)
    draw(ana, drawing(0))  # the very drawing just kept, sent again
    assert not keys(ana, "class_keep_button") and any("is kept" in c.value for c in ana.caption)
    keep(ana, 1)
    with Collection(db) as c:
        assert sorted(r.label for r in c.records()) == [0, 1]


def test_a_keep_refused_by_the_database_can_be_tried_again(db, monkeypatch):
    teacher, code = teacher_page()
    ana = page(**{"class": code})
    add = classroom.add

    def unreachable(*args, **kwargs):
        raise CollectionError("the database is unreachable")

    monkeypatch.setattr(classroom, "add", unreachable)
    keep(ana, 0)
    assert any("Not kept" in e.value for e in ana.error)
    monkeypatch.setattr(classroom, "add", add)
    assert keys(ana, "class_keep_button")  # offered again, not "This drawing is kept"
    click(ana, "class_keep_button")
    with Collection(db) as c:
        assert [r.label for r in c.records()] == [0]
