"""Reusable helpers for end-to-end tests of the Streamlit digit app.

No tests live here. ``tests/e2e/conftest.py`` puts this folder on sys.path,
so tests do ``import harness`` (and get ``e2e_browser`` as a fixture).
Typical use::

    from playwright.sync_api import sync_playwright
    from harness import (start_streamlit, launch_browser, open_app,
                         draw_strokes, wait_for_metric)

    with start_streamlit("app/main.py") as url, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            page = open_app(browser, url)
            before = wait_for_metric(page, "Prediction")
            draw_strokes(page, [[(140, 40), (140, 240)]])
            after = wait_for_metric(page, "Prediction", previous=before)
        finally:
            browser.close()

Facts this relies on (streamlit 1.67, streamlit-drawable-canvas 0.13):

* Streamlit's health endpoint is ``GET /_stcore/health`` -> 200 ``ok`` (the
  server is starlette/uvicorn in 1.67; 503 while the runtime is not ready).
* The canvas is a components-v2 ("bidi") component: NO iframe. It is mounted in
  an *open shadow root*; Playwright CSS locators pierce open shadow roots, so
  ``canvas.upper-canvas`` is reachable directly from ``page``.
* fabric.js draws into ``canvas.lower-canvas`` (also has class ``dc-canvas``) and
  listens for mouse/touch events on ``canvas.upper-canvas`` on top of it.
* After mouse-up the component debounces the send to Streamlit by 200 ms
  (hard-coded ``Bc = 200`` in its JS). Strokes drawn less than 200 ms apart
  are sent together -> one rerun. A new ``initial_drawing`` is loaded and sent
  back at once (no debounce).
* The component's own toolbar (icons at the canvas's top right, over its top
  30 px) is hidden by the app (``app/canvas.py``): its Undo, Redo and Clear
  are Streamlit buttons under the canvas.
* The send is the whole drawing every time: fabric JSON (+ PNG data URL with
  return_image_data=True); ~11-31 kB per message after 2-17 strokes.
* Latency mouse-up -> new metric text is ~225 ms at best (200 ms debounce +
  ~25 ms), but Streamlit runs ``gc.collect(2)`` after every run
  (runner.postScriptGC) and, when ``keras`` is imported, also
  ``keras.backend.clear_session()`` -> another ``gc.collect()``. Both hold the
  GIL and can delay the run's last deltas by 70 ms (plain) to several hundred
  ms (a Keras heap: 460 ms with TensorFlow). ``gc.freeze()`` after loading the
  models fixes it.
* Touch: fabric ignores mouse-down for 400 ms after a touchend, so wait
  ~0.5 s before drawing with the mouse after ``draw_strokes_touch``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

CHROMIUM_PATH = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
HEALTH_PATH = "/_stcore/health"

Point = tuple[float, float]
Stroke = Sequence[Point]


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------
class ServerURL(str):
    """The base URL (a plain ``str``) plus ``.log_path`` and ``.process``."""

    log_path: Path
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "<no log>"


def wait_for_log(url: ServerURL, text: str, timeout_s: float = 120.0) -> str:
    """Wait until the server's log (``url.log_path``) holds `text`; returns the log (whether or
    not it came within `timeout_s`, so that the caller's assertion shows it)."""
    deadline = time.monotonic() + timeout_s
    while text not in (log := _log_tail(url.log_path, n=1_000_000)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return log


def _stop_process_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


@contextlib.contextmanager
def start_streamlit(
    script_path: str | os.PathLike[str],
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    *,
    startup_timeout: float = 60.0,
    extra_args: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
) -> Iterator[ServerURL]:
    """Run ``streamlit run SCRIPT`` on 127.0.0.1 and yield its base URL.

    Waits until ``/_stcore/health`` answers 200. The server runs in its own
    process group (``start_new_session``) which is SIGTERMed (then SIGKILLed)
    on exit, so nothing outlives the ``with`` block. Server stdout/stderr go
    to a temp log file (``url.log_path``), whose tail is put into the error
    if startup fails.
    """
    script = Path(script_path).resolve()
    if not script.is_file():
        raise FileNotFoundError(script)
    port = port or free_port()
    full_env = dict(os.environ)
    full_env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "STREAMLIT_SERVER_HEADLESS": "true",
        }
    )
    if env:
        full_env.update(env)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        *extra_args,
    ]  # fmt: skip
    log_fd, log_name = tempfile.mkstemp(prefix="streamlit-e2e-", suffix=".log")
    log_path = Path(log_name)
    with os.fdopen(log_fd, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {proc.returncode} during startup:\n"
                    + _log_tail(log_path)
                )
            try:
                with urllib.request.urlopen(base + HEALTH_PATH, timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"streamlit not healthy after {startup_timeout}s:\n"
                    + _log_tail(log_path)
                )
            time.sleep(0.1)
        url = ServerURL(base)
        url.log_path = log_path
        url.process = proc
        yield url
    finally:
        _stop_process_group(proc)
        if os.environ.get("E2E_KEEP_LOGS") != "1":
            with contextlib.suppress(OSError):
                log_path.unlink()


