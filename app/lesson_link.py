"""A lesson as a link: the drawing, the model and the view live in the page's URL.

    ?model=lenet5&view=presenter&d=1YxRhXcBopG82kXEHowjTPCYGAGeSExY&layer=C3&map=9&detail=map

`d` is the drawing's strokes as `mnist_core.pen.lesson.encode` writes them; `model` is lenet5, mlp or
both; `view` is presenter or draw; `layer`, `map` and `detail` (map or why) are the presenter's
choice (a layer of the link's model(s), a map it has). Every parameter may be left out (links
made before `layer`, `map` and `detail` existed open as before, with the default choice). The URL is rewritten as the user draws (`sync_drawing`, from
the Draw tab's fragment) and chooses (`sync_settings`), so the address bar always holds the
current lesson. Opening a link (`open_link`, once per session, before the sidebar's widgets)
sets the model and view and keeps the decoded drawing for the Draw tab, which puts it on the
canvas (`initial_drawing`) and reads it at once from `lesson.Drawing.render`. A malformed or
tampered link gives one line (`problem`), an empty canvas and no network drawn for it; a bad
`layer`, `map` or `detail` is said in the same line and left at the default.

Session state used here (all per user):
    link_opened   True once this session's first URL has been read.
    lesson        {"text": d, "drawing": lesson.Drawing, "ink": its (280, 280) float32 ink} of the
                  opened link, until "Clear".
    link_problem  one line saying what was wrong with the opened link, or absent.
"""

from __future__ import annotations

import re

import streamlit as st

from app.presenter_figures import MAP_COUNTS, MAP_LAYERS, default_layer
from app.session import choose
from mnist_core.pen import lesson

MODEL_PARAMS = {"LeNet-5": "lenet5", "MLP": "mlp", "Both side by side": "both"}  # sidebar choice -> URL
VIEWS = ("draw", "presenter")
DETAIL_PARAMS = {"map": "Feature map", "why": "Why this, not that"}  # URL -> session.DETAILS


def open_link() -> None:
    """Read this session's URL once: model and view into the sidebar widgets' state, the drawing
    into `st.session_state["lesson"]`; anything wrong into `st.session_state["link_problem"]`."""
    if st.session_state.get("link_opened"):
        return
    st.session_state["link_opened"] = True
    params = st.query_params
    problems = []
    model = params.get("model")
    if model is not None:
        choice = {v: k for k, v in MODEL_PARAMS.items()}.get(model)
        if choice is None:
            problems.append(f"unknown model {model[:20]!r}")
        else:
            st.session_state["model_choice"] = choice
    view = params.get("view")
    if view is not None:
        if view not in VIEWS:
            problems.append(f"unknown view {view[:20]!r}")
        else:
            st.session_state["presenter"] = view == "presenter"
    problems += _open_choice(model if model in MODEL_PARAMS.values() else None)
    text = params.get("d")
    if text is not None:
        try:
            drawing = lesson.decode(text)
            st.session_state["lesson"] = {"text": text, "drawing": drawing, "ink": drawing.render()}
        except ValueError as error:
            problems.append(str(error))
            st.session_state.pop("lesson", None)
            del st.query_params["d"]  # the address bar no longer carries the broken drawing
    if problems:
        st.session_state["link_problem"] = ("This lesson link could not be opened as it is: " + "; ".join(problems)
                                            + ". Draw the digit again, or ask for a fresh link.")


def _open_choice(model: str | None) -> list[str]:
    """The link's `layer`, `map` and `detail` as the presenter's choice; what is wrong with them."""
    params, problems = st.query_params, []
    models = {"both": ["lenet5", "mlp"], None: ["lenet5"]}.get(model, [model])  # no model: the sidebar's first
    layers = [layer for name in models for layer in MAP_LAYERS[name]]
    layer, index, detail = params.get("layer"), params.get("map"), params.get("detail")
    if layer is not None and layer not in layers:
        problems.append(f"no layer {layer[:20]!r} in {' or '.join(models)}")
        layer = None
    chosen = layer or default_layer(models)
    if index is not None and not (re.fullmatch(r"[0-9]{1,3}", index) and int(index) < MAP_COUNTS[chosen]):
        problems.append(f"no map {index[:20]!r} in {chosen} (0 to {MAP_COUNTS[chosen] - 1})")
        index = None
    if detail is not None and detail not in DETAIL_PARAMS:
        problems.append(f"unknown detail {detail[:20]!r}")
        detail = None
    for name, value in (("layer", layer), ("map", index), ("detail", detail)):
        if value is None and name in params:
            del st.query_params[name]  # the address bar no longer carries it
    if (layer, index, detail) != (None, None, None):
        choose(chosen, int(index or 0), DETAIL_PARAMS[detail or "map"])
    return problems


def problem() -> str | None:
    """The opened link's problem, as one line, until something is drawn."""
    return st.session_state.get("link_problem")


def opened_drawing() -> dict | None:
    """{"text", "drawing", "ink"} of the link this session opened, until the canvas is cleared."""
    return st.session_state.get("lesson")


def forget_opened() -> None:
    """Called by the canvas's "Clear": the link's drawing is gone from the canvas."""
    st.session_state.pop("lesson", None)


def sync_settings(choice: str, presenter: bool) -> None:
    """Write the sidebar's model and the view into the URL (only what changed)."""
    _write({"model": MODEL_PARAMS.get(choice, "lenet5"), "view": "presenter" if presenter else "draw"})


def sync_choice(layer: str, index: int, detail: str) -> None:
    """Write the presenter's chosen layer, map and detail into the URL (only what changed)."""
    _write({"layer": layer, "map": str(index), "detail": {v: k for k, v in DETAIL_PARAMS.items()}[detail]})


def _write(wanted: dict[str, str]) -> None:
    """Set these URL parameters, only those that changed (each change is sent to the browser)."""
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def sync_drawing(json_data: dict | None) -> None:
    """Write the canvas's drawing (its fabric.js JSON) into the URL as `d`, or remove `d` when the
    canvas is empty. Once something is drawn, an opened link's problem is no longer shown."""
    drawing = lesson.strokes_from_fabric(json_data)
    if not drawing.strokes:
        if "d" in st.query_params:
            del st.query_params["d"]
        return
    try:
        text = lesson.encode(drawing)
    except ValueError:  # more than a link can carry: the URL keeps no drawing
        text = None
    opened = opened_drawing()
    if text is None or opened is None or text != opened["text"]:  # the user drew: the link's news is old
        st.session_state.pop("link_problem", None)
    if text is None:
        if "d" in st.query_params:
            del st.query_params["d"]
    elif st.query_params.get("d") != text:
        st.query_params["d"] = text
