"""The one place that turns user input into kernel input.

Every public function passes its arguments through these helpers before any
kernel sees them. Each helper either returns exactly what the kernel needs
(dtype, dimensionality, C-contiguity, value ranges) or raises ``TypeError`` /
``ValueError`` whose message names the argument and what was expected.
Kernels in :mod:`cvcore._ext` never check anything themselves.

Sections below are grouped by the public module that uses them; generic
helpers come first.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "BORDER_MODES",
    "array",
    "image",
    "float_image",
    "output_float_dtype",
    "border_mode",
    "real",
    "positive",
    "non_negative",
    "integer",
    "choice",
    "boxes",
    "vector",
    "random_state",
    "points",
    "pattern_size",
    "image_size",
    "camera_matrix",
    "dist_coeffs",
    "point_views",
]

# --------------------------------------------------------------------------
# generic
# --------------------------------------------------------------------------

#: dtypes images may have. Everything else (bool, complex, object, strings,
#: datetimes) is rejected with a TypeError naming the argument.
_REAL_KINDS = "uif"


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__}"


def array(value, name, *, ndim=None, kinds=_REAL_KINDS, allow_bool=False, allow_empty=False):
    """Convert ``value`` to an ndarray and check its kind and dimensionality.

    ``ndim`` may be an int or a tuple of allowed ints. Bool input is rejected
    unless ``allow_bool`` (it is then returned as uint8). The result is *not*
    copied or made contiguous; see :func:`image` / :func:`float_image` for that.
    """
    if value is None:
        raise TypeError(f"{name} must be an array, got None")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array ({exc})") from None
    if arr.dtype == np.bool_:
        if not allow_bool:
            raise TypeError(f"{name} must be a numeric array, got a boolean array")
        arr = arr.view(np.uint8)
    elif arr.dtype.kind not in kinds:
        raise TypeError(
            f"{name} must be a real numeric array (integer or floating point), got dtype {arr.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D array of shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


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


def real(value, name, *, finite=True, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """A real scalar (Python or NumPy number, not bool) as float, with optional bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "uif":
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if finite and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if np.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ValueError(f"{name} must be {op} {low}, got {value}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ValueError(f"{name} must be {op} {high}, got {value}")
    return value


def positive(value, name, **kw):
    """A finite real number > 0."""
    return real(value, name, low=0.0, low_inclusive=False, **kw)


def non_negative(value, name, **kw):
    """A finite real number >= 0."""
    return real(value, name, low=0.0, **kw)


def integer(value, name, *, low=None, high=None):
    """A Python int (from any integral type, not bool or float) within bounds."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {_describe(value)}") from None
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def choice(value, name, options):
    """One of ``options`` (strings compared case-insensitively)."""
    if isinstance(value, str):
        key = value.lower()
        for opt in options:
            if isinstance(opt, str) and opt.lower() == key:
                return opt
    elif value in options:
        return value
    raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")


def vector(value, name, length=None, *, dtype=np.float64, finite=True):
    """A 1-D array (of ``length`` if given) converted to ``dtype``, C-contiguous."""
    arr = array(value, name, ndim=1, allow_empty=length == 0 or length is None)
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if finite and out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out


def boxes(value, name="boxes", *, dtype=np.float64):
    """An ``(N, 4)`` array of ``(x, y, w, h)`` boxes, finite, ``w, h >= 0``.

    A single box of shape ``(4,)`` and an empty list are accepted.
    """
    arr = array(value, name, ndim=(1, 2), allow_empty=True)
    if arr.ndim == 1:
        if arr.size == 0:
            arr = arr.reshape(0, 4)
        elif arr.shape[0] == 4:
            arr = arr.reshape(1, 4)
        else:
            raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {arr.shape}")
    if arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=dtype)
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    if np.any(out[:, 2:] < 0):
        raise ValueError(f"{name} widths and heights (columns 2 and 3) must be >= 0")
    return out


def random_state(seed, name="random_state"):
    """A ``numpy.random.Generator`` from None, an int, or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    return np.random.default_rng(integer(seed, name, low=0))


# --------------------------------------------------------------------------
# filters / edges (add helpers specific to cvcore.filters and cvcore.edges here)
# --------------------------------------------------------------------------

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


def pair(value, name, convert):
    """A scalar or a length-2 sequence ``(for axis 0, for axis 1)`` converted by ``convert``."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number or a pair of numbers, got {type(value).__name__}")
    if np.ndim(value) == 0:
        v = convert(value, name)
        return (v, v)
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a number or a pair of numbers, got {_describe(value)}") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be a number or a pair (axis 0, axis 1), got {len(items)} values")
    return (convert(items[0], name), convert(items[1], name))


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



# --------------------------------------------------------------------------
# integral / haar / boxes / cascade (add helpers for those modules here)
# --------------------------------------------------------------------------

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


def int_boxes(value, name="boxes", *, limit=2**31 - 1):
    """An ``(N, 4)`` int64 array of integer ``(x, y, w, h)`` boxes with ``w, h >= 0``.

    Float input is accepted when every value is integral. Every value must lie
    in ``[-limit, limit]``.
    """
    raw = array(value, name, ndim=None, kinds="uif", allow_empty=True)  # clear errors for ragged/None/str
    arr = boxes(raw, name, dtype=np.float64) if raw.dtype.kind == "f" else None
    if arr is not None:
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must contain integer values (round them first)")
    else:
        raw = array(raw, name, ndim=(1, 2), kinds="ui", allow_empty=True)
        if raw.ndim == 1:
            if raw.size not in (0, 4):
                raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {raw.shape}")
            raw = raw.reshape(-1, 4)
        if raw.shape[1] != 4:
            raise ValueError(f"{name} must have shape (N, 4) as (x, y, w, h) rows, got shape {raw.shape}")
        if raw.size and raw.dtype == np.uint64 and int(raw.max()) > limit:
            raise ValueError(f"{name} values must lie within [-{limit}, {limit}]")
        arr = raw
    if arr.size and (arr.max() > limit or arr.min() < -limit):
        raise ValueError(f"{name} values must lie within [-{limit}, {limit}]")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if np.any(out[:, 2:] < 0):
        raise ValueError(f"{name} widths and heights (columns 2 and 3) must be >= 0")
    return out


def box_scores(value, n, name="scores"):
    """A finite float64 vector of length ``n`` (one score per box)."""
    arr = array(value, name, ndim=(0, 1), allow_empty=True)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be 1-D with one score per box, got a scalar")
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have one value per box ({n}), got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out


def optional_count(value, name):
    """None (no limit) or an integer >= 0."""
    return None if value is None else integer(value, name, low=0)



def window_size(value, name="window", *, low=1, high=64):
    """A ``(width, height)`` pair of ints in ``[low, high]`` (Haar / cascade windows)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a (width, height) pair of integers, got {value!r}")
    w = integer(value[0], f"{name} width", low=low, high=high)
    h = integer(value[1], f"{name} height", low=low, high=high)
    return w, h


def grey_uint8_image(value, name="image"):
    """An ``H x W`` uint8 image; RGB/RGBA input is converted to grey (OpenCV's weights)."""
    arr = image(value, name, ndim=(2, 3))
    if arr.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8 (8-bit grey or RGB), got {arr.dtype}")
    if arr.ndim == 3:
        import cv2

        if arr.shape[2] == 3:
            arr = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
        elif arr.shape[2] == 4:
            arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2GRAY)
        elif arr.shape[2] == 1:
            arr = arr[:, :, 0]
        else:
            raise ValueError(f"{name} must be grey, RGB or RGBA, got {arr.shape[2]} channels")
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------
# calibration (add helpers for cvcore.calibration here)
# --------------------------------------------------------------------------


