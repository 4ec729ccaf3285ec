"""Teaching with the app (issue 9), under Streamlit's AppTest: the presenter view, "why this and
not that", and a lesson as a link (the drawing, model and view in the URL).

Drawings are injected as in tests/app/test_app_draw.py: the canvas widget's value in session state,
here with the fabric.js path objects the browser sends beside the PNG (the URL is made from them).
"""

import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.session import CANVAS_KEY
from app.tabs.draw import HINT, canvas_value
from core_helpers import hand_drawing, plotly_array
from mnist_core.pen import lesson
from mnist_core.reading.classifier import Classifier
from mnist_core.reading.explain import contrast, map_kernels
from test_app_draw import APP, TIMEOUT, canvas_png, models_dir, run  # noqa: F401 (fixture)


@pytest.fixture
def fresh(models_dir, monkeypatch):  # noqa: F811
    """A not yet run AppTest of the whole app (set its query params first)."""
    monkeypatch.setenv("MNIST_MODELS", str(models_dir))
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


@pytest.fixture
def app(fresh):
    return run(fresh)


@pytest.fixture(scope="module")
def lenet5():
    return Classifier.load("lenet5")


def draw(at: AppTest, drawing: lesson.Drawing) -> AppTest:
    """What the browser sends after a stroke: the canvas's paths and its PNG."""
    objects = lesson.fabric_objects(drawing)
    at.session_state[CANVAS_KEY] = canvas_value(canvas_png(drawing.render()), objects=objects)
    return run(at)


def present(at: AppTest) -> AppTest:
    at.sidebar.toggle(key="presenter").set_value(True)
    return run(at)


def predictions(at: AppTest) -> list[str]:
    return [m.value for m in at.metric if m.label == "Prediction"]


def charts(at: AppTest) -> dict:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def canvas(at: AppTest):
    [element] = [e for e in at.get("bidi_component") if e.key == "canvas"]  # the Numbers tab has its own
    return element


def tree_path(at: AppTest, key: str) -> list[int]:
    """Where the element with widget `key` sits in the page: child indices from the root."""
    def find(node, path):
        children = getattr(node, "children", None)
        if not isinstance(children, dict):
            return None
        for index, child in children.items():
            if getattr(child, "key", None) == key:
                return path + [index]
            found = find(child, path + [index])
            if found:
                return found
        return None
    return find(at._tree[0], [])


def html(at: AppTest) -> list[str]:
    """The bodies of the page's st.html elements (the presenter's figure titles are HTML)."""
    return [e.proto.body for e in at.get("html")]


def title_rows(at: AppTest) -> list[list[str]]:
    """The bold words of each of the presenter's title rows (a strip's layers, the detail's panels)."""
    return [re.findall(r"<b>([^<]*)</b>", body) for body in html(at) if "presenter-labels" in body]


def titles(at: AppTest, first: str) -> list[str]:
    """The title row whose first title is `first` (there must be one)."""
    [row] = [r for r in title_rows(at) if r and r[0] == first]
    return row


def z(figure: dict, trace: int) -> np.ndarray:
    return plotly_array(figure["data"][trace]["z"]).astype(np.float32)


# --- the presenter view ----------------------------------------------------------------------------


def test_presenter_view_keeps_the_one_canvas_where_it_is(app):
    where = tree_path(app, CANVAS_KEY)
    draw(app, hand_drawing(3))
    present(app)
    assert tree_path(app, CANVAS_KEY) == where  # same place in the page: the browser keeps it mounted
    assert [e.key for e in app.get("bidi_component")].count("canvas") == 1
    assert predictions(app) == ["3"]
    assert set(charts(app)) == {"presenter-strip", "presenter-detail"}  # and not the Draw tab's four
    assert app.query_params["view"] == "presenter"


