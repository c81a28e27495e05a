"""Rendering of chessboard views through a distorting camera, for :mod:`cvcore.datasets`.

A private module made for sharing: the dataset generator validates its
arguments and calls these with trusted values; the kernels live in
``_ext/_chessboard.pyx`` and the distortion model in ``_ext/_distortion.pxd``.
"""
from __future__ import annotations

import numpy as np

from .._ext import _chessboard
from . import _geometry

#: Largest number of sub-pixel samples per view (two float64 ray tables of this size are kept).
MAX_SAMPLES = 1 << 25


def sample_rays(q, image_size, supersampling):
    """Undistorted normalised coordinates of every sub-pixel sample (the same for every view).

    ``q`` is the intrinsics vector (fx, fy, cx, cy, skew, k1, k2, p1, p2, k3).
    Returns ``(xn, yn)``, each ``(H * ss, W * ss)``.
    """
    w, h = image_size
    xn = np.empty((h * supersampling, w * supersampling))
    yn = np.empty_like(xn)
    _chessboard.undistort_grid(q, supersampling, xn, yn)
    return xn, yn


def render_board(rays, rvec, tvec, pattern_size, square, background, supersampling, margin=0.6):
    """One anti-aliased view (float32, 0 = dark square, 1 = white paper) of the board at pose (rvec, tvec).

    Dark squares alternate from the first inner square; the board has a white
    border of ``margin`` squares and ``background`` elsewhere.
    """
    xn, yn = rays
    ss = supersampling
    cols, rows = pattern_size
    R = _geometry.rotation(rvec)
    Hinv = np.ascontiguousarray(np.linalg.inv(np.column_stack([R[:, 0], R[:, 1], tvec])))
    h, w = xn.shape[0] // ss, xn.shape[1] // ss
    out = np.empty((h, w), np.float32)
    step = max(1, (1 << 18) // (w * ss * ss))   # rows per kernel call: Ctrl-C stays prompt
    for r in range(0, h, step):
        _chessboard.render_board(xn[r * ss:(r + step) * ss], yn[r * ss:(r + step) * ss], Hinv, cols, rows,
                                 square, margin, background, ss, out[r:r + step])
    return out


def sample_rays_fisheye(K, k, image_size, supersampling):
    """:func:`sample_rays` for the Kannala-Brandt equidistant model of ``cv2.fisheye`` (k1..k4).

    A sample at distorted angle ``theta_d`` looks along ``theta`` with
    ``theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)``
    (solved by Newton's method; the model must be increasing over the frame).
    Samples at or beyond 90 degrees get a ray far outside any board.
    """
    w, h = image_size
    ss = supersampling
    r, c = np.mgrid[0:h * ss, 0:w * ss]
    # the kernel's n-rooks sub-pixel pattern (see _chessboard.undistort_grid)
    u = (c // ss) + ((c % ss) * ss + (r % ss) + 0.5) / (ss * ss) - 0.5
    v = (r // ss) + ((r % ss) * ss + (c % ss) + 0.5) / (ss * ss) - 0.5
    yd = (v - K[1, 2]) / K[1, 1]
    xd = (u - K[0, 2] - K[0, 1] * yd) / K[0, 0]
    theta_d = np.hypot(xd, yd)
    theta = theta_d.copy()
    for _ in range(30):
        t2 = theta * theta
        f = theta * (1 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3])))) - theta_d
        df = 1 + t2 * (3 * k[0] + t2 * (5 * k[1] + t2 * (7 * k[2] + t2 * 9 * k[3])))
        theta -= f / df
    scale = np.where(theta_d > 1e-12, np.tan(np.minimum(theta, np.pi / 2 - 1e-6)) / np.maximum(theta_d, 1e-12), 1.0)
    scale[theta >= np.pi / 2 - 1e-3] = 1e6
    return np.ascontiguousarray(xd * scale), np.ascontiguousarray(yd * scale)


def project_fisheye(obj, rvec, tvec, K, k):
    """Pixels of board points through the Kannala-Brandt model (``cv2.fisheye.projectPoints``)."""
    X = obj @ _geometry.rotation(rvec).T + tvec
    a, b = X[:, 0] / X[:, 2], X[:, 1] / X[:, 2]
    rr = np.hypot(a, b)
    theta = np.arctan(rr)
    t2 = theta * theta
    theta_d = theta * (1 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3]))))
    s = np.where(rr > 1e-12, theta_d / np.maximum(rr, 1e-12), 1.0)
    x, y = a * s, b * s
    return np.stack([K[0, 0] * x + K[0, 1] * y + K[0, 2], K[1, 1] * y + K[1, 2]], axis=1)
