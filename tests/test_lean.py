"""Reading a digit never imports TensorFlow: not through the library, not in the app.

Each check runs in a fresh Python process (the test process itself has TensorFlow loaded by
other tests) and reports which `tensorflow` and `keras` modules it ended up with. Each also does
one thing that truly needs TensorFlow at the end and checks that it is then reported, so the
check itself is shown able to fail.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds per process: the machine may be busy

# Prints one JSON line: {"before": [TensorFlow/Keras modules after reading], "labels": ..., "after": [...]}.
REPORT = """
import json, sys
def heavy():
    return sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
"""

LIBRARY = REPORT + """
import numpy as np
from mnist_core import MODEL_NAMES, Classifier
from mnist_core.cli import main
from mnist_core.evaluation.bench import CANVAS_BACKGROUND, canvas_drawing

labels = {}
for name in MODEL_NAMES:
    clf = Classifier.load(name)
    result = clf.classify(canvas_drawing(), CANVAS_BACKGROUND)              # the canvas: a 3
    photo = clf.classify(np.asarray(__import__("PIL.Image").Image.open("tests/data/photos/00_plain_even_7.jpg")))
    clf.classify_batch(np.stack([result.input28, photo.input28]))
    layers = clf.activations(result.input28)
    labels[name] = [result.label, photo.label, int(layers["output"].argmax())]
status = main(["predict", "tests/data/photos/00_plain_even_7.jpg", "--json"])
before = heavy()
clf.saliency(result.input28)                                                # gradients: TensorFlow
print(json.dumps({"before": before, "labels": labels, "status": status, "after": heavy()}))
"""

APP = REPORT + """
import numpy as np
from streamlit.testing.v1 import AppTest
sys.path[:0] = ["tests", "tests/app"]
from core_helpers import drawing
from test_app_draw import canvas_png
from app.session import CANVAS_KEY
from app.tabs.draw import canvas_value

at = AppTest.from_file("app/streamlit_app.py", default_timeout=240)
at.run()
at.sidebar.radio(key="model_choice").set_value("Both side by side")
at.run()
at.session_state[CANVAS_KEY] = canvas_value(canvas_png(drawing(7)), objects=[{"type": "path"}])
at.run()
labels = [m.value for m in at.metric]
for tab in ("Numbers", "Learn", "Train", "Collected"):
    at.session_state["tab"] = tab
    at.run()
errors = [e.value for e in at.exception] + [e.value for e in at.error]
before = heavy()
at.session_state["tab"] = "Network"                                         # kernels, gradients: TensorFlow
at.run()
print(json.dumps({"before": before, "labels": labels, "errors": errors, "after": heavy(),
                  "network_errors": [e.value for e in at.exception]}))
"""

# The first training imports TensorFlow on its own thread, says so while it waits, and takes
# TensorFlow's objects out of later garbage collections (a server runs one after each page run).
TRAINING = REPORT + """
import gc, os, time
from mnist_core import load_mnist
from mnist_core.training import live
data = load_mnist(os.environ["LEAN_MNIST"])
before = heavy()
job = live.TrainingJob(live.live_config("mlp", images=2000, epochs=1), data).start()
said = set()
while job.running:
    said.add(job.progress().summary())
    time.sleep(0.01)
print(json.dumps({"before": before, "said": sorted(said), "state": job.progress().state,
                  "frozen": gc.get_freeze_count(), "after": heavy()}))
"""


def _run(script: str, **env_extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    env.pop("MNIST_DATA", None)  # reading needs no data set; the tabs that do say so in one line
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_reading_through_the_library_never_imports_tensorflow():
    report = _run(LIBRARY)
    assert report["before"] == [], f"reading imported {report['before'][:5]}"
    assert report["labels"] == {"mlp": [3, 7, 3], "lenet5": [3, 7, 3]}  # canvas, photo, the layers' output
    assert report["status"] == 0
    assert "tensorflow" in report["after"] and "keras" in report["after"]  # the check sees it when it is there


def test_the_app_reads_drawings_without_tensorflow_and_loads_it_for_the_network_tab():
    report = _run(APP)
    assert report["errors"] == []
    assert report["labels"][:2] == ["7", "7"], report["labels"]  # the MLP's and LeNet-5's Prediction
    assert report["before"] == [], f"the app imported {report['before'][:5]} before the Network tab"
    assert "tensorflow" in report["after"] and report["network_errors"] == []


def test_the_first_training_says_it_loads_tensorflow_and_freezes_its_objects(mnist):
    report = _run(TRAINING, LEAN_MNIST=os.environ["MNIST_DATA"])
    assert report["before"] == []  # the data and the training module need no TensorFlow
    assert report["state"] == "done" and "tensorflow" in report["after"]
    assert any(line.startswith("loading TensorFlow") for line in report["said"]), report["said"]
    assert report["frozen"] > 100_000  # TensorFlow's and Keras' objects, out of every later collection
