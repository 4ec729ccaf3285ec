"""The server's figures in one run: start-up, first answer, memory, a class drawing at once.

    MNIST_DATA=../shared/mnist python tests/serve_check.py [--cold 3] [--sessions 200] [--class-size 30]

A script, not a test: it prints medians and writes `artifacts/serve_check.json`, and asserts only
that every session read its digit. It times things, so run it on a quiet machine (no training, no
test suite beside it). It runs `streamlit run app/serve.py` as the README does and drives headless
Chromium (`/usr/bin/chromium`) with Playwright, reusing the end-to-end tests' helpers:

1. Where a server's memory goes: a fresh Python importing what the server imports, step by step,
   with its resident memory (RSS) after each step, and TensorFlow last, which reading never loads.
2. Cold start, `--cold` times: from spawning `streamlit run` to a usable canvas in a new browser
   context (the canvas visible and the page's first script run finished), then that page's first
   stroke: mouse-up to the first frame painted with its Prediction.
3. Sessions one after another, on one fresh server: each opens the page, draws a digit, waits
   for its reading and leaves. The server's RSS after 1, 5, 30, 100 and 200 sessions, whether
   TensorFlow is in the process (its shared libraries in /proc/PID/maps), and again once the
   server has dropped the sessions that left: Streamlit keeps a disconnected session for
   `server.disconnectedSessionTTL` (120 s by default) in case its browser reconnects.
4. A class at once, on that server: `--class-size` sessions release a stroke together
   (tests/e2e/test_load_e2e.py). Release -> Prediction, and the CPU time the server process and
   the browser processes spent between the release and the last answer, per stroke.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests"), str(ROOT)]

import app_support as app  # noqa: E402
import harness  # noqa: E402
import test_load_e2e as load  # noqa: E402

CLOCK = os.sysconf("SC_CLK_TCK")
PAGE = 4096

# A fresh Python's RSS after each step of what the server imports (cumulative); one JSON line each.
IMPORTS = """
import json, sys, time
sys.path.insert(0, ".")
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
def step(what):
    print(json.dumps([what, rss()]), flush=True)
step("Python")
import numpy; step("NumPy")
import streamlit.web.server, streamlit.runtime; step("Streamlit and its server (Tornado, protobuf, PyArrow's stubs)")
import scipy.ndimage, skimage.filters, PIL.Image; step("SciPy, scikit-image, Pillow (preprocessing)")
import sqlalchemy; step("SQLAlchemy (the collection)")
from app import lesson_link, resources; from app.tabs import draw, numbers, train; step("the first page's modules (Draw, Numbers, Train)")
from mnist_core import MODEL_NAMES, Classifier
models = [Classifier.load(n) for n in MODEL_NAMES]
for m in models:
    m.classify_batch(numpy.zeros((1, 28, 28), numpy.float32)); m.activations(numpy.zeros((28, 28), numpy.float32))
