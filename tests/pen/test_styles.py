"""mnist_core.pen.styles: each handwriting style is drawn on its own digit only, really has its
feature (the 7's bar, the 1's flag and foot, the 9's bent tail, the 4's open top), and the
restyled training digits are in MNIST form and seeded."""

import numpy as np
import pytest
from scipy import ndimage

from mnist_core.pen.strokes import redraw, skeleton
from mnist_core.pen.styles import PAD, STYLES, draw_styles, restyle

N = 40  # digits of each class


@pytest.fixture(scope="module")
def digits(mnist):
    """N training digits of every class, their labels and brush widths (fractions of the height)."""
    index = np.concatenate([np.flatnonzero(mnist.y_train == d)[:N] for d in range(10)])
    widths = np.random.default_rng(0).uniform(0.08, 0.2, len(index))
    return mnist.x_train[index], mnist.y_train[index], widths


def of(digits, digit):
    images, labels, widths = digits
    return images[labels == digit], widths[labels == digit]


def styled_and_plain(digits, name, seed=0):
    images, widths = of(digits, STYLES[name][0])
    return draw_styles(images, widths, [name] * len(images), np.random.default_rng(seed)), redraw(images, widths)


def extent(image, rows) -> int:
    """Width in pixels of the ink (> 0.5) of a (28, 28) image in rows (start, stop) counted from
    the top of its ink, or from just below its bottom when negative ((-3, 0): the last three)."""
    ink = image > 0.5
    on = np.flatnonzero(ink.any(axis=1))
    origin = on[0] if rows[0] >= 0 else on[-1] + 1
    band = ink[origin + rows[0]:origin + rows[1]]
    cols = np.flatnonzero(band.any(axis=0))
    return int(np.ptp(cols)) + 1 if cols.size else 0


def test_the_registry_names_a_style_for_each_misread_digit():
    assert {digit for digit, _ in STYLES.values()} == {1, 4, 7, 9}
    assert all(callable(style) for _, style in STYLES.values())


def test_restyle_styles_only_its_classes_and_leaves_the_rest_plain_redraw(digits):
    images, labels, widths = digits
    out, names = restyle(images, labels, widths, np.random.default_rng(1), fraction=1.0, return_names=True)
    assert out.shape == (len(images), 28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1 and out.max(axis=(1, 2)).min() == pytest.approx(1.0)
    plain = redraw(images, widths)
    concerned = np.isin(labels, [1, 4, 7, 9])
    np.testing.assert_array_equal(out[~concerned], plain[~concerned])
    assert (names[~concerned] == "").all() and (names[concerned] != "").all()
    for name, (digit, _) in STYLES.items():  # every style used, each only on its own digit
        assert (labels[names == name] == digit).all() and (names == name).sum() >= 5, name
    changed = np.abs(out - plain).max(axis=(1, 2)) > 0.5
    assert changed[concerned].mean() > 0.8  # a few digits have no part the style can find


def test_restyle_styles_about_the_fraction_asked_and_is_seeded(digits):
    images, labels, widths = digits
    out, names = restyle(images, labels, widths, np.random.default_rng(2), fraction=0.3, return_names=True)
    share = (names[np.isin(labels, [1, 4, 7, 9])] != "").mean()
    assert 0.18 < share < 0.42
    again = restyle(images, labels, widths, np.random.default_rng(2), fraction=0.3)
    np.testing.assert_array_equal(out, again)
    assert not np.array_equal(out, restyle(images, labels, widths, np.random.default_rng(3), fraction=0.3))


def test_a_crossed_seven_has_a_bar_across_its_stem_at_mid_height(digits):
    styled, plain = styled_and_plain(digits, "crossed 7")
    # the widest row between 35 % and 70 % of the way down: a bar spans several stroke widths
    bar = np.array([max(extent(image, (r, r + 1)) for r in range(7, 14)) for image in styled])
    stem = np.array([max(extent(image, (r, r + 1)) for r in range(7, 14)) for image in plain])
    assert bar.mean() > stem.mean() + 3 and (bar >= stem).all() and (bar > stem).mean() > 0.75


def test_a_flagged_one_has_a_flag_at_the_top_and_a_foot_when_asked(digits):
    flagged, plain = styled_and_plain(digits, "flagged 1")
    footed, _ = styled_and_plain(digits, "flagged 1 with a foot")
    top = lambda images: np.array([extent(image, (0, 4)) for image in images])  # noqa: E731
    bottom = lambda images: np.array([extent(image, (-3, 0)) for image in images])  # noqa: E731
    assert top(flagged).mean() > top(plain).mean() + 2 and (top(flagged) > top(plain)).mean() > 0.75
    assert np.abs(bottom(flagged) - bottom(plain)).mean() < 1.5  # no foot
    assert bottom(footed).mean() > bottom(plain).mean() + 3 and (bottom(footed) > bottom(plain)).mean() > 0.8
    images, _ = of(digits, 1)
    rng = np.random.default_rng(0)
    for image in images[:10]:  # on the centre line: the flag goes down to the left from the top
        line = np.pad(skeleton(image / 255), PAD)
        flag = STYLES["flagged 1"][1](line, rng) & ~line
        rows, cols = np.nonzero(line)
        top, col = rows.min(), cols[rows == rows.min()].mean()
        flag_rows, flag_cols = np.nonzero(flag)
        assert flag_rows.min() >= top and flag_cols.max() <= col + 1 and flag_cols.min() < col - 5


def test_a_curly_nine_has_a_tail_bending_left_at_the_bottom(digits):
    styled, plain = styled_and_plain(digits, "curly 9")
    bottom = lambda images: np.array([extent(image, (-4, 0)) for image in images])  # noqa: E731
    assert bottom(styled).mean() > bottom(plain).mean() + 2 and (bottom(styled) > bottom(plain)).mean() > 0.65
    images, _ = of(digits, 9)
    rng = np.random.default_rng(0)
    for image in images[:10]:  # on the centre line: the tail ends left of where it leaves the loop
        line = np.pad(skeleton(image / 255), PAD)
        new = STYLES["curly 9"][1](line, rng)
        if new is None:
            continue
        rows, cols = np.nonzero(new)
        assert cols[rows >= rows.max() - 2].min() < cols.max() - 0.1 * np.ptp(rows)
        assert (ndimage.binary_fill_holes(new) & ~new).sum() >= 12  # the loop is kept


@pytest.mark.parametrize("name", ["open 4", "one-stroke 4"])
def test_a_styled_four_is_open_at_the_top(digits, name):
    """The arm and the stem do not meet at the top: the top 30 % of the centre line (above the
    bar) is in two pieces, and nothing is enclosed but a sliver; one-stroke 4s are one line."""
    images, _ = of(digits, 4)
    rng = np.random.default_rng(0)
    opened = 0
    for image in images:
        line = np.pad(skeleton(image / 255), PAD)
        new = STYLES[name][1](line, rng)
        if new is None:
            continue
        opened += 1
        rows = np.flatnonzero(new.any(axis=1))
        top = new[:rows[0] + int(0.3 * (rows[-1] - rows[0]))]
        assert ndimage.label(top, np.ones((3, 3)))[1] >= 2
        assert (ndimage.binary_fill_holes(new) & ~new).sum() < 12
        parts = ndimage.label(new, np.ones((3, 3)))[1]  # one stroke; or the arm and bar, and the stem
        assert parts == 1 if name == "one-stroke 4" else parts <= 2
    assert opened >= 0.8 * len(images)
