# Kernels for cvcore.calibration: the camera models (pinhole, rational and
# fisheye lenses, see _distortion.pxd) with their analytic Jacobian,
# accumulated straight into the blocks of the normal equations of bundle-style
# calibration (shared intrinsics, one pose per view), undistortion of points
# and of whole images (maps, bilinear remap).
#
# ``model`` is 0 (pinhole), 1 (rational) or 2 (fisheye). Intrinsics vector
# q (5 + n_coeffs(model)): fx, fy, cx, cy, skew, then the model's coefficients
# in OpenCV's order; pixels are u = fx xd + skew yd + cx, v = fy yd + cy.
# Pose vector (6 per view): Rodrigues rotation r (3), translation t (3).
from libc.math cimport sqrt, sin, cos, floor, NAN
from cvcore._ext._types cimport real_t
from cvcore._ext._distortion cimport (MAX_COEFFS, n_coeffs, distort_model, distort_model_jacobian,
                                      distort_model_params, undistort_model)

DEF MAXI = 13     # 5 + MAX_COEFFS


cdef void _rodrigues(const double* r, double* R, double* dR, bint want_d) noexcept nogil:
    """R (3x3, row-major) from the rotation vector r; dR[k*9 + ...] = dR/dr_k."""
    cdef double th2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2]
    cdef double th = sqrt(th2)
    cdef double kx, ky, kz, c, s, c1
    cdef double A[9]
    cdef double B[9]
    cdef double v[3]
    cdef double IR[3]
    cdef int i, j, k
    if th < 1e-12:
        # first order: R = I + [r]x
        R[0] = 1.0; R[1] = -r[2]; R[2] = r[1]
        R[3] = r[2]; R[4] = 1.0; R[5] = -r[0]
        R[6] = -r[1]; R[7] = r[0]; R[8] = 1.0
        if want_d:
            for i in range(27):
                dR[i] = 0.0
            # d/dr0: [e0]x
            dR[0 * 9 + 5] = -1.0; dR[0 * 9 + 7] = 1.0
            dR[1 * 9 + 2] = 1.0; dR[1 * 9 + 6] = -1.0
            dR[2 * 9 + 1] = -1.0; dR[2 * 9 + 3] = 1.0
        return
    kx = r[0] / th; ky = r[1] / th; kz = r[2] / th
    c = cos(th); s = sin(th); c1 = 1.0 - c
    R[0] = c + c1 * kx * kx
    R[1] = c1 * kx * ky - s * kz
    R[2] = c1 * kx * kz + s * ky
    R[3] = c1 * kx * ky + s * kz
    R[4] = c + c1 * ky * ky
    R[5] = c1 * ky * kz - s * kx
    R[6] = c1 * kx * kz - s * ky
    R[7] = c1 * ky * kz + s * kx
    R[8] = c + c1 * kz * kz
    if not want_d:
        return
    # dR/dr_k = (r_k [r]x + [r x ((I - R) e_k)]x) R / th^2   (Gallego & Yezzi 2015)
    for k in range(3):
        # (I - R) e_k is column k of I - R
        for i in range(3):
            IR[i] = (1.0 if i == k else 0.0) - R[i * 3 + k]
        v[0] = r[1] * IR[2] - r[2] * IR[1]
        v[1] = r[2] * IR[0] - r[0] * IR[2]
        v[2] = r[0] * IR[1] - r[1] * IR[0]
        for i in range(3):
            v[i] = (v[i] + r[k] * r[i]) / th2
        # A = [v]x
        A[0] = 0.0; A[1] = -v[2]; A[2] = v[1]
        A[3] = v[2]; A[4] = 0.0; A[5] = -v[0]
        A[6] = -v[1]; A[7] = v[0]; A[8] = 0.0
        for i in range(3):
            for j in range(3):
                dR[k * 9 + i * 3 + j] = (A[i * 3 + 0] * R[0 * 3 + j] + A[i * 3 + 1] * R[1 * 3 + j]
                                         + A[i * 3 + 2] * R[2 * 3 + j])


def rodrigues(const double[::1] r, double[:, ::1] R, double[:, :, ::1] dR):
    """Rotation matrix of a rotation vector and its derivative (dR[k] = dR/dr_k)."""
    with nogil:
        _rodrigues(&r[0], &R[0, 0], &dR[0, 0, 0], True)


