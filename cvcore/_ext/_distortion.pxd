# The lens models of cvcore.calibration, written once for every kernel that
# needs them (projection and its Jacobians, undistortion of points and maps,
# the rendering of the synthetic views). (x, y) are normalised coordinates
# (X / Z, Y / Z); ``d`` points at the model's coefficients, in OpenCV's order.
#
# PINHOLE (5 coefficients k1, k2, p1, p2, k3) and RATIONAL (8: k1, k2, p1, p2,
# k3, k4, k5, k6, OpenCV's CALIB_RATIONAL_MODEL) are Brown-Conrady:
#
#   r2 = x^2 + y^2,  rad = (1 + k1 r2 + k2 r2^2 + k3 r2^3) / (1 + k4 r2 + k5 r2^2 + k6 r2^3)
#   xd = x rad + 2 p1 x y + p2 (r2 + 2 x^2)
#   yd = y rad + p1 (r2 + 2 y^2) + 2 p2 x y
#
# FISHEYE (4: k1..k4) is the Kannala-Brandt equidistant model of cv2.fisheye:
#
#   r = sqrt(r2),  theta = atan(r),  theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)
#   (xd, yd) = (x, y) theta_d / r        (= (x, y) when r <= 1e-8, as OpenCV does)
from libc.math cimport fabs, sqrt, atan, tan, M_PI

cdef enum:
    PINHOLE = 0
    RATIONAL = 1
    FISHEYE = 2
    MAX_COEFFS = 8


cdef inline int n_coeffs(int model) noexcept nogil:
    """Number of distortion coefficients of a model."""
    if model == RATIONAL:
        return 8
    if model == FISHEYE:
        return 4
    return 5


cdef inline double _brown_den(double r2, const double* d, int nd) noexcept nogil:
    return 1.0 + r2 * (d[5] + r2 * (d[6] + r2 * d[7])) if nd > 5 else 1.0


cdef inline void _brown(double x, double y, const double* d, int nd, double* xd, double* yd) noexcept nogil:
    cdef double x2 = x * x, y2 = y * y, xy = x * y
    cdef double r2 = x2 + y2
    cdef double rad = 1.0 + r2 * (d[0] + r2 * (d[1] + r2 * d[4]))
    if nd > 5:
        rad = rad / _brown_den(r2, d, nd)
    xd[0] = x * rad + 2.0 * d[2] * xy + d[3] * (r2 + 2.0 * x2)
    yd[0] = y * rad + d[2] * (r2 + 2.0 * y2) + 2.0 * d[3] * xy


cdef inline void _brown_jacobian(double x, double y, const double* d, int nd, double* a, double* b,
                                 double* c) noexcept nogil:
    cdef double x2 = x * x, y2 = y * y, xy = x * y
    cdef double r2 = x2 + y2
    cdef double rad = 1.0 + r2 * (d[0] + r2 * (d[1] + r2 * d[4]))
    # D = 2 d(rad)/d(r2)
    cdef double D = 2.0 * (d[0] + 2.0 * d[1] * r2 + 3.0 * d[4] * r2 * r2)
    cdef double den
    if nd > 5:
        den = _brown_den(r2, d, nd)
        rad = rad / den
        D = (D - 2.0 * rad * (d[5] + 2.0 * d[6] * r2 + 3.0 * d[7] * r2 * r2)) / den
    a[0] = rad + x2 * D + 2.0 * d[2] * y + 6.0 * d[3] * x
    b[0] = xy * D + 2.0 * d[2] * x + 2.0 * d[3] * y
    c[0] = rad + y2 * D + 6.0 * d[2] * y + 2.0 * d[3] * x


cdef inline void _brown_params(double x, double y, const double* d, int nd, double* jx, double* jy) noexcept nogil:
    cdef double x2 = x * x, y2 = y * y, xy = x * y
    cdef double r2 = x2 + y2, r4 = r2 * r2, r6 = r4 * r2
    cdef double den = 1.0, rad
    if nd > 5:
        den = _brown_den(r2, d, nd)
        rad = (1.0 + r2 * (d[0] + r2 * (d[1] + r2 * d[4]))) / den
        jx[5] = -x * rad * r2 / den; jy[5] = -y * rad * r2 / den
        jx[6] = -x * rad * r4 / den; jy[6] = -y * rad * r4 / den
        jx[7] = -x * rad * r6 / den; jy[7] = -y * rad * r6 / den
    jx[0] = x * r2 / den; jy[0] = y * r2 / den
    jx[1] = x * r4 / den; jy[1] = y * r4 / den
    jx[2] = 2.0 * xy; jy[2] = r2 + 2.0 * y2
    jx[3] = r2 + 2.0 * x2; jy[3] = 2.0 * xy
    jx[4] = x * r6 / den; jy[4] = y * r6 / den


