"""Helpers shared by the app's end-to-end tests (test_draw_e2e, test_tabs_e2e, test_load_e2e).

Built on ``harness`` (server, browser, strokes, metric waits); what is specific to the MNIST app
lives here: where the app is, hand-drawn digits from ``mnist_core.datasets.drawn.HAND`` in canvas pixels,
the app's own buttons and texts, and an in-page timing probe (``TIMING_JS``) for latencies.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import harness
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app" / "serve.py"  # the server as the README runs it: the page streamlit_app.py, warmed at start
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"

HINT = "Draw a digit, 0 to 9, in the black square"  # start of app.tabs.draw.HINT
CANVAS_PX = 280
DIGIT_PX = 200  # drawn digits are 200 px tall, 40 px from the top-left corner (like the app's example 7)
DIGIT_OFFSET = 40

# Texts the tests report (latency table, load figures): printed by conftest's
# pytest_terminal_summary after the run, so they show with -q and captured output too.
SUMMARY: list[tuple[str, str]] = []


def report(title: str, text: str) -> None:
    SUMMARY.append((title, text))
    print(f"\n{title}\n{text}")


# Selectors for what Streamlit shows when something went wrong.
EXCEPTION = '[data-testid="stException"]'
ERROR = '[data-testid="stAlertContentError"]'


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------
@contextlib.contextmanager
def app_server(startup_timeout: float = 60.0) -> Iterator[harness.ServerURL]:
    """``streamlit run app/serve.py`` from the repository root (so that
    ``.streamlit/config.toml`` is read), with an absolute ``MNIST_DATA``."""
    env = {}
    if os.environ.get("MNIST_DATA"):  # a relative path means: relative to where pytest runs
        env["MNIST_DATA"] = str(Path(os.environ["MNIST_DATA"]).resolve())
    with harness.start_streamlit(APP, cwd=ROOT, env=env, startup_timeout=startup_timeout) as url:
        yield url


def server_log_tail(url: Any, n: int = 6000) -> str:
    path = getattr(url, "log_path", None)
    if path is None:
        return "<no server log>"
    try:
        return Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return "<no server log>"


# --------------------------------------------------------------------------
# Digits
# --------------------------------------------------------------------------
def _resample(points: np.ndarray, spacing: float) -> np.ndarray:
    """Points every ~``spacing`` px along a polyline. fabric.js's pencil smooths a path through
    the midpoints of the points it receives, so a 3-point "7" sent as 3 mouse moves loses its
    corner (LeNet-5 then reads a 1); dense points keep the shape."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    if dist[-1] == 0:
        return points[:1]
    t = np.linspace(0.0, dist[-1], max(2, int(np.ceil(dist[-1] / spacing)) + 1))
    return np.stack([np.interp(t, dist, points[:, 0]), np.interp(t, dist, points[:, 1])], axis=1)


def digit_strokes(
    digit: int,
    style: int = 0,
    *,
    size: float = DIGIT_PX,
    offset: tuple[float, float] = (DIGIT_OFFSET, DIGIT_OFFSET),
    spacing: float = 12.0,
) -> list[list[tuple[float, float]]]:
    """``HAND[digit][style]`` scaled to canvas pixels: a list of strokes of (x, y) points."""
    from mnist_core.datasets.drawn import HAND

    strokes = []
    for stroke in HAND[digit][style]:
        points = np.asarray(stroke, float) * size + np.asarray(offset, float)
        strokes.append([(float(x), float(y)) for x, y in _resample(points, spacing)])
    return strokes


def letter_strokes(letter: str, *, size: float = DIGIT_PX, spacing: float = 12.0) -> list[list[tuple[float, float]]]:
    """A letter as people write it (``negatives.HAND_LETTERS``) in canvas pixels, like ``digit_strokes``."""
    from mnist_core.datasets.negatives import HAND_LETTERS

    offset = np.array([DIGIT_OFFSET, DIGIT_OFFSET], float)
    return [[(float(x), float(y)) for x, y in _resample(np.asarray(s, float) * size + offset, spacing)]
            for s in HAND_LETTERS[letter]]


