"""``calibrate_camera``: Zhang's closed form followed by Levenberg-Marquardt."""
from __future__ import annotations

import numpy as np

from .. import _validate
from . import _geometry, lm
from .homography import homographies
from .model import CameraCalibration
from .zhang import (DegenerateViewsError, initial_radial_distortion, intrinsics_from_homographies,
                    poses_from_homographies)

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


def calibrate_camera(object_points, image_points, image_size, *, fix_principal_point=False,
                     fix_aspect_ratio=False, zero_tangent_dist=False, fix_k3=False, estimate_skew=False,
                     intrinsic_guess=None, max_iterations=200):
    """Calibrate a camera from views of a planar target (Zhang's method + LM).

    1. One homography per view (normalised DLT; LM refines everything later).
    2. Zhang's closed form: the linear system ``V b = 0`` on the image of the
       absolute conic gives the camera matrix; each view's pose follows from
       ``K^-1 H`` with the rotation made orthonormal.
    3. A linear least-squares initial radial distortion.
    4. Levenberg-Marquardt over all intrinsics and poses with an analytic
       Jacobian, solved through the Schur complement of the per-view blocks.

    Conventions follow ``cv2.calibrateCamera`` (same distortion model, same
    parameters, same RMS definition), so with the default options the result
    equals OpenCV's on the same points.

    Parameters
    ----------
    object_points : list of (N_i, 3) array_like
        Board coordinates per view, ``Z = 0`` (``(N_i, 2)`` is accepted).
    image_points : list of (N_i, 2) array_like
        Observed pixel coordinates per view (``(N_i, 1, 2)`` accepted).
    image_size : (width, height)
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
        Start from this camera instead of the closed form.
    max_iterations : int
        Cap on LM iterations.

    Returns
    -------
    CameraCalibration

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
    """
    objs, imgs = _validate.point_views(object_points, image_points)
    for name, views in (("object_points", objs), ("image_points", imgs)):
        big = max(float(np.abs(v).max()) for v in views)
        if big > 1e8:
            raise ValueError(f"{name} must be within +/-1e8 (got a coordinate of {big:.3g})")
    w, h = _validate.image_size(image_size)
    max_iterations = _validate.integer(max_iterations, "max_iterations", low=0, high=100000)
    for k, o in enumerate(objs):
        _planar(o, k)
    n_views = len(objs)
    total = sum(len(o) for o in objs)

    guess_K, guess_d = None, np.zeros(5)
    if intrinsic_guess is not None:
        if isinstance(intrinsic_guess, (tuple, list)) and len(intrinsic_guess) == 2:
            guess_K = _validate.camera_matrix(intrinsic_guess[0], "intrinsic_guess[0]")
            guess_d = _validate.dist_coeffs(intrinsic_guess[1], "intrinsic_guess[1]")
        else:
            guess_K = _validate.camera_matrix(intrinsic_guess, "intrinsic_guess")
        if not estimate_skew and guess_K[0, 1] != 0:
            raise ValueError("intrinsic_guess has a non-zero skew but estimate_skew is False")

    aspect = None
    if fix_aspect_ratio:
        aspect = 1.0 if guess_K is None else guess_K[0, 0] / guess_K[1, 1]
        if estimate_skew:
            raise ValueError("fix_aspect_ratio and estimate_skew cannot be combined")

    # free parameters: fx, fy, cx, cy, skew, k1, k2, p1, p2, k3
    free = np.ones(10, bool)
    free[4] = estimate_skew
    if fix_principal_point:
        free[2] = free[3] = False
    if zero_tangent_dist:
        free[7] = free[8] = False
    if fix_k3:
        free[9] = False
    n_free = int(free.sum()) - (1 if aspect is not None else 0) + 6 * n_views
    if n_free >= 2 * total:
        raise ValueError(
            f"too few points: {total} points give {2 * total} equations for {n_free} unknowns; "
            "use more views or more points per view"
        )

    with np.errstate(all="ignore"):
        try:
            return _calibrate(objs, imgs, w, h, n_views, total, free, n_free, aspect, guess_K, guess_d,
                              fix_principal_point, fix_aspect_ratio, zero_tangent_dist, fix_k3, estimate_skew,
                              max_iterations)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"the calibration is numerically degenerate ({exc}); check that the points are "
                             "correct and the views are tilted differently") from None


def _calibrate(objs, imgs, w, h, n_views, total, free, n_free, aspect, guess_K, guess_d, fix_principal_point,
               fix_aspect_ratio, zero_tangent_dist, fix_k3, estimate_skew, max_iterations):
    # 1-2. homographies and the closed form
    Hs = homographies([o[:, :2] for o in objs], imgs)
    if guess_K is None:
        pp = ((w - 1) / 2.0, (h - 1) / 2.0) if fix_principal_point else None
        if n_views < 3 and not fix_principal_point and estimate_skew:
            raise ValueError(f"need at least 3 views to estimate the skew and principal point, got {n_views}")
        try:
            K = intrinsics_from_homographies(Hs, (w, h), estimate_skew=estimate_skew, principal_point=pp,
                                             aspect_ratio=aspect)
        except DegenerateViewsError as exc:
            raise ValueError(str(exc)) from None
        if aspect is not None:
            K[0, 0] = aspect * K[1, 1]
        dist = np.zeros(5)
    else:
        K = guess_K.copy()
        dist = guess_d.copy()
    rv, tv = poses_from_homographies(Hs, K)
    poses = np.ascontiguousarray(np.concatenate([rv, tv], axis=1))

    # 3. linear radial distortion (only the free radial terms)
    if guess_K is None:
        try:
            k = initial_radial_distortion(objs, imgs, K, poses[:, :3], poses[:, 3:], n_coeffs=2)
        except np.linalg.LinAlgError:
            k = np.zeros(2)
        if np.all(np.isfinite(k)) and np.all(np.abs(k) < 10):
            dist[0], dist[1] = k

    # 4. Levenberg-Marquardt
    problem = lm.Problem(objs, imgs)
    q0 = np.array([K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], *dist])
    q, poses, info = lm.levenberg_marquardt(problem, q0, poses, free, aspect, max_iterations=max_iterations)
    cost = problem.evaluate(q, poses, True)
    if not np.isfinite(cost):
        raise ValueError("the calibration diverged (check that image_points match object_points)")
    std_q, std_p = lm.covariance(problem, info["T"], n_free)
    K = np.array([[q[0], q[4], q[2]], [0, q[1], q[3]], [0, 0, 1.0]])
    counts = np.diff(problem.starts)
    flags = {"fix_principal_point": bool(fix_principal_point), "fix_aspect_ratio": bool(fix_aspect_ratio),
             "zero_tangent_dist": bool(zero_tangent_dist), "fix_k3": bool(fix_k3),
             "estimate_skew": bool(estimate_skew), "intrinsic_guess": guess_K is not None}
    return CameraCalibration(
        K, q[5:], poses[:, :3], poses[:, 3:], np.sqrt(cost / total), np.sqrt(problem.view_sq / counts),
        std_q, std_p, (w, h), flags=flags, iterations=info["iterations"],
    )
