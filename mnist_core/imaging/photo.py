"""Find the digit in a photo or scan of paper, keeping every step for display.

    steps = find_ink(image)   # any (H, W), (H, W, 3) or (H, W, 4) image without a known background
    steps.chosen              # (h, w) float32 ink of the digit only, in the working grid
    steps.box                 # where it is, (top, left, bottom, right) in the working grid

A phone photographs a page in uneven light: a shadow across it, a darker rim, ruled or squared
lines, noise and JPEG. A tight scan fills its frame with the digit. Neither has a border that
tells the paper's colour, so nothing here looks at the border:

1. `working_grey`: the image reduced by an integer factor to a short side of about `WORK_SIDE`
   (area average), as luminance in [0, 1], with its chroma (for coloured lines).
2. `dark_ink`: the polarity, from the ink: the side (darker or lighter than the local paper,
   a large-scale median) whose strong deviations weigh more. Light ink on dark is inverted.
3. `flatten`: the paper's brightness at a large scale (a grey closing of a coarse copy: strokes
   vanish, shadows and the rim stay) is divided out; the paper becomes 1 everywhere.
4. `find`: Sauvola's local threshold (scikit-image) on the flattened image, above the noise.
5. `remove_lines`: ruled and squared lines, by colour (light and coloured) and by shape
   (straight runs across much of the page, found with a Hough transform, scikit-image),
   keeping the pixels where a stroke crosses a line.
6. `choose`: the digit among the connected pieces (size, compactness, nearness to the centre;
   a piece touching the image's edge only when nothing else is digit-like), with the small
   pieces beside it (a 5's top bar). When two pieces are about as likely, `doubtful` says so.

Images with a short side under `SCAN_SIDE` (a scanned 16x16 digit, an MNIST image) have no light
to flatten or lines to remove: their paper level is global and all their ink is the digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.morphology import disk
from skimage.transform import hough_line, hough_line_peaks

from .ink import Box, bounding_box, stroke_width

WORK_SIDE = 600  # the photo is read with a short side of about this many pixels (an integer reduction)
SCAN_SIDE = 64  # smaller images are scans: no light to flatten, no lines, all ink is the digit
CLEAR_MINORITY = 0.1  # a scan's side with less than 40 % of the pixels is its ink
COARSE_SIDE = 60  # the paper's brightness is estimated on a copy this small (short side)
POLARITY_SIDE = 200  # the polarity is decided on a copy this small: strokes still show
SURE_CONTRAST = 0.25  # ...from what stands out from its surroundings by more than this: ink, not a printed line
CLOSING = 0.15  # ...by a grey closing this share of its short side wide: narrower strokes vanish in it
SAUVOLA_WINDOW = 1 / 20  # Sauvola's window, as a share of the short side
SAUVOLA_K = 0.2
MIN_DARKNESS = 0.12  # ink is at least this much darker than its paper (flattened: 1 - value)
NOISE_SIGMAS = 5.0  # ...and darker than this many sd's of the paper's noise
FAINT_DARKNESS = 0.05  # fainter ink joined to what is found is ink too (hysteresis)...
FAINT_SIGMAS = 3.0  # ...where it is darker than this many sd's of the noise
LEVEL_RANGE = 0.15  # the paper's remaining unevenness is corrected by at most this much
NOISE_BLOCK = 1 / 25  # the noise is measured in blocks this share of the short side
SURE_DARKNESS = 0.5  # ...or, whatever Sauvola says, darker than this (the middle of a stroke wider than its window)
INK_DARKNESS = 0.65  # ...and, whatever the noise, darker than this: no paper is (a thick stroke inflates its blocks' noise)
LINE_CHROMA = 0.2  # a light pixel this colourful (max - min channel over max) is a printed line
LINE_DARKNESS = 0.45  # ...if lighter than this (pen ink is darker)
LINE_ANGLES = 6.0  # lines are sought within this many degrees of horizontal and vertical
LINE_SHARE = 0.4  # a line is inked along at least this share of the image's width...
LINE_EXTENT = 0.75  # ...from end to end across at least this share of it...
LINE_COUNT = 2  # ...with at least one more like it: paper has many; one long stroke may be a digit's 1...
EDGE_TO_EDGE = 0.95  # ...but a line across this share of the image is one (a margin line, a page's edge)
LINE_GAP = 1 / 60  # lines are at least this share of the short side apart
CROSSING = 2  # a removed line pixel with ink this close above and below (across the line) is a stroke's
MIN_HEIGHT = 0.05  # a digit is at least this share of the short side tall...
MAX_HEIGHT = 0.9  # ...and at most this
MAX_FILL = 0.6  # a piece inking more of its box than this is a blot, not a digit
MIN_FILL = 0.02  # ...less than this is a faint line or a frame
NEAR = 0.25  # pieces within this share of the digit's height of its box belong to it...
UNION_WIDTH = 1.2  # ...if the whole is at most this many times as wide as it is tall (two digits side by side are not)
SPECK = 0.02  # ...and they hold at least this share of its ink...
THIN = 0.35  # ...and their strokes are at least this share of its stroke's width (not a printed line's remnant)
MIN_STROKE = 0.12  # strokes thinner than this share of the digit's height are widened to it
DOUBTFUL = 0.6  # a second piece scoring this share of the best makes the choice doubtful


@dataclass(frozen=True)
class PhotoSteps:
    """Every step from a photo to the digit's ink, in the working grid (the input reduced by `factor`).

    grey:      (h, w) float32 in [0, 1], the photo's luminance, dark ink on light paper (inverted
               when the ink was light: `dark_ink` False).
    flattened: (h, w) float32 in [0, 1]: grey divided by the paper's brightness; paper ~1, ink lower.
    found:     (h, w) bool: the local threshold's ink (lines, specks and shadows' edges included).
    lines:     (h, w) bool: the part of `found` taken for printed lines and removed.
    chosen:    (h, w) float32 in [0, 1]: the digit's ink only, 1 = full ink; all zeros when none.
    box:       (top, left, bottom, right) of `chosen`'s ink, or None when no piece is digit-like.
    others:    the boxes of the other digit-like pieces, likeliest first.
    factor:    input pixels per working pixel (an integer >= 1).
    dark_ink:  True when the ink is darker than the paper.
    doubtful:  None, or one line saying why the choice of the digit is doubtful.
    cleaned:   (h, w) float32 in [0, 1]: all the ink once the lines are removed, less the pieces
               touching the image's edge (a page's border, a shadow's): a number's digits.
    """

    grey: np.ndarray
    flattened: np.ndarray
    found: np.ndarray
    lines: np.ndarray
    chosen: np.ndarray
    box: Box | None
    others: tuple[Box, ...]
    factor: int
    dark_ink: bool
    doubtful: str | None = None
    cleaned: np.ndarray | None = None


def working_grey(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int]:
    """An (H, W), (H, W, 3) or (H, W, 4) uint8 or float image -> (grey, chroma, factor).

    grey: (h, w) float32 luminance in [0, 1] (Rec. 601 weights), the image area-averaged by
    the integer `factor` so that the short side is about WORK_SIDE (never enlarged); a fully
    transparent pixel counts as white paper. chroma: (h, w) float32 (max - min) / max of the
    channels, or None for grey images.
    """
    array = np.asarray(image)
    factor = max(1, round(min(array.shape[:2]) / WORK_SIDE))
    if array.dtype != np.uint8:
        scale = np.iinfo(array.dtype).max if np.issubdtype(array.dtype, np.integer) else 1.0
        array = np.round(np.clip(np.nan_to_num(array.astype(np.float32) / scale), 0, 1) * 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 4:  # transparency: composite over white paper
        alpha = array[:, :, 3:].astype(np.float32) / 255
        array = np.round(array[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    # Pillow's integer reduction (a box average) channel by channel: importing a 12-megapixel RGB
    # array into Pillow whole took 60 ms (it repacks to 4 bytes a pixel), one channel at a time 10.
    channels = [array] if array.ndim == 2 else [array[:, :, c] for c in range(3)]
    if factor > 1:
        channels = [np.asarray(Image.fromarray(np.ascontiguousarray(c)).reduce(factor)) for c in channels]
    channels = [c.astype(np.float32) * np.float32(1 / 255) for c in channels]
    if len(channels) == 1:
        return channels[0], None, factor
    red, green, blue = channels
    grey = 0.299 * red + 0.587 * green + 0.114 * blue
    top = np.maximum(np.maximum(red, green), blue)
    bottom = np.minimum(np.minimum(red, green), blue)
    return grey, (top - bottom) / np.maximum(top, 1 / 255), factor


def _coarse(grey: np.ndarray, side: int = COARSE_SIDE) -> tuple[np.ndarray, int]:
    """grey (h, w) float32 area-averaged by an integer k to a short side of about `side`; (copy, k)."""
    k = max(1, min(grey.shape) // side)
    h, w = grey.shape[0] // k * k, grey.shape[1] // k * k
    return grey[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3)), k


def _upsample(coarse: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A coarse (a, b) float32 map bilinearly stretched over `shape` (h, w)."""
    # Pillow's bilinear resize of a float image: 2 ms where scipy.ndimage.zoom took 20
    return np.asarray(Image.fromarray(coarse.astype(np.float32), "F").resize(shape[::-1], Image.BILINEAR))


