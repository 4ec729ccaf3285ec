"""The Draw tab of the whole app (`app/streamlit_app.py`) under Streamlit's AppTest.

AppTest cannot draw on streamlit-drawable-canvas (a components-v2 element it does not model),
but a keyed component's value lives in session state: a test supplies a drawing by setting
`at.session_state["canvas"]` to the value the browser would send (`draw.canvas_value`: the
canvas as a PNG, white strokes on black, as the real canvas returns it). Uploads go through
AppTest's own file_uploader. Every run must end without an exception.
"""

import base64
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app.session import CANVAS_KEY
from app.tabs.draw import HINT, MAX_UPLOAD_MB, MAX_UPLOAD_PIXELS, STEP_TITLES, canvas_value
from core_helpers import drawing
from mnist_core.imaging.images import ImageError, load_image
from mnist_core.imaging.preprocess import preprocess

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 120  # seconds per run: generous, the test machine may be busy
CLEAR_DIGITS = (0, 3, 5, 7)  # style 0 of each: read right by both models


@pytest.fixture(scope="module")
def models_dir():
    """The trained models' folder ($MNIST_MODELS or models/); fails in CI, skips elsewhere if absent."""
    directory = Path(os.environ.get("MNIST_MODELS") or ROOT / "models")
    missing = [directory / f"{n}.{ext}" for n in ("mlp", "lenet5") for ext in ("keras", "json")
               if not (directory / f"{n}.{ext}").is_file()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"trained model missing in CI: {missing[0]}")
        pytest.skip(f"trained model missing: {missing[0]}")
    return directory


@pytest.fixture
def app(models_dir, monkeypatch):
    """A fresh AppTest of the whole app, after its first run (empty canvas, LeNet-5)."""
    monkeypatch.setenv("MNIST_MODELS", str(models_dir))
    return run(AppTest.from_file(APP, default_timeout=TIMEOUT))


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def canvas_png(ink: np.ndarray) -> bytes:
    """(H, W) float ink (the Draw tab's 280x280, the Numbers tab's 280x840) -> the canvas's PNG:
    opaque, white strokes on black."""
    pixels = np.zeros(ink.shape + (4,), np.uint8)
    pixels[..., :3] = np.round(ink[..., None] * 255).astype(np.uint8)
    pixels[..., 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def draw(at: AppTest, ink: np.ndarray) -> AppTest:
    """Put `ink` on the canvas (as the browser would send it) and rerun."""
    at.session_state[CANVAS_KEY] = canvas_value(canvas_png(ink), objects=[{"type": "path"}])
    return run(at)


def choose(at: AppTest, model: str) -> AppTest:
    at.sidebar.radio(key="model_choice").set_value(model)
    return run(at)


def predictions(at: AppTest) -> list[str]:
    return [m.value for m in at.metric if m.label == "Prediction"]


def model_names(at: AppTest) -> list[str]:
    return [m.value.strip("*") for m in at.markdown if m.value in ("**MLP**", "**LeNet-5**")]


def upload(at: AppTest, name: str, content: bytes, mime: str = "image/png") -> AppTest:
    at.file_uploader(key="upload").set_value((name, content, mime))
    return run(at)


# --- drawing ---------------------------------------------------------------------------------------


def test_empty_canvas_shows_the_hint_and_no_prediction(app):
    assert [i.value for i in app.info] == [HINT]
    assert predictions(app) == []
    assert not app.error and not app.warning
    assert app.session_state["input28"] is None


@pytest.mark.parametrize("digit", CLEAR_DIGITS)
def test_clear_digits_are_read_right_by_both_models(app, digit):
    choose(app, "Both side by side")
    draw(app, drawing(digit))
    assert predictions(app) == [str(digit), str(digit)]
    assert model_names(app) == ["MLP", "LeNet-5"]
    assert all(m.delta.endswith("% confident") for m in app.metric)
    [pictures] = [i for i in app.get("image") if len(i.proto.imgs) == 4]
    assert [img.caption for img in pictures.proto.imgs] == list(STEP_TITLES)
    charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]  # one probability chart per model
    assert len(charts) == 2
    for chart in charts:
        y = chart["data"][0]["y"]  # Plotly's binary form of the (10,) float32 probabilities
        p = np.frombuffer(base64.b64decode(y["bdata"]), y["dtype"]) if isinstance(y, dict) else np.asarray(y)
        assert int(np.argmax(p)) == digit and chart["data"][0]["text"][digit].endswith("%")
    expected = preprocess(np.asarray(Image.open(io.BytesIO(canvas_png(drawing(digit))))))
    assert np.array_equal(app.session_state["input28"], expected.image)  # what Data/Learn read


