"""The data set and everything computed from it, cached for the Data, Evaluation and Learn tabs.

The data is loaded once per process (`st.cache_resource`), and its outcome too: without data,
the reason is kept, so no tab retries a download on every rerun (`retry_data` clears it).
Statistics and model outputs are `st.cache_data` entries keyed by the data's sha256 (and the
model file's sha256): they are computed once per data set and model, then read back in
milliseconds. All the computing is in `mnist_core`; this file only decides what is cached.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.resources import load_classifier
from mnist_core import MODEL_NAMES, DataCorrupt, DataUnavailable, load_mnist
from mnist_core.datasets import embedding, stats
from mnist_core.evaluation import bench, comparison, robustness

CURRENT_DRAWING = "input28"  # st.session_state key the Draw tab fills: (28, 28) float32 in [0, 1] or None


@st.cache_resource(show_spinner="Loading MNIST…")
def load_data():
    """(MnistData, None), or (None, the one-line reason there is none and how to get it)."""
    try:
        return load_mnist(), None
    except (DataUnavailable, DataCorrupt) as error:
        return None, str(error)


def retry_data() -> None:
    """Forget the cached outcome, so the next `load_data` tries again (a button's callback)."""
    load_data.clear()


def current_drawing() -> np.ndarray | None:
    """The user's current drawing as the model saw it, (28, 28) float32 in [0, 1], or None."""
    image = st.session_state.get(CURRENT_DRAWING)
    if image is None:
        return None
    image = np.asarray(image, np.float32)
    return image if image.shape == (28, 28) and image.max() > 0 else None


def _data(sha256: str):
    data, _ = load_data()
    if data is None or data.sha256 != sha256:
        raise RuntimeError("the data set changed while the app was running: reload the page")
    return data


SPLITS = {"train": "training set (60,000)", "test": "test set (10,000)", "all": "both (70,000)"}  # the Data tab's


@st.cache_data(show_spinner="Computing the statistics (once per data set)…", max_entries=6)
def data_stats(sha256: str, split: str) -> stats.DataStats:
    """`stats.summarize` of a split of SPLITS: "train", "test" or "all"."""
    return stats.summarize(*stats.split_arrays(_data(sha256), split))


@st.cache_data(show_spinner="Computing the PCA map (once per data set)…", max_entries=2)
def pca_map(sha256: str) -> embedding.PcaMap:
    return embedding.pca_map(_data(sha256))


@st.cache_data(show_spinner="Computing the t-SNE map (one to three minutes, once per data set)…", max_entries=4)
def tsne_map(sha256: str, n: int) -> embedding.TsneMap:
    return embedding.tsne_map(_data(sha256), n)


@st.cache_data(show_spinner=False, max_entries=32)
def nearest_training(sha256: str, image28: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """`embedding.nearest` among the training images: (indices (k,), distances (k,))."""
    return embedding.nearest(_data(sha256).x_train, image28, k)


@st.cache_data(show_spinner=False, max_entries=32)
def place_on_tsne(sha256: str, n: int, image28: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`embedding.place_on_tsne` on the cached t-SNE map of n images."""
    return embedding.place_on_tsne(tsne_map(sha256, n), _data(sha256), image28)


def model_sha(name: str) -> str | None:
    """The sha256 of a loadable model's file (from its verified card), or None."""
    classifier, _ = load_classifier(name)
    return classifier.card["sha256"] if classifier else None


def available_models(names=MODEL_NAMES) -> dict[str, object]:
    """name -> Classifier for each model that loads; the others are left out."""
    return {name: clf for name in names if (clf := load_classifier(name)[0]) is not None}


@st.cache_data(show_spinner="Classifying the 10,000 test images (once per model)…", max_entries=8)
def test_probabilities(name: str, model_sha256: str, data_sha256: str) -> np.ndarray:
    """(10000, 10) float32: `classify_batch` of the test images. model_sha256 keys the cache."""
    del model_sha256
    return load_classifier(name)[0].classify_batch(_data(data_sha256).x_test)


@st.cache_data(show_spinner=False, max_entries=8)
def test_metrics(name: str, model_sha256: str, data_sha256: str) -> dict:
    """`comparison.test_metrics` of a model on the test set, checked against its card."""
    card = load_classifier(name)[0].card
    return comparison.test_metrics(test_probabilities(name, model_sha256, data_sha256), _data(data_sha256).y_test, card)


@st.cache_data(show_spinner="Timing the models…", max_entries=8)
def latency(name: str, model_sha256: str, repeat: int = 15) -> float:
    """Median ms of `Classifier.classify` on the app's 280x280 canvas as the browser sends it
    (preprocessing included), timed by `mnist_core.evaluation.bench`."""
    del model_sha256
    classifier, drawing = load_classifier(name)[0], bench.canvas_drawing()
    return bench.median_ms(lambda: classifier.classify(drawing, bench.CANVAS_BACKGROUND), repeat)


@st.cache_data(show_spinner="Computing robustness curves…", max_entries=64)
def curves(name: str, model_sha256: str, images: np.ndarray, labels: np.ndarray) -> dict:
    """`robustness.robustness_curves` of one model over (N, 28, 28) float32 images."""
    del model_sha256
    return robustness.robustness_curves(load_classifier(name)[0].classify_batch, images, labels)
