""""Was this right?": under the Draw tab's predictions, the user confirms the reading or gives the
right digit, and only then is the drawing saved to the collection (`mnist_core.collection.database`).
The Numbers tab saves each digit of a number it read the same way (`save_drawing`, `answers`,
`undo_saved`).

`render` is called once by the Draw tab's fragment, after the predictions, so its buttons rerun
only that fragment. Nothing touches the database before a click: a missing, locked or corrupt
database shows one line after the click, and digits are read as before.

Shared: one `Collection` per database URL (`st.cache_resource`; $MNIST_COLLECTION, else the
default file). Per session (`st.session_state`):
    collect_session   a random id saved with each drawing, so the session can delete its own.
    collect_saved     {digit key: (id, label)}: the drawings this session saved, by what was drawn
                      (the Numbers tab's: one per digit of a number).
    collect_error     one line to show after a failed save or delete.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import streamlit as st

from app.resources import load_classifier
from app.session import CANVAS_KEY, read
from mnist_core.collection.database import ENV_VAR, Collection, CollectionError
from mnist_core.reading.classifier import MODEL_NAMES

SESSION_KEY = "collect_session"
SAVED_KEY = "collect_saved"
ERROR_KEY = "collect_error"

_KEPT_TOO = ("each model's answer and its ten probabilities, the models' versions (the sha256 of their files), "
             "whether it was drawn or uploaded, the time, and a random id of this visit so that you can delete what "
             "you saved. Nothing else, and nothing without a click.")
KEPT = ("A click saves this drawing to improve the models, and keeps exactly: your strokes (or, for a photo, "
        "nothing of it but the 28×28 input), the 28×28 input, the digit you gave, " + _KEPT_TOO)
KEPT_DIGITS = ("A click saves each digit of this number to improve the models, and keeps exactly, for each: its "
               "28×28 input (not your strokes), the digit you gave it, " + _KEPT_TOO)


# ---------------------------------------------------------------------------- the collection

@st.cache_resource(show_spinner=False, max_entries=4)
def _open(url: str) -> Collection:
    """One Collection per URL for every session ("" = the default file). A failure raises
    CollectionError, which Streamlit does not cache: the next click tries again."""
    return Collection(url or None)


def open_collection() -> Collection:
    """The app's collection: $MNIST_COLLECTION (a path or a URL), else the default file.
    Raises CollectionError (one line) when it cannot be used."""
    return _open(os.environ.get(ENV_VAR, ""))


def default_exists() -> bool:
    """Whether a collection is configured ($MNIST_COLLECTION) or the default file is there:
    lets a page show collected figures without creating an empty database just by looking."""
    if os.environ.get(ENV_VAR):
        return True
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.isfile(os.path.join(base, "mnist_core", "collection.sqlite3"))


def session_id() -> str:
    """This session's random id (32 hex digits), made on first use."""
    return st.session_state.setdefault(SESSION_KEY, uuid.uuid4().hex)


def saved() -> dict:
    """{digit key: (id, label)} of what this session saved and has not deleted."""
    return st.session_state.setdefault(SAVED_KEY, {})


def show_error() -> None:
    """The one line left by a failed click, once."""
    message = st.session_state.pop(ERROR_KEY, None)
    if message:
        st.error(message, icon=":material/database_off:")


def _fail(what: str, error: CollectionError) -> None:
    st.session_state[ERROR_KEY] = " ".join(f"{what}: {error}".split())


# ---------------------------------------------------------------------------- clicks

def save_drawing(key: str, image28: np.ndarray, label: int, *, strokes=None, predictions: dict | None = None,
                 source: str = "canvas") -> bool:
    """Save one drawing (`Collection.add`'s arguments) with this session's id, and remember it as
    saved under `key`. False when it failed: its one line is left for `show_error`.
    A second call for the drawing already saved with that label saves nothing: Streamlit calls a
    click's callback again when another rerun interrupts the run the click started."""
    if saved().get(key, (None, None))[1] == int(label):
        return True
    try:
        new_id = open_collection().add(image28, label, strokes=strokes, predictions=predictions,
                                       session=session_id(), source=source)
    except CollectionError as error:
        _fail("Not saved", error)
        return False
    saved()[key] = (new_id, int(label))
    return True


