"""Haar-like features (Viola & Jones 2001) and their evaluation over integral images.

A feature is up to three weighted rectangles inside a detection window. The five
upright types of the paper are enumerated in scikit-image's order
(:func:`skimage.feature.haar_like_feature_coord`), and evaluated with the same
sign convention, so ``haar_feature_values`` equals ``haar_like_feature`` on the
same windows. Rectangles are stored OpenCV-style as ``(x, y, w, h)`` with a
weight; three- and four-rectangle features use OpenCV's compact form (the whole
area with weight -1 plus the "positive" rectangles with weight +2), which gives
identical values with fewer look-ups.
"""
from __future__ import annotations

import numpy as np

from . import _validate
from ._haar_core import feature_rects, feature_values, read_only

__all__ = ["FEATURE_TYPES", "FeatureTable", "haar_features", "haar_feature_values", "iter_haar_feature_values"]

#: Feature type names and the scikit-image names they correspond to.
FEATURE_TYPES = {
    "two_horizontal": "type-2-x",
    "two_vertical": "type-2-y",
    "three_horizontal": "type-3-x",
    "three_vertical": "type-3-y",
    "four": "type-4",
}
_TYPE_CODES = {name: i for i, name in enumerate(FEATURE_TYPES)}
#: Largest output :func:`haar_feature_values` allocates (float32 values).
MAX_OUTPUT_VALUES = 1 << 30


class FeatureTable:
    """A validated, read-only table of Haar-like features for one window size.

    Parameters
    ----------
    window : (int, int)
        ``(width, height)`` of the detection window, each in ``[1, 256]``.
    rects : (N, 3, 4) array_like of int
        Up to three rectangles ``(x, y, w, h)`` per feature, relative to the
        window. Every rectangle with a non-zero weight must lie inside the
        window (``x, y >= 0``, ``w, h >= 1``, ``x + w <= width``,
        ``y + h <= height``); the first two must have non-zero weights.
    weights : (N, 3) array_like of float
        Finite weight of each rectangle (0 marks an unused third rectangle).
    types : (N,) array_like of int
        Index into ``FeatureTable.TYPE_NAMES`` (0 to 4).

    Attributes
    ----------
    window : tuple of int
    rects : (N, 3, 4) int32 ndarray, read-only
        Unused rectangles are zeros.
    weights : (N, 3) float32 ndarray, read-only
    types : (N,) int8 ndarray, read-only

    Raises
    ------
    ValueError, TypeError
        For a rectangle outside the window, non-finite weights, unknown types
        or mismatched lengths; nothing invalid ever reaches the kernel.

    Examples
    --------
    >>> table = haar_features((24, 24))
    >>> len(table)
    162336
    >>> table[:2].rects.shape
    (2, 3, 4)
    >>> FeatureTable((4, 4), [[[0, 0, 2, 4], [2, 0, 2, 4], [0, 0, 0, 0]]], [[-1, 1, 0]], [0]).window
    (4, 4)
    >>> FeatureTable((4, 4), [[[30, 0, 2, 4], [2, 0, 2, 4], [0, 0, 0, 0]]], [[-1, 1, 0]], [0])
    Traceback (most recent call last):
        ...
    ValueError: rects: feature 0 rectangle 0 [30, 0, 2, 4] lies outside the 4x4 window
    """

    TYPE_NAMES = tuple(FEATURE_TYPES)
    __slots__ = ("_window", "_rects", "_weights", "_types")

    def __init__(self, window, rects, weights, types):
        self._window = _validate.window_size(window, "window", low=1, high=256)
        self._rects, self._weights, _ = feature_rects(rects, weights, None, self._window,
                                                      names=("rects", "weights", "types"))
        n = self._rects.shape[0]
        t = _validate.array(types, "types", ndim=(0, 1), kinds="ui", allow_empty=True).reshape(-1)
        if t.shape[0] != n:
            raise ValueError(f"types must have one value per feature ({n}), got {t.shape[0]}")
        if n and (t.min() < 0 or t.max() >= len(self.TYPE_NAMES)):
            raise ValueError(f"types must lie in [0, {len(self.TYPE_NAMES) - 1}] (indices into TYPE_NAMES)")
        self._types = read_only(np.array(t, dtype=np.int8))

    @classmethod
    def _trusted(cls, window, rects, weights, types):
        """A table from arrays that are already valid (subsets of a validated table)."""
        self = cls.__new__(cls)
        self._window = window
        self._rects, self._weights, self._types = (read_only(np.ascontiguousarray(a))
                                                   for a in (rects, weights, types))
        return self

    window = property(lambda self: self._window, doc="``(width, height)`` of the window.")
    rects = property(lambda self: self._rects, doc="(N, 3, 4) int32 rectangles (read-only).")
    weights = property(lambda self: self._weights, doc="(N, 3) float32 weights (read-only).")
    types = property(lambda self: self._types, doc="(N,) int8 type codes (read-only).")

    def __len__(self):
        return self._rects.shape[0]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            index = [index]
        try:
            rects = self._rects[index]
        except IndexError as exc:
            raise IndexError(f"feature index out of range for a table of {len(self)} features ({exc})") from None
        if rects.ndim != 3:
            raise IndexError("index must select features (an int, slice, integer array or boolean mask)")
        return FeatureTable._trusted(self._window, rects, self._weights[index], self._types[index])

    def __repr__(self):
        return f"FeatureTable(window={self._window}, n_features={len(self)})"

    def __reduce__(self):
        return (FeatureTable, (self._window, self._rects, self._weights, self._types))

    def type_names(self):
        """Type name of each feature (``"two_horizontal"``, ...), as an object array.

        Examples
        --------
        >>> haar_features((2, 2), types=["four"]).type_names().tolist()
        ['four']
        """
        return np.array(self.TYPE_NAMES, dtype=object)[self._types]


