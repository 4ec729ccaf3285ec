"""Training you can watch: one `train.fit` run in a background thread, with progress records,
weight snapshots, a probe image read after each epoch, cancellation and a heartbeat.

    slot = TrainingSlot()                                 # one per server: one training at a time
    job = slot.start(live_config("lenet5", 12000, 3), data, owner="someone")   # Busy if one runs
    job.beat()                                            # "the page is still open" (see heartbeat)
    job.set_probe(image28)                                # read after each epoch (or None)
    p = job.progress()                                    # an immutable Progress snapshot, any thread
    job.cancel(); job.wait()
    job.classifier                                        # the trained Classifier once p.state == "done"

The run is `train.fit` itself (no copy of it): a Keras callback records the running loss and
accuracy every few batches, copies the weights worth watching (LeNet-5's six C1 kernels, or the
first-layer weights of a few MLP units as 28x28 templates), reads the probe after each epoch,
and stops the fit (`model.stop_training`) when cancelled or when no heartbeat came for
`heartbeat_timeout` seconds. The finished model is calibrated by the committed models' rule on
drawings it never saw (`live_calibration`: temperature, "4 or 9?", "not a digit") and wrapped in
a `Classifier` with those rules, whose LiteRT fast path then reads the 10,000 test images for the
test accuracy. Nothing is written to disk.

Threads: the job is one Python thread; its TensorFlow ops run in the process's TF thread pools
(TF's default: one thread per core, 2 here). The app's readings go through LiteRT, outside
those pools: measured on the busy 2-core machine, `Classifier.classify` of a canvas drawing took
2.2 ms (median) with or without a training running (p95 11 -> 19 ms). Shrinking the process's
TF pools to one thread made things worse, not better: the training ran about 1.5-2x slower and
the app's own TF calls (Network tab activations) queued behind its ops (median 8 -> 20 ms,
p95 27 -> 101 ms), so the pools are left as TF sizes them.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..networks.litert import LiteRTModel, export_bytes
from ..reading.classifier import Classifier
from . import live_calibration
from .train_config import TrainConfig

RUNNING = ("starting", "training", "calibrating", "testing")
POINTS_PER_EPOCH = 12  # curve points per epoch (about; at least one per epoch)
MLP_UNITS = (0, 1, 2, 3, 4, 5, 6, 7)  # the MLP's first-layer units whose weights are watched
HEARTBEAT_TIMEOUT = 8.0  # seconds without a beat before a job stops itself (the page was left)
EXTRA_SHARE = 0.1  # a class's drawings are repeated to be about this share of the training images
MAX_REPEATS = 20


def extra_repeats(images: int, extra: int) -> int:
    """How many times each of `extra` class drawings is shown per epoch beside `images` MNIST ones:
    enough for them to be about EXTRA_SHARE of the training images (a class's 300 beside 12,000
    would otherwise be 2 %), at most MAX_REPEATS, at least once."""
    if extra <= 0:
        return 1
    return int(np.clip(round(EXTRA_SHARE * images / ((1 - EXTRA_SHARE) * extra)), 1, MAX_REPEATS))


def live_config(model: str = "lenet5", images: int = 12_000, epochs: int = 3, **extra) -> TrainConfig:
    """A quick run's TrainConfig: `images` MNIST training images, no augmentation, a 2,000-image
    validation set (read after each epoch), no early stopping in so few epochs."""
    settings = dict(model=model, epochs=epochs, augment="none", train_limit=images, validation_size=2000,
                    patience=max(epochs, 1))
    return TrainConfig(**{**settings, **extra})


@dataclass(frozen=True)
class Point:
    """One point of the curves. step: batches trained so far (0 = the untrained network);
    epoch: step in epochs (1.5 = half-way through the second); loss, accuracy: on the training
    images of the batches since the previous point (at step 0: the untrained network on 512)."""

    step: int
    epoch: float
    loss: float
    accuracy: float


@dataclass(frozen=True)
class Progress:
    """Where a job stands. Immutable: `TrainingJob.progress()` returns a fresh one each call.

    state:      "starting" (building, first batch compiling), "training", "calibrating" (fitting
                the committed models' reading rules on held-out drawings: `live_calibration`),
                "testing" (reading the 10,000 test images), "done", "cancelled" or "failed".
    epoch:      the epoch being trained, 1-based (0 before the first); epochs: how many in all.
    batch:      batches done in that epoch; batches: batches per epoch.
    points:     the curves, a Point every few batches, starting at step 0.
    validation: (epoch, val_loss, val_accuracy) after each finished epoch (2,000 held-out images).
    weights:    the watched weights as last copied: LeNet-5's C1 kernels (5, 5, 6), or the MLP's
                first-layer weights of `MLP_UNITS` (784, 8); None before the first copy.
    initial_weights: the same, as initialised (before the first batch).
    readings:   (epoch, probabilities (10,) or None) after each epoch: the probe as read then.
    test_accuracy: on the 10,000 test images, once done.
    message:    while starting, what it waits for (loading TensorFlow); why it was cancelled or
                failed (one line); else None.
    elapsed:    seconds since start; first_point_s: seconds from start to the first trained point.
    phase:      with a class's drawings (`TrainingJob(extra=..., heldout=...)`): "MNIST alone" while
                the same network is first trained without them, for the comparison, then "MNIST and
                the class"; "" for a plain run. The curves and epochs are the current phase's.
    heldout_before, heldout_after: accuracy on the class's held-out students of the network
                trained on MNIST alone, and on MNIST and the class (None until known).
    heldout_count: how many held-out drawings; extra_count: class drawings trained on (before
                repetition); extra_repeats: how many times each is shown per epoch.
    """

    state: str
    owner: str
    model: str
    images: int
    epoch: int
    epochs: int
    batch: int
    batches: int
    points: tuple[Point, ...] = ()
    validation: tuple[tuple[int, float, float], ...] = ()
    weights: np.ndarray | None = None
    initial_weights: np.ndarray | None = None
    readings: tuple[tuple[int, np.ndarray | None], ...] = ()
    test_accuracy: float | None = None
    message: str | None = None
    elapsed: float = 0.0
    first_point_s: float | None = None
    job_id: str = ""
    phase: str = ""
    heldout_before: float | None = None
    heldout_after: float | None = None
    heldout_count: int = 0
    extra_count: int = 0
    extra_repeats: int = 1

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def fraction(self) -> float:
        """0..1: batches done of all batches (1.0 while calibrating, testing and when done)."""
        if self.state in ("calibrating", "testing", "done"):
            return 1.0
        if not self.batches or not self.epoch:
            return 0.0
        return min(1.0, ((self.epoch - 1) * self.batches + self.batch) / (self.epochs * self.batches))

    def summary(self) -> str:
        """One short line: "epoch 2/3, 40 %", "testing", "done: test accuracy 96.2 %", ..."""
        if self.state == "starting":
            return self.message or "starting"
        if self.state == "training":
            return f"epoch {self.epoch}/{self.epochs}, {self.fraction:.0%}"
        if self.state == "calibrating":
            return "calibrating on held-out drawings"
        if self.state == "testing":
            return "reading the 10,000 test images"
        if self.state == "done":
            return f"done: test accuracy {self.test_accuracy:.1%}"
        return f"{self.state}: {self.message}" if self.message else self.state


class Busy(RuntimeError):
    """Another training is running; `.progress` is where it stands."""

    def __init__(self, progress: Progress):
        super().__init__(f"another training is running ({progress.summary()})")
        self.progress = progress


def _watch(job: TrainingJob, sample: tuple[np.ndarray, np.ndarray]):
    """The Keras callback that records `job`'s progress from inside `model.fit` and stops it when
    asked. Defined here, on the training's thread, because Keras (and with it TensorFlow) is
    imported only once someone trains: the Train tab's status and this module never need it."""
    from ..networks.models import keras

    class _Watch(keras.callbacks.Callback):
        """Records the job's progress from inside `model.fit`, and stops it when asked."""

        def __init__(self, job: TrainingJob, sample: tuple[np.ndarray, np.ndarray]):
            super().__init__()
            self.job, self.sample, self.step = job, sample, 0

        def on_train_begin(self, logs=None):
            # the untrained network: the curve's first point, at chance (loss ~ln 10, ~10 %)
            x, y = self.sample
            probabilities = keras.ops.convert_to_numpy(self.model(x, training=False))
            loss = float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1))))
            self.job._record(Point(0, 0.0, loss, float(np.mean(probabilities.argmax(1) == y))), self._weights())

        def on_epoch_begin(self, epoch, logs=None):
            self.job._update(state="training", epoch=epoch + 1, batch=0)
            self.before = (0, 0.0, 0.0)  # (images, running loss, running accuracy) at the previous point

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            job = self.job
            batches = job._batches
            job._update(batch=batch + 1)
            if (batch + 1) % job._every == 0 or batch + 1 == batches:
                # Keras logs the epoch's running means (weighted by images); the means over the batches
                # since the previous point follow from two of them, so no epoch starts with a jump.
                logs = logs or {}
                images = min((batch + 1) * job.config.batch_size, job._fit_images)
                loss, accuracy = float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan))
                seen, seen_loss, seen_accuracy = self.before
                new = images - seen
                point = Point(self.step, (job._epoch - 1) + (batch + 1) / batches,
                              (images * loss - seen * seen_loss) / new, (images * accuracy - seen * seen_accuracy) / new)
                self.before = (images, loss, accuracy)
                job._record(point, self._weights())
            if job._should_stop():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if "val_loss" in logs:
                self.job._validated(epoch + 1, float(logs["val_loss"]), float(logs["val_accuracy"]))
            probe = self.job._probe
            reading = None
            if probe is not None:
                reading = keras.ops.convert_to_numpy(self.model(probe[None], training=False))[0]
            self.job._read(epoch + 1, reading)

        def _weights(self) -> np.ndarray:
            if self.model.name == "lenet5":
                return keras.ops.convert_to_numpy(self.model.get_layer("C1").kernel)[:, :, 0, :].copy()
            return keras.ops.convert_to_numpy(self.model.get_layer("hidden1").kernel)[:, list(MLP_UNITS)].copy()
    return _Watch(job, sample)


