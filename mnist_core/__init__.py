"""mnist_core: MNIST data, MNIST-style preprocessing, augmentation, the MLP and LeNet-5, training,
evaluation and the classifier API. Pure Python: the Streamlit app in `app/` only draws what this computes.

Its packages, in the order of the data path; each imports only those above it (its docstring
says which, and tests/test_imports.py checks it):

    imaging     image files, ink, the photo path, the MNIST preprocessing, augmentation
    pen         pen strokes, the canvas's vector paths, lesson links, handwriting styles
    networks    the MLP and LeNet-5 in Keras, and their LiteRT export
    reading     the classifier API, its confidence rules, numbers, explanations
    datasets    MNIST, pendigits and UJI, the drawn and photo test sets, statistics, 2-D maps
    evaluation  accuracy, comparisons, held-out populations, robustness, benchmarks
    collection  the drawings people keep, and classes
    training    training, export and model cards; training you can watch

`cli` (`python -m mnist_core ...`) sits on top of them all.

The names below are imported on first use (PEP 562), so that `import mnist_core` and the CLI's
--help do not pay for loading TensorFlow and Keras (seconds) until a model is needed.
"""

import importlib

_HOMES = {
    "Classifier": "reading.classifier", "ModelFileError": "reading.classifier", "Result": "reading.classifier",
    "MODEL_NAMES": "reading.classifier", "preprocess": "imaging.preprocess", "Preprocessed": "imaging.preprocess",
    "load_mnist": "datasets.data", "MnistData": "datasets.data", "DataUnavailable": "datasets.data",
    "DataCorrupt": "datasets.data",
}
__all__ = list(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module 'mnist_core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