def test_presenter_before_drawing_shows_the_hint_and_an_empty_network(app):
    present(app)
    assert [i.value for i in app.info] == [HINT]
    assert predictions(app) == [] and set(charts(app)) == {"presenter-strip"}
    strip = charts(app)["presenter-strip"]
    assert np.nanmax(z(strip, 0)) == 0  # a blank input


def test_a_stroke_changes_the_maps_on_the_same_screen(app, lenet5):
    present(app)
    draw(app, hand_drawing(7))
    first = charts(app)
    draw(app, hand_drawing(0))
    second = charts(app)
    assert predictions(app) == ["0"]
    strip = second["presenter-strip"]
    assert titles(app, "input") == ["input", "C1", "S2", "C3", "S4", "C5", "F6", "output"]
    assert "annotations" not in strip["layout"]  # titles are HTML above the strip, in the room's type
    result = lenet5.classify(lesson.Drawing(hand_drawing(0).strokes).render(), 0.0)
    acts = lenet5.activations(result.input28)
    assert np.allclose(z(strip, 0), result.input28, atol=1e-6)
    c1 = z(strip, 1)  # C1's 6 maps as a 2-column mosaic, one blank pixel between them
    assert np.allclose(c1[:28, :28], acts["C1"][:, :, 0], atol=1e-5)
    assert np.allclose(c1[29:57, 29:57], acts["C1"][:, :, 3], atol=1e-5)
    assert np.allclose(plotly_array(strip["data"][7]["x"]), result.probabilities, atol=1e-6)  # output bars
    for trace in range(1, 7):
        assert not np.allclose(np.nan_to_num(z(first["presenter-strip"], trace)), np.nan_to_num(z(strip, trace)))
    assert not np.allclose(z(first["presenter-detail"], 0), z(second["presenter-detail"], 0))


def test_choosing_a_map_shows_it_large_beside_its_kernels(app, lenet5):
    present(app)
    draw(app, hand_drawing(4))
    app.session_state["presenter_layer"] = "C3"
    app.session_state["presenter_map"] = 9
    run(app)
    detail = charts(app)["presenter-detail"]
    result = lenet5.classify(hand_drawing(4).render(), 0.0)
    fmap = lenet5.activations(result.input28)["C3"][:, :, 9]
    assert np.allclose(z(detail, 0), fmap, atol=1e-5)
    _, inputs, kernels = map_kernels(lenet5, "C3", 9)
    tiles = z(detail, 1)  # the 4 kernels of C3 map 9 (S2 maps 0, 3, 4, 5), 3 to a row
    assert len(inputs) == 4 and np.allclose(tiles[:5, :5], kernels[:, :, 0]) and np.allclose(tiles[7:12, :5], kernels[:, :, 3])
    assert titles(app, "C3 map 9") == ["C3 map 9", "C3 kernels", "input"]
    assert "on S2 maps " + ", ".join(str(i) for i in inputs) in "".join(html(app))
    # the strongest unit is boxed, and its receptive field (14x14) is drawn on the input
    row, col = np.unravel_index(fmap.argmax(), fmap.shape)
    unit_box, field_box = detail["layout"]["shapes"]
    assert (unit_box["x0"] + 0.5, unit_box["y0"] + 0.5) == (col, row)
    assert field_box["x1"] - field_box["x0"] <= 14 and field_box["y1"] - field_box["y0"] <= 14
    assert f"The boxed unit ({row}, {col})" in app.tabs[0].caption[-1].value


def test_choosing_a_unit_moves_its_receptive_field(app):
    present(app)
    draw(app, hand_drawing(2))
    app.session_state["presenter_layer"] = "S2"
    app.session_state["presenter_map"] = 1
    app.session_state["presenter_unit"] = ("S2", 1, 0, 13)
    run(app)
    unit_box, field_box = charts(app)["presenter-detail"]["layout"]["shapes"]
    assert (unit_box["x0"], unit_box["y0"]) == (12.5, -0.5)
    # S2 unit (0, 13): C1 rows 0-1, columns 26-27, each 5x5 around its pixel: input rows 0-3, columns 24-27
    assert (field_box["y0"], field_box["y1"], field_box["x0"], field_box["x1"]) == (-0.5, 3.5, 23.5, 27.5)
    assert "sees input rows 0–3, columns 24–27" in app.tabs[0].caption[-1].value


