"""Latency of the steps between a drawing and its answer, in milliseconds (medians), and batch
throughput, all in one run so that the ratios compare like with like.

    figures = bench.run(repeat=50)
    figures["preprocess_ms"]                       # a 280x280 RGBA canvas drawing -> 28x28
    figures["photo_ms"]                            # a 12-megapixel phone-like photo (4000x3000 RGB) -> 28x28
    row = figures["models"]["lenet5"]
    row["predict_ms"]      # model.predict on one image
    row["eager_ms"]        # model(x, training=False), eager
    row["tf_function_ms"]  # the same call compiled by tf.function for a (1, 28, 28) input
    row["litert_ms"]       # the fast path alone (LiteRT interpreter)
    row["classify_ms"]     # Classifier.classify: the canvas as the app gets it -> preprocess -> fast path -> Result
    row["predict_over_classify"], row["batch_images_per_s"]
    figures["reading_process"]  # a fresh process that loads both models and reads one drawing:
                                # {"seconds", "rss_mb", "tensorflow_loaded"}

Each step runs once to warm up (lazy initialisation, tracing, caches), then `repeat` times, timed
with time.perf_counter; the median is reported, so a stray slow run (another process) does not count.
"""

from __future__ import annotations

import statistics
import time
from importlib.metadata import version

import numpy as np

import json
import subprocess
import sys

from ..datasets.drawn import HAND
from ..imaging.preprocess import preprocess
from ..pen.strokes import render_strokes
from ..reading.classifier import MODEL_NAMES, Classifier

CANVAS = 280
BATCH_IMAGES = 10_000


def canvas_drawing() -> np.ndarray:
    """A 3 drawn on a 280x280 canvas as the app gets it from the browser: (280, 280, 4) uint8 RGBA,
    white strokes on an opaque black background, 190 px tall, brush 18 px (`drawn.HAND`'s first 3).
    Read it with `background=0.0`, as the app does (`CANVAS_BACKGROUND`)."""
    strokes = [np.asarray(stroke) * 190 + 45 for stroke in HAND[3][0]]
    ink = np.round(render_strokes(strokes, (CANVAS, CANVAS), width=18) * 255).astype(np.uint8)
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


CANVAS_BACKGROUND = 0.0


def median_ms(function, repeat: int) -> float:
    """Median wall time of `function()` in milliseconds, over `repeat` runs after one warm-up run."""
    function()
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def twelve_megapixel_photo() -> np.ndarray:
    """(3000, 4000, 3) uint8: a 5 on squared paper in a shadow (the committed test photo), enlarged to
    12 megapixels as a phone gives it. What the photo path costs depends on the pixels' count."""
    from pathlib import Path

    from PIL import Image

    path = Path(__file__).resolve().parents[2] / "tests" / "data" / "photos" / "shadow_squared_5.jpg"
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((4000, 3000), Image.BICUBIC))


def run(repeat: int = 30, models=MODEL_NAMES, models_dir=None) -> dict:
    """Time preprocessing and, for each model, every way of running it (see the module's docstring).

    models_dir: where the models are (default: `Classifier.load`'s). Raises ModelFileError
    if a model is missing. Returns {"backend", "tensorflow", "keras", "litert", "repeat",
    "batch_images", "preprocess_ms", "models": {name: {...}}}, times in ms.
    """
    reading = reading_process(models_dir)  # first, in a process of its own: before TensorFlow is loaded here
    from ..networks.models import keras  # TensorFlow: `time_model` compares the Keras ways of running a model
    import tensorflow as tf

    drawing = canvas_drawing()
    figures = {"reading_process": reading, "backend": keras.backend.backend(), "tensorflow": tf.__version__, "keras": keras.__version__,
               "litert": version("ai-edge-litert"), "repeat": repeat, "batch_images": BATCH_IMAGES,
               "preprocess_ms": median_ms(lambda: preprocess(drawing, CANVAS_BACKGROUND), repeat), "models": {}}
    photo = twelve_megapixel_photo()
    figures["photo_ms"] = median_ms(lambda: preprocess(photo), max(3, repeat // 3))
    for name in models:
        figures["models"][name] = time_model(Classifier.load(name, models_dir), drawing, repeat)
    return figures


# Run by `reading_process` in a fresh interpreter: what a server that only reads drawings pays.
_READING_SCRIPT = """
import json, sys, time
start = time.perf_counter()
from mnist_core.evaluation.bench import canvas_drawing, CANVAS_BACKGROUND
from mnist_core.reading.classifier import MODEL_NAMES, Classifier
models_dir = sys.argv[1] or None
answers = [Classifier.load(name, models_dir).classify(canvas_drawing(), CANVAS_BACKGROUND).label for name in MODEL_NAMES]
seconds = time.perf_counter() - start
rss_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(json.dumps({"seconds": seconds, "rss_mb": rss_kb / 1024, "tensorflow_loaded": "tensorflow" in sys.modules,
                  "answers": answers}))
"""


def reading_process(models_dir=None) -> dict:
    """A fresh Python process that imports the library, loads both committed models and reads the
    canvas drawing with each: {"seconds": wall time of all that, "rss_mb": its resident memory
    then (Linux), "tensorflow_loaded": bool, "answers": [label per model]}."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _READING_SCRIPT, str(models_dir or "")], cwd=root,
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_model(clf: Classifier, drawing: np.ndarray, repeat: int) -> dict:
    """Median ms of each way of reading the preprocessed `drawing` with `clf`, and images/s of
    `classify_batch` on BATCH_IMAGES images (MNIST-like noise: the cost does not depend on the pixels)."""
    import tensorflow as tf  # the Keras ways of running the model, compared with the fast path

    x = preprocess(drawing, CANVAS_BACKGROUND).image[None]  # (1, 28, 28) float32
    compiled = tf.function(lambda images: clf.model(images, training=False),
                           input_signature=[tf.TensorSpec((1, 28, 28), tf.float32)])
    row = {
        "predict_ms": median_ms(lambda: clf.model.predict(x, verbose=0), max(5, repeat // 5)),
        "eager_ms": median_ms(lambda: clf.model(x, training=False), repeat),
        "tf_function_ms": median_ms(lambda: compiled(x), repeat),
        "litert_ms": median_ms(lambda: clf.fast(x), repeat),
        "classify_ms": median_ms(lambda: clf.classify(drawing, CANVAS_BACKGROUND), repeat),
    }
    row["predict_over_classify"] = row["predict_ms"] / row["classify_ms"]
    batch = np.random.default_rng(0).random((BATCH_IMAGES, 28, 28), dtype=np.float32)
    seconds = median_ms(lambda: clf.classify_batch(batch), max(3, repeat // 10)) / 1000
    row["batch_images_per_s"] = BATCH_IMAGES / seconds
    return row
