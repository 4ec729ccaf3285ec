"""The Collected tab: the drawings users confirmed or corrected on the Draw tab (`app/feedback.py`).

How many, per digit and per day; both models' accuracy on them and their mistakes (and those of
the model this session trained on the Train tab, once there is one); export as
MNIST-format files; and deleting what this session saved. Also `evaluation_section`, the short
part of the Evaluation tab on collected drawings. With no usable database: one line.

Who sees what (`app/roles.py`): a visitor sees only the drawings their own session saved; the
app's owner, once signed in, sees the whole collection, downloads it and deletes any drawing.
Both are decided here on the server: `_read` queries only the session's rows for a visitor.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import plotly.express as px
import streamlit as st

from app import data_figures as figs
from app import feedback, roles
from app.data_cache import available_models
from app.resources import SESSION_MODEL, load_classifier
from mnist_core.collection.collected import Collected, load_collected, score, trained_sessions
from mnist_core.collection.database import CollectionError

LABELS = figs.MODEL_LABELS
MAX_MISTAKES = 48  # images shown per model


def _read(everything: bool = False) -> tuple[object, Collected | None, str | None]:
    """(counts, drawings, None) of this session's drawings (the whole collection's if `everything`:
    the owner's), or (None, None, one line) when the collection cannot be used."""
    session = None if everything else feedback.session_id()
    try:
        collection = feedback.open_collection()
        return collection.counts(session=session), load_collected(collection, session=session), None
    except CollectionError as error:
        return None, None, " ".join(f"The collection cannot be used: {error}".split())


def _scores(drawings: Collected) -> dict[str, tuple[np.ndarray, dict | None]]:
    """name -> (predicted labels, `collected.score`) for every model that loads, and this session's
    trained model (SESSION_MODEL, trained on MNIST alone: every drawing is scored) once it has one."""
    x = drawings.floats()
    out = {}
    models = available_models()
    mine, _ = load_classifier(SESSION_MODEL)
    if mine is not None:
        models[SESSION_MODEL] = mine
    for name, classifier in models.items():
        probabilities = classifier.classify_batch(x)
        out[name] = probabilities.argmax(axis=1), score(probabilities, drawings.labels, drawings.sessions,
                                                        trained_sessions(classifier.card))
    return out


def _style(fig, top: int) -> None:
    """Bars of counts (the largest `top`): every category shown (all ten digits), whole-number ticks."""
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero", dtick=max(1, -(-top // 5)), tickformat=",d")
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=10, b=10))


def _export(fmt: str) -> bytes:
    """Every drawing as collected.npz, or the two IDX files zipped (called on download; the owner's only)."""
    if not roles.is_owner():
        raise PermissionError("the whole collection is for the app's owner")
    with tempfile.TemporaryDirectory() as folder:
        paths = feedback.open_collection().export(folder, format=fmt)
        if fmt == "npz":
            return paths[0].read_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, Path(path).name)
        return buffer.getvalue()


