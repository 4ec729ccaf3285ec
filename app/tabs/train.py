"""The Train tab: train a fresh LeNet-5 or MLP on a few thousand MNIST images and watch it learn.

The training is `mnist_core.training.live` (which runs `mnist_core.training.train.fit` in a background thread);
this file lays out its progress. One training at a time per server: the slot that enforces it is
shared by every session (`st.cache_resource`); the job and the trained model are this session's.

While this session's job runs, `sidebar_status` (always rendered, whatever tab is open) polls it
every POLL_S seconds as an `st.fragment(run_every=...)`: each poll is the job's heartbeat, so
leaving the page (no more polls) makes the job stop itself after `live.HEARTBEAT_TIMEOUT` s. The
Train tab's own panel polls the same way to redraw the curves.

Session state used here (all per user):
    train_owner    an id for this session, shown to nobody (the slot's `owner`).
    train_job      this session's latest `TrainingJob` (running or ended).
    train_adopted  the id of the job whose end this session has taken in (model, rerun).
    trained_model  the trained `Classifier`, read by the Draw tab as `resources.SESSION_MODEL`.
    train_error    a one-line reason the last Start did not start, shown once.
    train_model, train_images, train_epochs   the controls.
"""

from __future__ import annotations

import uuid

import numpy as np
import streamlit as st

from app import classes, feedback, figures, roles, train_figures
from app.data_cache import load_data
from app.resources import SESSION_MODEL
from mnist_core.collection import classroom
from mnist_core.collection.collected import split_by_session
from mnist_core.collection.database import CollectionError
from mnist_core.training import live

POLL_S = 1.0  # seconds between polls of a running job (each is also its heartbeat)
NETWORKS = {"LeNet-5": "lenet5", "MLP": "mlp"}
IMAGE_CHOICES = [1000, 3000, 6000, 12000, 30000, 58000]  # 58,000: all but the 2,000 held out (live_config)
DEFAULT_IMAGES, DEFAULT_EPOCHS = 12000, 3
MIN_CLASS_DRAWINGS = 20  # and two students: some train, others are held out whole
CHOICE_LABEL = "Your trained model"  # the sidebar's model choice once this session has one
BESIDE_LABEL = "Yours beside the app's"  # ... and yours beside the committed model of its kind


@st.cache_resource
def training_slot() -> live.TrainingSlot:
    """The server's one training slot, shared by every session."""
    return live.TrainingSlot()


def _own_job() -> live.TrainingJob | None:
    return st.session_state.get("train_job")


def _owner() -> str:
    return st.session_state.setdefault("train_owner", uuid.uuid4().hex)


def _other_job() -> live.TrainingJob | None:
    """Another session's running job, or None."""
    job = training_slot().running()
    return job if job is not None and job is not _own_job() else None


def _take_in_end(job: live.TrainingJob) -> bool:
    """Once per ended job: keep its model for the Draw tab. True if this call did it (then the
    page needs a full rerun, e.g. for the sidebar's new model choice)."""
    if job.running or st.session_state.get("train_adopted") == job.id:
        return False
    st.session_state["train_adopted"] = job.id
    if job.classifier is not None:
        st.session_state["trained_model"] = job.classifier
        st.session_state.pop("readings", None)  # the Draw tab's memo may hold an older model's reading
    return True


def trained_model_choices() -> list[str]:
    """Extra choices for the sidebar's model radio once this session trained a model: CHOICE_LABEL
    (yours alone) and BESIDE_LABEL (yours beside the committed model of its kind)."""
    job = _own_job()
    if job is not None:
        _take_in_end(job)
    return [CHOICE_LABEL, BESIDE_LABEL] if st.session_state.get("trained_model") is not None else []


