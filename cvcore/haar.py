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
from ._ext import _haar

__all__ = ["FEATURE_TYPES", "FeatureTable", "haar_features", "haar_feature_values"]

#: Feature type names and the scikit-image names they correspond to.
FEATURE_TYPES = {
    "two_horizontal": "type-2-x",
    "two_vertical": "type-2-y",
    "three_horizontal": "type-3-x",
    "three_vertical": "type-3-y",
    "four": "type-4",
}
_TYPE_CODES = {name: i for i, name in enumerate(FEATURE_TYPES)}

#: Largest number of window rows handled by one kernel call (bounded memory).
_CHUNK_WINDOWS = 256


class FeatureTable:
    """A table of Haar-like features for one window size.

    Attributes
    ----------
    window : tuple of int
        ``(width, height)`` of the detection window.
    rects : (N, 3, 4) int32 ndarray
        Rectangles ``(x, y, w, h)`` relative to the window; unused ones are zeros.
    weights : (N, 3) float32 ndarray
        Weight of each rectangle (0 for unused rectangles).
    types : (N,) int8 ndarray
        Index into ``FeatureTable.TYPE_NAMES``.

    Examples
    --------
    >>> table = haar_features((24, 24))
    >>> len(table)
    162336
    >>> table[:2].rects.shape
    (2, 3, 4)
    """

    TYPE_NAMES = tuple(FEATURE_TYPES)

    def __init__(self, window, rects, weights, types):
        self.window = (int(window[0]), int(window[1]))
        self.rects = np.ascontiguousarray(rects, dtype=np.int32).reshape(-1, 3, 4)
        self.weights = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1, 3)
        self.types = np.ascontiguousarray(types, dtype=np.int8).reshape(-1)
        n = self.rects.shape[0]
        if self.weights.shape[0] != n or self.types.shape[0] != n:
            raise ValueError("rects, weights and types must describe the same number of features")

    def __len__(self):
        return self.rects.shape[0]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            index = [index]
        return FeatureTable(self.window, self.rects[index], self.weights[index], self.types[index])

    def __repr__(self):
        return f"FeatureTable(window={self.window}, n_features={len(self)})"

    def type_names(self):
        """Type name of each feature (``"two_horizontal"``, ...), as an object array."""
        return np.array(self.TYPE_NAMES, dtype=object)[self.types]

    def offsets(self, stride):
        """(N, 12) int32 corner offsets into a flattened integral of row ``stride``."""
        x, y, w, h = (self.rects[..., k].astype(np.int64) for k in range(4))
        o = np.stack([x + y * stride, x + w + y * stride, x + (y + h) * stride,
                      x + w + (y + h) * stride], axis=-1)
        return np.ascontiguousarray(o.reshape(-1, 12), dtype=np.int32)


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
    return FeatureTable((width, height), np.concatenate(rects), np.concatenate(weights),
                        np.concatenate(codes))


def _norm_offsets(width, height):
    """Corner offsets of OpenCV's normalisation rectangle (window shrunk by 1 px)."""
    stride = width + 1
    x, y, w, h = 1, 1, width - 2, height - 2
    return np.array([x + y * stride, x + w + y * stride, x + (y + h) * stride,
                     x + w + (y + h) * stride], np.int32), float(w * h)


def window_integrals(windows):
    """Flattened sum and squared-sum integral tables of a ``(n, H, W)`` window stack."""
    n, h, w = windows.shape
    sums = np.empty((n, (h + 1) * (w + 1)), np.float64)
    sqsums = np.empty_like(sums)
    _haar.window_integrals(np.ascontiguousarray(windows, dtype=np.float64), sums, sqsums)
    return sums, sqsums


def norm_factors(sums, sqsums, window):
    """OpenCV's per-window variance normalisation factor ``1 / sqrt(A*sqsum - sum^2)``."""
    nofs, area = _norm_offsets(*window)
    if window[0] < 3 or window[1] < 3:
        return np.ones(sums.shape[0])
    out = np.empty(sums.shape[0], np.float64)
    _haar.norm_factors(sums, sqsums, nofs, area, out)
    return out


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
        Multiply each window's values by OpenCV's variance normalisation factor
        ``1 / sqrt(A * sum(x^2) - sum(x)^2)`` computed over the window shrunk by
        one pixel on every side (``A`` its area); this is ``1 / (A * sigma)``,
        the paper's variance normalisation in OpenCV's units, so thresholds
        transfer to OpenCV-format cascades. Needs images, not integrals.
    out : (N, n_features) float32 ndarray, optional
        Preallocated output.

    Returns
    -------
    (N, n_features) float32 ndarray
        Feature values, computed in float64 and rounded once. Windows are
        processed in chunks of 256, so memory beyond the output stays bounded.

    Examples
    --------
    >>> import numpy as np
    >>> table = haar_features((4, 4), types=["two_horizontal"])
    >>> window = np.tile(np.arange(4), (4, 1))
    >>> haar_feature_values(window, table)[0, 0]   # right column minus left column
    np.float32(1.0)
    """
    if not isinstance(features, FeatureTable):
        raise TypeError(f"features must be a FeatureTable from haar_features, got {type(features).__name__}")
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
    n, n_feat = arr.shape[0], len(features)
    if out is None:
        out = np.empty((n, n_feat), np.float32)
    elif (not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != (n, n_feat)
          or not out.flags.c_contiguous or not out.flags.writeable):
        raise ValueError(f"out must be a writeable C-contiguous float32 array of shape {(n, n_feat)}")
    if n_feat == 0:
        return out
    offsets = features.offsets(width + 1)
    for start in range(0, n, _CHUNK_WINDOWS):
        chunk = arr[start:start + _CHUNK_WINDOWS]
        if is_integral:
            sums = np.ascontiguousarray(chunk, dtype=np.float64).reshape(chunk.shape[0], -1)
            scale = np.ones(chunk.shape[0])
        else:
            sums, sqsums = window_integrals(chunk)
            scale = norm_factors(sums, sqsums, features.window) if normalize else np.ones(chunk.shape[0])
        _haar.feature_values(sums, offsets, features.weights, scale, out, start)
    return out
