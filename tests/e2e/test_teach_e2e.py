"""Teaching with the app (issue 9) in a real browser: the presenter view answers strokes on one
screen, a lesson link opened in a fresh browser shows the same digit and reading, a tampered link
gives one line. Also the presenter's screenshots and its stroke latency beside the Draw tab's.

Run: MNIST_DATA=../shared/mnist python -m pytest tests/e2e/test_teach_e2e.py
"""

from __future__ import annotations

import json
import os
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import app_support as app
import harness
import pytest

pytestmark = pytest.mark.e2e

FULL_HD = {"width": 1920, "height": 1080}
HD = {"width": 1280, "height": 720}

# The lower canvas (fabric draws there): how many pixels are inked, and a 28x28 summary of where.
CANVAS_INK_JS = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; const grid = new Array(28 * 28).fill(0);
  for (let i = 0; i < d.length; i += 4) if (d[i] > 128) { n++; const p = i / 4, y = Math.floor(p / c.width),
    x = p % c.width; grid[Math.floor(y * 28 / c.height) * 28 + Math.floor(x * 28 / c.width)]++; }
  return {n, grid}; }"""


def canvas_ink(page) -> dict:
    return page.locator("canvas.dc-canvas.lower-canvas").first.evaluate(CANVAS_INK_JS)  # not the background one


def strip_data(page) -> str:
    """The presenter strip's Plotly traces (as JSON text), to see that they changed."""
    return page.evaluate("""() => { const g = document.querySelector('.st-key-presenter-strip .js-plotly-plot');
                                    return g ? JSON.stringify(g.data.map(t => t.z || t.x)) : null; }""")


def open_presenter(app_pages, viewport=FULL_HD, query="view=presenter"):
    page = app_pages(viewport=viewport)
    page.goto(page.url.split("?")[0] + "?" + query, wait_until="domcontentloaded")
    harness.canvas_locator(page).wait_for(state="visible", timeout=60_000)
    page.locator(".st-key-presenter-strip .main-svg").first.wait_for(timeout=30_000)
    return page


def in_view(page, selector: str) -> bool:
    """Whether the element is entirely inside the viewport (no scrolling needed to see it)."""
    return page.evaluate("""sel => { const e = document.querySelector(sel); if (!e) return false;
        const r = e.getBoundingClientRect();
        return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1; }""", selector)


# Every piece of text of the presenter view (the main area: tabs, canvas column, strip, detail;
# not the sidebar, and not the canvas component's own shadow root): HTML text nodes, one box per
# line (Range.getClientRects), and Plotly's SVG <text> (getBoundingClientRect); with the computed
# font size. Only what is rendered and visible counts (checkVisibility: display, visibility, opacity).
TEXT_BOXES_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]'), boxes = [];
  const shown = e => e.checkVisibility({opacityProperty: true, visibilityProperty: true});
  const add = (i, text, size, rects) => { for (const r of rects) if (r.width > 0.5 && r.height > 0.5)
    boxes.push({i, text: text.trim().slice(0, 40), size, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}); };
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  let i = 0;
  for (let n; (n = walker.nextNode()); i++) {
    const e = n.parentElement;
    if (!n.textContent.trim() || e.closest('svg, style, script') || !shown(e)) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    add(i, n.textContent, parseFloat(getComputedStyle(e).fontSize), range.getClientRects());
  }
  for (const t of main.querySelectorAll('svg text')) {
    if (t.textContent.trim() && shown(t)) add(i++, t.textContent, parseFloat(getComputedStyle(t).fontSize),
                                              [t.getBoundingClientRect()]);
  }
  return boxes; }"""


def overlapping(boxes: list[dict], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of boxes of different texts that overlap by more than `slack` px both ways."""
    out = []
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            if a["i"] != b["i"] and min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > slack \
                    and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > slack:
                out.append((a["text"], b["text"]))
    return out


def set_sidebar(page, open_: bool) -> None:
    """Open or fold the sidebar with its own buttons, and let the charts follow the new width."""
    sidebar = page.get_by_test_id("stSidebar")
    if (sidebar.get_attribute("data-collapsed") == "false") != open_:
        if open_:
            page.get_by_test_id("stExpandSidebarButton").click()
        else:
            sidebar.hover()  # the collapse button shows on hover
            page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        page.wait_for_function("want => document.querySelector('[data-testid=\"stSidebar\"]')"
                               ".getAttribute('data-collapsed') === want", arg=str(not open_).lower())
    page.mouse.move(1, 1)
    page.wait_for_timeout(800)  # the sidebar's transition, then Plotly's resize
    app.wait_for_charts(page)


