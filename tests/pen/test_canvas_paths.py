"""mnist_core.pen.canvas_paths: the drawable canvas's fabric.js paths as pen strokes.

The fixtures in tests/data were sent by the real canvas (streamlit-drawable-canvas 0.13,
fabric.js 7.4.0, 840x280, brush 20) in headless Chromium, with its PNG of the same moment:
fabric_drawn.*  three strokes drawn with the mouse: a curve, a near-flat line, a click (dot);
fabric_edited.* the curve loaded as `initial_drawing` four times with the transforms the
                 toolbar's edit toggle can give: scaled 0.6 x 1.2; rotated 35 degrees; origin
                 left/top, scaled 0.8 and rotated -20 degrees; flipped, skewed 15 degrees and
                 scaled 0.7 x 0.9.
The strokes are checked against where fabric itself drew them.
"""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from mnist_core.pen.canvas_paths import (FabricPathError, brush_width, fabric_from_strokes, path_offset, pencil_path,
    strokes_from_fabric)
from mnist_core.datasets.drawn import HAND
from mnist_core.pen.strokes import render_strokes
from mnist_core.reading.numbers import read_strokes, segment_strokes

DATA = Path(__file__).resolve().parents[1] / "data"


def fixture(name):
    """(json_data, canvas ink (280, 840) float32 in [0, 1]) of a captured canvas."""
    drawing = json.loads((DATA / f"fabric_{name}.json").read_text())
    png = np.asarray(Image.open(DATA / f"fabric_{name}.png"))
    return drawing, png[..., 0].astype(np.float32) / 255  # white ink on opaque black


def where_drawn(ink):
    """Centre of mass and (top, left, bottom, right) of the ink above half."""
    rows, cols = np.nonzero(ink > 0.5)
    return np.array(ndimage.center_of_mass(ink)), np.array([rows.min(), cols.min(), rows.max(), cols.max()])


def test_strokes_drawn_with_the_mouse_are_where_the_canvas_drew_them():
    drawing, canvas = fixture("drawn")
    strokes = strokes_from_fabric(drawing["objects"])
    assert len(strokes) == 3 and all(s.ndim == 2 and s.shape[1] == 2 for s in strokes)
    curve, line, dot = strokes
    # path coordinates are absolute canvas pixels: the pen's first and last positions
    np.testing.assert_allclose(curve[0], [99.98, 39.98]) and np.testing.assert_allclose(curve[-1], [268.02, 214.02])
    assert len(curve) > 60  # the Q segments are sampled (about 2 px apart), not just their end points
    assert np.median(np.linalg.norm(np.diff(curve, axis=0), axis=1)) < 2.5
    assert np.ptp(dot, axis=0).max() < 0.1  # a click is a dot
    ink = render_strokes(strokes, canvas.shape, brush_width(drawing, 0)) > 0.5
    real = canvas > 0.5
    assert (ink & real).sum() / (ink | real).sum() > 0.9  # measured 0.93
    for obj, stroke in zip(drawing["objects"], strokes):
        mine = render_strokes([stroke], canvas.shape, 20.0)
        near = ndimage.binary_dilation(mine > 0.1, iterations=12)
        (centre, box), (real_centre, real_box) = where_drawn(mine), where_drawn(canvas * near)
        assert np.abs(centre - real_centre).max() < 1.5 and np.abs(box - real_box).max() <= 2, obj["left"]


@pytest.mark.parametrize("index, what", [(0, "scaled"), (1, "rotated"), (2, "origin left/top, rotated"),
                                         (3, "flipped and skewed")])
def test_edited_strokes_are_where_the_canvas_shows_them(index, what):
    drawing, canvas = fixture("edited")
    obj = drawing["objects"][index]
    mine = render_strokes(strokes_from_fabric([obj]), canvas.shape, brush_width([obj], 0))
    near = ndimage.binary_dilation(mine > 0.1, iterations=12)
    (centre, box), (real_centre, real_box) = where_drawn(mine), where_drawn(canvas * near)
    # fabric scales the pen with the object (an elliptical pen for 0.6 x 1.2); a round one here
    assert np.abs(centre - real_centre).max() < 4, (what, centre, real_centre)
    assert np.abs(box - real_box).max() <= 4, (what, box, real_box)


def test_edited_drawing_as_a_whole():
    drawing, canvas = fixture("edited")
    ink = render_strokes(strokes_from_fabric(drawing), canvas.shape, brush_width(drawing, 0)) > 0.5
    real = canvas > 0.5
    assert (ink & real).sum() / (ink | real).sum() > 0.72  # measured 0.76: the elliptical pens


def test_untouched_object_is_centred_on_its_path():
    """fabric 7 places a new path with origin "center" on its bounds' centre (pathOffset), so
    left/top equal pathOffset and nothing moves; `fabric_from_strokes` makes the same."""
    drawing, _ = fixture("drawn")
    for obj in drawing["objects"]:
        np.testing.assert_allclose(path_offset(obj["path"]), [obj["left"], obj["top"]], atol=0.02)
    strokes = [np.asarray(s) * 150 + [40, 60] for s in HAND[5][1]]
    for obj in fabric_from_strokes(strokes, 18):
        np.testing.assert_allclose(path_offset(obj["path"]), [obj["left"], obj["top"]])


def test_pencil_path_is_what_fabric_makes():
    """The first captured stroke's pointer positions are its Q control points; rebuilding the
    path from them gives the commands the canvas sent."""
    drawing, _ = fixture("drawn")
    sent = drawing["objects"][0]["path"]
    pointer = np.array([c[1:3] for c in sent if c[0] == "Q"] + [[268, 214]])
    rebuilt = pencil_path(pointer, 20)
    assert [c[0] for c in rebuilt] == [c[0] for c in sent]
    np.testing.assert_allclose(np.concatenate([c[1:] for c in rebuilt]), np.concatenate([c[1:] for c in sent]),
                               atol=1e-6)