cdef double _accumulate(int model, const double[:, ::1] obj, const double[:, ::1] img,
                        const Py_ssize_t[::1] starts, const double[::1] q,
                        const double[:, ::1] poses, double[:, ::1] U, double[:, :, ::1] V,
                        double[:, :, ::1] W, double[::1] gi, double[:, ::1] ge,
                        double[:, ::1] res, double[::1] view_sq, bint want_j) noexcept nogil:
    cdef Py_ssize_t nv = starts.shape[0] - 1
    cdef Py_ssize_t v, p, a, b
    cdef int nd = n_coeffs(model)
    cdef int ni = 5 + nd
    cdef double R[9]
    cdef double dR[27]
    cdef double Ji[2 * MAXI]
    cdef double jx[MAX_COEFFS]
    cdef double jy[MAX_COEFFS]
    cdef double Je[12]
    cdef const double* d = &q[5]
    cdef double fx = q[0], fy = q[1], cx = q[2], cy = q[3], sk = q[4]
    cdef double X, Y, Z, Xc, Yc, Zc, iz, x, y, xd, yd
    cdef double dxdx, dxdy, dydx, dydy, eu, ev, total = 0.0, vs
    cdef double dudx, dudy, dvdx, dvdy, dudX, dudY, dudZ, dvdX, dvdY, dvdZ
    cdef double dXc[9]  # dXc[k*3 + i] = d(Xc_i)/dr_k
    cdef double tx, ty, tz
    cdef int k
    if want_j:
        for a in range(ni):
            gi[a] = 0.0
            for b in range(ni):
                U[a, b] = 0.0
    for v in range(nv):
        _rodrigues(&poses[v, 0], R, dR, want_j)
        tx = poses[v, 3]; ty = poses[v, 4]; tz = poses[v, 5]
        vs = 0.0
        if want_j:
            for a in range(6):
                ge[v, a] = 0.0
                for b in range(6):
                    V[v, a, b] = 0.0
                for b in range(ni):
                    W[v, b, a] = 0.0
        for p in range(starts[v], starts[v + 1]):
            X = obj[p, 0]; Y = obj[p, 1]; Z = obj[p, 2]
            Xc = R[0] * X + R[1] * Y + R[2] * Z + tx
            Yc = R[3] * X + R[4] * Y + R[5] * Z + ty
            Zc = R[6] * X + R[7] * Y + R[8] * Z + tz
            iz = 1.0 / Zc if Zc != 0.0 else 1.0
            x = Xc * iz
            y = Yc * iz
            distort_model(model, x, y, d, &xd, &yd)
            eu = fx * xd + sk * yd + cx - img[p, 0]
            ev = fy * yd + cy - img[p, 1]
            res[p, 0] = eu
            res[p, 1] = ev
            vs = vs + eu * eu + ev * ev
            if not want_j:
                continue
            # intrinsics: u = fx xd + sk yd + cx ; v = fy yd + cy
            Ji[0] = xd; Ji[1] = 0.0; Ji[2] = 1.0; Ji[3] = 0.0; Ji[4] = yd
            Ji[ni + 0] = 0.0; Ji[ni + 1] = yd; Ji[ni + 2] = 0.0; Ji[ni + 3] = 1.0; Ji[ni + 4] = 0.0
            # distortion coefficients
            distort_model_params(model, x, y, d, jx, jy)
            for k in range(nd):
                Ji[5 + k] = fx * jx[k] + sk * jy[k]
                Ji[ni + 5 + k] = fy * jy[k]
            # d(xd, yd)/d(x, y)
            distort_model_jacobian(model, x, y, d, &dxdx, &dxdy, &dydy)
            dydx = dxdy
            dudx = fx * dxdx + sk * dydx
            dudy = fx * dxdy + sk * dydy
            dvdx = fy * dydx
            dvdy = fy * dydy
            # through x = Xc/Zc, y = Yc/Zc
            dudX = dudx * iz
            dudY = dudy * iz
            dudZ = -(dudx * x + dudy * y) * iz
            dvdX = dvdx * iz
            dvdY = dvdy * iz
            dvdZ = -(dvdx * x + dvdy * y) * iz
            for k in range(3):
                dXc[k * 3 + 0] = dR[k * 9 + 0] * X + dR[k * 9 + 1] * Y + dR[k * 9 + 2] * Z
                dXc[k * 3 + 1] = dR[k * 9 + 3] * X + dR[k * 9 + 4] * Y + dR[k * 9 + 5] * Z
                dXc[k * 3 + 2] = dR[k * 9 + 6] * X + dR[k * 9 + 7] * Y + dR[k * 9 + 8] * Z
                Je[k] = dudX * dXc[k * 3 + 0] + dudY * dXc[k * 3 + 1] + dudZ * dXc[k * 3 + 2]
                Je[6 + k] = dvdX * dXc[k * 3 + 0] + dvdY * dXc[k * 3 + 1] + dvdZ * dXc[k * 3 + 2]
            Je[3] = dudX; Je[4] = dudY; Je[5] = dudZ
            Je[9] = dvdX; Je[10] = dvdY; Je[11] = dvdZ
            # accumulate the blocks (upper triangles filled later for U and V)
            for a in range(ni):
                gi[a] += Ji[a] * eu + Ji[ni + a] * ev
                for b in range(a, ni):
                    U[a, b] += Ji[a] * Ji[b] + Ji[ni + a] * Ji[ni + b]
                for b in range(6):
                    W[v, a, b] += Ji[a] * Je[b] + Ji[ni + a] * Je[6 + b]
            for a in range(6):
                ge[v, a] += Je[a] * eu + Je[6 + a] * ev
                for b in range(a, 6):
                    V[v, a, b] += Je[a] * Je[b] + Je[6 + a] * Je[6 + b]
        view_sq[v] = vs
        total += vs
        if want_j:
            for a in range(6):
                for b in range(a):
                    V[v, a, b] = V[v, b, a]
    if want_j:
        for a in range(ni):
            for b in range(a):
                U[a, b] = U[b, a]
    return total


