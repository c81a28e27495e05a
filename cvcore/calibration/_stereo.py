"""The stereo calibration solver behind :func:`cvcore.calibration.stereo.stereo_calibrate`.

A private module: the public function checks its arguments and calls these
with trusted values.

Unknowns: the free intrinsics of the left and right cameras (``z_L``,
``z_R``, each a linear reparametrisation of the kernels' intrinsics vector of the
lens model (10 for the pinhole model, 13 for the rational one), see
:func:`cvcore.calibration._lm.parametrisation`), the rig ``s = (r_s, T_s)``
taking left-camera coordinates to right-camera coordinates, and the board
pose ``p_v = (r_v, t_v)`` in the left camera for every view. The right
camera sees view ``v`` at the composed pose

    R_R = R_s R_v,   t_R = R_s t_v + T_s,

so its residuals are the single-camera residuals at pose ``c(s, p_v)``. The
``_calib`` kernel accumulates the normal-equation blocks of each camera for
its own poses (``lm.Problem``); the chain rule through ``c`` is one 6 x 12
matrix per view (not per point), so the blocks transform exactly:
``V -> M' V M``, ``W -> W M``, ``g -> M' g``. The rotation part of ``M``
uses the left Jacobian ``J`` of SO(3) (``R(r + dr) = exp([J(r) dr]x) R(r)``):

    dr_R/dr_s = J(r_R)^-1 J(r_s),        dr_R/dr_v = J(r_R)^-1 R_s J(r_v),
    dt_R/dr_s = -[R_s t_v]x J(r_s),      dt_R/dT_s = I,   dt_R/dt_v = R_s.

The shared block ``x = (z_L, z_R, s)`` (at most 26 unknowns) is coupled to
every pose block; each damped step eliminates the poses (Schur complement),
as the single-camera solver does.
"""
from __future__ import annotations

import numpy as np

from . import _geometry
from . import _lm as lm
from ._homography import homographies
from ._zhang import poses_from_homographies

#: The lens model of an intrinsics vector, from its length (5 + the model's coefficients).
_MODEL_OF_SIZE = {5 + len(names): model for model, names in _geometry.COEFFS.items()}


def model_of(q):
    """The lens model of the intrinsics vector ``q`` (its length names it: 10 pinhole, 13 rational, 9 fisheye)."""
    return _MODEL_OF_SIZE[len(q)]


# --------------------------------------------------------------------------- SO(3)


#: ``[v]x`` is linear in ``v``: row ``k`` holds ``[e_k]x`` flattened.
_HAT = np.array([[0, 0, 0, 0, 0, -1, 0, 1, 0], [0, 0, 1, 0, 0, 0, -1, 0, 0], [0, -1, 0, 1, 0, 0, 0, 0, 0]], float)


def _hat(v):
    """``[v]x`` for vectors ``(..., 3)`` -> ``(..., 3, 3)``."""
    return (v @ _HAT).reshape(v.shape[:-1] + (3, 3))


def _terms(r):
    """``[r]x``, ``[r]x^2`` and ``sin t / t``, ``(1 - cos t) / t^2``, ``(t - sin t) / t^3`` (series near 0)."""
    t = np.linalg.norm(r, axis=-1)[..., None, None]
    small = t < 1e-4
    ts = np.where(small, 1.0, t)
    sin, cos, t2 = np.sin(ts), np.cos(ts), t * t
    a = np.where(small, 1.0 - t2 / 6.0, sin / ts)
    b = np.where(small, 0.5 - t2 / 24.0, (1.0 - cos) / (ts * ts))
    c = np.where(small, 1.0 / 6.0 - t2 / 120.0, (ts - sin) / (ts * ts * ts))
    K = _hat(r)
    return K, K @ K, a, b, c


def rotations(rvecs):
    """Rotation matrices of rotation vectors ``(..., 3)``: ``I + sin t/t [r]x + (1 - cos t)/t^2 [r]x^2``."""
    K, K2, a, b, _ = _terms(rvecs)
    return np.eye(3) + a * K + b * K2


def left_jacobian(r):
    """``J(r) = I + (1 - cos t)/t^2 [r]x + (t - sin t)/t^3 [r]x^2`` for ``r (..., 3)``."""
    K, K2, _, b, c = _terms(r)
    return np.eye(3) + b * K + c * K2


