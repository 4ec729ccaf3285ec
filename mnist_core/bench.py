"""Latency of the steps between a drawing and its answer, in milliseconds (medians).

    figures = bench.run(repeat=50)
    figures["preprocess_ms"]                       # a 280x280 RGBA canvas drawing -> 28x28
    figures["models"]["lenet5"]["forward_ms"]      # model(x, training=False), batch of 1, no autograd
    figures["models"]["lenet5"]["classify_ms"]     # Classifier.classify: preprocess + forward
    figures["models"]["lenet5"]["predict_ms"]      # model.predict on the same single image
    figures["models"]["lenet5"]["predict_over_forward"]

Each step runs once to warm up (lazy initialisation, caches), then `repeat` times, timed with
time.perf_counter; the median is reported, so a stray slow run (another process) does not count.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from .classifier import MODEL_NAMES, Classifier
from .drawn import HAND
from .preprocess import preprocess
from .strokes import canvas_rgba, render_strokes

CANVAS = 280


def canvas_drawing() -> np.ndarray:
    """A 3 drawn on a 280x280 canvas as the app gets it: (280, 280, 4) uint8 RGBA, white strokes
    (alpha = ink) on a transparent background, 190 px tall, brush 18 px (`drawn.HAND`'s first 3)."""
    strokes = [np.asarray(stroke) * 190 + 45 for stroke in HAND[3][0]]
    return canvas_rgba(render_strokes(strokes, (CANVAS, CANVAS), width=18))


def median_ms(function, repeat: int) -> float:
    """Median wall time of `function()` in milliseconds, over `repeat` runs after one warm-up run."""
    function()
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(repeat: int = 30, models=MODEL_NAMES, models_dir=None) -> dict:
    """Time preprocessing and, for each model, the forward pass, `classify` and `model.predict`.

    models_dir: where the models are (default: `Classifier.load`'s). Raises ModelFileError
    if a model is missing. Returns {"repeat", "torch_threads", "preprocess_ms", "models":
    {name: {"forward_ms", "classify_ms", "predict_ms", "predict_over_forward"}}}, times in ms.
    """
    drawing = canvas_drawing()
    figures = {"repeat": repeat, "torch_threads": torch.get_num_threads(),
               "preprocess_ms": median_ms(lambda: preprocess(drawing), repeat), "models": {}}
    for name in models:
        figures["models"][name] = time_model(Classifier.load(name, models_dir), drawing, repeat)
    return figures


def time_model(clf: Classifier, drawing: np.ndarray, repeat: int) -> dict:
    """Median ms of one model's forward pass on the preprocessed `drawing` (batch of 1, no
    autograd), of `clf.classify(drawing)`, and of `model.predict` on the same input."""
    x = preprocess(drawing).image[None]  # (1, 28, 28) float32

    def forward():
        with torch.no_grad():
            return clf.model(x, training=False)

    row = {
        "forward_ms": median_ms(forward, repeat),
        "classify_ms": median_ms(lambda: clf.classify(drawing), repeat),
        "predict_ms": median_ms(lambda: clf.model.predict(x, verbose=0), repeat),
    }
    row["predict_over_forward"] = row["predict_ms"] / row["forward_ms"]
    return row