def test_presenter_shows_the_mlp_when_it_is_chosen(app):
    app.sidebar.radio(key="model_choice").set_value("MLP")
    present(app)
    draw(app, hand_drawing(6))
    assert predictions(app) == ["6"]
    assert titles(app, "input") == ["input", "hidden1", "hidden2", "output"]
    detail = charts(app)["presenter-detail"]
    assert z(detail, 0).shape == (32, 16) and z(detail, 1).shape == (28, 28)  # units, one unit's template


def test_the_strip_has_no_hover_in_the_gaps_between_maps(app):
    present(app)
    draw(app, hand_drawing(3))
    strip = charts(app)["presenter-strip"]
    for trace in strip["data"][1:5]:  # C1 to S4: mosaics with NaN between the maps
        assert np.isnan(z(strip, strip["data"].index(trace))).any() and trace["hoverongaps"] is False
    detail = charts(app)["presenter-detail"]
    assert detail["data"][1]["hoverongaps"] is False  # the kernels' mosaic


def test_clear_keeps_the_chosen_layer_map_and_detail(app):
    present(app)
    draw(app, hand_drawing(4))
    app.session_state["presenter_layer"] = "C1"
    app.session_state["presenter_map"] = 4
    run(app)
    app.button(key="clear").click()
    run(app)
    assert predictions(app) == [] and "presenter-detail" not in charts(app)
    draw(app, hand_drawing(2))
    assert (app.session_state["presenter_layer"], app.session_state["presenter_map"]) == ("C1", 4)
    assert titles(app, "C1 map 4")[0] == "C1 map 4"
    app.segmented_control(key="presenter_detail").set_value("Why this, not that")
    run(app)
    app.button(key="clear").click()
    run(app)
    draw(app, hand_drawing(5))
    assert app.session_state["presenter_detail"] == "Why this, not that" and "presenter_other-chart" in charts(app)
    app.segmented_control(key="presenter_detail").set_value("Feature map")
    run(app)
    assert titles(app, "C1 map 4")[0] == "C1 map 4"  # the map came back with the mode


def test_both_models_are_shown_side_by_side(app):
    app.sidebar.radio(key="model_choice").set_value("Both side by side")
    present(app)
    draw(app, hand_drawing(6))
    assert [m.label for m in app.metric] == ["LeNet-5", "MLP"] and [m.value for m in app.metric] == ["6", "6"]
    assert set(charts(app)) == {"presenter-strip", "presenter-strip-mlp", "presenter-detail"}
    assert title_rows(app)[:2] == [["input", "C1", "S2", "C3", "S4", "C5", "F6", "output"],  # LeNet-5's first
                                   ["input", "hidden1", "hidden2", "output"]]
    assert z(charts(app)["presenter-strip-mlp"], 1).shape == (32, 16)  # hidden1's units
    assert titles(app, "C3 map 0")[0] == "C3 map 0"
    app.segmented_control(key="presenter_layer").set_value("hidden2")  # the MLP's layers are offered too
    run(app)
    assert z(charts(app)["presenter-detail"], 0).shape == (16, 8) and titles(app, "hidden2")[0] == "hidden2"


def test_presenter_shows_this_sessions_trained_model(app, lenet5):
    app.session_state["trained_model"] = lenet5  # as the Train tab leaves it: a LeNet-5
    run(app)
    app.sidebar.radio(key="model_choice").set_value("Your trained model")
    present(app)
    assert title_rows(app)[0][:2] == ["input", "C1"]  # the blank strip, of its architecture
    draw(app, hand_drawing(3))
    assert predictions(app) == ["3"] and titles(app, "C3 map 0")[0] == "C3 map 0"
    assert any(m.value.startswith("**Your trained model**") for m in app.markdown) and not app.exception


