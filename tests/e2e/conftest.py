"""pytest setup for browser end-to-end tests (Playwright + system Chromium).

Run them with ``pytest tests/e2e -m e2e``; deselect with ``-m "not e2e"``.
"""

from __future__ import annotations

import contextlib
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


# --------------------------------------------------------------------------
# The MNIST app (tests/e2e/app_support.py)
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app_url(e2e_playwright):
    """`streamlit run app/serve.py` on 127.0.0.1, one server per test module, stopped
    (process group SIGTERM, then SIGKILL) when the module is done. Its log's tail is attached to
    the report of any test that fails while using it."""
    import app_support

    with app_support.app_server() as url:
        yield url


@pytest.fixture
def app_pages(request, e2e_browser, app_url):
    """`open(**kw)` -> a new page of the app (app_support.open_page: own context, timing
    probes), closed after the test. On failure each open page is saved to
    artifacts/e2e-failures/<test>-<n>.png first."""
    import app_support

    opened = []

    def open_(**kwargs):
        page = app_support.open_page(e2e_browser, app_url, **kwargs)
        opened.append(page)
        return page

    yield open_
    report = getattr(request.node, "rep_call", None)
    for n, page in enumerate(opened):
        if report is not None and report.failed:
            out = app_support.ARTIFACTS / "e2e-failures" / f"{request.node.name}-{n}.png"
            with contextlib.suppress(Exception):  # best effort, never mask the failure
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), timeout=10_000)
        with contextlib.suppress(Exception):
            page.context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (for app_pages) and, when a test that uses the app
    server fails, attach the server log's tail to its report."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    if report.failed and "app_url" in getattr(item, "fixturenames", ()):
        url = getattr(item, "funcargs", {}).get("app_url")
        if url is not None:
            import app_support

            report.sections.append(("streamlit server log (tail)", app_support.server_log_tail(url)))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print what the e2e tests measured (latency table, load figures) after the run."""
    import app_support

    for title, text in app_support.SUMMARY:
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(text)
