"""Turn any image of a digit into the 28x28 MNIST form, keeping every step for display.

The MNIST recipe (LeCun, Cortes and Burges): the digit's bounding box is scaled, keeping its
aspect ratio, to fit a 20x20 box (anti-aliased, hence the grey levels), then placed in a 28x28
field so that its centre of mass sits at the centre. On MNIST's own training images the centre
of mass is at pixel index (14.0, 14.0) on average, spread +-0.29: integer shifts, which is what
`preprocess` does (a sub-pixel shift would blur the strokes).

The pipeline: the ink (`ink_mask` where the background is known: a canvas, a transparent image;
otherwise the photo path, `mnist_core.imaging.photo.find_ink`: light flattened, lines removed, the digit
chosen among the pieces of ink) -> crop to the ink's bounding box -> `fit_box` (20x20, aspect
kept) -> `centre_by_mass` (28x28).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .ink import bounding_box  # noqa: F401  (part of this module's interface)
from .photo import PhotoSteps, find_ink

SIZE = 28
BOX = 20
CENTRE = (14.0, 14.0)  # MNIST's mean centre of mass, in pixel indices (row, col)

MIN_CONTRAST = 0.12  # ink this close to the background is paper texture, not ink
MIN_EXTENT = 0.06  # a drawing smaller than this fraction of the image's longer side is a dot
MAX_COVERAGE = 0.6  # more of the image than this inked is no single digit
NO_DIGIT = "No digit found in the picture: photograph one digit, large, in even light (or crop the photo to it)."


@dataclass(frozen=True)
class Preprocessed:
    """Every step from an input image to the 28x28 model input.

    ink:            (H, W) float32 in [0, 1], 1 = ink: the input's own pixel grid for a canvas, the
                    photo path's working grid (the input reduced by `photo.factor`) for a photo.
    bbox:           (top, left, bottom, right) of the ink in `ink`, bottom/right exclusive; None if empty.
    fitted:         (h, w) float32 in [0, 1] with max(h, w) == 20: the cropped ink scaled to the box.
    image:          (28, 28) float32 in [0, 1], light digit on dark: the model input.
    offset:         (row, col) where `fitted`'s top-left corner sits in `image`.
    centre_of_mass: (row, col) of `image` in pixel indices, within half a pixel of (14, 14).
    empty_reason:   None, or one line saying why there is no digit to classify.
    photo:          the photo path's steps (`mnist_core.imaging.photo.PhotoSteps`), or None for a canvas.
    """

    ink: np.ndarray
    bbox: tuple[int, int, int, int] | None
    fitted: np.ndarray
    image: np.ndarray
    offset: tuple[int, int]
    centre_of_mass: tuple[float, float]
    empty_reason: str | None = None
    photo: PhotoSteps | None = None

    @property
    def empty(self) -> bool:
        return self.empty_reason is not None


def _as_array(image) -> np.ndarray:
    """A PIL image or array-like as an array of shape (H, W), (H, W, 3) or (H, W, 4), any dtype."""
    if isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB", "RGBA", "F", "I;16", "I"):
            has_alpha = "A" in image.mode or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        image = np.asarray(image)
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"the image has no pixels: shape {array.shape}")
    return array


def to_float(array: np.ndarray) -> np.ndarray:
    """Pixels as float32 in [0, 1]: uint8 is divided by 255, other integers by their dtype's
    maximum, floats are clipped to [0, 1] (NaN becomes 0). Shape unchanged."""
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        return np.multiply(array, np.float32(1 / np.iinfo(array.dtype).max), dtype=np.float32)
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0).astype(np.float32)
    raise ValueError(f"unsupported pixel type {array.dtype}")


def _full_scale(array: np.ndarray) -> float:
    """The value of full intensity in `array`'s dtype: 255 for uint8, 1.0 for floats."""
    return float(np.iinfo(array.dtype).max) if np.issubdtype(array.dtype, np.integer) else 1.0


def has_alpha(array: np.ndarray) -> bool:
    """Whether an (H, W, C) array has an alpha channel that varies (a transparent canvas with strokes)."""
    return array.ndim == 3 and array.shape[2] == 4 and array[:, :, 3].min() < 0.99 * _full_scale(array)


def ink_mask(image, background=None) -> np.ndarray:
    """Ink of any image: (H, W) float32 in [0, 1], 1 = full ink, 0 = background.

    With an alpha channel that varies, the alpha is the ink (a transparent canvas with strokes).
    With a known background (a canvas: 0.0 for black; a grey level or an (r, g, b) triple in
    [0, 1]) the ink is each pixel's largest per-channel distance from it: white strokes on black
    and coloured strokes all come out as ink, exactly, in the input's grid.
    Otherwise the image is a photo or a scan: all its ink once the light is flattened and printed
    lines removed (`mnist_core.imaging.photo.find_ink(...).cleaned`), in the photo path's working grid.
    """
    array = _as_array(image)
    if has_alpha(array):
        return to_float(array[:, :, 3])
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    if background is None:
        return find_ink(array).cleaned
    colour = array if array.ndim == 3 else array[:, :, None]
    channels = [colour[:, :, c] for c in range(colour.shape[2])]
    background = np.asarray(background, np.float32).ravel()
    if len(channels) == 1:  # a grey image against any background colour
        channels = channels * len(background)
    background = np.broadcast_to(background, (len(channels),))
    # Channel by channel: NumPy's max over a length-3 last axis took 2-3 ms on a 280x280 canvas,
    # elementwise maxima of the channels a tenth of that (the app reads every stroke this way).
    # A grey background k (a canvas, most paper) needs only the brightest and darkest channel:
    # the largest |c - k| is max(max_c - k, k - min_c).
    if (background == background[0]).all():
        brightest, darkest = channels[0].copy(), channels[0].copy()
        for channel in channels[1:]:
            np.maximum(brightest, channel, out=brightest)
            np.minimum(darkest, channel, out=darkest)
        distance = to_float(brightest) - background[0]
        if background[0] > 0:
            np.maximum(distance, background[0] - to_float(darkest), out=distance)
    else:
        distance = np.abs(to_float(channels[0]) - background[0])
        for channel, level in zip(channels[1:], background[1:]):
            np.maximum(distance, np.abs(to_float(channel) - level), out=distance)
    # a canvas: its pixels are the drawing, nothing to clean up
    return distance if distance.max() >= MIN_CONTRAST else np.zeros(distance.shape, np.float32)


