"""Twenty people drawing at once against one server.

Twenty browser contexts (twenty Streamlit sessions) in one Chromium, driven by async Playwright
in a worker thread: each session draws a different HAND digit (0-9, two styles each), holds the
mouse button down on its last point, and all twenty release together (an asyncio barrier). Each
session must then show its own digit and nothing else: no error, no exception, and no other
session's digit ever appearing after the release (crosstalk). Release -> answer times are
measured in each page (mouse-up -> the Prediction text in the DOM) and reported.

The whole test is bounded: every wait has a timeout, and the async part runs under
`asyncio.wait_for(..., BUDGET_S)` in a thread joined with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import threading
import time

import app_support as app
import harness
import pytest

pytestmark = pytest.mark.e2e

SESSIONS = 20
BUDGET_S = 180  # the async part (~60 s alone here): 20 page loads on a shared 2-core machine, draw, answers
# Two styles per digit, each read correctly by LeNet-5 at 200 px with a 20 px brush. Most are one
# stroke; for the others (4, 5 style 1) the strokes before the last are drawn and read first.
STYLES = {0: (0, 1), 1: (0, 3), 2: (0, 1), 3: (0, 2), 4: (0, 1), 5: (0, 1), 6: (0, 1), 7: (0, 2),
          8: (1, 2), 9: (0, 1)}
# Opening a page costs ~2 s of CPU here (each context compiles Streamlit's bundle and its 4.7 MB
# Plotly chunk); four at a time loads the twenty faster than all at once (~50 s vs ~60 s).
OPEN_AT_ONCE = 4
STROKE_SPACING = 16.0  # px between mouse moves: fewer CDP round trips while twenty pages draw
PLAN = [(digit, STYLES[digit][i]) for i in range(2) for digit in range(10)]

# True once the session's answer to its last release is in: a script run that started after the
# release's send has finished, and the Prediction shows `expected`.
ANSWERED_JS = """
expected => {
  const L = window.__lat;
  if (!L.ups.length) return false;
  const up = L.ups[L.ups.length - 1];
  const send = L.sends.find(s => s.t >= up && s.n >= 1000);
  if (!send) return false;
  const finished = L.msgs.some(m => m.t >= send.t && m.f.includes(6));
  const last = L.metric.length ? L.metric[L.metric.length - 1].v : '';
  return finished && last === expected;
}
"""


async def _open(browser, url: str):
    context = await browser.new_context(viewport={"width": 1000, "height": 900})
    await context.add_init_script(harness.PROBE_JS)
    await context.add_init_script(app.TIMING_JS)
    page = await context.new_page()
    page.set_default_timeout(60_000)
    await page.goto(url, wait_until="domcontentloaded")
    await page.locator("canvas.upper-canvas").first.wait_for(state="visible")
    await page.wait_for_function(
        """() => { const a = document.querySelector('[data-testid="stApp"]');
                   return !!a && a.getAttribute('data-test-script-state') !== 'running'; }"""
    )
    return context, page


async def _session(browser, url: str, index: int, digit: int, style: int, barrier: asyncio.Barrier,
                   opening: asyncio.Semaphore, event=None) -> dict:
    context = None
    try:
        t_open = time.monotonic()
        async with opening:  # a few page loads at a time: 20 at once thrash the 2 cores
            context, page = await _open(browser, url)
        loaded = time.monotonic() - t_open
        canvas = page.locator("canvas.upper-canvas").first
        await canvas.scroll_into_view_if_needed()
        box = await canvas.bounding_box()
        width, height = await canvas.evaluate("c => [c.width, c.height]")
        sx, sy = box["width"] / width, box["height"] / height

        def at(point):
            return box["x"] + point[0] * sx, box["y"] + point[1] * sy

        strokes = app.digit_strokes(digit, style, spacing=STROKE_SPACING)
        for stroke in strokes[:-1]:  # multi-stroke digits: all but the last, read before the release
            await page.mouse.move(*at(stroke[0]))
            await page.mouse.down()
            for point in stroke[1:]:
                await page.mouse.move(*at(point))
            await page.mouse.up()
        if len(strokes) > 1:
            await page.wait_for_function("() => window.__lat.metric.length > 0", timeout=60_000)
            await page.wait_for_function(  # that stroke's run is over
                """() => { const L = window.__lat, up = L.ups[L.ups.length - 1];
                           const s = L.sends.find(x => x.t >= up && x.n >= 1000);
                           return !!s && L.msgs.some(m => m.t >= s.t && m.f.includes(6)); }""",
                timeout=60_000,
            )
        last = strokes[-1]
        await page.mouse.move(*at(last[0]))
        await page.mouse.down()
        for point in last[1:]:
            await page.mouse.move(*at(point))
        before = len((await page.evaluate("() => window.__lat")).get("metric", []))

        ready = time.monotonic() - t_open
        if await asyncio.wait_for(barrier.wait(), timeout=BUDGET_S) == 0 and event:
            event("release")  # once, as the barrier lets everyone go
        await page.mouse.up()  # all of them at once

        await page.wait_for_function(ANSWERED_JS, arg=str(digit), timeout=60_000, polling=50)
        if event:
            event("answered")
            # every page stays open until all have answered: its CPU time is counted up to then
            await asyncio.wait_for(barrier.wait(), timeout=BUDGET_S)
        rec = await page.evaluate("() => window.__lat")
        origin = await page.evaluate("() => performance.timeOrigin")
        errors = await page.evaluate(
            "sel => [...document.querySelectorAll(sel)].map(e => e.innerText.trim())",
            f"{app.ERROR}, {app.EXCEPTION}",
        )
        up = rec["ups"][-1]
        after = [m for m in rec["metric"][before:] if m["t"] >= up]
        shown = [m["v"] for m in after if m["v"]]
        changed = next((m["t"] for m in after if m["v"] == str(digit)), None)
        if changed is None:  # same text as before the release (a 4 already read as 4, same confidence)
            send = next(s["t"] for s in rec["sends"] if s["t"] >= up and s["n"] >= 1000)
            changed = next(m["t"] for m in rec["msgs"] if m["t"] >= send and 6 in m["f"])
        stages = app.stroke_breakdown(rec, str(digit)) or {}
        return {
            "index": index, "digit": digit, "style": style, "strokes": len(strokes),
            "loaded_s": loaded, "ready_s": ready, "stages": stages,
            "up_epoch": origin + up, "answer_epoch": origin + changed, "latency": changed - up,
            "shown_before": [m["v"] for m in rec["metric"][:before] if m["v"]], "shown": shown,
            "errors": errors, "final": rec["metric"][-1]["v"] if rec["metric"] else None,
        }
    except BaseException:
        barrier_abort = getattr(barrier, "abort", None)
        if barrier_abort:
            await barrier_abort()  # never leave the others waiting
        raise
    finally:
        if context is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(context.close(), timeout=15)


def _budget(plan) -> float:
    return BUDGET_S * max(1.0, len(plan) / SESSIONS)  # the page loads grow with the sessions


async def _run(url: str, plan=PLAN, event=None) -> tuple[list, float]:
    """Every (digit, style) of `plan` drawn by its own session, released at once: (one result
    dict or exception per session, wall seconds). `event("release")` is called once when the
    sessions are let go, `event("answered")` once per session that shows its answer (for
    `tests/serve_check.py`, which measures the server's and the browsers' CPU in between)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await harness.launch_browser(pw)
        try:
            barrier = asyncio.Barrier(len(plan))
            opening = asyncio.Semaphore(OPEN_AT_ONCE)
            start = time.monotonic()
            results = await asyncio.wait_for(
                asyncio.gather(*(_session(browser, url, i, d, s, barrier, opening, event)
                                 for i, (d, s) in enumerate(plan)), return_exceptions=True),
                timeout=_budget(plan),
            )
            return results, time.monotonic() - start
        finally:
            await asyncio.wait_for(browser.close(), timeout=30)


