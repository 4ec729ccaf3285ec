"""The presenter view: the canvas and the chosen network on one screen, for a classroom.

Shown by the Draw tab's fragment (`app/tabs/draw.py`) in place of its usual right-hand side when
"Presenter view" is on in the sidebar, so the one canvas stays mounted and every stroke updates
this view. Per stroke it sends the Prediction and two figures: the whole network as one strip
(`presenter_figures.layer_strip`) and a detail: the chosen feature map large beside its
kernel(s) and the chosen unit's receptive field on the input (`map_detail`), or "Why this and
not that" (`contrast_figure`). Click a map in the strip to choose it, a unit in the large map to
choose that unit; hovering a unit gives its receptive field in words.

Session state used here (all per user, reset by nothing but the user):
    presenter_layer, presenter_map   the chosen layer (segmented control) and map (slider)
    presenter_unit                   (layer, map, row, col) clicked, or absent: the map's strongest unit
    presenter_detail                 "Feature map" or "Why this, not that"
    presenter_other                  the digit compared with (None: the runner-up)
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import figures, presenter_figures
from app.resources import load_classifier
from mnist_core.classifier import Classifier, Result
from mnist_core.explain import contrast, map_kernels, receptive_fields
from mnist_core.preprocess import Preprocessed

MAP_LAYERS = {"lenet5": ("C1", "S2", "C3", "S4"), "mlp": ("hidden1", "hidden2")}
DETAILS = ("Feature map", "Why this, not that")  # short: two buttons side by side under the canvas
CSS = """
<style>
/* Presenter view: large type, little padding, everything on one screen. */
.stMainBlockContainer {padding-top: 3.6rem; padding-bottom: 0.5rem; max-width: 100%}
.st-key-presenter-panel p, .st-key-presenter-panel label p, .st-key-presenter-side p {font-size: 1.2rem}
.st-key-presenter-side [data-testid="stMetricValue"], .st-key-presenter-side [data-testid="stMetricValue"] * {
  font-size: 3.2rem !important; line-height: 1.0}
