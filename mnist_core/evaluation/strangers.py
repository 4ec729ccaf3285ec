"""How a model reads people it never saw: populations held out whole, and the rules fitted on them.

A population is one collection of writers: MNIST's (its test writers never wrote a training
digit), pendigits' 30 (a tablet), UJI's 60 (a Tablet PC in Spain). A model is judged,
and its rules for "4 or 9?" and "not a digit" are fitted, only on populations it never trained
on: `train --crossval` trains one model per population held out (`FOLDS`), and the committed
model, trained on all of them, takes its rules from those models' readings of the population
each held out.

    sets = heldout_sets("uji", data)          # {population: (images, labels, writers)}, negatives
    readings = read(fast, sets)               # the same, with raw probabilities
    fitted = rules({"pendigits": ..., "uji": ...})
    figures(calibrated, labels, writers, fitted)  # accuracy, sure accuracy, asked, refused, worst writer

The negatives measured are the kinds no model trains on (`negatives.HELDOUT_KINDS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets import negatives, pendigits
from ..networks.litert import LiteRTModel
from ..reading import calibration
from .evaluate import writer_metrics

FOLDS = ("pendigits", "uji")  # the populations of real drawings, each held out whole by one model
REFUSE_AT_MOST = 0.0025  # the "not a digit" rule refuses at most this share of any held-out population's digits
NEGATIVES_PER_KIND = 400
NEGATIVES_SEED = 7  # the measured negatives: not the training ones (`train` draws with seed + 2)


def population_set(digits) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A population's drawings (`pendigits.Pendigits`) as its test set: each rendered once on the
    canvas (seed 1): images (N, 28, 28) float32 in [0, 1], labels (N,) uint8, writers (N,) int64."""
    return pendigits.render(digits.trajectories, seed=1), digits.labels, digits.writers.astype(np.int64)


def heldout_sets(holdout: str, data, populations: dict | None = None) -> dict:
    """What a model that held out `holdout` ("" for none) never saw, each part as (images (N, 28, 28)
    float32 in [0, 1], labels (N,) uint8, writers (N,) int, or kinds (N,) str for "negatives"):
    the held-out population's drawings rendered once on the canvas (seed 1), MNIST's test set
    (writer 0: MNIST does not say who wrote which), and the held-out kinds of negatives."""
    sets = {}
    if holdout:
        sets[holdout] = population_set((populations or pendigits.load_populations((holdout,)))[holdout])
    sets["mnist_test"] = (data.x_test.astype(np.float32) / 255, np.asarray(data.y_test, np.uint8),
                          np.zeros(len(data.y_test), np.int64))
    images, kinds = negatives.negative_set(negatives.HELDOUT_KINDS, NEGATIVES_PER_KIND, seed=NEGATIVES_SEED)
    sets["negatives"] = (images, None, kinds)
    return sets


def read(fast, sets: dict) -> dict:
    """Each set's raw probabilities through `fast` ((N, 28, 28) -> (N, 10)): {name: (probabilities,
    labels, writers or kinds)}."""
    return {name: (fast(images), labels, who) for name, (images, labels, who) in sets.items()}


def rules(digits: dict, digits_for_refusal: dict | None = None) -> dict:
    """The reading rules, fitted on held-out populations' raw probabilities.

    digits: {population: ((N, 10) float32 raw probabilities, (N,) labels)} of real drawings.
    digits_for_refusal: more populations that the "not a digit" rule must not refuse (MNIST's
    test set), with those of `digits`.
    Returns {"temperature", "unsure_below", "not_digit_below"}: the temperature minimising the
    pooled negative log-likelihood; the "4 or 9?" threshold at which the pooled sure answers
    are right `calibration.TARGET_PRECISION` of the time; and the "not a digit" threshold, the
    highest that refuses at most REFUSE_AT_MOST of every population's digits.
    """
    probabilities = np.concatenate([p for p, _ in digits.values()])
    labels = np.concatenate([y for _, y in digits.values()])
    temperature = calibration.fit_temperature(probabilities, labels)
    unsure = calibration.unsure_threshold(calibration.apply_temperature(probabilities, temperature), labels)
    parts = {**digits, **(digits_for_refusal or {})}
    refuse = min(float(np.quantile(calibration.apply_temperature(p, temperature).max(axis=1), REFUSE_AT_MOST))
                 for p, _ in parts.values())
    return {"temperature": round(float(temperature), 4), "unsure_below": round(float(unsure), 4),
            "not_digit_below": float(np.floor(min(refuse, unsure) * 1e4) / 1e4)}  # rounded down: never refuses more