def digit_ink(digit: int, style: int = 0, *, canvas: int = CANVAS_PX, width: float = 20.0) -> np.ndarray:
    """The same strokes rendered offline: (canvas, canvas) float32, 1 = ink."""
    from mnist_core.pen.strokes import render_strokes

    scale = canvas / CANVAS_PX
    strokes = [np.asarray(s) * scale for s in digit_strokes(digit, style)]
    return render_strokes(strokes, (canvas, canvas), width * scale)


def write_scan_png(path: Path, digit: int, style: int = 0) -> Path:
    """An MNIST-like "scan": dark ink on off-white paper, 200x200 px, with a little noise."""
    from PIL import Image

    ink = digit_ink(digit, style, canvas=200, width=14.0)
    rng = np.random.default_rng(digit)
    paper = 240 - 215 * ink + rng.normal(0, 4, ink.shape)
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8), "L").save(path)
    return path


def draw_digit(page: Any, digit: int, style: int = 0, *, touch: bool = False) -> None:
    """Draw a HAND digit on the canvas with the mouse (or touch); strokes drawn back to back
    (less than 200 ms apart) are sent together, so a digit is one rerun."""
    strokes = digit_strokes(digit, style)
    if touch:
        harness.draw_strokes_touch(page, strokes, steps=1)
    else:
        harness.draw_strokes(page, strokes, steps=1)


