"""Accuracy figures of a model's predictions: overall, per class, confusion matrix, loss."""

from __future__ import annotations

import numpy as np


def metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Figures for (N, 10) float32 probabilities against (N,) integer labels.

    Returns accuracy, loss (mean cross-entropy), per_class_accuracy (10 floats), confusion
    ((10, 10) nested lists of counts, rows = true digit, columns = predicted) and count.
    """
    labels = np.asarray(labels, np.int64)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    loss = -np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)).mean()
    return {
        "accuracy": float((predicted == labels).mean()),
        "loss": float(loss),
        "count": int(len(labels)),
        "per_class_accuracy": [round(float(a), 5) for a in per_class],
        "confusion": confusion.tolist(),
    }


def writer_metrics(probabilities: np.ndarray, labels: np.ndarray, writers: np.ndarray) -> dict:
    """`metrics` (without the confusion matrix) plus per-writer accuracy and the worst writer:
    probabilities (N, 10) float32, labels (N,) and writers (N,) integers."""
    right = probabilities.argmax(axis=1) == np.asarray(labels)
    per_writer = {int(w): round(float(right[writers == w].mean()), 5) for w in np.unique(writers)}
    worst = min(per_writer, key=per_writer.get)
    figures = {k: v for k, v in metrics(probabilities, labels).items() if k != "confusion"}
    return {**figures, "per_writer_accuracy": per_writer, "worst_writer": worst,
            "worst_writer_accuracy": per_writer[worst], "writers": len(per_writer)}
