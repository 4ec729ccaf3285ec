"""Plotly figures and pictures for a class's wall (app/tabs/classroom.py): they only lay out what
`mnist_core.collection.class_wall` computed."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from app.data_figures import DIGIT_COLOURS, _layout, montage
from app.figures import ACCENT


def join_qr_png(link: str, scale: int = 10) -> bytes:
    """The join link as a QR code (segno: pure Python), black on white with the standard 4-module
    quiet zone, as PNG bytes. Error correction M: readable from a phone across a classroom."""
    import segno

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def png(picture: np.ndarray) -> bytes:
    """A (H, W) uint8 picture as PNG bytes: encoded once, so that `st.image` does not encode it
    again on every refresh of the wall."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "PNG")
    return buffer.getvalue()


def tile_html(png_bytes: bytes, caption: str, width: int = 84) -> str:
    """A picture with its caption as HTML (the picture inline, base64): `st.html` sends it as text,
    where `st.image` opens and re-saves each picture on every refresh (about 0.6 ms a picture)."""
    data = base64.b64encode(png_bytes).decode("ascii")
    return (f"<div style='text-align:center;font-size:0.85rem;line-height:1.2'><img src='data:image/png;base64,{data}' "
            f"width='{width}' style='image-rendering:pixelated;display:block' alt='{html.escape(caption)}'>"
            f"{html.escape(caption)}</div>")


def counts_html(names: list[str], counts: list[int], title: str, colour: str = ACCENT) -> str:
    """Counts as HTML bars, one per name (a digit or a student), the count written on each.

    Written by hand rather than with Plotly: a validated Plotly bar chart took 16 ms to build and
    4 ms to send, and the wall's refresh has 50 ms in all; these are a few hundred bytes of text."""
    top = max(counts, default=0) or 1
    bars = "".join(
        f"<div style='display:flex;flex-direction:column;align-items:center;justify-content:flex-end;"
        f"flex:1;min-width:1.6rem;height:100%'><div style='font-size:0.9rem'>{n}</div>"
        f"<div style='width:70%;height:{70 * n / top:.0f}%;min-height:2px;background:{colour};border-radius:3px 3px 0 0'>"
        f"</div><div style='font-size:0.85rem;white-space:nowrap;overflow:hidden;max-width:6rem'>{html.escape(name)}"
        "</div></div>"
        for name, n in zip(names, counts))
    return (f"<div><b>{html.escape(title)}</b><div style='display:flex;gap:4px;height:170px;align-items:flex-end;"
            f"overflow-x:auto'>{bars}</div></div>")


def confusion_html(matrix: np.ndarray, colour: str = ACCENT) -> str:
    """A (10, 10) int confusion matrix (rows: the digit asked for, columns: what was read) as an
    HTML table, each count written in its cell: the diagonal tinted by its share of the row, the
    mistakes in orange; empty cells left blank so that the mistakes stand out.

    HTML rather than Plotly's heatmap: two heatmaps redrawn on every change of the wall held the
    teacher's browser for about a second (headless Chromium, 2 cores), and the arrivals wait
    behind it; a table is text."""
    m = np.asarray(matrix, np.int64)
    rows = []
    for true in range(10):
        total = int(m[true].sum()) or 1
        cells = []
        for read in range(10):
            n = int(m[true, read])
            if true == read:
                style = f"background:color-mix(in srgb,{colour} {25 + 60 * n / total:.0f}%,transparent)" if n else ""
            else:
                style = "background:#f28e2b;color:#000;font-weight:bold" if n else ""
            cells.append(f"<td style='{style}'>{n or ''}</td>")
        rows.append(f"<tr><th>{true}</th>{''.join(cells)}</tr>")
    head = "".join(f"<th>{d}</th>" for d in range(10))
    style = ("<style>.wall-confusion{border-collapse:collapse;width:100%;font-size:0.95rem}"
             ".wall-confusion td,.wall-confusion th{height:1.9rem;text-align:center;padding:0;"
             "border:1px solid rgba(128,128,128,.25)}</style>")
    return (f"{style}<table class='wall-confusion'><tr><th>asked ↓ read →</th>{head}</tr>{''.join(rows)}</table>")


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
    # one trace for MNIST's points, coloured per digit (ten traces took 20 ms more to build, on
    # every change of the wall); the class's digits are written in the same colours
    steps = [[edge, colour] for d, colour in enumerate(DIGIT_COLOURS) for edge in (d / 10, (d + 1) / 10)]
    # SVG, not WebGL: without a GPU (headless Chromium, many classroom laptops) WebGL is drawn in
    # software, slower than SVG for these few thousand points
    traces = [go.Scatter(x=coords[:, 0], y=coords[:, 1], mode="markers", name="MNIST (a colour per digit)",
                           marker=dict(size=3, color=np.asarray(labels, np.float32), colorscale=steps, cmin=-0.5,
                                       cmax=9.5, opacity=0.35), hoverinfo="skip")]
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