def _spread(values: np.ndarray) -> float:
    """The noise's standard deviation in values (h, w) float32, robustly: 1.4826 x the median absolute
    deviation, over every 4th pixel each way (the median of all of them costs 4 ms a call)."""
    sample = values[::4, ::4]
    return 1.4826 * float(np.median(np.abs(sample - np.median(sample))))


def dark_ink(grey: np.ndarray) -> bool:
    """Whether the ink in grey (h, w) float32 [0, 1] is darker than the paper.

    Strokes are thin: where the ink is dark, a grey closing (wider than a stroke) fills them in
    and the black top-hat (closing - grey) lights them up; light ink shows in the white top-hat
    (grey - opening). A shadow's edge or a darker rim is a step, wide, and shows in neither.
    Only what stands out by SURE_CONTRAST counts (a squared page's light cells between faint
    lines are bright blobs in the white top-hat, but faint). An image mostly light (three quarters
    of it above mid-grey) is paper with dark ink: a shadow's wavy edge has bright bumps too. Only
    on a darker one (a blackboard, white strokes on black) do the two weigh. Scans: `_scan_dark_ink`.
    The border is not consulted: a digit that fills its frame reads the same as one with a margin.
    """
    if min(grey.shape) < SCAN_SIDE:
        return _scan_dark_ink(grey)
    small, _ = _coarse(grey, POLARITY_SIDE)
    size = max(3, round(CLOSING * min(small.shape)))
    black = ndimage.grey_closing(small, size=size) - small
    white = small - ndimage.grey_opening(small, size=size)
    strong = max(SURE_CONTRAST, 3 * (_spread(black) + _spread(white)))
    if float(np.percentile(small, 75)) >= 0.5:  # mostly light: paper, dark ink (a shadow's bumps are no ink)
        return True
    return bool(np.clip(black - strong, 0, None).sum() >= np.clip(white - strong, 0, None).sum())


