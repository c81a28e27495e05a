"""The one thread control for cvcore's OpenMP kernels.

Like OpenCV's ``setNumThreads`` and threadpoolctl's limits: one process-wide
number of threads that every parallel kernel uses, set by
:func:`set_num_threads`, temporarily by the context manager
:func:`num_threads`, or at start-up by the environment variable
``CVCORE_NUM_THREADS``. The default is every core this process may use: the
CPU affinity mask, reduced by a cgroup CPU quota (containers) when one is set.

Kernels receive the count as an argument (``n_threads``) from their Python
wrapper, which reads :func:`get_num_threads` once per call, so a change never
affects a kernel already running, and threads of the caller's own (a thread
pool, a Dask worker) each get the same setting. Results never depend on it.

Idle OpenMP threads sleep instead of spinning: importing cvcore sets
``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it. cvcore's
parallel regions are coarse (one per band of rows, milliseconds of work), so
waking a thread costs nothing measurable, whereas threads spinning at a
barrier take the cores that the slowest thread needs on a busy or
oversubscribed machine (measured here: 2 threads up to 10x slower than 1
while other processes ran). A thread that has just finished does spin
briefly before sleeping (``GOMP_SPINCOUNT=2000``, about 50 microseconds,
unless the environment sets it): sub-millisecond filters then find their
second thread awake (1024x1024 Laplacian 1->2 threads 1.36x -> 1.59x)
without holding a core for long. Both apply to OpenMP runtimes loaded after
``import cvcore`` (cvcore's own) and to child processes.

A process forked after cvcore's kernels have run on several threads (e.g.
``multiprocessing`` with the "fork" start method) runs the kernels on one
thread: GNU libgomp's thread pool does not survive ``fork``, and a child
that uses it hangs. Processes started with "spawn" or "forkserver" (and
Dask's) are not affected.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading

__all__ = ["available_cores", "get_num_threads", "set_num_threads", "num_threads"]

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "2000")

_MAX_THREADS = 1024
_lock = threading.Lock()
_setting = None  # None: not set yet (environment or all available cores)
_team_started = False  # a kernel ran on more than one OpenMP thread in this process
_pool_lost = False  # forked after that: the OpenMP pool cannot be used here


def kernel_threads(n):
    """Threads a kernel may start now: ``n``, or 1 in a process forked after
    OpenMP threads had started (libgomp's pool does not survive ``fork``)."""
    global _team_started
    if _pool_lost:
        return 1
    if n > 1:
        _team_started = True
    return n


def _after_fork_in_child():
    global _pool_lost
    _pool_lost = _pool_lost or _team_started


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _cgroup_quota():
    """CPUs allowed by a cgroup v2 (cpu.max) or v1 (cfs quota/period) limit, or None."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as fh:
            quota = int(fh.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as fh:
            period = int(fh.read())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


def available_cores():
    """Cores this process may use: CPU affinity, capped by a cgroup CPU quota.

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, quota) if quota else cores)


def _check(n, name):
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(f"{name} must be an integer (or -1 for all cores), got {type(n).__name__}")
    n = n.__index__()
    if n == -1:
        return available_cores()
    if not 1 <= n <= _MAX_THREADS:
        raise ValueError(f"{name} must be -1 (all cores) or 1..{_MAX_THREADS}, got {n}")
    return int(n)


def _from_environment():
    text = os.environ.get("CVCORE_NUM_THREADS", "").strip()
    if not text:
        return available_cores()
    try:
        return _check(int(text), "CVCORE_NUM_THREADS")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"environment variable CVCORE_NUM_THREADS={text!r} is invalid: {exc}") from None


def get_num_threads():
    """Threads cvcore's kernels use (default: ``CVCORE_NUM_THREADS`` or all available cores).

    Examples
    --------
    >>> import cvcore
    >>> with cvcore.num_threads(1):
    ...     cvcore.get_num_threads()
    1
    """
    global _setting
    if _setting is None:
        with _lock:
            if _setting is None:
                _setting = _from_environment()
    return _setting


def set_num_threads(n):
    """Set the threads every cvcore kernel uses; ``-1`` means all available cores.

    Returns the previous setting.

    Examples
    --------
    >>> import cvcore
    >>> old = cvcore.set_num_threads(2)
    >>> cvcore.get_num_threads()
    2
    >>> _ = cvcore.set_num_threads(old)
    """
    global _setting
    n = _check(n, "n")
    with _lock:
        old = _setting if _setting is not None else _from_environment()
        _setting = n
    return old


@contextlib.contextmanager
def num_threads(n):
    """Context manager: run the block with ``n`` threads, then restore the previous setting.

    Examples
    --------
    >>> import cvcore
    >>> with cvcore.num_threads(1):
    ...     pass
    """
    old = set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(old)
