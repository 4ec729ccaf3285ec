"""The Train tab in a real browser: the default training (LeNet-5, 12,000 images, 3 epochs) started
with its button, its curves growing, finished with a test accuracy, its model then chosen in the
sidebar to read a drawing; a second training cancelled while a digit is drawn on the Draw tab.
Saves docs/screenshots/train.png and reports the times it measured (first curve point seen in
the page, the whole run, a stroke's reading with and without a training running).

Needs the MNIST data (MNIST_DATA, default ../shared/mnist via tests/conftest.py).
"""

from __future__ import annotations

import re
import time

import app_support as app
import harness
import pytest

pytestmark = pytest.mark.e2e

RUN_MS = 180_000  # the default run takes well under a minute; generous for a busy machine
CURVE_POINTS = """() => { const p = document.querySelector('.st-key-train_curves .js-plotly-plot');
                          const trace = p && p._fullData && p._fullData[0];  // plotly's decoded trace
                          return trace ? trace._length || 0 : 0; }"""


def _curve_points(page) -> int:
    return page.evaluate(CURVE_POINTS)


def _stroke_ms(page, digit: int) -> float:
    """Clear, draw `digit`, wait for its Prediction: milliseconds from the stroke to the reading."""
    app.clear_with_app_button(page)
    start = time.monotonic()
    app.draw_digit(page, digit)
    app.wait_for_metrics(page, [str(digit)], timeout=30_000)
    return (time.monotonic() - start) * 1000


def _start(page, longest: bool = False) -> float:
    """Open the Train tab and click Start (the default run, or with `longest` the longest one:
    58,000 images for 10 epochs, minutes); returns the click's time.monotonic()."""
    app.open_tab(page, "Train")
    button = page.get_by_role("button", name="Start training")
    button.wait_for(timeout=60_000)
    page.wait_for_function("() => ![...document.querySelectorAll('button')].some("
                           "b => b.innerText.includes('Start training') && b.disabled)", timeout=RUN_MS)
    if longest:
        for key in ("train_images", "train_epochs"):
            with harness.rerun_expected(page):
                page.locator(f".st-key-{key} input[type=range]").press("End")  # react-aria: End = maximum
        page.locator(".st-key-train_epochs [data-testid=stSliderThumbValue]", has_text="10").wait_for()
        page.locator(".st-key-train_images [data-testid=stSliderThumbValue]", has_text="58,000").wait_for()
    start = time.monotonic()
    button.click()
    return start


def test_train_watch_finish_use_and_cancel(app_pages):
    page = app_pages()
    idle_ms = _stroke_ms(page, 7)  # a drawing for the training to read after each epoch

    start = _start(page)
    page.get_by_test_id("stProgress").filter(has_text="Epoch").first.wait_for(timeout=60_000)
    page.wait_for_function(f"() => ({CURVE_POINTS})() >= 2", timeout=60_000, polling=100)
    first_point_s = time.monotonic() - start
    seen = _curve_points(page)
    page.wait_for_function(f"() => ({CURVE_POINTS})() > {seen}", timeout=60_000, polling=200)  # it grows
    # the kernels once (a rerun may show the previous run's copy for a moment, until it finishes)
    page.wait_for_function("() => document.querySelectorAll('.st-key-train_kernels_now').length === 1",
                           timeout=10_000)
    harness.wait_for_metric(page, "Test accuracy", timeout=RUN_MS)
    run_s = time.monotonic() - start
    accuracy = harness.read_metric(page, "Test accuracy")
    assert accuracy.endswith("%") and float(accuracy[:-1]) > 80, accuracy
    app.wait_for_charts(page)
    app.assert_no_exception(page)
    assert app.error_texts(page) == []
    app.screenshot_page(page, app.SCREENSHOTS / "train.png", max_height=1500)

    # the trained model reads the drawing on the Draw tab
    with harness.rerun_expected(page):
        app.click_sidebar_model(page, "Your trained model")
    app.open_tab(page, "Draw")
    page.locator('[data-testid="stMain"] strong:visible', has_text="Your trained model").wait_for(timeout=15_000)
    said = harness.wait_for_metric(page, "Prediction")  # calibrated: one digit, or two ("7 or 1?") when unsure
    assert re.fullmatch(r"\d( or \d\?)?", said), said
    with harness.rerun_expected(page):
        app.click_sidebar_model(page, "LeNet-5")

    # a second training: draw while it runs (the sidebar shows it), then cancel it
    _start(page)
    page.get_by_test_id("stProgress").filter(has_text="Epoch").first.wait_for(timeout=60_000)
    app.open_tab(page, "Draw")
    page.get_by_test_id("stSidebar").get_by_test_id("stProgress").filter(has_text="Training: ").wait_for()
    training_ms = _stroke_ms(page, 3)
    still = page.get_by_test_id("stSidebar").get_by_test_id("stProgress").filter(has_text="Training: ").count()
    app.open_tab(page, "Train")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Training stopped (cancelled)").wait_for(timeout=60_000)
    assert page.get_by_test_id("stMetricLabel").filter(has_text="Test accuracy").count() == 0
    app.assert_no_exception(page)

    app.report("Train tab (default run: LeNet-5, 12,000 images, 3 epochs)",
               f"first curve point seen in the page {first_point_s:.1f} s after the click; finished (test "
               f"accuracy {accuracy} on 10,000) {run_s:.1f} s after it; a stroke's reading took {idle_ms:.0f} ms "
               f"with no training, {training_ms:.0f} ms during one"
               f"{'' if still else ' (the training may have ended during the stroke)'}")


def test_another_session_sees_the_training_and_leaving_the_page_stops_it(app_pages):
    page = app_pages()
    _start(page, longest=True)
    page.get_by_test_id("stProgress").filter(has_text="Epoch 1/10").first.wait_for(timeout=60_000)
    other = app_pages()
    app.open_tab(other, "Train")
    other.get_by_text("Another session's training is running: ").wait_for(timeout=30_000)
    assert other.get_by_role("button", name="Start training").is_disabled()
    left = time.monotonic()
    page.context.close()  # the first session leaves: no more polls, no heartbeat
    other.wait_for_function("() => [...document.querySelectorAll('button')].some("
                            "b => b.innerText.includes('Start training') && !b.disabled)", timeout=60_000)
    stopped_s = time.monotonic() - left
    assert stopped_s < 60  # not the end of the run: 58,000 images x 10 epochs take minutes
    assert other.get_by_text("Another session's training is running").count() == 0
    app.report("Train tab: leaving the page", f"another session could start {stopped_s:.1f} s after the first left")
