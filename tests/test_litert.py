"""The LiteRT fast path: derived from the committed .keras file (a fresh export gives the committed
bytes), the same answers as the Keras model on all 10,000 test images, safe across threads, and
checked against the card like the .keras file."""

import hashlib
import json
import shutil
import threading

import numpy as np
import pytest

from mnist_core.classifier import MODELS_DIR, Classifier, ModelFileError
from mnist_core.litert import LiteRTModel, export_bytes
from mnist_core.models import build_mlp, keras

NAMES = ("mlp", "lenet5")


@pytest.mark.parametrize("name", NAMES)
def test_committed_fast_path_is_a_fresh_export_of_the_keras_file(committed, name):
    clf = committed(name)
    committed_bytes = (MODELS_DIR / f"{name}.tflite").read_bytes()
    assert hashlib.sha256(committed_bytes).hexdigest() == clf.card["litert"]["sha256"]
    assert clf.fast.content == committed_bytes  # the classifier runs the committed file
    assert export_bytes(clf.model) == committed_bytes


@pytest.mark.parametrize("name", NAMES)
def test_fast_path_equals_the_keras_model_on_the_test_set(committed, mnist, name):
    clf = committed(name)
    x = mnist.x_test.astype(np.float32) / 255
    keras_probabilities = np.concatenate([keras.ops.convert_to_numpy(clf.model(x[i : i + 2000], training=False))
                                          for i in range(0, len(x), 2000)])
    fast = clf.classify_batch(x)
    np.testing.assert_array_equal(fast.argmax(axis=1), keras_probabilities.argmax(axis=1))
    np.testing.assert_allclose(fast, keras_probabilities, atol=1e-5, rtol=0)
    # one image at a time (the app's case) gives the batch's answers
    for i in range(0, 10_000, 997):
        np.testing.assert_allclose(clf.fast(x[i : i + 1])[0], fast[i], atol=1e-6)


def test_an_export_without_weights_would_be_caught():
    """A model with other weights exports to other answers: the equivalence test is not vacuous."""
    keras.utils.set_random_seed(1)
    model = build_mlp()
    x = np.random.default_rng(0).random((64, 28, 28), dtype=np.float32)
    fast = LiteRTModel(export_bytes(model))
    np.testing.assert_allclose(fast(x), keras.ops.convert_to_numpy(model(x, training=False)), atol=1e-5)
    model.get_layer("hidden1").kernel.assign(np.zeros((784, 512), np.float32))
    assert not np.allclose(fast(x), keras.ops.convert_to_numpy(model(x, training=False)), atol=1e-3)


def test_interpreter_pool_under_threads(committed, mnist):
    """16 threads, each with its own batch size, at once: every answer is the serial one."""
    clf = committed("lenet5")
    x = mnist.x_test[:200].astype(np.float32) / 255
    serial = clf.fast(x)
    barrier, errors = threading.Barrier(16), []

    def work(worker):
        try:
            barrier.wait()
            for start in range(0, 200, worker + 1):
                stop = min(200, start + worker + 1)
                np.testing.assert_allclose(clf.fast(x[start:stop]), serial[start:stop], atol=1e-6)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


@pytest.fixture
def models_copy(committed, tmp_path):
    committed("mlp")
    for suffix in (".keras", ".json", ".tflite"):
        shutil.copy(MODELS_DIR / f"mlp{suffix}", tmp_path / f"mlp{suffix}")
    return tmp_path


def test_tampered_fast_path_is_refused(models_copy):
    path = models_copy / "mlp.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="mlp.tflite does not match the sha256") as error:
        Classifier.load("mlp", models_copy)
    assert "\n" not in str(error.value) and "export" in str(error.value)


def test_missing_fast_path_is_derived_from_the_keras_file(models_copy, mnist):
    expected = Classifier.load("mlp", models_copy).classify_batch(mnist.x_test[:50])
    (models_copy / "mlp.tflite").unlink()
    derived = Classifier.load("mlp", models_copy)
    np.testing.assert_array_equal(derived.classify_batch(mnist.x_test[:50]), expected)


def test_export_command_rewrites_the_file_and_the_card(models_copy):
    from mnist_core.cli import main

    card_path = models_copy / "mlp.json"
    card = json.loads(card_path.read_text())
    del card["litert"]
    card_path.write_text(json.dumps(card))
    (models_copy / "mlp.tflite").unlink()
    assert main(["export", "--model", "mlp", "--models-dir", str(models_copy)]) == 0
    entry = json.loads(card_path.read_text())["litert"]
    assert entry["sha256"] == hashlib.sha256((models_copy / "mlp.tflite").read_bytes()).hexdigest()
    assert entry["sha256"] == json.loads((MODELS_DIR / "mlp.json").read_text())["litert"]["sha256"]
