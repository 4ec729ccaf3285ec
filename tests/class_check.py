"""A class of 30 on one server: every kept drawing on the wall, how soon. A script, not a test.

    MNIST_DATA=../shared/mnist python tests/class_check.py [--students 30]

Runs `streamlit run app/serve.py` on a throwaway collection, waits for its warm-up, and drives
headless Chromium (`/usr/bin/chromium`) with the end-to-end tests' helpers: a teacher starts a
class on the Class tab, STUDENTS pages join through the link (every sixth a touch phone, 390x844),
then two rounds:

1. steady: one student after another draws a 0 and keeps it at once (as fast as one Playwright
   can draw on the pages in turn: one keep every 3-5 s on two cores);
2. burst: every student draws a 1, then all of them click "Keep" within a second or two.

The teacher's page logs the time its "Drawings" count changes (every 50 ms, `Date.now()`), the
students' clicks are timed on the same clock; the k-th keep of a round is on the wall when the
count first reaches k. Prints the median and max keep -> wall of each round, and checks that
none was lost: the database, the wall and every student's page count all of them. It times
things, so run it on a quiet machine (no training, no test suite beside it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests"), str(ROOT)]

import app_support as app  # noqa: E402
import harness  # noqa: E402
import test_class_e2e as klass  # noqa: E402
from serve_check import browser_cpu_s, cpu_s, rss_mb  # noqa: E402

from mnist_core.collection.database import Collection  # noqa: E402

# the wall's "Drawings" count and when it changed: [[count, ms since the epoch], ...]
COUNT_LOG_JS = """() => {
    window.__wallCounts = [];
    let last = null;
    setInterval(() => {
        const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].find(m =>
            m.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim() === 'Drawings');
        const value = metric ? parseInt(metric.querySelector('[data-testid="stMetricValue"]').innerText) : null;
        if (value !== last) { window.__wallCounts.push([value, Date.now()]); last = value; }
    }, 50);
}"""


STALE: list[int] = []  # a page that still showed the kept drawing's reading after its keep
LOST: list[int] = []  # a drawing on the canvas with no reading 20 s later (drawn again)


def draw_asked(page, digit: int, *, touch: bool) -> None:
    """Draw `digit` where the form asks for it, and wait for its Keep button."""
    try:
        page.get_by_text(f"Draw a {digit}", exact=True).wait_for(timeout=60_000)
        try:
            app.wait_for_blank(page, timeout=15_000)
        except Exception:  # the kept drawing came back (app/classes.keep_record), not offered as this digit
            STALE.append(digit)
        harness.canvas_locator(page).evaluate("c => c.scrollIntoView({block: 'center'})")
        app.draw_digit(page, digit, touch=touch)
        try:
            page.get_by_role("button", name=f"Keep it as a {digit}").wait_for(timeout=20_000)
        except Exception:  # the stroke was not read: as a student would, clear and draw it again
            LOST.append(digit)
            app.clear_with_app_button(page, timeout=30_000, tap=touch)
            app.draw_digit(page, digit, touch=touch)
            page.get_by_role("button", name=f"Keep it as a {digit}").wait_for(timeout=60_000)
    except Exception:
        shot = Path(tempfile.gettempdir()) / "class_check_failed.png"
        app.screenshot_page(page, shot, width=page.viewport_size["width"])
        print(f"a student's page did not get to its Keep button for a {digit}: {shot}; errors {app.error_texts(page)}")
        raise


def click_keep(page, digit: int, *, touch: bool) -> float:
    """Click (or tap) "Keep it as a DIGIT"; returns the click's time in ms since the epoch."""
    button = page.get_by_role("button", name=f"Keep it as a {digit}")
    clicked = time.time() * 1000
    button.tap() if touch else button.click()
    return clicked


def arrivals(log: list, clicks: list[float], before: int) -> list[float]:
    """Seconds from each click (sorted) to the first time the wall counted `before` + k drawings."""
    delays = []
    for k, clicked in enumerate(sorted(clicks), start=1):
        seen = next((t for count, t in log if count is not None and count >= before + k), None)
        delays.append(float("nan") if seen is None else (seen - clicked) / 1000)
    return delays


def summary(name: str, delays: list[float], spread_s: float, server_s: float, browsers_s: float) -> str:
    return (f"{name}: {len(delays)} keeps over {spread_s:.1f} s; keep -> wall median {statistics.median(delays):.2f} s, "
            f"max {max(delays):.2f} s, over 3 s: {sum(d > 3 for d in delays)}; CPU meanwhile: the server "
            f"{server_s:.1f} s, the browsers {browsers_s:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    db = str(Path(tempfile.mkdtemp(prefix="class_check_")) / "collected.sqlite3")
    n = args.students
    phones = [i % 6 == 5 for i in range(n)]
    with sync_playwright() as pw, klass.warmed_server(db) as url:
        browser = harness.launch_browser(pw)
        teacher, code = klass.start_class(browser, url)
        teacher.evaluate(COUNT_LOG_JS)
        students = []
        for i in range(n):
            students.append(klass.join(browser, url, code, phone=phones[i]))
        print(f"class {code}: {n} students joined ({sum(phones)} touch phones); server {url}")

        pid = url.process.pid
        cpu = (cpu_s(pid), browser_cpu_s())
        clicks = []
        for page, touch in zip(students, phones):
            draw_asked(page, 0, touch=touch)
            if touch:
                time.sleep(0.5)  # fabric ignores a mouse-like event 400 ms after a touchend
            clicks.append(click_keep(page, 0, touch=touch))
        app.wait_for_metrics(teacher, [str(n)], label="Drawings", timeout=60_000)
        steady = arrivals(teacher.evaluate("window.__wallCounts"), clicks, 0)
        print(summary("steady", steady, (max(clicks) - min(clicks)) / 1000, cpu_s(pid) - cpu[0],
                      browser_cpu_s() - cpu[1]), flush=True)

        for page, touch in zip(students, phones):
            draw_asked(page, 1, touch=touch)
        cpu = (cpu_s(pid), browser_cpu_s())
        clicks = [click_keep(page, 1, touch=touch) for page, touch in zip(students, phones)]
        app.wait_for_metrics(teacher, [str(2 * n)], label="Drawings", timeout=60_000)
        burst = arrivals(teacher.evaluate("window.__wallCounts"), clicks, n)
        print(summary("burst", burst, (max(clicks) - min(clicks)) / 1000, cpu_s(pid) - cpu[0],
                      browser_cpu_s() - cpu[1]), flush=True)

        for page in students:
            page.get_by_text("You kept 2").wait_for(timeout=30_000)
        with Collection(db) as c:
            saved = len(c)
        wall = app.metric_values(teacher, "Drawings") + app.metric_values(teacher, "Students")
        print(f"server RSS {rss_mb(pid):.0f} MB; pages still showing the kept drawing's reading after a keep: {len(STALE)}; "
              f"drawings not read within 20 s (cleared and drawn again): {len(LOST)}")
        print(f"none lost: database {saved}, wall {wall[0]} drawings by {wall[1]} students, every page 'You kept 2'")
        assert saved == 2 * n and wall == [str(2 * n), str(n)], (saved, wall)
        for page in (teacher, *students):
            app.assert_no_exception(page)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
