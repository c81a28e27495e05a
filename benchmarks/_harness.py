"""Timing harness for ``cvcore bench``.

Ours and the peer run interleaved on the same input, and we report medians
and the speedup ``peer_time / our_time``. Every case gives two rows: one
single-threaded (cvcore, OpenCV's pool and every BLAS/OpenMP pool limited to
one thread) and one multi-threaded, by default each library at its own default
(cvcore: :func:`cvcore.get_num_threads`, OpenCV: ``setNumThreads(-1)``, BLAS
and OpenMP pools unlimited), or all at ``threads`` (``cvcore bench --threads
N``). Cases marked ``scaling`` get a third row: cvcore alone, 1 thread against
the multi-threaded setting (speedup ``t(1) / t(N)``).

A case may carry a goal (minimum speedup) from the issue that introduced it;
it applies to the single-thread row. The multi-thread row must be at least 1x
where the single-thread row is (issue 10); the scaling row has its own goal
(``scaling``). ``--quick`` shrinks inputs and repeats, so its ratios are
indicative only.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import pkgutil
import platform
import statistics
import time
from typing import Callable, Optional

import numpy as np


@dataclasses.dataclass
class Case:
    """One side-by-side comparison.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"gaussian sigma=2 f32 1024^2"``.
    ours, peer : callable
        Zero-argument callables doing the same work on the same input.
    peer_name : str
        Who ``peer`` is, e.g. ``"OpenCV GaussianBlur"``.
    min_speedup : float, optional
        Goal: ``peer_time / our_time`` must be at least this (``0.5`` means
        "at most 2x the peer's time").
    check : callable, optional
        ``check(ours_result, peer_result)`` raising AssertionError if the two
        results disagree; run once before timing.
    group : str
        Area the case belongs to (filters, cascade, ...); used by ``--only``.
    scaling : float, optional
        Goal for the thread-scaling row (``t(1 thread) / t(all threads)`` of
        ``ours``); None: no scaling row.
    peer_scale : float
        The peer's measured time is multiplied by this before comparing: for a
        peer too slow to run on the full input, ``peer`` does ``1 / peer_scale``
        of the work (which must scale linearly) and is extrapolated. Say so in
        ``peer_name``.
    """

    name: str
    ours: Callable
    peer: Callable
    peer_name: str
    min_speedup: Optional[float] = None
    check: Optional[Callable] = None
    group: str = ""
    peer_scale: float = 1.0
    scaling: Optional[float] = None


@contextlib.contextmanager
def thread_setting(n):
    """cvcore, OpenCV, BLAS and OpenMP pools at ``n`` threads for the duration.

    ``n=None``: each library at its default (cvcore's setting as it is,
    OpenCV ``setNumThreads(-1)``, pools unlimited). Yields cvcore's count.
    """
    import cv2

    import cvcore

    previous = cv2.getNumThreads()
    cv2.setNumThreads(-1 if n is None else n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # bench extra not installed: OpenCV and cvcore are still set
            limiter = contextlib.nullcontext()
        else:
            limiter = threadpool_limits(limits=n) if n is not None else contextlib.nullcontext()
        ours = cvcore.num_threads(n) if n is not None else contextlib.nullcontext()
        with limiter, ours:
            yield cvcore.get_num_threads()
    finally:
        cv2.setNumThreads(previous)


def single_thread():
    """Limit cvcore, OpenCV, BLAS and OpenMP pools to one thread for the duration."""
    return thread_setting(1)


def _time_once(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_pair(ours, peer, *, budget=1.0, min_repeats=5, max_repeats=200):
    """Median seconds of ``ours`` and ``peer``, interleaved to share the noise."""
    ours(), peer()  # warm-up (caches, lazy imports, JIT-free but page faults)
    t_ours, t_peer = [_time_once(ours)], [_time_once(peer)]
    per_pair = t_ours[0] + t_peer[0]
    repeats = int(np.clip(budget / max(per_pair, 1e-9), min_repeats, max_repeats)) - 1
    for _ in range(repeats):
        t_ours.append(_time_once(ours))
        t_peer.append(_time_once(peer))
    return statistics.median(t_ours), statistics.median(t_peer), len(t_ours)


def discover(quick=False, only=None):
    """All cases from ``bench_*`` modules, optionally filtered by group/name substring."""
    from cvcore import _benchmarks

    found = []
    for info in sorted(pkgutil.iter_modules(_benchmarks.__path__), key=lambda i: i.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"{_benchmarks.__name__}.{info.name}")
        group = info.name[len("bench_"):]
        for case in module.cases(quick):
            case.group = case.group or group
            found.append(case)
    if only:
        keys = [k.lower() for k in only]
        found = [c for c in found if any(k in c.group.lower() or k in c.name.lower() for k in keys)]
    return found


def _measure(case, quick):
    """Timed row fields for ``case`` under the current thread setting."""
    row = {}
    if case.check is not None:
        case.check(case.ours(), case.peer())
        row["check"] = "ok"
    t_ours, t_peer, n = time_pair(case.ours, case.peer, budget=0.15 if quick else 1.0,
                                  min_repeats=3 if quick else 7)
    t_peer *= case.peer_scale
    row.update(ours_ms=t_ours * 1e3, peer_ms=t_peer * 1e3, repeats=n,
               speedup=t_peer / t_ours if t_ours > 0 else float("inf"))
    return row


def _status(speedup, goal):
    if goal is None:
        return "info"
    return "pass" if speedup >= goal else "FAIL"


def run(cases, *, quick=False, threads=None, log=print):
    """Run ``cases`` and return result dicts: per case a single-thread row, a
    multi-thread row (``threads``; None: every library's default; none when
    ``threads`` is 1) and a scaling row for cases with a ``scaling`` goal."""
    results = []
    for case in cases:
        base = {"group": case.group, "name": case.name, "peer": case.peer_name}
        single = None
        for setting in [1] if threads == 1 else [1, threads]:
            with thread_setting(setting) as n_ours:
                row = dict(base, threads=n_ours)
                try:
                    row.update(_measure(case, quick))
                except AssertionError as exc:
                    row.update(check=f"MISMATCH: {exc}", status="mismatch")
                    results.append(row)
                    log(format_row(row))
                    break
            if setting == 1:
                single = row["speedup"]
                row["min_speedup"] = case.min_speedup
            else:  # at default threads: at least even wherever single-threaded is
                row["min_speedup"] = 1.0 if single >= 1 else None
            row["status"] = _status(row["speedup"], row["min_speedup"])
            results.append(row)
            log(format_row(row))
        if case.scaling is not None and single is not None:
            results.append(_scaling_row(case, base, threads, quick))
            log(format_row(results[-1]))
    return results


def _scaling_row(case, base, threads, quick):
    """cvcore at ``threads`` ("ours") against cvcore at 1 thread ("peer")."""
    import cvcore

    n = threads if threads is not None else cvcore.get_num_threads()
    with thread_setting(1):
        t_many, t_one, reps = time_pair(_at(case.ours, n), _at(case.ours, 1), budget=0.15 if quick else 1.0,
                                        min_repeats=3 if quick else 7)
    speedup = t_one / t_many if t_many > 0 else float("inf")
    row = dict(base, name=f"{case.name} scaling", peer=f"cvcore 1 thread vs {n}", threads=f"1->{n}",
               ours_ms=t_many * 1e3, peer_ms=t_one * 1e3, repeats=reps, speedup=speedup,
               min_speedup=case.scaling if n > 1 else None)
    row["status"] = _status(speedup, row["min_speedup"])
    return row


def _at(fn, n):
    """``fn`` run with cvcore at ``n`` threads."""
    import cvcore

    def call():
        with cvcore.num_threads(n):
            return fn()
    return call


def _goal_text(min_speedup):
    if min_speedup is None:
        return "-"
    if min_speedup >= 1:
        return f">= {min_speedup:g}x faster"
    return f"<= {1 / min_speedup:.3g}x peer time"


HEADER = (f"{'group':<12} {'case':<44} {'peer':<34} {'thr':>5} {'ours ms':>9} {'peer ms':>9} {'speedup':>8}  "
          f"{'goal':<20} status")


def format_row(row):
    thr = str(row.get("threads", ""))
    if "ours_ms" not in row:
        return f"{row['group']:<12} {row['name'][:44]:<44} {row['peer'][:34]:<34} {thr:>5} {row.get('check')}"
    return (f"{row['group']:<12} {row['name'][:44]:<44} {row['peer'][:34]:<34} {thr:>5} {row['ours_ms']:9.2f} "
            f"{row['peer_ms']:9.2f} {row['speedup']:7.2f}x  {_goal_text(row['min_speedup']):<20} {row['status']}")


def environment():
    import cv2

    info = {"python": platform.python_version(), "machine": platform.machine(),
            "numpy": np.__version__, "opencv": cv2.__version__}
    for mod in ("scipy", "skimage", "sklearn"):
        try:
            info[mod] = importlib.import_module(mod).__version__
        except ImportError:
            info[mod] = None
    return info


def to_json(results, path):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"environment": environment(), "results": results}, fh, indent=2)
