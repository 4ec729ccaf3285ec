"""What a class's wall costs the server per refresh: a benchmark script, not a test.

    MNIST_DATA=../shared/mnist python tests/wall_check.py [--students 30] [--each 10]

Builds a class of STUDENTS x EACH drawings (MNIST test images, with both committed models'
answers, as the app keeps them) in a throwaway SQLite collection, then runs the wall's fragment
(`app.tabs.classroom`'s two fragments: the arrivals, every WALL_SECONDS, and the figures, every
FIGURES_SECONDS; each is the version query, the reads and computing when something changed, and
every element it sends) under Streamlit's AppTest, and prints the medians of their times: with
nothing new, and with a new drawing before each refresh. Run it with nothing else running.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = """
import sys, time
sys.path.insert(0, {root!r})
import streamlit as st
from app import roles
from app.tabs import classroom
roles.teacher_keys()[{code!r}] = {key!r}
times = st.session_state.setdefault("wall_times", {{"arriving": [], "figures": []}})
for part, fragment in (("arriving", classroom._arriving), ("figures", classroom._figures_part)):
    start = time.perf_counter()
    fragment({code!r})
    times[part].append(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--each", type=int, default=10)
    parser.add_argument("--refreshes", type=int, default=30)
    args = parser.parse_args()

    import numpy as np
    from streamlit.testing.v1 import AppTest

    from mnist_core import Classifier, load_mnist
    from mnist_core.collection import classroom
    from mnist_core.collection.database import Collection

    folder = tempfile.mkdtemp(prefix="wall-check-")
    os.environ["MNIST_COLLECTION"] = db = str(Path(folder) / "class.sqlite3")
    data = load_mnist()
    n = args.students * args.each
    x = data.x_test[: n + args.refreshes]
    answers = {name: Classifier.load(name).classify_batch(x.astype(np.float32) / 255) for name in ("mlp", "lenet5")}

    def keep(collection, code, i):
        predictions = {name: {"label": int(p[i].argmax()), "probabilities": p[i], "sha256": None}
                       for name, p in answers.items()}
        classroom.add(collection, code, x[i], int(data.y_test[i]), student=f"s{i % args.students}",
                      predictions=predictions)

    collection = Collection(db)
    started = classroom.start(collection)
    for i in range(n):
        keep(collection, started.code, i)
    at = AppTest.from_string(PAGE.format(root=str(ROOT), code=started.code, key=started.teacher_key),
                             default_timeout=120)
    at.run()  # the first run loads MNIST's means and map and builds everything
    assert not at.exception, at.exception
    times = at.session_state["wall_times"]
    first = times["arriving"][-1] + times["figures"][-1]
    for _ in range(args.refreshes):
        at.run()
    quiet = {part: values[-args.refreshes:] for part, values in times.items()}
    for k in range(args.refreshes):
        keep(collection, started.code, n + k)
        at.run()
    busy = {part: values[-args.refreshes:] for part, values in times.items()}
    ms = lambda values: f"median {1000 * statistics.median(values):.1f} ms, max {1000 * max(values):.1f} ms"  # noqa: E731
    print(f"class of {args.students} x {args.each} = {n} drawings; {args.refreshes} refreshes each")
    print(f"first refresh (MNIST's means and map loaded, everything built): {1000 * first:.0f} ms")
    for part, every in (("arriving", "every 1 s"), ("figures", "every 5 s")):
        print(f"{part} ({every}): nothing new {ms(quiet[part])}; a new drawing before each {ms(busy[part])}")


if __name__ == "__main__":
    main()
