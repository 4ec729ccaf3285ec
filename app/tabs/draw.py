"""The Draw tab: a canvas (or an uploaded photo), the prediction, and what the model sees.

The tab body is one `st.fragment`: a stroke reruns only this function, not the page. It also
records the digit being read in `st.session_state["digit"]`, which the Network tab reads on
its next run (see the comment on `st.tabs` in `app/streamlit_app.py`).

Session state used here (all per user):
    canvas             the canvas widget's value (set by the browser; "Undo", "Redo" and "Clear"
                       change it).
    canvas_clears      int, bumped by "Clear"; canvas_history: the strokes Undo took off, for Redo
                       (both `app/canvas.py`).
    input_source       "canvas", "upload" or "camera": whichever the user touched last is read.
    upload_cache       the decoded upload or camera photo (or its error), keyed by the file's id,
                       and the marks in it that could be the digit (boxes as shares of its size).
    mark:<file id>     which of those marks the person says is the digit (1, the likeliest, by default).
    readings           the latest digit's key and each model's `Result` for it.
    digit              the `Digit` being read, or None.
    input28            its (28, 28) float32 model input, or None when there is nothing to read
                       (read by the Data and Learn tabs through `app.data_cache.current_drawing`).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import streamlit as st

from app import canvas, classes, feedback, figures, lesson_link
from app.canvas import canvas_value  # noqa: F401  (tests import it from here to build canvas values)
from app.uploads import LIMITS, MAX_UPLOAD_MB, MAX_UPLOAD_PIXELS, UPLOAD_TYPES, decoded, read_from  # noqa: F401  (the limits, for tests)
from app.resources import load_classifier
from app.session import CANVAS_KEY, Digit, read
from app.tabs import presenter
from mnist_core.imaging.preprocess import Preprocessed, preprocess
from mnist_core.pen import lesson

CANVAS_PX = 280
HINT = "Draw a digit, 0 to 9, in the black square. The models read it as soon as you lift the pen."
UNSURE_HELP = ("The two likeliest digits are shown when the model's calibrated confidence is below the level at "
               "which its answers were right 99.5 % of the time on real drawings of populations it never trained "
               "on; on a population new to it, its sure answers were right 98-100 % of the time.")


def _edited() -> None:
    """After Undo, Redo or Clear: the canvas is read again, and no longer holds an opened link's drawing."""
    st.session_state["input_source"] = "canvas"
    lesson_link.forget_opened()


def _use_canvas() -> None:
    st.session_state["input_source"] = "canvas"


def _canvas_input() -> tuple[Digit | None, dict | None]:
    """The drawing the browser last sent: the canvas widget's value in session state, read before
    the canvas is drawn again (see `_panel`), through the component's own `CanvasResult`. Returns
    the drawing as a Digit (None while the canvas is empty) and its fabric.js JSON (its strokes,
    for the lesson link). An opened lesson link's drawing is read from its strokes until the
    browser's canvas sends it back."""
    from streamlit_drawable_canvas import CanvasResult

    canvas.checked(CANVAS_KEY)  # a forged value is set aside before anything reads it
    value = st.session_state.get(CANVAS_KEY)
    opened = lesson_link.opened_drawing()
    if not value and opened:  # a lesson link's first run: the canvas shows its strokes, not sent yet
        return Digit(opened["ink"], "canvas", "the lesson's drawing", "link:" + opened["text"]), \
            {"objects": lesson.fabric_objects(opened["drawing"])}
    drawing = (value or {}).get("drawing") or {}
    result = CanvasResult(json_data=drawing.get("raw"), image_data_url=drawing.get("data"), return_image_data=True)
    if not (result.json_data or {}).get("objects"):
        return None, result.json_data
    png = result.image_bytes
    if not png and opened:  # a link's drawing before the browser's canvas sent anything: read its strokes
        return Digit(opened["ink"], "canvas", "the lesson's drawing", "link:" + opened["text"]), result.json_data
    if not png:
        return None, result.json_data
    digit = Digit(result.image_data, "canvas", "your drawing", "canvas:" + hashlib.md5(png).hexdigest())
    return digit, result.json_data


