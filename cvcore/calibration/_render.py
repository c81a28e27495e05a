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
