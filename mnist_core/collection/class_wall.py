"""What a class's wall shows, computed from its drawings (`classroom.ClassSet`): pure functions.

    >>> names = student_names(drawn.students, drawn.nicknames)
    >>> readings = model_readings(drawn)          # {model: Readings(accuracy, confusion, ...)}
    >>> worth_a_look(drawn, readings["lenet5"])   # misread first, then the least sure

The models' answers are those saved with each drawing when the student kept it (each model's
ten probabilities, `database` schema), so the wall never reads a drawing again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets.stats import class_counts, mean_images
from .classroom import ClassSet


@dataclass(frozen=True)
class Readings:
    """One model on the class's drawings.

    predicted (N,) int64; confidence (N,) float32, its probability for what it read;
    accuracy: the share read as the digit asked for (None with no drawings); confusion (10, 10)
    int64 counts, rows = digit asked for, columns = read.
    """

    predicted: np.ndarray
    confidence: np.ndarray
    accuracy: float | None
    confusion: np.ndarray


def student_names(students: list[str], nicknames: list[str]) -> list[str]:
    """Per drawing, what the wall calls its student: the nickname they typed (their latest), else
    "student 1", "student 2", ... in the order they first kept a drawing. Never the id."""
    latest = {s: n for s, n in zip(students, nicknames) if n}
    numbers: dict[str, int] = {}
    for s in students:
        numbers.setdefault(s, len(numbers) + 1)
    return [latest.get(s) or f"student {numbers[s]}" for s in students]


def per_student(students: list[str], nicknames: list[str]) -> list[tuple[str, int]]:
    """[(name, how many drawings)], in the order students first kept one."""
    names = student_names(students, nicknames)
    counts: dict[str, int] = {}
    order: dict[str, str] = {}
    for s, name in zip(students, names):
        counts[s] = counts.get(s, 0) + 1
        order[s] = name
    return [(order[s], counts[s]) for s in counts]


def per_digit(drawn: ClassSet) -> np.ndarray:
    """(10,) int64: how many drawings of each digit the class kept."""
    return class_counts(drawn.labels)


def class_means(drawn: ClassSet) -> np.ndarray:
    """(10, 28, 28) float32 in [0, 1]: the class's mean image of each digit (zeros for none yet)."""
    return mean_images(drawn.images, drawn.labels)[0]


def model_readings(drawn: ClassSet) -> dict[str, Readings]:
    """{model: Readings} for every model whose answer each drawing has."""
    out = {}
    labels = drawn.labels.astype(np.int64)
    for name, probabilities in drawn.predictions.items():
        predicted = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
        confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0, np.float32)
        confusion = np.zeros((10, 10), np.int64)
        np.add.at(confusion, (labels, predicted), 1)
        accuracy = float(np.mean(predicted == labels)) if len(labels) else None
        out[name] = Readings(predicted.astype(np.int64), confidence.astype(np.float32), accuracy, confusion)
    return out


def worth_a_look(readings: Readings, labels: np.ndarray, k: int = 12) -> np.ndarray:
    """Up to `k` drawing indices to look at together: the misread ones, most confident first,
    then those read right but least surely. labels (N,) the digits asked for."""
    wrong = np.flatnonzero(readings.predicted != np.asarray(labels))
    right = np.flatnonzero(readings.predicted == np.asarray(labels))
    wrong = wrong[np.argsort(-readings.confidence[wrong], kind="stable")]
    right = right[np.argsort(readings.confidence[right], kind="stable")]
    return np.concatenate([wrong, right])[:k]
