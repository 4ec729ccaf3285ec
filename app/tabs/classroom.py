"""The Class tab: a teacher starts a class and gets its wall; anyone else joins one with its code.

The teacher's side: the class's code, large, with its join link and a QR code for phones; the
wall, which refreshes itself every WALL_SECONDS without a page rerun (an `st.fragment`), and
recomputes only when the class's drawings changed (`classroom.version`; its figures at most every
FIGURES_SECONDS, so that a refresh stays within 50 ms of the server's time): the newest drawings,
each with a Hide button, counts per digit and per student, the class's mean image of each digit
over MNIST's, each model's accuracy and confusion matrix on the class, the drawings it misread or
was least sure of, and the class's digits on the Data tab's PCA map among MNIST's; the class's set
as IDX or npz; and ending the class. Every one of these checks the teacher's key on the server
(`mnist_core.collection.classroom`): a student's session has no key, whatever its URL or widgets say.

Per session: `wall_code` (app/classes.WALL_KEY), the teacher keys (app/roles.py), and
`wall_cache` {"code", "version", ...}: what the wall last computed.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

import numpy as np
import streamlit as st

from app import class_figures, classes, feedback, roles
from app import data_figures as figs
from mnist_core.collection import class_wall, classroom
from mnist_core.collection.database import CollectionError

WALL_SECONDS = 1  # a kept drawing is on the wall within 3 s (the goal) on a busy 2-core server
FIGURES_SECONDS = 5  # the means, confusion matrices and map are refreshed (and rebuilt) this often
NEWEST = 24  # drawings shown with a Hide button
MAP_POINTS = 1_000  # MNIST images on the map behind the class's
TOUCH_SECONDS = 600  # how often an open wall tells the database the class is in use


def _link(code: str, teacher_key: str | None = None) -> str:
    """The join link (or the teacher link) on the address the browser sees this app at."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    query = {"class": code, **({"teacher": teacher_key} if teacher_key else {})}
    return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}?{urlencode(query)}"


def _error(text: str) -> None:
    st.session_state["wall_error"] = " ".join(text.split())


def _start() -> None:
    try:
        started = classroom.start(feedback.open_collection())
    except CollectionError as error:
        _error(f"The class cannot be started: {error}")
        return
    roles.teacher_keys()[started.code] = started.teacher_key
    st.session_state[classes.WALL_KEY] = started.code
    st.session_state.pop("wall_cache", None)


def _join() -> None:
    problem = classes.join(st.session_state.get("class_join_code") or "")
    if problem:
        _error(problem)


def _teacher_action(action, *args) -> None:
    """Run a teacher's action with this session's key for the wall's class; its refusal is one line."""
    code = st.session_state.get(classes.WALL_KEY)
    try:
        action(feedback.open_collection(), code, roles.teacher_keys().get(code), *args)
    except (classroom.ClassError, CollectionError) as error:
        _error(str(error))


def _hide(drawing_id: int) -> None:
    _teacher_action(classroom.hide, drawing_id)
    st.session_state["wall_last_hidden"] = drawing_id


def _show_again(drawing_id: int) -> None:
    _teacher_action(classroom.hide, drawing_id, False)
    st.session_state.pop("wall_last_hidden", None)


def _end() -> None:
    _teacher_action(classroom.end)


def _export(code: str, key: str, fmt: str) -> bytes:
    """The class's set in MNIST's formats (called when the download is clicked)."""
    return classroom.export_bytes(classroom.class_set(feedback.open_collection(), code, key), fmt)


def _start_or_join() -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Teaching? Start a class")
        st.markdown("Your students draw each digit in turn on their phones or laptops; this tab becomes the class's "
                    "wall for the projector: their digits arriving, counted, averaged beside MNIST's, read by both "
                    "networks, placed on MNIST's map. You can hide any drawing at once, export the set and end "
                    "the class.")
        st.button("Start a class", key="class_start", type="primary", icon=":material/school:", on_click=_start)
    with right:
        st.subheader("Joining one?")
        st.text_input("Class code", key="class_join_code", max_chars=12, placeholder="KP7 Q4M")
        st.button("Join", key="class_join", on_click=_join)