def models_for(choice: str, committed: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """The sidebar's choice as (models for the Draw tab, models for the other tabs). The trained
    model is read on the Draw tab (alone, or after the committed model of its kind for
    BESIDE_LABEL); the other tabs show the committed model of its kind."""
    if choice in committed:
        return committed[choice], committed[choice]
    classifier = st.session_state.get("trained_model")
    kind = classifier.kind if classifier is not None else "lenet5"
    return ([kind, SESSION_MODEL] if choice == BESIDE_LABEL else [SESSION_MODEL]), [kind]


# --- polling: the heartbeat, in the sidebar -----------------------------------------------------


def _watch(job: live.TrainingJob) -> live.Progress:
    """One poll: heartbeat, hand the job the current drawing, and rerun the page once it ended."""
    job.beat()
    job.set_probe(st.session_state.get("input28"))
    progress = job.progress()
    if _take_in_end(job):
        st.rerun()
    return progress


@st.fragment(run_every=POLL_S)
def _sidebar_poll() -> None:
    job = _own_job()
    if job is None:
        return
    progress = _watch(job)
    st.progress(progress.fraction, text=f"Training: {progress.summary()}")


def sidebar_status() -> None:
    """In the sidebar: this session's running training (polled; its heartbeat), else nothing."""
    job = _own_job()
    if job is not None and (job.running or st.session_state.get("train_adopted") != job.id):
        _sidebar_poll()


# --- the tab ----------------------------------------------------------------------------------


def _start() -> None:
    """The Start button's callback: start a job in the shared slot, or say in one line why not.
    Who may train is checked here, not only by the button (`roles.may_train`)."""
    allowed, why = roles.may_train()
    if not allowed:
        st.session_state["train_error"] = why
        return
    data, error = load_data()
    if data is None:
        st.session_state["train_error"] = error
        return
    config = live.live_config(NETWORKS[st.session_state.get("train_model", "LeNet-5")],
                              int(st.session_state.get("train_images", DEFAULT_IMAGES)),
                              int(st.session_state.get("train_epochs", DEFAULT_EPOCHS)))
    extra = heldout = None
    if st.session_state.get("train_on_class") and _teaching():
        extra, heldout, error = _class_split(_teaching())
        if error:
            st.session_state["train_error"] = error
            return
    try:
        job = training_slot().start(config, data, owner=_owner(), extra=extra, heldout=heldout)
    except live.Busy as busy:
        st.session_state["train_error"] = (f"Another session's training is running ({busy.progress.summary()}); "
                                           "start yours when it ends.")
        return
    job.set_probe(st.session_state.get("input28"))
    st.session_state["train_job"] = job


def _teaching() -> str | None:
    """The class whose wall this session holds the key of (app/tabs/classroom.py), or None."""
    code = st.session_state.get(classes.WALL_KEY)
    return code if code and roles.teacher_keys().get(code) else None


def _class_split(code: str):
    """(the class's drawings to train on, (held-out images, labels), None), students on either side
    whole (`collected.split_by_session`); or (None, None, one line) when there are too few."""
    try:
        drawn = classroom.class_set(feedback.open_collection(), code, roles.teacher_keys().get(code))
    except (classroom.ClassError, CollectionError) as error:
        return None, None, str(error)
    if len(drawn) < MIN_CLASS_DRAWINGS or len(set(drawn.students)) < 2:
        return None, None, (f"Class {classroom.display_code(code)} has {len(drawn)} drawings by "
                            f"{len(set(drawn.students))} students: training on it needs {MIN_CLASS_DRAWINGS} "
                            "drawings by two students or more (some are held out whole).")
    train_index, held_index = split_by_session(drawn.students, seed=0)
    held = drawn.subset(held_index)
    return drawn.subset(train_index), (held.floats(), held.labels), None


def _class_result(progress: live.Progress) -> None:
    """With a class: the held-out students read by the network trained without them and with them."""
    if not progress.phase:
        return
    before, after = progress.heldout_before, progress.heldout_after
    cols = st.columns(2)
    cols[0].metric("Held-out students, MNIST alone", "…" if before is None else f"{before:.0%}",
                   help="The same network, same images and seed, trained first without the class's drawings.")
    cols[1].metric("… with the class's drawings", "…" if after is None else f"{after:.0%}",
                   delta=None if before is None or after is None else f"{(after - before) * 100:+.0f} points",
                   delta_color="normal")
    st.caption(f"Held out: {progress.heldout_count} drawings of students whose drawings it never trained on. "
               f"Trained on: {progress.extra_count} drawings of the other students, each shown "
               f"{progress.extra_repeats} times per epoch (so that they are about a tenth of what it learns "
               "from), beside the MNIST images. Few drawings make a noisy figure: a few points either way "
               "can be chance.")


def _controls(disabled: bool) -> None:
    left, middle, right = st.columns([1, 2, 2], gap="medium")
    with left:
        st.radio("Network", list(NETWORKS), key="train_model", horizontal=True, disabled=disabled)
    with middle:
        st.select_slider("Training images", IMAGE_CHOICES, value=DEFAULT_IMAGES, key="train_images",
                         format_func=lambda n: f"{n:,}", disabled=disabled,
                         help="Taken from MNIST's 60,000 training images; 2,000 others are held out to validate "
                              "after each epoch.")
    with right:
        st.slider("Epochs", 1, 10, DEFAULT_EPOCHS, key="train_epochs", disabled=disabled,
                  help="Passes over the training images.")


def _other_notice() -> None:
    """Another session's training is running: where it stands, refreshed until it ends."""
    job = _other_job()
    if job is None:
        st.rerun()  # it ended: let the page offer the Start button again
    st.info(f"Another session's training is running: {job.progress().summary()}. You can start yours when it "
            "ends.", icon=":material/hourglass_top:")


def _reading(progress: live.Progress, job: live.TrainingJob) -> None:
    """The current drawing as read after each epoch (and by the finished model)."""
    st.markdown("**Your drawing, read after each epoch**")
    image = st.session_state.get("input28")
    parts = [f"epoch {epoch}: **{int(p.argmax())}** ({p.max():.0%})" for epoch, p in progress.readings
             if p is not None]
    if parts:
        st.markdown(" · ".join(parts))
    final = None
    if job.classifier is not None and image is not None:
        final = job.classifier.classify_batch(np.asarray(image, np.float32)[None])[0]
    elif progress.readings and progress.readings[-1][1] is not None:
        final = progress.readings[-1][1]
    if final is not None:
        st.plotly_chart(figures.probability_bars(final, height=170), config=figures.CONFIG, key="train_reading")
        st.caption("The ten probabilities of your drawing, as the trained network reads it, calibrated (the "
                   "epochs' readings above are its raw softmax)." if job.classifier is not None else
                   "The ten probabilities of your drawing, as the network being trained reads it now (its raw "
                   "softmax: it is calibrated when the training ends).")
    elif image is None:
        st.caption("Draw a digit on the Draw tab: it is read after every epoch.")
    else:
        st.caption("Read at the end of each epoch.")


def _weight_rows(progress: live.Progress, shape: tuple, labels: list[str], tile_px: int, per_tile: bool,
                 key: str) -> None:
    """The watched weights as initialised, now, and their change (now minus as initialised) on its
    own colour scale, with a caption naming the largest change. shape: each tile's (H, W)."""
    initial, now = (np.asarray(w, np.float32).reshape(*shape, -1) for w in (progress.initial_weights,
                                                                            progress.weights))
    change = now - initial
    rows = (("initialised", "as initialised", initial, "weight", per_tile), ("now", "now", now, "weight", per_tile),
            ("change", "change: now minus as initialised, on its own colour scale", change, "change", False))
    for suffix, title, weights, what, scale_per_tile in rows:
        st.caption(title)
        st.plotly_chart(train_figures.weight_tiles(weights, labels, tile_px, per_tile=scale_per_tile, what=what),
                        config=figures.CONFIG, key=f"{key}_{suffix}")
    tile = int(np.abs(change).reshape(-1, change.shape[-1]).max(axis=0).argmax())
    st.caption(f"Largest change: {np.abs(change).max():.3f} ({labels[tile]}), against weights of up to "
               f"{np.abs(initial).max():.3f} as initialised: the first two rows can look alike while the weights have "
               "moved.")


def _weights(progress: live.Progress) -> None:
    if progress.weights is None:
        return
    if progress.model == "lenet5":
        st.markdown("**C1's six 5×5 kernels**")
        labels = [f"map {k}" for k in range(progress.weights.shape[-1])]
        _weight_rows(progress, (5, 5), labels, 64, per_tile=False, key="train_kernels")
        st.caption("Red weights respond to ink, blue to its absence: random at first, they become edge and "
                   "stroke detectors.")
    else:
        st.markdown(f"**The first {len(live.MLP_UNITS)} hidden units' weights, as 28×28 templates**")
        labels = [f"unit {u}" for u in live.MLP_UNITS]
        _weight_rows(progress, (28, 28), labels, 90, per_tile=True, key="train_templates")
        st.caption("Each unit weighs all 784 pixels: red pixels raise it when inked, blue lower it. Noise at "
                   "first, strokes of digits appear as it learns.")


def _calibration(entry: dict) -> None:
    """How the trained model's confidences were calibrated (`mnist_core.training.live_calibration`)."""
    if not entry:
        return
    sure = entry.get("sure_accuracy")
    right = f"; {sure:.1%} of those drawings answered above it were right" if sure is not None else ""
    st.caption(f"Calibrated like the app's models, on {entry['fitted_on']}: its probabilities are "
               f"{'softened' if entry['temperature'] > 1 else 'sharpened'} by a temperature of "
               f"{entry['temperature']:.2f}; below {entry['unsure_below']:.0%} it shows its two "
               f"likeliest digits (\"7 or 1?\"){right}; below {entry['not_digit_below']:.0%} it says the drawing "
               "does not look like a digit.")


def _panel() -> None:
    """This session's job: progress, curves, weights, readings, outcome. Polled while it runs."""
    job = _own_job()
    progress = _watch(job)  # also when it has just ended: then the whole page reruns, once
    if progress.running:
        with st.container(horizontal=True, vertical_alignment="center"):
            seconds, summary = f"{progress.elapsed:.0f} s", progress.summary()
            where = (f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/{progress.batches}"
                     if progress.state == "training" else summary[0].upper() + summary[1:])
            if progress.phase:
                where = f"{'1' if progress.phase == 'MNIST alone' else '2'} of 2, {progress.phase} · {where}"
            st.progress(progress.fraction, text=f"{where} · {seconds}", width="stretch")
            st.button("Cancel", key="train_cancel", icon=":material/stop_circle:", on_click=job.cancel)
    elif progress.state == "done":
        st.metric("Test accuracy", f"{progress.test_accuracy:.1%}",
                  delta=f"on the 10,000 test images · {progress.elapsed:.0f} s", delta_color="off",
                  delta_arrow="off")
        st.success(f"Trained a {figures.MODEL_LABELS[progress.model]} on {progress.images:,} images for "
                   f"{progress.epochs} epoch{'s' * (progress.epochs > 1)} in {progress.elapsed:.0f} s. Choose "
                   f"**{CHOICE_LABEL}** in the sidebar to read your drawings with it, or **{BESIDE_LABEL}** to "
                   "compare it with the app's model (in this session only).",
                   icon=":material/check_circle:")
        if job.classifier is not None:
            _calibration(job.classifier.card.get("calibration") or {})
    elif progress.state == "cancelled":
        st.info(f"Training stopped ({progress.message}) in epoch {progress.epoch} of {progress.epochs}; "
                "nothing is kept.", icon=":material/stop_circle:")
    else:
        st.error(f"Training failed: {progress.message}")
    _class_result(progress)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.plotly_chart(train_figures.curves(progress.points, progress.validation, progress.epochs),
                        config=figures.CONFIG, key="train_curves")
        st.caption("Lines: the loss and accuracy on the training batches since the previous point (the first "
                   "point is the untrained network: chance, about 10 %). Diamonds: the 2,000 held-out validation "
                   "images after each epoch.")
        _reading(progress, job)
    with right:
        _weights(progress)


def render(models: list[str] | None = None, *args) -> None:
    """models: unused (the network to train is chosen here)."""
    st.header("Watch it learn")
    st.caption("Train a fresh network on MNIST and watch its loss fall, its accuracy rise and its first layer "
               "change. Nothing it learns replaces the app's own models.")
    allowed, why = roles.may_train()
    if not allowed:
        st.info(why, icon=":material/lock:")
        return
    job, other = _own_job(), _other_job()
    running = job is not None and job.running
    _controls(disabled=running or other is not None)
    if _teaching():
        st.toggle(f"Train on MNIST and class {classroom.display_code(_teaching())}'s drawings", key="train_on_class",
                  disabled=running or other is not None,
                  help="Some students are held out whole; the same network is first trained on MNIST alone, and "
                       "both are scored on the held-out students: does our data help the network read us? "
                       "(Two trainings: twice as long.)")
    data, data_error = load_data()
    st.button("Start training", key="train_start", type="primary", icon=":material/play_arrow:", on_click=_start,
              disabled=running or other is not None or data is None)
    error = st.session_state.pop("train_error", None)
    if data is None:
        st.error(data_error)
    if error:
        st.error(error)
    if other is not None:
        st.fragment(run_every=POLL_S * 2)(_other_notice)()
    if job is not None:
        (st.fragment(run_every=POLL_S)(_panel) if running else _panel)()
