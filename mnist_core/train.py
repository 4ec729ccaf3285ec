"""Train a model and write `models/<name>.keras`, its LiteRT fast path and its card `models/<name>.json`.

One straight path: data -> validation split (from the training set) -> augmented batches ->
model.fit with a cosine learning-rate schedule and early stopping -> evaluation (MNIST test, the
drawn sets, real drawings of held-out writers) -> calibration -> model card.

Augmentation `full` is how the models learn to read drawings as well as MNIST's own digits. Each
training digit comes in three renderings, one picked per image per epoch: MNIST's original, its
centre line redrawn with a round brush (`strokes.redraw`, a share of the 1s with a flag), and
the same in a style MNIST lacks (`styles.restyle`: crossed 7s, flagged and footed 1s, curly 9s,
open 4s). Real pen drawings of the pendigits writers on the training side of the split
(`pendigits.split_writers`) join them, each rendered as the canvas would draw it, three times.
Every batch is then distorted (affine + elastic), thickened or thinned, and noised.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from . import augment, calibration, collected, pendigits
from .data import load_mnist
from .drawn import hand_set, redrawn_set
from .evaluate import metrics, writer_metrics
from .litert import LiteRTModel, write_fast_path
from .models import BUILDERS, keras, layer_table
from .strokes import redraw
from .styles import restyle

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass
class TrainConfig:
    model: str = "lenet5"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 2e-3
    augment: str = "full"  # "none" | "shift8" | "full"
    stroke_fraction: float = 0.35  # share of each batch drawn from the brush-stroke variant
    style_fraction: float = 0.2  # share drawn from the styled variant (crossed 7s, curly 9s, ...)
    flag_fraction: float = 0.5  # share of the stroke variant's 1s given a flag (the European 1)
    pen_copies: int = 3  # renders of each training-side pendigits digit (0: no real drawings)
    pen_fold: int = 0  # which third of the pendigits writers is held out (pendigits.split_writers)
    validation_size: int = 5000
    patience: int = 8
    seed: int = 0
    train_limit: int = 0  # use only this many training images (0 = all): for quick runs
    activation: str = "relu"  # LeNet-5 only: "relu" or the paper's "tanh"
    pooling: str = "max"  # LeNet-5 only: "max" or the paper's "average" subsampling


class AugmentedBatches(keras.utils.PyDataset):
    """Batches of freshly distorted training images, a new draw every epoch.

    variants: V arrays (N, 28, 28) float32 in [0, 1], V renderings of the same N digits; labels (N,);
    weights: (V,) the chance of each rendering. Each image of a batch comes from one rendering,
    then gets affine + elastic distortion, a random stroke thickness and a little noise.
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
        return batch, self.labels[chosen]


