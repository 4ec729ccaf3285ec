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
