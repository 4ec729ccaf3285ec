"""Plotly figures (and image montages) for the Data, Evaluation and Learn tabs.

Each function only lays out arrays computed by `mnist_core`; none changes a number. Large
figures are kept light: image grids are one heatmap with blank (NaN) gaps, box plots get their
quartiles precomputed, scatter maps use WebGL with one trace per digit.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import ACCENT, CONFIG, INK, MARK, MODEL_LABELS, MUTED  # one look across the app

__all__ = ["CONFIG", "DIGIT_COLOURS", "MODEL_COLOURS", "MODEL_LABELS"]

DIGIT_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]  # Tableau 10
MODEL_COLOURS = {"mlp": "#37c8ff", "lenet5": ACCENT}


def _layout(height: int, **extra) -> dict:
    return {"height": height, "margin": dict(l=8, r=8, t=36, b=8), "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)", **extra}


def _image_axes() -> tuple[dict, dict]:
    x = dict(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    y = dict(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed", constrain="domain",
             scaleanchor="x")
    return x, y


def montage(images: np.ndarray, columns: int, scale: int = 3, pad: int = 2) -> np.ndarray:
    """Tile (N, h, w) images (uint8, or float in [0, 1]) into one uint8 picture for `st.image`,
    each pixel repeated `scale` times (crisp in the browser) with `pad` grey pixels between
    tiles. Returns (rows*(h*scale+pad)-pad, columns*(w*scale+pad)-pad) uint8."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    n, h, w = images.shape
    rows = max(1, -(-n // columns))
    th, tw = h * scale + pad, w * scale + pad
    out = np.full((rows * th - pad, columns * tw - pad), 60, np.uint8)
    big = images.repeat(scale, axis=1).repeat(scale, axis=2)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * th : r * th + h * scale, c * tw : c * tw + w * scale] = big[k]
    return out


def _mosaic(images: np.ndarray, columns: int) -> np.ndarray:
    """(N, h, w) float -> one float32 array with a NaN pixel between tiles (one heatmap, not N)."""
    n, h, w = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan, np.float32)
    for k in range(n):
        r, c = divmod(k, columns)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[k]
    return out


# --- Data tab -----------------------------------------------------------------------------------


def class_counts(train: np.ndarray, test: np.ndarray) -> go.Figure:
    """Grouped bars of the (10,) image counts per digit in the training and the test set."""
    bars = [go.Bar(name=f"{name} ({int(c.sum()):,})", x=list(range(10)), y=c, marker_color=colour,
                   hovertemplate=f"{name}: digit %{{x}}, %{{y:,}} images<extra></extra>")
            for name, c, colour in (("training", train, ACCENT), ("test", test, "#37c8ff"))]
    return go.Figure(bars, _layout(300, barmode="group", xaxis=dict(dtick=1, title="digit"),
                                   yaxis=dict(title="images"), legend=dict(orientation="h", y=1.12)))


def digit_images(images: np.ndarray, title: str, colorscale=INK, zmax: float | None = None,
                 height: int = 170) -> go.Figure:
    """Ten (28, 28) float images (digits 0-9, e.g. the mean or std image of each) in one row,
    on one colour scale with a colour bar; hover shows the digit, pixel and value."""
    images = np.asarray(images, np.float32)
    z = _mosaic(images, len(images))
    digit = _mosaic(np.broadcast_to(np.arange(len(images), dtype=np.float32)[:, None, None], images.shape), len(images))
    trace = go.Heatmap(z=z, customdata=digit, colorscale=colorscale, zmin=0, zmax=zmax or float(np.nanmax(z)),
                       colorbar=dict(thickness=10, len=0.9, outlinewidth=0),
                       hovertemplate="digit %{customdata}<br>value %{z:.3f}<extra></extra>")
    x, y = _image_axes()
    x.update(showticklabels=True, tickmode="array", tickvals=[k * 29 + 13.5 for k in range(len(images))],
             ticktext=[str(k) for k in range(len(images))], side="top")
    return go.Figure(trace, _layout(height, title=dict(text=title, x=0, font=dict(size=14)),
                                    margin=dict(l=8, r=8, t=56, b=4), xaxis=x, yaxis=y))


def intensity_histogram(histogram: np.ndarray, log: bool = True) -> go.Figure:
    """Bars of the (256,) pixel counts per value 0..255; log y by default (0 dominates)."""
    total = histogram.sum()
    trace = go.Bar(x=np.arange(256), y=histogram, marker_color=ACCENT, marker_line_width=0,
                   customdata=histogram / total,
                   hovertemplate="value %{x}: %{y:,} pixels (%{customdata:.2%})<extra></extra>")
    # a log axis labels only the powers of ten: Plotly's default also labels 2 and 5 between them,
    # in a format that repeats ("1M 2 5 1M ...") and reads as the same number twice
    yaxis = dict(title="pixels (log scale)", type="log", dtick=1, tickformat="~s") if log else dict(title="pixels")
    return go.Figure(trace, _layout(300, bargap=0, xaxis=dict(title="pixel value (0 = background, 255 = full ink)"),
                                    yaxis=yaxis))