CALIBRATION_RULES = ("temperature", "unsure_below", "not_digit_below")  # what a Classifier reads from the card


def calibration_entry(real: dict, refusal: dict, fitted_on: str) -> dict:
    """A model card's "calibration" entry: `rules` fitted on held-out real drawings, with
    `calibration.summary`'s cross-fitted report of how well they work.

    real: {population: ((N, 10) float32 raw probabilities, (N,) labels, (N,) writers)} of drawings
    by writers the model never saw; refusal: {name: ((N, 10) raw probabilities, (N,) labels)} of
    more digits the "not a digit" rule must not refuse; fitted_on: one line saying what `real` is.
    """
    fitted = rules({n: r[:2] for n, r in real.items()}, refusal)
    raw, labels, writers = (np.concatenate([r[i] for r in real.values()]) for i in range(3))
    return {**calibration.summary(raw, labels, writers), **fitted, "fitted_on": fitted_on}


def decisions(calibrated: np.ndarray, fitted: dict) -> tuple[np.ndarray, np.ndarray]:
    """(refused, asked): (N,) bool each, for (N, 10) calibrated probabilities under `fitted` rules."""
    confidence = calibrated.max(axis=1)
    refused = confidence < fitted["not_digit_below"]
    return refused, ~refused & (confidence < fitted["unsure_below"])


def figures(raw: np.ndarray, labels: np.ndarray, writers: np.ndarray, fitted: dict) -> dict:
    """How the rules read one population: raw (N, 10) float32 probabilities, labels (N,), writers (N,).

    accuracy (the top digit, whatever the rules say), sure_accuracy (answers given without doubt),
    asked (share shown as "4 or 9?"), asked_top2 (share of those whose right digit is among the
    two), refused (share called no digit), wrong_sure (share of all given a wrong answer without
    doubt), the worst writer and the per-writer accuracy.
    """
    calibrated = calibration.apply_temperature(raw, fitted["temperature"])
    refused, asked = decisions(calibrated, fitted)
    sure = ~refused & ~asked
    right = calibrated.argmax(axis=1) == np.asarray(labels)
    top2 = (np.argsort(-calibrated, axis=1)[:, :2] == np.asarray(labels)[:, None]).any(axis=1)
    by_writer = writer_metrics(calibrated, labels, writers)
    return {
        "count": int(len(labels)), "writers": by_writer["writers"], "accuracy": round(float(right.mean()), 5),
        "sure_accuracy": round(float(right[sure].mean()), 5) if sure.any() else None,
        "asked": round(float(asked.mean()), 5),
        "asked_top2": round(float(top2[asked].mean()), 5) if asked.any() else None,
        "refused": round(float(refused.mean()), 5), "wrong_sure": round(float((sure & ~right).mean()), 5),
        "worst_writer": by_writer["worst_writer"], "worst_writer_accuracy": by_writer["worst_writer_accuracy"],
        "per_class_accuracy": by_writer["per_class_accuracy"],
    }


def refusals(raw: np.ndarray, kinds: np.ndarray, fitted: dict) -> dict:
    """The share of negatives refused as "not a digit", per kind and in all: raw (N, 10), kinds (N,) str."""
    refused, _ = decisions(calibration.apply_temperature(raw, fitted["temperature"]), fitted)
    shares = {str(k): round(float(refused[kinds == k].mean()), 5) for k in np.unique(kinds)}
    return {**shares, "all": round(float(refused.mean()), 5), "count": int(len(kinds))}