def test_model_switching(app):
    draw(app, drawing(7))
    assert predictions(app) == ["7"] and model_names(app) == ["LeNet-5"]
    choose(app, "MLP")
    assert predictions(app) == ["7"] and model_names(app) == ["MLP"]
    choose(app, "Both side by side")
    assert predictions(app) == ["7", "7"]


def test_dot_and_full_canvas_show_the_preprocessing_reason(app):
    yy, xx = np.mgrid[0:280, 0:280]
    dot = ((yy - 140) ** 2 + (xx - 140) ** 2 <= 4**2).astype(np.float32)
    scribble = np.zeros((280, 280), np.float32)
    scribble[12:268, 12:268] = 1  # a canvas inked all over but for a thin margin
    for ink, expected in ((dot, "Only a dot"), (scribble, "Most of the image is ink")):
        draw(app, ink)
        reason = preprocess(np.asarray(Image.open(io.BytesIO(canvas_png(ink)))), 0.0).empty_reason  # black canvas
        assert reason.startswith(expected) and [w.value for w in app.warning] == [reason]
        assert predictions(app) == []
        assert app.session_state["input28"] is None


def test_clear_button_empties_the_canvas(app):
    draw(app, drawing(3))
    assert predictions(app) == ["3"]
    app.button(key="clear").click()
    run(app)
    assert predictions(app) == [] and [i.value for i in app.info] == [HINT]


# --- uploads ---------------------------------------------------------------------------------------


