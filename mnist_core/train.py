"""Train a model and write `models/<name>.keras` and its card `models/<name>.json`.

One straight path: data -> validation split (from the training set) -> augmented batches ->
model.fit with a cosine learning-rate schedule and early stopping -> test-set evaluation ->
model card. Augmentation `full` mixes in the training digits redrawn as brush strokes (see
`strokes.redraw`), so that the models read canvas drawings as well as MNIST's own digits.
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

from . import augment
from .data import load_mnist
from .drawn import hand_set, redrawn_set
from .evaluate import metrics
from .litert import write_fast_path
from .models import BUILDERS, keras, layer_table
from .strokes import redraw

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass
class TrainConfig:
    model: str = "lenet5"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 2e-3
    augment: str = "full"  # "none" | "shift8" | "full"
    stroke_fraction: float = 0.35  # share of each batch drawn from the brush-stroke variant
    flag_fraction: float = 0.5  # share of the stroke variant's 1s given a flag (the European 1)
    validation_size: int = 5000
    patience: int = 8
    seed: int = 0
    train_limit: int = 0  # use only this many training images (0 = all): for quick runs
    activation: str = "relu"  # LeNet-5 only: "relu" or the paper's "tanh"
    pooling: str = "max"  # LeNet-5 only: "max" or the paper's "average" subsampling


class AugmentedBatches(keras.utils.PyDataset):
    """Batches of freshly distorted training images, a new draw every epoch.

    images, strokes: (N, 28, 28) float32 in [0, 1] (the originals and their brush-stroke
    redrawings); labels (N,). Each batch takes `stroke_fraction` of its images from `strokes`,
    then applies affine + elastic distortion, a random stroke thickness and a little noise.
    """

    def __init__(self, images, strokes, labels, config: TrainConfig, **kwargs):
        super().__init__(**kwargs)
        self.images, self.strokes, self.labels, self.config = images, strokes, labels, config
        self.rng = np.random.default_rng(config.seed)
        self.order = self.rng.permutation(len(images))

    def __len__(self):
        return int(np.ceil(len(self.images) / self.config.batch_size))

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.images))

    def __getitem__(self, index):
        rng = np.random.default_rng((self.config.seed, index, int(self.order[0])))
        chosen = self.order[index * self.config.batch_size : (index + 1) * self.config.batch_size]
        use_strokes = rng.random(len(chosen)) < self.config.stroke_fraction
        batch = np.where(use_strokes[:, None, None], self.strokes[chosen], self.images[chosen])
        batch = augment.distort(batch, rng, rotation=12, zoom=0.1, shift=2, shear=10, alpha=20, sigma=4)
        batch = augment.thickness(batch, rng.choice([-1, 0, 0, 0, 1], len(chosen)))
        batch = augment.noise(batch, rng, sigma=rng.choice([0.0, 0.05]))
        return batch, self.labels[chosen]


def save_for_inference(model, path: Path) -> None:
    """Save `model`'s architecture and weights without its optimizer's state.

    A compiled model's .keras file also holds Adam's two moment estimates per weight (3x the
    size: the MLP's 5.6 MB instead of 1.9 MB) and Keras 3 ignores `include_optimizer` for .keras
    files; an uncompiled clone with the same weights saves only what inference reads.
    """
    inference = keras.models.clone_model(model)
    inference.set_weights(model.get_weights())
    inference.save(path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _probabilities(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(images, batch_size=1000, verbose=0), np.float32)


def train(config: TrainConfig, models_dir: Path = MODELS_DIR, data=None) -> dict:
    """Train `config.model`, save it and its card in `models_dir`, return the card."""
    keras.utils.set_random_seed(config.seed)
    data = data or load_mnist()
    x = data.x_train.astype(np.float32) / 255
    y = np.asarray(data.y_train)
    order = np.random.default_rng(config.seed).permutation(len(x))
    val, fit = order[: config.validation_size], order[config.validation_size :]
    if config.train_limit:
        fit = fit[: config.train_limit]
    x_val, y_val, x_fit, y_fit = x[val], y[val], x[fit], y[fit]

    options = {"activation": config.activation, "pooling": config.pooling} if config.model == "lenet5" else {}
    model = BUILDERS[config.model](**options)
    steps = int(np.ceil(len(x_fit) * (9 if config.augment == "shift8" else 1) / config.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps * config.epochs)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [keras.callbacks.EarlyStopping("val_accuracy", patience=config.patience, restore_best_weights=True)]

    # Keras' progress bar (loss, accuracy, val_accuracy, time) in a terminal; one line per epoch in logs.
    verbose = 1 if sys.stdout.isatty() else 2
    start = time.time()
    if config.augment == "full":
        style_rng = np.random.default_rng(config.seed + 1)
        widths = style_rng.uniform(0.06, 0.3, len(x_fit))
        flagged = (y_fit == 1) & (style_rng.random(len(x_fit)) < config.flag_fraction)
        flags = np.where(flagged, style_rng.uniform(0.15, 0.4, len(x_fit)), 0.0)
        print(f"redrawing {len(x_fit)} training digits as brush strokes...", flush=True)
        strokes = redraw(x_fit, widths, flags=flags)
        batches = AugmentedBatches(x_fit, strokes, y_fit, config)
        history = model.fit(batches, validation_data=(x_val, y_val), epochs=config.epochs, callbacks=callbacks,
                            verbose=verbose)
    else:
        if config.augment == "shift8":
            x_fit, y_fit = augment.shift8(x_fit, y_fit)
        history = model.fit(x_fit, y_fit, batch_size=config.batch_size, validation_data=(x_val, y_val),
                            epochs=config.epochs, callbacks=callbacks, verbose=verbose)
    wall = time.time() - start

    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{config.model}.keras"
    save_for_inference(model, path)
    test = metrics(_probabilities(model, data.x_test.astype(np.float32) / 255), data.y_test)
    hand_x, hand_y = hand_set()
    drawn_x, drawn_y = redrawn_set(data.x_test[:2000], data.y_test[:2000])
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
        "data": {"source": data.source, "kind": data.kind, "sha256": data.sha256,
                 "train": len(x_fit), "validation": len(x_val), "test": len(data.x_test)},
        "epochs_run": len(history.history["loss"]),
        "best_val_accuracy": float(max(history.history["val_accuracy"])),
        "history": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
        "litert": write_fast_path(model, models_dir / f"{config.model}.tflite"),
        "wall_time_s": round(wall, 1),
        "test": test,
        "drawn": {
            "hand": {k: v for k, v in metrics(_probabilities(model, hand_x), hand_y).items() if k != "confusion"},
            "redrawn_mnist_test": {k: v for k, v in metrics(_probabilities(model, drawn_x), drawn_y).items()
                                   if k != "confusion"},
        },
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