class TrainingJob:
    """One training run in a background thread (start it with `TrainingSlot.start` or `.start()`).

    config: a TrainConfig (see `live_config`); data: MnistData; owner: who started it (an id);
    heartbeat_timeout: seconds without `beat()` after which the job stops itself; None: never.
    extra: a class's drawings to train on too (anything with `floats()`, `labels` and `subset`, as
    `classroom.ClassSet`), repeated `extra_repeats` times; heldout: (images (N, 28, 28) float32 in
    [0, 1], labels (N,)) of students held out whole. With both, the same network is first trained
    on MNIST alone, and each is scored on the held-out students (`heldout_before`, `_after`).
    """

    def __init__(self, config: TrainConfig, data, owner: str = "", heartbeat_timeout: float | None = None,
                 extra=None, heldout: tuple[np.ndarray, np.ndarray] | None = None):
        self.config, self.data, self.owner = config, data, owner
        self.extra, self.heldout = (extra, heldout) if extra is not None and heldout is not None else (None, None)
        self.heartbeat_timeout = heartbeat_timeout
        self.id = uuid.uuid4().hex[:12]
        self.classifier: Classifier | None = None
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._stop_reason: str | None = None
        self._probe: np.ndarray | None = None
        self._beat = time.monotonic()
        self._start = time.monotonic()
        images = min(config.train_limit or len(data.x_train), len(data.x_train) - config.validation_size)
        self._fit_images = images  # images per epoch (MNIST's, then with a class's drawings repeated)
        self._batches = int(np.ceil(images / config.batch_size))
        self._every = max(1, self._batches // POINTS_PER_EPOCH)
        self._epoch = 0
        self._progress = Progress("starting", owner, config.model, images, 0, config.epochs, 0, self._batches,
                                  job_id=self.id)
        if self.extra is not None:
            repeats = extra_repeats(images, len(self.extra))
            self._progress = replace(self._progress, phase="MNIST alone", heldout_count=len(self.heldout[1]),
                                     extra_count=len(self.extra), extra_repeats=repeats)
        self._thread = threading.Thread(target=self._run, name=f"training-{self.id}", daemon=True)

    # --- the caller's side -----------------------------------------------------------------------

    def start(self) -> TrainingJob:
        self._start = self._beat = time.monotonic()
        self._thread.start()
        return self

    def progress(self) -> Progress:
        with self._lock:
            return self._progress if self._done.is_set() else replace(self._progress, elapsed=self._elapsed())

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def beat(self) -> None:
        """The watcher is still there: call it more often than every `heartbeat_timeout` seconds."""
        self._beat = time.monotonic()

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop after the current batch (the fit ends; no model, no test accuracy)."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._cancel.set()

    def set_probe(self, image28: np.ndarray | None) -> None:
        """The image read after each epoch: (28, 28) float32 in [0, 1], or None for none."""
        self._probe = None if image28 is None else np.asarray(image28, np.float32).reshape(28, 28).copy()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True if it has."""
        return self._done.wait(timeout)

    # --- the training thread's side --------------------------------------------------------------

    def _elapsed(self) -> float:
        return time.monotonic() - self._start

    def _update(self, **changes) -> None:
        if "epoch" in changes:
            self._epoch = changes["epoch"]
        with self._lock:
            self._progress = replace(self._progress, **changes)

    def _record(self, point: Point, weights: np.ndarray) -> None:
        with self._lock:
            first = self._progress.first_point_s
            if first is None and point.step > 0:
                first = self._elapsed()
            self._progress = replace(self._progress, points=self._progress.points + (point,), weights=weights,
                                     first_point_s=first)
            if point.step == 0:
                self._progress = replace(self._progress, initial_weights=weights)

    def _validated(self, epoch: int, loss: float, accuracy: float) -> None:
        with self._lock:
            self._progress = replace(self._progress, validation=self._progress.validation + ((epoch, loss, accuracy),))

    def _read(self, epoch: int, probabilities: np.ndarray | None) -> None:
        with self._lock:
            self._progress = replace(self._progress, readings=self._progress.readings + ((epoch, probabilities),))

    def _heldout_accuracy(self, model) -> float:
        """The share of the held-out students' drawings `model` reads right. A direct call of the
        Keras model in the training thread (no export for one read of a few hundred images)."""
        from ..networks.models import keras

        images, labels = self.heldout
        probabilities = keras.ops.convert_to_numpy(model(np.asarray(images, np.float32), training=False))
        return float(np.mean(probabilities.argmax(axis=1) == np.asarray(labels)))

    def _should_stop(self) -> bool:
        if self.heartbeat_timeout is not None and time.monotonic() - self._beat > self.heartbeat_timeout:
            self.cancel(f"no heartbeat for {self.heartbeat_timeout:g} s (the page was left)")
        return self._cancel.is_set()

    def _run(self) -> None:
        try:
            data, config = self.data, self.config
            rng = np.random.default_rng(config.seed + 7)
            index = rng.choice(len(data.x_train), 512, replace=False)
            sample = (data.x_train[index].astype(np.float32) / 255, np.asarray(data.y_train)[index])
            if "tensorflow" not in sys.modules:
                self._update(message="loading TensorFlow (the first training on this server: a few seconds)")
            from .train import fit, validation_split  # TensorFlow: imported by the first training

            # TensorFlow's and Keras' ~440,000 objects live as long as the process: take them out of
            # every later full collection. A Streamlit server runs one after each page run, and each
            # walked them for 0.46 s while holding the GIL: a 15 s training took 76 s beside a page.
            gc.collect()
            gc.freeze()

            self._update(message=None)
            extra = None
            if self.extra is not None:  # first the same network without the class, for the comparison
                baseline, _, _, _ = fit(config, data, callbacks=[_watch(self, sample)], verbose=0)
                if self._should_stop():
                    self._update(state="cancelled", message=self._stop_reason)
                    return
                repeats = self._progress.extra_repeats
                extra = self.extra.subset(np.tile(np.arange(len(self.extra)), repeats))
                self._fit_images += len(extra)
                self._batches = int(np.ceil(self._fit_images / config.batch_size))
                self._every = max(1, self._batches // POINTS_PER_EPOCH)
                self._update(heldout_before=self._heldout_accuracy(baseline), phase="MNIST and the class",
                             points=(), validation=(), readings=(), epoch=0, batch=0, batches=self._batches,
                             state="starting", first_point_s=None)
                del baseline
            model, _, _, _ = fit(config, data, callbacks=[_watch(self, sample)], verbose=0, extra=extra)
            if extra is not None:
                self._update(heldout_after=self._heldout_accuracy(model))
            if self._should_stop():
                self._update(state="cancelled", message=self._stop_reason)
                return
            self._update(state="calibrating")
            fast = LiteRTModel(export_bytes(model))
            val, _ = validation_split(len(data.x_train), config)  # the images `fit` held out
            entry = live_calibration.calibrate(fast, data.x_train[val].astype(np.float32) / 255,
                                               np.asarray(data.y_train)[val])
            self._update(state="testing")
            card = {"name": f"live-{config.model}", "config": asdict(config), "calibration": entry}
            classifier = Classifier(model, card, f"live-{config.model}", fast)
            probabilities = classifier.classify_batch(data.x_test)
            accuracy = float(np.mean(probabilities.argmax(1) == np.asarray(data.y_test)))
            classifier.card["test"] = {"accuracy": accuracy, "images": len(data.x_test)}
            self.classifier = classifier
            self._update(state="done", test_accuracy=accuracy)
        except Exception as error:  # the page shows one line; the job never takes the server down
            self._update(state="failed", message=" ".join(f"{type(error).__name__}: {error}".split())[:300])
        finally:
            with self._lock:
                self._progress = replace(self._progress, elapsed=self._elapsed())
            self._done.set()


@dataclass
class TrainingSlot:
    """One training at a time: `start` refuses (Busy) while the last job it started still runs.
    Safe to share between threads (the app keeps one per server in `st.cache_resource`)."""

    heartbeat_timeout: float | None = HEARTBEAT_TIMEOUT
    _job: TrainingJob | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, config: TrainConfig, data, owner: str = "", extra=None, heldout=None) -> TrainingJob:
        """Start a job (`TrainingJob`'s arguments), or raise Busy while another runs."""
        with self._lock:
            if self._job is not None and self._job.running:
                raise Busy(self._job.progress())
            self._job = TrainingJob(config, data, owner, self.heartbeat_timeout, extra, heldout).start()
            return self._job

    def running(self) -> TrainingJob | None:
        """The job now running, or None."""
        job = self._job
        return job if job is not None and job.running else None
