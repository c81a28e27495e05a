"""Pinhole camera with OpenCV's Brown-Conrady distortion: project, undistort.

Model (the one of ``cv2.projectPoints``): a board point ``X`` goes to the
camera frame ``Xc = R X + t`` (``R`` from the Rodrigues vector ``rvec``), to
normalised coordinates ``x = Xc / Zc, y = Yc / Zc``, is distorted with
``r2 = x^2 + y^2``::

    xd = x (1 + k1 r2 + k2 r2^2 + k3 r2^3) + 2 p1 x y + p2 (r2 + 2 x^2)
    yd = y (1 + k1 r2 + k2 r2^2 + k3 r2^3) + p1 (r2 + 2 y^2) + 2 p2 x y

and mapped to pixels by ``u = fx xd + s yd + cx, v = fy yd + cy`` (the skew
``s = K[0, 1]`` is zero unless estimated, as in Zhang's paper). The
polynomial is evaluated in one place, the kernels' ``_distortion.pxd``.
"""
from __future__ import annotations

import numpy as np

from .. import _validate
from .._ext import _calib
from . import _geometry

__all__ = [
    "rodrigues",
    "project_points",
    "distort_normalized",
    "undistort_points",
    "undistort_image",
]


def rodrigues(rvec):
    """Rotation matrix of a rotation vector (axis times angle in radians).

    Parameters
    ----------
    rvec : (3,) array_like
        Rotation vector, as ``cv2.Rodrigues`` takes it.

    Returns
    -------
    (3, 3) ndarray
        The rotation matrix.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(rodrigues([0, 0, np.pi / 2]), 6).tolist()
    [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    return _geometry.rotation(_vector3(rvec, "rvec"))


def _vector3(value, name):
    return _validate.vector(np.ravel(_validate.array(value, name)), name, 3)


def rotation_to_rvec(R):
    """Rotation vector of a rotation matrix (inverse of :func:`rodrigues`).

    Parameters
    ----------
    R : (3, 3) array_like
        A rotation matrix (orthonormal, determinant 1).

    Returns
    -------
    (3,) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> np.round(rotation_to_rvec(rodrigues([0.1, -0.2, 0.3])), 12).tolist()
    [0.1, -0.2, 0.3]
    """
    M = _validate.array(R, "R", ndim=2)
    if M.shape != (3, 3):
        raise ValueError(f"R must be a 3x3 matrix, got shape {M.shape}")
    M = np.asarray(M, dtype=np.float64)
    if not np.all(np.isfinite(M)):
        raise ValueError("R must contain only finite values")
    if not np.allclose(M @ M.T, np.eye(3), atol=1e-6) or np.linalg.det(M) < 0:
        raise ValueError("R must be a rotation matrix (orthonormal with determinant 1)")
    return _geometry.rotation_to_rvec(M)


def project_points(object_points, rvec, tvec, camera_matrix, dist_coeffs=None):
    """Project 3-D points of one view into the image (``cv2.projectPoints``).

    Parameters
    ----------
    object_points : (N, 3) array_like
        Points in the board (world) frame; ``(N, 2)`` means ``Z = 0``.
    rvec, tvec : (3,) array_like
        Pose: rotation vector and translation (board to camera).
    camera_matrix : (3, 3) array_like
        ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]``.
    dist_coeffs : array_like of 4 or 5, optional
        ``(k1, k2, p1, p2[, k3])``; None means no distortion.

    Returns
    -------
    (N, 2) ndarray
        Pixel coordinates.

    Examples
    --------
    >>> K = [[100, 0, 50], [0, 100, 40], [0, 0, 1]]
    >>> project_points([[0, 0, 0], [1, 0, 0]], [0, 0, 0], [0, 0, 10], K).tolist()
    [[50.0, 40.0], [60.0, 40.0]]
    """
    obj = _validate.points(object_points, "object_points", dims=3, min_count=0, allow_2d_for_3d=True)
    r, t = _vector3(rvec, "rvec"), _vector3(tvec, "tvec")
    K = _validate.camera_matrix(camera_matrix)
    d = _validate.dist_coeffs(dist_coeffs)
    return _geometry.project(obj, r, t, _geometry.intrinsics_vector(K, d))


def distort_normalized(xy, dist_coeffs):
    """Apply the distortion model to normalised coordinates.

    Parameters
    ----------
    xy : (N, 2) array_like
        Normalised (undistorted) coordinates ``(X / Z, Y / Z)``.
    dist_coeffs : array_like of 4 or 5
        ``(k1, k2, p1, p2[, k3])``; None means no distortion.

    Returns
    -------
    (N, 2) ndarray

    Examples
    --------
    >>> distort_normalized([[0.1, 0.0]], [-0.2, 0, 0, 0, 0]).round(6).tolist()
    [[0.0998, 0.0]]
    """
    p = _validate.points(xy, "xy", min_count=0)
    return _geometry.distort(p, _validate.dist_coeffs(dist_coeffs))


def undistort_points(points, camera_matrix, dist_coeffs, *, new_camera_matrix=None):
    """Remove lens distortion from pixel coordinates (``cv2.undistortPoints``).

    The distortion is inverted with Newton's method to machine precision
    (OpenCV's default stops after 5 fixed-point iterations). A point that no
    undistorted point maps to (beyond the radius where strong barrel
    distortion folds back) comes out as NaN rather than as a wrong guess.

    Parameters
    ----------
    points : (N, 2) array_like
        Distorted pixel coordinates.
    camera_matrix : (3, 3) array_like
    dist_coeffs : array_like of 4 or 5
    new_camera_matrix : (3, 3) array_like, optional
        Camera matrix of the output. None (the default, as OpenCV's ``P=None``)
        returns normalised coordinates; pass ``camera_matrix`` to get pixels.

    Returns
    -------
    (N, 2) ndarray

    Examples
    --------
    >>> K = [[100, 0, 50], [0, 100, 40], [0, 0, 1]]
    >>> undistort_points([[60, 40]], K, [0, 0, 0, 0]).tolist()
    [[0.1, 0.0]]
    >>> undistort_points([[150, 40]], K, [-0.5, 0, 0, 0]).tolist()   # beyond the fold at radius 0.544
    [[nan, nan]]
    """
    pts = _validate.points(points, "points", min_count=0)
    K = _validate.camera_matrix(camera_matrix)
    d = _validate.dist_coeffs(dist_coeffs)
    P = None if new_camera_matrix is None else _validate.camera_matrix(new_camera_matrix, "new_camera_matrix")
    yd = (pts[:, 1] - K[1, 2]) / K[1, 1]
    xd = (pts[:, 0] - K[0, 2] - K[0, 1] * yd) / K[0, 0]
    xy = _geometry.undistort(np.ascontiguousarray(np.stack([xd, yd], axis=1)), d)
    if P is None:
        return xy
    x, y = xy[:, 0], xy[:, 1]
    return np.stack([P[0, 0] * x + P[0, 1] * y + P[0, 2], P[1, 1] * y + P[1, 2]], axis=1)


def undistort_maps(image_size, camera_matrix, dist_coeffs, new_camera_matrix=None):
    """Source coordinates ``(map_x, map_y)`` (float32) of every output pixel.

    Equivalent to ``cv2.initUndistortRectifyMap`` with no rectification.

    Examples
    --------
    >>> mx, my = undistort_maps((4, 3), [[100, 0, 1.5], [0, 100, 1], [0, 0, 1]], None)
    >>> mx[0].tolist(), my[:, 0].tolist()
    ([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    """
    w, h = _validate.image_size(image_size)
    if w * h > 1 << 28:
        raise ValueError(f"image_size {w}x{h} is too large")
    K = _validate.camera_matrix(camera_matrix)
    d = _validate.dist_coeffs(dist_coeffs)
    P = K if new_camera_matrix is None else _validate.camera_matrix(new_camera_matrix, "new_camera_matrix")
    return _maps(w, h, K, d, P)


def _row_blocks(h, w):
    """Row slices of about a million pixels: one kernel call each, so Ctrl-C stays prompt."""
    step = max(1, (1 << 20) // w)
    return [slice(r, r + step) for r in range(0, h, step)]


def _maps(w, h, K, d, P):
    map_x = np.empty((h, w), np.float32)
    map_y = np.empty((h, w), np.float32)
    for rows in _row_blocks(h, w):
        _calib.undistort_maps(K, d, P, rows.start, map_x[rows], map_y[rows])
    return map_x, map_y


def undistort_image(image, camera_matrix, dist_coeffs, new_camera_matrix=None):
    """Resample an image as the distortion-free camera would see it (``cv2.undistort``).

    Parameters
    ----------
    image : (H, W) or (H, W, C) array_like
    camera_matrix : (3, 3) array_like
    dist_coeffs : array_like of 4 or 5
    new_camera_matrix : (3, 3) array_like, optional
        Camera matrix of the output image (default: ``camera_matrix``).

    Returns
    -------
    ndarray
        Same shape and dtype as ``image``; bilinear interpolation, pixels that
        map outside the input are 0.

    Examples
    --------
    >>> import numpy as np
    >>> K = [[100, 0, 15.5], [0, 100, 11.5], [0, 0, 1]]
    >>> img = np.arange(24 * 32, dtype=np.uint8).reshape(24, 32)
    >>> bool((undistort_image(img, K, None) == img).all())
    True
    """
    img = _validate.image(image, "image")
    h, w = img.shape[:2]
    map_x, map_y = undistort_maps((w, h), camera_matrix, dist_coeffs, new_camera_matrix)
    src = img if img.ndim == 3 else img[:, :, None]
    work = np.float64 if img.dtype == np.float64 else np.float32
    src = np.ascontiguousarray(src, dtype=work)
    out = np.empty((h, w, src.shape[2]), work)
    for rows in _row_blocks(h, w):
        _calib.remap_bilinear(src, map_x[rows], map_y[rows], 0.0, out[rows])
    if img.dtype.kind in "ui":
        info = np.iinfo(img.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    out = out.astype(img.dtype, copy=False)
    return out if img.ndim == 3 else out[:, :, 0]
