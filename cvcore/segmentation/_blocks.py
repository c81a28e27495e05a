"""Interruptible work for the segmentation estimators.

Python checks for signals (Ctrl-C) only between bytecodes, so a kernel that
runs for seconds with the GIL released cannot be stopped. The estimators
therefore call their kernels on row blocks sized to take about
:data:`TARGET_SECONDS` each, from Python; each row's result does not depend on
the block it was computed in, so the output is bit-identical to one big call.
Thread pools get cancelled on an exception (``KeyboardInterrupt`` included):
queued work is dropped and running work ends after its current piece.
"""
from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import ThreadPoolExecutor

__all__ = ["TARGET_SECONDS", "timed_blocks", "for_blocks", "cancellable_map"]

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


def for_blocks(n, work, *, threads=1, first=256):
    """Call ``work(start, stop)`` on row blocks covering ``range(n)``.

    With ``threads > 1`` each round of blocks is split among a thread pool
    (``work`` must release the GIL to gain anything); a round is sized like
    one block of :func:`timed_blocks`, so an interrupt waits one round at most.
    """
    if threads <= 1 or n < 2 * first:
        for a, b in timed_blocks(n, first=first):
            work(a, b)
        return
    with ThreadPoolExecutor(threads) as pool:
        for a, b in timed_blocks(n, first=first * threads):
            cuts = [a + (b - a) * i // threads for i in range(threads + 1)]
            for f in [pool.submit(work, lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo]:
                f.result()


def cancellable_map(task, items, *, threads, on_done=None):
    """``[task(item, cancelled) for item in items]`` on ``threads`` threads.

    ``items`` may be a generator: it is advanced in the calling thread, at
    most ``2 * threads`` items ahead of the results (memory stays bounded).
    ``cancelled`` is a :class:`threading.Event` that ``task`` polls between its
    pieces of work (returning early when set). If the caller is interrupted, or
    a task raises, the event is set, queued items are dropped and the running
    ones are waited for before the exception propagates. ``on_done(i)`` is
    called in the calling thread as results arrive, in order.
    """
    cancelled = threading.Event()
    out = []

    def collect(result):
        out.append(result)
        if on_done is not None:
            on_done(len(out) - 1)

    if threads <= 1:
        for item in items:
            collect(task(item, cancelled))
        return out
    pool = ThreadPoolExecutor(threads)
    pending = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(task, item, cancelled))
            if len(pending) >= 2 * threads:
                collect(pending.popleft().result())
        while pending:
            collect(pending.popleft().result())
        return out
    except BaseException:
        cancelled.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
