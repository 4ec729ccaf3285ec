"""A student in a class (`mnist_core.collection.classroom`): joining from the link, the form that asks for each
digit in turn, keeping a drawing, and the student's own kept drawings.

The join link is the app's address with `?class=CODE`. It opens the Draw tab in the class: a
banner with the class's code, an optional nickname (only the class sees it), the drawings this
student kept (each can be deleted), and, over the canvas, the digit asked for next: 0 to 9 in turn,
as MNIST's writers were asked on their forms. "Keep it as a 3" saves the drawing with that digit.
A link with `&teacher=KEY` (the teacher link) opens the class's wall instead, on the Class tab; the
key is taken out of the address bar at once.

Per session (`st.session_state`):
    class_code     the class this session draws in as a student, or None.
    class_asked    the digit asked for next (0..9).
    class_link     the `class` value of the address already handled (a link is read once).
    class_notice   one line to show once (a link that could not be opened, a refused keep).
    class_kept_drawings  the keys of the drawings this session kept (`keep_record`: each once).
The student's id is the collection's session id (`feedback.session_id`): random, no name.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import feedback, roles
from app.data_figures import montage
from mnist_core.collection import classroom
from mnist_core.collection.database import CollectionError

CLASS_KEY = "class_code"
ASKED_KEY = "class_asked"
NOTICE_KEY = "class_notice"
KEPT_KEYS = "class_kept_drawings"  # the drawings this session kept (their `Digit.key`)
WALL_KEY = "wall_code"  # the class whose wall this session shows (app/tabs/classroom.py)
# How often a student's page looks for drawings the teacher hid, or the class's end. Each look
# reruns the banner on the server and redraws it in the browser: at 3 s, a class of 30 pages was
# 10 reruns a second and half the server's time; at 6 s, keep -> wall in tests/class_check.py
# went from a median of 1.5-1.7 s (max 3.2-5.4 s) to 1.1 s (max 2.6-2.7 s), the server's CPU halved.
STRIP_SECONDS = 6


def joined() -> str | None:
    """The code of the class this session draws in as a student, or None."""
    return st.session_state.get(CLASS_KEY)


def _notice(text: str) -> None:
    st.session_state[NOTICE_KEY] = " ".join(text.split())


def join_from_link() -> None:
    """Read `?class=CODE` (and `&teacher=KEY`) once per session and per link: join the class as a
    student, or open its wall for its teacher. Called on every run, before the tabs."""
    text = st.query_params.get("class")
    key = st.query_params.get("teacher")
    if key is not None:
        del st.query_params["teacher"]  # a teacher's key never stays in the address bar
    if text is None or (st.session_state.get("class_link") == text and key is None):
        return
    st.session_state["class_link"] = text
    code = classroom.normalise_code(text)
    try:
        collection = feedback.open_collection()
        found = classroom.info(collection, code) if code else None
        teacher = key is not None and found is not None and classroom.is_teacher(collection, code, key)
    except CollectionError as error:
        _notice(f"The class cannot be opened: {error}")
        return
    if found is None:
        _notice(f"There is no class “{text[:12]}”: check the code in the link.")
    elif teacher:
        roles.teacher_keys()[code] = key
        st.session_state[WALL_KEY] = code
        st.session_state["tab"] = "Class"
    elif found.closed_reason():
        _notice(found.closed_reason())
    else:
        if key is not None:
            _notice("That teacher link is not this class's: you joined as a student.")
        st.session_state[CLASS_KEY] = code
        st.session_state.setdefault(ASKED_KEY, 0)


def join(code: str) -> str | None:
    """Join class `code` as a student (the Class tab's "Join"): None, or one line saying why not."""
    normal = classroom.normalise_code(code)
    if normal is None:
        return f"“{code[:12]}” is not a class code: six letters and digits, like KP7 Q4M."
    try:
        found = classroom.info(feedback.open_collection(), normal)
    except CollectionError as error:
        return f"The class cannot be opened: {error}"
    if found is None:
        return f"There is no class {classroom.display_code(normal)}: check the code."
    if found.closed_reason():
        return found.closed_reason()
    st.session_state[CLASS_KEY] = normal
    st.session_state.setdefault(ASKED_KEY, 0)
    return None


def leave() -> None:
    st.session_state[CLASS_KEY] = None


def asked() -> int:
    """The digit the form asks for now."""
    return int(st.session_state.get(ASKED_KEY, 0)) % 10


def _next() -> None:
    st.session_state[ASKED_KEY] = (asked() + 1) % 10


def _keep(digit, image28: np.ndarray, strokes: list | None, label: int, on_kept) -> None:
    """"Keep it as a 3": save the drawing into the class (refused once the class has ended)."""
    if keep_record(lambda: feedback.record(digit, image28, strokes), label, digit.key):
        on_kept()


def kept_keys() -> list[str]:
    """The keys (`Digit.key`, a hash of the pixels) of the drawings this session kept."""
    return st.session_state.setdefault(KEPT_KEYS, [])


def keep_record(make_record, label: int, drawing_key: str) -> bool:
    """Save `make_record()` (`feedback.record`'s dict) into the joined class as `label`, unless the
    drawing `drawing_key` is kept already. On a busy server (a class of 30, tests/class_check.py)
    Streamlit called a click's callback a second time when another rerun interrupted the run the
    click started (2 drawings kept twice), and such a rerun could bring the canvas's value from
    before the keep cleared it back (the kept drawing offered as the next digit). True when kept."""
    code = joined()
    if code is None or drawing_key in kept_keys():
        return False
    record = make_record()
    try:
        classroom.add(feedback.open_collection(), code, record["image28"], label, student=feedback.session_id(),
                      nickname=st.session_state.get("class_nickname"), strokes=record["strokes"],
                      predictions=record["predictions"], source=record["source"])
    except (classroom.ClassClosed, CollectionError) as error:
        _notice(f"Not kept: {error}")
        return False
    kept_keys().append(drawing_key)  # only once saved: a refused keep can be tried again
    st.session_state["class_kept_last"] = label
    _next()
    return True


def show_notice() -> None:
    """The one line left by a link that could not be opened or a refused keep, once."""
    message = st.session_state.pop(NOTICE_KEY, None)
    if message:
        st.error(message, icon=":material/block:")


def prompt() -> None:
    """Over the canvas: the digit the form asks for (and the one just kept)."""
    last = st.session_state.pop("class_kept_last", None)
    if last is not None:
        st.success(f"Kept as a {last}.", icon=":material/check_circle:")
    st.markdown(f"#### Draw a **{asked()}**", help="The class's data set asks each of you for every digit, 0 to 9, "
                "in turn: as MNIST's writers were asked on their forms.")


def render_keep(digit, steps, strokes: list | None, on_kept) -> None:
    """Under the predictions: keep the drawing as the digit asked for, or skip that digit.
    `on_kept()` is called after a drawing was kept (the Draw tab clears its canvas)."""
    show_notice()
    if digit is None or steps is None or steps.empty:
        return
    if digit.key in kept_keys():  # a value of the canvas from before the keep cleared it (see keep_record)
        st.caption("This drawing is kept. Draw the next digit asked for.")
        return
    with st.container(horizontal=True, gap="small", key="class_keep"):
        st.button(f"Keep it as a {asked()}", key="class_keep_button", type="primary", icon=":material/add_task:",
                  on_click=_keep, args=(digit, steps.image, strokes, asked(), on_kept))
        st.button(f"Skip the {asked()}", key="class_skip", on_click=_next)
    st.caption("Keeping saves this drawing for your class: its strokes, the 28×28 input, the digit asked for, each "
               "model's answer, the time, your nickname if you typed one, and a random id of this visit (no name). "
               "You can delete it above.")


def _delete(code: str, drawing_id: int) -> None:
    try:
        classroom.delete_own(feedback.open_collection(), code, feedback.session_id(), drawing_id)
    except CollectionError as error:
        _notice(f"Not deleted: {error}")


@st.fragment(run_every=STRIP_SECONDS)
def banner() -> None:
    """The class banner at the top of the Draw tab: the code, a nickname, this student's kept
    drawings (each with a delete button). Reruns on its own every few seconds, so that a drawing
    the teacher hid disappears, and the end of the class shows, without a page rerun."""
    code = joined()
    if code is None:
        return
    try:
        collection = feedback.open_collection()
        found = classroom.info(collection, code)
        kept = classroom.student_drawings(collection, code, feedback.session_id())
    except CollectionError as error:
        st.error(f"The class cannot be read: {error}", icon=":material/database_off:")
        return
    reason = found.closed_reason() if found is not None else "The class is gone."
    with st.container(border=True, key="class_banner"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f":material/school: **Class {classroom.display_code(code)}**"
                        + (f" · :red[{reason}]" if reason else " · you are drawing for your class's data set"))
            if st.button("Leave the class", key="class_leave", type="tertiary"):
                leave()
                st.rerun()  # the whole page: the Draw tab goes back to "Was this right?"
        if not reason:
            st.text_input("Nickname (optional: only your class sees it)", key="class_nickname", max_chars=24,
                          placeholder="e.g. Ana")
        st.markdown(f"**You kept {len(kept)}**" + (":" if kept else ". Draw the digit asked for, then keep it."))
        if kept:
            with st.container(horizontal=True, gap="small", key="class_kept"):
                for drawing_id, label, image in kept:
                    with st.container(width=64, gap=None):
                        st.image(montage(image[None], 1, scale=2), caption=str(label), width=56)
                        st.button("", key=f"class_delete_{drawing_id}", icon=":material/delete:", type="tertiary",
                                  on_click=_delete, args=(code, drawing_id), help="Delete this drawing")
