"""Proposals: Felzenszwalb segmentation and selective search vs OpenCV and scikit-image.

Inputs are scikit-image sample photos resized to 640x480 (320x240 with
``--quick``), so the suite runs anywhere without the shared data.

Threads: the default-thread rows give every library its default (scikit-image's
``felzenszwalb`` is single-threaded). Selective search shares its independent passes (several ks, several
strategies), the graph's edge weights, the edge sort and the texture codes
among threads (goal 1.6x from 1 to 2 threads, the scaling row); one
Felzenszwalb segmentation threads its graph and sort, while the union-find
itself stays sequential. On a loaded machine, where the wall-clock scaling
row cannot show it, ``python -m benchmarks.bench_proposals`` prints the same
cases' thread scaling from CPU accounting (see :func:`cpu_scaling`).
"""
import cv2
import numpy as np
import skimage.data
import skimage.segmentation

from ._harness import Case
from cvcore.proposals import felzenszwalb, selective_search


def _photo(name, size):
    return cv2.resize(getattr(skimage.data, name)(), size, interpolation=cv2.INTER_AREA)


def _similar_counts(ours, peer):
    n_ours, n_peer = int(ours.max()) + 1, int(peer.max()) + 1
    if not 0.8 * n_peer <= n_ours <= 1.25 * n_peer:
        raise AssertionError(f"segment counts differ: ours {n_ours}, peer {n_peer}")


def _both_cover_image(ours, peer):
    for boxes in (ours, np.asarray(peer)):
        if len(boxes) == 0 or not (boxes[:, 2] * boxes[:, 3]).max() > 0:
            raise AssertionError("no proposals")


def cases(quick):
    size = (320, 240) if quick else (640, 480)
    label = f"{size[0]}x{size[1]}"
    astronaut = _photo("astronaut", size)
    coffee = _photo("coffee", size)
    coffee_bgr = np.ascontiguousarray(coffee[:, :, ::-1])
    astronaut_bgr = np.ascontiguousarray(astronaut[:, :, ::-1])
    graph = cv2.ximgproc.segmentation.createGraphSegmentation(sigma=0.8, k=100, min_size=20)

    def opencv_fast(bgr):
        ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
        ss.setBaseImage(bgr)
        ss.switchToSelectiveSearchFast()
        return ss.process()

    return [
        Case(f"felzenszwalb k=100 {label} coffee", lambda: felzenszwalb(coffee, 100, 0.8, 20),
             lambda: graph.processImage(coffee_bgr), "OpenCV ximgproc GraphSegmentation",
             min_speedup=1.0, check=_similar_counts, scaling=1.0),
        Case(f"felzenszwalb k=100 {label} coffee", lambda: felzenszwalb(coffee, 100, 0.8, 20),
             lambda: skimage.segmentation.felzenszwalb(coffee, 100, 0.8, 20),
             "skimage felzenszwalb", min_speedup=2.0, check=_similar_counts),
        Case(f"felzenszwalb k=300 {label} astronaut",
             lambda: felzenszwalb(astronaut, 300, 0.8, 50),
             lambda: skimage.segmentation.felzenszwalb(astronaut, 300, 0.8, 50),
             "skimage felzenszwalb", min_speedup=2.0, check=_similar_counts),
        Case(f"selective_search fast {label} coffee", lambda: selective_search(coffee, "fast"),
             lambda: opencv_fast(coffee_bgr), "OpenCV SelectiveSearch fast",
             min_speedup=5.0, check=_both_cover_image, scaling=1.6),
        Case(f"selective_search fast {label} astronaut",
             lambda: selective_search(astronaut, "fast"),
             lambda: opencv_fast(astronaut_bgr), "OpenCV SelectiveSearch fast",
             min_speedup=5.0, check=_both_cover_image, scaling=1.6),
    ]


# --------------------------------------------------------------------------
# thread scaling from CPU accounting, for a loaded machine
# --------------------------------------------------------------------------

def _thread_cpu_ticks():
    """CPU clock ticks (user + system) of each thread of this process, from /proc (Linux)."""
    import os

    ticks = {}
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks[int(tid)] = int(fields[11]) + int(fields[12])
    return ticks


def cpu_scaling(repeats=10, threads=2):
    """Print, per case, the CPU of ``repeats`` calls at ``threads`` threads: all threads vs the calling one.

    While other sessions keep the cores busy, the wall-clock scaling row
    measures the machine's share, not the code (Linux gives each session an
    equal share whatever its thread count). The calling thread runs its own
    blocks and every serial part, so ``all / calling`` bounds from above the
    speed-up that ``threads`` free cores would give (time spent waiting for the
    other threads is not CPU and is not counted).
    """
    import os
    import threading

    import cvcore

    size = (640, 480)
    for name, run in [("selective_search fast 640x480 coffee", lambda img: selective_search(img, "fast")),
                      ("selective_search fast 640x480 astronaut", lambda img: selective_search(img, "fast")),
                      ("felzenszwalb k=100 640x480 coffee", lambda img: felzenszwalb(img, 100, 0.8, 20))]:
        img = _photo(name.split()[-1], size)
        with cvcore.num_threads(threads):
            run(img)
            before = _thread_cpu_ticks()
            for _ in range(repeats):
                run(img)
            after = _thread_cpu_ticks()
        spent = {tid: t - before.get(tid, 0) for tid, t in after.items()}
        total, calling = sum(spent.values()), spent[threading.get_native_id()]
        print(f"{name}: {repeats} calls at {threads} threads, CPU {total / os.sysconf('SC_CLK_TCK'):.2f} s in all "
              f"threads, {calling / os.sysconf('SC_CLK_TCK'):.2f} s in the calling one: all / calling = "
              f"{total / max(calling, 1):.2f}; load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="thread scaling of the proposal kernels from CPU accounting")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cpu_scaling(args.repeats, args.threads)
