"""Zhang's closed-form initialisation (Zhang 1998/2000, sections 3.1-3.3): the trusted implementation.

:mod:`cvcore.calibration.zhang` checks arguments and documents these
functions; the calibration solver calls them with values it computed.

From one homography per view, the image of the absolute conic
``B = K^-T K^-1`` satisfies two linear constraints per view (``V b = 0``);
the intrinsics follow from ``B`` (Zhang's appendix B), the poses from
``K^-1 H`` with the rotation made orthonormal (nearest rotation by SVD), and an
initial radial distortion from a linear least-squares fit.
"""
from __future__ import annotations

import numpy as np

from ._geometry import rotation, rotation_to_rvec



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
    """Camera matrix from plane homographies by Zhang's closed form (see :mod:`cvcore.calibration.zhang`).

    Raises :class:`DegenerateViewsError` when the views do not determine a camera.
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


def initial_radial_distortion(obj_views, img_views, K, rvecs, tvecs, n_coeffs=2):
    """Linear least-squares radial distortion ``(k1, k2[, k3])`` (Zhang 3.3).

    Given the ideal (undistorted) projections of the current camera and poses,
    solves ``[(u - u0) r^2, (u - u0) r^4; (v - v0) r^2, (v - v0) r^4] k = observed - ideal``.
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
    """Board poses ``(rvecs (V, 3), tvecs (V, 3))`` of plane homographies (``[r1 r2 t] = lambda K^-1 H``).

    ``r3 = r1 x r2``; each matrix is replaced by the nearest rotation (SVD)
    and the sign of ``lambda`` chosen so the plane is in front of the camera.
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
