"""``calibrate_camera``: Zhang's closed form followed by Levenberg-Marquardt."""
from __future__ import annotations

import numpy as np

from .. import _validate
from . import _geometry, _solver
from ._assemble import assemble
from .model import CameraCalibration, now_utc, this_version

__all__ = ["calibrate_camera", "chessboard_points"]


def chessboard_points(pattern_size, square_size=1.0):
    """Board coordinates of the inner corners, in OpenCV's order (``Z = 0``).

    Parameters
    ----------
    pattern_size : (cols, rows)
        Inner corners per row and per column (``"9x6"`` also accepted).
    square_size : float
        Side of a square in the unit you want the poses in (e.g. mm).

    Returns
    -------
    (cols * rows, 3) ndarray
        Row by row: ``(i * square_size, j * square_size, 0)`` with ``i``
        running fastest.

    Examples
    --------
    >>> chessboard_points((3, 2), 30.0)[:4].tolist()
    [[0.0, 0.0, 0.0], [30.0, 0.0, 0.0], [60.0, 0.0, 0.0], [0.0, 30.0, 0.0]]
    """
    cols, rows = _validate.pattern_size(pattern_size)
    s = _validate.positive(square_size, "square_size")
    return _geometry.board_points(cols, rows, s)


def _planar(obj, k):
    """Board points must lie on Z = 0 (as Zhang's method and OpenCV require without a guess)."""
    scale = max(np.abs(obj[:, :2]).max(), 1e-300)
    if np.abs(obj[:, 2]).max() > 1e-9 * scale:
        raise ValueError(f"object_points[{k}] must be planar with Z = 0 (a flat calibration board)")


def calibrate_camera(object_points, image_points, image_size, *, model="pinhole", fix_principal_point=False,
                     fix_aspect_ratio=False, zero_tangent_dist=False, fix_k3=False, estimate_skew=False,
                     intrinsic_guess=None, max_iterations=200, robust=False):
    """Calibrate a camera from views of a planar target (Zhang's method + LM).

    1. One homography per view (normalised DLT; LM refines everything later).
    2. Zhang's closed form: the linear system ``V b = 0`` on the image of the
       absolute conic gives the camera matrix; each view's pose follows from
       ``K^-1 H`` with the rotation made orthonormal.
    3. A linear least-squares initial radial distortion.
    4. Levenberg-Marquardt over all intrinsics and poses with an analytic
       Jacobian, solved through the Schur complement of the per-view blocks.

    A fisheye lens bends straight lines too much for steps 1-3: there the
    focal length is chosen (image centre, ``k = 0``) as the one whose
    undistorted views best fit plane homographies, and the poses follow from
    them; step 4 is the same.

    Conventions follow ``cv2.calibrateCamera`` (same distortion model, same
    parameters, same RMS definition), so with the default options the result
    equals OpenCV's on the same points: ``model="rational"`` equals
    ``cv2.calibrateCamera(..., flags=cv2.CALIB_RATIONAL_MODEL)`` and
    ``model="fisheye"`` equals ``cv2.fisheye.calibrate(..., flags=
    cv2.fisheye.CALIB_FIX_SKEW | cv2.fisheye.CALIB_RECOMPUTE_EXTRINSIC)`` run
    to convergence (without ``CALIB_RECOMPUTE_EXTRINSIC`` OpenCV keeps the
    poses of its starting camera and stops short of the minimum).

    Parameters
    ----------
    object_points : list of (N_i, 3) array_like
        Board coordinates per view, ``Z = 0`` (``(N_i, 2)`` is accepted).
    image_points : list of (N_i, 2) array_like
        Observed pixel coordinates per view (``(N_i, 1, 2)`` accepted).
    image_size : (width, height)
    model : {"pinhole", "rational", "fisheye"}
        The lens model (see :mod:`cvcore.calibration.camera`): ``"pinhole"``
        with OpenCV's 5 coefficients ``(k1, k2, p1, p2, k3)``, ``"rational"``
        with 8 (``k4, k5, k6`` in the denominator, OpenCV's
        ``CALIB_RATIONAL_MODEL``), ``"fisheye"`` with the 4 Kannala-Brandt
        coefficients of ``cv2.fisheye`` (no tangential terms: not with
        ``zero_tangent_dist`` or ``fix_k3``).
    fix_principal_point : bool
        Keep ``(cx, cy)`` at the image centre ``((w - 1) / 2, (h - 1) / 2)``,
        or at the guess's.
    fix_aspect_ratio : bool
        Keep ``fx / fy`` fixed (1, or the guess's ratio).
    zero_tangent_dist : bool
        Fix ``p1 = p2 = 0``.
    fix_k3 : bool
        Fix ``k3`` (to 0, or to the guess's).
    estimate_skew : bool
        Also estimate the skew ``K[0, 1]`` (Zhang's ``gamma``; OpenCV cannot).
    intrinsic_guess : (3, 3) array_like or (camera_matrix, dist_coeffs), optional
        Start from this camera instead of the closed form (``dist_coeffs`` of
        ``model``).
    max_iterations : int
        Cap on LM iterations.
    robust : bool
        Reject outlier points by iterated k-sigma clipping (as mrcal does):
        calibrate, estimate the noise ``sigma`` robustly from the median
        residual, drop the points farther than 4 sigma (and 0.1 px), recalibrate, until the
        set of outliers stops changing. ``rms`` and ``per_view_rms`` are then
        those of the inliers, and ``outliers`` lists the points left out. A
        view with more outliers than inliers, or whose inliers still fit 4
        times worse than the others', is an error naming it (remove it).

    Returns
    -------
    CameraCalibration
        With the cvcore version and the date (UTC) of the calibration, and
        ``outliers`` (``(view, point)`` pairs) when ``robust``.

    Raises
    ------
    ValueError
        Mismatched or non-planar points, fewer views than the options need, or
        views that do not determine the camera (e.g. all nearly parallel).

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.calibration import project_points
    >>> K = np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]])
    >>> board = chessboard_points((6, 5), 1.0)
    >>> poses = [([0.3, 0.1, 0.0], [-3, -2, 12]), ([-0.2, 0.4, 0.1], [-2, -3, 14]),
    ...          ([0.1, -0.35, -0.1], [-2, -2, 11])]
    >>> views = [project_points(board, r, t, K) for r, t in poses]
    >>> cal = calibrate_camera([board] * 3, views, (640, 480))
    >>> np.round(cal.camera_matrix, 3).tolist()
    [[800.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.0, 1.0]]

    One corner knocked 8 px off its place (and a little noise on the rest):

    >>> rng = np.random.default_rng(0)
    >>> noisy = [v + rng.normal(0, 0.05, v.shape) for v in views]
    >>> noisy[1][7] += 8.0
    >>> robust = calibrate_camera([board] * 3, noisy, (640, 480), robust=True)
    >>> robust.outliers.tolist(), bool(abs(robust.fx - 800) < 1)
    ([[1, 7]], True)
    """
    objs, imgs = _validate.point_views(object_points, image_points)
    size = _validate.image_size(image_size)
    for k, o in enumerate(objs):
        _planar(o, k)
    opts = _solver.options(model=model, fix_principal_point=fix_principal_point, fix_aspect_ratio=fix_aspect_ratio,
                           zero_tangent_dist=zero_tangent_dist, fix_k3=fix_k3, estimate_skew=estimate_skew,
                           intrinsic_guess=intrinsic_guess, max_iterations=max_iterations, robust=robust)
    values = _solver.solve(objs, imgs, size, opts)
    return assemble(CameraCalibration, {**values, "cvcore_version": this_version(), "date": now_utc()})
