""""Was this right?" in a real browser: draw a 7 on the canvas, click "Yes, it's a 7", and see it
counted on the Collected tab; the database then holds that one drawing with the canvas's strokes.

The module starts its own server, pointed at a fresh SQLite file (MNIST_COLLECTION), so it never
writes to the user's collection.
"""

from __future__ import annotations

import os
from pathlib import Path

import app_support as app
import harness
import pytest

from mnist_core.collection.database import Collection

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def collect_server(e2e_playwright, tmp_path_factory):
    db = tmp_path_factory.mktemp("collection") / "collected.sqlite3"
    env = {"MNIST_COLLECTION": str(db)}
    if os.environ.get("MNIST_DATA"):
        env["MNIST_DATA"] = str(Path(os.environ["MNIST_DATA"]).resolve())
    with harness.start_streamlit(app.APP, cwd=app.ROOT, env=env) as url:
        yield url, db


def test_confirm_then_counted_on_the_collected_tab(e2e_browser, collect_server):
    url, db = collect_server
    page = app.open_page(e2e_browser, url)
    try:
        app.draw_digit(page, 7)
        app.wait_for_metrics(page, ["7"])
        assert not db.exists(), "nothing may be saved before the click"
        page.get_by_role("button", name="Yes, it's a 7").click()
        page.get_by_text("Saved as a").wait_for(timeout=20_000)
        app.assert_no_exception(page)

        app.open_tab(page, "Collected")
        app.wait_for_metrics(page, ["1"], label="Your drawings", timeout=60_000)
        app.wait_for_metrics(page, ["1"], label="Saved by you")
        assert app.error_texts(page) == []

        with Collection(db) as collection:
            [record] = collection.records()
            drawing = collection.get(record.id)
        assert drawing.label == 7 and drawing.source == "canvas" and drawing.session
        assert drawing.strokes and all(o["type"].lower() == "path" and o["path"] for o in drawing.strokes), \
            [o.get("type") for o in drawing.strokes]  # fabric.js paths ("Path" in fabric 6)
        assert set(drawing.predictions) == {"mlp", "lenet5"}
        assert drawing.predictions["lenet5"]["label"] == 7
    finally:
        page.context.close()
