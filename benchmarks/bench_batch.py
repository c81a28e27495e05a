"""Scaling out on Dask: image collections and chunked images.

Harness cases (``cvcore bench --only batch``):

* ``cvcore.batch`` detect over 200 images on a LocalCluster of 2 worker
  processes (started once, outside the timing) vs a plain single-process loop
  of the same operation with one kernel thread; the records must be identical.
  Goal: >= 1.7x the loop's throughput on a 2-core machine.
* ``cvcore.dask.gaussian`` of a chunked image vs the in-memory call (identical)
  and vs ``dask_image.ndfilters.gaussian_filter`` (float32, close).

One-shot figures outside the harness (a warm cluster, each side run twice,
with the CPU seconds of each side; then ``cvcore batch detect`` itself,
cluster start-up included)::

    python -m benchmarks.bench_batch --detect 200 --gaussian 0

Peak memory of a 20000 x 20000 uint8 Gaussian (sigma 4), each variant in its
own process, result written to a zarr store where chunked (times include
generating the input; the chunked ones also writing the store)::

    python -m benchmarks.bench_batch --gaussian 20000
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from ._harness import Case

_STATE = {}


def _tempdir():
    if "dir" not in _STATE:
        _STATE["dir"] = tempfile.mkdtemp(prefix="cvcore-bench-batch-")
        atexit.register(shutil.rmtree, _STATE["dir"], True)
    return _STATE["dir"]


def _images(n, shape=(120, 160)):
    """``n`` smooth random scenes as PNG files (written once per size)."""
    import cv2

    from cvcore import io

    key = ("images", n)
    if key not in _STATE:
        folder = os.path.join(_tempdir(), f"images{n}")
        os.makedirs(folder)
        rng = np.random.default_rng(0)
        paths = []
        for i in range(n):
            small = rng.integers(0, 256, (shape[0] // 8, shape[1] // 8, 3), dtype=np.uint8)
            img = cv2.resize(small, shape[::-1], interpolation=cv2.INTER_CUBIC)
            paths.append(os.path.join(folder, f"scene{i:04d}.png"))
            io.imwrite(paths[-1], img)
        _STATE[key] = paths
    return _STATE[key]


def _client():
    if "client" not in _STATE:
        from distributed import Client

        from cvcore import batch

        cluster = batch.local_cluster(2)  # as map_images' own
        client = Client(cluster)
        client.wait_for_workers(2)
        _STATE["client"] = client
        atexit.register(cluster.close)
        atexit.register(client.close)
    return _STATE["client"]


def _batch_detect(paths):
    from cvcore import batch

    out = os.path.join(_tempdir(), "detect.jsonl")
    batch.map_images(batch.Detect(), paths, out=out, client=_client(), resume=False, progress=False)
    return {r["path"]: r["result"] for r in batch.read_records(out)}


def _loop_detect(paths):
    import cvcore
    from cvcore import batch, io

    op = batch.Detect()
    with cvcore.num_threads(1):
        return {p: op.run(io.imread(p), p) for p in paths}


def _same_records(ours, loop):
    if ours != json.loads(json.dumps(loop)):
        raise AssertionError("batch records differ from the plain loop's")


def _gaussian_cases(quick):
    import dask
    import dask.array as da

    from cvcore import dask as cd
    from cvcore import filters

    n = 2048 if quick else 4096
    img = np.random.default_rng(1).integers(0, 256, (n, n), dtype=np.uint8)
    x = da.from_array(img, chunks=1024)
    xf = da.from_array(img.astype(np.float32) / 255, chunks=1024)

    def ours(arr):
        with dask.config.set(scheduler="threads"):
            return cd.gaussian(arr, 4.0).compute()

    def exact(a, b):
        if a.dtype != b.dtype or not np.array_equal(a, b):
            raise AssertionError("chunked and in-memory Gaussians differ")

    def close(a, b):
        np.testing.assert_allclose(a, b, atol=2e-6)

    cases = [Case(f"dask gaussian s=4 u8 {n}^2 chunks 1024", lambda: ours(x), lambda: filters.gaussian(img, 4.0),
                  "cvcore.filters.gaussian (in memory)", check=exact)]
    try:
        from dask_image import ndfilters
    except ImportError:
        return cases
    cases.append(Case(f"dask gaussian s=4 f32 {n}^2 chunks 1024", lambda: ours(xf),
                      lambda: ndfilters.gaussian_filter(xf, 4.0).compute(scheduler="threads"),
                      "dask_image gaussian_filter", check=close))
    return cases


def cases(quick):
    try:
        import distributed  # noqa: F401
    except ImportError:  # the dask extra is not installed
        return []
    n = 40 if quick else 200  # images are written on first use, not when the cases are listed
    return [
        Case(f"batch detect {n} images 160x120, 2 workers", lambda: _batch_detect(_images(n)),
             lambda: _loop_detect(_images(n)), "plain loop, 1 process, 1 thread", min_speedup=1.7,
             check=_same_records),
        *_gaussian_cases(quick),
    ]


# --------------------------------------------------------------------------
# peak memory of a huge Gaussian, one process per variant
# --------------------------------------------------------------------------

_VARIANT = r"""
import json, resource, sys, time
import dask, dask.array as da, numpy as np
n, variant, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
chunk = 2048
x = da.random.default_rng(0).integers(0, 256, (n, n), chunks=chunk, dtype=np.uint8)
t0 = time.perf_counter()
if variant == "numpy":
    from cvcore import filters
    img = x.compute()  # timed too: every variant generates the same input chunk by chunk
    out = filters.gaussian(img, 4.0)
    checksum = float(out[::997, ::997].sum())
