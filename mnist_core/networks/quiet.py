"""Silence native libraries' start-up notices on standard error.

TensorFlow 2.21 prints "oneDNN custom operations are on..." through absl before its logging is
set up (TF_CPP_MIN_LOG_LEVEL does not reach it), and LiteRT prints "Created TensorFlow Lite
XNNPACK delegate for CPU" on its first interpreter. Both go straight to file descriptor 2, so
Python cannot filter them: the CLI's contract (one stderr line per bad file) needs them gone.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


@contextmanager
def native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration (Python's own sys.stderr is flushed
    first and works again after). Use it only around a one-off, load-time call."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
