"""The Train tab of the whole app under Streamlit's AppTest: start a (small) training, see its
progress, see it finish with a test accuracy and offer the trained model on the Draw tab; a second
session is refused while it runs; Cancel stops it.

AppTest does not run `st.fragment(run_every=...)` on its own: each `at.run()` is one poll (and one
heartbeat). The trainings are small (1,000 images, 1-2 epochs) so each test takes seconds.
"""

import json
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.session import CANVAS_KEY
from app.tabs.draw import canvas_value
from mnist_core.training import live
from core_helpers import drawing, plotly_array
from test_app_draw import canvas_png

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 120


@pytest.fixture
def slot(mnist, committed):
    """The app's shared training slot; any job still running at the end is cancelled."""
    committed("lenet5"), committed("mlp")  # the Draw tab needs the committed models
    from app.tabs.train import training_slot

    yield training_slot()
    job = training_slot().running()
    if job is not None:
        job.cancel()
        job.wait(TIMEOUT)


def session(images=1000, epochs=1, model="LeNet-5") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["tab"] = "Train"
    at.session_state["train_images"] = images
    at.session_state["train_epochs"] = epochs
    at.session_state["train_model"] = model
    return run(at)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def poll(at: AppTest, until, timeout=TIMEOUT) -> AppTest:
    """Rerun the page (as its polling fragment would) until `until(at)` holds."""
    deadline = time.monotonic() + timeout
    while not until(at):
        assert time.monotonic() < deadline, f"timed out; page shows {texts(at)}"
        time.sleep(0.3)
        run(at)
    return at


def texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("info", "success", "error", "caption") for e in getattr(at, kind)]


def progress_texts(at: AppTest) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def chart_keys(at: AppTest) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


def test_train_tab_trains_shows_progress_finishes_and_offers_the_model(slot, mnist):
    at = session(images=1000, epochs=2)
    assert [h.value for h in at.header] == ["Watch it learn"]
    assert at.sidebar.radio(key="model_choice").options == ["LeNet-5", "MLP", "Both side by side"]
    # a drawing on the Draw tab's canvas: read after each epoch
    at.session_state[CANVAS_KEY] = canvas_value(canvas_png(drawing(7)), objects=[{"type": "path"}])
    at.button(key="train_start").click()
    run(at)
    job = slot.running()
    assert job is not None and at.button(key="train_start").disabled
    assert job.config.train_limit == 1000 and job.config.epochs == 2 and job.config.model == "lenet5"
    poll(at, lambda at: any(text.startswith("Epoch ") for text in progress_texts(at)))
    assert {"train_curves", "train_kernels_initialised", "train_kernels_now", "train_kernels_change"} <= set(
        chart_keys(at))
    assert any(text.startswith("Training: ") for text in progress_texts(at))  # the sidebar's status too
    poll(at, lambda at: [m.value for m in at.metric if m.label == "Test accuracy"])
    accuracy = job.progress().test_accuracy
    assert [m.value for m in at.metric if m.label == "Test accuracy"] == [f"{accuracy:.1%}"]
    assert any("Your trained model" in s.value for s in at.success)
    assert len(job.progress().readings) == 2 and all(r is not None for _, r in job.progress().readings)
    assert "train_reading" in chart_keys(at)
    reading = json.loads(at.get("plotly_chart")[chart_keys(at).index("train_reading")].proto.spec)["data"][0]
    calibrated = job.classifier.classify_batch(at.session_state["input28"][None])[0]  # with its temperature
    np.testing.assert_allclose(plotly_array(reading["y"]), calibrated, atol=1e-4)
    assert any("as the trained network reads it, calibrated" in t for t in texts(at))
    # what changed in C1: the difference, and its largest value in words
    p = job.progress()
    largest = abs(p.weights - p.initial_weights).max()
    assert largest > 0 and any(t.startswith(f"Largest change: {largest:.3f} (map ") for t in texts(at))
    # calibrated on drawings it never saw, by the committed models' rule
    clf = job.classifier
    assert clf.temperature != 1.0 and 0.5 < clf.unsure_below <= 1
    assert any(t.startswith("Calibrated like the app's models, on real drawings by writers this model never saw")
               and f"below {clf.unsure_below:.0%} it shows its two likeliest digits" in t for t in texts(at))
    # the Draw tab reads the drawing with the trained model, with its doubt rule
    assert at.sidebar.radio(key="model_choice").options[-2:] == ["Your trained model", "Yours beside the app's"]
    at.sidebar.radio(key="model_choice").set_value("Your trained model")
    at.session_state["tab"] = "Draw"
    run(at)
    assert "**Your trained model**" in [m.value for m in at.markdown]
    digit = at.session_state["digit"]
    result = clf.classify(digit.pixels, digit.background)
    assert result.label is not None and result.unsure_below == clf.unsure_below
    said = f"{result.label} or {result.runner_up}?" if result.unsure else str(result.label)
    assert [m.value for m in at.metric if m.label == "Prediction"] == [said]
    for metric in at.metric:  # "confident" only for an answer at or above the threshold
        if metric.label == "Prediction" and "confident" in metric.delta:
            assert result.confidence >= clf.unsure_below
    # ... and beside the committed LeNet-5
    at.sidebar.radio(key="model_choice").set_value("Yours beside the app's")
    run(at)
    assert [m.value for m in at.markdown if m.value in ("**LeNet-5**", "**Your trained model**")] == [
        "**LeNet-5**", "**Your trained model**"]
    committed = at.session_state["readings"]["lenet5"]
    shown = [f"{r.label} or {r.runner_up}?" if r.unsure else str(r.label) for r in (committed, result)]
    assert [m.value for m in at.metric if m.label == "Prediction"] == shown
    assert not (ROOT / "models" / "live-lenet5.keras").exists()