else:
    if variant == "cvcore.dask":
        import cvcore
        from cvcore import dask as cd
        cvcore.set_num_threads(1)  # dask's threads are the parallelism
        y = cd.gaussian(x, 4.0)
    else:
        from dask_image import ndfilters
        y = ndfilters.gaussian_filter(x.astype(np.float32), 4.0)
    with dask.config.set(scheduler="threads"):
        y.to_zarr(store, overwrite=True)
        import zarr
        checksum = float(np.asarray(zarr.open_array(store, mode="r")[::997, ::997]).sum())
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"variant": variant, "seconds": round(seconds, 2), "peak_rss_mb": round(peak / 2**20),
                  "checksum": checksum}))
"""


def gaussian_memory(n):
    """Time and peak RSS of each variant of an ``n x n`` uint8 Gaussian (sigma 4), in fresh processes."""
    rows = []
    variants = ["cvcore.dask", "dask_image", "numpy"]
    for variant in variants:
        store = os.path.join(_tempdir(), f"{variant}.zarr")
        proc = subprocess.run([sys.executable, "-c", _VARIANT, str(n), variant, store], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            rows.append({"variant": variant, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        shutil.rmtree(store, ignore_errors=True)
        print(rows[-1], flush=True)
    full = n * n * 4 / 2**20
    print(f"full float32 result: {full:.0f} MB")
    return rows


def _cpu_seconds():
    return time.process_time()


def _autogroup_note():
    """Why a loaded Linux machine cannot show the speed-up (said beside the figures)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as fh:
            enabled = fh.read().strip() == "1"
    except OSError:
        return ""
    return ("; scheduler autogroups are on: each terminal session gets an equal share of the CPU whatever "
            "its process count, so while other sessions keep the cores busy the wall-clock ratio stays near 1 "
            "and only the CPU figures say what 2 free cores would give") if enabled else ""


def detect_throughput(n):
    """Images/s of the plain loop and of 2 workers on ``n`` images (warm cluster), twice, same run.

    Beside the wall-clock ratio: CPU seconds of each side (the batch's: both
    workers plus the client and scheduler process), so the cost of the Dask
    machinery shows even when the machine is loaded. Then the command line,
    cluster start-up included, against the loop.
    """
    paths = _images(n)
    client = _client()
    _batch_detect(paths[:20]), _loop_detect(paths[:5])  # start the cluster, load the cascade everywhere
    for _ in range(2):
        c, t = time.process_time(), time.perf_counter()
        loop = _loop_detect(paths)
        t_loop, c_loop = time.perf_counter() - t, time.process_time() - c
        workers, c, t = client.run(_cpu_seconds), time.process_time(), time.perf_counter()
        ours = _batch_detect(paths)
        t_batch, c_client = time.perf_counter() - t, time.process_time() - c
        c_workers = sum(v - workers[k] for k, v in client.run(_cpu_seconds).items())
        _same_records(ours, loop)
        print(f"{n} images: loop {n / t_loop:.1f} images/s, batch (2 workers) {n / t_batch:.1f} images/s, "
              f"ratio {t_loop / t_batch:.2f}, identical records; CPU s: loop {c_loop:.2f}, batch {c_workers:.2f} "
              f"workers + {c_client:.2f} client and scheduler = {(c_workers + c_client) / c_loop:.2f}x the loop's; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
    out = os.path.join(_tempdir(), "cli.jsonl")
    folder = os.path.dirname(paths[0])
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cvcore", "batch", "detect", folder, "--workers", "2", "--out", out,
                    "--restart"], check=True, capture_output=True, cwd=_tempdir())
    t_cli = time.perf_counter() - t
    from cvcore import batch

    _same_records({r["path"]: r["result"] for r in batch.read_records(out)}, loop)
    print(f"cvcore batch detect --workers 2 (cluster start-up included): {n / t_cli:.1f} images/s, ratio "
          f"{t_loop / t_cli:.2f} against the last loop, identical records; load average "
          f"{os.getloadavg()[0]:.1f}{_autogroup_note()}", flush=True)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gaussian", type=int, default=20000, metavar="N",
                        help="image side of the memory run (default 20000; 0 skips it)")
    parser.add_argument("--detect", type=int, default=0, metavar="N", help="images for the throughput run (0 skips)")
    args = parser.parse_args()
    t = time.perf_counter()
    if args.detect:
        detect_throughput(args.detect)
    if args.gaussian:
        gaussian_memory(args.gaussian)
    print(f"total {time.perf_counter() - t:.0f} s")
