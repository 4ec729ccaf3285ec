"""mnist_core.training.live: a training run in a background thread, watched, cancelled, one at a time.

Real (small) trainings on the real MNIST: a few hundred images, so each test takes seconds.
"""

import time

import numpy as np
import pytest

from mnist_core.reading.calibration import TARGET_PRECISION, apply_temperature
from mnist_core.reading.classifier import Classifier
from mnist_core.training import live, live_calibration

TIMEOUT = 120  # s: generous, the machine may be busy


def small(model="lenet5", images=600, epochs=2, **extra):
    return live.live_config(model, images, epochs, validation_size=500, **extra)


def wait_for(predicate, job, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = job.progress()
        if predicate(progress):
            return progress
        time.sleep(0.02)
    raise AssertionError(f"timed out; the job is at {job.progress().summary()}")


@pytest.mark.parametrize("model, weights_shape", [("lenet5", (5, 5, 6)), ("mlp", (784, len(live.MLP_UNITS)))])
def test_job_reports_progress_and_finishes_with_a_test_accuracy(mnist, model, weights_shape):
    slot = live.TrainingSlot(heartbeat_timeout=None)
    job = slot.start(small(model), mnist, owner="me")
    job.set_probe(mnist.x_test[0] / 255.0)  # a 7
    seen = wait_for(lambda p: p.running and p.points, job)  # the untrained network's point comes first
    assert seen.points[0].step == 0 and 1.5 < seen.points[0].loss < 3.5  # about ln 10: chance
    assert job.wait(TIMEOUT)
    p = job.progress()
    assert p.state == "done" and p.message is None and not p.running and p.fraction == 1.0
    assert p.owner == "me" and p.model == model and p.images == 600 and p.epochs == 2 and p.epoch == 2
    assert p.batches == 5  # 600 images in batches of 128
    steps = [point.step for point in p.points]
    assert steps == sorted(set(steps)) and steps[0] == 0 and steps[-1] == 2 * 5
    assert sum(1 for point in p.points if 0 < point.epoch <= 1) >= 2  # several points per epoch
    assert p.points[-1].epoch == 2.0 and p.points[-1].loss < p.points[0].loss
    assert all(0 <= point.accuracy <= 1 and point.loss > 0 for point in p.points)  # means over batch groups
    assert [epoch for epoch, *_ in p.validation] == [1, 2]
    assert [epoch for epoch, _ in p.readings] == [1, 2]
    for _, probabilities in p.readings:
        assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1, abs=1e-4)
    assert p.weights.shape == p.initial_weights.shape == weights_shape
    assert not np.array_equal(p.weights, p.initial_weights)  # training changed them
    assert 0.5 < p.test_accuracy <= 1 and p.summary() == f"done: test accuracy {p.test_accuracy:.1%}"
    assert 0 < p.first_point_s <= p.elapsed
    # the trained model, through its fast path, gives that very accuracy
    assert isinstance(job.classifier, Classifier)
    predicted = job.classifier.classify_batch(mnist.x_test).argmax(1)
    assert np.mean(predicted == mnist.y_test) == pytest.approx(p.test_accuracy)
    assert job.progress() == p  # a finished job's progress no longer changes
    assert slot.running() is None


@pytest.mark.parametrize("model", ["lenet5", "mlp"])
def test_a_trained_model_is_calibrated_by_the_committed_models_rule(mnist, pendigits, model):
    """The finished model reads with rules fitted on drawings it never saw: its answers shown
    without doubt are right `TARGET_PRECISION` of the time on them, the rest are "A or B?"."""
    job = live.TrainingSlot(heartbeat_timeout=None).start(small(model), mnist)
    assert job.wait(TIMEOUT) and job.progress().state == "done"
    clf, entry = job.classifier, job.classifier.card["calibration"]
    assert (clf.temperature, clf.unsure_below, clf.not_digit_below) == (
        entry["temperature"], entry["unsure_below"], entry["not_digit_below"])
    assert clf.temperature != 1.0 and 0.5 < clf.unsure_below <= 1 and clf.not_digit_below <= clf.unsure_below
    assert "never saw" in entry["fitted_on"] and "pendigits" in entry["fitted_on"]
    drawings = live_calibration.real_drawings()
    images = np.concatenate([d[0] for d in drawings.values()])
    labels = np.concatenate([d[1] for d in drawings.values()])
    calibrated = clf.classify_batch(images)
    np.testing.assert_allclose(calibrated, apply_temperature(clf.fast(images), clf.temperature), atol=1e-6)
    sure = calibrated.max(axis=1) >= clf.unsure_below
    assert 0 < sure.sum() < len(sure)  # a model trained on 600 MNIST digits is unsure of many drawings
    assert np.mean(calibrated.argmax(axis=1)[sure] == labels[sure]) >= TARGET_PRECISION


