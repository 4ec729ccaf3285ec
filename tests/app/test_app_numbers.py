"""The Numbers tab of the whole app (`app/streamlit_app.py`) under Streamlit's AppTest.

As for the Draw tab (tests/app/test_app_draw.py), a test supplies a drawing by setting the canvas's
session-state value to what the browser would send: fabric.js path objects for the strokes (as
fabric's pencil makes them, `canvas_paths.fabric_from_strokes`) and the canvas as a PNG. The
numbers are composed from the hand-drawn digit styles of `mnist_core.datasets.drawn.HAND` with
`mnist_core.datasets.composed.compose_number`. Everything is asserted inside the Numbers tab; every run
must end without an exception.
"""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.tabs.draw import canvas_value
from app.tabs.numbers import CANVAS_HEIGHT, CANVAS_KEY, CANVAS_WIDTH, HINT
from mnist_core.datasets.composed import box_overlap, compose_number
from mnist_core.datasets.drawn import HAND
from mnist_core.pen.canvas_paths import fabric_from_strokes
from mnist_core.pen.strokes import render_strokes
from mnist_core.reading.numbers import MAX_DIGITS, NO_INK

from test_app_draw import app, canvas_png, models_dir, run  # noqa: F401  (the whole app under AppTest, fixtures)

NUMBERS = 1  # the Numbers tab's index


def compose(digits, seed=0, scale=1.0):
    """A number written with HAND style 0 of each digit (`compose_number`, gaps 15-30 % of its
    height), everything scaled by `scale` about the canvas's top-left; it must fit the canvas."""
    number = compose_number([HAND[d][0] for d in digits], np.random.default_rng(seed), labels=digits,
                            gap=(0.15, 0.3))
    strokes = [s * scale + [10, (1 - scale) * CANVAS_HEIGHT / 2] for s in number.strokes]
    right = max(s[:, 0].max() for s in strokes) + number.width
    assert right < CANVAS_WIDTH, f"the number is {right:.0f} px wide"
    return strokes, number.width * scale


def write(at: AppTest, strokes, width, objects=None) -> AppTest:
    """Put strokes on the wide canvas as the browser would send them, and rerun."""
    ink = render_strokes(strokes, (CANVAS_HEIGHT, CANVAS_WIDTH), width)
    objects = fabric_from_strokes(strokes, width) if objects is None else objects
    at.session_state[CANVAS_KEY] = canvas_value(canvas_png(ink), objects=objects)
    return run(at)


def choose(at: AppTest, model: str) -> AppTest:
    at.sidebar.radio(key="model_choice").set_value(model)
    return run(at)


def tab(at: AppTest):
    return at.tabs[NUMBERS]


def numbers(at: AppTest) -> list[str]:
    return [m.value for m in tab(at).metric if m.label == "Number"]


def charts(at: AppTest) -> dict:
    """key -> the Plotly figure (as JSON) of each chart in the Numbers tab."""
    import json

    return {c.key: json.loads(c.proto.spec) for c in tab(at).get("plotly_chart")}


def test_the_tab_is_there_and_empty(app):
    assert tab(app).label == "Numbers"
    assert HINT in [c.value for c in tab(app).caption]
    assert numbers(app) == [] and not tab(app).warning and not tab(app).error and charts(app) == {}


@pytest.mark.parametrize("digits", [(3, 5, 7), (7, 0, 3, 5)])
def test_a_written_number_is_read_with_a_box_per_digit(app, digits):
    strokes, width = compose(digits)
    write(app, strokes, width)
    expected = "".join(map(str, digits))
    assert numbers(app) == [expected] and not tab(app).warning and not tab(app).error
    figures = charts(app)
    assert list(figures) == ["numbers-boxes-lenet5", "numbers-inputs-lenet5"]
    boxes = figures["numbers-boxes-lenet5"]["layout"]["shapes"]
    labels = [a["text"] for a in figures["numbers-boxes-lenet5"]["layout"]["annotations"]]
    assert len(boxes) == len(digits) and [t.split("<br>")[0] for t in labels] == [str(d) for d in digits]
    assert all(t.endswith("%") for t in labels)  # wide digits: the confidence under the digit
    assert len(figures["numbers-inputs-lenet5"]["layout"]["annotations"]) == len(digits)
    # each box surrounds its digit's ink
    for box, stroke_box in zip(boxes, digit_boxes(strokes, width, len(digits))):
        shown = (box["y0"] + 0.5, box["x0"] + 0.5, box["y1"] + 0.5, box["x1"] + 0.5)
        assert box_overlap(shown, stroke_box) > 0.8