# --- why this and not that ---------------------------------------------------------------------------


def test_why_this_and_not_that(app, lenet5):
    present(app)
    draw(app, hand_drawing(9))
    app.segmented_control(key="presenter_detail").set_value("Why this, not that")
    run(app)
    result = lenet5.classify(hand_drawing(9).render(), 0.0)
    second = result.runner_up
    figure = charts(app)["presenter_other-chart"]
    expected = contrast(lenet5, result.input28, 9, second)
    assert np.allclose(z(figure, 0), expected.label_map, atol=1e-6)
    assert np.allclose(z(figure, 2), expected.other_map, atol=1e-6)
    assert np.allclose(z(figure, 4), expected.difference, atol=1e-6)
    assert f"red pixels argue for 9 over {second}" in app.tabs[0].caption[-1].value
    other = 4 if second != 4 else 1
    app.get("button_group")[-1].set_value(other)  # the "Compare with" pills
    run(app)
    figure = charts(app)["presenter_other-chart"]
    assert np.allclose(z(figure, 4), contrast(lenet5, result.input28, 9, other).difference, atol=1e-6)
    assert f"red pixels argue for 9 over {other}" in app.tabs[0].caption[-1].value


def test_network_tab_has_why_this_and_not_that(app):
    draw(app, hand_drawing(5))
    app.session_state["tab"] = "Network"
    run(app)
    assert "lenet5-other-chart" in charts(app)
    assert any(c.value.startswith("Red: where more ink would raise the score of 5") for c in app.caption)


# --- a lesson as a link ------------------------------------------------------------------------------


def test_the_url_follows_the_drawing_model_and_view(app):
    assert app.query_params["model"] == "lenet5" and app.query_params["view"] == "draw"
    assert "d" not in app.query_params
    drawing = hand_drawing(8)
    draw(app, drawing)
    assert app.query_params["d"] == lesson.encode(drawing)
    app.sidebar.radio(key="model_choice").set_value("Both side by side")
    run(app)
    present(app)
    assert (app.query_params["model"], app.query_params["view"]) == ("both", "presenter")
    app.button(key="clear").click()
    run(app)
    assert "d" not in app.query_params


def test_opening_a_link_draws_and_reads_the_digit(fresh):
    drawing = hand_drawing(3)
    text = lesson.encode(drawing)
    fresh.query_params.update({"d": text, "model": "mlp", "view": "presenter"})
    at = run(fresh)
    assert predictions(at) == ["3"]  # read on the first run, before the browser sends anything
    assert at.session_state["model_choice"] == "MLP" and at.session_state["presenter"] is True
    initial = json.loads(canvas(at).proto.json)["initialDrawing"]
    assert initial["objects"] == lesson.fabric_objects(lesson.decode(text))  # drawn on the canvas
    assert at.query_params["d"] == text  # the address stays the same link
    assert not at.warning and not at.error
    # drawing over it: the canvas then sends its own picture, which is read instead
    draw(at, hand_drawing(0))
    assert predictions(at) == ["0"] and at.query_params["d"] == lesson.encode(hand_drawing(0))
    at.button(key="clear").click()
    run(at)
    assert json.loads(canvas(at).proto.json)["initialDrawing"]["objects"] == []
    assert predictions(at) == []


@pytest.mark.parametrize("bad", ["1YxSRPcFodJ6RgZGDQY63glOMjYGHW4RTj1eCQYFNjkuER0yET4xDjVVBWElYQFNMnImdh",
                                 "2abc", "1!!", "1" + "A" * 40, ""])
