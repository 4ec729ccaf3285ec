"""The Draw tab in a real browser: digits drawn with the mouse and by touch on the real canvas,
the sidebar's model choice, uploads (good and corrupt), the latency of a stroke, and the
screenshots in docs/screenshots/ (draw.png, network_lenet5.png, network_mlp.png).

One `streamlit run app/serve.py` serves the whole module (fixture `app_url`); each test
opens its own browser context, i.e. its own Streamlit session.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

import app_support as app
import harness
import pytest

pytestmark = pytest.mark.e2e


def _draw_and_read(page, digit: int, style: int = 0, *, touch: bool = False, expected=None) -> None:
    app.draw_digit(page, digit, style, touch=touch)
    app.wait_for_metrics(page, expected or [str(digit)])
    assert app.error_texts(page) == []


def test_draw_digits_and_clear(app_pages):
    page = app_pages()
    assert app.hint_shown(page), "the empty canvas should show the hint"
    assert app.metric_values(page) == []

    app.draw_digit(page, 7)
    assert harness.wait_for_metric(page, "Prediction", previous=None) == "7"
    app.clear_with_app_button(page)

    # (1, 1): the European 1 with a flag, which the models (rules fitted on strangers) read as "1 or 7?"
    for digit, style, expected in [(0, 0, "0"), (3, 0, "3"), (4, 0, "4"), (1, 1, "1 or 7?")]:
        _draw_and_read(page, digit, style, expected=[expected])
        assert not app.hint_shown(page)
        app.clear_with_app_button(page)
        assert app.hint_shown(page)
        assert app.metric_values(page) == [], "no Prediction after Clear"
    app.assert_no_exception(page)


def test_a_drawn_letter_gets_one_line_not_a_prediction(app_pages):
    page = app_pages()
    harness.draw_strokes(page, app.letter_strokes("W"), steps=1)  # tests/app/test_app_draw.py's REFUSED_LETTER
    line = page.get_by_test_id("stMain").get_by_text("That doesn't look like a digit; the nearest would be a ")
    line.first.wait_for(timeout=20_000)
    assert line.count() == 1 and app.metric_values(page) == []
    app.assert_no_exception(page)
    app.clear_with_app_button(page)
    _draw_and_read(page, 7)  # a digit after it reads as ever


def test_model_choice_in_sidebar(app_pages):
    page = app_pages()
    main = page.get_by_test_id("stMain")
    _draw_and_read(page, 3)
    assert main.get_by_text("LeNet-5", exact=True).count() == 1

    with harness.rerun_expected(page):
        app.click_sidebar_model(page, "MLP")
    main.get_by_text("MLP", exact=True).wait_for(timeout=15_000)
    app.wait_for_metrics(page, ["3"])
    assert main.get_by_text("LeNet-5", exact=True).count() == 0

    with harness.rerun_expected(page):
        app.click_sidebar_model(page, "Both side by side")
    main.get_by_text("LeNet-5", exact=True).wait_for(timeout=15_000)
    app.wait_for_metrics(page, ["3", "3"])  # MLP, then LeNet-5
    assert main.get_by_text("MLP", exact=True).count() == 1

    # The canvas still drives both readings.
    app.clear_with_app_button(page)
    _draw_and_read(page, 6, expected=["6", "6"])
    app.assert_no_exception(page)


def test_upload_a_shadowed_photo_on_squared_paper(app_pages):
    """A phone-like photo of a 5 on squared paper with a deep shadow beside it (tests/data/photos) is
    read as a 5, with the photo path's steps shown."""
    from pathlib import Path

    photo = Path(__file__).parents[1] / "data" / "photos" / "shadow_squared_5.jpg"
    page = app_pages()
    page.get_by_text("…or upload or take a photo of a digit").click()
    page.locator(".st-key-upload").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
    app.wait_for_metrics(page, ["5"])
    page.get_by_text("Finding the digit in the photo").wait_for(timeout=15_000)
    assert app.error_texts(page) == []
    app.assert_no_exception(page)


def test_upload_a_scan_then_a_corrupt_file(app_pages, tmp_path):
    page = app_pages()
    scan = app.write_scan_png(tmp_path / "scan-of-a-2.png", 2)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not the rest of a PNG file" * 20)

    page.get_by_text("…or upload or take a photo of a digit").click()
    dropzone = page.locator(".st-key-upload").get_by_test_id("stFileUploaderDropzone")
    with page.expect_file_chooser(timeout=15_000) as chooser:
        dropzone.get_by_test_id("stBaseButton-secondary").click()  # the "Upload" button
    chooser.value.set_files(str(scan))
    app.wait_for_metrics(page, ["2"])
    page.get_by_text("Reading scan-of-a-2.png").wait_for(timeout=15_000)
    assert app.error_texts(page) == []

    page.locator(".st-key-upload").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(corrupt))
    page.locator(app.ERROR).first.wait_for(timeout=15_000)
    errors = app.error_texts(page)
    assert len(errors) == 1, errors
    assert errors[0].startswith("Cannot read corrupt.png:"), errors
    assert "\n" not in errors[0], f"the error should be one line: {errors[0]!r}"
    assert app.metric_values(page) == []
    app.assert_no_exception(page)

    # The canvas still works: drawing makes it the input again.
    _draw_and_read(page, 5)
    assert app.error_texts(page) == []
    app.assert_no_exception(page)


