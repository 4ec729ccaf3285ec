"""The app's server: `streamlit run app/serve.py`. It serves the page `streamlit_app.py` and warms
what the page will need as soon as the server starts, so that the first visitor waits for none of it.

A background thread (`warm`), started by the server's lifespan hook (`st.App`):
1. imports the page's modules and loads both models, checked against their cards, into the
   process-wide caches the page reads (`st.cache_resource`): the first page's run then takes
   0.2 s instead of 1.5 s;
2. then, once the first page has been served (or after 30 s without a visitor), at a lower CPU
   priority (nice +10: a visitor's stroke comes first), loads MNIST if it is
   there and computes what the Data and Evaluation tabs show first (statistics, the PCA map, the
   test set read by each model: `st.cache_data`). The t-SNE map is left to the button that asks for it,
   and the other tabs' modules (pandas, 61 MB) to the first visit of one.

`streamlit run app/streamlit_app.py` serves the same page without the warm-up. Nothing here holds
per-user state.
"""

import logging
import os
import sys
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run app/serve.py` from the repo root

import streamlit as st  # noqa: E402
from streamlit.logger import get_logger  # noqa: E402  (the server log's format and level)

LOG = get_logger("app.serve")
FIRST_PAGE_WAIT_S = 30.0  # with no visitor by then, the data figures are computed anyway
AFTER_FIRST_PAGE_S = 2.0  # the browser draws the page after its script run: about a second here
# Streamlit's caches warn once per call made outside a script run; here that is the point.
_CONTEXT_WARNINGS = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")


def warm() -> None:
    """Fill the page's caches (see the module's docstring). Never raises: a failure is logged,
    and the page computes what is missing when a visitor asks for it, as without the warm-up."""
    start = time.monotonic()
    _CONTEXT_WARNINGS.setLevel(logging.ERROR)
    try:
        from app import lesson_link, resources  # noqa: F401  (what the first page imports)
        from app.tabs import draw, numbers, train  # noqa: F401
        from mnist_core import MODEL_NAMES

        for name in MODEL_NAMES:
            resources.load_classifier(name)
        LOG.info("warm: the first page's modules and models ready in %.1f s", time.monotonic() - start)

        # The rest waits for the first page to be served and drawn: run beside it, even at a lower
        # priority, it cost that page 0.8 s (3.9 s from `streamlit run` to a usable canvas, not 3.1).
        if resources.FIRST_PAGE_SERVED.wait(timeout=FIRST_PAGE_WAIT_S):
            time.sleep(AFTER_FIRST_PAGE_S)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread only (Linux)
        from app import data_cache  # not the other tabs' modules: pandas is 61 MB, imported when one opens

        mnist, _ = data_cache.load_data()
        if mnist is not None:
            data_cache.data_stats(mnist.sha256, next(iter(data_cache.SPLITS)))
            data_cache.pca_map(mnist.sha256)
            for name, classifier in data_cache.available_models().items():
                data_cache.test_metrics(name, classifier.card["sha256"], mnist.sha256)
        LOG.info("warm: data figures %s in %.1f s", "ready" if mnist is not None else "skipped (no MNIST)",
                 time.monotonic() - start)
    except Exception:  # the page still works: it computes on demand
        LOG.exception("warm-up failed; the page will compute what it needs on demand")
    finally:
        _CONTEXT_WARNINGS.setLevel(logging.NOTSET)


@asynccontextmanager
async def _lifespan(_app):
    threading.Thread(target=warm, name="warm-caches", daemon=True).start()
    yield


app = st.App("streamlit_app.py", lifespan=_lifespan)
