"""Zhang's closed-form initialisation (Zhang 1998/2000, sections 3.1-3.3).

From one homography per view, the image of the absolute conic
``B = K^-T K^-1`` satisfies two linear constraints per view (``V b = 0``);
the intrinsics follow from ``B`` (Zhang's appendix B), the poses from
``K^-1 H`` with the rotation made orthonormal (nearest rotation by SVD), and an
initial radial distortion from a linear least-squares fit.
"""
from __future__ import annotations

import numpy as np

from ._geometry import rotation, rotation_to_rvec

__all__ = ["intrinsics_from_homographies", "pose_from_homography", "poses_from_homographies",
           "initial_radial_distortion"]


def _vij(H, i, j):
    hi, hj = H[:, i], H[:, j]
    return np.array([
        hi[0] * hj[0],
        hi[0] * hj[1] + hi[1] * hj[0],
        hi[1] * hj[1],
        hi[2] * hj[0] + hi[0] * hj[2],
        hi[2] * hj[1] + hi[1] * hj[2],
        hi[2] * hj[2],
    ])


_NO_CAMERA = ("the views give no valid camera: the boards are probably all nearly parallel (degenerate), "
              "or the points do not match the board; tilt the board by 20-45 degrees in different directions")


class DegenerateViewsError(ValueError):
    """The views do not determine the intrinsics (e.g. all boards nearly parallel)."""


def intrinsics_from_homographies(homographies, image_size, *, estimate_skew=False,
                                 principal_point=None, aspect_ratio=None):
    """Camera matrix from plane homographies by Zhang's closed form.

    Parameters
    ----------
    homographies : sequence of (3, 3) arrays
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
    DegenerateViewsError
        When the constraints leave the conic undetermined (too few or nearly
        parallel views) or give no valid camera.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[800.0, 0, 320], [0, 780, 240], [0, 0, 1]])
    >>> from cvcore.calibration import rodrigues
    >>> Hs = [K @ np.column_stack([rodrigues(r)[:, :2], t]) for r, t in
    ...       [([0.3, 0.1, 0], [0, 0, 10]), ([-0.2, 0.4, 0.1], [1, 0, 12]), ([0.1, -0.3, 0.2], [0, 1, 9])]]
    >>> np.round(intrinsics_from_homographies(Hs, (640, 480)), 6).tolist()
    [[800.0, 0.0, 320.0], [0.0, 780.0, 240.0], [0.0, 0.0, 1.0]]
    """
    w, h = image_size
    s = float(max(w, h))
    if principal_point is None:
        c = ((w - 1) / 2.0, (h - 1) / 2.0)
    else:
        c = tuple(principal_point)
    N = np.array([[1 / s, 0, -c[0] / s], [0, 1 / s, -c[1] / s], [0, 0, 1]])
    rows = []
    for H in homographies:
        Hn = N @ H
        Hn = Hn / np.linalg.norm(Hn)
        rows.append(_vij(Hn, 0, 1))
        rows.append(_vij(Hn, 0, 0) - _vij(Hn, 1, 1))
    V = np.array(rows)
    # b = P c : the free parametrisation of (B11, B12, B22, B13, B23, B33)
    cols = []
    e = np.eye(6)
    if aspect_ratio is not None and not estimate_skew:
        cols.append(e[0] + aspect_ratio ** 2 * e[2])  # B22 = a^2 B11 when fx = a fy
    else:
        cols.append(e[0])
        cols.append(e[2])
    if estimate_skew:
        cols.append(e[1])
    if principal_point is None:
        cols.append(e[3])
        cols.append(e[4])
    cols.append(e[5])
    P = np.array(cols).T
    A = V @ P
    if A.shape[0] < P.shape[1] - 1:
        raise DegenerateViewsError(
            f"too few views to determine the intrinsics: {len(homographies)} view(s) give "
            f"{A.shape[0]} constraints for {P.shape[1] - 1} unknowns"
        )
    _, sv, vt = np.linalg.svd(A, full_matrices=True)
    # the null space must be one-dimensional: the second-smallest singular value
    # (of the full 6-column-or-fewer system) must stay clear of zero
    second = sv[P.shape[1] - 2] / sv[0] if sv.size >= P.shape[1] - 1 else 0.0
    if second < 1e-6:
        raise DegenerateViewsError(
            "the views do not determine the camera (nearly parallel boards or too few views); "
            "tilt the board differently between views"
        )
    b = P @ vt[-1]
    if b[0] < 0:
        b = -b
    B11, B12, B22, B13, B23, B33 = b
    den = B11 * B22 - B12 * B12
    if B11 <= 0 or den <= 0:
        raise DegenerateViewsError(_NO_CAMERA + " (the conic is not positive definite)")
    v0 = (B12 * B13 - B11 * B23) / den
    lam = B33 - (B13 * B13 + v0 * (B12 * B13 - B11 * B23)) / B11
    if lam / B11 <= 0:
        raise DegenerateViewsError(_NO_CAMERA + " (negative focal length squared)")
    alpha = np.sqrt(lam / B11)
    beta = np.sqrt(lam * B11 / den)
    gamma = -B12 * alpha * alpha * beta / lam
    u0 = gamma * v0 / beta - B13 * alpha * alpha / lam
    Kn = np.array([[alpha, gamma, u0], [0, beta, v0], [0, 0, 1.0]])
    K = np.linalg.solve(N, Kn)
    K = K / K[2, 2]
    K[1, 0] = K[2, 0] = K[2, 1] = 0.0
    if not estimate_skew:
        K[0, 1] = 0.0
    if principal_point is not None:
        K[0, 2], K[1, 2] = c
    return K


