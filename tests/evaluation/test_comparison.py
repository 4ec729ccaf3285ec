"""mnist_core.evaluation.comparison on made-up probabilities, and the trained models' test figures against
their model cards (the Evaluation tab and the cards must agree)."""

import os

import numpy as np
import pytest

from mnist_core import MODEL_NAMES, Classifier, ModelFileError
from mnist_core.evaluation import comparison
from mnist_core.evaluation.evaluate import metrics


def one_hot(predicted, confidence):
    probs = np.full((len(predicted), 10), 0.0, np.float32)
    probs[np.arange(len(predicted)), predicted] = confidence
    probs += (1 - probs.sum(axis=1, keepdims=True)) / 10
    return probs


LABELS = np.array([0, 1, 2, 3, 3, 3, 7, 8])
PRED_A = np.array([0, 1, 2, 5, 5, 3, 1, 8])
PRED_B = np.array([0, 1, 9, 3, 5, 3, 1, 0])


def test_cells_mistakes_and_disagreements():
    probs = one_hot(PRED_A, np.array([0.9, 0.9, 0.9, 0.6, 0.8, 0.9, 0.95, 0.9]))
    assert comparison.cell_indices(PRED_A, LABELS, 3, 5).tolist() == [3, 4]
    assert comparison.cell_indices(PRED_A, LABELS, 4, 4).tolist() == []
    confusion = np.array(metrics(probs, LABELS)["confusion"])
    for true in range(10):
        for guess in range(10):
            assert len(comparison.cell_indices(PRED_A, LABELS, true, guess)) == confusion[true, guess]
    assert comparison.confident_mistakes(probs, LABELS).tolist() == [6, 4, 3]  # surest first
    assert comparison.confident_mistakes(probs, LABELS, k=1).tolist() == [6]
    probs_b = one_hot(PRED_B, np.full(8, 0.9))
    assert comparison.disagreements(probs, probs_b).tolist() == [2, 3, 7]
    table = comparison.agreement_table(probs, probs_b, LABELS)
    assert table == {"both right": 3, "only A right": 2, "only B right": 1, "both wrong, same answer": 2,
                     "both wrong, different answers": 0}
    assert sum(table.values()) == len(LABELS)


def test_test_metrics_are_checked_against_the_card():
    probs = one_hot(PRED_A, np.full(8, 0.9))
    measured = comparison.test_metrics(probs, LABELS, {"test": {"accuracy": 5 / 8}})
    assert measured["accuracy"] == 5 / 8 and measured["matches_card"] is True
    assert comparison.test_metrics(probs, LABELS, {"test": {"accuracy": 0.99}})["matches_card"] is False
    assert comparison.test_metrics(probs, LABELS, None)["matches_card"] is None


def test_comparison_rows_come_from_the_cards_and_measurements():
    cards = {"mlp": {"parameters": 10, "multiply_adds_per_image": 20, "file_bytes": 2048, "test": {"accuracy": 0.9},
                     "drawn": {"hand": {"accuracy": 0.7}, "redrawn_mnist_test": {"accuracy": 0.8}},
                     "real": {"accuracy": 0.95, "worst_writer_accuracy": 0.85}},
             "lenet5": {"parameters": 5}}
    rows = comparison.comparison_rows(cards, {"mlp": {"accuracy": 0.91}}, {"mlp": 3.5})
    assert rows[0] == {"model": "mlp", "parameters": 10, "multiply_adds": 20, "file_kb": 2.0, "test_accuracy": 0.91,
                       "hand_drawn_accuracy": 0.7, "redrawn_test_accuracy": 0.8, "real_accuracy": 0.95,
                       "real_worst_writer_accuracy": 0.85, "latency_ms": 3.5}
    assert rows[1]["model"] == "lenet5" and rows[1]["test_accuracy"] is None and rows[1]["latency_ms"] is None
    assert rows[1]["real_accuracy"] is None
    assert comparison.comparison_rows({"mlp": cards["mlp"]})[0]["test_accuracy"] == 0.9  # the card's, unmeasured


def test_drawn_report_reads_each_set_from_the_cards():
    per_class = [0.9] * 10
    cards = {"mlp": {"test": {"per_class_accuracy": per_class}, "real": {"per_class_accuracy": [0.8] * 10}},
             "lenet5": {"drawn": {"hand": {"per_class_accuracy": per_class}}}}
    report = comparison.drawn_report(cards)
    assert list(report) == list(comparison.DRAWN_SETS)
    assert report["MNIST test (10,000)"] == {"mlp": per_class, "lenet5": None}
    assert report["Hand-written stroke paths"] == {"mlp": None, "lenet5": per_class}
    assert report["Real pen drawings, writers never trained on"]["mlp"] == [0.8] * 10


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_measured_test_accuracy_matches_the_model_card(mnist, name):
    try:
        classifier = Classifier.load(name)
    except ModelFileError as error:
        if os.environ.get("CI"):
            pytest.fail(f"trained model unavailable in CI: {error}")
        pytest.skip(f"trained model unavailable: {error}")
    if classifier.card.get("data", {}).get("sha256") not in (None, mnist.sha256):
        pytest.skip("the model card was written for another copy of the data")
    probs = classifier.classify_batch(mnist.x_test)
    measured = comparison.test_metrics(probs, mnist.y_test, classifier.card)
    assert measured["matches_card"], (measured["accuracy"], measured["card_accuracy"])
    difference = np.abs(np.array(measured["confusion"]) - np.array(classifier.card["test"]["confusion"])).sum()
    assert difference <= 2  # at most one image on the edge of a tie moves between cells
    rows = comparison.comparison_rows({name: classifier.card}, {name: measured})
    assert rows[0]["parameters"] == classifier.card["parameters"] > 0
