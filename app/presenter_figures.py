"""Plotly figures of the presenter view and of "Why this and not that".

Like `app/figures.py` (whose colours and helpers they share) they only lay out what `mnist_core`
computed, and they stay light because they go to the browser on every stroke: one figure for the
whole network (one heatmap trace per layer on its own pair of axes), one for the chosen map.
Type is large: these are read from the back of a classroom. Their titles are not Plotly text but
HTML above each figure (`labels_html`, in the page's type, which the presenter's CSS sizes to the
screen's width: Plotly sizes text in fixed pixels, so a label large enough at 1920 px ran into its
neighbour in a narrower strip); what Plotly still writes (the output's digits, hover) is `FONT`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from app.figures import ACCENT, ACTIVATION, BOX, DIVERGING, INK, MUTED, _image_axes, _layout, mosaic

FONT = 24  # px: the text Plotly still draws (the output's digits, hover): the room's minimum at 1920 px (see app/tabs/presenter.py)
ROW = 36  # px per output digit: 10 rows of FONT-px digits, whose boxes (the font's ~1.42 em) must not touch
UNIT_TRACE = 3  # map_detail's invisible markers, one per unit (what a click selects)
OUTLINE = "#d0d0d0"

# The strip: per model, (layer, columns of its mosaic, width weight); dense layers are shown as
# grids of (rows, columns) units.
STRIP = {
    "lenet5": (("input", 1, 1.0), ("C1", 2, 0.75), ("S2", 2, 0.5), ("C3", 4, 0.75), ("S4", 4, 0.6),
               ("C5", 1, 0.45), ("F6", 1, 0.4), ("output", 1, 0.55)),
    "mlp": (("input", 1, 1.0), ("hidden1", 1, 0.6), ("hidden2", 1, 0.45), ("output", 1, 0.55)),
}
UNIT_GRIDS = {"C5": (12, 10), "F6": (12, 7), "hidden1": (32, 16), "hidden2": (16, 8)}
# The layers whose maps the presenter can show large, per model, and how many maps each has
# (a dense layer is one map: its units as a grid). Also what a lesson link may name.
MAP_LAYERS = {"lenet5": ("C1", "S2", "C3", "S4"), "mlp": ("hidden1", "hidden2")}
MAP_COUNTS = {"C1": 6, "S2": 6, "C3": 16, "S4": 16, "hidden1": 1, "hidden2": 1}


def default_layer(models: list[str]) -> str:
    """The layer shown large until one is chosen: C3 (parts of digits) for LeNet-5, else hidden1."""
    return "C3" if "lenet5" in models else MAP_LAYERS[models[0]][0]
SIZES = {"C1": "6@28×28", "S2": "6@14×14", "C3": "16@10×10", "S4": "16@5×5", "C5": "120", "F6": "84",
         "hidden1": "512", "hidden2": "128", "input": "28×28", "output": "10"}


def _panel_maps(layer: str, values: np.ndarray) -> np.ndarray:
    """A layer's activations as (H, W, C) maps: feature maps as they are, dense units as a grid."""
    values = np.asarray(values, np.float32)
    if layer in UNIT_GRIDS:
        rows, columns = UNIT_GRIDS[layer]
        return values.reshape(rows, columns, 1)
    return values if values.ndim == 3 else values[:, :, None]


def _domains(weights: list[float], gap: float = 0.018) -> list[list[float]]:
    total, start, out = sum(weights), 0.0, []
    for w in weights:
        out.append([start + gap / 2, start + w / total - gap / 2])
        start += w / total
    return out


def labels_html(titles: list[str], weights: list[float], gap: float = 0.018, margin: int = 2) -> str:
    """Titles for a figure's panels as one HTML row (for `st.html`), each centred over its panel:
    panel i spans `_domains(weights, gap)[i]` of the plot's width, inside `margin` px each side.
    A title too long for its panel wraps (at spaces, or at <wbr>) instead of running into the next."""
    cells, end = [], 0.0
    for title, (start, stop) in zip(titles, _domains(weights, gap)):
        cells.append(f"<div style='margin-left:{(start - end) * 100:.3f}%;width:{(stop - start) * 100:.3f}%'>"
                     f"{title}</div>")
        end = stop
    return f"<div class='presenter-labels' style='padding:0 {margin}px'>{''.join(cells)}</div>"