def _show_code(code: str, info: classroom.ClassInfo) -> None:
    link = _link(code)
    with st.container(horizontal=True, gap="large", vertical_alignment="center", key="class_code_panel"):
        st.image(class_figures.join_qr_png(link), width=260)
        with st.container():
            st.markdown(f"<div style='font-size:4.5rem;font-weight:700;letter-spacing:0.15em;line-height:1.1'>"
                        f"{classroom.display_code(code)}</div>", unsafe_allow_html=True)
            st.markdown(f"Scan the code, or open **{link}**")
            st.caption("No names: each student is a random id; a nickname, if they type one, shows only here.")


def _controls(code: str, key: str, ended: bool) -> None:
    with st.container(horizontal=True, gap="small", key="class_controls"):
        st.download_button("Class set (.npz)", data=lambda: _export(code, key, "npz"), file_name=f"class-{code}.npz",
                           mime="application/octet-stream", key="class_npz", on_click="ignore",
                           icon=":material/download:")
        st.download_button("Class set (IDX, zip)", data=lambda: _export(code, key, "idx"),
                           file_name=f"class-{code}-idx.zip", mime="application/zip", key="class_idx",
                           on_click="ignore", icon=":material/download:")
        if not ended:
            with st.popover("End the class", icon=":material/stop_circle:"):
                st.markdown("No drawing will be accepted after this. What was kept stays here, to look at and export.")
                st.button("End it now", key="class_end", type="primary", on_click=_end)
        with st.popover("Teacher link", icon=":material/key:"):
            st.markdown("Opens this wall on another device (keep it private: it is the class's key).")
            st.code(_link(code, key), language=None)


@st.cache_resource(show_spinner="Loading MNIST's means and map for the wall…")
def _mnist_backdrop():
    """What the wall shows of MNIST, once per process: (its mean image of each digit (10, 28, 28)
    float32, the PCA map, MAP_POINTS indices into it), or None without MNIST. Loaded when a wall
    opens, not when its first drawing arrives."""
    from app.data_cache import data_stats, load_data, pca_map

    data, _ = load_data()
    if data is None:
        return None
    pca = pca_map(data.sha256)
    index = np.random.default_rng(0).permutation(len(pca.labels))[:MAP_POINTS]
    return data_stats(data.sha256, "train").mean_images, pca, index


def _picture(drawn: classroom.ClassSet, i: int, pngs: dict[int, bytes]) -> bytes:
    """Drawing `i`'s picture as PNG bytes (3x, crisp), encoded once per drawing id into `pngs`."""
    drawing_id = int(drawn.ids[i])
    if drawing_id not in pngs:
        pngs[drawing_id] = class_figures.png(figs.montage(drawn.images[i][None], 1, scale=3))
    return pngs[drawing_id]


def _arrivals(drawn: classroom.ClassSet, pngs: dict[int, bytes]) -> dict:
    """What changes with every drawing: the counts, each model's accuracy, the newest drawings.
    `pngs` {drawing id: PNG bytes} keeps each drawing's picture, encoded once."""
    names = class_wall.student_names(drawn.students, drawn.nicknames)
    students = class_wall.per_student(drawn.students, drawn.nicknames)
    newest = []
    for i in range(len(drawn) - 1, max(-1, len(drawn) - 1 - NEWEST), -1):
        newest.append((int(drawn.ids[i]), _picture(drawn, i, pngs), f"{drawn.labels[i]} · {names[i]}"))
    return {
        "count": len(drawn), "students": len(students), "newest": newest,
        "accuracy": {name: r.accuracy for name, r in class_wall.model_readings(drawn).items()},
        "per_digit": class_figures.counts_html([str(d) for d in range(10)], class_wall.per_digit(drawn).tolist(),
                                               "Drawings per digit"),
        "per_student": class_figures.counts_html([n for n, _ in students], [c for _, c in students],
                                                 "Drawings per student", colour="#59a14f"),
    }


