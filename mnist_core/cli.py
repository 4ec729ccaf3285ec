"""The command line: `python -m mnist_core {train,calibrate,export,evaluate,predict,bench,photos,maps} ...`.

Exit status: 0 success; 1 some input files could not be read (`predict`, the rest are still
classified); 2 a usage error, or no usable data or model (one line on stderr, no traceback).
Commands import what they need when they run, so --help answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

EPILOG_PREDICT = """\
output: one JSON object per line (the default; --json says the same), in input order:
  {"file": ..., "label": 7, "probabilities": [10 floats], "model": "lenet5"}
  an image with no digit in it: "label": null, all-zero probabilities and a "reason".
  --text prints one readable line per file instead.
--number reads each file as a number of up to 12 digits written side by side:
  {"file": ..., "number": "2026", "digits": [{"label": 2, "confidence": 0.99,
   "box": [top, left, bottom, right]}, ...], "model": "lenet5"}
  no number (no ink, a scribble, more than 12 digits): "number": null and a "reason".
A file that cannot be read gets one line on stderr, "predict: FILE: reason"; the other
files are still classified and the exit status is 1.
"""


def _models_dir(args) -> Path | None:
    return Path(args.models_dir) if args.models_dir else None


def _classifier(name: str, models_dir):
    from .reading.classifier import Classifier

    return Classifier.load(name, models_dir)


# ---------------------------------------------------------------------------- train

def cmd_train(args) -> int:
    from .datasets.data import load_mnist
    from .evaluation.strangers import FOLDS, fold_dir
    from .training.train import MODELS_DIR, TrainConfig, train

    config = TrainConfig(model=args.model, augment=args.augment, seed=args.seed, train_limit=args.train_limit,
                         activation=args.activation, pooling=args.pooling, holdout=args.holdout or "")
    for field in ("epochs", "batch_size", "learning_rate"):
        if getattr(args, field) is not None:
            setattr(config, field, getattr(args, field))
    data = load_mnist(args.data) if args.data else load_mnist()
    models_dir = Path(args.models_dir) if args.models_dir else MODELS_DIR
    if args.crossval:  # one model per population held out whole, then the model trained on all
        for population in FOLDS:
            print(f"--- the model that holds {population} out whole", flush=True)
            fold = TrainConfig(**{**config.__dict__, "holdout": population})
            _report_card(train(fold, fold_dir(models_dir, population), data), fold_dir(models_dir, population))
        print("--- the model trained on every population", flush=True)
    where = fold_dir(models_dir, config.holdout) if config.holdout else models_dir
    return _report_card(train(config, where, data, extra=args.extra), where)


def _report_card(card: dict, models_dir: Path) -> int:
    print(f"wrote {models_dir / card['file']} ({card['file_bytes']:,} bytes, sha256 {card['sha256'][:12]}...)")
    print(f"wrote {models_dir / (card['name'] + '.json')} (model card)")
    drawn = card["drawn"]
    print(f"test accuracy {card['test']['accuracy']:.4f} on {card['test']['count']:,} MNIST test images; "
          f"drawn digits: hand {drawn['hand']['accuracy']:.4f}, "
          f"redrawn MNIST test {drawn['redrawn_mnist_test']['accuracy']:.4f}")
    if card.get("real"):
        real = card["real"]
        print(f"real pen drawings of {real['writers']} held-out writers: {real['accuracy']:.4f} "
              f"(worst writer {real['worst_writer_accuracy']:.4f}); training took {card['wall_time_s'] / 60:.1f} min")
    for line in strangers_lines(card.get("strangers")):
        print(line)
    if card.get("collected"):
        part = card["collected"]
        scored = "no held-out drawings (one session)" if part["accuracy"] is None else \
            f"accuracy {part['accuracy']:.4f} on the {part['heldout']} held-out drawings"
        print(f"collected drawings: trained on {part['train']}, {scored}")
    return 0


def strangers_lines(report: dict | None) -> list[str]:
    """The card's "strangers" figures (`strangers.figures`, `refusals`) as readable lines."""
    if not report:
        return []

    def line(name, f, how):
        sure = "n/a" if f["sure_accuracy"] is None else f"{f['sure_accuracy']:.4f}"
        worst = f", worst writer #{f['worst_writer']} {f['worst_writer_accuracy']:.3f}" if f["writers"] > 1 else ""
        return (f"  {name:<11} {how}: accuracy {f['accuracy']:.4f}, sure answers right {sure}, asked "
                f"{f['asked']:.2%}, refused {f['refused']:.2%} of {f['count']:,}{worst}")

    lines = ["populations never trained on (this model's own readings and rules):"]
    lines += [line(name, f, "held out") for name, f in report["populations"].items()]
    if report.get("cross_population"):
        lines.append("cross-population validation (each read by the model that held it out, rules fitted on the others):")
        lines += [line(name, f, "stranger") for name, f in report["cross_population"].items()
                  if name not in ("negatives_refused", "mnist_test")]
    refused = report["negatives_refused"]
    lines.append("negatives never trained on, refused as not a digit: " +
                 ", ".join(f"{k} {v:.1%}" for k, v in refused.items() if k != "count") + f" (of {refused['count']:,})")
    return lines