.st-key-presenter-side [data-testid="stMetricDelta"] {font-size: 1.2rem}
.st-key-presenter-side {gap: 0.35rem}
.st-key-presenter-side button p {font-size: 1rem !important}
.st-key-presenter-panel [data-testid="stCaptionContainer"] p {font-size: 1.15rem}
.st-key-presenter-panel button p {font-size: 1.1rem}
</style>
"""
SENTENCES = {
    "C1": "Each C1 map is one 5×5 kernel slid over the digit: bright where the ink matches the kernel's red "
          "and avoids its blue. A C1 unit sees 5×5 pixels.",
    "S2": "S2 keeps the strongest C1 response in each 2×2 block: the same map at half the size. A unit sees 6×6 pixels.",
    "C3": "A C3 map adds up kernels over several S2 maps (the connection table), so it responds to parts such as "
          "corners and loops. A unit sees 14×14 pixels.",
    "S4": "S4 pools C3 to 5×5: a coarse map of where each part was found. A unit sees 16×16 pixels.",
    "hidden1": "Each of the 512 units is a weighted sum of all 784 pixels; its weights, drawn as a picture, are "
               "the template it matches (red: ink here raises it). Every unit sees the whole digit.",
    "hidden2": "Each of the 128 units weighs the first layer's 512 units (its weights, as a 32×16 grid in the "
               "same order as hidden1's grid). Every unit sees the whole digit.",
}


def model_for(models: list[str]) -> str:
    """The network the presenter shows: the one chosen, LeNet-5 when both are."""
    return models[0] if len(models) == 1 else "lenet5"


def _points(key: str) -> list[dict]:
    event = st.session_state.get(key)
    return list((event or {}).get("selection", {}).get("points") or [])


def _choose_from_strip() -> None:
    """A click on a map in the strip (LeNet-5's C1-S4): that map becomes the chosen one."""
    for point in _points("presenter-strip"):
        choice = presenter_figures.strip_choice(point)
        if choice:
            st.session_state["presenter_layer"], st.session_state["presenter_map"] = choice
            st.session_state["presenter_detail"] = DETAILS[0]
            st.session_state.pop("presenter_unit", None)
            return


def _choose_unit() -> None:
    """A click on a unit of the large map: that unit is the chosen one."""
    for point in _points("presenter-detail"):
        if point.get("curve_number") == presenter_figures.UNIT_TRACE and "x" in point and "y" in point:
            st.session_state["presenter_unit"] = (st.session_state.get("presenter_layer"),
                                                  st.session_state.get("presenter_map", 0),
                                                  int(point["y"]), int(point["x"]))
            return


def style() -> None:
    """The presenter's CSS (large type, less padding)."""
    st.html(CSS)


def _maps(name: str, layer: str, acts: dict) -> np.ndarray:
    """A layer's maps as (H, W, C): LeNet-5's feature maps, or a dense layer as one grid of units."""
    values = acts[layer]
    if name == "lenet5":
        return values
    rows, columns = presenter_figures.UNIT_GRIDS[layer]
    return values.reshape(rows, columns, 1)


def _detail_map(classifier: Classifier, name: str, result: Result, acts: dict, side) -> None:
    """The chosen map (its controls in `side`, under the canvas) large, beside its kernels, with
    the chosen unit's receptive field on the input."""
    layers = MAP_LAYERS[name]
    if st.session_state.get("presenter_layer") not in layers:
        st.session_state["presenter_layer"] = layers[0] if name == "mlp" else "C3"
    with side:
        layer = st.segmented_control("Layer", layers, key="presenter_layer", required=True)
        maps = _maps(name, layer, acts)
        count = maps.shape[2]
        index = 0
        if count > 1:
            if st.session_state.get("presenter_map", 0) >= count:
                st.session_state["presenter_map"] = 0
            index = st.select_slider("Map", list(range(count)), key="presenter_map")
    fmap = maps[:, :, index]
    chosen = st.session_state.get("presenter_unit")
    if chosen and chosen[:2] == (layer, index) and chosen[2] < fmap.shape[0] and chosen[3] < fmap.shape[1]:
        unit = (int(chosen[2]), int(chosen[3]))
    else:
        unit = tuple(int(v) for v in np.unravel_index(int(fmap.argmax()), fmap.shape))
    if name == "lenet5":
        fields = receptive_fields(classifier.model, layer, *fmap.shape)
        convolution, inputs, kernels = map_kernels(classifier, layer, index)
        source = "input" if convolution == "C1" else "S2"
        labels = [f"{source} {i}" for i in inputs]
        title = (f"<b>{convolution} kernel</b>" if len(inputs) == 1 else f"<b>{convolution} kernels</b> ({len(inputs)})")
        if layer != convolution:
            title += f"<br><span style='font-size:13px'>pooled from {convolution} map {index}</span>"
    else:
        fields = np.broadcast_to(np.array([0, 0, 28, 28]), fmap.shape + (4,))
        unit_number = unit[0] * fmap.shape[1] + unit[1]
        weights = classifier.kernels(layer)[:, unit_number]  # (784,) or (512,)
        shape = (28, 28) if layer == "hidden1" else presenter_figures.UNIT_GRIDS["hidden1"]
        kernels, labels = weights.reshape(shape + (1,)).astype(np.float32), [""]
        title = f"<b>unit {unit_number}'s weights</b>"
    st.plotly_chart(presenter_figures.map_detail(layer, index, fmap, unit, fields, kernels, labels, title,
                                                 result.input28),
                    config=figures.CONFIG, key="presenter-detail", on_select=_choose_unit, selection_mode="points")
    top, left_col, bottom, right_col = (int(v) for v in fields[unit])
    st.caption(f"{SENTENCES[layer]} The boxed unit ({unit[0]}, {unit[1]}) fires {fmap[unit]:.2f} and sees input "
               f"rows {top}–{bottom - 1}, columns {left_col}–{right_col - 1}: click another unit, or hover one.")


def why_not(classifier: Classifier, result: Result, key: str, side=None) -> None:
    """Why this and not that: saliency of the answer and of another digit (the runner-up unless
    the user picks one, with pills in `side`, or here), their difference over the digit, and one
    sentence on how to read it."""
    second = result.runner_up
    options = [d for d in range(10) if d != result.label]
    with side or st.container():
        picked = st.pills("Compare with (none picked: the runner-up)", options, key=key,
                          format_func=lambda d: f"{d} · runner-up" if d == second else str(d))
    other = picked if picked in options else second
    c = contrast(classifier, result.input28, result.label, other)
    st.plotly_chart(presenter_figures.contrast_figure(c.label, c.other, c.label_map, c.other_map, c.difference,
                                                      result.input28),
                    config=figures.CONFIG, key=f"{key}-chart")
    st.caption(f"Red: where more ink would raise the score of {c.label} (left) or {c.other} (middle); the right "
               f"picture is the difference: red pixels argue for {c.label} over {c.other}, blue ones for "
               f"{c.other}, and the grey line is the digit's outline.")


def render(models: list[str], digit, side) -> Preprocessed | None:
    """The presenter view for `digit` (a `draw.Digit`, not None): the Prediction and the controls
    in `side` (a container under the canvas), the network's strip and the detail where this is
    called. Returns the preprocessing steps (None when the model cannot be loaded)."""
    from app.tabs.draw import read  # the Draw tab's per-session reading cache

    name = model_for(models)
    classifier, error = load_classifier(name)
    if classifier is None:
        st.error(error)
        return None
    result, _ = read(name, digit)
    if result.label is None:
        st.warning(result.reason)
        return result.preprocessed
    side = side.container(key="presenter-side")
    with side:
        st.metric("Prediction", str(result.label), delta=f"{result.confidence:.0%} confident",
                  delta_color="off", delta_arrow="off")
    acts = classifier.activations(result.input28)  # after the Prediction is on its way to the browser
    with side:
        detail = st.segmented_control("Detail", DETAILS, key="presenter_detail", required=True,
                                      default=DETAILS[0], label_visibility="collapsed")
    with st.container(key="presenter-panel"):
        note = " (the presenter shows LeNet-5; choose one model for the MLP)" if len(models) > 1 else ""
        st.markdown(f"**{figures.MODEL_LABELS[name]}**{note}: every layer, input to output."
                    + (" Click a map to see it large." if name == "lenet5" else ""))
        st.plotly_chart(presenter_figures.layer_strip(name, result.input28, acts, result.probabilities),
                        config=figures.CONFIG, key="presenter-strip", on_select=_choose_from_strip,
                        selection_mode="points")
        if detail == DETAILS[1]:
            why_not(classifier, result, "presenter_other", side)
        else:
            _detail_map(classifier, name, result, acts, side)
    return result.preprocessed


def render_blank(models: list[str]) -> None:
    """Before anything is drawn: the network's strip for an empty input (it also loads the
    charting code in the browser while the user draws)."""
    name = model_for(models)
    classifier, _ = load_classifier(name)
    if classifier is None:
        return
    blank = np.zeros((28, 28), np.float32)
    with st.container(key="presenter-panel"):
        st.plotly_chart(presenter_figures.layer_strip(name, blank, classifier.activations(blank), None),
                        config=figures.CONFIG, key="presenter-strip")
    # A hidden metric: the browser fetches the metric's code now, not on the first stroke.
    st.html("<style>.st-key-presenter-metric-preload {display: none}</style>")
    with st.container(key="presenter-metric-preload"):
        st.metric("preload", "0")
