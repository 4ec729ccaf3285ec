"""The MNIST app: draw a digit, see it preprocessed the MNIST way and read by the MLP and LeNet-5.

Run with `streamlit run app/serve.py` (this page, with its caches warmed as the server starts), or
`streamlit run app/streamlit_app.py` (the same page, without). Everything computed comes from
`mnist_core`; this file is the page layout: the sidebar and the tabs.
"""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run app/...` from the repo root

import streamlit as st  # noqa: E402

from app import classes, lesson_link, resources  # noqa: E402
from app.tabs import draw, numbers, train  # noqa: E402  (the other tabs: imported when first opened)

# A lesson link to the presenter view opens with the sidebar folded: the projector's whole width
# for the view (initial_sidebar_state applies to the page's first load only).
st.set_page_config(page_title="MNIST: draw a digit", page_icon="✏️", layout="wide",
                   initial_sidebar_state="collapsed" if st.query_params.get("view") == "presenter" else "auto")

lesson_link.open_link()  # a lesson link sets the model, the view and the drawing (first run only)
classes.join_from_link()  # a class's join link (?class=CODE) or its teacher link (first run only)
with st.sidebar:
    st.title("MNIST, drawn")
    choice = st.radio("Model", ["LeNet-5", "MLP", "Both side by side", *train.trained_model_choices()],
                      key="model_choice")
    brush = st.slider("Brush width, in pixels of the 280×280 canvas", 8, 40, 20, key="brush_width")  # no tooltip: it covered the model choice
    presenting = st.toggle("Presenter view", key="presenter",
                           help="The canvas and the network's layers on one screen, in large type, for a "
                                "projector. The address bar always holds the drawing, model and view: copy it "
                                "to share this lesson.")
    train.sidebar_status()  # a running training's progress, polled: its heartbeat on every tab
lesson_link.sync_settings(choice, presenting)

# the Draw tab reads a session's trained model; the other tabs show the committed one of its kind
COMMITTED = {"LeNet-5": ["lenet5"], "MLP": ["mlp"], "Both side by side": ["mlp", "lenet5"]}
MODELS, OTHERS = train.models_for(choice, COMMITTED)

# Tabs and the Draw fragment. A stroke reruns only the Draw tab's fragment (fast), so anything
# outside it, like the Network tab, is not redrawn then. Streamlit tabs normally switch in the
# browser alone, which would leave Network showing a stale drawing. With on_change="rerun"
# (Streamlit 1.67) switching tabs reruns the script and `.open` says which tab is shown: the
# open tab is rendered from the current session state, so Network always shows the drawing the
# user just made, and hidden tabs cost nothing (their modules are imported when one is first
# opened: pandas alone is 61 MB). Draw is the exception: it runs on every full rerun
# even when hidden, because its canvas must stay mounted to keep the user's strokes (an unmounted
# canvas would come back empty); it is cheap, and it records the digit that Network reads.
tabs = st.tabs(["Draw", "Numbers", "Network", "Data", "Evaluation", "Learn", "Train", "Collected", "Class"],
               key="tab", on_change="rerun")
with tabs[0]:
    draw.render(MODELS, brush)
with tabs[1]:  # always rendered, like Draw: its canvas keeps the user's strokes (app/tabs/numbers.py)
    numbers.render(MODELS, brush)
for tab, page in zip(tabs[2:], ("network", "data", "evaluation", "learn", "train", "collected", "classroom")):
    if tab.open:
        with tab:
            importlib.import_module(f"app.tabs.{page}").render(OTHERS)
resources.FIRST_PAGE_SERVED.set()  # app/serve.py's warm-up goes on with what this page did not need