def pose_from_homography(H, K):
    """Rotation vector and translation of a plane (Z = 0) seen through ``H``.

    ``[r1 r2 t] = lambda K^-1 H``; ``r3 = r1 x r2``; the matrix is replaced by
    the nearest rotation (SVD) and the sign chosen so the plane is in front.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.diag([500.0, 500.0, 1.0])
    >>> r, t = pose_from_homography(K @ np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 5]]), K)
    >>> np.round(r, 9).tolist(), np.round(t, 9).tolist()
    ([0.0, 0.0, 0.0], [0.0, 0.0, 5.0])
    """
    M = np.linalg.solve(K, H)
    lam = 1.0 / np.linalg.norm(M[:, 0])
    lam2 = 1.0 / np.linalg.norm(M[:, 1])
    lam = (lam + lam2) / 2.0
    if M[2, 2] * lam < 0:
        lam = -lam
    r1, r2, t = M[:, 0] * lam, M[:, 1] * lam, M[:, 2] * lam
    R = np.stack([r1, r2, np.cross(r1, r2)], axis=1)
    u, _, vt = np.linalg.svd(R)
    R = u @ vt
    if np.linalg.det(R) < 0:
        R = u @ np.diag([1, 1, -1]) @ vt
    return rotation_to_rvec(R), t


def initial_radial_distortion(obj_views, img_views, K, rvecs, tvecs, n_coeffs=2):
    """Linear least-squares radial distortion ``(k1, k2[, k3])`` (Zhang 3.3).

    Given the ideal (undistorted) projections of the current camera and poses,
    solves ``[(u - u0) r^2, (u - u0) r^4; (v - v0) r^2, (v - v0) r^4] k = observed - ideal``.

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
    rows, rhs = [], []
    for obj, img, r, t in zip(obj_views, img_views, rvecs, tvecs):
        Xc = obj @ rotation(r).T + t
        x = Xc[:, 0] / Xc[:, 2]
        y = Xc[:, 1] / Xc[:, 2]
        r2 = x * x + y * y
        u = K[0, 0] * x + K[0, 1] * y + K[0, 2]
        v = K[1, 1] * y + K[1, 2]
        du, dv = u - K[0, 2], v - K[1, 2]
        powers = np.stack([r2 ** (k + 1) for k in range(n_coeffs)], axis=1)
        rows.append(du[:, None] * powers)
        rows.append(dv[:, None] * powers)
        rhs.append(img[:, 0] - u)
        rhs.append(img[:, 1] - v)
    A = np.concatenate(rows)
    b = np.concatenate(rhs)
    k, *_ = np.linalg.lstsq(A, b, rcond=None)
    return k


def poses_from_homographies(Hs, K):
    """Batched :func:`pose_from_homography`: ``(rvecs (V, 3), tvecs (V, 3))``.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.diag([500.0, 500.0, 1.0])
    >>> H = K @ np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 5]])
    >>> rv, tv = poses_from_homographies([H, H], K)
    >>> rv.shape, np.round(tv[1], 9).tolist()
    ((2, 3), [0.0, 0.0, 5.0])
    """
    M = np.linalg.solve(K, np.asarray(Hs))                               # (V, 3, 3)
    lam = 0.5 * (1.0 / np.linalg.norm(M[:, :, 0], axis=1) + 1.0 / np.linalg.norm(M[:, :, 1], axis=1))
    lam = np.where(M[:, 2, 2] * lam < 0, -lam, lam)
    r1 = M[:, :, 0] * lam[:, None]
    r2 = M[:, :, 1] * lam[:, None]
    t = M[:, :, 2] * lam[:, None]
    R = np.stack([r1, r2, np.cross(r1, r2)], axis=2)
    u, _, vt = np.linalg.svd(R)
    Rn = u @ vt
    neg = np.linalg.det(Rn) < 0
    if np.any(neg):
        u[neg, :, 2] *= -1
        Rn = u @ vt
    return np.array([rotation_to_rvec(r) for r in Rn]), t