def points(value, name, *, dims=2, min_count=1, allow_2d_for_3d=False):
    """An ``(N, dims)`` float64 array of finite points (``(N, 1, dims)`` accepted, as OpenCV gives).

    With ``allow_2d_for_3d`` and ``dims == 3``, ``(N, 2)`` input gets ``Z = 0``.
    """
    arr = array(value, name, ndim=(2, 3), allow_empty=True)
    if arr.ndim == 3:
        if arr.shape[1] != 1:
            raise ValueError(f"{name} must have shape (N, {dims}), got shape {arr.shape}")
        arr = arr[:, 0, :]
    if allow_2d_for_3d and dims == 3 and arr.shape[1] == 2:
        arr = np.concatenate([arr, np.zeros((arr.shape[0], 1), arr.dtype)], axis=1)
    if arr.shape[1] != dims:
        raise ValueError(f"{name} must have shape (N, {dims}), got shape {arr.shape}")
    if arr.shape[0] < min_count:
        raise ValueError(f"{name} must hold at least {min_count} points, got {arr.shape[0]}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values")
    return out


def pattern_size(value, name="pattern_size"):
    """``(cols, rows)`` of inner chessboard corners, each >= 2; accepts ``"9x6"``."""
    if isinstance(value, str):
        parts = value.lower().replace("*", "x").split("x")
        try:
            value = tuple(int(p) for p in parts)
        except ValueError:
            raise ValueError(f"{name} must look like '9x6' (inner corners per row x per column), got {value!r}") from None
    try:
        cols, rows = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (cols, rows) of inner-corner counts, got {_describe(value)}") from None
    cols = integer(cols, f"{name}[0] (inner corners per row)", low=2, high=1000)
    rows = integer(rows, f"{name}[1] (inner corners per column)", low=2, high=1000)
    return cols, rows


