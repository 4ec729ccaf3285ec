"""Uploaded and camera photos: decoded once per file, with a one-line error for a bad one.

The Draw and Numbers tabs take a photo or scan by `st.file_uploader` or `st.camera_input`; both
give an `UploadedFile`, decoded here by `mnist_core.imaging.images.load_image` within the limits below.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_core.imaging.images import ImageError, load_image

MAX_UPLOAD_MB = 10  # also `server.maxUploadSize` in .streamlit/config.toml
MAX_UPLOAD_PIXELS = 16_000_000  # a 12-megapixel phone photo fits; each pixel costs ~20 bytes in a session
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]
LIMITS = (f"PNG, JPEG, WebP, BMP or GIF; at most {MAX_UPLOAD_MB} MB and {MAX_UPLOAD_PIXELS / 1e6:.0f} megapixels.")


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def decoded(upload, cache_key: str) -> dict:
    """The file `upload` (an UploadedFile) decoded, kept in st.session_state[cache_key] until
    another file comes: {"id": its file id, "name": one line, "pixels": (H, W[, C]) uint8 or
    None, "error": None or one line saying why it cannot be read}. Extra keys a tab stores in
    the dict (the Draw tab's marks) last as long as the file."""
    cache = st.session_state.get(cache_key)
    if cache is None or cache["id"] != upload.file_id:
        name = one_line(upload.name)
        try:
            pixels: np.ndarray | None = load_image(upload.getvalue(), max_bytes=MAX_UPLOAD_MB * 1024 * 1024,
                                                   max_pixels=MAX_UPLOAD_PIXELS)
            error = None
        except ImageError as reason:
            pixels, error = None, one_line(f"Cannot read {name}: {reason}. Try another file, or draw instead.")
        cache = {"id": upload.file_id, "name": name, "pixels": pixels, "error": error}
        st.session_state[cache_key] = cache
    return cache


def read_from(source_key: str, source: str, widget_key: str) -> None:
    """An uploader's or camera's on_change: st.session_state[source_key] becomes `source` ("upload"
    or "camera") while that widget (`widget_key`) holds a file, "canvas" once it is emptied."""
    st.session_state[source_key] = source if st.session_state.get(widget_key) is not None else "canvas"