# --------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------
# Timing probe, added to every page by ``open_page`` (after harness.PROBE_JS, whose WebSocket
# wrapper it wraps in turn). All times are the page's performance.now() in ms:
#   ups     pointer releases (mouseup / touchend, capture phase on window)
#   sends   WebSocket sends {t, n: bytes} (a stroke's rerun request carries the drawing: kB)
#   msgs    received ForwardMsgs {t, n, f: top-level field numbers, pred: has "Prediction"}
#           (4 = new_session: a run started; 5 = delta; 6 = script_finished)
#   metric  changes of the "Prediction" metrics' text {t, v: values joined by "|", d: deltas}
#   frames  the first animation frame after each metric change (about when it is painted)
TIMING_JS = r"""
(() => {
  if (window.__lat) return;
  const L = window.__lat = {ups: [], sends: [], msgs: [], metric: [], frames: []};
  const MAX = 20000;
  const push = (a, x) => { if (a.length < MAX) a.push(x); };
  addEventListener('mouseup', () => push(L.ups, performance.now()), true);
  addEventListener('touchend', () => push(L.ups, performance.now()), true);
  const label = Array.from(new TextEncoder().encode('Prediction'));
  const contains = (b) => {
    const n = label.length, first = label[0];
    outer: for (let i = 0; i + n <= b.length; i++) {
      if (b[i] !== first) continue;
      for (let j = 1; j < n; j++) if (b[i + j] !== label[j]) continue outer;
      return true;
    }
    return false;
  };
  const varint = (b, i) => {
    let v = 0, s = 0, x;
    do { x = b[i++]; v += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80 && i < b.length);
    return [v, i];
  };
  const fields = (b) => {
    const f = []; let i = 0;
    while (i < b.length && f.length < 64) {
      let key; [key, i] = varint(b, i);
      const field = Math.floor(key / 8), wire = key & 7;
      f.push(field);
      if (wire === 0) { [, i] = varint(b, i); }
      else if (wire === 2) { let n; [n, i] = varint(b, i); i += n; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else break;
    }
    return f;
  };
  const record = (t, buf) => {
    try {
      const b = new Uint8Array(buf);
      const f = fields(b);
      push(L.msgs, {t, n: b.length, f, pred: f.includes(5) && contains(b)});
    } catch (e) { /* never break the app */ }
  };
  const Base = window.WebSocket;
  class TimedWS extends Base {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        const t = performance.now(), d = ev.data;
        if (d instanceof ArrayBuffer) record(t, d);
        else if (d instanceof Blob) d.arrayBuffer().then((buf) => record(t, buf));
      });
    }
    send(d) {
      push(L.sends, {t: performance.now(), n: d.byteLength || d.size || d.length || 0});
      return super.send(d);
    }
  }
  window.WebSocket = TimedWS;
  let last = null;
  const read = () => {
    const v = [], d = [];
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const l = m.querySelector('[data-testid="stMetricLabel"]');
      if (!l || l.innerText.trim() !== 'Prediction') continue;
      const val = m.querySelector('[data-testid="stMetricValue"]');
      const del = m.querySelector('[data-testid="stMetricDelta"]');
      v.push(val ? val.innerText.trim() : '');
      d.push(del ? del.innerText.trim() : '');
    }
    return {v: v.join('|'), d: d.join('|')};
  };
  new MutationObserver(() => {
    const now = read();
    const key = now.v + '#' + now.d;
    if (key === last) return;
    last = key;
    const t = performance.now();
    push(L.metric, {t, v: now.v, d: now.d});
    requestAnimationFrame(() => push(L.frames, performance.now()));
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def open_page(
    browser: Any,
    url: str,
    *,
    viewport: dict[str, int] | None = None,
    has_touch: bool = False,
    timeout: float = 60_000,
) -> Any:
    """Like ``harness.open_app`` (new context + page, wait for the canvas and an idle app), plus
    ``TIMING_JS``. The first page of a fresh server waits for the models to load (~10 s).
    Close with ``page.context.close()``."""
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, has_touch=has_touch)
    try:
        harness.install_probes(context)
        context.add_init_script(TIMING_JS)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url, wait_until="domcontentloaded", timeout=timeout)
        harness.canvas_locator(page).wait_for(state="visible", timeout=timeout)
        harness.wait_for_idle(page, timeout=timeout)
    except BaseException:
        context.close()
        raise
    return page


def metric_values(page: Any, label: str = "Prediction") -> list[str]:
    """The value texts of every ``st.metric`` with this label, in page order."""
    return page.evaluate(
        """label => [...document.querySelectorAll('[data-testid="stMetric"]')]
            .filter(m => { const l = m.querySelector('[data-testid="stMetricLabel"]');
                           return l && l.innerText.trim() === label; })
            .map(m => { const v = m.querySelector('[data-testid="stMetricValue"]');
                        return v ? v.innerText.trim() : ''; })""",
        label,
    )


def wait_for_metrics(page: Any, expected: Sequence[str], label: str = "Prediction", timeout: float = 20_000) -> None:
    """Wait until the metrics labelled ``label`` show exactly ``expected`` (in page order)."""
    try:
        page.wait_for_function(
            """([label, expected]) => {
                const got = [...document.querySelectorAll('[data-testid="stMetric"]')]
                  .filter(m => { const l = m.querySelector('[data-testid="stMetricLabel"]');
                                 return l && l.innerText.trim() === label; })
                  .map(m => { const v = m.querySelector('[data-testid="stMetricValue"]');
                              return v ? v.innerText.trim() : ''; });
                return JSON.stringify(got) === JSON.stringify(expected);
            }""",
            arg=[label, list(expected)],
            timeout=timeout,
            polling=50,
        )
    except Exception as error:  # say what the page shows instead
        raise AssertionError(
            f"{label!r} metrics: expected {list(expected)}, page shows {metric_values(page, label)}; "
            f"errors on the page: {error_texts(page)}"
        ) from error


def settle(page: Any, quiet_ms: float = 400, timeout: float = 15_000) -> None:
    """Wait until no script run has finished for ``quiet_ms`` and the app is not running
    (e.g. after "Clear", whose canvas echo brings a second rerun)."""
    deadline = time.monotonic() + timeout / 1000
    last = harness.script_runs_finished(page)
    quiet_since = time.monotonic()
    while True:
        time.sleep(0.05)
        now = harness.script_runs_finished(page)
        running = page.evaluate(
            "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
        )
        if now != last or running == "running":
            last, quiet_since = now, time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"app did not settle within {timeout} ms ({now} runs finished)")


def error_texts(page: Any) -> list[str]:
    """Texts of every st.error and Streamlit exception element on the page."""
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel)].map(e => e.innerText.trim())""",
        f"{ERROR}, {EXCEPTION}",
    )


def assert_no_exception(page: Any) -> None:
    exceptions = page.locator(EXCEPTION)
    if exceptions.count():
        raise AssertionError(f"Streamlit exception on the page: {exceptions.first.inner_text()[:2000]}")


