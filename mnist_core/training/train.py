"""Train a model and write `models/<name>.keras`, its LiteRT fast path and its card `models/<name>.json`.

One straight path: data -> validation split (from the training set) -> augmented batches ->
model.fit with a cosine learning-rate schedule and early stopping -> evaluation (MNIST test, the
drawn sets, the people it never saw) -> the reading rules -> model card.

Augmentation `full` is how the models learn to read drawings as well as MNIST's own digits. Each
training digit comes in three renderings, one picked per image per epoch: MNIST's original, its
centre line redrawn with a round brush (`strokes.redraw`, a share of the 1s with a flag), and
the same in a style MNIST lacks (`styles.restyle`: crossed 7s, flagged and footed 1s, curly 9s,
open 4s). Real pen drawings of every population trained on (pendigits, UJI; `config.holdout`
holds one out whole) join them, each rendered as the canvas would draw it, three times, and
drawings that are no digit (`negatives`), taught a uniform answer. Every batch is then distorted
(affine + elastic), thickened or thinned, and noised.

Cross-population validation (`train --crossval`): one model per population held out whole
(`models/crossval/fold<k>/`), then the model trained on all of them, whose
temperature, "4 or 9?" and "not a digit" thresholds are fitted on those models' readings of the
population each never saw (`strangers`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..collection import collected
from ..datasets import negatives, pendigits
from ..datasets.data import load_mnist
from ..datasets.drawn import hand_set, redrawn_set
from ..evaluation.evaluate import metrics
from ..evaluation.strangers import strangers_entries
from ..imaging import augment
from ..networks.litert import LiteRTModel, write_fast_path, write_features_path
from ..networks.models import BUILDERS, keras, layer_table
from ..pen.strokes import redraw
from ..pen.styles import restyle
from .train_config import TrainConfig

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


NEGATIVE = 10  # the training label of a drawing that is no digit


def targets(labels: np.ndarray, negative_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """(N,) labels 0-9 or NEGATIVE -> ((N, 10) float32 targets, (N,) float32 sample weights).

    A digit's target is its one-hot vector. A negative's is the uniform 0.1 everywhere, weighted
    by `negative_weight`: the cross-entropy against it is outlier exposure's loss (Hendrycks et al.
    2019), which teaches the network to spread its answer on what is no digit, so that a low top
    probability can say "not a digit". (Written here: Keras has no such loss; its categorical
    cross-entropy with these soft targets and weights is exactly that loss.)
    """
    labels = np.asarray(labels)
    digits = labels < NEGATIVE
    out = np.full((len(labels), 10), 0.1, np.float32)
    out[digits] = np.eye(10, dtype=np.float32)[labels[digits]]
    return out, np.where(digits, 1.0, negative_weight).astype(np.float32)


class AugmentedBatches(keras.utils.PyDataset):
    """Batches of freshly distorted training images, a new draw every epoch.

    variants: V arrays (N, 28, 28) float32 in [0, 1], V renderings of the same N digits; labels (N,)
    0-9, or NEGATIVE for a drawing that is no digit; weights: (V,) the chance of each rendering.
    Each image of a batch comes from one rendering, then gets affine + elastic distortion, a
    random stroke thickness and a little noise. A batch is (images, `targets`, sample weights).
    """

    def __init__(self, variants, weights, labels, config: TrainConfig, **kwargs):
        super().__init__(**kwargs)
        self.variants, self.labels, self.config = variants, labels, config
        self.weights = np.asarray(weights, float) / np.sum(weights)
        self.rng = np.random.default_rng(config.seed)
        self.order = self.rng.permutation(len(labels))

    def __len__(self):
        return int(np.ceil(len(self.labels) / self.config.batch_size))

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.labels))

    def __getitem__(self, index):
        rng = np.random.default_rng((self.config.seed, index, int(self.order[0])))
        chosen = self.order[index * self.config.batch_size : (index + 1) * self.config.batch_size]
        which = rng.choice(len(self.variants), len(chosen), p=self.weights)
        batch = np.empty((len(chosen), 28, 28), np.float32)
        for v, variant in enumerate(self.variants):
            batch[which == v] = variant[chosen[which == v]]
        batch = augment.distort(batch, rng, rotation=12, zoom=0.1, shift=2, shear=10, alpha=20, sigma=4)
        batch = augment.thickness(batch, rng.choice([-1, 0, 0, 0, 1], len(chosen)))
        batch = augment.noise(batch, rng, sigma=rng.choice([0.0, 0.05]))
        return batch, *targets(self.labels[chosen], self.config.negative_weight)


def training_renderings(x_fit: np.ndarray, y_fit: np.ndarray, config: TrainConfig, pen=None):
    """The `full` augmentation's data: (variants, weights, labels) for AugmentedBatches.

    x_fit (N, 28, 28) float32 in [0, 1], y_fit (N,): MNIST's training digits, each as original,
    redrawn with a brush, and redrawn in a style. pen: the real pen drawings trained on
    (`Pendigits`), or None; each is rendered `config.pen_copies` times, one render per variant.
    Then `config.negatives` drawings that are no digit (`negatives.TRAIN_KINDS`, label NEGATIVE),
    the same image in every variant.
    """
    rng = np.random.default_rng(config.seed + 1)
    widths = rng.uniform(0.06, 0.3, len(x_fit))
    flagged = (y_fit == 1) & (rng.random(len(x_fit)) < config.flag_fraction)
    flags = np.where(flagged, rng.uniform(0.15, 0.6, len(x_fit)), 0.0)  # up to a long up-stroke (a λ-like 1)
    print(f"redrawing {len(x_fit)} training digits as brush strokes, and in styles...", flush=True)
    strokes = redraw(x_fit, widths, flags=flags)
    styled = strokes.copy()  # the styles are for 1, 4, 7 and 9: the other digits keep their brush redrawing
    chosen = np.flatnonzero(np.isin(y_fit, (1, 4, 7, 9)))
    styled[chosen] = restyle(x_fit[chosen], y_fit[chosen], rng.uniform(0.06, 0.3, len(chosen)), rng, fraction=1.0)
    variants, labels = [x_fit, strokes, styled], y_fit
    weights = [1 - config.stroke_fraction - config.style_fraction, config.stroke_fraction, config.style_fraction]
    if pen is not None and config.pen_copies:
        print(f"rendering {len(pen)} real pen drawings x{config.pen_copies} as canvas drawings...", flush=True)
        renders = pendigits.render(pen.trajectories, seed=config.seed, copies=config.pen_copies,
                                   spacing=pendigits.TRAIN_SPACING)
        renders = renders.reshape(len(pen), config.pen_copies, 28, 28)
        variants = [np.concatenate([v, renders[:, k % config.pen_copies]]) for k, v in enumerate(variants)]
        labels = np.concatenate([labels, pen.labels])
    if config.negatives:
        print(f"drawing {config.negatives} negatives (not digits)...", flush=True)
        others, _ = negatives.negative_set(negatives.TRAIN_KINDS, config.negatives // len(negatives.TRAIN_KINDS),
                                           seed=config.seed + 2)
        variants = [np.concatenate([v, others]) for v in variants]
        labels = np.concatenate([labels, np.full(len(others), NEGATIVE, labels.dtype)])
    return variants, weights, labels


def save_for_inference(model, path: Path) -> None:
    """Save `model`'s architecture and weights without its optimizer's state.

    A compiled model's .keras file also holds Adam's two moment estimates per weight (3x the
    size: LeNet-5's 782 KB instead of 279 KB) and Keras 3 ignores `include_optimizer` for .keras
    files; on TensorFlow even `clone_model` keeps the optimizer. A model rebuilt from the config,
    given the trained weights, saves only what inference reads.
    """
    inference = model.__class__.from_config(model.get_config())
    inference.set_weights(model.get_weights())
    inference.save(path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validation_split(n: int, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """(validation index, training index) into n training images: `config.validation_size`
    held out at random (`config.seed`), the rest trained on (the first `config.train_limit` if set)."""
    order = np.random.default_rng(config.seed).permutation(n)
    val, fit_index = order[: config.validation_size], order[config.validation_size :]
    return val, (fit_index[: config.train_limit] if config.train_limit else fit_index)


def fit(config: TrainConfig, data=None, callbacks=(), verbose=None, pen=None, extra=None):
    """Build `config.model` and train it; nothing is written. Returns (model, history, seconds, sizes).

    data: MNIST (`load_mnist()` by default). callbacks: extra Keras callbacks (progress, cancel).
    pen: training-side real drawings for augmentation `full` (`Pendigits`), or None.
    extra: collected drawings to train on too (`collected.Collected`), or None: they join the
    training images (after `train_limit`), augmented like them.
    sizes: {"train", "validation", "real_train"}: how many images of each were used ("train"
    includes the collected ones).
    """
    keras.utils.set_random_seed(config.seed)
    data = data or load_mnist()
    x, y = data.x_train, np.asarray(data.y_train)
    val, fit_index = validation_split(len(x), config)
    # only the images used are scaled to float32 (a quick run on 12,000 does not pay for 60,000)
    x_val, y_val = x[val].astype(np.float32) / 255, y[val]
    x_fit, y_fit = x[fit_index].astype(np.float32) / 255, y[fit_index]
    if extra is not None and len(extra):
        x_fit, y_fit = np.concatenate([x_fit, extra.floats()]), np.concatenate([y_fit, extra.labels.astype(y.dtype)])

    options = {"activation": config.activation, "pooling": config.pooling} if config.model == "lenet5" else {}
    model = BUILDERS[config.model](**options)
    early = keras.callbacks.EarlyStopping("val_accuracy", patience=config.patience, restore_best_weights=True)
    # Keras' progress bar (loss, accuracy, val_accuracy, time) in a terminal; one line per epoch in logs.
    verbose = (1 if sys.stdout.isatty() else 2) if verbose is None else verbose
    start = time.time()
    real_train = 0
    if config.augment == "full":
        variants, weights, labels = training_renderings(x_fit, y_fit, config, pen)
        real_train = int(((labels < NEGATIVE).sum()) - len(y_fit))
        # two worker threads distort the next batches while TensorFlow trains on this one
        source = AugmentedBatches(variants, weights, labels, config, workers=2, use_multiprocessing=False)
        steps = len(source)
    else:
        if config.augment == "shift8":
            x_fit, y_fit = augment.shift8(x_fit, y_fit)
        source = None
        steps = int(np.ceil(len(x_fit) / config.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps * config.epochs)
    # the augmented batches carry soft targets (one-hot digits, uniform negatives: see `targets`)
    loss = "categorical_crossentropy" if source is not None else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=["accuracy"])
    if source is not None:
        history = model.fit(source, validation_data=(x_val, targets(y_val, 1.0)[0]), epochs=config.epochs,
                            callbacks=[early, *callbacks], verbose=verbose)
    else:
        history = model.fit(x_fit, y_fit, batch_size=config.batch_size, validation_data=(x_val, y_val),
                            epochs=config.epochs, callbacks=[early, *callbacks], verbose=verbose)
    sizes = {"train": len(x_fit), "validation": len(x_val), "real_train": real_train}
    return model, history, time.time() - start, sizes


def recalibrate(name: str, models_dir: Path = MODELS_DIR, data=None) -> dict:
    """Fit a trained model's rules again and rewrite its card's "real", "calibration" and
    "strangers" entries (after a change to the rules; the model itself is untouched). Returns the card."""
    from ..reading.classifier import load_keras

    _, card = load_keras(name, models_dir)
    config = TrainConfig(**card["config"])
    fast = LiteRTModel((models_dir / card["litert"]["file"]).read_bytes())
    card["real"], card["calibration"], card["strangers"] = strangers_entries(
        config, fast, data or load_mnist(), pendigits.load_populations(), models_dir)
    (models_dir / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def train(config: TrainConfig, models_dir: Path = MODELS_DIR, data=None, extra=None) -> dict:
    """Train `config.model`, save it, its fast path and its card in `models_dir`, return the card.

    extra: a collection of drawings (path, URL or Collection; `collected.load_collected`), or None.
    Its sessions are split in two (`collected.split_by_session`, by `config.seed`): one half is
    trained on, the other only scored; the card's "collected" entry has that score.
    """
    data = data or load_mnist()
    drawings = collected.load_collected(extra) if extra is not None else None
    if drawings is not None:
        extra_index, extra_heldout = collected.split_by_session(drawings.sessions, config.seed)
    populations = pendigits.load_populations() if config.augment == "full" and config.pen_copies else {}
    trained_on = [name for name in populations if name != config.holdout]
    pen_train = pendigits.concatenate(populations[name] for name in trained_on) if trained_on else None
    model, history, wall, sizes = fit(config, data, pen=pen_train,
                                      extra=drawings.subset(extra_index) if drawings is not None else None)

    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{config.model}.keras"
    save_for_inference(model, path)
    fast_entry = write_fast_path(model, models_dir / f"{config.model}.tflite")
    features_entry = write_features_path(model, models_dir / f"{config.model}.features.tflite")
    fast = LiteRTModel((models_dir / fast_entry["file"]).read_bytes())  # the card's figures are the app's
    test = metrics(fast(data.x_test.astype(np.float32) / 255), data.y_test)
    hand_x, hand_y = hand_set()
    drawn_x, drawn_y = redrawn_set(data.x_test[:2000], data.y_test[:2000])
    drawn = {"hand": {k: v for k, v in metrics(fast(hand_x), hand_y).items() if k != "confusion"},
             "redrawn_mnist_test": {k: v for k, v in metrics(fast(drawn_x), drawn_y).items() if k != "confusion"}}
    real, calibrated, cross = (strangers_entries(config, fast, data, populations, models_dir)
                               if populations else (None, None, None))
    collected_report = None
    if drawings is not None:
        train_part, held_part = drawings.subset(extra_index), drawings.subset(extra_heldout)
        scored = (collected.score(fast(held_part.floats()), held_part.labels, held_part.sessions)
                  if len(held_part) else None)
        collected_report = {
            "source": drawings.source, "train": len(train_part), "heldout": len(held_part),
            "accuracy": None if scored is None else scored["accuracy"],
            "train_sessions": sorted(set(train_part.sessions)), "heldout_sessions": len(set(held_part.sessions)),
            "heldout_metrics": None if scored is None else {k: v for k, v in scored.items() if k != "left_out"}}
    table = layer_table(model)
    card = {
        "name": config.model,
        "file": path.name,
        "sha256": _sha256(path),
        "file_bytes": path.stat().st_size,
        "architecture": [{**row, "output_shape": list(row["output_shape"])} for row in table],
        "parameters": sum(row["parameters"] for row in table),
        "multiply_adds_per_image": sum(row["multiply_adds"] for row in table),
        "config": asdict(config),
        "data": {"source": data.source, "kind": data.kind, "sha256": data.sha256, **sizes, "test": len(data.x_test)},
        "epochs_run": len(history.history["loss"]),
        "best_val_accuracy": float(max(history.history["val_accuracy"])),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
        "litert": fast_entry,
        "litert_features": features_entry,
        "wall_time_s": round(wall, 1),
        "test": test,
        "drawn": drawn,
        "real": real,
        "calibration": calibrated,
        "strangers": cross,
        "collected": collected_report,
        "versions": {"python": platform.python_version(), "keras": keras.__version__, "tensorflow": tf.__version__,
                     "backend": keras.backend.backend(), "numpy": np.__version__},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    (models_dir / f"{config.model}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def export_fast_path(name: str, models_dir: Path = MODELS_DIR) -> dict:
    """Derive `<name>.tflite` and `<name>.features.tflite` afresh from the verified `<name>.keras`
    and record them in the card (its "litert" and "litert_features" entries, with the backend they
    were exported on). Returns the card."""
    from ..reading.classifier import load_keras

    model, card = load_keras(name, models_dir)
    exported_with = {"tensorflow": tf.__version__, "keras": keras.__version__}
    card["litert"] = {**write_fast_path(model, models_dir / f"{name}.tflite"), "exported_with": exported_with}
    card["litert_features"] = {**write_features_path(model, models_dir / f"{name}.features.tflite"),
                               "exported_with": exported_with}
    (models_dir / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card
