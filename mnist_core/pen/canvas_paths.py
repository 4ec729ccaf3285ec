"""The drawing canvas's vector data (fabric.js JSON) as pen strokes, and back.

streamlit-drawable-canvas 0.13 (fabric.js 7.4) sends its drawing as `json_data`: fabric's
`canvas.toObject()`, whose "objects" hold one "Path" per freehand stroke:

    {"type": "Path", "left": 151.5, "top": 90.25, "width": 83, "height": 120.5,
     "originX": "center", "originY": "center", "scaleX": 1, "scaleY": 1, "angle": 0,
     "flipX": false, "flipY": false, "skewX": 0, "skewY": 0, "strokeWidth": 20,
     "strokeUniform": false, "stroke": "#FFFFFF", "fill": null, "visible": true,
     "path": [["M", 110, 30.98], ["Q", 110, 31, 111, 32.5], ..., ["L", 193.02, 151]]}

How fabric lays such a path out (its `Path` and `FabricObject` classes):

* The pencil (`PencilBrush.convertPointsToSVGPath`) turns the pointer positions p0..pn into
  "M" p0 (nudged by width/1000 against the direction of travel), then for each pair a "Q" whose
  control point is p_i and whose end point is the midpoint of p_i and p_i+1, and a last "L" to pn
  (nudged forward). Its coordinates are absolute canvas pixels where the stroke was drawn.
* The path's own coordinates are drawn relative to `pathOffset`, the centre of the path's
  bounding box (`_calcBoundsFromPath`: a "Q" counts as the cubic with both control points at
  the Q's control point; not serialised, recomputed on load).
* The object's matrix is translate(centre) . rotate(angle) . scale(scaleX or -scaleX with
  flipX, ...) . skewX . skewY, where the centre is (left, top) moved from the origin
  (originX/originY, "center" by default in fabric 7) by the object's transformed size,
  (width + strokeWidth) x scale, rotated by the angle.

So a canvas point is matrix @ (path point - pathOffset). An untouched stroke has its centre at
pathOffset and the identity matrix: its points are where the pen went. A stroke moved, scaled or
rotated with the canvas toolbar's edit toggle comes out where it is shown.

    strokes = strokes_from_fabric(result.json_data["objects"])   # [(K, 2) x, y arrays]
    width = brush_width(result.json_data["objects"], default=20)
    objects = fabric_from_strokes(strokes, width)                # what the canvas would send
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np

SPACING = 2.0  # canvas pixels between the points sampled along a curve
_ORIGIN = {"left": -0.5, "top": -0.5, "center": 0.0, "bottom": 0.5, "right": 0.5}


MAX_OBJECTS = 300  # strokes on one canvas: a 12-digit number takes about 40
MAX_COMMANDS = 60_000  # path commands in all of them: a slow two-second stroke takes about 200
MAX_DATA_URL = 4_000_000  # characters of the canvas's PNG data URL (an 800x280 RGBA PNG is under 1.3 MB of base64)


def drawing_problem(value) -> str | None:
    """Why `value`, what the canvas component sent ({"drawing": {"raw": {"objects": [...]},
    "data": "data:image/png;base64,..." or None}}, or None for nothing yet), cannot be a drawing,
    in one line; None when it can. The browser sends it, and a client can send anything: the
    shape is checked and the sizes bounded (MAX_OBJECTS, MAX_COMMANDS, MAX_DATA_URL) before
    anything reads the points, in time proportional to MAX_OBJECTS at most.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return "not a canvas value"
    drawing = value.get("drawing")
    if drawing is None:
        return None
    if not isinstance(drawing, Mapping):
        return "its drawing is not an object"
    data = drawing.get("data")
    if data is not None and not (isinstance(data, str) and data.startswith("data:image/png;base64,")):
        return "its picture is not a PNG data URL"
    if data is not None and len(data) > MAX_DATA_URL:
        return f"its picture is over {MAX_DATA_URL // 1_000_000} million characters"
    raw = drawing.get("raw")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return "its strokes are not an object"
    objects = raw.get("objects")
    if objects is None:
        return None
    if not isinstance(objects, list):
        return "its strokes are not a list"
    if len(objects) > MAX_OBJECTS:
        return f"{len(objects):,} strokes (at most {MAX_OBJECTS})"
    if not all(isinstance(o, Mapping) for o in objects):
        return "a stroke is not an object"
    commands = sum(len(o["path"]) if isinstance(o.get("path"), list) else 0 for o in objects)
    if commands > MAX_COMMANDS:
        return f"{commands:,} path points (at most {MAX_COMMANDS:,})"
    return None