def _figures(drawn: classroom.ClassSet, pngs: dict[int, bytes]) -> dict:
    """What is refreshed every FIGURES_SECONDS: the mean images, each model's confusion
    matrix and the drawings worth a look, the map."""
    names = class_wall.student_names(drawn.students, drawn.nicknames)
    backdrop = _mnist_backdrop()
    mnist_means = map_figure = None
    if backdrop is not None:
        mnist_means, pca, index = backdrop
        map_figure = class_figures.class_on_map(pca.coords[index], pca.labels[index], pca.transform(drawn.images),
                                                drawn.labels, names)
    readings = {}
    for name, r in class_wall.model_readings(drawn).items():
        look = []
        for i in class_wall.worth_a_look(r, drawn.labels):
            look.append((_picture(drawn, i, pngs), f"{drawn.labels[i]} → {r.predicted[i]} ({r.confidence[i]:.0%})"))
        readings[name] = (class_figures.confusion_html(r.confusion), look)
    means = class_figures.means_picture(class_wall.class_means(drawn), mnist_means)
    return {"means": class_figures.png(means), "means_with_mnist": mnist_means is not None, "readings": readings,
            "map": map_figure}


def _refreshed(code: str, figures: bool = True) -> dict:
    """The wall's cache for class `code`, brought up to date: its arrivals whenever the class's
    drawings changed (`classroom.version`: one small query), its figures too when `figures` (the
    figures' fragment, every FIGURES_SECONDS; the first time in any case). The drawings are read
    with the teacher's key (NotTeacher otherwise)."""
    collection = feedback.open_collection()
    version = classroom.version(collection, code)
    cache = st.session_state.get("wall_cache")
    if cache is None or cache["code"] != code:
        cache = {"code": code, "version": None, "pngs": {}, "figures_version": None}
        st.session_state["wall_cache"] = cache
    if cache["version"] != version:
        cache["drawn"] = classroom.class_set(collection, code, roles.teacher_keys().get(code))
        cache["arrivals"] = _arrivals(cache["drawn"], cache["pngs"])
        cache["version"] = version
    now = time.monotonic()
    if cache["figures_version"] != version and (figures or cache["figures_version"] is None):
        cache.update(figures=_figures(cache["drawn"], cache["pngs"]), figures_version=version)
    if now - st.session_state.get("wall_touched", -TOUCH_SECONDS) >= TOUCH_SECONDS:
        info = classroom.info(collection, code)
        if info is not None and info.is_open():
            classroom.touch(collection, code, roles.teacher_keys().get(code))
        st.session_state["wall_touched"] = now
    return cache


def _failed(code: str, figures: bool = False) -> dict | None:
    """The wall's cache brought up to date, or None after saying in one line why it cannot be."""
    try:
        return _refreshed(code, figures)
    except (classroom.ClassError, CollectionError) as error:
        st.error(str(error))
        return None


@st.fragment(run_every=WALL_SECONDS)
def _arriving(code: str) -> None:
    """The wall's live part, every WALL_SECONDS without a page rerun: counts, accuracies and the
    newest drawings, each with its Hide button."""
    message = st.session_state.pop("wall_error", None)
    if message:
        st.error(message)
    cache = _failed(code)
    if cache is None:
        return
    arrivals = cache["arrivals"]
    cols = st.columns(2 + len(arrivals["accuracy"]))
    cols[0].metric("Drawings", f"{arrivals['count']:,}")
    cols[1].metric("Students", f"{arrivals['students']:,}")
    for col, (name, accuracy) in zip(cols[2:], arrivals["accuracy"].items()):
        col.metric(f"{figs.MODEL_LABELS.get(name, name)} reads right", "–" if accuracy is None else f"{accuracy:.0%}",
                   help="The share of the class's drawings each model read as the digit that was asked for "
                        "(its answer when the student kept it).")
    last_hidden = st.session_state.get("wall_last_hidden")
    if last_hidden is not None:
        st.button(f"Show drawing #{last_hidden} again", key="wall_show_again", on_click=_show_again,
                  args=(last_hidden,), icon=":material/visibility:", type="tertiary")
    if not arrivals["count"]:
        st.info("No drawings yet: they appear here a second or two after each student keeps one.",
                icon=":material/hourglass_empty:")
        return
    st.markdown("**Arriving** (newest first; *Hide* takes a drawing off the wall and off its student's page at once)")
    with st.container(horizontal=True, gap="small", key="wall_newest"):
        for drawing_id, picture, caption in arrivals["newest"]:
            with st.container(width=96, gap=None, key=f"wall_drawing_{drawing_id}"):
                st.html(class_figures.tile_html(picture, caption))
                st.button("Hide", key=f"wall_hide_{drawing_id}", on_click=_hide, args=(drawing_id,),
                          icon=":material/visibility_off:", type="tertiary")
    left, right = st.columns(2)
    left.html(arrivals["per_digit"])
    right.html(arrivals["per_student"])