def left_jacobian_inverse(r):
    """``J(r)^-1 = I - [r]x / 2 + (1/t^2 - cot(t/2) / (2 t)) [r]x^2`` (finite up to ``t < 2 pi``)."""
    t = np.linalg.norm(r, axis=-1)[..., None, None]
    small = t < 1e-4
    ts = np.where(small, 1.0, t)
    c = np.where(small, 1.0 / 12.0 + t ** 2 / 720.0, 1.0 / ts ** 2 - 1.0 / (2.0 * ts * np.tan(ts / 2.0)))
    K = _hat(r)
    return np.eye(3) - 0.5 * K + c * (K @ K)


def rotation_vectors(R):
    """Rotation vectors ``(n, 3)`` of rotation matrices ``(n, 3, 3)`` (vectorised; near a half turn, per matrix)."""
    w = np.stack([R[:, 2, 1] - R[:, 1, 2], R[:, 0, 2] - R[:, 2, 0], R[:, 1, 0] - R[:, 0, 1]], axis=1)
    cos_t = np.clip((R[:, 0, 0] + R[:, 1, 1] + R[:, 2, 2] - 1.0) / 2.0, -1.0, 1.0)
    t = np.arccos(cos_t)
    s = np.sin(t)
    scale = np.where(t < 1e-12, 0.5, t / (2.0 * np.where(s > 0, s, 1.0)))
    out = w * scale[:, None]
    for i in np.flatnonzero(np.pi - t < 1e-6):
        out[i] = _geometry.rotation_to_rvec(R[i])
    return out


def compose(rig, poses, jacobian=True):
    """Right-camera poses ``(n, 6)`` of left poses ``(n, 6)`` through the rig ``(6,)``.

    With ``jacobian``, also ``Ms (n, 6, 6)`` and ``Mp (n, 6, 6)``: the
    derivatives of each right pose by the rig and by the view's left pose.
    """
    Rs = _geometry.rotation(rig[:3])
    K, K2, a, b, c = _terms(poses[:, :3])
    RR = Rs @ (np.eye(3) + a * K + b * K2)
    right = np.empty_like(poses)
    right[:, :3] = rotation_vectors(RR)
    Rt = poses[:, 3:] @ Rs.T
    right[:, 3:] = Rt + rig[3:]
    if not jacobian:
        return right, None, None
    n = len(poses)
    Jinv = left_jacobian_inverse(right[:, :3])
    Js = left_jacobian(rig[:3])
    Ms = np.zeros((n, 6, 6))
    Mp = np.zeros((n, 6, 6))
    Ms[:, :3, :3] = Jinv @ Js
    Ms[:, 3:, :3] = -_hat(Rt) @ Js
    Ms[:, 3:, 3:] = np.eye(3)
    Mp[:, :3, :3] = Jinv @ Rs @ (np.eye(3) + b * K + c * K2)
    Mp[:, 3:, 3:] = Rs
    return right, Ms, Mp


def relative_poses(left, right):
    """The rigs ``(n, 6)`` that take each view's left pose ``(n, 6)`` to its right pose."""
    R = rotations(right[:, :3]) @ np.swapaxes(rotations(left[:, :3]), 1, 2)
    return np.concatenate([rotation_vectors(R), right[:, 3:] - (R @ left[:, 3:, None])[:, :, 0]], axis=1)


# --------------------------------------------------------------------------- poses with known intrinsics


def board_poses(objs, imgs, q):
    """Pose ``(n, 6)`` of a planar board in every view seen by a known camera.

    A homography between the board and the undistorted normalised points
    gives each pose, as Zhang's method does; the joint Levenberg-Marquardt
    refines them (a separate ``solvePnP`` refinement per view would only
    repeat that work).
    """
    counts = np.cumsum([len(i) for i in imgs])[:-1]
    xy = np.split(normalised(np.concatenate(imgs), q), counts)
    src, dst = [], []
    for o, p in zip(objs, xy):
        ok = np.all(np.isfinite(p), axis=1)
        if np.count_nonzero(ok) < 4:
            raise ValueError("the camera's distortion model cannot undistort the points of a view; "
                             "check that the camera belongs to these images")
        src.append(o[ok, :2])
        dst.append(p[ok])
    rv, tv = poses_from_homographies(homographies(src, dst), np.eye(3))
    return np.ascontiguousarray(np.concatenate([rv, tv], axis=1))


# --------------------------------------------------------------------------- the joint problem