cdef inline double _theta_d(double th, const double* k) noexcept nogil:
    cdef double t2 = th * th
    return th * (1.0 + t2 * (k[0] + t2 * (k[1] + t2 * (k[2] + t2 * k[3]))))


cdef inline double _theta_d_slope(double th, const double* k) noexcept nogil:
    cdef double t2 = th * th
    return 1.0 + t2 * (3.0 * k[0] + t2 * (5.0 * k[1] + t2 * (7.0 * k[2] + t2 * 9.0 * k[3])))


cdef inline void _fisheye(double x, double y, const double* k, double* xd, double* yd) noexcept nogil:
    cdef double r = sqrt(x * x + y * y)
    cdef double s = _theta_d(atan(r), k) / r if r > 1e-8 else 1.0
    xd[0] = x * s
    yd[0] = y * s


cdef inline void _fisheye_jacobian(double x, double y, const double* k, double* a, double* b,
                                   double* c) noexcept nogil:
    # (xd, yd) = (x, y) s(r): d/d(x, y) = s I + g (x, y)'(x, y) with g = s'(r) / r
    cdef double r2 = x * x + y * y
    cdef double r = sqrt(r2)
    cdef double th, s, g
    if r > 1e-8:
        th = atan(r)
        s = _theta_d(th, k) / r
        g = (_theta_d_slope(th, k) / (1.0 + r2) - s) / r2
    else:
        s = 1.0
        g = 2.0 * (k[0] - 1.0 / 3.0)      # the limit of s'(r) / r at 0
    a[0] = s + x * x * g
    b[0] = x * y * g
    c[0] = s + y * y * g


cdef inline void _fisheye_params(double x, double y, const double* k, double* jx, double* jy) noexcept nogil:
    cdef double r = sqrt(x * x + y * y)
    cdef double th, t2, p
    cdef int i
    if not r > 1e-8:
        for i in range(4):
            jx[i] = 0.0
            jy[i] = 0.0
        return
    th = atan(r)
    t2 = th * th
    p = th / r
    for i in range(4):
        p = p * t2
        jx[i] = x * p
        jy[i] = y * p


cdef inline void distort_model(int model, double x, double y, const double* d, double* xd,
                               double* yd) noexcept nogil:
    """(xd, yd): the distorted normalised point of (x, y)."""
    if model == FISHEYE:
        _fisheye(x, y, d, xd, yd)
    else:
        _brown(x, y, d, n_coeffs(model), xd, yd)


cdef inline void distort_model_jacobian(int model, double x, double y, const double* d, double* a, double* b,
                                        double* c) noexcept nogil:
    """d(xd, yd)/d(x, y) = [[a, b], [b, c]] (symmetric for every model)."""
    if model == FISHEYE:
        _fisheye_jacobian(x, y, d, a, b, c)
    else:
        _brown_jacobian(x, y, d, n_coeffs(model), a, b, c)


cdef inline void distort_model_params(int model, double x, double y, const double* d, double* jx,
                                      double* jy) noexcept nogil:
    """jx[i] = d(xd)/d(d_i), jy[i] = d(yd)/d(d_i) for the model's coefficients, in their order."""
    if model == FISHEYE:
        _fisheye_params(x, y, d, jx, jy)
    else:
        _brown_params(x, y, d, n_coeffs(model), jx, jy)


cdef inline void distort(double x, double y, const double* d, double* xd, double* yd) noexcept nogil:
    """The pinhole model (d = k1, k2, p1, p2, k3)."""
    _brown(x, y, d, 5, xd, yd)


cdef inline void distort_jacobian(double x, double y, const double* d, double* a, double* b,
                                  double* c) noexcept nogil:
    """d(xd, yd)/d(x, y) of the pinhole model = [[a, b], [b, c]]."""
    _brown_jacobian(x, y, d, 5, a, b, c)


