"""Interruptible work for the segmentation estimators.

Python checks for signals (Ctrl-C) only between bytecodes, so a kernel that
runs for seconds with the GIL released cannot be stopped. The estimators
therefore call their kernels on row blocks sized to take about
:data:`TARGET_SECONDS` each, from Python; each row's result does not depend on
the block it was computed in, so the output is bit-identical to one big call.
Threads live inside the kernels (OpenMP, ``n_threads`` from the Python layer),
never in a Python thread pool here.
"""
from __future__ import annotations

import time

__all__ = ["TARGET_SECONDS", "timed_blocks", "for_blocks"]

#: wall time aimed at for one kernel call (Ctrl-C is served between calls)
TARGET_SECONDS = 0.05


def timed_blocks(n, *, first=256, target=TARGET_SECONDS):
    """Yield ``(start, stop)`` row blocks covering ``range(n)``.

    The first block has ``first`` rows; each next one is sized from the time
    the caller spent on the previous one (at most 4x larger) to take about
    ``target`` seconds.
    """
    start, size = 0, max(1, int(first))
    while start < n:
        stop = min(n, start + size)
        t0 = time.perf_counter()
        yield start, stop
        elapsed = time.perf_counter() - t0
        rows = stop - start
        size = max(1, min(4 * rows, int(rows * target / max(elapsed, 1e-6))))
        start = stop


def for_blocks(n, work, *, first=256):
    """Call ``work(start, stop)`` on row blocks covering ``range(n)`` (see :func:`timed_blocks`).

    ``work`` may run OpenMP threads inside (the kernels take ``n_threads``);
    the blocks only bound the time between two checks for Ctrl-C.
    """
    for a, b in timed_blocks(n, first=first):
        work(a, b)
