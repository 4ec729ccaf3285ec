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
