"""Minimal Streamlit page used by the e2e harness smoke test.

A 280x280 streamlit-drawable-canvas (white 18px freedraw on black) and an
``st.metric("Prediction", ...)`` computed from the canvas result, so a test can
tell that the page reran after a stroke.

Switches (query param wins over env var):
  ?mode=png  | LAB_MODE=png   -> return_image_data=True; metric = ink pixel count
  ?mode=json | LAB_MODE=json  -> json_data only;         metric = number of paths
  ?fragment=1 | LAB_FRAGMENT=1 -> canvas + metric inside an @st.fragment
"""

from __future__ import annotations

import os

import streamlit as st
from streamlit_drawable_canvas import st_canvas

STROKE_WIDTH = 18
CANVAS_SIZE = 280


def _opt(name: str, env: str, default: str) -> str:
    value = st.query_params.get(name)
    if value is None:
        value = os.environ.get(env, default)
    return str(value)


MODE = _opt("mode", "LAB_MODE", "png").lower()
USE_FRAGMENT = _opt("fragment", "LAB_FRAGMENT", "0") in ("1", "true", "yes")
RETURN_IMAGE = MODE != "json"


def canvas_and_metric() -> None:
    result = st_canvas(
        stroke_color="#FFFFFF",
        background_color="#000000",
        stroke_width=STROKE_WIDTH,
        drawing_mode="freedraw",
        update_streamlit=True,
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        return_image_data=RETURN_IMAGE,
        key="canvas",
    )
    objects = (result.json_data or {}).get("objects", [])
    n_paths = sum(1 for o in objects if o.get("type") == "Path")
    if RETURN_IMAGE:
        img = result.image_data  # (280, 280, 4) uint8 RGBA, None before 1st send
        value = 0 if img is None else int((img[:, :, :3].max(axis=2) > 127).sum())
    else:
        value = n_paths
    st.metric("Prediction", str(value))
    st.caption(f"mode={MODE} fragment={USE_FRAGMENT} paths={n_paths}")


st.title("Canvas lab")

if USE_FRAGMENT:

    @st.fragment
    def _fragment() -> None:
        canvas_and_metric()

    _fragment()
else:
    canvas_and_metric()