def _enumerate(kind, width, height):
    """(y, x, dy, dx) of every feature of ``kind`` in scikit-image's loop order."""
    nx, ny = {"two_horizontal": (2, 1), "two_vertical": (1, 2), "three_horizontal": (3, 1),
              "three_vertical": (1, 3), "four": (2, 2)}[kind]
    y, x, dy, dx = np.meshgrid(np.arange(height), np.arange(width), np.arange(1, height + 1),
                               np.arange(1, width + 1), indexing="ij")
    keep = (y + ny * dy <= height) & (x + nx * dx <= width)
    return y[keep], x[keep], dy[keep], dx[keep]


def haar_features(window=(24, 24), types=tuple(FEATURE_TYPES)):
    """All Haar-like features of the given types inside a window.

    Parameters
    ----------
    window : (int, int)
        ``(width, height)`` of the window, each in ``[1, 64]``.
    types : sequence of str
        Any of ``"two_horizontal"``, ``"two_vertical"``, ``"three_horizontal"``,
        ``"three_vertical"``, ``"four"`` (scikit-image's ``type-2-x``, ``type-2-y``,
        ``type-3-x``, ``type-3-y``, ``type-4``). Features are listed type by type
        in the given order, each type in scikit-image's order (by top-left row,
        column, then rectangle height and width).

    Returns
    -------
    FeatureTable
        162,336 features for a 24x24 window with all five types.

    Examples
    --------
    >>> len(haar_features((24, 24)))
    162336
    >>> len(haar_features((2, 2), types=["four"]))
    1
    """
    width, height = _validate.window_size(window, "window")
    if isinstance(types, str):
        types = [types]
    types = list(types)
    if not types:
        raise ValueError("types must name at least one feature type")
    rects, weights, codes = [], [], []
    for kind in types:
        kind = _validate.choice(kind, "types", tuple(FEATURE_TYPES))
        y, x, dy, dx = _enumerate(kind, width, height)
        n = y.size
        r = np.zeros((n, 3, 4), np.int32)
        wt = np.zeros((n, 3), np.float32)
        if kind == "two_horizontal":      # right - left
            r[:, 0] = np.stack([x, y, dx, dy], 1)
            r[:, 1] = np.stack([x + dx, y, dx, dy], 1)
            wt[:, :2] = (-1, 1)
        elif kind == "two_vertical":      # bottom - top
            r[:, 0] = np.stack([x, y, dx, dy], 1)
            r[:, 1] = np.stack([x, y + dy, dx, dy], 1)
            wt[:, :2] = (-1, 1)
        elif kind == "three_horizontal":  # middle - outer = 2 * middle - whole
            r[:, 0] = np.stack([x, y, 3 * dx, dy], 1)
            r[:, 1] = np.stack([x + dx, y, dx, dy], 1)
            wt[:, :2] = (-1, 2)
        elif kind == "three_vertical":
            r[:, 0] = np.stack([x, y, dx, 3 * dy], 1)
            r[:, 1] = np.stack([x, y + dy, dx, dy], 1)
            wt[:, :2] = (-1, 2)
        else:                              # (top-right + bottom-left) - (top-left + bottom-right)
            r[:, 0] = np.stack([x, y, 2 * dx, 2 * dy], 1)
            r[:, 1] = np.stack([x + dx, y, dx, dy], 1)
            r[:, 2] = np.stack([x, y + dy, dx, dy], 1)
            wt[:] = (-1, 2, 2)
        rects.append(r)
        weights.append(wt)
        codes.append(np.full(n, _TYPE_CODES[kind], np.int8))
    return FeatureTable._trusted((width, height), np.concatenate(rects), np.concatenate(weights),
                                 np.concatenate(codes))