class StereoProblem:
    """Both cameras' point data and the normal equations of the joint problem."""

    def __init__(self, objs, imgs_left, imgs_right, model="pinhole"):
        self.left = lm.Problem(objs, imgs_left, model)
        self.right = lm.Problem(objs, imgs_right, model)
        self.n_views = self.left.n_views
        self.n_points = self.left.n_points          # per camera

    def evaluate(self, qL, qR, rig, poses, jacobian=True):
        """Total squared residual of both cameras; with ``jacobian``, keeps the chain matrices."""
        right_poses, self.Ms, self.Mp = compose(rig, poses, jacobian)
        return (self.left.evaluate(qL, poses, jacobian)
                + self.right.evaluate(qR, np.ascontiguousarray(right_poses), jacobian))

    def blocks(self, TL, TR):
        """Normal equations ``(A, Wt, V, gx, gp)`` over ``x = (z_L, z_R, s)`` and the poses.

        ``TL``/``TR`` are the cameras' parametrisations (n x m, m = 0 when
        the intrinsics are fixed). ``A`` is m x m, ``Wt`` (n, m, 6), ``V``
        (n, 6, 6), ``gx`` (m,), ``gp`` (n, 6).
        """
        L, R, Ms, Mp = self.left, self.right, self.Ms, self.Mp
        mL, mR = TL.shape[1], TR.shape[1]
        m = mL + mR + 6
        zl, zr, rs = slice(0, mL), slice(mL, mL + mR), slice(mL + mR, m)
        MsT = np.swapaxes(Ms, 1, 2)
        VR_Mp = R.V @ Mp
        A = np.zeros((m, m))
        A[zl, zl] = TL.T @ L.U @ TL
        A[zr, zr] = TR.T @ R.U @ TR
        A[zr, rs] = TR.T @ (R.W @ Ms).sum(axis=0)
        A[rs, zr] = A[zr, rs].T
        A[rs, rs] = (MsT @ R.V @ Ms).sum(axis=0)
        Wt = np.empty((self.n_views, m, 6))
        Wt[:, zl] = TL.T @ L.W
        Wt[:, zr] = TR.T @ (R.W @ Mp)
        Wt[:, rs] = MsT @ VR_Mp
        V = L.V + np.swapaxes(Mp, 1, 2) @ VR_Mp
        gx = np.concatenate([TL.T @ L.gi, TR.T @ R.gi, (MsT @ R.ge[:, :, None]).sum(axis=0)[:, 0]])
        gp = L.ge + (np.swapaxes(Mp, 1, 2) @ R.ge[:, :, None])[:, :, 0]
        return A, Wt, V, gx, gp


def schur_step(A, Wt, V, gx, gp, lam):
    """Solve the damped normal equations (``D(X) = X + lam diag(X)``) by eliminating the poses.

    Returns ``(dx, dp)``, or None when a block or the Schur complement is not
    positive definite (the caller then raises ``lam``).
    """
    n = len(V)
    idx = np.arange(6)
    Vd = V.copy()
    Vd[:, idx, idx] *= 1.0 + lam
    Ad = A.copy()
    Ad[np.diag_indices_from(Ad)] *= 1.0 + lam
    try:
        np.linalg.cholesky(Vd)          # positive definite, or raise lambda
        rhs = np.concatenate([np.swapaxes(Wt, 1, 2), gp[:, :, None]], axis=2)     # (n, 6, m + 1)
        sol = np.linalg.solve(Vd, rhs)
        Y, y = sol[:, :, :-1], sol[:, :, -1]
        S = Ad - (Wt @ Y).sum(axis=0)
        b = -gx + (Wt @ y[:, :, None]).sum(axis=0)[:, 0]
        np.linalg.cholesky(S)
        dx = np.linalg.solve(S, b)
    except np.linalg.LinAlgError:
        return None
    dp = -(y + Y @ dx) if n else np.zeros((0, 6))
    return dx, dp


def _predicted_decrease(A, Wt, V, gx, gp, dx, dp):
    """Decrease of the squared error predicted by the linear model, ``-(2 g'h + h'J'Jh)``."""
    quad = dx @ A @ dx + 2.0 * np.sum((Wt @ dp[:, :, None])[:, :, 0] @ dx) + np.sum(dp * (V @ dp[:, :, None])[:, :, 0])
    return -(2.0 * (gx @ dx + np.sum(gp * dp)) + quad)


LAMBDA0 = 1e-5


