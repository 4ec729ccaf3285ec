"""The photo path (`mnist_core.imaging.photo`): photos of paper in uneven light, lines, tight scans."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core_helpers import two_digits_side_by_side
from mnist_core.imaging.images import load_image
from mnist_core.imaging.photo import find_ink
from mnist_core.imaging.preprocess import bounding_box, preprocess
from mnist_core.reading.numbers import read_image

PHOTOS = Path(__file__).parents[1] / "data" / "photos"
INDEX = json.loads((PHOTOS / "index.json").read_text())
DIGITS = {name: entry for name, entry in INDEX.items() if entry.get("label") is not None}


def overlap(a, b) -> float:
    """Intersection over union of two (top, left, bottom, right) boxes."""
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
    return inter / (area(a) + area(b) - inter)


@pytest.mark.parametrize("name", sorted(DIGITS))
def test_the_digit_is_found_on_every_paper_and_in_every_light(name):
    """Each committed photo (plain, ruled, squared paper; even light or a shadow): the chosen ink's box
    is the digit's, not the page, its lines or the shadow's edge."""
    steps = find_ink(load_image(PHOTOS / name))
    truth = [v // steps.factor for v in DIGITS[name]["box"]]
    assert steps.dark_ink and steps.box is not None, name
    assert overlap(steps.box, truth) > 0.8, (name, steps.box, truth)


@pytest.mark.parametrize("model", ["lenet5", "mlp"])
def test_photos_are_read_by_the_model_that_never_saw_their_writers(model):
    """The sample's digits are UJI writers': the fold model trained without UJI reads them all
    (the committed model trained on UJI's writers, so it is not the one measured here)."""
    from mnist_core.reading.classifier import Classifier

    classifier = Classifier.load(model, models_dir=Path(__file__).parents[2] / "models" / "crossval" / "fold2")
    wrong = [n for n, e in DIGITS.items() if classifier.classify(load_image(PHOTOS / n)).label != e["label"]]
    assert len(wrong) <= 1, wrong


def test_lines_and_shadow_are_not_ink():
    steps = find_ink(load_image(PHOTOS / "shadow_squared_5.jpg"))
    assert steps.lines.sum() > 5 * steps.chosen.astype(bool).sum() / 10  # the grid was found and removed
    top, left, bottom, right = [v // steps.factor for v in INDEX["shadow_squared_5.jpg"]["box"]]
    pad = (bottom - top) // 10  # the widened strokes' edges
    outside = steps.chosen.copy()
    outside[top - pad : bottom + pad, left - pad : right + pad] = 0
    assert not outside.any()


def test_polarity_is_read_from_the_ink_not_the_border(mnist):
    """MNIST digits cropped tight and squeezed into 16x16 black-and-white scans (as Semeion's are:
    the digit touches all four edges), in both polarities: never "no ink", always the same input."""
    refused, differ = 0, 0
    for image in mnist.x_test[:200]:
        top, left, bottom, right = bounding_box(image > 127)
        scan = np.asarray(Image.fromarray(((image[top:bottom, left:right] > 127) * 255).astype(np.uint8))
                          .resize((16, 16), Image.NEAREST))
        dark, light = preprocess(255 - scan), preprocess(scan)
        refused += dark.empty + light.empty
        differ += not np.array_equal(dark.image, light.image)
    assert refused == 0 and differ == 0


def test_light_ink_on_dark_is_read():
    """White strokes on black (a saved canvas, a screenshot): the same digit as black on white."""
    from core_helpers import drawing

    ink = np.kron(drawing(4), np.ones((2, 2), np.float32))  # 560x560
    white_on_black = np.round(ink * 255).astype(np.uint8)
    light, dark = find_ink(white_on_black), find_ink(255 - white_on_black)
    assert not light.dark_ink and dark.dark_ink
    assert light.box == dark.box == bounding_box(ink > 0.5)


def test_thin_strokes_are_widened():
    ink = preprocess(load_image(PHOTOS / "00_plain_even_7.jpg")).photo.chosen
    solid = ink > 0.5
    from skimage.morphology import skeletonize

    top, left, bottom, right = bounding_box(solid)
    assert solid.sum() / skeletonize(solid).sum() >= 0.08 * max(bottom - top, right - left) - 1.5


def test_a_photographed_number_reads():
    """A 4-digit number on squared paper in a shadow: its digits are found within the number, none in the
    shadow or the grid, and it reads 8866 (its second 8 has a faint stretch that the ink misses: the two
    halves, a stroke's width apart, are joined as one piece; without that it read "80066")."""
    from mnist_core.reading.classifier import Classifier

    entry = INDEX["number_8866.jpg"]
    classifier = Classifier.load("lenet5", models_dir=Path(__file__).parents[2] / "models" / "crossval" / "fold2")
    reading = read_image(load_image(PHOTOS / "number_8866.jpg"), classifier.classify_batch)
    top, left, bottom, right = entry["box"]
    assert all(top - 5 <= d.box[0] and d.box[2] <= bottom + 5 and left - 5 <= d.box[1] and d.box[3] <= right + 5
               for d in reading.digits)
    assert reading.number == "8866"


def test_a_blank_or_flat_photo_has_no_ink():
    for image in (np.full((900, 1200, 3), 200, np.uint8), np.zeros((600, 800), np.uint8)):
        result = preprocess(image)
        assert result.empty and result.empty_reason.startswith("No ink")


def test_a_person_points_at_the_digit_among_several_marks():
    """With two digits on the page, one is read and the other offered as a candidate; pointing
    at either (a share of the height and width) reads that one, and the other becomes the candidate."""
    from mnist_core.reading.classifier import Classifier

    classifier = Classifier.load("lenet5", models_dir=Path(__file__).parents[2] / "models" / "crossval" / "fold2")
    photo = two_digits_side_by_side()
    unpointed = find_ink(photo)
    assert len(unpointed.others) == 1
    for near, label, side in [((0.5, 0.25), 1, "left"), ((0.4, 0.8), 8, "right")]:
        result = classifier.classify(photo, near=near)
        steps = result.preprocessed.photo
        centre = (steps.box[1] + steps.box[3]) / 2 / photo.shape[1]
        assert (centre < 0.5) == (side == "left") and result.label == label, (near, steps.box, result.label)
        assert len(steps.others) == 1 and steps.doubtful is None
    # a point on bare paper takes the nearest mark's box
    assert find_ink(photo, near=(0.05, 0.02)).box == find_ink(photo, near=(0.5, 0.25)).box