def training_renderings(x_fit: np.ndarray, y_fit: np.ndarray, config: TrainConfig, pen=None):
    """The `full` augmentation's data: (variants, weights, labels) for AugmentedBatches.

    x_fit (N, 28, 28) float32 in [0, 1], y_fit (N,): MNIST's training digits, each as original,
    redrawn with a brush, and redrawn in a style. pen: the training-side pendigits digits
    (`Pendigits`), or None; each is rendered `config.pen_copies` times, one render per variant.
    """
    rng = np.random.default_rng(config.seed + 1)
    widths = rng.uniform(0.06, 0.3, len(x_fit))
    flagged = (y_fit == 1) & (rng.random(len(x_fit)) < config.flag_fraction)
    flags = np.where(flagged, rng.uniform(0.15, 0.4, len(x_fit)), 0.0)
    print(f"redrawing {len(x_fit)} training digits as brush strokes, and in styles...", flush=True)
    strokes = redraw(x_fit, widths, flags=flags)
    styled = strokes.copy()  # the styles are for 1, 4, 7 and 9: the other digits keep their brush redrawing
    chosen = np.flatnonzero(np.isin(y_fit, (1, 4, 7, 9)))
    styled[chosen] = restyle(x_fit[chosen], y_fit[chosen], rng.uniform(0.06, 0.3, len(chosen)), rng, fraction=1.0)
    variants, labels = [x_fit, strokes, styled], y_fit
    weights = [1 - config.stroke_fraction - config.style_fraction, config.stroke_fraction, config.style_fraction]
    if pen is not None and config.pen_copies:
        print(f"rendering {len(pen)} real pen drawings x{config.pen_copies} as canvas drawings...", flush=True)
        renders = pendigits.render(pen.trajectories, seed=config.seed, copies=config.pen_copies)
        renders = renders.reshape(len(pen), config.pen_copies, 28, 28)
        variants = [np.concatenate([v, renders[:, k % config.pen_copies]]) for k, v in enumerate(variants)]
        labels = np.concatenate([y_fit, pen.labels])
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
    order = np.random.default_rng(config.seed).permutation(len(x))
    val, fit_index = order[: config.validation_size], order[config.validation_size :]
    if config.train_limit:
        fit_index = fit_index[: config.train_limit]
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
        real_train = len(labels) - len(y_fit)
        # two worker threads distort the next batches while TensorFlow trains on this one
        source = AugmentedBatches(variants, weights, labels, config, workers=2, use_multiprocessing=False)
        steps = len(source)
    else:
        if config.augment == "shift8":
            x_fit, y_fit = augment.shift8(x_fit, y_fit)
        source = None
        steps = int(np.ceil(len(x_fit) / config.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps * config.epochs)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if source is not None:
        history = model.fit(source, validation_data=(x_val, y_val), epochs=config.epochs,
                            callbacks=[early, *callbacks], verbose=verbose)
    else:
        history = model.fit(x_fit, y_fit, batch_size=config.batch_size, validation_data=(x_val, y_val),
                            epochs=config.epochs, callbacks=[early, *callbacks], verbose=verbose)
    sizes = {"train": len(x_fit), "validation": len(x_val), "real_train": real_train}
    return model, history, time.time() - start, sizes


def real_report(fast, pen_all, heldout_writers) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """The held-out writers' real drawings read by `fast` ((N, 28, 28) -> (N, 10)): (figures, raw
    probabilities, labels, writers). figures as `evaluate.writer_metrics`."""
    images, labels, writers = pendigits.heldout_drawings(pen_all, heldout_writers)
    probabilities = fast(images)
    return writer_metrics(probabilities, labels, writers), probabilities, labels, writers


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
    pen_all = pendigits.load_pendigits() if config.augment == "full" and config.pen_copies else None
    pen_train = heldout = None
    if pen_all is not None:
        train_index, heldout_index = pendigits.split_writers(pen_all.writers, config.pen_fold)
        pen_train, heldout = pen_all.subset(train_index), sorted(set(pen_all.writers[heldout_index].tolist()))
    model, history, wall, sizes = fit(config, data, pen=pen_train,
                                      extra=drawings.subset(extra_index) if drawings is not None else None)

    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{config.model}.keras"
    save_for_inference(model, path)
    fast_entry = write_fast_path(model, models_dir / f"{config.model}.tflite")
    fast = LiteRTModel((models_dir / fast_entry["file"]).read_bytes())  # the card's figures are the app's
    test = metrics(fast(data.x_test.astype(np.float32) / 255), data.y_test)
    hand_x, hand_y = hand_set()
    drawn_x, drawn_y = redrawn_set(data.x_test[:2000], data.y_test[:2000])
    drawn = {"hand": {k: v for k, v in metrics(fast(hand_x), hand_y).items() if k != "confusion"},
             "redrawn_mnist_test": {k: v for k, v in metrics(fast(drawn_x), drawn_y).items() if k != "confusion"}}
    real = calibrated = None
    if heldout is not None:
        real, probabilities, labels, writers = real_report(fast, pen_all, heldout)
        real = {"source": "pendigits (UCI), rendered as 280x280 canvas drawings, one render per digit (seed 1)",
                "heldout_writers": heldout, "trained_on_writers": sorted(set(pen_train.writers.tolist())), **real}
        calibrated = calibration.summary(probabilities, labels, writers)
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
        "wall_time_s": round(wall, 1),
        "test": test,
        "drawn": drawn,
        "real": real,
        "calibration": calibrated,
        "collected": collected_report,
        "versions": {"python": platform.python_version(), "keras": keras.__version__, "tensorflow": tf.__version__,
                     "backend": keras.backend.backend(), "numpy": np.__version__},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    (models_dir / f"{config.model}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card


def export_fast_path(name: str, models_dir: Path = MODELS_DIR) -> dict:
    """Derive `<name>.tflite` afresh from the verified `<name>.keras` and record it in the card
    (its "litert" entry and the backend it was exported on). Returns the card."""
    from .classifier import load_keras

    model, card = load_keras(name, models_dir)
    card["litert"] = write_fast_path(model, models_dir / f"{name}.tflite")
    card["litert"]["exported_with"] = {"tensorflow": tf.__version__, "keras": keras.__version__}
    (models_dir / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    return card