def levenberg_marquardt(problem, qL0, qR0, rig0, poses0, free_left, free_right, *, max_iterations=200,
                        xtol=1e-13, ptol=1e-22):
    """Minimise the squared reprojection error of both cameras.

    The same strategy as the single-camera solver (:func:`cvcore.calibration._lm.levenberg_marquardt`):
    Marquardt's damping with Nielsen's update, Gauss-Newton steps taken
    below the rounding of the error, stop when the step is below ``xtol``
    relative to the parameters. Returns ``(qL, qR, rig, poses, info)``.
    """
    TL, qfL, zL, _ = lm.parametrisation(free_left, qL0)
    TR, qfR, zR, _ = lm.parametrisation(free_right, qR0)
    mL, mR = TL.shape[1], TR.shape[1]

    def unpack(x):
        return qfL + TL @ x[:mL], qfR + TR @ x[mL:mL + mR], x[mL + mR:]

    x = np.concatenate([zL, zR, rig0])
    poses = np.ascontiguousarray(poses0, dtype=np.float64).copy()
    cost = problem.evaluate(*unpack(x), poses, True)
    lam, nu, rounding_steps, iterations = LAMBDA0, 2.0, 0, 0
    for iterations in range(1, max_iterations + 1):
        A, Wt, V, gx, gp = problem.blocks(TL, TR)
        accepted = converged = False
        for _ in range(40):
            step = schur_step(A, Wt, V, gx, gp, lam)
            if step is None:
                lam, nu = max(lam, 1e-12) * nu, nu * 2.0
                if lam > 1e16:
                    break
                continue
            dx, dp = step
            pred = _predicted_decrease(A, Wt, V, gx, gp, dx, dp)
            if not pred > ptol * cost:
                converged = True
                break
            x_new, poses_new = x + dx, poses + dp
            # with the Jacobian: an accepted step (the usual case) needs no second evaluation
            cost_new = problem.evaluate(*unpack(x_new), poses_new, True)
            if np.isfinite(cost_new) and cost_new < cost:
                rho = (cost - cost_new) / pred
                lam = max(lam * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), 1e-15)   # Nielsen's update
                nu, accepted = 2.0, True
                break
            if pred <= 1e-12 * cost and np.isfinite(cost_new) and cost_new <= cost * (1.0 + 1e-13):
                # below the rounding of the error: Gauss-Newton still converges the flat directions
                rounding_steps += 1
                accepted = rounding_steps <= 20
                lam = max(lam / 3.0, 1e-15)
                break
            lam, nu = lam * nu, nu * 2.0
            if lam > 1e16:
                break
        if not accepted:
            break
        size = np.sqrt(x @ x + np.sum(poses * poses))
        small = np.sqrt(dx @ dx + np.sum(dp * dp)) <= xtol * (size + xtol)
        x, poses, cost = x_new, poses_new, cost_new
        if converged or small:
            break
    qL, qR, rig = unpack(x)
    cost = problem.evaluate(qL, qR, rig, poses, True)        # the blocks at the optimum, for the covariance
    return qL, qR, rig.copy(), poses, {"iterations": iterations, "cost": cost, "TL": TL, "TR": TR}


def covariance(problem, TL, TR):
    """Standard deviations at the optimum (the problem evaluated there with ``jacobian=True``).

    ``sigma^2 (J'J)^-1`` with ``sigma^2 = SSE / (4 N - p)`` (``N`` points per
    camera, ``p`` free parameters), the poses eliminated by the Schur
    complement. Returns ``(std_qL (n,), std_qR (n,), std_rig (6,),
    std_left_poses (n, 6), std_right_poses (n, 6))``, or None when ``J'J``
    is singular.
    """
    A, Wt, V, _, _ = problem.blocks(TL, TR)
    n, m = len(V), A.shape[0]
    cost = float(problem.left.view_sq.sum() + problem.right.view_sq.sum())
    dof = 4 * problem.n_points - (m + 6 * n)
    if dof <= 0:
        return None
    sigma2 = cost / dof
    try:
        Vinv = np.linalg.inv(V)
        WVinv = Wt @ Vinv                                              # (n, m, 6)
        Sinv = np.linalg.inv(A - np.einsum("vij,vkj->ik", WVinv, Wt))
    except np.linalg.LinAlgError:
        return None
    cov_x = Sinv
    cross = -np.einsum("ij,vjk->vik", Sinv, WVinv)                     # cov(x, p_v), (n, m, 6)
    cov_p = Vinv + np.einsum("vji,jk,vkl->vil", WVinv, Sinv, WVinv)
    mL, mR = TL.shape[1], TR.shape[1]
    rs = slice(mL + mR, m)
    # the right poses are c(s, p_v): propagate through [Ms Mp]
    Ms, Mp = problem.Ms, problem.Mp
    cov_s = cov_x[rs, rs]
    cov_r = (Ms @ cov_s @ np.swapaxes(Ms, 1, 2) + Mp @ cov_p @ np.swapaxes(Mp, 1, 2)
             + Ms @ cross[:, rs] @ np.swapaxes(Mp, 1, 2) + Mp @ np.swapaxes(cross[:, rs], 1, 2) @ np.swapaxes(Ms, 1, 2))

    def std(diag):
        return np.sqrt(np.clip(diag, 0.0, None) * sigma2)

    out = (std(np.diag(TL @ cov_x[:mL, :mL] @ TL.T)), std(np.diag(TR @ cov_x[mL:mL + mR, mL:mL + mR] @ TR.T)),
           std(np.diag(cov_s)), std(np.einsum("vii->vi", cov_p)), std(np.einsum("vii->vi", cov_r)))
    if not all(np.all(np.isfinite(o)) for o in out):
        return None
    return out


