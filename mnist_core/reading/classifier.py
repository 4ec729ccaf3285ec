"""The classifier API: a trained model, checked against its card, that reads any image of a digit.

    clf = Classifier.load("lenet5")      # models/lenet5.keras, verified against models/lenet5.json
    r = clf.classify(image)              # any image `preprocess` accepts
    r.label, r.probabilities, r.input28  # int or None (empty, or not a digit), (10,) float32, (28, 28) float32
    r.not_digit, r.nearest, r.reason     # "That doesn't look like a digit; the nearest would be a 4."
    clf.classify_batch(x)                # (N, 28, 28) float32 in [0, 1] -> (N, 10) float32

Reading goes through the fast path (`litert.LiteRTModel`): the model exported by Keras to LiteRT,
committed beside the `.keras` file with its sha256 in the card (derived afresh if it is missing).
Never through `model.predict`, which sets up a whole prediction loop on every call (about 80 ms
for one image on TensorFlow here, against 0.02 ms: see `python -m mnist_core bench`). The layers'
activations come from a second LiteRT export, `<name>.features.tflite`, with one output per layer.

Reading and activations never import TensorFlow (3.6 s and ~700 MB): `load` checks the `.keras`
file against its card but does not load it. The Keras model (`.model`) is loaded on first use of
what only it can do: saliency (gradients, each a `tf.function` compiled once), the kernels, the
layers' geometry, a fast path to derive. Every method is safe to call from many threads at once:
weights are only read, and each call gets its own LiteRT interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..imaging.preprocess import Preprocessed, preprocess
from ..networks.architecture import FEATURE_LAYERS
from ..networks.litert import LiteRTModel, export_bytes, feature_model
from .calibration import apply_temperature

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
MODEL_NAMES = ("mlp", "lenet5")


class ModelFileError(RuntimeError):
    """A model file or its card is missing, unreadable, or does not match the card's sha256."""