def haar_feature_values(images_or_integrals, features, *, normalize=False, out=None):
    """Evaluate Haar-like features on a stack of windows.

    Parameters
    ----------
    images_or_integrals : (N, H, W) or (N, H+1, W+1) array_like
        Windows of exactly the feature table's size, or their integral images
        (zero first row and column, as ``cvcore.integral.integral_image`` and
        ``skimage.transform.integral_image`` padded by one). A single 2-D window
        is accepted too. Integer or float values.
    features : FeatureTable
        From :func:`haar_features` (or a subset of it).
    normalize : bool
        (Needs windows of at least 3x3 pixels to have an effect.) Multiply each window's values by OpenCV's variance normalisation factor
        ``1 / sqrt(A * sum(x^2) - sum(x)^2)`` computed over the window shrunk by
        one pixel on every side (``A`` its area); this is ``1 / (A * sigma)``,
        the paper's variance normalisation in OpenCV's units, so thresholds
        transfer to OpenCV-format cascades. Needs images, not integrals.
    out : (N, n_features) float32 ndarray, optional
        Preallocated output (without it, at most ``MAX_OUTPUT_VALUES``, 2**30
        values, are allocated). Its rows must be contiguous, its row stride may
        be larger: a block of columns of a bigger matrix (``big[:, a:b]``) or of
        rows (``big[a:b]``) is fine, so a matrix can be filled a piece at a time.

    Returns
    -------
    (N, n_features) float32 ndarray
        Feature values, computed in float64 and rounded once, from summed-area
        tables: exact int64 tables for uint8, uint16 and int16 windows, float64
        tables (one per window) otherwise, so each window's values depend on
        that window only. Windows are processed in chunks of 256, so memory
        beyond the output stays bounded (and Ctrl-C is seen between chunks).

    See Also
    --------
    iter_haar_feature_values : the same values a block of features at a time,
        without the whole ``(N, n_features)`` matrix.

    Notes
    -----
    A fresh output of 1,000 windows x 162,336 features is 650 MB; the first
    write of every page of a fresh block costs the kernel time comparable to
    the computation (``cvcore bench --only haar`` shows both rows): reuse an
    ``out`` across calls, or use :func:`iter_haar_feature_values`.

    Examples
    --------
    >>> import numpy as np
    >>> table = haar_features((4, 4), types=["two_horizontal"])
    >>> window = np.tile(np.arange(4), (4, 1))
    >>> haar_feature_values(window, table)[0, 0]   # right column minus left column
    np.float32(1.0)
    >>> big = np.zeros((1, 50), np.float32)   # the table has 40 features
    >>> haar_feature_values(window, table, out=big[:, 2:2 + len(table)])[0, 0]
    np.float32(1.0)
    """
    arr, is_integral, normalize = _checked_windows(images_or_integrals, features, normalize)
    n, n_feat = arr.shape[0], len(features)
    if out is None and n * n_feat > MAX_OUTPUT_VALUES:
        raise ValueError(f"{n} windows x {n_feat} features exceed {MAX_OUTPUT_VALUES} output values "
                         "(4 GiB of float32); evaluate fewer windows or features at a time "
                         "(iter_haar_feature_values)")
    if out is None:
        out = np.empty((n, n_feat), np.float32)
    elif (not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != (n, n_feat)
          or not out.flags.writeable or (n_feat > 1 and out.strides[1] != out.itemsize)
          or (n > 1 and out.strides[0] < n_feat * out.itemsize)):
        raise ValueError(f"out must be a writeable float32 array of shape {(n, n_feat)} with contiguous rows")
    if n and n_feat:
        feature_values(arr, is_integral, features.rects, features.weights, features.window, normalize, out)
    return out


