""""Was this right?" on the Draw tab (app/feedback.py) and the Collected tab, under AppTest.

Each test points the app at its own SQLite file (MNIST_COLLECTION) and checks the database
itself: what a click saves, that nothing is saved without one, that a session deletes only its
own drawings, and that a corrupt file is one line on the page while digits are still read.
Drawings are injected as in test_app_draw (the canvas widget's value in session state).
"""

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.feedback import KEPT
from core_helpers import drawing, plotly_array
from mnist_core.collection.database import Collection
from mnist_core.reading.classifier import Classifier
from test_app_draw import (APP, TIMEOUT, draw, models_dir, photo, predictions,  # noqa: F401 (models_dir: a fixture)
                           run, upload)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "collected.sqlite3"
    monkeypatch.setenv("MNIST_COLLECTION", str(path))
    return path


@pytest.fixture
def app(models_dir, db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MNIST_MODELS", str(models_dir))
    return run(AppTest.from_file(APP, default_timeout=TIMEOUT))


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run(at)


def correct(at: AppTest, label: int) -> AppTest:
    """Pick the right digit in "No, it's a:"."""
    at.pills(key="feedback_digit").set_value(label)
    return run(at)


def rows(path):
    with Collection(path) as c:
        return [c.get(r.id) for r in c.records()][::-1]


def errors(at):
    return [e.value for e in at.error]


def test_confirm_saves_exactly_one_row(app, db, models_dir):  # noqa: F811
    draw(app, drawing(7))
    assert predictions(app) == ["7"]
    assert [b.label for b in app.button if b.key.startswith("feedback_yes")] == ["Yes, it's a 7"]
    assert KEPT in [c.value for c in app.caption]
    click(app, "feedback_yes_7")
    saved = rows(db)
    assert len(saved) == 1
    row = saved[0]
    assert row.label == 7 and row.source == "canvas" and row.session == app.session_state["collect_session"]
    assert row.strokes == [{"type": "path"}]  # the canvas's objects, as the browser sent them
    expected = np.round(app.session_state["input28"] * 255).astype(np.uint8)
    assert np.array_equal(row.image28, expected)
    assert set(row.predictions) == {"mlp", "lenet5"}  # every model's answer, not only the shown one
    for name, answer in row.predictions.items():
        clf = Classifier.load(name, models_dir)
        assert answer["sha256"] == clf.card["sha256"]
        assert answer["label"] == 7
        np.testing.assert_allclose(answer["probabilities"], app.session_state["readings"][name].probabilities,
                                   rtol=1e-6)
    assert any("Saved as a **7**" in m.value for m in app.markdown)
    assert not any(b.key.startswith("feedback_yes") for b in app.button)  # not twice for one drawing
    assert predictions(app) == ["7"] and not errors(app)


def test_correcting_saves_the_given_label(app, db):
    draw(app, drawing(7))
    correct(app, 1)
    [row] = rows(db)
    assert row.label == 1 and row.predictions["lenet5"]["label"] == 7


def test_an_upload_is_saved_without_strokes(app, db):
    draw(app, drawing(7))  # a drawing on the canvas too: its strokes must not be saved with the photo
    upload(app, "three.jpeg", photo(3, "JPEG"), "image/jpeg")
    assert predictions(app) == ["3"]
    click(app, "feedback_yes_3")
    [row] = rows(db)
    assert row.label == 3 and row.source == "upload" and row.strokes is None
    assert np.array_equal(row.image28, np.round(app.session_state["input28"] * 255).astype(np.uint8))


def test_nothing_is_saved_without_a_click(app, db):
    for digit in (3, 5, 7):
        draw(app, drawing(digit))
    app.sidebar.radio(key="model_choice").set_value("Both side by side")
    run(app)
    assert predictions(app) == ["7", "7"]
    assert not db.exists()  # not even opened
    app.session_state["tab"] = "Collected"
    run(app)
    assert [m.value for m in app.metric if m.label == "Your drawings"] == ["0"]
    assert rows(db) == []


def test_a_session_deletes_only_its_own_drawings(app, db):
    with Collection(db) as c:
        other = c.add(np.zeros((28, 28), np.uint8), 4, session="someone-else")
    draw(app, drawing(7))
    click(app, "feedback_yes_7")
    click(app, "feedback_undo")  # Undo: that drawing is gone, the question is back
    assert [r.id for r in rows(db)] == [other]
    assert [b.label for b in app.button if b.key.startswith("feedback_yes")] == ["Yes, it's a 7"]
    click(app, "feedback_yes_7")
    draw(app, drawing(3))
    correct(app, 8)
    assert len(rows(db)) == 3
    assert app.button(key="feedback_delete_mine").label == "Delete what I saved (2)"
    click(app, "feedback_delete_mine")
    assert [r.id for r in rows(db)] == [other]
    assert not [b for b in app.button if b.key == "feedback_delete_mine"]
    assert not errors(app)


def test_a_corrupt_database_is_one_line_and_digits_are_still_read(app, db):
    db.write_bytes(b"this is not a database " * 100)
    draw(app, drawing(7))
    click(app, "feedback_yes_7")
    [line] = errors(app)
    assert line.startswith("Not saved: collection ") and "not a usable SQLite database" in line
    assert "\n" not in line
    assert predictions(app) == ["7"]
    draw(app, drawing(3))
    assert predictions(app) == ["3"] and not errors(app)  # the line was for that click
    app.session_state["tab"] = "Collected"
    run(app)
    [line] = errors(app)
    assert "not a usable SQLite database" in line
    assert db.read_bytes().startswith(b"this is not a database")  # left as it was


OWNER_KEY = "the-owner's-secret"


def sign_in(at: AppTest, key: str) -> AppTest:
    at.text_input(key="owner_key_input").input(key)
    return click(at, "owner_sign_in")


def test_collected_tab_shows_counts_and_accuracy(app, db, mnist, models_dir, monkeypatch):  # noqa: F811
    """The owner's view: every session's drawings."""
    monkeypatch.setenv("MNIST_OWNER_KEY", OWNER_KEY)
    x, y = mnist.x_test[:30], mnist.y_test[:30].copy()
    y[:2] = (y[:2] + 1) % 10  # two drawings whose given digit no model reads
    day = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    with Collection(db) as c:
        for i in range(30):
            c.add(x[i], int(y[i]), session=f"s{i % 3}", created_at=day + timedelta(days=i % 2))
    app.session_state["tab"] = "Collected"
    run(app)
    assert [m.value for m in app.metric if m.label == "Your drawings"] == ["0"]  # a visitor: none of these
    assert not app.get("download_button")
    sign_in(app, "a guess")
    assert "That is not the owner's key." in errors(app)
    assert [m.value for m in app.metric if m.label == "Your drawings"] == ["0"]
    sign_in(app, OWNER_KEY)
    assert not errors(app)
    metrics = {m.label: m for m in app.metric}
    assert metrics["Drawings"].value == "30" and metrics["Days"].value == "2"
    charts = {c.key: c for c in app.get("plotly_chart")}
    assert {"collected_per_digit", "collected_per_day"} <= set(charts)  # (the Draw tab is always there too)
    bars = json.loads(charts["collected_per_digit"].proto.spec)["data"][0]
    assert plotly_array(bars["y"]).tolist() == [int((y == d).sum()) for d in range(10)]
    days = json.loads(charts["collected_per_day"].proto.spec)["data"][0]
    assert plotly_array(days["y"]).tolist() == [15, 15]
    for name, label in (("mlp", "MLP"), ("lenet5", "LeNet-5")):
        predicted = Classifier.load(name, models_dir).classify_batch(x.astype(np.float32) / 255).argmax(axis=1)
        right = int((predicted == y).sum())
        assert metrics[f"{label} accuracy"].value == f"{right / 30:.1%}"
        assert right <= 28  # the two wrong labels
        assert any(m.value == f"**{label}: {30 - right} misread**" for m in app.markdown)
    assert [b.label for b in app.get("download_button")] == ["Download collected.npz", "Download IDX files (zip)"]


def test_export_and_evaluation_section(db, mnist, models_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MNIST_MODELS", str(models_dir))
    with Collection(db) as c:
        for i in range(5):
            c.add(mnist.x_test[i], int(mnist.y_test[i]), session="s")
    from app.tabs import collected

    script = (f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
              "from app.tabs import collected\ncollected.evaluation_section()\n")
    at = run(AppTest.from_string(script, default_timeout=TIMEOUT))
    values = {m.label: m.value for m in at.metric}
    assert set(values) == {"MLP on collected drawings", "LeNet-5 on collected drawings"}
    assert all(v.endswith("%") for v in values.values())

    with pytest.raises(PermissionError):  # the whole collection is the owner's
        collected._export("npz")
    monkeypatch.setattr(collected.roles, "is_owner", lambda: True)
    npz = np.load(io.BytesIO(collected._export("npz")))
    assert np.array_equal(npz["x_train"], mnist.x_test[:5]) and np.array_equal(npz["y_train"], mnist.y_test[:5])
    with zipfile.ZipFile(io.BytesIO(collected._export("idx"))) as archive:
        assert sorted(archive.namelist()) == ["collected-images-idx3-ubyte", "collected-labels-idx1-ubyte"]
        assert len(archive.read("collected-images-idx3-ubyte")) == 16 + 5 * 784


def test_collected_tab_scores_the_model_trained_in_this_session(app, db, mnist):
    """A correction of the session's trained model's mistake counts as its misread (the committed
    models may read it right)."""
    from mnist_core.networks.models import BUILDERS

    x, y = mnist.x_test[:20], mnist.y_test[:20]
    with Collection(db) as c:
        for i in range(20):
            c.add(x[i], int(y[i]), session="s")
    mine = Classifier(BUILDERS["mlp"](), {"name": "live-mlp"}, "live-mlp")  # untrained: it misreads most
    predicted = mine.classify_batch(x.astype(np.float32) / 255).argmax(axis=1)
    wrong = int((predicted != y).sum())
    assert wrong >= 10
    app.session_state["trained_model"] = mine
    app.session_state["collect_session"] = "s"  # this session saved them: a visitor sees their own
    app.session_state["tab"] = "Collected"
    run(app)
    assert not errors(app)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Your trained model accuracy"] == f"{(20 - wrong) / 20:.1%}"
    assert f"**Your trained model: {wrong} misread**" in [m.value for m in app.markdown]


def _save_twice() -> None:
    """One "Yes, it's a 7" click's callback called twice, as Streamlit does when another rerun
    interrupts the run the click started."""
    import numpy as np
    import streamlit as st

    from app import feedback

    image = np.full((28, 28), 0.5, np.float32)
    st.session_state["saved_ok"] = [feedback.save_drawing("drawing-1", image, 7) for _ in range(2)]


def test_a_click_called_back_twice_saves_one_row(db):
    at = AppTest.from_function(_save_twice).run()
    assert not at.exception and at.session_state["saved_ok"] == [True, True]
    assert [r.label for r in rows(db)] == [7]