def cmd_calibrate(args) -> int:
    from .evaluation.strangers import FOLDS, fold_dir
    from .training.train import MODELS_DIR, recalibrate

    models_dir = Path(args.models_dir) if args.models_dir else MODELS_DIR
    for name in args.model or ("mlp", "lenet5"):
        for where in [fold_dir(models_dir, p) for p in FOLDS] + [models_dir]:  # the folds first: the final reads them
            card = recalibrate(name, where)
            print(f"{where / (name + '.json')}: rules {json.dumps({k: card['calibration'][k] for k in ('temperature', 'unsure_below', 'not_digit_below')})}")
        for line in strangers_lines(card["strangers"]):
            print(line)
    return 0


def cmd_export(args) -> int:
    from .training.train import MODELS_DIR, export_fast_path

    models_dir = Path(args.models_dir) if args.models_dir else MODELS_DIR
    for name in args.model or ("mlp", "lenet5"):
        card = export_fast_path(name, models_dir)
        for entry in (card["litert"], card["litert_features"]):
            print(f"wrote {models_dir / entry['file']} ({entry['bytes']:,} bytes, sha256 {entry['sha256'][:12]}...) "
                  f"and its entry in {name}.json")
    return 0


# ---------------------------------------------------------------------------- evaluate

def evaluation(clf, data, models_dir=None) -> dict:
    """Figures of a Classifier on the 10,000 test images, the drawn digits, and the people it never
    saw (`strangers.strangers_entries`: each population of real drawings held out whole, MNIST's test
    writers, the kinds of negatives no model trained on; same keys as the model card's "test",
    "drawn", "real" and "strangers"). "real" is None, with "real_reason", when the data is not there."""
    from .datasets.data import DataUnavailable
    from .datasets.drawn import hand_set, redrawn_set
    from .datasets.pendigits import load_populations
    from .evaluation.evaluate import metrics
    from .evaluation.strangers import strangers_entries
    from .reading.classifier import MODELS_DIR
    from .training.train_config import TrainConfig

    hand_x, hand_y = hand_set()
    drawn_x, drawn_y = redrawn_set(data.x_test[:2000], data.y_test[:2000])
    report = {
        "model": clf.name,
        "test": metrics(clf.classify_batch(data.x_test), data.y_test),
        "drawn": {"hand": metrics(clf.classify_batch(hand_x), hand_y),
                  "redrawn_mnist_test": metrics(clf.classify_batch(drawn_x), drawn_y)},
        "real": None,
    }
    try:
        populations = load_populations()
    except DataUnavailable as error:
        report["real_reason"] = str(error)
        return report
    config = TrainConfig(**clf.card.get("config", {"model": clf.name}))
    try:
        report["real"], _, report["strangers"] = strangers_entries(config, clf.fast, data, populations,
                                                                   Path(models_dir or MODELS_DIR))
    except FileNotFoundError as error:  # no fold models beside it: nothing to read the populations with
        report["real_reason"] = str(error)
    return report


