"""The LiteRT exports: the fast path and the layers' export, each derived from the committed .keras
file (a fresh export gives the committed bytes), the same answers and activations as the Keras
model on all 10,000 test images, safe across threads, and checked against the card like the
.keras file."""

import hashlib
import json
import shutil
import threading

import numpy as np
import pytest

from mnist_core.networks.litert import LiteRTModel, export_bytes, feature_model
from mnist_core.networks.models import build_mlp, keras
from mnist_core.reading.classifier import MODELS_DIR, Classifier, ModelFileError

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
    fast = np.concatenate([clf.fast(x[i : i + 1000]) for i in range(0, len(x), 1000)])
    np.testing.assert_array_equal(fast.argmax(axis=1), keras_probabilities.argmax(axis=1))
    np.testing.assert_allclose(fast, keras_probabilities, atol=1e-5, rtol=0)
    # one image at a time (the app's case) gives the batch's answers
    for i in range(0, 10_000, 997):
        np.testing.assert_allclose(clf.fast(x[i : i + 1])[0], fast[i], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_committed_features_are_a_fresh_export_of_the_keras_file(committed, name):
    clf = committed(name)
    committed_bytes = (MODELS_DIR / f"{name}.features.tflite").read_bytes()
    assert hashlib.sha256(committed_bytes).hexdigest() == clf.card["litert_features"]["sha256"]
    assert clf.features.content == committed_bytes
    assert export_bytes(feature_model(clf.model)) == committed_bytes


@pytest.mark.parametrize("name", NAMES)
def test_activations_from_litert_equal_keras_on_the_test_set(committed, mnist, name):
    """Every feature layer's output, for all 10,000 test images, within 1e-5 of the Keras model's
    (absolute, plus 1e-5 of the value: a unit of the MLP's hidden1 sums 784 float32 products, and
    XNNPACK and TensorFlow add them in another order; measured: at most 1.3e-5 on a value of 5.0)."""
    clf = committed(name)
    reference = feature_model(clf.model)
    x = mnist.x_test.astype(np.float32) / 255
    for start in range(0, len(x), 1000):
        batch = x[start : start + 1000]
        for layer, keras_out, lite_out in zip(clf.feature_layers, reference(batch, training=False),
                                              clf.features.outputs(batch)):
            keras_out = keras.ops.convert_to_numpy(keras_out)
            assert lite_out.shape == keras_out.shape, layer
            np.testing.assert_allclose(lite_out, keras_out, atol=1e-5, rtol=1e-5, err_msg=f"{name} {layer}")
    # `activations` of one image (the app's case) is that image's row, named and without the batch axis
    expected = [keras.ops.convert_to_numpy(out)[0] for out in reference(x[1234:1235], training=False)]
    one = clf.activations(x[1234])
    assert list(one) == list(clf.feature_layers)
    for layer, value in zip(clf.feature_layers, expected):
        np.testing.assert_allclose(one[layer], value, atol=1e-5, rtol=1e-5, err_msg=layer)


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
    for suffix in (".keras", ".json", ".tflite", ".features.tflite"):
        shutil.copy(MODELS_DIR / f"mlp{suffix}", tmp_path / f"mlp{suffix}")
    return tmp_path


@pytest.mark.parametrize("file", ["mlp.tflite", "mlp.features.tflite"])
def test_a_tampered_export_is_refused(models_copy, file):
    path = models_copy / file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=f"{file} does not match the sha256") as error:
        Classifier.load("mlp", models_copy)
    assert "\n" not in str(error.value) and "export" in str(error.value)


def test_missing_fast_path_is_derived_from_the_keras_file(models_copy, mnist):
    x = mnist.x_test[:50].astype(np.float32) / 255
    committed = Classifier.load("mlp", models_copy)
    expected, layers = committed.fast(x), committed.activations(x[0])
    (models_copy / "mlp.tflite").unlink()
    (models_copy / "mlp.features.tflite").unlink()
    derived = Classifier.load("mlp", models_copy)
    np.testing.assert_array_equal(derived.fast(x), expected)
    for layer, value in derived.activations(x[0]).items():
        np.testing.assert_array_equal(value, layers[layer])



def test_export_command_rewrites_the_files_and_the_card(models_copy):
    from mnist_core.cli import main

    card_path = models_copy / "mlp.json"
    card = json.loads(card_path.read_text())
    del card["litert"], card["litert_features"]
    card_path.write_text(json.dumps(card))
    (models_copy / "mlp.tflite").unlink()
    (models_copy / "mlp.features.tflite").unlink()
    assert main(["export", "--model", "mlp", "--models-dir", str(models_copy)]) == 0
    for key, suffix in (("litert", ".tflite"), ("litert_features", ".features.tflite")):
        entry = json.loads(card_path.read_text())[key]
        assert entry["sha256"] == hashlib.sha256((models_copy / f"mlp{suffix}").read_bytes()).hexdigest()
        assert entry["sha256"] == json.loads((MODELS_DIR / "mlp.json").read_text())[key]["sha256"]
