"""Images: validation and the one input policy.

The input policy (documented in the README's conventions) says how any image
becomes numbers wherever cvcore interprets intensities (edges, features,
chessboards, cascades, proposals):

* **dtype scaling**: unsigned and signed integers are divided by their dtype's
  maximum (uint8 by 255, uint16 by 65535, int16 by 32767, ...), bool is 0/1,
  floating-point images are taken as they are, on a nominal [0, 1] scale.
  Values outside [0, 1] in a float image keep their meaning (darker than black,
  brighter than white): linear operations use them unchanged and conversions to
  8 bits clip them. Nothing ever depends on an image's own minimum or maximum.
* **channels**: ``(H, W)`` and ``(H, W, 1)`` are grey, ``(H, W, 3)`` is RGB and
  ``(H, W, 4)`` is RGBA whose alpha is ignored; any other channel count is an
  error where colour must be interpreted.
* **grey**: one set of weights, ITU-R BT.601 ``0.299 R + 0.587 G + 0.114 B``
  (:data:`GREY_WEIGHTS`), as OpenCV's ``cvtColor(..., COLOR_RGB2GRAY)``. 8-bit
  input is converted by OpenCV itself, so 8-bit grey is bit-identical to
  OpenCV's.
* **8 bits**: the unit-scale value times 255, rounded half away from zero and
  clipped to 0..255 (uint8 input is used as is).

Filters (:mod:`cvcore.filters`, ``edges.gradient``) are numeric operations on
the raw values and do not rescale. Code that works on raw values but reads
intensities (Canny thresholds, corner responses) uses :func:`scaled_image`
and converts its parameters with the factor instead of copying the image.
Bool arrays arrive from :func:`image` as uint8 0/1; the policy functions
remember that they were bool, so bool is 0/1 on the unit scale (255 in 8 bits),
never 0/255 of a uint8.
"""
from __future__ import annotations

import numpy as np

from .arrays import array
from .numbers import integer

__all__ = ['GREY_WEIGHTS', 'image', 'output_float_dtype', 'float_image', 'integral_input', 'integral_int_guard', 'window_size', 'MAX_GRAPH_PIXELS', 'min_size', 'unit_scale', 'scaled_image', 'colour_channels', 'unit_image', 'grey_image', 'uint8_image', 'grey_uint8']

#: ITU-R BT.601 luma weights for (R, G, B), the weights of OpenCV's RGB2GRAY.
GREY_WEIGHTS = (0.299, 0.587, 0.114)


def image(value, name="image", *, ndim=(2, 3), dtypes=None, allow_bool=True, contiguous=True):
    """Validate an ``H x W`` or ``H x W x C`` image.

    With ``dtypes`` (a tuple of NumPy dtypes), input of another dtype raises
    ``TypeError``. With ``contiguous`` the result is C-contiguous (copied only
    when needed; read-only input is fine because kernels take ``const`` views).
    """
    arr = array(value, name, ndim=ndim, allow_bool=allow_bool)
    if dtypes is not None and arr.dtype not in tuple(np.dtype(d) for d in dtypes):
        names = ", ".join(str(np.dtype(d)) for d in dtypes)
        raise TypeError(f"{name} must have dtype {names}; got {arr.dtype}")
    if contiguous:
        arr = np.ascontiguousarray(arr)
    return arr


def output_float_dtype(dtype):
    """Output dtype of a filter for input ``dtype`` (the project's documented rule).

    float32/float64 keep their dtype; float16 and integers up to 16 bits give
    float32; wider integers (which float32 cannot hold exactly) give float64.
    """
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        return dtype
    if dtype.kind == "f":  # float16, longdouble
        return np.dtype(np.float32) if dtype.itemsize < 4 else np.dtype(np.float64)
    if dtype.kind in "ui" and dtype.itemsize <= 2:
        return np.dtype(np.float32)
    if dtype.kind in "uib":
        return np.dtype(np.float64)
    raise TypeError(f"unsupported dtype {dtype}")


def float_image(value, name="image", *, ndim=(2, 3), dtype=None):
    """Validate an image and return it C-contiguous as float32 or float64.

    The float dtype follows :func:`output_float_dtype` unless ``dtype`` is given.
    """
    arr = image(value, name, ndim=ndim, contiguous=False)
    target = output_float_dtype(arr.dtype) if dtype is None else np.dtype(dtype)
    return np.ascontiguousarray(arr, dtype=target)


#: int64 limit used by the integral-image overflow guards (a safety factor of 4
#: covers the intermediate terms of the tilted recurrence).
_INT64_GUARD = (2**63 - 1) // 4


