"""Zhang's closed-form initialisation (Zhang 1998/2000, sections 3.1-3.3).

From one homography per view, the image of the absolute conic
``B = K^-T K^-1`` satisfies two linear constraints per view (``V b = 0``);
the intrinsics follow from ``B`` (Zhang's appendix B), the poses from
``K^-1 H`` with the rotation made orthonormal (nearest rotation by SVD), and an
initial radial distortion from a linear least-squares fit.

These functions check their arguments; the algorithms live in the private
``cvcore.calibration._zhang``, which :func:`~cvcore.calibration.calibrate_camera`
uses directly.
"""
from __future__ import annotations

import numpy as np

from .. import _validate
from . import _zhang
from ._zhang import DegenerateViewsError

__all__ = ["DegenerateViewsError", "intrinsics_from_homographies", "pose_from_homography",
           "poses_from_homographies", "initial_radial_distortion"]

_MAX_VIEWS = 100_000


def _homography(value, name):
    H = _validate.array(value, name, ndim=2)
    if H.shape != (3, 3):
        raise ValueError(f"{name} must be a 3x3 matrix, got shape {H.shape}")
    H = np.asarray(H, dtype=np.float64)
    if not np.all(np.isfinite(H)):
        raise ValueError(f"{name} must contain only finite values")
    if abs(np.linalg.det(H)) <= 1e-12 * max(np.abs(H).max(), 1e-300) ** 3:
        raise ValueError(f"{name} is singular: not a plane-to-image homography")
    return H


