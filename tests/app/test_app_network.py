"""The Network tab of the whole app under Streamlit's AppTest: the figures for both models, for
a drawing and for the example shown before anything is drawn, and a broken model.

Tabs track their state (`st.tabs(..., key="tab", on_change="rerun")`), so a test opens the
Network tab by setting `at.session_state["tab"]`. Drawings are supplied as in test_app_draw.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core_helpers import drawing, plotly_array
from mnist_core import Classifier
from mnist_core.networks.models import connection_matrix
from mnist_core.reading.explain import smoothgrad
from test_app_draw import APP, TIMEOUT, choose, draw, models_dir, run  # noqa: F401 (models_dir: fixture)

ROOT = Path(__file__).resolve().parents[2]

LENET5_CHARTS = ["lenet5-c1-kernels", "lenet5-c1", "lenet5-s2", "lenet5-c3", "lenet5-c3-table", "lenet5-c3-kernels",
                 "lenet5-s4", "lenet5-c5", "lenet5-f6", "lenet5-output", "lenet5-saliency", "lenet5-other-chart"]
MLP_CHARTS = ["mlp-h1", "mlp-templates", "mlp-h2", "mlp-output", "mlp-saliency", "mlp-other-chart"]


@pytest.fixture
def at(models_dir, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MNIST_MODELS", str(models_dir))
    return run(AppTest.from_file(APP, default_timeout=TIMEOUT))


def open_network(at: AppTest) -> AppTest:
    at.session_state["tab"] = "Network"
    return run(at)


def charts(at: AppTest) -> dict[str, dict]:
    """The Network tab's Plotly figures (as JSON) by key, in page order."""
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")
            if c.key.startswith(("lenet5-", "mlp-"))}


def test_example_digit_before_anything_is_drawn(at):
    open_network(at)
    assert any("example 7" in i.value for i in at.info)
    assert list(charts(at)) == LENET5_CHARTS
    assert "LeNet-5** reads a **7**" in " ".join(m.value for m in at.markdown)


def test_lenet5_figures_for_the_drawing_come_from_the_core(at, models_dir):  # noqa: F811
    draw(at, drawing(3))
    open_network(at)
    assert any("your drawing" in c.value for c in at.caption)
    figures = charts(at)
    assert list(figures) == LENET5_CHARTS
    assert len(at.caption) >= len(LENET5_CHARTS) + 1  # a sentence under every figure
    # The numbers are the core's: C1's first map is the first tile of the C1 mosaic.
    classifier = Classifier.load("lenet5", models_dir)
    activations = classifier.activations(at.session_state["input28"])
    c1 = plotly_array(figures["lenet5-c1"]["data"][0]["customdata"])[..., 1]
    assert np.allclose(c1[:28, :28], activations["C1"][:, :, 0], atol=1e-5)
    table = plotly_array(figures["lenet5-c3-table"]["data"][0]["z"])
    assert np.array_equal(table.astype(bool), connection_matrix())
    saliency = plotly_array(figures["lenet5-saliency"]["data"][0]["z"])  # SmoothGrad of the answer
    label = int(classifier.classify_batch(at.session_state["input28"][None])[0].argmax())
    assert np.allclose(saliency, smoothgrad(classifier, at.session_state["input28"], label), atol=1e-5)
    assert not np.allclose(saliency, classifier.saliency(at.session_state["input28"]), atol=1e-3)
    assert figures["lenet5-saliency"]["data"][1]["line"]["color"] == "#ffffff"  # the outline is white ...
    assert any("SmoothGrad" in c.value and "the white line is the digit's outline" in c.value
               for c in at.caption)  # ... and called so


def test_colour_scale_per_map(at):
    draw(at, drawing(7))
    open_network(at)
    shared = charts(at)["lenet5-c3"]["data"][0]  # one scale for the layer: 0 to its maximum, with a colour bar
    assert shared["showscale"] and shared["zmax"] == pytest.approx(float(np.nanmax(plotly_array(shared["z"]))))
    at.toggle(key="per_map_scale").set_value(True)
    run(at)
    c3 = charts(at)["lenet5-c3"]["data"][0]
    assert c3["zmax"] == 1 and np.nanmax(plotly_array(c3["z"])) == pytest.approx(1)
    assert any("each map stretched" in c.value for c in at.caption)


def test_mlp_and_both_models(at):
    draw(at, drawing(0))
    open_network(at)
    choose(at, "MLP")
    assert list(charts(at)) == MLP_CHARTS
    choose(at, "Both side by side")
    assert [t.label for t in at.tabs if t.label in ("MLP", "LeNet-5")] == ["MLP", "LeNet-5"]
    assert list(charts(at)) == MLP_CHARTS + LENET5_CHARTS


def test_network_shows_the_current_drawing_after_a_new_one(at):
    draw(at, drawing(0))
    open_network(at)
    first = at.session_state["input28"]
    at.session_state["tab"] = "Draw"
    run(at)
    draw(at, drawing(7))
    open_network(at)
    assert not np.array_equal(first, at.session_state["input28"])
    assert "reads a **7**" in " ".join(m.value for m in at.markdown)


def test_broken_model_gives_an_error_line(models_dir, tmp_path, monkeypatch):  # noqa: F811
    shutil.copy(models_dir / "mlp.keras", tmp_path)
    shutil.copy(models_dir / "mlp.json", tmp_path)
    (tmp_path / "lenet5.keras").write_bytes(b"not a model")
    shutil.copy(models_dir / "lenet5.json", tmp_path)
    monkeypatch.setenv("MNIST_MODELS", str(tmp_path))
    at = run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    draw(at, drawing(3))
    open_network(at)
    errors = [e.value for e in at.error]
    assert errors and all("lenet5.keras" in e and "\n" not in e for e in errors)
    assert charts(at) == {}
    choose(at, "MLP")
    assert list(charts(at)) == MLP_CHARTS and not at.error


@pytest.mark.parametrize("top, expected", [
    (0.6, "**LeNet-5** is unsure: a **4** (60%) or a **9** (30%). The figures below follow the 4."),
    (0.97, "**LeNet-5** reads a **4** (97% confident)."),
])
def test_the_outcome_line_says_confident_only_above_the_doubt_threshold(top, expected):
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import numpy as np
from app.tabs import network
from mnist_core.reading.classifier import Result
p = np.zeros(10, np.float32)
p[4], p[9], p[1] = {top}, {round((1 - top) * 0.75, 4)}, {round((1 - top) * 0.25, 4)}
network._outcome(Result(4, p, np.zeros((28, 28), np.float32), None, "lenet5", unsure_below=0.963), "lenet5")
"""
    at = AppTest.from_string(script, default_timeout=TIMEOUT).run()
    assert not at.exception and [m.value for m in at.markdown] == [expected]