def _canvas_widget(brush: int) -> None:
    """The canvas and its Undo, Redo and Clear buttons (`app/canvas.py`; the value is read by
    `_canvas_input`). An opened lesson link's strokes are its initial drawing: a new initial
    drawing makes the browser's canvas load it and send it back; on the page's first load it only
    shows it."""
    opened = lesson_link.opened_drawing()
    objects = lesson.fabric_objects(opened["drawing"]) if opened else []
    canvas.show(CANVAS_KEY, width=CANVAS_PX, height=CANVAS_PX, brush=brush, initial_objects=objects,
                on_change=_use_canvas, on_edit=_edited)


def _upload_input() -> tuple[Digit | None, str | None]:
    """The uploaded image (the uploader's value in session state) as a Digit, or an error line,
    or (None, None). Decoded once per file."""
    source = "camera" if st.session_state.get("input_source") == "camera" else "upload"
    upload = st.session_state.get(source)
    if upload is None:
        return None, None
    cache = decoded(upload, "upload_cache")
    if cache["pixels"] is None:
        return None, cache["error"]
    return Digit(cache["pixels"], "upload", cache["name"], "upload:" + cache["id"]), None


def _mark_key() -> str:
    return "mark:" + (st.session_state.get("upload_cache") or {}).get("id", "")


def _pointed(digit: Digit | None) -> Digit | None:
    """The upload as the person pointed at it: read at the mark they chose (`mark:<file id>`), if
    not the likeliest. The marks are those of its first reading, so their numbers stay put."""
    marks = (st.session_state.get("upload_cache") or {}).get("marks", ())
    choice = st.session_state.get(_mark_key()) or 1
    if digit is None or not 1 < choice <= len(marks):
        return digit
    top, left, bottom, right = marks[choice - 1]
    return replace(digit, near=((top + bottom) / 2, (left + right) / 2), key=f"{digit.key}:mark{choice}")


def _upload_widget() -> None:
    """The uploader, in an expander (its value is read by `_upload_input`)."""
    with st.expander("…or upload or take a photo of a digit",
                     expanded=st.session_state.get("upload") is not None or bool(st.session_state.get("use_camera"))):
        st.file_uploader("A photo or scan of one handwritten digit", type=UPLOAD_TYPES, key="upload",
                         max_upload_size=MAX_UPLOAD_MB, on_change=read_from,
                         args=("input_source", "upload", "upload"))
        st.caption(f"{LIMITS} A phone photo of a notebook works: shadows, ruled "
                   "and squared paper are taken out; the digit should be large and not at the edge.")
        if st.toggle("Take a photo with the camera", key="use_camera"):
            st.camera_input("Photograph one digit, large, on paper", key="camera", on_change=read_from,
                            args=("input_source", "camera", "camera"))


def _predictions(models: list[str], digit: Digit) -> tuple[Preprocessed, list]:
    """The Prediction metric for each model (side by side for two), and a place under each for its
    probability chart. Returns the preprocessing steps (from a model's Result, else from
    `preprocess` directly) and [(place, name, (10,) probabilities)] for `_probability_charts`."""
    readings = {name: read(name, digit) for name in models}
    steps = next((r.preprocessed for r, _ in readings.values() if r is not None), None)
    if steps is None:
        steps = preprocess(digit.pixels, digit.background, digit.near)
    if steps.empty:
        for _, error in readings.values():
            if error:
                st.error(error)
        st.warning(steps.empty_reason)
        return steps, []
    if steps.photo is not None and steps.photo.doubtful:  # more than one mark could be the digit: say so
        st.warning(f"{steps.photo.doubtful} If it is another, choose its number under “Finding the digit”.",
                   icon=":material/crop:")
    columns = st.columns(len(models), gap="large") if len(models) > 1 else [st.container()]
    charts = []
    for name, column in zip(models, columns):
        result, error = readings[name]
        with column:
            st.markdown(f"**{figures.MODEL_LABELS[name]}**")
            if error:
                st.error(error)
                continue
            if result.not_digit:  # no digit the model knows: one line, never a Prediction
                st.warning(result.reason)
            elif result.unsure:  # too close to call on held-out real drawings: say so, with both chances
                runner_up = result.probabilities[result.runner_up]
                st.metric("Prediction", f"{result.label} or {result.runner_up}?",
                          delta=f"{result.confidence:.0%} or {runner_up:.0%}: unsure", delta_color="off",
                          delta_arrow="off", help=UNSURE_HELP)
            else:
                st.metric("Prediction", str(result.label), delta=f"{result.confidence:.0%} confident",
                          delta_color="off", delta_arrow="off")
            charts.append((st.container(height=PROBABILITY_PX + 16, border=False), name, result.probabilities))
    return steps, charts