def render(models: list[str], *args) -> None:
    """models: the sidebar's choice (unused: both committed models, and this session's trained one, are
    scored; they are cheap on a few drawings)."""
    st.header("Collected drawings", anchor="collected")
    owner = roles.is_owner()
    _owner_sign_in(owner)
    st.caption(("All the collection, as the app's owner. " if owner else "Only the drawings you saved in this visit: "
                "each person sees their own. ") + "Drawings that people confirmed or corrected on the Draw tab (\"Was this right?\"). Each keeps "
               "its strokes, the 28×28 input, the digit given, each model's answer and probabilities, the models' "
               "versions (sha256), whether drawn or uploaded, the time and a random id of the visit that saved it.")
    feedback.show_error()
    counts, drawings, error = _read(everything=owner)
    if error:
        st.error(error, icon=":material/database_off:")
        return
    mine = len(feedback.saved())
    total = len(drawings)
    cols = st.columns(3)
    cols[0].metric("Drawings" if owner else "Your drawings", f"{total:,}")
    cols[1].metric("Days", f"{len(counts.per_day):,}")
    cols[2].metric("Saved by you", f"{mine:,}")
    if mine:
        st.button(f"Delete what I saved ({mine})", key="collected_delete_mine", on_click=feedback.delete_mine,
                  icon=":material/delete:", help="Deletes every drawing this session saved.")
    if not total:
        st.info("Nothing collected yet: draw a digit on the Draw tab and answer \"Was this right?\".")
        return

    left, right = st.columns(2)
    with left:
        st.subheader("Per digit")
        fig = px.bar(x=[str(d) for d in counts.per_digit], y=list(counts.per_digit.values()),
                     labels={"x": "digit (as the user gave it)", "y": "drawings"})
        _style(fig, max(counts.per_digit.values()))
        st.plotly_chart(fig, config=figs.CONFIG, key="collected_per_digit")
    with right:
        st.subheader("Per day")
        fig = px.bar(x=[d.isoformat() for d in counts.per_day], y=list(counts.per_day.values()),
                     labels={"x": "day (UTC)", "y": "drawings"})
        _style(fig, max(counts.per_day.values()))
        st.plotly_chart(fig, config=figs.CONFIG, key="collected_per_day")

    st.subheader("The models on these drawings")
    scores = _scores(drawings)
    if not scores:
        st.warning("No trained model could be loaded.")
    cols = st.columns(max(1, len(scores)))
    for col, (name, (_, result)) in zip(cols, scores.items()):
        if result is None:
            col.metric(f"{LABELS[name]} accuracy", "–", help="Every drawing is from a session it was trained on.")
        else:
            col.metric(f"{LABELS[name]} accuracy", f"{result['accuracy']:.1%}",
                       delta=f"{round(result['accuracy'] * result['count'])} of {result['count']}",
                       delta_color="off", delta_arrow="off")
            if result["left_out"]:
                col.caption(f"{result['left_out']} drawings left out: the model was trained on their sessions.")
    for name, (predicted, _) in scores.items():
        wrong = np.flatnonzero(predicted != drawings.labels)
        more = f" (first {MAX_MISTAKES})" if len(wrong) > MAX_MISTAKES else ""
        st.markdown(f"**{LABELS[name]}: {len(wrong)} misread**{more}")
        if len(wrong):
            wrong = wrong[:MAX_MISTAKES]
            with st.container(key=f"collected_mistakes_{name}"):
                st.image([figs.montage(drawings.images[i][None], 1, scale=3) for i in wrong],
                         caption=[f"{drawings.labels[i]} → {predicted[i]}" + (f" · #{drawings.ids[i]}" if owner else "")
                                  for i in wrong], width=84)
    st.caption("Caption: the digit the user gave → what the model read" + (" · the drawing's id." if owner else "."))

    if not owner:
        return
    _delete_any()
    st.subheader("Export")
    st.caption("MNIST's own formats: collected.npz laid out like Keras' mnist.npz (every drawing in x_train, "
               "y_train), or the two IDX files (images, labels), oldest drawing first.")
    with st.container(horizontal=True):
        st.download_button("Download collected.npz", data=lambda: _export("npz"), file_name="collected.npz",
                           mime="application/octet-stream", key="collected_npz", on_click="ignore",
                           icon=":material/download:")
        st.download_button("Download IDX files (zip)", data=lambda: _export("idx"), file_name="collected-idx.zip",
                           mime="application/zip", key="collected_idx", on_click="ignore",
                           icon=":material/download:")


def _owner_sign_in(owner: bool) -> None:
    """The owner's sign-in (only where an owner is configured), or sign-out."""
    if owner:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(":material/admin_panel_settings: Signed in as the app's owner.")
            st.button("Sign out", key="owner_sign_out", on_click=roles.sign_out, type="tertiary")
        return
    if roles.owner_key():
        with st.expander("The app's owner"):
            st.text_input("Owner key", type="password", key="owner_key_input")
            st.button("Sign in", key="owner_sign_in", on_click=lambda: _sign_in(st.session_state.get("owner_key_input")))
            if st.session_state.pop("owner_refused", False):
                st.error("That is not the owner's key.")
    elif roles.login_configured():
        st.button("Log in as the app's owner", key="owner_login", on_click=st.login)


def _sign_in(key) -> None:
    st.session_state["owner_refused"] = not roles.sign_in(key or "")
    st.session_state["owner_key_input"] = ""  # the secret does not stay in the widget


def _delete(drawing_id: int) -> None:
    if not roles.is_owner():  # checked here: the widget could be forged
        return
    try:
        feedback.open_collection().delete(int(drawing_id))
    except CollectionError as error:
        st.session_state[feedback.ERROR_KEY] = f"Not deleted: {error}"


def _delete_any() -> None:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.number_input("Drawing id", min_value=1, step=1, key="owner_delete_id", width=160)
        st.button("Delete this drawing", key="owner_delete", icon=":material/delete:",
                  on_click=lambda: _delete(st.session_state.get("owner_delete_id") or 0))


def evaluation_section() -> None:
    """For the Evaluation tab: each model's accuracy on the collected drawings, only when there are
    some (and never creating a database just by looking)."""
    if not feedback.default_exists():
        return
    _, drawings, error = _read(everything=True)  # figures only: no drawing of anyone is shown
    if error:
        st.caption(error)
        return
    if not len(drawings):
        return
    st.subheader("On collected drawings", anchor="evaluation-collected")
    scores = _scores(drawings)
    cols = st.columns(max(1, len(scores)))
    for col, (name, (_, result)) in zip(cols, scores.items()):
        value = "–" if result is None else f"{result['accuracy']:.1%}"
        count = 0 if result is None else result["count"]
        col.metric(f"{LABELS[name]} on collected drawings", value, help="Sessions it was trained on are left out.")
        col.caption(f"{count} drawings people confirmed or corrected; see the Collected tab.")