def integral_input(value, name="image"):
    """Validate an image for :mod:`cvcore.integral`.

    Returns ``(arr, kind, channels)``: ``arr`` is C-contiguous with shape
    ``(H, W * C)`` and a dtype the integral kernels take (uint8, uint16, int16,
    int64 for integers; float32, float64 for floats), ``kind`` is ``"int"`` or
    ``"float"``. ``(H, W)`` input has ``C == 1``; ``(H, W, C)`` keeps its C.
    Bool is summed as 0/1. Integer images whose values do not fit int64 raise.
    """
    arr = array(value, name, ndim=(2, 3), allow_bool=True)
    if arr.shape[0] == 0 or arr.shape[1] == 0 or (arr.ndim == 3 and arr.shape[2] == 0):
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    dt = arr.dtype
    if dt.kind == "f":
        kind = "float"
        target = np.float64 if dt.itemsize > 4 else np.float32
        if dt.itemsize > 8:
            raise TypeError(f"{name} must have at most 64-bit floats, got dtype {dt}")
    else:
        kind = "int"
        if dt in (np.uint8, np.uint16, np.int16):
            target = dt
        elif dt == np.int8:
            target = np.int16
        else:
            if dt == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
                raise ValueError(f"{name} has values above the int64 range; convert it to float64 first")
            target = np.int64
    out = np.ascontiguousarray(arr, dtype=target)
    return out.reshape(out.shape[0], -1), kind, channels


_SMALL_INT_PEAK = {np.dtype(np.uint8).char: 255, np.dtype(np.uint16).char: 65535, np.dtype(np.int16).char: 32768}


def integral_int_guard(arr, name="image", *, squared=False):
    """Raise ValueError if int64 integral tables of ``arr`` could overflow."""
    peak = _SMALL_INT_PEAK.get(arr.dtype.char)
    if peak is None:
        peak = max(int(arr.max()), -int(arr.min())) if arr.size else 0
    bound = peak * peak if squared else peak
    if bound * int(arr.size) > _INT64_GUARD:
        what = "squared sums" if squared else "sums"
        raise ValueError(
            f"{name}: int64 {what} could overflow for values up to {peak} over {arr.size} pixels; "
            "convert the image to float64 first"
        )


def window_size(value, name="window", *, low=1, high=64):
    """A ``(width, height)`` pair of ints in ``[low, high]`` (Haar / cascade windows)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a (width, height) pair of integers, got {value!r}")
    w = integer(value[0], f"{name} width", low=low, high=high)
    h = integer(value[1], f"{name} height", low=low, high=high)
    return w, h


#: Largest image (in pixels) the graph-based kernels accept: edge ids are
#: ``pixel * 4 + direction`` in uint32, and memory grows ~40 bytes per pixel.
MAX_GRAPH_PIXELS = 2**28


def min_size(value, name="min_size"):
    """A minimum component size in pixels (int >= 0)."""
    return integer(value, name, low=0, high=MAX_GRAPH_PIXELS)


# --------------------------------------------------------------------------
# The input policy
# --------------------------------------------------------------------------


def unit_scale(dtype):
    """Factor that maps a dtype's values onto the nominal [0, 1] scale.

    ``1 / iinfo(dtype).max`` for integers, 1 for bool (0/1) and floats.
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return 1.0 / float(np.iinfo(dtype).max)
    if dtype.kind in "fb":
        return 1.0
    raise TypeError(f"unsupported image dtype {dtype}")


def _pixel_limit(arr, name, max_pixels):
    if max_pixels is not None and arr.shape[0] * arr.shape[1] > max_pixels:
        raise ValueError(f"{name} is too large: {arr.shape[0]}x{arr.shape[1]} pixels exceeds "
                         f"the limit of {max_pixels} pixels")


def scaled_image(value, name="image", *, ndim=(2, 3), max_pixels=None):
    """A validated image in its own dtype and the factor that puts it on the unit scale.

    Returns ``(arr, scale)``: ``arr`` as :func:`image` gives it (not copied or
    made contiguous; bool as uint8 0/1) and ``scale`` with ``arr * scale`` on the
    unit scale (:func:`unit_scale` of the input dtype, so 1 for bool). For code
    that works on raw values and converts its thresholds instead of the image.
    """
    if value is not None and not hasattr(value, "dtype") and not isinstance(value, (str, bytes)):
        try:
            value = np.asarray(value)
        except (TypeError, ValueError):
            pass  # image() reports it with the argument's name
    is_bool = getattr(value, "dtype", None) == np.bool_
    arr = image(value, name, ndim=ndim, contiguous=False)
    _pixel_limit(arr, name, max_pixels)
    return arr, 1.0 if is_bool else unit_scale(arr.dtype)


