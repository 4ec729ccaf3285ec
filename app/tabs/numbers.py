"""The Numbers tab: write a number on a wide canvas; it is split into digits and each is read.

The tab body is one `st.fragment`, so a stroke reruns only this tab. It runs on every full rerun
too, even when another tab is shown (like Draw: its canvas must stay mounted to keep the user's
strokes), which costs little: a reading is kept for the drawing it was made of.

What is read: the canvas's vector strokes (`json_data`, fabric.js paths, turned into pen paths by
`mnist_core.pen.canvas_paths`), grouped into digits by their horizontal overlap and read by
`mnist_core.reading.numbers.read_strokes`; without usable vector data, the canvas's PNG through
`read_image`. A photo or scan of a number (uploaded, or taken with the camera) is read by
`read_image` through the photo path (`mnist_core.imaging.photo`: light flattened, printed lines
removed). No number (no ink, a scribble, more than 12 digits, digits read with little
confidence) gives one warning line, never a traceback.

"Was this right?" (`_feedback`, under the readings): "Yes, it's 42", or the right number typed,
one digit per box; then each digit's 28x28 input is saved to the collection with its digit, as
the Draw tab saves a drawing (`app/feedback.py`). A typed number with another count of digits
saves nothing and gets one line.

Session state used here (all per user):
    numbers_canvas         the canvas widget's value (set by the browser; "Clear" empties it).
    numbers_canvas_clears  int, bumped by "Clear"; numbers_canvas_history: the strokes Undo took off,
                           for Redo (both `app/canvas.py`).
    numbers_readings       the latest drawing's key and each model's NumberReading of it.
    numbers_source         "canvas", "upload" or "camera": whichever the user touched last is read.
    numbers_upload_cache   the decoded upload or camera photo (or its error), keyed by the file's id.
    numbers_feedback_digits  the typed right number (emptied once it is handled).
    numbers_feedback_note  one line to show after a typed number that could not be saved.
    numbers_saved          {drawing key: the number saved}; each digit is also in `feedback.saved()`
                           as "{drawing key}#{k}".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app import canvas, feedback, figures, number_figures
from app.resources import load_classifier
from app.uploads import LIMITS, MAX_UPLOAD_MB, UPLOAD_TYPES, decoded, read_from
from mnist_core.imaging.preprocess import ink_mask
from mnist_core.pen.canvas_paths import FabricPathError, brush_width, strokes_from_fabric
from mnist_core.pen.strokes import render_strokes
from mnist_core.reading.numbers import MAX_DIGITS, NumberReading, read_image, read_strokes

CANVAS_KEY = "numbers_canvas"  # tests supply a drawing by setting st.session_state[CANVAS_KEY]
# 800 px: the main column of a 1280 px wide window with the sidebar open is 820 px (980 less
# Streamlit's 80 px padding each side), and 840 px overflowed it. The component draws at exactly
# this size (the reader works in its pixels), so it is not scaled with CSS.
CANVAS_WIDTH, CANVAS_HEIGHT = 800, 280
HINT = (f"Write a number of up to {MAX_DIGITS} digits side by side in the black strip, about as tall as the strip "
        "allows. Each digit is read as soon as you lift the pen.")


@dataclass(frozen=True)
class Written:
    """What is on the wide canvas.

    strokes:    the pen paths ((K, 2) x, y canvas pixels), or None when the vector data could not
                be read, or for a photo (then `image` is read instead).
    width:      the brush width in canvas pixels.
    image:      the canvas as (280, 800, 4) uint8 RGBA (white ink on black), or a photo's
                (H, W[, C]) uint8 pixels, or None.
    key:        identifies the drawing, for the per-session readings cache.
    background: the image's paper colour: 0.0 for the canvas, None for a photo (the photo path finds it).
    """

    strokes: list[np.ndarray] | None
    width: float
    image: np.ndarray | None
    key: str
    background: float | None = 0.0

    @property
    def source(self) -> str:
        """What the collection calls it: "canvas", or "upload" for a photo (uploaded or from the camera)."""
        return "upload" if self.background is None else "canvas"

    def ink(self) -> np.ndarray:
        """(h, w) float32 in [0, 1], 1 = ink, for display: the canvas's (280, 800), or a photo's ink
        in the photo path's working grid (where the digits' boxes are)."""
        if self.image is not None:
            return ink_mask(self.image, self.background)
        return render_strokes(self.strokes or [], (CANVAS_HEIGHT, CANVAS_WIDTH), self.width)


def _written(brush: int) -> Written | None:
    """Show the canvas and its Undo, Redo and Clear buttons; what is written, or None while it is empty."""
    result = canvas.show(CANVAS_KEY, width=CANVAS_WIDTH, height=CANVAS_HEIGHT, brush=brush, prefix="numbers_",
                         on_change=_use_canvas, on_edit=_use_canvas)
    objects = (result.json_data or {}).get("objects") or []
    if not objects:
        return None
    png = result.image_bytes
    image = result.image_data if png else None
    try:
        strokes = strokes_from_fabric(objects)
        width = brush_width(objects, brush)
    except FabricPathError:
        strokes, width = None, float(brush)
    if strokes is None and image is None:
        return None
    digest = hashlib.md5(json.dumps(objects, sort_keys=True, default=str).encode())
    digest.update(png or b"")
    return Written(strokes, width, image, "numbers:" + digest.hexdigest())


def read(name: str, written: Written) -> tuple[NumberReading | None, str | None]:
    """Model `name`'s reading of the number: (NumberReading, None), or (None, a one-line error)
    when the model cannot be loaded. Kept in session state for the latest drawing only."""
    classifier, error = load_classifier(name)
    if classifier is None:
        return None, error
    memo = st.session_state.setdefault("numbers_readings", {})
    if memo.get("key") != written.key:
        memo.clear()
        memo["key"] = written.key
    if name not in memo:
        reading = None
        if written.strokes:
            try:
                reading = read_strokes(written.strokes, classifier.classify_batch, width=written.width,
                                       not_digit_below=classifier.not_digit_below)
            except ValueError:  # strokes it cannot use: the pixels still say what was drawn
                reading = None
        if reading is None and written.image is not None:
            reading = read_image(written.image, classifier.classify_batch, background=written.background,
                                 not_digit_below=classifier.not_digit_below)
        if reading is None and written.strokes is not None:  # no pen strokes and no pixels: no ink
            reading = read_strokes([], classifier.classify_batch)
        memo[name] = reading
    if memo[name] is None:
        return None, "The drawing could not be read: clear the canvas and write the number again."
    return memo[name], None


def _show(name: str, reading: NumberReading, written: Written, width: int) -> None:
    """One model's reading: the number large (or the reason in one line), the drawing with each
    digit's box, and the 28x28 each digit was read from; `width`: the drawing's width on the page."""
    if reading.number is not None:
        lowest = min(d.confidence for d in reading.digits)
        count = len(reading.digits)
        st.metric("Number", reading.number, delta=f"{count} digit{'s' if count > 1 else ''} · lowest confidence "
                  f"{lowest:.0%}", delta_color="off", delta_arrow="off")
    else:
        st.warning(reading.reason)
    if not reading.digits:
        return
    boxes = number_figures.number_boxes(written.ink(), reading.digits, width)
    st.plotly_chart(boxes, config=figures.CONFIG, key=f"numbers-boxes-{name}", width=boxes.layout.width)
    inputs = number_figures.digit_inputs(reading.digits, tile_px=72 if width >= CANVAS_WIDTH else 60)
    st.plotly_chart(inputs, config=figures.CONFIG, key=f"numbers-inputs-{name}", width=inputs.layout.width)
    st.caption("Each digit's box on your drawing, with the digit read over its confidence (a narrow digit's "
               "confidence is under its 28×28 and in the hover), and the 28×28 image the model read it from: the "
               "digit's own ink, fitted into 20×20 and centred by its centre of mass, as MNIST's digits were. A red "
               f"box is read with less than {number_figures.LOW_CONFIDENCE:.0%} confidence.")


TYPED_KEY, NOTE_KEY, SAVED_KEY = "numbers_feedback_digits", "numbers_feedback_note", "numbers_saved"


def _digit_keys(written: Written, count: int) -> list[str]:
    return [f"{written.key}#{k}" for k in range(count)]


def _save_number(written: Written, reading: NumberReading, number: str) -> None:
    """Save each digit of `reading` with its digit of `number` (as many digits); digits already saved
    (before a failed save) are not saved twice."""
    images = np.stack([d.image28 for d in reading.digits])
    mine = feedback.saved()
    for key, image, label, answer in zip(_digit_keys(written, len(number)), images, number,
                                         feedback.answers(images)):
        if key not in mine and not feedback.save_drawing(key, image, int(label), predictions=answer,
                                                         source=written.source):
            return
    st.session_state.setdefault(SAVED_KEY, {})[written.key] = number


def _save_typed(written: Written, reading: NumberReading) -> None:
    """The number typed in "No, it's…": saved if it has a digit for each box, else one line."""
    typed = "".join(str(st.session_state.get(TYPED_KEY) or "").split())
    st.session_state[TYPED_KEY] = ""
    count = len(reading.digits)
    if not typed:
        return
    if not set(typed) <= set("0123456789"):
        st.session_state[NOTE_KEY] = ("Not saved: type the number with the digits 0-9 only, one for each "
                                      f"{_boxes(count)}.")
    elif len(typed) != count:
        st.session_state[NOTE_KEY] = (f"Not saved: you typed {len(typed)} digit{'s' if len(typed) > 1 else ''} and "
                                      f"{count} {'were' if count > 1 else 'was'} read; type one digit for each box, "
                                      "or write the number again.")
    else:
        _save_number(written, reading, typed)


def _boxes(count: int) -> str:
    return "box" if count == 1 else f"of the {count} boxes"


def _undo_number(written: Written) -> None:
    number = st.session_state.get(SAVED_KEY, {}).get(written.key)
    if number is None:
        return
    keys = _digit_keys(written, len(number))
    feedback.undo_saved(*keys)
    if not any(key in feedback.saved() for key in keys):
        st.session_state[SAVED_KEY].pop(written.key, None)


def _feedback(written: Written, readings: list[NumberReading]) -> None:
    """"Was this right?" for the readings shown (one "Yes" per distinct number read, in model
    order; "No, it's…" corrects the first model's digits), then "Saved" with an Undo."""
    feedback.show_error()
    note = st.session_state.pop(NOTE_KEY, None)
    if note:
        st.warning(note)
    readings = [r for r in readings if r is not None and r.digits]
    if not readings:
        return
    with st.container(key="numbers_feedback"):
        number = st.session_state.get(SAVED_KEY, {}).get(written.key)
        if number is not None:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f":material/check_circle: Saved as **{number}**, digit by digit. Thank you!")
                st.button("Undo", key="numbers_feedback_undo", on_click=_undo_number, args=(written,))
            return
        offered = {}
        for reading in readings:
            if reading.number is not None:
                offered.setdefault(reading.number, reading)
        st.markdown("**Was this right?**")
        with st.container(horizontal=True, gap="small"):
            for number, reading in offered.items():
                st.button(f"Yes, it's {number}", key=f"numbers_feedback_yes_{number}", type="primary",
                          on_click=_save_number, args=(written, reading, number))
            count = len(readings[0].digits)
            with st.popover("No, it's another number"):
                st.text_input(f"The right number, one digit for each {_boxes(count)}", key=TYPED_KEY,
                              max_chars=2 * count + 8, on_change=_save_typed, args=(written, readings[0]))
        st.caption(feedback.KEPT_DIGITS)