def run_sessions(url: str, plan=PLAN, event=None) -> tuple[list, float]:
    """`_run` in a worker thread (Playwright's async API beside pytest's sync one), bounded by
    BUDGET_S: (one result dict per session, wall seconds). Raises what a session raised."""
    outcome: dict = {}
    budget = _budget(plan)

    def worker():
        try:
            outcome["value"] = asyncio.run(_run(url, plan, event))
        except BaseException as error:  # noqa: BLE001 - raised below, in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=worker, name="e2e-load", daemon=True)
    thread.start()
    thread.join(timeout=budget + 30)
    assert not thread.is_alive(), f"load test did not finish within {budget + 30:.0f} s"
    if "error" in outcome:
        raise outcome["error"]
    results, wall = outcome["value"]
    failures = [f"session {i} (digit {plan[i][0]} style {plan[i][1]}): {r!r}"
                for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert not failures, "\n".join(failures)
    return results, wall


def check_answers(results: list) -> None:
    """Each session shows its own digit and nothing else: no error, no other session's digit."""
    for r in results:
        assert r["errors"] == [], f"session {r['index']} shows errors: {r['errors']}"
        assert r["final"] == str(r["digit"]), f"session {r['index']} drew {r['digit']}, shows {r['final']}"
        strangers = [v for v in r["shown"] if v != str(r["digit"])]
        assert not strangers, f"session {r['index']} drew {r['digit']} but showed {strangers} after the release"
        if r["strokes"] == 1:  # nothing may show before its only stroke is released
            assert r["shown_before"] == [], f"session {r['index']} showed {r['shown_before']} before drawing"


def figures(results: list, wall: float) -> tuple[str, dict]:
    """The report's text and its figures (ms) for `results` of `run_sessions`."""
    n = len(results)
    latencies = [r["latency"] for r in results]
    ups = [r["up_epoch"] for r in results]
    spread = max(ups) - min(ups)
    all_done = max(r["answer_epoch"] for r in results) - min(ups)
    staged = [r["stages"] for r in results if r["stages"]]  # not for a 4 that showed the same text

    def med(key):
        return statistics.median(st[key] for st in staged)

    served = [st["debounce"] + st["to_start"] + st["to_metric"] for st in staged]
    text = (
        f"{n} sessions (contexts) in one Chromium, one server; releases within {spread:.0f} ms\n"
        f"release -> own Prediction text shown: median {statistics.median(latencies):.0f} ms, "
        f"max {max(latencies):.0f} ms (min {min(latencies):.0f}); first release -> last answer {all_done:.0f} ms\n"
        f"where it goes (median of {len(staged)}): debounce {med('debounce'):.0f}, send -> run start "
        f"{med('to_start'):.0f}, run start -> metric message {med('to_metric'):.0f}, message -> DOM "
        f"{med('render'):.0f} ms; server run (start -> finished) {med('run'):.0f} ms\n"
        f"release -> metric message received: median {statistics.median(served):.0f} ms, max {max(served):.0f} ms "
        f"(the rest is {n} pages rendering their charts on the same 2 cores as the server)\n"
        f"whole run, {n} page loads included: {wall:.1f} s; all {n} correct, no errors, no crosstalk"
    )
    return text, {"sessions": n, "release_spread_ms": spread, "first_release_to_last_answer_ms": all_done,
                  "median_ms": statistics.median(latencies), "max_ms": max(latencies),
                  "message_median_ms": statistics.median(served), "wall_s": wall}


def test_twenty_sessions_draw_at_once(app_url):
    assert len(PLAN) == SESSIONS and len(set(PLAN)) == SESSIONS
    results, wall = run_sessions(app_url)
    check_answers(results)
    text, numbers = figures(results, wall)
    app.report("Load: 20 sessions drawing at once", text)
    app.ARTIFACTS.mkdir(exist_ok=True)
    (app.ARTIFACTS / "load.json").write_text(json.dumps({
        **numbers, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
        "results": [{k: v for k, v in r.items() if k not in ("up_epoch", "answer_epoch")} for r in results],
    }, indent=2, default=float) + "\n")