step("both models, through LiteRT (answer and layers)")
import sklearn.decomposition; step("scikit-learn (the Data tab's PCA map, where it is not cached on disk yet)")
from app.tabs import collected, data, evaluation, learn, network, presenter; step("the other tabs' modules (pandas), imported when one opens")
import tensorflow, keras; step("TensorFlow and Keras (never loaded by reading; the Network tab, training)")
"""


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def tensorflow_loaded(pid: int) -> bool:
    with open(f"/proc/{pid}/maps") as f:
        return "/site-packages/tensorflow/" in f.read()


def cpu_s(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of process `pid`, all its threads (and its reaped children's)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15 if children else 13]) / CLOCK


def browser_cpu_s() -> float:
    """User + system CPU seconds of every Chromium process alive now, and of the children each
    has reaped (a page's renderer that has exited is counted in its parent's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"chromium" in (entry / "cmdline").read_bytes().split(b"\0")[0]:
                total += cpu_s(int(entry.name), children=True)
        except OSError:  # it ended meanwhile
            continue
    return total


def where_memory_goes() -> list[tuple[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    return [tuple(json.loads(line)) for line in done.stdout.splitlines() if line.startswith("[")]


def _server(script: Path, env: dict):
    return harness.start_streamlit(script, cwd=ROOT, env=env, startup_timeout=120)


def first_stroke_ms(page, digit: int = 7) -> float:
    """Draw `digit` on the page's canvas: mouse-up -> the first frame painted with its Prediction."""
    app.reset_timing(page)
    app.draw_digit(page, digit)
    app.wait_for_metrics(page, [str(digit)])
    page.wait_for_function(  # the whole run that answered it is over (its timing records are complete)
        """() => { const L = window.__lat, up = L.ups[L.ups.length - 1];
                   const s = L.sends.find(x => x.t >= up && x.n >= 1000);
                   return !!s && L.msgs.some(m => m.t >= s.t && m.f.includes(6)); }""", timeout=30_000)
    stages = app.stroke_breakdown(app.timing_records(page), str(digit))
    assert stages is not None, "incomplete timing records"
    return stages["painted"]


def open_page(browser, url: str):
    """A new browser context on the app: the canvas visible, the first run over (`app.open_page`)."""
    return app.open_page(browser, url, viewport={"width": 1000, "height": 900})


def cold_starts(browser, script: Path, env: dict, times: int) -> list[dict]:
    rows = []
    for _ in range(times):
        start = time.monotonic()
        with _server(script, env) as url:
            healthy = time.monotonic() - start
            page = open_page(browser, url)
            usable = time.monotonic() - start
            painted = first_stroke_ms(page)
            page.context.close()
            rows.append({"healthy_s": healthy, "usable_s": usable, "first_stroke_painted_ms": painted,
                         "rss_mb": rss_mb(url.process.pid), "tensorflow": tensorflow_loaded(url.process.pid)})
        print(f"  cold start: health {healthy:.2f} s, usable canvas {usable:.2f} s, first stroke painted "
              f"{painted:.0f} ms", flush=True)
    return rows


def sequential(browser, url, pid: int, sessions: int, marks=(1, 5, 10, 20, 30, 50, 100, 150, 200)) -> list[dict]:
    rows, started = [], time.monotonic()
    for i in range(1, sessions + 1):
        page = open_page(browser, url)
        digit = i % 10
        app.draw_digit(page, digit)
        app.wait_for_metrics(page, [str(digit)])
        page.context.close()
        if i in marks or i == sessions:
            rows.append({"sessions": i, "rss_mb": rss_mb(pid), "tensorflow": tensorflow_loaded(pid),
                         "elapsed_s": time.monotonic() - started})
            print(f"  after {i} sessions one after another: RSS {rows[-1]['rss_mb']:.0f} MB, TensorFlow "
                  f"{'loaded' if rows[-1]['tensorflow'] else 'not loaded'}", flush=True)
    return rows


def at_once(url, pid: int, size: int) -> dict:
    plan = [(i % 10, load.STYLES[i % 10][(i // 10) % 2]) for i in range(size)]  # each digit, two styles in turn
    marks: dict = {"answered": 0}

    def event(what):
        if what == "release":
            marks["release"] = (time.monotonic(), cpu_s(pid), browser_cpu_s())
        else:
            marks["answered"] += 1
            if marks["answered"] == size:
                marks["done"] = (time.monotonic(), cpu_s(pid), browser_cpu_s())

    results, wall = load.run_sessions(url, plan, event)
    load.check_answers(results)
    text, numbers = load.figures(results, wall)
    (t0, server0, browsers0), (t1, server1, browsers1) = marks["release"], marks["done"]
    numbers.update(server_cpu_ms_per_stroke=(server1 - server0) / size * 1000,
                   browser_cpu_ms_per_stroke=(browsers1 - browsers0) / size * 1000,
                   window_s=t1 - t0, rss_mb=rss_mb(pid), tensorflow=tensorflow_loaded(pid))
    print("  " + text.replace("\n", "\n  "), flush=True)
    return numbers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=3, help="cold starts to time (default 3)")
    parser.add_argument("--app", default=str(app.APP), help="the script `streamlit run` serves (default app/serve.py)")
    parser.add_argument("--sessions", type=int, default=200, help="sessions one after another (default 200)")
    parser.add_argument("--class-size", type=int, default=30, help="sessions drawing at once (default 30)")
    parser.add_argument("--settle", type=float, default=130.0,
                        help="seconds to wait for the server to drop the sessions that left (default 130)")
    args = parser.parse_args(argv)
    script = Path(args.app).resolve()
    env = {"MNIST_DATA": str(Path(os.environ["MNIST_DATA"]).resolve())} if os.environ.get("MNIST_DATA") else {}
    from playwright.sync_api import sync_playwright

    report: dict = {"cpus": os.cpu_count()}
    print("Where a server's memory goes (a fresh Python, cumulative RSS):")
    report["imports"] = where_memory_goes()
    for what, mb in report["imports"]:
        print(f"  {mb:6.0f} MB  {what}")
    with sync_playwright() as pw:
        browser = harness.launch_browser(pw)
        print(f"Cold start ({args.cold} times): `streamlit run {script.relative_to(ROOT)}` -> usable canvas in a new browser context")
        report["cold"] = cold_starts(browser, script, env, args.cold)
        if args.sessions or args.class_size:
            with _server(script, env) as url:
                pid = url.process.pid
                if args.sessions:
                    print(f"Sessions one after another on one server ({args.sessions}):")
                    report["sequential"] = sequential(browser, url, pid, args.sessions)
                    time.sleep(args.settle)
                    report["settled"] = {"after_s": args.settle, "rss_mb": rss_mb(pid),
                                         "tensorflow": tensorflow_loaded(pid)}
                    print(f"  {args.settle:.0f} s after the last one left: RSS {report['settled']['rss_mb']:.0f} MB")
                if args.class_size:
                    print(f"A class at once ({args.class_size} sessions release a stroke together), same server:")
                    report["class"] = at_once(url, pid, args.class_size)
        browser.close()

    cold, seq, group = report["cold"], report.get("sequential", []), report.get("class")
    print("\nSummary (medians where repeated):")
    if cold:
        print(f"  streamlit run -> usable canvas: {statistics.median(r['usable_s'] for r in cold):.2f} s "
              f"(health {statistics.median(r['healthy_s'] for r in cold):.2f} s); first stroke painted "
              f"{statistics.median(r['first_stroke_painted_ms'] for r in cold):.0f} ms after mouse-up")
    for row in seq:
        print(f"  RSS after {row['sessions']:>3} sessions: {row['rss_mb']:.0f} MB"
              f"{'' if row['tensorflow'] else ', TensorFlow not loaded'}")
    fifth = next((row for row in seq if row["sessions"] == 5), None)
    if fifth and seq[-1] is not fifth:
        print(f"  growth from the 5th to the {seq[-1]['sessions']}th session: "
              f"{seq[-1]['rss_mb'] - fifth['rss_mb']:+.0f} MB; {report['settled']['after_s']:.0f} s later: "
              f"{report['settled']['rss_mb']:.0f} MB")
    if group:
        print(f"  {group['sessions']} at once: release -> Prediction message median {group['message_median_ms']:.0f} ms, "
              f"text on the page {group['median_ms']:.0f} ms; CPU per stroke: server "
              f"{group['server_cpu_ms_per_stroke']:.0f} ms, browsers {group['browser_cpu_ms_per_stroke']:.0f} ms; "
              f"RSS then {group['rss_mb']:.0f} MB")
    app.ARTIFACTS.mkdir(exist_ok=True)
    (app.ARTIFACTS / "serve_check.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