def _use_canvas() -> None:
    st.session_state["numbers_source"] = "canvas"


def _photographed() -> tuple[Written | None, str | None]:
    """The uploader's or camera's photo (whichever was touched last), or an error line, or (None, None)."""
    widget = {"upload": "numbers_upload", "camera": "numbers_camera"}.get(st.session_state.get("numbers_source"))
    upload = st.session_state.get(widget) if widget else None
    if upload is None:
        return None, None
    cache = decoded(upload, "numbers_upload_cache")
    if cache["pixels"] is None:
        return None, cache["error"]
    return Written(None, 0.0, cache["pixels"], "numbers-upload:" + cache["id"], background=None), None


def _upload_widget() -> None:
    with st.expander("…or upload or take a photo of a number", expanded=st.session_state.get("numbers_source")
                     in ("upload", "camera")):
        st.file_uploader("A photo or scan of a handwritten number", type=UPLOAD_TYPES, key="numbers_upload",
                         max_upload_size=MAX_UPLOAD_MB, on_change=read_from,
                         args=("numbers_source", "upload", "numbers_upload"))
        st.caption(f"{LIMITS} Digits side by side, each large; shadows, ruled and squared paper are taken out.")
        if st.toggle("Take a photo with the camera", key="numbers_use_camera"):
            st.camera_input("Photograph the number, large, on paper", key="numbers_camera", on_change=read_from,
                            args=("numbers_source", "camera", "numbers_camera"))


@st.fragment
def _panel(models: list[str], brush: int) -> None:
    """The whole Numbers tab: reruns on its own after each stroke (a fragment)."""
    st.caption(HINT)
    drawn = _written(brush)
    _upload_widget()
    photographed, error = _photographed()
    if error:
        st.error(error)
    written = photographed or drawn  # a bad photo leaves the canvas's writing read
    if written is None:
        return
    if photographed is not None:
        st.caption(f"Reading **{st.session_state['numbers_upload_cache']['name']}**. "
                   "Write on the canvas to read your writing again.")
    readings = {name: read(name, written) for name in models}
    columns = st.columns(len(models), gap="large") if len(models) > 1 else [st.container()]
    for name, column in zip(models, columns):
        reading, error = readings[name]
        with column:
            st.markdown(f"**{figures.MODEL_LABELS[name]}**")
            if error:
                st.error(error)
            else:
                _show(name, reading, written, CANVAS_WIDTH if len(models) == 1 else CANVAS_WIDTH // 2 + 40)
    _feedback(written, [reading for reading, _ in readings.values()])


def render(models: list[str], brush: int = 20, *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5");
    brush: the brush width in canvas pixels."""
    _panel(models, brush)