@st.fragment(run_every=FIGURES_SECONDS)
def _figures_part(code: str) -> None:
    """The wall's figures, every FIGURES_SECONDS: the mean images beside MNIST's, each model's
    confusion matrix and the drawings worth a look, the map."""
    cache = _failed(code, figures=True)
    if cache is None:
        return
    figures = cache["figures"]
    if not cache["arrivals"]["count"]:  # the map alone, MNIST's points waiting for the class's
        if figures["map"] is not None:
            st.plotly_chart(figures["map"], config=figs.CONFIG, key="wall_map")
        return
    st.markdown("**The class's mean image of each digit**" + (" (top) **and MNIST's** (bottom, 60,000 training images)"
                                                              if figures["means_with_mnist"] else ""))
    st.image(figures["means"], width="stretch")
    cols = st.columns(max(1, len(figures["readings"])))
    for col, (name, (confusion, look)) in zip(cols, figures["readings"].items()):
        with col:
            st.markdown(f"**{figs.MODEL_LABELS.get(name, name)} on the class** (rows: the digit asked for; "
                        "columns: what it read)")
            st.html(confusion)
            if look:
                st.markdown("Worth a look: misread first, then the least sure (asked → read, its confidence)")
                with st.container(horizontal=True, gap="small"):
                    for picture, caption in look:
                        st.html(class_figures.tile_html(picture, caption, width=72))
    if figures["map"] is not None:
        st.plotly_chart(figures["map"], config=figs.CONFIG, key="wall_map")
    else:
        st.caption("With MNIST on this server the wall also places the class's digits among MNIST's, and shows "
                   "MNIST's mean images beside the class's (see the Data tab).")


def _wall(code: str) -> None:
    """The wall: its live part, then its figures (two fragments, each refreshing on its own)."""
    _arriving(code)
    _figures_part(code)


def render(models: list[str], *args) -> None:
    """models: unused (the wall shows the answers saved with each drawing, of both models)."""
    st.header("A class makes its own MNIST", anchor="class")
    message = st.session_state.pop("wall_error", None)
    code = st.session_state.get(classes.WALL_KEY)
    key = roles.teacher_keys().get(code) if code else None
    if code and key:
        try:
            info = classroom.info(feedback.open_collection(), code)
        except CollectionError as error:
            st.error(f"The class cannot be read: {error}", icon=":material/database_off:")
            return
        if message:
            st.error(message)
        ended = info is None or info.closed_reason() is not None
        if ended:
            st.warning(info.closed_reason() if info is not None else "The class is gone.", icon=":material/stop_circle:")
        elif st.toggle("Show the code to join", value=True, key="class_show_code"):
            _show_code(code, info)
        _controls(code, key, ended)
        _mnist_backdrop()  # now, so that the first drawing arrives on a wall that has it
        _wall(code)
        return
    if message:
        st.error(message)
    joined = classes.joined()
    if joined:
        st.info(f"You are in class {classroom.display_code(joined)} as a student: draw the digits asked for on the "
                "Draw tab. The class's wall is its teacher's.", icon=":material/school:")
        return
    _start_or_join()
