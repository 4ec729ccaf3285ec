"""pytest setup for browser end-to-end tests (Playwright + system Chromium).

Run them with ``pytest tests/e2e -m e2e``; deselect with ``-m "not e2e"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # so `import harness` works in every import mode
    sys.path.insert(0, str(_HERE))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: end-to-end test driving `streamlit run` with headless Chromium "
        "(slow; needs /usr/bin/chromium and the playwright package)",
    )


@pytest.fixture(scope="session")
def e2e_playwright():
    """A started sync Playwright; skips when playwright/chromium are missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import harness

    if not Path(harness.CHROMIUM_PATH).exists():
        pytest.skip(f"no Chromium at {harness.CHROMIUM_PATH}")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def e2e_browser(e2e_playwright):
    """One headless Chromium for the whole session, closed at the end."""
    import harness

    browser = harness.launch_browser(e2e_playwright)
    try:
        yield browser
    finally:
        browser.close()
