"""The fast path for reading digits: a model exported by Keras to LiteRT and run by LiteRT's
interpreter (XNNPACK, one thread per call).

    export(model, "models/lenet5.tflite")        # Keras' own exporter; byte-for-byte deterministic
    fast = LiteRTModel(Path("models/lenet5.tflite").read_bytes())
    fast(x)                                      # (N, 28, 28) float32 -> (N, 10) float32
    export(feature_model(model), "models/lenet5.features.tflite")   # every feature layer's output
    LiteRTModel(...).outputs(x)                  # -> [(N, 28, 28, 6) C1, ..., (N, 10) output]

Measured on the project's 2-core machine, one 28x28 image: 0.02 ms here against about 80 ms for
`model.predict` and 11 ms for an eager `model(x)` on TensorFlow (`python -m mnist_core bench`).
The `.keras` file stays the one source of truth: the `.tflite` beside it is derived from it, its
sha256 is in the model card, and a test proves that a fresh export gives the same bytes and
the same answers on all 10,000 test images. The `.features.tflite` beside it is the same network
with one output per feature layer (the Network tab's and the presenter's activations), derived
and checked the same way, so that showing the layers needs no TensorFlow either.

An interpreter holds its tensors, so it is not safe to share between threads. `LiteRTModel`
keeps a pool: a call takes an idle interpreter (or makes one, 0.4 ms) and returns it after,
so concurrent sessions never share one, and there are never more than the peak concurrency.
"""

from __future__ import annotations

import hashlib
import queue
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from .architecture import FEATURE_LAYERS
from .quiet import native_stderr_silenced


def export(model, path: Path) -> bytes:
    """Export a Keras model to a LiteRT flatbuffer at `path` with Keras' own exporter
    (`model.export(format="litert")`, which captures the weights) and return its bytes."""
    model.export(str(path), format="litert", verbose=False)
    return Path(path).read_bytes()


def write_fast_path(model, path: Path) -> dict:
    """Export `model` to `path` and return the model card's entry for it:
    {"file": name, "sha256": hex digest, "bytes": size, "runtime": "ai-edge-litert"}."""
    content = export(model, path)
    return {"file": Path(path).name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content),
            "runtime": "ai-edge-litert"}


def write_features_path(model, path: Path) -> dict:
    """Export `feature_model(model)` to `path` and return the card's entry for it, like `write_fast_path`."""
    return write_fast_path(feature_model(model), path)


def feature_model(model):
    """A Keras model with `model`'s input and one output per feature layer (`FEATURE_LAYERS`),
    input to output: the same weights, nothing trained."""
    import keras  # already imported with `model`: this module itself never imports TensorFlow

    outputs = [model.get_layer(name).output for name in FEATURE_LAYERS[model.name]]
    return keras.Model(model.inputs[0], outputs, name=f"{model.name}_features")


def export_bytes(model) -> bytes:
    """The LiteRT flatbuffer of a Keras model, exported through a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        return export(model, Path(folder) / "model.tflite")


class LiteRTModel:
    """A LiteRT flatbuffer as a function: (N, 28, 28) float32 in [0, 1] -> (N, 10) float32, its
    first output; `outputs(x)` gives all of them, in the order of the exported model's outputs.

    Safe to call from many threads at once (a pool of interpreters, one per concurrent call).
    Raises ValueError if `content` is no LiteRT model.
    """

    def __init__(self, content: bytes):
        self.content = content
        self._idle: queue.SimpleQueue[list] = queue.SimpleQueue()  # [interpreter, its planned input shape]
        with native_stderr_silenced():  # LiteRT's one-off "Created XNNPACK delegate" notice
            first = self._new()  # fails here, at load, on a bad file
        self._input = first[0].get_input_details()[0]["index"]
        # The signature names the outputs output_0, output_1, ... in the Keras model's order;
        # get_output_details() lists them in the flatbuffer's own order, which differs.
        named = first[0].get_signature_runner().get_output_details()
        self._outputs = [named[f"output_{i}"]["index"] for i in range(len(named))]
        self._idle.put(first)

    def _new(self) -> list:
        interpreter = Interpreter(model_content=self.content, num_threads=1)
        interpreter.allocate_tensors()
        return [interpreter, tuple(interpreter.get_input_details()[0]["shape"])]

    @contextmanager
    def _interpreter(self):
        try:
            entry = self._idle.get_nowait()
        except queue.Empty:
            entry = self._new()
        try:
            yield entry
        finally:
            self._idle.put(entry)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.outputs(images, first_only=True)[0]

    def outputs(self, images: np.ndarray, first_only: bool = False) -> list[np.ndarray]:
        """(N, 28, 28) float32 -> every output (or only the first), each (N, ...) float32."""
        images = np.ascontiguousarray(images, np.float32)
        with self._interpreter() as entry:
            interpreter, shape = entry
            if shape != images.shape:  # a new batch size: 0.01 ms to re-plan
                interpreter.resize_tensor_input(self._input, images.shape)
                interpreter.allocate_tensors()
                entry[1] = images.shape
            interpreter.set_tensor(self._input, images)
            interpreter.invoke()
            return [interpreter.get_tensor(index) for index in self._outputs[:1 if first_only else None]]  # copies