def test_a_second_job_is_refused_while_one_runs_and_cancel_stops_it(mnist):
    slot = live.TrainingSlot(heartbeat_timeout=None)
    first = slot.start(small(images=6000, epochs=20), mnist, owner="first")
    with pytest.raises(live.Busy) as refused:
        slot.start(small(), mnist, owner="second")
    assert refused.value.progress.owner == "first" and slot.running() is first
    wait_for(lambda p: any(point.step > 0 for point in p.points), first)
    first.cancel()
    assert first.wait(TIMEOUT)
    p = first.progress()
    assert p.state == "cancelled" and p.message == "cancelled" and first.classifier is None
    assert p.test_accuracy is None and p.epoch < 20
    second = slot.start(small(epochs=1), mnist, owner="second")  # the slot is free again
    second.cancel()
    assert second.wait(TIMEOUT) and second.progress().state == "cancelled"


def test_a_job_without_heartbeat_stops_itself(mnist):
    slot = live.TrainingSlot(heartbeat_timeout=0.3)
    job = slot.start(small(images=6000, epochs=20), mnist, owner="gone")
    assert job.wait(TIMEOUT)
    p = job.progress()
    assert p.state == "cancelled" and "heartbeat" in p.message and p.epoch < 20


def test_a_failing_job_says_why_in_one_line(mnist):
    job = live.TrainingSlot().start(small(model="resnet"), mnist)
    assert job.wait(TIMEOUT)
    p = job.progress()
    assert p.state == "failed" and "resnet" in p.message and "\n" not in p.message
    assert p.summary().startswith("failed: ")


def test_progress_fraction_and_summary():
    p = live.Progress("training", "x", "lenet5", 1000, epoch=2, epochs=4, batch=5, batches=10)
    assert p.fraction == pytest.approx(15 / 40) and p.summary() == "epoch 2/4, 38%"
    assert live.Progress("starting", "x", "mlp", 1000, 0, 3, 0, 8).fraction == 0
    assert live.Progress("testing", "x", "mlp", 1000, 3, 3, 8, 8).fraction == 1
    calibrating = live.Progress("calibrating", "x", "mlp", 1000, 3, 3, 8, 8)
    assert calibrating.running and calibrating.fraction == 1
    assert calibrating.summary() == "calibrating on held-out drawings"


def test_training_on_a_class_compares_with_mnist_alone_on_held_out_students(mnist):
    """A class's drawings (here 60 test images by six "students"): the same network is trained on
    MNIST alone first, then on MNIST and the trained students' drawings (repeated); both are scored
    on the held-out students, and the second's figure is what its fast path reads too."""
    from mnist_core.collection.classroom import ClassSet
    from mnist_core.collection.collected import split_by_session

    students = [f"s{i % 6}" for i in range(60)]
    drawn = ClassSet("KP7Q4M", np.arange(60), mnist.x_test[:60], mnist.y_test[:60], students, [""] * 60, {})
    train_index, held_index = split_by_session(students, seed=0)
    held = drawn.subset(held_index)
    assert not set(held.students) & set(drawn.subset(train_index).students)
    job = live.TrainingSlot(heartbeat_timeout=None).start(small("mlp", epochs=1), mnist, owner="t",
                                                          extra=drawn.subset(train_index),
                                                          heldout=(held.floats(), held.labels))
    first = wait_for(lambda p: p.heldout_before is not None, job)
    assert first.phase == "MNIST and the class" and first.extra_count == len(train_index)
    assert job.wait(TIMEOUT)
    p = job.progress()
    repeats = live.extra_repeats(600, len(train_index))
    assert p.state == "done" and p.extra_repeats == repeats == 2 and p.heldout_count == len(held_index)
    assert p.batches == int(np.ceil((600 + repeats * len(train_index)) / 128))  # the second phase's
    assert p.points[0].step == 0 and [e for e, *_ in p.validation] == [1]  # the curves restarted
    read = job.classifier.classify_batch(held.floats()).argmax(1)
    assert p.heldout_after == pytest.approx(np.mean(read == held.labels), abs=1 / len(held_index))
    assert 0 <= p.heldout_before <= 1


def test_extra_repeats_make_a_class_about_a_tenth():
    assert live.extra_repeats(12_000, 300) == 4  # 1,200 of 13,200
    assert live.extra_repeats(12_000, 10) == live.MAX_REPEATS and live.extra_repeats(1_000, 5_000) == 1
    assert live.extra_repeats(12_000, 0) == 1
