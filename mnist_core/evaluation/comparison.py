"""Evaluating and comparing the trained models on the test set: the images behind a confusion
cell, the most confident mistakes, the images two models disagree on, and a comparison table
built from the model cards plus what is measured here.

Probabilities come from `Classifier.classify_batch` ((N, 28, 28) -> (N, 10) float32); the
figures themselves from `evaluate.metrics`, the same function that wrote the model card.
"""

from __future__ import annotations

import numpy as np

from .evaluate import metrics

ACCURACY_TOLERANCE = 1e-4  # measured vs model-card test accuracy (one image in 10,000 is 1e-4)


def cell_indices(predicted: np.ndarray, labels: np.ndarray, true: int, guess: int) -> np.ndarray:
    """Indices (int64, ascending) of the images of digit `true` predicted as `guess`: one
    confusion-matrix cell. predicted, labels: (N,) ints."""
    return np.flatnonzero((np.asarray(labels) == true) & (np.asarray(predicted) == guess))


def confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, k: int = 20) -> np.ndarray:
    """The k misclassified images the model was surest about: (<=k,) int64 indices, most
    confident first. probabilities: (N, 10); labels: (N,)."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:k]]


def disagreements(probs_a: np.ndarray, probs_b: np.ndarray) -> np.ndarray:
    """Indices (int64, ascending) of the images where two models predict different digits;
    probs_a, probs_b: (N, 10)."""
    return np.flatnonzero(probs_a.argmax(axis=1) != probs_b.argmax(axis=1))


def agreement_table(probs_a: np.ndarray, probs_b: np.ndarray, labels: np.ndarray) -> dict[str, int]:
    """How many images both models get right, only A, only B, neither (and of those, how many
    where they at least agree with each other)."""
    a = probs_a.argmax(axis=1) == np.asarray(labels)
    b = probs_b.argmax(axis=1) == np.asarray(labels)
    same = probs_a.argmax(axis=1) == probs_b.argmax(axis=1)
    return {"both right": int((a & b).sum()), "only A right": int((a & ~b).sum()),
            "only B right": int((~a & b).sum()), "both wrong, same answer": int((~a & ~b & same).sum()),
            "both wrong, different answers": int((~a & ~b & ~same).sum())}


def test_metrics(probabilities: np.ndarray, labels: np.ndarray, card: dict | None = None) -> dict:
    """`evaluate.metrics` of the test-set probabilities, plus `card_accuracy` and `matches_card`
    (measured accuracy within ACCURACY_TOLERANCE of the card's `test.accuracy`; None without a
    card). A mismatch means the card was written for other weights or other data."""
    result = metrics(probabilities, labels)
    card_accuracy = ((card or {}).get("test") or {}).get("accuracy")
    result["card_accuracy"] = card_accuracy
    result["matches_card"] = (None if card_accuracy is None
                              else abs(result["accuracy"] - card_accuracy) <= ACCURACY_TOLERANCE)
    return result


def comparison_rows(cards: dict[str, dict], measured: dict[str, dict] | None = None,
                    latency: dict[str, float] | None = None) -> list[dict]:
    """One row per model for the comparison table.

    cards:    name -> model card (see `train.train`)
    measured: name -> `test_metrics` result (the accuracy measured here; else the card's)
    latency:  name -> median ms of `Classifier.classify` (e.g. from `bench.median_ms`)
    Keys: model, parameters, multiply_adds, file_kb, test_accuracy, hand_drawn_accuracy,
    redrawn_test_accuracy, real_accuracy and real_worst_writer_accuracy (pen drawings of writers
    the model never trained on), latency_ms (None where unknown).
    """
    rows = []
    for name, card in cards.items():
        drawn = card.get("drawn", {})
        accuracy = (measured or {}).get(name, {}).get("accuracy", card.get("test", {}).get("accuracy"))
        rows.append({
            "model": name,
            "parameters": card.get("parameters"),
            "multiply_adds": card.get("multiply_adds_per_image"),
            "file_kb": round(card["file_bytes"] / 1024, 1) if card.get("file_bytes") else None,
            "test_accuracy": accuracy,
            "hand_drawn_accuracy": drawn.get("hand", {}).get("accuracy"),
            "redrawn_test_accuracy": drawn.get("redrawn_mnist_test", {}).get("accuracy"),
            "real_accuracy": (card.get("real") or {}).get("accuracy"),
            "real_worst_writer_accuracy": (card.get("real") or {}).get("worst_writer_accuracy"),
            "latency_ms": (latency or {}).get(name),
        })
    return rows


DRAWN_SETS = {  # the drawn-digit report's sets: title -> where a model card keeps the figures
    "MNIST test (10,000)": ("test",),
    "MNIST test digits redrawn with a brush": ("drawn", "redrawn_mnist_test"),
    "Hand-written stroke paths": ("drawn", "hand"),
    "Real pen drawings, writers never trained on": ("real",),
}


def drawn_report(cards: dict[str, dict]) -> dict[str, dict[str, list[float] | None]]:
    """Per-digit accuracy of each model on each set of `DRAWN_SETS`, from the model cards:
    {set title: {model name: 10 floats, or None where the card lacks that set}}."""
    report = {}
    for title, path in DRAWN_SETS.items():
        report[title] = {}
        for name, card in cards.items():
            figures = card
            for key in path:
                figures = (figures or {}).get(key)
            report[title][name] = (figures or {}).get("per_class_accuracy")
    return report
