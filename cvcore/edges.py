"""Image gradients, Canny edges, Harris / Shi-Tomasi corners and corner peaks.

Coordinates follow the project convention: points are ``(x, y)`` (column,
row). Derivatives are 3x3 Sobel responses (unnormalised, as ``cv2.Sobel`` and
``scipy.ndimage.sobel``): divide by 8 for a per-pixel slope.

Gradients, Canny's gradient and non-maximum suppression (its hysteresis is
serial) and the corner responses run on :func:`cvcore.get_num_threads`
OpenMP threads, with bit-identical results for every thread count.
"""
from __future__ import annotations

import numpy as np

from . import _filtering as _f
from . import _validate
from ._ext import _edges

__all__ = ["gradient", "canny", "harris", "shi_tomasi", "corner_peaks"]


def gradient(image, sigma=None, mode="reflect", cval=0.0):
    """Sobel gradient ``(gx, gy)`` of an image, optionally Gaussian-smoothed first.

    ``gx`` is the derivative along x (axis 1, ``cv2.Sobel(img, CV_32F, 1, 0)``),
    ``gy`` along y (axis 0, ``cv2.Sobel(img, CV_32F, 0, 1)``). Values are in
    the image's own units (a uint8 image is not rescaled); the magnitude is
    ``np.hypot(gx, gy)`` and the direction ``np.arctan2(gy, gx)`` (y down).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Image; channels are differentiated independently.
    sigma : float or (float, float), optional
        If given and > 0, :func:`cvcore.filters.gaussian` with this sigma is
        applied first (same ``mode``).
    mode : {'reflect', 'mirror', 'nearest', 'constant', 'wrap'}, optional
        Border extension (see :mod:`cvcore.filters`). Default ``'reflect'``.
    cval : float, optional
        Value outside the image for ``mode='constant'``.

    Returns
    -------
    gx, gy : ndarray of image's shape
        float32 for float32/bool/<=16-bit integer/float16 input, float64 for
        float64 and wider integers.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.edges import gradient
    >>> img = np.tile(np.arange(5.0), (4, 1))      # ramp along x
    >>> gx, gy = gradient(img, mode="nearest")
    >>> float(gx[2, 2]), float(abs(gy[2, 2]))
    (8.0, 0.0)
    """
    mode, cval = _f.mode_cval(mode, cval)
    smooth = None
    if sigma is not None:
        sigmas = _validate.sigma_pair(sigma, "sigma")
        if sigmas[0] > 0 or sigmas[1] > 0:
            smooth = _f.gaussian_kernels(sigmas, 4.0, "sigma")
    work, shape, nch = _f.prepare(_validate.image(image, "image", contiguous=False), keep_int=True)
    if smooth is not None:
        _validate.filter_cost(shape, smooth[0].shape[0] + smooth[1].shape[0], "sigma")
        work = _f.sep(work, shape, nch, *smooth, mode, cval).reshape(work.shape)
    return _f.sobel_gradient(work, shape, nch, mode, cval)


_CANNY_DTYPES = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))

#: Largest 3x3 Sobel gradient magnitude of an image on the unit scale (values in
#: [0, 1]): sqrt(4**2 + 2**2) for the L2 norm, 4 + 2 for the L1 norm. Smoothing
#: with a normalised Gaussian cannot raise it. A threshold at or above it finds nothing.
_MAX_MAGNITUDE = {True: float(np.sqrt(20.0)), False: 6.0}


def _canny_thresholds(low, high, l2):
    low = _validate.non_negative(low, "low_threshold")
    high = _validate.non_negative(high, "high_threshold")
    if low > high:
        raise ValueError(f"low_threshold ({low}) must be <= high_threshold ({high})")
    top = _MAX_MAGNITUDE[l2]
    if high >= top:
        raise ValueError(
            f"high_threshold={high} can never be reached: canny thresholds are on the unit scale "
            f"(the image divided by its dtype maximum, 255 for uint8; floats as they are, on [0, 1]), "
            f"where the largest {'L2' if l2 else 'L1'} gradient magnitude is {top:.4g}; for thresholds "
            f"in 0..255 units, as cv2.Canny takes them, divide by 255")
    return low, high


# --------------------------------------------------------------------------
# Canny
# --------------------------------------------------------------------------


