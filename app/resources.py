"""What is loaded once per process and shared by every session (`st.cache_resource`).

Nothing here holds per-user state: a session's drawing and results live in its own
`st.session_state` (see `app/tabs/draw.py`).
"""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_core.datasets.drawn import HAND
from mnist_core.pen.strokes import render_strokes
from mnist_core.reading.classifier import MODELS_DIR, Classifier, ModelFileError


# Set at the end of every page run (app/streamlit_app.py): app/serve.py's warm-up waits for the
# first before computing what the first page does not show. Process-wide, not per user.
FIRST_PAGE_SERVED = threading.Event()


def models_dir() -> Path:
    """Where the models are read from: $MNIST_MODELS, else the repository's `models/`."""
    return Path(os.environ.get("MNIST_MODELS") or MODELS_DIR)


def _stamp(directory: Path, name: str) -> tuple:
    """(size, mtime) of a model's files: part of the cache key, so a replaced file is re-checked."""
    stamp = []
    for path in (directory / f"{name}.keras", directory / f"{name}.json", directory / f"{name}.tflite",
                 directory / f"{name}.features.tflite"):
        try:
            info = path.stat()
            stamp.append((info.st_size, info.st_mtime_ns))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _load(name: str, directory: str, stamp: tuple) -> tuple[Classifier | None, str | None]:
    """Load and verify one model and warm up its two LiteRT exports (the answer, the layers), so
    that the first stroke is as fast as the others. No TensorFlow: see `with_keras`. A failure is
    cached too, as its one-line message, until the files change (`stamp`)."""
    del stamp  # only part of the cache key
    try:
        classifier = Classifier.load(name, directory)
    except ModelFileError as error:
        return None, str(error)
    blank = np.zeros((28, 28), np.float32)
    classifier.classify_batch(blank[None])
    classifier.activations(blank)
    _freeze()
    return classifier, None


@st.cache_resource(show_spinner="Loading TensorFlow for the network's weights and gradients (once per server, "
                                "a few seconds)…", max_entries=8)
def _load_keras(name: str, directory: str, stamp: tuple) -> str | None:
    """Load model `name`'s Keras model (and TensorFlow) and compile its gradients: None, or the
    one-line reason it failed (cached until the files change)."""
    classifier, error = _load(name, directory, stamp)
    if classifier is None:
        return error
    try:
        classifier.model
    except ModelFileError as failure:
        return str(failure)
    blank = np.zeros((28, 28), np.float32)
    classifier.saliency(blank)
    classifier.saliency_batch(blank[None], 0)  # the Network tab's SmoothGrad
    _freeze()
    return None


def _freeze() -> None:
    """Take everything loaded by now out of every later garbage collection. Streamlit runs a full
    collection after every script run (and keras.backend.clear_session() too once Keras is
    imported); with TensorFlow, Keras and the models loaded (442,000 objects) the walks took 460 ms
    after every stroke's run. What is loaded here is libraries and models, nothing per user."""
    gc.collect()
    gc.freeze()


def with_keras(name: str) -> str | None:
    """Make sure model `name`'s Keras model is loaded (TensorFlow: its kernels, receptive fields
    and gradients), once per process, with a spinner saying so: None, or a one-line error. Reading
    a digit and the layers' activations never need this; the Network tab and the presenter's
    details do."""
    if name == SESSION_MODEL:  # trained in this process: its Keras model is in memory
        return None if st.session_state.get("trained_model") is not None else load_classifier(name)[1]
    directory = models_dir()
    return _load_keras(name, str(directory), _stamp(directory, name))


SESSION_MODEL = "yours"  # the model this session trained on the Train tab (app/tabs/train.py)


def load_classifier(name: str) -> tuple[Classifier | None, str | None]:
    """The verified classifier `name` ("mlp" or "lenet5") and None, or None and a one-line error
    saying how to fix it. Loaded once per process and file version. SESSION_MODEL is the
    exception: this session's own trained model, held in its session state, never shared."""
    if name == SESSION_MODEL:
        classifier = st.session_state.get("trained_model")
        return (classifier, None) if classifier is not None else (
            None, "No trained model in this session: train one on the Train tab.")
    directory = models_dir()
    return _load(name, str(directory), _stamp(directory, name))


@st.cache_resource
def example_drawing() -> np.ndarray:
    """A hand-drawn-style "7" on a 280x280 canvas, for the Network tab before anything is drawn.

    Returns (280, 280) float32 in [0, 1], 1 = ink (read-only): the first "7" style of
    `mnist_core.datasets.drawn.HAND`, 200 px tall, drawn by `render_strokes` with a 20 px brush.
    """
    strokes = [np.asarray(stroke) * 200 + 40 for stroke in HAND[7][0]]
    ink = render_strokes(strokes, (280, 280), 20.0)
    ink.setflags(write=False)
    return ink