def normal_equations(int model, const double[:, ::1] obj, const double[:, ::1] img,
                     const Py_ssize_t[::1] starts, const double[::1] q,
                     const double[:, ::1] poses, double[:, ::1] U, double[:, :, ::1] V,
                     double[:, :, ::1] W, double[::1] gi, double[:, ::1] ge,
                     double[:, ::1] res, double[::1] view_sq, bint want_j):
    """Residuals (projection - observation) and the normal-equation blocks.

    With ``ni = len(q)``: U = sum Ji^T Ji (ni x ni), V[v] = Je^T Je (6x6),
    W[v] = Ji^T Je (ni x 6), gi = sum Ji^T e, ge[v] = Je^T e. Returns the
    total squared residual.
    """
    cdef double total
    with nogil:
        total = _accumulate(model, obj, img, starts, q, poses, U, V, W, gi, ge, res, view_sq, want_j)
    return total


def project(int model, const double[:, ::1] obj, const double[::1] q, const double[::1] pose,
            double[:, ::1] out):
    """Project points of one view (no Jacobian)."""
    cdef double R[9]
    cdef double dR[27]
    cdef Py_ssize_t p
    cdef double X, Y, Z, Xc, Yc, Zc, iz, x, y, xd, yd
    cdef double fx = q[0], fy = q[1], cx = q[2], cy = q[3], sk = q[4]
    with nogil:
        _rodrigues(&pose[0], R, dR, False)
        for p in range(obj.shape[0]):
            X = obj[p, 0]; Y = obj[p, 1]; Z = obj[p, 2]
            Xc = R[0] * X + R[1] * Y + R[2] * Z + pose[3]
            Yc = R[3] * X + R[4] * Y + R[5] * Z + pose[4]
            Zc = R[6] * X + R[7] * Y + R[8] * Z + pose[5]
            iz = 1.0 / Zc if Zc != 0.0 else 1.0
            x = Xc * iz
            y = Yc * iz
            distort_model(model, x, y, &q[5], &xd, &yd)
            out[p, 0] = fx * xd + sk * yd + cx
            out[p, 1] = fy * yd + cy


