"""The one thread control: set/get, the context manager, the environment variable, the default."""
import os
import subprocess
import sys
import tempfile
import threading

import pytest

import cvcore
from cvcore import _threads


def test_default_is_every_available_core():
    cores = _threads.available_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    code = "import cvcore; print(cvcore.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "CVCORE_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=tempfile.gettempdir())
    assert int(out.stdout) == cores


def test_environment_variable_sets_the_start_value_and_is_checked():
    code = "import cvcore; print(cvcore.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "CVCORE_NUM_THREADS": "3"}, check=True, cwd=tempfile.gettempdir())
    assert out.stdout.strip() == "3"
    bad = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "CVCORE_NUM_THREADS": "lots"}, cwd=tempfile.gettempdir())
    assert bad.returncode != 0 and "CVCORE_NUM_THREADS='lots' is invalid" in bad.stderr


def test_set_returns_the_previous_value_and_context_manager_restores():
    before = cvcore.get_num_threads()
    with cvcore.num_threads(1):
        assert cvcore.get_num_threads() == 1
        with cvcore.num_threads(3):
            assert cvcore.get_num_threads() == 3
        assert cvcore.get_num_threads() == 1
    assert cvcore.get_num_threads() == before
    old = cvcore.set_num_threads(-1)
    try:
        assert old == before and cvcore.get_num_threads() == _threads.available_cores()
    finally:
        cvcore.set_num_threads(old)


def test_context_manager_restores_after_an_exception():
    before = cvcore.get_num_threads()
    with pytest.raises(RuntimeError):
        with cvcore.num_threads(1):
            raise RuntimeError("boom")
    assert cvcore.get_num_threads() == before


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (10**6, ValueError), (1.5, TypeError),
                                      ("2", TypeError), (True, TypeError), (None, TypeError)])
def test_bad_thread_counts_name_the_argument(bad, exc):
    with pytest.raises(exc, match="n must be"):
        cvcore.set_num_threads(bad)


def test_setting_is_process_wide_across_python_threads():
    seen = []
    with cvcore.num_threads(1):
        t = threading.Thread(target=lambda: seen.append(cvcore.get_num_threads()))
        t.start()
        t.join()
    assert seen == [1]


@pytest.mark.parametrize("name, default, other", [("OMP_WAIT_POLICY", "PASSIVE", "ACTIVE"),
                                                   ("GOMP_SPINCOUNT", "2000", "0")])
def test_importing_cvcore_makes_idle_openmp_threads_sleep_soon_unless_told_otherwise(name, default, other):
    code = f"import os, cvcore; print(os.environ['{name}'])"
    env = {k: v for k, v in os.environ.items() if k != name}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == default
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, name: other}, check=True)
    assert out.stdout.strip() == other


def _harness():
    from cvcore._commands import bench

    bench._benchmarks_package()
    from cvcore._benchmarks import _harness
    return _harness


def test_bench_rows_single_default_and_scaling():
    cv2 = pytest.importorskip("cv2")
    harness = _harness()
    seen = []

    def ours():
        seen.append((cvcore.get_num_threads(), cv2.getNumThreads()))

    case = harness.Case("noop", ours, lambda: None, "nothing", min_speedup=0.001, scaling=0.5)
    rows = harness.run([case], quick=True, threads=3, log=lambda row: None)
    assert [r["threads"] for r in rows] == [1, 3, "1->3"]
    assert rows[-1]["name"] == "noop scaling" and rows[-1]["peer"] == "cvcore 1 thread vs 3"
    assert (1, 1) in seen and (3, 3) in seen  # --threads sets cvcore and OpenCV alike
    assert len(harness.run([case], quick=True, threads=1, log=lambda row: None)) == 2  # no default row


@pytest.mark.parametrize("value", ["0", "-2", "2000"])
def test_bench_threads_option_is_checked(value):
    out = subprocess.run([sys.executable, "-m", "cvcore", "bench", "--threads", value, "--list"],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "--threads must be -1 (all cores) or 1..1024" in out.stderr