def format_evaluation(report: dict) -> str:
    """The figures of `evaluation` as a readable text table."""
    test = report["test"]
    correct = round(test["accuracy"] * test["count"])
    headline = f"model {report['model']}: test accuracy {test['accuracy']:.4f} ({correct:,} of {test['count']:,})"
    lines = [f"{headline}, loss {test['loss']:.4f}", "", "digit  accuracy  images"]
    counts = np.sum(test["confusion"], axis=1)
    for digit, (accuracy, count) in enumerate(zip(test["per_class_accuracy"], counts)):
        lines.append(f"{digit:>5}  {accuracy:8.4f}  {count:6d}")
    lines += ["", "confusion matrix (rows: true digit, columns: predicted)",
              "      " + "".join(f"{d:>6}" for d in range(10))]
    for digit, row in enumerate(test["confusion"]):
        lines.append(f"{digit:>6}" + "".join(f"{n:>6}" for n in row))
    lines.append("")
    for key, title in (("hand", "hand-drawn digits"), ("redrawn_mnist_test", "MNIST test digits redrawn on a canvas")):
        part = report["drawn"][key]
        lines.append(f"{title}: accuracy {part['accuracy']:.4f} on {part['count']:,}")
    real = report.get("real")
    if real is None:
        lines.append(f"real pen drawings: not measured ({report.get('real_reason', 'no pendigits data')})")
    else:
        lines += [f"real pen drawings of {real['writers']} writers never trained on ({real['source']}): accuracy "
                  f"{real['accuracy']:.4f} on {real['count']:,}; worst writer #{real['worst_writer']} "
                  f"{real['worst_writer_accuracy']:.4f}",
                  "  per digit: " + " ".join(f"{d}:{a:.3f}" for d, a in enumerate(real["per_class_accuracy"]))]
        lines += strangers_lines(report.get("strangers"))
    return "\n".join(lines)


def collected_evaluation(clf, path_or_url) -> dict:
    """A Classifier on the collected drawings it was not trained on (`collected.score`):
    {"source", "count" (all drawings), "left_out" (trained on), and `metrics`' figures, or
    "accuracy": None when none is left}."""
    from .collection.collected import load_collected, score, trained_sessions

    drawings = load_collected(path_or_url)
    scored = score(clf.classify_batch(drawings.floats()), drawings.labels, drawings.sessions,
                   trained_sessions(clf.card)) if len(drawings) else None
    return {"source": drawings.source, "drawings": len(drawings),
            **(scored or {"accuracy": None, "left_out": len(drawings)})}


def format_collected(part: dict) -> str:
    if part["accuracy"] is None:
        return f"collected drawings ({part['source']}): none to score ({part['drawings']} in all, " \
               f"{part['left_out']} trained on)"
    left_out = f", {part['left_out']} left out as trained on" if part["left_out"] else ""
    return f"collected drawings ({part['source']}): accuracy {part['accuracy']:.4f} on {part['count']:,}{left_out}"


def cmd_evaluate(args) -> int:
    from .datasets.data import load_mnist

    clf = _classifier(args.model, _models_dir(args))
    report = evaluation(clf, load_mnist(), _models_dir(args))
    if args.extra is not None or args.collected:
        report["collected"] = collected_evaluation(clf, args.extra)
    text = format_evaluation(report)
    if "collected" in report:
        text += "\n" + format_collected(report["collected"])
    print(json.dumps(report) if args.json else text)
    return 0


# ---------------------------------------------------------------------------- predict

