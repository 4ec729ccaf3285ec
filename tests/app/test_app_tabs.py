"""The Data, Evaluation and Learn tabs under Streamlit's AppTest: with the real data, with a
drawing in the session, without any data (an empty MNIST_DATA, an isolated HOME and Keras cache,
no network) and without trained models. Every run must end without an exception."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core_helpers import plotly_array

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from app.tabs import {tab}
{tab}.render({models!r})
"""


@pytest.fixture(scope="module", autouse=True)
def map_cache(tmp_path_factory):
    """The PCA / t-SNE maps go to a fresh folder, not the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNIST_CACHE", str(tmp_path_factory.mktemp("maps")))
        yield


@pytest.fixture
def fresh_data_cache():
    """Forget the cached data-loading outcome before and after a test that changes where data is."""
    from app.data_cache import load_data

    load_data.clear()
    yield
    load_data.clear()


@pytest.fixture(scope="module")
def models():
    """Both trained models must load (fails in CI, skips elsewhere when they are missing)."""
    from mnist_core import MODEL_NAMES, Classifier, ModelFileError

    try:
        return {name: Classifier.load(name) for name in MODEL_NAMES}
    except ModelFileError as error:
        if os.environ.get("CI"):
            pytest.fail(f"trained models unavailable in CI: {error}")
        pytest.skip(f"trained models unavailable: {error}")


def run_tab(tab: str, models=("mlp", "lenet5"), state: dict | None = None, at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_string(SCRIPT.format(root=str(ROOT), tab=tab, models=list(models)), default_timeout=300)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(at, kind)]


def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure (as JSON) of the chart with this key."""
    return json.loads(at.get("plotly_chart")[[c.key for c in at.get("plotly_chart")].index(key)].proto.spec)


def drawing(mnist) -> np.ndarray:
    return mnist.x_test[0].astype(np.float32) / 255  # a 7


def mnist_counts(mnist) -> list[int]:
    return np.bincount(mnist.y_train, minlength=10).tolist()


# --- with the data --------------------------------------------------------------------------------


