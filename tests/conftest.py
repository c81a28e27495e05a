"""Shared fixtures. Tests import the installed cvcore (``--import-mode=importlib``)."""
import os
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def shared_data_dir():
    """``../shared/data`` beside the checkout (or ``$CVCORE_SHARED_DATA``), or None."""
    env = os.environ.get("CVCORE_SHARED_DATA")
    path = pathlib.Path(env) if env else ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data():
    """Path to the real test data; the test is skipped when it is absent."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is not present (real-data tests need it)")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