def wait_for_charts(page: Any, timeout: float = 30_000) -> None:
    """Wait until every visible Plotly chart has drawn its SVG, and the app is idle."""
    harness.wait_for_idle(page, timeout=timeout)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                  .filter(e => e.offsetParent !== null)
                  .every(e => e.querySelector('.main-svg'))""",
        timeout=timeout,
        polling=100,
    )


def hint_shown(page: Any) -> bool:
    return page.get_by_text(HINT).count() > 0


def clear_with_app_button(page: Any, timeout: float = 15_000, *, tap: bool = False) -> None:
    """Click (or, with ``tap``, touch: the page needs ``has_touch``) the app's "Clear"
    and wait for the blank state: hint shown, no Prediction metric, and no rerun in flight."""
    press(page, "Clear", tap=tap)
    wait_for_blank(page, timeout)


def wait_for_blank(page: Any, timeout: float = 15_000) -> None:
    """Wait for the Draw tab's blank state: hint shown, no Prediction metric, no rerun in flight."""
    page.get_by_text(HINT).wait_for(state="visible", timeout=timeout)
    wait_for_no_prediction(page, timeout)
    settle(page, timeout=timeout)


def canvas_button(page: Any, label: str, key: str | None = None) -> Any:
    """The button labelled ``label`` ("Undo", "Redo", "Clear") under a canvas: the Draw
    tab's, or with ``key`` ("numbers_") the one whose controls have that prefix."""
    return page.locator(f".st-key-{key or ''}canvas_controls").get_by_role("button", name=label, exact=True)


def press(page: Any, label: str, *, tap: bool = False, key: str | None = None) -> None:
    """Click or tap a canvas button (``canvas_button``)."""
    button = canvas_button(page, label, key)
    button.tap() if tap else button.click()


def button_enabled(page: Any, label: str, key: str | None = None) -> bool:
    return canvas_button(page, label, key).is_enabled()


def surface_cover(page: Any, key: str | None = None, inset: float = 2.0) -> list[str]:
    """What is hit at the canvas's corners, along its edges and in the middle, when it is not the
    drawing surface itself (fabric's upper canvas): one "x,y: element" line each, [] when nothing
    covers it. Looked up in the component's shadow root (``elementFromPoint``)."""
    return harness.canvas_locator(page, key).evaluate(
        """(c, inset) => {
            const root = c.getRootNode(), r = c.getBoundingClientRect(), out = [];
            for (const fx of [0, 0.25, 0.5, 0.75, 1]) for (const fy of [0, 0.5, 1]) {
                const x = r.left + inset + fx * (r.width - 2 * inset), y = r.top + inset + fy * (r.height - 2 * inset);
                const e = root.elementFromPoint(x, y);
                const what = e ? e.tagName + '.' + e.className : 'nothing';
                if (e !== c) out.push(`${Math.round(x - r.left)},${Math.round(y - r.top)}: ${what}`);
            }
            return out;
        }""",
        inset,
    )


def ink_in(page: Any, box: tuple[int, int, int, int], key: str | None = None) -> int:
    """Bright pixels the canvas shows in ``box`` = (left, top, right, bottom), canvas pixels."""
    return page.locator(f".st-key-{key or 'canvas'}").locator("canvas.dc-canvas.lower-canvas").first.evaluate(
        """(c, [l, t, r, b]) => {
            const d = c.getContext('2d').getImageData(l, t, r - l, b - t).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
            return n;
        }""",
        list(box),
    )


def wait_for_no_prediction(page: Any, timeout: float = 15_000) -> None:
    """Wait until no metric labelled "Prediction" is on the page (the blank state)."""
    page.wait_for_function(
        """() => ![...document.querySelectorAll('[data-testid="stMetric"]')].some(m => {
                   const l = m.querySelector('[data-testid="stMetricLabel"]');
                   return l && l.innerText.trim() === 'Prediction'; })""",
        timeout=timeout,
    )


def click_sidebar_model(page: Any, label: str) -> None:
    """Pick a model in the sidebar radio ("LeNet-5", "MLP", "Both side by side")."""
    page.get_by_test_id("stSidebar").get_by_text(label, exact=True).click()


def open_tab(page: Any, name: str) -> None:
    """Click one of the app's top tabs (each switch reruns the script)."""
    page.get_by_role("tab", name=name, exact=True).first.click()