def answers(images28: np.ndarray) -> list[dict]:
    """Every loadable model's answer for each of `images28` ((N, 28, 28) float in [0, 1]), as
    `Collection.add` takes them: {model: {"label": the most probable digit, "probabilities",
    "sha256"}} per image."""
    out = [{} for _ in range(len(images28))]
    for name in MODEL_NAMES:
        classifier, _ = load_classifier(name)
        if classifier is None:
            continue
        for answer, p in zip(out, classifier.classify_batch(np.asarray(images28, np.float32))):
            answer[name] = {"label": int(np.argmax(p)), "probabilities": p, "sha256": classifier.card["sha256"]}
    return out


def _save(digit, image28: np.ndarray, strokes: list | None, label: int) -> None:
    saved_record = record(digit, image28, strokes)  # here, not on every stroke: a hidden model reads only on a click
    save_drawing(saved_record["key"], saved_record["image28"], label, strokes=saved_record["strokes"],
                 predictions=saved_record["predictions"], source=saved_record["source"])


def _save_picked(digit, image28: np.ndarray, strokes: list | None) -> None:
    """The digit picked in "No, it's a:" is the right one: save it, and clear the choice for the next drawing."""
    label = st.session_state.get("feedback_digit")
    st.session_state["feedback_digit"] = None
    if label is not None:
        _save(digit, image28, strokes, label)


def undo_saved(*keys: str) -> None:
    """Delete the drawings this session saved under `keys` (an Undo's callback); stops at a failure."""
    for key in keys:
        entry = saved().get(key)
        if entry is None:
            continue
        try:
            open_collection().delete(entry[0], session=session_id())
        except CollectionError as error:
            _fail("Not deleted", error)
            return
        saved().pop(key, None)


def delete_mine() -> None:
    """Delete every drawing this session saved (a button's callback)."""
    try:
        collection = open_collection()
        for record in collection.records(session=session_id()):
            collection.delete(record.id, session=session_id())
    except CollectionError as error:
        _fail("Not deleted", error)
        return
    saved().clear()


# ---------------------------------------------------------------------------- the widget

def canvas_strokes(digit) -> list | None:
    """The canvas's fabric.js objects (its json_data) for a canvas drawing, else None."""
    if digit.source != "canvas":
        return None
    value = st.session_state.get(CANVAS_KEY)
    try:
        return list(value["drawing"]["raw"]["objects"])
    except (KeyError, TypeError):
        return None


def record(digit, image28: np.ndarray, strokes: list | None) -> dict:
    """What a click saves: the input and strokes as shown, and every loadable model's answer for this digit."""
    predictions = {}
    for name in MODEL_NAMES:
        result, _ = read(name, digit)  # memoised per digit: the shown models are not read again
        if result is not None:
            predictions[name] = {"label": result.label, "probabilities": np.asarray(result.probabilities),
                                 "sha256": load_classifier(name)[0].card["sha256"]}
    return {"key": digit.key, "image28": np.asarray(image28), "strokes": strokes,
            "predictions": predictions, "source": "upload" if digit.source == "upload" else "canvas"}


def render(models: list[str], digit, steps) -> None:
    """Under the predictions of `digit` (preprocessed as `steps`): confirm or correct, then
    "Saved" with an Undo; and "Delete what I saved" once the session saved something."""
    show_error()
    if digit is None or steps is None or steps.empty:
        return
    mine = saved()
    with st.container(key="feedback"):
        if digit.key in mine:
            label = mine[digit.key][1]
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f":material/check_circle: Saved as a **{label}**. Thank you!")
                st.button("Undo", key="feedback_undo", on_click=undo_saved, args=(digit.key,))
        else:
            shown = [result.label for result, _ in (read(m, digit) for m in models)
                     if result is not None and result.label is not None]  # "not a digit" offers no "Yes"
            what = (digit, steps.image, canvas_strokes(digit))  # as shown now (the canvas may send more before a click)
            st.markdown("**Was this right?**")
            with st.container(horizontal=True, gap="small"):
                for label in dict.fromkeys(shown):  # one button per distinct answer, in model order
                    st.button(f"Yes, it's {'an' if label == 8 else 'a'} {label}", key=f"feedback_yes_{label}", type="primary",
                              on_click=_save, args=(*what, label))
                # The ten digits in a popover: the browser draws its content only when it opens, and
                # this row is redrawn after every stroke, just as the next answer is being shown
                # (measured: 15 ms more before the Prediction appeared with the ten always there).
                with st.popover("No, it's another digit"):
                    st.pills("It's a:", range(10), key="feedback_digit", on_change=_save_picked, args=what)
            st.caption(KEPT)
        if mine:
            st.button(f"Delete what I saved ({len(mine)})", key="feedback_delete_mine", on_click=delete_mine,
                      icon=":material/delete:", help="Deletes every drawing this session saved.")
