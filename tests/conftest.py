"""Shared test fixtures. The real MNIST data is loaded once per session (fixture `mnist`)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before anything imports keras

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so plain `pytest` (not only `python -m pytest`) finds mnist_core
    sys.path.insert(0, str(ROOT))

# The project's local copy of MNIST lives beside the repo (../shared/mnist); use it by default.
SHARED_MNIST = ROOT.parent / "shared" / "mnist"
if not os.environ.get("MNIST_DATA") and SHARED_MNIST.is_dir():
    os.environ["MNIST_DATA"] = str(SHARED_MNIST)


@pytest.fixture(scope="session")
def mnist():
    """The real data set as `mnist_core.data.MnistData` (arrays read-only: copy before changing).

    No data: fails when the CI environment variable is set (data-dependent tests must never be
    skipped in CI), skips otherwise.
    """
    from mnist_core.data import DataUnavailable, load_mnist

    try:
        return load_mnist()
    except DataUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"MNIST data unavailable in CI: {e}")
        pytest.skip(f"MNIST data unavailable: {e}")
