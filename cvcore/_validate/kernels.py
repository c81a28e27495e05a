"""Filter parameters: border modes, filter kernels, sigmas, window sizes, work limits."""
from __future__ import annotations

import numpy as np

from .arrays import array
from .numbers import _describe, integer, non_negative, pair, positive

__all__ = ['BORDER_MODES', 'border_mode', 'MAX_KERNEL_TAPS', 'MAX_FILTER_WORK', 'filter_kernel', 'sigma_pair', 'size_pair', 'filter_cost', 'image_axis']


#: Border modes and their OpenCV / SciPy names (documented in cvcore.filters).
BORDER_MODES = ("reflect", "mirror", "nearest", "constant", "wrap")


_MODE_ALIASES = {
    "reflect": "reflect",
    "symmetric": "reflect",
    "grid-mirror": "reflect",
    "mirror": "mirror",
    "reflect101": "mirror",
    "reflect_101": "mirror",
    "nearest": "nearest",
    "edge": "nearest",
    "replicate": "nearest",
    "constant": "constant",
    "grid-constant": "constant",
    "wrap": "wrap",
    "grid-wrap": "wrap",
}


def border_mode(mode, name="mode"):
    """Canonical border-mode name (accepts OpenCV/SciPy/NumPy aliases)."""
    if not isinstance(mode, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(BORDER_MODES)}; got {_describe(mode)}")
    key = mode.strip().lower()
    if key not in _MODE_ALIASES:
        raise ValueError(f"{name} must be one of {', '.join(BORDER_MODES)}; got {mode!r}")
    return _MODE_ALIASES[key]


#: Longest 1-D filter kernel (taps) accepted, and the largest amount of work
#: (multiply-adds or window elements over the whole image) a filter call may do.
#: Both keep a bad argument (a huge sigma, a huge kernel on a huge image) from
#: allocating without bound or running for hours.
MAX_KERNEL_TAPS = 1 << 22


MAX_FILTER_WORK = 4e10


def filter_kernel(value, name="kernel", *, ndim=2):
    """A non-empty, finite real filter kernel of dimensionality ``ndim`` as float64."""
    arr = array(value, name, ndim=ndim, allow_bool=True)
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values")
    if any(n > MAX_KERNEL_TAPS for n in arr.shape):
        raise ValueError(f"{name} is too large: shape {arr.shape} (at most {MAX_KERNEL_TAPS} taps per axis)")
    return arr


def sigma_pair(value, name="sigma", *, allow_zero=True):
    """Gaussian ``sigma``: a scalar or ``(sigma_y, sigma_x)``, each finite and >= 0 (> 0)."""
    conv = non_negative if allow_zero else positive
    return pair(value, name, conv)


def size_pair(value, name="size"):
    """Window size: a positive int or ``(rows, cols)`` of positive ints."""
    return pair(value, name, lambda v, n: integer(v, n, low=1, high=MAX_KERNEL_TAPS))


def filter_cost(image_shape, taps, name="kernel"):
    """Raise ValueError when ``taps`` work per pixel over ``image_shape`` is too much."""
    pixels = 1.0
    for n in image_shape:
        pixels *= n
    if pixels * float(taps) > MAX_FILTER_WORK:
        raise ValueError(
            f"{name} is too large for this image: {taps} taps per pixel on shape {tuple(image_shape)} "
            f"would take more than {MAX_FILTER_WORK:.0e} operations"
        )


def image_axis(axis, name="axis"):
    """An image axis: 0 (rows, d/dy), 1 (columns, d/dx), -2, -1, or None."""
    if axis is None:
        return None
    axis = integer(axis, name)
    if axis not in (0, 1, -1, -2):
        raise ValueError(f"{name} must be 0 (rows, d/dy), 1 (columns, d/dx) or None; got {axis}")
    return axis % 2