# --------------------------------------------------------------------------
# Browser / page
# --------------------------------------------------------------------------
def launch_browser(playwright: Any, *, headless: bool = True, **kwargs: Any) -> Any:
    """Launch the system Chromium (Playwright cannot download its own here)."""
    args = list(CHROMIUM_ARGS) + list(kwargs.pop("args", []))
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, headless=headless, args=args, **kwargs
    )


def open_app(
    browser: Any,
    url: str,
    *,
    query: str = "",
    timeout: float = 30_000,
    has_touch: bool = False,
    viewport: Mapping[str, int] | None = None,
) -> Any:
    """New context+page, navigate to ``url`` (+``query``), wait for the canvas.

    Returns the page; close it with ``page.context.close()`` (or just close the
    browser). ``has_touch=True`` is needed for ``draw_strokes_touch``.
    """
    context = browser.new_context(
        viewport=dict(viewport or {"width": 1000, "height": 900}),
        has_touch=has_touch,
    )
    install_probes(context)
    page = context.new_page()
    page.set_default_timeout(timeout)
    target = url + (("/?" + query.lstrip("?")) if query else "")
    page.goto(target, wait_until="domcontentloaded")
    canvas_locator(page).wait_for(state="visible", timeout=timeout)
    wait_for_idle(page, timeout=timeout)
    return page