def canny(image, low_threshold, high_threshold, sigma=1.0, l2_gradient=True, mask=None):
    """Canny edge detector: Gaussian smoothing, Sobel gradient, non-maximum
    suppression, hysteresis thresholding.

    Threshold units
    ---------------
    Thresholds apply to the magnitude of the 3x3 Sobel gradient of the image
    *scaled to [0, 1]*: integer images are divided by their dtype's maximum
    (255 for uint8, 65535 for uint16, 32767 for int16, ...), bool images are
    0/1, float images are used as they are. The thresholds therefore do not
    depend on the dtype (a uint8 image and the same image as float / 255 give
    the same edges). For a uint8 image, ``cv2.Canny(img, 255 * low, 255 * high,
    L2gradient=True)`` uses the same thresholds (OpenCV works on raw 0..255
    values and does no smoothing: compare with ``sigma=0``; the result is then
    identical up to float rounding at threshold ties), and
    ``skimage.feature.canny(img, sigma, 255 * low, 255 * high)`` too
    (scikit-image takes thresholds in dtype units and divides them by the
    dtype maximum; its sub-pixel interpolating suppression gives slightly
    different, not identical, edges). For float images all three use the same
    numbers. No image on the unit scale has a Sobel magnitude of sqrt(20)
    (about 4.47; 6 for the L1 norm) or more, so a ``high_threshold`` that large
    is a mistake of units (``canny(uint8_image, 100, 200)``) and raises
    ``ValueError`` instead of silently returning no edges.

    Algorithm
    ---------
    Smoothing uses :func:`cvcore.filters.gaussian` with ``mode='nearest'``;
    the gradient is Sobel with replicated borders (as ``cv2.Canny``).
    Non-maximum suppression follows OpenCV: the gradient direction is
    quantised to 0, 45, 90 or 135 degrees (with OpenCV's fixed-point
    tan(22.5)), a pixel survives if its magnitude is > ``low_threshold`` and a
    maximum along that direction (magnitude outside the image counts as 0).
    Survivors above ``high_threshold`` are edges, and edges grow through
    8-connected survivors. Every step runs on cvcore's threads
    (:func:`cvcore.set_num_threads`), one band of rows each, the hysteresis
    too: each thread grows the edges inside its band, then the chains that
    cross a band boundary are followed on. The edges are the same for any
    number of threads.

    Parameters
    ----------
    image : (H, W) array_like
        Grey image (convert colour images to grey first).
    low_threshold, high_threshold : float
        Hysteresis thresholds, ``0 <= low_threshold <= high_threshold``, in the
        units above.
    sigma : float or None, optional
        Standard deviation of the Gaussian smoothing; 0 or None: no smoothing
        (``cv2.Canny``). Default 1.
    l2_gradient : bool, optional
        Magnitude ``sqrt(gx**2 + gy**2)`` (default) or ``|gx| + |gy|``.
    mask : (H, W) array_like of bool, optional
        Edges are only reported where the mask is True (pixels outside it
        neither become edges nor connect edges).

    Returns
    -------
    (H, W) ndarray of bool

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.edges import canny
    >>> img = np.zeros((8, 8), np.uint8); img[:, 4:] = 255
    >>> canny(img, 0.1, 0.3, sigma=0).any(axis=0).nonzero()[0]   # one-pixel-wide edge
    array([3])
    >>> canny(img, 100, 200)
    Traceback (most recent call last):
        ...
    ValueError: high_threshold=200.0 can never be reached: canny thresholds are on the unit scale ...
    """
    work, scale = _validate.scaled_image(image, "image", ndim=2)
    l2_gradient = _validate.boolean(l2_gradient, "l2_gradient")
    low, high = _canny_thresholds(low_threshold, high_threshold, l2_gradient)
    if sigma is not None:
        sigma = _validate.non_negative(sigma, "sigma")
    work = np.ascontiguousarray(work)
    h, w = work.shape
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"mask must be a boolean array, got dtype {m.dtype}")
        if m.shape != (h, w):
            raise ValueError(f"mask must have the image's shape {(h, w)}, got {m.shape}")
        m = np.ascontiguousarray(m).view(np.uint8)
    else:
        m = np.zeros((1, 1), np.uint8)
    if sigma:
        ky, kx = _f.gaussian_kernels((sigma, sigma), 4.0, "sigma")
        _validate.filter_cost(work.shape, ky.shape[0] + kx.shape[0], "sigma")
        work = _f.sep(work, work.shape, 1, ky, kx, "nearest", 0.0)
    elif work.dtype not in _CANNY_DTYPES:
        work = np.ascontiguousarray(work, dtype=_validate.output_float_dtype(work.dtype))
    # thresholds in raw units of the image
    lo, hi = low / scale, high / scale
    if l2_gradient:
        lo, hi = lo * lo, hi * hi
    edges = np.empty((h, w), np.uint8)
    # about 40 operations per pixel for the gradient and non-maximum suppression
    _edges.canny(work, m, mask is not None, l2_gradient, lo, hi, edges, _f.threads_for(h, 40 * h * w))
    return edges.view(bool)