def _scan_dark_ink(grey: np.ndarray) -> bool:
    """Whether a scan's ink (grey (h, w) float32, short side < SCAN_SIDE) is darker than its paper.

    Split at Otsu's threshold, a side with less than 50 - 100 x CLEAR_MINORITY % of the pixels
    is the ink. A digit that fills its frame may ink about half of it, though: then the side in
    fewer 8-connected pieces is (a digit is one piece, or two, while the paper around a digit
    that touches the frame is cut into several, and holes); on a tie, the smaller side.
    """
    low = grey < threshold_otsu(grey)
    share = float(low.mean())
    if abs(share - 0.5) > CLEAR_MINORITY:
        return share < 0.5
    pieces = [ndimage.label(side, structure=np.ones((3, 3), bool))[1] for side in (low, ~low)]
    if pieces[0] != pieces[1]:
        return pieces[0] < pieces[1]
    return share <= 0.5


def flatten(grey: np.ndarray) -> np.ndarray:
    """Divide out the paper's brightness: grey (h, w) float32, dark ink -> (h, w) float32 in [0, 2]
    (the paper about 1; above it, its noise).

    The paper's brightness is a grey closing (a maximum, then a minimum) of a coarse copy: dark
    strokes narrower than the closing vanish in it, while a shadow or a darker rim, larger, stays.
    A scan's paper is its 90th percentile.
    """
    if min(grey.shape) < SCAN_SIDE:
        paper = np.float32(max(np.percentile(grey, 90), 1e-3))
    else:
        coarse, _ = _coarse(grey)
        paper = np.maximum(_upsample(ndimage.grey_closing(coarse, size=max(3, round(CLOSING * min(coarse.shape))), mode="nearest"), grey.shape), 1e-3)
    return np.clip(grey / paper, 0.0, 2.0).astype(np.float32)  # above 1: the noise above the paper, kept for `paper_level`


