"""A canvas for every hand: the drawing surface with nothing over it, and labelled Undo, Redo and
Clear buttons under it. Used by the Draw and Numbers tabs (`show`).

streamlit-drawable-canvas 0.13 puts its own toolbar (undo, redo, reset... as unlabelled icons)
in a box at the canvas's top right: opacity 0 until the mouse hovers the canvas, and 46 px tall
from 16 px above the canvas, so its invisible buttons sat over the top 30 px of the drawing's
right half and took the strokes that started there (every finger stroke, as a finger does not
hover; a mouse stroke right after "Clear"). The component has no argument to leave it out (only
`disabled`, which also makes the canvas read-only), so `_without_toolbar` registers the
component again, with the same JS file and its stylesheet plus one rule that hides the toolbar.

Undo and Redo work from the Python side: the strokes are the fabric.js objects of the canvas's
value (`json_data`); Undo sends the canvas an `initial_drawing` with the last object taken off
(kept for Redo), Redo one with it put back. A new initial drawing makes the browser's canvas
load it and send it back, with its PNG, at once. Until then the value in session state holds
the objects and, when the canvas has sent that same drawing before, its PNG (kept for the last
`PNG_MEMORY` drawings); otherwise no PNG (the Draw tab waits for the browser's, the Numbers tab
reads the strokes).

Session state used here (all per user), for a canvas whose widget key is `key`:
    key              the canvas widget's value (set by the browser, and by the buttons).
    {key}_clears     int, bumped by "Clear": part of the initial drawing, so the browser's canvas
                     reloads it (empty) without being remounted.
    {key}_history    {"shown": the objects of the last initial drawing Undo/Redo sent, or None
                     (the tab's own initial objects); "loads": int, bumped by Undo and Redo (part
                     of the initial drawing); "undone": the objects Undo took off, last first to
                     come back; "count": how many objects the canvas held after the last Undo or
                     Redo (a different count means the user drew since: nothing to redo then);
                     "pngs": {digest of objects: PNG data URL} of drawings the browser sent}.
    {key}_problem    one line: why the value the browser last sent was set aside (`checked`), until shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from mnist_core.pen.canvas_paths import drawing_problem

COMPONENT = "streamlit-drawable-canvas.streamlit_drawable_canvas"  # the name the package registers
NO_TOOLBAR = ".dc-toolbar { display: none !important; }"  # beats the inline display:flex the JS sets
PNG_MEMORY = 24  # drawings whose PNG is kept, per canvas, so that Undo and Redo can show them at once
BUTTON_CSS = """<style>
.st-key-{prefix}canvas_controls button {{ min-height: 3rem; padding-left: 0.75rem; padding-right: 0.75rem; }}
</style>"""


def canvas_value(png: bytes | None, objects: list | None = None) -> dict:
    """A value of the canvas widget as its browser side sends it: the fabric.js drawing and the
    canvas as a PNG data URL (None for an empty canvas)."""
    data = None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return _value(objects or [], data)


def _value(objects: list, data: str | None) -> dict:
    return {"drawing": {"raw": {"objects": list(objects), "background": "#000000"}, "data": data}}


def objects(key: str) -> list:
    """The fabric.js objects (strokes) on canvas `key`, as its value in session state holds them."""
    value = st.session_state.get(key) or {}
    return list((((value.get("drawing") or {}).get("raw")) or {}).get("objects") or [])


def checked(key: str) -> None:
    """Check canvas `key`'s value as the browser sent it before anything reads it (a client can
    send anything: `canvas_paths.drawing_problem` bounds it): one that cannot be a drawing is
    replaced by an empty canvas, and why is kept for `show` to say in one line."""
    problem = drawing_problem(st.session_state.get(key))
    if problem:
        st.session_state[key] = canvas_value(None)
        st.session_state[f"{key}_problem"] = (f"The canvas sent something that is not a drawing ({problem}); "
                                              "it was set aside. Draw again.")


def _digest(objects: Sequence) -> str:
    return hashlib.md5(json.dumps(list(objects), sort_keys=True, default=str).encode()).hexdigest()


def _history(key: str) -> dict:
    return st.session_state.setdefault(f"{key}_history", {"shown": None, "loads": 0, "undone": [], "count": None,
                                                          "pngs": {}})


def _remember(key: str, history: dict) -> None:
    """Keep the PNG of the drawing the browser last sent, and drop the redo stack once the user
    has drawn since the last Undo or Redo."""
    strokes = objects(key)
    if history["count"] is not None and len(strokes) != history["count"]:
        history["undone"].clear()
        history["count"] = None
    data = ((st.session_state.get(key) or {}).get("drawing") or {}).get("data")
    if strokes and data:
        pngs, digest = history["pngs"], _digest(strokes)
        pngs.pop(digest, None)
        pngs[digest] = data  # last in, last to go
        while len(pngs) > PNG_MEMORY:
            pngs.pop(next(iter(pngs)))


def _load(key: str, strokes: list) -> None:
    """Send the canvas `strokes` as a new initial drawing (see the module's docstring)."""
    history = _history(key)
    history["shown"] = strokes
    history["loads"] += 1
    history["count"] = len(strokes)
    st.session_state[key] = _value(strokes, history["pngs"].get(_digest(strokes)) if strokes else None)


def undo(key: str, on_edit: Callable[[], None] | None = None) -> None:
    """Take the last stroke off canvas `key` (it can come back with `redo`)."""
    strokes = objects(key)
    if not strokes:
        return
    _history(key)["undone"].append(strokes[-1])
    _load(key, strokes[:-1])
    if on_edit:
        on_edit()


def redo(key: str, on_edit: Callable[[], None] | None = None) -> None:
    """Put back the stroke the last `undo` took off canvas `key`."""
    history = _history(key)
    if not history["undone"]:
        return
    _load(key, objects(key) + [history["undone"].pop()])
    if on_edit:
        on_edit()


def clear(key: str, on_edit: Callable[[], None] | None = None) -> None:
    """Empty canvas `key`; its undo and redo history goes too."""
    st.session_state[f"{key}_clears"] = st.session_state.get(f"{key}_clears", 0) + 1
    history = _history(key)
    history.update(shown=None, undone=[], count=None)
    st.session_state[key] = canvas_value(None)  # this run already sees an empty canvas
    if on_edit:
        on_edit()


def can_undo(key: str) -> bool:
    return bool(objects(key))


def can_redo(key: str) -> bool:
    return bool(_history(key)["undone"])


def _without_toolbar() -> None:
    """Register the canvas component again, its stylesheet followed by `NO_TOOLBAR` (see the
    module's docstring). Once per Streamlit runtime; the package's registration must come first
    (its import), as this one replaces it."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager

    import streamlit_drawable_canvas

    manager = get_bidi_component_manager()
    definition = manager.get(COMPONENT)
    if definition is not None and NO_TOOLBAR in (definition.css_content or ""):
        return
    build = Path(streamlit_drawable_canvas.__file__).parent / "frontend" / "build"
    css = "\n".join(path.read_text() for path in sorted(build.glob("index-*.css"))) + "\n" + NO_TOOLBAR + "\n"
    html = definition.html if definition is not None and definition.html else '<div class="canvas-root"></div>'
    registry_log = logging.getLogger("streamlit.components.v2.component_registry")
    quiet = _Replacing()
    registry_log.addFilter(quiet)  # "already registered, overwriting": on purpose here
    try:
        st.components.v2.component(COMPONENT, js="index-*.js", css=css, html=html, isolate_styles=True)
    finally:
        registry_log.removeFilter(quiet)


class _Replacing(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage().startswith(f"Component {COMPONENT} is already registered"))


def show(key: str, *, width: int, height: int, brush: int, initial_objects: Sequence = (),
         on_change: Callable[[], None] | None = None, on_edit: Callable[[], None] | None = None,
         prefix: str = ""):
    """Canvas `key` (white ink on black, `width` x `height` px, a `brush`-px pencil, nothing over
    it) and, under it, the Undo, Redo and Clear buttons (keys `{prefix}undo`, `{prefix}redo`,
    `{prefix}clear`). Returns the component's `CanvasResult`.

    initial_objects: fabric.js objects the canvas starts with (and comes back to after Clear)
                     until Undo or Redo is used (the Draw tab: an opened lesson link's strokes).
    on_change:       called when the browser sends a new drawing (a stroke).
    on_edit:         called after Undo, Redo or Clear changed the drawing.
    """
    # Imported here: the package registers its component on import, which needs a running
    # Streamlit (or AppTest); this module's helpers are also imported by tests outside one.
    from streamlit_drawable_canvas import st_canvas

    _without_toolbar()
    checked(key)
    problem = st.session_state.pop(f"{key}_problem", None)
    history = _history(key)
    _remember(key, history)
    shown = history["shown"] if history["shown"] is not None else list(initial_objects)
    initial = {"objects": shown, "clears": st.session_state.get(f"{key}_clears", 0), "loads": history["loads"]}
    result = st_canvas(stroke_width=brush, stroke_color="#FFFFFF", background_color="#000000", height=height,
                       width=width, drawing_mode="freedraw", update_streamlit=True, initial_drawing=initial,
                       return_image_data=True, key=key, on_change=on_change)
    st.html(BUTTON_CSS.format(prefix=prefix))
    with st.container(horizontal=True, key=f"{prefix}canvas_controls", gap="small"):
        st.button("Undo", icon=":material/undo:", key=f"{prefix}undo", on_click=undo, args=(key, on_edit),
                  disabled=not can_undo(key), help="Take the last stroke off")
        st.button("Redo", icon=":material/redo:", key=f"{prefix}redo", on_click=redo, args=(key, on_edit),
                  disabled=not can_redo(key), help="Put back the stroke Undo took off")
        st.button("Clear", icon=":material/ink_eraser:", key=f"{prefix}clear", on_click=clear,
                  args=(key, on_edit))
    if problem:
        st.warning(problem, icon=":material/block:")
    return result