def test_presenter_view_answers_each_stroke_on_one_screen(app_pages):
    page = app_pages(viewport=FULL_HD)
    app.draw_digit(page, 7)
    app.wait_for_metrics(page, ["7"])
    before = canvas_ink(page)
    with harness.rerun_expected(page):
        page.get_by_test_id("stSidebar").get_by_text("Presenter view", exact=True).click()
    page.locator(".st-key-presenter-strip .main-svg").first.wait_for(timeout=30_000)
    app.wait_for_metrics(page, ["7"])
    assert canvas_ink(page) == before, "switching the view must keep the drawing on the canvas"
    assert parse_qs(urlsplit(page.url).query)["view"] == ["presenter"]
    first = strip_data(page)

    app.clear_with_app_button(page)
    app.draw_digit(page, 3)
    app.wait_for_metrics(page, ["3"])
    page.wait_for_function("old => { const g = document.querySelector('.st-key-presenter-strip .js-plotly-plot');"
                           " return g && JSON.stringify(g.data.map(t => t.z || t.x)) !== old; }", arg=first)
    app.wait_for_charts(page)
    assert strip_data(page) != first
    for selector in ('[data-testid="stMetric"]', ".st-key-presenter-strip", ".st-key-presenter-detail"):
        assert in_view(page, selector), f"{selector} is not on the 1920x1080 screen"
    canvas = harness.canvas_locator(page).bounding_box()  # (in a shadow root: measured by Playwright)
    assert canvas["y"] >= 0 and canvas["y"] + canvas["height"] <= FULL_HD["height"]
    assert app.error_texts(page) == []
    app.assert_no_exception(page)


def test_presenter_click_a_unit_and_why_not(app_pages):
    page = open_presenter(app_pages)
    app.draw_digit(page, 4)
    app.wait_for_metrics(page, ["4"])
    app.wait_for_charts(page)
    caption = page.get_by_text("The boxed unit (")
    before = caption.inner_text()
    # click a map in the strip: C1 map 1 (C1's panel is the second; its maps 2 to a row)
    page.get_by_text("C3 map 0", exact=True).wait_for(timeout=15_000)  # the default: C3, map 0
    strip = page.locator(".st-key-presenter-strip .heatmaplayer image").nth(1).bounding_box()
    with harness.rerun_expected(page):
        page.mouse.click(strip["x"] + strip["width"] * 0.75, strip["y"] + strip["height"] / 6)
    page.get_by_text("C1 map 1", exact=True).wait_for(timeout=15_000)
    # click unit (2, 3) of the large map (the detail figure's first panel: 28x28 units)
    box = page.locator(".st-key-presenter-detail .heatmaplayer image").first.bounding_box()  # the map itself
    cell = box["width"] / 28
    with harness.rerun_expected(page):
        page.mouse.click(box["x"] + 3.5 * cell, box["y"] + 2.5 * cell)
    page.get_by_text("The boxed unit (2, 3)").wait_for(timeout=15_000)
    assert caption.inner_text() != before
    assert "sees input rows 0–4, columns 1–5" in caption.inner_text()

    page.get_by_text("Why this, not that", exact=True).click()
    page.get_by_text("red pixels argue for 4 over").wait_for(timeout=15_000)
    app.wait_for_charts(page)
    query = parse_qs(urlsplit(page.url).query)
    assert (query["layer"], query["map"], query["detail"]) == (["C1"], ["1"], ["why"])  # the link carries the choice

    # Clear and a new digit keep the mode and the map
    app.clear_with_app_button(page)
    app.draw_digit(page, 7)
    app.wait_for_metrics(page, ["7"])
    page.get_by_text("red pixels argue for 7 over").wait_for(timeout=15_000)
    with harness.rerun_expected(page):
        page.get_by_text("Feature map", exact=True).click()
    page.get_by_text("C1 map 1", exact=True).wait_for(timeout=15_000)
    app.assert_no_exception(page)