def distance_to_polyline(points, line):
    """Each point's distance to the polyline `line` (K, 2)."""
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(((points[:, None] - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    return np.linalg.norm(points[:, None] - (a + t[..., None] * ab), axis=2).min(axis=1)


def test_round_trip_follows_the_pen():
    """Strokes -> fabric objects -> strokes: the result follows the pointer positions (fabric's
    pencil smooths corners through midpoints: about 1 px at 8 px spacing)."""
    for digit in range(10):
        strokes = [np.asarray(s) * 200 + [40, 40] for s in HAND[digit][0]]
        dense = [np.vstack([np.linspace(a, b, max(2, int(np.linalg.norm(b - a) / 8) + 1))[:-1]
                            for a, b in zip(s[:-1], s[1:])] + [s[-1:]]) for s in strokes]
        back = strokes_from_fabric(fabric_from_strokes(dense, 20))
        assert len(back) == len(dense)
        for original, read in zip(dense, back):
            np.testing.assert_allclose(read[0], original[0], atol=0.05)
            np.testing.assert_allclose(read[-1], original[-1], atol=0.05)
            gaps = distance_to_polyline(read, original)
            assert gaps.max() < 2, (digit, gaps.max())  # measured at most 1.05 px over every HAND style


def test_read_strokes_segments_fabric_paths_like_the_strokes():
    strokes = [np.asarray(s) * 150 + [x0, 60] for x0, d in ((20, 2), (170, 0), (320, 2), (470, 6))
               for s in HAND[d][0]]
    objects = fabric_from_strokes(strokes, 18)
    direct = [s.box for s in segment_strokes(strokes, 18).segments]
    via = [s.box for s in segment_strokes(strokes_from_fabric(objects), brush_width(objects, 0)).segments]
    assert len(via) == 4
    assert np.abs(np.array(via) - np.array(direct)).max() <= 3

    def zero(images):
        p = np.full((len(images), 10), 0.01, np.float32)
        p[:, 0] = 0.91
        return p

    assert read_strokes(strokes_from_fabric(objects), zero, brush_width(objects, 0)).number == "0000"


def test_what_is_not_a_path_is_skipped():
    drawing, _ = fixture("drawn")
    objects = copy.deepcopy(drawing["objects"])
    objects[1]["visible"] = False
    objects.append({"type": "Rect", "left": 10, "top": 10, "width": 50, "height": 50})
    objects.append({"type": "LabeledRect", "left": 10, "top": 10, "width": 50, "height": 50, "label": "x"})
    assert len(strokes_from_fabric(objects)) == 2
    assert strokes_from_fabric(None) == [] and strokes_from_fabric([]) == [] and strokes_from_fabric({}) == []
    assert len(strokes_from_fabric(drawing)) == 3  # the whole json_data works too
    assert brush_width([], 17) == 17 and brush_width(None, 17) == 17


def test_brush_width_follows_the_objects():
    drawing, _ = fixture("drawn")
    assert brush_width(drawing, 5) == 20
    scaled = copy.deepcopy(drawing["objects"])
    for obj in scaled:
        obj["scaleX"], obj["scaleY"] = 2, 2
    assert brush_width(scaled, 5) == pytest.approx(40)
    scaled[0]["strokeUniform"] = True
    assert brush_width(scaled[:1], 5) == 20


@pytest.mark.parametrize("path, says", [
    ("M 0 0 L 10 10", "must be a list of commands"),
    ([["A", 1, 1, 0, 0, 1, 5, 5]], "unsupported path command"),
    ([["M", 1, 2], ["Q", 1, 2, 3]], "Q takes 4 numbers"),
    ([["M", "a", 2]], "non-number"),
    ([["M", float("nan"), 2]], "non-finite"),
])
def test_a_bad_path_says_what_is_wrong(path, says):
    obj = {"type": "Path", "left": 0, "top": 0, "width": 10, "height": 10, "path": path}
    with pytest.raises(FabricPathError, match=says):
        strokes_from_fabric([obj])
    with pytest.raises(ValueError):  # FabricPathError is a ValueError
        strokes_from_fabric([{**obj, "path": [["M", 0, 0], ["L", 1, 1]], "scaleX": "big"}])


def test_drawing_problem_passes_real_values_and_names_forged_ones():
    from mnist_core.pen.canvas_paths import MAX_OBJECTS, drawing_problem

    stroke = fabric_from_strokes([np.array([[10.0, 10.0], [100.0, 200.0]])], 20)[0]
    real = {"drawing": {"raw": {"objects": [stroke] * 5}, "data": "data:image/png;base64,iVBORw0KGgo="}}
    assert drawing_problem(real) is None and drawing_problem(None) is None
    assert drawing_problem({"drawing": {"raw": {"objects": []}, "data": None}}) is None
    assert drawing_problem([real]) == "not a canvas value"
    assert drawing_problem({"drawing": {"raw": {"objects": {"a": 1}}}}) == "its strokes are not a list"
    assert drawing_problem({"drawing": {"raw": {"objects": [stroke] * (MAX_OBJECTS + 1)}}}).startswith("301 strokes")
    assert drawing_problem({"drawing": {"raw": {"objects": [1]}}}) == "a stroke is not an object"
    assert "path points" in drawing_problem({"drawing": {"raw": {"objects": [{"path": [["L", 1, 1]] * 70_000}]}}})
    assert drawing_problem({"drawing": {"data": 5}}) == "its picture is not a PNG data URL"
