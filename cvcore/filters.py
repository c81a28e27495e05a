"""Linear and rank filters: correlation, separable filters, Gaussian, box,
median, Sobel/Scharr/Prewitt derivatives, Laplacian, LoG and DoG.

Images are ``(H, W)`` grey or ``(H, W, C)`` multi-channel arrays; channels are
filtered independently. All hot loops run in compiled kernels
(:mod:`cvcore._ext._convolve`, :mod:`cvcore._ext._rank`).

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

import numpy as np

from . import _validate
from ._ext import _convolve, _rank

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

# --------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _index_map(n, klen, anchor, mode):
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


_INT_KERNEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16))


def _prepare(image, name="image", keep_int=False):
    """Validated image -> (2-D C-contiguous work array (H, W*C), shape, channels).

    The work array is float32/float64 by :func:`_validate.output_float_dtype`;
    with ``keep_int`` uint8/uint16/int16 (and bool, as uint8) input is passed
    through unconverted for the separable kernel, which converts rows itself.
    """
    arr = _validate.image(image, name, contiguous=False)
    if keep_int and arr.dtype in _INT_KERNEL_DTYPES:
        work = np.ascontiguousarray(arr)
    else:
        work = np.ascontiguousarray(arr, dtype=_validate.output_float_dtype(arr.dtype))
    h, w = arr.shape[:2]
    nch = 1 if arr.ndim == 2 else arr.shape[2]
    return work.reshape(h, w * nch), arr.shape, nch


def _symmetry(k):
    """1 for a symmetric, -1 for an antisymmetric odd-length kernel, else 0."""
    n = k.shape[0]
    if n % 2 == 1 and n > 1:
        rev = k[::-1]
        if (k == rev).all():
            return 1
        if (k == -rev).all():
            return -1
    return 0


def _sep(work, shape, nch, ky, kx, mode, cval, anchor_y=None, anchor_x=None):
    """Run the separable kernel on a prepared work array; returns an array of ``shape``."""
    integer = work.dtype in _INT_KERNEL_DTYPES
    if not integer and work.dtype not in (np.float32, np.float64):
        work = np.ascontiguousarray(work, dtype=_validate.output_float_dtype(work.dtype))
    dtype = np.dtype(np.float32) if integer else work.dtype
    ky = np.ascontiguousarray(ky, dtype=dtype)
    kx = np.ascontiguousarray(kx, dtype=dtype)
    h, w = shape[0], shape[1]
    ay = ky.shape[0] // 2 if anchor_y is None else anchor_y
    ax = kx.shape[0] // 2 if anchor_x is None else anchor_x
    ymap = _index_map(h, ky.shape[0], ay, mode)
    xmap = _index_map(w, kx.shape[0], ax, mode)
    out = np.empty(work.shape, dtype)
    # constant mode: image padded with cval, then filtered; the horizontal pass
    # therefore sees cval * sum(ky) (the vertical taps applied to the padding).
    if mode == "constant":
        row_cval, line_cval = cval, cval * float(np.sum(ky, dtype=np.float64))
    else:
        row_cval = line_cval = 0.0
    run = _convolve.sepfilter_int if integer else _convolve.sepfilter
    run(work, out, nch, ky, ymap, _symmetry(ky), kx, xmap, ax, _symmetry(kx), row_cval, line_cval)
    return out.reshape(shape)


def _check_cost(shape, taps, name):
    _validate.filter_cost(shape, taps, name)


_MODE_DOC = """mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension (see the module docstring for OpenCV/SciPy names).
        Default ``'reflect'`` (OpenCV ``BORDER_REFLECT``).
    cval : float, optional
        Value outside the image for ``mode='constant'``. Default 0."""


def _doc(fn):
    fn.__doc__ = fn.__doc__.replace("{mode}", _MODE_DOC)
    return fn


def _mode_cval(mode, cval):
    mode = _validate.border_mode(mode)
    cval = _validate.real(cval, "cval")
    return mode, cval


# --------------------------------------------------------------------------
# general correlation
# --------------------------------------------------------------------------


def _correlate(image, kernel, mode, cval, flip):
    mode, cval = _mode_cval(mode, cval)
    k = _validate.filter_kernel(kernel, "kernel", ndim=2)
    work, shape, nch = _prepare(image)
    _check_cost(shape, int(np.count_nonzero(k)) or 1, "kernel")
    kh, kw = k.shape
    if flip:
        k = k[::-1, ::-1]
        ay, ax = kh - 1 - kh // 2, kw - 1 - kw // 2
    else:
        ay, ax = kh // 2, kw // 2
    if kh == 1:
        return _sep(work, shape, nch, np.ones(1), k[0], mode, cval, ay, ax)
    if kw == 1:
        return _sep(work, shape, nch, k[:, 0], np.ones(1), mode, cval, ay, ax)
    if kh * kw > 9:
        # rank-1 kernels run separably: kh + kw instead of kh * kw taps per pixel
        i, j = np.unravel_index(np.argmax(np.abs(k)), k.shape)
        ky, kx = k[:, j] / k[i, j], k[i, :].copy()
        if k[i, j] != 0 and np.abs(np.outer(ky, kx) - k).max() <= 1e-13 * abs(k[i, j]):
            return _sep(work, shape, nch, ky, kx, mode, cval, ay, ax)
    kk = np.ascontiguousarray(k, dtype=work.dtype)
    ymap = _index_map(shape[0], kh, ay, mode)
    xmap = _index_map(shape[1], kw, ax, mode)
    out = np.empty_like(work)
    _convolve.correlate2d(work, out, nch, kk, ymap, xmap, ax, cval if mode == "constant" else 0.0)
    return out.reshape(shape)


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
    work, shape, nch = _prepare(image, keep_int=True)
    _check_cost(shape, kx.shape[0] + ky.shape[0], "kernel_x/kernel_y")
    return _sep(work, shape, nch, ky, kx, mode, cval)


# --------------------------------------------------------------------------
# Gaussian family
# --------------------------------------------------------------------------


def _radius(sigma, truncate):
    return int(truncate * sigma + 0.5)


@functools.lru_cache(maxsize=256)
def _gaussian_1d_cached(sigma, radius, order):
    k = _gaussian_1d_compute(sigma, radius, order)
    k.setflags(write=False)
    return k


def _gaussian_1d(sigma, radius, order=0):
    """Sampled Gaussian (or its derivative of ``order``) of ``2 * radius + 1`` taps (cached, read-only)."""
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


def _truncate(truncate):
    return _validate.positive(truncate, "truncate")


def _checked_radius(sigma, truncate, name):
    r = truncate * sigma + 0.5
    if r > _validate.MAX_KERNEL_TAPS // 2:
        raise ValueError(f"{name}={sigma} with truncate={truncate} gives a kernel longer than "
                         f"{_validate.MAX_KERNEL_TAPS} taps")
    return int(r)


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
    return _gaussian_1d(sigma, _checked_radius(sigma, truncate, "sigma")).copy()


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
    sy, sx = _validate.sigma_pair(sigma, "sigma")
    truncate = _truncate(truncate)
    ry = _checked_radius(sy, truncate, "sigma")
    rx = _checked_radius(sx, truncate, "sigma")
    work, shape, nch = _prepare(image, keep_int=True)
    _check_cost(shape, 2 * (ry + rx) + 2, "sigma")
    return _sep(work, shape, nch, _gaussian_1d(sy, ry), _gaussian_1d(sx, rx), mode, cval)


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
    ry = _checked_radius(sy, truncate, "sigma")
    rx = _checked_radius(sx, truncate, "sigma")
    work, shape, nch = _prepare(image, keep_int=True)
    _check_cost(shape, 4 * (ry + rx) + 4, "sigma")
    gy0, gy2 = _gaussian_1d(sy, ry), _gaussian_1d(sy, ry, 2)
    gx0, gx2 = _gaussian_1d(sx, rx), _gaussian_1d(sx, rx, 2)
    out = _sep(work, shape, nch, gy2, gx0, mode, cval)
    out += _sep(work, shape, nch, gy0, gx2, mode, cval)
    return out


@_doc
def difference_of_gaussians(image, sigma_low, sigma_high=None, truncate=4.0, mode="reflect", cval=0.0):
    """Band-pass filter: ``gaussian(image, sigma_low) - gaussian(image, sigma_high)``.

    As ``skimage.filters.difference_of_gaussians``.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are filtered independently.
    sigma_low : float or (float, float)
        Smaller standard deviation(s), >= 0.
    sigma_high : float or (float, float), optional
        Larger standard deviation(s), each >= the matching ``sigma_low``.
        Default ``1.6 * sigma_low``.
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
    >>> from cvcore.filters import difference_of_gaussians
    >>> img = np.ones((6, 6), np.float32)
    >>> float(np.abs(difference_of_gaussians(img, 1, 2)).max()) < 1e-6
    True
    """
    mode, cval = _mode_cval(mode, cval)
    lo = _validate.sigma_pair(sigma_low, "sigma_low")
    if sigma_high is None:
        hi = (1.6 * lo[0], 1.6 * lo[1])
    else:
        hi = _validate.sigma_pair(sigma_high, "sigma_high")
    if hi[0] < lo[0] or hi[1] < lo[1]:
        raise ValueError(f"sigma_high {hi} must be >= sigma_low {lo} on every axis")
    truncate = _truncate(truncate)
    radii = [_checked_radius(s, truncate, "sigma_high") for s in (*lo, *hi)]
    work, shape, nch = _prepare(image, keep_int=True)
    _check_cost(shape, 2 * sum(radii) + 4, "sigma_high")
    out = _sep(work, shape, nch, _gaussian_1d(lo[0], radii[0]), _gaussian_1d(lo[1], radii[1]), mode, cval)
    out -= _sep(work, shape, nch, _gaussian_1d(hi[0], radii[2]), _gaussian_1d(hi[1], radii[3]), mode, cval)
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
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    work, shape, nch = _prepare(image, keep_int=True)
    _check_cost(shape, sy + sx, "size")
    ky = np.full(sy, 1.0 / sy if normalize else 1.0)
    kx = np.full(sx, 1.0 / sx if normalize else 1.0)
    return _sep(work, shape, nch, ky, kx, mode, cval)


#: Windows of up to this many elements use a selection network (min/max
#: operations vectorised across pixels); larger ones a sliding histogram
#: (uint8) or quickselect.
_NETWORK_MAX = 49


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
    arr = _validate.image(image, "image", contiguous=False)
    in_dtype = np.asarray(image).dtype
    if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        work_dtype = np.dtype(np.float32) if arr.dtype.itemsize <= 4 else np.dtype(np.float64)
    else:
        work_dtype = arr.dtype
    if work_dtype.kind in "ui":
        info = np.iinfo(work_dtype)
        if mode == "constant" and (cval != int(cval) or not info.min <= cval <= info.max):
            raise ValueError(f"cval must be an integer in [{info.min}, {info.max}] for a {work_dtype} image, "
                             f"got {cval}")
    # small windows: a selection network (~5 ops per element); uint8: a
    # sliding histogram (~4 * rows per pixel plus a full window per row);
    # others: gather and quickselect the whole window (~8 * rows * cols).
    u8_cost = 4 * sy + 256 + sy * (sx + arr.shape[1]) // arr.shape[1]
    _check_cost(arr.shape, u8_cost if work_dtype == np.uint8 else 8 * sy * sx, "size")
    work = np.ascontiguousarray(arr, dtype=work_dtype)
    h, w = arr.shape[:2]
    nch = 1 if arr.ndim == 2 else arr.shape[2]
    work = work.reshape(h, w * nch)
    ymap = _index_map(h, sy, sy // 2, mode)
    xmap = _index_map(w, sx, sx // 2, mode)
    out = np.empty_like(work)
    cv = np.array(cval if mode == "constant" else 0).astype(work_dtype)[()]
    if sy * sx <= _NETWORK_MAX:
        ops, slot = _median_network(sy * sx)
        _rank.median_network(work, out, nch, sy, sx, ymap, xmap, cv, ops, slot)
    elif work.dtype == np.uint8:
        _rank.median_u8(work, out, nch, sy, sx, ymap, xmap, cv)
    else:
        _rank.median(work, out, nch, sy, sx, ymap, xmap, cv)
    out = out.reshape(arr.shape)
    if in_dtype == np.bool_:
        return out.astype(bool)
    if out.dtype != arr.dtype:
        out = out.astype(arr.dtype)
    return out


# --------------------------------------------------------------------------
# derivatives
# --------------------------------------------------------------------------

_DERIV = np.array([-1.0, 0.0, 1.0])


def _derivative(image, axis, smooth, mode, cval):
    mode, cval = _mode_cval(mode, cval)
    axis = _validate.image_axis(axis)
    work, shape, nch = _prepare(image, keep_int=True)
    if axis == 0:
        return _sep(work, shape, nch, _DERIV, smooth, mode, cval)
    if axis == 1:
        return _sep(work, shape, nch, smooth, _DERIV, mode, cval)
    gy = _sep(work, shape, nch, _DERIV, smooth, mode, cval)
    gx = _sep(work, shape, nch, smooth, _DERIV, mode, cval)
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
    return _derivative(image, axis, np.array([1.0, 2.0, 1.0]), mode, cval)


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
    work, shape, nch = _prepare(image)
    k = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=work.dtype)
    ymap = _index_map(shape[0], 3, 1, mode)
    xmap = _index_map(shape[1], 3, 1, mode)
    out = np.empty_like(work)
    _convolve.correlate2d(work, out, nch, k, ymap, xmap, 1, cval if mode == "constant" else 0.0)
    return out.reshape(shape)
