"""The Numbers tab in a real browser: a three-digit number written with the mouse on the wide
canvas (the hand-drawn digit styles that the Draw tab's tests draw, smaller and side by side) is
read with a box per digit; the strokes survive a trip to another tab; Clear empties it. Saves
docs/screenshots/numbers.png."""

from __future__ import annotations

import app_support as app
import harness
import pytest

pytestmark = pytest.mark.e2e

KEY = "numbers_canvas"
DIGITS = (3, 5, 7)
HEIGHT = 180  # px, in the 280 px tall canvas
LEFTS = (70, 270, 470)  # each digit's left edge: about 70 px apart


def number_strokes() -> list[list[tuple[float, float]]]:
    strokes = []
    for digit, left in zip(DIGITS, LEFTS):
        strokes += app.digit_strokes(digit, size=HEIGHT, offset=(left, 50))
    return strokes


def box_count(page, name: str = "lenet5") -> int:
    """Rectangles Plotly drew in the boxes chart of model `name`."""
    return page.locator(f".st-key-numbers-boxes-{name} .shapelayer path").count()


def test_write_a_number_and_read_it(app_pages):
    page = app_pages(viewport={"width": 1400, "height": 1000})
    app.open_tab(page, "Numbers")
    harness.canvas_locator(page, KEY).wait_for(state="visible", timeout=30_000)
    app.settle(page)
    assert app.metric_values(page, "Number") == []

    harness.draw_strokes(page, number_strokes(), steps=1, key=KEY)
    expected = "".join(map(str, DIGITS))
    app.wait_for_metrics(page, [expected], label="Number")
    app.wait_for_charts(page)
    assert app.error_texts(page) == []
    assert box_count(page) == len(DIGITS)
    app.assert_no_exception(page)
    size = app.screenshot_page(page, app.SCREENSHOTS / "numbers.png")
    assert size < 400_000, size

    # both models, side by side (a full rerun: the strokes stay)
    with harness.rerun_expected(page):
        app.click_sidebar_model(page, "Both side by side")
    app.wait_for_metrics(page, [expected, expected], label="Number")
    app.wait_for_charts(page)
    assert box_count(page, "mlp") == box_count(page, "lenet5") == len(DIGITS)
    app.screenshot_page(page, app.ARTIFACTS / "numbers_both.png")

    # the strokes stay on the canvas across a trip to another tab
    app.open_tab(page, "Draw")
    app.settle(page)
    app.open_tab(page, "Numbers")
    app.wait_for_metrics(page, [expected, expected], label="Number")

    with harness.rerun_expected(page):
        page.locator(".st-key-numbers_clear button").click()
    app.settle(page)
    assert app.metric_values(page, "Number") == []
    app.assert_no_exception(page)


def test_the_canvas_fits_a_1280x800_window_with_the_sidebar_open(app_pages):
    """At 1280x800 with the sidebar open, the wide canvas and its Undo, Redo and Clear buttons lie
    inside the viewport and inside the main column's content box (840 px overflowed it by 20 px)."""
    page = app_pages(viewport={"width": 1280, "height": 800})
    app.open_tab(page, "Numbers")
    canvas = harness.canvas_locator(page, KEY)
    canvas.wait_for(state="visible", timeout=30_000)
    app.settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
    assert sidebar is not None and sidebar["width"] > 200 and sidebar["x"] >= 0, sidebar  # open
    column_right = page.locator('[data-testid="stMainBlockContainer"]').evaluate(  # its content box's right edge
        "e => e.getBoundingClientRect().right - parseFloat(getComputedStyle(e).paddingRight)")
    viewport = page.viewport_size["width"]
    for what, locator in [("canvas", canvas)] + [(b, page.locator(f".st-key-numbers_{b} button").filter(visible=True))
                                                 for b in ("undo", "redo", "clear")]:
        box = locator.bounding_box()
        right = box["x"] + box["width"]
        assert box["x"] >= sidebar["x"] + sidebar["width"] and right <= viewport, (what, box, viewport)
        assert right <= column_right + 0.5, (what, box, column_right)
    holder = page.locator(f".st-key-{KEY}").bounding_box()  # the canvas widget's own container
    assert canvas.bounding_box()["x"] + canvas.bounding_box()["width"] <= holder["x"] + holder["width"] + 0.5, holder
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
