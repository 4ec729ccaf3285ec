"""The presenter view: the canvas and the chosen network on one screen, for a classroom.

Shown by the Draw tab's fragment (`app/tabs/draw.py`) in place of its usual right-hand side when
"Presenter view" is on in the sidebar, so the one canvas stays mounted and every stroke updates
this view. Per stroke it sends the Prediction and two figures: the whole network as one strip
(`presenter_figures.layer_strip`; with both models chosen, one strip each and both Predictions)
and a detail: the chosen feature map large beside its
kernel(s) and the chosen unit's receptive field on the input (`map_detail`), or "Why this and
not that" (`contrast_figure`). Click a map in the strip to choose it, a unit in the large map to
choose that unit; hovering a unit gives its receptive field in words.

Session state used here (all per user, reset by nothing but the user; "Clear" keeps them):
    presenter_layer, presenter_map   the chosen layer (segmented control) and map (slider)
    presenter_unit                   (layer, map, row, col) clicked, or absent: the map's strongest unit
    presenter_detail                 "Feature map" or "Why this, not that"
    presenter_kept                   a copy of the three above (widgets not drawn lose their state)
    presenter_other                  the digit compared with (None: the runner-up)
The chosen layer, map and detail are also in the page's URL (`lesson_link.sync_choice`).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import figures, lesson_link, presenter_figures
from app.resources import SESSION_MODEL, load_classifier, with_keras
from app.session import DETAILS, choose, keep_choice, read, restore_choice
from mnist_core.imaging.preprocess import Preprocessed
from mnist_core.reading.classifier import Classifier, Result
from mnist_core.reading.explain import contrast, map_kernels, receptive_fields

MAP_LAYERS = presenter_figures.MAP_LAYERS

# Type for a room. The farthest seat is ~8 m from a 2 m wide screen showing 1920 CSS px, so one
# px is 2000 / 1920 = 1.04 mm there. Rule: the x-height of the smallest text subtends at least
# 5 arc-minutes at 8 m (the size of a letter at the limit of normal acuity, 20/20, is 5'; the
# brief's 5-6'): 8000 mm * tan(5') = 11.6 mm = 11.2 px of x-height. The page's font (Source Sans)
# has an x-height of ~0.49 em, so the font size must be >= 11.2 / 0.49 = 23 px: TYPE_PX = 24 px at
# 1920 px (x-height ~11.8 px = 12.2 mm = 5.2' at 8 m). The screen is 2 m wide whatever its
# resolution, so the rule is an angle, i.e. a share of the viewport's width: 24 / 1920 = 1.25vw
# (16 px at 1280x720, the same 12 mm on the same screen). Plotly sizes its text in fixed px: what
# it still writes (the output's digits, hover) is presenter_figures.FONT = TYPE_PX, which is the
# minimum at 1920 and more than it at any narrower viewport.
TYPE_PX = 24
TYPE = f"{TYPE_PX / 1920 * 100:.4g}vw"
CSS = """
<style>
/* Presenter view: type for a room (TYPE, see app/tabs/presenter.py), little padding, one screen. */
.stMainBlockContainer {padding: 3.6rem 1rem 0.5rem; max-width: 100%}
.stMainBlockContainer *:not(svg, svg *) {font-size: max(TYPE, 1em) !important}
.stMainBlockContainer [data-testid="stCaptionContainer"] p {line-height: 1.45}
.st-key-presenter-side [data-testid="stMetricValue"], .st-key-presenter-side [data-testid="stMetricValue"] * {
  font-size: max(3.2rem, calc(2.7 * TYPE)) !important; line-height: 1.45}