def screenshot_page(page: Any, path: Path, *, width: int = 1400, max_height: int = 2800,
                    max_bytes: int = 400_000) -> int:
    """Save the whole app page (Streamlit scrolls inside ``stMain``, so Playwright's full_page
    sees only the viewport): grow the viewport to the content's height (at most ``max_height``),
    take the shot, restore the viewport. A PNG over ``max_bytes`` is re-saved with a 256-colour
    palette (the dark theme has few colours). Returns the file size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]'); return m ? m.scrollHeight : 0; }"
    )
    height = int(min(max(height, old["height"]), max_height))
    try:
        page.mouse.move(width - 8, 8)  # off the canvas toolbar and the sidebar's collapse button (hover-only)
        page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollTo(0, 0)")  # from the top
        if height != old["height"] or width != old["width"]:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(700)  # plotly re-lays out its charts on resize
            wait_for_charts(page)
        page.screenshot(path=str(path), timeout=20_000, animations="disabled")
    finally:
        page.set_viewport_size(old)
    if path.stat().st_size > max_bytes:
        from PIL import Image

        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        small.save(path, optimize=True)
    return path.stat().st_size


# --------------------------------------------------------------------------
# Latency analysis (from TIMING_JS records)
# --------------------------------------------------------------------------
def reset_timing(page: Any) -> None:
    page.evaluate(
        "() => { const L = window.__lat; for (const k of ['ups','sends','msgs','metric','frames']) L[k].length = 0; }"
    )


def timing_records(page: Any) -> dict:
    return page.evaluate("() => window.__lat")


def stroke_breakdown(rec: dict, expected: str, min_send_bytes: int = 1000) -> dict[str, float] | None:
    """Split one stroke's latency (the last pointer release in ``rec``) into stages, in ms:

    debounce   release -> the canvas's WebSocket send of the drawing (component's 200 ms)
    to_start   send -> new_session received (server picks up the rerun, starts the script)
    to_metric  run start -> the ForwardMsg carrying the Prediction metric received
    render     that message -> the metric's new text in the DOM (frontend)
    paint      DOM text -> the next animation frame
    total      release -> metric text in the DOM
    painted    release -> the next animation frame after it (about when the user sees it)
    run        run start -> script_finished received (the whole fragment run, figures included)

    Returns None when a stage is missing (e.g. the reading never showed ``expected``).
    """
    if not rec["ups"]:
        return None
    up = rec["ups"][-1]
    send = next((s["t"] for s in rec["sends"] if s["t"] >= up and s["n"] >= min_send_bytes), None)
    if send is None:
        return None
    msgs = [m for m in rec["msgs"] if m["t"] >= send]
    start = next((m["t"] for m in msgs if 4 in m["f"]), None)
    if start is None:
        return None
    pred = next((m["t"] for m in msgs if m["t"] >= start and m["pred"]), None)
    fin = next((m["t"] for m in msgs if m["t"] >= start and 6 in m["f"]), None)
    dom = next((m["t"] for m in rec["metric"] if m["t"] >= up and m["v"] == expected), None)
    if pred is None or fin is None or dom is None:
        return None
    frame = next((t for t in rec["frames"] if t >= dom), dom)
    return {
        "debounce": send - up,
        "to_start": start - send,
        "to_metric": pred - start,
        "render": dom - pred,
        "paint": frame - dom,
        "total": dom - up,
        "painted": frame - up,
        "run": fin - start,
    }


def stroke_latency_rows(page: Any, digits) -> list[dict]:
    """Draw each (digit, style) as one stroke on a cleared canvas and time it: one
    `stroke_breakdown` row per digit, {"digit", "style", stage: ms...}, once the whole run that
    answered it has finished. Fails if a digit is not read right or a stage is missing."""
    rows = []
    for digit, style in digits:
        clear_with_app_button(page)
        reset_timing(page)
        draw_digit(page, digit, style)
        wait_for_metrics(page, [str(digit)])
        page.wait_for_function(
            """() => { const L = window.__lat, up = L.ups[L.ups.length - 1];
                       const s = L.sends.find(x => x.t >= up && x.n >= 1000);
                       return !!s && L.msgs.some(m => m.t >= s.t && m.f.includes(6)); }""",
            timeout=15_000,
        )
        row = stroke_breakdown(timing_records(page), str(digit))
        assert row is not None, f"incomplete timing records for digit {digit}: {timing_records(page)}"
        rows.append({"digit": digit, "style": style, **{k: round(v, 1) for k, v in row.items()}})
    return rows