def test_lesson_link_opens_in_a_fresh_browser(app_pages):
    page = open_presenter(app_pages)
    app.draw_digit(page, 2)
    app.wait_for_metrics(page, ["2"])
    page.wait_for_function("() => new URLSearchParams(location.search).has('d')", timeout=15_000)
    link = page.url
    drawn = canvas_ink(page)
    query = parse_qs(urlsplit(link).query)
    assert query["model"] == ["lenet5"] and query["view"] == ["presenter"]
    app.report("Lesson link", f"{len(link)} characters in all, the drawing {len(query['d'][0])}: {link}")

    fresh = app_pages(viewport=FULL_HD)  # a new browser context: no cookies, no session
    fresh.goto(link, wait_until="domcontentloaded")
    harness.canvas_locator(fresh).wait_for(state="visible", timeout=60_000)
    app.wait_for_metrics(fresh, ["2"])  # read without anyone drawing
    shown = canvas_ink(fresh)
    overlap = sum(min(a, b) for a, b in zip(drawn["grid"], shown["grid"])) / max(
        sum(max(a, b) for a, b in zip(drawn["grid"], shown["grid"])), 1)
    assert overlap > 0.85, (overlap, drawn["n"], shown["n"])  # the same digit on the canvas
    assert fresh.locator(".st-key-presenter-strip .main-svg").count() >= 1  # in the presenter view
    assert parse_qs(urlsplit(fresh.url).query)["d"] == query["d"]
    assert app.error_texts(fresh) == []
    app.assert_no_exception(fresh)

    # drawing on the opened lesson carries on from it
    harness.draw_strokes(fresh, [[(30.0, 250.0), (60.0, 250.0)]], steps=2)
    fresh.wait_for_function("d => new URLSearchParams(location.search).get('d') !== d", arg=query["d"][0],
                            timeout=15_000)


@pytest.mark.parametrize("view", ["draw", "presenter"])
def test_a_tampered_link_gives_one_line(app_pages, view):
    page = app_pages()
    text = "1YxSRPcFodJ6RgZGDQY63glOMjYGHW4RTj1eCQYFNjkuER0yET4xDjVVBWElYQFNMnImdhZ2Zn0mWVZJTnFdUHAArtvRp"
    page.goto(page.url.split("?")[0] + f"?model=lenet5&view={view}&d=" + text[:40] + "Q" + text[41:],
              wait_until="domcontentloaded")
    harness.canvas_locator(page).wait_for(state="visible", timeout=60_000)
    warning = page.get_by_test_id("stAlertContentWarning")
    warning.first.wait_for(timeout=30_000)
    assert warning.count() == 1
    text_shown = warning.first.get_by_test_id("stMarkdownContainer").inner_text().strip()  # not the icon's name
    assert text_shown.startswith("This lesson link could not be opened as it is") and "\n" not in text_shown
    assert app.metric_values(page) == [] and app.hint_shown(page)
    assert canvas_ink(page)["n"] == 0
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0  # no network drawn for the empty input
    app.assert_no_exception(page)


@pytest.mark.parametrize("viewport", [HD, FULL_HD], ids=["1280x720", "1920x1080"])
def test_presenter_text_never_overlaps_and_is_room_sized(app_pages, viewport):
    """A lesson link opens the presenter with the sidebar folded; then folded and open, the
    feature map (C3, the default), "Why this, not that" and both models: no two pieces of text overlap and
    the smallest is at least the room's size (presenter.TYPE_PX at 1920 px wide, the same share
    of the width at any other: 16 px at 1280)."""
    from app.tabs.presenter import TYPE_PX

    smallest = TYPE_PX * viewport["width"] / 1920 - 0.25
    page = open_presenter(app_pages, viewport=viewport, query="view=presenter&model=lenet5")
    assert page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"  # folded by the link
    app.draw_digit(page, 5)
    app.wait_for_metrics(page, ["5"])
    app.wait_for_charts(page)
    page.get_by_text("C3 map 0", exact=True).wait_for(timeout=15_000)
    seen = {}
    for detail in ("Feature map", "Why this, not that", "both models"):
        if detail == "Why this, not that":
            with harness.rerun_expected(page):
                page.get_by_text(detail, exact=True).click()
            page.get_by_text("red pixels argue for 5 over").wait_for(timeout=15_000)
        elif detail == "both models":
            with harness.rerun_expected(page):
                page.get_by_test_id("stSidebar").get_by_text("Both side by side", exact=True).click()
            app.wait_for_metrics(page, ["5"], label="MLP")
            page.locator(".st-key-presenter-strip-mlp .main-svg").first.wait_for(timeout=30_000)
        for sidebar in (False, True) if detail != "both models" else (True, False):
            set_sidebar(page, sidebar)
            boxes = page.evaluate(TEXT_BOXES_JS)
            where = f"{viewport['width']}x{viewport['height']}, sidebar {'open' if sidebar else 'folded'}, {detail}"
            assert len(boxes) > 30, where
            assert overlapping(boxes) == [], where
            small = sorted((b["size"], b["text"]) for b in boxes if b["size"] < smallest)
            assert small == [], (where, smallest, small[:10])
            seen[where] = min(b["size"] for b in boxes)
            if not sidebar:  # folded: the strip and the Prediction fit the screen (no scrolling to see them)
                page.evaluate("() => { window.scrollTo(0, 0); document.querySelector('[data-testid=\"stMain\"]')"
                              ".scrollTo(0, 0); }")
                page.wait_for_timeout(200)
                for selector in ('[data-testid="stMetric"]', ".st-key-presenter-strip"):
                    assert in_view(page, selector), (where, selector)
    app.report(f"Presenter text, {viewport['width']}x{viewport['height']}",
               "\n".join(f"{k}: smallest text {v:.1f} px (at least {smallest:.1f})" for k, v in seen.items()))
    canvas = harness.canvas_locator(page).bounding_box()
    if viewport is FULL_HD:
        assert canvas["width"] >= 400, canvas  # scaled to the screen (its drawing stays 280x280)
    app.assert_no_exception(page)