def label_spans(figure: dict, width: int, cols: int = CANVAS_WIDTH):
    """Each annotation of a boxes figure as (left, right, bottom, top) pixels of the figure's
    label band, its text's width estimated as characters x font size x 0.6 (its longest line),
    each line 1.2 font sizes tall."""
    spans = []
    for a in figure["layout"]["annotations"]:
        lines = a["text"].split("<br>")
        size = a["font"]["size"]
        centre = (a["x"] + 0.5) * width / cols
        half = max(map(len, lines)) * size * 0.6 / 2
        spans.append((centre - half, centre + half, a["yshift"], a["yshift"] + len(lines) * size * 1.2))
    return spans


def overlapping(spans):
    return [(i, j) for i, a in enumerate(spans) for j, b in enumerate(spans[:i])
            if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]]


@pytest.mark.parametrize("count, box_width, step", [(3, 120, 200), (6, 40, 60), (12, 22, 34), (13, 10, 14),
                                                    (5, 4, 5), (2, 6, 770)])  # the last: at both edges
@pytest.mark.parametrize("figure_width", [CANVAS_WIDTH, CANVAS_WIDTH // 2 + 40])
def test_box_labels_never_overlap(count, box_width, step, figure_width):
    """Digits `box_width` canvas pixels wide, one every `step` pixels (narrow ones, close together:
    "2 · 100%0 · 100%" ran together): no two labels overlap, each says its digit, none runs off
    the figure, and the top margin holds every row of them."""
    from app.number_figures import number_boxes
    from mnist_core.reading.numbers import DigitReading

    digits = [DigitReading(label=k % 10, confidence=1.0 if k % 2 else 0.456, box=(60, 10 + k * step, 200, 10 + k * step
                                                                                  + box_width),
                           image28=np.zeros((28, 28), np.float32)) for k in range(count)]
    figure = number_boxes(np.zeros((CANVAS_HEIGHT, CANVAS_WIDTH), np.float32), digits, figure_width).to_plotly_json()
    spans = label_spans(figure, figure_width)
    assert overlapping(spans) == []
    assert all(-1e-6 <= left and right <= figure_width + 1e-6 for left, right, *_ in spans), spans
    assert [a["text"].split("<br>")[0] for a in figure["layout"]["annotations"]] == [str(k % 10) for k in range(count)]
    assert max(top for *_, top in spans) + 2 <= figure["layout"]["margin"]["t"]
    if box_width >= 40:  # room for the confidence: it is shown under the digit
        assert [a["text"].split("<br>")[1] for a in figure["layout"]["annotations"]] == \
            ["46%" if k % 2 == 0 else "100%" for k in range(count)]


def digit_boxes(strokes, width, count):
    """Each digit's (top, left, bottom, right) ink box, digits told apart by a gap in x."""
    spans = sorted((s[:, 0].min(), s[:, 0].max(), s[:, 1].min(), s[:, 1].max()) for s in strokes)
    groups = []
    for span in spans:
        if groups and span[0] <= groups[-1][1] + width:
            g = groups[-1]
            groups[-1] = (min(g[0], span[0]), max(g[1], span[1]), min(g[2], span[2]), max(g[3], span[3]))
        else:
            groups.append(span)
    assert len(groups) == count
    r = width / 2
    return [(t - r, l - r, b + r, rr + r) for l, rr, t, b in groups]


def test_both_models_read_it_side_by_side(app):
    choose(app, "Both side by side")
    strokes, width = compose((5, 0, 3), seed=1)
    write(app, strokes, width)
    assert numbers(app) == ["503", "503"]
    assert [m.value for m in tab(app).markdown if m.value in ("**MLP**", "**LeNet-5**")] == ["**MLP**", "**LeNet-5**"]
    assert list(charts(app)) == ["numbers-boxes-mlp", "numbers-inputs-mlp", "numbers-boxes-lenet5",
                                 "numbers-inputs-lenet5"]
    choose(app, "MLP")  # a full rerun keeps the drawing
    assert numbers(app) == ["503"]


def test_thirteen_digits_get_one_line_and_still_their_boxes(app):
    digits = (3, 5, 7, 0, 3, 5, 7, 0, 3, 5, 7, 0, 3)
    strokes, width = compose(digits, seed=2, scale=0.42)
    write(app, strokes, width)
    warnings = [w.value for w in tab(app).warning]
    assert warnings == [f"13 digits found: a number may have at most {MAX_DIGITS}."]
    assert numbers(app) == [] and not tab(app).error
    assert len(charts(app)["numbers-boxes-lenet5"]["layout"]["shapes"]) == 13


def test_a_scribble_gets_one_line(app):
    rng = np.random.default_rng(3)
    scribble = [rng.uniform([40, 30], [500, 250], size=(40, 2))]  # back and forth across the canvas
    write(app, scribble, 14.0)
    warnings = [w.value for w in tab(app).warning]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("This does not look like a number (a scribble)")
    assert numbers(app) == [] and charts(app) == {} and not tab(app).error


def test_without_vector_data_the_image_is_read(app):
    """Path objects that cannot be read (here: none of fabric's fields) leave the PNG to read."""
    strokes, width = compose((7, 3), seed=4)
    write(app, strokes, width, objects=[{"type": "path"}])
    assert numbers(app) == ["73"] and not tab(app).warning and not tab(app).error


def test_clear_empties_the_canvas(app):
    strokes, width = compose((3, 0), seed=5)
    write(app, strokes, width)
    assert numbers(app) == ["30"]
    app.button(key="numbers_clear").click()
    run(app)
    assert numbers(app) == [] and charts(app) == {} and not tab(app).warning


def test_the_draw_tab_is_untouched_by_a_number(app):
    """Writing on the wide canvas leaves the Draw tab's canvas and its reading alone."""
    strokes, width = compose((3, 5), seed=6)
    write(app, strokes, width)
    draw_tab = app.tabs[0]
    assert not [m for m in draw_tab.metric if m.label == "Prediction"] and app.session_state["digit"] is None


def test_shapes_without_strokes_or_pixels_say_no_ink(app):
    """Objects that are no pen strokes (a rectangle) and no PNG: one line, "No ink"."""
    rect = {"type": "Rect", "left": 10, "top": 10, "width": 50, "height": 50}
    app.session_state[CANVAS_KEY] = canvas_value(None, objects=[rect])
    run(app)
    assert [w.value for w in tab(app).warning] == [NO_INK] and numbers(app) == [] and charts(app) == {}


def test_a_letter_among_digits_gets_one_line(app):
    from mnist_core.datasets.negatives import HAND_LETTERS
    number = compose_number([HAND[3][0], HAND_LETTERS["X"], HAND[5][0]], np.random.default_rng(4),
                            labels=(3, 0, 5), gap=(0.15, 0.3))
    strokes = [s + [10, 0] for s in number.strokes]
    write(app, strokes, number.width)
    warnings = [w.value for w in tab(app).warning]
    assert len(warnings) == 1 and warnings[0].startswith("That doesn't look like a number: mark 2 of 3 doesn't "
                                                         "look like a digit (the nearest would be a "), \
        (warnings, numbers(app), [m.value for m in tab(app).markdown][:5])
    assert numbers(app) == [] and not tab(app).error


def test_a_photographed_number_is_uploaded_and_read(app):
    """The committed photo of 8866 on squared paper in a shadow (a UJI writer's, whom the committed models
    trained on: this checks the page, not the accuracy) reads 8866; a bad
    file gets one error line; writing on the canvas reads the writing again."""
    from pathlib import Path

    content = (Path(__file__).parents[1] / "data" / "photos" / "number_8866.jpg").read_bytes()
    tab(app).file_uploader(key="numbers_upload").set_value(("notebook.jpg", content, "image/jpeg"))
    run(app)
    assert numbers(app) == ["8866"]
    assert any("Reading **notebook.jpg**" in c.value for c in tab(app).caption)
    tab(app).file_uploader(key="numbers_upload").set_value(("notes.png", b"not pixels" * 30, "image/png"))
    run(app)
    errors = [e.value for e in tab(app).error]
    assert len(errors) == 1 and "notes.png" in errors[0] and "\n" not in errors[0]
    strokes, width = compose([4, 2])
    write(app, strokes, width)
    app.session_state["numbers_source"] = "canvas"  # the canvas's on_change, which AppTest does not fire
    run(app)
    assert numbers(app) == ["42"] and not tab(app).error


@pytest.fixture
def db(tmp_path, monkeypatch):
    """The collection a click saves to: a fresh SQLite file (read when a click saves)."""
    path = tmp_path / "collected.sqlite3"
    monkeypatch.setenv("MNIST_COLLECTION", str(path))
    return path


def saved_rows(path):
    from mnist_core.collection.database import Collection

    with Collection(path) as c:
        return [c.get(r.id) for r in c.records()][::-1]


def digit_images(at: AppTest, model: str = "lenet5") -> list[np.ndarray]:
    """The 28x28 input of each digit of the shown number, as read (the reading kept in session state)."""
    return [d.image28 for d in at.session_state["numbers_readings"][model].digits]


def test_yes_saves_each_digit_with_its_label(app, db, models_dir):  # noqa: F811
    from app.feedback import KEPT_DIGITS
    from mnist_core.reading.classifier import Classifier

    strokes, width = compose((4, 2), seed=7)
    write(app, strokes, width)
    assert numbers(app) == ["42"]
    assert [b.label for b in tab(app).button if b.key.startswith("numbers_feedback_yes")] == ["Yes, it's 42"]
    assert KEPT_DIGITS in [c.value for c in tab(app).caption] and saved_rows(db) == []  # nothing before a click
    app.button(key="numbers_feedback_yes_42").click()
    run(app)
    rows = saved_rows(db)
    assert [r.label for r in rows] == [4, 2]
    assert all(r.source == "canvas" and r.strokes is None and r.session == app.session_state["collect_session"]
               for r in rows)
    for row, image in zip(rows, digit_images(app)):
        assert np.array_equal(row.image28, np.round(image * 255).astype(np.uint8))
        assert set(row.predictions) == {"mlp", "lenet5"}
        for name, answer in row.predictions.items():
            assert answer["sha256"] == Classifier.load(name, models_dir).card["sha256"]
    assert [r.predictions["lenet5"]["label"] for r in rows] == [4, 2]
    assert any("Saved as **42**" in m.value for m in tab(app).markdown)
    assert not any(b.key.startswith("numbers_feedback_yes") for b in tab(app).button)  # not twice
    app.button(key="numbers_feedback_undo").click()
    run(app)
    assert saved_rows(db) == [] and any(b.key == "numbers_feedback_yes_42" for b in tab(app).button)
    assert numbers(app) == ["42"] and not tab(app).error


def test_a_typed_correction_saves_its_digits(app, db):
    strokes, width = compose((4, 2), seed=7)
    write(app, strokes, width)
    tab(app).text_input(key="numbers_feedback_digits").set_value(" 4 7 ")
    run(app)
    rows = saved_rows(db)
    assert [r.label for r in rows] == [4, 7] and [r.predictions["lenet5"]["label"] for r in rows] == [4, 2]
    assert any("Saved as **47**" in m.value for m in tab(app).markdown) and not tab(app).warning


@pytest.mark.parametrize("typed, line", [
    ("427", "Not saved: you typed 3 digits and 2 were read; type one digit for each box, or write the number "
            "again."),
    ("4", "Not saved: you typed 1 digit and 2 were read; type one digit for each box, or write the number again."),
    ("4a", "Not saved: type the number with the digits 0-9 only, one for each of the 2 boxes."),
])
def test_a_correction_with_the_wrong_count_saves_nothing_and_gets_one_line(app, db, typed, line):
    strokes, width = compose((4, 2), seed=7)
    write(app, strokes, width)
    tab(app).text_input(key="numbers_feedback_digits").set_value(typed)
    run(app)
    assert [w.value for w in tab(app).warning] == [line]
    assert saved_rows(db) == [] and numbers(app) == ["42"] and not tab(app).error
    assert app.session_state["numbers_feedback_digits"] == ""  # ready for the next try


def test_a_photographed_number_is_saved_as_an_upload(app, db):
    from pathlib import Path

    content = (Path(__file__).parents[1] / "data" / "photos" / "number_8866.jpg").read_bytes()
    tab(app).file_uploader(key="numbers_upload").set_value(("notebook.jpg", content, "image/jpeg"))
    run(app)
    assert numbers(app) == ["8866"]
    app.button(key="numbers_feedback_yes_8866").click()
    run(app)
    rows = saved_rows(db)
    assert [r.label for r in rows] == [8, 8, 6, 6] and {r.source for r in rows} == {"upload"}
    assert all(r.strokes is None for r in rows)
