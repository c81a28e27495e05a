"""Filtering internals shared by :mod:`cvcore.filters`, :mod:`cvcore.edges` and
:mod:`cvcore.proposals`: border index maps, work arrays, sampled Gaussians and
the banded kernel runners.

Nothing here validates user input: the public functions do that once, then
call these helpers with arguments that are already right.

Banded runs
-----------
Every kernel computes ``out.shape[0]`` rows from the padded rows its ``ymap``
names (see ``cvcore/_ext/_convolve.pyx``). :func:`run_in_bands` calls a kernel
on bands of output rows sized to about :data:`BAND_WORK` operations (tens of
milliseconds), so a long filter stays interruptible with Ctrl-C (Python runs
signal handlers between the calls) while each call still runs without the
GIL. Output rows are independent, so the result is bit-identical to one call.
The linear kernels count their work in :data:`VECTOR_OPS` multiply-adds per
operation, so that a band of theirs takes about as long as any other.

Threads
-------
Each band is shared by :func:`threads_for` OpenMP threads inside the kernel
(``n_threads``; see ``cvcore/_ext/_parallel.pxd``). Bands grow with the thread
count so that one band still takes about the same wall time; every band
starts a team of threads and ends when its slowest thread does, so a call of
less than :data:`BAND_WORK` per thread is one band. Small work runs on fewer
threads: waking a thread and waiting for it at the end costs about as much as
:data:`THREAD_WORK` operations.
"""
from __future__ import annotations

import functools

import numpy as np

from . import _threads, _validate
from ._ext import _convolve, _rank

#: Operations (multiply-adds or window elements) per thread and kernel call in a banded run.
BAND_WORK = 1 << 24
#: Least work (operations) worth giving to one more thread.
THREAD_WORK = 1 << 16
#: Multiply-adds of the linear kernels per counted operation: they run across
#: pixels in SIMD vectors, about 25-45 multiply-adds per nanosecond on one
#: AVX-512 core (2048^2 Gaussian, 1024^2 Laplacian and Sobel), so that one
#: counted operation takes about a nanosecond, as elsewhere.
VECTOR_OPS = 32


