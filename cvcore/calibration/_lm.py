"""Levenberg-Marquardt over shared intrinsics and per-view poses.

The Jacobian is analytic (computed in the ``_calib`` kernel) and never formed
as one matrix: the kernel accumulates the normal-equation blocks directly,

    [ U    W_1 ... W_n ] [dq ]     [g_q ]
    [ W_1' V_1         ] [dp1] = - [g_1 ]
    [ ...       ...    ] [...]     [... ]
    [ W_n'         V_n ] [dpn]     [g_n ]

with ``U`` the intrinsics block, ``V_i`` the 6x6 pose block of view ``i`` and
``W_i`` their coupling. Each damped step is solved exactly by eliminating the
poses (Schur complement ``S = U - sum W_i V_i^-1 W_i'``, Cholesky factors of
every block, in the ``_calib.schur_step`` kernel), which costs O(views) small
solves instead of one dense solve of size ``n_intrinsics + 6 n``.

Fixed intrinsics and a fixed aspect ratio are a linear reparametrisation
``q = q_fixed + T z`` of the intrinsics (fx, fy, cx, cy, skew, then the lens
model's coefficients: 10 for the pinhole model, 13 for the rational one, 9 for
the fisheye), so the blocks become ``T' U T``, ``T' W_i``, ``T' g_q``.
"""
from __future__ import annotations

import numpy as np

from .._ext import _calib
from ._geometry import MODELS, intrinsic_names

INTRINSIC_NAMES = intrinsic_names("pinhole")


class Problem:
    """Point data laid out for the kernel (all views concatenated), for the lens ``model``."""

    def __init__(self, obj_views, img_views, model="pinhole"):
        self.model = model
        self.code = MODELS[model]
        ni = len(intrinsic_names(model))
        self.obj = np.ascontiguousarray(np.concatenate(obj_views), dtype=np.float64)
        self.img = np.ascontiguousarray(np.concatenate(img_views), dtype=np.float64)
        counts = [len(o) for o in obj_views]
        self.starts = np.zeros(len(counts) + 1, dtype=np.intp)
        self.starts[1:] = np.cumsum(counts)
        self.n_views = len(counts)
        self.n_points = int(self.starts[-1])
        nv = self.n_views
        self.U = np.empty((ni, ni))
        self.V = np.empty((nv, 6, 6))
        self.W = np.empty((nv, ni, 6))
        self.gi = np.empty(ni)
        self.ge = np.empty((nv, 6))
        self.res = np.empty((self.n_points, 2))
        self.view_sq = np.empty(nv)

    def evaluate(self, q, poses, jacobian=True):
        """Total squared residual; fills the blocks when ``jacobian``."""
        return _calib.normal_equations(self.code, self.obj, self.img, self.starts, q, poses, self.U, self.V,
                                       self.W, self.gi, self.ge, self.res, self.view_sq, jacobian)


def parametrisation(free, q0, aspect_ratio=None):
    """``T`` (n x m) and ``q_fixed`` such that ``q = q_fixed + T z``; ``z0``.

    ``free`` is a boolean mask over the n intrinsics. With ``aspect_ratio``
    (fx / fy), fx is not free but follows fy.
    """
    free = np.asarray(free, bool).copy()
    n = len(q0)
    idx = [i for i in range(n) if free[i] and not (aspect_ratio is not None and i == 0)]
    T = np.zeros((n, len(idx)))
    for j, i in enumerate(idx):
        T[i, j] = 1.0
        if aspect_ratio is not None and i == 1:
            T[0, j] = aspect_ratio
    q_fixed = q0.copy()
    q_fixed[idx] = 0.0
    if aspect_ratio is not None and 1 in idx:
        q_fixed[0] = 0.0
    z0 = q0[idx].copy()
    return T, q_fixed, z0, idx


def _predicted_decrease(A, Wt, Vb, g_z, g_e, dz, dp):
    """Decrease of the squared error predicted by the linear model: -(2 g'h + h'J'Jh)."""
    quad = dz @ A @ dz + 2.0 * np.einsum("i,vij,vj->", dz, Wt, dp) + np.einsum("vi,vij,vj->", dp, Vb, dp)
    return -(2.0 * (g_z @ dz + np.sum(g_e * dp)) + quad)


