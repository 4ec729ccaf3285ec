"""mnist_core: MNIST data, MNIST-style preprocessing, augmentation, the MLP and LeNet-5, training,
evaluation and the classifier API. Pure Python: the Streamlit app in `app/` only draws what this computes."""

from .classifier import MODEL_NAMES, Classifier, ModelFileError, Result
from .data import DataCorrupt, DataUnavailable, MnistData, load_mnist
from .preprocess import Preprocessed, preprocess

__all__ = ["Classifier", "ModelFileError", "Result", "MODEL_NAMES", "load_mnist", "MnistData", "DataUnavailable",
           "DataCorrupt", "preprocess", "Preprocessed"]
