"""Plotly figures for the Numbers tab: the written number with each digit's box, and the 28x28
image each digit was read from. Like `app/figures.py`, they only lay out what `mnist_core`
computed (a `NumberReading`'s digits); the drawing travels as one PNG, not as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from app.figures import ACCENT, INK, MARK, _image_axes, _layout, mosaic, png_data_uri
from mnist_core.reading.numbers import DigitReading

LOW_CONFIDENCE = 0.5  # a digit read with less confidence than this is boxed in red


def digit_text(digit: DigitReading) -> str:
    """A digit as the figures label it: "7 · 98%"."""
    return f"{digit.label} · {digit.confidence:.0%}"


def box_colour(digit: DigitReading) -> str:
    return ACCENT if digit.confidence >= LOW_CONFIDENCE else MARK


def number_boxes(ink: np.ndarray, digits: Sequence[DigitReading], width: int = 800) -> go.Figure:
    """The drawing with each digit's box and, above it, what was read and how surely (`box_labels`).

    ink:    (H, W) float32 in [0, 1], 1 = ink: the canvas as drawn (shown as a PNG, at most
            1,000 px wide).
    digits: the reading's digits, left to right; `box` is (top, left, bottom, right) in `ink`'s
            pixels, exclusive ends. One rectangle shape and one label per digit, in that order.
    width:  the figure's width in pixels (its height follows the drawing's shape and the labels' band).
    Hovering a box's centre shows the digit, its confidence and its box.
    """
    rows, cols = ink.shape
    source, scale = png_data_uri(ink, max_side=1000)
    boxes = np.array([d.box for d in digits], float).reshape(-1, 4)
    centres_x, centres_y = (boxes[:, 1] + boxes[:, 3]) / 2, (boxes[:, 0] + boxes[:, 2]) / 2
    hover = [f"digit {k + 1}: {d.label}, {d.confidence:.1%} confident<br>rows {d.box[0]}-{d.box[2]}, "
             f"columns {d.box[1]}-{d.box[3]}" for k, d in enumerate(digits)]
    traces = [
        go.Image(source=source, dx=1 / scale, dy=1 / scale, hoverinfo="skip"),
        go.Scatter(x=centres_x, y=centres_y, mode="markers", marker=dict(size=18, opacity=0), hovertext=hover,
                   hovertemplate="%{hovertext}<extra></extra>"),
    ]
    labels, top = box_labels(digits, cols, width)
    x, y = _image_axes()
    layout = _layout(round(width * rows / cols) + top + 2, width=width + 4, margin=dict(l=2, r=2, t=top, b=2),
                     xaxis=dict(x, range=[-0.5, cols - 0.5]),
                     yaxis=dict(y, range=[rows - 0.5, -0.5], scaleanchor="x"))
    layout["shapes"] = [dict(type="rect", xref="x", yref="y", x0=d.box[1] - 0.5, x1=d.box[3] - 0.5,
                             y0=d.box[0] - 0.5, y1=d.box[2] - 0.5, line=dict(color=box_colour(d), width=2))
                        for d in digits]
    layout["annotations"] = labels
    return go.Figure(traces, layout)


def text_width(text: str, size: float) -> float:
    """An estimate of `text`'s width in pixels at font `size`: its longest line's characters x 0.6 em."""
    return max(len(line) for line in text.split("<br>")) * size * CHAR_EM


def box_labels(digits: Sequence[DigitReading], cols: int, width: float) -> tuple[list[dict], int]:
    """The label of each digit's box, in a band above a drawing `cols` pixels wide shown `width`
    pixels wide, centred over its box (moved in at the drawing's edges, not to be cut off):
    (Plotly annotations, in the digits' order; the band's height in pixels, the figure's top margin).

    The largest labels that do not run together, tried in order (`LABEL_STYLES`): the digit over
    its confidence, or the digit alone (its confidence is in the hover and under its 28x28 in
    `digit_inputs`), at 14, 12 or 10 px. Labels that still would overlap at the smallest size go
    on more rows, each label on the lowest row where it clears its neighbours.
    """
    scale = width / cols
    for lines, size in LABEL_STYLES:
        texts = [_label(d, lines) for d in digits]
        widths = [text_width(t, size) for t in texts]
        centres = [min(max(((d.box[1] + d.box[3]) / 2 + 0.5) * scale, w / 2), width - w / 2)  # pixels from the left
                   for d, w in zip(digits, widths)]
        rows = _rows(centres, widths)
        if max(rows, default=0) == 0:
            break
    line_height = round(size * LINE_EM)
    row_height = lines * line_height + 2
    annotations = [dict(text=text, x=centre / scale - 0.5, y=1, xref="x", yref="paper", yanchor="bottom",
                        yshift=2 + row * row_height, showarrow=False, font=dict(size=size, color=box_colour(d)))
                   for d, text, centre, row in zip(digits, texts, centres, rows)]
    return annotations, (max(rows, default=0) + 1) * row_height + 4


CHAR_EM = 0.6  # a character's width, in font sizes (an estimate: digits and "%" are about 0.55-0.8 em)
LINE_EM = 1.25  # a line's height, in font sizes
GAP_PX = 4  # the least space between two labels on a row
LABEL_STYLES = ((2, 14), (2, 12), (1, 14), (1, 12), (1, 10))  # (lines: 2 = digit over confidence, font px)


def _label(digit: DigitReading, lines: int) -> str:
    return f"{digit.label}<br>{digit.confidence:.0%}" if lines == 2 else str(digit.label)


def _rows(centres: Sequence[float], widths: Sequence[float]) -> list[int]:
    """Each label's row (0 = the lowest): the lowest row whose labels it clears by `GAP_PX`."""
    placed: list[list[tuple[float, float]]] = []
    rows = []
    for centre, width in zip(centres, widths):
        left, right = centre - width / 2, centre + width / 2
        for row, spans in enumerate(placed):
            if all(right + GAP_PX <= a or left >= b + GAP_PX for a, b in spans):
                break
        else:
            row = len(placed)
            placed.append([])
        placed[row].append((left, right))
        rows.append(row)
    return rows


def digit_inputs(digits: Sequence[DigitReading], tile_px: int = 72, columns: int = 13) -> go.Figure:
    """Each digit's 28x28 model input side by side, `tile_px` pixels each, at most `columns` to a
    row (hover: the digit, the pixel, its value), labelled with what was read: "7 · 98%"."""
    images = np.stack([d.image28 for d in digits], axis=-1).astype(np.float32)
    count = images.shape[-1]
    columns = min(columns, count)
    rows = -(-count // columns)
    gap = 1 if rows == 1 else 6
    z = mosaic(images, columns, gap)
    index = mosaic(np.broadcast_to(np.arange(1, count + 1, dtype=np.float32), images.shape), columns, gap)
    trace = go.Heatmap(z=z, customdata=index, colorscale=INK, zmin=0, zmax=1, showscale=False,
                       hovertemplate="digit %{customdata}<br>row %{y}, column %{x}<br>value %{z:.2f}<extra></extra>")
    x, y = _image_axes()
    layout = _layout(rows * (tile_px + 20) + 22, width=columns * (tile_px + 3) + 4, margin=dict(l=2, r=2, t=20, b=2),
                     xaxis=x, yaxis=dict(y, scaleanchor="x"))
    layout["annotations"] = [dict(text=digit_text(d), x=(k % columns) * 29 + 13.5, y=(k // columns) * (28 + gap) - 0.6,
                                  xref="x", yref="y", yanchor="bottom", showarrow=False,
                                  font=dict(size=12 if tile_px >= 64 else 10, color=box_colour(d)))
                             for k, d in enumerate(digits)]
    return go.Figure(trace, layout)