class FabricPathError(ValueError):
    """A canvas object that claims to be a path but cannot be read as one."""


def _number(obj: Mapping, key: str, default: float) -> float:
    value = obj.get(key, default)
    if value is None:
        return default
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise FabricPathError(f"path object field {key!r} is not a number: {value!r}") from None
    if not math.isfinite(value):
        raise FabricPathError(f"path object field {key!r} is not finite: {value!r}")
    return value


def _origin(value, default: str = "center") -> float:
    if isinstance(value, (int, float)):  # fabric also takes a number: 0 = left, 1 = right
        return float(value) - 0.5
    value = default if value is None else value
    if value not in _ORIGIN:
        raise FabricPathError(f"unknown origin {value!r}")
    return _ORIGIN[value]


def _is_path(obj) -> bool:
    return isinstance(obj, Mapping) and str(obj.get("type", "")).lower() == "path"


def _commands(path) -> list[list]:
    """A path's commands as absolute [letter, numbers...] lists (fabric keeps them absolute)."""
    if not isinstance(path, (list, tuple)):
        raise FabricPathError(f"a path must be a list of commands, got {type(path).__name__}")
    arity = {"M": 2, "L": 2, "Q": 4, "C": 6, "Z": 0}
    commands = []
    for command in path:
        if not isinstance(command, (list, tuple)) or not command or command[0] not in arity:
            raise FabricPathError(f"unsupported path command {command!r} (expected M, L, Q, C or Z)")
        letter, numbers = command[0], command[1:]
        if len(numbers) != arity[letter]:
            raise FabricPathError(f"path command {letter} takes {arity[letter]} numbers, got {command!r}")
        try:
            values = [float(v) for v in numbers]
        except (TypeError, ValueError):
            raise FabricPathError(f"path command with a non-number: {command!r}") from None
        if not all(math.isfinite(v) for v in values):
            raise FabricPathError(f"path command with a non-finite number: {command!r}")
        commands.append([letter, *values])
    return commands


_LINE, _QUAD, _CUBIC, _CLOSE = 0, 1, 2, 3


