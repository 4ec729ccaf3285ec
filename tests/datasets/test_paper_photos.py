"""mnist_core.datasets.paper_photos: photos of pen digits on paper are colour JPEGs of the promised sizes,
deterministic for a seed, with the digit's ink in the box and away from the border; ruled and
squared paper really has lines and a shadow really darkens part of the page; photo_set deals the
kinds evenly; the committed sample in tests/data/photos is what its index.json says."""

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from mnist_core.datasets import paper_photos
from mnist_core.datasets.paper_photos import LIGHTS, PAPERS, Photo, photo_set, photograph, photograph_number
from mnist_core.datasets.pendigits import Pendigits

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "photos"

# Hand-made digits in tablet units (y down): enough to test the photo without the data sets
SEVEN = [np.array([[100, 100], [300, 100], [250, 200], [180, 400]], np.float32)]
FOUR = [np.array([[220, 100], [100, 300], [300, 300]], np.float32), np.array([[230, 180], [230, 420]], np.float32)]
ZERO = [np.array([[200 + 90 * np.sin(t), 250 - 150 * np.cos(t)] for t in np.linspace(0, 2 * np.pi, 40)], np.float32)]
ONE = [np.array([[200, 100], [210, 400]], np.float32)]
KINDS = [(paper, light) for paper in PAPERS for light in LIGHTS]


def flattened(image: np.ndarray) -> np.ndarray:
    """Grey (H, W) float smoothed a little (sigma 1 px, against sensor noise), divided by the paper
    around each pixel (a grey closing wider than any stroke): 1 on paper, lower on ink and print."""
    grey = ndimage.gaussian_filter(image.astype(np.float32).mean(axis=2), 1.0)
    size = int(0.06 * min(grey.shape)) | 1
    return grey / np.maximum(ndimage.grey_closing(grey, size=(size, size)), 1)