def _inputs(paths: list[str]) -> list[tuple[str, Path | None, str | None]]:
    """(name to show, file or None, error or None) for each path; a folder gives its image files."""
    from .imaging.images import image_files

    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files = image_files(path)
            found += [(str(f), f, None) for f in files] or [(name, None, "no image files in this folder")]
        elif not path.exists():
            found.append((name, None, "no such file or folder"))
        else:
            found.append((name, path, None))
    return found


def prediction(name: str, result) -> dict:
    """One JSON-ready record of a Classifier.Result for file `name`."""
    record = {"file": name, "label": result.label,
              "probabilities": [round(float(p), 6) for p in result.probabilities], "model": result.model}
    if result.label is None:
        record["reason"] = result.reason
    if result.not_digit:
        record["nearest"] = result.nearest
    return record


def number_prediction(name: str, reading, model: str) -> dict:
    """One JSON-ready record of a numbers.NumberReading for file `name`."""
    record = {"file": name, "number": reading.number,
              "digits": [{"label": d.label, "confidence": round(d.confidence, 6), "box": list(d.box)}
                         for d in reading.digits],
              "model": model}
    if reading.number is None:
        record["reason"] = reading.reason
    return record


def format_number(reading) -> str:
    """A NumberReading as one readable line: the number and each digit's confidence."""
    if reading.number is None:
        return f"no number: {reading.reason}"
    return f"{reading.number} (" + ", ".join(f"{d.label} {d.confidence:.1%}" for d in reading.digits) + ")"


def cmd_predict(args) -> int:
    from .imaging.images import ImageError, load_image
    from .reading.numbers import read_image

    clf = _classifier(args.model, _models_dir(args))
    status = 0
    for name, path, error in _inputs(args.paths):
        try:
            if error:
                raise ImageError(error)
            image = load_image(path)
            result = (read_image(image, clf.classify_batch, not_digit_below=clf.not_digit_below) if args.number
                      else clf.classify(image))
        except ImageError as error:
            print(f"predict: {name}: {error}", file=sys.stderr, flush=True)
            status = 1
            continue
        if args.number:
            print(f"{name}: {format_number(result)}" if args.text
                  else json.dumps(number_prediction(name, result, clf.name)), flush=True)
            continue
        record = prediction(name, result)
        if args.text:
            answer = (f"{result.label} ({result.confidence:.1%})" if result.label is not None
                      else f"no digit: {result.reason}")
            print(f"{name}: {answer}", flush=True)
        else:
            print(json.dumps(record), flush=True)
    return status


# ---------------------------------------------------------------------------- bench

def format_bench(figures: dict) -> str:
    """The figures of `bench.run` as a text table."""
    reading = figures["reading_process"]
    lines = [f"reading process (import, load both models, read one drawing; fresh process): {reading['seconds']:.2f} s, "
             f"RSS {reading['rss_mb']:.0f} MB, TensorFlow {'loaded' if reading['tensorflow_loaded'] else 'not loaded'}",
             f"Keras {figures['keras']} on {figures['backend']} {figures['tensorflow']}, LiteRT {figures['litert']}; "
             f"median of {figures['repeat']} runs, one 28x28 image unless said (ms)",
             f"preprocess (the app's 280x280 canvas -> 28x28): {figures['preprocess_ms']:8.3f}",
             f"preprocess (a 12-megapixel photo -> 28x28):     {figures['photo_ms']:8.3f}", "",
             f"{'model':8} {'predict':>9} {'eager':>9} {'tf.function':>12} {'LiteRT':>9} {'classify':>9} "
             f"{'predict/classify':>17} {'batch images/s':>15}"]
    for name, row in figures["models"].items():
        lines.append(f"{name:8} {row['predict_ms']:9.3f} {row['eager_ms']:9.3f} {row['tf_function_ms']:12.3f} "
                     f"{row['litert_ms']:9.4f} {row['classify_ms']:9.3f} {row['predict_over_classify']:16.0f}x "
                     f"{row['batch_images_per_s']:15,.0f}")
    lines += ["", "predict: model.predict; eager: model(x, training=False); tf.function: the same compiled for one "
                  "image;", "LiteRT: the fast path alone; classify: Classifier.classify, canvas to answer (preprocess "
                  "+ LiteRT);", f"batch: Classifier.classify_batch on {figures['batch_images']:,} test-like images "
                  "in batches of 1,000."]
    return "\n".join(lines)


