"""mnist_core.pen.strokes: brush geometry of render_strokes and trace, skeletons, and redraw keeping
what makes a digit that digit."""

import numpy as np
import pytest
from scipy import ndimage

from mnist_core.pen.strokes import add_flag, redraw, render_strokes, skeleton, trace


def test_a_line_has_ink_where_the_stroke_is_and_the_brush_width():
    ink = render_strokes([[(50, 100), (200, 100)]], size=(280, 280), width=20)
    assert ink.shape == (280, 280) and ink.dtype == np.float32
    assert set(np.unique(ink)) <= {0.0, 1.0}
    column = ink[:, 125]
    assert column[100] == 1 and column[91:110].all()  # the middle and within the radius
    assert abs(int(column.sum()) - 20) <= 2  # as wide as the brush
    assert not column[:88].any() and not column[113:].any()
    row = ink[100]
    on = np.flatnonzero(row)
    assert abs(on[0] - 40) <= 1 and abs(on[-1] - 210) <= 1  # round caps: the radius past each end


def test_size_is_height_then_width_and_points_are_x_then_y():
    ink = render_strokes([[(250, 40)]], size=(100, 300), width=10)
    assert ink.shape == (100, 300)
    assert ink[40, 250] == 1 and ink[250 % 100, 40] == 0
    rows, cols = np.nonzero(ink)
    assert abs(rows.mean() - 40) < 0.5 and abs(cols.mean() - 250) < 0.5


def test_a_dot_is_a_disc_of_the_brush_width():
    for width in (6, 20, 40):
        ink = render_strokes([np.array([[140.0, 140.0]])], width=width)
        across, down = ink[140].sum(), ink[:, 140].sum()
        assert abs(across - width) <= 1 and abs(down - width) <= 1  # Pillow's ellipse ends are inclusive
        assert ink.sum() == pytest.approx(np.pi * (across / 2) ** 2, rel=0.1)
        com = ndimage.center_of_mass(ink)
        assert np.allclose(com, (140, 140), atol=0.6)


def test_round_joins_leave_no_notch():
    """A sharp V: the outside of the corner is filled round (a disc at the joint)."""
    ink = render_strokes([[(60, 200), (140, 60), (220, 200)]], width=24)
    assert ink[60 - 11 : 60 + 12, 140].all()  # through the corner, the full brush width


def test_strokes_are_independent_and_empty_input_is_blank():
    a = render_strokes([[(40, 40), (100, 40)]])
    b = render_strokes([[(40, 200), (100, 240)]])
    both = render_strokes([[(40, 40), (100, 40)], [(40, 200), (100, 240)]])
    np.testing.assert_array_equal(both, np.maximum(a, b))
    assert not render_strokes([]).any()


def test_trace_draws_a_disc_of_the_radius_around_each_centre_point():
    centre = np.zeros((61, 61), bool)
    centre[30, 30] = True
    for radius in (3.0, 8.0, 15.0):
        disc = trace(centre, radius)
        assert disc.dtype == np.float32 and disc.max() == 1 and disc.min() == 0
        assert disc.sum() == pytest.approx(np.pi * radius**2, rel=0.05)  # the edge ramp is centred on the radius
        r = int(radius)
        assert disc[30, 30 + r - 1] == 1 and disc[30, 30 + r] == 0.5 and disc[30, 30 + r + 1] == 0
    assert not trace(np.zeros((5, 5), bool), 3).any()


def test_skeleton_is_a_thin_centre_line_inside_the_digit(mnist):
    for image in mnist.x_test[:20]:
        line = skeleton(image / 255, upsample=3)
        assert line.shape == (84, 84) and line.dtype == bool and line.any()
        big = ndimage.zoom(image / 255, 3, order=1)
        assert (big[line] > 0.4).all()  # on the ink
        # one pixel wide: no 2x2 block is all centre line
        blocks = line[:-1, :-1] & line[1:, :-1] & line[:-1, 1:] & line[1:, 1:]
        assert not blocks.any()
        assert line.sum() < (big > 0.4).sum() / 2


def test_redraw_shape_form_and_width(mnist):
    images = mnist.x_test[:40]
    thin = redraw(images, np.full(40, 0.06))
    thick = redraw(images, np.full(40, 0.25))
    assert thin.shape == (40, 28, 28) and thin.dtype == np.float32
    for out in (thin, thick):
        assert out.min() >= 0 and out.max() <= 1
        coms = np.array([ndimage.center_of_mass(im) for im in out])
        assert np.abs(coms - 14).max() <= 0.5 + 1e-6
    assert (thick.sum(axis=(1, 2)) > thin.sum(axis=(1, 2))).all()  # a wider brush, more ink
    np.testing.assert_array_equal(redraw(images, np.full(40, 0.06)), thin)  # deterministic


def test_redraw_keeps_the_shape_of_the_digit(mnist):
    """The redrawing overlaps the original: correlation with the MNIST digit (measured on these
    200: median 0.87, all above 0.59; another digit of the same place: median 0.29), far above its correlation with the next test digit."""
    images = mnist.x_test[:200]
    out = redraw(images, np.full(200, 0.15))
    original = images / 255
    same = np.array([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(out, original)])
    shuffled = np.array([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(out, np.roll(original, 1, axis=0))])
    assert np.median(same) > 0.8 and same.min() > 0.5
    assert np.median(same) > np.median(shuffled) + 0.3


def test_the_committed_lenet5_reads_redrawn_digits(committed, mnist):
    clf = committed("lenet5")
    images, labels = mnist.x_test[-300:], mnist.y_test[-300:]
    widths = np.random.default_rng(0).uniform(0.08, 0.25, 300)
    accuracy = (clf.classify_batch(redraw(images, widths)).argmax(axis=1) == labels).mean()
    assert accuracy >= 0.95


def test_add_flag_runs_down_left_from_the_top_of_a_vertical_stem():
    stem = np.zeros((60, 60), bool)
    stem[10:50, 40] = True
    flagged = add_flag(stem, length=20, angle=30)
    added = flagged & ~stem
    rows, cols = np.nonzero(added)
    assert stem.sum() == (flagged & stem).sum()  # the stem is kept
    assert rows.min() >= 10 and rows.max() == 10 + round(20 * np.sin(np.deg2rad(30)))  # from the top, down
    assert cols.max() <= 40 and cols.min() == 40 - round(20 * np.cos(np.deg2rad(30)))  # to the left
    assert np.array_equal(add_flag(stem, 0), stem)


def test_redraw_with_a_flag_adds_ink_at_the_top_left_of_a_one(mnist):
    ones = mnist.x_test[mnist.y_test == 1][:20]
    plain = redraw(ones, np.full(20, 0.12))
    flagged = redraw(ones, np.full(20, 0.12), flags=np.full(20, 0.35))
    top_left = (slice(4, 12), slice(4, 14))
    assert flagged[:, top_left[0], top_left[1]].sum() > 1.5 * plain[:, top_left[0], top_left[1]].sum()