@dataclass(frozen=True)
class Result:
    """What a classifier made of one image.

    label:         the predicted digit, or None when the image holds no digit (see `reason`).
    probabilities: (10,) float32, calibrated on real drawings (see `calibration`); zeros when empty.
                   Kept for a drawing called no digit: forced to choose, the softmax picks `nearest`.
    input28:       (28, 28) float32 in [0, 1]: what the model saw.
    preprocessed:  every preprocessing step, for display.
    model:         the model's name.
    unsure_below:  the model's threshold: a top probability below it is shown as a question.
    not_digit:     True when the drawing does not look like a digit (top probability below the
                   model's `not_digit_below`): label None, and `reason` says so.
    """

    label: int | None
    probabilities: np.ndarray
    input28: np.ndarray
    preprocessed: Preprocessed
    model: str
    unsure_below: float = 0.0
    not_digit: bool = False

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def unsure(self) -> bool:
        """True when the answer is too close to call: the app then says "4 or 9?"."""
        return self.label is not None and self.confidence < self.unsure_below

    @property
    def runner_up(self) -> int | None:
        """The second likeliest digit, or None when there is no answer."""
        return None if self.label is None else int(np.argsort(self.probabilities)[-2])

    @property
    def nearest(self) -> int | None:
        """The likeliest digit even when the drawing is called no digit; None when empty."""
        return int(self.probabilities.argmax()) if self.probabilities.any() else None

    @property
    def reason(self) -> str | None:
        """One line saying why there is no answer (no ink, a dot, not a digit), or None."""
        if self.not_digit:
            return f"That doesn't look like a digit; the nearest would be a {self.nearest}."
        return self.preprocessed.empty_reason


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Classifier:
    """A trained model with its card and its two LiteRT exports. Build it with `Classifier.load(name)`."""

    def __init__(self, model, card: dict, name: str, fast: LiteRTModel | None = None,
                 features: LiteRTModel | None = None, keras_file: Path | None = None):
        """model: a keras.Model, or None with `keras_file`, the `.keras` file checked against the
        card, loaded on first use of `.model`. fast / features: the LiteRT exports (derived from
        the Keras model when None: that loads it)."""
        self._model, self._keras_file, self.card, self.name = model, keras_file, card, name
        self._lock = threading.RLock()
        self._compiled = None
        self.fast = fast or LiteRTModel(export_bytes(self.model))
        self._features = features
        calibration = card.get("calibration") or {}  # fitted on held-out real drawings by `train`
        self.temperature = float(calibration.get("temperature", 1.0))
        self.unsure_below = float(calibration.get("unsure_below", 0.0))
        self.not_digit_below = float(calibration.get("not_digit_below", 0.0))  # fitted on populations held out

    @classmethod
    def load(cls, name: str = "lenet5", models_dir: str | Path | None = None) -> Classifier:
        """Check `models_dir/<name>.keras` against `<name>.json` (sha256, and that it is a Keras
        archive) and load its fast path `<name>.tflite` and its layers `<name>.features.tflite`,
        each checked against the card (`litert`, `litert_features`). A missing export or card
        entry is derived afresh from the `.keras` file, which then loads TensorFlow; with both
        committed nothing here imports it.

        models_dir defaults to $MNIST_MODELS, else the repository's `models/`.

        Raises ModelFileError with one line saying what is wrong and how to fix it.
        """
        models_dir = Path(models_dir or os.environ.get("MNIST_MODELS") or MODELS_DIR)
        path, card = read_card(name, models_dir)
        return cls(None, card, name, _load_export(models_dir, name, card, "litert", ".tflite"),
                   _load_export(models_dir, name, card, "litert_features", ".features.tflite"), keras_file=path)

    @property
    def model(self):
        """The Keras model (keras.Model), loaded in safe mode on first use: this imports TensorFlow.
        Raises ModelFileError (one line) when the file changed since `load` or will not load."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_keras_file(self._keras_file, self.card)
        return self._model

    @property
    def keras_loaded(self) -> bool:
        """True once `.model` has been loaded (and with it TensorFlow)."""
        return self._model is not None

    @property
    def kind(self) -> str:
        """Which network this is: "mlp" or "lenet5" (from the card, else from the Keras model)."""
        return (self.card.get("config") or {}).get("model") or self.model.name

    @property
    def features(self) -> LiteRTModel:
        """The LiteRT export with one output per feature layer (derived on first use when missing)."""
        if self._features is None:
            with self._lock:
                if self._features is None:
                    self._features = LiteRTModel(export_bytes(feature_model(self.model)))
        return self._features

    def classify(self, image, background=None, near=None) -> Result:
        """Preprocess any image (see `preprocess`; `background` is the paper's colour if known,
        e.g. 0.0 for the app's black canvas; `near`, where a person pointed at the digit in a photo)
        and classify it. An image with no ink gives label
        None, zero probabilities and a reason; a drawing that is no digit (a tap, a letter, a
        scribble: calibrated top probability below the card's `not_digit_below`) gives label None,
        `not_digit`, its ten probabilities and a reason naming the nearest digit. Never an
        exception for odd pixels."""
        steps = preprocess(image, background, near)
        if steps.empty:
            return Result(None, np.zeros(10, np.float32), steps.image, steps, self.name, self.unsure_below)
        probabilities = self.probabilities(steps.image[None])[0]
        not_digit = bool(probabilities.max() < self.not_digit_below)
        label = None if not_digit else int(probabilities.argmax())
        return Result(label, probabilities, steps.image, steps, self.name, self.unsure_below, not_digit)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) float32: the fast path's softmax, calibrated
        with the card's temperature (the same answers, honest confidences)."""
        raw = self.fast(images)
        return raw if self.temperature == 1.0 else apply_temperature(raw, self.temperature)

    def classify_batch(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] (uint8 is scaled by 1/255) -> (N, 10) float32 probabilities.

        Read `batch_size` images at a time: an interpreter keeps the memory planned for the
        largest batch it read (LeNet-5: 18 MB more for 1,000 than for 256, at the same speed)."""
        images = np.asarray(images)
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / 255
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"expected (N, 28, 28) images, got shape {images.shape}")
        if len(images) == 0:
            return np.zeros((0, 10), np.float32)
        return np.concatenate([self.probabilities(images[i : i + batch_size])
                               for i in range(0, len(images), batch_size)])

    @property
    def feature_layers(self) -> tuple[str, ...]:
        """Names of the layers `activations` returns, input to output."""
        return FEATURE_LAYERS[self.kind]

    def _functions(self):
        """(saliency, gradients): `tf.function`s for one (1, 28, 28) image and for (N, 28, 28)
        images, traced once, on first use, by whichever thread gets here first. Loads TensorFlow."""
        with self._lock:
            if self._compiled is None:
                import tensorflow as tf  # here, not at the top: reading a digit never needs it

                features = feature_model(self.model)
                # the layer feeding the output (F6 / hidden2) times the output's weights: the logits
                output = self.model.get_layer("output")

                def saliency(x, label):
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        hidden = features(x, training=False)[-2]
                        logits = tf.matmul(hidden, output.kernel) + output.bias
                        label_ = tf.where(label < 0, tf.argmax(logits[0], output_type=tf.int32), label)
                        score = logits[0, label_]
                    return tape.gradient(score, x)[0]

                def gradients(x, label):
                    # the images do not interact (inference: no batch statistics), so the gradient of
                    # the summed scores is each image's own gradient
                    with tf.GradientTape() as tape:
                        tape.watch(x)
                        hidden = features(x, training=False)[-2]
                        logit = tf.linalg.matvec(hidden, tf.gather(output.kernel, label, axis=1))  # bias: no gradient
                        score = tf.reduce_sum(logit)
                    return tape.gradient(score, x)

                one_image, images = tf.TensorSpec((1, 28, 28), tf.float32), tf.TensorSpec((None, 28, 28), tf.float32)
                label_spec = tf.TensorSpec((), tf.int32)
                self._compiled = (tf.function(saliency, input_signature=[one_image, label_spec]),
                                  tf.function(gradients, input_signature=[images, label_spec]))
            return self._compiled

    def activations(self, image28: np.ndarray) -> dict[str, np.ndarray]:
        """Each feature layer's output (the output layer's uncalibrated) for one (28, 28) float32 input, batch axis dropped:
        e.g. LeNet-5's C1 (28, 28, 6), S2 (14, 14, 6), C3 (10, 10, 16), S4 (5, 5, 16),
        C5 (1, 1, 120), F6 (84,), output (10,); the MLP's hidden1 (512,), hidden2 (128,), output (10,).
        Through the LiteRT features export: no TensorFlow."""
        outputs = self.features.outputs(np.asarray(image28, np.float32)[None])
        return {name: out[0] for name, out in zip(self.feature_layers, outputs)}

    def saliency(self, image28: np.ndarray, label: int | None = None) -> np.ndarray:
        """Gradient of a class's score (its logit, before the softmax) with respect to each input
        pixel, through tf.GradientTape: (28, 28) float32, positive where more ink would raise the
        score. `label` defaults to the predicted class."""
        x = np.asarray(image28, np.float32)[None]
        return self._functions()[0](x, np.int32(-1 if label is None else label)).numpy()

    def saliency_batch(self, images28: np.ndarray, label: int) -> np.ndarray:
        """`saliency` of one class for many inputs in one call (one compiled graph, any batch size):
        (N, 28, 28) float32 -> (N, 28, 28) float32, the gradient of `label`'s logit (0-9) for each."""
        x = np.asarray(images28, np.float32).reshape(-1, 28, 28)
        return self._functions()[1](x, np.int32(label)).numpy()

    def kernels(self, layer: str) -> np.ndarray:
        """A convolution layer's kernel as (kh, kw, in_maps, out_maps) float32; for C3 with the
        unconnected weights zeroed (see `models.SparseConv2D`)."""
        from ..networks.models import keras  # loaded with `.model`

        found = self.model.get_layer(layer)
        masked = getattr(found, "masked_kernel", None)
        return masked() if masked else keras.ops.convert_to_numpy(found.kernel)


def _retrain(name: str) -> str:
    return f"restore it from git or run `python -m mnist_core train --model {name}`"


def read_card(name: str, models_dir: Path) -> tuple[Path, dict]:
    """The path of `models_dir/<name>.keras` and its card, after checking the file's sha256
    against the card and that it is a Keras archive (a zip with the model's config and weights),
    without loading it. Raises ModelFileError (one line) when anything is off."""
    path, card_path = models_dir / f"{name}.keras", models_dir / f"{name}.json"
    if not path.is_file() or not card_path.is_file():
        missing = path if not path.is_file() else card_path
        raise ModelFileError(f"{missing} is missing: {_retrain(name)}.")
    try:
        card = json.loads(card_path.read_text())
        expected = card["sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFileError(f"{card_path} is not a valid model card ({error}): {_retrain(name)}.") from None
    if _sha256(path) != expected:
        raise ModelFileError(f"{path} does not match the sha256 in its card (changed or corrupted): {_retrain(name)}.")
    try:
        with zipfile.ZipFile(path) as archive:
            json.loads(archive.read("config.json"))
            archive.getinfo("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ModelFileError(f"{path} could not be loaded ({type(error).__name__}: {error}): {_retrain(name)}.") from None
    return path, card


def _load_keras_file(path: Path, card: dict):
    """The Keras model in `path` (safe mode), checked against `card` once more (it may have changed
    since `read_card`). Imports TensorFlow. Raises ModelFileError (one line)."""
    from ..networks.models import keras  # selects Keras' TensorFlow backend and registers SparseConv2D

    name = path.stem
    if _sha256(path) != card["sha256"]:
        raise ModelFileError(f"{path} does not match the sha256 in its card (changed or corrupted): {_retrain(name)}.")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # a file that matches its card but will not load: say so in one line
        raise ModelFileError(f"{path} could not be loaded ({type(error).__name__}: {error}): {_retrain(name)}.") from None


def load_keras(name: str, models_dir: Path):
    """(keras.Model, card): `models_dir/<name>.keras` loaded in safe mode after `read_card`'s checks."""
    path, card = read_card(name, models_dir)
    return _load_keras_file(path, card), card


def _load_export(models_dir: Path, name: str, card: dict, entry_name: str, suffix: str) -> LiteRTModel | None:
    """The committed `<name><suffix>` checked against the card's `entry_name` entry, or None
    (derive it) when the file or the entry is missing. A file that does not match raises ModelFileError."""
    path, entry = models_dir / f"{name}{suffix}", card.get(entry_name)
    if not path.is_file() or not isinstance(entry, dict):
        return None
    content = path.read_bytes()
    fix = f"restore it from git, or run `python -m mnist_core export --model {name}` to derive it from {name}.keras"
    if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
        raise ModelFileError(f"{path} does not match the sha256 in its card (changed or corrupted): {fix}.")
    try:
        return LiteRTModel(content)
    except Exception as error:
        raise ModelFileError(f"{path} could not be loaded ({type(error).__name__}: {error}): {fix}.") from None
