"""The collected drawings (`database.Collection`) as a data set: for training and for scoring.

    >>> drawings = load_collected("collected.sqlite3")     # or a postgresql:// URL, or None
    >>> train, heldout = split_by_session(drawings.sessions)
    >>> score(probabilities, drawings.labels, drawings.sessions, trained_sessions=card_sessions)

A person draws several digits in one app session, in one hand: drawings of one session are
never split between training and scoring. `split_by_session` puts whole sessions on either side,
and `score` leaves out the sessions a model was trained on (its card's "collected" entry lists
them), so accuracy on collected drawings is always measured on drawings the model never saw.
Drawings saved without a session (not from the app) count as one session together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..evaluation.evaluate import metrics
from .database import Collection, CollectionError

NO_SESSION = ""  # the group of drawings saved without a session


@dataclass(frozen=True)
class Collected:
    """Every drawing of a collection, oldest first.

    images (N, 28, 28) uint8 0..255 (the models' input, as saved); labels (N,) uint8, the digit the
    user gave; sessions: N strings (NO_SESSION for none); source: where it was read, no password;
    ids: (N,) int64, each drawing's id in the collection (None when not read from one).
    """

    images: np.ndarray
    labels: np.ndarray
    sessions: list[str]
    source: str
    ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index) -> Collected:
        index = np.asarray(index, dtype=np.int64)
        return Collected(self.images[index], self.labels[index], [self.sessions[i] for i in index], self.source,
                         None if self.ids is None else self.ids[index])

    def floats(self) -> np.ndarray:
        """The images as (N, 28, 28) float32 in [0, 1], as the models take them."""
        return self.images.astype(np.float32) / 255


def load_collected(path_or_url: str | os.PathLike | Collection | None = None, *, session: str | None = None) -> Collected:
    """Read every drawing of a collection (a path, a URL, None for the default, or an open
    Collection), or only those `session` saved. Raises CollectionError (one line) when the
    database cannot be used, or when a path is given and there is no such file."""
    own = not isinstance(path_or_url, Collection)
    if own and path_or_url is not None and "://" not in os.fspath(path_or_url) \
            and not Path(path_or_url).expanduser().exists():
        # reading a file that is not there would create an empty collection: a typo is an error
        raise CollectionError(f"collection {path_or_url}: no such file")
    collection = Collection(path_or_url) if own else path_or_url
    try:
        for _ in range(3):  # two queries: retry if a drawing was added or deleted in between
            records = collection.records(session=session)[::-1]  # newest first -> oldest first, as images()
            images, labels = collection.images(session=session)
            if len(records) == len(labels) and all(r.label == y for r, y in zip(records, labels)):
                sessions = [r.session or NO_SESSION for r in records]
                return Collected(images, labels, sessions, collection.url, np.array([r.id for r in records], np.int64))
        raise CollectionError(f"collection {collection.url}: changed while being read three times; try again")
    finally:
        if own:
            collection.close()


def split_by_session(sessions, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train index, held-out index) into `sessions`: whole sessions on each side, about half the
    drawings each. Sessions are taken in a random order (`seed`) and each goes to the side with
    fewer drawings so far (training on a tie), so one session gives no held-out drawings and two
    give one each side. Both index arrays are sorted."""
    sessions = np.asarray(list(sessions), dtype=object)
    names, counts = np.unique(sessions.astype(str), return_counts=True) if len(sessions) else ([], [])
    order = np.random.default_rng(seed).permutation(len(names))
    sizes, held = [0, 0], set()
    for i in order:
        side = 0 if sizes[0] <= sizes[1] else 1
        sizes[side] += counts[i]
        if side:
            held.add(names[i])
    is_held = np.array([s in held for s in sessions.astype(str)], dtype=bool)
    return np.flatnonzero(~is_held), np.flatnonzero(is_held)


def score(probabilities: np.ndarray, labels, sessions, trained_sessions=()) -> dict | None:
    """Accuracy on collected drawings, leaving out the sessions the model was trained on.

    probabilities (N, 10); labels (N,); sessions (N,); trained_sessions: from the model card's
    "collected" entry (empty for a model that never saw collected drawings).
    Returns `evaluate.metrics` of the rest plus "left_out" (drawings skipped as trained on),
    or None when no drawing is left to score.
    """
    trained = set(trained_sessions)
    keep = np.array([s not in trained for s in sessions], dtype=bool)
    if not keep.any():
        return None
    result = metrics(np.asarray(probabilities)[keep], np.asarray(labels)[keep])
    return {**result, "left_out": int((~keep).sum())}


def trained_sessions(card: dict) -> list[str]:
    """The collected sessions a model was trained on, from its card ([] if none)."""
    return list((card.get("collected") or {}).get("train_sessions") or [])