def colour_channels(arr, name="image"):
    """``(H, W)`` grey or ``(H, W, 3)`` RGB view of a validated image (alpha dropped)."""
    if arr.ndim == 2:
        return arr
    c = arr.shape[2]
    if c == 1:
        return arr[:, :, 0]
    if c in (3, 4):
        return arr[:, :, :3]
    raise ValueError(
        f"{name} must be grey (H, W) or (H, W, 1), RGB (H, W, 3) or RGBA (H, W, 4); got shape {arr.shape}"
    )


def _finite(arr, name):
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or infinity)")


def _policy_input(value, name, colour, max_pixels):
    """Validated image (channels resolved if ``colour``) and its unit-scale factor."""
    arr, scale = scaled_image(value, name, max_pixels=max_pixels)
    if colour:
        arr = colour_channels(arr, name)
    _finite(arr, name)
    return arr, scale


def _rescaled(arr, factor, dtype):
    dtype = np.dtype(dtype)
    if factor == 1.0:
        return np.ascontiguousarray(arr, dtype=dtype)
    return np.multiply(arr, dtype.type(factor), dtype=dtype, order="C")  # C even for Fortran input


def unit_image(value, name="image", *, dtype=np.float32, colour=True, peak=1.0, max_pixels=None):
    """An image as floats on the unit scale, per the input policy.

    Returns C-contiguous ``(H, W)`` or ``(H, W, 3)`` (``colour=True``: alpha
    dropped, ``(H, W, 1)`` squeezed) in ``dtype``. Integers are divided by
    their dtype maximum, bool is 0/1, floats are unchanged (must be finite).
    With ``peak`` the result is on ``[0, peak]`` instead (``peak=255`` leaves
    uint8 values exactly as they are). ``max_pixels`` refuses larger images
    before anything is converted.
    """
    arr, scale = _policy_input(value, name, colour, max_pixels)
    return _rescaled(arr, peak * scale, dtype)


def _grey(arr, scale, dtype):
    """Unit-scale grey of a policy input (see :func:`_policy_input`)."""
    if arr.ndim == 2:
        return _rescaled(arr, scale, dtype)
    if arr.dtype == np.uint8 and scale != 1.0:
        return _rescaled(_cv_grey(arr), scale, dtype)
    rgb = _rescaled(arr, scale, np.float64)
    r, g, b = GREY_WEIGHTS
    return np.ascontiguousarray(r * rgb[:, :, 0] + g * rgb[:, :, 1] + b * rgb[:, :, 2], dtype=dtype)


def grey_image(value, name="image", *, dtype=np.float32):
    """An ``(H, W)`` grey image on the unit scale (BT.601 weights for colour)."""
    arr, scale = _policy_input(value, name, True, None)
    return _grey(arr, scale, dtype)


def _cv_grey(rgb_u8):
    import cv2  # OpenCV's fixed-point RGB2GRAY: 8-bit grey identical to OpenCV's

    return cv2.cvtColor(np.ascontiguousarray(rgb_u8), cv2.COLOR_RGB2GRAY)


def _to_uint8(unit):
    return np.clip(np.floor(np.asarray(unit, np.float64) * 255.0 + 0.5), 0, 255).astype(np.uint8)


def uint8_image(value, name="image", *, colour=True, max_pixels=None):
    """An image as uint8 ``(H, W)`` or ``(H, W, 3)``: unit scale times 255, rounded, clipped.

    uint8 input is used as is (only made contiguous, alpha dropped); bool
    becomes 0/255.
    """
    arr, scale = _policy_input(value, name, colour, max_pixels)
    if arr.dtype == np.uint8 and scale != 1.0:
        return np.ascontiguousarray(arr)
    return _to_uint8(_rescaled(arr, scale, np.float64))


def grey_uint8(value, name="image"):
    """An ``(H, W)`` uint8 grey image (OpenCV's conversion for 8-bit colour)."""
    arr, scale = _policy_input(value, name, True, None)
    if arr.dtype == np.uint8 and scale != 1.0:  # 8-bit input (not bool)
        return np.ascontiguousarray(arr) if arr.ndim == 2 else _cv_grey(arr)
    return _to_uint8(_grey(arr, scale, np.float64))
