"""Timing harness for ``cvcore bench``.

Ours and the peer run interleaved on the same input, single-threaded (OpenCV's
thread pool and every BLAS/OpenMP pool limited to one thread), and we report
medians and the speedup ``peer_time / our_time``. A case may carry a goal
(minimum speedup) from the issue that introduced it; ``--quick`` shrinks inputs
and repeats, so its ratios are indicative only.
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


@contextlib.contextmanager
def single_thread():
    """Limit OpenCV, BLAS and OpenMP pools to one thread for the duration."""
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # bench extra not installed: OpenCV is still limited
            limiter = contextlib.nullcontext()
        else:
            limiter = threadpool_limits(limits=1)
        with limiter:
            yield
    finally:
        cv2.setNumThreads(previous)


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


def run(cases, *, quick=False, log=print):
    """Run ``cases`` and return one result dict per case."""
    results = []
    with single_thread():
        for case in cases:
            row = {"group": case.group, "name": case.name, "peer": case.peer_name,
                   "min_speedup": case.min_speedup}
            try:
                if case.check is not None:
                    case.check(case.ours(), case.peer())
                    row["check"] = "ok"
                budget = 0.15 if quick else 1.0
                t_ours, t_peer, n = time_pair(case.ours, case.peer, budget=budget,
                                              min_repeats=3 if quick else 7)
            except AssertionError as exc:
                row.update(check=f"MISMATCH: {exc}", status="mismatch")
                results.append(row)
                log(format_row(row))
                continue
            t_peer *= case.peer_scale
            speedup = t_peer / t_ours if t_ours > 0 else float("inf")
            row.update(ours_ms=t_ours * 1e3, peer_ms=t_peer * 1e3, repeats=n, speedup=speedup)
            if case.min_speedup is None:
                row["status"] = "info"
            else:
                row["status"] = "pass" if speedup >= case.min_speedup else "FAIL"
            results.append(row)
            log(format_row(row))
    return results


def _goal_text(min_speedup):
    if min_speedup is None:
        return "-"
    if min_speedup >= 1:
        return f">= {min_speedup:g}x faster"
    return f"<= {1 / min_speedup:.3g}x peer time"


HEADER = f"{'group':<12} {'case':<44} {'peer':<34} {'ours ms':>9} {'peer ms':>9} {'speedup':>8}  {'goal':<20} status"


def format_row(row):
    if "ours_ms" not in row:
        return f"{row['group']:<12} {row['name'][:44]:<44} {row['peer'][:34]:<34} {row.get('check')}"
    return (f"{row['group']:<12} {row['name'][:44]:<44} {row['peer'][:34]:<34} {row['ours_ms']:9.2f} "
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
