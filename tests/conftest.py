"""Shared fixtures. Tests import the installed cvcore (``--import-mode=importlib``)."""
import os
import pathlib
import tempfile

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


def child_env(**extra):
    """Environment for a child Python that imports the same cvcore as this test process.

    ``python -c`` / ``python -m`` put the working folder first on ``sys.path``, so
    children run from a temporary folder and get the imported package's folder on
    ``PYTHONPATH`` (never the unbuilt source tree of a checkout).
    """
    import cvcore

    env = dict(os.environ, **extra)
    parent = os.path.dirname(os.path.dirname(os.path.abspath(cvcore.__file__)))
    env["PYTHONPATH"] = parent + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_and_interrupt(code, *, ready="READY", within=2.0, timeout=120):
    """Run ``code`` in a child Python, send SIGINT once it prints ``ready``,
    and return ``(seconds from SIGINT to exit, stderr)``.

    ``code`` must print ``ready`` (and flush) right before the long call.
    The child must end with ``KeyboardInterrupt`` within ``within`` seconds.
    """
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tempfile.gettempdir(), env=child_env())
    try:
        line = proc.stdout.readline()
        assert line.strip() == ready, f"child did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        time.sleep(0.5)  # let the long call get going
        assert proc.poll() is None, "the call finished before it could be interrupted; make it longer"
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("the call did not stop after SIGINT") from None
        elapsed = time.perf_counter() - t0
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in err, err[-2000:]
    assert elapsed < within, f"stopped {elapsed:.2f} s after SIGINT (limit {within} s)"
    return elapsed, err


@pytest.fixture
def interrupt_check():
    """:func:`run_and_interrupt` as a fixture (tests cannot import conftest in importlib mode)."""
    return run_and_interrupt
