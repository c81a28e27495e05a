"""Integral images (summed-area tables) and rectangle sums.

Tables follow OpenCV's convention: an ``H x W`` image gives an
``(H + 1) x (W + 1)`` table whose first row and first column are zero, so
``ii[y, x]`` is the sum of ``image[:y, :x]`` and the sum over the box
``(x, y, w, h)`` is ``ii[y+h, x+w] - ii[y, x+w] - ii[y+h, x] + ii[y, x]``.

Dtypes and exactness
--------------------
* Integer (and bool) images are summed in **int64**: results are exact. Plain
  and tilted sums are exact while ``max|value| * H * W <= (2**63 - 1) / 4``
  (a uint8 image may have ~3.6e16 pixels); squared sums while
  ``max|value|**2 * H * W <= (2**63 - 1) / 4`` (uint8: 3.5e13 pixels, uint16:
  5.4e8 pixels, about 23000 x 23000). Beyond that a ``ValueError`` is raised
  instead of overflowing; convert such images to float64 first.
* Floating-point images are summed in **float64** (float16 is widened). NaN
  and infinity propagate as IEEE arithmetic dictates.
* ``(H, W, C)`` images give per-channel tables of shape ``(H + 1, W + 1, C)``,
  as OpenCV's ``cv2.integral`` does for multi-channel input.

Speed
-----
Single-channel uint8 tables use SIMD prefix sums (AVX-512 or AVX2 on x86-64,
chosen at run time; a scalar loop elsewhere). :func:`integral_image` splits a
grey uint8 image of more than about 8 million pixels among
:func:`cvcore.get_num_threads` threads (one per ~4 million pixels): smaller
tables are bound by the memory they write and gain nothing from a second
thread. Every thread count gives the same table.
"""
from __future__ import annotations

import numpy as np

from cvcore import _validate
from cvcore._ext import _integral
from cvcore._filtering import threads_for

__all__ = ["integral_image", "integral_images", "rect_sum"]


_INT32_MAX = 2**31 - 1
#: A plain table costs ~1/64 of a filter operation per pixel (it is bound by the
#: memory it writes): one thread per ~4M pixels, below which starting threads
#: costs more than it saves (measured on 2 cores).
_PIXEL_WORK_SHIFT = 6


def _sum_dtype(dtype, arr, kind):
    """The table dtype ``integral_image`` was asked for (None: the default)."""
    if dtype is None:
        return np.int64 if kind == "int" else np.float64
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be None, np.int32, np.int64 or np.float64, got {dtype!r}") from None
    allowed = (np.int32, np.int64) if kind == "int" else (np.float64,)
    if dt not in [np.dtype(a) for a in allowed]:
        raise ValueError(f"dtype must be {' or '.join(np.dtype(a).name for a in allowed)} for "
                         f"{'an integer or bool' if kind == 'int' else 'a floating-point'} image, got {dt.name}")
    if dt == np.int32:
        # provably no overflow: every partial sum is at most pixels * max |value|,
        # bounded by the dtype's range when that suffices, else by the data
        info = np.iinfo(arr.dtype)
        peak = max(info.max, -info.min)
        if peak * arr.size > _INT32_MAX:
            peak = max(int(arr.max()), -int(arr.min()))
        if peak * arr.size > _INT32_MAX:
            raise ValueError(f"dtype=int32 could overflow for values up to {peak} over {arr.size} pixels; "
                             "use the default int64")
    return dt.type


