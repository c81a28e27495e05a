"""Points, chessboard patterns, image sizes and camera parameters."""
from __future__ import annotations

import numpy as np

from .arrays import array
from .numbers import _describe, integer

__all__ = ['COORDINATE_LIMIT', 'points', 'pattern_size', 'image_size', 'camera_matrix', 'dist_coeffs',
           'lens_model', 'point_views']

#: Largest magnitude accepted for point coordinates and camera-matrix entries: far beyond any real
#: camera (pixels, millimetres, metres), and small enough that squares and products stay finite.
COORDINATE_LIMIT = 1e8


def points(value, name, *, dims=2, min_count=1, allow_2d_for_3d=False):
    """An ``(N, dims)`` float64 array of finite points (``(N, 1, dims)`` accepted, as OpenCV gives).

    With ``allow_2d_for_3d`` and ``dims == 3``, ``(N, 2)`` input gets ``Z = 0``. Coordinates must lie
    within +/-:data:`COORDINATE_LIMIT`.
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
    _within_limit(out, name)
    return out


def _within_limit(arr, name):
    big = float(np.abs(arr).max()) if arr.size else 0.0
    if big > COORDINATE_LIMIT:
        raise ValueError(f"{name} must lie within +/-{COORDINATE_LIMIT:g} (got a value of {big:.3g})")


def pattern_size(value, name="pattern_size", *, low=2):
    """``(cols, rows)`` of inner chessboard corners, each >= ``low``; accepts ``"9x6"``.

    Board geometry needs 2 corners per side; the detectors need 3 (as OpenCV's).
    """
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
    cols = integer(cols, f"{name}[0] (inner corners per row)", low=low, high=1000)
    rows = integer(rows, f"{name}[1] (inner corners per column)", low=low, high=1000)
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
    _within_limit(K, name)
    if K[1, 0] != 0 or K[2, 0] != 0 or K[2, 1] != 0 or K[2, 2] != 1:
        raise ValueError(f"{name} must have the form [[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
    return K


#: Distortion coefficients of each lens model (OpenCV's order), and the lengths accepted for them.
_MODEL_COEFFS = {"pinhole": ("k1, k2, p1, p2[, k3]", (4, 5), 5),
                 "rational": ("k1, k2, p1, p2[, k3[, k4, k5, k6]]", (4, 5, 8), 8),
                 "fisheye": ("k1, k2, k3, k4", (4,), 4)}


def dist_coeffs(value, name="dist_coeffs", *, model="pinhole"):
    """Distortion coefficients of a lens model as a float64 vector (None -> zeros).

    ``pinhole``: ``(k1, k2, p1, p2[, k3])`` -> 5 values; ``rational``: 4, 5 or 8
    values (OpenCV's ``CALIB_RATIONAL_MODEL`` order) -> 8; ``fisheye``: the 4
    Kannala-Brandt ``(k1, k2, k3, k4)`` of ``cv2.fisheye``. Missing trailing
    coefficients are zeros.
    """
    text, sizes, full = _MODEL_COEFFS[model]
    if value is None:
        return np.zeros(full)
    arr = array(value, name, ndim=(1, 2), allow_empty=True)
    flat = np.asarray(arr, dtype=np.float64).ravel()
    if arr.ndim == 2 and 1 not in arr.shape:
        raise ValueError(f"{name} must be a vector of {text}, got shape {arr.shape}")
    if flat.size == 0:
        return np.zeros(full)
    if flat.size not in sizes:
        hint = ""
        if model == "pinhole" and flat.size == 8:
            hint = " (8 coefficients are the rational model: pass model='rational')"
        raise ValueError(f"{name} must hold {' or '.join(map(str, sizes))} coefficients ({text}) for the {model} "
                         f"model, got {flat.size}{hint}")
    if not np.all(np.isfinite(flat)):
        raise ValueError(f"{name} must contain only finite values")
    _within_limit(flat, name)
    out = np.zeros(full)
    out[: flat.size] = flat
    return out


def lens_model(value, name="model"):
    """One of the lens models ``"pinhole"``, ``"rational"``, ``"fisheye"``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of 'pinhole', 'rational', 'fisheye', got {_describe(value)}")
    if value not in _MODEL_COEFFS:
        raise ValueError(f"{name} must be one of 'pinhole', 'rational', 'fisheye', got {value!r}")
    return value


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