EDGE = 3  # canvas px from the edge: strokes start on the canvas's outermost pixels
EDGE_STARTS = {  # where one-stroke 1s start: the corners and along the top edge
    "top-left corner": (EDGE, EDGE),
    "top edge, left": (70, EDGE),
    "top edge, middle": (140, EDGE),
    "top edge, right": (210, EDGE),
    "top-right corner": (app.CANVAS_PX - EDGE, EDGE),
    "bottom-left corner": (EDGE, app.CANVAS_PX - EDGE),
    "bottom-right corner": (app.CANVAS_PX - EDGE, app.CANVAS_PX - EDGE),
}


def _one(start: tuple[float, float]) -> list[list[tuple[float, float]]]:
    """A one-stroke 1: a vertical line from `start` to the opposite edge (it reads "1" anywhere)."""
    x, y = start
    end = app.CANVAS_PX - y
    return [[(x, y + (end - y) * i / 20) for i in range(21)]]


def test_nothing_covers_the_canvas(app_pages):
    """The drawing surface is what the pointer hits at every corner and edge (the component's
    hover-only toolbar used to sit over the top 30 px of its right half), before and after Clear."""
    page = app_pages(has_touch=True, viewport={"width": 1024, "height": 1366})
    assert app.surface_cover(page) == []
    assert [app.canvas_button(page, label).count() for label in ("Undo", "Redo", "Clear")] == [1, 1, 1]
    _draw_and_read(page, 3)
    app.clear_with_app_button(page)
    assert app.surface_cover(page) == []


def test_finger_strokes_count_from_every_corner_and_the_top_edge(app_pages):
    """On a tablet-sized page (1024x1366, touch), a one-stroke digit started by a finger at each
    corner and along the top edge is read; the finger then taps Undo, which empties the canvas."""
    page = app_pages(has_touch=True, viewport={"width": 1024, "height": 1366})
    for name, start in EDGE_STARTS.items():
        harness.draw_strokes_touch(page, _one(start), steps=1)
        try:
            app.wait_for_metrics(page, ["1"])
        except AssertionError as error:
            raise AssertionError(f"a finger stroke from the {name} {start} was not read: {error}") from None
        app.settle(page)
        app.press(page, "Undo", tap=True)
        app.wait_for_blank(page)
        assert not app.button_enabled(page, "Undo") and app.button_enabled(page, "Redo")
    assert app.error_texts(page) == []
    app.assert_no_exception(page)


@pytest.mark.parametrize("pointer", ["mouse", "pen"])
def test_stroke_right_after_clear_from_the_top_right(app_pages, pointer):
    """The mouse (or a pen) goes from "Clear" straight to the canvas's top-right corner
    and draws: the stroke is read (the hover-only toolbar had not moved away yet and took it)."""
    draw = harness.draw_strokes if pointer == "mouse" else harness.draw_strokes_pen
    page = app_pages()
    _draw_and_read(page, 3)
    app.clear_with_app_button(page)
    for start in (EDGE_STARTS["top-right corner"], EDGE_STARTS["top edge, middle"]):
        draw(page, _one(start), steps=1)
        app.wait_for_metrics(page, ["1"])
        app.clear_with_app_button(page)
    app.assert_no_exception(page)


BAR = (60, 30, 135, 50)  # canvas px (left, top, right, bottom) where only the 7's bar is, left of the 1


def test_undo_and_redo_buttons(app_pages):
    """A 1, then a bar on top that makes it a 7: Undo takes the bar off the canvas (the 1 is read
    again), Redo puts it back; the buttons are disabled when there is nothing to undo or redo."""
    page = app_pages()
    assert not app.button_enabled(page, "Undo") and not app.button_enabled(page, "Redo")
    harness.draw_strokes(page, _one((150, 40)), steps=1)
    app.wait_for_metrics(page, ["1"])
    app.settle(page)
    harness.draw_strokes(page, [[(70 + 4 * i, 40) for i in range(21)]], steps=1)
    app.wait_for_metrics(page, ["7 or 1?"])
    app.settle(page)
    assert app.button_enabled(page, "Undo") and not app.button_enabled(page, "Redo")
    assert app.ink_in(page, BAR) > 0

    app.press(page, "Undo")
    app.wait_for_metrics(page, ["1"])
    app.settle(page)
    assert app.ink_in(page, BAR) == 0, "the bar should be gone from the canvas"
    assert app.button_enabled(page, "Undo") and app.button_enabled(page, "Redo")

    app.press(page, "Redo")
    app.wait_for_metrics(page, ["7 or 1?"])
    app.settle(page)
    assert app.ink_in(page, BAR) > 0, "the bar should be back"
    assert app.button_enabled(page, "Undo") and not app.button_enabled(page, "Redo")

    app.press(page, "Undo")  # then a new stroke: nothing to redo any more
    app.wait_for_metrics(page, ["1"])
    app.settle(page)
    with harness.rerun_expected(page):
        harness.draw_strokes(page, [[(60 + 4 * i, 150) for i in range(21)]], steps=1)
    app.settle(page)
    assert not app.button_enabled(page, "Redo")
    assert app.error_texts(page) == []
    app.assert_no_exception(page)