PROBABILITY_PX = 170


def _probability_charts(charts: list) -> None:
    """Each model's probability chart (Plotly), in the places `_predictions` left for them. Sent
    last: the browser takes tens of milliseconds to draw a Plotly chart, and the Prediction,
    sent before it, is painted first."""
    for place, name, probabilities in charts:
        with place:
            st.plotly_chart(figures.probability_bars(probabilities, height=PROBABILITY_PX), config=figures.CONFIG,
                            key=f"draw-probabilities-{name}")


STEP_TITLES = ("1 · drawing", "2 · crop", "3 · fit 20×20", "4 · centred 28×28")


PHOTO_TITLES = ("a · light flattened", "b · ink found", "c · lines removed (red)", "d · digit chosen")


MAX_MARKS = 6  # at most this many marks are offered as the digit


def _photo_steps(steps: Preprocessed, digit: Digit) -> None:
    """A photo's steps before the MNIST ones (from `mnist_core.imaging.photo`), and, when more than one
    mark could be the digit, a choice of which (numbered on the last picture)."""
    st.markdown("**Finding the digit in the photo**")
    cache = st.session_state.get("upload_cache") or {}
    photo = steps.photo
    if digit.near is None:  # the first reading's candidates, likeliest first, keep their numbers
        height, width = photo.grey.shape
        cache["marks"] = tuple((t / height, l / width, b / height, r / width)
                               for t, l, b, r in ((photo.box,) + photo.others)[:MAX_MARKS])
    marks = cache.get("marks", ())
    st.image(figures.photo_pictures(steps, marks if len(marks) > 1 else ()), caption=list(PHOTO_TITLES),
             output_format="PNG")
    if len(marks) > 1:
        st.segmented_control("Which mark is the digit?", range(1, len(marks) + 1), default=1, key=_mark_key(),
                             format_func=lambda n: f"{n}" + (" (likeliest)" if n == 1 else ""),
                             help="The numbers are on the last picture. The one chosen is read (blue box).")
    st.caption("The paper's brightness is estimated at a large scale and divided out (shadows and the darker rim "
               "vanish), ink is what is darker than its surroundings (Sauvola's local threshold), printed lines "
               "are taken out by colour and by shape (long straight runs), and the digit is the likeliest mark "
               "(size, compactness, nearness to the centre; blue box, other candidates orange).")


def _what_the_model_sees(steps: Preprocessed, digit: Digit) -> None:
    st.subheader("What the model sees")
    if steps.photo is not None and steps.photo.box is not None and digit.source == "upload":
        _photo_steps(steps, digit)
    titles = ("1 · ink found" if digit.source == "upload" else STEP_TITLES[0],) + STEP_TITLES[1:]
    st.image(figures.preprocessing_pictures(steps), caption=list(titles), output_format="PNG")
    top, left_col, bottom, right_col = steps.bbox
    st.caption(f"MNIST's recipe: crop to the ink's bounding box (blue; {right_col - left_col} px wide, "
               f"{bottom - top} px tall), "
               "scale it to fit 20×20 keeping its shape, then place it in 28×28 so that its centre of mass "
               f"(red ×, now at row {steps.centre_of_mass[0]:.1f}, column {steps.centre_of_mass[1]:.1f}) sits "
               "on the centre (14, 14), where the red lines cross. The networks learned digits centred this way; "
               "an off-centre or oversized digit would look like nothing they have seen.")
    if st.toggle("Show the 28×28 input's pixel values", key="show_pixel_values",
                 help="The input as a chart: hover over a pixel to read its value, from 0 (black) to 1 (white)."):
        st.plotly_chart(figures.input_heatmap(steps.image), config=figures.CONFIG, key="input28-chart")


