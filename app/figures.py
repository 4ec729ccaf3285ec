"""Plotly figures for the Draw and Network tabs.

Every function takes arrays computed by `mnist_core` and only lays them out; nothing here
changes a number the models see. Figures are kept light because they travel to the browser
on every stroke: arrays go out as Plotly's binary typed arrays (float32, not lists), grids of
feature maps are one heatmap trace with blank gaps (not one subplot per map, which costs
~10 ms of Plotly validation and a pair of axes each), hover templates are one per trace.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont, ImageOps

from mnist_core.imaging.preprocess import CENTRE, Preprocessed



def _rgb_scale(name: str) -> list[list]:
    """A named Plotly colour scale as [[position, "rgb(r, g, b)"], ...].

    Not as hex: Streamlit's Plotly theme rewrites the hex colours #000001 to #000040 in a
    figure's JSON (its placeholders for theme colours), and Inferno starts at #000004.
    """
    scale = plotly.colors.get_colorscale(name)
    colours = plotly.colors.convert_colors_to_same_type([colour for _, colour in scale], colortype="rgb")[0]
    return [[position, colour] for (position, _), colour in zip(scale, colours)]


CONFIG = {"displayModeBar": False, "responsive": True}  # pass to st.plotly_chart(config=...)
INK = [[0.0, "rgb(0, 0, 0)"], [1.0, "rgb(255, 255, 255)"]]  # MNIST: white ink on black
ACTIVATION = _rgb_scale("Inferno")  # activations are >= 0 (ReLU): dark = silent, bright = firing
# Weights and gradients: blue negative, red positive, and 0 dark like the page and the digit's
# background (the theme's backgroundColor; a white-centred scale such as RdBu would glare on it).
DIVERGING = [[0.0, "rgb(125, 195, 255)"], [0.25, "rgb(40, 95, 175)"], [0.5, "rgb(11, 13, 16)"],
             [0.75, "rgb(180, 55, 40)"], [1.0, "rgb(255, 150, 95)"]]
ACCENT = "#f0b429"  # the predicted class; matches the theme's primaryColor
MUTED = "#5a6270"
BOX = "#37c8ff"  # the ink's bounding box and the 20x20 box
MARK = "#ff4b4b"  # centre of mass; a photo's removed lines
OTHER = "#ff9f1c"  # a photo's other marks that could be the digit
CENTRE_INDEX = CENTRE[0]  # MNIST's centre of mass, (14, 14) in pixel indices
MODEL_LABELS = {"mlp": "MLP", "lenet5": "LeNet-5", "yours": "Your trained model"}  # as the page writes them


# No Plotly template: plotly.py would embed its default one (~7 KB of JSON) in every figure,
# and Streamlit's theme styles the charts anyway; every colour used here is set explicitly.
NO_TEMPLATE = go.layout.Template()


def _layout(height: int, **extra) -> dict:
    """A compact, transparent layout of `height` pixels; `extra` adds or overrides keys."""
    return {"height": height, "margin": dict(l=4, r=4, t=28, b=4), "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)", "showlegend": False, "template": NO_TEMPLATE, **extra}


def _image_axes(**extra) -> tuple[dict, dict]:
    """x and y axes for a picture: square pixels, row 0 at the top, no ticks or grid."""
    x = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False, showline=False, constrain="domain",
             **extra)
    y = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False, showline=False, autorange="reversed",
             constrain="domain")
    return x, y


def png_data_uri(ink: np.ndarray, max_side: int = 280) -> tuple[str, float]:
    """Encode (H, W) float32 ink in [0, 1] as a grey PNG data URI, shrunk to at most `max_side`
    pixels on its longer side (display only). Returns the URI and the shrink factor (<= 1)."""
    height, width = ink.shape
    scale = min(1.0, max_side / max(height, width))
    picture = Image.fromarray(np.round(np.clip(ink, 0, 1) * 255).astype(np.uint8))
    if scale < 1:
        picture = picture.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False, compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), scale


# --- Draw tab ---------------------------------------------------------------------------------


def probability_bars(probabilities: np.ndarray, height: int = 220) -> go.Figure:
    """Bar chart of the ten class probabilities; the most likely class is highlighted.

    probabilities: (10,) float in [0, 1].
    """
    p = np.asarray(probabilities, np.float32)
    colours = [ACCENT if i == int(p.argmax()) else MUTED for i in range(10)]
    values = [f"{v:.0%}" if v >= 0.005 else "" for v in p]  # each bar's value above it
    bar = go.Bar(x=np.arange(10), y=p, marker_color=colours, text=values, textposition="outside", cliponaxis=False,
                 hovertemplate="digit %{x}: %{y:.1%}<extra></extra>")
    layout = _layout(height, margin=dict(l=4, r=4, t=18, b=4), bargap=0.15,
                     xaxis=dict(tickmode="array", tickvals=list(range(10)), fixedrange=True, showgrid=False),
                     yaxis=dict(range=[0, 1], tickformat=".0%", nticks=3, fixedrange=True))
    return go.Figure(bar, layout)


def input_heatmap(image28: np.ndarray, height: int = 250) -> go.Figure:
    """The 28x28 model input as a heatmap; hovering a pixel shows its value.

    image28: (28, 28) float32 in [0, 1], white digit on black.
    """
    trace = go.Heatmap(z=np.asarray(image28, np.float32), colorscale=INK, zmin=0, zmax=1, showscale=False,
                       hovertemplate="row %{y}, column %{x}<br>value %{z:.2f}<extra></extra>")
    x, y = _image_axes()
    return go.Figure(trace, _layout(height, margin=dict(l=4, r=4, t=4, b=4), xaxis=x, yaxis=dict(y, scaleanchor="x")))


def preprocessing_strip(steps: Preprocessed, first_title: str = "1 · drawing", height: int = 250) -> go.Figure:
    """The MNIST preprocessing as four pictures side by side, from `mnist_core.imaging.preprocess`:
    the ink with its bounding box, the crop, the 20x20 fit, and the 28x28 field with the
    centre of mass (red x) on the centre (crossing lines) and the 20x20 box's place (dashed).

    steps: a non-empty `Preprocessed` (ink (H, W), bbox, fitted (h, w), image (28, 28) float32).
    """
    top, left, bottom, right = steps.bbox
    gap = 0.02
    layout = _layout(height, margin=dict(l=2, r=2, t=30, b=2))
    titles = [first_title, "2 · crop", "3 · fit 20×20", "4 · centred"]  # short: a panel may be 100 px wide
    for i, title in enumerate(titles):
        suffix = "" if i == 0 else str(i + 1)
        x, y = _image_axes(domain=[i / 4 + gap, (i + 1) / 4 - gap])
        layout[f"xaxis{suffix}"] = dict(x, anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = dict(y, anchor=f"x{suffix}", scaleanchor=f"x{suffix}")
    layout["annotations"] = [dict(text=t, x=(i + 0.5) / 4, y=1, xref="paper", yref="paper", yanchor="bottom",
                                  showarrow=False, font=dict(size=12)) for i, t in enumerate(titles)]
    height_px, width_px = steps.ink.shape
    drawing, scale = png_data_uri(steps.ink)
    crop, crop_scale = png_data_uri(steps.ink[top:bottom, left:right])
    image28 = steps.image
    com_row, com_col = steps.centre_of_mass
    off_row, off_col = steps.offset
    fit_h, fit_w = steps.fitted.shape
    hover = "row %{y}, column %{x}<br>value %{z:.2f}<extra></extra>"
    traces = [
        go.Image(source=drawing, dx=1 / scale, dy=1 / scale, hoverinfo="skip"),
        go.Image(source=crop, dx=1 / crop_scale, dy=1 / crop_scale, hoverinfo="skip", xaxis="x2", yaxis="y2"),
        go.Heatmap(z=steps.fitted, colorscale=INK, zmin=0, zmax=1, showscale=False, hovertemplate=hover,
                   xaxis="x3", yaxis="y3"),
        go.Heatmap(z=image28, colorscale=INK, zmin=0, zmax=1, showscale=False, hovertemplate=hover,
                   xaxis="x4", yaxis="y4"),
        go.Scatter(x=[com_col], y=[com_row], mode="markers", marker=dict(symbol="x", size=11, color=MARK),
                   hovertemplate="centre of mass<br>row %{y:.2f}, column %{x:.2f}<extra></extra>",
                   xaxis="x4", yaxis="y4"),
    ]
    layout["xaxis"]["range"] = [-0.5, width_px - 0.5]
    layout["yaxis"]["range"] = [height_px - 0.5, -0.5]
    layout["shapes"] = [
        dict(type="rect", xref="x", yref="y", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
             line=dict(color=BOX, width=2)),
        dict(type="rect", xref="x4", yref="y4", x0=off_col - 0.5, x1=off_col + fit_w - 0.5, y0=off_row - 0.5,
             y1=off_row + fit_h - 0.5, line=dict(color=BOX, width=1, dash="dot")),
        dict(type="line", xref="x4", yref="y4", x0=-0.5, x1=27.5, y0=14, y1=14, line=dict(color=MARK, width=1)),
        dict(type="line", xref="x4", yref="y4", x0=14, x1=14, y0=-0.5, y1=27.5, line=dict(color=MARK, width=1)),
    ]
    return go.Figure(traces, layout)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _grey_picture(ink: np.ndarray, size: tuple[int, int], resample) -> Image.Image:
    """(h, w) float ink in [0, 1] as an RGB picture of (width, height) `size`, white on black."""
    grey = Image.fromarray(np.round(np.clip(ink, 0, 1) * 255).astype(np.uint8))
    return grey.resize(size, resample).convert("RGB")


def photo_pictures(steps: Preprocessed, marks: tuple = (), side: int = 180) -> list:
    """The photo path's steps before the MNIST ones, as four pictures for `st.image`, from
    `mnist_core.imaging.photo`: the light flattened, the ink found, the printed lines removed (in red),
    the digit chosen (full white, blue box; the rest of the ink dim, other marks that could be
    a digit in orange boxes).

    steps: a `Preprocessed` with its `.photo` (`PhotoSteps`: (h, w) grey, flattened, found, lines, chosen).
    marks: the candidate marks' boxes (top, left, bottom, right) as shares of the height and
    width, numbered 1, 2, ... on the last picture so that a person can say which is the digit.
    """
    photo = steps.photo
    height, width = photo.grey.shape
    size = (max(1, round(width * side / height)), side)
    flattened = _grey_picture(1 - photo.flattened, size, Image.BILINEAR)
    found = _grey_picture(photo.found.astype(np.float32), size, Image.BILINEAR)
    rgb = np.repeat(photo.found[:, :, None], 3, axis=2).astype(np.uint8) * 255
    rgb[photo.lines] = _rgb(MARK)
    lines = Image.fromarray(rgb).resize(size, Image.BILINEAR)
    rest = 0.35 * (photo.found & ~photo.lines)
    chosen = _grey_picture(np.maximum(photo.chosen, rest), size, Image.BILINEAR)
    pen, scale = ImageDraw.Draw(chosen), side / height
    for box, colour in [(b, OTHER) for b in photo.others] + ([(photo.box, BOX)] if photo.box else []):
        top, left, bottom, right = box
        pen.rectangle([left * scale, top * scale, right * scale - 1, bottom * scale - 1], outline=_rgb(colour), width=2)
    font = ImageFont.load_default(size=16)
    for number, (top, left, _, _) in enumerate(marks, start=1):
        pen.text((left * size[0] + 3, max(0, top * size[1] - 18)), str(number), fill=(255, 255, 255), font=font,
                 stroke_width=2, stroke_fill=(0, 0, 0))
    return [flattened, found, lines, chosen]


def preprocessing_pictures(steps: Preprocessed, side: int = 180) -> list[np.ndarray]:
    """The MNIST preprocessing as four (side, w, 3) uint8 pictures for `st.image`, from
    `mnist_core.imaging.preprocess`: the ink with its bounding box; the crop; the 20x20 fit, pixel by
    pixel; the 28x28 input with the centre (crossing lines), its centre of mass (x) and where
    the 20x20 box sits (thin frame). The Plotly `preprocessing_strip` shows the same with hover
    values, but the browser takes tens of milliseconds to draw it: this is for every stroke.

    steps: a non-empty `Preprocessed` (ink (H, W), bbox, fitted (h, w), image (28, 28) float32).
    """
    top, left, bottom, right = steps.bbox
    height, width = steps.ink.shape
    scale = side / height
    drawing = _grey_picture(steps.ink, (max(1, round(width * scale)), side), Image.BILINEAR)
    ImageDraw.Draw(drawing).rectangle([left * scale, top * scale, right * scale - 1, bottom * scale - 1],
                                      outline=_rgb(BOX), width=2)
    crop = steps.ink[top:bottom, left:right]
    crop_scale = side / max(crop.shape)
    cropped = _grey_picture(crop, (max(1, round(crop.shape[1] * crop_scale)), max(1, round(crop.shape[0] * crop_scale))),
                            Image.BILINEAR)
    fit_h, fit_w = steps.fitted.shape
    cell = side // 20
    fitted = _grey_picture(steps.fitted, (fit_w * cell, fit_h * cell), Image.NEAREST)
    cell = side / 28
    centred = _grey_picture(steps.image, (side, side), Image.NEAREST)
    pen = ImageDraw.Draw(centred)
    row, col = steps.offset
    pen.rectangle([col * cell, row * cell, (col + fit_w) * cell - 1, (row + fit_h) * cell - 1], outline=_rgb(BOX))
    middle = (CENTRE_INDEX + 0.5) * cell  # pixel index 14's centre
    pen.line([(0, middle), (side, middle)], fill=_rgb(MARK))
    pen.line([(middle, 0), (middle, side)], fill=_rgb(MARK))
    y, x = ((c + 0.5) * cell for c in steps.centre_of_mass)
    arm = cell * 0.6
    for dx in (-arm, arm):
        pen.line([(x - arm, y - dx), (x + arm, y + dx)], fill=_rgb(MARK), width=3)
    frame = _rgb(MUTED)  # a thin frame: side by side, the four pictures stay apart
    return [np.asarray(ImageOps.expand(picture, border=2, fill=frame)) for picture in (drawing, cropped, fitted, centred)]


# --- Network tab -------------------------------------------------------------------------------


def mosaic(maps: np.ndarray, columns: int, row_gap: int = 1) -> np.ndarray:
    """Tile C maps into one picture, with one blank (NaN) pixel between columns and `row_gap`
    between rows (room for the tiles' labels).

    maps: (H, W, C) float. Returns (rows*(H+row_gap)-row_gap, columns*(W+1)-1) float32 with
    rows = ceil(C / columns); tile k sits at row k // columns, column k % columns.
    """
    height, width, count = maps.shape
    rows = -(-count // columns)
    out = np.full((rows * (height + row_gap) - row_gap, columns * (width + 1) - 1), np.nan, np.float32)
    for k in range(count):
        r, c = divmod(k, columns)
        top, left = r * (height + row_gap), c * (width + 1)
        out[top: top + height, left: left + width] = maps[:, :, k]
    return out


def _row_gap(height: int, rows: int) -> int:
    """Blank rows between mosaic rows: enough for a line of label text over small tiles."""
    return 1 if rows == 1 else max(2, round(height / 4))


def _tile_labels(count: int, columns: int, height: int, width: int, text, row_gap: int = 1) -> list[dict]:
    """One small annotation above each tile of a `mosaic`."""
    return [dict(text=text(k), x=(k % columns) * (width + 1) + (width - 1) / 2,
                 y=(k // columns) * (height + row_gap) - 0.6, xref="x", yref="y", yanchor="bottom",
                 showarrow=False, font=dict(size=11)) for k in range(count)]


def feature_maps(maps: np.ndarray, layer: str, per_map: bool = False, columns: int = 8,
                 tile_px: int = 80) -> go.Figure:
    """A layer's feature maps as one grid of heatmaps, bright where the map responds.

    maps:    (H, W, C) float32 activations (>= 0 after ReLU / max pooling).
    per_map: False: one colour scale for the whole layer (maps compare with each other);
             True: each map stretched to its own maximum (shows the shape of weak maps).
    Hover shows the map, the position and the real activation in both modes.
    """
    maps = np.asarray(maps, np.float32)
    height, width, count = maps.shape
    columns = min(columns, count)
    rows = -(-count // columns)
    gap = _row_gap(height, rows)
    raw = mosaic(maps, columns, gap)
    index = mosaic(np.broadcast_to(np.arange(count, dtype=np.float32), maps.shape), columns, gap)
    if per_map:
        peak = maps.reshape(-1, count).max(axis=0)
        z = mosaic(maps / np.where(peak > 0, peak, 1), columns, gap)
        scale = dict(zmin=0, zmax=1, showscale=False)
    else:
        z = raw
        scale = dict(zmin=0, zmax=max(float(maps.max()), 1e-6), showscale=True,
                     colorbar=dict(thickness=10, len=0.9, outlinewidth=0))
    hover = f"{layer} map %{{customdata[0]}}<br>activation %{{customdata[1]:.3f}}<extra></extra>"
    trace = go.Heatmap(z=z, customdata=np.stack([index, raw], axis=-1), colorscale=ACTIVATION, **scale,
                       hovertemplate=hover)
    x, y = _image_axes()
    layout = _layout(rows * tile_px + 40 + 14 * rows, margin=dict(l=4, r=4, t=18, b=4), xaxis=x,
                     yaxis=dict(y, scaleanchor="x"),
                     annotations=_tile_labels(count, columns, height, width, str, gap) if count > 1 else [])
    return go.Figure(trace, layout)


def kernel_grid(kernel: np.ndarray, layer: str, connected: np.ndarray | None = None, tile_px: int = 44,
                inputs: str = "input") -> go.Figure:
    """Convolution kernels as a grid: one row per input map, one column per output map.

    kernel:    (kh, kw, in_maps, out_maps) float32 (`Classifier.kernels`).
    connected: optional (in_maps, out_maps) bool; kernels where it is False are left blank
               (LeNet-5's C3: an output map sees only some input maps).
    One symmetric diverging colour scale: red weights add the input's ink, blue subtract it.
    """
    kernel = np.asarray(kernel, np.float32)
    kh, kw, n_in, n_out = kernel.shape
    out = np.full((n_in * (kh + 1) - 1, n_out * (kw + 1) - 1), np.nan, np.float32)
    for i in range(n_in):
        for j in range(n_out):
            if connected is None or connected[i, j]:
                out[i * (kh + 1): i * (kh + 1) + kh, j * (kw + 1): j * (kw + 1) + kw] = kernel[:, :, i, j]
    limit = max(float(np.nanmax(np.abs(out))) if np.isfinite(out).any() else 0.0, 1e-6)
    trace = go.Heatmap(z=out, colorscale=DIVERGING, zmin=-limit, zmax=limit, zmid=0,
                       colorbar=dict(thickness=10, len=0.9, outlinewidth=0),
                       hovertemplate="weight %{z:.3f}<extra></extra>")
    x, y = _image_axes()
    x.update(showticklabels=True, tickmode="array", tickvals=[j * (kw + 1) + (kw - 1) / 2 for j in range(n_out)],
             ticktext=[str(j) for j in range(n_out)], side="top", title=dict(text=f"{layer} map", standoff=2))
    y.update(showticklabels=n_in > 1, tickmode="array", tickvals=[i * (kh + 1) + (kh - 1) / 2 for i in range(n_in)],
             ticktext=[str(i) for i in range(n_in)], title=dict(text=f"{inputs} map" if n_in > 1 else "", standoff=8))
    layout = _layout(n_in * tile_px + 60, margin=dict(l=4, r=4, t=40, b=4), xaxis=x, yaxis=dict(y, scaleanchor="x"))
    return go.Figure(trace, layout)


def kernel_tiles(kernels: np.ndarray, layer: str, columns: int = 3, tile_px: int = 70) -> go.Figure:
    """Single-input convolution kernels (LeNet-5's C1) as a small grid of pictures, labelled by map.

    kernels: (kh, kw, K) float32, e.g. `Classifier.kernels("C1")[:, :, 0, :]`.
    One symmetric diverging colour scale: red weights respond to ink, blue to its absence.
    """
    kernels = np.asarray(kernels, np.float32)
    kh, kw, count = kernels.shape
    columns = min(columns, count)
    rows = -(-count // columns)
    limit = max(float(np.abs(kernels).max()), 1e-6)
    gap = _row_gap(kh, rows)
    trace = go.Heatmap(z=mosaic(kernels, columns, gap), colorscale=DIVERGING, zmin=-limit, zmax=limit, zmid=0,
                       showscale=False, hovertemplate="weight %{z:.3f}<extra></extra>")
    x, y = _image_axes()
    labels = _tile_labels(count, columns, kh, kw, str, gap)
    return go.Figure(trace, _layout(rows * tile_px + 20 * rows, margin=dict(l=4, r=4, t=18, b=4), xaxis=x,
                                    yaxis=dict(y, scaleanchor="x"), annotations=labels))


def connection_table(matrix: np.ndarray, rows: str = "S2", columns: str = "C3") -> go.Figure:
    """Which input maps (rows) each output map (columns) is connected to, as a small matrix.

    matrix: (in_maps, out_maps) bool (`mnist_core.networks.models.connection_matrix()`).
    """
    z = np.asarray(matrix, np.float32)
    trace = go.Heatmap(z=z, colorscale=[[0, "#1e2128"], [1, ACCENT]], zmin=0, zmax=1, showscale=False, xgap=2, ygap=2,
                       hovertemplate=f"{columns} map %{{x}} ← {rows} map %{{y}}: %{{z}} (1 = connected)<extra></extra>")
    x, y = _image_axes()
    x.update(showticklabels=True, tickmode="linear", dtick=1, side="top", title=dict(text=f"{columns} map", standoff=2))
    y.update(showticklabels=True, tickmode="linear", dtick=1, title=dict(text=f"{rows} map", standoff=8))
    return go.Figure(trace, _layout(210, margin=dict(l=4, r=4, t=40, b=4), xaxis=x, yaxis=dict(y, scaleanchor="x")))


def unit_bars(values: np.ndarray, layer: str, height: int = 180) -> go.Figure:
    """One bar per unit of a fully connected layer: its activation.

    values: (N,) float32 activations (>= 0 after ReLU).
    """
    values = np.asarray(values, np.float32).ravel()
    bar = go.Bar(x=np.arange(values.size), y=values, marker_color=ACCENT, marker_line_width=0,
                 hovertemplate=f"{layer} unit %{{x}}: %{{y:.3f}}<extra></extra>")
    layout = _layout(height, margin=dict(l=4, r=4, t=8, b=4), bargap=0.1,
                     xaxis=dict(title=dict(text=f"{layer} unit", standoff=2), showgrid=False, fixedrange=True),
                     yaxis=dict(nticks=4, fixedrange=True))
    return go.Figure(bar, layout)


def templates(weights: np.ndarray, units: np.ndarray, activations: np.ndarray, tile_px: int = 110) -> go.Figure:
    """First-layer weights of chosen units, each shown as a 28x28 picture (what the unit looks for).

    weights:     (784, N) float32, the first dense layer's kernel (input pixels row-major).
    units:       (K,) int, the units to show (e.g. the most active ones).
    activations: (N,) float32, the units' activations, for the labels.
    Each template has its own symmetric diverging scale (red: ink here raises the unit).
    """
    chosen = np.asarray(weights, np.float32)[:, units].reshape(28, 28, len(units))
    limit = np.abs(chosen).reshape(-1, len(units)).max(axis=0)
    z = mosaic(chosen / np.where(limit > 0, limit, 1), len(units))
    raw = mosaic(chosen, len(units))
    trace = go.Heatmap(z=z, customdata=raw, colorscale=DIVERGING, zmin=-1, zmax=1, zmid=0, showscale=False,
                       hovertemplate="weight %{customdata:.3f}<extra></extra>")
    x, y = _image_axes()
    labels = _tile_labels(len(units), len(units), 28, 28,
                          lambda k: f"unit {int(units[k])} · {float(activations[units[k]]):.2f}")
    return go.Figure(trace, _layout(tile_px + 40, margin=dict(l=4, r=4, t=22, b=4), xaxis=x,
                                    yaxis=dict(y, scaleanchor="x"), annotations=labels))


def saliency_map(saliency: np.ndarray, image28: np.ndarray, height: int = 320) -> go.Figure:
    """The gradient of the predicted class's score per input pixel, with the digit's outline (white).

    saliency: (28, 28) float32 (`explain.smoothgrad` or `Classifier.saliency`); image28: (28, 28)
    float32 in [0, 1].
    Red: more ink there would raise the score; blue: would lower it.
    """
    limit = max(float(np.abs(saliency).max()), 1e-9)
    heat = go.Heatmap(z=np.asarray(saliency, np.float32), colorscale=DIVERGING, zmin=-limit, zmax=limit, zmid=0,
                      colorbar=dict(thickness=10, len=0.9, outlinewidth=0),
                      hovertemplate="row %{y}, column %{x}<br>gradient %{z:.4f}<extra></extra>")
    outline = go.Contour(z=np.asarray(image28, np.float32), contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                         line=dict(color="#ffffff", width=1.5), showscale=False, hoverinfo="skip")
    x, y = _image_axes()
    return go.Figure([heat, outline], _layout(height, margin=dict(l=4, r=4, t=4, b=4), xaxis=x,
                                              yaxis=dict(y, scaleanchor="x")))