def test_a_second_session_sees_the_running_training_and_is_refused(slot, mnist):
    first = session(images=12000, epochs=3)
    first.button(key="train_start").click()
    run(first)
    second = session()
    notices = [i.value for i in second.info]
    assert any(n.startswith("Another session's training is running: ") for n in notices), notices
    assert second.button(key="train_start").disabled
    before = slot.running()
    with pytest.raises(live.Busy):  # a start that got past the disabled button: the slot refuses it
        slot.start(live.live_config(), mnist, owner="second")
    assert slot.running() is before and before.owner == first.session_state["train_owner"]
    # Cancel stops the first session's training; the second may then start
    run(first)
    first.button(key="train_cancel").click()
    run(first)
    poll(first, lambda at: any("Training stopped (cancelled)" in i.value for i in at.info))
    assert slot.running() is None
    run(second)
    assert not second.button(key="train_start").disabled


def test_a_training_left_alone_stops_itself(slot, monkeypatch):
    monkeypatch.setattr(slot, "heartbeat_timeout", 0.5)
    at = session(images=12000, epochs=3)
    at.button(key="train_start").click()
    run(at)
    job = slot.running()
    assert job.wait(TIMEOUT)  # nobody polls: no heartbeat
    assert job.progress().state == "cancelled" and "heartbeat" in job.progress().message
    run(at)
    assert any("no heartbeat" in i.value for i in at.info)
    assert live.HEARTBEAT_TIMEOUT < 30


def test_an_mlp_training_shows_unit_templates(slot):
    at = session(images=1000, epochs=1, model="MLP")
    at.button(key="train_start").click()
    run(at)
    poll(at, lambda at: [m.value for m in at.metric if m.label == "Test accuracy"])
    assert slot.running() is None and at.session_state["trained_model"].model.name == "mlp"
    assert {"train_curves", "train_templates_initialised", "train_templates_now",
            "train_templates_change"} <= set(chart_keys(at))
    assert "train_kernels_now" not in chart_keys(at)
    assert any("The first 8 hidden units' weights" in m.value for m in at.markdown)