def _homographies(values, name="homographies"):
    if isinstance(values, np.ndarray) and values.ndim == 3:
        values = list(values)
    if isinstance(values, (str, bytes, np.ndarray)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a sequence of 3x3 matrices")
    if not 1 <= len(values) <= _MAX_VIEWS:
        raise ValueError(f"{name} must hold 1 to {_MAX_VIEWS} matrices, got {len(values)}")
    return np.stack([_homography(H, f"{name}[{i}]") for i, H in enumerate(values)])


def _degenerate_as_error(fn, *args, **kw):
    """Run ``fn`` on checked but possibly degenerate input: numerical breakdowns become clear errors."""
    with np.errstate(all="ignore"):
        try:
            out = fn(*args, **kw)
        except np.linalg.LinAlgError as exc:
            raise DegenerateViewsError(f"the homographies do not determine a camera ({exc})") from None
    if not all(np.all(np.isfinite(o)) for o in (out if isinstance(out, tuple) else (out,))):
        raise DegenerateViewsError("the homographies do not determine a camera (no finite solution)")
    return out


def intrinsics_from_homographies(homographies, image_size, *, estimate_skew=False,
                                 principal_point=None, aspect_ratio=None):
    """Camera matrix from plane homographies by Zhang's closed form.

    Parameters
    ----------
    homographies : sequence of (3, 3) array_like
        Board-to-image homographies (board points ``(X, Y, 1)``), one per view.
    image_size : (width, height)
        Used to condition the linear system (pixel coordinates are scaled and
        centred before solving, which does not change the solution).
    estimate_skew : bool
        Solve for the skew ``K[0, 1]``; otherwise it is constrained to 0.
    principal_point : (cx, cy), optional
        Known principal point (then ``B13 = B23 = 0`` after centring on it).
    aspect_ratio : float, optional
        Known ``fx / fy`` (only without skew).

    Returns
    -------
    (3, 3) ndarray

    Raises
    ------
    DegenerateViewsError (a ValueError)
        When the constraints leave the conic undetermined (too few or nearly
        parallel views) or give no valid camera.

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.calibration import rodrigues
    >>> K = np.array([[800.0, 0, 320], [0, 780, 240], [0, 0, 1]])
    >>> Hs = [K @ np.column_stack([rodrigues(r)[:, :2], t]) for r, t in
    ...       [([0.3, 0.1, 0], [0, 0, 10]), ([-0.2, 0.4, 0.1], [1, 0, 12]), ([0.1, -0.3, 0.2], [0, 1, 9])]]
    >>> np.round(intrinsics_from_homographies(Hs, (640, 480)), 6).tolist()
    [[800.0, 0.0, 320.0], [0.0, 780.0, 240.0], [0.0, 0.0, 1.0]]
    """
    Hs = _homographies(homographies)
    size = _validate.image_size(image_size)
    estimate_skew = _validate.boolean(estimate_skew, "estimate_skew")
    if principal_point is not None:
        principal_point = _validate.pair(principal_point, "principal_point",
                                         lambda v, n: _validate.real(v, n, low=-1e8, high=1e8))
    if aspect_ratio is not None:
        aspect_ratio = _validate.real(aspect_ratio, "aspect_ratio", low=1e-6, high=1e6)
        if estimate_skew:
            raise ValueError("aspect_ratio cannot be combined with estimate_skew")
    return _degenerate_as_error(_zhang.intrinsics_from_homographies, list(Hs), size, estimate_skew=estimate_skew,
                                principal_point=principal_point, aspect_ratio=aspect_ratio)


def poses_from_homographies(homographies, camera_matrix):
    """Board poses from homographies: ``[r1 r2 t] = lambda K^-1 H``, rotation made orthonormal.

    ``r3 = r1 x r2``; each matrix is replaced by the nearest rotation (SVD)
    and the sign of ``lambda`` chosen so the board is in front of the camera.

    Parameters
    ----------
    homographies : sequence of (3, 3) array_like
    camera_matrix : (3, 3) array_like

    Returns
    -------
    rvecs, tvecs : (n_views, 3) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> K = np.diag([500.0, 500.0, 1.0])
    >>> H = K @ np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 5]])
    >>> rv, tv = poses_from_homographies([H, H], K)
    >>> rv.shape, np.round(tv[1], 9).tolist()
    ((2, 3), [0.0, 0.0, 5.0])
    """
    Hs = _homographies(homographies)
    K = _validate.camera_matrix(camera_matrix)
    return _degenerate_as_error(_zhang.poses_from_homographies, Hs, K)


def pose_from_homography(homography, camera_matrix):
    """Rotation vector and translation of a plane (``Z = 0``) seen through ``homography``.

    One view of :func:`poses_from_homographies`.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.diag([500.0, 500.0, 1.0])
    >>> r, t = pose_from_homography(K @ np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 5]]), K)
    >>> np.round(r, 9).tolist(), np.round(t, 9).tolist()
    ([0.0, 0.0, 0.0], [0.0, 0.0, 5.0])
    """
    rv, tv = poses_from_homographies([_homography(homography, "homography")], camera_matrix)
    return rv[0], tv[0]


def initial_radial_distortion(object_points, image_points, camera_matrix, rvecs, tvecs, n_coeffs=2):
    """Linear least-squares radial distortion ``(k1, k2[, k3])`` (Zhang 3.3).

    Given the ideal (undistorted) projections of the current camera and poses,
    solves ``[(u - u0) r^2, (u - u0) r^4; (v - v0) r^2, (v - v0) r^4] k = observed - ideal``.

    Parameters
    ----------
    object_points, image_points : lists of (N_i, 3) and (N_i, 2) array_like
    camera_matrix : (3, 3) array_like
    rvecs, tvecs : (n_views, 3) array_like
    n_coeffs : {1, 2, 3}

    Returns
    -------
    (n_coeffs,) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from cvcore.calibration import chessboard_points, project_points
    >>> K = np.array([[800.0, 0, 320], [0, 800, 240], [0, 0, 1]])
    >>> board = chessboard_points((6, 5), 1.0)
    >>> r, t = np.array([0.2, 0.1, 0.0]), np.array([-2.5, -2.0, 8.0])
    >>> seen = project_points(board, r, t, K, [-0.2, 0.05, 0, 0, 0])
    >>> np.round(initial_radial_distortion([board], [seen], K, [r], [t]), 3).tolist()
    [-0.2, 0.05]
    """
    objs, imgs = _validate.point_views(object_points, image_points)
    K = _validate.camera_matrix(camera_matrix)
    poses = []
    for name, value in (("rvecs", rvecs), ("tvecs", tvecs)):
        arr = _validate.points(value, name, dims=3, min_count=len(objs))
        if len(arr) != len(objs):
            raise ValueError(f"{name} must hold one vector per view ({len(objs)}), got {len(arr)}")
        poses.append(arr)
    n_coeffs = _validate.integer(n_coeffs, "n_coeffs", low=1, high=3)
    return _degenerate_as_error(_zhang.initial_radial_distortion, objs, imgs, K, poses[0], poses[1], n_coeffs)
