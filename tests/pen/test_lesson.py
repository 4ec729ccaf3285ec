"""mnist_core.pen.lesson: a drawing's strokes as a short, checked text for a lesson link."""

import base64
import zlib

import numpy as np
import pytest

from mnist_core.datasets.drawn import HAND
from mnist_core.pen import lesson
from core_helpers import hand_drawing
from mnist_core.pen.lesson import Drawing, Stroke, decode, encode, fabric_objects, strokes_from_fabric

# A fabric.js freedraw path as streamlit-drawable-canvas 0.13 sends it (trimmed: recorded from the
# browser; the pencil puts pointer positions in the Q control points, midpoints as end points).
PENCIL = {"version": "7.4.0", "objects": [{
    "type": "Path", "originX": "center", "originY": "center", "left": 170, "top": 165, "width": 0,
    "height": 130.04, "stroke": "#FFFFFF", "strokeWidth": 20, "scaleX": 1, "scaleY": 1, "angle": 0,
    "path": [["M", 170, 99.98], ["Q", 170, 100, 170, 105.5], ["Q", 170, 111, 170, 117], ["Q", 170, 123, 170, 129],
             ["Q", 170, 135, 170, 170], ["Q", 170, 206, 170, 218], ["L", 170, 230.02]]}],
    "background": "#000000"}


def test_round_trip_keeps_the_strokes_within_a_pixel():
    drawing = hand_drawing(3, width=17)
    back = decode(encode(drawing))
    assert [s.width for s in back.strokes] == [17]
    original, decoded = drawing.strokes[0].points, back.strokes[0].points
    assert len(decoded) < len(original) / 2  # simplified
    # every original point lies within ~1 px (tolerance + rounding) of the decoded polyline
    for p in original:
        a, b = decoded[:-1], decoded[1:]
        ab = b - a
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0, 1)
        assert np.min(np.linalg.norm(a + t[:, None] * ab - p, axis=1)) <= lesson.TOLERANCE + 0.71


def test_round_trip_is_exact_for_whole_pixel_points_and_a_dot():
    drawing = Drawing((Stroke(np.array([[10.0, 20.0], [200.0, 20.0], [30.0, 260.0]]), 8),
                       Stroke(np.array([[140.0, 140.0]]), 30), Stroke(np.array([[0.0, 0.0], [280.0, 280.0]]), 100)))
    back = decode(encode(drawing))
    assert [s.width for s in back.strokes] == [8, 30, 100]
    for a, b in zip(drawing.strokes, back.strokes):
        assert np.array_equal(a.points, b.points)
    assert encode(back) == encode(drawing)  # stable: re-encoding a decoded link gives the same text


@pytest.fixture(scope="module")
def lenet5():
    from mnist_core.reading.classifier import Classifier

    return Classifier.load("lenet5")


@pytest.mark.parametrize("digit", range(10))
def test_a_digit_reads_the_same_after_the_round_trip(lenet5, digit):
    """The rendered ink hardly changes (1-pixel edges), and LeNet-5 reads it the same."""
    drawing = hand_drawing(digit)
    before, after = drawing.render(), decode(encode(drawing)).render()
    overlap = np.minimum(before, after).sum() / np.maximum(before, after).sum()
    assert overlap > 0.85, overlap  # only the strokes' edges differ
    first, second = lenet5.classify(before, 0.0), lenet5.classify(after, 0.0)
    assert first.label == second.label == digit
    assert np.abs(first.probabilities - second.probabilities).max() < 0.1


def test_a_decoded_link_encodes_to_the_same_text():
    """What the app does with an opened link: decode, give the canvas its paths, read them back."""
    for digit in HAND:
        text = encode(hand_drawing(digit, seed=digit))
        drawing = decode(text)
        assert encode(drawing) == text
        assert encode(strokes_from_fabric({"objects": fabric_objects(drawing)})) == text


def test_typical_digits_make_short_links():
    lengths = [len(encode(hand_drawing(d, s))) for d in HAND for s in range(len(HAND[d]))]
    assert max(lengths) < 200 and np.median(lengths) < 130, lengths
    assert all(text.startswith("1") for text in [encode(hand_drawing(7))])


