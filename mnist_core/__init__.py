"""mnist_core: MNIST data, MNIST-style preprocessing, augmentation, the MLP and LeNet-5, training,
evaluation and the classifier API. Pure Python: the Streamlit app in `app/` only draws what this computes.

The names below are imported on first use (PEP 562), so that `import mnist_core` and the CLI's
--help do not pay for loading TensorFlow and Keras (seconds) until a model is needed.
"""

import importlib

_HOMES = {
    "Classifier": "classifier", "ModelFileError": "classifier", "Result": "classifier", "MODEL_NAMES": "classifier",
    "load_mnist": "data", "MnistData": "data", "DataUnavailable": "data", "DataCorrupt": "data",
}  # `preprocess` is not among them: the name is its module's too; use mnist_core.preprocess.preprocess
__all__ = list(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module 'mnist_core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