def image_size(value, name="image_size"):
    """``(width, height)`` as two positive ints."""
    try:
        w, h = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (width, height), got {_describe(value)}") from None
    return integer(w, f"{name}[0] (width)", low=1, high=1 << 20), integer(h, f"{name}[1] (height)", low=1, high=1 << 20)


def camera_matrix(value, name="camera_matrix"):
    """A 3x3 float64 upper-triangular camera matrix with positive focal lengths and ``K[2] = (0, 0, 1)``."""
    arr = array(value, name, ndim=2)
    if arr.shape != (3, 3):
        raise ValueError(f"{name} must be a 3x3 matrix, got shape {arr.shape}")
    K = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(K)):
        raise ValueError(f"{name} must contain only finite values")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise ValueError(f"{name} must have positive focal lengths K[0, 0] and K[1, 1]")
    if K[1, 0] != 0 or K[2, 0] != 0 or K[2, 1] != 0 or K[2, 2] != 1:
        raise ValueError(f"{name} must have the form [[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
    return K


def dist_coeffs(value, name="dist_coeffs"):
    """Distortion ``(k1, k2, p1, p2[, k3])`` as a length-5 float64 vector (None -> zeros)."""
    if value is None:
        return np.zeros(5)
    arr = array(value, name, ndim=(1, 2), allow_empty=True)
    flat = np.asarray(arr, dtype=np.float64).ravel()
    if arr.ndim == 2 and 1 not in arr.shape:
        raise ValueError(f"{name} must be a vector of 4 or 5 coefficients, got shape {arr.shape}")
    if flat.size == 0:
        return np.zeros(5)
    if flat.size not in (4, 5):
        raise ValueError(
            f"{name} must hold 4 or 5 coefficients (k1, k2, p1, p2[, k3]), got {flat.size}"
        )
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{name} must contain only finite values")
    out = np.zeros(5)
    out[: flat.size] = flat
    return out


def point_views(object_points, image_points, *, min_points=4):
    """Matching lists of ``(N_i, 3)`` object and ``(N_i, 2)`` image point arrays."""
    def as_list(value, name):
        if value is None:
            raise TypeError(f"{name} must be a list of point arrays, got None")
        if isinstance(value, np.ndarray) and value.ndim == 2:
            raise ValueError(f"{name} must be a list of per-view point arrays (or a 3-D array), got one 2-D array")
        try:
            return list(value)
        except TypeError:
            raise TypeError(f"{name} must be a list of point arrays, got {_describe(value)}") from None

    objs = as_list(object_points, "object_points")
    imgs = as_list(image_points, "image_points")
    if len(objs) == 0:
        raise ValueError("object_points must hold at least one view")
    if len(objs) != len(imgs):
        raise ValueError(
            f"object_points and image_points must have the same number of views, got {len(objs)} and {len(imgs)}"
        )
    out_o, out_i = [], []
    for k, (o, i) in enumerate(zip(objs, imgs)):
        o = points(o, f"object_points[{k}]", dims=3, min_count=min_points, allow_2d_for_3d=True)
        i = points(i, f"image_points[{k}]", dims=2, min_count=min_points)
        if o.shape[0] != i.shape[0]:
            raise ValueError(
                f"object_points[{k}] and image_points[{k}] must hold the same number of points, "
                f"got {o.shape[0]} and {i.shape[0]}"
            )
        out_o.append(o)
        out_i.append(i)
    return out_o, out_i


# --------------------------------------------------------------------------
# proposals (add helpers for cvcore.proposals here)
# --------------------------------------------------------------------------

#: Largest image (in pixels) the graph-based kernels accept: edge ids are
#: ``pixel * 4 + direction`` in uint32, and memory grows ~40 bytes per pixel.
MAX_GRAPH_PIXELS = 2**28


def proposal_image(value, name="image"):
    """An ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` image as float32
    ``(H, W, C)`` on a 0..255 scale (C is 1 or 3; an alpha channel is dropped).

    uint8 is taken as is, uint16 is divided by 257, other integers must lie in
    0..255, and floating-point input is read as 0..1 (scikit-image's
    convention) and multiplied by 255. NaN and infinity are rejected.
    """
    arr = image(value, name, ndim=(2, 3), contiguous=False)
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        raise ValueError(
            f"{name} must be grey (H, W), (H, W, 1), RGB (H, W, 3) or RGBA (H, W, 4); "
            f"got shape {arr.shape}")
    if arr.shape[0] * arr.shape[1] > MAX_GRAPH_PIXELS:
        raise ValueError(f"{name} is too large: {arr.shape[0]}x{arr.shape[1]} pixels exceeds "
                         f"the limit of {MAX_GRAPH_PIXELS} pixels")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32)
    elif arr.dtype == np.uint16:
        out = arr.astype(np.float32) * np.float32(1 / 257)
    elif arr.dtype.kind in "ui":
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi > 255:
            raise ValueError(f"{name} of dtype {arr.dtype} must have values in 0..255, "
                             f"got {lo}..{hi}")
        out = arr.astype(np.float32)
    else:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must contain only finite values")
        out = arr.astype(np.float32) * np.float32(255)
    return np.ascontiguousarray(out)