def test_a_tampered_link_gives_one_line_and_an_empty_canvas(fresh, bad):
    fresh.query_params.update({"d": bad, "model": "lenet5"})
    at = run(fresh)
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("This lesson link could not be opened as it is: ") and "\n" not in warning
    assert predictions(at) == [] and [i.value for i in at.info] == [HINT]
    assert json.loads(canvas(at).proto.json)["initialDrawing"]["objects"] == []
    assert "d" not in at.query_params
    draw(at, hand_drawing(1))  # drawing makes the warning go
    assert predictions(at) == ["1"] and not at.warning


def test_a_link_with_an_unknown_model_or_view_says_so(fresh):
    fresh.query_params.update({"model": "resnet", "view": "cinema", "d": lesson.encode(hand_drawing(7))})
    at = run(fresh)
    [warning] = [w.value for w in at.warning]
    assert "unknown model 'resnet'" in warning and "unknown view 'cinema'" in warning
    assert predictions(at) == ["7"]  # the drawing itself was fine


def test_the_link_carries_the_chosen_layer_map_and_detail(app, fresh):
    present(app)
    draw(app, hand_drawing(4))
    assert (app.query_params["layer"], app.query_params["map"], app.query_params["detail"]) == ("C3", "0", "map")
    app.session_state["presenter_layer"] = "S2"
    app.session_state["presenter_map"] = 5
    run(app)
    app.segmented_control(key="presenter_detail").set_value("Why this, not that")
    run(app)
    link = {k: app.query_params[k] for k in ("model", "view", "d", "layer", "map", "detail")}
    assert (link["layer"], link["map"], link["detail"]) == ("S2", "5", "why")
    fresh.query_params.update(link)  # opened in a new session
    at = run(fresh)
    assert predictions(at) == ["4"] and not at.warning
    assert at.session_state["presenter_detail"] == "Why this, not that" and "presenter_other-chart" in charts(at)
    at.segmented_control(key="presenter_detail").set_value("Feature map")
    run(at)
    assert titles(at, "S2 map 5")[0] == "S2 map 5"


def test_an_old_link_without_the_choice_still_opens(fresh):
    text = lesson.encode(hand_drawing(9))
    fresh.query_params.update({"model": "lenet5", "view": "presenter", "d": text})  # as links were before
    at = run(fresh)
    assert predictions(at) == ["9"] and not at.warning and not at.error
    assert titles(at, "C3 map 0")[0] == "C3 map 0"  # the default choice
    assert at.query_params["d"] == text and at.query_params["layer"] == "C3"


@pytest.mark.parametrize("params, said, layer", [
    ({"layer": "C9"}, "no layer 'C9' in lenet5", "C3"),
    ({"layer": "C1", "map": "6"}, "no map '6' in C1 (0 to 5)", "C1"),
    ({"map": "-1"}, "no map '-1' in C3 (0 to 15)", "C3"),
    ({"model": "mlp", "layer": "C3"}, "no layer 'C3' in mlp", "hidden1"),
    ({"detail": "both"}, "unknown detail 'both'", "C3")])
def test_a_tampered_choice_in_a_link_is_one_line_and_the_default(fresh, params, said, layer):
    fresh.query_params.update({"model": "lenet5", "view": "presenter", "d": lesson.encode(hand_drawing(8)), **params})
    at = run(fresh)
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("This lesson link could not be opened as it is: ") and "\n" not in warning
    assert said in warning
    assert predictions(at) == ["8"]  # the drawing itself was fine
    assert at.session_state["presenter_layer"] == layer and at.session_state["presenter_detail"] == "Feature map"
    assert at.query_params["layer"] == layer  # the address now holds what is shown


def test_a_tampered_link_to_the_presenter_draws_no_network(fresh):
    fresh.query_params.update({"d": "1" + "A" * 40, "model": "lenet5", "view": "presenter"})
    at = run(fresh)
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("This lesson link could not be opened as it is: ") and "\n" not in warning
    assert predictions(at) == [] and charts(at) == {}  # no network strip for the empty input
    draw(at, hand_drawing(1))
    assert predictions(at) == ["1"] and "presenter-strip" in charts(at) and not at.warning