def threads_for(rows, work):
    """Threads for ``work`` operations over ``rows`` rows: cvcore's setting,
    at most one per row and one per :data:`THREAD_WORK` operations (one in a
    child forked after threads started: see :mod:`cvcore._threads`)."""
    return _threads.kernel_threads(max(1, min(_threads.get_num_threads(), rows, int(work // THREAD_WORK))))


@functools.lru_cache(maxsize=512)
def index_map(n, klen, anchor, mode):
    """Source index of each padded position ``p`` (coordinate ``p - anchor``); -1 = cval.

    Cached (the maps depend only on sizes and mode) and returned read-only.
    """
    coord = np.arange(n + klen - 1, dtype=np.intp) - anchor
    if mode == "reflect":
        period = 2 * n
        p = np.mod(coord, period)
        out = np.where(p < n, p, period - 1 - p)
    elif mode == "mirror":
        if n == 1:
            out = np.zeros_like(coord)
        else:
            period = 2 * n - 2
            p = np.mod(coord, period)
            out = np.where(p < n, p, period - p)
    elif mode == "nearest":
        out = np.clip(coord, 0, n - 1)
    elif mode == "wrap":
        out = np.mod(coord, n)
    else:  # constant
        out = np.where((coord >= 0) & (coord < n), coord, -1)
    out = np.ascontiguousarray(out, dtype=np.intp)
    out.setflags(write=False)
    return out


def run_in_bands(out, ymap, klen, row_cost, kernel, with_row0=False, min_rows=1):
    """Fill ``out`` (rows, ...) by ``kernel(out_band, ymap_band, n_threads)`` on bands of rows.

    ``ymap`` holds ``rows + klen - 1`` padded-row entries; ``row_cost`` is the
    work of one output row, which sets the band height and the thread count.
    With ``with_row0`` the kernel also gets the index of the band's first row.
    ``min_rows``: least rows per thread and band, for kernels with a large
    start-up cost per block of rows; bands are a multiple of it.
    """
    rows = out.shape[0]
    row_cost = max(row_cost, 1)
    n_threads = threads_for(rows, rows * row_cost)
    n_threads = max(1, min(n_threads, rows // min_rows))
    step = max(min_rows * n_threads, int(BAND_WORK * n_threads // row_cost))
    step -= step % min_rows
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        if with_row0:
            kernel(out[r0:r1], ymap[r0:r1 + klen - 1], n_threads, r0)
        else:
            kernel(out[r0:r1], ymap[r0:r1 + klen - 1], n_threads)


#: Integer dtypes the separable kernel reads directly (converting rows itself).
INT_KERNEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16))


def prepare(arr, keep_int=False):
    """Validated image -> (2-D C-contiguous work array (H, W*C), shape, channels).

    The work array is float32/float64 by :func:`_validate.output_float_dtype`;
    with ``keep_int`` uint8/uint16/int16 (and bool, as uint8) input is passed
    through unconverted for the separable kernel, which converts rows itself.
    """
    if keep_int and arr.dtype in INT_KERNEL_DTYPES:
        work = np.ascontiguousarray(arr)
    else:
        work = np.ascontiguousarray(arr, dtype=_validate.output_float_dtype(arr.dtype))
    h, w = arr.shape[:2]
    nch = 1 if arr.ndim == 2 else arr.shape[2]
    return work.reshape(h, w * nch), arr.shape, nch


def symmetry(k):
    """1 for a symmetric, -1 for an antisymmetric odd-length kernel, else 0."""
    n = k.shape[0]
    if n % 2 == 0 or n == 1:
        return 0
    # short kernels (all but huge Gaussians) as lists: a few NumPy calls cost more than the comparison
    taps = k.tolist() if n <= 256 else k
    rev = taps[::-1]
    if n <= 256:
        return 1 if taps == rev else -1 if taps == [-t for t in rev] else 0
    return 1 if (taps == rev).all() else -1 if (taps == -rev).all() else 0


def _int_taps3(k):
    """``k`` as 3 int32 taps if it is 3 small integers (|tap| <= 64), else None."""
    k = np.asarray(k, dtype=np.float64)
    if k.shape != (3,) or not np.all(k == np.round(k)) or np.abs(k).max() > 64:
        return None
    return np.ascontiguousarray(k, dtype=np.int32)


def _sep3_int(work, shape, nch, ky, kx, mode, cval):
    """3x3 integer-tap separable filter of an integer work array in exact integer
    arithmetic (:func:`_convolve.sep3_int`), or None when it does not apply."""
    iky, ikx = _int_taps3(ky), _int_taps3(kx)
    if iky is None or ikx is None:
        return None
    info = np.iinfo(work.dtype)
    cv = cval if mode == "constant" else 0
    if cv != int(cv) or not info.min <= cv <= info.max:
        return None  # the padding value must be a pixel value
    peak = max(abs(info.min), info.max) * int(np.abs(iky).sum()) * int(np.abs(ikx).sum())
    if peak >= (1 << 15 if work.dtype == np.uint8 else 1 << 24):
        return None  # uint8 rows are summed in int16; float32 would round beyond 2**24
    h, w = shape[0], shape[1]
    ymap, xmap = index_map(h, 3, 1, mode), index_map(w, 3, 1, mode)
    out = np.empty(work.shape, np.float32)
    # 6 multiply-adds per value, in 16-bit lanes for uint8 (twice as many per vector)
    run_in_bands(out, ymap, 3, work.shape[1] * 3 // VECTOR_OPS,
                 lambda o, m, t: _convolve.sep3_int(work, o, nch, iky, m, ikx, xmap, int(cv), t))
    return out.reshape(shape)


def sep(work, shape, nch, ky, kx, mode, cval, anchor_y=None, anchor_x=None):
    """Separable correlation of a prepared work array; returns an array of ``shape``."""
    integer = work.dtype in INT_KERNEL_DTYPES
    if integer and anchor_y is None and anchor_x is None:
        fast = _sep3_int(work, shape, nch, ky, kx, mode, cval)
        if fast is not None:
            return fast
    if not integer and work.dtype not in (np.float32, np.float64):
        work = np.ascontiguousarray(work, dtype=_validate.output_float_dtype(work.dtype))
    dtype = np.dtype(np.float32) if integer else work.dtype
    ky = np.ascontiguousarray(ky, dtype=dtype)
    kx = np.ascontiguousarray(kx, dtype=dtype)
    h, w = shape[0], shape[1]
    ay = ky.shape[0] // 2 if anchor_y is None else anchor_y
    ax = kx.shape[0] // 2 if anchor_x is None else anchor_x
    ymap = index_map(h, ky.shape[0], ay, mode)
    xmap = index_map(w, kx.shape[0], ax, mode)
    out = np.empty(work.shape, dtype)
    # constant mode: image padded with cval, then filtered; the horizontal pass
    # therefore sees cval * sum(ky) (the vertical taps applied to the padding).
    if mode == "constant":
        row_cval, line_cval = cval, cval * float(np.sum(ky, dtype=np.float64))
    else:
        row_cval = line_cval = 0.0
    run = _convolve.sepfilter_int if integer else _convolve.sepfilter
    ysym, xsym = symmetry(ky), symmetry(kx)
    run_in_bands(out, ymap, ky.shape[0], work.shape[1] * (ky.shape[0] + kx.shape[0]) // VECTOR_OPS,
                 lambda o, m, t: run(work, o, nch, ky, m, ysym, kx, xmap, ax, xsym, row_cval, line_cval, t))
    return out.reshape(shape)


def correlate2d(work, shape, nch, k, anchor_y, anchor_x, mode, cval):
    """General 2-D correlation of a prepared float work array; returns an array of ``shape``."""
    kh, kw = k.shape
    kk = np.ascontiguousarray(k, dtype=work.dtype)
    ymap = index_map(shape[0], kh, anchor_y, mode)
    xmap = index_map(shape[1], kw, anchor_x, mode)
    out = np.empty_like(work)
    cv = cval if mode == "constant" else 0.0
    taps = int(np.count_nonzero(kk)) + kh
    run_in_bands(out, ymap, kh, work.shape[1] * taps // VECTOR_OPS,
                 lambda o, m, t: _convolve.correlate2d(work, o, nch, kk, m, xmap, anchor_x, cv, t))
    return out.reshape(shape)


#: uint8 median windows of at least this many rows (and too large for a
#: selection network, see cvcore.filters) use the constant-time histogram
#: (_rank.median_u8_ctmf); shorter ones Huang's sliding histogram, whose cost
#: grows with the rows (measured crossover on 1024^2 noise: 9 rows).
CTMF_MIN_ROWS = 9


def compiled_median(sy, sx):
    """Whether a ``sy x sx`` median has a network compiled into the kernel (3x3, 5x5)."""
    return sy == sx and sy in (3, 5)


def median_rows(work, nch, sy, sx, mode, cval, row_cost, network=None):
    """Median filter of a prepared (H, W*C) work array (any rank dtype), banded."""
    h, w = work.shape[0], work.shape[1] // nch
    ymap = index_map(h, sy, sy // 2, mode)
    xmap = index_map(w, sx, sx // 2, mode)
    out = np.empty_like(work)
    with_row0, min_rows = False, 1
    if compiled_median(sy, sx):
        # bands of an even number of rows: the kernel computes rows in pairs from even rows
        kernel = lambda o, m, t, r0: _rank.median_small(work, o, nch, sy, m, xmap, cval, r0, t)  # noqa: E731
        with_row0, min_rows = True, 2
    elif network is not None:
        ops, slot = network
        kernel = lambda o, m, t: _rank.median_network(work, o, nch, sy, sx, m, xmap, cval, ops, slot, t)  # noqa: E731
    elif work.dtype == np.uint8 and sy >= CTMF_MIN_ROWS and sy * sx < 65536:
        # constant time per pixel, but each block of rows first builds kh rows of column histograms
        kernel = lambda o, m, t: _rank.median_u8_ctmf(work, o, nch, sy, sx, m, xmap, cval, t)  # noqa: E731
        min_rows = 2 * sy
    elif work.dtype == np.uint8:
        kernel = lambda o, m, t: _rank.median_u8(work, o, nch, sy, sx, m, xmap, cval, t)  # noqa: E731
    else:
        kernel = lambda o, m, t: _rank.median(work, o, nch, sy, sx, m, xmap, cval, t)  # noqa: E731
    run_in_bands(out, ymap, sy, row_cost, kernel, with_row0, min_rows)
    return out


# --------------------------------------------------------------------------
# sampled Gaussians
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _gaussian_1d_cached(sigma, radius, order):
    k = _gaussian_1d_compute(sigma, radius, order)
    k.setflags(write=False)
    return k


def gaussian_1d(sigma, radius, order=0):
    """Sampled Gaussian (or its derivative of ``order``) of ``2 * radius + 1`` taps (read-only).

    As a correlation kernel, order 1 gives ``-d/dx (G * I)``.
    """
    if radius > 4096:  # do not keep huge kernels alive in the cache
        return _gaussian_1d_compute(sigma, radius, order)
    return _gaussian_1d_cached(float(sigma), int(radius), int(order))


def _gaussian_1d_compute(sigma, radius, order):
    if sigma == 0:
        return np.ones(1)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 * (x / sigma) ** 2)
    phi /= phi.sum()
    if order == 0:
        return phi
    s2 = sigma * sigma
    if order == 1:
        return -x / s2 * phi
    return (x * x - s2) / (s2 * s2) * phi


def checked_radius(sigma, truncate, name):
    """``int(truncate * sigma + 0.5)``, refusing kernels longer than the tap limit."""
    r = truncate * sigma + 0.5
    if r > _validate.MAX_KERNEL_TAPS // 2:
        raise ValueError(f"{name}={sigma} with truncate={truncate} gives a kernel longer than "
                         f"{_validate.MAX_KERNEL_TAPS} taps")
    return int(r)


def gaussian_kernels(sigmas, truncate, name):
    """``(ky, kx)`` Gaussian kernels for validated ``(sigma_y, sigma_x)``."""
    sy, sx = sigmas
    return (gaussian_1d(sy, checked_radius(sy, truncate, name)),
            gaussian_1d(sx, checked_radius(sx, truncate, name)))


def gaussian_gradient(work, shape, nch, sigma, mode="reflect", cval=0.0):
    """``(gx, gy)``: derivatives of the Gaussian-smoothed image along x and y.

    One separable pass each with the derivative of a Gaussian (``sigma`` > 0,
    truncated at 4 sigma, at least one tap either side) along the axis and the
    Gaussian across it.
    """
    radius = max(1, checked_radius(sigma, 4.0, "sigma"))
    phi, dphi = gaussian_1d(sigma, radius), -gaussian_1d(sigma, radius, 1)
    return (sep(work, shape, nch, phi, dphi, mode, cval),
            sep(work, shape, nch, dphi, phi, mode, cval))


#: Central difference and the Sobel smoothing taps.
DERIV = np.array([-1.0, 0.0, 1.0])
SOBEL_SMOOTH = np.array([1.0, 2.0, 1.0])


def sobel_gradient(work, shape, nch, mode, cval):
    """``(gx, gy)``: unnormalised 3x3 Sobel derivatives along x and y."""
    return (sep(work, shape, nch, SOBEL_SMOOTH, DERIV, mode, cval),
            sep(work, shape, nch, DERIV, SOBEL_SMOOTH, mode, cval))


def mode_cval(mode, cval):
    """Validated border ``mode`` and ``cval``."""
    return _validate.border_mode(mode), _validate.real(cval, "cval")
