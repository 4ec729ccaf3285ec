"""mnist_core.reading.classifier on the committed models (models/): accuracy on the full test set,
canvas drawings, empty input, missing and tampered files, no model.predict, thread safety,
activations and saliency."""

import json
import shutil
import threading

import numpy as np
import pytest

from core_helpers import drawing, rgba
from mnist_core.networks.models import keras
from mnist_core.reading.classifier import MODELS_DIR, Classifier, ModelFileError

# The goal for LeNet-5 is 99.3 %; the committed model, trained on every population and 10,000 negatives,
# reads 99.28 % (README: missed by 0.02 points), so its floor here is 99.2 %.
MIN_ACCURACY = {"mlp": 0.985, "lenet5": 0.992}
NAMES = tuple(MIN_ACCURACY)


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_on_the_full_test_set(committed, mnist, name):
    clf = committed(name)
    probabilities = clf.classify_batch(mnist.x_test)
    assert probabilities.shape == (10_000, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    accuracy = (probabilities.argmax(axis=1) == mnist.y_test).mean()
    assert accuracy >= MIN_ACCURACY[name]
    # the card was written from model.predict: the same figure (ties aside)
    assert accuracy == pytest.approx(clf.card["test"]["accuracy"], abs=2e-4)
    # uint8 and float inputs are the same thing
    np.testing.assert_allclose(clf.classify_batch(mnist.x_test[:100].astype(np.float32) / 255),
                               probabilities[:100], atol=1e-6)


def canvases():
    """(digit, RGBA canvas) for the first style of each digit, in three places and sizes."""
    for digit in range(10):
        for height, width, x0, y0 in ((200, 18, 40, 30), (120, 12, 120, 100), (90, 24, 20, 150)):
            yield digit, rgba(drawing(digit, 0, height=height, width=width, x0=x0, y0=y0))


@pytest.mark.parametrize("name", NAMES)
def test_classify_reads_canvas_drawings(committed, name):
    clf = committed(name)
    results = [(digit, clf.classify(canvas)) for digit, canvas in canvases()]
    for digit, result in results:
        assert result.model == name and result.probabilities.shape == (10,)
        assert result.label == int(result.probabilities.argmax())
        assert result.input28.shape == (28, 28) and result.reason is None
    correct = np.mean([digit == result.label for digit, result in results])
    assert correct >= (0.9 if name == "mlp" else 0.95), [(d, r.label) for d, r in results]


def test_classify_agrees_with_classify_batch(committed, mnist):
    clf = committed("lenet5")
    for image in mnist.x_test[:5]:
        result = clf.classify(image)
        np.testing.assert_allclose(result.probabilities, clf.classify_batch(result.input28[None])[0], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_empty_input_gives_no_label_and_a_reason(committed, name):
    clf = committed(name)
    for image in (np.zeros((280, 280, 4), np.uint8), np.full((50, 50), 255, np.uint8),
                  rgba(drawing(1, height=5, width=6))):
        result = clf.classify(image)
        assert result.label is None
        assert result.reason and "\n" not in result.reason
        assert not result.probabilities.any() and result.confidence == 0


def test_classify_batch_rejects_wrong_shapes(committed):
    clf = committed("mlp")
    with pytest.raises(ValueError, match="28, 28"):
        clf.classify_batch(np.zeros((3, 32, 32), np.float32))
    assert clf.classify_batch(np.zeros((0, 28, 28), np.float32)).shape == (0, 10)


@pytest.fixture
def model_copy(committed, tmp_path):
    """tmp_path with a copy of the committed lenet5.keras and lenet5.json."""
    committed("lenet5")  # fails (CI) or skips when the committed model is missing
    source = MODELS_DIR
    for suffix in (".keras", ".json"):
        shutil.copy(source / f"lenet5{suffix}", tmp_path / f"lenet5{suffix}")
    return tmp_path


def test_a_copy_loads(model_copy):
    assert Classifier.load("lenet5", model_copy).card["sha256"]


def test_missing_model_file(model_copy):
    (model_copy / "lenet5.keras").unlink()
    with pytest.raises(ModelFileError, match="missing"):
        Classifier.load("lenet5", model_copy)


def test_missing_card(model_copy):
    (model_copy / "lenet5.json").unlink()
    with pytest.raises(ModelFileError, match="missing"):
        Classifier.load("lenet5", model_copy)


def test_tampered_model_file(model_copy):
    path = model_copy / "lenet5.keras"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # flip one bit
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="sha256") as error:
        Classifier.load("lenet5", model_copy)
    assert "\n" not in str(error.value)


def test_tampered_card(model_copy):
    card = model_copy / "lenet5.json"
    card.write_text(card.read_text()[:-20])  # cut short: not JSON any more
    with pytest.raises(ModelFileError, match="not a valid model card"):
        Classifier.load("lenet5", model_copy)


def test_a_file_that_matches_its_card_but_is_no_model(model_copy):
    import hashlib

    junk = b"PK\x03\x04 not really a zip"
    (model_copy / "lenet5.keras").write_bytes(junk)
    card = json.loads((model_copy / "lenet5.json").read_text())
    card["sha256"] = hashlib.sha256(junk).hexdigest()
    (model_copy / "lenet5.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="could not be loaded") as error:
        Classifier.load("lenet5", model_copy)
    assert "\n" not in str(error.value)


def test_no_model_predict_anywhere(committed, monkeypatch, mnist):
    clf = committed("lenet5")

    def forbidden(*args, **kwargs):
        raise AssertionError("model.predict called")

    monkeypatch.setattr(clf.model, "predict", forbidden)
    monkeypatch.setattr(keras.Model, "predict", forbidden)
    result = clf.classify(rgba(drawing(3)))
    assert result.label is not None
    clf.classify_batch(mnist.x_test[:10])
    clf.activations(result.input28)
    clf.saliency(result.input28)


@pytest.mark.parametrize("name", NAMES)
def test_threads_get_the_same_answers_as_serial(committed, mnist, name):
    clf = committed(name)
    images = [np.array(mnist.x_test[i]) for i in range(8)] + [canvas for _, canvas in list(canvases())[::4]]
    serial = [clf.classify(image) for image in images]
    barrier = threading.Barrier(8)
    answers, errors = {}, []

    def work(worker):
        try:
            barrier.wait()
            for round_ in range(3):
                for k in range(worker, len(images), 8):
                    answers[(round_, k)] = clf.classify(images[k])
                    clf.activations(answers[(round_, k)].input28)  # mixed calls, shared feature model
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(answers) == 3 * len(images)
    for (_, k), result in answers.items():
        assert result.label == serial[k].label
        np.testing.assert_allclose(result.probabilities, serial[k].probabilities, atol=1e-6)


SHAPES = {
    "mlp": {"hidden1": (512,), "hidden2": (128,), "output": (10,)},
    "lenet5": {"C1": (28, 28, 6), "S2": (14, 14, 6), "C3": (10, 10, 16), "S4": (5, 5, 16), "C5": (1, 1, 120),
               "F6": (84,), "output": (10,)},
}


@pytest.mark.parametrize("name", NAMES)
def test_activations(committed, mnist, name):
    clf = committed(name)
    result = clf.classify(mnist.x_test[0])
    activations = clf.activations(result.input28)
    assert {k: v.shape for k, v in activations.items()} == SHAPES[name]
    assert list(activations) == list(clf.feature_layers)
    np.testing.assert_allclose(activations["output"], clf.fast(result.input28[None])[0], atol=1e-6)
    for layer, values in activations.items():
        if layer != "output":
            assert values.min() >= 0 and values.any(), layer  # ReLU / max pooling: non-negative, alive


def logits(clf, image28):
    """The output layer's input times its weights: the scores before the softmax."""
    hidden = clf.activations(image28)[clf.feature_layers[-2]].reshape(-1)
    output = clf.model.get_layer("output")
    return hidden @ keras.ops.convert_to_numpy(output.kernel) + keras.ops.convert_to_numpy(output.bias)


@pytest.mark.parametrize("name", NAMES)
def test_saliency_is_the_gradient_of_the_score(committed, mnist, name):
    clf = committed(name)
    image = clf.classify(mnist.x_test[1]).input28
    saliency = clf.saliency(image)
    assert saliency.shape == (28, 28) and saliency.dtype == np.float32
    assert np.isfinite(saliency).all() and np.abs(saliency).max() > 0
    label = int(logits(clf, image).argmax())
    np.testing.assert_array_equal(saliency, clf.saliency(image, label=label))  # default: the predicted class
    assert not np.allclose(saliency, clf.saliency(image, label=(label + 1) % 10))
    # finite difference along the gradient: the score rises by step * |gradient|
    norm = float(np.linalg.norm(saliency))
    step = 1e-2
    moved = (image + step * saliency / norm).astype(np.float32)
    rise = logits(clf, moved)[label] - logits(clf, image)[label]
    assert rise == pytest.approx(step * norm, rel=0.1)


def test_kernels(committed):
    from mnist_core.networks.models import connection_matrix

    clf = committed("lenet5")
    assert clf.kernels("C1").shape == (5, 5, 1, 6)
    c3 = clf.kernels("C3")
    assert c3.shape == (5, 5, 6, 16)
    matrix = connection_matrix()
    assert (c3[:, :, ~matrix] == 0).all() and (c3[:, :, matrix] != 0).any(axis=(0, 1)).all()
