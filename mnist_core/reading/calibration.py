"""How far to trust a model's confidence: temperature scaling, reliability and the "unsure" rule.

A network trained on MNIST is over-confident on drawings unlike MNIST: it says 99 % and is wrong.
Temperature scaling (Guo et al. 2017) divides the logits by one number T fitted on held-out real
drawings; it changes no answer, only how sure each one claims to be. The logits are recovered
from the softmax output (log p = logits - a constant per image), so the fast path stays as exported.

    T = fit_temperature(probabilities, labels)        # minimises the held-out negative log-likelihood
    calibrated = apply_temperature(probabilities, T)
    expected_calibration_error(calibrated, labels)    # 0 = "90 % sure" is right 90 % of the time
    threshold = unsure_threshold(calibrated, labels)   # below it, the Draw tab says "4 or 9?"
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

BINS = 10
TARGET_PRECISION = 0.995  # answers shown without a doubt must be right this often on held-out writers


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """(N, 10) float32 softmax outputs -> (N, 10) float32, the softmax of logits / temperature.
    (NumPy rather than scipy.special.softmax: this runs on every stroke, and costs half as much.)"""
    scaled = np.log(np.clip(probabilities, 1e-30, 1.0)) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    odds = np.exp(scaled)
    return (odds / odds.sum(axis=-1, keepdims=True)).astype(np.float32)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] that minimises the mean negative log-likelihood of (N,) integer labels
    under `apply_temperature(probabilities, T)`; probabilities (N, 10) float32."""
    from scipy.optimize import minimize_scalar  # here: 0.36 s to import, and reading a digit never fits

    logits = np.log(np.clip(probabilities, 1e-30, 1.0)).astype(np.float64)
    rows = np.arange(len(labels))

    def nll(log_t):
        return -log_softmax(logits / np.exp(log_t), axis=-1)[rows, labels].mean()

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20)), method="bounded").x))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict:
    """The reliability diagram's numbers: the top probability in `bins` equal-width bins.

    Returns {"edges": bins + 1 floats, "confidence": mean top probability per bin, "accuracy":
    share right per bin, "count": images per bin} (empty bins: confidence and accuracy None).
    """
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    table = {"edges": [round(float(e), 3) for e in edges], "confidence": [], "accuracy": [], "count": []}
    for b in range(bins):
        inside = which == b
        table["count"].append(int(inside.sum()))
        table["confidence"].append(round(float(confidence[inside].mean()), 5) if inside.any() else None)
        table["accuracy"].append(round(float(right[inside].mean()), 5) if inside.any() else None)
    return table


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """ECE: the image-weighted mean gap between confidence and accuracy over the reliability bins."""
    table = reliability(probabilities, labels, bins)
    total = sum(table["count"])
    return float(sum(n * abs(c - a) for n, c, a in zip(table["count"], table["confidence"], table["accuracy"])
                     if n) / max(total, 1))


def unsure_threshold(probabilities: np.ndarray, labels: np.ndarray, precision: float = TARGET_PRECISION) -> float:
    """The lowest top-probability t such that answers at or above t are right at least `precision`
    of the time on these (held-out) drawings: below t the app shows the two likeliest digits.

    The rule trades a doubt shown on a few drawings for never being confidently wrong: on the
    validation data the confident answers reach `precision`, and the rest are shown as a question.
    """
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == np.asarray(labels)
    order = np.argsort(-confidence)
    precision_at = np.cumsum(right[order]) / np.arange(1, len(order) + 1)  # precision of the top-k most confident
    ok = np.flatnonzero(precision_at >= precision)
    return float(confidence[order][ok[-1]]) if ok.size else 1.0


def summary(probabilities: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> dict:
    """Calibrate on held-out drawings and say how well it works, honestly.

    probabilities (N, 10) float32 raw model outputs; labels (N,); groups (N,) the writer of each.
    The figures reported are cross-fitted: T and the threshold are fitted on half the writers and
    measured on the other half, both ways round; the values kept for the app are fitted on all.
    """
    writers = np.unique(groups)
    halves = (np.isin(groups, writers[::2]), np.isin(groups, writers[1::2]))
    calibrated = np.zeros_like(probabilities)
    for fit_on, test_on in (halves, halves[::-1]):
        t = fit_temperature(probabilities[fit_on], labels[fit_on])
        calibrated[test_on] = apply_temperature(probabilities[test_on], t)
    temperature = fit_temperature(probabilities, labels)
    final = apply_temperature(probabilities, temperature)
    threshold = unsure_threshold(final, labels)
    sure = final.max(axis=1) >= threshold
    top2 = np.argsort(-final, axis=1)[:, :2]
    in_top2 = (top2 == np.asarray(labels)[:, None]).any(axis=1)
    right = final.argmax(axis=1) == labels
    return {
        "temperature": round(temperature, 4),
        "fitted_on": "held-out real drawings (pendigits writers never trained on)",
        "ece_before": round(expected_calibration_error(probabilities, labels), 5),
        "ece_after_cross_fitted": round(expected_calibration_error(calibrated, labels), 5),
        "reliability_before": reliability(probabilities, labels),
        "reliability_after": reliability(calibrated, labels),
        "unsure_below": round(threshold, 4),
        "unsure_rule": f"show the two likeliest digits when the calibrated top probability is below the "
                       f"threshold: the lowest at which the answers at or above it are right "
                       f"{TARGET_PRECISION:.1%} of the time on the held-out drawings",
        "sure_share": round(float(sure.mean()), 5),
        "sure_accuracy": round(float(right[sure].mean()), 5) if sure.any() else None,
        "unsure_top2_accuracy": round(float(in_top2[~sure].mean()), 5) if (~sure).any() else None,
    }
