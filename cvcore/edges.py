"""Image gradients, Canny edges, Harris / Shi-Tomasi corners and corner peaks.

Coordinates follow the project convention: points are ``(x, y)`` (column,
row). Derivatives are 3x3 Sobel responses (unnormalised, as ``cv2.Sobel`` and
``scipy.ndimage.sobel``): divide by 8 for a per-pixel slope.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from . import filters as _filters

__all__ = ["gradient"]


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
    work, shape, nch = _filters._prepare(image)
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