def test_touch_drawn_digit(app_pages):
    page = app_pages(has_touch=True, viewport={"width": 1000, "height": 900})
    _draw_and_read(page, 8, 1, touch=True)
    app.clear_with_app_button(page)
    _draw_and_read(page, 2, 0, touch=True)
    app.assert_no_exception(page)


# Single-stroke HAND styles (one mouse-up each) that both models read correctly when drawn
# 200 px tall with the default 20 px brush.
LATENCY_DIGITS = [(0, 0), (1, 0), (2, 0), (3, 0), (6, 0), (7, 0), (8, 1), (9, 0),
                  (5, 0), (0, 1), (2, 1), (3, 2), (6, 1), (7, 2), (9, 1)]
STAGES = ["debounce", "to_start", "to_metric", "render", "paint", "total", "painted", "run"]
STAGE_NOTES = {
    "debounce": "mouse-up -> canvas sends the drawing (component's fixed 200 ms debounce)",
    "to_start": "send -> run started (new_session received): server picks up the rerun",
    "to_metric": "run start -> ForwardMsg with the Prediction metric received (server script)",
    "render": "that message -> new metric text in the DOM (Streamlit frontend)",
    "paint": "DOM text -> next animation frame",
    "total": "mouse-up -> new Prediction text in the DOM",
    "painted": "mouse-up -> first frame after it (on screen)",
    "run": "run start -> script_finished received (whole fragment run, all figures)",
}


def test_stroke_latency(app_pages):
    """Mouse-up -> updated Prediction, LeNet-5, Draw tab with every figure: median of 15 digits
    (each one stroke, drawn on a cleared canvas). Written to artifacts/latency.json; no timed
    assertion, only that every digit is read correctly."""
    page = app_pages()
    _draw_and_read(page, 4)  # the page's first reading: creates the charts (slower), not in the median
    page.wait_for_function("() => window.__lat.msgs.some(m => m.f.includes(6) && m.t > window.__lat.ups.at(-1))",
                            timeout=15_000)
    first = app.stroke_breakdown(app.timing_records(page), "4")
    rows = app.stroke_latency_rows(page, LATENCY_DIGITS)
    assert app.error_texts(page) == []

    medians = {k: round(statistics.median(r[k] for r in rows), 1) for k in STAGES}
    lines = [f"{'stage':<10} {'median':>8} {'min':>7} {'max':>7}  what"]
    for k in STAGES:
        values = [r[k] for r in rows]
        lines.append(f"{k:<10} {medians[k]:>6.0f}ms {min(values):>5.0f}ms {max(values):>5.0f}ms  {STAGE_NOTES[k]}")
    lines.append(f"({len(rows)} strokes, LeNet-5, Draw tab; in-page performance.now() timestamps)")
    if first:
        lines.append("first stroke on a fresh page (not in the median): "
                     + ", ".join(f"{k} {first[k]:.0f}" for k in ("to_metric", "render", "total")) + " ms")
    app.report("Stroke latency (mouse-up -> Prediction text)", "\n".join(lines))

    app.ARTIFACTS.mkdir(exist_ok=True)
    (app.ARTIFACTS / "latency.json").write_text(json.dumps({
        "what": "mouse-up of a finished one-stroke digit -> updated Prediction metric text in the browser",
        "model": "lenet5",
        "tab": "Draw (every figure on)",
        "strokes": len(rows),
        "median_ms": medians,
        "stages": STAGE_NOTES,
        "rows": rows,
        "first_stroke_ms": {k: round(v, 1) for k, v in (first or {}).items()},
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": platform.python_version(),
                    "chromium": page.context.browser.version},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, indent=2) + "\n")


def test_screenshots_draw_and_network(app_pages):
    page = app_pages(viewport={"width": 1400, "height": 1000})
    _draw_and_read(page, 4)
    app.wait_for_charts(page)
    size = app.screenshot_page(page, app.SCREENSHOTS / "draw.png")
    assert size < 400_000, size

    app.open_tab(page, "Network")
    page.get_by_text("Showing your drawing, as read on the Draw tab.").wait_for(timeout=30_000)
    page.get_by_text("LeNet-5 reads a 4").wait_for(timeout=30_000)
    app.wait_for_charts(page)
    app.assert_no_exception(page)
    size = app.screenshot_page(page, app.SCREENSHOTS / "network_lenet5.png")
    assert size < 400_000, size

    app.click_sidebar_model(page, "MLP")
    page.get_by_text("MLP reads a 4").wait_for(timeout=30_000)
    app.wait_for_charts(page)
    app.assert_no_exception(page)
    size = app.screenshot_page(page, app.SCREENSHOTS / "network_mlp.png")
    assert size < 400_000, size
