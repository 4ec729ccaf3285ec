"""Real pen-drawn digits (UCI pendigits, 30 writers) drawn as the app's canvas would receive them.

    >>> digits = load_pendigits()                     # 7,494 trajectories, labels, writers
    >>> images = render(digits.trajectories, seed=0)  # (7494, 28, 28) float32, MNIST form
    >>> for train, test in writer_folds(digits.writers):  # whole writers held out
    ...     ...

The digits were written with a stylus on a tablet (see ../shared/pendigits/README.md). `render`
redraws each one on a 280x280 canvas the way a person would with the app: at a random size and
place, with a round brush of a random width, a slightly shaky mouse and a little slant, then reads
it through the project's own `preprocess`. Train and measure on different writers (`writer_folds`):
a writer's digits look alike, so a model that has seen the writer is not measured on strangers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..imaging.preprocess import preprocess
from ..pen.strokes import canvas_rgba, render_strokes
from .data import DataUnavailable

ENV_VAR = "PENDIGITS_DATA"
FILE_NAME = "pendigits_train.npz"
DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "pendigits"
TABLET = 500  # tablet units: x, y in 0..500

CANVAS = 280
HEIGHTS = (90.0, 250.0)  # digit height on the canvas, px
WIDTHS = (8.0, 30.0)  # brush width, px (the app's default is 18)
SLANT = 0.25  # horizontal shear, up to this many widths per height either way
ROTATION = 8.0  # degrees either way
SHAKE = 0.015  # smooth random displacement, up to this fraction of the height (1 sd)
SPACING = (2.0, 12.0)  # canvas px between resampled points (a slow to a fast mouse)
# Training also draws them fast: a stroke of a few straight segments, as small fast digits are
TRAIN_SPACING = (2.0, 30.0)


class PendigitsUnavailable(DataUnavailable):
    """The pendigits file is not where it was looked for; the message says where and how to fix it."""


@dataclass(frozen=True)
class Pendigits:
    """Pen trajectories with their labels and writers.

    trajectories: N digits, each a list of strokes (pen-down to pen-up), each a (K, 2) float32
                  array of (x, y) in tablet units 0..500, y pointing *down* as on a canvas.
    labels:       (N,) uint8, digits 0..9.
    writers:      (N,) uint8, who wrote each digit, 1..30.
    """

    trajectories: list
    labels: np.ndarray
    writers: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index) -> Pendigits:
        """The digits at `index` (an int array, e.g. one half of a `writer_folds` fold)."""
        index = np.asarray(index)
        return Pendigits([self.trajectories[i] for i in index], self.labels[index], self.writers[index])


def _locate(path, env_var: str = ENV_VAR, file_name: str = FILE_NAME, default_dir: Path = DEFAULT_DIR,
            what: str = "pendigits") -> Path:
    """The npz file: `path`, else $`env_var`, else `default_dir`; a folder means the file named
    `file_name` in it."""
    origin = "path" if path is not None else env_var if os.environ.get(env_var) else "default folder"
    path = Path(os.fspath(path if path is not None else os.environ.get(env_var) or default_dir)).expanduser()
    file = path / file_name if path.is_dir() else path
    if not file.is_file():
        raise PendigitsUnavailable(f"{what} data not found: {origin} {str(file)!r} is no file; "
                                   f"set {env_var} to {file_name} or the folder holding it.")
    return file


def _read(file: Path, writer_offset: int = 0) -> Pendigits:
    """A pen-trajectory npz in pendigits' layout (points, stroke, offsets, labels, writer; y up)."""
    with np.load(file, allow_pickle=False) as z:
        points, stroke, offsets = z["points"], z["stroke"], z["offsets"]
        labels, writers = z["labels"].astype(np.uint8), (z["writer"].astype(np.int64) + writer_offset).astype(np.uint8)
    xy = np.stack([points[:, 0], TABLET - points[:, 1]], axis=1).astype(np.float32)  # y down
    trajectories = []
    for start, end in zip(offsets[:-1], offsets[1:]):
        cuts = np.flatnonzero(np.diff(stroke[start:end])) + 1
        trajectories.append(np.split(xy[start:end], cuts))
    return Pendigits(trajectories, labels, writers)


def load_pendigits(path: str | os.PathLike | None = None) -> Pendigits:
    """Read pendigits_train.npz (see `_locate` for where it is looked for): 30 writers, #1-30.

    Returns a `Pendigits` with y flipped to point down. Raises PendigitsUnavailable (a
    `mnist_core.datasets.data.DataUnavailable`) when there is no file.
    """
    return _read(_locate(path))


UJI_ENV_VAR, UJI_FILE_NAME = "UJI_DATA", "uji_digits.npz"
UJI_DIR = DEFAULT_DIR.parent / "uji"
UJI_WRITER_OFFSET = 100  # UJI's writers 1-60 become #101-160, apart from pendigits' #1-30


def load_uji(path: str | os.PathLike | None = None) -> Pendigits:
    """Read UJI Pen Characters' 1,200 digits (60 writers in Spain on a Tablet PC; ../shared/uji/
    or $UJI_DATA) in pendigits' layout, writers numbered 101-160. Raises PendigitsUnavailable."""
    return _read(_locate(path, UJI_ENV_VAR, UJI_FILE_NAME, UJI_DIR, "UJI"), UJI_WRITER_OFFSET)


POPULATIONS = {"pendigits": load_pendigits, "uji": load_uji}  # real pen drawings, one population each


