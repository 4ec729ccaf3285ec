"""The classifier API: a trained model, checked against its card, that reads any image of a digit.

    clf = Classifier.load("lenet5")      # models/lenet5.keras, verified against models/lenet5.json
    r = clf.classify(image)              # any image `preprocess` accepts
    r.label, r.probabilities, r.input28  # int or None (empty), (10,) float32, (28, 28) float32
    clf.classify_batch(x)                # (N, 28, 28) float32 in [0, 1] -> (N, 10) float32

A single drawing goes through `model(x, training=False)` with autograd off, never through
`model.predict` (which sets up a whole prediction loop on every call: 1.3-2.4x the bare forward
pass on the torch backend here, see `python -m mnist_core bench`; tens of ms on others). Every
method is safe to call from many threads at once: the model's weights are only read, and
the per-call state (PyTorch's no-grad mode, Keras' call context) is thread-local.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .models import FEATURE_LAYERS, keras
from .preprocess import Preprocessed, preprocess

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
MODEL_NAMES = ("mlp", "lenet5")


class ModelFileError(RuntimeError):
    """A model file or its card is missing, unreadable, or does not match the card's sha256."""


@dataclass(frozen=True)
class Result:
    """What a classifier made of one image.

    label:         the predicted digit, or None when the image holds no digit (see `reason`).
    probabilities: (10,) float32 softmax output; all zeros when empty.
    input28:       (28, 28) float32 in [0, 1]: what the model saw.
    preprocessed:  every preprocessing step, for display.
    model:         the model's name.
    """

    label: int | None
    probabilities: np.ndarray
    input28: np.ndarray
    preprocessed: Preprocessed
    model: str

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def reason(self) -> str | None:
        return self.preprocessed.empty_reason


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _numpy(tensor) -> np.ndarray:
    # torch tensors directly: Keras' convert_to_numpy calls np.array(tensor), which NumPy 2
    # answers with a DeprecationWarning (Tensor.__array__ takes no `copy`) on every call
    if isinstance(tensor, torch.Tensor):
        return tensor.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(tensor)


class Classifier:
    """A trained Keras model with its card. Build it with `Classifier.load(name)`."""

    def __init__(self, model: keras.Model, card: dict, name: str):
        self.model, self.card, self.name = model, card, name
        self._lock = threading.Lock()
        self._features = None

    @classmethod
    def load(cls, name: str = "lenet5", models_dir: str | Path | None = None) -> Classifier:
        """Load `models_dir/<name>.keras` (safe mode) after checking its sha256 against `<name>.json`.

        models_dir defaults to $MNIST_MODELS, else the repository's `models/`.

        Raises ModelFileError with one line saying what is wrong and how to fix it.
        """
        models_dir = Path(models_dir or os.environ.get("MNIST_MODELS") or MODELS_DIR)
        path, card_path = models_dir / f"{name}.keras", models_dir / f"{name}.json"
        retrain = f"restore it from git or run `python -m mnist_core train --model {name}`"
        if not path.is_file() or not card_path.is_file():
            missing = path if not path.is_file() else card_path
            raise ModelFileError(f"{missing} is missing: {retrain}.")
        try:
            card = json.loads(card_path.read_text())
            expected = card["sha256"]
        except (ValueError, KeyError, TypeError) as error:
            raise ModelFileError(f"{card_path} is not a valid model card ({error}): {retrain}.") from None
        if _sha256(path) != expected:
            raise ModelFileError(f"{path} does not match the sha256 in its card (changed or corrupted): {retrain}.")
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # a file that matches its card but will not load: say so in one line
            raise ModelFileError(f"{path} could not be loaded ({type(error).__name__}: {error}): {retrain}.") from None
        return cls(model, card, name)

    def _forward(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 -> (N, 10) float32 probabilities, one eager call, no autograd."""
        with torch.no_grad():
            return _numpy(self.model(np.ascontiguousarray(images, np.float32), training=False))

    def classify(self, image, background=None) -> Result:
        """Preprocess any image (see `preprocess`; `background` is the paper's colour if known,
        e.g. 0.0 for the app's black canvas) and classify it. An image with no digit gives label
        None, zero probabilities and a reason; never an exception for odd pixels."""
        steps = preprocess(image, background)
        if steps.empty:
            return Result(None, np.zeros(10, np.float32), steps.image, steps, self.name)
        probabilities = self._forward(steps.image[None])[0]
        return Result(int(probabilities.argmax()), probabilities, steps.image, steps, self.name)

    def classify_batch(self, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] (uint8 is scaled by 1/255) -> (N, 10) float32 probabilities."""
        images = np.asarray(images)
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / 255
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"expected (N, 28, 28) images, got shape {images.shape}")
        if len(images) == 0:
            return np.zeros((0, 10), np.float32)
        return np.concatenate([self._forward(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])

    @property
    def feature_layers(self) -> tuple[str, ...]:
        """Names of the layers `activations` returns, input to output."""
        return FEATURE_LAYERS[self.model.name]

    def _feature_model(self) -> keras.Model:
        with self._lock:  # built once, on first use, by whichever thread gets here first
            if self._features is None:
                outputs = [self.model.get_layer(name).output for name in self.feature_layers]
                self._features = keras.Model(self.model.inputs[0], outputs)
            return self._features

    def activations(self, image28: np.ndarray) -> dict[str, np.ndarray]:
        """Each feature layer's output for one (28, 28) float32 input, batch axis dropped:
        e.g. LeNet-5's C1 (28, 28, 6), S2 (14, 14, 6), C3 (10, 10, 16), S4 (5, 5, 16),
        C5 (1, 1, 120), F6 (84,), output (10,); the MLP's hidden1 (512,), hidden2 (128,), output (10,)."""
        with torch.no_grad():
            outputs = self._feature_model()(np.asarray(image28, np.float32)[None], training=False)
        return {name: _numpy(out)[0] for name, out in zip(self.feature_layers, outputs)}

    def saliency(self, image28: np.ndarray, label: int | None = None) -> np.ndarray:
        """Gradient of a class's score (its logit, before the softmax) with respect to each input
        pixel: (28, 28) float32, positive where more ink would raise the score. `label` defaults
        to the predicted class."""
        x = torch.tensor(np.asarray(image28, np.float32)[None], requires_grad=True)
        hidden = self._feature_model()(x, training=False)[-2]  # the layer feeding the output (F6 / hidden2)
        output = self.model.get_layer("output")
        logits = torch.matmul(hidden, output.kernel.value) + output.bias.value
        if label is None:
            label = int(logits.argmax())
        (gradient,) = torch.autograd.grad(logits[0, label], x)
        return gradient[0].numpy().astype(np.float32)

    def kernels(self, layer: str) -> np.ndarray:
        """A convolution layer's kernel as (kh, kw, in_maps, out_maps) float32; for C3 with the
        unconnected weights zeroed (see `models.SparseConv2D`)."""
        found = self.model.get_layer(layer)
        masked = getattr(found, "masked_kernel", None)
        return masked() if masked else _numpy(found.kernel)
