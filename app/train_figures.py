"""Plotly figures for the Train tab: the growing loss and accuracy curves, and the watched weights.

Each function lays out what `mnist_core.training.live.Progress` holds; none changes a number.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import ACCENT, BOX, DIVERGING, NO_TEMPLATE, _image_axes, _tile_labels, mosaic
from mnist_core.training.live import Point


def curves(points: tuple[Point, ...], validation: tuple, epochs: int, height: int = 300) -> go.Figure:
    """Loss (left) and accuracy (right) against epochs: the training batches' means as lines,
    the held-out validation set after each epoch as dots. The x axis spans all `epochs` from the
    start, so the curves visibly grow towards the right."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["loss", "accuracy"], horizontal_spacing=0.08)
    x = np.array([p.epoch for p in points], np.float32)
    steps = [p.step for p in points]
    for col, values, fmt in ((1, [p.loss for p in points], ".3f"), (2, [p.accuracy for p in points], ".1%")):
        fig.add_trace(go.Scatter(x=x, y=np.array(values, np.float32), mode="lines+markers", name="training",
                                 line=dict(color=ACCENT, width=2), marker=dict(size=4), customdata=steps,
                                 hovertemplate=f"epoch %{{x:.2f}} (batch %{{customdata}}): %{{y:{fmt}}}<extra>training</extra>"),
                      row=1, col=col)
    if validation:
        epochs_done = np.array([v[0] for v in validation], np.float32)
        for col, values, fmt in ((1, [v[1] for v in validation], ".3f"), (2, [v[2] for v in validation], ".1%")):
            fig.add_trace(go.Scatter(x=epochs_done, y=np.array(values, np.float32), mode="markers", name="validation",
                                     marker=dict(color=BOX, size=9, symbol="diamond"),
                                     hovertemplate=f"after epoch %{{x:.0f}}: %{{y:{fmt}}}<extra>validation</extra>"),
                          row=1, col=col)
    span = [-0.05, max(epochs, 1) + 0.05]
    fig.update_xaxes(range=span, dtick=1, title_text="epoch", title_standoff=4, showgrid=False)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=4, r=4, t=28, b=4), paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)", template=NO_TEMPLATE, showlegend=False, uirevision="curves")
    return fig


def weight_tiles(weights: np.ndarray, labels: list[str], tile_px: int, per_tile: bool,
                 what: str = "weight") -> go.Figure:
    """Weights as a row of pictures, one diverging colour scale (red > 0, blue < 0).

    weights: (H, W, K) float32 (LeNet-5's C1 kernels (5, 5, 6); MLP templates (28, 28, K)), or
    their change since initialisation (`what="change"`: its own scale, as every call has).
    per_tile: scale each picture to its own largest |weight| (templates), else one scale for all.
    """
    weights = np.asarray(weights, np.float32)
    height, width, count = weights.shape
    limit = np.abs(weights).reshape(-1, count).max(axis=0) if per_tile else np.full(count, np.abs(weights).max())
    z = mosaic(weights / np.where(limit > 0, limit, 1), count)
    trace = go.Heatmap(z=z, customdata=mosaic(weights, count), colorscale=DIVERGING, zmin=-1, zmax=1, zmid=0,
                       showscale=False, hovertemplate=what + " %{customdata:+.3f}<extra></extra>")
    x, y = _image_axes()
    layout = dict(height=tile_px + 36, margin=dict(l=4, r=4, t=20, b=4), paper_bgcolor="rgba(0,0,0,0)",
                  plot_bgcolor="rgba(0,0,0,0)", template=NO_TEMPLATE, showlegend=False, xaxis=x,
                  yaxis=dict(y, scaleanchor="x"), annotations=_tile_labels(count, count, height, width, labels.__getitem__))
    return go.Figure(trace, layout)