def cross_population(readings: dict) -> dict:
    """Cross-population validation of the rules: {population: figures} where each real population's
    figures use rules fitted on the *other* populations only (a stranger's view), and MNIST's test
    set and the negatives use rules fitted on all of them.

    readings: {population: (raw probabilities, labels, writers)} of models that held each out,
    with "mnist_test" and "negatives" ((raw, None, kinds)).
    """
    real = {name: r for name, r in readings.items() if name in FOLDS}
    mnist = {"mnist_test": readings["mnist_test"][:2]}
    report = {}
    for name, (raw, labels, writers) in real.items():
        others = {n: r[:2] for n, r in real.items() if n != name}
        report[name] = {**figures(raw, labels, writers, rules(others, mnist)), "rules_fitted_on": sorted(others)}
    fitted = rules({n: r[:2] for n, r in real.items()}, mnist)
    report["mnist_test"] = figures(*readings["mnist_test"], fitted)
    report["negatives_refused"] = refusals(readings["negatives"][0], readings["negatives"][2], fitted)
    return report


CROSSVAL_DIR = "crossval"  # models_dir/crossval/fold<k>/: the model that held FOLDS[k - 1] out


def fold_dir(models_dir: Path, population: str) -> Path:
    """Where the model that held `population` out whole is kept (its card's config says which)."""
    return Path(models_dir) / CROSSVAL_DIR / f"fold{FOLDS.index(population) + 1}"


def fold_readings(name: str, models_dir: Path, populations: dict) -> dict:
    """{population: (raw probabilities, labels, writers)}: each real population read by the
    committed fold model that never saw it (`fold_dir`), through its LiteRT fast path.
    Raises FileNotFoundError (one line) when a fold model is missing."""
    readings = {}
    for population in FOLDS:
        path = fold_dir(models_dir, population) / f"{name}.tflite"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: train the folds first "
                                    f"(`python -m mnist_core train --model {name} --crossval`)")
        images, labels, writers = population_set(populations[population])
        readings[population] = (LiteRTModel(path.read_bytes())(images), labels, writers)
    return readings


def strangers_entries(config, fast, data, populations: dict, models_dir: Path):
    """The card's "real", "calibration" and "strangers" entries of a model (`fast`: its LiteRT
    path) trained on MNIST and every population but `config.holdout`, judged on what it never saw: its
    held-out population (a fold model), MNIST's test writers and the held-out negatives. A fold
    model's rules are fitted on the population it held out; a model trained on every population
    takes them from the fold models' readings (`fold_readings`). `config`: its `train_config.TrainConfig`."""
    own = read(fast, heldout_sets(config.holdout, data, populations))
    if config.holdout:
        real_readings = {config.holdout: own[config.holdout]}
    else:
        real_readings = fold_readings(config.model, models_dir, populations)
    calibrated = calibration_entry(
        real_readings, {"mnist_test": own["mnist_test"][:2]},
        ("the population this model held out whole: " + config.holdout) if config.holdout
        else "the real drawings of each population read by the model that held it out whole ("
             + ", ".join(str(fold_dir(Path("models"), p)) for p in real_readings) + ")")
    fitted = {k: calibrated[k] for k in CALIBRATION_RULES}
    raw, labels, writers = (np.concatenate([r[i] for r in real_readings.values()]) for i in range(3))
    cross = {"populations": {n: {**figures(*own[n], fitted), "held_out_by": "this model"}
                             for n in own if n != "negatives"},
             "negatives_refused": refusals(own["negatives"][0], own["negatives"][2], fitted),
             "trained_on_populations": ["mnist"] + [n for n in populations if n != config.holdout]}
    real = None
    if config.holdout:
        real = {"source": f"{config.holdout}, rendered as 280x280 canvas drawings, one render per digit (seed 1)",
                "heldout_writers": sorted(set(own[config.holdout][2].tolist())), **writer_metrics(*own[config.holdout])}
    else:
        cross["cross_population"] = cross_population({**real_readings, "mnist_test": own["mnist_test"],
                                                                "negatives": own["negatives"]})
        real = {"source": "every population of real drawings, each read by the model that held it out whole "
                          "(cross-population validation; this model trained on all of them)",
                "heldout_writers": sorted(set(writers.tolist())), **writer_metrics(raw, labels, writers)}
    return real, calibrated, cross
