"""What a training run is told to do: `TrainConfig`, a plain dataclass (no TensorFlow here).

`train.fit` and `train.train` run it; the Train tab and `live` build it without loading Keras.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    pen_copies: int = 3  # renders of each real pen drawing trained on (0: no real drawings)
    holdout: str = ""  # the population of real drawings held out whole ("pendigits", "uji"; "" trains on all)
    negatives: int = 10000  # drawings that are no digit (`negatives.TRAIN_KINDS`), taught a uniform answer
    negative_weight: float = 0.5  # their loss's weight against a digit's (outlier exposure's lambda)
    validation_size: int = 5000
    patience: int = 8
    seed: int = 0
    train_limit: int = 0  # use only this many training images (0 = all): for quick runs
    activation: str = "relu"  # LeNet-5 only: "relu" or the paper's "tanh"
    pooling: str = "max"  # LeNet-5 only: "max" or the paper's "average" subsampling