def _blank_input() -> None:
    """Before anything is drawn: the empty 28x28 grid the drawing will become."""
    st.subheader("What the model sees")
    st.image(np.zeros((28, 28), np.float32), width=180, clamp=True)
    st.caption("Your digit will appear here as the networks read it: 28×28 pixels, each a number from 0 to 1.")
    # A hidden metric: the browser fetches the metric's code now, not on the first stroke (measured
    # 490 ms instead of 270 ms for the first Prediction without it).
    st.html("<style>.st-key-metric-preload {display: none}</style>")
    with st.container(key="metric-preload"):
        st.metric("preload", "0")


@st.fragment
def _panel(models: list[str], brush: int) -> None:
    """The whole Draw tab: reruns on its own after each stroke (a fragment). In the presenter view
    (`app/tabs/presenter.py`) the right-hand side shows the network instead; the canvas, before
    it, stays where it is, so it stays mounted when the view changes."""
    steps, charts = None, []
    show_network = st.session_state.get("presenter", False)
    # The answer goes out before the canvas and the uploader are sent again: the page lays out
    # empty places for them, reads what the browser sent (session state), sends the Prediction,
    # and only then fills the places. The browser shows elements in the order they arrive:
    # mouse-up to the painted Prediction took a median 290 ms with the canvas first, 266 ms so.
    with st.container(horizontal=True, gap="large"):
        with st.container(width=CANVAS_PX + 8):
            if classes.joined():
                classes.prompt()  # the digit the class's form asks for
            canvas_place, link_notice, upload_place = st.container(), st.container(), st.container()
            side = st.container() if show_network else None  # the presenter's reading and controls
        answer = st.container()
    drawn, strokes = _canvas_input()
    uploaded, upload_error = _upload_input()
    uploaded = _pointed(uploaded)
    with answer:
        upload_failed = st.session_state.get("input_source") in ("upload", "camera") and upload_error is not None
        if upload_failed:
            st.error(upload_error)  # a drawing already on the canvas is still read below
        use_upload = st.session_state.get("input_source") in ("upload", "camera") and uploaded is not None
        digit = uploaded if use_upload else drawn
        if digit is None and not upload_failed:
            for name in models:  # a broken model is reported at once, not only after a drawing
                error = load_classifier(name)[1]
                if error:
                    st.error(error)
            st.info(HINT, icon=":material/draw:")
            if show_network:
                presenter.render_blank(models)
        elif digit is not None:
            if digit.source == "upload":
                st.caption(f"Reading **{digit.name}**. Draw on the canvas to read your drawing again.")
            if show_network:
                steps = presenter.render(models, digit, side)
            else:
                steps, charts = _predictions(models, digit)
                if classes.joined():  # "Keep it as a 3", into the class's data set
                    classes.render_keep(digit, steps, feedback.canvas_strokes(digit), _clear_after_keep)
                else:
                    feedback.render(models, digit, steps)  # "Was this right?": saves only on a click
    with canvas_place:
        st.caption("Draw a digit:")
        _canvas_widget(brush)
    if not show_network:  # the presenter's reading sits under the canvas: at 1280x720 it must stay on screen
        with upload_place:
            _upload_widget()
    readable = steps is not None and not steps.empty
    st.session_state["digit"] = digit
    st.session_state["input28"] = steps.image if readable else None
    if show_network:
        presenter.style()
    elif readable:
        _what_the_model_sees(steps, digit)
    elif digit is None:
        _blank_input()
    # After the answer, which is what the user waits for: the URL holds the drawing (a lesson as a
    # link); a link that could not be opened is said under the canvas.
    lesson_link.sync_drawing(strokes)
    if lesson_link.problem():
        link_notice.warning(lesson_link.problem(), icon=":material/link_off:")
    _probability_charts(charts)


def _clear_after_keep() -> None:
    """A drawing was kept for the class: an empty canvas for the next digit asked for."""
    canvas.clear(CANVAS_KEY, _edited)


def render(models: list[str], brush: int = 20, *args) -> None:
    """models: names from mnist_core.MODEL_NAMES chosen in the sidebar ("mlp", "lenet5");
    brush: the brush width in canvas pixels. In a class (`app/classes.py`), its banner first."""
    classes.show_notice()
    if classes.joined():
        classes.banner()
    _panel(models, brush)