def ink_boxes(summary: dict, title: str) -> go.Figure:
    """Box plots per digit from precomputed `stats.box_summary` (no N points sent)."""
    trace = go.Box(x=[str(d) for d in range(10)], q1=summary["q1"], median=summary["median"], q3=summary["q3"],
                   lowerfence=summary["lower"], upperfence=summary["upper"], mean=summary["mean"],
                   marker_color=ACCENT, line_color=ACCENT, fillcolor="rgba(240,180,41,0.25)", name=title,
                   boxpoints=False)
    return go.Figure(trace, _layout(300, showlegend=False, xaxis=dict(title="digit", type="category"),
                                       yaxis=dict(title=title)))


def pixel_values(image: np.ndarray, title: str = "", height: int = 640) -> go.Figure:
    """The "greyscale as numbers" view: a (28, 28) uint8 image as a grid, each cell showing its
    value 0-255 (dark text on light cells, light on dark)."""
    image = np.asarray(image, np.uint8)
    trace = go.Heatmap(z=image, text=image, texttemplate="%{text}", textfont=dict(size=8),
                       colorscale=INK, zmin=0, zmax=255, showscale=False, xgap=1, ygap=1,
                       hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>")
    x, y = _image_axes()
    for axis in (x, y):
        axis.update(showticklabels=True, tickmode="linear", dtick=4, tickfont=dict(size=10))
    x["side"] = "top"
    return go.Figure(trace, _layout(height, title=dict(text=title, x=0, y=0.995, font=dict(size=14)),
                                    margin=dict(l=8, r=8, t=60, b=8), xaxis=x, yaxis=y))


def scatter_map(coords: np.ndarray, labels: np.ndarray, index: np.ndarray, title: str, axis_titles=("", ""),
                drawing: np.ndarray | None = None, neighbours: np.ndarray | None = None,
                height: int = 560) -> go.Figure:
    """A 2-D map coloured by digit: one WebGL trace per digit.

    coords: (N, 2) float; labels: (N,) digits; index: (N,) ints passed as customdata (so that a
    selection tells which images were chosen). drawing: optional (2,) position of the user's
    drawing (a large outlined star, pointed at by an arrow); neighbours: optional (k, 2) positions
    it was placed from (rings). Both are WebGL traces after the digits': Plotly draws WebGL traces
    above SVG ones, so an SVG star would sit under the points.
    """
    traces = []
    for d in range(10):
        chosen = labels == d
        traces.append(go.Scattergl(x=coords[chosen, 0], y=coords[chosen, 1], mode="markers", name=str(d),
                                   customdata=index[chosen], marker=dict(size=4, color=DIGIT_COLOURS[d], opacity=0.7),
                                   hovertemplate=f"digit {d} · image #%{{customdata}}<extra></extra>"))
    if neighbours is not None:
        traces.append(go.Scattergl(x=neighbours[:, 0], y=neighbours[:, 1], mode="markers", name="its neighbours",
                                   marker=dict(symbol="circle-open", size=14, color="white", line=dict(width=2)),
                                   hoverinfo="skip"))
    annotations = []
    if drawing is not None:
        traces.append(go.Scattergl(x=[drawing[0]], y=[drawing[1]], mode="markers", name="your drawing",
                                   marker=dict(symbol="star", size=34, color=MARK, line=dict(color="black", width=3)),
                                   hovertemplate="your drawing<extra></extra>"))
        annotations.append(dict(x=drawing[0], y=drawing[1], text="<b>your drawing</b>", showarrow=True, arrowhead=2,
                                arrowwidth=2, arrowcolor=MARK, ax=60, ay=-50, font=dict(size=13, color="white"),
                                bgcolor=MARK, borderpad=3, standoff=18))
    layout = _layout(height, title=dict(text=title, x=0, font=dict(size=14)), annotations=annotations,
                     legend=dict(title="digit", itemsizing="constant"),
                     xaxis=dict(title=axis_titles[0], zeroline=False), yaxis=dict(title=axis_titles[1], zeroline=False),
                     dragmode="lasso", clickmode="event+select")
    return go.Figure(traces, layout)


def robustness(curves: dict[str, dict], titles: dict[str, str], height: int = 520) -> go.Figure:
    """Probability of the right digit against each transformation's amount, one panel per
    transformation, one line per model. curves: model name -> {kind: robustness.Curve}."""
    kinds = list(titles)
    fig = make_subplots(rows=2, cols=2, subplot_titles=[titles[k] for k in kinds], vertical_spacing=0.16,
                        horizontal_spacing=0.08)
    for m, (name, by_kind) in enumerate(curves.items()):
        for i, kind in enumerate(kinds):
            c = by_kind[kind]
            label = MODEL_LABELS.get(name, name)
            fig.add_trace(go.Scatter(x=c.amounts, y=c.probability, mode="lines+markers", name=label,
                                     legendgroup=name, showlegend=i == 0, customdata=c.accuracy,
                                     line=dict(color=MODEL_COLOURS.get(name, MUTED), width=2.5),
                                     hovertemplate=f"{label}<br>%{{x}}: p(right) %{{y:.1%}}"
                                                   "<br>accuracy %{customdata:.0%}<extra></extra>"),
                          row=i // 2 + 1, col=i % 2 + 1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_annotations(font_size=12)
    fig.update_layout(**_layout(height, legend=dict(orientation="h", y=-0.08), margin=dict(l=8, r=8, t=40, b=8)))
    return fig


# --- Evaluation tab ----------------------------------------------------------------------------


def confusion(matrix: np.ndarray, selected: tuple[int, int] | None = None, height: int = 520) -> go.Figure:
    """A (10, 10) confusion matrix (rows = true digit, columns = predicted) as a heatmap with
    the counts written in; colour on a log scale so the few mistakes show beside the diagonal.
    An invisible marker sits on every cell so that clicking a cell selects it
    (`st.plotly_chart(on_select="rerun")`; the selected point's y is the true digit, x the predicted)."""
    m = np.asarray(matrix, np.int64)
    true, pred = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    heat = go.Heatmap(z=np.log10(1 + m), text=m, texttemplate="%{text}", textfont=dict(size=11),
                      colorscale="Cividis", showscale=False, xgap=1, ygap=1, hoverinfo="skip")
    cells = go.Scatter(x=pred.ravel(), y=true.ravel(), mode="markers",
                       marker=dict(symbol="square", size=30, color="rgba(0,0,0,0)"),
                       selected=dict(marker=dict(color="rgba(0,0,0,0)")), unselected=dict(marker=dict(opacity=1)),
                       hovertemplate="true %{y}, predicted %{x}: %{text} images<extra></extra>", text=m.ravel())
    shapes = []
    if selected is not None:
        t, p = selected
        shapes.append(dict(type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5, line=dict(color=MARK, width=3)))
    axis = dict(tickmode="linear", dtick=1, showgrid=False, zeroline=False, fixedrange=True, constrain="domain")
    layout = _layout(height, showlegend=False, shapes=shapes, margin=dict(l=8, r=8, t=50, b=8),
                     xaxis=dict(axis, title="predicted", side="top", range=[-0.5, 9.5]),
                     yaxis=dict(axis, title="true digit", range=[9.5, -0.5], scaleanchor="x"),
                     clickmode="event+select", dragmode=False)
    return go.Figure([heat, cells], layout)


def per_digit_accuracy(per_class: dict[str, list[float]], title: str, height: int = 320) -> go.Figure:
    """A dot plot of each model's (10,) per-digit accuracy (floats in [0, 1]): one dot per model
    and digit, the models side by side. Dots, not bars: the accuracies are all high, so the y axis
    starts just below the lowest (rounded down to half a percent), and a bar's height from there
    would make 97 % look half of 99 %; the axis title says where it starts."""
    names = list(per_class)
    offsets = np.linspace(-0.15, 0.15, len(names)) if len(names) > 1 else np.zeros(1)
    dots = [go.Scatter(x=np.arange(10) + offset, y=per_class[name], mode="markers", name=MODEL_LABELS.get(name, name),
                       marker=dict(size=11, color=MODEL_COLOURS.get(name, MUTED), line=dict(color="white", width=1)),
                       customdata=np.arange(10),
                       hovertemplate=f"{MODEL_LABELS.get(name, name)}: digit %{{customdata}}, %{{y:.2%}}<extra></extra>")
            for name, offset in zip(names, offsets)]
    low = float(np.floor((min(min(a) for a in per_class.values()) - 0.003) * 200) / 200)
    return go.Figure(dots, _layout(height, title=dict(text=title, x=0, font=dict(size=14)),
                                   xaxis=dict(tickvals=list(range(10)), title="digit", range=[-0.5, 9.5]),
                                   yaxis=dict(title=f"accuracy (axis from {low:.1%}, not 0)", tickformat=".1%",
                                              range=[max(0.0, low), 1.001]),
                                   legend=dict(orientation="h", y=-0.22), margin=dict(l=8, r=8, t=40, b=8)))


FEW = 30  # a reliability bin with fewer drawings than this is a hollow dot: too few to judge by


def reliability_diagram(calibrations: dict[str, dict], height: int = 380) -> go.Figure:
    """Each model's reliability on held-out real drawings, before and after temperature scaling:
    mean confidence (x) against accuracy (y) per confidence bin, from the cards' "calibration"
    (`mnist_core.reading.calibration.summary`: "edges", "confidence", "accuracy", "count" per bin). The
    diagonal is a model whose "90 %" is right 90 % of the time. A dot's area grows with its bin's
    drawings, its count is written beside it, and bins with fewer than FEW drawings are hollow."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color=MUTED, dash="dot"),
                               name="perfectly calibrated", hoverinfo="skip"))
    largest = max(max(cal[key]["count"]) for cal in calibrations.values()
                  for key in ("reliability_before", "reliability_after"))
    for name, cal in calibrations.items():
        colour = MODEL_COLOURS.get(name, MUTED)
        for key, dash, when in (("reliability_before", "dash", "before"), ("reliability_after", "solid", "after")):
            table = cal[key]
            points = [(c, a, n) for c, a, n in zip(table["confidence"], table["accuracy"], table["count"]) if n]
            counts = np.array([p[2] for p in points])
            ece = cal["ece_before" if when == "before" else "ece_after_cross_fitted"]
            fig.add_trace(go.Scatter(
                x=[p[0] for p in points], y=[p[1] for p in points], customdata=counts,
                mode="lines+markers+text", text=[f"{n:,}" for n in counts], textposition="top left",
                textfont=dict(size=9, color=colour),
                line=dict(color=colour, dash=dash, width=1.5),
                marker=dict(size=6 + 18 * np.sqrt(counts / max(largest, 1)), color=colour, line=dict(width=2, color=colour),
                            symbol=["circle-open" if n < FEW else "circle" for n in counts]),
                name=f"{MODEL_LABELS.get(name, name)}, {when} (ECE {ece:.3f})",
                hovertemplate="confidence %{x:.1%}: right %{y:.1%} of %{customdata:,} drawings<extra></extra>"))
    fig.update_layout(_layout(height, title=dict(text="Reliability: confidence against accuracy, per bin", x=0,
                                                 font=dict(size=14)),
                              xaxis=dict(title="confidence (top probability)", tickformat=".0%", range=[0, 1.02]),
                              yaxis=dict(title="accuracy", tickformat=".0%", range=[0, 1.06]),
                              legend=dict(orientation="h", y=-0.25)))
    return fig


# --- Learn tab ---------------------------------------------------------------------------------


CHANNELS = (("#ff0000", 0.2126), ("#00ff00", 0.7152), ("#0000ff", 0.0722))  # colour, its relative luminance


def text_colours(values: np.ndarray, luminance: float) -> np.ndarray:
    """Black or white text for cells of a heatmap from black to one channel's full colour, whichever
    contrasts more (WCAG): values (...) uint8 0..255; luminance: the full colour's relative luminance
    weight (sRGB: red 0.2126, green 0.7152, blue 0.0722). Returns (...) "#000000" or "#ffffff"."""
    c = np.asarray(values, np.float32) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    # black and white text contrast equally on a relative luminance of 0.179: (L + 0.05) / 0.05 = 1.05 / (L + 0.05)
    return np.where(linear * luminance > 0.179, "#000000", "#ffffff")


def rgb_channels(rgb: np.ndarray, height: int = 260) -> go.Figure:
    """An (h, w, 3) uint8 colour image as its three arrays side by side (red, green, blue), each
    a heatmap from black to its colour, the values written in the cells in black or white,
    whichever reads on the cell (`text_colours`: a bright green cell takes black)."""
    rgb = np.asarray(rgb, np.uint8)
    fig = make_subplots(rows=1, cols=3, subplot_titles=["red array", "green array", "blue array"],
                        horizontal_spacing=0.03)
    rows, cols = np.indices(rgb.shape[:2])
    for i, (colour, luminance) in enumerate(CHANNELS):
        fig.add_trace(go.Heatmap(z=rgb[:, :, i], colorscale=[[0, "#000000"], [1, colour]], zmin=0, zmax=255,
                                 showscale=False, xgap=1, ygap=1,
                                 hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>"),
                      row=1, col=i + 1)
        fig.add_trace(go.Scatter(x=cols.ravel(), y=rows.ravel(), mode="text", text=rgb[:, :, i].ravel().astype(str),
                                 textfont=dict(size=8, color=text_colours(rgb[:, :, i].ravel(), luminance)),
                                 hoverinfo="skip", showlegend=False),
                      row=1, col=i + 1)
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain", row=1, col=i + 1)
        fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                         scaleanchor=f"x{i + 1 if i else ''}", constrain="domain", row=1, col=i + 1)
    fig.update_layout(**_layout(height, margin=dict(l=4, r=4, t=30, b=4)))
    return fig
