"""The MNIST app: draw a digit, see it preprocessed the MNIST way and read by the MLP and LeNet-5.

Run with `streamlit run app/streamlit_app.py`. Everything computed comes from `mnist_core`;
this file is the page layout: the sidebar and the tabs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run app/...` from the repo root

import streamlit as st  # noqa: E402

from app.tabs import data, draw, evaluation, learn, network  # noqa: E402

st.set_page_config(page_title="MNIST: draw a digit", page_icon="✏️", layout="wide")

with st.sidebar:
    st.title("MNIST, drawn")
    choice = st.radio("Model", ["LeNet-5", "MLP", "Both side by side"], key="model_choice")
    brush = st.slider("Brush width", 8, 40, 20, key="brush_width", help="Canvas pixels; the canvas is 280x280.")

MODELS = {"LeNet-5": ["lenet5"], "MLP": ["mlp"], "Both side by side": ["mlp", "lenet5"]}[choice]

tabs = st.tabs(["Draw", "Network", "Data", "Evaluation", "Learn"])
with tabs[0]:
    draw.render(MODELS, brush)
with tabs[1]:
    network.render(MODELS)
with tabs[2]:
    data.render(MODELS)
with tabs[3]:
    evaluation.render(MODELS)
with tabs[4]:
    learn.render(MODELS)
