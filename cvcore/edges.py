"""Image gradients, Canny edges, Harris / Shi-Tomasi corners and corner peaks.

Coordinates follow the project convention: points are ``(x, y)`` (column,
row). Derivatives are 3x3 Sobel responses (unnormalised, as ``cv2.Sobel`` and
``scipy.ndimage.sobel``): divide by 8 for a per-pixel slope.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from . import filters as _filters
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
    mode = _validate.border_mode(mode)
    cval = _validate.real(cval, "cval")
    work, shape, nch = _filters._prepare(image, keep_int=True)
    if sigma is not None:
        sy, sx = _validate.sigma_pair(sigma, "sigma")
        if sy > 0 or sx > 0:
            ry = _filters._checked_radius(sy, 4.0, "sigma")
            rx = _filters._checked_radius(sx, 4.0, "sigma")
            _validate.filter_cost(shape, 2 * (ry + rx) + 2, "sigma")
            work = _filters._sep(work, shape, nch, _filters._gaussian_1d(sy, ry),
                                 _filters._gaussian_1d(sx, rx), mode, cval).reshape(work.shape)
    d = _filters._DERIV
    s = np.array([1.0, 2.0, 1.0])
    gx = _filters._sep(work, shape, nch, s, d, mode, cval)
    gy = _filters._sep(work, shape, nch, d, s, mode, cval)
    return gx, gy


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _unit_scale(dtype):
    """Factor mapping the dtype's range onto [0, 1] (integers), or 1 (floats)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return 1.0 / float(np.iinfo(dtype).max)
    return 1.0  # floats as they are; bool arrives as uint8 0/1 (handled by the caller)


def _grey(image, name="image", as_float=True):
    """2-D validated C-contiguous image (float if ``as_float``) and its [0, 1] scale factor."""
    raw = np.asarray(image) if not isinstance(image, np.ndarray) else image
    arr = _validate.image(image, name, ndim=2, contiguous=False)
    if arr.ndim != 2:  # pragma: no cover - image() already checks
        raise ValueError(f"{name} must be 2-D")
    scale = 1.0 if getattr(raw, "dtype", None) == np.bool_ else _unit_scale(arr.dtype)
    work = _as_float(arr) if as_float else np.ascontiguousarray(arr)
    return work, scale


_CANNY_DTYPES = tuple(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))


def _as_float(arr):
    return np.ascontiguousarray(arr, dtype=_validate.output_float_dtype(arr.dtype))


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
    numbers.

    Algorithm
    ---------
    Smoothing uses :func:`cvcore.filters.gaussian` with ``mode='nearest'``;
    the gradient is Sobel with replicated borders (as ``cv2.Canny``).
    Non-maximum suppression follows OpenCV: the gradient direction is
    quantised to 0, 45, 90 or 135 degrees (with OpenCV's fixed-point
    tan(22.5)), a pixel survives if its magnitude is > ``low_threshold`` and a
    maximum along that direction (magnitude outside the image counts as 0).
    Survivors above ``high_threshold`` are edges, and edges grow through
    8-connected survivors.

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
    """
    work, scale = _grey(image, as_float=False)
    low = _validate.non_negative(low_threshold, "low_threshold")
    high = _validate.non_negative(high_threshold, "high_threshold")
    if low > high:
        raise ValueError(f"low_threshold ({low}) must be <= high_threshold ({high})")
    if not isinstance(l2_gradient, (bool, np.bool_)):
        raise TypeError(f"l2_gradient must be a bool, got {type(l2_gradient).__name__}")
    if sigma is not None:
        sigma = _validate.non_negative(sigma, "sigma")
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
        r = _filters._checked_radius(sigma, 4.0, "sigma")
        _validate.filter_cost(work.shape, 4 * r + 2, "sigma")
        k = _filters._gaussian_1d(sigma, r)
        work = _filters._sep(work, work.shape, 1, k, k, "nearest", 0.0)
    elif work.dtype not in _CANNY_DTYPES:
        work = _as_float(work)
    # thresholds in raw units of the image
    lo, hi = low / scale, high / scale
    if l2_gradient:
        lo, hi = lo * lo, hi * hi
    edges = np.empty((h, w), np.uint8)
    _edges.canny(work, m, mask is not None, bool(l2_gradient), lo, hi, edges)
    return edges.view(bool)


# --------------------------------------------------------------------------
# corners
# --------------------------------------------------------------------------


def _corner_response(image, sigma, block_size, mode, kind, k=0.0):
    """Harris (kind 0) or min-eigenvalue (kind 1) response in one row-wise kernel pass."""
    mode = _validate.border_mode(mode)
    work, scale = _grey(image)
    h, w = work.shape
    if block_size is None:
        sy, sx = _validate.sigma_pair(sigma, "sigma")
        ry = _filters._checked_radius(sy, 4.0, "sigma")
        rx = _filters._checked_radius(sx, 4.0, "sigma")
        ky, kx = _filters._gaussian_1d(sy, ry), _filters._gaussian_1d(sx, rx)
    else:
        b = _validate.integer(block_size, "block_size", low=1, high=_validate.MAX_KERNEL_TAPS)
        ky = kx = np.full(b, 1.0 / b)
    _validate.filter_cost((h, w, 3), ky.shape[0] + kx.shape[0] + 6, "sigma" if block_size is None else "block_size")
    kh, kw = ky.shape[0], kx.shape[0]
    out = np.empty((h, w), work.dtype)
    _edges.corner_response(
        work, _filters._index_map(h, 3, 1, mode), _filters._index_map(w, 3, 1, mode),
        np.ascontiguousarray(ky, dtype=work.dtype), np.ascontiguousarray(kx, dtype=work.dtype),
        _filters._index_map(h, kh, kh // 2, mode), _filters._index_map(w, kw, kw // 2, mode), kw // 2,
        kind, k, scale * scale, out)
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
    if not isinstance(exclude_border, (bool, np.bool_)):
        raise TypeError(f"exclude_border must be a bool, got {type(exclude_border).__name__}")
    h, w = arr.shape
    if arr.size == 0:
        return np.empty((0, 2), np.intp)
    img = np.array(arr, dtype=np.float64, order="C")
    nan = np.isnan(img)
    if nan.all():
        return np.empty((0, 2), np.intp)
    if nan.any():
        img[nan] = -np.inf
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