def distort_points(int model, const double[:, ::1] xy, const double[::1] d, double[:, ::1] out):
    """out[i] = the distorted normalised point xy[i] (d: the model's coefficients)."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(xy.shape[0]):
            distort_model(model, xy[i, 0], xy[i, 1], &d[0], &out[i, 0], &out[i, 1])


def undistort_points(int model, const double[:, ::1] xy, const double[::1] d, int max_iter, double[:, ::1] out):
    """out[i] = the normalised point whose distortion is xy[i] (Newton from xy[i]); NaN where none is."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(xy.shape[0]):
            out[i, 0] = xy[i, 0]
            out[i, 1] = xy[i, 1]
            if not undistort_model(model, xy[i, 0], xy[i, 1], &d[0], &out[i, 0], &out[i, 1], max_iter):
                out[i, 0] = NAN
                out[i, 1] = NAN


def undistort_maps(int model, const double[:, ::1] K, const double[::1] d, const double[:, ::1] iP,
                   Py_ssize_t row0, float[:, ::1] map_x, float[:, ::1] map_y):
    """Source pixel of output pixels (row0 + r, c), rows row0 .. row0 + H.

    The output pixel's ray is ``iP @ (c, r, 1)`` (``iP`` = (P R)^-1 for a new
    camera matrix P and a rectifying rotation R); it is distorted and mapped
    through K. Rays that do not point forwards get NaN (outside any image).
    """
    cdef Py_ssize_t r, c
    cdef double X, Y, Wz, xd, yd
    with nogil:
        for r in range(map_x.shape[0]):
            for c in range(map_x.shape[1]):
                X = iP[0, 0] * c + iP[0, 1] * (row0 + r) + iP[0, 2]
                Y = iP[1, 0] * c + iP[1, 1] * (row0 + r) + iP[1, 2]
                Wz = iP[2, 0] * c + iP[2, 1] * (row0 + r) + iP[2, 2]
                if not Wz > 0:
                    map_x[r, c] = NAN
                    map_y[r, c] = NAN
                    continue
                distort_model(model, X / Wz, Y / Wz, &d[0], &xd, &yd)
                map_x[r, c] = <float>(K[0, 0] * xd + K[0, 1] * yd + K[0, 2])
                map_y[r, c] = <float>(K[1, 1] * yd + K[1, 2])


def remap_bilinear(const real_t[:, :, ::1] img, const float[:, ::1] mapx, const float[:, ::1] mapy,
                   double cval, real_t[:, :, ::1] out):
    """out[r, c] = img sampled bilinearly at (mapx[r, c], mapy[r, c]); outside -> cval."""
    cdef Py_ssize_t H = img.shape[0], Wd = img.shape[1], C = img.shape[2]
    cdef Py_ssize_t r, c, ch, x0, y0
    cdef double fx, fy, ax, ay, v00, v01, v10, v11, val
    with nogil:
        for r in range(out.shape[0]):
            for c in range(out.shape[1]):
                fx = mapx[r, c]
                fy = mapy[r, c]
                if not (fx > -1.0 and fy > -1.0 and fx < Wd and fy < H):
                    for ch in range(C):
                        out[r, c, ch] = <real_t>cval
                    continue
                x0 = <Py_ssize_t>floor(fx)
                y0 = <Py_ssize_t>floor(fy)
                ax = fx - x0
                ay = fy - y0
                for ch in range(C):
                    v00 = img[y0, x0, ch] if (x0 >= 0 and y0 >= 0) else cval
                    v01 = img[y0, x0 + 1, ch] if (x0 + 1 < Wd and y0 >= 0) else cval
                    v10 = img[y0 + 1, x0, ch] if (x0 >= 0 and y0 + 1 < H) else cval
                    v11 = img[y0 + 1, x0 + 1, ch] if (x0 + 1 < Wd and y0 + 1 < H) else cval
                    val = (1.0 - ay) * ((1.0 - ax) * v00 + ax * v01) + ay * ((1.0 - ax) * v10 + ax * v11)
                    out[r, c, ch] = <real_t>val


cdef bint _cholesky(double* A, Py_ssize_t n) noexcept nogil:
    """In-place lower Cholesky factor of the n x n row-major matrix A; False if not positive definite."""
    cdef Py_ssize_t i, j, k
    cdef double s
    for j in range(n):
        s = A[j * n + j]
        for k in range(j):
            s -= A[j * n + k] * A[j * n + k]
        if not s > 0:
            return False
        s = sqrt(s)
        A[j * n + j] = s
        for i in range(j + 1, n):
            A[i * n + j] = A[i * n + j]
            for k in range(j):
                A[i * n + j] -= A[i * n + k] * A[j * n + k]
            A[i * n + j] /= s
    return True


