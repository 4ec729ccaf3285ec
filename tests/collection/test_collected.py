"""Collected drawings as a data set (mnist_core.collection.collected) and the CLI's --extra: training on
half the sessions of a collection, scoring the other half, and `evaluate --extra` leaving out
what the model was trained on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnist_core import cli
from mnist_core.collection.collected import NO_SESSION, load_collected, score, split_by_session
from mnist_core.collection.database import Collection, CollectionError
from mnist_core.reading.classifier import Classifier

ROOT = Path(__file__).resolve().parents[2]


def fill(path, images, labels, sessions):
    with Collection(path) as c:
        for x, y, s in zip(images, labels, sessions):
            c.add(x, int(y), session=s)
    return path


def test_load_keeps_order_labels_and_sessions(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    fill(tmp_path / "c.sqlite3", images, [3, 1, 4, 1, 5], ["a", "b", None, "a", "b"])
    drawings = load_collected(tmp_path / "c.sqlite3")
    assert len(drawings) == 5 and np.array_equal(drawings.images, images)
    assert drawings.labels.tolist() == [3, 1, 4, 1, 5]
    assert drawings.sessions == ["a", "b", NO_SESSION, "a", "b"]
    assert drawings.floats().dtype == np.float32 and drawings.floats().max() <= 1


def test_load_of_a_missing_file_is_an_error_not_a_new_database(tmp_path):
    with pytest.raises(CollectionError, match="no such file"):
        load_collected(tmp_path / "typo.sqlite3")
    assert not (tmp_path / "typo.sqlite3").exists()


def test_split_keeps_sessions_whole_and_halves_the_drawings():
    sessions = [f"s{i % 7}" for i in range(70)] + ["big"] * 5
    train, held = split_by_session(sessions, seed=3)
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(75))
    assert not {sessions[i] for i in train} & {sessions[i] for i in held}
    assert abs(len(train) - len(held)) <= 10  # whole sessions of 10 (and one of 5) each side
    one_train, one_held = split_by_session(["x"] * 4)
    assert len(one_train) == 4 and len(one_held) == 0  # one session: nothing can be held out
    train, held = split_by_session(["x", "y"])
    assert len(train) == len(held) == 1


def test_score_leaves_out_trained_sessions():
    p = np.eye(10, dtype=np.float32)[[1, 2, 3, 4]]
    result = score(p, [1, 2, 0, 0], ["a", "a", "b", "c"], trained_sessions=["b"])
    assert result["count"] == 3 and result["left_out"] == 1 and result["accuracy"] == pytest.approx(2 / 3)
    assert score(p, [1, 2, 3, 4], ["a"] * 4, trained_sessions=["a"]) is None


@pytest.mark.slow
def test_train_and_evaluate_with_extra(mnist, tmp_path, capsys):
    """A tiny run: 500 MNIST images + 40 'collected' drawings in 4 sessions. The card says which
    sessions were trained on and scores the others; `evaluate --extra` scores only those too."""
    db = fill(tmp_path / "collected.sqlite3", mnist.x_test[:40], mnist.y_test[:40], [f"s{i % 4}" for i in range(40)])
    models = tmp_path / "models"
    result = subprocess.run(
        [sys.executable, "-m", "mnist_core", "train", "--model", "mlp", "--epochs", "1", "--train-limit", "500",
         "--augment", "none", "--models-dir", str(models), "--extra", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads((models / "mlp.json").read_text())
    part = card["collected"]
    assert part["train"] + part["heldout"] == 40 and part["train"] == 20 and part["heldout"] == 20
    assert card["data"]["train"] == 500 + part["train"]  # the collected half joined the training set
    trained = set(part["train_sessions"])
    assert len(trained) == 2 and trained < {"s0", "s1", "s2", "s3"} and part["heldout_sessions"] == 2
    assert f"collected drawings: trained on 20, accuracy {part['accuracy']:.4f} on the 20 held-out" in result.stdout

    clf = Classifier.load("mlp", models)  # the held-out accuracy, measured again by hand
    held = [i for i in range(40) if f"s{i % 4}" not in trained]
    predicted = clf.classify_batch(mnist.x_test[held].astype(np.float32) / 255).argmax(axis=1)
    assert part["accuracy"] == pytest.approx(float((predicted == mnist.y_test[held]).mean()))

    status = cli.main(["evaluate", "--model", "mlp", "--models-dir", str(models), "--json", "--extra", str(db)])
    out = capsys.readouterr().out
    assert status == 0
    collected = json.loads(out)["collected"]
    assert collected["drawings"] == 40 and collected["left_out"] == 20 and collected["count"] == 20
    assert collected["accuracy"] == pytest.approx(part["accuracy"])

    status = cli.main(["evaluate", "--model", "mlp", "--models-dir", str(models), "--extra", str(tmp_path / "no.db")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("evaluate: CollectionError: ") and "no such file" in err[0]