def fit_box(crop: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale `crop` (h, w) float32 so its longer side is `box`, aspect kept, anti-aliased.

    Returns (h', w') float32 in [0, 1] with max(h', w') == box and its brightest pixel 1
    (MNIST's strokes reach full intensity). Pillow's bilinear resize widens its filter when it
    shrinks, so it averages the area under each output pixel instead of skipping pixels.
    """
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow wants (width, height)
    fitted = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.BILINEAR))
    peak = fitted.max()
    return np.clip(fitted / peak if peak > 0 else fitted, 0.0, 1.0).astype(np.float32)


def centre_by_mass(fitted: np.ndarray, size: int = SIZE) -> tuple[np.ndarray, tuple[int, int]]:
    """Place `fitted` (h, w) in a (size, size) float32 field with its centre of mass at the centre.

    The shift is rounded to whole pixels, so the result's centre of mass is within half a pixel
    of (14, 14); it is clamped so that the whole digit stays inside the field.
    Returns the field and the (row, col) of `fitted`'s top-left corner in it.
    """
    h, w = fitted.shape
    com_row, com_col = ndimage.center_of_mass(fitted)
    top = int(np.clip(round(CENTRE[0] - com_row), 0, size - h))
    left = int(np.clip(round(CENTRE[1] - com_col), 0, size - w))
    field = np.zeros((size, size), np.float32)
    field[top : top + h, left : left + w] = fitted
    return field, (top, left)


def _empty(ink: np.ndarray, bbox, reason: str, photo: PhotoSteps | None = None) -> Preprocessed:
    blank = np.zeros((SIZE, SIZE), np.float32)
    return Preprocessed(ink, bbox, np.zeros((0, 0), np.float32), blank, (0, 0), CENTRE, reason, photo)


def preprocess(image, background=None, near=None) -> Preprocessed:
    """Any image of one digit -> the 28x28 MNIST form, with each step kept.

    image: (H, W), (H, W, 3) or (H, W, 4) array, uint8 or float in [0, 1], or a PIL image; any
    size and polarity. background: the paper's colour if known (see `ink_mask`); without it and
    without transparency the image is a photo or scan and goes through `mnist_core.imaging.photo`
    (its steps in `.photo`; `near`, (row, col) as shares of the height and width, is where a
    person pointed at the digit among several marks). Returns a `Preprocessed` whose `.image` is (28, 28) float32 in
    [0, 1], light digit on dark. No ink, a dot, or an image mostly covered in ink gives an empty
    result (`.empty_reason` says which), never something to classify. Deterministic.
    """
    array = _as_array(image)
    photo = None
    if background is None and not has_alpha(array):
        photo = find_ink(array[:, :, :3] if array.ndim == 3 else array, near)
        ink = photo.chosen
        if photo.box is None:
            reason = (NO_DIGIT if photo.found.any() else "No ink: draw a digit (or upload an image of one).")
            return _empty(ink, None, reason, photo)
    else:
        ink = ink_mask(array, background)
    bbox = bounding_box(ink)
    if bbox is None:
        return _empty(ink, None, "No ink: draw a digit (or upload an image of one).", photo)
    top, left, bottom, right = bbox
    crop = ink[top:bottom, left:right]  # all the ink there is: the sums below need no more
    if max(bottom - top, right - left) < MIN_EXTENT * max(ink.shape) or crop.sum() < 2:
        return _empty(ink, bbox, "Only a dot: draw the whole digit, larger.", photo)
    if photo is None and np.count_nonzero(crop > 0.5) > MAX_COVERAGE * ink.size:  # a photo's digit was chosen
        return _empty(ink, bbox, "Most of the image is ink: clear it and draw a single digit.", photo)
    fitted = fit_box(crop)
    image28, offset = centre_by_mass(fitted)
    com = ndimage.center_of_mass(fitted)  # the field is `fitted` moved by `offset`, zeros elsewhere
    return Preprocessed(ink, bbox, fitted, image28, offset, (float(com[0] + offset[0]), float(com[1] + offset[1])),
                        None, photo)


def preprocess_batch(images: np.ndarray) -> np.ndarray:
    """Re-run the MNIST recipe on (N, H, W) ink images (float32 in [0, 1], ink = 1).

    Returns (N, 28, 28) float32 in [0, 1]; an empty image stays all zeros.
    """
    out = np.zeros((len(images), SIZE, SIZE), np.float32)
    for i, ink in enumerate(images):
        bbox = bounding_box(ink)
        if bbox is not None:
            top, left, bottom, right = bbox
            out[i] = centre_by_mass(fit_box(ink[top:bottom, left:right]))[0]
    return out
