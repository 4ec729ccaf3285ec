"""The canvases' Undo, Redo and Clear buttons (`app/canvas.py`) in the whole app under AppTest.

As in tests/app/test_app_draw.py, a test plays the browser by setting the canvas's session-state value
(`canvas_value`: fabric.js objects and the PNG); the buttons are AppTest's own. What the browser's
canvas is told to show is the initial drawing in the component's data (`initial_drawing`): the
browser loads it and sends it back, which a test plays by setting the value again.
"""

import json

import pytest

from app.canvas import canvas_value
from app.session import CANVAS_KEY
from app.tabs import numbers as numbers_tab
from app.tabs.draw import HINT
from core_helpers import drawing, hand_drawing
from mnist_core.pen import lesson
from mnist_core.pen.canvas_paths import fabric_from_strokes

from test_app_draw import app, canvas_png, models_dir, predictions, run  # noqa: F401  (fixtures)
from test_app_numbers import compose, numbers, write
from test_app_teach import fresh  # noqa: F401  (fixture: an AppTest not yet run)

A, B, C = ({"type": "Path", "path": [["M", x, 10], ["L", x, 200]]} for x in (50, 100, 150))  # strokes


def strokes(at) -> list:
    return at.session_state[CANVAS_KEY]["drawing"]["raw"]["objects"]


def send(at, digit: int, objects: list):
    """The browser sends a drawing: `objects`, and the PNG of a hand-drawn `digit`."""
    at.session_state[CANVAS_KEY] = canvas_value(canvas_png(drawing(digit)), objects=objects)
    return run(at)


def enabled(at, prefix: str = "") -> tuple[bool, bool]:
    return not at.button(key=f"{prefix}undo").disabled, not at.button(key=f"{prefix}redo").disabled


def click(at, key: str):
    at.button(key=key).click()
    return run(at)


def initial_drawing(at) -> dict:
    """The initial drawing the Draw tab's canvas component was sent in the last run."""
    [element] = [e for e in at.get("bidi_component") if e.key == CANVAS_KEY]
    return json.loads(element.proto.json)["initialDrawing"]


def test_nothing_to_undo_or_redo_on_an_empty_canvas(app):
    assert enabled(app) == (False, False)
    assert enabled(app, "numbers_") == (False, False)
    assert [b.label for b in app.button if b.key in ("undo", "redo", "clear")] == ["Undo", "Redo", "Clear"]


def test_undo_takes_the_last_stroke_off_and_redo_puts_it_back(app):
    send(app, 3, [A])
    send(app, 7, [A, B])
    assert predictions(app) == ["7"] and enabled(app) == (True, False)

    click(app, "undo")
    assert strokes(app) == [A] and app.session_state["canvas_history"]["shown"] == [A]
    assert predictions(app) == ["3"]  # the canvas sent this drawing before: its PNG is read at once
    assert enabled(app) == (True, True)

    click(app, "redo")
    assert strokes(app) == [A, B] and app.session_state["canvas_history"]["shown"] == [A, B]
    assert predictions(app) == ["7"] and enabled(app) == (True, False)

    click(app, "undo")
    click(app, "undo")
    assert strokes(app) == [] and predictions(app) == [] and [i.value for i in app.info] == [HINT]
    assert enabled(app) == (False, True)
    click(app, "redo")
    click(app, "redo")
    assert strokes(app) == [A, B] and predictions(app) == ["7"] and enabled(app) == (True, False)


def test_each_undo_or_redo_sends_the_canvas_a_new_initial_drawing(app):
    """The browser's canvas reloads only when its initial drawing changes: every Undo and Redo
    changes it (to the strokes left), a stroke or a plain rerun does not."""
    first = initial_drawing(app)
    send(app, 3, [A])
    send(app, 7, [A, B])
    assert initial_drawing(app) == first and first["objects"] == []
    sent = []
    for key in ("undo", "redo", "undo"):
        click(app, key)
        sent.append(initial_drawing(app))
    assert [d["objects"] for d in sent] == [[A], [A, B], [A]]
    assert len({json.dumps(d, sort_keys=True) for d in [first, *sent]}) == 4  # each one new
    run(app)
    send(app, 0, [A, C])
    assert initial_drawing(app) == sent[-1]


def test_undo_on_an_opened_lesson_link(fresh):
    """A link's drawing is on the canvas (its initial drawing) before the browser sends anything:
    Undo takes its last stroke off, and the page no longer reads the link's drawing."""
    text = lesson.encode(hand_drawing(4))  # two strokes
    fresh.query_params.update({"d": text})
    at = run(fresh)
    objects = lesson.fabric_objects(lesson.decode(text))
    assert len(objects) == 2 and initial_drawing(at)["objects"] == objects and predictions(at) == ["4"]
    assert enabled(at) == (True, False)
    click(at, "undo")
    assert initial_drawing(at)["objects"] == objects[:1] and "lesson" not in at.session_state
    assert predictions(at) == []  # until the browser's canvas sends the one-stroke drawing
    click(at, "redo")
    assert initial_drawing(at)["objects"] == objects


