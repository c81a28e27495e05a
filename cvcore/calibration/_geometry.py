"""Trusted camera geometry shared inside cvcore (no argument checks here).

The public functions of :mod:`cvcore.calibration.camera` and
:mod:`cvcore.calibration.calibrate` validate their arguments and call these;
the calibration pipeline, Zhang's initialisation and :mod:`cvcore.datasets`
call them with values they have already checked or computed. The distortion
polynomial itself is written once, in the kernels' ``_distortion.pxd``.
"""
from __future__ import annotations

import numpy as np

from .._ext import _calib

#: Newton steps allowed when inverting the distortion (it stops at machine precision far sooner).
UNDISTORT_ITERATIONS = 50

#: The lens models, with the kernels' code for each (see ``_ext/_distortion.pxd``).
MODELS = {"pinhole": 0, "rational": 1, "fisheye": 2}
#: Names of each model's distortion coefficients, in OpenCV's order.
COEFFS = {"pinhole": ("k1", "k2", "p1", "p2", "k3"),
          "rational": ("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6"),
          "fisheye": ("k1", "k2", "k3", "k4")}


def intrinsic_names(model="pinhole"):
    """Names of the entries of the intrinsics vector of ``model``."""
    return ("fx", "fy", "cx", "cy", "skew", *COEFFS[model])


def intrinsics_vector(K, dist):
    """The kernels' intrinsics vector (fx, fy, cx, cy, skew, then the model's coefficients)."""
    return np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], *dist], dtype=np.float64)


def board_points(cols, rows, square):
    """``(cols * rows, 3)`` inner corners of a chessboard, row by row, ``Z = 0``."""
    j, i = np.mgrid[0:rows, 0:cols]
    return np.stack([i.ravel() * square, j.ravel() * square, np.zeros(cols * rows)], axis=1).astype(np.float64)


def rotation(rvec):
    """Rotation matrix of a float64 3-vector."""
    R = np.empty((3, 3))
    _calib.rodrigues(np.ascontiguousarray(rvec, dtype=np.float64), R, np.empty((3, 3, 3)))
    return R


def rotation_to_rvec(R):
    """Rotation vector of a 3 x 3 rotation matrix (inverse of :func:`rotation`)."""
    cos_t = np.clip((np.trace(R) - 1.0) / 2.0, -1.0, 1.0)
    theta = np.arccos(cos_t)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    if theta < 1e-12:
        return w / 2.0
    if np.pi - theta < 1e-6:
        # near pi: axis from the symmetric part
        B = (R + np.eye(3)) / 2.0
        axis = np.sqrt(np.clip(np.diag(B), 0.0, None))
        k = int(np.argmax(axis))
        axis = B[:, k] / np.sqrt(max(B[k, k], 1e-300))
        if axis @ w < 0:
            axis = -axis
        return axis / np.linalg.norm(axis) * theta
    return w * (theta / (2.0 * np.sin(theta)))


def project(obj, rvec, tvec, q, model="pinhole"):
    """Pixels ``(N, 2)`` of points ``(N, 3)`` for one pose and the intrinsics vector ``q`` of ``model``.

    The one projection of every camera model (calibration, stereo, rendering).
    """
    out = np.empty((obj.shape[0], 2))
    _calib.project(MODELS[model], np.ascontiguousarray(obj, dtype=np.float64), np.ascontiguousarray(q, np.float64),
                   np.concatenate([rvec, tvec]).astype(np.float64), out)
    return out


def distort(xy, dist, model="pinhole"):
    """Distorted normalised coordinates of ``(N, 2)`` points."""
    out = np.empty_like(xy)
    _calib.distort_points(MODELS[model], xy, np.ascontiguousarray(dist, np.float64), out)
    return out


def undistort(xy, dist, model="pinhole"):
    """Normalised coordinates whose distortion is ``xy`` (Newton's method, per point; NaN where none)."""
    out = np.empty_like(xy)
    _calib.undistort_points(MODELS[model], xy, np.ascontiguousarray(dist, np.float64), UNDISTORT_ITERATIONS, out)
    return out


def pixels_to_normalized(pts, K):
    """Distorted normalised coordinates of pixels (``K^-1``, with skew)."""
    yd = (pts[:, 1] - K[1, 2]) / K[1, 1]
    xd = (pts[:, 0] - K[0, 2] - K[0, 1] * yd) / K[0, 0]
    return np.ascontiguousarray(np.stack([xd, yd], axis=1))


def normalized_to_pixels(xy, K):
    """Pixels of normalised coordinates through ``K`` (with skew)."""
    x, y = xy[:, 0], xy[:, 1]
    return np.stack([K[0, 0] * x + K[0, 1] * y + K[0, 2], K[1, 1] * y + K[1, 2]], axis=1)
