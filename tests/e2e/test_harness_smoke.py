"""Smoke test of the e2e harness against tests/e2e/lab_page.py.

Can be deleted once real e2e tests of the app exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import harness

LAB_PAGE = Path(__file__).resolve().parent / "lab_page.py"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab_url():
    with harness.start_streamlit(LAB_PAGE) as url:
        yield url


@pytest.mark.parametrize("mode", ["png", "json"])
def test_stroke_updates_metric(e2e_browser, lab_url, mode):
    page = harness.open_app(e2e_browser, lab_url, query=f"mode={mode}")
    try:
        before = harness.wait_for_metric(page, "Prediction")
        assert before == "0"

        harness.draw_strokes(page, [[(140, 40), (140, 140), (140, 240)]])
        after = harness.wait_for_metric(page, "Prediction", previous=before)
        if mode == "png":
            # an 18px-wide, ~200px-tall vertical line of white ink
            assert 2500 < int(after) < 6000, after
        else:
            assert after == "1"

        harness.clear_canvas(page)
        assert harness.wait_for_metric(page, "Prediction", previous=after) == "0"
    finally:
        page.context.close()