def photo(digit: int, fmt: str) -> bytes:
    """A 'photo' of a digit: dark blue ink on uneven light-grey paper with noise."""
    ink = drawing(digit, height=600, x0=200, y0=150, width=40, size=900)
    yy, xx = np.mgrid[0:900, 0:900]
    paper = 200 + 30 * xx / 900 - 15 * yy / 900 + np.random.default_rng(0).normal(0, 5, (900, 900))
    rgb = np.stack([paper * (1 - 0.8 * ink), paper * (1 - 0.8 * ink), paper * (1 - 0.6 * ink)], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt, mime", [("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_uploaded_photo_is_read(app, fmt, mime):
    upload(app, f"three.{fmt.lower()}", photo(3, fmt), mime)  # (the photo of a 7 is asked about: "7 or 1?")
    assert predictions(app) == ["3"]
    assert any("Reading **three." in c.value for c in app.caption)


def test_a_phone_photo_on_squared_paper_in_shadow_is_read_with_its_steps(app):
    """The committed photo of a 5 (a UJI writer's: the committed models trained on UJI's writers, so this
    checks the page, not the accuracy) shows the photo path's steps before the MNIST ones."""
    content = (Path(__file__).parents[1] / "data" / "photos" / "shadow_squared_5.jpg").read_bytes()
    upload(app, "notebook.jpg", content, "image/jpeg")
    assert predictions(app) == ["5"]
    assert any("Finding the digit in the photo" in m.value for m in app.markdown)


def test_a_person_chooses_which_mark_in_a_photo_is_the_digit(app):
    """A photo with a 1 and an 8: the likeliest (the 8) is read, both are numbered, and choosing
    the other reads the 1; a new photo starts again from its likeliest mark."""
    from core_helpers import two_digits_side_by_side

    buffer = io.BytesIO()
    Image.fromarray(two_digits_side_by_side()).save(buffer, format="PNG")
    upload(app, "two.png", buffer.getvalue())
    assert predictions(app) == ["8"]
    marks = next(b for b in app.button_group if b.label == "Which mark is the digit?")
    assert marks.options == ["1 (likeliest)", "2"] and marks.value == 1
    marks.set_value(2)
    run(app)
    assert predictions(app) == ["1"]
    content = (Path(__file__).parents[1] / "data" / "photos" / "shadow_squared_5.jpg").read_bytes()
    upload(app, "notebook.jpg", content, "image/jpeg")
    assert predictions(app) == ["5"]


def test_the_camera_is_offered_beside_the_upload(app):
    app.toggle(key="use_camera").set_value(True).run()
    assert not app.exception
    assert len(app.get("camera_input")) == 1


def truncated_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()[:60]


@pytest.mark.parametrize("name, content, says", [
    ("truncated.png", truncated_png(), "truncated"),
    ("notes.png", b"these are not pixels\n" * 20, "not an image"),
    ("huge.png", b"\x89PNG\r\n\x1a\n" + bytes(11 * 1024 * 1024), "too large"),
], ids=["truncated", "not-an-image", "too-large"])
def test_bad_upload_gives_one_error_line_and_the_page_goes_on(app, name, content, says):
    upload(app, name, content)
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "\n" not in errors[0] and name in errors[0] and says in errors[0]
    with pytest.raises(ImageError) as reason:  # the page states the core's reason
        load_image(content, max_bytes=MAX_UPLOAD_MB * 1024 * 1024, max_pixels=MAX_UPLOAD_PIXELS)
    assert str(reason.value) in errors[0]
    assert predictions(app) == []
    app.button(key="clear").click()  # back to the canvas: drawing works again
    run(app)
    draw(app, drawing(0))
    assert predictions(app) == ["0"] and not app.error


def test_bad_upload_keeps_reading_the_drawing_on_the_canvas(app):
    draw(app, drawing(3))
    upload(app, "truncated.png", truncated_png())
    assert len(app.error) == 1 and "truncated.png" in app.error[0].value
    assert predictions(app) == ["3"]  # the drawing is still what the page reads
    assert app.session_state["digit"].source == "canvas"


# --- broken models ---------------------------------------------------------------------------------


@pytest.fixture
def broken_lenet(models_dir, tmp_path, monkeypatch):
    """A copy of the models whose lenet5.keras has been tampered with (one byte changed)."""
    for path in models_dir.iterdir():
        if path.suffix in (".keras", ".json"):
            shutil.copy(path, tmp_path / path.name)
    data = bytearray((tmp_path / "lenet5.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "lenet5.keras").write_bytes(bytes(data))
    monkeypatch.setenv("MNIST_MODELS", str(tmp_path))
    return tmp_path


def test_tampered_model_gives_an_error_line_and_the_other_model_still_works(broken_lenet):
    at = run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    assert len(at.error) == 1 and "lenet5.keras" in at.error[0].value  # said at once, before any drawing
    assert [i.value for i in at.info] == [HINT]
    draw(at, drawing(7))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "lenet5.keras" in errors[0] and "mnist_core train" in errors[0]
    assert "\n" not in errors[0] and predictions(at) == []
    choose(at, "Both side by side")
    assert predictions(at) == ["7"] and model_names(at) == ["MLP", "LeNet-5"] and len(at.error) == 1
    choose(at, "MLP")
    assert predictions(at) == ["7"] and not at.error


def test_missing_model_file(models_dir, tmp_path, monkeypatch):
    shutil.copy(models_dir / "mlp.keras", tmp_path)
    shutil.copy(models_dir / "mlp.json", tmp_path)
    monkeypatch.setenv("MNIST_MODELS", str(tmp_path))
    at = run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    draw(at, drawing(3))
    assert [e.value for e in at.error] and "lenet5.keras is missing" in at.error[0].value
    choose(at, "MLP")
    assert predictions(at) == ["3"]


def letter_ink(letter: str, height: float = 180, width: float = 18) -> np.ndarray:
    """A letter as a person writes it (`negatives.HAND_LETTERS`), drawn on the 280x280 canvas."""
    from mnist_core.datasets.negatives import HAND_LETTERS
    from mnist_core.pen.strokes import render_strokes

    return render_strokes([np.asarray(s) * height + 50 for s in HAND_LETTERS[letter]], (280, 280), width)


REFUSED_LETTER = "W"  # refused by both committed models (tests/evaluation/test_real_drawings.py measures letters as a kind)


def test_a_letter_gets_one_line_and_no_prediction(app):
    choose(app, "Both side by side")
    draw(app, letter_ink(REFUSED_LETTER))
    warnings = [w.value for w in app.warning]
    assert len(warnings) == 2 and all(w.startswith("That doesn't look like a digit; the nearest would be a ")
                                      for w in warnings), warnings
    assert predictions(app) == [] and not app.error
    assert not [b for b in app.button if b.key.startswith("feedback_yes")]  # nothing to confirm
    draw(app, drawing(7))  # a digit after it reads as ever
    assert predictions(app) == ["7", "7"] and not app.warning