def tampered(text: str) -> list[str]:
    """Variants of a valid text: every character changed, cut short, extended, other version."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    variants = [text[:i] + alphabet[(alphabet.index(c) + 7) % 64] + text[i + 1:] for i, c in enumerate(text) if i]
    variants += [text[:-1], text[:-5], text[: len(text) // 2], text + "A", text + "AAAA", "2" + text[1:], "",
                 "1", text.replace(text[3], "+"), text + "=", " " + text, "1" + "A" * 9000]
    return variants


@pytest.mark.parametrize("digit", [0, 5, 8])
def test_any_tampering_raises_one_line_value_error(digit):
    text = encode(hand_drawing(digit, seed=digit))
    for bad in tampered(text):
        with pytest.raises(ValueError) as error:
            decode(bad)
        message = str(error.value)
        assert message and "\n" not in message and len(message) < 120, message


def test_well_formed_but_invalid_payloads_are_refused():
    def wrap(payload: bytes) -> str:
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = deflate.compress(payload) + deflate.flush()
        return "1" + base64.urlsafe_b64encode(body + zlib.crc32(body).to_bytes(4, "big")).rstrip(b"=").decode()

    good = bytes([1, 20, 2, 10, 10, 4, 4])  # 1 stroke, width 20, 2 points: (10, 10) then +(2, 2)
    assert np.array_equal(decode(wrap(good)).strokes[0].points, [[10, 10], [12, 12]])
    cases = {
        "0 strokes": bytes([0]),
        "width 0": bytes([1, 0, 2, 10, 10, 4, 4]),
        "width 101": bytes([1, 101, 2, 10, 10, 4, 4]),
        "no points": bytes([1, 20, 0]),
        "leaves the canvas": bytes([1, 20, 2, 10, 10, 0x80 | 0x40, 0x04, 0]),  # dx = +288
        "negative": bytes([1, 20, 2, 1, 1, 5, 0]),  # dx = -3
        "cut short": bytes([1, 20, 2, 10, 10, 4]),
        "trailing data": good + b"\x00",
        "endless number": bytes([1, 20, 2]) + b"\xff" * 8,
    }
    for name, payload in cases.items():
        with pytest.raises(ValueError):
            decode(wrap(payload))
            pytest.fail(name)


def test_a_compression_bomb_is_refused():
    payload = bytes([1, 20, 1, 10, 10]) + b"\x00" * 1_000_000
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(payload) + deflate.flush()
    text = "1" + base64.urlsafe_b64encode(body + zlib.crc32(body).to_bytes(4, "big")).rstrip(b"=").decode()
    assert len(text) < lesson.MAX_TEXT
    with pytest.raises(ValueError, match="too large"):
        decode(text)


def test_nothing_drawn_cannot_be_encoded():
    with pytest.raises(ValueError):
        encode(Drawing(()))


def test_strokes_from_the_canvas_pencil():
    drawing = strokes_from_fabric(PENCIL)
    [stroke] = drawing.strokes
    assert stroke.width == 20
    assert np.allclose(stroke.points[0], [170, 99.98]) and np.allclose(stroke.points[-1], [170, 230.02])
    assert np.allclose(stroke.points[:, 0], 170)
    assert strokes_from_fabric(None).strokes == () and strokes_from_fabric({"objects": []}).strokes == ()
    junk = {"objects": [{"type": "rect"}, {"type": "path", "path": [["Z"], ["M", "x", 1], 5]}, "nonsense",
                        {"type": "path", "path": [["M", 1, 2], ["L", 3, 4]], "strokeWidth": "wide"}]}
    assert strokes_from_fabric(junk).strokes == ()


def test_a_path_moved_with_the_edit_tool_is_read_where_it_is_shown():
    moved = {"objects": [dict(PENCIL["objects"][0], left=100, top=150)]}
    [stroke] = strokes_from_fabric(moved).strokes
    assert np.allclose(stroke.points[:, 0], 100)
    assert np.isclose(stroke.points[:, 1].min(), 150 - 65.02) and np.isclose(stroke.points[:, 1].max(), 150 + 65.02)
    scaled = {"objects": [dict(PENCIL["objects"][0], scaleX=1, scaleY=0.5)]}
    [stroke] = strokes_from_fabric(scaled).strokes
    assert np.isclose(np.ptp(stroke.points[:, 1]), 130.04 / 2)


def test_fabric_objects_round_trip_through_the_canvas_format():
    drawing = decode(encode(hand_drawing(8, 0)))
    objects = fabric_objects(drawing)
    assert [o["type"] for o in objects] == ["Path", "Path"]
    assert objects[0]["path"][0][0] == "M" and {c[0] for c in objects[0]["path"][1:]} == {"L"}
    assert objects[0]["strokeLineCap"] == "round" and objects[0]["stroke"] == "#FFFFFF"
    back = strokes_from_fabric({"objects": objects})
    assert encode(back) == encode(drawing)
    dot = fabric_objects(Drawing((Stroke(np.array([[5.0, 6.0]]), 9),)))
    assert dot[0]["path"] == [["M", 5.0, 6.0], ["L", 5.0, 6.0]]


def test_render_combines_widths_like_the_canvas():
    thin = Stroke(np.array([[40.0, 140.0], [240.0, 140.0]]), 6)
    thick = Stroke(np.array([[140.0, 40.0], [140.0, 240.0]]), 30)
    ink = Drawing((thin, thick)).render()
    assert ink.shape == (280, 280) and ink.dtype == np.float32
    assert ink[140, 60] == 1 and ink[150, 60] == 0  # the thin line: 6 px
    assert ink[100, 126] == 1 and ink[100, 160] == 0  # the thick one: 30 px
