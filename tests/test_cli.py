"""The command line, `python -m mnist_core`: predict, evaluate, bench and train on real data and
the committed models; errors are one line on stderr with a non-zero exit status, never a traceback.

Most commands run in-process through `cli.main` (starting Python with Keras costs seconds);
the entry point itself is run as a subprocess for predict and train.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core_helpers import drawing, png_claiming, rgba
from mnist_core import cli
from mnist_core.evaluation import bench
from mnist_core.reading.classifier import MODELS_DIR, Classifier

ROOT = Path(__file__).resolve().parents[1]


def run_module(*args, timeout=120, env=None):
    """`python -m mnist_core ARGS` from the repository root: CompletedProcess with text output."""
    return subprocess.run([sys.executable, "-m", "mnist_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def assert_one_line_error(stderr, *needles):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def digit_folder(mnist, tmp_path_factory):
    """A folder of PNGs: 6 MNIST test digits (dark on white, 4x size), 4 canvas drawings
    (transparent RGBA), a blank page, a corrupt .png and a text file. Returns (folder, labels by name)."""
    folder = tmp_path_factory.mktemp("digits")
    labels = {}
    for i in range(6):
        name = f"mnist_{i}.png"
        big = np.kron(255 - mnist.x_test[i], np.ones((4, 4), np.uint8))
        Image.fromarray(big).save(folder / name)
        labels[name] = int(mnist.y_test[i])
    for digit in (0, 3, 4, 7):
        name = f"canvas_{digit}.png"
        Image.fromarray(rgba(drawing(digit, height=200, x0=40, y0=40))).save(folder / name)
        labels[name] = digit
    Image.new("L", (100, 100), 255).save(folder / "blank.png")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "readme.txt").write_text("not an image, and not listed")
    return folder, labels


def test_predict_folder_json_lines(committed, digit_folder, capsys):
    committed("lenet5")  # fails (CI) or skips without the committed model
    folder, labels = digit_folder
    status = cli.main(["predict", str(folder), "--models-dir", str(MODELS_DIR)])
    out, err = capsys.readouterr()
    assert status == 1  # one file was bad
    assert_one_line_error(err, f"predict: {folder / 'corrupt.png'}: ")
    records = json_lines(out)
    names = [Path(r["file"]).name for r in records]
    assert names == sorted(list(labels) + ["blank.png"])  # sorted by name, corrupt one left out
    for record in records:
        name = Path(record["file"]).name
        probabilities = record["probabilities"]
        assert len(probabilities) == 10 and all(round(p, 6) == p for p in probabilities)
        assert record["model"] == "lenet5"
        if name == "blank.png":
            assert record["label"] is None and record["reason"] and sum(probabilities) == 0
        else:
            assert record["label"] == labels[name], name
            assert "reason" not in record
            assert sum(probabilities) == pytest.approx(1, abs=1e-4)
            assert record["label"] == int(np.argmax(probabilities))


def test_predict_text_output(committed, digit_folder, capsys):
    committed("mlp")
    folder, _ = digit_folder
    status = cli.main(["predict", str(folder / "blank.png"), str(folder / "mnist_0.png"), "--text", "--model", "mlp",
                       "--models-dir", str(MODELS_DIR)])
    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    blank, seven = out.strip().splitlines()
    assert blank.startswith(f"{folder / 'blank.png'}: no digit:")
    assert seven.startswith(f"{folder / 'mnist_0.png'}: 7 (")


def test_predict_entry_point_with_bad_files(committed, digit_folder, tmp_path):
    """Through `python -m mnist_core`: good files are classified, each bad one is one stderr
    line, exit status 1. --json is accepted (JSON lines are the default)."""
    committed("lenet5")
    folder, _ = digit_folder
    (tmp_path / "bomb.png").write_bytes(png_claiming(10_000, 5_000))
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "empty_folder").mkdir()
    args = [folder / "mnist_1.png", tmp_path / "bomb.png", tmp_path / "missing.png", tmp_path / "text.jpg",
            tmp_path / "empty_folder", folder / "mnist_2.png"]
    result = run_module("predict", *args, "--json", "--models-dir", MODELS_DIR)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 4, result.stderr
    assert errors[0].startswith(f"predict: {tmp_path / 'bomb.png'}: too many pixels")
    assert errors[1] == f"predict: {tmp_path / 'missing.png'}: no such file or folder"
    assert errors[2].startswith(f"predict: {tmp_path / 'text.jpg'}: not an image")
    assert errors[3] == f"predict: {tmp_path / 'empty_folder'}: no image files in this folder"
    assert [(r["file"], r["label"]) for r in json_lines(result.stdout)] == [
        (str(folder / "mnist_1.png"), 2), (str(folder / "mnist_2.png"), 1)]


def test_predict_with_a_missing_or_tampered_model(digit_folder, tmp_path, capsys):
    folder, _ = digit_folder
    status = cli.main(["predict", str(folder), "--models-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert_one_line_error(err, "predict: ModelFileError: ", "lenet5.keras is missing")

    (tmp_path / "mlp.keras").write_bytes(b"not a model")
    (tmp_path / "mlp.json").write_text(json.dumps({"sha256": "0" * 64}))
    status = cli.main(["predict", str(folder), "--model", "mlp", "--models-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert_one_line_error(err, "predict: ModelFileError: ", "sha256")


def test_evaluate_json(committed, capsys):
    card = committed("mlp").card
    status = cli.main(["evaluate", "--model", "mlp", "--json", "--models-dir", str(MODELS_DIR)])
    out, err = capsys.readouterr()
    assert status == 0 and err == ""
    report = json.loads(out)  # one JSON object
    test = report["test"]
    assert report["model"] == "mlp" and test["count"] == 10_000
    assert test["accuracy"] >= 0.985
    assert test["accuracy"] == pytest.approx(card["test"]["accuracy"], abs=2e-4)
    confusion = np.array(test["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert np.trace(confusion) == round(test["accuracy"] * 10_000)
    measured, reported = report["strangers"], card["strangers"]  # people it never saw, as the card says
    for population in ("pendigits", "uji", "mnist_test"):
        for key in ("accuracy", "asked", "refused"):
            assert measured["cross_population"][population][key] == pytest.approx(
                reported["cross_population"][population][key], abs=1e-3), (population, key)
    assert measured["negatives_refused"]["all"] == pytest.approx(reported["negatives_refused"]["all"], abs=1e-3)
    np.testing.assert_allclose(test["per_class_accuracy"], confusion.diagonal() / confusion.sum(axis=1), atol=1e-5)
    assert report["drawn"]["hand"]["count"] == 261 and report["drawn"]["redrawn_mnist_test"]["count"] == 2000
    for part in ("hand", "redrawn_mnist_test"):
        assert report["drawn"][part]["accuracy"] == pytest.approx(card["drawn"][part]["accuracy"], abs=1e-3)

    text = cli.format_evaluation(report)  # what `evaluate` prints without --json
    assert f"test accuracy {test['accuracy']:.4f}" in text
    lines = text.splitlines()
    start = lines.index("confusion matrix (rows: true digit, columns: predicted)")
    printed = [[int(n) for n in line.split()[1:]] for line in lines[start + 2 : start + 12]]
    assert printed == test["confusion"]
    assert f"hand-drawn digits: accuracy {report['drawn']['hand']['accuracy']:.4f} on 261" in lines


def test_bench_figures(committed):
    committed("mlp")
    committed("lenet5")
    figures = bench.run(repeat=3, models_dir=MODELS_DIR)
    assert figures["repeat"] == 3 and 0 < figures["preprocess_ms"] < 1000
    assert figures["backend"] == "tensorflow" and figures["tensorflow"] and figures["litert"]
    assert set(figures["models"]) == {"mlp", "lenet5"}
    for row in figures["models"].values():
        assert all(row[k] > 0 for k in ("predict_ms", "eager_ms", "tf_function_ms", "litert_ms", "classify_ms"))
        assert row["predict_over_classify"] == pytest.approx(row["predict_ms"] / row["classify_ms"])
        assert row["litert_ms"] < row["classify_ms"]  # classify = preprocessing + the fast path
        assert row["batch_images_per_s"] > 1000


def test_bench_command_prints_a_table(committed, capsys):
    committed("mlp")
    committed("lenet5")
    assert cli.main(["bench", "--repeat", "2", "--models-dir", str(MODELS_DIR)]) == 0
    out = capsys.readouterr().out
    assert "on tensorflow" in out and "preprocess (the app's 280x280 canvas -> 28x28)" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    for name in ("mlp", "lenet5"):
        assert len(lines[name]) == 8 and lines[name][6].endswith("x")


def test_data_errors_are_one_line(tmp_path, capsys):
    status = cli.main(["train", "--model", "mlp", "--data", str(tmp_path / "nowhere")])
    assert status == 2
    assert_one_line_error(capsys.readouterr().err, "train: DataUnavailable: ")

    bad = tmp_path / "bad"
    bad.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (bad / stem).write_bytes(b"\x00\x00\x08\x03garbage")
    status = cli.main(["train", "--model", "mlp", "--data", str(bad)])
    assert status == 2
    assert_one_line_error(capsys.readouterr().err, "train: DataCorrupt: ", "train-images-idx3-ubyte")


def test_usage_errors_exit_2(capsys):
    for argv in (["train"], ["predict"], ["evaluate", "--model", "resnet"], ["bench", "--repeat", "0"], []):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_train_end_to_end(tmp_path):
    result = run_module("train", "--model", "mlp", "--epochs", "1", "--train-limit", "2000", "--augment", "none",
                        "--models-dir", tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {tmp_path / 'mlp.keras'}" in result.stdout
    assert f"wrote {tmp_path / 'mlp.json'}" in result.stdout
    card = json.loads((tmp_path / "mlp.json").read_text())
    assert card["sha256"] == hashlib.sha256((tmp_path / "mlp.keras").read_bytes()).hexdigest()
    assert card["config"]["train_limit"] == 2000 and card["config"]["epochs"] == 1
    assert card["data"]["train"] == 2000 and card["epochs_run"] == 1
    assert f"test accuracy {card['test']['accuracy']:.4f}" in result.stdout
    assert card["test"]["accuracy"] > 0.8  # one epoch on 2,000 digits already reads most
    clf = Classifier.load("mlp", tmp_path)
    assert clf.classify(rgba(drawing(1))).label is not None
