"""How far a projected point may move: the projection uncertainty of a calibration, from its covariance.

A private module of :mod:`cvcore.calibration.report` (mrcal's method, our code):

Every step uses the calibration's lens model (``"pinhole"``, ``"rational"`` or
``"fisheye"``) and its options, as :func:`calibrate_camera` did.

1. The Jacobian at the solution, as the normal-equation blocks ``U`` (intrinsics),
   ``V_i`` (pose of view ``i``) and ``W_i`` (their coupling) of the ``_calib``
   kernel, restricted to the free intrinsics (``T``, as the solver does). The
   parameter covariance is ``sigma^2 (J'J)^-1`` with ``sigma^2`` the residual
   variance per coordinate (squared error over ``2 N - p``).
2. A pixel ``u`` of the image is unprojected to a point ``p`` at the working
   distance. A calibration only knows the camera relative to the boards, so
   ``p`` is held fixed in the boards' frames (``p_i = R_i' (p - t_i)`` for view
   ``i``) and mapped back through the perturbed poses, averaged over the views,
   then projected with the perturbed intrinsics: ``u*(q, poses) =
   project(mean_i(R_i p_i + t_i), q)``. Moving every pose and the principal
   point together, which the data cannot tell apart, then leaves ``u*`` where
   it was instead of counting as uncertainty.
3. With ``A = du*/dq T`` and ``B_i = du*/dpose_i``, the poses are eliminated
   exactly (Schur complement ``S = T'UT - sum_i W_i' V_i^-1 W_i``):
   ``cov(u*) = sigma^2 (C S^-1 C' + sum_i B_i V_i^-1 B_i')`` with
   ``C = A - sum_i B_i V_i^-1 W_i'`` (``W_i`` here ``T' W_i``). The map shows
   the standard deviation along the worst direction, ``sqrt`` of the larger
   eigenvalue of that 2 x 2 covariance.
"""
from __future__ import annotations

import numpy as np

from .._ext import _calib
from . import _geometry, _solver
from . import _lm as lm

#: Relative step of the central differences of the projection (it is smooth; the truncation error is ~1e-10).
_STEP = 1e-6


def _points_used(calibration, object_points, image_points):
    """The views' points without the outliers a robust calibration left out."""
    objs = [np.asarray(o, np.float64).reshape(-1, 3) if np.asarray(o).shape[-1] == 3
            else np.column_stack([np.asarray(o, np.float64).reshape(-1, 2), np.zeros(len(o))])
            for o in object_points]
    imgs = [np.asarray(i, np.float64).reshape(-1, 2) for i in image_points]
    if calibration.outliers is not None and len(calibration.outliers):
        keep = [np.ones(len(o), bool) for o in objs]
        for v, j in calibration.outliers:
            keep[v][j] = False
        objs = [o[k] for o, k in zip(objs, keep)]
        imgs = [i[k] for i, k in zip(imgs, keep)]
    return objs, imgs


def calibration_options(calibration):
    """The :func:`calibrate_camera` options a calibration was computed with (its model and flags)."""
    flags = calibration.flags or {}
    options = {k: bool(flags.get(k, False))
               for k in ("fix_principal_point", "fix_aspect_ratio", "estimate_skew")}
    if calibration.model != "fisheye":       # options of the pinhole and rational models only
        options.update({k: bool(flags.get(k, False)) for k in ("zero_tangent_dist", "fix_k3")})
    return {"model": calibration.model, **options}


def _intrinsics(calibration):
    return _geometry.intrinsics_vector(calibration.camera_matrix, calibration.dist_coeffs)


def information(calibration, object_points, image_points):
    """``(T, A, Wt, V, sigma2)``: the free-intrinsics Jacobian blocks at the solution and the residual variance."""
    objs, imgs = _points_used(calibration, object_points, image_points)
    problem = lm.Problem(objs, imgs, calibration.model)
    q = _intrinsics(calibration)
    poses = np.ascontiguousarray(np.concatenate([calibration.rvecs, calibration.tvecs], axis=1))
    cost = problem.evaluate(q, poses, True)
    options = calibration_options(calibration)
    free = _solver.options(**options)["free"]
    aspect = q[0] / q[1] if options["fix_aspect_ratio"] else None
    T = lm.parametrisation(free, q, aspect)[0]
    n_free = T.shape[1] + 6 * problem.n_views
    dof = 2 * problem.n_points - n_free
    sigma2 = cost / dof if dof > 0 else np.nan
    A = T.T @ problem.U @ T
    Wt = np.einsum("im,vij->vmj", T, problem.W)
    return T, A, Wt, problem.V.copy(), sigma2


def _jac(fun, x, steps):
    """Central differences of ``fun`` (``(..., k)`` -> ``(G, 2)``) along each of the last axis of ``x``."""
    cols = []
    for j in range(x.shape[-1]):
        d = np.zeros(x.shape[-1])
        d[j] = steps[j]
        cols.append((fun(x + d) - fun(x - d)) / (2 * steps[j]))
    return np.stack(cols, axis=-1)                                 # (G, 2, k)


def _inverse(M):
    """Pseudo-inverse of symmetric ``(..., k, k)`` matrices, scaled to a unit diagonal first.

    Focal lengths, poses and the rational model's six radial terms differ by
    orders of magnitude: unscaled, ``pinv`` would cut the smallest directions.
    """
    d = np.sqrt(np.abs(np.einsum("...ii->...i", M)))
    d = np.where(d > 0, d, 1.0)
    outer = d[..., :, None] * d[..., None, :]
    return np.linalg.pinv(M / outer, hermitian=True) / outer