cdef void _chol_solve(const double* L, Py_ssize_t n, double* b) noexcept nogil:
    """Solve (L L') x = b in place."""
    cdef Py_ssize_t i, k
    for i in range(n):
        for k in range(i):
            b[i] -= L[i * n + k] * b[k]
        b[i] /= L[i * n + i]
    for i in range(n - 1, -1, -1):
        for k in range(i + 1, n):
            b[i] -= L[k * n + i] * b[k]
        b[i] /= L[i * n + i]


cdef bint _schur_step(const double[:, ::1] A, const double[:, :, ::1] Wt, const double[:, :, ::1] V,
                     const double[::1] gz, const double[:, ::1] ge, double lam, double[::1] dz,
                     double[:, ::1] dp, double[:, :, ::1] Y) noexcept nogil:
    """Solve the damped normal equations by eliminating the per-view pose blocks.

    With ``D(X) = X + lam diag(X)``: ``S = D(A) - sum_v Wt_v D(V_v)^-1 Wt_v'``,
    ``S dz = -gz + sum_v Wt_v D(V_v)^-1 ge_v``, ``dp_v = -D(V_v)^-1 (ge_v + Wt_v' dz)``.
    ``Y`` (n_views, 6, m) is scratch space. Returns False when a block or ``S``
    is not positive definite (the caller then increases ``lam``).
    """
    cdef Py_ssize_t m = A.shape[0], nv = V.shape[0], v, i, j, k
    cdef double L[36]
    cdef double y[6]
    cdef double col[6]
    cdef double S[MAXI * MAXI]
    cdef double rhs[MAXI]
    cdef double acc
    if m > MAXI:
        return False
    if True:
        for i in range(m):
            rhs[i] = -gz[i]
            for j in range(m):
                S[i * m + j] = A[i, j]
            S[i * m + i] += lam * A[i, i]
        for v in range(nv):
            for i in range(6):
                for j in range(6):
                    L[i * 6 + j] = V[v, i, j]
                L[i * 6 + i] += lam * V[v, i, i]
            if not _cholesky(L, 6):
                return False
            # Y_v = D(V_v)^-1 Wt_v'  (6 x m), y = D(V_v)^-1 ge_v
            for j in range(m):
                for i in range(6):
                    col[i] = Wt[v, j, i]
                _chol_solve(L, 6, col)
                for i in range(6):
                    Y[v, i, j] = col[i]
            for i in range(6):
                y[i] = ge[v, i]
            _chol_solve(L, 6, y)
            for i in range(m):
                acc = 0.0
                for k in range(6):
                    acc += Wt[v, i, k] * y[k]
                rhs[i] += acc
                for j in range(m):
                    acc = 0.0
                    for k in range(6):
                        acc += Wt[v, i, k] * Y[v, k, j]
                    S[i * m + j] -= acc
            for i in range(6):
                dp[v, i] = y[i]          # keep D(V)^-1 ge for the back-substitution
        if m:
            if not _cholesky(S, m):
                return False
            _chol_solve(S, m, rhs)
        for i in range(m):
            dz[i] = rhs[i]
        for v in range(nv):
            for i in range(6):
                acc = dp[v, i]
                for j in range(m):
                    acc += Y[v, i, j] * dz[j]
                dp[v, i] = -acc
    return True


def schur_step(const double[:, ::1] A, const double[:, :, ::1] Wt, const double[:, :, ::1] V,
               const double[::1] gz, const double[:, ::1] ge, double lam, double[::1] dz,
               double[:, ::1] dp, double[:, :, ::1] Y):
    """Solve the damped normal equations by eliminating the per-view pose blocks.

    With ``D(X) = X + lam diag(X)``: ``S = D(A) - sum_v Wt_v D(V_v)^-1 Wt_v'``,
    ``S dz = -gz + sum_v Wt_v D(V_v)^-1 ge_v``, ``dp_v = -D(V_v)^-1 (ge_v + Wt_v' dz)``.
    ``Y`` (n_views, 6, m) is scratch space; ``m <= 13``. Returns False when a
    block or ``S`` is not positive definite (the caller then increases ``lam``).
    """
    cdef bint ok
    with nogil:
        ok = _schur_step(A, Wt, V, gz, ge, lam, dz, dp, Y)
    return ok