def test_a_new_stroke_after_undo_leaves_nothing_to_redo(app):
    send(app, 3, [A])
    send(app, 7, [A, B])
    click(app, "undo")
    send(app, 3, [A])  # the browser loaded the undone drawing and sends it back: Redo still possible
    assert enabled(app) == (True, True)
    send(app, 0, [A, C])  # the user drew
    assert enabled(app) == (True, False) and app.session_state["canvas_history"]["undone"] == []
    assert predictions(app) == ["0"]


def test_undo_to_a_drawing_never_sent_waits_for_the_browser(app):
    """Two strokes sent together: the one-stroke drawing was never sent, so its PNG is unknown
    until the browser's canvas sends it; until then nothing is read."""
    send(app, 7, [A, B])
    click(app, "undo")
    assert strokes(app) == [A] and app.session_state[CANVAS_KEY]["drawing"]["data"] is None
    assert predictions(app) == [] and not app.exception
    send(app, 3, [A])  # the browser's echo
    assert predictions(app) == ["3"]


def test_clear_empties_the_canvas_and_its_history(app):
    send(app, 3, [A])
    send(app, 7, [A, B])
    click(app, "undo")
    clears = app.session_state["canvas_clears"] if "canvas_clears" in app.session_state else 0
    click(app, "clear")
    assert app.session_state["canvas_clears"] == clears + 1
    assert strokes(app) == [] and predictions(app) == [] and enabled(app) == (False, False)
    assert app.session_state["canvas_history"]["shown"] is None


def test_undo_reads_back_to_the_canvas_after_an_upload(app):
    """Undo and Redo are the canvas's: after them the page reads the canvas again, not an upload."""
    send(app, 3, [A])
    send(app, 7, [A, B])
    app.session_state["input_source"] = "upload"
    click(app, "undo")
    assert app.session_state["input_source"] == "canvas"


def test_the_numbers_canvas_has_its_own_undo_and_redo(app):
    """On the wide canvas, Undo takes the last digit's stroke off (read from the strokes, as no PNG
    of that drawing is known yet) and Redo puts it back; the Draw canvas is not touched."""
    stroke_list, width = compose((3, 0, 7), seed=5)
    objects = fabric_from_strokes(stroke_list, width)
    assert len(objects) == 3  # one stroke per digit
    write(app, stroke_list, width, objects)
    assert numbers(app) == ["307"] and enabled(app, "numbers_") == (True, False)
    click(app, "numbers_undo")
    assert numbers(app) == ["30"] and enabled(app, "numbers_") == (True, True)
    assert app.session_state[numbers_tab.CANVAS_KEY]["drawing"]["raw"]["objects"] == objects[:2]
    click(app, "numbers_redo")
    assert numbers(app) == ["307"] and enabled(app, "numbers_") == (True, False)
    assert enabled(app) == (False, False) and predictions(app) == []


FORGED = {
    "a list": [1, 2, 3],
    "objects as a dict": {"drawing": {"raw": {"objects": {"type": "Path"}}, "data": None}},
    "100,000 strokes": {"drawing": {"raw": {"objects": [dict(A) for _ in range(100_000)]}, "data": None}},
    "a million path points": {"drawing": {"raw": {"objects": [{"type": "Path", "path": [["L", 1, 1]] * 1_000_000}]},
                                          "data": None}},
    "a picture that is no PNG": {"drawing": {"raw": {"objects": [A]}, "data": "javascript:alert(1)"}},
}


@pytest.mark.parametrize("name", FORGED)
@pytest.mark.parametrize("prefix, key", [("", CANVAS_KEY), ("numbers_", numbers_tab.CANVAS_KEY)])
def test_a_forged_canvas_value_gets_one_line_and_an_empty_canvas(app, name, prefix, key):
    """What a client could send instead of a drawing: one warning line under that canvas, the canvas
    emptied, no exception, and the next real drawing is read."""
    app.session_state[key] = FORGED[name]
    run(app)
    lines = [w.value for w in app.warning if w.value.startswith("The canvas sent something that is not a drawing")]
    assert len(lines) == 1 and "\n" not in lines[0], (name, lines)
    assert app.session_state[key]["drawing"]["raw"]["objects"] == []
    if key == CANVAS_KEY:
        assert predictions(app) == []
        send(app, 7, [A])
        assert predictions(app) == ["7"]