def darkest(ratio: np.ndarray, count: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the `count` darkest pixels."""
    return np.unravel_index(np.argpartition(ratio.ravel(), count)[:count], ratio.shape)


def assert_ink_in_box(photo: Photo, slack: int = 4):
    """The darkest pixels (after flattening the light) are in the box or within `slack` px of it.
    Not for shadows: in a deep one, noise can be darker than a light pencil stroke in the light
    (so, as for a reader, the test looks at the same photo without the shadow, see `unshaded`)."""
    top, left, bottom, right = photo.box
    rows, cols = darkest(flattened(photo.image))
    inside = (rows >= top - slack) & (rows < bottom + slack) & (cols >= left - slack) & (cols < right + slack)
    outside = list(zip(rows[~inside].tolist(), cols[~inside].tolist()))[:5]
    assert inside.all(), f"{photo.paper}/{photo.light}: darkest pixels outside {photo.box}: {outside}"


DIGITS = [(SEVEN, 7), (FOUR, 4), (ZERO, 0), (ONE, 1)]


def assert_ink_or_shadow(photo: Photo, slack: int = 4):
    """`assert_ink_in_box` in even light; in a shadow, that the box holds ink clearly darker than
    the paper around it."""
    if photo.light == "even":
        assert_ink_in_box(photo, slack)
    else:
        top, left, bottom, right = photo.box
        assert flattened(photo.image)[top:bottom, left:right].min() < 0.8


@pytest.fixture(scope="module")
def photos():
    """One photo of each kind for each of four digits, seeds 0..23."""
    return [photograph(digit, np.random.default_rng(i * len(KINDS) + k), paper, light, label)
            for i, (digit, label) in enumerate(DIGITS) for k, (paper, light) in enumerate(KINDS)]


def unshaded(photo: Photo, seed: int, strokes, paper=None) -> Photo:
    """The same photo in even light, on `paper` if given (the light and the lines have their own
    generators: all else is the same)."""
    if photo.light == "even" and paper in (None, photo.paper):
        return photo
    twin = photograph(strokes, np.random.default_rng(seed), paper or photo.paper, "even", photo.label)
    assert twin.box == photo.box and twin.image.shape == photo.image.shape
    return twin


def assert_box_is_tight(photo: Photo, slack: int = 3):
    """Each side of the box touches ink: the pixels at least half as dark as the darkest, near
    the box, span it to within `slack` px (for a photo on plain paper in even light)."""
    top, left, bottom, right = photo.box
    ratio = flattened(photo.image)
    near = np.s_[max(top - 20, 0):bottom + 20, max(left - 20, 0):right + 20]
    ink = ratio[near] < 1 - (1 - ratio[near].min()) / 2
    rows, cols = np.flatnonzero(ink.any(axis=1)) + near[0].start, np.flatnonzero(ink.any(axis=0)) + near[1].start
    found = (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)
    assert np.abs(np.subtract(found, photo.box)).max() <= slack, (found, photo.box)


def test_a_photo_is_a_colour_jpeg_of_the_promised_size(photos):
    for photo in photos:
        image = photo.image
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        short, long = sorted(image.shape[:2])
        assert 600 <= short <= 1200 and 800 <= long <= 1600
        assert photo.jpeg[:2] == b"\xff\xd8"  # a JPEG file
        decoded = Image.open(io.BytesIO(photo.jpeg))
        assert decoded.format == "JPEG" and decoded.mode == "RGB"
        assert np.array_equal(np.asarray(decoded), image)
    assert {p.image.shape[0] > p.image.shape[1] for p in photos} == {True, False}  # portrait and landscape
    tinted = [np.abs(p.image.astype(int) - p.image.mean(axis=2, keepdims=True)).mean() > 2 for p in photos]
    assert sum(tinted) >= len(photos) / 3  # colour photos: blue ink and lines, white balance
    assert [(p.paper, p.light) for p in photos[:len(KINDS)]] == KINDS and photos[0].label == 7
    assert all(p.writer is None for p in photos)


def test_the_same_generator_state_gives_the_same_photo():
    first = photograph(SEVEN, np.random.default_rng(5), "ruled", "shadow", 7)
    again = photograph(SEVEN, np.random.default_rng(5), "ruled", "shadow", 7)
    other = photograph(SEVEN, np.random.default_rng(6), "ruled", "shadow", 7)
    assert first.jpeg == again.jpeg and first.box == again.box and np.array_equal(first.image, again.image)
    assert other.image.shape != first.image.shape or not np.array_equal(other.image, first.image)


def test_the_box_holds_the_ink_away_from_the_border_at_the_promised_size(photos):
    for seed, photo in enumerate(photos):
        top, left, bottom, right = photo.box
        rows, cols = photo.image.shape[:2]
        short = min(rows, cols)
        assert 0.075 * short <= min(top, left, rows - bottom, cols - right), (photo.box, photo.image.shape)
        assert 0.11 * short <= bottom - top <= 0.42 * short
        assert_ink_in_box(unshaded(photo, seed, DIGITS[seed // len(KINDS)][0]))
        if photo.paper == "plain":
            assert_box_is_tight(unshaded(photo, seed, DIGITS[seed // len(KINDS)][0]))
        ratio = flattened(photo.image)
        assert ratio[top:bottom, left:right].min() < 0.8  # ink, clearly darker than the paper


def test_the_digit_is_not_always_in_the_middle(photos):
    offsets = [abs((p.box[0] + p.box[2]) / 2 / p.image.shape[0] - 0.5) for p in photos]
    assert max(offsets) > 0.1


def test_a_number_is_written_side_by_side_in_one_box():
    digits = [ONE, SEVEN, ZERO, FOUR]
    number = photograph_number(digits, np.random.default_rng(3), "squared", "shadow")
    single = photograph(ONE, np.random.default_rng(3), "squared", "shadow")
    assert number.label is None and (number.paper, number.light) == ("squared", "shadow")
    top, left, bottom, right = number.box
    rows, cols = number.image.shape[:2]
    assert right - left > 1.8 * (bottom - top)  # four digits in a row (a 1 is narrow)
    assert 0.075 * min(rows, cols) <= min(top, left, rows - bottom, cols - right)
    twin = photograph_number(digits, np.random.default_rng(3), "squared", "even")
    assert twin.box == number.box
    assert_ink_in_box(twin)
    assert single.image.shape == number.image.shape  # the same frame: only the writing differs


def line_profile(ratio: np.ndarray, box, axis: int) -> np.ndarray:
    """Mean darkness (1 - ratio) along a strip 48 px wide on the roomier side of the box, across
    the lines that run along `axis` (0: horizontal lines, a profile over rows)."""
    if axis == 1:
        return line_profile(ratio.T, (box[1], box[0], box[3], box[2]), 0)
    left, right = box[1], box[3]
    middle = left // 2 if left > ratio.shape[1] - right else (right + ratio.shape[1]) // 2
    return 1 - ratio[:, middle - 24:middle + 24].mean(axis=1)


def peaks(profile: np.ndarray, height: float) -> np.ndarray:
    """Rows of the local maxima of a profile at least `height` above its median."""
    raised = profile - np.median(profile)
    local = raised == ndimage.maximum_filter1d(raised, 9)
    return np.flatnonzero(local & (raised > height))


@pytest.mark.parametrize("seed", range(4))
def test_ruled_and_squared_paper_has_lines_far_from_the_digit(seed):
    plain, ruled, squared = (photograph(FOUR, np.random.default_rng(seed), paper, "even") for paper in PAPERS)
    assert plain.image.shape == ruled.image.shape == squared.image.shape and plain.box == ruled.box
    flat = {p.paper: flattened(p.image) for p in (plain, ruled, squared)}
    noise = {axis: line_profile(flat["plain"], plain.box, axis).std() for axis in (0, 1)}
    height = plain.box[2] - plain.box[0]
    for photo, axes in ((ruled, (0,)), (squared, (0, 1))):
        for axis in axes:
            # The lines are what the same photo on plain paper lacks, and they stand out of its noise
            extra = line_profile(flat[photo.paper], photo.box, axis) - line_profile(flat["plain"], photo.box, axis)
            found = peaks(extra, max(0.01, 4 * noise[axis]))
            assert len(found) >= 2, (photo.paper, axis, seed)
            spacing = np.median(np.diff(found))
            low, high = (0.45, 1.25) if photo.paper == "ruled" else (0.22, 0.65)
            assert low * height * 0.8 <= spacing <= high * height * 1.1, (photo.paper, spacing, height)


@pytest.mark.parametrize("seed", range(4))
def test_a_shadow_darkens_part_of_the_page_and_leaves_the_rest(seed):
    even, shadow = (photograph(SEVEN, np.random.default_rng(seed), "plain", light) for light in LIGHTS)
    assert even.box == shadow.box
    ratio = ndimage.uniform_filter(shadow.image.mean(axis=2), 15) / ndimage.uniform_filter(even.image.mean(axis=2), 15)
    assert (ratio < 0.75).mean() > 0.1  # a shadow at least a quarter darker over a tenth of the page
    assert (ratio > 0.95).mean() > 0.25  # and light beside it


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError):
        photograph(SEVEN, np.random.default_rng(0), paper="graph")
    with pytest.raises(ValueError):
        photograph(SEVEN, np.random.default_rng(0), light="dark")


def made_up_digits() -> Pendigits:
    digits = [SEVEN, FOUR, ZERO, ONE, SEVEN]
    return Pendigits(digits, np.array([7, 4, 0, 1, 7], np.uint8), np.array([11, 12, 13, 14, 15], np.uint8))


def test_photo_set_deals_the_kinds_evenly_and_each_digit_once_first():
    digits = made_up_digits()
    photos = photo_set(digits, 8, seed=2, papers=("plain", "squared"))
    kinds = Counter((p.paper, p.light) for p in photos)
    assert kinds == {(paper, light): 2 for paper in ("plain", "squared") for light in LIGHTS}
    assert sorted(p.writer for p in photos[:5]) == [11, 12, 13, 14, 15]  # no digit twice while any is left
    label = dict(zip(digits.writers.tolist(), digits.labels.tolist()))
    assert all(p.label == label[p.writer] for p in photos)
    again = photo_set(digits, 3, seed=2, papers=("plain", "squared"))
    assert [p.jpeg for p in again] == [p.jpeg for p in photos[:3]]
    other = photo_set(digits, 3, seed=3, papers=("plain", "squared"))
    assert [p.jpeg for p in other] != [p.jpeg for p in again]


def test_real_digits_photograph_with_their_writers(pendigits):
    photos = photo_set(pendigits.subset(np.arange(0, 7494, 1249)), 6, seed=1)
    assert Counter((p.paper, p.light) for p in photos) == Counter(KINDS)
    for photo in photos:
        assert 1 <= photo.writer <= 30 and 0 <= photo.label <= 9
        assert_ink_or_shadow(photo)


def test_shrink_keeps_the_ink_in_the_box():
    photo = paper_photos.shrink(photograph(FOUR, np.random.default_rng(4), "ruled", "even"), 500)
    assert min(photo.image.shape[:2]) == 500 and photo.image.shape[2] == 3
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(photo.jpeg))), photo.image)
    assert_ink_in_box(photo, slack=3)


def test_the_committed_sample_is_what_its_index_says():
    index = json.loads((SAMPLE / "index.json").read_text())
    files = sorted(p.name for p in SAMPLE.glob("*.jpg"))
    assert sorted(index) == files and len(files) == 14
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 750_000
    digits = {name: entry for name, entry in index.items() if "label" in entry and name != "shadow_squared_5.jpg"}
    assert Counter((e["paper"], e["light"]) for e in digits.values()) == {kind: 2 for kind in KINDS}
    numbers = [e for e in index.values() if "number" in e]
    assert len(numbers) == 1 and 3 <= len(numbers[0]["number"]) <= 4 and numbers[0]["number"].isdigit()
    assert (numbers[0]["paper"], numbers[0]["light"]) == ("squared", "shadow")
    five = index["shadow_squared_5.jpg"]
    assert (five["label"], five["paper"], five["light"]) == (5, "squared", "shadow")
    for name, entry in index.items():
        image = np.asarray(Image.open(SAMPLE / name).convert("RGB"))
        assert list(image.shape[:2]) == entry["size"] and 480 <= min(image.shape[:2]) <= 600
        assert 101 <= entry["writer"] <= 160  # UJI's writers
        photo = Photo(image, b"", tuple(entry["box"]), entry.get("label"), entry["paper"], entry["light"])
        assert_ink_or_shadow(photo, slack=3)
