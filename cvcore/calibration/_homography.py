"""Plane-to-image homographies: Hartley-normalised DLT and geometric refinement (trusted input).

Used by :func:`cvcore.calibration.find_homography` (which checks its
arguments) and by the calibration solver (one homography per view, stacked).
"""
from __future__ import annotations

import numpy as np


def _check_spread(P, name):
    """Refuse views whose points are (nearly) collinear; ``P`` is ``(V, N, 2)``."""
    c = P - P.mean(axis=1, keepdims=True)
    ev = np.linalg.eigvalsh(np.einsum("vni,vnj->vij", c, c))       # ascending, = singular values^2
    bad = (ev[:, 1] <= 0) | (ev[:, 0] < 1e-18 * ev[:, 1])
    if np.any(bad):
        where = "" if len(P) == 1 else f" of view {int(np.flatnonzero(bad)[0])}"
        raise ValueError(f"{name} points{where} are (nearly) collinear: a homography is not determined")


def _normalise(P):
    """Hartley's similarities ``T`` (V, 3, 3) and the points they move to zero mean and mean distance sqrt(2)."""
    c = P.mean(axis=1)                                                # (V, 2)
    d = np.sqrt(((P - c[:, None, :]) ** 2).sum(axis=2)).mean(axis=1)  # (V,)
    sc = np.sqrt(2.0) / np.where(d > 0, d, np.sqrt(2.0))
    T = np.zeros((len(P), 3, 3))
    T[:, 0, 0] = T[:, 1, 1] = sc
    T[:, 0, 2] = -sc * c[:, 0]
    T[:, 1, 2] = -sc * c[:, 1]
    T[:, 2, 2] = 1.0
    return T, (P - c[:, None, :]) * sc[:, None, None]


def _dlt(S, D):
    """Normalised DLT for stacked views ``S, D`` (V, N, 2) of checked points: ``(V, 3, 3)``, ``H[2, 2] = 1``."""
    Ts, a = _normalise(S)
    Td, b = _normalise(D)
    V, N = S.shape[:2]
    A = np.zeros((V, max(2 * N, 9), 9))                 # zero rows (N = 4) leave the null space alone
    A[:, 0:2 * N:2, 0:2] = a
    A[:, 0:2 * N:2, 2] = 1
    A[:, 0:2 * N:2, 6:8] = -b[:, :, :1] * a
    A[:, 0:2 * N:2, 8] = -b[:, :, 0]
    A[:, 1:2 * N:2, 3:5] = a
    A[:, 1:2 * N:2, 5] = 1
    A[:, 1:2 * N:2, 6:8] = -b[:, :, 1:2] * a
    A[:, 1:2 * N:2, 8] = -b[:, :, 1]
    _, _, vt = np.linalg.svd(A, full_matrices=False)
    Hn = vt[:, -1].reshape(V, 3, 3)
    H = np.linalg.solve(Td, Hn @ Ts)
    if np.any(np.abs(H[:, 2, 2]) < 1e-300):
        raise ValueError("degenerate correspondences: the homography maps a point to infinity")
    return H / H[:, 2:3, 2:3]


def _apply(H, p):
    q = p @ H[:, :2].T + H[:, 2]
    return q[:, :2] / q[:, 2:3]


def _refine(H, src, dst, iterations=20):
    """Gauss-Newton (Levenberg-Marquardt damped) on the reprojection error in ``dst``."""
    h = (H / H[2, 2]).ravel()[:8].copy()

    def residual(h):
        Hm = np.append(h, 1.0).reshape(3, 3)
        return (_apply(Hm, src) - dst).ravel()

    lam = 1e-3
    r = residual(h)
    cost = r @ r
    x, y = src[:, 0], src[:, 1]
    for _ in range(iterations):
        Hm = np.append(h, 1.0).reshape(3, 3)
        w = Hm[2, 0] * x + Hm[2, 1] * y + 1.0
        u = (Hm[0, 0] * x + Hm[0, 1] * y + Hm[0, 2]) / w
        v = (Hm[1, 0] * x + Hm[1, 1] * y + Hm[1, 2]) / w
        J = np.zeros((2 * x.size, 8))
        J[0::2, 0] = x / w
        J[0::2, 1] = y / w
        J[0::2, 2] = 1 / w
        J[0::2, 6] = -u * x / w
        J[0::2, 7] = -u * y / w
        J[1::2, 3] = x / w
        J[1::2, 4] = y / w
        J[1::2, 5] = 1 / w
        J[1::2, 6] = -v * x / w
        J[1::2, 7] = -v * y / w
        A = J.T @ J
        g = J.T @ r
        improved = False
        for _ in range(10):
            step = np.linalg.solve(A + lam * np.diag(np.diag(A)), -g)
            r_new = residual(h + step)
            c_new = r_new @ r_new
            if c_new <= cost:
                h, r, improved = h + step, r_new, True
                small = cost - c_new <= 1e-14 * cost
                cost = c_new
                lam = max(lam / 10, 1e-12)
                break
            lam *= 10
        if not improved or small or np.linalg.norm(step) <= 1e-14 * np.linalg.norm(h):
            break
    return np.append(h, 1.0).reshape(3, 3)


def homography(s, d, refine=True):
    """Homography of one view's checked ``(N, 2)`` points, ``H[2, 2] = 1``."""
    _check_spread(s[None], "src")
    _check_spread(d[None], "dst")
    H = _dlt(s[None], d[None])[0]
    if refine:
        H = _refine(H, s, d)
    return H


def homographies(src_views, dst_views):
    """Normalised-DLT homographies of many views at once (stacked when the point counts agree).

    Same result as :func:`homography` with ``refine=False`` view by view.
    """
    if len({len(s) for s in src_views}) != 1:
        return [homography(s, d, refine=False) for s, d in zip(src_views, dst_views)]
    S = np.stack(src_views)                     # (V, N, 2)
    D = np.stack(dst_views)
    _check_spread(S, "src")
    _check_spread(D, "dst")
    return list(_dlt(S, D))
