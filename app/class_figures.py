"""Plotly figures and pictures for a class's wall (app/tabs/classroom.py): they only lay out what
`mnist_core.class_wall` computed."""

from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go

from app.data_figures import DIGIT_COLOURS, _layout, montage
from app.figures import ACCENT


def join_qr_png(link: str, scale: int = 10) -> bytes:
    """The join link as a QR code (segno: pure Python), black on white with the standard 4-module
    quiet zone, as PNG bytes. Error correction M: readable from a phone across a classroom."""
    import segno

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def counts_bars(names: list[str], counts: list[int], title: str, height: int = 260,
                colour: str = ACCENT) -> go.Figure:
    """A bar per name (a digit or a student), its count written above it."""
    fig = go.Figure(go.Bar(x=names, y=counts, text=counts, textposition="outside", marker_color=colour,
                           hovertemplate="%{x}: %{y}<extra></extra>", cliponaxis=False))
    top = max(counts, default=0)
    fig.update_layout(**_layout(height, title=dict(text=title, x=0, font=dict(size=15))))
    fig.update_xaxes(type="category", fixedrange=True)
    fig.update_yaxes(range=[0, max(1, top) * 1.25], fixedrange=True, dtick=max(1, -(-top // 4)), tickformat=",d")
    return fig


def means_picture(class_means: np.ndarray, mnist_means: np.ndarray | None) -> np.ndarray:
    """The class's mean image of each digit (top row) over MNIST's (bottom row, when given):
    (10, 28, 28) float32 in [0, 1] each -> one uint8 picture for `st.image`."""
    rows = class_means if mnist_means is None else np.concatenate([class_means, mnist_means])
    return montage(rows, 10, scale=4, pad=4)


def class_on_map(coords: np.ndarray, labels: np.ndarray, class_coords: np.ndarray, class_labels: np.ndarray,
                 names: list[str], height: int = 520) -> go.Figure:
    """MNIST's images on the Data tab's PCA map (small faint points, a colour per digit) and the
    class's drawings on it (each written as its digit, large, outlined). coords (N, 2), labels (N,);
    class_coords (M, 2), class_labels (M,) the digits asked for; names (M,) their students."""
    traces = [go.Scattergl(x=coords[labels == d, 0], y=coords[labels == d, 1], mode="markers", name=f"MNIST {d}",
                           marker=dict(size=3, color=DIGIT_COLOURS[d], opacity=0.35), hoverinfo="skip",
                           legendgroup=str(d))
              for d in range(10)]
    traces.append(go.Scatter(x=class_coords[:, 0], y=class_coords[:, 1], mode="text", name="the class",
                             text=[f"<b>{d}</b>" for d in class_labels], customdata=names,
                             textfont=dict(size=17, color=[DIGIT_COLOURS[d] for d in class_labels]),
                             hovertemplate="%{text} by %{customdata}<extra></extra>"))
    layout = _layout(height, title=dict(text="The class's digits (large) among MNIST's (points), on the Data tab's "
                                             "PCA map", x=0, font=dict(size=15)),
                     legend=dict(itemsizing="constant", font=dict(size=12)),
                     xaxis=dict(title="first principal component", zeroline=False),
                     yaxis=dict(title="second principal component", zeroline=False))
    return go.Figure(traces, layout)