def working_distance(calibration):
    """Median distance from the camera to the boards' origins (the calibration's unit)."""
    return float(np.median(np.linalg.norm(np.asarray(calibration.tvecs), axis=1)))


def projection_uncertainty(calibration, object_points, image_points, pixels, distance):
    """Worst-direction standard deviation (pixels) of the projection of each ``(G, 2)`` pixel at ``distance``.

    NaN where the pixel cannot be unprojected (beyond the lens model's valid
    range) or the covariance is not determined.
    """
    pixels = np.asarray(pixels, np.float64).reshape(-1, 2)
    T, A, Wt, V, sigma2 = information(calibration, object_points, image_points)
    q = _intrinsics(calibration)
    p = unproject(calibration, pixels, distance)                                  # (G, 3) in the camera frame
    zero = np.zeros(3)

    def proj(pts, qq):
        return _geometry.project(np.ascontiguousarray(pts), zero, zero, qq, calibration.model)

    ok = np.all(np.isfinite(p), axis=1)
    out = np.full(len(pixels), np.nan)
    if not ok.any() or not np.isfinite(sigma2):
        return out
    p = p[ok]
    G, n = len(p), len(V)
    dq = _jac(lambda qq: proj(p, qq), q, _STEP * np.maximum(np.abs(q), 1.0)) @ T               # (G, 2, m)
    # derivative with respect to the camera-frame point, one coordinate at a time
    J_p = np.stack([(proj(p + e, q) - proj(p - e, q)) / (2 * h)
                    for e, h in ((np.eye(3)[k] * _STEP * distance, _STEP * distance) for k in range(3))],
                   axis=-1)                                                                     # (G, 2, 3)
    B = np.empty((G, n, 2, 6))
    for v in range(n):
        R = np.empty((3, 3))
        dR = np.empty((3, 3, 3))
        _calib.rodrigues(np.ascontiguousarray(calibration.rvecs[v], dtype=np.float64), R, dR)
        p_board = (p - calibration.tvecs[v]) @ R                                                  # R' (p - t)
        dRp = np.einsum("kij,gj->gik", dR, p_board)                                               # (G, 3, 3)
        B[:, v, :, :3] = np.einsum("gai,gik->gak", J_p, dRp) / n
        B[:, v, :, 3:] = J_p / n
    with np.errstate(all="ignore"):
        Vinv = _inverse(V)
        BVW = np.einsum("gnaj,njk,nmk->gam", B, Vinv, Wt)
        S = A - np.einsum("vij,vjk,vmk->im", Wt, Vinv, Wt)
        C = dq - BVW
        cov = np.einsum("gam,mk,gbk->gab", C, _inverse(S), C)
        cov += np.einsum("gnaj,njk,gnbk->gab", B, Vinv, B)
        cov *= sigma2
        worst = np.linalg.eigvalsh(cov)[:, -1]
    out[np.flatnonzero(ok)] = np.sqrt(np.clip(worst, 0.0, None))
    return out


def unproject(calibration, pixels, distance):
    """Camera-frame points ``(G, 3)`` at ``distance`` seen at ``pixels``; rows of NaN where the lens model fails."""
    model = calibration.model
    q = _intrinsics(calibration)
    xy = _geometry.undistort(_geometry.pixels_to_normalized(pixels, calibration.camera_matrix), q[5:], model)
    ray = np.column_stack([xy, np.ones(len(xy))])
    p = distance * ray / np.linalg.norm(ray, axis=1, keepdims=True)
    ok = np.all(np.isfinite(p), axis=1)
    zero = np.zeros(3)
    ok[ok] &= np.hypot(*(_geometry.project(p[ok], zero, zero, q, model) - pixels[ok]).T) < 1e-3
    p[~ok] = np.nan
    return p


def projection_difference(first, second, pixels, distance, fit):
    """How far apart two calibrations put the same points: ``(G,)`` pixels.

    Each pixel is unprojected by ``first`` to ``distance`` and projected by
    ``second``, after the rigid motion between the two camera frames that
    best aligns the pixels selected by the boolean mask ``fit``: two
    calibrations of one camera may differ by a small motion of the camera
    relative to the boards, which their poses absorb (mrcal's "implied
    transformation" of cross-validation).
    """
    p = unproject(first, pixels, distance)
    q2 = _intrinsics(second)
    use = fit & np.all(np.isfinite(p), axis=1)

    def moved(x, pts):
        return _geometry.project(np.ascontiguousarray(pts), x[:3], x[3:], q2, second.model)

    x = np.zeros(6)
    steps = np.concatenate([np.full(3, 1e-7), np.full(3, 1e-7 * distance)])
    if use.sum() >= 6:
        for _ in range(10):                       # Gauss-Newton on (rotation vector, translation)
            e = (moved(x, p[use]) - pixels[use]).ravel()
            J = np.stack([((moved(x + h, p[use]) - moved(x - h, p[use])) / (2 * h.max())).ravel()
                          for h in np.diag(steps)], axis=1)
            step = np.linalg.lstsq(J, -e, rcond=None)[0]
            x = x + step
            if np.linalg.norm(step / steps) < 1e-6:
                break
    out = np.full(len(pixels), np.nan)
    ok = np.all(np.isfinite(p), axis=1)
    out[ok] = np.hypot(*(moved(x, p[ok]) - pixels[ok]).T)
    return out