/* no text box may overlap another: the slider's value sits above its thumb, clear of its label */
.st-key-presenter-side [data-testid="stSlider"] [data-testid="stWidgetLabel"] {margin-bottom: 1.1em}
[data-testid="stHorizontalBlock"]:has(> [data-testid="stLayoutWrapper"] .st-key-canvas) {gap: 1.5rem}
.st-key-presenter-side {gap: 0.35rem}
.st-key-presenter-panel {gap: 0.4rem}
.presenter-labels {display: flex; align-items: flex-end; text-align: center; line-height: 1.45}
.presenter-labels > div {overflow-wrap: anywhere}
.presenter-sub {color: #b8bec8}
/* The canvas scaled to the screen (CSS zoom: its drawing stays 280x280 canvas px, fabric.js maps
   the pointer by the element's size, so strokes, links and the 28x28 reading are unchanged), and
   its column (draw.py gives it the canvas's 280 px + 8) widened to match. */
@media (min-width: 1600px) and (min-height: 900px) {
  .st-key-canvas {zoom: 1.25}
  [data-testid="stHorizontalBlock"] > [data-testid="stLayoutWrapper"]:has(.st-key-canvas) {width: 358px !important; flex: 0 0 358px !important}
}
@media (min-width: 1900px) and (min-height: 1040px) {
  .st-key-canvas {zoom: 1.5}
  [data-testid="stHorizontalBlock"] > [data-testid="stLayoutWrapper"]:has(.st-key-canvas) {width: 428px !important; flex: 0 0 428px !important}
}
[data-testid="stHorizontalBlock"] > [data-testid="stLayoutWrapper"]:has(.st-key-canvas) [data-testid="stVerticalBlock"] {width: 100% !important}
</style>
""".replace("TYPE", TYPE)
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


def shown_models(models: list[str]) -> list[str]:
    """The networks the presenter shows: the one chosen, or both (LeNet-5 first) when both are."""
    return [name for name in ("lenet5", "mlp") if name in models] if len(models) > 1 else list(models[:1])


def _points(key: str) -> list[dict]:
    event = st.session_state.get(key)
    return list((event or {}).get("selection", {}).get("points") or [])


def _choose_from_strip() -> None:
    """A click on a map in the strip (LeNet-5's C1-S4): that map becomes the chosen one."""
    for point in _points("presenter-strip"):
        choice = presenter_figures.strip_choice(point)
        if choice:
            choose(*choice)
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
    """The presenter's CSS (type for a room, less padding, the canvas scaled to the screen)."""
    st.html(CSS)


def _maps(name: str, layer: str, acts: dict) -> np.ndarray:
    """A layer's maps as (H, W, C): LeNet-5's feature maps, or a dense layer as one grid of units."""
    values = acts[layer]
    if name == "lenet5":
        return values
    rows, columns = presenter_figures.UNIT_GRIDS[layer]
    return values.reshape(rows, columns, 1)


def _controls(names: list[str]) -> tuple[str, int, str]:
    """The detail's controls (under the canvas): Detail, then for a feature map its Layer (of
    every model shown) and Map. Returns (layer, map, detail); "Why this, not that" keeps the
    chosen layer and map for when the map comes back."""
    layers = [layer for name in names for layer in MAP_LAYERS[name]]
    if st.session_state.get("presenter_layer") not in layers:
        st.session_state["presenter_layer"] = presenter_figures.default_layer(names)
    if not 0 <= st.session_state.get("presenter_map", 0) < presenter_figures.MAP_COUNTS[st.session_state["presenter_layer"]]:
        st.session_state["presenter_map"] = 0  # e.g. C3's map 12 when C1 (6 maps) is chosen
    st.session_state.setdefault("presenter_detail", DETAILS[0])
    detail = st.segmented_control("Detail", DETAILS, key="presenter_detail", required=True,
                                  label_visibility="collapsed")
    layer, index = st.session_state["presenter_layer"], st.session_state.get("presenter_map", 0)
    if detail == DETAILS[0]:
        layer = st.segmented_control("Layer", layers, key="presenter_layer", required=True)
        count, index = presenter_figures.MAP_COUNTS[layer], 0
        if count > 1:
            index = st.select_slider("Map", list(range(count)), key="presenter_map")
    keep_choice()
    return layer, index, detail


def _detail_map(classifier: Classifier, name: str, result: Result, acts: dict, layer: str, index: int) -> None:
    """The chosen map large, beside its kernels, with the chosen unit's receptive field on the input."""
    fmap = _maps(name, layer, acts)[:, :, index]
    chosen = st.session_state.get("presenter_unit")
    if chosen and chosen[:2] == (layer, index) and chosen[2] < fmap.shape[0] and chosen[3] < fmap.shape[1]:
        unit = (int(chosen[2]), int(chosen[3]))
    else:
        unit = tuple(int(v) for v in np.unravel_index(int(fmap.argmax()), fmap.shape))
    sub = "<br><span class='presenter-sub'>{}</span>".format
    if name == "lenet5":
        fields = receptive_fields(classifier.model, layer, *fmap.shape)
        convolution, inputs, kernels = map_kernels(classifier, layer, index)
        source = "the input" if convolution == "C1" else "S2 map" + ("s " if len(inputs) > 1 else " ")
        on = f"on {source}" + (", ".join(str(i) for i in inputs) if convolution != "C1" else "")
        kernel_title = (f"<b>{convolution} kernel</b>" if len(inputs) == 1 else f"<b>{convolution} kernels</b> ({len(inputs)})")
        kernel_title += sub((f"of {convolution} map {index}, " if layer != convolution else "") + on)
        map_title = f"<b>{layer} map {index}</b>"
    else:
        fields = np.broadcast_to(np.array([0, 0, 28, 28]), fmap.shape + (4,))
        unit_number = unit[0] * fmap.shape[1] + unit[1]
        weights = classifier.kernels(layer)[:, unit_number]  # (784,) or (512,)
        shape = (28, 28) if layer == "hidden1" else presenter_figures.UNIT_GRIDS["hidden1"]
        kernels = weights.reshape(shape + (1,)).astype(np.float32)
        kernel_title, map_title = f"<b>unit {unit_number}'s weights</b>", f"<b>{layer}</b> units"
    titles = [map_title, kernel_title, "<b>input</b>" + sub("the unit's receptive field")]
    st.html(presenter_figures.labels_html(titles, *presenter_figures.DETAIL, margin=4))
    st.plotly_chart(presenter_figures.map_detail(layer, index, fmap, unit, fields, kernels, result.input28),
                    config=figures.CONFIG, key="presenter-detail", on_select=_choose_unit, selection_mode="points")
    top, left_col, bottom, right_col = (int(v) for v in fields[unit])
    st.caption(f"{SENTENCES[layer]} The boxed unit ({unit[0]}, {unit[1]}) fires {fmap[unit]:.2f} and sees input "
               f"rows {top}–{bottom - 1}, columns {left_col}–{right_col - 1}: click another unit, or hover one.")


def why_not(classifier: Classifier, result: Result, key: str, side=None, presenting: bool = False) -> None:
    """Why this and not that: saliency of the answer and of another digit (the runner-up unless
    the user picks one, with pills in `side`, or here), their difference over the digit, and one
    sentence on how to read it. `presenting`: titles in HTML above the figure, in the room's type."""
    second = result.runner_up
    options = [d for d in range(10) if d != result.label]
    with side or st.container():
        picked = st.pills("Compare with (none picked: the runner-up)", options, key=key,
                          format_func=lambda d: f"{d} · runner-up" if d == second else str(d))
    other = picked if picked in options else second
    c = contrast(classifier, result.input28, result.label, other)
    if presenting:
        st.html(presenter_figures.labels_html(presenter_figures.contrast_titles(c.label, c.other),
                                              *presenter_figures.CONTRAST, margin=4))
    st.plotly_chart(presenter_figures.contrast_figure(c.label, c.other, c.label_map, c.other_map, c.difference,
                                                      result.input28, titles=not presenting),
                    config=figures.CONFIG, key=f"{key}-chart")
    st.caption(f"Red: where more ink would raise the score of {c.label} (left) or {c.other} (middle); the right "
               f"picture is the difference: red pixels argue for {c.label} over {c.other}, blue ones for "
               f"{c.other}, and the grey line is the digit's outline.")


def _kind(name: str, classifier: Classifier) -> str:
    """The architecture ("lenet5" or "mlp") of model `name`: this session's trained model is either."""
    return classifier.kind if name == SESSION_MODEL else name


def _strip(name: str, kind: str, index: int, input28: np.ndarray, acts: dict,
           probabilities: np.ndarray | None) -> None:
    """One model's strip under its titles; the first one shown (`index` 0) takes clicks on its maps."""
    click = kind == "lenet5" and probabilities is not None
    st.markdown(f"**{figures.MODEL_LABELS[name]}**: every layer, input to output."
                + (" Click a map to see it large." if click else ""))
    st.html(presenter_figures.strip_titles(kind))
    chart = dict(on_select=_choose_from_strip, selection_mode="points") if click and index == 0 else {}
    st.plotly_chart(presenter_figures.layer_strip(kind, input28, acts, probabilities), config=figures.CONFIG,
                    key="presenter-strip" if index == 0 else f"presenter-strip-{name}", **chart)


def render(models: list[str], digit, side) -> Preprocessed | None:
    """The presenter view for `digit` (a `session.Digit`, not None): the Prediction(s) and the
    controls in `side` (a container under the canvas), each shown network's strip and the detail
    where this is called. With both models chosen both are shown (their strips one above the
    other) and the detail is of the model whose layer is chosen. Returns the preprocessing steps
    (None when no model can be loaded)."""

    shown, kinds = {}, {}
    for name in shown_models(models):
        classifier, error = load_classifier(name)
        if classifier is None:
            st.error(error)
        else:
            shown[name], kinds[name] = (classifier, read(name, digit)[0]), _kind(name, classifier)
    if not shown:
        return None
    first = next(iter(shown.values()))[1]
    if first.label is None:
        st.warning(first.reason)
        return first.preprocessed
    restore_choice()
    side = side.container(key="presenter-side")
    with side:
        columns = st.columns(len(shown), gap="small") if len(shown) > 1 else [st.container()]
        for (name, (_, result)), column in zip(shown.items(), columns):
            with column:
                st.metric("Prediction" if len(shown) == 1 else figures.MODEL_LABELS[name], str(result.label),
                          delta=f"{result.confidence:.0%} confident", delta_color="off", delta_arrow="off")
    acts = {name: classifier.activations(result.input28) for name, (classifier, result) in shown.items()}
    with side:  # after the Prediction is on its way to the browser
        layer, index, detail = _controls(list(kinds.values()))
    lesson_link.sync_choice(layer, index, detail)
    owner = next(name for name in shown if layer in MAP_LAYERS[kinds[name]])
    classifier, result = shown[owner]
    with st.container(key="presenter-panel"):
        for i, (name, (_, reading)) in enumerate(shown.items()):
            _strip(name, kinds[name], i, reading.input28, acts[name], reading.probabilities)
        error = with_keras(owner)  # kernels, receptive fields, gradients: TensorFlow, loaded once per server
        if error:
            st.error(error)
        elif detail == DETAILS[1]:
            why_not(classifier, result, "presenter_other", side, presenting=True)
        else:
            _detail_map(classifier, kinds[owner], result, acts[owner], layer, index)
    return result.preprocessed


def render_blank(models: list[str]) -> None:
    """Before anything is drawn: the network's strip for an empty input (it also loads the
    charting code in the browser while the user draws). Not when a lesson link could not be
    opened: its one line says so, and an empty network would look like the lesson's."""
    if lesson_link.problem():
        return
    name = shown_models(models)[0]
    classifier, _ = load_classifier(name)
    if classifier is None:
        return
    blank = np.zeros((28, 28), np.float32)
    with st.container(key="presenter-panel"):
        _strip(name, _kind(name, classifier), 0, blank, classifier.activations(blank), None)
    # A hidden metric: the browser fetches the metric's code now, not on the first stroke.
    st.html("<style>.st-key-presenter-metric-preload {display: none}</style>")
    with st.container(key="presenter-metric-preload"):
        st.metric("preload", "0")