cdef inline bint _undistort_brown(double xd, double yd, const double* d, int nd, double* x, double* y,
                                  int max_iter) noexcept nogil:
    cdef double ex, ey, a, b, c, det, dx, dy, px, py, err, qx, qy, t
    cdef int it, half
    _brown(x[0], y[0], d, nd, &px, &py)
    ex = px - xd
    ey = py - yd
    for it in range(max_iter):
        if ex == 0.0 and ey == 0.0:
            break
        _brown_jacobian(x[0], y[0], d, nd, &a, &b, &c)
        det = a * c - b * b
        if not (fabs(det) > 1e-300):
            break
        dx = (c * ex - b * ey) / det
        dy = (a * ey - b * ex) / det
        if not (fabs(dx) + fabs(dy) < 1e300):
            break
        # backtrack while the step makes the error grow: near the fold of a strong (or
        # rational) distortion a full step can jump to the far, folded branch
        err = ex * ex + ey * ey
        for half in range(40):
            _brown(x[0] - dx, y[0] - dy, d, nd, &qx, &qy)
            if (qx - xd) * (qx - xd) + (qy - yd) * (qy - yd) <= err:
                break
            dx *= 0.5
            dy *= 0.5
        x[0] -= dx
        y[0] -= dy
        ex = qx - xd
        ey = qy - yd
        if fabs(dx) + fabs(dy) < 1e-15:
            break
    _brown(x[0], y[0], d, nd, &px, &py)
    _brown_jacobian(x[0], y[0], d, nd, &a, &b, &c)
    if not ((fabs(px - xd) + fabs(py - yd) <= 1e-9 * (1.0 + fabs(xd) + fabs(yd))) and a > 0 and a * c - b * b > 0):
        return False
    if nd > 5:
        # the rational profile can fall and rise again: the preimage must lie before the first fold,
        # so the mapping must stay one-to-one (and clear of a pole) all along the ray from the centre
        for half in range(1, 17):
            t = half / 16.0
            if not _brown_den(t * t * (x[0] * x[0] + y[0] * y[0]), d, nd) > 0:
                return False
            _brown_jacobian(t * x[0], t * y[0], d, nd, &a, &b, &c)
            if not (a > 0 and a * c - b * b > 0):
                return False
    return True


cdef inline bint _undistort_fisheye(double xd, double yd, const double* k, double* x, double* y,
                                    int max_iter) noexcept nogil:
    # solve theta_d(theta) = |(xd, yd)| for theta in [0, pi/2) by Newton from theta_d
    cdef double td = sqrt(xd * xd + yd * yd)
    cdef double th = td, step, slope, s
    cdef int it
    if not td > 1e-8:
        x[0] = xd
        y[0] = yd
        return True
    if th > 1.5:
        th = 1.5
    for it in range(max_iter):
        slope = _theta_d_slope(th, k)
        if not fabs(slope) > 1e-300:
            break
        step = (_theta_d(th, k) - td) / slope
        if not fabs(step) < 1e300:
            break
        th -= step
        if fabs(step) < 1e-15 * (1.0 + th):
            break
    if not (th > 0 and th < M_PI / 2 and _theta_d_slope(th, k) > 0
            and fabs(_theta_d(th, k) - td) <= 1e-9 * (1.0 + td)):
        return False     # no ray in front of the camera maps there (or a second, folded one would)
    s = tan(th) / td
    x[0] = xd * s
    y[0] = yd * s
    return True


cdef inline bint undistort_model(int model, double xd, double yd, const double* d, double* x, double* y,
                                 int max_iter) noexcept nogil:
    """Invert ``distort_model``; (x, y) holds the start point (Brown models: Newton in 2-D) and the result.

    Stops at machine precision, after ``max_iter`` steps, or where the
    Jacobian is singular or the iterate is no longer finite. Returns True when
    (x, y) is a true preimage on the model's unfolded side: it distorts back
    to (xd, yd) and the Jacobian there is positive (beyond the radius where
    strong barrel distortion folds over, no point maps to (xd, yd), or a
    second, wrong one does; a fisheye ray must lie in front of the camera).
    """
    if model == FISHEYE:
        return _undistort_fisheye(xd, yd, d, x, y, max_iter)
    return _undistort_brown(xd, yd, d, n_coeffs(model), x, y, max_iter)


cdef inline bint undistort(double xd, double yd, const double* d, double* x, double* y,
                           int max_iter) noexcept nogil:
    """``undistort_model`` for the pinhole model (d = k1, k2, p1, p2, k3)."""
    return _undistort_brown(xd, yd, d, 5, x, y, max_iter)