def iter_haar_feature_values(images_or_integrals, features, *, chunk_size=4096, normalize=False):
    """:func:`haar_feature_values` a block of features at a time: ``(start, values)`` pairs.

    ``values`` is the ``(N, k)`` float32 matrix of features ``start .. start + k``
    (``k <= chunk_size``), equal to those columns of :func:`haar_feature_values`;
    memory stays at one block (``N * chunk_size * 4`` bytes) however many
    features the table holds, e.g. to pick the best feature of 162,336 over many
    windows. Arguments are checked when the function is called, before the
    first block.

    Parameters
    ----------
    images_or_integrals, features, normalize
        As for :func:`haar_feature_values`.
    chunk_size : int
        Features per block, at least 1.

    Yields
    ------
    start : int
    values : (N, k) float32 ndarray
        A fresh array per block.

    Examples
    --------
    >>> import numpy as np
    >>> table = haar_features((6, 6))
    >>> windows = np.random.default_rng(0).integers(0, 256, (5, 6, 6)).astype(np.uint8)
    >>> blocks = list(iter_haar_feature_values(windows, table, chunk_size=100))
    >>> [(start, v.shape) for start, v in blocks[:2]]
    [(0, (5, 100)), (100, (5, 100))]
    >>> bool(np.array_equal(np.hstack([v for _, v in blocks]), haar_feature_values(windows, table)))
    True
    """
    arr, is_integral, normalize = _checked_windows(images_or_integrals, features, normalize)
    chunk_size = _validate.integer(chunk_size, "chunk_size", low=1)
    if arr.shape[0] * min(chunk_size, len(features)) > MAX_OUTPUT_VALUES:
        raise ValueError(f"{arr.shape[0]} windows x chunk_size {chunk_size} exceed {MAX_OUTPUT_VALUES} values "
                         "per block; use a smaller chunk_size")
    return _feature_blocks(arr, is_integral, features, chunk_size, normalize)


def _feature_blocks(arr, is_integral, features, chunk_size, normalize):
    for start in range(0, len(features), chunk_size):
        block = features[start:start + chunk_size]
        out = np.empty((arr.shape[0], len(block)), np.float32)
        feature_values(arr, is_integral, block.rects, block.weights, features.window, normalize, out)
        yield start, out


def _checked_windows(images_or_integrals, features, normalize):
    """``(windows as an array, whether they are integral images, normalize)``, validated."""
    if not isinstance(features, FeatureTable):
        raise TypeError(f"features must be a FeatureTable from haar_features, got {type(features).__name__}")
    normalize = _validate.boolean(normalize, "normalize")
    arr = _validate.array(images_or_integrals, "images_or_integrals", ndim=(2, 3), allow_bool=True)
    if arr.ndim == 2:
        arr = arr[None]
    width, height = features.window
    if arr.shape[1:] == (height, width):
        is_integral = False
    elif arr.shape[1:] == (height + 1, width + 1):
        is_integral = True
        if normalize:
            raise ValueError("normalize=True needs the windows themselves, not integral images")
    else:
        raise ValueError(f"images_or_integrals must hold {height}x{width} windows or their "
                         f"{height + 1}x{width + 1} integral images; got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError("images_or_integrals must contain only finite values")
    return arr, is_integral, normalize
