"""The Data, Evaluation and Learn tabs in a real browser: each renders its main content with no
Streamlit exception, every section of Data and Evaluation included, and is saved to
docs/screenshots/ (data.png, evaluation.png, learn.png).

Needs the MNIST data (MNIST_DATA, default ../shared/mnist via tests/conftest.py): without it the
tabs only show the no-data message and the test fails, saying so.
"""

from __future__ import annotations

import app_support as app
import harness
import pytest

pytestmark = pytest.mark.e2e

SLOW = 90_000  # ms: a first render computes statistics, the PCA map, robustness curves


def _open(page, tab: str, *waits: str) -> None:
    app.open_tab(page, tab)
    no_data = page.get_by_text("No MNIST data is available")
    for selector in waits:
        try:
            page.locator(selector).first.wait_for(state="visible", timeout=SLOW)
        except Exception as error:
            if no_data.count():
                raise AssertionError(f"{tab} tab: no MNIST data (set MNIST_DATA): {no_data.inner_text()}") from error
            app.assert_no_exception(page)
            raise
    app.wait_for_charts(page, timeout=SLOW)
    app.assert_no_exception(page)


def _section(page, tabs_key: str, name: str, *waits: str) -> None:
    """Open a section (inner tab) of a tab; each switch reruns the script."""
    page.locator(f".st-key-{tabs_key}").get_by_role("tab", name=name, exact=True).click()
    for selector in waits:
        page.locator(selector).first.wait_for(state="visible", timeout=SLOW)
    app.wait_for_charts(page, timeout=SLOW)
    app.assert_no_exception(page)


def test_the_server_warms_the_models_and_the_data_figures_when_it_starts(app_url):
    """`app/serve.py`'s warm-up runs both steps, in this order, and says so in the server log."""
    log = harness.wait_for_log(app_url, "warm: data figures")
    assert "warm-up failed" not in log, app.server_log_tail(app_url)
    first, data = log.find("warm: the first page's modules and models ready"), log.find("warm: data figures ready")
    assert 0 <= first < data, app.server_log_tail(app_url)


def test_data_tab(app_pages):
    page = app_pages()
    _open(page, "Data", ".st-key-data_section", ".st-key-data_counts", ".st-key-data_ink_box")
    page.get_by_role("heading", name="The MNIST data").wait_for()
    assert page.get_by_test_id("stMetricValue").filter(has_text="60,000").count() == 1
    app.screenshot_page(page, app.SCREENSHOTS / "data.png")

    _section(page, "data_section", "Samples & pixels", ".st-key-data_pixel_values")
    _section(page, "data_section", "2-D map", ".st-key-data_pca_chart")
    _section(page, "data_section", "Augmentation", ".st-key-data_robustness")
    assert app.error_texts(page) == []


def test_evaluation_tab(app_pages):
    page = app_pages()
    _open(page, "Evaluation", ".st-key-eval_section", ".st-key-eval_per_digit_lenet5",
          ".st-key-eval_confusion_lenet5")
    page.get_by_role("heading", name="Evaluation on the test set").wait_for()
    page.get_by_role("heading", name="LeNet-5: the most confident mistakes").wait_for()
    app.screenshot_page(page, app.SCREENSHOTS / "evaluation.png")

    _section(page, "eval_section", "Comparison", ".st-key-eval_per_digit_both")
    assert app.error_texts(page) == []


def test_learn_tab(app_pages):
    page = app_pages()
    _open(page, "Learn", ".st-key-learn_pixels", ".st-key-learn_steps", ".st-key-learn_c3_table")
    page.get_by_role("heading", name="Learn: how a computer reads a digit").wait_for()
    page.get_by_role("heading", name="The two networks, layer by layer").wait_for()
    app.screenshot_page(page, app.SCREENSHOTS / "learn.png", max_height=2300)
    assert app.error_texts(page) == []