def _segments(commands: Sequence[Sequence]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A path's drawn segments as one table (parsed in one pass, computed on in numpy).

    Returns kinds (N,) int (_LINE for "L", _QUAD, _CUBIC, _CLOSE for "Z"); controls (N, 4, 2):
    start, two control points and end of each segment (a "Q"'s control point twice, a line's
    ends twice); and (sub-path index (N,), each sub-path's start point (S, 2)) in `subpaths`.
    """
    kinds, rows, owner, starts = [], [], [], []
    x = y = sx = sy = 0.0
    for command in commands:
        letter = command[0]
        if letter == "M":
            x, y = sx, sy = command[1], command[2]
            starts.append((x, y))
            continue
        if not starts:  # drawing before any "M" starts at the origin, as in a canvas
            starts.append((x, y))
        if letter == "L":
            kinds.append(_LINE)
            rows.append((x, y, x, y, command[1], command[2], command[1], command[2]))
            x, y = command[1], command[2]
        elif letter == "Q":
            kinds.append(_QUAD)
            rows.append((x, y, command[1], command[2], command[1], command[2], command[3], command[4]))
            x, y = command[3], command[4]
        elif letter == "C":
            kinds.append(_CUBIC)
            rows.append((x, y, *command[1:7]))
            x, y = command[5], command[6]
        else:  # "Z"
            kinds.append(_CLOSE)
            rows.append((x, y, x, y, sx, sy, sx, sy))
            x, y = sx, sy
        owner.append(len(starts) - 1)
    controls = np.asarray(rows, float).reshape(-1, 4, 2)
    return np.asarray(kinds, int), controls, (np.asarray(owner, int), np.asarray(starts, float).reshape(-1, 2))


def _bezier(controls: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of cubic Beziers (N, 4, 2) at parameters t (N,) or (N, M): (N, 2) or (N, M, 2)."""
    t = t[..., None]
    u = 1 - t
    p0, p1, p2, p3 = (controls[:, i] if t.ndim == 2 else controls[:, None, i] for i in range(4))
    return u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3


def path_bounds(commands: Sequence[Sequence]) -> tuple[np.ndarray, np.ndarray]:
    """A path's bounding box as fabric computes it (`Path._calcBoundsFromPath`): a "Q" is
    bounded as the cubic with both control points at its control point (its ends and turning
    points), an "L" adds its end and its sub-path's start, "M" and "Z" nothing by themselves.
    Returns ((left, top), (right, bottom)); zeros for a path that draws nothing."""
    kinds, controls, (owner, starts) = _segments(commands)
    lines = kinds == _LINE
    points = [starts[owner[lines]], controls[lines, 3]]
    curves = controls[(kinds == _QUAD) | (kinds == _CUBIC)]
    if len(curves):
        p0, p1, p2, p3 = (curves[:, i] for i in range(4))
        a, b, c = -p0 + 3 * p1 - 3 * p2 + p3, 2 * (p0 - 2 * p1 + p2), p1 - p0  # the derivative / 3
        with np.errstate(divide="ignore", invalid="ignore"):
            root = np.sqrt(b * b - 4 * a * c)
            flat = np.abs(a) < 1e-12
            t1 = np.where(flat, -c / b, (-b + root) / (2 * a))
            t2 = np.where(flat, np.nan, (-b - root) / (2 * a))
        ts = np.concatenate([np.zeros((len(curves), 1)), np.ones((len(curves), 1)), t1, t2], axis=1)  # (N, 6)
        ts = np.where((ts >= 0) & (ts <= 1), ts, 0.0)  # turning points outside the curve: its start instead
        points.append(_bezier(curves, ts).reshape(-1, 2))
    points = np.concatenate(points)
    if not len(points):
        return np.zeros(2), np.zeros(2)
    return points.min(axis=0), points.max(axis=0)


def path_offset(commands: Sequence[Sequence]) -> np.ndarray:
    """fabric's `pathOffset`: the centre of the path's bounding box (`path_bounds`), (x, y)."""
    low, high = path_bounds(commands)
    return (low + high) / 2


def _sample(commands: Sequence[Sequence], spacing: float) -> list[np.ndarray]:
    """Points along each sub-path that draws something, in the path's own coordinates: its
    start, every line's end, and points about `spacing` apart along each curve."""
    kinds, controls, (owner, starts) = _segments(commands)
    if not len(kinds):
        return []
    curve = (kinds == _QUAD) | (kinds == _CUBIC)
    cubic = controls.copy()
    quad = kinds == _QUAD  # a quadratic as the cubic it is: controls 2/3 of the way to its control point
    cubic[quad, 1] = controls[quad, 0] + 2 / 3 * (controls[quad, 1] - controls[quad, 0])
    cubic[quad, 2] = controls[quad, 3] + 2 / 3 * (controls[quad, 2] - controls[quad, 3])
    length = np.linalg.norm(np.diff(controls, axis=1), axis=2).sum(axis=1)
    counts = np.where(curve, np.maximum(1, np.ceil(length / spacing)), 1).astype(int)
    which = np.repeat(np.arange(len(kinds)), counts)
    step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    points = _bezier(cubic[which], step / counts[which])
    return [np.vstack([starts[s], points[owner[which] == s]]) for s in np.unique(owner)]


def object_matrix(obj: Mapping) -> np.ndarray:
    """The 2x3 affine matrix taking a path object's own coordinates (already less its
    pathOffset) to canvas pixels: fabric's `calcOwnMatrix`. Raises FabricPathError on bad fields."""
    scale_x, scale_y = _number(obj, "scaleX", 1.0), _number(obj, "scaleY", 1.0)
    angle = math.radians(_number(obj, "angle", 0.0))
    skew_x, skew_y = math.radians(_number(obj, "skewX", 0.0)), math.radians(_number(obj, "skewY", 0.0))
    linear = np.diag([-scale_x if obj.get("flipX") else scale_x, -scale_y if obj.get("flipY") else scale_y])
    linear = linear @ np.array([[1.0, math.tan(skew_x)], [0.0, 1.0]]) @ np.array([[1.0, 0.0], [math.tan(skew_y), 1.0]])
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    # the centre: (left, top) moved from the object's origin by its transformed size, rotated
    stroke = _number(obj, "strokeWidth", 1.0)
    width, height = _number(obj, "width", 0.0), _number(obj, "height", 0.0)
    uniform = bool(obj.get("strokeUniform"))
    box = np.array([width, height]) + (0 if uniform else stroke)
    corners = np.array([[0, 0], [1, 0], [0, 1], [1, 1]]) * box
    size = np.ptp(corners @ linear.T, axis=0) if (skew_x or skew_y) else box * [scale_x, scale_y]
    size = size + (stroke if uniform else 0)
    shift = np.array([-_origin(obj.get("originX")), -_origin(obj.get("originY"))]) * size
    centre = np.array([_number(obj, "left", 0.0), _number(obj, "top", 0.0)]) + rotation @ shift
    matrix = np.zeros((2, 3))
    matrix[:, :2] = rotation @ linear
    matrix[:, 2] = centre
    return matrix


def strokes_from_fabric(objects: Iterable[Mapping] | Mapping | None, spacing: float = SPACING) -> list[np.ndarray]:
    """The freehand strokes of a drawable canvas as pen paths in canvas pixels.

    objects: `json_data["objects"]` of `st_canvas` (a whole `json_data` dict is accepted too);
             objects that are not paths (rectangles, text, ...) and invisible ones are skipped.
    spacing: canvas pixels between the points sampled along the curves.
    Returns one (K, 2) float array of x, y points (y down) per sub-path ("M"), in drawing order;
    [] for None or an empty canvas. Each object's position, scale, rotation, flip and skew (from
    the canvas's edit toggle) are applied, so the points are where the stroke is shown.
    Raises FabricPathError (a ValueError) for a path object that cannot be read: unknown
    commands, missing or non-numeric fields.
    """
    if objects is None:
        return []
    if isinstance(objects, Mapping):
        objects = objects.get("objects") or []
    strokes = []
    for obj in objects:
        if not _is_path(obj) or obj.get("visible") is False:
            continue
        commands = _commands(obj.get("path"))
        if not commands:
            continue
        matrix = object_matrix(obj)
        offset = path_offset(commands)
        for points in _sample(commands, spacing):
            canvas = (points - offset) @ matrix[:, :2].T + matrix[:, 2]
            keep = np.concatenate([[True], np.any(np.abs(np.diff(canvas, axis=0)) > 1e-9, axis=1)])
            strokes.append(canvas[keep])
    return strokes


def brush_width(objects: Iterable[Mapping] | Mapping | None, default: float) -> float:
    """The brush width the paths were drawn with, in canvas pixels: the median of their
    strokeWidth (times the geometric mean of their scale, unless strokeUniform); `default`
    when there are no paths."""
    if objects is None:
        return float(default)
    if isinstance(objects, Mapping):
        objects = objects.get("objects") or []
    widths = []
    for obj in objects:
        if not _is_path(obj) or obj.get("visible") is False:
            continue
        width = _number(obj, "strokeWidth", default)
        if not obj.get("strokeUniform"):
            width *= math.sqrt(abs(_number(obj, "scaleX", 1.0) * _number(obj, "scaleY", 1.0)))
        widths.append(width)
    return float(np.median(widths)) if widths else float(default)


def pencil_path(points: np.ndarray, width: float) -> list[list]:
    """The path commands fabric's pencil makes of pointer positions (`convertPointsToSVGPath`):
    "M" at the first point nudged back by width/1000, a "Q" per point to the midpoint of the
    next, an "L" to the last point nudged forward."""
    points = np.asarray(points, float)
    if len(points) == 1:
        points = np.vstack([points, points])
    nudge = width / 1000
    first, second = points[0], points[1]
    if len(points) > 2:
        direction = np.sign(points[2] - second)
    else:
        direction = np.zeros(2)
    commands = [["M", *(first - direction * nudge)]]
    current, following = first, second
    for h in range(1, len(points)):
        if not np.array_equal(current, following):
            middle = (current + following) / 2
            commands.append(["Q", current[0], current[1], middle[0], middle[1]])
        current = points[h]
        if h + 1 < len(points):
            following = points[h + 1]
    if len(points) > 2:
        direction = np.sign(current - points[-2])
    commands.append(["L", *(current + direction * nudge)])
    return [[c[0], *(round(float(v), 3) for v in c[1:])] for c in commands]


def fabric_from_strokes(strokes: Sequence[np.ndarray], width: float, colour: str = "#FFFFFF") -> list[dict]:
    """Path objects as the canvas sends them for strokes drawn with the pencil at these pointer
    positions ((K, 2) x, y in canvas pixels): for tests and examples. Each object is untouched
    (centred on its path's bounding box, origin "center", no transform), as fabric 7 makes it."""
    objects = []
    for stroke in strokes:
        commands = pencil_path(stroke, width)
        low, high = path_bounds(commands)
        offset, size = (low + high) / 2, high - low
        objects.append({
            "type": "Path", "version": "7.4.0", "originX": "center", "originY": "center",
            "left": float(offset[0]), "top": float(offset[1]), "width": float(size[0]), "height": float(size[1]),
            "fill": None, "stroke": colour, "strokeWidth": float(width), "strokeLineCap": "round",
            "strokeLineJoin": "round", "strokeUniform": False, "scaleX": 1, "scaleY": 1, "angle": 0,
            "flipX": False, "flipY": False, "skewX": 0, "skewY": 0, "opacity": 1, "visible": True,
            "path": commands,
        })
    return objects