# --------------------------------------------------------------------------- rectification


def normalised(points, q):
    """Undistorted normalised coordinates ``(N, 2)`` of pixels seen by the camera ``q`` (NaN where none)."""
    yd = (points[:, 1] - q[3]) / q[1]
    xd = (points[:, 0] - q[2] - q[4] * yd) / q[0]
    return _geometry.undistort(np.ascontiguousarray(np.stack([xd, yd], axis=1)), q[5:], model_of(q))


def rectified_points(points, q, R, P):
    """Pixels of the rectified image (rotation ``R``, projection ``P``) of pixels seen by camera ``q``."""
    xy = normalised(points, q)
    ray = np.concatenate([xy, np.ones((len(xy), 1))], axis=1) @ R.T
    x, y = ray[:, 0] / ray[:, 2], ray[:, 1] / ray[:, 2]
    return np.stack([P[0, 0] * x + P[0, 1] * y + P[0, 2], P[1, 1] * y + P[1, 2]], axis=1)


def _grid_points(w, h, n=9):
    """An ``n x n`` grid spanning the image, corners included, and each point's column and row index."""
    j, i = np.mgrid[0:n, 0:n]
    pts = np.stack([i.ravel() * (w - 1) / (n - 1), j.ravel() * (h - 1) / (n - 1)], axis=1)
    return pts, i.ravel(), j.ravel()


def _rectangles(q, R, P, size, n=9):
    """Inner and outer rectangles ``(x0, y0, x1, y1)`` of the image after rectification (as OpenCV samples it).

    The inner one lies inside the rectified border (every pixel valid), the
    outer one holds the whole rectified image; both from an ``n x n`` grid.
    Grid points the lens model cannot undistort (beyond the radius where it
    folds over) are left out.
    """
    pts, i, j = _grid_points(*size, n)
    r = rectified_points(pts, q, R, P)
    ok = np.all(np.isfinite(r), axis=1)
    sides = (i == 0, j == 0, i == n - 1, j == n - 1)
    if any(np.count_nonzero(ok & side) < 3 for side in sides):
        raise ValueError("the image border lies beyond the radius where the lens model folds over; "
                         "the distortion coefficients do not describe the whole image")
    inner = (r[ok & sides[0], 0].max(), r[ok & sides[1], 1].max(), r[ok & sides[2], 0].min(),
             r[ok & sides[3], 1].min())
    outer = (r[ok, 0].min(), r[ok, 1].min(), r[ok, 0].max(), r[ok, 1].max())
    return inner, outer


