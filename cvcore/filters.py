"""Linear and rank filters: correlation, separable filters, Gaussian, box,
median, Sobel/Scharr/Prewitt derivatives, Laplacian, LoG and DoG.

Images are ``(H, W)`` grey or ``(H, W, C)`` multi-channel arrays; channels are
filtered independently. All hot loops run in compiled kernels
(:mod:`cvcore._ext._convolve`, :mod:`cvcore._ext._rank`), called on bands of
rows so that Ctrl-C stops a long filter within a fraction of a second. Each
band is shared by :func:`cvcore.get_num_threads` OpenMP threads (fewer for
small images); results are bit-identical for every thread count.

Output dtype (linear filters)
-----------------------------
float32 and float64 input keep their dtype (float32 input is also *computed*
in float32, like OpenCV); bool, integers up to 16 bits and float16 give
float32; wider integers (32/64-bit) give float64. Integer input is never
rescaled: a uint8 image gives values in the 0..255 range. :func:`median`
keeps the input dtype.

Border modes
------------
``mode`` says how the image is extended beyond its border (``cval`` is the
value for ``"constant"``). Each name also accepts the aliases listed.

==========  =========================  ==========================  =========================
mode        extension of ``a b c d``   SciPy ``ndimage``           OpenCV
==========  =========================  ==========================  =========================
reflect     ``d c b a | a b c d | d``  ``reflect``                 ``BORDER_REFLECT``
mirror      ``d c b | a b c d | c b``  ``mirror``                  ``BORDER_REFLECT_101``
nearest     ``a a a | a b c d | d d``  ``nearest``                 ``BORDER_REPLICATE``
constant    ``k k k | a b c d | k k``  ``constant``                ``BORDER_CONSTANT``
wrap        ``b c d | a b c d | a b``  ``wrap``                    ``BORDER_WRAP``
==========  =========================  ==========================  =========================

Extensions longer than the image repeat the pattern (as SciPy does), so any
kernel size works on any image size.

Kernel origin
-------------
A kernel of length ``n`` along an axis is anchored at index ``n // 2``:
``correlate(x, k)[i] = sum_j k[j] * x[i + j - n // 2]``. For odd ``n`` this is
the centre; for even ``n`` the anchor is the right-hand one of the two middle
taps. This is ``scipy.ndimage.correlate`` with ``origin=0`` and OpenCV's
default anchor. :func:`convolve` flips the kernel:
``convolve(x, k)[i] = sum_j k[j] * x[i - j + n // 2]`` (``scipy.ndimage.convolve``).

``mode="constant"`` always means "the image padded with ``cval``, then
filtered" (OpenCV's semantics), also for separable filters; SciPy's separable
filters instead pad every 1-D pass with ``cval``, which differs near the
corners when ``cval != 0``.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from . import _filtering as _f
from . import _validate
from ._filtering import mode_cval as _mode_cval

__all__ = [
    "correlate",
    "convolve",
    "sepfilter",
    "gaussian",
    "gaussian_kernel",
    "box",
    "median",
    "sobel",
    "scharr",
    "prewitt",
    "laplacian",
    "laplacian_of_gaussian",
    "difference_of_gaussians",
]

_check_cost = _validate.filter_cost


def _image(image):
    return _validate.image(image, "image", contiguous=False)


_MODE_DOC = """mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension (see the module docstring for OpenCV/SciPy names).
        Default ``'reflect'`` (OpenCV ``BORDER_REFLECT``).
    cval : float, optional
        Value outside the image for ``mode='constant'``. Default 0."""


def _doc(fn):
    fn.__doc__ = fn.__doc__.replace("{mode}", _MODE_DOC)
    return fn


# --------------------------------------------------------------------------
# general correlation
# --------------------------------------------------------------------------


def _correlate(image, kernel, mode, cval, flip):
    mode, cval = _mode_cval(mode, cval)
    k = _validate.filter_kernel(kernel, "kernel", ndim=2)
    work, shape, nch = _f.prepare(_image(image))
    _check_cost(shape, int(np.count_nonzero(k)) or 1, "kernel")
    kh, kw = k.shape
    if flip:
        k = k[::-1, ::-1]
        ay, ax = kh - 1 - kh // 2, kw - 1 - kw // 2
    else:
        ay, ax = kh // 2, kw // 2
    if kh == 1:
        return _f.sep(work, shape, nch, np.ones(1), k[0], mode, cval, ay, ax)
    if kw == 1:
        return _f.sep(work, shape, nch, k[:, 0], np.ones(1), mode, cval, ay, ax)
    if kh * kw > 9:
        # rank-1 kernels run separably: kh + kw instead of kh * kw taps per pixel
        i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
        ky, kx = k[:, j] / k[i, j], k[i, :].copy()
        if k[i, j] != 0 and np.abs(np.outer(ky, kx) - k).max() <= 1e-13 * abs(k[i, j]):
            return _f.sep(work, shape, nch, ky, kx, mode, cval, ay, ax)
    return _f.correlate2d(work, shape, nch, k, ay, ax, mode, cval)


@_doc
def correlate(image, kernel, mode="reflect", cval=0.0):
    """Correlate an image with a 2-D kernel (``cv2.filter2D``, ``scipy.ndimage.correlate``).

    ``out[y, x] = sum_{a, b} kernel[a, b] * image[y + a - kh // 2, x + b - kw // 2]``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    kernel : (kh, kw) array_like
        Finite real kernel, any size (anchored at ``(kh // 2, kw // 2)``).
    {mode}

    Returns
    -------
    ndarray of image's shape
        float32 for float32, bool, integer (<= 16 bit) and float16 input;
        float64 for float64 and wider integer input.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import correlate
    >>> img = np.zeros((3, 3), np.float32); img[1, 1] = 1
    >>> correlate(img, [[0, 0, 0], [0, 0, 1], [0, 0, 0]])[1]
    array([1., 0., 0.], dtype=float32)
    """
    return _correlate(image, kernel, mode, cval, flip=False)


@_doc
def convolve(image, kernel, mode="reflect", cval=0.0):
    """Convolve an image with a 2-D kernel (true convolution: the kernel is flipped).

    ``out[y, x] = sum_{a, b} kernel[a, b] * image[y - a + kh // 2, x - b + kw // 2]``,
    identical to ``scipy.ndimage.convolve`` (also for even kernel sizes).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    kernel : (kh, kw) array_like
        Finite real kernel.
    {mode}

    Returns
    -------
    ndarray of image's shape
        Same dtype rule as :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import convolve
    >>> img = np.zeros((3, 3), np.float32); img[1, 1] = 1
    >>> convolve(img, [[0, 0, 0], [0, 0, 1], [0, 0, 0]])[1]
    array([0., 0., 1.], dtype=float32)
    """
    return _correlate(image, kernel, mode, cval, flip=True)


@_doc
def sepfilter(image, kernel_x, kernel_y, mode="reflect", cval=0.0):
    """Separable correlation: ``kernel_y`` along the rows' axis, ``kernel_x`` along x.

    Equivalent to ``correlate(image, np.outer(kernel_y, kernel_x))`` and to
    ``cv2.sepFilter2D(image, -1, kernel_x, kernel_y)``, but ``len(kx) + len(ky)``
    instead of ``len(kx) * len(ky)`` operations per pixel.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    kernel_x : (kw,) array_like
        Kernel along axis 1 (x, columns), anchored at ``kw // 2``.
    kernel_y : (kh,) array_like
        Kernel along axis 0 (y, rows), anchored at ``kh // 2``.
    {mode}

    Returns
    -------
    ndarray of image's shape
        Same dtype rule as :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import sepfilter
    >>> img = np.arange(9, dtype=np.float64).reshape(3, 3)
    >>> sepfilter(img, [-1, 0, 1], [1])[1]
    array([1., 2., 1.])
    """
    mode, cval = _mode_cval(mode, cval)
    kx = _validate.filter_kernel(kernel_x, "kernel_x", ndim=1)
    ky = _validate.filter_kernel(kernel_y, "kernel_y", ndim=1)
    work, shape, nch = _f.prepare(_image(image), keep_int=True)
    _check_cost(shape, kx.shape[0] + ky.shape[0], "kernel_x/kernel_y")
    return _f.sep(work, shape, nch, ky, kx, mode, cval)


# --------------------------------------------------------------------------
# Gaussian family
# --------------------------------------------------------------------------


def _truncate(truncate):
    return _validate.positive(truncate, "truncate")


def gaussian_kernel(sigma, truncate=4.0):
    """1-D Gaussian kernel of standard deviation ``sigma``, normalised to sum 1.

    The radius is ``int(truncate * sigma + 0.5)`` (as ``scipy.ndimage.gaussian_filter``),
    so the length is ``2 * radius + 1``; ``sigma=0`` gives ``[1.0]``.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, >= 0.
    truncate : float, optional
        Radius in standard deviations. Default 4.

    Returns
    -------
    (2 * radius + 1,) float64 ndarray

    Examples
    --------
    >>> from cvcore.filters import gaussian_kernel
    >>> k = gaussian_kernel(1.0)
    >>> k.shape, round(float(k.sum()), 12)
    ((9,), 1.0)
    """
    sigma = _validate.non_negative(sigma, "sigma")
    truncate = _truncate(truncate)
    return _f.gaussian_1d(sigma, _f.checked_radius(sigma, truncate, "sigma")).copy()


@_doc
def gaussian(image, sigma, truncate=4.0, mode="reflect", cval=0.0):
    """Gaussian blur (``scipy.ndimage.gaussian_filter``; ``cv2.GaussianBlur`` with the same kernel).

    Separable: the kernel :func:`gaussian_kernel` ``(sigma_y)`` along axis 0 then
    ``(sigma_x)`` along axis 1. A sigma of 0 leaves that axis unfiltered.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    sigma : float or (float, float)
        Standard deviation, or ``(sigma_y, sigma_x)``; each >= 0.
    truncate : float, optional
        Kernel radius in standard deviations: ``int(truncate * sigma + 0.5)``. Default 4.
    {mode}

    Returns
    -------
    ndarray of image's shape
        float32 for float32/bool/<=16-bit integer/float16 input, float64 for
        float64 and wider integers.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import gaussian
    >>> img = np.zeros((5, 5), np.float32); img[2, 2] = 1
    >>> out = gaussian(img, 1.0)
    >>> out.dtype, round(float(out.sum()), 5), bool(out[2, 2] == out.max())
    (dtype('float32'), 1.0, True)
    """
    mode, cval = _mode_cval(mode, cval)
    sigmas = _validate.sigma_pair(sigma, "sigma")
    ky, kx = _f.gaussian_kernels(sigmas, _truncate(truncate), "sigma")
    work, shape, nch = _f.prepare(_image(image), keep_int=True)
    _check_cost(shape, ky.shape[0] + kx.shape[0], "sigma")
    return _f.sep(work, shape, nch, ky, kx, mode, cval)


#: Below this the second-derivative kernel (which scales like 1 / sigma**2) is
#: no longer a sampled Gaussian and soon overflows; such sigmas are refused.
_LOG_MIN_SIGMA = 1e-3


@_doc
def laplacian_of_gaussian(image, sigma, truncate=4.0, mode="reflect", cval=0.0):
    """Laplacian of Gaussian (``scipy.ndimage.gaussian_laplace``).

    Sum of the second Gaussian derivative along each axis (smoothing along the
    other): ``d2/dy2 G * I + d2/dx2 G * I``. Not scale-normalised (multiply by
    ``sigma**2`` for that). Blobs brighter than their surround give negative values.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    sigma : float or (float, float)
        Standard deviation(s), >= 0.001.
    truncate : float, optional
        Kernel radius in standard deviations. Default 4.
    {mode}

    Returns
    -------
    ndarray of image's shape
        Same dtype rule as :func:`gaussian`.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import laplacian_of_gaussian
    >>> img = np.zeros((9, 9)); img[4, 4] = 1
    >>> bool(laplacian_of_gaussian(img, 1.0)[4, 4] < 0)
    True
    """
    mode, cval = _mode_cval(mode, cval)
    sy, sx = _validate.sigma_pair(sigma, "sigma", allow_zero=False)
    if min(sy, sx) < _LOG_MIN_SIGMA:
        raise ValueError(f"sigma must be >= {_LOG_MIN_SIGMA} for laplacian_of_gaussian, got {sigma}")
    truncate = _truncate(truncate)
    ry = _f.checked_radius(sy, truncate, "sigma")
    rx = _f.checked_radius(sx, truncate, "sigma")
    work, shape, nch = _f.prepare(_image(image), keep_int=True)
    _check_cost(shape, 4 * (ry + rx) + 4, "sigma")
    gy0, gy2 = _f.gaussian_1d(sy, ry), _f.gaussian_1d(sy, ry, 2)
    gx0, gx2 = _f.gaussian_1d(sx, rx), _f.gaussian_1d(sx, rx, 2)
    out = _f.sep(work, shape, nch, gy2, gx0, mode, cval)
    out += _f.sep(work, shape, nch, gy0, gx2, mode, cval)
    return out


def _renamed(value, kwargs, new, old, where):
    """``value`` of keyword ``new``, or the deprecated ``old`` one from ``kwargs`` (warns)."""
    if old not in kwargs:
        return value
    if value is not None:
        raise TypeError(f"{where}: give {new} only ({old} is its deprecated alias), not both")
    warnings.warn(f"{where}: '{old}' is deprecated, use '{new}'", DeprecationWarning, stacklevel=3)
    return kwargs.pop(old)


@_doc
def difference_of_gaussians(image, low_sigma=None, high_sigma=None, truncate=4.0, mode="reflect",
                            cval=0.0, **deprecated):
    """Band-pass filter: ``gaussian(image, low_sigma) - gaussian(image, high_sigma)``.

    As ``skimage.filters.difference_of_gaussians`` (same argument names).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    low_sigma : float or (float, float)
        Smaller standard deviation(s), >= 0.
    high_sigma : float or (float, float), optional
        Larger standard deviation(s), each >= the matching ``low_sigma``.
        Default ``1.6 * low_sigma``.
    truncate : float, optional
        Kernel radius in standard deviations. Default 4.
    {mode}
    sigma_low, sigma_high : optional
        Deprecated names of ``low_sigma`` and ``high_sigma`` (DeprecationWarning).

    Returns
    -------
    ndarray of image's shape
        Same dtype rule as :func:`gaussian`.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import difference_of_gaussians
    >>> img = np.zeros((9, 9), np.float32); img[4, 4] = 1
    >>> out = difference_of_gaussians(img, low_sigma=1, high_sigma=2)
    >>> bool(out[4, 4] > 0 > out[4, 0])
    True
    """
    where = "difference_of_gaussians"
    low_sigma = _renamed(low_sigma, deprecated, "low_sigma", "sigma_low", where)
    high_sigma = _renamed(high_sigma, deprecated, "high_sigma", "sigma_high", where)
    if deprecated:
        raise TypeError(f"difference_of_gaussians() got an unexpected keyword argument {next(iter(deprecated))!r}")
    if low_sigma is None:
        raise TypeError("difference_of_gaussians() missing required argument 'low_sigma'")
    mode, cval = _mode_cval(mode, cval)
    lo = _validate.sigma_pair(low_sigma, "low_sigma")
    if high_sigma is None:
        hi = (1.6 * lo[0], 1.6 * lo[1])
    else:
        hi = _validate.sigma_pair(high_sigma, "high_sigma")
    if hi[0] < lo[0] or hi[1] < lo[1]:
        raise ValueError(f"high_sigma {hi} must be >= low_sigma {lo} on every axis")
    truncate = _truncate(truncate)
    ky_lo, kx_lo = _f.gaussian_kernels(lo, truncate, "low_sigma")
    ky_hi, kx_hi = _f.gaussian_kernels(hi, truncate, "high_sigma")
    work, shape, nch = _f.prepare(_image(image), keep_int=True)
    _check_cost(shape, ky_lo.shape[0] + kx_lo.shape[0] + ky_hi.shape[0] + kx_hi.shape[0], "high_sigma")
    out = _f.sep(work, shape, nch, ky_lo, kx_lo, mode, cval)
    out -= _f.sep(work, shape, nch, ky_hi, kx_hi, mode, cval)
    return out


# --------------------------------------------------------------------------
# box and median
# --------------------------------------------------------------------------


@_doc
def box(image, size, normalize=True, mode="reflect", cval=0.0):
    """Box (moving-average) filter: ``cv2.blur`` / ``cv2.boxFilter``, ``scipy.ndimage.uniform_filter``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    size : int or (int, int)
        Window size, or ``(rows, cols)``; anchored at ``size // 2``.
    normalize : bool, optional
        Divide by the window area (mean, default) or not (sum).
    {mode}

    Returns
    -------
    ndarray of image's shape
        Same dtype rule as :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import box
    >>> box(np.arange(5.0).reshape(1, 5), (1, 3), mode="nearest")
    array([[0.33333333, 1.        , 2.        , 3.        , 3.66666667]])
    """
    mode, cval = _mode_cval(mode, cval)
    sy, sx = _validate.size_pair(size, "size")
    normalize = _validate.boolean(normalize, "normalize")
    work, shape, nch = _f.prepare(_image(image), keep_int=True)
    _check_cost(shape, sy + sx, "size")
    ky = np.full(sy, 1.0 / sy if normalize else 1.0)
    kx = np.full(sx, 1.0 / sx if normalize else 1.0)
    return _f.sep(work, shape, nch, ky, kx, mode, cval)


#: 3x3 and 5x5 windows use separable selection networks compiled into the
#: kernel (scripts/median_networks.py); other windows of up to this many
#: elements a pruned Batcher network built here (min/max operations vectorised
#: across pixels: K log^2 K operations, but 8 to 64 pixels per instruction);
#: larger ones quickselect. uint8 windows of more than ``_NETWORK_MAX_U8``
#: elements use sliding histograms instead. Measured on 256^2 images, the
#: networks beat quickselect 2x to 20x up to 31x31 (float64 least), and the
#: uint8 histograms from 11x11 on (9x9: network 5.0 ms, histogram 6.9 ms on 512^2).
_NETWORK_MAX = 961
_NETWORK_MAX_U8 = 81
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _batcher_pairs(n_wires):
    """Comparators of Batcher's odd-even merge sort for a power-of-two size."""
    pairs = []
    p = 1
    while p < n_wires:
        k = p
        while k >= 1:
            for j in range(k % p, n_wires - k, 2 * k):
                for i in range(min(k, n_wires - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


@functools.lru_cache(maxsize=64)
def _median_network(n):
    """Selection network for the median (rank n // 2) of n values.

    Batcher's sorting network on the next power of two, with the padding
    wires treated as +inf (comparators against them vanish) and every
    comparator that cannot influence the median output pruned away (or cut
    to a lone min / max). Returns ``(ops, out_slot)`` for the kernel.
    """
    size = 1
    while size < n:
        size *= 2
    slot = [i if i < n else -1 for i in range(size)]   # -1: a +inf padding value
    emitted = []
    for i, j in _batcher_pairs(size):
        a, b = slot[i], slot[j]
        if b == -1:
            continue
        if a == -1:
            slot[i], slot[j] = b, -1
            continue
        emitted.append((a, b))
    out = slot[n // 2]
    need = {out}
    ops = []
    for a, b in reversed(emitted):
        kind = 0 if (a in need and b in need) else 1 if a in need else 2 if b in need else -1
        if kind < 0:
            continue
        ops.append((kind, a, b))
        need.update((a, b))
    ops.reverse()
    arr = np.array(ops, dtype=np.intc).reshape(-1, 3)
    arr.setflags(write=False)
    return arr, out


@_doc
def median(image, size, mode="reflect", cval=0.0):
    """Median filter over a ``size`` window (``scipy.ndimage.median_filter``, ``cv2.medianBlur``).

    For an even number of window elements the upper of the two middle values
    is returned (as SciPy). ``cv2.medianBlur(img, k)`` equals
    ``median(img, k, mode="nearest")`` for odd ``k``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently. NaN values make the
        result of the windows containing them unspecified (one of the window's values).
    size : int or (int, int)
        Window size, or ``(rows, cols)``; anchored at ``size // 2``.
    {mode}
        For integer images ``cval`` must be representable in the image dtype.

    Returns
    -------
    ndarray of image's shape and dtype
        Medians are input values, so the dtype is kept (float16 is computed in float32).

    Notes
    -----
    Methods, by window: 3x3 a selection network on the raw pixels of four
    output rows at a time (their rows of three sorted once, in registers);
    5x5 separable selection networks (every run of pixels along a row sorted
    once, two output rows sharing their common rows; Adams 2021); other
    windows of up to 31x31 a pruned Batcher network (uint8: up to 8x8, or 81
    elements in fewer than 9 rows); all run as SIMD min/max across pixels.
    Larger uint8 windows use sliding histograms, in constant time per pixel
    from 9 rows on (Perreault and Hebert 2007, with cumulative counts searched
    by vector compares); other dtypes quickselect. All give the exact order
    statistic, the same for every thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import median
    >>> img = np.zeros((5, 5), np.uint8); img[2, 2] = 255
    >>> int(median(img, 3).max())
    0
    """
    mode, cval = _mode_cval(mode, cval)
    sy, sx = _validate.size_pair(size, "size")
    arr, unit = _validate.scaled_image(image, "image")
    # (dtypes compared by kind and size: a comparison with a scalar type costs a dtype conversion,
    # and a 3x3 median of a 1024^2 uint8 image takes only some 60 microseconds)
    work_dtype = arr.dtype
    is_u8 = work_dtype.kind == "u" and work_dtype.itemsize == 1
    was_bool = is_u8 and unit == 1.0  # bool arrives as uint8 with unit scale 1
    if work_dtype.kind == "f" and work_dtype.itemsize not in (4, 8):
        work_dtype = _F32 if work_dtype.itemsize < 4 else _F64
    if work_dtype.kind in "ui" and mode == "constant":
        info = np.iinfo(work_dtype)
        if cval != int(cval) or not info.min <= cval <= info.max:
            raise ValueError(f"cval must be an integer in [{info.min}, {info.max}] for a {work_dtype} image, "
                             f"got {cval}")
    # 3x3 / 5x5: compiled networks (~20 / ~100 ops per pixel, SIMD);
    # other windows up to _NETWORK_MAX elements: a selection network (~5 to
    # 20 ops per element, SIMD); uint8: sliding histograms (~4 * rows per
    # pixel plus a full window per row, or constant);
    # others: gather and quickselect the whole window (~8 * rows * cols).
    u8_cost = 4 * sy + 256 + sy * (sx + arr.shape[1]) // arr.shape[1]
    compiled = _f.compiled_median(sy, sx)
    if compiled:
        pixel_cost = 24 if sy == 3 else 110
    else:
        pixel_cost = u8_cost if is_u8 else 8 * sy * sx
    _check_cost(arr.shape, pixel_cost, "size")
    work = np.ascontiguousarray(arr, dtype=work_dtype)
    h, w = arr.shape[:2]
    nch = 1 if arr.ndim == 2 else arr.shape[2]
    work = work.reshape(h, w * nch)
    cv = work_dtype.type(cval if mode == "constant" else 0)
    limit = _NETWORK_MAX
    if is_u8:
        # from 9 rows on, the constant-time histogram (13-16 ms per 1024^2 whatever the window)
        # beats networks of more than 64 elements (7x7: 9.6 ms, 9x9: 18.7 ms)
        limit = _NETWORK_MAX_U8 if sy < _f.CTMF_MIN_ROWS else 64
    network = _median_network(sy * sx) if sy * sx <= limit and not compiled else None
    # Bands and threads go by time (BAND_WORK and THREAD_WORK count operations of about a
    # nanosecond), not by the operation counts above: per pixel and byte of dtype the compiled
    # networks take some 0.05 (3x3) and 0.25 ns (5x5), the histograms about 15 ns. Counted as
    # operations they made a 1024^2 uint8 3x3 (55 us) run on two threads, slower than on one, and
    # cut a 2048^2 5x5 into two parallel regions.
    if compiled:
        ns_per_pixel = (0.05 if sy == 3 else 0.25) * work_dtype.itemsize
    elif is_u8 and network is None and sy >= _f.CTMF_MIN_ROWS:
        ns_per_pixel = 16
    else:
        ns_per_pixel = pixel_cost
    out = _f.median_rows(work, nch, sy, sx, mode, cv, max(1, int(ns_per_pixel * w * nch)), network)
    out = out.reshape(arr.shape)
    if was_bool:
        return out.astype(bool)
    if work_dtype is not arr.dtype:
        out = out.astype(arr.dtype)
    return out


# --------------------------------------------------------------------------
# derivatives
# --------------------------------------------------------------------------

def _derivative(image, axis, smooth, mode, cval):
    mode, cval = _mode_cval(mode, cval)
    axis = _validate.image_axis(axis)
    work, shape, nch = _f.prepare(_image(image), keep_int=True)
    if axis == 0:
        return _f.sep(work, shape, nch, _f.DERIV, smooth, mode, cval)
    if axis == 1:
        return _f.sep(work, shape, nch, smooth, _f.DERIV, mode, cval)
    gy = _f.sep(work, shape, nch, _f.DERIV, smooth, mode, cval)
    gx = _f.sep(work, shape, nch, smooth, _f.DERIV, mode, cval)
    return np.hypot(gx, gy, out=gx)


_DERIV_DOC = """
    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    axis : {0, 1, None}, optional
        0: derivative along the rows' axis (d/dy, responds to horizontal
        edges; OpenCV ``dx=0, dy=1``); 1: along the columns (d/dx, OpenCV
        ``dx=1, dy=0``); None (default): gradient magnitude
        ``hypot(d/dx, d/dy)``.
    {mode}

    Returns
    -------
    ndarray of image's shape
        Not normalised (as OpenCV and ``scipy.ndimage``): a unit step gives a
        peak of ``sum(smoothing kernel)``. Same dtype rule as :func:`correlate`.
"""


@_doc
def sobel(image, axis=None, mode="reflect", cval=0.0):
    """Sobel derivative: ``[-1, 0, 1]`` along ``axis``, ``[1, 2, 1]`` across it.

    Matches ``scipy.ndimage.sobel`` and ``cv2.Sobel(img, cv2.CV_32F, dx, dy, ksize=3)``.
    {deriv}
    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import sobel
    >>> img = np.tile(np.arange(4.0), (3, 1))
    >>> sobel(img, axis=1, mode="nearest")[1]
    array([4., 8., 8., 4.])
    """
    return _derivative(image, axis, _f.SOBEL_SMOOTH, mode, cval)


@_doc
def scharr(image, axis=None, mode="reflect", cval=0.0):
    """Scharr derivative: ``[-1, 0, 1]`` along ``axis``, ``[3, 10, 3]`` across it.

    Matches ``cv2.Scharr(img, cv2.CV_32F, dx, dy)`` (unnormalised; skimage divides by 32).
    {deriv}
    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import scharr
    >>> img = np.tile(np.arange(4.0), (3, 1))
    >>> scharr(img, axis=1, mode="nearest")[1]
    array([16., 32., 32., 16.])
    """
    return _derivative(image, axis, np.array([3.0, 10.0, 3.0]), mode, cval)


@_doc
def prewitt(image, axis=None, mode="reflect", cval=0.0):
    """Prewitt derivative: ``[-1, 0, 1]`` along ``axis``, ``[1, 1, 1]`` across it.

    Matches ``scipy.ndimage.prewitt``.
    {deriv}
    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import prewitt
    >>> img = np.tile(np.arange(4.0), (3, 1))
    >>> prewitt(img, axis=1, mode="nearest")[1]
    array([3., 6., 6., 3.])
    """
    return _derivative(image, axis, np.array([1.0, 1.0, 1.0]), mode, cval)


for _fn in (sobel, scharr, prewitt):
    _fn.__doc__ = _fn.__doc__.replace("{deriv}", _DERIV_DOC.replace("{mode}", _MODE_DOC))


def _laplace_kernel(dtype):
    k = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=dtype)
    k.setflags(write=False)
    return k


#: The Laplacian's kernel in each work dtype, built once (a 1024^2 call takes ~0.1 ms on two threads).
_LAPLACE = {np.dtype(t).char: _laplace_kernel(t) for t in (np.float32, np.float64)}


@_doc
def laplacian(image, mode="reflect", cval=0.0):
    """Discrete Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``.

    Matches ``scipy.ndimage.laplace`` and ``cv2.Laplacian(img, cv2.CV_32F, ksize=1)``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    {mode}

    Returns
    -------
    ndarray of image's shape
        Same dtype rule as :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.filters import laplacian
    >>> img = np.zeros((3, 3)); img[1, 1] = 1
    >>> laplacian(img, mode="constant")
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """
    mode, cval = _mode_cval(mode, cval)
    work, shape, nch = _f.prepare(_image(image))
    return _f.correlate2d(work, shape, nch, _LAPLACE[work.dtype.char], 1, 1, mode, cval)