def wait_for_idle(page: Any, timeout: float = 15_000) -> None:
    """Wait until ``stApp[data-test-script-state]`` is not ``"running"``.

    Good for "the page has settled" (e.g. after load). It does NOT prove that a
    rerun happened: right after a stroke the rerun has not started yet (200 ms
    debounce), and a fast run may never show "running" at all. To wait for a
    rerun use ``rerun_expected`` or ``wait_for_metric(previous=...)``.
    """
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return !!app && app.getAttribute('data-test-script-state') !== 'running';
        }""",
        timeout=timeout,
    )


# Installed into every page by ``open_app`` (``context.add_init_script``): wraps
# window.WebSocket and scans each received ForwardMsg's top-level protobuf fields
# for ``script_finished`` (field 6, varint -> key byte 0x30). Status values:
# 0 FINISHED_SUCCESSFULLY, 1 ..._WITH_COMPILE_ERROR, 2 ..._EARLY_FOR_RERUN,
# 3 FINISHED_FRAGMENT_RUN_SUCCESSFULLY. Runs with status 2 (superseded by a
# newer rerun) are not counted in ``finished``.
PROBE_JS = r"""
(() => {
  if (window.__e2e) return;
  const E = window.__e2e = {finished: 0, statuses: [], sent: 0, received: 0};
  const varint = (b, i) => {
    let v = 0, s = 0, x;
    do { x = b[i++]; v += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80 && i < b.length);
    return [v, i];
  };
  const scan = (buf) => {
    const b = new Uint8Array(buf);
    let i = 0;
    while (i < b.length) {
      let key; [key, i] = varint(b, i);
      const field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) {
        let v; [v, i] = varint(b, i);
        if (field === 6) { E.statuses.push(v); if (v !== 2) E.finished += 1; }
      } else if (wire === 2) { let n; [n, i] = varint(b, i); i += n; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return;
    }
  };
  const Orig = window.WebSocket;
  class ProbeWS extends Orig {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        E.received += 1;
        const d = ev.data;
        try {
          if (d instanceof ArrayBuffer) scan(d);
          else if (d instanceof Blob) d.arrayBuffer().then(scan);
        } catch (e) { /* never break the app */ }
      });
    }
    send(d) { E.sent += 1; return super.send(d); }
  }
  window.WebSocket = ProbeWS;
})();
"""


def install_probes(context_or_page: Any) -> None:
    """Add ``PROBE_JS`` as an init script (affects pages loaded afterwards)."""
    context_or_page.add_init_script(PROBE_JS)


def script_runs_finished(page: Any) -> int:
    """Script runs (full or fragment) finished since this page was loaded.

    Counted from ``script_finished`` ForwardMsgs by ``PROBE_JS`` (installed by
    ``open_app``). A run interrupted by a newer rerun is not counted.
    Note: ``stApp[data-test-script-state]`` is NOT reliable for this: for a
    fast run React batches running->notRunning and the attribute never flips.
    """
    n = page.evaluate("() => window.__e2e ? window.__e2e.finished : null")
    if n is None:
        raise RuntimeError("probes not installed: use open_app() or install_probes()")
    return n


@contextlib.contextmanager
def rerun_expected(page: Any, count: int = 1, timeout: float = 15_000) -> Iterator[None]:
    """Block on exit until ``count`` more script runs have finished.

    Use when the value you would wait on may legitimately stay the same, e.g.
    ``with rerun_expected(page): draw_strokes(page, strokes)`` -- the rerun
    comes ~200 ms after mouse-up (the component's debounce). Several strokes
    drawn within 200 ms of each other produce ONE rerun.
    """
    start = script_runs_finished(page)
    yield
    page.wait_for_function(
        "n => window.__e2e.finished >= n", arg=start + count, timeout=timeout
    )


def canvas_locator(page: Any, key: str | None = None) -> Any:
    """The fabric.js event surface (``canvas.upper-canvas``) of a drawable canvas.

    No iframe in 0.13 (components v2, open shadow root: Playwright pierces it).
    With several canvases on the page pass the widget ``key``: Streamlit puts a
    ``st-key-<key>`` class on the element container.
    """
    scope = page.locator(f".st-key-{key}") if key else page
    return scope.locator("canvas.upper-canvas").first


def _canvas_geometry(page: Any, key: str | None) -> tuple[dict, float, float]:
    loc = canvas_locator(page, key)
    loc.scroll_into_view_if_needed()
    box = loc.bounding_box()
    if box is None:
        raise RuntimeError("drawable canvas not visible")
    size = loc.evaluate("c => [c.width, c.height]")
    sx = box["width"] / size[0] if size[0] else 1.0
    sy = box["height"] / size[1] if size[1] else 1.0
    return box, sx, sy


def draw_strokes(
    page: Any,
    strokes: Sequence[Stroke],
    *,
    steps: int = 5,
    key: str | None = None,
) -> None:
    """Draw polylines given in canvas pixel coordinates with the mouse.

    Each stroke: move to the first point, mouse down, ``mouse.move(steps=)``
    through the rest, mouse up. A single-point stroke is a dot.
    """
    box, sx, sy = _canvas_geometry(page, key)

    def to_page(p: Point) -> tuple[float, float]:
        return box["x"] + p[0] * sx, box["y"] + p[1] * sy

    for stroke in strokes:
        if not stroke:
            continue
        x, y = to_page(stroke[0])
        page.mouse.move(x, y)
        page.mouse.down()
        for pt in stroke[1:] or [stroke[0]]:
            x, y = to_page(pt)
            page.mouse.move(x, y, steps=steps)
        page.mouse.up()


def _dispatch_strokes(page: Any, strokes: Sequence[Stroke], steps: int, key: str | None,
                      method: str, start: Any, move: Any, end: Any) -> None:
    """Send each stroke as Chromium CDP input events: ``method`` with the params
    ``start(x, y)`` at its first point, ``move(x, y)`` at ``steps`` points
    interpolated along each segment, ``end(x, y)`` at its last point (page px)."""
    box, sx, sy = _canvas_geometry(page, key)
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            if not stroke:
                continue
            pts = [(box["x"] + px * sx, box["y"] + py * sy) for px, py in stroke]
            cdp.send(method, start(*pts[0]))
            last = pts[0]
            for nxt in pts[1:]:
                for i in range(1, steps + 1):
                    t = i / steps
                    cdp.send(method, move(last[0] + (nxt[0] - last[0]) * t, last[1] + (nxt[1] - last[1]) * t))
                last = nxt
            cdp.send(method, end(*last))
    finally:
        cdp.detach()


def draw_strokes_touch(page: Any, strokes: Sequence[Stroke], *, steps: int = 5, key: str | None = None) -> None:
    """Same as ``draw_strokes`` but with real touch events (Chromium CDP).

    The page's context must have ``has_touch=True`` (``open_app(...,
    has_touch=True)``). Uses ``Input.dispatchTouchEvent``: touchStart /
    touchMove (interpolated) / touchEnd, which fabric.js handles like a pen.
    """
    def touch(kind: str) -> Any:
        return lambda x, y: {"type": kind, "touchPoints": [{"x": x, "y": y}]}

    _dispatch_strokes(page, strokes, steps, key, "Input.dispatchTouchEvent", touch("touchStart"),
                      touch("touchMove"), lambda x, y: {"type": "touchEnd", "touchPoints": []})


def draw_strokes_pen(page: Any, strokes: Sequence[Stroke], *, steps: int = 5, key: str | None = None) -> None:
    """Same as ``draw_strokes`` but with a pen (a stylus): Chromium CDP
    ``Input.dispatchMouseEvent`` with ``pointerType: "pen"``, so the page sees
    pointer events whose ``pointerType`` is ``"pen"``."""
    def pen(kind: str, buttons: int) -> Any:
        return lambda x, y: {"type": kind, "x": x, "y": y, "pointerType": "pen", "button": "left",
                             "buttons": buttons, "clickCount": 0 if kind == "mouseMoved" else 1, "force": 0.5}

    _dispatch_strokes(page, strokes, steps, key, "Input.dispatchMouseEvent", pen("mousePressed", 1),
                      pen("mouseMoved", 1), pen("mouseReleased", 0))


_METRIC_JS = """
([label, previous]) => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
        const l = m.querySelector('[data-testid="stMetricLabel"]');
        if (!l || l.innerText.trim() !== label) continue;
        const v = m.querySelector('[data-testid="stMetricValue"]');
        if (!v) continue;
        const text = v.innerText.trim();
        if (text !== '' && text !== previous) return text;
    }
    return null;
}
"""


def read_metric(page: Any, label: str) -> str | None:
    """Current value text of the ``st.metric`` with this label (or None)."""
    return page.evaluate(_METRIC_JS, [label, None])


def wait_for_metric(
    page: Any,
    label: str,
    previous: str | None = None,
    timeout: float = 15_000,
) -> str:
    """Wait until metric ``label`` shows a value != ``previous``; return it.

    With ``previous=None`` returns as soon as the metric shows any value.
    ``timeout`` is in milliseconds (Playwright convention).
    """
    handle = page.wait_for_function(
        _METRIC_JS, arg=[label, previous], timeout=timeout, polling="raf"
    )
    return handle.json_value()