def proposal_image_uint8(value, name="image"):
    """Like :func:`proposal_image` but returns uint8 ``(H, W, C)`` (C is 1 or 3),
    rounding and clipping to 0..255; uint8 input is not copied more than needed."""
    arr = np.asarray(value) if isinstance(value, np.ndarray) else None
    if arr is not None and arr.dtype == np.uint8 and arr.ndim in (2, 3) and arr.size \
            and (arr.ndim == 2 or arr.shape[2] in (1, 3, 4)):
        if arr.shape[0] * arr.shape[1] > MAX_GRAPH_PIXELS:
            return proposal_image(value, name)  # raises the size error
        arr = arr[:, :, None] if arr.ndim == 2 else arr[:, :, :3]
        return np.ascontiguousarray(arr)
    out = proposal_image(value, name)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def min_size(value, name="min_size"):
    """A minimum component size in pixels (int >= 0)."""
    return integer(value, name, low=0, high=MAX_GRAPH_PIXELS)



# --------------------------------------------------------------------------
# segmentation (add helpers for cvcore.segmentation here)
# --------------------------------------------------------------------------


def feature_matrix(value, name="X", *, dtype=np.float64, n_features=None):
    """An ``(n_samples, n_features)`` finite real matrix, C-contiguous in ``dtype``.

    A 1-D input is rejected (ambiguous: one sample or one feature?).
    ``n_features`` checks the column count against a fitted model.
    """
    arr = array(value, name, ndim=2, allow_bool=True)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature column, got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but the model was fitted with {n_features}")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow in the cast is reported below
        out = np.ascontiguousarray(arr, dtype=dtype)
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf) "
                         f"representable in {np.dtype(dtype)}")
    return out


def class_targets(value, n_samples, name="y"):
    """Class labels for ``n_samples`` rows: returns ``(classes, codes)``.

    ``classes`` are the sorted unique labels (any orderable dtype but object/complex
    floats that are NaN); ``codes`` index into ``classes`` as ``intp``.
    """
    if value is None:
        raise TypeError(f"{name} must be an array of class labels, got None")
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} labels but X has {n_samples} samples")
    if arr.dtype.kind not in "biuUS":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass
        else:
            raise TypeError(f"{name} must hold integer, boolean or string class labels, got dtype {arr.dtype}")
    classes, codes = np.unique(arr, return_inverse=True)
    return classes, np.ascontiguousarray(codes.reshape(-1), dtype=np.intp)