def cmd_bench(args) -> int:
    from .evaluation import bench

    figures = bench.run(args.repeat, models_dir=_models_dir(args))
    print(json.dumps(figures) if args.json else format_bench(figures))
    return 0


def cmd_photos(args) -> int:
    from .datasets.paper_photos import score

    for population, models in score(args.count, args.seed, args.models_dir).items():
        for name, kinds in models.items():
            print(f"{population:9} {name:6} " + "  ".join(f"{k} {v:.1%}" for k, v in kinds.items()))
    return 0


def cmd_maps(args) -> int:
    from .datasets import embedding

    embedding.main()
    return 0


# ---------------------------------------------------------------------------- parser and main

def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    models = ("mlp", "lenet5")
    parser = argparse.ArgumentParser(prog="python -m mnist_core", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models_dir_help = "folder of <name>.keras and <name>.json (default: $MNIST_MODELS, else models/)"

    train = commands.add_parser("train", help="train a model, write models/<name>.keras and its card",
                                description="Train a model and write <models-dir>/<name>.keras and <name>.json.")
    train.add_argument("--model", required=True, choices=models)
    train.add_argument("--epochs", type=_positive, help="default 30")
    train.add_argument("--augment", choices=("none", "shift8", "full"), default="full",
                       help="none; shift8: the 8 one-pixel shifts; full: distortions and brush-stroke "
                            "redrawings (default)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch-size", type=_positive, help="default 128")
    train.add_argument("--learning-rate", type=float, help="initial Adam rate, cosine decay (default 0.002)")
    train.add_argument("--train-limit", type=int, default=0, metavar="N",
                       help="train on only N images, for quick runs (default: all 55,000)")
    train.add_argument("--activation", choices=("relu", "tanh"), default="relu", help="LeNet-5 only (default relu)")
    train.add_argument("--pooling", choices=("max", "average"), default="max", help="LeNet-5 only (default max)")
    train.add_argument("--holdout", choices=("pendigits", "uji"),
                       help="hold this population of real drawings out whole (writes models/crossval/fold<k>/)")
    train.add_argument("--crossval", action="store_true",
                       help="first train one model per population held out (--holdout each), whose readings of the "
                            "population they never saw fit the final model's 'unsure' and 'not a digit' rules")
    train.add_argument("--models-dir", help="where to write (default: models/)")
    train.add_argument("--data", metavar="PATH", help="MNIST folder or mnist.npz (default: $MNIST_DATA, "
                                                      "else the Keras cache)")
    train.add_argument("--extra", metavar="PATH_OR_URL",
                       help="also train on the drawings collected in this database (SQLite file or "
                            "postgresql:// URL): half its sessions, the other half held out and scored")
    train.set_defaults(run=cmd_train)

    calibrate = commands.add_parser("calibrate", help="fit each model's 'unsure' and 'not a digit' rules again "
                                    "on the populations it never saw, and rewrite the cards' figures (minutes)")
    calibrate.add_argument("--model", action="append", choices=models, help="default: both; repeat for several")
    calibrate.add_argument("--models-dir", help="where the models are (default: models/)")
    calibrate.set_defaults(run=cmd_calibrate)

    export = commands.add_parser("export", help="derive each model's LiteRT exports (reading, layers) from its .keras file",
                                 description="Export <name>.keras to <name>.tflite (the answers) and "
                                             "<name>.features.tflite (every layer's output) with Keras' LiteRT "
                                             "exporter and record their sha256 in <name>.json.")
    export.add_argument("--model", action="append", choices=models, help="default: both; repeat for several")
    export.add_argument("--models-dir", help="where the models are (default: models/)")
    export.set_defaults(run=cmd_export)

    evaluate = commands.add_parser("evaluate", help="accuracy, per-digit accuracy, confusion matrix",
                                   description="Evaluate a model on the 10,000 MNIST test images and on "
                                               "the drawn-digit test sets.")
    evaluate.add_argument("--model", required=True, choices=models)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    evaluate.add_argument("--models-dir", help=models_dir_help)
    collected = evaluate.add_mutually_exclusive_group()
    collected.add_argument("--extra", metavar="PATH_OR_URL",
                           help="also score the drawings collected in this database (those of sessions the "
                                "model was trained on are left out)")
    collected.add_argument("--collected", action="store_true",
                           help="the same for the app's collection ($MNIST_COLLECTION, else "
                                "~/.local/share/mnist_core/collection.sqlite3)")
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="classify image files",
                                  description="Classify image files; a folder means its image files "
                                              "(png jpg jpeg webp bmp gif tif tiff), sorted by name.",
                                  epilog=EPILOG_PREDICT, formatter_class=argparse.RawDescriptionHelpFormatter)
    predict.add_argument("paths", nargs="+", metavar="PATH")
    predict.add_argument("--model", default="lenet5", choices=models, help="default lenet5")
    predict.add_argument("--number", action="store_true",
                         help="each image is a number of up to 12 digits: read every digit (see below)")
    output = predict.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON lines (the default; accepted for clarity)")
    output.add_argument("--text", action="store_true", help="one readable line per file instead of JSON")
    predict.add_argument("--models-dir", help=models_dir_help)
    predict.set_defaults(run=cmd_predict)

    bench = commands.add_parser("bench", help="median latency of preprocessing and of each model",
                                description="Median latency (ms) of preprocessing a canvas drawing and, per "
                                            "model, model.predict, an eager call, a tf.function, the LiteRT "
                                            "fast path, Classifier.classify, and classify_batch throughput.")
    bench.add_argument("--repeat", type=_positive, default=30, help="timed runs per figure (default 30)")
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    bench.add_argument("--models-dir", help=models_dir_help)
    bench.set_defaults(run=cmd_bench)

    photos = commands.add_parser("photos", help="accuracy on generated phone-like photos of paper, per paper and light",
                                 description="Generate COUNT photos of each population's pen digits (plain, ruled, "
                                             "squared paper; even light or a shadow) and read them as uploads, each "
                                             "population by the fold model that never saw it.")
    photos.add_argument("--count", type=_positive, default=150, help="photos per population (default 150)")
    photos.add_argument("--seed", type=int, default=7, help="the photos' seed (default 7, never used to tune; 11 and 2026 were)")
    photos.add_argument("--models-dir", help=models_dir_help)
    photos.set_defaults(run=cmd_photos)

    maps = commands.add_parser("maps", help="compute the Data tab's PCA and t-SNE maps now (minutes)",
                               description="Compute the PCA and t-SNE maps of the data and keep them on disk "
                                           "($MNIST_CACHE, else ~/.cache/mnist_core), keyed by the data's sha256.")
    maps.set_defaults(run=cmd_maps)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; return the exit status. Known failures are one line on stderr."""
    args = build_parser().parse_args(argv)
    from .collection.database import CollectionError
    from .datasets.data import DataCorrupt, DataUnavailable
    from .imaging.images import ImageError
    from .reading.classifier import ModelFileError

    try:
        return args.run(args)
    except (DataUnavailable, DataCorrupt, ModelFileError, ImageError, CollectionError) as error:
        message = " ".join(str(error).split())
        print(f"{args.command}: {type(error).__name__}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `| head`: nothing more to say
        sys.stderr.close()
        return 1