def test_data_tab_overview(mnist):
    at = run_tab("data")
    assert texts(at, "header") == ["The MNIST data"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Training images"] == "60,000" and metrics["Test images"] == "10,000"
    assert metrics["Pixel mean (pixel/255)"] == "0.1307" and metrics["Pixel standard deviation"] == "0.3081"
    assert any(mnist.source in c for c in texts(at, "caption"))
    assert texts(at, "subheader") == ["Class distribution", "Mean and standard deviation image of each digit",
                                      "Pixel intensities", "Ink statistics per digit"]
    assert plotly_array(chart(at, "data_counts")["data"][0]["y"]).tolist() == mnist_counts(mnist)
    histogram = chart(at, "data_histogram")["layout"]["yaxis"]
    assert histogram["type"] == "log" and histogram["dtick"] == 1  # one label per power of ten, none repeated
    at.radio(key="data_split").set_value("test")
    run_tab("data", at=at)
    assert at.metric[4].label == "Pixel mean (pixel/255)" and at.metric[4].value != "0.1307"


def test_data_tab_sections(mnist):
    expected = {"Samples & pixels": ["Samples of each digit", "A greyscale image is an array of numbers"],
                "2-D map": ["A 2-D map of the data set"],
                "Augmentation": ["Augmentation: more training digits from the ones we have",
                                 "Robustness: what each model makes of transformed digits"]}
    at = run_tab("data")
    for section, subheaders in expected.items():
        run_tab("data", state={"data_section": section}, at=at)
        assert texts(at, "subheader") == subheaders, section
    run_tab("data", state={"data_section": "Samples & pixels"}, at=at)
    assert "(draw 0)" in at.get("image")[0].captions[0]
    at.button(key="data_reshuffle").click()
    run_tab("data", at=at)
    assert "(draw 1)" in at.get("image")[0].captions[0]
    values = chart(at, "data_pixel_values")["data"][0]
    assert values["type"] == "heatmap"


def test_data_map_places_the_drawing(mnist):
    at = run_tab("data", state={"data_section": "2-D map", "input28": drawing(mnist)})
    figure = chart(at, "data_pca_chart")
    names = [trace.get("name") for trace in figure["data"]]
    assert names[-1] == "your drawing" and names[:10] == [str(d) for d in range(10)]
    star = figure["data"][-1]
    # on top of the WebGL points (an SVG star is drawn under them), big, outlined, pointed at
    assert star["type"] == "scattergl" == figure["data"][0]["type"]
    assert star["marker"]["size"] >= 30 and star["marker"]["line"]["width"] >= 2
    (arrow,) = figure["layout"]["annotations"]
    assert (arrow["x"], arrow["y"]) == pytest.approx((star["x"][0], star["y"][0]), rel=1e-6) and arrow["showarrow"]
    assert "**Your drawing and its nearest training images**" in texts(at, "markdown")


def test_data_map_tsne_on_request(mnist, monkeypatch):
    from mnist_core.datasets import embedding

    monkeypatch.setattr(embedding, "TSNE_SAMPLE", 200)  # small: the real one takes a minute
    at = run_tab("data", state={"data_section": "2-D map", "input28": drawing(mnist)})
    at.radio(key="data_map_method").set_value("t-SNE")
    run_tab("data", at=at)
    assert not at.get("plotly_chart") or "data_tsne_chart" not in [c.key for c in at.get("plotly_chart")]
    notice = [i for i in texts(at, "info") if "t-SNE map" in i]
    assert notice and not any(str(embedding.cache_dir()) in i or "/" in i for i in notice)  # no server path
    at.button(key="data_tsne_compute").click()
    run_tab("data", at=at)
    names = [trace.get("name") for trace in chart(at, "data_tsne_chart")["data"]]
    assert "your drawing" in names and "its neighbours" in names
    assert any("nearest sample images" in c for c in texts(at, "caption"))


def test_augmentation_of_a_drawing_with_robustness_curves(mnist, models):
    at = run_tab("data", state={"data_section": "Augmentation", "input28": drawing(mnist)})
    at.radio(key="data_aug_source").set_value("My drawing")
    run_tab("data", at=at)
    assert at.selectbox(key="data_aug_drawn_label").value in range(10)
    at.selectbox(key="data_aug_drawn_label").set_value(7)
    at.radio(key="data_rob_over").set_value("this image only")
    run_tab("data", at=at)
    figure = chart(at, "data_robustness")
    assert {t["name"] for t in figure["data"]} == {"MLP", "LeNet-5"}
    assert len(figure["data"]) == 8  # 4 transformations x 2 models
    assert any("flips" in i.value for i in at.info)


def test_evaluation_tab(mnist, models):
    at = run_tab("evaluation", models=["lenet5"])
    assert texts(at, "header") == ["Evaluation on the test set"]
    assert [t.label for t in at.tabs] == ["LeNet-5", "Comparison"]
    card_accuracy = models["lenet5"].card["test"]["accuracy"]
    assert {m.label: m.value for m in at.metric}["Test accuracy"] == f"{card_accuracy:.2%}"
    assert any("Matches the model card" in c for c in texts(at, "caption"))
    heat, cells = chart(at, "eval_confusion_lenet5")["data"]
    np.testing.assert_array_equal(plotly_array(heat["text"]), models["lenet5"].card["test"]["confusion"])
    assert plotly_array(cells["x"]).shape == plotly_array(cells["y"]).shape == (100,)  # one clickable point per cell
    assert any(s.endswith("the most confident mistakes") for s in texts(at, "subheader"))
    # per digit: dots (a bar from an axis that starts at 96 % would mislead), the axis start said
    per_digit = chart(at, "eval_per_digit_lenet5")
    (dots,) = per_digit["data"]
    assert dots["type"] == "scatter" and dots["mode"] == "markers"
    accuracy = models["lenet5"].card["test"]["per_class_accuracy"]
    np.testing.assert_allclose(plotly_array(dots["y"]), accuracy, atol=1e-3)
    low = per_digit["layout"]["yaxis"]["range"][0]
    assert low <= min(accuracy) and per_digit["layout"]["yaxis"]["title"]["text"] == f"accuracy (axis from {low:.1%}, not 0)"
    assert per_digit["layout"]["title"]["text"] == "LeNet-5 on the 10,000 test images, per digit"

    run_tab("evaluation", state={"eval_section": "Comparison"}, at=at)
    assert texts(at, "subheader") == ["The two models side by side", "Drawn digits: how the models read what people draw",
                                      "Where the two models disagree"]
    table = at.table[0].value
    assert list(table.columns) == ["MLP", "LeNet-5"]
    assert table.loc["Parameters", "LeNet-5"] == f"{models['lenet5'].card['parameters']:,}"
    assert float(table.loc["Classify latency (ms, median)", "MLP"]) > 0
    # the reliability diagram: each bin's count written and as a dot's size, the thin bins hollow
    from app.data_figures import FEW

    reliability = chart(at, "eval_reliability")
    assert reliability["layout"]["title"]["text"]
    lenet_after = next(t for t in reliability["data"] if t["name"].startswith("LeNet-5, after"))
    bins = models["lenet5"].card["calibration"]["reliability_after"]
    counts = [n for n in bins["count"] if n]
    assert list(lenet_after["text"]) == [f"{n:,}" for n in counts]
    assert list(lenet_after["marker"]["symbol"]) == ["circle-open" if n < FEW else "circle" for n in counts]
    assert any(n < FEW for n in counts) and any(n >= FEW for n in counts)  # the cards' bins have both
    sizes = plotly_array(lenet_after["marker"]["size"])
    assert sizes[int(np.argmax(counts))] == sizes.max() > sizes.min()
    assert all(chart(at, key)["layout"].get("title", {}).get("text") for key in ("eval_drawn_per_digit",
                                                                                 "eval_per_digit_both"))
    # where they disagree: a table whose labels are whole, the counts adding up to the test set
    agree = at.table[-1].value
    assert list(agree.index) == ["both right", "only MLP right", "only LeNet-5 right", "both wrong, same answer",
                                 "both wrong, different answers"]
    assert sum(int(v.replace(",", "")) for v in agree["test images"]) == 10_000


def test_learn_tab(mnist):
    at = run_tab("learn", models=["mlp"])
    assert texts(at, "header") == ["Learn: how a computer reads a digit"]
    assert texts(at, "subheader") == ["What is image classification?", "A greyscale image is an array of numbers",
                                      "How MNIST was made", "The two networks, layer by layer"]
    tables = [d.value for d in at.dataframe]
    assert len(tables) == 2
    assert not any(column.dataframe for column in at.columns)  # full width: no column cut off in half the page
    mlp, lenet = tables
    assert mlp["parameters"].sum() == 784 * 512 + 512 + 512 * 128 + 128 + 128 * 10 + 10
    assert lenet.set_index("layer").loc["C3", "parameters"] == 1516
    assert lenet.set_index("layer").loc["C1", "output shape"] == "28 × 28 × 6"
    assert any("60,806 parameters" in m for m in texts(at, "markdown"))
    assert any("C3 · 16@10×10" in m and "1,516 parameters" in m for m in texts(at, "markdown"))
    pixels = chart(at, "learn_pixels")["data"][0]
    assert pixels["texttemplate"] == "%{text}"
    # the colour image's arrays: each number in black or white, whichever reads on its cell
    rgb = chart(at, "learn_rgb")["data"]
    assert [t["type"] for t in rgb] == ["heatmap", "scatter"] * 3
    colours = {}
    for channel, heat, numbers in zip(("red", "green", "blue"), rgb[::2], rgb[1::2]):
        values = plotly_array(heat["z"]).ravel()
        colours[channel] = np.array(numbers["textfont"]["color"])
        assert [int(v) for v in numbers["text"]] == values.tolist()
        assert set(colours[channel][values < 60]) <= {"#ffffff"}  # dark cells: white numbers
    green = plotly_array(rgb[2]["z"]).ravel()
    assert (green > 150).any() and set(colours["green"][green > 150]) == {"#000000"}  # bright green: black
    assert set(colours["blue"]) == {"#ffffff"}  # blue is dark even at 255


def test_text_colours_contrast_with_each_channel():
    from app.data_figures import CHANNELS, text_colours

    (_, red), (_, green), (_, blue) = CHANNELS
    assert text_colours(np.array([0, 255]), green).tolist() == ["#ffffff", "#000000"]  # bright green: black
    assert text_colours(np.array([255]), red).tolist() == ["#000000"]  # full red (L 0.21): black contrasts more
    assert text_colours(np.array([255]), blue).tolist() == ["#ffffff"]  # full blue (L 0.07): white
    assert text_colours(np.array([150]), green).tolist() == ["#000000"]  # mid green is already light


# --- without data or models -------------------------------------------------------------------------


def isolate(monkeypatch, tmp_path, data_dir: str | None):
    """No data anywhere: MNIST_DATA = data_dir (or unset), an empty HOME and Keras cache, and every
    download fails at once."""
    import urllib.request

    if data_dir is None:
        monkeypatch.delenv("MNIST_DATA", raising=False)
    else:
        monkeypatch.setenv("MNIST_DATA", data_dir)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def offline(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", offline)


@pytest.mark.parametrize("where", ["empty MNIST_DATA", "nothing anywhere"])
@pytest.mark.parametrize("tab", ["data", "evaluation", "learn"])
def test_tabs_without_any_data(tab, where, monkeypatch, tmp_path, fresh_data_cache):
    (tmp_path / "empty").mkdir()
    isolate(monkeypatch, tmp_path, str(tmp_path / "empty") if where == "empty MNIST_DATA" else None)
    at = run_tab(tab, state={"eval_section": "Comparison"} if tab == "evaluation" else None)
    errors = texts(at, "error")
    if tab == "learn":
        assert not errors  # Learn explains with a drawing instead
        assert len(at.dataframe) == 2 and "no MNIST data here" in at.get("image")[0].captions[0]
        return
    if tab == "evaluation" and not _models_load():
        assert texts(at, "warning") and not errors
        return
    assert len(errors) == 1 and "No MNIST data is available" in errors[0]
    assert "MNIST_DATA" in errors[0]  # the message says how to get the data
    assert at.button(key=f"{'data' if tab == 'data' else 'eval'}_retry{'' if tab == 'data' else '_comparison'}")


def _models_load() -> bool:
    from app.resources import load_classifier

    return all(load_classifier(name)[0] is not None for name in ("mlp", "lenet5"))


def test_retry_finds_data_that_appeared(mnist, monkeypatch, tmp_path, fresh_data_cache):
    real = os.environ["MNIST_DATA"]  # where the `mnist` fixture found it
    isolate(monkeypatch, tmp_path, str(tmp_path))
    at = run_tab("data")
    assert texts(at, "error")
    monkeypatch.setenv("MNIST_DATA", real)
    at.button(key="data_retry").click()
    run_tab("data", at=at)
    assert not texts(at, "error") and texts(at, "header") == ["The MNIST data"]


def test_tabs_without_models(mnist, monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_MODELS", str(tmp_path))
    at = run_tab("evaluation")
    assert len(at.warning) == 1 and "No trained model" in at.warning[0].value
    at = run_tab("data", state={"data_section": "Augmentation"})
    assert any("No trained model" in w for w in texts(at, "warning"))
    at = run_tab("learn")
    assert len(at.dataframe) == 2  # the architecture comes from freshly built models