def rectify(qL, qR, R, T, size, new_size, alpha, zero_disparity):
    """Bouguet's rectification as ``cv2.stereoRectify`` computes it: ``(R1, R2, P1, P2, Q)``.

    Each camera turns by half the rig's rotation, so both look the same way;
    a common rotation then brings the baseline onto the x axis (or the y axis
    when the cameras are stacked vertically). The new focal length is the
    mean of the cameras' focal lengths across the baseline; the principal
    points centre each image's corners; ``alpha`` scales between keeping only
    valid pixels (0) and keeping every source pixel (1); None keeps the scale.
    """
    w, h = size
    nw, nh = new_size
    half = _geometry.rotation(-0.5 * _geometry.rotation_to_rvec(R))
    t = half @ T
    axis = 0 if abs(t[0]) > abs(t[1]) else 1       # horizontal or vertical rig
    target = np.zeros(3)
    target[axis] = 1.0 if t[axis] > 0 else -1.0
    turn = np.cross(t, target)
    norm_turn = np.linalg.norm(turn)
    if norm_turn > 0:
        turn *= np.arccos(min(abs(t[axis]) / np.linalg.norm(t), 1.0)) / norm_turn
    W = _geometry.rotation(turn)
    R1, R2 = W @ half.T, W @ half
    baseline = (R2 @ T)[axis]
    other = 1 - axis
    ratio = (nh / h if axis == 0 else nw / w) / 2.0
    f = (qL[other] + qR[other]) * ratio
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], float)
    centres = []
    for q, Rk in ((qL, R1), (qR, R2)):
        p = rectified_points(corners, q, Rk, np.diag([f, f, 1.0]))
        if not np.all(np.isfinite(p)):
            raise ValueError("the image corners lie beyond the radius where the lens model folds over; "
                             "the distortion coefficients do not describe the whole image")
        centres.append(np.array([(w - 1) / 2.0, (h - 1) / 2.0]) - p.mean(axis=0))
    if zero_disparity:
        centres[0] = centres[1] = (centres[0] + centres[1]) / 2.0
    else:      # only across the baseline, so that epipolar lines stay aligned
        centres[0][other] = centres[1][other] = (centres[0][other] + centres[1][other]) / 2.0

    def projection(c, f, shift):
        P = np.array([[f, 0, c[0], 0], [0, f, c[1], 0], [0, 0, 1.0, 0]])
        P[axis, 3] = shift
        return P

    scale = 1.0
    new_c = [c * np.array([nw / w, nh / h]) for c in centres]
    if alpha is not None:
        lo, hi = [], []
        for q, Rk, c0, c in ((qL, R1, centres[0], new_c[0]), (qR, R2, centres[1], new_c[1])):
            inner, outer = _rectangles(q, Rk, projection(c0, f, 0.0), size)
            room = (c[0], c[1], nw - 1 - c[0], nh - 1 - c[1])
            lo += [room[0] / (c0[0] - inner[0]), room[1] / (c0[1] - inner[1]),
                   room[2] / (inner[2] - c0[0]), room[3] / (inner[3] - c0[1])]
            hi += [room[0] / (c0[0] - outer[0]), room[1] / (c0[1] - outer[1]),
                   room[2] / (outer[2] - c0[0]), room[3] / (outer[3] - c0[1])]
        scale = max(lo) * (1.0 - alpha) + min(hi) * alpha
    centres = new_c
    f *= scale
    P1 = projection(centres[0], f, 0.0)
    P2 = projection(centres[1], f, baseline * f)
    Q = np.zeros((4, 4))
    Q[0, 0] = Q[1, 1] = 1.0
    Q[0, 3], Q[1, 3], Q[2, 3] = -centres[0][0], -centres[0][1], f
    Q[3, 2] = -1.0 / baseline
    Q[3, 3] = (centres[0][axis] - centres[1][axis]) / baseline
    return R1, R2, P1, P2, Q


def rectify_maps(q, R, P, size):
    """``(map_x, map_y)`` float32: the source pixel of every pixel of the rectified image.

    As ``cv2.initUndistortRectifyMap``: each output pixel's ray in the
    rectified frame, turned back by ``R``, distorted and projected by the
    camera. Rays that point behind the camera map to -1 (outside).
    """
    w, h = size
    map_x = np.empty((h, w), np.float32)
    map_y = np.empty((h, w), np.float32)
    step = max(1, (1 << 18) // w)                   # about 256k pixels per block
    us = np.arange(w, dtype=np.float64)
    for r0 in range(0, h, step):
        v = np.arange(r0, min(h, r0 + step), dtype=np.float64)
        y = np.repeat((v - P[1, 2]) / P[1, 1], w)
        x = (np.tile(us, len(v)) - P[0, 2] - P[0, 1] * y) / P[0, 0]
        ray = np.stack([x, y, np.ones_like(x)], axis=1) @ R      # R' [x, y, 1] per row
        ahead = ray[:, 2] > 0
        z = np.where(ahead, ray[:, 2], 1.0)
        xd = _geometry.distort(np.ascontiguousarray(np.stack([ray[:, 0] / z, ray[:, 1] / z], axis=1)), q[5:],
                               model_of(q))
        mx = np.where(ahead, q[0] * xd[:, 0] + q[4] * xd[:, 1] + q[2], -1.0)
        my = np.where(ahead, q[1] * xd[:, 1] + q[3], -1.0)
        map_x[r0:r0 + len(v)] = mx.reshape(len(v), w)
        map_y[r0:r0 + len(v)] = my.reshape(len(v), w)
    return map_x, map_y
