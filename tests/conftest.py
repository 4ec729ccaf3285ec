"""Shared test fixtures. The real MNIST data is loaded once per session (fixture `mnist`)."""

import itertools
import os

os.environ["KERAS_BACKEND"] = "tensorflow"  # before anything imports keras

import sys
from pathlib import Path

import pytest
from postgres_support import PostgresUnavailable, create_database, throwaway_postgres

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so plain `pytest` (not only `python -m pytest`) finds mnist_core
    sys.path.insert(0, str(ROOT))

# The project's local copy of MNIST lives beside the repo (../shared/mnist); use it by default.
SHARED_MNIST = ROOT.parent / "shared" / "mnist"
if not os.environ.get("MNIST_DATA") and SHARED_MNIST.is_dir():
    os.environ["MNIST_DATA"] = str(SHARED_MNIST)


@pytest.fixture(scope="session")
def mnist():
    """The real data set as `mnist_core.datasets.data.MnistData` (arrays read-only: copy before changing).

    No data: fails when the CI environment variable is set (data-dependent tests must never be
    skipped in CI), skips otherwise.
    """
    from mnist_core.datasets.data import DataUnavailable, load_mnist

    try:
        return load_mnist()
    except DataUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"MNIST data unavailable in CI: {e}")
        pytest.skip(f"MNIST data unavailable: {e}")


@pytest.fixture(scope="session")
def pendigits():
    """The real pen-drawn digits (`mnist_core.datasets.pendigits.Pendigits`), loaded once per session.
    No data: fails when the CI environment variable is set, skips otherwise."""
    from mnist_core.datasets.pendigits import PendigitsUnavailable, load_pendigits

    try:
        return load_pendigits()
    except PendigitsUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"pendigits data unavailable in CI: {e}")
        pytest.skip(str(e))


# ---------------------------------------------------------------------------- databases
# PostgreSQL is started once per session from Debian's packages (tests/postgres_support.py;
# .ci/postgres.sh installs them); each test gets a fresh database in it. Without the binaries the
# PostgreSQL cases fail when the CI environment variable is set and are skipped otherwise.

@pytest.fixture(scope="session")
def pg_server():
    try:
        with throwaway_postgres() as url:
            yield url
    except PostgresUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL needed in CI: {e}")
        pytest.skip(str(e))


_db_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """Where a fresh, empty collection goes: an SQLite file path, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "collection.sqlite3")
    server = request.getfixturevalue("pg_server")
    return create_database(server, f"collection_{os.getpid()}_{next(_db_names)}")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds (a training run); never skipped, "
                                       "deselect locally with -m 'not slow'")


COMMITTED_MODELS = ROOT / "models"


@pytest.fixture(scope="session")
def committed():
    """`committed(name)` -> the Classifier of the repository's models/<name>.keras (never
    $MNIST_MODELS), loaded once per session.

    A missing model fails when the CI environment variable is set, skips otherwise; a model that
    is there but does not match its card (ModelFileError) always fails.
    """
    from mnist_core.reading.classifier import Classifier

    loaded = {}

    def load(name):
        if name not in loaded:
            missing = [p for p in (COMMITTED_MODELS / f"{name}.keras", COMMITTED_MODELS / f"{name}.json")
                       if not p.is_file()]
            if missing:
                message = f"committed model missing: {missing[0]} (run `python -m mnist_core train --model {name}`)"
                if os.environ.get("CI"):
                    pytest.fail(message)
                pytest.skip(message)
            loaded[name] = Classifier.load(name, COMMITTED_MODELS)
        return loaded[name]

    return load