def test_screenshots_presenter(app_pages):
    """docs/screenshots/presenter.png at 1920x1080, and presenter_1280x720.png: the screen as the
    class sees it, opened from a link (sidebar folded); the viewport, not the whole page."""
    for viewport, name in ((FULL_HD, "presenter.png"), (HD, "presenter_1280x720.png")):
        page = open_presenter(app_pages, viewport=viewport)  # a link to the presenter: the sidebar folded
        set_sidebar(page, False)
        app.draw_digit(page, 5)
        app.wait_for_metrics(page, ["5"])
        app.wait_for_charts(page)
        page.mouse.move(viewport["width"] - 8, viewport["height"] - 8)
        page.wait_for_timeout(400)
        path = app.SCREENSHOTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), animations="disabled")
        assert in_view(page, ".st-key-presenter-strip"), name
        assert path.stat().st_size < 600_000
        page.context.close()


def test_presenter_stroke_latency(app_pages):
    """Mouse-up -> Prediction painted, LeNet-5, the Draw tab and the presenter view measured in
    turn on one server (the same 15 one-stroke digits as test_draw_e2e.test_stroke_latency, twice
    each view, interleaved). Reported and written to artifacts/latency_presenter.json; no timed
    assertion."""
    from test_draw_e2e import LATENCY_DIGITS

    results = {"draw": [], "presenter": []}
    pages = {"draw": app_pages(viewport=FULL_HD), "presenter": open_presenter(app_pages)}
    for view, page in pages.items():  # each page's first reading creates its charts: not measured
        app.draw_digit(page, 4)
        app.wait_for_metrics(page, ["4"])
        app.wait_for_charts(page)
    for round_ in range(2):
        for view in ("draw", "presenter") if round_ == 0 else ("presenter", "draw"):
            results[view] += app.stroke_latency_rows(pages[view], LATENCY_DIGITS)
    lines = [f"{'view':<10} {'painted':>8} {'total':>7} {'to_metric':>9} {'run':>6}   (medians, ms)"]
    medians = {}
    for view, rows in results.items():
        medians[view] = {k: round(statistics.median(r[k] for r in rows), 1) for k in rows[0] if k not in ("digit", "style")}
        m = medians[view]
        lines.append(f"{view:<10} {m['painted']:>8.0f} {m['total']:>7.0f} {m['to_metric']:>9.0f} {m['run']:>6.0f}")
    lines.append(f"({len(results['draw'])} strokes per view, LeNet-5, 1920x1080; painted = mouse-up -> first "
                 "frame after the Prediction text changed; run = the whole fragment run, figures included)")
    app.report("Stroke latency, Draw tab vs presenter view", "\n".join(lines))
    app.ARTIFACTS.mkdir(exist_ok=True)
    (app.ARTIFACTS / "latency_presenter.json").write_text(json.dumps({
        "what": "mouse-up of a one-stroke digit -> Prediction text painted, Draw tab vs presenter view",
        "median_ms": medians, "rows": results, "loadavg": os.getloadavg(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2) + "\n")
    for page in pages.values():
        assert app.error_texts(page) == []