def _tables(image, which, dtype=None):
    arr, kind, channels = _validate.integral_input(image, "image")
    shape3 = (arr.shape[0] + 1, arr.shape[1] // channels + 1, channels)
    ndim = image.ndim if isinstance(image, np.ndarray) else np.ndim(image)
    acc = _sum_dtype(dtype, arr, kind)
    if kind == "int":
        _validate.integral_int_guard(arr, "image", squared=False)
        if "sqsum" in which:
            _validate.integral_int_guard(arr, "image", squared=True)
    if len(which) == 3 and channels == 1:  # one pass for all three tables
        tables = [np.empty(shape3[:2], dtype=acc) for _ in which]
        kernel = _integral.tables3_u8 if arr.dtype == np.uint8 else getattr(_integral, f"tables3_{kind}")
        kernel(arr, *tables)
        return tables if ndim == 2 else [tb[:, :, None] for tb in tables]
    if len(which) == 1 and ndim == 2:  # integral_image of a grey image: no channel axis
        table = np.empty(shape3[:2], dtype=acc)  # the kernel writes every element
        if kind == "int":  # uint8 runs on several threads for large images
            _integral.sum_table_int(arr, table, 1, threads_for(arr.shape[0], arr.size >> _PIXEL_WORK_SHIFT))
        else:
            _integral.sum_table_float(arr, table, 1)
        return [table]
    out = []
    for name in which:
        table = np.empty(shape3, dtype=acc)  # the kernels write every element
        flat = table.reshape(shape3[0], -1)
        kernel = getattr(_integral, f"{name}_table_{kind}")
        kernel(arr, flat, channels)
        out.append(table[:, :, 0] if ndim == 2 else table)
    return out


def integral_image(image, dtype=None):
    """Summed-area table with a zero first row and column (OpenCV's convention).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Integer, bool or floating-point image (not empty).
    dtype : None, np.int32, np.int64 or np.float64
        Table dtype. None: int64 for integer and bool input, float64 for
        floating-point input. ``np.int32`` (integer and bool input only) is
        smaller and faster, and is accepted only when no sum can overflow
        it: ``pixels * max |value| < 2**31``, with the dtype's range (a uint8
        image of up to 8.4 million pixels) or else the image's own values.

    Returns
    -------
    ii : (H + 1, W + 1) or (H + 1, W + 1, C) ndarray
        ``ii[y, x] == image[:y, :x].sum()`` (per channel), of ``dtype``.

    Raises
    ------
    TypeError
        For complex, object or other non-numeric input.
    ValueError
        For empty or non 2-D/3-D input, integer data whose sums could
        overflow int64 (see the module notes) or ``dtype``, or a ``dtype``
        that does not suit the image.

    See Also
    --------
    integral_images : plain, squared and tilted tables at once.
    rect_sum : box sums from a table.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.integral import integral_image
    >>> ii = integral_image(np.ones((2, 3), np.uint8))
    >>> ii
    array([[0, 0, 0, 0],
           [0, 1, 2, 3],
           [0, 2, 4, 6]])
    >>> integral_image(np.ones((2, 3), np.uint8), dtype=np.int32).dtype
    dtype('int32')
    """
    return _tables(image, ("sum",), dtype)[0]


def integral_images(image):
    """Plain, squared and 45-degree tilted summed-area tables (``cv2.integral3``).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
        Integer, bool or floating-point image (not empty).

    Returns
    -------
    sum, squared_sum, tilted_sum : ndarray
        Each of shape ``(H + 1, W + 1)`` (or ``(H + 1, W + 1, C)``), int64 for
        integer and bool input, float64 for floating-point input. The values
        equal ``cv2.integral3``'s (which returns int32/float64/int32 for uint8
        and float64 otherwise):

        * ``sum[Y, X] = image[:Y, :X].sum()``
        * ``squared_sum[Y, X] = (image[:Y, :X] ** 2).sum()``
        * ``tilted_sum[Y, X]`` is the sum of ``image[y, x]`` over ``y < Y``
          and ``|x - X + 1| <= Y - 1 - y``: the upward-widening triangle whose
          apex is the pixel ``(X - 1, Y - 1)``, rotated 45 degrees (Lienhart and
          Maydt's rotated summed-area table, as OpenCV defines it).

    Notes
    -----
    Integer input raises ``ValueError`` when int64 squared sums could
    overflow (uint16 images above ~5.4e8 pixels, wide int64 values); use
    float64 input then. For floating-point input the values agree with OpenCV
    to rounding (exactly whenever the partial sums are representable).

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.integral import integral_images
    >>> s, sq, t = integral_images(np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> int(s[-1, -1]), int(sq[-1, -1])
    (15, 55)
    >>> t[2]
    array([0, 4, 7, 8])
    """
    return tuple(_tables(image, ("sum", "sqsum", "tilted")))


def rect_sum(ii, boxes):
    """Sums over ``(x, y, w, h)`` boxes from a summed-area table.

    Parameters
    ----------
    ii : (H + 1, W + 1) or (H + 1, W + 1, C) array_like
        Table from :func:`integral_image` (or the plain/squared table of
        :func:`integral_images`).
    boxes : (N, 4) or (4,) array_like of int
        Integer ``(x, y, w, h)`` rows (floats are accepted when integral) with
        ``x, y, w, h >= 0``, ``x + w <= W`` and ``y + h <= H``. Empty boxes
        (``w`` or ``h`` zero) sum to 0.

    Returns
    -------
    sums : (N,) or (N, C) ndarray
        int64 for an integer table, float64 for a floating-point one.

    Raises
    ------
    ValueError
        If a box leaves the table, or an integer table holds values so large
        that the four-corner difference could overflow int64.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.integral import integral_image, rect_sum
    >>> image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> rect_sum(integral_image(image), [[1, 1, 2, 2], [0, 0, 4, 3]])
    array([30, 66])
    """
    table = _validate.array(ii, "ii", ndim=(2, 3), allow_bool=False)
    if table.shape[0] < 1 or table.shape[1] < 1 or (table.ndim == 3 and table.shape[2] < 1):
        raise ValueError(f"ii must be at least 1 x 1, got shape {table.shape}")
    b = _validate.int_boxes(boxes, "boxes")
    H, W = table.shape[0] - 1, table.shape[1] - 1
    x, y, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    if b.shape[0] and (x.min() < 0 or y.min() < 0 or (x + w).max() > W or (y + h).max() > H):
        raise ValueError(
            f"boxes must lie inside the table's {W} x {H} image: need x, y >= 0, x + w <= {W}, y + h <= {H}"
        )
    x2, y2 = x + w, y + h
    corners = [table[y2, x2], table[y, x2], table[y2, x], table[y, x]]
    if table.dtype.kind == "f":
        d, c, b_, a = (np.asarray(v, dtype=np.float64) for v in corners)
        return d - c - b_ + a
    if table.dtype == np.uint64 and table.size and any(v.size and v.max() > 2**61 for v in corners):
        raise ValueError("ii values exceed 2**61; rect_sum could overflow int64")
    d, c, b_, a = (np.asarray(v, dtype=np.int64) for v in corners)
    if d.size:
        peak = max(max(int(v.max()), -int(v.min())) for v in (d, c, b_, a))
        if peak > 2**61:
            raise ValueError("ii values exceed 2**61 in magnitude; rect_sum could overflow int64")
    return d - c - b_ + a