def strip_titles(model: str) -> str:
    """The strip's panel titles (`labels_html`): each layer's name and its size."""
    panels = STRIP[model]
    titles = [f"<b>{layer}</b><br><span class='presenter-sub'>{SIZES[layer].replace('@', '@<wbr>')}</span>"
              for layer, _, _ in panels]
    return labels_html(titles, [w for _, _, w in panels])


def layer_strip(model: str, input28: np.ndarray, activations: dict, probabilities: np.ndarray | None,
                height: int = 10 * ROW + 8) -> go.Figure:
    """The whole network left to right, one panel per layer (`STRIP[model]`): the input, every
    feature map of each convolution / pooling layer as a small grid, the dense layers' units as
    grids, and the ten outputs as bars (the answer highlighted). Each panel has its own colour
    scale (dark = silent, bright = firing). Hover gives the map and the value.

    input28: (28, 28) float32; activations: `Classifier.activations` (or zeros of the same
    shapes); probabilities: (10,) float32, or None before anything is drawn.
    """
    panels = STRIP[model]
    layout = _layout(height, margin=dict(l=2, r=2, t=4, b=4), font=dict(size=FONT),
                     hoverlabel=dict(font=dict(size=FONT)))
    domains = _panels(layout, [w for _, _, w in panels], 0.018)
    traces = []
    for i, ((layer, columns, _), domain) in enumerate(zip(panels, domains)):
        suffix = "" if i == 0 else str(i + 1)
        axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        if layer == "input":
            traces.append(go.Heatmap(z=np.asarray(input28, np.float32), colorscale=INK, zmin=0, zmax=1,
                                     showscale=False, hovertemplate="input (%{y}, %{x}): %{z:.2f}<extra></extra>",
                                     **axes))
            continue
        if layer == "output":
            p = np.zeros(10, np.float32) if probabilities is None else np.asarray(probabilities, np.float32)
            colours = [ACCENT if probabilities is not None and k == int(p.argmax()) else MUTED for k in range(10)]
            traces.append(go.Bar(x=p, y=np.arange(10), orientation="h", marker_color=colours,
                                 hovertemplate="digit %{y}: %{x:.1%}<extra></extra>", **axes))
            # the digits as text inside the panel, left of the bars (x < 0): tick labels would lie on F6's map
            traces.append(go.Scatter(x=np.full(10, -0.18), y=np.arange(10), mode="text", text=[str(k) for k in range(10)],
                                     textfont=dict(size=FONT), hoverinfo="skip", **axes))
            layout[f"xaxis{suffix}"] = dict(domain=domain, anchor=f"y{suffix}", range=[-0.35, 1],
                                            showticklabels=False, showgrid=False, zeroline=False, fixedrange=True)
            layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", autorange="reversed", showticklabels=False,
                                            showgrid=False, zeroline=False, fixedrange=True)
            continue
        maps = _panel_maps(layer, activations[layer])
        h, w, count = maps.shape
        gap = 1 if count > 1 else 0
        z = mosaic(maps, columns, gap) if count > 1 else maps[:, :, 0]
        index = (mosaic(np.broadcast_to(np.arange(count, dtype=np.float32), maps.shape), columns, gap)
                 if count > 1 else None)
        peak = max(float(np.nanmax(z)) if np.isfinite(z).any() else 0.0, 1e-6)
        what = "map %{customdata}" if count > 1 else "unit %{pointNumber}"
        extra = {}
        if count > 1:
            extra["customdata"] = np.nan_to_num(index, nan=255).astype(np.uint8)
        else:
            extra["customdata"] = (np.arange(h * w).reshape(h, w)).astype(np.uint16)
            what = "unit %{customdata}"
        traces.append(go.Heatmap(z=z, colorscale=ACTIVATION, zmin=0, zmax=peak, showscale=False, hoverongaps=False,
                                 hovertemplate=f"{layer} {what}: %{{z:.2f}}<extra></extra>", **extra, **axes))
    layout["bargap"] = 0.15
    tiles = [(i, layer, k, x, y) for i, layer, k, x, y in _tile_centres(model, activations)]
    if tiles:  # heatmaps cannot be selected by a click in Plotly: one invisible marker per map can
        for i in sorted({t[0] for t in tiles}):
            mine = [t for t in tiles if t[0] == i]
            suffix = "" if i == 0 else str(i + 1)
            traces.append(go.Scatter(x=[t[3] for t in mine], y=[t[4] for t in mine], mode="markers",
                                     marker=dict(size=26, opacity=0), selected=dict(marker=dict(opacity=0)),
                                     unselected=dict(marker=dict(opacity=0)),
                                     customdata=[[t[2]] for t in mine], name=mine[0][1], legendgroup=mine[0][1],
                                     hovertemplate=f"{mine[0][1]} map %{{customdata[0]}}: click to see it large"
                                                   "<extra></extra>", xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
    return go.Figure(traces, layout)


def _tile_centres(model: str, activations: dict) -> list[tuple[int, str, int, float, float]]:
    """(panel, layer, map, x, y) of the centre of every feature map's tile in the strip's mosaics."""
    out = []
    for i, (layer, columns, _) in enumerate(STRIP[model]):
        if layer not in ("C1", "S2", "C3", "S4") or layer not in activations:
            continue
        h, w, count = np.shape(activations[layer])
        for k in range(count):
            r, c = divmod(k, columns)
            out.append((i, layer, k, c * (w + 1) + (w - 1) / 2, r * (h + 1) + (h - 1) / 2))
    return out


def strip_choice(point: dict) -> tuple[str, int] | None:
    """The (layer, map) a click on the strip selected (a Streamlit selection point), or None."""
    layer, custom = point.get("legendgroup"), point.get("customdata")
    if isinstance(custom, list) and custom and layer in ("C1", "S2", "C3", "S4"):
        return layer, int(custom[0])
    return None


DETAIL = ([1.15, 0.9, 1.0], 0.05)  # map_detail's panels: (width weights, gap), for labels_html
CONTRAST = ([1, 1, 1], 0.04)  # contrast_figure's


def _panels(layout: dict, weights: list[float], gap: float) -> list[list[float]]:
    """Picture axes (square pixels) for panels side by side; returns their domains."""
    domains = _domains(weights, gap)
    for i, domain in enumerate(domains):
        suffix = "" if i == 0 else str(i + 1)
        x, y = _image_axes(domain=domain)
        layout[f"xaxis{suffix}"] = dict(x, anchor=f"y{suffix}", fixedrange=True)
        layout[f"yaxis{suffix}"] = dict(y, anchor=f"x{suffix}", scaleanchor=f"x{suffix}", fixedrange=True)
    return domains


def map_detail(layer: str, index: int, fmap: np.ndarray, unit: tuple[int, int], fields: np.ndarray,
               kernels: np.ndarray, input28: np.ndarray, height: int = 290) -> go.Figure:
    """One feature map large, beside the kernel(s) that made it (a mosaic, 3 to a row) and the
    input with the chosen unit's receptive field. No titles: `labels_html` with `DETAIL` puts
    them above it.

    fmap:    (H, W) float32 activations of map `index` of `layer` (a dense layer: its units as a grid).
    unit:    (row, col) in fmap, marked with a box.
    fields:  (H, W, 4) int receptive field (top, left, bottom, right; half-open) of every unit,
             shown on hover, the chosen one drawn on the input.
    kernels: (kh, kw, n) float32.
    input28: (28, 28) float32.
    """
    h, w = fmap.shape
    kh, kw, n = kernels.shape
    columns = min(n, 3)
    layout = _layout(height, margin=dict(l=4, r=4, t=4, b=4), font=dict(size=FONT),
                     hoverlabel=dict(font=dict(size=FONT)))
    _panels(layout, *DETAIL)
    fields = np.asarray(fields)
    custom = np.stack([fields[..., 0], fields[..., 2] - 1, fields[..., 1], fields[..., 3] - 1], axis=-1)
    peak = max(float(fmap.max()), 1e-6)
    kernel_gap = 2 if n > columns else 1
    tiles = mosaic(kernels, columns, kernel_gap) if n > 1 else kernels[:, :, 0]
    limit = max(float(np.abs(kernels).max()), 1e-6)
    top, left, bottom, right = (int(v) for v in fields[unit])
    r, c = unit
    traces = [
        go.Heatmap(z=np.asarray(fmap, np.float32), customdata=custom.astype(np.uint8), colorscale=ACTIVATION,
                   zmin=0, zmax=peak, showscale=False,
                   hovertemplate=("unit (%{y}, %{x}): %{z:.2f}<br>sees input rows %{customdata[0]}–%{customdata[1]}, "
                                  "columns %{customdata[2]}–%{customdata[3]}<extra></extra>")),
        go.Heatmap(z=tiles, colorscale=DIVERGING, zmin=-limit, zmax=limit, zmid=0, showscale=False, hoverongaps=False,
                   hovertemplate="weight %{z:.3f}<extra></extra>", xaxis="x2", yaxis="y2"),
        go.Heatmap(z=np.asarray(input28, np.float32), colorscale=INK, zmin=0, zmax=1, showscale=False,
                   hovertemplate="input (%{y}, %{x}): %{z:.2f}<extra></extra>", xaxis="x3", yaxis="y3"),
    ]
    rows, cols = np.mgrid[0:h, 0:w]
    traces.append(go.Scatter(  # trace UNIT_TRACE: a click on a unit selects it (heatmaps cannot be selected)
        x=cols.ravel(), y=rows.ravel(), mode="markers", customdata=custom.reshape(-1, 4).astype(np.uint8),
        marker=dict(size=max(6, min(30, round(300 / max(h, w)))), opacity=0, symbol="square"),
        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
        hovertemplate=("unit (%{y}, %{x})<br>sees input rows %{customdata[0]}–%{customdata[1]}, "
                       "columns %{customdata[2]}–%{customdata[3]}<extra></extra>")))
    layout["shapes"] = [
        dict(type="rect", xref="x", yref="y", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
             line=dict(color=BOX, width=3)),
        dict(type="rect", xref="x3", yref="y3", x0=left - 0.5, x1=right - 0.5, y0=top - 0.5, y1=bottom - 0.5,
             line=dict(color=BOX, width=3)),
    ]
    return go.Figure(traces, layout)


def contrast_titles(label: int, other: int) -> list[str]:
    return [f"why <b>{label}</b>", f"why <b>{other}</b>", f"<b>{label}</b> rather than <b>{other}</b>"]


def contrast_figure(label: int, other: int, label_map: np.ndarray, other_map: np.ndarray,
                    difference: np.ndarray, input28: np.ndarray, height: int = 290, titles: bool = True) -> go.Figure:
    """"Why `label` and not `other`": the saliency of each and their difference, side by side,
    each over the digit's outline (grey line). One symmetric colour scale per panel: red, more
    ink here raises that score (or, in the difference, favours `label`), blue lowers it.

    label_map, other_map, difference: (28, 28) float32 (`mnist_core.reading.explain.contrast`);
    input28: (28, 28) float32. titles: False leaves them to `labels_html(contrast_titles(...), *CONTRAST)`.
    """
    layout = _layout(height, margin=dict(l=4, r=4, t=48 if titles else 4, b=4), font=dict(size=17),
                     hoverlabel=dict(font=dict(size=FONT)))
    domains = _panels(layout, *CONTRAST)
    traces = []
    for i, z in enumerate((label_map, other_map, difference)):
        suffix = "" if i == 0 else str(i + 1)
        limit = max(float(np.abs(z).max()), 1e-9)
        axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        traces.append(go.Heatmap(z=np.asarray(z, np.float32), colorscale=DIVERGING, zmin=-limit, zmax=limit, zmid=0,
                                 showscale=False, hovertemplate="(%{y}, %{x}): %{z:.4f}<extra></extra>", **axes))
        traces.append(go.Contour(z=np.asarray(input28, np.float32),
                                 contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                                 line=dict(color=OUTLINE, width=1.5), showscale=False, hoverinfo="skip", **axes))
    if titles:  # the Network tab's (the presenter writes them in HTML above)
        layout["annotations"] = [dict(text=t, x=sum(d) / 2, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                                      showarrow=False, font=dict(size=17))
                                 for t, d in zip(contrast_titles(label, other), domains)]
    return go.Figure(traces, layout)