# --------------------------------------------------------------------------
# corners
# --------------------------------------------------------------------------


def _corner_response(image, sigma, block_size, mode, kind, k=0.0):
    """Harris (kind 0) or min-eigenvalue (kind 1) response in one row-wise kernel pass."""
    mode = _validate.border_mode(mode)
    arr, scale = _validate.scaled_image(image, "image", ndim=2)
    work = np.ascontiguousarray(arr, dtype=_validate.output_float_dtype(arr.dtype))
    h, w = work.shape
    if block_size is None:
        ky, kx = _f.gaussian_kernels(_validate.sigma_pair(sigma, "sigma"), 4.0, "sigma")
    else:
        b = _validate.integer(block_size, "block_size", low=1, high=_validate.MAX_KERNEL_TAPS)
        ky = kx = np.full(b, 1.0 / b)
    _validate.filter_cost((h, w, 3), ky.shape[0] + kx.shape[0] + 6, "sigma" if block_size is None else "block_size")
    kh, kw = ky.shape[0], kx.shape[0]
    out = np.empty((h, w), work.dtype)
    ymap3, xmap3 = _f.index_map(h, 3, 1, mode), _f.index_map(w, 3, 1, mode)
    ky = np.ascontiguousarray(ky, dtype=work.dtype)
    kx = np.ascontiguousarray(kx, dtype=work.dtype)
    xmapw = _f.index_map(w, kw, kw // 2, mode)
    _f.run_in_bands(out, _f.index_map(h, kh, kh // 2, mode), kh, 3 * w * (kh + kw + 6),
                    lambda o, ymapw, t: _edges.corner_response(work, ymap3, xmap3, ky, kx, ymapw, xmapw, kw // 2,
                                                               kind, k, scale * scale, o, t))
    return out


_CORNER_DOC = """
    The structure tensor ``M = W * [[Ix Ix, Ix Iy], [Ix Iy, Iy Iy]]`` uses
    unnormalised 3x3 Sobel derivatives ``Ix, Iy`` of the image scaled to
    [0, 1] (integer images are divided by their dtype's maximum; float
    images are used as they are) and a window ``W``: a Gaussian of ``sigma``
    (as scikit-image) or, with ``block_size``, the mean over a
    ``block_size x block_size`` box (as OpenCV, anchored at ``block_size // 2``).
"""


def harris(image, sigma=1.0, k=0.04, *, block_size=None, mode="reflect"):
    """Harris corner response ``det(M) - k * trace(M)**2``.
    {tensor}
    With a Gaussian window and ``mode='constant'`` this equals
    ``skimage.feature.corner_harris(image, method='k', k=k, sigma=sigma)``;
    with ``block_size=b`` and ``mode='mirror'`` it equals
    ``256 * cv2.cornerHarris(img, b, 3, k)`` for a uint8 image, or for a float
    image divided by 255 (OpenCV scales the Sobel derivatives by ``1 / (4 b)``).

    Parameters
    ----------
    image : (H, W) array_like
        Grey image.
    sigma : float or (float, float), optional
        Gaussian window standard deviation (ignored with ``block_size``). Default 1.
    k : float, optional
        Harris sensitivity, typically 0.04 to 0.06. Default 0.04.
    block_size : int, optional
        Use a box window of this size instead of the Gaussian.
    mode : str, optional
        Border mode for derivatives and window (see :mod:`cvcore.filters`). Default ``'reflect'``.

    Returns
    -------
    (H, W) ndarray
        float32 for float32/bool/<=16-bit integer/float16 input, else float64.
        Corners are positive maxima, edges negative, flat regions near 0.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.edges import harris, corner_peaks
    >>> img = np.zeros((20, 20)); img[5:15, 5:15] = 1
    >>> sorted(map(tuple, corner_peaks(harris(img), min_distance=3).tolist()))   # (x, y)
    [(5, 5), (5, 14), (14, 5), (14, 14)]
    """
    k = _validate.real(k, "k")
    return _corner_response(image, sigma, block_size, mode, 0, k)


def shi_tomasi(image, sigma=1.0, *, block_size=None, mode="reflect"):
    """Shi-Tomasi (Kanade-Tomasi) corner response: the smaller eigenvalue of ``M``.
    {tensor}
    With a Gaussian window and ``mode='constant'`` this equals
    ``skimage.feature.corner_shi_tomasi(image, sigma)``; with ``block_size=b``
    and ``mode='mirror'`` it equals ``16 * cv2.cornerMinEigenVal(img, b, 3)``
    for a uint8 image (or a float image divided by 255).

    Parameters
    ----------
    image : (H, W) array_like
        Grey image.
    sigma : float or (float, float), optional
        Gaussian window standard deviation (ignored with ``block_size``). Default 1.
    block_size : int, optional
        Use a box window of this size instead of the Gaussian.
    mode : str, optional
        Border mode for derivatives and window. Default ``'reflect'``.

    Returns
    -------
    (H, W) ndarray
        Same dtype rule as :func:`harris`; values >= 0 up to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.edges import shi_tomasi
    >>> img = np.zeros((20, 20)); img[5:15, 5:15] = 1
    >>> r = shi_tomasi(img)
    >>> bool(r[5, 5] > r[10, 5] and r[5, 5] > r[10, 10])
    True
    """
    return _corner_response(image, sigma, block_size, mode, 1)


harris.__doc__ = harris.__doc__.replace("{tensor}", _CORNER_DOC)
shi_tomasi.__doc__ = shi_tomasi.__doc__.replace("{tensor}", _CORNER_DOC)


def corner_peaks(response, min_distance=1, threshold_rel=0.01, num_peaks=None, *, exclude_border=True):
    """Local maxima of a corner response, at least ``min_distance + 1`` apart.

    Same selection as ``skimage.feature.corner_peaks`` (default arguments,
    Chebyshev distance), but the result is ``(x, y)`` = (column, row), the
    project's point convention, whereas scikit-image returns ``(row, col)``.

    A pixel is a candidate if it equals the maximum of its
    ``(2 * min_distance + 1)`` square neighbourhood (replicated border), is
    greater than ``max(response.min(), threshold_rel * response.max())``, and
    (with ``exclude_border``) lies at least ``min_distance`` pixels from the
    border. Candidates are visited by decreasing response (ties in row-major
    order) and kept unless a kept peak lies within Chebyshev distance
    ``min_distance``. NaN values are never peaks.

    Parameters
    ----------
    response : (H, W) array_like
        Corner response, e.g. from :func:`harris`.
    min_distance : int, optional
        Minimum separation minus one, >= 0 (0 keeps every plateau pixel). Default 1.
    threshold_rel : float, optional
        Minimum response relative to the maximum, in [0, 1]. Default 0.01.
    num_peaks : int, optional
        Keep at most this many (the strongest).
    exclude_border : bool, optional
        Drop peaks closer than ``min_distance`` to the border. Default True.

    Returns
    -------
    (N, 2) ndarray of intp
        ``(x, y)`` peak positions, strongest first.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.edges import corner_peaks
    >>> r = np.zeros((7, 9)); r[2, 6] = 1.0; r[4, 3] = 0.5
    >>> corner_peaks(r)
    array([[6, 2],
           [3, 4]])
    """
    arr = _validate.array(response, "response", ndim=2, allow_empty=True, allow_bool=True)
    d = _validate.integer(min_distance, "min_distance", low=0)
    rel = _validate.real(threshold_rel, "threshold_rel", low=0.0, high=1.0)
    if num_peaks is not None:
        num_peaks = _validate.integer(num_peaks, "num_peaks", low=0)
    exclude_border = _validate.boolean(exclude_border, "exclude_border")
    h, w = arr.shape
    if arr.size == 0:
        return np.empty((0, 2), np.intp)
    # float32 responses (harris of a uint8 image) are compared as they are
    img = np.ascontiguousarray(arr, dtype=arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64)
    nan = np.isnan(img)
    if nan.all():
        return np.empty((0, 2), np.intp)
    if nan.any():
        img = np.where(nan, -np.inf, img)  # a copy: the caller's array is left alone
    d_eff = min(d, max(h, w))
    threshold = max(float(img.min()), rel * float(img.max()))
    if not np.isfinite(threshold) and threshold > 0:
        threshold = np.finfo(np.float64).max  # only +inf responses can exceed it
    border = d_eff if exclude_border else 0
    mask = np.empty((h, w), np.uint8)
    _edges.peak_mask(img, d_eff, threshold, border, mask)
    flat = np.flatnonzero(mask)
    if flat.size == 0:
        return np.empty((0, 2), np.intp)
    order = np.ascontiguousarray(flat[np.argsort(-img.ravel()[flat], kind="stable")], dtype=np.intp)
    keep = np.empty(order.size, np.intp)
    limit = order.size if num_peaks is None else min(num_peaks, order.size)
    n = _edges.spaced_peaks(order, h, w, d_eff, limit, keep)
    keep = keep[:n]
    return np.stack([keep % w, keep // w], axis=1).astype(np.intp)
