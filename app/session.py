"""What several parts of the page share of one session's state: the digit being read and each
model's reading of it, the canvas's key, and the presenter's choice of layer, map and detail.

The Draw tab records the digit (`st.session_state["digit"]`); the Network tab, the presenter and
the save buttons (`app/feedback.py`) read it through `current_digit` and `read`. The presenter and
a lesson link (`app/lesson_link.py`) both set the presenter's choice through `choose`. Everything
is kept in `st.session_state`, so per user. This module imports no other part of the page but
`app.resources`, so that none of those imports another in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app.resources import load_classifier
from mnist_core.reading.classifier import Result

DETAILS = ("Feature map", "Why this, not that")  # short: two buttons side by side under the canvas
CHOICE = ("presenter_layer", "presenter_map", "presenter_detail")  # the teacher's choice (widget keys)
KEPT = "presenter_kept"  # a copy of CHOICE's values that outlives the widgets (see restore_choice)


@dataclass(frozen=True)
class Digit:
    """The image being read.

    pixels: (H, W), (H, W, 3) or (H, W, 4) uint8 or float array, anything `preprocess` takes.
    source: "canvas", "upload" or "example".
    name:   what to call it on the page ("your drawing", the file's name, ...).
    key:    identifies these pixels (a hash or the upload's id), for the per-session results cache.
    near:   where the person pointed at the digit in a photo, (row, col) as shares of its size, or None.

    `background` is the paper's colour when known: the canvas is black (its pixels come opaque,
    so the core would otherwise guess the background from the border, wrongly when it is inked).
    """

    pixels: np.ndarray
    source: str
    name: str
    key: str
    near: tuple[float, float] | None = None

    @property
    def background(self) -> float | None:
        return 0.0 if self.source == "canvas" else None


CANVAS_KEY = "canvas"  # tests supply a drawing by setting st.session_state[CANVAS_KEY] (see canvas_value)


def current_digit() -> Digit | None:
    """The digit the Draw tab is reading for this session, or None (empty canvas, bad upload)."""
    return st.session_state.get("digit")


def read(name: str, digit: Digit) -> tuple[Result | None, str | None]:
    """Model `name`'s reading of `digit`: (Result, None), or (None, a one-line error) when the model
    cannot be loaded. Results are kept in session state for the latest digit only, so a full
    rerun (switching tabs or models) does not classify the same pixels again."""
    classifier, error = load_classifier(name)
    if classifier is None:
        return None, error
    memo = st.session_state.setdefault("readings", {})
    if memo.get("key") != digit.key:
        memo.clear()
        memo["key"] = digit.key
    if name not in memo:
        memo[name] = classifier.classify(digit.pixels, digit.background, digit.near)
    return memo[name], None


def restore_choice() -> None:
    """Put the teacher's choice back into its widgets' state. Streamlit forgets a widget's value
    in a run that does not draw it, and "Clear" draws the empty strip without the controls: the
    choice is also kept under KEPT (no widget's key) and restored from there."""
    for key, value in st.session_state.get(KEPT, {}).items():
        if key not in st.session_state:
            st.session_state[key] = value


def keep_choice() -> None:
    """Copy the teacher's choice (the CHOICE widgets' values) under KEPT, for `restore_choice`."""
    st.session_state[KEPT] = {key: st.session_state[key] for key in CHOICE if key in st.session_state}


def choose(layer: str, index: int, detail: str = DETAILS[0]) -> None:
    """Make (layer, map, detail) the teacher's choice (a click on the strip, a lesson link)."""
    st.session_state["presenter_layer"], st.session_state["presenter_map"] = layer, index
    st.session_state["presenter_detail"] = detail
    st.session_state.pop("presenter_unit", None)
    keep_choice()