def find(flattened: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ink of a flattened image (h, w) float32: (sure, faint, flattened again), (h, w) bool, bool,
    float32 in [0, 1]: the paper's remaining unevenness (`paper_level`) divided out as well.

    sure: Sauvola's local threshold where the pixel is also darker than MIN_DARKNESS and than
    the paper's noise, and all that is darker than SURE_DARKNESS (inside a stroke wider than the
    window, Sauvola's local mean is the ink's own), and all darker than INK_DARKNESS whatever the
    noise (a thick stroke inflates its blocks' noise). faint: all darker than FAINT_DARKNESS and the
    noise (a pencil's or a thin pen's light stretches, a printed line), a superset of `sure`.
    `hysteresis` keeps the faint ink joined to sure ink.
    """
    darkness = 1.0 - flattened
    if min(flattened.shape) < SCAN_SIDE:  # a scan: one paper level, so one threshold (Otsu's)
        flattened = np.minimum(flattened, 1.0)
        darkness = 1.0 - flattened
        if np.ptp(darkness) < MIN_DARKNESS:
            return np.zeros(darkness.shape, bool), np.zeros(darkness.shape, bool), flattened
        otsu = threshold_otsu(darkness)
        paper = darkness[darkness <= otsu]  # its noise, measured on the paper alone (ink may be half)
        noise = 1.4826 * float(np.median(np.abs(paper - np.median(paper))))
        ink = darkness > max(otsu, MIN_DARKNESS, NOISE_SIGMAS * noise)
        return ink, ink, flattened
    level, noise = paper_level(flattened)
    flattened = np.minimum(flattened / level, 1.0)  # the noise above the paper was kept for the medians
    darkness = 1.0 - flattened
    floor = np.maximum(MIN_DARKNESS, NOISE_SIGMAS * noise)
    window = max(15, 2 * int(SAUVOLA_WINDOW * min(flattened.shape) / 2) + 1)
    sure = (((flattened < sauvola(flattened, window)) & (darkness > floor))
            | (darkness > np.clip(floor, SURE_DARKNESS, INK_DARKNESS)))
    return sure, sure | (darkness > np.maximum(FAINT_DARKNESS, FAINT_SIGMAS * noise)), flattened


def paper_level(flattened: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What is left of the paper's light after `flatten`, place by place: (level, noise), each
    (h, w) float32, from flattened (h, w) float32 in blocks of NOISE_BLOCK of the short side.

    level: the blocks' medians (a 3x3 median of them, so that a block mostly inked takes its
    neighbours'), within 1 +- LEVEL_RANGE (a thick stroke's blocks are no paper), stretched
    bilinearly; the closing's maximum sits a little above the paper, the more so where dividing
    out a shadow amplified the noise. noise: 1.4826 x the blocks'
    median absolute deviation, over the level. Ink is sparse in a block: the medians are the paper's.
    """
    k = max(4, int(NOISE_BLOCK * min(flattened.shape)))
    h, w = flattened.shape[0] // k * k, flattened.shape[1] // k * k
    blocks = flattened[:h, :w].reshape(h // k, k, w // k, k).transpose(0, 2, 1, 3).reshape(h // k, w // k, k * k)
    centre = np.median(blocks, axis=2)
    spread = 1.4826 * np.median(np.abs(blocks - centre[:, :, None]), axis=2)
    level = np.clip(ndimage.median_filter(centre, size=3, mode="nearest"), 1 - LEVEL_RANGE, 1 + LEVEL_RANGE)
    level = level.astype(np.float32)
    return _upsample(level, flattened.shape), _upsample((spread / level).astype(np.float32), flattened.shape)


def hysteresis(sure: np.ndarray, faint: np.ndarray) -> np.ndarray:
    """The 8-connected pieces of faint (h, w) bool that hold a pixel of sure (h, w) bool: (h, w) bool.
    (`skimage.filters.apply_hysteresis_threshold` does this from a grey image and two levels.)"""
    labels, count = ndimage.label(faint, structure=np.ones((3, 3), bool))
    keep = np.zeros(count + 1, bool)
    keep[labels[sure & faint]] = True
    keep[0] = False
    return keep[labels]


def sauvola(image: np.ndarray, window: int, k: float = SAUVOLA_K) -> np.ndarray:
    """Sauvola's threshold of image (h, w) float32: (h, w) float32, mean * (1 + k (sd - 1)) over a
    window x window square, as `skimage.filters.threshold_sauvola` gives for floats (its R is 1).

    Written here because scikit-image's version (integral images in float64) took 35 ms on a
    600x800 image, scipy's separable uniform filters in float32 take 8; they agree to 1e-6 (1e-2 at the edge).
    """
    mean = ndimage.uniform_filter(image, window, mode="mirror")
    square = ndimage.uniform_filter(image * image, window, mode="mirror")
    sd = np.sqrt(np.maximum(square - mean * mean, 0))
    return mean * (1 + k * (sd - 1))


def _line_bands(mask: np.ndarray, axis: int) -> np.ndarray:
    """Pixels of mask (h, w) bool on printed lines within LINE_ANGLES of horizontal (axis 0) or
    vertical (axis 1): straight, inked along LINE_SHARE of the image and across LINE_EXTENT of it,
    and at least LINE_COUNT of them (a digit's long stroke is one) unless one runs EDGE_TO_EDGE.
    Returns (h, w) bool.

    The lines come from scikit-image's Hough transform; each is as thick as the band of offsets
    around it where the mask is mostly set along the line.
    """
    if axis == 1:
        return _line_bands(mask.T, 0).T
    h, w = mask.shape
    angles = np.deg2rad(np.linspace(90 - LINE_ANGLES, 90 + LINE_ANGLES, int(8 * LINE_ANGLES) + 1))
    votes, theta, rho = hough_line(mask, theta=angles)
    threshold = LINE_SHARE * w
    if votes.max() < threshold:
        return np.zeros_like(mask)
    gap = max(3, int(LINE_GAP * min(h, w)))
    _, found_theta, found_rho = hough_line_peaks(votes, theta, rho, min_distance=gap, min_angle=len(angles),
                                                threshold=threshold, num_peaks=200)
    bands = np.zeros_like(mask)
    count = 0
    columns = np.arange(w)
    for t, r in zip(found_theta, found_rho):
        centre = (r - columns * np.cos(t)) / np.sin(t)  # x cos t + y sin t = r
        offsets = np.arange(-4, 5)
        rows = np.round(centre[None, :] + offsets[:, None]).astype(int)
        inside = (rows >= 0) & (rows < h)
        hits = np.where(inside, mask[np.clip(rows, 0, h - 1), columns[None, :]], False)
        along = hits.sum(axis=1)
        inked = np.flatnonzero(hits.any(axis=0))
        if inked.size == 0 or along.max() < threshold or inked[-1] - inked[0] < LINE_EXTENT * w:
            continue
        thick = along >= 0.35 * along.max()
        middle = int(np.argmax(along))
        lo, hi = middle, middle
        while lo > 0 and thick[lo - 1]:
            lo -= 1
        while hi < len(offsets) - 1 and thick[hi + 1]:
            hi += 1
        band = rows[lo : hi + 1]
        keep = inside[lo : hi + 1]
        bands[band[keep], np.broadcast_to(columns, band.shape)[keep]] = True
        count += LINE_COUNT if inked[-1] - inked[0] >= EDGE_TO_EDGE * w else 1
    return bands & mask if count >= LINE_COUNT else np.zeros_like(mask)


def _crossings(ink: np.ndarray, removed: np.ndarray, axis: int) -> np.ndarray:
    """The removed line pixels (h, w) bool where a stroke of `ink` (h, w) bool crosses the line:
    ink within CROSSING + the line's thickness on both sides across it (axis 0: a horizontal line)."""
    before = np.zeros_like(ink)
    after = np.zeros_like(ink)
    reach = CROSSING + 4
    for shift in range(1, reach + 1):
        if axis == 0:
            before[shift:] |= ink[:-shift]
            after[:-shift] |= ink[shift:]
        else:
            before[:, shift:] |= ink[:, :-shift]
            after[:, :-shift] |= ink[:, shift:]
    return removed & before & after


def remove_lines(found: np.ndarray, darkness: np.ndarray, chroma: np.ndarray | None) -> np.ndarray:
    """The pixels of found (h, w) bool that are printed lines: (h, w) bool.

    By colour: light (darkness (h, w) float32 below LINE_DARKNESS), colourful (chroma (h, w)
    above LINE_CHROMA) and not beside darker ink: a blue rule or a red margin, not a pen stroke. By shape: straight runs
    across much of the image (`_line_bands`), less where a stroke crosses them.
    """
    lines = np.zeros_like(found)
    if chroma is not None:  # a coloured pen's own light edges are next to its dark middle: kept
        pale = found & (darkness < LINE_DARKNESS)
        beside_ink = ndimage.maximum_filter((found & ~pale).view(np.uint8), size=5).view(bool)
        lines = pale & (chroma > LINE_CHROMA) & ~beside_ink
    if min(found.shape) < SCAN_SIDE:
        return lines
    rest = found & ~lines
    horizontal = _line_bands(rest, 0)
    vertical = _line_bands(rest, 1)
    straight = horizontal | vertical
    kept = rest & ~straight
    straight &= ~(_crossings(kept, horizontal, 0) | _crossings(kept, vertical, 1))
    return lines | straight


def _pieces(ink: np.ndarray, short: int) -> tuple[np.ndarray, int]:
    """Connected pieces of ink (h, w) bool, strokes a little apart joined (a pen's gaps, a removed
    line's): (labels (h, w) int32, count)."""
    reach = max(1, int(0.006 * short))
    joined = ndimage.maximum_filter(ink.view(np.uint8), size=2 * reach + 1)  # a square dilation, separable
    labels, count = ndimage.label(joined, structure=np.ones((3, 3), bool))
    return np.where(ink, labels, 0), count


def choose(ink: np.ndarray, near: tuple[float, float] | None = None
           ) -> tuple[np.ndarray, Box | None, tuple[Box, ...], str | None]:
    """The digit among the pieces of ink (h, w) bool.

    Each piece (`_pieces`) that is digit-like (MIN_HEIGHT..MAX_HEIGHT of the short side tall,
    inking MIN_FILL..MAX_FILL of its box) scores its ink mass, halved when it touches the
    image's edge (a page's border, a corner's shadow) and weighted down with its distance from
    the centre. The best is the digit, joined by the pieces within NEAR of its height of its box
    (a 5's top bar, a stroke cut by a removed line) while the whole stays digit-shaped and their
    strokes are not much thinner than its (THIN: the remnants of faint printed lines are a pixel wide).
    near: (row, col) as shares of the height and width, where a person pointed: the digit is
    then the digit-like piece whose box holds that point (else the nearest), never doubtful.
    Returns (mask (h, w) bool, box or None, the other candidates' boxes, a doubt or None).
    """
    h, w = ink.shape
    short = min(h, w)
    if short < SCAN_SIDE:
        box = bounding_box(ink)
        return ink, box, (), None
    labels, count = _pieces(ink, short)
    if count == 0:
        return ink & False, None, (), None
    slices = ndimage.find_objects(labels)
    mass = ndimage.sum_labels(ink, labels, np.arange(1, count + 1))
    scores = np.zeros(count)
    for i, (rows, cols) in enumerate(slices):
        if rows is None:
            continue
        height, width = rows.stop - rows.start, cols.stop - cols.start
        fill = mass[i] / (height * width)
        if not (MIN_HEIGHT * short <= height <= MAX_HEIGHT * short and width <= MAX_HEIGHT * max(h, w)
                and MIN_FILL <= fill <= MAX_FILL and width < 3 * height):
            continue
        edge = _touches_edge((rows, cols), h, w)
        centre = np.hypot((rows.start + rows.stop) / 2 / h - 0.5, (cols.start + cols.stop) / 2 / w - 0.5)
        scores[i] = np.sqrt(mass[i]) * (0.5 if edge else 1.0) * (1.0 - centre)
    if scores.max() <= 0:
        return ink & False, None, (), None
    order = np.argsort(-scores)
    best = int(order[0]) if near is None else _nearest(slices, scores, (near[0] * h, near[1] * w))
    members, (top, left, bottom, right) = [best], _slice_box(slices[best])
    width = stroke_width(labels[slices[best]] == best + 1)
    for i in np.argsort(-mass):  # the pieces beside it, largest first, while the whole stays digit-shaped
        s = slices[i]
        if i == best or s is None or mass[i] < SPECK * mass[best] or _touches_edge(s, h, w):
            continue
        reach = NEAR * (bottom - top)
        near = (s[0].start < bottom + reach and s[0].stop > top - reach
                and s[1].start < right + reach and s[1].stop > left - reach)
        union = (min(top, s[0].start), min(left, s[1].start), max(bottom, s[0].stop), max(right, s[1].stop))
        shaped = union[3] - union[1] <= UNION_WIDTH * (union[2] - union[0]) and union[2] - union[0] <= MAX_HEIGHT * short
        if near and shaped and stroke_width(labels[s] == i + 1) >= THIN * width:
            members.append(int(i))
            top, left, bottom, right = union
    mask = np.isin(labels, np.asarray(members) + 1)
    others = [int(i) for i in order if scores[i] > 0 and i not in members]
    boxes = tuple(_slice_box(slices[i]) for i in others)
    doubt = None
    if near is None and others and scores[others[0]] >= DOUBTFUL * scores[best]:
        doubt = f"{len(others) + 1} marks here could be the digit; reading the likeliest."
    return mask, bounding_box(mask), boxes, doubt


def _nearest(slices, scores: np.ndarray, point: tuple[float, float]) -> int:
    """The index of the digit-like piece (scores > 0) whose box (slices[i]) holds point (row, col)
    in pixels, or else whose box is nearest to it."""
    def distance(i: int) -> float:
        rows, cols = slices[i]
        return float(np.hypot(max(rows.start - point[0], 0, point[0] - rows.stop),
                              max(cols.start - point[1], 0, point[1] - cols.stop)))
    return min(np.flatnonzero(scores > 0), key=lambda i: (distance(int(i)), -scores[i]))


def _touches_edge(s, h: int, w: int) -> bool:
    """Whether the piece at slices s = (rows, cols) touches the edge of an (h, w) image."""
    return s[0].start == 0 or s[1].start == 0 or s[0].stop == h or s[1].stop == w


def _slice_box(s) -> Box:
    return int(s[0].start), int(s[1].start), int(s[0].stop), int(s[1].stop)


def graded_ink(darkness: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The digit's ink with its anti-aliased edges: darkness (h, w) float32 (1 - flattened) where
    mask (h, w) bool is the digit, or within 2 pixels of it, above twice the paper's noise and scaled so the
    darkest tenth of the digit is full ink. Returns (h, w) float32 in [0, 1]."""
    if not mask.any():
        return np.zeros(darkness.shape, np.float32)
    level = max(float(np.percentile(darkness[mask], 90)), MIN_DARKNESS)
    floor = min(2 * _spread(darkness), level / 2)
    near = ndimage.maximum_filter(mask.view(np.uint8), size=5).view(bool)  # a 5x5 dilation, separable: 4x faster
    return np.where(near, np.clip((darkness - floor) / (level - floor), 0, 1), 0).astype(np.float32)


def thicken(ink: np.ndarray, mask: np.ndarray, box: Box) -> np.ndarray:
    """A pen's thin strokes widened to at least MIN_STROKE of the digit's height, as the networks
    learned them (MNIST's pens, the canvas's brush): ink (h, w) float32 grey-dilated by a disc.
    mask (h, w) bool is the digit, box its bounding box; the stroke width is its area over the
    length of its centre line (`ink.stroke_width`)."""
    top, left, bottom, right = box
    if min(ink.shape) < SCAN_SIDE:  # a scan's strokes are as its pen made them at that size
        return ink
    solid = mask[top:bottom, left:right]
    width = stroke_width(solid)
    radius = (MIN_STROKE * max(bottom - top, right - left) - width) / 2
    if radius < 0.5:
        return ink
    reach = int(round(radius))
    # Only around the digit (its ink lies within 2 pixels of its box): the whole grid took 36 ms.
    rows = slice(max(0, top - reach - 3), bottom + reach + 3)
    cols = slice(max(0, left - reach - 3), right + reach + 3)
    widened = ink.copy()
    widened[rows, cols] = ndimage.grey_dilation(ink[rows, cols], footprint=disk(reach))
    return widened


def find_ink(image, near: tuple[float, float] | None = None) -> PhotoSteps:
    """A photo or scan (H, W), (H, W, 3) or (H, W, 4), uint8 or float in [0, 1] -> its `PhotoSteps`.
    near: where a person pointed at the digit, (row, col) as shares of the height and width (`choose`).

    Deterministic. A median 106-109 ms for a 12-megapixel photo on this project's machine (a
    quarter of it reducing it to the working grid, a quarter finding the lines); see `mnist_core.evaluation.bench`.
    """
    grey, chroma, factor = working_grey(image)
    sample = grey[::2, ::2] if grey.size > 10_000 else grey
    if np.ptp(np.percentile(sample, [0.1, 99.9])) < MIN_DARKNESS:  # one colour all over: no ink at all
        blank = np.zeros(grey.shape, bool)
        return PhotoSteps(grey, np.ones_like(grey), blank, blank, np.zeros_like(grey), None, (), factor, True,
                          None, np.zeros_like(grey))
    dark = dark_ink(grey)
    if not dark:
        grey = 1.0 - grey
    sure, faint, flattened = find(flatten(grey))
    darkness = 1.0 - flattened
    found = hysteresis(sure, faint)
    lines = remove_lines(faint, darkness, chroma) & found  # sought on all the faint ink: lines show whole there
    kept = hysteresis(sure & ~lines, faint & ~lines)
    mask, box, others, doubt = choose(kept, near)
    if box is not None:
        chosen = thicken(graded_ink(darkness, mask), mask, box)
    else:
        chosen = np.zeros(grey.shape, np.float32)
    return PhotoSteps(grey, flattened, found, lines, chosen, box, others, factor, dark, doubt,
                      graded_ink(darkness, _inside(kept)) if kept.any() else np.zeros_like(chosen))


def _inside(ink: np.ndarray) -> np.ndarray:
    """ink (h, w) bool less its 8-connected pieces that touch the image's edge (small scans: all of it)."""
    if min(ink.shape) < SCAN_SIDE:
        return ink
    labels, count = ndimage.label(ink, structure=np.ones((3, 3), bool))
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return ink & ~np.isin(labels, edge[edge > 0])