def levenberg_marquardt(problem, q0, poses0, free, aspect_ratio=None, *, max_iterations=200,
                        xtol=1e-13, ptol=1e-22):
    """Minimise the squared reprojection error; returns ``(q, poses, info)``.

    Marquardt's damping ``lambda diag(J'J)`` with Nielsen's update. Near the
    minimum the error stops changing within rounding while Gauss-Newton steps
    still move poorly determined parameters; such steps are taken as long as
    the error does not grow beyond rounding. The iteration ends when the step
    is below ``xtol`` relative to the parameters (or the linear model predicts
    a decrease below ``ptol`` x the error).
    """
    T, q_fixed, z, idx = parametrisation(free, q0, aspect_ratio)
    poses = np.ascontiguousarray(poses0, dtype=np.float64).copy()
    q = q_fixed + T @ z
    cost = problem.evaluate(q, poses, True)
    lam = 1e-3
    nu = 2.0
    iterations = 0
    m = T.shape[1]
    dz = np.empty(m)
    dp = np.empty((problem.n_views, 6))
    Y = np.empty((problem.n_views, 6, m))
    rounding_steps = 0
    for iterations in range(1, max_iterations + 1):
        A = np.ascontiguousarray(T.T @ problem.U @ T)
        Wt = np.ascontiguousarray(np.einsum("im,vij->vmj", T, problem.W))
        g_z = np.ascontiguousarray(T.T @ problem.gi)
        g_e = problem.ge
        accepted = converged = False
        for _ in range(40):
            if not _calib.schur_step(A, Wt, problem.V, g_z, g_e, lam, dz, dp, Y):
                lam = max(lam, 1e-12) * nu
                nu *= 2.0
                if lam > 1e16:
                    break
                continue
            pred = _predicted_decrease(A, Wt, problem.V, g_z, g_e, dz, dp)
            if not pred > ptol * cost:
                converged = True
                break
            z_new = z + dz
            poses_new = poses + dp
            q_new = q_fixed + T @ z_new
            cost_new = problem.evaluate(q_new, poses_new, False)
            if np.isfinite(cost_new) and cost_new < cost:
                rho = (cost - cost_new) / pred
                lam *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)   # Nielsen's update
                lam = max(lam, 1e-15)
                nu = 2.0
                accepted = True
                break
            if pred <= 1e-12 * cost and np.isfinite(cost_new) and cost_new <= cost * (1.0 + 1e-13):
                # below the rounding of the error: the Gauss-Newton step still
                # converges the flat directions (e.g. k3), so take it
                rounding_steps += 1
                accepted = rounding_steps <= 20
                lam = max(lam / 3.0, 1e-15)
                break
            lam *= nu
            nu *= 2.0
            if lam > 1e16:
                break
        if not accepted:
            break
        step = np.sqrt(dz @ dz + np.sum(dp * dp))
        size = np.sqrt(z @ z + np.sum(poses * poses))
        z, poses, q = z_new, poses_new, q_new
        cost = problem.evaluate(q, poses, True)
        if converged or step <= xtol * (size + xtol):
            break
    info = {"iterations": iterations, "cost": cost, "T": T, "idx": idx, "z": z}
    return q, poses, info


def covariance(problem, T, n_free_total):
    """Standard deviations of the intrinsics (n) and poses (n_views, 6) at the optimum.

    ``sigma^2 = sum of squared residuals / (2 N - p)`` with ``p`` free
    parameters; covariance ``sigma^2 (J'J)^-1`` with the pose blocks
    eliminated by the Schur complement (exact, no damping).
    """
    cost = float(problem.view_sq.sum())
    dof = 2 * problem.n_points - n_free_total
    sigma2 = cost / dof if dof > 0 else np.nan
    A = T.T @ problem.U @ T
    Wt = np.einsum("im,vij->vmj", T, problem.W)
    n, m = problem.n_views, A.shape[0]
    # Every parameter scaled to a unit diagonal first: focal lengths, poses and high-order
    # coefficients differ by orders of magnitude, and pinv would cut the small directions.
    da = np.sqrt(np.diag(A))
    dv = np.sqrt(np.einsum("vii->vi", problem.V))
    if not (np.all(da > 0) and np.all(dv > 0) and np.all(np.isfinite(A)) and np.all(np.isfinite(Wt))):
        return np.full(T.shape[0], np.nan), np.full((n, 6), np.nan)     # not determined
    Vs = problem.V / (dv[:, :, None] * dv[:, None, :])
    Ws = Wt / (da[None, :, None] * dv[:, None, :])
    Vinv = np.linalg.pinv(Vs, hermitian=True)
    if m:
        WVinv = Ws @ Vinv
        S = A / np.outer(da, da) - np.einsum("vij,vkj->ik", WVinv, Ws)
        Sinv = np.linalg.pinv(S, hermitian=True)
        cov_z = Sinv / np.outer(da, da)
        # pose block: V^-1 + V^-1 W' S^-1 W V^-1
        cov_p = Vinv + np.einsum("vji,jk,vkl->vil", WVinv, Sinv, WVinv)
    else:
        cov_z = np.zeros((0, 0))
        cov_p = Vinv
    cov_p = cov_p / (dv[:, :, None] * dv[:, None, :])
    cov_q = T @ cov_z @ T.T
    std_q = np.sqrt(np.clip(np.diag(cov_q), 0, None) * sigma2)
    std_p = np.sqrt(np.clip(np.einsum("vii->vi", cov_p), 0, None) * sigma2)
    return std_q, std_p