def load_populations(names=tuple(POPULATIONS)) -> dict[str, Pendigits]:
    """{name: Pendigits} for each named population of real pen drawings."""
    return {name: POPULATIONS[name]() for name in names}


def concatenate(parts) -> Pendigits:
    """Several `Pendigits` as one (their writer numbers are distinct: see UJI_WRITER_OFFSET)."""
    parts = list(parts)
    return Pendigits([t for p in parts for t in p.trajectories], np.concatenate([p.labels for p in parts]),
                     np.concatenate([p.writers for p in parts]))


def writer_folds(writers: np.ndarray, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-writers-out folds: writers (N,) ints -> k pairs of (train_idx, test_idx) int arrays.

    The distinct writers are shuffled (seeded) and dealt into k groups of near-equal size; fold j
    tests on every digit of group j and trains on all the others, so each writer is in exactly
    one test half and never on both sides of a fold.
    """
    writers = np.asarray(writers)
    people = np.random.default_rng(seed).permutation(np.unique(writers))
    folds = []
    for group in np.array_split(people, k):
        held = np.isin(writers, group)
        folds.append((np.flatnonzero(~held), np.flatnonzero(held)))
    return folds


def _resample(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """A (K, 2) polyline resampled every `spacing` units of arc length, both ends kept."""
    length = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))])
    if length[-1] == 0:
        return stroke[:1]
    t = np.linspace(0, length[-1], max(2, int(round(length[-1] / spacing)) + 1))
    return np.stack([np.interp(t, length, stroke[:, 0]), np.interp(t, length, stroke[:, 1])], axis=1)


def _shake(stroke: np.ndarray, rng: np.random.Generator, amount: float, step: float) -> np.ndarray:
    """Add a smooth random displacement to a (K, 2) polyline: normal noise of sd `amount` at knots
    `step` apart along the stroke, linearly interpolated between them."""
    length = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))])
    knots = np.linspace(0, length[-1], max(2, int(length[-1] / step) + 2))
    noise = rng.normal(0, amount, (len(knots), 2))
    return stroke + np.stack([np.interp(length, knots, noise[:, j]) for j in (0, 1)], axis=1)


def canvas_strokes(strokes: list, rng: np.random.Generator, heights=HEIGHTS, widths=WIDTHS, spacing=SPACING):
    """One digit's strokes (list of (K, 2) float, any units, y down) as drawn on the canvas.

    Slant and rotation about the digit's centre, scale to a height drawn from `heights` px
    (aspect kept, shrunk if it would be wider than the canvas), resampling every 2-12 px and a
    smooth shake of up to 1.5 % of the height, then a random place on the canvas with the brush
    inside it. Returns (list of (K', 2) float64 canvas px, brush width px).
    """
    points = np.concatenate(strokes)
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, height = (lo + hi) / 2, max(hi[1] - lo[1], 1.0)
    angle = np.deg2rad(rng.uniform(-ROTATION, ROTATION))
    shear = rng.uniform(-SLANT, SLANT)
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    transform = rotate @ np.array([[1.0, -shear], [0.0, 1.0]])  # x -= shear * y: top leans right
    width = rng.uniform(*widths)
    target = rng.uniform(*heights)
    moved = [(s - centre) / height @ transform.T for s in strokes]  # unit height, centred
    span = np.ptp(np.concatenate(moved), axis=0)
    scale = min(target, (CANVAS - width - 2) / max(span.max(), 1e-6))
    spacing, amount = rng.uniform(*spacing), rng.uniform(0, SHAKE) * target
    drawn = [_shake(_resample(s * scale, spacing), rng, amount, 0.25 * target) for s in moved]
    points = np.concatenate(drawn)
    lo, hi = points.min(axis=0) - width / 2, points.max(axis=0) + width / 2
    offset = rng.uniform(-lo, np.maximum(CANVAS - hi, -lo))
    return [s + offset for s in drawn], width


def render(trajectories: list, seed: int = 0, copies: int = 1, heights=HEIGHTS, widths=WIDTHS,
           spacing=SPACING) -> np.ndarray:
    """Draw digits on a 280x280 canvas as a person would with the app, then `preprocess` them.

    trajectories: N digits, each a list of (K, 2) float strokes, y down (`Pendigits.trajectories`).
    copies:       variants per digit, each with its own size, brush, place, slant and shake.
    spacing:      (low, high) canvas px between the points each stroke is resampled at.
    Returns (N * copies, 28, 28) float32 in [0, 1], white digit on black; the copies of digit i
    are rows i * copies ... i * copies + copies - 1, so the labels are `np.repeat(labels, copies)`.
    Deterministic for a given seed. Speed: 1-2 ms a digit, all 7,494 once in 7-15 s on
    one core (the Pillow drawing and `preprocess` of the 280x280 canvas take most of it).
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((len(trajectories) * copies, 28, 28), np.float32)
    for i, strokes in enumerate(trajectories):
        for c in range(copies):
            drawn, width = canvas_strokes(strokes, rng, heights, widths, spacing)
            ink = render_strokes(drawn, (CANVAS, CANVAS), width)
            out[i * copies + c] = preprocess(canvas_rgba(ink)).image
    return out


HOLDOUT_FOLDS = 3  # a third of the writers (10 of 30): the numbers reader's scoring writers (`composed`)


def split_writers(writers: np.ndarray, fold: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices): fold `fold` of
    `writer_folds(writers, k=HOLDOUT_FOLDS, seed=0)`, whole writers on each side."""
    return writer_folds(writers, k=HOLDOUT_FOLDS, seed=0)[fold]
