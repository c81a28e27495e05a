"""Every OpenMP kernel gives bit-identical results for every thread count, and
stays correct when called from several Python threads at once.

Images have odd sizes so that the row blocks are uneven; ``THREAD_WORK`` is
lowered so that even these small images are shared by all the threads asked
for (otherwise small work runs on one thread), and ``BAND_WORK`` so that
thread blocks also meet band boundaries.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import cvcore
from cvcore import _filtering, edges, filters

COUNTS = (1, 2, 3)
SHAPE = (37, 29)


@pytest.fixture
def small_work(monkeypatch):
    monkeypatch.setattr(_filtering, "THREAD_WORK", 1)
    monkeypatch.setattr(_filtering, "BAND_WORK", 3000)


def _image(rng, dtype, shape=SHAPE):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -3000), min(info.max, 3000), size=shape, endpoint=True).astype(dtype)
    return (rng.random(shape) * 2 - 0.5).astype(dtype)


def _same_for_every_count(fn):
    results = []
    for n in COUNTS:
        with cvcore.num_threads(n):
            results.append(fn())
    for n, r in zip(COUNTS[1:], results[1:]):
        a, b = np.asarray(results[0]), np.asarray(r)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), f"{n} threads differ from 1"
    return results[0]


def test_small_work_fixture_really_uses_several_threads(small_work):
    with cvcore.num_threads(3):
        assert _filtering.threads_for(SHAPE[0], 10) == 3
        assert _filtering.threads_for(2, 10) == 2  # never more threads than rows
    with cvcore.num_threads(1):
        assert _filtering.threads_for(SHAPE[0], 10**9) == 1


def test_small_work_runs_on_one_thread():
    with cvcore.num_threads(8):
        assert _filtering.threads_for(500, 1000) == 1
        assert _filtering.threads_for(5000, 10**9) == 8


def _recorded_kernel_calls(monkeypatch, name):
    """Calls of ``_convolve.<name>`` as (rows, n_threads), still computing them."""
    from cvcore._ext import _convolve

    calls, kernel = [], getattr(_convolve, name)

    def record(*args):
        calls.append((args[1].shape[0], args[-1]))
        return kernel(*args)
    monkeypatch.setattr(_convolve, name, record)
    return calls


def test_linear_filters_take_a_second_thread_only_for_enough_work(monkeypatch, rng):
    # a team costs tens of microseconds to start and join: a 128^2 Gaussian (~20 us) stays on one
    # thread, a 1024^2 one (~1 ms) gets every thread; a 1024^2 uint8 Sobel (~0.1 ms) does not gain
    calls = _recorded_kernel_calls(monkeypatch, "sepfilter")
    int_calls = _recorded_kernel_calls(monkeypatch, "sep3_int")
    with cvcore.num_threads(2):
        filters.gaussian(rng.random((128, 128)).astype(np.float32), 2.0)
        filters.gaussian(rng.random((1024, 1024)).astype(np.float32), 2.0)
        filters.sobel(rng.integers(0, 256, (1024, 1024), dtype=np.uint8), 1)
    assert calls == [(128, 1), (1024, 2)]
    assert int_calls == [(1024, 1)]


def test_a_filter_of_milliseconds_starts_one_team(monkeypatch):
    # each kernel call starts a team of threads and waits for its slowest one: a call of a few
    # milliseconds per thread (2048^2 Gaussian, sigma 2) is one band; a long one is cut into bands
    # that stay interruptible
    seen = []
    out = np.empty((2048, 1))
    ymap = np.arange(2048 + 16)
    with cvcore.num_threads(2):
        row_cost = 2048 * 34 // _filtering.VECTOR_OPS
        _filtering.run_in_bands(out, ymap, 17, row_cost, lambda o, m, t: seen.append((o.shape[0], t)))
        assert seen == [(2048, 2)]
        seen.clear()
        row_cost = 4000 * 2402 // _filtering.VECTOR_OPS   # 4000^2, sigma 150
        _filtering.run_in_bands(out, ymap, 17, row_cost, lambda o, m, t: seen.append((o.shape[0], t)))
    assert len(seen) > 10 and sum(r for r, _ in seen) == 2048
    assert all(r * row_cost <= 2 * _filtering.BAND_WORK for r, _ in seen)


SEP_DTYPES = [np.float32, np.float64, np.uint8, np.uint16, np.int16, np.bool_]


@pytest.mark.parametrize("dtype", SEP_DTYPES)
@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_separable_filters(small_work, rng, dtype, mode):
    img = _image(rng, dtype)
    _same_for_every_count(lambda: filters.gaussian(img, 1.7, mode=mode, cval=0.25))
    _same_for_every_count(lambda: filters.sepfilter(img, [1, -2, 0.5, 3], [0.25, 1, 2], mode=mode))
    _same_for_every_count(lambda: filters.sobel(img, mode=mode))
    _same_for_every_count(lambda: filters.scharr(img, axis=0, mode=mode))
    _same_for_every_count(lambda: filters.laplacian(img, mode=mode))


def test_separable_filter_colour(small_work, rng):
    img = _image(rng, np.float32, SHAPE + (3,))
    _same_for_every_count(lambda: filters.gaussian(img, 2.3))
    img8 = _image(rng, np.uint8, SHAPE + (3,))
    _same_for_every_count(lambda: filters.gaussian(img8, (0.8, 3.0), mode="wrap"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_general_correlation(small_work, rng, dtype):
    img = _image(rng, dtype, SHAPE + (2,))
    kernel = rng.standard_normal((4, 5))
    kernel[1, 2] = 0  # a zero tap is skipped
    _same_for_every_count(lambda: filters.correlate(img, kernel, mode="constant", cval=0.5))
    _same_for_every_count(lambda: filters.convolve(img, kernel, mode="mirror"))


MEDIAN_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
                 np.float32, np.float64]


@pytest.mark.parametrize("dtype", MEDIAN_DTYPES)
@pytest.mark.parametrize("size", [3, (5, 3), 9])  # selection networks; 9x9: histogram (uint8) or quickselect
def test_median(small_work, rng, dtype, size):
    img = _image(rng, dtype)
    _same_for_every_count(lambda: filters.median(img, size, mode="constant", cval=3))
    _same_for_every_count(lambda: filters.median(img, size, mode="nearest"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8])
@pytest.mark.parametrize("size", [3, 5])
def test_median_networks_pair_rows_the_same_way_for_any_split(small_work, monkeypatch, rng, dtype, size):
    # 3x3 / 5x5 outputs are computed two rows at a time; the pairs start at even
    # image rows whatever the bands and thread blocks, so even the zero returned
    # among tied -0.0 / 0.0 values (or the value returned where there is NaN) is fixed
    img = _image(rng, dtype, (41, 23, 2))
    if img.dtype.kind == "f":
        img[rng.random(img.shape) < 0.3] = 0.0
        img[rng.random(img.shape) < 0.3] = -0.0
        img[rng.random(img.shape) < 0.02] = np.nan
    first = _same_for_every_count(lambda: filters.median(img, size, mode="mirror"))
    for band in (1, 700, 3001):  # one row per kernel call, odd and even bands
        monkeypatch.setattr(_filtering, "BAND_WORK", band)
        assert _same_for_every_count(lambda: filters.median(img, size, mode="mirror")).tobytes() == first.tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_integer_derivatives(small_work, rng, dtype):
    img = _image(rng, dtype, SHAPE + (2,))
    _same_for_every_count(lambda: filters.sobel(img, 1, mode="constant", cval=5))
    _same_for_every_count(lambda: filters.scharr(img, 0, mode="wrap"))


def test_median_colour_uint8(small_work, rng):
    img = _image(rng, np.uint8, SHAPE + (3,))
    _same_for_every_count(lambda: filters.median(img, 9))


def test_median_uint8_constant_time_histogram(small_work, rng):
    # 9+ rows: column histograms rebuilt at each thread block's first row
    img = _image(rng, np.uint8, (97, 31, 2))
    _same_for_every_count(lambda: filters.median(img, (11, 9), mode="wrap"))
    _same_for_every_count(lambda: filters.median(img, (8, 11), mode="reflect"))   # 8 rows: Huang's histogram
    _same_for_every_count(lambda: filters.median(img, 15, mode="constant", cval=9))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_canny(small_work, rng, dtype):
    img = filters.gaussian(_image(rng, dtype), 1.0)
    img = (img * 200).astype(dtype) if np.dtype(dtype).kind in "ui" else img.astype(dtype)
    mask = rng.random(SHAPE) > 0.2
    for l2 in (True, False):
        out = _same_for_every_count(lambda: edges.canny(img, 0.05, 0.2, sigma=0, l2_gradient=l2))
        assert out.any() and not out.all()  # a real edge map, not a trivial one
        _same_for_every_count(lambda: edges.canny(img, 0.05, 0.2, sigma=1.2, l2_gradient=l2, mask=mask))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_corner_responses(small_work, rng, dtype):
    img = _image(rng, dtype)
    _same_for_every_count(lambda: edges.harris(img, sigma=1.3))
    _same_for_every_count(lambda: edges.harris(img, block_size=3, mode="mirror"))
    _same_for_every_count(lambda: edges.shi_tomasi(img, sigma=0.9, mode="constant"))
    _same_for_every_count(lambda: edges.gradient(img, sigma=1.1))


def test_kernels_called_from_several_python_threads(small_work, rng):
    """Concurrent calls (each itself multi-threaded) equal serial calls."""
    images = [_image(rng, dt, (41 + i, 33 - i)) for i, dt in enumerate([np.uint8, np.float32, np.float64] * 3)]
    jobs = [
        lambda im: filters.gaussian(im, 1.5),
        lambda im: filters.correlate(im, np.arange(12.0).reshape(3, 4) - 5),
        lambda im: filters.median(im, 5),
        lambda im: edges.canny(im, 0.05, 0.2, sigma=1.0),
        lambda im: edges.harris(im, sigma=1.0),
    ]
    tasks = [(j, im) for j in range(len(jobs)) for im in images]
    with cvcore.num_threads(1):
        serial = [jobs[j](im) for j, im in tasks]
    with cvcore.num_threads(2), ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            concurrent = list(pool.map(lambda t: jobs[t[0]](t[1]), tasks))
            for a, b in zip(serial, concurrent):
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_big_image_is_identical_with_default_work_sizes(rng):
    """Real band and thread sizes (no monkeypatching): 1 vs 2 vs 3 threads."""
    img = _image(rng, np.float32, (611, 457))
    _same_for_every_count(lambda: filters.gaussian(img, 3.0))
    u8 = _image(rng, np.uint8, (611, 457))
    _same_for_every_count(lambda: filters.median(u8, 5))
    _same_for_every_count(lambda: edges.canny(u8, 0.1, 0.3))


def test_forked_child_after_threads_does_not_hang():
    """libgomp's pool does not survive fork: a child forked after the kernels ran on
    several threads runs them on one (this hung before), with the same results."""
    import os
    import subprocess
    import sys
    import tempfile

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    code = """
import os, signal, numpy as np, cvcore
from cvcore import edges, filters
img = np.random.default_rng(0).random((300, 301)).astype(np.float32)
run = lambda: (filters.gaussian(img, 2.0).tobytes(), filters.median(img, 3).tobytes(),
               edges.canny(img, 0.1, 0.2).tobytes())
with cvcore.num_threads(2):
    ref = run()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.alarm(30)  # a hung child must not outlive the test
        os.write(w, b"same" if run() == ref else b"diff")
        os._exit(0)
    os.waitpid(pid, 0)
    print(os.read(r, 4).decode())
"""
    # from a temporary folder: `python -c` puts the working folder first on sys.path (never the bare checkout)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=tempfile.gettempdir())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "same"
